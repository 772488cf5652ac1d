/*
 * Fuzz target: message classification (alert_classify()), then routing
 * of what it made under a configuration with every kind of matcher.
 */
#include <errno.h>
#include <string.h>

#include "alert.h"
#include "config.h"
#include "fuzz.h"
#include "route.h"

#define TOPIC "arn:aws:sns:us-east-1:123456789012:alerts"

static const char routes_yaml[] =
	"state_dir: /nonexistent\n"
	"sns: {topics: ['arn:aws:sns:*']}\n"
	"targets:\n"
	"  a: {routing_key: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n"
	"templates:\n"
	"  t: {summary: '{{alert_name}}', source: '{{source}}'}\n"
	"routes:\n"
	"  - name: regex\n"
	"    match: {name: '/^prod-(db|api)[0-9]+$/', state: [ALARM]}\n"
	"    target: a\n"
	"  - name: guardduty\n"
	"    match: {kind: guardduty, severity: [high, critical]}\n"
	"    target: a\n"
	"    severity_bands: {high: error, critical: critical}\n"
	"  - name: dimensions\n"
	"    match:\n"
	"      namespace: 'AWS/*'\n"
	"      metric: '*Utilization'\n"
	"      region: ['us-*', 'eu-west-?']\n"
	"      account: '1234*'\n"
	"      topic: '*:alerts'\n"
	"      dimensions: {InstanceId: 'i-*'}\n"
	"    target: a\n"
	"    insufficient_data: {trigger: warning}\n"
	"default_route: {target: a, severity: error, template: t}\n";

static struct config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct config_diags errors = {0};

	if (config_load_string("<fuzz routes>", routes_yaml,
			       sizeof(routes_yaml) - 1, &config, &errors) < 0) {
		config_diags_print(&errors, "error", stderr);
		abort();
	}
	config_diags_release(&errors);
	return 0;
}

static bool region_shaped(const char *s)
{
	return *s &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		       strlen(s) &&
	       strchr(s, '-');
}

static void check_bounded(const char *s, size_t max)
{
	if (s)
		FUZZ_CHECK(strlen(s) <= max);
}

static void check_alert(const struct alert *a)
{
	const char *severity;

	FUZZ_CHECK(a->kind < ALERT_KIND_COUNT);
	FUZZ_CHECK(a->state < ALERT_STATE_COUNT);
	FUZZ_CHECK(a->old_state < ALERT_STATE_COUNT);
	FUZZ_CHECK(a->identity && *a->identity);

	check_bounded(a->name, ALERT_FIELD_MAX);
	check_bounded(a->account, ALERT_FIELD_MAX);
	check_bounded(a->region, ALERT_FIELD_MAX);
	check_bounded(a->arn, ALERT_FIELD_MAX);
	check_bounded(a->namespace, ALERT_FIELD_MAX);
	check_bounded(a->metric_name, ALERT_FIELD_MAX);
	check_bounded(a->source, ALERT_FIELD_MAX);
	check_bounded(a->detail_type, ALERT_FIELD_MAX);
	check_bounded(a->description, ALERT_TEXT_MAX);
	check_bounded(a->reason, ALERT_TEXT_MAX);
	check_bounded(a->expression, ALERT_TEXT_MAX);
	check_bounded(a->alarm_rule, ALERT_TEXT_MAX);

	FUZZ_CHECK(a->n_dimensions <= ALERT_DIMENSIONS_MAX);
	for (size_t i = 0; i < a->n_dimensions; i++)
		FUZZ_CHECK(a->dimensions[i].name && a->dimensions[i].value);

	if (a->kind == ALERT_KIND_GUARDDUTY && !a->severity_band)
		FUZZ_CHECK(a->finding_severity == 0);
	else if (a->kind == ALERT_KIND_GUARDDUTY)
		FUZZ_CHECK((!strcmp(a->severity_band, "low") ||
			    !strcmp(a->severity_band, "medium") ||
			    !strcmp(a->severity_band, "high") ||
			    !strcmp(a->severity_band, "critical")));
	else
		FUZZ_CHECK(!a->severity_band);

	/*
	 * The region, where there is one, is shaped like a region code: it
	 * goes into console URLs. (Looser than sns_region_valid(), which
	 * knows the direction words: a new region must still classify.)
	 */
	if (a->region)
		FUZZ_CHECK(region_shaped(a->region));

	severity = route_severity(route_find(config, a), a);
	FUZZ_CHECK(CONFIG_SEVERITY_VALID(severity));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert *alert = NULL;
	char *region = NULL;
	char *text;
	int r;

	r = alert_classify((const char *)data, size, TOPIC, "Subject line",
			   1664131860000LL, &alert);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r == 0)
		check_alert(alert);
	alert_free(alert);

	/* The input as an ARN. */
	text = fuzz_strndup(data, size < 4096 ? size : 4096);
	if (alert_region_from_arn(text, &region) == 0)
		FUZZ_CHECK(region && region_shaped(region));
	free(region);
	free(text);
	return 0;
}
