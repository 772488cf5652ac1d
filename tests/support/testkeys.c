/*
 * testkeys: test-time RSA keys, certificates and signed SNS envelopes.
 *
 * The string to sign is rebuilt here from the JSON object, following the
 * SNS developer guide on its own, so that a mistake in lib/sns.c cannot
 * be copied into the oracle that checks it.
 */
#include "testkeys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#define TESTKEY_BITS   2048
#define TESTKEY_DAY_MS (24 * 3600 * 1000LL)

static int set_time(ASN1_TIME *field, int64_t ms)
{
	return ASN1_TIME_set(field, (time_t)(ms / 1000)) ? 0 : -EINVAL;
}

static char *cert_to_pem(X509 *cert)
{
	BUF_MEM *mem = NULL;
	char *pem = NULL;
	BIO *bio;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;

	if (PEM_write_bio_X509(bio, cert) != 1)
		goto out;

	BIO_get_mem_ptr(bio, &mem);
	pem = malloc(mem->length + 1);
	if (!pem)
		goto out;
	memcpy(pem, mem->data, mem->length);
	pem[mem->length] = '\0';
out:
	BIO_free(bio);
	return pem;
}

static X509 *self_signed_cert(EVP_PKEY *key, int64_t not_before_ms,
			      int64_t not_after_ms)
{
	X509_NAME *name;
	X509 *cert;

	cert = X509_new();
	if (!cert)
		return NULL;

	if (X509_set_version(cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
	    set_time(X509_getm_notBefore(cert), not_before_ms) < 0 ||
	    set_time(X509_getm_notAfter(cert), not_after_ms) < 0 ||
	    X509_set_pubkey(cert, key) != 1)
		goto fail;

	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(
		    name, "CN", MBSTRING_ASC,
		    (const unsigned char *)"sns.amazonaws.com", -1, -1,
		    0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1)
		goto fail;

	if (X509_sign(cert, key, EVP_sha256()) <= 0)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

int testkey_generate(int64_t not_before_ms, int64_t not_after_ms,
		     struct testkey **ret_key)
{
	struct testkey *key;
	int r = -ENOMEM;

	key = calloc(1, sizeof(*key));
	if (!key)
		return -ENOMEM;

	key->key = EVP_RSA_gen(TESTKEY_BITS);
	if (!key->key)
		goto out;

	key->cert = self_signed_cert(key->key, not_before_ms, not_after_ms);
	if (!key->cert)
		goto out;

	key->cert_pem = cert_to_pem(key->cert);
	if (!key->cert_pem)
		goto out;

	*ret_key = key;
	key = NULL;
	r = 0;
out:
	testkey_free(key);
	return r;
}

void testkey_free(struct testkey *key)
{
	if (!key)
		return;

	EVP_PKEY_free(key->key);
	X509_free(key->cert);
	free(key->cert_pem);
	free(key);
}

int testkey_write_cert(const struct testkey *key, const char *dir,
		       const char *file_name)
{
	char path[4096];
	size_t len = strlen(key->cert_pem);
	FILE *f;
	int r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file_name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;

	f = fopen(path, "we");
	if (!f)
		return -errno;

	if (fwrite(key->cert_pem, 1, len, f) != len)
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int append(char **buf, size_t *len, const char *data, size_t n)
{
	char *grown = realloc(*buf, *len + n + 1);

	if (!grown)
		return -ENOMEM;

	memcpy(grown + *len, data, n);
	*len += n;
	grown[*len] = '\0';
	*buf = grown;
	return 0;
}

/*
 * From the SNS developer guide: the values of "Message, MessageId,
 * Subject (if included), Timestamp, TopicArn, Type" for a Notification
 * and of "Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn,
 * Type" for the confirmations, each as the key, a newline, the value and
 * a newline.
 */
char *testkey_string_to_sign(json_t *envelope, size_t *ret_len)
{
	static const char *const notification[] = {
		"Message",  "MessageId", "Subject", "Timestamp",
		"TopicArn", "Type",      NULL,
	};
	static const char *const confirmation[] = {
		"Message", "MessageId", "SubscribeURL", "Timestamp",
		"Token",   "TopicArn",  "Type",         NULL,
	};
	const char *const *keys;
	const char *type;
	char *buf = NULL;
	size_t len = 0;

	type = json_string_value(json_object_get(envelope, "Type"));
	if (!type)
		return NULL;
	keys = strcmp(type, "Notification") == 0 ? notification : confirmation;

	for (size_t i = 0; keys[i]; i++) {
		json_t *value = json_object_get(envelope, keys[i]);

		if (!json_is_string(value)) {
			if (strcmp(keys[i], "Subject") == 0)
				continue;
			free(buf);
			return NULL;
		}

		if (append(&buf, &len, keys[i], strlen(keys[i])) < 0 ||
		    append(&buf, &len, "\n", 1) < 0 ||
		    append(&buf, &len, json_string_value(value),
			   json_string_length(value)) < 0 ||
		    append(&buf, &len, "\n", 1) < 0) {
			free(buf);
			return NULL;
		}
	}

	*ret_len = len;
	return buf;
}

static char *sign_base64(EVP_PKEY *key, const EVP_MD *md, const char *text,
			 size_t text_len)
{
	unsigned char *signature = NULL;
	size_t signature_len = 0;
	char *encoded = NULL;
	EVP_MD_CTX *ctx;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return NULL;

	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &signature_len,
			   (const unsigned char *)text, text_len) != 1)
		goto out;

	signature = malloc(signature_len);
	if (!signature ||
	    EVP_DigestSign(ctx, signature, &signature_len,
			   (const unsigned char *)text, text_len) != 1)
		goto out;

	encoded = malloc(4 * ((signature_len + 2) / 3) + 1);
	if (encoded)
		EVP_EncodeBlock((unsigned char *)encoded, signature,
				(int)signature_len);
out:
	free(signature);
	EVP_MD_CTX_free(ctx);
	return encoded;
}

char *testkey_sign_envelope(const struct testkey *key, json_t *envelope,
			    int version, const char *cert_url)
{
	const EVP_MD *md;
	char *signature = NULL;
	char *body = NULL;
	char *text;
	size_t text_len;

	if (version != 1 && version != 2)
		return NULL;
	md = version == 1 ? EVP_sha1() : EVP_sha256();

	if (json_object_set_new(envelope, "SignatureVersion",
				json_string(version == 1 ? "1" : "2")) < 0 ||
	    json_object_set_new(envelope, "SigningCertURL",
				json_string(cert_url)) < 0)
		return NULL;

	text = testkey_string_to_sign(envelope, &text_len);
	if (!text)
		return NULL;

	signature = sign_base64(key->key, md, text, text_len);
	if (!signature)
		goto out;

	if (json_object_set_new(envelope, "Signature", json_string(signature)) <
	    0)
		goto out;

	body = json_dumps(envelope, JSON_INDENT(2));
out:
	free(signature);
	free(text);
	return body;
}

static void format_timestamp(int64_t ms, char out[32])
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&seconds, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

json_t *testkey_notification(const char *message_id, const char *topic_arn,
			     const char *subject, const char *message,
			     int64_t timestamp_ms)
{
	char timestamp[32];
	json_t *envelope;

	format_timestamp(timestamp_ms, timestamp);
	envelope =
		json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", "Notification",
			  "MessageId", message_id, "TopicArn", topic_arn,
			  "Message", message, "Timestamp", timestamp);
	if (!envelope)
		return NULL;

	if (subject && json_object_set_new(envelope, "Subject",
					   json_string(subject)) < 0) {
		json_decref(envelope);
		return NULL;
	}
	return envelope;
}

