/*
 * tlsserver: libmicrohttpd with TLS (its GnuTLS build) and one thread
 * per connection, so that a forwarded request blocks only its own
 * connection.
 */
#include "tlsserver.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include "harness.h"
#include "util.h"

#define TLSSERVER_MAX_SCRIPT  64
#define TLSSERVER_MAX_RECORDS 256
#define TLSSERVER_BODY_MAX    (1024 * 1024)
#define TLSSERVER_PROXY_MS    5000L
#define TLSSERVER_IDLE_S      10

struct script_entry {
	char *path;
	unsigned int status;
	char *body;
	char *location;
	unsigned int remaining;
};

struct tlsserver {
	struct MHD_Daemon *httpd;
	char *key_pem;
	char *cert_pem;
	int port;
	pthread_mutex_t lock;
	struct script_entry script[TLSSERVER_MAX_SCRIPT];
	size_t n_script;
	char *proxy_suffix;
	char *proxy_upstream;
	char *proxy_header;
	struct tlsserver_request *records;
	size_t n_records;
};

/* One request's answer, owned by the connection thread. */
struct reply {
	unsigned int status;
	char *body;
	size_t body_len;
	char *location;
};

static void reply_release(struct reply *reply)
{
	free(reply->body);
	free(reply->location);
	memset(reply, 0, sizeof(*reply));
}

static void copy_text(char *out, size_t size, const char *text)
{
	snprintf(out, size, "%s", text ? text : "");
}

static bool has_suffix(const char *text, const char *suffix)
{
	size_t len = strlen(text);
	size_t n = strlen(suffix);

	return len >= n && strcmp(text + len - n, suffix) == 0;
}

/* The script's answer for path, under the lock; false when none. */
static bool scripted_answer(struct tlsserver *srv, const char *path,
			    struct reply *ret)
{
	struct script_entry *last = NULL;
	struct script_entry *chosen = NULL;

	for (size_t i = 0; i < srv->n_script; i++) {
		struct script_entry *e = &srv->script[i];

		if (strcmp(e->path, path) != 0)
			continue;
		last = e;
		if (e->remaining > 0) {
			chosen = e;
			break;
		}
	}
	if (!chosen)
		chosen = last;
	if (!chosen)
		return false;

	if (chosen->remaining > 0)
		chosen->remaining--;
	ret->status = chosen->status;
	ret->body = util_strdup_or_null(chosen->body);
	ret->body_len = chosen->body ? strlen(chosen->body) : 0;
	ret->location = util_strdup_or_null(chosen->location);
	return true;
}

static size_t on_upstream_body(char *data, size_t size, size_t n,
			       void *userdata)
{
	struct strbuf *sb = userdata;

	if (strbuf_append(sb, data, size * n) < 0)
		return 0;
	return size * n;
}

static void forward(const char *upstream, const char *header, const char *path,
		    const char *query, struct reply *ret)
{
	struct curl_slist *headers = NULL;
	struct strbuf sb;
	char url[4096];
	long status = 0;
	CURLcode rc;
	CURL *curl;

	ret->status = 502;
	curl = curl_easy_init();
	if (!curl)
		return;

	snprintf(url, sizeof(url), "%s%s%s%s", upstream, path,
		 query[0] ? "?" : "", query);
	strbuf_init(&sb, TLSSERVER_BODY_MAX);
	headers = curl_slist_append(NULL, header);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, TLSSERVER_PROXY_MS);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_upstream_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sb);

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK && status > 0) {
		ret->status = (unsigned int)status;
		ret->body = strbuf_detach(&sb, &ret->body_len);
	}

	strbuf_release(&sb);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
}

