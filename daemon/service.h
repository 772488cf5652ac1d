/*
 * service: `alertbridge serve` as a systemd service: the start in
 * order, the main loop, reload and stop. Everything here speaks
 * libsystemd's protocols and is a no-op without systemd (no
 * NOTIFY_SOCKET, no LISTEN_FDS, no WATCHDOG_USEC).
 *
 * Start: the configuration; the state directory; the listening socket
 * systemd passed, if any (taken before any thread starts, since
 * sd_listen_fds() edits the environment); the store and its writer,
 * the silences, the certificate cache, the delivery worker and the
 * HTTP server. READY=1 (and daemon.ready, and the port file) come once
 * the listener is bound and both workers have made a first turn: the
 * writer has fired what fell due while the daemon was down and armed
 * its timer for the next deadline, and the delivery worker has read
 * the outbox and published its figures.
 *
 * The main loop takes SIGTERM, SIGINT and SIGHUP from a signalfd (no
 * handler runs). It sends STATUS= with the outbox depth and the age of
 * its oldest row, the open incidents and the dead letters, from the
 * figures the delivery worker already keeps for /metrics, whenever
 * they change (looked at every SERVICE_STATUS_MS).
 *
 * Watchdog: with WatchdogSec= (sd_watchdog_enabled()), the loop sends
 * WATCHDOG=1 every half period, but only while the writer and the
 * delivery worker have each published a heartbeat within the last
 * period (they turn at least every quarter period, idle or not). A
 * worker stuck longer gets no ping sent for it, so systemd restarts
 * the daemon; the stall is logged once (watchdog.stalled), and the
 * recovery too if it comes first. Without a watchdog the same check
 * runs with SERVICE_STALL_MS, for the log.
 *
 * SIGHUP (systemctl reload): RELOADING=1 with MONOTONIC_USEC=, then the
 * configuration is loaded into a new object and checked (reload.h). On
 * any error the running one stays: every error is logged with its
 * file:line:column and STATUS= says the reload failed until one
 * succeeds. On success it is swapped in (app.h). Either way READY=1
 * follows, as Type=notify-reload expects.
 *
 * SIGTERM or SIGINT: STOPPING=1, then the HTTP server stops accepting
 * and finishes its requests, the writer commits what is queued, and
 * deliveries under way get SERVICE_SHUTDOWN_GRACE_MS to finish.
 */
#ifndef ALERTBRIDGE_SERVICE_H
#define ALERTBRIDGE_SERVICE_H

#include <stdbool.h>

struct service_options {
	const char *config_path; /* -c; NULL: the default or built-in */
	const char *port_file;   /* written once ready; NULL: none */
	bool not_production;
};

/* Runs the daemon until it is stopped; returns the exit status. */
int service_run(const struct service_options *options);

#endif
