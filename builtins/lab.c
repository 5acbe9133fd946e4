/* lab: the local cloud. `lab up` makes the lab's namespaces, starts the
 * control plane (moto, with the lab's image catalogue) in its core namespace
 * and the reconciler that turns every running instance into a real SSH host;
 * `mlsh --lab` points a session at it. See lab/lab.h and lab/ctrl.h. */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shell/shell.h"
#include "aws/aws.h"
#include "lab/ctrl.h"
#include "lab/lab.h"

static int
need_root(struct mlsh_ctx *ctx)
{
	if (geteuid() == 0)
		return 0;
	cmd_error(ctx, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for its "
	    "namespaces): run it with sudo");
	return -1;
}

/* The python that has moto (python3 on PATH, pyenv's shim included), as an
 * absolute path: the control plane starts with a minimal environment.
 * Found, not imported: importing moto costs about a second of CPU, on every
 * lab up; a moto that is there but broken shows when the control plane
 * starts (lab_ctrl_start reports its log). */
static char *
moto_python(void)
{
	FILE *p = popen("python3 -c 'import importlib.util as u, sys; "
	    "all(u.find_spec(m) for m in (\"moto\", \"flask\", \"werkzeug\")) and "
	    "print(sys.executable)' 2>/dev/null", "r");
	char line[4096];
	char *r = NULL;

	if (p == NULL)
		return NULL;
	if (fgets(line, sizeof line, p) != NULL && line[0] == '/') {
		line[strcspn(line, "\n")] = '\0';
		r = xstrdup(line);
	}
	pclose(p);
	return r;
}

/* tests/strict/strictaws.py beside the mlsh binary (the build tree), or
 * MLSH_STRICTAWS. */
static char *
strict_script(const char *exe, char **cause)
{
	const char *env = getenv("MLSH_STRICTAWS");
	char *dir = xstrdup(exe), *slash, *p;

	if (env != NULL && *env != '\0') {
		free(dir);
		return xstrdup(env);
	}
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	p = xasprintf("%s/tests/strict/strictaws.py", dir);
	free(dir);
	if (access(p, R_OK) != 0) {
		*cause = xasprintf("the strict AWS proxy is not at %s; set "
		    "MLSH_STRICTAWS to tests/strict/strictaws.py", p);
		free(p);
		return NULL;
	}
	return p;
}

static int
lab_bring_up(struct mlsh_ctx *ctx, int strict, int *started, char **cause)
{
	char *script = NULL;
	char exe[4096], *p, *python;
	ssize_t n;
	int rc;
	const char *region = shell_region(ctx);

	*started = 0;
	/* A lab once brought up strict stays strict for every session. */
	if (lab_ctrl_strict(ctx->lab_dir))
		strict = 1;
	if (lab_net_is_up(ctx->lab_dir) && lab_ctrl_alive(ctx->lab_dir) &&
	    lab_reconciler_pid(ctx->lab_dir) > 0) {
		if (strict && !lab_ctrl_strict(ctx->lab_dir)) {
			*cause = xstrdup("the lab runs without the strict AWS; "
			    "run lab down first");
			return -1;
		}
		return 0;
	}
	if ((python = moto_python()) == NULL) {
		*cause = xstrdup("moto is missing; install it with: "
		    "pip install 'moto[server]'");
		return -1;
	}
	/* MLSH_LAB_NAME names a second lab beside the default one (tests). */
	if (mkdir_p(ctx->lab_dir, 0700, cause) != 0 ||
	    lab_net_up(ctx->lab_dir, getenv("MLSH_LAB_NAME"), cause) != 0) {
		free(python);
		return -1;
	}
	p = xasprintf("%s/region", ctx->lab_dir);
	{
		FILE *f = fopen(p, "w");
		if (f != NULL) {
			fprintf(f, "%s\n", region);
			fclose(f);
		}
	}
	free(p);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) {
		*cause = xasprintf("cannot find mlsh itself: %s",
		    strerror(errno));
		free(python);
		return -1;
	}
	exe[n] = '\0';
	if (strict && (script = strict_script(exe, cause)) == NULL) {
		free(python);
		return -1;
	}
	/* Starts moto unless it runs; waits until it answers either way. */
	rc = lab_ctrl_start(ctx->lab_dir, python, script, 20000, cause);
	free(python);
	free(script);
	if (rc != 0)
		return -1;
	if (lab_reconciler_start(ctx->lab_dir, exe, cause) != 0)
		return -1;
	*started = 1;
	return 0;
}

