/*
 * sns: the Amazon SNS HTTP(S) envelope.
 *
 * SNS signs a canonical string built from some of the envelope's fields,
 * not the body itself, so the body is decoded first and the string to
 * sign rebuilt from the decoded values. The rules come from "Verifying
 * the signatures of Amazon SNS messages" in the SNS developer guide.
 */
#include "sns.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "timeutil.h"
#include "util.h"

#define TYPE_BIT(t)  (1u << (t))
#define NOTIFICATION TYPE_BIT(SNS_TYPE_NOTIFICATION)
#define CONFIRMATIONS                                                          \
	(TYPE_BIT(SNS_TYPE_SUBSCRIPTION_CONFIRMATION) |                        \
	 TYPE_BIT(SNS_TYPE_UNSUBSCRIBE_CONFIRMATION))
#define ALL_TYPES     (NOTIFICATION | CONFIRMATIONS)
#define FIELD(member) offsetof(struct sns_message, member)

/* Base64 of SNS_SIGNATURE_MAX bytes, padded. */
#define SIGNATURE_B64_MAX (((SNS_SIGNATURE_MAX + 2) / 3) * 4)

/* Room for the keys and newlines around the values in a string to sign. */
#define STRING_TO_SIGN_OVERHEAD 256

static const char *const type_names[] = {
	[SNS_TYPE_NOTIFICATION] = "Notification",
	[SNS_TYPE_SUBSCRIPTION_CONFIRMATION] = "SubscriptionConfirmation",
	[SNS_TYPE_UNSUBSCRIBE_CONFIRMATION] = "UnsubscribeConfirmation",
};

/* An envelope field kept in struct sns_message as a string. */
struct envelope_field {
	const char *key;
	size_t offset;
	unsigned required; /* types that must carry it */
	unsigned kept;     /* types whose value is read at all */
	const char *missing;
	const char *not_string;
	/* Set for a field that must not be "": an empty MessageId would
	 * be taken for the duplicate of the next empty one. */
	const char *empty;
};

static const struct envelope_field envelope_fields[] = {
	{"MessageId", FIELD(message_id), ALL_TYPES, ALL_TYPES,
	 "MessageId missing", "MessageId is not a string",
	 "MessageId is empty"},
	{"TopicArn", FIELD(topic_arn), ALL_TYPES, ALL_TYPES, "TopicArn missing",
	 "TopicArn is not a string", "TopicArn is empty"},
	{"Subject", FIELD(subject), 0, NOTIFICATION, NULL,
	 "Subject is not a string", NULL},
	{"Message", FIELD(message), ALL_TYPES, ALL_TYPES, "Message missing",
	 "Message is not a string", NULL},
	{"Timestamp", FIELD(timestamp), ALL_TYPES, ALL_TYPES,
	 "Timestamp missing", "Timestamp is not a string", NULL},
	{"Signature", FIELD(signature), ALL_TYPES, ALL_TYPES,
	 "Signature missing", "Signature is not a string", NULL},
	{"SigningCertURL", FIELD(signing_cert_url), ALL_TYPES, ALL_TYPES,
	 "SigningCertURL missing", "SigningCertURL is not a string", NULL},
	{"SubscribeURL", FIELD(subscribe_url), CONFIRMATIONS, CONFIRMATIONS,
	 "SubscribeURL missing", "SubscribeURL is not a string", NULL},
	{"Token", FIELD(token), CONFIRMATIONS, CONFIRMATIONS, "Token missing",
	 "Token is not a string", NULL},
	{"UnsubscribeURL", FIELD(unsubscribe_url), 0, NOTIFICATION, NULL,
	 "UnsubscribeURL is not a string", NULL},
};

/* A key of the string to sign and where its value lives. */
struct signed_field {
	const char *key;
	size_t offset;
	bool optional;
};

/*
 * "Notification: Message, MessageId, Subject (if included in the
 * message), Timestamp, TopicArn, Type", in this byte order.
 */
static const struct signed_field notification_signed[] = {
	{"Message", FIELD(message), false},
	{"MessageId", FIELD(message_id), false},
	{"Subject", FIELD(subject), true},
	{"Timestamp", FIELD(timestamp), false},
	{"TopicArn", FIELD(topic_arn), false},
	{"Type", FIELD(type_name), false},
};

