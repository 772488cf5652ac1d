/*
 * fakesd: systemd's side of sd_notify(3) for tests, where systemd is
 * not the service manager: an AF_UNIX datagram socket in a fresh
 * temporary directory, named by NOTIFY_SOCKET to the daemons started
 * while it is set, and a reader of what they send, in order.
 */
#ifndef ALERTBRIDGE_FAKESD_H
#define ALERTBRIDGE_FAKESD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fakesd {
	char dir[64];
	char path[96]; /* fits sun_path */
	int fd;
};

struct fakesd_message {
	char text[2048]; /* the datagram, NUL-terminated */
	int64_t at_mono; /* when it was read, harness_mono_ms() */
};

/* Creates the socket and sets NOTIFY_SOCKET to it. */
int fakesd_open(struct fakesd *sd);

/* Unsets NOTIFY_SOCKET, closes and removes the socket. */
void fakesd_close(struct fakesd *sd);

/* The next datagram, waiting up to timeout_ms: 0, or -ETIMEDOUT. */
int fakesd_next(struct fakesd *sd, int timeout_ms, struct fakesd_message *ret);

/*
 * Reads datagrams until one has the line line (such as "READY=1"),
 * up to timeout_ms; the others are passed over. 0, or -ETIMEDOUT.
 */
int fakesd_wait_line(struct fakesd *sd, const char *line, int timeout_ms,
		     struct fakesd_message *ret);

/* True when message has the line line ("READY=1", "STATUS=..."). */
bool fakesd_has_line(const struct fakesd_message *message, const char *line);

/*
 * The value of the first line of message starting NAME= (name given
 * with the '='), or NULL. Points into message.
 */
const char *fakesd_value(const struct fakesd_message *message, const char *name,
			 char *buf, size_t size);

#endif
