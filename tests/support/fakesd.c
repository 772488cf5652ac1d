/*
 * fakesd: the notify socket a service manager would hold.
 */
#include "fakesd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

int fakesd_open(struct fakesd *sd)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	memset(sd, 0, sizeof(*sd));
	sd->fd = -1;
	strcpy(sd->dir, "/tmp/ab-sd-XXXXXX");
	if (!mkdtemp(sd->dir))
		return -errno;
	snprintf(sd->path, sizeof(sd->path), "%s/notify", sd->dir);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sd->path);

	sd->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sd->fd < 0)
		return -errno;
	if (bind(sd->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return setenv("NOTIFY_SOCKET", sd->path, 1) < 0 ? -errno : 0;
}

void fakesd_close(struct fakesd *sd)
{
	unsetenv("NOTIFY_SOCKET");
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
	unlink(sd->path);
	rmdir(sd->dir);
}

int fakesd_next(struct fakesd *sd, int timeout_ms, struct fakesd_message *ret)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd pfd = {.fd = sd->fd, .events = POLLIN};
		int64_t left = deadline - harness_mono_ms();
		ssize_t n;

		if (left < 0)
			left = 0;
		if (poll(&pfd, 1, (int)left) > 0) {
			n = recv(sd->fd, ret->text, sizeof(ret->text) - 1,
				 MSG_DONTWAIT);
			if (n >= 0) {
				ret->text[n] = '\0';
				ret->at_mono = harness_mono_ms();
				return 0;
			}
		}
		if (harness_mono_ms() >= deadline)
			return -ETIMEDOUT;
	}
}

bool fakesd_has_line(const struct fakesd_message *message, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = message->text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

const char *fakesd_value(const struct fakesd_message *message, const char *name,
			 char *buf, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = message->text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len >= n && memcmp(p, name, n) == 0 && len - n < size) {
			memcpy(buf, p + n, len - n);
			buf[len - n] = '\0';
			return buf;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int fakesd_wait_line(struct fakesd *sd, const char *line, int timeout_ms,
		     struct fakesd_message *ret)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	while (harness_mono_ms() < deadline) {
		int left = (int)(deadline - harness_mono_ms());

		if (fakesd_next(sd, left > 0 ? left : 0, ret) < 0)
			break;
		if (fakesd_has_line(ret, line))
			return 0;
	}
	return -ETIMEDOUT;
}
