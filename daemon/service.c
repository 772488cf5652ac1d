/*
 * service: start, main loop, reload and stop of `alertbridge serve`.
 */
#include "service.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <systemd/sd-daemon.h>

#include "app.h"
#include "certfetch.h"
#include "commands.h"
#include "delivery.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "server.h"
#include "silences.h"
#include "store.h"
#include "timeutil.h"
#include "util.h"
#include "writer.h"

/* How long a stop waits for deliveries under way. */
#define SERVICE_SHUTDOWN_GRACE_MS 5000

/* How often STATUS= is looked at (and sent when it changed). */
#define SERVICE_STATUS_MS 2000

/* Without a watchdog: a worker silent this long is logged as stalled. */
#define SERVICE_STALL_MS 15000

/* How often idle workers turn when no watchdog asks for more. */
#define SERVICE_HEARTBEAT_MS 1000

/* While the workers make their first turn, the loop looks this often. */
#define SERVICE_START_POLL_MS 10

struct service {
	const struct service_options *options;
	struct app app;
	int signal_fd;
	int lock_fd;   /* the state directory's lock, held while we run */
	int listen_fd; /* passed by systemd; -1: bind the configured one */
	int port;
	bool ready;
	bool reload_pending;

	bool watchdog; /* WatchdogSec= is set for us */
	int64_t ping_ms;
	int64_t stall_ms;
	int64_t started_mono;
	int64_t next_ping_mono;
	int64_t next_status_mono;
	const char *stalled; /* the worker not pinged for, or NULL */

	char reload_note[320]; /* why the last reload failed, or "" */
	char status[512];      /* the STATUS= last sent */
};

