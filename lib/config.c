/*
 * config: the YAML configuration (see config.h).
 *
 * libyaml's event parser builds a small tree of maps, lists and scalars,
 * each with the position it started at (config_tree.c); the section
 * loaders check that tree against the schema and fill a struct config.
 * Each problem is recorded with its position and the walk goes on, so
 * that one run lists them all. Only a YAML syntax error stops early:
 * libyaml cannot resume after one.
 *
 * This file holds the top level and the sections of the daemon itself
 * (listen, limits, sns, api, testing); config_schema.h lists the others.
 * Relative paths are resolved against the directory of the
 * configuration file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "config_schema.h"
#include "config_value.h"
#include "timeutil.h"
#include "util.h"

#define CONFIG_FILE_MAX    (1024 * 1024)
#define DEFAULT_EVENTS_URL "https://events.pagerduty.com/v2/enqueue"
#define API_TOKEN_MIN      16 /* shorter is a warning */

static int parse_listen(const char *text, char **ret_host, int *ret_port)
{
	const char *colon, *host_end, *host = text;
	unsigned char address[16];
	unsigned long port = 0;
	char *name;

	if (text[0] == '[') {
		host = text + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return -EINVAL;
		host_end = colon;
	}
	if (host_end == host || strlen(colon + 1) < 1 || strlen(colon + 1) > 5)
		return -EINVAL;

	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return -EINVAL;

	name = strndup(host, (size_t)(host_end - host));
	if (!name)
		return -ENOMEM;
	if (text[0] == '[' ? inet_pton(AF_INET6, name, address) != 1
			   : strspn(name, "abcdefghijklmnopqrstuvwxyz"
					  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-") != strlen(name)) {
		free(name);
		return -EINVAL;
	}

	*ret_host = name;
	*ret_port = (int)port;
	return 0;
}

static void load_listen(struct loader *ld, const struct ynode *node)
{
	const char *text = tree_scalar_text(ld, node, "listen", NULL);
	char *host;
	int port, r;

	if (!text)
		return;

	r = parse_listen(text, &host, &port);
	if (r == -ENOMEM) {
		ld->oom = true;
		return;
	}
	if (r < 0) {
		tree_report(ld, node,
			    "write host:port, such as 127.0.0.1:8080 or "
			    "[::1]:8080; "
			    "port 0 takes any free port",
			    "'listen': '%s' is not an address and port", text);
		return;
	}

	value_set_text(&ld->config->listen_host, host);
	ld->config->listen_port = port;
}

static void load_limits(struct loader *ld, struct ynode *node)
{
	enum {
		MAX_BODY,
		MAX_CONNECTIONS,
		MAX_CONNECTIONS_PER_IP,
		CONNECTION_TIMEOUT,
		REQUEST_TIMEOUT,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[MAX_BODY] = "max_body",
		[MAX_CONNECTIONS] = "max_connections",
		[MAX_CONNECTIONS_PER_IP] = "max_connections_per_ip",
		[CONNECTION_TIMEOUT] = "connection_timeout",
		[REQUEST_TIMEOUT] = "request_timeout",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	unsigned long number;
	int64_t ms;

	if (!tree_expect_type(ld, node, YNODE_MAP, "limits", NULL))
		return;
	tree_map_fields(ld, node, "limits", keys, COUNT, v);

	/*
	 * SNS messages are at most 256 KiB; the envelope escapes them as a
	 * JSON string, which can grow them, hence 512 KiB by default.
	 */
	if (v[MAX_BODY])
		value_size(ld, v[MAX_BODY], "max_body", "limits", KIB, 4 * MIB,
			   &c->max_body_bytes);
	if (v[MAX_CONNECTIONS] &&
	    value_uint(ld, v[MAX_CONNECTIONS], "max_connections", "limits", 1,
		       10000, &number) == 0)
		c->max_connections = (unsigned int)number;
	if (v[CONNECTION_TIMEOUT] &&
	    value_duration(ld, v[CONNECTION_TIMEOUT], "connection_timeout",
			   "limits", SECOND_MS, 10 * MINUTE_MS, &ms) == 0) {
		if (ms % SECOND_MS)
			tree_report(
				ld, v[CONNECTION_TIMEOUT],
				"write it in whole seconds",
				"'connection_timeout' in limits must be whole "
				"seconds");
		else
			c->connection_timeout_s =
				(unsigned int)(ms / SECOND_MS);
	}

	/*
	 * One address gets a quarter of the table unless told otherwise,
	 * so that a misbehaving client cannot take all of it; 0 lifts the
	 * limit (behind a proxy, every client has the proxy's address).
	 */
	c->max_connections_per_ip =
		c->max_connections >= 4 ? c->max_connections / 4 : 1;
	if (v[MAX_CONNECTIONS_PER_IP] &&
	    value_uint(ld, v[MAX_CONNECTIONS_PER_IP], "max_connections_per_ip",
		       "limits", 0, 10000, &number) == 0)
		c->max_connections_per_ip = (unsigned int)number;
	if (v[REQUEST_TIMEOUT])
		value_duration(ld, v[REQUEST_TIMEOUT], "request_timeout",
			       "limits", SECOND_MS, 10 * MINUTE_MS,
			       &c->request_timeout_ms);
}

static void load_sns(struct loader *ld, struct ynode *node)
{
	enum { TOPICS, CERT_DIR, CERT_FETCH, REPLAY_WINDOW, COUNT };
	static const char *const keys[COUNT] = {
		[TOPICS] = "topics",
		[CERT_DIR] = "cert_dir",
		[CERT_FETCH] = "cert_fetch",
		[REPLAY_WINDOW] = "replay_window",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];

	if (!tree_expect_type(ld, node, YNODE_MAP, "sns", NULL))
		return;
	tree_map_fields(ld, node, "sns", keys, COUNT, v);

	if (tree_require(ld, node, v[TOPICS], "topics", "sns")) {
		value_globs(ld, v[TOPICS], "topics", "sns", &c->topics);
		for (size_t i = 0; i < c->topics.n; i++) {
			if (!strncmp(c->topics.v[i], "arn:", 4))
				continue;
			tree_report(ld, value_item(v[TOPICS], i),
				    "an SNS topic ARN such as "
				    "arn:aws:sns:us-east-1:"
				    "123456789012:alerts, or a glob of one",
				    "'topics' in sns: '%s' is not a topic ARN",
				    c->topics.v[i]);
		}
	}
	if (v[CERT_DIR])
		value_path(ld, v[CERT_DIR], "cert_dir", "sns", &c->cert_dir);
	if (v[CERT_FETCH])
		value_bool(ld, v[CERT_FETCH], "cert_fetch", "sns",
			   &c->cert_fetch);

	/*
	 * SNS retries an HTTP/S delivery for up to an hour with the
	 * original Timestamp, so a shorter window would reject genuine
	 * retries as replays.
	 */
	if (v[REPLAY_WINDOW])
		value_duration(ld, v[REPLAY_WINDOW], "replay_window", "sns",
			       HOUR_MS, 7 * DAY_MS, &c->replay_window_ms);

	if (v[CERT_FETCH] && !c->cert_fetch && !c->cert_dir)
		tree_report(ld, v[CERT_FETCH],
			    "set cert_dir, or cert_fetch: true",
			    "with cert_fetch false, certificates can only come "
			    "from cert_dir, which is not set");
}

static void load_testing(struct loader *ld, struct ynode *node)
{
	enum {
		AS_OF,
		SKIP_AGE,
		SKIP_VALIDITY,
		SKIP_SIGNATURE,
		CA_FILE,
		CONNECT_TO,
		CLOCK_FILE,
		WALL_OFFSET_FILE,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[AS_OF] = "as_of",
		[SKIP_AGE] = "skip_age_check",
		[SKIP_VALIDITY] = "skip_cert_validity",
		[SKIP_SIGNATURE] = "skip_signature",
		[CA_FILE] = "cert_ca_file",
		[CONNECT_TO] = "cert_connect_to",
		[CLOCK_FILE] = "clock_file",
		[WALL_OFFSET_FILE] = "wall_offset_file",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *text;

	c->testing = true;
	if (!tree_expect_type(ld, node, YNODE_MAP, "testing", NULL))
		return;
	tree_map_fields(ld, node, "testing", keys, COUNT, v);

	if (v[AS_OF]) {
		text = tree_scalar_text(ld, v[AS_OF], "as_of", "testing");
		if (text && timeutil_parse(text, &c->testing_as_of_ms) < 0)
			tree_report(
				ld, v[AS_OF], "such as 2022-09-25T18:51:00Z",
				"'as_of' in testing: '%s' is not a timestamp",
				text);
	}
	if (v[SKIP_AGE])
		value_bool(ld, v[SKIP_AGE], keys[SKIP_AGE], "testing",
			   &c->testing_skip_age_check);
	if (v[SKIP_VALIDITY])
		value_bool(ld, v[SKIP_VALIDITY], keys[SKIP_VALIDITY], "testing",
			   &c->testing_skip_cert_validity);
	if (v[SKIP_SIGNATURE])
		value_bool(ld, v[SKIP_SIGNATURE], keys[SKIP_SIGNATURE],
			   "testing", &c->testing_skip_signature);
	if (v[CA_FILE])
		value_path(ld, v[CA_FILE], keys[CA_FILE], "testing",
			   &c->testing_cert_ca_file);
	if (v[CONNECT_TO])
		value_text(ld, v[CONNECT_TO], keys[CONNECT_TO], "testing",
			   &c->testing_cert_connect_to);
	if (v[CLOCK_FILE])
		value_path(ld, v[CLOCK_FILE], keys[CLOCK_FILE], "testing",
			   &c->testing_clock_file);
	if (v[WALL_OFFSET_FILE] && !v[CLOCK_FILE])
		tree_report(ld, v[WALL_OFFSET_FILE],
			    "the offset steps the wall clock away from"
			    " clock_file's instant",
			    "'wall_offset_file' in testing needs 'clock_file'");
	else if (v[WALL_OFFSET_FILE])
		value_path(ld, v[WALL_OFFSET_FILE], keys[WALL_OFFSET_FILE],
			   "testing", &c->testing_wall_offset_file);
}

/* The daemon's own API: its bearer token, if it has one. */
static void load_api(struct loader *ld, struct ynode *node)
{
	static const struct value_secret_spec spec = {
		.keys = {[VALUE_SOURCE_FILE] = "token_file",
			 [VALUE_SOURCE_ENV] = "token_env",
			 [VALUE_SOURCE_CREDENTIAL] = "token_credential",
			 [VALUE_SOURCE_INLINE] = "token"},
		.noun = "API token",
		.owner = "api",
	};
	struct config_secret *token = &ld->config->api_token;
	struct ynode *v[VALUE_SOURCE_COUNT];
	const struct ynode *from;
	char *origin;

	if (!tree_expect_type(ld, node, YNODE_MAP, "api", NULL))
		return;
	tree_map_fields(ld, node, "api", spec.keys, VALUE_SOURCE_COUNT, v);

	if (value_secret(ld, v, "api", &spec, token, &from, &origin) < 0 ||
	    !token->value)
		return;

	/* Whoever guesses it can acknowledge or resolve any incident. */
	if (strlen(token->value) < API_TOKEN_MIN)
		tree_warn(ld, from,
			  "use a long random token, such as the output of "
			  "openssl rand -hex 32",
			  "the API token from %s is shorter than "
			  "%d characters",
			  origin, API_TOKEN_MIN);
	free(origin);
}

static void load_config(struct loader *ld, struct ynode *root)
{
	enum {
		LISTEN,
		STATE_DIR,
		LIMITS,
		ENVIRONMENT,
		REGION,
		SNS,
		PAGERDUTY,
		API,
		TARGETS,
		TEMPLATES,
		ESCALATION_POLICIES,
		ROUTES,
		DEFAULT_ROUTE,
		SILENCES,
		TESTING,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[LISTEN] = "listen",
		[STATE_DIR] = "state_dir",
		[LIMITS] = "limits",
		[ENVIRONMENT] = "environment",
		[REGION] = "region",
		[SNS] = "sns",
		[PAGERDUTY] = "pagerduty",
		[API] = "api",
		[TARGETS] = "targets",
		[TEMPLATES] = "templates",
		[ESCALATION_POLICIES] = "escalation_policies",
		[ROUTES] = "routes",
		[DEFAULT_ROUTE] = "default_route",
		[SILENCES] = "silences",
		[TESTING] = "testing",
	};
	const char *section = "top level";
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	char *text;

	if (root->type != YNODE_MAP) {
		tree_report(
			ld, root, "start from config/alertbridge.yaml",
			"the configuration must be a map of settings, not %s",
			tree_node_kind(root));
		return;
	}
	tree_map_fields(ld, root, section, keys, COUNT, v);

	if (v[LISTEN])
		load_listen(ld, v[LISTEN]);
	if (v[STATE_DIR] &&
	    value_path(ld, v[STATE_DIR], "state_dir", NULL, &text) == 0)
		value_set_text(&c->state_dir, text);
	if (v[LIMITS])
		load_limits(ld, v[LIMITS]);
	if (v[ENVIRONMENT])
		value_text(ld, v[ENVIRONMENT], "environment", NULL,
			   &c->environment);
	if (v[REGION])
		value_text(ld, v[REGION], "region", NULL, &c->region);
	if (tree_require(ld, root, v[SNS], "sns", section))
		load_sns(ld, v[SNS]);
	if (v[PAGERDUTY])
		schema_load_pagerduty(ld, v[PAGERDUTY]);
	if (v[API])
		load_api(ld, v[API]);
	if (v[TESTING])
		load_testing(ld, v[TESTING]);
	if (tree_require(ld, root, v[TARGETS], "targets", section))
		schema_load_targets(ld, v[TARGETS]);
	if (tree_require(ld, root, v[TEMPLATES], "templates", section))
		schema_load_templates(ld, v[TEMPLATES]);
	if (v[ESCALATION_POLICIES])
		schema_load_policies(ld, v[ESCALATION_POLICIES]);

	c->default_route.name = tree_strdup(ld, "default");
	if (tree_require(ld, root, v[DEFAULT_ROUTE], "default_route", section))
		schema_load_default_route(ld, v[DEFAULT_ROUTE]);
	if (v[ROUTES])
		schema_load_routes(ld, v[ROUTES]);
	if (v[SILENCES])
		schema_load_silences(ld, v[SILENCES]);
}

static struct config *config_new(const char *name)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;

	c->path = strdup(name);
	c->listen_host = strdup("127.0.0.1");
	c->listen_port = 8080;
	c->state_dir = strdup("/var/lib/alertbridge");
	c->max_body_bytes = 512 * KIB;
	c->max_connections = 256;
	c->max_connections_per_ip = 64;
	c->connection_timeout_s = 30;
	c->request_timeout_ms = 10 * SECOND_MS;
	c->cert_fetch = true;
	c->replay_window_ms = 2 * HOUR_MS;
	c->events_url = strdup(DEFAULT_EVENTS_URL);
	c->timeout_ms = 10 * SECOND_MS;
	c->rate_per_minute = 120;
	c->retry_initial_ms = SECOND_MS;
	c->retry_max_ms = 5 * MINUTE_MS;
	c->retry_deadline_ms = DAY_MS;
	c->client = strdup("alertbridge");

	if (!c->path || !c->listen_host || !c->state_dir || !c->events_url ||
	    !c->client) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* The absolute directory relative paths in the file are taken from. */
static int base_dir_of(const char *name, char **ret_dir)
{
	const char *slash = strrchr(name, '/');
	char *dir = NULL, *cwd = NULL, *joined = NULL;
	int r = 0;

	if (slash) {
		dir = slash == name ? strdup("/")
				    : strndup(name, (size_t)(slash - name));
		if (!dir)
			return -ENOMEM;
		if (dir[0] == '/') {
			*ret_dir = dir;
			return 0;
		}
	}

	/* Without the working directory, stay relative to it. */
	cwd = getcwd(NULL, 0);
	if (!cwd)
		joined = strdup(dir ? dir : ".");
	else if (!dir)
		joined = strdup(cwd);
	else if (asprintf(&joined, "%s/%s", cwd, dir) < 0)
		joined = NULL;
	if (!joined)
		r = -ENOMEM;
	else
		*ret_dir = joined;

	free(cwd);
	free(dir);
	return r;
}

int config_load_string(const char *name, const char *text, size_t len,
		       struct config **ret_config, struct config_diags *errors)
{
	struct config_diags local = {0};
	struct loader ld = {
		.file = name,
		.errors = errors ? errors : &local,
	};
	struct ynode *root = NULL;
	size_t first;
	int r;

	first = ld.errors->n;
	ld.config = config_new(name);
	if (!ld.config) {
		r = -ENOMEM;
		goto out;
	}
	r = base_dir_of(name, &ld.base_dir);
	if (r < 0)
		goto out;

	if (len > CONFIG_FILE_MAX) {
		tree_report_at(&ld, 1, 1, "keep it under 1 MiB",
			       "the configuration is too large");
		r = -EINVAL;
		goto out;
	}

	r = tree_build(&ld, text, len, &root);
	if (r < 0)
		goto out;

	if (root)
		load_config(&ld, root);
	else
		tree_report_at(&ld, 1, 1, "start from config/alertbridge.yaml",
			       "the configuration is empty");
	tree_diags_sort(ld.errors, first);
	tree_diags_sort(&ld.config->warnings, 0);

	if (ld.oom) {
		r = -ENOMEM;
	} else if (ld.n_errors > 0) {
		r = -EINVAL;
	} else {
		*ret_config = ld.config;
		ld.config = NULL;
	}
out:
	tree_free(root);
	free(ld.base_dir);
	config_free(ld.config);
	config_diags_release(&local);
	return r;
}

/* One error about the file as a whole, at its first line. */
static int file_error(struct config_diags *errors, const char *path,
		      const char *message, const char *hint)
{
	char *copy = strdup(message);

	if (!copy)
		return -ENOMEM;
	return tree_diags_add(errors, path, 1, 1, copy, hint);
}

int config_load_file(const char *path, struct config **ret_config,
		     struct config_diags *errors)
{
	struct stat st;
	char *text;
	size_t len;
	int r;

	/* A FIFO or a device would block the read, and with it a reload
	 * in the daemon's main loop; only a regular file is read. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISDIR(st.st_mode)) {
		r = file_error(errors, path, "not a regular file",
			       "the configuration must be a plain file");
		return r < 0 ? r : -EINVAL;
	}

	r = util_read_file(path, CONFIG_FILE_MAX, &text, &len);
	if (r < 0)
		return r;

	r = config_load_string(path, text, len, ret_config, errors);
	free(text);
	return r;
}

void config_free(struct config *config)
{
	if (!config)
		return;

	free(config->path);
	free(config->listen_host);
	free(config->state_dir);
	value_release_globs(&config->topics);
	free(config->cert_dir);
	free(config->events_url);
	free(config->client);
	free(config->client_url);
	free(config->environment);
	free(config->region);
	free(config->testing_cert_ca_file);
	free(config->testing_cert_connect_to);
	free(config->testing_clock_file);
	free(config->testing_wall_offset_file);
	value_release_secret(&config->webhook_secret);
	value_release_secret(&config->api_token);

	for (size_t i = 0; i < config->n_targets; i++) {
		struct config_target *target = &config->targets[i];

		/* Keys are secrets: leave no copy in freed memory. */
		if (target->routing_key)
			explicit_bzero(target->routing_key,
				       strlen(target->routing_key));
		free(target->routing_key);
		free(target->name);
		free(target->key_source);
	}
	free(config->targets);

	for (size_t i = 0; i < config->n_templates; i++)
		schema_release_template(&config->templates[i]);
	free(config->templates);

	for (size_t i = 0; i < config->n_routes; i++)
		schema_release_route(&config->routes[i]);
	free(config->routes);
	schema_release_route(&config->default_route);

	for (size_t i = 0; i < config->n_policies; i++)
		schema_release_policy(&config->policies[i]);
	free(config->policies);

	for (size_t i = 0; i < config->n_silences; i++)
		schema_release_silence(&config->silences[i]);
	free(config->silences);

	config_diags_release(&config->warnings);
	free(config);
}

const struct config_target *config_find_target(const struct config *config,
					       const char *name)
{
	for (size_t i = 0; i < config->n_targets; i++)
		if (config->targets[i].name &&
		    !strcmp(config->targets[i].name, name))
			return &config->targets[i];
	return NULL;
}

const struct config_template *config_find_template(const struct config *config,
						   const char *name)
{
	for (size_t i = 0; i < config->n_templates; i++)
		if (config->templates[i].name &&
		    !strcmp(config->templates[i].name, name))
			return &config->templates[i];
	return NULL;
}

const struct config_route *config_find_route(const struct config *config,
					     const char *name)
{
	for (size_t i = 0; i < config->n_routes; i++)
		if (config->routes[i].name &&
		    !strcmp(config->routes[i].name, name))
			return &config->routes[i];
	if (config->default_route.name &&
	    !strcmp(config->default_route.name, name))
		return &config->default_route;
	return NULL;
}
