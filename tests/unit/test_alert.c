/*
 * Unit tests for lib/alert.c, on the real fixtures and on messages
 * built from AWS's documented formats.
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

#include "alert.h"
#include "timeutil.h"
#include "util.h"

/* When the test pretends the message arrived: 2030-01-01T00:00:00Z. */
#define RECEIVED_MS INT64_C(1893456000000)

#define SIGNED_FIXTURE                                                         \
	FIXTURES_DIR "/sns/real-signed/"                                       \
		     "cloudwatch-alarm-ca-central-1-2022.json"
#define LAMBDA_SINGLE                                                          \
	FIXTURES_DIR                                                           \
	"/cloudwatch/cloudwatch-alarm-sns-lambda-single-metric.json"
#define LAMBDA_MATH                                                            \
	FIXTURES_DIR "/cloudwatch/"                                            \
		     "cloudwatch-alarm-sns-lambda-metric-math.json"
#define COMPOSITE                                                              \
	FIXTURES_DIR "/cloudwatch/cloudwatch-composite-alarm-message.json"
#define LOCALSTACK                                                             \
	FIXTURES_DIR                                                           \
	"/cloudwatch/cloudwatch-alarm-message-recorded-2026-localstack.json"
#define ANOMALY                                                                \
	FIXTURES_DIR "/sns/real-unverified/"                                   \
		     "cloudwatch-alarm-sns-http-anomaly-detection.json"
#define EC2_CPU                                                                \
	FIXTURES_DIR                                                           \
	"/sns/real-unverified/cloudwatch-alarm-sns-http-ec2-cpu.json"
#define GUARDDUTY                                                              \
	FIXTURES_DIR "/sns/real-unverified/guardduty-finding-sns-http.json"

/*
 * An AWS Budgets notification as AWS publishes it to SNS (the body of
 * the e-mail alert, one line per field); the account and topic match
 * the signed fixture's.
 */
#define BUDGET_TOPIC "arn:aws:sns:ca-central-1:017790921725:test-sre-bot"
#define BUDGET_SUBJECT                                                         \
	"AWS Budgets: Test Budget has exceeded your alert threshold"
static const char budget_actual[] =
	"AWS Budget Notification September 26, 2022\n"
	"AWS Account 017790921725\n"
	"\n"
	"Dear AWS Customer,\n"
	"\n"
	"You requested that we alert you when the ACTUAL Cost associated "
	"with your Test Budget budget is greater than $0.16 for the current "
	"month. The ACTUAL Cost associated with this budget is $0.59. You "
	"can find additional details below and by accessing the AWS Budgets "
	"dashboard [1].\n"
	"\n"
	"Budget Name: Test Budget\n"
	"Budget Type: Cost\n"
	"Budgeted Amount: $0.20\n"
	"Alert Type: ACTUAL\n"
	"Alert Threshold: > $0.16\n"
	"ACTUAL Amount: $0.59\n"
	"\n"
	"[1] https://console.aws.amazon.com/billing/home#/budgets\n";

/* A forecast alert, with CRLF line ends and a relay's leading newline. */
static const char budget_forecast[] =
	"\r\n  AWS Budget Notification March 04, 2023\r\n"
	"AWS Account 265627204426\r\n"
	"\r\n"
	"Dear AWS Customer,\r\n"
	"\r\n"
	"You requested that we alert you when the FORECASTED Cost associated "
	"with your killswitch budget is greater than $56.00 for the current "
	"month. The FORECASTED Cost associated with this budget is $81.37. "
	"You can find additional details below and by accessing the AWS "
	"Budgets dashboard [1].\r\n"
	"\r\n"
	"Budget Name: killswitch\r\n"
	"Budget Type: Cost\r\n"
	"Budgeted Amount: $70.00\r\n"
	"Alert Type: FORECASTED\r\n"
	"Alert Threshold: > $56.00\r\n"
	"FORECASTED Amount: $81.37\r\n"
	"\r\n"
	"[1] https://console.aws.amazon.com/billing/home#/budgets\r\n";

/* AWS's documented sample of an EC2 state-change event. */
static const char ec2_event[] =
	"{\"version\":\"0\",\"id\":\"7bf73129-1428-4cd3-a780-95db273d1602\","
	"\"detail-type\":\"EC2 Instance State-change Notification\","
	"\"source\":\"aws.ec2\",\"account\":\"123456789012\","
	"\"time\":\"2015-11-11T21:29:54Z\",\"region\":\"us-east-1\","
	"\"resources\":[\"arn:aws:ec2:us-east-1:123456789012:instance/"
	"i-abcd1111\"],"
	"\"detail\":{\"instance-id\":\"i-abcd1111\",\"state\":\"pending\"}}";

/* The envelope of a fixture: the body itself or Records[0].Sns. */
struct fixture {
	char *message;
	char *topic_arn;
	char *subject;
};

static void fixture_load(const char *path, struct fixture *f)
{
	json_error_t error;
	json_t *root;
	json_t *envelope;

	root = json_load_file(path, 0, &error);
	if (!root)
		fail_msg("%s: %s", path, error.text);

	envelope = json_object_get(
		json_array_get(json_object_get(root, "Records"), 0), "Sns");
	if (!envelope)
		envelope = root;

	f->message = util_strdup_or_null(
		json_string_value(json_object_get(envelope, "Message")));
	f->topic_arn = util_strdup_or_null(
		json_string_value(json_object_get(envelope, "TopicArn")));
	f->subject = util_strdup_or_null(
		json_string_value(json_object_get(envelope, "Subject")));

	/* A bare Message payload is its own message. */
	if (!f->message)
		f->message = json_dumps(root, JSON_COMPACT);

	json_decref(root);
	assert_non_null(f->message);
}

static void fixture_release(struct fixture *f)
{
	free(f->message);
	free(f->topic_arn);
	free(f->subject);
}

static struct alert *classify_len(const char *message, size_t len,
				  const char *topic_arn, const char *subject)
{
	struct alert *alert = NULL;

	assert_int_equal(alert_classify(message, len, topic_arn, subject,
					RECEIVED_MS, &alert),
			 0);
	assert_non_null(alert);

	/* Promised for every alert, whatever its shape. */
	assert_non_null(alert->identity);
	assert_true(alert->kind < ALERT_KIND_COUNT);
	return alert;
}

static struct alert *classify(const char *message, const char *topic_arn,
			      const char *subject)
{
	return classify_len(message, strlen(message), topic_arn, subject);
}