/*
 * "SubscriptionConfirmation and UnsubscribeConfirmation: Message,
 * MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type".
 */
static const struct signed_field confirmation_signed[] = {
	{"Message", FIELD(message), false},
	{"MessageId", FIELD(message_id), false},
	{"SubscribeURL", FIELD(subscribe_url), false},
	{"Timestamp", FIELD(timestamp), false},
	{"Token", FIELD(token), false},
	{"TopicArn", FIELD(topic_arn), false},
	{"Type", FIELD(type_name), false},
};

static void set_reason(const char **ret_reason, const char *reason)
{
	if (ret_reason)
		*ret_reason = reason;
}

static char **field_slot(struct sns_message *msg, size_t offset)
{
	return (char **)((char *)msg + offset);
}

static const char *field_value(const struct sns_message *msg, size_t offset)
{
	return *(char *const *)((const char *)msg + offset);
}

const char *sns_type_name(enum sns_type type)
{
	if ((unsigned)type >= ARRAY_SIZE(type_names))
		return NULL;
	return type_names[type];
}

void sns_message_free(struct sns_message *msg)
{
	if (!msg)
		return;

	free(msg->type_name);
	for (size_t i = 0; i < ARRAY_SIZE(envelope_fields); i++)
		free(*field_slot(msg, envelope_fields[i].offset));
	free(msg);
}

static const char *load_error_reason(const json_error_t *error)
{
	switch (json_error_code(error)) {
	case json_error_null_character:
		return "a string holds \\u0000, which is refused";
	case json_error_duplicate_key:
		return "a key appears twice in the envelope";
	case json_error_invalid_utf8:
		return "the envelope is not valid UTF-8";
	case json_error_end_of_input_expected:
		return "bytes follow the envelope's JSON object";
	default:
		return "the envelope is not valid JSON";
	}
}

static int parse_type(json_t *root, struct sns_message *msg,
		      const char **ret_reason)
{
	json_t *value = json_object_get(root, "Type");
	const char *name;

	if (!value) {
		set_reason(ret_reason, "Type missing");
		return -EINVAL;
	}
	if (!json_is_string(value)) {
		set_reason(ret_reason, "Type is not a string");
		return -EINVAL;
	}

	name = json_string_value(value);
	if (!*name) {
		set_reason(ret_reason, "Type is empty");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++) {
		if (strcmp(name, type_names[i]) != 0)
			continue;

		msg->type = (enum sns_type)i;
		msg->type_name = strdup(name);
		return msg->type_name ? 0 : -ENOMEM;
	}

	set_reason(ret_reason, "Type is not Notification, "
			       "SubscriptionConfirmation or "
			       "UnsubscribeConfirmation");
	return -EINVAL;
}

static int parse_signature_version(json_t *root, struct sns_message *msg,
				   const char **ret_reason)
{
	json_t *value = json_object_get(root, "SignatureVersion");
	const char *version;

	if (!value) {
		set_reason(ret_reason, "SignatureVersion missing");
		return -EINVAL;
	}
	if (!json_is_string(value)) {
		set_reason(ret_reason, "SignatureVersion is not a string");
		return -EINVAL;
	}

	version = json_string_value(value);
	if (strcmp(version, "1") == 0) {
		msg->signature_version = 1;
	} else if (strcmp(version, "2") == 0) {
		msg->signature_version = 2;
	} else {
		set_reason(ret_reason, "SignatureVersion is neither \"1\" "
				       "(SHA1withRSA) nor \"2\" "
				       "(SHA256withRSA)");
		return -EINVAL;
	}
	return 0;
}

static const char *missing_reason(json_t *root,
				  const struct envelope_field *field)
{
	/*
	 * Lambda event records spell SigningCertUrl; what SNS POSTs to an
	 * HTTP endpoint spells SigningCertURL. Only the latter reaches us.
	 */
	if (strcmp(field->key, "SigningCertURL") == 0 &&
	    json_object_get(root, "SigningCertUrl"))
		return "SigningCertURL missing (SigningCertUrl is the Lambda "
		       "spelling; HTTP deliveries spell SigningCertURL)";
	return field->missing;
}

