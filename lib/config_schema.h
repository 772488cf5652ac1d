/*
 * config_schema: the sections of the configuration, each loaded from
 * its tree node into ld->config under the conventions of config_tree.h.
 * Internal to the config module; config.c calls them in an order where
 * every name a section refers to is already loaded: targets, then
 * templates and escalation policies, then default_route, then routes
 * (a route inherits from default_route) and silences.
 *
 *   config_pagerduty.c  pagerduty:, targets:, templates:
 *   config_route.c      default_route:, routes:, and the match: of
 *                       routes and silences
 *   config_policy.c     escalation_policies:, silences:
 */
#ifndef ALERTBRIDGE_CONFIG_SCHEMA_H
#define ALERTBRIDGE_CONFIG_SCHEMA_H

#include "config_tree.h"

/* config_pagerduty.c */
void schema_load_pagerduty(struct loader *ld, struct ynode *node);
void schema_load_targets(struct loader *ld, struct ynode *node);
void schema_load_templates(struct loader *ld, struct ynode *node);

/* Reports a name that is not defined, with a did-you-mean hint. */
void schema_unknown_target(struct loader *ld, const struct ynode *node,
			   const char *name, const char *section);
void schema_unknown_template(struct loader *ld, const struct ynode *node,
			     const char *name, const char *section);

void schema_release_template(struct config_template *tpl);

/* config_route.c */
void schema_load_default_route(struct loader *ld, struct ynode *node);
void schema_load_routes(struct loader *ld, struct ynode *node);
void schema_load_match(struct loader *ld, struct ynode *node,
		       const char *section, struct config_match *match);

void schema_release_match(struct config_match *match);
void schema_release_route(struct config_route *route);

/* config_policy.c */
void schema_load_policies(struct loader *ld, struct ynode *node);
void schema_load_silences(struct loader *ld, struct ynode *node);

void schema_unknown_policy(struct loader *ld, const struct ynode *node,
			   const char *name, const char *section);

void schema_release_policy(struct config_policy *policy);
void schema_release_silence(struct config_silence *silence);

#endif
