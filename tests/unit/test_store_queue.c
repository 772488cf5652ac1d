/*
 * Unit tests for lib/store_queue.c (the outbox and dead letters as an
 * operator handles them) and the timeline reader of store_incident.c,
 * against a real SQLite file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

struct fixture {
	char dir[64];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ab-queue-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, &f->store), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t add_event(struct store *store, const char *key,
			 const char *action, int64_t at)
{
	struct store_outbox_row row = {
		.kind = STORE_OUTBOX_EVENT,
		.order_key = (char *)key,
		.target = "primary",
		.action = (char *)action,
		.body = "{\"summary\":\"s\"}",
		.detail = "msg-1",
		.created_ms = at,
		.next_attempt_ms = at,
	};
	int64_t id = 0;

	assert_int_equal(store_outbox_add(store, &row, &id), 0);
	return id;
}

static void test_list_and_get(void **state)
{
	struct fixture *f = *state;
	struct store_queue_row *rows = NULL;
	struct store_queue_row row = {0};
	int64_t first = add_event(f->store, "k1", "trigger", 100);
	int64_t second = add_event(f->store, "k2", "trigger", 200);
	bool found = true;
	size_t n = 0;

	assert_int_equal(store_outbox_dead(f->store, second, 300, "HTTP 400"),
			 0);

	assert_int_equal(store_queue_list(f->store, false, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].row.id, first);
	assert_false(rows[0].dead);
	/* Lists leave the bodies out. */
	assert_string_equal(rows[0].row.body, "");
	store_queue_rows_free(rows, n);

	assert_int_equal(store_queue_list(f->store, true, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].row.id, second);
	assert_true(rows[0].dead);
	assert_int_equal(rows[0].dead_ms, 300);
	assert_string_equal(rows[0].reason, "HTTP 400");
	store_queue_rows_free(rows, n);

	/* A bound of 0 lists nothing. */
	assert_int_equal(store_queue_list(f->store, false, 0, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_queue_rows_free(rows, n);

	/* Any scope finds either; a narrower one only its own table. */
	assert_int_equal(store_queue_get(f->store, second, STORE_QUEUE_ANY,
					 &row, &found),
			 0);
	assert_true(found);
	assert_true(row.dead);
	assert_string_equal(row.row.body, "{\"summary\":\"s\"}");
	assert_string_equal(row.row.order_key, "k2");
	store_queue_row_release(&row);

	assert_int_equal(store_queue_get(f->store, second, STORE_QUEUE_PENDING,
					 &row, &found),
			 0);
	assert_false(found);
	assert_int_equal(store_queue_get(f->store, first, STORE_QUEUE_DEAD,
					 &row, &found),
			 0);
	assert_false(found);
	assert_int_equal(
		store_queue_get(f->store, 999, STORE_QUEUE_ANY, &row, &found),
		0);
	assert_false(found);
}

static void test_retry_dead_letter_keeps_its_place(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_row *due = NULL;
	int64_t trigger = add_event(f->store, "k1", "trigger", 100);
	int64_t resolve;
	int64_t dead = -1;
	size_t n = 0;

	assert_int_equal(
		store_outbox_reschedule(f->store, trigger, 5, 150, "HTTP 500"),
		0);
	assert_int_equal(store_outbox_dead(f->store, trigger, 300, "HTTP 400"),
			 0);
	resolve = add_event(f->store, "k1", "resolve", 400);

	assert_int_equal(store_queue_retry(f->store, trigger, true, 1000), 0);
	assert_int_equal(store_dead_count(f->store, &dead), 0);
	assert_int_equal(dead, 0);

	/* Back under its own id: the head of k1 again, before the resolve,
	 * with a fresh count and deadline. */
	assert_int_equal(
		store_outbox_due(f->store, "primary", 1000, 10, &due, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, trigger);
	assert_int_equal(due[0].attempts, 0);
	assert_int_equal(due[0].created_ms, 1000);
	assert_string_equal(due[0].last_error, "retried after: HTTP 400");
	store_outbox_rows_free(due, n);

	/* Gone from the dead letters: a second retry finds nothing. */
	assert_int_equal(store_queue_retry(f->store, trigger, true, 1000),
			 -ENOENT);
	assert_int_equal(store_queue_retry(f->store, resolve, true, 1000),
			 -ENOENT);
}

static void test_retry_pending_makes_it_due(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_row *due = NULL;
	int64_t id = add_event(f->store, "k1", "trigger", 100);
	size_t n = 0;

	assert_int_equal(
		store_outbox_reschedule(f->store, id, 3, 90000, "HTTP 429"), 0);
	assert_int_equal(
		store_outbox_due(f->store, "primary", 500, 10, &due, &n), 0);
	assert_int_equal(n, 0);
	store_outbox_rows_free(due, n);

	assert_int_equal(store_queue_retry(f->store, id, false, 500), 0);
	assert_int_equal(
		store_outbox_due(f->store, "primary", 500, 10, &due, &n), 0);
	assert_int_equal(n, 1);
	/* Its attempts so far are kept: it is the same delivery. */
	assert_int_equal(due[0].attempts, 3);
	store_outbox_rows_free(due, n);

	assert_int_equal(store_queue_retry(f->store, 4242, false, 500),
			 -ENOENT);
}

static void test_retry_inside_a_transaction_rolls_back(void **state)
{
	struct fixture *f = *state;
	int64_t id = add_event(f->store, "k1", "trigger", 100);
	int64_t dead = 0;

	assert_int_equal(store_outbox_dead(f->store, id, 300, "HTTP 400"), 0);

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_queue_retry(f->store, id, true, 1000), 0);
	store_rollback(f->store);

	assert_int_equal(store_dead_count(f->store, &dead), 0);
	assert_int_equal(dead, 1);
}

static void test_drop(void **state)
{
	struct fixture *f = *state;
	int64_t pending = add_event(f->store, "k1", "trigger", 100);
	int64_t gone = add_event(f->store, "k2", "trigger", 100);
	int64_t depth = -1;
	int64_t oldest = 0;
	int64_t dead = -1;

	assert_int_equal(store_outbox_dead(f->store, gone, 300, "HTTP 400"), 0);

	/* The wrong table is refused, not searched. */
	assert_int_equal(store_queue_drop(f->store, gone, false), -ENOENT);
	assert_int_equal(store_queue_drop(f->store, pending, true), -ENOENT);

	assert_int_equal(store_queue_drop(f->store, gone, true), 0);
	assert_int_equal(store_queue_drop(f->store, pending, false), 0);
	assert_int_equal(store_outbox_stats(f->store, &depth, &oldest), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(store_dead_count(f->store, &dead), 0);
	assert_int_equal(dead, 0);
}

static void test_timeline_list(void **state)
{
	struct fixture *f = *state;
	struct store_timeline_entry *entries = NULL;
	size_t n = 0;

	assert_int_equal(store_timeline_list(f->store, "k", 10, &entries, &n),
			 0);
	assert_int_equal(n, 0);
	store_timeline_free(entries, n);

	assert_int_equal(
		store_timeline_add(f->store, "k", 10, "triggered", "msg-1"), 0);
	assert_int_equal(
		store_timeline_add(f->store, "other", 11, "triggered", "msg-2"),
		0);
	assert_int_equal(store_timeline_add(f->store, "k", 12, "paged",
					    "level 1 (primary)"),
			 0);
	assert_int_equal(
		store_timeline_add(f->store, "k", 13, "acknowledged", NULL), 0);

	assert_int_equal(store_timeline_list(f->store, "k", 10, &entries, &n),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(entries[0].what, "triggered");
	assert_string_equal(entries[0].detail, "msg-1");
	assert_int_equal(entries[1].at_ms, 12);
	assert_string_equal(entries[2].what, "acknowledged");
	assert_null(entries[2].detail);
	store_timeline_free(entries, n);

	/* Bounded: the latest entries, still oldest first. */
	assert_int_equal(store_timeline_list(f->store, "k", 2, &entries, &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(entries[0].what, "paged");
	assert_string_equal(entries[1].what, "acknowledged");
	store_timeline_free(entries, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_and_get, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_dead_letter_keeps_its_place, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_retry_pending_makes_it_due,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_inside_a_transaction_rolls_back, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeline_list, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
