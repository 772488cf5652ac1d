/*
 * cmd_sendtest: a labelled test alert, triggered and resolved.
 */
#include "cmd_sendtest.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "app.h"
#include "commands.h"
#include "delivery.h"
#include "help.h"
#include "operator.h"
#include "store.h"
#include "timeutil.h"
#include "util.h"

#define SENDTEST_SUMMARY    "alertbridge test alert \u2014 not a real incident"
#define SENDTEST_ANSWER_MAX (64 * 1024)

enum resolve_mode {
	RESOLVE_ASK,
	RESOLVE_NOW,
	RESOLVE_NEVER,
};

struct test_alert {
	const struct config *config;
	const struct config_target *target;
	char dedup_key[160];
	char *payload;
};

static int build(struct test_alert *t, const char *severity)
{
	char host[OPERATOR_HOST_MAX];
	char now_text[32];
	char stamp[32];
	uint32_t nonce = 0;
	int64_t now = app_wall_ms();
	json_t *payload;

	operator_host(host);
	timeutil_format(now, now_text);
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) < 0)
		nonce = (uint32_t)app_mono_ms();

	/* 2026-01-02T03:04:05.678Z as 20260102T030405Z: short and sortable. */
	snprintf(stamp, sizeof(stamp), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", now_text,
		 now_text + 5, now_text + 8, now_text + 11, now_text + 14,
		 now_text + 17);
	snprintf(t->dedup_key, sizeof(t->dedup_key),
		 "alertbridge-test/%.64s/%s/%08x", host, stamp, nonce);

	payload = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}",
		"summary", SENDTEST_SUMMARY, "source", host, "severity",
		severity, "timestamp", now_text, "component", "alertbridge",
		"class", "test", "custom_details", "test",
		"sent with alertbridge send-test: not a real incident",
		"sent_by", operator_user(), "host", host, "sent_at", now_text,
		"target", t->target->name);
	if (!payload)
		return -ENOMEM;
	t->payload = json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(payload);
	return t->payload ? 0 : -ENOMEM;
}

static size_t on_answer(char *data, size_t size, size_t n, void *userdata)
{
	/* A longer answer is cut: only its start is shown. */
	strbuf_append_head(userdata, data, size * n);
	return size * n;
}

