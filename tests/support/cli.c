/*
 * cli: popen for the plain runs, forkpty for the interactive ones.
 */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

int cli_run(const char *args, char *out, size_t size)
{
	char cmd[4096];
	size_t len = 0;
	int status;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s </dev/null 2>&1", harness_binary(),
		 args);
	p = popen(cmd, "r");
	if (!p)
		return -1;

	while (len + 1 < size) {
		size_t n = fread(out + len, 1, size - 1 - len, p);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = '\0';

	/* Drain what did not fit, so the child never blocks on a pipe. */
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int cli_run_tty(const char *args, const char *prompt, const char *answer,
		char *out, size_t size, int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;
	bool answered = false;
	bool reaped;
	char cmd[4096];
	size_t len = 0;
	int master = -1;
	int status = 0;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "exec %s %s", harness_binary(), args);
	pid = forkpty(&master, NULL, NULL, NULL);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}

	out[0] = '\0';
	while (len + 1 < size) {
		struct pollfd pfd = {.fd = master, .events = POLLIN};
		int wait_ms = (int)(deadline - harness_mono_ms());
		ssize_t n;

		if (wait_ms <= 0 || poll(&pfd, 1, wait_ms) <= 0)
			break;
		/* EIO once the child has closed its side: it is done. */
		n = read(master, out + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = '\0';

		if (!answered && strstr(out, prompt)) {
			answered = true;
			if (write(master, answer, strlen(answer)) < 0)
				break;
		}
	}

	reaped = waitpid(pid, &status, WNOHANG) == pid;
	while (!reaped && harness_mono_ms() < deadline) {
		harness_pause_ms(10);
		reaped = waitpid(pid, &status, WNOHANG) == pid;
	}
	close(master);
	if (!reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
