/*
 * delivery: the worker thread that empties the outbox.
 *
 * One thread drives libcurl's multi interface. It sends the head row of
 * each order key only (so a resolve never overtakes its trigger), paces
 * each routing key to the configured events per minute (targets that
 * share a key share its budget), and records
 * every outcome in the store:
 *   2xx                    delivered, the row goes away;
 *   400, 413, 422          the event will never be accepted: dead letter,
 *                          with PagerDuty's error list in the log;
 *   429, 5xx, other, network errors and timeouts
 *                          try again with backoff and jitter, honouring
 *                          Retry-After (seconds or an HTTP-date), until
 *                          the retry deadline, then dead letter.
 * Rows of kind subscribe are SNS SubscribeURL confirmations: a GET with
 * the same retry rules.
 *
 * Each turn of the loop uses the running configuration (app.h); after a
 * reload the next turn takes the new one. Rows name their target, and
 * the routing key is looked up when each is sent. A row whose target
 * the configuration no longer has (a reload or a restart removed it)
 * is neither sent nor dropped: it is retried like a failed send, with
 * "its target is not in the configuration" in the log, until the target
 * is configured again (then it goes out) or the retry deadline passes
 * (then it is dead-lettered with that reason).
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

#include <curl/curl.h>

#include "app.h"
#include "store.h"

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

/*
 * When the loop last turned, in app_mono_ms(); 0 until its first turn
 * (outbox read, figures published) is done. It turns at least every
 * app->heartbeat_ms.
 */
int64_t delivery_heartbeat(const struct delivery *delivery);

/*
 * The request body of an event row: the row's payload, its target's
 * routing key, its action, and its order key as the dedup_key, with the
 * configured client and client_url. -ENOENT when the target is not
 * configured (the worker keeps such a row waiting), -EINVAL when the payload is
 * not JSON or the event cannot be encoded; *ret_reason says which. Shared with
 * `alertbridge send-test`, which sends its events as the worker would.
 */
int delivery_event_body(const struct config *config,
			const struct store_outbox_row *row, char **ret_body,
			const char **ret_reason);

/*
 * Sets easy up to POST body (which must outlive the transfer) to the
 * configured events URL as the worker does: the configured timeout, no
 * redirects, http and https only, a JSON content type, no signals.
 * *ret_headers is the header list to free once the transfer is over.
 */
int delivery_setup_event(CURL *easy, const struct config *config,
			 const char *body, struct curl_slist **ret_headers);

#endif
