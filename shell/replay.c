/* replay.c: a recorded session as a script that reproduces it (see
 * replay.h): ids as references to earlier results, literal ids flagged,
 * read-only and interactive commands as comments, and the header that says
 * where the session ran and how to run it again. */
#include "shell/replay.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Ids AWS gives resources: PREFIX-HEX. ami- ids are shared images, the
 * same in a new workspace: referenced when a result gave them, never
 * flagged. (Resource id forms: "Resource IDs", Amazon EC2 User Guide.) */
static const char *const id_prefixes[] = { "vpc", "subnet", "sg", "i", "fs",
    "fsmt", "fsap", "igw", "eigw", "rtb", "rtbassoc", "nat", "eipalloc",
    "eipassoc", "eni", "vol", "snap", "acl", "lt", "vpce", "pcx", "tgw",
    "dopt", "sir", "ami", NULL };

/* Results larger than this are not searched for ids (status at thousands
 * of resources): their ids stay literal, and flagged. */
#define IDS_BUDGET 4000

/* The length of the id at s (a prefix, '-', 8 to 17 lowercase hex digits,
 * then no further letter or digit), else 0. */
static size_t
id_len(const char *s, int *flaggable)
{
	for (size_t i = 0; id_prefixes[i] != NULL; i++) {
		size_t n = strlen(id_prefixes[i]), h = 0;

		if (strncmp(s, id_prefixes[i], n) != 0 || s[n] != '-')
			continue;
		while (isxdigit((unsigned char)s[n + 1 + h]) &&
		    !isupper((unsigned char)s[n + 1 + h]))
			h++;
		if (h < 8 || h > 17 || isalnum((unsigned char)s[n + 1 + h]))
			continue;
		*flaggable = strcmp(id_prefixes[i], "ami") != 0;
		return n + 1 + h;
	}
	return 0;
}

static void
add_part(struct buf *b, int *parts, const char *piece)
{
	buf_printf(b, "%s%s", (*parts)++ ? " .. " : "", piece);
}

static void
add_quoted(struct buf *b, int *parts, const char *s, size_t n)
{
	char *t = xstrndup(s, n), *q = script_quote(t);

	add_part(b, parts, q);
	free(q);
	free(t);
}

/* The expression for an id an earlier result gave, marking that result
 * used; NULL when none did. Borrowed. */
static const char *
id_ref(struct replay_emit *em, const char *id)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(em->ctx->session_ids,
	    id);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "e");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "r");

	if (!cJSON_IsString(e) || !cJSON_IsNumber(r))
		return NULL;
	em->refs = xreallocarray(em->refs, em->nrefs + 1, sizeof *em->refs);
	em->refs[em->nrefs++] = r->valueint;
	if (strstr(e->valuestring, "find(") != NULL)
		em->ctx->session_uses_find = 1;
	return e->valuestring;
}

void
replay_lit(struct replay_emit *e, const char *s, size_t n, struct buf *b,
    int *parts)
{
	size_t from = 0, i = 0, k;
	int before = *parts, flaggable;

	while (i < n) {
		char *id;
		const char *ref;

		/* An id starts a word or follows a separator (GroupId=sg-…),
		 * never the middle of a name (my-sg-…). */
		if ((i > 0 && (isalnum((unsigned char)s[i - 1]) ||
		    s[i - 1] == '-' || s[i - 1] == '_')) ||
		    (k = id_len(s + i, &flaggable)) == 0 || i + k > n) {
			i++;
			continue;
		}
		id = xstrndup(s + i, k);
		if ((ref = id_ref(e, id)) != NULL) {
			if (i > from)
				add_quoted(b, parts, s + from, i - from);
			add_part(b, parts, ref);
			from = i + k;
		} else if (flaggable && !strlist_has(&e->unknown, id))
			strlist_add(&e->unknown, id);
		free(id);
		i += k;
	}
	if (n > from || *parts == before)
		add_quoted(b, parts, s + from, n - from);
}

/* --- what is not replayed --- */

static int
given(const struct cmd_args *a, const char *name)
{
	for (size_t i = 0; a->cmd->opts && a->cmd->opts[i].name; i++)
		if (strcmp(a->cmd->opts[i].name, name) == 0)
			return a->optv[i] != NULL;
	return 0;
}

