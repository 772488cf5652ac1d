/*
 * delivery: libcurl multi, pacing per routing key, outcomes to the store.
 */
#include "delivery.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "log.h"
#include "metrics.h"
#include "render.h"
#include "retry.h"
#include "store.h"
#include "util.h"

#define DELIVERY_SLOTS        16
#define DELIVERY_RESPONSE_MAX (64 * 1024)
#define DELIVERY_IDLE_WAIT_MS 1000
/* The loop must turn at least this often to count as alive. */
#define DELIVERY_ALIVE_MS 15000
/* How often the outbox figures for /metrics are refreshed. */
#define DELIVERY_STATS_MS 1000

/*
 * Outcomes the store could not take (its disk full, say) wait in memory
 * and are written again this often. While one waits, its row is not
 * sent again: a delivered event stays delivered, a failing one keeps
 * its backoff. Room for every slot's outcome is kept, so that no
 * outcome is ever dropped: new transfers wait instead.
 */
#define DELIVERY_UNRECORDED_MAX  64
#define DELIVERY_RECORD_RETRY_MS 250
_Static_assert(DELIVERY_UNRECORDED_MAX > DELIVERY_SLOTS,
	       "every slot's outcome must fit");

struct slot {
	bool busy;
	CURL *easy;
	struct store_outbox_row row;
	struct curl_slist *headers;
	char *body;
	struct strbuf response;
	int64_t retry_after_ms;
	int64_t started_mono;
	size_t pace_index;
};

enum outcome_kind {
	OUTCOME_DONE,       /* delivered: delete the row */
	OUTCOME_RESCHEDULE, /* failed for now: attempts, next_ms, text */
	OUTCOME_DEAD,       /* failed for good: dead letter with text */
};

struct outcome {
	enum outcome_kind kind;
	int64_t id;
	unsigned int attempts;
	int64_t next_ms; /* wall clock, as stored */
	char text[512];
};

/*
 * The targets to send for: one per configured target, one per target
 * that rows still wait for though the configuration no longer has it,
 * and last one for subscription rows.
 */
#define DELIVERY_PACES_MAX 1024

/*
 * Pacing is per routing key: PagerDuty limits the events to one key, so
 * targets that share a key share its budget. The targets of one key
 * form a group, whose first member keeps the budget (next_send_mono)
 * and sends the oldest row due of any of them. A target the
 * configuration no longer has is a group of its own.
 */
struct pace {
	char *target;            /* NULL: subscriptions */
	const char *routing_key; /* in the configuration; NULL: none */
	size_t group;            /* the index of the group's first member */
	int64_t next_send_mono;
};

struct delivery {
	struct app *app;
	const struct config *config; /* a reference: the one paces follow */
	struct store *store;
	pthread_t thread;
	CURLM *multi;
	atomic_bool stop;
	atomic_llong stop_deadline_mono;
	atomic_llong heartbeat_mono;
	struct slot slots[DELIVERY_SLOTS];
	size_t busy;
	struct pace *paces;
	size_t n_paces;
	int64_t interval_ms;
	int64_t next_stats_mono;
	struct outcome unrecorded[DELIVERY_UNRECORDED_MAX];
	size_t n_unrecorded;
	int64_t next_record_mono;
};

static uint32_t random_u32(void)
{
	uint32_t value = 0;

	/* Jitter needs no cryptographic quality; a short read is fine. */
	if (getrandom(&value, sizeof(value), GRND_NONBLOCK) < 0)
		value = (uint32_t)app_mono_ms();
	return value;
}

static bool row_in_flight(const struct delivery *d, int64_t id)
{
	for (size_t i = 0; i < DELIVERY_SLOTS; i++)
		if (d->slots[i].busy && d->slots[i].row.id == id)
			return true;
	return false;
}

static struct slot *free_slot(struct delivery *d)
{
	for (size_t i = 0; i < DELIVERY_SLOTS; i++)
		if (!d->slots[i].busy)
			return &d->slots[i];
	return NULL;
}

/*
 * Whether one more transfer may start: a free slot, and room for its
 * outcome should the store not take it.
 */
static bool may_start(const struct delivery *d)
{
	return d->busy < DELIVERY_SLOTS &&
	       d->busy + d->n_unrecorded < DELIVERY_UNRECORDED_MAX;
}

