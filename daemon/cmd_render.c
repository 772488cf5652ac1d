/*
 * cmd_render: what a message would do, shown without doing it.
 */
#include "cmd_render.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "app.h"
#include "commands.h"
#include "escalation.h"
#include "help.h"
#include "incident.h"
#include "ingest.h"
#include "operator.h"
#include "pager.h"
#include "render.h"
#include "sns.h"
#include "timeutil.h"
#include "util.h"

/* A message file read and unwrapped: the Message and its context. */
struct message_file {
	char *data;
	struct sns_message *sns;
	json_t *record; /* a Lambda-shaped record, when it was one */
	const char *shape;
	const char *message;
	size_t message_len;
	const char *topic;
	const char *subject;
	const char *message_id;
};

static void message_file_release(struct message_file *f)
{
	sns_message_free(f->sns);
	json_decref(f->record);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

/* {"Records": [{"Sns": {...}}]}, as Lambda receives SNS messages. */
static bool unwrap_record(struct message_file *f)
{
	json_t *root = json_loadb(f->data, strlen(f->data), 0, NULL);
	json_t *sns = json_object_get(
		json_array_get(json_object_get(root, "Records"), 0), "Sns");
	const char *message =
		json_string_value(json_object_get(sns, "Message"));

	if (!message) {
		json_decref(root);
		return false;
	}

	f->record = root;
	f->shape = "Lambda-shaped SNS record";
	f->message = message;
	f->message_len = strlen(message);
	f->topic = json_string_value(json_object_get(sns, "TopicArn"));
	f->subject = json_string_value(json_object_get(sns, "Subject"));
	f->message_id = json_string_value(json_object_get(sns, "MessageId"));
	return true;
}

static int message_file_read(const struct config *config, const char *path,
			     struct message_file *f)
{
	const char *reason = NULL;
	size_t len = 0;
	int r;

	memset(f, 0, sizeof(*f));
	r = util_read_file(path, config->max_body_bytes, &f->data, &len);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s: %s\n", path, strerror(-r));
		return r;
	}

	if (sns_parse(f->data, len, &f->sns, &reason) == 0) {
		f->shape = "SNS envelope";
		f->message = f->sns->message;
		f->message_len = f->sns->message_len;
		f->topic = f->sns->topic_arn;
		f->subject = f->sns->subject;
		f->message_id = f->sns->message_id;
		return 0;
	}
	if (unwrap_record(f))
		return 0;

	f->shape = "Message body";
	f->message = f->data;
	f->message_len = len;
	return 0;
}

/* What the daemon would decide for this alert on an incident that is
 * open (for an OK) or new (for anything else). */
static enum incident_action decide(const struct ingest_plan *plan,
				   const char **ret_why)
{
	struct incident_state current = {INCIDENT_STATUS_NONE, 0};
	struct incident_state next;
	enum incident_action action;

	if (plan->alert->state == ALERT_STATE_OK)
		current.status = INCIDENT_STATUS_TRIGGERED;
	incident_decide(
		&current, plan->alert->state, plan->alert->changed_at_ms,
		plan->route->insufficient == CONFIG_INSUFFICIENT_TRIGGER,
		&action, &next, ret_why);
	return action;
}

/* The event body with a stand-in for the routing key, which stays out
 * of every output. */
static int event_text(const struct config *config,
		      const struct config_target *target, const char *action,
		      const char *dedup_key, const char *payload_json,
		      char **ret_body)
{
	char stand_in[40];
	json_t *payload = json_loads(payload_json, 0, NULL);
	size_t len = 0;
	int r;

	if (!payload)
		return -EINVAL;
	snprintf(stand_in, sizeof(stand_in), "<key %s>", target->fingerprint);
	r = render_event_body(payload, stand_in, action, dedup_key,
			      config->client, config->client_url, ret_body,
			      &len);
	json_decref(payload);
	return r;
}

static void print_when(const struct escalation_page *page, FILE *out)
{
	char after[32];

	if (page->due_ms == 0) {
		fprintf(out, "at once");
		return;
	}
	operator_duration(page->due_ms, after);
	fprintf(out, "after %s unacknowledged", after);
}

