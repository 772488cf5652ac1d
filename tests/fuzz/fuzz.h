/*
 * fuzz: what every fuzz target shares. A target is one
 * LLVMFuzzerTestOneInput() over one parser; libFuzzer drives it in the
 * fuzz build (-DALERTBRIDGE_FUZZ=ON), and replay.c drives it over the
 * committed corpus and regression inputs in every other build.
 *
 * A target checks the parser's documented contract on every input, not
 * only that it does not crash: FUZZ_CHECK() aborts, which libFuzzer and
 * the replay driver both report with the input that did it.
 */
#ifndef ALERTBRIDGE_FUZZ_H
#define ALERTBRIDGE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			abort();                                               \
		}                                                              \
	} while (0)

/* libFuzzer's entry points; Initialize is optional (a weak symbol). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated copy of data (free() it); aborts without memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
