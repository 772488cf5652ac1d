/*
 * silences: matching, and the API's silences in memory and the store.
 */
#include "silences.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "route.h"
#include "store.h"
#include "timeutil.h"

/* Silences the API may hold at once. */
#define SILENCES_MAX 1000

struct api_silence {
	int64_t id;
	char *spec; /* the JSON it was set with */
	struct config_silence silence;
};

struct silences {
	char *state_dir; /* fixed for the daemon's life, unlike config */
	pthread_mutex_t lock;
	/* Held across an addition, so that two silences of one name added
	 * at once cannot both pass the check; lock alone is held only
	 * briefly, since matching waits on it. */
	pthread_mutex_t add_lock;
	struct api_silence *v;
	size_t n;
};

/* The fields of a silence's JSON, as silences.h describes them. */
static const char *const silence_fields[] = {"name", "start", "end", "duration",
					     "match"};

/*
 * s made fit to quote in a reason: at most 64 bytes, printable ASCII
 * only (others as '?'), "..." when cut. The client's own text goes back
 * to it in a one-line answer, so it is bounded and kept to one line.
 */
static const char *quoted(const char *s, char out[72])
{
	size_t n = 0;

	for (; *s && n < 64; s++, n++)
		out[n] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	if (*s) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static void globs_release(struct config_globs *globs)
{
	for (size_t i = 0; i < globs->n; i++)
		free(globs->v[i]);
	free(globs->v);
	memset(globs, 0, sizeof(*globs));
}

static void match_release(struct config_match *m)
{
	if (m->name) {
		free(m->name->text);
		free(m->name);
	}
	globs_release(&m->namespaces);
	globs_release(&m->metrics);
	globs_release(&m->regions);
	globs_release(&m->accounts);
	globs_release(&m->topics);
	globs_release(&m->severities);
	for (size_t i = 0; i < m->n_dimensions; i++) {
		free(m->dimensions[i].name);
		free(m->dimensions[i].value);
	}
	free(m->dimensions);
	memset(m, 0, sizeof(*m));
}

static void api_silence_release(struct api_silence *s)
{
	free(s->spec);
	free(s->silence.name);
	match_release(&s->silence.match);
}

/* A string or a list of strings. */
static int strings_of(json_t *value, struct config_globs *out)
{
	size_t n = json_is_array(value) ? json_array_size(value) : 1;

	out->v = calloc(n, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *item =
			json_is_array(value) ? json_array_get(value, i) : value;

		if (!json_is_string(item))
			return -EINVAL;
		out->v[i] = strdup(json_string_value(item));
		if (!out->v[i])
			return -ENOMEM;
		out->n++;
	}
	return out->n > 0 ? 0 : -EINVAL;
}

static int bits_of(json_t *value, bool kinds, unsigned int *ret_bits)
{
	struct config_globs names = {0};
	unsigned int bits = 0;
	int r = strings_of(value, &names);

	for (size_t i = 0; r == 0 && i < names.n; i++) {
		enum alert_kind kind;
		enum alert_state state;

		if (kinds)
			r = alert_kind_from_name(names.v[i], &kind);
		else
			r = alert_state_from_name(names.v[i], &state);
		if (r == 0)
			bits |= 1u << (kinds ? (unsigned int)kind
					     : (unsigned int)state);
	}
	globs_release(&names);
	if (r == 0)
		*ret_bits = bits;
	return r < 0 ? -EINVAL : 0;
}

static int dimensions_of(json_t *value, struct config_match *m)
{
	const char *key;
	json_t *v;

	if (!json_is_object(value))
		return -EINVAL;
	m->dimensions =
		calloc(json_object_size(value) + 1, sizeof(*m->dimensions));
	if (!m->dimensions)
		return -ENOMEM;
	json_object_foreach(value, key, v)
	{
		if (!json_is_string(v))
			return -EINVAL;
		m->dimensions[m->n_dimensions].name = strdup(key);
		m->dimensions[m->n_dimensions].value =
			strdup(json_string_value(v));
		m->n_dimensions++;
		if (!m->dimensions[m->n_dimensions - 1].name ||
		    !m->dimensions[m->n_dimensions - 1].value)
			return -ENOMEM;
	}
	return 0;
}

/* The matchers of a route, from JSON; unknown keys are refused. */
static int match_of(json_t *obj, struct config_match *m,
		    char reason[SILENCES_REASON_MAX])
{
	const char *key = NULL;
	char text[72];
	json_t *value;
	int r = 0;

	if (!json_is_object(obj) || json_object_size(obj) == 0) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "match must be an object with at least one matcher"
			 " (a silence of everything is refused)");
		return -EINVAL;
	}

	json_object_foreach(obj, key, value)
	{
		if (strcmp(key, "name") == 0) {
			if (!json_is_string(value)) {
				r = -EINVAL;
				break;
			}
			m->name = calloc(1, sizeof(*m->name));
			if (!m->name ||
			    !(m->name->text = strdup(json_string_value(value))))
				r = -ENOMEM;
		} else if (strcmp(key, "kind") == 0) {
			r = bits_of(value, true, &m->kinds);
		} else if (strcmp(key, "state") == 0) {
			r = bits_of(value, false, &m->states);
		} else if (strcmp(key, "namespace") == 0) {
			r = strings_of(value, &m->namespaces);
		} else if (strcmp(key, "metric") == 0) {
			r = strings_of(value, &m->metrics);
		} else if (strcmp(key, "region") == 0) {
			r = strings_of(value, &m->regions);
		} else if (strcmp(key, "account") == 0) {
			r = strings_of(value, &m->accounts);
		} else if (strcmp(key, "topic") == 0) {
			r = strings_of(value, &m->topics);
		} else if (strcmp(key, "severity") == 0) {
			r = strings_of(value, &m->severities);
		} else if (strcmp(key, "dimensions") == 0) {
			r = dimensions_of(value, m);
		} else {
			snprintf(reason, SILENCES_REASON_MAX,
				 "unknown matcher '%s' in match (name, kind,"
				 " state, namespace, metric, region, account,"
				 " topic, severity, dimensions)",
				 quoted(key, text));
			return -EINVAL;
		}
		if (r < 0)
			break;
	}
	if (r == -EINVAL)
		snprintf(reason, SILENCES_REASON_MAX,
			 "matcher '%s' in match has the wrong type, or an"
			 " unknown kind or state",
			 quoted(key, text));
	return r;
}

