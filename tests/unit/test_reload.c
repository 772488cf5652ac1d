/*
 * Unit tests for daemon/reload.c: the keys a reload may not change
 * keep their running values; the rest of the new configuration stays
 * as loaded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reload.h"

static struct config *load(const char *top, const char *summary)
{
	char text[2048];
	struct config *config = NULL;

	snprintf(text, sizeof(text),
		 "%s"
		 "sns: {topics: [\"arn:aws:sns:us-east-1:123456789012:t\"]}\n"
		 "targets:\n"
		 "  primary: {routing_key: primary0000000000000000000000001}\n"
		 "templates:\n"
		 "  t: {summary: \"%s\", source: test}\n"
		 "default_route: {target: primary, severity: error,"
		 " template: t}\n",
		 top, summary);
	assert_int_equal(config_load_string("/etc/ab/test.yaml", text,
					    strlen(text), &config, NULL),
			 0);
	return config;
}

static void test_restart_keys_kept(void **state)
{
	struct config *running =
		load("listen: 127.0.0.1:8080\n"
		     "state_dir: /var/lib/ab\n"
		     "limits: {max_connections: 64, connection_timeout: 10s,"
		     " max_connections_per_ip: 16, request_timeout: 20s}\n",
		     "old");
	struct config *next =
		load("listen: 0.0.0.0:9090\n"
		     "state_dir: /srv/ab\n"
		     "limits: {max_connections: 8, connection_timeout: 3s,"
		     " max_connections_per_ip: 0, request_timeout: 2s,"
		     " max_body: 64KiB}\n",
		     "new");
	const char *reason = NULL;

	assert_int_equal(reload_check(running, next, false, &reason), 0);
	assert_string_equal(next->listen_host, "127.0.0.1");
	assert_int_equal(next->listen_port, 8080);
	assert_string_equal(next->state_dir, "/var/lib/ab");
	assert_int_equal(next->max_connections, 64);
	assert_int_equal(next->max_connections_per_ip, 16);
	assert_int_equal(next->connection_timeout_s, 10);
	assert_int_equal(next->request_timeout_ms, 20000);

	/* What a reload may change is left as loaded. */
	assert_string_equal(next->templates[0].summary, "new");
	assert_int_equal(next->max_body_bytes, 64 * 1024);

	config_free(running);
	config_free(next);
}

static void test_unchanged_is_quiet(void **state)
{
	struct config *running = load("", "same");
	struct config *next = load("", "same");
	const char *reason = NULL;

	assert_int_equal(reload_check(running, next, false, &reason), 0);
	assert_string_equal(next->listen_host, running->listen_host);
	assert_string_equal(next->state_dir, running->state_dir);
	config_free(running);
	config_free(next);
}

static void test_testing_needs_not_production(void **state)
{
	struct config *running = load("", "old");
	struct config *next = load("testing: {skip_signature: true}\n", "new");
	const char *reason = NULL;

	assert_int_equal(reload_check(running, next, false, &reason), -EPERM);
	assert_non_null(strstr(reason, "--not-production"));
	assert_int_equal(reload_check(running, next, true, &reason), 0);
	config_free(running);
	config_free(next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_keys_kept),
		cmocka_unit_test(test_unchanged_is_quiet),
		cmocka_unit_test(test_testing_needs_not_production),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
