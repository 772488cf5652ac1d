/*
 * app: the running daemon's shared state, handed to every part of it.
 */
#ifndef ALERTBRIDGE_APP_H
#define ALERTBRIDGE_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct certfetch;
struct writer;
struct delivery;
struct server;
struct silences;

struct app {
	const struct config *config;
	bool not_production; /* serve --not-production was given */

	struct certfetch *certs;
	struct writer *writer;
	struct delivery *delivery;
	struct server *server;
	struct silences *silences;

	atomic_bool stopping;
	atomic_bool store_ok; /* the last commit succeeded */
};

/*
 * Wall-clock time in UTC milliseconds: stored deadlines, records. With
 * a test clock set it is the instant written in that file instead.
 */
int64_t app_wall_ms(void);

/* Test-only: take "now" from path (an ISO 8601 instant); NULL: off. */
void app_set_test_clock(const char *path);

/* Monotonic milliseconds: timeouts and pacing that a clock jump must
 * not disturb. */
int64_t app_mono_ms(void);

/*
 * The instant SNS messages and certificates are judged at: the real
 * time, or the configuration's testing.as_of.
 */
int64_t app_judge_ms(const struct app *app);

#endif
