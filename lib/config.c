/*
 * config: the YAML configuration (see config.h).
 *
 * libyaml's event parser builds a small tree of maps, lists and scalars,
 * each with the position it started at; the walker below checks that
 * tree against the schema and fills a struct config. Each problem is
 * recorded with its position and the walk goes on, so that one run lists
 * them all. Only a YAML syntax error stops early: libyaml cannot resume
 * after one.
 *
 * Inheritance: a route without severity, severity_bands, template,
 * environment or insufficient_data takes default_route's; default_route
 * without environment takes the top-level one. Relative paths are
 * resolved against the directory of the configuration file.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "config.h"
#include "render.h"
#include "timeutil.h"
#include "util.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define YAML_DEPTH_MAX  64
#define YAML_NODES_MAX  100000
#define DIAGS_MAX       200
#define ROUTING_KEY_MAX 4096
#define NAME_MAX_LEN    64
#define LABEL_MAX       160

/*
 * "what of section", for messages. A label longer than LABEL_MAX is cut:
 * it only names a place the error position already pins down.
 */
static void format_label(char out[LABEL_MAX], const char *what,
			 const char *section)
{
	if (snprintf(out, LABEL_MAX, "%s of %s", what, section) >= LABEL_MAX)
		out[LABEL_MAX - 1] = '\0';
}
#define HINT_MAX           320
#define PAGERDUTY_KEY_LEN  32
#define DEFAULT_EVENTS_URL "https://events.pagerduty.com/v2/enqueue"

#define SECOND_MS (1000LL)
#define MINUTE_MS (60 * SECOND_MS)
#define HOUR_MS   (60 * MINUTE_MS)
#define DAY_MS    (24 * HOUR_MS)
#define KIB       ((size_t)1024)
#define MIB       (1024 * KIB)

static const char *const band_names[CONFIG_BAND_COUNT] = {
	[CONFIG_BAND_LOW] = "low",
	[CONFIG_BAND_MEDIUM] = "medium",
	[CONFIG_BAND_HIGH] = "high",
	[CONFIG_BAND_CRITICAL] = "critical",
};

static const char *const default_band_severity[CONFIG_BAND_COUNT] = {
	[CONFIG_BAND_LOW] = "info",
	[CONFIG_BAND_MEDIUM] = "warning",
	[CONFIG_BAND_HIGH] = "error",
	[CONFIG_BAND_CRITICAL] = "critical",
};

static const char *const severity_names[] = {"critical", "error", "warning",
					     "info"};

void config_diags_release(struct config_diags *diags)
{
	if (!diags)
		return;

	for (size_t i = 0; i < diags->n; i++) {
		free(diags->v[i].file);
		free(diags->v[i].message);
		free(diags->v[i].hint);
	}
	free(diags->v);
	diags->v = NULL;
	diags->n = 0;
}

void config_diags_print(const struct config_diags *diags, const char *prefix,
			FILE *out)
{
	for (size_t i = 0; diags && i < diags->n; i++) {
		const struct config_diag *d = &diags->v[i];

		fprintf(out, "%s:%d:%d: %s: %s", d->file, d->line, d->column,
			prefix, d->message);
		if (d->hint)
			fprintf(out, " (%s)", d->hint);
		fputc('\n', out);
	}
}

/* Takes message over; copies file and hint. */
static int diags_add(struct config_diags *diags, const char *file, int line,
		     int column, char *message, const char *hint)
{
	struct config_diag *v;
	struct config_diag d = {
		.line = line,
		.column = column,
		.message = message,
	};

	d.file = strdup(file);
	d.hint = util_strdup_or_null(hint);
	v = realloc(diags->v, (diags->n + 1) * sizeof(*v));
	if (!d.file || (hint && !d.hint) || !v) {
		free(d.file);
		free(d.hint);
		free(message);
		if (v)
			diags->v = v;
		return -ENOMEM;
	}

	diags->v = v;
	diags->v[diags->n++] = d;
	return 0;
}

/* The parsed YAML: a tree of nodes that remember where they began. */
enum ynode_type {
	YNODE_SCALAR,
	YNODE_MAP,
	YNODE_LIST,
};

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

static void ynode_free(struct ynode *node)
{
	if (!node)
		return;

	for (size_t i = 0; i < node->n; i++)
		ynode_free(node->items[i]);
	free(node->items);
	free(node->text);
	free(node);
}

static int ynode_append(struct ynode *parent, struct ynode *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **items;

		items = realloc(parent->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}

	parent->items[parent->n++] = child;
	return 0;
}

struct loader {
	const char *file;
	char *base_dir;
	struct config *config;
	struct config_diags *errors;
	size_t n_errors;
	bool oom;
};

static void vreport(struct loader *ld, struct config_diags *to, int line,
		    int column, const char *hint, const char *fmt, va_list ap)
{
	char *message = NULL;

	if (to == ld->errors) {
		if (ld->n_errors >= DIAGS_MAX)
			return;
		ld->n_errors++;
	}

	if (to == ld->errors && ld->n_errors == DIAGS_MAX) {
		hint = "fix these and run the check again";
		message = strdup("too many errors; the rest are not listed");
	} else if (vasprintf(&message, fmt, ap) < 0) {
		message = NULL;
	}
	if (!message || diags_add(to, ld->file, line, column, message, hint))
		ld->oom = true;
}

static void __attribute__((format(printf, 5, 6)))
report_at(struct loader *ld, int line, int column, const char *hint,
	  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, ld->errors, line, column, hint, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
report(struct loader *ld, const struct ynode *node, const char *hint,
       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, ld->errors, node->line, node->column, hint, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 4, 5)))
warn(struct loader *ld, const struct ynode *node, const char *hint,
     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, &ld->config->warnings, node->line, node->column, hint, fmt,
		ap);
	va_end(ap);
}

static char *dup_or_oom(struct loader *ld, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		ld->oom = true;
	return copy;
}

static void set_text(char **field, char *value)
{
	if (!value)
		return;
	free(*field);
	*field = value;
}

/* Count of UTF-8 characters in the first len bytes of s. */
static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/* Edit distance of two short words, for "did you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[NAME_MAX_LEN + 1];

	if (la > NAME_MAX_LEN || lb > NAME_MAX_LEN)
		return SIZE_MAX;

	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);

			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/* The closest of names (NULL entries skipped), if it is close enough. */
static const char *suggest(const char *word, const char *const *names, size_t n)
{
	size_t best = SIZE_MAX, limit = strlen(word) / 3 + 1;
	const char *found = NULL;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!names[i])
			continue;
		d = edit_distance(word, names[i]);
		if (d <= limit && d < best) {
			best = d;
			found = names[i];
		}
	}
	return found;
}

/* "did you mean 'x'?", or intro and the names, into hint. */
static const char *hint_names(char hint[HINT_MAX], const char *word,
			      const char *const *names, size_t n,
			      const char *intro)
{
	const char *close = suggest(word, names, n);
	size_t used;

	if (close) {
		snprintf(hint, HINT_MAX, "did you mean '%s'?", close);
		return hint;
	}

	used = (size_t)snprintf(hint, HINT_MAX, "%s", intro);
	for (size_t i = 0; i < n && used < HINT_MAX; i++) {
		if (!names[i])
			continue;
		used += (size_t)snprintf(hint + used, HINT_MAX - used, "%s%s",
					 used > strlen(intro) ? ", " : " ",
					 names[i]);
	}
	return hint;
}

static void label_of(char out[LABEL_MAX], const char *key, const char *section)
{
	if (section)
		snprintf(out, LABEL_MAX, "'%s' in %s", key, section);
	else
		snprintf(out, LABEL_MAX, "'%s'", key);
}

/* Line and column of a byte offset, for libyaml's reader errors. */
static void position_of(const char *text, size_t len, size_t offset,
			int *ret_line, int *ret_column)
{
	size_t line_start = 0;
	int line = 1;

	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	*ret_line = line;
	*ret_column =
		(int)utf8_chars(text + line_start, offset - line_start) + 1;
}

/* The byte at a 0-based line and character column, or NUL. */
static char char_at(const char *text, size_t len, size_t line, size_t column)
{
	size_t i = 0;

	for (; i < len && line > 0; i++)
		if (text[i] == '\n')
			line--;
	for (; i < len && text[i] != '\n'; i++) {
		if (((unsigned char)text[i] & 0xc0) == 0x80)
			continue;
		if (column-- == 0)
			return text[i];
	}
	return '\0';
}

static int report_syntax(struct loader *ld, const yaml_parser_t *parser,
			 const char *text, size_t len)
{
	const char *problem = parser->problem ? parser->problem : "bad YAML";
	char hint[HINT_MAX];
	int line, column;

	if (parser->error == YAML_MEMORY_ERROR)
		return -ENOMEM;

	if (parser->error == YAML_READER_ERROR) {
		position_of(text, len, parser->problem_offset, &line, &column);
		report_at(ld, line, column,
			  "the file must be UTF-8 text without control "
			  "characters",
			  "%s", problem);
		return -EINVAL;
	}

	if (char_at(text, len, parser->problem_mark.line,
		    parser->problem_mark.column) == '\t')
		snprintf(hint, sizeof(hint),
			 "YAML indents with spaces, not tabs");
	else if (parser->context)
		snprintf(hint, sizeof(hint),
			 "%s at line %zu, column %zu: check the quotes and "
			 "indentation there",
			 parser->context, parser->context_mark.line + 1,
			 parser->context_mark.column + 1);
	else
		snprintf(hint, sizeof(hint),
			 "check the quotes and indentation here");
	report_at(ld, (int)parser->problem_mark.line + 1,
		  (int)parser->problem_mark.column + 1, hint,
		  "YAML syntax error: %s", problem);
	return -EINVAL;
}

