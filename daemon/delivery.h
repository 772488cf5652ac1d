/*
 * delivery: the worker thread that empties the outbox.
 *
 * One thread drives libcurl's multi interface. It sends the head row of
 * each order key only (so a resolve never overtakes its trigger), paces
 * each routing key to the configured events per minute, and records
 * every outcome in the store:
 *   2xx                    delivered, the row goes away;
 *   400, 413, 422          the event will never be accepted: dead letter,
 *                          with PagerDuty's error list in the log;
 *   429, 5xx, other, network errors and timeouts
 *                          try again with backoff and jitter, honouring
 *                          Retry-After, until the retry deadline, then
 *                          dead letter.
 * Rows of kind subscribe are SNS SubscribeURL confirmations: a GET with
 * the same retry rules.
 *
 * When the store cannot record an outcome (its disk full), the outcome
 * waits in memory and is written again every quarter second; meanwhile
 * its row is not sent again, so a delivered event is not repeated and a
 * failing one keeps its backoff. Outcomes still in memory at a stop are
 * lost: those rows are sent again after the restart, which PagerDuty's
 * dedup_key makes harmless.
 */
#ifndef ALERTBRIDGE_DELIVERY_H
#define ALERTBRIDGE_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "app.h"

struct delivery;

int delivery_start(struct app *app, struct delivery **ret_delivery);

/* New rows were committed: look at the outbox now. */
void delivery_wake(struct delivery *delivery);

/*
 * Stops taking rows, lets transfers under way finish for at most
 * grace_ms, then stops the thread. What did not finish stays in the
 * outbox and is sent again after a restart.
 */
void delivery_stop(struct delivery *delivery, int64_t grace_ms);

/* True while the worker's loop has turned within the last seconds. */
bool delivery_alive(const struct delivery *delivery);

#endif
