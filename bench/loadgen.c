/*
 * loadgen: the load generator of alertbridge's benchmark.
 *
 *   loadgen sink URL_FILE
 *       runs a PagerDuty stand-in answering 202 on a loopback port,
 *       writes its events URL to URL_FILE, and stops when standard
 *       input closes;
 *   loadgen ingest URL CERT_DIR REQUESTS CONNECTIONS ALARMS
 *       writes a signing certificate to CERT_DIR, signs REQUESTS SNS
 *       notifications of CloudWatch alarms (ALARMS distinct alarms,
 *       each MessageId distinct, ALARM and OK in turn), then posts them
 *       to URL over CONNECTIONS keep-alive connections at once and
 *       prints one line of figures;
 *   loadgen alertmanager URL REQUESTS CONNECTIONS
 *       the same for Prometheus Alertmanager: one alert with distinct
 *       labels per POST to URL (its /api/v2/alerts).
 *
 * Signing happens before the clock starts: only the posts are timed.
 * Each request's latency is from the moment its body is handed to
 * libcurl to the moment its answer is complete.
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

#include "fakepd.h"
#include "testkeys.h"

#define TOPIC     "arn:aws:sns:us-east-1:123456789012:ghostline-alerts"
#define CERT_FILE "SimpleNotificationService-bench.pem"
#define CERT_URL  "https://sns.us-east-1.amazonaws.com/" CERT_FILE

#define MAX_CONNECTIONS 1024

/* The test certificate is valid from a day before the run to a day after. */
#define DAY_MS 86400000

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso8601(int64_t ms, char buf[40])
{
	time_t s = (time_t)(ms / 1000);
	char seconds[24];
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(seconds, sizeof(seconds), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 40, "%s.%03d+0000", seconds, (int)(ms % 1000));
}

/*
 * A CloudWatch alarm's Message as SNS carries it, shaped like the
 * single-metric alarms in tests/fixtures/cloudwatch/.
 */
static char *alarm_message(int alarm, bool firing, int64_t when_ms)
{
	char name[64], arn[160], reason[256], when[40];
	json_t *msg, *trigger, *dims;
	char *text;

	snprintf(name, sizeof(name), "prod-api-latency-%03d", alarm);
	snprintf(arn, sizeof(arn),
		 "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s", name);
	snprintf(reason, sizeof(reason),
		 "Threshold Crossed: 1 out of the last 1 datapoints "
		 "[%s (04/12/26 03:00:00)] was %s the threshold (250.0) "
		 "(minimum 1 datapoint for %s transition).",
		 firing ? "812.5" : "120.0",
		 firing ? "greater than" : "not greater than",
		 firing ? "OK -> ALARM" : "ALARM -> OK");
	iso8601(when_ms, when);

	dims = json_pack("[{s:s,s:s},{s:s,s:s}]", "value", "api-prod", "name",
			 "LoadBalancer", "value", "targets-a", "name",
			 "TargetGroup");
	trigger = json_pack("{s:s,s:s,s:s,s:s,s:n,s:o,s:i,s:i,s:s,s:f,s:s,s:s}",
			    "MetricName", "TargetResponseTime", "Namespace",
			    "AWS/ApplicationELB", "StatisticType", "Statistic",
			    "Statistic", "AVERAGE", "Unit", "Dimensions", dims,
			    "Period", 60, "EvaluationPeriods", 1,
			    "ComparisonOperator", "GreaterThanThreshold",
			    "Threshold", 250.0, "TreatMissingData", "missing",
			    "EvaluateLowSampleCountPercentile", "");
	msg = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "AlarmName",
		name, "AlarmDescription",
		"p99 latency of the public API above 250 ms", "AWSAccountId",
		"123456789012", "NewStateValue", firing ? "ALARM" : "OK",
		"NewStateReason", reason, "StateChangeTime", when, "Region",
		"US East (N. Virginia)", "AlarmArn", arn, "OldStateValue",
		firing ? "OK" : "ALARM", "AlarmConfigurationUpdatedTimestamp",
		"2026-11-30T10:00:00.000+0000", "Trigger", trigger);
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	return text;
}

/* Destroys what sign_bodies() or alert_bodies() made; takes NULL. */
static void free_bodies(char **bodies, int n)
{
	for (int i = 0; bodies && i < n; i++)
		free(bodies[i]);
	free(bodies);
}

