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

/* The node's record keeps the setting (what leaving the shell lists). */
static void
record_autostop(struct mlsh_ctx *ctx, struct cmd_args *a, const char *name,
    const char *val)
{
	struct stack st;

	if (stack_open(ctx, a, &st) != 0)
		return;
	if (stack_rec(&st, name) != NULL) {
		stack_set_attr(&st, name, "autostop", val);
		stack_save(&st);
	}
	stack_close(&st);
}

int
node_autostop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *name = a->argv[0];
	char *node = NULL, *cause = NULL, *script;
	struct rmt_session *s;
	struct rmt_exec ex = RMT_EXEC_INIT;
	struct rmt_status st;
	struct buf out;
	long secs = 0;
	int rc = 1;

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
	if (target_resolve(ctx, name, &node) != 0)
		return 1;
	if ((s = target_session(ctx)) == NULL ||
	    target_connect(ctx, s, node, name, 30) != 0) {
		free(node);
		return 1;
	}
	char val[24];
	if (secs == 0)
		snprintf(val, sizeof val, "off");
	else
		snprintf(val, sizeof val, "%ld", secs);
	if (a->argc > 1)
		script = xasprintf("[ -x " AUTOSTOP_BIN " ] || exit %d; "
		    "S=; [ \"$(id -u)\" = 0 ] || S='sudo -n'; "
		    "$S sed -i 's/^idle=.*/idle=%s/' /etc/mlsh/autostop && "
		    AUTOSTOP_BIN " show", EXIT_NO_WATCHDOG,
		    val);
	else
		script = xasprintf("[ -x " AUTOSTOP_BIN " ] || exit %d; "
		    AUTOSTOP_BIN " show", EXIT_NO_WATCHDOG);
	buf_init(&out);
	ex.command = script;
	ex.on_stdout = collect;
	ex.arg = &out;
	ex.cancel = target_cancelled;
	ex.timeout_ms = 30000;
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
		    a->argc > 1 ? "change" : "read", st.exit_code);
	else {
		buf_addc(&out, '\0');
		*result = autostop_row(name, out.data);
		rc = 0;
		if (a->argc > 1)
			record_autostop(ctx, a, name, val);
	}
	buf_release(&out);
	free(script);
	free(node);
	return rc;
}
