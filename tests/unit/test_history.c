/* Unit tests: the session record behind `history save` (shell/history.c):
 * Lua literals, $NAME kept as references, secrets left out. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"
#include "unit.h"

static struct mlsh_ctx ctx;

static const char *
last(void)
{
	return ctx.session.n > 0 ? ctx.session.v[ctx.session.n - 1] : "";
}

/* Whether Lua accepts the text as a chunk. */
static int
parses(const char *text)
{
	lua_State *L = luaL_newstate();
	int ok = luaL_loadstring(L, text) == LUA_OK;

	if (!ok)
		fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
	lua_close(L);
	return ok;
}

/* Record one command typed as raw, which ran as the words in argv. */
static void
record(const char *raw, char **argv)
{
	struct cmd_args a;
	char *cause = NULL;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	if (cmd_parse(argc, argv, &a, &cause) != 0) {
		T_FAIL("cannot parse for '%s': %s", raw, cause);
		free(cause);
		return;
	}
	if (raw != NULL)
		history_note(&ctx, raw, strlen(raw), argc, argv);
	history_record(&ctx, &a, argv, NULL);
	if (raw != NULL)
		history_note(&ctx, NULL, 0, 0, NULL);
	cmd_args_release(&a);
}

static void
test_int_literals(void)
{
	char *w1[] = { "history", "--count=+1", NULL };
	char *w2[] = { "history", "--count", "007", NULL };

	record(NULL, w1);
	T_EQ_STR(last(), "history{count=1}");
	T_OK(parses(last()));
	record(NULL, w2);
	T_EQ_STR(last(), "history{count=7}");
	T_OK(parses(last()));
}

static void
test_references(void)
{
	char *w[] = { "echo", "xv1", "e1y", "$k", NULL };

	shell_var_set(&ctx, "k", "v1");
	setenv("MLSH_T_ENV", "e1", 1);
	record("echo x$k ${MLSH_T_ENV}y '$k'", w);
	T_EQ_STR(last(), "echo(\"x\" .. var(\"k\"), "
	    "(os.getenv(\"MLSH_T_ENV\") or \"\") .. \"y\", \"$k\")");
	T_OK(parses(last()));
	T_OK(strstr(last(), "v1") == NULL && strstr(last(), "e1") == NULL);
}

static void
test_fallback_raw(void)
{
	char *w[] = { "history", "--count=3", NULL };

	shell_var_set(&ctx, "N", "3");
	record("history --count=$N", w);
	T_EQ_STR(last(), "mlsh.run(\"history --count=$N\")");
	T_OK(parses(last()));
}

static void
test_stale_note(void)
{
	char *w[] = { "echo", "v1", NULL };

	/* A note for other words never applies. */
	history_note(&ctx, "echo $k", 7, 2, NULL);
	record(NULL, w);
	history_note(&ctx, NULL, 0, 0, NULL);
	T_EQ_STR(last(), "echo(\"v1\")");
}

static void
test_secrets(void)
{
	char *s1[] = { "set", "My_Api_Key", "abc", NULL };
	char *s2[] = { "set", "dbpassword", "abc", NULL };
	char *s3[] = { "set", "region_name", "x", NULL };
	size_t n = ctx.session.n;

	T_OK(history_secret_name("GITHUB_TOKEN"));
	T_OK(history_secret_name("aws_secret_access_key"));
	T_OK(!history_secret_name("region"));
	record(NULL, s1);
	record(NULL, s2);
	T_EQ_INT(ctx.session.n, n);
	record(NULL, s3);
	T_EQ_INT(ctx.session.n, n + 1);
	history_record_sh(&ctx, "export A=1");
	history_record_sh(&ctx, "true; export A");
	history_record_sh(&ctx, "GH_TOKEN=abc git push");
	T_EQ_INT(ctx.session.n, n + 1);
	history_record_sh(&ctx, "ls exports/ && echo exported");
	T_EQ_STR(last(), "mlsh.run(\"!ls exports/ && echo exported\")");
}

int
main(void)
{
	setenv("XDG_STATE_HOME", "/nonexistent-mlsh-test", 1);
	shell_init(&ctx);
	T_RUN(test_int_literals);
	T_RUN(test_references);
	T_RUN(test_fallback_raw);
	T_RUN(test_stale_note);
	T_RUN(test_secrets);
	T_DONE();
}
