/*
 * util: buffers, hashing, files and UTF-8 helpers.
 */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

void strbuf_init(struct strbuf *sb, size_t limit)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->limit = limit;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb, sb->limit);
}

static int strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t want;
	size_t cap;
	char *data;

	if (extra > sb->limit - sb->len)
		return -E2BIG;

	want = sb->len + extra + 1;
	if (want <= sb->cap)
		return 0;

	cap = sb->cap ? sb->cap : 64;
	while (cap < want)
		cap *= 2;

	data = realloc(sb->data, cap);
	if (!data)
		return -ENOMEM;

	sb->data = data;
	sb->cap = cap;
	return 0;
}

int strbuf_append(struct strbuf *sb, const char *data, size_t len)
{
	int r;

	r = strbuf_reserve(sb, len);
	if (r < 0)
		return r;

	if (len)
		memcpy(sb->data + sb->len, data, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
	return 0;
}

int strbuf_append_head(struct strbuf *sb, const char *data, size_t len)
{
	size_t room = sb->limit - sb->len;

	return strbuf_append(sb, data, len < room ? len : room);
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;
	int r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;

	r = strbuf_reserve(sb, (size_t)n);
	if (r < 0)
		return r;

	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);

	sb->len += (size_t)n;
	return 0;
}

char *strbuf_detach(struct strbuf *sb, size_t *ret_len)
{
	char *data;

	if (!sb->data) {
		if (strbuf_reserve(sb, 0) < 0)
			return NULL;
		sb->data[0] = '\0';
	}

	data = sb->data;
	if (ret_len)
		*ret_len = sb->len;
	strbuf_init(sb, sb->limit);
	return data;
}

char *util_strdup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void util_freep(void *p)
{
	void **pp = p;

	free(*pp);
	*pp = NULL;
}

void util_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int md_len = 0;

	EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL);

	for (unsigned int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[64] = '\0';
}

void util_fingerprint(const char *secret, char out[13])
{
	char full[65];

	util_sha256_hex(secret, strlen(secret), full);
	memcpy(out, full, 12);
	out[12] = '\0';
}

int util_read_file(const char *path, size_t limit, char **ret_data,
		   size_t *ret_len)
{
	struct strbuf sb;
	char chunk[8192];
	struct stat st;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;

	/* fopen() opens a directory for reading; fread() on it then fails
	 * with a ferror() that would read as an I/O error. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		return -EISDIR;
	}

	strbuf_init(&sb, limit);
	for (;;) {
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n > 0) {
			r = strbuf_append(&sb, chunk, n);
			if (r < 0) {
				r = r == -E2BIG ? -EFBIG : r;
				goto out;
			}
		}
		if (n < sizeof(chunk)) {
			if (ferror(f))
				r = -EIO;
			break;
		}
	}
	if (r < 0)
		goto out;

	*ret_data = strbuf_detach(&sb, ret_len);
	if (!*ret_data)
		r = -ENOMEM;
out:
	if (r < 0)
		strbuf_release(&sb);
	fclose(f);
	return r;
}

static int fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd;
	int r = 0;

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, path);

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int util_write_file_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;

	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}

	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;

	if (rename(tmp, path) < 0) {
		r = -errno;
		goto fail;
	}
	return fsync_parent(path);

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

void util_rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
			 s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* Length of the UTF-8 sequence at s, or 0 when it is not valid. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	unsigned int c = s[0];
	size_t need;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}

	if (len < need)
		return 0;

	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}

	/* Overlong forms, surrogates and values past U+10FFFF. */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;

	return need;
}

bool util_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence(p + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t util_utf8_prefix(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (max >= len)
		return len;

	while (i < max) {
		size_t n = utf8_sequence(p + i, len - i);

		if (n == 0)
			n = 1;
		if (i + n > max)
			break;
		i += n;
	}
	return i;
}

bool util_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}
