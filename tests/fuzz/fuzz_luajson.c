/* fuzz_luajson.c: libFuzzer target for the Lua <-> JSON bridge
 * (shell/luajson.c).
 *
 * The first byte picks the mode. Even: the rest is a little program that
 * builds Lua values on the Lua stack (scalars, tables, fields, appends,
 * shared references, self-references, deep nesting); the value on top goes
 * Lua -> JSON -> Lua -> JSON and both JSON documents must be equal (or the
 * first conversion fails with a message and leaves the stack as it was).
 * Odd: the rest is JSON text; whatever cJSON parses must reach Lua and come
 * back stable (JSON -> Lua -> JSON -> Lua -> JSON, the two last equal).
 *
 * liblua is not built with the sanitizers, so a write past the Lua stack
 * (a missing lua_checkstack) would go unseen: every block Lua allocates
 * carries a canary after it, checked when Lua frees or moves the block; each
 * input gets a fresh state, closed at the end, so every block is checked. */
#include <float.h>
#include <lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell/luajson.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CANARY_LEN 64
static const unsigned char canary[CANARY_LEN] = {
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
	0xde, 0xad, 0xbe, 0xef, 0x5a, 0xa5, 0x3c, 0xc3,
};

static void
check_canary(const void *p, size_t osize)
{
	if (memcmp((const char *)p + osize, canary, CANARY_LEN) != 0) {
		fprintf(stderr, "fuzz_luajson: a write past a Lua block of %zu "
		    "bytes (the Lua stack overflowed?)\n", osize);
		abort();
	}
}

static void *
lalloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	void *n;

	(void)ud;
	if (ptr != NULL)
		check_canary(ptr, osize);
	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if ((n = realloc(ptr, nsize + CANARY_LEN)) == NULL)
		return NULL;
	memcpy((char *)n + nsize, canary, CANARY_LEN);
	return n;
}

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned
byte(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t
bytes(struct input *in, unsigned k)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < k; i++)
		v = v << 8 | byte(in);
	return v;
}

/* Run the program in `in`, leaving at most 200 values on the stack. */
static void
build(lua_State *L, struct input *in)
{
	unsigned wrapped = 0;

	lua_checkstack(L, 210);
	while (in->n > 0) {
		int top = lua_gettop(L);
		unsigned op = byte(in) % 13;

		/* Every op that pushes (the scalars, tables, dup, wrap, the
		 * cycle's temporaries) stays within the room asked for. */
		if (top >= 200 && (op <= 5 || op == 8 || op == 9 || op == 11))
			op = 10;
		switch (op) {
		case 0:
			lua_pushnil(L);
			break;
		case 1:
			lua_pushboolean(L, byte(in) & 1);
			break;
		case 2:
			lua_pushinteger(L, (lua_Integer)bytes(in, 1 + byte(in) % 8));
			break;
		case 3: {
			uint64_t u = bytes(in, 8);
			double d;
			memcpy(&d, &u, sizeof d);
			lua_pushnumber(L, d);
			break;
		}
		case 4: {
			unsigned len = byte(in) % 24;
			char s[24];
			for (unsigned i = 0; i < len; i++)
				s[i] = (char)byte(in);
			lua_pushlstring(L, s, len);
			break;
		}
		case 5:
			lua_newtable(L);
			break;
		case 6:	/* t[k] = v for t, k, v on top */
			if (top >= 3 && lua_istable(L, -3) && !lua_isnil(L, -2) &&
			    !(lua_type(L, -2) == LUA_TNUMBER &&
			    isnan(lua_tonumber(L, -2))))
				lua_rawset(L, -3);
			else if (top >= 2)
				lua_pop(L, 2);
			break;
		case 7:	/* append v to t */
			if (top >= 2 && lua_istable(L, -2))
				lua_rawseti(L, -2,
				    (lua_Integer)lua_rawlen(L, -2) + 1);
			else if (top >= 1)
				lua_pop(L, 1);
			break;
		case 8:	/* share: copy a value further down */
			if (top >= 1)
				lua_pushvalue(L, -1 - (int)(byte(in) % top));
			break;
		case 9: {	/* wrap the top in up to 1270 arrays or objects */
			unsigned b = byte(in), k = (b >> 1) * 10;
			/* Enough to pass the depth limit, not so many that
			 * each input takes seconds. */
			if (top < 1 || (wrapped += k) > 3000)
				break;
			for (unsigned i = 0; i < k; i++) {
				lua_createtable(L, 1, 0);
				lua_insert(L, -2);
				if (b & 1)
					lua_setfield(L, -2, "a");
				else
					lua_rawseti(L, -2, 1);
			}
			break;
		}
		case 10:
			if (top >= 1)
				lua_pop(L, 1);
			break;
		case 11:	/* t[k] = t: a cycle */
			if (top >= 1 && lua_istable(L, -1)) {
				lua_pushinteger(L, (lua_Integer)byte(in) % 4 + 1);
				lua_pushvalue(L, -2);
				lua_rawset(L, -3);
			}
			break;
		case 12:	/* t[s] = v with a short string key */
			if (top >= 2 && lua_istable(L, -2)) {
				char k[2] = { (char)('0' + byte(in) % 10), 0 };
				lua_setfield(L, -2, k);
			}
			break;
		}
	}
}

