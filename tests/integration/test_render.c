/*
 * `alertbridge render` and `check-config` on the repository's real
 * fixtures: the route taken, every level's event as it would be sent,
 * routing keys as fingerprints only, and no store touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "harness.h"
#include "util.h"

#define REAL_SIGNED                                                            \
	FIXTURES_DIR "/sns/real-signed/"                                       \
		     "cloudwatch-alarm-ca-central-1-2022.json"
#define ANOMALY_OK                                                             \
	FIXTURES_DIR "/sns/real-unverified/"                                   \
		     "cloudwatch-alarm-sns-http-anomaly-detection.json"
#define LAMBDA_RECORD                                                          \
	FIXTURES_DIR "/cloudwatch/"                                            \
		     "cloudwatch-alarm-sns-lambda-single-metric.json"
#define COMPOSITE_BODY                                                         \
	FIXTURES_DIR "/cloudwatch/cloudwatch-composite-alarm-message.json"
#define ARN "arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm"

#define OUT_MAX (128 * 1024)

struct fixture {
	struct harness h;
	char out[OUT_MAX];
};

static int setup_escalation(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char clock[160];

	*state = f;
	if (!f || harness_init(&f->h) < 0)
		return -1;
	snprintf(clock, sizeof(clock), "%s/clock", f->h.dir);
	return harness_write_escalation_config(
		&f->h, "http://127.0.0.1:9/v2/enqueue", clock, "");
}

static int setup_standard(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || harness_init(&f->h) < 0)
		return -1;
	return harness_write_standard_config(&f->h,
					     "http://127.0.0.1:9/v2/enqueue",
					     "2022-09-25T18:51:00Z", "");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	harness_cleanup(&f->h);
	free(f);
	return 0;
}

static int render(struct fixture *f, const char *message, const char *extra)
{
	char args[1024];

	snprintf(args, sizeof(args), "render -c %s --message '%s' %s",
		 f->h.config, message, extra);
	return cli_run(args, f->out, sizeof(f->out));
}

/* The events printed, in order, parsed. */
static size_t events(const char *out, json_t *ret[16])
{
	size_t n = 0;

	for (const char *p = out; (p = strstr(p, "  event: ")) && n < 16;) {
		const char *end = strchr(p, '\n');

		p += strlen("  event: ");
		ret[n] = json_loadb(p, (size_t)(end - p), 0, NULL);
		assert_non_null(ret[n]);
		n++;
		p = end;
	}
	return n;
}

static const char *field(json_t *obj, const char *path)
{
	char copy[128];
	json_t *v = obj;

	snprintf(copy, sizeof(copy), "%s", path);
	for (char *name = strtok(copy, "."); name; name = strtok(NULL, "."))
		v = json_object_get(v, name);
	return json_string_value(v);
}

static void key_shown_as(json_t *event, const char *key)
{
	char fingerprint[13];
	char want[32];

	util_fingerprint(key, fingerprint);
	snprintf(want, sizeof(want), "<key %s>", fingerprint);
	assert_string_equal(field(event, "routing_key"), want);
}

static void no_secret_in(const char *out)
{
	assert_null(strstr(out, HARNESS_KEY_PRIMARY));
	assert_null(strstr(out, HARNESS_KEY_SECONDARY));
	assert_null(strstr(out, HARNESS_KEY_MANAGER));
	assert_null(strstr(out, HARNESS_KEY_VP));
	assert_null(strstr(out, HARNESS_API_TOKEN));
}

/* The real signed alarm on the runbook's policy: four levels. */
static void test_escalation_levels(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {HARNESS_KEY_PRIMARY,
					   HARNESS_KEY_SECONDARY,
					   HARNESS_KEY_MANAGER, HARNESS_KEY_VP};
	static const char *const dedup[] = {ARN, ARN "/level-2", ARN "/level-3",
					    ARN "/level-4"};
	json_t *ev[16];
	char path[256];
	struct stat st;
	size_t n;

	assert_int_equal(render(f, REAL_SIGNED, ""), 0);
	assert_non_null(strstr(f->out, "(SNS envelope)"));
	assert_non_null(strstr(f->out, "route: default (no route matched)"));
	assert_non_null(strstr(f->out, "escalation: runbook"));
	assert_non_null(strstr(f->out, "action: trigger (firing)"));
	assert_non_null(strstr(f->out, "dedup_key: " ARN "\n"));
	assert_non_null(strstr(f->out, "level 1: primary, key "));
	assert_non_null(strstr(f->out, ", at once\n"));
	assert_non_null(strstr(f->out, "level 2: secondary, key "));
	assert_non_null(strstr(f->out, ", after 15m unacknowledged\n"));
	assert_non_null(strstr(f->out, "level 4: vp, key "));

	n = events(f->out, ev);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		json_t *details = json_object_get(
			json_object_get(ev[i], "payload"), "custom_details");

		key_shown_as(ev[i], keys[i]);
		assert_string_equal(field(ev[i], "event_action"), "trigger");
		assert_string_equal(field(ev[i], "dedup_key"), dedup[i]);
		assert_string_equal(field(ev[i], "payload.summary"),
				    "GhostLine Alert: Test alarm");
		assert_string_equal(field(ev[i], "payload.severity"),
				    "critical");
		assert_int_equal(json_integer_value(json_object_get(
					 details, "escalation_level")),
				 i + 1);
		assert_string_equal(field(details, "open_since"),
				    "2022-09-25T18:50:37.811Z");
		assert_string_equal(field(details, "metric"),
				    "ConcurrentExecutions");
		json_decref(ev[i]);
	}
	no_secret_in(f->out);

	/* Nothing was sent and no store was made. */
	snprintf(path, sizeof(path), "%s/alertbridge.db", f->h.state_dir);
	assert_int_equal(stat(path, &st), -1);
}

