/*
 * cli: the alertbridge binary run as an operator runs it, from the
 * tests: without a terminal (standard input /dev/null), or on a
 * pseudo-terminal that answers its prompts.
 */
#ifndef ALERTBRIDGE_CLI_H
#define ALERTBRIDGE_CLI_H

#include <stddef.h>

/*
 * Runs `alertbridge ARGS` (args as shell words) with standard input
 * from /dev/null; out gets standard output and standard error together
 * (cut at size - 1 bytes). Returns the exit status, or -1.
 */
int cli_run(const char *args, char *out, size_t size);

/*
 * The same on a pseudo-terminal (standard input, output and error):
 * once the output contains prompt, answer is typed. Returns the exit
 * status, or -1 when it does not end within timeout_ms.
 */
int cli_run_tty(const char *args, const char *prompt, const char *answer,
		char *out, size_t size, int timeout_ms);

#endif
