/*
 * Tests of lib/sns.c: real signed SNS messages, messages signed at test
 * time by tests/support/testkeys.c (whose string to sign is built on its
 * own), the envelope's parsing rules and the URL policies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "certs.h"
#include "sns.h"
#include "testkeys.h"
#include "util.h"

#define REAL_DIR  FIXTURES_DIR "/sns/real-signed"
#define CERTS_DIR REAL_DIR "/certs"
#define DOCS_DIR  FIXTURES_DIR "/sns/docs-examples"

#define CLOUDWATCH_JSON "cloudwatch-alarm-ca-central-1-2022.json"
#define SDK_SAMPLE_JSON "sdk-sample-notification-with-subject-2015.json"
#define NOT_THE_SIGNER  "not-the-signer-2016.pem"

#define TEST_CERT_URL                                                          \
	"https://sns.us-east-1.amazonaws.com/"                                 \
	"SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
#define TEST_TOPIC "arn:aws:sns:us-east-1:123456789012:alerts"
#define TEST_SUBSCRIBE                                                         \
	"https://sns.us-east-1.amazonaws.com/"                                 \
	"?Action=ConfirmSubscription&TopicArn=" TEST_TOPIC                     \
	"&Token=2336412f37fb687f5d51e6e2425"
#define TEST_TIMESTAMP_MS INT64_C(1704067200000) /* 2024-01-01T00:00Z */

/* Signed at test time by a key made for the whole run. */
static struct testkey *signer;
/* A second key that signed nothing. */
static struct testkey *stranger;

static int group_setup(void **state)
{
	(void)state;

	if (testkey_generate(0, INT64_C(4102444800000), &signer) < 0)
		return -1;
	if (testkey_generate(0, INT64_C(4102444800000), &stranger) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;

	testkey_free(signer);
	testkey_free(stranger);
	return 0;
}

static char *read_text(const char *path, size_t *ret_len)
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(util_read_file(path, 1024 * 1024, &data, &len), 0);
	if (ret_len)
		*ret_len = len;
	return data;
}

static EVP_PKEY *load_key(const char *file_name, int64_t as_of_ms,
			  int check_validity)
{
	char path[1024];
	EVP_PKEY *key = NULL;
	const char *reason = NULL;
	char *pem;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", CERTS_DIR, file_name);
	pem = read_text(path, &len);
	assert_int_equal(certs_load_pem(pem, len, as_of_ms, check_validity,
					&key, NULL, &reason),
			 0);
	free(pem);
	return key;
}

static struct sns_message *parse_ok(const char *body)
{
	struct sns_message *msg = NULL;
	const char *reason = NULL;
	int r;

	r = sns_parse(body, strlen(body), &msg, &reason);
	if (r != 0)
		fail_msg("sns_parse: %d (%s)", r, reason ? reason : "?");
	assert_non_null(msg);
	return msg;
}

/* Parses a body and verifies it with key; the result of sns_verify(). */
static int verify_body(const char *body, EVP_PKEY *key)
{
	struct sns_message *msg = parse_ok(body);
	const char *reason = NULL;
	int r;

	r = sns_verify(msg, key, &reason);
	if (r < 0)
		assert_non_null(reason);
	sns_message_free(msg);
	return r;
}

/* Expects sns_parse() to refuse body with -EINVAL and a reason. */
static void assert_parse_refused(const char *body, size_t len,
				 const char *reason_part)
{
	static struct sns_message untouched;
	struct sns_message *sentinel = &untouched;
	struct sns_message *msg = sentinel;
	const char *reason = NULL;

	assert_int_equal(sns_parse(body, len, &msg, &reason), -EINVAL);
	assert_ptr_equal(msg, sentinel);
	assert_non_null(reason);
	if (reason_part && !strstr(reason, reason_part))
		fail_msg("reason \"%s\" lacks \"%s\"", reason, reason_part);
}

static json_t *load_json(const char *body)
{
	json_error_t error;
	json_t *root;

	root = json_loads(body, 0, &error);
	if (!root)
		fail_msg("test JSON: %s", error.text);
	return root;
}

static char *dump(json_t *root)
{
	char *body = json_dumps(root, JSON_INDENT(2));

	assert_non_null(body);
	return body;
}

/* Changes one byte of s at i to another of the same class. */
static void change_byte(char *s, size_t i)
{
	char c = s[i];

	if (c >= '0' && c <= '9')
		s[i] = c == '9' ? '0' : (char)(c + 1);
	else if (c >= 'a' && c <= 'z')
		s[i] = c == 'z' ? 'a' : (char)(c + 1);
	else if (c >= 'A' && c <= 'Z')
		s[i] = c == 'Z' ? 'A' : (char)(c + 1);
	else
		s[i] = c == '.' ? ',' : '.';
}

/* A copy of root whose string field key has one byte changed. */
static char *tampered_body(json_t *root, const char *key)
{
	json_t *copy = json_deep_copy(root);
	const char *value;
	char *changed;
	char *body;
	size_t len;

	value = json_string_value(json_object_get(copy, key));
	assert_non_null(value);
	changed = strdup(value);
	len = strlen(changed);
	assert_true(len > 0);

	/* The last digit of a timestamp keeps it a valid timestamp. */
	change_byte(changed, strcmp(key, "Timestamp") == 0 ? len - 2 : len / 2);
	assert_int_equal(json_object_set_new(copy, key, json_string(changed)),
			 0);

	body = dump(copy);
	free(changed);
	json_decref(copy);
	return body;
}

static void check_real(const char *json_name, const char *expected_cert,
		       int64_t as_of_ms)
{
	char path[1024];
	struct sns_message *msg;
	const char *reason = NULL;
	char *file_name = NULL;
	EVP_PKEY *key;
	char *body;

	snprintf(path, sizeof(path), "%s/%s", REAL_DIR, json_name);
	body = read_text(path, NULL);
	msg = parse_ok(body);

	/* The certificate is found by the name the URL policy gives. */
	assert_int_equal(
		sns_cert_url_check(msg->signing_cert_url, &file_name, &reason),
		0);
	assert_string_equal(file_name, expected_cert);

	key = load_key(file_name, as_of_ms, 1);
	assert_int_equal(sns_verify(msg, key, &reason), 0);
	EVP_PKEY_free(key);

	key = load_key(NOT_THE_SIGNER, 0, 0);
	reason = NULL;
	assert_int_equal(sns_verify(msg, key, &reason), -EBADMSG);
	assert_non_null(reason);
	EVP_PKEY_free(key);

	free(file_name);
	sns_message_free(msg);
	free(body);
}

