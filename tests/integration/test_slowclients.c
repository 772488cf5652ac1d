/*
 * Slow and idle clients: connections that trickle their headers or body
 * a byte at a time (slowloris), and connections that send nothing. The
 * daemon keeps serving everyone else (/healthz, a signed POST /sns)
 * within its limits: a share of the connection table per address, a
 * deadline for a whole request, and the idle timeout.
 *
 * Clients come from distinct loopback addresses (127.0.0.0/8 is all
 * loopback on Linux), so that the per-address limit can be seen.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "scenario.h"

#define MAX_CONNECTIONS    16
#define PER_ADDRESS        4
#define IDLE_TIMEOUT_MS    2000
#define REQUEST_TIMEOUT_MS 3000
/* How late a limit may act: the daemon's own polling, a loaded machine. */
#define SLACK_MS 1500
/* A trickler sends one byte this often: well inside the idle timeout. */
#define TRICKLE_MS 200

#define LIMITS                                                                 \
	"limits:\n"                                                            \
	"  max_connections: 16\n"                                              \
	"  max_connections_per_ip: 4\n"                                        \
	"  connection_timeout: 2s\n"                                           \
	"  request_timeout: 3s\n"

enum trickle {
	TRICKLE_HEADERS, /* a header line that never ends */
	TRICKLE_BODY,    /* a body far shorter than its Content-Length */
	TRICKLE_NOTHING, /* connected, silent */
};

struct slow {
	int fd;
	int64_t closed_mono; /* when the server closed it; 0: still open */
};

struct tricklers {
	struct slow conns[MAX_CONNECTIONS];
	int n;
	enum trickle kind;
	pthread_t thread;
	pthread_mutex_t lock;
	atomic_bool stop;
	bool running;
};

/* Static: a failed assertion leaves a test before it stops its thread,
 * and the tear-down stops it then. */
static struct tricklers tricklers;

static int setup(void **state)
{
	struct scenario *s = calloc(1, sizeof(*s));

	*state = s;
	return s && scenario_start(s, LIMITS) == 0 ? 0 : -1;
}

static void tricklers_stop(struct tricklers *t);

static int teardown(void **state)
{
	if (tricklers.running)
		tricklers_stop(&tricklers);
	return scenario_teardown(state);
}

/* A TCP connection to the daemon from source address 127.0.0.<host>. */
static int connect_from(int host, int port)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(0x7f000001),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	from.sin_addr.s_addr = htonl(0x7f000000 | (uint32_t)host);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

static const char *opening(enum trickle kind)
{
	switch (kind) {
	case TRICKLE_HEADERS:
		return "POST /sns HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
	case TRICKLE_BODY:
		return "POST /sns HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		       "Content-Type: text/plain\r\n"
		       "Content-Length: 100000\r\n\r\n{";
	case TRICKLE_NOTHING:
		break;
	}
	return "";
}

