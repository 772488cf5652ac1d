/*
 * certfetch: SNS signing certificates by URL. Looked for in memory, then
 * the configured certificate directory, then the on-disk cache in the
 * state directory, and fetched over HTTPS (no redirects) as a last
 * resort. A fetched certificate is cached on disk and in memory.
 *
 * A fetch blocks the calling request thread for at most the fetch
 * timeout; it happens once per signing certificate, which SNS rotates
 * rarely.
 */
#ifndef ALERTBRIDGE_CERTFETCH_H
#define ALERTBRIDGE_CERTFETCH_H

#include <stdint.h>

#include <openssl/evp.h>

#include "config.h"

struct certfetch;

/* The disk cache is in config's state directory, fixed from here. */
int certfetch_new(const struct config *config, struct certfetch **ret);
void certfetch_free(struct certfetch *certs);

/*
 * The public key of the certificate at url, whose policy the caller has
 * checked (file_name is its last path segment), looked for and fetched
 * as config (the caller's request's) says. The key is a new
 * reference: EVP_PKEY_free() it. Returns -EAGAIN when the certificate
 * cannot be had now (a fetch failed: SNS should retry), -EKEYREJECTED
 * when it is not a valid certificate at as_of_ms.
 */
int certfetch_get(struct certfetch *certs, const struct config *config,
		  const char *url, const char *file_name, int64_t as_of_ms,
		  EVP_PKEY **ret_key, const char **ret_reason);

#endif
