/*
 * harness: the real daemon as a child process on a loopback port, a
 * libcurl client for it, and the files a test run needs (configuration,
 * state directory, certificates), all in a fresh temporary directory.
 */
#ifndef ALERTBRIDGE_HARNESS_H
#define ALERTBRIDGE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct harness {
	char dir[64];     /* the run's temporary directory */
	char config[128]; /* dir/alertbridge.yaml */
	char state_dir[128];
	char cert_dir[128];
	char log_path[128]; /* the daemon's standard error */
	pid_t pid;
	int port;
};

/* The routing keys the generated configurations use. */
#define HARNESS_KEY_PRIMARY   "primary0000000000000000000000001"
#define HARNESS_KEY_SECONDARY "secondary00000000000000000000002"

#define HARNESS_KEY_MANAGER    "manager0000000000000000000000003"
#define HARNESS_KEY_VP         "vp000000000000000000000000000004"
#define HARNESS_WEBHOOK_SECRET "whsec-test-0123456789abcdef"
/* 1,546 bytes, longer than a fixed header buffer would hold: the
 * commands must send the token whole. */
#define HARNESS_TOKEN_32 "0123456789abcdef0123456789abcdef"
#define HARNESS_TOKEN_128                                                      \
	HARNESS_TOKEN_32 HARNESS_TOKEN_32 HARNESS_TOKEN_32 HARNESS_TOKEN_32
#define HARNESS_TOKEN_512                                                      \
	HARNESS_TOKEN_128 HARNESS_TOKEN_128 HARNESS_TOKEN_128 HARNESS_TOKEN_128
#define HARNESS_API_TOKEN                                                      \
	"api-token-" HARNESS_TOKEN_512 HARNESS_TOKEN_512 HARNESS_TOKEN_512

/* Creates the directory tree; cert_dir gets the real fixture certs. */
int harness_init(struct harness *h);

/* Removes the temporary directory (after stopping the daemon). */
void harness_cleanup(struct harness *h);

/* Writes dir/alertbridge.yaml from a printf-style text. */
int harness_write_config(struct harness *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A configuration for the usual test: the runbook template, the topics
 * of the fixtures and the test topic, cert_dir, events_url, short
 * retries, judged as of as_of (an ISO 8601 instant). extra is appended
 * at the top level (may be "").
 */
int harness_write_standard_config(struct harness *h, const char *events_url,
				  const char *as_of, const char *extra);

/*
 * The standard configuration with the pagerduty section's pacing and
 * retries (rate_per_minute, retry) from delivery, its targets and
 * routes from routing (NULL: the standard ones), and the clock read
 * from clock_file (NULL: the system's).
 */
int harness_write_delivery_config(struct harness *h, const char *events_url,
				  const char *as_of, const char *clock_file,
				  const char *delivery, const char *routing);

/* Starts `alertbridge serve` and waits (polling) until it listens. */
int harness_start(struct harness *h);

/*
 * Runs `alertbridge serve -c CONFIG` plus extra_args (without
 * --not-production unless given) expecting it to exit; returns its exit
 * status.
 */
int harness_run_expect_exit(struct harness *h, const char *const *extra_args,
			    int timeout_ms);

/* SIGTERM and wait; returns the exit status, or -1. */
int harness_stop(struct harness *h);

/* SIGKILL and reap. */
void harness_kill(struct harness *h);

struct harness_response {
	long status;
	char body[4096];
	char allow[128];            /* the Allow header's value, "" when none */
	char www_authenticate[128]; /* likewise */
};

/*
 * POSTs body to path with optional extra header lines (NULL-ended); the
 * Content-Type is SNS's text/plain unless a header line gives one.
 */
int harness_post(struct harness *h, const char *path, const char *body,
		 size_t len, const char *const *headers,
		 struct harness_response *ret);

int harness_get(struct harness *h, const char *path,
		struct harness_response *ret);

/* A request without a body, of any method (DELETE). */
int harness_request(struct harness *h, const char *method, const char *path,
		    const char *const *headers, struct harness_response *ret);

/* GET with "Authorization: Bearer token". */
int harness_get_auth(struct harness *h, const char *path, const char *token,
		     struct harness_response *ret);

/* Reads a file whole (NUL-terminated); NULL on failure. */
char *harness_slurp(const char *path, size_t *ret_len);

/* True once the daemon's log contains text; polls up to timeout_ms. */
bool harness_log_wait(struct harness *h, const char *text, int timeout_ms);

/* The value of an unlabelled or labelled sample in /metrics, or -1. */
double harness_metric(struct harness *h, const char *sample);

int64_t harness_mono_ms(void);

/* Waits ms between two polls of a condition that has a deadline. */
void harness_pause_ms(int ms);

/*
 * The runbook's escalation: targets primary, secondary,
 * engineering_manager and vp; policy runbook (0, 15, 30, 30 minutes, the
 * VP for critical only); alarms named warn-* at warning, the rest
 * critical; the webhook secret and API token above; the time elapsed
 * read from clock_file, the wall clock stepped away from it by the
 * seconds in clock_file.wall (none while that file is absent).
 */
int harness_write_escalation_config(struct harness *h, const char *events_url,
				    const char *clock_file, const char *extra);

/* Path of the alertbridge binary under test. */
const char *harness_binary(void);

/*
 * The standard configuration's topics, targets, templates and routes,
 * but with signing certificates fetched over the network (cert_fetch
 * true, no cert_dir) and judged at the real time: the fetches and the
 * SubscribeURL requests trust ca_file and connect as connect_to says
 * (libcurl's HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT). extra is
 * appended at the top level (may be "").
 */
int harness_write_fetch_config(struct harness *h, const char *events_url,
			       const char *ca_file, const char *connect_to,
			       const char *extra);

#endif
