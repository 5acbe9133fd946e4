/* autostop.c: `node NAME autostop [DURATION|off]`, and the durations of
 * `node KIND up --autostop`.
 *
 * The watchdog lives on the node (scripts/userdata/autostop.sh, installed
 * by its user-data): it works while mlsh is not running. This command only
 * reads its settings and last check (`mlsh-autostop show`, key=value lines)
 * and rewrites the idle= line of /etc/mlsh/autostop, over the session's
 * kept SSH connection (target.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "builtins/autostop.h"
#include "builtins/node.h"
#include "builtins/stackcmd.h"
#include "stack/stack.h"
#include "builtins/target.h"
#include "lib/duration.h"
#include "remote/remote.h"

#define AUTOSTOP_MIN_S	60
#define AUTOSTOP_MAX_S	(7 * 86400)
#define AUTOSTOP_BIN	"/usr/local/bin/mlsh-autostop"
#define EXIT_NO_WATCHDOG 45

int
autostop_parse(const char *s, long *secs, char **cause)
{
	/* The lab tests need seconds, not minutes (never needed on AWS). */
	const char *env = getenv("MLSH_AUTOSTOP_MIN_S");
	long min = AUTOSTOP_MIN_S;

	if (env != NULL && atol(env) > 0 && atol(env) < min)
		min = atol(env);
	return duration_parse(s, min, AUTOSTOP_MAX_S, 1, secs, cause);
}

int
autostop_option(struct mlsh_ctx *ctx, struct cmd_args *a, char *val, size_t n)
{
	const char *as = cmd_opt(a, "autostop");
	long secs = AUTOSTOP_DEFAULT_S;
	char *cause = NULL;

	if (as != NULL && autostop_parse(as, &secs, &cause) != 0) {
		cmd_error(ctx, "--autostop: %s", cause);
		free(cause);
		return -1;
	}
	if (secs == 0)
		snprintf(val, n, "off");
	else
		snprintf(val, n, "%ld", secs);
	return 0;
}

static int
collect(void *arg, const char *data, size_t len)
{
	buf_add(arg, data, len);
	return 0;
}

/* key's value in the show output's lines, or "" (borrowed into a copy the
 * caller frees). */
static char *
kv(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p != NULL && *p != '\0';
	    p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			const char *v = p + n + 1;
			return xstrndup(v, strcspn(v, "\n"));
		}
	return xstrdup("");
}

static void
add_time(cJSON *o, const char *key, long t)
{
	char b[32];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(b, sizeof b, "%Y-%m-%d %H:%M:%S UTC", &tm);
	cJSON_AddStringToObject(o, key, b);
}

/* The row for the show output: setting, last check, idle time and when the
 * node stops (by its own clock). */
static cJSON *
autostop_row(const char *name, const char *text)
{
	char *idle = kv(text, "idle"), *state = kv(text, "state");
	char *reason = kv(text, "reason"), *since = kv(text, "idle_since");
	char *now = kv(text, "now");
	cJSON *o = cJSON_CreateObject();
	char d[32];

	cJSON_AddStringToObject(o, "node", name);
	duration_format(strcmp(idle, "off") == 0 ? 0 : atol(idle), d, sizeof d);
	cJSON_AddStringToObject(o, "autostop", d);
	cJSON_AddStringToObject(o, "state", *state ? state : "not checked yet");
	if (*reason)
		cJSON_AddStringToObject(o, "reason", reason);
	if (strcmp(state, "idle") == 0 && *since && *now) {
		duration_format(atol(now) - atol(since), d, sizeof d);
		cJSON_AddStringToObject(o, "idle_for",
		    atol(now) > atol(since) ? d : "0s");
	}
	if (strcmp(state, "idle") == 0 && *since && strcmp(idle, "off") != 0) {
		/* The setting may have changed since the last check. */
		long at = atol(since) + atol(idle);
		add_time(o, "stops_at", at);
		if (*now && at > atol(now)) {
			duration_format(at - atol(now), d, sizeof d);
			cJSON_AddStringToObject(o, "stops_in", d);
		}
	}
	free(idle);
	free(state);
	free(reason);
	free(since);
	free(now);
	return o;
}

/* The node's record keeps the setting and what the watchdog said (what
 * leaving the shell, status and the prompt show). */
static void
record_observation(struct mlsh_ctx *ctx, struct cmd_args *a,
    const char *name, const char *text)
{
	struct stack st;

	if (stack_open(ctx, a, &st) != 0)
		return;
	if (stack_rec(&st, name) != NULL) {
		autostop_observe(&st, name, text, (long)time(NULL));
		stack_save(&st);
	}
	stack_close(&st);
}

