/*
 * alertbridge: routes AWS SNS alerts to PagerDuty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: alertbridge COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  serve          run the daemon\n"
		"  check-config   check the configuration; show a message's"
		" route\n"
		"  incidents      list the running daemon's open incidents\n"
		"  ack KEY        acknowledge an incident: stop its"
		" escalation\n"
		"  resolve KEY    resolve an incident at every level paged\n"
		"  version        print the version\n"
		"\n"
		"'alertbridge COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	const char *command;

	if (argc < 2) {
		usage(stderr);
		return EXIT_FAILURE;
	}

	command = argv[1];
	if (strcmp(command, "serve") == 0)
		return command_serve(argc - 1, argv + 1);
	if (strcmp(command, "check-config") == 0)
		return command_check_config(argc - 1, argv + 1);
	if (strcmp(command, "incidents") == 0)
		return command_incidents(argc - 1, argv + 1);
	if (strcmp(command, "ack") == 0 || strcmp(command, "resolve") == 0)
		return command_incident_action(argc - 1, argv + 1);
	if (strcmp(command, "version") == 0 ||
	    strcmp(command, "--version") == 0) {
		printf("alertbridge %s\n", ALERTBRIDGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
	    strcmp(command, "-h") == 0) {
		usage(stdout);
		return EXIT_SUCCESS;
	}

	fprintf(stderr, "alertbridge: unknown command '%s'\n", command);
	usage(stderr);
	return EXIT_FAILURE;
}
