/*
 * log: levels and where lines go. A console line is one write(2), so
 * that lines from several threads never interleave; a journal entry is
 * one sd_journal_sendv(), which is as atomic.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION /* the location would be this file */

#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "logfmt.h"

/*
 * Where journald takes entries in its native protocol. sd_journal_sendv()
 * drops an entry without a word when nothing listens there, so the
 * journal target is only taken when it exists.
 */
#define LOG_JOURNAL_SOCKET "/run/systemd/journal/socket"

static atomic_int log_min = LOG_LEVEL_INFO;
static atomic_int log_target = LOG_TARGET_CONSOLE;
static atomic_bool journal_failed;

static const char *const target_names[] = {
	[LOG_TARGET_AUTO] = "auto",
	[LOG_TARGET_CONSOLE] = "console",
	[LOG_TARGET_JOURNAL] = "journal",
};

void log_set_level(enum log_level min)
{
	atomic_store(&log_min, min);
}

int log_level_from_name(const char *name, enum log_level *ret_level)
{
	for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_ERROR; i++) {
		if (strcasecmp(name, logfmt_level_name(i)) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int log_target_from_name(const char *name, enum log_target *ret_target)
{
	for (size_t i = 0; i < sizeof(target_names) / sizeof(*target_names);
	     i++) {
		if (strcasecmp(name, target_names[i]) == 0) {
			*ret_target = (enum log_target)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *log_target_name(enum log_target target)
{
	return target_names[target];
}

/*
 * systemd sets JOURNAL_STREAM to the device and inode of the stream it
 * connects standard error to; a match means standard error still is
 * that stream (not redirected since), and the native protocol can carry
 * fields the stream cannot.
 */
static bool stderr_is_journal(void)
{
	const char *text = getenv("JOURNAL_STREAM");
	unsigned long long dev;
	unsigned long long ino;
	struct stat st;
	char tail;

	if (!text || sscanf(text, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void write_line(char *line, size_t len)
{
	line[len++] = '\n';

	/* Nothing useful can be done when standard error is gone. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

/* Says once, on standard error, that the journal is not there. */
static void note_journal_unavailable(const char *error)
{
	char note[LOGFMT_LINE_MAX];
	size_t n;

	if (atomic_exchange(&journal_failed, true))
		return;
	n = logfmt_line(note, LOG_LEVEL_WARNING, "log.journal_unavailable",
			(const struct log_field[]){
				{"error", error},
				{"detail", "writing lines to standard error"
					   " instead of the journal"},
			},
			2);
	write_line(note, n);
}

enum log_target log_set_target(enum log_target target)
{
	struct stat st;

	if (target == LOG_TARGET_AUTO)
		target = stderr_is_journal() ? LOG_TARGET_JOURNAL
					     : LOG_TARGET_CONSOLE;
	if (target == LOG_TARGET_JOURNAL && stat(LOG_JOURNAL_SOCKET, &st) < 0) {
		note_journal_unavailable(strerror(errno));
		target = LOG_TARGET_CONSOLE;
	}
	atomic_store(&log_target, target);
	return target;
}

const char *log_int(char buf[24], long long value)
{
	snprintf(buf, 24, "%lld", value);
	return buf;
}

/* An entry the journal refused goes to standard error instead. */
static void journal_fallback(int error, char *line, size_t len)
{
	note_journal_unavailable(strerror(-error));
	write_line(line, len);
}

void log_event(enum log_level level, const char *event,
	       const struct log_field *fields, size_t n_fields)
{
	char line[LOGFMT_LINE_MAX];
	struct logfmt_journal entry;
	size_t len;
	int r;

	if ((int)level < atomic_load(&log_min))
		return;

	len = logfmt_line(line, level, event, fields, n_fields);
	if (atomic_load(&log_target) != LOG_TARGET_JOURNAL) {
		write_line(line, len);
		return;
	}

	logfmt_journal(&entry, level, event, fields, n_fields, line, len);
	r = sd_journal_sendv(entry.iov, (int)entry.n);
	if (r < 0)
		journal_fallback(r, line, len);
}
