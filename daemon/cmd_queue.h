/*
 * cmd_queue: `alertbridge queue list|show ID|retry ID|drop ID`, the
 * outbox and the dead letters.
 *
 * While the daemon runs it owns the store's writes, so the command goes
 * through its API (/api/queue, with the configured token). When nothing
 * answers at the daemon's address (connection refused) the command
 * opens the store in the state directory itself: reading is safe
 * beside a running daemon (WAL), writing is not, so a retry or drop on
 * the store is refused whenever the daemon answers, or when it cannot
 * be told whether it does. Whether the daemon runs is judged by its
 * address alone: a daemon on the same state directory listening
 * elsewhere than the configuration (or --url) says is not seen. With
 * --store and no -c, list and show read that store without loading a
 * configuration at all.
 *
 * Destructive actions (drop, and retry of a dead letter, which sends an
 * event PagerDuty once refused) ask on a terminal, or need --yes;
 * without either they are refused.
 */
#ifndef ALERTBRIDGE_CMD_QUEUE_H
#define ALERTBRIDGE_CMD_QUEUE_H

/* alertbridge queue list|show ID|retry ID|drop ID [--dead] [--yes]
 *                   [-c FILE] [--url URL] [--store DIR] */
int command_queue(int argc, char **argv);

#endif
