/*
 * metrics: fixed label sets, so the exposition is a loop over arrays.
 */
#include "metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static const char *const type_names[METRICS_TYPE_COUNT] = {
	"Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation",
	"unknown"};
static const char *const outcome_names[METRICS_OUTCOME_COUNT] = {
	"accepted", "duplicate", "rejected", "failed"};
static const char *const reject_names[METRICS_REJECT_COUNT] = {
	"too_large", "malformed", "headers",   "topic",         "stale",
	"cert_url",  "cert",      "signature", "subscribe_url", "content_type"};
static const char *const action_names[METRICS_ACTION_COUNT] = {
	"trigger", "resolve", "none"};
static const char *const delivery_names[METRICS_DELIVERY_COUNT] = {
	"accepted",     "invalid", "rate_limited",
	"server_error", "other",   "network"};

/* Histogram buckets in seconds, as Prometheus wants them. */
static const double bucket_seconds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
					0.025,  0.05,  0.1,    0.25,  0.5,
					1,      2.5,   5,      10};
#define N_BUCKETS (sizeof(bucket_seconds) / sizeof(bucket_seconds[0]))

struct histogram {
	atomic_ullong buckets[N_BUCKETS];
	atomic_ullong count;
	atomic_ullong sum_micros;
};

static const char *const hist_names[METRICS_HIST_COUNT] = {
	"alertbridge_ingest_duration_seconds",
	"alertbridge_delivery_duration_seconds",
	"alertbridge_store_commit_duration_seconds",
	"alertbridge_escalation_lateness_seconds",
	"alertbridge_store_checkpoint_duration_seconds"};
static const char *const hist_help[METRICS_HIST_COUNT] = {
	"Time from an SNS request to its answer.",
	"Time of one HTTP exchange with the PagerDuty Events API.",
	"Time of one group commit of the store.",
	"How late escalation steps fired after their deadline.",
	"Time of one checkpoint of the store's write-ahead log."};

static const char *const gauge_names[METRICS_GAUGE_COUNT] = {
	"alertbridge_outbox_depth",
	"alertbridge_outbox_oldest_age_seconds",
	"alertbridge_dead_letters",
	"alertbridge_incidents_open",
	"alertbridge_deliveries_in_flight",
	"alertbridge_escalation_timers_pending",
	"alertbridge_escalation_next_deadline_timestamp_seconds"};
static const char *const gauge_help[METRICS_GAUGE_COUNT] = {
	"Events and confirmations waiting in the outbox.",
	"Age of the oldest row in the outbox.",
	"Rows in the dead-letter table.",
	"Incidents triggered and not resolved.",
	"HTTP requests to PagerDuty or SNS under way.",
	"Incidents waiting for an escalation step or a silence's end.",
	"When the next escalation step is due (0: none)."};

static atomic_ullong received[METRICS_TYPE_COUNT][METRICS_OUTCOME_COUNT];
static atomic_ullong rejected[METRICS_REJECT_COUNT];
static atomic_ullong actions[METRICS_ACTION_COUNT];
static atomic_ullong deliveries[METRICS_DELIVERY_COUNT];
static atomic_ullong retries;
static atomic_ullong dead_letters;
static atomic_ullong subscriptions[2];
static struct histogram histograms[METRICS_HIST_COUNT];
static atomic_ullong steps_fired;
static atomic_ullong acks[2]; /* webhook, api */
static atomic_ullong webhook_rejected[METRICS_WEBHOOK_REJECT_COUNT];
static atomic_llong levels[METRICS_LEVELS];
static atomic_llong gauges[METRICS_GAUGE_COUNT];

void metrics_received(enum metrics_type type, enum metrics_outcome outcome)
{
	atomic_fetch_add(&received[type][outcome], 1);
}

void metrics_rejected(enum metrics_reject reason)
{
	atomic_fetch_add(&rejected[reason], 1);
}

void metrics_action(enum metrics_action action)
{
	atomic_fetch_add(&actions[action], 1);
}

void metrics_delivery(enum metrics_delivery result)
{
	atomic_fetch_add(&deliveries[result], 1);
}

void metrics_retry(void)
{
	atomic_fetch_add(&retries, 1);
}

void metrics_dead_letter(void)
{
	atomic_fetch_add(&dead_letters, 1);
}

