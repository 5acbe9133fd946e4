/* tunnel: local port forwards through the jump host (remote/forward.c runs
 * each in its own thread with its own jump connection). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "builtins/target.h"
#include "builtins/tunnel.h"

struct tunnel {
	int id;
	char *target;
	char *host;		/* as the jump host reaches it */
	char *instance;		/* the node it goes to (instance id), or NULL */
	char *jump;		/* the jump host's instance id, or NULL */
	int lport, rport;
	struct rmt_forward *fwd;
	struct tunnel *next;
};
/* The tunnel service's state (its slot in the context). */
struct tunnels {
	struct tunnel *list;
	int last_id;
};

static struct tunnels *
tstate(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_tunnel);

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct tunnels));
	return *slot;
}

static cJSON *
tunnel_json(const struct tunnel *t)
{
	struct rmt_forward_stats st;
	cJSON *o = cJSON_CreateObject();
	char *s;

	memset(&st, 0, sizeof st);
	rmt_forward_stats(t->fwd, &st);
	s = xasprintf("t%d", t->id);
	cJSON_AddStringToObject(o, "id", s);
	free(s);
	s = xasprintf("127.0.0.1:%d", t->lport);
	cJSON_AddStringToObject(o, "local", s);
	free(s);
	s = xasprintf("%s:%d", t->target, t->rport);
	cJSON_AddStringToObject(o, "remote", s);
	free(s);
	cJSON_AddNumberToObject(o, "connections", st.accepted);
	cJSON_AddNumberToObject(o, "active", st.active);
	cJSON_AddNumberToObject(o, "failed", st.failed);
	cJSON_AddStringToObject(o, "last_error", st.last_error ?
	    st.last_error : "");
	free(st.last_error);
	return o;
}

static cJSON *tunnel_start(struct mlsh_ctx *, const char *target,
    char *node, const char *dest, int lport, int rport);

cJSON *
tunnel_open(struct mlsh_ctx *ctx, const char *target, int lport, int rport)
{
	char *node = NULL;

	if (target_resolve(ctx, target, &node) != 0)
		return NULL;
	return tunnel_start(ctx, target, node, "127.0.0.1", lport, rport);
}

cJSON *
tunnel_open_host(struct mlsh_ctx *ctx, const char *label, const char *host,
    int lport, int rport)
{
	return tunnel_start(ctx, label, NULL, host, lport, rport);
}

/* node (taken; NULL: none) is the host whose SSH the forward goes
 * through, else the jump host opens the channel to dest itself. */
static cJSON *
tunnel_start(struct mlsh_ctx *ctx, const char *target, char *node,
    const char *dest, int lport, int rport)
{
	const struct rmt_config *cfg;
	struct tunnel *t;
	char *cause = NULL;
	struct rmt_forward *fwd;
	struct rmt_forward_via via = { NULL, NULL, NULL };
	const char *host = node ? node : dest;

	if ((cfg = target_config_connect(ctx)) == NULL) {
		free(node);
		return NULL;
	}
	/* The same forward asked for again (`grafana open` twice) is the one
	 * already open, not a second listener on the same port. */
	for (t = tstate(ctx)->list; t != NULL; t = t->next)
		if (strcmp(t->target, target) == 0 && t->rport == rport &&
		    (lport == 0 || lport == t->lport) &&
		    strcmp(t->host, host) == 0) {
			cJSON *o = tunnel_json(t);
			cJSON_AddBoolToObject(o, "reused", 1);
			free(node);
			return o;
		}
	/* A node's port is reached through the node's own SSH connection, as
	 * `ssh -J jump -L lport:localhost:rport node` does: its security group
	 * admits SSH from the jump host and nothing else, and a server
	 * listening on the node's loopback only is reachable too. */
	if (node != NULL)
		target_node_login(ctx, node, &via.alias, &via.user);
	via.node = node;
	if (rmt_forward_start(cfg, lport, node != NULL ? &via : NULL,
	    node != NULL ? "127.0.0.1" : dest, rport, &fwd, &cause) != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		free(node);
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->id = ++tstate(ctx)->last_id;
	t->target = xstrdup(target);
	t->instance = node && via.alias ? xstrdup(via.alias) : NULL;
	t->jump = cfg->jump_alias ? xstrdup(cfg->jump_alias) : NULL;
	t->host = node ? node : xstrdup(dest);
	t->lport = rmt_forward_port(fwd);
	t->rport = rport;
	t->fwd = fwd;
	t->next = tstate(ctx)->list;
	tstate(ctx)->list = t;
	return tunnel_json(t);
}

static void
tunnel_free(struct tunnel *t)
{
	rmt_forward_stop(t->fwd);
	free(t->target);
	free(t->host);
	free(t->instance);
	free(t->jump);
	free(t);
}

static void
tunnel_close_all(struct mlsh_ctx *ctx)
{
	struct tunnels *ts = tstate(ctx);

	while (ts->list != NULL) {
		struct tunnel *t = ts->list;
		ts->list = t->next;
		tunnel_free(t);
	}
}

void
tunnel_instance_gone(struct mlsh_ctx *ctx, const char *id)
{
	struct tunnel **p = &tstate(ctx)->list;

	while (*p != NULL) {
		struct tunnel *t = *p;
		/* Every tunnel goes through the jump host. */
		int jump = t->jump != NULL && strcmp(t->jump, id) == 0;
		if (!jump && (t->instance == NULL || strcmp(t->instance, id))) {
			p = &t->next;
			continue;
		}
		*p = t->next;
		fprintf(stderr, "tunnel: t%d (127.0.0.1:%d to %s:%d) closed: "
		    "%s is gone\n", t->id, t->lport, t->target, t->rport,
		    jump ? "the jump host" : t->target);
		tunnel_free(t);
	}
}

void
tunnel_hold(struct mlsh_ctx *ctx)
{
	fprintf(stderr, "tunnel: open until Ctrl-C\n");
	while (!mlsh_interrupted)
		pause();
	tunnel_close_all(ctx);
}

static int
parse_ports(const char *spec, int *l, int *r)
{
	char *end;
	long a, b;

	a = strtol(spec, &end, 10);
	if (*end != ':' || end == spec)
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a < 0 || a > 65535 || b < 1 || b > 65535)
		return -1;
	*l = (int)a;
	*r = (int)b;
	return 0;
}

