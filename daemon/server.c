/*
 * server: routing of HTTP requests and the SNS body reader.
 */
#include "server.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <systemd/sd-daemon.h>

#include "api.h"
#include "deadlines.h"
#include "delivery.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"

#define SERVER_METRICS_MAX (256 * 1024)

struct server {
	struct app *app;
	struct MHD_Daemon *httpd;
	struct deadlines *deadlines;
	int listen_fd;
};

enum route {
	ROUTE_SNS,
	ROUTE_WEBHOOK,
	ROUTE_API_COMMAND,
	ROUTE_API_SILENCE,
};

/*
 * Per-request state across libmicrohttpd's calls of the handler. The
 * request keeps the configuration it started with to its end.
 */
struct request {
	const struct config *config; /* a reference, see app.h */
	enum route route;
	struct strbuf body;
	bool too_large;
	int64_t started_mono;
};

/* allow, when not NULL, is sent as the Allow header (of a 405). */
static enum MHD_Result respond_allow(struct MHD_Connection *conn,
				     unsigned int status,
				     const char *content_type, const char *body,
				     size_t len, const char *allow)
{
	struct MHD_Response *response;
	enum MHD_Result ret;

	response = MHD_create_response_from_buffer(len, (void *)body,
						   MHD_RESPMEM_MUST_COPY);
	if (!response)
		return MHD_NO;

	MHD_add_response_header(response, "Content-Type", content_type);
	if (allow)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
	/* A 401 says how to authenticate (RFC 9110): the API's bearer
	 * token is the one 401 there is. */
	if (status == 401)
		MHD_add_response_header(response,
					MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"alertbridge\"");
	ret = MHD_queue_response(conn, status, response);
	MHD_destroy_response(response);
	return ret;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status,
			       const char *content_type, const char *body,
			       size_t len)
{
	return respond_allow(conn, status, content_type, body, len, NULL);
}

