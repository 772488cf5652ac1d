/*
 * timeutil: the timestamp and duration formats AWS and our YAML use.
 * All instants are milliseconds since the Unix epoch, UTC.
 */
#ifndef ALERTBRIDGE_TIMEUTIL_H
#define ALERTBRIDGE_TIMEUTIL_H

#include <stdint.h>

/*
 * Parses the timestamp shapes AWS sends into UTC milliseconds:
 *   2022-09-25T18:50:37.868Z        (SNS Timestamp)
 *   2022-09-25T18:48:56.505+0000    (CloudWatch StateChangeTime)
 *   2018-11-08T20:25:00Z            (EventBridge time)
 *   2021-11-10T02:45:55.640+00:00, a space instead of T, any number of
 *   fraction digits, offsets +HH, +HHMM, +HH:MM, and a bare date.
 * Returns -EINVAL for anything else, including out-of-range fields.
 */
int timeutil_parse(const char *s, int64_t *ret_ms);

/* Formats ms as 2022-09-25T18:50:37.868Z into out. */
void timeutil_format(int64_t ms, char out[32]);

/*
 * Parses a duration: a whole number followed by ms, s, m, h or d
 * ("15m", "2h", "500ms"); a bare number is seconds. -EINVAL otherwise,
 * -ERANGE past a year.
 */
int timeutil_parse_duration(const char *s, int64_t *ret_ms);

#endif
