/*
 * Unit tests for lib/pdwebhook.c, on PagerDuty's published v3 sample
 * delivery and on variants of it built here.
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
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pdwebhook.h"
#include "util.h"

#define FIXTURE                                                                \
	FIXTURES_DIR "/pagerduty/"                                             \
		     "pagerduty-webhook-v3-incident-priority_updated.json"

/*
 * Known answers computed outside this program, with
 *   openssl dgst -sha256 -hmac SECRET FILE
 * and checked against Python's hmac module.
 */
#define FIXTURE_SECRET "whsec-alertbridge-test"
#define FIXTURE_SIGNATURE                                                      \
	"2bb5b0a248a32a44170912713ce590439df74b12c225627858e506b255674d0a"

#define SHORT_SECRET "correct horse battery staple"
#define SHORT_BODY   "{\"event\":{\"event_type\":\"incident.acknowledged\"}}"
#define SHORT_SIGNATURE                                                        \
	"32358ca4782eb1ab15eff18c7aca50415d1657f0925a7c310ca6127452926e66"
#define EMPTY_SIGNATURE                                                        \
	"101408a980bd2fd8511425e0f883ff9d6f7ee1b2d1248f78d8b9f39e0ccdb432"

/* A well-formed signature that is nobody's. */
#define WRONG_SIGNATURE                                                        \
	"f03de6f61df6e454f3620c4d6aca17ad072d3f8bbb2760eac3b2ad391b5e8073"

/* 2020-10-02T18:45:22.169Z, the fixture's occurred_at. */
#define FIXTURE_OCCURRED_MS INT64_C(1601664322169)

static char *read_fixture(size_t *ret_len)
{
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(util_read_file(FIXTURE, 1024 * 1024, &data, &len), 0);
	*ret_len = len;
	return data;
}

static json_t *load_fixture(void)
{
	json_error_t error;
	json_t *root = json_load_file(FIXTURE, 0, &error);

	assert_non_null(root);
	return root;
}

static json_t *fixture_event(json_t *root)
{
	json_t *event = json_object_get(root, "event");

	assert_true(json_is_object(event));
	return event;
}

static json_t *fixture_data(json_t *root)
{
	json_t *data = json_object_get(fixture_event(root), "data");

	assert_true(json_is_object(data));
	return data;
}

/* Parses root's serialisation, which must succeed. */
static struct pdwebhook_event *parse_json(const json_t *root)
{
	struct pdwebhook_event *event = NULL;
	const char *reason = NULL;
	char *body = json_dumps(root, JSON_COMPACT);

	assert_non_null(body);
	assert_int_equal(pdwebhook_parse(body, strlen(body), &event, &reason),
			 0);
	assert_non_null(event);
	free(body);
	return event;
}

/* Parses a literal body, which must fail with want. */
static void parse_fails(const char *body, size_t len, int want)
{
	static struct pdwebhook_event sentinel;
	struct pdwebhook_event *event = &sentinel;
	const char *reason = NULL;

	assert_int_equal(pdwebhook_parse(body, len, &event, &reason), want);
	assert_ptr_equal(event, &sentinel);
	assert_non_null(reason);
}

/* HMAC-SHA256 in lower-case hex, computed here with OpenSSL. */
static void sign(const char *body, size_t len, const char *secret, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret),
			     (const unsigned char *)body, len, mac, &mac_len));
	assert_int_equal(mac_len, 32);
	for (unsigned int i = 0; i < mac_len; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 0x0f];
	}
	out[64] = '\0';
}

static int verify(const char *body, size_t len, const char *header,
		  const char *secret)
{
	const char *reason = NULL;
	int r = pdwebhook_verify(body, len, header, secret, &reason);

	if (r < 0)
		assert_non_null(reason);
	return r;
}

