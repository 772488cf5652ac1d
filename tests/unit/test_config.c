/*
 * Tests for lib/config.c: the example configuration, every class of
 * error at its exact line and column, routing keys and the other secrets
 * from each source, and that no message carries a secret; escalation
 * policies, silences and their errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "util.h"

#define KEY_A   "0123456789abcdef0123456789abcdef"
#define KEY_B   "fedcba9876543210fedcba9876543210"
#define KEY_ENV "ALERTBRIDGE_TEST_KEY"
#define EXAMPLE SOURCE_DIR "/config/alertbridge.yaml"

/* A minimal valid configuration; text appended to it starts on line 8. */
#define BASE                                                                   \
	"sns:\n"                                                               \
	"  topics: arn:aws:sns:us-east-1:123456789012:alerts\n" BASE_REST

/* The same without sns (5 lines), for tests of that section. */
#define BASE_REST                                                              \
	"targets:\n"                                                           \
	"  primary: {routing_key_env: " KEY_ENV "}\n"                          \
	"templates:\n"                                                         \
	"  t: {summary: \"{{alert_name}}\", source: aws}\n"                    \
	"default_route: {target: primary, severity: error, template: t}\n"

/* Two targets; text appended to it starts on line 9. */
#define BASE2                                                                  \
	"sns:\n"                                                               \
	"  topics: arn:aws:sns:us-east-1:123456789012:alerts\n"                \
	"targets:\n"                                                           \
	"  primary: {routing_key_env: " KEY_ENV "}\n"                          \
	"  secondary: {routing_key_env: " KEY_ENV "}\n"                        \
	"templates:\n"                                                         \
	"  t: {summary: \"{{alert_name}}\", source: aws}\n"                    \
	"default_route: {target: primary, severity: error, template: t}\n"

/* BASE2 with a policy p whose steps follow, from line 12, column 7. */
#define POLICY_HEAD                                                            \
	BASE2 "escalation_policies:\n"                                         \
	      "  p:\n"                                                         \
	      "    steps:\n"

#define SECRET_ENV   "ALERTBRIDGE_TEST_SECRET"
#define WEBHOOK_TEXT "whsec with spaces/+="
#define API_TOKEN    "0123456789abcdefghij"

/* The credentials the example configuration names. */
static const char *const example_credentials[] = {
	"primary",
	"secondary",
	"engineering_manager",
	"vp",
};

static int setup(void **state)
{
	setenv(KEY_ENV, KEY_A, 1);
	unsetenv("CREDENTIALS_DIRECTORY");
	return 0;
}

static void print_diags(const struct config_diags *diags)
{
	config_diags_print(diags, "diag", stderr);
}

static struct config *load_ok(const char *text)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	int r;

	r = config_load_string("test.yaml", text, strlen(text), &config,
			       &errors);
	if (r != 0)
		print_diags(&errors);
	assert_int_equal(r, 0);
	assert_int_equal(errors.n, 0);
	assert_non_null(config);
	return config;
}

static void load_fail(const char *text, struct config_diags *errors)
{
	struct config *config = NULL;
	int r;

	r = config_load_string("test.yaml", text, strlen(text), &config,
			       errors);
	assert_int_equal(r, -EINVAL);
	assert_null(config);
	assert_true(errors->n > 0);
}

static const struct config_diag *find_diag(const struct config_diags *diags,
					   int line, int column,
					   const char *needle)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct config_diag *d = &diags->v[i];

		if (d->line == line && d->column == column &&
		    strstr(d->message, needle))
			return d;
	}
	return NULL;
}

static const struct config_diag *expect_diag(const struct config_diags *diags,
					     int line, int column,
					     const char *needle)
{
	const struct config_diag *d = find_diag(diags, line, column, needle);

	if (!d) {
		fprintf(stderr, "no diagnostic at %d:%d containing '%s':\n",
			line, column, needle);
		print_diags(diags);
	}
	assert_non_null(d);
	assert_string_equal(d->file, "test.yaml");
	assert_non_null(d->hint);
	return d;
}

/* Loads text expecting exactly one error, there. */
static void expect_only_error(const char *text, int line, int column,
			      const char *needle, const char *hint)
{
	struct config_diags errors = {0};
	const struct config_diag *d;

	load_fail(text, &errors);
	d = expect_diag(&errors, line, column, needle);
	if (hint)
		assert_non_null(strstr(d->hint, hint));
	if (errors.n != 1)
		print_diags(&errors);
	assert_int_equal(errors.n, 1);
	config_diags_release(&errors);
}

