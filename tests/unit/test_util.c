/*
 * Unit tests for lib/util.c: bounded buffers, UTF-8, files, hashing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"

static void test_strbuf_limit(void **state)
{
	struct strbuf sb;
	size_t len = 0;
	char *data;

	(void)state;
	strbuf_init(&sb, 8);
	assert_int_equal(strbuf_puts(&sb, "abcd"), 0);
	assert_int_equal(strbuf_printf(&sb, "%d", 123), 0);
	assert_string_equal(sb.data, "abcd123");

	/* Past the limit: refused, and the buffer is as it was. */
	assert_int_equal(strbuf_puts(&sb, "xy"), -E2BIG);
	assert_string_equal(sb.data, "abcd123");
	assert_int_equal(strbuf_printf(&sb, "%s", "long"), -E2BIG);
	assert_int_equal(strbuf_puts(&sb, "z"), 0);
	assert_int_equal(sb.len, 8);

	data = strbuf_detach(&sb, &len);
	assert_string_equal(data, "abcd123z");
	assert_int_equal(len, 8);
	assert_null(sb.data);
	free(data);

	/* An empty buffer detaches as an empty string. */
	data = strbuf_detach(&sb, &len);
	assert_string_equal(data, "");
	free(data);

	/* The head of a long text is kept whole, and nothing after it. */
	strbuf_init(&sb, 6);
	assert_int_equal(strbuf_append_head(&sb, "abcd", 4), 0);
	assert_int_equal(strbuf_append_head(&sb, "efgh", 4), 0);
	assert_int_equal(strbuf_append_head(&sb, "ij", 2), 0);
	assert_string_equal(sb.data, "abcdef");
	strbuf_release(&sb);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(util_utf8_valid("plain", 5));
	assert_true(util_utf8_valid("\xc3\xa9\xf0\x9f\x9a\xa8", 6));
	assert_false(util_utf8_valid("\xff", 1));
	assert_false(util_utf8_valid("\xc0\xaf", 2));         /* overlong */
	assert_false(util_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(util_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(util_utf8_valid("\xe2\x82", 2));         /* truncated */

	/* A prefix never splits a character. */
	assert_int_equal(util_utf8_prefix("a\xc3\xa9", 3, 2), 1);
	assert_int_equal(util_utf8_prefix("a\xc3\xa9", 3, 3), 3);
	assert_int_equal(util_utf8_prefix("\xf0\x9f\x9a\xa8x", 5, 3), 0);
	assert_int_equal(util_utf8_prefix("abc", 3, 10), 3);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/ab-util-XXXXXX";
	char path[64];
	char *data = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);

	assert_int_equal(util_write_file_atomic(path, "hello\n", 6), 0);
	assert_int_equal(util_read_file(path, 100, &data, &len), 0);
	assert_int_equal(len, 6);
	util_rstrip(data);
	assert_string_equal(data, "hello");
	free(data);

	assert_int_equal(util_read_file(path, 5, &data, &len), -EFBIG);
	assert_int_equal(util_read_file("/nonexistent/x", 5, &data, &len),
			 -ENOENT);
	/* A directory is said to be one, not an I/O error. */
	assert_int_equal(util_read_file(dir, 5, &data, &len), -EISDIR);

	unlink(path);
	rmdir(dir);
}

static void test_hashes(void **state)
{
	char hex[65];
	char fp[13];

	(void)state;
	util_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	util_fingerprint("abc", fp);
	assert_string_equal(fp, "ba7816bf8f01");
	assert_true(util_streq(NULL, NULL));
	assert_false(util_streq("a", NULL));
	assert_true(util_streq("a", "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_limit),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_hashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
