/* notebook: the workspace's SageMaker notebook instance (the seed's
 * train-dev): in the private subnet with the nodes' security group, no
 * direct internet access, the model repository as default code repository,
 * and a lifecycle configuration whose OnStart (scripts/notebook-onstart.sh)
 * mounts EFS and exports GPU and memory stats to CloudWatch.
 *
 * Records: "notebook" (type "notebook", id = its name), "notebook-lc" (type
 * "lifecycle-config", id = its name), and the role "iam-notebook" (iam.h).
 * SageMaker names are the idempotency key: an existing one is adopted. */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "builtins/autostop.h"
#include "builtins/node.h"
#include "builtins/stage.h"
#include "builtins/stackcmd.h"
#include "builtins/tunnel.h"
#include "stack/iam.h"
#include "stack/sagemaker.h"
#include "stack/types.h"
#include "stack/quota.h"
#include "lib/state.h"
#include "stack/userdata.h"

#define NB_TYPE		"ml.p3.8xlarge"
#define NB_REPO		"https://github.com/DMW2151/msls-pytorch-dcgan"
#define NB_VOLUME	50
#define NB_WAIT_S	1800	/* a notebook takes minutes to start or stop */

static cJSON *nb_row(struct stack *);

static int
nb_adopt(struct stack *st, const char *role, const char *type,
    const char *action, const char *member, const char *name)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *rec;
	struct aws_error err;
	int rc;

	if (st->dry_run) {
		cJSON_Delete(p);
		return 0;
	}
	cJSON_AddStringToObject(p, member, name);
	rc = stack_call(st, "sagemaker", action, p, &res, &err);
	cJSON_Delete(p);
	if (rc != 0) {
		if (stack_err_gone(&err))
			return 0;
		return stack_fail(st, name, &err);
	}
	rec = stack_record(st, role, type, name);
	if (strcmp(type, "notebook") == 0)
		stack_sm_attrs(cJSON_GetObjectItemCaseSensitive(rec, "attrs"), res);
	cJSON_AddItemToArray(st->existing, cJSON_CreateString(role));
	cJSON_Delete(res);
	return stack_save(st) == 0 ? 1 : -1;
}

/* SageMaker refuses a type over the account's limit with
 * ResourceLimitExceeded: say which quota and how to ask for more. */
static void
limit_hint(struct stack *st, const char *itype)
{
	char *old;
	size_t skip;

	if (st->fail.code == NULL || strcmp(st->fail.code,
	    "ResourceLimitExceeded") != 0 || st->ctx->error == NULL)
		return;
	old = xstrdup(st->ctx->error);
	skip = strncmp(old, "notebook: ", 10) == 0 ? 10 : 0;
	cmd_error(st->ctx, "%s; ask for more of the SageMaker quota '%s for "
	    "notebook instance usage' in the Service Quotas console (or 'aws "
	    "service-quotas list-service-quotas --service-code sagemaker' for "
	    "its code, then request-service-quota-increase), or choose "
	    "another --type", old + skip, itype);
	free(old);
}

/* notebook up as its steps (stage.h): what can refuse (network, quota,
 * price) before the lifecycle configuration and the instance are made. */
struct nb_up {
	struct mlsh_ctx *ctx;
	struct cmd_args *a;
	cJSON **result;
	const char *itype, *repo;
	long long vol;
	struct stack st;
	int st_open;
	char *name, *lc;		/* the instance's and the config's names */
	const char *subnet, *sg, *role_arn;
	char autostop[24];	/* seconds, or "off" (OnStart's @AUTOSTOP@) */
};

static int nbu_options(void *), nbu_stack(void *), nbu_network(void *),
    nbu_adopt(void *), nbu_quota(void *), nbu_price(void *), nbu_role(void *),
    nbu_lifecycle(void *), nbu_instance(void *), nbu_wait(void *);

static const struct stage nb_up_stages[] = {
	{ "options", nbu_options },
	{ "stack", nbu_stack },		/* done if the notebook is recorded */
	{ "network", nbu_network },
	{ "adopt", nbu_adopt },		/* done if one exists unrecorded */
	{ "quota", nbu_quota },
	{ "price", nbu_price },
	{ "role", nbu_role },
	{ "lifecycle", nbu_lifecycle },	/* the OnStart configuration */
	{ "instance", nbu_instance },
	{ "wait", nbu_wait },		/* until InService */
};