/* Sends one event; 0 when PagerDuty answered 2xx. */
static int send_event(const struct test_alert *t, const char *action)
{
	struct store_outbox_row row = {
		.kind = STORE_OUTBOX_EVENT,
		.order_key = (char *)t->dedup_key,
		.target = t->target->name,
		.action = (char *)action,
		.body = t->payload,
	};
	struct curl_slist *headers = NULL;
	const char *reason = NULL;
	struct strbuf answer;
	char *body = NULL;
	long status = 0;
	CURLcode rc;
	CURL *curl = NULL;
	int r;

	strbuf_init(&answer, SENDTEST_ANSWER_MAX);
	r = delivery_event_body(t->config, &row, &body, &reason);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s\n", reason);
		goto out;
	}

	curl = curl_easy_init();
	if (!curl) {
		r = -ENOMEM;
		goto out;
	}
	r = delivery_setup_event(curl, t->config, body, &headers);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s not sent: %s\n", action,
			strerror(-r));
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);

	rc = curl_easy_perform(curl);
	/* Past a connection, a failure leaves it unknown whether PagerDuty
	 * took the event: say so rather than "not sent". */
	if (rc != CURLE_OK) {
		bool connected = rc != CURLE_COULDNT_CONNECT &&
				 rc != CURLE_COULDNT_RESOLVE_HOST &&
				 rc != CURLE_COULDNT_RESOLVE_PROXY;

		fprintf(stderr, "alertbridge: %s %s %s: %s\n", action,
			connected ? "sent, but no answer came from"
				  : "not sent to",
			t->config->events_url, curl_easy_strerror(rc));
		r = -EIO;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

	if (status >= 200 && status < 300) {
		printf("%s: PagerDuty answered HTTP %ld: %s\n", action, status,
		       answer.data ? answer.data : "");
	} else {
		fprintf(stderr,
			"alertbridge: %s refused: PagerDuty answered HTTP"
			" %ld: %s\n",
			action, status, answer.data ? answer.data : "");
		r = -EPROTO;
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	strbuf_release(&answer);
	free(body);
	return r;
}

static int pick_target(const struct config *config, const char *name,
		       const struct config_target **ret_target)
{
	if (name) {
		*ret_target = config_find_target(config, name);
		if (*ret_target)
			return 0;
		fprintf(stderr,
			"alertbridge: no target is named '%s'; targets:", name);
	} else if (config->n_targets == 1) {
		*ret_target = &config->targets[0];
		return 0;
	} else {
		/* A test pages a person: which one is not ours to guess. */
		fprintf(stderr, "alertbridge: pass --target NAME, one of:");
	}
	for (size_t i = 0; i < config->n_targets; i++)
		fprintf(stderr, "%s %s", i ? "," : "", config->targets[i].name);
	fprintf(stderr, "\n");
	return -EINVAL;
}

static int run(const struct config *config, const char *target_name,
	       const char *severity, enum resolve_mode mode)
{
	struct test_alert t = {.config = config};
	int r;

	r = pick_target(config, target_name, &t.target);
	if (r < 0)
		return r;
	if (mode == RESOLVE_ASK && !operator_interactive()) {
		fprintf(stderr,
			"alertbridge: no terminal to ask when to resolve:"
			" pass --resolve to resolve at once, or"
			" --no-resolve to leave the test alert open\n");
		return -EINVAL;
	}

	r = build(&t, severity);
	if (r < 0)
		goto out;

	printf("sending a test trigger to %s (key %s) at %s\n"
	       "  summary: %s\n  dedup_key: %s\n",
	       t.target->name, t.target->fingerprint, config->events_url,
	       SENDTEST_SUMMARY, t.dedup_key);
	fflush(stdout);
	r = send_event(&t, "trigger");
	if (r < 0)
		goto out;

	if (mode == RESOLVE_NEVER) {
		printf("left open: resolve it in PagerDuty (dedup_key %s)\n",
		       t.dedup_key);
		goto out;
	}
	if (mode == RESOLVE_ASK)
		operator_wait_enter("The test alert is open. Press Enter to"
				    " resolve it (Ctrl-C leaves it open). ");
	r = send_event(&t, "resolve");
	if (r < 0)
		fprintf(stderr,
			"alertbridge: the test alert is still open:"
			" resolve it in PagerDuty (dedup_key %s)\n",
			t.dedup_key);
out:
	free(t.payload);
	return r;
}

int command_send_test(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"target", required_argument, NULL, 't'},
		{"severity", required_argument, NULL, 's'},
		{"resolve", no_argument, NULL, 'R'},
		{"no-resolve", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum resolve_mode mode = RESOLVE_ASK;
	const char *config_path = NULL;
	const char *target = NULL;
	const char *severity = "info";
	struct config *config = NULL;
	int flags = 0;
	int r;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 's':
			severity = optarg;
			break;
		case 'R':
			mode = RESOLVE_NOW;
			flags++;
			break;
		case 'N':
			mode = RESOLVE_NEVER;
			flags++;
			break;
		case 'h':
			help_print("send-test", stdout);
			return EXIT_SUCCESS;
		default:
			help_print("send-test", stderr);
			return EXIT_FAILURE;
		}
	}
	if (commands_no_operands(argc, argv, optind, NULL) < 0)
		return EXIT_FAILURE;
	if (flags > 1 || !CONFIG_SEVERITY_VALID(severity)) {
		if (flags > 1)
			fprintf(stderr, "alertbridge: --resolve and"
					" --no-resolve exclude each other\n");
		if (!CONFIG_SEVERITY_VALID(severity))
			fprintf(stderr,
				"alertbridge: severity must be critical,"
				" error, warning or info\n");
		help_print("send-test", stderr);
		return EXIT_FAILURE;
	}

	if (operator_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = run(config, target, severity, mode);
	curl_global_cleanup();
	config_free(config);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
