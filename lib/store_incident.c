/*
 * store_incident: incidents with their escalation state, the pages sent
 * for each level, and each incident's timeline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

enum incident_stmt {
	INC_GET,
	INC_PUT,
	INC_COUNTS,
	INC_DUE,
	INC_NEXT_DEADLINE,
	INC_LIST_OPEN,
	INC_FIND_KEY,
	INC_PAGE_ADD,
	INC_PAGES_OPEN,
	INC_PAGES_RESOLVE,
	INC_TIMELINE_ADD,
	INC_TIMELINE_LIST,
	INC_LEVELS,
	INC_TIMERS,
	INC_SILENCE_ADD,
	INC_SILENCE_LIST,
	INC_SILENCE_DELETE,
	INC_RELEASE_SILENCED,
	INC_UNDELIVERED,
	INC_STMT_COUNT
};

#define INCIDENT_COLUMNS                                                       \
	"dedup_key, identity, status, changed_at_ms, target, route,"           \
	" alert_name, severity, opened_ms, updated_ms, policy, payload,"       \
	" esc_status, esc_opened_ms, esc_next, next_deadline_ms, acked_ms,"    \
	" ack_source, silenced_until_ms"

static const char *const incident_sql[INC_STMT_COUNT] = {
	[INC_GET] = "SELECT " INCIDENT_COLUMNS
		    " FROM incidents WHERE dedup_key = ?1",
	[INC_PUT] = "INSERT OR REPLACE INTO incidents(" INCIDENT_COLUMNS ")"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
	[INC_COUNTS] = "SELECT status, COUNT(*) FROM incidents"
		       " GROUP BY status",
	[INC_DUE] = "SELECT dedup_key FROM incidents"
		    " WHERE next_deadline_ms IS NOT NULL"
		    " AND next_deadline_ms <= ?1"
		    " ORDER BY next_deadline_ms LIMIT ?2",
	[INC_NEXT_DEADLINE] = "SELECT MIN(next_deadline_ms) FROM incidents"
			      " WHERE next_deadline_ms IS NOT NULL",
	[INC_LIST_OPEN] = "SELECT " INCIDENT_COLUMNS " FROM incidents"
			  " WHERE status IN ('triggered', 'silenced')"
			  " ORDER BY opened_ms DESC LIMIT ?1",
	[INC_FIND_KEY] = "SELECT dedup_key FROM incidents WHERE dedup_key = ?1"
			 " UNION ALL"
			 " SELECT dedup_key FROM pages WHERE level_key = ?1"
			 " LIMIT 1",
	[INC_PAGE_ADD] =
		"INSERT INTO pages(level_key, dedup_key, step, pass,"
		" target, paged_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT(level_key) DO UPDATE SET resolved_ms = 0",
	[INC_PAGES_OPEN] = "SELECT level_key, target, step, pass, paged_ms"
			   " FROM pages WHERE dedup_key = ?1"
			   " AND resolved_ms = 0 ORDER BY paged_ms, step, pass",
	[INC_PAGES_RESOLVE] = "UPDATE pages SET resolved_ms = ?2"
			      " WHERE dedup_key = ?1 AND resolved_ms = 0",
	[INC_LEVELS] =
		"SELECT MIN(MAX((SELECT COUNT(*) FROM pages p"
		" WHERE p.dedup_key = i.dedup_key AND p.resolved_ms = 0),"
		" 1), ?1) AS level, COUNT(*) FROM incidents i"
		" WHERE i.status = 'triggered' GROUP BY level",
	[INC_TIMERS] = "SELECT COUNT(*), MIN(next_deadline_ms) FROM incidents"
		       " WHERE next_deadline_ms IS NOT NULL",
	[INC_SILENCE_ADD] = "INSERT INTO silences(name, spec, start_ms, end_ms,"
			    " created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
	[INC_SILENCE_LIST] = "SELECT id, name, spec, start_ms, end_ms"
			     " FROM silences WHERE end_ms > ?1 ORDER BY id",
	[INC_SILENCE_DELETE] = "DELETE FROM silences WHERE id = ?1",
	[INC_RELEASE_SILENCED] = "UPDATE incidents SET next_deadline_ms = ?1,"
				 " silenced_until_ms = ?1"
				 " WHERE status = 'silenced'",
	[INC_TIMELINE_ADD] = "INSERT INTO timeline(dedup_key, at_ms, what,"
			     " detail) VALUES (?1, ?2, ?3, ?4)",
	[INC_TIMELINE_LIST] = "SELECT id, at_ms, what, detail FROM"
			      " (SELECT id, at_ms, what, detail FROM timeline"
			      " WHERE dedup_key = ?1 ORDER BY id DESC LIMIT ?2)"
			      " ORDER BY id",
	[INC_UNDELIVERED] =
		"SELECT"
		" (SELECT COUNT(*) FROM outbox WHERE action = 'trigger'"
		"  AND order_key IN (SELECT ?1 UNION"
		"  SELECT level_key FROM pages WHERE dedup_key = ?1)),"
		" (SELECT COUNT(*) FROM dead_letters WHERE action = 'trigger'"
		"  AND order_key IN (SELECT ?1 UNION"
		"  SELECT level_key FROM pages WHERE dedup_key = ?1))",
};

_Static_assert(INC_STMT_COUNT <= STORE_INCIDENT_STMTS_MAX,
	       "too many statements");

int store_incident_prepare(struct store *store)
{
	for (int i = 0; i < INC_STMT_COUNT; i++) {
		int rc = sqlite3_prepare_v3(store->db, incident_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &store->incident_stmt[i], NULL);

		if (rc != SQLITE_OK)
			return store_errno(rc);
	}
	return 0;
}

void store_incident_finalize(struct store *store)
{
	for (int i = 0; i < INC_STMT_COUNT; i++) {
		sqlite3_finalize(store->incident_stmt[i]);
		store->incident_stmt[i] = NULL;
	}
}

static sqlite3_stmt *stmt_get(struct store *store, enum incident_stmt which)
{
	sqlite3_stmt *stmt = store->incident_stmt[which];

	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	return stmt;
}

int store_collect(sqlite3_stmt *stmt, size_t item_size,
		  int (*read)(sqlite3_stmt *stmt, void *item),
		  void (*release)(void *items, size_t n), void **ret_items,
		  size_t *ret_n)
{
	char *items = NULL;
	size_t n = 0;
	size_t cap = 0;
	int rc;
	int r = 0;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			size_t want = cap ? cap * 2 : 8;
			char *grown = realloc(items, want * item_size);

			if (!grown) {
				r = -ENOMEM;
				break;
			}
			memset(grown + cap * item_size, 0,
			       (want - cap) * item_size);
			items = grown;
			cap = want;
		}
		r = read(stmt, items + n * item_size);
		n++;
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_errno(rc);
	sqlite3_reset(stmt);

	if (r < 0) {
		release(items, n);
		return r;
	}
	*ret_items = items;
	*ret_n = n;
	return 0;
}

void store_incident_release(struct store_incident *incident)
{
	if (!incident)
		return;

	free(incident->dedup_key);
	free(incident->identity);
	free(incident->target);
	free(incident->route);
	free(incident->alert_name);
	free(incident->severity);
	free(incident->policy);
	free(incident->payload);
	free(incident->ack_source);
	memset(incident, 0, sizeof(*incident));
}

void store_incidents_free(struct store_incident *incidents, size_t n)
{
	if (!incidents)
		return;

	for (size_t i = 0; i < n; i++)
		store_incident_release(&incidents[i]);
	free(incidents);
}

static int incident_read(sqlite3_stmt *stmt, struct store_incident *out)
{
	const char *status = (const char *)sqlite3_column_text(stmt, 2);
	const char *esc = (const char *)sqlite3_column_text(stmt, 12);

	out->dedup_key = store_column_strdup(stmt, 0);
	out->identity = store_column_strdup(stmt, 1);
	if (!status || incident_status_from_name(status, &out->status) < 0)
		out->status = INCIDENT_STATUS_NONE;
	out->changed_at_ms = sqlite3_column_int64(stmt, 3);
	out->target = store_column_strdup(stmt, 4);
	out->route = store_column_strdup(stmt, 5);
	out->alert_name = store_column_strdup(stmt, 6);
	out->severity = store_column_strdup(stmt, 7);
	out->opened_ms = sqlite3_column_int64(stmt, 8);
	out->updated_ms = sqlite3_column_int64(stmt, 9);
	out->policy = store_column_strdup(stmt, 10);
	out->payload = store_column_strdup(stmt, 11);
	if (!esc || escalation_status_from_name(esc, &out->esc_status) < 0)
		out->esc_status = ESCALATION_NONE;
	out->esc_opened_ms = sqlite3_column_int64(stmt, 13);
	out->esc_next = (unsigned int)sqlite3_column_int(stmt, 14);
	out->next_deadline_ms = sqlite3_column_type(stmt, 15) == SQLITE_NULL
					? ESCALATION_NEVER
					: sqlite3_column_int64(stmt, 15);
	out->acked_ms = sqlite3_column_int64(stmt, 16);
	out->ack_source = store_column_strdup(stmt, 17);
	out->silenced_until_ms = sqlite3_column_int64(stmt, 18);

	if (!out->dedup_key || !out->identity) {
		store_incident_release(out);
		return -ENOMEM;
	}
	return 0;
}

int store_incident_get(struct store *store, const char *dedup_key,
		       struct store_incident *ret_incident, bool *ret_found)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_GET);
	struct store_incident incident = {0};
	int rc;
	int r = 0;

	store_bind_text(stmt, 1, dedup_key);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_DONE) {
		*ret_found = false;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = store_errno(rc);
		goto out;
	}

	r = incident_read(stmt, &incident);
	if (r < 0)
		goto out;

	*ret_incident = incident;
	*ret_found = true;
out:
	sqlite3_reset(stmt);
	return r;
}

int store_incident_put(struct store *store,
		       const struct store_incident *incident)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_PUT);

	store_bind_text(stmt, 1, incident->dedup_key);
	store_bind_text(stmt, 2, incident->identity);
	store_bind_text(stmt, 3, incident_status_name(incident->status));
	sqlite3_bind_int64(stmt, 4, incident->changed_at_ms);
	store_bind_text(stmt, 5, incident->target);
	store_bind_text(stmt, 6, incident->route);
	store_bind_text(stmt, 7, incident->alert_name);
	store_bind_text(stmt, 8, incident->severity);
	sqlite3_bind_int64(stmt, 9, incident->opened_ms);
	sqlite3_bind_int64(stmt, 10, incident->updated_ms);
	store_bind_text(stmt, 11, incident->policy);
	store_bind_text(stmt, 12, incident->payload);
	store_bind_text(stmt, 13, escalation_status_name(incident->esc_status));
	sqlite3_bind_int64(stmt, 14, incident->esc_opened_ms);
	sqlite3_bind_int(stmt, 15, (int)incident->esc_next);
	if (incident->next_deadline_ms == ESCALATION_NEVER)
		sqlite3_bind_null(stmt, 16);
	else
		sqlite3_bind_int64(stmt, 16, incident->next_deadline_ms);
	sqlite3_bind_int64(stmt, 17, incident->acked_ms);
	store_bind_text(stmt, 18, incident->ack_source);
	sqlite3_bind_int64(stmt, 19, incident->silenced_until_ms);
	return store_stmt_run(stmt);
}

int store_incident_find_key(struct store *store, const char *key,
			    char **ret_dedup_key)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_FIND_KEY);
	int rc;
	int r = 0;

	store_bind_text(stmt, 1, key);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_dedup_key = store_column_strdup(stmt, 0);
		r = *ret_dedup_key ? 0 : -ENOMEM;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : store_errno(rc);
	}
	sqlite3_reset(stmt);
	return r;
}

int store_incident_counts(struct store *store,
			  int64_t ret_counts[INCIDENT_STATUS_COUNT])
{
	sqlite3_stmt *stmt = stmt_get(store, INC_COUNTS);
	int64_t counts[INCIDENT_STATUS_COUNT] = {0};
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		enum incident_status status;
		const char *name = (const char *)sqlite3_column_text(stmt, 0);

		if (name && incident_status_from_name(name, &status) == 0)
			counts[status] = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_errno(rc);

	memcpy(ret_counts, counts, sizeof(counts));
	return 0;
}

int store_incident_due(struct store *store, int64_t now_ms, size_t max,
		       char ***ret_keys, size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_DUE);
	char **keys = calloc(max ? max : 1, sizeof(*keys));
	size_t n = 0;
	int rc = SQLITE_DONE;
	int r = 0;

	if (!keys)
		return -ENOMEM;

	sqlite3_bind_int64(stmt, 1, now_ms);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		keys[n] = store_column_strdup(stmt, 0);
		if (!keys[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	if (r == 0 && n < max && rc != SQLITE_DONE)
		r = store_errno(rc);
	sqlite3_reset(stmt);

	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(keys[i]);
		free(keys);
		return r;
	}
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

int store_incident_next_deadline(struct store *store, int64_t *ret_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_NEXT_DEADLINE);
	int64_t next = ESCALATION_NEVER;
	int rc;

	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		next = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_errno(rc);

	*ret_ms = next;
	return 0;
}

static int incident_read_item(sqlite3_stmt *stmt, void *item)
{
	return incident_read(stmt, item);
}

static void incidents_release(void *items, size_t n)
{
	store_incidents_free(items, n);
}

int store_incident_list_open(struct store *store, size_t max,
			     struct store_incident **ret_incidents,
			     size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_LIST_OPEN);

	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)max);
	return store_collect(stmt, sizeof(**ret_incidents), incident_read_item,
			     incidents_release, (void **)ret_incidents, ret_n);
}

int store_page_add(struct store *store, const char *dedup_key,
		   const struct store_page *page)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_PAGE_ADD);

	store_bind_text(stmt, 1, page->level_key);
	store_bind_text(stmt, 2, dedup_key);
	sqlite3_bind_int(stmt, 3, (int)page->step);
	sqlite3_bind_int(stmt, 4, (int)page->pass);
	store_bind_text(stmt, 5, page->target);
	sqlite3_bind_int64(stmt, 6, page->paged_ms);
	return store_stmt_run(stmt);
}

void store_pages_free(struct store_page *pages, size_t n)
{
	if (!pages)
		return;

	for (size_t i = 0; i < n; i++) {
		free(pages[i].level_key);
		free(pages[i].target);
	}
	free(pages);
}

static int page_read(sqlite3_stmt *stmt, void *item)
{
	struct store_page *page = item;

	*page = (struct store_page){
		.level_key = store_column_strdup(stmt, 0),
		.target = store_column_strdup(stmt, 1),
		.step = (unsigned int)sqlite3_column_int(stmt, 2),
		.pass = (unsigned int)sqlite3_column_int(stmt, 3),
		.paged_ms = sqlite3_column_int64(stmt, 4),
	};
	return page->level_key && page->target ? 0 : -ENOMEM;
}

static void pages_release(void *items, size_t n)
{
	store_pages_free(items, n);
}

int store_pages_open(struct store *store, const char *dedup_key,
		     struct store_page **ret_pages, size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_PAGES_OPEN);

	store_bind_text(stmt, 1, dedup_key);
	return store_collect(stmt, sizeof(**ret_pages), page_read,
			     pages_release, (void **)ret_pages, ret_n);
}

int store_pages_resolve(struct store *store, const char *dedup_key,
			int64_t now_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_PAGES_RESOLVE);

	store_bind_text(stmt, 1, dedup_key);
	sqlite3_bind_int64(stmt, 2, now_ms);
	return store_stmt_run(stmt);
}

int store_timeline_add(struct store *store, const char *dedup_key,
		       int64_t at_ms, const char *what, const char *detail)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_TIMELINE_ADD);

	store_bind_text(stmt, 1, dedup_key);
	sqlite3_bind_int64(stmt, 2, at_ms);
	store_bind_text(stmt, 3, what);
	store_bind_text(stmt, 4, detail);
	return store_stmt_run(stmt);
}

void store_timeline_free(struct store_timeline_entry *entries, size_t n)
{
	if (!entries)
		return;

	for (size_t i = 0; i < n; i++) {
		free(entries[i].what);
		free(entries[i].detail);
	}
	free(entries);
}

static int timeline_read(sqlite3_stmt *stmt, void *item)
{
	struct store_timeline_entry *entry = item;

	*entry = (struct store_timeline_entry){
		.id = sqlite3_column_int64(stmt, 0),
		.at_ms = sqlite3_column_int64(stmt, 1),
		.what = store_column_strdup(stmt, 2),
		.detail = store_column_strdup(stmt, 3),
	};
	return entry->what ? 0 : -ENOMEM;
}

static void timeline_release(void *items, size_t n)
{
	store_timeline_free(items, n);
}

int store_timeline_list(struct store *store, const char *dedup_key, size_t max,
			struct store_timeline_entry **ret_entries,
			size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_TIMELINE_LIST);

	store_bind_text(stmt, 1, dedup_key);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)max);
	return store_collect(stmt, sizeof(**ret_entries), timeline_read,
			     timeline_release, (void **)ret_entries, ret_n);
}

int store_incident_undelivered(struct store *store, const char *dedup_key,
			       int64_t *ret_pending, int64_t *ret_dead)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_UNDELIVERED);
	int rc;

	store_bind_text(stmt, 1, dedup_key);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_pending = sqlite3_column_int64(stmt, 0);
		*ret_dead = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : store_errno(rc);
}

int store_escalation_stats(struct store *store, size_t n_levels,
			   int64_t *ret_levels, int64_t *ret_timers,
			   int64_t *ret_next_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_LEVELS);
	int rc;

	memset(ret_levels, 0, n_levels * sizeof(*ret_levels));
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)n_levels);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t level = sqlite3_column_int64(stmt, 0);

		if (level >= 1 && (size_t)level <= n_levels)
			ret_levels[level - 1] = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return store_errno(rc);

	stmt = stmt_get(store, INC_TIMERS);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*ret_timers = sqlite3_column_int64(stmt, 0);
		*ret_next_ms = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 0 : store_errno(rc);
}

int store_silence_add(struct store *store, const struct store_silence *silence,
		      int64_t now_ms, int64_t *ret_id)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_SILENCE_ADD);
	int r;

	store_bind_text(stmt, 1, silence->name);
	store_bind_text(stmt, 2, silence->spec);
	sqlite3_bind_int64(stmt, 3, silence->start_ms);
	sqlite3_bind_int64(stmt, 4, silence->end_ms);
	sqlite3_bind_int64(stmt, 5, now_ms);
	r = store_stmt_run(stmt);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(store->db);
	return r;
}

void store_silences_free(struct store_silence *silences, size_t n)
{
	if (!silences)
		return;

	for (size_t i = 0; i < n; i++) {
		free(silences[i].name);
		free(silences[i].spec);
	}
	free(silences);
}

static int silence_read(sqlite3_stmt *stmt, void *item)
{
	struct store_silence *silence = item;

	*silence = (struct store_silence){
		.id = sqlite3_column_int64(stmt, 0),
		.name = store_column_strdup(stmt, 1),
		.spec = store_column_strdup(stmt, 2),
		.start_ms = sqlite3_column_int64(stmt, 3),
		.end_ms = sqlite3_column_int64(stmt, 4),
	};
	return silence->spec ? 0 : -ENOMEM;
}

static void silences_release(void *items, size_t n)
{
	store_silences_free(items, n);
}

int store_silence_list(struct store *store, int64_t now_ms,
		       struct store_silence **ret_silences, size_t *ret_n)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_SILENCE_LIST);

	sqlite3_bind_int64(stmt, 1, now_ms);
	return store_collect(stmt, sizeof(**ret_silences), silence_read,
			     silences_release, (void **)ret_silences, ret_n);
}

int store_silence_delete(struct store *store, int64_t id, bool *ret_found)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_SILENCE_DELETE);
	int r;

	sqlite3_bind_int64(stmt, 1, id);
	r = store_stmt_run(stmt);
	if (r == 0)
		*ret_found = sqlite3_changes(store->db) > 0;
	return r;
}

int store_incident_release_silenced(struct store *store, int64_t now_ms)
{
	sqlite3_stmt *stmt = stmt_get(store, INC_RELEASE_SILENCED);

	sqlite3_bind_int64(stmt, 1, now_ms);
	return store_stmt_run(stmt);
}
