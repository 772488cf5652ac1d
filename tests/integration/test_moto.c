/*
 * End to end with a real SNS API: moto_server (Python moto) stands in
 * for SNS, and the aws command line creates a topic on it, subscribes
 * the daemon's endpoint over HTTP and publishes to it; moto signs each
 * notification with its own key. The daemon fetches moto's
 * signing certificate from the URL moto writes,
 * https://sns.us-east-1.amazonaws.com/SimpleNotificationService-<hex>.pem,
 * which the testing setting cert_connect_to sends to a local HTTPS
 * server (trusted through cert_ca_file) that passes the request on to
 * moto: moto serves its certificates over plain HTTP, and only to a
 * request carrying an SNS-scoped Authorization header.
 *
 * moto leaves Subject out of the string it signs, so a published
 * message with a Subject must be refused by a correct verifier.
 *
 * Without moto_server or aws on PATH the program says so and exits 77,
 * which ctest reports as skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "fakepd.h"
#include "harness.h"
#include "testkeys.h"
#include "tlsserver.h"

#define SKIP_EXIT_CODE 77

#define SNS_HOST   "sns.us-east-1.amazonaws.com"
#define TOPIC_NAME "alertbridge-test"
/* moto's default account. */
#define TOPIC_ARN  "arn:aws:sns:us-east-1:123456789012:" TOPIC_NAME
#define ALARM_NAME "moto-lambda-concurrency"
#define ALARM_ARN  "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" ALARM_NAME
#define REAL_ALARM                                                             \
	FIXTURES_DIR "/sns/real-signed/"                                       \
		     "cloudwatch-alarm-ca-central-1-2022.json"

/* moto serves a signing certificate only to an SNS-scoped request. */
#define MOTO_AUTH                                                              \
	"Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/"            \
	"us-east-1/sns/aws4_request, SignedHeaders=host, Signature=0"

#define MOTO_START_MS 20000
#define MOTO_STOP_MS  5000
#define WAIT_MS       10000
/* The aws command line is Python: slow to start on a loaded machine. */
#define AWS_TIMEOUT_MS 60000
#define AWS_OUTPUT_MAX (64 * 1024)

static char moto_path[4096];
static char aws_path[4096];

struct world {
	struct harness h;
	struct fakepd *pd;
	struct tlsserver *sns;
	struct testkey *ca;
	struct testkey *server;
	pid_t moto_pid;
	int moto_port;
	char moto_log[192];
};

/* The first executable named name on PATH. */
static bool find_on_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		size_t len = strcspn(path, ":");

		if (len > 0 &&
		    snprintf(out, size, "%.*s/%s", (int)len, path, name) <
			    (int)size &&
		    access(out, X_OK) == 0)
			return true;
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

/* A port the kernel just had free on 127.0.0.1. */
static int free_port(void)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

static void print_moto_log(struct world *w)
{
	char *log = harness_slurp(w->moto_log, NULL);

	fprintf(stderr, "moto_server output:\n%s\n", log ? log : "(none)");
	free(log);
}

static size_t discard(char *data, size_t size, size_t n, void *userdata)
{
	(void)data;
	(void)userdata;
	return size * n;
}

static bool moto_answers(struct world *w)
{
	char url[64];
	long status = 0;
	CURL *curl = curl_easy_init();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", w->moto_port);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	return status > 0;
}

