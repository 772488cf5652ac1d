/*
 * util: small helpers shared by every module.
 *
 * Error convention (whole project): functions return int, 0 on success
 * and a negative errno on failure; results go through ret_-prefixed
 * out-parameters that are set only on success.
 */
#ifndef ALERTBRIDGE_UTIL_H
#define ALERTBRIDGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A growable byte buffer with a hard cap. Appending past the cap fails
 * with -E2BIG and leaves the buffer as it was, so that nothing a client
 * controls can grow memory without bound. data is always NUL-terminated.
 */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;   /* allocated bytes */
	size_t limit; /* most bytes len may reach */
};

void strbuf_init(struct strbuf *sb, size_t limit);
void strbuf_release(struct strbuf *sb);
int strbuf_append(struct strbuf *sb, const char *data, size_t len);
/* Appends as much of data as the limit leaves room for and drops the
 * rest: keeps the start of a text too long to keep whole. */
int strbuf_append_head(struct strbuf *sb, const char *data, size_t len);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the data over to the caller (free() it) and resets sb. */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);

/* strdup that returns NULL for NULL. */
char *util_strdup_or_null(const char *s);

/* Frees *p and sets it to NULL. */
void util_freep(void *p);

/* Lower-case hex SHA-256 of data into out (65 bytes with the NUL). */
void util_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * A short, stable fingerprint of a secret for log lines: the first 12
 * hex digits of its SHA-256 (13 bytes with the NUL). The secret itself
 * must never be logged.
 */
void util_fingerprint(const char *secret, char out[13]);

/* Reads a whole file, at most limit bytes (-EFBIG beyond; -EISDIR for a
 * directory). */
int util_read_file(const char *path, size_t limit, char **ret_data,
		   size_t *ret_len);

/* Writes a file atomically: a temporary file, fsync, rename, fsync dir. */
int util_write_file_atomic(const char *path, const void *data, size_t len);

/* Strips trailing white space (a newline after a key in a file). */
void util_rstrip(char *s);

/* True when s is valid UTF-8 of length len. */
bool util_utf8_valid(const char *s, size_t len);

/*
 * Length of the longest prefix of s (at most max bytes) that ends on a
 * UTF-8 character boundary.
 */
size_t util_utf8_prefix(const char *s, size_t len, size_t max);

/* Case-sensitive string equality that treats two NULLs as equal. */
bool util_streq(const char *a, const char *b);

#endif
