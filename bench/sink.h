/*
 * sink: the benchmark's PagerDuty stand-in. It keeps PagerDuty's limit
 * of rate_per_minute events per routing key over any 60 seconds,
 * answering 429 with a Retry-After beyond it, and tallies what it took
 * per routing key and per dedup_key, so that the storm can show that
 * every event arrived, once and in order.
 */
#ifndef ALERTBRIDGE_BENCH_SINK_H
#define ALERTBRIDGE_BENCH_SINK_H

/*
 * Serves on a free loopback port, writes the events URL to url_file,
 * and answers status (202, or 503 to hold every event back) to each
 * event within the limit. When standard input closes, prints its tallies
 * and returns loadgen's exit status (0, or 1 on failure).
 */
int sink_run(const char *url_file, unsigned int rate_per_minute,
	     unsigned int status);

#endif
