/*
 * pager: incidents, escalation and pages in the store.
 */
#include "pager.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "escalation.h"
#include "log.h"
#include "metrics.h"
#include "timeutil.h"

/* A step fired later than this after its deadline is logged as late. */
#define PAGER_LATE_MS 5000

const char *pager_command_name(enum pager_command command)
{
	switch (command) {
	case PAGER_ACKNOWLEDGE:
		return "acknowledge";
	case PAGER_UNACKNOWLEDGE:
		return "unacknowledge";
	case PAGER_RESOLVE:
		return "resolve";
	case PAGER_REOPEN:
		return "reopen";
	}
	return "unknown";
}

static enum config_severity severity_of(const struct store_incident *inc)
{
	enum config_severity severity;

	if (inc->severity &&
	    config_severity_from_name(inc->severity, &severity) == 0)
		return severity;
	return CONFIG_SEVERITY_ERROR;
}

static struct escalation_state esc_state_of(const struct store_incident *inc)
{
	return (struct escalation_state){
		.status = inc->esc_status,
		.opened_ms = inc->esc_opened_ms,
		.next = inc->esc_next,
	};
}

static void esc_state_store(struct store_incident *inc,
			    const struct escalation_state *state,
			    const struct config_policy *policy)
{
	inc->esc_status = state->status;
	inc->esc_opened_ms = state->opened_ms;
	inc->esc_next = state->next;
	inc->next_deadline_ms =
		policy ? escalation_next_due(policy, severity_of(inc), state)
		       : ESCALATION_NEVER;
}

char *pager_level_payload(const char *stored,
			  const struct escalation_page *page, int64_t opened_ms)
{
	json_t *payload = json_loads(stored ? stored : "{}", 0, NULL);
	json_t *details;
	char since[32];
	char *text;

	/* Falls back to the payload as it is. */
	if (!payload)
		return strdup(stored ? stored : "{}");

	details = json_object_get(payload, "custom_details");
	if (!json_is_object(details)) {
		details = json_object();
		json_object_set_new(payload, "custom_details", details);
	}
	timeutil_format(opened_ms, since);
	json_object_set_new(details, "escalation_level",
			    json_integer(page->step + 1));
	json_object_set_new(details, "escalation_target",
			    json_string(page->target->name));
	if (page->pass > 0)
		json_object_set_new(details, "escalation_pass",
				    json_integer(page->pass + 1));
	json_object_set_new(details, "open_since", json_string(since));

	text = json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(payload);
	return text;
}

static int queue_row(struct store *store, const char *target,
		     const char *action, const char *level_key,
		     const char *body, const char *detail, int64_t now_ms)
{
	return store_outbox_add(store,
				&(struct store_outbox_row){
					.kind = STORE_OUTBOX_EVENT,
					.order_key = (char *)level_key,
					.target = (char *)target,
					.action = (char *)action,
					.body = (char *)body,
					.detail = (char *)detail,
					.created_ms = now_ms,
					.next_attempt_ms = now_ms,
				},
				NULL);
}

/* Sends one page and records it. with_level: mark the escalation. */
static int send_page(struct store *store, const struct store_incident *inc,
		     const struct escalation_page *page, bool with_level,
		     const char *detail, int64_t now_ms)
{
	char *level_key = NULL;
	char *body = NULL;
	char text[160];
	char late[24];
	int r;

	r = escalation_level_key(inc->dedup_key, page->step, page->pass,
				 &level_key);
	if (r < 0)
		return r;

	body = with_level ? pager_level_payload(inc->payload, page,
						inc->esc_opened_ms)
			  : strdup(inc->payload ? inc->payload : "{}");
	if (!body) {
		r = -ENOMEM;
		goto out;
	}

	r = queue_row(store, page->target->name, "trigger", level_key, body,
		      detail, now_ms);
	if (r < 0)
		goto out;

	r = store_page_add(store, inc->dedup_key,
			   &(struct store_page){
				   .level_key = level_key,
				   .target = (char *)page->target->name,
				   .step = page->step,
				   .pass = page->pass,
				   .paged_ms = now_ms,
			   });
	if (r < 0)
		goto out;

	snprintf(text, sizeof(text), "level %u (%s)", page->step + 1,
		 page->target->name);
	r = store_timeline_add(store, inc->dedup_key, now_ms, "paged", text);
	if (r < 0)
		goto out;

	if (with_level && (page->step > 0 || page->pass > 0)) {
		int64_t lateness = now_ms - page->due_ms;

		metrics_escalation_fired(lateness);
		LOG(lateness > PAGER_LATE_MS ? LOG_LEVEL_WARNING
					     : LOG_LEVEL_INFO,
		    "escalation.fired", {"dedup_key", inc->dedup_key},
		    {"alert", inc->alert_name}, {"policy", inc->policy},
		    {"level", log_int(text, page->step + 1)},
		    {"target", page->target->name},
		    {"late_ms", log_int(late, lateness)});
	}
out:
	free(level_key);
	free(body);
	return r;
}