static void moto_start(struct world *w)
{
	int64_t deadline = harness_mono_ms() + MOTO_START_MS;
	char port[16];
	int status;

	w->moto_port = free_port();
	assert_true(w->moto_port > 0);
	snprintf(port, sizeof(port), "%d", w->moto_port);
	snprintf(w->moto_log, sizeof(w->moto_log), "%s/moto.log", w->h.dir);

	w->moto_pid = fork();
	assert_true(w->moto_pid >= 0);
	if (w->moto_pid == 0) {
		int fd = open(w->moto_log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		/* Its own group, and gone with this process whatever
		 * happens to it. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execl(moto_path, "moto_server", "-H", "127.0.0.1", "-p", port,
		      (char *)NULL);
		_exit(127);
	}
	setpgid(w->moto_pid, w->moto_pid);

	while (harness_mono_ms() < deadline) {
		if (moto_answers(w))
			return;
		if (waitpid(w->moto_pid, &status, WNOHANG) == w->moto_pid) {
			w->moto_pid = 0;
			print_moto_log(w);
			fail_msg("moto_server exited before answering");
		}
		harness_pause_ms(50);
	}
	print_moto_log(w);
	fail_msg("moto_server did not answer within %d ms", MOTO_START_MS);
}

static void moto_stop(struct world *w)
{
	int64_t deadline = harness_mono_ms() + MOTO_STOP_MS;
	int status;

	if (w->moto_pid <= 0)
		return;

	kill(-w->moto_pid, SIGTERM);
	while (harness_mono_ms() < deadline) {
		if (waitpid(w->moto_pid, &status, WNOHANG) == w->moto_pid) {
			w->moto_pid = 0;
			return;
		}
		harness_pause_ms(20);
	}
	kill(-w->moto_pid, SIGKILL);
	waitpid(w->moto_pid, &status, 0);
	w->moto_pid = 0;
}

/*
 * This process's environment without any AWS_ setting, plus dummy
 * credentials and region for moto, and no configuration file of the
 * user's. Built before a fork: the child may only exec. free() it.
 */
static char **aws_environment(void)
{
	static char *const ours[] = {
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
	};
	size_t n_ours = sizeof(ours) / sizeof(*ours);
	size_t n = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + n_ours + 1, sizeof(*env));
	assert_non_null(env);
	n = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "AWS_", 4) != 0)
			env[n++] = *e;
	for (size_t i = 0; i < n_ours; i++)
		env[n++] = ours[i];
	return env;
}

/*
 * Runs the aws command line against moto: aws --endpoint-url URL sns
 * ARGS..., args ending in NULL, with dummy credentials and region and no
 * configuration of the user's. Returns the value of field in the JSON
 * it prints (free() it); fails the test unless it exits 0 in time.
 */
static char *aws_sns(struct world *w, const char *field,
		     const char *const *args)
{
	int64_t deadline = harness_mono_ms() + AWS_TIMEOUT_MS;
	static char out[AWS_OUTPUT_MAX];
	const char *argv[24];
	char endpoint[64];
	size_t len = 0;
	int argc = 0;
	json_t *answer;
	char **env;
	char *value;
	int status;
	int fds[2];
	pid_t pid;
	ssize_t n;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
		 w->moto_port);
	argv[argc++] = aws_path;
	argv[argc++] = "--endpoint-url";
	argv[argc++] = endpoint;
	argv[argc++] = "--output";
	argv[argc++] = "json";
	argv[argc++] = "sns";
	for (; *args && argc < 23; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;

	env = aws_environment();
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int log =
			open(w->moto_log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		if (log >= 0)
			dup2(log, STDERR_FILENO);
		close(fds[0]);
		execve(argv[0], (char *const *)argv, env);
		_exit(127);
	}
	free(env);
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);

	for (;;) {
		n = read(fds[0], out + len, sizeof(out) - 1 - len);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			break;
		if (harness_mono_ms() > deadline) {
			kill(pid, SIGKILL);
			break;
		}
		harness_pause_ms(20);
	}
	close(fds[0]);
	out[len] = '\0';
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_moto_log(w);
		fail_msg("aws sns %s failed: %s", argv[6], out);
	}

	answer = json_loads(out, 0, NULL);
	if (!json_is_string(json_object_get(answer, field)))
		fail_msg("aws printed no %s: %s", field, out);
	value = strdup(json_string_value(json_object_get(answer, field)));
	json_decref(answer);
	return value;
}

static void format_now(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S.000+0000", &tm);
}