/* True when the server has closed fd (EOF or an error on it). */
static bool closed_by_server(int fd)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* One byte to every open connection, then a look at which closed. */
static void *trickle_main(void *arg)
{
	struct tricklers *t = arg;

	while (!atomic_load(&t->stop)) {
		struct pollfd pfd[MAX_CONNECTIONS];
		int n = 0;

		pthread_mutex_lock(&t->lock);
		for (int i = 0; i < t->n; i++) {
			struct slow *c = &t->conns[i];

			if (c->closed_mono)
				continue;
			if ((t->kind != TRICKLE_NOTHING &&
			     send(c->fd, "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT) <
				     0 &&
			     errno != EAGAIN) ||
			    closed_by_server(c->fd))
				c->closed_mono = harness_mono_ms();
			else
				pfd[n++] = (struct pollfd){c->fd, POLLIN, 0};
		}
		pthread_mutex_unlock(&t->lock);

		/* Paces the trickle; wakes early when one is closed. */
		poll(pfd, (nfds_t)n, TRICKLE_MS);
		for (int i = 0; i < n; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			pthread_mutex_lock(&t->lock);
			for (int k = 0; k < t->n; k++)
				if (t->conns[k].fd == pfd[i].fd &&
				    !t->conns[k].closed_mono &&
				    closed_by_server(pfd[i].fd))
					t->conns[k].closed_mono =
						harness_mono_ms();
			pthread_mutex_unlock(&t->lock);
		}
	}
	return NULL;
}

/*
 * Opens n connections of the given kind from 127.0.0.<first_host> on
 * (each from the next address when spread, else all from the first).
 */
static void tricklers_start(struct tricklers *t, struct scenario *s,
			    enum trickle kind, int n, int first_host,
			    bool spread)
{
	const char *text = opening(kind);

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->kind = kind;
	for (int i = 0; i < n; i++) {
		int fd = connect_from(spread ? first_host + i : first_host,
				      s->h.port);

		assert_true(fd >= 0);
		if (*text)
			send(fd, text, strlen(text), MSG_NOSIGNAL);
		t->conns[t->n++] = (struct slow){.fd = fd};
	}
	assert_int_equal(pthread_create(&t->thread, NULL, trickle_main, t), 0);
	t->running = true;
}

static void tricklers_stop(struct tricklers *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	for (int i = 0; i < t->n; i++)
		close(t->conns[i].fd);
	pthread_mutex_destroy(&t->lock);
	t->running = false;
}

static int open_count(struct tricklers *t)
{
	int n = 0;

	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->n; i++)
		n += t->conns[i].closed_mono == 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Polls until at most n are still open; false past the deadline. */
static bool wait_open_at_most(struct tricklers *t, int n, int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	while (open_count(t) > n) {
		if (harness_mono_ms() > deadline)
			return false;
		harness_pause_ms(20);
	}
	return true;
}

/* Polls /healthz until it answers 200; the time it took, or -1. */
static int64_t healthz_within(struct scenario *s, int timeout_ms)
{
	int64_t start = harness_mono_ms();
	struct harness_response r;

	do {
		if (harness_get(&s->h, "/healthz", &r) == 0 && r.status == 200)
			return harness_mono_ms() - start;
		harness_pause_ms(20);
	} while (harness_mono_ms() - start < timeout_ms);
	return -1;
}

/* A signed alarm posted now: answered 200, and quickly. */
static void sns_served(struct scenario *s, const char *name)
{
	char *alarm = scenario_alarm(name, "ALARM", 0);
	int64_t start = harness_mono_ms();

	assert_int_equal(scenario_post(s, alarm), 200);
	assert_true(harness_mono_ms() - start < 2000);
	free(alarm);
}

/*
 * One misbehaving host opens the whole table's worth of tricklers: it
 * gets its share and no more, and everyone else is served at once.
 */
static void test_one_address_gets_its_share(void **state)
{
	struct scenario *s = *state;
	struct tricklers *t = &tricklers;
	int64_t start = harness_mono_ms();

	tricklers_start(t, s, TRICKLE_HEADERS, MAX_CONNECTIONS, 2, false);

	/* Past its share, its connections are closed at once. */
	assert_true(wait_open_at_most(t, PER_ADDRESS, SLACK_MS));
	assert_true(healthz_within(s, 1000) >= 0);
	sns_served(s, "slow-share");

	/* Its share is cut at the request deadline, not held forever. */
	assert_true(wait_open_at_most(t, 0, REQUEST_TIMEOUT_MS + SLACK_MS));
	assert_true(harness_mono_ms() - start >= REQUEST_TIMEOUT_MS - 500);
	tricklers_stop(t);
}

/*
 * Tricklers from many addresses fill the whole table: the request
 * deadline clears it, and then everyone else is served.
 */
static void test_full_table_of_tricklers_is_cleared(void **state)
{
	struct scenario *s = *state;
	enum trickle kinds[] = {TRICKLE_HEADERS, TRICKLE_BODY};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct tricklers *t = &tricklers;
		int64_t took;

		tricklers_start(t, s, kinds[k], MAX_CONNECTIONS, 10, true);
		assert_true(
			wait_open_at_most(t, 0, REQUEST_TIMEOUT_MS + SLACK_MS));
		took = healthz_within(s, SLACK_MS);
		assert_true(took >= 0);
		sns_served(s, k == 0 ? "slow-headers" : "slow-body");
		tricklers_stop(t);
	}
	assert_true(
		harness_log_wait(&s->h, "event=http.request_timeout", 1000));
}

/*
 * Idle connections below the table's size cost others nothing; a full
 * table of them empties at the idle timeout.
 */
static void test_idle_connections(void **state)
{
	struct scenario *s = *state;
	struct tricklers *t = &tricklers;

	tricklers_start(t, s, TRICKLE_NOTHING, MAX_CONNECTIONS - 4, 40, true);
	assert_true(healthz_within(s, 1000) >= 0);
	sns_served(s, "idle-some");
	tricklers_stop(t);

	tricklers_start(t, s, TRICKLE_NOTHING, MAX_CONNECTIONS, 60, true);
	assert_true(wait_open_at_most(t, 0, IDLE_TIMEOUT_MS + SLACK_MS));
	assert_true(healthz_within(s, SLACK_MS) >= 0);
	sns_served(s, "idle-full");
	tricklers_stop(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_address_gets_its_share,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_full_table_of_tricklers_is_cleared, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_idle_connections, setup,
						teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
