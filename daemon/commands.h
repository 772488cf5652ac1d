/*
 * commands: the subcommands of the alertbridge executable.
 * Each returns a process exit status.
 */
#ifndef ALERTBRIDGE_COMMANDS_H
#define ALERTBRIDGE_COMMANDS_H

#include "config.h"

/*
 * alertbridge serve [-c FILE] [--not-production] [--port-file FILE]
 *                   [--log-level LEVEL] [--log-target TARGET]
 */
int command_serve(int argc, char **argv);

/* alertbridge incidents [-c FILE] [--url URL] */
int command_incidents(int argc, char **argv);

/* alertbridge ack KEY [-c FILE] [--url URL] */
int command_ack(int argc, char **argv);

/* alertbridge resolve KEY [-c FILE] [--url URL] */
int command_resolve(int argc, char **argv);

/*
 * For a command that takes no more operands than those before
 * argv[first]: when there is one, names it in a one-line error on
 * standard error, with hint in parentheses when it is not NULL, and
 * returns -EINVAL. 0 when there is none.
 */
int commands_no_operands(int argc, char **argv, int first, const char *hint);

/*
 * Loads -c FILE (path), or the default path when path is NULL, or the
 * built-in example when no file is there. On failure *errors holds
 * every error found, each with file, line and column (none when the
 * file could not be read: the negative errno says why). *ret_source
 * names what was read, for messages.
 */
int commands_config_load(const char *path, struct config **ret_config,
			 struct config_diags *errors, const char **ret_source);

/* The same, printing every error to standard error. */
int commands_load_config(const char *path, struct config **ret_config);

/* Where the configuration is looked for when -c is not given. */
#define COMMANDS_DEFAULT_CONFIG "/etc/alertbridge/alertbridge.yaml"

#endif
