/* node: training machines of the workspace, by kind.
 *
 *	node dl1 up [--count N] [--type T] [--ami AMI] [--spot] [--disk GB]
 *	    [--autostop DURATION|off] [--autostop-down]
 *	node dl1-1 autostop [DURATION|off]	(builtins/autostop.c)
 *	node dl1-1 stop|start|down|status
 *	node ls
 *
 * The object comes before the verb: the entry sets CMD_VERB_SECOND, so the
 * table's parser reads `node dl1 up` as `node up dl1` and `node dl1-1 stop`
 * as `node stop dl1-1`; help, usage, completion and the Lua functions
 * (node.up{kind="dl1"}, node.stop("dl1-1")) come from the subcommands.
 *
 * Kinds: dl1 and p3 built in; more (or changed ones) from the Lua table
 * `node_kinds` in ~/.mlshrc. Nodes are named <kind>-<n> and recorded as
 * stack records of type "instance". `up --count N` makes the kind have N
 * nodes: a second `node dl1 up` creates nothing. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include "builtins/autostop.h"
#include "lib/gzip.h"
#include "builtins/node.h"
#include "builtins/stage.h"
#include "stack/iam.h"
#include "stack/image.h"
#include "stack/quota.h"
#include "lib/state.h"
#include "stack/userdata.h"
#include "lib/duration.h"

#define NODE_MAX_COUNT	16
#define NODE_DISK_MIN	8	/* GB, root volume */
#define NODE_DISK_MAX	16384
#define NODE_WAIT_S	900

struct node_kind {
	char *name;
	char *type;		/* instance type */
	char *ssm;		/* SSM public parameter with the AMI id, or NULL */
	char *owner;		/* image owner for DescribeImages */
	char *patterns[4];	/* image name patterns, tried in order */
	int disk;		/* root volume GB */
	char *about;
};

struct node_kinds {
	struct node_kind *v;
	size_t n;
};

static void kinds_load(struct mlsh_ctx *, struct node_kinds *);
static void kinds_release(struct node_kinds *);
static const struct node_kind *kind_find(const struct node_kinds *,
    const char *);
static int node_name_split(const char *name, char *kind, size_t ksz);
static void node_names(struct stack *, const char *kind, struct strlist *);
static void node_names_ctx(struct mlsh_ctx *, struct strlist *);
static cJSON *node_row(struct mlsh_ctx *, const cJSON *rec);
static int open_named(struct mlsh_ctx *, struct cmd_args *, struct stack *,
    const char **name);

static const struct mlsh_opt ls_opts[2];

struct node_image {
	char *id, *name, *date, *user;
};
static int node_pick_image(struct stack *, const struct node_kind *,
    const char *itype, const char *ami_opt, int include_dep,
    struct node_image *);
static void node_image_release(struct node_image *);
static void unsupported_error(struct stack *, const struct node_kind *,
    const char *itype, const char *fam, int include_dep,
    const struct image_pick *);
static int check_offered(struct stack *, const char *kind, const char *itype);
static void capacity_hint(struct stack *, const struct node_launch *,
    size_t n);

/* ---- up ------------------------------------------------------------------ */

/* node up as its steps (stage.h): everything that can refuse (kind, network,
 * offer, image, quota, price) comes before anything is created. */
struct node_up {
	struct mlsh_ctx *ctx;
	struct cmd_args *a;
	cJSON **result;
	struct node_kinds kinds;
	const struct node_kind *k;
	const char *itype;
	long long count, disk;
	int spot, down;		/* --spot, --autostop-down */
	char autostop[24];	/* seconds, or "off" (user-data's @AUTOSTOP@) */
	struct stack st;
	int st_open;
	struct strlist have, make;	/* nodes of the kind there, to make */
	struct node_image img;
	char *ami;
	const char *profile;
	struct node_launch *ls;
	char **uds;
};

static int up_kind(void *), up_stack(void *), up_names(void *),
    up_network(void *), up_offered(void *), up_image(void *),
    up_quota(void *), up_price(void *), up_role(void *),
    up_user_data(void *), up_launch(void *), up_record(void *);

static const struct stage node_up_stages[] = {
	{ "kind", up_kind },		/* options, the kind, its defaults */
	{ "stack", up_stack },
	{ "names", up_names },		/* which nodes to make: maybe none */
	{ "network", up_network },
	{ "offered", up_offered },
	{ "image", up_image },
	{ "quota", up_quota },
	{ "price", up_price },
	{ "role", up_role },
	{ "user-data", up_user_data },
	{ "launch", up_launch },
	{ "record", up_record },
};

static int
node_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct node_up u = { .ctx = ctx, .a = a, .result = result };
	int rc;

	strlist_init(&u.have);
	strlist_init(&u.make);
	rc = stage_run(node_up_stages, STAGE_COUNT(node_up_stages), &u);
	for (size_t i = 0; u.uds != NULL && i < u.make.n; i++)
		free(u.uds[i]);
	free(u.uds);
	free(u.ls);
	free(u.ami);
	node_image_release(&u.img);
	strlist_release(&u.have);
	strlist_release(&u.make);
	if (u.st_open)
		stack_close(&u.st);
	kinds_release(&u.kinds);
	return rc;
}

static int
up_kind(void *job)
{
	struct node_up *u = job;
	struct cmd_args *a = u->a;
	const char *kname = a->argc > 0 ? a->argv[0] : cmd_opt(a, "kind");
	char kbuf[64];

	u->count = cmd_opt_num(a, "count");
	u->spot = cmd_opt_bool(a, "spot");
	if (kname == NULL)
		return cmd_usage_error(u->ctx, a, "which kind? (dl1, p3, or one "
		    "from node_kinds in ~/.mlshrc)");
	if (a->argc > 0 && cmd_opt(a, "kind") != NULL &&
	    strcmp(a->argv[0], cmd_opt(a, "kind")) != 0)
		return cmd_usage_error(u->ctx, a, "two kinds given: %s and %s",
		    a->argv[0], cmd_opt(a, "kind"));
	kinds_load(u->ctx, &u->kinds);
	if ((u->k = kind_find(&u->kinds, kname)) == NULL) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < u->kinds.n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
			    u->kinds.v[i].name);
		if (node_name_split(kname, kbuf, sizeof kbuf) == 0)
			cmd_error(u->ctx, "'%s' is a node name; 'up' takes a "
			    "kind (%s)", kname, b.data);
		else
			cmd_error(u->ctx, "unknown kind '%s' (kinds: %s; more "
			    "from node_kinds in ~/.mlshrc)", kname, b.data);
		buf_release(&b);
		return 1;
	}
	u->itype = cmd_opt(a, "type") ? cmd_opt(a, "type") : u->k->type;
	u->disk = cmd_opt_int(a, "disk", u->k->disk);
	u->down = cmd_opt_bool(a, "autostop-down");
	if (autostop_option(u->ctx, a, u->autostop, sizeof u->autostop) != 0)
		return 1;
	if (u->down && strcmp(u->autostop, "off") == 0)
		return cmd_error(u->ctx, "--autostop-down with --autostop off: "
		    "nothing would ever shut the node down");
	if (u->down && u->spot)
		return cmd_error(u->ctx, "--autostop-down and --spot: a "
		    "persistent spot request would start the node again; "
		    "choose one");
	if (u->disk < NODE_DISK_MIN || u->disk > NODE_DISK_MAX)
		/* The kind's own, from node_kinds in ~/.mlshrc (the parser
		 * checked --disk). */
		return cmd_error(u->ctx, "kind '%s': disk %lld is not %d to %d "
		    "GB (node_kinds in ~/.mlshrc)", u->k->name,
		    (long long)u->disk, NODE_DISK_MIN, NODE_DISK_MAX);
	return 0;
}

static int
up_stack(void *job)
{
	struct node_up *u = job;

	if (stack_open(u->ctx, u->a, &u->st) != 0)
		return 1;
	u->st_open = 1;
	return 0;
}

