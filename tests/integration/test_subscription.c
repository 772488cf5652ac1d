/*
 * Subscriptions and certificate fetching end to end: the real daemon
 * fetches signing certificates and confirms subscriptions over HTTPS
 * from a test server that stands in for sns.us-east-1.amazonaws.com,
 * reached through the testing settings cert_ca_file and
 * cert_connect_to while every URL stays as SNS writes it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fakepd.h"
#include "harness.h"
#include "testkeys.h"
#include "tlsserver.h"

#define SNS_HOST   "sns.us-east-1.amazonaws.com"
#define EVIL_HOST  "evil.example"
#define TOPIC_TEST "arn:aws:sns:us-east-1:123456789012:alertbridge-test"
#define CERT_NAME                                                              \
	"SimpleNotificationService-5f3e0c1a9b8d7e6f5a4b3c2d1e0f9a8b.pem"
#define CERT_PATH "/" CERT_NAME
#define CERT_URL  "https://" SNS_HOST CERT_PATH
#define OTHER_NAME                                                             \
	"SimpleNotificationService-0000000000000000000000000000beef.pem"
#define OTHER_PATH "/" OTHER_NAME
#define CONFIRM_QUERY(token)                                                   \
	"Action=ConfirmSubscription&TopicArn=" TOPIC_TEST "&Token=" token
#define CONFIRM_URL(host, token) "https://" host "/?" CONFIRM_QUERY(token)
#define CONFIRM_OK                                                             \
	"<ConfirmSubscriptionResponse><ConfirmSubscriptionResult>"             \
	"<SubscriptionArn>" TOPIC_TEST ":1</SubscriptionArn>"                  \
	"</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>"

/* Made once: RSA key generation is the slow part of a setup. */
struct keys {
	struct testkey *ca;
	struct testkey *server; /* for SNS_HOST and EVIL_HOST */
	char *server_key_pem;
	struct testkey *signer; /* signs the SNS messages */
};

