/*
 * checkpointer: a thread that moves the write-ahead log into the
 * database file, so that the writer never stalls on it.
 *
 * SQLite checkpoints inside the commit that takes the log past 1000
 * pages: it copies the log into the database and syncs both files, and
 * meanwhile every request waiting on the writer waits too. Under a
 * steady load that happens a few times a second. Here the writer's
 * connection hands the job over (store_checkpoint_elsewhere()) and asks
 * for a checkpoint when the log is long (checkpointer_request()); this
 * thread, on a connection of its own, makes SQLite's passive checkpoint,
 * which blocks no reader or writer.
 *
 * A passive checkpoint moves what was committed when it began. While
 * writes never pause, some of the log is always newer than that, so the
 * log is never all moved and SQLite cannot start it over: it grows. To
 * keep it bounded, the writer, once the log is long past the point,
 * checkpoints on its own connection between commits
 * (checkpointer_run()), which moves all of it, as SQLite would have.
 *
 * That last checkpoint waits at most 200 ms for readers. A reader that
 * stays longer in the log (an operator's report over a large store,
 * say) makes it give up; the writer tries again each 1000 pages, and
 * meanwhile the log grows past its bound.
 *
 * The delivery thread's connection keeps SQLite's own checkpoints: it
 * answers no request, and while nothing is ingested (an outbox drained
 * under PagerDuty's rate limit) its commits are the only ones.
 */
#ifndef ALERTBRIDGE_CHECKPOINTER_H
#define ALERTBRIDGE_CHECKPOINTER_H

#include "store.h"

struct checkpointer;

/* Opens a connection to the store in dir and starts the thread. */
int checkpointer_start(const char *dir, struct checkpointer **ret_cp);

/*
 * Asks for a checkpoint soon; returns at once, so it is safe from a
 * store_log_fn. Requests made while one runs make one more after it.
 */
void checkpointer_request(struct checkpointer *cp);

/*
 * Checkpoints on the caller's connection, store, once any checkpoint
 * under way is done: a restarting one (STORE_CHECKPOINT_RESTART), which
 * waits briefly for readers. Returns when it is done: 0, -EBUSY when a
 * reader outlasted the wait, or the store's error.
 */
int checkpointer_run(struct checkpointer *cp, struct store *store);

/* Stops the thread and closes its connection; takes NULL. */
void checkpointer_stop(struct checkpointer *cp);

#endif
