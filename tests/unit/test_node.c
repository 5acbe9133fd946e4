/* Unit tests: `node KIND up` / `node NAME stop` from the table
 * (CMD_VERB_SECOND: parsing, usage, completion), and the user-data
 * templates (builtins/userdata.c). */
#include <stdlib.h>
#include <string.h>
#include "stack/userdata.h"
#include "shell/complete.h"
#include "shell/shell.h"
#include "lib/state.h"
#include "unit.h"

static struct mlsh_ctx ctx;

static int
parse(const char *line, struct cmd_args *a, char **cause)
{
	char *copy = xstrdup(line), *save = NULL;
	char *argv[16];
	int argc = 0, rc;

	for (char *w = strtok_r(copy, " ", &save); w && argc < 15;
	    w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	*cause = NULL;
	rc = cmd_parse(argc, argv, a, cause);
	free(copy);
	return rc;
}

static void
test_object_then_verb(void)
{
	struct cmd_args a;
	char *cause;

	T_EQ_INT(parse("node dl1 up --count 2 --spot", &a, &cause), 0);
	T_EQ_STR(a.cmd->name, "up");
	T_EQ_INT(a.argc, 1);
	T_EQ_STR(a.argv[0], "dl1");
	T_EQ_STR(cmd_opt(&a, "count"), "2");
	T_OK(cmd_opt_bool(&a, "spot"));
	cmd_args_release(&a);

	T_EQ_INT(parse("node dl1-1 stop", &a, &cause), 0);
	T_EQ_STR(a.cmd->name, "stop");
	T_EQ_STR(a.argv[0], "dl1-1");
	cmd_args_release(&a);

	/* The verb first still works, and is the same command. */
	T_EQ_INT(parse("node up dl1 --count 3 -n", &a, &cause), 0);
	T_EQ_STR(a.cmd->name, "up");
	T_EQ_STR(a.argv[0], "dl1");
	T_EQ_STR(cmd_opt(&a, "count"), "3");
	T_OK(cmd_opt_bool(&a, "dry-run"));	/* -n is --dry-run everywhere */
	cmd_args_release(&a);

	/* The count's range is the table's: one message from the parser. */
	T_EQ_INT(parse("node dl1 up --count 17", &a, &cause), 2);
	T_OK(strstr(cause, "node: --count must be 1 to 16, not '17'") == cause);
	free(cause);
	cause = NULL;
	T_EQ_INT(parse("node dl1 up --disk 4", &a, &cause), 2);
	T_OK(strstr(cause, "--disk must be 8 to 16384, not '4'") != NULL);
	free(cause);
	cause = NULL;

	/* No verb: the entry's own exec (ls, or one node's status). */
	T_EQ_INT(parse("node", &a, &cause), 0);
	T_OK(a.cmd == a.builtin);
	cmd_args_release(&a);
	T_EQ_INT(parse("node dl1-1", &a, &cause), 0);
	T_OK(a.cmd == a.builtin);
	T_EQ_STR(a.argv[0], "dl1-1");
	cmd_args_release(&a);

	/* Options belong to the verb, and usage says so. */
	T_EQ_INT(parse("node dl1-1 stop --count 2", &a, &cause), 2);
	T_EQ_STR(cause, "node: unknown flag: --count (usage: node NAME stop "
	    "[--dry-run])");
	free(cause);
	T_EQ_INT(parse("node dl1-1 stop extra", &a, &cause), 2);
	T_OK(cause != NULL && strstr(cause, "unexpected argument: extra"));
	free(cause);

	/* Entries without the flag are unchanged. */
	T_EQ_INT(parse("workspace foo ls", &a, &cause), 2);
	free(cause);
}

static void
test_usage(void)
{
	const struct mlsh_cmd *b = cmd_find("node", NULL);
	char *u;

	T_OK(b != NULL);
	u = cmd_usage(b, cmd_find_sub(b, "up"));
	T_OK(strncmp(u, "node KIND up [--count N] [--type TYPE]", 38) == 0);
	T_OK(!str_endswith(u, "KIND"));
	free(u);
	u = cmd_usage(b, cmd_find_sub(b, "down"));
	T_EQ_STR(u, "node NAME down [--force] [--dry-run]");
	free(u);
	u = cmd_usage(b, cmd_find_sub(b, "ls"));
	T_EQ_STR(u, "node ls [--refresh]");
	free(u);
	/* Other entries keep "cmd sub … ARGS". */
	u = cmd_usage(cmd_find("workspace", NULL), cmd_find_sub(cmd_find(
	    "workspace", NULL), "rm"));
	T_EQ_STR(u, "workspace rm [--force] NAME");
	free(u);
}

static char *
comp(const char *line)
{
	struct completion c;
	struct buf b;

	complete_line(&ctx, line, strlen(line), &c);
	buf_init(&b);
	for (size_t i = 0; i < c.cands.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", c.cands.v[i]);
	completion_release(&c);
	return buf_detach_release(&b);
}

#define COMP(line, want) do {						\
	char *o_ = comp(line);						\
	T_EQ_STR(o_, want);						\
	free(o_);							\
} while (0)

static void
test_completion(void)
{
	struct state *s;
	char *cause = NULL;
	cJSON *res;

	/* A workspace with two nodes and a jump host (not a node). */
	T_EQ_INT(state_open(ctx.state_dir, "default", 0, NULL, &s, &cause), 0);
	res = cJSON_GetObjectItemCaseSensitive(s->root, "resources");
	if (res == NULL)
		res = cJSON_AddObjectToObject(s->root, "resources");
	T_OK(res != NULL);
	if (res == NULL)
		return;
	cJSON_AddItemToObject(res, "dl1-1", cJSON_Parse("{\"role\":\"dl1-1\","
	    "\"type\":\"instance\",\"id\":\"i-1\",\"status\":\"created\"}"));
	cJSON_AddItemToObject(res, "dl1-2", cJSON_Parse("{\"role\":\"dl1-2\","
	    "\"type\":\"instance\",\"id\":\"i-2\",\"status\":\"created\"}"));
	cJSON_AddItemToObject(res, "notebook", cJSON_Parse("{\"role\":"
	    "\"notebook\",\"type\":\"notebook\",\"id\":\"default-notebook\","
	    "\"status\":\"created\"}"));
	cJSON_AddItemToObject(res, "jump", cJSON_Parse("{\"role\":\"jump\","
	    "\"type\":\"instance\",\"id\":\"i-3\",\"status\":\"created\"}"));
	T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);

	/* Kinds, names and verbs; then the verbs that fit the object. */
	COMP("node ", "autostop dl1 dl1-1 dl1-2 down ls p3 start status stop up");
	COMP("node d", "dl1 dl1-1 dl1-2 down");
	COMP("node dl1 ", "up");
	COMP("node dl1-2 ", "autostop down start status stop");
	COMP("node dl1-2 s", "start status stop");
	COMP("node stop ", "dl1-1 dl1-2");
	COMP("node up ", "dl1 p3");
	COMP("node dl1-1 stop ", "");
	/* The verb's own flags and values, after the object. */
	COMP("node dl1 up --sp", "--spot");
	COMP("node dl1 up --s", "--skip-quota-check --spot");
	COMP("node dl1 up --type p3.", "p3.16xlarge p3.2xlarge p3.8xlarge");
	COMP("node dl1 up --type=dl", "--type=dl1.24xlarge");
	COMP("node dl1-1 stop --", "--dry-run --help --json");
	COMP("notebook up --type ml.p3.8", "ml.p3.8xlarge");
	COMP("grafana up --type t3.s", "t3.small");
	COMP("grafana ", "down open status up");
	COMP("notebook stop ", "default-notebook");
	COMP("notebook status d", "default-notebook");
	/* train run --nodes: node names, in comma lists, each once. */
	COMP("train run --nodes dl", "dl1-1 dl1-2");
	COMP("train run --nodes dl1-2,", "dl1-2,dl1-1");
	COMP("train run --nodes=dl1-1,d", "--nodes=dl1-1,dl1-2");
	COMP("train run --nodes dl1-1,dl1-2,", "");
}