/* A node for a scalar, alias or collection start; NULL for the rest. */
static int node_from_event(struct loader *ld, const yaml_event_t *event,
			   struct ynode **ret_node)
{
	struct ynode *node;

	*ret_node = NULL;
	if (event->type != YAML_SCALAR_EVENT &&
	    event->type != YAML_ALIAS_EVENT &&
	    event->type != YAML_MAPPING_START_EVENT &&
	    event->type != YAML_SEQUENCE_START_EVENT)
		return 0;

	node = calloc(1, sizeof(*node));
	if (!node)
		return -ENOMEM;
	node->line = (int)event->start_mark.line + 1;
	node->column = (int)event->start_mark.column + 1;
	node->end_line = (int)event->end_mark.line + 1;
	node->end_column = (int)event->end_mark.column + 1;

	if (event->type == YAML_MAPPING_START_EVENT) {
		node->type = YNODE_MAP;
	} else if (event->type == YAML_SEQUENCE_START_EVENT) {
		node->type = YNODE_LIST;
	} else if (event->type == YAML_ALIAS_EVENT) {
		node->type = YNODE_SCALAR;
		node->skip = true;
		node->text = strdup("");
		report(ld, node, "repeat the value instead",
		       "aliases (*%s) are not supported",
		       (const char *)event->data.alias.anchor);
	} else {
		node->type = YNODE_SCALAR;
		node->style = event->data.scalar.style;
		node->len = event->data.scalar.length;
		node->text = strndup((const char *)event->data.scalar.value,
				     node->len);
		if (node->text && strlen(node->text) != node->len) {
			node->skip = true;
			report(ld, node, "remove the \\0 escape",
			       "text contains a NUL character");
		}
	}

	if (node->type == YNODE_SCALAR && !node->text) {
		free(node);
		return -ENOMEM;
	}
	*ret_node = node;
	return 0;
}

struct tree_builder {
	struct ynode *stack[YAML_DEPTH_MAX]; /* the open maps and lists */
	size_t depth;
	size_t count;
	unsigned int documents;
	struct ynode *root;
};

static int tree_take(struct loader *ld, struct tree_builder *builder,
		     const yaml_event_t *event)
{
	struct ynode *node;
	int r;

	if (event->type == YAML_DOCUMENT_START_EVENT &&
	    ++builder->documents > 1) {
		report_at(ld, (int)event->start_mark.line + 1,
			  (int)event->start_mark.column + 1,
			  "remove the '---' and everything after it",
			  "a second YAML document; the configuration is one");
		return -EINVAL;
	}
	if ((event->type == YAML_MAPPING_END_EVENT ||
	     event->type == YAML_SEQUENCE_END_EVENT) &&
	    builder->depth > 0)
		builder->depth--;

	r = node_from_event(ld, event, &node);
	if (r < 0 || !node)
		return r;

	if (++builder->count > YAML_NODES_MAX) {
		report(ld, node, "split it up or simplify it",
		       "the configuration is too large");
		r = -EINVAL;
	} else if (builder->depth == YAML_DEPTH_MAX) {
		report(ld, node, "simplify it",
		       "the configuration is nested "
		       "too deeply");
		r = -EINVAL;
	} else if (builder->depth > 0) {
		r = ynode_append(builder->stack[builder->depth - 1], node);
	} else {
		builder->root = node;
	}
	if (r < 0) {
		ynode_free(node);
		return r;
	}

	if (node->type != YNODE_SCALAR)
		builder->stack[builder->depth++] = node;
	return 0;
}

/*
 * Builds the tree. Returns -EINVAL after reporting a syntax error (and
 * then no tree), 0 with *ret_root NULL for an empty stream.
 */
static int tree_build(struct loader *ld, const char *text, size_t len,
		      struct ynode **ret_root)
{
	struct tree_builder builder = {0};
	yaml_parser_t parser;
	yaml_event_t event;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			r = report_syntax(ld, &parser, text, len);
			goto out;
		}

		done = event.type == YAML_STREAM_END_EVENT;
		r = tree_take(ld, &builder, &event);
		yaml_event_delete(&event);
		if (r < 0)
			goto out;
	}

	*ret_root = builder.root;
	builder.root = NULL;
out:
	yaml_parser_delete(&parser);
	ynode_free(builder.root);
	return r;
}

static bool scalar_is_null(const struct ynode *node)
{
	if (node->type != YNODE_SCALAR ||
	    node->style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return node->len == 0 || !strcmp(node->text, "~") ||
	       !strcmp(node->text, "null") || !strcmp(node->text, "Null") ||
	       !strcmp(node->text, "NULL");
}

static const char *node_kind(const struct ynode *node)
{
	if (node->type == YNODE_MAP)
		return "a map";
	if (node->type == YNODE_LIST)
		return "a list";
	if (scalar_is_null(node))
		return "empty";
	return "text";
}

/* Reports a node of the wrong type; true when the type is right. */
static bool expect_type(struct loader *ld, const struct ynode *node,
			enum ynode_type type, const char *key,
			const char *section)
{
	static const char *const wanted[] = {
		[YNODE_SCALAR] = "a single value",
		[YNODE_MAP] = "a map",
		[YNODE_LIST] = "a list",
	};
	static const char *const hints[] = {
		[YNODE_SCALAR] = "write one value after the colon",
		[YNODE_MAP] = "indent 'key: value' lines under it, or write "
			      "{key: value}",
		[YNODE_LIST] = "write [a, b] or indented '- item' lines",
	};
	char label[LABEL_MAX];

	if (node->skip)
		return false;
	if (node->type == type &&
	    !(type == YNODE_SCALAR && scalar_is_null(node)))
		return true;

	label_of(label, key, section);
	if (type == YNODE_SCALAR && scalar_is_null(node))
		report(ld, node, "give a value or remove the key",
		       "%s has no value", label);
	else
		report(ld, node, hints[type], "%s must be %s, not %s", label,
		       wanted[type], node_kind(node));
	return false;
}

/* A scalar's text (borrowed), or NULL after reporting why not. */
static const char *scalar_text(struct loader *ld, const struct ynode *node,
			       const char *key, const char *section)
{
	char label[LABEL_MAX];

	if (!expect_type(ld, node, YNODE_SCALAR, key, section))
		return NULL;

	if (node->len == 0) {
		label_of(label, key, section);
		report(ld, node, "give a value or remove the key",
		       "%s is empty", label);
		return NULL;
	}
	return node->text;
}

static int get_text(struct loader *ld, const struct ynode *node,
		    const char *key, const char *section, char **ret_text)
{
	const char *text = scalar_text(ld, node, key, section);
	char *copy;

	if (!text)
		return -EINVAL;
	copy = dup_or_oom(ld, text);
	if (!copy)
		return -ENOMEM;
	*ret_text = copy;
	return 0;
}

static int get_bool(struct loader *ld, const struct ynode *node,
		    const char *key, const char *section, bool *ret_value)
{
	const char *text = scalar_text(ld, node, key, section);
	char label[LABEL_MAX];

	if (!text)
		return -EINVAL;
	if (!strcmp(text, "true") || !strcmp(text, "false")) {
		*ret_value = text[0] == 't';
		return 0;
	}

	label_of(label, key, section);
	report(ld, node, "write true or false",
	       "%s must be true or false, not '%s'", label, text);
	return -EINVAL;
}

static int get_uint(struct loader *ld, const struct ynode *node,
		    const char *key, const char *section, unsigned long min,
		    unsigned long max, unsigned long *ret_value)
{
	const char *text = scalar_text(ld, node, key, section);
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

	label_of(label, key, section);
	snprintf(hint, sizeof(hint), "a whole number from %lu to %lu", min,
		 max);
	report(ld, node, hint, "%s: '%s' is not a number in range", label,
	       text);
	return -EINVAL;
}

/* "90s", "5m": the largest unit that divides ms exactly. */
static void format_duration(int64_t ms, char out[32])
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", DAY_MS},
		     {"h", HOUR_MS},
		     {"m", MINUTE_MS},
		     {"s", SECOND_MS},
		     {"ms", 1}};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (ms % units[i].ms == 0) {
			snprintf(out, 32, "%lld%s",
				 (long long)(ms / units[i].ms), units[i].unit);
			return;
		}
	}
}

static int get_duration(struct loader *ld, const struct ynode *node,
			const char *key, const char *section, int64_t min,
			int64_t max, int64_t *ret_ms)
{
	const char *text = scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX], low[32], high[32];
	int64_t ms;
	int r;

	if (!text)
		return -EINVAL;
	label_of(label, key, section);
	format_duration(min, low);
	format_duration(max, high);

	r = timeutil_parse_duration(text, &ms);
	if (r == -EINVAL) {
		report(ld, node,
		       "a whole number with ms, s, m, h or d, such as 30s or "
		       "2h",
		       "%s: '%s' is not a duration", label, text);
		return r;
	}
	if (r < 0 || ms < min || ms > max) {
		snprintf(hint, sizeof(hint), "from %s to %s", low, high);
		report(ld, node, hint, "%s: %s is out of range", label, text);
		return -ERANGE;
	}

	*ret_ms = ms;
	return 0;
}

/* Sizes: a whole number of bytes, or with B, KiB or MiB after it. */
static int get_size(struct loader *ld, const struct ynode *node,
		    const char *key, const char *section, size_t min,
		    size_t max, size_t *ret_bytes)
{
	const char *text = scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX];
	unsigned long long value;
	const char *unit;
	size_t multiplier;
	char *end;

	if (!text)
		return -EINVAL;
	label_of(label, key, section);

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
		report(ld, node,
		       "a whole number with KiB or MiB, such as 512KiB",
		       "%s: '%s' is not a size", label, text);
		return -EINVAL;
	}
	if (value > max / multiplier || value * multiplier < min) {
		snprintf(hint, sizeof(hint), "from %zuKiB to %zuMiB", min / KIB,
			 max / MIB);
		report(ld, node, hint, "%s: %s is out of range", label, text);
		return -ERANGE;
	}

	*ret_bytes = (size_t)(value * multiplier);
	return 0;
}

