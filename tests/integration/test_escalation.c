/*
 * The runbook's escalation path against the real daemon, on a clock the
 * test moves: primary at once, secondary at 15 minutes, the engineering
 * manager at 30, the VP at 30 for critical incidents only; stopped by a
 * signed PagerDuty webhook, the API, or an OK; across restarts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sqlite3.h>

#include "scenario.h"
#include "store.h"

#define MIN (60 * 1000LL)
#define WEBHOOK                                                                \
	FIXTURES_DIR "/pagerduty/"                                             \
		     "pagerduty-webhook-v3-incident-priority_updated.json"

static int setup(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	return s && scenario_start_escalation(s, NULL) == 0 ? 0 : -1;
}

static int setup_silenced(void **state)
{
	/* A maintenance window from T+1m to T+10m for alarms "db-*". */
	static const char silences[] = "silences:\n"
				       "  - name: db-maintenance\n"
				       "    match: {name: \"db-*\"}\n"
				       "    start: 2022-09-25T18:52:00Z\n"
				       "    end: 2022-09-25T19:01:00Z\n";
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	return s && scenario_start_escalation(s, silences) == 0 ? 0 : -1;
}

static void at(struct scenario *s, int64_t offset_ms)
{
	assert_int_equal(scenario_set_clock(s, offset_ms), 0);
}

static void raise_alarm(struct scenario *s, const char *name, const char *state,
			int64_t offset_ms)
{
	char *message = scenario_alarm(name, state, offset_ms);

	assert_int_equal(scenario_post(s, message), 200);
	free(message);
}

static const char *field(json_t *event, const char *name)
{
	return json_string_value(json_object_get(event, name));
}

/* Requests so far to routing_key with action (NULL: any) for name. */
static int count(struct scenario *s, const char *routing_key,
		 const char *action, const char *name)
{
	char key[256];
	size_t n = fakepd_count(s->pd);
	int found = 0;

	scenario_dedup_key(name, key);
	for (size_t i = 0; i < n; i++) {
		json_t *event = fakepd_request(s->pd, i);

		if (strcmp(field(event, "routing_key"), routing_key) == 0 &&
		    strncmp(field(event, "dedup_key"), key, strlen(key)) == 0 &&
		    (!action ||
		     strcmp(field(event, "event_action"), action) == 0))
			found++;
		json_decref(event);
	}
	return found;
}

static void wait_count(struct scenario *s, const char *routing_key,
		       const char *action, const char *name, int want)
{
	int64_t deadline = harness_mono_ms() + 10000;

	while (count(s, routing_key, action, name) < want) {
		if (harness_mono_ms() >= deadline)
			fail_msg("no %s to %.12s for %s",
				 action ? action : "event", routing_key, name);
		fakepd_wait(s->pd, fakepd_count(s->pd) + 1, 50);
	}
}

/*
 * Waits until no escalation timer is pending and nothing waits in the
 * outbox: from then on nothing can be paged without a new event.
 */
static void settle(struct scenario *s)
{
	int64_t deadline = harness_mono_ms() + 10000;

	for (;;) {
		if (harness_metric(&s->h,
				   "alertbridge_escalation_timers_pending") ==
			    0 &&
		    harness_metric(&s->h, "alertbridge_outbox_depth") == 0 &&
		    harness_metric(&s->h, "alertbridge_deliveries_in_flight") ==
			    0)
			return;
		assert_true(harness_mono_ms() < deadline);
		harness_pause_ms(50);
	}
}

/* The real webhook body, adapted, signed with secret; NULL: unsigned. */
static long webhook(struct scenario *s, const char *type, const char *name,
		    const char *webhook_id, const char *secret,
		    struct harness_response *r)
{
	json_t *body = json_load_file(WEBHOOK, 0, NULL);
	json_t *event = json_object_get(body, "event");
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char header[160] = "X-PagerDuty-Signature: v1=";
	char id_header[96];
	const char *headers[3];
	char key[256];
	char *text;

	scenario_dedup_key(name, key);
	json_object_set_new(event, "event_type", json_string(type));
	json_object_set_new(json_object_get(event, "data"), "incident_key",
			    json_string(key));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	     (const unsigned char *)text, strlen(text), mac, &mac_len);
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(header + strlen(header), 3, "%02x", mac[i]);
	snprintf(id_header, sizeof(id_header), "X-Webhook-Id: %s", webhook_id);
	headers[0] = header;
	headers[1] = id_header;
	headers[2] = NULL;

	assert_int_equal(harness_post(&s->h, "/pagerduty/webhook", text,
				      strlen(text), headers, r),
			 0);
	free(text);
	return r->status;
}