/* The kind's nodes that exist, and the ones to make up to --count. */
static int
up_names(void *job)
{
	struct node_up *u = job;
	struct strlist all;

	strlist_init(&all);
	node_names(&u->st, u->k->name, &all);
	for (size_t i = 0; i < all.n; i++) {
		/* A pending intent (a run killed mid-launch) is made again:
		 * stack_create_many finds it by its tags or resends it with
		 * the same ClientToken. */
		if (stack_id(&u->st, all.v[i]) != NULL) {
			strlist_add(&u->have, all.v[i]);
			cJSON_AddItemToArray(u->st.existing,
			    cJSON_CreateString(all.v[i]));
		} else if ((long long)(u->have.n + u->make.n) < u->count)
			strlist_add(&u->make, all.v[i]);
	}
	/* The lowest free numbers, up to count nodes of the kind. */
	for (int n = 1; (long long)(u->have.n + u->make.n) < u->count &&
	    n < 1000; n++) {
		char *name = xasprintf("%s-%d", u->k->name, n);
		if (strlist_has(&all, name))
			free(name);
		else
			strlist_take(&u->make, name);
	}
	strlist_release(&all);
	if (u->make.n == 0) {
		*u->result = stack_result(&u->st);
		return STAGE_DONE;
	}
	return 0;
}

static int
up_network(void *job)
{
	struct node_up *u = job;

	if (stack_need(&u->st, "subnet-private", "vpc up") == NULL ||
	    stack_need(&u->st, "sg-nodes", "vpc up") == NULL)
		return 1;
	return 0;
}

static int
up_offered(void *job)
{
	struct node_up *u = job;

	return check_offered(&u->st, u->k->name, u->itype) != 0;
}

static int
up_image(void *job)
{
	struct node_up *u = job;
	struct node_image *img = &u->img;

	if (node_pick_image(&u->st, u->k, u->itype, cmd_opt(u->a, "ami"),
	    cmd_opt_bool(u->a, "include-deprecated"), img) != 0)
		return 1;
	u->ami = xstrdup(img->id);
	if (u->st.dry_run)
		stack_plan(&u->st, "image", u->k->name, "%s \"%s\" (%s), login "
		    "user %s", img->id, img->name, img->date, img->user);
	if (!u->st.ctx->json)
		shell_warn(u->ctx, "node: image %s \"%s\" (%s), login user %s",
		    img->id, img->name, img->date, img->user);
	return 0;
}

static int
up_quota(void *job)
{
	struct node_up *u = job;

	if (cmd_opt_bool(u->a, "skip-quota-check"))
		return 0;
	return quota_check_instances(&u->st, u->make.v[0], u->itype,
	    (int)u->make.n, u->spot) != 0;
}

static int
up_price(void *job)
{
	struct node_up *u = job;
	size_t n = u->make.n;
	/* Spot is billed at the market price, at most on-demand's. */
	char *what = xasprintf("%s node%s %s%s%s", u->k->name, n > 1 ? "s" : "",
	    u->make.v[0], n > 1 ? "…" : "", u->spot ? ", spot at most" : "");
	struct stack_price_item pi[2] = { { what, u->itype, (int)n },
	    { "root volumes", "ebs-gp3-gb-month",
	    (int)(u->disk * (long long)n) } };
	int r = stack_confirm_price(&u->st, pi, 2);

	free(what);
	return r != 0;
}

static int
up_role(void *job)
{
	static const char *const pol[] = { IAM_POLICY_CLOUDWATCH_AGENT, NULL };
	struct iam_role_spec spec = { "node", "ec2.amazonaws.com", pol, 1 };
	struct node_up *u = job;

	return iam_ensure(&u->st, &spec, NULL, &u->profile) != 0;
}

static int
up_user_data(void *job)
{
	struct node_up *u = job;

	u->ls = xcalloc(u->make.n, sizeof *u->ls);
	u->uds = xcalloc(u->make.n, sizeof *u->uds);
	for (size_t i = 0; i < u->make.n; i++) {
		struct node_launch *l = &u->ls[i];
		struct userdata_var as = { "AUTOSTOP", u->autostop };
		u->uds[i] = node_user_data(&u->st, "scripts/userdata/node.sh",
		    u->make.v[i], &as, 1);
		if (u->uds[i] == NULL)
			return 1;
		l->role = u->make.v[i];
		l->instance_type = u->itype;
		l->ami = u->ami;
		l->profile = u->profile;
		l->user_data = u->uds[i];
		l->disk_gb = (int)u->disk;
		l->spot = u->spot;
		l->shutdown_terminates = u->down;
	}
	return 0;
}

static int
up_launch(void *job)
{
	struct node_up *u = job;

	return node_launch_many(&u->st, u->ls, u->make.n) != 0;
}

static int
up_record(void *job)
{
	struct node_up *u = job;

	for (size_t i = 0; i < u->make.n; i++) {
		const char *name = u->make.v[i];
		stack_set_attr(&u->st, name, "kind", u->k->name);
		stack_set_attr(&u->st, name, "ami_name", u->img.name);
		stack_set_attr(&u->st, name, "login_user", u->img.user);
		if (u->spot)
			stack_set_attr(&u->st, name, "spot", "true");
		stack_set_attr(&u->st, name, "autostop", u->autostop);
		if (u->down)
			stack_set_attr(&u->st, name, "autostop_action",
			    "terminate");
	}
	stack_save(&u->st);
	*u->result = stack_result(&u->st);
	return 0;
}

/* ---- stop, start, down, status, ls ----------------------------------------- */

static int
node_power(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result,
    const char *action, const char *want)
{
	struct stack st;
	const char *name, *id;
	cJSON *p, *res = NULL;
	struct aws_error err;
	int rc = 1;

	if (open_named(ctx, a, &st, &name) != 0)
		return 1;
	id = stack_id(&st, name);
	if (st.dry_run) {
		stack_plan(&st, action, name, "%s", id);
		stack_wait_state(&st, name, want, 600);
		*result = stack_result(&st);
		stack_close(&st);
		return 0;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "InstanceId.1", id);
	if (stack_call(&st, "ec2", action, p, &res, &err) != 0) {
		cJSON_Delete(p);
		stack_fail(&st, name, &err);
		goto out;
	}
	cJSON_Delete(p);
	cJSON_Delete(res);
	if (strcmp(want, "stopped") == 0) {
		/* Compute billing ends now (a start is seen when it runs). */
		stack_set_attr(&st, name, "state", "stopping");
		stack_meter_mark(stack_rec(&st, name), STACK_BILL_STORAGE,
		    stack_now());
	}
	if (stack_wait_state(&st, name, want, 600) != 0)
		goto out;
	stack_save(&st);
	*result = node_row(ctx, stack_rec(&st, name));
	rc = 0;
out:
	stack_close(&st);
	return rc;
}

static int
node_stop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return node_power(ctx, a, result, "StopInstances", "stopped");
}

static int
node_start(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return node_power(ctx, a, result, "StartInstances", "running");
}

static int
node_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist one, left;
	const char *name;
	int rc = 1;

	if (open_named(ctx, a, &st, &name) != 0)
		return 1;
	strlist_init(&one);
	strlist_init(&left);
	strlist_add(&one, name);
	/* The last node takes the node role and profile with it (asked
	 * about together). */
	node_names(&st, NULL, &left);
	if (stackcmd_confirm_delete(&st, &one, left.n == 1 ? "node" : NULL) !=
	    0)
		goto out;
	strlist_release(&left);
	if (stack_delete(&st, &one) != 0)
		goto out;
	node_names(&st, NULL, &left);
	if (st.dry_run) {
		for (size_t i = 0; i < left.n; i++)
			if (strcmp(left.v[i], name) != 0)
				goto done;
	} else if (left.n > 0)
		goto done;
	if (iam_remove(&st, "node") != 0)
		goto out;
done:
	*result = stack_result(&st);
	rc = 0;
