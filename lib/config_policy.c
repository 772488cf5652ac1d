/*
 * config_policy: escalation_policies and silences.
 *
 * A policy is the runbook's escalation path: steps that page a target
 * some delay after the trigger while nobody acknowledges, the first at
 * once, optionally only for some PagerDuty severities; the chain may run
 * again. A silence is a maintenance window: alerts its match accepts are
 * not paged between start and end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"
#include "config_value.h"
#include "timeutil.h"
#include "util.h"

#define STEP_AFTER_MAX          DAY_MS
#define REPEAT_INTERVAL_MIN     MINUTE_MS
#define REPEAT_INTERVAL_MAX     (7 * DAY_MS)
#define REPEAT_INTERVAL_DEFAULT HOUR_MS

static const char *const severity_names[CONFIG_SEVERITY_COUNT] = {
	[CONFIG_SEVERITY_CRITICAL] = "critical",
	[CONFIG_SEVERITY_ERROR] = "error",
	[CONFIG_SEVERITY_WARNING] = "warning",
	[CONFIG_SEVERITY_INFO] = "info",
};

const char *config_severity_name(enum config_severity severity)
{
	if ((unsigned int)severity >= CONFIG_SEVERITY_COUNT)
		return "unknown";
	return severity_names[severity];
}

/* Severities are PagerDuty's words, matched exactly. */
int config_severity_from_name(const char *name,
			      enum config_severity *ret_severity)
{
	if (!name)
		return -EINVAL;

	for (size_t i = 0; i < CONFIG_SEVERITY_COUNT; i++) {
		if (!strcmp(name, severity_names[i])) {
			*ret_severity = (enum config_severity)i;
			return 0;
		}
	}
	return -EINVAL;
}

const struct config_policy *config_find_policy(const struct config *config,
					       const char *name)
{
	for (size_t i = 0; i < config->n_policies; i++)
		if (config->policies[i].name &&
		    !strcmp(config->policies[i].name, name))
			return &config->policies[i];
	return NULL;
}

void schema_unknown_policy(struct loader *ld, const struct ynode *node,
			   const char *name, const char *section)
{
	const struct config *c = ld->config;
	const char **names = calloc(c->n_policies + 1, sizeof(*names));
	char hint[HINT_MAX] = "define it under escalation_policies";

	for (size_t i = 0; names && i < c->n_policies; i++)
		names[i] = c->policies[i].name;
	if (names && c->n_policies > 0)
		tree_hint_names(hint, name, names, c->n_policies,
				"the policies are");
	tree_report(ld, node, hint, "unknown escalation policy '%s' in %s",
		    name, section);
	free(names);
}

/* A severity or a list of them, as bits of 1u << config_severity. */
static void load_severities(struct loader *ld, const struct ynode *node,
			    const char *section, unsigned int *ret_bits)
{
	unsigned int bits = 0;
	char hint[HINT_MAX];
	bool ok = true;

	if (!value_expect_list(ld, node, "severity", section))
		return;

	for (size_t i = 0; i < value_count(node); i++) {
		const struct ynode *item = value_item(node, i);
		const char *text;
		enum config_severity severity;

		text = tree_scalar_text(ld, item, "severity", section);
		if (!text) {
			ok = false;
			continue;
		}
		if (config_severity_from_name(text, &severity) == 0) {
			bits |= 1u << severity;
			continue;
		}

		tree_hint_names(hint, text, severity_names,
				CONFIG_SEVERITY_COUNT,
				"PagerDuty's severities are");
		tree_report(
			ld, item, hint,
			"'severity' in %s: '%s' is not a PagerDuty severity",
			section, text);
		ok = false;
	}
	if (ok)
		*ret_bits = bits;
}

/*
 * One step, the index-th (from 0). last_ms is the latest delay of the
 * steps before it, and last the step that has it (from 1); last_ms is -1
 * when none of them had a valid one, which leaves the order unchecked.
 */
static void load_step(struct loader *ld, struct ynode *node, const char *policy,
		      size_t index, int64_t last_ms, size_t last,
		      struct config_step *step)
{
	enum { AFTER, TARGET, SEVERITY, COUNT };
	static const char *const keys[COUNT] = {
		[AFTER] = "after",
		[TARGET] = "target",
		[SEVERITY] = "severity",
	};
	struct ynode *v[COUNT];
	char section[LABEL_MAX], have[32], before[32];
	const char *text;

	step->after_ms = -1;
	snprintf(section, sizeof(section), "step %zu of policy '%s'", index + 1,
		 policy);
	if (node->type != YNODE_MAP) {
		if (!node->skip)
			tree_report(ld, node,
				    "write {after: 15m, target: secondary}",
				    "%s must be a map, not %s", section,
				    tree_node_kind(node));
		return;
	}
	tree_map_fields(ld, node, section, keys, COUNT, v);

