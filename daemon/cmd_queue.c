/*
 * cmd_queue: the outbox and dead letters, through the daemon's API or
 * the store itself.
 */
#include "cmd_queue.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "api.h"
#include "app.h"
#include "client.h"
#include "commands.h"
#include "help.h"
#include "log.h"
#include "operator.h"
#include "store.h"
#include "timeutil.h"

/* Rows listed at most, as the API lists at most. */
#define QUEUE_LIST_MAX 500

enum daemon_state {
	DAEMON_UNASKED, /* no configuration loaded: only reading the store */
	DAEMON_DOWN,    /* connection refused: the store is ours */
	DAEMON_UP,      /* it answered */
	DAEMON_UNKNOWN, /* something else failed: assume it may run */
};

struct queue_cmd {
	const char *action; /* list, show, retry, drop */
	int64_t id;
	bool dead;
	bool yes;
	const char *store_dir; /* --store, or NULL */
	struct config *config;
	struct client client;
	enum daemon_state daemon;
	const char *probe_error;
	bool via_api;
};

static const char *text_of(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

/* "5m" since an ISO 8601 instant, or "-". */
static void age_of(const char *iso, char out[32])
{
	int64_t ms;

	if (!iso || timeutil_parse(iso, &ms) < 0) {
		strcpy(out, "-");
		return;
	}
	operator_duration(app_wall_ms() - ms, out);
}

static void print_list(const json_t *list)
{
	bool dead = strcmp(text_of(list, "state"), "dead") == 0;
	const json_t *rows = json_object_get(list, "rows");
	const char *extra = dead ? "reason" : "last_error";
	int64_t now = app_wall_ms();
	size_t i;
	json_t *row;

	printf("%s: %lld", dead ? "dead letters" : "pending rows",
	       (long long)json_integer_value(json_object_get(list, "total")));
	if ((json_int_t)json_array_size(rows) <
	    json_integer_value(json_object_get(list, "total")))
		printf(" (the first %zu shown)", json_array_size(rows));
	printf("\n");
	if (json_array_size(rows) == 0)
		return;

	printf("%-6s %-20s %-11s %-8s %-8s %-34s %s\n", "ID", "TARGET",
	       "ACTION", "ATTEMPTS", "AGE",
	       dead ? "DEAD SINCE" : "NEXT ATTEMPT", "DEDUP KEY");
	json_array_foreach(rows, i, row)
	{
		const char *when =
			text_of(row, dead ? "dead_since" : "next_attempt");
		const char *key =
			json_string_value(json_object_get(row, "dedup_key"));
		char when_text[64];
		char age[32];
		char in[32];
		int64_t at = 0;

		age_of(text_of(row, "created"), age);
		snprintf(when_text, sizeof(when_text), "%s", when);
		if (!dead && timeutil_parse(when, &at) == 0) {
			operator_duration(at - now, in);
			snprintf(when_text, sizeof(when_text), "%s (%s%s)",
				 when, at <= now ? "due" : "in ",
				 at <= now ? "" : in);
		}

		printf("%-6lld %-20s %-11s %-8lld %-8s %-34s %s%s\n",
		       (long long)json_integer_value(
			       json_object_get(row, "id")),
		       json_string_value(json_object_get(row, "target"))
			       ? text_of(row, "target")
			       : "-",
		       text_of(row, "action"),
		       (long long)json_integer_value(
			       json_object_get(row, "attempts")),
		       age, when_text, key ? "" : "topic ",
		       key ? key : text_of(row, "topic"));
		if (json_string_value(json_object_get(row, extra)))
			printf("       %s: %s\n",
			       dead ? "reason" : "last error",
			       text_of(row, extra));
	}
}

static void print_row(const json_t *row)
{
	static const char *const fields[] = {
		"id",         "state",     "kind",          "target",
		"action",     "dedup_key", "topic",         "detail",
		"attempts",   "created",   "next_attempt",  "last_error",
		"dead_since", "reason",    "subscribe_url",
	};
	const json_t *payload = json_object_get(row, "payload");
	char age[32];

	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		const json_t *v = json_object_get(row, fields[i]);

		if (json_is_string(v))
			printf("%s: %s", fields[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("%s: %lld", fields[i],
			       (long long)json_integer_value(v));
		else
			continue;
		if (strcmp(fields[i], "created") == 0) {
			age_of(json_string_value(v), age);
			printf(" (%s ago)", age);
		}
		printf("\n");
	}

	if (payload) {
		char *text = json_dumps(payload, JSON_INDENT(2));

		printf("payload:\n%s\n", text ? text : "");
		free(text);
	}
}

/* Asks GET path of the API; its JSON answer on 200. */
static int api_get(struct queue_cmd *q, const char *path, json_t **ret)
{
	struct strbuf answer;
	const char *error = NULL;
	long status = 0;
	int r;

	strbuf_init(&answer, CLIENT_ANSWER_MAX);
	r = client_request(&q->client, "GET", path, &status, &answer, &error);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s%s: %s\n", q->client.base, path,
			error ? error : strerror(-r));
		goto out;
	}
	if (status == 404 && q->id) {
		fprintf(stderr, "alertbridge: no row %lld in the %s\n",
			(long long)q->id, q->dead ? "dead letters" : "queue");
		r = -ENOENT;
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "alertbridge: HTTP %ld: %s", status,
			answer.data ? answer.data : "\n");
		r = -EIO;
		goto out;
	}

	*ret = json_loads(answer.data ? answer.data : "", 0, NULL);
	if (!*ret) {
		fprintf(stderr, "alertbridge: the daemon's answer is not"
				" JSON\n");
		r = -EIO;
	}