static void test_fixture_parses(void **state)
{
	struct pdwebhook_event *event = NULL;
	const char *reason = NULL;
	size_t len;
	char *body = read_fixture(&len);

	(void)state;

	assert_int_equal(pdwebhook_parse(body, len, &event, &reason), 0);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_OTHER);
	assert_string_equal(event->event_type, "incident.priority_updated");
	assert_string_equal(event->id, "5ac64822-4adc-4fda-ade0-410becf0de4f");
	assert_string_equal(event->resource_type, "incident");
	assert_true(event->occurred_at_ms == FIXTURE_OCCURRED_MS);
	assert_string_equal(event->agent_summary, "Tenex Engineer");
	assert_string_equal(event->agent_id, "PLH1HKV");
	assert_string_equal(event->agent_type, "user_reference");
	assert_string_equal(event->incident_id, "PGR0VU2");
	assert_string_equal(event->incident_key,
			    "d3640fbd41094207a1c11e58e46b1662");
	assert_string_equal(event->incident_status, "triggered");
	assert_string_equal(event->title, "A little bump in the road");
	assert_string_equal(event->html_url,
			    "https://acme.pagerduty.com/incidents/PGR0VU2");

	pdwebhook_event_free(event);
	free(body);
}

static void test_event_types(void **state)
{
	static const struct {
		const char *event_type;
		enum pdwebhook_event_type want;
	} cases[] = {
		{"incident.acknowledged", PDWEBHOOK_EVENT_ACKNOWLEDGED},
		{"incident.resolved", PDWEBHOOK_EVENT_RESOLVED},
		{"incident.unacknowledged", PDWEBHOOK_EVENT_UNACKNOWLEDGED},
		{"incident.reopened", PDWEBHOOK_EVENT_REOPENED},
		{"incident.triggered", PDWEBHOOK_EVENT_OTHER},
		{"incident.escalated", PDWEBHOOK_EVENT_OTHER},
		{"incident.annotated", PDWEBHOOK_EVENT_OTHER},
		/* Event types are matched exactly. */
		{"INCIDENT.ACKNOWLEDGED", PDWEBHOOK_EVENT_OTHER},
		{"incident.acknowledged ", PDWEBHOOK_EVENT_OTHER},
		{"incident.resolved.extra", PDWEBHOOK_EVENT_OTHER},
		{"incident", PDWEBHOOK_EVENT_OTHER},
	};
	json_t *root = load_fixture();

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct pdwebhook_event *event;

		assert_int_equal(
			json_object_set_new(fixture_event(root), "event_type",
					    json_string(cases[i].event_type)),
			0);
		event = parse_json(root);
		assert_int_equal(event->type, cases[i].want);
		assert_string_equal(event->event_type, cases[i].event_type);
		assert_string_equal(event->incident_key,
				    "d3640fbd41094207a1c11e58e46b1662");
		assert_string_equal(event->agent_summary, "Tenex Engineer");
		pdwebhook_event_free(event);
	}

	json_decref(root);
}

/* Only incident events act on an escalation chain. */
static void test_resource_type(void **state)
{
	json_t *root = load_fixture();
	json_t *ev = fixture_event(root);
	struct pdwebhook_event *event;

	(void)state;

	json_object_set_new(ev, "event_type",
			    json_string("incident.acknowledged"));

	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_ACKNOWLEDGED);
	pdwebhook_event_free(event);

	json_object_set_new(ev, "resource_type", json_string("service"));
	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_OTHER);
	assert_string_equal(event->resource_type, "service");
	pdwebhook_event_free(event);

	json_object_set_new(ev, "resource_type", json_integer(1));
	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_OTHER);
	assert_null(event->resource_type);
	pdwebhook_event_free(event);

	json_object_del(ev, "resource_type");
	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_OTHER);
	pdwebhook_event_free(event);

	json_decref(root);
}