	if (tree_require(ld, node, v[TARGET], "target", section)) {
		text = tree_scalar_text(ld, v[TARGET], "target", section);
		step->target =
			text ? config_find_target(ld->config, text) : NULL;
		if (text && !step->target)
			schema_unknown_target(ld, v[TARGET], text, section);
	}

	if (v[SEVERITY])
		load_severities(ld, v[SEVERITY], section, &step->severities);
	if (v[SEVERITY] && index == 0)
		tree_report(ld, v[SEVERITY],
			    "a route with this policy pages the first step's "
			    "target at once, whatever the severity",
			    "the first step of policy '%s' cannot be limited "
			    "to some severities",
			    policy);

	if (!tree_require(ld, node, v[AFTER], "after", section) ||
	    value_duration(ld, v[AFTER], "after", section, 0, STEP_AFTER_MAX,
			   &step->after_ms) < 0)
		return;

	value_format_duration(step->after_ms, have);
	if (index == 0 && step->after_ms != 0) {
		tree_report(ld, v[AFTER],
			    "the runbook pages the first target at once: "
			    "write after: 0m",
			    "the first step of policy '%s' must be "
			    "at 0m, not %s",
			    policy, have);
	} else if (index > 0 && last_ms > step->after_ms) {
		value_format_duration(last_ms, before);
		tree_report(ld, node,
			    "list the steps in the order they page, each "
			    "after at least the one before",
			    "%s is out of order: "
			    "%s is before the %s of step %zu",
			    section, have, before, last);
	}
}

static void load_steps(struct loader *ld, struct ynode *node,
		       const char *section, struct config_policy *policy)
{
	int64_t last_ms = -1;
	char hint[HINT_MAX];
	size_t n = node->n, last = 0;

	if (!tree_expect_type(ld, node, YNODE_LIST, "steps", section))
		return;
	if (n == 0) {
		tree_report(ld, node,
			    "add a first step such as "
			    "{after: 0m, target: primary}",
			    "'steps' in %s is empty", section);
		return;
	}
	if (n > CONFIG_POLICY_STEPS_MAX) {
		snprintf(hint, sizeof(hint),
			 "at most %d: merge steps that page at the same time",
			 CONFIG_POLICY_STEPS_MAX);
		tree_report(ld, node->items[CONFIG_POLICY_STEPS_MAX], hint,
			    "%s has more than %d steps", section,
			    CONFIG_POLICY_STEPS_MAX);
		n = CONFIG_POLICY_STEPS_MAX;
	}

	policy->steps = calloc(n, sizeof(*policy->steps));
	if (!policy->steps) {
		ld->oom = true;
		return;
	}
	policy->n_steps = n;

	/* A step out of order is not compared with again. */
	for (size_t i = 0; i < n; i++) {
		struct config_step *step = &policy->steps[i];

		load_step(ld, node->items[i], policy->name, i, last_ms, last,
			  step);
		if (step->after_ms >= 0 && step->after_ms >= last_ms) {
			last_ms = step->after_ms;
			last = i + 1;
		}
	}
}

static void load_policy(struct loader *ld, struct ynode *key,
			struct ynode *node, struct config_policy *policy)
{
	enum { STEPS, REPEAT, REPEAT_INTERVAL, COUNT };
	static const char *const keys[COUNT] = {
		[STEPS] = "steps",
		[REPEAT] = "repeat",
		[REPEAT_INTERVAL] = "repeat_interval",
	};
	const struct config_step *last;
	char section[LABEL_MAX], every[32], after[32];
	struct ynode *v[COUNT];
	unsigned long repeat;

	policy->name = tree_strdup(ld, key->text);
	if (!policy->name)
		return;
	policy->repeat_interval_ms = REPEAT_INTERVAL_DEFAULT;
	tree_name_check(ld, key, "policy");
	if (!tree_expect_type(ld, node, YNODE_MAP, key->text,
			      "escalation_policies"))
		return;

	snprintf(section, sizeof(section), "policy '%s'", key->text);
	tree_map_fields(ld, node, section, keys, COUNT, v);
	if (tree_require(ld, node, v[STEPS], "steps", section))
		load_steps(ld, v[STEPS], section, policy);
	if (v[REPEAT] && value_uint(ld, v[REPEAT], "repeat", section, 0,
				    CONFIG_POLICY_REPEAT_MAX, &repeat) == 0)
		policy->repeat = (unsigned int)repeat;
	if (v[REPEAT_INTERVAL] &&
	    value_duration(ld, v[REPEAT_INTERVAL], "repeat_interval", section,
			   REPEAT_INTERVAL_MIN, REPEAT_INTERVAL_MAX,
			   &policy->repeat_interval_ms) < 0)
		return;

