/*
 * config_pagerduty: the pagerduty: section (the Events API endpoint,
 * its limits and retries, the Webhooks v3 signing secret), the targets
 * (PagerDuty integrations and their routing keys) and the templates of
 * the events sent to them.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_schema.h"
#include "config_value.h"
#include "render.h"
#include "util.h"

#define PAGERDUTY_KEY_LEN 32

static bool host_is_loopback(const char *host)
{
	unsigned char address[16];

	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]"))
		return true;
	return inet_pton(AF_INET, host, address) == 1 && address[0] == 127;
}

/*
 * https:// for anything; plain http:// only to a loopback host, where a
 * test's fake PagerDuty or a local egress proxy listens.
 */
static bool events_url_valid(const char *url)
{
	const char *authority, *end;
	bool https = !strncmp(url, "https://", 8);
	char *host;
	bool ok;

	if (!https && strncmp(url, "http://", 7))
		return false;

	authority = url + (https ? 8 : 7);
	end = authority + strcspn(authority, "/?#");
	if (end == authority ||
	    memchr(authority, '@', (size_t)(end - authority)))
		return false;
	if (https)
		return true;

	if (authority[0] == '[') {
		const char *bracket;

		bracket = memchr(authority, ']', (size_t)(end - authority));
		if (!bracket)
			return false;
		end = bracket + 1;
	} else {
		end = authority + strcspn(authority, ":/?#");
	}
	host = strndup(authority, (size_t)(end - authority));
	ok = host && host_is_loopback(host);
	free(host);
	return ok;
}

