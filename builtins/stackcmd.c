/* stackcmd.c: a command's context and arguments as the stack engine's env,
 * opts and ui (see stackcmd.h). */
#include "builtins/stackcmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include "builtins/target.h"
#include "builtins/tunnel.h"
#include "lib/duration.h"
#include "lib/state.h"
#include "shell/ui.h"

static int
has_opt(const struct cmd_args *a, const char *name)
{
	if (a == NULL || a->cmd == NULL || a->cmd->opts == NULL ||
	    a->optv == NULL)
		return 0;
	for (size_t i = 0; a->cmd->opts[i].name != NULL; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return a->optv[i] != NULL;
	return 0;
}

/* --- the ui --- */

static void
ui_error(void *arg, const char *line)
{
	cmd_error(arg, "%s", line);
}

static void
ui_warn(void *arg, const char *line)
{
	shell_warn(arg, "%s", line);
}

static void
ui_note(void *arg, const char *line)
{
	(void)arg;
	fflush(stdout);
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

/* Plain lines in logs at most every 10 s. */
static void
ui_progress(void *arg, int done, const char *line)
{
	(void)arg;
	if (!done)
		ui_status(10000, "%s", line);
	else if (line != NULL)
		ui_status_done("%s", line);
	else
		ui_status_done(NULL);
}

static int
ui_ask(void *arg, const char *question)
{
	if (!ui_can_ask(arg))
		return -1;
	return ui_confirm("%s", question);
}

/* Its tunnels and host key pins go with an instance (by instance id:
 * another workspace may have a host at the same address). */
static void
instance_gone(void *arg, const char *id)
{
	tunnel_instance_gone(arg, id);
	target_forget_instance(arg, id);
}

int
stack_open(struct mlsh_ctx *ctx, const struct cmd_args *a, struct stack *st)
{
	const char *seq = getenv("MLSH_SEQUENTIAL");
	struct stack_env env;
	struct stack_opts opts;
	struct stack_ui ui = {
		.arg = ctx, .error = ui_error, .warn = ui_warn,
		.note = ui_note, .progress = ui_progress, .confirm = ui_ask,
	};
	char *cause = NULL;

	memset(st, 0, sizeof *st);
	memset(&env, 0, sizeof env);
	if ((env.state = shell_state(ctx, &cause)) == NULL) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return -1;
	}
	env.aws = shell_aws(ctx);
	env.region = aws_client_region(env.aws);
	env.prices = *stackcmd_prices(ctx);
	env.instance_gone = instance_gone;
	env.arg = ctx;
	opts.dry_run = has_opt(a, "dry-run");
	opts.yes = has_opt(a, "yes") || ctx->yes;	/* mlsh --yes */
	opts.force = has_opt(a, "force");
	opts.over_budget = has_opt(a, "over-budget");
	opts.sequential = seq != NULL && *seq != '\0' && strcmp(seq, "0") != 0;
	opts.json = ctx->json;
	if (a != NULL && a->builtin != NULL) {
		ui.cmd = a->builtin->name;
		if (a->cmd != NULL && a->cmd != a->builtin)
			ui.sub = a->cmd->name;
	}
	stack_begin(st, &env, &opts, &ui);
	st->ctx = ctx;
	return 0;
}

/* --- deletes --- */

/* What a record is, for the list before a delete. */
static const char *
rec_what(const cJSON *rec, char *buf, size_t n)
{
	static const struct { const char *type, *what; } words[] = {
		{ "instance", "instance" }, { "nat-gateway", "NAT gateway" },
		{ "mount-target", "EFS mount target" },
		{ "eip", "Elastic IP" }, { "subnet", "subnet" },
		{ "route-table", "route table" },
		{ "igw", "internet gateway" },
		{ "security-group", "security group" },
		{ "key-pair", "key pair" }, { "vpc", "VPC" },
		{ "instance-profile", "IAM instance profile" },
		{ "iam-role", "IAM role" }, { "notebook", "SageMaker notebook" },
		{ "lifecycle-config", "notebook lifecycle config" },
		{ "efs", "EFS file system, with all its data (/efs)" },
	};
	const char *type = stack_attr(rec, "type"), *what = type;
	const char *it = stack_attr(rec, "instance_type");

	for (size_t i = 0; type != NULL && i < sizeof words / sizeof *words;
	    i++)
		if (strcmp(words[i].type, type) == 0)
			what = words[i].what;
	snprintf(buf, n, "%s%s%s", what ? what : "?", it ? " " : "",
	    it ? it : "");
	return buf;
}

/* The heading and one line per role, at most 40 (then "… and N more"),
 * through the one sanitiser: ids come from AWS. */
static void
delete_list(struct stack *st, const char *heading,
    const struct strlist *roles)
{
	char what[96], rate[32], *safe;
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s\n", heading);
	for (size_t i = 0; i < roles->n; i++) {
		const cJSON *rec = stack_rec(st, roles->v[i]);
		const char *id = stack_attr(rec, "id");
		double h = stack_rec_hourly(&st->prices, rec);
		if (i == 40) {
			buf_printf(&b, "  … and %zu more\n", roles->n - 40);
			break;
		}
		rate[0] = '\0';
		if (h > 0)
			snprintf(rate, sizeof rate, "$%.4g/h", h);
		buf_printf(&b, "  %-16s %-22s %s  %s\n", roles->v[i],
		    id ? id : "(pending)", rec_what(rec, what, sizeof what),
		    rate);
	}
	safe = str_sanitize(b.data, 1);
	fputs(safe, stderr);
	free(safe);
	buf_release(&b);
}

int
stackcmd_confirm_delete(struct stack *st, const struct strlist *roles,
    const char *iam)
{
	struct mlsh_ctx *ctx = st->ctx;
	struct strlist have;
	const char *efs = NULL;
	char *sub, *head;
	int ok;

	if (st->force || st->dry_run)
		return 0;
	strlist_init(&have);
	for (size_t i = 0; i < roles->n; i++) {
		const char *type = stack_attr(stack_rec(st, roles->v[i]),
		    "type");
		if (stack_rec(st, roles->v[i]) == NULL)
			continue;
		strlist_add(&have, roles->v[i]);
		if (type != NULL && strcmp(type, "efs") == 0)
			efs = roles->v[i];
	}
	for (int k = 0; iam != NULL && k < 2; k++) {
		char *r = xasprintf(k == 0 ? "profile-%s" : "iam-%s", iam);
		if (stack_rec(st, r) != NULL)
			strlist_take(&have, r);
		else
			free(r);
	}
	if (have.n == 0) {
		strlist_release(&have);
		return 0;
	}
	sub = xasprintf("%zu resource%s of workspace '%s'%s%s%s", have.n,
	    have.n == 1 ? "" : "s", st->ws, efs ? " (with the EFS file system " :
	    "", efs ? (stack_id(st, efs) ? stack_id(st, efs) : "(pending)") :
	    "", efs ? " and all its data)" : "");
	if (!ui_can_ask(ctx)) {
		cmd_error(ctx, "refusing to delete %s without a terminal to "
		    "ask on; pass --force", sub);
		free(sub);
		strlist_release(&have);
		return 1;
	}
	ui_status_clear();
	fflush(stdout);
	head = xasprintf("%s: this deletes %s:", stack_cmd(st), sub);
	delete_list(st, head, &have);
	ok = ui_confirm("delete %s?", have.n == 1 ? "it" : "them");
	free(head);
	free(sub);
	strlist_release(&have);
	if (!ok)
		return cmd_error(ctx, "nothing deleted");
	return 0;
}

/* --- prices --- */

/* The Lua table at the top of L's stack as {key: number}, and with depth
 * > 0 its tables too ({region: {key: number}}). */
static cJSON *
lua_price_table(lua_State *L, int depth)
{
	cJSON *o = cJSON_CreateObject();

	lua_pushnil(L);
	while (lua_next(L, -2) != 0) {
		/* lua_type, not lua_isstring: a number key must not be
		 * converted in place under lua_next. */
		if (lua_type(L, -2) == LUA_TSTRING &&
		    lua_type(L, -1) == LUA_TNUMBER)
			cJSON_AddNumberToObject(o, lua_tostring(L, -2),
			    lua_tonumber(L, -1));
		else if (depth > 0 && lua_type(L, -2) == LUA_TSTRING &&
		    lua_type(L, -1) == LUA_TTABLE)
			cJSON_AddItemToObject(o, lua_tostring(L, -2),
			    lua_price_table(L, depth - 1));
		lua_pop(L, 1);
	}
	return o;
}

/* The Lua global `prices` ({key: number}, or per region {region: {key:
 * number}}), or NULL when there is none. */
static cJSON *
lua_prices(struct mlsh_ctx *ctx)
{
	lua_State *L = ctx->L;
	cJSON *o = NULL;
	int top;

	if (L == NULL)
		return NULL;
	top = lua_gettop(L);
	if (lua_getglobal(L, "prices") == LUA_TTABLE)
		o = lua_price_table(L, 1);
	lua_settop(L, top);
	return o;
}

const struct stack_prices *
stackcmd_prices(struct mlsh_ctx *ctx)
{
	static struct stack_prices pr;
	static cJSON *config, *file;
	static int loaded;
	cJSON *now = lua_prices(ctx);

	/* Kept while unchanged: a stack opened earlier points at it. */
	if (now == NULL || config == NULL || !cJSON_Compare(now, config, 1)) {
		cJSON_Delete(config);
		config = now;
	} else
		cJSON_Delete(now);
	if (!loaded) {
		char *p = xasprintf("%s/prices.json", ctx->state_dir);
		char *cause = NULL, *text;

		loaded = 1;
		if ((text = file_read(p, NULL, &cause)) != NULL) {
			file = cJSON_Parse(text);
			free(text);
		}
		free(cause);
		free(p);
	}
	pr.region = shell_region(ctx);
	pr.config = config;
	pr.file = file;
	return &pr;
}

/* The workspace's state root without waiting for anyone: the open state
 * (a snapshot read again when another mlsh wrote since), else the file read
 * without locking into *owned (the caller deletes it). NULL when none. */
const cJSON *
stackcmd_state_peek(struct mlsh_ctx *ctx, cJSON **owned)
{
	char *p, *cause = NULL, *text;

	*owned = NULL;
	if (ctx->state != NULL) {
		if (state_refresh(ctx->state, &cause) != 0)
			free(cause);
		return ctx->state->root;
	}
	p = xasprintf("%s/%s.json", ctx->state_dir, ctx->workspace ?
	    ctx->workspace : "default");
	text = file_read(p, NULL, &cause);
	free(p);
	free(cause);
	if (text == NULL)
		return NULL;
	*owned = cJSON_Parse(text);
	free(text);
	return *owned;
}

double
stackcmd_hourly_rate(struct mlsh_ctx *ctx)
{
	cJSON *owned;
	const cJSON *root = stackcmd_state_peek(ctx, &owned);
	double sum = root ? stack_hourly_rate(stackcmd_prices(ctx), root) : 0;

	cJSON_Delete(owned);
	return sum;
}

cJSON *
stackcmd_budget(struct mlsh_ctx *ctx)
{
	cJSON *owned, *b;
	const cJSON *root = stackcmd_state_peek(ctx, &owned);

	b = root ? stack_budget_json(stackcmd_prices(ctx), root, stack_now()) :
	    NULL;
	cJSON_Delete(owned);
	return b;
}

void
stackcmd_add_text(cJSON *o, const char *key, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}


/* A record's kind for the leaving summary: nodes by their kind ("dl1-2"
 * is a dl1), the other roles by what they are. */
static char *
running_kind(const cJSON *rec, const char *role)
{
	const char *type = stack_attr(rec, "type");
	size_t n = strlen(role);

	if (type == NULL || strcmp(type, "instance") != 0)
		return xstrdup(strcmp(role, "nat") == 0 ? "NAT gateway" :
		    strcmp(role, "eip") == 0 ? "Elastic IP" : role);
	if (strcmp(role, "jump") == 0)
		return xstrdup("jump host");
	while (n > 0 && role[n - 1] >= '0' && role[n - 1] <= '9')
		n--;
	if (n > 1 && n < strlen(role) && role[n - 1] == '-')
		return xstrndup(role, n - 1);
	return xstrdup(role);
}

/* Fold one record's autostop attribute ("3600", "off", or none) into its
 * kind's: the same for all, or "mixed". */
static void
autostop_note(char *acc, size_t n, const cJSON *rec, int first)
{
	const char *v = stack_attr(rec, "autostop");
	const char *act = stack_attr(rec, "autostop_action");
	char d[24];
	char *end;
	long secs;

	if (v == NULL)
		d[0] = '\0';
	else if (strcmp(v, "off") == 0)
		snprintf(d, sizeof d, "off");
	else if ((secs = strtol(v, &end, 10)) > 0 && *end == '\0') {
		duration_format(secs, d, sizeof d - 14);
		/* --autostop-down: the shutdown terminates it */
		if (act != NULL && strcmp(act, "terminate") == 0)
			strcat(d, " (terminates)");
	} else
		d[0] = '\0';
	if (first)
		snprintf(acc, n, "%s", d);
	else if (strcmp(acc, d) != 0)
		snprintf(acc, n, "mixed");
}

char *
stackcmd_running(struct mlsh_ctx *ctx)
{
	const struct stack_prices *pr = stackcmd_prices(ctx);
	struct strlist kinds;
	double rate[64] = { 0 }, total = 0;
	int count[64] = { 0 };
	char stop[64][24];	/* the kind's autostop: "60m", "off", "mixed" */
	cJSON *owned;
	const cJSON *root = stackcmd_state_peek(ctx, &owned), *rec;
	struct buf b;

	strlist_init(&kinds);
	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(root,
	    "resources")) {
		double h = stack_rec_hourly(pr, rec);
		char *k;
		size_t i;
		if (!(h > 0))
			continue;
		total += h;
		k = running_kind(rec, rec->string);
		for (i = 0; i < kinds.n && strcmp(kinds.v[i], k) != 0; i++)
			;
		if (i == kinds.n && i < 63)
			strlist_add(&kinds, k);
		else if (i == kinds.n)	/* the rest in one line */
			i = 63;
		free(k);
		rate[i] += h;
		if (count[i]++ == 0)
			stop[i][0] = '\0';
		autostop_note(stop[i], sizeof stop[i], rec, count[i] == 1);
	}
	cJSON_Delete(owned);
	if (!(total > 0)) {
		strlist_release(&kinds);
		return NULL;
	}
	buf_init(&b);
	buf_printf(&b, "still running in workspace '%s': $%.*f/h in all "
	    "(`down` stops it)\n", ctx->workspace, total >= 0.995 ? 2 : 4,
	    total);
	for (size_t i = 0; i < 64; i++) {
		char n[16];
		if (count[i] == 0)
			continue;
		snprintf(n, sizeof n, "×%d", count[i]);
		/* cents once it is dollars; t3.nano's $0.0052 stays visible */
		buf_printf(&b, rate[i] >= 0.995 ? "  %-14s %-5s $%.2f/h" :
		    "  %-14s %-5s $%.4f/h", i < kinds.n ? kinds.v[i] :
		    "others", n, rate[i]);
		if (strcmp(stop[i], "off") == 0)
			buf_printf(&b, "  autostop off: runs until stopped\n");
		else if (stop[i][0] != '\0')
			buf_printf(&b, "  autostop %s\n", stop[i]);
		else
			buf_addc(&b, '\n');
	}
	strlist_release(&kinds);
	return buf_detach_release(&b);
}
