/*
 * loadgen: the load generator of alertbridge's benchmark.
 *
 *   loadgen sink URL_FILE [RATE_PER_MINUTE [STATUS]]
 *       runs a PagerDuty stand-in on a loopback port (sink.h): at most
 *       RATE_PER_MINUTE events per routing key in any minute (100000
 *       unless given), 429 with Retry-After beyond, STATUS (202, or 503
 *       to hold every event back) within; writes its events URL to
 *       URL_FILE, and stops and prints its tallies when standard input
 *       closes;
 *   loadgen ingest URL CERT_DIR REQUESTS CONNECTIONS ALARMS [RATE]
 *       writes a signing certificate to CERT_DIR, signs REQUESTS SNS
 *       notifications of CloudWatch alarms (ALARMS distinct alarms,
 *       each MessageId distinct, ALARM and OK in turn), then posts them
 *       to URL over CONNECTIONS keep-alive connections and prints one
 *       line of figures. Without RATE (or 0) each connection sends its
 *       next request as soon as its answer is in; with RATE, request i
 *       is due i / RATE seconds after the start whatever the answers
 *       (an open loop), and waits for a free connection if none is;
 *   loadgen storm URL CERT_DIR ALARMS CONNECTIONS KEYS SECONDS
 *       the same with ALARMS distinct alarms, all firing, named
 *       storm-K-NNNNN for K from 0 to KEYS - 1 in turn, spread evenly
 *       over SECONDS (an open loop);
 *   loadgen alertmanager URL REQUESTS CONNECTIONS
 *       the same for Prometheus Alertmanager: one alert with distinct
 *       labels per POST to URL (its /api/v2/alerts), closed loop.
 *
 * Signing happens before the clock starts: only the posts are timed.
 * Each request's latency runs from the moment it is due (closed loop:
 * when its body is handed to libcurl) to the moment its answer is
 * complete, so that in an open loop the time a request waits for a
 * connection counts too.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "bodies.h"
#include "sink.h"
#include "testkeys.h"

#define MAX_CONNECTIONS 1024

/* The sink's limit when none is asked for: none in practice. */
#define SINK_DEFAULT_RATE 100000

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct slot {
	CURL *easy;
	int index;
	int64_t due_ns;
};

static size_t discard(char *data, size_t size, size_t n, void *user)
{
	return size * n;
}

