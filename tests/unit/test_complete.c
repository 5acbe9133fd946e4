/* Unit tests: the completion engine, a pure function of (line, cursor). */
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shell/complete.h"
#include "shell/shell.h"
#include "lib/state.h"
#include "unit.h"

static struct mlsh_ctx ctx;

/* Candidates joined with ' ', and the start offset. */
static char *
comp(const char *line, size_t *start)
{
	struct completion c;
	struct buf b;

	complete_line(&ctx, line, strlen(line), &c);
	buf_init(&b);
	for (size_t i = 0; i < c.cands.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", c.cands.v[i]);
	if (start)
		*start = c.start;
	completion_release(&c);
	return buf_detach_release(&b);
}

#define COMP(line, want) do {						\
	char *o_ = comp(line, NULL);					\
	T_EQ_STR(o_, want);						\
	free(o_);							\
} while (0)

static void
test_builtins(void)
{
	size_t start = 99;
	char *o = comp("wor", &start);
	T_EQ_STR(o, "workspace");
	T_EQ_INT(start, 0);
	free(o);
	COMP("h", "help history");
	COMP("ex", "exit");
	COMP("w", "workspace ws");		/* aliases too */
	COMP("zz", "");
	COMP("echo a; wor", "workspace");	/* after a separator */
	COMP("  hist", "history");
}

static void
test_subcommands_and_flags(void)
{
	size_t start;
	char *o = comp("history s", &start);
	T_EQ_STR(o, "save");
	T_EQ_INT(start, 8);
	free(o);
	COMP("workspace rm --", "--force --help --json");
	COMP("history --c", "--count");
	COMP("history save --f", "--force");
	COMP("set tr", "trace");
	COMP("help wo", "workspace");
	COMP("region us-east-", "us-east-1 us-east-2");
	COMP("region --region=", "");		/* no such option */
	COMP("!wor", "");			/* sh's business */
}

static void
test_dynamic_workspaces(void)
{
	struct state *s;
	char *cause = NULL;

	/* Two workspaces on disk; the hook lists them (and the current). */
	T_EQ_INT(state_open(ctx.state_dir, "alpha", 0, NULL, &s, &cause), 0);
	T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);
	T_EQ_INT(state_open(ctx.state_dir, "beta", 0, NULL, &s, &cause), 0);
	T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);
	COMP("workspace ", "alpha beta default ls rm");
	COMP("workspace a", "alpha");
	COMP("workspace rm b", "beta");
	COMP("workspace alpha ", "");		/* at most one argument */
	COMP("ws b", "beta");
}

static void
test_paths(void)
{
	char dir[] = "/tmp/mlsh-comp.XXXXXX";
	char *line, *want;

	T_OK(mkdtemp(dir) != NULL);
	line = xasprintf("%s/sub", dir);
	mkdir(line, 0700);
	free(line);
	line = xasprintf("%s/sess.mlsh", dir);
	close(creat(line, 0600));
	free(line);

	line = xasprintf("source %s/s", dir);
	want = xasprintf("%s/sess.mlsh %s/sub/", dir, dir);
	COMP(line, want);
	free(line);
	free(want);
	line = xasprintf("history save %s/su", dir);
	want = xasprintf("%s/sub/", dir);
	COMP(line, want);
	free(line);
	free(want);

	line = xasprintf("rm -rf %s", dir);
	T_EQ_INT(system(line), 0);
	free(line);
}

static void
test_quotes(void)
{
	struct completion c;
	complete_line(&ctx, "help 'wor", 9, &c);
	T_EQ_INT(c.quote, '\'');
	T_EQ_INT(c.start, 5);
	T_EQ_INT(c.cands.n, 1);
	completion_release(&c);
}

static void
test_common_prefix(void)
{
	struct completion c;
	char *p;

	complete_line(&ctx, "region us-", 10, &c);
	p = complete_common_prefix(&c);
	T_EQ_STR(p, "us-");
	free(p);
	completion_release(&c);
	complete_line(&ctx, "region eu-w", 11, &c);
	p = complete_common_prefix(&c);
	T_EQ_STR(p, "eu-west-");
	free(p);
	completion_release(&c);
}