static void assert_no_secret(const struct config_diags *diags,
			     const char *secret)
{
	for (size_t i = 0; i < diags->n; i++) {
		assert_null(strstr(diags->v[i].message, secret));
		if (diags->v[i].hint)
			assert_null(strstr(diags->v[i].hint, secret));
	}
}

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *dir)
{
	static const char prefix[] = "/tmp/test_config.";

	/* mkdtemp() replaces the six trailing X. */
	strcpy(dir->path, prefix);
	memset(dir->path + strlen(prefix), 'X', 6);
	dir->path[strlen(prefix) + 6] = '\0';
	assert_non_null(mkdtemp(dir->path));
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_text(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

/* A credentials directory holding KEY_B for every example target. */
static struct tmpdir example_keys;

static int setup_example(void **state)
{
	setup(state);
	for (size_t i = 0; i < ARRAY_SIZE(example_credentials); i++)
		write_text(example_keys.path, example_credentials[i], KEY_B);
	setenv("CREDENTIALS_DIRECTORY", example_keys.path, 1);
	return 0;
}

static void test_example_loads(void **state)
{
	static const char *const route_names[] = {
		"production-critical", "guardduty-critical",
		"guardduty-findings", "budgets"};
	struct config_diags errors = {0};
	const struct config_template *tpl;
	const struct config_route *route;
	struct config *config = NULL;
	char fingerprint[13];
	int r;

	r = config_load_file(EXAMPLE, &config, &errors);
	if (r != 0)
		print_diags(&errors);
	assert_int_equal(r, 0);
	assert_int_equal(config->warnings.n, 0);
	assert_false(config->testing);

	assert_string_equal(config->path, EXAMPLE);
	assert_string_equal(config->listen_host, "127.0.0.1");
	assert_int_equal(config->listen_port, 8080);
	assert_string_equal(config->state_dir, "/var/lib/alertbridge");
	assert_int_equal(config->max_body_bytes, 512 * 1024);
	assert_string_equal(config->environment, "production");
	assert_string_equal(config->region, "us-east-1");
	assert_int_equal(config->topics.n, 1);
	assert_string_equal(
		config->topics.v[0],
		"arn:aws:sns:us-east-1:123456789012:ghostline-alerts");
	assert_true(config->cert_fetch);
	assert_int_equal(config->replay_window_ms, 2 * 3600 * 1000);
	assert_string_equal(config->events_url,
			    "https://events.pagerduty.com/v2/enqueue");

	assert_int_equal(config->n_targets, 4);
	assert_string_equal(config->targets[0].name, "primary");
	assert_string_equal(config->targets[3].name, "vp");
	util_fingerprint(KEY_B, fingerprint);
	for (size_t i = 0; i < config->n_targets; i++) {
		assert_string_equal(config->targets[i].routing_key, KEY_B);
		assert_string_equal(config->targets[i].key_source,
				    "credential");
		assert_string_equal(config->targets[i].fingerprint,
				    fingerprint);
	}

	tpl = config_find_template(config, "ghostline");
	assert_non_null(tpl);
	assert_string_equal(tpl->summary, "GhostLine Alert: {{alert_name}}");
	assert_string_equal(tpl->source, "aws-cloudwatch");
	assert_int_equal(tpl->n_details, 4);
	assert_string_equal(tpl->details[0].key, "environment");
	assert_string_equal(tpl->details[1].key, "region");
	assert_string_equal(tpl->details[2].key, "metric");
	assert_string_equal(tpl->details[3].value, "{{metric_value}}");

	assert_int_equal(config->n_routes, ARRAY_SIZE(route_names));
	for (size_t i = 0; i < ARRAY_SIZE(route_names); i++) {
		route = &config->routes[i];
		assert_string_equal(route->name, route_names[i]);
		assert_ptr_equal(route->template, tpl);
		assert_string_equal(route->environment, "production");
		assert_int_equal(route->insufficient,
				 CONFIG_INSUFFICIENT_IGNORE);
	}
	route = config_find_route(config, "production-critical");
	assert_ptr_equal(route->target, config_find_target(config, "primary"));
	assert_string_equal(route->severity, "critical");
	assert_non_null(route->match.name);
	assert_int_equal(
		route->match.kinds,
		1u << ALERT_KIND_METRIC | 1u << ALERT_KIND_METRIC_MATH |
			1u << ALERT_KIND_ANOMALY | 1u << ALERT_KIND_COMPOSITE);
	route = config_find_route(config, "guardduty-findings");
	assert_string_equal(route->band_severity[CONFIG_BAND_MEDIUM],
			    "warning");
	route = config_find_route(config, "budgets");
	assert_int_equal(route->match.kinds, 1u << ALERT_KIND_BUDGET);
	assert_string_equal(route->severity, "warning");
	assert_ptr_equal(route->target,
			 config_find_target(config, "engineering_manager"));

	route = &config->default_route;
	assert_ptr_equal(config_find_route(config, "default"), route);
	assert_string_equal(route->severity, "error");
	assert_ptr_equal(route->template, tpl);
	assert_int_equal(route->insufficient, CONFIG_INSUFFICIENT_IGNORE);
	assert_null(config_find_route(config, "nonexistent"));
	config_free(config);
}

/* The daemon's embedded copy loads under a name with no directory. */
static void test_example_embedded(void **state)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	size_t len;
	char *text;

	assert_int_equal(util_read_file(EXAMPLE, 1 << 20, &text, &len), 0);
	assert_int_equal(config_load_string("<embedded example>", text, len,
					    &config, &errors),
			 0);
	assert_string_equal(config->path, "<embedded example>");
	config_free(config);
	free(text);
}

static void test_example_without_keys(void **state)
{
	struct config_diags errors = {0};
	struct config *config = NULL;

	remove_text(example_keys.path, "secondary");
	remove_text(example_keys.path, "vp");
	assert_int_equal(config_load_file(EXAMPLE, &config, &errors), -EINVAL);
	assert_int_equal(errors.n, 2);
	assert_non_null(strstr(errors.v[0].message, "/secondary'"));
	assert_non_null(strstr(errors.v[1].message, "/vp'"));
	assert_string_equal(errors.v[0].file, EXAMPLE);
	config_diags_release(&errors);
	setup_example(state);
}

static void test_defaults(void **state)
{
	struct config *config = load_ok(BASE);

	assert_string_equal(config->listen_host, "127.0.0.1");
	assert_int_equal(config->listen_port, 8080);
	assert_string_equal(config->state_dir, "/var/lib/alertbridge");
	assert_int_equal(config->max_body_bytes, 512 * 1024);
	assert_int_equal(config->max_connections, 256);
	assert_int_equal(config->max_connections_per_ip, 64);
	assert_int_equal(config->connection_timeout_s, 30);
	assert_int_equal(config->request_timeout_ms, 10000);
	assert_null(config->cert_dir);
	assert_true(config->cert_fetch);
	assert_int_equal(config->timeout_ms, 10000);
	assert_int_equal(config->rate_per_minute, 120);
	assert_int_equal(config->retry_initial_ms, 1000);
	assert_int_equal(config->retry_max_ms, 300000);
	assert_int_equal(config->retry_deadline_ms, 86400000);
	assert_string_equal(config->client, "alertbridge");
	assert_null(config->client_url);
	assert_null(config->environment);
	assert_null(config->region);
	assert_false(config->testing);
	assert_int_equal(config->n_routes, 0);
	assert_string_equal(config->default_route.name, "default");
	assert_string_equal(
		config->default_route.band_severity[CONFIG_BAND_LOW], "info");
	assert_string_equal(
		config->default_route.band_severity[CONFIG_BAND_CRITICAL],
		"critical");
	assert_string_equal(config->targets[0].routing_key, KEY_A);
	assert_int_equal(config->warnings.n, 0);
	config_free(config);
}

static void test_settings(void **state)
{
	struct config *config = load_ok(
		BASE "listen: '[::1]:0'\n"
		     "limits: {max_body: 1MiB, max_connections: 8, "
		     "connection_timeout: 2m}\n"
		     "environment: staging\n"
		     "pagerduty:\n"
		     "  events_url: http://127.0.0.1:9000/v2/enqueue\n"
		     "  timeout: 1500ms\n"
		     "  rate_per_minute: 60\n"
		     "  retry: {initial: 500ms, max: 1m, deadline: 1h}\n"
		     "  client_url: https://example.com/runbook\n");

	assert_string_equal(config->listen_host, "::1");
	assert_int_equal(config->listen_port, 0);
	assert_int_equal(config->max_body_bytes, 1024 * 1024);
	assert_int_equal(config->max_connections, 8);
	/* A quarter of the table per address unless set. */
	assert_int_equal(config->max_connections_per_ip, 2);
	assert_int_equal(config->connection_timeout_s, 120);
	assert_string_equal(config->events_url,
			    "http://127.0.0.1:9000/v2/enqueue");
	assert_int_equal(config->timeout_ms, 1500);
	assert_int_equal(config->rate_per_minute, 60);
	assert_int_equal(config->retry_initial_ms, 500);
	assert_int_equal(config->retry_max_ms, 60000);
	assert_int_equal(config->retry_deadline_ms, 3600000);
	assert_string_equal(config->client_url, "https://example.com/runbook");
	/* default_route has no environment of its own: the top level's. */
	assert_string_equal(config->default_route.environment, "staging");
	config_free(config);

	config = load_ok(BASE "limits: {max_connections_per_ip: 0,"
			      " request_timeout: 45s}\n");
	assert_int_equal(config->max_connections_per_ip, 0);
	assert_int_equal(config->request_timeout_ms, 45000);
	config_free(config);
}

static void test_testing_section(void **state)
{
	struct config *config =
		load_ok(BASE "testing:\n"
			     "  as_of: 2022-09-25T18:51:00Z\n"
			     "  skip_age_check: true\n"
			     "  skip_signature: false\n"
			     "  cert_ca_file: /etc/test-ca.pem\n");

	assert_true(config->testing);
	assert_int_equal(config->testing_as_of_ms, 1664131860000LL);
	assert_true(config->testing_skip_age_check);
	assert_false(config->testing_skip_cert_validity);
	assert_false(config->testing_skip_signature);
	assert_string_equal(config->testing_cert_ca_file, "/etc/test-ca.pem");
	config_free(config);

	config = load_ok(BASE "testing: {}\n");
	assert_true(config->testing);
	assert_int_equal(config->testing_as_of_ms, 0);
	config_free(config);
}

static void test_unknown_key(void **state)
{
	expect_only_error(BASE "tagets: {}\n", 8, 1,
			  "unknown key 'tagets' in top level",
			  "did you mean 'targets'?");
	expect_only_error(BASE "pagerduty:\n  timeuot: 5s\n", 9, 3,
			  "unknown key 'timeuot' in pagerduty",
			  "did you mean 'timeout'?");
	/* Nothing close: the hint lists the keys instead. */
	expect_only_error(BASE "limits: {zzzzzzzz: 1}\n", 8, 10,
			  "unknown key 'zzzzzzzz' in limits",
			  "max_body, max_connections, max_connections_per_ip,"
			  " connection_timeout, request_timeout");
}

/*
 * One diagnostic, one line: a quoted value with a newline or a control
 * character in it is shown escaped.
 */
static void test_diagnostic_is_one_line(void **state)
{
	struct config_diags errors = {0};
	const struct config_diag *d;

	expect_only_error(BASE "pagerduty: {events_url: \"http://a\\nb\\tc"
			       "\\x01\"}\n",
			  8, 25, "'http://a\\nb\\tc\\x01' is not an accepted",
			  NULL);

	/* A name no target has, where there are none: the hint says where
	 * to define one rather than list nothing. */
	load_fail("sns: {topics: 'arn:aws:sns:*'}\n"
		  "targets: {}\n"
		  "templates: {t: {summary: s, source: s}}\n"
		  "default_route: {target: nope, template: t}\n",
		  &errors);
	d = expect_diag(&errors, 4, 25, "unknown target 'nope'");
	assert_string_equal(d->hint, "define it under targets");
	config_diags_release(&errors);
}

static void test_duplicate_key(void **state)
{
	expect_only_error(BASE "sns: {topics: 'arn:aws:sns:*'}\n", 8, 1,
			  "duplicate key 'sns' in top level",
			  "first given at line 1, column 1");
	expect_only_error(BASE "limits:\n"
			       "  max_body: 1KiB\n"
			       "  max_body: 2KiB\n",
			  10, 3, "duplicate key 'max_body' in limits",
			  "line 9, column 3");
}

static void test_bad_duration(void **state)
{
	expect_only_error(BASE "pagerduty:\n  timeout: ten seconds\n", 9, 12,
			  "'timeout' in pagerduty: 'ten seconds' is not a "
			  "duration",
			  "30s or 2h");
	expect_only_error(BASE "pagerduty:\n  timeout: 90s\n", 9, 12,
			  "90s is out of range", "from 1s to 1m");
	/* SNS retries for an hour: a shorter window is refused. */
	expect_only_error(BASE_REST "sns:\n"
				    "  topics: 'arn:aws:sns:*'\n"
				    "  replay_window: 30m\n",
			  8, 18, "30m is out of range", "from 1h to 7d");
}

static void test_bad_severity(void **state)
{
	expect_only_error("sns:\n"
			  "  topics: arn:aws:sns:us-east-1:123456789012:a\n"
			  "targets:\n"
			  "  primary: {routing_key_env: " KEY_ENV "}\n"
			  "templates:\n"
			  "  t: {summary: x, source: aws}\n"
			  "default_route: {target: primary, severity: "
			  "critcal, template: t}\n",
			  7, 44, "'critcal' is not a PagerDuty severity",
			  "did you mean 'critical'?");
}

static void test_unknown_target(void **state)
{
	expect_only_error(BASE "routes:\n"
			       "  - name: r\n"
			       "    target: primry\n",
			  10, 13, "unknown target 'primry' in route 'r'",
			  "did you mean 'primary'?");
	expect_only_error(BASE "routes:\n"
			       "  - name: r\n"
			       "    target: primary\n"
			       "    template: nope\n",
			  11, 15, "unknown template 'nope' in route 'r'",
			  "the templates are t");
}

static void test_unknown_template_field(void **state)
{
	static const char head[] = "sns: {topics: 'arn:aws:sns:*'}\n"
				   "targets:\n"
				   "  primary: {routing_key_env: " KEY_ENV "}\n"
				   "default_route: {target: primary, "
				   "severity: error, template: t}\n"
				   "templates:\n"
				   "  t:\n";
	char text[1024];

	/* The column is the field name's, inside the quoted text. */
	snprintf(text, sizeof(text), "%s%s", head,
		 "    summary: \"GhostLine {{alert_nme}}\"\n"
		 "    source: aws\n");
	expect_only_error(text, 7, 27, "unknown template field 'alert_nme'",
			  "did you mean 'alert_name'?");

	snprintf(text, sizeof(text), "%s%s", head,
		 "    summary: x\n"
		 "    source: aws\n"
		 "    custom_details: {a: ok, b: \"{{ bogus }}\"}\n");
	expect_only_error(text, 9, 36, "unknown template field 'bogus'", NULL);

	/* Escapes move the text off its columns: the scalar's own then. */
	snprintf(text, sizeof(text), "%s%s", head,
		 "    summary: \"\\t{{nope}}\"\n"
		 "    source: aws\n");
	expect_only_error(text, 7, 14, "unknown template field 'nope'", NULL);
}

static void test_bad_regex(void **state)
{
	expect_only_error(BASE "routes:\n"
			       "  - name: r\n"
			       "    target: primary\n"
			       "    match: {name: \"/(prod/\"}\n",
			  11, 19, "bad regular expression /(prod/",
			  "POSIX extended");
}

static void test_syntax_errors(void **state)
{
	struct config_diags errors = {0};

	/* libyaml notices an open quote only at the end of the stream. */
	load_fail(BASE "environment: \"production\n"
		       "region: us-east-1\n",
		  &errors);
	assert_int_equal(errors.n, 1);
	expect_diag(&errors, 10, 1, "YAML syntax error");
	assert_non_null(strstr(errors.v[0].hint, "quoted scalar at line 8, "
						 "column 14"));
	config_diags_release(&errors);

	expect_only_error(BASE "limits:\n"
			       "  max_body: 1KiB\n"
			       " max_connections: 3\n",
			  10, 2, "did not find expected key",
			  "line 1, column 1");
	expect_only_error(BASE "limits:\n\tmax_body: 1KiB\n", 9, 1,
			  "YAML syntax error", "not tabs");
	expect_only_error("a: 1\n\xff\n", 2, 1, "invalid leading UTF-8",
			  "UTF-8");
}

static void test_wrong_type(void **state)
{
	expect_only_error(BASE "limits: [1, 2]\n", 8, 9,
			  "'limits' must be a map, not a list", NULL);
	expect_only_error(BASE "environment:\n  name: prod\n", 9, 3,
			  "'environment' must be a single value, not a map",
			  NULL);
	expect_only_error(BASE "routes: {name: r}\n", 8, 9,
			  "'routes' must be a list, not a map", NULL);
	expect_only_error(BASE "pagerduty:\n", 8, 11,
			  "'pagerduty' must be a map, not empty", NULL);
	expect_only_error(BASE "region:\n", 8, 8, "'region' has no value",
			  NULL);
}

static void test_missing_key(void **state)
{
	/* Reported at the map that lacks the key. */
	expect_only_error("sns:\n"
			  "  topics: arn:aws:sns:us-east-1:123456789012:a\n"
			  "targets:\n"
			  "  primary: {routing_key_env: " KEY_ENV "}\n"
			  "templates:\n"
			  "  t: {summary: x, source: aws}\n"
			  "default_route:\n"
			  "  target: primary\n"
			  "  severity: error\n",
			  8, 3,
			  "missing required key 'template' in "
			  "default_route",
			  "add 'template:'");
	expect_only_error("# a comment first\n" BASE_REST, 2, 1,
			  "missing required key 'sns' in top level", NULL);
	expect_only_error(BASE "routes:\n"
			       "  - name: r\n"
			       "    severity: error\n",
			  9, 5, "missing required key 'target' in route 'r'",
			  NULL);
	expect_only_error(
		"sns: {topics: 'arn:aws:sns:*'}\n"
		"targets: {primary: {routing_key_env: " KEY_ENV "}}\n"
		"default_route: {target: primary, severity: error, "
		"template: u}\n"
		"templates:\n"
		"  u: {source: aws}\n",
		5, 6, "missing required key 'summary' in template 'u'", NULL);
}

static void test_many_errors(void **state)
{
	struct config_diags errors = {0};

	load_fail(BASE "listen: 127.0.0.1\n"
		       "limits: {max_body: 10MiB}\n"
		       "pagerduty:\n"
		       "  events_url: http://events.example.com/\n"
		       "  retry: {initial: 10m, max: 5m}\n"
		       "routes:\n"
		       "  - name: a\n"
		       "    target: nobody\n"
		       "    match: {kind: metrc, state: ALARM, severity: hgh}\n"
		       "  - name: a\n"
		       "    target: primary\n"
		       "    insufficient_data: {trigger: loud}\n",
		  &errors);

	expect_diag(&errors, 8, 9, "not an address and port");
	expect_diag(&errors, 9, 20, "10MiB is out of range");
	expect_diag(&errors, 11, 15, "is not an accepted URL");
	expect_diag(&errors, 12, 20, "first delay is longer");
	expect_diag(&errors, 15, 13, "unknown target 'nobody'");
	expect_diag(&errors, 16, 19, "unknown alert kind 'metrc'");
	expect_diag(&errors, 16, 50, "unknown severity band 'hgh'");
	expect_diag(&errors, 17, 11, "duplicate route name 'a'");
	expect_diag(&errors, 19, 34, "'loud' is not a PagerDuty severity");
	assert_int_equal(errors.n, 9);

	/* In file order. */
	for (size_t i = 1; i < errors.n; i++)
		assert_true(errors.v[i - 1].line < errors.v[i].line ||
			    (errors.v[i - 1].line == errors.v[i].line &&
			     errors.v[i - 1].column < errors.v[i].column));
	config_diags_release(&errors);
}

static void test_structure_errors(void **state)
{
	expect_only_error(BASE "environment: &e prod\nregion: *e\n", 9, 9,
			  "aliases (*e) are not supported", NULL);
	expect_only_error(BASE "---\nenvironment: x\n", 8, 1,
			  "a second YAML document", NULL);
	expect_only_error("# nothing here\n", 1, 1,
			  "the configuration is empty", NULL);
	expect_only_error("- a\n- b\n", 1, 1, "must be a map of settings",
			  NULL);
	expect_only_error(BASE "routes:\n"
			       "  - name: default\n"
			       "    target: primary\n",
			  9, 11, "'default' is the name of default_route",
			  NULL);
	expect_only_error(BASE "routes:\n"
			       "  - name: two words\n"
			       "    target: primary\n",
			  9, 11, "route name 'two words' is not valid", NULL);
}

static void test_diags_print(void **state)
{
	struct config_diags errors = {0};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	load_fail(BASE "tagets: {}\n", &errors);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_diags_print(&errors, "error", f);
	fclose(f);
	assert_string_equal(out, "test.yaml:8:1: error: unknown key 'tagets' "
				 "in top level (did you mean 'targets'?)\n");
	free(out);
	config_diags_release(&errors);
}

static void test_inline_key_warns(void **state)
{
	struct config *config =
		load_ok("sns: {topics: 'arn:aws:sns:*'}\n"
			"targets:\n"
			"  primary: {routing_key: " KEY_A "}\n"
			"templates: {t: {summary: x, source: aws}}\n"
			"default_route: {target: primary, severity: info, "
			"template: t}\n");

	assert_string_equal(config->targets[0].key_source, "inline");
	assert_string_equal(config->targets[0].routing_key, KEY_A);
	assert_int_equal(config->warnings.n, 1);
	assert_int_equal(config->warnings.v[0].line, 3);
	assert_int_equal(config->warnings.v[0].column, 26);
	assert_non_null(strstr(config->warnings.v[0].message, "primary"));
	assert_no_secret(&config->warnings, KEY_A);
	config_free(config);
}

static void test_odd_key_warns(void **state)
{
	struct config *config;

	setenv(KEY_ENV, "not-a-pagerduty-key", 1);
	config = load_ok(BASE);
	assert_int_equal(config->warnings.n, 1);
	assert_int_equal(config->warnings.v[0].line, 4);
	assert_non_null(strstr(config->warnings.v[0].message,
			       "not 32 letters and digits"));
	assert_no_secret(&config->warnings, "not-a-pagerduty-key");
	config_free(config);
	setenv(KEY_ENV, KEY_A, 1);
}

static void test_key_errors_hide_key(void **state)
{
	struct config_diags errors = {0};

	/* Missing: the message names the variable. */
	unsetenv(KEY_ENV);
	load_fail(BASE, &errors);
	expect_diag(&errors, 4, 30, "environment variable " KEY_ENV);
	config_diags_release(&errors);

	/* Present but unusable: the value never appears. */
	setenv(KEY_ENV, "secret value 1234", 1);
	load_fail(BASE, &errors);
	expect_diag(&errors, 4, 30, "contains white space");
	assert_no_secret(&errors, "secret");
	config_diags_release(&errors);

	setenv(KEY_ENV, "", 1);
	load_fail(BASE, &errors);
	expect_diag(&errors, 4, 30, "is empty");
	config_diags_release(&errors);
	setenv(KEY_ENV, KEY_A, 1);

	expect_only_error("sns: {topics: 'arn:aws:sns:*'}\n"
			  "targets:\n"
			  "  primary: {routing_key: x, routing_key_env: Y}\n"
			  "templates: {t: {summary: x, source: aws}}\n"
			  "default_route: {target: primary, severity: info, "
			  "template: t}\n",
			  3, 46, "more than one routing key", NULL);
	expect_only_error("sns: {topics: 'arn:aws:sns:*'}\n"
			  "targets:\n"
			  "  primary: {}\n"
			  "templates: {t: {summary: x, source: aws}}\n"
			  "default_route: {target: primary, severity: info, "
			  "template: t}\n",
			  3, 12, "has no routing key", NULL);
}

/* Relative paths are taken from the configuration file's directory. */
static void test_key_from_file(void **state)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	struct tmpdir dir;
	char path[256], expected[256];

	tmpdir_make(&dir);
	write_text(dir.path, "primary.key", KEY_A "\n");
	write_text(dir.path, "spaced.key", "secret with space\n");
	write_text(dir.path, "a.yaml",
		   "state_dir: state\n"
		   "sns: {topics: 'arn:aws:sns:*', cert_dir: ./certs}\n"
		   "targets:\n"
		   "  primary: {routing_key_file: primary.key}\n"
		   "templates: {t: {summary: x, source: aws}}\n"
		   "default_route: {target: primary, severity: info, "
		   "template: t}\n");
	write_text(dir.path, "b.yaml",
		   "sns: {topics: 'arn:aws:sns:*'}\n"
		   "targets:\n"
		   "  primary: {routing_key_file: spaced.key}\n"
		   "  other: {routing_key_file: missing.key}\n"
		   "templates: {t: {summary: x, source: aws}}\n"
		   "default_route: {target: primary, severity: info, "
		   "template: t}\n");

	snprintf(path, sizeof(path), "%s/a.yaml", dir.path);
	assert_int_equal(config_load_file(path, &config, &errors), 0);
	assert_string_equal(config->targets[0].routing_key, KEY_A);
	assert_string_equal(config->targets[0].key_source, "file");
	snprintf(expected, sizeof(expected), "%s/certs", dir.path);
	assert_string_equal(config->cert_dir, expected);
	snprintf(expected, sizeof(expected), "%s/state", dir.path);
	assert_string_equal(config->state_dir, expected);
	config_free(config);

	snprintf(path, sizeof(path), "%s/b.yaml", dir.path);
	assert_int_equal(config_load_file(path, &config, &errors), -EINVAL);
	assert_int_equal(errors.n, 2);
	assert_int_equal(errors.v[0].line, 3);
	assert_non_null(strstr(errors.v[0].message, "contains white space"));
	assert_int_equal(errors.v[1].line, 4);
	assert_non_null(strstr(errors.v[1].message, "missing.key"));
	assert_non_null(strstr(errors.v[1].message, "No such file"));
	assert_no_secret(&errors, "secret");
	config_diags_release(&errors);

	remove_text(dir.path, "primary.key");
	remove_text(dir.path, "spaced.key");
	remove_text(dir.path, "a.yaml");
	remove_text(dir.path, "b.yaml");
	rmdir(dir.path);
}

