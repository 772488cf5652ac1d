/*
 * store: the durable state, one SQLite database in WAL mode in the state
 * directory: MessageIds seen, incidents, the outbox of events still to
 * deliver, dead letters, and subscription records.
 *
 * A store handle is one SQLite connection and must be used by one thread
 * at a time; each thread that needs the store opens its own. Writers
 * take the write lock with store_begin() (BEGIN IMMEDIATE), so a
 * decision read inside the transaction cannot be overtaken.
 */
#ifndef ALERTBRIDGE_STORE_H
#define ALERTBRIDGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "escalation.h"
#include "incident.h"

struct store;

/* The database file inside the state directory. */
#define STORE_FILE_NAME "alertbridge.db"

/*
 * Opens (creating when needed) dir/alertbridge.db, sets WAL and full
 * synchronous commits, and creates or checks the schema. The directory
 * must exist.
 */
int store_open(const char *dir, struct store **ret_store);

/*
 * Opens an existing dir/alertbridge.db for reading only: nothing is
 * created, migrated or written, so it is safe beside a running daemon
 * of another version. -EPROTO when the file's schema is not this
 * build's (the daemon migrates an older one at its start).
 */
int store_open_read_only(const char *dir, struct store **ret_store);

/* The lock file beside the database. */
#define STORE_LOCK_NAME "alertbridge.lock"

/*
 * Takes the state directory's exclusive lock (flock on dir/alertbridge
 * .lock, created when missing), held until *ret_fd is closed or the
 * process ends, a crash included. Whoever writes the store holds it, so
 * that two daemons never deliver the same outbox twice. -EBUSY when
 * another process holds it.
 */
int store_lock(const char *dir, int *ret_fd);
void store_close(struct store *store);

/* The last SQLite error text, for the caller's log line. */
const char *store_error(const struct store *store);

/*
 * A small write transaction (the time of the probe, kept in the schema's
 * meta table), committed like any other: 0 when the store can commit
 * again, so that a daemon whose disk filled up sees it recover without
 * waiting for traffic to try.
 */
int store_probe(struct store *store, int64_t now_ms);

int store_begin(struct store *store);
int store_commit(struct store *store);
/* Safe to call when no transaction is open. */
void store_rollback(struct store *store);

/*
 * Checkpoints, which move the write-ahead log into the database file.
 * SQLite makes one inside the commit that takes the log past 1000
 * pages, on the committing connection: a copy of the log and two
 * fsyncs, during which that connection's thread does nothing else. A
 * connection whose thread must not stall hands them to another.
 */

/* Hears of a commit on the connection: the pages now in the log. */
typedef void store_log_fn(void *arg, int log_pages);

/*
 * This connection stops checkpointing by itself; fn (when not NULL)
 * is called after each of its commits, on the committing thread, and
 * must not use the store.
 */
void store_checkpoint_elsewhere(struct store *store, store_log_fn *fn,
				void *arg);

enum store_checkpoint_mode {
	/*
	 * Moves what it can of the log without waiting for readers or
	 * writers. Once all of it is moved, the next write starts the log
	 * over from its beginning, if no reader is in the log just then.
	 */
	STORE_CHECKPOINT_PASSIVE,
	/*
	 * Waits (up to 200 ms) for other writers and readers, moves all
	 * of the log and makes sure the next write starts it over;
	 * writers wait meanwhile.
	 */
	STORE_CHECKPOINT_RESTART,
};

/*
 * A checkpoint, syncing both files as a commit does. *ret_log: pages in
 * the log; *ret_moved: of those, in the database now (either may be
 * NULL). -EBUSY when another connection is checkpointing, or (RESTART)
 * a reader or writer outlasted the wait.
 */
int store_checkpoint(struct store *store, enum store_checkpoint_mode mode,
		     int *ret_log, int *ret_moved);

/*
 * Whether a transaction is open. SQLite ends one by itself on some
 * errors (a full disk, an I/O error), rolling all of it back.
 */
bool store_transaction_open(const struct store *store);

/*
 * A savepoint inside the open transaction, so that one failed item of a
 * group commit can be undone without losing the others.
 */
int store_savepoint(struct store *store);
int store_savepoint_release(struct store *store);
void store_savepoint_rollback(struct store *store);

/* -- MessageIds seen, for idempotent SNS delivery -- */

int store_seen_check(struct store *store, const char *message_id,
		     bool *ret_seen);
int store_seen_add(struct store *store, const char *message_id,
		   const char *topic_arn, const char *type,
		   int64_t received_ms);
/* Forgets MessageIds received before before_ms. */
int store_seen_prune(struct store *store, int64_t before_ms,
		     int64_t *ret_removed);

/* -- incidents, their escalation, pages and timeline (store_incident.c) */

struct store_incident {
	char *dedup_key;
	char *identity;
	enum incident_status status;
	int64_t changed_at_ms;
	char *target; /* the target paged first, used again for the resolve */
	char *route;
	char *alert_name;
	char *severity;
	int64_t opened_ms; /* when first triggered, 0 if never */
	int64_t updated_ms;

