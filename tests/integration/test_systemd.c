/*
 * alertbridge serve under a service manager, where systemd is not one:
 * the test holds the notify socket (NOTIFY_SOCKET, WATCHDOG_USEC) and
 * reads what the daemon tells it. READY=1 only with the state loaded,
 * STATUS= figures, WATCHDOG=1 every half period and not while a worker
 * is stuck, RELOADING=1 ... READY=1 around SIGHUP, STOPPING=1; and what
 * a reload changes, keeps, and never loses.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "fakesd.h"
#include "scenario.h"

#define WAIT_MS 15000

/* The standard configuration's default route and its target. */
#define SECONDARY_TARGET                                                       \
	"  secondary: {routing_key: " HARNESS_KEY_SECONDARY "}\n"
#define DEFAULT_TO_SECONDARY "default_route:\n  target: secondary\n"
#define DEFAULT_TO_PRIMARY   "default_route:\n  target: primary\n"

static void post_alarm(struct scenario *s, const char *name)
{
	char *message = scenario_alarm(name, "ALARM", 0);

	assert_int_equal(scenario_post(s, message), 200);
	free(message);
}

/* Replaces the first from in the configuration file with to. */
static void edit_config(struct scenario *s, const char *from, const char *to)
{
	char *text = harness_slurp(s->h.config, NULL);
	char *at = text ? strstr(text, from) : NULL;

	assert_non_null(at);
	*at = '\0';
	assert_int_equal(harness_write_config(&s->h, "%s%s%s", text, to,
					      at + strlen(from)),
			 0);
	free(text);
}

static uint64_t mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The N of "outbox N" in a STATUS= line; -1 when there is none. */
static long status_outbox(const struct fakesd_message *m)
{
	char status[1024];
	const char *p;

	if (!fakesd_value(m, "STATUS=", status, sizeof(status)))
		return -1;
	p = strstr(status, "outbox ");
	return p ? strtol(p + 7, NULL, 10) : -1;
}

static bool status_says(const struct fakesd_message *m, const char *text)
{
	char status[1024];

	return fakesd_value(m, "STATUS=", status, sizeof(status)) &&
	       strstr(status, text);
}

/* payload.summary of the last request PagerDuty got. */
static void last_summary(struct scenario *s, char *out, size_t size)
{
	json_t *event = fakepd_request(s->pd, fakepd_count(s->pd) - 1);
	const char *summary = json_string_value(
		json_object_get(json_object_get(event, "payload"), "summary"));

	snprintf(out, size, "%s", summary ? summary : "");
	json_decref(event);
}

/* Requests for alarm name that PagerDuty accepted, to routing_key. */
static int accepted_for(struct scenario *s, const char *name,
			const char *routing_key)
{
	size_t n = fakepd_count(s->pd);
	char key[256];
	int found = 0;

	scenario_dedup_key(name, key);
	for (size_t i = 0; i < n; i++) {
		json_t *event = fakepd_request(s->pd, i);
		unsigned int status = fakepd_status(s->pd, i);
		const char *dedup =
			json_string_value(json_object_get(event, "dedup_key"));
		const char *rk = json_string_value(
			json_object_get(event, "routing_key"));

		if (status >= 200 && status < 300 && dedup &&
		    strcmp(dedup, key) == 0 && rk &&
		    strcmp(rk, routing_key) == 0)
			found++;
		json_decref(event);
	}
	return found;
}

static int count_in_log(struct scenario *s, const char *text)
{
	char *log = harness_slurp(s->h.log_path, NULL);
	int n = 0;

	for (const char *p = log; p && (p = strstr(p, text)); p++)
		n++;
	free(log);
	return n;
}

/*
 * SIGHUP, then RELOADING=1 with a MONOTONIC_USEC= of the moment, then
 * READY=1; *ret_ready gets the READY=1 message.
 */
static void reload(struct scenario *s, struct fakesd *sd,
		   struct fakesd_message *ret_ready)
{
	struct fakesd_message m;
	uint64_t before = mono_usec();
	char usec[32];
	uint64_t at;

