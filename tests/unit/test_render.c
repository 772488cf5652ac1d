/*
 * Unit tests for render: template expansion, the payload, PagerDuty's
 * limits and the encoded request body.
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

#include "render.h"
#include "util.h"

#define ELLIPSIS "\xe2\x80\xa6"
#define FFFD     "\xef\xbf\xbd"

#define ARN_TEST_ALARM                                                         \
	"arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm"

/* The alarm of the real ca-central-1 notification in the fixtures. */
static void alert_ca_central(struct alert *a)
{
	memset(a, 0, sizeof(*a));
	a->kind = ALERT_KIND_METRIC;
	a->state = ALERT_STATE_ALARM;
	a->old_state = ALERT_STATE_INSUFFICIENT_DATA;
	a->name = "Test alarm";
	a->reason = "Threshold Crossed: 1 out of the last 1 datapoints "
		    "[6.0 (25/09/22 18:49:00)] was greater than the "
		    "threshold (5.0) (minimum 1 datapoint for OK -> ALARM "
		    "transition).";
	a->account = "017790921725";
	a->region = "ca-central-1";
	a->arn = ARN_TEST_ALARM;
	a->namespace = "AWS/Lambda";
	a->metric_name = "ConcurrentExecutions";
	a->metric_value = "6.0";
	a->threshold = "5.0";
	a->topic_arn = "arn:aws:sns:ca-central-1:017790921725:test-sre-bot";
	a->subject = "ALARM: \"Test alarm\" in Canada (Central)";
	a->changed_at_ms = 1664131837811; /* 2022-09-25T18:50:37.811Z */
	a->identity = a->arn;
}

static struct render_context context_for(const struct alert *a)
{
	struct render_context ctx = {
		.alert = a,
		.severity = "critical",
		.environment = "production",
		.region = "ca-central-1",
		.route_name = "lambda-concurrency",
	};

	return ctx;
}

static char *expand(const char *tpl, const struct render_context *ctx)
{
	char *text = NULL;

	assert_int_equal(render_expand(tpl, ctx, &text), 0);
	assert_non_null(text);
	return text;
}

static void assert_expands(const char *tpl, const struct render_context *ctx,
			   const char *expected)
{
	char *text = expand(tpl, ctx);

	assert_string_equal(text, expected);
	free(text);
}

/* A string of n copies of unit (n * strlen(unit) bytes). */
static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(n * len + 1);

	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[n * len] = '\0';
	return s;
}

static char *concat(const char *a, const char *b)
{
	char *s = NULL;

	assert_true(asprintf(&s, "%s%s", a, b) >= 0);
	return s;
}

static size_t count_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static void test_expand_every_field(void **state)
{
	struct alert_dimension dims[] = {
		{"InstanceId", "i-123"},
		{"ClusterName", "x"},
	};
	struct alert a;
	struct render_context ctx;
	static const struct {
		const char *tpl;
		const char *expected;
	} cases[] = {
		{"{{alert_name}}", "Test alarm"},
		{"{{severity}}", "critical"},
		{"{{environment}}", "production"},
		{"{{region}}", "ca-central-1"},
		{"{{metric_name}}", "ConcurrentExecutions"},
		{"{{metric_value}}", "6.0"},
		{"{{account}}", "017790921725"},
		{"{{state}}", "ALARM"},
		{"{{old_state}}", "INSUFFICIENT_DATA"},
		{"{{reason}}",
		 "Threshold Crossed: 1 out of the last 1 datapoints "
		 "[6.0 (25/09/22 18:49:00)] was greater than the threshold "
		 "(5.0) (minimum 1 datapoint for OK -> ALARM transition)."},
		{"{{description}}", "Lambda concurrency"},
		{"{{namespace}}", "AWS/Lambda"},
		{"{{dimensions}}", "InstanceId=i-123, ClusterName=x"},
		{"{{alarm_arn}}", ARN_TEST_ALARM},
		{"{{console_url}}",
		 "https://ca-central-1.console.aws.amazon.com/cloudwatch/"
		 "home?region=ca-central-1#alarmsV2:alarm/Test%20alarm"},
		{"{{threshold}}", "5.0"},
		{"{{topic_arn}}",
		 "arn:aws:sns:ca-central-1:017790921725:test-sre-bot"},
		{"{{subject}}", "ALARM: \"Test alarm\" in Canada (Central)"},
		{"{{kind}}", "metric"},
		{"{{route}}", "lambda-concurrency"},
		{"{{timestamp}}", "2022-09-25T18:50:37.811Z"},
		{"{{source}}", "aws.test"},
		{"{{detail_type}}", "Test Detail"},
		{"{{expression}}", "m1/m2*100"},
		{"{{finding_severity}}", ""},
		{"[{{ alert_name }}|{{\tstate  }}]", "[Test alarm|ALARM]"},
		{"no fields at all", "no fields at all"},
		{"", ""},
	};

	alert_ca_central(&a);
	a.description = "Lambda concurrency";
	a.source = "aws.test";
	a.detail_type = "Test Detail";
	a.expression = "m1/m2*100";
	a.dimensions = dims;
	a.n_dimensions = ARRAY_SIZE(dims);
	ctx = context_for(&a);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_expands(cases[i].tpl, &ctx, cases[i].expected);
}