static char *
render(const char *tmpl, const char *name, const char *value, char **cause)
{
	struct userdata_var v[2] = { { name, value }, { "B", "bee" } };
	*cause = NULL;
	return userdata_render(tmpl, v, 2, cause);
}

static void
test_templates(void)
{
	char *o, *cause;

	o = render("X='@A@' Y='@B@'\n", "A", "it's", &cause);
	T_EQ_STR(o, "X='it'\\''s' Y='bee'\n");
	free(o);
	/* Lower-case and unclosed @ are text; an unknown name is an error. */
	o = render("# @name@ a@b.c @\n", "A", "x", &cause);
	T_EQ_STR(o, "# @name@ a@b.c @\n");
	free(o);
	T_OK(render("X='@NOPE@'\n", "A", "x", &cause) == NULL);
	T_EQ_STR(cause, "template: no value for @NOPE@");
	free(cause);
	/* Whole files, as they are; their end word is checked. */
	o = render("cat <<'E'\n@@A@@\nE\n", "A", "l1 'q' $x\nl2", &cause);
	T_EQ_STR(o, "cat <<'E'\nl1 'q' $x\nl2\nE\n");
	free(o);
	T_OK(render("cat <<'E'\n@@A@@\nE\n", "A", "x\nE\ny\n", &cause) == NULL);
	T_OK(cause != NULL && strstr(cause, "end word 'E'"));
	free(cause);
	/* No newline at the end of the template. */
	o = render("a @B@", "A", "", &cause);
	T_EQ_STR(o, "a bee");
	free(o);

	o = base64_encode("", 0);
	T_EQ_STR(o, "");
	free(o);
	o = base64_encode("f", 1);
	T_EQ_STR(o, "Zg==");
	free(o);
	o = base64_encode("foobar", 6);
	T_EQ_STR(o, "Zm9vYmFy");
	free(o);
	o = base64_encode("fooba", 5);
	T_EQ_STR(o, "Zm9vYmE=");
	free(o);
}