out:
	strlist_release(&one);
	strlist_release(&left);
	stack_close(&st);
	return rc;
}

static int
node_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	const char *name;
	struct aws_error err;
	cJSON *rec;
	int r;

	if (open_named(ctx, a, &st, &name) != 0)
		return 1;
	rec = stack_rec(&st, name);
	memset(&err, 0, sizeof err);
	r = stack_type_refresh(&st, rec, &err);
	if (r < 0) {
		stack_fail(&st, name, &err);
		stack_close(&st);
		return 1;
	}
	if (r == STACK_GONE)
		stack_set_attr(&st, name, "state", "gone");
	stack_save(&st);
	*result = node_row(ctx, rec);
	stack_close(&st);
	return 0;
}

static int
node_ls(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist names;
	cJSON *arr = cJSON_CreateArray();
	int refresh = a->cmd->opts == ls_opts && cmd_opt_bool(a, "refresh");

	if (stack_open(ctx, a, &st) != 0) {
		cJSON_Delete(arr);
		return 1;
	}
	strlist_init(&names);
	node_names(&st, NULL, &names);
	if (refresh) {		/* one DescribeInstances for them all */
		int *res = xcalloc(names.n ? names.n : 1, sizeof *res);
		const char *bad;
		struct aws_error err;
		(void)stack_refresh_many(&st, (const char *const *)names.v,
		    names.n, res, &err, &bad);
		aws_error_release(&err);
		for (size_t i = 0; i < names.n; i++)
			if (res[i] == STACK_GONE)
				stack_set_attr(&st, names.v[i], "state", "gone");
		free(res);
	}
	for (size_t i = 0; i < names.n; i++)
		cJSON_AddItemToArray(arr, node_row(ctx, stack_rec(&st,
		    names.v[i])));
	if (refresh)
		stack_save(&st);
	if (names.n == 0 && !a->json) {
		/* Not an empty table that reads like a hang or a bug. */
		cJSON_Delete(arr);
		arr = cJSON_CreateString("");
		fprintf(stderr, "node: no nodes in workspace '%s' (node KIND "
		    "up starts one)\n", st.ws);
	}
	strlist_release(&names);
	stack_close(&st);
	*result = arr;
	return 0;
}

/* `node` alone lists; `node NAME` shows one. */
static int
node_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	if (a->argc == 0)
		return node_ls(ctx, a, result);
	if (a->argc > 1)	/* a known verb would have been parsed as one */
		return cmd_usage_error(ctx, a, "unknown verb '%s' (up for a "
		    "kind; stop, start, down, status for a node)", a->argv[1]);
	return node_status(ctx, a, result);
}

/* ---- the image ------------------------------------------------------------ */

static void
node_image_release(struct node_image *im)
{
	free(im->id);
	free(im->name);
	free(im->date);
	free(im->user);
	memset(im, 0, sizeof *im);
}

static void
image_take(struct node_image *im, const cJSON *img)
{
	const cJSON *v;

	node_image_release(im);
	v = cJSON_GetObjectItemCaseSensitive(img, "imageId");
	im->id = xstrdup(cJSON_IsString(v) ? v->valuestring : "?");
	v = cJSON_GetObjectItemCaseSensitive(img, "name");
	im->name = xstrdup(cJSON_IsString(v) ? v->valuestring : "?");
	v = cJSON_GetObjectItemCaseSensitive(img, "creationDate");
	im->date = cJSON_IsString(v) ? xstrndup(v->valuestring, 10) :
	    xstrdup("?");
	im->user = xstrdup(image_login_user(img));
}

static const char *
istr(const cJSON *img, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(img, key);
	return cJSON_IsString(v) ? v->valuestring : "?";
}

/* The AMI id an SSM public parameter holds, or NULL. */
static char *
ssm_ami(struct stack *st, const char *param)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	struct aws_error err;
	const cJSON *v;
	char *id = NULL;

	cJSON_AddStringToObject(p, "Name", param);
	if (stack_call(st, "ssm", "GetParameter", p, &res, &err) == 0) {
		v = stack_path(res, "Parameter.Value");
		if (cJSON_IsString(v) && strncmp(v->valuestring, "ami-", 4) == 0)
			id = xstrdup(v->valuestring);
	} else
		aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(res);
	return id;
}

/* DescribeImages of owner whose names match any pattern. */
static int
describe_images(struct stack *st, const char *owner,
    const char *const *patterns, const char *image_id, int deprecated,
    cJSON **res)
{
	cJSON *p = cJSON_CreateObject();
	struct aws_error err;
	int rc;

	if (image_id != NULL)
		cJSON_AddStringToObject(p, "ImageId.1", image_id);
	else {
		if (owner != NULL)
			cJSON_AddStringToObject(p, "Owner.1", owner);
		cJSON_AddStringToObject(p, "Filter.1.Name", "name");
		for (size_t i = 0; patterns[i] != NULL; i++) {
			char key[48];
			snprintf(key, sizeof key, "Filter.1.Value.%zu", i + 1);
			cJSON_AddStringToObject(p, key, patterns[i]);
		}
	}
	if (deprecated)
		cJSON_AddStringToObject(p, "IncludeDeprecated", "true");
	rc = stack_call(st, "ec2", "DescribeImages", p, res, &err);
	cJSON_Delete(p);
	if (rc != 0)
		return stack_fail(st, "cannot list images", &err);
	return 0;
}

/* The image for a node of kind k as itype: --ami as given (described for
 * its name and user when EC2 knows it), else the kind's SSM parameter when
 * its image supports the type, else the newest match of the kind's
 * patterns by image_choose. -1 after cmd_error saying what was tried and
 * what to do. */
static int
node_pick_image(struct stack *st, const struct node_kind *k,
    const char *itype, const char *ami_opt, int include_dep,
    struct node_image *out)
{
	const char *const *pats = (const char *const *)k->patterns;
	struct image_pick pick;
	cJSON *res = NULL;
	char *fam = image_family(itype);
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (ami_opt != NULL || k->ssm != NULL) {
		char *id = ami_opt ? xstrdup(ami_opt) : NULL;
		const cJSON *img = NULL;
		if (id == NULL)
			id = ssm_ami(st, k->ssm);
		if (id != NULL && describe_images(st, NULL, NULL, id, 1,
		    &res) == 0)
			img = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
			    res, "imagesSet"), 0);
		if (id != NULL && (ami_opt != NULL || (img != NULL &&
		    image_supports(img, fam) != 0))) {
			if (img != NULL)
				image_take(out, img);
			else {
				out->id = xstrdup(id);
				out->name = xstrdup("?");
				out->date = xstrdup("?");
				out->user = xstrdup("ubuntu");
			}
			free(id);
			rc = 0;
			goto done;
		}
		free(id);
		cJSON_Delete(res);
		res = NULL;
	}
	if (pats[0] == NULL) {
		cmd_error(st->ctx, "no AMI for %s: the kind has no ami_name "
		    "patterns; give one with --ami, or ami_name in node_kinds",
		    k->name);
		goto done;
	}
	if (describe_images(st, k->owner, pats, NULL, include_dep, &res) != 0)
		goto done;
	image_choose(cJSON_GetObjectItemCaseSensitive(res, "imagesSet"), pats,
	    itype, include_dep, time(NULL), &pick);
	if (pick.best != NULL) {
		image_take(out, pick.best);
		rc = 0;
		goto done;
	}
	if (pick.unsupported == NULL) {
		struct buf tried;
		buf_init(&tried);
		for (size_t i = 0; pats[i] != NULL; i++)
			buf_printf(&tried, "%s'%s'", i ? ", " : "", pats[i]);
		cmd_error(st->ctx, "no AMI for %s: tried %s (owner %s); give "
		    "one with --ami, or ami_name in node_kinds", k->name,
		    tried.data, k->owner ? k->owner : "any");
		buf_release(&tried);
		goto done;
	}
	unsupported_error(st, k, itype, fam, include_dep, &pick);
