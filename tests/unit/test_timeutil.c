/*
 * Unit tests for lib/timeutil.c. Expected instants were computed
 * independently (Python's datetime), not with the code under test.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timeutil.h"
#include "util.h"

/* 2022-09-25T18:50:37.868Z, the SNS Timestamp of the signed fixture. */
#define SNS_FIXTURE_MS INT64_C(1664131837868)

static void assert_parses(const char *s, int64_t want)
{
	int64_t ms = -12345;

	if (timeutil_parse(s, &ms) != 0)
		fail_msg("\"%s\" did not parse", s);
	if (ms != want)
		fail_msg("\"%s\": got %lld, want %lld", s, (long long)ms,
			 (long long)want);
}

static void assert_refused(const char *s)
{
	int64_t ms = -12345;
	int r;

	r = timeutil_parse(s, &ms);
	if (r != -EINVAL)
		fail_msg("\"%s\": got %d, want -EINVAL", s, r);

	/* Out-parameters are set only on success. */
	assert_int_equal(ms, -12345);
}

static void test_parse_aws_shapes(void **state)
{
	(void)state;

	/* SNS Timestamp. */
	assert_parses("2022-09-25T18:50:37.868Z", SNS_FIXTURE_MS);

	/* CloudWatch StateChangeTime. */
	assert_parses("2022-09-25T18:48:56.505+0000", INT64_C(1664131736505));

	/* EventBridge time, no fraction. */
	assert_parses("2018-11-08T20:25:00Z", INT64_C(1541708700000));

	/* GuardDuty updatedAt with a colon in the offset. */
	assert_parses("2021-11-10T02:45:55.640+00:00", INT64_C(1636512355640));
}

static void test_parse_variants(void **state)
{
	(void)state;

	/* A space instead of T, and RFC 3339's lower-case t and z. */
	assert_parses("2022-09-25 18:50:37.868Z", SNS_FIXTURE_MS);
	assert_parses("2022-09-25t18:50:37.868z", SNS_FIXTURE_MS);

	/* Fraction digits: one, two, three, many (truncated, not rounded). */
	assert_parses("2018-11-08T20:25:00.5Z", INT64_C(1541708700500));
	assert_parses("2018-11-08T20:25:00.05Z", INT64_C(1541708700050));
	assert_parses("2018-11-08T20:25:00.123Z", INT64_C(1541708700123));
	assert_parses("2018-11-08T20:25:00.123999999Z", INT64_C(1541708700123));

	/* Offsets: the same instant written from other zones. */
	assert_parses("2022-09-25T20:50:37.868+02", SNS_FIXTURE_MS);
	assert_parses("2022-09-25T20:50:37.868+0200", SNS_FIXTURE_MS);
	assert_parses("2022-09-25T20:50:37.868+02:00", SNS_FIXTURE_MS);
	assert_parses("2022-09-25T13:20:37.868-05:30", SNS_FIXTURE_MS);
	assert_parses("2022-09-26T00:35:37.868+05:45", SNS_FIXTURE_MS);

	/* An offset that moves the instant into the previous day. */
	assert_parses("2022-09-26T01:00:00+01:00", INT64_C(1664150400000));

	/* A bare date is midnight UTC. */
	assert_parses("2024-02-29", INT64_C(1709164800000));
	assert_parses("1970-01-01", 0);
}

static void test_parse_calendar(void **state)
{
	(void)state;

	/* Leap years: divisible by 4, not by 100, except by 400. */
	assert_parses("2000-02-29T00:00:00Z", INT64_C(951782400000));
	assert_parses("2024-02-29T00:00:00Z", INT64_C(1709164800000));
	assert_refused("1900-02-29T00:00:00Z");
	assert_refused("2023-02-29T00:00:00Z");

	/* Before the epoch and the ends of the four-digit range. */
	assert_parses("1969-12-31T23:59:59.999Z", -1);
	assert_parses("0001-01-01T00:00:00Z", INT64_C(-62135596800000));
	assert_parses("9999-12-31T23:59:59.999Z", INT64_C(253402300799999));
}

static void test_parse_leap_second(void **state)
{
	(void)state;

	/* 2016-12-31T23:59:60Z is the first second of 2017 in POSIX time. */
	assert_parses("2016-12-31T23:59:60Z", INT64_C(1483228800000));
	assert_parses("2016-12-31T23:59:60.5Z", INT64_C(1483228800500));
	assert_refused("2016-12-31T23:59:61Z");
}

static void test_parse_independent_of_tz(void **state)
{
	(void)state;

	/* A zone far from UTC must not shift the result. */
	setenv("TZ", "Pacific/Kiritimati", 1);
	tzset();
	assert_parses("2022-09-25T18:50:37.868Z", SNS_FIXTURE_MS);
	assert_parses("2024-02-29", INT64_C(1709164800000));

	setenv("TZ", "America/St_Johns", 1);
	tzset();
	assert_parses("2022-09-25T18:48:56.505+0000", INT64_C(1664131736505));

	unsetenv("TZ");
	tzset();
}