out:
	strbuf_release(&answer);
	return r;
}

/* The same from the store itself. */
static int store_get(struct queue_cmd *q, struct store *store,
		     enum store_queue_scope scope, json_t **ret)
{
	struct store_queue_row row = {0};
	bool found = false;
	int r;

	r = store_queue_get(store, q->id, scope, &row, &found);
	if (r < 0) {
		fprintf(stderr, "alertbridge: store: %s\n", store_error(store));
		return r;
	}
	if (!found) {
		fprintf(stderr, "alertbridge: no row %lld in the %s\n",
			(long long)q->id,
			scope == STORE_QUEUE_DEAD      ? "dead letters"
			: scope == STORE_QUEUE_PENDING ? "outbox"
						       : "queue");
		return -ENOENT;
	}
	*ret = api_queue_row_json(&row, true);
	store_queue_row_release(&row);
	return *ret ? 0 : -ENOMEM;
}

static int store_list(struct queue_cmd *q, struct store *store, json_t **ret)
{
	struct store_queue_row *rows = NULL;
	int64_t total = 0;
	int64_t oldest = 0;
	json_t *array;
	size_t n = 0;
	int r;

	r = q->dead ? store_dead_count(store, &total)
		    : store_outbox_stats(store, &total, &oldest);
	if (r == 0)
		r = store_queue_list(store, q->dead, QUEUE_LIST_MAX, &rows, &n);
	if (r < 0) {
		fprintf(stderr, "alertbridge: store: %s\n", store_error(store));
		return r;
	}

	array = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array,
				      api_queue_row_json(&rows[i], false));
	store_queue_rows_free(rows, n);
	*ret = json_pack("{s:s, s:I, s:o}", "state",
			 q->dead ? "dead" : "pending", "total",
			 (json_int_t)total, "rows", array);
	return *ret ? 0 : -ENOMEM;
}

static const char *scope_path(enum store_queue_scope scope)
{
	switch (scope) {
	case STORE_QUEUE_PENDING:
		return "/pending";
	case STORE_QUEUE_DEAD:
		return "/dead";
	case STORE_QUEUE_ANY:
		break;
	}
	return "";
}

/*
 * May this change go ahead? Drops and dead-letter retries are asked
 * about on a terminal, or need --yes.
 */
