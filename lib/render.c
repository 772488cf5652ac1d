/*
 * render: templates expanded into PagerDuty Events API v2 events.
 *
 * Expansion works on the alert's bytes as they are; only where a value
 * enters JSON is it made valid UTF-8, so that the limits below count
 * the characters PagerDuty will see.
 */
#include "render.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"
#include "util.h"

enum render_field {
	FIELD_ALERT_NAME,
	FIELD_SEVERITY,
	FIELD_ENVIRONMENT,
	FIELD_REGION,
	FIELD_METRIC_NAME,
	FIELD_METRIC_VALUE,
	FIELD_ACCOUNT,
	FIELD_STATE,
	FIELD_OLD_STATE,
	FIELD_REASON,
	FIELD_DESCRIPTION,
	FIELD_NAMESPACE,
	FIELD_DIMENSIONS,
	FIELD_ALARM_ARN,
	FIELD_CONSOLE_URL,
	FIELD_THRESHOLD,
	FIELD_TOPIC_ARN,
	FIELD_SUBJECT,
	FIELD_KIND,
	FIELD_ROUTE,
	FIELD_TIMESTAMP,
	FIELD_SOURCE,
	FIELD_DETAIL_TYPE,
	FIELD_EXPRESSION,
	FIELD_FINDING_SEVERITY,
	FIELD_COUNT
};

static const char *const field_names[FIELD_COUNT] = {
	[FIELD_ALERT_NAME] = "alert_name",
	[FIELD_SEVERITY] = "severity",
	[FIELD_ENVIRONMENT] = "environment",
	[FIELD_REGION] = "region",
	[FIELD_METRIC_NAME] = "metric_name",
	[FIELD_METRIC_VALUE] = "metric_value",
	[FIELD_ACCOUNT] = "account",
	[FIELD_STATE] = "state",
	[FIELD_OLD_STATE] = "old_state",
	[FIELD_REASON] = "reason",
	[FIELD_DESCRIPTION] = "description",
	[FIELD_NAMESPACE] = "namespace",
	[FIELD_DIMENSIONS] = "dimensions",
	[FIELD_ALARM_ARN] = "alarm_arn",
	[FIELD_CONSOLE_URL] = "console_url",
	[FIELD_THRESHOLD] = "threshold",
	[FIELD_TOPIC_ARN] = "topic_arn",
	[FIELD_SUBJECT] = "subject",
	[FIELD_KIND] = "kind",
	[FIELD_ROUTE] = "route",
	[FIELD_TIMESTAMP] = "timestamp",
	[FIELD_SOURCE] = "source",
	[FIELD_DETAIL_TYPE] = "detail_type",
	[FIELD_EXPRESSION] = "expression",
	[FIELD_FINDING_SEVERITY] = "finding_severity",
};