json_t *testkey_confirmation(const char *type, const char *message_id,
			     const char *topic_arn, const char *token,
			     const char *subscribe_url, int64_t timestamp_ms)
{
	char timestamp[32];
	char message[512];

	format_timestamp(timestamp_ms, timestamp);
	if (strcmp(type, "UnsubscribeConfirmation") == 0)
		snprintf(message, sizeof(message),
			 "You have chosen to deactivate subscription %s.\n"
			 "To cancel this operation and restore the "
			 "subscription, visit the SubscribeURL included in "
			 "this message.",
			 topic_arn);
	else
		snprintf(message, sizeof(message),
			 "You have chosen to subscribe to the topic %s.\n"
			 "To confirm the subscription, visit the "
			 "SubscribeURL included in this message.",
			 topic_arn);

	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Type", type,
			 "MessageId", message_id, "Token", token, "TopicArn",
			 topic_arn, "Message", message, "SubscribeURL",
			 subscribe_url, "Timestamp", timestamp);
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds an extension written as in openssl.cnf (x509v3_config(5)). */
static int add_extension(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	int r = 0;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -EINVAL;

	if (X509_add_ext(cert, ext, -1) != 1)
		r = -EINVAL;
	X509_EXTENSION_free(ext);
	return r;
}

/* A random serial: two certificates of one issuer must not share one. */
static int set_random_serial(X509 *cert)
{
	unsigned char bytes[16];
	BIGNUM *bn;
	int r = -EINVAL;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		return -EIO;
	bytes[0] &= 0x7f;

	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	if (bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
		r = 0;
	BN_free(bn);
	return r;
}

/*
 * An unsigned certificate for key named common_name, valid a day either
 * side of now, under issuer's name (its own when issuer is NULL).
 */
static X509 *new_cert(EVP_PKEY *key, const char *common_name, X509 *issuer)
{
	int64_t now = wall_ms();
	X509_NAME *name;
	X509 *cert;

	cert = X509_new();
	if (!cert)
		return NULL;

	if (X509_set_version(cert, X509_VERSION_3) != 1 ||
	    set_random_serial(cert) < 0 ||
	    set_time(X509_getm_notBefore(cert), now - TESTKEY_DAY_MS) < 0 ||
	    set_time(X509_getm_notAfter(cert), now + TESTKEY_DAY_MS) < 0 ||
	    X509_set_pubkey(cert, key) != 1)
		goto fail;

	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)common_name, -1,
				       -1, 0) != 1)
		goto fail;

	if (X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer)
					      : name) != 1)
		goto fail;
	return cert;
