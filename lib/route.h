/*
 * route: which configured route an alert takes, and the PagerDuty
 * severity that route gives it. Rules are tried in order; the first
 * whose every matcher accepts the alert wins; the default route takes
 * the rest.
 */
#ifndef ALERTBRIDGE_ROUTE_H
#define ALERTBRIDGE_ROUTE_H

#include "alert.h"
#include "config.h"

/* Never NULL: the default route when no rule matches. */
const struct config_route *route_find(const struct config *config,
				      const struct alert *alert);

/* True when every matcher of match accepts the alert. */
bool route_matches(const struct config_match *match, const struct alert *alert);

/*
 * The PagerDuty severity for a trigger of this alert on this route:
 * the band's severity for a GuardDuty finding, the route's
 * insufficient-data severity for INSUFFICIENT_DATA, else the route's.
 */
const char *route_severity(const struct config_route *route,
			   const struct alert *alert);

#endif
