/*
 * log: key=value lines on standard error, one write(2) per line so that
 * lines from several threads never interleave.
 */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static atomic_int log_min = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

void log_set_level(enum log_level min)
{
	atomic_store(&log_min, min);
}

int log_level_from_name(const char *name, enum log_level *ret_level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names);
	     i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_int(char buf[24], long long value)
{
	snprintf(buf, 24, "%lld", value);
	return buf;
}

static bool needs_quotes(const char *value)
{
	if (!*value)
		return true;

	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
			return true;
	}
	return false;
}

/* Appends to line, silently truncating at the end of the buffer. */
static void append(char *line, size_t *len, const char *text, size_t n)
{
	size_t room = LOG_LINE_MAX - 2 - *len;

	if (n > room)
		n = room;
	memcpy(line + *len, text, n);
	*len += n;
}

static void append_value(char *line, size_t *len, const char *value)
{
	if (!needs_quotes(value)) {
		append(line, len, value, strlen(value));
		return;
	}

	append(line, len, "\"", 1);
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			append(line, len, esc, 2);
		} else if (c < ' ' || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			append(line, len, esc, 4);
		} else {
			append(line, len, (const char *)&c, 1);
		}
	}
	append(line, len, "\"", 1);
}

void log_event(enum log_level level, const char *event,
	       const struct log_field *fields, size_t n_fields)
{
	char line[LOG_LINE_MAX];
	size_t len = 0;

	if ((int)level < atomic_load(&log_min))
		return;

	append(line, &len, "level=", 6);
	append(line, &len, level_names[level], strlen(level_names[level]));
	append(line, &len, " event=", 7);
	append(line, &len, event, strlen(event));

	for (size_t i = 0; i < n_fields; i++) {
		if (!fields[i].value)
			continue;
		append(line, &len, " ", 1);
		append(line, &len, fields[i].key, strlen(fields[i].key));
		append(line, &len, "=", 1);
		append_value(line, &len, fields[i].value);
	}
	line[len++] = '\n';

	/* Nothing useful can be done when standard error is gone. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
