/*
 * log: one line per business event, as stable key=value fields.
 *
 * Every line starts with level= and event=; the fields follow in the
 * order given. Values with spaces, quotes or '=' are quoted. Secrets
 * never reach this module: callers pass fingerprints instead.
 *
 * Lines go to standard error (the console target), or to the journal
 * as entries with the line as MESSAGE= and each field as a field of its
 * own (the journal target; see logfmt.h for the names). The auto
 * target picks the journal when standard error is systemd's journal
 * stream.
 */
#ifndef ALERTBRIDGE_LOG_H
#define ALERTBRIDGE_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

struct log_field {
	const char *key;
	const char *value; /* NULL fields are left out */
};

enum log_target {
	LOG_TARGET_AUTO,
	LOG_TARGET_CONSOLE,
	LOG_TARGET_JOURNAL,
};

/* "auto", "console" or "journal". */
int log_target_from_name(const char *name, enum log_target *ret_target);
const char *log_target_name(enum log_target target);

/*
 * Sets where lines go (console until called); auto is resolved here,
 * once, and the target chosen is returned. Called before any thread
 * logs.
 */
enum log_target log_set_target(enum log_target target);

/* Lines below min are dropped. */
void log_set_level(enum log_level min);
int log_level_from_name(const char *name, enum log_level *ret_level);

void log_event(enum log_level level, const char *event,
	       const struct log_field *fields, size_t n_fields);

/* LOG(LOG_LEVEL_INFO, "sns.accepted", {"message_id", id}, ...) */
#define LOG(level, event, ...)                                                 \
	do {                                                                   \
		const struct log_field log_fields_[] = {__VA_ARGS__};          \
		log_event((level), (event), log_fields_,                       \
			  sizeof(log_fields_) / sizeof(log_fields_[0]));       \
	} while (0)

/* A number as text in a caller's buffer, for a field value. */
const char *log_int(char buf[24], long long value);

#endif