/*
 * Refuses a field silences.h does not describe, and one that should be
 * a string and is not: either would otherwise be passed over, and the
 * silence set other than its author meant.
 */
static int check_fields(json_t *obj, char reason[SILENCES_REASON_MAX])
{
	const char *key;
	char text[72];
	json_t *value;

	json_object_foreach(obj, key, value)
	{
		size_t i = 0;

		while (i < sizeof(silence_fields) / sizeof(*silence_fields) &&
		       strcmp(key, silence_fields[i]) != 0)
			i++;
		if (i == sizeof(silence_fields) / sizeof(*silence_fields)) {
			snprintf(reason, SILENCES_REASON_MAX,
				 "unknown field '%s' (name, match, start, end,"
				 " duration)",
				 quoted(key, text));
			return -EINVAL;
		}
		if (strcmp(key, "match") != 0 && !json_is_string(value)) {
			snprintf(reason, SILENCES_REASON_MAX,
				 "%s must be a string", key);
			return -EINVAL;
		}
	}
	if (json_object_get(obj, "name") &&
	    !*json_string_value(json_object_get(obj, "name"))) {
		snprintf(reason, SILENCES_REASON_MAX, "name is empty");
		return -EINVAL;
	}
	return 0;
}

/* The silence's start and end, from start (default now_ms) and end or
 * duration. */
static int times_of(json_t *obj, int64_t now_ms, struct config_silence *silence,
		    char reason[SILENCES_REASON_MAX])
{
	const char *start = json_string_value(json_object_get(obj, "start"));
	const char *end = json_string_value(json_object_get(obj, "end"));
	const char *duration =
		json_string_value(json_object_get(obj, "duration"));
	char text[72];
	int64_t length = 0;

	silence->start_ms = now_ms;
	if (start && timeutil_parse(start, &silence->start_ms) < 0) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "start is not an ISO 8601 time: '%s'",
			 quoted(start, text));
		return -EINVAL;
	}

	if (end && duration) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "give end (ISO 8601) or duration (\"2h\"), not both");
		return -EINVAL;
	}
	if (!end && !duration) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "give end (ISO 8601) or duration (\"2h\")");
		return -EINVAL;
	}
	if (end && timeutil_parse(end, &silence->end_ms) < 0) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "end is not an ISO 8601 time: '%s'",
			 quoted(end, text));
		return -EINVAL;
	}
	if (duration &&
	    (timeutil_parse_duration(duration, &length) < 0 || length <= 0)) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "duration is not a length of time above zero such"
			 " as \"2h\" (ms, s, m, h, d; a year at most): '%s'",
			 quoted(duration, text));
		return -EINVAL;
	}
	if (duration)
		silence->end_ms = silence->start_ms + length;

	if (silence->end_ms <= now_ms) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "the silence is over already");
		return -EINVAL;
	}
	if (silence->end_ms <= silence->start_ms) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "the silence ends before it starts");
		return -EINVAL;
	}
	return 0;
}

/*
 * Parses spec into silence; its times against now_ms. strict for a new
 * silence: a stored one, which passed as new once, is read as it was
 * then. *ret_named (when not NULL) tells whether spec gave a name.
 */
