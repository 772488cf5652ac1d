/*
 * incident: what an alert does to the incident it belongs to, as a pure
 * function of the stored state and the alert.
 *
 * ALARM triggers; OK resolves an incident that was triggered; a state
 * change older than the one stored (by StateChangeTime) changes nothing;
 * one at the same instant never re-opens a resolved incident nor
 * resolves an open one (it is the stored change again, and the status
 * since may be a person's doing); an OK for an incident never triggered
 * is recorded and not sent. Events and text, which carry no state,
 * trigger.
 */
#ifndef ALERTBRIDGE_INCIDENT_H
#define ALERTBRIDGE_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"

enum incident_status {
	INCIDENT_STATUS_NONE,      /* never seen */
	INCIDENT_STATUS_TRIGGERED, /* a trigger was queued */
	INCIDENT_STATUS_RESOLVED,  /* a resolve was queued */
	INCIDENT_STATUS_QUIET,     /* seen, never triggered (OK, ignored) */
	INCIDENT_STATUS_SILENCED,  /* firing, its page held by a silence */
	INCIDENT_STATUS_COUNT
};

struct incident_state {
	enum incident_status status;
	int64_t changed_at_ms; /* the newest state change applied */
};

enum incident_action {
	INCIDENT_ACTION_NONE,
	INCIDENT_ACTION_TRIGGER,
	INCIDENT_ACTION_RESOLVE,
};

/*
 * Decides the action for an alert in state (with changed_at_ms) given
 * the stored state (status NONE when there is none). trigger_on_insufficient
 * says whether the route pages on INSUFFICIENT_DATA. Sets *ret_next to
 * the state to store, and *ret_why to a short static reason for the log
 * ("stale", "never-triggered", ...).
 */
void incident_decide(const struct incident_state *current,
		     enum alert_state state, int64_t changed_at_ms,
		     bool trigger_on_insufficient,
		     enum incident_action *ret_action,
		     struct incident_state *ret_next, const char **ret_why);

const char *incident_status_name(enum incident_status status);
int incident_status_from_name(const char *name,
			      enum incident_status *ret_status);
const char *incident_action_name(enum incident_action action);

#endif
