/*
 * fakepd: libmicrohttpd with one thread per connection, so that a
 * hanging answer blocks only its own request.
 */
#include "fakepd.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "harness.h"
#include "util.h"

#define FAKEPD_BODY_MAX    (1024 * 1024)
#define FAKEPD_MAX_RECORDS 20000
#define FAKEPD_MAX_SCRIPT  1024

struct record {
	json_t *body;
	unsigned int status;
	int64_t received_ms;
};

struct fakepd {
	struct MHD_Daemon *httpd;
	char url[64];
	pthread_mutex_t lock;
	struct fakepd_answer script[FAKEPD_MAX_SCRIPT];
	size_t script_head;
	size_t script_len;
	struct record *records;
	size_t n_records;
	size_t n_accepted;
	volatile bool retry_after_as_date;
	volatile bool stopping;
};

struct upload {
	struct strbuf body;
};

static struct fakepd_answer next_answer(struct fakepd *pd)
{
	struct fakepd_answer answer = {202, -1, 0};

	if (pd->script_head < pd->script_len)
		answer = pd->script[pd->script_head++];
	return answer;
}

static void sleep_ms(struct fakepd *pd, int ms)
{
	/* A hang ends early when the server stops, so tests end fast. */
	for (int waited = 0; waited < ms && !pd->stopping; waited += 10) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

/* Retry-After: delta-seconds, or the HTTP-date (IMF-fixdate) they make. */
static void retry_after(struct fakepd *pd, int seconds, char *out, size_t size)
{
	time_t when = time(NULL) + seconds;
	struct tm tm;

	if (!pd->retry_after_as_date) {
		snprintf(out, size, "%d", seconds);
		return;
	}
	gmtime_r(&when, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *size, void **con_cls)
{
	struct fakepd *pd = cls;
	struct upload *up = *con_cls;
	struct fakepd_answer answer;
	struct MHD_Response *response;
	const char *text;
	enum MHD_Result ret;
	char retry[64];
	json_t *body;
	size_t slot;

	if (!up) {
		up = calloc(1, sizeof(*up));
		strbuf_init(&up->body, FAKEPD_BODY_MAX);
		*con_cls = up;
		return MHD_YES;
	}
	if (*size > 0) {
		strbuf_append(&up->body, data, *size);
		*size = 0;
		return MHD_YES;
	}

	body = json_loadb(up->body.data ? up->body.data : "", up->body.len, 0,
			  NULL);

	/* Recorded on arrival, as PagerDuty acts on a request when it
	 * arrives, however late the answer. */
	pthread_mutex_lock(&pd->lock);
	answer = next_answer(pd);
	slot = pd->n_records;
	if (slot < FAKEPD_MAX_RECORDS) {
		pd->records[slot].body = body;
		pd->records[slot].received_ms = harness_mono_ms();
		pd->n_records++;
		body = NULL;
	}
	pthread_mutex_unlock(&pd->lock);
	json_decref(body);

	if (answer.hang_ms > 0)
		sleep_ms(pd, answer.hang_ms);

	pthread_mutex_lock(&pd->lock);
	if (slot < FAKEPD_MAX_RECORDS)
		pd->records[slot].status = answer.status;
	if (answer.status >= 200 && answer.status < 300)
		pd->n_accepted++;
	pthread_mutex_unlock(&pd->lock);

	if (answer.status == 202)
		text = "{\"status\":\"success\",\"message\":\"Event "
		       "processed\","
		       "\"dedup_key\":\"x\"}";
	else if (answer.status == 400)
		text = "{\"status\":\"invalid event\",\"message\":\"Event "
		       "object"
		       " is invalid\",\"errors\":[\"'payload.summary' is"
		       " missing or blank\"]}";
	else if (answer.status == 429)
		text = "{\"status\":\"throttle event\",\"message\":\"Requests"
		       " for this service are arriving too quickly.\"}";
	else
		text = "{\"status\":\"error\"}";

	response = MHD_create_response_from_buffer(strlen(text), (void *)text,
						   MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(response, "Content-Type", "application/json");
	if (answer.retry_after_s >= 0) {
		retry_after(pd, answer.retry_after_s, retry, sizeof(retry));
		MHD_add_response_header(response, "Retry-After", retry);
	}
	ret = MHD_queue_response(conn, answer.status, response);
	MHD_destroy_response(response);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode code)
{
	struct upload *up = *con_cls;

	if (!up)
		return;
	strbuf_release(&up->body);
	free(up);
	*con_cls = NULL;
}

int fakepd_start(struct fakepd **ret)
{
	struct fakepd *pd = calloc(1, sizeof(*pd));
	const union MHD_DaemonInfo *info;

	if (!pd)
		return -ENOMEM;

	pd->records = calloc(FAKEPD_MAX_RECORDS, sizeof(*pd->records));
	pthread_mutex_init(&pd->lock, NULL);

	pd->httpd = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
		0, NULL, NULL, on_request, pd, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, pd, MHD_OPTION_SOCK_ADDR,
		&(struct sockaddr_in){.sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(0x7f000001)},
		MHD_OPTION_END);
	if (!pd->httpd) {
		free(pd->records);
		free(pd);
		return -EIO;
	}

	info = MHD_get_daemon_info(pd->httpd, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(pd->url, sizeof(pd->url), "http://127.0.0.1:%u/v2/enqueue",
		 (unsigned int)info->port);
	*ret = pd;
	return 0;
}

void fakepd_stop(struct fakepd *pd)
{
	if (!pd)
		return;

	pd->stopping = true;
	MHD_stop_daemon(pd->httpd);
	for (size_t i = 0; i < pd->n_records; i++)
		json_decref(pd->records[i].body);
	free(pd->records);
	pthread_mutex_destroy(&pd->lock);
	free(pd);
}

const char *fakepd_url(const struct fakepd *pd)
{
	return pd->url;
}

void fakepd_script(struct fakepd *pd, struct fakepd_answer answer,
		   unsigned int count)
{
	pthread_mutex_lock(&pd->lock);
	for (unsigned int i = 0;
	     i < count && pd->script_len < FAKEPD_MAX_SCRIPT; i++)
		pd->script[pd->script_len++] = answer;
	pthread_mutex_unlock(&pd->lock);
}

void fakepd_reset(struct fakepd *pd)
{
	pthread_mutex_lock(&pd->lock);
	pd->script_head = 0;
	pd->script_len = 0;
	pthread_mutex_unlock(&pd->lock);
}

size_t fakepd_count(struct fakepd *pd)
{
	size_t n;

	pthread_mutex_lock(&pd->lock);
	n = pd->n_records;
	pthread_mutex_unlock(&pd->lock);
	return n;
}

size_t fakepd_accepted(struct fakepd *pd)
{
	size_t n;

	pthread_mutex_lock(&pd->lock);
	n = pd->n_accepted;
	pthread_mutex_unlock(&pd->lock);
	return n;
}

json_t *fakepd_request(struct fakepd *pd, size_t i)
{
	json_t *body = NULL;

	pthread_mutex_lock(&pd->lock);
	if (i < pd->n_records)
		body = json_incref(pd->records[i].body);
	pthread_mutex_unlock(&pd->lock);
	return body;
}

int64_t fakepd_received_ms(struct fakepd *pd, size_t i)
{
	int64_t ms = -1;

	pthread_mutex_lock(&pd->lock);
	if (i < pd->n_records)
		ms = pd->records[i].received_ms;
	pthread_mutex_unlock(&pd->lock);
	return ms;
}

void fakepd_retry_after_as_date(struct fakepd *pd, bool as_date)
{
	pd->retry_after_as_date = as_date;
}

unsigned int fakepd_status(struct fakepd *pd, size_t i)
{
	unsigned int status = 0;

	pthread_mutex_lock(&pd->lock);
	if (i < pd->n_records)
		status = pd->records[i].status;
	pthread_mutex_unlock(&pd->lock);
	return status;
}

static int wait_for(struct fakepd *pd, size_t n, int timeout_ms,
		    size_t (*count)(struct fakepd *))
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	while (count(pd) < n) {
		if (harness_mono_ms() > deadline)
			return -ETIMEDOUT;
		harness_pause_ms(5);
	}
	return 0;
}

int fakepd_wait(struct fakepd *pd, size_t n, int timeout_ms)
{
	return wait_for(pd, n, timeout_ms, fakepd_count);
}

int fakepd_wait_accepted(struct fakepd *pd, size_t n, int timeout_ms)
{
	return wait_for(pd, n, timeout_ms, fakepd_accepted);
}
