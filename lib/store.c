/*
 * store: SQLite in WAL mode with full synchronous commits, so that a
 * commit is on disk before the caller acknowledges what it holds.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_internal.h"
#include "util.h"

#ifdef ALERTBRIDGE_FAULT_INJECTION
#include "store_fault.h"
#endif

#define STORE_SCHEMA_VERSION 3

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta ("
	" key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS seen ("
	" message_id TEXT PRIMARY KEY, topic_arn TEXT, type TEXT,"
	" received_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS seen_received ON seen(received_ms);"
	"CREATE TABLE IF NOT EXISTS incidents ("
	" dedup_key TEXT PRIMARY KEY, identity TEXT NOT NULL,"
	" status TEXT NOT NULL, changed_at_ms INTEGER NOT NULL,"
	" target TEXT, route TEXT, alert_name TEXT, severity TEXT,"
	" opened_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
	" order_key TEXT NOT NULL, target TEXT, action TEXT NOT NULL,"
	" body TEXT NOT NULL, detail TEXT, created_ms INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_ms INTEGER NOT NULL, last_error TEXT);"
	"CREATE INDEX IF NOT EXISTS outbox_order ON outbox(order_key, id);"
	"CREATE INDEX IF NOT EXISTS outbox_target ON outbox(target, id);"
	"CREATE TABLE IF NOT EXISTS dead_letters ("
	" id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"
	" order_key TEXT NOT NULL, target TEXT, action TEXT NOT NULL,"
	" body TEXT NOT NULL, detail TEXT, created_ms INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL, dead_ms INTEGER NOT NULL,"
	" reason TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS subscriptions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, topic_arn TEXT NOT NULL,"
	" message_id TEXT, status TEXT NOT NULL, detail TEXT,"
	" recorded_ms INTEGER NOT NULL);";

enum store_stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_SAVEPOINT_RELEASE,
	STMT_SAVEPOINT_ROLLBACK,
	STMT_SEEN_CHECK,
	STMT_SEEN_ADD,
	STMT_SEEN_PRUNE,
	STMT_OUTBOX_ADD,
	STMT_OUTBOX_DUE,
	STMT_OUTBOX_DUE_NO_TARGET,
	STMT_OUTBOX_NEXT_DUE,
	STMT_OUTBOX_DONE,
	STMT_OUTBOX_RESCHEDULE,
	STMT_OUTBOX_TO_DEAD,
	STMT_OUTBOX_STATS,
	STMT_OUTBOX_TARGETS,
	STMT_DEAD_COUNT,
	STMT_SUBSCRIPTION_RECORD,
	STMT_PROBE,
	STMT_COUNT
};

/*
 * The head of each order_key is the row with the smallest id; only heads
 * may be sent, which keeps a resolve behind its trigger. The column head
 * marks them (see the migration from schema 2).
 */
#define OUTBOX_COLUMNS                                                         \
	"o.id, o.kind, o.order_key, o.target, o.action, o.body, o.detail,"     \
	" o.created_ms, o.attempts, o.next_attempt_ms, o.last_error"
