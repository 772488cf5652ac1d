/*
 * writer: group commit of accepted messages and commands, and the
 * escalation scheduler.
 */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "checkpointer.h"
#include "delivery.h"
#include "escalation.h"
#include "log.h"
#include "metrics.h"
#include "store.h"

/* Items per transaction; more wait for the next commit. */
#define WRITER_BATCH_MAX 128

/* How often MessageIds past the replay window are forgotten. */
#define WRITER_PRUNE_INTERVAL_MS (60 * 1000)

/* Incidents whose deadline came, handled per transaction. */
#define WRITER_TICK_MAX 64

/*
 * How long the scheduler sleeps at most. With a test clock (which can
 * jump at any time) it looks every WRITER_TEST_CLOCK_POLL_MS instead.
 */
#define WRITER_IDLE_MS            10000
#define WRITER_TEST_CLOCK_POLL_MS 50

/*
 * How often a store whose last commit failed (its disk full, say) is
 * tried again with a probe, so that /readyz recovers when the store
 * does, even with no traffic: a load balancer that stops sending to an
 * unready instance would otherwise keep it unready for good.
 */
#define WRITER_PROBE_INTERVAL_MS 500

/*
 * The write-ahead log: every WRITER_LOG_CHECKPOINT_PAGES pages it grows
 * by (SQLite's own interval), the checkpointer is asked to move it into
 * the database; past WRITER_LOG_MAX_PAGES (32 MiB of 4 KiB pages) the
 * writer checkpoints itself between commits, which lets the log start
 * over. See checkpointer.h.
 */
#define WRITER_LOG_CHECKPOINT_PAGES 1000
#define WRITER_LOG_MAX_PAGES        8192

/* A step of the system's clock this large is worth a log line. */
#define WRITER_WALL_STEP_NOTICE_MS 1000

struct writer {
	struct app *app;
	struct store *store;
	struct checkpointer *checkpointer;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* items queued, or stopping */
	pthread_cond_t done; /* some item finished */
	struct writer_item *head;
	struct writer_item *tail;
	bool stopping;
	bool poked; /* deadlines changed while the scheduler ran */
	int64_t next_probe_mono;
	int64_t next_prune_ms;
	int64_t next_schedule_mono;
	atomic_llong heartbeat_mono; /* 0 until the first pass is done */

	/* From start until nothing is overdue: what fell due while the
	 * daemon was down, fired late. */
	bool catching_up;
	size_t caught_up_steps;
	int64_t caught_up_late_ms;

	int64_t wall_step_logged_ms; /* the step the log last reported */

	/* The write-ahead log, as the writer's own commits left it. */
	int log_asked_pages; /* its length at the last request */
	bool log_full;       /* past WRITER_LOG_MAX_PAGES */
};

