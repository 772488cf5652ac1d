/*
 * timeutil: RFC 3339-like timestamps and short durations, in UTC.
 *
 * Calendar arithmetic is done here on plain integers (the proleptic
 * Gregorian calendar) so that nothing depends on the process's time zone
 * or on the range of time_t.
 */
#include "timeutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "util.h"

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR   (60 * MS_PER_MINUTE)
#define MS_PER_DAY    (24 * MS_PER_HOUR)

/* The longest duration timeutil_parse_duration() accepts. */
#define DURATION_MAX_MS (365 * MS_PER_DAY)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *p and advances past them. */
static bool read_digits(const char **p, int n, int *ret_value)
{
	int value = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		value = value * 10 + ((*p)[i] - '0');
	}

	*p += n;
	*ret_value = value;
	return true;
}

static bool is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

/*
 * Days from 1970-01-01 to year-month-day. The year is shifted to start
 * in March so that the leap day is the last day of the shifted year;
 * eras are the 400-year cycles after which the calendar repeats.
 */
static int64_t days_from_civil(int64_t year, int month, int day)
{
	int64_t era;
	int64_t year_of_era;
	int64_t day_of_year;
	int64_t day_of_era;

	year -= month <= 2;
	era = (year >= 0 ? year : year - 399) / 400;
	year_of_era = year - era * 400;
	day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 +
		     day_of_year;
	return era * 146097 + day_of_era - 719468;
}

/* The inverse of days_from_civil(). */
static void civil_from_days(int64_t days, int64_t *ret_year, int *ret_month,
			    int *ret_day)
{
	int64_t era;
	int64_t day_of_era;
	int64_t year_of_era;
	int64_t day_of_year;
	int64_t month_index;
	int month;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	day_of_era = days - era * 146097;
	year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
		       day_of_era / 146096) /
		      365;
	day_of_year = day_of_era -
		      (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	month_index = (5 * day_of_year + 2) / 153;
	month = (int)(month_index < 10 ? month_index + 3 : month_index - 9);

	*ret_year = year_of_era + era * 400 + (month <= 2);
	*ret_month = month;
	*ret_day = (int)(day_of_year - (153 * month_index + 2) / 5 + 1);
}

/*
 * Reads the fraction after the '.' of the seconds: any number of digits,
 * of which the first three are milliseconds and the rest are dropped
 * (truncated, so that a time never moves into the next millisecond).
 */
static bool read_fraction(const char **p, int *ret_ms)
{
	const char *s = *p;
	int ms = 0;
	int n = 0;

	while (is_digit(s[n])) {
		if (n < 3)
			ms = ms * 10 + (s[n] - '0');
		n++;
	}
	if (n == 0)
		return false;

	for (int i = n; i < 3; i++)
		ms *= 10;

	*p = s + n;
	*ret_ms = ms;
	return true;
}

/*
 * Reads the zone designator: Z, or a sign and +HH, +HHMM or +HH:MM.
 * The result is the offset east of UTC in minutes.
 */
static bool read_offset(const char **p, int *ret_minutes)
{
	const char *s = *p;
	int sign;
	int hours;
	int minutes = 0;

	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		*ret_minutes = 0;
		return true;
	}

	if (*s != '+' && *s != '-')
		return false;
	sign = *s == '-' ? -1 : 1;
	s++;

	if (!read_digits(&s, 2, &hours) || hours > 23)
		return false;

	if (*s == ':') {
		s++;
		if (!read_digits(&s, 2, &minutes))
			return false;
	} else if (is_digit(*s)) {
		if (!read_digits(&s, 2, &minutes))
			return false;
	}
	if (minutes > 59)
		return false;

	*p = s;
	*ret_minutes = sign * (hours * 60 + minutes);
	return true;
}