#define OUTBOX_IS_HEAD "o.head = 1"

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT item",
	[STMT_SAVEPOINT_RELEASE] = "RELEASE item",
	[STMT_SAVEPOINT_ROLLBACK] = "ROLLBACK TO item",
	[STMT_SEEN_CHECK] = "SELECT 1 FROM seen WHERE message_id = ?1",
	[STMT_SEEN_ADD] = "INSERT INTO seen(message_id, topic_arn, type,"
			  " received_ms) VALUES (?1, ?2, ?3, ?4)",
	[STMT_SEEN_PRUNE] = "DELETE FROM seen WHERE received_ms < ?1",
	[STMT_OUTBOX_ADD] =
		"INSERT INTO outbox(kind, order_key, target, action, body,"
		" detail, created_ms, attempts, next_attempt_ms, last_error)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[STMT_OUTBOX_DUE] = "SELECT " OUTBOX_COLUMNS " FROM outbox o"
			    " WHERE o.target = ?1 AND o.next_attempt_ms <= ?2"
			    " AND " OUTBOX_IS_HEAD " ORDER BY o.id LIMIT ?3",
	[STMT_OUTBOX_DUE_NO_TARGET] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox o"
		" WHERE o.target IS NULL AND o.next_attempt_ms <= ?2"
		" AND " OUTBOX_IS_HEAD " ORDER BY o.id LIMIT ?3",
	[STMT_OUTBOX_NEXT_DUE] = "SELECT MIN(o.next_attempt_ms) FROM outbox o"
				 " WHERE " OUTBOX_IS_HEAD,
	[STMT_OUTBOX_DONE] = "DELETE FROM outbox WHERE id = ?1",
	[STMT_OUTBOX_RESCHEDULE] =
		"UPDATE outbox SET attempts = ?2, next_attempt_ms = ?3,"
		" last_error = ?4 WHERE id = ?1",
	[STMT_OUTBOX_TO_DEAD] =
		"INSERT INTO dead_letters(id, kind, order_key, target, action,"
		" body, detail, created_ms, attempts, dead_ms, reason)"
		" SELECT id, kind, order_key, target, action, body, detail,"
		" created_ms, ?4, ?2, ?3 FROM outbox WHERE id = ?1",
	[STMT_OUTBOX_STATS] = "SELECT COUNT(*), MIN(created_ms) FROM outbox",
	[STMT_OUTBOX_TARGETS] = "SELECT DISTINCT target FROM outbox"
				" WHERE target IS NOT NULL ORDER BY target",
	[STMT_DEAD_COUNT] = "SELECT COUNT(*) FROM dead_letters",
	[STMT_SUBSCRIPTION_RECORD] =
		"INSERT INTO subscriptions(topic_arn, message_id, status,"
		" detail, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	[STMT_PROBE] = "INSERT OR REPLACE INTO meta(key, value)"
		       " VALUES ('probe', ?1)",
};

/* Maps an SQLite result to our convention: disk full stays visible. */
int store_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CONSTRAINT:
		return -EEXIST;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	default:
		return -EIO;
	}
}

const char *store_error(const struct store *store)
{
	return store && store->db ? sqlite3_errmsg(store->db) : "no store";
}

