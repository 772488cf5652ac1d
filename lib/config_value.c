/*
 * config_value: scalar values and secrets read from the configuration
 * tree (see config_value.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config_value.h"
#include "timeutil.h"
#include "util.h"

#define SECRET_MAX 4096 /* bytes in a key file */

static const char *const severity_names[] = {"critical", "error", "warning",
					     "info"};

void value_set_text(char **field, char *value)
{
	if (!value)
		return;
	free(*field);
	*field = value;
}

int value_text(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, char **ret_text)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char *copy;

	if (!text)
		return -EINVAL;
	copy = tree_strdup(ld, text);
	if (!copy)
		return -ENOMEM;
	*ret_text = copy;
	return 0;
}

int value_bool(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, bool *ret_value)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char label[LABEL_MAX];

	if (!text)
		return -EINVAL;
	if (!strcmp(text, "true") || !strcmp(text, "false")) {
		*ret_value = text[0] == 't';
		return 0;
	}

	tree_label_of(label, key, section);
	tree_report(ld, node, "write true or false",
		    "%s must be true or false, not '%s'", label, text);
	return -EINVAL;
}

int value_uint(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, unsigned long min, unsigned long max,
	       unsigned long *ret_value)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	unsigned long value = 0;
	char label[LABEL_MAX], hint[HINT_MAX];
	bool ok;

	if (!text)
		return -EINVAL;

	ok = text[0] != '\0' && strlen(text) <= 9;
	for (const char *p = text; ok && *p; p++) {
		ok = isdigit((unsigned char)*p);
		value = value * 10 + (unsigned long)(*p - '0');
	}
	if (ok && value >= min && value <= max) {
		*ret_value = value;
		return 0;
	}

	tree_label_of(label, key, section);
	snprintf(hint, sizeof(hint), "a whole number from %lu to %lu", min,
		 max);
	tree_report(ld, node, hint, "%s: '%s' is not a number in range", label,
		    text);
	return -EINVAL;
}

/* "90s", "5m": the largest unit that divides ms exactly. */
void value_format_duration(int64_t ms, char out[32])
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", DAY_MS},
		     {"h", HOUR_MS},
		     {"m", MINUTE_MS},
		     {"s", SECOND_MS},
		     {"ms", 1}};

	/* Every unit divides 0: say it in the plainest one. */
	if (ms == 0) {
		snprintf(out, 32, "0s");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(out, 32, "%lld%s",
				 (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
}

int value_duration(struct loader *ld, const struct ynode *node, const char *key,
		   const char *section, int64_t min, int64_t max,
		   int64_t *ret_ms)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX], low[32], high[32];
	int64_t ms;
	int r;

	if (!text)
		return -EINVAL;
	tree_label_of(label, key, section);
	value_format_duration(min, low);
	value_format_duration(max, high);

	r = timeutil_parse_duration(text, &ms);
	if (r == -EINVAL) {
		tree_report(
			ld, node,
			"a whole number with ms, s, m, h or d, such as 30s or "
			"2h",
			"%s: '%s' is not a duration", label, text);
		return r;
	}
	if (r < 0 || ms < min || ms > max) {
		snprintf(hint, sizeof(hint), "from %s to %s", low, high);
		tree_report(ld, node, hint, "%s: %s is out of range", label,
			    text);
		return -ERANGE;
	}

	*ret_ms = ms;
	return 0;
}

/* Sizes: a whole number of bytes, or with B, KiB or MiB after it. */
int value_size(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, size_t min, size_t max, size_t *ret_bytes)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX];
	unsigned long long value;
	const char *unit;
	size_t multiplier;
	char *end;

	if (!text)
		return -EINVAL;
	tree_label_of(label, key, section);

	errno = 0;
	value = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
	unit = isdigit((unsigned char)text[0]) ? end : text;
	if (*unit == ' ')
		unit++;
	if (!strcmp(unit, "") || !strcmp(unit, "B"))
		multiplier = 1;
	else if (!strcmp(unit, "KiB"))
		multiplier = KIB;
	else if (!strcmp(unit, "MiB"))
		multiplier = MIB;
	else
		multiplier = 0;

	if (!isdigit((unsigned char)text[0]) || errno || multiplier == 0) {
		tree_report(ld, node,
			    "a whole number with KiB or MiB, such as 512KiB",
			    "%s: '%s' is not a size", label, text);
		return -EINVAL;
	}
	if (value > max / multiplier || value * multiplier < min) {
		snprintf(hint, sizeof(hint), "from %zuKiB to %zuMiB", min / KIB,
			 max / MIB);
		tree_report(ld, node, hint, "%s: %s is out of range", label,
			    text);
		return -ERANGE;
	}

	*ret_bytes = (size_t)(value * multiplier);
	return 0;
}

