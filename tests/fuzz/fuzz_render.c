/*
 * Fuzz target: template rendering. The input is a template, then a NUL
 * byte and an SNS Message (a CloudWatch alarm when there is none); the
 * template fills every field of the event, the Message is classified
 * into the alert it is rendered from. Checked: the expansion's bound,
 * PagerDuty's limits on the event, and that the body is JSON.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "config.h"
#include "fuzz.h"
#include "render.h"
#include "util.h"

static const char default_message[] =
	"{\"AlarmName\":\"prod-db-1 CPU\",\"AWSAccountId\":\"123456789012\","
	"\"NewStateValue\":\"ALARM\",\"NewStateReason\":\"Threshold Crossed:"
	" 1 datapoint [97.5 (25/09/22 18:49:00)] was greater than 90.0\","
	"\"StateChangeTime\":\"2022-09-25T18:50:37.811+0000\","
	"\"Region\":\"US East (N. Virginia)\",\"AlarmArn\":\"arn:aws:"
	"cloudwatch:us-east-1:123456789012:alarm:prod-db-1 CPU\","
	"\"OldStateValue\":\"OK\",\"Trigger\":{\"MetricName\":"
	"\"CPUUtilization\",\"Namespace\":\"AWS/EC2\",\"Dimensions\":"
	"[{\"name\":\"InstanceId\",\"value\":\"i-0123\"}],"
	"\"Threshold\":90.0}}";

/* Characters (code points) of valid UTF-8 text. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static void check_expand(const char *tpl, const struct render_context *ctx)
{
	const char *bad = NULL;
	size_t bad_len = 0;
	bool valid = render_template_valid(tpl, &bad, &bad_len);
	char *text = NULL;
	int r;

	r = render_expand(tpl, ctx, &text);
	if (valid) {
		FUZZ_CHECK(r == 0 || r == -ENOMEM);
		if (r == 0)
			FUZZ_CHECK(strlen(text) <= RENDER_FIELD_MAX);
	} else {
		FUZZ_CHECK(r == -EINVAL);
		FUZZ_CHECK(bad >= tpl && bad + bad_len <= tpl + strlen(tpl));
	}
	free(text);
}

static void check_payload(const json_t *payload, const char *severity)
{
	const char *summary =
		json_string_value(json_object_get(payload, "summary"));
	const char *source =
		json_string_value(json_object_get(payload, "source"));

	FUZZ_CHECK(summary && *summary);
	FUZZ_CHECK(util_utf8_valid(summary, strlen(summary)));
	FUZZ_CHECK(utf8_chars(summary, strlen(summary)) <= RENDER_SUMMARY_MAX);
	FUZZ_CHECK(source && *source);
	FUZZ_CHECK(
		!strcmp(json_string_value(json_object_get(payload, "severity")),
			severity));
	FUZZ_CHECK(json_is_string(json_object_get(payload, "timestamp")));
}

static void check_body(const json_t *payload, const char *dedup_key)
{
	char *body = NULL;
	size_t len = 0;
	json_t *parsed;
	int r;

	r = render_event_body(payload, "routingkey0000000000000000000001",
			      "trigger", dedup_key, "alertbridge", NULL, &body,
			      &len);
	FUZZ_CHECK(r == 0 || r == -E2BIG || r == -ENOMEM);
	if (r == 0) {
		FUZZ_CHECK(len == strlen(body) && len <= RENDER_BODY_MAX);
		parsed = json_loadb(body, len, 0, NULL);
		FUZZ_CHECK(parsed);
		FUZZ_CHECK(!strcmp(
			json_string_value(json_object_get(parsed, "dedup_key")),
			dedup_key));
		json_decref(parsed);
	}
	free(body);

	r = render_event_body(NULL, "routingkey0000000000000000000001",
			      "resolve", dedup_key, NULL, NULL, &body, &len);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *tpl = fuzz_strndup(data, nul ? (size_t)(nul - data) : size);
	const char *message = nul ? (const char *)nul + 1 : default_message;
	size_t message_len =
		nul ? size - (size_t)(nul - data) - 1 : strlen(default_message);
	struct config_detail details[] = {{"fixed", "{{alert_name}}"},
					  {"fuzzed", tpl}};
	struct config_template template = {
		.name = "fuzz",
		.summary = tpl,
		.source = tpl,
		.component = tpl,
		.group = tpl,
		.class_name = tpl,
		.details = details,
		.n_details = 2,
	};
	struct render_context ctx = {.severity = "critical",
				     .environment = "production",
				     .route_name = "fuzz"};
	struct alert *alert = NULL;
	json_t *payload = NULL;
	char *dedup_key = NULL;
	int r;

	r = alert_classify(message, message_len, "arn:aws:sns:us-east-1:1:t",
			   NULL, 1664131860000LL, &alert);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		goto out;
	ctx.alert = alert;
	ctx.region = alert->region ? alert->region : "us-east-1";

	check_expand(tpl, &ctx);

	r = render_dedup_key(alert->identity, &dedup_key);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		goto out;
	FUZZ_CHECK(*dedup_key && strlen(dedup_key) <= RENDER_DEDUP_KEY_MAX);

	if (!render_template_valid(tpl, NULL, NULL))
		goto out;
	r = render_payload(&template, &ctx, &payload);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		goto out;
	check_payload(payload, ctx.severity);
	check_body(payload, dedup_key);
out:
	json_decref(payload);
	free(dedup_key);
	alert_free(alert);
	free(tpl);
	return 0;
}
