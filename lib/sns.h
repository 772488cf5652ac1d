/*
 * sns: the Amazon SNS HTTP(S) envelope: parsing, header agreement, the
 * string to sign, the certificate URL policy and signature verification.
 *
 * Nothing in a message may be trusted before sns_verify() accepts it.
 */
#ifndef ALERTBRIDGE_SNS_H
#define ALERTBRIDGE_SNS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

enum sns_type {
	SNS_TYPE_NOTIFICATION,
	SNS_TYPE_SUBSCRIPTION_CONFIRMATION,
	SNS_TYPE_UNSUBSCRIBE_CONFIRMATION,
};

/*
 * One decoded envelope. Strings are the JSON-decoded values (UTF-8);
 * those a type does not carry are NULL. subject is NULL when absent
 * (SNS leaves it out of the string to sign then).
 */
struct sns_message {
	enum sns_type type;
	int signature_version; /* 1 (SHA1withRSA) or 2 (SHA256withRSA) */
	char *type_name;
	char *message_id;
	char *topic_arn;
	char *subject;
	char *message;
	size_t message_len;
	char *timestamp;
	int64_t timestamp_ms;
	char *signature;
	char *signing_cert_url;
	char *subscribe_url;
	char *token;
	char *unsubscribe_url;
};

/*
 * Parses an envelope. Every field a type requires must be a string;
 * SignatureVersion must be "1" or "2". On failure returns -EINVAL (or
 * -ENOMEM) and points *ret_reason at a static one-line reason.
 */
int sns_parse(const char *body, size_t len, struct sns_message **ret_msg,
	      const char **ret_reason);

/*
 * The largest envelope sns_parse() reads. SNS caps a published message
 * at 256 KiB; JSON escaping in the envelope can grow that, so the bound
 * leaves room for it.
 */
#define SNS_ENVELOPE_MAX (1024 * 1024)

/*
 * Further rules of sns_parse():
 * - HTTP deliveries spell SigningCertURL; the Lambda spelling
 *   SigningCertUrl is refused with a reason that says so.
 * - A string holding \u0000 is refused: nothing downstream could carry
 *   the NUL through C strings, and SNS messages are text. So message_len
 *   always equals strlen(message).
 * - Duplicate keys and trailing bytes after the object are refused.
 * - Subject is read for a Notification only; a JSON null counts as
 *   absent. UnsubscribeURL is kept for a Notification when present, but
 *   SNS does not sign it: treat it as untrusted even after sns_verify().
 * - Timestamp must parse with timeutil_parse() into timestamp_ms.
 */

void sns_message_free(struct sns_message *msg);

/* Name of a type as SNS spells it ("Notification", ...). */
const char *sns_type_name(enum sns_type type);

/*
 * Checks that the x-amz-sns-message-type, -message-id and -topic-arn
 * headers, each where present (NULL when absent), agree with the body.
 */
int sns_check_headers(const struct sns_message *msg, const char *hdr_type,
		      const char *hdr_message_id, const char *hdr_topic_arn,
		      const char **ret_reason);

/*
 * Builds the string SNS signs: for a Notification the keys Message,
 * MessageId, Subject (only when present), Timestamp, TopicArn, Type;
 * for the confirmations Message, MessageId, SubscribeURL, Timestamp,
 * Token, TopicArn, Type; each as "Key\nValue\n".
 */
int sns_string_to_sign(const struct sns_message *msg, char **ret_str,
		       size_t *ret_len);

/*
 * The certificate URL policy. The URL is parsed, never matched as a
 * substring: https only, no userinfo, no port but 443, host exactly
 * sns.<region>.amazonaws.com or sns.<region>.amazonaws.com.cn, path
 * /SimpleNotificationService-<alnum>.pem, no query or fragment. On
 * success *ret_file_name gets the last path segment (malloc'd), which
 * keys the local certificate directory and the cache.
 */
int sns_cert_url_check(const char *url, char **ret_file_name,
		       const char **ret_reason);

/*
 * The policy for a SubscribeURL: https, no userinfo, port 443, host as
 * for certificates; any path and query.
 */
int sns_subscribe_url_check(const char *url, const char **ret_reason);

/*
 * True when region is shaped like an AWS region code (us-east-1,
 * us-gov-west-1, cn-north-1, eu-central-2, ap-southeast-4, ...).
 */
int sns_region_valid(const char *region);

/*
 * Verifies the Signature (base64) over the string to sign with the
 * certificate's public key: SHA1withRSA for version 1, SHA256withRSA for
 * version 2. Returns 0 when it verifies, -EBADMSG when it does not.
 */
int sns_verify(const struct sns_message *msg, EVP_PKEY *key,
	       const char **ret_reason);

/*
 * Further rules of sns_verify(): the Signature must be canonical base64
 * (no white space, padding only at the end) of at most
 * SNS_SIGNATURE_MAX bytes, else -EBADMSG. A key that is not RSA, or a
 * message whose signature_version is neither 1 nor 2, gives -EINVAL.
 */
#define SNS_SIGNATURE_MAX 1024

/* The longest URL the URL policies read. */
#define SNS_URL_MAX 2048

#endif