/* Equal JSON values. Not cJSON_Compare: it compares every object member
 * twice, exponential in the nesting. Keys here are unique (they come from
 * Lua tables), so same size and a's members in b is enough. Numbers are
 * exact, except through text (loose): cJSON prints 15 significant digits
 * when they read back within DBL_EPSILON, not always the same double. */
static int
same_as(const cJSON *a, const cJSON *b, int loose)
{
	const cJSON *e, *f;

	if ((a->type & 0xff) != (b->type & 0xff))
		return 0;
	if (cJSON_IsNumber(a)) {
		double x = a->valuedouble, y = b->valuedouble;
		if (loose)
			return fabs(x - y) <= fmax(fabs(x), fabs(y)) *
			    DBL_EPSILON;
		return x == y;
	}
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_IsArray(a)) {
		for (e = a->child, f = b->child; e && f; e = e->next, f = f->next)
			if (!same_as(e, f, loose))
				return 0;
		return e == NULL && f == NULL;
	}
	if (cJSON_IsObject(a)) {
		if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
			return 0;
		cJSON_ArrayForEach(e, a) {
			f = cJSON_GetObjectItemCaseSensitive(b, e->string);
			if (f == NULL || !same_as(e, f, loose))
				return 0;
		}
	}
	return 1;
}

static int
same(const cJSON *a, const cJSON *b)
{
	return same_as(a, b, 0);
}

/* JSON -> Lua -> JSON; aborts on a failure that must not happen. */
static cJSON *
through_lua(lua_State *L, const cJSON *j)
{
	int top = lua_gettop(L);
	char *cause = NULL;
	cJSON *back;

	if (luajson_push(L, j, &cause) != 0) {
		fprintf(stderr, "push failed: %s\n", cause);
		abort();
	}
	if (lua_gettop(L) != top + 1)
		abort();
	back = luajson_from(L, -1, &cause);
	if (back == NULL) {
		fprintf(stderr, "from failed: %s\n", cause);
		abort();
	}
	lua_settop(L, top);
	return back;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lua_State *L;
	struct input in;
	char *cause = NULL;
	cJSON *j1, *j2, *j3;

	if (size < 1)
		return 0;
	if ((L = lua_newstate(lalloc, NULL)) == NULL)
		return 0;
	in.p = data + 1;
	in.n = size - 1;
	if (data[0] & 1) {
		/* JSON text: anything cJSON parses comes back the same after
		 * one pass (null in an array is a hole in Lua, an empty array
		 * an empty table: the first pass normalises those). */
		cJSON *doc = cJSON_ParseWithLength((const char *)in.p, in.n);
		if (doc != NULL) {
			j1 = through_lua(L, doc);
			j2 = through_lua(L, j1);
			j3 = through_lua(L, j2);
			if (!same(j2, j3))
				abort();
			cJSON_Delete(j1);
			cJSON_Delete(j2);
			cJSON_Delete(j3);
			cJSON_Delete(doc);
		}
	} else {
		int top;
		build(L, &in);
		top = lua_gettop(L);
		if (top > 0) {
			j1 = luajson_from(L, -1, &cause);
			if (lua_gettop(L) != top)
				abort();
			if (j1 == NULL) {
				if (cause == NULL || *cause == '\0')
					abort();
				free(cause);
			} else {
				char *text;
				cJSON *parsed;

				j2 = through_lua(L, j1);
				if (!same(j1, j2)) {
					char *a = cJSON_PrintUnformatted(j1);
					char *b = cJSON_PrintUnformatted(j2);
					fprintf(stderr, "round trip differs:\n%s\n"
					    "%s\n", a, b);
					abort();
				}
				/* And as text, as `--json` prints it. */
				text = cJSON_PrintUnformatted(j1);
				parsed = cJSON_Parse(text);
				if (parsed == NULL || !same_as(j1, parsed, 1)) {
					fprintf(stderr, "text round trip differs:"
					    " %s\n", text);
					abort();
				}
				cJSON_Delete(parsed);
				free(text);
				cJSON_Delete(j1);
				cJSON_Delete(j2);
			}
		}
	}
	lua_close(L);
	return 0;
}