/*
 * One page: its level, target, key fingerprint, dedup key, when it
 * fires, and its event. page is NULL for a route without escalation.
 */
static int print_page(const struct config *config,
		      const struct ingest_plan *plan,
		      const struct config_target *target,
		      const struct escalation_page *page, const char *action,
		      FILE *out)
{
	struct escalation_page only = {.target = target};
	char *level_payload = NULL;
	char *level_key = NULL;
	char *body = NULL;
	const char *payload = plan->payload_json;
	int r;

	if (!page)
		page = &only;
	r = escalation_level_key(plan->dedup_key, page->step, page->pass,
				 &level_key);
	if (r < 0)
		goto out;

	/* The pager marks every page of a policy with its level; a
	 * resolve carries the payload as it is. */
	if (page != &only && strcmp(action, "trigger") == 0) {
		level_payload = pager_level_payload(plan->payload_json, page,
						    plan->alert->changed_at_ms);
		if (!level_payload) {
			r = -ENOMEM;
			goto out;
		}
		payload = level_payload;
	}

	r = event_text(config, target, action, level_key, payload, &body);
	if (r < 0)
		goto out;

	if (page == &only)
		fprintf(out, "page: %s, key %s, ", target->name,
			target->fingerprint);
	else if (page->pass == 0)
		fprintf(out, "level %u: %s, key %s, ", page->step + 1,
			target->name, target->fingerprint);
	else
		fprintf(out, "level %u, pass %u: %s, key %s, ", page->step + 1,
			page->pass + 1, target->name, target->fingerprint);
	if (strcmp(action, "trigger") == 0)
		print_when(page, out);
	else
		fprintf(out, "%s",
			page->step == 0 && page->pass == 0 ? "always paged"
							   : "if it was paged");
	fprintf(out, "\n  dedup_key: %s\n  event: %s\n", level_key, body);
out:
	if (r < 0)
		fprintf(stderr, "alertbridge: cannot render the event: %s\n",
			strerror(-r));
	free(level_payload);
	free(level_key);
	free(body);
	return r;
}

/* Every page the policy sends while nobody acknowledges, in order. */
static void policy_pages(const struct config_policy *policy,
			 enum config_severity severity,
			 struct escalation_page *pages, size_t *ret_n)
{
	struct escalation_state state;
	size_t first = 0;
	size_t rest = 0;

	escalation_start(policy, severity, 0, &state, pages, &first);
	escalation_tick(policy, severity, ESCALATION_NEVER - 1, &state,
			pages + first, &rest);
	*ret_n = first + rest;
}

/* The steps a policy passes over for this severity: never paged. */
static void print_skipped(const struct config_policy *policy,
			  enum config_severity severity, FILE *out)
{
	for (size_t i = 0; i < policy->n_steps; i++) {
		const struct config_step *step = &policy->steps[i];
		const char *sep = "";

		if (!step->severities || (step->severities & (1u << severity)))
			continue;
		fprintf(out, "level %zu: %s, never paged: only for", i + 1,
			step->target->name);
		for (int k = 0; k < CONFIG_SEVERITY_COUNT; k++) {
			if (!(step->severities & (1u << k)))
				continue;
			fprintf(out, "%s %s", sep,
				config_severity_name((enum config_severity)k));
			sep = ",";
		}
		fprintf(out, " (this incident is %s)\n",
			config_severity_name(severity));
	}
}

static int print_pages(const struct config *config,
		       const struct ingest_plan *plan,
		       enum incident_action action, FILE *out)
{
	const struct config_policy *policy = plan->route->policy;
	const char *name =
		action == INCIDENT_ACTION_RESOLVE ? "resolve" : "trigger";
	struct escalation_page pages[ESCALATION_PAGES_MAX];
	enum config_severity severity = CONFIG_SEVERITY_ERROR;
	char opened[32];
	size_t n = 0;
	int r = 0;

	if (!policy)
		return print_page(config, plan, plan->route->target, NULL, name,
				  out);

