/*
 * Ingest end to end: real and test-signed SNS messages posted to the
 * real daemon, events checked at a fake PagerDuty.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "scenario.h"
#include "timeutil.h"

#define REAL_ALARM                                                             \
	FIXTURES_DIR "/sns/real-signed/"                                       \
		     "cloudwatch-alarm-ca-central-1-2022.json"
#define ALARM_ARN                                                              \
	"arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm"
#define TOPIC_CA "arn:aws:sns:ca-central-1:017790921725:test-sre-bot"
#define TEST_CERT                                                              \
	"SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
#define TEST_CERT_URL_CA "https://sns.ca-central-1.amazonaws.com/" SCENARIO_CERT

static json_t *load_real_alarm(void)
{
	json_error_t error;
	json_t *env = json_load_file(REAL_ALARM, 0, &error);

	assert_non_null(env);
	return env;
}

static long post(struct scenario *s, const char *body,
		 struct harness_response *r)
{
	assert_int_equal(
		harness_post(&s->h, "/sns", body, strlen(body), NULL, r), 0);
	return r->status;
}

static long post_json(struct scenario *s, json_t *env,
		      struct harness_response *r)
{
	char *body = json_dumps(env, 0);
	long status = post(s, body, r);

	free(body);
	return status;
}

/* The alarm Message of the real fixture, with another state and time. */
static char *alarm_message(const char *state, const char *changed_at)
{
	json_t *env = load_real_alarm();
	json_t *msg = json_loads(
		json_string_value(json_object_get(env, "Message")), 0, NULL);
	char *text;

	json_object_set_new(msg, "NewStateValue", json_string(state));
	json_object_set_new(msg, "OldStateValue", json_string("ALARM"));
	json_object_set_new(msg, "StateChangeTime", json_string(changed_at));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	json_decref(env);
	return text;
}

static char *signed_notification(struct scenario *s, const char *message_id,
				 const char *topic, const char *message,
				 int version)
{
	json_t *env = testkey_notification(message_id, topic, NULL, message,
					   s->as_of_ms);
	char *body =
		testkey_sign_envelope(s->key, env, version, TEST_CERT_URL_CA);

	json_decref(env);
	assert_non_null(body);
	return body;
}

/* The runbook's GhostLine payload for the real signed alarm. */
static void assert_runbook_payload(json_t *payload)
{
	json_t *details = json_object_get(payload, "custom_details");

	assert_string_equal(
		json_string_value(json_object_get(payload, "summary")),
		"GhostLine Alert: Test alarm");
	assert_string_equal(
		json_string_value(json_object_get(payload, "source")),
		"aws-cloudwatch");
	assert_string_equal(
		json_string_value(json_object_get(payload, "severity")),
		"critical");
	assert_string_equal(
		json_string_value(json_object_get(details, "environment")),
		"production");
	assert_string_equal(
		json_string_value(json_object_get(details, "region")),
		"ca-central-1");
	assert_string_equal(
		json_string_value(json_object_get(details, "metric")),
		"ConcurrentExecutions");
}

static void assert_runbook_event(json_t *event, const char *action)
{
	assert_string_equal(
		json_string_value(json_object_get(event, "routing_key")),
		HARNESS_KEY_PRIMARY);
	assert_string_equal(
		json_string_value(json_object_get(event, "event_action")),
		action);
	assert_string_equal(
		json_string_value(json_object_get(event, "dedup_key")),
		ALARM_ARN);
	assert_runbook_payload(json_object_get(event, "payload"));
}