static void test_expand_missing_values(void **state)
{
	struct alert a = {.kind = ALERT_KIND_GENERIC};
	struct render_context ctx = {.alert = &a};
	const char *tpl =
		"<{{alert_name}}{{severity}}{{environment}}{{region}}"
		"{{metric_name}}{{metric_value}}{{account}}{{state}}"
		"{{old_state}}{{reason}}{{description}}{{namespace}}"
		"{{dimensions}}{{alarm_arn}}{{console_url}}{{threshold}}"
		"{{topic_arn}}{{subject}}{{route}}{{source}}{{detail_type}}"
		"{{expression}}{{finding_severity}}>";

	/* ALERT_STATE_NONE and NULL strings are values never given. */
	assert_expands(tpl, &ctx, "<>");
	assert_expands("{{kind}}", &ctx, "generic");
}

static void test_expand_guardduty(void **state)
{
	struct alert a = {
		.kind = ALERT_KIND_GUARDDUTY,
		.name = "UnauthorizedAccess:EC2/SSHBruteForce",
		.finding_severity = 8.0,
		.severity_band = "high",
	};
	struct render_context ctx = {.alert = &a, .region = "us-east-1"};

	assert_expands("{{finding_severity}}", &ctx, "8.0");
	a.finding_severity = 2.25;
	assert_expands("{{finding_severity}}", &ctx, "2.2");
	assert_expands("{{kind}}", &ctx, "guardduty");
	assert_expands("{{console_url}}", &ctx,
		       "https://us-east-1.console.aws.amazon.com/guardduty/"
		       "home?region=us-east-1#/findings");
}

static void test_expand_console_url(void **state)
{
	struct alert a;
	struct render_context ctx;

	alert_ca_central(&a);
	ctx = context_for(&a);

	a.name = "a/b c#\xc3\xbc?&=";
	assert_expands("{{console_url}}", &ctx,
		       "https://ca-central-1.console.aws.amazon.com/cloudwatch/"
		       "home?region=ca-central-1#alarmsV2:alarm/"
		       "a%2Fb%20c%23%C3%BC%3F%26%3D");

	a.name = "Test alarm";
	a.kind = ALERT_KIND_COMPOSITE;
	ctx.region = "cn-north-1";
	assert_expands("{{console_url}}", &ctx,
		       "https://cn-north-1.console.amazonaws.cn/cloudwatch/"
		       "home?region=cn-north-1#alarmsV2:alarm/Test%20alarm");

	ctx.region = "us-gov-west-1";
	assert_expands("{{console_url}}", &ctx,
		       "https://us-gov-west-1.console.amazonaws-us-gov.com/"
		       "cloudwatch/home?region=us-gov-west-1"
		       "#alarmsV2:alarm/Test%20alarm");

	/* No region, or something that is no region, gives no link. */
	ctx.region = NULL;
	assert_expands("[{{console_url}}]", &ctx, "[]");
	ctx.region = "";
	assert_expands("[{{console_url}}]", &ctx, "[]");
	ctx.region = "evil.example/x?";
	assert_expands("[{{console_url}}]", &ctx, "[]");

	/* Kinds without a console page of their own. */
	ctx.region = "ca-central-1";
	a.kind = ALERT_KIND_BUDGET;
	assert_expands("[{{console_url}}]", &ctx, "[]");
	a.kind = ALERT_KIND_GENERIC;
	assert_expands("[{{console_url}}]", &ctx, "[]");
	a.kind = ALERT_KIND_METRIC;
	a.name = NULL;
	assert_expands("[{{console_url}}]", &ctx, "[]");
}

