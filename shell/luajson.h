/* luajson.h: Lua values <-> cJSON, bounded.
 *
 * The bridge behind every builtin's Lua result, `lua CHUNK`'s printed value
 * and api.call's parameters. Both directions check the Lua stack
 * (lua_checkstack), limit the nesting and the number of values, and fail
 * with a one-line message instead of raising a Lua error, so a caller can
 * free what it holds first. Lua -> JSON refuses cycles and keys that are not
 * strings or numbers; a table whose keys are exactly 1..n is an array, any
 * other table an object (an empty one is {}); a NaN or infinite number
 * becomes the string "nan", "inf" or "-inf" (JSON has none); functions and
 * other values become their type name. */
#ifndef MLSH_LUAJSON_H
#define MLSH_LUAJSON_H

#include <cjson/cJSON.h>
#include <lua.h>

/* Nesting: as deep as cJSON's own parser allows, so any parsed document
 * fits, and the C recursion stays small. */
#define LUAJSON_MAX_DEPTH CJSON_NESTING_LIMIT
/* Values in one conversion: a table shared by many others (t = {t, t} in a
 * loop) would otherwise expand exponentially. (The fuzz build lowers it to
 * reach it quickly.) */
#ifndef LUAJSON_MAX_VALUES
#define LUAJSON_MAX_VALUES 1000000
#endif

/* Push v (NULL is nil) as one Lua value. 0, or -1 with *cause and nothing
 * pushed. */
int luajson_push(lua_State *L, const cJSON *v, char **cause);

/* The Lua value at idx as JSON; NULL with *cause. The stack is unchanged. */
cJSON *luajson_from(lua_State *L, int idx, char **cause);

#endif
