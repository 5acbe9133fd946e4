/* shell.c: the context, variables, and the one path every command takes. */
#include "shell/shell.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "aws/aws.h"
#include "shell/lexer.h"
#include "shell/output.h"
#include "shell/ui.h"
#include "lib/state.h"

volatile sig_atomic_t mlsh_interrupted;
volatile sig_atomic_t mlsh_line_interrupted;

void
shell_init(struct mlsh_ctx *ctx)
{
	const char *nc = getenv("NO_COLOR");

	memset(ctx, 0, sizeof *ctx);
	/* NULL (the reason in ctx->error) when there is no home: main refuses
	 * to run rather than keep state in a shared directory. */
	ctx->state_dir = state_default_dir(&ctx->error);
	ctx->color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	if (ctx->state_dir != NULL)
		ctx->lab_dir = xasprintf("%s/lab", ctx->state_dir);
	strlist_init(&ctx->session);
	strlist_init(&ctx->history);
	strlist_init(&ctx->regions);
}

void
shell_free(struct mlsh_ctx *ctx)
{
	script_free(ctx);
	shell_services_free(ctx);
	if (ctx->aws != NULL)
		aws_client_free(ctx->aws);
	state_close(ctx->state);
	for (size_t i = 0; i < ctx->nvars; i++) {
		free(ctx->vars[i].name);
		free(ctx->vars[i].value);
	}
	free(ctx->vars);
	history_session_release(ctx);
	strlist_release(&ctx->history);
	strlist_release(&ctx->regions);
	while (ctx->notes != NULL)
		history_note(ctx, NULL, 0, 0, NULL);
	free(ctx->history_path);
	free(ctx->workspace);
	free(ctx->profile);
	free(ctx->region);
	free(ctx->endpoint_url);
	free(ctx->state_dir);
	free(ctx->lab_dir);
	free(ctx->error);
}

/* Variables. */