/* A relative file name: relative paths resolve under the working dir. */
static void test_relative_config_name(void **state)
{
	char *cwd = getcwd(NULL, 0);
	char expected[4096];
	struct config *config = NULL;
	struct config_diags errors = {0};
	const char *text = BASE "state_dir: state\n";

	assert_non_null(cwd);
	assert_int_equal(config_load_string("conf/x.yaml", text, strlen(text),
					    &config, &errors),
			 0);
	snprintf(expected, sizeof(expected), "%s/conf/state", cwd);
	assert_string_equal(config->state_dir, expected);
	config_free(config);
	free(cwd);
}

static void test_key_from_credential(void **state)
{
	static const char text[] =
		"sns: {topics: 'arn:aws:sns:*'}\n"
		"targets:\n"
		"  primary: {routing_key_credential: pd-primary}\n"
		"templates: {t: {summary: x, source: aws}}\n"
		"default_route: {target: primary, severity: info, "
		"template: t}\n";
	struct config_diags errors = {0};
	struct config *config;
	struct tmpdir dir;

	/* Outside a unit, the packaged unit's own directory is tried. */
	load_fail(text, &errors);
	expect_diag(&errors, 3, 37, "$CREDENTIALS_DIRECTORY");
	assert_non_null(strstr(errors.v[0].message,
			       "'/etc/alertbridge/credentials/pd-primary'"));
	config_diags_release(&errors);

	tmpdir_make(&dir);
	write_text(dir.path, "pd-primary", KEY_B);
	setenv("CREDENTIALS_DIRECTORY", dir.path, 1);
	config = load_ok(text);
	assert_string_equal(config->targets[0].routing_key, KEY_B);
	assert_string_equal(config->targets[0].key_source, "credential");
	config_free(config);

	unsetenv("CREDENTIALS_DIRECTORY");
	remove_text(dir.path, "pd-primary");
	rmdir(dir.path);
}