static void test_parse_invalid(void **state)
{
	static const char *const invalid[] = {
		"",
		"garbage",
		"2022",
		"2022-09",
		"2022-9-25",
		"22-09-25",
		"2022-13-01",
		"2022-00-10",
		"2022-09-00",
		"2022-09-31",
		"2022-02-30",
		"2022-09-25T25:00:00Z",
		"2022-09-25T24:00:00Z",
		"2022-09-25T18:60:00Z",
		"2022-09-25T18:50Z",
		"2022-09-25T18:50:37",
		"2022-09-25T18:50:37.Z",
		"2022-09-25T18:50:37.868",
		"2022-09-25T18:50:37.868+",
		"2022-09-25T18:50:37.868+2",
		"2022-09-25T18:50:37.868+020",
		"2022-09-25T18:50:37.868+02:0",
		"2022-09-25T18:50:37.868+24:00",
		"2022-09-25T18:50:37.868+02:60",
		"2022-09-25T18:50:37.868ZZ",
		"2022-09-25T18:50:37.868Z ",
		" 2022-09-25T18:50:37.868Z",
		"2022-09-25X18:50:37Z",
		"2022-09-25T",
		"2022-09-25Z",
		"-2022-09-25T18:50:37Z",
		"+2022-09-25T18:50:37Z",
		"12022-09-25T18:50:37Z",
		"2022-09-25T18:50:37,868Z",
		"2022-09-25T1a:50:37Z",
	};

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
		assert_refused(invalid[i]);

	assert_int_equal(timeutil_parse(NULL, &(int64_t){0}), -EINVAL);
}

static void test_format(void **state)
{
	char out[32];

	(void)state;

	timeutil_format(SNS_FIXTURE_MS, out);
	assert_string_equal(out, "2022-09-25T18:50:37.868Z");

	timeutil_format(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");

	timeutil_format(-1, out);
	assert_string_equal(out, "1969-12-31T23:59:59.999Z");

	timeutil_format(INT64_C(951782400000), out);
	assert_string_equal(out, "2000-02-29T00:00:00.000Z");

	timeutil_format(INT64_C(253402300799999), out);
	assert_string_equal(out, "9999-12-31T23:59:59.999Z");

	/* The extremes fit in the 32 bytes and do not overflow. */
	timeutil_format(INT64_MAX, out);
	assert_string_equal(out, "292278994-08-17T07:12:55.807Z");
	timeutil_format(INT64_MIN, out);
	assert_string_equal(out, "-292275055-05-16T16:47:04.192Z");
}

static void test_round_trip(void **state)
{
	static const char *const stamps[] = {
		"2022-09-25T18:50:37.868Z", "2018-11-08T20:25:00.000Z",
		"2000-02-29T23:59:59.999Z", "1900-03-01T00:00:00.000Z",
		"0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
		"1969-12-31T00:00:00.001Z", "2100-02-28T12:00:00.000Z",
	};
	char out[32];
	int64_t ms;

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(stamps); i++) {
		assert_int_equal(timeutil_parse(stamps[i], &ms), 0);
		timeutil_format(ms, out);
		assert_string_equal(out, stamps[i]);
	}

	/* Every day over four centuries, both ways. */
	for (int64_t day = -146097; day < 2 * 146097; day += 1) {
		int64_t back;

		timeutil_format(day * 86400000 + 43200123, out);
		assert_int_equal(timeutil_parse(out, &back), 0);
		assert_int_equal(back, day * 86400000 + 43200123);
	}
}

static void test_duration(void **state)
{
	int64_t ms = 0;

	(void)state;

	assert_int_equal(timeutil_parse_duration("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(timeutil_parse_duration("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(timeutil_parse_duration("15m", &ms), 0);
	assert_int_equal(ms, 900000);
	assert_int_equal(timeutil_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(timeutil_parse_duration("3d", &ms), 0);
	assert_int_equal(ms, 259200000);
	assert_int_equal(timeutil_parse_duration("45", &ms), 0);
	assert_int_equal(ms, 45000);
	assert_int_equal(timeutil_parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);

	/* Exactly a year is accepted; a millisecond more is not. */
	assert_int_equal(timeutil_parse_duration("365d", &ms), 0);
	assert_int_equal(ms, INT64_C(31536000000));
	assert_int_equal(timeutil_parse_duration("31536000000ms", &ms), 0);
	assert_int_equal(ms, INT64_C(31536000000));
}

static void test_duration_invalid(void **state)
{
	static const char *const invalid[] = {
		"",   "ms",   "m",   "-5m",  "+5m", "5 m", " 5m",  "5m ",
		"5M", "5sec", "5mm", "1.5h", "5w",  "h5",  "0x10", "5ms5",
	};
	int64_t ms = -7;

	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		int r = timeutil_parse_duration(invalid[i], &ms);

		if (r != -EINVAL)
			fail_msg("\"%s\": got %d, want -EINVAL", invalid[i], r);
	}
	assert_int_equal(ms, -7);

	assert_int_equal(timeutil_parse_duration("366d", &ms), -ERANGE);
	assert_int_equal(timeutil_parse_duration("8761h", &ms), -ERANGE);
	assert_int_equal(timeutil_parse_duration("31536000001ms", &ms),
			 -ERANGE);
	assert_int_equal(
		timeutil_parse_duration("99999999999999999999999d", &ms),
		-ERANGE);
	assert_int_equal(ms, -7);

	/* A bad suffix is reported as such, however big the number. */
	assert_int_equal(
		timeutil_parse_duration("99999999999999999999999x", &ms),
		-EINVAL);
	assert_int_equal(timeutil_parse_duration(NULL, &ms), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_aws_shapes),
		cmocka_unit_test(test_parse_variants),
		cmocka_unit_test(test_parse_calendar),
		cmocka_unit_test(test_parse_leap_second),
		cmocka_unit_test(test_parse_independent_of_tz),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