static void test_real_cloudwatch_alarm(void **state)
{
	struct sns_message *msg;
	char *body;

	(void)state;

	/* 2022-09-25T18:51:00Z, inside the certificate's validity. */
	check_real(CLOUDWATCH_JSON,
		   "SimpleNotificationService-"
		   "56e67fcb41f6fec09b0196692625d385.pem",
		   INT64_C(1664131860000));

	body = read_text(REAL_DIR "/" CLOUDWATCH_JSON, NULL);
	msg = parse_ok(body);
	assert_int_equal(msg->type, SNS_TYPE_NOTIFICATION);
	assert_int_equal(msg->signature_version, 1);
	assert_string_equal(msg->type_name, "Notification");
	assert_string_equal(msg->message_id,
			    "2d3a994f-adb5-5d6f-ab5e-c2e508881361");
	assert_string_equal(msg->topic_arn,
			    "arn:aws:sns:ca-central-1:017790921725:"
			    "test-sre-bot");
	assert_string_equal(msg->subject,
			    "ALARM: \"Test alarm\" in Canada (Central)");
	assert_int_equal(msg->message_len, strlen(msg->message));
	assert_true(strncmp(msg->message, "{\"AlarmName\":\"Test alarm\"",
			    25) == 0);
	assert_string_equal(msg->timestamp, "2022-09-25T18:50:37.868Z");
	assert_int_equal(msg->timestamp_ms, INT64_C(1664131837868));
	assert_non_null(msg->unsubscribe_url);
	assert_null(msg->subscribe_url);
	assert_null(msg->token);
	sns_message_free(msg);
	free(body);
}

static void test_real_sdk_sample(void **state)
{
	(void)state;

	/* 2015-09-20T01:23:00Z. */
	check_real(SDK_SAMPLE_JSON,
		   "SimpleNotificationService-"
		   "bb750dd426d95ee9390147a5624348ee.pem",
		   INT64_C(1442712180000));
}

static void check_real_tampered(const char *json_name, const char *cert)
{
	static const char *const fields[] = {
		"Message",  "MessageId", "Subject", "Timestamp",
		"TopicArn", "Signature", "Type",
	};
	char path[1024];
	EVP_PKEY *key;
	json_t *root;
	char *body;

	snprintf(path, sizeof(path), "%s/%s", REAL_DIR, json_name);
	body = read_text(path, NULL);
	root = load_json(body);
	key = load_key(cert, 0, 0);

	/* Re-encoding alone keeps the signature good: the control case. */
	free(body);
	body = dump(root);
	assert_int_equal(verify_body(body, key), 0);
	free(body);

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		body = tampered_body(root, fields[i]);
		if (strcmp(fields[i], "Type") == 0)
			assert_parse_refused(body, strlen(body), "Type");
		else if (verify_body(body, key) != -EBADMSG)
			fail_msg("%s: tampered %s verified", json_name,
				 fields[i]);
		free(body);
	}

	EVP_PKEY_free(key);
	json_decref(root);
}

static void test_real_tampered(void **state)
{
	(void)state;

	check_real_tampered(CLOUDWATCH_JSON,
			    "SimpleNotificationService-"
			    "56e67fcb41f6fec09b0196692625d385.pem");
	check_real_tampered(SDK_SAMPLE_JSON,
			    "SimpleNotificationService-"
			    "bb750dd426d95ee9390147a5624348ee.pem");
}

static void assert_string_to_sign(const char *body, const char *expected)
{
	struct sns_message *msg = parse_ok(body);
	json_t *root = load_json(body);
	char *text = NULL;
	char *oracle;
	size_t len = 0;
	size_t oracle_len = 0;

	assert_int_equal(sns_string_to_sign(msg, &text, &len), 0);
	assert_string_equal(text, expected);
	assert_int_equal(len, strlen(expected));

	oracle = testkey_string_to_sign(root, &oracle_len);
	assert_non_null(oracle);
	assert_string_equal(oracle, expected);
	assert_int_equal(oracle_len, len);

	free(oracle);
	free(text);
	json_decref(root);
	sns_message_free(msg);
}

static void test_string_to_sign(void **state)
{
	(void)state;

	/* Keys in the body's order differ from the signed order. */
	assert_string_to_sign(
		"{\"Type\":\"Notification\",\"MessageId\":\"m-1\","
		"\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
		"\"Subject\":\"Disk full\",\"Message\":\"line 1\\nline 2\","
		"\"Timestamp\":\"2022-09-25T18:50:37.868Z\","
		"\"SignatureVersion\":\"2\",\"Signature\":\"AAAA\","
		"\"SigningCertURL\":\"" TEST_CERT_URL "\","
		"\"UnsubscribeURL\":\"https://sns.us-east-1.amazonaws.com/"
		"?Action=Unsubscribe\"}",
		"Message\nline 1\nline 2\nMessageId\nm-1\nSubject\nDisk full\n"
		"Timestamp\n2022-09-25T18:50:37.868Z\n"
		"TopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n");

	/* Without a Subject its key is left out too. */
	assert_string_to_sign(
		"{\"Type\":\"Notification\",\"MessageId\":\"m-2\","
		"\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
		"\"Message\":\"hello\","
		"\"Timestamp\":\"2022-09-25T18:50:37.868Z\","
		"\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\","
		"\"SigningCertURL\":\"" TEST_CERT_URL "\"}",
		"Message\nhello\nMessageId\nm-2\n"
		"Timestamp\n2022-09-25T18:50:37.868Z\n"
		"TopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n");

	assert_string_to_sign(
		"{\"Type\":\"SubscriptionConfirmation\",\"MessageId\":\"m-3\","
		"\"Token\":\"tok\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
		"\"Message\":\"confirm\",\"SubscribeURL\":\"" TEST_SUBSCRIBE
		"\",\"Timestamp\":\"2012-04-26T20:45:04.751Z\","
		"\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\","
		"\"SigningCertURL\":\"" TEST_CERT_URL "\"}",
		"Message\nconfirm\nMessageId\nm-3\n"
		"SubscribeURL\n" TEST_SUBSCRIBE "\n"
		"Timestamp\n2012-04-26T20:45:04.751Z\nToken\ntok\n"
		"TopicArn\narn:aws:sns:us-east-1:1:t\n"
		"Type\nSubscriptionConfirmation\n");

	/* A Subject on a confirmation is not signed, so not read. */
	assert_string_to_sign(
		"{\"Type\":\"UnsubscribeConfirmation\",\"MessageId\":\"m-4\","
		"\"Token\":\"tok\",\"TopicArn\":\"arn:aws:sns:us-east-1:1:t\","
		"\"Subject\":\"ignored\",\"Message\":\"bye\","
		"\"SubscribeURL\":\"" TEST_SUBSCRIBE "\","
		"\"Timestamp\":\"2012-04-26T20:06:41.581Z\","
		"\"SignatureVersion\":\"2\",\"Signature\":\"AAAA\","
		"\"SigningCertURL\":\"" TEST_CERT_URL "\"}",
		"Message\nbye\nMessageId\nm-4\n"
		"SubscribeURL\n" TEST_SUBSCRIBE "\n"
		"Timestamp\n2012-04-26T20:06:41.581Z\nToken\ntok\n"
		"TopicArn\narn:aws:sns:us-east-1:1:t\n"
		"Type\nUnsubscribeConfirmation\n");
}