static enum MHD_Result respond_text(struct MHD_Connection *conn,
				    unsigned int status, const char *text)
{
	char line[320];
	int n = snprintf(line, sizeof(line), "%s\n", text);

	return respond(conn, status, "text/plain; charset=utf-8", line,
		       (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static enum MHD_Result handle_metrics(struct MHD_Connection *conn)
{
	struct strbuf out;
	enum MHD_Result ret;

	strbuf_init(&out, SERVER_METRICS_MAX);
	if (metrics_render(&out) < 0) {
		strbuf_release(&out);
		return respond_text(conn, 500, "metrics unavailable");
	}

	ret = respond(conn, 200, "text/plain; version=0.0.4", out.data,
		      out.len);
	strbuf_release(&out);
	return ret;
}

static enum MHD_Result handle_ready(struct server *server,
				    struct MHD_Connection *conn)
{
	struct app *app = server->app;
	int64_t dead = metrics_gauge_get(METRICS_GAUGE_DEAD_LETTERS);
	char text[160];

	if (atomic_load(&app->stopping))
		return respond_text(conn, 503, "not ready: shutting down");
	if (!atomic_load(&app->store_ok))
		return respond_text(conn, 503,
				    "not ready: the store failed its last"
				    " commit");
	if (!app->delivery || !delivery_alive(app->delivery))
		return respond_text(conn, 503,
				    "not ready: the delivery worker is not"
				    " running");

	/*
	 * Dead letters do not stop ingest, so they do not make the daemon
	 * unready; they are shown so that someone looks, until someone has
	 * retried or dropped them.
	 */
	if (dead > 0) {
		snprintf(text, sizeof(text),
			 "ready, degraded: %lld dead letter%s waiting "
			 "(alertbridge"
			 " queue list --dead)",
			 (long long)dead, dead == 1 ? "" : "s");
		return respond_text(conn, 200, text);
	}
	return respond_text(conn, 200, "ready");
}

static bool content_type_ok(struct MHD_Connection *conn)
{
	const char *type = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n;

	/* SNS sends text/plain; a hand-made post may say JSON, or nothing. */
	if (!type)
		return true;
	n = strcspn(type, ";");
	while (n > 0 && type[n - 1] == ' ')
		n--;
	return (n == 10 && strncasecmp(type, "text/plain", n) == 0) ||
	       (n == 16 && strncasecmp(type, "application/json", n) == 0);
}

static enum MHD_Result handle_sns(struct server *server,
				  struct MHD_Connection *conn,
				  struct request *req)
{
	struct ingest_request in = {
		.config = req->config,
		.body = req->body.data ? req->body.data : "",
		.len = req->body.len,
		.hdr_message_type = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, "x-amz-sns-message-type"),
		.hdr_message_id = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, "x-amz-sns-message-id"),
		.hdr_topic_arn = MHD_lookup_connection_value(
			conn, MHD_HEADER_KIND, "x-amz-sns-topic-arn"),
		.started_mono = req->started_mono,
	};
	struct ingest_response out = {0};

	ingest_sns(server->app, &in, &out);
	return respond_text(conn, out.status, out.reason);
}

static enum MHD_Result too_large(const struct config *config,
				 struct MHD_Connection *conn)
{
	char text[128];

	metrics_rejected(METRICS_REJECT_TOO_LARGE);
	metrics_received(METRICS_TYPE_UNKNOWN, METRICS_OUTCOME_REJECTED);
	snprintf(text, sizeof(text), "body larger than %zu bytes",
		 config->max_body_bytes);
	LOG(LOG_LEVEL_WARNING, "sns.rejected", {"status", "413"},
	    {"reason", text});
	return respond_text(conn, 413, text);
}

static enum MHD_Result wrong_content_type(struct MHD_Connection *conn)
{
	static const char text[] = "content type must be text/plain or"
				   " application/json";

	metrics_rejected(METRICS_REJECT_CONTENT_TYPE);
	metrics_received(METRICS_TYPE_UNKNOWN, METRICS_OUTCOME_REJECTED);
	LOG(LOG_LEVEL_WARNING, "sns.rejected", {"status", "415"},
	    {"reason", text});
	return respond_text(conn, 415, text);
}

/* Refuses before reading a body whose declared length is too long. */
static bool declared_too_large(const struct config *config,
			       struct MHD_Connection *conn)
{
	const char *length = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long n;
	char *end;

	if (!length)
		return false;
	errno = 0;
	n = strtoull(length, &end, 10);
	return errno == ERANGE || (end != length && n > config->max_body_bytes);
}

static enum MHD_Result respond_api(struct MHD_Connection *conn,
				   struct api_response *out)
{
	enum MHD_Result ret =
		respond_allow(conn, out->status, out->content_type,
			      out->body.data ? out->body.data : "",
			      out->body.len, out->allow);

	api_response_release(out);
	return ret;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* POST /api/incidents/KEY/VERB: KEY may itself hold slashes. */
static enum MHD_Result handle_api_command(struct server *server,
					  const struct config *config,
					  struct MHD_Connection *conn,
					  const char *url)
{
	static const char prefix[] = "/api/incidents/";
	struct api_response out;
	const char *key = url + sizeof(prefix) - 1;
	const char *slash = strrchr(key, '/');
	char *copy;

	api_response_init(&out);
	if (!api_authorize(config, header(conn, "Authorization"), &out))
		return respond_api(conn, &out);
	if (!slash || slash == key)
		return respond_text(conn, 404,
				    "use /api/incidents/KEY/acknowledge or"
				    " /resolve");

	copy = strndup(key, (size_t)(slash - key));
	if (!copy)
		return MHD_NO;
	api_command(server->app, config, copy, slash + 1,
		    header(conn, "X-Alertbridge-Actor"), &out);
	free(copy);
	return respond_api(conn, &out);
}

/* Requests without a body, answered on the first call. */
static enum MHD_Result handle_get(struct server *server,
				  const struct config *config,
				  struct MHD_Connection *conn, const char *url)
{
	struct api_response out;

	if (strcmp(url, "/healthz") == 0)
		return respond_text(conn, 200, "ok");
	if (strcmp(url, "/readyz") == 0)
		return handle_ready(server, conn);
	if (strcmp(url, "/metrics") == 0)
		return handle_metrics(conn);
	if (strcmp(url, "/api/silences") == 0) {
		api_response_init(&out);
		if (api_authorize(config, header(conn, "Authorization"), &out))
			api_silences_list(server->app, config, &out);
		return respond_api(conn, &out);
	}
	if (strcmp(url, "/api/incidents") == 0) {
		api_response_init(&out);
		if (api_authorize(config, header(conn, "Authorization"), &out))
			api_incidents(config, &out);
		return respond_api(conn, &out);
	}
	return respond_text(conn, 404, "not found");
}

/*
 * The methods a path answers, as a 405's Allow header lists them; NULL
 * for a path not served. The queue API says its own (api_queue()).
 */
static const char *methods_of(const char *url)
{
	if (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
	    strcmp(url, "/metrics") == 0 || strcmp(url, "/api/incidents") == 0)
		return "GET, HEAD";
	if (strcmp(url, "/api/silences") == 0)
		return "GET, HEAD, POST";
	if (strncmp(url, "/api/silences/", 14) == 0)
		return "DELETE";
	if (strcmp(url, "/sns") == 0 ||
	    strcmp(url, "/pagerduty/webhook") == 0 ||
	    strncmp(url, "/api/incidents/", 15) == 0)
		return "POST";
	return NULL;
}

/* Is method one of the list ("GET, HEAD")? */
static bool method_in(const char *method, const char *list)
{
	size_t n = strlen(method);

	while (*list) {
		size_t len = strcspn(list, ",");

		if (len == n && strncmp(list, method, n) == 0)
			return true;
		list += len;
		list += strspn(list, ", ");
	}
	return false;
}

static enum MHD_Result not_allowed(struct MHD_Connection *conn,
				   const char *allow)
{
	char text[96];
	int n = snprintf(text, sizeof(text),
			 "method not allowed here; use %s\n", allow);

	return respond_allow(conn, 405, "text/plain; charset=utf-8", text,
			     (size_t)n, allow);
}

static bool route_post(const char *url, enum route *ret_route)
{
	if (strcmp(url, "/sns") == 0)
		*ret_route = ROUTE_SNS;
	else if (strcmp(url, "/pagerduty/webhook") == 0)
		*ret_route = ROUTE_WEBHOOK;
	else if (strncmp(url, "/api/incidents/", 15) == 0)
		*ret_route = ROUTE_API_COMMAND;
	else if (strcmp(url, "/api/silences") == 0)
		*ret_route = ROUTE_API_SILENCE;
	else
		return false;
	return true;
}

static enum MHD_Result handle_post(struct server *server,
				   struct MHD_Connection *conn, const char *url,
				   struct request *req)
{
	struct api_response out;

	switch (req->route) {
	case ROUTE_SNS:
		return handle_sns(server, conn, req);
	case ROUTE_WEBHOOK:
		api_response_init(&out);
		api_webhook(server->app, req->config,
			    req->body.data ? req->body.data : "", req->body.len,
			    header(conn, "X-PagerDuty-Signature"),
			    header(conn, "X-Webhook-Id"), &out);
		return respond_api(conn, &out);
	case ROUTE_API_COMMAND:
		return handle_api_command(server, req->config, conn, url);
	case ROUTE_API_SILENCE:
		api_response_init(&out);
		if (api_authorize(req->config, header(conn, "Authorization"),
				  &out))
			api_silence_add(server->app, req->config,
					req->body.data ? req->body.data : "",
					req->body.len, &out);
		return respond_api(conn, &out);
	}
	return respond_text(conn, 404, "not found");
}

/*
 * The first call of a request: answers what has no body at once, or
 * sets up the request state that collects the body. config is the
 * caller's reference; on MHD_YES with *ret_req set, the request has
 * taken it over.
 */
static enum MHD_Result first_call(struct server *server,
				  const struct config *config,
				  struct MHD_Connection *conn, const char *url,
				  const char *method, struct request **ret_req)
{
	struct request *req;
	const char *methods;
	enum route route;

	/* The queue API takes no body: answered on the first call. */
	if (strncmp(url, "/api/queue", 10) == 0 &&
	    (url[10] == '\0' || url[10] == '/')) {
		struct api_response out;

		api_response_init(&out);
		if (api_authorize(config, header(conn, "Authorization"), &out))
			api_queue(server->app, config, method, url + 10, &out);
		return respond_api(conn, &out);
	}

	methods = methods_of(url);
	if (!methods)
		return respond_text(conn, 404, "not found");
	if (!method_in(method, methods))
		return not_allowed(conn, methods);

	/* /api/silences/ID is the one path here that takes DELETE. */
	if (strcmp(method, "DELETE") == 0) {
		struct api_response out;

		api_response_init(&out);
		if (api_authorize(config, header(conn, "Authorization"), &out))
			api_silence_remove(server->app, url + 14, &out);
		return respond_api(conn, &out);
	}
	if (strcmp(method, "POST") != 0 || !route_post(url, &route))
		return handle_get(server, config, conn, url);

	if (declared_too_large(config, conn))
		return too_large(config, conn);
	if (route == ROUTE_SNS && !content_type_ok(conn))
		return wrong_content_type(conn);

	req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	req->config = config;
	req->route = route;
	strbuf_init(&req->body, config->max_body_bytes);
	req->started_mono = app_mono_ms();
	*ret_req = req;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *server = cls;
	struct request *req = *con_cls;

	if (!req) {
		const struct config *config = app_config_acquire(server->app);
		enum MHD_Result ret;

		ret = first_call(server, config, conn, url, method, &req);
		if (req)
			*con_cls = req;
		else
			app_config_release(server->app, config);
		return ret;
	}

	if (*upload_size > 0) {
		/* Past the cap, keep reading (and dropping) to answer 413. */
		if (!req->too_large &&
		    strbuf_append(&req->body, upload, *upload_size) < 0)
			req->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}

	deadlines_request_received(conn);
	if (req->too_large)
		return too_large(req->config, conn);
	return handle_post(server, conn, url, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct server *server = cls;
	struct request *req = *con_cls;

	deadlines_request_done(conn);
	if (!req)
		return;
	app_config_release(server->app, req->config);
	strbuf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[512];
	size_t n;

	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	LOG(LOG_LEVEL_DEBUG, "http.library", {"detail", text});
}

/* A listening socket on host:port; port 0 takes any free port. */
static int listen_on(const char *host, int port, int *ret_fd)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char service[16];
	int fd = -1;
	int r;

	snprintf(service, sizeof(service), "%d", port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r != 0)
		return -EADDRNOTAVAIL;

	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 256) == 0)
			break;
		r = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);

	if (fd < 0)
		return r < 0 ? r : -EADDRNOTAVAIL;
	*ret_fd = fd;
	return 0;
}