static bool allowed(const struct queue_cmd *q, const json_t *row)
{
	bool dead = strcmp(text_of(row, "state"), "dead") == 0;
	bool drop = strcmp(q->action, "drop") == 0;
	const char *key = json_string_value(json_object_get(row, "dedup_key"));
	char question[1024];

	if (!drop && !dead)
		return true;
	if (q->yes)
		return true;

	snprintf(question, sizeof(question), "%s %s %lld (%s %s to %s, %s)?",
		 drop ? "Drop" : "Send again", dead ? "dead letter" : "row",
		 (long long)q->id, text_of(row, "kind"), text_of(row, "action"),
		 json_string_value(json_object_get(row, "target"))
			 ? text_of(row, "target")
			 : "SNS",
		 key ? key : text_of(row, "topic"));
	if (!operator_interactive()) {
		fprintf(stderr,
			"alertbridge: refusing to %s %s %lld without"
			" confirmation: run it on a terminal, or pass"
			" --yes\n",
			drop ? "drop" : "retry", dead ? "dead letter" : "row",
			(long long)q->id);
		return false;
	}
	if (!drop && strcmp(text_of(row, "action"), "trigger") == 0)
		fprintf(stderr, "alertbridge: a trigger sent now opens its"
				" incident at PagerDuty again if it has since"
				" been resolved\n");
	if (operator_confirm(question))
		return true;
	fprintf(stderr, "alertbridge: nothing changed\n");
	return false;
}

static void print_result(const char *result, const json_t *row)
{
	bool dead = strcmp(text_of(row, "state"), "dead") == 0;
	long long id =
		(long long)json_integer_value(json_object_get(row, "id"));

	if (strcmp(result, "dropped") == 0)
		printf("dropped %s %lld\n", dead ? "dead letter" : "row", id);
	else if (dead)
		printf("retried dead letter %lld: back in the outbox, due"
		       " now\n",
		       id);
	else
		printf("retried row %lld: due now\n", id);
}

static int api_change(struct queue_cmd *q)
{
	enum store_queue_scope scope =
		q->dead ? STORE_QUEUE_DEAD : STORE_QUEUE_ANY;
	bool drop = strcmp(q->action, "drop") == 0;
	struct strbuf answer;
	const char *error = NULL;
	json_t *row = NULL;
	json_t *result = NULL;
	char path[128];
	long status = 0;
	int r;

	snprintf(path, sizeof(path), "/api/queue%s/%lld", scope_path(scope),
		 (long long)q->id);
	r = api_get(q, path, &row);
	if (r < 0)
		return r;
	if (!allowed(q, row)) {
		json_decref(row);
		return -ECANCELED;
	}

	/* Act only on the row as shown: where it was then. */
	scope = strcmp(text_of(row, "state"), "dead") == 0
			? STORE_QUEUE_DEAD
			: STORE_QUEUE_PENDING;
	snprintf(path, sizeof(path), "/api/queue%s/%lld%s", scope_path(scope),
		 (long long)q->id, drop ? "" : "/retry");
	json_decref(row);

	strbuf_init(&answer, CLIENT_ANSWER_MAX);
	r = client_request(&q->client, drop ? "DELETE" : "POST", path, &status,
			   &answer, &error);
	if (r < 0) {
		fprintf(stderr, "alertbridge: %s%s: %s\n", q->client.base, path,
			error ? error : strerror(-r));
		goto out;
	}
	if (status == 404) {
		fprintf(stderr,
			"alertbridge: row %lld is no longer where it was"
			" (sent, dead-lettered or dropped meanwhile):"
			" nothing changed\n",
			(long long)q->id);
		r = -ENOENT;
		goto out;
	}
	result = json_loads(answer.data ? answer.data : "", 0, NULL);
	if (status != 200 || !result) {
		fprintf(stderr, "alertbridge: HTTP %ld: %s", status,
			answer.data ? answer.data : "\n");
		r = -EIO;
		goto out;
	}
	print_result(text_of(result, "result"), json_object_get(result, "row"));
out:
	json_decref(result);
	strbuf_release(&answer);
	return r;
}

/* Why the store may not be written now, or NULL when it may. */
static const char *write_refusal(const struct queue_cmd *q)
{
	switch (q->daemon) {
	case DAEMON_DOWN:
		return NULL;
	case DAEMON_UP:
		return q->store_dir
			       ? "the daemon answers there and owns the store"
				 " while it runs; leave out --store to go"
				 " through its API"
			       : "the daemon answers there, but the"
				 " configuration has no api token to reach"
				 " its API; set api.token* or stop the"
				 " daemon";
	case DAEMON_UNASKED:
	case DAEMON_UNKNOWN:
		break;
	}
	return "it cannot be told whether the daemon runs there, and the"
	       " store must not be written while it does";
}