static sqlite3_stmt *stmt_get(struct store *store, enum store_stmt which)
{
	sqlite3_stmt *stmt = store->stmt[which];

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

/* Runs a statement that returns no rows. */
int store_stmt_run(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	int r;

	sqlite3_reset(stmt);
	if (rc == SQLITE_DONE)
		return 0;

	/* A row where none was expected is a programming error. */
	r = store_errno(rc);
	return r < 0 ? r : -EIO;
}

int store_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (!text)
		return sqlite3_bind_null(stmt, index);
	return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

char *store_column_strdup(sqlite3_stmt *stmt, int index)
{
	const unsigned char *text = sqlite3_column_text(stmt, index);

	return text ? strdup((const char *)text) : NULL;
}

/*
 * Schema changes, each taking the schema from version i + 1 to i + 2.
 * Version 2 adds escalation to incidents, pages sent per level, the
 * incident timeline and silences set through the API; version 3 marks
 * the head of each order key in the outbox.
 */
static const char *const migrations[] = {
	"ALTER TABLE incidents ADD COLUMN policy TEXT;"
	"ALTER TABLE incidents ADD COLUMN payload TEXT;"
	"ALTER TABLE incidents ADD COLUMN esc_status TEXT NOT NULL"
	" DEFAULT 'none';"
	"ALTER TABLE incidents ADD COLUMN esc_opened_ms INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE incidents ADD COLUMN esc_next INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE incidents ADD COLUMN next_deadline_ms INTEGER;"
	"ALTER TABLE incidents ADD COLUMN acked_ms INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE incidents ADD COLUMN ack_source TEXT;"
	"ALTER TABLE incidents ADD COLUMN silenced_until_ms INTEGER NOT NULL"
	" DEFAULT 0;"
	"CREATE INDEX incidents_deadline ON incidents(next_deadline_ms)"
	" WHERE next_deadline_ms IS NOT NULL;"
	"CREATE TABLE pages ("
	" level_key TEXT PRIMARY KEY, dedup_key TEXT NOT NULL,"
	" step INTEGER NOT NULL, pass INTEGER NOT NULL, target TEXT NOT NULL,"
	" paged_ms INTEGER NOT NULL, resolved_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX pages_incident ON pages(dedup_key);"
	"CREATE TABLE timeline ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, dedup_key TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL, what TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX timeline_incident ON timeline(dedup_key, id);"
	"CREATE TABLE silences ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT,"
	" spec TEXT NOT NULL, start_ms INTEGER NOT NULL,"
	" end_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL);",

	/*
	 * 2 to 3: the head of each order key (its row with the smallest
	 * id, the only one that may be sent) is marked, and kept marked by
	 * triggers through every insert and delete, so that finding what
	 * is due reads the heads alone. Found by a look-up per row, it
	 * cost the delivery thread a scan of the whole outbox each turn:
	 * 50 ms and more with 100,000 rows waiting, while PagerDuty's rate
	 * limit held them there.
	 *
	 * An insert is the head when nothing of its key comes before it;
	 * then a later head of its key (a dead letter retried keeps its
	 * old id) is one no more. A deleted head hands over to the next.
	 */
	"ALTER TABLE outbox ADD COLUMN head INTEGER NOT NULL DEFAULT 0;"
	"UPDATE outbox SET head = 1 WHERE id IN"
	" (SELECT MIN(id) FROM outbox GROUP BY order_key);"
	"CREATE INDEX outbox_heads ON outbox(target, id) WHERE head = 1;"
	"CREATE INDEX outbox_heads_due ON outbox(next_attempt_ms)"
	" WHERE head = 1;"
	"CREATE TRIGGER outbox_head_insert AFTER INSERT ON outbox"
	" WHEN NOT EXISTS (SELECT 1 FROM outbox h"
	"  WHERE h.order_key = new.order_key AND h.id < new.id)"
	" BEGIN"
	"  UPDATE outbox SET head = 0"
	"   WHERE order_key = new.order_key AND id > new.id AND head = 1;"
	"  UPDATE outbox SET head = 1 WHERE id = new.id;"
	" END;"
	"CREATE TRIGGER outbox_head_delete AFTER DELETE ON outbox"
	" WHEN old.head = 1"
	" BEGIN"
	"  UPDATE outbox SET head = 1 WHERE id = (SELECT MIN(id) FROM outbox"
	"   WHERE order_key = old.order_key);"
	" END;",
};

static int schema_version(struct store *store, int *ret_version)
{
	sqlite3_stmt *stmt = NULL;
	int rc;

	rc = sqlite3_prepare_v2(store->db,
				"SELECT value FROM meta WHERE key = 'schema'",
				-1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return store_errno(rc);

	rc = sqlite3_step(stmt);
	*ret_version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_errno(rc);
}

/* Creates the first schema when the file is new, then migrates. */
static int schema_check(struct store *store)
{
	char sql[96];
	int version = 0;
	int rc;
	int r;

	rc = sqlite3_exec(store->db, schema_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_errno(rc);

	r = schema_version(store, &version);
	if (r < 0)
		return r;

	/* A newer schema than ours is a downgrade we cannot read. */
	if (version > STORE_SCHEMA_VERSION)
		return -EPROTO;
	if (version == 0)
		version = 1;

	for (; version < STORE_SCHEMA_VERSION; version++) {
		rc = sqlite3_exec(store->db, "BEGIN IMMEDIATE", NULL, NULL,
				  NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(store->db, migrations[version - 1],
					  NULL, NULL, NULL);
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO meta(key, value)"
			 " VALUES ('schema', '%d')",
			 version + 1);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(store->db, "COMMIT", NULL, NULL,
					  NULL);
		if (rc != SQLITE_OK) {
			sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
			return store_errno(rc);
		}
	}
	return 0;
}

/* A read-only store must already hold our schema: older, it needs the
 * daemon's migration first; newer, it is a downgrade. */
static int schema_expect(struct store *store)
{
	int version = 0;
	int r = schema_version(store, &version);

	if (r < 0)
		return r;
	return version == STORE_SCHEMA_VERSION ? 0 : -EPROTO;
}

/* The default VFS, but in a test build that asked for a full disk. */
static const char *open_vfs(void)
{
#ifdef ALERTBRIDGE_FAULT_INJECTION
	return store_fault_vfs();
#else
	return NULL;
#endif
}

/* Why a file could not be opened: the system's own reason where SQLite
 * kept it (a permission, a missing directory), not a generic I/O error. */
static int open_errno(sqlite3 *db, int rc)
{
	int sys = sqlite3_system_errno(db);

	if ((rc & 0xff) == SQLITE_CANTOPEN && sys > 0)
		return -sys;
	return store_errno(rc);
}

static int open_store(const char *dir, bool read_only, struct store **ret_store)
{
	struct store *store;
	char path[4096];
	int flags;
	int rc;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;

	store = calloc(1, sizeof(*store));
	if (!store)
		return -ENOMEM;

	flags = SQLITE_OPEN_NOMUTEX |
		(read_only ? SQLITE_OPEN_READONLY
			   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &store->db, flags, open_vfs());
	if (rc != SQLITE_OK) {
		r = store->db ? open_errno(store->db, rc) : -ENOMEM;
		goto fail;
	}

	/* SQLite opens a file it may not write read-only without a word;
	 * every write would then fail while the daemon looked well. */
	if (!read_only && sqlite3_db_readonly(store->db, "main") == 1) {
		r = -EACCES;
		goto fail;
	}

	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(store->db, 1);

	if (read_only) {
		r = schema_expect(store);
		if (r < 0)
			goto fail;
		goto prepare;
	}

	/*
	 * WAL lets the delivery worker read while ingest writes; FULL makes
	 * every commit durable before the caller answers 200.
	 */
	rc = sqlite3_exec(store->db,
			  "PRAGMA journal_mode=WAL;"
			  "PRAGMA synchronous=FULL;"
			  "PRAGMA foreign_keys=ON;",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		r = store_errno(rc);
		goto fail;
	}

	r = schema_check(store);
	if (r < 0)
		goto fail;

	_Static_assert(STMT_COUNT <= STORE_STMTS_MAX, "too many statements");
prepare:
	/* Statements that write prepare on a read-only connection too; they
	 * would fail only when run. */
	for (int i = 0; i < STMT_COUNT; i++) {
		rc = sqlite3_prepare_v3(store->db, stmt_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT,
					&store->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			r = store_errno(rc);
			goto fail;
		}
	}

	r = store_incident_prepare(store);
	if (r < 0)
		goto fail;

	*ret_store = store;
	return 0;
fail:
	store_close(store);
	return r < 0 ? r : -EIO;
}

int store_open(const char *dir, struct store **ret_store)
{
	return open_store(dir, false, ret_store);
}

int store_open_read_only(const char *dir, struct store **ret_store)
{
	return open_store(dir, true, ret_store);
}

int store_lock(const char *dir, int *ret_fd)
{
	char path[4096];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_LOCK_NAME) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;

		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void store_close(struct store *store)
{
	if (!store)
		return;

	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(store->stmt[i]);
	store_incident_finalize(store);
	sqlite3_close(store->db);
	free(store);
}

int store_begin(struct store *store)
{
	int r = store_stmt_run(stmt_get(store, STMT_BEGIN));

	if (r == 0)
		store->in_transaction = true;
	return r;
}

int store_commit(struct store *store)
{
	int r = store_stmt_run(stmt_get(store, STMT_COMMIT));

	/* A failed COMMIT may leave the transaction open: roll it back so
	 * the connection is usable again. */
	if (r < 0)
		store_rollback(store);
	store->in_transaction = false;
	return r;
}

void store_rollback(struct store *store)
{
	if (sqlite3_get_autocommit(store->db)) {
		store->in_transaction = false;
		return;
	}
	store_stmt_run(stmt_get(store, STMT_ROLLBACK));
	store->in_transaction = false;
}

bool store_transaction_open(const struct store *store)
{
	return !sqlite3_get_autocommit(store->db);
}

int store_savepoint(struct store *store)
{
	return store_stmt_run(stmt_get(store, STMT_SAVEPOINT));
}

int store_savepoint_release(struct store *store)
{
	return store_stmt_run(stmt_get(store, STMT_SAVEPOINT_RELEASE));
}

void store_savepoint_rollback(struct store *store)
{
	/* ROLLBACK TO keeps the savepoint; RELEASE then drops it. */
	store_stmt_run(stmt_get(store, STMT_SAVEPOINT_ROLLBACK));
	store_stmt_run(stmt_get(store, STMT_SAVEPOINT_RELEASE));
}

int store_seen_check(struct store *store, const char *message_id,
		     bool *ret_seen)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_SEEN_CHECK);
	int rc;

	store_bind_text(stmt, 1, message_id);
	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(rc);

	*ret_seen = rc == SQLITE_ROW;
	return 0;
}

int store_seen_add(struct store *store, const char *message_id,
		   const char *topic_arn, const char *type, int64_t received_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_SEEN_ADD);

	store_bind_text(stmt, 1, message_id);
	store_bind_text(stmt, 2, topic_arn);
	store_bind_text(stmt, 3, type);
	sqlite3_bind_int64(stmt, 4, received_ms);
	return store_stmt_run(stmt);
}

