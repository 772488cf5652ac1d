/*
 * ceiling: alertbridge's own work per SNS request, without HTTP,
 * threads or sockets, for the benchmark's compute ceiling.
 *
 *   ceiling CONFIG REQUESTS ALARMS BATCH
 *
 * Signs the same notifications as `loadgen ingest` (bodies.h), writing
 * the certificate to CONFIG's sns.cert_dir, then times, per request,
 * what daemon/ingest.c does on a request thread (parse the envelope,
 * check its headers, topic and age, verify the signature with the key
 * certfetch holds, classify, route, render, look up silences, log the
 * accepted line) and what daemon/writer.c does for it (a savepoint, the
 * MessageId seen and recorded, pager_alert()), with one store commit
 * per BATCH requests as the writer's group commit makes. Prints one line
 * of figures. The store is CONFIG's state_dir, which should be empty.
 *
 * Not counted: libmicrohttpd's work, the hand-off between the request
 * thread and the writer, and the delivery thread.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "alert.h"
#include "app.h"
#include "bodies.h"
#include "certfetch.h"
#include "config.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "pager.h"
#include "silences.h"
#include "sns.h"
#include "store.h"
#include "testkeys.h"

#define CEILING_BATCH_MAX 128

/* What one request leaves for the writer. */
struct planned {
	struct sns_message *msg;
	struct ingest_plan plan;
	struct pager_alert alert;
	int64_t received_ms;
};