static int get_severity(struct loader *ld, const struct ynode *node,
			const char *key, const char *section, char **ret)
{
	const char *text = scalar_text(ld, node, key, section);
	char label[LABEL_MAX], hint[HINT_MAX];

	if (!text)
		return -EINVAL;
	if (!CONFIG_SEVERITY_VALID(text))
		goto invalid;
	*ret = dup_or_oom(ld, text);
	return *ret ? 0 : -ENOMEM;

invalid:
	label_of(label, key, section);
	report(ld, node,
	       hint_names(hint, text, severity_names,
			  ARRAY_SIZE(severity_names),
			  "PagerDuty's severities are"),
	       "%s: '%s' is not a PagerDuty severity", label, text);
	return -EINVAL;
}

/* A path, made absolute against the configuration's directory. */
static int get_path(struct loader *ld, const struct ynode *node,
		    const char *key, const char *section, char **ret_path)
{
	const char *text = scalar_text(ld, node, key, section);
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
static size_t values_count(const struct ynode *node)
{
	return node->type == YNODE_LIST ? node->n : 1;
}

static const struct ynode *values_item(const struct ynode *node, size_t i)
{
	return node->type == YNODE_LIST ? node->items[i] : node;
}

static bool expect_values(struct loader *ld, const struct ynode *node,
			  const char *key, const char *section)
{
	char label[LABEL_MAX];

	if (node->type == YNODE_LIST && node->n > 0)
		return true;
	if (node->type == YNODE_SCALAR)
		return !!scalar_text(ld, node, key, section);

	label_of(label, key, section);
	if (node->type == YNODE_LIST)
		report(ld, node, "remove the key to match anything",
		       "%s is an empty list, which matches nothing", label);
	else
		report(ld, node, "write one value or a list [a, b]",
		       "%s must be a value or a list, not a map", label);
	return false;
}

static void get_globs(struct loader *ld, const struct ynode *node,
		      const char *key, const char *section,
		      struct config_globs *globs)
{
	size_t n;

	if (!expect_values(ld, node, key, section))
		return;

	n = values_count(node);
	globs->v = calloc(n, sizeof(*globs->v));
	if (!globs->v) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *text;

		if (get_text(ld, values_item(node, i), key, section, &text) ==
		    0)
			globs->v[globs->n++] = text;
	}
}

/* Names sorted to find duplicates in n log n, then back in file order. */
struct named {
	const char *name;
	struct ynode *node;
	size_t index;
	const struct ynode *first; /* set on a duplicate */
};

static int named_by_name(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

static int named_by_index(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

static void named_find_duplicates(struct named *v, size_t n)
{
	size_t start = 0;

	qsort(v, n, sizeof(*v), named_by_name);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(v[i].name, v[start].name))
			start = i;
		else
			v[i].first = v[start].node;
	}
	qsort(v, n, sizeof(*v), named_by_index);
}

/* Reports keys that are not text and duplicate keys, marking them skip. */
static void map_check_keys(struct loader *ld, struct ynode *map,
			   const char *section)
{
	size_t n = map->n / 2, m = 0;
	struct named *v;

	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		ld->oom = true;
		return;
	}

	for (size_t i = 0; i < n; i++) {
		struct ynode *key = map->items[2 * i];

		if (key->skip)
			continue;
		if (key->type != YNODE_SCALAR || scalar_is_null(key)) {
			report(ld, key, "write 'name: value'",
			       "a key in %s must be a name, not %s", section,
			       node_kind(key));
			key->skip = true;
			continue;
		}
		v[m++] = (struct named){
			.name = key->text, .node = key, .index = i};
	}

	named_find_duplicates(v, m);
	for (size_t i = 0; i < m; i++) {
		char hint[HINT_MAX];

		if (!v[i].first)
			continue;
		snprintf(hint, sizeof(hint),
			 "first given at line %d, column %d", v[i].first->line,
			 v[i].first->column);
		report(ld, v[i].node, hint, "duplicate key '%s' in %s",
		       v[i].name, section);
		v[i].node->skip = true;
	}
	free(v);
}

/*
 * Checks a map's keys against names (a NULL entry is a key not allowed
 * here) and fills values[i] with the value of names[i], or NULL.
 */
static void map_fields(struct loader *ld, struct ynode *map,
		       const char *section, const char *const *names,
		       size_t n_names, struct ynode **values)
{
	for (size_t i = 0; i < n_names; i++)
		values[i] = NULL;
	map_check_keys(ld, map, section);

	for (size_t i = 0; i + 1 < map->n; i += 2) {
		struct ynode *key = map->items[i];
		char hint[HINT_MAX];
		size_t j;

		if (key->skip)
			continue;
		for (j = 0; j < n_names; j++)
			if (names[j] && !strcmp(names[j], key->text))
				break;
		if (j < n_names) {
			values[j] = map->items[i + 1];
			continue;
		}

		report(ld, key,
		       hint_names(hint, key->text, names, n_names,
				  "the keys here are"),
		       "unknown key '%s' in %s", key->text, section);
	}
}

static bool require(struct loader *ld, const struct ynode *map,
		    const struct ynode *value, const char *key,
		    const char *section)
{
	char hint[HINT_MAX];

	if (value)
		return true;
	snprintf(hint, sizeof(hint), "add '%s:' to %s", key, section);
	report(ld, map, hint, "missing required key '%s' in %s", key, section);
	return false;
}

/* Names of targets, templates and routes: safe in key=value log lines. */
static bool name_check(struct loader *ld, const struct ynode *node,
		       const char *what)
{
	const char *p = node->text;

	if (node->len > NAME_MAX_LEN)
		goto invalid;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			goto invalid;
	return true;

invalid:
	report(ld, node, "use at most 64 letters, digits, '_', '-' and '.'",
	       "%s name '%s' is not valid", what, node->text);
	return false;
}

static int parse_listen(const char *text, char **ret_host, int *ret_port)
{
	const char *colon, *host_end, *host = text;
	unsigned char address[16];
	unsigned long port = 0;
	char *name;

	if (text[0] == '[') {
		host = text + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end[1] != ':')
			return -EINVAL;
		colon = host_end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || memchr(text, ':', (size_t)(colon - text)))
			return -EINVAL;
		host_end = colon;
	}
	if (host_end == host || strlen(colon + 1) < 1 || strlen(colon + 1) > 5)
		return -EINVAL;

	for (const char *p = colon + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535)
		return -EINVAL;

	name = strndup(host, (size_t)(host_end - host));
	if (!name)
		return -ENOMEM;
	if (text[0] == '[' ? inet_pton(AF_INET6, name, address) != 1
			   : strspn(name, "abcdefghijklmnopqrstuvwxyz"
					  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-") != strlen(name)) {
		free(name);
		return -EINVAL;
	}

	*ret_host = name;
	*ret_port = (int)port;
	return 0;
}

static void load_listen(struct loader *ld, const struct ynode *node)
{
	const char *text = scalar_text(ld, node, "listen", NULL);
	char *host;
	int port, r;

	if (!text)
		return;

	r = parse_listen(text, &host, &port);
	if (r == -ENOMEM) {
		ld->oom = true;
		return;
	}
	if (r < 0) {
		report(ld, node,
		       "write host:port, such as 127.0.0.1:8080 or [::1]:8080; "
		       "port 0 takes any free port",
		       "'listen': '%s' is not an address and port", text);
		return;
	}

	set_text(&ld->config->listen_host, host);
	ld->config->listen_port = port;
}