static void test_value_checks(void **state)
{
	expect_only_error(BASE "listen: '::1:8080'\n", 8, 9,
			  "not an address and port", "[::1]:8080");
	expect_only_error(BASE "listen: 127.0.0.1:65536\n", 8, 9,
			  "not an address and port", NULL);
	expect_only_error(BASE "limits: {max_body: 512}\n", 8, 20,
			  "512 is out of range", "from 1KiB to 4MiB");
	expect_only_error(BASE "limits: {max_body: 2GB}\n", 8, 20,
			  "'2GB' is not a size", "KiB or MiB");
	expect_only_error(BASE "limits: {connection_timeout: 1500ms}\n", 8, 30,
			  "whole seconds", NULL);
	expect_only_error(BASE "limits: {request_timeout: 500ms}\n", 8, 27,
			  "out of range", "from 1s to 10m");
	expect_only_error(BASE "limits: {max_connections_per_ip: -1}\n", 8, 34,
			  "not a number in range", "from 0 to 10000");
	expect_only_error(BASE "pagerduty: {rate_per_minute: 0}\n", 8, 30,
			  "'0' is not a number in range", "from 1 to 10000");
	expect_only_error(BASE "pagerduty: {retry: {max: 1d, deadline: 12h}}\n",
			  8, 40, "longer than the deadline", NULL);
	expect_only_error(BASE "pagerduty: {retry: {max: 2d}}\n", 8, 26,
			  "2d is out of range", "from 1s to 1d");
	expect_only_error(BASE_REST "sns: {topics: []}\n", 6, 15, "empty list",
			  NULL);
	expect_only_error(BASE_REST "sns:\n  topics: [alerts]\n", 7, 12,
			  "'alerts' is not a topic ARN", NULL);
	expect_only_error(BASE_REST "sns:\n"
				    "  topics: 'arn:aws:sns:*'\n"
				    "  cert_fetch: false\n",
			  8, 15, "cert_fetch false", "set cert_dir");
	expect_only_error(BASE_REST "sns:\n"
				    "  topics: 'arn:aws:sns:*'\n"
				    "  cert_fetch: yes\n",
			  8, 15, "must be true or false, not 'yes'", NULL);
	expect_only_error(BASE "testing: {as_of: yesterday}\n", 8, 18,
			  "'yesterday' is not a timestamp", NULL);
	expect_only_error(BASE "region: ''\n", 8, 9, "'region' is empty", NULL);
}