static void test_string_to_sign_real(void **state)
{
	struct sns_message *msg;
	json_t *root;
	char *body;
	char *text = NULL;
	char *oracle;
	size_t len = 0;
	size_t oracle_len = 0;

	(void)state;

	body = read_text(REAL_DIR "/" CLOUDWATCH_JSON, NULL);
	msg = parse_ok(body);
	root = load_json(body);

	assert_int_equal(sns_string_to_sign(msg, &text, &len), 0);
	oracle = testkey_string_to_sign(root, &oracle_len);
	assert_int_equal(len, oracle_len);
	assert_memory_equal(text, oracle, len);
	assert_true(strncmp(text, "Message\n{\"AlarmName\"", 20) == 0);

	free(oracle);
	free(text);
	json_decref(root);
	sns_message_free(msg);
	free(body);
}

static json_t *signed_notification(int version)
{
	json_t *root;
	char *body;

	root = testkey_notification("m-sv", TEST_TOPIC, "subject", "text",
				    TEST_TIMESTAMP_MS);
	assert_non_null(root);
	body = testkey_sign_envelope(signer, root, version, TEST_CERT_URL);
	assert_non_null(body);
	free(body);
	return root;
}

static void test_signature_version_refused(void **state)
{
	static const char *const bad[] = {"3",  "",   "0",   "01",
					  " 1", "1 ", "2.0", "v2"};
	json_t *root;
	char *body;

	(void)state;

	root = signed_notification(2);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		json_object_set_new(root, "SignatureVersion",
				    json_string(bad[i]));
		body = dump(root);
		assert_parse_refused(body, strlen(body), "SignatureVersion");
		free(body);
	}

	json_object_set_new(root, "SignatureVersion", json_integer(1));
	body = dump(root);
	assert_parse_refused(body, strlen(body), "SignatureVersion");
	free(body);

	json_object_set_new(root, "SignatureVersion", json_null());
	body = dump(root);
	assert_parse_refused(body, strlen(body), "SignatureVersion");
	free(body);

	json_object_del(root, "SignatureVersion");
	body = dump(root);
	assert_parse_refused(body, strlen(body), "SignatureVersion missing");
	free(body);

	json_decref(root);
}

static json_t *envelope_of(enum sns_type type)
{
	if (type == SNS_TYPE_NOTIFICATION)
		return testkey_notification("m-n", TEST_TOPIC, "Subject line",
					    "{\"AlarmName\":\"cpu\"}",
					    TEST_TIMESTAMP_MS);
	return testkey_confirmation(sns_type_name(type), "m-c", TEST_TOPIC,
				    "2336412f37fb687f5d51e6e2425",
				    TEST_SUBSCRIBE, TEST_TIMESTAMP_MS);
}

static void check_signed_type(enum sns_type type, int version)
{
	static const char *const notification_fields[] = {
		"Message",   "MessageId", "Subject",
		"Timestamp", "TopicArn",  "Signature",
	};
	static const char *const confirmation_fields[] = {
		"Message", "MessageId", "SubscribeURL", "Timestamp",
		"Token",   "TopicArn",  "Signature",
	};
	const char *const *fields;
	size_t count;
	struct sns_message *msg;
	EVP_PKEY *key = NULL;
	const char *reason = NULL;
	json_t *root;
	char *body;

	root = envelope_of(type);
	assert_non_null(root);
	body = testkey_sign_envelope(signer, root, version, TEST_CERT_URL);
	assert_non_null(body);

	msg = parse_ok(body);
	assert_int_equal(msg->type, type);
	assert_int_equal(msg->signature_version, version);
	assert_int_equal(msg->timestamp_ms, TEST_TIMESTAMP_MS);
	assert_int_equal(sns_verify(msg, signer->key, &reason), 0);

	/* The key as certs_load_pem() reads it from the certificate. */
	assert_int_equal(
		certs_load_pem(signer->cert_pem, strlen(signer->cert_pem),
			       TEST_TIMESTAMP_MS, 1, &key, NULL, &reason),
		0);
	assert_int_equal(sns_verify(msg, key, &reason), 0);
	EVP_PKEY_free(key);

	reason = NULL;
	assert_int_equal(sns_verify(msg, stranger->key, &reason), -EBADMSG);
	assert_string_equal(reason, "Signature does not match the message");

	/* The digest follows SignatureVersion: a relabelled one fails. */
	msg->signature_version = version == 1 ? 2 : 1;
	assert_int_equal(sns_verify(msg, signer->key, &reason), -EBADMSG);
	sns_message_free(msg);
	free(body);

	if (type == SNS_TYPE_NOTIFICATION) {
		fields = notification_fields;
		count = ARRAY_SIZE(notification_fields);
	} else {
		fields = confirmation_fields;
		count = ARRAY_SIZE(confirmation_fields);
	}
	for (size_t i = 0; i < count; i++) {
		body = tampered_body(root, fields[i]);
		if (verify_body(body, signer->key) != -EBADMSG)
			fail_msg("%s v%d: tampered %s verified",
				 sns_type_name(type), version, fields[i]);
		free(body);
	}

	json_decref(root);
}

