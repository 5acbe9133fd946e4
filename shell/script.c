/* script.c: the Lua 5.4 host.
 *
 * Every builtin becomes a Lua value generated from the table: a function for
 * builtins without subcommands (`echo("hi")`), a callable table with one
 * function per subcommand otherwise (`workspace("x")`, `workspace.ls()`).
 * A call takes positionals, or one table mixing positionals and options
 * (`history.save{"s.mlsh"}`, `vpc.up{cidr="10.0.0.0/16"}`), is turned into
 * words and goes through the same parser as a typed line, returns the
 * structured result as Lua values and raises a Lua error on failure.
 * mlsh.pcall(f, …) returns nil, err instead; mlsh.run(line) runs a raw line. */
#include "shell/shell.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "shell/lexer.h"
#include "shell/luajson.h"

#define EXIT_MARKER "\001mlsh-exit"

/* The Lua code running now, for the SIGINT handler (which has nothing
 * else to reach it through; per process, as the signal is). */
static lua_State *running_L;

/* The context, in the state's extra space (coroutines get a copy). */
static struct mlsh_ctx *
getctx(lua_State *L)
{
	return *(struct mlsh_ctx **)lua_getextraspace(L);
}

/* Instructions between two looks at the interrupt flag. */
#define HOOK_COUNT 1000

/* Ends with suffix: coroutine.wrap prefixes "file:line: " to an error it
 * passes on. */
static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The error value at idx is Ctrl-C's or exit()'s: not a failure to catch. */
static int
is_stop(lua_State *L, int idx)
{
	const char *m;

	if (lua_type(L, idx) != LUA_TSTRING)
		return 0;
	m = lua_tostring(L, idx);
	return ends_with(m, EXIT_MARKER) ||
	    (mlsh_line_interrupted && ends_with(m, "interrupted"));
}

/*
 * The hook every thread runs: the main thread from script_init, and every
 * coroutine, since lua_newthread copies the creating thread's hook. After
 * Ctrl-C (or exit()) it raises at once, and then again at every instruction
 * of that thread, so neither pcall, xpcall nor mlsh.pcall can catch it and go
 * on: the error reaches the top and the script or chunk ends.
 */
static void
stop_hook(lua_State *L, lua_Debug *ar)
{
	const char *why;

	(void)ar;
	if (mlsh_line_interrupted)
		why = "interrupted";
	else if (getctx(L)->exit_requested)
		why = EXIT_MARKER;
	else
		return;
	lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
	lua_pushstring(L, why);
	lua_error(L);
}

/* Called by the C functions that run commands, which may run in a
 * coroutine: once Ctrl-C or exit() happened, the caller's next instruction
 * raises, whatever pcall it is in. */
static void
stop_soon(lua_State *L)
{
	if (mlsh_line_interrupted || getctx(L)->exit_requested)
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
}

void
script_interrupt(void)
{
	/* Sooner than the next HOOK_COUNT instructions; a running coroutine
	 * gets there by its own hook. (lua_sethook is signal-safe.) */
	if (running_L != NULL)
		lua_sethook(running_L, stop_hook, LUA_MASKCOUNT, 1);
}

/* One Lua value as a command word. */
static char *
word_of(lua_State *L, int idx, const char *what)
{
	switch (lua_type(L, idx)) {
	case LUA_TSTRING:
	case LUA_TNUMBER:
		return xstrdup(lua_tostring(L, idx));
	case LUA_TBOOLEAN:
		return xstrdup(lua_toboolean(L, idx) ? "true" : "false");
	default:
		luaL_error(L, "%s: expected a string or number, got %s", what,
		    luaL_typename(L, idx));
		return NULL;
	}
}

/* A conversion's failure as a Lua error (luaL_error does not return). */
static int
raise_cause(lua_State *L, const char *what, char *cause)
{
	lua_pushfstring(L, "%s: %s", what, cause);
	free(cause);
	return lua_error(L);
}

void
script_push_json(void *L, const cJSON *v)
{
	char *cause = NULL;

	if (luajson_push(L, v, &cause) != 0)
		raise_cause(L, "result", cause);
}

cJSON *
script_to_json(void *L, int idx)
{
	char *cause = NULL;
	cJSON *r = luajson_from(L, idx, &cause);

	if (r == NULL)
		raise_cause(L, "argument", cause);
	return r;
}

/* Check (check set: words are freed at once, nothing is kept before every
 * value passed, since a Lua error does not return) or add to out the words
 * of the value at idx: a list of words, or one word. */