static void load_retry(struct loader *ld, struct ynode *node)
{
	enum { INITIAL, MAX, DEADLINE, COUNT };
	static const char *const keys[COUNT] = {
		[INITIAL] = "initial",
		[MAX] = "max",
		[DEADLINE] = "deadline",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *section = "pagerduty.retry";

	if (!tree_expect_type(ld, node, YNODE_MAP, "retry", "pagerduty"))
		return;
	tree_map_fields(ld, node, section, keys, COUNT, v);

	if (v[INITIAL])
		value_duration(ld, v[INITIAL], "initial", section, 100, HOUR_MS,
			       &c->retry_initial_ms);
	if (v[MAX])
		value_duration(ld, v[MAX], "max", section, SECOND_MS, DAY_MS,
			       &c->retry_max_ms);
	if (v[DEADLINE])
		value_duration(ld, v[DEADLINE], "deadline", section, MINUTE_MS,
			       7 * DAY_MS, &c->retry_deadline_ms);

	if (c->retry_initial_ms > c->retry_max_ms)
		tree_report(ld,
			    v[INITIAL] ? v[INITIAL]
			    : v[MAX]   ? v[MAX]
				       : node,
			    "initial must not exceed max",
			    "%s: the first delay is longer than the longest",
			    section);
	if (c->retry_max_ms > c->retry_deadline_ms)
		tree_report(ld,
			    v[DEADLINE] ? v[DEADLINE]
			    : v[MAX]    ? v[MAX]
					: node,
			    "max must not exceed deadline",
			    "%s: the longest delay is longer than the deadline",
			    section);
}

void schema_load_pagerduty(struct loader *ld, struct ynode *node)
{
	enum {
		EVENTS_URL,
		TIMEOUT,
		RATE,
		RETRY,
		CLIENT,
		CLIENT_URL,
		WEBHOOK_SECRET, /* the four sources, in value_source order */
		COUNT = WEBHOOK_SECRET + VALUE_SOURCE_COUNT
	};
	static const char *const keys[COUNT] = {
		[EVENTS_URL] = "events_url",
		[TIMEOUT] = "timeout",
		[RATE] = "rate_per_minute",
		[RETRY] = "retry",
		[CLIENT] = "client",
		[CLIENT_URL] = "client_url",
		[WEBHOOK_SECRET + VALUE_SOURCE_FILE] = "webhook_secret_file",
		[WEBHOOK_SECRET + VALUE_SOURCE_ENV] = "webhook_secret_env",
		[WEBHOOK_SECRET + VALUE_SOURCE_CREDENTIAL] =
			"webhook_secret_credential",
		[WEBHOOK_SECRET + VALUE_SOURCE_INLINE] = "webhook_secret",
	};
	/*
	 * PagerDuty generates the signing secret of a Webhooks v3
	 * subscription; it is used as given, with no check of its shape.
	 */
	const struct value_secret_spec webhook_spec = {
		.keys = {keys[WEBHOOK_SECRET], keys[WEBHOOK_SECRET + 1],
			 keys[WEBHOOK_SECRET + 2], keys[WEBHOOK_SECRET + 3]},
		.noun = "webhook secret",
		.owner = "pagerduty",
		.allow_space = true,
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *section = "pagerduty";
	unsigned long rate;
	char *text = NULL;

	if (!tree_expect_type(ld, node, YNODE_MAP, section, NULL))
		return;
	tree_map_fields(ld, node, section, keys, COUNT, v);

	if (v[EVENTS_URL] &&
	    value_text(ld, v[EVENTS_URL], "events_url", section, &text) == 0) {
		if (events_url_valid(text))
			value_set_text(&c->events_url, text);
		else
			tree_report(ld, v[EVENTS_URL],
				    "use https://; plain http:// only to "
				    "127.0.0.1, [::1] or localhost",
				    "'events_url' in pagerduty: '%s' is not an "
				    "accepted URL",
				    text);
		if (c->events_url != text)
			free(text);
	}
	if (v[TIMEOUT])
		value_duration(ld, v[TIMEOUT], "timeout", section, SECOND_MS,
			       60 * SECOND_MS, &c->timeout_ms);
	if (v[RATE] && value_uint(ld, v[RATE], "rate_per_minute", section, 1,
				  10000, &rate) == 0)
		c->rate_per_minute = (unsigned int)rate;
	if (v[RETRY])
		load_retry(ld, v[RETRY]);
	if (v[CLIENT] &&
	    value_text(ld, v[CLIENT], "client", section, &text) == 0)
		value_set_text(&c->client, text);
	if (v[CLIENT_URL] &&
	    value_text(ld, v[CLIENT_URL], "client_url", section, &text) == 0) {
		value_set_text(&c->client_url, text);
		if (strncmp(text, "https://", 8) && strncmp(text, "http://", 7))
			tree_report(
				ld, v[CLIENT_URL], "write an http(s):// link",
				"'client_url' in pagerduty: '%s' is not a URL",
				text);
	}

	value_secret(ld, &v[WEBHOOK_SECRET], section, &webhook_spec,
		     &c->webhook_secret, NULL, NULL);
}

static const struct value_secret_spec routing_key_spec = {
	.keys = {[VALUE_SOURCE_FILE] = "routing_key_file",
		 [VALUE_SOURCE_ENV] = "routing_key_env",
		 [VALUE_SOURCE_CREDENTIAL] = "routing_key_credential",
		 [VALUE_SOURCE_INLINE] = "routing_key"},
	.noun = "routing key",
};

/* PagerDuty integration keys are 32 letters and digits. */
static bool key_looks_right(const char *key)
{
	if (strlen(key) != PAGERDUTY_KEY_LEN)
		return false;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p))
			return false;
	return true;
}

static void load_target(struct loader *ld, struct ynode *key,
			struct ynode *node, struct config_target *target)
{
	struct value_secret_spec spec = routing_key_spec;
	struct config_secret secret = {0};
	struct ynode *v[VALUE_SOURCE_COUNT];
	const struct ynode *from;
	char section[LABEL_MAX];
	char *origin;

	target->name = tree_strdup(ld, key->text);
	if (!target->name)
		return;
	tree_name_check(ld, key, "target");
	if (!tree_expect_type(ld, node, YNODE_MAP, key->text, "targets"))
		return;

	snprintf(section, sizeof(section), "target '%s'", key->text);
	tree_map_fields(ld, node, section, spec.keys, VALUE_SOURCE_COUNT, v);

