/*
 * app: the running configuration, shared by counted references; the
 * daemon's clocks.
 *
 * A handful of configurations live at once at most: the running one and
 * those that units of work started before a reload still hold. They
 * form a short list searched under one mutex, so that a reference is
 * the plain configuration pointer the code already passes around.
 */
#include "app.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

	if (!config)
		return;

	pthread_mutex_lock(&configs->lock);
	if (configs->running->config == config) {
		/* The running one keeps its own reference. */
		configs->running->refs--;
	} else {
		for (struct snapshot **p = &configs->retired; *p;
		     p = &(*p)->next) {
			if ((*p)->config != config)
				continue;
			if (--(*p)->refs == 0) {
				unused = *p;
				*p = unused->next;
			}
			break;
		}
	}
	pthread_mutex_unlock(&configs->lock);

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

int app_set_test_clock(const char *path)
{
	char *copy = NULL;

	if (path) {
		copy = strdup(path);
		if (!copy)
			return -ENOMEM;
	}
	free(test_clock_path);
	test_clock_path = copy;
	return 0;
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

int64_t app_judge_ms(const struct config *config)
{
	if (config->testing_as_of_ms)
		return config->testing_as_of_ms;
	return app_wall_ms();
}
