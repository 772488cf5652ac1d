/*
 * logfmt: the text of a log line, and the journal fields of the same
 * event. No I/O, so that both can be checked without a terminal or a
 * journal; log.c decides where they go.
 *
 * The line is "level=L event=E key=value ...", the fields in the order
 * given, NULL values left out, values with spaces, quotes, '=' or
 * control characters quoted and escaped.
 *
 * The journal entry carries the same line as MESSAGE=, the level as a
 * syslog PRIORITY=, SYSLOG_IDENTIFIER=alertbridge, the event as
 * AB_EVENT=, a MESSAGE_ID= for the events an operator looks for (see
 * logfmt_message_id()), and each field under its own name, its value
 * as given (neither quoted nor escaped):
 *
 *   message_id  SNS_MESSAGE_ID   (the SNS MessageId, not the journal's
 *                                 MESSAGE_ID)
 *   topic       SNS_TOPIC_ARN
 *   dedup_key   PD_DEDUP_KEY
 *   alert       ALERT_NAME
 *   route       ROUTE
 *   any other   AB_<KEY>, upper-cased, anything but A-Z, 0-9 and '_'
 *               turned into '_', cut at 64 characters
 *
 * Both are bounded: the line at LOGFMT_LINE_MAX - 1 bytes, the entry at
 * LOGFMT_JOURNAL_FIELDS_MAX fields and LOGFMT_JOURNAL_TEXT_MAX bytes;
 * past that, text is cut and fields are left out. A cut line still
 * parses: its last value keeps its closing quote, no escape is split,
 * and it ends with " truncated=true".
 */
#ifndef ALERTBRIDGE_LOGFMT_H
#define ALERTBRIDGE_LOGFMT_H

#include <stddef.h>
#include <sys/uio.h>

#include "log.h"

#define LOGFMT_LINE_MAX           4096
#define LOGFMT_JOURNAL_FIELDS_MAX 48
#define LOGFMT_JOURNAL_TEXT_MAX   8192

/* The journal's limit on a field name, without the '='. */
#define LOGFMT_FIELD_NAME_MAX 64

/* "debug", "info", "warning", "error". */
const char *logfmt_level_name(enum log_level level);

/* The syslog priority journald files a level under. */
int logfmt_priority(enum log_level level);

/* Writes the line, without a newline, NUL-terminated; returns its
 * length. */
size_t logfmt_line(char line[LOGFMT_LINE_MAX], enum log_level level,
		   const char *event, const struct log_field *fields,
		   size_t n_fields);

struct logfmt_journal {
	struct iovec iov[LOGFMT_JOURNAL_FIELDS_MAX];
	size_t n;
	char text[LOGFMT_JOURNAL_TEXT_MAX]; /* what iov points into */
	size_t used;
};

/* Fills out with the entry for an event whose line is line. */
void logfmt_journal(struct logfmt_journal *out, enum log_level level,
		    const char *event, const struct log_field *fields,
		    size_t n_fields, const char *line, size_t line_len);

/* The journal field name a field's key goes under, NUL-terminated. */
void logfmt_field_name(const char *key, char name[LOGFMT_FIELD_NAME_MAX + 1]);

/*
 * The MESSAGE_ID (32 lower-case hex digits) of a notable event, or
 * NULL: subscription.confirmed, delivery.dead_lettered,
 * escalation.fired, daemon.ready, daemon.stopping, config.reloaded,
 * config.reload_failed, watchdog.stalled. Each is fixed for good, so
 * that `journalctl MESSAGE_ID=...` finds the event across versions.
 */
const char *logfmt_message_id(const char *event);

#endif
