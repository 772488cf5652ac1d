/*
 * api: the endpoints that stop or resume escalation.
 *
 *   POST /pagerduty/webhook       PagerDuty Webhooks v3 (signed)
 *   GET  /api/incidents           open incidents, their level and next
 *                                 deadline (JSON)
 *   POST /api/incidents/KEY/acknowledge
 *   POST /api/incidents/KEY/resolve
 *   GET  /api/silences            silences not yet over (JSON)
 *   POST /api/silences            set one (see silences.h for the JSON)
 *   DELETE /api/silences/ID       lift one
 *   GET  /api/queue[/pending]     the outbox, without payloads (JSON)
 *   GET  /api/queue/dead          the dead letters
 *   GET  /api/queue[/SCOPE]/ID    one row, with its payload
 *   POST /api/queue[/SCOPE]/ID/retry
 *                                 a dead letter back into the outbox,
 *                                 or a pending row due now
 *   DELETE /api/queue[/SCOPE]/ID  drop a row
 *
 * SCOPE is "pending" or "dead": the row must be there, or the answer is
 * 404, so that a client acts only on the row it showed its operator.
 * Retries and drops go through the writer, which owns the store's
 * writes; reads open a connection of their own (WAL lets them read
 * beside the writer).
 *
 * The webhook is verified with the configured secret (HMAC-SHA256 over
 * the raw body): 400 for a missing or malformed signature, 403 for a
 * wrong one, and deduplicated on X-Webhook-Id. The /api endpoints take
 * the configured bearer token ("Bearer" in any case, RFC 7235 2.1).
 * Either answers 404 while its secret is not configured.
 */
#ifndef ALERTBRIDGE_API_H
#define ALERTBRIDGE_API_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "app.h"
#include "store.h"
#include "util.h"

struct api_response {
	unsigned int status;
	const char *content_type;
	struct strbuf body;
	const char *allow; /* on a 405, the Allow header; else NULL */
};

void api_response_init(struct api_response *out);
void api_response_release(struct api_response *out);

/*
 * Each takes the configuration of the request it answers (a reference
 * the caller holds, see app.h).
 */
void api_webhook(struct app *app, const struct config *config, const char *body,
		 size_t len, const char *signature, const char *webhook_id,
		 struct api_response *out);

/*
 * Checks "Authorization: Bearer TOKEN" in constant time. False (and out
 * filled with 401 or 404) when the request may not go on.
 */
bool api_authorize(const struct config *config, const char *authorization,
		   struct api_response *out);

void api_incidents(const struct config *config, struct api_response *out);

/*
 * verb is "acknowledge" or "resolve"; key as in the URL, decoded.
 * actor is who asked, as the client says (the X-Alertbridge-Actor
 * header: `alertbridge ack` sends user@host), for the timeline and the
 * log; it is informative, not verified, and kept only when it is at
 * most API_ACTOR_MAX bytes of printable ASCII. NULL for none.
 */
#define API_ACTOR_MAX 64
void api_command(struct app *app, const struct config *config, const char *key,
		 const char *verb, const char *actor, struct api_response *out);

/* path is what follows "/api/queue" in the URL ("", "/dead", "/7"). */
void api_queue(struct app *app, const struct config *config, const char *method,
	       const char *path, struct api_response *out);

/*
 * A queue row as the API shows it: id, state ("pending" or "dead"),
 * kind, target, action, dedup_key (events) or topic (subscriptions),
 * detail, attempts, created, next_attempt and last_error (pending) or
 * dead_since and reason (dead letters); with_body adds the payload (or
 * subscribe_url). Shared with `alertbridge queue`, which shows rows read
 * from the store itself in the same shape. NULL when out of memory.
 */
json_t *api_queue_row_json(const struct store_queue_row *row, bool with_body);

void api_silences_list(struct app *app, const struct config *config,
		       struct api_response *out);
/* 201 with the new silence's id; 400 (malformed) or 409 (its name is
 * taken) with the reason. */
void api_silence_add(struct app *app, const struct config *config,
		     const char *body, size_t len, struct api_response *out);
void api_silence_remove(struct app *app, const char *id,
			struct api_response *out);

#endif
