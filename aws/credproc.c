/* credproc.c: credential_process, run through /bin/sh with a timeout,
 * its stdout the AWS CLI's JSON (Version 1). See credsrc.h. */
#include "aws/credsrc.h"


#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


#define PROCESS_TIMEOUT_MS	60000
#define PROCESS_MAX_OUTPUT	(1 << 20)

static int run_process(const char *cmd, long timeout_ms, struct buf *out,
    struct buf *err, int *status, char **cause);
static int parse_time(const char *s, time_t *out);
static void redact_output(char *line, const char *out, size_t len);

/* credential_process: run it through /bin/sh with a timeout and read the
 * AWS CLI's JSON from its stdout. */
int
creds_process(const char *name, const char *cmd, struct aws_creds *out,
    struct aws_error *err)
{
	struct buf o, e;
	const char *t = creds_getenv("MLSH_CREDENTIAL_PROCESS_TIMEOUT_MS");
	long timeout = t ? strtol(t, NULL, 10) : PROCESS_TIMEOUT_MS;
	char *cause = NULL, *line;
	cJSON *j, *v;
	int status, r = -1;

	if (timeout <= 0)
		timeout = PROCESS_TIMEOUT_MS;
	buf_init(&o);
	buf_init(&e);
	if (run_process(cmd, timeout, &o, &e, &status, &cause) != 0) {
		creds_fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process %s", name, cause);
		free(cause);
		goto out;
	}
	if (status != 0) {
		line = creds_first_line(e.data, e.len);
		redact_output(line, o.data, o.len);
		if (WIFSIGNALED(status))
			creds_fail(err, "CredentialProcessError", "profile '%s': "
			    "credential_process killed by signal %d%s%s", name,
			    WTERMSIG(status), *line ? ": " : "", line);
		else
			creds_fail(err, "CredentialProcessError", "profile '%s': "
			    "credential_process exited with status %d%s%s", name,
			    WEXITSTATUS(status), *line ? ": " : "", line);
		free(line);
		goto out;
	}
	if ((j = cJSON_ParseWithLength(o.data, o.len)) == NULL ||
	    !cJSON_IsObject(j)) {
		creds_fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output is not a JSON object", name);
		cJSON_Delete(j);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "Version");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1)
		creds_fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output has no \"Version\": 1", name);
	else if (creds_from_json(j, "AccessKeyId", "SecretAccessKey",
	    "SessionToken", out, &cause) != 0) {
		creds_fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output %s", name, cause);
		free(cause);
	} else if (out->expires != 0 && out->expires <= time(NULL)) {
		creds_clear(out);
		creds_fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process gave expired credentials", name);
	} else {
		out->source = xasprintf("credential_process (profile %s)", name);
		r = 1;
	}
	cJSON_Delete(j);
out:
	explicit_bzero(o.data, o.len);
	buf_release(&o);
	buf_release(&e);
	return r;
}

/* Start cmd with /bin/sh -c in its own process group, stdin from /dev/null,
 * stdout and stderr into the pipes *outfd and *errfd. The pid, or -1 with
 * *cause. */
