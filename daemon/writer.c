/*
 * writer: group commit of accepted SNS messages.
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

/* Items per transaction; more wait for the next commit. */
#define WRITER_BATCH_MAX 128

/* How often MessageIds past the replay window are forgotten. */
#define WRITER_PRUNE_INTERVAL_MS (60 * 1000)

struct writer {
	struct app *app;
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* items queued, or stopping */
	pthread_cond_t done; /* some item finished */
	struct writer_item *head;
	struct writer_item *tail;
	bool stopping;
	int64_t next_prune_ms;
};

static int apply_notification(struct writer *writer, struct writer_item *item,
			      bool *ret_queued)
{
	struct store *store = writer->store;
	struct store_incident stored = {0};
	struct incident_state current = {INCIDENT_STATUS_NONE, 0};
	struct incident_state next;
	struct store_incident change;
	const char *target = item->target_name;
	bool found = false;
	int r;

	r = store_incident_get(store, item->dedup_key, &stored, &found);
	if (r < 0)
		return r;

	if (found) {
		current.status = stored.status;
		current.changed_at_ms = stored.changed_at_ms;
		/* An open incident keeps the target it paged, so that its
		 * resolve reaches the same service even after a reload. */
		if (stored.target && stored.status == INCIDENT_STATUS_TRIGGERED)
			target = stored.target;
	}

	incident_decide(&current, item->state, item->changed_at_ms,
			item->trigger_on_insufficient, &item->action, &next,
			&item->why);

	if (next.status == current.status &&
	    next.changed_at_ms == current.changed_at_ms) {
		r = 0;
		goto out;
	}

	change = (struct store_incident){
		.dedup_key = (char *)item->dedup_key,
		.identity = (char *)item->identity,
		.status = next.status,
		.changed_at_ms = next.changed_at_ms,
		.target = (char *)target,
		.route = (char *)item->route_name,
		.alert_name = (char *)item->alert_name,
		.severity = (char *)item->severity,
		.opened_ms = found ? stored.opened_ms : 0,
		.updated_ms = item->received_ms,
	};
	if (item->action == INCIDENT_ACTION_TRIGGER &&
	    current.status != INCIDENT_STATUS_TRIGGERED)
		change.opened_ms = item->received_ms;

	r = store_incident_put(store, &change);
	if (r < 0)
		goto out;

	if (item->action != INCIDENT_ACTION_NONE) {
		struct store_outbox_row row = {
			.kind = STORE_OUTBOX_EVENT,
			.order_key = (char *)item->dedup_key,
			.target = (char *)target,
			.action = (char *)incident_action_name(item->action),
			.body = (char *)item->payload_json,
			.detail = (char *)item->message_id,
			.created_ms = item->received_ms,
			.next_attempt_ms = item->received_ms,
		};

		r = store_outbox_add(store, &row, NULL);
		if (r < 0)
			goto out;
		*ret_queued = true;
	}
out:
	store_incident_release(&stored);
	return r;
}

static int apply_subscription(struct writer *writer, struct writer_item *item,
			      bool *ret_queued)
{
	struct store *store = writer->store;
	char order_key[1024];
	int r;

	if (item->type == SNS_TYPE_UNSUBSCRIBE_CONFIRMATION)
		return store_subscription_record(
			store, item->topic_arn, item->message_id,
			"unsubscribed", NULL, item->received_ms);

	r = store_subscription_record(store, item->topic_arn, item->message_id,
				      "pending", NULL, item->received_ms);
	if (r < 0)
		return r;

	snprintf(order_key, sizeof(order_key), "subscribe:%s", item->topic_arn);
	r = store_outbox_add(store,
			     &(struct store_outbox_row){
				     .kind = STORE_OUTBOX_SUBSCRIBE,
				     .order_key = order_key,
				     .action = "subscribe",
				     .body = (char *)item->subscribe_url,
				     .detail = (char *)item->topic_arn,
				     .created_ms = item->received_ms,
				     .next_attempt_ms = item->received_ms,
			     },
			     NULL);
	if (r == 0)
		*ret_queued = true;
	return r;
}

/* Applies one item inside the open transaction, in its own savepoint. */
static void apply_item(struct writer *writer, struct writer_item *item,
		       bool *ret_queued)
{
	struct store *store = writer->store;
	bool queued = false;
	bool seen = false;
	int r;

	item->action = INCIDENT_ACTION_NONE;
	item->why = NULL;

	r = store_savepoint(store);
	if (r < 0)
		goto fail;

	r = store_seen_check(store, item->message_id, &seen);
	if (r < 0)
		goto fail_rollback;
	if (seen) {
		store_savepoint_release(store);
		item->result = WRITER_DUPLICATE;
		return;
	}

	r = store_seen_add(store, item->message_id, item->topic_arn,
			   sns_type_name(item->type), item->received_ms);
	if (r < 0)
		goto fail_rollback;

	if (item->type == SNS_TYPE_NOTIFICATION)
		r = apply_notification(writer, item, &queued);
	else
		r = apply_subscription(writer, item, &queued);
	if (r < 0)
		goto fail_rollback;

	r = store_savepoint_release(store);
	if (r < 0)
		goto fail_rollback;

	item->result = WRITER_ACCEPTED;
	if (queued)
		*ret_queued = true;
	return;

fail_rollback:
	store_savepoint_rollback(store);
fail:
	item->result = WRITER_FAILED;
	item->error = r;
	LOG(LOG_LEVEL_ERROR, "store.item_failed",
	    {"message_id", item->message_id}, {"error", strerror(-r)},
	    {"detail", store_error(store)});
}

