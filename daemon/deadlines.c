/*
 * deadlines: connections in a list, one thread that shuts down the
 * sockets of those past their deadline.
 */
#include "deadlines.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "app.h"
#include "log.h"

/* One connection; its socket context in libmicrohttpd. */
struct tracked {
	struct deadlines *owner;
	int fd;
	int64_t deadline_mono; /* 0: none (a request being handled) */
	char peer[64];         /* the client's address, for the log */
	struct tracked *prev;
	struct tracked *next;
};

struct deadlines {
	int64_t timeout_ms;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* stopping */
	bool stopping;
	struct tracked *head;
};

static void peer_text(struct MHD_Connection *connection, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *addr = info ? info->client_addr : NULL;

	snprintf(out, size, "unknown");
	if (addr && addr->sa_family == AF_INET)
		inet_ntop(AF_INET,
			  &((const struct sockaddr_in *)addr)->sin_addr, out,
			  (socklen_t)size);
	else if (addr && addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)addr)->sin6_addr, out,
			  (socklen_t)size);
}

/* Shuts down every socket past its deadline, once each. */
static void expire(struct deadlines *d, int64_t now)
{
	for (struct tracked *t = d->head; t; t = t->next) {
		char ms[24];

		if (!t->deadline_mono || now < t->deadline_mono)
			continue;
		t->deadline_mono = 0;

		/*
		 * The socket is still open: libmicrohttpd tells us it closes
		 * a connection (under this lock) before it closes the socket.
		 * Shutting it down wakes the connection's thread, which sees
		 * the end of the stream and closes the connection itself.
		 */
		shutdown(t->fd, SHUT_RDWR);
		LOG(LOG_LEVEL_WARNING, "http.request_timeout",
		    {"peer", t->peer},
		    {"timeout_ms", log_int(ms, d->timeout_ms)},
		    {"detail", "a request did not arrive whole in time;"
			       " connection closed"});
	}
}

static void *deadlines_main(void *arg)
{
	struct deadlines *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->stopping) {
		struct timespec until;

		expire(d, app_mono_ms());

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += DEADLINES_TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->wake, &d->lock, &until);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int deadlines_start(int64_t request_timeout_ms, struct deadlines **ret)
{
	struct deadlines *d = calloc(1, sizeof(*d));
	pthread_condattr_t attr;
	int r;

	if (!d)
		return -ENOMEM;

	d->timeout_ms = request_timeout_ms;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &attr);
	pthread_condattr_destroy(&attr);

	r = -pthread_create(&d->thread, NULL, deadlines_main, d);
	if (r < 0) {
		pthread_cond_destroy(&d->wake);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return r;
	}
	*ret = d;
	return 0;
}

void deadlines_stop(struct deadlines *d)
{
	if (!d)
		return;

	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_signal(&d->wake);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);

	/* None should be left once the HTTP daemon has stopped. */
	while (d->head) {
		struct tracked *t = d->head;

		d->head = t->next;
		free(t);
	}
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static void track(struct deadlines *d, struct MHD_Connection *connection,
		  void **socket_context)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct tracked *t;

	*socket_context = NULL;
	if (!info)
		return;

	/* Without memory for it, a connection goes without a deadline;
	 * the idle timeout and the connection limits still hold. */
	t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->owner = d;
	t->fd = info->connect_fd;
	peer_text(connection, t->peer, sizeof(t->peer));

	pthread_mutex_lock(&d->lock);
	t->deadline_mono = app_mono_ms() + d->timeout_ms;
	t->next = d->head;
	if (d->head)
		d->head->prev = t;
	d->head = t;
	pthread_mutex_unlock(&d->lock);
	*socket_context = t;
}

static void untrack(struct tracked *t)
{
	struct deadlines *d = t->owner;

	pthread_mutex_lock(&d->lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		d->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&d->lock);
	free(t);
}

void deadlines_on_connection(void *cls, struct MHD_Connection *connection,
			     void **socket_context,
			     enum MHD_ConnectionNotificationCode code)
{
	struct deadlines *d = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		track(d, connection, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		untrack(*socket_context);
		*socket_context = NULL;
	}
}

static void set_deadline(struct MHD_Connection *connection, bool armed)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct tracked *t = info ? info->socket_context : NULL;

	if (!t)
		return;
	pthread_mutex_lock(&t->owner->lock);
	t->deadline_mono = armed ? app_mono_ms() + t->owner->timeout_ms : 0;
	pthread_mutex_unlock(&t->owner->lock);
}

void deadlines_request_received(struct MHD_Connection *connection)
{
	set_deadline(connection, false);
}

void deadlines_request_done(struct MHD_Connection *connection)
{
	set_deadline(connection, true);
}