static long api(struct scenario *s, const char *name, const char *verb,
		struct harness_response *r)
{
	const char *headers[] = {"Authorization: Bearer " HARNESS_API_TOKEN,
				 NULL};
	char key[256];
	char *escaped;
	char path[512];

	scenario_dedup_key(name, key);
	escaped = curl_easy_escape(NULL, key, 0);
	snprintf(path, sizeof(path), "/api/incidents/%s/%s", escaped, verb);
	curl_free(escaped);
	assert_int_equal(harness_post(&s->h, path, "", 0, headers, r), 0);
	return r->status;
}

static void test_critical_pages_the_whole_path(void **state)
{
	struct scenario *s = *state;
	json_t *event;

	raise_alarm(s, "crit-a", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-a", 1);

	at(s, 15 * MIN - 1000);
	at(s, 15 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-a", 1);

	/* The secondary's page says which level and since when. */
	event = fakepd_request(s->pd, fakepd_count(s->pd) - 1);
	assert_string_equal(field(event, "dedup_key"),
			    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
			    "crit-a/level-2");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(event, "payload"),
					"custom_details"),
			"escalation_level")),
		2);
	json_decref(event);

	at(s, 30 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-a", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-a", 1);

	at(s, 90 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "crit-a"), 1);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-a"), 1);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-a"), 1);
	assert_int_equal(count(s, HARNESS_KEY_VP, NULL, "crit-a"), 1);
}

static void test_warning_never_pages_the_vp(void **state)
{
	struct scenario *s = *state;

	raise_alarm(s, "warn-b", "ALARM", 0);
	at(s, 30 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "warn-b", 1);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "warn-b"), 1);
	assert_int_equal(count(s, HARNESS_KEY_VP, NULL, "warn-b"), 0);
}

static void test_webhook_ack_stops_it(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	raise_alarm(s, "crit-c", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-c", 1);
	at(s, 14 * MIN);

	/* A wrong signature is refused and changes nothing. */
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-c", "wh-0",
				 "not-the-secret", &r),
			 403);

	assert_int_equal(webhook(s, "incident.acknowledged", "crit-c", "wh-1",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_string_equal(r.body, "acknowledge\n");

	/* The same delivery again is a duplicate. */
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-c", "wh-1",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_string_equal(r.body, "duplicate\n");

	at(s, 60 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-c"), 0);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-c"), 0);
	assert_true(harness_metric(&s->h, "alertbridge_acknowledgements_total"
					  "{source=\"webhook\"}") == 1);
	assert_true(harness_metric(&s->h, "alertbridge_webhook_rejected_total"
					  "{reason=\"signature\"}") == 1);
}

static void test_wrongly_signed_ack_lets_it_go_on(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	const char *unsigned_headers[] = {"X-Webhook-Id: wh-9", NULL};

	raise_alarm(s, "crit-d", "ALARM", 0);
	at(s, 14 * MIN);
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-d", "wh-2",
				 "wrong", &r),
			 403);
	assert_int_equal(harness_post(&s->h, "/pagerduty/webhook", "{}", 2,
				      unsigned_headers, &r),
			 0);
	assert_int_equal(r.status, 400);

	at(s, 15 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-d", 1);
}

/* Killed at T+14:59, back at T+16: the secondary once, at restart. */
static void test_restart_catches_up_once(void **state)
{
	struct scenario *s = *state;

	raise_alarm(s, "crit-e", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-e", 1);
	at(s, 15 * MIN - 1000);
	harness_kill(&s->h);

	at(s, 16 * MIN);
	assert_int_equal(harness_start(&s->h), 0);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-e", 1);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-e"), 0);

	at(s, 30 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-e", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-e", 1);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-e"), 1);
	assert_true(harness_log_wait(
		&s->h, "event=escalation.catch_up steps=1 late_ms=60000 ",
		1000));
	assert_true(harness_log_wait(
		&s->h, "level=2 target=secondary late_ms=60000\n", 1000));
}