int store_seen_prune(struct store *store, int64_t before_ms,
		     int64_t *ret_removed)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_SEEN_PRUNE);
	int r;

	sqlite3_bind_int64(stmt, 1, before_ms);
	r = store_stmt_run(stmt);
	if (r < 0)
		return r;

	if (ret_removed)
		*ret_removed = sqlite3_changes(store->db);
	return 0;
}

static const char *outbox_kind_name(enum store_outbox_kind kind)
{
	return kind == STORE_OUTBOX_SUBSCRIBE ? "subscribe" : "event";
}

void store_outbox_row_release(struct store_outbox_row *row)
{
	if (!row)
		return;

	free(row->order_key);
	free(row->target);
	free(row->action);
	free(row->body);
	free(row->detail);
	free(row->last_error);
	memset(row, 0, sizeof(*row));
}

void store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
	if (!rows)
		return;

	for (size_t i = 0; i < n; i++)
		store_outbox_row_release(&rows[i]);
	free(rows);
}

int store_outbox_add(struct store *store, const struct store_outbox_row *row,
		     int64_t *ret_id)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_ADD);
	int r;

	store_bind_text(stmt, 1, outbox_kind_name(row->kind));
	store_bind_text(stmt, 2, row->order_key);
	store_bind_text(stmt, 3, row->target);
	store_bind_text(stmt, 4, row->action);
	store_bind_text(stmt, 5, row->body);
	store_bind_text(stmt, 6, row->detail);
	sqlite3_bind_int64(stmt, 7, row->created_ms);
	sqlite3_bind_int(stmt, 8, (int)row->attempts);
	sqlite3_bind_int64(stmt, 9, row->next_attempt_ms);
	store_bind_text(stmt, 10, row->last_error);

	r = store_stmt_run(stmt);
	if (r < 0)
		return r;

	if (ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return 0;
}

