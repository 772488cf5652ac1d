/*
 * ingest: verify, classify, route, render, commit.
 */
#include "ingest.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "certfetch.h"
#include "log.h"
#include "metrics.h"
#include "render.h"
#include "route.h"
#include "silences.h"
#include "sns.h"
#include "writer.h"

/* Clocks drift; SNS's own stamps may run a little ahead of ours. */
#define INGEST_FUTURE_SKEW_MS (15 * 60 * 1000)

static enum metrics_type metrics_type_of(const struct sns_message *msg)
{
	if (!msg)
		return METRICS_TYPE_UNKNOWN;

	switch (msg->type) {
	case SNS_TYPE_NOTIFICATION:
		return METRICS_TYPE_NOTIFICATION;
	case SNS_TYPE_SUBSCRIPTION_CONFIRMATION:
		return METRICS_TYPE_SUBSCRIPTION;
	case SNS_TYPE_UNSUBSCRIBE_CONFIRMATION:
		return METRICS_TYPE_UNSUBSCRIBE;
	}
	return METRICS_TYPE_UNKNOWN;
}

static void answer(struct ingest_response *response, unsigned int status,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void answer(struct ingest_response *response, unsigned int status,
		   const char *fmt, ...)
{
	va_list ap;

	response->status = status;
	va_start(ap, fmt);
	vsnprintf(response->reason, sizeof(response->reason), fmt, ap);
	va_end(ap);
}

/* A 4xx: counted, logged, answered with the reason. */
static void refuse(struct ingest_response *response,
		   const struct sns_message *msg, unsigned int status,
		   enum metrics_reject why, const char *reason)
{
	char code[24];

	metrics_rejected(why);
	metrics_received(metrics_type_of(msg), METRICS_OUTCOME_REJECTED);
	LOG(LOG_LEVEL_WARNING, "sns.rejected",
	    {"message_id", msg ? msg->message_id : NULL},
	    {"topic", msg ? msg->topic_arn : NULL},
	    {"status", log_int(code, status)}, {"reason", reason});
	answer(response, status, "%s", reason);
}

static bool topic_allowed(const struct config *config, const char *topic)
{
	for (size_t i = 0; i < config->topics.n; i++)
		if (fnmatch(config->topics.v[i], topic, 0) == 0)
			return true;
	return false;
}

void ingest_plan_release(struct ingest_plan *plan)
{
	if (!plan)
		return;

	alert_free(plan->alert);
	free(plan->dedup_key);
	free(plan->payload_json);
	memset(plan, 0, sizeof(*plan));
}

int ingest_plan_message(const struct config *config, const char *message,
			size_t len, const char *topic_arn, const char *subject,
			int64_t received_ms, struct ingest_plan *ret_plan)
{
	return ingest_plan_on_route(config, NULL, message, len, topic_arn,
				    subject, received_ms, ret_plan);
}

int ingest_plan_on_route(const struct config *config,
			 const struct config_route *route, const char *message,
			 size_t len, const char *topic_arn, const char *subject,
			 int64_t received_ms, struct ingest_plan *ret_plan)
{
	struct ingest_plan plan = {0};
	struct render_context ctx;
	const struct config_template *template;
	json_t *payload = NULL;
	int r;

	r = alert_classify(message, len, topic_arn, subject, received_ms,
			   &plan.alert);
	if (r < 0)
		return r;

	plan.route = route ? route : route_find(config, plan.alert);
	plan.severity = route_severity(plan.route, plan.alert);

	template = plan.route->template;
	if (!template && config->n_templates > 0)
		template = &config->templates[0];
	if (!template) {
		r = -ENOENT;
		goto fail;
	}

	ctx = (struct render_context){
		.alert = plan.alert,
		.severity = plan.severity,
		.environment = plan.route->environment ? plan.route->environment
						       : config->environment,
		.region = plan.alert->region ? plan.alert->region
					     : config->region,
		.route_name = plan.route->name,
	};

	r = render_payload(template, &ctx, &payload);
	if (r < 0)
		goto fail;

	plan.payload_json =
		json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(payload);
	if (!plan.payload_json) {
		r = -ENOMEM;
		goto fail;
	}

	r = render_dedup_key(plan.alert->identity, &plan.dedup_key);
	if (r < 0)
		goto fail;

	*ret_plan = plan;
	return 0;
fail:
	ingest_plan_release(&plan);
	return r;
}

static enum metrics_action metrics_action_of(enum incident_action action)
{
	switch (action) {
	case INCIDENT_ACTION_TRIGGER:
		return METRICS_ACTION_TRIGGER;
	case INCIDENT_ACTION_RESOLVE:
		return METRICS_ACTION_RESOLVE;
	case INCIDENT_ACTION_NONE:
		break;
	}
	return METRICS_ACTION_NONE;
}

/*
 * Hands a verified message to the writer, with the configuration it was
 * planned with, and answers by its result.
 */
static void commit(struct app *app, const struct config *config,
		   const struct sns_message *msg, struct writer_item *item,
		   struct ingest_response *response)
{
	enum metrics_type type = metrics_type_of(msg);

	item->config = config;
	writer_submit(app->writer, item);

	switch (item->result) {
	case WRITER_ACCEPTED:
		metrics_received(type, METRICS_OUTCOME_ACCEPTED);
		answer(response, 200, "accepted");
		break;
	case WRITER_DUPLICATE:
		metrics_received(type, METRICS_OUTCOME_DUPLICATE);
		LOG(LOG_LEVEL_INFO, "sns.duplicate",
		    {"message_id", msg->message_id}, {"topic", msg->topic_arn});
		answer(response, 200, "duplicate");
		break;
	case WRITER_FAILED:
		metrics_received(type, METRICS_OUTCOME_FAILED);
		answer(response, 503, "store unavailable: %s",
		       strerror(-item->error));
		break;
	}
}

static void ingest_notification(struct app *app, const struct config *config,
				const struct sns_message *msg,
				int64_t received_ms,
				struct ingest_response *response)
{
	struct ingest_plan plan = {0};
	struct writer_item item;
	int r;

	r = ingest_plan_message(config, msg->message, msg->message_len,
				msg->topic_arn, msg->subject, received_ms,
				&plan);
	if (r < 0) {
		/* Content never fails classification: this is memory or a
		 * template that cannot render. SNS may retry. */
		metrics_received(METRICS_TYPE_NOTIFICATION,
				 METRICS_OUTCOME_FAILED);
		LOG(LOG_LEVEL_ERROR, "sns.render_failed",
		    {"message_id", msg->message_id}, {"error", strerror(-r)});
		answer(response, 500, "could not render: %s", strerror(-r));
		return;
	}

	if (plan.alert->changed_at_is_receipt)
		LOG(LOG_LEVEL_WARNING, "alert.time_unparsed",
		    {"message_id", msg->message_id},
		    {"alert", plan.alert->name},
		    {"detail", "no state-change time in the message; using"
			       " the time received"});

	item = (struct writer_item){
		.kind = WRITER_SNS,
		.type = msg->type,
		.message_id = msg->message_id,
		.seen_type = sns_type_name(msg->type),
		.topic_arn = msg->topic_arn,
		.received_ms = received_ms,
		.alert =
			{
				.message_id = msg->message_id,
				.dedup_key = plan.dedup_key,
				.identity = plan.alert->identity,
				.route_name = plan.route->name,
				.target_name = plan.route->target->name,
				.policy_name =
					plan.route->policy
						? plan.route->policy->name
						: NULL,
				.alert_name = plan.alert->name,
				.severity = plan.severity,
				.state = plan.alert->state,
				.changed_at_ms = plan.alert->changed_at_ms,
				.trigger_on_insufficient =
					plan.route->insufficient ==
					CONFIG_INSUFFICIENT_TRIGGER,
				.payload_json = plan.payload_json,
				.silenced_until_ms =
					silences_until(app->silences, config,
						       plan.alert, received_ms),
			},
	};

	commit(app, config, msg, &item, response);

	if (item.result == WRITER_ACCEPTED) {
		metrics_action(metrics_action_of(item.outcome.action));
		LOG(LOG_LEVEL_INFO, "sns.accepted",
		    {"message_id", msg->message_id}, {"topic", msg->topic_arn},
		    {"kind", alert_kind_name(plan.alert->kind)},
		    {"alert", plan.alert->name},
		    {"state", alert_state_name(plan.alert->state)},
		    {"route", plan.route->name},
		    {"target", plan.route->target->name},
		    {"severity", plan.severity}, {"dedup_key", plan.dedup_key},
		    {"action", incident_action_name(item.outcome.action)},
		    {"why", item.outcome.why});
	}
	ingest_plan_release(&plan);
}

static void ingest_subscription(struct app *app, const struct config *config,
				const struct sns_message *msg,
				int64_t received_ms,
				struct ingest_response *response)
{
	struct writer_item item = {
		.kind = WRITER_SNS,
		.type = msg->type,
		.message_id = msg->message_id,
		.seen_type = sns_type_name(msg->type),
		.topic_arn = msg->topic_arn,
		.received_ms = received_ms,
		.subscribe_url = msg->subscribe_url,
	};

	commit(app, config, msg, &item, response);

	if (item.result == WRITER_ACCEPTED)
		LOG(LOG_LEVEL_INFO,
		    msg->type == SNS_TYPE_SUBSCRIPTION_CONFIRMATION
			    ? "subscription.received"
			    : "subscription.unsubscribed",
		    {"message_id", msg->message_id}, {"topic", msg->topic_arn});
}

/* The checks before the signature: each a refusal, none a trust. */
static bool precheck(const struct config *config,
		     const struct ingest_request *request,
		     const struct sns_message *msg,
		     struct ingest_response *response)
{
	const char *reason = NULL;
	int64_t now = app_judge_ms(config);

	if (sns_check_headers(msg, request->hdr_message_type,
			      request->hdr_message_id, request->hdr_topic_arn,
			      &reason) < 0) {
		refuse(response, msg, 400, METRICS_REJECT_HEADERS, reason);
		return false;
	}

	/* A SubscribeURL we would never fetch need not cost a
	 * certificate fetch either. */
	/* Named, not shown: a SubscribeURL carries the subscription's
	 * token. */
	if (msg->type == SNS_TYPE_SUBSCRIPTION_CONFIRMATION &&
	    sns_subscribe_url_check(msg->subscribe_url, &reason) < 0) {
		char text[160];

		snprintf(text, sizeof(text), "SubscribeURL: %s", reason);
		refuse(response, msg, 400, METRICS_REJECT_SUBSCRIBE_URL, text);
		return false;
	}

	if (!topic_allowed(config, msg->topic_arn)) {
		refuse(response, msg, 403, METRICS_REJECT_TOPIC,
		       "topic is not on the allow-list");
		return false;
	}

	/*
	 * A retry keeps its original Timestamp, and SNS retries for up to
	 * an hour: the window (two hours by default) outlasts that.
	 */
	if (!config->testing_skip_age_check) {
		if (now - msg->timestamp_ms > config->replay_window_ms) {
			refuse(response, msg, 400, METRICS_REJECT_STALE,
			       "message is older than the replay window");
			return false;
		}
		if (msg->timestamp_ms - now > INGEST_FUTURE_SKEW_MS) {
			refuse(response, msg, 400, METRICS_REJECT_STALE,
			       "message timestamp is in the future");
			return false;
		}
	}
	return true;
}

static bool verify(struct app *app, const struct config *config,
		   const struct sns_message *msg,
		   struct ingest_response *response)
{
	const char *reason = NULL;
	char *file_name = NULL;
	EVP_PKEY *key = NULL;
	bool ok = false;
	int r;

	if (config->testing_skip_signature)
		return true;

	r = sns_cert_url_check(msg->signing_cert_url, &file_name, &reason);
	if (r < 0) {
		char text[SNS_URL_MAX + 160];

		/* The URL as sent, cut at its bound: whoever reads the log
		 * sees which host was asked for. */
		snprintf(text, sizeof(text), "SigningCertURL %.*s: %s",
			 SNS_URL_MAX,
			 msg->signing_cert_url ? msg->signing_cert_url : "",
			 reason);
		refuse(response, msg, 400, METRICS_REJECT_CERT_URL, text);
		goto out;
	}

	r = certfetch_get(app->certs, config, msg->signing_cert_url, file_name,
			  app_judge_ms(config), &key, &reason);
	if (r == -EKEYREJECTED) {
		refuse(response, msg, 400, METRICS_REJECT_CERT, reason);
		goto out;
	}
	if (r < 0) {
		/* Not the sender's fault: SNS retries a 5xx. */
		metrics_received(metrics_type_of(msg), METRICS_OUTCOME_FAILED);
		LOG(LOG_LEVEL_WARNING, "sns.cert_unavailable",
		    {"message_id", msg->message_id},
		    {"url", msg->signing_cert_url}, {"reason", reason});
		answer(response, 503, "%s", reason);
		goto out;
	}

	r = sns_verify(msg, key, &reason);
	if (r < 0) {
		refuse(response, msg, 403, METRICS_REJECT_SIGNATURE, reason);
		goto out;
	}
	ok = true;
out:
	EVP_PKEY_free(key);
	free(file_name);
	return ok;
}

void ingest_sns(struct app *app, const struct ingest_request *request,
		struct ingest_response *response)
{
	struct sns_message *msg = NULL;
	const char *reason = NULL;
	int64_t received_ms = app_wall_ms();
	int r;

	r = sns_parse(request->body, request->len, &msg, &reason);
	if (r == -ENOMEM) {
		answer(response, 503, "out of memory");
		goto out;
	}
	if (r < 0) {
		refuse(response, NULL, 400, METRICS_REJECT_MALFORMED, reason);
		goto out;
	}

	if (!precheck(request->config, request, msg, response))
		goto out;

	if (!verify(app, request->config, msg, response))
		goto out;

	if (msg->type == SNS_TYPE_NOTIFICATION)
		ingest_notification(app, request->config, msg, received_ms,
				    response);
	else
		ingest_subscription(app, request->config, msg, received_ms,
				    response);
out:
	metrics_observe(METRICS_HIST_INGEST,
			(app_mono_ms() - request->started_mono) * 1000);
	sns_message_free(msg);
}