static int parse(const char *spec, size_t len, int64_t now_ms, bool strict,
		 struct config_silence *silence, bool *ret_named,
		 char reason[SILENCES_REASON_MAX])
{
	json_t *obj = json_loadb(spec, len, JSON_REJECT_DUPLICATES, NULL);
	const char *name = json_string_value(json_object_get(obj, "name"));
	int r = -EINVAL;

	memset(silence, 0, sizeof(*silence));
	if (!json_is_object(obj)) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "the body must be a JSON object");
		goto out;
	}

	if (strict) {
		r = check_fields(obj, reason);
		if (r < 0)
			goto out;
	}
	r = times_of(obj, now_ms, silence, reason);
	if (r < 0)
		goto out;

	r = match_of(json_object_get(obj, "match"), &silence->match, reason);
	if (r < 0)
		goto out;

	silence->name = strdup(name ? name : "api");
	r = silence->name ? 0 : -ENOMEM;
	if (ret_named)
		*ret_named = name != NULL;
out:
	if (r < 0)
		match_release(&silence->match);
	json_decref(obj);
	return r;
}

static int append(struct silences *set, int64_t id, const char *spec,
		  struct config_silence *silence)
{
	struct api_silence *grown;

	if (set->n >= SILENCES_MAX)
		return -ENOSPC;
	grown = realloc(set->v, (set->n + 1) * sizeof(*set->v));
	if (!grown)
		return -ENOMEM;
	set->v = grown;
	set->v[set->n] = (struct api_silence){
		.id = id,
		.spec = strdup(spec),
		.silence = *silence,
	};
	set->n++;
	return 0;
}

int silences_open(const struct config *config, int64_t now_ms,
		  struct silences **ret)
{
	struct silences *set = calloc(1, sizeof(*set));
	struct store_silence *rows = NULL;
	struct store *store = NULL;
	size_t n = 0;
	int r;

	if (!set)
		return -ENOMEM;
	pthread_mutex_init(&set->lock, NULL);
	pthread_mutex_init(&set->add_lock, NULL);
	set->state_dir = strdup(config->state_dir);
	if (!set->state_dir) {
		silences_free(set);
		return -ENOMEM;
	}

	r = store_open(config->state_dir, &store);
	if (r == 0)
		r = store_silence_list(store, now_ms, &rows, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct config_silence silence;
		char reason[SILENCES_REASON_MAX];

		/* What the API stored once parsed; a row that no longer
		 * does is passed over rather than blocking the start. */
		if (parse(rows[i].spec, strlen(rows[i].spec), 0, false,
			  &silence, NULL, reason) == 0) {
			silence.start_ms = rows[i].start_ms;
			silence.end_ms = rows[i].end_ms;
			r = append(set, rows[i].id, rows[i].spec, &silence);
		}
	}
	store_silences_free(rows, n);
	store_close(store);

	if (r < 0) {
		silences_free(set);
		return r;
	}
	*ret = set;
	return 0;
}

void silences_free(struct silences *set)
{
	if (!set)
		return;

	for (size_t i = 0; i < set->n; i++)
		api_silence_release(&set->v[i]);
	free(set->v);
	free(set->state_dir);
	pthread_mutex_destroy(&set->lock);
	pthread_mutex_destroy(&set->add_lock);
	free(set);
}

static bool holds(const struct config_silence *s, const struct alert *alert,
		  int64_t at, int64_t until)
{
	return s->start_ms <= at && at < s->end_ms && s->end_ms > until &&
	       route_matches(&s->match, alert);
}

int64_t silences_until(struct silences *set, const struct config *config,
		       const struct alert *alert, int64_t now_ms)
{
	int64_t until = 0;
	int64_t at = now_ms;
	bool moved = true;

	pthread_mutex_lock(&set->lock);
	while (moved) {
		moved = false;
		for (size_t i = 0; i < config->n_silences; i++) {
			if (holds(&config->silences[i], alert, at, until)) {
				until = config->silences[i].end_ms;
				moved = true;
			}
		}
		for (size_t i = 0; i < set->n; i++) {
			if (holds(&set->v[i].silence, alert, at, until)) {
				until = set->v[i].silence.end_ms;
				moved = true;
			}
		}
		at = until;
	}
	pthread_mutex_unlock(&set->lock);
	return until;
}

/*
 * Refuses a name given that a silence not yet over already has: which
 * of the two a person means when lifting "deploy" could not be told.
 * Called with add_lock held.
 */