static int compare_ns(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The posting half: answers other than expect_status count as failed.
 * rate: requests per second in an open loop; 0 for a closed loop.
 */
struct post_run {
	const char *url;
	char **bodies;
	int n;
	int connections;
	double rate;
	struct curl_slist *headers;
	long expect_status;
};

/* Hands body index to slot's handle: 0, or -ENOMEM from libcurl. */
static int slot_send(struct slot *slot, CURLM *multi,
		     const struct post_run *run, int index, int64_t due_ns)
{
	curl_easy_setopt(slot->easy, CURLOPT_URL, run->url);
	curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, run->bodies[index]);
	curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, run->headers);
	curl_easy_setopt(slot->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(slot->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(slot->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
	slot->index = index;
	slot->due_ns = due_ns;
	if (curl_multi_add_handle(multi, slot->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

/* When request i is due: now in a closed loop, i / rate in an open one. */
static int64_t due_at(const struct post_run *run, int64_t start_ns, int i)
{
	if (run->rate <= 0)
		return mono_ns();
	return start_ns + (int64_t)(i * (1e9 / run->rate));
}

/*
 * Posts every body over run->connections handles, then prints one line
 * of figures. 0 with the count of failed requests in *ret_failed, or
 * -ENOMEM when libcurl cannot be set up or stops (nothing printed).
 */
static int post_all(const struct post_run *run, int *ret_failed)
{
	struct slot slots[MAX_CONNECTIONS], *idle[MAX_CONNECTIONS];
	int64_t *latency, start_ns, elapsed_ns;
	int next = 0, done = 0, ok = 0, failed = 0, running = 0;
	int handles = 0, n_idle = 0, r = 0;
	size_t bytes = 0;
	CURLM *multi = NULL;

	latency = calloc((size_t)run->n, sizeof(*latency));
	if (!latency)
		return -ENOMEM;
	for (int i = 0; i < run->n; i++)
		bytes += strlen(run->bodies[i]);

	multi = curl_multi_init();
	if (!multi) {
		r = -ENOMEM;
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)run->connections);
	for (; handles < run->connections && handles < run->n; handles++) {
		slots[handles].easy = curl_easy_init();
		if (!slots[handles].easy) {
			r = -ENOMEM;
			goto out;
		}
		idle[n_idle++] = &slots[handles];
	}

	start_ns = mono_ns();
	while (done < run->n) {
		struct CURLMsg *msg;
		int64_t wait_ms = 100;
		int queued;

		/* Every request that is due, while a connection is free. */
		while (next < run->n && n_idle > 0) {
			int64_t due = due_at(run, start_ns, next);
			int64_t now = mono_ns();

			if (due > now) {
				if ((due - now) / 1000000 < wait_ms)
					wait_ms = (due - now) / 1000000;
				break;
			}
			r = slot_send(idle[--n_idle], multi, run, next++, due);
			if (r < 0)
				goto out;
		}

		/* A multi handle that fails would leave the loop spinning. */
		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			r = -ENOMEM;
			goto out;
		}
		for (msg = curl_multi_info_read(multi, &queued); msg;
		     msg = curl_multi_info_read(multi, &queued)) {
			struct slot *slot;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&slot);
			curl_easy_getinfo(msg->easy_handle,
					  CURLINFO_RESPONSE_CODE, &status);
			latency[done++] = mono_ns() - slot->due_ns;
			if (msg->data.result == CURLE_OK &&
			    status == run->expect_status)
				ok++;
			else
				failed++;
			curl_multi_remove_handle(multi, slot->easy);
			idle[n_idle++] = slot;
			wait_ms = 0;
		}
		if (done < run->n &&
		    curl_multi_poll(multi, NULL, 0, (int)wait_ms, NULL) !=
			    CURLM_OK) {
			r = -ENOMEM;
			goto out;
		}
	}
	elapsed_ns = mono_ns() - start_ns;

	qsort(latency, (size_t)run->n, sizeof(*latency), compare_ns);
	printf("requests=%d ok=%d failed=%d seconds=%.3f rps=%.0f "
	       "p50_ms=%.2f p99_ms=%.2f body_bytes=%zu start_ms=%lld\n",
	       run->n, ok, failed, elapsed_ns / 1e9,
	       run->n / (elapsed_ns / 1e9), latency[run->n / 2] / 1e6,
	       latency[(size_t)run->n * 99 / 100] / 1e6, bytes / (size_t)run->n,
	       (long long)(start_ns / 1000000));
	*ret_failed = failed;
out:
	/*
	 * A failure mid-run leaves handles added: each leaves the multi
	 * handle first (removing one that is not added does nothing).
	 */
	for (int i = 0; i < handles; i++) {
		if (multi)
			curl_multi_remove_handle(multi, slots[i].easy);
		curl_easy_cleanup(slots[i].easy);
	}
	curl_multi_cleanup(multi);
	free(latency);
	return r;
}

static bool figures_ok(int n, int connections)
{
	if (connections >= 1 && connections <= MAX_CONNECTIONS && n >= 1)
		return true;
	fprintf(stderr,
		"loadgen: REQUESTS and CONNECTIONS must be from 1 "
		"(CONNECTIONS at most %d)\n",
		MAX_CONNECTIONS);
	return false;
}

/*
 * Posts run's bodies and prints the figures: 0, -ENOMEM when libcurl
 * cannot be set up, or -EIO when any request failed.
 */
static int post_and_report(const struct post_run *run)
{
	int failed = 0;

	if (!run->headers) {
		fprintf(stderr, "loadgen: out of memory\n");
		return -ENOMEM;
	}
	if (post_all(run, &failed) < 0) {
		fprintf(stderr, "loadgen: libcurl failed\n");
		return -ENOMEM;
	}
	return failed == 0 ? 0 : -EIO;
}

/*
 * Builds a header list; NULL when any append fails (curl_slist_append()
 * leaves the list it was given alone then, so it is freed here).
 */
static struct curl_slist *header_list(const char *const *headers)
{
	struct curl_slist *list = NULL;

	for (int i = 0; headers[i]; i++) {
		struct curl_slist *longer = curl_slist_append(list, headers[i]);

		if (!longer) {
			curl_slist_free_all(list);
			return NULL;
		}
		list = longer;
	}
	return list;
}

/*
 * SNS notifications (bodies_sign() with alarms and storm_keys) posted
 * at rate. The commands return loadgen's exit status: 0, or 1 on any
 * failure.
 */
static int run_sns(const char *url, const char *cert_dir, int n,
		   int connections, int alarms, int storm_keys, double rate)
{
	struct post_run run = {
		.url = url,
		.n = n,
		.connections = connections,
		.rate = rate,
		.expect_status = 200,
	};
	static const char *const headers[] = {
		"Content-Type: text/plain; charset=UTF-8",
		"x-amz-sns-message-type: Notification",
		"Expect:",
		NULL,
	};
	struct testkey *key = NULL;
	char cert_file[64];
	int64_t now = bodies_wall_ms();
	int r;

	if (!figures_ok(n, connections) || alarms < 1 || rate < 0)
		return 1;
	bodies_cert_file(cert_file);
	if (testkey_generate(now - BODIES_DAY_MS, now + BODIES_DAY_MS, &key) <
	    0) {
		fprintf(stderr, "loadgen: cannot make the certificate\n");
		return 1;
	}
	r = testkey_write_cert(key, cert_dir, cert_file);
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot write the certificate to %s\n",
			cert_dir);
		goto out;
	}
	r = bodies_sign(key, cert_file, n, alarms, storm_keys, &run.bodies);
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot sign the messages\n");
		goto out;
	}

	run.headers = header_list(headers);
	r = post_and_report(&run);
