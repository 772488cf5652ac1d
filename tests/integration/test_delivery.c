/*
 * Delivery against a scripted fake PagerDuty: every answer the Events
 * API gives, and the order of events per dedup_key.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "scenario.h"

static void post_alarm(struct scenario *s, const char *name,
		       const char *alarm_state, int64_t offset_ms)
{
	char *message = scenario_alarm(name, alarm_state, offset_ms);

	assert_int_equal(scenario_post(s, message), 200);
	free(message);
}

static const char *field(json_t *event, const char *name)
{
	return json_string_value(json_object_get(event, name));
}

/* 400: the event will never be accepted. Dead letter, degraded. */
static void test_invalid_event_dead_lettered(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	fakepd_script(s->pd, (struct fakepd_answer){400, -1, 0}, 1);
	post_alarm(s, "cpu-high-a", "ALARM", 0);

	assert_true(
		harness_log_wait(&s->h, "event=delivery.dead_lettered", 10000));
	assert_true(harness_log_wait(&s->h, "payload.summary", 1000));
	assert_int_equal(fakepd_count(s->pd), 1);

	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "degraded"));
	assert_true(harness_metric(&s->h, "alertbridge_dead_letters_total") ==
		    1);

	/* The next alarm goes through as usual. */
	post_alarm(s, "cpu-high-b", "ALARM", 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 10000), 0);
}

/* 429 with Retry-After: waited out, then delivered. */
static void test_rate_limited_honours_retry_after(void **state)
{
	struct scenario *s = *state;
	int64_t start;
	int64_t took;

	fakepd_script(s->pd, (struct fakepd_answer){429, 2, 0}, 1);

	start = harness_mono_ms();
	post_alarm(s, "cpu-high-c", "ALARM", 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 15000), 0);
	took = harness_mono_ms() - start;

	/* Retry-After: 2 beats the 100 ms backoff of the test config. */
	assert_true(took >= 1900);
	assert_int_equal(fakepd_count(s->pd), 2);
	assert_int_equal(fakepd_status(s->pd, 0), 429);
	assert_true(harness_metric(&s->h, "alertbridge_deliveries_total{result="
					  "\"rate_limited\"}") == 1);
}

/* 500s: retried with backoff until accepted. */
static void test_server_errors_retried(void **state)
{
	struct scenario *s = *state;

	fakepd_script(s->pd, (struct fakepd_answer){500, -1, 0}, 3);
	post_alarm(s, "cpu-high-d", "ALARM", 0);

	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 20000), 0);
	assert_int_equal(fakepd_count(s->pd), 4);
	assert_true(harness_metric(&s->h,
				   "alertbridge_delivery_retries_total") >= 3);
	assert_true(harness_log_wait(&s->h, "event=delivery.retry", 1000));
}

/* A hanging PagerDuty: the timeout fires, ingest is never blocked. */
static void test_hang_times_out_without_blocking_ingest(void **state)
{
	struct scenario *s = *state;
	int64_t start;

	fakepd_script(s->pd, (struct fakepd_answer){202, -1, 8000}, 1);
	post_alarm(s, "cpu-high-e", "ALARM", 0);
	assert_int_equal(fakepd_wait(s->pd, 0, 100), 0);

	/* While the first delivery hangs, ingest answers at once. */
	start = harness_mono_ms();
	post_alarm(s, "cpu-high-f", "ALARM", 0);
	assert_true(harness_mono_ms() - start < 1500);

	/* The hung request times out (2 s), is counted, and sent again. */
	assert_true(harness_log_wait(&s->h, "Timeout was reached", 10000));
	assert_true(harness_metric(&s->h, "alertbridge_deliveries_total{"
					  "result=\"network\"}") == 1);
	assert_int_equal(fakepd_wait_accepted(s->pd, 2, 15000), 0);
}

