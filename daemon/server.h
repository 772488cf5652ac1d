/*
 * server: the HTTP side, on libmicrohttpd.
 *
 *   POST /sns      SNS deliveries (see ingest.h)
 *   POST /pagerduty/webhook, GET /api/incidents,
 *   POST /api/incidents/KEY/acknowledge|resolve,
 *   /api/silences..., /api/queue...               (see api.h)
 *   GET  /healthz  alive
 *   GET  /readyz   ready to take messages; 503 with a reason when not
 *   GET  /metrics  Prometheus text format
 *
 * One thread per connection, since a request thread may wait for a group
 * commit; within the configured limits: connections in all and per
 * client address, an idle timeout, and a deadline to receive each whole
 * request (deadlines.h), so that a slow client holds its thread for a
 * bounded time and one address cannot take the whole table.
 */
#ifndef ALERTBRIDGE_SERVER_H
#define ALERTBRIDGE_SERVER_H

#include "app.h"

/*
 * The listening socket systemd passed (socket activation, by a .socket
 * unit or systemd-socket-activate), in *ret_fd; -1 when none was.
 * -EINVAL when more than one was passed or it is not a listening TCP
 * socket. Call before any thread starts: sd_listen_fds() unsets
 * LISTEN_FDS and LISTEN_PID, so that children do not take them too.
 */
int server_systemd_socket(int *ret_fd);

/*
 * Starts serving on listen_fd (from server_systemd_socket(); the server
 * owns it from here) or, when it is -1, on config's listen address.
 * config's limits set the connection limit and idle timeout for the
 * server's life; *ret_port gets the bound port.
 */
int server_start(struct app *app, const struct config *config, int listen_fd,
		 struct server **ret_server, int *ret_port);

/* Stops accepting, lets requests under way finish, and frees. */
void server_stop(struct server *server);

#endif
