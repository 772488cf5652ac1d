/*
 * commands: the subcommands of the alertbridge executable.
 * Each returns a process exit status.
 */
#ifndef ALERTBRIDGE_COMMANDS_H
#define ALERTBRIDGE_COMMANDS_H

#include "config.h"

/* alertbridge serve [-c FILE] [--not-production] [--port-file FILE] */
int command_serve(int argc, char **argv);

/* alertbridge incidents [-c FILE] [--url URL] */
int command_incidents(int argc, char **argv);

/* alertbridge ack|resolve KEY [-c FILE] [--url URL] */
int command_incident_action(int argc, char **argv);

/*
 * Loads -c FILE, or the default path, or the built-in example; prints
 * every error to standard error.
 */
int commands_load_config(const char *path, struct config **ret_config);

/* Where the configuration is looked for when -c is not given. */
#define COMMANDS_DEFAULT_CONFIG "/etc/alertbridge/alertbridge.yaml"

#endif
