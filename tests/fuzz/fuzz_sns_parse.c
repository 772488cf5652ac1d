/*
 * Fuzz target: the SNS envelope parser (sns_parse()), with the header
 * check and the URL policies over what it parsed, and the URL policies
 * over the raw input too.
 */
#include <errno.h>
#include <strings.h>
#include <string.h>

#include "fuzz.h"
#include "sns.h"

static void check_cert_url(const char *url)
{
	const char *reason = NULL;
	char *file = NULL;

	if (sns_cert_url_check(url, &file, &reason) == 0) {
		/* The file name keys a directory: it must be a plain name. */
		FUZZ_CHECK(file);
		FUZZ_CHECK(strncmp(file, "SimpleNotificationService-", 26) ==
			   0);
		FUZZ_CHECK(strlen(file) > 30 &&
			   strcmp(file + strlen(file) - 4, ".pem") == 0);
		FUZZ_CHECK(!strchr(file, '/'));
		FUZZ_CHECK(strncasecmp(url, "https://", 8) == 0);
	} else {
		FUZZ_CHECK(reason);
	}
	free(file);
}

static void check_subscribe_url(const char *url)
{
	const char *reason = NULL;

	if (sns_subscribe_url_check(url, &reason) == 0)
		FUZZ_CHECK(strncasecmp(url, "https://", 8) == 0);
	else
		FUZZ_CHECK(reason);
}

static void check_message(const struct sns_message *msg)
{
	const char *reason = NULL;

	FUZZ_CHECK(msg->signature_version == 1 || msg->signature_version == 2);
	FUZZ_CHECK(msg->message_id && msg->topic_arn && msg->timestamp);
	FUZZ_CHECK(msg->signature && msg->signing_cert_url);
	FUZZ_CHECK(strcmp(msg->type_name, sns_type_name(msg->type)) == 0);
	/* No NUL can hide inside the Message. */
	FUZZ_CHECK(msg->message && msg->message_len == strlen(msg->message));
	if (msg->type == SNS_TYPE_SUBSCRIPTION_CONFIRMATION ||
	    msg->type == SNS_TYPE_UNSUBSCRIBE_CONFIRMATION)
		FUZZ_CHECK(msg->subscribe_url && msg->token);
	if (msg->type != SNS_TYPE_NOTIFICATION)
		FUZZ_CHECK(!msg->subject);

	/* Headers that say what the body says always agree with it. */
	FUZZ_CHECK(sns_check_headers(msg, msg->type_name, msg->message_id,
				     msg->topic_arn, &reason) == 0);
	FUZZ_CHECK(sns_check_headers(msg, NULL, NULL, NULL, &reason) == 0);

	check_cert_url(msg->signing_cert_url);
	if (msg->subscribe_url)
		check_subscribe_url(msg->subscribe_url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sns_message *msg = NULL;
	const char *reason = NULL;
	int r;

	r = sns_parse((const char *)data, size, &msg, &reason);
	if (r == 0) {
		FUZZ_CHECK(msg);
		check_message(msg);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(reason && !strchr(reason, '\n'));
	}
	sns_message_free(msg);

	/* The input itself as a URL and as a region. */
	if (size <= 4096) {
		char *text = fuzz_strndup(data, size);

		check_cert_url(text);
		check_subscribe_url(text);
		sns_region_valid(text);
		free(text);
	}
	return 0;
}