/* Acknowledged, then OK at once: resolved at every level paged. */
static void test_ack_then_ok(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	raise_alarm(s, "crit-f", "ALARM", 0);
	at(s, 16 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-f", 1);

	assert_int_equal(api(s, "crit-f", "acknowledge", &r), 200);
	raise_alarm(s, "crit-f", "OK", 16 * MIN);

	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-f", 1);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-f", 1);
	at(s, 60 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-f"), 0);

	/* An acknowledgement for a resolved incident is ignored. */
	assert_int_equal(api(s, "crit-f", "acknowledge", &r), 409);
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-f", "wh-3",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_non_null(strstr(r.body, "ignored"));
}

/* OK, then the acknowledgement: still resolved, nothing more paged. */
static void test_ok_then_ack(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	raise_alarm(s, "crit-g", "ALARM", 0);
	at(s, 16 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-g", 1);

	raise_alarm(s, "crit-g", "OK", 16 * MIN);
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-g", "wh-4",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-g", 1);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-g", 1);
	at(s, 60 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-g"), 0);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-g"),
			 1);
}

static void step_wall(struct scenario *s, int64_t step_ms)
{
	char line[96];

	assert_int_equal(scenario_step_wall(s, step_ms), 0);
	snprintf(line, sizeof(line), "event=clock.wall_stepped step_ms=%lld ",
		 (long long)step_ms);
	assert_true(harness_log_wait(&s->h, line, 5000));
}

/*
 * The wall clock stepped back an hour mid-escalation: every step still
 * fires when its delay has elapsed, and once.
 */
static void test_wall_stepped_back_fires_on_time_once(void **state)
{
	struct scenario *s = *state;

	raise_alarm(s, "crit-h", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-h", 1);

	at(s, 5 * MIN);
	step_wall(s, -60 * MIN);
	at(s, 15 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-h", 1);
	assert_true(harness_log_wait(
		&s->h, "level=2 target=secondary late_ms=0\n", 1000));

	at(s, 30 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-h", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-h", 1);

	at(s, 90 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "crit-h"), 1);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-h"), 1);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-h"), 1);
	assert_int_equal(count(s, HARNESS_KEY_VP, NULL, "crit-h"), 1);
	assert_true(harness_metric(
			    &s->h,
			    "alertbridge_escalation_steps_fired_total") == 3);
}

/*
 * The wall clock stepped forward an hour: nothing fires before its
 * delay has elapsed. A restart then takes the stepped clock, the best
 * it has, and fires what that makes due as a catch-up.
 */
static void test_wall_stepped_forward_fires_nothing_early(void **state)
{
	struct scenario *s = *state;

	/* A witness a minute older, whose secondary falls due first. */
	at(s, -1 * MIN);
	raise_alarm(s, "crit-w", "ALARM", -1 * MIN);
	at(s, 0);
	raise_alarm(s, "crit-m", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-m", 1);

	at(s, 5 * MIN);
	step_wall(s, 60 * MIN);
	at(s, 14 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-w", 1);

	/* By the time the witness fired, nothing else had. */
	assert_true(harness_metric(
			    &s->h,
			    "alertbridge_escalation_steps_fired_total") == 1);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-m"), 0);

	at(s, 15 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-m", 1);
	assert_true(harness_log_wait(
		&s->h, "level=2 target=secondary late_ms=0\n", 1000));
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-m"), 0);

	/* Restarted: its clock is now an hour ahead of the time elapsed. */
	assert_int_equal(harness_stop(&s->h), 0);
	assert_int_equal(harness_start(&s->h), 0);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-m", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-m", 1);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-w", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-w", 1);
	assert_true(harness_log_wait(
		&s->h, "event=escalation.catch_up steps=4 late_ms=2760000 ",
		5000));

	at(s, 90 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "crit-m"), 1);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-m"), 1);
	assert_int_equal(count(s, HARNESS_KEY_VP, NULL, "crit-w"), 1);
}

/* Muted, OK during the mute, mute ends: the resolve went out. */
static void test_silence_never_holds_a_resolve(void **state)
{
	struct scenario *s = *state;

	/* Paged before the window opens. */
	raise_alarm(s, "db-primary", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "db-primary", 1);

	at(s, 5 * MIN);
	raise_alarm(s, "db-primary", "OK", 5 * MIN);
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "db-primary", 1);

	at(s, 11 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, "trigger", "db-primary"),
			 1);
}

/* Firing through the window: paged when it ends, not before. */
static void test_silence_end_pages_what_still_fires(void **state)
{
	struct scenario *s = *state;

	at(s, 2 * MIN);
	raise_alarm(s, "db-replica", "ALARM", 2 * MIN);
	assert_true(harness_log_wait(&s->h, "why=silenced", 5000));
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "db-replica"), 0);

	/* Silenced, then recovered: never paged at all. */
	raise_alarm(s, "db-cache", "ALARM", 2 * MIN);
	raise_alarm(s, "db-cache", "OK", 3 * MIN);

	at(s, 9 * MIN);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "db-replica"), 0);
	at(s, 10 * MIN);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "db-replica", 1);

	/* Its escalation counts from the end of the silence. */
	at(s, 24 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, NULL, "db-replica"),
			 0);
	at(s, 25 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "db-replica", 1);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "db-cache"), 0);
}

