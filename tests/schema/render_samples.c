/*
 * render_samples: renders PagerDuty events with lib/render into files,
 * for validate.py to check against PagerDuty's published schema.
 *
 *   render_samples DIR
 *
 * writes DIR/valid/<name>.json, events as the daemon sends them, and
 * DIR/invalid/<name>.json, the same events broken on purpose, which the
 * validator must reject (so that a validator that accepts anything
 * fails the check). Older .json files in both are removed first.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "util.h"

#define ARN_TEST_ALARM                                                         \
	"arn:aws:cloudwatch:ca-central-1:017790921725:alarm:Test alarm"

static const char *out_dir;
static int failures;

static void fail(const char *sample, const char *what, int r)
{
	fprintf(stderr, "render_samples: %s: %s: %s\n", sample, what,
		strerror(-r));
	failures++;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Removes the .json files a previous run left in dir. */
static int clean_dir(const char *dir)
{
	struct dirent *entry;
	char path[4096];
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return -errno;

	while ((entry = readdir(d))) {
		size_t len = strlen(entry->d_name);

		if (len < 5 || strcmp(entry->d_name + len - 5, ".json") != 0)
			continue;

		if (snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name) >=
		    (int)sizeof(path)) {
			r = -ENAMETOOLONG;
			break;
		}
		if (unlink(path) < 0) {
			r = -errno;
			break;
		}
	}

	closedir(d);
	return r;
}

static void write_sample(const char *kind, const char *name, const char *body,
			 size_t len)
{
	char path[4096];
	int r;

	snprintf(path, sizeof(path), "%s/%s/%s.json", out_dir, kind, name);
	r = util_write_file_atomic(path, body, len);
	if (r < 0)
		fail(name, "write", r);
}

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
	a->changed_at_ms = 1664131837811;
	a->identity = a->arn;
}

static struct config_detail runbook_details[] = {
	{"environment", "{{environment}}"},
	{"region", "{{region}}"},
	{"metric", "{{metric_name}}"},
	{"value", "{{metric_value}}"},
};

static const struct config_template runbook = {
	.name = "runbook",
	.summary = "GhostLine Alert: {{alert_name}}",
	.source = "aws-cloudwatch",
	.details = runbook_details,
	.n_details = ARRAY_SIZE(runbook_details),
};

/* Every field, in every part of the payload. */
static struct config_detail every_details[] = {
	{"alert_name", "{{alert_name}}"},
	{"severity", "{{severity}}"},
	{"environment", "{{environment}}"},
	{"region", "{{region}}"},
	{"metric_name", "{{metric_name}}"},
	{"metric_value", "{{metric_value}}"},
	{"account", "{{account}}"},
	{"state", "{{state}} (was {{old_state}})"},
	{"reason", "{{reason}}"},
	{"description", "{{description}}"},
	{"namespace", "{{namespace}}"},
	{"dimensions", "{{dimensions}}"},
	{"alarm_arn", "{{alarm_arn}}"},
	{"console_url", "{{console_url}}"},
	{"threshold", "{{threshold}}"},
	{"topic_arn", "{{topic_arn}}"},
	{"subject", "{{subject}}"},
	{"kind", "{{kind}}"},
	{"route", "{{route}}"},
	{"timestamp", "{{timestamp}}"},
	{"source", "{{source}}"},
	{"detail_type", "{{detail_type}}"},
	{"expression", "{{expression}}"},
	{"finding_severity", "{{finding_severity}}"},
};

static const struct config_template every = {
	.name = "every",
	.summary = "{{state}}: {{alert_name}} ({{reason}})",
	.source = "{{account}}/{{region}}/{{alarm_arn}}",
	.component = "{{namespace}}/{{metric_name}}",
	.group = "{{environment}}",
	.class_name = "{{kind}} {{description}}",
	.details = every_details,
	.n_details = ARRAY_SIZE(every_details),
};

/* Renders one event into DIR/valid; returns the body (free() it). */
static char *sample(const char *name, const struct config_template *tpl,
		    const struct render_context *ctx, const char *action,
		    const char *dedup_key)
{
	json_t *payload = NULL;
	char *body = NULL;
	size_t len = 0;
	int r;

	if (tpl) {
		r = render_payload(tpl, ctx, &payload);
		if (r < 0) {
			fail(name, "render_payload", r);
			return NULL;
		}
	}

	r = render_event_body(payload, "R0UT1NGKEY0000000000000000000000",
			      action, dedup_key, "alertbridge",
			      "https://github.com/alertbridge", &body, &len);
	json_decref(payload);
	if (r < 0) {
		fail(name, "render_event_body", r);
		return NULL;
	}

	write_sample("valid", name, body, len);
	return body;
}