static void nb_keep(struct stack *, const char *role, const char *type,
    const char *name, const char *itype);

static int
nb_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct nb_up u = { .ctx = ctx, .a = a, .result = result };
	int rc = stage_run(nb_up_stages, STAGE_COUNT(nb_up_stages), &u);

	free(u.name);
	free(u.lc);
	if (u.st_open)
		stack_close(&u.st);
	return rc;
}

static int
nbu_options(void *job)
{
	struct nb_up *u = job;
	struct cmd_args *a = u->a;

	u->itype = cmd_opt(a, "type") ? cmd_opt(a, "type") : NB_TYPE;
	u->repo = cmd_opt(a, "repo") ? cmd_opt(a, "repo") : NB_REPO;
	u->vol = cmd_opt_num(a, "volume");
	return autostop_option(u->ctx, a, u->autostop, sizeof u->autostop)
	    != 0;
}

static int
nbu_stack(void *job)
{
	struct nb_up *u = job;

	if (stack_open(u->ctx, u->a, &u->st) != 0)
		return 1;
	u->st_open = 1;
	u->name = stack_sm_name(&u->st, "notebook");
	u->lc = stack_sm_name(&u->st, "onstart");
	if (stack_id(&u->st, NB_ROLE) != NULL) {
		cJSON_AddItemToArray(u->st.existing,
		    cJSON_CreateString(NB_ROLE));
		*u->result = stack_result(&u->st);
		return STAGE_DONE;
	}
	return 0;
}

static int
nbu_network(void *job)
{
	struct nb_up *u = job;

	if ((u->subnet = stack_need(&u->st, "subnet-private", "vpc up")) ==
	    NULL || (u->sg = stack_need(&u->st, "sg-notebook", "vpc up")) ==
	    NULL)
		return 1;
	return 0;
}

/* Adopt one made by a run that died before recording it. */
static int
nbu_adopt(void *job)
{
	struct nb_up *u = job;
	int r = nb_adopt(&u->st, NB_ROLE, "notebook",
	    "DescribeNotebookInstance", "NotebookInstanceName", u->name);

	if (r > 0) {
		*u->result = stack_result(&u->st);
		return STAGE_DONE;
	}
	return r < 0;
}

static int
nbu_quota(void *job)
{
	struct nb_up *u = job;

	if (cmd_opt_bool(u->a, "skip-quota-check"))
		return 0;
	return quota_check_notebook(&u->st, u->itype) != 0;
}

static int
nbu_price(void *job)
{
	struct nb_up *u = job;
	struct stack_price_item pi = { "notebook", u->itype, 1 };

	return stack_confirm_price(&u->st, &pi, 1) != 0;
}

static int
nbu_role(void *job)
{
	static const char *const pol[] = { IAM_POLICY_SAGEMAKER, NULL };
	struct iam_role_spec spec = { "notebook", "sagemaker.amazonaws.com",
	    pol, 0 };
	struct nb_up *u = job;

	return iam_ensure(&u->st, &spec, &u->role_arn, NULL) != 0;
}

/* The lifecycle configuration: recorded, adopted, or made. */
static int
nbu_lifecycle(void *job)
{
	struct nb_up *u = job;
	struct stack_create c = {
		.role = NB_LC_ROLE, .type = "lifecycle-config",
		.service = "sagemaker",
		.action = "CreateNotebookInstanceLifecycleConfig",
		.tag_style = STACK_TAG_LIST, .item_path = "",
		.id_key = "NotebookInstanceLifecycleConfigArn",
		.summary = "OnStart: mount EFS at /efs, GPU and memory stats to "
		    "CloudWatch",
	};
	char *script, *b64;
	cJSON *hook;
	int r;

	if (stack_id(&u->st, NB_LC_ROLE) != NULL)
		return 0;
	if ((r = nb_adopt(&u->st, NB_LC_ROLE, "lifecycle-config",
	    "DescribeNotebookInstanceLifecycleConfig",
	    "NotebookInstanceLifecycleConfigName", u->lc)) != 0)
		return stack_id(&u->st, NB_LC_ROLE) == NULL;	/* r < 0 */
	struct userdata_var as = { "AUTOSTOP", u->autostop };

	if ((script = node_user_data(&u->st, "scripts/notebook-onstart.sh",
	    u->name, &as, 1)) == NULL)
		return 1;
	b64 = base64_encode(script, strlen(script));
	free(script);
	if (strlen(b64) > 16384) {
		cmd_error(u->ctx, "the OnStart script is %zu bytes in base64; "
		    "SageMaker takes at most 16384", strlen(b64));
		free(b64);
		return 1;
	}
	c.params = cJSON_CreateObject();
	cJSON_AddStringToObject(c.params, "NotebookInstanceLifecycleConfigName",
	    u->lc);
	hook = cJSON_CreateObject();
	cJSON_AddStringToObject(hook, "Content", b64);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c.params, "OnStart"), hook);
	free(b64);
	if (stack_create_many(&u->st, &c, 1) != 0)
		return 1;
	if (!c.skipped)
		nb_keep(&u->st, NB_LC_ROLE, "lifecycle-config", u->lc, NULL);
	return 0;
}