static int parse_fields(json_t *root, struct sns_message *msg,
			const char **ret_reason)
{
	unsigned bit = TYPE_BIT(msg->type);

	for (size_t i = 0; i < ARRAY_SIZE(envelope_fields); i++) {
		const struct envelope_field *field = &envelope_fields[i];
		json_t *value;
		char *copy;

		if (!(field->kept & bit))
			continue;

		/* Lambda records write an absent Subject as null. */
		value = json_object_get(root, field->key);
		if (json_is_null(value) && !(field->required & bit))
			value = NULL;

		if (!value) {
			if (!(field->required & bit))
				continue;
			set_reason(ret_reason, missing_reason(root, field));
			return -EINVAL;
		}
		if (!json_is_string(value)) {
			set_reason(ret_reason, field->not_string);
			return -EINVAL;
		}
		if (field->empty && json_string_length(value) == 0) {
			set_reason(ret_reason, field->empty);
			return -EINVAL;
		}

		copy = strdup(json_string_value(value));
		if (!copy)
			return -ENOMEM;
		*field_slot(msg, field->offset) = copy;

		if (field->offset == FIELD(message))
			msg->message_len = json_string_length(value);
	}
	return 0;
}

int sns_parse(const char *body, size_t len, struct sns_message **ret_msg,
	      const char **ret_reason)
{
	struct sns_message *msg = NULL;
	json_error_t error;
	json_t *root = NULL;
	int r;

	if (len == 0) {
		set_reason(ret_reason, "the envelope is empty");
		return -EINVAL;
	}
	if (len > SNS_ENVELOPE_MAX) {
		set_reason(ret_reason, "the envelope is larger than 1 MiB");
		return -EINVAL;
	}

	/*
	 * Without JSON_ALLOW_NUL jansson refuses \u0000, which is what we
	 * want (see sns.h). Duplicate keys are refused so that no two JSON
	 * parsers could disagree on which value was signed.
	 */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error);
	if (!root) {
		if (json_error_code(&error) == json_error_out_of_memory) {
			r = -ENOMEM;
			goto out;
		}
		set_reason(ret_reason, load_error_reason(&error));
		return -EINVAL;
	}

	if (!json_is_object(root)) {
		set_reason(ret_reason, "the envelope is not a JSON object");
		r = -EINVAL;
		goto out;
	}

	msg = calloc(1, sizeof(*msg));
	if (!msg) {
		r = -ENOMEM;
		goto out;
	}

	r = parse_type(root, msg, ret_reason);
	if (r < 0)
		goto out;

	r = parse_signature_version(root, msg, ret_reason);
	if (r < 0)
		goto out;

	r = parse_fields(root, msg, ret_reason);
	if (r < 0)
		goto out;

	r = timeutil_parse(msg->timestamp, &msg->timestamp_ms);
	if (r < 0) {
		set_reason(ret_reason, "Timestamp is not an ISO 8601 time");
		r = -EINVAL;
		goto out;
	}

	*ret_msg = msg;
	msg = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		set_reason(ret_reason, "out of memory");
	sns_message_free(msg);
	json_decref(root);
	return r;
}

static int check_header(const char *header, const char *body_value,
			const char *reason, const char **ret_reason)
{
	if (!header)
		return 0;

	if (!body_value || strcmp(header, body_value) != 0) {
		set_reason(ret_reason, reason);
		return -EINVAL;
	}
	return 0;
}

int sns_check_headers(const struct sns_message *msg, const char *hdr_type,
		      const char *hdr_message_id, const char *hdr_topic_arn,
		      const char **ret_reason)
{
	int r;

	r = check_header(hdr_type, sns_type_name(msg->type),
			 "x-amz-sns-message-type disagrees with Type",
			 ret_reason);
	if (r < 0)
		return r;

	r = check_header(hdr_message_id, msg->message_id,
			 "x-amz-sns-message-id disagrees with MessageId",
			 ret_reason);
	if (r < 0)
		return r;

	return check_header(hdr_topic_arn, msg->topic_arn,
			    "x-amz-sns-topic-arn disagrees with TopicArn",
			    ret_reason);
}