struct world {
	struct keys *keys;
	struct harness h;
	struct fakepd *pd;
	struct tlsserver *sns;
	char ca_file[192];
	char connect_to[64];
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends count answers to the stand-in's script for path. */
static void script(struct world *w, const char *path, unsigned int status,
		   const char *body, const char *location, unsigned int count)
{
	struct tlsserver_answer answer = {status, body, location};

	assert_int_equal(tlsserver_script(w->sns, path, answer, count), 0);
}

static int group_setup(void **state)
{
	static const char *const names[] = {SNS_HOST, EVIL_HOST, NULL};
	struct keys *k = calloc(1, sizeof(*k));
	int64_t now = wall_ms();

	assert_non_null(k);
	assert_int_equal(testkey_generate_ca("alertbridge test CA", &k->ca), 0);
	assert_int_equal(testkey_generate_server(k->ca, names, &k->server), 0);
	k->server_key_pem = testkey_key_pem(k->server);
	assert_non_null(k->server_key_pem);
	assert_int_equal(testkey_generate(now - 86400000LL, now + 86400000LL,
					  &k->signer),
			 0);
	*state = k;
	return 0;
}

static int group_teardown(void **state)
{
	struct keys *k = *state;

	testkey_free(k->ca);
	testkey_free(k->server);
	free(k->server_key_pem);
	testkey_free(k->signer);
	free(k);
	return 0;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->keys = *state;
	assert_int_equal(harness_init(&w->h), 0);
	assert_int_equal(fakepd_start(&w->pd), 0);
	assert_int_equal(tlsserver_start(w->keys->server_key_pem,
					 w->keys->server->cert_pem, &w->sns),
			 0);

	assert_int_equal(testkey_write_cert(w->keys->ca, w->h.dir, "ca.pem"),
			 0);
	snprintf(w->ca_file, sizeof(w->ca_file), "%s/ca.pem", w->h.dir);

	/*
	 * Every host, not only SNS_HOST, is sent to the test server (an
	 * empty HOST and PORT match all), and its certificate names
	 * EVIL_HOST too: a request the daemon must never make would reach
	 * it and be recorded.
	 */
	snprintf(w->connect_to, sizeof(w->connect_to), "::127.0.0.1:%d",
		 tlsserver_port(w->sns));

	script(w, CERT_PATH, 200, w->keys->signer->cert_pem, NULL, 1);
	assert_int_equal(harness_write_fetch_config(&w->h, fakepd_url(w->pd),
						    w->ca_file, w->connect_to,
						    ""),
			 0);
	assert_int_equal(harness_start(&w->h), 0);

	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	*state = w->keys;
	harness_stop(&w->h);
	harness_cleanup(&w->h);
	tlsserver_stop(w->sns);
	fakepd_stop(w->pd);
	free(w);
	return 0;
}

static char *signed_confirmation(struct world *w, const char *message_id,
				 const char *token, const char *subscribe_url)
{
	json_t *env = testkey_confirmation("SubscriptionConfirmation",
					   message_id, TOPIC_TEST, token,
					   subscribe_url, wall_ms());
	char *body;

	assert_non_null(env);
	body = testkey_sign_envelope(w->keys->signer, env, 2, CERT_URL);
	json_decref(env);
	assert_non_null(body);
	return body;
}

static char *signed_notification(struct world *w, const char *message_id)
{
	json_t *env =
		testkey_notification(message_id, TOPIC_TEST, NULL,
				     "Disk almost full on db-1", wall_ms());
	char *body;

	assert_non_null(env);
	body = testkey_sign_envelope(w->keys->signer, env, 2, CERT_URL);
	json_decref(env);
	assert_non_null(body);
	return body;
}

static long post(struct world *w, const char *body, struct harness_response *r)
{
	assert_int_equal(
		harness_post(&w->h, "/sns", body, strlen(body), NULL, r), 0);
	return r->status;
}

/* The first request recorded for path, which must exist. */
static void first_request(struct world *w, const char *path,
			  struct tlsserver_request *ret)
{
	for (size_t i = 0; tlsserver_request(w->sns, i, ret) == 0; i++)
		if (strcmp(ret->path, path) == 0)
			return;
	fail_msg("no request for %s", path);
}

static size_t requests_for_host(struct world *w, const char *host)
{
	struct tlsserver_request req;
	size_t n = 0;

	for (size_t i = 0; tlsserver_request(w->sns, i, &req) == 0; i++)
		if (strcmp(req.host, host) == 0)
			n++;
	return n;
}

/* The daemon's on-disk certificate cache entry for name, or NULL. */
static char *cached_cert(struct world *w, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/certs/%s", w->h.state_dir, name);
	return harness_slurp(path, NULL);
}

static size_t discard(char *data, size_t size, size_t n, void *userdata)
{
	(void)data;
	(void)userdata;
	return size * n;
}

/* A GET the way the daemon is configured to make one: CA and route. */
static long probe(struct world *w, const char *url)
{
	struct curl_slist *connect_to = curl_slist_append(NULL, w->connect_to);
	long status = 0;
	CURL *curl = curl_easy_init();

	assert_non_null(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CAINFO, w->ca_file);
	curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	curl_slist_free_all(connect_to);
	return status;
}

/*
 * A confirmation signed under a certificate the daemon does not have:
 * it fetches the certificate over HTTPS, verifies, answers 200, then
 * GETs the SubscribeURL and records the subscription as confirmed.
 */
static void test_confirmation_fetches_cert_and_confirms(void **state)
{
	struct world *w = *state;
	struct tlsserver_request req;
	struct harness_response r;
	char *body = signed_confirmation(w, "confirm-1", "tok-a1",
					 CONFIRM_URL(SNS_HOST, "tok-a1"));
	char *cached;

	script(w, "/", 200, CONFIRM_OK, NULL, 1);

	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");

	/* The certificate was fetched by its URL, host name unchanged. */
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);
	first_request(w, CERT_PATH, &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.host, SNS_HOST);
	assert_string_equal(req.query, "");
	assert_true(harness_log_wait(&w->h, "event=certs.fetched", 1000));