done:
	cJSON_Delete(res);
	free(fam);
	return rc;
}

/* Images match the kind's patterns, but none lists itype: say which did
 * last (looking at deprecated ones too) and what to do. */
static void
unsupported_error(struct stack *st, const struct node_kind *k,
    const char *itype, const char *fam, int include_dep,
    const struct image_pick *pick)
{
	const char *const *pats = (const char *const *)k->patterns;
	cJSON *res2 = NULL;
	const cJSON *u = pick->unsupported, *last = pick->last_supported;
	char *list = image_supported_list(u);
	char *near = image_nearest_type(u, itype);
	struct buf b;

	if (last == NULL && !include_dep && describe_images(st,
	    k->owner, pats, NULL, 1, &res2) == 0) {
		struct image_pick all;
		image_choose(cJSON_GetObjectItemCaseSensitive(res2,
		    "imagesSet"), pats, itype, 1, time(NULL), &all);
		last = all.last_supported;
	}
	buf_init(&b);
	buf_printf(&b, "no current image for %s supports %s: the "
	    "newest, %s (%.10s), lists %s; ", k->name, itype,
	    istr(u, "name"), istr(u, "creationDate"),
	    list ? list : "other types");
	if (last != NULL)
		buf_printf(&b, "the last that listed %s is %s (%s, "
		    "%.10s%s): use it with --ami %s%s", fam,
		    istr(last, "name"), istr(last, "imageId"),
		    istr(last, "creationDate"),
		    image_deprecated(last, time(NULL)) ?
		    ", deprecated" : "",
		    istr(last, "imageId"), include_dep ? "" :
		    " or --include-deprecated");
	else
		buf_printf(&b, "no image listing %s is left, not even "
		    "a deprecated one", fam);
	if (near != NULL)
		buf_printf(&b, ", or a supported type (nearest: --type "
		    "%s)", near);
	cmd_error(st->ctx, "%s", b.data);
	buf_release(&b);
	free(list);
	free(near);
	cJSON_Delete(res2);
}

/* ---- where a type can start ----------------------------------------------- */

/* The AZs of the region offering itype (DescribeInstanceTypeOfferings),
 * sorted. -1 after cmd_error. */
static int
type_azs(struct stack *st, const char *itype, struct strlist *out)
{
	cJSON *p = cJSON_CreateObject(), *items = NULL, *it;
	struct aws_error err;
	int rc;

	cJSON_AddStringToObject(p, "LocationType", "availability-zone");
	cJSON_AddStringToObject(p, "Filter.1.Name", "instance-type");
	cJSON_AddStringToObject(p, "Filter.1.Value.1", itype);
	memset(&err, 0, sizeof err);
	st->ncalls++;
	rc = aws_paginate(st->aws, "ec2", "DescribeInstanceTypeOfferings", p,
	    "instanceTypeOfferingSet", 0, &items, &err);
	cJSON_Delete(p);
	if (rc != 0)
		return stack_fail(st, "cannot list instance type offerings",
		    &err);
	cJSON_ArrayForEach(it, items) {
		const cJSON *az = cJSON_GetObjectItemCaseSensitive(it, "location");
		if (cJSON_IsString(az) && !strlist_has(out, az->valuestring))
			strlist_add(out, az->valuestring);
	}
	strlist_sort(out);
	cJSON_Delete(items);
	return 0;
}

static char *
join(const struct strlist *l, const char *sep)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < l->n; i++)
		buf_printf(&b, "%s%s", i ? sep : "", l->v[i]);
	if (b.data == NULL)
		buf_printf(&b, "%s", "");
	return b.data;
}

/* A kind whose type the workspace's AZ does not offer is refused before
 * anything is created (RunInstances would fail with Unsupported after the
 * role and profile exist). A type the region lists in no AZ at all is let
 * through with a warning: the offerings may be incomplete (moto), and
 * RunInstances will say. */
static int
check_offered(struct stack *st, const char *kind, const char *itype)
{
	const char *az = stack_attr(stack_rec(st, "subnet-private"), "az");
	struct strlist azs;
	int rc = 0;

	if (az == NULL || *az == '<')
		return 0;
	strlist_init(&azs);
	if (type_azs(st, itype, &azs) != 0)
		rc = -1;
	else if (azs.n == 0)
		shell_warn(st->ctx, "node: warning: %s is offered in no "
		    "availability zone of %s (DescribeInstanceTypeOfferings); "
		    "trying anyway", itype, st->region);
	else if (!strlist_has(&azs, az)) {
		char *l = join(&azs, ", ");
		cmd_error(st->ctx, "%s (%s) is not offered in %s, the "
		    "workspace's availability zone; it is offered in %s of %s "
		    "(a workspace for it: 'workspace NEW', then 'vpc up --types "
		    "%s')", kind, itype, az, l, st->region, itype);
		free(l);
		rc = -1;
	}
	strlist_release(&azs);
	return rc;
}

/* After a failed launch: InsufficientInstanceCapacity is AWS being out of
 * that type in that AZ for now; name the AZs that offer it ("Insufficient
 * instance capacity", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/troubleshooting-launch.html#troubleshooting-launch-capacity). */
static void
capacity_hint(struct stack *st, const struct node_launch *ls, size_t n)
{
	const char *az = stack_attr(stack_rec(st, "subnet-private"), "az");
	const char *name = st->ui.cmd ? st->ui.cmd : "node";
	struct strlist azs, other;
	char *old, *l;
	size_t skip;

	if (n == 0 || st->fail.code == NULL || strcmp(st->fail.code,
	    "InsufficientInstanceCapacity") != 0 || st->ctx->error == NULL)
		return;
	old = xstrdup(st->ctx->error);
	skip = strncmp(old, name, strlen(name)) == 0 &&
	    strncmp(old + strlen(name), ": ", 2) == 0 ? strlen(name) + 2 : 0;
	strlist_init(&azs);
	strlist_init(&other);
	if (type_azs(st, ls[0].instance_type, &azs) == 0) {
		for (size_t i = 0; i < azs.n; i++)
			if (az == NULL || strcmp(azs.v[i], az) != 0)
				strlist_add(&other, azs.v[i]);
		l = join(&other, ", ");
		if (other.n > 0)
			cmd_error(st->ctx, "%s; AWS has no %s capacity in %s "
			    "now: try again later, or in a workspace in %s "
			    "('vpc up --az %s')", old + skip,
			    ls[0].instance_type, az ? az : "this zone", l,
			    other.v[0]);
		else
			cmd_error(st->ctx, "%s; AWS has no %s capacity in %s "
			    "now and no other zone of %s offers it: try again "
			    "later", old + skip, ls[0].instance_type,
			    az ? az : "this zone", st->region);
		free(l);
	} else
		cmd_error(st->ctx, "%s", old + skip);
	free(old);
	strlist_release(&azs);
	strlist_release(&other);
}

/* ---- launching (node.h) -------------------------------------------------- */

static char *
root_device(struct stack *st, const char *ami)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL;
	const cJSON *d;
	struct aws_error err;
	char *r = NULL;

	cJSON_AddStringToObject(p, "ImageId.1", ami);
	if (stack_call(st, "ec2", "DescribeImages", p, &res, &err) == 0) {
		d = stack_path(res, "imagesSet.0.rootDeviceName");
		if (cJSON_IsString(d))
			r = xstrdup(d->valuestring);
	} else
		aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(res);
	return r != NULL ? r : xstrdup("/dev/sda1");
}

/* The user-data as RunInstances takes it (base64, in *b64 when not NULL)
 * and the bytes EC2 counts against its 16 KB: the script, or gzip of it
 * when the script is over (cloud-init uncompresses gzip user-data, "Gzip
 * compressed content", cloud-init docs; so does the lab). */