static int ensure_dir(const char *path)
{
	char copy[4096];

	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void warn_testing(const struct config *config)
{
	char as_of[32] = "";

	if (config->testing_as_of_ms)
		timeutil_format(config->testing_as_of_ms, as_of);

	LOG(LOG_LEVEL_WARNING, "config.testing_settings",
	    {"detail", "test-only settings are on: this is not a production"
		       " configuration"},
	    {"as_of", as_of[0] ? as_of : NULL},
	    {"skip_age_check", config->testing_skip_age_check ? "true" : NULL},
	    {"skip_cert_validity",
	     config->testing_skip_cert_validity ? "true" : NULL},
	    {"skip_signature", config->testing_skip_signature ? "true" : NULL});
}

static void log_targets(const struct config *config)
{
	for (size_t i = 0; i < config->n_targets; i++)
		LOG(LOG_LEVEL_INFO, "config.target",
		    {"target", config->targets[i].name},
		    {"key_source", config->targets[i].key_source},
		    {"key_fingerprint", config->targets[i].fingerprint});
	for (size_t i = 0; i < config->warnings.n; i++) {
		char line[24];
		const struct config_diag *w = &config->warnings.v[i];

		LOG(LOG_LEVEL_WARNING, "config.warning", {"file", w->file},
		    {"line", log_int(line, w->line)}, {"detail", w->message});
	}
}

static int write_port_file(const char *path, int port)
{
	char text[16];
	int n = snprintf(text, sizeof(text), "%d\n", port);

	return util_write_file_atomic(path, text, (size_t)n);
}

static uint64_t monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* STATUS= text: the reload's failure, a stall, then the figures. */
static void status_text(const struct service *s, char *out, size_t size)
{
	long long depth = metrics_gauge_get(METRICS_GAUGE_OUTBOX_DEPTH);
	long long oldest =
		metrics_gauge_get(METRICS_GAUGE_OUTBOX_OLDEST_AGE_MS);
	long long open = metrics_gauge_get(METRICS_GAUGE_INCIDENTS_OPEN);
	long long dead = metrics_gauge_get(METRICS_GAUGE_DEAD_LETTERS);
	char stall[64] = "";

	if (s->stalled)
		snprintf(stall, sizeof(stall), "the %s worker is stuck; ",
			 s->stalled);
	snprintf(out, size,
		 "%s%s%s%s: outbox %lld, oldest pending %llds,"
		 " open incidents %lld, dead letters %lld",
		 s->reload_note, s->reload_note[0] ? "; " : "", stall,
		 s->ready ? "Serving" : "Starting", depth, oldest / 1000, open,
		 dead);
}

static void status_turn(struct service *s, int64_t now)
{
	char text[sizeof(s->status)];

	if (now < s->next_status_mono)
		return;
	s->next_status_mono = now + SERVICE_STATUS_MS;

	status_text(s, text, sizeof(text));
	if (strcmp(text, s->status) == 0)
		return;
	strcpy(s->status, text);
	sd_notifyf(0, "STATUS=%s", text);
}

/* READY=1 with the status: at start, and after each reload. */
static void notify_ready(struct service *s)
{
	status_text(s, s->status, sizeof(s->status));
	sd_notifyf(0, "READY=1\nSTATUS=%s", s->status);
}

/* The worker whose heartbeat is older than allowed, or NULL. */
static const char *stuck_worker(const struct service *s, int64_t now,
				int64_t *ret_silent_ms)
{
	const struct {
		const char *name;
		int64_t beat;
	} workers[] = {
		{"writer", writer_heartbeat(s->app.writer)},
		{"delivery", delivery_heartbeat(s->app.delivery)},
	};

	for (size_t i = 0; i < sizeof(workers) / sizeof(*workers); i++) {
		/* Before its first turn, a worker is judged from the
		 * start. */
		int64_t beat =
			workers[i].beat ? workers[i].beat : s->started_mono;

		if (now - beat > s->stall_ms) {
			*ret_silent_ms = now - beat;
			return workers[i].name;
		}
	}
	return NULL;
}

/*
 * Pings the watchdog when every worker is alive; that this runs at all
 * says the main loop is. A stall is logged when it starts and when it
 * ends, not at every look.
 */
static void watchdog_turn(struct service *s, int64_t now)
{
	const char *stuck;
	int64_t silent = 0;
	char ms[24];

	if (now < s->next_ping_mono)
		return;
	s->next_ping_mono = now + s->ping_ms;

	stuck = stuck_worker(s, now, &silent);
	if (stuck) {
		if (stuck != s->stalled)
			LOG(LOG_LEVEL_WARNING, "watchdog.stalled",
			    {"worker", stuck},
			    {"silent_ms", log_int(ms, silent)},
			    {"detail",
			     s->watchdog ? "not pinging the watchdog: systemd"
					   " restarts the daemon if this lasts"
					 : "no watchdog is set to act on it"});
		s->stalled = stuck;
		s->next_status_mono = 0;
		return;
	}

	if (s->stalled) {
		LOG(LOG_LEVEL_INFO, "watchdog.recovered",
		    {"worker", s->stalled});
		s->stalled = NULL;
		s->next_status_mono = 0;
	}
	if (s->watchdog)
		sd_notify(0, "WATCHDOG=1");
}

static void log_load_errors(const struct config_diags *errors,
			    const char *source, int r)
{
	if (errors->n == 0) {
		LOG(LOG_LEVEL_ERROR, "config.error", {"file", source},
		    {"error", strerror(-r)});
		return;
	}

	for (size_t i = 0; i < errors->n; i++) {
		const struct config_diag *d = &errors->v[i];
		char at[512];

		snprintf(at, sizeof(at), "%s:%d:%d", d->file, d->line,
			 d->column);
		LOG(LOG_LEVEL_ERROR, "config.error", {"at", at},
		    {"error", d->message}, {"hint", d->hint});
	}
}

/*
 * SIGHUP: the new configuration in a new object, swapped in only when
 * whole and valid. READY=1 follows either way: the daemon is serving,
 * with one configuration or the other.
 */
static void reload(struct service *s)
{
	struct config_diags errors = {0};
	const struct config *running;
	struct config *next = NULL;
	const char *source = NULL;
	const char *reason = NULL;
	char count[24];
	char routes[24];
	int r;

	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)monotonic_usec());

	running = app_config_acquire(&s->app);
	r = commands_config_load(s->options->config_path, &next, &errors,
				 &source);
	if (r < 0) {
		log_load_errors(&errors, source, r);
		snprintf(s->reload_note, sizeof(s->reload_note),
			 "Reload failed (%zu error%s in %s, see the log),"
			 " running the previous configuration",
			 errors.n ? errors.n : 1, errors.n > 1 ? "s" : "",
			 source);
		LOG(LOG_LEVEL_WARNING, "config.reload_failed", {"file", source},
		    {"errors",
		     log_int(count, errors.n ? (long long)errors.n : 1)},
		    {"detail", "running the previous configuration"});
		goto out;
	}

	r = reload_check(running, next, s->options->not_production, &reason);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "config.error", {"file", source},
		    {"error", reason ? reason : strerror(-r)});
		snprintf(s->reload_note, sizeof(s->reload_note),
			 "Reload refused (%s, see the log), running the"
			 " previous configuration",
			 source);
		LOG(LOG_LEVEL_WARNING, "config.reload_failed", {"file", source},
		    {"errors", "1"},
		    {"detail", "running the previous configuration"});
		goto out;
	}

	snprintf(count, sizeof(count), "%zu", next->n_targets);
	snprintf(routes, sizeof(routes), "%zu", next->n_routes);
	r = app_config_swap(&s->app, next);
	next = NULL;
	if (r < 0) {
		snprintf(s->reload_note, sizeof(s->reload_note),
			 "Reload failed (%s), running the previous"
			 " configuration",
			 strerror(-r));
		LOG(LOG_LEVEL_WARNING, "config.reload_failed", {"file", source},
		    {"error", strerror(-r)},
		    {"detail", "running the previous configuration"});
		goto out;
	}

	s->reload_note[0] = '\0';
	app_config_release(&s->app, running);
	running = app_config_acquire(&s->app);
	if (running->testing)
		warn_testing(running);
	log_targets(running);
	LOG(LOG_LEVEL_INFO, "config.reloaded", {"file", source},
	    {"targets", count}, {"routes", routes});

	/* Policies, silences and targets may have changed under them. */
	writer_poke(s->app.writer);
	delivery_wake(s->app.delivery);
