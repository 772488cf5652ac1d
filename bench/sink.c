/*
 * sink: a rate-limited fake PagerDuty Events API v2 with tallies.
 */
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <jansson.h>
#include <microhttpd.h>

#define SINK_BODY_MAX (64 * 1024)
#define SINK_KEYS_MAX 16
#define SINK_RATE_MAX 100000

/* Dedup keys tracked; a power of two, well above the largest run. */
#define SINK_DEDUP_SLOTS (1u << 18)

/* PagerDuty's window for its per-key limit. */
#define SINK_WINDOW_MS 60000

struct routing_key {
	char *key;
	int64_t *sent_ms; /* ring of the accepted events' times */
	size_t head;      /* the oldest */
	size_t n;
	size_t accepted;
	size_t throttled;
	size_t refused;
};

struct dedup {
	char *key;
	unsigned int triggers;
	unsigned int resolves;
};

struct sink {
	struct MHD_Daemon *httpd;
	pthread_mutex_t lock;
	unsigned int rate;
	unsigned int status;
	struct routing_key keys[SINK_KEYS_MAX];
	size_t n_keys;
	struct dedup *dedups;
	size_t n_dedups;
	size_t untracked; /* events past SINK_KEYS_MAX or the dedup table */
	size_t malformed;
	size_t duplicate_triggers;
	size_t out_of_order;
	int64_t first_ms;
	int64_t last_ms;
};

