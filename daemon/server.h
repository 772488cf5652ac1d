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
 * One thread per connection, up to the configured connection limit, each
 * idle connection closed after the configured timeout: a request thread
 * may wait for a group commit, and slow clients hold only their own.
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