const char *
replay_skip_reason(const struct cmd_args *a)
{
	const char *b = a->builtin->name;
	const char *s = a->cmd != a->builtin ? a->cmd->name : "";

	if (given(a, "dry-run"))
		return "dry run";
	if (strcmp(b, "ssh") == 0 && a->argc <= 1)
		return "interactive shell";
	if (strcmp(b, "tunnel") == 0 || strcmp(s, "open") == 0)
		return "interactive: open until Ctrl-C";
	if (strcmp(b, "lab") == 0)
		return "the lab: run the script with --lab";
	if (strcmp(s, "status") == 0 || strcmp(s, "ls") == 0 ||
	    strcmp(s, "logs") == 0)
		return "read-only";
	if ((strcmp(b, "workspace") == 0 || strcmp(b, "region") == 0 ||
	    strcmp(b, "profile") == 0) && *s == '\0' && a->argc == 0)
		return "read-only";
	if (strcmp(b, "api") == 0 && a->argc >= 2 &&
	    (str_startswith(a->argv[1], "Describe") ||
	    str_startswith(a->argv[1], "List") ||
	    str_startswith(a->argv[1], "Get")))
		return "read-only";
	return NULL;
}

/* --- ids in results --- */

static int
is_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

/* A key of item whose string value no other item of list has (and is no
 * id, which would differ on replay): role and name first. NULL: none. */
static const char *
item_key(const cJSON *list, const cJSON *item)
{
	static const char *const first[] = { "role", "name", "Name", NULL };
	const cJSON *kv, *other;
	int flaggable;

	for (int pass = 0; pass < 2; pass++) {
		cJSON_ArrayForEach(kv, item) {
			int unique = 1, preferred = 0;

			for (size_t i = 0; first[i]; i++)
				preferred |= strcmp(kv->string, first[i]) == 0;
			if (pass == 0 ? !preferred : preferred)
				continue;
			if (!cJSON_IsString(kv) || *kv->valuestring == '\0' ||
			    strlen(kv->valuestring) > 200 ||
			    id_len(kv->valuestring, &flaggable) > 0)
				continue;
			cJSON_ArrayForEach(other, list) {
				const cJSON *ov = cJSON_GetObjectItemCaseSensitive(
				    other, kv->string);
				if (other != item && cJSON_IsString(ov) &&
				    strcmp(ov->valuestring, kv->valuestring) == 0)
					unique = 0;
			}
			if (unique)
				return kv->string;
		}
	}
	return NULL;
}

/* A value as Lua, the session's workspace name in it (a word of it:
 * "msls-efs") as WS, the script's parameter: names follow the workspace.
 * Caller frees. */
static char *
ws_lua(struct mlsh_ctx *ctx, const char *v)
{
	const char *ws = ctx->session_ws, *p;
	size_t n = ws != NULL ? strlen(ws) : 0;
	struct buf b;
	int parts = 0;

	for (p = n ? strstr(v, ws) : NULL; p != NULL; p = strstr(p + 1, ws))
		if ((p == v || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n]))
			break;
	if (p == NULL)
		return script_quote(v);
	buf_init(&b);
	if (p > v)
		add_quoted(&b, &parts, v, (size_t)(p - v));
	add_part(&b, &parts, "WS");
	if (p[n] != '\0') {
		char *rest = ws_lua(ctx, p + n);
		add_part(&b, &parts, rest);
		free(rest);
	}
	return buf_detach_release(&b);
}

/* Each id in v (reached by the expression path) that no earlier result
 * gave becomes readable through path. */
static void
collect_ids(struct mlsh_ctx *ctx, const cJSON *v, const char *path, int rec,
    int depth, int *budget)
{
	const cJSON *c;
	int flaggable, i = 0;

	if (--*budget < 0 || depth > 12)
		return;
	if (cJSON_IsString(v)) {
		if (id_len(v->valuestring, &flaggable) == strlen(v->valuestring) &&
		    !cJSON_HasObjectItem(ctx->session_ids, v->valuestring)) {
			cJSON *o = cJSON_AddObjectToObject(ctx->session_ids,
			    v->valuestring);
			cJSON_AddStringToObject(o, "e", path);
			cJSON_AddNumberToObject(o, "r", rec);
		}
		return;
	}
	cJSON_ArrayForEach(c, v) {
		char *p, *qk, *qv;
		const char *k;

		if (cJSON_IsObject(v)) {
			qk = script_quote(c->string);
			p = is_name(c->string) ? xasprintf("%s.%s", path,
			    c->string) : xasprintf("%s[%s]", path, qk);
			free(qk);
		} else if (cJSON_IsObject(c) && (k = item_key(v, c)) != NULL) {
			qk = script_quote(k);
			qv = ws_lua(ctx, cJSON_GetObjectItemCaseSensitive(c,
			    k)->valuestring);
			p = xasprintf("find(%s, %s, %s)", path, qk, qv);
			free(qk);
			free(qv);
		} else
			p = xasprintf("%s[%d]", path, i + 1);
		collect_ids(ctx, c, p, rec, depth + 1, budget);
		free(p);
		i++;
	}
}

