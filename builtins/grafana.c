/* grafana: a Grafana instance in the private subnet with a CloudWatch data
 * source (credentials from its instance role, CloudWatchReadOnlyAccess) and
 * the training dashboard of scripts/grafana-dashboard.json, both provisioned
 * by its user-data (scripts/userdata/grafana.sh). `grafana open` (a tunnel
 * through the jump host) comes with the SSH builtins. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <openssl/evp.h>
#include "builtins/tunnel.h"
#include "lab/lab.h"
#include "builtins/autostop.h"
#include "builtins/node.h"
#include "builtins/stackcmd.h"
#include "stack/iam.h"
#include "lib/state.h"
#include "stack/userdata.h"

#define GRAFANA_ROLE	"grafana"
#define GRAFANA_TYPE	"t3.small"
#define GRAFANA_PORT	3000
#define GRAFANA_DISK_GB	20

/* Canonical's Ubuntu LTS: the SSM parameter, else the newest image. */
#define UBUNTU_SSM "/aws/service/canonical/ubuntu/server/22.04/stable/" \
	"current/amd64/hvm/ebs-gp2/ami-id"
#define UBUNTU_OWNER "099720109477"

#define PASSWORD_LEN	24	/* base64url characters: 144 random bits */
#define MARKER		"mlsh-grafana: "

static cJSON *grafana_row(struct stack *);
static const char *grafana_password(struct stack *, int make);
static void grafana_forget_password(struct stack *);
static char *grafana_console_state(struct stack *, const char *id);

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
	struct userdata_var vars[3] = { { "DASHBOARD", NULL },
	    { "ADMIN_PASSWORD", NULL }, { "AUTOSTOP", NULL } };
	char autostop[24];
	char *ami = NULL, *ud = NULL, *dj = NULL;
	cJSON *d;
	int rc = 1;

	if (autostop_option(ctx, a, autostop, sizeof autostop) != 0)
		return 1;
	vars[2].value = autostop;
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
	vars[0].value = dj;
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
	/* Made and saved before the launch: a re-run after a crash sends the
	 * same RunInstances (same ClientToken), so the same password. */
	if ((vars[1].value = grafana_password(&st, 1)) == NULL)
		goto out;
	if ((ud = node_user_data(&st, "scripts/userdata/grafana.sh",
	    GRAFANA_ROLE, vars, 3)) == NULL)
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
	/* What leaving the shell and status show (autostop.h). */
	stack_set_attr(&st, GRAFANA_ROLE, "autostop", autostop);
	stack_save(&st);
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
	if (stackcmd_confirm_delete(&st, &one, "grafana") != 0)
		goto out;
	if (stack_delete(&st, &one) == 0 && iam_remove(&st, "grafana") == 0) {
		if (!st.dry_run)
			grafana_forget_password(&st);
		*result = stack_result(&st);
		rc = 0;
	}
out:
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
	switch (stack_type_refresh(&st, rec, &err)) {
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
	{
		const char *state = stack_attr(rec, "state");
		char *g = state != NULL && strcmp(state, "running") == 0 ?
		    grafana_console_state(&st, stack_attr(rec, "id")) :
		    xstrdup("-");
		cJSON_AddStringToObject(*result, "grafana", g);
		if (str_startswith(g, "did not install"))
			shell_warn(ctx, "grafana: Grafana did not install on %s: "
			    "%s", stack_attr(rec, "id"), g +
			    strlen("did not install: "));
		free(g);
	}
	stack_close(&st);
	return 0;
}

/* What the user-data said on the console: its last "mlsh-grafana:" line.
 * "ready", "did not install: <why>", "installing (<last step>)", or
 * "unknown (…)" when there is no console output yet (AWS has it a few
 * minutes after boot). Caller frees. */