out:
	testkey_free(key);
	curl_slist_free_all(run.headers);
	bodies_free(run.bodies, n);
	return r < 0 ? 1 : 0;
}

/* One firing alert per POST, as an Alertmanager client would send. */
static int run_alertmanager(const char *url, int n, int connections)
{
	struct post_run run = {
		.url = url,
		.n = n,
		.connections = connections,
		.expect_status = 200,
	};
	static const char *const headers[] = {
		"Content-Type: application/json",
		"Expect:",
		NULL,
	};
	int r;

	if (!figures_ok(n, connections))
		return 1;
	if (bodies_alertmanager(n, &run.bodies) < 0) {
		fprintf(stderr, "loadgen: cannot make the alerts\n");
		return 1;
	}

	run.headers = header_list(headers);
	r = post_and_report(&run);
	curl_slist_free_all(run.headers);
	bodies_free(run.bodies, n);
	return r < 0 ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: loadgen sink URL_FILE [RATE_PER_MINUTE [STATUS]]\n"
		"       loadgen ingest URL CERT_DIR REQUESTS CONNECTIONS "
		"ALARMS [RATE]\n"
		"       loadgen storm URL CERT_DIR ALARMS CONNECTIONS KEYS "
		"SECONDS\n"
		"       loadgen alertmanager URL REQUESTS CONNECTIONS\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && argc <= 5 && strcmp(argv[1], "sink") == 0)
		return sink_run(argv[2],
				argc > 3 ? (unsigned)atoi(argv[3])
					 : SINK_DEFAULT_RATE,
				argc > 4 ? (unsigned)atoi(argv[4]) : 202);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "ingest") == 0)
		return run_sns(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]),
			       atoi(argv[6]), 0, argc == 8 ? atof(argv[7]) : 0);
	if (argc == 8 && strcmp(argv[1], "storm") == 0) {
		int alarms = atoi(argv[4]), keys = atoi(argv[6]);
		double seconds = atof(argv[7]);

		if (keys < 1 || seconds <= 0)
			return usage();
		return run_sns(argv[2], argv[3], alarms, atoi(argv[5]),
			       alarms > 0 ? alarms : 1, keys, alarms / seconds);
	}
	if (argc == 5 && strcmp(argv[1], "alertmanager") == 0)
		return run_alertmanager(argv[2], atoi(argv[3]), atoi(argv[4]));
	return usage();
}
