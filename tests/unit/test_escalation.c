/*
 * Unit tests for lib/escalation.c: the runbook's chain step by step.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escalation.h"

#define MIN (60 * 1000LL)
#define T0  1700000000000LL

static struct config_target targets[] = {
	{.name = "primary"},
	{.name = "secondary"},
	{.name = "engineering_manager"},
	{.name = "vp"},
};

/* The runbook: primary at once, secondary at 15, manager at 30, VP at
 * 30 for critical incidents only. */
static struct config_step steps[] = {
	{0, &targets[0], 0},
	{15 * MIN, &targets[1], 0},
	{30 * MIN, &targets[2], 0},
	{30 * MIN, &targets[3], 1u << CONFIG_SEVERITY_CRITICAL},
};

static struct config_policy runbook = {
	.name = "runbook",
	.steps = steps,
	.n_steps = 4,
	.repeat = 0,
	.repeat_interval_ms = 60 * MIN,
};

static struct escalation_page pages[ESCALATION_PAGES_MAX];

static size_t tick(struct escalation_state *state,
		   enum config_severity severity, int64_t at)
{
	size_t n = 0;

	escalation_tick(&runbook, severity, at, state, pages, &n);
	return n;
}

static void test_critical_pages_everyone_once(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_CRITICAL, T0, &state, pages,
			 &n);
	assert_int_equal(n, 1);
	assert_string_equal(pages[0].target->name, "primary");
	assert_int_equal(
		escalation_next_due(&runbook, CONFIG_SEVERITY_CRITICAL, &state),
		T0 + 15 * MIN);

	assert_int_equal(
		tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 15 * MIN - 1), 0);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 15 * MIN),
			 1);
	assert_string_equal(pages[0].target->name, "secondary");
	assert_int_equal(pages[0].due_ms, T0 + 15 * MIN);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 15 * MIN),
			 0);

	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 30 * MIN),
			 2);
	assert_string_equal(pages[0].target->name, "engineering_manager");
	assert_string_equal(pages[1].target->name, "vp");
	assert_int_equal(state.status, ESCALATION_FINISHED);
	assert_int_equal(
		escalation_next_due(&runbook, CONFIG_SEVERITY_CRITICAL, &state),
		ESCALATION_NEVER);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 600 * MIN),
			 0);
}

static void test_warning_never_pages_vp(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_WARNING, T0, &state, pages,
			 &n);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_WARNING, T0 + 15 * MIN),
			 1);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_WARNING, T0 + 30 * MIN),
			 1);
	assert_string_equal(pages[0].target->name, "engineering_manager");
	assert_int_equal(state.status, ESCALATION_FINISHED);
}

/* After downtime, what fell due fires once, at the next look. */
static void test_catch_up_fires_once(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_CRITICAL, T0, &state, pages,
			 &n);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 16 * MIN),
			 1);
	assert_string_equal(pages[0].target->name, "secondary");
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 16 * MIN),
			 0);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 90 * MIN),
			 2);
}

/* The wall clock stepped back an hour: nothing fires twice. */
static void test_clock_back_fires_nothing_twice(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_CRITICAL, T0, &state, pages,
			 &n);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 20 * MIN),
			 1);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL,
			      T0 + 20 * MIN - 60 * MIN),
			 0);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 20 * MIN),
			 0);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 30 * MIN),
			 2);
}

static void test_acknowledge_and_resume(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_CRITICAL, T0, &state, pages,
			 &n);
	assert_int_equal(escalation_acknowledge(&state), 0);
	assert_int_equal(escalation_acknowledge(&state), -EALREADY);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 60 * MIN),
			 0);
	assert_int_equal(
		escalation_next_due(&runbook, CONFIG_SEVERITY_CRITICAL, &state),
		ESCALATION_NEVER);

	/* Resumed where it stood: the steps that fell due fire now. */
	assert_int_equal(escalation_resume(&state), 0);
	assert_int_equal(escalation_resume(&state), -EALREADY);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 60 * MIN),
			 3);
	assert_string_equal(pages[0].target->name, "secondary");
}

static void test_stop_is_final(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	escalation_start(&runbook, CONFIG_SEVERITY_CRITICAL, T0, &state, pages,
			 &n);
	escalation_stop(&state);
	assert_int_equal(escalation_acknowledge(&state), -EALREADY);
	assert_int_equal(escalation_resume(&state), -EALREADY);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_CRITICAL, T0 + 60 * MIN),
			 0);
}

static void test_repeat_runs_the_chain_again(void **unused)
{
	struct escalation_state state;
	size_t n = 0;

	(void)unused;
	runbook.repeat = 1;
	escalation_start(&runbook, CONFIG_SEVERITY_WARNING, T0, &state, pages,
			 &n);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_WARNING, T0 + 30 * MIN),
			 2);
	assert_int_equal(
		escalation_next_due(&runbook, CONFIG_SEVERITY_WARNING, &state),
		T0 + 60 * MIN);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_WARNING, T0 + 60 * MIN),
			 1);
	assert_string_equal(pages[0].target->name, "primary");
	assert_int_equal(pages[0].pass, 1);
	assert_int_equal(tick(&state, CONFIG_SEVERITY_WARNING, T0 + 1000 * MIN),
			 2);
	assert_int_equal(state.status, ESCALATION_FINISHED);
	runbook.repeat = 0;
}

static void test_level_keys(void **unused)
{
	char long_key[300];
	char *key = NULL;

	(void)unused;
	assert_int_equal(escalation_level_key("arn:x", 0, 0, &key), 0);
	assert_string_equal(key, "arn:x");
	free(key);
	assert_int_equal(escalation_level_key("arn:x", 2, 0, &key), 0);
	assert_string_equal(key, "arn:x/level-3");
	free(key);
	assert_int_equal(escalation_level_key("arn:x", 0, 1, &key), 0);
	assert_string_equal(key, "arn:x/level-1/pass-1");
	free(key);

	memset(long_key, 'a', 250);
	long_key[250] = '\0';
	assert_int_equal(escalation_level_key(long_key, 1, 0, &key), 0);
	assert_true(strlen(key) <= 255);
	assert_int_equal(strncmp(key, "sha256:", 7), 0);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_critical_pages_everyone_once),
		cmocka_unit_test(test_warning_never_pages_vp),
		cmocka_unit_test(test_catch_up_fires_once),
		cmocka_unit_test(test_clock_back_fires_nothing_twice),
		cmocka_unit_test(test_acknowledge_and_resume),
		cmocka_unit_test(test_stop_is_final),
		cmocka_unit_test(test_repeat_runs_the_chain_again),
		cmocka_unit_test(test_level_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
