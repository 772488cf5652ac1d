/*
 * config_route: default_route and routes, and the match: shared by
 * routes and silences.
 *
 * A route pages a target, or runs an escalation policy (never both):
 * then its target is the policy's first step's, paged at once.
 *
 * Inheritance: a route without severity, severity_bands, template,
 * environment or insufficient_data takes default_route's; default_route
 * without environment takes the top-level one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"
#include "config_value.h"
#include "util.h"

static const char *const band_names[CONFIG_BAND_COUNT] = {
	[CONFIG_BAND_LOW] = "low",
	[CONFIG_BAND_MEDIUM] = "medium",
	[CONFIG_BAND_HIGH] = "high",
	[CONFIG_BAND_CRITICAL] = "critical",
};

static const char *const default_band_severity[CONFIG_BAND_COUNT] = {
	[CONFIG_BAND_LOW] = "info",
	[CONFIG_BAND_MEDIUM] = "warning",
	[CONFIG_BAND_HIGH] = "error",
	[CONFIG_BAND_CRITICAL] = "critical",
};

static void load_bands(struct loader *ld, struct ynode *node,
		       const char *section, struct config_route *route)
{
	struct ynode *v[CONFIG_BAND_COUNT];
	char inner[LABEL_MAX];

	if (!tree_expect_type(ld, node, YNODE_MAP, "severity_bands", section))
		return;
	tree_format_label(inner, "severity_bands", section);
	tree_map_fields(ld, node, inner, band_names, CONFIG_BAND_COUNT, v);

	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++) {
		char *severity;

		if (v[band] && value_severity(ld, v[band], band_names[band],
					      inner, &severity) == 0)
			value_set_text(&route->band_severity[band], severity);
	}
}

static void load_insufficient(struct loader *ld, struct ynode *node,
			      const char *section, struct config_route *route)
{
	static const char *const keys[] = {"trigger"};
	struct ynode *trigger;
	char inner[LABEL_MAX];
	char *severity;

	if (node->skip)
		return;
	if (node->type == YNODE_SCALAR && !strcmp(node->text, "ignore")) {
		route->insufficient = CONFIG_INSUFFICIENT_IGNORE;
		free(route->insufficient_severity);
		route->insufficient_severity = NULL;
		return;
	}
	if (node->type != YNODE_MAP) {
		tree_report(ld, node, "write ignore, or {trigger: warning}",
			    "'insufficient_data' in %s must be ignore or "
			    "{trigger: <severity>}",
			    section);
		return;
	}

	tree_format_label(inner, "insufficient_data", section);
	tree_map_fields(ld, node, inner, keys, ARRAY_SIZE(keys), &trigger);
	if (!tree_require(ld, node, trigger, "trigger", inner) ||
	    value_severity(ld, trigger, "trigger", inner, &severity) < 0)
		return;
	route->insufficient = CONFIG_INSUFFICIENT_TRIGGER;
	value_set_text(&route->insufficient_severity, severity);
}

enum route_key {
	ROUTE_NAME,
	ROUTE_MATCH,
	ROUTE_TARGET,
	ROUTE_ESCALATION,
	ROUTE_SEVERITY,
	ROUTE_BANDS,
	ROUTE_TEMPLATE,
	ROUTE_ENVIRONMENT,
	ROUTE_INSUFFICIENT,
	ROUTE_KEY_COUNT
};

static const char *const route_keys[ROUTE_KEY_COUNT] = {
	[ROUTE_NAME] = "name",
	[ROUTE_MATCH] = "match",
	[ROUTE_TARGET] = "target",
	[ROUTE_ESCALATION] = "escalation",
	[ROUTE_SEVERITY] = "severity",
	[ROUTE_BANDS] = "severity_bands",
	[ROUTE_TEMPLATE] = "template",
	[ROUTE_ENVIRONMENT] = "environment",
	[ROUTE_INSUFFICIENT] = "insufficient_data",
};

/* The default route takes every alert: it has no name or match. */
static const char *const default_route_keys[ROUTE_KEY_COUNT] = {
	[ROUTE_TARGET] = "target",
	[ROUTE_ESCALATION] = "escalation",
	[ROUTE_SEVERITY] = "severity",
	[ROUTE_BANDS] = "severity_bands",
	[ROUTE_TEMPLATE] = "template",
	[ROUTE_ENVIRONMENT] = "environment",
	[ROUTE_INSUFFICIENT] = "insufficient_data",
};

static char *dup_maybe(struct loader *ld, const char *s)
{
	return s ? tree_strdup(ld, s) : NULL;
}

static bool node_before(const struct ynode *a, const struct ynode *b)
{
	return a->line < b->line ||
	       (a->line == b->line && a->column < b->column);
}

