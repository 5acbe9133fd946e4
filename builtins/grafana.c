/* grafana: a Grafana instance in the private subnet with a CloudWatch data
 * source (credentials from its instance role, CloudWatchReadOnlyAccess) and
 * the training dashboard of scripts/grafana-dashboard.json, both provisioned
 * by its user-data (scripts/userdata/grafana.sh). `grafana open` (a tunnel
 * through the jump host) comes with the SSH builtins. */
#include <stdlib.h>
#include <string.h>
#include "builtins/tunnel.h"
#include "node.h"
#include "iam.h"
#include "userdata.h"

#define GRAFANA_ROLE	"grafana"
#define GRAFANA_TYPE	"t3.small"
#define GRAFANA_PORT	3000
#define GRAFANA_DISK_GB	20

/* Canonical's Ubuntu LTS: the SSM parameter, else the newest image. */
#define UBUNTU_SSM "/aws/service/canonical/ubuntu/server/22.04/stable/" \
	"current/amd64/hvm/ebs-gp2/ami-id"
#define UBUNTU_OWNER "099720109477"

static cJSON *grafana_row(struct stack *);

static int
grafana_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	static const char *const ubuntu[] = {
	    "ubuntu/images/hvm-ssd*/ubuntu-jammy-22.04-amd64-server-*",
	    "ubuntu/images/hvm-ssd*/ubuntu-*-amd64-server-*", NULL };
	static const char *const pol[] = { IAM_POLICY_CLOUDWATCH_READ, NULL };
	struct iam_role_spec spec = { "grafana", "ec2.amazonaws.com", pol, 1 };
	const char *itype = cmd_opt(a, "type") ? cmd_opt(a, "type") :
	    GRAFANA_TYPE;
	const char *profile = NULL;
	struct stack st;
	struct node_launch l;
	struct userdata_var dash = { "DASHBOARD", NULL };
	char *ami = NULL, *ud = NULL, *dj = NULL;
	cJSON *d;
	int rc = 1;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	if (stack_id(&st, GRAFANA_ROLE) != NULL) {
		cJSON_AddItemToArray(st.existing,
		    cJSON_CreateString(GRAFANA_ROLE));
		*result = stack_result(&st);
		stack_close(&st);
		return 0;
	}
	if (stack_need(&st, "subnet-private", "vpc up") == NULL ||
	    stack_need(&st, "sg-grafana", "vpc up") == NULL)
		goto out;
	/* The dashboard, checked and made compact for the 16 KB user-data. */
	if ((d = cJSON_Parse(userdata_file("scripts/grafana-dashboard.json")))
	    == NULL) {
		cmd_error(ctx, "scripts/grafana-dashboard.json is not valid "
		    "JSON");
		goto out;
	}
	dj = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	dash.value = dj;
	if (cmd_opt(a, "ami") != NULL)
		ami = xstrdup(cmd_opt(a, "ami"));
	else if (node_resolve_ami(&st, "grafana (Ubuntu)", UBUNTU_SSM,
	    UBUNTU_OWNER, ubuntu, &ami) != 0)
		goto out;
	{
		struct stack_price_item pi[2] = { { "grafana", itype, 1 },
		    { "its root volume", "ebs-gp3-gb-month", GRAFANA_DISK_GB } };
		if (stack_confirm_price(&st, pi, 2) != 0)
			goto out;
	}
	if (iam_ensure(&st, &spec, NULL, &profile) != 0)
		goto out;
	if ((ud = node_user_data(&st, "scripts/userdata/grafana.sh",
	    GRAFANA_ROLE, &dash, 1)) == NULL)
		goto out;
	memset(&l, 0, sizeof l);
	l.role = GRAFANA_ROLE;
	l.instance_type = itype;
	l.ami = ami;
	l.profile = profile;
	l.user_data = ud;
	l.disk_gb = GRAFANA_DISK_GB;
	l.sg_role = "sg-grafana";
	if (node_launch_many(&st, &l, 1) != 0)
		goto out;
	*result = stack_result(&st);
	rc = 0;
out:
	free(ami);
	free(ud);
	free(dj);
	stack_close(&st);
	return rc;
}

static int
grafana_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist one;
	int rc = 1;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&one);
	strlist_add(&one, GRAFANA_ROLE);
	if (stack_delete(&st, &one) == 0 && iam_remove(&st, "grafana") == 0) {
		*result = stack_result(&st);
		rc = 0;
	}
	strlist_release(&one);
	stack_close(&st);
	return rc;
}

static int
grafana_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	cJSON *rec;
	struct aws_error err;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	if ((rec = stack_rec(&st, GRAFANA_ROLE)) == NULL ||
	    stack_id(&st, GRAFANA_ROLE) == NULL) {
		cmd_error(ctx, "no grafana in workspace '%s'; run 'grafana up' "
		    "first", st.ws);
		stack_close(&st);
		return 1;
	}
	memset(&err, 0, sizeof err);
	switch (stack_instance_refresh(&st, rec, &err)) {
	case -1:
		stack_fail(&st, GRAFANA_ROLE, &err);
		stack_close(&st);
		return 1;
	case STACK_GONE:
		stack_set_attr(&st, GRAFANA_ROLE, "state", "gone");
		break;
	}
	stack_save(&st);
	*result = grafana_row(&st);
	stack_close(&st);
	return 0;
}