static void test_api_lists_and_needs_token(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	const char *bad[] = {"Authorization: Bearer nope", NULL};
	const char *lower[] = {"Authorization: bearer " HARNESS_API_TOKEN,
			       NULL};
	const char *wrong_token[] = {
		"Authorization: BEARER " HARNESS_API_TOKEN "x", NULL};
	json_t *list;

	raise_alarm(s, "crit-i", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-i", 1);

	assert_int_equal(harness_post(&s->h, "/api/incidents/x/acknowledge", "",
				      0, bad, &r),
			 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.www_authenticate, "Bearer realm=\"alertbridge\"");
	assert_int_equal(api(s, "no-such-alarm", "resolve", &r), 404);

	assert_int_equal(harness_get(&s->h, "/api/incidents", &r), 0);
	assert_int_equal(r.status, 401);

	/* The scheme is case-insensitive (RFC 7235 2.1); the token not. */
	assert_int_equal(
		harness_request(&s->h, "GET", "/api/incidents", lower, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(harness_request(&s->h, "GET", "/api/incidents",
					 wrong_token, &r),
			 0);
	assert_int_equal(r.status, 401);

	/* The queue API's 405s name their methods too. */
	assert_int_equal(
		harness_request(&s->h, "POST", "/api/queue", lower, &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	assert_int_equal(
		harness_request(&s->h, "GET", "/api/queue/1/retry", lower, &r),
		0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "POST");
	assert_int_equal(
		harness_request(&s->h, "POST", "/api/queue/1", lower, &r), 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.allow, "GET, HEAD, DELETE");

	assert_int_equal(harness_get_auth(&s->h, "/api/incidents",
					  HARNESS_API_TOKEN, &r),
			 0);
	assert_int_equal(r.status, 200);
	list = json_loads(r.body, 0, NULL);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(list, 0), "next_deadline")),
			    "2022-09-25T19:06:00.000Z");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(list, 0), "level")),
			 1);
	json_decref(list);

	/* The secondary paged: the incident has reached level 2. */
	at(s, 15 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-i", 1);
	assert_int_equal(harness_get_auth(&s->h, "/api/incidents",
					  HARNESS_API_TOKEN, &r),
			 0);
	list = json_loads(r.body, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(list, 0), "level")),
			 2);
	json_decref(list);

	assert_int_equal(api(s, "crit-i", "resolve", &r), 200);
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-i", 1);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-i", 1);
}

/* POSTs a silence's JSON; the status, r with the answer. */
static long post_silence(struct scenario *s, const char *spec,
			 struct harness_response *r)
{
	const char *auth[] = {"Authorization: Bearer " HARNESS_API_TOKEN, NULL};

	assert_int_equal(harness_post(&s->h, "/api/silences", spec,
				      strlen(spec), auth, r),
			 0);
	return r->status;
}

/* A silence refused says what is wrong with it, naming the value; a
 * name already taken is refused. */
