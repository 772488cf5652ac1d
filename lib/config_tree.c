/*
 * config_tree: libyaml events to a tree of positioned nodes, and the
 * diagnostics the section loaders report against it (see config_tree.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_tree.h"
#include "util.h"

#define YAML_DEPTH_MAX 64
#define YAML_NODES_MAX 100000
#define DIAGS_MAX      200

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

int tree_diags_add(struct config_diags *diags, const char *file, int line,
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

/*
 * Puts diagnostics from index first on in file order. Insertion sort:
 * stable, and there are at most DIAGS_MAX of them.
 */
void tree_diags_sort(struct config_diags *diags, size_t first)
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

void tree_free(struct ynode *node)
{
	if (!node)
		return;

	for (size_t i = 0; i < node->n; i++)
		tree_free(node->items[i]);
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

/*
 * A diagnostic is one line, "file:line:column: error: message (hint)",
 * whatever a value it quotes holds: a plain YAML scalar may run over
 * several lines, a quoted one may hold any control character. Those are
 * written as C escapes (\n, \t, \x01). Takes text over; NULL without
 * memory.
 */
static char *one_line(char *text)
{
	static const char hex[] = "0123456789abcdef";
	size_t extra = 0;
	char *out;
	char *o;

	if (!text)
		return NULL;
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\t' || c == '\r')
			extra += 1;
		else if (c < 0x20 || c == 0x7f)
			extra += 3;
	}
	if (extra == 0)
		return text;

	out = malloc(strlen(text) + extra + 1);
	if (!out) {
		free(text);
		return NULL;
	}
	o = out;
	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\n' || c == '\t' || c == '\r') {
			*o++ = '\\';
			*o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	free(text);
	return out;
}

static void vreport(struct loader *ld, struct config_diags *to, int line,
		    int column, const char *hint, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));

static void vreport(struct loader *ld, struct config_diags *to, int line,
		    int column, const char *hint, const char *fmt, va_list ap)
{
	char *message = NULL;
	char *hint_line = NULL;

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
	message = one_line(message);
	if (hint) {
		hint_line = one_line(strdup(hint));
		if (!hint_line) {
			free(message);
			message = NULL;
		}
	}
	if (!message ||
	    tree_diags_add(to, ld->file, line, column, message, hint_line))
		ld->oom = true;
	free(hint_line);
}

void tree_report_at(struct loader *ld, int line, int column, const char *hint,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, ld->errors, line, column, hint, fmt, ap);
	va_end(ap);
}

void tree_report(struct loader *ld, const struct ynode *node, const char *hint,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, ld->errors, node->line, node->column, hint, fmt, ap);
	va_end(ap);
}

void tree_warn(struct loader *ld, const struct ynode *node, const char *hint,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ld, &ld->config->warnings, node->line, node->column, hint, fmt,
		ap);
	va_end(ap);
}