static void prune_seen(struct writer *writer, int64_t now_ms)
{
	const struct config *config = writer->app->config;
	int64_t removed = 0;
	char count[24];

	if (now_ms < writer->next_prune_ms)
		return;
	writer->next_prune_ms = now_ms + WRITER_PRUNE_INTERVAL_MS;

	/*
	 * Keep MessageIds for twice the replay window: anything older is
	 * refused as a replay before it reaches the store anyway.
	 */
	if (store_seen_prune(writer->store,
			     now_ms - 2 * config->replay_window_ms,
			     &removed) < 0) {
		LOG(LOG_LEVEL_WARNING, "store.prune_failed",
		    {"detail", store_error(writer->store)});
		return;
	}
	if (removed > 0)
		LOG(LOG_LEVEL_DEBUG, "store.pruned",
		    {"message_ids", log_int(count, removed)});
}

/* Applies a batch in one transaction; returns true if rows were queued. */
static bool commit_batch(struct writer *writer, struct writer_item *batch)
{
	int64_t start = app_mono_ms();
	bool queued = false;
	int r;

	r = store_begin(writer->store);
	if (r == 0) {
		for (struct writer_item *it = batch; it; it = it->next)
			apply_item(writer, it, &queued);
		r = store_commit(writer->store);
	}

	if (r < 0) {
		/* Nothing of the batch is on disk: every item fails, and
		 * SNS delivers each again. */
		store_rollback(writer->store);
		for (struct writer_item *it = batch; it; it = it->next) {
			it->result = WRITER_FAILED;
			it->error = r;
		}
		atomic_store(&writer->app->store_ok, false);
		LOG(LOG_LEVEL_ERROR, "store.commit_failed",
		    {"error", strerror(-r)},
		    {"detail", store_error(writer->store)});
		return false;
	}

	atomic_store(&writer->app->store_ok, true);
	metrics_observe(METRICS_HIST_COMMIT, (app_mono_ms() - start) * 1000);
	return queued;
}

static void *writer_main(void *arg)
{
	struct writer *writer = arg;

	pthread_mutex_lock(&writer->lock);
	for (;;) {
		struct writer_item *batch;
		struct writer_item *last;
		bool queued;
		int n = 1;

		while (!writer->head && !writer->stopping) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 10;
			pthread_cond_timedwait(&writer->work, &writer->lock,
					       &until);
			if (!writer->head) {
				pthread_mutex_unlock(&writer->lock);
				prune_seen(writer, app_wall_ms());
				pthread_mutex_lock(&writer->lock);
			}
		}
		if (!writer->head && writer->stopping)
			break;

		/* Take up to a batch off the queue. */
		batch = writer->head;
		last = batch;
		while (last->next && n < WRITER_BATCH_MAX) {
			last = last->next;
			n++;
		}
		writer->head = last->next;
		if (!writer->head)
			writer->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&writer->lock);

		queued = commit_batch(writer, batch);
		if (queued && writer->app->delivery)
			delivery_wake(writer->app->delivery);

		pthread_mutex_lock(&writer->lock);
		for (struct writer_item *it = batch; it;) {
			struct writer_item *next = it->next;

			it->done = true;
			it = next;
		}
		pthread_cond_broadcast(&writer->done);
	}
	pthread_mutex_unlock(&writer->lock);
	return NULL;
}

int writer_start(struct app *app, struct writer **ret_writer)
{
	struct writer *writer = calloc(1, sizeof(*writer));
	int r;

	if (!writer)
		return -ENOMEM;

	writer->app = app;
	r = store_open(app->config->state_dir, &writer->store);
	if (r < 0) {
		free(writer);
		return r;
	}

	pthread_mutex_init(&writer->lock, NULL);
	pthread_cond_init(&writer->work, NULL);
	pthread_cond_init(&writer->done, NULL);

	r = -pthread_create(&writer->thread, NULL, writer_main, writer);
	if (r < 0) {
		store_close(writer->store);
		free(writer);
		return r;
	}

	atomic_store(&app->store_ok, true);
	*ret_writer = writer;
	return 0;
}

void writer_submit(struct writer *writer, struct writer_item *item)
{
	item->done = false;
	item->next = NULL;

	pthread_mutex_lock(&writer->lock);
	if (writer->stopping) {
		pthread_mutex_unlock(&writer->lock);
		item->result = WRITER_FAILED;
		item->error = -ESHUTDOWN;
		return;
	}

	if (writer->tail)
		writer->tail->next = item;
	else
		writer->head = item;
	writer->tail = item;
	pthread_cond_signal(&writer->work);

	while (!item->done)
		pthread_cond_wait(&writer->done, &writer->lock);
	pthread_mutex_unlock(&writer->lock);
}

void writer_stop(struct writer *writer)
{
	if (!writer)
		return;

	pthread_mutex_lock(&writer->lock);
	writer->stopping = true;
	pthread_cond_signal(&writer->work);
	pthread_mutex_unlock(&writer->lock);

	pthread_join(writer->thread, NULL);
	pthread_mutex_destroy(&writer->lock);
	pthread_cond_destroy(&writer->work);
	pthread_cond_destroy(&writer->done);
	store_close(writer->store);
	free(writer);
}