static void
rest_words(lua_State *L, int idx, const char *what, struct strlist *out)
{
	idx = lua_absindex(L, idx);
	if (!lua_istable(L, idx)) {
		char *w = word_of(L, idx, what);
		if (out != NULL)
			strlist_take(out, w);
		else
			free(w);
		return;
	}
	for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, idx); i <= n;
	    i++) {
		char *w;

		lua_rawgeti(L, idx, i);
		w = word_of(L, -1, what);
		lua_pop(L, 1);
		if (out != NULL)
			strlist_take(out, w);
		else
			free(w);
	}
}

/* Whether the table key at -2 is the command's rest-of-line key. */
static int
is_rest_key(lua_State *L, const char *rest)
{
	return rest != NULL && lua_type(L, -2) == LUA_TSTRING &&
	    strcmp(lua_tostring(L, -2), rest) == 0;
}

/* A command called from Lua failed, its message on top. errexit (the
 * default): raise it at the caller's line. `set errexit off`: print it
 * there and return nil, message, so the script goes on. */
static int
cmd_failed(lua_State *L, struct mlsh_ctx *ctx)
{
	luaL_where(L, 1);
	lua_insert(L, -2);
	lua_concat(L, 2);
	if (!ctx->errexit_off)
		return lua_error(L);
	fflush(stdout);
	fprintf(stderr, "%s\n", lua_tostring(L, -1));
	lua_pushnil(L);
	lua_insert(L, -2);
	return 2;
}

/* The closure behind every builtin: upvalues are the entry and subcommand. */
static int
l_builtin(lua_State *L)
{
	struct mlsh_ctx *ctx = getctx(L);
	const struct mlsh_cmd *b = lua_touserdata(L, lua_upvalueindex(1));
	const struct mlsh_cmd *sub = lua_touserdata(L, lua_upvalueindex(2));
	int first = lua_toboolean(L, lua_upvalueindex(3)) ? 2 : 1;
	int nargs = lua_gettop(L);
	const char *rest = (sub != NULL ? sub : b)->lua_rest;
	struct strlist words, pos, restw;
	cJSON *result = NULL;
	int st;

	/* Check every value before allocating: luaL_error does not return. */
	if (nargs == first && lua_istable(L, first)) {
		lua_pushnil(L);
		while (lua_next(L, first) != 0) {
			if (is_rest_key(L, rest))
				rest_words(L, -1, rest, NULL);
			else if (!lua_isboolean(L, -1))
				free(word_of(L, -1, b->name));
			lua_pop(L, 1);
		}
	} else
		for (int i = first; i <= nargs; i++)
			free(word_of(L, i, b->name));

	strlist_init(&words);
	strlist_init(&pos);
	strlist_init(&restw);
	strlist_add(&words, b->name);
	if (sub != NULL)
		strlist_add(&words, sub->name);
	if (nargs == first && lua_istable(L, first)) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, first);
		for (lua_Integer i = 1; i <= n; i++) {
			lua_rawgeti(L, first, i);
			strlist_take(&pos, word_of(L, -1, b->name));
			lua_pop(L, 1);
		}
		lua_pushnil(L);
		while (lua_next(L, first) != 0) {
			if (is_rest_key(L, rest))
				rest_words(L, -1, rest, &restw);
			else if (lua_type(L, -2) == LUA_TSTRING) {
				char *k = xstrdup(lua_tostring(L, -2));
				for (char *p = k; *p; p++)
					if (*p == '_')
						*p = '-';
				if (lua_isboolean(L, -1)) {
					if (lua_toboolean(L, -1))
						strlist_take(&words,
						    xasprintf("--%s", k));
				} else {
					char *v = word_of(L, -1, k);
					strlist_take(&words,
					    xasprintf("--%s=%s", k, v));
					free(v);
				}
				free(k);
			}
			lua_pop(L, 1);
		}
	} else {
		for (int i = first; i <= nargs; i++)
			strlist_take(&pos, word_of(L, i, b->name));
	}
	strlist_add(&words, "--");
	for (size_t i = 0; i < pos.n; i++)
		strlist_add(&words, pos.v[i]);
	for (size_t i = 0; i < restw.n; i++)
		strlist_add(&words, restw.v[i]);
	strlist_release(&pos);
	strlist_release(&restw);

	st = shell_run_argv(ctx, (int)words.n, words.v, &result);
	strlist_release(&words);
	stop_soon(L);
	if (ctx->exit_requested) {
		cJSON_Delete(result);
		lua_pushstring(L, EXIT_MARKER);
		return lua_error(L);
	}
	if (st != 0) {
		cJSON_Delete(result);
		if (ctx->error == NULL)
			lua_pushfstring(L, "%s: exit status %d", b->name, st);
		else
			lua_pushstring(L, ctx->error);
		return cmd_failed(L, ctx);
	}
	{
		char *cause = NULL;
		int pst = luajson_push(L, result, &cause);
		cJSON_Delete(result);
		if (pst != 0)
			return raise_cause(L, b->name, cause);
	}
	return 1;
}

