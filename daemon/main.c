/*
 * alertbridge: routes AWS SNS alerts to PagerDuty.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_check.h"
#include "cmd_postmortem.h"
#include "cmd_queue.h"
#include "cmd_render.h"
#include "cmd_sendtest.h"
#include "commands.h"
#include "help.h"

static int command_version(int argc, char **argv)
{
	static const struct option options[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (opt == 'h') {
			help_print("version", stdout);
			return EXIT_SUCCESS;
		}
		help_print("version", stderr);
		return EXIT_FAILURE;
	}
	if (commands_no_operands(argc, argv, optind, NULL) < 0)
		return EXIT_FAILURE;

	printf("alertbridge %s\n", ALERTBRIDGE_VERSION);
	return EXIT_SUCCESS;
}

/* alertbridge help [COMMAND] */
static int command_help(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return help_print(NULL, stdout) < 0 ? EXIT_FAILURE
						    : EXIT_SUCCESS;
	if (help_print(argv[1], stdout) < 0) {
		fprintf(stderr, "alertbridge: unknown command '%s'\n", argv[1]);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"serve", command_serve},
	{"check-config", command_check_config},
	{"render", command_render},
	{"send-test", command_send_test},
	{"queue", command_queue},
	{"postmortem", command_postmortem},
	{"incidents", command_incidents},
	{"ack", command_ack},
	{"resolve", command_resolve},
	{"version", command_version},
	{"--version", command_version},
	{"help", command_help},
	{"--help", command_help},
	{"-h", command_help},
};

int main(int argc, char **argv)
{
	static char program[] = "alertbridge";

	if (argc < 2) {
		help_print(NULL, stderr);
		return EXIT_FAILURE;
	}

	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* getopt() starts its messages with argv[0]: make them
		 * start as every other message of ours does. */
		argv[1] = program;
		return commands[i].run(argc - 1, argv + 1);
	}

	fprintf(stderr, "alertbridge: unknown command '%s'\n", argv[1]);
	help_print(NULL, stderr);
	return EXIT_FAILURE;
}