	spec.owner = section;
	if (value_secret(ld, v, section, &spec, &secret, &from, &origin) < 0)
		return;
	if (!secret.value) {
		tree_report(ld, node,
			    "give one of routing_key_file, routing_key_env, "
			    "routing_key_credential or routing_key",
			    "target '%s' has no routing key", target->name);
		return;
	}

	target->routing_key = secret.value;
	target->key_source = secret.source;
	memcpy(target->fingerprint, secret.fingerprint,
	       sizeof(target->fingerprint));
	if (!key_looks_right(target->routing_key))
		tree_warn(ld, from,
			  "check that it is an Events API v2 integration key",
			  "the routing key of target '%s' from %s is not 32 "
			  "letters and digits",
			  target->name, origin);
	free(origin);
}

void schema_load_targets(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;

	if (!tree_expect_type(ld, node, YNODE_MAP, "targets", NULL))
		return;
	tree_check_keys(ld, node, "targets");

	c->targets = calloc(node->n / 2 + 1, sizeof(*c->targets));
	if (!c->targets) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		if (node->items[i]->skip)
			continue;
		load_target(ld, node->items[i], node->items[i + 1],
			    &c->targets[c->n_targets++]);
	}

	if (c->n_targets == 0)
		tree_report(ld, node, "add a target with its routing key",
			    "'targets' is empty");
}

/* A template text whose {{fields}} render knows. */
static int get_template_text(struct loader *ld, const struct ynode *node,
			     const char *key, const char *section,
			     char **ret_text)
{
	static const char *const fields[] = {
		"alert_name",       "severity",     "environment", "region",
		"metric_name",      "metric_value", "account",     "state",
		"old_state",        "reason",       "description", "namespace",
		"dimensions",       "alarm_arn",    "console_url", "threshold",
		"topic_arn",        "subject",      "kind",        "route",
		"timestamp",        "source",       "detail_type", "expression",
		"finding_severity",
	};
	const char *bad = NULL, *close = NULL;
	char field[NAME_MAX_LEN + 1], hint[HINT_MAX], probe[NAME_MAX_LEN + 8];
	size_t bad_len = 0, offset;
	char *text;
	int r;

	r = value_text(ld, node, key, section, &text);
	if (r < 0)
		return r;
	if (render_template_valid(text, &bad, &bad_len)) {
		*ret_text = text;
		return 0;
	}

	offset = bad ? (size_t)((uintptr_t)bad - (uintptr_t)text) : 0;
	if (offset > node->len)
		offset = 0;
	if (bad_len > NAME_MAX_LEN || offset + bad_len > node->len)
		bad_len = 0;
	memcpy(field, text + offset, bad_len);
	field[bad_len] = '\0';

	/* Suggest only names render itself accepts. */
	close = tree_suggest(field, fields, ARRAY_SIZE(fields));
	snprintf(probe, sizeof(probe), "{{%s}}", close ? close : "");
	if (close && render_template_valid(probe, &bad, &bad_len))
		snprintf(hint, sizeof(hint), "did you mean '%s'?", close);
	else
		snprintf(hint, sizeof(hint),
			 "check the name against the template fields");

	tree_report_at(ld, node->line, tree_scalar_column(node, offset), hint,
		       "unknown template field '%s' in '%s' of %s", field, key,
		       section);
	free(text);
	return -EINVAL;
}

static void load_details(struct loader *ld, struct ynode *node,
			 const char *section, struct config_template *tpl)
{
	char inner[LABEL_MAX];

	if (!tree_expect_type(ld, node, YNODE_MAP, "custom_details", section))
		return;
	tree_format_label(inner, "custom_details", section);
	tree_check_keys(ld, node, inner);

	tpl->details = calloc(node->n / 2 + 1, sizeof(*tpl->details));
	if (!tpl->details) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		struct config_detail *detail = &tpl->details[tpl->n_details];
		const struct ynode *key = node->items[i];
		char *value;

		if (key->skip ||
		    get_template_text(ld, node->items[i + 1], key->text, inner,
				      &value) < 0)
			continue;
		detail->key = tree_strdup(ld, key->text);
		detail->value = value;
		tpl->n_details++;
	}
}