	config_severity_from_name(plan->severity, &severity);
	policy_pages(policy, severity, pages, &n);
	timeutil_format(plan->alert->changed_at_ms, opened);
	if (action == INCIDENT_ACTION_RESOLVE)
		fprintf(out,
			"escalation %s: the resolve goes to every level"
			" that was paged\n",
			policy->name);
	else
		fprintf(out,
			"escalation %s: each level is paged in turn until"
			" someone acknowledges;\ndelays count from the"
			" trigger (taken as %s)\n",
			policy->name, opened);

	for (size_t i = 0; i < n && r == 0; i++)
		r = print_page(config, plan, pages[i].target, &pages[i], name,
			       out);
	if (r == 0)
		print_skipped(policy, severity, out);
	return r;
}

int cmd_render_explain(const struct config *config, const char *path,
		       const char *route_name, FILE *out)
{
	const struct config_route *route = NULL;
	struct ingest_plan plan = {0};
	struct message_file file;
	enum incident_action action;
	const char *why = NULL;
	int r;

	if (route_name) {
		route = config_find_route(config, route_name);
		if (!route) {
			fprintf(stderr, "alertbridge: no route is named %s\n",
				route_name);
			return -ENOENT;
		}
	}

	r = message_file_read(config, path, &file);
	if (r < 0)
		return r;

	r = ingest_plan_on_route(config, route, file.message, file.message_len,
				 file.topic, file.subject, app_wall_ms(),
				 &plan);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s: cannot plan: %s\n", path,
			strerror(-r));
		goto out;
	}

	fprintf(out, "message: %s (%s)\n", path, file.shape);
	if (file.topic)
		fprintf(out, "  topic: %s\n", file.topic);
	if (file.message_id)
		fprintf(out, "  message_id: %s\n", file.message_id);
	fprintf(out, "  kind: %s\n  alert: %s\n  state: %s\n",
		alert_kind_name(plan.alert->kind),
		plan.alert->name ? plan.alert->name : "",
		alert_state_name(plan.alert->state));
	fprintf(out, "route: %s (%s)\n", plan.route->name,
		route ? "forced with --route"
		: plan.route == &config->default_route
			? "no route matched"
			: "the first that matches");
	if (plan.route->policy)
		fprintf(out, "  escalation: %s\n", plan.route->policy->name);
	fprintf(out, "  target: %s\n  severity: %s\n", plan.route->target->name,
		plan.severity);
	fprintf(out, "dedup_key: %s\npayload: %s\n", plan.dedup_key,
		plan.payload_json);

	action = decide(&plan, &why);
	switch (action) {
	case INCIDENT_ACTION_TRIGGER:
		fprintf(out, "action: trigger (%s)\n", why);
		break;
	case INCIDENT_ACTION_RESOLVE:
		fprintf(out,
			"action: resolve (%s), when the incident is"
			" open; nothing is sent otherwise\n",
			why);
		break;
	case INCIDENT_ACTION_NONE:
		fprintf(out, "action: none (%s): nothing is sent\n", why);
		goto out;
	}
	r = print_pages(config, &plan, action, out);
out:
	ingest_plan_release(&plan);
	message_file_release(&file);
	return r;
}

int command_render(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"message", required_argument, NULL, 'm'},
		{"route", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *message_path = NULL;
	const char *route_name = NULL;
	struct config *config = NULL;
	int status;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:m:r:h", options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'm':
			message_path = optarg;
			break;
		case 'r':
			route_name = optarg;
			break;
		case 'h':
			help_print("render", stdout);
			return EXIT_SUCCESS;
		default:
			help_print("render", stderr);
			return EXIT_FAILURE;
		}
	}
	if (commands_no_operands(argc, argv, optind,
				 "did you mean --message FILE?") < 0)
		return EXIT_FAILURE;
	if (!message_path) {
		fprintf(stderr, "alertbridge: render needs --message FILE\n");
		help_print("render", stderr);
		return EXIT_FAILURE;
	}

	if (operator_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;
	config_diags_print(&config->warnings, "warning", stderr);

	status =
		cmd_render_explain(config, message_path, route_name, stdout) < 0
			? EXIT_FAILURE
			: EXIT_SUCCESS;
	config_free(config);
	return status;
}