/*
 * The year is exactly four digits (0000 to 9999), so negative and
 * far-future years are refused by the grammar itself. A time must carry
 * a zone designator: a wall-clock time without one names no instant,
 * and guessing the local zone is what this module exists to avoid. Only
 * a bare date (midnight UTC) goes without one.
 *
 * POSIX time has no leap seconds, so a second of 60 (allowed by RFC 3339
 * section 5.6 for leap seconds) counts as the first second of the next
 * minute, as timegm() would normalise it.
 */
int timeutil_parse(const char *s, int64_t *ret_ms)
{
	int year, month, day;
	int hour = 0, minute = 0, second = 0, ms = 0;
	int offset_minutes = 0;
	int64_t days;
	const char *p = s;

	if (!s)
		return -EINVAL;

	if (!read_digits(&p, 4, &year) || *p++ != '-' ||
	    !read_digits(&p, 2, &month) || *p++ != '-' ||
	    !read_digits(&p, 2, &day))
		return -EINVAL;

	if (month < 1 || month > 12 || day < 1 ||
	    day > days_in_month(year, month))
		return -EINVAL;

	if (*p != '\0') {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p++;

		if (!read_digits(&p, 2, &hour) || *p++ != ':' ||
		    !read_digits(&p, 2, &minute) || *p++ != ':' ||
		    !read_digits(&p, 2, &second))
			return -EINVAL;

		if (hour > 23 || minute > 59 || second > 60)
			return -EINVAL;

		if (*p == '.') {
			p++;
			if (!read_fraction(&p, &ms))
				return -EINVAL;
		}

		if (!read_offset(&p, &offset_minutes) || *p != '\0')
			return -EINVAL;
	}

	days = days_from_civil(year, month, day);
	*ret_ms = days * MS_PER_DAY + hour * MS_PER_HOUR +
		  minute * MS_PER_MINUTE + second * MS_PER_SECOND + ms -
		  offset_minutes * MS_PER_MINUTE;
	return 0;
}

/* Floor division and its non-negative remainder, for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b, int64_t *ret_rem)
{
	int64_t q = a / b;
	int64_t r = a % b;

	if (r < 0) {
		q--;
		r += b;
	}
	*ret_rem = r;
	return q;
}

/*
 * Any int64_t fits: the widest year, -292275055, makes a 30-byte string
 * with the NUL.
 */
void timeutil_format(int64_t ms, char out[32])
{
	int64_t days;
	int64_t rem;
	int64_t year;
	int month;
	int day;

	days = floor_div(ms, MS_PER_DAY, &rem);
	civil_from_days(days, &year, &month, &day);

	snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (long long)year, month, day, (int)(rem / MS_PER_HOUR),
		 (int)(rem / MS_PER_MINUTE % 60),
		 (int)(rem / MS_PER_SECOND % 60), (int)(rem % MS_PER_SECOND));
}

int timeutil_parse_duration(const char *s, int64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
		{"ms", 1},          {"s", MS_PER_SECOND}, {"m", MS_PER_MINUTE},
		{"h", MS_PER_HOUR}, {"d", MS_PER_DAY},    {"", MS_PER_SECOND},
	};
	const char *p = s;
	int64_t value = 0;
	bool too_big = false;

	if (!s || !is_digit(*p))
		return -EINVAL;

	/*
	 * Digits past a year in milliseconds are still read, so that a
	 * malformed suffix is reported as such rather than as -ERANGE.
	 */
	for (; is_digit(*p); p++) {
		if (value > DURATION_MAX_MS)
			too_big = true;
		else
			value = value * 10 + (*p - '0');
	}

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		const char *u = units[i].suffix;
		size_t n = 0;

		while (u[n] && p[n] == u[n])
			n++;
		if (u[n] != '\0' || p[n] != '\0')
			continue;

		if (too_big || value > DURATION_MAX_MS / units[i].ms)
			return -ERANGE;

		*ret_ms = value * units[i].ms;
		return 0;
	}
	return -EINVAL;
}
