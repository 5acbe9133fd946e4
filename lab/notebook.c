/* notebook.c: SageMaker notebook instances as lab hosts.
 *
 * A notebook NAME in the control plane becomes the host "nb-NAME": its own
 * namespaces in the subnet it was created in (an address the lab picks from
 * the top of the subnet, clear of the instances and mount targets), login
 * user ec2-user, EFS mountable as on any host. While SageMaker would be
 * starting it (Pending) the lab runs what SageMaker runs, in order, as root
 * inside the host, each within SageMaker's 5 minutes:
 *
 *   - the default code repository, copied into ~ec2-user/SageMaker/<repo>
 *     from the local directory $MLSH_LAB_REPO_DIR (the lab has no network);
 *   - the lifecycle configuration's OnCreate, once in the notebook's life;
 *   - its OnStart, at every start;
 *   - Jupyter (Debian's notebook 6) as ec2-user on port 8443, plain HTTP
 *     (SageMaker's listens on 8443 behind its proxy), which lets in the
 *     holders of a presigned URL (lab/jupyter_config.py).
 *
 * Each script's output goes where SageMaker sends it: CloudWatch Logs, group
 * /aws/sagemaker/NotebookInstances, stream NAME/LifecycleConfigOnStart (or
 * OnCreate) — here moto's CloudWatch Logs, so `notebook logs` reads it the
 * same way on AWS and in the lab. A script that exits non-zero or runs over
 * 5 minutes puts the notebook in Failed with a FailureReason; Jupyter
 * listening puts it InService (lab/motoext.py holds both statuses). See
 * https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_NotebookInstanceLifecycleHook.html
 * ("Lifecycle configuration scripts cannot run for longer than 5 minutes.
 * If a script runs for longer than 5 minutes, it fails and the notebook
 * instance is not created or started.").
 *
 * Stop: the host stops (every process ends, hosts/<id>/boot is emptied);
 * start: OnStart and Jupyter again; delete: the host goes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws.h"
#include "lab/ctrl.h"
#include "lab/lab.h"
#include "lab/lab_int.h"

#include "lab_embedded.inc"

#define NB_PORT 8443
#define NB_USER "ec2-user"
#define NB_HOME "/home/" NB_USER "/SageMaker"
#define NB_LIMIT_S "300"	/* SageMaker's 5 minutes */
/* The limit in seconds: SageMaker's, or MLSH_LAB_LIFECYCLE_LIMIT_S from
 * the environment of the `lab up` that started the reconciler (a test's
 * shorter one). */
static const char *
nb_limit(void)
{
	const char *e = getenv("MLSH_LAB_LIFECYCLE_LIMIT_S");

	return e != NULL && *e != '\0' && strlen(e) < 6 &&
	    strspn(e, "0123456789") == strlen(e) && atoi(e) > 0 ? e :
	    NB_LIMIT_S;
}
#define NB_SYS "/run/mlshlab/host"	/* hosts/<id>/sys inside the host */
#define NB_LOG_GROUP "/aws/sagemaker/NotebookInstances"

const char *
lab_embedded(const char *path)
{
	for (size_t i = 0; embedded_files[i].path != NULL; i++)
		if (strcmp(embedded_files[i].path, path) == 0)
			return embedded_files[i].text;
	return NULL;
}

/* What the reconciler knows of a notebook between polls. */
struct nb {
	char *name, *host;	/* "NAME", "nb-NAME" */
	char *arn, *lc_arn;
	char *vpc_id, *subnet_id, *vpc_cidr, *subnet_cidr, *ip;
	char *oncreate, *onstart;	/* the scripts, decoded; NULL: none */
	char *repo;		/* DefaultCodeRepository */
	char *status;		/* as of this poll */
	int seen;		/* in this poll's list */
	int broken;		/* cannot be a host (no subnet …): logged */
};
static struct nb **nbs;
static size_t nnbs;

static void
nb_free(struct nb *b)
{
	free(b->name);
	free(b->host);
	free(b->arn);
	free(b->lc_arn);
	free(b->vpc_id);
	free(b->subnet_id);
	free(b->vpc_cidr);
	free(b->subnet_cidr);
	free(b->ip);
	free(b->oncreate);
	free(b->onstart);
	free(b->repo);
	free(b->status);
	free(b);
}

