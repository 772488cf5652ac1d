/*
 * alert: classification of a Notification's Message.
 *
 * The message is tried as JSON first (a CloudWatch alarm or an
 * EventBridge event), then as AWS Budgets text, and is otherwise a
 * generic alert. Nothing in the content can make classification fail:
 * a field of the wrong JSON type is treated as absent, and every string
 * copied out of the message is cut to a bound on a UTF-8 boundary.
 */
#include "alert.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "timeutil.h"
#include "util.h"

#define FIELD_MAX        ALERT_FIELD_MAX
#define TEXT_MAX         ALERT_TEXT_MAX
#define GENERIC_NAME_MAX ALERT_GENERIC_NAME_MAX
/* SNS caps a message at 256 KiB; JSON larger than this is not AWS's. */
#define JSON_MAX       (1024 * 1024)
#define DIMENSIONS_MAX ALERT_DIMENSIONS_MAX
/* Region codes: "us-gov-west-1", "eu-isoe-west-1", "ap-southeast-5". */
#define REGION_MAX 32
/* A datapoint quoted in a reason, "0.46522264287069004". */
#define NUMBER_MAX 64

/*
 * The alert being filled in. Allocation failures are remembered in
 * error instead of being checked at every one of the many copies; the
 * caller looks once at the end.
 */
struct builder {
	struct alert *alert;
	int error;
};

/* A slice of the message text, which need not be NUL-terminated. */
struct text {
	const char *data;
	size_t len;
};

const char *alert_kind_name(enum alert_kind kind)
{
	switch (kind) {
	case ALERT_KIND_METRIC:
		return "metric";
	case ALERT_KIND_METRIC_MATH:
		return "metric_math";
	case ALERT_KIND_ANOMALY:
		return "anomaly";
	case ALERT_KIND_COMPOSITE:
		return "composite";
	case ALERT_KIND_EVENTBRIDGE:
		return "eventbridge";
	case ALERT_KIND_GUARDDUTY:
		return "guardduty";
	case ALERT_KIND_BUDGET:
		return "budget";
	case ALERT_KIND_GENERIC:
		return "generic";
	default:
		return "unknown";
	}
}