int store_outbox_row_read(sqlite3_stmt *stmt, struct store_outbox_row *row)
{
	const char *kind = (const char *)sqlite3_column_text(stmt, 1);

	row->id = sqlite3_column_int64(stmt, 0);
	row->kind = kind && strcmp(kind, "subscribe") == 0
			    ? STORE_OUTBOX_SUBSCRIBE
			    : STORE_OUTBOX_EVENT;
	row->order_key = store_column_strdup(stmt, 2);
	row->target = store_column_strdup(stmt, 3);
	row->action = store_column_strdup(stmt, 4);
	row->body = store_column_strdup(stmt, 5);
	row->detail = store_column_strdup(stmt, 6);
	row->created_ms = sqlite3_column_int64(stmt, 7);
	row->attempts = (unsigned int)sqlite3_column_int(stmt, 8);
	row->next_attempt_ms = sqlite3_column_int64(stmt, 9);
	row->last_error = store_column_strdup(stmt, 10);

	if (!row->order_key || !row->action || !row->body)
		return -ENOMEM;
	return 0;
}

static int outbox_row_read(sqlite3_stmt *stmt, void *item)
{
	return store_outbox_row_read(stmt, item);
}

static void outbox_rows_release(void *items, size_t n)
{
	store_outbox_rows_free(items, n);
}