/* PagerDuty sends "agent": null when nobody acted. */
static void test_null_agent(void **state)
{
	json_t *root = load_fixture();
	json_t *ev = fixture_event(root);
	json_t *agent;
	struct pdwebhook_event *event;

	(void)state;

	json_object_set_new(ev, "event_type", json_string("incident.resolved"));

	json_object_set_new(ev, "agent", json_null());
	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_RESOLVED);
	assert_null(event->agent_summary);
	assert_null(event->agent_id);
	assert_null(event->agent_type);
	assert_string_equal(event->incident_key,
			    "d3640fbd41094207a1c11e58e46b1662");
	pdwebhook_event_free(event);

	json_object_del(ev, "agent");
	event = parse_json(root);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_RESOLVED);
	assert_null(event->agent_summary);
	pdwebhook_event_free(event);

	agent = json_pack("{s:i, s:s, s:s}", "summary", 7, "id", "PABC123",
			  "type", "service_reference");
	assert_non_null(agent);
	json_object_set_new(ev, "agent", agent);
	event = parse_json(root);
	assert_null(event->agent_summary);
	assert_string_equal(event->agent_id, "PABC123");
	assert_string_equal(event->agent_type, "service_reference");
	pdwebhook_event_free(event);

	json_decref(root);
}

static void test_incident_key(void **state)
{
	json_t *root = load_fixture();
	json_t *data = fixture_data(root);
	struct pdwebhook_event *event;
	char key[PDWEBHOOK_INCIDENT_KEY_MAX + 2];

	(void)state;

	json_object_del(data, "incident_key");
	event = parse_json(root);
	assert_null(event->incident_key);
	assert_string_equal(event->incident_id, "PGR0VU2");
	pdwebhook_event_free(event);

	json_object_set_new(data, "incident_key", json_null());
	event = parse_json(root);
	assert_null(event->incident_key);
	pdwebhook_event_free(event);

	json_object_set_new(data, "incident_key", json_string(""));
	event = parse_json(root);
	assert_null(event->incident_key);
	pdwebhook_event_free(event);

	/* PagerDuty's longest dedup_key is kept whole... */
	memset(key, 'k', sizeof(key));
	key[PDWEBHOOK_INCIDENT_KEY_MAX] = '\0';
	json_object_set_new(data, "incident_key", json_string(key));
	event = parse_json(root);
	assert_string_equal(event->incident_key, key);
	pdwebhook_event_free(event);

	/* ...and a longer one, which cannot be ours, is not cut to fit. */
	key[PDWEBHOOK_INCIDENT_KEY_MAX] = 'k';
	key[PDWEBHOOK_INCIDENT_KEY_MAX + 1] = '\0';
	json_object_set_new(data, "incident_key", json_string(key));
	event = parse_json(root);
	assert_null(event->incident_key);
	pdwebhook_event_free(event);

	json_decref(root);
}

/* The incident fields come only from an incident object. */
static void test_data_shapes(void **state)
{
	json_t *root = load_fixture();
	json_t *ev = fixture_event(root);
	json_t *data = fixture_data(root);
	struct pdwebhook_event *event;

	(void)state;

	json_object_del(data, "type");
	event = parse_json(root);
	assert_string_equal(event->incident_key,
			    "d3640fbd41094207a1c11e58e46b1662");
	pdwebhook_event_free(event);

	json_object_set_new(data, "type", json_string("incident_note"));
	event = parse_json(root);
	assert_null(event->incident_id);
	assert_null(event->incident_key);
	assert_null(event->html_url);
	assert_string_equal(event->agent_summary, "Tenex Engineer");
	pdwebhook_event_free(event);

	json_object_set_new(ev, "data", json_string("PGR0VU2"));
	event = parse_json(root);
	assert_null(event->incident_id);
	assert_null(event->incident_key);
	pdwebhook_event_free(event);

	json_object_del(ev, "data");
	event = parse_json(root);
	assert_null(event->incident_key);
	assert_string_equal(event->id, "5ac64822-4adc-4fda-ade0-410becf0de4f");
	pdwebhook_event_free(event);

	json_decref(root);
}

static void test_occurred_at(void **state)
{
	json_t *root = load_fixture();
	json_t *ev = fixture_event(root);
	struct pdwebhook_event *event;

	(void)state;

	/* The shape of PagerDuty's service.updated sample. */
	json_object_set_new(ev, "occurred_at",
			    json_string("2021-03-02T13:35:11.682Z"));
	event = parse_json(root);
	assert_true(event->occurred_at_ms == INT64_C(1614692111682));
	pdwebhook_event_free(event);

	json_object_set_new(ev, "occurred_at", json_string("yesterday"));
	event = parse_json(root);
	assert_true(event->occurred_at_ms == 0);
	pdwebhook_event_free(event);

	json_object_set_new(ev, "occurred_at", json_integer(1601664322));
	event = parse_json(root);
	assert_true(event->occurred_at_ms == 0);
	pdwebhook_event_free(event);

	json_object_del(ev, "occurred_at");
	event = parse_json(root);
	assert_true(event->occurred_at_ms == 0);
	pdwebhook_event_free(event);

	json_decref(root);
}

