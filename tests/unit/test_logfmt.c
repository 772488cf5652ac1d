/*
 * Unit tests for daemon/logfmt.c: the console line, and the journal
 * fields of the same event, without a journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "logfmt.h"

/* The value of field name in the entry, as text; NULL when absent. */
static const char *field(const struct logfmt_journal *entry, const char *name,
			 char *buf, size_t size)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < entry->n; i++) {
		const char *base = entry->iov[i].iov_base;
		size_t len = entry->iov[i].iov_len;

		if (len > n && memcmp(base, name, n) == 0 && base[n] == '=') {
			assert_true(len - n - 1 < size);
			memcpy(buf, base + n + 1, len - n - 1);
			buf[len - n - 1] = '\0';
			return buf;
		}
	}
	return NULL;
}

static int count(const struct logfmt_journal *entry, const char *name)
{
	size_t n = strlen(name);
	int found = 0;

	for (size_t i = 0; i < entry->n; i++) {
		const char *base = entry->iov[i].iov_base;

		if (entry->iov[i].iov_len > n && memcmp(base, name, n) == 0 &&
		    base[n] == '=')
			found++;
	}
	return found;
}

/* What journald accepts: A-Z, 0-9, '_', not first '_' or a digit. */
static bool valid_name(const char *name, size_t n)
{
	if (n == 0 || n > LOGFMT_FIELD_NAME_MAX)
		return false;
	if (name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* Every entry is NAME=value with a valid name. */
static void assert_all_valid(const struct logfmt_journal *entry)
{
	for (size_t i = 0; i < entry->n; i++) {
		const char *base = entry->iov[i].iov_base;
		const char *eq = memchr(base, '=', entry->iov[i].iov_len);

		assert_non_null(eq);
		assert_true(valid_name(base, (size_t)(eq - base)));
	}
}

static void test_line(void **state)
{
	const struct log_field fields[] = {
		{"message_id", "2d3a994f"},
		{"alert", "Test alarm"},
		{"skipped", NULL},
		{"detail", "say \"hi\"\n"},
		{"empty", ""},
	};
	char line[LOGFMT_LINE_MAX];
	size_t len;

	len = logfmt_line(line, LOG_LEVEL_INFO, "sns.accepted", fields, 5);
	assert_string_equal(line, "level=info event=sns.accepted"
				  " message_id=2d3a994f alert=\"Test alarm\""
				  " detail=\"say \\\"hi\\\"\\x0a\" empty=\"\"");
	assert_int_equal(len, strlen(line));
}

static void test_line_is_bounded(void **state)
{
	char *big = malloc(3 * LOGFMT_LINE_MAX);
	char line[LOGFMT_LINE_MAX];
	size_t len;

	memset(big, 'x', 3 * LOGFMT_LINE_MAX - 1);
	big[3 * LOGFMT_LINE_MAX - 1] = '\0';
	len = logfmt_line(line, LOG_LEVEL_ERROR, "e",
			  (const struct log_field[]){{"detail", big}}, 1);
	assert_true(len < LOGFMT_LINE_MAX);
	assert_int_equal(strlen(line), len);
	assert_int_equal(strncmp(line, "level=error event=e detail=xxx", 30),
			 0);
	assert_string_equal(line + len - 16, "x truncated=true");

	/* Cut inside a quoted value: the quote is closed, no escape is
	 * split, and later fields are left out. */
	for (size_t i = 0; i < 3 * LOGFMT_LINE_MAX - 1; i++)
		big[i] = i % 2 ? '\n' : ' ';
	len = logfmt_line(
		line, LOG_LEVEL_ERROR, "e",
		(const struct log_field[]){{"detail", big}, {"after", "1"}}, 2);
	assert_true(len < LOGFMT_LINE_MAX);
	assert_string_equal(line + len - 16, "\" truncated=true");
	assert_true(line[len - 17] == ' ' || line[len - 17] == 'a');
	assert_null(strstr(line, "after="));
	free(big);
}

static void test_known_fields(void **state)
{
	const struct log_field fields[] = {
		{"message_id", "2d3a994f-adb5"},
		{"topic", "arn:aws:sns:ca-central-1:017790921725:bot"},
		{"dedup_key", "arn:aws:cloudwatch:x:alarm:Test alarm"},
		{"alert", "Test alarm"},
		{"route", "default"},
		{"target", "primary"},
		{"key_fingerprint", "8a8aabef8e8e"},
	};
	char line[LOGFMT_LINE_MAX];
	struct logfmt_journal entry;
	char buf[256];
	size_t len;

	len = logfmt_line(line, LOG_LEVEL_INFO, "sns.accepted", fields, 7);
	logfmt_journal(&entry, LOG_LEVEL_INFO, "sns.accepted", fields, 7, line,
		       len);

	assert_string_equal(field(&entry, "MESSAGE", buf, sizeof(buf)), line);
	assert_string_equal(field(&entry, "PRIORITY", buf, sizeof(buf)), "6");
	assert_string_equal(
		field(&entry, "SYSLOG_IDENTIFIER", buf, sizeof(buf)),
		"alertbridge");
	assert_string_equal(field(&entry, "AB_EVENT", buf, sizeof(buf)),
			    "sns.accepted");
	assert_string_equal(field(&entry, "SNS_MESSAGE_ID", buf, sizeof(buf)),
			    "2d3a994f-adb5");
	assert_string_equal(field(&entry, "SNS_TOPIC_ARN", buf, sizeof(buf)),
			    "arn:aws:sns:ca-central-1:017790921725:bot");
	/* Values are raw: the space is not quoted. */
	assert_string_equal(field(&entry, "PD_DEDUP_KEY", buf, sizeof(buf)),
			    "arn:aws:cloudwatch:x:alarm:Test alarm");
	assert_string_equal(field(&entry, "ALERT_NAME", buf, sizeof(buf)),
			    "Test alarm");
	assert_string_equal(field(&entry, "ROUTE", buf, sizeof(buf)),
			    "default");
	assert_string_equal(field(&entry, "AB_TARGET", buf, sizeof(buf)),
			    "primary");
	assert_string_equal(
		field(&entry, "AB_KEY_FINGERPRINT", buf, sizeof(buf)),
		"8a8aabef8e8e");

	/* An ordinary event has no catalogue id; the SNS id is not one. */
	assert_null(field(&entry, "MESSAGE_ID", buf, sizeof(buf)));
	assert_null(field(&entry, "AB_MESSAGE_ID", buf, sizeof(buf)));
	assert_int_equal(entry.n, 4 + 7);
	assert_all_valid(&entry);
}

static void test_priorities(void **state)
{
	static const struct {
		enum log_level level;
		const char *priority;
	} cases[] = {
		{LOG_LEVEL_DEBUG, "7"},
		{LOG_LEVEL_INFO, "6"},
		{LOG_LEVEL_WARNING, "4"},
		{LOG_LEVEL_ERROR, "3"},
	};
	struct logfmt_journal entry;
	char buf[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		logfmt_journal(&entry, cases[i].level, "x", NULL, 0, "m", 1);
		assert_string_equal(field(&entry, "PRIORITY", buf, sizeof(buf)),
				    cases[i].priority);
	}
}

static void test_message_ids(void **state)
{
	static const char *const notable[] = {
		"subscription.confirmed", "delivery.dead_lettered",
		"escalation.fired",       "daemon.ready",
		"daemon.stopping",        "config.reloaded",
		"config.reload_failed",   "watchdog.stalled",
	};
	struct logfmt_journal entry;
	char buf[64];

	for (size_t i = 0; i < sizeof(notable) / sizeof(*notable); i++) {
		const char *id = logfmt_message_id(notable[i]);

		assert_non_null(id);
		assert_int_equal(strlen(id), 32);
		assert_int_equal(strspn(id, "0123456789abcdef"), 32);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(id,
						logfmt_message_id(notable[j]));

		logfmt_journal(&entry, LOG_LEVEL_INFO, notable[i], NULL, 0, "m",
			       1);
		assert_string_equal(
			field(&entry, "MESSAGE_ID", buf, sizeof(buf)), id);
	}

	/* Fixed for good: journalctl queries and catalogues rely on it. */
	assert_string_equal(logfmt_message_id("delivery.dead_lettered"),
			    "446e98cd10704a389db889e4393275c3");
	assert_null(logfmt_message_id("delivery.accepted"));
}

static void test_field_names(void **state)
{
	static const struct {
		const char *key;
		const char *name;
	} cases[] = {
		{"latency_ms", "AB_LATENCY_MS"},
		{"Weird-Key.2", "AB_WEIRD_KEY_2"},
		{"_private", "AB__PRIVATE"},
		{"9lives", "AB_9LIVES"},
		{"dé", "AB_D__"},
	};
	char name[LOGFMT_FIELD_NAME_MAX + 1];
	char long_key[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		logfmt_field_name(cases[i].key, name);
		assert_string_equal(name, cases[i].name);
		assert_true(valid_name(name, strlen(name)));
	}

	memset(long_key, 'k', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	logfmt_field_name(long_key, name);
	assert_int_equal(strlen(name), LOGFMT_FIELD_NAME_MAX);
	assert_int_equal(strncmp(name, "AB_KKK", 6), 0);
}

/* Many or large fields: cut and left out, never past the buffers. */
static void test_entry_is_bounded(void **state)
{
	struct log_field fields[100];
	char *big = malloc(LOGFMT_JOURNAL_TEXT_MAX);
	struct logfmt_journal entry;
	size_t total = 0;

	memset(big, 'v', LOGFMT_JOURNAL_TEXT_MAX - 1);
	big[LOGFMT_JOURNAL_TEXT_MAX - 1] = '\0';
	for (size_t i = 0; i < 100; i++)
		fields[i] = (struct log_field){"detail", i == 3 ? big : "x"};

	logfmt_journal(&entry, LOG_LEVEL_WARNING, "e", fields, 100, "m", 1);
	assert_true(entry.n <= LOGFMT_JOURNAL_FIELDS_MAX);
	assert_true(count(&entry, "AB_DETAIL") >= 1);
	for (size_t i = 0; i < entry.n; i++) {
		const char *base = entry.iov[i].iov_base;

		assert_true(base >= entry.text &&
			    base + entry.iov[i].iov_len <=
				    entry.text + sizeof(entry.text));
		total += entry.iov[i].iov_len;
	}
	assert_true(total <= sizeof(entry.text));
	assert_all_valid(&entry);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_is_bounded),
		cmocka_unit_test(test_known_fields),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_message_ids),
		cmocka_unit_test(test_field_names),
		cmocka_unit_test(test_entry_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
