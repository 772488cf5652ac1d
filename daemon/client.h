/*
 * client: requests to the running daemon's API, at the address its
 * configuration names (or one given with --url) and with its bearer
 * token. Used by `incidents`, `ack`, `resolve` and `queue`.
 */
#ifndef ALERTBRIDGE_CLIENT_H
#define ALERTBRIDGE_CLIENT_H

#include <stdbool.h>

#include "config.h"
#include "util.h"

/* The most of an answer kept; a longer one fails the request. */
#define CLIENT_ANSWER_MAX (1024 * 1024)

struct client {
	struct config *config;
	char base[256]; /* http://host:port, no trailing slash */
	/* Sent as X-Alertbridge-Actor when set: who asks (user@host). */
	const char *actor;
};

/* base is url, or the configuration's listen address when url is NULL. */
void client_init(struct client *c, struct config *config, const char *url);

/*
 * One request without a body (POST sends an empty one), with the
 * configured token when there is one. On an answer, *ret_status and
 * answer are filled and 0 returned, whatever the status. -ECONNREFUSED
 * when nothing listens there; -EIO for any other failure, with curl's
 * reason in *ret_error. Bounded by a timeout.
 */
int client_request(const struct client *c, const char *method, const char *path,
		   long *ret_status, struct strbuf *answer,
		   const char **ret_error);

#endif