	/* A pass must be over before the next one starts. */
	last = policy->n_steps ? &policy->steps[policy->n_steps - 1] : NULL;
	if (policy->repeat == 0 || !last || last->after_ms < 0 ||
	    policy->repeat_interval_ms > last->after_ms)
		return;
	value_format_duration(policy->repeat_interval_ms, every);
	value_format_duration(last->after_ms, after);
	tree_report(ld, v[REPEAT_INTERVAL] ? v[REPEAT_INTERVAL] : v[REPEAT],
		    "make repeat_interval longer than the last step's after",
		    "%s repeats every %s, which is not longer than its last "
		    "step's after (%s)",
		    section, every, after);
}

void schema_load_policies(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;

	if (!tree_expect_type(ld, node, YNODE_MAP, "escalation_policies", NULL))
		return;
	tree_check_keys(ld, node, "escalation_policies");

	c->policies = calloc(node->n / 2 + 1, sizeof(*c->policies));
	if (!c->policies) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		if (node->items[i]->skip)
			continue;
		load_policy(ld, node->items[i], node->items[i + 1],
			    &c->policies[c->n_policies++]);
	}

	if (c->n_policies == 0)
		tree_report(ld, node, "add a policy or remove the key",
			    "'escalation_policies' is empty");
}

static int load_instant(struct loader *ld, const struct ynode *node,
			const char *key, const char *section, int64_t *ret_ms)
{
	const char *text = tree_scalar_text(ld, node, key, section);

	if (!text)
		return -EINVAL;
	if (timeutil_parse(text, ret_ms) == 0)
		return 0;

	tree_report(ld, node, "an ISO 8601 time such as 2026-12-05T01:00:00Z",
		    "'%s' in %s: '%s' is not an ISO 8601 timestamp", key,
		    section, text);
	return -EINVAL;
}

static void load_silence(struct loader *ld, struct ynode *node, size_t index,
			 struct config_silence *silence,
			 struct ynode **ret_name)
{
	enum { NAME, MATCH, START, END, COUNT };
	static const char *const keys[COUNT] = {
		[NAME] = "name",
		[MATCH] = "match",
		[START] = "start",
		[END] = "end",
	};
	struct ynode *v[COUNT], *name;
	char section[LABEL_MAX];
	int times;

	snprintf(section, sizeof(section), "silences item %zu", index + 1);
	if (node->type != YNODE_MAP) {
		if (!node->skip)
			tree_report(ld, node,
				    "each silence is a map with name, match, "
				    "start and end",
				    "%s must be a map, not %s", section,
				    tree_node_kind(node));
		return;
	}

	/* As for routes: name the silence once its name is known good. */
	name = tree_map_peek(node, "name");
	if (name && name->type == YNODE_SCALAR && !name->skip &&
	    !tree_is_null(name) && name->len > 0 &&
	    tree_name_check(ld, name, "silence")) {
		silence->name = tree_strdup(ld, name->text);
		snprintf(section, sizeof(section), "silence '%s'", name->text);
		*ret_name = name;
	}

	tree_map_fields(ld, node, section, keys, COUNT, v);
	if (tree_require(ld, node, v[NAME], "name", section) && !silence->name)
		tree_scalar_text(ld, v[NAME], "name", section);

	/*
	 * Unlike a route's, the match is required: a silence of every
	 * alert should be written out as match: {}.
	 */
	if (tree_require(ld, node, v[MATCH], "match", section))
		schema_load_match(ld, v[MATCH], section, &silence->match);

	times = 0;
	if (tree_require(ld, node, v[START], "start", section) &&
	    load_instant(ld, v[START], "start", section, &silence->start_ms) ==
		    0)
		times++;
	if (tree_require(ld, node, v[END], "end", section) &&
	    load_instant(ld, v[END], "end", section, &silence->end_ms) == 0)
		times++;
	if (times == 2 && silence->end_ms <= silence->start_ms)
		tree_report(ld, v[END], "end must be later than start",
			    "%s ends at or before its start", section);
}

void schema_load_silences(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;
	struct tree_named *names;
	size_t n_names = 0;

	if (!tree_expect_type(ld, node, YNODE_LIST, "silences", NULL))
		return;

	c->silences = calloc(node->n + 1, sizeof(*c->silences));
	names = calloc(node->n + 1, sizeof(*names));
	if (!c->silences || !names) {
		ld->oom = true;
		free(names);
		return;
	}

	for (size_t i = 0; i < node->n; i++) {
		struct ynode *name = NULL;

		load_silence(ld, node->items[i], i,
			     &c->silences[c->n_silences++], &name);
		if (name)
			names[n_names++] = (struct tree_named){
				.name = name->text, .node = name, .index = i};
	}

	tree_report_duplicates(ld, names, n_names, "silence name");
	free(names);
}

void schema_release_policy(struct config_policy *policy)
{
	free(policy->name);
	free(policy->steps);
}

void schema_release_silence(struct config_silence *silence)
{
	free(silence->name);
	schema_release_match(&silence->match);
}
