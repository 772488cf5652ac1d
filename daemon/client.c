/*
 * client: `alertbridge incidents`, `ack` and `resolve`, which talk to
 * the running daemon's API on the address and with the token its
 * configuration names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "commands.h"
#include "util.h"

#define CLIENT_ANSWER_MAX (1024 * 1024)
#define CLIENT_TIMEOUT_MS 10000L

struct client {
	struct config *config;
	char base[256];
};

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct strbuf *sb = userdata;

	return strbuf_append(sb, data, size * n) < 0 ? 0 : size * n;
}

/* One request; *ret_status and the answer's text on success. */
static int call(const struct client *c, const char *method, const char *path,
		long *ret_status, struct strbuf *answer)
{
	struct curl_slist *headers = NULL;
	char auth[1200];
	char url[2048];
	CURLcode rc;
	CURL *curl;

	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
		 c->config->api_token.value);
	headers = curl_slist_append(headers, auth);

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CLIENT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
	else
		fprintf(stderr, "alertbridge: %s: %s\n", url,
			curl_easy_strerror(rc));

	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -EIO;
}

/* Parses -c and --url, loads the configuration, checks the token. */
static int client_open(int argc, char **argv, const char *usage,
		       struct client *c)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"url", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *url = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:u:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'u':
			url = optarg;
			break;
		case 'h':
			printf("%s", usage);
			exit(EXIT_SUCCESS);
		default:
			fprintf(stderr, "%s", usage);
			return -EINVAL;
		}
	}

	if (commands_load_config(config_path, &c->config) < 0)
		return -EINVAL;
	if (!c->config->api_token.value) {
		fprintf(stderr,
			"alertbridge: the configuration has no api"
			" token (api.token_file, api.token_env, ...)\n");
		config_free(c->config);
		return -EINVAL;
	}

	if (url)
		snprintf(c->base, sizeof(c->base), "%s", url);
	else
		snprintf(c->base, sizeof(c->base), "http://%s:%d",
			 c->config->listen_host, c->config->listen_port);
	return 0;
}

static void print_incidents(const char *text)
{
	json_t *list = json_loads(text, 0, NULL);
	size_t i;
	json_t *inc;

	if (!json_is_array(list)) {
		printf("%s", text);
		json_decref(list);
		return;
	}

	printf("%-10s %-13s %-5s %-9s %-24s %-24s %s\n", "STATUS", "ESCALATION",
	       "LEVEL", "SEVERITY", "OPENED", "NEXT STEP", "DEDUP KEY");
	json_array_foreach(list, i, inc)
	{
		const char *next = json_string_value(
			json_object_get(inc, "next_deadline"));
		const char *opened =
			json_string_value(json_object_get(inc, "opened"));
		const char *severity =
			json_string_value(json_object_get(inc, "severity"));
		json_t *level = json_object_get(inc, "level");
		char level_text[24] = "-";

		/* A daemon from before levels were listed sends none. */
		if (json_is_integer(level))
			snprintf(level_text, sizeof(level_text), "%lld",
				 (long long)json_integer_value(level));

		printf("%-10s %-13s %-5s %-9s %-24s %-24s %s\n",
		       json_string_value(json_object_get(inc, "status")),
		       json_string_value(json_object_get(inc, "escalation")),
		       level_text, severity ? severity : "-",
		       opened ? opened : "-", next ? next : "-",
		       json_string_value(json_object_get(inc, "dedup_key")));
	}
	if (json_array_size(list) == 0)
		printf("(no open incidents)\n");
	json_decref(list);
}

int command_incidents(int argc, char **argv)
{
	static const char usage[] =
		"Usage: alertbridge incidents [-c FILE] [--url URL]\n\n"
		"Lists the open incidents of the running daemon: status,"
		" escalation,\nthe highest level paged, severity, when opened,"
		" when the next step\nis due, and the dedup key.\n";
	struct strbuf answer;
	struct client c = {0};
	long status = 0;
	int code = EXIT_FAILURE;

	if (client_open(argc, argv, usage, &c) < 0)
		return EXIT_FAILURE;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	strbuf_init(&answer, CLIENT_ANSWER_MAX);
	if (call(&c, "GET", "/api/incidents", &status, &answer) == 0) {
		if (status == 200) {
			print_incidents(answer.data ? answer.data : "[]");
			code = EXIT_SUCCESS;
		} else {
			fprintf(stderr, "alertbridge: HTTP %ld: %s", status,
				answer.data ? answer.data : "\n");
		}
	}
	strbuf_release(&answer);
	config_free(c.config);
	curl_global_cleanup();
	return code;
}

int command_incident_action(int argc, char **argv)
{
	static const char usage[] =
		"Usage: alertbridge ack|resolve KEY [-c FILE] [--url URL]\n\n"
		"Acknowledges (stops the escalation of) or resolves the"
		" incident whose\ndedup key, or one of whose page keys, is"
		" KEY, through the running\ndaemon's API.\n";
	const char *verb =
		strcmp(argv[0], "ack") == 0 ? "acknowledge" : "resolve";
	struct strbuf answer;
	struct client c = {0};
	char path[1024];
	long status = 0;
	int code = EXIT_FAILURE;
	char *escaped;
	const char *key;

	if (client_open(argc, argv, usage, &c) < 0)
		return EXIT_FAILURE;
	if (optind >= argc) {
		fprintf(stderr, "%s", usage);
		config_free(c.config);
		return EXIT_FAILURE;
	}
	key = argv[optind];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	escaped = curl_easy_escape(NULL, key, 0);
	snprintf(path, sizeof(path), "/api/incidents/%s/%s",
		 escaped ? escaped : "", verb);
	curl_free(escaped);

	strbuf_init(&answer, CLIENT_ANSWER_MAX);
	if (call(&c, "POST", path, &status, &answer) == 0) {
		printf("%s", answer.data ? answer.data : "\n");
		code = status == 200 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	strbuf_release(&answer);
	config_free(c.config);
	curl_global_cleanup();
	return code;
}