int
autostop_read(struct mlsh_ctx *ctx, const char *name, const char *set,
    int bound_ms, char **text)
{
	char *node = NULL, *cause = NULL, *script;
	struct rmt_session *s;
	struct rmt_exec ex = RMT_EXEC_INIT;
	struct rmt_status st;
	struct buf out;
	int rc = -1;

	*text = NULL;
	if (target_resolve(ctx, name, &node) != 0)
		return -1;
	if ((s = target_session(ctx)) == NULL) {
		free(node);
		return -1;
	}
	if (bound_ms > 0)
		rmt_session_limit(s, bound_ms);
	if (target_connect(ctx, s, node, name, bound_ms > 0 ? 0 : 30) != 0)
		goto out;
	if (set != NULL)
		script = xasprintf("[ -x " AUTOSTOP_BIN " ] || exit %d; "
		    "S=; [ \"$(id -u)\" = 0 ] || S='sudo -n'; "
		    "$S sed -i 's/^idle=.*/idle=%s/' /etc/mlsh/autostop && "
		    AUTOSTOP_BIN " show", EXIT_NO_WATCHDOG, set);
	else
		script = xasprintf("[ -x " AUTOSTOP_BIN " ] || exit %d; "
		    AUTOSTOP_BIN " show", EXIT_NO_WATCHDOG);
	buf_init(&out);
	ex.command = script;
	ex.on_stdout = collect;
	ex.arg = &out;
	ex.cancel = target_cancelled;
	ex.timeout_ms = bound_ms > 0 ? bound_ms : 30000;
	memset(&st, 0, sizeof st);
	if (rmt_exec(s, node, &ex, &st, &cause) != 0) {
		cmd_error(ctx, "%s: %s", name, cause);
		free(cause);
	} else if (st.cancelled || st.timed_out)
		cmd_error(ctx, "%s: %s", name, st.cancelled ? "interrupted" :
		    "timed out");
	else if (st.exit_code == EXIT_NO_WATCHDOG)
		cmd_error(ctx, "%s has no autostop watchdog (started by an older "
		    "mlsh); 'node %s down' and up again gets one", name, name);
	else if (st.exit_code != 0)
		cmd_error(ctx, "%s: could not %s autostop (exit %d)", name,
		    set != NULL ? "change" : "read", st.exit_code);
	else {
		buf_addc(&out, '\0');
		*text = buf_detach_release(&out);
		rc = 0;
	}
	buf_release(&out);
	free(script);
out:
	if (bound_ms > 0) {
		rmt_session_limit(s, 0);
		if (rc != 0)	/* a hung connection: afresh next time */
			rmt_disconnect(s, node);
	}
	free(node);
	return rc;
}

int
node_autostop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *name = a->argv[0];
	char *cause = NULL, *text;
	char val[24];
	long secs = 0;

	if (a->argc > 1) {
		if (autostop_parse(a->argv[1], &secs, &cause) != 0) {
			cmd_error(ctx, "%s", cause);
			free(cause);
			return 1;
		}
		if (cmd_opt_bool(a, "dry-run")) {
			char d[32];
			duration_format(secs, d, sizeof d);
			printf("would set %s's autostop to %s\n", name, d);
			return 0;
		}
	}
	if (secs == 0)
		snprintf(val, sizeof val, "off");
	else
		snprintf(val, sizeof val, "%ld", secs);
	if (autostop_read(ctx, name, a->argc > 1 ? val : NULL, 0, &text) != 0)
		return 1;
	*result = autostop_row(name, text);
	record_observation(ctx, a, name, text);
	free(text);
	return 0;
}

/* ---- what status and the prompt show ------------------------------------ */

/* A whole number attribute, or -1. */
static long
attr_num(const cJSON *rec, const char *key)
{
	const char *v = stack_attr(rec, key);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return -1;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 0 ? n : -1;
}

static void
set_num(struct stack *st, const char *name, const char *key, long v)
{
	char b[24];

	if (v < 0) {
		stack_set_attr(st, name, key, NULL);
		return;
	}
	snprintf(b, sizeof b, "%ld", v);
	stack_set_attr(st, name, key, b);
}

void
autostop_observe(struct stack *st, const char *name, const char *text,
    long now)
{
	char *idle = kv(text, "idle"), *state = kv(text, "state");
	char *reason = kv(text, "reason"), *since = kv(text, "idle_since");
	char *then = kv(text, "now");
	/* The node's clock may not be ours: its times move by the offset. */
	long off = *then ? now - atol(then) : 0;

	if (strcmp(idle, "off") == 0 || atol(idle) > 0)
		stack_set_attr(st, name, "autostop", strcmp(idle, "off") == 0 ?
		    "off" : idle);
	stack_set_attr(st, name, "autostop_state", *state ? state : NULL);
	stack_set_attr(st, name, "autostop_reason", *reason ? reason : NULL);
	set_num(st, name, "autostop_idle_since", *since && strcmp(state,
	    "idle") == 0 ? atol(since) + off : -1);
	set_num(st, name, "autostop_checked", now);
	free(idle);
	free(state);
	free(reason);
	free(since);
	free(then);
}

static void
add_num_or_null(cJSON *o, const char *key, long v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)v);
}

/* Seconds until the record's machine stops (0: due), idle for *idle; -1
 * when not known (not running, not idle, never read, off). */