static void test_signed_types_and_versions(void **state)
{
	(void)state;

	for (int version = 1; version <= 2; version++) {
		check_signed_type(SNS_TYPE_NOTIFICATION, version);
		check_signed_type(SNS_TYPE_SUBSCRIPTION_CONFIRMATION, version);
		check_signed_type(SNS_TYPE_UNSUBSCRIBE_CONFIRMATION, version);
	}
}

static void test_notification_without_subject(void **state)
{
	struct sns_message *msg;
	json_t *root;
	char *body;

	(void)state;

	root = testkey_notification("m-ns", TEST_TOPIC, NULL, "no subject",
				    TEST_TIMESTAMP_MS);
	body = testkey_sign_envelope(signer, root, 2, TEST_CERT_URL);
	msg = parse_ok(body);
	assert_null(msg->subject);
	assert_int_equal(sns_verify(msg, signer->key, NULL), 0);
	sns_message_free(msg);
	free(body);

	/* A JSON null Subject counts as absent. */
	json_object_set_new(root, "Subject", json_null());
	body = dump(root);
	assert_int_equal(verify_body(body, signer->key), 0);
	free(body);

	/* A Subject added after signing is covered by the signature. */
	json_object_set_new(root, "Subject", json_string("added"));
	body = dump(root);
	assert_int_equal(verify_body(body, signer->key), -EBADMSG);
	free(body);
	json_decref(root);

	/* And one removed after signing. */
	root = testkey_notification("m-ns", TEST_TOPIC, "kept", "text",
				    TEST_TIMESTAMP_MS);
	free(testkey_sign_envelope(signer, root, 1, TEST_CERT_URL));
	json_object_del(root, "Subject");
	body = dump(root);
	assert_int_equal(verify_body(body, signer->key), -EBADMSG);
	free(body);

	/* A Subject that is neither a string nor null is refused. */
	json_object_set_new(root, "Subject", json_integer(5));
	body = dump(root);
	assert_parse_refused(body, strlen(body), "Subject");
	free(body);
	json_decref(root);
}

static void test_unicode_and_escapes(void **state)
{
	/* U+00FC, U+2192, U+6771 U+4EAC, U+1F6A8 and escaped ASCII. */
	static const char text[] = "Z\xc3\xbcrich \xe2\x86\x92 "
				   "\xe6\x9d\xb1\xe4\xba\xac "
				   "\xf0\x9f\x9a\xa8 \"q\" \\ /\t\n\x01";
	struct sns_message *msg;
	json_t *root;
	char *body;

	(void)state;

	root = testkey_notification("m-u", TEST_TOPIC, "\xf0\x9f\x9a\xa8 sub",
				    text, TEST_TIMESTAMP_MS);
	free(testkey_sign_envelope(signer, root, 2, TEST_CERT_URL));

	/* Every non-ASCII character as \u escapes, the emoji as a pair. */
	body = json_dumps(root, JSON_ENSURE_ASCII);
	assert_non_null(strstr(body, "\\u0001"));
	msg = parse_ok(body);
	assert_string_equal(msg->message, text);
	assert_int_equal(msg->message_len, strlen(text));
	assert_string_equal(msg->subject, "\xf0\x9f\x9a\xa8 sub");
	assert_int_equal(sns_verify(msg, signer->key, NULL), 0);
	sns_message_free(msg);

	/* jansson writes upper-case hex; SNS may send lower-case. */
	for (char *p = strstr(body, "\\uD83D\\uDEA8"); p;
	     p = strstr(p, "\\uD83D\\uDEA8"))
		memcpy(p, "\\ud83d\\udea8", 12);
	assert_non_null(strstr(body, "\\ud83d\\udea8 sub"));
	assert_int_equal(verify_body(body, signer->key), 0);
	free(body);

	/* The same as raw UTF-8. */
	body = json_dumps(root, 0);
	assert_null(strstr(body, "\\ud83d"));
	assert_int_equal(verify_body(body, signer->key), 0);
	free(body);
	json_decref(root);

	/* Escapes written by hand decode to the expected bytes. */
	msg = parse_ok("{\"Type\":\"Notification\",\"MessageId\":\"m\","
		       "\"TopicArn\":\"t\",\"Message\":"
		       "\"\\ud83d\\udea8 \\u00e9\\u0041\\/\","
		       "\"Timestamp\":\"2022-09-25T18:50:37.868Z\","
		       "\"SignatureVersion\":\"1\",\"Signature\":\"AAAA\","
		       "\"SigningCertURL\":\"" TEST_CERT_URL "\"}");
	assert_string_equal(msg->message, "\xf0\x9f\x9a\xa8 \xc3\xa9"
					  "A/");
	assert_int_equal(msg->message_len, 9);
	sns_message_free(msg);
}

static char *notification_body_with(const char *key, json_t *value)
{
	json_t *root = signed_notification(1);
	char *body;

	if (value)
		json_object_set_new(root, key, value);
	else
		json_object_del(root, key);
	body = dump(root);
	json_decref(root);
	return body;
}

static void test_nul_and_encoding_refused(void **state)
{
	static const char lone[] =
		"{\"Type\":\"Notification\",\"Message\":\"\\ud83d x\"}";
	static const char nul[] =
		"{\"Type\":\"Notification\",\"Message\":\"a\\u0000b\"}";
	static const char latin1[] =
		"{\"Type\":\"Notification\",\"Message\":\"caf\xe9\"}";

	(void)state;

	/* A lone surrogate is not a character. */
	assert_parse_refused(lone, strlen(lone), NULL);
	/* A NUL is refused, with a reason that names it. */
	assert_parse_refused(nul, strlen(nul), "\\u0000");
	assert_parse_refused(latin1, strlen(latin1), "UTF-8");
}