int sns_string_to_sign(const struct sns_message *msg, char **ret_str,
		       size_t *ret_len)
{
	const struct signed_field *fields;
	size_t count;
	struct strbuf sb;
	char *text;
	int r = 0;

	if (msg->type == SNS_TYPE_NOTIFICATION) {
		fields = notification_signed;
		count = ARRAY_SIZE(notification_signed);
	} else if (msg->type == SNS_TYPE_SUBSCRIPTION_CONFIRMATION ||
		   msg->type == SNS_TYPE_UNSUBSCRIBE_CONFIRMATION) {
		fields = confirmation_signed;
		count = ARRAY_SIZE(confirmation_signed);
	} else {
		return -EINVAL;
	}

	strbuf_init(&sb, SNS_ENVELOPE_MAX + STRING_TO_SIGN_OVERHEAD);
	for (size_t i = 0; i < count; i++) {
		const char *value;
		size_t value_len;

		/*
		 * Type is signed as the body spelled it, which parsing has
		 * tied to msg->type; the name is taken from the enum so a
		 * message built by hand cannot disagree with itself.
		 */
		if (fields[i].offset == FIELD(type_name))
			value = sns_type_name(msg->type);
		else
			value = field_value(msg, fields[i].offset);

		if (!value) {
			if (fields[i].optional)
				continue;
			r = -EINVAL;
			goto out;
		}

		if (fields[i].offset == FIELD(message))
			value_len = msg->message_len;
		else
			value_len = strlen(value);

		r = strbuf_puts(&sb, fields[i].key);
		if (r >= 0)
			r = strbuf_append(&sb, "\n", 1);
		if (r >= 0)
			r = strbuf_append(&sb, value, value_len);
		if (r >= 0)
			r = strbuf_append(&sb, "\n", 1);
		if (r < 0)
			goto out;
	}

	text = strbuf_detach(&sb, ret_len);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_str = text;
out:
	strbuf_release(&sb);
	return r;
}

/*
 * True when region looks like an AWS region code: a two-letter area, an
 * optional partition word (gov, iso, isob, ...), a compass direction
 * and a number, as in us-east-1, us-gov-west-1 or ap-southeast-4.
 */
int sns_region_valid(const char *region)
{
	static const char *const directions[] = {
		"east",      "west",      "north",     "south",     "central",
		"northeast", "northwest", "southeast", "southwest",
	};
	const char *p = region;
	const char *word;
	size_t word_len;
	bool known = false;

	if (!region || strnlen(region, 33) > 32)
		return 0;

	if (!(p[0] >= 'a' && p[0] <= 'z' && p[1] >= 'a' && p[1] <= 'z'))
		return 0;
	p += 2;
	if (*p++ != '-')
		return 0;

	/* One or two lower-case words; the last is the direction. */
	word = p;
	word_len = strspn(p, "abcdefghijklmnopqrstuvwxyz");
	p += word_len;
	if (*p++ != '-')
		return 0;
	if (!(*p >= '0' && *p <= '9')) {
		if (word_len < 2 || word_len > 8)
			return 0;
		word = p;
		word_len = strspn(p, "abcdefghijklmnopqrstuvwxyz");
		p += word_len;
		if (*p++ != '-')
			return 0;
	}

	for (size_t i = 0; i < ARRAY_SIZE(directions); i++)
		if (strlen(directions[i]) == word_len &&
		    memcmp(directions[i], word, word_len) == 0)
			known = true;
	if (!known)
		return 0;

	/* A number from 1 to 99 without a leading zero. */
	if (!(p[0] >= '1' && p[0] <= '9'))
		return 0;
	if (p[1] == '\0')
		return 1;
	return p[1] >= '0' && p[1] <= '9' && p[2] == '\0';
}

/*
 * True when host (not NUL-terminated) is sns.<region>.amazonaws.com or,
 * for the China partition, sns.<region>.amazonaws.com.cn. Host names
 * are compared without regard to case (RFC 3986, section 3.2.2).
 */
