/*
 * `alertbridge queue` against the real daemon and the fake PagerDuty:
 * the outbox and the dead letters listed, shown, retried and dropped
 * through the daemon's API while it runs, and on the store itself once
 * it is stopped; destructive actions confirmed on a terminal or with
 * --yes, refused otherwise; the store never written beside the daemon.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "scenario.h"

#define OUT_MAX (64 * 1024)

static char out[OUT_MAX];

static int setup(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	return s && scenario_start_escalation(s, NULL) == 0 ? 0 : -1;
}

/* `alertbridge queue ARGS` at the daemon's address. */
static int queue(struct scenario *s, const char *args)
{
	char line[1024];

	snprintf(line, sizeof(line), "queue %s -c %s --url http://127.0.0.1:%d",
		 args, s->h.config, s->h.port);
	return cli_run(line, out, sizeof(out));
}

/* `alertbridge queue ARGS --store STATE_DIR`, with no configuration. */
static int queue_store(struct scenario *s, const char *args)
{
	char line[1024];

	snprintf(line, sizeof(line), "queue %s --store %s", args,
		 s->h.state_dir);
	return cli_run(line, out, sizeof(out));
}

static int queue_tty(struct scenario *s, const char *args, const char *answer)
{
	char line[1024];

	snprintf(line, sizeof(line), "queue %s -c %s --url http://127.0.0.1:%d",
		 args, s->h.config, s->h.port);
	return cli_run_tty(line, "[y/N]", answer, out, sizeof(out), 20000);
}

/* The rows the API lists at path, parsed. */
static json_t *api_rows(struct scenario *s, const char *path)
{
	struct harness_response r;
	json_t *list;
	json_t *rows;

	assert_int_equal(harness_get_auth(&s->h, path, HARNESS_API_TOKEN, &r),
			 0);
	assert_int_equal(r.status, 200);
	list = json_loads(r.body, 0, NULL);
	assert_non_null(list);
	rows = json_incref(json_object_get(list, "rows"));
	json_decref(list);
	return rows;
}

/* Waits until path lists a row whose field is value; returns its id. */
static int64_t wait_row(struct scenario *s, const char *path, const char *field,
			const char *value)
{
	int64_t deadline = harness_mono_ms() + 10000;

	for (;;) {
		json_t *rows = api_rows(s, path);
		size_t i;
		json_t *row;

		json_array_foreach(rows, i, row)
		{
			const char *v =
				json_string_value(json_object_get(row, field));

			if (v && strstr(v, value)) {
				int64_t id = json_integer_value(
					json_object_get(row, "id"));

				json_decref(rows);
				return id;
			}
		}
		json_decref(rows);
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(20);
	}
}

static size_t count_rows(struct scenario *s, const char *path)
{
	json_t *rows = api_rows(s, path);
	size_t n = json_array_size(rows);

	json_decref(rows);
	return n;
}

/* Waits until path lists no row: a delivered row goes away only after
 * PagerDuty's answer is in. */
static void wait_empty(struct scenario *s, const char *path)
{
	int64_t deadline = harness_mono_ms() + 10000;

	while (count_rows(s, path) > 0) {
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(20);
	}
}

/* Waits until /readyz answers 200 with exactly body. */
static void wait_ready(struct scenario *s, const char *body)
{
	int64_t deadline = harness_mono_ms() + 10000;
	struct harness_response r;

	for (;;) {
		assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
		if (r.status == 200 && strcmp(r.body, body) == 0)
			return;
		if (harness_mono_ms() >= deadline)
			fail_msg("/readyz still answers %ld: %s", r.status,
				 r.body);
		harness_pause_ms(20);
	}
}

/* An alarm whose trigger PagerDuty answers with a 500 and Retry-After
 * of an hour: it waits in the outbox. */
static int64_t pending_row(struct scenario *s, const char *name)
{
	char *message = scenario_alarm(name, "ALARM", 0);
	size_t before = fakepd_count(s->pd);

	fakepd_script(s->pd, (struct fakepd_answer){500, 3600, 0}, 1);
	assert_int_equal(scenario_post(s, message), 200);
	free(message);
	assert_int_equal(fakepd_wait(s->pd, before + 1, 10000), 0);
	return wait_row(s, "/api/queue", "last_error", "HTTP 500");
}