	/* Then the SubscribeURL, exactly as SNS gave it. */
	assert_int_equal(tlsserver_wait(w->sns, "/", 1, 10000), 0);
	first_request(w, "/", &req);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.host, SNS_HOST);
	assert_string_equal(req.query, CONFIRM_QUERY("tok-a1"));
	assert_int_equal(req.status, 200);
	assert_true(
		harness_log_wait(&w->h, "event=subscription.confirmed", 5000));
	assert_true(harness_metric(&w->h, "alertbridge_subscriptions_total"
					  "{result=\"confirmed\"}") == 1);

	/* The fetched certificate is kept in the state directory. */
	cached = cached_cert(w, CERT_NAME);
	assert_non_null(cached);
	assert_string_equal(cached, w->keys->signer->cert_pem);

	/* A confirmation is not a page, and is confirmed only once. */
	harness_pause_ms(300);
	assert_int_equal(tlsserver_count(w->sns, "/"), 1);
	assert_int_equal(fakepd_count(w->pd), 0);
	free(cached);
	free(body);
}

/* SNS's endpoint failing twice: the daemon retries until it confirms. */
static void test_subscribe_url_retried_until_confirmed(void **state)
{
	struct world *w = *state;
	struct tlsserver_request req;
	struct harness_response r;
	unsigned int statuses[3];
	char *body = signed_confirmation(w, "confirm-2", "tok-b2",
					 CONFIRM_URL(SNS_HOST, "tok-b2"));
	size_t seen = 0;

	script(w, "/", 500, "<Error/>", NULL, 2);
	script(w, "/", 200, CONFIRM_OK, NULL, 1);

	assert_int_equal(post(w, body, &r), 200);
	assert_int_equal(tlsserver_wait(w->sns, "/", 3, 10000), 0);
	assert_true(
		harness_log_wait(&w->h, "event=subscription.confirmed", 5000));

	for (size_t i = 0; seen < 3 && tlsserver_request(w->sns, i, &req) == 0;
	     i++) {
		if (strcmp(req.path, "/") != 0)
			continue;
		assert_string_equal(req.query, CONFIRM_QUERY("tok-b2"));
		statuses[seen++] = req.status;
	}
	assert_int_equal(statuses[0], 500);
	assert_int_equal(statuses[1], 500);
	assert_int_equal(statuses[2], 200);
	assert_true(harness_log_wait(&w->h, "event=delivery.retry", 1000));

	/* Confirmed: no more requests, and not counted as failed. */
	harness_pause_ms(500);
	assert_int_equal(tlsserver_count(w->sns, "/"), 3);
	assert_true(harness_metric(&w->h, "alertbridge_subscriptions_total"
					  "{result=\"confirmed\"}") == 1);
	assert_true(harness_metric(&w->h, "alertbridge_subscriptions_total"
					  "{result=\"failed\"}") == 0);
	free(body);
}

/* A correctly signed confirmation whose SubscribeURL is not SNS's. */
static void test_foreign_subscribe_url_refused(void **state)
{
	struct world *w = *state;
	struct harness_response r;
	char *body = signed_confirmation(w, "confirm-3", "tok-c3",
					 CONFIRM_URL(EVIL_HOST, "tok-c3"));
	size_t before;

	script(w, "/", 200, CONFIRM_OK, NULL, 1);

	/* The foreign host is reachable from here: only policy stops it. */
	assert_int_equal(probe(w, CONFIRM_URL(EVIL_HOST, "probe")), 200);
	before = requests_for_host(w, EVIL_HOST);
	assert_int_equal(before, 1);

	assert_int_equal(post(w, body, &r), 400);
	assert_non_null(strstr(r.body, "SubscribeURL: URL host is not"
				       " sns.<region>.amazonaws.com"));
	/* Named, not shown: it carries the token. */
	assert_null(strstr(r.body, "tok-c3"));
	assert_true(harness_metric(&w->h, "alertbridge_sns_rejected_total"
					  "{reason=\"subscribe_url\"}") == 1);

	harness_pause_ms(500);
	assert_int_equal(requests_for_host(w, EVIL_HOST), before);
	assert_int_equal(tlsserver_count(w->sns, "/"), before);
	assert_false(
		harness_log_wait(&w->h, "event=subscription.received", 10));

	/* Nothing was stored: the same message id is not a duplicate. */
	free(body);
	body = signed_confirmation(w, "confirm-3", "tok-c3",
				   CONFIRM_URL(SNS_HOST, "tok-c3"));
	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");
	assert_true(
		harness_log_wait(&w->h, "event=subscription.confirmed", 10000));
	free(body);
}

