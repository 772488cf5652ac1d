/*
 * writer: the one thread that writes accepted SNS messages to the store.
 *
 * Request threads hand it an item and wait. It takes every item queued
 * (up to a batch), applies each inside one transaction (MessageId seen,
 * incident decision and change, outbox rows) and commits once, so that
 * one fsync serves many requests; then it wakes each request with its
 * result. Nothing is acknowledged before its commit.
 */
#ifndef ALERTBRIDGE_WRITER_H
#define ALERTBRIDGE_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"
#include "incident.h"
#include "sns.h"

enum writer_result {
	WRITER_ACCEPTED,
	WRITER_DUPLICATE, /* MessageId seen before: nothing changed */
	WRITER_FAILED,    /* the store could not take it: answer 5xx */
};

struct writer_item {
	/* in: every type */
	enum sns_type type;
	const char *message_id;
	const char *topic_arn;
	int64_t received_ms;

	/* in: Notification */
	const char *dedup_key;
	const char *identity;
	const char *route_name;
	const char *target_name;
	const char *alert_name;
	const char *severity;
	enum alert_state state;
	int64_t changed_at_ms;
	bool trigger_on_insufficient;
	const char *payload_json; /* the rendered PagerDuty payload */

	/* in: SubscriptionConfirmation */
	const char *subscribe_url;

	/* out */
	enum writer_result result;
	enum incident_action action;
	const char *why;
	int error; /* negative errno with WRITER_FAILED */

	/* private */
	bool done;
	struct writer_item *next;
};

int writer_start(struct app *app, struct writer **ret_writer);

/* Applies item durably; returns when it is committed or has failed. */
void writer_submit(struct writer *writer, struct writer_item *item);

/* Finishes what is queued, then stops the thread. */
void writer_stop(struct writer *writer);

#endif
