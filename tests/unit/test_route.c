/*
 * Tests for lib/route.c: every matcher, alerts without the field a
 * matcher asks about, first match wins, and the severity a route gives.
 * Alerts are built by hand; routes come from YAML through config.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "route.h"
#include "util.h"

#define KEY_ENV "ALERTBRIDGE_TEST_ROUTE_KEY"

#define HEAD                                                                   \
	"sns: {topics: 'arn:aws:sns:*'}\n"                                     \
	"targets:\n"                                                           \
	"  a: {routing_key_env: " KEY_ENV "}\n"                                \
	"  b: {routing_key_env: " KEY_ENV "}\n"                                \
	"templates: {t: {summary: x, source: aws}}\n"                          \
	"default_route: {target: a, severity: error, template: t}\n"

static struct config *load(const char *text)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	int r;

	setenv(KEY_ENV, "0123456789abcdef0123456789abcdef", 1);
	r = config_load_string("route.yaml", text, strlen(text), &config,
			       &errors);
	if (r < 0)
		config_diags_print(&errors, "error", stderr);
	assert_int_equal(r, 0);
	return config;
}

/* A configuration with one route "r" to target b with this match. */
static struct config *load_match(const char *match)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 HEAD "routes:\n"
		      "  - name: r\n"
		      "    target: b\n"
		      "    match: %s\n",
		 match);
	return load(text);
}

static bool matches(const struct config *config, const struct alert *alert)
{
	return route_matches(&config->routes[0].match, alert);
}

/* A CloudWatch alarm with every field set. */
static struct alert alarm(void)
{
	static struct alert_dimension dimensions[] = {
		{.name = "InstanceId", .value = "i-0abc"},
		{.name = "AutoScalingGroupName", .value = "web-asg"},
	};

	return (struct alert){
		.kind = ALERT_KIND_METRIC,
		.state = ALERT_STATE_ALARM,
		.name = "prod-api-errors",
		.account = "123456789012",
		.region = "us-east-1",
		.namespace = "AWS/EC2",
		.metric_name = "CPUUtilization",
		.topic_arn = "arn:aws:sns:us-east-1:123456789012:ghostline",
		.dimensions = dimensions,
		.n_dimensions = ARRAY_SIZE(dimensions),
	};
}

static void test_empty_match_takes_all(void **state)
{
	struct config *config = load_match("{}");
	struct alert bare = {.kind = ALERT_KIND_GENERIC};
	struct alert a = alarm();

	assert_true(matches(config, &a));
	assert_true(matches(config, &bare));
	config_free(config);
}

static void test_name_glob(void **state)
{
	struct config *config = load_match("{name: 'prod-*'}");
	struct alert a = alarm();

	assert_true(matches(config, &a));
	a.name = "staging-api-errors";
	assert_false(matches(config, &a));
	a.name = "prod-";
	assert_true(matches(config, &a));
	a.name = NULL;
	assert_false(matches(config, &a));
	config_free(config);

	/* No FNM_PATHNAME: '*' runs across '/' too. */
	config = load_match("{name: 'prod*errors'}");
	a.name = "prod/api/errors";
	assert_true(matches(config, &a));
	config_free(config);
}

static void test_name_regex(void **state)
{
	struct config *config = load_match("{name: '/^db-[0-9]+$/'}");
	struct alert a = alarm();

	a.name = "db-12";
	assert_true(matches(config, &a));
	a.name = "db-x";
	assert_false(matches(config, &a));
	a.name = "xdb-12";
	assert_false(matches(config, &a));
	a.name = NULL;
	assert_false(matches(config, &a));
	config_free(config);

	/* Unanchored, a regex matches anywhere in the name. */
	config = load_match("{name: /critical/}");
	a.name = "prod-critical-cpu";
	assert_true(matches(config, &a));
	config_free(config);
}

