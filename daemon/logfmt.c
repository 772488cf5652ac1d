/*
 * logfmt: a log event as a key=value line and as journal fields.
 */
#include "logfmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_ERROR] = "error",
};

/* syslog(3)'s LOG_DEBUG, LOG_INFO, LOG_WARNING and LOG_ERR. */
static const int priorities[] = {
	[LOG_LEVEL_DEBUG] = 7,
	[LOG_LEVEL_INFO] = 6,
	[LOG_LEVEL_WARNING] = 4,
	[LOG_LEVEL_ERROR] = 3,
};

/* The keys the journal knows by a name of its own, for journalctl. */
static const struct {
	const char *key;
	const char *field;
} known_fields[] = {
	{"message_id", "SNS_MESSAGE_ID"},
	{"topic", "SNS_TOPIC_ARN"},
	{"dedup_key", "PD_DEDUP_KEY"},
	{"alert", "ALERT_NAME"},
	{"route", "ROUTE"},
};

/* Made once with `systemd-id128 new`; never to be changed. */
static const struct {
	const char *event;
	const char *id;
} message_ids[] = {
	{"subscription.confirmed", "6d914c599c124a97a5e66791b570b9c0"},
	{"delivery.dead_lettered", "446e98cd10704a389db889e4393275c3"},
	{"escalation.fired", "f6cab00b23ca48868fd748bc39a2d30f"},
	{"daemon.ready", "698ec231eec143368cd365064eb456f1"},
	{"daemon.stopping", "69ce03b71d07488dbc429ff0169e4633"},
	{"config.reloaded", "efb681671bb941b6a780b2947c27a10e"},
	{"config.reload_failed", "50a5ed2038134f2498695bb61d2a52c2"},
	{"watchdog.stalled", "f7f906b1f657485a88d248226936bc35"},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *logfmt_level_name(enum log_level level)
{
	if ((size_t)level >= N_OF(level_names))
		return "unknown";
	return level_names[level];
}

int logfmt_priority(enum log_level level)
{
	if ((size_t)level >= N_OF(priorities))
		return 3;
	return priorities[level];
}

const char *logfmt_message_id(const char *event)
{
	for (size_t i = 0; i < N_OF(message_ids); i++)
		if (strcmp(event, message_ids[i].event) == 0)
			return message_ids[i].id;
	return NULL;
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

/* What a cut line ends with, so that it still parses as key=value. */
#define CUT_MARK " truncated=true"

/*
 * The line being built. Room is kept for a closing quote and CUT_MARK:
 * a piece that does not fit ends the line there, and what was written
 * stays whole (no split escape, no value without its closing quote).
 */
struct line {
	char *text;
	size_t len;
	bool cut;
};

static size_t room(const struct line *l)
{
	size_t keep = 1 + sizeof(CUT_MARK) - 1 + 1;

	return l->len + keep < LOGFMT_LINE_MAX ? LOGFMT_LINE_MAX - keep - l->len
					       : 0;
}

/* Appends a piece whole, or cuts the line before it. */
static void append(struct line *l, const char *text, size_t n)
{
	if (l->cut)
		return;
	if (n > room(l)) {
		l->cut = true;
		return;
	}
	memcpy(l->text + l->len, text, n);
	l->len += n;
}

/* Appends as much of plain text as fits, never half a UTF-8 character,
 * and cuts the line after it when not all did. */
static void append_prefix(struct line *l, const char *text, size_t n)
{
	size_t fit = room(l);

	if (l->cut)
		return;
	if (n <= fit) {
		append(l, text, n);
		return;
	}
	while (fit > 0 && ((unsigned char)text[fit] & 0xc0) == 0x80)
		fit--;
	append(l, text, fit);
	l->cut = true;
}

static void append_value(struct line *l, const char *value)
{
	if (!needs_quotes(value)) {
		append_prefix(l, value, strlen(value));
		return;
	}

	append(l, "\"", 1);
	if (l->cut)
		return;
	for (const char *p = value; *p && !l->cut; p++) {
		unsigned char c = (unsigned char)*p;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			append(l, esc, 2);
		} else if (c < ' ' || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			append(l, esc, 4);
		} else {
			append(l, (const char *)&c, 1);
		}
	}

	/* The closing quote has its room kept, cut or not. */
	l->text[l->len++] = '"';
}

size_t logfmt_line(char line[LOGFMT_LINE_MAX], enum log_level level,
		   const char *event, const struct log_field *fields,
		   size_t n_fields)
{
	const char *name = logfmt_level_name(level);
	struct line l = {.text = line};

	append(&l, "level=", 6);
	append(&l, name, strlen(name));
	append(&l, " event=", 7);
	append_prefix(&l, event, strlen(event));

	for (size_t i = 0; i < n_fields && !l.cut; i++) {
		if (!fields[i].value)
			continue;
		append(&l, " ", 1);
		append(&l, fields[i].key, strlen(fields[i].key));
		append(&l, "=", 1);
		if (!l.cut)
			append_value(&l, fields[i].value);
	}

	if (l.cut) {
		memcpy(line + l.len, CUT_MARK, sizeof(CUT_MARK) - 1);
		l.len += sizeof(CUT_MARK) - 1;
	}
	line[l.len] = '\0';
	return l.len;
}

void logfmt_field_name(const char *key, char name[LOGFMT_FIELD_NAME_MAX + 1])
{
	size_t len;

	for (size_t i = 0; i < N_OF(known_fields); i++) {
		if (strcmp(key, known_fields[i].key) == 0) {
			strcpy(name, known_fields[i].field);
			return;
		}
	}

	/* The prefix keeps a key clear of the journal's own fields (and
	 * of a leading '_' or digit, which the journal refuses). */
	strcpy(name, "AB_");
	len = 3;
	for (const char *p = key; *p && len < LOGFMT_FIELD_NAME_MAX; p++) {
		char c = *p;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		name[len++] = c;
	}
	name[len] = '\0';
}

/*
 * Adds NAME=value, the value cut to the room left; a field whose name
 * does not fit is left out.
 */
static void add_field(struct logfmt_journal *out, const char *name,
		      const char *value, size_t value_len)
{
	size_t name_len = strlen(name);
	size_t room = sizeof(out->text) - out->used;
	char *start = out->text + out->used;

	if (out->n >= N_OF(out->iov) || room < name_len + 2)
		return;
	if (value_len > room - name_len - 1)
		value_len = room - name_len - 1;

	memcpy(start, name, name_len);
	start[name_len] = '=';
	memcpy(start + name_len + 1, value, value_len);

	out->iov[out->n].iov_base = start;
	out->iov[out->n].iov_len = name_len + 1 + value_len;
	out->n++;
	out->used += name_len + 1 + value_len;
}

static void add_text(struct logfmt_journal *out, const char *name,
		     const char *value)
{
	add_field(out, name, value, strlen(value));
}

void logfmt_journal(struct logfmt_journal *out, enum log_level level,
		    const char *event, const struct log_field *fields,
		    size_t n_fields, const char *line, size_t line_len)
{
	const char *message_id = logfmt_message_id(event);
	char priority[4];

	out->n = 0;
	out->used = 0;

	snprintf(priority, sizeof(priority), "%d", logfmt_priority(level));
	add_field(out, "MESSAGE", line, line_len);
	add_text(out, "PRIORITY", priority);
	add_text(out, "SYSLOG_IDENTIFIER", "alertbridge");
	add_text(out, "AB_EVENT", event);
	if (message_id)
		add_text(out, "MESSAGE_ID", message_id);

	for (size_t i = 0; i < n_fields; i++) {
		char name[LOGFMT_FIELD_NAME_MAX + 1];

		if (!fields[i].value)
			continue;
		logfmt_field_name(fields[i].key, name);
		add_text(out, name, fields[i].value);
	}
}
