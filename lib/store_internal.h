/*
 * store_internal: what the store's source files share; not part of the
 * store's contract (store.h).
 */
#ifndef ALERTBRIDGE_STORE_INTERNAL_H
#define ALERTBRIDGE_STORE_INTERNAL_H

#include <stdbool.h>

#include <sqlite3.h>

#include "store.h"

/*
 * How long a writer waits for the other connection's write lock. The
 * delivery worker and the ingest writer each hold it for one short
 * transaction at a time.
 */
#define STORE_BUSY_TIMEOUT_MS 10000

#define STORE_STMTS_MAX          32
#define STORE_INCIDENT_STMTS_MAX 32

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[STORE_STMTS_MAX];                   /* store.c */
	sqlite3_stmt *incident_stmt[STORE_INCIDENT_STMTS_MAX]; /* incidents */
	bool in_transaction;
	store_log_fn *log_fn; /* store_checkpoint_elsewhere() */
	void *log_arg;
};

/* An SQLite result as a negative errno (0 for OK, ROW and DONE). */
int store_errno(int rc);

/* Steps a statement that returns no rows, then resets it. */
int store_stmt_run(sqlite3_stmt *stmt);

/* Binds text, or NULL for a NULL pointer; the text must outlive the
 * statement's next step. */
int store_bind_text(sqlite3_stmt *stmt, int index, const char *text);

char *store_column_strdup(sqlite3_stmt *stmt, int index);

/*
 * Reads the eleven columns of an outbox row, from column 0: id, kind,
 * order_key, target, action, body, detail, created_ms, attempts,
 * next_attempt_ms, last_error.
 */
int store_outbox_row_read(sqlite3_stmt *stmt, struct store_outbox_row *row);

/*
 * Steps stmt (bound by the caller) and reads each row into a growing
 * array of item_size elements, then resets stmt; on failure frees what
 * was read with release (which takes the array and its count). No rows:
 * *ret_items NULL and *ret_n 0.
 */
int store_collect(sqlite3_stmt *stmt, size_t item_size,
		  int (*read)(sqlite3_stmt *stmt, void *item),
		  void (*release)(void *items, size_t n), void **ret_items,
		  size_t *ret_n);

/* Prepares and finalizes the statements of store_incident.c. */
int store_incident_prepare(struct store *store);
void store_incident_finalize(struct store *store);

#endif