static struct outcome *unrecorded_find(struct delivery *d, int64_t id)
{
	for (size_t i = 0; i < d->n_unrecorded; i++)
		if (d->unrecorded[i].id == id)
			return &d->unrecorded[i];
	return NULL;
}

static int store_outcome(struct delivery *d, const struct outcome *o)
{
	switch (o->kind) {
	case OUTCOME_DONE:
		return store_outbox_done(d->store, o->id);
	case OUTCOME_RESCHEDULE:
		return store_outbox_reschedule(d->store, o->id, o->attempts,
					       o->next_ms, o->text);
	case OUTCOME_DEAD:
		return store_outbox_dead(d->store, o->id, o->attempts,
					 app_wall_ms(), o->text);
	}
	return -EINVAL;
}

/*
 * Writes an outcome to the store, or keeps it for later when the store
 * cannot take it (a newer outcome of the same row replaces an older).
 * True when it reached the store.
 */
static bool record(struct delivery *d, const struct outcome *o)
{
	struct outcome *kept = unrecorded_find(d, o->id);

	if (!kept && store_outcome(d, o) == 0)
		return true;

	if (!kept) {
		LOG(LOG_LEVEL_ERROR, "store.outcome_unrecorded",
		    {"detail", store_error(d->store)});
		kept = &d->unrecorded[d->n_unrecorded++];
	}
	*kept = *o;
	return false;
}

/* Writes the kept outcomes, oldest first, while the store takes them. */
static void record_kept(struct delivery *d)
{
	int64_t now = app_mono_ms();
	size_t done = 0;
	char count[24];

	if (d->n_unrecorded == 0 || now < d->next_record_mono)
		return;

	while (done < d->n_unrecorded &&
	       store_outcome(d, &d->unrecorded[done]) == 0)
		done++;
	memmove(d->unrecorded, d->unrecorded + done,
		(d->n_unrecorded - done) * sizeof(*d->unrecorded));
	d->n_unrecorded -= done;

	if (d->n_unrecorded > 0)
		d->next_record_mono = now + DELIVERY_RECORD_RETRY_MS;
	else
		LOG(LOG_LEVEL_INFO, "store.outcomes_recorded",
		    {"count", log_int(count, (long long)done)});
}

/*
 * Whether a due row may be sent now, given an outcome kept for it: not
 * once delivered or dead, not before its kept retry time; when it may,
 * it carries the kept attempt count.
 */
static bool row_ready(struct delivery *d, struct store_outbox_row *row,
		      int64_t now_wall, int64_t *wait)
{
	struct outcome *kept = unrecorded_find(d, row->id);

	if (!kept)
		return true;
	if (kept->kind != OUTCOME_RESCHEDULE)
		return false;
	if (now_wall < kept->next_ms) {
		if (kept->next_ms - now_wall < *wait)
			*wait = kept->next_ms - now_wall;
		return false;
	}
	row->attempts = kept->attempts;
	return true;
}

/* The longest Retry-After believed; retry_delay_ms() caps it further. */
#define DELIVERY_RETRY_AFTER_MAX_S (24 * 3600)

/*
 * A Retry-After value in ms: delta-seconds, or an HTTP-date (RFC 9110,
 * section 10.2.3), which curl_getdate() reads in all three of its forms.
 * The date is on the server's clock, so the system's clock as it reads
 * now turns it into a delay; one in the past asks for none.
 */
