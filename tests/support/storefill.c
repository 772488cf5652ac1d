/*
 * storefill: rows that fill pages, committed through the store's API.
 */
#include "storefill.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

void storefill_commit(struct store *store, int rows)
{
	static char body[3000];
	static int next;

	memset(body, 'x', sizeof(body) - 1);
	assert_int_equal(store_begin(store), 0);
	for (int i = 0; i < rows; i++) {
		char key[32];
		struct store_outbox_row row = {
			.kind = STORE_OUTBOX_EVENT,
			.order_key = key,
			.target = "t",
			.action = "trigger",
			.body = body,
			.created_ms = 1,
			.next_attempt_ms = 1,
		};

		snprintf(key, sizeof(key), "fill-%d", next++);
		assert_int_equal(store_outbox_add(store, &row, NULL), 0);
	}
	assert_int_equal(store_commit(store), 0);
}