	assert_int_equal(kill(s->h.pid, SIGHUP), 0);
	assert_int_equal(fakesd_wait_line(sd, "RELOADING=1", WAIT_MS, &m), 0);
	assert_non_null(
		fakesd_value(&m, "MONOTONIC_USEC=", usec, sizeof(usec)));
	at = strtoull(usec, NULL, 10);
	assert_true(at >= before && at <= mono_usec());

	assert_int_equal(fakesd_wait_line(sd, "READY=1", WAIT_MS, ret_ready),
			 0);
	assert_true(ret_ready->at_mono >= m.at_mono);
}

/* The daemon, with the test's notify socket and watchdog_usec (or
 * none). */
static void start(struct scenario *s, struct fakesd *sd,
		  const char *watchdog_usec)
{
	struct fakesd_message m;

	assert_int_equal(fakesd_open(sd), 0);
	if (watchdog_usec)
		setenv("WATCHDOG_USEC", watchdog_usec, 1);
	assert_int_equal(scenario_start(s, NULL), 0);
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(fakesd_wait_line(sd, "READY=1", WAIT_MS, &m), 0);
}

static void stop(struct scenario *s, struct fakesd *sd)
{
	struct fakesd_message m;

	assert_int_equal(harness_stop(&s->h), 0);
	assert_int_equal(fakesd_wait_line(sd, "STOPPING=1", WAIT_MS, &m), 0);
	fakesd_close(sd);
	scenario_finish(s);
}

/*
 * READY=1 once the port answers and the outbox left by the run before
 * is read (STATUS= counts its row); STATUS= follows the outbox; pings
 * every half WATCHDOG_USEC; STOPPING=1 on SIGTERM.
 */