static bool parse_retry_after(const char *value, int64_t *ret_ms)
{
	struct timespec now;
	long long seconds;
	time_t when;
	char *end;

	if (*value >= '0' && *value <= '9') {
		errno = 0;
		seconds = strtoll(value, &end, 10);
		if (errno || *end != '\0' ||
		    seconds >= DELIVERY_RETRY_AFTER_MAX_S)
			return false;
		*ret_ms = seconds * 1000;
		return true;
	}

	when = curl_getdate(value, NULL);
	if (when == -1)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	seconds = (long long)(when - now.tv_sec);
	if (seconds >= DELIVERY_RETRY_AFTER_MAX_S)
		return false;
	*ret_ms = seconds > 0 ? seconds * 1000 - now.tv_nsec / 1000000 : 0;
	return true;
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct slot *slot = userdata;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	char value[96];
	size_t vlen;
	char *start;
	int64_t ms;

	if (len <= sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return len;

	vlen = len - (sizeof(name) - 1);
	if (vlen >= sizeof(value))
		return len;
	memcpy(value, data + sizeof(name) - 1, vlen);
	value[vlen] = '\0';
	util_rstrip(value);
	start = value + strspn(value, " \t");

	if (parse_retry_after(start, &ms))
		slot->retry_after_ms = ms;
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct slot *slot = userdata;

	/* A long answer is cut, not refused: only its start is logged. */
	strbuf_append_head(&slot->response, data, size * n);
	return size * n;
}

static void slot_release(struct delivery *d, struct slot *slot)
{
	if (slot->easy) {
		curl_multi_remove_handle(d->multi, slot->easy);
		curl_easy_cleanup(slot->easy);
	}
	curl_slist_free_all(slot->headers);
	free(slot->body);
	strbuf_release(&slot->response);
	store_outbox_row_release(&slot->row);
	memset(slot, 0, sizeof(*slot));
	d->busy--;
	metrics_gauge_set(METRICS_GAUGE_IN_FLIGHT, (int64_t)d->busy);
}

/* -ENOENT when the row's target is not configured (a reload removed
 * it): the row waits, it is not the event's fault. */
int delivery_event_body(const struct config *config,
			const struct store_outbox_row *row, char **ret_body,
			const char **ret_reason)
{
	const struct config_target *target;
	json_error_t error;
	json_t *payload;
	size_t len;
	int r;

	target = config_find_target(config, row->target);
	if (!target) {
		*ret_reason = "its target is not in the configuration";
		return -ENOENT;
	}

	payload = json_loads(row->body, 0, &error);
	if (!payload) {
		*ret_reason = "stored payload is not JSON";
		return -EINVAL;
	}

	r = render_event_body(payload, target->routing_key, row->action,
			      row->order_key, config->client,
			      config->client_url, ret_body, &len);
	json_decref(payload);
	if (r < 0)
		*ret_reason = "event could not be encoded";
	return r;
}

static void log_outcome(enum log_level level, const char *event,
			const struct slot *slot, long status,
			const char *detail)
{
	const struct store_outbox_row *row = &slot->row;
	char attempt[24];
	char code[24];
	char ms[24];

	LOG(level, event,
	    {"kind",
	     row->kind == STORE_OUTBOX_SUBSCRIBE ? "subscribe" : "event"},
	    {"dedup_key",
	     row->kind == STORE_OUTBOX_EVENT ? row->order_key : NULL},
	    {"topic", row->kind == STORE_OUTBOX_SUBSCRIBE ? row->detail : NULL},
	    {"message_id",
	     row->kind == STORE_OUTBOX_EVENT ? row->detail : NULL},
	    {"target", row->target}, {"action", row->action},
	    {"attempt", log_int(attempt, row->attempts + 1)},
	    {"status", status ? log_int(code, status) : NULL},
	    {"latency_ms", log_int(ms, app_mono_ms() - slot->started_mono)},
	    {"detail", detail});
}

/* attempts: the tries made in all, the last included. */
static void dead_letter(struct delivery *d, struct slot *slot,
			unsigned int attempts, long status, const char *reason)
{
	struct outcome o = {
		.kind = OUTCOME_DEAD,
		.id = slot->row.id,
		.attempts = attempts,
	};

	snprintf(o.text, sizeof(o.text), "%s", reason);
	record(d, &o);

	/* Readiness reads the gauge: show the new one now, not at the next
	 * refresh of the figures. */
	metrics_dead_letter();
	metrics_gauge_set(METRICS_GAUGE_DEAD_LETTERS,
			  metrics_gauge_get(METRICS_GAUGE_DEAD_LETTERS) + 1);
	if (slot->row.kind == STORE_OUTBOX_SUBSCRIBE) {
		metrics_subscription(0);
		store_subscription_record(d->store, slot->row.detail, NULL,
					  "failed", reason, app_wall_ms());
	}
	log_outcome(LOG_LEVEL_ERROR, "delivery.dead_lettered", slot, status,
		    reason);
}

static void retry_later(struct delivery *d, struct slot *slot, long status,
			const char *reason)
{
	const struct config *config = d->config;
	const struct retry_policy policy = {
		.initial_ms = config->retry_initial_ms,
		.max_ms = config->retry_max_ms,
		.deadline_ms = config->retry_deadline_ms,
	};
	unsigned int attempts = slot->row.attempts + 1;
	int64_t now = app_wall_ms();
	struct outcome o;
	int64_t delay;
	char text[256];
	char ms[24];

	delay = retry_delay_ms(&policy, attempts, slot->retry_after_ms,
			       random_u32());

	if (retry_expired(&policy, slot->row.created_ms, now + delay)) {
		snprintf(text, sizeof(text), "gave up after %u attempts: %s",
			 attempts, reason);
		dead_letter(d, slot, attempts, status, text);
		return;
	}

	/* A 429 speaks for the routing key, not just this event. */
	if (status == 429 && slot->pace_index < d->n_paces) {
		struct pace *pace = &d->paces[d->paces[slot->pace_index].group];
		int64_t until = app_mono_ms() + delay;

		if (pace->next_send_mono < until)
			pace->next_send_mono = until;
	}

	o = (struct outcome){
		.kind = OUTCOME_RESCHEDULE,
		.id = slot->row.id,
		.attempts = attempts,
		.next_ms = now + delay,
	};
	snprintf(o.text, sizeof(o.text), "%s", reason);
	record(d, &o);

	metrics_retry();
	LOG(LOG_LEVEL_WARNING, "delivery.retry",
	    {"dedup_key", slot->row.order_key}, {"target", slot->row.target},
	    {"action", slot->row.action}, {"attempt", log_int(text, attempts)},
	    {"delay_ms", log_int(ms, delay)}, {"detail", reason});
}

/* PagerDuty's 400 answer: {"status":..., "message":..., "errors":[...]}. */
static void invalid_reason(const struct slot *slot, char *out, size_t size)
{
	json_t *answer =
		json_loadb(slot->response.data ? slot->response.data : "",
			   slot->response.len, 0, NULL);
	json_t *errors = json_object_get(answer, "errors");
	const char *message =
		json_string_value(json_object_get(answer, "message"));
	size_t used;
	size_t i;
	json_t *e;

	used = (size_t)snprintf(out, size, "HTTP 400: %s",
				message ? message : "invalid event");
	json_array_foreach(errors, i, e)
	{
		const char *text = json_string_value(e);

		if (text && used < size)
			used += (size_t)snprintf(out + used, size - used,
						 "; %s", text);
	}
	json_decref(answer);
}

static void on_done(struct delivery *d, struct slot *slot, CURLcode rc)
{
	long status = 0;
	char reason[512];

	metrics_observe(METRICS_HIST_DELIVERY,
			(app_mono_ms() - slot->started_mono) * 1000);

	if (rc != CURLE_OK) {
		metrics_delivery(METRICS_DELIVERY_NETWORK);
		snprintf(reason, sizeof(reason), "%s", curl_easy_strerror(rc));
		retry_later(d, slot, 0, reason);
		return;
	}

	curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &status);

	if (status >= 200 && status < 300) {
		metrics_delivery(METRICS_DELIVERY_ACCEPTED);
		/* Kept in memory when the store cannot delete the row: sent
		 * twice at worst, after a restart, and PagerDuty
		 * deduplicates on the dedup_key. */
		record(d, &(struct outcome){.kind = OUTCOME_DONE,
					    .id = slot->row.id});
		if (slot->row.kind == STORE_OUTBOX_SUBSCRIBE) {
			metrics_subscription(1);
			store_subscription_record(d->store, slot->row.detail,
						  NULL, "confirmed", NULL,
						  app_wall_ms());
			log_outcome(LOG_LEVEL_INFO, "subscription.confirmed",
				    slot, status, NULL);
		} else {
			log_outcome(LOG_LEVEL_INFO, "delivery.accepted", slot,
				    status, NULL);
		}
		return;
	}

	if (slot->row.kind == STORE_OUTBOX_EVENT &&
	    (status == 400 || status == 413 || status == 422)) {
		metrics_delivery(METRICS_DELIVERY_INVALID);
		invalid_reason(slot, reason, sizeof(reason));
		dead_letter(d, slot, slot->row.attempts + 1, status, reason);
		return;
	}

	if (status == 429)
		metrics_delivery(METRICS_DELIVERY_RATE_LIMITED);
	else if (status >= 500)
		metrics_delivery(METRICS_DELIVERY_SERVER_ERROR);
	else
		metrics_delivery(METRICS_DELIVERY_OTHER);

	snprintf(reason, sizeof(reason), "HTTP %ld", status);
	retry_later(d, slot, status, reason);
}

