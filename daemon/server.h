/*
 * server: the HTTP side, on libmicrohttpd.
 *
 *   POST /sns      SNS deliveries (see ingest.h)
 *   POST /pagerduty/webhook, GET /api/incidents,
 *   POST /api/incidents/KEY/acknowledge|resolve   (see api.h)
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
 * Binds the listener (the socket systemd passed, if any, else the
 * configured address) and starts serving. *ret_port gets the bound port.
 */
int server_start(struct app *app, struct server **ret_server, int *ret_port);

/* Stops accepting, lets requests under way finish, and frees. */
void server_stop(struct server *server);

#endif
