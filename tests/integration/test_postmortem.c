/*
 * `alertbridge postmortem` on incidents the real daemon handled, on a
 * clock the test moves: triggered, escalated, acknowledged in PagerDuty
 * and resolved by the alarm's OK; still open; fired twice; unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pwd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "scenario.h"

#define MIN     (60 * 1000LL)
#define OUT_MAX (64 * 1024)

static char out[OUT_MAX];

static int setup(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	return s && scenario_start_escalation(s, NULL) == 0 ? 0 : -1;
}

static void at(struct scenario *s, int64_t offset_ms)
{
	assert_int_equal(scenario_set_clock(s, offset_ms), 0);
}

static void raise_alarm(struct scenario *s, const char *name, const char *state,
			int64_t offset_ms)
{
	char *message = scenario_alarm(name, state, offset_ms);

	assert_int_equal(scenario_post(s, message), 200);
	free(message);
}

/* Waits until the fake PagerDuty has had n requests with action. */
static void wait_requests(struct scenario *s, const char *action, size_t n)
{
	int64_t deadline = harness_mono_ms() + 10000;

	for (;;) {
		size_t found = 0;

		for (size_t i = 0; i < fakepd_count(s->pd); i++) {
			json_t *event = fakepd_request(s->pd, i);

			if (strcmp(json_string_value(json_object_get(
					   event, "event_action")),
				   action) == 0)
				found++;
			json_decref(event);
		}
		if (found >= n)
			return;
		assert_true(harness_mono_ms() < deadline);
		fakepd_wait(s->pd, fakepd_count(s->pd) + 1, 50);
	}
}

static int postmortem(struct scenario *s, const char *key, const char *extra)
{
	char args[1024];

	snprintf(args, sizeof(args), "postmortem '%s' %s", key, extra);
	return cli_run(args, out, sizeof(out));
}

static int postmortem_config(struct scenario *s, const char *key)
{
	char extra[256];

	snprintf(extra, sizeof(extra), "-c %s", s->h.config);
	return postmortem(s, key, extra);
}

/* The lines of want appear in out in this order. */
static void in_order(const char *const *want, size_t n)
{
	const char *p = out;

	for (size_t i = 0; i < n; i++) {
		const char *found = strstr(p, want[i]);

		if (!found)
			fail_msg("missing, or out of order: %s\n---\n%s",
				 want[i], out);
		p = found + strlen(want[i]);
	}
}

static void test_triggered_escalated_acked_resolved(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	static char first[OUT_MAX];
	char key[256];
	char extra[256];
	static const char *const report[] = {
		"# Post-mortem: crit-pm\n",
		"| Date | 2022-09-25 |\n",
		"| Incident (dedup key) | "
		"arn:aws:cloudwatch:us-east-1:123456789012:alarm:crit-pm |\n",
		"| Severity | critical |\n",
		"| Route | default |\n",
		"| Escalation policy | runbook |\n",
		"| Opened | 2022-09-25 18:51:00 UTC |\n",
		"| Acknowledged | 2022-09-25 19:11:00 UTC, after 20m, via"
		" webhook by Tenex Engineer |\n",
		"| Resolved | 2022-09-25 19:16:00 UTC |\n",
		"| Duration | 25m |\n",
		"| Pages sent | 2 |\n",
		"## Impact\n",
		"_To be written",
		"## Timeline (UTC)\n",
		"| 2022-09-25 18:51:00 | Alarm fired (SNS message msg-",
		"| 2022-09-25 18:51:00 | Paged level 1 (primary) |\n",
		"| 2022-09-25 19:06:00 | Paged level 2 (secondary) |\n",
		"| 2022-09-25 19:11:00 | Acknowledged via webhook by Tenex"
		" Engineer |\n",
		"| 2022-09-25 19:16:00 | Resolved: the alarm returned to OK"
		" (SNS message msg-",
		"## Root cause\n",
		"## Action items\n",
	};

	scenario_dedup_key("crit-pm", key);
	raise_alarm(s, "crit-pm", "ALARM", 0);
	wait_requests(s, "trigger", 1);
	at(s, 15 * MIN);
	wait_requests(s, "trigger", 2);
	at(s, 20 * MIN);
	assert_int_equal(scenario_webhook(s, "incident.acknowledged", key,
					  "wh-pm-1", HARNESS_WEBHOOK_SECRET,
					  &r),
			 200);
	at(s, 25 * MIN);
	raise_alarm(s, "crit-pm", "OK", 25 * MIN);
	wait_requests(s, "resolve", 2);

	assert_int_equal(postmortem_config(s, key), 0);
	in_order(report, sizeof(report) / sizeof(*report));
	assert_null(strstr(out, "earlier episodes"));
	strcpy(first, out);

	/* A level's key names the same incident. */
	strcat(key, "/level-2");
	assert_int_equal(postmortem_config(s, key), 0);
	assert_string_equal(out, first);

	/* From the store alone, with the daemon stopped: the same. */
	assert_int_equal(harness_stop(&s->h), 0);
	snprintf(extra, sizeof(extra), "--store %s", s->h.state_dir);
	assert_int_equal(postmortem(s, key, extra), 0);
	assert_string_equal(out, first);
}

