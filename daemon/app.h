/*
 * app: the running daemon's shared state, handed to every part of it.
 */
#ifndef ALERTBRIDGE_APP_H
#define ALERTBRIDGE_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct app_configs;
struct certfetch;
struct writer;
struct delivery;
struct server;
struct silences;

struct app {
	bool not_production; /* serve --not-production was given */

	/*
	 * How often, at least, each worker thread turns (and publishes its
	 * heartbeat) while idle: short enough for the watchdog to tell a
	 * stuck worker from an idle one. Set before the threads start.
	 */
	int64_t heartbeat_ms;

	struct app_configs *configs; /* see app_config_acquire() */
	struct certfetch *certs;
	struct writer *writer;
	struct delivery *delivery;
	struct server *server;
	struct silences *silences;

	atomic_bool stopping;
	atomic_bool store_ok; /* the last commit succeeded */
};

/*
 * The running configuration, replaced whole by a reload.
 *
 * Every unit of work takes a reference to the configuration current
 * when it starts and drops it when it ends: an HTTP request from its
 * first call to its completion, an item the writer applies (it carries
 * the reference its request took, so that the plan made on the request
 * thread and the commit agree), a pass of the escalation scheduler, a
 * turn of the delivery loop, a reload. A unit thus sees one whole
 * configuration, old or new, never a mix, and a configuration is freed
 * by whoever drops the last reference, once nothing can use it.
 *
 * Why counted references and not a read-write lock held across each
 * unit: a request holds its configuration while it waits for the
 * writer's group commit and for a certificate fetch (up to 5 s). A
 * reload would wait behind all of them, and with a lock that makes new
 * readers queue behind a waiting writer (as it must, not to starve the
 * reload) a request thread holding the lock while it waits on the
 * writer thread, whose own read lock waits behind the reload, would
 * never finish. Swapping a pointer under a mutex held for a few
 * instructions costs the main loop (which also feeds the watchdog)
 * nothing and cannot deadlock.
 */

/* Makes config the running configuration; app owns it from here. */
int app_config_init(struct app *app, struct config *config);

/* Frees the configurations; every reference must have been dropped. */
void app_config_cleanup(struct app *app);

/* A reference to the running configuration; never NULL. */
const struct config *app_config_acquire(struct app *app);

/* Drops a reference from app_config_acquire(); NULL does nothing. */
void app_config_release(struct app *app, const struct config *config);

/*
 * Makes config the running configuration (app owns it from here, even
 * on failure); the one it replaces is freed when its last reference is
 * dropped.
 */
int app_config_swap(struct app *app, struct config *config);

/*
 * The daemon's clock, in UTC milliseconds: what it stores (deadlines,
 * records) and schedules by. It is the wall clock as read at the first
 * call (at start), advanced by the time elapsed since (a monotonic clock
 * that counts a suspend too), so that a later step of the system's
 * clock (NTP, a hand set) can neither fire an escalation step early nor
 * hold one back. A restart takes the system's clock as it then reads.
 */
int64_t app_wall_ms(void);

/*
 * How far the system's wall clock has stepped away from the daemon's
 * clock since start (positive: the system's is ahead).
 */
int64_t app_wall_step_ms(void);

/*
 * Test-only, before the clock is first read: clock_path holds an ISO
 * 8601 instant that stands for the time elapsed (what the monotonic
 * clock measures); wall_offset_path (may be NULL) a signed number of
 * seconds by which the system's wall clock is stepped away from that
 * instant. NULL clock_path: the real clocks. The paths are copied.
 */
int app_set_test_clock(const char *clock_path, const char *wall_offset_path);

/* Monotonic milliseconds: timeouts and pacing that a clock jump must
 * not disturb. */
int64_t app_mono_ms(void);

/*
 * The instant SNS messages and certificates are judged at: the system's
 * wall clock as it reads now (not the daemon's clock: their timestamps
 * come from clocks like it), or the configuration's testing.as_of.
 */
int64_t app_judge_ms(const struct config *config);

#endif
