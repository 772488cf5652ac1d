/*
 * alert: what a Notification's Message says, whatever its shape.
 *
 * Every Message classifies: CloudWatch alarms (single metric, metric
 * math, anomaly band, composite), EventBridge events (GuardDuty findings
 * by name), AWS Budgets text, and anything else as a generic alert.
 * Every nested field is optional; classification never fails on content.
 */
#ifndef ALERTBRIDGE_ALERT_H
#define ALERTBRIDGE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Bounds on what is copied out of a message (bytes, cut on a UTF-8
 * boundary): names, ARNs, ids and other short fields; reasons,
 * descriptions, expressions and text; a generic alert's name taken from
 * the first line of its text. At most ALERT_DIMENSIONS_MAX dimensions
 * are kept (CloudWatch's own limit).
 */
#define ALERT_FIELD_MAX        (2 * 1024)
#define ALERT_TEXT_MAX         (64 * 1024)
#define ALERT_GENERIC_NAME_MAX 200
#define ALERT_DIMENSIONS_MAX   30

enum alert_kind {
	ALERT_KIND_METRIC,      /* CloudWatch single-metric alarm */
	ALERT_KIND_METRIC_MATH, /* Trigger.Metrics, no MetricName */
	ALERT_KIND_ANOMALY,     /* Trigger.ThresholdMetricId */
	ALERT_KIND_COMPOSITE,   /* AlarmRule, no Trigger */
	ALERT_KIND_EVENTBRIDGE, /* an EventBridge event of any other type */
	ALERT_KIND_GUARDDUTY,   /* EventBridge "GuardDuty Finding" */
	ALERT_KIND_BUDGET,      /* "AWS Budget Notification" text */
	ALERT_KIND_GENERIC,     /* text, truncated JSON, non-object JSON */
	ALERT_KIND_COUNT
};

enum alert_state {
	ALERT_STATE_NONE, /* the message carries no state (events, text) */
	ALERT_STATE_ALARM,
	ALERT_STATE_OK,
	ALERT_STATE_INSUFFICIENT_DATA,
	ALERT_STATE_COUNT
};

struct alert_dimension {
	char *name;
	char *value;
};

/*
 * One classified alert. Every string may be NULL when the message does
 * not carry it; all are UTF-8 and owned by the alert.
 */
struct alert {
	enum alert_kind kind;
	enum alert_state state;
	enum alert_state old_state;

	char *name;         /* AlarmName, finding type, budget name, subject */
	char *description;  /* AlarmDescription, finding title */
	char *reason;       /* NewStateReason, finding description, text */
	char *account;      /* 12-digit account id */
	char *region;       /* region code, from an ARN where there is one */
	char *arn;          /* AlarmArn, finding ARN */
	char *namespace;    /* Trigger.Namespace or the first metric's */
	char *metric_name;  /* Trigger.MetricName or the first metric's */
	char *metric_value; /* first datapoint quoted in the reason */
	char *threshold;    /* Trigger.Threshold as text */
	char *topic_arn;    /* the SNS topic it came through */
	char *subject;      /* the SNS Subject */
	char *source;       /* EventBridge source ("aws.guardduty") */
	char *detail_type;  /* EventBridge detail-type */
	char *expression;   /* metric math or anomaly band expression */
	char *alarm_rule;   /* composite AlarmRule */

	/*
	 * GuardDuty severity (1.0 to 10.0) and its band, one of "low",
	 * "medium", "high", "critical"; band is NULL for other kinds and
	 * for a finding without a numeric severity (finding_severity 0).
	 */
	double finding_severity;
	const char *severity_band;

	struct alert_dimension *dimensions;
	size_t n_dimensions;

	/*
	 * When the state changed: StateChangeTime, the event's time, or the
	 * time received where the message has none that parses (then
	 * changed_at_is_receipt is true and the caller says so in the log).
	 */
	int64_t changed_at_ms;
	bool changed_at_is_receipt;

	/*
	 * The stable identity of the incident this alert belongs to: the
	 * alarm ARN; else account, region and name; else the finding id;
	 * else a hash of the message. Never NULL after classification.
	 */
	char *identity;
};

/*
 * Classifies a Notification's Message. topic_arn and subject come from
 * the envelope (either may be NULL); received_ms is used where the
 * message has no time of its own. Fails only with -ENOMEM.
 */
int alert_classify(const char *message, size_t len, const char *topic_arn,
		   const char *subject, int64_t received_ms,
		   struct alert **ret_alert);

void alert_free(struct alert *alert);

/* "metric", "metric_math", "anomaly", "composite", "eventbridge", ... */
const char *alert_kind_name(enum alert_kind kind);
int alert_kind_from_name(const char *name, enum alert_kind *ret_kind);

/* "ALARM", "OK", "INSUFFICIENT_DATA", "NONE". */
const char *alert_state_name(enum alert_state state);
int alert_state_from_name(const char *name, enum alert_state *ret_state);

/*
 * The region code inside an ARN (arn:partition:service:region:...), or
 * -EINVAL when the ARN has none or it is not shaped like a region.
 */
int alert_region_from_arn(const char *arn, char **ret_region);

#endif