int store_outbox_due(struct store *store, const char *target, int64_t now_ms,
		     size_t max, struct store_outbox_row **ret_rows,
		     size_t *ret_n)
{
	sqlite3_stmt *stmt;

	if (max == 0) {
		*ret_rows = NULL;
		*ret_n = 0;
		return 0;
	}

	stmt = stmt_get(store,
			target ? STMT_OUTBOX_DUE : STMT_OUTBOX_DUE_NO_TARGET);
	if (target)
		store_bind_text(stmt, 1, target);
	sqlite3_bind_int64(stmt, 2, now_ms);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)max);
	return store_collect(stmt, sizeof(**ret_rows), outbox_row_read,
			     outbox_rows_release, (void **)ret_rows, ret_n);
}

int store_outbox_next_due(struct store *store, int64_t *ret_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_NEXT_DUE);
	int64_t next = INT64_MAX;
	int rc;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(rc);

	*ret_ms = next;
	return 0;
}

int store_outbox_done(struct store *store, int64_t id)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_DONE);

	sqlite3_bind_int64(stmt, 1, id);
	return store_stmt_run(stmt);
}

int store_outbox_reschedule(struct store *store, int64_t id,
			    unsigned int attempts, int64_t next_ms,
			    const char *error)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_RESCHEDULE);

	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int(stmt, 2, (int)attempts);
	sqlite3_bind_int64(stmt, 3, next_ms);
	store_bind_text(stmt, 4, error);
	return store_stmt_run(stmt);
}

int store_outbox_dead(struct store *store, int64_t id, unsigned int attempts,
		      int64_t now_ms, const char *reason)
{
	sqlite3_stmt *stmt;
	bool own = !store->in_transaction;
	int r;

	if (own) {
		r = store_begin(store);
		if (r < 0)
			return r;
	}

	stmt = stmt_get(store, STMT_OUTBOX_TO_DEAD);
	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, now_ms);
	store_bind_text(stmt, 3, reason ? reason : "unknown");
	sqlite3_bind_int64(stmt, 4, attempts);
	r = store_stmt_run(stmt);
	if (r < 0)
		goto fail;

	r = store_outbox_done(store, id);
	if (r < 0)
		goto fail;

	if (own)
		return store_commit(store);
	return 0;
fail:
	if (own)
		store_rollback(store);
	return r;
}

int store_outbox_stats(struct store *store, int64_t *ret_depth,
		       int64_t *ret_oldest_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_STATS);
	int rc;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_depth = sqlite3_column_int64(stmt, 0);
		*ret_oldest_ms = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : store_errno(rc);
}

int store_outbox_targets(struct store *store, size_t max, char ***ret_names,
			 size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_OUTBOX_TARGETS);
	char **names = NULL;
	size_t n = 0;
	int rc = SQLITE_DONE;
	int r = 0;

	names = calloc(max ? max : 1, sizeof(*names));
	if (!names)
		return -ENOMEM;

	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		names[n] = strdup((const char *)sqlite3_column_text(stmt, 0));
		if (!names[n]) {
			r = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		r = store_errno(rc);
		goto out;
	}

	*ret_names = names;
	*ret_n = n;
	names = NULL;
out:
	sqlite3_reset(stmt);
	store_names_free(names, n);
	return r;
}

void store_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int store_dead_count(struct store *store, int64_t *ret_count)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_DEAD_COUNT);
	int rc;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret_count = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : store_errno(rc);
}

int store_subscription_record(struct store *store, const char *topic_arn,
			      const char *message_id, const char *status,
			      const char *detail, int64_t now_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, STMT_SUBSCRIPTION_RECORD);

	store_bind_text(stmt, 1, topic_arn);
	store_bind_text(stmt, 2, message_id);
	store_bind_text(stmt, 3, status);
	store_bind_text(stmt, 4, detail);
	sqlite3_bind_int64(stmt, 5, now_ms);
	return store_stmt_run(stmt);
}

int store_probe(struct store *store, int64_t now_ms)
{
	sqlite3_stmt *stmt;
	char text[24];
	int r;

	r = store_begin(store);
	if (r < 0)
		return r;

	snprintf(text, sizeof(text), "%lld", (long long)now_ms);
	stmt = stmt_get(store, STMT_PROBE);
	store_bind_text(stmt, 1, text);
	r = store_stmt_run(stmt);
	if (r < 0) {
		store_rollback(store);
		return r;
	}
	return store_commit(store);
}
