/*
 * fakepd: a scripted PagerDuty Events API v2 server on a loopback port,
 * run inside the test process. Each request takes the next scripted
 * answer (202 when the script is empty); every request is recorded.
 */
#ifndef ALERTBRIDGE_FAKEPD_H
#define ALERTBRIDGE_FAKEPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct fakepd;

struct fakepd_answer {
	unsigned int status; /* 202, 400, 429, 500, ... */
	int retry_after_s;   /* Retry-After header when >= 0 */
	int hang_ms;         /* wait this long before answering */
};

/* Starts on 127.0.0.1 with a free port. */
int fakepd_start(struct fakepd **ret);
void fakepd_stop(struct fakepd *pd);

/* The URL to configure as events_url. */
const char *fakepd_url(const struct fakepd *pd);

/* Appends count answers to the script. */
void fakepd_script(struct fakepd *pd, struct fakepd_answer answer,
		   unsigned int count);

/* Answers every request with 202 from now on, dropping the script. */
void fakepd_reset(struct fakepd *pd);

/* Requests received so far (all, whatever the answer). */
size_t fakepd_count(struct fakepd *pd);

/* Requests answered 2xx so far. */
size_t fakepd_accepted(struct fakepd *pd);

/* A new reference to request i's body as JSON (NULL if not JSON). */
json_t *fakepd_request(struct fakepd *pd, size_t i);

/* When request i arrived, on harness_mono_ms()'s clock (-1: none). */
int64_t fakepd_received_ms(struct fakepd *pd, size_t i);

/*
 * From now on a Retry-After goes out as an HTTP-date, retry_after_s
 * seconds after the moment of the answer, instead of delta-seconds.
 */
void fakepd_retry_after_as_date(struct fakepd *pd, bool as_date);

/* The status request i was answered with (0 while unanswered). */
unsigned int fakepd_status(struct fakepd *pd, size_t i);

/* Polls until at least n requests arrived or timeout_ms passed. */
int fakepd_wait(struct fakepd *pd, size_t n, int timeout_ms);

/* Polls until at least n requests were answered 2xx. */
int fakepd_wait_accepted(struct fakepd *pd, size_t n, int timeout_ms);

#endif
