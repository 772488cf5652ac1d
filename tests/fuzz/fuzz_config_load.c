/*
 * Fuzz target: the YAML configuration loader, from a buffer
 * (config_load_string()). Every failure must come with diagnostics,
 * each with a position; every success must hold together.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"

/* Keeps a test run's output readable; diagnostics are still built. */
static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/*
	 * A generated file name (routing_key_file: /dev/stdin) must not
	 * wait on a terminal. Credentials come from the repository's
	 * placeholders, as the example's do outside systemd: never a
	 * host's real keys (the loader's fallback, /etc/alertbridge), and
	 * the same files on every machine.
	 */
	if (!freopen("/dev/null", "r", stdin))
		abort();
	sink = fopen("/dev/null", "w");
	if (!sink)
		abort();
	if (setenv("CREDENTIALS_DIRECTORY",
		   SOURCE_DIR "/config/demo-credentials", 1) < 0)
		abort();
	return 0;
}

static void check_diags(const struct config_diags *diags)
{
	for (size_t i = 0; i < diags->n; i++) {
		const struct config_diag *d = &diags->v[i];

		FUZZ_CHECK(d->file && d->message && *d->message);
		FUZZ_CHECK(d->line >= 1 && d->column >= 1);
		FUZZ_CHECK(!strchr(d->message, '\n'));
	}
}

static void check_config(const struct config *c)
{
	FUZZ_CHECK(c->listen_host && c->state_dir && c->events_url);
	FUZZ_CHECK(c->max_connections >= 1);
	FUZZ_CHECK(c->request_timeout_ms >= 1000);
	FUZZ_CHECK(c->retry_initial_ms <= c->retry_max_ms ||
		   c->retry_max_ms == 0);
	FUZZ_CHECK(c->default_route.target && c->default_route.severity);
	for (size_t i = 0; i < c->n_routes; i++) {
		const struct config_route *r = &c->routes[i];

		FUZZ_CHECK(r->name && r->target);
		FUZZ_CHECK(CONFIG_SEVERITY_VALID(r->severity));
		if (r->policy)
			FUZZ_CHECK(r->policy->n_steps >= 1 &&
				   r->policy->steps[0].after_ms == 0);
	}
	for (size_t i = 0; i < c->n_targets; i++)
		FUZZ_CHECK(c->targets[i].routing_key &&
			   strlen(c->targets[i].fingerprint) == 12);
	for (size_t i = 0; i < c->n_policies; i++)
		for (size_t k = 1; k < c->policies[i].n_steps; k++)
			FUZZ_CHECK(c->policies[i].steps[k].after_ms >=
				   c->policies[i].steps[k - 1].after_ms);
	check_diags(&c->warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diags errors = {0};
	struct config *config = NULL;
	int r;

	r = config_load_string("<fuzz>", (const char *)data, size, &config,
			       &errors);
	if (r == 0) {
		FUZZ_CHECK(config);
		FUZZ_CHECK(errors.n == 0);
		check_config(config);
	} else {
		FUZZ_CHECK(!config);
		FUZZ_CHECK(errors.n > 0 || r == -ENOMEM);
		check_diags(&errors);
		config_diags_print(&errors, "error", sink);
	}
	config_free(config);
	config_diags_release(&errors);
	return 0;
}