static void test_headers(void **state)
{
	struct sns_message *msg;
	const char *reason;
	json_t *root;
	char *body;

	(void)state;

	root = signed_notification(1);
	body = dump(root);
	msg = parse_ok(body);

	assert_int_equal(sns_check_headers(msg, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(sns_check_headers(msg, "Notification", "m-sv",
					   TEST_TOPIC, NULL),
			 0);
	assert_int_equal(
		sns_check_headers(msg, "Notification", NULL, NULL, NULL), 0);

	reason = NULL;
	assert_int_equal(sns_check_headers(msg, "SubscriptionConfirmation",
					   "m-sv", TEST_TOPIC, &reason),
			 -EINVAL);
	assert_non_null(strstr(reason, "x-amz-sns-message-type"));

	reason = NULL;
	assert_int_equal(
		sns_check_headers(msg, "notification", NULL, NULL, &reason),
		-EINVAL);
	assert_non_null(reason);

	reason = NULL;
	assert_int_equal(sns_check_headers(msg, "Notification", "m-other",
					   TEST_TOPIC, &reason),
			 -EINVAL);
	assert_non_null(strstr(reason, "x-amz-sns-message-id"));

	reason = NULL;
	assert_int_equal(sns_check_headers(msg, NULL, NULL, TEST_TOPIC "-other",
					   &reason),
			 -EINVAL);
	assert_non_null(strstr(reason, "x-amz-sns-topic-arn"));

	reason = NULL;
	assert_int_equal(sns_check_headers(msg, NULL, "", NULL, &reason),
			 -EINVAL);
	assert_non_null(reason);

	sns_message_free(msg);
	free(body);
	json_decref(root);
}

static void test_malformed_envelopes(void **state)
{
	static const char *const bodies[] = {
		"{",
		"[]",
		"\"Notification\"",
		"42",
		"null",
		"{}",
		"{\"Type\":\"Notification\"} trailing",
		"{\"Type\":\"Notification\",\"Type\":\"Notification\"}",
		"{\"Type\":7}",
		"{\"Type\":\"notification\"}",
		"{\"Type\":\"Notification \"}",
	};
	static const char *const required[] = {
		"Type",      "MessageId", "TopicArn",       "Message",
		"Timestamp", "Signature", "SigningCertURL",
	};
	json_t *root;
	char *body;

	(void)state;

	assert_parse_refused("", 0, "empty");
	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++)
		assert_parse_refused(bodies[i], strlen(bodies[i]), NULL);
	assert_parse_refused("[]", 2, "not a JSON object");
	assert_parse_refused(bodies[6], strlen(bodies[6]), "follow");
	assert_parse_refused(bodies[7], strlen(bodies[7]), "twice");

	for (size_t i = 0; i < ARRAY_SIZE(required); i++) {
		char missing[64];

		snprintf(missing, sizeof(missing), "%s missing", required[i]);
		body = notification_body_with(required[i], NULL);
		assert_parse_refused(body, strlen(body), missing);
		free(body);

		body = notification_body_with(required[i], json_integer(7));
		assert_parse_refused(body, strlen(body), required[i]);
		free(body);

		body = notification_body_with(required[i], json_null());
		assert_parse_refused(body, strlen(body), required[i]);
		free(body);

		body = notification_body_with(required[i], json_object());
		assert_parse_refused(body, strlen(body), required[i]);
		free(body);
	}

	/* An empty MessageId would pass for a duplicate of the next. */
	for (size_t i = 0; i < 3; i++) {
		char empty[64];

		snprintf(empty, sizeof(empty), "%s is empty", required[i]);
		body = notification_body_with(required[i], json_string(""));
		assert_parse_refused(body, strlen(body), empty);
		free(body);
	}

	body = notification_body_with("UnsubscribeURL", json_true());
	assert_parse_refused(body, strlen(body), "UnsubscribeURL");
	free(body);

	body = notification_body_with("Timestamp", json_string("yesterday"));
	assert_parse_refused(body, strlen(body), "Timestamp");
	free(body);

	/* The Lambda spelling is named in the reason. */
	root = signed_notification(1);
	json_object_set(root, "SigningCertUrl",
			json_object_get(root, "SigningCertURL"));
	json_object_del(root, "SigningCertURL");
	body = dump(root);
	assert_parse_refused(body, strlen(body), "Lambda");
	free(body);
	json_decref(root);

	/* The confirmations need their Token and SubscribeURL. */
	root = envelope_of(SNS_TYPE_SUBSCRIPTION_CONFIRMATION);
	free(testkey_sign_envelope(signer, root, 2, TEST_CERT_URL));
	json_object_del(root, "Token");
	body = dump(root);
	assert_parse_refused(body, strlen(body), "Token missing");
	free(body);
	json_decref(root);

	root = envelope_of(SNS_TYPE_UNSUBSCRIBE_CONFIRMATION);
	free(testkey_sign_envelope(signer, root, 2, TEST_CERT_URL));
	json_object_set_new(root, "SubscribeURL", json_false());
	body = dump(root);
	assert_parse_refused(body, strlen(body), "SubscribeURL");
	free(body);
	json_decref(root);
}

static void test_size_bound(void **state)
{
	size_t len = SNS_ENVELOPE_MAX + 1;
	struct sns_message *msg;
	char *body;
	json_t *root;
	char *big;

	(void)state;

	/* A valid envelope one byte over the bound is refused... */
	big = malloc(len);
	memset(big, 'x', len - 1);
	big[len - 1] = '\0';
	root = signed_notification(1);
	json_object_set_new(root, "Message", json_string(big));
	body = json_dumps(root, JSON_COMPACT);
	assert_true(strlen(body) > SNS_ENVELOPE_MAX);
	assert_parse_refused(body, strlen(body), "1 MiB");
	free(body);

	/* ...and one well under it is read whole. */
	big[300 * 1024] = '\0';
	json_object_set_new(root, "Message", json_string(big));
	body = json_dumps(root, JSON_COMPACT);
	assert_true(strlen(body) < SNS_ENVELOPE_MAX);
	msg = parse_ok(body);
	assert_int_equal(msg->message_len, 300 * 1024);
	sns_message_free(msg);
	free(body);

	json_decref(root);
	free(big);
}

/* Splits an HTTP request in a file into its headers and its body. */
struct http_example {
	char *data;
	char *type;
	char *message_id;
	char *topic_arn;
	const char *body;
};

static char *header_value(char *line, const char *name)
{
	size_t len = strlen(name);

	if (strncasecmp(line, name, len) != 0 || line[len] != ':')
		return NULL;
	line += len + 1;
	while (*line == ' ')
		line++;
	return line;
}

static void read_http(const char *path, struct http_example *example)
{
	size_t split;
	char *line;

	memset(example, 0, sizeof(*example));
	example->data = read_text(path, NULL);
	/* An index, not strstr()'s pointer: GCC 12 at -O2 mistakes the
	 * latter for one into freed memory. */
	split = 0;
	while (example->data[split] != '\0' &&
	       !(example->data[split] == '\n' &&
		 example->data[split + 1] == '\n'))
		split++;
	assert_true(example->data[split] != '\0');
	example->data[split] = '\0';
	example->body = example->data + split + 2;

	for (line = strtok(example->data, "\r\n"); line;
	     line = strtok(NULL, "\r\n")) {
		char *value;

		value = header_value(line, "x-amz-sns-message-type");
		if (value)
			example->type = value;
		value = header_value(line, "x-amz-sns-message-id");
		if (value)
			example->message_id = value;
		value = header_value(line, "x-amz-sns-topic-arn");
		if (value)
			example->topic_arn = value;
	}
	assert_non_null(example->type);
	assert_non_null(example->message_id);
	assert_non_null(example->topic_arn);
}

static void check_docs_example(const char *file, enum sns_type type)
{
	char path[1024];
	struct http_example example;
	struct sns_message *msg;
	const char *reason = NULL;
	char *file_name = NULL;
	EVP_PKEY *key;

	snprintf(path, sizeof(path), "%s/%s", DOCS_DIR, file);
	read_http(path, &example);
	msg = parse_ok(example.body);

	assert_int_equal(msg->type, type);
	assert_string_equal(example.type, sns_type_name(type));
	assert_int_equal(sns_check_headers(msg, example.type,
					   example.message_id,
					   example.topic_arn, &reason),
			 0);
	assert_int_equal(
		sns_cert_url_check(msg->signing_cert_url, &file_name, &reason),
		0);
	assert_string_equal(file_name, "SimpleNotificationService-"
				       "f3ecfb7224c7233fe7bb5f59f96de52f.pem");
	if (type != SNS_TYPE_NOTIFICATION)
		assert_int_equal(
			sns_subscribe_url_check(msg->subscribe_url, &reason),
			0);

	/* The signatures are placeholders: nothing verifies them. */
	reason = NULL;
	assert_int_equal(sns_verify(msg, signer->key, &reason), -EBADMSG);
	assert_non_null(reason);
	key = load_key("SimpleNotificationService-"
		       "56e67fcb41f6fec09b0196692625d385.pem",
		       0, 0);
	assert_int_equal(sns_verify(msg, key, &reason), -EBADMSG);
	EVP_PKEY_free(key);

	/* A header from another message is caught. */
	assert_int_equal(sns_check_headers(msg, example.type,
					   "22b80b92-0000-0000-0000-"
					   "000000000000",
					   example.topic_arn, &reason),
			 -EINVAL);

	free(file_name);
	sns_message_free(msg);
	free(example.data);
}

static void test_docs_examples(void **state)
{
	(void)state;

	check_docs_example("sns-http-notification-example.http",
			   SNS_TYPE_NOTIFICATION);
	check_docs_example("sns-http-subscription-confirmation-example.http",
			   SNS_TYPE_SUBSCRIPTION_CONFIRMATION);
	check_docs_example("sns-http-unsubscribe-confirmation-example.http",
			   SNS_TYPE_UNSUBSCRIBE_CONFIRMATION);
}

struct url_case {
	const char *url;
	const char *file_name; /* NULL when the URL must be refused */
};

#define HOST_E1 "https://sns.us-east-1.amazonaws.com"
#define PEM_ABC "/SimpleNotificationService-abc123.pem"

static const struct url_case cert_url_cases[] = {
	{HOST_E1 PEM_ABC, "SimpleNotificationService-abc123.pem"},
	{HOST_E1 "/SimpleNotificationService-"
		 "bb750dd426d95ee9390147a5624348ee.pem",
	 "SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem"},
	{"HTTPS://SNS.US-EAST-1.AMAZONAWS.COM" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.us-gov-west-1.amazonaws.com" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.cn-north-1.amazonaws.com.cn" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.cn-northwest-1.amazonaws.com.cn" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.ap-southeast-4.amazonaws.com" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.il-central-1.amazonaws.com:443" PEM_ABC,
	 "SimpleNotificationService-abc123.pem"},
	{"https://sns.eu-central-2.amazonaws.com/SimpleNotificationService-"
	 "A.pem",
	 "SimpleNotificationService-A.pem"},

	{"http://sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"ftp://sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https:/sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https:sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"//sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{" https://sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com.evil.com" PEM_ABC, NULL},
	{"https://evil.com/sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://evil.com" PEM_ABC, NULL},
	{"https://sns-us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.amazonaws.com" PEM_ABC, NULL},
	{"https://sns..amazonaws.com" PEM_ABC, NULL},
	{"https://s3.amazonaws.com/sns" PEM_ABC, NULL},
	{"https://s3.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://evilsns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://x.sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.evil.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.evil-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.co" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com.cn" PEM_ABC, NULL},
	{"https://sns.cn-north-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com." PEM_ABC, NULL},
	{"https://user@sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://user:pw@sns.us-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com@evil.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com:443@evil.com" PEM_ABC, NULL},
	{HOST_E1 ":8443" PEM_ABC, NULL},
	{HOST_E1 ":" PEM_ABC, NULL},
	{HOST_E1 ":0443" PEM_ABC, NULL},
	{HOST_E1 ":4430" PEM_ABC, NULL},
	{HOST_E1 ":443:443" PEM_ABC, NULL},
	{"https://[::1]" PEM_ABC, NULL},
	{"https://54.239.28.85" PEM_ABC, NULL},
	{"https://sns%2eus-east-1.amazonaws.com" PEM_ABC, NULL},
	{"https://sns.us-east-1.amazonaws.com\\@evil.com" PEM_ABC, NULL},
	{HOST_E1 "\\SimpleNotificationService-abc123.pem", NULL},
	{HOST_E1 "/" PEM_ABC, NULL},
	{HOST_E1 "/a" PEM_ABC, NULL},
	{HOST_E1 "/./SimpleNotificationService-abc123.pem", NULL},
	{HOST_E1 PEM_ABC "?x=1", NULL},
	{HOST_E1 PEM_ABC "?", NULL},
	{HOST_E1 PEM_ABC "#frag", NULL},
	{HOST_E1 PEM_ABC "/", NULL},
	{HOST_E1 PEM_ABC ".pem", NULL},
	{HOST_E1 "/SimpleNotificationService-.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-abc.PEM", NULL},
	{HOST_E1 "/simplenotificationservice-abc.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-abc-1.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-../x.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-%2e%2e.pem", NULL},
	{HOST_E1 "/%53impleNotificationService-abc.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-abc%00.pem", NULL},
	{HOST_E1 "/SimpleNotificationService-abc .pem", NULL},
	{HOST_E1 "/SimpleNotificationService-abc\t.pem", NULL},
	{HOST_E1 "\xe2\x80\x8b" PEM_ABC, NULL},
	{HOST_E1, NULL},
	{HOST_E1 "/", NULL},
	{"https://", NULL},
	{"https:///SimpleNotificationService-abc.pem", NULL},
	{"", NULL},
};

static void test_cert_url_policy(void **state)
{
	char *sentinel = (char *)"untouched";

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cert_url_cases); i++) {
		const struct url_case *c = &cert_url_cases[i];
		char *file_name = sentinel;
		const char *reason = NULL;
		int r;

		r = sns_cert_url_check(c->url, &file_name, &reason);
		if (c->file_name && r != 0)
			fail_msg("refused %s: %s", c->url, reason);
		if (!c->file_name && r != -EINVAL)
			fail_msg("accepted %s (%d)", c->url, r);

		if (c->file_name) {
			assert_string_equal(file_name, c->file_name);
			free(file_name);
		} else {
			assert_ptr_equal(file_name, sentinel);
			assert_non_null(reason);
		}
	}
}

static void test_cert_url_bounds(void **state)
{
	char url[SNS_URL_MAX + 64];
	char *file_name = NULL;
	const char *reason = NULL;
	char *p;

	(void)state;

	assert_int_equal(sns_cert_url_check(NULL, &file_name, &reason),
			 -EINVAL);

	/* 64 name characters are taken, 65 are not. */
	p = url + sprintf(url, HOST_E1 "/SimpleNotificationService-");
	memset(p, 'a', 64);
	strcpy(p + 64, ".pem");
	assert_int_equal(sns_cert_url_check(url, &file_name, &reason), 0);
	free(file_name);
	memset(p, 'a', 65);
	strcpy(p + 65, ".pem");
	assert_int_equal(sns_cert_url_check(url, &file_name, &reason), -EINVAL);

	/* A URL past SNS_URL_MAX is refused before anything else. */
	memset(p, 'a', sizeof(url) - (size_t)(p - url));
	url[SNS_URL_MAX + 1] = '\0';
	reason = NULL;
	assert_int_equal(sns_cert_url_check(url, &file_name, &reason), -EINVAL);
	assert_string_equal(reason, "URL too long");
}

static void test_subscribe_url_policy(void **state)
{
	static const char *const good[] = {
		"https://sns.us-west-2.amazonaws.com/"
		"?Action=ConfirmSubscription"
		"&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic"
		"&Token=2336412f37fb6",
		"https://sns.us-west-2.amazonaws.com/"
		"?Action=ConfirmSubscription"
		"&TopicArn=arn%3Aaws%3Asns%3Aus-west-2%3A1%3AT&Token=a%2Fb",
		"https://sns.us-gov-west-1.amazonaws.com/?Action=X",
		"https://sns.cn-north-1.amazonaws.com.cn:443/?Action=X",
		"HTTPS://Sns.Eu-West-1.AmazonAWS.com/",
	};
	static const char *const bad[] = {
		("http://sns.us-west-2.amazonaws.com/"
		 "?Action=ConfirmSubscription"),
		"https://sns.us-west-2.amazonaws.com.evil.com/?Action=X",
		"https://evil.com/?https://sns.us-west-2.amazonaws.com/",
		"https://sns.amazonaws.com/?Action=X",
		"https://user@sns.us-west-2.amazonaws.com/?Action=X",
		"https://sns.us-west-2.amazonaws.com:8443/?Action=X",
		"https://sns.us-west-2.amazonaws.com./?Action=X",
		"https://sns.us-west-2.amazonaws.com/?Action=X#frag",
		"https://sns.us-west-2.amazonaws.com?Action=X",
		"https://sns.us-west-2.amazonaws.com",
		"https://sns.us-west-2.amazonaws.com\\?Action=X",
		"https://sns.us-west-2.amazonaws.com/?Action=X Y",
		"https://sns.us-west-2.amazonaws.com/?Action=X\n",
		"",
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const char *reason = NULL;

		if (sns_subscribe_url_check(good[i], &reason) != 0)
			fail_msg("refused %s: %s", good[i], reason);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *reason = NULL;

		if (sns_subscribe_url_check(bad[i], &reason) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(reason);
	}
	assert_int_equal(sns_subscribe_url_check(NULL, NULL), -EINVAL);
}

static void test_region_valid(void **state)
{
	static const char *const good[] = {
		"us-east-1",      "us-west-2",      "us-gov-west-1",
		"us-gov-east-1",  "cn-north-1",     "cn-northwest-1",
		"ap-southeast-4", "ap-northeast-3", "eu-central-2",
		"il-central-1",   "us-isob-east-1", "us-iso-east-1",
		"eu-isoe-west-1", "me-south-1",     "sa-east-1",
		"ca-west-1",      "mx-central-1",   "ap-south-12",
	};
	static const char *const bad[] = {
		"",
		"us",
		"us-east",
		"us-east-",
		"us-east-0",
		"us-east-01",
		"us-east-100",
		"US-EAST-1",
		"us-east-1a",
		"us-east-1.evil",
		"us_east_1",
		"use-east-1",
		"u-east-1",
		"us-up-1",
		"us-gov-west",
		"us-east-1-",
		"-us-east-1",
		"evil.com",
		"us-verylongword-east-1",
		"us-gov-iso-east-1",
		"us-gov--1",
		"us--east-1",
		"us-east--1",
		"us-east-+1",
		"us-east-1\n",
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!sns_region_valid(good[i]))
			fail_msg("refused region %s", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (sns_region_valid(bad[i]))
			fail_msg("accepted region \"%s\"", bad[i]);
	assert_false(sns_region_valid(NULL));
}

static int verify_with_signature(json_t *root, const char *signature)
{
	json_t *copy = json_deep_copy(root);
	char *body;
	int r;

	json_object_set_new(copy, "Signature", json_string(signature));
	body = dump(copy);
	r = verify_body(body, signer->key);
	free(body);
	json_decref(copy);
	return r;
}

static void test_signature_base64_strict(void **state)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz"
				       "0123456789+/";
	json_t *root = signed_notification(2);
	const char *digit;
	const char *good;
	char *variant;
	size_t len;

	(void)state;

	good = json_string_value(json_object_get(root, "Signature"));
	len = strlen(good);
	/* 256 bytes: 344 characters, the last quantum padded twice. */
	assert_int_equal(len, 344);
	assert_string_equal(good + len - 2, "==");
	assert_int_equal(verify_with_signature(root, good), 0);

	variant = calloc(1, len + 8);

	/* Unpadded. */
	memcpy(variant, good, len - 2);
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);

	/* An extra pad. */
	memcpy(variant, good, len);
	strcpy(variant + len, "=");
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);

	/* A line break, as MIME base64 would put one. */
	memcpy(variant, good, 64);
	variant[64] = '\n';
	memcpy(variant + 65, good + 64, len - 64 + 1);
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);

	/* Trailing white space. */
	memcpy(variant, good, len);
	strcpy(variant + len, " ");
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);

	/*
	 * Non-zero unused bits before the pad decode to the same bytes in
	 * lax decoders; canonical base64 refuses them.
	 */
	memcpy(variant, good, len + 1);
	digit = strchr(alphabet, variant[len - 3]);
	assert_non_null(digit);
	assert_int_equal((digit - alphabet) & 15, 0);
	variant[len - 3] = alphabet[(digit - alphabet) ^ 1];
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);

	/* The URL-safe alphabet is another encoding. */
	memcpy(variant, good, len + 1);
	for (size_t i = 0; i < len; i++) {
		if (variant[i] == '+')
			variant[i] = '-';
		if (variant[i] == '/')
			variant[i] = '_';
	}
	if (strcmp(variant, good) != 0)
		assert_int_equal(verify_with_signature(root, variant),
				 -EBADMSG);

	assert_int_equal(verify_with_signature(root, ""), -EBADMSG);
	assert_int_equal(verify_with_signature(root, "===="), -EBADMSG);
	free(variant);

	/* Longer than any RSA signature we accept. */
	variant = malloc(4000 + 1);
	memset(variant, 'A', 4000);
	variant[4000] = '\0';
	assert_int_equal(verify_with_signature(root, variant), -EBADMSG);
	free(variant);

	json_decref(root);
}

