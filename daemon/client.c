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

#include "client.h"
#include "commands.h"
#include "help.h"
#include "operator.h"
#include "util.h"

#define CLIENT_TIMEOUT_MS 10000L

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct strbuf *sb = userdata;

	return strbuf_append(sb, data, size * n) < 0 ? 0 : size * n;
}

void client_init(struct client *c, struct config *config, const char *url)
{
	const char *host = config->listen_host;

	c->config = config;
	if (url)
		snprintf(c->base, sizeof(c->base), "%s", url);
	else if (strchr(host, ':'))
		snprintf(c->base, sizeof(c->base), "http://[%s]:%d", host,
			 config->listen_port);
	else
		snprintf(c->base, sizeof(c->base), "http://%s:%d", host,
			 config->listen_port);

	/* A trailing slash would double the one every path starts with. */
	for (size_t n = strlen(c->base); n > 0 && c->base[n - 1] == '/'; n--)
		c->base[n - 1] = '\0';
}

int client_request(const struct client *c, const char *method, const char *path,
		   long *ret_status, struct strbuf *answer,
		   const char **ret_error)
{
	struct curl_slist *headers = NULL;
	char actor[160];
	char auth[1200];
	char url[2048];
	CURLcode rc;
	CURL *curl;
	int r = 0;

	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;

	snprintf(url, sizeof(url), "%s%s", c->base, path);
	if (c->config->api_token.value) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 c->config->api_token.value);
		headers = curl_slist_append(headers, auth);
	}
	if (c->actor) {
		snprintf(actor, sizeof(actor), "X-Alertbridge-Actor: %s",
			 c->actor);
		headers = curl_slist_append(headers, actor);
	}

	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CLIENT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
	} else {
		r = rc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
		if (ret_error)
			*ret_error = curl_easy_strerror(rc);
	}

	/* The token was on the stack only: wipe it. */
	explicit_bzero(auth, sizeof(auth));
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return r;
}

/* One request; *ret_status and the answer's text on success. */
static int call(const struct client *c, const char *method, const char *path,
		long *ret_status, struct strbuf *answer)
{
	const char *error = NULL;
	int r = client_request(c, method, path, ret_status, answer, &error);

	if (r < 0)
		fprintf(stderr, "alertbridge: %s%s: %s\n", c->base, path,
			error ? error : strerror(-r));
	return r;
}

/* Parses -c and --url, loads the configuration, checks the token. */
static int client_open(int argc, char **argv, const char *command,
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
	struct config *config = NULL;
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
			help_print(command, stdout);
			exit(EXIT_SUCCESS);
		default:
			help_print(command, stderr);
			return -EINVAL;
		}
	}

	if (commands_load_config(config_path, &config) < 0)
		return -EINVAL;
	if (!config->api_token.value) {
		fprintf(stderr,
			"alertbridge: the configuration has no api"
			" token (api.token_file, api.token_env, ...)\n");
		config_free(config);
		return -EINVAL;
	}

	client_init(c, config, url);
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
	struct strbuf answer;
	struct client c = {0};
	long status = 0;
	int code = EXIT_FAILURE;

	if (client_open(argc, argv, "incidents", &c) < 0)
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
	const char *verb =
		strcmp(argv[0], "ack") == 0 ? "acknowledge" : "resolve";
	struct strbuf answer;
	struct client c = {0};
	char who[OPERATOR_WHO_MAX];
	char path[1024];
	long status = 0;
	int code = EXIT_FAILURE;
	char *escaped;
	const char *key;

	if (client_open(argc, argv, argv[0], &c) < 0)
		return EXIT_FAILURE;
	operator_who(who);
	c.actor = who;
	if (optind >= argc) {
		help_print(argv[0], stderr);
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