static void test_expand_literal_braces(void **state)
{
	struct alert a;
	struct render_context ctx;

	alert_ca_central(&a);
	ctx = context_for(&a);

	assert_expands("cost {{ 5", &ctx, "cost {{ 5");
	assert_expands("{{alert_name}} {{", &ctx, "Test alarm {{");
	assert_expands("a }} b {", &ctx, "a }} b {");
	assert_expands("{{alert_name}}}", &ctx, "Test alarm}");

	/* A value that looks like a field is not expanded again. */
	a.name = "{{region}}";
	assert_expands("{{alert_name}}", &ctx, "{{region}}");
}

static void test_expand_unknown_field(void **state)
{
	struct alert a;
	struct render_context ctx;
	char *text = (char *)"untouched";
	const char *bad = NULL;
	size_t bad_len = 0;
	const char *tpl = "ok {{alert_name}} then {{ bogus }} end";

	alert_ca_central(&a);
	ctx = context_for(&a);

	assert_int_equal(render_expand(tpl, &ctx, &text), -EINVAL);
	assert_string_equal(text, "untouched");
	assert_int_equal(render_expand("{{}}", &ctx, &text), -EINVAL);
	assert_int_equal(render_expand("{{Alert_Name}}", &ctx, &text), -EINVAL);
	assert_int_equal(render_expand(NULL, &ctx, &text), -EINVAL);

	assert_false(render_template_valid(tpl, &bad, &bad_len));
	assert_ptr_equal(bad, strstr(tpl, "bogus"));
	assert_int_equal(bad_len, 5);

	assert_false(render_template_valid("x {{ }}", &bad, &bad_len));
	assert_int_equal(bad_len, 0);

	assert_true(render_template_valid("{{ alert_name }} {{", NULL, NULL));
	assert_true(render_template_valid("plain", NULL, NULL));
	assert_true(render_template_valid(NULL, NULL, NULL));
}

static void test_expand_bounded(void **state)
{
	struct alert a;
	struct render_context ctx;
	char *chars;
	char *long_name;
	char *literal;
	char *text;

	alert_ca_central(&a);
	ctx = context_for(&a);

	/* "x" then two-byte characters: byte 65536 is mid-character. */
	chars = repeat("\xc3\xa9", 40000);
	long_name = concat("x", chars);
	a.name = long_name;

	text = expand("{{alert_name}} tail", &ctx);
	assert_int_equal(strlen(text), RENDER_FIELD_MAX - 1);
	assert_true(util_utf8_valid(text, strlen(text)));
	assert_memory_equal(text, long_name, RENDER_FIELD_MAX - 1);
	assert_null(strstr(text, "tail"));
	free(text);

	/* Literal text counts towards the bound too. */
	literal = repeat("L", RENDER_FIELD_MAX + 10);
	text = expand(literal, &ctx);
	assert_int_equal(strlen(text), RENDER_FIELD_MAX);
	free(text);

	free(literal);
	free(long_name);
	free(chars);
}

static int render_runbook(const struct render_context *ctx,
			  json_t **ret_payload)
{
	struct config_detail details[] = {
		{"environment", "{{environment}}"},
		{"region", "{{region}}"},
		{"metric", "{{metric_name}}"},
		{"value", "{{metric_value}}"},
	};
	struct config_template tpl = {
		.name = "runbook",
		.summary = "GhostLine Alert: {{alert_name}}",
		.source = "aws-cloudwatch",
		.details = details,
		.n_details = ARRAY_SIZE(details),
	};

	return render_payload(&tpl, ctx, ret_payload);
}

static char *dump(const json_t *json)
{
	char *text = json_dumps(json, JSON_COMPACT);

	assert_non_null(text);
	return text;
}

static void test_payload_runbook(void **state)
{
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	char *text;

	alert_ca_central(&a);
	ctx = context_for(&a);

	assert_int_equal(render_runbook(&ctx, &payload), 0);
	text = dump(payload);
	assert_string_equal(text, "{\"summary\":\"GhostLine Alert: Test "
				  "alarm\",\"source\":\"aws-cloudwatch\","
				  "\"severity\":\"critical\",\"timestamp\":"
				  "\"2022-09-25T18:50:37.811Z\","
				  "\"custom_details\":{\"environment\":"
				  "\"production\",\"region\":\"ca-central-1\","
				  "\"metric\":\"ConcurrentExecutions\","
				  "\"value\":\"6.0\"}}");
	free(text);
	json_decref(payload);
}

