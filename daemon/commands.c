/*
 * commands: serve and check-config.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "service.h"
#include "sns.h"
#include "util.h"

extern const char embedded_config_yaml[];
extern const size_t embedded_config_yaml_len;

int commands_config_load(const char *path, struct config **ret_config,
			 struct config_diags *errors, const char **ret_source)
{
	struct stat st;

	if (!path && stat(COMMANDS_DEFAULT_CONFIG, &st) == 0)
		path = COMMANDS_DEFAULT_CONFIG;

	*ret_source = path ? path : "<embedded example>";
	if (path)
		return config_load_file(path, ret_config, errors);
	return config_load_string("<embedded example>", embedded_config_yaml,
				  embedded_config_yaml_len, ret_config, errors);
}

int commands_load_config(const char *path, struct config **ret_config)
{
	struct config_diags errors = {0};
	const char *source = NULL;
	int r;

	r = commands_config_load(path, ret_config, &errors, &source);
	if (r < 0) {
		if (errors.n > 0)
			config_diags_print(&errors, "error", stderr);
		else
			fprintf(stderr, "%s: %s\n", source, strerror(-r));
		fprintf(stderr, "configuration not loaded\n");
	}
	config_diags_release(&errors);
	return r;
}

static void usage_serve(FILE *out)
{
	fprintf(out,
		"Usage: alertbridge serve [-c FILE] [--not-production]"
		" [--port-file FILE]\n"
		"                         [--log-level LEVEL]"
		" [--log-target TARGET]\n"
		"\n"
		"Runs the daemon. Without -c it reads %s, or the\n"
		"example configuration built in when that file is absent.\n"
		"SIGHUP reloads the configuration; SIGTERM stops.\n"
		"\n"
		"  -c, --config FILE    the configuration file\n"
		"  --not-production     allow the test-only settings of a\n"
		"                       testing: section (refused otherwise)\n"
		"  --port-file FILE     write the bound port here once ready\n"
		"  --log-level LEVEL    debug, info, warning or error\n"
		"  --log-target TARGET  journal, console or auto (the\n"
		"                       journal when standard error is\n"
		"                       systemd's journal stream)\n",
		COMMANDS_DEFAULT_CONFIG);
}

int command_serve(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"not-production", no_argument, NULL, 'N'},
		{"port-file", required_argument, NULL, 'P'},
		{"log-level", required_argument, NULL, 'L'},
		{"log-target", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum log_target log_target = LOG_TARGET_AUTO;
	struct service_options service = {0};
	enum log_level level;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			service.config_path = optarg;
			break;
		case 'N':
			service.not_production = true;
			break;
		case 'P':
			service.port_file = optarg;
			break;
		case 'L':
			if (log_level_from_name(optarg, &level) < 0) {
				fprintf(stderr, "unknown log level: %s\n",
					optarg);
				return EXIT_FAILURE;
			}
			log_set_level(level);
			break;
		case 'T':
			if (log_target_from_name(optarg, &log_target) < 0) {
				fprintf(stderr, "unknown log target: %s\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'h':
			usage_serve(stdout);
			return EXIT_SUCCESS;
		default:
			usage_serve(stderr);
			return EXIT_FAILURE;
		}
	}

	log_set_target(log_target);
	return service_run(&service);
}

static void print_route(const char *name, const struct config_route *route)
{
	if (route->policy)
		printf("  %-22s -> escalation %s, severity %s\n", name,
		       route->policy->name, route->severity);
	else
		printf("  %-22s -> %s, severity %s\n", name,
		       route->target->name, route->severity);
}

static void print_summary(const struct config *config)
{
	printf("configuration: %s\n", config->path);
	printf("listen: %s:%d\nstate_dir: %s\n", config->listen_host,
	       config->listen_port, config->state_dir);
	printf("targets:\n");
	for (size_t i = 0; i < config->n_targets; i++)
		printf("  %-22s key %s (from %s)\n", config->targets[i].name,
		       config->targets[i].fingerprint,
		       config->targets[i].key_source);
	printf("escalation policies:\n");
	for (size_t i = 0; i < config->n_policies; i++) {
		const struct config_policy *p = &config->policies[i];

		printf("  %s:", p->name);
		for (size_t j = 0; j < p->n_steps; j++) {
			const struct config_step *step = &p->steps[j];

			printf("%s %s at %lldm", j ? "," : "",
			       step->target->name,
			       (long long)(step->after_ms / 60000));
			for (int k = 0;
			     step->severities && k < CONFIG_SEVERITY_COUNT; k++)
				if (step->severities & (1u << k))
					printf(" [%s]",
					       config_severity_name((
						       enum config_severity)k));
		}
		printf("\n");
	}
	printf("routes (first match wins):\n");
	for (size_t i = 0; i < config->n_routes; i++)
		print_route(config->routes[i].name, &config->routes[i]);
	print_route("(default)", &config->default_route);
	printf("silences: %zu configured\n", config->n_silences);
	printf("webhook: %s; api: %s\n",
	       config->webhook_secret.value ? "on" : "off",
	       config->api_token.value ? "on" : "off");
}

/* Prints the route a message file would take; an envelope or a body. */
static int explain_message(const struct config *config, const char *path)
{
	struct sns_message *msg = NULL;
	struct ingest_plan plan = {0};
	const char *reason = NULL;
	const char *message;
	const char *topic = NULL;
	const char *subject = NULL;
	size_t message_len;
	char *data = NULL;
	size_t len = 0;
	int r;

	r = util_read_file(path, config->max_body_bytes, &data, &len);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return r;
	}

	/* An SNS envelope gives its Message, topic and subject. */
	message = data;
	message_len = len;
	if (sns_parse(data, len, &msg, &reason) == 0) {
		message = msg->message;
		message_len = msg->message_len;
		topic = msg->topic_arn;
		subject = msg->subject;
	}

	r = ingest_plan_message(config, message, message_len, topic, subject,
				app_wall_ms(), &plan);
	if (r < 0) {
		fprintf(stderr, "%s: cannot plan: %s\n", path, strerror(-r));
		goto out;
	}

	printf("message: %s\n", path);
	printf("  kind: %s\n  alert: %s\n  state: %s\n",
	       alert_kind_name(plan.alert->kind),
	       plan.alert->name ? plan.alert->name : "",
	       alert_state_name(plan.alert->state));
	printf("  route: %s\n  target: %s\n  severity: %s\n", plan.route->name,
	       plan.route->target->name, plan.severity);
	printf("  dedup_key: %s\n  payload: %s\n", plan.dedup_key,
	       plan.payload_json);
out:
	ingest_plan_release(&plan);
	sns_message_free(msg);
	free(data);
	return r;
}

int command_check_config(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"message", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *message_path = NULL;
	struct config *config = NULL;
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
		case 'h':
			printf("Usage: alertbridge check-config [-c FILE]"
			       " [--message FILE] [--quiet]\n\n"
			       "Checks the configuration and prints every"
			       " error with file:line:column.\n"
			       "With --message, shows the route a message"
			       " (an SNS envelope or a bare\n"
			       "Message body) would take and the payload it"
			       " would render.\n");
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}

	if (commands_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;

	config_diags_print(&config->warnings, "warning", stderr);
	if (!quiet)
		print_summary(config);
	if (message_path && explain_message(config, message_path) < 0)
		status = EXIT_FAILURE;
	if (status == EXIT_SUCCESS && !quiet)
		printf("configuration OK\n");

	config_free(config);
	return status;
}