static void test_api_silence_refusals(void **state)
{
	struct scenario *s = *state;
	static const struct {
		const char *spec;
		const char *reason;
	} cases[] = {
		{"{\"match\": {\"name\": \"x\"}, \"duration\": \"forever\"}",
		 "duration is not a length of time above zero such as \"2h\""
		 " (ms, s, m, h, d; a year at most): 'forever'"},
		/* What is quoted back is plain text, and bounded. */
		{"{\"match\": {\"name\": \"x\"}, \"duration\": \"2h\\nX: 1\"}",
		 "duration is not a length of time above zero such as \"2h\""
		 " (ms, s, m, h, d; a year at most): '2h?X: 1'"},
		{"{\"match\": {\"name\": \"x\"}, \"duration\": \"-5m\"}",
		 "duration is not a length of time above zero such as \"2h\""
		 " (ms, s, m, h, d; a year at most): '-5m'"},
		{"{\"match\": {\"name\": \"x\"}, \"end\": \"yesterday\"}",
		 "end is not an ISO 8601 time: 'yesterday'"},
		{"{\"match\": {\"name\": \"x\"}, \"start\": \"soon\","
		 " \"duration\": \"1h\"}",
		 "start is not an ISO 8601 time: 'soon'"},
		{"{\"match\": {\"name\": \"x\"}, \"duration\": \"1h\","
		 " \"end\": \"2030-01-01T00:00:00Z\"}",
		 "give end (ISO 8601) or duration (\"2h\"), not both"},
		{"{\"match\": {\"name\": \"x\"}}",
		 "give end (ISO 8601) or duration (\"2h\")"},
		{"{\"match\": {\"name\": \"x\"}, \"end\":"
		 " \"2022-09-25T18:00:00Z\"}",
		 "the silence is over already"},
		{"{\"match\": {\"name\": \"x\"}, \"start\":"
		 " \"2030-01-02T00:00:00Z\", \"end\": "
		 "\"2030-01-01T00:00:00Z\"}",
		 "the silence ends before it starts"},
		{"{\"match\": {\"nmae\": \"x\"}, \"duration\": \"1h\"}",
		 "unknown matcher 'nmae' in match (name, kind, state, "
		 "namespace,"
		 " metric, region, account, topic, severity, dimensions)"},
		{"{\"match\": {\"kind\": \"nope\"}, \"duration\": \"1h\"}",
		 "matcher 'kind' in match has the wrong type, or an unknown "
		 "kind"
		 " or state"},
		{"{\"match\": {\"name\": \"x\"}, \"duration\": \"1h\","
		 " \"extra\": 1}",
		 "unknown field 'extra' (name, match, start, end, duration)"},
		{"{\"match\": {\"name\": \"x\"}, \"duration\": 3600}",
		 "duration must be a string"},
	};
	const char *spec = "{\"name\": \"deploy\", \"match\": {\"name\":"
			   " \"maint-*\"}, \"duration\": \"1h\"}";
	struct harness_response r;
	char want[512];
	int id;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		snprintf(want, sizeof(want), "%s\n", cases[i].reason);
		if (post_silence(s, cases[i].spec, &r) != 400 ||
		    strcmp(r.body, want) != 0)
			fail_msg("%s: %ld %s", cases[i].spec, r.status, r.body);
	}

	/* A name is one silence's until it is over or lifted. */
	assert_int_equal(post_silence(s, spec, &r), 201);
	id = atoi(r.body);
	assert_int_equal(post_silence(s, spec, &r), 409);
	snprintf(want, sizeof(want),
		 "a silence named 'deploy' exists already (id %d); lift it"
		 " first or choose another name\n",
		 id);
	assert_string_equal(r.body, want);

	/* Nor may it be one of the configuration's, while that lasts. */
	assert_int_equal(
		post_silence(s,
			     "{\"name\": \"db-maintenance\", \"match\":"
			     " {\"name\": \"x\"}, \"duration\": \"1h\"}",
			     &r),
		409);
	assert_string_equal(r.body, "a silence named 'db-maintenance' is in the"
				    " configuration; choose another name\n");

	/* Unnamed ones are all "api", and do not clash. */
	assert_int_equal(post_silence(s,
				      "{\"match\": {\"name\": \"a-*\"},"
				      " \"duration\": \"1h\"}",
				      &r),
			 201);
	assert_int_equal(post_silence(s,
				      "{\"match\": {\"name\": \"b-*\"},"
				      " \"duration\": \"1h\"}",
				      &r),
			 201);
}

/* Silences through the API: set, listed, holding, lifted. */
static void test_api_silence(void **state)
{
	struct scenario *s = *state;
	const char *auth[] = {"Authorization: Bearer " HARNESS_API_TOKEN, NULL};
	const char *bad = "{\"match\": {}, \"duration\": \"1h\"}";
	const char *spec = "{\"name\": \"deploy\", \"match\": {\"name\":"
			   " \"maint-*\"}, \"duration\": \"1h\"}";
	struct harness_response r;
	char path[64];

	assert_int_equal(harness_post(&s->h, "/api/silences", bad, strlen(bad),
				      auth, &r),
			 0);
	assert_int_equal(r.status, 400);

	assert_int_equal(harness_post(&s->h, "/api/silences", spec,
				      strlen(spec), auth, &r),
			 0);
	assert_int_equal(r.status, 201);
	snprintf(path, sizeof(path), "/api/silences/%d", atoi(r.body));

	assert_int_equal(
		harness_get_auth(&s->h, "/api/silences", HARNESS_API_TOKEN, &r),
		0);
	assert_non_null(strstr(r.body, "maint-*"));

	raise_alarm(s, "maint-x", "ALARM", 0);
	assert_true(harness_log_wait(&s->h, "why=silenced", 5000));
	raise_alarm(s, "crit-k", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-k", 1);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, NULL, "maint-x"), 0);

	/* Lifted early: what it held is paged now. */
	assert_int_equal(harness_request(&s->h, "DELETE", path, auth, &r), 0);
	assert_int_equal(r.status, 200);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "maint-x", 1);
	assert_int_equal(harness_request(&s->h, "DELETE", path, auth, &r), 0);
	assert_int_equal(r.status, 404);

	/* Lifted, its name may be given again. */
	assert_int_equal(harness_post(&s->h, "/api/silences", spec,
				      strlen(spec), auth, &r),
			 0);
	assert_int_equal(r.status, 201);
}

