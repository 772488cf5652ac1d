/*
 * help: the --help text of every command, generated at build time from
 * doc/alertbridge.8.md, the same source as the alertbridge(8) manual
 * page, so that the two never say different things.
 */
#ifndef ALERTBRIDGE_HELP_H
#define ALERTBRIDGE_HELP_H

#include <stdio.h>

/*
 * Prints the help of command ("serve", "queue", ...), or the overview
 * of every command when command is NULL. -ENOENT (and nothing printed)
 * for a command the manual does not describe.
 */
int help_print(const char *command, FILE *out);

#endif
