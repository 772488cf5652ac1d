/*
 * deadlines: a total deadline for receiving each request, which
 * libmicrohttpd lacks. Its connection timeout counts idle time only, so
 * a client that sends a byte now and then (slowloris) holds its
 * connection, and its thread, for as long as it likes.
 *
 * A connection must deliver a whole request (headers and body) within
 * the deadline of its arrival, or of the end of its previous request
 * when kept alive; otherwise one thread shuts its socket down, which
 * makes libmicrohttpd close the connection and log nothing more. Once a
 * request has arrived whole, its handling and its answer run without a
 * deadline (the handlers bound their own waits); the next request's
 * deadline starts when that answer is done.
 *
 * A deadline fires at most DEADLINES_TICK_MS late.
 */
#ifndef ALERTBRIDGE_DEADLINES_H
#define ALERTBRIDGE_DEADLINES_H

#include <stdint.h>

#include <microhttpd.h>

#define DEADLINES_TICK_MS 250

struct deadlines;

int deadlines_start(int64_t request_timeout_ms, struct deadlines **ret);

/* Call after the HTTP daemon has stopped: its connections are gone. */
void deadlines_stop(struct deadlines *deadlines);

/*
 * The MHD_OPTION_NOTIFY_CONNECTION callback, with the deadlines as its
 * closure: starts a connection's deadline, and forgets the connection
 * before libmicrohttpd closes its socket.
 */
void deadlines_on_connection(void *cls, struct MHD_Connection *connection,
			     void **socket_context,
			     enum MHD_ConnectionNotificationCode code);

/* The request on connection has arrived whole: no deadline while it is
 * handled. */
void deadlines_request_received(struct MHD_Connection *connection);

/* Its answer is done: the next request's deadline starts now. */
void deadlines_request_done(struct MHD_Connection *connection);

#endif