/* The real signed alarm pages; an OK signed with a test key resolves. */
static void test_real_alarm_triggers_then_ok_resolves(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	const char *headers[] = {
		"x-amz-sns-message-type: Notification",
		"x-amz-sns-message-id: 2d3a994f-adb5-5d6f-ab5e-c2e508881361",
		"x-amz-sns-topic-arn: " TOPIC_CA, NULL};
	char *body = harness_slurp(REAL_ALARM, NULL);
	char *ok_message;
	char *ok_body;
	json_t *event;

	assert_int_equal(
		harness_post(&s->h, "/sns", body, strlen(body), headers, &r),
		0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "accepted\n");

	assert_int_equal(fakepd_wait(s->pd, 1, 10000), 0);
	event = fakepd_request(s->pd, 0);
	assert_non_null(event);
	assert_runbook_event(event, "trigger");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(event, "payload"),
					"custom_details"),
			"value")),
		"6.0");
	json_decref(event);

	/* The same MessageId again changes nothing. */
	assert_int_equal(post(s, body, &r), 200);
	assert_string_equal(r.body, "duplicate\n");
	free(body);

	ok_message = alarm_message("OK", "2022-09-25T18:55:37.811+0000");
	ok_body = signed_notification(s, "ok-0001", TOPIC_CA, ok_message, 2);
	assert_int_equal(post(s, ok_body, &r), 200);

	assert_int_equal(fakepd_wait(s->pd, 2, 10000), 0);
	event = fakepd_request(s->pd, 1);
	assert_runbook_event(event, "resolve");
	json_decref(event);

	/* An older ALARM arriving late changes nothing. */
	free(ok_message);
	free(ok_body);
	ok_message = alarm_message("ALARM", "2022-09-25T18:52:00.000+0000");
	ok_body = signed_notification(s, "late-0001", TOPIC_CA, ok_message, 1);
	assert_int_equal(post(s, ok_body, &r), 200);
	assert_true(harness_log_wait(&s->h, "why=stale", 5000));
	assert_int_equal(fakepd_count(s->pd), 2);

	free(ok_message);
	free(ok_body);
}

/* One byte changed in each signed field: refused as a bad signature. */
static void test_tampered_fields_refused(void **state)
{
	struct scenario *s = *state;
	static const char *const fields[] = {"Message",  "MessageId",
					     "Subject",  "Timestamp",
					     "TopicArn", "Signature"};
	struct harness_response r;

	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		json_t *env = load_real_alarm();
		char *value = strdup(
			json_string_value(json_object_get(env, fields[i])));
		size_t pos = strlen(value) / 2;

		/*
		 * Keep each a valid timestamp, an allowed topic and base64,
		 * so that only the signature can refuse it.
		 */
		if (strcmp(fields[i], "Timestamp") == 0) {
			pos = strlen(value) - 3; /* a millisecond digit */
			value[pos] = value[pos] == '1' ? '2' : '1';
		} else if (strcmp(fields[i], "TopicArn") == 0) {
			free(value);
			value = strdup(SCENARIO_TOPIC);
		} else {
			value[pos] = value[pos] == 'A' ? 'B' : 'A';
		}
		json_object_set_new(env, fields[i], json_string(value));
		free(value);

		post_json(s, env, &r);
		/* 403 when it does not verify, 400 when the tampered
		 * Signature is not even base64 of the right size. */
		assert_true(r.status == 403 || r.status == 400);
		assert_non_null(strcasestr(r.body, "signature"));
		json_decref(env);
	}

	assert_true(harness_metric(&s->h,
				   "alertbridge_sns_rejected_total{reason="
				   "\"signature\"}") >= 6);
	assert_int_equal(fakepd_count(s->pd), 0);
}

/* A test key's signature under the real certificate's URL is refused. */
static void test_wrong_certificate_refused(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	json_t *env = testkey_notification("wrong-cert-1", TOPIC_CA, NULL,
					   "hello", s->as_of_ms);
	char *body =
		testkey_sign_envelope(s->key, env, 1,
				      "https://sns.ca-central-1.amazonaws.com/"
				      "SimpleNotificationService-"
				      "56e67fcb41f6fec09b0196692625d385.pem");

	assert_int_equal(post(s, body, &r), 403);
	assert_int_equal(fakepd_count(s->pd), 0);
	json_decref(env);
	free(body);
}

