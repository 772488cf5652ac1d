/*
 * cmd_check: the configuration checked and summarised.
 */
#include "cmd_check.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "alert.h"
#include "cmd_render.h"
#include "commands.h"
#include "config.h"
#include "help.h"
#include "operator.h"
#include "timeutil.h"

static const char *const band_names[CONFIG_BAND_COUNT] = {"low", "medium",
							  "high", "critical"};

/* Appends "label a|b|c" for a list of globs, when it has any. */
static void print_globs(const char *label, const struct config_globs *globs,
			const char **sep, FILE *out)
{
	if (globs->n == 0)
		return;
	fprintf(out, "%s%s ", *sep, label);
	for (size_t i = 0; i < globs->n; i++)
		fprintf(out, "%s%s", i ? "|" : "", globs->v[i]);
	*sep = ", ";
}

static void print_bits(const char *label, unsigned int bits, int count,
		       const char *(*name)(int), const char **sep, FILE *out)
{
	const char *bar = "";

	if (!bits)
		return;
	fprintf(out, "%s%s ", *sep, label);
	for (int i = 0; i < count; i++) {
		if (!(bits & (1u << i)))
			continue;
		fprintf(out, "%s%s", bar, name(i));
		bar = "|";
	}
	*sep = ", ";
}

static const char *kind_name(int kind)
{
	return alert_kind_name((enum alert_kind)kind);
}

static const char *state_name(int state)
{
	return alert_state_name((enum alert_state)state);
}

static const char *severity_name(int severity)
{
	return config_severity_name((enum config_severity)severity);
}

/* What a match accepts, on one line: "anything" when it is empty. */
static void print_match(const struct config_match *m, FILE *out)
{
	const char *sep = "";

	if (m->name) {
		fprintf(out, "name %s", m->name->text);
		sep = ", ";
	}
	print_bits("kind", m->kinds, ALERT_KIND_COUNT, kind_name, &sep, out);
	print_bits("state", m->states, ALERT_STATE_COUNT, state_name, &sep,
		   out);
	print_globs("namespace", &m->namespaces, &sep, out);
	print_globs("metric", &m->metrics, &sep, out);
	print_globs("region", &m->regions, &sep, out);
	print_globs("account", &m->accounts, &sep, out);
	print_globs("topic", &m->topics, &sep, out);
	print_globs("severity", &m->severities, &sep, out);
	for (size_t i = 0; i < m->n_dimensions; i++) {
		fprintf(out, "%sdimension %s=%s", sep, m->dimensions[i].name,
			m->dimensions[i].value);
		sep = ", ";
	}
	if (!*sep)
		fprintf(out, "anything");
}

static void print_route(const char *label, const struct config_route *route,
			bool is_default, FILE *out)
{
	if (route->policy)
		fprintf(out, "  %-22s -> escalation %s", label,
			route->policy->name);
	else
		fprintf(out, "  %-22s -> %s", label, route->target->name);
	fprintf(out, ", severity %s",
		route->severity ? route->severity : "(none)");
	if (route->template)
		fprintf(out, ", template %s", route->template->name);
	fprintf(out, "\n");

	if (!is_default) {
		fprintf(out, "      match: ");
		print_match(&route->match, out);
		fprintf(out, "\n");
	}
	if (route->match.kinds & (1u << ALERT_KIND_GUARDDUTY)) {
		fprintf(out, "      GuardDuty bands:");
		for (int b = 0; b < CONFIG_BAND_COUNT; b++)
			fprintf(out, "%s %s %s", b ? "," : "", band_names[b],
				route->band_severity[b]);
		fprintf(out, "\n");
	}
	if (route->insufficient == CONFIG_INSUFFICIENT_TRIGGER)
		fprintf(out, "      INSUFFICIENT_DATA: trigger at %s\n",
			route->insufficient_severity);
}

static void print_policy(const struct config_policy *p, FILE *out)
{
	char text[32];

	fprintf(out, "  %s:\n", p->name);
	for (size_t j = 0; j < p->n_steps; j++) {
		const struct config_step *step = &p->steps[j];

		operator_duration(step->after_ms, text);
		fprintf(out, "    level %zu: %s, %s%s", j + 1,
			step->target->name, step->after_ms ? "after " : "",
			step->after_ms ? text : "at once");
		print_bits(", only for", step->severities,
			   CONFIG_SEVERITY_COUNT, severity_name,
			   &(const char *){""}, out);
		fprintf(out, "\n");
	}
	operator_duration(p->repeat_interval_ms, text);
	if (p->repeat)
		fprintf(out, "    repeat: %u more time%s, every %s\n",
			p->repeat, p->repeat == 1 ? "" : "s", text);
	else
		fprintf(out, "    repeat: none\n");
}

