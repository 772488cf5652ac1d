/*
 * commands: serve and check-config.
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
	fprintf(out,
		"Usage: alertbridge serve [-c FILE] [--not-production]"
		" [--port-file FILE]\n"
		"                         [--log-level LEVEL]"
		" [--log-target TARGET]\n"
		"\n"
		"Runs the daemon. Without -c it reads %s, or the\n"
		"example configuration built in when that file is absent.\n"
		"\n"
		"  -c, --config FILE    the configuration file\n"
		"  --not-production     allow the test-only settings of a\n"
		"                       testing: section (refused otherwise)\n"
		"  --port-file FILE     write the bound port here once ready\n"
		"  --log-level LEVEL    debug, info, warning or error\n"
		"  --log-target TARGET  journal, console or auto (the\n"
		"                       journal when standard error is\n"
		"                       systemd's journal stream)\n",
		COMMANDS_DEFAULT_CONFIG);
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
		{"log-target", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	enum log_target log_target = LOG_TARGET_AUTO;
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
		case 'T':
			if (log_target_from_name(optarg, &log_target) < 0) {
				fprintf(stderr, "unknown log target: %s\n",
					optarg);
				return EXIT_FAILURE;
			}
			break;
		case 'h':
			usage_serve(stdout);
			return EXIT_SUCCESS;
		default:
			usage_serve(stderr);
			return EXIT_FAILURE;
		}
	}

	log_set_target(log_target);
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

static void print_route(const char *name, const struct config_route *route)
{
	if (route->policy)
		printf("  %-22s -> escalation %s, severity %s\n", name,
		       route->policy->name, route->severity);
	else
		printf("  %-22s -> %s, severity %s\n", name,
		       route->target->name, route->severity);
}

static void print_summary(const struct config *config)
{
	printf("configuration: %s\n", config->path);
	printf("listen: %s:%d\nstate_dir: %s\n", config->listen_host,
	       config->listen_port, config->state_dir);
	printf("targets:\n");
	for (size_t i = 0; i < config->n_targets; i++)
		printf("  %-22s key %s (from %s)\n", config->targets[i].name,
		       config->targets[i].fingerprint,
		       config->targets[i].key_source);
	printf("escalation policies:\n");
	for (size_t i = 0; i < config->n_policies; i++) {
		const struct config_policy *p = &config->policies[i];

		printf("  %s:", p->name);
		for (size_t j = 0; j < p->n_steps; j++) {
			const struct config_step *step = &p->steps[j];

			printf("%s %s at %lldm", j ? "," : "",
			       step->target->name,
			       (long long)(step->after_ms / 60000));
			for (int k = 0;
			     step->severities && k < CONFIG_SEVERITY_COUNT; k++)
				if (step->severities & (1u << k))
					printf(" [%s]",
					       config_severity_name((
						       enum config_severity)k));
		}
		printf("\n");
	}
	printf("routes (first match wins):\n");
	for (size_t i = 0; i < config->n_routes; i++)
		print_route(config->routes[i].name, &config->routes[i]);
	print_route("(default)", &config->default_route);
	printf("silences: %zu configured\n", config->n_silences);
	printf("webhook: %s; api: %s\n",
	       config->webhook_secret.value ? "on" : "off",
	       config->api_token.value ? "on" : "off");
}

/* Prints the route a message file would take; an envelope or a body. */
static int explain_message(const struct config *config, const char *path)
{
	struct sns_message *msg = NULL;
	struct ingest_plan plan = {0};
	const char *reason = NULL;
	const char *message;
	const char *topic = NULL;
	const char *subject = NULL;
	size_t message_len;
	char *data = NULL;
	size_t len = 0;
	int r;

	r = util_read_file(path, config->max_body_bytes, &data, &len);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
		return r;
	}

	/* An SNS envelope gives its Message, topic and subject. */
	message = data;
	message_len = len;
	if (sns_parse(data, len, &msg, &reason) == 0) {
		message = msg->message;
		message_len = msg->message_len;
		topic = msg->topic_arn;
		subject = msg->subject;
	}

	r = ingest_plan_message(config, message, message_len, topic, subject,
				app_wall_ms(), &plan);
	if (r < 0) {
		fprintf(stderr, "%s: cannot plan: %s\n", path, strerror(-r));
		goto out;
	}

	printf("message: %s\n", path);
	printf("  kind: %s\n  alert: %s\n  state: %s\n",
	       alert_kind_name(plan.alert->kind),
	       plan.alert->name ? plan.alert->name : "",
	       alert_state_name(plan.alert->state));
	printf("  route: %s\n  target: %s\n  severity: %s\n", plan.route->name,
	       plan.route->target->name, plan.severity);
	printf("  dedup_key: %s\n  payload: %s\n", plan.dedup_key,
	       plan.payload_json);
out:
	ingest_plan_release(&plan);
	sns_message_free(msg);
	free(data);
	return r;
}

int command_check_config(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"message", required_argument, NULL, 'm'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *message_path = NULL;
	struct config *config = NULL;
	bool quiet = false;
	int status = EXIT_SUCCESS;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:m:qh", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'm':
			message_path = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("Usage: alertbridge check-config [-c FILE]"
			       " [--message FILE] [--quiet]\n\n"
			       "Checks the configuration and prints every"
			       " error with file:line:column.\n"
			       "With --message, shows the route a message"
			       " (an SNS envelope or a bare\n"
			       "Message body) would take and the payload it"
			       " would render.\n");
			return EXIT_SUCCESS;
		default:
			return EXIT_FAILURE;
		}
	}

	if (commands_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;

	config_diags_print(&config->warnings, "warning", stderr);
	if (!quiet)
		print_summary(config);
	if (message_path && explain_message(config, message_path) < 0)
		status = EXIT_FAILURE;
	if (status == EXIT_SUCCESS && !quiet)
		printf("configuration OK\n");

	config_free(config);
	return status;
}
