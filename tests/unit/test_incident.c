/*
 * Unit tests for lib/incident.c: the trigger/resolve decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "incident.h"

struct outcome {
	enum incident_action action;
	struct incident_state next;
	const char *why;
};

static struct outcome decide(enum incident_status status, int64_t at,
			     enum alert_state state, int64_t changed_at,
			     bool insufficient_triggers)
{
	struct incident_state current = {status, at};
	struct outcome o;

	incident_decide(&current, state, changed_at, insufficient_triggers,
			&o.action, &o.next, &o.why);
	return o;
}

static void test_alarm_triggers(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_NONE, 0, ALERT_STATE_ALARM, 100, false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);
	assert_int_equal(o.next.changed_at_ms, 100);

	/* A repeated ALARM sends again: PagerDuty folds it by dedup_key. */
	o = decide(INCIDENT_STATUS_TRIGGERED, 100, ALERT_STATE_ALARM, 200,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);

	/* A new ALARM after a resolve opens the incident again. */
	o = decide(INCIDENT_STATUS_RESOLVED, 300, ALERT_STATE_ALARM, 400,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);
}

static void test_ok_resolves_only_what_was_triggered(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_TRIGGERED, 100, ALERT_STATE_OK, 200, false);
	assert_int_equal(o.action, INCIDENT_ACTION_RESOLVE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_RESOLVED);

	o = decide(INCIDENT_STATUS_NONE, 0, ALERT_STATE_OK, 200, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_QUIET);
	assert_string_equal(o.why, "never-triggered");

	o = decide(INCIDENT_STATUS_RESOLVED, 200, ALERT_STATE_OK, 300, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_RESOLVED);
	assert_string_equal(o.why, "already-resolved");
}

static void test_stale_changes_nothing(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_RESOLVED, 500, ALERT_STATE_ALARM, 400,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_RESOLVED);
	assert_int_equal(o.next.changed_at_ms, 500);
	assert_string_equal(o.why, "stale");

	o = decide(INCIDENT_STATUS_TRIGGERED, 500, ALERT_STATE_OK, 499, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);
}

/*
 * Resolved by a person (the API or a PagerDuty webhook keeps the
 * ALARM's time): a late copy of that ALARM must not page again; only
 * a newer state change re-opens.
 */
static void test_repeated_change_never_reopens(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_RESOLVED, 500, ALERT_STATE_ALARM, 500,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_RESOLVED);
	assert_int_equal(o.next.changed_at_ms, 500);
	assert_string_equal(o.why, "repeated");

	o = decide(INCIDENT_STATUS_RESOLVED, 500, ALERT_STATE_NONE, 500, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);

	o = decide(INCIDENT_STATUS_RESOLVED, 500, ALERT_STATE_ALARM, 501,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);

	/* Reopened by a person after an OK: a copy of that OK keeps it
	 * open. */
	o = decide(INCIDENT_STATUS_TRIGGERED, 700, ALERT_STATE_OK, 700, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);
	assert_string_equal(o.why, "repeated");

	/* A copy of the ALARM of an open incident still refreshes it. */
	o = decide(INCIDENT_STATUS_TRIGGERED, 700, ALERT_STATE_ALARM, 700,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
}

static void test_insufficient_data(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_NONE, 0, ALERT_STATE_INSUFFICIENT_DATA, 10,
		   false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);

	/* Ignored, it leaves an open incident open. */
	o = decide(INCIDENT_STATUS_TRIGGERED, 5, ALERT_STATE_INSUFFICIENT_DATA,
		   10, false);
	assert_int_equal(o.action, INCIDENT_ACTION_NONE);
	assert_int_equal(o.next.status, INCIDENT_STATUS_TRIGGERED);

	o = decide(INCIDENT_STATUS_NONE, 0, ALERT_STATE_INSUFFICIENT_DATA, 10,
		   true);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
}

static void test_events_without_state_trigger(void **state)
{
	struct outcome o;

	(void)state;
	o = decide(INCIDENT_STATUS_NONE, 0, ALERT_STATE_NONE, 10, false);
	assert_int_equal(o.action, INCIDENT_ACTION_TRIGGER);
}

static void test_names(void **state)
{
	enum incident_status status;

	(void)state;
	for (int i = INCIDENT_STATUS_NONE; i < INCIDENT_STATUS_COUNT; i++) {
		assert_int_equal(incident_status_from_name(
					 incident_status_name(i), &status),
				 0);
		assert_int_equal(status, i);
	}
	assert_true(incident_status_from_name("open", &status) < 0);
	assert_string_equal(incident_action_name(INCIDENT_ACTION_RESOLVE),
			    "resolve");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alarm_triggers),
		cmocka_unit_test(test_ok_resolves_only_what_was_triggered),
		cmocka_unit_test(test_stale_changes_nothing),
		cmocka_unit_test(test_repeated_change_never_reopens),
		cmocka_unit_test(test_insufficient_data),
		cmocka_unit_test(test_events_without_state_trigger),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