static int bound_port(int fd)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);

	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	if (addr.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&addr)->sin_port);
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return -1;
}

int server_systemd_socket(int *ret_fd)
{
	int fd = SD_LISTEN_FDS_START;
	int n;
	int r;

	*ret_fd = -1;
	n = sd_listen_fds(1);
	if (n < 0) {
		LOG(LOG_LEVEL_ERROR, "server.activation",
		    {"error", strerror(-n)});
		return n;
	}
	if (n == 0)
		return 0;
	if (n > 1) {
		LOG(LOG_LEVEL_ERROR, "server.activation",
		    {"detail", "more than one socket passed; expected one"});
		return -EINVAL;
	}

	/* libmicrohttpd takes a bound, listening stream socket. */
	r = sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0);
	if (r <= 0) {
		LOG(LOG_LEVEL_ERROR, "server.activation",
		    {"detail", "the socket passed is not a listening TCP"
			       " socket"},
		    {"error", r < 0 ? strerror(-r) : NULL});
		return r < 0 ? r : -EINVAL;
	}

	LOG(LOG_LEVEL_INFO, "server.socket_activated", {"fd", "3"});
	*ret_fd = fd;
	return 0;
}

int server_start(struct app *app, const struct config *config, int listen_fd,
		 struct server **ret_server, int *ret_port)
{
	struct server *server;
	int fd = listen_fd;
	int r;