/* What every request of ours to the outside shares. */
static void common_options(CURL *easy, const struct config *config)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)config->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)config->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "alertbridge");
}

int delivery_setup_event(CURL *easy, const struct config *config,
			 const char *body, struct curl_slist **ret_headers)
{
	struct curl_slist *headers =
		curl_slist_append(NULL, "Content-Type: application/json");

	if (!headers)
		return -ENOMEM;

	common_options(easy, config);
	curl_easy_setopt(easy, CURLOPT_URL, config->events_url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
	*ret_headers = headers;
	return 0;
}

static int start_transfer(struct delivery *d, struct slot *slot,
			  struct store_outbox_row *row, size_t pace_index)
{
	const struct config *config = d->config;
	const char *reason = NULL;
	CURL *easy;
	int r;

	memset(slot, 0, sizeof(*slot));
	slot->row = *row;
	memset(row, 0, sizeof(*row));
	slot->pace_index = pace_index;
	slot->retry_after_ms = -1;
	slot->started_mono = app_mono_ms();
	slot->busy = true;
	d->busy++;
	strbuf_init(&slot->response, DELIVERY_RESPONSE_MAX);

	if (slot->row.kind == STORE_OUTBOX_EVENT) {
		r = delivery_event_body(config, &slot->row, &slot->body,
					&reason);
		if (r == -ENOENT)
			retry_later(d, slot, 0, reason);
		else if (r < 0)
			dead_letter(d, slot, slot->row.attempts, 0, reason);
		if (r < 0) {
			slot_release(d, slot);
			return r;
		}
	}

	easy = curl_easy_init();
	if (!easy) {
		slot_release(d, slot);
		return -ENOMEM;
	}
	slot->easy = easy;

	curl_easy_setopt(easy, CURLOPT_PRIVATE, slot);
	common_options(easy, config);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, slot);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, slot);

	if (slot->row.kind == STORE_OUTBOX_EVENT) {
		r = delivery_setup_event(easy, config, slot->body,
					 &slot->headers);
		if (r < 0) {
			slot_release(d, slot);
			return r;
		}
	} else {
		/* The SubscribeURL passed the SNS host policy on ingest. */
		curl_easy_setopt(easy, CURLOPT_URL, slot->row.body);
		curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https");
		if (config->testing_cert_ca_file)
			curl_easy_setopt(easy, CURLOPT_CAINFO,
					 config->testing_cert_ca_file);
		if (config->testing_cert_connect_to) {
			slot->headers = curl_slist_append(
				NULL, config->testing_cert_connect_to);
			curl_easy_setopt(easy, CURLOPT_CONNECT_TO,
					 slot->headers);
		}
	}

	if (curl_multi_add_handle(d->multi, easy) != CURLM_OK) {
		slot_release(d, slot);
		return -EIO;
	}
	metrics_gauge_set(METRICS_GAUGE_IN_FLIGHT, (int64_t)d->busy);
	return 0;
}

