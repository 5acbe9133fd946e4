/* Unit tests: the session record behind `history save` (shell/history.c,
 * shell/replay.c): Lua literals, $NAME kept as references, secrets left
 * out; ids from earlier results as references, typed ids flagged, what is
 * not replayed, the script's header. */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include "shell/shell.h"
#include "shell/replay.h"
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

/* Record one command typed as raw, which ran as the words in argv and
 * gave result (JSON text, or NULL). */
static void
record_result(const char *raw, char **argv, const char *result)
{
	cJSON *res = result != NULL ? cJSON_Parse(result) : NULL;

	struct cmd_args a;
	char *cause = NULL;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	if (cmd_parse(argc, argv, &a, &cause) != 0) {
		T_FAIL("cannot parse for '%s': %s", raw, cause);
		free(cause);
		cJSON_Delete(res);
		return;
	}
	if (raw != NULL)
		history_note(&ctx, raw, strlen(raw), argc, argv);
	history_record(&ctx, &a, argv, res);
	if (raw != NULL)
		history_note(&ctx, NULL, 0, 0, NULL);
	cmd_args_release(&a);
	cJSON_Delete(res);
}

static void
record(const char *raw, char **argv)
{
	record_result(raw, argv, NULL);
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


/* The saved script, as text. Caller frees. */
static char *
script_text(void)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	history_write_script(&ctx, f, "s.mlsh");
	fclose(f);
	return text;
}

static int
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' ||
		    p[n] == '\0'))
			return 1;
	return 0;
}

#define VPC_RESULT "[{\"role\":\"vpc\",\"id\":\"vpc-0a1b2c3d4e5f60718\"}," \
	"{\"role\":\"sg-jump\",\"id\":\"sg-08fb05de18aa26180\"}," \
	"{\"role\":\"sg-nodes\",\"id\":\"sg-0acbcbdf174507807\"}]"