/* Replaces the one line that is exactly from in text; fails if none. */
static char *replace_line(char *text, const char *from, const char *to)
{
	char *at = strstr(text, from);
	size_t head;
	char *out;

	assert_non_null(at);
	head = (size_t)(at - text);
	out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
	memcpy(out, text, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	free(text);
	return out;
}

static void write_credential(const char *dir, const char *name, const char *key)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", key);
		fclose(f);
	}
}

static int setup_example(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));
	char line[512];
	char *yaml;
	FILE *f;

	*state = s;
	if (!s || scenario_prepare_clocked(s) < 0)
		return -1;

	/* The example as shipped; only where it runs and sends changes. */
	yaml = harness_slurp(SOURCE_DIR "/config/alertbridge.yaml", NULL);
	yaml = replace_line(yaml, "listen: 127.0.0.1:8080\n",
			    "listen: 127.0.0.1:0\n");
	snprintf(line, sizeof(line), "state_dir: %s\n", s->h.state_dir);
	yaml = replace_line(yaml, "state_dir: /var/lib/alertbridge\n", line);
	yaml = replace_line(
		yaml,
		"    - arn:aws:sns:us-east-1:123456789012:ghostline-alerts\n",
		"    - " SCENARIO_TOPIC "\n");
	snprintf(line, sizeof(line), "  cert_dir: %s\n", s->h.cert_dir);
	yaml = replace_line(yaml, "  # cert_dir: /etc/alertbridge/certs\n",
			    line);
	snprintf(line, sizeof(line), "  events_url: %s\n", fakepd_url(s->pd));
	yaml = replace_line(
		yaml, "  events_url: https://events.pagerduty.com/v2/enqueue\n",
		line);

	f = fopen(s->h.config, "w");
	fprintf(f, "%stesting:\n  clock_file: %s\n", yaml, s->clock_file);
	fclose(f);
	free(yaml);

	/* The example names its keys as systemd credentials. */
	write_credential(s->h.dir, "primary", HARNESS_KEY_PRIMARY);
	write_credential(s->h.dir, "secondary", HARNESS_KEY_SECONDARY);
	write_credential(s->h.dir, "engineering_manager", HARNESS_KEY_MANAGER);
	write_credential(s->h.dir, "vp", HARNESS_KEY_VP);
	setenv("CREDENTIALS_DIRECTORY", s->h.dir, 1);
	return harness_start(&s->h) == 0 ? 0 : -1;
}

/*
 * The example configuration's own runbook, end to end: a production
 * alarm escalates on time to the VP, across a restart, and its OK
 * resolves every level.
 */
static void test_example_configuration_runbook(void **state)
{
	struct scenario *s = *state;

	raise_alarm(s, "prod-api-latency", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "prod-api-latency", 1);

	at(s, 10 * MIN);
	assert_int_equal(harness_stop(&s->h), 0);
	at(s, 15 * MIN);
	assert_int_equal(harness_start(&s->h), 0);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "prod-api-latency", 1);

	at(s, 30 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "prod-api-latency", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "prod-api-latency", 1);

	raise_alarm(s, "prod-api-latency", "OK", 31 * MIN);
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "prod-api-latency", 1);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "prod-api-latency", 1);
	wait_count(s, HARNESS_KEY_MANAGER, "resolve", "prod-api-latency", 1);
	wait_count(s, HARNESS_KEY_VP, "resolve", "prod-api-latency", 1);
	settle(s);
	assert_int_equal(
		count(s, HARNESS_KEY_SECONDARY, "trigger", "prod-api-latency"),
		1);
}