	server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->app = app;

	if (fd < 0) {
		r = listen_on(config->listen_host, config->listen_port, &fd);
		if (r < 0)
			goto fail;
	}
	server->listen_fd = fd;

	r = deadlines_start(config->request_timeout_ms, &server->deadlines);
	if (r < 0)
		goto fail;

	server->httpd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			MHD_USE_ITC,
		0, NULL, NULL, on_request, server, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
		MHD_OPTION_CONNECTION_LIMIT, config->max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		config->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
		config->connection_timeout_s, MHD_OPTION_NOTIFY_CONNECTION,
		deadlines_on_connection, server->deadlines,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
	if (!server->httpd) {
		r = -EIO;
		goto fail;
	}

	*ret_port = bound_port(fd);
	*ret_server = server;
	return 0;
fail:
	deadlines_stop(server->deadlines);
	/* A socket systemd passed stays with the caller on failure. */
	if (fd >= 0 && listen_fd < 0)
		close(fd);
	free(server);
	return r;
}

void server_stop(struct server *server)
{
	if (!server)
		return;

	/* Stop accepting first; then wait for the requests under way. */
	MHD_quiesce_daemon(server->httpd);
	MHD_stop_daemon(server->httpd);
	deadlines_stop(server->deadlines);
	close(server->listen_fd);
	free(server);
}