static void print_secret(const char *label, const struct config_secret *s,
			 FILE *out)
{
	if (s->value)
		fprintf(out, "%s: on (%s %s, from %s)\n", label, "fingerprint",
			s->fingerprint, s->source);
	else
		fprintf(out, "%s: off\n", label);
}

static void print_summary(const struct config *config, FILE *out)
{
	char timeout[32];
	char initial[32];
	char max[32];
	char deadline[32];

	operator_duration(config->timeout_ms, timeout);
	operator_duration(config->retry_initial_ms, initial);
	operator_duration(config->retry_max_ms, max);
	operator_duration(config->retry_deadline_ms, deadline);

	fprintf(out, "configuration: %s\n", config->path);
	fprintf(out, "listen: %s:%d\nstate_dir: %s\n", config->listen_host,
		config->listen_port, config->state_dir);
	fprintf(out,
		"pagerduty: %s, timeout %s,\n  %u events a minute per"
		" routing key, retries from %s up to %s apart, for %s\n",
		config->events_url, timeout, config->rate_per_minute, initial,
		max, deadline);

	fprintf(out, "targets:\n");
	for (size_t i = 0; i < config->n_targets; i++)
		fprintf(out, "  %-22s key %s (from %s)\n",
			config->targets[i].name, config->targets[i].fingerprint,
			config->targets[i].key_source);

	fprintf(out, "escalation policies:%s\n",
		config->n_policies ? "" : " none");
	for (size_t i = 0; i < config->n_policies; i++)
		print_policy(&config->policies[i], out);

	fprintf(out, "routes (first match wins):\n");
	for (size_t i = 0; i < config->n_routes; i++)
		print_route(config->routes[i].name, &config->routes[i], false,
			    out);
	print_route("(default)", &config->default_route, true, out);

	fprintf(out, "silences: %zu configured\n", config->n_silences);
	for (size_t i = 0; i < config->n_silences; i++) {
		const struct config_silence *s = &config->silences[i];
		char start[32];
		char end[32];

		timeutil_format(s->start_ms, start);
		timeutil_format(s->end_ms, end);
		fprintf(out, "  %s: %s to %s, ", s->name, start, end);
		print_match(&s->match, out);
		fprintf(out, "\n");
	}
	print_secret("webhook", &config->webhook_secret, out);
	print_secret("api", &config->api_token, out);
}

int command_check_config(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"message", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"not-production", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *message_path = NULL;
	struct config *config = NULL;
	bool not_production = false;
	bool quiet = false;
	int status = EXIT_SUCCESS;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:m:qh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'm':
			message_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'N':
			not_production = true;
			break;
		case 'h':
			help_print("check-config", stdout);
			return EXIT_SUCCESS;
		default:
			help_print("check-config", stderr);
			return EXIT_FAILURE;
		}
	}
	/* A file named without -c would otherwise be passed over, and
	 * another configuration checked and found OK. */
	if (commands_no_operands(argc, argv, optind, "did you mean -c FILE?") <
	    0)
		return EXIT_FAILURE;

	if (operator_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;

	config_diags_print(&config->warnings, "warning", stderr);

	/* What serve would refuse is not OK: an operator checks, then
	 * restarts, and the daemon would stay down. */
	if (config->testing && !not_production) {
		fprintf(stderr,
			"%s: error: the configuration has a testing: section,"
			" which `alertbridge serve` refuses without"
			" --not-production (give --not-production here too"
			" if this is not production)\n",
			config->path);
		status = EXIT_FAILURE;
	}
	if (!quiet)
		print_summary(config, stdout);
	if (message_path &&
	    cmd_render_explain(config, message_path, NULL, stdout) < 0)
		status = EXIT_FAILURE;
	if (status == EXIT_SUCCESS && !quiet)
		printf("configuration OK\n");

	config_free(config);
	return status;
}
