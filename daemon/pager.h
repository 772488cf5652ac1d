/*
 * pager: what an alert, an acknowledgement, a resolve or the clock does
 * to an incident, written to the store inside the caller's transaction:
 * the incident's state, its escalation, the pages sent per level, the
 * outbox rows that send them, and the incident's timeline.
 *
 * The first step of a policy pages the route's target with the
 * incident's own dedup_key; later steps page their targets with keys
 * derived from it (escalation_level_key()), so that a repeated send is
 * harmless at PagerDuty. A resolve goes to every level that was paged.
 */
#ifndef ALERTBRIDGE_PAGER_H
#define ALERTBRIDGE_PAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"
#include "escalation.h"
#include "incident.h"
#include "store.h"

/* An SNS notification, classified, routed and rendered. */
struct pager_alert {
	const char *message_id;
	const char *dedup_key;
	const char *identity;
	const char *route_name;
	const char *target_name;
	const char *policy_name; /* NULL: the route does not escalate */
	const char *alert_name;
	const char *severity;
	enum alert_state state;
	int64_t changed_at_ms;
	bool trigger_on_insufficient;
	const char *payload_json;
	int64_t silenced_until_ms; /* 0: no silence holds it */
};

enum pager_command {
	PAGER_ACKNOWLEDGE,
	PAGER_UNACKNOWLEDGE,
	PAGER_RESOLVE,
	PAGER_REOPEN, /* a PagerDuty incident reopened */
};

enum pager_outcome {
	PAGER_DONE,
	PAGER_IGNORED, /* nothing to do: already so, or resolved */
	PAGER_UNKNOWN, /* no incident has that key */
};

struct pager_result {
	enum incident_action action; /* for alerts */
	enum pager_outcome outcome;  /* for commands */
	const char *why;
	bool queued;     /* outbox rows were added */
	char *dedup_key; /* for commands: the incident found (free it) */
};

int pager_alert(struct store *store, const struct config *config,
		const struct pager_alert *alert, int64_t now_ms,
		struct pager_result *ret);

/*
 * An acknowledgement, unacknowledgement, resolve or reopen for the
 * incident that key names (its dedup_key or a page's). source
 * ("webhook", "api") and actor (who, may be NULL) go to the timeline and
 * the log. A reopen of a resolved incident opens it again and starts
 * its chain from the first step (the first page keeps the incident's
 * dedup_key); of an open one it resumes the chain as an
 * unacknowledgement does.
 */
int pager_command(struct store *store, const struct config *config,
		  enum pager_command command, const char *key,
		  const char *source, const char *actor, int64_t now_ms,
		  struct pager_result *ret);

/* What one pager_tick() did. */
struct pager_tick_result {
	bool queued;        /* outbox rows were added */
	size_t steps_fired; /* escalation steps paged */
	int64_t late_ms;    /* how late the most overdue of them fired */
};

/*
 * Fires every escalation step and every silence end due at now_ms, at
 * most max incidents, and says what it did in *ret.
 */
int pager_tick(struct store *store, const struct config *config, int64_t now_ms,
	       size_t max, struct pager_tick_result *ret);

const char *pager_command_name(enum pager_command command);

/*
 * The payload of a page beyond the first: the stored payload (JSON)
 * with custom_details escalation_level, escalation_target,
 * escalation_pass (after the first pass) and open_since (opened_ms).
 * The stored payload as it is when it is not JSON; NULL when out of
 * memory. Shared with `alertbridge render`, which shows these pages.
 */
char *pager_level_payload(const char *stored,
			  const struct escalation_page *page,
			  int64_t opened_ms);

#endif