static long
stops_in(const cJSON *rec, long now, long *idle)
{
	long secs = attr_num(rec, "autostop");
	long since = attr_num(rec, "autostop_idle_since");
	const char *run = stack_attr(rec, "state");
	const char *state = stack_attr(rec, "autostop_state");

	*idle = -1;
	if (run == NULL || strcmp(run, "running") != 0 || state == NULL ||
	    strcmp(state, "idle") != 0 || since < 0 || secs <= 0)
		return -1;
	*idle = now > since ? now - since : 0;
	return since + secs > now ? since + secs - now : 0;
}

void
autostop_fields(const cJSON *rec, long now, cJSON *row)
{
	const char *set = stack_attr(rec, "autostop");
	const char *run = stack_attr(rec, "state");
	const char *state = stack_attr(rec, "autostop_state");
	const char *action = stack_attr(rec, "autostop_action");
	long checked = attr_num(rec, "autostop_checked"), idle, in;
	char d[32];

	if (set == NULL)
		return;
	duration_format(strcmp(set, "off") == 0 ? 0 : atol(set), d, sizeof d);
	cJSON_AddStringToObject(row, "autostop", d);
	cJSON_AddStringToObject(row, "autostop_action", action != NULL &&
	    strcmp(action, "terminate") == 0 ? "terminate" : "stop");
	/* What was read of a machine that is not running is over. */
	if (run == NULL || strcmp(run, "running") != 0)
		state = NULL;
	stackcmd_add_text(row, "autostop_state", state);
	stackcmd_add_text(row, "busy_reason", state != NULL &&
	    strcmp(state, "busy") == 0 ? stack_attr(rec, "autostop_reason") :
	    NULL);
	in = stops_in(rec, now, &idle);
	if (state != NULL && strcmp(state, "busy") == 0)
		idle = 0;
	add_num_or_null(row, "idle_seconds", idle);
	add_num_or_null(row, "stops_in_seconds", in);
	add_num_or_null(row, "checked_seconds_ago", state != NULL &&
	    checked >= 0 ? (now > checked ? now - checked : 0) : -1);
}

/* A number field taken out of the row: its value, or -1 (null, absent). */
static long
take_num(cJSON *row, const char *key)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(row, key);
	long n = cJSON_IsNumber(v) ? (long)v->valuedouble : -1;

	cJSON_Delete(v);
	return n;
}

/* A string field taken out of the row (caller frees), or NULL. */
static char *
take_str(cJSON *row, const char *key)
{
	cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(row, key);
	char *s = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;

	cJSON_Delete(v);
	return s;
}

char *
autostop_take_text(cJSON *row)
{
	char *set = take_str(row, "autostop"), *state, *why, *action, *t;
	long idle = take_num(row, "idle_seconds");
	long in = take_num(row, "stops_in_seconds");
	char a[32], b[32];

	state = take_str(row, "autostop_state");
	why = take_str(row, "busy_reason");
	action = take_str(row, "autostop_action");
	(void)take_num(row, "checked_seconds_ago");
	if (set == NULL)
		t = NULL;
	else if (strcmp(set, "off") == 0)
		t = xstrdup("autostop off");
	else if (state == NULL)
		t = xasprintf("%s, not read yet", set);
	else if (strcmp(state, "busy") == 0)
		t = xasprintf("busy (%s)", why == NULL ? "?" :
		    str_startswith(why, "train ") ? why + 6 : why);
	else if (strcmp(state, "idle") == 0 && in >= 0) {
		duration_format(idle > 0 ? idle : 1, a, sizeof a);
		duration_format(in > 0 ? in : 1, b, sizeof b);
		t = in > 0 ? xasprintf("idle %s, %s in %s", idle > 0 ? a : "0s",
		    action && strcmp(action, "terminate") == 0 ? "terminates" :
		    "stops", b) : xasprintf("idle %s, %s now", a,
		    action && strcmp(action, "terminate") == 0 ? "terminating" :
		    "stopping");
	} else
		t = xstrdup(state);
	free(set);
	free(state);
	free(why);
	free(action);
	return t;
}

long
autostop_next_stop(const cJSON *resources, long now)
{
	const cJSON *rec;
	long best = -1, idle, in;

	cJSON_ArrayForEach(rec, resources)
		if ((in = stops_in(rec, now, &idle)) >= 0 &&
		    (best < 0 || in < best))
			best = in;
	return best;
}

/* The prompt's "stop 48m": the nearest stop known, from the records only
 * (a prompt never waits on a node). */
static char *
autostop_prompt(struct mlsh_ctx *ctx)
{
	cJSON *owned;
	const cJSON *root = stackcmd_state_peek(ctx, &owned);
	long in = root == NULL ? -1 : autostop_next_stop(
	    cJSON_GetObjectItemCaseSensitive(root, "resources"),
	    (long)time(NULL));
	char d[32];

	cJSON_Delete(owned);
	if (in < 0)
		return NULL;
	/* Minutes are enough at the prompt: 48m, 1h30m, under one: 1m. */
	duration_format(in < 60 ? 60 : in / 60 * 60, d, sizeof d);
	return xasprintf("stop %s", d);
}

const struct mlsh_service svc_autostop = {
	.name = "autostop",
	.prompt = autostop_prompt,
};