static void test_payload_optional_fields(void **state)
{
	struct config_detail details[] = {
		{"z_first", "{{state}}"},
		{"a_second", "{{description}}"},
		{"m_third", "literal"},
	};
	struct config_template tpl = {
		.summary = "{{alert_name}}",
		.source = "{{account}}",
		.component = "{{namespace}}",
		.group = "{{environment}}",
		.class_name = "{{description}}",
		.details = details,
		.n_details = ARRAY_SIZE(details),
	};
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	char *text;

	alert_ca_central(&a);
	ctx = context_for(&a);

	/* class expands empty and is left out; details keep their order. */
	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	text = dump(payload);
	assert_string_equal(
		text, "{\"summary\":\"Test alarm\",\"source\":\"017790921725\","
		      "\"severity\":\"critical\",\"timestamp\":"
		      "\"2022-09-25T18:50:37.811Z\",\"component\":"
		      "\"AWS/Lambda\",\"group\":\"production\","
		      "\"custom_details\":{\"z_first\":\"ALARM\","
		      "\"a_second\":\"\",\"m_third\":\"literal\"}}");
	free(text);
	json_decref(payload);

	/* No template for them: no keys, and no empty custom_details. */
	tpl.component = NULL;
	tpl.group = NULL;
	tpl.n_details = 0;
	a.description = "Lambda";
	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	assert_null(json_object_get(payload, "component"));
	assert_null(json_object_get(payload, "group"));
	assert_null(json_object_get(payload, "custom_details"));
	assert_string_equal(
		json_string_value(json_object_get(payload, "class")), "Lambda");
	json_decref(payload);
}

static void test_payload_fallbacks(void **state)
{
	struct config_template tpl = {
		.summary = "{{description}}",
		.source = "{{detail_type}}",
	};
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;

	alert_ca_central(&a);
	ctx = context_for(&a);

	/* PagerDuty requires both summary and source to be non-empty. */
	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	assert_string_equal(
		json_string_value(json_object_get(payload, "summary")),
		"Test alarm");
	assert_string_equal(
		json_string_value(json_object_get(payload, "source")),
		"alertbridge");
	json_decref(payload);

	a.name = NULL;
	tpl.summary = NULL;
	tpl.source = NULL;
	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	assert_string_equal(
		json_string_value(json_object_get(payload, "summary")),
		"alert");
	assert_string_equal(
		json_string_value(json_object_get(payload, "source")),
		"alertbridge");
	json_decref(payload);
}

static void test_payload_severity(void **state)
{
	static const char *const valid[] = {"critical", "error", "warning",
					    "info"};
	static const char *const invalid[] = {"fatal", "CRITICAL", "",
					      "critical ", NULL};
	struct config_template bad_tpl = {.summary = "{{nope}}"};
	json_t *sentinel = json_object();
	json_t *payload;
	struct alert a;
	struct render_context ctx;

	alert_ca_central(&a);
	ctx = context_for(&a);

	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		ctx.severity = valid[i];
		payload = NULL;
		assert_int_equal(render_runbook(&ctx, &payload), 0);
		assert_string_equal(
			json_string_value(json_object_get(payload, "severity")),
			valid[i]);
		json_decref(payload);
	}

	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		ctx.severity = invalid[i];
		payload = sentinel;
		assert_int_equal(render_runbook(&ctx, &payload), -EINVAL);
		assert_ptr_equal(payload, sentinel);
	}
	json_decref(sentinel);

	/* An unknown field in a template is an error, not a silent gap. */
	ctx.severity = "info";
	assert_int_equal(render_payload(&bad_tpl, &ctx, &payload), -EINVAL);
}

/*
 * Places value as the alert's name in every kind of payload field,
 * encodes the body and parses it back: each field must read expected
 * and the body must be plain printable ASCII.
 */
static void assert_round_trip(const char *value, const char *expected)
{
	struct config_detail details[] = {{"v", "{{alert_name}}"}};
	struct config_template tpl = {
		.summary = "{{alert_name}}",
		.source = "{{alert_name}}",
		.component = "{{alert_name}}",
		.details = details,
		.n_details = 1,
	};
	static const char *const paths[][2] = {
		{"summary", NULL},
		{"source", NULL},
		{"component", NULL},
		{"custom_details", "v"},
	};
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	json_t *parsed;
	json_error_t error;
	char *body = NULL;
	size_t len = 0;

	alert_ca_central(&a);
	a.name = (char *)value;
	ctx = context_for(&a);

	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 0);
	assert_int_equal(len, strlen(body));

	/* ASCII only, and no raw control characters (DEL needs none). */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)body[i] >= 0x20 &&
			    (unsigned char)body[i] <= 0x7f);

	parsed = json_loads(body, 0, &error);
	if (!parsed)
		fail_msg("body does not parse: %s", error.text);

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		json_t *v = json_object_get(json_object_get(parsed, "payload"),
					    paths[i][0]);

		if (paths[i][1])
			v = json_object_get(v, paths[i][1]);
		assert_true(json_is_string(v));
		assert_int_equal(json_string_length(v), strlen(expected));
		assert_memory_equal(json_string_value(v), expected,
				    strlen(expected));
	}

	json_decref(parsed);
	json_decref(payload);
	free(body);
}

