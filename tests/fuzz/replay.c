/*
 * replay: runs a fuzz target over files and directories of inputs, for
 * the builds without libFuzzer, so that the seed corpus and every input
 * that once found a bug are checked by ctest (and under valgrind).
 *
 *   replay_<target> PATH...   each a file, or a directory of them
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* The biggest input read: larger than any target's own bound. */
#define REPLAY_INPUT_MAX (8 * 1024 * 1024)

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0;
	int r = 0;

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -errno;
	}
	data = malloc(REPLAY_INPUT_MAX);
	if (!data) {
		r = -ENOMEM;
		goto out;
	}
	len = fread(data, 1, REPLAY_INPUT_MAX, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "%s: unreadable or too large\n", path);
		r = -EIO;
		goto out;
	}

	/* Named first: an input that aborts the target ends the run. */
	fprintf(stderr, "%s\n", path);

	/* A copy of exactly len bytes, so that ASan and valgrind see a
	 * read past the input as the fuzzer would. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if (!exact) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(exact, data, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
out:
	free(data);
	fclose(f);
	return r;
}

static int name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every regular file in dir, in name order; the count run, or < 0. */
static int run_dir(const char *dir)
{
	struct dirent **names = NULL;
	char path[4096];
	int count = 0;
	int n;
	int r = 0;

	n = scandir(dir, &names, NULL, name_order);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;

		if (r == 0 && names[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir,
			     names[i]->d_name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			r = run_file(path);
			count++;
		}
		free(names[i]);
	}
	free(names);
	return r < 0 ? r : count;
}

int main(int argc, char **argv)
{
	int total = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int r;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
		if (r < 0)
			return 1;
		total += S_ISDIR(st.st_mode) ? r : 1;
	}
	printf("%d inputs replayed\n", total);
	return total > 0 ? 0 : 1;
}
