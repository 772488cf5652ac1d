/*
 * scenario: the usual integration setting in one piece: the daemon with
 * the standard test configuration, a fake PagerDuty, and a test signing
 * key trusted through the certificate directory; plus CloudWatch alarm
 * messages made to order and signed.
 */
#ifndef ALERTBRIDGE_SCENARIO_H
#define ALERTBRIDGE_SCENARIO_H

#include <stdint.h>

#include "fakepd.h"
#include "harness.h"
#include "testkeys.h"

#define SCENARIO_AS_OF "2022-09-25T18:51:00Z"
#define SCENARIO_TOPIC "arn:aws:sns:us-east-1:123456789012:alertbridge-test"
#define SCENARIO_CERT                                                          \
	"SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
#define SCENARIO_CERT_URL "https://sns.us-east-1.amazonaws.com/" SCENARIO_CERT

struct scenario {
	struct harness h;
	struct fakepd *pd;
	struct testkey *key;
	int64_t as_of_ms;
	unsigned int next_id;
	char clock_file[128]; /* with scenario_start_escalation() */
};

/*
 * cmocka set-up and tear-down: a scenario started with the standard
 * configuration, in *state. The set-up fails the test when it cannot.
 */
int scenario_setup(void **state);
int scenario_teardown(void **state);

/*
 * The directory, the fake PagerDuty and the trusted test key, without
 * a configuration or a daemon: for a test that arranges more (a
 * filesystem for the state directory) before harness_start().
 */
int scenario_init(struct scenario *s);

/* Sets everything up and starts the daemon; extra goes into the YAML. */
int scenario_start(struct scenario *s, const char *extra_yaml);

/* All of scenario_start() but the start, for a test that starts the
 * daemon its own way. */
int scenario_prepare(struct scenario *s, const char *extra_yaml);
void scenario_finish(struct scenario *s);

/*
 * Starts the daemon on the runbook's escalation configuration
 * (harness_write_escalation_config()) with its clock at the scenario's
 * instant, moved on by scenario_set_clock().
 */
int scenario_start_escalation(struct scenario *s, const char *extra_yaml);

/*
 * Everything scenario_start_escalation() does but the configuration and
 * the start: for a test that writes its own configuration (using
 * h.state_dir, h.cert_dir, clock_file) and then calls harness_start().
 */
int scenario_prepare_clocked(struct scenario *s);

/*
 * Sets the time elapsed on the daemon's clock (what its monotonic clock
 * measures) to the scenario's instant plus offset_ms; the wall clock
 * moves with it.
 */
int scenario_set_clock(struct scenario *s, int64_t offset_ms);

/*
 * Steps the wall clock step_ms (whole seconds) away from the time
 * elapsed, as NTP or a person setting the clock would; 0 undoes it.
 */
int scenario_step_wall(struct scenario *s, int64_t step_ms);

/*
 * A CloudWatch alarm Message for an AWS/EC2 CPU alarm named name in
 * us-east-1, in state ("ALARM", "OK"), changed changed_offset_ms after
 * the scenario's instant.
 */
char *scenario_alarm(const char *name, const char *state,
		     int64_t changed_offset_ms);

/*
 * The body SNS would post for message as a Notification with
 * message_id, signed with the scenario's key (free() it; NULL on
 * failure). Safe to call from several threads at once.
 */
char *scenario_sign(struct scenario *s, const char *message_id,
		    const char *message);

/* Signs message as a Notification with a fresh MessageId and posts it;
 * returns the HTTP status (or -1). */
long scenario_post(struct scenario *s, const char *message);

/* The same, with a MessageId of the caller's. */
long scenario_post_id(struct scenario *s, const char *message_id,
		      const char *message);

/* The dedup_key the daemon derives for alarm name. */
void scenario_dedup_key(const char *name, char out[256]);

/*
 * Posts a PagerDuty Webhooks v3 delivery of event_type (such as
 * "incident.acknowledged", by the fixture's agent "Tenex Engineer") for
 * the incident with key, signed with secret, as X-Webhook-Id
 * webhook_id. Returns the HTTP status (or -1); r gets the answer.
 */
long scenario_webhook(struct scenario *s, const char *event_type,
		      const char *key, const char *webhook_id,
		      const char *secret, struct harness_response *r);

#endif
