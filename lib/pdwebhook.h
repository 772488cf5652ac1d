/*
 * pdwebhook: PagerDuty Webhooks v3 deliveries, verified and parsed.
 *
 * A responder who acknowledges, resolves, unacknowledges or reopens an
 * incident in PagerDuty is told to us by a signed webhook; the daemon
 * stops or resumes the incident's escalation chain accordingly. This
 * module checks the signature and reads the event; deciding what the
 * event does is the caller's business.
 *
 * The caller verifies first, on the raw request body exactly as it
 * arrived, and parses only what verified: PagerDuty signs the bytes it
 * sent, and a body re-encoded by anything in between no longer matches.
 */
#ifndef ALERTBRIDGE_PDWEBHOOK_H
#define ALERTBRIDGE_PDWEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* The request header that carries the signatures. */
#define PDWEBHOOK_SIGNATURE_HEADER "X-PagerDuty-Signature"

/*
 * Bounds on the signature header: its length in bytes and the number
 * of comma-separated entries. PagerDuty sends one entry per live
 * signing secret (two while a secret is being rotated), each 67 bytes.
 */
#define PDWEBHOOK_HEADER_MAX  4096
#define PDWEBHOOK_ENTRIES_MAX 16

/* The longest signing secret accepted (PagerDuty's are far shorter). */
#define PDWEBHOOK_SECRET_MAX 1024

/*
 * The largest body pdwebhook_parse() reads. PagerDuty's own Go client
 * (go-pagerduty, webhookv3) reads at most 2 MB of a delivery; the
 * daemon should refuse a larger request before verifying it.
 */
#define PDWEBHOOK_BODY_MAX (2 * 1024 * 1024)

/*
 * Bounds on the strings copied out of an event (bytes). An identifier
 * or URL longer than its bound is treated as absent, since a shortened
 * one would name something else; the agent's name and the title are
 * cut on a UTF-8 boundary instead. PDWEBHOOK_INCIDENT_KEY_MAX is
 * PagerDuty's limit on an Events API v2 dedup_key: a longer
 * incident_key cannot be one that alertbridge sent.
 */
#define PDWEBHOOK_ID_MAX           256
#define PDWEBHOOK_INCIDENT_KEY_MAX 255
#define PDWEBHOOK_URL_MAX          2048
#define PDWEBHOOK_TEXT_MAX         1024

/*
 * Verifies a delivery's signature header against the subscription's
 * signing secret.
 *
 * PagerDuty's rule (developer-docs, webhooks/04-Signatures.md): the
 * header "contains one or more signatures", several "to allow for a
 * zero-downtime secret rotation"; version v1 is "an HMAC of the payload
 * body using a SHA-256 hash function", Base16-encoded, one per signing
 * secret, "concatenated using comma separation"; a consumer keeps only
 * the v1 entries, and "if at least one of the signatures matches" the
 * delivery is authentic. Comparisons run in constant time, as the same
 * page asks.
 *
 * The header is a list of entries "v<digits>=<value>" separated by
 * commas, with optional spaces or tabs around each entry. Entries of
 * versions other than v1 are skipped unread. A v1 value must be exactly
 * 64 hex digits; PagerDuty sends lower case, and upper case is accepted
 * too since it encodes the same digest.
 *
 * Returns 0 when any v1 entry matches the HMAC-SHA256 of body under
 * secret. Otherwise *ret_reason (when not NULL) points at a static
 * one-line reason and the result is:
 *   -EBADMSG  the header is missing, empty, longer than
 *             PDWEBHOOK_HEADER_MAX, has more than PDWEBHOOK_ENTRIES_MAX
 *             entries, has an entry of another shape or a v1 value that
 *             is not 64 hex digits, or has no v1 entry at all (the
 *             caller answers 400);
 *   -EPERM    the header is well formed and no v1 entry matches (the
 *             caller answers 403);
 *   -EINVAL   the caller passed no secret, an empty one or one longer
 *             than PDWEBHOOK_SECRET_MAX, or a NULL body with len > 0;
 *   -EIO      OpenSSL failed to compute the HMAC.
 * body need not be NUL-terminated; NULL with len 0 is the empty body.
 */
int pdwebhook_verify(const char *body, size_t len, const char *signature_header,
		     const char *secret, const char **ret_reason);

/*
 * The event types that act on an escalation chain. Every other type,
 * and any event whose resource_type is not "incident", is OTHER (its
 * name stays in event_type for the log).
 */
enum pdwebhook_event_type {
	PDWEBHOOK_EVENT_ACKNOWLEDGED,   /* "incident.acknowledged" */
	PDWEBHOOK_EVENT_RESOLVED,       /* "incident.resolved" */
	PDWEBHOOK_EVENT_UNACKNOWLEDGED, /* "incident.unacknowledged" */
	PDWEBHOOK_EVENT_REOPENED,       /* "incident.reopened" */
	PDWEBHOOK_EVENT_OTHER,
};

/*
 * One parsed delivery. Every string is owned by the event and is NULL
 * when the body does not carry it as a non-empty JSON string within its
 * bound, except event_type, which is never NULL.
 *
 * The incident fields are read from event.data when it is an incident
 * (data.type "incident", or no type at all). PagerDuty documents the
 * v3 incident object, shared by the triggered, acknowledged, resolved,
 * unacknowledged and reopened events, with an "incident_key" field
 * (webhooks/01-Overview.md and its incident.priority_updated sample).
 * For an incident opened through Events API v2 it is the dedup_key of
 * the event that opened it: a PagerDuty developer example finds the
 * incident of an event by passing its dedup_key as incident_key. The
 * webhook pages do not say so themselves, and an incident that
 * PagerDuty grouped or merged may carry another key, so a key that
 * matches nothing is not an error. An event without one is not ours to
 * act on, and the caller ignores it.
 */
struct pdwebhook_event {
	enum pdwebhook_event_type type;
	char *event_type;    /* event.event_type as sent */
	char *id;            /* event.id, unique per event */
	char *resource_type; /* event.resource_type ("incident") */

	/* event.occurred_at in UTC ms, 0 when absent or unparseable. */
	int64_t occurred_at_ms;

	/*
	 * Who or what acted: event.agent, which PagerDuty sends as null
	 * when nobody did (a timeout, an automatic resolve).
	 */
	char *agent_summary; /* "Tenex Engineer" */
	char *agent_id;      /* "PLH1HKV" */
	char *agent_type;    /* "user_reference", "service_reference" */

	char *incident_id;     /* data.id, "PGR0VU2" */
	char *incident_key;    /* data.incident_key */
	char *incident_status; /* data.status, "acknowledged" */
	char *title;           /* data.title */
	char *html_url;        /* data.html_url, the incident's page */
};

/*
 * Parses a delivery body (not necessarily NUL-terminated).
 * Returns -EINVAL with *ret_reason (when not NULL) pointing at a static
 * one-line reason when the body is not JSON, not an object, has no
 * "event" object or no string "event.event_type" (empty, or longer than
 * PDWEBHOOK_ID_MAX, counts as none); -EFBIG when len exceeds
 * PDWEBHOOK_BODY_MAX; -ENOMEM. Every other field is optional and of
 * the wrong JSON type counts as absent.
 */
int pdwebhook_parse(const char *body, size_t len,
		    struct pdwebhook_event **ret_event,
		    const char **ret_reason);

void pdwebhook_event_free(struct pdwebhook_event *event);

#endif
