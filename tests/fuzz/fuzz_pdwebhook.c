/*
 * Fuzz target: the PagerDuty webhook: the signature header
 * (pdwebhook_verify()) and the body (pdwebhook_parse()). The input is
 * the header's value, a newline, then the body. The body's true
 * signature, made here, must verify alone and among other entries; the
 * input's own header must not, short of an HMAC collision.
 */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fuzz.h"
#include "pdwebhook.h"

#define SECRET "whsec-fuzz-0123456789abcdef"

static void true_signature(const char *body, size_t len, char out[68])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;

	if (!HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
		  (const unsigned char *)body, len, mac, &mac_len) ||
	    mac_len != 32)
		abort();
	memcpy(out, "v1=", 3);
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", mac[i]);
}

static void check_verify(const char *header, const char *body, size_t len)
{
	const char *reason = NULL;
	char good[68];
	char both[256];
	int r;

	r = pdwebhook_verify(body, len, header, SECRET, &reason);
	FUZZ_CHECK(r == -EBADMSG || r == -EPERM || r == -EIO);
	FUZZ_CHECK(reason && !strchr(reason, '\n'));

	true_signature(body, len, good);
	FUZZ_CHECK(pdwebhook_verify(body, len, good, SECRET, NULL) == 0);
	snprintf(both, sizeof(both), "v1=%064d, %s,v0=x", 0, good);
	FUZZ_CHECK(pdwebhook_verify(body, len, both, SECRET, NULL) == 0);
	FUZZ_CHECK(pdwebhook_verify(body, len, good, "another secret", NULL) ==
		   -EPERM);
}

static void check_bounded(const char *s, size_t max)
{
	if (s)
		FUZZ_CHECK(*s && strlen(s) <= max);
}

static void check_event(const struct pdwebhook_event *e)
{
	FUZZ_CHECK(e->event_type && *e->event_type);
	FUZZ_CHECK(strlen(e->event_type) <= PDWEBHOOK_ID_MAX);
	check_bounded(e->id, PDWEBHOOK_ID_MAX);
	check_bounded(e->resource_type, PDWEBHOOK_ID_MAX);
	check_bounded(e->agent_id, PDWEBHOOK_ID_MAX);
	check_bounded(e->agent_type, PDWEBHOOK_ID_MAX);
	check_bounded(e->agent_summary, PDWEBHOOK_TEXT_MAX);
	check_bounded(e->incident_id, PDWEBHOOK_ID_MAX);
	check_bounded(e->incident_key, PDWEBHOOK_INCIDENT_KEY_MAX);
	check_bounded(e->incident_status, PDWEBHOOK_ID_MAX);
	check_bounded(e->title, PDWEBHOOK_TEXT_MAX);
	check_bounded(e->html_url, PDWEBHOOK_URL_MAX);

	/* A type that acts names itself, on an incident. */
	if (e->type != PDWEBHOOK_EVENT_OTHER) {
		static const char *const names[] = {
			[PDWEBHOOK_EVENT_ACKNOWLEDGED] =
				"incident.acknowledged",
			[PDWEBHOOK_EVENT_RESOLVED] = "incident.resolved",
			[PDWEBHOOK_EVENT_UNACKNOWLEDGED] =
				"incident.unacknowledged",
			[PDWEBHOOK_EVENT_REOPENED] = "incident.reopened",
		};

		FUZZ_CHECK(!strcmp(e->event_type, names[e->type]));
		FUZZ_CHECK(e->resource_type &&
			   !strcmp(e->resource_type, "incident"));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *newline = memchr(data, '\n', size);
	size_t header_len = newline ? (size_t)(newline - data) : 0;
	char *header = fuzz_strndup(data, header_len);
	const char *body = (const char *)data + (newline ? header_len + 1 : 0);
	size_t len = size - (newline ? header_len + 1 : 0);
	struct pdwebhook_event *event = NULL;
	const char *reason = NULL;
	int r;

	check_verify(header, body, len);

	r = pdwebhook_parse(body, len, &event, &reason);
	if (r == 0) {
		FUZZ_CHECK(event);
		check_event(event);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -EFBIG || r == -ENOMEM);
		FUZZ_CHECK(!event);
	}
	pdwebhook_event_free(event);
	free(header);
	return 0;
}