/* Who is paged: a target, or an escalation policy. Exactly one. */
static void load_paging(struct loader *ld, const struct ynode *map,
			struct ynode **v, const char *section,
			struct config_route *route)
{
	struct ynode *target = v[ROUTE_TARGET];
	struct ynode *escalation = v[ROUTE_ESCALATION];
	const struct config *c = ld->config;
	char hint[HINT_MAX];
	const char *text;

	if (!target && !escalation) {
		snprintf(hint, sizeof(hint),
			 "add 'target:' or 'escalation:' to %s", section);
		tree_report(ld, map, hint,
			    "missing required key 'target' in %s", section);
		return;
	}
	if (target && escalation) {
		tree_report(ld,
			    node_before(target, escalation) ? escalation
							    : target,
			    "keep one: an escalation pages its first step's "
			    "target at once",
			    "%s has both a target and an escalation", section);
		return;
	}

	if (target) {
		text = tree_scalar_text(ld, target, "target", section);
		route->target = text ? config_find_target(c, text) : NULL;
		if (text && !route->target)
			schema_unknown_target(ld, target, text, section);
		return;
	}

	text = tree_scalar_text(ld, escalation, "escalation", section);
	route->policy = text ? config_find_policy(c, text) : NULL;
	if (text && !route->policy)
		schema_unknown_policy(ld, escalation, text, section);
	if (route->policy && route->policy->n_steps > 0)
		route->target = route->policy->steps[0].target;
}

/*
 * What a route and the default route share (map holds v); inherit is
 * NULL for the latter.
 */
static void load_route_body(struct loader *ld, const struct ynode *map,
			    struct ynode **v, const char *section,
			    struct config_route *route,
			    const struct config_route *inherit)
{
	const struct config *c = ld->config;
	const char *text;

	load_paging(ld, map, v, section, route);

	if (v[ROUTE_TEMPLATE]) {
		text = tree_scalar_text(ld, v[ROUTE_TEMPLATE], "template",
					section);
		route->template = text ? config_find_template(c, text) : NULL;
		if (text && !route->template)
			schema_unknown_template(ld, v[ROUTE_TEMPLATE], text,
						section);
	} else if (inherit) {
		route->template = inherit->template;
	}

	if (v[ROUTE_SEVERITY])
		value_severity(ld, v[ROUTE_SEVERITY], "severity", section,
			       &route->severity);
	else if (inherit)
		route->severity = dup_maybe(ld, inherit->severity);

	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++)
		route->band_severity[band] =
			dup_maybe(ld, inherit ? inherit->band_severity[band]
					      : default_band_severity[band]);
	if (v[ROUTE_BANDS])
		load_bands(ld, v[ROUTE_BANDS], section, route);

	if (v[ROUTE_ENVIRONMENT])
		value_text(ld, v[ROUTE_ENVIRONMENT], "environment", section,
			   &route->environment);
	else
		route->environment = dup_maybe(
			ld, inherit ? inherit->environment : c->environment);

	route->insufficient =
		inherit ? inherit->insufficient : CONFIG_INSUFFICIENT_IGNORE;
	route->insufficient_severity =
		dup_maybe(ld, inherit ? inherit->insufficient_severity : NULL);
	if (v[ROUTE_INSUFFICIENT])
		load_insufficient(ld, v[ROUTE_INSUFFICIENT], section, route);
}

void schema_load_default_route(struct loader *ld, struct ynode *node)
{
	struct config_route *route = &ld->config->default_route;
	const char *section = "default_route";
	struct ynode *v[ROUTE_KEY_COUNT];

	route->line = node->line;
	route->column = node->column;
	if (!tree_expect_type(ld, node, YNODE_MAP, section, NULL))
		return;
	tree_map_fields(ld, node, section, default_route_keys, ROUTE_KEY_COUNT,
			v);

	tree_require(ld, node, v[ROUTE_SEVERITY], "severity", section);
	tree_require(ld, node, v[ROUTE_TEMPLATE], "template", section);
	load_route_body(ld, node, v, section, route, NULL);
}

static void load_pattern(struct loader *ld, const struct ynode *node,
			 const char *section, struct config_pattern **ret)
{
	const char *text = tree_scalar_text(ld, node, "name", section);
	struct config_pattern *pattern;
	char message[128];
	size_t len;
	char *inner;
	int rc;

	if (!text)
		return;
	pattern = calloc(1, sizeof(*pattern));
	if (!pattern || !(pattern->text = strdup(text)))
		goto oom;

	len = strlen(text);
	if (len < 2 || text[0] != '/' || text[len - 1] != '/') {
		*ret = pattern;
		return;
	}

	inner = strndup(text + 1, len - 2);
	if (!inner)
		goto oom;
	rc = regcomp(&pattern->regex, inner, REG_EXTENDED | REG_NOSUB);
	free(inner);
	if (rc != 0) {
		regerror(rc, &pattern->regex, message, sizeof(message));
		tree_report(ld, node,
			    "write a POSIX extended regular expression between "
			    "slashes, such as /^prod-/",
			    "'name' in %s: bad regular expression %s: %s",
			    section, text, message);
		free(pattern->text);
		free(pattern);
		return;
	}
	pattern->is_regex = true;
	*ret = pattern;
	return;

oom:
	ld->oom = true;
	if (pattern)
		free(pattern->text);
	free(pattern);
}

