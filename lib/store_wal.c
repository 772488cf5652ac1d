/*
 * store_wal: the write-ahead log's checkpoints, taken out of the
 * committing connection's hands (store.h).
 */
#include <stdbool.h>

#include <sqlite3.h>

#include "store.h"
#include "store_internal.h"

/* How long a restarting checkpoint waits for readers and writers. */
#define STORE_CHECKPOINT_WAIT_MS 200

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *store = arg;

	(void)db;
	(void)name;
	if (store->log_fn)
		store->log_fn(store->log_arg, pages);
	return SQLITE_OK;
}

void store_checkpoint_elsewhere(struct store *store, store_log_fn *fn,
				void *arg)
{
	store->log_fn = fn;
	store->log_arg = arg;

	/* The hook replaces SQLite's own, which is what checkpoints. */
	sqlite3_wal_hook(store->db, on_wal_commit, store);
}

int store_checkpoint(struct store *store, enum store_checkpoint_mode mode,
		     int *ret_log, int *ret_moved)
{
	bool restart = mode == STORE_CHECKPOINT_RESTART;
	int log = 0;
	int moved = 0;
	int rc;

	/* A restart waits for readers; the caller's thread waits too, so
	 * only briefly: an operator's long report must not stall it. */
	if (restart)
		sqlite3_busy_timeout(store->db, STORE_CHECKPOINT_WAIT_MS);
	rc = sqlite3_wal_checkpoint_v2(store->db, NULL,
				       restart ? SQLITE_CHECKPOINT_RESTART
					       : SQLITE_CHECKPOINT_PASSIVE,
				       &log, &moved);
	if (restart)
		sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);

	if (rc != SQLITE_OK)
		return store_errno(rc);

	if (ret_log)
		*ret_log = log;
	if (ret_moved)
		*ret_moved = moved;
	return 0;
}