/*
 * The oldest row due of the targets in group g, not in flight and not
 * held back by a kept outcome, moved to *ret_row, with the index of its
 * target's pace; false when there is none. Every head row of a target
 * is due at once, so one beyond those in flight or kept is enough.
 * *wait shortens to when a kept outcome lets its row go again.
 */
static bool next_paced_row(struct delivery *d, size_t g, int64_t now_wall,
			   int64_t *wait, struct store_outbox_row *ret_row,
			   size_t *ret_pace_index)
{
	bool found = false;

	for (size_t p = g; p < d->n_paces; p++) {
		struct store_outbox_row *rows = NULL;
		size_t n = 0;

		if (d->paces[p].group != g || !d->paces[p].target)
			continue;
		if (store_outbox_due(d->store, d->paces[p].target, now_wall,
				     d->busy + d->n_unrecorded + 1, &rows,
				     &n) < 0) {
			LOG(LOG_LEVEL_ERROR, "store.outbox_read_failed",
			    {"detail", store_error(d->store)});
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (row_in_flight(d, rows[i].id) ||
			    !row_ready(d, &rows[i], now_wall, wait))
				continue;
			if (!found || rows[i].id < ret_row->id) {
				if (found)
					store_outbox_row_release(ret_row);
				*ret_row = rows[i];
				memset(&rows[i], 0, sizeof(rows[i]));
				*ret_pace_index = p;
				found = true;
			}
			break;
		}
		store_outbox_rows_free(rows, n);
	}
	return found;
}