static void test_escaping(void **state)
{
	static const struct {
		const char *value;
		const char *expected;
		const char *escape; /* must appear in the body */
	} cases[] = {
		{"say \"hi\"", "say \"hi\"", "say \\\"hi\\\""},
		{"back\\slash", "back\\slash", "back\\\\slash"},
		{"a\x01z", "a\x01z", "a\\u0001z"},
		{"new\nline", "new\nline", "new\\nline"},
		{"tab\there", "tab\there", "tab\\there"},
		{"esc\x1b del\x7f", "esc\x1b del\x7f", "esc\\u001B"},
		{"ls\xe2\x80\xa8", "ls\xe2\x80\xa8", "ls\\u2028"},
		{"ps\xe2\x80\xa9", "ps\xe2\x80\xa9", "ps\\u2029"},
		{"caf\xc3\xa9", "caf\xc3\xa9", "caf\\u00E9"},
		{"\xf0\x9f\x9a\xa8", "\xf0\x9f\x9a\xa8", "\\uD83D\\uDEA8"},
		{"</script>", "</script>", "</script>"},
		/* Invalid UTF-8: one U+FFFD per maximal ill-formed part. */
		{"lone\xff", "lone" FFFD, "lone\\uFFFD"},
		{"cut\xe2\x82", "cut" FFFD, "cut\\uFFFD\""},
		{"cut\xf0\x9f\x9a.", "cut" FFFD ".", "cut\\uFFFD."},
		{"over\xc0\xaf", "over" FFFD FFFD, "over\\uFFFD\\uFFFD\""},
		{"over3\xe0\x80\xaf", "over3" FFFD FFFD FFFD, "over3"},
		{"over4\xf0\x80\x80\xaf", "over4" FFFD FFFD FFFD FFFD, "over4"},
		{"sur\xed\xa0\x80", "sur" FFFD FFFD FFFD,
		 "sur\\uFFFD\\uFFFD\\uFFFD\""},
		{"big\xf4\x90\x80\x80", "big" FFFD FFFD FFFD FFFD, "big"},
		{"cont\x80\xbf", "cont" FFFD FFFD, "cont"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct alert a;
		struct render_context ctx;
		json_t *payload = NULL;
		char *body = NULL;
		size_t len;

		assert_round_trip(cases[i].value, cases[i].expected);

		alert_ca_central(&a);
		a.name = (char *)cases[i].value;
		ctx = context_for(&a);
		assert_int_equal(render_runbook(&ctx, &payload), 0);
		assert_int_equal(render_event_body(payload, "R", "trigger", "k",
						   NULL, NULL, &body, &len),
				 0);
		if (!strstr(body, cases[i].escape))
			fail_msg("case %zu: no %s in %s", i, cases[i].escape,
				 body);
		free(body);
		json_decref(payload);
	}
}

/* The summary for a given alert name. */
static char *summary_for(const char *name, size_t *ret_len)
{
	struct config_template tpl = {.summary = "{{alert_name}}"};
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	json_t *summary;
	char *text;

	alert_ca_central(&a);
	a.name = (char *)name;
	ctx = context_for(&a);

	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	summary = json_object_get(payload, "summary");
	*ret_len = json_string_length(summary);
	text = malloc(*ret_len + 1);
	assert_non_null(text);
	memcpy(text, json_string_value(summary), *ret_len + 1);
	json_decref(payload);

	assert_true(util_utf8_valid(text, *ret_len));
	return text;
}

static void assert_summary(const char *name, const char *expected)
{
	size_t len;
	char *summary = summary_for(name, &len);

	assert_int_equal(len, strlen(expected));
	assert_memory_equal(summary, expected, len);
	assert_true(count_chars(summary, len) <= RENDER_SUMMARY_MAX);
	free(summary);
}

/* The first n characters of unit repeated, then an ellipsis. */
static char *cut_of(const char *unit, size_t n)
{
	char *head = repeat(unit, n);
	char *s = concat(head, ELLIPSIS);

	free(head);
	return s;
}

static void test_summary_limit(void **state)
{
	static const char *const units[] = {"a", "\xc3\xa9",
					    "\xf0\x9f\x9a\xa8"};
	char *name;
	char *expected;
	char *tail;
	size_t len;
	char *summary;

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		/* Exactly 1024 characters: kept as they are. */
		name = repeat(units[i], 1024);
		assert_summary(name, name);
		free(name);

		/* 1025: 1023 of them and the ellipsis, 1024 in all. */
		name = repeat(units[i], 1025);
		expected = cut_of(units[i], 1023);
		assert_summary(name, expected);
		summary = summary_for(name, &len);
		assert_int_equal(count_chars(summary, len), 1024);
		free(summary);
		free(expected);
		free(name);
	}

	/* Multibyte characters at the cut are never split. */
	tail = repeat("a", 1022);
	name = concat(tail, "\xc3\xa9\xf0\x9f\x9a\xa8z");
	expected = concat(tail, "\xc3\xa9" ELLIPSIS);
	assert_summary(name, expected);
	free(expected);
	free(name);

	name = concat(tail, "\xf0\x9f\x9a\xa8\xc3\xa9z");
	expected = concat(tail, "\xf0\x9f\x9a\xa8" ELLIPSIS);
	assert_summary(name, expected);
	free(expected);
	free(name);
	free(tail);

	/* Replacement characters count as the characters they are. */
	name = repeat("\xff", 1025);
	expected = cut_of(FFFD, 1023);
	assert_summary(name, expected);
	free(expected);
	free(name);

	/* Far past RENDER_FIELD_MAX still ends at 1024 characters. */
	name = repeat("\xf0\x9f\x9a\xa8", 30000);
	expected = cut_of("\xf0\x9f\x9a\xa8", 1023);
	assert_summary(name, expected);
	free(expected);
	free(name);
}

