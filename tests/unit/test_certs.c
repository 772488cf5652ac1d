/*
 * Tests of lib/certs.c: the real SNS signing certificates in the
 * fixtures, their validity windows, and certificates that must not be
 * taken (garbage, non-RSA and short keys).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certs.h"
#include "testkeys.h"
#include "util.h"

#define CERTS_DIR FIXTURES_DIR "/sns/real-signed/certs"

#define CERT_2022                                                              \
	"SimpleNotificationService-56e67fcb41f6fec09b0196692625d385.pem"
#define CERT_2015                                                              \
	"SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem"
#define CERT_2016 "not-the-signer-2016.pem"

/* CERT_2022: notBefore 2022-06-29T00:00:00Z, notAfter 2023-06-03T23:59:59Z */
#define CERT_2022_NOT_BEFORE INT64_C(1656460800000)
#define CERT_2022_NOT_AFTER  INT64_C(1685836799000)

static char *read_cert(const char *file_name, size_t *ret_len)
{
	char path[1024];
	char *data = NULL;

	snprintf(path, sizeof(path), "%s/%s", CERTS_DIR, file_name);
	assert_int_equal(util_read_file(path, CERTS_PEM_MAX, &data, ret_len),
			 0);
	return data;
}

/*
 * Loads pem and returns the result; on success checks that a key came
 * back, on failure that nothing was handed out and a reason was given.
 */
static int load(const char *pem, size_t len, int64_t as_of_ms,
		int check_validity, int64_t *ret_not_after_ms)
{
	EVP_PKEY *sentinel = (EVP_PKEY *)(uintptr_t)1;
	EVP_PKEY *key = sentinel;
	int64_t not_after = -1;
	const char *reason = NULL;
	int r;

	r = certs_load_pem(pem, len, as_of_ms, check_validity, &key, &not_after,
			   &reason);
	if (r == 0) {
		assert_ptr_not_equal(key, sentinel);
		assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_RSA);
		EVP_PKEY_free(key);
		if (ret_not_after_ms)
			*ret_not_after_ms = not_after;
	} else {
		assert_ptr_equal(key, sentinel);
		assert_int_equal(not_after, -1);
		assert_non_null(reason);
	}
	return r;
}

static void test_real_certs_load(void **state)
{
	static const struct {
		const char *file_name;
		int64_t not_after_ms;
	} certs[] = {
		{CERT_2022, CERT_2022_NOT_AFTER},
		/* 2016-08-21T23:59:59Z */
		{CERT_2015, INT64_C(1471823999000)},
		/* 2017-08-22T23:59:59Z */
		{CERT_2016, INT64_C(1503446399000)},
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(certs); i++) {
		int64_t not_after = 0;
		EVP_PKEY *key = NULL;
		size_t len;
		char *pem;

		pem = read_cert(certs[i].file_name, &len);
		assert_int_equal(load(pem, len, 0, 0, &not_after), 0);
		assert_int_equal(not_after, certs[i].not_after_ms);

		/* The end of validity is optional to ask for. */
		assert_int_equal(
			certs_load_pem(pem, len, 0, 0, &key, NULL, NULL), 0);
		assert_int_equal(EVP_PKEY_get_bits(key), 2048);
		EVP_PKEY_free(key);
		free(pem);
	}
}

static void test_expired_today(void **state)
{
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	const char *reason = NULL;
	EVP_PKEY *key = NULL;
	size_t len;
	char *pem;

	(void)state;

	pem = read_cert(CERT_2022, &len);
	assert_int_equal(load(pem, len, now_ms, 1, NULL), -EKEYEXPIRED);
	assert_int_equal(
		certs_load_pem(pem, len, now_ms, 1, &key, NULL, &reason),
		-EKEYEXPIRED);
	assert_string_equal(reason, "the certificate has expired");
	assert_null(key);

	/* Without the check (tests only) the same certificate loads. */
	assert_int_equal(load(pem, len, now_ms, 0, NULL), 0);
	free(pem);
}

