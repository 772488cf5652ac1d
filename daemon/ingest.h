/*
 * ingest: one SNS request from body to answer.
 *
 * Order matters: size, envelope, headers, SubscribeURL policy, topic
 * allow-list and replay window are cheap refusals; the signature is
 * verified before anything in the message is acted on; only then is
 * the Message classified, routed, rendered and handed to the writer.
 * The answer is 200 only once the writer has committed; 5xx when the
 * store cannot take it (SNS retries); 4xx for what will never be valid,
 * with a one-line reason.
 */
#ifndef ALERTBRIDGE_INGEST_H
#define ALERTBRIDGE_INGEST_H

#include <stddef.h>

#include "app.h"

struct ingest_request {
	const struct config *config; /* the request's, see app.h */
	const char *body;
	size_t len;
	const char *hdr_message_type; /* x-amz-sns-message-type, or NULL */
	const char *hdr_message_id;
	const char *hdr_topic_arn;
	int64_t started_mono;
};

struct ingest_response {
	unsigned int status;
	char reason[256]; /* one line, for the body */
};

void ingest_sns(struct app *app, const struct ingest_request *request,
		struct ingest_response *response);

/*
 * What a Notification's Message becomes: its route, its dedup_key and
 * the rendered payload. Shared with `render` and `check-config
 * --message`.
 */
struct ingest_plan {
	struct alert *alert;
	const struct config_route *route;
	const char *severity;
	char *dedup_key;
	char *payload_json;
};

int ingest_plan_message(const struct config *config, const char *message,
			size_t len, const char *topic_arn, const char *subject,
			int64_t received_ms, struct ingest_plan *ret_plan);

/* The same on a route of the caller's choosing (NULL: the first that
 * matches): `alertbridge render --route`. */
int ingest_plan_on_route(const struct config *config,
			 const struct config_route *route, const char *message,
			 size_t len, const char *topic_arn, const char *subject,
			 int64_t received_ms, struct ingest_plan *ret_plan);
void ingest_plan_release(struct ingest_plan *plan);

#endif
