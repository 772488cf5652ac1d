/*
 * config: the YAML configuration, parsed with libyaml into an immutable
 * object. A reload builds a new object and swaps it in whole; a failed
 * parse leaves the running one untouched.
 *
 * Every error carries the file, line and column (both 1-based) where it
 * was found, and a hint; unknown keys are errors.
 */
#ifndef ALERTBRIDGE_CONFIG_H
#define ALERTBRIDGE_CONFIG_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alert.h"

/* PagerDuty's severities, the only values an event may carry. */
#define CONFIG_SEVERITY_VALID(s)                                               \
	((s) && (!strcmp((s), "critical") || !strcmp((s), "error") ||          \
		 !strcmp((s), "warning") || !strcmp((s), "info")))

struct config_diag {
	char *file;
	int line;
	int column;
	char *message;
	char *hint; /* may be NULL */
};

/* A list of errors or warnings, in the order found. */
struct config_diags {
	struct config_diag *v;
	size_t n;
};

void config_diags_release(struct config_diags *diags);

/* Prints each as "file:line:column: prefix: message (hint)". */
void config_diags_print(const struct config_diags *diags, const char *prefix,
			FILE *out);

/* A PagerDuty integration: a name and its routing key (a secret). */
struct config_target {
	char *name;
	char *routing_key;
	char fingerprint[13]; /* the only form of the key fit for logs */
	char *key_source;     /* "file", "env", "credential" or "inline" */
};

/* A template field is literal text with {{name}} fields. */
struct config_detail {
	char *key;
	char *value;
};

struct config_template {
	char *name;
	char *summary;
	char *source;
	char *component; /* NULL: left out of the event */
	char *group;
	char *class_name;
	struct config_detail *details; /* custom_details, in order */
	size_t n_details;
};

/* A name pattern: a glob (fnmatch) or, written /.../, a POSIX ERE. */
struct config_pattern {
	char *text;
	bool is_regex;
	regex_t regex;
};

/* Any of these globs; n == 0 matches everything. */
struct config_globs {
	char **v;
	size_t n;
};

struct config_match {
	struct config_pattern *name; /* NULL: any name */
	unsigned int kinds;          /* bits of 1u << alert_kind; 0: any */
	unsigned int states;         /* bits of 1u << alert_state; 0: any */
	struct config_globs namespaces;
	struct config_globs metrics;
	struct config_globs regions;
	struct config_globs accounts;
	struct config_globs topics;
	struct config_globs severities;     /* GuardDuty bands */
	struct alert_dimension *dimensions; /* value is a glob */
	size_t n_dimensions;
};

enum config_insufficient {
	CONFIG_INSUFFICIENT_IGNORE,
	CONFIG_INSUFFICIENT_TRIGGER,
};

/* Index into config_route.band_severity. */
enum config_band {
	CONFIG_BAND_LOW,
	CONFIG_BAND_MEDIUM,
	CONFIG_BAND_HIGH,
	CONFIG_BAND_CRITICAL,
	CONFIG_BAND_COUNT
};

/* PagerDuty's severities, as bits in config_step.severities. */
enum config_severity {
	CONFIG_SEVERITY_CRITICAL,
	CONFIG_SEVERITY_ERROR,
	CONFIG_SEVERITY_WARNING,
	CONFIG_SEVERITY_INFO,
	CONFIG_SEVERITY_COUNT
};

/*
 * One step of an escalation policy: page target after_ms from the
 * trigger, when the incident's PagerDuty severity is one of severities
 * (bits of 1u << config_severity; 0: any).
 */
struct config_step {
	int64_t after_ms;
	const struct config_target *target;
	unsigned int severities;
};

/*
 * An escalation policy: steps in order of after_ms (equal delays
 * allowed), the first at 0. The whole chain runs again repeat times,
 * each pass repeat_interval_ms after the one before.
 */
#define CONFIG_POLICY_STEPS_MAX  16
#define CONFIG_POLICY_REPEAT_MAX 10

struct config_policy {
	char *name;
	struct config_step *steps;
	size_t n_steps;
	unsigned int repeat;
	int64_t repeat_interval_ms;
};

/*
 * A silence (maintenance window): alerts that match are not paged from
 * start_ms until end_ms. Set in YAML here, or through the API (kept in
 * the store, not in this object).
 */
struct config_silence {
	char *name;
	struct config_match match;
	int64_t start_ms;
	int64_t end_ms;
};

