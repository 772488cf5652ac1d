/*
 * checkpointer: the write-ahead log moved into the database off the
 * writer's thread.
 */
#include "checkpointer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "log.h"
#include "metrics.h"

struct checkpointer {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* requested, or stopping */
	pthread_cond_t idle; /* a checkpoint ended */
	bool requested;
	bool running;
	bool stopping;
	bool failing; /* the last checkpoint failed, and the log said so */
};

/* One checkpoint on store; the caller has made cp->running true. */
static int checkpoint(struct checkpointer *cp, struct store *store,
		      enum store_checkpoint_mode mode, const char *by)
{
	int64_t start = app_mono_ms();
	char pages[24];
	char moved[24];
	int log_pages = 0;
	int moved_pages = 0;
	int r;

	r = store_checkpoint(store, mode, &log_pages, &moved_pages);

	/*
	 * Another connection was checkpointing (the delivery thread's, which
	 * still checkpoints by itself), which does the same work; a reader
	 * that outlasts a restart's wait only delays it to the next try.
	 */
	if (r == -EBUSY) {
		LOG(LOG_LEVEL_DEBUG, "store.checkpoint_busy", {"by", by});
		return r;
	}
	if (r == 0)
		metrics_observe(METRICS_HIST_CHECKPOINT,
				(app_mono_ms() - start) * 1000);

	if (r < 0 && !cp->failing) {
		cp->failing = true;
		LOG(LOG_LEVEL_WARNING, "store.checkpoint_failed", {"by", by},
		    {"error", strerror(-r)}, {"detail", store_error(store)});
	} else if (r == 0) {
		cp->failing = false;
		LOG(LOG_LEVEL_DEBUG, "store.checkpointed", {"by", by},
		    {"log_pages", log_int(pages, log_pages)},
		    {"moved_pages", log_int(moved, moved_pages)});
	}
	return r;
}

static void *checkpointer_main(void *arg)
{
	struct checkpointer *cp = arg;

	pthread_mutex_lock(&cp->lock);
	for (;;) {
		while (!cp->requested && !cp->stopping)
			pthread_cond_wait(&cp->wake, &cp->lock);
		if (cp->stopping)
			break;

		/* checkpointer_run() may hold the job: wait for it. */
		if (cp->running) {
			pthread_cond_wait(&cp->idle, &cp->lock);
			continue;
		}
		cp->requested = false;
		cp->running = true;
		pthread_mutex_unlock(&cp->lock);

		checkpoint(cp, cp->store, STORE_CHECKPOINT_PASSIVE,
			   "checkpointer");

		pthread_mutex_lock(&cp->lock);
		cp->running = false;
		pthread_cond_broadcast(&cp->idle);
	}
	pthread_mutex_unlock(&cp->lock);
	return NULL;
}

int checkpointer_start(const char *dir, struct checkpointer **ret_cp)
{
	struct checkpointer *cp = calloc(1, sizeof(*cp));
	int r;

	if (!cp)
		return -ENOMEM;

	r = store_open(dir, &cp->store);
	if (r < 0) {
		free(cp);
		return r;
	}

	/* This connection checkpoints only when asked. */
	store_checkpoint_elsewhere(cp->store, NULL, NULL);

	pthread_mutex_init(&cp->lock, NULL);
	pthread_cond_init(&cp->wake, NULL);
	pthread_cond_init(&cp->idle, NULL);
	r = -pthread_create(&cp->thread, NULL, checkpointer_main, cp);
	if (r < 0) {
		pthread_mutex_destroy(&cp->lock);
		pthread_cond_destroy(&cp->wake);
		pthread_cond_destroy(&cp->idle);
		store_close(cp->store);
		free(cp);
		return r;
	}

	*ret_cp = cp;
	return 0;
}

void checkpointer_request(struct checkpointer *cp)
{
	pthread_mutex_lock(&cp->lock);
	cp->requested = true;
	pthread_cond_signal(&cp->wake);
	pthread_mutex_unlock(&cp->lock);
}

int checkpointer_run(struct checkpointer *cp, struct store *store)
{
	int r;

	pthread_mutex_lock(&cp->lock);
	while (cp->running)
		pthread_cond_wait(&cp->idle, &cp->lock);
	cp->running = true;
	pthread_mutex_unlock(&cp->lock);

	r = checkpoint(cp, store, STORE_CHECKPOINT_RESTART, "writer");

	pthread_mutex_lock(&cp->lock);
	cp->running = false;
	pthread_cond_broadcast(&cp->idle);
	pthread_mutex_unlock(&cp->lock);
	return r;
}

void checkpointer_stop(struct checkpointer *cp)
{
	if (!cp)
		return;

	pthread_mutex_lock(&cp->lock);
	cp->stopping = true;
	pthread_cond_signal(&cp->wake);
	pthread_mutex_unlock(&cp->lock);

	pthread_join(cp->thread, NULL);
	pthread_mutex_destroy(&cp->lock);
	pthread_cond_destroy(&cp->wake);
	pthread_cond_destroy(&cp->idle);
	store_close(cp->store);
	free(cp);
}