/* An alarm whose trigger PagerDuty refuses: a dead letter. */
static int64_t dead_letter(struct scenario *s, const char *name)
{
	char *message = scenario_alarm(name, "ALARM", 0);

	fakepd_script(s->pd, (struct fakepd_answer){400, -1, 0}, 1);
	assert_int_equal(scenario_post(s, message), 200);
	free(message);
	return wait_row(s, "/api/queue/dead", "reason", "HTTP 400");
}

static void test_pending_row_via_api(void **state)
{
	struct scenario *s = *state;
	int64_t id = pending_row(s, "crit-q1");
	char args[64];
	char key[256];

	scenario_dedup_key("crit-q1", key);
	assert_int_equal(queue(s, "list"), 0);
	assert_non_null(strstr(out, "pending rows: 1\n"));
	assert_non_null(strstr(out, key));
	assert_non_null(strstr(out, "primary"));
	assert_non_null(strstr(out, "trigger"));
	assert_non_null(strstr(out, "(in 1h)"));
	assert_non_null(strstr(out, "last error: HTTP 500"));

	snprintf(args, sizeof(args), "show %lld", (long long)id);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "state: pending\n"));
	assert_non_null(strstr(out, "attempts: 1\n"));
	assert_non_null(strstr(out, "payload:\n"));
	assert_non_null(
		strstr(out, "\"summary\": \"GhostLine Alert: crit-q1\""));
	assert_null(strstr(out, HARNESS_KEY_PRIMARY));

	/* A pending row is made due: no confirmation needed. */
	snprintf(args, sizeof(args), "retry %lld", (long long)id);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "due now"));
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 10000), 0);
	assert_true(harness_log_wait(&s->h, "event=queue.retried", 5000));
	assert_true(harness_log_wait(&s->h, "from=pending", 5000));

	assert_int_equal(queue(s, "show 999999"), 1);
	assert_non_null(strstr(out, "no row 999999"));
	assert_int_equal(queue(s, "frobnicate 1"), 1);
	assert_non_null(strstr(out, "Usage: alertbridge queue"));
}

static void test_dead_letter_via_api(void **state)
{
	struct scenario *s = *state;
	int64_t id = dead_letter(s, "crit-q2");
	struct harness_response r;
	json_t *rows;
	char args[64];
	char path[64];

	assert_int_equal(queue(s, "list --dead"), 0);
	assert_non_null(strstr(out, "dead letters: 1\n"));
	assert_non_null(strstr(out, "reason: HTTP 400: Event object is"
				    " invalid"));
	/* The one attempt PagerDuty refused counts. */
	rows = api_rows(s, "/api/queue/dead");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(rows, 0), "attempts")),
			 1);
	json_decref(rows);
	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "degraded: 1 dead letter waiting"));

	/* The API keeps to the scope asked for, and to its token. */
	snprintf(path, sizeof(path), "/api/queue/pending/%lld", (long long)id);
	assert_int_equal(harness_get_auth(&s->h, path, HARNESS_API_TOKEN, &r),
			 0);
	assert_int_equal(r.status, 404);
	snprintf(path, sizeof(path), "/api/queue/dead/%lld", (long long)id);
	assert_int_equal(harness_get(&s->h, path, &r), 0);
	assert_int_equal(r.status, 401);

	/* Sending it again needs a yes. */
	snprintf(args, sizeof(args), "retry %lld", (long long)id);
	assert_int_equal(queue(s, args), 1);
	assert_non_null(strstr(out, "without confirmation"));
	assert_non_null(strstr(out, "--yes"));
	assert_int_equal(count_rows(s, "/api/queue/dead"), 1);

	snprintf(args, sizeof(args), "retry %lld --yes --dead", (long long)id);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "back in the outbox"));
	assert_int_equal(fakepd_wait_accepted(s->pd, 1, 10000), 0);
	assert_int_equal(count_rows(s, "/api/queue/dead"), 0);
	assert_true(harness_log_wait(&s->h, "from=dead", 5000));

	/* Retried and delivered, nothing is left for someone to look at. */
	wait_ready(s, "ready\n");
}