static void test_minimal_body(void **state)
{
	static const char body[] = "{\"event\":{\"event_type\":"
				   "\"incident.acknowledged\","
				   "\"resource_type\":\"incident\"}}";
	struct pdwebhook_event *event = NULL;

	(void)state;

	assert_int_equal(pdwebhook_parse(body, strlen(body), &event, NULL), 0);
	assert_int_equal(event->type, PDWEBHOOK_EVENT_ACKNOWLEDGED);
	assert_null(event->id);
	assert_null(event->agent_summary);
	assert_null(event->incident_id);
	assert_null(event->incident_key);
	assert_null(event->html_url);
	assert_true(event->occurred_at_ms == 0);
	pdwebhook_event_free(event);
}

static void test_field_bounds(void **state)
{
	json_t *root = load_fixture();
	json_t *ev = fixture_event(root);
	json_t *data = fixture_data(root);
	struct pdwebhook_event *event;
	char *text, *body;
	size_t n = 700; /* 700 two-byte characters: 1400 bytes */

	(void)state;

	text = malloc(2 * n + 2);
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		memcpy(text + 2 * i, "\xc3\xa9", 2);
	text[2 * n] = '\0';

	/* Display text is cut on a character boundary... */
	json_object_set_new(data, "title", json_string(text));
	event = parse_json(root);
	assert_int_equal(strlen(event->title), PDWEBHOOK_TEXT_MAX);
	assert_true(util_utf8_valid(event->title, strlen(event->title)));
	pdwebhook_event_free(event);

	/* ...and one byte less still ends on one. */
	memmove(text + 1, text, 2 * n + 1);
	text[0] = 'a';
	json_object_set_new(data, "title", json_string(text));
	event = parse_json(root);
	assert_int_equal(strlen(event->title), PDWEBHOOK_TEXT_MAX - 1);
	assert_true(util_utf8_valid(event->title, strlen(event->title)));
	pdwebhook_event_free(event);
	free(text);

	/* A URL past its bound is dropped, not cut. */
	text = malloc(PDWEBHOOK_URL_MAX + 2);
	assert_non_null(text);
	memset(text, 'u', PDWEBHOOK_URL_MAX + 1);
	text[PDWEBHOOK_URL_MAX + 1] = '\0';
	json_object_set_new(data, "html_url", json_string(text));
	event = parse_json(root);
	assert_null(event->html_url);
	assert_non_null(event->incident_key);
	pdwebhook_event_free(event);
	free(text);

	/* An event type past its bound is no event type. */
	text = malloc(PDWEBHOOK_ID_MAX + 2);
	assert_non_null(text);
	memset(text, 't', PDWEBHOOK_ID_MAX + 1);
	text[PDWEBHOOK_ID_MAX + 1] = '\0';
	json_object_set_new(ev, "event_type", json_string(text));
	body = json_dumps(root, JSON_COMPACT);
	assert_non_null(body);
	parse_fails(body, strlen(body), -EINVAL);
	free(body);
	free(text);

	json_decref(root);
}

