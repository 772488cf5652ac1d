/*
 * config_tree: the YAML side of the configuration loader, internal to
 * the config module (config.c and config_*.c; nothing else includes it).
 *
 * libyaml's events become a tree of nodes, each remembering the line and
 * column where it began. The section loaders walk that tree and report
 * each problem through tree_report() with that position and a hint; the
 * walk goes on after an error so that one run lists them all. Past 200
 * errors the rest are dropped, after one "too many errors" line.
 *
 * Conventions for the section loaders:
 *   - key is the YAML key a value was found under, section the place it
 *     is in ("pagerduty", "route 'r'"); NULL for the top level. Both only
 *     word messages.
 *   - A function that reports returns false or a negative errno after
 *     reporting; the caller does not report again.
 *   - An allocation failure sets ld->oom; the load then fails with
 *     -ENOMEM whatever else was found.
 *   - A node marked skip was already reported (an alias, a bad or
 *     duplicate key): checks pass over it silently.
 */
#ifndef ALERTBRIDGE_CONFIG_TREE_H
#define ALERTBRIDGE_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "config.h"

#define NAME_MAX_LEN 64  /* target, template, route, policy names */
#define LABEL_MAX    160 /* "'key' in section", for messages */
#define HINT_MAX     320

#define SECOND_MS (1000LL)
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)
#define KIB       ((size_t)1024)
#define MIB       (1024 * KIB)

enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_LIST,
};

/* The parsed YAML: a tree of nodes that remember where they began. */
struct ynode {
	enum ynode_type type;
	int line; /* 1-based */
	int column;
	int end_line;
	int end_column;
	char *text; /* a scalar's value */
	size_t len;
	yaml_scalar_style_t style;
	bool skip; /* already reported: an alias, a duplicate, a bad key */
	struct ynode **items; /* list items; map keys and values alternating */
	size_t n;
	size_t cap;
};

/* One load in progress. */
struct loader {
	const char *file;      /* names the file in every diagnostic */
	char *base_dir;        /* absolute; relative paths are taken from it */
	struct config *config; /* being filled; warnings go to its list */
	struct config_diags *errors;
	size_t n_errors;
	bool oom;
};

/*
 * Builds the tree of text. Returns -EINVAL after reporting a syntax
 * error or a second document (and then no tree), -ENOMEM, or 0 with
 * *ret_root NULL for an empty stream.
 */
int tree_build(struct loader *ld, const char *text, size_t len,
	       struct ynode **ret_root);

void tree_free(struct ynode *node);

/* Records an error at a position, or at a node's start. */
void tree_report_at(struct loader *ld, int line, int column, const char *hint,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void tree_report(struct loader *ld, const struct ynode *node, const char *hint,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records a warning (config->warnings): the load still succeeds. */
void tree_warn(struct loader *ld, const struct ynode *node, const char *hint,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* strdup() that sets ld->oom on failure. */
char *tree_strdup(struct loader *ld, const char *s);

/*
 * Appends a diagnostic at line and column of file: takes message over
 * (freeing it on failure), copies file and hint (which may be NULL).
 * 0 or -ENOMEM.
 */
int tree_diags_add(struct config_diags *diags, const char *file, int line,
		   int column, char *message, const char *hint);

/* Puts diagnostics from index first on in file order (a stable sort). */
void tree_diags_sort(struct config_diags *diags, size_t first);

/*
 * "Did you mean" support: the closest of names (NULL entries skipped)
 * if it is close enough to word, or NULL.
 */
const char *tree_suggest(const char *word, const char *const *names, size_t n);

/*
 * Writes "did you mean 'x'?" into hint, or else intro followed by all
 * the names; returns hint.
 */
const char *tree_hint_names(char hint[HINT_MAX], const char *word,
			    const char *const *names, size_t n,
			    const char *intro);

/* "'key' in section" (or "'key'"), and "what of section". */
void tree_label_of(char out[LABEL_MAX], const char *key, const char *section);
void tree_format_label(char out[LABEL_MAX], const char *what,
		       const char *section);

/* A plain ~, null or nothing. */
bool tree_is_null(const struct ynode *node);

/* "a map", "a list", "empty" or "text", for messages. */
const char *tree_node_kind(const struct ynode *node);

/* Reports a node of the wrong type (or a null); true when it is right. */
bool tree_expect_type(struct loader *ld, const struct ynode *node,
		      enum ynode_type type, const char *key,
		      const char *section);

/* A scalar's text (borrowed, not empty), or NULL after reporting why not. */
const char *tree_scalar_text(struct loader *ld, const struct ynode *node,
			     const char *key, const char *section);

/*
 * Checks a map's keys: reports keys that are not text, duplicates, and
 * keys not in names (a NULL entry is a key not allowed here), with a
 * did-you-mean hint; marks each reported key skip. values[i] is set to
 * the value of names[i], or NULL.
 */
void tree_map_fields(struct loader *ld, struct ynode *map, const char *section,
		     const char *const *names, size_t n_names,
		     struct ynode **values);

/* Only the first two checks, for maps whose keys are names (targets). */
void tree_check_keys(struct loader *ld, struct ynode *map, const char *section);

/* The value of key in map, before the map is checked (or NULL). */
struct ynode *tree_map_peek(const struct ynode *map, const char *key);

/* Reports a missing required key at the map; true when it is there. */
bool tree_require(struct loader *ld, const struct ynode *map,
		  const struct ynode *value, const char *key,
		  const char *section);

/*
 * Names of targets, templates, routes, policies and silences: at most
 * NAME_MAX_LEN letters, digits, '_', '-' and '.', safe in key=value log
 * lines. what is "route", "target"... for the message.
 */
bool tree_name_check(struct loader *ld, const struct ynode *node,
		     const char *what);

/*
 * The column of byte offset inside a scalar, where its text is exactly
 * what is on its line (no escapes, one line); else the scalar's start.
 */
int tree_scalar_column(const struct ynode *node, size_t offset);

/*
 * Duplicate names in a list of named items (routes, silences): fill
 * name, node and index (the file order), then tree_find_duplicates()
 * sets first on every later use of a name, and leaves v in file order.
 */
struct tree_named {
	const char *name;
	struct ynode *node;
	size_t index;
	const struct ynode *first; /* set on a duplicate */
};

void tree_find_duplicates(struct tree_named *v, size_t n);

/* Finds the duplicates and reports each as "duplicate WHAT 'name'". */
void tree_report_duplicates(struct loader *ld, struct tree_named *v, size_t n,
			    const char *what);

#endif