/*
 * A change made on the store directly leaves the record the daemon's
 * API would: the same event, to the journal where there is one (else on
 * standard error), with who made it.
 */
static void log_store_change(bool drop, const json_t *row)
{
	char who[OPERATOR_WHO_MAX];
	char id[24];

	snprintf(id, sizeof(id), "%lld",
		 (long long)json_integer_value(json_object_get(row, "id")));
	if (access("/run/systemd/journal/socket", W_OK) == 0)
		log_set_target(LOG_TARGET_JOURNAL);
	operator_who(who);
	LOG(LOG_LEVEL_INFO, drop ? "queue.dropped" : "queue.retried",
	    {"id", id}, {"from", text_of(row, "state")},
	    {"target", text_of(row, "target")},
	    {"dedup_key", text_of(row, "dedup_key")},
	    {"action", text_of(row, "action")}, {"source", "store"},
	    {"actor", who});
}

static int store_change(struct queue_cmd *q, struct store *store)
{
	enum store_queue_scope scope =
		q->dead ? STORE_QUEUE_DEAD : STORE_QUEUE_ANY;
	bool drop = strcmp(q->action, "drop") == 0;
	json_t *shown = NULL;
	json_t *row = NULL;
	bool dead;
	int r;

	r = store_get(q, store, scope, &shown);
	if (r < 0)
		return r;
	if (!allowed(q, shown)) {
		r = -ECANCELED;
		goto out;
	}
	dead = strcmp(text_of(shown, "state"), "dead") == 0;

	r = store_begin(store);
	if (r < 0)
		goto fail;
	/* Still where it was shown? */
	r = store_get(q, store, dead ? STORE_QUEUE_DEAD : STORE_QUEUE_PENDING,
		      &row);
	if (r < 0) {
		store_rollback(store);
		goto out;
	}
	r = drop ? store_queue_drop(store, q->id, dead)
		 : store_queue_retry(store, q->id, dead, app_wall_ms());
	if (r == 0)
		r = store_commit(store);
	if (r < 0) {
		store_rollback(store);
		goto fail;
	}
	print_result(drop ? "dropped" : "retried", row);
	log_store_change(drop, row);
	goto out;
fail:
	fprintf(stderr, "alertbridge: store: %s\n", store_error(store));
out:
	json_decref(shown);
	json_decref(row);
	return r;
}

static int run_on_store(struct queue_cmd *q)
{
	const char *dir = q->store_dir ? q->store_dir : q->config->state_dir;
	struct store *store = NULL;
	json_t *answer = NULL;
	bool change = strcmp(q->action, "retry") == 0 ||
		      strcmp(q->action, "drop") == 0;
	int lock_fd = -1;
	int r;

	if (change && write_refusal(q)) {
		fprintf(stderr,
			"alertbridge: not changing the store (%s: %s%s%s)\n",
			q->client.base, write_refusal(q),
			q->probe_error ? "; asking it failed: " : "",
			q->probe_error ? q->probe_error : "");
		return -EBUSY;
	}

	if (q->daemon == DAEMON_UP || q->daemon == DAEMON_UNKNOWN)
		fprintf(stderr,
			"alertbridge: reading the store in %s directly (%s)\n",
			dir,
			q->daemon == DAEMON_UP && !q->store_dir
				? "the configuration has no api token"
			: q->store_dir ? "--store was given"
				       : "the daemon's address failed");

	/* The lock, not the address, is what tells a daemon on this store
	 * apart: it may listen elsewhere, or not answer at all. */
	r = operator_store_open(dir, change ? &lock_fd : NULL, &store);
	if (r < 0)
		return r;

	if (change)
		r = store_change(q, store);
	else if (strcmp(q->action, "list") == 0)
		r = store_list(q, store, &answer);
	else
		r = store_get(q, store,
			      q->dead ? STORE_QUEUE_DEAD : STORE_QUEUE_ANY,
			      &answer);

	if (r == 0 && answer) {
		if (strcmp(q->action, "list") == 0)
			print_list(answer);
		else
			print_row(answer);
	}
	json_decref(answer);
	store_close(store);
	if (lock_fd >= 0)
		close(lock_fd);
	return r;
}