out:
	config_free(next);
	config_diags_release(&errors);
	app_config_release(&s->app, running);
	notify_ready(s);
	s->next_status_mono = app_mono_ms() + SERVICE_STATUS_MS;
}

static void become_ready(struct service *s)
{
	const struct config *config;
	char port[24];
	char watchdog[24];

	if (writer_heartbeat(s->app.writer) == 0 ||
	    delivery_heartbeat(s->app.delivery) == 0)
		return;

	s->ready = true;
	config = app_config_acquire(&s->app);
	if (s->options->port_file) {
		int r = write_port_file(s->options->port_file, s->port);

		if (r < 0)
			LOG(LOG_LEVEL_WARNING, "server.port_file_failed",
			    {"path", s->options->port_file},
			    {"error", strerror(-r)});
	}
	LOG(LOG_LEVEL_INFO, "daemon.ready", {"config", config->path},
	    {"listen",
	     s->listen_fd >= 0 ? "systemd socket" : config->listen_host},
	    {"port", log_int(port, s->port)}, {"state_dir", config->state_dir},
	    {"watchdog_ms",
	     s->watchdog ? log_int(watchdog, s->stall_ms) : NULL});
	app_config_release(&s->app, config);
	notify_ready(s);
	s->next_status_mono = app_mono_ms() + SERVICE_STATUS_MS;
}

/* Runs until SIGTERM or SIGINT; returns the signal, or 0 when the loop
 * itself failed (logged). */
static int main_loop(struct service *s)
{
	for (;;) {
		struct signalfd_siginfo info;
		struct pollfd pfd = {.fd = s->signal_fd, .events = POLLIN};
		int64_t now = app_mono_ms();
		int64_t wait = s->next_ping_mono - now;

		if (s->next_status_mono - now < wait)
			wait = s->next_status_mono - now;
		if (!s->ready && wait > SERVICE_START_POLL_MS)
			wait = SERVICE_START_POLL_MS;
		if (wait < 0)
			wait = 0;

		/* Only EINTR can pass: any other failure would repeat at once,
		 * and a loop that cannot wait cannot hear a signal either. */
		if (poll(&pfd, 1, (int)wait) < 0 && errno != EINTR) {
			LOG(LOG_LEVEL_ERROR, "daemon.poll_failed",
			    {"error", strerror(errno)},
			    {"detail", "stopping: the main loop cannot wait"});
			return 0;
		}

		while (read(s->signal_fd, &info, sizeof(info)) ==
		       (ssize_t)sizeof(info)) {
			if (info.ssi_signo != SIGHUP)
				return (int)info.ssi_signo;
			s->reload_pending = true;
		}

		if (!s->ready)
			become_ready(s);
		if (s->ready && s->reload_pending) {
			s->reload_pending = false;
			reload(s);
		}

		now = app_mono_ms();
		watchdog_turn(s, now);
		status_turn(s, now);
	}
}

/* WatchdogSec= sets how often workers must turn and when to ping. */
static void watchdog_setup(struct service *s)
{
	uint64_t usec = 0;
	int64_t period;

	s->ping_ms = SERVICE_STATUS_MS;
	s->stall_ms = SERVICE_STALL_MS;
	s->app.heartbeat_ms = SERVICE_HEARTBEAT_MS;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec < 1000)
		return;

	period = (int64_t)(usec / 1000);
	s->watchdog = true;
	s->ping_ms = period / 2 > 0 ? period / 2 : 1;
	s->app.heartbeat_ms = period / 4;
	if (s->app.heartbeat_ms > SERVICE_HEARTBEAT_MS)
		s->app.heartbeat_ms = SERVICE_HEARTBEAT_MS;
	if (s->app.heartbeat_ms < 10)
		s->app.heartbeat_ms = 10;
	s->stall_ms = period > 4 * s->app.heartbeat_ms
			      ? period
			      : 4 * s->app.heartbeat_ms;
}

/* Blocks the signals the loop reads, in every thread started later. */
static int signals_setup(struct service *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->signal_fd < 0 ? -errno : 0;
}