static void load_limits(struct loader *ld, struct ynode *node)
{
	enum { MAX_BODY, MAX_CONNECTIONS, CONNECTION_TIMEOUT, COUNT };
	static const char *const keys[COUNT] = {
		[MAX_BODY] = "max_body",
		[MAX_CONNECTIONS] = "max_connections",
		[CONNECTION_TIMEOUT] = "connection_timeout",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	unsigned long number;
	int64_t ms;

	if (!expect_type(ld, node, YNODE_MAP, "limits", NULL))
		return;
	map_fields(ld, node, "limits", keys, COUNT, v);

	/*
	 * SNS messages are at most 256 KiB; the envelope escapes them as a
	 * JSON string, which can grow them, hence 512 KiB by default.
	 */
	if (v[MAX_BODY])
		get_size(ld, v[MAX_BODY], "max_body", "limits", KIB, 4 * MIB,
			 &c->max_body_bytes);
	if (v[MAX_CONNECTIONS] &&
	    get_uint(ld, v[MAX_CONNECTIONS], "max_connections", "limits", 1,
		     10000, &number) == 0)
		c->max_connections = (unsigned int)number;
	if (v[CONNECTION_TIMEOUT] &&
	    get_duration(ld, v[CONNECTION_TIMEOUT], "connection_timeout",
			 "limits", SECOND_MS, 10 * MINUTE_MS, &ms) == 0) {
		if (ms % SECOND_MS)
			report(ld, v[CONNECTION_TIMEOUT],
			       "write it in whole seconds",
			       "'connection_timeout' in limits must be whole "
			       "seconds");
		else
			c->connection_timeout_s =
				(unsigned int)(ms / SECOND_MS);
	}
}

static void load_sns(struct loader *ld, struct ynode *node)
{
	enum { TOPICS, CERT_DIR, CERT_FETCH, REPLAY_WINDOW, COUNT };
	static const char *const keys[COUNT] = {
		[TOPICS] = "topics",
		[CERT_DIR] = "cert_dir",
		[CERT_FETCH] = "cert_fetch",
		[REPLAY_WINDOW] = "replay_window",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];

	if (!expect_type(ld, node, YNODE_MAP, "sns", NULL))
		return;
	map_fields(ld, node, "sns", keys, COUNT, v);

	if (require(ld, node, v[TOPICS], "topics", "sns")) {
		get_globs(ld, v[TOPICS], "topics", "sns", &c->topics);
		for (size_t i = 0; i < c->topics.n; i++) {
			if (!strncmp(c->topics.v[i], "arn:", 4))
				continue;
			report(ld, values_item(v[TOPICS], i),
			       "an SNS topic ARN such as arn:aws:sns:us-east-1:"
			       "123456789012:alerts, or a glob of one",
			       "'topics' in sns: '%s' is not a topic ARN",
			       c->topics.v[i]);
		}
	}
	if (v[CERT_DIR])
		get_path(ld, v[CERT_DIR], "cert_dir", "sns", &c->cert_dir);
	if (v[CERT_FETCH])
		get_bool(ld, v[CERT_FETCH], "cert_fetch", "sns",
			 &c->cert_fetch);

	/*
	 * SNS retries an HTTP/S delivery for up to an hour with the
	 * original Timestamp, so a shorter window would reject genuine
	 * retries as replays.
	 */
	if (v[REPLAY_WINDOW])
		get_duration(ld, v[REPLAY_WINDOW], "replay_window", "sns",
			     HOUR_MS, 7 * DAY_MS, &c->replay_window_ms);

	if (v[CERT_FETCH] && !c->cert_fetch && !c->cert_dir)
		report(ld, v[CERT_FETCH], "set cert_dir, or cert_fetch: true",
		       "with cert_fetch false, certificates can only come from "
		       "cert_dir, which is not set");
}

static bool host_is_loopback(const char *host)
{
	unsigned char address[16];

	if (!strcmp(host, "localhost") || !strcmp(host, "[::1]"))
		return true;
	return inet_pton(AF_INET, host, address) == 1 && address[0] == 127;
}

/*
 * https:// for anything; plain http:// only to a loopback host, where a
 * test's fake PagerDuty or a local egress proxy listens.
 */
static bool events_url_valid(const char *url)
{
	const char *authority, *end;
	bool https = !strncmp(url, "https://", 8);
	char *host;
	bool ok;

	if (!https && strncmp(url, "http://", 7))
		return false;

	authority = url + (https ? 8 : 7);
	end = authority + strcspn(authority, "/?#");
	if (end == authority ||
	    memchr(authority, '@', (size_t)(end - authority)))
		return false;
	if (https)
		return true;

	if (authority[0] == '[') {
		const char *bracket;

		bracket = memchr(authority, ']', (size_t)(end - authority));
		if (!bracket)
			return false;
		end = bracket + 1;
	} else {
		end = authority + strcspn(authority, ":/?#");
	}
	host = strndup(authority, (size_t)(end - authority));
	ok = host && host_is_loopback(host);
	free(host);
	return ok;
}

static void load_retry(struct loader *ld, struct ynode *node)
{
	enum { INITIAL, MAX, DEADLINE, COUNT };
	static const char *const keys[COUNT] = {
		[INITIAL] = "initial",
		[MAX] = "max",
		[DEADLINE] = "deadline",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *section = "pagerduty.retry";

	if (!expect_type(ld, node, YNODE_MAP, "retry", "pagerduty"))
		return;
	map_fields(ld, node, section, keys, COUNT, v);

	if (v[INITIAL])
		get_duration(ld, v[INITIAL], "initial", section, 100, HOUR_MS,
			     &c->retry_initial_ms);
	if (v[MAX])
		get_duration(ld, v[MAX], "max", section, SECOND_MS, DAY_MS,
			     &c->retry_max_ms);
	if (v[DEADLINE])
		get_duration(ld, v[DEADLINE], "deadline", section, MINUTE_MS,
			     7 * DAY_MS, &c->retry_deadline_ms);

	if (c->retry_initial_ms > c->retry_max_ms)
		report(ld,
		       v[INITIAL] ? v[INITIAL]
		       : v[MAX]   ? v[MAX]
				  : node,
		       "initial must not exceed max",
		       "%s: the first delay is longer than the longest",
		       section);
	if (c->retry_max_ms > c->retry_deadline_ms)
		report(ld,
		       v[DEADLINE] ? v[DEADLINE]
		       : v[MAX]    ? v[MAX]
				   : node,
		       "max must not exceed deadline",
		       "%s: the longest delay is longer than the deadline",
		       section);
}

static void load_pagerduty(struct loader *ld, struct ynode *node)
{
	enum { EVENTS_URL, TIMEOUT, RATE, RETRY, CLIENT, CLIENT_URL, COUNT };
	static const char *const keys[COUNT] = {
		[EVENTS_URL] = "events_url", [TIMEOUT] = "timeout",
		[RATE] = "rate_per_minute",  [RETRY] = "retry",
		[CLIENT] = "client",         [CLIENT_URL] = "client_url",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *section = "pagerduty";
	unsigned long rate;
	char *text = NULL;

	if (!expect_type(ld, node, YNODE_MAP, section, NULL))
		return;
	map_fields(ld, node, section, keys, COUNT, v);

	if (v[EVENTS_URL] &&
	    get_text(ld, v[EVENTS_URL], "events_url", section, &text) == 0) {
		if (events_url_valid(text))
			set_text(&c->events_url, text);
		else
			report(ld, v[EVENTS_URL],
			       "use https://; plain http:// only to 127.0.0.1, "
			       "[::1] or localhost",
			       "'events_url' in pagerduty: '%s' is not an "
			       "accepted URL",
			       text);
		if (c->events_url != text)
			free(text);
	}
	if (v[TIMEOUT])
		get_duration(ld, v[TIMEOUT], "timeout", section, SECOND_MS,
			     60 * SECOND_MS, &c->timeout_ms);
	if (v[RATE] && get_uint(ld, v[RATE], "rate_per_minute", section, 1,
				10000, &rate) == 0)
		c->rate_per_minute = (unsigned int)rate;
	if (v[RETRY])
		load_retry(ld, v[RETRY]);
	if (v[CLIENT] && get_text(ld, v[CLIENT], "client", section, &text) == 0)
		set_text(&c->client, text);
	if (v[CLIENT_URL] &&
	    get_text(ld, v[CLIENT_URL], "client_url", section, &text) == 0) {
		set_text(&c->client_url, text);
		if (strncmp(text, "https://", 8) && strncmp(text, "http://", 7))
			report(ld, v[CLIENT_URL], "write an http(s):// link",
			       "'client_url' in pagerduty: '%s' is not a URL",
			       text);
	}
}

/* Reads a routing key from a file (a key file or a systemd credential). */
static int read_key_file(struct loader *ld, const struct ynode *node,
			 const char *path, const char *target, char **ret_key)
{
	char *data;
	size_t len;
	int r;

	r = util_read_file(path, ROUTING_KEY_MAX, &data, &len);
	if (r == -ENOMEM) {
		ld->oom = true;
		return r;
	}
	if (r == -EFBIG) {
		report(ld, node, "the file should hold the key alone",
		       "routing key file '%s' of target '%s' is larger than "
		       "4 KiB",
		       path, target);
		return r;
	}
	if (r < 0) {
		report(ld, node, "check the path and its permissions",
		       "cannot read the routing key of target '%s' from '%s': "
		       "%s",
		       target, path, strerror(-r));
		return r;
	}

	if (strlen(data) != len) {
		report(ld, node, "the file should hold the key alone",
		       "routing key file '%s' of target '%s' contains a NUL "
		       "byte",
		       path, target);
		explicit_bzero(data, len);
		free(data);
		return -EINVAL;
	}

	util_rstrip(data);
	*ret_key = data;
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

enum key_source {
	KEY_FILE,
	KEY_ENV,
	KEY_CREDENTIAL,
	KEY_INLINE,
	KEY_SOURCE_COUNT
};

static const char *const key_source_keys[KEY_SOURCE_COUNT] = {
	[KEY_FILE] = "routing_key_file",
	[KEY_ENV] = "routing_key_env",
	[KEY_CREDENTIAL] = "routing_key_credential",
	[KEY_INLINE] = "routing_key",
};

static const char *const key_source_names[KEY_SOURCE_COUNT] = {
	[KEY_FILE] = "file",
	[KEY_ENV] = "env",
	[KEY_CREDENTIAL] = "credential",
	[KEY_INLINE] = "inline",
};

/*
 * Fetches the key from its source. Messages name the source, never the
 * key: they go to logs and terminals.
 */
static int resolve_key(struct loader *ld, enum key_source source,
		       const struct ynode *node, const char *section,
		       const char *target, char **ret_key, char **ret_origin)
{
	const char *key = key_source_keys[source];
	const char *text, *value, *dir;
	char *path = NULL, *found = NULL;
	int r = -EINVAL;

	if (source == KEY_FILE) {
		r = get_path(ld, node, key, section, &path);
		if (r == 0)
			r = read_key_file(ld, node, path, target, &found);
		if (r == 0)
			*ret_origin = path;
		else
			free(path);
		goto out;
	}

	text = scalar_text(ld, node, key, section);
	if (!text)
		goto out;

	if (source == KEY_INLINE) {
		found = dup_or_oom(ld, text);
		r = found ? 0 : -ENOMEM;
		if (r == 0)
			warn(ld, node,
			     "keep it in routing_key_file, routing_key_env or "
			     "routing_key_credential",
			     "the routing key of target '%s' is written into "
			     "the configuration",
			     target);
	} else if (source == KEY_ENV) {
		if (!env_name_valid(text)) {
			report(ld, node, "letters, digits and '_'",
			       "'%s' is not an environment variable name",
			       text);
			goto out;
		}
		value = getenv(text);
		if (!value) {
			report(ld, node,
			       "export it in the service's environment",
			       "environment variable %s for the routing key of "
			       "target '%s' is not set",
			       text, target);
			goto out;
		}
		found = dup_or_oom(ld, value);
		r = found ? 0 : -ENOMEM;
	} else {
		dir = getenv("CREDENTIALS_DIRECTORY");
		if (strchr(text, '/') || !strcmp(text, ".") ||
		    !strcmp(text, "..")) {
			report(ld, node, "the name given to LoadCredential=",
			       "'%s' is not a credential name", text);
			goto out;
		}
		if (!dir) {
			report(ld, node,
			       "systemd sets $CREDENTIALS_DIRECTORY for units "
			       "with LoadCredential=",
			       "credential %s for target '%s' needs "
			       "$CREDENTIALS_DIRECTORY, which is not set",
			       text, target);
			goto out;
		}
		if (asprintf(&path, "%s/%s", dir, text) < 0) {
			ld->oom = true;
			r = -ENOMEM;
			goto out;
		}
		r = read_key_file(ld, node, path, target, &found);
		free(path);
		if (r == 0 && asprintf(ret_origin, "credential %s", text) < 0) {
			ld->oom = true;
			r = -ENOMEM;
		}
	}

	if (r == 0 && source == KEY_ENV &&
	    asprintf(ret_origin, "environment variable %s", text) < 0) {
		ld->oom = true;
		r = -ENOMEM;
	}
	if (r == 0 && source == KEY_INLINE) {
		*ret_origin = dup_or_oom(ld, "the configuration");
		r = *ret_origin ? 0 : -ENOMEM;
	}
out:
	if (r == 0) {
		*ret_key = found;
	} else if (found) {
		explicit_bzero(found, strlen(found));
		free(found);
	}
	return r;
}

/* Empty or spaced keys are errors; odd-looking ones only a warning. */
static void check_key(struct loader *ld, const struct ynode *node,
		      struct config_target *target, const char *origin)
{
	const char *key = target->routing_key;
	bool alnum = true;

	if (key[0] == '\0') {
		report(ld, node, "put the integration key there",
		       "the routing key of target '%s' from %s is empty",
		       target->name, origin);
		return;
	}
	for (const char *p = key; *p; p++) {
		if (isspace((unsigned char)*p)) {
			report(ld, node,
			       "remove the white space around the key",
			       "the routing key of target '%s' from %s "
			       "contains white space",
			       target->name, origin);
			return;
		}
		alnum = alnum && isalnum((unsigned char)*p);
	}

	/* PagerDuty integration keys are 32 letters and digits. */
	if (!alnum || strlen(key) != PAGERDUTY_KEY_LEN)
		warn(ld, node,
		     "check that it is an Events API v2 integration key",
		     "the routing key of target '%s' from %s is not 32 "
		     "letters and digits",
		     target->name, origin);
}

static void load_target(struct loader *ld, struct ynode *key,
			struct ynode *node, struct config_target *target)
{
	struct ynode *v[KEY_SOURCE_COUNT];
	char section[LABEL_MAX];
	char *origin = NULL;
	size_t given = 0, source = 0;

	target->name = dup_or_oom(ld, key->text);
	if (!target->name)
		return;
	name_check(ld, key, "target");
	if (!expect_type(ld, node, YNODE_MAP, key->text, "targets"))
		return;

	snprintf(section, sizeof(section), "target '%s'", key->text);
	map_fields(ld, node, section, key_source_keys, KEY_SOURCE_COUNT, v);

	for (size_t i = 0; i < KEY_SOURCE_COUNT; i++) {
		if (!v[i])
			continue;
		if (given++ == 0 || v[i]->line > v[source]->line ||
		    (v[i]->line == v[source]->line &&
		     v[i]->column > v[source]->column))
			source = i;
	}
	if (given == 0) {
		report(ld, node,
		       "give one of routing_key_file, routing_key_env, "
		       "routing_key_credential or routing_key",
		       "target '%s' has no routing key", target->name);
		return;
	}
	if (given > 1) {
		report(ld, v[source],
		       "keep exactly one of routing_key_file, routing_key_env, "
		       "routing_key_credential and routing_key",
		       "target '%s' has more than one routing key",
		       target->name);
		return;
	}

	if (resolve_key(ld, source, v[source], section, target->name,
			&target->routing_key, &origin) < 0)
		return;

	util_fingerprint(target->routing_key, target->fingerprint);
	target->key_source = dup_or_oom(ld, key_source_names[source]);
	check_key(ld, v[source], target, origin);
	free(origin);
}

static void load_targets(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;

	if (!expect_type(ld, node, YNODE_MAP, "targets", NULL))
		return;
	map_check_keys(ld, node, "targets");

	c->targets = calloc(node->n / 2 + 1, sizeof(*c->targets));
	if (!c->targets) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		if (node->items[i]->skip)
			continue;
		load_target(ld, node->items[i], node->items[i + 1],
			    &c->targets[c->n_targets++]);
	}

	if (c->n_targets == 0)
		report(ld, node, "add a target with its routing key",
		       "'targets' is empty");
}

/*
 * The column of byte offset inside a scalar, where its text is exactly
 * what is on its line (no escapes, one line); else the scalar's start.
 */
static int scalar_column(const struct ynode *node, size_t offset)
{
	size_t quote, chars = utf8_chars(node->text, node->len);

	if (node->style == YAML_PLAIN_SCALAR_STYLE)
		quote = 0;
	else if (node->style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		 node->style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		quote = 1;
	else
		return node->column;

	if (node->line != node->end_line ||
	    (size_t)(node->end_column - node->column) != chars + 2 * quote)
		return node->column;
	return node->column + (int)(quote + utf8_chars(node->text, offset));
}

/* A template text whose {{fields}} render knows. */
static int get_template_text(struct loader *ld, const struct ynode *node,
			     const char *key, const char *section,
			     char **ret_text)
{
	static const char *const fields[] = {
		"alert_name",       "severity",     "environment", "region",
		"metric_name",      "metric_value", "account",     "state",
		"old_state",        "reason",       "description", "namespace",
		"dimensions",       "alarm_arn",    "console_url", "threshold",
		"topic_arn",        "subject",      "kind",        "route",
		"timestamp",        "source",       "detail_type", "expression",
		"finding_severity",
	};
	const char *bad = NULL, *close = NULL;
	char field[NAME_MAX_LEN + 1], hint[HINT_MAX], probe[NAME_MAX_LEN + 8];
	size_t bad_len = 0, offset;
	char *text;
	int r;

	r = get_text(ld, node, key, section, &text);
	if (r < 0)
		return r;
	if (render_template_valid(text, &bad, &bad_len)) {
		*ret_text = text;
		return 0;
	}

	offset = bad ? (size_t)((uintptr_t)bad - (uintptr_t)text) : 0;
	if (offset > node->len)
		offset = 0;
	if (bad_len > NAME_MAX_LEN || offset + bad_len > node->len)
		bad_len = 0;
	memcpy(field, text + offset, bad_len);
	field[bad_len] = '\0';

	/* Suggest only names render itself accepts. */
	close = suggest(field, fields, ARRAY_SIZE(fields));
	snprintf(probe, sizeof(probe), "{{%s}}", close ? close : "");
	if (close && render_template_valid(probe, &bad, &bad_len))
		snprintf(hint, sizeof(hint), "did you mean '%s'?", close);
	else
		snprintf(hint, sizeof(hint),
			 "check the name against the template fields");

	report_at(ld, node->line, scalar_column(node, offset), hint,
		  "unknown template field '%s' in '%s' of %s", field, key,
		  section);
	free(text);
	return -EINVAL;
}

static void load_details(struct loader *ld, struct ynode *node,
			 const char *section, struct config_template *tpl)
{
	char inner[LABEL_MAX];

	if (!expect_type(ld, node, YNODE_MAP, "custom_details", section))
		return;
	format_label(inner, "custom_details", section);
	map_check_keys(ld, node, inner);

	tpl->details = calloc(node->n / 2 + 1, sizeof(*tpl->details));
	if (!tpl->details) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		struct config_detail *detail = &tpl->details[tpl->n_details];
		const struct ynode *key = node->items[i];
		char *value;

		if (key->skip ||
		    get_template_text(ld, node->items[i + 1], key->text, inner,
				      &value) < 0)
			continue;
		detail->key = dup_or_oom(ld, key->text);
		detail->value = value;
		tpl->n_details++;
	}
}

static void load_template(struct loader *ld, struct ynode *key,
			  struct ynode *node, struct config_template *tpl)
{
	enum { SUMMARY, SOURCE, COMPONENT, GROUP, CLASS, DETAILS, COUNT };
	static const char *const keys[COUNT] = {
		[SUMMARY] = "summary",     [SOURCE] = "source",
		[COMPONENT] = "component", [GROUP] = "group",
		[CLASS] = "class",         [DETAILS] = "custom_details",
	};
	char **fields[COUNT] = {
		[SUMMARY] = &tpl->summary,     [SOURCE] = &tpl->source,
		[COMPONENT] = &tpl->component, [GROUP] = &tpl->group,
		[CLASS] = &tpl->class_name,
	};
	char section[LABEL_MAX];
	struct ynode *v[COUNT];

	tpl->name = dup_or_oom(ld, key->text);
	if (!tpl->name)
		return;
	name_check(ld, key, "template");
	if (!expect_type(ld, node, YNODE_MAP, key->text, "templates"))
		return;

	snprintf(section, sizeof(section), "template '%s'", key->text);
	map_fields(ld, node, section, keys, COUNT, v);
	require(ld, node, v[SUMMARY], "summary", section);
	require(ld, node, v[SOURCE], "source", section);

	for (size_t i = 0; i < COUNT; i++)
		if (v[i] && fields[i])
			get_template_text(ld, v[i], keys[i], section,
					  fields[i]);
	if (v[DETAILS])
		load_details(ld, v[DETAILS], section, tpl);
}

static void load_templates(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;

	if (!expect_type(ld, node, YNODE_MAP, "templates", NULL))
		return;
	map_check_keys(ld, node, "templates");

	c->templates = calloc(node->n / 2 + 1, sizeof(*c->templates));
	if (!c->templates) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		if (node->items[i]->skip)
			continue;
		load_template(ld, node->items[i], node->items[i + 1],
			      &c->templates[c->n_templates++]);
	}

	if (c->n_templates == 0)
		report(ld, node, "add a template with summary and source",
		       "'templates' is empty");
}

static void load_testing(struct loader *ld, struct ynode *node)
{
	enum {
		AS_OF,
		SKIP_AGE,
		SKIP_VALIDITY,
		SKIP_SIGNATURE,
		CA_FILE,
		CONNECT_TO,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[AS_OF] = "as_of",
		[SKIP_AGE] = "skip_age_check",
		[SKIP_VALIDITY] = "skip_cert_validity",
		[SKIP_SIGNATURE] = "skip_signature",
		[CA_FILE] = "cert_ca_file",
		[CONNECT_TO] = "cert_connect_to",
	};
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	const char *text;

	c->testing = true;
	if (!expect_type(ld, node, YNODE_MAP, "testing", NULL))
		return;
	map_fields(ld, node, "testing", keys, COUNT, v);

	if (v[AS_OF]) {
		text = scalar_text(ld, v[AS_OF], "as_of", "testing");
		if (text && timeutil_parse(text, &c->testing_as_of_ms) < 0)
			report(ld, v[AS_OF], "such as 2022-09-25T18:51:00Z",
			       "'as_of' in testing: '%s' is not a timestamp",
			       text);
	}
	if (v[SKIP_AGE])
		get_bool(ld, v[SKIP_AGE], keys[SKIP_AGE], "testing",
			 &c->testing_skip_age_check);
	if (v[SKIP_VALIDITY])
		get_bool(ld, v[SKIP_VALIDITY], keys[SKIP_VALIDITY], "testing",
			 &c->testing_skip_cert_validity);
	if (v[SKIP_SIGNATURE])
		get_bool(ld, v[SKIP_SIGNATURE], keys[SKIP_SIGNATURE], "testing",
			 &c->testing_skip_signature);
	if (v[CA_FILE])
		get_path(ld, v[CA_FILE], keys[CA_FILE], "testing",
			 &c->testing_cert_ca_file);
	if (v[CONNECT_TO])
		get_text(ld, v[CONNECT_TO], keys[CONNECT_TO], "testing",
			 &c->testing_cert_connect_to);
}

static void report_unknown_target(struct loader *ld, const struct ynode *node,
				  const char *name, const char *section)
{
	const struct config *c = ld->config;
	const char **names = calloc(c->n_targets + 1, sizeof(*names));
	char hint[HINT_MAX] = "define it under targets";

	for (size_t i = 0; names && i < c->n_targets; i++)
		names[i] = c->targets[i].name;
	if (names)
		hint_names(hint, name, names, c->n_targets, "the targets are");
	report(ld, node, hint, "unknown target '%s' in %s", name, section);
	free(names);
}

static void report_unknown_template(struct loader *ld, const struct ynode *node,
				    const char *name, const char *section)
{
	const struct config *c = ld->config;
	const char **names = calloc(c->n_templates + 1, sizeof(*names));
	char hint[HINT_MAX] = "define it under templates";

	for (size_t i = 0; names && i < c->n_templates; i++)
		names[i] = c->templates[i].name;
	if (names)
		hint_names(hint, name, names, c->n_templates,
			   "the templates are");
	report(ld, node, hint, "unknown template '%s' in %s", name, section);
	free(names);
}

static void load_bands(struct loader *ld, struct ynode *node,
		       const char *section, struct config_route *route)
{
	struct ynode *v[CONFIG_BAND_COUNT];
	char inner[LABEL_MAX];

	if (!expect_type(ld, node, YNODE_MAP, "severity_bands", section))
		return;
	format_label(inner, "severity_bands", section);
	map_fields(ld, node, inner, band_names, CONFIG_BAND_COUNT, v);

	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++) {
		char *severity;

		if (v[band] && get_severity(ld, v[band], band_names[band],
					    inner, &severity) == 0)
			set_text(&route->band_severity[band], severity);
	}
}

static void load_insufficient(struct loader *ld, struct ynode *node,
			      const char *section, struct config_route *route)
{
	static const char *const keys[] = {"trigger"};
	struct ynode *trigger;
	char inner[LABEL_MAX];
	char *severity;

	if (node->skip)
		return;
	if (node->type == YNODE_SCALAR && !strcmp(node->text, "ignore")) {
		route->insufficient = CONFIG_INSUFFICIENT_IGNORE;
		free(route->insufficient_severity);
		route->insufficient_severity = NULL;
		return;
	}
	if (node->type != YNODE_MAP) {
		report(ld, node, "write ignore, or {trigger: warning}",
		       "'insufficient_data' in %s must be ignore or "
		       "{trigger: <severity>}",
		       section);
		return;
	}

	format_label(inner, "insufficient_data", section);
	map_fields(ld, node, inner, keys, ARRAY_SIZE(keys), &trigger);
	if (!require(ld, node, trigger, "trigger", inner) ||
	    get_severity(ld, trigger, "trigger", inner, &severity) < 0)
		return;
	route->insufficient = CONFIG_INSUFFICIENT_TRIGGER;
	set_text(&route->insufficient_severity, severity);
}

enum route_key {
	ROUTE_NAME,
	ROUTE_MATCH,
	ROUTE_TARGET,
	ROUTE_SEVERITY,
	ROUTE_BANDS,
	ROUTE_TEMPLATE,
	ROUTE_ENVIRONMENT,
	ROUTE_INSUFFICIENT,
	ROUTE_KEY_COUNT
};

static const char *const route_keys[ROUTE_KEY_COUNT] = {
	[ROUTE_NAME] = "name",
	[ROUTE_MATCH] = "match",
	[ROUTE_TARGET] = "target",
	[ROUTE_SEVERITY] = "severity",
	[ROUTE_BANDS] = "severity_bands",
	[ROUTE_TEMPLATE] = "template",
	[ROUTE_ENVIRONMENT] = "environment",
	[ROUTE_INSUFFICIENT] = "insufficient_data",
};

/* The default route takes every alert: it has no name or match. */
static const char *const default_route_keys[ROUTE_KEY_COUNT] = {
	[ROUTE_TARGET] = "target",
	[ROUTE_SEVERITY] = "severity",
	[ROUTE_BANDS] = "severity_bands",
	[ROUTE_TEMPLATE] = "template",
	[ROUTE_ENVIRONMENT] = "environment",
	[ROUTE_INSUFFICIENT] = "insufficient_data",
};

static char *dup_maybe(struct loader *ld, const char *s)
{
	return s ? dup_or_oom(ld, s) : NULL;
}

/* What a route and the default route share; inherit is NULL for the latter. */
static void load_route_body(struct loader *ld, struct ynode **v,
			    const char *section, struct config_route *route,
			    const struct config_route *inherit)
{
	const struct config *c = ld->config;
	const char *text;

	if (v[ROUTE_TARGET]) {
		text = scalar_text(ld, v[ROUTE_TARGET], "target", section);
		route->target = text ? config_find_target(c, text) : NULL;
		if (text && !route->target)
			report_unknown_target(ld, v[ROUTE_TARGET], text,
					      section);
	} else if (inherit) {
		route->target = inherit->target;
	}

	if (v[ROUTE_TEMPLATE]) {
		text = scalar_text(ld, v[ROUTE_TEMPLATE], "template", section);
		route->template = text ? config_find_template(c, text) : NULL;
		if (text && !route->template)
			report_unknown_template(ld, v[ROUTE_TEMPLATE], text,
						section);
	} else if (inherit) {
		route->template = inherit->template;
	}

	if (v[ROUTE_SEVERITY])
		get_severity(ld, v[ROUTE_SEVERITY], "severity", section,
			     &route->severity);
	else if (inherit)
		route->severity = dup_maybe(ld, inherit->severity);

	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++)
		route->band_severity[band] =
			dup_maybe(ld, inherit ? inherit->band_severity[band]
					      : default_band_severity[band]);
	if (v[ROUTE_BANDS])
		load_bands(ld, v[ROUTE_BANDS], section, route);

	if (v[ROUTE_ENVIRONMENT])
		get_text(ld, v[ROUTE_ENVIRONMENT], "environment", section,
			 &route->environment);
	else
		route->environment = dup_maybe(
			ld, inherit ? inherit->environment : c->environment);

	route->insufficient =
		inherit ? inherit->insufficient : CONFIG_INSUFFICIENT_IGNORE;
	route->insufficient_severity =
		dup_maybe(ld, inherit ? inherit->insufficient_severity : NULL);
	if (v[ROUTE_INSUFFICIENT])
		load_insufficient(ld, v[ROUTE_INSUFFICIENT], section, route);
}