static struct alert *classify_fixture(const char *path)
{
	struct fixture f = {0};
	struct alert *alert;

	fixture_load(path, &f);
	alert = classify(f.message, f.topic_arn, f.subject);
	fixture_release(&f);
	return alert;
}

/* An alarm message with one field replaced by raw JSON text. */
static struct alert *classify_alarm_with(const char *key, const char *json,
					 const char *topic_arn)
{
	json_t *alarm;
	json_t *value;
	char *message;
	struct alert *alert;

	alarm = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
		"s:{s:s, s:s, s:f, s:[{s:s, s:s}]}}",
		"AlarmName", "cpu-high", "AlarmDescription", "CPU above 80%",
		"AWSAccountId", "123456789012", "NewStateValue", "ALARM",
		"OldStateValue", "OK", "NewStateReason",
		"Threshold Crossed: 1 datapoint [91.5 (01/01/30 "
		"00:00:00)] was greater than the threshold (80.0).",
		"StateChangeTime", "2029-12-31T23:59:00.000+0000", "Region",
		"EU (Ireland)", "AlarmArn",
		"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
		"cpu-high",
		"Trigger", "MetricName", "CPUUtilization", "Namespace",
		"AWS/EC2", "Threshold", 80.0, "Dimensions", "name",
		"InstanceId", "value", "i-0123456789abcdef0");
	assert_non_null(alarm);

	if (json) {
		json_error_t error;

		value = json_loads(json, JSON_DECODE_ANY, &error);
		if (!value)
			fail_msg("bad test JSON %s: %s", json, error.text);
		json_object_set_new(alarm, key, value);
	} else {
		json_object_del(alarm, key);
	}

	message = json_dumps(alarm, JSON_COMPACT);
	alert = classify(message, topic_arn, NULL);
	free(message);
	json_decref(alarm);
	return alert;
}

static void assert_dimension(const struct alert *alert, size_t i,
			     const char *name, const char *value)
{
	assert_true(i < alert->n_dimensions);
	assert_string_equal(alert->dimensions[i].name, name);
	assert_string_equal(alert->dimensions[i].value, value);
}

static int64_t parse_time(const char *s)
{
	int64_t ms = 0;

	assert_int_equal(timeutil_parse(s, &ms), 0);
	return ms;
}

static void test_signed_fixture(void **state)
{
	struct alert *a = classify_fixture(SIGNED_FIXTURE);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_int_equal(a->state, ALERT_STATE_ALARM);
	assert_int_equal(a->old_state, ALERT_STATE_INSUFFICIENT_DATA);
	assert_string_equal(a->name, "Test alarm");
	assert_null(a->description);
	assert_string_equal(a->account, "017790921725");
	assert_string_equal(a->region, "ca-central-1");
	assert_string_equal(a->arn,
			    "arn:aws:cloudwatch:ca-central-1:017790921725:"
			    "alarm:Test alarm");
	assert_string_equal(a->identity, a->arn);
	assert_string_equal(a->namespace, "AWS/Lambda");
	assert_string_equal(a->metric_name, "ConcurrentExecutions");
	assert_string_equal(a->threshold, "5");
	assert_string_equal(a->metric_value, "6.0");
	assert_int_equal(a->n_dimensions, 0);
	assert_null(a->expression);
	assert_null(a->alarm_rule);
	assert_null(a->severity_band);
	assert_true(strncmp(a->reason, "Threshold Crossed: 1 out of", 27) == 0);
	assert_string_equal(a->topic_arn,
			    "arn:aws:sns:ca-central-1:017790921725:"
			    "test-sre-bot");
	assert_string_equal(a->subject,
			    "ALARM: \"Test alarm\" in Canada (Central)");
	assert_false(a->changed_at_is_receipt);
	assert_int_equal(a->changed_at_ms,
			 parse_time("2022-09-25T18:50:37.811Z"));
	alert_free(a);
}

/*
 * The Lambda test payloads carry placeholders: "REGION" in the alarm ARN
 * and "arn:aws:sns:EXAMPLE" as topic. Neither is a region.
 */
static void test_lambda_single_metric(void **state)
{
	struct alert *a = classify_fixture(LAMBDA_SINGLE);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_int_equal(a->state, ALERT_STATE_ALARM);
	assert_null(a->region);
	assert_string_equal(a->account, "123456789012");
	assert_string_equal(a->arn,
			    "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:"
			    "EXAMPLE");
	assert_string_equal(a->identity, a->arn);
	assert_string_equal(a->namespace, "AWS/EC2");
	assert_string_equal(a->metric_name, "NetworkOut");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "InstanceId", "TestInstance");
	assert_string_equal(a->threshold, "0");
	assert_string_equal(a->metric_value, "1234.0");
	assert_string_equal(a->subject, "TestInvoke");
	assert_int_equal(a->changed_at_ms,
			 parse_time("2015-06-03T17:43:27.123Z"));
	alert_free(a);
}

static void test_lambda_metric_math(void **state)
{
	struct alert *a = classify_fixture(LAMBDA_MATH);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_METRIC_MATH);
	assert_null(a->region);
	/* "EXAMPLE" is not an account id. */
	assert_null(a->account);
	assert_string_equal(a->namespace, "AWS/EC2");
	assert_string_equal(a->metric_name, "NetworkOut");
	assert_string_equal(a->expression, "m1*1");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "InstanceId", "TestInstance");
	assert_string_equal(a->threshold, "0");
	assert_string_equal(a->metric_value, "1234.0");
	alert_free(a);
}

static void test_composite(void **state)
{
	struct alert *a = classify_fixture(COMPOSITE);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_COMPOSITE);
	assert_int_equal(a->state, ALERT_STATE_ALARM);
	assert_int_equal(a->old_state, ALERT_STATE_OK);
	assert_string_equal(a->name,
			    "if-sim-app_427809481713_us-east-1-test_node_"
			    "monitor");
	/* AlarmDescription is "": nothing to show. */
	assert_null(a->description);
	assert_string_equal(a->region, "us-east-1");
	assert_string_equal(a->account, "427809481713");
	assert_true(strncmp(a->alarm_rule,
			    "ALARM(arn:aws:cloudwatch:us-east-1:427809481713:"
			    "alarm:",
			    54) == 0);
	assert_non_null(strstr(a->alarm_rule, " OR ALARM("));
	assert_null(a->namespace);
	assert_null(a->metric_name);
	assert_null(a->threshold);
	assert_null(a->metric_value);
	assert_int_equal(a->changed_at_ms,
			 parse_time("2021-11-10T02:45:55.640Z"));
	assert_string_equal(a->identity, a->arn);
	alert_free(a);
}

