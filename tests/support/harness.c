/*
 * harness: process control and HTTP for the integration tests.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define START_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS  15000

static const char *const fixture_certs[] = {
	"SimpleNotificationService-56e67fcb41f6fec09b0196692625d385.pem",
	"SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem",
};

int64_t harness_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

const char *harness_binary(void)
{
	const char *bin = getenv("ALERTBRIDGE_BIN");

	return bin ? bin : ALERTBRIDGE_BIN;
}

char *harness_slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		data = malloc((size_t)len + 1);
		if (data && fread(data, 1, (size_t)len, f) == (size_t)len) {
			data[len] = '\0';
			if (ret_len)
				*ret_len = (size_t)len;
		} else {
			free(data);
			data = NULL;
		}
	}
	fclose(f);
	return data;
}

static int copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = harness_slurp(from, &len);
	FILE *f;
	int r = 0;

	if (!data)
		return -errno;
	f = fopen(to, "wb");
	if (!f || fwrite(data, 1, len, f) != len)
		r = -EIO;
	if (f)
		fclose(f);
	free(data);
	return r;
}

int harness_init(struct harness *h)
{
	char from[512];
	char to[512];

	memset(h, 0, sizeof(*h));
	strcpy(h->dir, "/tmp/ab-test-XXXXXX");
	if (!mkdtemp(h->dir))
		return -errno;

	snprintf(h->config, sizeof(h->config), "%s/alertbridge.yaml", h->dir);
	snprintf(h->state_dir, sizeof(h->state_dir), "%s/state", h->dir);
	snprintf(h->cert_dir, sizeof(h->cert_dir), "%s/certs", h->dir);
	snprintf(h->log_path, sizeof(h->log_path), "%s/daemon.log", h->dir);
	if (mkdir(h->cert_dir, 0755) < 0)
		return -errno;

	for (size_t i = 0; i < sizeof(fixture_certs) / sizeof(*fixture_certs);
	     i++) {
		snprintf(from, sizeof(from), "%s/sns/real-signed/certs/%s",
			 FIXTURES_DIR, fixture_certs[i]);
		snprintf(to, sizeof(to), "%s/%s", h->cert_dir,
			 fixture_certs[i]);
		if (copy_file(from, to) < 0)
			return -EIO;
	}
	return 0;
}

void harness_cleanup(struct harness *h)
{
	char cmd[128];

	if (h->pid > 0)
		harness_kill(h);
	if (getenv("ALERTBRIDGE_KEEP_TEST_DIR"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", h->dir);
}

int harness_write_config(struct harness *h, const char *fmt, ...)
{
	va_list ap;
	FILE *f = fopen(h->config, "w");

	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Targets and routes of the standard configurations. */
static const char standard_routing[] =
	"targets:\n"
	"  primary: {routing_key: " HARNESS_KEY_PRIMARY "}\n"
	"  secondary: {routing_key: " HARNESS_KEY_SECONDARY "}\n"
	"routes:\n"
	"  - name: lambda-critical\n"
	"    match: {namespace: AWS/Lambda}\n"
	"    target: primary\n"
	"    severity: critical\n"
	"    template: ghostline\n"
	"default_route:\n"
	"  target: secondary\n"
	"  severity: error\n"
	"  template: ghostline\n";

/* Pacing and retries of the standard configurations: fast. */
#define STANDARD_DELIVERY                                                      \
	"  rate_per_minute: 6000\n"                                            \
	"  retry: {initial: 100ms, max: 1s, deadline: 1h}\n"

/*
 * Everything the test configurations share; sns_certs says where
 * certificates come from, routing holds targets, routes (and policies),
 * pagerduty more keys of that section (STANDARD_DELIVERY's at least),
 * and testing is the body of the testing: section.
 */
static int write_test_config(struct harness *h, const char *events_url,
			     const char *sns_certs, const char *routing,
			     const char *pagerduty, const char *testing,
			     const char *extra)
{
	return harness_write_config(
		h,
		"listen: 127.0.0.1:0\n"
		"state_dir: %s\n"
		"environment: production\n"
		"region: us-east-1\n"
		"sns:\n"
		"  topics:\n"
		"    - arn:aws:sns:ca-central-1:017790921725:test-sre-bot\n"
		"    - arn:aws:sns:us-east-1:123456789012:alertbridge-test\n"
		"%s"
		"  replay_window: 2h\n"
		"pagerduty:\n"
		"  events_url: %s\n"
		"  timeout: 2s\n"
		"%s"
		"templates:\n"
		"  ghostline:\n"
		"    summary: \"GhostLine Alert: {{alert_name}}\"\n"
		"    source: aws-cloudwatch\n"
		"    custom_details:\n"
		"      environment: \"{{environment}}\"\n"
		"      region: \"{{region}}\"\n"
		"      metric: \"{{metric_name}}\"\n"
		"      value: \"{{metric_value}}\"\n"
		"%s"
		"testing:\n"
		"%s"
		"%s",
		h->state_dir, sns_certs, events_url, pagerduty, routing,
		testing, extra);
}

