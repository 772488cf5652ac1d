/*
 * pdwebhook: PagerDuty Webhooks v3 signature check and event parsing.
 *
 * The whole signature header is checked for shape before any HMAC is
 * compared, so that a malformed header is told apart from a wrong
 * signature whatever the secret: the first earns a 400, the second a
 * 403. Parsing is lenient past the two fields every delivery has
 * (event, event.event_type): a field of the wrong JSON type is absent.
 */
#include "pdwebhook.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "timeutil.h"
#include "util.h"

/* A v1 signature: HMAC-SHA256, 32 bytes, Base16-encoded. */
#define SHA256_LEN 32
#define HEX_LEN    (2 * SHA256_LEN)

/* A slice of the header, which is not copied. */
struct text {
	const char *data;
	size_t len;
};

/*
 * The event being filled in. An allocation failure is remembered in
 * error rather than checked after each of the many copies.
 */
struct builder {
	struct pdwebhook_event *event;
	int error;
};

static const struct {
	const char *name;
	enum pdwebhook_event_type type;
} event_types[] = {
	{"incident.acknowledged", PDWEBHOOK_EVENT_ACKNOWLEDGED},
	{"incident.resolved", PDWEBHOOK_EVENT_RESOLVED},
	{"incident.unacknowledged", PDWEBHOOK_EVENT_UNACKNOWLEDGED},
	{"incident.reopened", PDWEBHOOK_EVENT_REOPENED},
};

static void set_reason(const char **ret_reason, const char *reason)
{
	if (ret_reason)
		*ret_reason = reason;
}

/* HTTP's optional white space (RFC 9110, section 5.6.3). */
static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct text trim(const char *start, const char *end)
{
	while (start < end && is_ows(*start))
		start++;
	while (end > start && is_ows(end[-1]))
		end--;

	return (struct text){start, (size_t)(end - start)};
}

/* A hex digit in lower case, or 0 when c is not one. */
static char hex_lower(char c)
{
	if (is_digit(c) || (c >= 'a' && c <= 'f'))
		return c;
	if (c >= 'A' && c <= 'F')
		return (char)(c - 'A' + 'a');
	return 0;
}

/*
 * Reads one entry, "v<digits>=<value>". A v1 value is stored in out in
 * lower case and *ret_is_v1 set; other versions' values are not read.
 */
static int parse_entry(struct text entry, char out[HEX_LEN + 1],
		       bool *ret_is_v1, const char **ret_reason)
{
	size_t i = 1;
	bool is_v1;

	while (i < entry.len && is_digit(entry.data[i]))
		i++;
	if (entry.data[0] != 'v' || i == 1 || i == entry.len ||
	    entry.data[i] != '=') {
		set_reason(ret_reason, "a signature entry is not "
				       "\"v<version>=<signature>\"");
		return -EBADMSG;
	}

	is_v1 = i == 2 && entry.data[1] == '1';
	if (!is_v1) {
		*ret_is_v1 = false;
		return 0;
	}

	if (entry.len - (i + 1) != HEX_LEN) {
		set_reason(ret_reason, "a v1 signature is not 64 hex digits");
		return -EBADMSG;
	}

	for (size_t k = 0; k < HEX_LEN; k++) {
		char c = hex_lower(entry.data[i + 1 + k]);

		if (!c) {
			set_reason(ret_reason,
				   "a v1 signature is not 64 hex digits");
			return -EBADMSG;
		}
		out[k] = c;
	}
	out[HEX_LEN] = '\0';

	*ret_is_v1 = true;
	return 0;
}

/*
 * Splits the header on commas and keeps the v1 signatures, in lower
 * case. Every entry must be well formed, and there must be a v1 one.
 */
static int parse_header(const char *header,
			char v1[PDWEBHOOK_ENTRIES_MAX][HEX_LEN + 1],
			size_t *ret_n_v1, const char **ret_reason)
{
	const char *p, *end;
	size_t len, n_entries = 0, n_v1 = 0;

	if (!header) {
		set_reason(ret_reason, "no signature header");
		return -EBADMSG;
	}

	len = strnlen(header, PDWEBHOOK_HEADER_MAX + 1);
	if (len > PDWEBHOOK_HEADER_MAX) {
		set_reason(ret_reason, "the signature header is too long");
		return -EBADMSG;
	}

	if (trim(header, header + len).len == 0) {
		set_reason(ret_reason, "the signature header is empty");
		return -EBADMSG;
	}

	p = header;
	end = header + len;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct text entry = trim(p, comma ? comma : end);
		bool is_v1;
		int r;

		if (entry.len == 0) {
			set_reason(ret_reason,
				   "the signature header has an empty entry");
			return -EBADMSG;
		}

		if (n_entries == PDWEBHOOK_ENTRIES_MAX) {
			set_reason(ret_reason,
				   "the signature header has too many entries");
			return -EBADMSG;
		}
		n_entries++;

		r = parse_entry(entry, v1[n_v1], &is_v1, ret_reason);
		if (r < 0)
			return r;
		if (is_v1)
			n_v1++;

		if (!comma)
			break;
		p = comma + 1;
	}

	if (n_v1 == 0) {
		set_reason(ret_reason, "the signature header has no v1 entry");
		return -EBADMSG;
	}

	*ret_n_v1 = n_v1;
	return 0;
}