/* LocalStack normalised the recording: "<region>", "date". */
static void test_localstack(void **state)
{
	struct alert *a = classify_fixture(LOCALSTACK);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_null(a->region);
	assert_string_equal(a->account, "111111111111");
	assert_string_equal(a->description, "testing cloudwatch alarms");
	assert_string_equal(a->namespace, "<namespace:1>");
	assert_string_equal(a->metric_name, "my-metric1");
	assert_string_equal(a->threshold, "21");
	assert_string_equal(a->metric_value, "21.5");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "InstanceId", "abc");

	/* "date" is no time: the receipt time stands in, and says so. */
	assert_true(a->changed_at_is_receipt);
	assert_int_equal(a->changed_at_ms, RECEIVED_MS);
	alert_free(a);
}

static void test_anomaly(void **state)
{
	struct alert *a = classify_fixture(ANOMALY);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_ANOMALY);
	assert_int_equal(a->state, ALERT_STATE_OK);
	assert_int_equal(a->old_state, ALERT_STATE_ALARM);
	assert_string_equal(a->region, "ap-northeast-2");
	assert_string_equal(a->account, "257706363616");
	assert_string_equal(a->expression, "ANOMALY_DETECTION_BAND(m1, 0.592)");
	assert_string_equal(a->namespace, "ContainerInsights");
	assert_string_equal(a->metric_name, "pod_cpu_utilization");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "ClusterName", "cloudone-dev-v1-eks-cluster");
	assert_string_equal(a->metric_value, "0.46522264287069004");
	assert_null(a->threshold);
	assert_null(a->description);
	assert_int_equal(a->changed_at_ms,
			 parse_time("2021-06-27T13:53:39.351Z"));
	alert_free(a);
}

static void test_ec2_cpu(void **state)
{
	struct alert *a = classify_fixture(EC2_CPU);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_int_equal(a->state, ALERT_STATE_ALARM);
	assert_string_equal(a->region, "ap-northeast-2");
	assert_string_equal(a->metric_name, "CPUUtilization");
	assert_string_equal(a->namespace, "AWS/EC2");
	assert_string_equal(a->threshold, "15");
	assert_string_equal(a->metric_value, "17.2564528039004");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "InstanceId", "i-0f672ea50a80cda4b");
	assert_string_equal(a->identity,
			    "arn:aws:cloudwatch:ap-northeast-2:257706363616:"
			    "alarm:EC2-CPU");
	alert_free(a);
}

static void test_guardduty(void **state)
{
	struct alert *a = classify_fixture(GUARDDUTY);

	(void)state;

	assert_int_equal(a->kind, ALERT_KIND_GUARDDUTY);
	assert_int_equal(a->state, ALERT_STATE_NONE);
	assert_string_equal(a->name, "UnauthorizedAccess:EC2/SSHBruteForce");
	assert_string_equal(a->description,
			    "198.51.100.0 is performing SSH brute force "
			    "attacks against i-99999999. ");
	assert_true(strncmp(a->reason, "198.51.100.0 is performing", 26) == 0);
	assert_string_equal(a->source, "aws.guardduty");
	assert_string_equal(a->detail_type, "GuardDuty Finding");
	assert_string_equal(a->account, "785665517223");
	assert_string_equal(a->region, "us-east-1");
	assert_true(a->finding_severity == 2.0);
	assert_string_equal(a->severity_band, "low");
	assert_string_equal(a->arn, "arn:aws:guardduty:us-east-1:785665517223:"
				    "detector/42b37a41c84bb93843b6829029ead712/"
				    "finding/f0b37a7d5504bba0ec3493e776a0c54f");
	assert_string_equal(a->identity, a->arn);
	assert_int_equal(a->changed_at_ms,
			 parse_time("2018-11-08T20:21:59.714Z"));
	alert_free(a);
}

/* The GuardDuty fixture's message with detail fields changed. */
static struct alert *classify_finding_with(const char *key, json_t *value,
					   const char *event_key,
					   json_t *event_value)
{
	struct fixture f = {0};
	json_t *event;
	char *message;
	struct alert *alert;

	fixture_load(GUARDDUTY, &f);
	event = json_loads(f.message, 0, NULL);
	assert_non_null(event);

	if (key && value)
		json_object_set_new(json_object_get(event, "detail"), key,
				    value);
	else if (key)
		json_object_del(json_object_get(event, "detail"), key);
	if (event_key && event_value)
		json_object_set_new(event, event_key, event_value);
	else if (event_key)
		json_object_del(event, event_key);

	message = json_dumps(event, JSON_COMPACT);
	alert = classify(message, NULL, NULL);
	free(message);
	json_decref(event);
	fixture_release(&f);
	return alert;
}

static void test_guardduty_bands(void **state)
{
	static const struct {
		double severity;
		const char *band;
	} cases[] = {
		{1.0, "low"},     {3.9, "low"},       {3.95, "low"},
		{4.0, "medium"},  {5.5, "medium"},    {6.9, "medium"},
		{6.99, "medium"}, {7.0, "high"},      {8.9, "high"},
		{8.95, "high"},   {9.0, "critical"},  {10.0, "critical"},
		{0.5, "low"},     {11.0, "critical"},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct alert *a = classify_finding_with(
			"severity", json_real(cases[i].severity), NULL, NULL);

		assert_int_equal(a->kind, ALERT_KIND_GUARDDUTY);
		assert_true(a->finding_severity == cases[i].severity);
		if (strcmp(a->severity_band, cases[i].band) != 0)
			fail_msg("severity %g: band %s, want %s",
				 cases[i].severity, a->severity_band,
				 cases[i].band);
		alert_free(a);
	}
}