	char *policy;  /* the escalation policy's name, NULL for none */
	char *payload; /* the last rendered payload, for later pages */
	enum escalation_status esc_status;
	int64_t esc_opened_ms;
	unsigned int esc_next;
	int64_t next_deadline_ms; /* ESCALATION_NEVER when nothing is due */
	int64_t acked_ms;
	char *ack_source;
	int64_t silenced_until_ms; /* a silenced trigger waits for this */
};

void store_incident_release(struct store_incident *incident);

/* *ret_found is false (and *ret_incident untouched) when there is none. */
int store_incident_get(struct store *store, const char *dedup_key,
		       struct store_incident *ret_incident, bool *ret_found);
int store_incident_put(struct store *store,
		       const struct store_incident *incident);

/*
 * The incident a PagerDuty key belongs to: key is the incident's own
 * dedup_key or the key of one of its pages. -ENOENT when none.
 */
int store_incident_find_key(struct store *store, const char *key,
			    char **ret_dedup_key);

/* Counts incidents by status (ret_counts indexed by incident_status). */
int store_incident_counts(struct store *store,
			  int64_t ret_counts[INCIDENT_STATUS_COUNT]);

/* Up to max dedup_keys whose next deadline is at or before now_ms. */
int store_incident_due(struct store *store, int64_t now_ms, size_t max,
		       char ***ret_keys, size_t *ret_n);

/* The earliest deadline of any incident, or ESCALATION_NEVER. */
int store_incident_next_deadline(struct store *store, int64_t *ret_ms);

/* Open incidents (triggered or silenced), newest first, at most max. */
int store_incident_list_open(struct store *store, size_t max,
			     struct store_incident **ret_incidents,
			     size_t *ret_n);
void store_incidents_free(struct store_incident *incidents, size_t n);

struct store_page {
	char *level_key;
	char *target;
	unsigned int step;
	unsigned int pass;
	int64_t paged_ms;
};

/* Records that level_key was paged (again: the first time is kept). */
int store_page_add(struct store *store, const char *dedup_key,
		   const struct store_page *page);

/* The pages of an incident not yet resolved, oldest first. */
int store_pages_open(struct store *store, const char *dedup_key,
		     struct store_page **ret_pages, size_t *ret_n);
int store_pages_resolve(struct store *store, const char *dedup_key,
			int64_t now_ms);
void store_pages_free(struct store_page *pages, size_t n);

/*
 * Figures for metrics: open incidents by the levels they have paged
 * (ret_levels[0] one level, ..., the last n_levels or more), incidents
 * with a deadline, and the earliest deadline (0 when none).
 */
int store_escalation_stats(struct store *store, size_t n_levels,
			   int64_t *ret_levels, int64_t *ret_timers,
			   int64_t *ret_next_ms);

/* A silence set through the API; spec is its JSON as given. */
struct store_silence {
	int64_t id;
	char *name;
	char *spec;
	int64_t start_ms;
	int64_t end_ms;
};

int store_silence_add(struct store *store, const struct store_silence *silence,
		      int64_t now_ms, int64_t *ret_id);
/* Silences not yet over at now_ms, in the order set. */
int store_silence_list(struct store *store, int64_t now_ms,
		       struct store_silence **ret_silences, size_t *ret_n);
void store_silences_free(struct store_silence *silences, size_t n);
int store_silence_delete(struct store *store, int64_t id, bool *ret_found);

/*
 * A silence was lifted: every incident a silence holds falls due at
 * now_ms and is paged then. Which silence held which incident is not
 * kept, so one still held by another silence is paged too: paging
 * early is the safe side of the error.
 */
int store_incident_release_silenced(struct store *store, int64_t now_ms);

/*
 * Appends to an incident's timeline, inside the transaction of the
 * change it records. what is one of: "triggered" (the alarm fired;
 * detail: the message id), "silenced" (held by a silence), "paged"
 * ("level N (target)"), "acknowledged" and "unacknowledged" ("source"
 * or "source by actor"), "resolved" (a command: the same), "recovered"
 * (the alarm's OK; detail: the message id).
 */
int store_timeline_add(struct store *store, const char *dedup_key,
		       int64_t at_ms, const char *what, const char *detail);

struct store_timeline_entry {
	int64_t id;
	int64_t at_ms;
	char *what;
	char *detail; /* may be NULL */
};

/*
 * The triggers for an incident or its pages that PagerDuty has not
 * accepted: still in the outbox (*ret_pending) or dead-lettered
 * (*ret_dead).
 */
int store_incident_undelivered(struct store *store, const char *dedup_key,
			       int64_t *ret_pending, int64_t *ret_dead);

/* An incident's timeline, in the order recorded, at most max entries
 * (the latest ones when there are more). */
int store_timeline_list(struct store *store, const char *dedup_key, size_t max,
			struct store_timeline_entry **ret_entries,
			size_t *ret_n);
