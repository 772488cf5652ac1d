/*
 * A long PagerDuty outage: 503 for many retries of every event, then
 * 202. Everything is delivered, in order per dedup_key, and the backoff
 * shows in the log (delivery.retry with a growing delay) and in
 * /metrics.
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
#include <curl/curl.h>
#include <jansson.h>

#include "scenario.h"

#define ALARMS 3
/* Retries each failing trigger must have had before PagerDuty is back. */
#define RETRIES         7
#define RETRY_LINES_MAX 256
/* The standard test configuration's retry policy. */
#define INITIAL_MS 100
#define MAX_MS     1000

struct retry_line {
	int alarm;
	bool resolve;
	int attempt;
	long delay_ms;
};

static void alarm_name(int i, char out[32])
{
	snprintf(out, 32, "backoff-%d", i);
}

/* The value of " key=" in line, unquoted, into out; false if absent. */
static bool field(const char *line, const char *key, char *out, size_t size)
{
	char pattern[32];
	const char *p;
	size_t n;

	snprintf(pattern, sizeof(pattern), " %s=", key);
	p = strstr(line, pattern);
	if (!p)
		return false;
	p += strlen(pattern);
	n = strcspn(p, " \n");
	if (n >= size)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* The delivery.retry lines of the log, in order; their number. */
static size_t read_retries(struct scenario *s, struct retry_line *out,
			   size_t max)
{
	char *log = harness_slurp(s->h.log_path, NULL);
	size_t n = 0;

	for (char *line = log; line && *line && n < max;) {
		char *end = strchr(line, '\n');
		char key[256];
		char action[32];
		char attempt[16];
		char delay[24];
		const char *name;

		if (end)
			*end = '\0';
		if (strstr(line, " event=delivery.retry ") &&
		    field(line, "dedup_key", key, sizeof(key)) &&
		    field(line, "action", action, sizeof(action)) &&
		    field(line, "attempt", attempt, sizeof(attempt)) &&
		    field(line, "delay_ms", delay, sizeof(delay)) &&
		    (name = strstr(key, ":backoff-"))) {
			out[n++] = (struct retry_line){
				.alarm = atoi(name + strlen(":backoff-")),
				.resolve = strcmp(action, "resolve") == 0,
				.attempt = atoi(attempt),
				.delay_ms = atol(delay),
			};
		}
		line = end ? end + 1 : NULL;
	}
	free(log);
	return n;
}

/* True once every alarm's trigger was retried at least RETRIES times. */
static bool all_retried(struct scenario *s)
{
	struct retry_line lines[RETRY_LINES_MAX];
	size_t n = read_retries(s, lines, RETRY_LINES_MAX);
	int most[ALARMS] = {0};

	for (size_t i = 0; i < n; i++)
		if (!lines[i].resolve &&
		    lines[i].attempt > most[lines[i].alarm])
			most[lines[i].alarm] = lines[i].attempt;
	for (int k = 0; k < ALARMS; k++)
		if (most[k] < RETRIES)
			return false;
	return true;
}

/* Checks the delays of one alarm's trigger: they grow, to the cap. */
static void check_backoff(const struct retry_line *lines, size_t n, int alarm)
{
	long delays[RETRY_LINES_MAX] = {0};
	int attempts = 0;

	for (size_t i = 0; i < n; i++) {
		if (lines[i].alarm != alarm || lines[i].resolve)
			continue;
		/* Attempts count up one at a time, none skipped. */
		assert_int_equal(lines[i].attempt, attempts + 1);
		delays[attempts++] = lines[i].delay_ms;
	}
	assert_true(attempts >= RETRIES);

	for (int a = 0; a < attempts; a++) {
		long base = INITIAL_MS << (a < 4 ? a : 4);

		if (base > MAX_MS)
			base = MAX_MS;
		/* Equal jitter: between half the exponential step and all
		 * of it, never past the cap. */
		assert_true(delays[a] >= base / 2);
		assert_true(delays[a] <= base);
		if (a > 0 && base < MAX_MS)
			assert_true(delays[a] >= delays[a - 1]);
	}
	/* The fourth wait is at least four times the first. */
	assert_true(delays[3] >= 4 * delays[0]);
}

static void test_long_outage_then_back(void **state)
{
	struct scenario *s = *state;
	struct retry_line lines[RETRY_LINES_MAX];
	int64_t deadline;
	size_t n_lines;
	size_t n;

	fakepd_script(s->pd, (struct fakepd_answer){503, -1, 0}, 1000);
	for (int k = 0; k < ALARMS; k++) {
		char name[32];
		char *alarm;
		char *ok;

		alarm_name(k, name);
		alarm = scenario_alarm(name, "ALARM", 0);
		ok = scenario_alarm(name, "OK", 60000);
		assert_int_equal(scenario_post(s, alarm), 200);
		assert_int_equal(scenario_post(s, ok), 200);
		free(alarm);
		free(ok);
	}

	deadline = harness_mono_ms() + 30000;
	while (!all_retried(s)) {
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(50);
	}
	/* Nothing got through the outage. */
	assert_int_equal(fakepd_accepted(s->pd), 0);
	fakepd_reset(s->pd);

	assert_int_equal(fakepd_wait_accepted(s->pd, 2 * ALARMS, 15000), 0);

	/* In order per dedup_key: no resolve before its trigger got in. */
	n = fakepd_count(s->pd);
	for (int k = 0; k < ALARMS; k++) {
		char name[32];
		char key[256];
		bool triggered = false;
		int resolves = 0;

		alarm_name(k, name);
		scenario_dedup_key(name, key);
		for (size_t i = 0; i < n; i++) {
			json_t *event = fakepd_request(s->pd, i);
			const char *action = json_string_value(
				json_object_get(event, "event_action"));

			if (strcmp(json_string_value(
					   json_object_get(event, "dedup_key")),
				   key) == 0) {
				if (strcmp(action, "resolve") == 0) {
					assert_true(triggered);
					resolves++;
				} else {
					assert_int_equal(resolves, 0);
					triggered |=
						fakepd_status(s->pd, i) == 202;
				}
			}
			json_decref(event);
		}
		assert_int_equal(resolves, 1);
	}

	n_lines = read_retries(s, lines, RETRY_LINES_MAX);
	for (int k = 0; k < ALARMS; k++)
		check_backoff(lines, n_lines, k);

	/* Every failed attempt was one retry, logged and counted. */
	assert_int_equal(n, n_lines + 2 * ALARMS);
	assert_true(
		harness_metric(&s->h, "alertbridge_delivery_retries_total") ==
		(double)n_lines);
	assert_true(harness_metric(&s->h, "alertbridge_deliveries_total{"
					  "result=\"server_error\"}") ==
		    (double)n_lines);
	assert_true(harness_metric(&s->h,
				   "alertbridge_deliveries_total{"
				   "result=\"accepted\"}") == 2 * ALARMS);

	/* And the outbox is empty (its gauge is refreshed every second). */
	deadline = harness_mono_ms() + 5000;
	while (harness_metric(&s->h, "alertbridge_outbox_depth") != 0) {
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(50);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_long_outage_then_back,
						scenario_setup,
						scenario_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