static int kind_index(const char *name, unsigned int *ret_index)
{
	enum alert_kind kind;
	int r = alert_kind_from_name(name, &kind);

	if (r == 0)
		*ret_index = (unsigned int)kind;
	return r;
}

static int state_index(const char *name, unsigned int *ret_index)
{
	enum alert_state state;
	int r = alert_state_from_name(name, &state);

	if (r == 0)
		*ret_index = (unsigned int)state;
	return r;
}

/*
 * A name or a list of names (kinds, states) as bits of their indexes;
 * each unknown name is reported with the known ones as the hint.
 */
static void load_name_bits(struct loader *ld, const struct ynode *node,
			   const char *key, const char *section,
			   const char *const *names, size_t n_names,
			   int (*lookup)(const char *, unsigned int *),
			   const char *what, unsigned int *ret_bits)
{
	unsigned int bits = 0;
	char hint[HINT_MAX];
	char known[32];

	if (!value_expect_list(ld, node, key, section))
		return;

	snprintf(known, sizeof(known), "the %ss are", key);
	for (size_t i = 0; i < value_count(node); i++) {
		const struct ynode *item = value_item(node, i);
		const char *text = tree_scalar_text(ld, item, key, section);
		unsigned int index;

		if (!text)
			continue;
		if (lookup(text, &index) == 0 && index < n_names)
			bits |= 1u << index;
		else
			tree_report(ld, item,
				    tree_hint_names(hint, text, names, n_names,
						    known),
				    "'%s' in %s: unknown %s '%s'", key, section,
				    what, text);
	}
	*ret_bits = bits;
}

static void load_kinds(struct loader *ld, const struct ynode *node,
		       const char *section, unsigned int *ret_bits)
{
	const char *names[ALERT_KIND_COUNT];

	for (size_t k = 0; k < ALERT_KIND_COUNT; k++)
		names[k] = alert_kind_name((enum alert_kind)k);
	load_name_bits(ld, node, "kind", section, names, ALERT_KIND_COUNT,
		       kind_index, "alert kind", ret_bits);
}

static void load_states(struct loader *ld, const struct ynode *node,
			const char *section, unsigned int *ret_bits)
{
	const char *names[ALERT_STATE_COUNT];

	for (size_t s = 0; s < ALERT_STATE_COUNT; s++)
		names[s] = alert_state_name((enum alert_state)s);
	load_name_bits(ld, node, "state", section, names, ALERT_STATE_COUNT,
		       state_index, "alarm state", ret_bits);
}

static void load_dimensions(struct loader *ld, struct ynode *node,
			    const char *section, struct config_match *match)
{
	char inner[LABEL_MAX];

	if (!tree_expect_type(ld, node, YNODE_MAP, "dimensions", section))
		return;
	tree_format_label(inner, "dimensions", section);
	tree_check_keys(ld, node, inner);

	match->dimensions = calloc(node->n / 2 + 1, sizeof(*match->dimensions));
	if (!match->dimensions) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		struct alert_dimension *dimension =
			&match->dimensions[match->n_dimensions];
		const struct ynode *key = node->items[i];
		char *value;

		if (key->skip || value_text(ld, node->items[i + 1], key->text,
					    inner, &value) < 0)
			continue;
		dimension->name = tree_strdup(ld, key->text);
		dimension->value = value;
		match->n_dimensions++;
	}
}

