/*
 * cmd_sendtest: `alertbridge send-test`, the runbook's "test the
 * integration with a manual alert". Sends a trigger labelled as a test
 * (its summary says it is not a real incident; a dedup key of its own;
 * custom details saying who sent it, from which host and when) to one
 * target's routing key at the configured events URL, prints what
 * PagerDuty answered, then sends its resolve: after Enter on a
 * terminal, at once with --resolve, never with --no-resolve.
 *
 * The events go out as the delivery worker sends them (the same body
 * and request set-up, the configured timeout), directly and once: not
 * through the outbox, so nothing is retried. Without a terminal and
 * without either flag nothing is sent, since no one could answer the
 * prompt. A non-2xx answer prints PagerDuty's error body and fails.
 */
#ifndef ALERTBRIDGE_CMD_SENDTEST_H
#define ALERTBRIDGE_CMD_SENDTEST_H

/* alertbridge send-test [--target NAME] [--resolve|--no-resolve]
 *                       [--severity SEVERITY] [-c FILE] */
int command_send_test(int argc, char **argv);

#endif
