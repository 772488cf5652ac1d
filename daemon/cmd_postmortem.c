/*
 * cmd_postmortem: an incident's record as a post-mortem to complete.
 */
#include "cmd_postmortem.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "commands.h"
#include "help.h"
#include "operator.h"
#include "store.h"
#include "timeutil.h"

/* Timeline records read at most: far more than one incident makes. */
#define POSTMORTEM_TIMELINE_MAX 2000

/* The figures of one episode, from its timeline. */
struct episode {
	size_t first;  /* index of its "triggered" record */
	size_t before; /* records of earlier episodes */
	int64_t opened_ms;
	int64_t acked_ms; /* 0: never */
	const char *acked_by;
	int64_t resolved_ms; /* 0: still open */
	unsigned int pages;
};

/* 2022-09-25 18:51:00, UTC to the second. */
static void when(int64_t ms, char out[32])
{
	char iso[32];

	timeutil_format(ms, iso);
	snprintf(out, 32, "%.10s %.8s", iso, iso + 11);
}

/* Text in a Markdown table cell: no line breaks, no column breaks. */
static void cell(const char *text, FILE *out)
{
	for (const char *p = text ? text : ""; *p; p++) {
		if (*p == '|')
			fputs("\\|", out);
		else if (*p == '\n' || *p == '\r')
			fputc(' ', out);
		else
			fputc(*p, out);
	}
}

static bool is(const struct store_timeline_entry *e, const char *what)
{
	return strcmp(e->what, what) == 0;
}

static void read_episode(const struct store_timeline_entry *t, size_t n,
			 const struct store_incident *inc, struct episode *ep)
{
	*ep = (struct episode){.opened_ms = inc->opened_ms};

	for (size_t i = n; i-- > 0;) {
		if (is(&t[i], "triggered")) {
			ep->first = i;
			ep->opened_ms = t[i].at_ms;
			break;
		}
	}
	ep->before = ep->first;

	for (size_t i = ep->first; i < n; i++) {
		if (is(&t[i], "paged"))
			ep->pages++;
		else if (is(&t[i], "acknowledged") && !ep->acked_ms) {
			ep->acked_ms = t[i].at_ms;
			ep->acked_by = t[i].detail;
		} else if ((is(&t[i], "resolved") || is(&t[i], "recovered")) &&
			   !ep->resolved_ms)
			ep->resolved_ms = t[i].at_ms;
	}
}

/* One timeline record in words. */
static void describe(const struct store_timeline_entry *e, FILE *out)
{
	const char *d = e->detail;

	if (is(e, "triggered")) {
		fputs("Alarm fired", out);
		if (d) {
			fputs(" (SNS message ", out);
			cell(d, out);
			fputs(")", out);
		}
	} else if (is(e, "silenced")) {
		fputs("Held back by a silence: not paged yet", out);
	} else if (is(e, "paged")) {
		fputs("Paged ", out);
		cell(d ? d : "a level", out);
	} else if (is(e, "acknowledged") || is(e, "unacknowledged") ||
		   is(e, "resolved")) {
		fputs(is(e, "acknowledged")     ? "Acknowledged"
		      : is(e, "unacknowledged") ? "Acknowledgement withdrawn"
						: "Resolved",
		      out);
		if (d) {
			fputs(" via ", out);
			cell(d, out);
		}
	} else if (is(e, "recovered")) {
		fputs("Resolved: the alarm returned to OK", out);
		if (d) {
			fputs(" (SNS message ", out);
			cell(d, out);
			fputs(")", out);
		}
	} else {
		cell(e->what, out);
		if (d) {
			fputs(": ", out);
			cell(d, out);
		}
	}
}

static void row(const char *name, const char *value, FILE *out)
{
	fprintf(out, "| %s | ", name);
	cell(value, out);
	fputs(" |\n", out);
}

/* What the report says beside the timeline. */
struct facts {
	bool truncated;  /* the timeline was cut at its bound */
	int64_t pending; /* triggers PagerDuty has not taken yet */
	int64_t dead;    /* triggers it never took */
};