static void load_template(struct loader *ld, struct ynode *key,
			  struct ynode *node, struct config_template *tpl)
{
	enum { SUMMARY, SOURCE, COMPONENT, GROUP, CLASS, DETAILS, COUNT };
	static const char *const keys[COUNT] = {
		[SUMMARY] = "summary",     [SOURCE] = "source",
		[COMPONENT] = "component", [GROUP] = "group",
		[CLASS] = "class",         [DETAILS] = "custom_details",
	};
	char **fields[COUNT] = {
		[SUMMARY] = &tpl->summary,     [SOURCE] = &tpl->source,
		[COMPONENT] = &tpl->component, [GROUP] = &tpl->group,
		[CLASS] = &tpl->class_name,
	};
	char section[LABEL_MAX];
	struct ynode *v[COUNT];

	tpl->name = tree_strdup(ld, key->text);
	if (!tpl->name)
		return;
	tree_name_check(ld, key, "template");
	if (!tree_expect_type(ld, node, YNODE_MAP, key->text, "templates"))
		return;

	snprintf(section, sizeof(section), "template '%s'", key->text);
	tree_map_fields(ld, node, section, keys, COUNT, v);
	tree_require(ld, node, v[SUMMARY], "summary", section);
	tree_require(ld, node, v[SOURCE], "source", section);

	for (size_t i = 0; i < COUNT; i++)
		if (v[i] && fields[i])
			get_template_text(ld, v[i], keys[i], section,
					  fields[i]);
	if (v[DETAILS])
		load_details(ld, v[DETAILS], section, tpl);
}

void schema_load_templates(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;

	if (!tree_expect_type(ld, node, YNODE_MAP, "templates", NULL))
		return;
	tree_check_keys(ld, node, "templates");

	c->templates = calloc(node->n / 2 + 1, sizeof(*c->templates));
	if (!c->templates) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		if (node->items[i]->skip)
			continue;
		load_template(ld, node->items[i], node->items[i + 1],
			      &c->templates[c->n_templates++]);
	}

	if (c->n_templates == 0)
		tree_report(ld, node, "add a template with summary and source",
			    "'templates' is empty");
}

void schema_unknown_target(struct loader *ld, const struct ynode *node,
			   const char *name, const char *section)
{
	const struct config *c = ld->config;
	const char **names = calloc(c->n_targets + 1, sizeof(*names));
	char hint[HINT_MAX] = "define it under targets";

	for (size_t i = 0; names && i < c->n_targets; i++)
		names[i] = c->targets[i].name;
	if (names && c->n_targets > 0)
		tree_hint_names(hint, name, names, c->n_targets,
				"the targets are");
	tree_report(ld, node, hint, "unknown target '%s' in %s", name, section);
	free(names);
}

void schema_unknown_template(struct loader *ld, const struct ynode *node,
			     const char *name, const char *section)
{
	const struct config *c = ld->config;
	const char **names = calloc(c->n_templates + 1, sizeof(*names));
	char hint[HINT_MAX] = "define it under templates";

	for (size_t i = 0; names && i < c->n_templates; i++)
		names[i] = c->templates[i].name;
	if (names && c->n_templates > 0)
		tree_hint_names(hint, name, names, c->n_templates,
				"the templates are");
	tree_report(ld, node, hint, "unknown template '%s' in %s", name,
		    section);
	free(names);
}

void schema_release_template(struct config_template *tpl)
{
	free(tpl->name);
	free(tpl->summary);
	free(tpl->source);
	free(tpl->component);
	free(tpl->group);
	free(tpl->class_name);
	for (size_t i = 0; i < tpl->n_details; i++) {
		free(tpl->details[i].key);
		free(tpl->details[i].value);
	}
	free(tpl->details);
}