void
replay_add(struct replay_emit *e, char *form, const char *skip,
    const cJSON *result)
{
	struct mlsh_ctx *ctx = e->ctx;
	struct history_rec *r;
	size_t n = ctx->session.n + 1;

	strlist_take(&ctx->session, form);
	ctx->session_recs = xreallocarray(ctx->session_recs, n,
	    sizeof *ctx->session_recs);
	r = &ctx->session_recs[n - 1];
	memset(r, 0, sizeof *r);
	r->skip = skip;
	r->refs = e->refs;
	r->nrefs = e->nrefs;
	e->refs = NULL;
	e->nrefs = 0;
	if (e->unknown.n > 0) {
		struct buf b;

		buf_init(&b);
		buf_adds(&b, "-- mlsh: no earlier result gave ");
		for (size_t i = 0; i < e->unknown.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", e->unknown.v[i]);
		buf_adds(&b, ": typed ids, they may not exist where this runs");
		r->flag = buf_detach_release(&b);
	}
	/* Dry runs and interactive commands show nothing that exists. */
	if (result != NULL && (skip == NULL || strcmp(skip, "read-only") == 0)) {
		char *root = xasprintf("r[%zu]", n);
		int budget = IDS_BUDGET;

		if (ctx->session_ids == NULL)
			ctx->session_ids = cJSON_CreateObject();
		collect_ids(ctx, result, root, (int)n, 0, &budget);
		free(root);
	}
}

void
history_session_release(struct mlsh_ctx *ctx)
{
	for (size_t i = 0; i < ctx->session.n; i++) {
		free(ctx->session_recs[i].flag);
		free(ctx->session_recs[i].refs);
	}
	free(ctx->session_recs);
	ctx->session_recs = NULL;
	strlist_release(&ctx->session);
	strlist_release(&ctx->session_skipped);
	cJSON_Delete(ctx->session_ids);
	ctx->session_ids = NULL;
	free(ctx->session_ws);
	free(ctx->session_region);
	free(ctx->session_profile);
	ctx->session_ws = ctx->session_region = ctx->session_profile = NULL;
}

/* --- the script --- */

/* A word for sh: as is when plain, else single-quoted. Caller frees. */
static char *
sh_word(const char *s)
{
	if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
	    "OPQRSTUVWXYZ0123456789_-./:@%+=,") == strlen(s))
		return xstrdup(s);
	return str_sh_quote(s);
}

/* "mlsh --lab -r R FILE": the command that targets what the session did. */
static char *
run_line(struct mlsh_ctx *ctx, const char *path)
{
	struct buf b;
	char *w;

	buf_init(&b);
	buf_adds(&b, "mlsh");
	if (ctx->lab)
		buf_adds(&b, " --lab");
	if (ctx->endpoint_url != NULL) {
		w = sh_word(ctx->endpoint_url);
		buf_printf(&b, " --endpoint-url %s", w);
		free(w);
	}
	if (ctx->session_profile != NULL) {
		w = sh_word(ctx->session_profile);
		buf_printf(&b, " -p %s", w);
		free(w);
	}
	buf_printf(&b, " -r %s", ctx->session_region ? ctx->session_region :
	    shell_region(ctx));
	w = sh_word(path);
	buf_printf(&b, " %s [WORKSPACE]", w);
	free(w);
	return buf_detach_release(&b);
}

static void
write_header(struct mlsh_ctx *ctx, FILE *f, const char *path)
{
	const char *ws = ctx->session_ws ? ctx->session_ws : ctx->workspace;
	const char *region = ctx->session_region ? ctx->session_region :
	    shell_region(ctx);
	char when[64], *run = run_line(ctx, path);
	time_t t = time(NULL);

	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
	fprintf(f, "#!/usr/bin/env mlsh\n-- mlsh session recorded %s\n", when);
	if (ctx->lab)
		fprintf(f, "-- Target: the lab (--lab), region %s\n", region);
	else if (ctx->endpoint_url != NULL)
		fprintf(f, "-- Target: the endpoint %s, region %s\n",
		    ctx->endpoint_url, region);
	else
		fprintf(f, "-- Target: AWS, profile %s, region %s\n",
		    ctx->session_profile ? ctx->session_profile : "(default)",
		    region);
	fprintf(f, "-- Workspace: the first argument, else -w or "
	    "MLSH_WORKSPACE, else %s\n-- Run it with: %s\n"
	    "-- From a terminal it shows prices and asks before starting what "
	    "costs (mlsh --yes\n-- does not ask); a failed command stops it "
	    "(errexit). Commands marked\n-- \"not replayed\" ran in the "
	    "session but are left out.\n", ws, run);
	free(run);
}