static void test_dedup_key(void **state)
{
	static const char *const unprintable[] = {"a\nb", "tab\t", "bad\xff",
						  "del\x7f", ""};
	char hex[65];
	char *key = NULL;
	char *again = NULL;
	char *id;
	char *expected;

	id = repeat("k", 255);
	assert_int_equal(render_dedup_key(id, &key), 0);
	assert_string_equal(key, id);
	free(key);
	free(id);

	assert_int_equal(render_dedup_key(ARN_TEST_ALARM, &key), 0);
	assert_string_equal(key, ARN_TEST_ALARM);
	free(key);

	/* 256 bytes: hashed, stable, well within the limit. */
	id = repeat("k", 256);
	util_sha256_hex(id, 256, hex);
	expected = concat("sha256:", hex);
	assert_int_equal(render_dedup_key(id, &key), 0);
	assert_int_equal(render_dedup_key(id, &again), 0);
	assert_string_equal(key, expected);
	assert_string_equal(again, key);
	assert_true(strlen(key) <= RENDER_DEDUP_KEY_MAX);
	free(again);
	free(key);
	free(expected);
	free(id);

	/* 128 two-byte characters are 256 bytes: hashed too. */
	id = repeat("\xc3\xa9", 128);
	assert_int_equal(render_dedup_key(id, &key), 0);
	assert_int_equal(strncmp(key, "sha256:", 7), 0);
	free(key);
	free(id);

	/* Not printable text: hashed, so the key is always safe. */
	for (size_t i = 0; i < ARRAY_SIZE(unprintable); i++) {
		const char *s = unprintable[i];

		util_sha256_hex(s, strlen(s), hex);
		assert_int_equal(render_dedup_key(s, &key), 0);
		assert_string_equal(key + 7, hex);
		assert_int_equal(strncmp(key, "sha256:", 7), 0);
		free(key);
	}

	key = (char *)"untouched";
	assert_int_equal(render_dedup_key(NULL, &key), -EINVAL);
	assert_string_equal(key, "untouched");
}