static size_t
user_data_wire(const char *text, char **b64)
{
	size_t len = strlen(text), glen;
	char *gz;

	if (len > USERDATA_MAX && gzip_pack(text, len, &gz, &glen) == 0) {
		if (b64 != NULL)
			*b64 = base64_encode(gz, glen);
		free(gz);
		return glen;
	}
	if (b64 != NULL)
		*b64 = base64_encode(text, len);
	return len;
}

static cJSON *
launch_params(struct stack *st, const struct node_launch *l,
    const char *root, const char *subnet, const char *sg, const char *key)
{
	cJSON *p = cJSON_CreateObject(), *nis, *ni, *sgs, *md, *bdm, *b, *ebs;
	char *ud;

	(void)user_data_wire(l->user_data, &ud);

	(void)st;
	cJSON_AddStringToObject(p, "ImageId", l->ami);
	cJSON_AddStringToObject(p, "InstanceType", l->instance_type);
	cJSON_AddStringToObject(p, "MinCount", "1");
	cJSON_AddStringToObject(p, "MaxCount", "1");
	/* Private subnet, and no public address even if the subnet says so. */
	nis = cJSON_AddArrayToObject(p, "NetworkInterface");
	ni = cJSON_CreateObject();
	cJSON_AddStringToObject(ni, "DeviceIndex", "0");
	cJSON_AddStringToObject(ni, "SubnetId", subnet);
	cJSON_AddStringToObject(ni, "AssociatePublicIpAddress", "false");
	cJSON_AddStringToObject(ni, "DeleteOnTermination", "true");
	sgs = cJSON_AddArrayToObject(ni, "SecurityGroupId");
	cJSON_AddItemToArray(sgs, cJSON_CreateString(sg));
	cJSON_AddItemToArray(nis, ni);
	md = cJSON_AddObjectToObject(p, "MetadataOptions");
	cJSON_AddStringToObject(md, "HttpTokens", "required");
	cJSON_AddStringToObject(md, "HttpEndpoint", "enabled");
	cJSON_AddStringToObject(md, "HttpPutResponseHopLimit", "2");
	if (l->profile != NULL)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(p,
		    "IamInstanceProfile"), "Name", l->profile);
	if (key != NULL)
		cJSON_AddStringToObject(p, "KeyName", key);
	if (l->disk_gb > 0) {
		char gb[16];
		snprintf(gb, sizeof gb, "%d", l->disk_gb);
		bdm = cJSON_AddArrayToObject(p, "BlockDeviceMapping");
		b = cJSON_CreateObject();
		cJSON_AddStringToObject(b, "DeviceName", root);
		ebs = cJSON_AddObjectToObject(b, "Ebs");
		cJSON_AddStringToObject(ebs, "VolumeSize", gb);
		cJSON_AddStringToObject(ebs, "VolumeType", "gp3");
		cJSON_AddStringToObject(ebs, "Encrypted", "true");
		cJSON_AddStringToObject(ebs, "DeleteOnTermination", "true");
		cJSON_AddItemToArray(bdm, b);
	}
	if (l->spot) {
		cJSON *mo = cJSON_AddObjectToObject(p, "InstanceMarketOptions");
		cJSON *so;
		cJSON_AddStringToObject(mo, "MarketType", "spot");
		so = cJSON_AddObjectToObject(mo, "SpotOptions");
		/* persistent + stop: `node NAME start` works after a stop */
		cJSON_AddStringToObject(so, "SpotInstanceType", "persistent");
		cJSON_AddStringToObject(so, "InstanceInterruptionBehavior",
		    "stop");
	}
	/* A shutdown on the node (autostop's) stops it: the disk and /efs
	 * stay; with --autostop-down it terminates it (the root volume goes
	 * too, DeleteOnTermination). "Change the instance initiated shutdown
	 * behavior", EC2 User Guide (terminating-instances.html#Using_Changing
	 * InstanceInitiatedShutdownBehavior). */
	cJSON_AddStringToObject(p, "InstanceInitiatedShutdownBehavior",
	    l->shutdown_terminates ? "terminate" : "stop");
	cJSON_AddStringToObject(p, "UserData", ud);
	free(ud);
	return p;
}

