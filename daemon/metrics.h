/*
 * metrics: counters, gauges and histograms, rendered in the Prometheus
 * text format at GET /metrics. Updates are lock-free atomics, safe from
 * any thread.
 */
#ifndef ALERTBRIDGE_METRICS_H
#define ALERTBRIDGE_METRICS_H

#include <stdint.h>

#include "util.h"

/* SNS message types, plus one for bodies that never parsed. */
enum metrics_type {
	METRICS_TYPE_NOTIFICATION,
	METRICS_TYPE_SUBSCRIPTION,
	METRICS_TYPE_UNSUBSCRIBE,
	METRICS_TYPE_UNKNOWN,
	METRICS_TYPE_COUNT
};

enum metrics_outcome {
	METRICS_OUTCOME_ACCEPTED,
	METRICS_OUTCOME_DUPLICATE,
	METRICS_OUTCOME_REJECTED, /* 4xx: never valid */
	METRICS_OUTCOME_FAILED,   /* 5xx: SNS will retry */
	METRICS_OUTCOME_COUNT
};

/* Why a request was refused; "verification failures by reason". */
enum metrics_reject {
	METRICS_REJECT_TOO_LARGE,
	METRICS_REJECT_MALFORMED,
	METRICS_REJECT_HEADERS,
	METRICS_REJECT_TOPIC,
	METRICS_REJECT_STALE,
	METRICS_REJECT_CERT_URL,
	METRICS_REJECT_CERT,
	METRICS_REJECT_SIGNATURE,
	METRICS_REJECT_SUBSCRIBE_URL,
	METRICS_REJECT_CONTENT_TYPE,
	METRICS_REJECT_COUNT
};

enum metrics_action {
	METRICS_ACTION_TRIGGER,
	METRICS_ACTION_RESOLVE,
	METRICS_ACTION_NONE,
	METRICS_ACTION_COUNT
};

enum metrics_delivery {
	METRICS_DELIVERY_ACCEPTED,     /* 202 */
	METRICS_DELIVERY_INVALID,      /* 400 */
	METRICS_DELIVERY_RATE_LIMITED, /* 429 */
	METRICS_DELIVERY_SERVER_ERROR, /* 5xx */
	METRICS_DELIVERY_OTHER,        /* any other status */
	METRICS_DELIVERY_NETWORK,      /* timeout, refused, reset */
	METRICS_DELIVERY_COUNT
};

enum metrics_histogram {
	METRICS_HIST_INGEST,     /* request in to answer out */
	METRICS_HIST_DELIVERY,   /* one HTTP exchange with PagerDuty */
	METRICS_HIST_COMMIT,     /* one group commit */
	METRICS_HIST_LATENESS,   /* an escalation step after its deadline */
	METRICS_HIST_CHECKPOINT, /* the log moved into the database */
	METRICS_HIST_COUNT
};

enum metrics_gauge {
	METRICS_GAUGE_OUTBOX_DEPTH,
	METRICS_GAUGE_OUTBOX_OLDEST_AGE_MS,
	METRICS_GAUGE_DEAD_LETTERS,
	METRICS_GAUGE_INCIDENTS_OPEN,
	METRICS_GAUGE_IN_FLIGHT,
	METRICS_GAUGE_TIMERS,        /* incidents with a deadline pending */
	METRICS_GAUGE_NEXT_DEADLINE, /* the earliest, in ms since the epoch */
	METRICS_GAUGE_COUNT
};

void metrics_received(enum metrics_type type, enum metrics_outcome outcome);
void metrics_rejected(enum metrics_reject reason);
void metrics_action(enum metrics_action action);
void metrics_delivery(enum metrics_delivery result);
void metrics_retry(void);
void metrics_dead_letter(void);
void metrics_subscription(int confirmed);
void metrics_observe(enum metrics_histogram hist, int64_t micros);
void metrics_gauge_set(enum metrics_gauge gauge, int64_t value);
int64_t metrics_gauge_get(enum metrics_gauge gauge);

/* An escalation step fired lateness_ms after its deadline. */
void metrics_escalation_fired(int64_t lateness_ms);

/* An acknowledgement from source ("webhook", "api"). */
void metrics_acknowledged(const char *source);

enum metrics_webhook_reject {
	METRICS_WEBHOOK_MALFORMED, /* no or a malformed signature, bad body */
	METRICS_WEBHOOK_SIGNATURE, /* a signature that does not match */
	METRICS_WEBHOOK_REJECT_COUNT
};
void metrics_webhook_rejected(enum metrics_webhook_reject reason);

/* Open incidents by escalation level (1 to METRICS_LEVELS, the last
 * counting every level above). */
#define METRICS_LEVELS 8
void metrics_levels_set(const int64_t counts[METRICS_LEVELS]);

/* Appends the whole exposition to out. */
int metrics_render(struct strbuf *out);

#endif