static void test_malformed_bodies(void **state)
{
	static const char *const bodies[] = {
		"",
		"{",
		"not json",
		"[]",
		"null",
		"\"incident.acknowledged\"",
		"{}",
		"{\"event\":null}",
		"{\"event\":[]}",
		"{\"event\":\"incident.acknowledged\"}",
		"{\"event\":{}}",
		"{\"event\":{\"event_type\":null}}",
		"{\"event\":{\"event_type\":5}}",
		"{\"event\":{\"event_type\":\"\"}}",
		"{\"event\":{\"event_type\":[\"incident.resolved\"]}}",
		"{\"data\":{\"event_type\":\"incident.resolved\"}}",
		"{\"event_type\":\"incident.resolved\"}",
		/* Trailing data after the object. */
		"{\"event\":{\"event_type\":\"incident.resolved\"}} x",
		"{\"event\":{\"event_type\":\"incident.resolved\"}}{}",
		/* Duplicate keys, which parsers resolve differently. */
		("{\"event\":{\"event_type\":\"incident.triggered\","
		 "\"event_type\":\"incident.resolved\"}}"),
		/* A NUL escaped into a string. */
		"{\"event\":{\"event_type\":\"incident.resolved\\u0000x\"}}",
		/* Invalid UTF-8. */
		"{\"event\":{\"event_type\":\"incident.\xff\"}}",
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bodies); i++)
		parse_fails(bodies[i], strlen(bodies[i]), -EINVAL);

	/* The length given is what is read, not up to a NUL. */
	parse_fails(SHORT_BODY, strlen(SHORT_BODY) - 1, -EINVAL);
	parse_fails(NULL, 0, -EINVAL);
}

static void test_body_bound(void **state)
{
	size_t len = PDWEBHOOK_BODY_MAX + 1;
	char *body = malloc(len);

	(void)state;

	assert_non_null(body);
	memset(body, ' ', len);
	memcpy(body, SHORT_BODY, strlen(SHORT_BODY));
	parse_fails(body, len, -EFBIG);
	free(body);
}

static void test_free_null(void **state)
{
	(void)state;

	pdwebhook_event_free(NULL);
}

static void test_verify_known_answers(void **state)
{
	size_t len;
	char *body = read_fixture(&len);

	(void)state;

	assert_int_equal(
		verify(body, len, "v1=" FIXTURE_SIGNATURE, FIXTURE_SECRET), 0);
	assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
				"v1=" SHORT_SIGNATURE, SHORT_SECRET),
			 0);
	assert_int_equal(verify(NULL, 0, "v1=" EMPTY_SIGNATURE, SHORT_SECRET),
			 0);
	assert_int_equal(verify("", 0, "v1=" EMPTY_SIGNATURE, SHORT_SECRET), 0);
	assert_int_equal(pdwebhook_verify(SHORT_BODY, strlen(SHORT_BODY),
					  "v1=" SHORT_SIGNATURE, SHORT_SECRET,
					  NULL),
			 0);

	/* The signatures are not interchangeable. */
	assert_int_equal(
		verify(body, len, "v1=" SHORT_SIGNATURE, FIXTURE_SECRET),
		-EPERM);
	assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
				"v1=" EMPTY_SIGNATURE, SHORT_SECRET),
			 -EPERM);
	free(body);
}

/* Deliveries adapted from the fixture, signed here. */
static void test_verify_signed_here(void **state)
{
	static const char *const types[] = {
		"incident.acknowledged",
		"incident.resolved",
		"incident.unacknowledged",
		"incident.reopened",
	};
	json_t *root = load_fixture();

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		char signature[65], header[80];
		char *body;

		json_object_set_new(fixture_event(root), "event_type",
				    json_string(types[i]));
		body = json_dumps(root, JSON_INDENT(2));
		assert_non_null(body);

		sign(body, strlen(body), "another secret", signature);
		snprintf(header, sizeof(header), "v1=%s", signature);
		assert_int_equal(
			verify(body, strlen(body), header, "another secret"),
			0);
		assert_int_equal(
			verify(body, strlen(body), header, FIXTURE_SECRET),
			-EPERM);
		free(body);
	}

	json_decref(root);
}

