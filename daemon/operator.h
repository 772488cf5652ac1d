/*
 * operator: what the operator commands (check-config, render,
 * send-test, queue, postmortem) share: terminal prompts, durations for
 * people, the store opened without creating it, and the configuration
 * loaded with its test clock.
 */
#ifndef ALERTBRIDGE_OPERATOR_H
#define ALERTBRIDGE_OPERATOR_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/*
 * Loads the configuration as commands_load_config() does and, when it
 * names a test clock (testing.clock_file), reads "now" from there as the
 * daemon would, so that ages and deadlines agree with the daemon's.
 */
int operator_load_config(const char *path, struct config **ret_config);

/* True when standard input and standard error are both terminals: a
 * question can be asked and answered. */
bool operator_interactive(void);

/*
 * Asks question on standard error and reads the answer from standard
 * input; true only for "y" or "yes". Call only when interactive.
 */
bool operator_confirm(const char *question);

/* Prints prompt on standard error and waits for a line (or the end of
 * input) on standard input. */
void operator_wait_enter(const char *prompt);

/* Who runs the command: the user behind sudo, else the login name. */
const char *operator_user(void);

/* The host name, cut to fit; "unknown" when it cannot be had. */
#define OPERATOR_HOST_MAX 256
void operator_host(char out[OPERATOR_HOST_MAX]);

/* operator_user() and the host name, as "user@host", cut to fit. */
#define OPERATOR_WHO_MAX 64
void operator_who(char out[OPERATOR_WHO_MAX]);

/*
 * A duration as people read it: "0s", "250ms", "45s", "15m", "1h30m",
 * "2d3h". Negative durations read as their absolute value.
 */
void operator_duration(int64_t ms, char out[32]);

/*
 * Opens the store of state directory dir for an operator command:
 * -ENOENT (and nothing created) when dir holds no store yet. Read-only
 * when ret_lock_fd is NULL: reading never migrates or writes a store
 * that a running daemon holds. Otherwise it first takes the state
 * directory's lock (store_lock(), -EBUSY while a daemon runs there),
 * which *ret_lock_fd holds until the caller closes it. On failure it
 * has told the operator why on standard error.
 */
int operator_store_open(const char *dir, int *ret_lock_fd,
			struct store **ret_store);

#endif