/* A resolve never overtakes its trigger, even when the trigger fails. */
static void test_resolve_waits_for_trigger(void **state)
{
	struct scenario *s = *state;
	char key[256];
	size_t n;
	int trigger_at = -1;
	int resolve_at = -1;

	scenario_dedup_key("cpu-high-g", key);
	fakepd_script(s->pd, (struct fakepd_answer){503, -1, 0}, 2);
	post_alarm(s, "cpu-high-g", "ALARM", 0);
	post_alarm(s, "cpu-high-g", "OK", 60000);

	assert_int_equal(fakepd_wait_accepted(s->pd, 2, 15000), 0);
	n = fakepd_count(s->pd);
	for (size_t i = 0; i < n; i++) {
		json_t *event = fakepd_request(s->pd, i);

		assert_string_equal(field(event, "dedup_key"), key);
		if (strcmp(field(event, "event_action"), "resolve") == 0) {
			/* No resolve is even attempted before the trigger
			 * was accepted. */
			assert_true(trigger_at >= 0);
			resolve_at = (int)i;
		} else if (fakepd_status(s->pd, i) == 202) {
			trigger_at = (int)i;
		}
		json_decref(event);
	}
	assert_true(trigger_at >= 0 && resolve_at > trigger_at);
}

/* An OK for an alarm never triggered is recorded, not sent. */
static void test_ok_without_trigger_not_sent(void **state)
{
	struct scenario *s = *state;

	post_alarm(s, "cpu-high-h", "OK", 0);
	assert_true(harness_log_wait(&s->h, "why=never-triggered", 5000));
	post_alarm(s, "cpu-high-i", "ALARM", 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 10000), 0);
	assert_int_equal(fakepd_count(s->pd), 1);
}

/* Retry-After as an HTTP-date is honoured as well as delta-seconds. */
static void test_retry_after_http_date(void **state)
{
	struct scenario *s = *state;
	int64_t start;
	int64_t took;

	fakepd_retry_after_as_date(s->pd, true);
	fakepd_script(s->pd, (struct fakepd_answer){429, 3, 0}, 1);

	start = harness_mono_ms();
	post_alarm(s, "cpu-high-j", "ALARM", 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 15000), 0);
	took = harness_mono_ms() - start;

	/* Three seconds from a date in whole seconds: two at least. */
	assert_true(took >= 1900);
	assert_int_equal(fakepd_count(s->pd), 2);
	assert_int_equal(fakepd_status(s->pd, 0), 429);
}

/* A scenario whose delivery (and routing, unless NULL) the test sets. */
static void start_delivery(struct scenario *s, bool clocked,
			   const char *delivery, const char *routing)
{
	assert_int_equal(scenario_prepare_clocked(s), 0);
	assert_int_equal(harness_write_delivery_config(
				 &s->h, fakepd_url(s->pd), SCENARIO_AS_OF,
				 clocked ? s->clock_file : NULL, delivery,
				 routing),
			 0);
	assert_int_equal(harness_start(&s->h), 0);
}

static int setup_short_deadline(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	start_delivery(s, true,
		       "  rate_per_minute: 6000\n"
		       "  retry: {initial: 100ms, max: 1s, deadline: 1m}\n",
		       NULL);
	return 0;
}

/* PagerDuty failing past the retry deadline: dead letter, degraded. */
static void test_retry_deadline_dead_letters(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	fakepd_script(s->pd, (struct fakepd_answer){500, -1, 0}, 100);
	post_alarm(s, "cpu-high-k", "ALARM", 0);
	assert_true(harness_log_wait(&s->h, "event=delivery.retry", 10000));
	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_string_equal(r.body, "ready\n");

	/* The next attempt comes after the deadline. */
	assert_int_equal(scenario_set_clock(s, 2 * 60 * 1000), 0);
	assert_true(
		harness_log_wait(&s->h, "event=delivery.dead_lettered", 10000));
	assert_true(harness_log_wait(
		&s->h, "detail=\"gave up after 2 attempts: HTTP 500\"", 1000));
	assert_int_equal(fakepd_count(s->pd), 2);
	assert_int_equal(fakepd_accepted(s->pd), 0);
	assert_true(harness_metric(&s->h, "alertbridge_dead_letters_total") ==
		    1);
	assert_true(harness_metric(&s->h, "alertbridge_deliveries_total{result="
					  "\"server_error\"}") == 2);

	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "degraded"));
}