static char *
grafana_console_state(struct stack *st, const char *id)
{
	cJSON *p = cJSON_CreateObject(), *r = NULL;
	const cJSON *out;
	struct aws_error err;
	char *text = NULL, *line = NULL, *res;

	memset(&err, 0, sizeof err);
	cJSON_AddStringToObject(p, "InstanceId", id);
	if (st->ctx->lab) {
		/* The lab's moto has no console; the lab host's console log
		 * is what GetConsoleOutput would answer. */
		char *path = lab_host_console_path(st->ctx->lab_dir, id);
		char *cause = NULL;
		text = file_read(path, NULL, &cause);
		free(path);
		free(cause);
		if (text == NULL) {
			res = xstrdup("unknown (no console log in the lab yet)");
			goto out;
		}
	} else if (stack_call(st, "ec2", "GetConsoleOutput", p, &r, &err) !=
	    0) {
		res = xasprintf("unknown (no console output: %s)",
		    err.code ? err.code : "error");
		aws_error_release(&err);
		goto out;
	}
	out = cJSON_GetObjectItemCaseSensitive(r, "output");
	if (text == NULL && cJSON_IsString(out) && *out->valuestring != '\0') {
		size_t len = strlen(out->valuestring);
		int n;
		text = xmalloc(len / 4 * 3 + 4);
		n = EVP_DecodeBlock((unsigned char *)text,
		    (const unsigned char *)out->valuestring, (int)len);
		if (n < 0)
			n = 0;
		text[n] = '\0';
	}
	/* The last marker line wins (a re-run of the script appends). */
	for (char *q = text; q != NULL && *q != '\0'; ) {
		char *nl = strchr(q, '\n');
		char *m = strstr(q, MARKER);
		if (m != NULL && (nl == NULL || m < nl)) {
			free(line);
			line = nl ? xasprintf("%.*s", (int)(nl - m -
			    strlen(MARKER)), m + strlen(MARKER)) :
			    xstrdup(m + strlen(MARKER));
			if (*line && line[strlen(line) - 1] == '\r')
				line[strlen(line) - 1] = '\0';
		}
		q = nl ? nl + 1 : NULL;
	}
	if (line == NULL)
		res = xstrdup("unknown (no mlsh-grafana line on the console "
		    "yet)");
	else if (str_startswith(line, "ready"))
		res = xstrdup("ready");
	else if (str_startswith(line, "FAILED"))
		res = xasprintf("did not install: %s", line + 6 +
		    (line[6] == ' '));
	else
		res = xasprintf("installing (%s)", line);
out:
	free(line);
	free(text);
	cJSON_Delete(p);
	cJSON_Delete(r);
	return res;
}

/* The admin password, from the state ("grafana": {"admin_password"}); with
 * make, one is made when there is none: PASSWORD_LEN characters of
 * base64url from the kernel's random source, saved at once (the state file
 * is written 0600). In a dry run nothing is made or saved. Borrowed; NULL
 * (after cmd_error when make) when there is none. */