static bool sns_host_valid(const char *host, size_t len)
{
	static const char suffix[] = ".amazonaws.com";
	static const char suffix_cn[] = ".amazonaws.com.cn";
	char lower[64];
	char region[64];
	size_t region_len;
	bool china;

	if (len >= sizeof(lower))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];

		lower[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	lower[len] = '\0';

	if (strncmp(lower, "sns.", 4) != 0)
		return false;

	if (len > 4 + strlen(suffix_cn) &&
	    strcmp(lower + len - strlen(suffix_cn), suffix_cn) == 0) {
		china = true;
		region_len = len - 4 - strlen(suffix_cn);
	} else if (len > 4 + strlen(suffix) &&
		   strcmp(lower + len - strlen(suffix), suffix) == 0) {
		china = false;
		region_len = len - 4 - strlen(suffix);
	} else {
		return false;
	}

	memcpy(region, lower + 4, region_len);
	region[region_len] = '\0';
	if (!sns_region_valid(region))
		return false;

	/* The aws-cn partition, and only it, lives under amazonaws.com.cn. */
	return china == (strncmp(region, "cn-", 3) == 0);
}

/*
 * Splits an https URL into its host check and the rest (path, query and
 * fragment). The URL is read strictly: printable ASCII only, no
 * backslash (some parsers read it as a slash), no userinfo, and no port
 * but 443.
 */
static int url_check_origin(const char *url, const char **ret_rest,
			    const char **ret_reason)
{
	const char *authority;
	const char *colon;
	size_t authority_len;
	size_t host_len;
	size_t len;

	if (!url) {
		set_reason(ret_reason, "URL missing");
		return -EINVAL;
	}

	len = strnlen(url, SNS_URL_MAX + 1);
	if (len > SNS_URL_MAX) {
		set_reason(ret_reason, "URL too long");
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];

		if (c <= 0x20 || c >= 0x7f) {
			set_reason(ret_reason, "URL holds a space, a control "
					       "or a non-ASCII character");
			return -EINVAL;
		}
		if (c == '\\') {
			set_reason(ret_reason, "URL holds a backslash");
			return -EINVAL;
		}
	}

	if (strncasecmp(url, "https://", 8) != 0) {
		set_reason(ret_reason, "URL is not https://");
		return -EINVAL;
	}

	authority = url + 8;
	authority_len = strcspn(authority, "/?#");
	if (memchr(authority, '@', authority_len)) {
		set_reason(ret_reason, "URL carries userinfo");
		return -EINVAL;
	}

	colon = memchr(authority, ':', authority_len);
	host_len = colon ? (size_t)(colon - authority) : authority_len;
	if (colon &&
	    (authority_len - host_len != 4 || strncmp(colon, ":443", 4) != 0)) {
		set_reason(ret_reason, "URL names a port other than 443");
		return -EINVAL;
	}

	if (!sns_host_valid(authority, host_len)) {
		set_reason(ret_reason, "URL host is not "
				       "sns.<region>.amazonaws.com[.cn]");
		return -EINVAL;
	}

	*ret_rest = authority + authority_len;
	return 0;
}

int sns_cert_url_check(const char *url, char **ret_file_name,
		       const char **ret_reason)
{
	static const char prefix[] = "/SimpleNotificationService-";
	static const char suffix[] = ".pem";
	const char *rest;
	const char *name;
	char *file_name;
	size_t alnum_len;
	int r;

	r = url_check_origin(url, &rest, ret_reason);
	if (r < 0)
		return r;

	/*
	 * The path is matched whole: exactly one segment, no query, no
	 * fragment and no percent-encoding, so that the file name it gives
	 * is safe as a local file name too.
	 */
	if (strncmp(rest, prefix, strlen(prefix)) != 0) {
		set_reason(ret_reason, "certificate URL path is not "
				       "/SimpleNotificationService-*.pem");
		return -EINVAL;
	}

	name = rest + 1;
	alnum_len = strspn(rest + strlen(prefix),
			   "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	if (alnum_len == 0 || alnum_len > 64 ||
	    strcmp(rest + strlen(prefix) + alnum_len, suffix) != 0) {
		set_reason(ret_reason, "certificate URL path is not "
				       "/SimpleNotificationService-*.pem");
		return -EINVAL;
	}

	file_name = strdup(name);
	if (!file_name)
		return -ENOMEM;

	*ret_file_name = file_name;
	return 0;
}