static void load_default_route(struct loader *ld, struct ynode *node)
{
	struct config_route *route = &ld->config->default_route;
	const char *section = "default_route";
	struct ynode *v[ROUTE_KEY_COUNT];

	route->line = node->line;
	route->column = node->column;
	if (!expect_type(ld, node, YNODE_MAP, section, NULL))
		return;
	map_fields(ld, node, section, default_route_keys, ROUTE_KEY_COUNT, v);

	require(ld, node, v[ROUTE_TARGET], "target", section);
	require(ld, node, v[ROUTE_SEVERITY], "severity", section);
	require(ld, node, v[ROUTE_TEMPLATE], "template", section);
	load_route_body(ld, v, section, route, NULL);
}

static void load_pattern(struct loader *ld, const struct ynode *node,
			 const char *section, struct config_pattern **ret)
{
	const char *text = scalar_text(ld, node, "name", section);
	struct config_pattern *pattern;
	char message[128];
	size_t len;
	char *inner;
	int rc;

	if (!text)
		return;
	pattern = calloc(1, sizeof(*pattern));
	if (!pattern || !(pattern->text = strdup(text)))
		goto oom;

	len = strlen(text);
	if (len < 2 || text[0] != '/' || text[len - 1] != '/') {
		*ret = pattern;
		return;
	}

	inner = strndup(text + 1, len - 2);
	if (!inner)
		goto oom;
	rc = regcomp(&pattern->regex, inner, REG_EXTENDED | REG_NOSUB);
	free(inner);
	if (rc != 0) {
		regerror(rc, &pattern->regex, message, sizeof(message));
		report(ld, node,
		       "write a POSIX extended regular expression between "
		       "slashes, such as /^prod-/",
		       "'name' in %s: bad regular expression %s: %s", section,
		       text, message);
		free(pattern->text);
		free(pattern);
		return;
	}
	pattern->is_regex = true;
	*ret = pattern;
	return;

oom:
	ld->oom = true;
	if (pattern)
		free(pattern->text);
	free(pattern);
}