int harness_write_standard_config(struct harness *h, const char *events_url,
				  const char *as_of, const char *extra)
{
	char certs[256];
	char testing[96];

	snprintf(certs, sizeof(certs), "  cert_dir: %s\n  cert_fetch: false\n",
		 h->cert_dir);
	snprintf(testing, sizeof(testing), "  as_of: %s\n", as_of);
	return write_test_config(h, events_url, certs, standard_routing,
				 STANDARD_DELIVERY, testing, extra);
}

int harness_write_delivery_config(struct harness *h, const char *events_url,
				  const char *as_of, const char *clock_file,
				  const char *delivery, const char *routing)
{
	char certs[256];
	char testing[256];

	snprintf(certs, sizeof(certs), "  cert_dir: %s\n  cert_fetch: false\n",
		 h->cert_dir);
	if (snprintf(testing, sizeof(testing), "  as_of: %s\n%s%s%s", as_of,
		     clock_file ? "  clock_file: " : "",
		     clock_file ? clock_file : "",
		     clock_file ? "\n" : "") >= (int)sizeof(testing))
		return -ENAMETOOLONG;
	return write_test_config(h, events_url, certs,
				 routing ? routing : standard_routing, delivery,
				 testing, "");
}

int harness_write_fetch_config(struct harness *h, const char *events_url,
			       const char *ca_file, const char *connect_to,
			       const char *extra)
{
	char testing[1024];

	if (snprintf(testing, sizeof(testing),
		     "  cert_ca_file: %s\n  cert_connect_to: \"%s\"\n", ca_file,
		     connect_to) >= (int)sizeof(testing))
		return -ENAMETOOLONG;
	return write_test_config(h, events_url, "  cert_fetch: true\n",
				 standard_routing, STANDARD_DELIVERY, testing,
				 extra);
}

static pid_t spawn(struct harness *h, const char *port_file,
		   bool not_production, const char *const *extra_args)
{
	const char *argv[32];
	int argc = 0;
	pid_t pid;

	argv[argc++] = harness_binary();
	argv[argc++] = "serve";
	argv[argc++] = "-c";
	argv[argc++] = h->config;
	if (not_production)
		argv[argc++] = "--not-production";
	if (port_file) {
		argv[argc++] = "--port-file";
		argv[argc++] = port_file;
	}
	for (; extra_args && *extra_args && argc < 30; extra_args++)
		argv[argc++] = *extra_args;
	argv[argc] = NULL;

	pid = fork();
	if (pid == 0) {
		int fd = open(h->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

int harness_start(struct harness *h)
{
	char port_file[160];
	int64_t deadline = harness_mono_ms() + START_TIMEOUT_MS;
	int status;

	snprintf(port_file, sizeof(port_file), "%s/port", h->dir);
	unlink(port_file);

	h->pid = spawn(h, port_file, true, NULL);
	if (h->pid < 0)
		return -errno;

	while (harness_mono_ms() < deadline) {
		char *text = harness_slurp(port_file, NULL);

		if (text) {
			h->port = atoi(text);
			free(text);
			if (h->port > 0)
				return 0;
		}
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			h->pid = 0;
			return -ECHILD;
		}
		harness_pause_ms(10);
	}
	harness_kill(h);
	return -ETIMEDOUT;
}

int harness_run_expect_exit(struct harness *h, const char *const *extra_args,
			    int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;
	pid_t pid = spawn(h, NULL, false, extra_args);
	int status;

	while (harness_mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		harness_pause_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -ETIMEDOUT;
}

int harness_stop(struct harness *h)
{
	int64_t deadline = harness_mono_ms() + STOP_TIMEOUT_MS;
	int status;

	if (h->pid <= 0)
		return -1;

	kill(h->pid, SIGTERM);
	while (harness_mono_ms() < deadline) {
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			h->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		harness_pause_ms(10);
	}
	harness_kill(h);
	return -1;
}

void harness_kill(struct harness *h)
{
	int status;

	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct harness_response *r = userdata;
	size_t len = strlen(r->body);
	size_t add = size * n;

	if (add > sizeof(r->body) - 1 - len)
		add = sizeof(r->body) - 1 - len;
	memcpy(r->body + len, data, add);
	r->body[len + add] = '\0';
	return size * n;
}

/* Copies the value of header line data into out, if it is name's. */
static void header_value(const char *data, size_t len, const char *name,
			 char *out, size_t size)
{
	size_t start = strlen(name);
	size_t end;

	if (len < start || strncasecmp(data, name, start) != 0)
		return;
	while (start < len && data[start] == ' ')
		start++;
	end = start;
	while (end < len && data[end] != '\r' && data[end] != '\n')
		end++;
	if (end - start > size - 1)
		end = start + size - 1;
	memcpy(out, data + start, end - start);
	out[end - start] = '\0';
}

/* Keeps the values of the headers tests read. */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct harness_response *r = userdata;
	size_t len = size * n;

	header_value(data, len, "Allow:", r->allow, sizeof(r->allow));
	header_value(data, len, "WWW-Authenticate:", r->www_authenticate,
		     sizeof(r->www_authenticate));
	return len;
}

static bool has_content_type(const char *const *headers)
{
	for (; headers && *headers; headers++)
		if (strncasecmp(*headers, "Content-Type:", 13) == 0)
			return true;
	return false;
}

static int request(struct harness *h, const char *path, const char *body,
		   size_t len, const char *const *headers,
		   struct harness_response *ret)
{
	struct curl_slist *list = NULL;
	char url[256];
	CURLcode rc;
	CURL *curl;

	memset(ret, 0, sizeof(*ret));
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, ret);

	if (body && !has_content_type(headers))
		list = curl_slist_append(list, "Content-Type: text/plain;"
					       " charset=UTF-8");
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	}
	for (; headers && *headers; headers++)
		list = curl_slist_append(list, *headers);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);

	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -EIO;
}

