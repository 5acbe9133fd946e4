/* api: call any action of the services mlsh speaks, through its own SigV4
 * client. `api ec2 DescribeVpcs Filter.1.Name=cidr Filter.1.Value.1=10.0.0.0/16`,
 * `api sagemaker DescribeNotebookInstance '{"NotebookInstanceName":"x"}'`;
 * Lua: api.call("ec2", "DescribeVpcs", {...}) returns the response tree. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include "shell/shell.h"
#include "aws/aws.h"
#include "builtins/api_actions.inc"
#include "builtins/api_shape.h"

static int
action_index(const char *service, const char *action, size_t *svc)
{
	for (size_t i = 0; api_actions[i].service != NULL; i++) {
		if (strcmp(api_actions[i].service, service) != 0)
			continue;
		*svc = i;
		for (size_t k = 0; k < api_actions[i].n; k++)
			if (strcmp(api_actions[i].actions[k], action) == 0)
				return (int)k;
		return -1;
	}
	*svc = (size_t)-1;
	return -1;
}

/* The closest action name: case-insensitive match first, then edit distance. */
static const char *
action_suggest(size_t svc, const char *action)
{
	const char *best = NULL;
	int bestd = 4;

	for (size_t k = 0; k < api_actions[svc].n; k++) {
		const char *a = api_actions[svc].actions[k];
		int d;
		if (strcasecmp(a, action) == 0)
			return a;
		d = cmd_edit_distance(a, action);
		if (d < bestd) {
			bestd = d;
			best = a;
		}
	}
	return best;
}

/* SERVICE ACTION's place in api_actions[], for its output shape. */
struct api_target {
	const struct aws_service *svc;
	size_t si, ai;
};

/* Check SERVICE ACTION; 0, or an error already recorded. */
static int
check_target(struct mlsh_ctx *ctx, const char *service, const char *action,
    struct api_target *t)
{
	const struct aws_service *svc = aws_service_find(service);
	size_t si;
	int ai;

	if (svc == NULL) {
		const struct aws_service *const *all = aws_services();
		struct strlist names;
		const char *sug;
		struct buf b;
		strlist_init(&names);
		buf_init(&b);
		for (size_t i = 0; all[i] != NULL; i++) {
			strlist_add(&names, all[i]->name);
			buf_printf(&b, "%s%s", i ? ", " : "", all[i]->name);
		}
		sug = cmd_suggest(service, (const char *const *)names.v);
		if (sug != NULL)
			cmd_error(ctx, "unknown service '%s' (did you mean %s?)",
			    service, sug);
		else
			cmd_error(ctx, "unknown service '%s' (one of %s)",
			    service, b.data);
		strlist_release(&names);
		buf_release(&b);
		return -1;
	}
	if ((ai = action_index(svc->name, action, &si)) < 0) {
		const char *sug = si != (size_t)-1 ? action_suggest(si, action) :
		    NULL;
		if (sug != NULL)
			cmd_error(ctx, "%s has no action '%s' (did you mean "
			    "%s?)", svc->name, action, sug);
		else
			cmd_error(ctx, "%s has no action '%s'", svc->name,
			    action);
		return -1;
	}
	t->svc = svc;
	t->si = si;
	t->ai = (size_t)ai;
	return 0;
}

/* Call and shape the result as the AWS CLI prints it (api_shape.h). */
static int
api_call_shaped(struct mlsh_ctx *ctx, const struct api_target *t,
    const char *action, const cJSON *params, cJSON **result,
    struct aws_error *err)
{
	cJSON *res = NULL;
	int xml = t->svc->protocol == AWS_PROTO_EC2 ||
	    t->svc->protocol == AWS_PROTO_QUERY;

	memset(err, 0, sizeof *err);
	if (aws_call(shell_aws(ctx), t->svc->name, action, params, &res,
	    err) != 0)
		return -1;
	*result = api_shape_output(t->si, t->ai, xml, res);
	cJSON_Delete(res);
	return 0;
}