/*
 * Starts the subscription rows due; false when the store failed. *wait
 * shortens to when a kept outcome lets its row go again.
 */
static bool fill_unpaced(struct delivery *d, size_t p, int64_t now_wall,
			 int64_t *wait)
{
	struct store_outbox_row *rows = NULL;
	size_t n = 0;

	/* Enough rows to step over the ones already in flight or waiting
	 * on a kept outcome. */
	if (store_outbox_due(d->store, NULL, now_wall,
			     d->busy + d->n_unrecorded + DELIVERY_SLOTS, &rows,
			     &n) < 0) {
		LOG(LOG_LEVEL_ERROR, "store.outbox_read_failed",
		    {"detail", store_error(d->store)});
		return false;
	}
	for (size_t i = 0; i < n && may_start(d); i++)
		if (!row_in_flight(d, rows[i].id) &&
		    row_ready(d, &rows[i], now_wall, wait))
			start_transfer(d, free_slot(d), &rows[i], p);
	store_outbox_rows_free(rows, n);
	return true;
}

/* Starts what is due and allowed; returns the ms until worth looking. */
static int64_t fill_slots(struct delivery *d)
{
	int64_t now_wall = app_wall_ms();
	int64_t now_mono = app_mono_ms();
	int64_t wait = DELIVERY_IDLE_WAIT_MS;
	int64_t next_due;

	for (size_t p = 0; p < d->n_paces; p++) {
		struct pace *pace = &d->paces[p];
		struct store_outbox_row row = {0};
		size_t from = p;

		if (!may_start(d))
			break;

		if (!pace->target) {
			if (!fill_unpaced(d, p, now_wall, &wait))
				return DELIVERY_IDLE_WAIT_MS;
			continue;
		}
		if (pace->group != p)
			continue; /* sent for with its group's first member */

		if (now_mono < pace->next_send_mono) {
			if (pace->next_send_mono - now_mono < wait)
				wait = pace->next_send_mono - now_mono;
			continue;
		}

		if (!next_paced_row(d, p, now_wall, &wait, &row, &from))
			continue;
		start_transfer(d, free_slot(d), &row, from);
		pace->next_send_mono = now_mono + d->interval_ms;
		if (d->interval_ms < wait)
			wait = d->interval_ms;
	}

	if (store_outbox_next_due(d->store, &next_due) == 0 &&
	    next_due != INT64_MAX) {
		int64_t until = next_due - now_wall;

		if (until < wait)
			wait = until < 1 ? 1 : until;
	}

	/* The store's next due time is stale for rows with a kept outcome;
	 * look again when the kept outcomes are next written. */
	if (d->n_unrecorded > 0 && wait < DELIVERY_RECORD_RETRY_MS)
		wait = DELIVERY_RECORD_RETRY_MS;
	return wait;
}

static void paces_free(struct pace *paces, size_t n)
{
	for (size_t i = 0; paces && i < n; i++)
		free(paces[i].target);
	free(paces);
}

static bool has_pace(const struct pace *paces, size_t n, const char *target)
{
	for (size_t i = 0; i < n; i++)
		if (paces[i].target && strcmp(paces[i].target, target) == 0)
			return true;
	return false;
}

/* Appends a pace for target, keeping its pacing from old if it was there. */
static int add_pace(struct pace *paces, size_t *n, const struct pace *old,
		    size_t n_old, const char *target)
{
	struct pace *p = &paces[*n];

	if (*n >= DELIVERY_PACES_MAX - 1)
		return -ENOSPC;
	p->target = strdup(target);
	if (!p->target)
		return -ENOMEM;
	p->group = *n;
	for (size_t i = 0; i < n_old; i++)
		if (old[i].target && strcmp(old[i].target, target) == 0)
			p->next_send_mono = old[old[i].group].next_send_mono;
	(*n)++;
	return 0;
}

/*
 * Puts the configured targets (the first n_targets paces) that share a
 * routing key in one group, whose budget is the latest any of them
 * carried over.
 */