static const char *
grafana_password(struct stack *st, int make)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	cJSON *root = st->state ? st->state->root : NULL, *g, *pw;
	unsigned char r[PASSWORD_LEN];
	char out[PASSWORD_LEN + 1];
	size_t got = 0;

	if (root == NULL)
		return NULL;
	g = cJSON_GetObjectItemCaseSensitive(root, "grafana");
	pw = cJSON_GetObjectItemCaseSensitive(g, "admin_password");
	/* Kept while a grafana record (even a pending launch) exists; one
	 * left by a `down` that removed the instance is not reused. */
	if (cJSON_IsString(pw) && strlen(pw->valuestring) >= 16 &&
	    (!make || stack_rec(st, GRAFANA_ROLE) != NULL))
		return pw->valuestring;
	if (!make)
		return NULL;
	if (st->dry_run)
		return "(generated-at-launch)";
	/* One byte per character, 6 bits of it: no bias, 144 bits. */
	while (got < sizeof r) {
		ssize_t n = getrandom(r + got, sizeof r - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof r) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		got = 0;
		while (fd >= 0 && got < sizeof r) {
			ssize_t n = read(fd, r + got, sizeof r - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (fd >= 0)
			close(fd);
		if (got < sizeof r) {
			cmd_error(st->ctx, "cannot read /dev/urandom for the "
			    "grafana admin password");
			return NULL;
		}
	}
	for (size_t i = 0; i < PASSWORD_LEN; i++)
		out[i] = b64url[r[i] & 63];
	out[PASSWORD_LEN] = '\0';
	if (!cJSON_IsObject(g)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "grafana");
		g = cJSON_AddObjectToObject(root, "grafana");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(g, "admin_password");
	pw = cJSON_AddStringToObject(g, "admin_password", out);
	if (stack_save(st) != 0)
		return NULL;
	return pw->valuestring;
}

static void
grafana_forget_password(struct stack *st)
{
	if (st->state == NULL || st->state->root == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(st->state->root, "grafana");
	stack_save(st);
}

static cJSON *
grafana_row(struct stack *st)
{
	cJSON *rec = stack_rec(st, GRAFANA_ROLE), *o = cJSON_CreateObject();
	const char *ip = stack_attr(rec, "private_ip");
	double h = stack_rec_hourly(&st->prices, rec);

	stackcmd_add_text(o, "id", stack_attr(rec, "id"));
	stackcmd_add_text(o, "state", stack_attr(rec, "state"));
	stackcmd_add_text(o, "type", stack_attr(rec, "instance_type"));
	stackcmd_add_text(o, "private_ip", ip);
	if (ip != NULL) {
		char *url = xasprintf("http://%s:%d (through the jump host: "
		    "grafana open)", ip, GRAFANA_PORT);
		cJSON_AddStringToObject(o, "url", url);
		free(url);
	}
	json_add_usd(o, "usd_per_hour", h);
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
	{ "autostop", 0, OPT_STRING, NULL, "DURATION",
	    "stop Grafana once idle this long: no SSH session, no tunnel in "
	    "use, low CPU (default 60m; 30m, 2h, off)" },
	OPT_DRY_RUN("print the plan, change nothing"),
	OPT_YES("do not ask before starting"),
	OPT_OVER_BUDGET,
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_FORCE("delete without asking (needed without a terminal)"),
	OPT_DRY_RUN("print the plan, change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/* grafana open: a tunnel 127.0.0.1:LPORT -> grafana:3000 through the jump
 * host (what the seed did with a hand-made ssh -L), and the URL. */
static int
grafana_open(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	long long port = cmd_opt_num(a, "port");
	cJSON *t;
	char *url, *password;

	{
		/* The login, read before the tunnel holds the terminal. */
		struct stack st;
		const char *p;
		if (stack_open(ctx, NULL, &st) != 0)
			return 1;
		p = grafana_password(&st, 0);
		password = p ? xstrdup(p) : NULL;
		stack_close(&st);
	}
	if ((t = tunnel_open(ctx, "grafana", (int)port, 3000)) == NULL) {
		free(password);
		return 1;
	}
	url = xasprintf("http://%s/",
	    cJSON_GetObjectItemCaseSensitive(t, "local")->valuestring);
	cJSON_AddStringToObject(t, "url", url);
	free(url);
	cJSON_AddStringToObject(t, "user", "admin");
	cJSON_AddStringToObject(t, "password", password ? password :
	    "unknown (made before mlsh kept it: grafana down; grafana up)");
	free(password);
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
	OPT_NUM("port", 'p', "LPORT",
	    "local port on 127.0.0.1 (default 3000; 0 picks a free one)",
	    0, 65535, 3000),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd grafana_subcmds[] = {
	{ .name = "up", .summary = "start Grafana in the private subnet",
	    .help = "An Ubuntu instance (t3.small) whose user-data installs "
	    "Grafana with a CloudWatch data source (through its instance role, "
	    "CloudWatchReadOnlyAccess) and the training dashboard (CPU, "
	    "memory, GPU/HPU, disk per node). Idempotent. Its user-data "
	    "installs the same idle watchdog as a node's: with no SSH "
	    "session, no connection to :3000 (a `grafana open` tunnel in "
	    "use) and CPU below 10 % for --autostop (default 60m), it stops "
	    "itself; `status --refresh` shows when.",
	    .opts = up_opts, .min_args = 0, .max_args = 0,
	    .complete = grafana_complete, .exec = grafana_up },
	{ .name = "down", .summary = "terminate Grafana and remove its role",
	    .opts = down_opts, .min_args = 0, .max_args = 0,
	    .exec = grafana_down },
	{ .name = "status", .summary = "Grafana's state and address",
	    .help = "Also whether Grafana installed: the user-data prints "
	    "\"mlsh-grafana: ready on :3000\" or \"mlsh-grafana: FAILED "
	    "<why>\" on the console, read with GetConsoleOutput (AWS has it "
	    "a few minutes after boot).",
	    .min_args = 0, .max_args = 0, .exec = grafana_status,
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
	{ .name = "open", .summary = "tunnel 127.0.0.1:3000 to Grafana through "
	    "the jump host and print the URL and the admin login",
	    .help = "The admin password is made by `grafana up` (24 random "
	    "characters, kept in the workspace's state file, mode 0600) and "
	    "given to Grafana by its user-data; Grafana never has admin/admin.",
	    .opts = open_opts,
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