/* mlsh.run(line): run a raw line as typed; results print as in the REPL. */
static int
l_run(lua_State *L)
{
	struct mlsh_ctx *ctx = getctx(L);
	size_t len;
	const char *line = luaL_checklstring(L, 1, &len);
	int st, saved = ctx->lua_run_depth;

	ctx->lua_depth++;
	ctx->lua_run_depth = ctx->lua_depth;
	st = shell_run_line(ctx, line, len);
	ctx->lua_run_depth = saved;
	ctx->lua_depth--;
	stop_soon(L);
	if (ctx->exit_requested) {
		lua_pushstring(L, EXIT_MARKER);
		return lua_error(L);
	}
	if (st != 0) {
		lua_pushfstring(L, "'%s' failed with status %d", line, st);
		return cmd_failed(L, ctx);
	}
	lua_pushinteger(L, st);
	return 1;
}

/* mlsh.pcall(f, …): like pcall, but nil, err on failure. */
static int
l_pcall(lua_State *L)
{
	int n = lua_gettop(L);

	luaL_checktype(L, 1, LUA_TFUNCTION);
	if (lua_pcall(L, n - 1, LUA_MULTRET, 0) != LUA_OK) {
		if (is_stop(L, -1)) {
			stop_soon(L);
			return lua_error(L);	/* Ctrl-C, exit(): not errors */
		}
		lua_pushnil(L);
		lua_insert(L, -2);
		return 2;
	}
	return lua_gettop(L);
}

static const luaL_Reg mlsh_lib[] = {
	{ "run", l_run },
	{ "pcall", l_pcall },
	{ NULL, NULL }
};

/* A builtin's Lua name: '-' becomes '_' (ssh-config -> ssh_config). */
static char *
lua_name(const char *name)
{
	char *n = xstrdup(name);
	for (char *p = n; *p; p++)
		if (*p == '-')
			*p = '_';
	return n;
}

static void
setglobal_named(lua_State *L, const char *name)
{
	char *n = lua_name(name);
	lua_setglobal(L, n);
	free(n);
}

static void
register_builtins(lua_State *L, struct mlsh_ctx *ctx)
{
	for (size_t i = 0; mlsh_builtins[i] != NULL; i++) {
		const struct mlsh_cmd *b = mlsh_builtins[i];
		if (b->subcmds == NULL && b->lua == NULL) {
			lua_pushlightuserdata(L, (void *)b);
			lua_pushlightuserdata(L, NULL);
			lua_pushboolean(L, 0);
			lua_pushcclosure(L, l_builtin, 3);
			setglobal_named(L, b->name);
			continue;
		}
		lua_newtable(L);
		for (size_t k = 0; b->subcmds && b->subcmds[k].name; k++) {
			lua_pushlightuserdata(L, (void *)b);
			lua_pushlightuserdata(L, (void *)&b->subcmds[k]);
			lua_pushboolean(L, 0);
			lua_pushcclosure(L, l_builtin, 3);
			lua_setfield(L, -2, b->subcmds[k].name);
		}
		if (b->exec != NULL) {
			/* The table itself is callable: __call gets it first. */
			lua_newtable(L);
			lua_pushlightuserdata(L, (void *)b);
			lua_pushlightuserdata(L, NULL);
			lua_pushboolean(L, 1);
			lua_pushcclosure(L, l_builtin, 3);
			lua_setfield(L, -2, "__call");
			lua_setmetatable(L, -2);
		}
		if (b->lua != NULL)
			b->lua(ctx, L);
		setglobal_named(L, b->name);
	}
}

int
script_init(struct mlsh_ctx *ctx)
{
	lua_State *L;

	if (ctx->L != NULL)
		return 0;
	L = luaL_newstate();
	if (L == NULL)
		return -1;
	*(struct mlsh_ctx **)lua_getextraspace(L) = ctx;
	luaL_openlibs(L);
	lua_sethook(L, stop_hook, LUA_MASKCOUNT, HOOK_COUNT);
	luaL_newlib(L, mlsh_lib);
	lua_pushstring(L, MLSH_VERSION);
	lua_setfield(L, -2, "version");
	/* For saved sessions: where they may run, and whether -w chose the
	 * workspace (history.c writes the checks). */
	lua_pushboolean(L, ctx->lab);
	lua_setfield(L, -2, "lab");
	lua_pushboolean(L, ctx->workspace_given);
	lua_setfield(L, -2, "workspace_given");
	lua_setglobal(L, "mlsh");
	register_builtins(L, ctx);
	ctx->L = L;
	return 0;
}