static int run_on_api(struct queue_cmd *q)
{
	json_t *answer = NULL;
	char path[128];
	int r;

	if (strcmp(q->action, "retry") == 0 || strcmp(q->action, "drop") == 0)
		return api_change(q);

	if (strcmp(q->action, "list") == 0)
		snprintf(path, sizeof(path), "/api/queue%s",
			 q->dead ? "/dead" : "");
	else
		snprintf(path, sizeof(path), "/api/queue%s/%lld",
			 q->dead ? "/dead" : "", (long long)q->id);

	r = api_get(q, path, &answer);
	if (r < 0)
		return r;
	if (strcmp(q->action, "list") == 0)
		print_list(answer);
	else
		print_row(answer);
	json_decref(answer);
	return 0;
}

/* Is the daemon there? Decides between its API and the store. */
static void probe(struct queue_cmd *q)
{
	struct strbuf answer;
	long status = 0;
	int r;

	strbuf_init(&answer, 4096);
	r = client_request(&q->client, "GET", "/healthz", &status, &answer,
			   &q->probe_error);
	strbuf_release(&answer);

	q->daemon = r == 0               ? DAEMON_UP
		    : r == -ECONNREFUSED ? DAEMON_DOWN
					 : DAEMON_UNKNOWN;
	q->via_api = q->daemon == DAEMON_UP && !q->store_dir &&
		     q->config->api_token.value;
}

static int parse(int argc, char **argv, struct queue_cmd *q,
		 const char **ret_config, const char **ret_url)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"url", required_argument, NULL, 'u'},
		{"store", required_argument, NULL, 's'},
		{"dead", no_argument, NULL, 'd'},
		{"yes", no_argument, NULL, 'y'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long long id;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:u:s:dyh", options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'c':
			*ret_config = optarg;
			break;
		case 'u':
			*ret_url = optarg;
			break;
		case 's':
			q->store_dir = optarg;
			break;
		case 'd':
			q->dead = true;
			break;
		case 'y':
			q->yes = true;
			break;
		case 'h':
			help_print("queue", stdout);
			exit(EXIT_SUCCESS);
		default:
			help_print("queue", stderr);
			return -EINVAL;
		}
	}

	if (optind >= argc) {
		fprintf(stderr,
			"alertbridge: queue needs an action: list, show,"
			" retry or drop\n");
		help_print("queue", stderr);
		return -EINVAL;
	}
	q->action = argv[optind++];
	if (strcmp(q->action, "list") == 0)
		return commands_no_operands(argc, argv, optind,
					    "list takes no row id");
	if (strcmp(q->action, "show") != 0 && strcmp(q->action, "retry") != 0 &&
	    strcmp(q->action, "drop") != 0) {
		fprintf(stderr, "alertbridge: unknown queue action '%s'\n",
			q->action);
		help_print("queue", stderr);
		return -EINVAL;
	}

	if (optind == argc) {
		fprintf(stderr, "alertbridge: queue %s needs a row id\n",
			q->action);
		help_print("queue", stderr);
		return -EINVAL;
	}
	if (commands_no_operands(argc, argv, optind + 1,
				 "one row id at a time") < 0)
		return -EINVAL;
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || end == argv[optind] || *end || id <= 0) {
		fprintf(stderr, "alertbridge: not a row id: %s\n",
			argv[optind]);
		return -EINVAL;
	}
	q->id = id;
	return 0;
}

int command_queue(int argc, char **argv)
{
	struct queue_cmd q = {0};
	const char *config_path = NULL;
	const char *url = NULL;
	bool reading;
	int r;

	if (parse(argc, argv, &q, &config_path, &url) < 0)
		return EXIT_FAILURE;

	/*
	 * Reading the store --store names needs nothing of the
	 * configuration, as for postmortem. A change still loads it: the
	 * daemon's address must be asked before the store is written.
	 */
	reading =
		strcmp(q.action, "list") == 0 || strcmp(q.action, "show") == 0;
	if (q.store_dir && !config_path && reading)
		return run_on_store(&q) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

	if (operator_load_config(config_path, &q.config) < 0)
		return EXIT_FAILURE;

	if (client_init(&q.client, q.config, url) < 0) {
		config_free(q.config);
		return EXIT_FAILURE;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	probe(&q);
	r = q.via_api ? run_on_api(&q) : run_on_store(&q);
	curl_global_cleanup();
	config_free(q.config);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
