/*
 * render: the PagerDuty Events API v2 event, from a template.
 *
 * Every value is placed with jansson, so quotes, backslashes, control
 * characters and U+2028 are escaped by construction; invalid UTF-8 is
 * replaced with U+FFFD before it reaches the encoder. PagerDuty's limits
 * are enforced here (Events API v2):
 *   - summary at most 1024 characters, cut on a character boundary with
 *     an ellipsis;
 *   - dedup_key at most 255 characters;
 *   - a request body at most 512 KB after encoding; custom_details are
 *     trimmed first, the trigger itself never;
 *   - severity one of critical, error, warning, info.
 */
#ifndef ALERTBRIDGE_RENDER_H
#define ALERTBRIDGE_RENDER_H

#include <stddef.h>

#include <jansson.h>

#include "alert.h"
#include "config.h"

#define RENDER_SUMMARY_MAX   1024
#define RENDER_DEDUP_KEY_MAX 255
#define RENDER_BODY_MAX      (512 * 1024)
/* Bound on one expanded template field before the limits above. */
#define RENDER_FIELD_MAX (64 * 1024)

struct render_context {
	const struct alert *alert;
	const char *severity;    /* the decided PagerDuty severity */
	const char *environment; /* the route's or the default */
	const char *region;      /* the alert's or the default */
	const char *route_name;
};

/*
 * Expands the {{name}} fields of tpl. Fields: alert_name, severity,
 * environment, region, metric_name, metric_value, account, state,
 * old_state, reason, description, namespace, dimensions, alarm_arn,
 * console_url, threshold, topic_arn, subject, kind, route, timestamp,
 * source, detail_type, expression, finding_severity. A field with no
 * value expands to the empty string; an unknown name is -EINVAL (the
 * configuration check rejects those up front). The result is at most
 * RENDER_FIELD_MAX bytes, a longer one cut on a character boundary.
 *
 * Syntax: "{{" runs to the nearest "}}" after it, and what lies between,
 * blanks and tabs trimmed, is the name ("{{ alert_name }}"). A "{{" with
 * no "}}" after it is literal text, as is a lone "}}".
 *
 * Values: severity, environment, region and route come from ctx, the
 * rest from the alert. state and old_state are "ALARM", "OK" or
 * "INSUFFICIENT_DATA" (empty for a message with no state); dimensions
 * reads "InstanceId=i-123, ClusterName=x"; timestamp is when the state
 * changed (2022-09-25T18:50:37.811Z); finding_severity is "8.0" for
 * GuardDuty findings, else empty. console_url links the alarm in the
 * CloudWatch console of ctx->region (the China and GovCloud consoles
 * for their regions), or GuardDuty's findings page; it is empty without
 * a region and for kinds with no console page (Budgets, generic, other
 * EventBridge events).
 *
 * The alert's bytes are copied as they are, valid UTF-8 or not:
 * render_payload() makes them valid where they enter JSON.
 */
int render_expand(const char *tpl, const struct render_context *ctx,
		  char **ret_text);

/* True when tpl names only known fields; else *ret_bad_field is set. */
bool render_template_valid(const char *tpl, const char **ret_bad_field,
			   size_t *ret_bad_len);

/*
 * Renders the payload object: summary, source, severity, timestamp,
 * component, group, class and custom_details, in that order. Every
 * expanded value has invalid UTF-8 replaced with U+FFFD (one per
 * maximal ill-formed subpart, as Unicode recommends).
 *   - summary: cut as described above; an empty one (PagerDuty
 *     requires one) falls back to the alert's name, then to "alert";
 *   - source: "alertbridge" when it expands empty (required too);
 *   - severity: ctx->severity, -EINVAL unless CONFIG_SEVERITY_VALID;
 *   - timestamp: when the state changed, ISO 8601 in UTC;
 *   - component, group, class: only when the template has them and
 *     they expand non-empty;
 *   - custom_details: the template's details in its order, as strings,
 *     left out when the template has none.
 */
int render_payload(const struct config_template *tpl,
		   const struct render_context *ctx, json_t **ret_payload);

/*
 * The dedup_key for an incident identity: the identity itself when it
 * is at most 255 bytes of printable text, else "sha256:" and its hex
 * digest. Computed once per incident, stored, and reused verbatim.
 */
int render_dedup_key(const char *identity, char **ret_key);

/*
 * The request body: routing_key, event_action ("trigger", "acknowledge"
 * or "resolve"), dedup_key, payload, client and client_url (either may
 * be NULL). Encoded with every non-ASCII character escaped; trimmed to
 * RENDER_BODY_MAX by dropping custom_details entries, largest first
 * (the later of equal ones first), whose names are then listed in
 * custom_details as "alertbridge_dropped". -E2BIG when the body does
 * not fit even without any details.
 *
 * -EINVAL for another action, an empty routing_key, a dedup_key that is
 * empty or longer than RENDER_DEDUP_KEY_MAX bytes, no dedup_key for an
 * acknowledge or resolve (PagerDuty needs one to find the alert), no
 * payload for a trigger, or strings that are not valid UTF-8. payload
 * may be NULL for acknowledge and resolve.
 */
int render_event_body(const json_t *payload, const char *routing_key,
		      const char *action, const char *dedup_key,
		      const char *client, const char *client_url,
		      char **ret_body, size_t *ret_len);

#endif