int sns_subscribe_url_check(const char *url, const char **ret_reason)
{
	const char *rest;
	int r;

	r = url_check_origin(url, &rest, ret_reason);
	if (r < 0)
		return r;

	if (rest[0] != '/') {
		set_reason(ret_reason, "SubscribeURL has no path");
		return -EINVAL;
	}
	if (strchr(rest, '#')) {
		set_reason(ret_reason, "SubscribeURL carries a fragment");
		return -EINVAL;
	}
	return 0;
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes canonical base64 (RFC 4648, section 4): a length that is a
 * multiple of four, at most two '=' at the very end, no white space and
 * zero bits where padding leaves them unused.
 */
static int base64_decode(const char *in, unsigned char *out, size_t out_max,
			 size_t *ret_len)
{
	size_t len = strnlen(in, SIGNATURE_B64_MAX + 1);
	size_t padding = 0;
	size_t out_len = 0;

	if (len == 0 || len > SIGNATURE_B64_MAX || len % 4 != 0)
		return -EINVAL;
	if (in[len - 1] == '=')
		padding = in[len - 2] == '=' ? 2 : 1;

	for (size_t i = 0; i < len; i += 4) {
		bool last = i + 4 == len;
		int v[4];
		uint32_t triple;

		for (size_t j = 0; j < 4; j++) {
			if (last && j >= 4 - padding) {
				v[j] = 0;
				continue;
			}
			v[j] = base64_value(in[i + j]);
			if (v[j] < 0)
				return -EINVAL;
		}

		if (last && padding == 2 && (v[1] & 0x0f))
			return -EINVAL;
		if (last && padding == 1 && (v[2] & 0x03))
			return -EINVAL;

		triple = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			 (uint32_t)v[2] << 6 | (uint32_t)v[3];
		for (size_t j = 0; j < 3 - (last ? padding : 0); j++) {
			if (out_len >= out_max)
				return -E2BIG;
			out[out_len++] =
				(unsigned char)(triple >> (16 - 8 * j));
		}
	}

	*ret_len = out_len;
	return 0;
}

int sns_verify(const struct sns_message *msg, EVP_PKEY *key,
	       const char **ret_reason)
{
	unsigned char signature[SNS_SIGNATURE_MAX];
	size_t signature_len;
	EVP_PKEY_CTX *key_ctx = NULL;
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	char *text = NULL;
	size_t text_len;
	int r;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		set_reason(ret_reason, "the signing key is not RSA");
		return -EINVAL;
	}

	if (msg->signature_version == 1) {
		md = EVP_sha1();
	} else if (msg->signature_version == 2) {
		md = EVP_sha256();
	} else {
		set_reason(ret_reason, "SignatureVersion is neither 1 nor 2");
		return -EINVAL;
	}

	if (!msg->signature ||
	    base64_decode(msg->signature, signature, sizeof(signature),
			  &signature_len) < 0) {
		set_reason(ret_reason, "Signature is not canonical base64 of "
				       "at most 1024 bytes");
		return -EBADMSG;
	}

	r = sns_string_to_sign(msg, &text, &text_len);
	if (r < 0) {
		set_reason(ret_reason, "the string to sign cannot be built");
		goto out;
	}

	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		r = -ENOMEM;
		goto out;
	}

	if (EVP_DigestVerifyInit(ctx, &key_ctx, md, NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(key_ctx, RSA_PKCS1_PADDING) <= 0) {
		set_reason(ret_reason, "the signing key cannot verify");
		r = -EINVAL;
		goto out;
	}

	if (EVP_DigestVerify(ctx, signature, signature_len,
			     (const unsigned char *)text, text_len) != 1) {
		set_reason(ret_reason, "Signature does not match the message");
		r = -EBADMSG;
		goto out;
	}
	r = 0;
out:
	if (r == -ENOMEM)
		set_reason(ret_reason, "out of memory");
	/* A failed verification leaves errors queued; they are ours. */
	if (r < 0)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(text);
	return r;
}