static int name_free(struct silences *set, const struct config *config,
		     const char *name, int64_t now_ms,
		     char reason[SILENCES_REASON_MAX])
{
	char text[72];
	int64_t id = 0;

	for (size_t i = 0; i < config->n_silences; i++)
		if (config->silences[i].end_ms > now_ms &&
		    strcmp(config->silences[i].name, name) == 0)
			id = -1;

	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; !id && i < set->n; i++)
		if (set->v[i].silence.end_ms > now_ms &&
		    strcmp(set->v[i].silence.name, name) == 0)
			id = set->v[i].id;
	pthread_mutex_unlock(&set->lock);

	if (id < 0)
		snprintf(reason, SILENCES_REASON_MAX,
			 "a silence named '%s' is in the configuration;"
			 " choose another name",
			 quoted(name, text));
	else if (id > 0)
		snprintf(reason, SILENCES_REASON_MAX,
			 "a silence named '%s' exists already (id %lld);"
			 " lift it first or choose another name",
			 quoted(name, text), (long long)id);
	return id ? -EEXIST : 0;
}

int silences_add(struct silences *set, const struct config *config,
		 const char *json, size_t len, int64_t now_ms, int64_t *ret_id,
		 char reason[SILENCES_REASON_MAX])
{
	struct store_silence row = {0};
	struct config_silence silence;
	struct store *store = NULL;
	char *spec = NULL;
	bool named = false;
	int r;

	r = parse(json, len, now_ms, true, &silence, &named, reason);
	if (r < 0)
		return r;

	/* Only a name given must be unique: "api", the default, is not. */
	pthread_mutex_lock(&set->add_lock);
	if (named) {
		r = name_free(set, config, silence.name, now_ms, reason);
		if (r < 0)
			goto fail;
	}

	spec = strndup(json, len);
	if (!spec) {
		r = -ENOMEM;
		snprintf(reason, SILENCES_REASON_MAX, "out of memory");
		goto fail;
	}

	row = (struct store_silence){
		.name = silence.name,
		.spec = spec,
		.start_ms = silence.start_ms,
		.end_ms = silence.end_ms,
	};
	r = store_open(set->state_dir, &store);
	if (r == 0)
		r = store_silence_add(store, &row, now_ms, ret_id);
	store_close(store);
	if (r < 0) {
		snprintf(reason, SILENCES_REASON_MAX,
			 "the store could not keep it");
		goto fail;
	}

	pthread_mutex_lock(&set->lock);
	r = append(set, *ret_id, spec, &silence);
	pthread_mutex_unlock(&set->lock);
	if (r < 0) {
		snprintf(reason, SILENCES_REASON_MAX, "too many silences");
		goto fail;
	}
	pthread_mutex_unlock(&set->add_lock);
	free(spec);
	return 0;
fail:
	pthread_mutex_unlock(&set->add_lock);
	free(spec);
	free(silence.name);
	match_release(&silence.match);
	return r;
}

int silences_remove(struct silences *set, int64_t id, bool *ret_found)
{
	struct store *store = NULL;
	int r;

	*ret_found = false;
	r = store_open(set->state_dir, &store);
	if (r == 0)
		r = store_begin(store);
	if (r == 0)
		r = store_silence_delete(store, id, ret_found);
	if (r == 0 && *ret_found)
		r = store_incident_release_silenced(store, app_wall_ms());
	if (r == 0)
		r = store_commit(store);
	else if (store)
		store_rollback(store);
	store_close(store);
	if (r < 0)
		return r;

	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].id != id)
			continue;
		api_silence_release(&set->v[i]);
		set->v[i] = set->v[--set->n];
		*ret_found = true;
		break;
	}
	pthread_mutex_unlock(&set->lock);
	return 0;
}

static json_t *silence_json(const struct config_silence *s, int64_t id,
			    const char *spec)
{
	char start[32];
	char end[32];
	json_t *obj;

	timeutil_format(s->start_ms, start);
	timeutil_format(s->end_ms, end);
	obj = json_pack("{s:s, s:s, s:s}", "name", s->name ? s->name : "",
			"start", start, "end", end);
	if (!obj)
		return NULL;
	if (id > 0) {
		json_t *given = json_loads(spec, 0, NULL);

		json_object_set_new(obj, "id", json_integer(id));
		json_object_set_new(obj, "source", json_string("api"));
		json_object_set(obj, "match", json_object_get(given, "match"));
		json_decref(given);
	} else {
		json_object_set_new(obj, "source",
				    json_string("configuration"));
	}
	return obj;
}

char *silences_list(struct silences *set, const struct config *config,
		    int64_t now_ms)
{
	json_t *array = json_array();
	char *text;

	for (size_t i = 0; i < config->n_silences; i++)
		if (config->silences[i].end_ms > now_ms)
			json_array_append_new(
				array,
				silence_json(&config->silences[i], 0, NULL));

	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].silence.end_ms > now_ms)
			json_array_append_new(array,
					      silence_json(&set->v[i].silence,
							   set->v[i].id,
							   set->v[i].spec));
	pthread_mutex_unlock(&set->lock);

	text = json_dumps(array, JSON_INDENT(2));
	json_decref(array);
	return text;
}