void
lab_nb_forget(void)
{
	for (size_t i = 0; i < nnbs; i++)
		nb_free(nbs[i]);
	free(nbs);
	nbs = NULL;
	nnbs = 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* One call; the answer (caller frees) or NULL. */
static cJSON *
call(struct aws_client *c, const char *svc, const char *action, cJSON *p,
    struct aws_error *err)
{
	cJSON *r = NULL;
	int rc;

	memset(err, 0, sizeof *err);
	rc = aws_call(c, svc, action, p, &r, err);
	cJSON_Delete(p);
	if (rc != 0) {
		cJSON_Delete(r);
		return NULL;
	}
	return r;
}

static cJSON *
by_name(const char *key, const char *name)
{
	cJSON *p = cJSON_CreateObject();

	cJSON_AddStringToObject(p, key, name);
	return p;
}

static char *
hook_script(const cJSON *lc, const char *hook)
{
	const char *b64 = json_string(cJSON_GetArrayItem(cJSON_GetObjectItem(lc,
	    hook), 0), "Content");
	size_t n;

	return b64 != NULL && *b64 != '\0' ? lab_b64decode(b64, &n) : NULL;
}

/* The notebook's network and lifecycle scripts, asked once. */
static int
nb_learn(struct aws_client *c, struct nb *b, FILE *log)
{
	struct aws_error err;
	cJSON *d, *lc = NULL;
	const char *lcname;

	d = call(c, "sagemaker", "DescribeNotebookInstance",
	    by_name("NotebookInstanceName", b->name), &err);
	if (d == NULL) {
		aws_error_release(&err);
		return -1;
	}
	b->arn = dup_or_null(json_string(d, "NotebookInstanceArn"));
	b->subnet_id = dup_or_null(json_string(d, "SubnetId"));
	b->repo = dup_or_null(json_string(d, "DefaultCodeRepository"));
	lcname = json_string(d, "NotebookInstanceLifecycleConfigName");
	if (lcname != NULL && *lcname != '\0') {
		lc = call(c, "sagemaker", "DescribeNotebookInstanceLifecycleConfig",
		    by_name("NotebookInstanceLifecycleConfigName", lcname), &err);
		aws_error_release(&err);
		b->lc_arn = dup_or_null(json_string(lc,
		    "NotebookInstanceLifecycleConfigArn"));
		b->oncreate = hook_script(lc, "OnCreate");
		b->onstart = hook_script(lc, "OnStart");
		cJSON_Delete(lc);
	}
	cJSON_Delete(d);
	if (b->subnet_id != NULL) {
		b->subnet_cidr = lab_ec2_first(c, "DescribeSubnets", "SubnetId.1",
		    b->subnet_id, "subnetSet", "cidrBlock");
		b->vpc_id = lab_ec2_first(c, "DescribeSubnets", "SubnetId.1",
		    b->subnet_id, "subnetSet", "vpcId");
	}
	if (b->vpc_id != NULL)
		b->vpc_cidr = lab_ec2_first(c, "DescribeVpcs", "VpcId.1", b->vpc_id,
		    "vpcSet", "cidrBlock");
	if (b->subnet_cidr == NULL || b->vpc_id == NULL) {
		lab_logf(log, "%s: notebook without a subnet the lab knows; "
		    "not a host", b->name);
		b->broken = 1;
	} else
		lab_logf(log, "%s: notebook in %s (%s), OnCreate %s, OnStart "
		    "%s", b->name, b->subnet_id, b->subnet_cidr,
		    b->oncreate ? "yes" : "none", b->onstart ? "yes" : "none");
	return 0;
}

/* An address already taken in the VPC: an instance's, a mount target's or
 * another notebook's. */
static int
ip_taken(const char *state, const cJSON *items, const struct nb *b,
    const char *ip)
{
	const cJSON *res, *inst;
	char *p = lab_path(state, "vpcs/%s/mt/%s", b->vpc_id, ip);
	int taken = access(p, F_OK) == 0;

	free(p);
	cJSON_ArrayForEach(res, items)
		cJSON_ArrayForEach(inst, cJSON_GetObjectItem(res,
		    "instancesSet")) {
			const char *a = json_string(inst, "privateIpAddress");
			if (a != NULL && strcmp(a, ip) == 0)
				taken = 1;
		}
	for (size_t i = 0; i < nnbs; i++)
		if (nbs[i] != b && nbs[i]->ip != NULL &&
		    strcmp(nbs[i]->ip, ip) == 0 &&
		    strcmp(nbs[i]->vpc_id, b->vpc_id) == 0)
			taken = 1;
	return taken;
}

/* The host's address: the one it has, else the highest free one of the
 * subnet (AWS keeps the last address and the first four). */
static void
nb_address(const char *state, const cJSON *items, struct nb *b)
{
	char *spec = lab_path(state, "hosts/%s/spec", b->host), *c = NULL;
	char *text = file_read(spec, NULL, &c), *at;
	unsigned int net;
	int len;

	free(c);
	free(spec);
	if (text != NULL && (at = strstr(text, "private_ip=")) != NULL) {
		at += strlen("private_ip=");
		b->ip = xstrndup(at, strcspn(at, "\n"));
		free(text);
		return;
	}
	free(text);
	if (lab_cidr_parse(b->subnet_cidr, &net, &len) == -1 || len > 28)
		return;
	for (unsigned int a = net + (1U << (32 - len)) - 2; a > net + 3; a--) {
		char *ip = lab_ip_str(a);
		if (!ip_taken(state, items, b, ip)) {
			b->ip = ip;
			return;
		}
		free(ip);
	}
}

static struct nb *
nb_find(const char *name)
{
	for (size_t i = 0; i < nnbs; i++)
		if (strcmp(nbs[i]->name, name) == 0)
			return nbs[i];
	return NULL;
}

/* Existing notebook hosts, kept as they are: a listing that failed must
 * not remove them. */
static void
keep_hosts(const char *state, struct lab_want **want, size_t *n)
{
	struct strlist hosts;
	char *cause = NULL;

	strlist_init(&hosts);
	lab_host_list(state, &hosts, &cause);
	free(cause);
	for (size_t i = 0; i < hosts.n; i++) {
		struct nb *b;
		const char *st;

		if (!str_startswith(hosts.v[i], "nb-") ||
		    (b = nb_find(hosts.v[i] + 3)) == NULL)
			continue;
		st = lab_host_state(state, b->host);
		*want = xreallocarray(*want, *n + 1, sizeof **want);
		memset(&(*want)[*n], 0, sizeof **want);
		(*want)[*n].spec.instance_id = b->host;
		(*want)[*n].running = st != NULL && strcmp(st, "running") == 0;
		(*n)++;
	}
	strlist_release(&hosts);
}

void
lab_nb_want(const char *state, struct aws_client *c, const struct cJSON *items,
    const char *region, struct lab_want **want, size_t *n, FILE *log)
{
	struct aws_error err;
	cJSON *all = NULL, *it;

	memset(&err, 0, sizeof err);
	if (aws_paginate(c, "sagemaker", "ListNotebookInstances", NULL,
	    "NotebookInstances", 20, &all, &err) != 0) {
		aws_error_release(&err);
		keep_hosts(state, want, n);
		return;
	}
	for (size_t i = 0; i < nnbs; i++)
		nbs[i]->seen = 0;
	cJSON_ArrayForEach(it, all) {
		const char *name = json_string(it, "NotebookInstanceName");
		const char *st = json_string(it, "NotebookInstanceStatus");
		struct nb *b;
		struct lab_host_spec *s;

		if (name == NULL || st == NULL)
			continue;
		if ((b = nb_find(name)) == NULL) {
			b = xcalloc(1, sizeof *b);
			b->name = xstrdup(name);
			b->host = xasprintf("nb-%s", name);
			if (!lab_id_ok(b->host) || nb_learn(c, b, log) != 0) {
				nb_free(b);
				continue;
			}
			nbs = xreallocarray(nbs, nnbs + 1, sizeof *nbs);
			nbs[nnbs++] = b;
		}
		b->seen = 1;
		free(b->status);
		b->status = xstrdup(st);
		if (b->broken)
			continue;
		if (b->ip == NULL)
			nb_address(state, items, b);
		if (b->ip == NULL)
			continue;
		*want = xreallocarray(*want, *n + 1, sizeof **want);
		memset(&(*want)[*n], 0, sizeof **want);
		s = &(*want)[*n].spec;
		s->instance_id = b->host;
		s->vpc_id = b->vpc_id;
		s->vpc_cidr = b->vpc_cidr;
		s->subnet_id = b->subnet_id;
		s->subnet_cidr = b->subnet_cidr;
		s->private_ip = b->ip;
		s->user = NB_USER;
		s->hostname = NULL;
		s->ctrl_port = LAB_CTRL_PORT;
		s->region = region;
		(*want)[*n].running = strcmp(st, "Pending") == 0 ||
		    strcmp(st, "InService") == 0;
		(*n)++;
	}
	cJSON_Delete(all);
	/* A deleted notebook is forgotten (its host goes in lab_apply). */
	for (size_t i = 0; i < nnbs; ) {
		if (!nbs[i]->seen) {
			nb_free(nbs[i]);
			nbs[i] = nbs[--nnbs];
		} else
			i++;
	}
}

/* ---- one boot: code, OnCreate, OnStart, Jupyter -------------------------- */

static int
exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* hosts/<host>/<rel> (allocated). */
static char *
hpath(const char *state, const struct nb *b, const char *rel)
{
	return lab_path(state, "hosts/%s/%s", b->host, rel);
}

static void
touch(const char *path)
{
	char *c = NULL;

	if (lab_write_file(path, "", 0, 0600, &c) == -1)
		free(c);
}

/* The status the lab holds in front of moto (lab/motoext.py). */
static void
set_status(struct aws_client *c, struct nb *b, const char *status,
    const char *reason, FILE *log)
{
	struct aws_error err;
	cJSON *p = by_name("NotebookInstanceName", b->name), *r;

	cJSON_AddStringToObject(p, "NotebookInstanceStatus", status);
	if (reason != NULL)
		cJSON_AddStringToObject(p, "FailureReason", reason);
	r = call(c, "sagemaker", "MlshLabSetNotebookInstanceStatus", p, &err);
	if (r == NULL)
		lab_logf(log, "%s: cannot set %s: %s", b->name, status,
		    err.message ? err.message : "failed");
	else {
		lab_logf(log, "%s: %s%s%s", b->name, status, reason ? ": " : "",
		    reason ? reason : "");
		free(b->status);
		b->status = xstrdup(status);
	}
	aws_error_release(&err);
	cJSON_Delete(r);
}

/* A finished script's output into CloudWatch Logs, where SageMaker puts it:
 * group /aws/sagemaker/NotebookInstances, stream NAME/LifecycleConfigHOOK. */
static void
put_log(struct aws_client *c, const struct nb *b, const char *hook,
    const char *path)
{
	char *cause = NULL, *text = file_read(path, NULL, &cause), *stream;
	char *line, *save;
	cJSON *p, *ev;
	struct aws_error err;
	double t = (double)time(NULL) * 1000;
	int n = 0;

	free(cause);
	stream = xasprintf("%s/LifecycleConfig%s", b->name, hook);
	cJSON_Delete(call(c, "logs", "CreateLogGroup", by_name("logGroupName",
	    NB_LOG_GROUP), &err));
	aws_error_release(&err);
	p = by_name("logGroupName", NB_LOG_GROUP);
	cJSON_AddStringToObject(p, "logStreamName", stream);
	cJSON_Delete(call(c, "logs", "CreateLogStream", p, &err));
	aws_error_release(&err);
	p = by_name("logGroupName", NB_LOG_GROUP);
	cJSON_AddStringToObject(p, "logStreamName", stream);
	ev = cJSON_AddArrayToObject(p, "logEvents");
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL &&
	    n < 5000; line = strtok_r(NULL, "\n", &save), n++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "timestamp", t);
		cJSON_AddStringToObject(e, "message", line);
		cJSON_AddItemToArray(ev, e);
	}
	if (n > 0)
		cJSON_Delete(call(c, "logs", "PutLogEvents", p, &err));
	else
		cJSON_Delete(p);
	aws_error_release(&err);
	free(stream);
	free(text);
}