struct ceiling {
	const struct config *config;
	struct certfetch *certs;
	struct silences *silences;
	struct store *store;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool topic_allowed(const struct config *config, const char *topic)
{
	for (size_t i = 0; i < config->topics.n; i++)
		if (fnmatch(config->topics.v[i], topic, 0) == 0)
			return true;
	return false;
}

static void planned_release(struct planned *p)
{
	ingest_plan_release(&p->plan);
	sns_message_free(p->msg);
	p->msg = NULL;
}

/* The request thread's part: -EINVAL when the daemon would refuse it. */
static int plan_request(struct ceiling *c, const char *body, struct planned *p)
{
	const struct config *config = c->config;
	const char *reason = NULL;
	char *file_name = NULL;
	EVP_PKEY *key = NULL;
	int64_t now = app_judge_ms(config);
	int r;

	p->received_ms = app_wall_ms();
	r = sns_parse(body, strlen(body), &p->msg, &reason);
	if (r < 0)
		return r;
	r = sns_check_headers(p->msg, "Notification", p->msg->message_id, NULL,
			      &reason);
	if (r < 0)
		return r;
	if (!topic_allowed(config, p->msg->topic_arn) ||
	    now - p->msg->timestamp_ms > config->replay_window_ms)
		return -EINVAL;

	r = sns_cert_url_check(p->msg->signing_cert_url, &file_name, &reason);
	if (r == 0)
		r = certfetch_get(c->certs, config, p->msg->signing_cert_url,
				  file_name, now, &key, &reason);
	if (r == 0)
		r = sns_verify(p->msg, key, &reason);
	EVP_PKEY_free(key);
	free(file_name);
	if (r < 0)
		return r;

	r = ingest_plan_message(config, p->msg->message, p->msg->message_len,
				p->msg->topic_arn, p->msg->subject,
				p->received_ms, &p->plan);
	if (r < 0)
		return r;
	p->alert = (struct pager_alert){
		.message_id = p->msg->message_id,
		.dedup_key = p->plan.dedup_key,
		.identity = p->plan.alert->identity,
		.route_name = p->plan.route->name,
		.target_name = p->plan.route->target->name,
		.policy_name = p->plan.route->policy
				       ? p->plan.route->policy->name
				       : NULL,
		.alert_name = p->plan.alert->name,
		.severity = p->plan.severity,
		.state = p->plan.alert->state,
		.changed_at_ms = p->plan.alert->changed_at_ms,
		.trigger_on_insufficient = p->plan.route->insufficient ==
					   CONFIG_INSUFFICIENT_TRIGGER,
		.payload_json = p->plan.payload_json,
		.silenced_until_ms = silences_until(
			c->silences, config, p->plan.alert, p->received_ms),
	};
	return 0;
}

/* The writer's part for one item, inside the open transaction. */
static int apply(struct ceiling *c, struct planned *p, struct pager_result *ret)
{
	bool seen = false;
	int r;

	r = store_savepoint(c->store);
	if (r < 0)
		return r;
	r = store_seen_check(c->store, p->msg->message_id, &seen);
	if (r == 0 && !seen)
		r = store_seen_add(c->store, p->msg->message_id,
				   p->msg->topic_arn, "Notification",
				   p->received_ms);
	if (r == 0 && !seen)
		r = pager_alert(c->store, c->config, &p->alert, p->received_ms,
				ret);
	if (r < 0) {
		store_savepoint_rollback(c->store);
		return r;
	}
	return store_savepoint_release(c->store);
}

/* Plans a batch of n, commits it once, then logs as ingest.c does. */
static int run_batch(struct ceiling *c, char **bodies, int n)
{
	struct planned planned[CEILING_BATCH_MAX] = {0};
	struct pager_result results[CEILING_BATCH_MAX] = {0};
	int r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = plan_request(c, bodies[i], &planned[i]);
	if (r == 0)
		r = store_begin(c->store);
	for (int i = 0; i < n && r == 0; i++)
		r = apply(c, &planned[i], &results[i]);
	if (r == 0)
		r = store_commit(c->store);
	else
		store_rollback(c->store);

	for (int i = 0; i < n && r == 0; i++) {
		struct planned *p = &planned[i];

		metrics_received(METRICS_TYPE_NOTIFICATION,
				 METRICS_OUTCOME_ACCEPTED);
		LOG(LOG_LEVEL_INFO, "sns.accepted",
		    {"message_id", p->msg->message_id},
		    {"topic", p->msg->topic_arn},
		    {"kind", alert_kind_name(p->plan.alert->kind)},
		    {"alert", p->plan.alert->name},
		    {"state", alert_state_name(p->plan.alert->state)},
		    {"route", p->plan.route->name},
		    {"target", p->plan.route->target->name},
		    {"severity", p->plan.severity},
		    {"dedup_key", p->plan.dedup_key},
		    {"action", incident_action_name(results[i].action)},
		    {"why", results[i].why});
	}
	for (int i = 0; i < n; i++)
		planned_release(&planned[i]);
	return r;
}

static int run(const char *path, int n, int alarms, int batch)
{
	struct ceiling c = {0};
	struct config *config = NULL;
	struct config_diags errors = {0};
	struct testkey *key = NULL;
	char **bodies = NULL;
	char cert_file[64];
	int64_t now = bodies_wall_ms(), start;
	double seconds;
	int r;

	r = config_load_file(path, &config, &errors);
	if (r < 0) {
		config_diags_print(&errors, "ceiling", stderr);
		goto out;
	}
	c.config = config;
	r = -EINVAL;
	if (!config->cert_dir)
		goto out;
	bodies_cert_file(cert_file);
	r = testkey_generate(now - BODIES_DAY_MS, now + BODIES_DAY_MS, &key);
	if (r == 0)
		r = testkey_write_cert(key, config->cert_dir, cert_file);
	if (r == 0)
		r = bodies_sign(key, cert_file, n, alarms, 0, &bodies);
	if (r == 0)
		r = certfetch_new(config, &c.certs);
	if (r == 0)
		r = silences_open(config, app_wall_ms(), &c.silences);
	if (r == 0)
		r = store_open(config->state_dir, &c.store);
	if (r < 0)
		goto out;

	start = mono_ns();
	for (int i = 0; i < n && r == 0; i += batch)
		r = run_batch(&c, bodies + i, n - i < batch ? n - i : batch);
	seconds = (mono_ns() - start) / 1e9;
	if (r < 0)
		goto out;
	printf("requests=%d batch=%d seconds=%.3f rps=%.0f\n", n, batch,
	       seconds, n / seconds);
out:
	if (r < 0)
		fprintf(stderr, "ceiling: %s\n", strerror(-r));
	store_close(c.store);
	silences_free(c.silences);
	certfetch_free(c.certs);
	bodies_free(bodies, n);
	testkey_free(key);
	config_free(config);
	config_diags_release(&errors);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	int n, alarms, batch;

	if (argc != 5) {
		fprintf(stderr,
			"usage: ceiling CONFIG REQUESTS ALARMS BATCH\n");
		return 2;
	}
	n = atoi(argv[2]);
	alarms = atoi(argv[3]);
	batch = atoi(argv[4]);
	if (n < 1 || alarms < 1 || batch < 1 || batch > CEILING_BATCH_MAX) {
		fprintf(stderr,
			"ceiling: REQUESTS and ALARMS from 1, BATCH "
			"from 1 to %d\n",
			CEILING_BATCH_MAX);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_set_target(LOG_TARGET_CONSOLE);
	return run(argv[1], n, alarms, batch);
}
