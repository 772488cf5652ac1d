/*
 * commands: serve, and the configuration every command loads.
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
#include "help.h"
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
			fprintf(stderr, "alertbridge: %s: %s\n", source,
				strerror(-r));
		fprintf(stderr, "alertbridge: configuration not loaded\n");
	}
	config_diags_release(&errors);
	return r;
}

int commands_no_operands(int argc, char **argv, int first, const char *hint)
{
	if (first >= argc)
		return 0;

	fprintf(stderr, "alertbridge: unexpected argument '%s'%s%s%s\n",
		argv[first], hint ? " (" : "", hint ? hint : "",
		hint ? ")" : "");
	return -EINVAL;
}

static void usage_serve(FILE *out)
{
	help_print("serve", out);
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
				fprintf(stderr,
					"alertbridge: unknown log level"
					" '%s'\n",
					optarg);
				return EXIT_FAILURE;
			}
			log_set_level(level);
			break;
		case 'T':
			if (log_target_from_name(optarg, &log_target) < 0) {
				fprintf(stderr,
					"alertbridge: unknown log target"
					" '%s'\n",
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

	/* A file named without -c would otherwise be passed over, and the
	 * daemon run on another configuration. */
	if (commands_no_operands(argc, argv, optind, "did you mean -c FILE?") <
	    0)
		return EXIT_FAILURE;

	log_set_target(log_target);
	return service_run(&service);
}
