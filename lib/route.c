/*
 * route: which configured route an alert takes (see route.h).
 *
 * Globs are fnmatch(3) patterns without FNM_PATHNAME, so that '*' runs
 * across the ':' and '/' of ARNs. A matcher on a field the alert does
 * not carry never matches: a route that asks for a namespace does not
 * take a GuardDuty finding.
 */
#include <fnmatch.h>
#include <string.h>

#include "route.h"

static const char *const band_names[CONFIG_BAND_COUNT] = {
	[CONFIG_BAND_LOW] = "low",
	[CONFIG_BAND_MEDIUM] = "medium",
	[CONFIG_BAND_HIGH] = "high",
	[CONFIG_BAND_CRITICAL] = "critical",
};

static bool glob_matches(const char *glob, const char *value)
{
	return value && fnmatch(glob, value, 0) == 0;
}

/* Any of the globs; an empty list accepts everything. */
static bool globs_match(const struct config_globs *globs, const char *value)
{
	if (globs->n == 0)
		return true;

	for (size_t i = 0; i < globs->n; i++)
		if (glob_matches(globs->v[i], value))
			return true;
	return false;
}

static bool pattern_matches(const struct config_pattern *pattern,
			    const char *value)
{
	if (!pattern)
		return true;
	if (!value)
		return false;

	if (pattern->is_regex)
		return regexec(&pattern->regex, value, 0, NULL, 0) == 0;
	return glob_matches(pattern->text, value);
}

static bool bits_match(unsigned int bits, unsigned int value)
{
	if (bits == 0)
		return true;
	return value < 32 && (bits & (1u << value));
}

/* Each configured dimension must be on the alert with a matching value. */
static bool dimensions_match(const struct config_match *match,
			     const struct alert *alert)
{
	for (size_t i = 0; i < match->n_dimensions; i++) {
		const struct alert_dimension *want = &match->dimensions[i];
		bool found = false;

		for (size_t j = 0; j < alert->n_dimensions && !found; j++) {
			const struct alert_dimension *have =
				&alert->dimensions[j];

			found = have->name && !strcmp(have->name, want->name) &&
				glob_matches(want->value, have->value);
		}
		if (!found)
			return false;
	}
	return true;
}

bool route_matches(const struct config_match *match, const struct alert *alert)
{
	return pattern_matches(match->name, alert->name) &&
	       bits_match(match->kinds, (unsigned int)alert->kind) &&
	       bits_match(match->states, (unsigned int)alert->state) &&
	       globs_match(&match->namespaces, alert->namespace) &&
	       globs_match(&match->metrics, alert->metric_name) &&
	       globs_match(&match->regions, alert->region) &&
	       globs_match(&match->accounts, alert->account) &&
	       globs_match(&match->topics, alert->topic_arn) &&
	       globs_match(&match->severities, alert->severity_band) &&
	       dimensions_match(match, alert);
}

const struct config_route *route_find(const struct config *config,
				      const struct alert *alert)
{
	for (size_t i = 0; i < config->n_routes; i++)
		if (route_matches(&config->routes[i].match, alert))
			return &config->routes[i];
	return &config->default_route;
}

/*
 * An INSUFFICIENT_DATA alert on a route that ignores it still gets the
 * route's severity here: whether to send it at all is the caller's
 * decision, made on route->insufficient.
 */
const char *route_severity(const struct config_route *route,
			   const struct alert *alert)
{
	if (alert->state == ALERT_STATE_INSUFFICIENT_DATA &&
	    route->insufficient == CONFIG_INSUFFICIENT_TRIGGER &&
	    route->insufficient_severity)
		return route->insufficient_severity;

	for (size_t band = 0; alert->severity_band && band < CONFIG_BAND_COUNT;
	     band++)
		if (!strcmp(alert->severity_band, band_names[band]) &&
		    route->band_severity[band])
			return route->band_severity[band];
	return route->severity;
}