static void test_kind(void **state)
{
	struct config *config = load_match("{kind: [budget, composite]}");
	struct alert a = alarm();

	assert_false(matches(config, &a));
	a.kind = ALERT_KIND_BUDGET;
	assert_true(matches(config, &a));
	a.kind = ALERT_KIND_COMPOSITE;
	assert_true(matches(config, &a));
	a.kind = ALERT_KIND_GUARDDUTY;
	assert_false(matches(config, &a));
	config_free(config);
}

static void test_state(void **state)
{
	struct config *config =
		load_match("{state: [ALARM, INSUFFICIENT_DATA]}");
	struct alert a = alarm();

	assert_true(matches(config, &a));
	a.state = ALERT_STATE_INSUFFICIENT_DATA;
	assert_true(matches(config, &a));
	a.state = ALERT_STATE_OK;
	assert_false(matches(config, &a));
	a.state = ALERT_STATE_NONE;
	assert_false(matches(config, &a));
	config_free(config);
}

/* Each glob matcher against its own field, and that field missing. */
static void test_field_globs(void **state)
{
	struct {
		const char *match;
		size_t field; /* offset of the char * in struct alert */
		const char *yes;
		const char *no;
	} cases[] = {
		{"{namespace: ['AWS/*', Custom]}",
		 offsetof(struct alert, namespace), "AWS/Lambda", "Other/EC2"},
		{"{metric: '*Utilization'}",
		 offsetof(struct alert, metric_name), "MemoryUtilization",
		 "Errors"},
		{"{region: [eu-*, us-west-2]}", offsetof(struct alert, region),
		 "us-west-2", "us-east-1"},
		{"{account: '1234*'}", offsetof(struct alert, account),
		 "123456789012", "999999999999"},
		{"{topic: 'arn:aws:sns:*:123456789012:ghost*'}",
		 offsetof(struct alert, topic_arn),
		 "arn:aws:sns:eu-west-1:123456789012:ghostline",
		 "arn:aws:sns:eu-west-1:210987654321:ghostline"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct config *config = load_match(cases[i].match);
		struct alert a = alarm();
		char **field = (char **)((char *)&a + cases[i].field);

		*field = (char *)cases[i].yes;
		assert_true(matches(config, &a));
		*field = (char *)cases[i].no;
		assert_false(matches(config, &a));
		*field = NULL;
		assert_false(matches(config, &a));
		config_free(config);
	}
}

static void test_severity_band(void **state)
{
	struct config *config = load_match("{severity: [high, critical]}");
	struct alert finding = {
		.kind = ALERT_KIND_GUARDDUTY,
		.name = "UnauthorizedAccess:EC2/SSHBruteForce",
		.severity_band = "high",
		.finding_severity = 8.0,
	};

	assert_true(matches(config, &finding));
	finding.severity_band = "critical";
	assert_true(matches(config, &finding));
	finding.severity_band = "low";
	assert_false(matches(config, &finding));
	finding.severity_band = NULL;
	assert_false(matches(config, &finding));
	config_free(config);
}

static void test_dimensions(void **state)
{
	struct config *config = load_match("{dimensions: {InstanceId: 'i-*', "
					   "AutoScalingGroupName: web-asg}}");
	struct alert_dimension other[] = {
		{.name = "InstanceId", .value = "i-0abc"},
		{.name = "AutoScalingGroupName", .value = "db-asg"},
	};
	struct alert_dimension one[] = {
		{.name = "InstanceId", .value = "i-0abc"},
	};
	struct alert_dimension unnamed[] = {
		{.name = NULL, .value = "web-asg"},
		{.name = "InstanceId", .value = NULL},
	};
	struct alert a = alarm();

	assert_true(matches(config, &a));
	a.dimensions = other;
	assert_false(matches(config, &a));
	a.dimensions = one;
	a.n_dimensions = ARRAY_SIZE(one);
	assert_false(matches(config, &a));
	a.dimensions = unnamed;
	a.n_dimensions = ARRAY_SIZE(unnamed);
	assert_false(matches(config, &a));
	a.dimensions = NULL;
	a.n_dimensions = 0;
	assert_false(matches(config, &a));
	config_free(config);
}

/* Every matcher must accept: one failing field rejects the route. */
static void test_all_matchers_must_accept(void **state)
{
	struct config *config =
		load_match("{name: 'prod-*', kind: metric, state: ALARM, "
			   "namespace: AWS/EC2, region: us-east-1}");
	struct alert a = alarm();

	assert_true(matches(config, &a));
	a.region = "eu-west-1";
	assert_false(matches(config, &a));
	config_free(config);
}

static void test_first_match_wins(void **state)
{
	struct config *config = load(HEAD "routes:\n"
					  "  - name: budgets\n"
					  "    target: b\n"
					  "    match: {kind: budget}\n"
					  "  - name: prod\n"
					  "    target: b\n"
					  "    match: {name: 'prod-*'}\n"
					  "  - name: prod-api\n"
					  "    target: a\n"
					  "    match: {name: 'prod-api-*'}\n");
	struct alert a = alarm();
	struct alert budget = {
		.kind = ALERT_KIND_BUDGET,
		.name = "prod-monthly",
	};
	struct alert other = {.kind = ALERT_KIND_GENERIC};

	assert_string_equal(route_find(config, &a)->name, "prod");
	assert_string_equal(route_find(config, &budget)->name, "budgets");
	assert_ptr_equal(route_find(config, &other), &config->default_route);
	a.name = NULL;
	assert_ptr_equal(route_find(config, &a), &config->default_route);
	config_free(config);

	/* No routes at all: the default route takes everything. */
	config = load(HEAD);
	a = alarm();
	assert_ptr_equal(route_find(config, &a), &config->default_route);
	config_free(config);
}

static void test_severity_bands(void **state)
{
	static const struct {
		const char *band;
		const char *severity;
	} cases[] = {
		{"low", "info"},
		{"medium", "warning"},
		{"high", "critical"},
		{"critical", "critical"},
	};
	struct config *config =
		load_match("{kind: guardduty}\n"
			   "    severity: warning\n"
			   "    severity_bands: {high: critical}");
	const struct config_route *route = &config->routes[0];
	struct alert finding = {.kind = ALERT_KIND_GUARDDUTY};
	struct alert a = alarm();

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		finding.severity_band = cases[i].band;
		assert_string_equal(route_severity(route, &finding),
				    cases[i].severity);
	}

	/* No band (or one route.h does not know): the route's severity. */
	finding.severity_band = NULL;
	assert_string_equal(route_severity(route, &finding), "warning");
	finding.severity_band = "extreme";
	assert_string_equal(route_severity(route, &finding), "warning");
	assert_string_equal(route_severity(route, &a), "warning");
	config_free(config);
}

