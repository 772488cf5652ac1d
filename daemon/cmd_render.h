/*
 * cmd_render: `alertbridge render`, the route a message would take and
 * the exact PagerDuty events it would produce, trigger or resolve, for
 * every level of its escalation, computed with the daemon's own code
 * (ingest's plan, the escalation state machine, the pager's level
 * payloads, the renderer's event bodies). Nothing is sent and the store
 * is not opened; routing keys appear as fingerprints only.
 */
#ifndef ALERTBRIDGE_CMD_RENDER_H
#define ALERTBRIDGE_CMD_RENDER_H

#include <stdio.h>

#include "config.h"

/* alertbridge render --message FILE [--route NAME] [-c FILE] */
int command_render(int argc, char **argv);

/*
 * Prints to out what `render` shows for the message in the file at
 * path: an SNS envelope, a Lambda-shaped SNS record ({"Records": [{"Sns":
 * ...}]}) or a bare Message body. route_name forces that route (NULL:
 * the first that matches). Shared with `check-config --message`.
 * Errors are printed on standard error; -ENOENT for an unknown route.
 *
 * The times in the events (open_since) count from the alarm's state
 * change, as if the message had been received when it was sent; an
 * incident's real pages count from when the daemon received it.
 * Silences are not consulted.
 */
int cmd_render_explain(const struct config *config, const char *path,
		       const char *route_name, FILE *out);

#endif