/*
 * The raw request target, kept for its query: MHD hands the handler only
 * the decoded path.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	(void)conn;
	return strdup(uri);
}

static void record(struct tlsserver *srv, const struct tlsserver_request *req)
{
	pthread_mutex_lock(&srv->lock);
	if (srv->n_records < TLSSERVER_MAX_RECORDS)
		srv->records[srv->n_records++] = *req;
	pthread_mutex_unlock(&srv->lock);
}

static void answer_for(struct tlsserver *srv,
		       const struct tlsserver_request *req, struct reply *ret)
{
	char *upstream = NULL;
	char *header = NULL;
	bool scripted;

	if (strcmp(req->method, "GET") != 0) {
		ret->status = 405;
		return;
	}

	pthread_mutex_lock(&srv->lock);
	scripted = scripted_answer(srv, req->path, ret);
	if (!scripted && srv->proxy_suffix &&
	    has_suffix(req->path, srv->proxy_suffix)) {
		upstream = strdup(srv->proxy_upstream);
		header = strdup(srv->proxy_header);
	}
	pthread_mutex_unlock(&srv->lock);

	if (scripted)
		goto out;
	if (upstream && header)
		forward(upstream, header, req->path, req->query, ret);
	else
		ret->status = 404;
out:
	free(upstream);
	free(header);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct tlsserver *srv = cls;
	const char *uri = *con_cls;
	const char *query = uri ? strchr(uri, '?') : NULL;
	struct tlsserver_request req = {0};
	struct reply reply = {0};
	struct MHD_Response *response;
	enum MHD_Result ret;

	(void)version;
	(void)data;
	(void)size;

	copy_text(req.method, sizeof(req.method), method);
	copy_text(req.path, sizeof(req.path), url);
	copy_text(req.query, sizeof(req.query), query ? query + 1 : "");
	copy_text(req.host, sizeof(req.host),
		  MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					      MHD_HTTP_HEADER_HOST));
	copy_text(req.authorization, sizeof(req.authorization),
		  MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					      MHD_HTTP_HEADER_AUTHORIZATION));

	answer_for(srv, &req, &reply);
	req.status = reply.status;
	record(srv, &req);

	response = MHD_create_response_from_buffer(reply.body_len,
						   reply.body ? reply.body : "",
						   MHD_RESPMEM_MUST_COPY);
	if (!response) {
		reply_release(&reply);
		return MHD_NO;
	}
	if (reply.location)
		MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION,
					reply.location);
	ret = MHD_queue_response(conn, reply.status, response);
	MHD_destroy_response(response);
	reply_release(&reply);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	(void)cls;
	(void)conn;
	(void)code;
	free(*con_cls);
	*con_cls = NULL;
}

int tlsserver_start(const char *key_pem, const char *cert_pem,
		    struct tlsserver **ret)
{
	struct tlsserver *srv = calloc(1, sizeof(*srv));
	const union MHD_DaemonInfo *info;
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};

	if (!srv)
		return -ENOMEM;

	pthread_mutex_init(&srv->lock, NULL);
	srv->key_pem = strdup(key_pem);
	srv->cert_pem = strdup(cert_pem);
	srv->records = calloc(TLSSERVER_MAX_RECORDS, sizeof(*srv->records));
	if (!srv->key_pem || !srv->cert_pem || !srv->records) {
		tlsserver_stop(srv);
		return -ENOMEM;
	}

	srv->httpd = MHD_start_daemon(
		MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
			MHD_USE_INTERNAL_POLLING_THREAD,
		0, NULL, NULL, on_request, srv, MHD_OPTION_HTTPS_MEM_KEY,
		srv->key_pem, MHD_OPTION_HTTPS_MEM_CERT, srv->cert_pem,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)TLSSERVER_IDLE_S,
		MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
	if (!srv->httpd) {
		tlsserver_stop(srv);
		return -EIO;
	}

	info = MHD_get_daemon_info(srv->httpd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info->port;
	*ret = srv;
	return 0;
}

static void entry_release(struct script_entry *e)
{
	free(e->path);
	free(e->body);
	free(e->location);
	memset(e, 0, sizeof(*e));
}

void tlsserver_stop(struct tlsserver *srv)
{
	if (!srv)
		return;

	if (srv->httpd)
		MHD_stop_daemon(srv->httpd);
	for (size_t i = 0; i < srv->n_script; i++)
		entry_release(&srv->script[i]);
	free(srv->proxy_suffix);
	free(srv->proxy_upstream);
	free(srv->proxy_header);
	free(srv->records);
	free(srv->key_pem);
	free(srv->cert_pem);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

int tlsserver_port(const struct tlsserver *srv)
{
	return srv->port;
}

int tlsserver_script(struct tlsserver *srv, const char *path,
		     struct tlsserver_answer answer, unsigned int count)
{
	struct script_entry e = {
		.status = answer.status,
		.remaining = count,
	};
	int r = 0;

	e.path = strdup(path);
	e.body = util_strdup_or_null(answer.body);
	e.location = util_strdup_or_null(answer.location);
	if (!e.path || (answer.body && !e.body) ||
	    (answer.location && !e.location)) {
		entry_release(&e);
		return -ENOMEM;
	}

	pthread_mutex_lock(&srv->lock);
	if (srv->n_script < TLSSERVER_MAX_SCRIPT)
		srv->script[srv->n_script++] = e;
	else
		r = -ENOSPC;
	pthread_mutex_unlock(&srv->lock);

	if (r < 0)
		entry_release(&e);
	return r;
}

void tlsserver_clear(struct tlsserver *srv, const char *path)
{
	size_t kept = 0;

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->n_script; i++) {
		if (strcmp(srv->script[i].path, path) == 0)
			entry_release(&srv->script[i]);
		else
			srv->script[kept++] = srv->script[i];
	}
	srv->n_script = kept;
	pthread_mutex_unlock(&srv->lock);
}

int tlsserver_proxy(struct tlsserver *srv, const char *suffix,
		    const char *upstream, const char *header)
{
	char *s = strdup(suffix);
	char *u = strdup(upstream);
	char *h = strdup(header);

	if (!s || !u || !h) {
		free(s);
		free(u);
		free(h);
		return -ENOMEM;
	}

	pthread_mutex_lock(&srv->lock);
	free(srv->proxy_suffix);
	free(srv->proxy_upstream);
	free(srv->proxy_header);
	srv->proxy_suffix = s;
	srv->proxy_upstream = u;
	srv->proxy_header = h;
	pthread_mutex_unlock(&srv->lock);
	return 0;
}

size_t tlsserver_count(struct tlsserver *srv, const char *path)
{
	size_t n = 0;

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->n_records; i++)
		if (!path || strcmp(srv->records[i].path, path) == 0)
			n++;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

int tlsserver_request(struct tlsserver *srv, size_t i,
		      struct tlsserver_request *ret)
{
	int r = -ENOENT;

	pthread_mutex_lock(&srv->lock);
	if (i < srv->n_records) {
		*ret = srv->records[i];
		r = 0;
	}
	pthread_mutex_unlock(&srv->lock);
	return r;
}

int tlsserver_wait(struct tlsserver *srv, const char *path, size_t n,
		   int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	while (tlsserver_count(srv, path) < n) {
		if (harness_mono_ms() > deadline)
			return -ETIMEDOUT;
		harness_pause_ms(5);
	}
	return 0;
}