int
node_launch_many(struct stack *st, const struct node_launch *ls, size_t n)
{
	const char *subnet, *sg, *key;
	struct stack_create *cs;
	char **sums, *root = NULL;
	const char **roles;
	size_t nw = 0;
	int rc = -1;

	if ((subnet = stack_need(st, "subnet-private", "vpc up")) == NULL ||
	    (sg = stack_need(st, n > 0 && ls[0].sg_role != NULL ?
	    ls[0].sg_role : "sg-nodes", "vpc up")) == NULL)
		return -1;
	key = stack_id(st, "key");
	if (n > 0 && ls[0].disk_gb > 0)
		root = root_device(st, ls[0].ami);
	cs = xcalloc(n, sizeof *cs);
	sums = xcalloc(n, sizeof *sums);
	roles = xcalloc(n, sizeof *roles);
	for (size_t i = 0; i < n; i++) {
		if (user_data_wire(ls[i].user_data, NULL) > USERDATA_MAX) {
			cmd_error(st->ctx, "user-data for %s is %zu bytes (%zu "
			    "compressed); EC2 takes at most %d", ls[i].role,
			    strlen(ls[i].user_data), user_data_wire(
			    ls[i].user_data, NULL), USERDATA_MAX);
			goto out;
		}
		sums[i] = xasprintf("%s %s in %s, no public IP, IMDSv2, "
		    "profile %s%s", ls[i].instance_type, ls[i].ami, subnet,
		    ls[i].profile ? ls[i].profile : "-",
		    ls[i].spot ? ", spot" : "");
	}
	/* A profile made a moment ago may be unknown to EC2 for a few
	 * seconds: stack_create_many retries that (same ClientToken, no
	 * duplicate), bounded; see stack_retry_kind. */
	for (size_t i = 0; i < n; i++) {
		cs[i] = (struct stack_create){
			.role = ls[i].role, .type = "instance",
			.service = "ec2", .action = "RunInstances",
			.params = launch_params(st, &ls[i], root, subnet, sg,
			    key),
			.token_member = "ClientToken",
			.tag_style = STACK_TAG_SPEC,
			.tag_type = "instance",
			.item_path = "instancesSet.0",
			.id_key = "instanceId",
			.attrs = stack_instance_attrs,
			.summary = sums[i],
		};
	}
	if (stack_create_many(st, cs, n) != 0) {
		capacity_hint(st, ls, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = stack_attr(stack_rec(st, ls[i].role), "state");
		stack_set_attr(st, ls[i].role, "ami", ls[i].ami);
		if (ls[i].disk_gb > 0) {	/* cost counts the root volume */
			char gb[16];
			snprintf(gb, sizeof gb, "%d", ls[i].disk_gb);
			stack_set_attr(st, ls[i].role, "disk_gb", gb);
			stack_set_attr(st, ls[i].role, "disk_type", "gp3");
		}
		if (st->dry_run || s == NULL || strcmp(s, "running") != 0)
			roles[nw++] = ls[i].role;
	}
	if (nw > 0 && stack_wait_states(st, roles, nw, "running",
	    NODE_WAIT_S) != 0)
		goto out;
	/* A spot node's request, for status and for down (which cancels it
	 * before terminating). */
	for (size_t i = 0; i < n && !st->dry_run; i++) {
		struct aws_error err;
		cJSON *rec = stack_rec(st, ls[i].role);
		if (!ls[i].spot || rec == NULL)
			continue;
		memset(&err, 0, sizeof err);
		if (stack_spot_lookup(st, rec, &err) < 0)
			aws_error_release(&err);
	}
	stack_save(st);
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(sums[i]);
	free(sums);
	free(cs);
	free(roles);
	free(root);
	return rc;
}

void
node_efs(struct stack *st, const char **id, const char **dns, const char **ip)
{
	static const char *const ip_keys[] = { "ip", "ip_address",
	    "private_ip", NULL };
	static char buf[256];
	cJSON *mt = stack_rec(st, "mount-target");

	if ((*id = stack_id(st, "efs")) == NULL)
		*id = "";
	*dns = stack_attr(stack_rec(st, "efs"), "dns_name");
	if (*dns == NULL && **id != '\0' && **id != '<') {
		/* The documented name, when the record has none. */
		snprintf(buf, sizeof buf, "%s.efs.%s.amazonaws.com", *id,
		    st->region);
		*dns = buf;
	}
	if (*dns == NULL)
		*dns = "";
	*ip = NULL;
	for (size_t i = 0; mt != NULL && ip_keys[i] != NULL && *ip == NULL; i++)
		*ip = stack_attr(mt, ip_keys[i]);
	if (*ip == NULL)
		*ip = "";
}

char *
node_user_data(struct stack *st, const char *path, const char *node,
    const struct userdata_var *extra, size_t nextra)
{
	const char *tmpl = userdata_file(path), *id, *dns, *ip;
	struct userdata_var *vars;
	size_t n = 0;
	char *out, *cause = NULL;

	if (tmpl == NULL) {
		cmd_error(st->ctx, "%s is not built into this mlsh", path);
		return NULL;
	}
	node_efs(st, &id, &dns, &ip);
	vars = xcalloc(nextra + 12, sizeof *vars);
	for (size_t i = 0; i < nextra; i++)
		vars[n++] = extra[i];	/* first match wins: extra overrides */
	vars[n++] = (struct userdata_var){ "WORKSPACE", st->ws };
	vars[n++] = (struct userdata_var){ "NODE", node };
	vars[n++] = (struct userdata_var){ "REGION", st->region };
	vars[n++] = (struct userdata_var){ "EFS_ID", id };
	vars[n++] = (struct userdata_var){ "EFS_DNS", dns };
	vars[n++] = (struct userdata_var){ "EFS_IP", ip };
	vars[n++] = (struct userdata_var){ "NAMESPACE", "mlsh" };
	vars[n++] = (struct userdata_var){ "METRICS",
	    userdata_file("scripts/userdata/metrics.sh") };
	vars[n++] = (struct userdata_var){ "AUTOSTOP_SH",
	    userdata_file("scripts/userdata/autostop.sh") };
	vars[n++] = (struct userdata_var){ "NOTEBOOK_AUTOSTOP",
	    userdata_file("scripts/notebook-autostop.py") };
	out = userdata_render(tmpl, vars, n, &cause);
	free(vars);
	if (out == NULL) {
		cmd_error(st->ctx, "%s: %s", path, cause);
		free(cause);
	} else if (strlen(out) > USERDATA_MAX)
		/* The comments are for the reviewed files in scripts/. */
		userdata_strip_comments(out);
	return out;
}

int
node_resolve_ami(struct stack *st, const char *what, const char *ssm,
    const char *owner, const char *const *patterns, char **ami)
{
	struct buf tried;
	int nerr0 = st->nerrors;

	*ami = NULL;
	buf_init(&tried);
	if (ssm != NULL)
		buf_printf(&tried, "SSM %s", ssm);
	for (size_t i = 0; patterns != NULL && patterns[i] != NULL; i++) {
		if (stack_resolve_ami(st, i == 0 ? ssm : NULL, owner,
		    patterns[i], ami) == 0)
			break;
		if (st->nerrors != nerr0) {
			/* a failed call, not an empty answer */
			buf_release(&tried);
			return -1;
		}
		buf_printf(&tried, "%s'%s'", tried.len ? ", " : "",
		    patterns[i]);
	}
	if (*ami == NULL) {
		cmd_error(st->ctx, "no AMI for %s: tried %s (owner %s); give "
		    "one with --ami, or ami_name in node_kinds", what,
		    tried.len ? tried.data : "nothing", owner ? owner : "any");
		buf_release(&tried);
		return -1;
	}
	buf_release(&tried);
	return 0;
}

/* ---- kinds ---------------------------------------------------------------- */

static void
kind_add(struct node_kinds *ks, const char *name, const char *type,
    const char *ssm, const char *owner, const char *const *pats, int disk,
    const char *about)
{
	struct node_kind *k = NULL;

	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->v[i].name, name) == 0) {
			k = &ks->v[i];	/* the rc file overrides a built-in */
			free(k->name);
			free(k->type);
			free(k->ssm);
			free(k->owner);
			free(k->about);
			for (size_t p = 0; p < 4; p++)
				free(k->patterns[p]);
			break;
		}
	if (k == NULL) {
		ks->v = xreallocarray(ks->v, ks->n + 1, sizeof *ks->v);
		k = &ks->v[ks->n++];
	}
	memset(k, 0, sizeof *k);
	k->name = xstrdup(name);
	k->type = xstrdup(type);
	k->ssm = ssm ? xstrdup(ssm) : NULL;
	k->owner = xstrdup(owner ? owner : "amazon");
	for (size_t p = 0; pats != NULL && pats[p] != NULL && p < 3; p++)
		k->patterns[p] = xstrdup(pats[p]);
	k->disk = disk > 0 ? disk : 200;
	k->about = xstrdup(about ? about : "");
}

