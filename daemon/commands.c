/*
 * commands: serve, and the configuration every command loads.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "app.h"
#include "certfetch.h"
#include "config.h"
#include "delivery.h"
#include "help.h"
#include "ingest.h"
#include "log.h"
#include "render.h"
#include "silences.h"
#include "sns.h"
#include "server.h"
#include "timeutil.h"
#include "util.h"
#include "writer.h"

/* How long a stop waits for deliveries under way. */
#define SHUTDOWN_GRACE_MS 5000

extern const char embedded_config_yaml[];
extern const size_t embedded_config_yaml_len;

static const char *test_clock_path;

void app_set_test_clock(const char *path)
{
	test_clock_path = path;
}

/* The test clock's instant; false when it cannot be read. */
static bool test_clock_ms(int64_t *ret_ms)
{
	char *text = NULL;
	size_t len = 0;
	bool ok;

	if (util_read_file(test_clock_path, 128, &text, &len) < 0)
		return false;
	util_rstrip(text);
	ok = timeutil_parse(text, ret_ms) == 0;
	free(text);
	return ok;
}

int64_t app_wall_ms(void)
{
	struct timespec ts;
	int64_t ms;

	if (test_clock_path && test_clock_ms(&ms))
		return ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t app_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t app_judge_ms(const struct app *app)
{
	if (app->config->testing_as_of_ms)
		return app->config->testing_as_of_ms;
	return app_wall_ms();
}

/*
 * Loads -c FILE, or the default path, or (when no file exists there)
 * the example configuration compiled into the binary.
 */
int commands_load_config(const char *path, struct config **ret_config)
{
	struct config_diags errors = {0};
	struct stat st;
	int r;

	if (!path && stat(COMMANDS_DEFAULT_CONFIG, &st) == 0)
		path = COMMANDS_DEFAULT_CONFIG;

	if (path)
		r = config_load_file(path, ret_config, &errors);
	else
		r = config_load_string(
			"<embedded example>", embedded_config_yaml,
			embedded_config_yaml_len, ret_config, &errors);

	if (r < 0) {
		if (errors.n > 0)
			config_diags_print(&errors, "error", stderr);
		else
			fprintf(stderr, "%s: %s\n",
				path ? path : "<embedded example>",
				strerror(-r));
		fprintf(stderr, "configuration not loaded\n");
	}
	config_diags_release(&errors);
	return r;
}

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

static void usage_serve(FILE *out)
{
	help_print("serve", out);
}

static int wait_for_signal(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			return sig;

		/* Reloading is not supported yet: say so, keep running. */
		LOG(LOG_LEVEL_WARNING, "config.reload_unsupported",
		    {"detail", "SIGHUP ignored; restart to apply a new"
			       " configuration"});
	}
}

int command_serve(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"not-production", no_argument, NULL, 'N'},
		{"port-file", required_argument, NULL, 'P'},
		{"log-level", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *port_file = NULL;
	struct config *config = NULL;
	struct app app = {0};
	enum log_level level;
	char port_text[24];
	sigset_t set;
	int status = EXIT_FAILURE;
	int port = 0;
	int opt;
	int r;

	while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'N':
			app.not_production = true;
			break;
		case 'P':
			port_file = optarg;
			break;
		case 'L':
			if (log_level_from_name(optarg, &level) < 0) {
				fprintf(stderr, "unknown log level: %s\n",
					optarg);
				return EXIT_FAILURE;
			}
			log_set_level(level);
			break;
		case 'h':
			usage_serve(stdout);
			return EXIT_SUCCESS;
		default:
			usage_serve(stderr);
			return EXIT_FAILURE;
		}
	}

	if (commands_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;
	app.config = config;

	if (config->testing) {
		if (!app.not_production) {
			LOG(LOG_LEVEL_ERROR, "config.testing_refused",
			    {"file", config->path},
			    {"detail", "the configuration has a testing:"
				       " section; start with --not-production"
				       " if this is not production"});
			goto out;
		}
		warn_testing(config);
		app_set_test_clock(config->testing_clock_file);
	}
	log_targets(config);

	r = ensure_dir(config->state_dir);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "store.dir_failed",
		    {"dir", config->state_dir}, {"error", strerror(-r)});
		goto out;
	}

	/* Signals are taken by sigwait() in this thread alone. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	curl_global_init(CURL_GLOBAL_DEFAULT);

	r = writer_start(&app, &app.writer);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "store.open_failed",
		    {"dir", config->state_dir}, {"error", strerror(-r)});
		goto out;
	}
	r = silences_open(config, app_wall_ms(), &app.silences);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "silences.load_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	r = certfetch_new(config, &app.certs);
	if (r < 0)
		goto out;
	r = delivery_start(&app, &app.delivery);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "delivery.start_failed",
		    {"error", strerror(-r)});
		goto out;
	}
	r = server_start(&app, &app.server, &port);
	if (r < 0) {
		LOG(LOG_LEVEL_ERROR, "server.listen_failed",
		    {"host", config->listen_host}, {"error", strerror(-r)});
		goto out;
	}

	if (port_file && write_port_file(port_file, port) < 0)
		LOG(LOG_LEVEL_WARNING, "server.port_file_failed",
		    {"path", port_file});
	LOG(LOG_LEVEL_INFO, "daemon.ready", {"config", config->path},
	    {"listen", config->listen_host}, {"port", log_int(port_text, port)},
	    {"state_dir", config->state_dir});

	r = wait_for_signal();
	LOG(LOG_LEVEL_INFO, "daemon.stopping",
	    {"signal", r == SIGINT ? "SIGINT" : "SIGTERM"});
	status = EXIT_SUCCESS;
out:
	atomic_store(&app.stopping, true);
	server_stop(app.server);
	writer_stop(app.writer);
	delivery_stop(app.delivery, SHUTDOWN_GRACE_MS);
	certfetch_free(app.certs);
	silences_free(app.silences);
	config_free(config);
	curl_global_cleanup();
	if (status == EXIT_SUCCESS)
		LOG(LOG_LEVEL_INFO, "daemon.stopped", {"status", "0"});
	return status;
}
