/*
 * escalation: the escalation chain of one incident as a pure function of
 * its policy, its severity, its state and the time.
 *
 * The steps of every pass of a policy are numbered in one sequence:
 * index = pass * n_steps + step, due at opened + pass * repeat_interval
 * + step.after. A step whose severity condition does not hold is passed
 * over, never paged. The state records the next index not yet fired, so
 * a step fires once however often the clock is consulted, and a wall
 * clock stepped back only delays what is due.
 */
#ifndef ALERTBRIDGE_ESCALATION_H
#define ALERTBRIDGE_ESCALATION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define ESCALATION_NEVER INT64_MAX

enum escalation_status {
	ESCALATION_NONE,     /* no chain: the route has no policy */
	ESCALATION_RUNNING,  /* steps still to fire */
	ESCALATION_ACKED,    /* someone acknowledged: paused */
	ESCALATION_FINISHED, /* every step fired; nothing due */
	ESCALATION_STOPPED,  /* the incident resolved */
	ESCALATION_STATUS_COUNT
};

struct escalation_state {
	enum escalation_status status;
	int64_t opened_ms; /* the trigger the delays count from */
	unsigned int next; /* the first index not yet fired */
};

/* One page to send: which step of which pass, to whom, when due. */
struct escalation_page {
	unsigned int index;
	unsigned int step;
	unsigned int pass;
	const struct config_target *target;
	int64_t due_ms;
};

/* The most pages one call can return: every step of every pass. */
#define ESCALATION_PAGES_MAX                                                   \
	(CONFIG_POLICY_STEPS_MAX * (CONFIG_POLICY_REPEAT_MAX + 1))

/*
 * Starts the chain at now_ms and returns the steps due at once (the
 * first step, and any others with no delay) in ret_pages.
 */
void escalation_start(const struct config_policy *policy,
		      enum config_severity severity, int64_t now_ms,
		      struct escalation_state *state,
		      struct escalation_page *ret_pages, size_t *ret_n);

/*
 * Fires every step due at now_ms, once, in order, and advances the
 * state. Nothing fires unless the chain is running.
 */
void escalation_tick(const struct config_policy *policy,
		     enum config_severity severity, int64_t now_ms,
		     struct escalation_state *state,
		     struct escalation_page *ret_pages, size_t *ret_n);

/* When the next step is due, or ESCALATION_NEVER. */
int64_t escalation_next_due(const struct config_policy *policy,
			    enum config_severity severity,
			    const struct escalation_state *state);

/* Acknowledged: a running chain pauses. Returns 0, or -EALREADY. */
int escalation_acknowledge(struct escalation_state *state);

/*
 * Unacknowledged or reopened: a paused chain resumes where it stands;
 * steps that fell due meanwhile fire at the next tick. 0 or -EALREADY.
 */
int escalation_resume(struct escalation_state *state);

/* Resolved: the chain stops for good. */
void escalation_stop(struct escalation_state *state);

/*
 * The dedup_key of a page: the incident's own for the first step of the
 * first pass, else the incident's with "/level-N", N = step + 1 (and
 * "/pass-M" after the first pass), hashed as render_dedup_key() does
 * past 255 bytes. The second step's page is "/level-2".
 */
int escalation_level_key(const char *dedup_key, unsigned int step,
			 unsigned int pass, char **ret_key);

const char *escalation_status_name(enum escalation_status status);
int escalation_status_from_name(const char *name,
				enum escalation_status *ret_status);

#endif