static int
kind_name_ok(const char *s)
{
	if (!islower((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* String field of the table on top of the stack, or NULL. Borrowed until
 * the next pop. */
static const char *
lua_field_str(lua_State *L, const char *key)
{
	const char *s = NULL;
	if (lua_getfield(L, -1, key) == LUA_TSTRING)
		s = lua_tostring(L, -1);
	lua_pop(L, 1);
	return s;
}

static void
kinds_load(struct mlsh_ctx *ctx, struct node_kinds *ks)
{
	/* DLAMI names as AWS publishes them ("Deep Learning AMI Habana
	 * PyTorch 1.13.1 SynapseAI 1.9.0 (Ubuntu 20.04) 20230509", "Deep
	 * Learning OSS Nvidia Driver AMI GPU PyTorch 2.3.1 (Ubuntu 20.04)
	 * 20240825"); image_choose skips TensorFlow and Amazon Linux ones
	 * and those whose description does not list the type. */
	static const char *const dl1[] = { "Deep Learning AMI Habana PyTorch*",
	    "*Habana*PyTorch*", NULL };
	static const char *const p3[] = { "Deep Learning AMI GPU PyTorch*",
	    "Deep Learning OSS Nvidia Driver AMI GPU PyTorch*", NULL };
	lua_State *L = ctx->L;
	int top;

	memset(ks, 0, sizeof *ks);
	kind_add(ks, "dl1", "dl1.24xlarge", NULL, "amazon", dl1, 200,
	    "Habana Gaudi (8 HPUs), Habana Deep Learning AMI");
	kind_add(ks, "p3", "p3.8xlarge", "/aws/service/deeplearning/ami/"
	    "x86_64/oss-nvidia-driver-gpu-pytorch-2.3-ubuntu-20.04/latest/"
	    "ami-id", "amazon", p3, 200,
	    "4 NVIDIA V100, GPU PyTorch Deep Learning AMI");
	if (L == NULL)
		return;
	top = lua_gettop(L);
	if (lua_getglobal(L, "node_kinds") == LUA_TTABLE) {
		lua_pushnil(L);
		while (lua_next(L, -2) != 0) {
			const char *name = lua_type(L, -2) == LUA_TSTRING ?
			    lua_tostring(L, -2) : NULL;
			if (name != NULL && kind_name_ok(name) &&
			    lua_istable(L, -1)) {
				const char *pats[4] = { NULL, NULL, NULL, NULL };
				const char *type = lua_field_str(L, "type");
				int disk = 0;
				/* ami_name: a pattern or a list of them */
				if (lua_getfield(L, -1, "ami_name") ==
				    LUA_TSTRING)
					pats[0] = lua_tostring(L, -1);
				else if (lua_istable(L, -1))
					for (int i = 1; i <= 3; i++) {
						if (lua_rawgeti(L, -1, i) ==
						    LUA_TSTRING)
							pats[i - 1] =
							    lua_tostring(L, -1);
						lua_pop(L, 1);
					}
				if (lua_getfield(L, -2, "disk") == LUA_TNUMBER)
					disk = (int)lua_tointeger(L, -1);
				lua_pop(L, 1);
				if (type != NULL)
					kind_add(ks, name, type,
					    lua_field_str(L, "ssm") ?
					    lua_field_str(L, "ssm") : NULL,
					    lua_field_str(L, "owner"), pats[0] ?
					    pats : NULL, disk,
					    lua_field_str(L, "description") ?
					    lua_field_str(L, "description") :
					    "from ~/.mlshrc");
				lua_pop(L, 1);	/* ami_name */
			}
			lua_pop(L, 1);
		}
	}
	lua_settop(L, top);
}

static void
kinds_release(struct node_kinds *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->v[i].name);
		free(ks->v[i].type);
		free(ks->v[i].ssm);
		free(ks->v[i].owner);
		free(ks->v[i].about);
		for (size_t p = 0; p < 4; p++)
			free(ks->v[i].patterns[p]);
	}
	free(ks->v);
	memset(ks, 0, sizeof *ks);
}

static const struct node_kind *
kind_find(const struct node_kinds *ks, const char *name)
{
	for (size_t i = 0; i < ks->n; i++)
		if (strcmp(ks->v[i].name, name) == 0)
			return &ks->v[i];
	return NULL;
}

/* ---- names and rows ------------------------------------------------------- */

/* "dl1-12" -> kind "dl1": 0; anything else -1. */
static int
node_name_split(const char *name, char *kind, size_t ksz)
{
	const char *dash = strrchr(name, '-');
	size_t n;

	if (dash == NULL || dash == name || dash[1] == '\0' ||
	    (size_t)(dash - name) >= ksz)
		return -1;
	for (const char *p = dash + 1; *p; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	n = (size_t)(dash - name);
	memcpy(kind, name, n);
	kind[n] = '\0';
	return kind_name_ok(kind) ? 0 : -1;
}

static int
num_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	const char *dx = strrchr(x, '-'), *dy = strrchr(y, '-');
	int c = strncmp(x, y, (size_t)(dx - x) < (size_t)(dy - y) ?
	    (size_t)(dx - x) : (size_t)(dy - y));

	if (c != 0 || dx - x != dy - y)
		return c != 0 ? c : (int)((dx - x) - (dy - y));
	return atoi(dx + 1) - atoi(dy + 1);
}

/* Nodes in the workspace (of kind, or all): instance records named
 * <kind>-<n>, in the state's order. */
static void
node_names_of(cJSON *resources, const char *kind, struct strlist *out)
{
	const cJSON *rec;
	char k[64];

	cJSON_ArrayForEach(rec, resources) {
		const char *type = stack_attr(rec, "type");
		if (type == NULL || strcmp(type, "instance") != 0 ||
		    node_name_split(rec->string, k, sizeof k) != 0)
			continue;
		if (kind == NULL || strcmp(k, kind) == 0)
			strlist_add(out, rec->string);
	}
}

/* The nodes in order (dl1-2 before dl1-10). */
static void
node_names(struct stack *st, const char *kind, struct strlist *out)
{
	node_names_of(st->resources, kind, out);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, num_cmp);
}

void
node_list(const cJSON *resources, struct strlist *out)
{
	node_names_of((cJSON *)resources, NULL, out);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, num_cmp);
}

/* For completion: unsorted, as the engine sorts the candidates anyway (the
 * numeric sort was two thirds of a `node <Tab>` over 3,000 resources). */
static void
node_names_ctx(struct mlsh_ctx *ctx, struct strlist *out)
{
	char *cause = NULL;
	struct state *s = shell_state(ctx, &cause);

	free(cause);
	if (s != NULL)
		node_names_of(cJSON_GetObjectItemCaseSensitive(s->root,
		    "resources"), NULL, out);
}

static cJSON *
node_row(struct mlsh_ctx *ctx, const cJSON *rec)
{
	cJSON *o = cJSON_CreateObject();
	char k[64];
	const char *v;
	double h = stack_rec_hourly(stackcmd_prices(ctx), rec);

	cJSON_AddStringToObject(o, "name", rec->string ? rec->string :
	    (stack_attr(rec, "role") ? stack_attr(rec, "role") : "?"));
	cJSON_AddStringToObject(o, "id", (v = stack_attr(rec, "id")) ? v : "-");
	if (node_name_split(rec->string ? rec->string : "", k, sizeof k) != 0)
		snprintf(k, sizeof k, "-");
	cJSON_AddStringToObject(o, "kind", k);
	cJSON_AddStringToObject(o, "type",
	    (v = stack_attr(rec, "instance_type")) ? v : "-");
	cJSON_AddStringToObject(o, "state", (v = stack_attr(rec, "state")) ?
	    v : "-");
	cJSON_AddStringToObject(o, "private_ip",
	    (v = stack_attr(rec, "private_ip")) ? v : "-");
	cJSON_AddStringToObject(o, "az", (v = stack_attr(rec, "az")) ? v : "-");
	/* As `cost --json`: numbers, null when a price is unknown. */
	if (h < 0)
		cJSON_AddNullToObject(o, "usd_per_hour");
	else
		cJSON_AddNumberToObject(o, "usd_per_hour", h);
	h = stack_rec_accrued(stackcmd_prices(ctx), rec);
	if (h < 0)
		cJSON_AddNullToObject(o, "accrued_usd");
	else
		cJSON_AddNumberToObject(o, "accrued_usd", round(h * 1e4) / 1e4);
	return o;
}

/* Open the stack and check that argv[0] names a node of it. */
static int
open_named(struct mlsh_ctx *ctx, struct cmd_args *a, struct stack *st,
    const char **name)
{
	struct strlist names;
	struct buf b;
	const cJSON *rec;

	*name = a->argv[0];
	if (stack_open(ctx, a, st) != 0)
		return -1;
	rec = stack_rec(st, *name);
	if (rec != NULL && stack_id(st, *name) != NULL &&
	    stack_attr(rec, "type") != NULL &&
	    strcmp(stack_attr(rec, "type"), "instance") == 0) {
		char k[64];
		if (node_name_split(*name, k, sizeof k) == 0)
			return 0;
	}
	strlist_init(&names);
	buf_init(&b);
	node_names(st, NULL, &names);
	for (size_t i = 0; i < names.n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", names.v[i]);
	{
		struct node_kinds ks;
		kinds_load(ctx, &ks);
		if (kind_find(&ks, *name) != NULL)
			cmd_error(ctx, "'%s' is a kind; %s takes a node name "
			    "(%s)", *name, a->cmd->name, names.n ? b.data :
			    "none yet: node KIND up");
		else
			cmd_error(ctx, "no node '%s' in workspace '%s' (%s)",
			    *name, st->ws, names.n ? b.data : "no nodes yet");
		kinds_release(&ks);
	}
	buf_release(&b);
	strlist_release(&names);
	stack_close(st);
	return -1;
}

/* ---- completion, the entry ---------------------------------------------- */

static const char *const verbs_kind[] = { "up", NULL };
static const char *const verbs_node[] = { "stop", "start", "down", "status",
    "autostop", NULL };
static const char *const common_types[] = { "dl1.24xlarge", "p3.2xlarge",
    "p3.8xlarge", "p3.16xlarge", "p4d.24xlarge", "g5.xlarge", "g5.2xlarge",
    "g4dn.xlarge", "trn1.2xlarge", NULL };

/* No duplicate check here: the engine sorts and de-duplicates every
 * candidate list once (complete_line), where a look-up per added name made
 * `node <Tab>` quadratic in the number of nodes. */
static void
add_prefixed(struct strlist *out, const char *s, const char *prefix)
{
	if (str_startswith(s, prefix))
		strlist_add(out, s);
}

static void
node_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	struct node_kinds ks;
	struct strlist names;
	const char *sub = a->cmd != NULL && a->cmd != a->builtin ?
	    a->cmd->name : NULL;

	kinds_load(ctx, &ks);
	strlist_init(&names);
	node_names_ctx(ctx, &names);
	if (opt != NULL) {
		if (strcmp(opt, "type") == 0) {
			for (size_t i = 0; common_types[i]; i++)
				add_prefixed(out, common_types[i], prefix);
			for (size_t i = 0; i < ks.n; i++)
				add_prefixed(out, ks.v[i].type, prefix);
		} else if (strcmp(opt, "kind") == 0)
			for (size_t i = 0; i < ks.n; i++)
				add_prefixed(out, ks.v[i].name, prefix);
	} else if (sub == NULL && argi == 0) {
		/* node <TAB>: kinds and names (the engine adds verbs) */
		for (size_t i = 0; i < ks.n; i++)
			add_prefixed(out, ks.v[i].name, prefix);
		for (size_t i = 0; i < names.n; i++)
			add_prefixed(out, names.v[i], prefix);
	} else if (sub == NULL && argi == 1 && a->argc >= 1) {
		/* node dl1 <TAB>: up; node dl1-1 <TAB>: stop start … */
		const char *const *v = kind_find(&ks, a->argv[0]) ? verbs_kind :
		    strlist_has(&names, a->argv[0]) ? verbs_node : NULL;
		for (size_t i = 0; v != NULL && v[i]; i++)
			add_prefixed(out, v[i], prefix);
	} else if (sub != NULL && argi == 0) {
		if (strcmp(sub, "up") == 0)
			for (size_t i = 0; i < ks.n; i++)
				add_prefixed(out, ks.v[i].name, prefix);
		else if (strcmp(sub, "ls") != 0)
			for (size_t i = 0; i < names.n; i++)
				add_prefixed(out, names.v[i], prefix);
	}
	strlist_release(&names);
	kinds_release(&ks);
}