void store_timeline_free(struct store_timeline_entry *entries, size_t n);

/* -- the outbox -- */

enum store_outbox_kind {
	STORE_OUTBOX_EVENT,     /* a PagerDuty event */
	STORE_OUTBOX_SUBSCRIBE, /* a GET of an SNS SubscribeURL */
};

struct store_outbox_row {
	int64_t id;
	enum store_outbox_kind kind;
	char *order_key; /* rows with one key go strictly in id order */
	char *target;    /* target name; NULL for subscriptions */
	char *action;    /* trigger, acknowledge, resolve; or "subscribe" */
	char *body;      /* event payload JSON, or the SubscribeURL */
	char *detail;    /* message id, topic: context for the log */
	int64_t created_ms;
	unsigned int attempts;
	int64_t next_attempt_ms;
	char *last_error;
};

void store_outbox_row_release(struct store_outbox_row *row);
void store_outbox_rows_free(struct store_outbox_row *rows, size_t n);

int store_outbox_add(struct store *store, const struct store_outbox_row *row,
		     int64_t *ret_id);

/*
 * Rows ready to send at now_ms: only the oldest row of each order_key
 * (so nothing overtakes an earlier row of its key), of the given target
 * (NULL: rows with no target), at most max, oldest first. The caller
 * frees them with store_outbox_rows_free().
 */
int store_outbox_due(struct store *store, const char *target, int64_t now_ms,
		     size_t max, struct store_outbox_row **ret_rows,
		     size_t *ret_n);

/* The earliest next_attempt_ms of any head row, or INT64_MAX. */
int store_outbox_next_due(struct store *store, int64_t *ret_ms);

/* Delivered: the row goes away. */
int store_outbox_done(struct store *store, int64_t id);

/* Failed for now: try again at next_ms. */
int store_outbox_reschedule(struct store *store, int64_t id,
			    unsigned int attempts, int64_t next_ms,
			    const char *error);

/* Failed for good: moved to the dead letters with reason, after
 * attempts tries in all (the one that ended it included). */
int store_outbox_dead(struct store *store, int64_t id, unsigned int attempts,
		      int64_t now_ms, const char *reason);

/* Depth and the created_ms of the oldest row (0 when empty). */
int store_outbox_stats(struct store *store, int64_t *ret_depth,
		       int64_t *ret_oldest_ms);

/*
 * The names of the targets that rows wait for, at most max, in name
 * order: with a configuration that no longer has some of them, the
 * delivery worker still finds their rows. Free with store_names_free().
 */
int store_outbox_targets(struct store *store, size_t max, char ***ret_names,
			 size_t *ret_n);
void store_names_free(char **names, size_t n);

int store_dead_count(struct store *store, int64_t *ret_count);

/* -- the outbox and the dead letters for operators (store_queue.c) -- */

/*
 * A row of the outbox or of the dead letters. Ids are unique across
 * both: a dead letter keeps the id its outbox row had, and the outbox
 * never hands out an id twice.
 */
struct store_queue_row {
	struct store_outbox_row row; /* next_attempt_ms, last_error: pending */
	bool dead;
	int64_t dead_ms; /* dead letters only */
	char *reason;    /* dead letters only */
};

void store_queue_row_release(struct store_queue_row *row);
void store_queue_rows_free(struct store_queue_row *rows, size_t n);

enum store_queue_scope {
	STORE_QUEUE_ANY,     /* the outbox, then the dead letters */
	STORE_QUEUE_PENDING, /* the outbox only */
	STORE_QUEUE_DEAD,    /* the dead letters only */
};

/*
 * The outbox (dead false) or the dead letters, oldest id first, at most
 * max rows, without their bodies (body is "").
 */
int store_queue_list(struct store *store, bool dead, size_t max,
		     struct store_queue_row **ret_rows, size_t *ret_n);

/* One row with its body; *ret_found false (and *ret_row untouched)
 * when scope holds no row with that id. */
int store_queue_get(struct store *store, int64_t id,
		    enum store_queue_scope scope,
		    struct store_queue_row *ret_row, bool *ret_found);

/*
 * A dead letter (dead true) goes back into the outbox under its own id,
 * so it keeps its place before any later row of its order key; its
 * attempts start again from 0 and its retry deadline counts from
 * now_ms. A pending row (dead false) falls due at now_ms. -ENOENT when
 * there is no such row. Runs in the caller's transaction, or in one of
 * its own.
 */
int store_queue_retry(struct store *store, int64_t id, bool dead,
		      int64_t now_ms);

/* Deletes a row of the outbox (dead false) or of the dead letters.
 * -ENOENT when there is no such row. */
int store_queue_drop(struct store *store, int64_t id, bool dead);

/* -- subscriptions -- */

/* Records a subscription event: "pending", "confirmed", "failed", ... */
int store_subscription_record(struct store *store, const char *topic_arn,
			      const char *message_id, const char *status,
			      const char *detail, int64_t now_ms);

#endif