static void load_kinds(struct loader *ld, const struct ynode *node,
		       const char *section, unsigned int *ret_bits)
{
	const char *names[ALERT_KIND_COUNT];
	unsigned int bits = 0;
	char hint[HINT_MAX];

	for (size_t k = 0; k < ALERT_KIND_COUNT; k++)
		names[k] = alert_kind_name((enum alert_kind)k);
	if (!expect_values(ld, node, "kind", section))
		return;

	for (size_t i = 0; i < values_count(node); i++) {
		const struct ynode *item = values_item(node, i);
		const char *text = scalar_text(ld, item, "kind", section);
		enum alert_kind kind;

		if (!text)
			continue;
		if (alert_kind_from_name(text, &kind) == 0 &&
		    kind < ALERT_KIND_COUNT)
			bits |= 1u << kind;
		else
			report(ld, item,
			       hint_names(hint, text, names, ALERT_KIND_COUNT,
					  "the kinds are"),
			       "'kind' in %s: unknown alert kind '%s'", section,
			       text);
	}
	*ret_bits = bits;
}

static void load_states(struct loader *ld, const struct ynode *node,
			const char *section, unsigned int *ret_bits)
{
	const char *names[ALERT_STATE_COUNT];
	unsigned int bits = 0;
	char hint[HINT_MAX];

	for (size_t s = 0; s < ALERT_STATE_COUNT; s++)
		names[s] = alert_state_name((enum alert_state)s);
	if (!expect_values(ld, node, "state", section))
		return;

	for (size_t i = 0; i < values_count(node); i++) {
		const struct ynode *item = values_item(node, i);
		const char *text = scalar_text(ld, item, "state", section);
		enum alert_state state;

		if (!text)
			continue;
		if (alert_state_from_name(text, &state) == 0 &&
		    state < ALERT_STATE_COUNT)
			bits |= 1u << state;
		else
			report(ld, item,
			       hint_names(hint, text, names, ALERT_STATE_COUNT,
					  "the states are"),
			       "'state' in %s: unknown alarm state '%s'",
			       section, text);
	}
	*ret_bits = bits;
}