int harness_post(struct harness *h, const char *path, const char *body,
		 size_t len, const char *const *headers,
		 struct harness_response *ret)
{
	return request(h, path, body, len, headers, ret);
}

int harness_get(struct harness *h, const char *path,
		struct harness_response *ret)
{
	return request(h, path, NULL, 0, NULL, ret);
}

int harness_request(struct harness *h, const char *method, const char *path,
		    const char *const *headers, struct harness_response *ret)
{
	struct curl_slist *list = NULL;
	char url[256];
	CURLcode rc;
	CURL *curl;

	memset(ret, 0, sizeof(*ret));
	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
	for (; headers && *headers; headers++)
		list = curl_slist_append(list, *headers);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, ret);

	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
	curl_slist_free_all(list);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -EIO;
}

int harness_get_auth(struct harness *h, const char *path, const char *token,
		     struct harness_response *ret)
{
	char header[2048];
	const char *headers[] = {header, NULL};

	if (snprintf(header, sizeof(header), "Authorization: Bearer %s",
		     token) >= (int)sizeof(header))
		return -ENAMETOOLONG;
	return request(h, path, NULL, 0, headers, ret);
}

bool harness_log_wait(struct harness *h, const char *text, int timeout_ms)
{
	int64_t deadline = harness_mono_ms() + timeout_ms;

	do {
		char *log = harness_slurp(h->log_path, NULL);
		bool found = log && strstr(log, text);

		free(log);
		if (found)
			return true;
		harness_pause_ms(10);
	} while (harness_mono_ms() < deadline);
	return false;
}

double harness_metric(struct harness *h, const char *sample)
{
	/* The exposition is larger than a harness_response holds. */
	static char text[256 * 1024];
	size_t n = strlen(sample);
	char url[128];
	CURL *curl;
	FILE *f;

	memset(text, 0, sizeof(text));
	f = fmemopen(text, sizeof(text) - 1, "w");
	curl = curl_easy_init();
	if (!f || !curl) {
		if (f)
			fclose(f);
		curl_easy_cleanup(curl);
		return -1;
	}

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", h->port);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_perform(curl);
	curl_easy_cleanup(curl);
	fclose(f);

	for (char *p = text; (p = strstr(p, sample)); p += n) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

int harness_write_escalation_config(struct harness *h, const char *events_url,
				    const char *clock_file, const char *extra)
{
	char certs[256];
	char testing[256];

	snprintf(certs, sizeof(certs), "  cert_dir: %s\n  cert_fetch: false\n",
		 h->cert_dir);
	if (snprintf(testing, sizeof(testing),
		     "  clock_file: %s\n  wall_offset_file: %s.wall\n",
		     clock_file, clock_file) >= (int)sizeof(testing))
		return -ENAMETOOLONG;
	return write_test_config(
		h, events_url, certs,
		"targets:\n"
		"  primary: {routing_key: " HARNESS_KEY_PRIMARY "}\n"
		"  secondary: {routing_key: " HARNESS_KEY_SECONDARY "}\n"
		"  engineering_manager: {routing_key: " HARNESS_KEY_MANAGER
		"}\n"
		"  vp: {routing_key: " HARNESS_KEY_VP "}\n"
		"escalation_policies:\n"
		"  runbook:\n"
		"    steps:\n"
		"      - {after: 0m, target: primary}\n"
		"      - {after: 15m, target: secondary}\n"
		"      - {after: 30m, target: engineering_manager}\n"
		"      - {after: 30m, target: vp, severity: critical}\n"
		"routes:\n"
		"  - name: warnings\n"
		"    match: {name: \"warn-*\"}\n"
		"    escalation: runbook\n"
		"    severity: warning\n"
		"    template: ghostline\n"
		"default_route:\n"
		"  escalation: runbook\n"
		"  severity: critical\n"
		"  template: ghostline\n"
		"api: {token: " HARNESS_API_TOKEN "}\n",
		STANDARD_DELIVERY "  webhook_secret: " HARNESS_WEBHOOK_SECRET
				  "\n",
		testing, extra);
}
