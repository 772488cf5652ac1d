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
 *
 * The webhook is verified with the configured secret (HMAC-SHA256 over
 * the raw body): 400 for a missing or malformed signature, 403 for a
 * wrong one, and deduplicated on X-Webhook-Id. The /api endpoints take
 * the configured bearer token. Either answers 404 while its secret is
 * not configured.
 */
#ifndef ALERTBRIDGE_API_H
#define ALERTBRIDGE_API_H

#include <stdbool.h>
#include <stddef.h>

#include "app.h"
#include "util.h"

struct api_response {
	unsigned int status;
	const char *content_type;
	struct strbuf body;
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

/* verb is "acknowledge" or "resolve"; key as in the URL, decoded. */
void api_command(struct app *app, const struct config *config, const char *key,
		 const char *verb, struct api_response *out);

void api_silences_list(struct app *app, const struct config *config,
		       struct api_response *out);
void api_silence_add(struct app *app, const char *body, size_t len,
		     struct api_response *out);
void api_silence_remove(struct app *app, const char *id,
			struct api_response *out);

#endif
