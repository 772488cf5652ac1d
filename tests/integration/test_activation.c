/*
 * Socket activation: `systemd-socket-activate -l 127.0.0.1:PORT
 * alertbridge serve ...` binds the port, starts the daemon at the first
 * connection with the socket as fd 3 (LISTEN_FDS=1), and the daemon
 * serves /healthz and /sns on it, not on its configured address.
 *
 * Exits 77 (skipped) only where systemd-socket-activate is not
 * installed: Debian's systemd package has it, and scripts/install-deps
 * installs that.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "scenario.h"

#define WAIT_MS 15000

static const char *const activate_paths[] = {
	"/usr/bin/systemd-socket-activate",
	"/bin/systemd-socket-activate",
	"/lib/systemd/systemd-socket-activate",
	"/usr/lib/systemd/systemd-socket-activate",
};

static const char *activate_binary(void)
{
	for (size_t i = 0; i < sizeof(activate_paths) / sizeof(*activate_paths);
	     i++)
		if (access(activate_paths[i], X_OK) == 0)
			return activate_paths[i];
	return NULL;
}

/* A loopback port free a moment ago. */
static int free_port(void)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

static pid_t spawn_activated(struct scenario *s, const char *activate, int port,
			     const char *port_file)
{
	char listen[32];
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		int fd = open(s->h.log_path, O_WRONLY | O_CREAT | O_APPEND,
			      0644);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		execl(activate, activate, "-l", listen, harness_binary(),
		      "serve", "-c", s->h.config, "--not-production",
		      "--port-file", port_file, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void test_serves_on_the_passed_socket(void **state)
{
	const char *activate = state ? *state : NULL;
	struct harness_response r = {0};
	struct scenario s;
	char port_file[192];
	char *message;
	char *text;
	int64_t deadline;

	assert_int_equal(scenario_prepare(&s, NULL), 0);
	snprintf(port_file, sizeof(port_file), "%s/port", s.h.dir);

	s.h.port = free_port();
	assert_true(s.h.port > 0);
	s.h.pid = spawn_activated(&s, activate, s.h.port, port_file);
	assert_true(s.h.pid > 0);

	/* The first connection starts the daemon; it then answers. */
	deadline = harness_mono_ms() + WAIT_MS;
	while (harness_get(&s.h, "/healthz", &r) < 0 || r.status != 200) {
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(50);
	}
	assert_string_equal(r.body, "ok\n");
	assert_true(
		harness_log_wait(&s.h, "event=server.socket_activated", 1000));
	assert_true(
		harness_log_wait(&s.h, "listen=\"systemd socket\"", WAIT_MS));

	/* The port it reports is the one passed, not listen's :0. */
	text = harness_slurp(port_file, NULL);
	assert_non_null(text);
	assert_int_equal(atoi(text), s.h.port);
	free(text);

	message = scenario_alarm("activated", "ALARM", 0);
	assert_int_equal(scenario_post(&s, message), 200);
	free(message);
	assert_int_equal(fakepd_wait_accepted(s.pd, 1, WAIT_MS), 0);

	/* systemd-socket-activate execs the daemon in its own process. */
	assert_int_equal(harness_stop(&s.h), 0);
	assert_true(harness_log_wait(&s.h, "event=daemon.stopped", 1000));
	scenario_finish(&s);
}

int main(void)
{
	const char *activate = activate_binary();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_serves_on_the_passed_socket,
					  (void *)activate),
	};

	if (!activate) {
		fprintf(stderr,
			"systemd-socket-activate not found (looked in"
			" /usr/bin, /bin, /lib/systemd, /usr/lib/systemd);"
			" it comes with Debian's systemd package, which"
			" scripts/install-deps installs: skipped\n");
		return 77;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