static void test_route_inheritance(void **state)
{
	struct config *config = load_ok(
		"environment: production\n"
		"sns: {topics: 'arn:aws:sns:*'}\n"
		"targets:\n"
		"  a: {routing_key_env: " KEY_ENV "}\n"
		"  b: {routing_key_env: " KEY_ENV "}\n"
		"templates:\n"
		"  t: {summary: x, source: aws}\n"
		"  u: {summary: y, source: aws, component: '{{namespace}}'}\n"
		"routes:\n"
		"  - name: plain\n"
		"    target: b\n"
		"  - name: own\n"
		"    target: b\n"
		"    severity: critical\n"
		"    template: u\n"
		"    environment: staging\n"
		"    severity_bands: {low: warning}\n"
		"    insufficient_data: ignore\n"
		"default_route:\n"
		"  target: a\n"
		"  severity: warning\n"
		"  template: t\n"
		"  severity_bands: {high: critical}\n"
		"  insufficient_data: {trigger: info}\n");
	const struct config_route *plain = &config->routes[0];
	const struct config_route *own = &config->routes[1];

	assert_ptr_equal(plain->target, config_find_target(config, "b"));
	assert_string_equal(plain->severity, "warning");
	assert_ptr_equal(plain->template, config_find_template(config, "t"));
	assert_string_equal(plain->environment, "production");
	assert_string_equal(plain->band_severity[CONFIG_BAND_HIGH], "critical");
	assert_string_equal(plain->band_severity[CONFIG_BAND_LOW], "info");
	assert_int_equal(plain->insufficient, CONFIG_INSUFFICIENT_TRIGGER);
	assert_string_equal(plain->insufficient_severity, "info");
	assert_int_equal(plain->line, 10);
	assert_int_equal(plain->column, 5);

	assert_string_equal(own->severity, "critical");
	assert_string_equal(config_find_template(config, "u")->component,
			    "{{namespace}}");
	assert_ptr_equal(own->template, config_find_template(config, "u"));
	assert_string_equal(own->environment, "staging");
	assert_string_equal(own->band_severity[CONFIG_BAND_LOW], "warning");
	assert_string_equal(own->band_severity[CONFIG_BAND_HIGH], "critical");
	assert_int_equal(own->insufficient, CONFIG_INSUFFICIENT_IGNORE);
	assert_null(own->insufficient_severity);
	config_free(config);
}

static void test_match_parsing(void **state)
{
	struct config *config = load_ok(
		BASE "routes:\n"
		     "  - name: m\n"
		     "    target: primary\n"
		     "    match:\n"
		     "      name: /^prod-[a-z]+$/\n"
		     "      kind: guardduty\n"
		     "      state: [alarm, INSUFFICIENT_DATA]\n"
		     "      namespace: AWS/*\n"
		     "      account: ['1111*', '2222*']\n"
		     "      severity: [high, critical]\n"
		     "      dimensions: {InstanceId: 'i-*', Env: prod}\n");
	const struct config_match *match = &config->routes[0].match;

	assert_true(match->name->is_regex);
	assert_string_equal(match->name->text, "/^prod-[a-z]+$/");
	assert_int_equal(match->kinds, 1u << ALERT_KIND_GUARDDUTY);
	assert_int_equal(match->states,
			 1u << ALERT_STATE_ALARM |
				 1u << ALERT_STATE_INSUFFICIENT_DATA);
	assert_int_equal(match->namespaces.n, 1);
	assert_string_equal(match->namespaces.v[0], "AWS/*");
	assert_int_equal(match->accounts.n, 2);
	assert_string_equal(match->accounts.v[1], "2222*");
	assert_int_equal(match->severities.n, 2);
	assert_int_equal(match->metrics.n, 0);
	assert_int_equal(match->n_dimensions, 2);
	assert_string_equal(match->dimensions[1].name, "Env");
	assert_string_equal(match->dimensions[1].value, "prod");
	config_free(config);
}

static void test_load_file_errors(void **state)
{
	struct config_diags errors = {0};
	struct config *config = NULL;

	assert_int_equal(config_load_file("/nonexistent/alertbridge.yaml",
					  &config, &errors),
			 -ENOENT);
	assert_null(config);
	config_free(NULL);
	config_diags_release(NULL);
}

/* The runbook: primary at once, then secondary, the manager, the VP. */
static void test_example_runbook(void **state)
{
	static const struct {
		int64_t after_ms;
		const char *target;
		unsigned int severities;
	} steps[] = {
		{0, "primary", 0},
		{15 * 60 * 1000, "secondary", 0},
		{30 * 60 * 1000, "engineering_manager", 0},
		{30 * 60 * 1000, "vp", 1u << CONFIG_SEVERITY_CRITICAL},
	};
	struct config_diags errors = {0};
	const struct config_policy *runbook;
	const struct config_route *route;
	struct config *config = NULL;
	int r;

	r = config_load_file(EXAMPLE, &config, &errors);
	if (r != 0)
		print_diags(&errors);
	assert_int_equal(r, 0);

	assert_int_equal(config->n_policies, 1);
	runbook = config_find_policy(config, "runbook");
	assert_ptr_equal(runbook, &config->policies[0]);
	assert_int_equal(runbook->n_steps, ARRAY_SIZE(steps));
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct config_step *step = &runbook->steps[i];

		assert_int_equal(step->after_ms, steps[i].after_ms);
		assert_ptr_equal(step->target,
				 config_find_target(config, steps[i].target));
		assert_int_equal(step->severities, steps[i].severities);
	}
	assert_int_equal(runbook->repeat, 0);
	assert_int_equal(runbook->repeat_interval_ms, 60 * 60 * 1000);

	/* Outages and critical findings escalate; budgets do not. */
	route = config_find_route(config, "production-critical");
	assert_ptr_equal(route->policy, runbook);
	assert_ptr_equal(route->target, config_find_target(config, "primary"));
	route = config_find_route(config, "guardduty-critical");
	assert_ptr_equal(route->policy, runbook);
	assert_ptr_equal(route->target, config_find_target(config, "primary"));
	route = config_find_route(config, "guardduty-findings");
	assert_null(route->policy);
	assert_ptr_equal(route->target,
			 config_find_target(config, "secondary"));
	route = config_find_route(config, "budgets");
	assert_null(route->policy);
	route = &config->default_route;
	assert_ptr_equal(route->policy, runbook);
	assert_ptr_equal(route->target, config_find_target(config, "primary"));

	/* Secrets and silences are left commented out. */
	assert_null(config->webhook_secret.value);
	assert_null(config->webhook_secret.source);
	assert_null(config->api_token.value);
	assert_int_equal(config->n_silences, 0);
	assert_null(config->testing_clock_file);
	config_free(config);
}

