/*
 * certs: an SNS signing certificate in PEM, checked and reduced to its
 * public key. Fetching and caching live in the daemon.
 */
#ifndef ALERTBRIDGE_CERTS_H
#define ALERTBRIDGE_CERTS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A certificate reduced to what verification needs. */
struct certs_key {
	EVP_PKEY *key;
	int64_t not_before_s; /* validity, in whole seconds since the epoch */
	int64_t not_after_s;  /* inclusive */
};

/*
 * Parses a PEM certificate into its RSA key and validity dates, without
 * judging the dates. Errors as for certs_load_pem(), but -EKEYEXPIRED.
 */
int certs_parse_pem(const char *pem, size_t len, struct certs_key *ret_key,
		    const char **ret_reason);

/* 0 when as_of_ms falls within the validity, else -EKEYEXPIRED. */
int certs_check_validity(const struct certs_key *ck, int64_t as_of_ms,
			 const char **ret_reason);

/* Frees the key; takes NULL. */
void certs_key_release(struct certs_key *ck);

/*
 * Parses a PEM certificate and checks that it is valid at as_of_ms
 * (notBefore <= as_of <= notAfter). With check_validity false the dates
 * are not checked (a test-only setting). On success *ret_key holds a
 * reference the caller frees with EVP_PKEY_free(), and *ret_not_after_ms
 * (when not NULL) the certificate's end of validity.
 */
int certs_load_pem(const char *pem, size_t len, int64_t as_of_ms,
		   int check_validity, EVP_PKEY **ret_key,
		   int64_t *ret_not_after_ms, const char **ret_reason);

/*
 * Errors of certs_load_pem(), each with a reason: -EINVAL when the
 * input is larger than CERTS_PEM_MAX bytes or holds no PEM certificate,
 * -EKEYEXPIRED when as_of_ms falls outside its validity, and
 * -EKEYREJECTED when its key is not RSA of at least CERTS_RSA_MIN_BITS.
 * Validity is judged in whole seconds, as X.509 states it: a notAfter
 * of 23:59:59 still holds at 23:59:59.999.
 */
#define CERTS_PEM_MAX      (64 * 1024)
#define CERTS_RSA_MIN_BITS 2048

#endif