static const struct mlsh_opt up_opts[] = {
	OPT_NUM("count", 0, "N",
	    "nodes of the kind to have (default 1; existing ones count)",
	    1, NODE_MAX_COUNT, 1),
	{ "type", 't', OPT_STRING, NULL, "TYPE",
	    "instance type instead of the kind's" },
	{ "ami", 0, OPT_STRING, NULL, "AMI",
	    "image id instead of the one resolved at run time" },
	{ "spot", 0, OPT_BOOL, NULL, NULL,
	    "persistent spot instance (stops when interrupted)" },
	/* Its default is the kind's (node up checks that one). */
	OPT_NUM("disk", 0, "GB", "root volume size (default 200)", NODE_DISK_MIN,
	    NODE_DISK_MAX, 0),
	{ "autostop", 0, OPT_STRING, NULL, "DURATION",
	    "stop the node once idle this long (default 60m; 30m, 2h, off)" },
	{ "autostop-down", 0, OPT_BOOL, NULL, NULL,
	    "when idle, terminate the node instead of stopping it (its root "
	    "volume goes; /efs stays)" },
	{ "include-deprecated", 0, OPT_BOOL, NULL, NULL,
	    "let a deprecated image be chosen (the last one supporting the "
	    "type)" },
	{ "skip-quota-check", 0, OPT_BOOL, NULL, NULL,
	    "do not read the EC2 vCPU quotas (Service Quotas) first" },
	{ "kind", 'k', OPT_STRING, NULL, "KIND",
	    "the kind, as an option (for Lua: node.up{kind=\"dl1\"})" },
	OPT_DRY_RUN("print the plan, change nothing"),
	OPT_YES("do not ask before starting"),
	OPT_OVER_BUDGET,
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt power_opts[] = {
	OPT_DRY_RUN("print the plan, change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_FORCE("terminate without asking (needed without a terminal)"),
	OPT_DRY_RUN("print the plan, change nothing"),
	OPT_END
};

static const struct mlsh_opt ls_opts[2] = {
	{ "refresh", 'r', OPT_BOOL, NULL, NULL,
	    "ask AWS for each node's state first" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd node_subcmds[] = {
	{ .name = "up", .summary = "start nodes of a kind in the private subnet",
	    .args_usage = "KIND",
	    .help = "Makes the kind have --count nodes, named KIND-1, KIND-2 …; "
	    "existing ones count, so running it again creates nothing. Each "
	    "node: private subnet, no public IP, IMDSv2 required, an instance "
	    "profile for the CloudWatch agent, the workspace's tags, EFS at "
	    "/efs and metrics (CPU, memory, disk, GPU/HPU) to CloudWatch from "
	    "its user-data. The AMI is resolved at run time (SSM parameter, "
	    "else the newest image matching the kind's name patterns); --ami "
	    "overrides. The price is shown before anything starts.",
	    .opts = up_opts, .min_args = 0, .max_args = 1,
	    .complete = node_complete, .exec = node_up },
	{ .name = "autostop", .summary = "show or change when an idle node "
	    "stops itself", .args_usage = "NAME [DURATION|off]",
	    .help = "The node's watchdog (from its user-data) stops it once it "
	    "has been idle for DURATION in a row: no live train run, no "
	    "interactive SSH session, CPU and HPU/GPU below 10 %. Without "
	    "DURATION, shows the setting, the idle time and when it will "
	    "stop; with it (30m, 2h, 1h30m, off), changes it on the node over "
	    "SSH (the node's /etc/mlsh/autostop).",
	    .opts = power_opts, .min_args = 1, .max_args = 2,
	    .complete = node_complete, .exec = node_autostop,
	    .flags = CMD_NO_HISTORY },
	{ .name = "stop", .summary = "stop a node (its disk and /efs stay)",
	    .args_usage = "NAME", .opts = power_opts, .min_args = 1,
	    .max_args = 1, .complete = node_complete, .exec = node_stop },
	{ .name = "start", .summary = "start a stopped node",
	    .args_usage = "NAME", .opts = power_opts, .min_args = 1,
	    .max_args = 1, .complete = node_complete, .exec = node_start },
	{ .name = "down", .summary = "terminate a node (the last one takes "
	    "the node role with it)", .args_usage = "NAME", .opts = down_opts,
	    .min_args = 1, .max_args = 1, .complete = node_complete,
	    .exec = node_down },
	{ .name = "status", .summary = "a node's state, address and price, "
	    "asked of AWS", .args_usage = "NAME", .min_args = 1,
	    .max_args = 1, .complete = node_complete, .exec = node_status,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = "ls", .summary = "the workspace's nodes (from the state)",
	    .opts = ls_opts, .min_args = 0, .max_args = 0,
	    .exec = node_ls, .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_node_entry = {
	.name = "node",
	.summary = "training nodes: node KIND up, node NAME stop|start|down|"
	    "status, node ls",
	.args_usage = "[NAME]",
	.help = "The kind or node name comes first, then the verb: `node dl1 "
	    "up`, `node dl1-1 stop` (`node up dl1` works too). Kinds: dl1 "
	    "(dl1.24xlarge, Habana Deep Learning AMI) and p3 (p3.8xlarge, GPU "
	    "PyTorch Deep Learning AMI). Add or change kinds in ~/.mlshrc:\n"
	    "  node_kinds = { g5 = { type = \"g5.xlarge\",\n"
	    "    ami_name = \"Deep Learning AMI GPU PyTorch*\",  -- or a list\n"
	    "    ssm = nil, owner = \"amazon\", disk = 200 } }\n"
	    "Without a verb, `node` lists the nodes and `node NAME` shows one. "
	    "Lua: node.up{kind=\"dl1\", count=2}, node.stop(\"dl1-1\"), "
	    "node.ls().",
	.min_args = 0,
	.max_args = 2,		/* OBJECT VERB, for completion and errors */
	.subcmds = node_subcmds,
	.complete = node_complete,
	.exec = node_exec,
	.flags = CMD_VERB_SECOND | CMD_READONLY,	/* node, node NAME */
};
