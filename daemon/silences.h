/*
 * silences: maintenance windows. Those of the configuration, and those
 * set through the API (kept in the store, loaded at start, held here in
 * memory for the request threads to match against).
 *
 * A silence holds back the trigger of an alert it matches, and that
 * trigger's escalation, until it ends; it never holds back a resolve.
 */
#ifndef ALERTBRIDGE_SILENCES_H
#define ALERTBRIDGE_SILENCES_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "config.h"

struct silences;

/*
 * Loads the API's silences still to come or under way at now_ms, from
 * the store in config's state directory (kept for the daemon's life:
 * a reload cannot change it). The other functions take the
 * configuration of the unit of work that calls them.
 */
int silences_open(const struct config *config, int64_t now_ms,
		  struct silences **ret);
void silences_free(struct silences *silences);

/*
 * When the silences that hold alert at now_ms end, following silences
 * that overlap or adjoin; 0 when none holds it.
 */
int64_t silences_until(struct silences *silences, const struct config *config,
		       const struct alert *alert, int64_t now_ms);

/* Room for the reason silences_add() gives. */
#define SILENCES_REASON_MAX 256

/*
 * Adds a silence from its JSON: {"name": "...", "match": {...the
 * matchers of a route: name (a glob), kind, state, namespace, metric,
 * region, account, topic, severity, dimensions...}, "start": ISO 8601
 * (default now), "end": ISO 8601 or "duration": "2h"}. -EINVAL when it
 * is not one: an unknown field or matcher, a field of the wrong type,
 * a time or duration that does not parse, or a silence already over.
 * -EEXIST when a silence not yet over, of the configuration or the API,
 * has the name it gives (one without a name is "api", and may repeat).
 * Either way reason says why, naming the field or the value.
 */
int silences_add(struct silences *silences, const struct config *config,
		 const char *json, size_t len, int64_t now_ms, int64_t *ret_id,
		 char reason[SILENCES_REASON_MAX]);

/*
 * Lifts an API silence. The alarms silences hold are paged at once
 * (store_incident_release_silenced() says why all of them).
 */
int silences_remove(struct silences *silences, int64_t id, bool *ret_found);

/* Every silence not yet over, the configuration's and the API's, as a
 * JSON array (free() it). */
char *silences_list(struct silences *silences, const struct config *config,
		    int64_t now_ms);

#endif