/* A secret from a file, the environment, a credential, or inline. */
struct config_secret {
	char *value; /* NULL when not configured */
	char fingerprint[13];
	char *source; /* "file", "env", "credential" or "inline" */
};

struct config_route {
	char *name;
	struct config_match match;
	/*
	 * The target paged at once. With a policy it is the policy's first
	 * step's target, filled in by the loader.
	 */
	const struct config_target *target;
	const struct config_policy *policy; /* NULL: no escalation */
	const struct config_template *template;
	char *severity; /* PagerDuty severity of a trigger */
	char *band_severity[CONFIG_BAND_COUNT]; /* for GuardDuty bands */
	char *environment;
	enum config_insufficient insufficient;
	char *insufficient_severity; /* with CONFIG_INSUFFICIENT_TRIGGER */
	int line;
	int column;
};

struct config {
	char *path; /* the file it came from, or "<embedded>" */

	/* server */
	char *listen_host;
	int listen_port; /* 0: any free port (tests) */
	char *state_dir;
	size_t max_body_bytes;
	unsigned int max_connections;
	unsigned int max_connections_per_ip; /* 0: no limit per address */
	unsigned int connection_timeout_s;   /* idle, between any bytes */
	int64_t request_timeout_ms;          /* to receive one request whole */

	/* sns */
	struct config_globs topics; /* the allow-list: exact ARNs or globs */
	char *cert_dir;             /* NULL: none */
	bool cert_fetch;
	int64_t replay_window_ms;

	/* pagerduty */
	char *events_url;
	int64_t timeout_ms;
	unsigned int rate_per_minute; /* per routing key */
	int64_t retry_initial_ms;
	int64_t retry_max_ms;
	int64_t retry_deadline_ms;
	char *client;
	char *client_url;

	/* the runbook's defaults */
	char *environment;
	char *region; /* used where an alert carries no region */

	/*
	 * Test-only settings (the testing: section). The daemon refuses a
	 * configuration with any of them unless started with
	 * --not-production, and warns at every start.
	 */
	bool testing;
	int64_t testing_as_of_ms; /* 0: judge at the real time */
	bool testing_skip_age_check;
	bool testing_skip_cert_validity;
	bool testing_skip_signature;
	char *testing_cert_ca_file; /* trust this CA for certificate fetches */
	char *testing_cert_connect_to; /* libcurl CONNECT_TO for fetches */

	/*
	 * PagerDuty Webhooks v3 signing secret (pagerduty.webhook_secret*),
	 * and the bearer token of the daemon's own API (api.token*). When a
	 * secret is absent its endpoint answers 404.
	 */
	struct config_secret webhook_secret;
	struct config_secret api_token;

	/*
	 * Test-only: the time elapsed, as an ISO 8601 instant in this file,
	 * instead of the system's clocks; and a file holding a signed number
	 * of seconds by which the wall clock is stepped away from it.
	 */
	char *testing_clock_file;
	char *testing_wall_offset_file;

	struct config_target *targets;
	size_t n_targets;
	struct config_policy *policies;
	size_t n_policies;
	struct config_silence *silences;
	size_t n_silences;
	struct config_template *templates;
	size_t n_templates;
	struct config_route *routes; /* in order; first match wins */
	size_t n_routes;
	struct config_route default_route;

	struct config_diags warnings; /* e.g. an inline routing key */
};

/*
 * Loads and validates a file. On failure returns -EINVAL (or -errno
 * when the file cannot be read) and fills *errors with every error
 * found, each with file, line and column.
 */
int config_load_file(const char *path, struct config **ret_config,
		     struct config_diags *errors);

/* The same for text in memory; name stands for the file in errors. */
int config_load_string(const char *name, const char *text, size_t len,
		       struct config **ret_config, struct config_diags *errors);

void config_free(struct config *config);

const struct config_target *config_find_target(const struct config *config,
					       const char *name);
const struct config_template *config_find_template(const struct config *config,
						   const char *name);
const struct config_policy *config_find_policy(const struct config *config,
					       const char *name);
/* Exact lower-case names; the name of a value out of range is
 * "unknown". */
int config_severity_from_name(const char *name,
			      enum config_severity *ret_severity);
const char *config_severity_name(enum config_severity severity);

const struct config_route *config_find_route(const struct config *config,
					     const char *name);

#endif
