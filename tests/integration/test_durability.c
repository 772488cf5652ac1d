/*
 * Durability: what was answered 200 reaches PagerDuty across a kill -9
 * and a PagerDuty outage, in order per dedup_key.
 */
#include <errno.h>
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

#define ALARMS 20

static void alarm_name(int i, char out[32])
{
	snprintf(out, 32, "durable-%02d", i);
}

/*
 * Polls until every alarm has an accepted trigger followed by an
 * accepted resolve, checking that no resolve was sent before its
 * trigger was accepted.
 */
static bool all_resolved_in_order(struct scenario *s, int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	for (;;) {
		bool triggered[ALARMS] = {false};
		bool resolved[ALARMS] = {false};
		size_t n = fakepd_count(s->pd);
		int done = 0;

		for (size_t i = 0; i < n; i++) {
			json_t *event = fakepd_request(s->pd, i);
			const char *key = json_string_value(
				json_object_get(event, "dedup_key"));
			const char *action = json_string_value(
				json_object_get(event, "event_action"));
			const char *name = strrchr(key, ':') + 1;
			int k = atoi(name + strlen("durable-"));
			bool accepted = fakepd_status(s->pd, i) == 202;

			if (strcmp(action, "resolve") == 0) {
				assert_true(triggered[k]);
				resolved[k] |= accepted;
			} else {
				/* A trigger again after the resolve would
				 * re-open the incident. */
				assert_false(resolved[k]);
				triggered[k] |= accepted;
			}
			json_decref(event);
		}
		for (int k = 0; k < ALARMS; k++)
			done += resolved[k];
		if (done == ALARMS)
			return true;
		if (harness_mono_ms() > deadline)
			return false;
		fakepd_wait(s->pd, n + 1, 50);
	}
}

static void post_all(struct scenario *s)
{
	for (int i = 0; i < ALARMS; i++) {
		char name[32];
		char *alarm;
		char *ok;

		alarm_name(i, name);
		alarm = scenario_alarm(name, "ALARM", 0);
		ok = scenario_alarm(name, "OK", 60000);
		assert_int_equal(scenario_post(s, alarm), 200);
		assert_int_equal(scenario_post(s, ok), 200);
		free(alarm);
		free(ok);
	}
}

/* kill -9 while deliveries are under way; the restart finishes them. */
static void test_kill_during_delivery(void **state)
{
	struct scenario *s = *state;

	/* A slow PagerDuty keeps events in flight at the kill. */
	fakepd_script(s->pd, (struct fakepd_answer){202, -1, 300}, 200);
	post_all(s);
	harness_kill(&s->h);

	assert_true(fakepd_accepted(s->pd) < 2 * ALARMS);
	fakepd_reset(s->pd);

	assert_int_equal(harness_start(&s->h), 0);
	assert_true(all_resolved_in_order(s, 30000));
}

/* A PagerDuty outage of a few seconds loses nothing. */
static void test_outage(void **state)
{
	struct scenario *s = *state;

	fakepd_script(s->pd, (struct fakepd_answer){503, -1, 0}, 60);
	post_all(s);
	assert_true(all_resolved_in_order(s, 30000));
	assert_true(harness_metric(&s->h,
				   "alertbridge_delivery_retries_total") > 0);
}

/* SIGTERM while deliveries are under way: a clean exit, then resumed. */
static void test_clean_stop_resumes(void **state)
{
	struct scenario *s = *state;

	fakepd_script(s->pd, (struct fakepd_answer){202, -1, 500}, 200);
	post_all(s);
	assert_int_equal(harness_stop(&s->h), 0);
	assert_true(harness_log_wait(&s->h, "event=daemon.stopped", 1000));
	fakepd_reset(s->pd);

	assert_int_equal(harness_start(&s->h), 0);
	assert_true(all_resolved_in_order(s, 30000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_during_delivery,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_outage, scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_clean_stop_resumes,
						scenario_setup,
						scenario_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