static void test_body_runbook(void **state)
{
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	char *body = NULL;
	size_t len = 0;

	alert_ca_central(&a);
	ctx = context_for(&a);
	assert_int_equal(render_runbook(&ctx, &payload), 0);

	assert_int_equal(render_event_body(payload, "R0UT1NGKEY", "trigger",
					   ARN_TEST_ALARM, "alertbridge",
					   "https://alertbridge.example/",
					   &body, &len),
			 0);
	assert_string_equal(
		body,
		"{\"routing_key\":\"R0UT1NGKEY\",\"event_action\":\"trigger\","
		"\"dedup_key\":\"" ARN_TEST_ALARM "\",\"payload\":{"
		"\"summary\":\"GhostLine Alert: Test alarm\",\"source\":"
		"\"aws-cloudwatch\",\"severity\":\"critical\",\"timestamp\":"
		"\"2022-09-25T18:50:37.811Z\",\"custom_details\":{"
		"\"environment\":\"production\",\"region\":\"ca-central-1\","
		"\"metric\":\"ConcurrentExecutions\",\"value\":\"6.0\"}},"
		"\"client\":\"alertbridge\",\"client_url\":"
		"\"https://alertbridge.example/\"}");
	assert_int_equal(len, strlen(body));
	free(body);

	/* Resolve: the dedup_key finds the alert, no payload needed. */
	assert_int_equal(render_event_body(NULL, "R", "resolve", "k", NULL,
					   NULL, &body, &len),
			 0);
	assert_string_equal(body, "{\"routing_key\":\"R\",\"event_action\":"
				  "\"resolve\",\"dedup_key\":\"k\"}");
	free(body);

	/* A trigger without dedup_key: PagerDuty assigns one. */
	assert_int_equal(render_event_body(payload, "R", "trigger", NULL, NULL,
					   NULL, &body, &len),
			 0);
	assert_null(strstr(body, "dedup_key"));
	free(body);

	json_decref(payload);
}

static void test_body_invalid(void **state)
{
	json_t *payload = json_pack("{s:s}", "summary", "x");
	json_t *array = json_array();
	char *body = (char *)"untouched";
	size_t len = 7;
	char *key255 = repeat("k", 255);
	char *key256 = repeat("k", 256);

	assert_int_equal(render_event_body(payload, "R", "trigger", key255,
					   NULL, NULL, &body, &len),
			 0);
	free(body);
	body = (char *)"untouched";
	len = 7;

	assert_int_equal(render_event_body(payload, "R", "fire", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", NULL, "k", NULL, NULL,
					   &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "Trigger", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "", "trigger", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, NULL, "trigger", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "trigger", key256,
					   NULL, NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "trigger", "", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "resolve", NULL, NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "acknowledge", NULL,
					   NULL, NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(NULL, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(array, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(render_event_body(payload, "R", "trigger", "k",
					   "bad\xff", NULL, &body, &len),
			 -EINVAL);

	assert_string_equal(body, "untouched");
	assert_int_equal(len, 7);

	free(key256);
	free(key255);
	json_decref(array);
	json_decref(payload);
}

/* A payload whose custom_details hold entries of the given sizes. */
static json_t *payload_with_details(const char *const *keys,
				    const size_t *sizes, size_t n)
{
	json_t *payload = json_pack("{s:s, s:s, s:s, s:{}}", "summary",
				    "Big \xf0\x9f\x9a\xa8 alert", "source",
				    "aws-cloudwatch", "severity", "error",
				    "custom_details");
	json_t *details = json_object_get(payload, "custom_details");

	assert_non_null(details);
	for (size_t i = 0; i < n; i++) {
		char *value = repeat("v", sizes[i]);

		assert_int_equal(json_object_set_new(details, keys[i],
						     json_string(value)),
				 0);
		free(value);
	}
	return payload;
}

static json_t *body_parse(const char *body, size_t len)
{
	json_error_t error;
	json_t *parsed;

	assert_true(len <= RENDER_BODY_MAX);
	assert_int_equal(len, strlen(body));
	parsed = json_loads(body, 0, &error);
	if (!parsed)
		fail_msg("body does not parse: %s", error.text);
	return parsed;
}

static void test_body_trimmed(void **state)
{
	static const char *const keys[] = {"huge", "note", "log", "trace"};
	static const size_t sizes[] = {600 * 1024, 10, 20 * 1024, 5 * 1024};
	json_t *payload;
	json_t *parsed;
	json_t *details;
	char *body = NULL;
	size_t len = 0;

	payload = payload_with_details(keys, sizes, ARRAY_SIZE(keys));
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 0);
	parsed = body_parse(body, len);
	details = json_object_get(json_object_get(parsed, "payload"),
				  "custom_details");

	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(parsed, "payload"), "summary")),
		"Big \xf0\x9f\x9a\xa8 alert");
	assert_null(json_object_get(details, "huge"));
	assert_string_equal(json_string_value(json_object_get(details, "note")),
			    "vvvvvvvvvv");
	assert_int_equal(json_string_length(json_object_get(details, "log")),
			 20 * 1024);
	assert_non_null(json_object_get(details, "trace"));
	assert_int_equal(json_array_size(json_object_get(
				 details, "alertbridge_dropped")),
			 1);
	assert_string_equal(
		json_string_value(json_array_get(
			json_object_get(details, "alertbridge_dropped"), 0)),
		"huge");

	/* The caller's payload is left as it was. */
	assert_non_null(json_object_get(
		json_object_get(payload, "custom_details"), "huge"));

	json_decref(parsed);
	json_decref(payload);
	free(body);
}

