/*
 * help: looks the generated texts up by command name.
 */
#include "help.h"

#include <errno.h>
#include <string.h>

/* Generated: help_overview and help_commands[]. */
#include "alertbridge_help.h"

int help_print(const char *command, FILE *out)
{
	if (!command) {
		fputs(help_overview, out);
		return 0;
	}

	for (size_t i = 0; i < sizeof(help_commands) / sizeof(*help_commands);
	     i++) {
		if (strcmp(help_commands[i].name, command) == 0) {
			fputs(help_commands[i].text, out);
			return 0;
		}
	}
	return -ENOENT;
}