int value_severity(struct loader *ld, const struct ynode *node, const char *key,
		   const char *section, char **ret)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX];

	if (!text)
		return -EINVAL;
	if (!CONFIG_SEVERITY_VALID(text))
		goto invalid;
	*ret = tree_strdup(ld, text);
	return *ret ? 0 : -ENOMEM;

invalid:
	tree_label_of(label, key, section);
	tree_report(ld, node,
		    tree_hint_names(hint, text, severity_names,
				    ARRAY_SIZE(severity_names),
				    "PagerDuty's severities are"),
		    "%s: '%s' is not a PagerDuty severity", label, text);
	return -EINVAL;
}

/* A path, made absolute against the configuration's directory. */
int value_path(struct loader *ld, const struct ynode *node, const char *key,
	       const char *section, char **ret_path)
{
	const char *text = tree_scalar_text(ld, node, key, section);
	char *path;

	if (!text)
		return -EINVAL;

	if (text[0] == '/') {
		path = strdup(text);
	} else {
		if (!strncmp(text, "./", 2))
			text += 2;
		if (asprintf(&path, "%s/%s", ld->base_dir, text) < 0)
			path = NULL;
	}
	if (!path) {
		ld->oom = true;
		return -ENOMEM;
	}

	*ret_path = path;
	return 0;
}

/* A single value or a list of them. */
size_t value_count(const struct ynode *node)
{
	return node->type == YNODE_LIST ? node->n : 1;
}

const struct ynode *value_item(const struct ynode *node, size_t i)
{
	return node->type == YNODE_LIST ? node->items[i] : node;
}

bool value_expect_list(struct loader *ld, const struct ynode *node,
		       const char *key, const char *section)
{
	char label[LABEL_MAX];

	if (node->type == YNODE_LIST && node->n > 0)
		return true;
	if (node->type == YNODE_SCALAR)
		return !!tree_scalar_text(ld, node, key, section);

	tree_label_of(label, key, section);
	if (node->type == YNODE_LIST)
		tree_report(ld, node, "remove the key to match anything",
			    "%s is an empty list, which matches nothing",
			    label);
	else
		tree_report(ld, node, "write one value or a list [a, b]",
			    "%s must be a value or a list, not a map", label);
	return false;
}

void value_globs(struct loader *ld, const struct ynode *node, const char *key,
		 const char *section, struct config_globs *globs)
{
	size_t n;

	if (!value_expect_list(ld, node, key, section))
		return;

	n = value_count(node);
	globs->v = calloc(n, sizeof(*globs->v));
	if (!globs->v) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *text;

		if (value_text(ld, value_item(node, i), key, section, &text) ==
		    0)
			globs->v[globs->n++] = text;
	}
}

/*
 * Reads a secret from a file (a key file or a systemd credential): the
 * whole file, less trailing white space (the newline editors add).
 */
static int read_secret_file(struct loader *ld, const struct ynode *node,
			    const char *path,
			    const struct value_secret_spec *spec,
			    char **ret_value)
{
	char *data;
	size_t len;
	int r;

	r = util_read_file(path, SECRET_MAX, &data, &len);
	if (r == -ENOMEM) {
		ld->oom = true;
		return r;
	}
	if (r == -EFBIG) {
		tree_report(ld, node, "the file should hold the secret alone",
			    "'%s' holding the %s of %s is larger than %d KiB",
			    path, spec->noun, spec->owner, SECRET_MAX / 1024);
		return r;
	}
	if (r < 0) {
		tree_report(ld, node, "check the path and its permissions",
			    "cannot read the %s of %s from '%s': %s",
			    spec->noun, spec->owner, path, strerror(-r));
		return r;
	}

	if (strlen(data) != len) {
		tree_report(ld, node, "the file should hold the secret alone",
			    "'%s' holding the %s of %s contains a NUL byte",
			    path, spec->noun, spec->owner);
		explicit_bzero(data, len);
		free(data);
		return -EINVAL;
	}

	util_rstrip(data);
	*ret_value = data;
	return 0;
}