static void test_body_trimmed_largest_first(void **state)
{
	static const char *const keys[] = {"c", "a", "d", "b"};
	static const size_t sizes[] = {200 * 1024, 400 * 1024, 10, 350 * 1024};
	json_t *payload;
	json_t *parsed;
	json_t *details;
	json_t *dropped;
	char *body = NULL;
	size_t len = 0;

	/* Dropping a alone leaves 550 KB: b goes too, c stays. */
	payload = payload_with_details(keys, sizes, ARRAY_SIZE(keys));
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 0);
	parsed = body_parse(body, len);
	details = json_object_get(json_object_get(parsed, "payload"),
				  "custom_details");
	dropped = json_object_get(details, "alertbridge_dropped");

	assert_int_equal(json_array_size(dropped), 2);
	assert_string_equal(json_string_value(json_array_get(dropped, 0)), "a");
	assert_string_equal(json_string_value(json_array_get(dropped, 1)), "b");
	assert_non_null(json_object_get(details, "c"));
	assert_non_null(json_object_get(details, "d"));

	json_decref(parsed);
	json_decref(payload);
	free(body);
}

/*
 * Escaping makes a body bigger than its text: 64 KB of control bytes
 * encode to 384 KB. Two such details cannot both stay; of equal ones
 * the later is dropped.
 */
static void test_body_trimmed_after_escaping(void **state)
{
	struct config_detail details[] = {
		{"r1", "{{reason}}"},
		{"r2", "{{reason}}"},
		{"small", "{{alert_name}}"},
	};
	struct config_template tpl = {
		.summary = "{{alert_name}}",
		.source = "aws-cloudwatch",
		.details = details,
		.n_details = ARRAY_SIZE(details),
	};
	struct alert a;
	struct render_context ctx;
	json_t *payload = NULL;
	json_t *parsed;
	json_t *got;
	char *reason = repeat("\x01", 100000);
	char *body = NULL;
	size_t len = 0;

	alert_ca_central(&a);
	a.reason = reason;
	ctx = context_for(&a);

	assert_int_equal(render_payload(&tpl, &ctx, &payload), 0);
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 0);
	parsed = body_parse(body, len);
	got = json_object_get(json_object_get(parsed, "payload"),
			      "custom_details");

	assert_int_equal(json_string_length(json_object_get(got, "r1")),
			 RENDER_FIELD_MAX);
	assert_null(json_object_get(got, "r2"));
	assert_string_equal(json_string_value(json_object_get(got, "small")),
			    "Test alarm");

	json_decref(parsed);
	json_decref(payload);
	free(body);
	free(reason);
}

static void test_body_too_big(void **state)
{
	char *source = repeat("s", 600 * 1024);
	json_t *payload = json_pack("{s:s, s:s, s:s, s:{s:s}}", "summary", "x",
				    "source", source, "severity", "info",
				    "custom_details", "k", "v");
	char *body = (char *)"untouched";
	size_t len = 0;

	/* The trigger's own fields are never dropped. */
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 -E2BIG);
	assert_string_equal(body, "untouched");

	json_object_del(payload, "custom_details");
	assert_int_equal(render_event_body(payload, "R", "trigger", "k", NULL,
					   NULL, &body, &len),
			 -E2BIG);

	json_decref(payload);
	free(source);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_every_field),
		cmocka_unit_test(test_expand_missing_values),
		cmocka_unit_test(test_expand_guardduty),
		cmocka_unit_test(test_expand_console_url),
		cmocka_unit_test(test_expand_literal_braces),
		cmocka_unit_test(test_expand_unknown_field),
		cmocka_unit_test(test_expand_bounded),
		cmocka_unit_test(test_payload_runbook),
		cmocka_unit_test(test_payload_optional_fields),
		cmocka_unit_test(test_payload_fallbacks),
		cmocka_unit_test(test_payload_severity),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_summary_limit),
		cmocka_unit_test(test_dedup_key),
		cmocka_unit_test(test_body_runbook),
		cmocka_unit_test(test_body_invalid),
		cmocka_unit_test(test_body_trimmed),
		cmocka_unit_test(test_body_trimmed_largest_first),
		cmocka_unit_test(test_body_trimmed_after_escaping),
		cmocka_unit_test(test_body_too_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
