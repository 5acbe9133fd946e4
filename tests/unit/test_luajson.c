/* Unit tests: the Lua <-> JSON bridge (luajson.c): deep, cyclic, shared and
 * odd-keyed tables, and deep JSON, each with a clear error and the Lua stack
 * left as it was. */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>
#include "shell/luajson.h"
#include "unit.h"
#include "lib/util.h"

static lua_State *L;

/* Run chunk (which returns one value), convert it, print it unformatted. */
static char *
conv(const char *chunk, char **cause)
{
	int top = lua_gettop(L);
	cJSON *j;
	char *s;

	*cause = NULL;
	if (luaL_dostring(L, chunk) != LUA_OK) {
		*cause = xstrdup(lua_tostring(L, -1));
		lua_settop(L, top);
		return NULL;
	}
	j = luajson_from(L, -1, cause);
	if (lua_gettop(L) != top + 1)
		T_FAIL("luajson_from changed the stack: %d, expected %d",
		    lua_gettop(L), top + 1);
	lua_settop(L, top);
	if (j == NULL)
		return NULL;
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

#define CONV(chunk, want) do {						\
	char *c_, *o_ = conv(chunk, &c_);				\
	T_EQ_STR(o_, want);						\
	if (c_ != NULL) T_FAIL("cause: %s", c_);			\
	free(o_); free(c_);						\
} while (0)

#define CONV_ERR(chunk, want) do {					\
	char *c_, *o_ = conv(chunk, &c_);				\
	T_OK(o_ == NULL);						\
	T_EQ_STR(c_, want);						\
	free(o_); free(c_);						\
} while (0)

static void
test_values(void)
{
	CONV("return {1, 'two', true, 2.5}", "[1,\"two\",true,2.5]");
	CONV("return {}", "{}");
	CONV("return {a = {b = {1}}}", "{\"a\":{\"b\":[1]}}");
	CONV("return {0/0, 1/0, -1/0}", "[\"nan\",\"inf\",\"-inf\"]");
	CONV("return {print}", "[\"function\"]");
	CONV("return nil", "null");
	/* Only keys exactly 1..n make an array: nothing is dropped. */
	CONV("local t = {1, 2} t.x = 3 return t", "{\"1\":1,\"2\":2,\"x\":3}");
	CONV("return {[2] = 'b'}", "{\"2\":\"b\"}");
	CONV("return {[0.1] = 1}", "{\"0.1\":1}");
	CONV_ERR("return {[1] = 1, ['1'] = 2}",
	    "a table has both the key 1 and the key \"1\"");
	CONV_ERR("return {[true] = 1}",
	    "a table key is a boolean (JSON object keys are strings or numbers)");
	CONV_ERR("return {[{}] = 1}",
	    "a table key is a table (JSON object keys are strings or numbers)");
}

static void
test_deep_tables(void)
{
	char *c, *o;

	/* ~16 levels used to write past the Lua stack (valgrind; SIGSEGV). */
	o = conv("local t = {} local c = t for i = 1, 999 do c.a = {} "
	    "c = c.a end return t", &c);
	T_OK(o != NULL && strncmp(o, "{\"a\":{\"a\":", 10) == 0);
	free(o);
	free(c);
	o = conv("local t = {} local c = t for i = 1, 999 do c[1] = {} "
	    "c = c[1] end c[1] = 7 return t", &c);
	T_OK(o != NULL && strstr(o, "[[7]]") != NULL);
	free(o);
	free(c);
	CONV_ERR("local t = {} local c = t for i = 1, 1000 do c.a = {} "
	    "c = c.a end return t", "table nested deeper than 1000 levels");
}

static void
test_cycles_and_sharing(void)
{
	CONV_ERR("local t = {} t.me = t return t",
	    "a table contains itself (a cycle)");
	CONV_ERR("local t = {{}} t[1][1] = t return t",
	    "a table contains itself (a cycle)");
	/* Shared, not cyclic: fine, copied. */
	CONV("local s = {1} return {s, s}", "[[1],[1]]");
	/* Shared exponentially: refused, not an endless conversion. */
	CONV_ERR("local t = {} for i = 1, 60 do t = {t, t} end return t",
	    "more than 1000000 values");
}

static cJSON *
nest(int levels)
{
	cJSON *v = cJSON_CreateNumber(1);
	for (int i = 0; i < levels; i++) {
		cJSON *a = cJSON_CreateArray();
		cJSON_AddItemToArray(a, v);
		v = a;
	}
	return v;
}

static void
test_json_to_lua(void)
{
	int top = lua_gettop(L);
	char *cause = NULL;
	cJSON *j, *back;

	/* As deep as cJSON's parser allows: fits, and comes back the same. */
	j = nest(LUAJSON_MAX_DEPTH);
	T_EQ_INT(luajson_push(L, j, &cause), 0);
	T_EQ_INT(lua_gettop(L), top + 1);
	back = luajson_from(L, -1, &cause);
	T_OK(back != NULL && cJSON_Compare(j, back, 1));
	cJSON_Delete(back);
	cJSON_Delete(j);
	lua_settop(L, top);

	j = nest(LUAJSON_MAX_DEPTH + 1);
	T_EQ_INT(luajson_push(L, j, &cause), -1);
	T_EQ_STR(cause, "JSON nested deeper than 1000 levels");
	T_EQ_INT(lua_gettop(L), top);
	free(cause);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"a\":[1,2.5,\"x\",null,true],\"b\":{}}");
	T_EQ_INT(luajson_push(L, j, &cause), 0);
	lua_getfield(L, -1, "a");
	T_EQ_INT(lua_rawgeti(L, -1, 4), LUA_TNIL);	/* null is a hole */
	T_EQ_INT(lua_rawgeti(L, -2, 5), LUA_TBOOLEAN);
	T_EQ_INT(lua_rawgeti(L, -3, 2), LUA_TNUMBER);
	T_OK(!lua_isinteger(L, -1) && lua_tonumber(L, -1) == 2.5);
	lua_settop(L, top);
	cJSON_Delete(j);

	T_EQ_INT(luajson_push(L, NULL, &cause), 0);
	T_OK(lua_isnil(L, -1));
	lua_settop(L, top);
}

int
main(void)
{
	L = luaL_newstate();
	luaL_openlibs(L);
	T_RUN(test_values);
	T_RUN(test_deep_tables);
	T_RUN(test_cycles_and_sharing);
	T_RUN(test_json_to_lua);
	lua_close(L);
	T_DONE();
}