/* The origin of a secret from a file is the file's absolute path. */
static int secret_from_file(struct loader *ld, const struct ynode *node,
			    const char *key, const char *section,
			    const struct value_secret_spec *spec,
			    char **ret_value, char **ret_origin)
{
	char *path, *value;
	int r;

	r = value_path(ld, node, key, section, &path);
	if (r < 0)
		return r;

	r = read_secret_file(ld, node, path, spec, &value);
	if (r < 0) {
		free(path);
		return r;
	}
	*ret_value = value;
	*ret_origin = path;
	return 0;
}

static bool env_name_valid(const char *name)
{
	if (!isalpha((unsigned char)name[0]) && name[0] != '_')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return false;
	return true;
}

static int secret_from_env(struct loader *ld, const struct ynode *node,
			   const char *name,
			   const struct value_secret_spec *spec,
			   char **ret_value, char **ret_origin)
{
	const char *value;
	char *copy, *origin;

	if (!env_name_valid(name)) {
		tree_report(ld, node, "letters, digits and '_'",
			    "'%s' is not an environment variable name", name);
		return -EINVAL;
	}
	value = getenv(name);
	if (!value) {
		tree_report(ld, node, "export it in the service's environment",
			    "environment variable %s for the %s of %s is not "
			    "set",
			    name, spec->noun, spec->owner);
		return -EINVAL;
	}

	copy = strdup(value);
	if (!copy || asprintf(&origin, "environment variable %s", name) < 0) {
		free(copy);
		ld->oom = true;
		return -ENOMEM;
	}
	*ret_value = copy;
	*ret_origin = origin;
	return 0;
}

static int secret_from_credential(struct loader *ld, const struct ynode *node,
				  const char *name,
				  const struct value_secret_spec *spec,
				  char **ret_value, char **ret_origin)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char *path, *value, *origin;
	int r;

	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		tree_report(ld, node, "the name given to LoadCredential=",
			    "'%s' is not a credential name", name);
		return -EINVAL;
	}

	/*
	 * Outside the unit (check-config, send-test run by an operator)
	 * the files that LoadCredential= would copy are read where the
	 * packaged unit takes them from.
	 */
	if (!dir) {
		dir = VALUE_CREDENTIALS_FALLBACK;
		if (asprintf(&path, "%s/%s", dir, name) < 0) {
			ld->oom = true;
			return -ENOMEM;
		}
		if (access(path, R_OK) != 0) {
			tree_report(ld, node,
				    "systemd sets $CREDENTIALS_DIRECTORY for "
				    "units with LoadCredential=",
				    "credential %s for the %s of %s: "
				    "$CREDENTIALS_DIRECTORY is not set and "
				    "'%s' cannot be read",
				    name, spec->noun, spec->owner, path);
			free(path);
			return -EINVAL;
		}
		free(path);
	}

	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		ld->oom = true;
		return -ENOMEM;
	}
	r = read_secret_file(ld, node, path, spec, &value);
	free(path);
	if (r < 0)
		return r;

	if (asprintf(&origin, "credential %s", name) < 0) {
		explicit_bzero(value, strlen(value));
		free(value);
		ld->oom = true;
		return -ENOMEM;
	}
	*ret_value = value;
	*ret_origin = origin;
	return 0;
}

/*
 * Fetches the secret from its source. Messages name the source, never
 * the secret: they go to logs and terminals.
 */
static int secret_fetch(struct loader *ld, enum value_source source,
			const struct ynode *node, const char *section,
			const struct value_secret_spec *spec, char **ret_value,
			char **ret_origin)
{
	const char *key = spec->keys[source];
	char hint[HINT_MAX];
	char *value, *origin;
	const char *text;

	if (source == VALUE_SOURCE_FILE)
		return secret_from_file(ld, node, key, section, spec, ret_value,
					ret_origin);

	text = tree_scalar_text(ld, node, key, section);
	if (!text)
		return -EINVAL;
	if (source == VALUE_SOURCE_ENV)
		return secret_from_env(ld, node, text, spec, ret_value,
				       ret_origin);
	if (source == VALUE_SOURCE_CREDENTIAL)
		return secret_from_credential(ld, node, text, spec, ret_value,
					      ret_origin);

	value = strdup(text);
	origin = strdup("the configuration");
	if (!value || !origin) {
		free(value);
		free(origin);
		ld->oom = true;
		return -ENOMEM;
	}
	snprintf(hint, sizeof(hint), "keep it in %s, %s or %s",
		 spec->keys[VALUE_SOURCE_FILE], spec->keys[VALUE_SOURCE_ENV],
		 spec->keys[VALUE_SOURCE_CREDENTIAL]);
	tree_warn(ld, node, hint,
		  "the %s of %s is written into the configuration", spec->noun,
		  spec->owner);
	*ret_value = value;
	*ret_origin = origin;
	return 0;
}

