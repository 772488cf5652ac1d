/*
 * bodies: the requests the benchmark sends, made before any clock
 * starts, shared by the load generator and the compute ceiling so that
 * both measure the very same bytes.
 */
#ifndef ALERTBRIDGE_BENCH_BODIES_H
#define ALERTBRIDGE_BENCH_BODIES_H

#include <stdint.h>

#include "testkeys.h"

#define BODIES_TOPIC     "arn:aws:sns:us-east-1:123456789012:ghostline-alerts"
#define BODIES_CERT_HOST "https://sns.us-east-1.amazonaws.com/"

/* The test certificate is valid from a day before the run to a day after. */
#define BODIES_DAY_MS 86400000

int64_t bodies_wall_ms(void);

/*
 * The file name of this process's signing certificate: one of its own,
 * since the daemon keeps a certificate it has read in memory, and a
 * later run signs with a new key.
 */
void bodies_cert_file(char file[64]);

/*
 * Signs n SNS notifications, naming cert_file (bodies_cert_file()) as
 * their SigningCertURL, of CloudWatch alarms into *ret_bodies
 * (bodies_free() them).
 *
 * With storm_keys 0: alarms distinct alarms named prod-api-latency-NNN
 * (the example configuration escalates them with the runbook), ALARM
 * and OK in turn, each state change later than the one before.
 *
 * With storm_keys > 0: n distinct alarms, all ALARM, named
 * storm-K-NNNNN with K = i % storm_keys, so that routes matching the
 * prefixes spread them over storm_keys targets.
 *
 * Each MessageId is distinct. 0, or -ENOMEM when a body cannot be made:
 * the test helpers give no cause, and allocation is the one they can
 * meet here.
 */
int bodies_sign(const struct testkey *key, const char *cert_file, int n,
		int alarms, int storm_keys, char ***ret_bodies);

/*
 * One firing alert with distinct labels per body, as an Alertmanager
 * client would send. 0, or -ENOMEM.
 */
int bodies_alertmanager(int n, char ***ret_bodies);

/* Destroys what the functions above made; takes NULL. */
void bodies_free(char **bodies, int n);

#endif
