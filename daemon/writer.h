/*
 * writer: the one thread that writes accepted SNS messages to the store.
 *
 * Request threads hand it an item and wait. It takes every item queued
 * (up to a batch), applies each inside one transaction (MessageId seen,
 * incident decision and change, outbox rows) and commits once, so that
 * one fsync serves many requests; then it wakes each request with its
 * result. Nothing is acknowledged before its commit.
 *
 * The same thread is the escalation scheduler: between batches it fires
 * the steps and silence ends that fell due (pager_tick()), waiting on the
 * monotonic clock for the earliest stored deadline, so that they share
 * the one writer with ingest. Deadlines are judged on the daemon's clock
 * (app_wall_ms()), which a step of the system's clock does not move.
 * After a start it logs what it fired late (escalation.catch_up); it
 * logs a step of the system's clock when it sees one.
 *
 * Its commits leave checkpoints of the store's write-ahead log to a
 * thread of their own (checkpointer.h), so that no request waits on
 * one, until the log passes its bound.
 *
 * app->store_ok follows the last commit. While it is false the writer
 * probes the store with a small commit every half second, so that
 * readiness comes back when the store does (disk space freed), with or
 * without traffic.
 */
#ifndef ALERTBRIDGE_WRITER_H
#define ALERTBRIDGE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "incident.h"
#include "pager.h"
#include "sns.h"
#include "store.h"

enum writer_result {
	WRITER_ACCEPTED,
	WRITER_DUPLICATE, /* MessageId seen before: nothing changed */
	WRITER_FAILED,    /* the store could not take it: answer 5xx */
};

enum writer_kind {
	WRITER_SNS,     /* an SNS message (type says which) */
	WRITER_COMMAND, /* an acknowledgement, unacknowledgement or resolve */
	WRITER_QUEUE,   /* an operator's retry or drop of a queue row */
};

enum writer_queue_op {
	WRITER_QUEUE_RETRY,
	WRITER_QUEUE_DROP,
};

struct writer_item {
	enum writer_kind kind;

	/*
	 * in: the configuration the item was planned with (the caller's
	 * reference, see app.h), which the writer applies it with.
	 */
	const struct config *config;

	/*
	 * in: the id that makes it idempotent (SNS MessageId, PagerDuty
	 * X-Webhook-Id), remembered with seen_type; NULL for none.
	 */
	const char *message_id;
	const char *seen_type;
	int64_t received_ms;

	/* in: SNS */
	enum sns_type type;
	const char *topic_arn;
	struct pager_alert alert;  /* Notification */
	const char *subscribe_url; /* SubscriptionConfirmation */

	/* in: command */
	enum pager_command command;
	const char *key;
	const char *source; /* "webhook", "api" */
	const char *actor;

	/* in: queue (store_queue_retry(), store_queue_drop()) */
	enum writer_queue_op queue_op;
	int64_t queue_id;
	enum store_queue_scope queue_scope;

	/* out */
	enum writer_result result;
	struct pager_result outcome; /* release with writer_item_release() */
	bool queue_found; /* queue: the row, as it was, in queue_row */
	struct store_queue_row queue_row;
	int error; /* negative errno with WRITER_FAILED */

	/* private */
	bool done;
	struct writer_item *next;
};

/* Frees what the writer allocated in item's results. */
void writer_item_release(struct writer_item *item);

int writer_start(struct app *app, struct writer **ret_writer);

/* Applies item durably; returns when it is committed or has failed. */
void writer_submit(struct writer *writer, struct writer_item *item);

/* Deadlines changed behind the writer's back: look at them now. */
void writer_poke(struct writer *writer);

/*
 * When the thread last turned, in app_mono_ms(); 0 until its first
 * scheduler pass (what fell due while the daemon was down) is done.
 * It turns at least every app->heartbeat_ms while idle; a value older
 * than that by far means it is stuck (in a commit, say).
 */
int64_t writer_heartbeat(const struct writer *writer);

/* Finishes what is queued, then stops the thread. */
void writer_stop(struct writer *writer);

#endif