static void
write_helpers(struct mlsh_ctx *ctx, FILE *f, int any_used)
{
	const struct strlist *skipped = &ctx->session_skipped;
	char *q = script_quote(ctx->session_ws ? ctx->session_ws :
	    ctx->workspace);

	if (ctx->lab)
		fprintf(f, "\nif not mlsh.lab then\n"
		    "\tio.stderr:write(\"mlsh: this session ran in the lab: run "
		    "it with mlsh --lab \" ..\n\t    tostring(arg and arg[0]) .. "
		    "\"\\n\")\n\texit(2)\nend\n");
	if (skipped->n > 0) {
		fprintf(f, "\n-- Not recorded (secret-looking names): set");
		for (size_t i = 0; i < skipped->n; i++)
			fprintf(f, " %s", skipped->v[i]);
		fprintf(f, ".\n-- Give them values first (environment or "
		    "~/.mlshrc).\n");
	}
	if (ctx->session_uses_var)
		fprintf(f, "\n-- $NAME: the mlsh variable, else the environment, "
		    "as when typed.\n"
		    "local function var(name)\n"
		    "\tfor _, v in ipairs(vars()) do\n"
		    "\t\tif v.name == name then return v.value end\n"
		    "\tend\n"
		    "\treturn os.getenv(name) or \"\"\n"
		    "end\n");
	if (ctx->session_uses_find)
		fprintf(f, "\n-- The item of an earlier result whose KEY is VALUE "
		    "(roles and names stay\n-- the same from run to run; ids do "
		    "not).\n"
		    "local function find(list, key, value)\n"
		    "\tfor _, v in ipairs(list or {}) do\n"
		    "\t\tif v[key] == value then return v end\n"
		    "\tend\n"
		    "\terror((\"no %%s %%q in an earlier result\"):format(key, "
		    "value), 2)\n"
		    "end\n");
	if (any_used)
		fprintf(f, "\n-- r[N]: the result of command N, for the ids later "
		    "commands use.\nlocal r = {}\n");
	fprintf(f, "\nlocal WS = arg and arg[1] or (mlsh.workspace_given and "
	    "workspace().workspace) or\n    %s\nworkspace(WS)\n\n", q);
	free(q);
}

/* Which commands run (1) and which of those keep their result (2): every
 * command not skipped, and a read-only one whose result a running command
 * reads (references point back: one pass from the end). Caller frees. */
static char *
live_set(struct mlsh_ctx *ctx)
{
	char *live = xcalloc(ctx->session.n + 1, 1);

	for (size_t i = ctx->session.n; i-- > 0;) {
		const struct history_rec *r = &ctx->session_recs[i];

		if (r->skip == NULL)
			live[i] |= 1;
		if (!live[i])
			continue;
		for (size_t k = 0; k < r->nrefs; k++)
			live[r->refs[k] - 1] = 3;
	}
	return live;
}

void
history_write_script(struct mlsh_ctx *ctx, FILE *f, const char *path)
{
	char *live = live_set(ctx);
	int any_used = 0;

	for (size_t i = 0; i < ctx->session.n; i++)
		any_used |= live[i] == 3;
	write_header(ctx, f, path);
	write_helpers(ctx, f, any_used);
	for (size_t i = 0; i < ctx->session.n; i++) {
		const struct history_rec *r = &ctx->session_recs[i];

		if (r->flag != NULL)
			fprintf(f, "%s\n", r->flag);
		if (!live[i])
			fprintf(f, "-- not replayed (%s): %s\n", r->skip,
			    ctx->session.v[i]);
		else if (live[i] == 3)
			fprintf(f, "r[%zu] = %s%s\n", i + 1, ctx->session.v[i],
			    r->skip ? "\t-- read-only: kept, later commands "
			    "use its result" : "");
		else
			fprintf(f, "%s\n", ctx->session.v[i]);
	}
	free(live);
}
