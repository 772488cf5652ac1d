/*
 * retry: exponential backoff with jitter and a cap.
 */
#include "retry.h"

int64_t retry_delay_ms(const struct retry_policy *policy, unsigned int attempts,
		       int64_t retry_after_ms, uint32_t random)
{
	int64_t delay = policy->initial_ms > 0 ? policy->initial_ms : 1;
	int64_t half;

	for (unsigned int i = 1; i < attempts && delay < policy->max_ms; i++)
		delay *= 2;
	if (delay > policy->max_ms)
		delay = policy->max_ms;

	half = delay / 2;
	delay = half + (int64_t)(random % (uint64_t)(delay - half + 1));

	if (retry_after_ms > delay)
		delay = retry_after_ms < RETRY_AFTER_MAX_MS
				? retry_after_ms
				: RETRY_AFTER_MAX_MS;
	return delay;
}

int retry_expired(const struct retry_policy *policy, int64_t first_attempt_ms,
		  int64_t next_ms)
{
	return next_ms - first_attempt_ms > policy->deadline_ms;
}
