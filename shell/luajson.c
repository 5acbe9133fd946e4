/* luajson.c: Lua values <-> cJSON (see luajson.h).
 *
 * Both directions recurse once per nesting level and ask Lua for the stack
 * slots each level uses: without lua_checkstack a table nested ~16 deep
 * wrote past the end of the Lua stack. */
#include "shell/luajson.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/util.h"

struct conv {
	size_t values;
	int seen;		/* Lua -> JSON: the tables on the current path */
	char *cause;
};

static int
fail(struct conv *c, char *msg)
{
	if (c->cause == NULL)
		c->cause = msg;
	else
		free(msg);
	return -1;
}

static int
count_value(struct conv *c)
{
	if (++c->values > LUAJSON_MAX_VALUES)
		return fail(c, xasprintf("more than %d values",
		    LUAJSON_MAX_VALUES));
	return 0;
}

/* cJSON -> Lua. depth: the containers around v. */
static int
push(lua_State *L, const cJSON *v, int depth, struct conv *c)
{
	const cJSON *e;
	lua_Integer i = 1;

	if (count_value(c) != 0)
		return -1;
	/* The container, a key and a value. */
	if (!lua_checkstack(L, 3))
		return fail(c, xstrdup("JSON nested too deep for the Lua "
		    "stack"));
	if (v == NULL || cJSON_IsNull(v) || cJSON_IsInvalid(v) ||
	    cJSON_IsRaw(v)) {
		lua_pushnil(L);
		return 0;
	}
	if (cJSON_IsBool(v)) {
		lua_pushboolean(L, cJSON_IsTrue(v));
		return 0;
	}
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 9.007199254740992e15)
			lua_pushinteger(L, (lua_Integer)d);
		else
			lua_pushnumber(L, d);
		return 0;
	}
	if (cJSON_IsString(v)) {
		lua_pushstring(L, v->valuestring ? v->valuestring : "");
		return 0;
	}
	if (depth + 1 > LUAJSON_MAX_DEPTH)
		return fail(c, xasprintf("JSON nested deeper than %d levels",
		    LUAJSON_MAX_DEPTH));
	if (cJSON_IsArray(v)) {
		lua_createtable(L, cJSON_GetArraySize(v), 0);
		cJSON_ArrayForEach(e, v) {
			if (push(L, e, depth + 1, c) != 0)
				return -1;
			lua_rawseti(L, -2, i++);
		}
		return 0;
	}
	lua_createtable(L, 0, cJSON_GetArraySize(v));
	cJSON_ArrayForEach(e, v) {
		if (e->string == NULL)
			continue;
		lua_pushstring(L, e->string);
		if (push(L, e, depth + 1, c) != 0)
			return -1;
		lua_rawset(L, -3);
	}
	return 0;
}

int
luajson_push(lua_State *L, const cJSON *v, char **cause)
{
	struct conv c = { 0, 0, NULL };
	int top = lua_gettop(L);

	if (push(L, v, 0, &c) != 0) {
		lua_settop(L, top);
		*cause = c.cause;
		return -1;
	}
	return 0;
}

/* A number key as an object key: integers as such, floats exactly (Lua's
 * own %.14g would give two keys one name). */
static char *
number_key(lua_State *L, int idx)
{
	double d;
	char *s;

	if (lua_isinteger(L, idx))
		return xasprintf("%lld", (long long)lua_tointeger(L, idx));
	d = lua_tonumber(L, idx);
	s = xasprintf("%.14g", d);
	if (strtod(s, NULL) != d) {
		free(s);
		s = xasprintf("%.17g", d);
	}
	return s;
}

static cJSON *from(lua_State *L, int idx, int depth, struct conv *c);