static void test_insufficient_data(void **state)
{
	struct config *config =
		load(HEAD "routes:\n"
			  "  - name: trigger\n"
			  "    target: b\n"
			  "    severity: critical\n"
			  "    insufficient_data: {trigger: info}\n"
			  "    match: {name: 'trigger-*'}\n"
			  "  - name: ignore\n"
			  "    target: b\n"
			  "    severity: critical\n");
	const struct config_route *trigger = &config->routes[0];
	const struct config_route *ignore = &config->routes[1];
	struct alert a = alarm();

	a.state = ALERT_STATE_INSUFFICIENT_DATA;
	assert_string_equal(route_severity(trigger, &a), "info");
	assert_string_equal(route_severity(ignore, &a), "critical");
	assert_int_equal(ignore->insufficient, CONFIG_INSUFFICIENT_IGNORE);

	a.state = ALERT_STATE_ALARM;
	assert_string_equal(route_severity(trigger, &a), "critical");
	config_free(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_match_takes_all),
		cmocka_unit_test(test_name_glob),
		cmocka_unit_test(test_name_regex),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_field_globs),
		cmocka_unit_test(test_severity_band),
		cmocka_unit_test(test_dimensions),
		cmocka_unit_test(test_all_matchers_must_accept),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_severity_bands),
		cmocka_unit_test(test_insufficient_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