static void
test_embedded(void)
{
	const char *d = userdata_file("scripts/grafana-dashboard.json");
	cJSON *j;

	T_OK(userdata_file("scripts/userdata/node.sh") != NULL);
	T_OK(userdata_file("scripts/userdata/metrics.sh") != NULL);
	T_OK(userdata_file("scripts/userdata/grafana.sh") != NULL);
	T_OK(userdata_file("scripts/notebook-onstart.sh") != NULL);
	T_OK(userdata_file("scripts/nope.sh") == NULL);
	T_OK(d != NULL);
	j = d ? cJSON_Parse(d) : NULL;
	T_OK(j != NULL);
	T_OK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "panels")) >= 5);
	cJSON_Delete(j);
	/* Every template renders with the values mlsh gives (no typo). */
	{
		static const char *const paths[] = { "scripts/userdata/node.sh",
		    "scripts/userdata/grafana.sh", "scripts/notebook-onstart.sh",
		    NULL };
		struct userdata_var v[] = { { "WORKSPACE", "w" },
		    { "NODE", "n" }, { "REGION", "r" }, { "EFS_ID", "" },
		    { "EFS_DNS", "" }, { "EFS_IP", "" }, { "NAMESPACE", "mlsh" },
		    { "METRICS", "echo m" }, { "DASHBOARD", "{}" },
		    { "AUTOSTOP", "3600" }, { "AUTOSTOP_SH", "echo a" },
		    { "NOTEBOOK_AUTOSTOP", "print(1)" },
		    { "ADMIN_PASSWORD", "0123456789abcdefABCDEF-_" } };
		for (size_t i = 0; paths[i] != NULL; i++) {
			char *cause = NULL;
			char *o = userdata_render(userdata_file(paths[i]), v,
			    sizeof v / sizeof v[0], &cause);
			T_OK(o != NULL);
			if (o == NULL)
				fprintf(stderr, "%s: %s\n", paths[i], cause);
			T_OK(o == NULL || strlen(o) < USERDATA_MAX);
			free(o);
			free(cause);
		}
	}
}

int
main(void)
{
	char dir[] = "/tmp/mlsh-node-state.XXXXXX";
	char *cmd;

	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("XDG_STATE_HOME", dir, 1);
	shell_init(&ctx);
	ctx.workspace = xstrdup("default");
	T_RUN(test_object_then_verb);
	T_RUN(test_usage);
	T_RUN(test_completion);
	T_RUN(test_templates);
	T_RUN(test_embedded);
	shell_free(&ctx);
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	T_DONE();
}