static void print_report(const struct store_incident *inc,
			 const struct store_timeline_entry *t, size_t n,
			 const struct facts *facts, FILE *out)
{
	const char *name = inc->alert_name ? inc->alert_name : inc->dedup_key;
	struct episode ep;
	char duration[32];
	char text[320];
	char at[32];

	read_episode(t, n, inc, &ep);
	when(ep.opened_ms, at);

	fputs("# Post-mortem: ", out);
	cell(name, out);
	fprintf(out, "\n\n| | |\n| --- | --- |\n");
	snprintf(text, sizeof(text), "%.10s", at);
	row("Date", text, out);
	row("Incident (dedup key)", inc->dedup_key, out);
	row("Alert", name, out);
	row("Severity", inc->severity ? inc->severity : "unknown", out);
	row("Route", inc->route ? inc->route : "unknown", out);
	row("Escalation policy", inc->policy ? inc->policy : "none", out);
	snprintf(text, sizeof(text), "%s UTC", at);
	row("Opened", text, out);

	if (ep.acked_ms) {
		when(ep.acked_ms, at);
		operator_duration(ep.acked_ms - ep.opened_ms, duration);
		snprintf(text, sizeof(text), "%s UTC, after %s, via %.200s", at,
			 duration, ep.acked_by ? ep.acked_by : "unknown");
		row("Acknowledged", text, out);
	} else {
		row("Acknowledged", "no", out);
	}

	if (ep.resolved_ms) {
		when(ep.resolved_ms, at);
		snprintf(text, sizeof(text), "%s UTC", at);
		row("Resolved", text, out);
		operator_duration(ep.resolved_ms - ep.opened_ms, duration);
		row("Duration", duration, out);
	} else {
		row("Resolved", "not yet", out);
		operator_duration(app_wall_ms() - ep.opened_ms, duration);
		snprintf(text, sizeof(text), "ongoing (open for %s so far)",
			 duration);
		row("Duration", text, out);
	}
	snprintf(text, sizeof(text), "%u", ep.pages);
	row("Pages sent", text, out);
	if (facts->pending > 0 || facts->dead > 0) {
		snprintf(text, sizeof(text),
			 "%lld still in the outbox, %lld dead-lettered"
			 " (alertbridge queue list)",
			 (long long)facts->pending, (long long)facts->dead);
		row("Not accepted by PagerDuty", text, out);
	}

	fputs("\n## Impact\n\n"
	      "_To be written: who or what was affected, how badly, and for"
	      " how long._\n",
	      out);

	fputs("\n## Timeline (UTC)\n\n| Time (UTC) | Event |\n| --- | --- |\n",
	      out);
	for (size_t i = ep.first; i < n; i++) {
		when(t[i].at_ms, at);
		fprintf(out, "| %s | ", at);
		describe(&t[i], out);
		fputs(" |\n", out);
	}
	if (facts->truncated)
		fprintf(out,
			"\n_Only the latest %d records of this incident's"
			" timeline were read; earlier ones are not shown._\n",
			POSTMORTEM_TIMELINE_MAX);
	else if (ep.before > 0)
		fprintf(out,
			"\n_%zu record%s of earlier episodes of this incident"
			" %s not shown._\n",
			ep.before, ep.before == 1 ? "" : "s",
			ep.before == 1 ? "is" : "are");

	fputs("\n## Root cause\n\n"
	      "_To be written: what caused it, and why it was not caught"
	      " earlier._\n"
	      "\n## Action items\n\n"
	      "| Action | Owner | Due |\n| --- | --- | --- |\n"
	      "| _To be written_ | | |\n",
	      out);
}

static int report(struct store *store, const char *key)
{
	struct store_timeline_entry *timeline = NULL;
	struct facts facts = {0};
	struct store_incident inc = {0};
	char *dedup_key = NULL;
	bool found = false;
	size_t n = 0;
	int r;

	r = store_incident_find_key(store, key, &dedup_key);
	if (r == -ENOENT) {
		fprintf(stderr,
			"alertbridge: no incident has the key %s (neither"
			" its dedup key nor one of its pages')\n",
			key);
		return r;
	}
	if (r == 0)
		r = store_incident_get(store, dedup_key, &inc, &found);
	if (r == 0 && !found) {
		/* A page whose incident is gone: nothing to report on. */
		fprintf(stderr, "alertbridge: the incident of %s is gone\n",
			key);
		r = -ENOENT;
		goto out;
	}
	if (r == 0)
		r = store_timeline_list(store, dedup_key,
					POSTMORTEM_TIMELINE_MAX, &timeline, &n);
	if (r == 0)
		r = store_incident_undelivered(store, dedup_key, &facts.pending,
					       &facts.dead);
	if (r < 0) {
		fprintf(stderr, "alertbridge: store: %s\n", store_error(store));
		goto out;
	}

	facts.truncated = n == POSTMORTEM_TIMELINE_MAX;
	print_report(&inc, timeline, n, &facts, stdout);
out:
	store_timeline_free(timeline, n);
	store_incident_release(&inc);
	free(dedup_key);
	return r;
}

int command_postmortem(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"store", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *store_dir = NULL;
	struct config *config = NULL;
	struct store *store = NULL;
	int opt;
	int r;

	while ((opt = getopt_long(argc, argv, "c:s:h", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 's':
			store_dir = optarg;
			break;
		case 'h':
			help_print("postmortem", stdout);
			return EXIT_SUCCESS;
		default:
			help_print("postmortem", stderr);
			return EXIT_FAILURE;
		}
	}
	if (optind == argc) {
		fprintf(stderr,
			"alertbridge: postmortem needs the incident's key\n");
		help_print("postmortem", stderr);
		return EXIT_FAILURE;
	}
	if (commands_no_operands(argc, argv, optind + 1,
				 "postmortem takes one key") < 0)
		return EXIT_FAILURE;

	/* With --store alone nothing else of the configuration is needed. */
	if ((config_path || !store_dir) &&
	    operator_load_config(config_path, &config) < 0)
		return EXIT_FAILURE;
	if (!store_dir)
		store_dir = config->state_dir;

	r = operator_store_open(store_dir, NULL, &store);
	if (r == 0)
		r = report(store, argv[optind]);

	store_close(store);
	config_free(config);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