static void test_lifecycle(void **state)
{
	struct scenario s;
	struct fakesd sd;
	struct fakesd_message m;
	struct harness_response r;
	int64_t pings[64];
	size_t n_pings = 0;
	bool drained = false;
	int64_t deadline;
	int64_t total = 0;

	/* A first run leaves a row in the outbox: PagerDuty fails. */
	assert_int_equal(scenario_start(&s, NULL), 0);
	fakepd_script(s.pd, (struct fakepd_answer){500, -1, 0}, 1000);
	post_alarm(&s, "cpu-left-over");
	assert_int_equal(fakepd_wait(s.pd, 1, WAIT_MS), 0);
	assert_int_equal(harness_stop(&s.h), 0);

	assert_int_equal(fakesd_open(&sd), 0);
	setenv("WATCHDOG_USEC", "1000000", 1);
	assert_int_equal(harness_start(&s.h), 0);
	unsetenv("WATCHDOG_USEC");

	assert_int_equal(fakesd_wait_line(&sd, "READY=1", WAIT_MS, &m), 0);
	assert_int_equal(harness_get(&s.h, "/healthz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(status_outbox(&m), 1);
	assert_true(status_says(&m, "open incidents 1"));
	assert_true(harness_log_wait(&s.h, "event=daemon.ready", 1000));
	assert_true(harness_log_wait(&s.h, "watchdog_ms=1000", 1000));

	/* PagerDuty is back: the row goes, STATUS= says so; pings go on. */
	fakepd_reset(s.pd);
	deadline = harness_mono_ms() + WAIT_MS;
	while ((!drained || n_pings < 6) && harness_mono_ms() < deadline) {
		if (fakesd_next(&sd, 1000, &m) < 0)
			continue;
		if (fakesd_has_line(&m, "WATCHDOG=1") && n_pings < 64)
			pings[n_pings++] = m.at_mono;
		if (status_outbox(&m) == 0)
			drained = true;
	}
	assert_true(drained);
	assert_int_equal(fakepd_wait_accepted(s.pd, 1, WAIT_MS), 0);

	/* About every 500 ms, never a whole period apart. */
	assert_true(n_pings >= 6);
	for (size_t i = 1; i < n_pings; i++) {
		int64_t gap = pings[i] - pings[i - 1];

		assert_true(gap < 1000);
		total += gap;
	}
	assert_true(total / (int64_t)(n_pings - 1) >= 350);
	assert_true(total / (int64_t)(n_pings - 1) <= 750);

	assert_int_equal(count_in_log(&s, "event=watchdog.stalled"), 0);
	stop(&s, &sd);
}

/*
 * SIGHUP with a changed file: the change applies (PagerDuty sees the
 * new summary), listen is kept with a warning. A broken file: every
 * error logged with file:line:column, STATUS= says the reload failed,
 * the running configuration keeps working. Fixed: the note goes.
 */
static void test_reload(void **state)
{
	struct scenario s;
	struct fakesd sd;
	struct fakesd_message m;
	char summary[256];
	char at[192];
	char *good;
	int errors;

	start(&s, &sd, NULL);
	post_alarm(&s, "before-reload");
	assert_int_equal(fakepd_wait_accepted(s.pd, 1, WAIT_MS), 0);
	last_summary(&s, summary, sizeof(summary));
	assert_string_equal(summary, "GhostLine Alert: before-reload");

	edit_config(&s, "GhostLine Alert:", "Reloaded Alert:");
	edit_config(&s, "listen: 127.0.0.1:0", "listen: 127.0.0.1:1");
	reload(&s, &sd, &m);
	assert_false(status_says(&m, "Reload failed"));
	assert_true(harness_log_wait(&s.h, "event=config.reloaded", WAIT_MS));
	assert_true(harness_log_wait(&s.h,
				     "event=config.restart_required key=listen"
				     " running=127.0.0.1:0 new=127.0.0.1:1",
				     1000));

	/* Served on the port it had; rendered with the new template. */
	post_alarm(&s, "after-reload");
	assert_int_equal(fakepd_wait_accepted(s.pd, 2, WAIT_MS), 0);
	last_summary(&s, summary, sizeof(summary));
	assert_string_equal(summary, "Reloaded Alert: after-reload");

	/* Broken YAML, with a change that must not apply. */
	good = harness_slurp(s.h.config, NULL);
	assert_non_null(good);
	edit_config(&s, "Reloaded Alert:", "Broken Alert:");
	edit_config(&s, "templates:\n", "oops: [1, 2\ntemplates:\n");
	errors = count_in_log(&s, "event=config.error");
	reload(&s, &sd, &m);
	assert_true(status_says(&m, "Reload failed (1 error in "));
	assert_true(status_says(&m, "running the previous configuration"));
	assert_true(
		harness_log_wait(&s.h, "event=config.reload_failed", WAIT_MS));
	snprintf(at, sizeof(at), "event=config.error at=%s:", s.h.config);
	assert_true(harness_log_wait(&s.h, at, 1000));
	assert_int_equal(count_in_log(&s, "event=config.error"), errors + 1);

	post_alarm(&s, "after-broken");
	assert_int_equal(fakepd_wait_accepted(s.pd, 3, WAIT_MS), 0);
	last_summary(&s, summary, sizeof(summary));
	assert_string_equal(summary, "Reloaded Alert: after-broken");

	/* A file that parses but is wrong twice: both errors, placed. */
	assert_int_equal(harness_write_config(&s.h, "%s", good), 0);
	edit_config(&s, "timeout: 2s", "timeout: soon");
	edit_config(&s, "templates:\n", "bogus: 1\ntemplates:\n");
	errors = count_in_log(&s, at);
	reload(&s, &sd, &m);
	assert_true(status_says(&m, "Reload failed (2 errors in "));
	assert_int_equal(count_in_log(&s, at), errors + 2);

	/* Fixed: applied, and STATUS= no longer speaks of a failure. */
	assert_int_equal(harness_write_config(&s.h, "%s", good), 0);
	edit_config(&s, "Reloaded Alert:", "Fixed Alert:");
	reload(&s, &sd, &m);
	assert_false(status_says(&m, "Reload failed"));
	post_alarm(&s, "after-fix");
	assert_int_equal(fakepd_wait_accepted(s.pd, 4, WAIT_MS), 0);
	last_summary(&s, summary, sizeof(summary));
	assert_string_equal(summary, "Fixed Alert: after-fix");

	free(good);
	stop(&s, &sd);
}

/* Until nothing waits in the outbox or is in flight. */
static void settle(struct scenario *s)
{
	int64_t deadline = harness_mono_ms() + 30000;

	while (harness_metric(&s->h, "alertbridge_outbox_depth") != 0 ||
	       harness_metric(&s->h, "alertbridge_deliveries_in_flight") != 0) {
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(50);
	}
}

/*
 * Reloads while sends hang and rows wait for retries, one of them
 * removing the target the rows are for and a later one bringing it
 * back: every alarm reaches PagerDuty accepted exactly once, at the
 * routing key it was routed to.
 */
static void test_reload_keeps_queue(void **state)
{
	static const char *const queued[] = {
		"queued-0", "queued-1", "queued-2", "queued-3",
		"queued-4", "queued-5", "queued-6", "queued-7",
	};
	static const char *const moved[] = {"moved-0", "moved-1"};
	struct scenario s;
	struct fakesd sd;
	struct fakesd_message m;
	char *with_target;
	size_t sent;

	start(&s, &sd, NULL);

	/*
	 * Three sends hang (in flight across the first reload), the other
	 * five fail and wait for their retry.
	 */
	fakepd_script(s.pd, (struct fakepd_answer){202, -1, 1200}, 3);
	fakepd_script(s.pd, (struct fakepd_answer){500, -1, 0}, 40);
	for (size_t i = 0; i < sizeof(queued) / sizeof(*queued); i++)
		post_alarm(&s, queued[i]);
	assert_int_equal(fakepd_wait(s.pd, 8, WAIT_MS), 0);
	assert_int_equal(fakepd_status(s.pd, 0), 0);

	edit_config(&s, "GhostLine Alert:", "Second Alert:");
	reload(&s, &sd, &m);
	with_target = harness_slurp(s.h.config, NULL);
	assert_non_null(with_target);

	/* The target the rows wait for goes; new alarms go elsewhere. */
	edit_config(&s, SECONDARY_TARGET, "");
	edit_config(&s, DEFAULT_TO_SECONDARY, DEFAULT_TO_PRIMARY);
	reload(&s, &sd, &m);
	assert_false(status_says(&m, "Reload failed"));
	sent = fakepd_count(s.pd);
	assert_true(harness_log_wait(&s.h,
				     "event=delivery.target_missing"
				     " target=secondary",
				     WAIT_MS));
	assert_true(harness_log_wait(
		&s.h, "its target is not in the configuration", WAIT_MS));
	for (size_t i = 0; i < sizeof(moved) / sizeof(*moved); i++)
		post_alarm(&s, moved[i]);
	assert_int_equal(fakepd_wait_accepted(s.pd, 3, WAIT_MS), 0);

	/* Meanwhile nothing went out for the missing target. */
	for (size_t i = sent; i < fakepd_count(s.pd); i++) {
		json_t *event = fakepd_request(s.pd, i);

		assert_string_equal(json_string_value(json_object_get(
					    event, "routing_key")),
				    HARNESS_KEY_PRIMARY);
		json_decref(event);
	}

	/* Back again, and PagerDuty well: everything goes, once. */
	assert_int_equal(harness_write_config(&s.h, "%s", with_target), 0);
	reload(&s, &sd, &m);
	fakepd_reset(s.pd);
	settle(&s);

	for (size_t i = 0; i < sizeof(queued) / sizeof(*queued); i++)
		assert_int_equal(
			accepted_for(&s, queued[i], HARNESS_KEY_SECONDARY), 1);
	for (size_t i = 0; i < sizeof(moved) / sizeof(*moved); i++)
		assert_int_equal(
			accepted_for(&s, moved[i], HARNESS_KEY_PRIMARY), 1);
	assert_int_equal(fakepd_accepted(s.pd), 10);
	assert_true(harness_metric(&s.h, "alertbridge_dead_letters") == 0);

	free(with_target);
	stop(&s, &sd);
}

struct poster {
	struct scenario *s;
	long status;
};

static void *post_in_thread(void *arg)
{
	struct poster *p = arg;
	char *message = scenario_alarm("while-stuck", "ALARM", 0);

	p->status = scenario_post(p->s, message);
	free(message);
	return NULL;
}

/* Reads what has arrived; true if a ping was among it. */
static bool drain(struct fakesd *sd, bool *ret_stuck_status)
{
	struct fakesd_message m;
	bool pinged = false;

	while (fakesd_next(sd, 0, &m) == 0) {
		pinged |= fakesd_has_line(&m, "WATCHDOG=1");
		if (status_says(&m, "the writer worker is stuck"))
			*ret_stuck_status = true;
	}
	return pinged;
}

/*
 * The writer stuck in a commit (the test holds the store's write lock):
 * the pings stop, the stall is logged once and shown in STATUS=; the
 * lock released, the commit goes through and the pings resume.
 */
static void test_watchdog_stops_for_stuck_writer(void **state)
{
	struct scenario s;
	struct fakesd sd;
	struct fakesd_message m;
	struct poster poster = {.s = &s};
	bool stuck_status = false;
	pthread_t thread;
	char path[192];
	sqlite3 *db = NULL;
	int64_t quiet_until;

	start(&s, &sd, "1000000");
	assert_int_equal(fakesd_wait_line(&sd, "WATCHDOG=1", WAIT_MS, &m), 0);

	snprintf(path, sizeof(path), "%s/alertbridge.db", s.h.state_dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(pthread_create(&thread, NULL, post_in_thread, &poster),
			 0);

	assert_true(harness_log_wait(
		&s.h, "event=watchdog.stalled worker=writer", WAIT_MS));

	/* From here, a whole watchdog period and more without a ping. */
	drain(&sd, &stuck_status);
	quiet_until = harness_mono_ms() + 1500;
	while (harness_mono_ms() < quiet_until) {
		assert_false(drain(&sd, &stuck_status));
		harness_pause_ms(20);
	}
	assert_true(stuck_status);
	assert_int_equal(count_in_log(&s, "event=watchdog.stalled"), 1);

	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	pthread_join(thread, NULL);
	assert_int_equal(poster.status, 200);

	assert_int_equal(fakesd_wait_line(&sd, "WATCHDOG=1", WAIT_MS, &m), 0);
	assert_true(harness_log_wait(
		&s.h, "event=watchdog.recovered worker=writer", WAIT_MS));
	assert_int_equal(fakepd_wait_accepted(s.pd, 1, WAIT_MS), 0);
	stop(&s, &sd);
}

/*
 * Standard error that is systemd's journal stream (JOURNAL_STREAM
 * names its device and inode) selects the journal; with no journald
 * socket there, the daemon says so and keeps writing lines.
 */
static void test_journal_stream_detected(void **state)
{
	struct scenario s;
	struct stat st;
	char stream[64];
	FILE *f;

	if (access("/run/systemd/journal/socket", F_OK) == 0) {
		fprintf(stderr, "journald is running here: its journal, not"
				" the test's log, would get the lines\n");
		skip();
	}

	assert_int_equal(scenario_prepare(&s, NULL), 0);
	f = fopen(s.h.log_path, "a");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(stat(s.h.log_path, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu",
		 (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);

	setenv("JOURNAL_STREAM", stream, 1);
	assert_int_equal(harness_start(&s.h), 0);
	unsetenv("JOURNAL_STREAM");

	assert_true(harness_log_wait(&s.h, "event=log.journal_unavailable",
				     WAIT_MS));
	assert_true(harness_log_wait(&s.h, "event=daemon.ready", WAIT_MS));
	post_alarm(&s, "journal-less");
	assert_true(harness_log_wait(&s.h, "event=sns.accepted", WAIT_MS));
	scenario_finish(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_keeps_queue),
		cmocka_unit_test(test_watchdog_stops_for_stuck_writer),
		cmocka_unit_test(test_journal_stream_detected),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