/* With --lab, the session brings the lab up first (unless the command is
 * `lab` itself: `mlsh --lab lab down` must not start what it stops). */
static int
lab_session_start(struct mlsh_ctx *ctx, char **cause)
{
	int started;

	if (!ctx->lab || ctx->lab_no_start)
		return 0;
	if (geteuid() != 0) {
		*cause = xstrdup("the lab needs root (CAP_NET_ADMIN and "
		    "CAP_SYS_ADMIN for its namespaces): run it with sudo");
		return -1;
	}
	if (lab_bring_up(ctx, 0, &started, cause) != 0)
		return -1;
	if (started)
		fprintf(stderr, "lab: up (control plane %s)\n", LAB_CTRL_URL);
	return 0;
}

/* With --lab, every AWS call goes to the lab's control plane. */
static struct aws_client *
lab_session_aws(struct mlsh_ctx *ctx, const struct aws_options *o,
    char **cause)
{
	struct aws_client *c;
	char *why = NULL;

	*cause = NULL;
	if (!ctx->lab)
		return NULL;
	if ((c = lab_ctrl_client(ctx->lab_dir, o, &why)) == NULL) {
		*cause = xasprintf("lab: %s", why);
		free(why);
	}
	return c;
}

const struct mlsh_service svc_lab = {
	.name = "lab",
	.init = lab_session_start,
	.aws = lab_session_aws,
};

static cJSON *
row(const char *what, const char *id, const char *state, const char *priv,
    const char *pub, const char *detail)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "component", what);
	cJSON_AddStringToObject(o, "id", id ? id : "-");
	cJSON_AddStringToObject(o, "state", state ? state : "-");
	cJSON_AddStringToObject(o, "private_ip", priv ? priv : "-");
	cJSON_AddStringToObject(o, "public_ip", pub ? pub : "-");
	cJSON_AddStringToObject(o, "detail", detail ? detail : "");
	return o;
}


static cJSON *
lab_table(struct mlsh_ctx *ctx)
{
	cJSON *arr = cJSON_CreateArray(), *items = NULL, *res, *inst;
	int up = lab_net_is_up(ctx->lab_dir);
	int alive = up && lab_ctrl_alive(ctx->lab_dir);
	long rpid = lab_reconciler_pid(ctx->lab_dir);
	struct strlist hosts;
	char *cause = NULL, num[32];

	cJSON_AddItemToArray(arr, row("network", LAB_CLIENT_ADDR, up ? "up" :
	    "down", NULL, NULL, ctx->lab_dir));
	cJSON_AddItemToArray(arr, row("control-plane", LAB_CTRL_URL,
	    alive ? "answering" : "down", NULL, NULL,
	    lab_ctrl_strict(ctx->lab_dir) ? "strict (strictaws in front of "
	    "moto)" : "moto"));
	snprintf(num, sizeof num, "%ld", rpid);
	cJSON_AddItemToArray(arr, row("reconciler", rpid ? num : NULL,
	    rpid ? "running" : "stopped", NULL, NULL, NULL));
	if (!up)
		return arr;
	strlist_init(&hosts);
	lab_host_list(ctx->lab_dir, &hosts, &cause);
	free(cause);
	if (alive) {
		struct aws_error err;
		memset(&err, 0, sizeof err);
		if (aws_paginate(shell_aws(ctx), "ec2", "DescribeInstances",
		    NULL, "reservationSet", 20, &items, &err) != 0)
			items = NULL;
		aws_error_release(&err);
	}
	for (size_t i = 0; i < hosts.n; i++) {
		const char *priv = NULL, *pub = NULL;
		char *console = lab_host_console_path(ctx->lab_dir, hosts.v[i]);
		cJSON_ArrayForEach(res, items)
			cJSON_ArrayForEach(inst, cJSON_GetObjectItem(res,
			    "instancesSet"))
				if (json_string(inst, "instanceId") &&
				    strcmp(json_string(inst, "instanceId"),
				    hosts.v[i]) == 0) {
					priv = json_string(inst, "privateIpAddress");
					pub = json_string(inst, "ipAddress");
				}
		cJSON_AddItemToArray(arr, row("host", hosts.v[i],
		    lab_host_state(ctx->lab_dir, hosts.v[i]), priv, pub,
		    console));
		free(console);
	}
	cJSON_Delete(items);
	strlist_release(&hosts);
	return arr;
}

