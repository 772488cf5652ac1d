/*
 * certs: an SNS signing certificate reduced to its public key.
 *
 * Trust in the certificate comes from where it was fetched (an https URL
 * that sns_cert_url_check() accepted, over a verified TLS connection),
 * not from a chain check here; this module only reads it, checks its
 * dates and hands back a key fit for SNS signatures.
 */
#include "certs.h"

#include <errno.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static void set_reason(const char **ret_reason, const char *reason)
{
	if (ret_reason)
		*ret_reason = reason;
}

static int asn1_time_seconds(const ASN1_TIME *time, int64_t *ret_seconds)
{
	struct tm tm;

	if (!time || ASN1_TIME_to_tm(time, &tm) != 1)
		return -EINVAL;

	*ret_seconds = (int64_t)timegm(&tm);
	return 0;
}

/* Milliseconds to whole seconds, rounding towards the past. */
static int64_t floor_seconds(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static int check_key(EVP_PKEY *key, const char **ret_reason)
{
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		set_reason(ret_reason, "the certificate's key is not RSA");
		return -EKEYREJECTED;
	}
	if (EVP_PKEY_get_bits(key) < CERTS_RSA_MIN_BITS) {
		set_reason(ret_reason, "the certificate's RSA key is shorter "
				       "than 2048 bits");
		return -EKEYREJECTED;
	}
	return 0;
}

void certs_key_release(struct certs_key *ck)
{
	if (!ck)
		return;
	EVP_PKEY_free(ck->key);
	ck->key = NULL;
}

int certs_parse_pem(const char *pem, size_t len, struct certs_key *ret_key,
		    const char **ret_reason)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	int64_t not_before;
	int64_t not_after;
	int r;

	if (len == 0 || len > CERTS_PEM_MAX) {
		set_reason(ret_reason, "the certificate is empty or larger "
				       "than 64 KiB");
		return -EINVAL;
	}

	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		r = -ENOMEM;
		goto out;
	}

	/* A certificate is never encrypted: no pass phrase is asked for. */
	cert = PEM_read_bio_X509(bio, NULL, NULL, (void *)"");
	if (!cert) {
		set_reason(ret_reason, "no PEM certificate could be read");
		r = -EINVAL;
		goto out;
	}

	if (asn1_time_seconds(X509_get0_notBefore(cert), &not_before) < 0 ||
	    asn1_time_seconds(X509_get0_notAfter(cert), &not_after) < 0) {
		set_reason(ret_reason, "the certificate's validity dates "
				       "cannot be read");
		r = -EINVAL;
		goto out;
	}

	key = X509_get_pubkey(cert);
	if (!key) {
		set_reason(ret_reason, "the certificate's key cannot be read");
		r = -EINVAL;
		goto out;
	}

	r = check_key(key, ret_reason);
	if (r < 0)
		goto out;

	ret_key->key = key;
	ret_key->not_before_s = not_before;
	ret_key->not_after_s = not_after;
	key = NULL;
	r = 0;
out:
	if (r == -ENOMEM)
		set_reason(ret_reason, "out of memory");
	if (r < 0)
		ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(cert);
	BIO_free(bio);
	return r;
}

int certs_check_validity(const struct certs_key *ck, int64_t as_of_ms,
			 const char **ret_reason)
{
	/* RFC 5280, 4.1.2.5: valid from notBefore through notAfter. */
	int64_t as_of = floor_seconds(as_of_ms);

	if (as_of < ck->not_before_s) {
		set_reason(ret_reason, "the certificate is not valid yet");
		return -EKEYEXPIRED;
	}
	if (as_of > ck->not_after_s) {
		set_reason(ret_reason, "the certificate has expired");
		return -EKEYEXPIRED;
	}
	return 0;
}

int certs_load_pem(const char *pem, size_t len, int64_t as_of_ms,
		   int check_validity, EVP_PKEY **ret_key,
		   int64_t *ret_not_after_ms, const char **ret_reason)
{
	struct certs_key ck = {0};
	int r;

	r = certs_parse_pem(pem, len, &ck, ret_reason);
	if (r < 0)
		return r;

	if (check_validity) {
		r = certs_check_validity(&ck, as_of_ms, ret_reason);
		if (r < 0) {
			certs_key_release(&ck);
			return r;
		}
	}

	*ret_key = ck.key;
	if (ret_not_after_ms)
		*ret_not_after_ms = ck.not_after_s * 1000;
	return 0;
}