void
script_free(struct mlsh_ctx *ctx)
{
	if (ctx->L != NULL)
		lua_close(ctx->L);
	ctx->L = NULL;
}

static int l_run(lua_State *);

/* Whether the error being handled was raised by a builtin's Lua function
 * (level 1: the function that raised, below the handler). */
static int
raised_by_command(lua_State *L)
{
	lua_Debug ar;
	lua_CFunction f;

	if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "f", &ar))
		return 0;
	f = lua_tocfunction(L, -1);
	lua_pop(L, 1);
	return f == l_builtin || f == l_run;
}

static int
msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (is_stop(L, 1)) {
		/* No traceback for exit() or Ctrl-C, nor a position. */
		lua_pushstring(L, ends_with(msg, EXIT_MARKER) ? EXIT_MARKER :
		    "interrupted");
		return 1;
	}
	if (msg != NULL && raised_by_command(L)) {
		/* A failed command: its one line (file:line: message) is
		 * the whole story; tracebacks are for Lua errors. */
		lua_pushstring(L, msg);
		return 1;
	}
	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") &&
		    lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)",
		    luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

/* Call the function below nargs arguments; 0 or the error's status. */
static int
docall(struct mlsh_ctx *ctx, int nargs, int nres)
{
	lua_State *L = ctx->L, *saved = running_L;
	int base = lua_gettop(L) - nargs, st;

	lua_pushcfunction(L, msghandler);
	lua_insert(L, base);
	running_L = L;
	ctx->lua_depth++;
	st = lua_pcall(L, nargs, nres, base);
	ctx->lua_depth--;
	running_L = saved;
	/* Back at the top: the hook at its usual pace again (an interrupt
	 * left it at every instruction). */
	if (saved == NULL)
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, HOOK_COUNT);
	lua_remove(L, base);
	return st;
}

/* A failed chunk: its message into *cause; returns the status for it. */
static int
report(struct mlsh_ctx *ctx, char **cause)
{
	const char *msg = lua_tostring(ctx->L, -1);

	if (ctx->exit_requested) {
		lua_pop(ctx->L, 1);
		return ctx->exit_status;
	}
	*cause = xstrdup(msg ? msg : "error");
	lua_pop(ctx->L, 1);
	return mlsh_line_interrupted ? 130 : 1;
}

int
script_run_file(struct mlsh_ctx *ctx, const char *path, int argc, char **argv,
    char **cause)
{
	lua_State *L;

	if (script_init(ctx) != 0)
		return 1;
	L = ctx->L;
	/* arg: arg[0] the script, arg[1..] its arguments (as lua.c does). */
	lua_createtable(L, argc, 1);
	lua_pushstring(L, path);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");
	/* luaL_loadfile skips a first line starting with '#' (#!). */
	if (luaL_loadfile(L, path) != LUA_OK)
		return report(ctx, cause);
	for (int i = 0; i < argc; i++)
		lua_pushstring(L, argv[i]);
	if (docall(ctx, argc, 0) != LUA_OK)
		return report(ctx, cause);
	return ctx->exit_requested ? ctx->exit_status : 0;
}

int
script_run_string(struct mlsh_ctx *ctx, const char *chunk, const char *name,
    cJSON **result)
{
	lua_State *L;
	char *ret;
	int top, st;

	if (script_init(ctx) != 0)
		return 1;
	L = ctx->L;
	top = lua_gettop(L);
	/* An expression first (so `lua 1+1` shows 2), then a statement. */
	ret = xasprintf("return %s", chunk);
	st = luaL_loadbuffer(L, ret, strlen(ret), name);
	free(ret);
	if (st != LUA_OK) {
		lua_pop(L, 1);
		if (luaL_loadbuffer(L, chunk, strlen(chunk), name) != LUA_OK)
			goto fail;
	}
	if (docall(ctx, 0, LUA_MULTRET) != LUA_OK)
		goto fail;
	if (lua_gettop(L) > top && !lua_isnil(L, top + 1)) {
		char *cause = NULL;
		if ((*result = luajson_from(L, top + 1, &cause)) == NULL) {
			lua_settop(L, top);
			cmd_error(ctx, "result: %s", cause);
			free(cause);
			return 1;
		}
	}
	lua_settop(L, top);
	return 0;
fail:
	if (ctx->exit_requested) {
		lua_settop(L, top);
		return 0;
	}
	cmd_error(ctx, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) :
	    "error");
	lua_settop(L, top);
	return mlsh_line_interrupted ? 130 : 1;
}

char *
script_quote(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(&b, "\\%c", *p);
		else if (*p == '\n')
			buf_adds(&b, "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(&b, "\\%03d", *p);
		else
			buf_addc(&b, (char)*p);
	}
	buf_addc(&b, '"');
	return buf_detach_release(&b);
}