static void test_verify_refuses_odd_inputs(void **state)
{
	struct sns_message *msg;
	const char *reason = NULL;
	EVP_PKEY *ec;
	json_t *root;
	char *body;

	(void)state;

	root = signed_notification(2);
	body = dump(root);
	msg = parse_ok(body);

	ec = EVP_EC_gen("P-256");
	assert_non_null(ec);
	assert_int_equal(sns_verify(msg, ec, &reason), -EINVAL);
	assert_non_null(strstr(reason, "RSA"));
	EVP_PKEY_free(ec);

	msg->signature_version = 3;
	reason = NULL;
	assert_int_equal(sns_verify(msg, signer->key, &reason), -EINVAL);
	assert_non_null(reason);
	msg->signature_version = 2;
	assert_int_equal(sns_verify(msg, signer->key, NULL), 0);

	/* A message built by hand without its Message cannot be signed. */
	free(msg->message);
	msg->message = NULL;
	assert_int_not_equal(sns_verify(msg, signer->key, NULL), 0);

	sns_message_free(msg);
	free(body);
	json_decref(root);
}

static void test_type_names(void **state)
{
	(void)state;

	assert_string_equal(sns_type_name(SNS_TYPE_NOTIFICATION),
			    "Notification");
	assert_string_equal(sns_type_name(SNS_TYPE_SUBSCRIPTION_CONFIRMATION),
			    "SubscriptionConfirmation");
	assert_string_equal(sns_type_name(SNS_TYPE_UNSUBSCRIBE_CONFIRMATION),
			    "UnsubscribeConfirmation");
	assert_null(sns_type_name((enum sns_type)42));
	sns_message_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_cloudwatch_alarm),
		cmocka_unit_test(test_real_sdk_sample),
		cmocka_unit_test(test_real_tampered),
		cmocka_unit_test(test_string_to_sign),
		cmocka_unit_test(test_string_to_sign_real),
		cmocka_unit_test(test_signature_version_refused),
		cmocka_unit_test(test_signed_types_and_versions),
		cmocka_unit_test(test_notification_without_subject),
		cmocka_unit_test(test_unicode_and_escapes),
		cmocka_unit_test(test_nul_and_encoding_refused),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_malformed_envelopes),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_docs_examples),
		cmocka_unit_test(test_cert_url_policy),
		cmocka_unit_test(test_cert_url_bounds),
		cmocka_unit_test(test_subscribe_url_policy),
		cmocka_unit_test(test_region_valid),
		cmocka_unit_test(test_signature_base64_strict),
		cmocka_unit_test(test_verify_refuses_odd_inputs),
		cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