/* The real alarm's Message, moved to us-east-1, this account and now. */
static char *alarm_message(void)
{
	json_error_t error;
	json_t *env = json_load_file(REAL_ALARM, 0, &error);
	json_t *msg;
	char now[40];
	char *text;

	assert_non_null(env);
	msg = json_loads(json_string_value(json_object_get(env, "Message")), 0,
			 &error);
	assert_non_null(msg);
	format_now(now, sizeof(now));

	json_object_set_new(msg, "AlarmName", json_string(ALARM_NAME));
	json_object_set_new(msg, "AWSAccountId", json_string("123456789012"));
	json_object_set_new(msg, "Region",
			    json_string("US East (N. Virginia)"));
	json_object_set_new(msg, "AlarmArn", json_string(ALARM_ARN));
	json_object_set_new(msg, "StateChangeTime", json_string(now));
	json_object_set_new(msg, "AlarmActions", json_pack("[s]", TOPIC_ARN));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	json_decref(env);
	return text;
}

/* Publishes the alarm (with subject unless NULL); its MessageId. */
static char *publish(struct world *w, const char *subject)
{
	char *message = alarm_message();
	char path[160];
	char file_arg[168];
	FILE *f;

	/* Passed as a file, as a shell script would pass a JSON message. */
	snprintf(path, sizeof(path), "%s/message.json", w->h.dir);
	snprintf(file_arg, sizeof(file_arg), "file://%s", path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(message, f);
	assert_int_equal(fclose(f), 0);
	free(message);

	return aws_sns(w, "MessageId",
		       (const char *[]){"publish", "--topic-arn", TOPIC_ARN,
					"--message", file_arg,
					subject ? "--subject" : NULL, subject,
					NULL});
}

static int setup(void **state)
{
	static const char *const names[] = {SNS_HOST, NULL};
	struct world *w = calloc(1, sizeof(*w));
	char upstream[64];
	char ca_file[192];
	char connect_to[96];
	char endpoint[64];
	char *key_pem;
	char *arn;

	assert_non_null(w);
	*state = w;
	assert_int_equal(harness_init(&w->h), 0);
	moto_start(w);

	assert_int_equal(testkey_generate_ca("alertbridge test CA", &w->ca), 0);
	assert_int_equal(testkey_generate_server(w->ca, names, &w->server), 0);
	assert_int_equal(testkey_write_cert(w->ca, w->h.dir, "ca.pem"), 0);
	snprintf(ca_file, sizeof(ca_file), "%s/ca.pem", w->h.dir);

	key_pem = testkey_key_pem(w->server);
	assert_non_null(key_pem);
	assert_int_equal(tlsserver_start(key_pem, w->server->cert_pem, &w->sns),
			 0);
	free(key_pem);
	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%d",
		 w->moto_port);
	assert_int_equal(tlsserver_proxy(w->sns, ".pem", upstream, MOTO_AUTH),
			 0);

	assert_int_equal(fakepd_start(&w->pd), 0);
	snprintf(connect_to, sizeof(connect_to), SNS_HOST ":443:127.0.0.1:%d",
		 tlsserver_port(w->sns));
	assert_int_equal(harness_write_fetch_config(&w->h, fakepd_url(w->pd),
						    ca_file, connect_to, ""),
			 0);
	assert_int_equal(harness_start(&w->h), 0);

	arn = aws_sns(
		w, "TopicArn",
		(const char *[]){"create-topic", "--name", TOPIC_NAME, NULL});
	assert_string_equal(arn, TOPIC_ARN);
	free(arn);

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d/sns",
		 w->h.port);
	arn = aws_sns(w, "SubscriptionArn",
		      (const char *[]){"subscribe", "--topic-arn", TOPIC_ARN,
				       "--protocol", "http",
				       "--notification-endpoint", endpoint,
				       NULL});
	free(arn);
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	moto_stop(w);
	harness_stop(&w->h);
	harness_cleanup(&w->h);
	tlsserver_stop(w->sns);
	fakepd_stop(w->pd);
	testkey_free(w->ca);
	testkey_free(w->server);
	free(w);
	return 0;
}

/* The n-th certificate request the HTTPS stand-in saw (from 0). */
static void cert_request(struct world *w, size_t n,
			 struct tlsserver_request *ret)
{
	size_t seen = 0;

	for (size_t i = 0; tlsserver_request(w->sns, i, ret) == 0; i++) {
		size_t len = strlen(ret->path);

		if (len > 4 && strcmp(ret->path + len - 4, ".pem") == 0 &&
		    seen++ == n)
			return;
	}
	fail_msg("no certificate request %zu", n);
}

