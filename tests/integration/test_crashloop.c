/*
 * kill -9 under sustained ingest, five times in a row: client threads
 * post signed notifications without pause, as SNS does in an alarm
 * storm, and post again whatever was not answered 200 (a 5xx, a broken
 * or refused connection), as SNS does. Every message answered 200 must
 * reach PagerDuty at least once, and no event may overtake an earlier
 * one of its dedup_key.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "scenario.h"
#include "timeutil.h"

#define CLIENTS           4
#define ALARMS_PER_CLIENT 2
#define ALARMS            (CLIENTS * ALARMS_PER_CLIENT)
#define KILLS             5
/* Accepted messages between two kills, so each kill hits a busy daemon. */
#define ACCEPTED_PER_ROUND  24
#define MESSAGES_MAX        2000
#define ROUND_TIMEOUT_MS    20000
#define DELIVERY_TIMEOUT_MS 30000
/* A client gives up on one message after this long: the test fails. */
#define MESSAGE_TIMEOUT_MS 20000

/* One message a client had answered 200. */
struct accepted {
	int alarm;
	int64_t changed_ms; /* its StateChangeTime: the event's timestamp */
	bool ok;            /* OK (a resolve) rather than ALARM (a trigger) */
};

struct client {
	struct scenario *s;
	int index;
	pthread_t thread;
	struct accepted accepted[MESSAGES_MAX];
	atomic_int n_accepted;
	atomic_int failures; /* answers other than 200, and broken posts */
	bool gave_up;
};

/* Static: a failed assertion leaves the test without freeing them. */
static struct client clients[CLIENTS];
static atomic_int daemon_port;
static atomic_bool clients_stop;

static void alarm_name(int alarm, char out[32])
{
	snprintf(out, 32, "crash-%02d", alarm);
}

static size_t discard(char *data, size_t size, size_t n, void *userdata)
{
	return size * n;
}

/* POSTs body to /sns on the daemon's current port; the status or -1. */
static long post_sns(const char *body)
{
	struct curl_slist *headers = NULL;
	char url[64];
	long status = -1;
	CURL *curl = curl_easy_init();

	if (!curl)
		return -1;
	headers = curl_slist_append(NULL, "Content-Type: text/plain;"
					  " charset=UTF-8");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/sns",
		 atomic_load(&daemon_port));
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	return status;
}

/* Posts one message until it is answered 200, as SNS retries. */
static bool deliver_like_sns(struct client *c, const char *body)
{
	int64_t deadline = harness_mono_ms() + MESSAGE_TIMEOUT_MS;

	while (harness_mono_ms() < deadline) {
		if (post_sns(body) == 200)
			return true;
		atomic_fetch_add(&c->failures, 1);
		harness_pause_ms(5);
	}
	return false;
}

/*
 * Each client owns its alarms and sends them ALARM, OK, ALARM, ... with
 * a StateChangeTime one second later each time, so that every message
 * makes exactly one event and the events of one alarm have an order.
 */
static void *client_main(void *arg)
{
	struct client *c = arg;

	for (int seq = 0; seq < MESSAGES_MAX && !atomic_load(&clients_stop);
	     seq++) {
		int alarm =
			c->index * ALARMS_PER_CLIENT + seq % ALARMS_PER_CLIENT;
		bool ok = (seq / ALARMS_PER_CLIENT) % 2 == 1;
		int64_t offset = (int64_t)(seq + 1) * 1000;
		char name[32];
		char id[64];
		char *message;
		char *body;
		bool done;

		alarm_name(alarm, name);
		snprintf(id, sizeof(id), "crash-%d-%d-%d", c->index, seq,
			 (int)getpid());
		message = scenario_alarm(name, ok ? "OK" : "ALARM", offset);
		body = message ? scenario_sign(c->s, id, message) : NULL;
		free(message);
		if (!body) {
			c->gave_up = true;
			break;
		}

		done = deliver_like_sns(c, body);
		free(body);
		if (!done) {
			c->gave_up = true;
			break;
		}
		c->accepted[seq] = (struct accepted){
			.alarm = alarm,
			.changed_ms = c->s->as_of_ms + offset,
			.ok = ok,
		};
		atomic_store(&c->n_accepted, seq + 1);
	}
	return NULL;
}

static int total_accepted(void)
{
	int n = 0;

	for (int i = 0; i < CLIENTS; i++)
		n += atomic_load(&clients[i].n_accepted);
	return n;
}

static bool wait_accepted(int n, int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	while (total_accepted() < n) {
		if (harness_mono_ms() > deadline)
			return false;
		harness_pause_ms(5);
	}
	return true;
}

/* One request the fake PagerDuty received, reduced to what is checked. */
struct seen {
	int alarm; /* -1: not one of ours */
	int64_t changed_ms;
	bool resolve;
	bool accepted;
};

