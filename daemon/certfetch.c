/*
 * certfetch: a small cache of SNS signing keys, parsed once. SNS signs
 * with a handful of certificates at a time, so a short array searched in
 * order serves; past its size the least recently used entry gives way.
 */
#include "certfetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "app.h"
#include "certs.h"
#include "log.h"
#include "util.h"

#define CERT_CACHE_SIZE       32
#define CERT_MAX_BYTES        (64 * 1024)
#define CERT_FETCH_TIMEOUT_MS 5000L

struct cert_entry {
	char *file_name;
	struct certs_key key;
	uint64_t last_used;
};

struct certfetch {
	pthread_mutex_t lock;
	struct cert_entry entries[CERT_CACHE_SIZE];
	uint64_t clock;
	char cache_dir[4096];
};

int certfetch_new(const struct config *config, struct certfetch **ret)
{
	struct certfetch *certs = calloc(1, sizeof(*certs));

	if (!certs)
		return -ENOMEM;

	pthread_mutex_init(&certs->lock, NULL);
	snprintf(certs->cache_dir, sizeof(certs->cache_dir), "%s/certs",
		 config->state_dir);

	/* The on-disk cache is an optimisation: carry on without it. */
	if (mkdir(certs->cache_dir, 0755) < 0 && errno != EEXIST)
		LOG(LOG_LEVEL_WARNING, "certs.cache_unavailable",
		    {"dir", certs->cache_dir}, {"error", strerror(errno)});

	*ret = certs;
	return 0;
}

void certfetch_free(struct certfetch *certs)
{
	if (!certs)
		return;

	for (int i = 0; i < CERT_CACHE_SIZE; i++) {
		free(certs->entries[i].file_name);
		certs_key_release(&certs->entries[i].key);
	}
	pthread_mutex_destroy(&certs->lock);
	free(certs);
}

/* A new reference to the cached key for file_name and its dates. */
static int cache_lookup(struct certfetch *certs, const char *file_name,
			struct certs_key *ret_key)
{
	int r = -ENOENT;

	pthread_mutex_lock(&certs->lock);
	for (int i = 0; i < CERT_CACHE_SIZE; i++) {
		struct cert_entry *e = &certs->entries[i];

		if (!e->file_name || strcmp(e->file_name, file_name) != 0)
			continue;

		if (EVP_PKEY_up_ref(e->key.key) != 1) {
			r = -ENOMEM;
			break;
		}
		*ret_key = e->key;
		e->last_used = ++certs->clock;
		r = 0;
		break;
	}
	pthread_mutex_unlock(&certs->lock);
	return r;
}

/* Keeps a reference of its own to key. */
static void cache_insert(struct certfetch *certs, const char *file_name,
			 const struct certs_key *key)
{
	struct cert_entry *victim = &certs->entries[0];
	char *name_copy = strdup(file_name);

	if (!name_copy)
		return;
	if (EVP_PKEY_up_ref(key->key) != 1) {
		free(name_copy);
		return;
	}

	pthread_mutex_lock(&certs->lock);
	for (int i = 0; i < CERT_CACHE_SIZE; i++) {
		struct cert_entry *e = &certs->entries[i];

		if (e->file_name && strcmp(e->file_name, file_name) == 0) {
			victim = e;
			break;
		}
		if (!e->file_name || e->last_used < victim->last_used)
			victim = e;
		if (!e->file_name)
			break;
	}
	free(victim->file_name);
	certs_key_release(&victim->key);
	victim->file_name = name_copy;
	victim->key = *key;
	victim->last_used = ++certs->clock;
	pthread_mutex_unlock(&certs->lock);
}

static size_t fetch_write(char *data, size_t size, size_t n, void *userdata)
{
	struct strbuf *sb = userdata;

	if (strbuf_append(sb, data, size * n) < 0)
		return 0; /* libcurl aborts the transfer */
	return size * n;
}

