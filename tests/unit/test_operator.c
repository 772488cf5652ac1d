/*
 * Unit tests for daemon/operator.c: durations as people read them, and
 * a store opened for an operator only where one exists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "operator.h"
#include "store.h"

static void expect_duration(int64_t ms, const char *want)
{
	char text[32];

	operator_duration(ms, text);
	assert_string_equal(text, want);
}

static void test_duration(void **state)
{
	(void)state;
	expect_duration(0, "0s");
	expect_duration(250, "250ms");
	expect_duration(1000, "1s");
	expect_duration(45 * 1000, "45s");
	expect_duration(15 * 60 * 1000, "15m");
	expect_duration(90 * 60 * 1000, "1h30m");
	expect_duration(25 * 60 * 1000 + 7000, "25m7s");
	/* Two units are enough: the seconds of an hour and more go. */
	expect_duration(3600 * 1000 + 5000, "1h");
	expect_duration((2 * 86400 + 3 * 3600 + 60) * 1000LL, "2d3h");
	expect_duration(-15 * 60 * 1000, "15m");
}

static void test_store_open_never_creates(void **state)
{
	char dir[] = "/tmp/ab-operator-XXXXXX";
	struct store *store = NULL;
	char path[128];
	char cmd[128];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(operator_store_open(dir, &store), -ENOENT);
	assert_null(store);
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME);
	assert_int_equal(stat(path, &st), -1);

	/* Once the daemon made one, it opens. */
	assert_int_equal(store_open(dir, &store), 0);
	store_close(store);
	store = NULL;
	assert_int_equal(operator_store_open(dir, &store), 0);
	store_close(store);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_who(void **state)
{
	char who[OPERATOR_WHO_MAX];

	(void)state;
	operator_who(who);
	assert_non_null(strchr(who, '@'));
	assert_true(strlen(who) < OPERATOR_WHO_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_store_open_never_creates),
		cmocka_unit_test(test_who),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