static void test_policy_loads(void **state)
{
	struct config *config = load_ok(
		POLICY_HEAD "      - {after: 0m, target: secondary}\n"
			    "      - {after: 24h, target: primary, severity: "
			    "[critical, warning]}\n"
			    "      - {after: 24h, target: secondary, severity: "
			    "error}\n"
			    "    repeat: 10\n"
			    "    repeat_interval: 2d\n"
			    "  other:\n"
			    "    steps: [{after: 0s, target: primary}]\n"
			    "routes:\n"
			    "  - name: r\n"
			    "    escalation: p\n"
			    "  - name: s\n"
			    "    target: secondary\n");
	const struct config_policy *p = config_find_policy(config, "p");
	const struct config_route *r = config_find_route(config, "r");
	const struct config_route *s = config_find_route(config, "s");

	assert_int_equal(config->n_policies, 2);
	assert_non_null(p);
	assert_int_equal(p->n_steps, 3);
	assert_int_equal(p->steps[1].after_ms, 24LL * 3600 * 1000);
	assert_int_equal(p->steps[1].severities,
			 1u << CONFIG_SEVERITY_CRITICAL |
				 1u << CONFIG_SEVERITY_WARNING);
	assert_int_equal(p->steps[2].severities, 1u << CONFIG_SEVERITY_ERROR);
	assert_int_equal(p->repeat, 10);
	assert_int_equal(p->repeat_interval_ms, 2LL * 24 * 3600 * 1000);
	assert_ptr_equal(config_find_policy(config, "other"),
			 &config->policies[1]);
	assert_null(config_find_policy(config, "runbook"));
	assert_null(config_find_policy(config, "P"));

	/* A policy's first step is what the route pages at once. */
	assert_ptr_equal(r->policy, p);
	assert_ptr_equal(r->target, config_find_target(config, "secondary"));
	assert_null(s->policy);
	assert_ptr_equal(s->target, config_find_target(config, "secondary"));
	assert_null(config->default_route.policy);
	config_free(config);
}

static void test_severity_names(void **state)
{
	static const char *const names[] = {"critical", "error", "warning",
					    "info"};
	enum config_severity severity = CONFIG_SEVERITY_COUNT;

	assert_int_equal(ARRAY_SIZE(names), CONFIG_SEVERITY_COUNT);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_string_equal(
			config_severity_name((enum config_severity)i),
			names[i]);
		assert_int_equal(config_severity_from_name(names[i], &severity),
				 0);
		assert_int_equal(severity, i);
	}

	severity = CONFIG_SEVERITY_INFO;
	assert_int_equal(config_severity_from_name("Critical", &severity),
			 -EINVAL);
	assert_int_equal(config_severity_from_name("crit", &severity), -EINVAL);
	assert_int_equal(config_severity_from_name("", &severity), -EINVAL);
	assert_int_equal(config_severity_from_name(NULL, &severity), -EINVAL);
	assert_int_equal(severity, CONFIG_SEVERITY_INFO);
	assert_string_equal(config_severity_name(CONFIG_SEVERITY_COUNT),
			    "unknown");
}

static void test_policy_step_errors(void **state)
{
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primry}\n",
			  12, 29,
			  "unknown target 'primry' in step 1 of "
			  "policy 'p'",
			  "did you mean 'primary'?");
	expect_only_error(POLICY_HEAD
			  "      - {after: 0m, target: primary}\n"
			  "      - {after: 30m, target: secondary}\n"
			  "      - {after: 15m, target: primary}\n",
			  14, 9,
			  "step 3 of policy 'p' is out of order: 15m is "
			  "before the 30m of step 2",
			  "in the order they page");
	expect_only_error(POLICY_HEAD "      - {after: 5m, target: primary}\n",
			  12, 17,
			  "the first step of policy 'p' must be at 0m, not 5m",
			  "pages the first target at once");
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "      - {after: 25h, target: primary}\n",
			  13, 17,
			  "'after' in step 2 of policy 'p': 25h is out "
			  "of range",
			  "from 0s to 1d");
	expect_only_error(POLICY_HEAD
			  "      - {after: 0m, target: primary}\n"
			  "      - {after: soon, target: primary}\n",
			  13, 17, "'soon' is not a duration", NULL);
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary, "
				      "severity: critical}\n",
			  12, 48,
			  "the first step of policy 'p' cannot be limited to "
			  "some severities",
			  "whatever the severity");
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "      - {after: 15m, target: secondary, "
				      "severity: [critcal]}\n",
			  13, 52,
			  "'severity' in step 2 of policy 'p': 'critcal' is "
			  "not a PagerDuty severity",
			  "did you mean 'critical'?");
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "      - {after: 15m, target: secondary, "
				      "severity: loud}\n",
			  13, 51, "'loud' is not a PagerDuty severity",
			  "critical, error, warning, info");
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary, "
				      "when: now}\n",
			  12, 38, "unknown key 'when' in step 1 of policy 'p'",
			  NULL);
	expect_only_error(POLICY_HEAD "      - {target: primary}\n", 12, 9,
			  "missing required key 'after' in step 1 of policy "
			  "'p'",
			  NULL);
	expect_only_error(POLICY_HEAD "      - primary\n", 12, 9,
			  "step 1 of policy 'p' must be a map, not text", NULL);
}

static void test_policy_errors(void **state)
{
	char text[4096];
	size_t used;

	expect_only_error(BASE2 "escalation_policies:\n"
				"  p:\n"
				"    steps: []\n",
			  11, 12, "'steps' in policy 'p' is empty",
			  "{after: 0m, target: primary}");
	expect_only_error(BASE2 "escalation_policies:\n"
				"  p: {repeat: 1}\n",
			  10, 6, "missing required key 'steps' in policy 'p'",
			  NULL);

	/* The 17th step is the one too many. */
	used = (size_t)snprintf(text, sizeof(text), "%s", POLICY_HEAD);
	for (int i = 0; i < 17; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used,
					 "      - {after: %dm, target: "
					 "primary}\n",
					 i);
	expect_only_error(text, 28, 9, "policy 'p' has more than 16 steps",
			  "at most 16");

	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "    repeat: 11\n",
			  13, 13,
			  "'repeat' in policy 'p': '11' is not a number",
			  "from 0 to 10");
	/* The default interval, 60m, is too short for a 90m chain. */
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "      - {after: 90m, target: primary}\n"
				      "    repeat: 1\n",
			  14, 13,
			  "policy 'p' repeats every 1h, which is not longer "
			  "than its last step's after (90m)",
			  "longer than the last step's after");
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "      - {after: 90m, target: primary}\n"
				      "    repeat: 2\n"
				      "    repeat_interval: 90m\n",
			  15, 22, "repeats every 90m", NULL);
	expect_only_error(POLICY_HEAD "      - {after: 0m, target: primary}\n"
				      "    repeat_interval: 10s\n",
			  13, 22, "10s is out of range", "from 1m to 7d");
	expect_only_error(BASE2
			  "escalation_policies:\n"
			  "  p: {steps: [{after: 0m, target: primary}]}\n"
			  "  p: {steps: [{after: 0m, target: primary}]}\n",
			  11, 3, "duplicate key 'p' in escalation_policies",
			  "first given at line 10, column 3");
	expect_only_error(BASE2 "escalation_policies:\n"
				"  bad name: {steps: [{after: 0m, target: "
				"primary}]}\n",
			  10, 3, "policy name 'bad name' is not valid", NULL);
	expect_only_error(BASE2 "escalation_policies: {}\n", 9, 22,
			  "'escalation_policies' is empty", NULL);
}

static void test_route_escalation_errors(void **state)
{
	static const char policy[] =
		"escalation_policies:\n"
		"  runbook: {steps: [{after: 0m, target: primary}]}\n";
	char text[2048];

	snprintf(text, sizeof(text), "%s%s%s", BASE2, policy,
		 "routes:\n"
		 "  - name: r\n"
		 "    escalation: runbok\n");
	expect_only_error(text, 13, 17,
			  "unknown escalation policy 'runbok' in route 'r'",
			  "did you mean 'runbook'?");

	snprintf(text, sizeof(text), "%s%s", BASE2,
		 "routes:\n"
		 "  - name: r\n"
		 "    escalation: runbook\n");
	expect_only_error(text, 11, 17,
			  "unknown escalation policy 'runbook' in route 'r'",
			  "define it under escalation_policies");

	/* Reported at whichever of the two comes second. */
	snprintf(text, sizeof(text), "%s%s%s", BASE2, policy,
		 "routes:\n"
		 "  - name: r\n"
		 "    escalation: runbook\n"
		 "    target: primary\n");
	expect_only_error(text, 14, 13,
			  "route 'r' has both a target and an escalation",
			  "keep one");
	snprintf(text, sizeof(text), "%s%s%s", BASE2, policy,
		 "routes:\n"
		 "  - name: r\n"
		 "    target: primary\n"
		 "    escalation: runbook\n");
	expect_only_error(text, 14, 17,
			  "route 'r' has both a target and an escalation",
			  "keep one");

	snprintf(text, sizeof(text), "%s%s%s", BASE2, policy,
		 "routes:\n"
		 "  - name: r\n"
		 "    severity: info\n");
	expect_only_error(text, 12, 5,
			  "missing required key 'target' in route 'r'",
			  "add 'target:' or 'escalation:' to route 'r'");

	/* default_route: the same rules. */
	expect_only_error("sns: {topics: 'arn:aws:sns:*'}\n"
			  "targets: {primary: {routing_key_env: " KEY_ENV "}}\n"
			  "templates: {t: {summary: x, source: aws}}\n"
			  "default_route: {severity: error, template: t}\n",
			  4, 16,
			  "missing required key 'target' in default_route",
			  "'escalation:'");
	expect_only_error("sns: {topics: 'arn:aws:sns:*'}\n"
			  "targets: {primary: {routing_key_env: " KEY_ENV "}}\n"
			  "templates: {t: {summary: x, source: aws}}\n"
			  "escalation_policies:\n"
			  "  p: {steps: [{after: 0m, target: primary}]}\n"
			  "default_route: {severity: error, template: t,\n"
			  "                escalation: p, target: primary}\n",
			  7, 40,
			  "default_route has both a target and an escalation",
			  NULL);
}

