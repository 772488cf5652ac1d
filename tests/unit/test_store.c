/*
 * Unit tests for lib/store.c against a real SQLite file.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "storefill.h"

struct fixture {
	char dir[64];
	struct store *store;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/ab-store-XXXXXX");
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

static void add_event(struct store *store, const char *key, const char *target,
		      const char *action, int64_t due)
{
	struct store_outbox_row row = {
		.kind = STORE_OUTBOX_EVENT,
		.order_key = (char *)key,
		.target = (char *)target,
		.action = (char *)action,
		.body = "{}",
		.created_ms = due,
		.next_attempt_ms = due,
	};

	assert_int_equal(store_outbox_add(store, &row, NULL), 0);
}

static void test_seen(void **state)
{
	struct fixture *f = *state;
	bool seen = true;
	int64_t removed = 0;

	assert_int_equal(store_seen_check(f->store, "m1", &seen), 0);
	assert_false(seen);

	assert_int_equal(
		store_seen_add(f->store, "m1", "t", "Notification", 1000), 0);
	assert_int_equal(store_seen_check(f->store, "m1", &seen), 0);
	assert_true(seen);

	/* The same MessageId twice is a constraint error, not a crash. */
	assert_int_equal(
		store_seen_add(f->store, "m1", "t", "Notification", 1000),
		-EEXIST);

	assert_int_equal(store_seen_prune(f->store, 999, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(store_seen_prune(f->store, 1001, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(store_seen_check(f->store, "m1", &seen), 0);
	assert_false(seen);
}

static void test_incident_round_trip(void **state)
{
	struct fixture *f = *state;
	struct store_incident in = {
		.dedup_key = "arn:aws:cloudwatch:ca-central-1:1:alarm:x",
		.identity = "arn:aws:cloudwatch:ca-central-1:1:alarm:x",
		.status = INCIDENT_STATUS_TRIGGERED,
		.changed_at_ms = 1664131837811,
		.target = "primary",
		.route = "default",
		.alert_name = "x",
		.severity = "critical",
		.opened_ms = 5,
		.updated_ms = 6,
	};
	struct store_incident out = {0};
	int64_t counts[INCIDENT_STATUS_COUNT];
	bool found = true;

	assert_int_equal(store_incident_get(f->store, "nope", &out, &found), 0);
	assert_false(found);

	assert_int_equal(store_incident_put(f->store, &in), 0);
	assert_int_equal(
		store_incident_get(f->store, in.dedup_key, &out, &found), 0);
	assert_true(found);
	assert_string_equal(out.target, "primary");
	assert_int_equal(out.status, INCIDENT_STATUS_TRIGGERED);
	assert_int_equal(out.changed_at_ms, 1664131837811);
	store_incident_release(&out);

	in.status = INCIDENT_STATUS_RESOLVED;
	assert_int_equal(store_incident_put(f->store, &in), 0);
	assert_int_equal(store_incident_counts(f->store, counts), 0);
	assert_int_equal(counts[INCIDENT_STATUS_RESOLVED], 1);
	assert_int_equal(counts[INCIDENT_STATUS_TRIGGERED], 0);
}

static void test_outbox_order_per_key(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_row *rows;
	size_t n;
	int64_t next;

	add_event(f->store, "k1", "primary", "trigger", 100);
	add_event(f->store, "k2", "primary", "trigger", 100);
	/* Due earlier than its trigger, yet must wait behind it. */
	add_event(f->store, "k1", "primary", "resolve", 50);
	add_event(f->store, "k3", "secondary", "trigger", 100);

	assert_int_equal(
		store_outbox_due(f->store, "primary", 1000, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].order_key, "k1");
	assert_string_equal(rows[0].action, "trigger");
	assert_string_equal(rows[1].order_key, "k2");

	/* Once the trigger is done, the resolve is the head of k1. */
	assert_int_equal(store_outbox_done(f->store, rows[0].id), 0);
	store_outbox_rows_free(rows, n);

	assert_int_equal(
		store_outbox_due(f->store, "primary", 1000, 10, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].order_key, "k2");
	assert_string_equal(rows[1].action, "resolve");
	store_outbox_rows_free(rows, n);

	/* Not yet due. */
	assert_int_equal(
		store_outbox_due(f->store, "primary", 40, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_outbox_rows_free(rows, n);

	assert_int_equal(store_outbox_next_due(f->store, &next), 0);
	assert_int_equal(next, 50);
}

static void test_outbox_retry_and_dead(void **state)
{
	struct fixture *f = *state;
	struct store_queue_row letter = {0};
	struct store_outbox_row *rows;
	bool found = false;
	int64_t depth;
	int64_t oldest;
	int64_t dead;
	int64_t id;
	size_t n;

	add_event(f->store, "k1", "primary", "trigger", 100);
	assert_int_equal(
		store_outbox_due(f->store, "primary", 100, 10, &rows, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_outbox_reschedule(f->store, rows[0].id, 1, 500,
						 "HTTP 500"),
			 0);
	store_outbox_rows_free(rows, n);

	assert_int_equal(
		store_outbox_due(f->store, "primary", 499, 10, &rows, &n), 0);
	assert_int_equal(n, 0);
	store_outbox_rows_free(rows, n);

	assert_int_equal(
		store_outbox_due(f->store, "primary", 500, 10, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].attempts, 1);
	assert_string_equal(rows[0].last_error, "HTTP 500");

	id = rows[0].id;
	assert_int_equal(store_outbox_dead(f->store, id, 3, 900, "HTTP 400"),
			 0);
	store_outbox_rows_free(rows, n);

	assert_int_equal(store_outbox_stats(f->store, &depth, &oldest), 0);
	assert_int_equal(depth, 0);
	assert_int_equal(store_dead_count(f->store, &dead), 0);
	assert_int_equal(dead, 1);

	/* The dead letter counts every attempt, the last one included. */
	assert_int_equal(store_queue_get(f->store, id, STORE_QUEUE_DEAD,
					 &letter, &found),
			 0);
	assert_true(found);
	assert_int_equal(letter.row.attempts, 3);
	assert_string_equal(letter.reason, "HTTP 400");
	store_queue_row_release(&letter);
}

/* The order_key and action of each row due for target, in order. */
static void expect_due(struct store *store, const char *target,
		       const char *want)
{
	struct store_outbox_row *rows;
	char got[256] = "";
	size_t n;

	assert_int_equal(store_outbox_due(store, target, 1000, 10, &rows, &n),
			 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(got);

		snprintf(got + len, sizeof(got) - len, "%s%s/%s", i ? " " : "",
			 rows[i].order_key, rows[i].action);
	}
	store_outbox_rows_free(rows, n);
	assert_string_equal(got, want);
}

static int64_t first_due_id(struct store *store, const char *target)
{
	struct store_outbox_row *rows;
	int64_t id;
	size_t n;

	assert_int_equal(store_outbox_due(store, target, 1000, 1, &rows, &n),
			 0);
	assert_int_equal(n, 1);
	id = rows[0].id;
	store_outbox_rows_free(rows, n);
	return id;
}

/*
 * A dead letter retried goes back before the rows of its key that came
 * after it: it is their head again, and they wait behind it.
 */
static void test_outbox_retried_letter_is_head(void **state)
{
	struct fixture *f = *state;
	int64_t trigger;

	add_event(f->store, "k1", "primary", "trigger", 100);
	add_event(f->store, "k1", "primary", "resolve", 100);
	trigger = first_due_id(f->store, "primary");
	assert_int_equal(
		store_outbox_dead(f->store, trigger, 1, 200, "HTTP 400"), 0);
	expect_due(f->store, "primary", "k1/resolve");

	assert_int_equal(store_queue_retry(f->store, trigger, true, 300), 0);
	expect_due(f->store, "primary", "k1/trigger");
	assert_int_equal(store_queue_drop(f->store, trigger, false), 0);
	expect_due(f->store, "primary", "k1/resolve");
}

/*
 * A store of schema 2 (before heads were marked) is migrated with the
 * head of every key it holds marked: nothing waiting is lost or sent
 * out of order.
 */
static void test_outbox_heads_migrated(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sqlite3 *db;

	add_event(f->store, "k1", "primary", "trigger", 100);
	add_event(f->store, "k2", "primary", "trigger", 100);
	add_event(f->store, "k1", "primary", "resolve", 100);
	store_close(f->store);
	f->store = NULL;

	/* Back to schema 2, as an older daemon left the file. */
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_FILE_NAME);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(
			db,
			"DROP TRIGGER outbox_head_insert;"
			"DROP TRIGGER outbox_head_delete;"
			"DROP INDEX outbox_heads;"
			"DROP INDEX outbox_heads_due;"
			"ALTER TABLE outbox RENAME TO outbox_3;"
			"CREATE TABLE outbox ("
			" id INTEGER PRIMARY KEY AUTOINCREMENT,"
			" kind TEXT NOT NULL, order_key TEXT NOT NULL,"
			" target TEXT, action TEXT NOT NULL,"
			" body TEXT NOT NULL, detail TEXT,"
			" created_ms INTEGER NOT NULL,"
			" attempts INTEGER NOT NULL DEFAULT 0,"
			" next_attempt_ms INTEGER NOT NULL, last_error TEXT);"
			"INSERT INTO outbox SELECT id, kind, order_key, target,"
			" action, body, detail, created_ms, attempts,"
			" next_attempt_ms, last_error FROM outbox_3;"
			"DROP TABLE outbox_3;"
			"CREATE INDEX outbox_order ON outbox(order_key, id);"
			"CREATE INDEX outbox_target ON outbox(target, id);"
			"UPDATE meta SET value = '2' WHERE key = 'schema';",
			NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->dir, &f->store), 0);
	expect_due(f->store, "primary", "k1/trigger k2/trigger");
	assert_int_equal(
		store_outbox_done(f->store, first_due_id(f->store, "primary")),
		0);
	expect_due(f->store, "primary", "k2/trigger k1/resolve");
}

/* Targets rows wait for, whatever the configuration says today. */
static void test_outbox_targets(void **state)
{
	struct fixture *f = *state;
	struct store_outbox_row row = {
		.kind = STORE_OUTBOX_SUBSCRIBE,
		.order_key = "subscribe:topic",
		.action = "subscribe",
		.body = "https://sns.us-east-1.amazonaws.com/?Action=Confirm",
	};
	char **names = NULL;
	size_t n = 0;

	assert_int_equal(store_outbox_targets(f->store, 8, &names, &n), 0);
	assert_int_equal(n, 0);
	store_names_free(names, n);

	add_event(f->store, "k1", "secondary", "trigger", 100);
	add_event(f->store, "k2", "primary", "trigger", 100);
	add_event(f->store, "k1", "secondary", "resolve", 200);
	assert_int_equal(store_outbox_add(f->store, &row, NULL), 0);

	assert_int_equal(store_outbox_targets(f->store, 8, &names, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "primary");
	assert_string_equal(names[1], "secondary");
	store_names_free(names, n);

	/* At most max names. */
	assert_int_equal(store_outbox_targets(f->store, 1, &names, &n), 0);
	assert_int_equal(n, 1);
	store_names_free(names, n);
}

static void test_transaction_rollback(void **state)
{
	struct fixture *f = *state;
	int64_t depth;
	int64_t oldest;
	bool seen;

	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_seen_add(f->store, "m2", NULL, NULL, 1), 0);
	add_event(f->store, "k9", "primary", "trigger", 7);
	store_rollback(f->store);

	assert_int_equal(store_seen_check(f->store, "m2", &seen), 0);
	assert_false(seen);
	assert_int_equal(store_outbox_stats(f->store, &depth, &oldest), 0);
	assert_int_equal(depth, 0);

	assert_int_equal(store_begin(f->store), 0);
	add_event(f->store, "k9", "primary", "trigger", 7);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_outbox_stats(f->store, &depth, &oldest), 0);
	assert_int_equal(depth, 1);
	assert_int_equal(oldest, 7);
}

static void test_reopen_keeps_state(void **state)
{
	struct fixture *f = *state;
	bool seen = false;

	assert_int_equal(store_seen_add(f->store, "m3", NULL, NULL, 1), 0);
	store_close(f->store);
	assert_int_equal(store_open(f->dir, &f->store), 0);
	assert_int_equal(store_seen_check(f->store, "m3", &seen), 0);
	assert_true(seen);
}

/* The schema version a store file records, read with SQLite itself. */
static int file_schema(const char *dir, int set_to)
{
	char path[128];
	char sql[96];
	sqlite3_stmt *stmt;
	sqlite3 *db;
	int version;

	snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (set_to > 0) {
		snprintf(sql, sizeof(sql),
			 "UPDATE meta SET value = '%d' WHERE key = 'schema'",
			 set_to);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
				 SQLITE_OK);
	}
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT value FROM meta"
					    " WHERE key = 'schema'",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	version = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return version;
}

/* Read-only: reads what the writer committed, writes nothing, refuses
 * another schema without migrating it, creates no file. */
static void test_read_only(void **state)
{
	struct fixture *f = *state;
	struct store *ro = NULL;
	char empty[64];
	int64_t depth = 0;
	int64_t oldest = 0;
	int current;

	add_event(f->store, "k1", "primary", "trigger", 5);
	assert_int_equal(store_open_read_only(f->dir, &ro), 0);
	assert_int_equal(store_outbox_stats(ro, &depth, &oldest), 0);
	assert_int_equal(depth, 1);
	assert_true(store_seen_add(ro, "m1", NULL, NULL, 1) < 0);
	store_close(ro);

	current = file_schema(f->dir, 0);
	assert_int_equal(file_schema(f->dir, current - 1), current - 1);
	ro = NULL;
	assert_int_equal(store_open_read_only(f->dir, &ro), -EPROTO);
	assert_null(ro);
	assert_int_equal(file_schema(f->dir, 0), current - 1);
	assert_int_equal(file_schema(f->dir, current), current);

	strcpy(empty, "/tmp/ab-store-ro-XXXXXX");
	assert_non_null(mkdtemp(empty));
	assert_true(store_open_read_only(empty, &ro) < 0);
	assert_null(ro);
	assert_int_equal(rmdir(empty), 0);
}

/* The probe is a transaction of its own, committed. */
static void test_probe(void **state)
{
	struct fixture *f = *state;
	bool seen = false;

	assert_int_equal(store_probe(f->store, 5), 0);

	/* Inside the caller's transaction it cannot begin its own, and
	 * leaves the caller's alone. */
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(store_seen_add(f->store, "m4", NULL, NULL, 1), 0);
	assert_true(store_probe(f->store, 6) < 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(store_seen_check(f->store, "m4", &seen), 0);
	assert_true(seen);

	assert_int_equal(store_probe(f->store, 7), 0);
}

/* A store file that may not be written is refused, not opened read-only
 * in silence. As root, whom no mode stops, a child that gave up root
 * tries it; otherwise the file's mode does. */
static void test_open_unwritable_refused(void **state)
{
	struct fixture *f = *state;
	char path[128];
	int status = -1;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_FILE_NAME);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chmod(path, 0444), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store *store = NULL;

		/* The child's copy of the fixture's store goes first, so that
		 * under valgrind the child leaves nothing behind. */
		store_close(f->store);
		f->store = NULL;
		if (geteuid() == 0 && setuid(65534) < 0)
			_exit(2);
		_exit(store_open(f->dir, &store) == -EACCES && !store ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(path, 0644), 0);
}

static void test_open_missing_dir(void **state)
{
	struct store *store = NULL;

	(void)state;
	assert_true(store_open("/nonexistent/alertbridge", &store) < 0);
	assert_null(store);
}

/* What store_checkpoint_elsewhere()'s hook heard. */
struct log_seen {
	int commits;
	int last;
	bool shrank; /* the log started over */
};

static void on_log(void *arg, int log_pages)
{
	struct log_seen *seen = arg;

	if (log_pages < seen->last)
		seen->shrank = true;
	seen->last = log_pages;
	seen->commits++;
}

/*
 * A connection told to checkpoint elsewhere lets its log grow past
 * SQLite's 1000 pages, telling its hook each commit's length; a passive
 * checkpoint moves all of it when nothing else reads, and the next
 * commit starts the log over.
 */
static void test_checkpoint_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct log_seen seen = {0};
	int log = -1;
	int moved = -1;

	store_checkpoint_elsewhere(f->store, on_log, &seen);
	for (int i = 0; i < 100 && seen.last < 1500; i++)
		storefill_commit(f->store, 50);
	assert_true(seen.last >= 1500);
	assert_false(seen.shrank);
	assert_true(seen.commits >= 2);

	assert_int_equal(store_checkpoint(f->store, STORE_CHECKPOINT_PASSIVE,
					  &log, &moved),
			 0);
	assert_int_equal(log, seen.last);
	assert_int_equal(moved, log);

	storefill_commit(f->store, 1);
	assert_true(seen.shrank);
	assert_true(seen.last < 100);
}

/*
 * A reader in the log holds a restarting checkpoint back: it gives up
 * after its short wait with -EBUSY, and succeeds once the reader is
 * done, after which the log starts over.
 */
static void test_checkpoint_restart_waits_for_readers(void **state)
{
	struct fixture *f = *state;
	struct log_seen seen = {0};
	sqlite3_stmt *stmt;
	char path[128];
	sqlite3 *reader;

	store_checkpoint_elsewhere(f->store, on_log, &seen);
	storefill_commit(f->store, 20);

	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_FILE_NAME);
	assert_int_equal(sqlite3_open(path, &reader), SQLITE_OK);
	assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(reader,
					    "SELECT count(*) FROM outbox", -1,
					    &stmt, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(stmt, 0), 20);
	sqlite3_finalize(stmt);

	/* Newer than the reader's snapshot, so the reader needs the log. */
	storefill_commit(f->store, 20);
	assert_int_equal(store_checkpoint(f->store, STORE_CHECKPOINT_RESTART,
					  NULL, NULL),
			 -EBUSY);

	assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_checkpoint(f->store, STORE_CHECKPOINT_RESTART,
					  NULL, NULL),
			 0);
	storefill_commit(f->store, 1);
	assert_true(seen.shrank);
	sqlite3_close(reader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incident_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outbox_order_per_key,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_retry_and_dead,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_targets, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_outbox_retried_letter_is_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_heads_migrated,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_transaction_rollback,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_read_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_unwritable_refused,
						setup, teardown),
		cmocka_unit_test(test_open_missing_dir),
		cmocka_unit_test_setup_teardown(test_checkpoint_elsewhere,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_checkpoint_restart_waits_for_readers, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