/* Forced onto the warnings route: the VP's step does not apply. */
static void test_forced_route(void **state)
{
	struct fixture *f = *state;
	json_t *ev[16];
	size_t n;

	assert_int_equal(render(f, REAL_SIGNED, "--route warnings"), 0);
	assert_non_null(
		strstr(f->out, "route: warnings (forced with --route)"));
	assert_non_null(strstr(f->out, "severity: warning"));
	assert_non_null(strstr(f->out, "level 4: vp, never paged: only for"
				       " critical (this incident is"
				       " warning)"));
	n = events(f->out, ev);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(field(ev[i], "payload.severity"),
				    "warning");
		json_decref(ev[i]);
	}

	assert_int_equal(render(f, REAL_SIGNED, "--route nope"), 1);
	assert_non_null(strstr(f->out, "no route is named nope"));
}

/* A real OK: a resolve for every level that may have been paged. */
static void test_ok_resolves_every_level(void **state)
{
	struct fixture *f = *state;
	json_t *ev[16];
	size_t n;

	assert_int_equal(render(f, ANOMALY_OK, ""), 0);
	assert_non_null(strstr(f->out, "state: OK"));
	assert_non_null(strstr(f->out, "action: resolve (recovered)"));
	assert_non_null(strstr(f->out, "level 1: primary, key "));
	assert_non_null(strstr(f->out, ", always paged\n"));
	assert_non_null(strstr(f->out, ", if it was paged\n"));

	n = events(f->out, ev);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(field(ev[i], "event_action"), "resolve");
		/* A resolve carries the payload without level details. */
		assert_null(json_object_get(
			json_object_get(json_object_get(ev[i], "payload"),
					"custom_details"),
			"escalation_level"));
		json_decref(ev[i]);
	}
	no_secret_in(f->out);
}

/* A Lambda-shaped record and a bare Message body are read as well. */
static void test_other_shapes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(render(f, LAMBDA_RECORD, ""), 0);
	assert_non_null(strstr(f->out, "(Lambda-shaped SNS record)"));
	assert_non_null(strstr(f->out, "alert: EXAMPLE"));
	assert_non_null(strstr(f->out, "kind: metric\n"));

	assert_int_equal(render(f, COMPOSITE_BODY, ""), 0);
	assert_non_null(strstr(f->out, "(Message body)"));
	assert_non_null(strstr(f->out, "kind: composite"));

	assert_int_equal(render(f, "/nonexistent/message.json", ""), 1);
	assert_non_null(strstr(f->out, "No such file"));
}

/* A route with a target and no policy: one page, at once. */
static void test_single_target(void **state)
{
	struct fixture *f = *state;
	json_t *ev[16];

	assert_int_equal(render(f, REAL_SIGNED, ""), 0);
	assert_non_null(strstr(f->out, "route: lambda-critical (the first"
				       " that matches)"));
	assert_non_null(strstr(f->out, "page: primary, key "));
	assert_int_equal(events(f->out, ev), 1);
	key_shown_as(ev[0], HARNESS_KEY_PRIMARY);
	assert_string_equal(field(ev[0], "dedup_key"), ARN);
	/* No level details without a policy. */
	assert_null(json_object_get(
		json_object_get(json_object_get(ev[0], "payload"),
				"custom_details"),
		"escalation_level"));
	json_decref(ev[0]);
}

/* check-config summarises, and --message prints what render prints. */
static void test_check_config(void **state)
{
	struct fixture *f = *state;
	static char rendered[OUT_MAX];
	char fingerprint[13];
	char args[1024];
	char line[64];

	assert_int_equal(render(f, REAL_SIGNED, ""), 0);
	strcpy(rendered, f->out);

	snprintf(args, sizeof(args),
		 "check-config --not-production -c %s --message '%s'",
		 f->h.config, REAL_SIGNED);
	assert_int_equal(cli_run(args, f->out, sizeof(f->out)), 0);
	/* The inline keys' warnings go first; render's output follows the
	 * summary unchanged. */
	assert_non_null(strstr(f->out, strstr(rendered, "message: ")));
	assert_non_null(strstr(f->out, "configuration OK"));

	util_fingerprint(HARNESS_KEY_VP, fingerprint);
	snprintf(line, sizeof(line), "key %s (from inline)", fingerprint);
	assert_non_null(strstr(f->out, line));
	assert_non_null(strstr(f->out, "    level 1: primary, at once\n"));
	assert_non_null(strstr(f->out, "    level 2: secondary, after 15m\n"));
	assert_non_null(strstr(f->out, "    level 4: vp, after 30m, only for"
				       " critical\n"));
	assert_non_null(strstr(f->out, "    repeat: none\n"));
	assert_non_null(strstr(f->out, "match: name warn-*"));
	assert_non_null(strstr(f->out, "api: on (fingerprint "));
	no_secret_in(f->out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_escalation_levels,
						setup_escalation, teardown),
		cmocka_unit_test_setup_teardown(test_forced_route,
						setup_escalation, teardown),
		cmocka_unit_test_setup_teardown(test_ok_resolves_every_level,
						setup_escalation, teardown),
		cmocka_unit_test_setup_teardown(test_other_shapes,
						setup_escalation, teardown),
		cmocka_unit_test_setup_teardown(test_single_target,
						setup_standard, teardown),
		cmocka_unit_test_setup_teardown(test_check_config,
						setup_escalation, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
