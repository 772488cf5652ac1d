/*
 * commands: the subcommands of the alertbridge executable.
 * Each returns a process exit status.
 */
#ifndef ALERTBRIDGE_COMMANDS_H
#define ALERTBRIDGE_COMMANDS_H

/* alertbridge serve [-c FILE] [--not-production] [--port-file FILE] */
int command_serve(int argc, char **argv);

/* alertbridge check-config [-c FILE] [--message FILE] */
int command_check_config(int argc, char **argv);

/* Where the configuration is looked for when -c is not given. */
#define COMMANDS_DEFAULT_CONFIG "/etc/alertbridge/alertbridge.yaml"

#endif