/* Acknowledged, then unacknowledged: the chain resumes where it stood. */
static void test_unacknowledged_resumes(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	raise_alarm(s, "crit-l", "ALARM", 0);
	at(s, 5 * MIN);
	assert_int_equal(webhook(s, "incident.acknowledged", "crit-l", "wh-5",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	at(s, 20 * MIN);
	assert_int_equal(webhook(s, "incident.unacknowledged", "crit-l", "wh-6",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_string_equal(r.body, "unacknowledge\n");
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-l", 1);

	/* A webhook about an incident we do not know is ignored. */
	assert_int_equal(webhook(s, "incident.acknowledged", "nobody-knows",
				 "wh-7", HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_non_null(strstr(r.body, "ignored"));
}

/* The incident's timeline, "what" after "what", space-separated. */
static void timeline(struct scenario *s, const char *name, char *out,
		     size_t size)
{
	char path[256];
	char key[256];
	sqlite3_stmt *stmt = NULL;
	sqlite3 *db = NULL;

	scenario_dedup_key(name, key);
	snprintf(path, sizeof(path), "%s/%s", s->h.state_dir, STORE_FILE_NAME);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT what FROM timeline"
					    " WHERE dedup_key = ?1 ORDER BY id",
					    -1, &stmt, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_TRANSIENT);
	out[0] = '\0';
	while (sqlite3_step(stmt) == SQLITE_ROW)
		snprintf(out + strlen(out), size - strlen(out), "%s%s",
			 out[0] ? " " : "", sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}

/* Resolved at PagerDuty: resolves sent to every level, chain stopped. */
static void test_webhook_resolved_stops_everything(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;

	raise_alarm(s, "crit-n", "ALARM", 0);
	at(s, 16 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-n", 1);

	assert_int_equal(webhook(s, "incident.resolved", "crit-n", "wh-10",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_string_equal(r.body, "resolve\n");
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-n", 1);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-n", 1);

	at(s, 90 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-n"), 0);
	assert_int_equal(count(s, HARNESS_KEY_VP, NULL, "crit-n"), 0);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-n"), 1);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-n"),
			 1);

	/* A copy of the ALARM that was resolved by hand pages nobody. */
	raise_alarm(s, "crit-n", "ALARM", 0);
	assert_true(harness_log_wait(&s->h, "why=repeated", 5000));
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-n"), 1);
}

/*
 * Reopened at PagerDuty after a resolve there: open again, the primary
 * paged again with the incident's own dedup_key, the chain counted from
 * the reopening.
 */
static void test_webhook_reopened_starts_over(void **state)
{
	struct scenario *s = *state;
	struct harness_response r;
	char text[512];
	char key[256];
	json_t *event;

	raise_alarm(s, "crit-o", "ALARM", 0);
	at(s, 16 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-o", 1);
	assert_int_equal(webhook(s, "incident.resolved", "crit-o", "wh-11",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	wait_count(s, HARNESS_KEY_SECONDARY, "resolve", "crit-o", 1);

	at(s, 20 * MIN);
	assert_int_equal(webhook(s, "incident.reopened", "crit-o", "wh-12",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_string_equal(r.body, "reopen\n");
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-o", 2);
	event = fakepd_request(s->pd, fakepd_count(s->pd) - 1);
	scenario_dedup_key("crit-o", key);
	assert_string_equal(field(event, "dedup_key"), key);
	json_decref(event);

	/* Open and not acknowledged: another reopen changes nothing. */
	assert_int_equal(webhook(s, "incident.reopened", "crit-o", "wh-13",
				 HARNESS_WEBHOOK_SECRET, &r),
			 200);
	assert_non_null(strstr(r.body, "ignored"));

	/* Fifteen minutes after the reopening, not after the trigger. */
	at(s, 35 * MIN);
	wait_count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-o", 2);
	assert_int_equal(count(s, HARNESS_KEY_MANAGER, NULL, "crit-o"), 0);
	at(s, 50 * MIN);
	wait_count(s, HARNESS_KEY_MANAGER, "trigger", "crit-o", 1);
	wait_count(s, HARNESS_KEY_VP, "trigger", "crit-o", 1);
	at(s, 120 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-o"), 2);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-o"),
			 2);

	timeline(s, "crit-o", text, sizeof(text));
	assert_string_equal(text, "triggered paged paged resolved reopened"
				  " paged paged paged paged");
}

/* Runs the alertbridge binary with args; its exit status, output in out. */
static int run_cli(struct scenario *s, const char *args, char *out, size_t size)
{
	char cmd[1024];
	size_t len = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s %s -c %s --url http://127.0.0.1:%d 2>&1",
		 harness_binary(), args, s->h.config, s->h.port);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (len + 1 < size && fgets(out + len, (int)(size - len), p))
		len = strlen(out);
	return WEXITSTATUS(pclose(p));
}

/* The status, escalation and level columns of key's line in out. */
static void listed(const char *out, const char *key, char *status,
		   char *escalation, char *level)
{
	const char *line = strstr(out, key);

	assert_non_null(line);
	while (line > out && line[-1] != '\n')
		line--;
	assert_int_equal(
		sscanf(line, "%15s %15s %15s", status, escalation, level), 3);
}

/* The command line: list, then acknowledge through the API. */
static void test_cli_lists_and_acknowledges(void **state)
{
	struct scenario *s = *state;
	char out[4096] = "";
	char escalation[16];
	char status[16];
	char level[16];
	char key[256];
	char args[400];
	char want[512];

	raise_alarm(s, "crit-j", "ALARM", 0);
	wait_count(s, HARNESS_KEY_PRIMARY, "trigger", "crit-j", 1);
	scenario_dedup_key("crit-j", key);

	assert_int_equal(run_cli(s, "incidents", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "STATUS     ESCALATION    LEVEL"));
	listed(out, key, status, escalation, level);
	assert_string_equal(status, "triggered");
	assert_string_equal(escalation, "running");
	assert_string_equal(level, "1");
	assert_non_null(strstr(out, "2022-09-25T19:06:00.000Z"));

	snprintf(args, sizeof(args), "ack '%s'", key);
	assert_int_equal(run_cli(s, args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "acknowledged '%s': escalation stopped, every level paged is"
		 " acknowledged at PagerDuty\n",
		 key);
	assert_string_equal(out, want);

	out[0] = '\0';
	assert_int_equal(run_cli(s, "incidents", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "acknowledged"));

	/* Twice is no error: an operator retrying wants it so, and it is. */
	assert_int_equal(run_cli(s, args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "already acknowledged '%s': nothing changed\n", key);
	assert_string_equal(out, want);

	/* A key no incident has is named. */
	assert_int_equal(run_cli(s, "ack no-such-key", out, sizeof(out)), 1);
	assert_string_equal(out, "alertbridge: no incident has the key"
				 " 'no-such-key'\n");

	at(s, 60 * MIN);
	settle(s);
	assert_int_equal(count(s, HARNESS_KEY_SECONDARY, "trigger", "crit-j"),
			 0);
	/* The API told PagerDuty too, once. */
	assert_int_equal(count(s, HARNESS_KEY_PRIMARY, "acknowledge", "crit-j"),
			 1);

	snprintf(args, sizeof(args), "resolve '%s'", key);
	assert_int_equal(run_cli(s, args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want),
		 "resolved '%s': escalation stopped, every level paged gets a"
		 " resolve\n",
		 key);
	assert_string_equal(out, want);
	wait_count(s, HARNESS_KEY_PRIMARY, "resolve", "crit-j", 1);

	/* Resolved, it is not open to acknowledge, and says so; resolved
	 * again (a retry after a timeout), nothing changes and that is
	 * what was asked. */
	snprintf(args, sizeof(args), "ack '%s'", key);
	assert_int_equal(run_cli(s, args, out, sizeof(out)), 1);
	snprintf(want, sizeof(want),
		 "alertbridge: cannot acknowledge '%s': resolved\n", key);
	assert_string_equal(out, want);
	snprintf(args, sizeof(args), "resolve '%s'", key);
	assert_int_equal(run_cli(s, args, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "already resolved '%s': nothing changed\n",
		 key);
	assert_string_equal(out, want);

	/* With the daemon stopped, the command says so, and what works
	 * without it. */
	assert_int_equal(harness_stop(&s->h), 0);
	assert_int_equal(run_cli(s, "incidents", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "no daemon answers at http://127.0.0.1:"));
	assert_non_null(strstr(out, "`queue list` and `postmortem KEY`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_critical_pages_the_whole_path, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_warning_never_pages_the_vp,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_webhook_ack_stops_it,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_wrongly_signed_ack_lets_it_go_on, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_restart_catches_up_once,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_ack_then_ok, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_ok_then_ack, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_wall_stepped_back_fires_on_time_once, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_wall_stepped_forward_fires_nothing_early, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_silence_never_holds_a_resolve, setup_silenced,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_silence_end_pages_what_still_fires, setup_silenced,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_api_lists_and_needs_token,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_cli_lists_and_acknowledges,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(test_api_silence, setup,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(test_api_silence_refusals,
						setup_silenced,
						scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_example_configuration_runbook, setup_example,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(test_unacknowledged_resumes,
						setup, scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_webhook_resolved_stops_everything, setup,
			scenario_teardown),
		cmocka_unit_test_setup_teardown(
			test_webhook_reopened_starts_over, setup,
			scenario_teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