/* Records whether the last commit worked; says so when it works again. */
static void set_store_ok(struct writer *writer, bool ok)
{
	bool was = atomic_exchange(&writer->app->store_ok, ok);

	if (ok && !was)
		LOG(LOG_LEVEL_INFO, "store.recovered",
		    {"detail", "the store commits again"});
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

void writer_item_release(struct writer_item *item)
{
	free(item->outcome.dedup_key);
	item->outcome.dedup_key = NULL;
	store_queue_row_release(&item->queue_row);
}

/* An operator's retry or drop; a row that is not there changes nothing. */
static int apply_queue(struct writer *writer, struct writer_item *item,
		       bool *ret_queued)
{
	struct store_queue_row *row = &item->queue_row;
	int r;

	r = store_queue_get(writer->store, item->queue_id, item->queue_scope,
			    row, &item->queue_found);
	if (r < 0 || !item->queue_found)
		return r;

	if (item->queue_op == WRITER_QUEUE_DROP)
		return store_queue_drop(writer->store, row->row.id, row->dead);

	r = store_queue_retry(writer->store, row->row.id, row->dead,
			      item->received_ms);
	if (r == 0)
		*ret_queued = true;
	return r;
}

static int apply(struct writer *writer, struct writer_item *item,
		 bool *ret_queued)
{
	const struct config *config = item->config;
	int r;

	if (item->kind == WRITER_QUEUE)
		return apply_queue(writer, item, ret_queued);
	if (item->kind == WRITER_COMMAND) {
		r = pager_command(writer->store, config, item->command,
				  item->key, item->source, item->actor,
				  item->received_ms, &item->outcome);
	} else if (item->type == SNS_TYPE_NOTIFICATION) {
		r = pager_alert(writer->store, config, &item->alert,
				item->received_ms, &item->outcome);
	} else {
		return apply_subscription(writer, item, ret_queued);
	}

	if (r == 0 && item->outcome.queued)
		*ret_queued = true;
	return r;
}

/* Applies one item inside the open transaction, in its own savepoint. */
static void apply_item(struct writer *writer, struct writer_item *item,
		       bool *ret_queued)
{
	struct store *store = writer->store;
	bool seen = false;
	int r;

	r = store_savepoint(store);
	if (r < 0)
		goto fail;

	if (item->message_id) {
		r = store_seen_check(store, item->message_id, &seen);
		if (r < 0)
			goto fail_rollback;
		if (seen) {
			store_savepoint_release(store);
			item->result = WRITER_DUPLICATE;
			return;
		}

		r = store_seen_add(store, item->message_id, item->topic_arn,
				   item->seen_type, item->received_ms);
		if (r < 0)
			goto fail_rollback;
	}

	r = apply(writer, item, ret_queued);
	if (r < 0)
		goto fail_rollback;

	r = store_savepoint_release(store);
	if (r < 0)
		goto fail_rollback;

	item->result = WRITER_ACCEPTED;
	return;

fail_rollback:
	store_savepoint_rollback(store);
fail:
	item->result = WRITER_FAILED;
	item->error = r;
	LOG(LOG_LEVEL_ERROR, "store.item_failed",
	    {"message_id", item->message_id}, {"key", item->key},
	    {"error", strerror(-r)}, {"detail", store_error(store)});
}

static void prune_seen(struct writer *writer, const struct config *config,
		       int64_t now_ms)
{
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

/*
 * An item refused for the store's sake, not its own (no space, no
 * permission to write, an I/O error, a damaged file): the store fails
 * as it does when a commit fails, so that readiness says so until the
 * probe writes again.
 */
static bool store_refused(int error)
{
	return error == -EACCES || error == -ENOSPC || error == -EIO ||
	       error == -EUCLEAN || error == -EROFS;
}

/*
 * After each of the writer's commits, with the log's length in pages:
 * for every WRITER_LOG_CHECKPOINT_PAGES it grows by, a checkpoint, in
 * the background while the log is within its bound, by the writer
 * itself past it.
 */
static void on_log(void *arg, int log_pages)
{
	struct writer *writer = arg;

	/* Shorter than at the last request: it started over. */
	if (log_pages < writer->log_asked_pages)
		writer->log_asked_pages = 0;
	if (log_pages - writer->log_asked_pages < WRITER_LOG_CHECKPOINT_PAGES)
		return;

	writer->log_asked_pages = log_pages;
	if (log_pages >= WRITER_LOG_MAX_PAGES)
		writer->log_full = true;
	else
		checkpointer_request(writer->checkpointer);
}

/*
 * A log past its bound is moved into the database on the writer's own
 * connection, between commits, waiting briefly for readers: all of it
 * is moved, and the next commit starts the log over.
 */
static void bound_log(struct writer *writer)
{
	if (!writer->log_full)
		return;
	writer->log_full = false;
	checkpointer_run(writer->checkpointer, writer->store);
}

/* Applies a batch in one transaction; returns true if rows were queued. */
static bool commit_batch(struct writer *writer, struct writer_item *batch)
{
	int64_t start = app_mono_ms();
	bool refused = false;
	bool queued = false;
	int r;

	r = store_begin(writer->store);
	if (r == 0) {
		for (struct writer_item *it = batch; it; it = it->next) {
			apply_item(writer, it, &queued);
			if (it->result == WRITER_FAILED &&
			    store_refused(it->error))
				refused = true;

			/*
			 * SQLite rolled the whole transaction back (a full
			 * disk): the items before this one are undone too,
			 * and the rest must not run outside a transaction.
			 */
			if (!store_transaction_open(writer->store)) {
				r = it->result == WRITER_FAILED ? it->error
								: -EIO;
				break;
			}
		}
		if (r == 0)
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
		set_store_ok(writer, false);
		LOG(LOG_LEVEL_ERROR, "store.commit_failed",
		    {"error", strerror(-r)},
		    {"detail", store_error(writer->store)});
		return false;
	}

	set_store_ok(writer, !refused);
	metrics_observe(METRICS_HIST_COMMIT, (app_mono_ms() - start) * 1000);
	return queued;
}

/* Fires what fell due in one transaction; false when it failed. */
static bool tick(struct writer *writer, const struct config *config,
		 int64_t now_ms)
{
	struct pager_tick_result result = {0};
	int r;

	r = store_begin(writer->store);
	if (r == 0)
		r = pager_tick(writer->store, config, now_ms, WRITER_TICK_MAX,
			       &result);
	if (r == 0)
		r = store_commit(writer->store);
	set_store_ok(writer, r == 0);
	if (r < 0) {
		store_rollback(writer->store);
		LOG(LOG_LEVEL_ERROR, "escalation.tick_failed",
		    {"error", strerror(-r)},
		    {"detail", store_error(writer->store)});
		return false;
	}

	if (writer->catching_up) {
		writer->caught_up_steps += result.steps_fired;
		if (result.late_ms > writer->caught_up_late_ms)
			writer->caught_up_late_ms = result.late_ms;
	}
	if (result.queued && writer->app->delivery)
		delivery_wake(writer->app->delivery);
	return true;
}

/* The first time nothing is overdue after start: says what was late. */
static void catch_up_done(struct writer *writer)
{
	char steps[24];
	char late[24];

	writer->catching_up = false;
	if (writer->caught_up_steps == 0)
		return;
	LOG(LOG_LEVEL_WARNING, "escalation.catch_up",
	    {"steps", log_int(steps, (int64_t)writer->caught_up_steps)},
	    {"late_ms", log_int(late, writer->caught_up_late_ms)},
	    {"detail", "fired the steps that fell due while the daemon was"
		       " not running"});
}

/* Says so when the system's clock was stepped (NTP, by hand). */
static void notice_wall_step(struct writer *writer)
{
	int64_t step = app_wall_step_ms();
	int64_t change = step - writer->wall_step_logged_ms;
	char text[24];

	if (change > -WRITER_WALL_STEP_NOTICE_MS &&
	    change < WRITER_WALL_STEP_NOTICE_MS)
		return;
	writer->wall_step_logged_ms = step;
	LOG(LOG_LEVEL_WARNING, "clock.wall_stepped",
	    {"step_ms", log_int(text, step)},
	    {"detail", "escalation keeps to the time elapsed since start;"
		       " a restart takes the system's clock as it reads"});
}

/* While the last commit failed: tries the store again, now and then. */
static void probe(struct writer *writer, int64_t now_ms)
{
	int64_t now_mono = app_mono_ms();

	if (atomic_load(&writer->app->store_ok) ||
	    now_mono < writer->next_probe_mono)
		return;
	writer->next_probe_mono = now_mono + WRITER_PROBE_INTERVAL_MS;

	if (store_probe(writer->store, now_ms) == 0)
		set_store_ok(writer, true);
}

/*
 * The scheduler's turn: fire whatever is due, then say how long to
 * sleep. Deadlines are UTC instants in the store, judged on the
 * daemon's clock (app_wall_ms()), which a step of the system's clock
 * does not move: each step fires when its delay has elapsed, once.
 */
static int64_t schedule(struct writer *writer)
{
	const struct config *config = app_config_acquire(writer->app);
	int64_t now = app_wall_ms();
	int64_t next = ESCALATION_NEVER;
	int64_t wait = WRITER_IDLE_MS;

	probe(writer, now);
	prune_seen(writer, config, now);
	notice_wall_step(writer);

	for (int rounds = 0; rounds < 16; rounds++) {
		if (store_incident_next_deadline(writer->store, &next) < 0)
			break;
		if (next > now) {
			if (writer->catching_up)
				catch_up_done(writer);
			break;
		}
		if (!tick(writer, config, now))
			break;
		bound_log(writer);
	}

	if (next != ESCALATION_NEVER && next - now < wait)
		wait = next > now ? next - now : 0;
	if (config->testing_clock_file && wait > WRITER_TEST_CLOCK_POLL_MS)
		wait = WRITER_TEST_CLOCK_POLL_MS;
	if (!atomic_load(&writer->app->store_ok) &&
	    wait > WRITER_PROBE_INTERVAL_MS)
		wait = WRITER_PROBE_INTERVAL_MS;

	app_config_release(writer->app, config);
	return wait;
}

/*
 * When the scheduler should next run, after a commit that may have set
 * a deadline nearer than the one it planned for (a new incident's next
 * step): one indexed look-up, so a step fires on time even while the
 * writer idles. The writer's lock is held.
 */
static void plan_after_commit(struct writer *writer, int64_t next_deadline)
{
	int64_t in_ms;
	int64_t at;

	if (next_deadline == ESCALATION_NEVER)
		return;
	in_ms = next_deadline - app_wall_ms();
	at = app_mono_ms() + (in_ms > 0 ? in_ms : 0);
	if (at < writer->next_schedule_mono)
		writer->next_schedule_mono = at;
}

static void beat(struct writer *writer)
{
	atomic_store(&writer->heartbeat_mono, app_mono_ms());
}

static void wait_for_work(struct writer *writer, int64_t wait_ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&writer->work, &writer->lock, &until);
}

static void *writer_main(void *arg)
{
	struct writer *writer = arg;

	pthread_mutex_lock(&writer->lock);
	for (;;) {
		struct writer_item *batch;
		struct writer_item *last;
		int64_t next_deadline;
		bool queued;
		int n = 1;

		/*
		 * Between batches, and while idle, the scheduler's turn when
		 * a deadline is due; idle, the thread still wakes every
		 * heartbeat to say it is alive.
		 */
		while (!writer->stopping &&
		       (!writer->head ||
			app_mono_ms() >= writer->next_schedule_mono)) {
			int64_t wait;

			if (app_mono_ms() >= writer->next_schedule_mono) {
				writer->poked = false;
				pthread_mutex_unlock(&writer->lock);
				wait = schedule(writer);
				pthread_mutex_lock(&writer->lock);
				writer->next_schedule_mono =
					writer->poked ? 0
						      : app_mono_ms() + wait;
			}
			beat(writer);
			if (writer->head || writer->stopping)
				break;

			wait = writer->next_schedule_mono - app_mono_ms();
			if (writer->app->heartbeat_ms > 0 &&
			    wait > writer->app->heartbeat_ms)
				wait = writer->app->heartbeat_ms;
			if (wait > 0)
				wait_for_work(writer, wait);
		}
		if (!writer->head && writer->stopping)
			break;
		if (!writer->head)
			continue;

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
		bound_log(writer);
		if (store_incident_next_deadline(writer->store,
						 &next_deadline) < 0)
			next_deadline = ESCALATION_NEVER;
		beat(writer);

		pthread_mutex_lock(&writer->lock);
		plan_after_commit(writer, next_deadline);
		/* After a failed commit the probe runs within its interval,
		 * not at the next deadline, which may be far off. */
		if (!atomic_load(&writer->app->store_ok) &&
		    writer->next_schedule_mono >
			    app_mono_ms() + WRITER_PROBE_INTERVAL_MS)
			writer->next_schedule_mono =
				app_mono_ms() + WRITER_PROBE_INTERVAL_MS;
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
	const struct config *config;
	pthread_condattr_t attr;
	int r;

	if (!writer)
		return -ENOMEM;

	writer->app = app;
	writer->catching_up = true;
	config = app_config_acquire(app);
	r = store_open(config->state_dir, &writer->store);
	if (r == 0)
		r = checkpointer_start(config->state_dir,
				       &writer->checkpointer);
	app_config_release(app, config);
	if (r < 0) {
		store_close(writer->store);
		free(writer);
		return r;
	}
	store_checkpoint_elsewhere(writer->store, on_log, writer);

	pthread_mutex_init(&writer->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&writer->work, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&writer->done, NULL);

	r = -pthread_create(&writer->thread, NULL, writer_main, writer);
	if (r < 0) {
		checkpointer_stop(writer->checkpointer);
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

void writer_poke(struct writer *writer)
{
	pthread_mutex_lock(&writer->lock);
	writer->next_schedule_mono = 0;
	writer->poked = true;
	pthread_cond_signal(&writer->work);
	pthread_mutex_unlock(&writer->lock);
}

int64_t writer_heartbeat(const struct writer *writer)
{
	return atomic_load(&((struct writer *)writer)->heartbeat_mono);
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
	checkpointer_stop(writer->checkpointer);
	store_close(writer->store);
	free(writer);
}