static void test_guardduty_fallbacks(void **state)
{
	struct alert *a;

	(void)state;

	/* A severity of the wrong type gives no band, not a crash. */
	a = classify_finding_with("severity", json_string("HIGH"), NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GUARDDUTY);
	assert_null(a->severity_band);
	alert_free(a);

	/* Without the ARN, the finding id names the incident. */
	a = classify_finding_with("arn", NULL, NULL, NULL);
	assert_string_equal(a->identity, "guardduty:785665517223:"
					 "f0b37a7d5504bba0ec3493e776a0c54f");
	assert_string_equal(a->region, "us-east-1");
	alert_free(a);

	/* Without updatedAt, the event's time. */
	a = classify_finding_with("updatedAt", json_integer(5), NULL, NULL);
	assert_int_equal(a->changed_at_ms, parse_time("2018-11-08T20:25:00Z"));
	alert_free(a);

	/* A display name in "region" is not a region: the ARN's is used. */
	a = classify_finding_with("region", json_string("EU (Ireland)"),
				  "region", json_string("Europe (Ireland)"));
	assert_string_equal(a->region, "us-east-1");
	alert_free(a);

	/* Without the envelope's account, the finding's. */
	a = classify_finding_with("accountId", json_string("111122223333"),
				  "account", NULL);
	assert_string_equal(a->account, "111122223333");
	alert_free(a);

	/* Identified by source alone, whatever the detail-type says. */
	a = classify_finding_with(NULL, NULL, "detail-type",
				  json_string("Something Else"));
	assert_int_equal(a->kind, ALERT_KIND_GUARDDUTY);
	alert_free(a);
}

