/*
 * app: the running configuration, shared by counted references; the
 * daemon's clocks (its own, anchored at start; the system's; a test's).
 *
 * A handful of configurations live at once at most: the running one and
 * those that units of work started before a reload still hold. They
 * form a short list searched under one mutex, so that a reference is
 * the plain configuration pointer the code already passes around.
 */
#include "app.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"

struct snapshot {
	struct config *config;
	unsigned long refs; /* holders, plus one while running */
	struct snapshot *next;
};

struct app_configs {
	pthread_mutex_t lock;
	struct snapshot *running;
	struct snapshot *retired; /* replaced, still held */
};

int app_config_init(struct app *app, struct config *config)
{
	struct app_configs *configs = calloc(1, sizeof(*configs));

	if (!configs) {
		config_free(config);
		return -ENOMEM;
	}
	configs->running = calloc(1, sizeof(*configs->running));
	if (!configs->running) {
		free(configs);
		config_free(config);
		return -ENOMEM;
	}

	pthread_mutex_init(&configs->lock, NULL);
	configs->running->config = config;
	configs->running->refs = 1;
	app->configs = configs;
	return 0;
}

static void snapshot_free(struct snapshot *snapshot)
{
	config_free(snapshot->config);
	free(snapshot);
}

void app_config_cleanup(struct app *app)
{
	struct app_configs *configs = app->configs;

	if (!configs)
		return;

	while (configs->retired) {
		struct snapshot *next = configs->retired->next;

		snapshot_free(configs->retired);
		configs->retired = next;
	}
	snapshot_free(configs->running);
	pthread_mutex_destroy(&configs->lock);
	free(configs);
	app->configs = NULL;
}

const struct config *app_config_acquire(struct app *app)
{
	struct app_configs *configs = app->configs;
	const struct config *config;

	pthread_mutex_lock(&configs->lock);
	configs->running->refs++;
	config = configs->running->config;
	pthread_mutex_unlock(&configs->lock);
	return config;
}

void app_config_release(struct app *app, const struct config *config)
{
	struct app_configs *configs = app->configs;
	struct snapshot *unused = NULL;
	bool found = false;

	if (!config)
		return;

	pthread_mutex_lock(&configs->lock);
	if (configs->running->config == config) {
		/* The running one keeps its own reference. */
		configs->running->refs--;
		found = true;
	} else {
		for (struct snapshot **p = &configs->retired; *p;
		     p = &(*p)->next) {
			if ((*p)->config != config)
				continue;
			if (--(*p)->refs == 0) {
				unused = *p;
				*p = unused->next;
			}
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&configs->lock);

	/* A configuration released twice, or never acquired: a bug that
	 * would free one still in use, so it is said, not passed over. */
	if (!found)
		LOG(LOG_LEVEL_ERROR, "config.release_unknown",
		    {"detail", "a configuration not held was released"});

	/* Freed outside the lock: nobody can reach it any more. */
	if (unused)
		snapshot_free(unused);
}

int app_config_swap(struct app *app, struct config *config)
{
	struct app_configs *configs = app->configs;
	struct snapshot *next = calloc(1, sizeof(*next));
	struct snapshot *old;

	if (!next) {
		config_free(config);
		return -ENOMEM;
	}
	next->config = config;
	next->refs = 1;

	pthread_mutex_lock(&configs->lock);
	old = configs->running;
	configs->running = next;
	if (--old->refs > 0) {
		old->next = configs->retired;
		configs->retired = old;
		old = NULL;
	}
	pthread_mutex_unlock(&configs->lock);

	if (old)
		snapshot_free(old);
	return 0;
}

/* Set once at start, before the threads, and never changed after. */
static char *test_clock_path;
static char *test_wall_offset_path;

/* The last instant read from the test clock, for a failed read. */
static atomic_llong test_clock_last;

/* Taken once, at the first reading of the daemon's clock. */
static pthread_once_t anchor_once = PTHREAD_ONCE_INIT;
static int64_t anchor_wall_ms;
static int64_t anchor_mono_ms;

int app_set_test_clock(const char *clock_path, const char *wall_offset_path)
{
	char *clock_copy = NULL;
	char *offset_copy = NULL;

	if (clock_path) {
		clock_copy = strdup(clock_path);
		if (!clock_copy)
			return -ENOMEM;
	}
	if (clock_path && wall_offset_path) {
		offset_copy = strdup(wall_offset_path);
		if (!offset_copy) {
			free(clock_copy);
			return -ENOMEM;
		}
	}
	free(test_clock_path);
	free(test_wall_offset_path);
	test_clock_path = clock_copy;
	test_wall_offset_path = offset_copy;
	return 0;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* The test's step of the wall clock, in ms: 0 when there is none. */
static int64_t test_wall_offset_ms(void)
{
	long long seconds;
	char *text = NULL;
	size_t len = 0;
	char *end;

	if (!test_wall_offset_path ||
	    util_read_file(test_wall_offset_path, 64, &text, &len) < 0)
		return 0;
	seconds = strtoll(text, &end, 10);
	if (end == text || seconds < -INT32_MAX || seconds > INT32_MAX)
		seconds = 0;
	free(text);
	return (int64_t)seconds * 1000;
}

/*
 * What the system's clocks read now: the wall clock (CLOCK_REALTIME) and
 * the time elapsed (CLOCK_BOOTTIME: monotonic, a step of the wall clock
 * does not move it, and unlike CLOCK_MONOTONIC it counts a suspend, so
 * that a step due during one fires at the resume). A test clock stands
 * for both, its instant as the time elapsed and, moved by the test's
 * offset, as the wall clock; it is read once, so that the two agree.
 * Before it was ever readable, the real wall clock stands in for it.
 */
static void system_clocks(int64_t *ret_wall_ms, int64_t *ret_mono_ms)
{
	int64_t ms;

	if (!test_clock_path) {
		*ret_wall_ms = clock_ms(CLOCK_REALTIME);
		*ret_mono_ms = clock_ms(CLOCK_BOOTTIME);
		return;
	}

	if (test_clock_ms(&ms))
		atomic_store(&test_clock_last, ms);
	else
		ms = atomic_load(&test_clock_last);
	if (ms == 0)
		ms = clock_ms(CLOCK_REALTIME);
	*ret_mono_ms = ms;
	*ret_wall_ms = ms + test_wall_offset_ms();
}

static void take_anchor(void)
{
	system_clocks(&anchor_wall_ms, &anchor_mono_ms);
}

int64_t app_wall_ms(void)
{
	int64_t wall;
	int64_t mono;

	pthread_once(&anchor_once, take_anchor);
	system_clocks(&wall, &mono);
	return anchor_wall_ms + (mono - anchor_mono_ms);
}

int64_t app_wall_step_ms(void)
{
	int64_t wall;
	int64_t mono;

	pthread_once(&anchor_once, take_anchor);
	system_clocks(&wall, &mono);
	return wall - (anchor_wall_ms + (mono - anchor_mono_ms));
}

int64_t app_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t app_judge_ms(const struct config *config)
{
	int64_t wall;
	int64_t mono;

	if (config->testing_as_of_ms)
		return config->testing_as_of_ms;

	/* Outside timestamps are judged on the system's clock as it reads
	 * now, steps and all: theirs came from a clock like it. */
	system_clocks(&wall, &mono);
	return wall;
}