void schema_load_match(struct loader *ld, struct ynode *node,
		       const char *section, struct config_match *match)
{
	enum {
		NAME,
		KIND,
		STATE,
		NAMESPACE,
		METRIC,
		REGION,
		ACCOUNT,
		TOPIC,
		SEVERITY,
		DIMENSIONS,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[NAME] = "name",         [KIND] = "kind",
		[STATE] = "state",       [NAMESPACE] = "namespace",
		[METRIC] = "metric",     [REGION] = "region",
		[ACCOUNT] = "account",   [TOPIC] = "topic",
		[SEVERITY] = "severity", [DIMENSIONS] = "dimensions",
	};
	struct config_globs *globs[COUNT] = {
		[NAMESPACE] = &match->namespaces,
		[METRIC] = &match->metrics,
		[REGION] = &match->regions,
		[ACCOUNT] = &match->accounts,
		[TOPIC] = &match->topics,
		[SEVERITY] = &match->severities,
	};
	struct ynode *v[COUNT];
	char inner[LABEL_MAX], hint[HINT_MAX];

	if (!tree_expect_type(ld, node, YNODE_MAP, "match", section))
		return;
	tree_format_label(inner, "match", section);
	tree_map_fields(ld, node, inner, keys, COUNT, v);

	if (v[NAME])
		load_pattern(ld, v[NAME], inner, &match->name);
	if (v[KIND])
		load_kinds(ld, v[KIND], inner, &match->kinds);
	if (v[STATE])
		load_states(ld, v[STATE], inner, &match->states);
	for (size_t i = 0; i < COUNT; i++)
		if (v[i] && globs[i])
			value_globs(ld, v[i], keys[i], inner, globs[i]);
	if (v[DIMENSIONS])
		load_dimensions(ld, v[DIMENSIONS], inner, match);

	/* GuardDuty's bands, as alert.h names them. */
	for (size_t i = 0; i < match->severities.n; i++) {
		const char *band = match->severities.v[i];
		size_t b;

		for (b = 0; b < CONFIG_BAND_COUNT; b++)
			if (!strcmp(band, band_names[b]))
				break;
		if (b < CONFIG_BAND_COUNT)
			continue;
		tree_report(ld, value_item(v[SEVERITY], i),
			    tree_hint_names(hint, band, band_names,
					    CONFIG_BAND_COUNT,
					    "GuardDuty's bands are"),
			    "'severity' in %s: unknown severity band '%s'",
			    inner, band);
	}
}

static void load_route(struct loader *ld, struct ynode *node, size_t index,
		       struct config_route *route, struct ynode **ret_name)
{
	struct ynode *v[ROUTE_KEY_COUNT], *name;
	char section[LABEL_MAX];

	route->line = node->line;
	route->column = node->column;
	snprintf(section, sizeof(section), "routes item %zu", index + 1);
	if (node->type != YNODE_MAP) {
		if (!node->skip)
			tree_report(
				ld, node,
				"each route is a map with name, match, target "
				"and severity",
				"%s must be a map, not %s", section,
				tree_node_kind(node));
		return;
	}

	/* Name the route in its other errors, once the name is known good. */
	name = tree_map_peek(node, "name");
	if (name && name->type == YNODE_SCALAR && !name->skip &&
	    !tree_is_null(name) && name->len > 0 &&
	    tree_name_check(ld, name, "route")) {
		route->name = tree_strdup(ld, name->text);
		snprintf(section, sizeof(section), "route '%s'", name->text);
		*ret_name = name;
		if (!strcmp(name->text, "default"))
			tree_report(ld, name, "choose another name",
				    "'default' is the name of default_route");
	}

	tree_map_fields(ld, node, section, route_keys, ROUTE_KEY_COUNT, v);
	if (tree_require(ld, node, v[ROUTE_NAME], "name", section) &&
	    !route->name)
		tree_scalar_text(ld, v[ROUTE_NAME], "name", section);
	if (v[ROUTE_MATCH])
		schema_load_match(ld, v[ROUTE_MATCH], section, &route->match);
	load_route_body(ld, node, v, section, route,
			&ld->config->default_route);
}

void schema_load_routes(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;
	struct tree_named *names;
	size_t n_names = 0;

	if (!tree_expect_type(ld, node, YNODE_LIST, "routes", NULL))
		return;

	c->routes = calloc(node->n + 1, sizeof(*c->routes));
	names = calloc(node->n + 1, sizeof(*names));
	if (!c->routes || !names) {
		ld->oom = true;
		free(names);
		return;
	}

	for (size_t i = 0; i < node->n; i++) {
		struct ynode *name = NULL;

		load_route(ld, node->items[i], i, &c->routes[c->n_routes++],
			   &name);
		if (name)
			names[n_names++] = (struct tree_named){
				.name = name->text, .node = name, .index = i};
	}

	tree_report_duplicates(ld, names, n_names, "route name");
	free(names);
}

void schema_release_match(struct config_match *match)
{
	if (match->name && match->name->is_regex)
		regfree(&match->name->regex);
	if (match->name)
		free(match->name->text);
	free(match->name);
	value_release_globs(&match->namespaces);
	value_release_globs(&match->metrics);
	value_release_globs(&match->regions);
	value_release_globs(&match->accounts);
	value_release_globs(&match->topics);
	value_release_globs(&match->severities);
	for (size_t i = 0; i < match->n_dimensions; i++) {
		free(match->dimensions[i].name);
		free(match->dimensions[i].value);
	}
	free(match->dimensions);
}

void schema_release_route(struct config_route *route)
{
	free(route->name);
	schema_release_match(&route->match);
	free(route->severity);
	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++)
		free(route->band_severity[band]);
	free(route->environment);
	free(route->insufficient_severity);
}