void metrics_subscription(int confirmed)
{
	atomic_fetch_add(&subscriptions[confirmed ? 1 : 0], 1);
}

void metrics_escalation_fired(int64_t lateness_ms)
{
	atomic_fetch_add(&steps_fired, 1);
	metrics_observe(METRICS_HIST_LATENESS,
			(lateness_ms > 0 ? lateness_ms : 0) * 1000);
}

void metrics_acknowledged(const char *source)
{
	atomic_fetch_add(&acks[strcmp(source, "webhook") == 0 ? 0 : 1], 1);
}

void metrics_webhook_rejected(enum metrics_webhook_reject reason)
{
	atomic_fetch_add(&webhook_rejected[reason], 1);
}

void metrics_levels_set(const int64_t counts[METRICS_LEVELS])
{
	for (int i = 0; i < METRICS_LEVELS; i++)
		atomic_store(&levels[i], counts[i]);
}

void metrics_observe(enum metrics_histogram hist, int64_t micros)
{
	struct histogram *h = &histograms[hist];
	double seconds = (double)micros / 1e6;

	if (micros < 0)
		micros = 0;

	for (size_t i = 0; i < N_BUCKETS; i++) {
		if (seconds <= bucket_seconds[i])
			atomic_fetch_add(&h->buckets[i], 1);
	}
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_micros, (unsigned long long)micros);
}

void metrics_gauge_set(enum metrics_gauge gauge, int64_t value)
{
	atomic_store(&gauges[gauge], value);
}

int64_t metrics_gauge_get(enum metrics_gauge gauge)
{
	return atomic_load(&gauges[gauge]);
}

static int render_counters(struct strbuf *out)
{
	int r = 0;

	r |= strbuf_puts(out,
			 "# HELP alertbridge_sns_received_total SNS requests"
			 " by message type and outcome.\n"
			 "# TYPE alertbridge_sns_received_total counter\n");
	for (int t = 0; t < METRICS_TYPE_COUNT; t++)
		for (int o = 0; o < METRICS_OUTCOME_COUNT; o++)
			r |= strbuf_printf(
				out,
				"alertbridge_sns_received_total{type=\"%s\","
				"outcome=\"%s\"} %llu\n",
				type_names[t], outcome_names[o],
				atomic_load(&received[t][o]));

	r |= strbuf_puts(out,
			 "# HELP alertbridge_sns_rejected_total SNS requests"
			 " refused, by reason.\n"
			 "# TYPE alertbridge_sns_rejected_total counter\n");
	for (int i = 0; i < METRICS_REJECT_COUNT; i++)
		r |= strbuf_printf(out,
				   "alertbridge_sns_rejected_total{reason="
				   "\"%s\"} %llu\n",
				   reject_names[i], atomic_load(&rejected[i]));

	r |= strbuf_puts(out, "# HELP alertbridge_alerts_total Alerts by the"
			      " action they caused.\n"
			      "# TYPE alertbridge_alerts_total counter\n");
	for (int i = 0; i < METRICS_ACTION_COUNT; i++)
		r |= strbuf_printf(out,
				   "alertbridge_alerts_total{action=\"%s\"}"
				   " %llu\n",
				   action_names[i], atomic_load(&actions[i]));

	r |= strbuf_puts(out,
			 "# HELP alertbridge_deliveries_total Deliveries to"
			 " PagerDuty by result.\n"
			 "# TYPE alertbridge_deliveries_total counter\n");
	for (int i = 0; i < METRICS_DELIVERY_COUNT; i++)
		r |= strbuf_printf(out,
				   "alertbridge_deliveries_total{result="
				   "\"%s\"} %llu\n",
				   delivery_names[i],
				   atomic_load(&deliveries[i]));

	r |= strbuf_printf(
		out,
		"# HELP alertbridge_delivery_retries_total Deliveries"
		" rescheduled after a failure.\n"
		"# TYPE alertbridge_delivery_retries_total counter\n"
		"alertbridge_delivery_retries_total %llu\n"
		"# HELP alertbridge_dead_letters_total Deliveries given up"
		" since start.\n"
		"# TYPE alertbridge_dead_letters_total counter\n"
		"alertbridge_dead_letters_total %llu\n"
		"# HELP alertbridge_subscriptions_total Subscription"
		" confirmations by result.\n"
		"# TYPE alertbridge_subscriptions_total counter\n"
		"alertbridge_subscriptions_total{result=\"confirmed\"} %llu\n"
		"alertbridge_subscriptions_total{result=\"failed\"} %llu\n",
		atomic_load(&retries), atomic_load(&dead_letters),
		atomic_load(&subscriptions[1]), atomic_load(&subscriptions[0]));
	return r;
}