/* The configuration, checked for this start; app owns it after. */
static int load(struct service *s)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	const char *source = NULL;
	int r;

	/* Logged, not printed: under systemd the journal then has each
	 * error at its priority with the fields a reload's have. */
	r = commands_config_load(s->options->config_path, &config, &errors,
				 &source);
	if (r < 0) {
		log_load_errors(&errors, source, r);
		LOG(LOG_LEVEL_ERROR, "config.load_failed", {"file", source},
		    {"detail", "configuration not loaded; not starting"});
		config_diags_release(&errors);
		return r;
	}
	config_diags_release(&errors);

	if (config->testing) {
		if (!s->options->not_production) {
			LOG(LOG_LEVEL_ERROR, "config.testing_refused",
			    {"file", config->path},
			    {"detail", "the configuration has a testing:"
				       " section; start with --not-production"
				       " if this is not production"});
			config_free(config);
			return -EPERM;
		}
		warn_testing(config);
		r = app_set_test_clock(config->testing_clock_file,
				       config->testing_wall_offset_file);
		if (r < 0) {
			config_free(config);
			return r;
		}
	}
	log_targets(config);

	r = ensure_dir(config->state_dir);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "store.dir_failed",
		    {"dir", config->state_dir}, {"error", strerror(-r)});
		config_free(config);
		return r;
	}

	r = store_lock(config->state_dir, &s->lock_fd);
	if (r == -EBUSY) {
		LOG(LOG_LEVEL_ERROR, "store.locked", {"dir", config->state_dir},
		    {"detail", "another alertbridge runs on this state"
			       " directory; one daemon per store"});
		config_free(config);
		return r;
	}
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "store.lock_failed",
		    {"dir", config->state_dir}, {"error", strerror(-r)},
		    {"detail", "cannot create or lock alertbridge.lock in the"
			       " state directory"});
		config_free(config);
		return r;
	}
	return app_config_init(&s->app, config);
}

/* The workers and the server, in the order each needs the last. */
static int start(struct service *s)
{
	struct app *app = &s->app;
	const struct config *config = app_config_acquire(app);
	int r;

	r = writer_start(app, &app->writer);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "store.open_failed",
		    {"dir", config->state_dir}, {"error", strerror(-r)});
		goto out;
	}
	r = silences_open(config, app_wall_ms(), &app->silences);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "silences.load_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	r = certfetch_new(config, &app->certs);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "certs.init_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	r = delivery_start(app, &app->delivery);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "delivery.start_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	r = server_start(app, config, s->listen_fd, &app->server, &s->port);
	if (r < 0) {
		char port[24];

		LOG(LOG_LEVEL_ERROR, "server.listen_failed",
		    {"host", s->listen_fd >= 0 ? "systemd socket"
					       : config->listen_host},
		    {"port", s->listen_fd >= 0
				     ? NULL
				     : log_int(port, config->listen_port)},
		    {"error", strerror(-r)});
	}
out:
	app_config_release(app, config);
	return r;
}

int service_run(const struct service_options *options)
{
	struct service s = {
		.options = options,
		.signal_fd = -1,
		.lock_fd = -1,
		.listen_fd = -1,
	};
	int status = EXIT_FAILURE;
	int sig;
	int r;

	if (load(&s) < 0) {
		if (s.lock_fd >= 0)
			close(s.lock_fd);
		return EXIT_FAILURE;
	}

	/* Before any thread: sd_listen_fds() unsets LISTEN_FDS. */
	r = server_systemd_socket(&s.listen_fd);
	if (r < 0)
		goto out;

	watchdog_setup(&s);
	r = signals_setup(&s);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "daemon.signals_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);

	s.started_mono = app_mono_ms();
	r = start(&s);
	if (r < 0)
		goto out;

	sig = main_loop(&s);
	if (sig == 0)
		goto out;
	LOG(LOG_LEVEL_INFO, "daemon.stopping",
	    {"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"});
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping: finishing requests and"
		     " deliveries under way");
	status = EXIT_SUCCESS;
out:
	atomic_store(&s.app.stopping, true);
	server_stop(s.app.server);
	writer_stop(s.app.writer);
	delivery_stop(s.app.delivery, SERVICE_SHUTDOWN_GRACE_MS);
	certfetch_free(s.app.certs);
	silences_free(s.app.silences);
	app_config_cleanup(&s.app);
	curl_global_cleanup();
	if (s.signal_fd >= 0)
		close(s.signal_fd);
	if (s.listen_fd >= 0 && !s.app.server)
		close(s.listen_fd);
	if (s.lock_fd >= 0)
		close(s.lock_fd);
	if (status == EXIT_SUCCESS)
		LOG(LOG_LEVEL_INFO, "daemon.stopped", {"status", "0"});
	return status;
}