struct upload {
	char *data;
	size_t len;
	bool too_long;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct routing_key *key_find(struct sink *sink, const char *key)
{
	struct routing_key *k;

	for (size_t i = 0; i < sink->n_keys; i++)
		if (strcmp(sink->keys[i].key, key) == 0)
			return &sink->keys[i];
	if (sink->n_keys == SINK_KEYS_MAX)
		return NULL;

	k = &sink->keys[sink->n_keys];
	k->key = strdup(key);
	k->sent_ms = calloc(sink->rate, sizeof(*k->sent_ms));
	if (!k->key || !k->sent_ms) {
		free(k->key);
		free(k->sent_ms);
		return NULL;
	}
	sink->n_keys++;
	return k;
}

/* FNV-1a: spreads the dedup keys, which differ in their last bytes. */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct dedup *dedup_find(struct sink *sink, const char *key)
{
	uint32_t i = hash(key) & (SINK_DEDUP_SLOTS - 1);

	/* Kept at most half full, so that a probe ends soon. */
	for (;;) {
		struct dedup *d = &sink->dedups[i];

		if (!d->key) {
			if (sink->n_dedups >= SINK_DEDUP_SLOTS / 2)
				return NULL;
			d->key = strdup(key);
			if (!d->key)
				return NULL;
			sink->n_dedups++;
			return d;
		}
		if (strcmp(d->key, key) == 0)
			return d;
		i = (i + 1) & (SINK_DEDUP_SLOTS - 1);
	}
}

/*
 * What PagerDuty acts on, in the order it arrived: a second trigger for
 * a dedup_key is a duplicate, and any event after its resolve, or a
 * resolve before its trigger, is out of order.
 */
static void tally(struct sink *sink, const char *dedup_key, const char *action)
{
	struct dedup *d = dedup_find(sink, dedup_key);

	if (!d) {
		sink->untracked++;
		return;
	}
	if (d->resolves > 0)
		sink->out_of_order++;
	if (strcmp(action, "trigger") == 0) {
		if (d->triggers > 0)
			sink->duplicate_triggers++;
		d->triggers++;
	} else if (strcmp(action, "resolve") == 0) {
		if (d->triggers == 0)
			sink->out_of_order++;
		d->resolves++;
	}
}

/*
 * The answer to one event, decided under the lock: status, or 429 with
 * *ret_retry_s when its key had rate events in the last minute.
 */
static unsigned int decide(struct sink *sink, json_t *event, int *ret_retry_s)
{
	const char *key = NULL, *dedup_key = NULL, *action = NULL;
	struct routing_key *k;
	int64_t now = mono_ms();

	if (json_unpack(event, "{s:s,s:s,s:s}", "routing_key", &key,
			"dedup_key", &dedup_key, "event_action", &action) < 0) {
		sink->malformed++;
		return 400;
	}
	k = key_find(sink, key);
	if (!k) {
		sink->untracked++;
		return 400;
	}
	if (sink->status != 202) {
		k->refused++;
		return sink->status;
	}

	while (k->n > 0 && k->sent_ms[k->head] <= now - SINK_WINDOW_MS) {
		k->head = (k->head + 1) % sink->rate;
		k->n--;
	}
	if (k->n == sink->rate) {
		int64_t wait = k->sent_ms[k->head] + SINK_WINDOW_MS - now;

		k->throttled++;
		*ret_retry_s = (int)((wait + 999) / 1000);
		return 429;
	}
	k->sent_ms[(k->head + k->n) % sink->rate] = now;
	k->n++;
	k->accepted++;
	if (sink->first_ms == 0)
		sink->first_ms = now;
	sink->last_ms = now;
	tally(sink, dedup_key, action);
	return 202;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct sink *sink = cls;
	struct upload *up = *con_cls;
	struct MHD_Response *response;
	unsigned int status;
	int retry_s = -1;
	enum MHD_Result ret;
	const char *text;
	char retry[24];
	json_t *event;

	if (!up) {
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*size > 0) {
		char *longer;

		if (up->len + *size > SINK_BODY_MAX) {
			up->too_long = true;
		} else {
			longer = realloc(up->data, up->len + *size);
			if (!longer)
				return MHD_NO;
			memcpy(longer + up->len, data, *size);
			up->data = longer;
			up->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}

	event = up->too_long ? NULL : json_loadb(up->data, up->len, 0, NULL);
	pthread_mutex_lock(&sink->lock);
	if (event)
		status = decide(sink, event, &retry_s);
	else
		status = 400;
	if (!event)
		sink->malformed++;
	pthread_mutex_unlock(&sink->lock);
	json_decref(event);

	if (status == 202)
		text = "{\"status\":\"success\",\"message\":\"Event "
		       "processed\"}";
	else if (status == 429)
		text = "{\"status\":\"throttle event\",\"message\":\"Requests"
		       " for this service are arriving too quickly.\"}";
	else
		text = "{\"status\":\"error\"}";
	response = MHD_create_response_from_buffer(strlen(text), (void *)text,
						   MHD_RESPMEM_PERSISTENT);
	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (retry_s >= 0) {
		snprintf(retry, sizeof(retry), "%d", retry_s);
		MHD_add_response_header(response, "Retry-After", retry);
	}
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct upload *up = *con_cls;

	if (!up)
		return;
	free(up->data);
	free(up);
	*con_cls = NULL;
}

static void report(struct sink *sink)
{
	size_t accepted = 0, throttled = 0, refused = 0, single = 0;

	for (size_t i = 0; i < sink->n_keys; i++) {
		struct routing_key *k = &sink->keys[i];

		printf("sink_key key=%s accepted=%zu throttled=%zu "
		       "refused=%zu\n",
		       k->key, k->accepted, k->throttled, k->refused);
		accepted += k->accepted;
		throttled += k->throttled;
		refused += k->refused;
	}
	for (size_t i = 0; i < SINK_DEDUP_SLOTS; i++)
		if (sink->dedups[i].key && sink->dedups[i].triggers == 1)
			single++;
	printf("sink keys=%zu accepted=%zu throttled=%zu refused=%zu "
	       "dedup_keys=%zu single_trigger=%zu duplicate_triggers=%zu "
	       "out_of_order=%zu untracked=%zu malformed=%zu "
	       "first_ms=%lld last_ms=%lld\n",
	       sink->n_keys, accepted, throttled, refused, sink->n_dedups,
	       single, sink->duplicate_triggers, sink->out_of_order,
	       sink->untracked, sink->malformed, (long long)sink->first_ms,
	       (long long)sink->last_ms);
}

static void sink_free(struct sink *sink)
{
	for (size_t i = 0; i < sink->n_keys; i++) {
		free(sink->keys[i].key);
		free(sink->keys[i].sent_ms);
	}
	for (size_t i = 0; sink->dedups && i < SINK_DEDUP_SLOTS; i++)
		free(sink->dedups[i].key);
	free(sink->dedups);
	pthread_mutex_destroy(&sink->lock);
}

static int write_url(const char *url_file, unsigned int port)
{
	FILE *f = fopen(url_file, "w");

	if (!f)
		return -errno;
	fprintf(f, "http://127.0.0.1:%u/v2/enqueue\n", port);
	/* A failed write shows here, where the buffer goes out. */
	if (fclose(f) != 0)
		return -errno;
	return 0;
}

int sink_run(const char *url_file, unsigned int rate_per_minute,
	     unsigned int status)
{
	struct sink sink = {.rate = rate_per_minute, .status = status};
	const union MHD_DaemonInfo *info;
	char buf[64];
	int r = 1;

	if (rate_per_minute < 1 || rate_per_minute > SINK_RATE_MAX ||
	    (status != 202 && status != 503)) {
		fprintf(stderr,
			"loadgen: RATE from 1 to %d, STATUS 202 or "
			"503\n",
			SINK_RATE_MAX);
		return 1;
	}
	pthread_mutex_init(&sink.lock, NULL);
	sink.dedups = calloc(SINK_DEDUP_SLOTS, sizeof(*sink.dedups));
	if (!sink.dedups) {
		fprintf(stderr, "loadgen: out of memory\n");
		goto out;
	}

	/* A thread per connection: alertbridge holds at most 16. */
	sink.httpd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
		0, NULL, NULL, on_request, &sink, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, &sink, MHD_OPTION_SOCK_ADDR,
		&(struct sockaddr_in){.sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(0x7f000001)},
		MHD_OPTION_END);
	if (!sink.httpd) {
		fprintf(stderr, "loadgen: cannot start the sink\n");
		goto out;
	}
	info = MHD_get_daemon_info(sink.httpd, MHD_DAEMON_INFO_BIND_PORT);
	r = write_url(url_file, info->port);
	if (r < 0) {
		fprintf(stderr, "loadgen: %s: %s\n", url_file, strerror(-r));
		r = 1;
		goto out;
	}

	/* Until the benchmark closes our standard input. */
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	MHD_stop_daemon(sink.httpd);
	sink.httpd = NULL;
	report(&sink);
	r = 0;
out:
	if (sink.httpd)
		MHD_stop_daemon(sink.httpd);
	sink_free(&sink);
	return r;
}