static void test_bad_inputs(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	const char *mismatch[] = {"x-amz-sns-message-type: "
				  "SubscriptionConfirmation",
				  NULL};
	const char *xml_type[] = {"Content-Type: application/xml", NULL};
	char *big = malloc(600 * 1024 + 1);
	char *body;
	json_t *env;

	assert_int_equal(post(s, "{not json", &r), 400);
	assert_non_null(strstr(r.body, "JSON"));
	assert_int_equal(post(s, "[1,2,3]", &r), 400);
	assert_int_equal(post(s, "", &r), 400);

	memset(big, ' ', 600 * 1024);
	big[600 * 1024] = '\0';
	assert_int_equal(post(s, big, &r), 413);
	free(big);

	/* Unknown topic. */
	body = signed_notification(s, "topic-1",
				   "arn:aws:sns:us-east-1:999999999999:other",
				   "hi", 2);
	assert_int_equal(post(s, body, &r), 403);
	assert_non_null(strstr(r.body, "allow-list"));
	free(body);

	/* Signed, but with no MessageId to tell it by, or no topic. */
	body = signed_notification(s, "", SCENARIO_TOPIC, "hi", 2);
	assert_int_equal(post(s, body, &r), 400);
	assert_string_equal(r.body, "MessageId is empty\n");
	free(body);
	body = signed_notification(s, "empty-topic-1", "", "hi", 2);
	assert_int_equal(post(s, body, &r), 400);
	assert_string_equal(r.body, "TopicArn is empty\n");
	free(body);

	/* A content type SNS never sends: refused unread, and counted. */
	body = signed_notification(s, "type-1", SCENARIO_TOPIC, "hi", 2);
	assert_int_equal(
		harness_post(&s->h, "/sns", body, strlen(body), xml_type, &r),
		0);
	assert_int_equal(r.status, 415);
	assert_true(harness_metric(&s->h, "alertbridge_sns_rejected_total"
					  "{reason=\"content_type\"}") == 1);
	free(body);

	/* Headers that disagree with the body. */
	body = signed_notification(s, "hdr-1", SCENARIO_TOPIC, "hi", 2);
	assert_int_equal(
		harness_post(&s->h, "/sns", body, strlen(body), mismatch, &r),
		0);
	assert_int_equal(r.status, 400);
	free(body);

	/* A replay from beyond the window. */
	env = testkey_notification("old-1", SCENARIO_TOPIC, NULL, "hi",
				   s->as_of_ms - 3 * 3600 * 1000LL);
	body = testkey_sign_envelope(s->key, env, 2, TEST_CERT_URL_CA);
	assert_int_equal(post(s, body, &r), 400);
	assert_non_null(strstr(r.body, "replay"));
	json_decref(env);
	free(body);

	/* SignatureVersion 3 does not exist. */
	env = testkey_notification("sv3-1", SCENARIO_TOPIC, NULL, "hi",
				   s->as_of_ms);
	body = testkey_sign_envelope(s->key, env, 2, TEST_CERT_URL_CA);
	json_decref(env);
	env = json_loads(body, 0, NULL);
	free(body);
	json_object_set_new(env, "SignatureVersion", json_string("3"));
	assert_int_equal(post_json(s, env, &r), 400);
	json_decref(env);

	/* A certificate from anywhere but SNS. */
	env = testkey_notification("url-1", SCENARIO_TOPIC, NULL, "hi",
				   s->as_of_ms);
	body = testkey_sign_envelope(s->key, env, 2,
				     "https://sns.us-east-1.amazonaws.com.evil"
				     ".example/" SCENARIO_CERT);
	assert_int_equal(post(s, body, &r), 400);
	assert_non_null(strstr(r.body, "SigningCertURL https://sns.us-east-1"
				       ".amazonaws.com.evil.example/"));
	assert_non_null(strstr(r.body, ": URL host is not"));
	json_decref(env);
	free(body);

	assert_int_equal(fakepd_count(s->pd), 0);

	/* Wrong method and path: a 405 says which methods the path takes
	 * (RFC 9110 15.5.6). */
	assert_int_equal(harness_get(&s->h, "/sns", &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	assert_string_equal(r.body, "method not allowed here; use POST\n");
	assert_int_equal(harness_post(&s->h, "/healthz", "", 0, NULL, &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(
		harness_request(&s->h, "DELETE", "/api/incidents", NULL, &r),
		0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(
		harness_request(&s->h, "PUT", "/api/silences", NULL, &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD, POST");
	assert_int_equal(harness_get(&s->h, "/api/silences/1", &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "DELETE");
	assert_int_equal(harness_get(&s->h, "/api/incidents/k/resolve", &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	assert_int_equal(harness_get(&s->h, "/nope", &r), 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.allow, "");

	/* Still healthy after all of it. */
	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
}

/* Every message type and signature version the fixtures lack. */
static void test_signed_types_and_versions(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	char *body;

	for (int version = 1; version <= 2; version++) {
		char id[32];

		snprintf(id, sizeof(id), "text-%d", version);
		body = signed_notification(s, id, SCENARIO_TOPIC,
					   "Disk almost full on db-1 \xe2\x9a"
					   "\xa0",
					   version);
		assert_int_equal(post(s, body, &r), 200);
		free(body);
	}
	assert_int_equal(fakepd_wait(s->pd, 2, 10000), 0);

	/* Generic text goes to the default route. */
	{
		json_t *event = fakepd_request(s->pd, 0);

		assert_string_equal(json_string_value(json_object_get(
					    event, "routing_key")),
				    HARNESS_KEY_SECONDARY);
		json_decref(event);
	}

	/* An unsubscribe is recorded and answered, never acted on. */
	{
		json_t *env =
			testkey_notification("unsub-1", SCENARIO_TOPIC, NULL,
					     "You have chosen to"
					     " deactivate",
					     s->as_of_ms);

		json_object_set_new(env, "Type",
				    json_string("UnsubscribeConfirmation"));
		json_object_set_new(
			env, "SubscribeURL",
			json_string("https://sns.us-east-1.amazonaws.com/"
				    "?Action=ConfirmSubscription&Token=t"));
		json_object_set_new(env, "Token", json_string("t0k3n"));
		body = testkey_sign_envelope(s->key, env, 2, TEST_CERT_URL_CA);
		assert_int_equal(post(s, body, &r), 200);
		assert_true(harness_log_wait(
			&s->h, "event=subscription.unsubscribed", 5000));
		json_decref(env);
		free(body);
	}
}

static void test_health_endpoints(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	assert_int_equal(harness_get(&s->h, "/healthz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ready\n");
	assert_true(harness_metric(&s->h, "alertbridge_outbox_depth") >= 0);
	assert_true(harness_metric(
			    &s->h,
			    "alertbridge_ingest_duration_seconds_count") >= 0);
}

/* A testing: section without --not-production: refused at start. */
static void test_testing_settings_need_flag(void **state)
{
	struct scenario *s = *state;
	char *log;

	assert_int_equal(harness_run_expect_exit(&s->h, NULL, 10000), 1);
	log = harness_slurp(s->h.log_path, NULL);
	assert_non_null(strstr(log, "event=config.testing_refused"));
	free(log);

	/* The running daemon warned at its own start. */
	assert_true(
		harness_log_wait(&s->h, "event=config.testing_settings", 1000));
}

/* A broken configuration at start: each error logged with its place,
 * as a reload logs them, and no start. */
static void test_broken_config_at_start_logged(void **state)
{
	struct scenario *s = *state;
	char at[600];
	char *log;

	assert_int_equal(harness_write_config(&s->h, "listen: [\n"), 0);
	assert_int_equal(harness_run_expect_exit(&s->h, NULL, 10000), 1);

	log = harness_slurp(s->h.log_path, NULL);
	snprintf(at, sizeof(at),
		 "level=error event=config.error at=%s:", s->h.config);
	assert_non_null(strstr(log, at));
	assert_non_null(strstr(log, "event=config.load_failed"));
	free(log);
}

/* A second daemon on the same state directory is refused before it
 * binds or delivers: two would send the same outbox twice. */
static void test_second_daemon_on_store_refused(void **state)
{
	struct scenario *s = *state;
	const char *args[] = {"--not-production", NULL};
	struct harness_response r;
	char *log;

	assert_int_equal(harness_run_expect_exit(&s->h, args, 10000), 1);
	log = harness_slurp(s->h.log_path, NULL);
	assert_non_null(strstr(log, "event=store.locked"));
	assert_non_null(strstr(log, "one daemon per store"));
	free(log);

	/* The first still serves. */
	assert_int_equal(harness_get(&s->h, "/readyz", &r), 0);
	assert_int_equal(r.status, 200);
}

/* The value of the first line "name: value", indented or not, in out
 * (free() it). */
static char *output_field(const char *out, const char *name)
{
	const char *line;

	for (line = out; *line; line += strcspn(line, "\n") + 1) {
		const char *at = line + strspn(line, " ");

		if (strncmp(at, name, strlen(name)) == 0 &&
		    strncmp(at + strlen(name), ": ", 2) == 0) {
			at += strlen(name) + 2;
			return strndup(at, strcspn(at, "\n"));
		}
		if (!line[strcspn(line, "\n")])
			break;
	}
	fail_msg("no line '%s: ' in:\n%s", name, out);
	return NULL;
}

/*
 * check-config --message on the repository's real signed alarm, with
 * the demo configuration the README points at: its route, dedup_key and
 * the runbook's GhostLine payload.
 */
static void test_check_config_explains_real_alarm(void **state)
{
	static char out[16384];
	char cmd[1024];
	json_t *payload;
	json_t *details;
	size_t len = 0;
	char *value;
	FILE *p;

	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "%s check-config --not-production -c "
		 "%s/config/demo-fixture.yaml"
		 " --message %s"
		 " 2>&1",
		 harness_binary(), SOURCE_DIR, REAL_ALARM);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < sizeof(out) &&
	       fgets(out + len, (int)(sizeof(out) - len), p))
		len = strlen(out);
	assert_int_equal(pclose(p), 0);

	assert_non_null(strstr(out, "\nconfiguration OK\n"));
	value = output_field(out, "route");
	assert_string_equal(value, "default (no route matched)");
	free(value);
	value = output_field(out, "target");
	assert_string_equal(value, "primary");
	free(value);
	value = output_field(out, "state");
	assert_string_equal(value, "ALARM");
	free(value);
	value = output_field(out, "dedup_key");
	assert_string_equal(value, ALARM_ARN);
	free(value);

	value = output_field(out, "payload");
	payload = json_loads(value, 0, NULL);
	free(value);
	assert_non_null(payload);
	assert_runbook_payload(payload);
	details = json_object_get(payload, "custom_details");
	assert_string_equal(
		json_string_value(json_object_get(details, "value")), "6.0");
	json_decref(payload);

	/* The routing key shows as its fingerprint only. */
	assert_null(strstr(out, "demo0000000000000000000000000000"));
	assert_non_null(strstr(out, "  primary                key "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_real_alarm_triggers_then_ok_resolves,
			scenario_setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_tampered_fields_refused,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_certificate_refused,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_signed_types_and_versions,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_health_endpoints,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_testing_settings_need_flag,
						scenario_setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_second_daemon_on_store_refused, scenario_setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_broken_config_at_start_logged, scenario_setup,
			scenario_teardown),
		cmocka_unit_test(test_check_config_explains_real_alarm),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