static void load_dimensions(struct loader *ld, struct ynode *node,
			    const char *section, struct config_match *match)
{
	char inner[LABEL_MAX];

	if (!expect_type(ld, node, YNODE_MAP, "dimensions", section))
		return;
	format_label(inner, "dimensions", section);
	map_check_keys(ld, node, inner);

	match->dimensions = calloc(node->n / 2 + 1, sizeof(*match->dimensions));
	if (!match->dimensions) {
		ld->oom = true;
		return;
	}
	for (size_t i = 0; i + 1 < node->n; i += 2) {
		struct alert_dimension *dimension =
			&match->dimensions[match->n_dimensions];
		const struct ynode *key = node->items[i];
		char *value;

		if (key->skip || get_text(ld, node->items[i + 1], key->text,
					  inner, &value) < 0)
			continue;
		dimension->name = dup_or_oom(ld, key->text);
		dimension->value = value;
		match->n_dimensions++;
	}
}

static void load_match(struct loader *ld, struct ynode *node,
		       const char *section, struct config_match *match)
{
	enum {
		NAME,
		KIND,
		STATE,
		NAMESPACE,
		METRIC,
		REGION,
		ACCOUNT,
		TOPIC,
		SEVERITY,
		DIMENSIONS,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[NAME] = "name",         [KIND] = "kind",
		[STATE] = "state",       [NAMESPACE] = "namespace",
		[METRIC] = "metric",     [REGION] = "region",
		[ACCOUNT] = "account",   [TOPIC] = "topic",
		[SEVERITY] = "severity", [DIMENSIONS] = "dimensions",
	};
	struct config_globs *globs[COUNT] = {
		[NAMESPACE] = &match->namespaces,
		[METRIC] = &match->metrics,
		[REGION] = &match->regions,
		[ACCOUNT] = &match->accounts,
		[TOPIC] = &match->topics,
		[SEVERITY] = &match->severities,
	};
	struct ynode *v[COUNT];
	char inner[LABEL_MAX], hint[HINT_MAX];

	if (!expect_type(ld, node, YNODE_MAP, "match", section))
		return;
	format_label(inner, "match", section);
	map_fields(ld, node, inner, keys, COUNT, v);

	if (v[NAME])
		load_pattern(ld, v[NAME], inner, &match->name);
	if (v[KIND])
		load_kinds(ld, v[KIND], inner, &match->kinds);
	if (v[STATE])
		load_states(ld, v[STATE], inner, &match->states);
	for (size_t i = 0; i < COUNT; i++)
		if (v[i] && globs[i])
			get_globs(ld, v[i], keys[i], inner, globs[i]);
	if (v[DIMENSIONS])
		load_dimensions(ld, v[DIMENSIONS], inner, match);

	/* GuardDuty's bands, as alert.h names them. */
	for (size_t i = 0; i < match->severities.n; i++) {
		const char *band = match->severities.v[i];
		size_t b;

		for (b = 0; b < CONFIG_BAND_COUNT; b++)
			if (!strcmp(band, band_names[b]))
				break;
		if (b < CONFIG_BAND_COUNT)
			continue;
		report(ld, values_item(v[SEVERITY], i),
		       hint_names(hint, band, band_names, CONFIG_BAND_COUNT,
				  "GuardDuty's bands are"),
		       "'severity' in %s: unknown severity band '%s'", inner,
		       band);
	}
}

/* The value of key in map, before the map is checked (or NULL). */
static struct ynode *map_peek(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->items[i]->type == YNODE_SCALAR &&
		    !strcmp(map->items[i]->text, key))
			return map->items[i + 1];
	return NULL;
}

static void load_route(struct loader *ld, struct ynode *node, size_t index,
		       struct config_route *route, struct ynode **ret_name)
{
	struct ynode *v[ROUTE_KEY_COUNT], *name;
	char section[LABEL_MAX];

	route->line = node->line;
	route->column = node->column;
	snprintf(section, sizeof(section), "routes item %zu", index + 1);
	if (node->type != YNODE_MAP) {
		if (!node->skip)
			report(ld, node,
			       "each route is a map with name, match, target "
			       "and severity",
			       "%s must be a map, not %s", section,
			       node_kind(node));
		return;
	}

	/* Name the route in its other errors, once the name is known good. */
	name = map_peek(node, "name");
	if (name && name->type == YNODE_SCALAR && !name->skip &&
	    !scalar_is_null(name) && name->len > 0 &&
	    name_check(ld, name, "route")) {
		route->name = dup_or_oom(ld, name->text);
		snprintf(section, sizeof(section), "route '%s'", name->text);
		*ret_name = name;
		if (!strcmp(name->text, "default"))
			report(ld, name, "choose another name",
			       "'default' is the name of default_route");
	}

	map_fields(ld, node, section, route_keys, ROUTE_KEY_COUNT, v);
	if (require(ld, node, v[ROUTE_NAME], "name", section) && !route->name)
		scalar_text(ld, v[ROUTE_NAME], "name", section);
	if (v[ROUTE_MATCH])
		load_match(ld, v[ROUTE_MATCH], section, &route->match);
	require(ld, node, v[ROUTE_TARGET], "target", section);
	load_route_body(ld, v, section, route, &ld->config->default_route);
}

static void load_routes(struct loader *ld, struct ynode *node)
{
	struct config *c = ld->config;
	struct named *names;
	size_t n_names = 0;

	if (!expect_type(ld, node, YNODE_LIST, "routes", NULL))
		return;

	c->routes = calloc(node->n + 1, sizeof(*c->routes));
	names = calloc(node->n + 1, sizeof(*names));
	if (!c->routes || !names) {
		ld->oom = true;
		free(names);
		return;
	}

	for (size_t i = 0; i < node->n; i++) {
		struct ynode *name = NULL;

		load_route(ld, node->items[i], i, &c->routes[c->n_routes++],
			   &name);
		if (name)
			names[n_names++] = (struct named){
				.name = name->text, .node = name, .index = i};
	}

	named_find_duplicates(names, n_names);
	for (size_t i = 0; i < n_names; i++) {
		char hint[HINT_MAX];

		if (!names[i].first)
			continue;
		snprintf(hint, sizeof(hint), "first used at line %d, column %d",
			 names[i].first->line, names[i].first->column);
		report(ld, names[i].node, hint, "duplicate route name '%s'",
		       names[i].name);
	}
	free(names);
}