static int
nbu_instance(void *job)
{
	struct nb_up *u = job;
	struct stack_create c = {
		.role = NB_ROLE, .type = "notebook", .service = "sagemaker",
		.action = "CreateNotebookInstance",
		.params = cJSON_CreateObject(),
		.tag_style = STACK_TAG_LIST, .item_path = "",
		.id_key = "NotebookInstanceArn",
	};
	char *sum = xasprintf("%s %s in %s, no direct internet, repo %s, %lld "
	    "GB", u->name, u->itype, u->subnet, u->repo, u->vol);
	cJSON *imds;
	int r;

	c.summary = sum;
	cJSON_AddStringToObject(c.params, "NotebookInstanceName", u->name);
	cJSON_AddStringToObject(c.params, "InstanceType", u->itype);
	cJSON_AddStringToObject(c.params, "SubnetId", u->subnet);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(c.params,
	    "SecurityGroupIds"), cJSON_CreateString(u->sg));
	cJSON_AddStringToObject(c.params, "RoleArn", u->role_arn);
	cJSON_AddStringToObject(c.params, "LifecycleConfigName", u->lc);
	cJSON_AddStringToObject(c.params, "DirectInternetAccess", "Disabled");
	cJSON_AddNumberToObject(c.params, "VolumeSizeInGB", (double)u->vol);
	cJSON_AddStringToObject(c.params, "DefaultCodeRepository", u->repo);
	cJSON_AddStringToObject(c.params, "RootAccess", "Enabled");
	imds = cJSON_AddObjectToObject(c.params,
	    "InstanceMetadataServiceConfiguration");
	cJSON_AddStringToObject(imds, "MinimumInstanceMetadataServiceVersion",
	    "2");
	r = stack_create_many(&u->st, &c, 1);
	free(sum);
	if (r != 0) {
		limit_hint(&u->st, u->itype);
		return 1;
	}
	if (!c.skipped) {
		nb_keep(&u->st, NB_ROLE, "notebook", u->name, u->itype);
		/* What leaving the shell and status show (autostop.h). */
		stack_set_attr(&u->st, NB_ROLE, "autostop", u->autostop);
		stack_save(&u->st);
	}
	return 0;
}

static int
nbu_wait(void *job)
{
	struct nb_up *u = job;

	if (stack_wait_state(&u->st, NB_ROLE, "InService", NB_WAIT_S) != 0)
		return 1;
	*u->result = stack_result(&u->st);
	return 0;
}

/* Record a made SageMaker resource by its name (the idempotency key),
 * keeping the ARN stack_create_many recorded as its id as an attribute;
 * the instance also keeps its type and name. */
static void
nb_keep(struct stack *st, const char *role, const char *type,
    const char *name, const char *itype)
{
	const char *arn = stack_id(st, role);
	char *keep = arn ? xstrdup(arn) : NULL;

	stack_record(st, role, type, name);
	if (itype != NULL) {
		stack_set_attr(st, role, "instance_type", itype);
		stack_set_attr(st, role, "name", name);
	}
	if (keep != NULL && !st->dry_run)
		stack_set_attr(st, role, "arn", keep);
	free(keep);
	stack_save(st);
}

