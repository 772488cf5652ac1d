/*
 * scenario: shared set-up of the integration tests.
 */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "timeutil.h"

int scenario_init(struct scenario *s)
{
	int r;

	memset(s, 0, sizeof(*s));
	r = harness_init(&s->h);
	if (r < 0)
		return r;
	r = fakepd_start(&s->pd);
	if (r < 0)
		return r;
	r = timeutil_parse(SCENARIO_AS_OF, &s->as_of_ms);
	if (r < 0)
		return r;

	r = testkey_generate(s->as_of_ms - 86400000LL, s->as_of_ms + 86400000LL,
			     &s->key);
	if (r < 0)
		return r;
	return testkey_write_cert(s->key, s->h.cert_dir, SCENARIO_CERT);
}

int scenario_prepare(struct scenario *s, const char *extra_yaml)
{
	int r = scenario_init(s);

	if (r == 0)
		r = harness_write_standard_config(&s->h, fakepd_url(s->pd),
						  SCENARIO_AS_OF,
						  extra_yaml ? extra_yaml : "");
	return r;
}

int scenario_start(struct scenario *s, const char *extra_yaml)
{
	int r = scenario_prepare(s, extra_yaml);

	return r < 0 ? r : harness_start(&s->h);
}

int scenario_prepare_clocked(struct scenario *s)
{
	int r = scenario_init(s);

	if (r < 0)
		return r;

	snprintf(s->clock_file, sizeof(s->clock_file), "%s/clock", s->h.dir);
	return scenario_set_clock(s, 0);
}

int scenario_start_escalation(struct scenario *s, const char *extra_yaml)
{
	int r = scenario_prepare_clocked(s);

	if (r == 0)
		r = harness_write_escalation_config(
			&s->h, fakepd_url(s->pd), s->clock_file,
			extra_yaml ? extra_yaml : "");
	return r < 0 ? r : harness_start(&s->h);
}

/* Written aside and renamed, so the daemon never reads half. */
static int replace_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", text);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		return -EIO;
	return 0;
}

int scenario_set_clock(struct scenario *s, int64_t offset_ms)
{
	char text[32];

	timeutil_format(s->as_of_ms + offset_ms, text);
	return replace_file(s->clock_file, text);
}

int scenario_step_wall(struct scenario *s, int64_t step_ms)
{
	char path[sizeof(s->clock_file) + 8];
	char text[32];

	snprintf(path, sizeof(path), "%s.wall", s->clock_file);
	snprintf(text, sizeof(text), "%lld", (long long)(step_ms / 1000));
	return replace_file(path, text);
}

void scenario_finish(struct scenario *s)
{
	harness_stop(&s->h);
	harness_cleanup(&s->h);
	fakepd_stop(s->pd);
	testkey_free(s->key);
}

int scenario_setup(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	*state = s;
	return scenario_start(s, NULL) < 0 ? -1 : 0;
}

int scenario_teardown(void **state)
{
	struct scenario *s = *state;

	scenario_finish(s);
	free(s);
	return 0;
}

char *scenario_alarm(const char *name, const char *state,
		     int64_t changed_offset_ms)
{
	char arn[256];
	char changed[32];
	int64_t as_of = 0;
	json_t *msg;
	char *text;

	timeutil_parse(SCENARIO_AS_OF, &as_of);
	timeutil_format(as_of + changed_offset_ms, changed);
	snprintf(arn, sizeof(arn),
		 "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s", name);

	msg = json_pack(
		"{s:s, s:n, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		" s:{s:s, s:s, s:s, s:[{s:s, s:s}], s:i, s:f, s:s}}",
		"AlarmName", name, "AlarmDescription", "AWSAccountId",
		"123456789012", "NewStateValue", state, "NewStateReason",
		"Threshold Crossed: 1 out of the last 1 datapoints [97.5"
		" (25/09/22 18:49:00)] was greater than the threshold (90.0).",
		"StateChangeTime", changed, "Region", "US East (N. Virginia)",
		"AlarmArn", arn, "OldStateValue",
		strcmp(state, "OK") == 0 ? "ALARM" : "OK", "Trigger",
		"MetricName", "CPUUtilization", "Namespace", "AWS/EC2",
		"Statistic", "AVERAGE", "Dimensions", "name", "InstanceId",
		"value", "i-0123456789", "Period", 60, "Threshold", 90.0,
		"ComparisonOperator", "GreaterThanThreshold");
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	return text;
}

char *scenario_sign(struct scenario *s, const char *message_id,
		    const char *message)
{
	json_t *env;
	char *body;

	env = testkey_notification(message_id, SCENARIO_TOPIC, NULL, message,
				   s->as_of_ms);
	if (!env)
		return NULL;
	body = testkey_sign_envelope(s->key, env, 2, SCENARIO_CERT_URL);
	json_decref(env);
	return body;
}

long scenario_post_id(struct scenario *s, const char *message_id,
		      const char *message)
{
	struct harness_response r;
	char *body;
	int rc;

	body = scenario_sign(s, message_id, message);
	if (!body)
		return -1;

	rc = harness_post(&s->h, "/sns", body, strlen(body), NULL, &r);
	free(body);
	return rc < 0 ? -1 : r.status;
}

long scenario_post(struct scenario *s, const char *message)
{
	char id[64];

	snprintf(id, sizeof(id), "msg-%06u-%d", s->next_id++, (int)getpid());
	return scenario_post_id(s, id, message);
}

void scenario_dedup_key(const char *name, char out[256])
{
	snprintf(out, 256, "arn:aws:cloudwatch:us-east-1:123456789012:alarm:%s",
		 name);
}

long scenario_webhook(struct scenario *s, const char *event_type,
		      const char *key, const char *webhook_id,
		      const char *secret, struct harness_response *r)
{
	json_t *body = json_load_file(
		FIXTURES_DIR
		"/pagerduty/"
		"pagerduty-webhook-v3-incident-priority_updated.json",
		0, NULL);
	json_t *event = json_object_get(body, "event");
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	char header[160] = "X-PagerDuty-Signature: v1=";
	char id_header[96];
	const char *headers[3] = {header, id_header, NULL};
	char *text;
	int rc;

	json_object_set_new(event, "event_type", json_string(event_type));
	json_object_set_new(json_object_get(event, "data"), "incident_key",
			    json_string(key));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (!text)
		return -1;

	HMAC(EVP_sha256(), secret, (int)strlen(secret),
	     (const unsigned char *)text, strlen(text), mac, &mac_len);
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(header + strlen(header), 3, "%02x", mac[i]);
	snprintf(id_header, sizeof(id_header), "X-Webhook-Id: %s", webhook_id);

	rc = harness_post(&s->h, "/pagerduty/webhook", text, strlen(text),
			  headers, r);
	free(text);
	return rc < 0 ? -1 : r->status;
}
