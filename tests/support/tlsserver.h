/*
 * tlsserver: an HTTPS server on a loopback port, run inside the test
 * process, standing in for SNS's own hosts: it serves signing
 * certificates and answers SubscribeURL requests. The daemon reaches it
 * through its testing settings (cert_ca_file, cert_connect_to), so the
 * URLs it is given stay exactly as SNS writes them.
 *
 * GETs are answered from a script per path; other paths may be
 * forwarded to a plain HTTP upstream; every request is recorded.
 */
#ifndef ALERTBRIDGE_TLSSERVER_H
#define ALERTBRIDGE_TLSSERVER_H

#include <stddef.h>

struct tlsserver;

struct tlsserver_answer {
	unsigned int status;
	const char *body;     /* copied; NULL: empty */
	const char *location; /* copied; NULL: no Location header */
};

struct tlsserver_request {
	char method[16];
	char path[512];          /* without the query */
	char query[2048];        /* raw, after the '?'; "" when none */
	char host[256];          /* the Host header */
	char authorization[512]; /* the Authorization header */
	unsigned int status;     /* what it was answered */
};

/*
 * Starts on 127.0.0.1 with a free port, serving TLS with the PEM key
 * and certificate given (both copied).
 */
int tlsserver_start(const char *key_pem, const char *cert_pem,
		    struct tlsserver **ret);
void tlsserver_stop(struct tlsserver *srv);

int tlsserver_port(const struct tlsserver *srv);

/*
 * Appends count answers to the script of GET path (matched whole, the
 * query left aside). Once a path's script is used up, its last answer
 * repeats; a path with no script is proxied or answered 404.
 */
int tlsserver_script(struct tlsserver *srv, const char *path,
		     struct tlsserver_answer answer, unsigned int count);

/* Drops the script of path. */
void tlsserver_clear(struct tlsserver *srv, const char *path);

/*
 * Forwards a GET of any unscripted path ending in suffix to upstream
 * ("http://host:port"), adding header (a whole "Name: value" line), and
 * answers with the upstream's status and body (502 when it cannot be
 * reached).
 */
int tlsserver_proxy(struct tlsserver *srv, const char *suffix,
		    const char *upstream, const char *header);

/* Requests received for path so far (path NULL: all of them). */
size_t tlsserver_count(struct tlsserver *srv, const char *path);

/* Copies request i, in the order received. -ENOENT past the end. */
int tlsserver_request(struct tlsserver *srv, size_t i,
		      struct tlsserver_request *ret);

/* Polls until at least n requests for path arrived, or -ETIMEDOUT. */
int tlsserver_wait(struct tlsserver *srv, const char *path, size_t n,
		   int timeout_ms);

#endif
