/*
 * operator: shared pieces of the operator commands.
 */
#include "operator.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "commands.h"

int operator_load_config(const char *path, struct config **ret_config)
{
	int r = commands_load_config(path, ret_config);

	if (r < 0 || !(*ret_config)->testing_clock_file)
		return r;

	r = app_set_test_clock((*ret_config)->testing_clock_file,
			       (*ret_config)->testing_wall_offset_file);
	if (r < 0) {
		config_free(*ret_config);
		*ret_config = NULL;
	}
	return r;
}

bool operator_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

/* One line of standard input, its newline removed; false at its end. */
static bool read_line(char *line, size_t size)
{
	if (!fgets(line, (int)size, stdin))
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return true;
}

bool operator_confirm(const char *question)
{
	char line[64];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!read_line(line, sizeof(line)))
		return false;
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

void operator_wait_enter(const char *prompt)
{
	char line[64];

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	read_line(line, sizeof(line));
}

const char *operator_user(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (sudo && *sudo)
		return sudo;
	pw = getpwuid(getuid());
	return pw ? pw->pw_name : "unknown";
}

void operator_host(char out[OPERATOR_HOST_MAX])
{
	if (gethostname(out, OPERATOR_HOST_MAX) < 0)
		snprintf(out, OPERATOR_HOST_MAX, "unknown");
	/* gethostname() need not end a cut name. */
	out[OPERATOR_HOST_MAX - 1] = '\0';
}

void operator_who(char out[OPERATOR_WHO_MAX])
{
	char host[OPERATOR_HOST_MAX];

	operator_host(host);
	snprintf(out, OPERATOR_WHO_MAX, "%.31s@%.31s", operator_user(), host);
}

void operator_duration(int64_t ms, char out[32])
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
	size_t used = 0;
	int parts = 0;

	if (ms < 0)
		ms = -ms;
	if (ms == 0) {
		strcpy(out, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(out, 32, "%lldms", (long long)ms);
		return;
	}

	/* The two largest units are precise enough to read. */
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		int64_t n = ms / units[i].ms;

		if (n == 0 && parts == 0)
			continue;
		if (n > 0)
			used += (size_t)snprintf(out + used, 32 - used,
						 "%lld%s", (long long)n,
						 units[i].unit);
		ms -= n * units[i].ms;
		if (++parts == 2 || ms == 0)
			break;
	}
}

int operator_store_open(const char *dir, int *ret_lock_fd,
			struct store **ret_store)
{
	int lock_fd = -1;
	char path[4096];
	struct stat st;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, STORE_FILE_NAME) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "alertbridge: state directory name too long\n");
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) < 0) {
		r = -errno;
		if (r == -ENOENT)
			fprintf(stderr,
				"alertbridge: no store in %s (%s does"
				" not exist)\n",
				dir, path);
		else
			fprintf(stderr, "alertbridge: %s: %s\n", path,
				strerror(-r));
		return r;
	}

	if (ret_lock_fd) {
		r = store_lock(dir, &lock_fd);
		if (r == -EBUSY) {
			fprintf(stderr,
				"alertbridge: an alertbridge daemon"
				" runs on %s (it holds %s/%s); change"
				" the queue through its API, or stop"
				" it first\n",
				dir, dir, STORE_LOCK_NAME);
			return r;
		}
		if (r < 0) {
			fprintf(stderr, "alertbridge: cannot lock %s: %s\n",
				dir, strerror(-r));
			return r;
		}
	}

	r = ret_lock_fd ? store_open(dir, ret_store)
			: store_open_read_only(dir, ret_store);
	if (r == -EPROTO)
		fprintf(stderr,
			"alertbridge: %s was written by another"
			" version of alertbridge; start this version's"
			" daemon once to migrate it\n",
			path);
	else if (r < 0)
		fprintf(stderr, "alertbridge: cannot open %s: %s\n", path,
			strerror(-r));

	if (r < 0 && lock_fd >= 0)
		close(lock_fd);
	else if (ret_lock_fd)
		*ret_lock_fd = lock_fd;
	return r;
}