/* HMAC-SHA256 of body under secret, Base16 in lower case. */
static int hmac_hex(const char *body, size_t len, const char *secret,
		    size_t secret_len, char out[HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	const unsigned char *data = (const unsigned char *)(body ? body : "");

	if (!HMAC(EVP_sha256(), secret, (int)secret_len, data, len, mac,
		  &mac_len) ||
	    mac_len != SHA256_LEN)
		return -EIO;

	for (size_t i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = digits[mac[i] >> 4];
		out[2 * i + 1] = digits[mac[i] & 0x0f];
	}
	out[HEX_LEN] = '\0';

	return 0;
}

int pdwebhook_verify(const char *body, size_t len, const char *signature_header,
		     const char *secret, const char **ret_reason)
{
	char v1[PDWEBHOOK_ENTRIES_MAX][HEX_LEN + 1];
	char expected[HEX_LEN + 1];
	size_t n_v1 = 0, secret_len;
	bool matched = false;
	int r;

	if (!secret)
		secret_len = 0;
	else
		secret_len = strnlen(secret, PDWEBHOOK_SECRET_MAX + 1);
	if (secret_len == 0 || secret_len > PDWEBHOOK_SECRET_MAX) {
		set_reason(ret_reason, "no usable signing secret");
		return -EINVAL;
	}

	if (!body && len > 0) {
		set_reason(ret_reason, "no body");
		return -EINVAL;
	}

	r = parse_header(signature_header, v1, &n_v1, ret_reason);
	if (r < 0)
		return r;

	r = hmac_hex(body, len, secret, secret_len, expected);
	if (r < 0) {
		set_reason(ret_reason, "the HMAC could not be computed");
		return r;
	}

	/*
	 * "Be sure to use a constant-time string comparison to protect
	 * against timing attacks" (PagerDuty). Every entry is compared, so
	 * the time taken does not depend on which one matched either.
	 */
	for (size_t i = 0; i < n_v1; i++) {
		if (CRYPTO_memcmp(expected, v1[i], HEX_LEN) == 0)
			matched = true;
	}

	if (!matched) {
		set_reason(ret_reason, "no v1 signature matches the body");
		return -EPERM;
	}
	return 0;
}

/* A non-empty string member of obj (which may be NULL), or NULL. */
static const char *string_member(const json_t *obj, const char *key,
				 size_t *ret_len)
{
	const json_t *value = json_object_get(obj, key);

	if (!json_is_string(value) || json_string_length(value) == 0)
		return NULL;

	*ret_len = json_string_length(value);
	return json_string_value(value);
}

/*
 * An identifier or URL: copied whole, or absent when longer than max.
 * jansson refuses "\u0000" by default, so a string holds no NUL.
 */
static char *copy_id(struct builder *b, const json_t *obj, const char *key,
		     size_t max)
{
	const char *s;
	size_t len = 0;
	char *copy;

	s = string_member(obj, key, &len);
	if (!s || len > max)
		return NULL;

	copy = strndup(s, len);
	if (!copy)
		b->error = -ENOMEM;
	return copy;
}

/* Display text: cut to max bytes on a UTF-8 boundary. */
static char *copy_text(struct builder *b, const json_t *obj, const char *key,
		       size_t max)
{
	const char *s;
	size_t len = 0;
	char *copy;

	s = string_member(obj, key, &len);
	if (!s)
		return NULL;

	copy = strndup(s, util_utf8_prefix(s, len, max));
	if (!copy)
		b->error = -ENOMEM;
	return copy;
}

static enum pdwebhook_event_type classify(const char *event_type,
					  const char *resource_type)
{
	if (!util_streq(resource_type, "incident"))
		return PDWEBHOOK_EVENT_OTHER;

	for (size_t i = 0; i < ARRAY_SIZE(event_types); i++) {
		if (strcmp(event_type, event_types[i].name) == 0)
			return event_types[i].type;
	}
	return PDWEBHOOK_EVENT_OTHER;
}

/*
 * event.data is an incident when its type says so; a data object with
 * no type is read as one too, since every field is optional anyway.
 */
static bool is_incident(const json_t *data)
{
	const json_t *type = json_object_get(data, "type");

	if (!json_is_object(data))
		return false;

	return !type || json_is_null(type) ||
	       util_streq(json_string_value(type), "incident");
}

static void read_agent(struct builder *b, const json_t *agent)
{
	struct pdwebhook_event *event = b->event;

	event->agent_summary =
		copy_text(b, agent, "summary", PDWEBHOOK_TEXT_MAX);
	event->agent_id = copy_id(b, agent, "id", PDWEBHOOK_ID_MAX);
	event->agent_type = copy_id(b, agent, "type", PDWEBHOOK_ID_MAX);
}

static void read_incident(struct builder *b, const json_t *data)
{
	struct pdwebhook_event *event = b->event;

	event->incident_id = copy_id(b, data, "id", PDWEBHOOK_ID_MAX);
	event->incident_key =
		copy_id(b, data, "incident_key", PDWEBHOOK_INCIDENT_KEY_MAX);
	event->incident_status = copy_id(b, data, "status", PDWEBHOOK_ID_MAX);
	event->title = copy_text(b, data, "title", PDWEBHOOK_TEXT_MAX);
	event->html_url = copy_id(b, data, "html_url", PDWEBHOOK_URL_MAX);
}

int pdwebhook_parse(const char *body, size_t len,
		    struct pdwebhook_event **ret_event, const char **ret_reason)
{
	struct builder b = {0};
	json_t *root = NULL;
	const json_t *event_json, *data;
	const char *occurred_at;
	size_t type_len = 0, occurred_len = 0;
	int64_t occurred_ms;
	json_error_t error;
	int r;

	if (len > PDWEBHOOK_BODY_MAX) {
		set_reason(ret_reason, "the body is too large");
		r = -EFBIG;
		goto out;
	}

	/*
	 * Duplicate keys are refused: PagerDuty never sends them, and two
	 * parsers could disagree about which one counts.
	 */
	root = json_loadb(body ? body : "", body ? len : 0,
			  JSON_REJECT_DUPLICATES, &error);
	if (!root) {
		set_reason(ret_reason, "the body is not valid JSON");
		r = -EINVAL;
		goto out;
	}

	if (!json_is_object(root)) {
		set_reason(ret_reason, "the body is not a JSON object");
		r = -EINVAL;
		goto out;
	}

	event_json = json_object_get(root, "event");
	if (!json_is_object(event_json)) {
		set_reason(ret_reason, "the body has no \"event\" object");
		r = -EINVAL;
		goto out;
	}

	if (!string_member(event_json, "event_type", &type_len) ||
	    type_len > PDWEBHOOK_ID_MAX) {
		set_reason(ret_reason, "the event has no usable event_type");
		r = -EINVAL;
		goto out;
	}

	b.event = calloc(1, sizeof(*b.event));
	if (!b.event) {
		set_reason(ret_reason, "out of memory");
		r = -ENOMEM;
		goto out;
	}

	b.event->event_type =
		copy_id(&b, event_json, "event_type", PDWEBHOOK_ID_MAX);
	b.event->id = copy_id(&b, event_json, "id", PDWEBHOOK_ID_MAX);
	b.event->resource_type =
		copy_id(&b, event_json, "resource_type", PDWEBHOOK_ID_MAX);

	occurred_at = string_member(event_json, "occurred_at", &occurred_len);
	if (occurred_at && timeutil_parse(occurred_at, &occurred_ms) == 0)
		b.event->occurred_at_ms = occurred_ms;

	read_agent(&b, json_object_get(event_json, "agent"));

	data = json_object_get(event_json, "data");
	if (is_incident(data))
		read_incident(&b, data);

	if (b.error < 0) {
		set_reason(ret_reason, "out of memory");
		r = b.error;
		goto out;
	}

	b.event->type = classify(b.event->event_type, b.event->resource_type);

	*ret_event = b.event;
	b.event = NULL;
	r = 0;

out:
	pdwebhook_event_free(b.event);
	json_decref(root);
	return r;
}

void pdwebhook_event_free(struct pdwebhook_event *event)
{
	if (!event)
		return;

	free(event->event_type);
	free(event->id);
	free(event->resource_type);
	free(event->agent_summary);
	free(event->agent_id);
	free(event->agent_type);
	free(event->incident_id);
	free(event->incident_key);
	free(event->incident_status);
	free(event->title);
	free(event->html_url);
	free(event);
}