static void sample_free(const char *name, const struct config_template *tpl,
			const struct render_context *ctx, const char *action,
			const char *dedup_key)
{
	free(sample(name, tpl, ctx, action, dedup_key));
}

static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(n * len + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[n * len] = '\0';
	return s;
}

static void samples_runbook(void)
{
	static const char *const severities[] = {"critical", "error", "warning",
						 "info"};
	struct render_context ctx;
	struct alert a;
	char name[64];

	alert_ca_central(&a);
	ctx = (struct render_context){&a, "critical", "production",
				      "ca-central-1", "runbook"};

	sample_free("trigger-runbook", &runbook, &ctx, "trigger",
		    ARN_TEST_ALARM);
	sample_free("trigger-no-dedup-key", &runbook, &ctx, "trigger", NULL);
	sample_free("resolve-bare", NULL, &ctx, "resolve", ARN_TEST_ALARM);
	sample_free("acknowledge-bare", NULL, &ctx, "acknowledge",
		    ARN_TEST_ALARM);

	a.state = ALERT_STATE_OK;
	a.old_state = ALERT_STATE_ALARM;
	sample_free("resolve-with-payload", &runbook, &ctx, "resolve",
		    ARN_TEST_ALARM);

	for (size_t i = 0; i < ARRAY_SIZE(severities); i++) {
		ctx.severity = severities[i];
		snprintf(name, sizeof(name), "severity-%s", severities[i]);
		sample_free(name, &every, &ctx, "trigger", ARN_TEST_ALARM);
	}
}

static void samples_hostile(void)
{
	struct alert_dimension dims[] = {
		{"Instance\"Id", "i-\\123\n"},
		{"\xe2\x80\xa8", "\xff\xfe"},
	};
	struct render_context ctx;
	struct alert a;

	alert_ca_central(&a);
	a.name = "\"quoted\" \\back\\ \x01\x1f\x7f\n\t\r "
		 "\xe2\x80\xa8\xe2\x80\xa9 </script> {{region}} "
		 "\xf0\x9f\x9a\xa8";
	a.reason = "lone \xff, cut \xe2\x82, overlong \xc0\xaf, "
		   "surrogate \xed\xa0\x80, past max \xf4\x90\x80\x80";
	a.description =
		"\xef\xbb\xbf BOM, \xc3\xa9, \xef\xbf\xbe, \xf4\x8f\xbf\xbf";
	a.account = "{{account}}";
	a.source = "aws.\xffguardduty";
	a.detail_type = "a\x0b\x0c\x08z";
	a.dimensions = dims;
	a.n_dimensions = ARRAY_SIZE(dims);
	ctx = (struct render_context){&a, "warning", "prod\"uction\x01",
				      "ca-central-1", "route\xff"};

	sample_free("hostile-values", &every, &ctx, "trigger",
		    "dedup \"key\" \\ \xc3\xa9");
}

/* The trigger for an incident of identity n bytes long. */
static void sample_identity(const char *name, size_t n,
			    const struct render_context *ctx)
{
	char *identity = repeat("k", n);
	char *key = NULL;
	int r;

	r = render_dedup_key(identity, &key);
	if (r < 0)
		fail(name, "render_dedup_key", r);
	else
		sample_free(name, &runbook, ctx, "trigger", key);

	free(key);
	free(identity);
}

/*
 * Control bytes escape to six bytes each: a detail of RENDER_FIELD_MAX
 * of them is 384 KB once encoded, so of three such details two must go.
 */
static struct config_detail escaped_details[] = {
	{"first", "{{reason}}"},
	{"second", "{{reason}}"},
	{"third", "{{reason}}"},
	{"small", "{{metric_name}}"},
};

static const struct config_template escaped = {
	.name = "escaped",
	.summary = "{{alert_name}}",
	.source = "aws-cloudwatch",
	.details = escaped_details,
	.n_details = ARRAY_SIZE(escaped_details),
};

static void samples_limits(void)
{
	struct render_context ctx;
	struct alert a;
	char *name;
	char *reason;

	alert_ca_central(&a);
	ctx = (struct render_context){&a, "error", "production", "ca-central-1",
				      "limits"};

	/* A summary far past 1024 characters, of four-byte characters. */
	name = repeat("\xf0\x9f\x9a\xa8", 3000);
	a.name = name;
	sample_free("max-summary", &runbook, &ctx, "trigger", ARN_TEST_ALARM);
	a.name = "Test alarm";
	free(name);

	/* dedup keys of 255 bytes are kept, longer ones hashed. */
	sample_identity("max-dedup-key", RENDER_DEDUP_KEY_MAX, &ctx);
	sample_identity("hashed-dedup-key", 1000, &ctx);

	reason = repeat("\x01", RENDER_FIELD_MAX);
	a.reason = reason;
	sample_free("max-body-escaped", &escaped, &ctx, "trigger",
		    ARN_TEST_ALARM);
	free(reason);
}