static const char *json_text(json_t *object, const char *key)
{
	return json_string_value(json_object_get(object, key));
}

/* What moto publishes verifies under moto's own key and pages. */
static void test_published_alarm_pages(void **state)
{
	struct world *w = *state;
	struct tlsserver_request req;
	char text[1024];
	json_t *event;
	json_t *payload;
	json_t *details;
	char *message_id = publish(w, NULL);

	/* moto delivers before it answers the publish. */
	snprintf(text, sizeof(text), "event=sns.accepted message_id=%s",
		 message_id);
	assert_true(harness_log_wait(&w->h, text, WAIT_MS));

	/* The certificate came by its SNS URL, through to moto. */
	assert_int_equal(tlsserver_count(w->sns, NULL), 1);
	cert_request(w, 0, &req);
	assert_string_equal(req.host, SNS_HOST);
	assert_string_equal(req.authorization, "");
	assert_int_equal(req.status, 200);
	snprintf(text, sizeof(text), "event=certs.fetched url=https://%s%s",
		 SNS_HOST, req.path);
	assert_true(harness_log_wait(&w->h, text, 1000));

	assert_int_equal(fakepd_wait(w->pd, 1, WAIT_MS), 0);
	event = fakepd_request(w->pd, 0);
	assert_non_null(event);
	payload = json_object_get(event, "payload");
	details = json_object_get(payload, "custom_details");
	assert_string_equal(json_text(event, "routing_key"),
			    HARNESS_KEY_PRIMARY);
	assert_string_equal(json_text(event, "event_action"), "trigger");
	assert_string_equal(json_text(event, "dedup_key"), ALARM_ARN);
	assert_string_equal(json_text(payload, "summary"),
			    "GhostLine Alert: " ALARM_NAME);
	assert_string_equal(json_text(payload, "severity"), "critical");
	assert_string_equal(json_text(details, "region"), "us-east-1");
	assert_string_equal(json_text(details, "metric"),
			    "ConcurrentExecutions");
	json_decref(event);
	free(message_id);
}

/*
 * moto signs without the Subject, as real SNS does not: refused as a bad
 * signature, never delivered; the same alarm without one goes through.
 */
static void test_published_with_subject_refused(void **state)
{
	struct world *w = *state;
	struct tlsserver_request req;
	char text[1024];
	char *message_id = publish(w, "ALARM: \"" ALARM_NAME "\" in US East");

	snprintf(text, sizeof(text), "event=sns.rejected message_id=%s",
		 message_id);
	assert_true(harness_log_wait(&w->h, text, WAIT_MS));
	assert_true(harness_metric(&w->h, "alertbridge_sns_rejected_total"
					  "{reason=\"signature\"}") == 1);

	/* Its certificate was there: the signature alone refused it. */
	cert_request(w, 0, &req);
	assert_int_equal(req.status, 200);
	free(message_id);

	/* A refused message is never stored: the only event sent is the
	 * one accepted next. */
	message_id = publish(w, NULL);
	snprintf(text, sizeof(text), "event=sns.accepted message_id=%s",
		 message_id);
	assert_true(harness_log_wait(&w->h, text, WAIT_MS));
	assert_int_equal(fakepd_wait(w->pd, 1, WAIT_MS), 0);
	assert_int_equal(fakepd_count(w->pd), 1);

	/* A new certificate name for every publish, each fetched once. */
	assert_int_equal(tlsserver_count(w->sns, NULL), 2);
	free(message_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_published_alarm_pages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_published_with_subject_refused, setup, teardown),
	};

	if (!find_on_path("moto_server", moto_path, sizeof(moto_path))) {
		printf("moto_server not found on PATH: skipping the SNS"
		       " end-to-end test\n");
		return SKIP_EXIT_CODE;
	}
	if (!find_on_path("aws", aws_path, sizeof(aws_path))) {
		printf("aws (the AWS command line) not found on PATH: skipping"
		       " the SNS end-to-end test\n");
		return SKIP_EXIT_CODE;
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
