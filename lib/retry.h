/*
 * retry: when to try a failed delivery again, as a pure function of the
 * attempt count, the policy and the server's hint.
 */
#ifndef ALERTBRIDGE_RETRY_H
#define ALERTBRIDGE_RETRY_H

#include <stdint.h>

/* The longest Retry-After taken at its word. */
#define RETRY_AFTER_MAX_MS (60 * 60 * 1000)

struct retry_policy {
	int64_t initial_ms;  /* the delay after the first failure */
	int64_t max_ms;      /* the cap on any delay */
	int64_t deadline_ms; /* give up this long after the first attempt */
};

/*
 * The delay before attempt number attempts + 1, after attempts (>= 1)
 * failures: exponential from initial_ms, capped at max_ms, with "equal
 * jitter" (half fixed, half drawn from random) so that a storm of
 * failures does not retry in lockstep. A Retry-After hint
 * (retry_after_ms >= 0) is honoured when it asks for longer, even past
 * max_ms (the server knows its own limits), up to RETRY_AFTER_MAX_MS.
 */
int64_t retry_delay_ms(const struct retry_policy *policy, unsigned int attempts,
		       int64_t retry_after_ms, uint32_t random);

/*
 * True when an event first attempted at first_attempt_ms should be
 * dead-lettered rather than tried again at next_ms.
 */
int retry_expired(const struct retry_policy *policy, int64_t first_attempt_ms,
		  int64_t next_ms);

#endif