static void samples_guardduty(void)
{
	struct render_context ctx;
	struct alert a = {
		.kind = ALERT_KIND_GUARDDUTY,
		.name = "UnauthorizedAccess:EC2/SSHBruteForce",
		.description = "198.51.100.0 is performing SSH brute force "
			       "attacks against i-99999999.",
		.account = "123456789012",
		.region = "us-east-1",
		.arn = "arn:aws:guardduty:us-east-1:123456789012:detector/"
		       "123456/finding/0123456789abcdef",
		.source = "aws.guardduty",
		.detail_type = "GuardDuty Finding",
		.finding_severity = 8.0,
		.severity_band = "high",
		.changed_at_ms = 1541708700000,
	};

	a.identity = a.arn;
	ctx = (struct render_context){&a, "critical", "production", "us-east-1",
				      "guardduty"};
	sample_free("guardduty", &every, &ctx, "trigger", a.arn);
}

/* A huge custom_details entry, in a payload built by hand. */
static void sample_huge_details(void)
{
	json_t *payload;
	char *huge = repeat("v", 600 * 1024);
	char *body = NULL;
	size_t len = 0;
	int r;

	payload = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "summary",
			    "Huge details", "source", "aws-cloudwatch",
			    "severity", "info", "custom_details", "huge", huge,
			    "small", "kept");
	free(huge);
	if (!payload) {
		fail("max-body", "json_pack", -ENOMEM);
		return;
	}

	r = render_event_body(payload, "R", "trigger", "k", NULL, NULL, &body,
			      &len);
	if (r < 0)
		fail("max-body", "render_event_body", r);
	else
		write_sample("valid", "max-body", body, len);

	free(body);
	json_decref(payload);
}

/*
 * Invalid events: the runbook trigger with one thing broken each, each
 * a rule the schema states. The validator must reject every one.
 */
static void samples_invalid(const char *valid_body)
{
	static const struct {
		const char *name;
		const char *path;  /* "payload.severity" or "routing_key" */
		const char *value; /* JSON text; NULL deletes the key */
	} cases[] = {
		{"severity-fatal", "payload.severity", "\"fatal\""},
		{"severity-missing", "payload.severity", NULL},
		{"summary-missing", "payload.summary", NULL},
		{"summary-number", "payload.summary", "42"},
		{"source-missing", "payload.source", NULL},
		{"custom-details-array", "payload.custom_details", "[\"x\"]"},
		{"routing-key-missing", "routing_key", NULL},
		{"routing-key-number", "routing_key", "7"},
		{"action-escalate", "event_action", "\"escalate\""},
		{"action-missing", "event_action", NULL},
		{"dedup-key-object", "dedup_key", "{}"},
		{"payload-string", "payload", "\"payload\""},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *body = json_loads(valid_body, 0, NULL);
		json_t *parent = body;
		const char *key = cases[i].path;
		char *text;

		if (!strncmp(key, "payload.", 8)) {
			parent = json_object_get(body, "payload");
			key += 8;
		}

		if (cases[i].value)
			json_object_set_new(parent, key,
					    json_loads(cases[i].value,
						       JSON_DECODE_ANY, NULL));
		else
			json_object_del(parent, key);

		text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (!text)
			fail(cases[i].name, "json_dumps", -ENOMEM);
		else
			write_sample("invalid", cases[i].name, text,
				     strlen(text));
		free(text);
		json_decref(body);
	}
}

int main(int argc, char **argv)
{
	static const char *const subdirs[] = {"valid", "invalid"};
	struct render_context ctx;
	struct alert a;
	char path[4096];
	char *body;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: render_samples DIR\n");
		return 2;
	}
	out_dir = argv[1];

	r = make_dir(out_dir);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", out_dir, subdirs[i]);
		r = make_dir(path);
		if (r == 0)
			r = clean_dir(path);
	}
	if (r < 0) {
		fprintf(stderr, "render_samples: %s: %s\n", out_dir,
			strerror(-r));
		return 1;
	}

	samples_runbook();
	samples_hostile();
	samples_limits();
	samples_guardduty();
	sample_huge_details();

	alert_ca_central(&a);
	ctx = (struct render_context){&a, "critical", "production",
				      "ca-central-1", "runbook"};
	body = sample("base-for-invalid", &runbook, &ctx, "trigger",
		      ARN_TEST_ALARM);
	if (body)
		samples_invalid(body);
	free(body);

	if (failures) {
		fprintf(stderr, "render_samples: %d failed\n", failures);
		return 1;
	}
	return 0;
}