static pid_t
start_process(const char *cmd, int *outfd, int *errfd, char **cause)
{
	int op[2], ep[2];
	pid_t pid;

	if (pipe2(op, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		close(op[0]);
		close(op[1]);
		return -1;
	}
	if ((pid = fork()) < 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		close(op[0]);
		close(op[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(op[1]);
	close(ep[1]);
	*outfd = op[0];
	*errfd = ep[0];
	return pid;
}

/* Read both pipes until they close or the deadline passes (then 1), keeping
 * at most PROCESS_MAX_OUTPUT of each. Closes the pipes. */
static int
read_outputs(int outfd, int errfd, double deadline, struct buf *out,
    struct buf *err)
{
	struct pollfd pfd[2];
	int open_fds = 2, timed_out = 0;

	pfd[0].fd = outfd;
	pfd[1].fd = errfd;
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds > 0) {
		double left = deadline - now_ms();
		char chunk[4096];

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(pfd, 2, left > 1000 ? 1000 : (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			struct buf *b = i == 0 ? out : err;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (b->len < PROCESS_MAX_OUTPUT)
				buf_add(b, chunk, (size_t)n);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	return timed_out;
}

/* Run cmd with /bin/sh -c in its own process group, stdin from /dev/null,
 * collecting stdout and stderr. 0 with *status, or -1 with *cause (timeout,
 * fork failure). */
static int
run_process(const char *cmd, long timeout_ms, struct buf *out, struct buf *err,
    int *status, char **cause)
{
	double deadline = now_ms() + (double)timeout_ms;
	int outfd, errfd, timed_out;
	pid_t pid;

	if ((pid = start_process(cmd, &outfd, &errfd, cause)) < 0)
		return -1;
	timed_out = read_outputs(outfd, errfd, deadline, out, err);
	/* Outputs closed; wait for the exit, still within the deadline. */
	for (;;) {
		pid_t w;

		if (!timed_out && (w = waitpid(pid, status, WNOHANG)) != 0) {
			if (w == pid)
				return 0;
			if (w < 0 && errno == EINTR)
				continue;
			/* ECHILD: someone else reaped it (SIGCHLD ignored);
			 * judge by the output alone. */
			*status = 0;
			return 0;
		}
		if (timed_out || now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			*cause = xasprintf("timed out after %ld ms", timeout_ms);
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

/* Fill the keys of *out from a JSON object; "Expiration" (ISO 8601) when
 * present. -1 with *cause naming what is missing, never a value. */
int
creds_from_json(const cJSON *o, const char *id_key, const char *secret_key,
    const char *token_key, struct aws_creds *out, char **cause)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, id_key);
	const cJSON *secret = cJSON_GetObjectItemCaseSensitive(o, secret_key);
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(o, token_key);
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "Expiration");
	time_t t = 0;

	if (!cJSON_IsObject(o)) {
		*cause = xstrdup("has no credentials");
		return -1;
	}
	if (!cJSON_IsString(id) || *id->valuestring == '\0') {
		*cause = xasprintf("lacks %s", id_key);
		return -1;
	}
	if (!cJSON_IsString(secret) || *secret->valuestring == '\0') {
		*cause = xasprintf("lacks %s", secret_key);
		return -1;
	}
	if (exp != NULL && !cJSON_IsNull(exp) && (!cJSON_IsString(exp) ||
	    parse_time(exp->valuestring, &t) != 0)) {
		*cause = xstrdup("has an Expiration that is not an ISO 8601 time");
		return -1;
	}
	out->access_key = xstrdup(id->valuestring);
	out->secret_key = xstrdup(secret->valuestring);
	out->session_token = cJSON_IsString(token) && *token->valuestring ?
	    xstrdup(token->valuestring) : NULL;
	out->expires = t;
	out->source = NULL;
	return 0;
}

/* "2026-11-29T17:24:11Z", with optional fraction and "+hh:mm" offset. */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	const char *p;
	char sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' ? 0 : -1;
	if (*p == '\0')
		return 0;
	sign = *p;
	if ((sign != '+' && sign != '-') ||
	    sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
		return -1;
	*out += (sign == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	return 0;
}

/* Blank out in line any secret the process printed on stdout, in case it
 * echoed it to stderr too. */
static void
redact_output(char *line, const char *out, size_t len)
{
	static const char *const keys[] = { "SecretAccessKey", "SessionToken",
	    NULL };
	cJSON *j = cJSON_ParseWithLength(out, len);

	for (int i = 0; j != NULL && keys[i] != NULL; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		size_t n;
		char *p;

		if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) == 0)
			continue;
		while ((p = strstr(line, v->valuestring)) != NULL)
			memset(p, '*', n);
	}
	cJSON_Delete(j);
}

/* The first non-blank line of s, trimmed, at most 200 bytes. */
char *
creds_first_line(const char *s, size_t len)
{
	const char *e = s + len, *le;

	while (s < e && isspace((unsigned char)*s))
		s++;
	for (le = s; le < e && *le != '\n' && *le != '\r'; le++)
		;
	while (le > s && isspace((unsigned char)le[-1]))
		le--;
	return xstrndup(s, (size_t)(le - s) > 200 ? 200 : (size_t)(le - s));
}