static cJSON *
grafana_row(struct stack *st)
{
	cJSON *rec = stack_rec(st, GRAFANA_ROLE), *o = cJSON_CreateObject();
	const char *ip = stack_attr(rec, "private_ip"), *v;
	double h = stack_rec_hourly(st->ctx, rec);

	cJSON_AddStringToObject(o, "id", (v = stack_attr(rec, "id")) ? v : "-");
	cJSON_AddStringToObject(o, "state", (v = stack_attr(rec, "state")) ?
	    v : "-");
	cJSON_AddStringToObject(o, "type", (v = stack_attr(rec,
	    "instance_type")) ? v : "-");
	cJSON_AddStringToObject(o, "private_ip", ip ? ip : "-");
	if (ip != NULL) {
		char *url = xasprintf("http://%s:%d (through the jump host: "
		    "grafana open)", ip, GRAFANA_PORT);
		cJSON_AddStringToObject(o, "url", url);
		free(url);
	}
	if (h < 0)
		cJSON_AddStringToObject(o, "usd_per_hour", "unknown");
	else
		cJSON_AddNumberToObject(o, "usd_per_hour", h);
	return o;
}

static const char *const grafana_types[] = { "t3.small", "t3.medium",
    "t3.micro", "t3a.small", NULL };

static void
grafana_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	(void)ctx;
	(void)a;
	(void)argi;
	if (opt != NULL && strcmp(opt, "type") == 0)
		for (size_t i = 0; grafana_types[i] != NULL; i++)
			if (str_startswith(grafana_types[i], prefix))
				strlist_add(out, grafana_types[i]);
}

static const struct mlsh_opt up_opts[] = {
	{ "type", 't', OPT_STRING, NULL, "TYPE",
	    "instance type (default t3.small)" },
	{ "ami", 0, OPT_STRING, NULL, "AMI",
	    "image id instead of the newest Ubuntu LTS" },
	{ "dry-run", 0, OPT_BOOL, NULL, NULL, "print the plan, change nothing" },
	{ "yes", 'y', OPT_BOOL, NULL, NULL, "do not ask before starting" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	{ "dry-run", 0, OPT_BOOL, NULL, NULL, "print the plan, change nothing" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/* grafana open: a tunnel 127.0.0.1:LPORT -> grafana:3000 through the jump
 * host (what the seed did with a hand-made ssh -L), and the URL. */
static int
grafana_open(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	long long port = cmd_opt_int(a, "port", 3000);
	cJSON *t;
	char *url;

	if (port < 0 || port > 65535)
		return cmd_usage_error(ctx, a, "--port must be 0-65535");
	if ((t = tunnel_open(ctx, "grafana", (int)port, 3000)) == NULL)
		return 1;
	url = xasprintf("http://%s/",
	    cJSON_GetObjectItemCaseSensitive(t, "local")->valuestring);
	cJSON_AddStringToObject(t, "url", url);
	free(url);
	if (!ctx->interactive) {
		/* Nothing would keep the tunnel open after this command. */
		shell_print_result(ctx, t, a->json);
		cJSON_Delete(t);
		tunnel_hold(ctx);
		return 0;
	}
	*result = t;
	return 0;
}

static const struct mlsh_opt open_opts[] = {
	{ "port", 'p', OPT_INT, NULL, "LPORT",
	    "local port on 127.0.0.1 (default 3000; 0 picks a free one)" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd grafana_subcmds[] = {
	{ .name = "up", .summary = "start Grafana in the private subnet",
	    .help = "An Ubuntu instance (t3.small) whose user-data installs "
	    "Grafana with a CloudWatch data source (through its instance role, "
	    "CloudWatchReadOnlyAccess) and the training dashboard (CPU, "
	    "memory, GPU/HPU, disk per node). Idempotent.",
	    .opts = up_opts, .min_args = 0, .max_args = 0,
	    .complete = grafana_complete, .exec = grafana_up },
	{ .name = "down", .summary = "terminate Grafana and remove its role",
	    .opts = down_opts, .min_args = 0, .max_args = 0,
	    .exec = grafana_down },
	{ .name = "status", .summary = "Grafana's state and address",
	    .min_args = 0, .max_args = 0, .exec = grafana_status,
	    .flags = CMD_NO_HISTORY },
	{ .name = "open", .summary = "tunnel 127.0.0.1:3000 to Grafana through "
	    "the jump host and print the URL", .opts = open_opts,
	    .min_args = 0, .max_args = 0, .exec = grafana_open },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_grafana_entry = {
	.name = "grafana",
	.summary = "Grafana with CloudWatch and the training dashboard",
	.help = "The dashboard is scripts/grafana-dashboard.json, built into "
	    "mlsh; metrics come from the nodes' and notebooks' user-data "
	    "(namespace mlsh, dimensions Workspace and Node).",
	.subcmds = grafana_subcmds,
};