static void test_drop_asks_first(void **state)
{
	struct scenario *s = *state;
	int64_t id = pending_row(s, "crit-q3");
	int64_t dead;
	char args[64];

	snprintf(args, sizeof(args), "drop %lld", (long long)id);
	assert_int_equal(queue(s, args), 1);
	assert_non_null(strstr(out, "refusing to drop row"));

	/* On a terminal: "no" keeps it, "yes" drops it. */
	assert_int_equal(queue_tty(s, args, "n\n"), 1);
	assert_non_null(strstr(out, "nothing changed"));
	assert_int_equal(count_rows(s, "/api/queue"), 1);
	assert_int_equal(queue_tty(s, args, "y\n"), 0);
	assert_non_null(strstr(out, "dropped row"));
	assert_int_equal(count_rows(s, "/api/queue"), 0);
	assert_true(harness_log_wait(&s->h, "event=queue.dropped", 5000));

	/* --dead holds it to the dead letters. */
	dead = dead_letter(s, "crit-q4");
	snprintf(args, sizeof(args), "drop %lld --dead --yes", (long long)id);
	assert_int_equal(queue(s, args), 1);
	snprintf(args, sizeof(args), "drop %lld --dead --yes", (long long)dead);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "dropped dead letter"));
	assert_int_equal(count_rows(s, "/api/queue/dead"), 0);
}

/* With the daemon stopped, the command works on the store itself. */
static void test_store_when_stopped(void **state)
{
	struct scenario *s = *state;
	int64_t pending = pending_row(s, "crit-q5");
	int64_t dead = dead_letter(s, "crit-q6");
	size_t accepted = fakepd_accepted(s->pd);
	char key[256];
	char args[64];

	assert_int_equal(harness_stop(&s->h), 0);

	assert_int_equal(queue(s, "list"), 0);
	assert_non_null(strstr(out, "pending rows: 1\n"));
	assert_int_equal(queue(s, "list --dead"), 0);
	assert_non_null(strstr(out, "dead letters: 1\n"));
	scenario_dedup_key("crit-q6", key);
	assert_non_null(strstr(out, key));

	snprintf(args, sizeof(args), "show %lld", (long long)dead);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "state: dead\n"));
	assert_non_null(
		strstr(out, "\"summary\": \"GhostLine Alert: crit-q6\""));

	/* Reading the store --store names needs no configuration. */
	assert_int_equal(queue_store(s, "list --dead"), 0);
	assert_non_null(strstr(out, "dead letters: 1\n"));
	assert_non_null(strstr(out, key));
	assert_null(strstr(out, "configuration not loaded"));
	assert_int_equal(queue_store(s, args), 0);
	assert_non_null(strstr(out, "state: dead\n"));

	snprintf(args, sizeof(args), "drop %lld", (long long)pending);
	assert_int_equal(queue(s, args), 1);
	assert_non_null(strstr(out, "without confirmation"));
	snprintf(args, sizeof(args), "drop %lld --yes", (long long)pending);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "dropped row"));
	/* Logged as the API logs it: to the journal where there is one,
	 * else beside the answer. */
	if (access("/run/systemd/journal/socket", W_OK) != 0) {
		assert_non_null(strstr(out, "event=queue.dropped"));
		assert_non_null(strstr(out, "source=store"));
	}

	snprintf(args, sizeof(args), "retry %lld --yes", (long long)dead);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "back in the outbox"));
	assert_int_equal(queue(s, "list"), 0);
	assert_non_null(strstr(out, "pending rows: 1\n"));
	assert_non_null(strstr(out, key));

	/* Started again, the daemon sends what was retried, and only it. */
	assert_int_equal(harness_start(&s->h), 0);
	assert_int_equal(fakepd_wait_accepted(s->pd, accepted + 1, 10000), 0);
	wait_empty(s, "/api/queue");
	assert_int_equal(count_rows(s, "/api/queue/dead"), 0);
}

/* Beside a running daemon the store is read, never written. */
static void test_store_refused_while_running(void **state)
{
	struct scenario *s = *state;
	int64_t dead = dead_letter(s, "crit-q7");
	char args[512];

	snprintf(args, sizeof(args), "list --dead --store %s", s->h.state_dir);
	assert_int_equal(queue(s, args), 0);
	assert_non_null(strstr(out, "reading the store"));
	assert_non_null(strstr(out, "dead letters: 1\n"));

	snprintf(args, sizeof(args), "retry %lld --yes --store %s",
		 (long long)dead, s->h.state_dir);
	assert_int_equal(queue(s, args), 1);
	assert_non_null(strstr(out, "not changing the store"));
	assert_int_equal(count_rows(s, "/api/queue/dead"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pending_row_via_api, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_dead_letter_via_api, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_drop_asks_first, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_store_when_stopped, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_store_refused_while_running, setup,
			scenario_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