static void group_by_key(struct pace *paces, const struct config *config)
{
	for (size_t t = 0; t < config->n_targets; t++) {
		size_t g = 0;

		paces[t].routing_key = config->targets[t].routing_key;
		while (g < t &&
		       strcmp(paces[g].routing_key, paces[t].routing_key) != 0)
			g++;
		paces[t].group = g;
		if (g == t)
			continue;
		if (paces[g].next_send_mono < paces[t].next_send_mono)
			paces[g].next_send_mono = paces[t].next_send_mono;
		LOG(LOG_LEVEL_INFO, "delivery.key_shared",
		    {"target", config->targets[t].name},
		    {"key_fingerprint", config->targets[t].fingerprint},
		    {"with", config->targets[g].name},
		    {"detail", "paced together: PagerDuty's limit is per"
			       " routing key"});
	}
}

/*
 * The paces for config: its targets, then every target still named by
 * rows in the outbox or by the paces before (a request planned before a
 * reload may still queue rows for a target the reload removed), then
 * subscriptions. Targets leave the list only with a restart.
 */
static int paces_build(struct delivery *d, const struct config *config)
{
	struct pace *paces = calloc(DELIVERY_PACES_MAX, sizeof(*paces));
	char **stored = NULL;
	size_t n_stored = 0;
	size_t n = 0;
	int r = 0;

	if (!paces)
		return -ENOMEM;

	for (size_t i = 0; r == 0 && i < config->n_targets; i++)
		r = add_pace(paces, &n, d->paces, d->n_paces,
			     config->targets[i].name);

	if (r == 0)
		r = store_outbox_targets(d->store, DELIVERY_PACES_MAX, &stored,
					 &n_stored);
	for (size_t i = 0; r == 0 && i < n_stored; i++)
		if (!has_pace(paces, n, stored[i]))
			r = add_pace(paces, &n, d->paces, d->n_paces,
				     stored[i]);
	for (size_t i = 0; r == 0 && i < d->n_paces; i++)
		if (d->paces[i].target &&
		    !has_pace(paces, n, d->paces[i].target))
			r = add_pace(paces, &n, d->paces, d->n_paces,
				     d->paces[i].target);
	store_names_free(stored, n_stored);

	if (r < 0) {
		paces_free(paces, n);
		return r;
	}

	for (size_t i = config->n_targets; i < n; i++)
		LOG(LOG_LEVEL_WARNING, "delivery.target_missing",
		    {"target", paces[i].target},
		    {"detail", "rows for this target stay in the outbox and"
			       " are retried until it is configured again"
			       " or the retry deadline passes"});

	group_by_key(paces, config);
	paces[n].target = NULL; /* subscriptions, last */
	paces[n].group = n;
	n++;
	paces_free(d->paces, d->n_paces);
	d->paces = paces;
	d->n_paces = n;
	d->interval_ms = 60000 / (int64_t)config->rate_per_minute;
	return 0;
}

/*
 * Takes the running configuration for this turn. When a reload has
 * replaced the one the paces were built for, they are built again; the
 * old reference is dropped only then, so that it cannot be freed and
 * its address reused unnoticed.
 */
static void follow_config(struct delivery *d)
{
	const struct config *config = app_config_acquire(d->app);
	int r;

	if (config == d->config) {
		app_config_release(d->app, config);
		return;
	}

	r = paces_build(d, config);
	if (r < 0) {
		/* The old paces go on; the next turn tries again. */
		LOG(LOG_LEVEL_ERROR, "delivery.reconfigure_failed",
		    {"error", strerror(-r)});
		app_config_release(d->app, config);
		return;
	}
	app_config_release(d->app, d->config);
	d->config = config;
}