static void test_verify_rotation(void **state)
{
	static const char *const good[] = {
		"v1=" WRONG_SIGNATURE ",v1=" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE ",v1=" WRONG_SIGNATURE,
		"v1=" WRONG_SIGNATURE ", v1=" SHORT_SIGNATURE,
		"v1=" WRONG_SIGNATURE ",\tv1=" SHORT_SIGNATURE " ",
		" v1=" SHORT_SIGNATURE,
		"v2=anything-at-all,v1=" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE ",v2=" WRONG_SIGNATURE,
		"v10=x,v1=" SHORT_SIGNATURE,
	};
	static const char *const bad[] = {
		"v1=" WRONG_SIGNATURE,
		"v1=" WRONG_SIGNATURE ",v1=" EMPTY_SIGNATURE,
		/* The right digest under another version does not count. */
		"v2=" SHORT_SIGNATURE ",v1=" WRONG_SIGNATURE,
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY), good[i],
					SHORT_SECRET),
				 0);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY), bad[i],
					SHORT_SECRET),
				 -EPERM);
}

static void test_verify_wrong_secret(void **state)
{
	static const char *const secrets[] = {
		"correct horse battery stapl",
		"correct horse battery staple ",
		"Correct horse battery staple",
		"x",
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
					"v1=" SHORT_SIGNATURE, secrets[i]),
				 -EPERM);
}

static void test_verify_altered_body(void **state)
{
	size_t len;
	char *body = read_fixture(&len);
	const char *header = "v1=" FIXTURE_SIGNATURE;
	size_t positions[] = {0, len / 2, len - 1};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(positions); i++) {
		body[positions[i]] ^= 0x01;
		assert_int_equal(verify(body, len, header, FIXTURE_SECRET),
				 -EPERM);
		body[positions[i]] ^= 0x01;
		assert_int_equal(verify(body, len, header, FIXTURE_SECRET), 0);
	}

	/* A shortened body, as a relay that drops a newline makes it. */
	assert_int_equal(verify(body, len - 1, header, FIXTURE_SECRET), -EPERM);
	free(body);
}

/* Every digit counts: near misses at either end fail. */
static void test_verify_near_miss(void **state)
{
	static const size_t positions[] = {0, 31, 32, 63};
	char header[80];

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(positions); i++) {
		char *digit;

		snprintf(header, sizeof(header), "v1=%s", SHORT_SIGNATURE);
		digit = header + 3 + positions[i];
		*digit = *digit == '0' ? '1' : '0';
		assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY), header,
					SHORT_SECRET),
				 -EPERM);
	}
}

/* PagerDuty sends lower case; upper case encodes the same digest. */
static void test_verify_upper_case(void **state)
{
	char header[80];

	(void)state;

	snprintf(header, sizeof(header), "v1=%s", SHORT_SIGNATURE);
	for (char *p = header + 3; *p; p++) {
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	}
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		0);

	/* Only the digits' case is free; the prefix is "v1=". */
	header[0] = 'V';
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);
}

static void test_verify_malformed(void **state)
{
	static const char *const headers[] = {
		"",
		"   ",
		"v1=",
		"v1",
		"v1=zz" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE "0",
		"v1=" SHORT_SIGNATURE " 0",
		/* The right digest, but no v1 entry. */
		"v0=" SHORT_SIGNATURE,
		"v2=" SHORT_SIGNATURE,
		"v2=" SHORT_SIGNATURE ",v3=" SHORT_SIGNATURE,
		/* The right digest in entries of the wrong shape. */
		SHORT_SIGNATURE,
		"v1" SHORT_SIGNATURE,
		"v=" SHORT_SIGNATURE,
		"x1=" SHORT_SIGNATURE,
		"v1 =" SHORT_SIGNATURE,
		"v1:" SHORT_SIGNATURE,
		"sha256=" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE ",",
		",v1=" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE ",,v1=" SHORT_SIGNATURE,
		"v1=" SHORT_SIGNATURE ";v1=" WRONG_SIGNATURE,
		"v1=" SHORT_SIGNATURE ",v1=" WRONG_SIGNATURE "x",
		"v1=" SHORT_SIGNATURE ",garbage",
	};

	char header[80];

	(void)state;

	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), NULL, SHORT_SECRET),
		-EBADMSG);

	/* 64 characters, not all of them hex digits. */
	snprintf(header, sizeof(header), "v1=%s", SHORT_SIGNATURE);
	header[3] = 'z';
	header[4] = 'z';
	assert_int_equal(strlen(header), 3 + 64);
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);
	header[3] = '3';
	header[4] = '2';
	header[40] = ' ';
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);

	/* 63 digits. */
	snprintf(header, sizeof(header), "v1=%s", SHORT_SIGNATURE);
	header[3 + 63] = '\0';
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);

	for (size_t i = 0; i < ARRAY_SIZE(headers); i++)
		assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
					headers[i], SHORT_SECRET),
				 -EBADMSG);
}