/* An empty secret is an error; so is white space, unless allowed. */
static bool secret_check(struct loader *ld, const struct ynode *node,
			 const char *value, const char *origin,
			 const struct value_secret_spec *spec)
{
	char hint[HINT_MAX];

	if (value[0] == '\0') {
		snprintf(hint, sizeof(hint), "put the %s there", spec->noun);
		tree_report(ld, node, hint, "the %s of %s from %s is empty",
			    spec->noun, spec->owner, origin);
		return false;
	}
	if (spec->allow_space)
		return true;

	for (const char *p = value; *p; p++) {
		if (!isspace((unsigned char)*p))
			continue;
		snprintf(hint, sizeof(hint),
			 "remove the white space around the %s", spec->noun);
		tree_report(ld, node, hint,
			    "the %s of %s from %s contains white space",
			    spec->noun, spec->owner, origin);
		return false;
	}
	return true;
}

/* The one source given, else the one written last; -ENOENT for none. */
static int secret_source(struct ynode *const *values, size_t *ret_given,
			 enum value_source *ret_source)
{
	size_t given = 0, source = 0;

	for (size_t i = 0; i < VALUE_SOURCE_COUNT; i++) {
		if (!values[i])
			continue;
		if (given++ == 0 || values[i]->line > values[source]->line ||
		    (values[i]->line == values[source]->line &&
		     values[i]->column > values[source]->column))
			source = i;
	}
	if (given == 0)
		return -ENOENT;

	*ret_given = given;
	*ret_source = (enum value_source)source;
	return 0;
}

int value_secret(struct loader *ld, struct ynode *const *values,
		 const char *section, const struct value_secret_spec *spec,
		 struct config_secret *ret_secret,
		 const struct ynode **ret_node, char **ret_origin)
{
	static const char *const source_names[VALUE_SOURCE_COUNT] = {
		[VALUE_SOURCE_FILE] = "file",
		[VALUE_SOURCE_ENV] = "env",
		[VALUE_SOURCE_CREDENTIAL] = "credential",
		[VALUE_SOURCE_INLINE] = "inline",
	};
	enum value_source source;
	char *value = NULL, *origin = NULL, *name = NULL;
	char hint[HINT_MAX];
	size_t given;
	int r;

	if (secret_source(values, &given, &source) < 0)
		return 0;
	if (given > 1) {
		snprintf(hint, sizeof(hint),
			 "keep exactly one of %s, %s, %s and %s", spec->keys[0],
			 spec->keys[1], spec->keys[2], spec->keys[3]);
		tree_report(ld, values[source], hint, "%s has more than one %s",
			    spec->owner, spec->noun);
		return -EINVAL;
	}

	r = secret_fetch(ld, source, values[source], section, spec, &value,
			 &origin);
	if (r < 0)
		return r;
	if (!secret_check(ld, values[source], value, origin, spec)) {
		r = -EINVAL;
		goto out;
	}
	name = strdup(source_names[source]);
	if (!name) {
		ld->oom = true;
		r = -ENOMEM;
		goto out;
	}

	ret_secret->value = value;
	ret_secret->source = name;
	util_fingerprint(value, ret_secret->fingerprint);
	value = NULL;
	if (ret_node)
		*ret_node = values[source];
	if (ret_origin) {
		*ret_origin = origin;
		origin = NULL;
	}
out:
	if (value) {
		explicit_bzero(value, strlen(value));
		free(value);
	}
	free(origin);
	return r;
}

void value_release_secret(struct config_secret *secret)
{
	if (!secret)
		return;

	/* Secrets leave no copy in freed memory. */
	if (secret->value)
		explicit_bzero(secret->value, strlen(secret->value));
	free(secret->value);
	free(secret->source);
	secret->value = NULL;
	secret->source = NULL;
}

void value_release_globs(struct config_globs *globs)
{
	for (size_t i = 0; i < globs->n; i++)
		free(globs->v[i]);
	free(globs->v);
}