/* An object's members. The key and value are at -2 and -1 in the loop. */
static int
from_object(lua_State *L, int idx, int depth, cJSON *r, struct conv *c)
{
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		char *k;
		cJSON *v;

		switch (lua_type(L, -2)) {
		case LUA_TSTRING:
			k = xstrdup(lua_tostring(L, -2));
			break;
		case LUA_TNUMBER:
			k = number_key(L, -2);
			/* t[1] and t["1"] would be one JSON key twice. */
			lua_pushstring(L, k);
			if (lua_rawget(L, idx) != LUA_TNIL) {
				fail(c, xasprintf("a table has both the key %s "
				    "and the key \"%s\"", k, k));
				free(k);
				return -1;
			}
			lua_pop(L, 1);
			break;
		default:
			return fail(c, xasprintf("a table key is a %s (JSON "
			    "object keys are strings or numbers)",
			    luaL_typename(L, -2)));
		}
		v = from(L, -1, depth + 1, c);
		if (v == NULL) {
			free(k);
			return -1;
		}
		cJSON_AddItemToObject(r, k, v);
		free(k);
		lua_pop(L, 1);
	}
	return 0;
}

static cJSON *
from_table(lua_State *L, int idx, int depth, struct conv *c)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
	int array = 1, st;
	cJSON *r;

	if (depth + 1 > LUAJSON_MAX_DEPTH) {
		fail(c, xasprintf("table nested deeper than %d levels",
		    LUAJSON_MAX_DEPTH));
		return NULL;
	}
	/* This level: the set lookup, then a key, a value and a key copy. */
	if (!lua_checkstack(L, 4)) {
		fail(c, xstrdup("table nested too deep for the Lua stack"));
		return NULL;
	}
	lua_pushvalue(L, idx);
	if (lua_rawget(L, c->seen) != LUA_TNIL) {
		lua_pop(L, 1);
		fail(c, xstrdup("a table contains itself (a cycle)"));
		return NULL;
	}
	lua_pop(L, 1);
	/* An array only when the keys are exactly 1..n. */
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		count++;
		if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
		    lua_tointeger(L, -1) > n)
			array = 0;
	}
	array = array && count > 0 && count == n;
	lua_pushvalue(L, idx);
	lua_pushboolean(L, 1);
	lua_rawset(L, c->seen);
	if (array) {
		r = cJSON_CreateArray();
		st = 0;
		for (lua_Integer i = 1; i <= n && st == 0; i++) {
			cJSON *v;
			lua_rawgeti(L, idx, i);
			if ((v = from(L, -1, depth + 1, c)) == NULL)
				st = -1;
			else
				cJSON_AddItemToArray(r, v);
			lua_pop(L, 1);
		}
	} else {
		int top = lua_gettop(L);
		r = cJSON_CreateObject();
		st = from_object(L, idx, depth, r, c);
		lua_settop(L, top);
	}
	lua_pushvalue(L, idx);
	lua_pushnil(L);
	lua_rawset(L, c->seen);
	if (st != 0) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

/* Lua -> cJSON. depth: the tables around the value at idx. */
static cJSON *
from(lua_State *L, int idx, int depth, struct conv *c)
{
	idx = lua_absindex(L, idx);
	if (count_value(c) != 0)
		return NULL;
	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return cJSON_CreateNull();
	case LUA_TBOOLEAN:
		return cJSON_CreateBool(lua_toboolean(L, idx));
	case LUA_TNUMBER: {
		double d;
		if (lua_isinteger(L, idx))
			return cJSON_CreateNumber(
			    (double)lua_tointeger(L, idx));
		d = lua_tonumber(L, idx);
		if (isnan(d))
			return cJSON_CreateString("nan");
		if (isinf(d))
			return cJSON_CreateString(d > 0 ? "inf" : "-inf");
		return cJSON_CreateNumber(d);
	}
	case LUA_TSTRING:
		return cJSON_CreateString(lua_tostring(L, idx));
	case LUA_TTABLE:
		return from_table(L, idx, depth, c);
	default:
		return cJSON_CreateString(luaL_typename(L, idx));
	}
}

cJSON *
luajson_from(lua_State *L, int idx, char **cause)
{
	struct conv c = { 0, 0, NULL };
	int top = lua_gettop(L);
	cJSON *r;

	idx = lua_absindex(L, idx);
	if (!lua_checkstack(L, 2)) {
		*cause = xstrdup("no room on the Lua stack");
		return NULL;
	}
	lua_newtable(L);
	c.seen = lua_gettop(L);
	r = from(L, idx, 0, &c);
	lua_settop(L, top);
	if (r == NULL)
		*cause = c.cause != NULL ? c.cause : xstrdup("out of memory");
	else
		free(c.cause);
	return r;
}
