/*
 * api: PagerDuty webhooks and the daemon's own incident API.
 */
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "escalation.h"
#include "log.h"
#include "metrics.h"
#include "pdwebhook.h"
#include "silences.h"
#include "store.h"
#include "timeutil.h"
#include "writer.h"

#define API_BODY_MAX       (256 * 1024)
#define API_LIST_MAX       500
#define API_QUEUE_BODY_MAX (1024 * 1024)

void api_response_init(struct api_response *out)
{
	out->status = 500;
	out->content_type = "text/plain; charset=utf-8";
	out->allow = NULL;
	strbuf_init(&out->body, API_BODY_MAX);
}

void api_response_release(struct api_response *out)
{
	strbuf_release(&out->body);
}

static void reply(struct api_response *out, unsigned int status,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void reply(struct api_response *out, unsigned int status,
		  const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	out->status = status;
	out->content_type = "text/plain; charset=utf-8";
	strbuf_release(&out->body);
	strbuf_puts(&out->body, line);
	strbuf_puts(&out->body, "\n");
}

/* 405, with the Allow header RFC 9110 15.5.6 requires on one. */
static void reply_not_allowed(struct api_response *out, const char *allow)
{
	reply(out, 405, "method not allowed here; use %s", allow);
	out->allow = allow;
}

static bool command_of(enum pdwebhook_event_type type,
		       enum pager_command *ret_command)
{
	switch (type) {
	case PDWEBHOOK_EVENT_ACKNOWLEDGED:
		*ret_command = PAGER_ACKNOWLEDGE;
		return true;
	case PDWEBHOOK_EVENT_RESOLVED:
		*ret_command = PAGER_RESOLVE;
		return true;
	case PDWEBHOOK_EVENT_UNACKNOWLEDGED:
		*ret_command = PAGER_UNACKNOWLEDGE;
		return true;
	case PDWEBHOOK_EVENT_REOPENED:
		*ret_command = PAGER_REOPEN;
		return true;
	case PDWEBHOOK_EVENT_OTHER:
		break;
	}
	return false;
}

static const char *outcome_name(enum pager_outcome outcome)
{
	switch (outcome) {
	case PAGER_DONE:
		return "done";
	case PAGER_IGNORED:
		return "ignored";
	case PAGER_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

/* Runs a command through the writer; out gets the answer. */
static void run_command(struct app *app, const struct config *config,
			enum pager_command command, const char *key,
			const char *source, const char *actor,
			const char *dedup_id, struct api_response *out)
{
	struct writer_item item = {
		.kind = WRITER_COMMAND,
		.config = config,
		.message_id = dedup_id,
		.seen_type = "webhook",
		.received_ms = app_wall_ms(),
		.command = command,
		.key = key,
		.source = source,
		.actor = actor,
	};

	writer_submit(app->writer, &item);

	if (item.result == WRITER_FAILED) {
		reply(out, 503, "store unavailable: %s", strerror(-item.error));
		goto out;
	}
	if (item.result == WRITER_DUPLICATE) {
		reply(out, 200, "duplicate");
		goto out;
	}

	LOG(item.outcome.outcome == PAGER_DONE ? LOG_LEVEL_INFO
					       : LOG_LEVEL_WARNING,
	    "incident.command", {"command", pager_command_name(command)},
	    {"source", source}, {"actor", actor}, {"key", key},
	    {"dedup_key", item.outcome.dedup_key},
	    {"outcome", outcome_name(item.outcome.outcome)},
	    {"why", item.outcome.why});

	switch (item.outcome.outcome) {
	case PAGER_DONE:
		reply(out, 200, "%s", pager_command_name(command));
		break;
	case PAGER_IGNORED:
		/* A webhook is answered 2xx whatever it said: PagerDuty
		 * would only deliver it again. */
		reply(out, strcmp(source, "webhook") == 0 ? 200 : 409,
		      "ignored: %s", item.outcome.why);
		break;
	case PAGER_UNKNOWN:
		reply(out, strcmp(source, "webhook") == 0 ? 200 : 404,
		      "ignored: %s", item.outcome.why);
		break;
	}
out:
	writer_item_release(&item);
}

void api_webhook(struct app *app, const struct config *config, const char *body,
		 size_t len, const char *signature, const char *webhook_id,
		 struct api_response *out)
{
	const char *secret = config->webhook_secret.value;
	struct pdwebhook_event *event = NULL;
	enum pager_command command;
	const char *reason = NULL;
	int r;

	if (!secret) {
		reply(out, 404, "webhooks are not configured");
		return;
	}

	r = pdwebhook_verify(body, len, signature, secret, &reason);
	if (r < 0) {
		unsigned int status = r == -EPERM ? 403 : 400;
		char code[24];

		metrics_webhook_rejected(r == -EPERM
						 ? METRICS_WEBHOOK_SIGNATURE
						 : METRICS_WEBHOOK_MALFORMED);
		LOG(LOG_LEVEL_WARNING, "webhook.rejected",
		    {"status", log_int(code, status)}, {"reason", reason},
		    {"webhook_id", webhook_id});
		reply(out, status, "%s", reason ? reason : "refused");
		return;
	}

	r = pdwebhook_parse(body, len, &event, &reason);
	if (r < 0) {
		metrics_webhook_rejected(METRICS_WEBHOOK_MALFORMED);
		LOG(LOG_LEVEL_WARNING, "webhook.rejected", {"status", "400"},
		    {"reason", reason}, {"webhook_id", webhook_id});
		reply(out, r == -ENOMEM ? 503 : 400, "%s",
		      reason ? reason : "malformed");
		return;
	}

	if (!command_of(event->type, &command) || !event->incident_key) {
		LOG(LOG_LEVEL_INFO, "webhook.ignored",
		    {"event_type", event->event_type},
		    {"webhook_id", webhook_id},
		    {"incident", event->incident_id});
		reply(out, 200, "ignored: %s", event->event_type);
		goto out;
	}

	run_command(app, config, command, event->incident_key, "webhook",
		    event->agent_summary, webhook_id ? webhook_id : event->id,
		    out);
out:
	pdwebhook_event_free(event);
}

bool api_authorize(const struct config *config, const char *authorization,
		   struct api_response *out)
{
	const char *token = config->api_token.value;
	const char *given = NULL;
	size_t want;

	if (!token) {
		reply(out, 404, "the API is not configured");
		return false;
	}

	/* credentials = auth-scheme 1*SP token68, the scheme compared
	 * without regard to case (RFC 7235 2.1). */
	if (authorization && strncasecmp(authorization, "Bearer ", 7) == 0)
		given = authorization + 7 + strspn(authorization + 7, " ");

	want = strlen(token);
	if (!given || strlen(given) != want ||
	    CRYPTO_memcmp(given, token, want) != 0) {
		reply(out, 401, "a valid bearer token is required");
		return false;
	}
	return true;
}

/* The highest escalation level paged and not resolved; 0 for none. */
static int level_reached(struct store *store, const char *dedup_key,
			 unsigned int *ret_level)
{
	struct store_page *pages = NULL;
	unsigned int level = 0;
	size_t n = 0;
	int r;

	r = store_pages_open(store, dedup_key, &pages, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (pages[i].step + 1 > level)
			level = pages[i].step + 1;
	store_pages_free(pages, n);
	*ret_level = level;
	return 0;
}

static json_t *incident_json(struct store *store,
			     const struct store_incident *inc)
{
	unsigned int level = 0;
	char opened[32] = "";
	char next[32] = "";
	json_t *obj;

	if (inc->opened_ms)
		timeutil_format(inc->opened_ms, opened);
	if (inc->next_deadline_ms != ESCALATION_NEVER)
		timeutil_format(inc->next_deadline_ms, next);

	obj = json_pack("{s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:s, s:i}",
			"dedup_key", inc->dedup_key, "alert", inc->alert_name,
			"status", incident_status_name(inc->status), "severity",
			inc->severity, "route", inc->route, "policy",
			inc->policy, "escalation",
			escalation_status_name(inc->esc_status), "steps_passed",
			(json_int_t)inc->esc_next);
	if (!obj)
		return NULL;
	json_object_set_new(obj, "opened",
			    opened[0] ? json_string(opened) : json_null());
	json_object_set_new(obj, "next_deadline",
			    next[0] ? json_string(next) : json_null());
	json_object_set_new(obj, "acknowledged_by",
			    inc->ack_source ? json_string(inc->ack_source)
					    : json_null());
	if (level_reached(store, inc->dedup_key, &level) == 0)
		json_object_set_new(obj, "level",
				    level ? json_integer(level) : json_null());
	return obj;
}

void api_incidents(const struct config *config, struct api_response *out)
{
	struct store_incident *list = NULL;
	struct store *store = NULL;
	json_t *array = NULL;
	size_t n = 0;
	char *text;
	int r;

	/* A reader connection of its own: WAL lets it read beside the
	 * writer without waiting. */
	r = store_open(config->state_dir, &store);
	if (r == 0)
		r = store_incident_list_open(store, API_LIST_MAX, &list, &n);
	if (r < 0) {
		reply(out, 503, "store unavailable: %s", strerror(-r));
		goto out;
	}

	array = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array, incident_json(store, &list[i]));
	text = json_dumps(array, JSON_INDENT(2));
	if (!text) {
		reply(out, 500, "out of memory");
		goto out;
	}

	out->status = 200;
	out->content_type = "application/json";
	strbuf_release(&out->body);
	if (strbuf_puts(&out->body, text) < 0)
		reply(out, 500, "incident list too long");
	free(text);
out:
	json_decref(array);
	store_incidents_free(list, n);
	store_close(store);
}

/* The actor a client names, when it is short printable text. */
static const char *actor_of(const char *actor)
{
	size_t n = actor ? strlen(actor) : 0;

	if (n == 0 || n > API_ACTOR_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (actor[i] < 0x20 || actor[i] > 0x7e)
			return NULL;
	return actor;
}

void api_command(struct app *app, const struct config *config, const char *key,
		 const char *verb, const char *actor, struct api_response *out)
{
	enum pager_command command;

	if (strcmp(verb, "acknowledge") == 0)
		command = PAGER_ACKNOWLEDGE;
	else if (strcmp(verb, "resolve") == 0)
		command = PAGER_RESOLVE;
	else {
		reply(out, 404, "unknown action: %s", verb);
		return;
	}

	run_command(app, config, command, key, "api", actor_of(actor), NULL,
		    out);
}

void api_silences_list(struct app *app, const struct config *config,
		       struct api_response *out)
{
	char *text = silences_list(app->silences, config, app_wall_ms());

	if (!text) {
		reply(out, 500, "out of memory");
		return;
	}
	out->status = 200;
	out->content_type = "application/json";
	strbuf_release(&out->body);
	if (strbuf_puts(&out->body, text) < 0)
		reply(out, 500, "silence list too long");
	free(text);
}

void api_silence_add(struct app *app, const struct config *config,
		     const char *body, size_t len, struct api_response *out)
{
	char reason[SILENCES_REASON_MAX] = "invalid";
	int64_t id = 0;
	char text[24];
	int r;

	r = silences_add(app->silences, config, body, len, app_wall_ms(), &id,
			 reason);
	if (r < 0) {
		reply(out,
		      r == -EINVAL   ? 400
		      : r == -EEXIST ? 409
				     : 503,
		      "%s", reason);
		return;
	}
	LOG(LOG_LEVEL_INFO, "silence.added", {"id", log_int(text, id)},
	    {"source", "api"});
	reply(out, 201, "%lld", (long long)id);
}

void api_silence_remove(struct app *app, const char *id,
			struct api_response *out)
{
	bool found = false;
	char *end;
	long long n;
	int r;

	errno = 0;
	n = strtoll(id, &end, 10);
	if (errno || end == id || *end || n <= 0) {
		reply(out, 404, "no silence has that id");
		return;
	}

	r = silences_remove(app->silences, n, &found);
	if (r < 0) {
		reply(out, 503, "store unavailable: %s", strerror(-r));
		return;
	}
	if (!found) {
		reply(out, 404, "no silence has that id");
		return;
	}
	writer_poke(app->writer);
	LOG(LOG_LEVEL_INFO, "silence.removed", {"id", id}, {"source", "api"});
	reply(out, 200, "removed");
}

/*
 * A queue answer as compact JSON. It may hold a whole stored payload
 * (at most RENDER_BODY_MAX once encoded), or a list of rows without
 * theirs, so its bound is larger than other answers'.
 */
static void reply_json(struct api_response *out, unsigned int status,
		       json_t *value)
{
	char *text = value ? json_dumps(value, JSON_COMPACT) : NULL;

	json_decref(value);
	if (!text) {
		reply(out, 500, "out of memory");
		return;
	}
	out->status = status;
	out->content_type = "application/json";
	strbuf_release(&out->body);
	strbuf_init(&out->body, API_QUEUE_BODY_MAX);
	if (strbuf_puts(&out->body, text) < 0 ||
	    strbuf_puts(&out->body, "\n") < 0)
		reply(out, 500, "answer too long");
	free(text);
}

static json_t *time_or_null(int64_t ms)
{
	char text[32];

	if (ms <= 0)
		return json_null();
	timeutil_format(ms, text);
	return json_string(text);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *api_queue_row_json(const struct store_queue_row *q, bool with_body)
{
	const struct store_outbox_row *row = &q->row;
	bool event = row->kind == STORE_OUTBOX_EVENT;
	json_t *obj = json_object();
	json_t *payload;

	if (!obj)
		return NULL;

	json_object_set_new(obj, "id", json_integer(row->id));
	json_object_set_new(obj, "state",
			    json_string(q->dead ? "dead" : "pending"));
	json_object_set_new(obj, "kind",
			    json_string(event ? "event" : "subscribe"));
	json_object_set_new(obj, "target", string_or_null(row->target));
	json_object_set_new(obj, "action", string_or_null(row->action));
	if (event)
		json_object_set_new(obj, "dedup_key",
				    string_or_null(row->order_key));
	else
		json_object_set_new(obj, "topic", string_or_null(row->detail));
	json_object_set_new(obj, "detail",
			    string_or_null(event ? row->detail : NULL));
	json_object_set_new(obj, "attempts", json_integer(row->attempts));
	json_object_set_new(obj, "created", time_or_null(row->created_ms));
	if (q->dead) {
		json_object_set_new(obj, "dead_since",
				    time_or_null(q->dead_ms));
		json_object_set_new(obj, "reason", string_or_null(q->reason));
	} else {
		json_object_set_new(obj, "next_attempt",
				    time_or_null(row->next_attempt_ms));
		json_object_set_new(obj, "last_error",
				    string_or_null(row->last_error));
	}

	if (!with_body)
		return obj;
	if (!event) {
		json_object_set_new(obj, "subscribe_url",
				    string_or_null(row->body));
		return obj;
	}
	/* The payload as stored; the routing key is added only when it is
	 * sent, so none is here to leak. */
	payload = json_loads(row->body ? row->body : "", 0, NULL);
	json_object_set_new(obj, "payload",
			    payload ? payload : string_or_null(row->body));
	return obj;
}

/* GET /api/queue or /api/queue/dead: the rows, without bodies. */
static void queue_list(const struct config *config, bool dead,
		       struct api_response *out)
{
	struct store_queue_row *rows = NULL;
	struct store *store = NULL;
	int64_t total = 0;
	int64_t oldest = 0;
	json_t *array;
	size_t n = 0;
	int r;

	r = store_open(config->state_dir, &store);
	if (r == 0)
		r = dead ? store_dead_count(store, &total)
			 : store_outbox_stats(store, &total, &oldest);
	if (r == 0)
		r = store_queue_list(store, dead, API_LIST_MAX, &rows, &n);
	if (r < 0) {
		reply(out, 503, "store unavailable: %s", strerror(-r));
		goto out;
	}

	array = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(array,
				      api_queue_row_json(&rows[i], false));
	reply_json(out, 200,
		   json_pack("{s:s, s:I, s:o}", "state",
			     dead ? "dead" : "pending", "total",
			     (json_int_t)total, "rows", array));
out:
	store_queue_rows_free(rows, n);
	store_close(store);
}

static void queue_show(const struct config *config, int64_t id,
		       enum store_queue_scope scope, struct api_response *out)
{
	struct store_queue_row row = {0};
	struct store *store = NULL;
	bool found = false;
	int r;

	r = store_open(config->state_dir, &store);
	if (r == 0)
		r = store_queue_get(store, id, scope, &row, &found);
	if (r < 0)
		reply(out, 503, "store unavailable: %s", strerror(-r));
	else if (!found)
		reply(out, 404, "no such row in the queue");
	else
		reply_json(out, 200, api_queue_row_json(&row, true));
	store_queue_row_release(&row);
	store_close(store);
}

/* Retry or drop through the writer, which owns the store's writes. */
static void queue_change(struct app *app, const struct config *config,
			 enum writer_queue_op op, int64_t id,
			 enum store_queue_scope scope, struct api_response *out)
{
	const char *result = op == WRITER_QUEUE_RETRY ? "retried" : "dropped";
	struct writer_item item = {
		.kind = WRITER_QUEUE,
		.config = config,
		.received_ms = app_wall_ms(),
		.queue_op = op,
		.queue_id = id,
		.queue_scope = scope,
	};
	const struct store_queue_row *row = &item.queue_row;
	char text[24];
	char attempts[24];

	writer_submit(app->writer, &item);
	if (item.result == WRITER_FAILED) {
		reply(out, 503, "store unavailable: %s", strerror(-item.error));
		goto out;
	}
	if (!item.queue_found) {
		reply(out, 404, "no such row in the queue");
		goto out;
	}

	LOG(LOG_LEVEL_INFO,
	    op == WRITER_QUEUE_RETRY ? "queue.retried" : "queue.dropped",
	    {"id", log_int(text, id)}, {"from", row->dead ? "dead" : "pending"},
	    {"kind",
	     row->row.kind == STORE_OUTBOX_EVENT ? "event" : "subscribe"},
	    {"target", row->row.target},
	    {"dedup_key",
	     row->row.kind == STORE_OUTBOX_EVENT ? row->row.order_key : NULL},
	    {"action", row->row.action},
	    {"attempts", log_int(attempts, row->row.attempts)},
	    {"source", "api"});
	reply_json(out, 200,
		   json_pack("{s:s, s:o}", "result", result, "row",
			     api_queue_row_json(row, false)));
out:
	writer_item_release(&item);
}

/* "ID" or "pending/ID" or "dead/ID", then maybe "/retry". */
static int parse_queue_path(const char *path, enum store_queue_scope *scope,
			    int64_t *ret_id, const char **ret_verb)
{
	long long id;
	char *end;

	*scope = STORE_QUEUE_ANY;
	if (strncmp(path, "pending/", 8) == 0) {
		*scope = STORE_QUEUE_PENDING;
		path += 8;
	} else if (strncmp(path, "dead/", 5) == 0) {
		*scope = STORE_QUEUE_DEAD;
		path += 5;
	}

	errno = 0;
	id = strtoll(path, &end, 10);
	if (errno || end == path || id <= 0 || (*end && *end != '/'))
		return -ENOENT;
	*ret_id = id;
	*ret_verb = *end ? end + 1 : "";
	return 0;
}

void api_queue(struct app *app, const struct config *config, const char *method,
	       const char *path, struct api_response *out)
{
	/* libmicrohttpd sends a HEAD's answer without its body. */
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	enum store_queue_scope scope;
	const char *verb = "";
	int64_t id = 0;

	if (*path == '/')
		path++;

	if (!*path || strcmp(path, "pending") == 0 ||
	    strcmp(path, "dead") == 0) {
		if (!get)
			reply_not_allowed(out, "GET, HEAD");
		else
			queue_list(config, strcmp(path, "dead") == 0, out);
		return;
	}

	if (parse_queue_path(path, &scope, &id, &verb) < 0) {
		reply(out, 404, "use /api/queue[/pending|/dead][/ID[/retry]]");
		return;
	}

	if (!*verb && get)
		queue_show(config, id, scope, out);
	else if (!*verb && strcmp(method, "DELETE") == 0)
		queue_change(app, config, WRITER_QUEUE_DROP, id, scope, out);
	else if (strcmp(verb, "retry") == 0 && strcmp(method, "POST") == 0)
		queue_change(app, config, WRITER_QUEUE_RETRY, id, scope, out);
	else if (!*verb)
		reply_not_allowed(out, "GET, HEAD, DELETE");
	else if (strcmp(verb, "retry") == 0)
		reply_not_allowed(out, "POST");
	else
		reply(out, 404, "unknown action: %s", verb);
}