static int
nb_open_existing(struct mlsh_ctx *ctx, struct cmd_args *a, struct stack *st)
{
	if (stack_open(ctx, a, st) != 0)
		return -1;
	if (stack_id(st, NB_ROLE) == NULL) {
		cmd_error(ctx, "no notebook in workspace '%s'; run 'notebook "
		    "up' first", st->ws);
		stack_close(st);
		return -1;
	}
	/* The name is optional (one notebook per workspace) but checked. */
	if (a->argc > 0 && strcmp(a->argv[0], stack_id(st, NB_ROLE)) != 0) {
		cmd_error(ctx, "no notebook '%s' in workspace '%s' (it has %s)",
		    a->argv[0], st->ws, stack_id(st, NB_ROLE));
		stack_close(st);
		return -1;
	}
	return 0;
}

static int
nb_power(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result,
    const char *action, const char *want)
{
	struct stack st;
	cJSON *p, *res = NULL;
	struct aws_error err;
	const char *id;
	int rc = 1;

	if (nb_open_existing(ctx, a, &st) != 0)
		return 1;
	id = stack_id(&st, NB_ROLE);
	if (st.dry_run) {
		stack_plan(&st, action, NB_ROLE, "%s", id);
		stack_wait_state(&st, NB_ROLE, want, NB_WAIT_S);
		*result = stack_result(&st);
		stack_close(&st);
		return 0;
	}
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "NotebookInstanceName", id);
	if (stack_call(&st, "sagemaker", action, p, &res, &err) != 0) {
		cJSON_Delete(p);
		stack_fail(&st, id, &err);
		goto out;
	}
	cJSON_Delete(p);
	cJSON_Delete(res);
	if (stack_wait_state(&st, NB_ROLE, want, NB_WAIT_S) != 0)
		goto out;
	*result = nb_row(&st);
	rc = 0;
out:
	stack_close(&st);
	return rc;
}

static int
nb_stop(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return nb_power(ctx, a, result, "StopNotebookInstance", "Stopped");
}

static int
nb_start(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	return nb_power(ctx, a, result, "StartNotebookInstance", "InService");
}

static int
nb_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles;
	int rc = 1;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	if (a->argc > 0 && (stack_id(&st, NB_ROLE) == NULL ||
	    strcmp(a->argv[0], stack_id(&st, NB_ROLE)) != 0)) {
		cmd_error(ctx, "no notebook '%s' in workspace '%s'", a->argv[0],
		    st.ws);
		stack_close(&st);
		return 1;
	}
	strlist_init(&roles);
	strlist_add(&roles, NB_ROLE);
	strlist_add(&roles, NB_LC_ROLE);
	if (stackcmd_confirm_delete(&st, &roles, "notebook") != 0)
		goto out;
	if (stack_delete(&st, &roles) == 0 && iam_remove(&st, "notebook") == 0) {
		*result = stack_result(&st);
		rc = 0;
	}
out:
	strlist_release(&roles);
	stack_close(&st);
	return rc;
}

static int
nb_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct aws_error err;
	int r;

	if (nb_open_existing(ctx, a, &st) != 0)
		return 1;
	memset(&err, 0, sizeof err);
	r = notebook_refresh(&st, stack_rec(&st, NB_ROLE), &err);
	if (r < 0) {
		stack_fail(&st, NB_ROLE, &err);
		stack_close(&st);
		return 1;
	}
	if (r == STACK_GONE)
		stack_set_attr(&st, NB_ROLE, "state", "gone");
	stack_save(&st);
	*result = nb_row(&st);
	stack_close(&st);
	return 0;
}