static void test_validity_window(void **state)
{
	const char *reason = NULL;
	EVP_PKEY *key = NULL;
	size_t len;
	char *pem;

	(void)state;

	pem = read_cert(CERT_2022, &len);

	/* 2022-09-25T18:51:00Z, when the fixture message was sent. */
	assert_int_equal(load(pem, len, INT64_C(1664131860000), 1, NULL), 0);

	/* Both ends are inclusive, to the second. */
	assert_int_equal(load(pem, len, CERT_2022_NOT_BEFORE, 1, NULL), 0);
	assert_int_equal(load(pem, len, CERT_2022_NOT_AFTER, 1, NULL), 0);
	assert_int_equal(load(pem, len, CERT_2022_NOT_AFTER + 999, 1, NULL), 0);
	assert_int_equal(load(pem, len, CERT_2022_NOT_AFTER + 1000, 1, NULL),
			 -EKEYEXPIRED);
	assert_int_equal(load(pem, len, CERT_2022_NOT_BEFORE - 1, 1, NULL),
			 -EKEYEXPIRED);

	assert_int_equal(certs_load_pem(pem, len, CERT_2022_NOT_BEFORE - 1, 1,
					&key, NULL, &reason),
			 -EKEYEXPIRED);
	assert_string_equal(reason, "the certificate is not valid yet");

	/* Long before, and before the epoch. */
	assert_int_equal(load(pem, len, 0, 1, NULL), -EKEYEXPIRED);
	assert_int_equal(load(pem, len, -1, 1, NULL), -EKEYEXPIRED);
	free(pem);
}

static char *cert_pem_of(EVP_PKEY *key)
{
	X509_NAME *name;
	BUF_MEM *mem;
	char *pem;
	X509 *cert;
	BIO *bio;

	cert = X509_new();
	assert_non_null(cert);
	assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 3600));
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	name = X509_get_subject_name(cert);
	assert_int_equal(X509_NAME_add_entry_by_txt(
				 name, "CN", MBSTRING_ASC,
				 (const unsigned char *)"sns.amazonaws.com", -1,
				 -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(cert, name), 1);
	assert_true(X509_sign(cert, key, EVP_sha256()) > 0);

	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
	BIO_get_mem_ptr(bio, &mem);
	pem = strndup(mem->data, mem->length);
	BIO_free(bio);
	X509_free(cert);
	return pem;
}

static void test_non_rsa_refused(void **state)
{
	int64_t now_ms = (int64_t)time(NULL) * 1000;
	const char *reason = NULL;
	EVP_PKEY *key;
	EVP_PKEY *out = NULL;
	char *pem;

	(void)state;

	key = EVP_EC_gen("P-256");
	assert_non_null(key);
	pem = cert_pem_of(key);
	assert_int_equal(load(pem, strlen(pem), now_ms, 1, NULL),
			 -EKEYREJECTED);
	assert_int_equal(certs_load_pem(pem, strlen(pem), now_ms, 1, &out, NULL,
					&reason),
			 -EKEYREJECTED);
	assert_string_equal(reason, "the certificate's key is not RSA");
	free(pem);
	EVP_PKEY_free(key);

	/* RSA, but too short to trust. */
	key = EVP_RSA_gen(1024);
	assert_non_null(key);
	pem = cert_pem_of(key);
	assert_int_equal(load(pem, strlen(pem), now_ms, 1, NULL),
			 -EKEYREJECTED);
	free(pem);
	EVP_PKEY_free(key);

	/* The same code path takes a fresh 2048-bit RSA certificate. */
	key = EVP_RSA_gen(2048);
	assert_non_null(key);
	pem = cert_pem_of(key);
	assert_int_equal(load(pem, strlen(pem), now_ms, 1, NULL), 0);
	free(pem);
	EVP_PKEY_free(key);
}

