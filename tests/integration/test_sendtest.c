/*
 * `alertbridge send-test` against the fake PagerDuty: a labelled
 * trigger, then its resolve; PagerDuty's refusal shown and failed on;
 * no prompt without a terminal; Enter on a terminal resolves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cli.h"
#include "fakepd.h"
#include "harness.h"

#define OUT_MAX (64 * 1024)

struct fixture {
	struct harness h;
	struct fakepd *pd;
	char out[OUT_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char clock[160];

	*state = f;
	if (!f || harness_init(&f->h) < 0 || fakepd_start(&f->pd) < 0)
		return -1;
	snprintf(clock, sizeof(clock), "%s/clock", f->h.dir);
	return harness_write_escalation_config(&f->h, fakepd_url(f->pd), clock,
					       "");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	harness_cleanup(&f->h);
	fakepd_stop(f->pd);
	free(f);
	return 0;
}

static int send_test(struct fixture *f, const char *flags)
{
	char args[512];

	snprintf(args, sizeof(args), "send-test -c %s %s", f->h.config, flags);
	return cli_run(args, f->out, sizeof(f->out));
}

static const char *field(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

static void test_trigger_then_resolve(void **state)
{
	struct fixture *f = *state;
	json_t *trigger;
	json_t *resolve;
	json_t *details;

	assert_int_equal(send_test(f, "--target secondary --resolve"), 0);
	assert_int_equal(fakepd_count(f->pd), 2);

	trigger = fakepd_request(f->pd, 0);
	resolve = fakepd_request(f->pd, 1);
	assert_string_equal(field(trigger, "routing_key", NULL),
			    HARNESS_KEY_SECONDARY);
	assert_string_equal(field(trigger, "event_action", NULL), "trigger");
	assert_string_equal(
		field(trigger, "payload", "summary"),
		"alertbridge test alert \u2014 not a real incident");
	assert_string_equal(field(trigger, "payload", "severity"), "info");
	assert_string_equal(field(trigger, "client", NULL), "alertbridge");
	details = json_object_get(json_object_get(trigger, "payload"),
				  "custom_details");
	assert_non_null(field(details, "sent_by", NULL));
	assert_non_null(field(details, "host", NULL));
	assert_non_null(field(details, "sent_at", NULL));
	assert_string_equal(field(details, "target", NULL), "secondary");
	assert_non_null(
		strstr(field(trigger, "dedup_key", NULL), "alertbridge-test/"));

	/* The resolve closes that very alert. */
	assert_string_equal(field(resolve, "event_action", NULL), "resolve");
	assert_string_equal(field(resolve, "dedup_key", NULL),
			    field(trigger, "dedup_key", NULL));
	assert_string_equal(field(resolve, "routing_key", NULL),
			    HARNESS_KEY_SECONDARY);

	/* PagerDuty's answers are shown; the key never is. */
	assert_non_null(strstr(f->out, "trigger: PagerDuty answered HTTP 202"));
	assert_non_null(strstr(f->out, "resolve: PagerDuty answered HTTP 202"));
	assert_non_null(strstr(f->out, "\"status\":\"success\""));
	assert_null(strstr(f->out, HARNESS_KEY_SECONDARY));
	json_decref(trigger);
	json_decref(resolve);

	/* Each run has its own dedup key. */
	assert_int_equal(send_test(f, "--target secondary --resolve"), 0);
	trigger = fakepd_request(f->pd, 2);
	resolve = fakepd_request(f->pd, 0);
	assert_string_not_equal(field(trigger, "dedup_key", NULL),
				field(resolve, "dedup_key", NULL));
	json_decref(trigger);
	json_decref(resolve);
}

static void test_refused_event_fails(void **state)
{
	struct fixture *f = *state;

	fakepd_script(f->pd, (struct fakepd_answer){400, -1, 0}, 1);
	assert_int_equal(send_test(f, "--target primary --resolve"), 1);
	assert_non_null(strstr(f->out, "PagerDuty answered HTTP 400"));
	assert_non_null(strstr(f->out, "Event object is invalid"));
	assert_non_null(strstr(f->out, "'payload.summary' is missing"));
	/* No resolve after a refused trigger. */
	assert_int_equal(fakepd_count(f->pd), 1);
}

/* A refused resolve says the test alert stays open, and by which key. */
static void test_refused_resolve_says_open(void **state)
{
	struct fixture *f = *state;

	fakepd_script(f->pd, (struct fakepd_answer){202, -1, 0}, 1);
	fakepd_script(f->pd, (struct fakepd_answer){400, -1, 0}, 1);
	assert_int_equal(send_test(f, "--target primary --resolve"), 1);
	assert_int_equal(fakepd_count(f->pd), 2);
	assert_non_null(strstr(f->out, "the test alert is still open"));
	assert_non_null(strstr(f->out, "(dedup_key alertbridge-test/"));
}

static void test_no_terminal_no_flag(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_test(f, "--target primary"), 1);
	assert_non_null(strstr(f->out, "--resolve"));
	assert_non_null(strstr(f->out, "--no-resolve"));
	assert_int_equal(fakepd_count(f->pd), 0);

	/* With several targets, which one is for the operator to say. */
	assert_int_equal(send_test(f, "--resolve"), 1);
	assert_string_equal(f->out, "alertbridge: pass --target NAME, one of:"
				    " primary, secondary, engineering_manager,"
				    " vp\n");
	assert_int_equal(send_test(f, "--target nobody --resolve"), 1);
	assert_string_equal(f->out, "alertbridge: no target is named 'nobody';"
				    " targets: primary, secondary,"
				    " engineering_manager, vp\n");
	assert_int_equal(send_test(f, "--resolve --no-resolve"), 1);
	assert_int_equal(fakepd_count(f->pd), 0);

	assert_int_equal(send_test(f, "--target vp --no-resolve"), 0);
	assert_non_null(strstr(f->out, "left open"));
	assert_int_equal(fakepd_count(f->pd), 1);
}

static void test_enter_on_a_terminal_resolves(void **state)
{
	struct fixture *f = *state;
	char args[512];
	json_t *resolve;

	snprintf(args, sizeof(args),
		 "send-test -c %s --target primary --severity critical",
		 f->h.config);
	assert_int_equal(cli_run_tty(args, "Press Enter", "\n", f->out,
				     sizeof(f->out), 20000),
			 0);
	assert_int_equal(fakepd_count(f->pd), 2);
	resolve = fakepd_request(f->pd, 1);
	assert_string_equal(field(resolve, "event_action", NULL), "resolve");
	json_decref(resolve);
	resolve = fakepd_request(f->pd, 0);
	assert_string_equal(field(resolve, "payload", "severity"), "critical");
	json_decref(resolve);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_trigger_then_resolve,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_event_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_resolve_says_open,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_terminal_no_flag, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_enter_on_a_terminal_resolves, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