static int fetch(const struct config *config, const char *url, char **ret_pem,
		 size_t *ret_len, const char **ret_reason)
{
	struct curl_slist *connect_to = NULL;
	struct strbuf sb;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	CURL *curl;
	int r = 0;

	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;

	strbuf_init(&sb, CERT_MAX_BYTES);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, CERT_FETCH_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)CERT_MAX_BYTES);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sb);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "alertbridge");

	/*
	 * Test-only: trust a test CA and connect elsewhere, while the URL,
	 * its host name and the TLS name check stay exactly as SNS sent.
	 */
	if (config->testing_cert_ca_file)
		curl_easy_setopt(curl, CURLOPT_CAINFO,
				 config->testing_cert_ca_file);
	if (config->testing_cert_connect_to) {
		connect_to = curl_slist_append(NULL,
					       config->testing_cert_connect_to);
		curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
	}

	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status != 200) {
		char code[24];

		LOG(LOG_LEVEL_WARNING, "certs.fetch_failed", {"url", url},
		    {"status", log_int(code, status)},
		    {"error",
		     rc != CURLE_OK
			     ? (errbuf[0] ? errbuf : curl_easy_strerror(rc))
			     : "unexpected status"});
		*ret_reason = "signing certificate could not be fetched";
		r = -EAGAIN;
		goto out;
	}

	*ret_pem = strbuf_detach(&sb, ret_len);
	if (!*ret_pem)
		r = -ENOMEM;
out:
	strbuf_release(&sb);
	curl_slist_free_all(connect_to);
	curl_easy_cleanup(curl);
	return r;
}

static int join_path(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Reads the PEM from cert_dir or the disk cache; no network. */
static int read_local(struct certfetch *certs, const struct config *config,
		      const char *file_name, char **ret_pem, size_t *ret_len)
{
	char path[4096];

	if (config->cert_dir &&
	    join_path(path, sizeof(path), config->cert_dir, file_name) == 0 &&
	    util_read_file(path, CERT_MAX_BYTES, ret_pem, ret_len) == 0)
		return 0;

	if (join_path(path, sizeof(path), certs->cache_dir, file_name) < 0)
		return -ENAMETOOLONG;
	return util_read_file(path, CERT_MAX_BYTES, ret_pem, ret_len);
}

/* Finds, fetches if need be, parses and caches the key for file_name. */
static int load_key(struct certfetch *certs, const struct config *config,
		    const char *url, const char *file_name,
		    struct certs_key *ret_key, const char **ret_reason)
{
	bool fetched = false;
	char *pem = NULL;
	size_t len = 0;
	char path[4096];
	int r;

	r = read_local(certs, config, file_name, &pem, &len);
	if (r < 0) {
		if (!config->cert_fetch) {
			*ret_reason = "signing certificate not found locally"
				      " and fetching is off";
			r = -EAGAIN;
			goto out;
		}
		r = fetch(config, url, &pem, &len, ret_reason);
		if (r < 0)
			goto out;
		fetched = true;
	}

	r = certs_parse_pem(pem, len, ret_key, ret_reason);
	if (r < 0) {
		r = -EKEYREJECTED;
		goto out;
	}

	/* Kept even when not valid now: validity is judged at each use. */
	if (fetched) {
		if (join_path(path, sizeof(path), certs->cache_dir, file_name) <
			    0 ||
		    util_write_file_atomic(path, pem, len) < 0)
			LOG(LOG_LEVEL_WARNING, "certs.cache_write_failed",
			    {"path", path});
		LOG(LOG_LEVEL_INFO, "certs.fetched", {"url", url});
	}
	cache_insert(certs, file_name, ret_key);
out:
	free(pem);
	return r;
}

int certfetch_get(struct certfetch *certs, const struct config *config,
		  const char *url, const char *file_name, int64_t as_of_ms,
		  EVP_PKEY **ret_key, const char **ret_reason)
{
	struct certs_key key = {0};
	int r;

	r = cache_lookup(certs, file_name, &key);
	if (r < 0) {
		r = load_key(certs, config, url, file_name, &key, ret_reason);
		if (r < 0)
			return r;
	}

	if (!config->testing_skip_cert_validity &&
	    certs_check_validity(&key, as_of_ms, ret_reason) < 0) {
		certs_key_release(&key);
		return -EKEYREJECTED;
	}

	*ret_key = key.key;
	return 0;
}