/* Appends ",v1=<signature>" entries until n entries are in buf. */
static void repeat_entries(char *buf, size_t size, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);

		snprintf(buf + used, size - used, "%sv1=%s", i ? "," : "",
			 i + 1 == n ? SHORT_SIGNATURE : WRONG_SIGNATURE);
	}
}

static void test_verify_bounds(void **state)
{
	char header[PDWEBHOOK_HEADER_MAX + 64];
	const char *tail = ",v1=" SHORT_SIGNATURE;
	size_t fill;

	(void)state;

	/* As many entries as allowed, the right one last. */
	repeat_entries(header, sizeof(header), PDWEBHOOK_ENTRIES_MAX);
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		0);

	/* Entries of other versions count towards the bound too. */
	header[0] = '\0';
	for (size_t i = 0; i < PDWEBHOOK_ENTRIES_MAX; i++)
		strcat(header, "v2=x,");
	strcat(header, "v1=" SHORT_SIGNATURE);
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);

	/* One entry too many, though short enough. */
	repeat_entries(header, sizeof(header), PDWEBHOOK_ENTRIES_MAX + 1);
	assert_true(strlen(header) < PDWEBHOOK_HEADER_MAX);
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);

	/* A header of exactly the longest length, the right entry last. */
	fill = PDWEBHOOK_HEADER_MAX - strlen(tail) - strlen("v2=");
	memcpy(header, "v2=", 3);
	memset(header + 3, 'a', fill);
	strcpy(header + 3 + fill, tail);
	assert_int_equal(strlen(header), PDWEBHOOK_HEADER_MAX);
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		0);

	/* One byte more. */
	memmove(header + 1, header, strlen(header) + 1);
	header[0] = ' ';
	assert_int_equal(
		verify(SHORT_BODY, strlen(SHORT_BODY), header, SHORT_SECRET),
		-EBADMSG);
}

static void test_verify_caller_errors(void **state)
{
	char long_secret[PDWEBHOOK_SECRET_MAX + 2];

	(void)state;

	assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
				"v1=" SHORT_SIGNATURE, NULL),
			 -EINVAL);
	assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
				"v1=" SHORT_SIGNATURE, ""),
			 -EINVAL);
	assert_int_equal(verify(NULL, 5, "v1=" SHORT_SIGNATURE, SHORT_SECRET),
			 -EINVAL);

	memset(long_secret, 's', sizeof(long_secret) - 1);
	long_secret[sizeof(long_secret) - 1] = '\0';
	assert_int_equal(verify(SHORT_BODY, strlen(SHORT_BODY),
				"v1=" SHORT_SIGNATURE, long_secret),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_parses),
		cmocka_unit_test(test_event_types),
		cmocka_unit_test(test_resource_type),
		cmocka_unit_test(test_null_agent),
		cmocka_unit_test(test_incident_key),
		cmocka_unit_test(test_data_shapes),
		cmocka_unit_test(test_occurred_at),
		cmocka_unit_test(test_minimal_body),
		cmocka_unit_test(test_field_bounds),
		cmocka_unit_test(test_malformed_bodies),
		cmocka_unit_test(test_body_bound),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test(test_verify_known_answers),
		cmocka_unit_test(test_verify_signed_here),
		cmocka_unit_test(test_verify_rotation),
		cmocka_unit_test(test_verify_wrong_secret),
		cmocka_unit_test(test_verify_altered_body),
		cmocka_unit_test(test_verify_near_miss),
		cmocka_unit_test(test_verify_upper_case),
		cmocka_unit_test(test_verify_malformed),
		cmocka_unit_test(test_verify_bounds),
		cmocka_unit_test(test_verify_caller_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