static int render_escalation(struct strbuf *out)
{
	int r = 0;

	r |= strbuf_printf(
		out,
		"# HELP alertbridge_escalation_steps_fired_total Escalation"
		" steps paged after the first.\n"
		"# TYPE alertbridge_escalation_steps_fired_total counter\n"
		"alertbridge_escalation_steps_fired_total %llu\n"
		"# HELP alertbridge_acknowledgements_total Acknowledgements"
		" by source.\n"
		"# TYPE alertbridge_acknowledgements_total counter\n"
		"alertbridge_acknowledgements_total{source=\"webhook\"} %llu\n"
		"alertbridge_acknowledgements_total{source=\"api\"} %llu\n"
		"# HELP alertbridge_webhook_rejected_total PagerDuty webhook"
		" deliveries refused, by reason.\n"
		"# TYPE alertbridge_webhook_rejected_total counter\n"
		"alertbridge_webhook_rejected_total{reason=\"malformed\"} "
		"%llu\n"
		"alertbridge_webhook_rejected_total{reason=\"signature\"} "
		"%llu\n"
		"# HELP alertbridge_incidents_open_by_level Open incidents by"
		" the escalation level reached.\n"
		"# TYPE alertbridge_incidents_open_by_level gauge\n",
		atomic_load(&steps_fired), atomic_load(&acks[0]),
		atomic_load(&acks[1]),
		atomic_load(&webhook_rejected[METRICS_WEBHOOK_MALFORMED]),
		atomic_load(&webhook_rejected[METRICS_WEBHOOK_SIGNATURE]));
	for (int i = 0; i < METRICS_LEVELS; i++)
		r |= strbuf_printf(out,
				   "alertbridge_incidents_open_by_level{level="
				   "\"%d%s\"} %lld\n",
				   i + 1, i == METRICS_LEVELS - 1 ? "+" : "",
				   (long long)atomic_load(&levels[i]));
	return r;
}

static int render_histograms(struct strbuf *out)
{
	int r = 0;

	for (int i = 0; i < METRICS_HIST_COUNT; i++) {
		struct histogram *h = &histograms[i];

		r |= strbuf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n",
				   hist_names[i], hist_help[i], hist_names[i]);
		for (size_t b = 0; b < N_BUCKETS; b++)
			r |= strbuf_printf(out, "%s_bucket{le=\"%g\"} %llu\n",
					   hist_names[i], bucket_seconds[b],
					   atomic_load(&h->buckets[b]));
		r |= strbuf_printf(out,
				   "%s_bucket{le=\"+Inf\"} %llu\n"
				   "%s_sum %.6f\n%s_count %llu\n",
				   hist_names[i], atomic_load(&h->count),
				   hist_names[i],
				   (double)atomic_load(&h->sum_micros) / 1e6,
				   hist_names[i], atomic_load(&h->count));
	}
	return r;
}

static int render_gauges(struct strbuf *out)
{
	int r = 0;

	for (int i = 0; i < METRICS_GAUGE_COUNT; i++) {
		long long value = atomic_load(&gauges[i]);

		r |= strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n",
				   gauge_names[i], gauge_help[i],
				   gauge_names[i]);
		if (i == METRICS_GAUGE_OUTBOX_OLDEST_AGE_MS ||
		    i == METRICS_GAUGE_NEXT_DEADLINE)
			r |= strbuf_printf(out, "%s %.3f\n", gauge_names[i],
					   (double)value / 1e3);
		else
			r |= strbuf_printf(out, "%s %lld\n", gauge_names[i],
					   value);
	}
	return r;
}

int metrics_render(struct strbuf *out)
{
	int r = 0;

	r |= render_counters(out);
	r |= render_escalation(out);
	r |= render_histograms(out);
	r |= render_gauges(out);
	return r ? -ENOMEM : 0;
}
