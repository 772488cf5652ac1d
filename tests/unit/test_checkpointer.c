/*
 * Unit tests for daemon/checkpointer.c against a real SQLite file: the
 * thread moves a writer's log into the database when asked, so that the
 * log starts over, and a checkpoint on the writer's own connection
 * waits for one under way.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "app.h"
#include "checkpointer.h"
#include "store.h"
#include "storefill.h"

#define DEADLINE_MS 10000

struct fixture {
	char dir[64];
	struct store *store; /* the writer's connection */
	struct checkpointer *cp;
	int log_pages; /* after the writer's last commit */
	bool shrank;   /* the log started over */
	int requests;
};

/* As the writer's hook does: a request per 1000 pages of log. */
static void on_log(void *arg, int log_pages)
{
	struct fixture *f = arg;

	if (log_pages < f->log_pages)
		f->shrank = true;
	f->log_pages = log_pages;
	if (log_pages >= 1000) {
		f->requests++;
		checkpointer_request(f->cp);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ab-checkpointer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &f->store), 0);
	assert_int_equal(checkpointer_start(f->dir, &f->cp), 0);
	store_checkpoint_elsewhere(f->store, on_log, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	checkpointer_stop(f->cp);
	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void pause_briefly(void)
{
	nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
}

/*
 * Past 1000 pages the writer asks; the thread's checkpoint moves the
 * log, and a later commit starts it over: the log stays short without
 * the writer ever checkpointing.
 */
static void test_background_checkpoint(void **state)
{
	struct fixture *f = *state;
	int64_t deadline;

	for (int i = 0; i < 100 && f->log_pages < 1200; i++)
		storefill_commit(f->store, 50);
	assert_true(f->log_pages >= 1200);
	assert_true(f->requests > 0);

	/* A commit only starts the log over once the checkpoint is done. */
	deadline = app_mono_ms() + DEADLINE_MS;
	while (!f->shrank && app_mono_ms() < deadline) {
		pause_briefly();
		storefill_commit(f->store, 1);
	}
	assert_true(f->shrank);
	assert_true(f->log_pages < 1000);
}

/*
 * A checkpoint on the writer's connection moves all of the log, even
 * right after a request to the thread, and the next commit starts the
 * log over.
 */
static void test_run_on_writer(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 100 && f->log_pages < 1200; i++)
		storefill_commit(f->store, 50);
	assert_true(f->requests > 0);

	assert_int_equal(checkpointer_run(f->cp, f->store), 0);
	storefill_commit(f->store, 1);
	assert_true(f->shrank);
	assert_true(f->log_pages < 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_background_checkpoint,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_on_writer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
