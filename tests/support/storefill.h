/*
 * storefill: grows a real store's write-ahead log for the tests of its
 * checkpoints.
 */
#ifndef ALERTBRIDGE_TEST_STOREFILL_H
#define ALERTBRIDGE_TEST_STOREFILL_H

#include "store.h"

/*
 * Commits one transaction of rows outbox rows, each with a body near a
 * page long and an order key of its own; fails the test on an error.
 */
void storefill_commit(struct store *store, int rows);

#endif
