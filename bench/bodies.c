/*
 * bodies: CloudWatch alarms as SNS delivers them, and Alertmanager
 * alerts.
 */
#include "bodies.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

int64_t bodies_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bodies_cert_file(char file[64])
{
	snprintf(file, 64, "SimpleNotificationService-bench%ld.pem",
		 (long)getpid());
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
static char *alarm_message(const char *name, bool firing, int64_t when_ms)
{
	char arn[160], reason[256], when[40];
	json_t *msg, *trigger, *dims;
	char *text;

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

void bodies_free(char **bodies, int n)
{
	for (int i = 0; bodies && i < n; i++)
		free(bodies[i]);
	free(bodies);
}

int bodies_sign(const struct testkey *key, const char *cert_file, int n,
		int alarms, int storm_keys, char ***ret_bodies)
{
	int64_t start = bodies_wall_ms();
	char url[160];
	char **bodies;
	int r = 0;

	snprintf(url, sizeof(url), "%s%s", BODIES_CERT_HOST, cert_file);
	bodies = calloc((size_t)n, sizeof(*bodies));
	if (!bodies)
		return -ENOMEM;

	for (int i = 0; i < n; i++) {
		char id[64], name[64], *message;
		bool firing = storm_keys > 0 || (i / alarms) % 2 == 0;
		json_t *envelope;

		snprintf(id, sizeof(id), "bench-%08x-%04x-4000-8000-%012d",
			 (unsigned)start, (unsigned)(getpid() & 0xffff), i);
		if (storm_keys > 0)
			snprintf(name, sizeof(name), "storm-%d-%05d",
				 i % storm_keys, i);
		else
			snprintf(name, sizeof(name), "prod-api-latency-%03d",
				 i % alarms);
		/* Later state changes of one alarm carry later times. */
		message = alarm_message(name, firing, start + i);
		envelope = testkey_notification(id, BODIES_TOPIC,
						"ALARM: bench", message, start);
		free(message);
		bodies[i] = testkey_sign_envelope(key, envelope, 2, url);
		json_decref(envelope);
		if (!bodies[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret_bodies = bodies;
	bodies = NULL;
out:
	bodies_free(bodies, n);
	return r;
}

int bodies_alertmanager(int n, char ***ret_bodies)
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
	bodies_free(bodies, n);
	return r;
}
