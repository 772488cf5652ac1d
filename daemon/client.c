/*
 * client: requests to the running daemon's API (client.h), and the
 * commands built on nothing else, `incidents`, `ack` and `resolve`
 * (commands.h).
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

int client_init(struct client *c, struct config *config, const char *url)
{
	const char *host = config->listen_host;
	int n;

	c->config = config;
	if (url)
		n = snprintf(c->base, sizeof(c->base), "%s", url);
	else if (strchr(host, ':'))
		n = snprintf(c->base, sizeof(c->base), "http://[%s]:%d", host,
			     config->listen_port);
	else
		n = snprintf(c->base, sizeof(c->base), "http://%s:%d", host,
			     config->listen_port);
	if (n < 0 || (size_t)n >= sizeof(c->base)) {
		fprintf(stderr,
			"alertbridge: the daemon's address is longer"
			" than %zu bytes\n",
			sizeof(c->base) - 1);
		return -ENAMETOOLONG;
	}

	/* A trailing slash would double the one every path starts with. */
	for (size_t len = strlen(c->base); len > 0 && c->base[len - 1] == '/';
	     len--)
		c->base[len - 1] = '\0';
	return 0;
}

/* Appends "name: prefixvalue" to *list; false when it could not. Sized
 * to fit, so that no token is cut short. */
static bool add_header(struct curl_slist **list, const char *name,
		       const char *prefix, const char *value)
{
	size_t size = strlen(name) + strlen(prefix) + strlen(value) + 3;
	struct curl_slist *longer;
	char *line = malloc(size);

	if (!line)
		return false;
	snprintf(line, size, "%s: %s%s", name, prefix, value);
	longer = curl_slist_append(*list, line);
	explicit_bzero(line, size);
	free(line);
	if (!longer)
		return false;
	*list = longer;
	return true;
}

/* curl copies each header into the list: wipe those copies, since one
 * carries the token, before they go back to the heap. */
static void free_headers(struct curl_slist *list)
{
	for (struct curl_slist *h = list; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(list);
}

/* -ECONNREFUSED only when the connection itself was refused: nothing
 * listens there. A host that cannot be reached is not "daemon down". */
static int transfer_error(CURL *curl, CURLcode rc)
{
	long os_errno = 0;

	if (rc != CURLE_COULDNT_CONNECT)
		return -EIO;
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	return os_errno == ECONNREFUSED ? -ECONNREFUSED : -EIO;
}

int client_request(const struct client *c, const char *method, const char *path,
		   long *ret_status, struct strbuf *answer,
		   const char **ret_error)
{
	struct curl_slist *headers = NULL;
	const char *token = c->config->api_token.value;
	char url[2048];
	CURLcode rc;
	CURL *curl;
	int n;
	int r = 0;

	n = snprintf(url, sizeof(url), "%s%s", c->base, path);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		if (ret_error)
			*ret_error = "the request's URL is too long";
		return -ENAMETOOLONG;
	}

	if ((token &&
	     !add_header(&headers, "Authorization", "Bearer ", token)) ||
	    (c->actor &&
	     !add_header(&headers, "X-Alertbridge-Actor", "", c->actor))) {
		free_headers(headers);
		return -ENOMEM;
	}

	curl = curl_easy_init();
	if (!curl) {
		free_headers(headers);
		return -ENOMEM;
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
		r = transfer_error(curl, rc);
		if (ret_error)
			*ret_error = curl_easy_strerror(rc);
	}

	free_headers(headers);
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
	/* Nothing listens there: these need the running daemon, which
	 * owns the incidents' state; say what still works without it. */
	if (r == -ECONNREFUSED)
		fprintf(stderr,
			"alertbridge: no daemon answers at %s (is it running?"
			" systemctl status alertbridge); without it, `queue"
			" list` and `postmortem KEY` read the store\n",
			c->base);
	return r;
}

/*
 * Parses -c and --url and the operands (exactly n of them, from
 * argv[optind] on), loads the configuration, checks the token.
 */
