/*
 * reload: what a new configuration may change in the running daemon.
 *
 * A reload applies whatever is read per request, per writer item, per
 * scheduler pass or per delivery turn: the SNS topic allow-list,
 * certificate settings and the replay window; limits.max_body;
 * PagerDuty's URL, timeout, rate, retry policy and client fields;
 * targets and their routing keys (files, credentials and the
 * environment are read again); templates, routes and the default
 * route; escalation policies; the configuration's silences; the
 * webhook secret and the API token; the environment and region
 * defaults; and the testing: section's other settings (still only with
 * --not-production).
 *
 * What the daemon fixed when it started needs a restart: listen (the
 * socket is bound), state_dir (the store is open),
 * limits.max_connections, limits.max_connections_per_ip and
 * limits.connection_timeout (options of the HTTP server),
 * limits.request_timeout (the deadlines thread's, see deadlines.h) and
 * testing.clock_file and testing.wall_offset_file (the clock every
 * thread reads).
 * A reload that changes any of them logs a warning naming each key
 * (config.restart_required) and keeps the running value; the rest of
 * the new configuration applies.
 *
 * What is queued is never touched: outbox rows, incidents and their
 * deadlines are in the store and name their target and policy, looked
 * up at each use. Rows for a target the new configuration no longer
 * has stay in the outbox, retried (and logged) like any failed send,
 * until the target is configured again or the retry deadline passes
 * and they are dead-lettered with the reason; see delivery.h.
 */
#ifndef ALERTBRIDGE_RELOAD_H
#define ALERTBRIDGE_RELOAD_H

#include <stdbool.h>

#include "config.h"

/*
 * Makes next, freshly loaded, fit to replace running: the keys that
 * need a restart get running's values back (each change logged).
 * Returns -EPERM with *ret_reason when next may not run at all (test
 * settings without --not-production), -ENOMEM when a value could not
 * be copied.
 */
int reload_check(const struct config *running, struct config *next,
		 bool not_production, const char **ret_reason);

#endif
