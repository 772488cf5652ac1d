/*
 * cmd_check: `alertbridge check-config`. Loads the configuration,
 * prints every error with file:line:column, and a summary of what it
 * says: targets (by key fingerprint, never the key), escalation
 * policies (each level with its delay, target and severity condition,
 * and the repeat), routes (match, target or policy, severity, template)
 * and silences. With --message, what `render` shows for that message.
 */
#ifndef ALERTBRIDGE_CMD_CHECK_H
#define ALERTBRIDGE_CMD_CHECK_H

/* alertbridge check-config [-c FILE] [--message FILE] [--quiet] */
int command_check_config(int argc, char **argv);

#endif