/* $BROWSER URL, not waited for (its own session, reaped by init). */
static void
nb_browse(const char *url)
{
	const char *b = getenv("BROWSER");
	pid_t pid;

	if (b == NULL || *b == '\0')
		return;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		setsid();
		if (fork() == 0) {
			int nul = open("/dev/null", O_RDWR);
			dup2(nul, 0);
			execl("/bin/sh", "sh", "-c", "exec $BROWSER \"$1\"",
			    "browser", url, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* In the lab the presigned URL names the notebook host by its private
 * address ("http://10.0.1.254:8443/tree?authToken=…", lab/motoext.py):
 * mlsh's own tunnel through the jump host brings it to 127.0.0.1, and the
 * URL becomes the local one. On AWS the URL is SageMaker's public HTTPS
 * endpoint and stays as it is. */
static int
nb_lab_url(struct mlsh_ctx *ctx, cJSON *out, const char *url, int lport)
{
	const char *hp = url + strlen("http://"), *path = strchr(hp, '/');
	const char *colon = memchr(hp, ':', path ? (size_t)(path - hp) :
	    strlen(hp));
	char *host, *local;
	cJSON *t;
	int port;

	if (colon == NULL || path == NULL || (port = atoi(colon + 1)) <= 0)
		return cmd_error(ctx, "the lab gave an URL mlsh cannot tunnel: "
		    "%s", url);
	host = xstrndup(hp, (size_t)(colon - hp));
	t = tunnel_open_host(ctx, "notebook", host, lport, port);
	free(host);
	if (t == NULL)
		return 1;
	local = xasprintf("http://%s%s",
	    cJSON_GetObjectItemCaseSensitive(t, "local")->valuestring, path);
	cJSON_AddStringToObject(out, "url", local);
	cJSON_AddStringToObject(out, "tunnel",
	    cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring);
	free(local);
	cJSON_Delete(t);
	return 0;
}

/* notebook open: a presigned URL for the notebook's Jupyter. */
static int
nb_open(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct aws_error err;
	cJSON *p, *res = NULL, *out;
	const cJSON *url;
	char *name;
	int tunneled;

	if (nb_open_existing(ctx, a, &st) != 0)
		return 1;
	name = xstrdup(stack_id(&st, NB_ROLE));
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "NotebookInstanceName", name);
	cJSON_AddNumberToObject(p, "SessionExpirationDurationInSeconds",
	    (double)cmd_opt_num(a, "minutes") * 60);
	memset(&err, 0, sizeof err);
	if (aws_call(st.aws, "sagemaker", "CreatePresignedNotebookInstanceUrl",
	    p, &res, &err) != 0) {
		cJSON_Delete(p);
		stack_fail(&st, NB_ROLE, &err);
		stack_close(&st);
		free(name);
		return 1;
	}
	cJSON_Delete(p);
	stack_close(&st);
	url = cJSON_GetObjectItemCaseSensitive(res, "AuthorizedUrl");
	if (!cJSON_IsString(url)) {
		cJSON_Delete(res);
		cmd_error(ctx, "SageMaker gave no URL for '%s'", name);
		free(name);
		return 1;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "notebook", name);
	free(name);
	tunneled = ctx->lab && str_startswith(url->valuestring, "http://");
	if (tunneled && nb_lab_url(ctx, out, url->valuestring,
	    (int)cmd_opt_num(a, "port")) != 0) {
		cJSON_Delete(out);
		cJSON_Delete(res);
		return 1;
	}
	if (!tunneled)
		cJSON_AddStringToObject(out, "url", url->valuestring);
	cJSON_Delete(res);
	cJSON_AddNumberToObject(out, "valid_minutes",
	    (double)cmd_opt_num(a, "minutes"));
	nb_browse(cJSON_GetObjectItemCaseSensitive(out, "url")->valuestring);
	if (tunneled && !ctx->interactive && ctx->lua_depth == 0) {
		/* Nothing would keep the tunnel open after this command. */
		shell_print_result(ctx, out, a->json);
		cJSON_Delete(out);
		tunnel_hold(ctx);
		return 0;
	}
	*result = out;
	return 0;
}

/* notebook logs: the lifecycle scripts' output, where SageMaker writes it
 * (CloudWatch Logs group /aws/sagemaker/NotebookInstances, stream
 * NAME/LifecycleConfigOnStart or …OnCreate; "View Amazon CloudWatch Logs
 * for notebook instance lifecycle configurations in log group
 * /aws/sagemaker/NotebookInstances in log stream
 * [notebook-instance-name]/[LifecycleConfigHook]", API reference,
 * NotebookInstanceLifecycleHook). The lab puts it there too. */
static int
nb_logs(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct aws_error err;
	cJSON *p, *res = NULL, *ev;
	struct buf b;
	char *stream;
	int rc;

	if (nb_open_existing(ctx, a, &st) != 0)
		return 1;
	stream = xasprintf("%s/LifecycleConfig%s", stack_id(&st, NB_ROLE),
	    cmd_opt_bool(a, "create") ? "OnCreate" : "OnStart");
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "logGroupName",
	    "/aws/sagemaker/NotebookInstances");
	cJSON_AddStringToObject(p, "logStreamName", stream);
	cJSON_AddBoolToObject(p, "startFromHead", 1);
	memset(&err, 0, sizeof err);
	rc = aws_call(st.aws, "logs", "GetLogEvents", p, &res, &err);
	cJSON_Delete(p);
	if (rc != 0) {
		if (err.code != NULL && strcmp(err.code,
		    "ResourceNotFoundException") == 0)
			cmd_error(ctx, "no log %s yet (the script has not "
			    "finished, or there is none)", stream);
		else
			stack_fail(&st, stream, &err);
		aws_error_release(&err);
		free(stream);
		stack_close(&st);
		return 1;
	}
	buf_init(&b);
	cJSON_ArrayForEach(ev, cJSON_GetObjectItemCaseSensitive(res, "events"))
		if (json_string(ev, "message") != NULL)
			buf_printf(&b, "%s\n", json_string(ev, "message"));
	*result = cJSON_CreateString(b.len ? b.data : "");
	buf_release(&b);
	cJSON_Delete(res);
	free(stream);
	stack_close(&st);
	return 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static cJSON *
nb_row(struct stack *st)
{
	cJSON *rec = stack_rec(st, NB_ROLE), *o = cJSON_CreateObject();
	double h = stack_rec_hourly(&st->prices, rec);

	stackcmd_add_text(o, "name", stack_attr(rec, "id"));
	stackcmd_add_text(o, "state", stack_attr(rec, "state"));
	stackcmd_add_text(o, "type", stack_attr(rec, "instance_type"));
	stackcmd_add_text(o, "subnet", stack_attr(rec, "subnet"));
	if (stack_attr(rec, "failure_reason") != NULL)
		stackcmd_add_text(o, "failure_reason", stack_attr(rec,
		    "failure_reason"));
	json_add_usd(o, "usd_per_hour", h);
	return o;
}

/* ---- the entry ------------------------------------------------------------- */

static const char *const nb_types[] = { "ml.p3.8xlarge", "ml.p3.2xlarge",
    "ml.p3.16xlarge", "ml.p2.xlarge", "ml.g5.xlarge", "ml.g4dn.xlarge",
    "ml.t3.medium", NULL };

static void
nb_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)a;
	if (opt == NULL && argi == 0) {
		/* The workspace's notebook, from the state (no network). */
		char *cause = NULL;
		struct state *s = shell_state(ctx, &cause);
		const cJSON *rec = s ? cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(s->root, "resources"),
		    NB_ROLE) : NULL;
		const char *id = stack_attr(rec, "id");
		free(cause);
		if (id != NULL && str_startswith(id, prefix))
			strlist_add(out, id);
		return;
	}
	if (opt != NULL && strcmp(opt, "type") == 0)
		for (size_t i = 0; nb_types[i] != NULL; i++)
			if (str_startswith(nb_types[i], prefix))
				strlist_add(out, nb_types[i]);
	if (opt != NULL && strcmp(opt, "repo") == 0 &&
	    str_startswith(NB_REPO, prefix))
		strlist_add(out, NB_REPO);
}

