/*
 * The command line itself, run as an operator runs it: words a command
 * does not take are refused by name rather than passed over, and every
 * error says what was wrong in a line that starts "alertbridge: ".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cli.h"
#include "harness.h"

#define OUT_MAX (64 * 1024)

#define REAL_SIGNED                                                            \
	FIXTURES_DIR "/sns/real-signed/"                                       \
		     "cloudwatch-alarm-ca-central-1-2022.json"

struct fixture {
	struct harness h;
	char out[OUT_MAX];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	*state = f;
	if (!f || harness_init(&f->h) < 0)
		return -1;
	return harness_write_standard_config(&f->h,
					     "http://127.0.0.1:9/v2/enqueue",
					     "2022-09-25T18:51:00Z", "");
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	harness_cleanup(&f->h);
	free(f);
	return 0;
}

/* Runs `alertbridge` with args built from fmt; its exit status. */
static int run(struct fixture *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int run(struct fixture *f, const char *fmt, ...)
{
	char args[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return cli_run(args, f->out, sizeof(f->out));
}

/* out is exactly one line, want. */
static void one_line(const char *out, const char *want)
{
	char line[512];

	snprintf(line, sizeof(line), "%s\n", want);
	assert_string_equal(out, line);
}

/* out begins with prefix. */
static void starts_with(const char *out, const char *prefix)
{
	if (strncmp(out, prefix, strlen(prefix)) != 0) {
		print_error("expected \"%s\" first, got:\n%s", prefix, out);
		fail();
	}
}

static void test_stray_operands_refused(void **state)
{
	struct fixture *f = *state;
	const char *c = f->h.config;

	/* A file named without -c: refused, not the built-in example
	 * checked and found OK, nor the daemon run on it. */
	assert_int_equal(run(f, "check-config %s", c), 1);
	assert_null(strstr(f->out, "configuration OK"));
	assert_non_null(strstr(f->out, "alertbridge: unexpected argument '"));
	assert_non_null(strstr(f->out, "' (did you mean -c FILE?)\n"));
	assert_int_equal(run(f, "serve FILE"), 1);
	one_line(f->out, "alertbridge: unexpected argument 'FILE'"
			 " (did you mean -c FILE?)");

	assert_int_equal(run(f, "check-config -c %s extra", c), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'"
			 " (did you mean -c FILE?)");
	assert_int_equal(
		run(f, "render -c %s --message %s extra", c, REAL_SIGNED), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'"
			 " (did you mean --message FILE?)");
	assert_int_equal(run(f, "send-test -c %s --no-resolve extra", c), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'");
	assert_int_equal(run(f, "queue list extra -c %s", c), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'"
			 " (list takes no row id)");
	assert_int_equal(run(f, "queue show 1 2 -c %s", c), 1);
	one_line(f->out, "alertbridge: unexpected argument '2'"
			 " (one row id at a time)");
	assert_int_equal(run(f, "postmortem some-key extra -c %s", c), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'"
			 " (postmortem takes one key)");
	assert_int_equal(run(f,
			     "incidents extra -c %s"
			     " --url http://127.0.0.1:9",
			     c),
			 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'");
	assert_int_equal(
		run(f, "ack one two -c %s --url http://127.0.0.1:9", c), 1);
	one_line(f->out, "alertbridge: unexpected argument 'two'"
			 " (one key at a time)");
	assert_int_equal(run(f, "version extra"), 1);
	one_line(f->out, "alertbridge: unexpected argument 'extra'");

	/* What they take still works. */
	assert_int_equal(run(f, "version"), 0);
	assert_int_equal(
		run(f, "check-config -c %s --quiet --not-production", c), 0);
}

/* What serve would refuse, check-config does not call OK. */
static void test_check_config_refuses_testing(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "check-config -c %s", f->h.config), 1);
	assert_non_null(strstr(f->out, "error: the configuration has a"
				       " testing: section"));
	assert_null(strstr(f->out, "configuration OK"));
	assert_int_equal(
		run(f, "check-config -c %s --not-production", f->h.config), 0);
	assert_non_null(strstr(f->out, "configuration OK"));
}

/* getopt's messages and ours start alike, and say what was wrong. */
static void test_usage_errors_say_what(void **state)
{
	struct fixture *f = *state;
	static const char usage[] = "Usage: alertbridge queue";

	assert_int_equal(run(f, "queue frob"), 1);
	starts_with(f->out, "alertbridge: unknown queue action 'frob'\n");
	assert_non_null(strstr(f->out, usage));

	assert_int_equal(run(f, "queue --frob"), 1);
	starts_with(f->out, "alertbridge: unrecognized option '--frob'\n");
	assert_int_equal(run(f, "serve --frob"), 1);
	starts_with(f->out, "alertbridge: ");
	assert_int_equal(run(f, "check-config -c"), 1);
	starts_with(f->out, "alertbridge: ");
	assert_int_equal(run(f, "serve --log-level loud"), 1);
	one_line(f->out, "alertbridge: unknown log level 'loud'");

	assert_int_equal(run(f, "queue"), 1);
	starts_with(f->out, "alertbridge: queue needs an action");
	assert_int_equal(run(f, "queue show"), 1);
	starts_with(f->out, "alertbridge: queue show needs a row id\n");
	assert_int_equal(run(f, "ack"), 1);
	starts_with(f->out, "alertbridge: ack needs the incident's key\n");
}

static void test_config_is_a_directory(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, "check-config -c %s", f->h.dir), 1);
	assert_non_null(strstr(f->out, ": Is a directory\n"));
	assert_null(strstr(f->out, "Input/output error"));
}

/* A FIFO where the configuration should be: refused at once, not read
 * (a read would wait for a writer that never comes). */
static void test_config_is_a_fifo(void **state)
{
	struct fixture *f = *state;
	char path[600];

	snprintf(path, sizeof(path), "%s/fifo.yaml", f->h.dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(run(f, "check-config -c %s", path), 1);
	assert_non_null(strstr(f->out, ":1:1: error: not a regular file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stray_operands_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_usage_errors_say_what,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_is_a_directory,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_is_a_fifo, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_check_config_refuses_testing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