/* Who the command line says it is: user@host, as `ack` sends it. */
static void who(char ret[128])
{
	const char *user = getenv("SUDO_USER");
	struct passwd *pw = getpwuid(getuid());
	char host[64] = "";

	if (!user || !*user)
		user = pw ? pw->pw_name : "unknown";
	gethostname(host, sizeof(host) - 1);
	snprintf(ret, 128, "%s@%s", user, host);
}

static void test_ongoing(void **state)
{
	struct scenario *s = *state;
	char acked[256];
	char row[256];
	char args[512];
	char key[256];
	char actor[128];
	const char *const report[] = {
		acked,
		"| Resolved | not yet |\n",
		"| Duration | ongoing (open for 7m so far) |\n",
		"| Pages sent | 1 |\n",
		row,
	};

	/* The API's acknowledgement names who asked, as the client said. */
	who(actor);
	snprintf(acked, sizeof(acked),
		 "| Acknowledged | 2022-09-25 18:56:00 UTC, after 5m, via api"
		 " by %s |\n",
		 actor);
	snprintf(row, sizeof(row),
		 "| 2022-09-25 18:56:00 | Acknowledged via api by %s |\n",
		 actor);

	scenario_dedup_key("crit-po", key);
	raise_alarm(s, "crit-po", "ALARM", 0);
	at(s, 5 * MIN);
	snprintf(args, sizeof(args), "ack '%s' -c %s --url http://127.0.0.1:%d",
		 key, s->h.config, s->h.port);
	assert_int_equal(cli_run(args, out, sizeof(out)), 0);
	at(s, 7 * MIN);

	assert_int_equal(postmortem_config(s, key), 0);
	in_order(report, sizeof(report) / sizeof(*report));
}

/* PagerDuty down: the page is in the timeline, and the report says it
 * has not been accepted. */
static void test_page_not_accepted(void **state)
{
	struct scenario *s = *state;
	char key[256];

	fakepd_script(s->pd, (struct fakepd_answer){503, 3600, 0}, 1);
	scenario_dedup_key("crit-pd", key);
	raise_alarm(s, "crit-pd", "ALARM", 0);
	assert_int_equal(fakepd_wait(s->pd, 1, 10000), 0);

	assert_int_equal(postmortem_config(s, key), 0);
	assert_non_null(strstr(out, "| Pages sent | 1 |\n"));
	assert_non_null(strstr(out, "| Not accepted by PagerDuty | 1 still in"
				    " the outbox, 0 dead-lettered"));
}

/* Fired, recovered, fired again: the report is of the latest. */
static void test_latest_episode(void **state)
{
	struct scenario *s = *state;
	char key[256];
	static const char *const report[] = {
		"| Opened | 2022-09-25 18:53:00 UTC |\n",
		"| Resolved | not yet |\n",
		"| 2022-09-25 18:53:00 | Alarm fired",
		"| 2022-09-25 18:53:00 | Paged level 1 (primary) |\n",
		"_3 records of earlier episodes of this incident are not"
		" shown._\n",
	};

	scenario_dedup_key("crit-pr", key);
	raise_alarm(s, "crit-pr", "ALARM", 0);
	at(s, 1 * MIN);
	raise_alarm(s, "crit-pr", "OK", 1 * MIN);
	at(s, 2 * MIN);
	raise_alarm(s, "crit-pr", "ALARM", 2 * MIN);

	assert_int_equal(postmortem_config(s, key), 0);
	in_order(report, sizeof(report) / sizeof(*report));
	assert_null(strstr(out, "18:52:00 | Resolved"));
}

static void test_unknown_key(void **state)
{
	struct scenario *s = *state;
	char extra[256];

	assert_int_equal(postmortem_config(s, "no-such-incident"), 1);
	assert_non_null(strstr(out, "no incident has the key"
				    " no-such-incident"));

	snprintf(extra, sizeof(extra), "--store %s/nowhere", s->h.dir);
	assert_int_equal(postmortem(s, "x", extra), 1);
	assert_non_null(strstr(out, "no store in"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_triggered_escalated_acked_resolved, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_ongoing, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_page_not_accepted, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_latest_episode, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup,
						scenario_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
