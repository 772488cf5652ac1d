/*
 * cmd_postmortem: `alertbridge postmortem KEY`, the runbook's
 * post-mortem template in Markdown, filled from the store: title, date,
 * severity, duration (open to resolve, or "ongoing"), time to
 * acknowledge, and the timeline in UTC (the alarm firing, each page with
 * its level and target, acknowledgements with their source and actor,
 * the resolve), with places left for a person to write the impact, the
 * root cause and the action items.
 *
 * KEY is the incident's dedup key or the key of one of its pages. The
 * report covers the incident's latest episode, from the last time its
 * alarm fired; earlier episodes are counted, not shown. The store is
 * only read, so this is safe beside a running daemon.
 */
#ifndef ALERTBRIDGE_CMD_POSTMORTEM_H
#define ALERTBRIDGE_CMD_POSTMORTEM_H

/* alertbridge postmortem KEY [-c FILE] [--store DIR] */
int command_postmortem(int argc, char **argv);

#endif