/*
 * One fetch per certificate: later messages take it from memory, and
 * after a restart from the state directory, with the network refusing.
 */
static void test_cert_cached_in_memory_then_on_disk(void **state)
{
	struct world *w = *state;
	struct harness_response r;
	char cache_path[512];
	char aside_path[512];
	char *body;
	char *cached;

	body = signed_notification(w, "cache-1");
	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);
	free(body);

	cached = cached_cert(w, CERT_NAME);
	assert_non_null(cached);
	assert_string_equal(cached, w->keys->signer->cert_pem);
	free(cached);

	/* With the disk copy out of the way, only memory can serve. */
	snprintf(cache_path, sizeof(cache_path), "%s/certs/%s", w->h.state_dir,
		 CERT_NAME);
	snprintf(aside_path, sizeof(aside_path), "%s/aside.pem", w->h.dir);
	assert_int_equal(rename(cache_path, aside_path), 0);

	body = signed_notification(w, "cache-2");
	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);
	free(body);

	/* A new process has only the disk; the network would fail it. */
	assert_int_equal(rename(aside_path, cache_path), 0);
	assert_int_equal(harness_stop(&w->h), 0);
	tlsserver_clear(w->sns, CERT_PATH);
	script(w, CERT_PATH, 404, "not found", NULL, 1);
	assert_int_equal(harness_start(&w->h), 0);

	body = signed_notification(w, "cache-3");
	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);
	free(body);

	assert_int_equal(fakepd_wait(w->pd, 3, 10000), 0);
}

/* A certificate SNS cannot serve right now: 503, so SNS retries. */
static void test_cert_not_found_answers_503(void **state)
{
	struct world *w = *state;
	struct harness_response r;
	char *body = signed_notification(w, "missing-1");
	char *cached;

	tlsserver_clear(w->sns, CERT_PATH);
	script(w, CERT_PATH, 404, "not found", NULL, 1);
	script(w, CERT_PATH, 200, w->keys->signer->cert_pem, NULL, 1);

	assert_int_equal(post(w, body, &r), 503);
	assert_non_null(strstr(r.body, "could not be fetched"));
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);
	assert_true(harness_log_wait(&w->h, "event=certs.fetch_failed", 1000));
	assert_true(harness_log_wait(&w->h, "status=404", 1000));

	/* Nothing kept: no certificate, no message id, no event. */
	cached = cached_cert(w, CERT_NAME);
	assert_null(cached);
	harness_pause_ms(300);
	assert_int_equal(fakepd_count(w->pd), 0);

	/* SNS's retry of the same message goes through as new. */
	assert_int_equal(post(w, body, &r), 200);
	assert_string_equal(r.body, "accepted\n");
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 2);
	assert_int_equal(fakepd_wait(w->pd, 1, 10000), 0);
	free(body);
}

/* A redirect for the certificate is not followed, even to SNS's host. */
static void test_cert_redirect_not_followed(void **state)
{
	struct world *w = *state;
	struct harness_response r;
	char *body = signed_notification(w, "redirect-1");
	char *cached;

	tlsserver_clear(w->sns, CERT_PATH);
	script(w, CERT_PATH, 302, "", "https://" SNS_HOST OTHER_PATH, 1);
	script(w, OTHER_PATH, 200, w->keys->signer->cert_pem, NULL, 1);

	/* The target would serve the right certificate. */
	assert_int_equal(probe(w, "https://" SNS_HOST OTHER_PATH), 200);
	assert_int_equal(tlsserver_count(w->sns, OTHER_PATH), 1);

	assert_int_equal(post(w, body, &r), 503);
	assert_int_equal(tlsserver_count(w->sns, CERT_PATH), 1);

	harness_pause_ms(300);
	assert_int_equal(tlsserver_count(w->sns, OTHER_PATH), 1);
	cached = cached_cert(w, CERT_NAME);
	assert_null(cached);
	cached = cached_cert(w, OTHER_NAME);
	assert_null(cached);
	assert_int_equal(fakepd_count(w->pd), 0);
	free(body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_confirmation_fetches_cert_and_confirms, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_subscribe_url_retried_until_confirmed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_foreign_subscribe_url_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cert_cached_in_memory_then_on_disk, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_cert_not_found_answers_503,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_redirect_not_followed,
						setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
