/*
 * Unit tests for lib/retry.c: backoff, jitter, cap, Retry-After.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "retry.h"

static const struct retry_policy policy = {
	.initial_ms = 1000,
	.max_ms = 300000,
	.deadline_ms = 86400000,
};

static void test_exponential_within_jitter(void **state)
{
	(void)state;

	for (unsigned int attempt = 1; attempt <= 6; attempt++) {
		int64_t full = 1000LL << (attempt - 1);

		/* Equal jitter: between half and all of the full delay. */
		assert_int_equal(retry_delay_ms(&policy, attempt, -1, 0),
				 full / 2);
		assert_int_equal(retry_delay_ms(&policy, attempt, -1,
						(uint32_t)(full / 2)),
				 full);
		for (uint32_t r = 0; r < 5000; r += 97) {
			int64_t d = retry_delay_ms(&policy, attempt, -1, r);

			assert_true(d >= full / 2 && d <= full);
		}
	}
}

static void test_capped(void **state)
{
	(void)state;

	for (unsigned int attempt = 10; attempt < 200; attempt += 17) {
		int64_t d = retry_delay_ms(&policy, attempt, -1, UINT32_MAX);

		assert_true(d <= policy.max_ms);
		assert_true(d >= policy.max_ms / 2);
	}
}

static void test_retry_after(void **state)
{
	(void)state;

	/* Longer than the backoff: taken. */
	assert_int_equal(retry_delay_ms(&policy, 1, 30000, 0), 30000);
	/* Shorter than the backoff: the backoff stands. */
	assert_int_equal(retry_delay_ms(&policy, 5, 1000, 0), 8000);
	/* Longer than the cap: still honoured, up to an hour. */
	assert_int_equal(retry_delay_ms(&policy, 1, 600000, 0), 600000);
	assert_int_equal(retry_delay_ms(&policy, 1, 7200000, 0),
			 RETRY_AFTER_MAX_MS);
}

static void test_expired(void **state)
{
	(void)state;

	assert_false(retry_expired(&policy, 0, 86400000));
	assert_true(retry_expired(&policy, 0, 86400001));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exponential_within_jitter),
		cmocka_unit_test(test_capped),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_expired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