static void test_garbage_refused(void **state)
{
	static const char *const garbage[] = {
		"hello",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
		"CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nnot base64!\n"
		"-----END CERTIFICATE-----\n",
	};
	BIO *bio;
	BUF_MEM *mem;
	EVP_PKEY *key;
	size_t len;
	char *pem;
	char *big;

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(garbage); i++)
		assert_int_equal(
			load(garbage[i], strlen(garbage[i]), 0, 0, NULL),
			-EINVAL);
	assert_int_equal(load("", 0, 0, 0, NULL), -EINVAL);

	/* A real certificate cut in half. */
	pem = read_cert(CERT_2022, &len);
	assert_int_equal(load(pem, len / 2, 0, 0, NULL), -EINVAL);

	/* The outer DER SEQUENCE tag turned into another tag. */
	assert_true(strncmp(pem + 28, "MII", 3) == 0);
	pem[28] = 'N';
	assert_int_equal(load(pem, len, 0, 0, NULL), -EINVAL);
	free(pem);

	/* A private key is not a certificate. */
	key = EVP_RSA_gen(2048);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(
		PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL),
		1);
	BIO_get_mem_ptr(bio, &mem);
	assert_int_equal(load(mem->data, mem->length, 0, 0, NULL), -EINVAL);
	BIO_free(bio);
	EVP_PKEY_free(key);

	/* Past the size bound, even with a good certificate first. */
	pem = read_cert(CERT_2022, &len);
	big = malloc(CERTS_PEM_MAX + 1);
	memset(big, '\n', CERTS_PEM_MAX + 1);
	memcpy(big, pem, len);
	assert_int_equal(load(big, CERTS_PEM_MAX, 0, 0, NULL), 0);
	assert_int_equal(load(big, CERTS_PEM_MAX + 1, 0, 0, NULL), -EINVAL);
	free(big);
	free(pem);
}

static void test_testkey_cert(void **state)
{
	/* 2024-01-01T00:00:00Z to 2024-02-01T00:00:00Z */
	const int64_t not_before = INT64_C(1704067200000);
	const int64_t not_after = INT64_C(1706745600000);
	char dir[] = "/tmp/test_certs.XXXXXX";
	struct testkey *testkey = NULL;
	int64_t got_not_after = 0;
	EVP_PKEY *key = NULL;
	char path[64];
	char *pem = NULL;
	size_t len = 0;

	(void)state;

	assert_int_equal(testkey_generate(not_before, not_after, &testkey), 0);
	assert_int_equal(certs_load_pem(testkey->cert_pem,
					strlen(testkey->cert_pem),
					not_before + 1000, 1, &key,
					&got_not_after, NULL),
			 0);
	assert_int_equal(got_not_after, not_after);
	assert_int_equal(EVP_PKEY_eq(key, testkey->key), 1);
	EVP_PKEY_free(key);

	assert_int_equal(load(testkey->cert_pem, strlen(testkey->cert_pem),
			      not_after + 1000, 1, NULL),
			 -EKEYEXPIRED);

	/* Written to a directory, as the daemon's local certificates are. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(testkey_write_cert(testkey, dir, "test.pem"), 0);
	snprintf(path, sizeof(path), "%s/test.pem", dir);
	assert_int_equal(util_read_file(path, CERTS_PEM_MAX, &pem, &len), 0);
	assert_int_equal(len, strlen(testkey->cert_pem));
	assert_memory_equal(pem, testkey->cert_pem, len);
	assert_int_equal(load(pem, len, not_before, 1, NULL), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(testkey_write_cert(testkey, dir, "test.pem"), -ENOENT);

	free(pem);
	testkey_free(testkey);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_certs_load),
		cmocka_unit_test(test_expired_today),
		cmocka_unit_test(test_validity_window),
		cmocka_unit_test(test_non_rsa_refused),
		cmocka_unit_test(test_garbage_refused),
		cmocka_unit_test(test_testkey_cert),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