char *tree_strdup(struct loader *ld, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		ld->oom = true;
	return copy;
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
const char *tree_suggest(const char *word, const char *const *names, size_t n)
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
const char *tree_hint_names(char hint[HINT_MAX], const char *word,
			    const char *const *names, size_t n,
			    const char *intro)
{
	const char *close = tree_suggest(word, names, n);
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

void tree_label_of(char out[LABEL_MAX], const char *key, const char *section)
{
	if (section)
		snprintf(out, LABEL_MAX, "'%s' in %s", key, section);
	else
		snprintf(out, LABEL_MAX, "'%s'", key);
}

/*
 * "what of section", for messages. A label longer than LABEL_MAX is cut:
 * it only names a place the error position already pins down.
 */
void tree_format_label(char out[LABEL_MAX], const char *what,
		       const char *section)
{
	if (snprintf(out, LABEL_MAX, "%s of %s", what, section) >= LABEL_MAX)
		out[LABEL_MAX - 1] = '\0';
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
		tree_report_at(ld, line, column,
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
	tree_report_at(ld, (int)parser->problem_mark.line + 1,
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
		tree_report(ld, node, "repeat the value instead",
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
			tree_report(ld, node, "remove the \\0 escape",
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
		tree_report_at(
			ld, (int)event->start_mark.line + 1,
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
		tree_report(ld, node, "split it up or simplify it",
			    "the configuration is too large");
		r = -EINVAL;
	} else if (builder->depth == YAML_DEPTH_MAX) {
		tree_report(ld, node, "simplify it",
			    "the configuration is nested "
			    "too deeply");
		r = -EINVAL;
	} else if (builder->depth > 0) {
		r = ynode_append(builder->stack[builder->depth - 1], node);
	} else {
		builder->root = node;
	}
	if (r < 0) {
		tree_free(node);
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
int tree_build(struct loader *ld, const char *text, size_t len,
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
	tree_free(builder.root);
	return r;
}

bool tree_is_null(const struct ynode *node)
{
	if (node->type != YNODE_SCALAR ||
	    node->style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return node->len == 0 || !strcmp(node->text, "~") ||
	       !strcmp(node->text, "null") || !strcmp(node->text, "Null") ||
	       !strcmp(node->text, "NULL");
}

const char *tree_node_kind(const struct ynode *node)
{
	if (node->type == YNODE_MAP)
		return "a map";
	if (node->type == YNODE_LIST)
		return "a list";
	if (tree_is_null(node))
		return "empty";
	return "text";
}

/* Reports a node of the wrong type; true when the type is right. */
bool tree_expect_type(struct loader *ld, const struct ynode *node,
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
		/* One string in two pieces, not two strings. */
		[YNODE_MAP] = ("indent 'key: value' lines under it, or write "
			       "{key: value}"),
		[YNODE_LIST] = "write [a, b] or indented '- item' lines",
	};
	char label[LABEL_MAX];

	if (node->skip)
		return false;
	if (node->type == type && !(type == YNODE_SCALAR && tree_is_null(node)))
		return true;

	tree_label_of(label, key, section);
	if (type == YNODE_SCALAR && tree_is_null(node))
		tree_report(ld, node, "give a value or remove the key",
			    "%s has no value", label);
	else
		tree_report(ld, node, hints[type], "%s must be %s, not %s",
			    label, wanted[type], tree_node_kind(node));
	return false;
}

/* A scalar's text (borrowed), or NULL after reporting why not. */
const char *tree_scalar_text(struct loader *ld, const struct ynode *node,
			     const char *key, const char *section)
{
	char label[LABEL_MAX];

	if (!tree_expect_type(ld, node, YNODE_SCALAR, key, section))
		return NULL;

	if (node->len == 0) {
		tree_label_of(label, key, section);
		tree_report(ld, node, "give a value or remove the key",
			    "%s is empty", label);
		return NULL;
	}
	return node->text;
}

static int named_by_name(const void *a, const void *b)
{
	const struct tree_named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

static int named_by_index(const void *a, const void *b)
{
	const struct tree_named *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

void tree_find_duplicates(struct tree_named *v, size_t n)
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

void tree_report_duplicates(struct loader *ld, struct tree_named *v, size_t n,
			    const char *what)
{
	tree_find_duplicates(v, n);
	for (size_t i = 0; i < n; i++) {
		char hint[HINT_MAX];

		if (!v[i].first)
			continue;
		snprintf(hint, sizeof(hint), "first used at line %d, column %d",
			 v[i].first->line, v[i].first->column);
		tree_report(ld, v[i].node, hint, "duplicate %s '%s'", what,
			    v[i].name);
	}
}

/* Reports keys that are not text and duplicate keys, marking them skip. */
void tree_check_keys(struct loader *ld, struct ynode *map, const char *section)
{
	size_t n = map->n / 2, m = 0;
	struct tree_named *v;

	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		ld->oom = true;
		return;
	}

	for (size_t i = 0; i < n; i++) {
		struct ynode *key = map->items[2 * i];

		if (key->skip)
			continue;
		if (key->type != YNODE_SCALAR || tree_is_null(key)) {
			tree_report(ld, key, "write 'name: value'",
				    "a key in %s must be a name, not %s",
				    section, tree_node_kind(key));
			key->skip = true;
			continue;
		}
		v[m++] = (struct tree_named){
			.name = key->text, .node = key, .index = i};
	}

	tree_find_duplicates(v, m);
	for (size_t i = 0; i < m; i++) {
		char hint[HINT_MAX];

		if (!v[i].first)
			continue;
		snprintf(hint, sizeof(hint),
			 "first given at line %d, column %d", v[i].first->line,
			 v[i].first->column);
		tree_report(ld, v[i].node, hint, "duplicate key '%s' in %s",
			    v[i].name, section);
		v[i].node->skip = true;
	}
	free(v);
}

/*
 * Checks a map's keys against names (a NULL entry is a key not allowed
 * here) and fills values[i] with the value of names[i], or NULL.
 */
void tree_map_fields(struct loader *ld, struct ynode *map, const char *section,
		     const char *const *names, size_t n_names,
		     struct ynode **values)
{
	for (size_t i = 0; i < n_names; i++)
		values[i] = NULL;
	tree_check_keys(ld, map, section);

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

		tree_report(ld, key,
			    tree_hint_names(hint, key->text, names, n_names,
					    "the keys here are"),
			    "unknown key '%s' in %s", key->text, section);
	}
}

bool tree_require(struct loader *ld, const struct ynode *map,
		  const struct ynode *value, const char *key,
		  const char *section)
{
	char hint[HINT_MAX];

	if (value)
		return true;
	snprintf(hint, sizeof(hint), "add '%s:' to %s", key, section);
	tree_report(ld, map, hint, "missing required key '%s' in %s", key,
		    section);
	return false;
}

/* Names of targets, templates and routes: safe in key=value log lines. */
bool tree_name_check(struct loader *ld, const struct ynode *node,
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
	tree_report(ld, node,
		    "use at most 64 letters, digits, '_', '-' and '.'",
		    "%s name '%s' is not valid", what, node->text);
	return false;
}

/* The value of key in map, before the map is checked (or NULL). */
struct ynode *tree_map_peek(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (map->items[i]->type == YNODE_SCALAR &&
		    !strcmp(map->items[i]->text, key))
			return map->items[i + 1];
	return NULL;
}

/*
 * The column of byte offset inside a scalar, where its text is exactly
 * what is on its line (no escapes, one line); else the scalar's start.
 */
int tree_scalar_column(const struct ynode *node, size_t offset)
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
