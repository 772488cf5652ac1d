/*
 * Fuzz target: the string SNS signs (sns_string_to_sign()), checked
 * against the test suite's own construction from the JSON object
 * (tests/support/testkeys.c, written apart on purpose), and signature
 * verification over the input's own Signature with a real SNS key.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "certs.h"
#include "fuzz.h"
#include "sns.h"
#include "testkeys.h"
#include "util.h"

/* A real SNS signing certificate that signed none of the seeds. */
#define CERT FIXTURES_DIR "/sns/real-signed/certs/not-the-signer-2016.pem"

static struct certs_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *reason = NULL;
	char *pem = NULL;
	size_t len = 0;

	if (util_read_file(CERT, CERTS_PEM_MAX, &pem, &len) < 0 ||
	    certs_parse_pem(pem, len, &key, &reason) < 0)
		abort();
	free(pem);
	return 0;
}

/* The same envelope as JSON; NULL when jansson reads it otherwise. */
static json_t *as_json(const uint8_t *data, size_t size)
{
	return json_loadb((const char *)data, size,
			  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sns_message *msg = NULL;
	const char *reason = NULL;
	char *text = NULL;
	char *expected = NULL;
	size_t text_len = 0;
	size_t expected_len = 0;
	json_t *envelope = NULL;
	int r;

	if (sns_parse((const char *)data, size, &msg, &reason) < 0)
		return 0;

	r = sns_string_to_sign(msg, &text, &text_len);
	FUZZ_CHECK(r == 0 || r == -ENOMEM);
	if (r < 0)
		goto out;

	/* Key, newline, value, newline; the keys in SNS's order. */
	FUZZ_CHECK(text_len == strlen(text));
	FUZZ_CHECK(text_len > 0 && text[text_len - 1] == '\n');
	FUZZ_CHECK(strncmp(text, "Message\n", 8) == 0);

	envelope = as_json(data, size);
	FUZZ_CHECK(envelope);
	expected = testkey_string_to_sign(envelope, &expected_len);
	FUZZ_CHECK(expected);
	FUZZ_CHECK(expected_len == text_len);
	FUZZ_CHECK(memcmp(expected, text, text_len) == 0);

	/* The input's own Signature never verifies under a key that
	 * signed none of them, and a malformed one is refused as such,
	 * not as an error of ours. */
	r = sns_verify(msg, key.key, &reason);
	FUZZ_CHECK(r == -EBADMSG);
	FUZZ_CHECK(reason);
out:
	free(expected);
	free(text);
	json_decref(envelope);
	sns_message_free(msg);
	return 0;
}