fail:
	X509_free(cert);
	return NULL;
}

int testkey_generate_ca(const char *common_name, struct testkey **ret_ca)
{
	struct testkey *ca;
	int r = -ENOMEM;

	ca = calloc(1, sizeof(*ca));
	if (!ca)
		return -ENOMEM;

	ca->key = EVP_RSA_gen(TESTKEY_BITS);
	if (!ca->key)
		goto out;

	ca->cert = new_cert(ca->key, common_name, NULL);
	if (!ca->cert)
		goto out;

	r = -EINVAL;
	if (add_extension(ca->cert, ca->cert, NID_basic_constraints,
			  "critical,CA:TRUE") < 0 ||
	    add_extension(ca->cert, ca->cert, NID_key_usage,
			  "critical,keyCertSign,cRLSign") < 0 ||
	    add_extension(ca->cert, ca->cert, NID_subject_key_identifier,
			  "hash") < 0)
		goto out;

	if (X509_sign(ca->cert, ca->key, EVP_sha256()) <= 0)
		goto out;

	r = -ENOMEM;
	ca->cert_pem = cert_to_pem(ca->cert);
	if (!ca->cert_pem)
		goto out;

	*ret_ca = ca;
	ca = NULL;
	r = 0;
out:
	testkey_free(ca);
	return r;
}

/* "DNS:a,DNS:b" for the subjectAltName extension. */
static char *alt_names(const char *const *dns_names)
{
	char *text = NULL;
	size_t len = 0;

	for (size_t i = 0; dns_names[i]; i++) {
		if ((i > 0 && append(&text, &len, ",", 1) < 0) ||
		    append(&text, &len, "DNS:", 4) < 0 ||
		    append(&text, &len, dns_names[i], strlen(dns_names[i])) <
			    0) {
			free(text);
			return NULL;
		}
	}
	return text;
}

int testkey_generate_server(const struct testkey *ca,
			    const char *const *dns_names,
			    struct testkey **ret_key)
{
	struct testkey *key;
	char *names = NULL;
	int r = -EINVAL;

	if (!dns_names || !dns_names[0])
		return -EINVAL;

	key = calloc(1, sizeof(*key));
	if (!key)
		return -ENOMEM;

	r = -ENOMEM;
	names = alt_names(dns_names);
	key->key = EVP_RSA_gen(TESTKEY_BITS);
	if (!names || !key->key)
		goto out;

	key->cert = new_cert(key->key, dns_names[0], ca->cert);
	if (!key->cert)
		goto out;

	r = -EINVAL;
	if (add_extension(key->cert, ca->cert, NID_basic_constraints,
			  "CA:FALSE") < 0 ||
	    add_extension(key->cert, ca->cert, NID_key_usage,
			  "critical,digitalSignature,keyEncipherment") < 0 ||
	    add_extension(key->cert, ca->cert, NID_ext_key_usage,
			  "serverAuth") < 0 ||
	    add_extension(key->cert, ca->cert, NID_subject_alt_name, names) <
		    0 ||
	    add_extension(key->cert, ca->cert, NID_authority_key_identifier,
			  "keyid:always") < 0)
		goto out;

	if (X509_sign(key->cert, ca->key, EVP_sha256()) <= 0)
		goto out;

	r = -ENOMEM;
	key->cert_pem = cert_to_pem(key->cert);
	if (!key->cert_pem)
		goto out;

	*ret_key = key;
	key = NULL;
	r = 0;
out:
	free(names);
	testkey_free(key);
	return r;
}

char *testkey_key_pem(const struct testkey *key)
{
	BUF_MEM *mem = NULL;
	char *pem = NULL;
	BIO *bio;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;

	if (PEM_write_bio_PrivateKey(bio, key->key, NULL, NULL, 0, NULL,
				     NULL) != 1)
		goto out;

	BIO_get_mem_ptr(bio, &mem);
	pem = malloc(mem->length + 1);
	if (!pem)
		goto out;
	memcpy(pem, mem->data, mem->length);
	pem[mem->length] = '\0';
out:
	BIO_free(bio);
	return pem;
}