/* For people: the one list in a response is what they asked for. */
static cJSON *
api_view(cJSON *res)
{
	cJSON *only = NULL, *kv;
	int n = 0;

	if (!cJSON_IsObject(res))
		return res;
	cJSON_ArrayForEach(kv, res) {
		if (strcmp(kv->string, "RequestId") == 0 ||
		    strcasecmp(kv->string, "NextToken") == 0)
			continue;
		n++;
		only = kv;
	}
	if (n == 1 && (cJSON_IsArray(only) || cJSON_IsObject(only))) {
		cJSON *d = cJSON_DetachItemViaPointer(res, only);
		cJSON_Delete(res);
		return d;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(res, "RequestId");
	return res;
}

static int
api_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct api_target t;
	struct aws_error err;
	cJSON *params, *res = NULL;
	int st;

	if (check_target(ctx, a->argv[0], a->argv[1], &t) != 0)
		return 1;
	if (a->argc == 3 && a->argv[2][0] == '{') {
		params = cJSON_Parse(a->argv[2]);
		if (params == NULL || !cJSON_IsObject(params)) {
			cJSON_Delete(params);
			return cmd_usage_error(ctx, a, "the parameters are not "
			    "a JSON object");
		}
	} else {
		params = cJSON_CreateObject();
		for (int i = 2; i < a->argc; i++) {
			const char *eq = strchr(a->argv[i], '=');
			char *k;
			if (eq == NULL || eq == a->argv[i]) {
				cJSON_Delete(params);
				return cmd_usage_error(ctx, a, "'%s' is not "
				    "Key=Value", a->argv[i]);
			}
			k = xstrndup(a->argv[i], (size_t)(eq - a->argv[i]));
			cJSON_DeleteItemFromObjectCaseSensitive(params, k);
			cJSON_AddStringToObject(params, k, eq + 1);
			free(k);
		}
	}
	st = api_call_shaped(ctx, &t, a->argv[1], params, &res, &err);
	cJSON_Delete(params);
	if (st != 0) {
		char *line = aws_error_line(&err);
		free(ctx->error);
		ctx->error = line;	/* already "service: Code: message" */
		aws_error_release(&err);
		return 1;
	}
	*result = a->json ? res : api_view(res);
	return 0;
}

static int
l_api_call(lua_State *L)
{
	struct mlsh_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
	const char *service = luaL_checkstring(L, 1);
	const char *action = luaL_checkstring(L, 2);
	struct api_target t;
	struct aws_error err;
	cJSON *params = NULL, *res = NULL;
	char *line;
	int st;

	if (!lua_isnoneornil(L, 3))
		luaL_checktype(L, 3, LUA_TTABLE);
	if (check_target(ctx, service, action, &t) != 0)
		return luaL_error(L, "api: %s", ctx->error);
	if (!lua_isnoneornil(L, 3)) {
		params = script_to_json(L, 3);
		if (cJSON_IsArray(params) && cJSON_GetArraySize(params) == 0) {
			cJSON_Delete(params);	/* {} reads as an empty array */
			params = cJSON_CreateObject();
		}
	}
	st = api_call_shaped(ctx, &t, action, params, &res, &err);
	cJSON_Delete(params);
	if (st != 0) {
		line = aws_error_line(&err);
		aws_error_release(&err);
		lua_pushstring(L, line);
		free(line);
		return lua_error(L);
	}
	script_push_json(L, res);
	cJSON_Delete(res);
	return 1;
}

static void
api_lua(struct mlsh_ctx *ctx, void *L)
{
	lua_pushlightuserdata(L, ctx);
	lua_pushcclosure(L, l_api_call, 1);
	lua_setfield(L, -2, "call");
}

static void
api_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)ctx;
	(void)opt;
	if (argi == 0) {
		const struct aws_service *const *all = aws_services();
		for (size_t i = 0; all[i] != NULL; i++)
			if (str_startswith(all[i]->name, prefix))
				strlist_add(out, all[i]->name);
	} else if (argi == 1 && a->argc >= 1) {
		const struct aws_service *svc = aws_service_find(a->argv[0]);
		size_t si;
		if (svc == NULL)
			return;
		action_index(svc->name, "", &si);
		if (si == (size_t)-1)
			return;
		for (size_t k = 0; k < api_actions[si].n; k++)
			if (str_startswith(api_actions[si].actions[k], prefix))
				strlist_add(out, api_actions[si].actions[k]);
	}
}

const struct mlsh_cmd cmd_api_entry = {
	.name = "api",
	.summary = "call any AWS action of a service mlsh speaks",
	.args_usage = "SERVICE ACTION [Key=Value…|'{json}']",
	.help = "Services: ec2, iam, sts, cloudwatch (query protocols: "
	    "Key=Value with the flattened names, e.g. Filter.1.Name=cidr), "
	    "sagemaker, ssm, servicequotas (JSON 1.1) and efs (REST-JSON): one "
	    "JSON object. The response is what `aws … --output json` prints "
	    "(botocore's output shape: its member names, numbers, booleans, "
	    "lists, ISO 8601 timestamps), as a table (the list in it) or, with "
	    "--json, whole; one call, so paging members (NextToken, Marker) "
	    "stay. In Lua: api.call(service, action, {params}) returns it.",
	.min_args = 2,
	.max_args = -1,
	.complete = api_complete,
	.exec = api_exec,
	.lua = api_lua,
};