/* Where one {{name}} sits in a template. */
struct field_ref {
	const char *open; /* the "{{" */
	const char *end;  /* just past the "}}" */
	const char *name; /* the name, white space trimmed */
	size_t name_len;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Finds the next field at or after s. A "{{" runs to the nearest "}}"
 * after it; a "{{" with no "}}" anywhere after it is literal text, and
 * so is the rest of the template (false is returned).
 */
static bool field_next(const char *s, struct field_ref *ret_ref)
{
	const char *open;
	const char *close;
	const char *name;
	const char *name_end;

	open = strstr(s, "{{");
	if (!open)
		return false;

	close = strstr(open + 2, "}}");
	if (!close)
		return false;

	name = open + 2;
	name_end = close;
	while (name < name_end && is_blank(*name))
		name++;
	while (name_end > name && is_blank(name_end[-1]))
		name_end--;

	ret_ref->open = open;
	ret_ref->end = close + 2;
	ret_ref->name = name;
	ret_ref->name_len = (size_t)(name_end - name);
	return true;
}

static int field_lookup(const char *name, size_t len)
{
	for (int i = 0; i < FIELD_COUNT; i++) {
		if (strlen(field_names[i]) == len &&
		    memcmp(field_names[i], name, len) == 0)
			return i;
	}
	return -1;
}

bool render_template_valid(const char *tpl, const char **ret_bad_field,
			   size_t *ret_bad_len)
{
	struct field_ref ref;
	const char *p = tpl;

	if (!tpl)
		return true;

	while (field_next(p, &ref)) {
		if (field_lookup(ref.name, ref.name_len) < 0) {
			if (ret_bad_field)
				*ret_bad_field = ref.name;
			if (ret_bad_len)
				*ret_bad_len = ref.name_len;
			return false;
		}
		p = ref.end;
	}
	return true;
}

/*
 * Appends len bytes of s, or as much of them as the buffer's limit
 * allows, cut on a UTF-8 character boundary. -E2BIG says the output
 * is full and expansion stops there: an over-long field is truncated,
 * not an error.
 */
static int append_bounded(struct strbuf *out, const char *s, size_t len)
{
	size_t room = out->limit - out->len;
	int r;

	if (len <= room)
		return strbuf_append(out, s, len);

	r = strbuf_append(out, s, util_utf8_prefix(s, len, room));
	return r < 0 ? r : -E2BIG;
}

static int append_str(struct strbuf *out, const char *s)
{
	if (!s)
		return 0;
	return append_bounded(out, s, strlen(s));
}

static int append_dimensions(struct strbuf *out, const struct alert *alert)
{
	int r = 0;

	for (size_t i = 0; i < alert->n_dimensions && r == 0; i++) {
		const struct alert_dimension *d = &alert->dimensions[i];

		if (i > 0)
			r = append_str(out, ", ");
		if (r == 0)
			r = append_str(out, d->name);
		if (r == 0)
			r = append_str(out, "=");
		if (r == 0)
			r = append_str(out, d->value);
	}
	return r;
}

/* A region code as AWS spells them: "ca-central-1", "cn-north-1". */
static bool region_valid(const char *region)
{
	size_t len = region ? strlen(region) : 0;

	if (len == 0 || len > 32)
		return false;
	return strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/*
 * The console's host for a region: the China and GovCloud partitions
 * have consoles of their own.
 */
static const char *console_domain(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "console.amazonaws.cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "console.amazonaws-us-gov.com";
	return "console.aws.amazon.com";
}

/* RFC 3986 percent-encoding of everything but the unreserved set. */
static int append_url_encoded(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int r = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && r == 0;
	     p++) {
		char enc[3] = {'%', hex[*p >> 4], hex[*p & 0xf]};

		if (strchr("-._~", *p) || (*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			r = append_bounded(out, (const char *)p, 1);
		else
			r = append_bounded(out, enc, sizeof(enc));
	}
	return r;
}

static bool kind_is_alarm(enum alert_kind kind)
{
	return kind == ALERT_KIND_METRIC || kind == ALERT_KIND_METRIC_MATH ||
	       kind == ALERT_KIND_ANOMALY || kind == ALERT_KIND_COMPOSITE;
}

/*
 * A link to the alarm (or the GuardDuty findings) in the AWS console.
 * Empty when there is no region to put in it, or nothing to link to:
 * EventBridge events, Budgets and generic alerts have no console page
 * of their own.
 */
static int append_console_url(struct strbuf *out,
			      const struct render_context *ctx)
{
	const struct alert *alert = ctx->alert;
	const char *region = ctx->region;
	char prefix[160];
	int r;

	if (!region_valid(region))
		return 0;

	if (alert->kind == ALERT_KIND_GUARDDUTY) {
		snprintf(prefix, sizeof(prefix),
			 "https://%s.%s/guardduty/home?region=%s#/findings",
			 region, console_domain(region), region);
		return append_str(out, prefix);
	}

	if (!kind_is_alarm(alert->kind) || !alert->name || !*alert->name)
		return 0;

	snprintf(prefix, sizeof(prefix),
		 "https://%s.%s/cloudwatch/home?region=%s#alarmsV2:alarm/",
		 region, console_domain(region), region);
	r = append_str(out, prefix);
	if (r < 0)
		return r;

	return append_url_encoded(out, alert->name);
}

/* ALERT_STATE_NONE means the message carries no state: no value. */
static const char *state_text(enum alert_state state)
{
	if (state == ALERT_STATE_NONE)
		return NULL;
	return alert_state_name(state);
}

static int append_field(struct strbuf *out, enum render_field field,
			const struct render_context *ctx)
{
	const struct alert *a = ctx->alert;
	char text[64];

	switch (field) {
	case FIELD_ALERT_NAME:
		return append_str(out, a->name);
	case FIELD_SEVERITY:
		return append_str(out, ctx->severity);
	case FIELD_ENVIRONMENT:
		return append_str(out, ctx->environment);
	case FIELD_REGION:
		return append_str(out, ctx->region);
	case FIELD_METRIC_NAME:
		return append_str(out, a->metric_name);
	case FIELD_METRIC_VALUE:
		return append_str(out, a->metric_value);
	case FIELD_ACCOUNT:
		return append_str(out, a->account);
	case FIELD_STATE:
		return append_str(out, state_text(a->state));
	case FIELD_OLD_STATE:
		return append_str(out, state_text(a->old_state));
	case FIELD_REASON:
		return append_str(out, a->reason);
	case FIELD_DESCRIPTION:
		return append_str(out, a->description);
	case FIELD_NAMESPACE:
		return append_str(out, a->namespace);
	case FIELD_DIMENSIONS:
		return append_dimensions(out, a);
	case FIELD_ALARM_ARN:
		return append_str(out, a->arn);
	case FIELD_CONSOLE_URL:
		return append_console_url(out, ctx);
	case FIELD_THRESHOLD:
		return append_str(out, a->threshold);
	case FIELD_TOPIC_ARN:
		return append_str(out, a->topic_arn);
	case FIELD_SUBJECT:
		return append_str(out, a->subject);
	case FIELD_KIND:
		return append_str(out, alert_kind_name(a->kind));
	case FIELD_ROUTE:
		return append_str(out, ctx->route_name);
	case FIELD_TIMESTAMP:
		timeutil_format(a->changed_at_ms, text);
		return append_str(out, text);
	case FIELD_SOURCE:
		return append_str(out, a->source);
	case FIELD_DETAIL_TYPE:
		return append_str(out, a->detail_type);
	case FIELD_EXPRESSION:
		return append_str(out, a->expression);
	case FIELD_FINDING_SEVERITY:
		if (a->kind != ALERT_KIND_GUARDDUTY)
			return 0;
		snprintf(text, sizeof(text), "%.1f", a->finding_severity);
		return append_str(out, text);
	case FIELD_COUNT:
		break;
	}
	return -EINVAL;
}

int render_expand(const char *tpl, const struct render_context *ctx,
		  char **ret_text)
{
	struct strbuf out;
	struct field_ref ref;
	const char *p = tpl;
	char *text;
	int r = 0;

	if (!tpl || !ctx || !ctx->alert)
		return -EINVAL;

	if (!render_template_valid(tpl, NULL, NULL))
		return -EINVAL;

	strbuf_init(&out, RENDER_FIELD_MAX);

	while (r == 0 && field_next(p, &ref)) {
		int field = field_lookup(ref.name, ref.name_len);

		r = append_bounded(&out, p, (size_t)(ref.open - p));
		if (r == 0)
			r = append_field(&out, field, ctx);
		p = ref.end;
	}
	if (r == 0)
		r = append_str(&out, p);

	/* A full buffer is the truncation the contract promises. */
	if (r == -E2BIG)
		r = 0;
	if (r < 0)
		goto out;

	text = strbuf_detach(&out, NULL);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_text = text;
out:
	strbuf_release(&out);
	return r;
}

/*
 * Length of the sequence at s, which is a character when *ret_valid,
 * else the maximal subpart of an ill-formed one: the longest prefix of
 * a well-formed sequence (Unicode Table 3-7), or one byte.
 */
static size_t utf8_scan(const unsigned char *s, size_t len, bool *ret_valid)
{
	unsigned char lo = 0x80;
	unsigned char hi = 0xbf;
	size_t need;

	*ret_valid = false;
	if (s[0] < 0x80) {
		*ret_valid = true;
		return 1;
	}

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo; /* overlong */
		hi = s[0] == 0xed ? 0x9f : hi; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo; /* overlong */
		hi = s[0] == 0xf4 ? 0x8f : hi; /* past U+10FFFF */
	} else {
		return 1;
	}

	for (size_t i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi)
			return i;
		lo = 0x80;
		hi = 0xbf;
	}

	*ret_valid = true;
	return need;
}

/*
 * Copies s with every maximal ill-formed subpart replaced by U+FFFD,
 * the practice Unicode recommends (section 3.9, "U+FFFD Substitution
 * of Maximal Subparts") and WHATWG and Python follow.
 */
static int utf8_sanitize(const char *s, size_t len, char **ret_text,
			 size_t *ret_len)
{
	static const char replacement[] = "\xef\xbf\xbd";
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf out;
	char *text;
	size_t i = 0;
	int r = 0;

	/* Each input byte becomes at most one three-byte U+FFFD. */
	strbuf_init(&out, 3 * len);

	while (i < len && r == 0) {
		bool valid;
		size_t n = utf8_scan(p + i, len - i, &valid);

		if (valid)
			r = strbuf_append(&out, s + i, n);
		else
			r = strbuf_append(&out, replacement, 3);
		i += n;
	}
	if (r < 0)
		goto out;

	text = strbuf_detach(&out, ret_len);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_text = text;
out:
	strbuf_release(&out);
	return r;
}

/* Expands tpl (NULL: empty) into valid UTF-8. */
static int expand_sanitized(const char *tpl, const struct render_context *ctx,
			    char **ret_text, size_t *ret_len)
{
	char *raw = NULL;
	int r;

	r = render_expand(tpl ? tpl : "", ctx, &raw);
	if (r < 0)
		return r;

	r = utf8_sanitize(raw, strlen(raw), ret_text, ret_len);
	free(raw);
	return r;
}

static int set_string(json_t *object, const char *key, const char *s,
		      size_t len)
{
	json_t *value;

	value = json_stringn(s, len);
	if (!value)
		return -ENOMEM;

	if (json_object_set_new(object, key, value) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Events API v2: "summary ... Maximum length is 1024 characters". The
 * length of the valid UTF-8 text that is kept: all of it when it fits,
 * else its first 1023 characters, which *ret_cut says must be followed
 * by U+2026 so that the reader sees the cut.
 */
static size_t summary_prefix(const char *text, size_t len, bool *ret_cut)
{
	size_t chars = 0;
	size_t keep = len;

	for (size_t i = 0; i < len; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue;
		if (chars == RENDER_SUMMARY_MAX - 1)
			keep = i;
		chars++;
	}

	*ret_cut = chars > RENDER_SUMMARY_MAX;
	return *ret_cut ? keep : len;
}

/*
 * PagerDuty rejects an event without a summary, so an empty one falls
 * back to the alert's name, then to "alert".
 */
static int payload_summary(json_t *payload, const char *tpl,
			   const struct render_context *ctx)
{
	char *text = NULL;
	char *cut = NULL;
	size_t len;
	bool is_cut;
	int r;

	r = expand_sanitized(tpl, ctx, &text, &len);
	if (r == 0 && len == 0) {
		free(text);
		text = NULL;
		r = expand_sanitized("{{alert_name}}", ctx, &text, &len);
	}
	if (r < 0)
		goto out;

	if (len == 0) {
		r = set_string(payload, "summary", "alert", 5);
		goto out;
	}

	len = summary_prefix(text, len, &is_cut);
	if (!is_cut) {
		r = set_string(payload, "summary", text, len);
		goto out;
	}

	if (asprintf(&cut, "%.*s\xe2\x80\xa6", (int)len, text) < 0) {
		cut = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = set_string(payload, "summary", cut, strlen(cut));
out:
	free(cut);
	free(text);
	return r;
}

/*
 * A template field for the payload: fallback (may be NULL) takes the
 * place of an empty expansion; with no fallback the key is left out.
 */
static int payload_field(json_t *payload, const char *key, const char *tpl,
			 const char *fallback, const struct render_context *ctx)
{
	char *text = NULL;
	size_t len = 0;
	int r = 0;

	if (tpl) {
		r = expand_sanitized(tpl, ctx, &text, &len);
		if (r < 0)
			goto out;
	}

	if (len > 0)
		r = set_string(payload, key, text, len);
	else if (fallback)
		r = set_string(payload, key, fallback, strlen(fallback));
out:
	free(text);
	return r;
}

static int payload_details(json_t *payload, const struct config_template *tpl,
			   const struct render_context *ctx)
{
	json_t *details;
	char *key = NULL;
	char *value = NULL;
	size_t len;
	int r = 0;

	if (tpl->n_details == 0)
		return 0;

	details = json_object();
	if (!details)
		return -ENOMEM;

	for (size_t i = 0; i < tpl->n_details; i++) {
		const struct config_detail *d = &tpl->details[i];

		if (!d->key) {
			r = -EINVAL;
			goto out;
		}

		r = utf8_sanitize(d->key, strlen(d->key), &key, &len);
		if (r < 0)
			goto out;

		r = expand_sanitized(d->value, ctx, &value, &len);
		if (r < 0)
			goto out;

		r = set_string(details, key, value, len);
		if (r < 0)
			goto out;

		util_freep(&key);
		util_freep(&value);
	}

	if (json_object_set(payload, "custom_details", details) < 0)
		r = -ENOMEM;
out:
	free(key);
	free(value);
	json_decref(details);
	return r;
}

int render_payload(const struct config_template *tpl,
		   const struct render_context *ctx, json_t **ret_payload)
{
	json_t *payload;
	char stamp[32];
	int r;

	if (!tpl || !ctx || !ctx->alert)
		return -EINVAL;

	if (!CONFIG_SEVERITY_VALID(ctx->severity))
		return -EINVAL;

	payload = json_object();
	if (!payload)
		return -ENOMEM;

	r = payload_summary(payload, tpl->summary, ctx);
	if (r < 0)
		goto out;

	/* PagerDuty requires a source; ours stands in for an empty one. */
	r = payload_field(payload, "source", tpl->source, "alertbridge", ctx);
	if (r < 0)
		goto out;

	r = set_string(payload, "severity", ctx->severity,
		       strlen(ctx->severity));
	if (r < 0)
		goto out;

	timeutil_format(ctx->alert->changed_at_ms, stamp);
	r = set_string(payload, "timestamp", stamp, strlen(stamp));
	if (r < 0)
		goto out;

	r = payload_field(payload, "component", tpl->component, NULL, ctx);
	if (r < 0)
		goto out;

	r = payload_field(payload, "group", tpl->group, NULL, ctx);
	if (r < 0)
		goto out;

	r = payload_field(payload, "class", tpl->class_name, NULL, ctx);
	if (r < 0)
		goto out;

	r = payload_details(payload, tpl, ctx);
	if (r < 0)
		goto out;

	*ret_payload = payload;
	payload = NULL;
out:
	json_decref(payload);
	return r;
}

/* At most 255 bytes of UTF-8 with no control characters. */
static bool dedup_key_usable(const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > RENDER_DEDUP_KEY_MAX)
		return false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return util_utf8_valid(key, len);
}

int render_dedup_key(const char *identity, char **ret_key)
{
	char hex[65];
	char *key;

	if (!identity)
		return -EINVAL;

	if (dedup_key_usable(identity)) {
		key = strdup(identity);
	} else {
		util_sha256_hex(identity, strlen(identity), hex);
		if (asprintf(&key, "sha256:%s", hex) < 0)
			key = NULL;
	}
	if (!key)
		return -ENOMEM;

	*ret_key = key;
	return 0;
}

static bool action_valid(const char *action)
{
	return action &&
	       (!strcmp(action, "trigger") || !strcmp(action, "acknowledge") ||
		!strcmp(action, "resolve"));
}

static bool text_valid(const char *s)
{
	return !s || util_utf8_valid(s, strlen(s));
}

static int encode(const json_t *body, char **ret_text, size_t *ret_len)
{
	char *text;

	/* Non-ASCII as \u escapes: U+2028 and U+2029 never travel raw. */
	text = json_dumps(body,
			  JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	if (!text)
		return -ENOMEM;

	*ret_text = text;
	*ret_len = strlen(text);
	return 0;
}

struct detail_size {
	char *key;
	size_t size;
	size_t index;
};

/* Largest first; of equal ones the later goes first. */
static int detail_size_compare(const void *a, const void *b)
{
	const struct detail_size *x = a;
	const struct detail_size *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->index < y->index ? 1 : -1;
}

static int details_measure(json_t *details, struct detail_size **ret_sizes,
			   size_t *ret_n)
{
	struct detail_size *sizes;
	const char *key;
	json_t *value;
	size_t n = 0;
	int r = 0;

	sizes = calloc(json_object_size(details) + 1, sizeof(*sizes));
	if (!sizes)
		return -ENOMEM;

	json_object_foreach(details, key, value)
	{
		char *text;
		size_t len;

		r = encode(value, &text, &len);
		if (r < 0)
			goto out;
		free(text);

		sizes[n].key = strdup(key);
		if (!sizes[n].key) {
			r = -ENOMEM;
			goto out;
		}
		sizes[n].size = strlen(key) + len;
		sizes[n].index = n;
		n++;
	}

	qsort(sizes, n, sizeof(*sizes), detail_size_compare);
	*ret_sizes = sizes;
	*ret_n = n;
	sizes = NULL;
out:
	for (size_t i = 0; sizes && i < n; i++)
		free(sizes[i].key);
	free(sizes);
	return r;
}

/*
 * Drops custom_details entries, largest first, until the encoded body
 * fits in RENDER_BODY_MAX. The names of the dropped ones go into
 * custom_details as "alertbridge_dropped" so that the responder knows
 * something is missing. -E2BIG when even no details at all do not fit.
 */
static int body_trim(json_t *body, json_t *payload, char **ret_text,
		     size_t *ret_len)
{
	struct detail_size *sizes = NULL;
	json_t *details;
	json_t *dropped;
	char *text = NULL;
	size_t len = SIZE_MAX;
	size_t n = 0;
	size_t i;
	int r;

	details = json_object_get(payload, "custom_details");
	if (!json_is_object(details))
		return -E2BIG;

	r = details_measure(details, &sizes, &n);
	if (r < 0)
		return r;

	dropped = json_array();
	if (!dropped ||
	    json_object_set(details, "alertbridge_dropped", dropped) < 0) {
		r = -ENOMEM;
		goto out;
	}

	for (i = 0; i < n && len > RENDER_BODY_MAX; i++) {
		const char *key = sizes[i].key;

		if (json_array_append_new(dropped, json_string(key)) < 0) {
			r = -ENOMEM;
			goto out;
		}
		json_object_del(details, key);

		free(text);
		text = NULL;
		r = encode(body, &text, &len);
		if (r < 0)
			goto out;
	}

	if (len > RENDER_BODY_MAX) {
		r = -E2BIG;
		goto out;
	}

	*ret_text = text;
	*ret_len = len;
	text = NULL;
out:
	for (i = 0; i < n; i++)
		free(sizes[i].key);
	free(sizes);
	free(text);
	json_decref(dropped);
	return r;
}

static int body_set(json_t *body, const char *key, const char *value)
{
	if (!value)
		return 0;
	return set_string(body, key, value, strlen(value));
}

int render_event_body(const json_t *payload, const char *routing_key,
		      const char *action, const char *dedup_key,
		      const char *client, const char *client_url,
		      char **ret_body, size_t *ret_len)
{
	bool trigger = action && !strcmp(action, "trigger");
	json_t *body = NULL;
	json_t *copy = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	/*
	 * Events API v2: dedup_key is "Required unless the event_type is
	 * trigger"; acknowledge and resolve need no payload.
	 */
	if (!action_valid(action) || !routing_key || !*routing_key ||
	    (!trigger && !dedup_key) || (trigger && !payload) ||
	    (payload && !json_is_object(payload)))
		return -EINVAL;

	if (dedup_key &&
	    (!*dedup_key || strlen(dedup_key) > RENDER_DEDUP_KEY_MAX))
		return -EINVAL;

	if (!text_valid(routing_key) || !text_valid(dedup_key) ||
	    !text_valid(client) || !text_valid(client_url))
		return -EINVAL;

	body = json_object();
	if (!body)
		return -ENOMEM;

	r = body_set(body, "routing_key", routing_key);
	if (r == 0)
		r = body_set(body, "event_action", action);
	if (r == 0)
		r = body_set(body, "dedup_key", dedup_key);
	if (r < 0)
		goto out;

	if (payload) {
		copy = json_deep_copy(payload);
		if (!copy || json_object_set(body, "payload", copy) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}

	r = body_set(body, "client", client);
	if (r == 0)
		r = body_set(body, "client_url", client_url);
	if (r < 0)
		goto out;

	r = encode(body, &text, &len);
	if (r < 0)
		goto out;

	if (len > RENDER_BODY_MAX) {
		util_freep(&text);
		r = copy ? body_trim(body, copy, &text, &len) : -E2BIG;
		if (r < 0)
			goto out;
	}

	*ret_body = text;
	*ret_len = len;
	text = NULL;
out:
	free(text);
	json_decref(copy);
	json_decref(body);
	return r;
}