static void refresh_stats(struct delivery *d)
{
	int64_t now = app_mono_ms();
	int64_t counts[INCIDENT_STATUS_COUNT];
	int64_t levels[METRICS_LEVELS];
	int64_t timers = 0;
	int64_t next = 0;
	int64_t depth = 0;
	int64_t oldest = 0;
	int64_t dead = 0;

	if (now < d->next_stats_mono)
		return;
	d->next_stats_mono = now + DELIVERY_STATS_MS;

	if (store_outbox_stats(d->store, &depth, &oldest) == 0) {
		metrics_gauge_set(METRICS_GAUGE_OUTBOX_DEPTH, depth);
		metrics_gauge_set(METRICS_GAUGE_OUTBOX_OLDEST_AGE_MS,
				  depth ? app_wall_ms() - oldest : 0);
	}
	if (store_dead_count(d->store, &dead) == 0)
		metrics_gauge_set(METRICS_GAUGE_DEAD_LETTERS, dead);
	if (store_incident_counts(d->store, counts) == 0)
		metrics_gauge_set(METRICS_GAUGE_INCIDENTS_OPEN,
				  counts[INCIDENT_STATUS_TRIGGERED]);
	if (store_escalation_stats(d->store, METRICS_LEVELS, levels, &timers,
				   &next) == 0) {
		metrics_levels_set(levels);
		metrics_gauge_set(METRICS_GAUGE_TIMERS, timers);
		metrics_gauge_set(METRICS_GAUGE_NEXT_DEADLINE, next);
	}
}

static void *delivery_main(void *arg)
{
	struct delivery *d = arg;

	for (;;) {
		int64_t wait = DELIVERY_IDLE_WAIT_MS;
		bool stopping = atomic_load(&d->stop);
		CURLMsg *msg;
		int running;
		int left;

		if (stopping &&
		    (d->busy == 0 ||
		     app_mono_ms() >= atomic_load(&d->stop_deadline_mono)))
			break;

		follow_config(d);
		record_kept(d);
		if (!stopping)
			wait = fill_slots(d);
		refresh_stats(d);

		/* After the first turn: the outbox is read, figures are out. */
		atomic_store(&d->heartbeat_mono, app_mono_ms());
		if (d->app->heartbeat_ms > 0 && wait > d->app->heartbeat_ms)
			wait = d->app->heartbeat_ms;

		curl_multi_perform(d->multi, &running);
		while ((msg = curl_multi_info_read(d->multi, &left))) {
			struct slot *slot = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&slot);
			on_done(d, slot, msg->data.result);
			slot_release(d, slot);
			wait = 0;
		}

		if (wait > 0)
			curl_multi_poll(d->multi, NULL, 0, (int)wait, NULL);
	}

	/* Transfers cut off here stay in the outbox for the next start. */
	for (size_t i = 0; i < DELIVERY_SLOTS; i++)
		if (d->slots[i].busy)
			slot_release(d, &d->slots[i]);
	return NULL;
}

int delivery_start(struct app *app, struct delivery **ret_delivery)
{
	struct delivery *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;

	d->app = app;
	d->config = app_config_acquire(app);

	r = store_open(d->config->state_dir, &d->store);
	if (r < 0)
		goto fail;

	r = paces_build(d, d->config);
	if (r < 0)
		goto fail;

	d->multi = curl_multi_init();
	if (!d->multi) {
		r = -ENOMEM;
		goto fail;
	}

	r = -pthread_create(&d->thread, NULL, delivery_main, d);
	if (r < 0)
		goto fail;

	*ret_delivery = d;
	return 0;
fail:
	if (d->multi)
		curl_multi_cleanup(d->multi);
	store_close(d->store);
	paces_free(d->paces, d->n_paces);
	app_config_release(app, d->config);
	free(d);
	return r;
}

void delivery_wake(struct delivery *delivery)
{
	curl_multi_wakeup(delivery->multi);
}

void delivery_stop(struct delivery *delivery, int64_t grace_ms)
{
	if (!delivery)
		return;

	atomic_store(&delivery->stop_deadline_mono, app_mono_ms() + grace_ms);
	atomic_store(&delivery->stop, true);
	curl_multi_wakeup(delivery->multi);
	pthread_join(delivery->thread, NULL);

	curl_multi_cleanup(delivery->multi);
	store_close(delivery->store);
	paces_free(delivery->paces, delivery->n_paces);
	app_config_release(delivery->app, delivery->config);
	free(delivery);
}

int64_t delivery_heartbeat(const struct delivery *delivery)
{
	return atomic_load(&((struct delivery *)delivery)->heartbeat_mono);
}

bool delivery_alive(const struct delivery *delivery)
{
	int64_t beat =
		atomic_load(&((struct delivery *)delivery)->heartbeat_mono);

	return app_mono_ms() - beat < DELIVERY_ALIVE_MS;
}