static int
tunnel_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	int l, r;

	if (parse_ports(a->argv[1], &l, &r) != 0)
		return cmd_usage_error(ctx, a, "'%s' is not LPORT:RPORT "
		    "(LPORT 0 picks a free port)", a->argv[1]);
	if ((*result = tunnel_open(ctx, a->argv[0], l, r)) == NULL)
		return 1;
	if (cmd_opt_bool(a, "foreground") || !ctx->interactive) {
		/* Nothing would keep it open after this command otherwise. */
		char *t = cJSON_PrintUnformatted(*result);
		if (!a->json)
			shell_print_result(ctx, *result, 0);
		else
			printf("%s\n", t);
		fflush(stdout);
		free(t);
		cJSON_Delete(*result);
		*result = NULL;
		tunnel_hold(ctx);
	}
	return 0;
}

static int
tunnel_ls(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	cJSON *arr = cJSON_CreateArray();

	(void)a;
	for (struct tunnel *t = tstate(ctx)->list; t != NULL; t = t->next)
		cJSON_AddItemToArray(arr, tunnel_json(t));
	*result = arr;
	return 0;
}

static int
tunnel_close(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *id = a->argv[0];
	struct tunnel **p;
	int n = atoi(id[0] == 't' ? id + 1 : id);

	for (p = &tstate(ctx)->list; *p != NULL; p = &(*p)->next) {
		if ((*p)->id == n) {
			struct tunnel *t = *p;
			*p = t->next;
			*result = tunnel_json(t);
			tunnel_free(t);
			return 0;
		}
	}
	return cmd_error(ctx, "no tunnel '%s' ('tunnel ls' lists them)", id);
}

static void
tunnel_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	(void)opt;
	if (a->cmd != a->builtin) {	/* close ID */
		for (struct tunnel *t = tstate(ctx)->list; t != NULL; t = t->next) {
			char *s = xasprintf("t%d", t->id);
			if (str_startswith(s, prefix))
				strlist_take(out, s);
			else
				free(s);
		}
		return;
	}
	if (argi == 0)
		target_complete(ctx, prefix, out);
}

static const struct mlsh_opt tunnel_opts[] = {
	{ "foreground", 'f', OPT_BOOL, NULL, NULL,
	    "hold the tunnel until Ctrl-C (the default outside the prompt)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd tunnel_subcmds[] = {
	{ .name = "ls", .summary = "list the open tunnels", .min_args = 0,
	    .max_args = 0, .exec = tunnel_ls, .flags = CMD_NO_HISTORY },
	{ .name = "close", .summary = "close a tunnel", .args_usage = "ID",
	    .min_args = 1, .max_args = 1, .complete = tunnel_complete,
	    .exec = tunnel_close },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_tunnel_entry = {
	.name = "tunnel",
	.summary = "forward a local port to a node through the jump host",
	.args_usage = "TARGET LPORT:RPORT",
	.help = "Listens on 127.0.0.1:LPORT only (0 picks a free port) and "
	    "forwards each connection to TARGET:RPORT through the jump host. "
	    "At the prompt the tunnel stays open while the shell runs; from "
	    "-c or a script it holds until Ctrl-C.",
	.opts = tunnel_opts,
	.min_args = 2,
	.max_args = 2,
	.subcmds = tunnel_subcmds,
	.complete = tunnel_complete,
	.exec = tunnel_exec,
};

/* At session end every forward stops (its thread and listener). */
static void
tunnel_service_free(struct mlsh_ctx *ctx)
{
	void **slot = shell_service_slot(ctx, &svc_tunnel);

	if (*slot == NULL)
		return;
	tunnel_close_all(ctx);
	free(*slot);
	*slot = NULL;
}

const struct mlsh_service svc_tunnel = {
	.name = "tunnel",
	.free = tunnel_service_free,
};