int
shell_var_name_ok(const char *n)
{
	if (!(*n == '_' || (*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z')))
		return 0;
	for (n++; *n; n++)
		if (!(*n == '_' || (*n >= 'a' && *n <= 'z') ||
		    (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9')))
			return 0;
	return 1;
}

const char *
shell_var_get_local(struct mlsh_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nvars; i++)
		if (strcmp(ctx->vars[i].name, name) == 0)
			return ctx->vars[i].value;
	return NULL;
}

const char *
shell_var_get(struct mlsh_ctx *ctx, const char *name)
{
	const char *v = shell_var_get_local(ctx, name);
	return v != NULL ? v : getenv(name);
}

void
shell_var_set(struct mlsh_ctx *ctx, const char *name, const char *value)
{
	for (size_t i = 0; i < ctx->nvars; i++) {
		if (strcmp(ctx->vars[i].name, name) == 0) {
			free(ctx->vars[i].value);
			ctx->vars[i].value = xstrdup(value);
			return;
		}
	}
	ctx->vars = xreallocarray(ctx->vars, ctx->nvars + 1, sizeof *ctx->vars);
	ctx->vars[ctx->nvars].name = xstrdup(name);
	ctx->vars[ctx->nvars].value = xstrdup(value);
	ctx->nvars++;
}

int
shell_var_unset(struct mlsh_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->nvars; i++) {
		if (strcmp(ctx->vars[i].name, name) == 0) {
			free(ctx->vars[i].name);
			free(ctx->vars[i].value);
			ctx->vars[i] = ctx->vars[--ctx->nvars];
			return 0;
		}
	}
	return -1;
}

static const char *
lookup(void *arg, const char *name)
{
	return shell_var_get(arg, name);
}

/* Errors. */

static void
set_error(struct mlsh_ctx *ctx, char *msg)
{
	free(ctx->error);
	ctx->error = msg;
}

int
cmd_error(struct mlsh_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	if (ctx->current != NULL) {
		set_error(ctx, xasprintf("%s: %s", ctx->current->builtin->name,
		    m));
		free(m);
	} else
		set_error(ctx, m);
	return 1;
}

int
cmd_usage_error(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *fmt, ...)
{
	va_list ap;
	char *m, *u;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	u = cmd_usage(a->cmd == a->builtin ? NULL : a->builtin, a->cmd);
	set_error(ctx, xasprintf("%s: %s (usage: %s)", a->builtin->name, m, u));
	free(m);
	free(u);
	return 2;
}

void
shell_warn(struct mlsh_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	{
		/* Messages quote servers and hosts: one sanitiser (util.c). */
		char *safe = str_sanitize(m, 1);

		fprintf(stderr, "%s%s%s\n", ctx->where ? ctx->where : "",
		    ctx->where ? ": " : "", safe);
		free(safe);
	}
	free(m);
}

/* Results. */

void
shell_print_result(struct mlsh_ctx *ctx, const cJSON *result, int json)
{
	if (json)
		output_json(stdout, result);
	else
		output_render(stdout, result, ctx->color);
	fflush(stdout);
}

/* Running commands. */

static int
run_sh(struct mlsh_ctx *ctx, const char *text)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		shell_warn(ctx, "mlsh: cannot fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execl("/bin/sh", "sh", "-c", text, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int
shell_run_argv(struct mlsh_ctx *ctx, int argc, char **argv, cJSON **resultp)
{
	struct cmd_args a;
	const struct cmd_args *saved = ctx->current;
	char *cause = NULL;
	cJSON *result = NULL;
	int st;

	if (argc == 0)
		return 0;
	set_error(ctx, NULL);
	if (mlsh_line_interrupted) {
		/* After Ctrl-C nothing more runs until the prompt: a Lua
		 * script that caught the interruption cannot go on to start
		 * the next (costly) thing. */
		set_error(ctx, xstrdup("interrupted"));
		return 130;
	}
	st = cmd_parse(argc, argv, &a, &cause);
	if (st == 2) {
		set_error(ctx, cause);
		goto report;
	}
	a.json = a.json || ctx->json;
	if (st == 3) {
		/* -h/--help */
		const struct mlsh_cmd *parent = a.cmd == a.builtin ? NULL :
		    a.builtin;
		if (a.json)
			result = cmd_help_json(parent, a.cmd);
		else {
			char *t = cmd_help_text(parent, a.cmd);
			result = cJSON_CreateString(t);
			free(t);
		}
		st = 0;
	} else {
		char *why = NULL;
		/* A snapshot taken for an earlier command is read again
		 * when another mlsh has written since (ssh and train read
		 * ctx->state as it is). */
		if (ctx->state != NULL && state_refresh(ctx->state, &why) != 0)
			free(why);
		ctx->current = &a;
		st = a.cmd->exec(ctx, &a, &result);
		ctx->current = saved;
		/* A status without a message is a command's own (ssh passes
		 * on the remote exit status): nothing to print. */
		if (st == 0 && ctx->lua_depth == 0 &&
		    !(a.builtin->flags & CMD_NO_HISTORY) &&
		    !(a.cmd->flags & CMD_NO_HISTORY))
			history_record(ctx, &a, argv, result);
	}
	if (resultp != NULL) {
		*resultp = result;
		cmd_args_release(&a);
		return st;
	}
	if (st == 0)
		shell_print_result(ctx, result, a.json);
	cJSON_Delete(result);
	cmd_args_release(&a);
report:
	if (st != 0 && resultp == NULL && ctx->error != NULL)
		shell_warn(ctx, "%s", ctx->error);
	return st;
}

/* errexit stopped a line at command c (its text from start); rest is what
 * did not run. One line, only when something was left out: the command's
 * own error is already printed, and a Lua caller raises its own. */
static void
errexit_stop(struct mlsh_ctx *ctx, const struct lex_cmd *c, const char *start,
    const char *rest, size_t restlen, int st)
{
	size_t i = 0;
	char *text;

	while (i < restlen && strchr(" \t;", rest[i]) != NULL)
		i++;
	/* Ctrl-C ends the line on its own, and says so. */
	if (ctx->lua_depth > 0 || i == restlen || rest[i] == '#' ||
	    mlsh_line_interrupted)
		return;
	if (c->shell != NULL)
		text = xasprintf("!%s", c->shell);
	else if (c->n > 0)
		text = xstrndup(start + c->w[0].start,
		    c->w[c->n - 1].end - c->w[0].start);
	else
		text = xstrdup("");
	shell_warn(ctx, "mlsh: stopped at '%s' (status %d): the rest did not "
	    "run ('set errexit off' goes on after failures)", text, st);
	free(text);
}

int
shell_run_line(struct mlsh_ctx *ctx, const char *line, size_t len)
{
	struct lex_result r;
	struct lex_cmd c;
	char *cause = NULL;
	size_t pos = 0;
	int st = 0;

	/* Check the whole line's syntax before running any of it; expand each
	 * command only when its turn comes. */
	if (lex_line(line, len, NULL, NULL, &r, &cause) != 0) {
		shell_warn(ctx, "mlsh: %s", cause);
		free(cause);
		ctx->last_status = 2;
		return 2;
	}
	lex_result_release(&r);
	while (!ctx->exit_requested) {
		size_t at = pos;
		int got = lex_one(line, len, &pos, lookup, ctx, &c, &cause);
		if (got < 0) {
			shell_warn(ctx, "mlsh: %s", cause);
			free(cause);
			st = 2;
			break;
		}
		if (got == 0)
			break;
		if (mlsh_line_interrupted) {
			/* Ctrl-C ends the whole line, as in sh: `vpc up …; node
			 * dl1 up --yes` interrupted during vpc up must not
			 * start the node. The line's status says it was cut. */
			lex_cmd_release(&c);
			st = 130;
			break;
		}
		if (c.shell != NULL) {
			st = run_sh(ctx, c.shell);
			if (st == 0 && ctx->lua_depth == 0)
				history_record_sh(ctx, c.shell);
		} else {
			char **argv = xcalloc(c.n + 1, sizeof *argv);
			for (size_t k = 0; k < c.n; k++)
				argv[k] = c.w[k].text;
			if (c.n > 0)	/* the words as typed, for history save */
				history_note(ctx, line + at + c.w[0].start,
				    c.w[c.n - 1].end - c.w[0].start, (int)c.n, argv);
			st = shell_run_argv(ctx, (int)c.n, argv, NULL);
			history_note(ctx, NULL, 0, 0, NULL);
			free(argv);
		}
		if (st != 0 && ctx->errexit && !ctx->exit_requested) {
			errexit_stop(ctx, &c, line + at, line + pos, len - pos,
			    st);
			lex_cmd_release(&c);
			break;
		}
		lex_cmd_release(&c);
		ctx->last_status = st;
	}
	ctx->last_status = st;
	return st;
}

/* The AWS client. */

static void
aws_trace(void *arg, const char *text)
{
	struct mlsh_ctx *ctx = arg;

	if (!ctx->trace)
		return;
	fflush(stdout);
	fprintf(stderr, "%s%s", text,
	    *text && text[strlen(text) - 1] == '\n' ? "" : "\n");
}

static int
aws_interrupted(void *arg)
{
	(void)arg;
	return mlsh_interrupted != 0;
}

struct aws_client *
shell_aws(struct mlsh_ctx *ctx)
{
	struct aws_options o;

	if (ctx->aws != NULL)
		return ctx->aws;
	memset(&o, 0, sizeof o);
	o.profile = ctx->profile;
	o.region = ctx->region;
	o.endpoint_url = ctx->endpoint_url;
	o.trace = aws_trace;
	o.trace_arg = ctx;
	o.interrupted = aws_interrupted;
	o.netns_fd = -1;
	{
		/* The lab's control plane, when the session uses the lab. */
		char *cause = NULL;
		if ((ctx->aws = shell_services_aws(ctx, &o, &cause)) != NULL)
			return ctx->aws;
		if (cause != NULL) {
			/* The lab went away: never fall back to real AWS.
			 * Calls go to the discard port on loopback and fail
			 * with a clear error. */
			shell_warn(ctx, "mlsh: %s", cause);
			free(cause);
			o.endpoint_url = "http://127.0.0.1:9";
		}
	}
	ctx->aws = aws_client_new(&o);
	return ctx->aws;
}

void
shell_aws_reset(struct mlsh_ctx *ctx)
{
	if (ctx->aws != NULL)
		aws_client_free(ctx->aws);
	ctx->aws = NULL;
}

/* Settings. */

const char *
shell_region(struct mlsh_ctx *ctx)
{
	/* Every region resolved in this session, kept: callers hold on to the
	 * pointer across later calls (the profile or environment may change
	 * the answer, never the strings already handed out). */
	struct strlist *seen = &ctx->regions;
	char *r;

	if (ctx->region != NULL)
		return ctx->region;
	r = aws_region_resolve(NULL, ctx->profile);
	for (size_t i = 0; i < seen->n; i++)
		if (strcmp(seen->v[i], r) == 0) {
			free(r);
			return seen->v[i];
		}
	strlist_take(seen, r);
	return r;
}

char *
shell_prompt(struct mlsh_ctx *ctx)
{
	struct buf b;

	buf_init(&b);
	/* The lab is marked: the same workspace name may be a real stack. */
	buf_printf(&b, "mlsh%s %s@%s", ctx->lab ? "[lab]" : "", ctx->workspace,
	    shell_region(ctx));
	shell_services_prompt(ctx, &b);	/* the running cost … */
	buf_adds(&b, "> ");
	return buf_detach_release(&b);
}

/* --wait: one status line while another mlsh holds the workspace. */
static void
lock_progress(void *arg, const char *ws, long pid, int waited_s, int wait_s)
{
	(void)arg;
	if (waited_s < 0) {
		ui_status_done(NULL);
		return;
	}
	ui_status(10000, "waiting for workspace '%s' (in use by pid %ld): %d s of "
	    "at most %d s; Ctrl-C gives up", ws, pid, waited_s, wait_s);
}

static struct state_wait
shell_lock_wait(struct mlsh_ctx *ctx)
{
	struct state_wait w = {
		.wait_s = ctx->wait_lock ? SHELL_WAIT_S : 0,
		.cancel = (volatile int *)&mlsh_interrupted,
		.progress = lock_progress, .arg = ctx,
	};
	return w;
}

/* Whether the running command only reads the workspace (CMD_READONLY);
 * outside a command (completion, the prompt) mlsh only reads. */
static int
shell_reading(struct mlsh_ctx *ctx)
{
	return ctx->current == NULL ||
	    (ctx->current->cmd->flags & CMD_READONLY) != 0;
}

struct state *
shell_state(struct mlsh_ctx *ctx, char **cause)
{
	struct state_wait w = shell_lock_wait(ctx);
	int rc = 0;

	if (ctx->state == NULL && shell_reading(ctx))
		rc = state_open_snapshot(ctx->state_dir, ctx->workspace, &w,
		    &ctx->state, cause);
	else if (ctx->state == NULL)
		rc = state_open_wait(ctx->state_dir, ctx->workspace, &w,
		    &ctx->state, cause);
	else if (ctx->state->snapshot && !shell_reading(ctx))
		rc = state_lock(ctx->state, cause);
	return rc == 0 ? ctx->state : NULL;
}

int
shell_switch_workspace(struct mlsh_ctx *ctx, const char *name, char **cause)
{
	struct state *s;
	char *cur;

	if ((*cause = state_name_error(name)) != NULL)
		return -1;
	if (ctx->state != NULL && strcmp(ctx->state->workspace, name) == 0)
		return 0;
	/* A snapshot: switching to a workspace another mlsh holds works;
	 * the first command that writes takes the lock. A new one is saved
	 * (and locked) at once. */
	{
		struct state_wait w = shell_lock_wait(ctx);
		if (state_open_snapshot(ctx->state_dir, name, &w, &s,
		    cause) != 0)
			return -1;
	}
	if (!s->existed && state_save(s, cause) != 0) {
		state_close(s);
		return -1;
	}
	state_close(ctx->state);
	ctx->state = s;
	shell_services_reset(ctx);	/* another stack, another jump host */
	free(ctx->workspace);
	ctx->workspace = xstrdup(name);
	/* Remember it for the next session, as kubectl remembers a context. */
	cur = xasprintf("%s/current", ctx->state_dir);
	{
		char *text = xasprintf("%s\n", name), *why = NULL;

		/* Atomic and 0600 like the rest; only a convenience. */
		if (state_write_file(cur, text, strlen(text), &why) != 0)
			free(why);
		free(text);
	}
	free(cur);
	return 0;
}
