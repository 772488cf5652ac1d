/*
 * incident: the trigger/resolve decision.
 */
#include "incident.h"

#include <errno.h>
#include <string.h>

static const char *const status_names[] = {
	[INCIDENT_STATUS_NONE] = "none",
	[INCIDENT_STATUS_TRIGGERED] = "triggered",
	[INCIDENT_STATUS_RESOLVED] = "resolved",
	[INCIDENT_STATUS_QUIET] = "quiet",
	[INCIDENT_STATUS_SILENCED] = "silenced",
};

const char *incident_status_name(enum incident_status status)
{
	return status_names[status];
}

int incident_status_from_name(const char *name,
			      enum incident_status *ret_status)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(*status_names);
	     i++) {
		if (strcmp(status_names[i], name) == 0) {
			*ret_status = (enum incident_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *incident_action_name(enum incident_action action)
{
	switch (action) {
	case INCIDENT_ACTION_TRIGGER:
		return "trigger";
	case INCIDENT_ACTION_RESOLVE:
		return "resolve";
	case INCIDENT_ACTION_NONE:
		break;
	}
	return "none";
}

void incident_decide(const struct incident_state *current,
		     enum alert_state state, int64_t changed_at_ms,
		     bool trigger_on_insufficient,
		     enum incident_action *ret_action,
		     struct incident_state *ret_next, const char **ret_why)
{
	struct incident_state next = *current;
	enum incident_action action = INCIDENT_ACTION_NONE;
	const char *why;

	/*
	 * SNS may deliver out of order. A change older than the newest one
	 * applied is history: acting on it would, say, re-open an incident
	 * that a later OK closed.
	 */
	if (current->status != INCIDENT_STATUS_NONE &&
	    changed_at_ms < current->changed_at_ms) {
		*ret_action = INCIDENT_ACTION_NONE;
		*ret_next = *current;
		*ret_why = "stale";
		return;
	}

	next.changed_at_ms = changed_at_ms;

	switch (state) {
	case ALERT_STATE_ALARM:
	case ALERT_STATE_NONE:
		action = INCIDENT_ACTION_TRIGGER;
		next.status = INCIDENT_STATUS_TRIGGERED;
		why = "firing";
		break;

	case ALERT_STATE_INSUFFICIENT_DATA:
		if (trigger_on_insufficient) {
			action = INCIDENT_ACTION_TRIGGER;
			next.status = INCIDENT_STATUS_TRIGGERED;
			why = "insufficient-data";
		} else {
			/* Leave a triggered incident open: no data is no
			 * evidence that the condition cleared. */
			if (next.status == INCIDENT_STATUS_NONE)
				next.status = INCIDENT_STATUS_QUIET;
			why = "insufficient-data-ignored";
		}
		break;

	case ALERT_STATE_OK:
		if (current->status == INCIDENT_STATUS_TRIGGERED) {
			action = INCIDENT_ACTION_RESOLVE;
			next.status = INCIDENT_STATUS_RESOLVED;
			why = "recovered";
		} else if (current->status == INCIDENT_STATUS_RESOLVED) {
			why = "already-resolved";
		} else if (current->status == INCIDENT_STATUS_SILENCED) {
			/* Never paged: nothing to resolve. */
			next.status = INCIDENT_STATUS_QUIET;
			why = "recovered-while-silenced";
		} else {
			next.status = INCIDENT_STATUS_QUIET;
			why = "never-triggered";
		}
		break;

	default:
		why = "unknown-state";
		break;
	}

	/*
	 * A change stamped with the very instant of the one applied is
	 * that change again (SNS publishes a copy with a new MessageId),
	 * not news: only a strictly newer one may re-open an incident a
	 * person resolved (through PagerDuty or the API), or resolve one
	 * a person reopened.
	 */
	if (current->status != INCIDENT_STATUS_NONE &&
	    changed_at_ms == current->changed_at_ms &&
	    ((current->status == INCIDENT_STATUS_RESOLVED &&
	      action == INCIDENT_ACTION_TRIGGER) ||
	     (current->status == INCIDENT_STATUS_TRIGGERED &&
	      action == INCIDENT_ACTION_RESOLVE))) {
		action = INCIDENT_ACTION_NONE;
		next = *current;
		why = "repeated";
	}

	*ret_action = action;
	*ret_next = next;
	*ret_why = why;
}