/* Starts paging an incident at now: the policy's due steps, or its one
 * target. */
static int start_paging(struct store *store, const struct config *config,
			struct store_incident *inc, const char *detail,
			int64_t now_ms)
{
	const struct config_policy *policy =
		inc->policy ? config_find_policy(config, inc->policy) : NULL;
	struct escalation_page pages[ESCALATION_PAGES_MAX];
	struct escalation_state state = {0};
	size_t n = 0;
	int r;

	inc->opened_ms = now_ms;
	inc->acked_ms = 0;
	free(inc->ack_source);
	inc->ack_source = NULL;

	if (!policy) {
		const struct config_target *target =
			config_find_target(config, inc->target);
		struct escalation_page page = {.target = target};

		inc->esc_status = ESCALATION_NONE;
		inc->next_deadline_ms = ESCALATION_NEVER;
		if (!target)
			return -ENOENT;
		return send_page(store, inc, &page, false, detail, now_ms);
	}

	escalation_start(policy, severity_of(inc), now_ms, &state, pages, &n);
	esc_state_store(inc, &state, policy);
	for (size_t i = 0; i < n; i++) {
		r = send_page(store, inc, &pages[i], true, detail, now_ms);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Sends action (resolve, acknowledge) to every level paged. */
static int to_every_level(struct store *store, struct store_incident *inc,
			  const char *action, const char *detail,
			  int64_t now_ms)
{
	struct store_page *pages = NULL;
	size_t n = 0;
	int r;

	r = store_pages_open(store, inc->dedup_key, &pages, &n);
	if (r < 0)
		return r;

	/* Incidents from before pages were kept paged their target only. */
	if (n == 0 && inc->target)
		r = queue_row(store, inc->target, action, inc->dedup_key,
			      inc->payload ? inc->payload : "{}", detail,
			      now_ms);

	for (size_t i = 0; i < n && r == 0; i++)
		r = queue_row(
			store, pages[i].target, action, pages[i].level_key,
			inc->payload ? inc->payload : "{}", detail, now_ms);
	store_pages_free(pages, n);
	if (r < 0)
		return r;

	if (strcmp(action, "resolve") == 0)
		r = store_pages_resolve(store, inc->dedup_key, now_ms);
	return r;
}

static int replace(char **field, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

/* The stored incident, or a new one for the alert. */
static int incident_load(struct store *store, const struct pager_alert *a,
			 struct store_incident *inc, bool *ret_found)
{
	int r = store_incident_get(store, a->dedup_key, inc, ret_found);

	if (r < 0 || *ret_found)
		return r;

	*inc = (struct store_incident){
		.status = INCIDENT_STATUS_NONE,
		.esc_status = ESCALATION_NONE,
		.next_deadline_ms = ESCALATION_NEVER,
	};
	if (replace(&inc->dedup_key, a->dedup_key) < 0 ||
	    replace(&inc->identity, a->identity) < 0)
		return -ENOMEM;
	return 0;
}

static int on_trigger(struct store *store, const struct config *config,
		      struct store_incident *inc,
		      const struct incident_state *current,
		      const struct pager_alert *a, int64_t now_ms,
		      struct pager_result *ret)
{
	struct escalation_page first = {0};
	int r;

	/* Already paging: refresh the first level, keep the chain. */
	if (current->status == INCIDENT_STATUS_TRIGGERED) {
		if (a->silenced_until_ms > now_ms) {
			ret->action = INCIDENT_ACTION_NONE;
			ret->why = "silenced";
			return 0;
		}
		first.target = config_find_target(config, inc->target);
		if (!first.target)
			return 0;
		ret->queued = true;
		return send_page(store, inc, &first, false, a->message_id,
				 now_ms);
	}

	if (replace(&inc->target, a->target_name) < 0 ||
	    replace(&inc->policy, a->policy_name) < 0)
		return -ENOMEM;

	/* The start of an episode, whatever holds its pages back. */
	r = store_timeline_add(store, inc->dedup_key, now_ms, "triggered",
			       a->message_id);
	if (r < 0)
		return r;

	if (a->silenced_until_ms > now_ms) {
		inc->status = INCIDENT_STATUS_SILENCED;
		inc->silenced_until_ms = a->silenced_until_ms;
		inc->next_deadline_ms = a->silenced_until_ms;
		inc->esc_status = ESCALATION_NONE;
		ret->action = INCIDENT_ACTION_NONE;
		ret->why = "silenced";
		return store_timeline_add(store, inc->dedup_key, now_ms,
					  "silenced", a->message_id);
	}

	r = start_paging(store, config, inc, a->message_id, now_ms);
	if (r == 0)
		ret->queued = true;
	return r;
}

int pager_alert(struct store *store, const struct config *config,
		const struct pager_alert *a, int64_t now_ms,
		struct pager_result *ret)
{
	struct store_incident inc = {0};
	struct incident_state current;
	struct incident_state next;
	bool found = false;
	int r;

	*ret = (struct pager_result){.action = INCIDENT_ACTION_NONE};

	r = incident_load(store, a, &inc, &found);
	if (r < 0)
		goto out;

	current = (struct incident_state){inc.status, inc.changed_at_ms};
	incident_decide(&current, a->state, a->changed_at_ms,
			a->trigger_on_insufficient, &ret->action, &next,
			&ret->why);

	if (next.status == current.status &&
	    next.changed_at_ms == current.changed_at_ms)
		goto out;

	inc.status = next.status;
	inc.changed_at_ms = next.changed_at_ms;
	inc.updated_ms = now_ms;
	if (replace(&inc.route, a->route_name) < 0 ||
	    replace(&inc.alert_name, a->alert_name) < 0 ||
	    replace(&inc.severity, a->severity) < 0 ||
	    replace(&inc.payload, a->payload_json) < 0) {
		r = -ENOMEM;
		goto out;
	}

	switch (ret->action) {
	case INCIDENT_ACTION_TRIGGER:
		r = on_trigger(store, config, &inc, &current, a, now_ms, ret);
		break;
	case INCIDENT_ACTION_RESOLVE:
		if (inc.esc_status != ESCALATION_NONE)
			inc.esc_status = ESCALATION_STOPPED;
		inc.next_deadline_ms = ESCALATION_NEVER;
		r = store_timeline_add(store, inc.dedup_key, now_ms,
				       "recovered", a->message_id);
		if (r == 0)
			r = to_every_level(store, &inc, "resolve",
					   a->message_id, now_ms);
		ret->queued = r == 0;
		break;
	case INCIDENT_ACTION_NONE:
		/* A silenced alarm that recovered is never paged. */
		if (current.status == INCIDENT_STATUS_SILENCED)
			inc.next_deadline_ms = ESCALATION_NEVER;
		break;
	}
	if (r < 0)
		goto out;

	r = store_incident_put(store, &inc);
out:
	store_incident_release(&inc);
	return r;
}

static int command_acknowledge(struct store *store, struct store_incident *inc,
			       const char *source, int64_t now_ms,
			       struct pager_result *ret)
{
	struct escalation_state state = esc_state_of(inc);

	if (inc->acked_ms && inc->esc_status != ESCALATION_RUNNING) {
		ret->outcome = PAGER_IGNORED;
		ret->why = "already acknowledged";
		return 0;
	}
	if (escalation_acknowledge(&state) == 0)
		inc->esc_status = state.status;
	inc->next_deadline_ms = ESCALATION_NEVER;
	inc->acked_ms = now_ms;
	if (replace(&inc->ack_source, source) < 0)
		return -ENOMEM;

	metrics_acknowledged(source);

	/* A webhook comes from PagerDuty, which knows; an API call does
	 * not reach PagerDuty unless we tell every level. */
	if (strcmp(source, "webhook") != 0) {
		ret->queued = true;
		return to_every_level(store, inc, "acknowledge", source,
				      now_ms);
	}
	return 0;
}

/* A paused chain goes on where it stands. */
static int command_resume(struct store_incident *inc,
			  const struct config *config, struct pager_result *ret)
{
	struct escalation_state state = esc_state_of(inc);

	if (escalation_resume(&state) < 0) {
		ret->outcome = PAGER_IGNORED;
		ret->why = "not acknowledged";
		return 0;
	}
	inc->acked_ms = 0;
	esc_state_store(inc, &state,
			inc->policy ? config_find_policy(config, inc->policy)
				    : NULL);
	return 0;
}

/*
 * Reopened at PagerDuty after a resolve: a person says it is not over,
 * whatever the alarm said. Open again and page from the first step.
 * Writes its own timeline entry, so that it comes before the pages.
 */
static int command_reopen(struct store *store, const struct config *config,
			  struct store_incident *inc, const char *detail,
			  int64_t now_ms, struct pager_result *ret)
{
	int r;

	if (inc->status != INCIDENT_STATUS_RESOLVED) {
		r = command_resume(inc, config, ret);
		if (r < 0 || ret->outcome != PAGER_DONE)
			return r;
		return store_timeline_add(store, inc->dedup_key, now_ms,
					  "reopened", detail);
	}

	inc->status = INCIDENT_STATUS_TRIGGERED;
	inc->silenced_until_ms = 0;
	r = store_timeline_add(store, inc->dedup_key, now_ms, "reopened",
			       detail);
	if (r == 0)
		r = start_paging(store, config, inc, detail, now_ms);
	if (r == 0)
		ret->queued = true;
	return r;
}

/* What the timeline calls a command done. */
static const char *command_done(enum pager_command command)
{
	switch (command) {
	case PAGER_ACKNOWLEDGE:
		return "acknowledged";
	case PAGER_UNACKNOWLEDGE:
		return "unacknowledged";
	case PAGER_RESOLVE:
		return "resolved";
	case PAGER_REOPEN:
		return "reopened";
	}
	return "unknown";
}

int pager_command(struct store *store, const struct config *config,
		  enum pager_command command, const char *key,
		  const char *source, const char *actor, int64_t now_ms,
		  struct pager_result *ret)
{
	struct store_incident inc = {0};
	bool found = false;
	char detail[256];
	int r;

	*ret = (struct pager_result){.outcome = PAGER_DONE};
	snprintf(detail, sizeof(detail), "%s%s%s", source, actor ? " by " : "",
		 actor ? actor : "");

	r = store_incident_find_key(store, key, &ret->dedup_key);
	if (r == -ENOENT) {
		ret->outcome = PAGER_UNKNOWN;
		ret->why = "no incident has that key";
		return 0;
	}
	if (r < 0)
		return r;

	r = store_incident_get(store, ret->dedup_key, &inc, &found);
	if (r < 0 || !found) {
		ret->outcome = PAGER_UNKNOWN;
		ret->why = "no incident has that key";
		goto out;
	}

	if (inc.status != INCIDENT_STATUS_TRIGGERED &&
	    !(command == PAGER_RESOLVE &&
	      inc.status == INCIDENT_STATUS_SILENCED) &&
	    !(command == PAGER_REOPEN &&
	      inc.status == INCIDENT_STATUS_RESOLVED)) {
		ret->outcome = PAGER_IGNORED;
		ret->why = inc.status == INCIDENT_STATUS_RESOLVED
				   ? command == PAGER_RESOLVE
					     ? "already resolved"
					     : "resolved"
				   : "not open";
		goto out;
	}

	switch (command) {
	case PAGER_ACKNOWLEDGE:
		r = command_acknowledge(store, &inc, source, now_ms, ret);
		break;
	case PAGER_UNACKNOWLEDGE:
		r = command_resume(&inc, config, ret);
		break;
	case PAGER_RESOLVE:
		if (inc.esc_status != ESCALATION_NONE)
			inc.esc_status = ESCALATION_STOPPED;
		inc.status = INCIDENT_STATUS_RESOLVED;
		inc.next_deadline_ms = ESCALATION_NEVER;
		r = to_every_level(store, &inc, "resolve", source, now_ms);
		ret->queued = r == 0;
		break;
	case PAGER_REOPEN:
		r = command_reopen(store, config, &inc, detail, now_ms, ret);
		break;
	}
	if (r < 0 || ret->outcome != PAGER_DONE)
		goto out;

	inc.updated_ms = now_ms;
	if (command != PAGER_REOPEN)
		r = store_timeline_add(store, inc.dedup_key, now_ms,
				       command_done(command), detail);
	if (r == 0)
		r = store_incident_put(store, &inc);
out:
	store_incident_release(&inc);
	return r;
}

/* One incident whose deadline came: a silence ended or steps are due. */
static int tick_one(struct store *store, const struct config *config,
		    const char *dedup_key, int64_t now_ms,
		    struct pager_tick_result *ret)
{
	struct store_incident inc = {0};
	struct escalation_page pages[ESCALATION_PAGES_MAX];
	const struct config_policy *policy;
	struct escalation_state state;
	bool found = false;
	size_t n = 0;
	int r;

	r = store_incident_get(store, dedup_key, &inc, &found);
	if (r < 0 || !found)
		return r;

	if (inc.status == INCIDENT_STATUS_SILENCED) {
		/* The silence is over and the alarm still fires: page now. */
		inc.status = INCIDENT_STATUS_TRIGGERED;
		inc.silenced_until_ms = 0;
		LOG(LOG_LEVEL_INFO, "silence.ended", {"dedup_key", dedup_key},
		    {"alert", inc.alert_name});
		r = start_paging(store, config, &inc, "silence ended", now_ms);
		ret->queued = true;
		goto put;
	}

	policy = inc.policy ? config_find_policy(config, inc.policy) : NULL;
	if (inc.status != INCIDENT_STATUS_TRIGGERED || !policy) {
		if (inc.status == INCIDENT_STATUS_TRIGGERED && inc.policy)
			LOG(LOG_LEVEL_WARNING, "escalation.policy_missing",
			    {"dedup_key", dedup_key}, {"policy", inc.policy});
		inc.next_deadline_ms = ESCALATION_NEVER;
		goto put;
	}

	state = esc_state_of(&inc);
	escalation_tick(policy, severity_of(&inc), now_ms, &state, pages, &n);
	esc_state_store(&inc, &state, policy);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = send_page(store, &inc, &pages[i], true, "escalation",
			      now_ms);
		if (now_ms - pages[i].due_ms > ret->late_ms)
			ret->late_ms = now_ms - pages[i].due_ms;
	}
	if (n > 0)
		ret->queued = true;
	ret->steps_fired += n;
put:
	if (r == 0)
		r = store_incident_put(store, &inc);
	store_incident_release(&inc);
	return r;
}

int pager_tick(struct store *store, const struct config *config, int64_t now_ms,
	       size_t max, struct pager_tick_result *ret)
{
	char **keys = NULL;
	size_t n = 0;
	int r;

	*ret = (struct pager_tick_result){0};
	r = store_incident_due(store, now_ms, max, &keys, &n);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n && r == 0; i++)
		r = tick_one(store, config, keys[i], now_ms, ret);

	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return r;
}