static const struct mlsh_opt up_opts[] = {
	{ "type", 't', OPT_STRING, NULL, "TYPE",
	    "notebook instance type (default " NB_TYPE ")" },
	{ "repo", 0, OPT_STRING, NULL, "URL",
	    "default code repository (default " NB_REPO ")" },
	OPT_NUM("volume", 0, "GB", "ML storage volume (default 50)", 5, 16384,
	    NB_VOLUME),
	{ "skip-quota-check", 0, OPT_BOOL, NULL, NULL,
	    "do not read the SageMaker notebook quota (Service Quotas) first" },
	{ "autostop", 0, OPT_STRING, NULL, "DURATION",
	    "stop the notebook once its Jupyter kernels are idle this long "
	    "(default 60m; 30m, 2h, off)" },
	OPT_DRY_RUN("print the plan, change nothing"),
	OPT_YES("do not ask before starting"),
	OPT_OVER_BUDGET,
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt dry_opts[] = {
	OPT_DRY_RUN("print the plan, change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt open_opts[] = {
	/* SessionExpirationDurationInSeconds is 1800 to 43200 (AWS API
	 * reference, CreatePresignedNotebookInstanceUrl). */
	OPT_NUM("minutes", 'm', "N", "how long the URL stays valid (default 60)",
	    30, 720, 60),
	OPT_NUM("port", 'p', "LPORT", "in the lab: the tunnel's local port on "
	    "127.0.0.1 (default 0: a free one)", 0, 65535, 0),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt logs_opts[] = {
	{ "create", 0, OPT_BOOL, NULL, NULL,
	    "the OnCreate script's log instead of OnStart's" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_FORCE("delete without asking (needed without a terminal)"),
	OPT_DRY_RUN("print the plan and change nothing"),
	OPT_END
};

static const struct mlsh_cmd nb_subcmds[] = {
	{ .name = "up", .summary = "start the SageMaker notebook in the "
	    "private subnet",
	    .help = "IAM role for SageMaker, a lifecycle configuration whose "
	    "OnStart mounts EFS at /efs (~/SageMaker/efs) and exports GPU and "
	    "memory stats to CloudWatch, and the notebook instance: private "
	    "subnet, the nodes' security group, direct internet access "
	    "disabled, IMDSv2, the model repository as default code "
	    "repository. Waits until InService. Idempotent. The OnStart "
	    "also installs mlsh-notebook-autostop (cron, every minute): when "
	    "no Jupyter kernel has been busy or active for --autostop "
	    "(default 60m), it stops the instance with its own role "
	    "(StopNotebookInstance), the pattern of AWS's auto-stop-idle "
	    "lifecycle sample.",
	    .opts = up_opts, .min_args = 0, .max_args = 0,
	    .complete = nb_complete, .exec = nb_up },
	{ .name = "stop", .summary = "stop the notebook (its volume stays)",
	    .args_usage = "[NAME]", .opts = dry_opts, .min_args = 0,
	    .max_args = 1, .complete = nb_complete, .exec = nb_stop },
	{ .name = "start", .summary = "start the stopped notebook",
	    .args_usage = "[NAME]", .opts = dry_opts, .min_args = 0,
	    .max_args = 1, .complete = nb_complete, .exec = nb_start },
	{ .name = "down", .summary = "delete the notebook, its lifecycle "
	    "configuration and role", .args_usage = "[NAME]",
	    .opts = down_opts, .min_args = 0, .max_args = 1,
	    .complete = nb_complete, .exec = nb_down },
	{ .name = "status", .summary = "the notebook's state, asked of "
	    "SageMaker", .args_usage = "[NAME]", .min_args = 0, .max_args = 1,
	    .complete = nb_complete, .exec = nb_status,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = "open", .summary = "a presigned URL for the notebook's "
	    "Jupyter (CreatePresignedNotebookInstanceUrl)",
	    .args_usage = "[NAME]", .opts = open_opts, .min_args = 0,
	    .max_args = 1, .complete = nb_complete, .exec = nb_open,
	    .flags = CMD_NO_HISTORY,
	    .help = "On AWS the URL is SageMaker's (valid 5 minutes, its "
	    "session --minutes long). In the lab the notebook's Jupyter is "
	    "reached through mlsh's own tunnel (the jump host to the notebook "
	    "host's port 8443): the URL is a local one, open while the session "
	    "lasts (from -c it holds until Ctrl-C). With $BROWSER set, runs "
	    "$BROWSER URL." },
	{ .name = "logs", .summary = "the lifecycle scripts' output "
	    "(CloudWatch Logs /aws/sagemaker/NotebookInstances)",
	    .args_usage = "[NAME]", .opts = logs_opts, .min_args = 0,
	    .max_args = 1, .complete = nb_complete, .exec = nb_logs,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_notebook_entry = {
	.name = "notebook",
	.summary = "the workspace's SageMaker notebook (GPU development)",
	.help = "One notebook per workspace, named <workspace>-notebook. "
	    "Lua: notebook.up{type=\"ml.p3.2xlarge\"}, notebook.stop().",
	.subcmds = nb_subcmds,
};