static void test_eventbridge(void **state)
{
	struct alert *a;
	struct alert *b;
	char *other;

	(void)state;

	a = classify(ec2_event, NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_EVENTBRIDGE);
	assert_int_equal(a->state, ALERT_STATE_NONE);
	assert_string_equal(a->name, "EC2 Instance State-change Notification");
	assert_string_equal(a->source, "aws.ec2");
	assert_string_equal(a->detail_type,
			    "EC2 Instance State-change Notification");
	assert_string_equal(a->account, "123456789012");
	assert_string_equal(a->region, "us-east-1");
	assert_null(a->severity_band);
	assert_int_equal(a->changed_at_ms, parse_time("2015-11-11T21:29:54Z"));
	assert_non_null(strstr(a->reason, "\"state\":\"pending\""));
	assert_string_equal(a->identity,
			    "eventbridge:aws.ec2:EC2 Instance State-change "
			    "Notification:arn:aws:ec2:us-east-1:123456789012:"
			    "instance/i-abcd1111");

	/* The same resource's next event, with its own id, groups. */
	other = strdup(ec2_event);
	assert_non_null(other);
	memcpy(strstr(other, "7bf73129"), "00000000", 8);
	b = classify(other, NULL, NULL);
	assert_string_equal(b->identity, a->identity);
	alert_free(b);
	free(other);
	alert_free(a);

	/* Without resources, each event is its own incident. */
	a = classify("{\"id\":\"e-1\",\"detail-type\":\"Scheduled Event\","
		     "\"source\":\"aws.events\",\"resources\":[],"
		     "\"region\":\"Europe (Ireland)\",\"detail\":{}}",
		     "arn:aws:sns:eu-west-1:123456789012:events", NULL);
	assert_int_equal(a->kind, ALERT_KIND_EVENTBRIDGE);
	assert_string_equal(a->identity, "eventbridge:e-1");
	assert_string_equal(a->region, "eu-west-1");
	assert_string_equal(a->account, "123456789012");
	assert_true(a->changed_at_is_receipt);
	alert_free(a);

	/* Neither resources nor id: a hash of the message itself. */
	a = classify("{\"detail-type\":\"x\",\"source\":\"y\","
		     "\"resources\":[7],\"detail\":{}}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_EVENTBRIDGE);
	assert_null(a->arn);
	assert_true(strncmp(a->identity, "message:", 8) == 0);
	assert_int_equal(strlen(a->identity), 8 + 64);
	alert_free(a);

	/* A detail that is not an object is not an event. */
	a = classify("{\"detail-type\":\"x\",\"source\":\"y\","
		     "\"detail\":\"z\"}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);
}

static void test_budget(void **state)
{
	struct alert *a;
	struct alert *b;

	(void)state;

	a = classify(budget_actual, BUDGET_TOPIC, BUDGET_SUBJECT);
	assert_int_equal(a->kind, ALERT_KIND_BUDGET);
	assert_int_equal(a->state, ALERT_STATE_NONE);
	assert_string_equal(a->name, "Test Budget");
	assert_string_equal(a->account, "017790921725");
	assert_string_equal(a->threshold, "> $0.16");
	assert_string_equal(a->metric_value, "$0.59");
	assert_true(strncmp(a->description, "You requested that we alert",
			    27) == 0);
	assert_string_equal(a->reason, budget_actual);
	assert_int_equal(a->n_dimensions, 3);
	assert_dimension(a, 0, "BudgetType", "Cost");
	assert_dimension(a, 1, "BudgetedAmount", "$0.20");
	assert_dimension(a, 2, "AlertType", "ACTUAL");
	assert_string_equal(a->region, "ca-central-1");
	assert_true(a->changed_at_is_receipt);
	assert_string_equal(a->identity,
			    "budget:017790921725:Test Budget:ACTUAL:> $0.16");

	b = classify(budget_forecast, NULL, NULL);
	assert_int_equal(b->kind, ALERT_KIND_BUDGET);
	assert_string_equal(b->name, "killswitch");
	assert_string_equal(b->account, "265627204426");
	assert_string_equal(b->threshold, "> $56.00");
	assert_string_equal(b->metric_value, "$81.37");
	assert_dimension(b, 2, "AlertType", "FORECASTED");
	assert_null(b->region);
	assert_string_equal(b->identity,
			    "budget:265627204426:killswitch:FORECASTED:> "
			    "$56.00");
	assert_string_not_equal(a->identity, b->identity);
	alert_free(b);
	alert_free(a);

	/* Only the heading line itself makes a Budgets message. */
	a = classify("AWS Budget Notifications are useful\nBudget Name: x",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);
	a = classify("Fwd: AWS Budget Notification\nBudget Name: x", NULL,
		     NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);

	/* A bare heading is a budget with nothing in it, named by it. */
	a = classify("AWS Budget Notification", NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_BUDGET);
	assert_string_equal(a->name, "AWS Budget Notification");
	assert_string_equal(a->identity, "budget::AWS Budget Notification::");
	alert_free(a);
}

static void test_generic_shapes(void **state)
{
	static const struct {
		const char *message;
		const char *name;
	} cases[] = {
		{"hello", "hello"},
		{"{\"truncated\": ", "{\"truncated\":"},
		{"[1,2]", "[1,2]"},
		{"42", "42"},
		{"null", "null"},
		{"\"a JSON string\"", "\"a JSON string\""},
		{"{}", "{}"},
		{"{\"AlarmName\":\"x\"}", "{\"AlarmName\":\"x\"}"},
		{"{\"AlarmName\":\"x\",\"NewStateValue\":\"ALARM\"",
		 "{\"AlarmName\":\"x\",\"NewStateValue\":\"ALARM\""},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct alert *a = classify(cases[i].message, NULL, NULL);

		if (a->kind != ALERT_KIND_GENERIC)
			fail_msg("%s: kind %s", cases[i].message,
				 alert_kind_name(a->kind));
		assert_int_equal(a->state, ALERT_STATE_NONE);
		assert_string_equal(a->reason, cases[i].message);
		assert_string_equal(a->name, cases[i].name);
		assert_true(strncmp(a->identity, "generic:", 8) == 0);
		assert_int_equal(strlen(a->identity), 8 + 64);
		assert_true(a->changed_at_is_receipt);
		assert_int_equal(a->changed_at_ms, RECEIVED_MS);
		alert_free(a);
	}
}

static void test_generic_empty(void **state)
{
	struct alert *a;
	struct alert *b;

	(void)state;

	a = classify("", NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	assert_null(a->name);
	assert_null(a->reason);
	assert_true(strncmp(a->identity, "generic:", 8) == 0);

	b = classify_len(NULL, 0, NULL, NULL);
	assert_int_equal(b->kind, ALERT_KIND_GENERIC);
	assert_string_equal(b->identity, a->identity);
	alert_free(b);
	alert_free(a);

	/* Only white space: no name either. */
	a = classify(" \r\n\t\n", NULL, NULL);
	assert_null(a->name);
	alert_free(a);
}

static void test_generic_identity(void **state)
{
	const char *topic = "arn:aws:sns:eu-west-1:123456789012:ops";
	struct alert *a;
	struct alert *b;

	(void)state;

	/* The subject names it; the first line only without one. */
	a = classify("disk full on db-1\nat 10:00", topic, "Disk alert");
	assert_string_equal(a->name, "Disk alert");
	assert_string_equal(a->region, "eu-west-1");
	assert_string_equal(a->account, "123456789012");
	assert_string_equal(a->reason, "disk full on db-1\nat 10:00");

	/* Same topic and subject, another time stamp: same incident. */
	b = classify("disk full on db-1\nat 10:05", topic, "Disk alert");
	assert_string_equal(b->identity, a->identity);
	alert_free(b);

	/* Another subject, or another topic: another incident. */
	b = classify("disk full on db-1\nat 10:00", topic, "CPU alert");
	assert_string_not_equal(b->identity, a->identity);
	alert_free(b);
	b = classify("disk full on db-1\nat 10:00",
		     "arn:aws:sns:eu-west-1:123456789012:other", "Disk alert");
	assert_string_not_equal(b->identity, a->identity);
	alert_free(b);
	alert_free(a);

	/* Without a subject: the first non-blank line, trimmed. */
	a = classify("\n\n  disk full on db-1  \r\nat 10:00", topic, NULL);
	assert_string_equal(a->name, "disk full on db-1");
	b = classify("disk full on db-1\nat 10:05", topic, NULL);
	assert_string_equal(b->identity, a->identity);
	alert_free(b);
	b = classify("disk full on db-2\nat 10:00", topic, NULL);
	assert_string_not_equal(b->identity, a->identity);
	alert_free(b);
	alert_free(a);
}

static void test_generic_bounds(void **state)
{
	const size_t size = 1024 * 1024;
	char *text = malloc(size + 1);
	struct alert *a;

	(void)state;

	/* One odd byte, then two-byte characters: cuts must not split one. */
	assert_non_null(text);
	text[0] = 'x';
	for (size_t i = 1; i + 1 < size; i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[size - 1] = '\n';
	text[size] = '\0';

	a = classify(text, NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	assert_true(strlen(a->reason) <= ALERT_TEXT_MAX);
	assert_true(strlen(a->reason) >= ALERT_TEXT_MAX - 3);
	assert_true(util_utf8_valid(a->reason, strlen(a->reason)));
	assert_true(strlen(a->name) <= ALERT_GENERIC_NAME_MAX);
	assert_true(strlen(a->name) >= ALERT_GENERIC_NAME_MAX - 3);
	assert_true(util_utf8_valid(a->name, strlen(a->name)));
	alert_free(a);

	/* A long subject is bounded too. */
	a = classify("x", NULL, text + 1);
	assert_true(strlen(a->name) <= ALERT_FIELD_MAX);
	assert_true(util_utf8_valid(a->name, strlen(a->name)));
	assert_true(strlen(a->subject) <= ALERT_FIELD_MAX);
	alert_free(a);
	free(text);
}

/* Text is copied as it is; rendering replaces what is not UTF-8. */
static void test_generic_bytes(void **state)
{
	static const char invalid_json[] =
		"{\"AlarmName\":\"\xff\xfe\",\"NewStateValue\":\"ALARM\"}";
	static const char with_nul[] = "before\0after";
	struct alert *a;

	(void)state;

	/* jansson refuses invalid UTF-8: the message is text. */
	a = classify(invalid_json, NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	assert_string_equal(a->reason, invalid_json);
	alert_free(a);

	/* The text ends at a NUL byte. */
	a = classify_len(with_nul, sizeof(with_nul) - 1, NULL, NULL);
	assert_string_equal(a->reason, "before");
	alert_free(a);

	/* "\u0000" inside JSON is refused as well. */
	a = classify("{\"AlarmName\":\"a\\u0000b\",\"NewStateValue\":\"OK\"}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);
}

static char *nested(size_t depth, const char *inside)
{
	struct strbuf sb;

	strbuf_init(&sb, 4 * depth + strlen(inside) + 16);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(strbuf_puts(&sb, "["), 0);
	assert_int_equal(strbuf_puts(&sb, inside), 0);
	for (size_t i = 0; i < depth; i++)
		assert_int_equal(strbuf_puts(&sb, "]"), 0);
	return strbuf_detach(&sb, NULL);
}

static void test_deep_nesting(void **state)
{
	char *deep = nested(200000, "1");
	char *alarm;
	char *shallow = nested(1000, "1");
	struct alert *a;

	(void)state;

	a = classify(deep, NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	assert_true(strlen(a->reason) <= ALERT_TEXT_MAX);
	alert_free(a);

	/* Deep but within the parser's limit, in a field nobody reads. */
	assert_true(asprintf(&alarm,
			     "{\"AlarmName\":\"n\",\"NewStateValue\":\"OK\","
			     "\"Trigger\":{\"Dimensions\":%s,\"Metrics\":%s}}",
			     shallow, shallow) > 0);
	a = classify(alarm, NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC_MATH);
	assert_int_equal(a->state, ALERT_STATE_OK);
	assert_int_equal(a->n_dimensions, 0);
	assert_null(a->metric_name);
	alert_free(a);

	free(alarm);
	free(shallow);
	free(deep);
}

static void test_wrong_types(void **state)
{
	struct alert *a;

	(void)state;

	/* The reference message classifies fully. */
	a = classify_alarm_with("Extra", "1", NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_string_equal(a->name, "cpu-high");
	assert_string_equal(a->metric_name, "CPUUtilization");
	assert_string_equal(a->threshold, "80");
	assert_string_equal(a->metric_value, "91.5");
	assert_int_equal(a->n_dimensions, 1);
	alert_free(a);

	/* Without a string AlarmName or NewStateValue it is no alarm. */
	a = classify_alarm_with("AlarmName", "42", NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);
	a = classify_alarm_with("NewStateValue", "null", NULL);
	assert_int_equal(a->kind, ALERT_KIND_GENERIC);
	alert_free(a);

	/* An unknown state is no state. */
	a = classify_alarm_with("NewStateValue", "\"SOMETHING\"", NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_int_equal(a->state, ALERT_STATE_NONE);
	alert_free(a);

	a = classify_alarm_with("Trigger", "\"a string\"", NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_null(a->metric_name);
	assert_null(a->threshold);
	assert_int_equal(a->n_dimensions, 0);
	alert_free(a);

	a = classify_alarm_with("Trigger",
				"{\"MetricName\":7,\"Namespace\":[],"
				"\"Threshold\":\"80\",\"Dimensions\":"
				"{\"name\":\"a\",\"value\":\"b\"}}",
				NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_null(a->metric_name);
	assert_null(a->namespace);
	assert_null(a->threshold);
	assert_int_equal(a->n_dimensions, 0);
	alert_free(a);

	/* Bad entries are skipped; capitalised ones are accepted. */
	a = classify_alarm_with("Trigger",
				"{\"Dimensions\":[1,\"x\",null,[],"
				"{\"name\":1,\"value\":\"v\"},"
				"{\"name\":\"n\"},"
				"{\"Name\":\"N\",\"Value\":\"V\"}]}",
				NULL);
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "N", "V");
	alert_free(a);

	a = classify_alarm_with("Trigger",
				"{\"Metrics\":[1,\"x\",null,[],"
				"{\"Id\":\"m0\",\"MetricStat\":\"s\"},"
				"{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":"
				"{\"MetricName\":\"M\",\"Namespace\":\"NS\","
				"\"Dimensions\":[{\"name\":\"k\",\"value\":"
				"\"v\"}]}}},"
				"{\"Id\":\"e0\",\"Expression\":\"m1*0\","
				"\"ReturnData\":\"true\"},"
				"{\"Id\":\"e1\",\"Expression\":\"m1*2\","
				"\"ReturnData\":true}]}",
				NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC_MATH);
	assert_string_equal(a->metric_name, "M");
	assert_string_equal(a->namespace, "NS");
	assert_dimension(a, 0, "k", "v");
	assert_string_equal(a->expression, "m1*2");
	alert_free(a);

	/* Metrics that are not an array: a single-metric alarm. */
	a = classify_alarm_with("Trigger", "{\"Metrics\":{\"Id\":\"m1\"}}",
				NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	alert_free(a);

	/* ThresholdMetricId that is not a string: not an anomaly band. */
	a = classify_alarm_with(
		"Trigger", "{\"ThresholdMetricId\":1,\"Metrics\":[]}", NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC_MATH);
	alert_free(a);

	/* A band whose expression entry is missing. */
	a = classify_alarm_with("Trigger",
				"{\"ThresholdMetricId\":\"ad1\",\"Metrics\":"
				"[{\"Id\":\"e1\",\"Expression\":\"m1\","
				"\"ReturnData\":true}]}",
				NULL);
	assert_int_equal(a->kind, ALERT_KIND_ANOMALY);
	assert_null(a->expression);
	alert_free(a);

	a = classify_alarm_with("AlarmDescription", "{\"x\":1}", NULL);
	assert_null(a->description);
	alert_free(a);

	a = classify_alarm_with("NewStateReason", "[91.5]", NULL);
	assert_null(a->reason);
	assert_null(a->metric_value);
	alert_free(a);

	a = classify_alarm_with("StateChangeTime", "1640995140000", NULL);
	assert_true(a->changed_at_is_receipt);
	assert_int_equal(a->changed_at_ms, RECEIVED_MS);
	alert_free(a);

	a = classify_alarm_with("AWSAccountId", "123456789012", NULL);
	/* The account then comes from the alarm ARN. */
	assert_string_equal(a->account, "123456789012");
	alert_free(a);

	/* An empty AlarmName: the subject names it, never the JSON text. */
	a = classify("{\"AlarmName\":\"\",\"NewStateValue\":\"OK\"}", NULL,
		     "OK: alarm");
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_string_equal(a->name, "OK: alarm");
	alert_free(a);
	a = classify("{\"AlarmName\":\"\",\"NewStateValue\":\"OK\"}", NULL,
		     NULL);
	assert_null(a->name);
	assert_true(strncmp(a->identity, "message:", 8) == 0);
	alert_free(a);

	/* An AlarmRule beside a Trigger does not make a composite. */
	a = classify_alarm_with("AlarmRule", "\"ALARM(a) OR ALARM(b)\"", NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	alert_free(a);
}

/* Trigger's own metric wins over one in Trigger.Metrics. */
static void test_trigger_precedence(void **state)
{
	struct alert *a;

	(void)state;

	a = classify_alarm_with(
		"Trigger",
		"{\"MetricName\":\"own\",\"Namespace\":\"NS1\","
		"\"Dimensions\":[{\"name\":\"a\",\"value\":\"1\"}],"
		"\"Metrics\":[{\"Id\":\"m1\",\"MetricStat\":"
		"{\"Metric\":{\"MetricName\":\"other\","
		"\"Namespace\":\"NS2\",\"Dimensions\":"
		"[{\"name\":\"b\",\"value\":\"2\"}]}}}]}",
		NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_string_equal(a->metric_name, "own");
	assert_string_equal(a->namespace, "NS1");
	assert_int_equal(a->n_dimensions, 1);
	assert_dimension(a, 0, "a", "1");
	alert_free(a);
}

static void test_composite_shapes(void **state)
{
	struct alert *a;

	(void)state;

	a = classify("{\"AlarmName\":\"c\",\"NewStateValue\":\"ALARM\","
		     "\"AlarmRule\":\"ALARM(a)\",\"Trigger\":\"x\"}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_COMPOSITE);
	assert_string_equal(a->alarm_rule, "ALARM(a)");
	alert_free(a);

	a = classify("{\"AlarmName\":\"c\",\"NewStateValue\":\"ALARM\","
		     "\"TriggeringChildren\":[]}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_COMPOSITE);
	assert_null(a->alarm_rule);
	alert_free(a);

	/* Without AlarmRule, Trigger or children: a single metric. */
	a = classify("{\"AlarmName\":\"c\",\"NewStateValue\":\"ALARM\"}", NULL,
		     NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	alert_free(a);
}

/* "Region" is a display name, spelt differently over the years. */
static void test_region_display_names(void **state)
{
	struct alert *a;

	(void)state;

	a = classify_alarm_with("Region", "\"EU (Ireland)\"", NULL);
	assert_string_equal(a->region, "eu-west-1");
	alert_free(a);

	a = classify_alarm_with("Region", "\"Europe (Ireland)\"", NULL);
	assert_string_equal(a->region, "eu-west-1");
	alert_free(a);

	/* No ARN: the topic's region, and never the display name. */
	a = classify_alarm_with("AlarmArn", NULL,
				"arn:aws:sns:eu-west-1:123456789012:ops");
	assert_string_equal(a->region, "eu-west-1");
	assert_null(a->arn);
	assert_string_equal(a->identity,
			    "cloudwatch:123456789012:eu-west-1:cpu-high");
	alert_free(a);

	a = classify_alarm_with("AlarmArn", NULL, NULL);
	assert_null(a->region);
	assert_string_equal(a->identity, "cloudwatch:123456789012::cpu-high");
	alert_free(a);

	/* The alarm's own region wins over the topic's. */
	a = classify_alarm_with("Extra", "0",
				"arn:aws:sns:us-east-1:123456789012:ops");
	assert_string_equal(a->region, "eu-west-1");
	alert_free(a);
}

static void test_threshold_text(void **state)
{
	static const struct {
		const char *json;
		const char *text;
	} cases[] = {
		{"5.0", "5"},
		{"0.5", "0.5"},
		{"0.1", "0.1"},
		{"100", "100"},
		{"-3.25", "-3.25"},
		{"1e-7", "1e-07"},
		{"123456.789", "123456.789"},
		{"0.30000000000000004", "0.30000000000000004"},
		{"1e300", "1e+300"},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char trigger[128];
		struct alert *a;

		snprintf(trigger, sizeof(trigger),
			 "{\"MetricName\":\"m\",\"Threshold\":%s}",
			 cases[i].json);
		a = classify_alarm_with("Trigger", trigger, NULL);
		assert_int_equal(a->kind, ALERT_KIND_METRIC);
		if (!a->threshold || strcmp(a->threshold, cases[i].text) != 0)
			fail_msg("%s: got %s, want %s", cases[i].json,
				 a->threshold ? a->threshold : "(null)",
				 cases[i].text);
		alert_free(a);
	}
}

/* An integer too large for json_int_t is read as a double, not refused. */
static void test_threshold_big_integer(void **state)
{
	struct alert *a;

	(void)state;

	a = classify("{\"AlarmName\":\"n\",\"NewStateValue\":\"OK\","
		     "\"Trigger\":{\"MetricName\":\"m\","
		     "\"Threshold\":12345678901234567890}}",
		     NULL, NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_string_equal(a->threshold, "1.2345678901234567e+19");
	alert_free(a);
}

static void test_metric_value(void **state)
{
	static const struct {
		const char *reason;
		const char *value;
	} cases[] = {
		{"\"no brackets at all\"", NULL},
		{"\"an empty [] bracket\"", NULL},
		{"\"unclosed [12.5 (date)\"", NULL},
		{"\"[abc 12 (x)] [13]\"", "12"},
		{"\"[-1.5e3 (x)]\"", "-1.5e3"},
		{"\"[7 (x)] and [8 (y)]\"", "7"},
		{"\"[1.5E+2]\"", "1.5E+2"},
		{"\"[.5]\"", ".5"},
		{"\"[(25/09/22 18:49:00)]\"", "25"},
		/* Longer than any double needs: not cut, left out. */
		{"\"[1234567890123456789012345678901234567890123456789012345678"
		 "9012345678901234567890]\"",
		 NULL},
		{"\"[1234567890123456789012345678901234567890123456789012345678"
		 "901234]\"",
		 "1234567890123456789012345678901234567890123456789012345678"
		 "901234"},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct alert *a = classify_alarm_with("NewStateReason",
						      cases[i].reason, NULL);

		if (!util_streq(a->metric_value, cases[i].value))
			fail_msg("%s: got %s, want %s", cases[i].reason,
				 a->metric_value ? a->metric_value : "(null)",
				 cases[i].value ? cases[i].value : "(null)");
		alert_free(a);
	}
}

static void test_field_bounds(void **state)
{
	size_t size = 300 * 1024;
	char *big = malloc(size + 3);
	struct alert *a;

	(void)state;

	assert_non_null(big);
	big[0] = '"';
	memset(big + 1, 'a', size);
	big[size + 1] = '"';
	big[size + 2] = '\0';

	a = classify_alarm_with("AlarmName", big, NULL);
	assert_int_equal(a->kind, ALERT_KIND_METRIC);
	assert_int_equal(strlen(a->name), ALERT_FIELD_MAX);
	alert_free(a);

	a = classify_alarm_with("NewStateReason", big, NULL);
	assert_int_equal(strlen(a->reason), ALERT_TEXT_MAX);
	alert_free(a);

	free(big);
}

static void test_dimension_bound(void **state)
{
	struct strbuf sb;
	char *dims;
	struct alert *a;

	(void)state;

	strbuf_init(&sb, 1 << 20);
	assert_int_equal(strbuf_puts(&sb, "{\"Dimensions\":["), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(strbuf_printf(&sb,
					       "%s{\"name\":\"d%d\","
					       "\"value\":\"v\"}",
					       i ? "," : "", i),
				 0);
	assert_int_equal(strbuf_puts(&sb, "]}"), 0);
	dims = strbuf_detach(&sb, NULL);

	a = classify_alarm_with("Trigger", dims, NULL);
	assert_int_equal(a->n_dimensions, ALERT_DIMENSIONS_MAX);
	assert_dimension(a, 29, "d29", "v");
	alert_free(a);
	free(dims);
}

static void test_region_from_arn(void **state)
{
	static const struct {
		const char *arn;
		const char *region;
	} cases[] = {
		{"arn:aws:sns:us-east-1:123456789012:topic", "us-east-1"},
		{"arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test "
		 "alarm",
		 "ca-central-1"},
		{"arn:aws-us-gov:sns:us-gov-west-1:123456789012:t",
		 "us-gov-west-1"},
		{"arn:aws-cn:sns:cn-north-1:123456789012:t", "cn-north-1"},
		{"arn:aws-iso-e:sns:eu-isoe-west-1:123456789012:t",
		 "eu-isoe-west-1"},
		{"arn:aws:sns:ap-southeast-5:123456789012:t", "ap-southeast-5"},
		{"arn:aws:sns:EXAMPLE", NULL},
		{"arn:aws:sns:us-east-1", NULL},
		{"arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE",
		 NULL},
		{"arn:<partition>:cloudwatch:<region>:111111111111:alarm:x",
		 NULL},
		{"arn:aws:iam::123456789012:role/x", NULL},
		{"arn:aws:sns:us-east-1a:123456789012:t", NULL},
		{"arn:aws:sns:us-east:123456789012:t", NULL},
		{"arn:aws:sns:useast1:123456789012:t", NULL},
		{"arn:aws:sns:US-EAST-1:123456789012:t", NULL},
		{"arn:aws:sns:a-b-c-d-1:123456789012:t", NULL},
		{"arn:aws:sns:Europe (Ireland):123456789012:t", NULL},
		{"aws:sns:us-east-1:123456789012:t", NULL},
		{"ARN:aws:sns:us-east-1:123456789012:t", NULL},
		{"", NULL},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *region = (char *)"untouched";
		int r = alert_region_from_arn(cases[i].arn, &region);

		if (cases[i].region) {
			if (r != 0)
				fail_msg("%s: %d", cases[i].arn, r);
			assert_string_equal(region, cases[i].region);
			free(region);
		} else {
			if (r != -EINVAL)
				fail_msg("%s: %d, want -EINVAL", cases[i].arn,
					 r);
			assert_string_equal(region, "untouched");
		}
	}

	assert_int_equal(alert_region_from_arn(NULL, &(char *){NULL}), -EINVAL);
}

static void test_names(void **state)
{
	static const char *const kinds[] = {
		"metric",      "metric_math", "anomaly", "composite",
		"eventbridge", "guardduty",   "budget",  "generic",
	};
	static const char *const states[] = {"NONE", "ALARM", "OK",
					     "INSUFFICIENT_DATA"};
	enum alert_kind kind;
	enum alert_state st;

	(void)state;

	assert_int_equal(ARRAY_SIZE(kinds), ALERT_KIND_COUNT);
	for (int i = 0; i < ALERT_KIND_COUNT; i++) {
		assert_string_equal(alert_kind_name((enum alert_kind)i),
				    kinds[i]);
		assert_int_equal(alert_kind_from_name(kinds[i], &kind), 0);
		assert_int_equal(kind, i);
	}

	assert_int_equal(ARRAY_SIZE(states), ALERT_STATE_COUNT);
	for (int i = 0; i < ALERT_STATE_COUNT; i++) {
		assert_string_equal(alert_state_name((enum alert_state)i),
				    states[i]);
		assert_int_equal(alert_state_from_name(states[i], &st), 0);
		assert_int_equal(st, i);
	}

	assert_int_equal(alert_state_from_name("alarm", &st), 0);
	assert_int_equal(st, ALERT_STATE_ALARM);
	assert_int_equal(alert_state_from_name("Insufficient_Data", &st), 0);
	assert_int_equal(st, ALERT_STATE_INSUFFICIENT_DATA);

	kind = ALERT_KIND_BUDGET;
	st = ALERT_STATE_OK;
	assert_int_equal(alert_kind_from_name("Metric", &kind), -EINVAL);
	assert_int_equal(alert_kind_from_name("", &kind), -EINVAL);
	assert_int_equal(alert_kind_from_name(NULL, &kind), -EINVAL);
	assert_int_equal(alert_state_from_name("ALARMS", &st), -EINVAL);
	assert_int_equal(alert_state_from_name(NULL, &st), -EINVAL);
	assert_int_equal(kind, ALERT_KIND_BUDGET);
	assert_int_equal(st, ALERT_STATE_OK);

	assert_string_equal(alert_kind_name(ALERT_KIND_COUNT), "unknown");
	assert_string_equal(alert_state_name(ALERT_STATE_COUNT), "unknown");

	alert_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_fixture),
		cmocka_unit_test(test_lambda_single_metric),
		cmocka_unit_test(test_lambda_metric_math),
		cmocka_unit_test(test_composite),
		cmocka_unit_test(test_localstack),
		cmocka_unit_test(test_anomaly),
		cmocka_unit_test(test_ec2_cpu),
		cmocka_unit_test(test_guardduty),
		cmocka_unit_test(test_guardduty_bands),
		cmocka_unit_test(test_guardduty_fallbacks),
		cmocka_unit_test(test_eventbridge),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_generic_shapes),
		cmocka_unit_test(test_generic_empty),
		cmocka_unit_test(test_generic_identity),
		cmocka_unit_test(test_generic_bounds),
		cmocka_unit_test(test_generic_bytes),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_trigger_precedence),
		cmocka_unit_test(test_composite_shapes),
		cmocka_unit_test(test_region_display_names),
		cmocka_unit_test(test_threshold_text),
		cmocka_unit_test(test_threshold_big_integer),
		cmocka_unit_test(test_metric_value),
		cmocka_unit_test(test_field_bounds),
		cmocka_unit_test(test_dimension_bound),
		cmocka_unit_test(test_region_from_arn),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