static void test_default_route_escalation(void **state)
{
	struct config *config =
		load_ok("sns: {topics: 'arn:aws:sns:*'}\n"
			"targets:\n"
			"  a: {routing_key_env: " KEY_ENV "}\n"
			"  b: {routing_key_env: " KEY_ENV "}\n"
			"templates: {t: {summary: x, source: aws}}\n"
			"escalation_policies:\n"
			"  p: {steps: [{after: 0m, target: b}, "
			"{after: 1m, target: a}]}\n"
			"default_route: {escalation: p, severity: error, "
			"template: t}\n"
			"routes:\n"
			"  - {name: plain, target: a}\n");

	assert_ptr_equal(config->default_route.policy, &config->policies[0]);
	assert_ptr_equal(config->default_route.target,
			 config_find_target(config, "b"));
	/* Who is paged is never inherited: the route said target a. */
	assert_null(config->routes[0].policy);
	assert_ptr_equal(config->routes[0].target,
			 config_find_target(config, "a"));
	config_free(config);
}

static void test_silences(void **state)
{
	struct config *config =
		load_ok(BASE "silences:\n"
			     "  - name: db-maintenance\n"
			     "    match: {name: 'prod-db-*', kind: metric}\n"
			     "    start: 2026-12-05T01:00:00Z\n"
			     "    end: 2026-12-05T03:00:00Z\n"
			     "  - name: everything\n"
			     "    match: {}\n"
			     "    start: 2026-12-06\n"
			     "    end: '2026-12-06T00:30:00+00:00'\n");
	const struct config_silence *s = &config->silences[0];

	assert_int_equal(config->n_silences, 2);
	assert_string_equal(s->name, "db-maintenance");
	assert_string_equal(s->match.name->text, "prod-db-*");
	assert_false(s->match.name->is_regex);
	assert_int_equal(s->match.kinds, 1u << ALERT_KIND_METRIC);
	assert_int_equal(s->start_ms, 1796432400000LL);
	assert_int_equal(s->end_ms, 1796432400000LL + 2 * 3600 * 1000);

	s = &config->silences[1];
	assert_string_equal(s->name, "everything");
	assert_null(s->match.name);
	assert_int_equal(s->match.kinds, 0);
	assert_int_equal(s->end_ms - s->start_ms, 30 * 60 * 1000);
	config_free(config);

	config = load_ok(BASE "silences: []\n");
	assert_int_equal(config->n_silences, 0);
	config_free(config);
}

static void test_silence_errors(void **state)
{
	expect_only_error(BASE "silences:\n"
			       "  - name: s\n"
			       "    match: {}\n"
			       "    start: 2026-12-05T03:00:00Z\n"
			       "    end: 2026-12-05T01:00:00Z\n",
			  12, 10, "silence 's' ends at or before its start",
			  "end must be later than start");
	expect_only_error(BASE "silences:\n"
			       "  - name: s\n"
			       "    match: {}\n"
			       "    start: 2026-12-05T03:00:00Z\n"
			       "    end: 2026-12-05T03:00:00Z\n",
			  12, 10, "ends at or before its start", NULL);
	expect_only_error(BASE "silences:\n"
			       "  - name: s\n"
			       "    match: {}\n"
			       "    start: tonight\n"
			       "    end: 2026-12-05T03:00:00Z\n",
			  11, 12,
			  "'start' in silence 's': 'tonight' is not an ISO "
			  "8601 timestamp",
			  "2026-12-05T01:00:00Z");
	expect_only_error(BASE "silences:\n"
			       "  - name: s\n"
			       "    match: {}\n"
			       "    start: 2026-12-05T03:00:00Z\n"
			       "    end: 2026-13-05T04:00:00Z\n",
			  12, 10, "'end' in silence 's'", "ISO 8601");
	expect_only_error(BASE "silences:\n"
			       "  - {name: s, match: {}, start: 2026-12-05, "
			       "end: 2026-12-06}\n"
			       "  - {name: s, match: {}, start: 2026-12-07, "
			       "end: 2026-12-08}\n",
			  10, 12, "duplicate silence name 's'",
			  "first used at line 9, column 12");
	expect_only_error(BASE "silences:\n"
			       "  - {name: s, start: 2026-12-05, "
			       "end: 2026-12-06}\n",
			  9, 5, "missing required key 'match' in silence 's'",
			  NULL);
	expect_only_error(BASE "silences:\n"
			       "  - {name: s, match: {kind: metrc}, "
			       "start: 2026-12-05, end: 2026-12-06}\n",
			  9, 29, "unknown alert kind 'metrc'",
			  "did you mean 'metric'?");
	expect_only_error(
		BASE "silences:\n"
		     "  - {match: {}, start: 2026-12-05, "
		     "end: 2026-12-06}\n",
		9, 5, "missing required key 'name' in silences item 1", NULL);
	expect_only_error(BASE "silences: {name: s}\n", 8, 11,
			  "'silences' must be a list, not a map", NULL);
}

static void test_secrets_from_env(void **state)
{
	struct config *config;
	char fingerprint[13];

	setenv(SECRET_ENV, WEBHOOK_TEXT, 1);
	setenv("ALERTBRIDGE_TEST_TOKEN", API_TOKEN, 1);
	config =
		load_ok(BASE "pagerduty: {webhook_secret_env: " SECRET_ENV "}\n"
			     "api: {token_env: ALERTBRIDGE_TEST_TOKEN}\n");

	/* Webhook secrets are taken as they are, spaces and all. */
	assert_string_equal(config->webhook_secret.value, WEBHOOK_TEXT);
	assert_string_equal(config->webhook_secret.source, "env");
	util_fingerprint(WEBHOOK_TEXT, fingerprint);
	assert_string_equal(config->webhook_secret.fingerprint, fingerprint);
	assert_string_equal(config->api_token.value, API_TOKEN);
	assert_string_equal(config->api_token.source, "env");
	util_fingerprint(API_TOKEN, fingerprint);
	assert_string_equal(config->api_token.fingerprint, fingerprint);
	assert_int_equal(config->warnings.n, 0);
	config_free(config);

	/* An unset variable is named; a token is checked for spaces. */
	unsetenv(SECRET_ENV);
	expect_only_error(BASE "pagerduty:\n"
			       "  webhook_secret_env: " SECRET_ENV "\n",
			  9, 23,
			  "environment variable " SECRET_ENV " for the webhook "
			  "secret of pagerduty is not set",
			  "export it");
	setenv("ALERTBRIDGE_TEST_TOKEN", "two words", 1);
	expect_only_error(BASE "api: {token_env: ALERTBRIDGE_TEST_TOKEN}\n", 8,
			  18,
			  "the API token of api from environment "
			  "variable ALERTBRIDGE_TEST_TOKEN contains white "
			  "space",
			  NULL);
	setenv("ALERTBRIDGE_TEST_TOKEN", "", 1);
	expect_only_error(BASE "api: {token_env: ALERTBRIDGE_TEST_TOKEN}\n", 8,
			  18, "is empty", NULL);
	unsetenv("ALERTBRIDGE_TEST_TOKEN");
}