/* One lifecycle hook through its states, by its files (prefix: where they
 * live, "boot/onstart" or "oncreate"): started, then .rc written by the
 * runner. 1: done with status 0; 0: not yet; -1: failed (the notebook is
 * Failed). */
static int
run_hook(const char *state, struct aws_client *c, struct nb *b,
    const char *hook, const char *script, const char *prefix, FILE *log)
{
	char *base = hpath(state, b, prefix), *line, *cause = NULL;
	char *sp = xasprintf("%s.started", base), *rcf = xasprintf("%s.rc", base);
	char *logf = xasprintf("%s.log", base);
	const char *Hook = hook[0] == 'c' ? "OnCreate" : "OnStart";
	char *done = xasprintf("%s.done", base);
	int rc = 0, status;

	if (exists(done)) {
		/* Handled on an earlier poll: its result only. */
		line = lab_read_line(rcf);
		rc = line != NULL && atoi(line) == 0 ? 1 : -1;
		free(line);
	} else if (!exists(sp)) {
		/* The script in the host's read-only sys directory; bash runs
		 * it under coreutils' timeout (status 124 when killed). */
		char *in = xasprintf("%s/on-%s", NB_SYS, hook);
		char *path = lab_path(state, "hosts/%s/sys/on-%s", b->host, hook);
		char *argv[] = { "/usr/bin/timeout", "-k", "5",
		    (char *)nb_limit(), "/bin/bash", in, NULL };

		if (lab_write_file(path, script, strlen(script), 0700,
		    &cause) == -1 || lab_host_spawn(state, b->host, argv, logf,
		    rcf, NULL, &cause) == -1) {
			lab_logf(log, "%s: %s: %s", b->name, Hook, cause);
			free(cause);
		} else
			lab_logf(log, "%s: %s started", b->name, Hook);
		touch(sp);
		free(in);
		free(path);
	} else if ((line = lab_read_line(rcf)) != NULL && *line != '\0') {
		status = atoi(line);
		put_log(c, b, Hook, logf);
		touch(done);
		if (status == 0) {
			lab_logf(log, "%s: %s done", b->name, Hook);
			rc = 1;
		} else {
			char *what = status != 124 ? xstrdup("failed") :
			    strcmp(nb_limit(), NB_LIMIT_S) == 0 ?
			    xstrdup("took longer than 5 minutes") :
			    xasprintf("took longer than the lab's %s seconds",
			    nb_limit());
			char *why = xasprintf("Notebook Instance Lifecycle "
			    "Config '%s' for Notebook Instance '%s' %s (%s exit "
			    "status %d); see notebook logs", b->lc_arn ?
			    b->lc_arn : "?", b->arn ? b->arn : b->name, what,
			    Hook, status);
			set_status(c, b, "Failed", why, log);
			free(what);
			free(why);
			rc = -1;
		}
		free(line);
	} else
		free(line);	/* still runs */
	free(base);
	free(sp);
	free(rcf);
	free(logf);
	free(done);
	return rc;
}