/* Kinds are configuration keywords, matched exactly. */
int alert_kind_from_name(const char *name, enum alert_kind *ret_kind)
{
	if (!name)
		return -EINVAL;

	for (int i = 0; i < ALERT_KIND_COUNT; i++) {
		if (strcmp(name, alert_kind_name((enum alert_kind)i)) == 0) {
			*ret_kind = (enum alert_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *alert_state_name(enum alert_state state)
{
	switch (state) {
	case ALERT_STATE_NONE:
		return "NONE";
	case ALERT_STATE_ALARM:
		return "ALARM";
	case ALERT_STATE_OK:
		return "OK";
	case ALERT_STATE_INSUFFICIENT_DATA:
		return "INSUFFICIENT_DATA";
	default:
		return "unknown";
	}
}

/* States are matched ignoring case ("alarm" in a configuration file). */
int alert_state_from_name(const char *name, enum alert_state *ret_state)
{
	if (!name)
		return -EINVAL;

	for (int i = 0; i < ALERT_STATE_COUNT; i++) {
		if (strcasecmp(name, alert_state_name((enum alert_state)i)) ==
		    0) {
			*ret_state = (enum alert_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * A region code is two or three groups of lower-case letters and a
 * number, joined by '-' ("eu-west-1", "us-gov-west-1"). Display names
 * ("EU (Ireland)") and placeholders ("REGION", "<region>") are not.
 */
static bool region_shaped(const char *s, size_t len)
{
	size_t i = 0;
	int letter_groups = 0;

	if (len == 0 || len > REGION_MAX)
		return false;

	for (;;) {
		size_t start = i;

		while (i < len && is_lower(s[i]))
			i++;
		if (i == start || i == len || s[i] != '-')
			break;
		letter_groups++;
		i++;
	}

	if (letter_groups < 2 || letter_groups > 3 || i >= len)
		return false;

	for (; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

static bool account_shaped(const char *s, size_t len)
{
	if (len != 12)
		return false;

	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

/*
 * Field number index of an ARN, "arn:partition:service:region:account-id:
 * resource", counting "arn" as 0. Only the fields before the resource are
 * asked for, and each is followed by ':', so "arn:aws:sns:EXAMPLE" has no
 * region field at all.
 */
static bool arn_field(const char *arn, int index, struct text *ret_field)
{
	const char *p = arn;
	const char *end;

	if (!arn || strncmp(arn, "arn:", 4) != 0)
		return false;

	for (int i = 0; i < index; i++) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}

	end = strchr(p, ':');
	if (!end)
		return false;

	ret_field->data = p;
	ret_field->len = (size_t)(end - p);
	return true;
}

int alert_region_from_arn(const char *arn, char **ret_region)
{
	struct text field;
	char *region;

	if (!arn_field(arn, 3, &field) || !region_shaped(field.data, field.len))
		return -EINVAL;

	region = strndup(field.data, field.len);
	if (!region)
		return -ENOMEM;

	*ret_region = region;
	return 0;
}

/*
 * Copies len bytes of s into *field, cut to max bytes on a UTF-8
 * boundary, unless the field already has a value: the first source
 * tried wins. An empty string is left out, since the header promises
 * NULL for what the message does not carry.
 */
static void set_text(struct builder *b, char **field, const char *s, size_t len,
		     size_t max)
{
	if (*field || !s || len == 0)
		return;

	*field = strndup(s, util_utf8_prefix(s, len, max));
	if (!*field)
		b->error = -ENOMEM;
}

static void set_string(struct builder *b, char **field, const char *s,
		       size_t max)
{
	if (s)
		set_text(b, field, s, strlen(s), max);
}

/* The string value of key in obj; NULL when absent or not a string. */
static const char *json_string_at(const json_t *obj, const char *key)
{
	const json_t *value = json_object_get(obj, key);

	return json_is_string(value) ? json_string_value(value) : NULL;
}

/* The object at key in obj; NULL when absent or not an object. */
static json_t *json_object_at(const json_t *obj, const char *key)
{
	json_t *value = json_object_get(obj, key);

	return json_is_object(value) ? value : NULL;
}

static json_t *json_array_at(const json_t *obj, const char *key)
{
	json_t *value = json_object_get(obj, key);

	return json_is_array(value) ? value : NULL;
}

static void set_region_from_arn(struct builder *b, const char *arn)
{
	char *region = NULL;
	int r;

	if (b->alert->region || !arn)
		return;

	r = alert_region_from_arn(arn, &region);
	if (r == -ENOMEM)
		b->error = r;
	if (r < 0)
		return;

	b->alert->region = region;
}

static void set_region(struct builder *b, const char *region)
{
	if (b->alert->region || !region ||
	    !region_shaped(region, strlen(region)))
		return;

	set_string(b, &b->alert->region, region, REGION_MAX);
}

static void set_account(struct builder *b, const char *account)
{
	if (b->alert->account || !account ||
	    !account_shaped(account, strlen(account)))
		return;

	set_string(b, &b->alert->account, account, 12);
}

static void set_account_from_arn(struct builder *b, const char *arn)
{
	struct text field;

	if (b->alert->account || !arn_field(arn, 4, &field) ||
	    !account_shaped(field.data, field.len))
		return;

	set_text(b, &b->alert->account, field.data, field.len, 12);
}

static void set_state(enum alert_state *field, const char *name)
{
	enum alert_state state;

	if (alert_state_from_name(name, &state) == 0)
		*field = state;
}

/* Uses s as the time of the change when it parses. */
static void set_changed_at(struct builder *b, const char *s)
{
	int64_t ms;

	if (!b->alert->changed_at_is_receipt || !s ||
	    timeutil_parse(s, &ms) < 0)
		return;

	b->alert->changed_at_ms = ms;
	b->alert->changed_at_is_receipt = false;
}

/*
 * A number as short as it can be written and still read back as the
 * same double: 5.0 is "5", 0.5 is "0.5", 0.1 is "0.1" and not
 * "0.10000000000000001". Seventeen significant digits always suffice.
 * The shortest form of 80 is "8e+01"; below 1e17 a positive exponent is
 * written out in full instead ("80"), as people write thresholds.
 */
static void format_number(double value, char out[32])
{
	int precision;
	const char *e;

	for (precision = 1; precision < 17; precision++) {
		snprintf(out, 32, "%.*g", precision, value);
		if (strtod(out, NULL) == value)
			break;
	}
	snprintf(out, 32, "%.*g", precision, value);

	e = strchr(out, 'e');
	if (e) {
		int exponent = atoi(e + 1);

		if (exponent >= 0 && exponent < 17)
			snprintf(out, 32, "%.*g", exponent + 1, value);
	}
}

static void set_number(struct builder *b, char **field, const json_t *value)
{
	char text[32];

	if (!json_is_number(value))
		return;

	format_number(json_number_value(value), text);
	set_string(b, field, text, sizeof(text));
}

/* Length of a decimal number at s: [-+]digits[.digits][e[-+]digits]. */
static size_t number_length(const char *s, size_t len)
{
	size_t i = 0;
	size_t digits = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < len && is_digit(s[i]); i++)
		digits++;
	if (i + 1 < len && s[i] == '.' && is_digit(s[i + 1])) {
		for (i++; i < len && is_digit(s[i]); i++)
			digits++;
	}
	if (digits == 0)
		return 0;

	if (i + 1 < len && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < len && (s[j] == '-' || s[j] == '+'))
			j++;
		if (j < len && is_digit(s[j])) {
			while (j < len && is_digit(s[j]))
				j++;
			i = j;
		}
	}
	return i;
}

/*
 * CloudWatch quotes the datapoints that crossed the threshold in
 * brackets: "... 1 datapoints [6.0 (25/09/22 18:49:00)] was greater
 * than ...". The first number inside the first bracket is the value; it
 * is kept as written.
 */
static void set_metric_value(struct builder *b, const char *reason)
{
	const char *open;
	const char *close;

	if (!reason)
		return;

	open = strchr(reason, '[');
	if (!open)
		return;
	close = strchr(open, ']');
	if (!close)
		return;

	for (const char *p = open + 1; p < close; p++) {
		size_t n = number_length(p, (size_t)(close - p));

		if (n > 0) {
			if (n <= NUMBER_MAX)
				set_text(b, &b->alert->metric_value, p, n,
					 NUMBER_MAX);
			return;
		}
	}
}

static void add_dimension(struct builder *b, struct text name,
			  struct text value)
{
	struct alert *alert = b->alert;
	struct alert_dimension *d;

	if (alert->n_dimensions >= DIMENSIONS_MAX || name.len == 0)
		return;

	d = realloc(alert->dimensions,
		    (alert->n_dimensions + 1) * sizeof(*alert->dimensions));
	if (!d) {
		b->error = -ENOMEM;
		return;
	}
	alert->dimensions = d;

	d = &alert->dimensions[alert->n_dimensions];
	d->name = strndup(name.data,
			  util_utf8_prefix(name.data, name.len, FIELD_MAX));
	d->value = strndup(value.data,
			   util_utf8_prefix(value.data, value.len, FIELD_MAX));
	alert->n_dimensions++;
	if (!d->name || !d->value)
		b->error = -ENOMEM;
}

static struct text text_of(const char *s)
{
	return (struct text){.data = s, .len = s ? strlen(s) : 0};
}

/*
 * Alarm messages spell dimensions {"name": ..., "value": ...}; the
 * CloudWatch API spells them with capitals, which some relays copy.
 * Only the first list found is used.
 */
static void set_dimensions(struct builder *b, const json_t *dimensions)
{
	if (b->alert->n_dimensions > 0)
		return;

	for (size_t i = 0; i < json_array_size(dimensions); i++) {
		const json_t *entry = json_array_get(dimensions, i);
		const char *name = json_string_at(entry, "name");
		const char *value = json_string_at(entry, "value");

		if (!name)
			name = json_string_at(entry, "Name");
		if (!value)
			value = json_string_at(entry, "Value");
		if (name && value)
			add_dimension(b, text_of(name), text_of(value));
	}
}

/* Namespace, metric name and dimensions from a Metrics[] entry. */
static void set_metric_stat(struct builder *b, const json_t *entry)
{
	const json_t *metric;

	metric = json_object_at(json_object_at(entry, "MetricStat"), "Metric");
	if (!metric)
		return;

	set_string(b, &b->alert->namespace, json_string_at(metric, "Namespace"),
		   FIELD_MAX);
	set_string(b, &b->alert->metric_name,
		   json_string_at(metric, "MetricName"), FIELD_MAX);
	set_dimensions(b, json_array_at(metric, "Dimensions"));
}

/*
 * Trigger.Metrics of a metric-math or anomaly alarm: the first entry with
 * a MetricStat names the metric. The expression is the band's (the entry
 * whose Id is ThresholdMetricId) or else the one returned (ReturnData).
 */
static void classify_metrics(struct builder *b, const json_t *trigger)
{
	const json_t *metrics = json_array_at(trigger, "Metrics");
	const char *band_id = json_string_at(trigger, "ThresholdMetricId");
	const char *expression = NULL;
	bool have_stat = false;

	for (size_t i = 0; i < json_array_size(metrics); i++) {
		const json_t *entry = json_array_get(metrics, i);
		const char *entry_expression;

		entry_expression = json_string_at(entry, "Expression");

		if (!have_stat && json_object_at(entry, "MetricStat")) {
			set_metric_stat(b, entry);
			have_stat = true;
		}

		if (!entry_expression || expression)
			continue;

		if (band_id) {
			if (util_streq(json_string_at(entry, "Id"), band_id))
				expression = entry_expression;
		} else if (json_is_true(json_object_get(entry, "ReturnData"))) {
			expression = entry_expression;
		}
	}

	set_string(b, &b->alert->expression, expression, TEXT_MAX);
}

static bool is_cloudwatch_alarm(const json_t *root)
{
	return json_string_at(root, "AlarmName") &&
	       json_string_at(root, "NewStateValue");
}

/*
 * A CloudWatch alarm notification. The region comes from the AlarmArn,
 * never from "Region", which is a display name that AWS has spelt more
 * than one way ("EU (Ireland)", "Europe (Ireland)").
 */
static void classify_cloudwatch(struct builder *b, const json_t *root)
{
	struct alert *alert = b->alert;
	const json_t *trigger = json_object_at(root, "Trigger");
	const char *alarm_rule = json_string_at(root, "AlarmRule");
	const char *reason = json_string_at(root, "NewStateReason");
	const char *arn = json_string_at(root, "AlarmArn");

	if (!trigger &&
	    (alarm_rule || json_object_get(root, "TriggeringChildren")))
		alert->kind = ALERT_KIND_COMPOSITE;
	else if (json_string_at(trigger, "ThresholdMetricId"))
		alert->kind = ALERT_KIND_ANOMALY;
	else if (json_array_at(trigger, "Metrics") &&
		 !json_string_at(trigger, "MetricName"))
		alert->kind = ALERT_KIND_METRIC_MATH;
	else
		alert->kind = ALERT_KIND_METRIC;

	set_string(b, &alert->name, json_string_at(root, "AlarmName"),
		   FIELD_MAX);
	set_string(b, &alert->description,
		   json_string_at(root, "AlarmDescription"), TEXT_MAX);
	set_string(b, &alert->reason, reason, TEXT_MAX);
	set_string(b, &alert->arn, arn, FIELD_MAX);
	set_account(b, json_string_at(root, "AWSAccountId"));
	set_account_from_arn(b, arn);
	set_region_from_arn(b, arn);
	set_state(&alert->state, json_string_at(root, "NewStateValue"));
	set_state(&alert->old_state, json_string_at(root, "OldStateValue"));
	set_changed_at(b, json_string_at(root, "StateChangeTime"));
	set_metric_value(b, reason);

	if (alert->kind == ALERT_KIND_COMPOSITE) {
		set_string(b, &alert->alarm_rule, alarm_rule, TEXT_MAX);
		return;
	}

	set_string(b, &alert->namespace, json_string_at(trigger, "Namespace"),
		   FIELD_MAX);
	set_string(b, &alert->metric_name,
		   json_string_at(trigger, "MetricName"), FIELD_MAX);
	set_dimensions(b, json_array_at(trigger, "Dimensions"));
	set_number(b, &alert->threshold, json_object_get(trigger, "Threshold"));
	classify_metrics(b, trigger);
}

static bool is_eventbridge_event(const json_t *root)
{
	return json_string_at(root, "detail-type") &&
	       json_string_at(root, "source") && json_object_at(root, "detail");
}

static bool is_guardduty_finding(const json_t *root)
{
	return util_streq(json_string_at(root, "detail-type"),
			  "GuardDuty Finding") ||
	       util_streq(json_string_at(root, "source"), "aws.guardduty");
}

/*
 * GuardDuty's bands: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical
 * 9.0-10.0. The printed ranges leave gaps (3.95); the bands are taken as
 * half-open [1, 4), [4, 7), [7, 9) and [9, 10], and a value outside 1-10
 * goes to the nearer end rather than to no band.
 */
static const char *severity_band(double severity)
{
	if (severity < 4.0)
		return "low";
	if (severity < 7.0)
		return "medium";
	if (severity < 9.0)
		return "high";
	return "critical";
}

/*
 * Fields every EventBridge event has: the envelope's account, region and
 * time, which the kinds below fall back to.
 */
static void classify_event_envelope(struct builder *b, const json_t *root)
{
	struct alert *alert = b->alert;

	set_string(b, &alert->source, json_string_at(root, "source"),
		   FIELD_MAX);
	set_string(b, &alert->detail_type, json_string_at(root, "detail-type"),
		   FIELD_MAX);
	set_account(b, json_string_at(root, "account"));
	set_region(b, json_string_at(root, "region"));
}

static void classify_guardduty(struct builder *b, const json_t *root)
{
	struct alert *alert = b->alert;
	const json_t *detail = json_object_at(root, "detail");
	const json_t *severity = json_object_get(detail, "severity");
	const char *arn = json_string_at(detail, "arn");

	alert->kind = ALERT_KIND_GUARDDUTY;
	classify_event_envelope(b, root);

	set_string(b, &alert->name, json_string_at(detail, "type"), FIELD_MAX);
	set_string(b, &alert->description, json_string_at(detail, "title"),
		   TEXT_MAX);
	set_string(b, &alert->reason, json_string_at(detail, "description"),
		   TEXT_MAX);
	set_string(b, &alert->arn, arn, FIELD_MAX);
	set_account(b, json_string_at(detail, "accountId"));
	set_region(b, json_string_at(detail, "region"));
	set_region_from_arn(b, arn);
	set_changed_at(b, json_string_at(detail, "updatedAt"));
	set_changed_at(b, json_string_at(root, "time"));

	if (json_is_number(severity)) {
		alert->finding_severity = json_number_value(severity);
		alert->severity_band = severity_band(alert->finding_severity);
	}
}

static void classify_eventbridge(struct builder *b, const json_t *root)
{
	struct alert *alert = b->alert;
	const json_t *first;
	const char *resource;
	char *detail;

	alert->kind = ALERT_KIND_EVENTBRIDGE;
	classify_event_envelope(b, root);

	first = json_array_get(json_array_at(root, "resources"), 0);
	resource = json_is_string(first) ? json_string_value(first) : NULL;
	set_string(b, &alert->name, json_string_at(root, "detail-type"),
		   FIELD_MAX);
	set_string(b, &alert->arn, resource, FIELD_MAX);
	set_region_from_arn(b, resource);
	set_changed_at(b, json_string_at(root, "time"));

	/* An event has no prose of its own: its detail is the reason. */
	detail = json_dumps(json_object_at(root, "detail"), JSON_COMPACT);
	if (!detail) {
		b->error = -ENOMEM;
		return;
	}
	set_string(b, &alert->reason, detail, TEXT_MAX);
	free(detail);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct text text_trim(struct text t)
{
	while (t.len > 0 && is_space(t.data[0])) {
		t.data++;
		t.len--;
	}
	while (t.len > 0 && is_space(t.data[t.len - 1]))
		t.len--;
	return t;
}

/*
 * Takes the next line off rest, up to its '\n'; callers trim it, which
 * also takes off the '\r' of a CRLF.
 */
static bool next_line(struct text *rest, struct text *ret_line)
{
	const char *nl;
	size_t len;

	if (rest->len == 0)
		return false;

	nl = memchr(rest->data, '\n', rest->len);
	len = nl ? (size_t)(nl - rest->data) : rest->len;

	ret_line->data = rest->data;
	ret_line->len = len;

	rest->data += nl ? len + 1 : len;
	rest->len -= nl ? len + 1 : len;
	return true;
}

/* When line starts with label, the rest of it, trimmed. */
static bool line_value(struct text line, const char *label,
		       struct text *ret_value)
{
	size_t n = strlen(label);

	if (line.len < n || memcmp(line.data, label, n) != 0)
		return false;

	*ret_value = text_trim((struct text){line.data + n, line.len - n});
	return true;
}

#define BUDGET_HEADING "AWS Budget Notification"

/*
 * AWS Budgets publishes plain text, not JSON. Its first line is the
 * heading and the date ("AWS Budget Notification September 26, 2022");
 * leading white space is allowed for relays that add a line break.
 */
static bool is_budget_text(struct text t)
{
	size_t n = strlen(BUDGET_HEADING);

	t = text_trim(t);
	if (t.len < n || memcmp(t.data, BUDGET_HEADING, n) != 0)
		return false;

	return t.len == n || is_space(t.data[n]);
}

/*
 * The lines of a Budgets notification, as AWS sends them:
 *
 *   AWS Budget Notification September 26, 2022
 *   AWS Account 017790921725
 *
 *   Dear AWS Customer,
 *
 *   You requested that we alert you when the ACTUAL Cost associated
 *   with your Test Budget budget is greater than $0.16 for the current
 *   month. The ACTUAL Cost associated with this budget is $0.59. ...
 *
 *   Budget Name: Test Budget
 *   Budget Type: Cost
 *   Budgeted Amount: $0.20
 *   Alert Type: ACTUAL
 *   Alert Threshold: > $0.16
 *   ACTUAL Amount: $0.59
 *
 * (the request paragraph is one line; forecast alerts say FORECASTED).
 * Only the first TEXT_MAX bytes are read.
 */
static void classify_budget(struct builder *b, struct text t)
{
	struct alert *alert = b->alert;
	struct text rest = {t.data, t.len < TEXT_MAX ? t.len : TEXT_MAX};
	struct text line;
	struct text value;

	alert->kind = ALERT_KIND_BUDGET;

	while (next_line(&rest, &line)) {
		line = text_trim(line);

		if (line_value(line, "Budget Name:", &value)) {
			set_text(b, &alert->name, value.data, value.len,
				 FIELD_MAX);
		} else if (line_value(line, "AWS Account ", &value)) {
			if (account_shaped(value.data, value.len))
				set_text(b, &alert->account, value.data,
					 value.len, 12);
		} else if (line_value(line, "You requested", &value)) {
			set_text(b, &alert->description, line.data, line.len,
				 TEXT_MAX);
		} else if (line_value(line, "Budget Type:", &value)) {
			add_dimension(b, text_of("BudgetType"), value);
		} else if (line_value(line, "Budgeted Amount:", &value)) {
			add_dimension(b, text_of("BudgetedAmount"), value);
		} else if (line_value(line, "Alert Type:", &value)) {
			add_dimension(b, text_of("AlertType"), value);
		} else if (line_value(line, "Alert Threshold:", &value)) {
			set_text(b, &alert->threshold, value.data, value.len,
				 FIELD_MAX);
		} else if (line_value(line, "ACTUAL Amount:", &value) ||
			   line_value(line, "FORECASTED Amount:", &value)) {
			set_text(b, &alert->metric_value, value.data, value.len,
				 FIELD_MAX);
		}
	}

	set_text(b, &alert->reason, t.data, t.len, TEXT_MAX);
}

/* The first line with anything on it, trimmed. */
static struct text first_line(struct text t)
{
	struct text rest = t;
	struct text line = {t.data, 0};

	while (next_line(&rest, &line)) {
		line = text_trim(line);
		if (line.len > 0)
			break;
	}
	return line;
}

static void classify_generic(struct builder *b, struct text t)
{
	struct alert *alert = b->alert;

	alert->kind = ALERT_KIND_GENERIC;
	set_text(b, &alert->reason, t.data, t.len, TEXT_MAX);
}

/*
 * A name for an alert whose message did not give one: the subject, else
 * (for text, not for JSON that merely lacked a field) its first line.
 */
static void set_name_from_text(struct builder *b, struct text t)
{
	struct text line;

	set_string(b, &b->alert->name, b->alert->subject, FIELD_MAX);
	if (b->alert->name || (b->alert->kind != ALERT_KIND_GENERIC &&
			       b->alert->kind != ALERT_KIND_BUDGET))
		return;

	line = first_line(
		(struct text){t.data, t.len < TEXT_MAX ? t.len : TEXT_MAX});
	set_text(b, &b->alert->name, line.data, line.len, GENERIC_NAME_MAX);
}

static const char *dimension_value(const struct alert *alert, const char *name)
{
	for (size_t i = 0; i < alert->n_dimensions; i++) {
		if (strcmp(alert->dimensions[i].name, name) == 0)
			return alert->dimensions[i].value;
	}
	return NULL;
}

/*
 * prefix and the hex SHA-256 of the parts, each followed by a NUL so
 * that ("ab", "c") and ("a", "bc") differ. Parts are at most FIELD_MAX.
 */
static void set_hashed_identity(struct builder *b, const char *prefix,
				const char *const *parts, size_t n)
{
	struct strbuf sb;
	char hex[65];
	int r = 0;

	strbuf_init(&sb, (FIELD_MAX + 1) * n);
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *part = parts[i] ? parts[i] : "";

		r = strbuf_append(&sb, part, strlen(part) + 1);
	}
	if (r < 0) {
		b->error = -ENOMEM;
		goto out;
	}

	util_sha256_hex(sb.data, sb.len, hex);
	if (asprintf(&b->alert->identity, "%s%s", prefix, hex) < 0) {
		b->alert->identity = NULL;
		b->error = -ENOMEM;
	}
out:
	strbuf_release(&sb);
}

/*
 * The parts joined with ':'; an absent part is empty. Parts are at most
 * FIELD_MAX, so the buffer's bound is never what stops it.
 */
static void set_joined_identity(struct builder *b, const char *const *parts,
				size_t n)
{
	struct strbuf sb;
	int r = 0;

	strbuf_init(&sb, (FIELD_MAX + 1) * n);
	for (size_t i = 0; i < n && r == 0; i++) {
		if (i > 0)
			r = strbuf_puts(&sb, ":");
		if (r == 0 && parts[i])
			r = strbuf_puts(&sb, parts[i]);
	}

	if (r == 0)
		b->alert->identity = strbuf_detach(&sb, NULL);
	if (r < 0 || !b->alert->identity)
		b->error = -ENOMEM;
	strbuf_release(&sb);
}

/*
 * The incident an alert belongs to; repeats of one condition must land
 * on the same identity, and different conditions on different ones:
 *   - CloudWatch: the AlarmArn; without one, account, region and name;
 *   - GuardDuty: the finding ARN, else its id (a finding keeps both as
 *     GuardDuty updates it);
 *   - other events: source, detail-type and the first resource, so that
 *     one resource's repeated events group; without a resource, the
 *     event id, which makes each event its own incident;
 *   - Budgets: account, budget name, alert type and threshold, so that
 *     the 80% and 100% alerts of one budget are separate incidents;
 *   - generic: a hash of the topic and the name (the subject, or the
 *     first line), so that repeats group even when their bodies differ
 *     in a time stamp or a count.
 * Where the message lacks what its kind needs, a hash of the message.
 */
static void set_identity(struct builder *b, const json_t *root,
			 const char *message, size_t len)
{
	struct alert *alert = b->alert;
	const json_t *detail = json_object_at(root, "detail");
	const char *event_id = json_string_at(root, "id");
	const char *finding_id = json_string_at(detail, "id");

	switch (alert->kind) {
	case ALERT_KIND_METRIC:
	case ALERT_KIND_METRIC_MATH:
	case ALERT_KIND_ANOMALY:
	case ALERT_KIND_COMPOSITE:
		if (alert->arn) {
			set_string(b, &alert->identity, alert->arn, FIELD_MAX);
		} else if (alert->name) {
			const char *parts[] = {"cloudwatch", alert->account,
					       alert->region, alert->name};

			set_joined_identity(b, parts, ARRAY_SIZE(parts));
		}
		break;
	case ALERT_KIND_GUARDDUTY:
		if (alert->arn) {
			set_string(b, &alert->identity, alert->arn, FIELD_MAX);
		} else if (finding_id) {
			const char *parts[] = {"guardduty", alert->account,
					       finding_id};

			set_joined_identity(b, parts, ARRAY_SIZE(parts));
		}
		break;
	case ALERT_KIND_EVENTBRIDGE:
		if (alert->arn) {
			const char *parts[] = {"eventbridge", alert->source,
					       alert->detail_type, alert->arn};

			set_joined_identity(b, parts, ARRAY_SIZE(parts));
		} else if (event_id) {
			const char *parts[] = {"eventbridge", event_id};

			set_joined_identity(b, parts, ARRAY_SIZE(parts));
		}
		break;
	case ALERT_KIND_BUDGET: {
		const char *parts[] = {"budget", alert->account, alert->name,
				       dimension_value(alert, "AlertType"),
				       alert->threshold};

		set_joined_identity(b, parts, ARRAY_SIZE(parts));
		break;
	}
	case ALERT_KIND_GENERIC:
	default: {
		const char *parts[] = {alert->topic_arn, alert->name};

		set_hashed_identity(b, "generic:", parts, ARRAY_SIZE(parts));
		break;
	}
	}

	if (!alert->identity && b->error == 0) {
		char hex[65];

		util_sha256_hex(message, len, hex);
		if (asprintf(&alert->identity, "message:%s", hex) < 0) {
			alert->identity = NULL;
			b->error = -ENOMEM;
		}
	}
}

/*
 * Numbers are all read as doubles (JSON_DECODE_INT_AS_REAL), so that an
 * integer too large for json_int_t cannot turn an alarm into a parse
 * error; CloudWatch's own numbers are doubles anyway. jansson refuses
 * invalid UTF-8, "\u0000" and nesting deeper than its own limit, and
 * such a message is then classified as text.
 */
static int parse_json(const char *message, size_t len, json_t **ret_root)
{
	json_error_t error;
	json_t *root;

	*ret_root = NULL;
	if (len == 0 || len > JSON_MAX)
		return 0;

	root = json_loadb(message, len, JSON_DECODE_INT_AS_REAL, &error);
	if (!root && json_error_code(&error) == json_error_out_of_memory)
		return -ENOMEM;

	*ret_root = root;
	return 0;
}

int alert_classify(const char *message, size_t len, const char *topic_arn,
		   const char *subject, int64_t received_ms,
		   struct alert **ret_alert)
{
	struct builder b = {0};
	struct text text;
	json_t *root = NULL;
	int r;

	if (!message) {
		message = "";
		len = 0;
	}
	text = (struct text){message, strnlen(message, len)};

	b.alert = calloc(1, sizeof(*b.alert));
	if (!b.alert)
		return -ENOMEM;

	b.alert->kind = ALERT_KIND_GENERIC;
	b.alert->changed_at_ms = received_ms;
	b.alert->changed_at_is_receipt = true;
	set_string(&b, &b.alert->topic_arn, topic_arn, FIELD_MAX);
	set_string(&b, &b.alert->subject, subject, FIELD_MAX);

	r = parse_json(message, len, &root);
	if (r < 0)
		goto out;

	if (is_cloudwatch_alarm(root))
		classify_cloudwatch(&b, root);
	else if (is_eventbridge_event(root) && is_guardduty_finding(root))
		classify_guardduty(&b, root);
	else if (is_eventbridge_event(root))
		classify_eventbridge(&b, root);
	else if (!root && is_budget_text(text))
		classify_budget(&b, text);
	else
		classify_generic(&b, text);

	/* Whatever the message left out, the topic it came through says. */
	set_name_from_text(&b, text);
	set_region_from_arn(&b, topic_arn);
	set_account_from_arn(&b, topic_arn);
	set_identity(&b, root, text.data, text.len);

	r = b.error;
	if (r < 0)
		goto out;

	*ret_alert = b.alert;
	b.alert = NULL;
out:
	json_decref(root);
	alert_free(b.alert);
	return r;
}

void alert_free(struct alert *alert)
{
	if (!alert)
		return;

	free(alert->name);
	free(alert->description);
	free(alert->reason);
	free(alert->account);
	free(alert->region);
	free(alert->arn);
	free(alert->namespace);
	free(alert->metric_name);
	free(alert->metric_value);
	free(alert->threshold);
	free(alert->topic_arn);
	free(alert->subject);
	free(alert->source);
	free(alert->detail_type);
	free(alert->expression);
	free(alert->alarm_rule);
	free(alert->identity);

	for (size_t i = 0; i < alert->n_dimensions; i++) {
		free(alert->dimensions[i].name);
		free(alert->dimensions[i].value);
	}
	free(alert->dimensions);
	free(alert);
}