static int
lab_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	char *cause = NULL;
	int started;

	if (need_root(ctx) != 0)
		return 1;
	if (lab_bring_up(ctx, cmd_opt_bool(a, "strict"), &started,
	    &cause) != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	*result = lab_table(ctx);
	return 0;
}

static int
lab_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	char *cause = NULL;

	(void)a;
	if (need_root(ctx) != 0)
		return 1;
	lab_reconciler_stop(ctx->lab_dir);
	if (lab_net_down(ctx->lab_dir, &cause) != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	{
		char *m = xasprintf("%s/strict", ctx->lab_dir);	/* lab up --strict */
		unlink(m);
		free(m);
	}
	shell_aws_reset(ctx);
	*result = cJSON_CreateString("lab: down (no namespace, host or "
	    "process of the lab is left)");
	return 0;
}

static int
lab_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	(void)a;
	*result = lab_table(ctx);
	return 0;
}

static int
lab_reset(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	char *cause = NULL;
	struct strlist hosts;
	long rpid;
	int rc;

	(void)a;
	if (need_root(ctx) != 0)
		return 1;
	if (!lab_net_is_up(ctx->lab_dir) || !lab_ctrl_alive(ctx->lab_dir))
		return cmd_error(ctx, "the lab is not up ('lab up' starts it)");
	/* moto's reset is not safe against requests running beside it: the
	 * reconciler pauses while it happens. */
	rpid = lab_reconciler_pid(ctx->lab_dir);
	if (rpid > 0)
		kill((pid_t)rpid, SIGSTOP);
	usleep(300 * 1000);	/* let a request in flight finish */
	rc = lab_ctrl_reset(ctx->lab_dir, &cause);
	if (rpid > 0)
		kill((pid_t)rpid, SIGCONT);
	if (rc != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	/* The reconciler removes the hosts of the instances moto forgot. */
	for (int i = 0; i < 100; i++) {
		strlist_init(&hosts);
		lab_host_list(ctx->lab_dir, &hosts, &cause);
		free(cause);
		cause = NULL;
		if (hosts.n == 0) {
			strlist_release(&hosts);
			*result = lab_table(ctx);
			return 0;
		}
		strlist_release(&hosts);
		if (mlsh_interrupted)
			break;
		usleep(100 * 1000);
	}
	return cmd_error(ctx, "the control plane is empty but hosts remain "
	    "after 10 s (see %s/reconciler.log)", ctx->lab_dir);
}

static const struct mlsh_opt up_opts[] = {
	{ "strict", 0, OPT_BOOL, NULL, NULL, "put the strict AWS "
	    "(tests/strict/strictaws.py, every behaviour on) in front of moto" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd lab_subcmds[] = {
	{ .name = "up", .summary = "start the lab (namespaces, control plane, "
	    "reconciler)", .min_args = 0, .max_args = 0, .opts = up_opts,
	    .exec = lab_up },
	{ .name = "down", .summary = "remove everything the lab made",
	    .min_args = 0, .max_args = 0, .exec = lab_down },
	{ .name = "status", .summary = "the control plane and every host",
	    .min_args = 0, .max_args = 0, .exec = lab_status,
	    .flags = CMD_NO_HISTORY },
	{ .name = "reset", .summary = "empty the control plane and remove the "
	    "hosts; the lab keeps running", .min_args = 0, .max_args = 0,
	    .exec = lab_reset },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_lab_entry = {
	.name = "lab",
	.summary = "the local cloud: moto plus real SSH hosts in network "
	    "namespaces",
	.help = "The lab runs the whole stack on this machine for $0: moto "
	    "answers the AWS APIs and every running instance becomes a host "
	    "(its own network namespace, sshd for the instance's key pair, "
	    "its user-data run once). Private subnets are reachable only "
	    "through a host with a public IP. `mlsh --lab` points a session "
	    "at it, starting it if needed. Needs root.",
	.subcmds = lab_subcmds,
};
