/*
 * Unit tests for daemon/app.c: configurations shared by counted
 * references. Under AddressSanitizer a configuration freed too early
 * (or never) fails the run.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app.h"

static struct config *load(const char *summary)
{
	char text[1024];
	struct config *config = NULL;

	snprintf(text, sizeof(text),
		 "sns: {topics: [\"arn:aws:sns:us-east-1:123456789012:t\"]}\n"
		 "targets:\n"
		 "  primary: {routing_key: primary0000000000000000000000001}\n"
		 "templates:\n"
		 "  t: {summary: \"%s\", source: test}\n"
		 "default_route: {target: primary, severity: error,"
		 " template: t}\n",
		 summary);
	assert_int_equal(config_load_string("test.yaml", text, strlen(text),
					    &config, NULL),
			 0);
	return config;
}

static const char *summary_of(const struct config *config)
{
	return config->templates[0].summary;
}

static void test_swap_keeps_held_configuration(void **state)
{
	struct app app = {0};
	const struct config *old;
	const struct config *cur;

	assert_int_equal(app_config_init(&app, load("first")), 0);
	old = app_config_acquire(&app);
	assert_string_equal(summary_of(old), "first");

	assert_int_equal(app_config_swap(&app, load("second")), 0);
	cur = app_config_acquire(&app);
	assert_string_equal(summary_of(cur), "second");

	/* The old one is still whole for the unit that holds it. */
	assert_string_equal(summary_of(old), "first");
	app_config_release(&app, old);
	app_config_release(&app, cur);
	app_config_release(&app, NULL);

	/* Swapped again with nobody holding the second: freed at once. */
	assert_int_equal(app_config_swap(&app, load("third")), 0);
	cur = app_config_acquire(&app);
	assert_string_equal(summary_of(cur), "third");
	app_config_release(&app, cur);
	app_config_cleanup(&app);
}

static void test_several_retired(void **state)
{
	struct app app = {0};
	const struct config *held[4];

	assert_int_equal(app_config_init(&app, load("c0")), 0);
	for (int i = 0; i < 4; i++) {
		char name[8];

		held[i] = app_config_acquire(&app);
		snprintf(name, sizeof(name), "c%d", i + 1);
		assert_int_equal(app_config_swap(&app, load(name)), 0);
	}

	/* Released out of order, each is still its own. */
	for (int i = 3; i >= 0; i -= 2) {
		char name[8];

		snprintf(name, sizeof(name), "c%d", i);
		assert_string_equal(summary_of(held[i]), name);
		app_config_release(&app, held[i]);
	}
	for (int i = 0; i < 4; i += 2)
		app_config_release(&app, held[i]);
	app_config_cleanup(&app);
}

struct race {
	struct app *app;
	atomic_bool stop;
	atomic_ulong units;
};

/* A unit of work: read the configuration through, start to end. */
static void *reader(void *arg)
{
	struct race *race = arg;

	while (!atomic_load(&race->stop)) {
		const struct config *config = app_config_acquire(race->app);
		const char *summary = summary_of(config);

		assert_true(summary[0] == 'v');
		assert_int_equal(config->n_targets, 1);
		app_config_release(race->app, config);
		atomic_fetch_add(&race->units, 1);
	}
	return NULL;
}

static void test_swaps_under_readers(void **state)
{
	struct app app = {0};
	struct race race = {.app = &app};
	pthread_t threads[4];

	assert_int_equal(app_config_init(&app, load("v0")), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
			pthread_create(&threads[i], NULL, reader, &race), 0);

	for (int i = 1; i <= 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "v%d", i);
		assert_int_equal(app_config_swap(&app, load(name)), 0);
	}

	atomic_store(&race.stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	assert_true(atomic_load(&race.units) > 0);
	app_config_cleanup(&app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_keeps_held_configuration),
		cmocka_unit_test(test_several_retired),
		cmocka_unit_test(test_swaps_under_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
