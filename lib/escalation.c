/*
 * escalation: which steps are due, fired exactly once.
 */
#include "escalation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

static const char *const status_names[ESCALATION_STATUS_COUNT] = {
	[ESCALATION_NONE] = "none",          [ESCALATION_RUNNING] = "running",
	[ESCALATION_ACKED] = "acknowledged", [ESCALATION_FINISHED] = "finished",
	[ESCALATION_STOPPED] = "stopped",
};

const char *escalation_status_name(enum escalation_status status)
{
	return status < ESCALATION_STATUS_COUNT ? status_names[status] : "none";
}

int escalation_status_from_name(const char *name,
				enum escalation_status *ret_status)
{
	for (int i = 0; i < ESCALATION_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*ret_status = (enum escalation_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

static unsigned int total_steps(const struct config_policy *policy)
{
	return (unsigned int)policy->n_steps * (policy->repeat + 1);
}

static bool step_applies(const struct config_step *step,
			 enum config_severity severity)
{
	return step->severities == 0 ||
	       (step->severities & (1u << severity)) != 0;
}

static int64_t index_due(const struct config_policy *policy,
			 const struct escalation_state *state,
			 unsigned int index)
{
	unsigned int pass = index / (unsigned int)policy->n_steps;
	unsigned int step = index % (unsigned int)policy->n_steps;

	return state->opened_ms + (int64_t)pass * policy->repeat_interval_ms +
	       policy->steps[step].after_ms;
}

/* Moves next past the steps that do not apply to this severity. */
static void skip_inapplicable(const struct config_policy *policy,
			      enum config_severity severity,
			      struct escalation_state *state)
{
	unsigned int total = total_steps(policy);

	while (state->next < total &&
	       !step_applies(&policy->steps[state->next % policy->n_steps],
			     severity))
		state->next++;
	if (state->next >= total && state->status == ESCALATION_RUNNING)
		state->status = ESCALATION_FINISHED;
}

int64_t escalation_next_due(const struct config_policy *policy,
			    enum config_severity severity,
			    const struct escalation_state *state)
{
	struct escalation_state probe = *state;

	if (state->status != ESCALATION_RUNNING)
		return ESCALATION_NEVER;

	skip_inapplicable(policy, severity, &probe);
	if (probe.status != ESCALATION_RUNNING)
		return ESCALATION_NEVER;
	return index_due(policy, &probe, probe.next);
}

void escalation_tick(const struct config_policy *policy,
		     enum config_severity severity, int64_t now_ms,
		     struct escalation_state *state,
		     struct escalation_page *ret_pages, size_t *ret_n)
{
	size_t n = 0;

	*ret_n = 0;
	if (state->status != ESCALATION_RUNNING || policy->n_steps == 0)
		return;

	for (;;) {
		unsigned int index;
		int64_t due;

		skip_inapplicable(policy, severity, state);
		if (state->status != ESCALATION_RUNNING)
			break;

		index = state->next;
		due = index_due(policy, state, index);
		if (due > now_ms || n >= ESCALATION_PAGES_MAX)
			break;

		ret_pages[n++] = (struct escalation_page){
			.index = index,
			.step = index % (unsigned int)policy->n_steps,
			.pass = index / (unsigned int)policy->n_steps,
			.target = policy->steps[index % policy->n_steps].target,
			.due_ms = due,
		};
		state->next++;
	}
	*ret_n = n;
}

void escalation_start(const struct config_policy *policy,
		      enum config_severity severity, int64_t now_ms,
		      struct escalation_state *state,
		      struct escalation_page *ret_pages, size_t *ret_n)
{
	*state = (struct escalation_state){
		.status = ESCALATION_RUNNING,
		.opened_ms = now_ms,
		.next = 0,
	};
	escalation_tick(policy, severity, now_ms, state, ret_pages, ret_n);
}

int escalation_acknowledge(struct escalation_state *state)
{
	if (state->status != ESCALATION_RUNNING &&
	    state->status != ESCALATION_FINISHED)
		return -EALREADY;
	state->status = ESCALATION_ACKED;
	return 0;
}

int escalation_resume(struct escalation_state *state)
{
	if (state->status != ESCALATION_ACKED)
		return -EALREADY;
	state->status = ESCALATION_RUNNING;
	return 0;
}

void escalation_stop(struct escalation_state *state)
{
	state->status = ESCALATION_STOPPED;
}

int escalation_level_key(const char *dedup_key, unsigned int step,
			 unsigned int pass, char **ret_key)
{
	char suffix[48];
	char *joined;
	size_t len;
	int r;

	if (step == 0 && pass == 0) {
		*ret_key = strdup(dedup_key);
		return *ret_key ? 0 : -ENOMEM;
	}

	/* Levels count from 1, as escalation_level says and people do. */
	if (pass == 0)
		snprintf(suffix, sizeof(suffix), "/level-%u", step + 1);
	else
		snprintf(suffix, sizeof(suffix), "/level-%u/pass-%u", step + 1,
			 pass);

	len = strlen(dedup_key) + strlen(suffix) + 1;
	joined = malloc(len);
	if (!joined)
		return -ENOMEM;
	snprintf(joined, len, "%s%s", dedup_key, suffix);

	r = render_dedup_key(joined, ret_key);
	free(joined);
	return r;
}