/*
 * Signs n notifications into *ret_bodies (free_bodies() them). 0, or
 * -ENOMEM when a body cannot be made: the test helpers give no cause,
 * and allocation is the one they can meet here.
 */
static int sign_bodies(const struct testkey *key, int n, int alarms,
		       char ***ret_bodies)
{
	int64_t start = wall_ms();
	char **bodies;
	int r = 0;

	bodies = calloc((size_t)n, sizeof(*bodies));
	if (!bodies)
		return -ENOMEM;

	for (int i = 0; i < n; i++) {
		char id[64], *message;
		bool firing = (i / alarms) % 2 == 0;
		json_t *envelope;

		snprintf(id, sizeof(id), "bench-%08x-%04x-4000-8000-%012d",
			 (unsigned)start, (unsigned)(getpid() & 0xffff), i);
		/* Later state changes of one alarm carry later times. */
		message = alarm_message(i % alarms, firing, start + i);
		envelope = testkey_notification(id, TOPIC, "ALARM: bench",
						message, start);
		free(message);
		bodies[i] = testkey_sign_envelope(key, envelope, 2, CERT_URL);
		json_decref(envelope);
		if (!bodies[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_bodies = bodies;
	bodies = NULL;
out:
	free_bodies(bodies, n);
	return r;
}

/*
 * One firing alert with distinct labels per body, as an Alertmanager
 * client would send, into *ret_bodies (free_bodies() them). 0, or
 * -ENOMEM.
 */
static int alert_bodies(int n, char ***ret_bodies)
{
	char **bodies;
	int r = 0;

	bodies = calloc((size_t)n, sizeof(*bodies));
	if (!bodies)
		return -ENOMEM;

	for (int i = 0; i < n; i++) {
		char alarm[16];
		json_t *alert;

		/* Alertmanager answers 400 to a label that is not a string. */
		snprintf(alarm, sizeof(alarm), "%d", i);
		alert = json_pack("[{s:{s:s,s:s,s:s,s:s},s:{s:s},s:s}]",
				  "labels", "alertname", "TargetResponseTime",
				  "severity", "critical", "environment",
				  "production", "alarm", alarm, "annotations",
				  "summary",
				  "p99 latency of the public API above 250 ms",
				  "generatorURL", "http://127.0.0.1/bench");

		/* json_dumps() takes NULL and returns NULL. */
		bodies[i] = json_dumps(alert, JSON_COMPACT);
		json_decref(alert);
		if (!bodies[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_bodies = bodies;
	bodies = NULL;
out:
	free_bodies(bodies, n);
	return r;
}

struct slot {
	CURL *easy;
	int index;
	int64_t started_ns;
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

/* The posting half: answers other than expect_status count as failed. */
struct post_run {
	const char *url;
	char **bodies;
	int n;
	int connections;
	struct curl_slist *headers;
	long expect_status;
};

/* Hands body index to slot's handle: 0, or -ENOMEM from libcurl. */
static int slot_send(struct slot *slot, CURLM *multi,
		     const struct post_run *run, int index)
{
	curl_easy_setopt(slot->easy, CURLOPT_URL, run->url);
	curl_easy_setopt(slot->easy, CURLOPT_POSTFIELDS, run->bodies[index]);
	curl_easy_setopt(slot->easy, CURLOPT_HTTPHEADER, run->headers);
	curl_easy_setopt(slot->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(slot->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(slot->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot);
	slot->index = index;
	slot->started_ns = mono_ns();
	if (curl_multi_add_handle(multi, slot->easy) != CURLM_OK)
		return -ENOMEM;
	return 0;
}

/*
 * Posts every body over run->connections handles, then prints one line
 * of figures. 0 with the count of failed requests in *ret_failed, or
 * -ENOMEM when libcurl cannot be set up or stops (nothing printed).
 */
static int post_all(const struct post_run *run, int *ret_failed)
{
	struct slot slots[MAX_CONNECTIONS];
	int64_t *latency, start_ns, elapsed_ns;
	int next = 0, done = 0, ok = 0, failed = 0, running = 0;
	int handles = 0, r = 0;
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
	}

	start_ns = mono_ns();
	for (int i = 0; i < handles; i++) {
		r = slot_send(&slots[i], multi, run, next++);
		if (r < 0)
			goto out;
	}

	while (done < run->n) {
		struct CURLMsg *msg;
		int queued;

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
			latency[done++] = mono_ns() - slot->started_ns;
			if (msg->data.result == CURLE_OK &&
			    status == run->expect_status)
				ok++;
			else
				failed++;
			curl_multi_remove_handle(multi, slot->easy);
			if (next < run->n) {
				r = slot_send(slot, multi, run, next++);
				if (r < 0)
					goto out;
			}
		}
		if (done < run->n &&
		    curl_multi_poll(multi, NULL, 0, 100, NULL) != CURLM_OK) {
			r = -ENOMEM;
			goto out;
		}
	}
	elapsed_ns = mono_ns() - start_ns;

	qsort(latency, (size_t)run->n, sizeof(*latency), compare_ns);
	printf("requests=%d ok=%d failed=%d seconds=%.3f rps=%.0f "
	       "p50_ms=%.2f p99_ms=%.2f body_bytes=%zu\n",
	       run->n, ok, failed, elapsed_ns / 1e9,
	       run->n / (elapsed_ns / 1e9), latency[run->n / 2] / 1e6,
	       latency[(size_t)run->n * 99 / 100] / 1e6,
	       bytes / (size_t)run->n);
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

/* The commands return loadgen's exit status: 0, or 1 on any failure. */
static int run_ingest(const char *url, const char *cert_dir, int n,
		      int connections, int alarms)
{
	struct post_run run = {
		.url = url,
		.n = n,
		.connections = connections,
		.expect_status = 200,
	};
	static const char *const headers[] = {
		"Content-Type: text/plain; charset=UTF-8",
		"x-amz-sns-message-type: Notification",
		"Expect:",
		NULL,
	};
	struct testkey *key = NULL;
	int64_t now = wall_ms();
	int r;

	if (!figures_ok(n, connections) || alarms < 1)
		return 1;
	if (testkey_generate(now - DAY_MS, now + DAY_MS, &key) < 0) {
		fprintf(stderr, "loadgen: cannot make the certificate\n");
		return 1;
	}
	r = testkey_write_cert(key, cert_dir, CERT_FILE);
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot write the certificate to %s\n",
			cert_dir);
		goto out;
	}
	r = sign_bodies(key, n, alarms, &run.bodies);
	if (r < 0) {
		fprintf(stderr, "loadgen: cannot sign the messages\n");
		goto out;
	}

	run.headers = header_list(headers);
	r = post_and_report(&run);
out:
	testkey_free(key);
	curl_slist_free_all(run.headers);
	free_bodies(run.bodies, n);
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
	if (alert_bodies(n, &run.bodies) < 0) {
		fprintf(stderr, "loadgen: cannot make the alerts\n");
		return 1;
	}

	run.headers = header_list(headers);
	r = post_and_report(&run);
	curl_slist_free_all(run.headers);
	free_bodies(run.bodies, n);
	return r < 0 ? 1 : 0;
}

static int run_sink(const char *url_file)
{
	struct fakepd *pd;
	char buf[64];
	FILE *f;
	int r = 1;

	if (fakepd_start(&pd) < 0) {
		fprintf(stderr, "loadgen: cannot start the sink\n");
		return 1;
	}
	f = fopen(url_file, "w");
	if (!f) {
		fprintf(stderr, "loadgen: %s: %s\n", url_file, strerror(errno));
		goto out;
	}
	fprintf(f, "%s\n", fakepd_url(pd));
	/* A failed write shows here, where the buffer goes out. */
	if (fclose(f) != 0) {
		fprintf(stderr, "loadgen: %s: %s\n", url_file, strerror(errno));
		goto out;
	}

	/* Until the benchmark closes our standard input. */
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	printf("sink: %zu events received\n", fakepd_count(pd));
	r = 0;
out:
	fakepd_stop(pd);
	return r;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "sink") == 0)
		return run_sink(argv[2]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc == 7 && strcmp(argv[1], "ingest") == 0)
		return run_ingest(argv[2], argv[3], atoi(argv[4]),
				  atoi(argv[5]), atoi(argv[6]));
	if (argc == 5 && strcmp(argv[1], "alertmanager") == 0)
		return run_alertmanager(argv[2], atoi(argv[3]), atoi(argv[4]));

	fprintf(stderr,
		"usage: loadgen sink URL_FILE\n"
		"       loadgen ingest URL CERT_DIR REQUESTS CONNECTIONS "
		"ALARMS\n"
		"       loadgen alertmanager URL REQUESTS CONNECTIONS\n");
	return 2;
}
