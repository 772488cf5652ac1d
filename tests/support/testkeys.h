/*
 * testkeys: an RSA key and a self-signed certificate made at test time,
 * and SNS envelopes signed with them, for the types and signature
 * versions no real fixture has. The string to sign is built here on its
 * own, not with lib/sns.c, so that the two check each other.
 */
#ifndef ALERTBRIDGE_TESTKEYS_H
#define ALERTBRIDGE_TESTKEYS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct testkey {
	EVP_PKEY *key;
	X509 *cert;
	char *cert_pem;
};

/* A 2048-bit RSA key and a certificate valid over [not_before, after]. */
int testkey_generate(int64_t not_before_ms, int64_t not_after_ms,
		     struct testkey **ret_key);
void testkey_free(struct testkey *key);

/* Writes the certificate as PEM to dir/file_name. */
int testkey_write_cert(const struct testkey *key, const char *dir,
		       const char *file_name);

/*
 * Signs envelope in place: sets SignatureVersion (1 or 2), the
 * SigningCertURL (cert_url) and Signature over the fields already in
 * it, then returns the encoded body (free() it).
 */
char *testkey_sign_envelope(const struct testkey *key, json_t *envelope,
			    int version, const char *cert_url);

/*
 * A Notification envelope with the given fields (subject may be NULL)
 * and a Timestamp of timestamp_ms, ready for testkey_sign_envelope().
 */
json_t *testkey_notification(const char *message_id, const char *topic_arn,
			     const char *subject, const char *message,
			     int64_t timestamp_ms);

/*
 * A SubscriptionConfirmation or UnsubscribeConfirmation envelope (type
 * spelled as SNS does) with the given fields, a Message like the one SNS
 * sends and a Timestamp of timestamp_ms, ready for
 * testkey_sign_envelope().
 */
json_t *testkey_confirmation(const char *type, const char *message_id,
			     const char *topic_arn, const char *token,
			     const char *subscribe_url, int64_t timestamp_ms);

/*
 * The string SNS signs for envelope, built from the JSON object alone
 * (free() it; *ret_len gets its length). NULL when a field it needs is
 * missing.
 */
char *testkey_string_to_sign(json_t *envelope, size_t *ret_len);

/*
 * A certificate authority for test TLS servers: a key and a self-signed
 * CA certificate named common_name, valid from a day before now to a
 * day after.
 */
int testkey_generate_ca(const char *common_name, struct testkey **ret_ca);

/*
 * A TLS server key and a certificate for dns_names (NULL-ended, at
 * least one; the first is also the common name), signed by ca and valid
 * from a day before now to a day after.
 */
int testkey_generate_server(const struct testkey *ca,
			    const char *const *dns_names,
			    struct testkey **ret_key);

/* The private key as PKCS#8 PEM (free() it); NULL on failure. */
char *testkey_key_pem(const struct testkey *key);

#endif