static void load_config(struct loader *ld, struct ynode *root)
{
	enum {
		LISTEN,
		STATE_DIR,
		LIMITS,
		ENVIRONMENT,
		REGION,
		SNS,
		PAGERDUTY,
		TARGETS,
		TEMPLATES,
		ROUTES,
		DEFAULT_ROUTE,
		TESTING,
		COUNT
	};
	static const char *const keys[COUNT] = {
		[LISTEN] = "listen",
		[STATE_DIR] = "state_dir",
		[LIMITS] = "limits",
		[ENVIRONMENT] = "environment",
		[REGION] = "region",
		[SNS] = "sns",
		[PAGERDUTY] = "pagerduty",
		[TARGETS] = "targets",
		[TEMPLATES] = "templates",
		[ROUTES] = "routes",
		[DEFAULT_ROUTE] = "default_route",
		[TESTING] = "testing",
	};
	const char *section = "top level";
	struct config *c = ld->config;
	struct ynode *v[COUNT];
	char *text;

	if (root->type != YNODE_MAP) {
		report(ld, root, "start from config/alertbridge.yaml",
		       "the configuration must be a map of settings, not %s",
		       node_kind(root));
		return;
	}
	map_fields(ld, root, section, keys, COUNT, v);

	if (v[LISTEN])
		load_listen(ld, v[LISTEN]);
	if (v[STATE_DIR] &&
	    get_path(ld, v[STATE_DIR], "state_dir", NULL, &text) == 0)
		set_text(&c->state_dir, text);
	if (v[LIMITS])
		load_limits(ld, v[LIMITS]);
	if (v[ENVIRONMENT])
		get_text(ld, v[ENVIRONMENT], "environment", NULL,
			 &c->environment);
	if (v[REGION])
		get_text(ld, v[REGION], "region", NULL, &c->region);
	if (require(ld, root, v[SNS], "sns", section))
		load_sns(ld, v[SNS]);
	if (v[PAGERDUTY])
		load_pagerduty(ld, v[PAGERDUTY]);
	if (v[TESTING])
		load_testing(ld, v[TESTING]);
	if (require(ld, root, v[TARGETS], "targets", section))
		load_targets(ld, v[TARGETS]);
	if (require(ld, root, v[TEMPLATES], "templates", section))
		load_templates(ld, v[TEMPLATES]);

	c->default_route.name = dup_or_oom(ld, "default");
	if (require(ld, root, v[DEFAULT_ROUTE], "default_route", section))
		load_default_route(ld, v[DEFAULT_ROUTE]);
	if (v[ROUTES])
		load_routes(ld, v[ROUTES]);
}

static struct config *config_new(const char *name)
{
	struct config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;

	c->path = strdup(name);
	c->listen_host = strdup("127.0.0.1");
	c->listen_port = 8080;
	c->state_dir = strdup("/var/lib/alertbridge");
	c->max_body_bytes = 512 * KIB;
	c->max_connections = 256;
	c->connection_timeout_s = 30;
	c->cert_fetch = true;
	c->replay_window_ms = 2 * HOUR_MS;
	c->events_url = strdup(DEFAULT_EVENTS_URL);
	c->timeout_ms = 10 * SECOND_MS;
	c->rate_per_minute = 120;
	c->retry_initial_ms = SECOND_MS;
	c->retry_max_ms = 5 * MINUTE_MS;
	c->retry_deadline_ms = DAY_MS;
	c->client = strdup("alertbridge");

	if (!c->path || !c->listen_host || !c->state_dir || !c->events_url ||
	    !c->client) {
		config_free(c);
		return NULL;
	}
	return c;
}

/*
 * Puts diagnostics from index first on in file order. Insertion sort:
 * stable, and there are at most DIAGS_MAX of them.
 */
static void diags_sort(struct config_diags *diags, size_t first)
{
	for (size_t i = first + 1; i < diags->n; i++) {
		struct config_diag d = diags->v[i];
		size_t j = i;

		while (j > first && (diags->v[j - 1].line > d.line ||
				     (diags->v[j - 1].line == d.line &&
				      diags->v[j - 1].column > d.column))) {
			diags->v[j] = diags->v[j - 1];
			j--;
		}
		diags->v[j] = d;
	}
}

/* The absolute directory relative paths in the file are taken from. */
static int base_dir_of(const char *name, char **ret_dir)
{
	const char *slash = strrchr(name, '/');
	char *dir = NULL, *cwd = NULL, *joined = NULL;
	int r = 0;

	if (slash) {
		dir = slash == name ? strdup("/")
				    : strndup(name, (size_t)(slash - name));
		if (!dir)
			return -ENOMEM;
		if (dir[0] == '/') {
			*ret_dir = dir;
			return 0;
		}
	}

	/* Without the working directory, stay relative to it. */
	cwd = getcwd(NULL, 0);
	if (!cwd)
		joined = strdup(dir ? dir : ".");
	else if (!dir)
		joined = strdup(cwd);
	else if (asprintf(&joined, "%s/%s", cwd, dir) < 0)
		joined = NULL;
	if (!joined)
		r = -ENOMEM;
	else
		*ret_dir = joined;

	free(cwd);
	free(dir);
	return r;
}

int config_load_string(const char *name, const char *text, size_t len,
		       struct config **ret_config, struct config_diags *errors)
{
	struct config_diags local = {0};
	struct loader ld = {
		.file = name,
		.errors = errors ? errors : &local,
	};
	struct ynode *root = NULL;
	size_t first;
	int r;

	first = ld.errors->n;
	ld.config = config_new(name);
	if (!ld.config) {
		r = -ENOMEM;
		goto out;
	}
	r = base_dir_of(name, &ld.base_dir);
	if (r < 0)
		goto out;

	if (len > CONFIG_FILE_MAX) {
		report_at(&ld, 1, 1, "keep it under 1 MiB",
			  "the configuration is too large");
		r = -EINVAL;
		goto out;
	}

	r = tree_build(&ld, text, len, &root);
	if (r < 0)
		goto out;

	if (root)
		load_config(&ld, root);
	else
		report_at(&ld, 1, 1, "start from config/alertbridge.yaml",
			  "the configuration is empty");
	diags_sort(ld.errors, first);
	diags_sort(&ld.config->warnings, 0);

	if (ld.oom) {
		r = -ENOMEM;
	} else if (ld.n_errors > 0) {
		r = -EINVAL;
	} else {
		*ret_config = ld.config;
		ld.config = NULL;
	}
out:
	ynode_free(root);
	free(ld.base_dir);
	config_free(ld.config);
	config_diags_release(&local);
	return r;
}

int config_load_file(const char *path, struct config **ret_config,
		     struct config_diags *errors)
{
	char *text;
	size_t len;
	int r;

	r = util_read_file(path, CONFIG_FILE_MAX, &text, &len);
	if (r < 0)
		return r;

	r = config_load_string(path, text, len, ret_config, errors);
	free(text);
	return r;
}

static void globs_release(struct config_globs *globs)
{
	for (size_t i = 0; i < globs->n; i++)
		free(globs->v[i]);
	free(globs->v);
}

static void route_release(struct config_route *route)
{
	struct config_match *match = &route->match;

	free(route->name);
	if (match->name && match->name->is_regex)
		regfree(&match->name->regex);
	if (match->name)
		free(match->name->text);
	free(match->name);
	globs_release(&match->namespaces);
	globs_release(&match->metrics);
	globs_release(&match->regions);
	globs_release(&match->accounts);
	globs_release(&match->topics);
	globs_release(&match->severities);
	for (size_t i = 0; i < match->n_dimensions; i++) {
		free(match->dimensions[i].name);
		free(match->dimensions[i].value);
	}
	free(match->dimensions);

	free(route->severity);
	for (size_t band = 0; band < CONFIG_BAND_COUNT; band++)
		free(route->band_severity[band]);
	free(route->environment);
	free(route->insufficient_severity);
}

static void template_release(struct config_template *tpl)
{
	free(tpl->name);
	free(tpl->summary);
	free(tpl->source);
	free(tpl->component);
	free(tpl->group);
	free(tpl->class_name);
	for (size_t i = 0; i < tpl->n_details; i++) {
		free(tpl->details[i].key);
		free(tpl->details[i].value);
	}
	free(tpl->details);
}

void config_free(struct config *config)
{
	if (!config)
		return;

	free(config->path);
	free(config->listen_host);
	free(config->state_dir);
	globs_release(&config->topics);
	free(config->cert_dir);
	free(config->events_url);
	free(config->client);
	free(config->client_url);
	free(config->environment);
	free(config->region);
	free(config->testing_cert_ca_file);
	free(config->testing_cert_connect_to);

	for (size_t i = 0; i < config->n_targets; i++) {
		struct config_target *target = &config->targets[i];

		/* Keys are secrets: leave no copy in freed memory. */
		if (target->routing_key)
			explicit_bzero(target->routing_key,
				       strlen(target->routing_key));
		free(target->routing_key);
		free(target->name);
		free(target->key_source);
	}
	free(config->targets);

	for (size_t i = 0; i < config->n_templates; i++)
		template_release(&config->templates[i]);
	free(config->templates);

	for (size_t i = 0; i < config->n_routes; i++)
		route_release(&config->routes[i]);
	free(config->routes);
	route_release(&config->default_route);

	config_diags_release(&config->warnings);
	free(config);
}

const struct config_target *config_find_target(const struct config *config,
					       const char *name)
{
	for (size_t i = 0; i < config->n_targets; i++)
		if (config->targets[i].name &&
		    !strcmp(config->targets[i].name, name))
			return &config->targets[i];
	return NULL;
}

const struct config_template *config_find_template(const struct config *config,
						   const char *name)
{
	for (size_t i = 0; i < config->n_templates; i++)
		if (config->templates[i].name &&
		    !strcmp(config->templates[i].name, name))
			return &config->templates[i];
	return NULL;
}

const struct config_route *config_find_route(const struct config *config,
					     const char *name)
{
	for (size_t i = 0; i < config->n_routes; i++)
		if (config->routes[i].name &&
		    !strcmp(config->routes[i].name, name))
			return &config->routes[i];
	if (config->default_route.name &&
	    !strcmp(config->default_route.name, name))
		return &config->default_route;
	return NULL;
}