static void
test_replay(void)
{
	char *ws[] = { "workspace", "msls", NULL };
	char *vpc[] = { "vpc", "up", "--allow", "10.1.2.3/32", "--yes", NULL };
	char *dry[] = { "efs", "up", "-n", NULL };
	char *fs[] = { "efs", "up", NULL };
	char *grant[] = { "api", "ec2", "AuthorizeSecurityGroupIngress",
	    "GroupId=sg-0acbcbdf174507807", "CidrIp=10.0.0.0/16", NULL };
	char *desc[] = { "api", "efs", "DescribeFileSystems", NULL };
	char *mt[] = { "api", "efs", "DescribeMountTargets",
	    "{\"FileSystemId\":\"fs-a98680c0\"}", NULL };
	char *lit[] = { "api", "ec2", "DescribeSubnets",
	    "SubnetId.1=subnet-0123456789abcdef0", "Filter.1.Name=my-sg-0123456789", NULL };
	char *sh[] = { "ssh", "dl1-1", NULL };
	char *shc[] = { "ssh", "dl1-1", "hostname", NULL };
	char *tun[] = { "tunnel", "dl1-1", "8888", NULL };
	char *gr[] = { "grafana", "open", NULL };
	char *text;
	size_t base;

	history_session_release(&ctx);
	record(NULL, ws);
	T_EQ_STR(last(), "workspace(WS)");
	record_result(NULL, vpc, VPC_RESULT);
	T_EQ_STR(last(), "vpc.up{allow=\"10.1.2.3/32\"}");	/* no yes */
	record_result(NULL, dry, "[{\"role\":\"efs\",\"id\":\"fs-00000000\"}]");
	record_result(NULL, fs, "[{\"role\":\"efs\",\"id\":\"fs-a98680c0\"}]");
	record(NULL, grant);
	T_EQ_STR(last(), "api(\"ec2\", \"AuthorizeSecurityGroupIngress\", "
	    "\"GroupId=\" .. find(r[2], \"role\", \"sg-nodes\").id, "
	    "\"CidrIp=10.0.0.0/16\")");
	record_result(NULL, desc, "[{\"FileSystemId\":\"fs-b00000c0\","
	    "\"Name\":\"msls-efs\"},{\"FileSystemId\":\"fs-c00000d0\","
	    "\"Name\":\"other-efs\"}]");
	record(NULL, mt);
	/* The earlier result (efs up) gave it: the first producer wins. */
	T_EQ_STR(last(), "api(\"efs\", \"DescribeMountTargets\", "
	    "\"{\\\"FileSystemId\\\":\\\"\" .. find(r[4], \"role\", \"efs\").id .. "
	    "\"\\\"}\")");
	base = ctx.session.n;
	record(NULL, lit);
	T_OK(ctx.session_recs[base].flag != NULL &&
	    strstr(ctx.session_recs[base].flag, "subnet-0123456789abcdef0") &&
	    !strstr(ctx.session_recs[base].flag, "my-sg"));
	record(NULL, sh);
	record(NULL, shc);
	record(NULL, tun);
	record(NULL, gr);
	T_OK(ctx.session_recs[base + 1].skip != NULL);	/* ssh: interactive */
	T_OK(ctx.session_recs[base + 2].skip == NULL);	/* ssh CMD runs */
	T_OK(ctx.session_recs[base + 3].skip != NULL);
	T_OK(ctx.session_recs[base + 4].skip != NULL);
	{
		/* A name with the workspace in it follows the parameter. */
		char *ref[] = { "api", "efs", "DeleteFileSystem",
		    "{\"FileSystemId\":\"fs-b00000c0\"}", NULL };
		record(NULL, ref);
		T_OK(strstr(last(), "find(r[6], \"Name\", WS .. \"-efs\").FileSystemId")
		    != NULL);
	}

	ctx.lab = 1;
	text = script_text();
	T_OK(strstr(text, "-- Run it with: mlsh --lab -r ") != NULL);
	T_OK(strstr(text, " s.mlsh [WORKSPACE]\n") != NULL);
	T_OK(strstr(text, "if not mlsh.lab then") != NULL);
	T_OK(strstr(text, "local function find(") != NULL);
	T_OK(strstr(text, "\n    \"msls\"\nworkspace(WS)\n") != NULL);
	T_OK(has_line(text, "-- not replayed (dry run): efs.up{dry_run=true}"));
	T_OK(has_line(text, "r[2] = vpc.up{allow=\"10.1.2.3/32\"}"));
	/* Only a comment reads it: no r[4]. */
	T_OK(has_line(text, "efs.up()"));
	T_OK(has_line(text, "-- not replayed (interactive shell): ssh(\"dl1-1\")"));
	T_OK(has_line(text, "ssh(\"dl1-1\", \"hostname\")"));
	/* A read-only call whose result a later command reads runs. */
	T_OK(strstr(text, "\nr[6] = api(\"efs\", \"DescribeFileSystems\")\t--") != NULL);
	T_OK(strstr(text, "-- not replayed (read-only): api(\"ec2\", \"DescribeSubnets\"") != NULL);
	T_OK(strstr(text, "-- mlsh: no earlier result gave subnet-0123456789abcdef0") != NULL);
	T_OK(strstr(text, "-- not replayed (interactive: open until Ctrl-C): grafana.open()") != NULL);
	T_OK(parses(strchr(text, '\n') + 1));	/* after the #! line */
	free(text);
	ctx.lab = 0;
	ctx.endpoint_url = xstrdup("http://127.0.0.1:5000");
	text = script_text();
	T_OK(strstr(text, "-- Run it with: mlsh --endpoint-url http://127.0.0.1:5000 -r ") != NULL);
	T_OK(strstr(text, "mlsh.lab") == NULL);
	free(text);
	free(ctx.endpoint_url);
	ctx.endpoint_url = NULL;
}

int
main(void)
{
	setenv("XDG_STATE_HOME", "/nonexistent-mlsh-test", 1);
	shell_init(&ctx);
	ctx.workspace = xstrdup("msls");
	T_RUN(test_int_literals);
	T_RUN(test_references);
	T_RUN(test_fallback_raw);
	T_RUN(test_stale_note);
	T_RUN(test_secrets);
	T_RUN(test_replay);
	shell_free(&ctx);
	T_DONE();
}