static void
test_api(void)
{
	COMP("api e", "ec2 efs");
	COMP("api ec2 DescribeVpcE", "DescribeVpcEncryptionControls DescribeVpcEndpointAssociations DescribeVpcEndpointConnectionNotifications DescribeVpcEndpointConnections DescribeVpcEndpointServiceConfigurations DescribeVpcEndpointServicePermissions DescribeVpcEndpointServices DescribeVpcEndpoints");
	COMP("api efs CreateF", "CreateFileSystem");
	COMP("api nope Cre", "");
}

/* node's hook: kinds, node names and instance types, each once and in
 * order (the engine sorts and de-duplicates once for every hook). */
static void
test_node_names(void)
{
	struct state *s;
	char *cause = NULL;
	cJSON *res;
	static const char *const roles[] = { "dl1-2", "dl1-10", "dl1-1",
	    "p3-1", "vpc", NULL };

	T_EQ_INT(state_open(ctx.state_dir, "nodes", 0, NULL, &s, &cause), 0);
	res = cJSON_GetObjectItemCaseSensitive(s->root, "resources");
	if (res == NULL)
		res = cJSON_AddObjectToObject(s->root, "resources");
	for (size_t i = 0; roles[i]; i++) {
		cJSON *r = cJSON_AddObjectToObject(res, roles[i]);
		cJSON_AddStringToObject(r, "type", strcmp(roles[i], "vpc") ?
		    "instance" : "vpc");
	}
	T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);
	T_EQ_INT(shell_switch_workspace(&ctx, "nodes", &cause), 0);
	COMP("node dl1-", "dl1-1 dl1-10 dl1-2");
	COMP("node d", "dl1 dl1-1 dl1-10 dl1-2 down");
	COMP("node stop ", "dl1-1 dl1-10 dl1-2 p3-1");
	/* dl1.24xlarge is both a common type and the dl1 kind's type. */
	COMP("node up --type dl1", "dl1.24xlarge");
	COMP("node up --type=p3.8", "--type=p3.8xlarge");
	T_EQ_INT(shell_switch_workspace(&ctx, "default", &cause), 0);
	free(cause);
}

/* train's hook: run names from the cache for RUN (plot and samples as
 * the others), local paths for samples' DEST. */
static void
test_train_runs(void)
{
	char *dir = xasprintf("%s/train/default", ctx.state_dir), *cause = NULL;
	char *p, *line;

	T_EQ_INT(mkdir_p(dir, 0700, &cause), 0);
	p = xasprintf("%s/runs", dir);
	T_EQ_INT(state_write_file(p, "r1\nr2\nx9\n", 9, &cause), 0);
	free(p);
	COMP("train plot ", "r1 r2 x9");
	COMP("train samples r", "r1 r2");
	COMP("train status x", "x9");
	COMP("train plot r1 ", "");		/* one run only */
	p = xasprintf("%s/samples_2.png", dir);
	T_EQ_INT(state_write_file(p, "", 0, &cause), 0);
	line = xasprintf("train samples r1 %s/sa", dir);
	COMP(line, p);
	free(line);
	free(p);
	free(dir);
	free(cause);
}

int
main(void)
{
	char dir[] = "/tmp/mlsh-comp-state.XXXXXX";
	char *cmd;

	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("XDG_STATE_HOME", dir, 1);
	shell_init(&ctx);
	ctx.workspace = xstrdup("default");
	T_RUN(test_builtins);
	T_RUN(test_subcommands_and_flags);
	T_RUN(test_dynamic_workspaces);
	T_RUN(test_paths);
	T_RUN(test_quotes);
	T_RUN(test_common_prefix);
	T_RUN(test_api);
	T_RUN(test_node_names);
	T_RUN(test_train_runs);
	shell_free(&ctx);
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	T_DONE();
}
