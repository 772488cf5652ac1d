/*
 * config_value: the scalar values of the configuration (text, booleans,
 * numbers, durations, sizes, severities, paths, lists of globs) and the
 * secrets (from a file, the environment, a systemd credential or
 * inline), read from tree nodes. Internal to the config module.
 *
 * Each value_*() reads one node under the conventions of config_tree.h:
 * on a bad value it reports at the node, with a hint, and returns a
 * negative errno, leaving its out-parameter untouched; key and section
 * only word the messages.
 */
#ifndef ALERTBRIDGE_CONFIG_VALUE_H
#define ALERTBRIDGE_CONFIG_VALUE_H

#include "config_tree.h"

/* Frees *field and puts value there; a NULL value changes nothing. */
void value_set_text(char **field, char *value);

/* A copy of a scalar's text. */
int value_text(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, char **ret_text);

/* true or false, as written: YAML 1.1's yes/no/on/off are refused. */
int value_bool(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, bool *ret_value);

/* A whole number from min to max (at most nine digits). */
int value_uint(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, unsigned long min, unsigned long max,
	       unsigned long *ret_value);

/* "90s", "5m": the largest unit that divides ms exactly; 0 is "0s". */
void value_format_duration(int64_t ms, char out[32]);

/*
 * A duration (timeutil_parse_duration()) from min to max ms; -ERANGE
 * out of range.
 */
int value_duration(struct loader *ld, const struct ynode *node, const char *key,
		   const char *section, int64_t min, int64_t max,
		   int64_t *ret_ms);

/* A whole number of bytes, or with B, KiB or MiB after it. */
int value_size(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, size_t min, size_t max, size_t *ret_bytes);

/* One of PagerDuty's severities, copied. */
int value_severity(struct loader *ld, const struct ynode *node, const char *key,
		   const char *section, char **ret);

/* A path, made absolute against the configuration's directory. */
int value_path(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, char **ret_path);

/*
 * A key that takes a single value or a list of them: value_expect_list()
 * reports an empty list, a map or an empty value; then value_count()
 * values are at value_item(node, 0...).
 */
bool value_expect_list(struct loader *ld, const struct ynode *node,
		       const char *key, const char *section);
size_t value_count(const struct ynode *node);
const struct ynode *value_item(const struct ynode *node, size_t i);

/* A value or list of globs; each bad item is left out after its report. */
void value_globs(struct loader *ld, const struct ynode *node, const char *key,
		 const char *section, struct config_globs *globs);

/* Frees the globs (not globs itself). */
void value_release_globs(struct config_globs *globs);

/* Where a secret comes from, in the order of value_secret_spec.keys. */
enum value_source {
	VALUE_SOURCE_FILE,
	VALUE_SOURCE_ENV,
	VALUE_SOURCE_CREDENTIAL,
	VALUE_SOURCE_INLINE,
	VALUE_SOURCE_COUNT
};

/*
 * A kind of secret: its keys, and how messages name it ("the routing
 * key of target 'primary'", "target 'primary' has more than one routing
 * key").
 */
struct value_secret_spec {
	/* such as routing_key_file, routing_key_env, ..._credential, ... */
	const char *keys[VALUE_SOURCE_COUNT];
	const char *noun;  /* "routing key" */
	const char *owner; /* "target 'primary'" */
	bool allow_space;  /* else white space in the value is an error */
};

/* Where credentials are read from outside a unit with LoadCredential=:
 * the directory the packaged unit loads them from. */
#define VALUE_CREDENTIALS_FALLBACK "/etc/alertbridge/credentials"

/*
 * Loads a secret from the one source given: values[i] is the node of
 * spec->keys[i], or NULL. A file is read whole (at most 4 KiB, trailing
 * white space dropped); a credential is a file in
 * $CREDENTIALS_DIRECTORY, or in VALUE_CREDENTIALS_FALLBACK when that
 * is not set; an inline one is a warning.
 *
 * Returns 0 and sets nothing when no source is given. Reports more
 * than one source (at the one written last), an unreadable source, an
 * empty value, and white space unless spec allows it. On success fills
 * *ret_secret (value, fingerprint, source), and, where not NULL,
 * *ret_node with the node it came from and *ret_origin with a phrase
 * for the caller's own messages ("environment variable X"; the caller
 * frees it). No message carries the value.
 */
int value_secret(struct loader *ld, struct ynode *const *values,
		 const char *section, const struct value_secret_spec *spec,
		 struct config_secret *ret_secret,
		 const struct ynode **ret_node, char **ret_origin);

/* Wipes and frees the value; accepts NULL and an unset secret. */
void value_release_secret(struct config_secret *secret);

#endif