/* Before the scripts, what SageMaker has ready: ~ec2-user/SageMaker (the
 * notebook's volume) and the default code repository in it, here copied
 * from $MLSH_LAB_REPO_DIR. */
static void
prepare(const char *state, const struct nb *b, FILE *log)
{
	static const char sh[] =
	    "mkdir -p " NB_HOME " && chown " NB_USER ":" NB_USER " " NB_HOME
	    " || exit 1\n"
	    "[ -n \"$2\" ] && [ -d \"$1\" ] && [ ! -e \"" NB_HOME "/$2\" ] || "
	    "exit 0\n"
	    "cp -r \"$1\" \"" NB_HOME "/$2\" && chown -R " NB_USER ":" NB_USER
	    " \"" NB_HOME "/$2\" && echo \"$1 copied into " NB_HOME "/$2\"\n";
	const char *src = getenv("MLSH_LAB_REPO_DIR"), *base = NULL;
	char *repo = NULL, *cause = NULL, *clog = hpath(state, b, "console.log");
	int fd, status = 0;

	if (b->repo != NULL && src != NULL && *src == '/') {
		size_t n;

		base = strrchr(b->repo, '/') ? strrchr(b->repo, '/') + 1 :
		    b->repo;
		n = strlen(base);
		if (n > 4 && strcmp(base + n - 4, ".git") == 0)
			n -= 4;
		repo = xstrndup(base, n);
		if (n == 0 || repo[0] == '.' || strspn(repo, "abcdefghijklmnop"
		    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != n) {
			free(repo);
			repo = NULL;
		}
	}
	/* The host sees the machine's files, but not under /home, /root, /tmp
	 * or /run (its own tmpfs there), where a checkout may well be: the
	 * copy goes first, from here, into the host's sys directory, which the
	 * host sees at NB_SYS. */
	if (repo != NULL) {
		char *stage = hpath(state, b, "sys/repo");
		char *argv[] = { "/bin/rm", "-rf", stage, NULL };
		char *cargv[] = { "/bin/cp", "-r", (char *)src, stage, NULL };
		struct lab_proc rm = { .argv = argv, .netns_fd = -1,
		    .utsns_fd = -1, .mntns_fd = -1, .out_fd = -1 };
		struct lab_proc cp = rm;

		cp.argv = cargv;
		if (lab_proc_run(&rm, NULL, &status, &cause) == -1 ||
		    lab_proc_run(&cp, NULL, &status, &cause) == -1 ||
		    status != 0) {
			lab_logf(log, "%s: cannot copy %s: %s", b->name, src,
			    cause != NULL ? cause : "cp failed");
			free(cause);
			cause = NULL;
			free(repo);
			repo = NULL;
		}
		free(stage);
	}
	{
		char *argv[] = { "/bin/sh", "-c", (char *)sh, "prepare",
		    repo ? NB_SYS "/repo" : "", repo ? repo : "", NULL };

		fd = open(clog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (lab_host_exec(state, b->host, argv, fd, &status,
		    &cause) == -1) {
			lab_logf(log, "%s: %s", b->name, cause);
			free(cause);
		} else if (repo != NULL)
			lab_logf(log, "%s: %s copied into " NB_HOME "/%s",
			    b->name, src, repo);
		if (fd >= 0)
			close(fd);
	}
	free(repo);
	free(clog);
}

static void
nb_boot_one(const char *state, struct aws_client *c, struct nb *b, FILE *log)
{
	char *boot = hpath(state, b, "boot"), *p = NULL, *cause = NULL;
	int r;

	if (mkdir_p(boot, 0700, &cause) == -1) {
		free(cause);
		goto out;
	}
	p = hpath(state, b, "boot/prepared");
	if (!exists(p)) {
		prepare(state, b, log);
		touch(p);
	}
	if (b->oncreate != NULL && (r = run_hook(state, c, b, "create",
	    b->oncreate, "oncreate", log)) != 1)
		goto out;
	if (b->onstart != NULL && (r = run_hook(state, c, b, "start",
	    b->onstart, "boot/onstart", log)) != 1)
		goto out;
	free(p);
	p = hpath(state, b, "boot/jupyter.started");
	if (!exists(p)) {
		char *argv[] = { "/usr/bin/setpriv", "--reuid=" NB_USER,
		    "--regid=" NB_USER, "--init-groups", "--reset-env",
		    "/usr/bin/jupyter-notebook", "--config=" NB_SYS
		    "/jupyter_config.py", NULL };
		const char *conf = lab_embedded("lab/jupyter_config.py");
		char *cp = hpath(state, b, "sys/jupyter_config.py");
		char *jl = hpath(state, b, "jupyter.log"), *sys = hpath(state, b,
		    "sys");

		/* ec2-user reads the configuration and the tokens in the sys
		 * directory (its other files keep their own modes). */
		chmod(sys, 0711);
		if (lab_write_file(cp, conf, strlen(conf), 0644, &cause) == -1 ||
		    lab_host_spawn(state, b->host, argv, jl, NULL, NULL,
		    &cause) == -1) {
			lab_logf(log, "%s: jupyter: %s", b->name, cause);
			free(cause);
		} else
			lab_logf(log, "%s: Jupyter starting on %s:%d", b->name,
			    b->ip, NB_PORT);
		touch(p);
		free(cp);
		free(jl);
		free(sys);
		goto out;
	}
	if (strcmp(b->status, "Pending") == 0 &&
	    lab_host_listening(state, b->host, NB_PORT))
		set_status(c, b, "InService", NULL, log);
out:
	free(boot);
	free(p);
}

void
lab_nb_boot(const char *state, struct aws_client *c, FILE *log)
{
	for (size_t i = 0; i < nnbs; i++) {
		struct nb *b = nbs[i];
		const char *st = lab_host_state(state, b->host);

		if (b->broken || st == NULL || strcmp(st, "running") != 0 ||
		    (strcmp(b->status, "Pending") != 0 &&
		    strcmp(b->status, "InService") != 0))
			continue;
		nb_boot_one(state, c, b, log);
	}
}