static int client_open(int argc, char **argv, const char *command, int n,
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
	if (optind + n > argc) {
		fprintf(stderr, "alertbridge: %s needs the incident's key\n",
			command);
		help_print(command, stderr);
		return -EINVAL;
	}
	if (commands_no_operands(argc, argv, optind + n,
				 n ? "one key at a time" : NULL) < 0)
		return -EINVAL;

	if (commands_load_config(config_path, &config) < 0)
		return -EINVAL;
	if (!config->api_token.value) {
		fprintf(stderr,
			"alertbridge: the configuration has no api"
			" token (api.token_file, api.token_env, ...)\n");
		config_free(config);
		return -EINVAL;
	}

	if (client_init(c, config, url) < 0) {
		config_free(config);
		return -EINVAL;
	}
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

	if (client_open(argc, argv, "incidents", 0, &c) < 0)
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

/*
 * Says what became of an ack or resolve of key, on standard output when
 * it is done, on standard error when it was refused; the exit status.
 * The daemon answers in text (see api_command()): the command's name on
 * 200, "ignored: WHY" on 409 (nothing to do) and on 404 (no incident).
 */
static int report_action(const char *command, const char *key, long status,
			 const char *text)
{
	bool ack = strcmp(command, "ack") == 0;
	char why[256] = "";

	if (text && strncmp(text, "ignored: ", 9) == 0) {
		snprintf(why, sizeof(why), "%s", text + 9);
		why[strcspn(why, "\n")] = '\0';
	}

	if (status == 200) {
		printf("%s '%s': escalation stopped, %s\n",
		       ack ? "acknowledged" : "resolved", key,
		       ack ? "every level paged is acknowledged at PagerDuty"
			   : "every level paged gets a resolve");
		return EXIT_SUCCESS;
	}
	/* Asked again, as after a timeout: what was asked for is so. */
	if (status == 409 &&
	    ((ack && strcmp(why, "already acknowledged") == 0) ||
	     (!ack && strcmp(why, "already resolved") == 0))) {
		printf("%s '%s': nothing changed\n", why, key);
		return EXIT_SUCCESS;
	}
	if (status == 404 && why[0]) {
		fprintf(stderr, "alertbridge: no incident has the key '%s'\n",
			key);
		return EXIT_FAILURE;
	}
	if (status == 409 && why[0]) {
		fprintf(stderr, "alertbridge: cannot %s '%s': %s\n",
			ack ? "acknowledge" : "resolve", key, why);
		return EXIT_FAILURE;
	}
	fprintf(stderr, "alertbridge: HTTP %ld: %s", status,
		text ? text : "\n");
	return EXIT_FAILURE;
}

/* command is "ack" or "resolve". */
static int incident_action(int argc, char **argv, const char *command)
{
	const char *verb =
		strcmp(command, "ack") == 0 ? "acknowledge" : "resolve";
	struct strbuf answer;
	struct client c = {0};
	char who[OPERATOR_WHO_MAX];
	char path[1024];
	long status = 0;
	int code = EXIT_FAILURE;
	char *escaped;
	const char *key;
	int n;

	if (client_open(argc, argv, command, 1, &c) < 0)
		return EXIT_FAILURE;
	operator_who(who);
	c.actor = who;
	key = argv[optind];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	escaped = curl_easy_escape(NULL, key, 0);
	n = escaped ? snprintf(path, sizeof(path), "/api/incidents/%s/%s",
			       escaped, verb)
		    : -1;
	curl_free(escaped);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		fprintf(stderr, "alertbridge: the dedup key is too long\n");
		config_free(c.config);
		curl_global_cleanup();
		return EXIT_FAILURE;
	}

	strbuf_init(&answer, CLIENT_ANSWER_MAX);
	if (call(&c, "POST", path, &status, &answer) == 0)
		code = report_action(command, key, status, answer.data);
	strbuf_release(&answer);
	config_free(c.config);
	curl_global_cleanup();
	return code;
}

int command_ack(int argc, char **argv)
{
	return incident_action(argc, argv, "ack");
}

int command_resolve(int argc, char **argv)
{
	return incident_action(argc, argv, "resolve");
}
