/*
 * store_queue: the outbox and the dead letters as an operator sees
 * them: listed, shown, retried and dropped by id.
 *
 * These run when an operator asks, not per message, so each statement
 * is prepared when it is needed rather than kept for the connection.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* The columns store_outbox_row_read() takes, then dead, dead_ms, reason. */
#define QUEUE_PENDING_COLUMNS(body)                                            \
	"id, kind, order_key, target, action, " body ", detail,"               \
	" created_ms, attempts, next_attempt_ms, last_error,"                  \
	" 0, 0, NULL FROM outbox"
#define QUEUE_DEAD_COLUMNS(body)                                               \
	"id, kind, order_key, target, action, " body ", detail,"               \
	" created_ms, attempts, 0, NULL, 1, dead_ms, reason"                   \
	" FROM dead_letters"

void store_queue_row_release(struct store_queue_row *row)
{
	if (!row)
		return;

	store_outbox_row_release(&row->row);
	free(row->reason);
	memset(row, 0, sizeof(*row));
}

void store_queue_rows_free(struct store_queue_row *rows, size_t n)
{
	if (!rows)
		return;

	for (size_t i = 0; i < n; i++)
		store_queue_row_release(&rows[i]);
	free(rows);
}

static int prepare(struct store *store, const char *sql,
		   sqlite3_stmt **ret_stmt)
{
	return store_errno(
		sqlite3_prepare_v2(store->db, sql, -1, ret_stmt, NULL));
}

static int row_read(sqlite3_stmt *stmt, struct store_queue_row *row)
{
	int r = store_outbox_row_read(stmt, &row->row);

	row->dead = sqlite3_column_int(stmt, 11) != 0;
	row->dead_ms = sqlite3_column_int64(stmt, 12);
	row->reason = store_column_strdup(stmt, 13);
	if (r == 0 && row->dead && !row->reason)
		r = -ENOMEM;
	return r;
}

static int row_read_item(sqlite3_stmt *stmt, void *item)
{
	return row_read(stmt, item);
}

static void rows_release(void *items, size_t n)
{
	store_queue_rows_free(items, n);
}

int store_queue_list(struct store *store, bool dead, size_t max,
		     struct store_queue_row **ret_rows, size_t *ret_n)
{
	static const char pending_sql[] =
		"SELECT " QUEUE_PENDING_COLUMNS("''") " ORDER BY id LIMIT ?1";
	static const char dead_sql[] =
		"SELECT " QUEUE_DEAD_COLUMNS("''") " ORDER BY id LIMIT ?1";
	sqlite3_stmt *stmt = NULL;
	int r;

	r = prepare(store, dead ? dead_sql : pending_sql, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)max);

	r = store_collect(stmt, sizeof(**ret_rows), row_read_item, rows_release,
			  (void **)ret_rows, ret_n);
	sqlite3_finalize(stmt);
	return r;
}

/* One row of one table; *ret_found false when it has none. */
static int get_from(struct store *store, const char *sql, int64_t id,
		    struct store_queue_row *ret_row, bool *ret_found)
{
	struct store_queue_row row = {0};
	sqlite3_stmt *stmt = NULL;
	int rc;
	int r;

	r = prepare(store, sql, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, id);

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		*ret_found = false;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_errno(rc);
		goto out;
	}

	r = row_read(stmt, &row);
	if (r < 0) {
		store_queue_row_release(&row);
		goto out;
	}
	*ret_row = row;
	*ret_found = true;
out:
	sqlite3_finalize(stmt);
	return r;
}

int store_queue_get(struct store *store, int64_t id,
		    enum store_queue_scope scope,
		    struct store_queue_row *ret_row, bool *ret_found)
{
	static const char pending_sql[] =
		"SELECT " QUEUE_PENDING_COLUMNS("body") " WHERE id = ?1";
	static const char dead_sql[] =
		"SELECT " QUEUE_DEAD_COLUMNS("body") " WHERE id = ?1";
	bool found = false;
	int r = 0;

	if (scope != STORE_QUEUE_DEAD)
		r = get_from(store, pending_sql, id, ret_row, &found);
	if (r == 0 && !found && scope != STORE_QUEUE_PENDING)
		r = get_from(store, dead_sql, id, ret_row, &found);
	if (r == 0)
		*ret_found = found;
	return r;
}

/* Runs one statement bound to id (and now_ms as ?2, when it has one);
 * -ENOENT when it changed nothing. */
static int run_on(struct store *store, const char *sql, int64_t id,
		  int64_t now_ms)
{
	sqlite3_stmt *stmt = NULL;
	int r;

	r = prepare(store, sql, &stmt);
	if (r < 0)
		return r;
	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, now_ms);

	r = store_stmt_run(stmt);
	if (r == 0 && sqlite3_changes(store->db) == 0)
		r = -ENOENT;
	sqlite3_finalize(stmt);
	return r;
}

int store_queue_retry(struct store *store, int64_t id, bool dead,
		      int64_t now_ms)
{
	static const char due_sql[] =
		"UPDATE outbox SET next_attempt_ms = ?2 WHERE id = ?1";
	static const char revive_sql[] =
		"INSERT INTO outbox(id, kind, order_key, target, action, body,"
		" detail, created_ms, attempts, next_attempt_ms, last_error)"
		" SELECT id, kind, order_key, target, action, body, detail,"
		" ?2, 0, ?2, 'retried after: ' || reason"
		" FROM dead_letters WHERE id = ?1";
	static const char forget_sql[] = "DELETE FROM dead_letters"
					 " WHERE id = ?1";
	bool own = !store->in_transaction;
	int r;

	if (!dead)
		return run_on(store, due_sql, id, now_ms);

	if (own) {
		r = store_begin(store);
		if (r < 0)
			return r;
	}

	r = run_on(store, revive_sql, id, now_ms);
	if (r == 0)
		r = run_on(store, forget_sql, id, now_ms);

	if (own) {
		if (r == 0)
			return store_commit(store);
		store_rollback(store);
	}
	return r;
}

int store_queue_drop(struct store *store, int64_t id, bool dead)
{
	return run_on(store,
		      dead ? "DELETE FROM dead_letters WHERE id = ?1"
			   : "DELETE FROM outbox WHERE id = ?1",
		      id, 0);
}
