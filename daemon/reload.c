/*
 * reload: the keys a reload may not change, kept as they run.
 */
#include "reload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static bool same_text(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static void warn_kept(const char *key, const char *running, const char *wanted)
{
	LOG(LOG_LEVEL_WARNING, "config.restart_required", {"key", key},
	    {"running", running ? running : "(none)"},
	    {"new", wanted ? wanted : "(none)"},
	    {"detail", "a restart is needed to change this; the running"
		       " value stays"});
}

/* Gives *next running's string back, logging the change. */
static int keep_text(const char *key, const char *running, char **next)
{
	char *copy = NULL;

	if (same_text(running, *next))
		return 0;

	warn_kept(key, running, *next);
	if (running) {
		copy = strdup(running);
		if (!copy)
			return -ENOMEM;
	}
	free(*next);
	*next = copy;
	return 0;
}

/* Gives *next running's number back, logging the change; unit is
 * appended to the values logged ("s", "ms", or ""). */
static void keep_number(const char *key, const char *unit, long long running,
			long long *next)
{
	char was[32];
	char wanted[32];

	if (running == *next)
		return;
	snprintf(was, sizeof(was), "%lld%s", running, unit);
	snprintf(wanted, sizeof(wanted), "%lld%s", *next, unit);
	warn_kept(key, was, wanted);
	*next = running;
}

int reload_check(const struct config *running, struct config *next,
		 bool not_production, const char **ret_reason)
{
	long long port = next->listen_port;
	long long connections = next->max_connections;
	long long per_ip = next->max_connections_per_ip;
	long long timeout = next->connection_timeout_s;
	long long request_timeout = next->request_timeout_ms;
	int r;

	if (next->testing && !not_production) {
		*ret_reason = "the configuration has a testing: section and"
			      " the daemon was not started with"
			      " --not-production";
		return -EPERM;
	}

	/* listen is one key: say so once for the host and the port. */
	if (!same_text(running->listen_host, next->listen_host) ||
	    running->listen_port != next->listen_port) {
		char was[300];
		char wanted[300];

		snprintf(was, sizeof(was), "%s:%d", running->listen_host,
			 running->listen_port);
		snprintf(wanted, sizeof(wanted), "%s:%d", next->listen_host,
			 next->listen_port);
		warn_kept("listen", was, wanted);

		free(next->listen_host);
		next->listen_host = strdup(running->listen_host);
		if (!next->listen_host)
			return -ENOMEM;
		port = running->listen_port;
	}

	r = keep_text("state_dir", running->state_dir, &next->state_dir);
	if (r == 0)
		r = keep_text("testing.clock_file", running->testing_clock_file,
			      &next->testing_clock_file);
	if (r == 0)
		r = keep_text("testing.wall_offset_file",
			      running->testing_wall_offset_file,
			      &next->testing_wall_offset_file);
	if (r < 0)
		return r;

	keep_number("limits.max_connections", "", running->max_connections,
		    &connections);
	keep_number("limits.max_connections_per_ip", "",
		    running->max_connections_per_ip, &per_ip);
	keep_number("limits.connection_timeout", "s",
		    running->connection_timeout_s, &timeout);
	keep_number("limits.request_timeout", "ms", running->request_timeout_ms,
		    &request_timeout);
	next->listen_port = (int)port;
	next->max_connections = (unsigned int)connections;
	next->max_connections_per_ip = (unsigned int)per_ip;
	next->connection_timeout_s = (unsigned int)timeout;
	next->request_timeout_ms = request_timeout;
	return 0;
}