static void test_secrets_inline_warn(void **state)
{
	struct config *config =
		load_ok(BASE "pagerduty: {webhook_secret: " API_TOKEN "}\n"
			     "api:\n"
			     "  token: short-token\n");

	assert_string_equal(config->webhook_secret.value, API_TOKEN);
	assert_string_equal(config->webhook_secret.source, "inline");
	assert_string_equal(config->api_token.value, "short-token");
	assert_string_equal(config->api_token.source, "inline");

	/* Inline, both; and the token is short. */
	assert_int_equal(config->warnings.n, 3);
	assert_int_equal(config->warnings.v[0].line, 8);
	assert_int_equal(config->warnings.v[0].column, 29);
	assert_non_null(strstr(config->warnings.v[0].message,
			       "webhook secret of pagerduty is written into"));
	assert_non_null(strstr(config->warnings.v[0].hint,
			       "webhook_secret_credential"));
	assert_int_equal(config->warnings.v[1].line, 10);
	assert_int_equal(config->warnings.v[1].column, 10);
	assert_non_null(strstr(config->warnings.v[1].message,
			       "API token of api is written into"));
	assert_int_equal(config->warnings.v[2].line, 10);
	assert_int_equal(config->warnings.v[2].column, 10);
	assert_non_null(strstr(config->warnings.v[2].message,
			       "shorter than 16 characters"));
	assert_no_secret(&config->warnings, API_TOKEN);
	assert_no_secret(&config->warnings, "short-token");
	config_free(config);

	expect_only_error(BASE "api: {token: " API_TOKEN ", token_env: X}\n", 8,
			  47, "api has more than one API token",
			  "keep exactly one of token_file, token_env, "
			  "token_credential and token");
	expect_only_error(BASE "api: {token_fle: x}\n", 8, 7,
			  "unknown key 'token_fle' in api",
			  "did you mean 'token_file'?");
}

static void test_secrets_from_files(void **state)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	struct tmpdir dir;
	char path[256];

	tmpdir_make(&dir);
	write_text(dir.path, "webhook.secret", WEBHOOK_TEXT "\n");
	write_text(dir.path, "api-token", API_TOKEN);
	write_text(dir.path, "a.yaml",
		   BASE "pagerduty: {webhook_secret_file: webhook.secret}\n"
			"api: {token_credential: api-token}\n"
			"testing: {clock_file: clock}\n");

	setenv("CREDENTIALS_DIRECTORY", dir.path, 1);
	snprintf(path, sizeof(path), "%s/a.yaml", dir.path);
	if (config_load_file(path, &config, &errors) != 0)
		print_diags(&errors);
	assert_non_null(config);
	assert_string_equal(config->webhook_secret.value, WEBHOOK_TEXT);
	assert_string_equal(config->webhook_secret.source, "file");
	assert_string_equal(config->api_token.value, API_TOKEN);
	assert_string_equal(config->api_token.source, "credential");
	snprintf(path, sizeof(path), "%s/clock", dir.path);
	assert_string_equal(config->testing_clock_file, path);
	assert_int_equal(config->warnings.n, 0);
	config_free(config);

	/* The other way round: the credential and the file swap. */
	write_text(dir.path, "b.yaml",
		   BASE "pagerduty: {webhook_secret_credential: "
			"webhook.secret}\n"
			"api: {token_file: ./api-token}\n");
	snprintf(path, sizeof(path), "%s/b.yaml", dir.path);
	if (config_load_file(path, &config, &errors) != 0)
		print_diags(&errors);
	assert_non_null(config);
	assert_string_equal(config->webhook_secret.value, WEBHOOK_TEXT);
	assert_string_equal(config->webhook_secret.source, "credential");
	assert_string_equal(config->api_token.value, API_TOKEN);
	assert_string_equal(config->api_token.source, "file");
	config_free(config);
	remove_text(dir.path, "b.yaml");

	/* A missing file names the path, never a secret. */
	unsetenv("CREDENTIALS_DIRECTORY");
	snprintf(path, sizeof(path), "%s/a.yaml", dir.path);
	remove_text(dir.path, "webhook.secret");
	assert_int_equal(config_load_file(path, &config, &errors), -EINVAL);
	assert_int_equal(errors.n, 2);
	assert_int_equal(errors.v[0].line, 8);
	assert_non_null(strstr(errors.v[0].message,
			       "cannot read the webhook secret of pagerduty"));
	assert_non_null(strstr(errors.v[0].message, "webhook.secret"));
	assert_int_equal(errors.v[1].line, 9);
	assert_non_null(strstr(errors.v[1].message, "$CREDENTIALS_DIRECTORY"));
	config_diags_release(&errors);

	remove_text(dir.path, "api-token");
	remove_text(dir.path, "a.yaml");
	rmdir(dir.path);
}

static void test_clock_file(void **state)
{
	char *cwd = getcwd(NULL, 0);
	char expected[4096];
	struct config_diags errors = {0};
	struct config *config = NULL;
	const char *text = BASE "testing:\n  clock_file: ./run/now\n";

	assert_non_null(cwd);
	assert_int_equal(config_load_string("conf/x.yaml", text, strlen(text),
					    &config, &errors),
			 0);
	snprintf(expected, sizeof(expected), "%s/conf/run/now", cwd);
	assert_string_equal(config->testing_clock_file, expected);
	assert_true(config->testing);
	config_free(config);
	free(cwd);

	config = load_ok(BASE "testing: {clock_file: /run/ab/now}\n");
	assert_string_equal(config->testing_clock_file, "/run/ab/now");
	config_free(config);

	expect_only_error(BASE "testing: {clock_file: ''}\n", 8, 23,
			  "'clock_file' in testing is empty", NULL);

	config = load_ok(BASE "testing: {clock_file: /run/ab/now,"
			      " wall_offset_file: /run/ab/step}\n");
	assert_string_equal(config->testing_wall_offset_file, "/run/ab/step");
	config_free(config);

	expect_only_error(
		BASE "testing: {wall_offset_file: /run/ab/step}\n", 8, 29,
		"'wall_offset_file' in testing needs 'clock_file'", NULL);
}

int main(void)
{
	int failed;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_example_loads, setup_example),
		cmocka_unit_test_setup(test_example_embedded, setup_example),
		cmocka_unit_test_setup(test_example_without_keys,
				       setup_example),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_settings, setup),
		cmocka_unit_test_setup(test_testing_section, setup),
		cmocka_unit_test_setup(test_unknown_key, setup),
		cmocka_unit_test_setup(test_diagnostic_is_one_line, setup),
		cmocka_unit_test_setup(test_duplicate_key, setup),
		cmocka_unit_test_setup(test_bad_duration, setup),
		cmocka_unit_test_setup(test_bad_severity, setup),
		cmocka_unit_test_setup(test_unknown_target, setup),
		cmocka_unit_test_setup(test_unknown_template_field, setup),
		cmocka_unit_test_setup(test_bad_regex, setup),
		cmocka_unit_test_setup(test_syntax_errors, setup),
		cmocka_unit_test_setup(test_wrong_type, setup),
		cmocka_unit_test_setup(test_missing_key, setup),
		cmocka_unit_test_setup(test_many_errors, setup),
		cmocka_unit_test_setup(test_structure_errors, setup),
		cmocka_unit_test_setup(test_diags_print, setup),
		cmocka_unit_test_setup(test_inline_key_warns, setup),
		cmocka_unit_test_setup(test_odd_key_warns, setup),
		cmocka_unit_test_setup(test_key_errors_hide_key, setup),
		cmocka_unit_test_setup(test_key_from_file, setup),
		cmocka_unit_test_setup(test_relative_config_name, setup),
		cmocka_unit_test_setup(test_key_from_credential, setup),
		cmocka_unit_test_setup(test_value_checks, setup),
		cmocka_unit_test_setup(test_route_inheritance, setup),
		cmocka_unit_test_setup(test_match_parsing, setup),
		cmocka_unit_test_setup(test_load_file_errors, setup),
		cmocka_unit_test_setup(test_example_runbook, setup_example),
		cmocka_unit_test_setup(test_policy_loads, setup),
		cmocka_unit_test_setup(test_severity_names, setup),
		cmocka_unit_test_setup(test_policy_step_errors, setup),
		cmocka_unit_test_setup(test_policy_errors, setup),
		cmocka_unit_test_setup(test_route_escalation_errors, setup),
		cmocka_unit_test_setup(test_default_route_escalation, setup),
		cmocka_unit_test_setup(test_silences, setup),
		cmocka_unit_test_setup(test_silence_errors, setup),
		cmocka_unit_test_setup(test_secrets_from_env, setup),
		cmocka_unit_test_setup(test_secrets_inline_warn, setup),
		cmocka_unit_test_setup(test_secrets_from_files, setup),
		cmocka_unit_test_setup(test_clock_file, setup),
	};

	snprintf(example_keys.path, sizeof(example_keys.path),
		 "/tmp/test_config.XXXXXX");
	if (!mkdtemp(example_keys.path))
		return 1;

	failed = cmocka_run_group_tests(tests, NULL, NULL);

	for (size_t i = 0; i < ARRAY_SIZE(example_credentials); i++)
		remove_text(example_keys.path, example_credentials[i]);
	rmdir(example_keys.path);
	return failed;
}
