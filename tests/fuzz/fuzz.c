/*
 * fuzz: helpers shared by the fuzz targets.
 */
#include "fuzz.h"

#include <string.h>

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