static void read_request(struct scenario *s, size_t i, struct seen *out)
{
	json_t *event = fakepd_request(s->pd, i);
	const char *key =
		json_string_value(json_object_get(event, "dedup_key"));
	const char *action =
		json_string_value(json_object_get(event, "event_action"));
	const char *stamp = json_string_value(json_object_get(
		json_object_get(event, "payload"), "timestamp"));
	const char *name = key ? strrchr(key, ':') : NULL;

	*out = (struct seen){.alarm = -1};
	if (name && strncmp(name, ":crash-", 7) == 0 && action && stamp &&
	    timeutil_parse(stamp, &out->changed_ms) == 0) {
		out->alarm = atoi(name + 7);
		out->resolve = strcmp(action, "resolve") == 0;
		out->accepted = fakepd_status(s->pd, i) == 202;
	}
	json_decref(event);
}

/*
 * Where each accepted message was first accepted by PagerDuty, as an
 * index into its requests (-1: not yet). True when all of them were.
 */
static bool find_deliveries(const struct seen *seen, size_t n_seen, int *first)
{
	bool all = true;
	int k = 0;

	for (int c = 0; c < CLIENTS; c++) {
		for (int m = 0; m < clients[c].n_accepted; m++, k++) {
			const struct accepted *a = &clients[c].accepted[m];

			first[k] = -1;
			for (size_t i = 0; i < n_seen && first[k] < 0; i++)
				if (seen[i].accepted &&
				    seen[i].alarm == a->alarm &&
				    seen[i].changed_ms == a->changed_ms)
					first[k] = (int)i;
			all &= first[k] >= 0;
		}
	}
	return all;
}

static void test_kill_under_sustained_ingest(void **state)
{
	struct scenario *s = *state;
	struct seen *seen = NULL;
	int *first = NULL;
	int64_t deadline;
	size_t n_seen = 0;
	int failures = 0;
	int n_messages;

	/* A PagerDuty a little slow to answer keeps deliveries in flight
	 * at every kill. */
	fakepd_script(s->pd, (struct fakepd_answer){202, -1, 20}, 1000);

	atomic_store(&daemon_port, s->h.port);
	atomic_store(&clients_stop, false);
	for (int i = 0; i < CLIENTS; i++) {
		clients[i].s = s;
		clients[i].index = i;
		assert_int_equal(pthread_create(&clients[i].thread, NULL,
						client_main, &clients[i]),
				 0);
	}

	for (int round = 1; round <= KILLS; round++) {
		assert_true(wait_accepted(round * ACCEPTED_PER_ROUND,
					  ROUND_TIMEOUT_MS));
		harness_kill(&s->h);
		assert_int_equal(harness_start(&s->h), 0);
		atomic_store(&daemon_port, s->h.port);
	}
	assert_true(wait_accepted((KILLS + 1) * ACCEPTED_PER_ROUND,
				  ROUND_TIMEOUT_MS));

	atomic_store(&clients_stop, true);
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(clients[i].thread, NULL);
		assert_false(clients[i].gave_up);
		failures += atomic_load(&clients[i].failures);
	}

	/* Each kill broke or refused posts that had to be sent again. */
	assert_true(failures >= KILLS);

	n_messages = total_accepted();
	first = calloc((size_t)n_messages, sizeof(*first));
	assert_non_null(first);

	/* Every message answered 200 reaches PagerDuty. */
	deadline = harness_mono_ms() + DELIVERY_TIMEOUT_MS;
	for (;;) {
		n_seen = fakepd_count(s->pd);
		free(seen);
		seen = calloc(n_seen + 1, sizeof(*seen));
		assert_non_null(seen);
		for (size_t i = 0; i < n_seen; i++)
			read_request(s, i, &seen[i]);
		if (find_deliveries(seen, n_seen, first))
			break;
		assert_true(harness_mono_ms() < deadline);
		fakepd_wait(s->pd, n_seen + 1, 100);
	}

	/*
	 * Nothing overtakes: no request for an alarm goes out before every
	 * earlier message of that alarm was accepted by PagerDuty; each
	 * request is one of the accepted messages, with its action.
	 */
	for (size_t i = 0; i < n_seen; i++) {
		bool known = false;
		int k = 0;

		assert_true(seen[i].alarm >= 0 && seen[i].alarm < ALARMS);
		for (int c = 0; c < CLIENTS; c++) {
			for (int m = 0; m < clients[c].n_accepted; m++, k++) {
				const struct accepted *a =
					&clients[c].accepted[m];

				if (a->alarm != seen[i].alarm)
					continue;
				if (a->changed_ms < seen[i].changed_ms)
					assert_true(first[k] < (int)i);
				if (a->changed_ms == seen[i].changed_ms) {
					assert_int_equal(a->ok,
							 seen[i].resolve);
					known = true;
				}
			}
		}
		assert_true(known);
	}

	free(first);
	free(seen);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_kill_under_sustained_ingest, scenario_setup,
			scenario_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