static int setup_shared_key(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	/* One event a second; backup shares the primary's routing key. */
	*state = s;
	start_delivery(s, false,
		       "  rate_per_minute: 60\n"
		       "  retry: {initial: 100ms, max: 1s, deadline: 1h}\n",
		       "targets:\n"
		       "  primary: {routing_key: " HARNESS_KEY_PRIMARY "}\n"
		       "  backup: {routing_key: " HARNESS_KEY_PRIMARY "}\n"
		       "  secondary: {routing_key: " HARNESS_KEY_SECONDARY "}\n"
		       "routes:\n"
		       "  - name: to-backup\n"
		       "    match: {name: \"b-*\"}\n"
		       "    target: backup\n"
		       "    severity: error\n"
		       "    template: ghostline\n"
		       "  - name: to-secondary\n"
		       "    match: {name: \"c-*\"}\n"
		       "    target: secondary\n"
		       "    severity: error\n"
		       "    template: ghostline\n"
		       "default_route:\n"
		       "  target: primary\n"
		       "  severity: error\n"
		       "  template: ghostline\n");
	return 0;
}

/*
 * Pacing is per routing key: events to one key go a second apart, two
 * targets sharing a key share that budget, another key is not held up.
 */
static void test_pacing_per_routing_key(void **state)
{
	struct scenario *s = *state;
	int64_t last = -1;
	int64_t first = -1;
	int64_t other = -1;
	int paced = 0;
	char *log;

	post_alarm(s, "a-1", "ALARM", 0);
	post_alarm(s, "b-1", "ALARM", 0);
	post_alarm(s, "a-2", "ALARM", 0);
	post_alarm(s, "b-2", "ALARM", 0);
	post_alarm(s, "c-1", "ALARM", 0);
	assert_int_equal(fakepd_wait(s->pd, 5, 10000), 0);

	for (size_t i = 0; i < 5; i++) {
		json_t *event = fakepd_request(s->pd, i);
		int64_t at = fakepd_received_ms(s->pd, i);

		/* A second apart, less what the loopback's jitter takes. */
		if (strcmp(field(event, "routing_key"), HARNESS_KEY_PRIMARY) ==
		    0) {
			if (last >= 0)
				assert_true(at - last >= 500);
			if (first < 0)
				first = at;
			last = at;
			paced++;
		} else {
			other = at;
		}
		json_decref(event);
	}
	assert_int_equal(paced, 4);
	assert_true(last - first >= 2700);
	assert_true(other >= 0 && other - first < 2000);

	/* The shared key is named by its fingerprint, never itself. */
	assert_true(harness_log_wait(&s->h,
				     "event=delivery.key_shared target=backup"
				     " key_fingerprint=",
				     1000));
	log = harness_slurp(s->h.log_path, NULL);
	assert_non_null(log);
	assert_null(strstr(log, HARNESS_KEY_PRIMARY));
	free(log);
}

/* A two-step policy on the real clock, the second step soon. */
static int setup_short_step(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	start_delivery(s, false,
		       "  rate_per_minute: 6000\n"
		       "  retry: {initial: 100ms, max: 1s, deadline: 1h}\n",
		       "targets:\n"
		       "  primary: {routing_key: " HARNESS_KEY_PRIMARY "}\n"
		       "  secondary: {routing_key: " HARNESS_KEY_SECONDARY "}\n"
		       "escalation_policies:\n"
		       "  quick:\n"
		       "    steps:\n"
		       "      - {after: 0m, target: primary}\n"
		       "      - {after: 2s, target: secondary}\n"
		       "default_route:\n"
		       "  escalation: quick\n"
		       "  severity: critical\n"
		       "  template: ghostline\n");
	return 0;
}

/*
 * The step an alarm's commit schedules fires at its deadline, though
 * the writer was idle with nothing due when the alarm came: it does not
 * wait for the writer's idle turn (ten seconds).
 */
static void test_new_step_fires_on_time(void **state)
{
	struct scenario *s = *state;
	int64_t start;
	json_t *event;

	start = harness_mono_ms();
	post_alarm(s, "cpu-high-s", "ALARM", 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 5000), 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, 2, 7000), 0);
	assert_true(harness_mono_ms() - start < 7000);

	event = fakepd_request(s->pd, 1);
	assert_string_equal(field(event, "routing_key"), HARNESS_KEY_SECONDARY);
	json_decref(event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_invalid_event_dead_lettered, scenario_setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_rate_limited_honours_retry_after, scenario_setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_server_errors_retried,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_hang_times_out_without_blocking_ingest,
			scenario_setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_resolve_waits_for_trigger,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_ok_without_trigger_not_sent, scenario_setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_http_date,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_deadline_dead_letters, setup_short_deadline,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_pacing_per_routing_key,
						setup_shared_key,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_new_step_fires_on_time,
						setup_short_step,
						scenario_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
