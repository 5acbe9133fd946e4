/* host.c: a lab host: the network namespace of an instance, its own mount and
 * UTS namespaces, its sshd and its user-data.
 *
 * The host's file system is an overlay: the machine's root file system read
 * only underneath, a tmpfs on top private to the host (its /etc/passwd with
 * its login user, /home, /root, anything the user-data writes), fresh tmpfs on
 * /run and /tmp. Nothing a host writes reaches the machine, except the EFS
 * directories bound at /run/mlshlab/efs. The mount and UTS namespaces are
 * kept by bind mounts of their nsfs files under state/nsfs, so a stopped host
 * keeps its files and a started one gets them back.
 *
 * Inside the host, /run/mlshlab/host is the host's state/hosts/<id>/sys
 * directory (sshd's config and host key, the user-data), /run/mlshlab/efs the
 * lab's file systems and /run/mlshlab/mt this VPC's mount targets.
 *
 * A host powers itself off the way a machine does: `shutdown` and `poweroff`
 * in /usr/local/sbin (first in its PATH) write the request file
 * /run/mlshlab/power/request, which is state/hosts/<id>/power/request
 * outside; the reconciler (ctrl.c) turns it into StopInstances, and moto's
 * stopped instance stops the host. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"
#include "lib/gzip.h"

#define HOST_RUN "/run/mlshlab"
/* What an instance role would hand out: moto accepts any key, and on-node
 * agents need one to sign with (the lab has no instance metadata service). */
#define LAB_HOST_KEY_ID "AKIAMLSHLABHOST00000"
#define LAB_HOST_SECRET "mlshlab-host-secret-not-a-real-key"
#define HOST_SYS HOST_RUN "/host"

/* What a host is, as recorded in hosts/<id>/spec. */
struct host {
	char *id;
	char *dir;		/* state/hosts/<id> */
	char *ns;		/* <name>-<id> */
	char *vpc_id;
	int vpc;		/* the VPC's index */
	int index;		/* the host's index: names its veths */
	char *private_ip;
	char *public_ip;	/* NULL: none */
	char *ctrl_url;		/* NULL: none */
	char *region;		/* NULL: none */
	char *user;		/* the login user ("ubuntu") */
};

static int host_load(const char *state, const char *id, struct host *h,
    char **cause);
static void host_release(struct host *h);
static int console_keys(const struct host *h, char **cause);
static int public_up(const char *state, const struct host *h, char **cause);
static void public_down(const char *state, const struct host *h);
static int host_save(const struct host *h, char **cause);
static int host_files(const char *state, const struct host *h,
    const struct lab_host_spec *s, char **cause);
static int host_mkns(const char *state, const struct host *h,
    const char *hostname, char **cause);
static int host_sshd_start(const char *state, const struct host *h,
    char **cause);
static int host_userdata_start(const char *state, const struct host *h,
    char **cause);
static int userdata_gunzip(const char *state, const struct host *h,
    char **cause);
static void host_kill(const char *state, const struct host *h);
static int host_open_ns(const char *state, const struct host *h, int fds[3],
    char **cause);
static void close_ns(int fds[3]);
static char **host_env(const struct host *h);
static void free_env(char **env);
static int host_proc(const char *state, const struct host *h,
    struct lab_proc *p, pid_t *pidp, int *statusp, char **cause);
static int set_state(const struct host *h, const char *what, char **cause);

int
lab_host_create(const char *state, const struct lab_host_spec *s, char **cause)
{
	struct host h = { 0 };
	char *name = NULL, *gw = NULL, *path = NULL, *rtns = NULL;
	char *rtlink = NULL, *br = NULL, *addr = NULL;
	char *ctrl = NULL, *hostname = NULL, *line;
	unsigned int net, ip, tmp;
	int len, plen, subnet, lock, rc = -1, made = 0;

	if (!lab_id_ok(s->instance_id) || !lab_id_ok(s->vpc_id) ||
	    !lab_id_ok(s->subnet_id)) {
		*cause = xstrdup("host: bad instance, vpc or subnet id");
		return -1;
	}
	if (lab_cidr_parse(s->private_ip, &ip, &plen) == -1 || plen != 32 ||
	    (s->vpc_cidr != NULL && lab_cidr_parse(s->vpc_cidr, &tmp, &plen)
	    == -1) || (s->public_ip != NULL && (lab_cidr_parse(s->public_ip,
	    &tmp, &plen) == -1 || plen != 32)) ||
	    lab_cidr_parse(s->subnet_cidr, &net, &len) == -1) {
		*cause = xasprintf("%s: bad address", s->instance_id);
		return -1;
	}
	if (len < 8 || len > 28 || (ip & (~0U << (32 - len))) != net) {
		*cause = xasprintf("%s: %s is not in %s", s->instance_id,
		    s->private_ip, s->subnet_cidr);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	if (!lab_net_is_up(state)) {
		*cause = xstrdup("the lab network is not up");
		goto out;
	}
	path = lab_path(state, "hosts/%s/spec", s->instance_id);
	if (access(path, F_OK) == 0) {
		*cause = xasprintf("host %s exists", s->instance_id);
		goto out;
	}
	if (lab_subnet_ensure(state, s->vpc_id, s->subnet_id, s->subnet_cidr,
	    &subnet, cause) == -1)
		goto out;
	free(path);
	path = lab_path(state, "vpcs/%s/index", s->vpc_id);
	line = lab_read_line(path);
	h.vpc = line != NULL ? atoi(line) : 0;
	free(line);

	name = lab_name(state);
	h.id = xstrdup(s->instance_id);
	h.dir = lab_path(state, "hosts/%s", s->instance_id);
	h.ns = xasprintf("%s-%s", name, s->instance_id);
	h.vpc_id = xstrdup(s->vpc_id);
	h.index = lab_next_index(state, "counter.host");
	h.private_ip = xstrdup(s->private_ip);
	h.public_ip = s->public_ip != NULL ? xstrdup(s->public_ip) : NULL;
	if (s->ctrl_port > 0)
		h.ctrl_url = xasprintf("http://198.18.%d.1:%d", h.vpc,
		    s->ctrl_port);
	h.region = s->region != NULL ? xstrdup(s->region) : NULL;
	h.user = xstrdup(s->user != NULL && lab_id_ok(s->user) ? s->user :
	    "ubuntu");
	if (s->hostname != NULL && lab_id_ok(s->hostname))
		hostname = xstrdup(s->hostname);
	else {
		hostname = xasprintf("ip-%s", s->private_ip);
		for (char *c = hostname; *c != '\0'; c++)
			if (*c == '.')
				*c = '-';
	}

	free(path);
	path = lab_path(state, "hosts/%s/sys", s->instance_id);
	if (mkdir_p(path, 0700, cause) == -1)
		goto out;
	made = 1;
	if (host_save(&h, cause) == -1)
		goto out;
	free(path);
	path = xasprintf("%s/authorized_key", h.dir);
	if (lab_write_file(path, s->ssh_public_key != NULL ?
	    s->ssh_public_key : "", s->ssh_public_key != NULL ?
	    strlen(s->ssh_public_key) : 0, 0600, cause) == -1)
		goto out;

	/* The network: eth0 in the subnet's bridge of the VPC's router. */
	rtns = lab_vpc_netns(state, h.vpc);
	rtlink = xasprintf("mlshh%d", h.index);
	br = xasprintf("mlshs%d", subnet);
	addr = xasprintf("%s/%d", s->private_ip, len);
	gw = lab_ip_str((ip & (~0U << (32 - len))) + 1);
	ctrl = xasprintf("198.18.%d.1/32", h.vpc);
	if (lab_cmd(cause, "ip", "netns", "add", h.ns, (char *)NULL) == -1)
		goto out;
	{
		char *c = NULL;

		if (lab_netns_sysctl(h.ns, "net/ipv6/conf/all/disable_ipv6", "1",
		    &c) == -1)
			free(c);
		c = NULL;
		if (lab_netns_sysctl(h.ns, "net/ipv6/conf/default/disable_ipv6",
		    "1", &c) == -1)
			free(c);
	}
	if (lab_cmd(cause, "ip", "-n", h.ns, "link", "set", "lo", "up",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", rtns, "link", "add", rtlink, "type",
	    "veth", "peer", "name", "eth0", "netns", h.ns, (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", rtns, "link", "set", rtlink, "master", br,
	    "up", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h.ns, "addr", "add", addr, "dev", "eth0",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h.ns, "link", "set", "eth0", "up",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h.ns, "route", "add", ctrl, "via", gw,
	    (char *)NULL) == -1)
		goto out;
	if (s->vpc_cidr != NULL && strcmp(s->vpc_cidr, s->subnet_cidr) != 0 &&
	    lab_cmd(cause, "ip", "-n", h.ns, "route", "add", s->vpc_cidr, "via",
	    gw, (char *)NULL) == -1)
		goto out;

	if (h.public_ip != NULL && public_up(state, &h, cause) == -1)
		goto out;
	/* Its security groups before its sshd: never a moment open. */
	if (s->firewall != NULL) {
		int changed;

		if (lab_fw_apply_locked(state, s->instance_id, s->firewall,
		    &changed, cause) == -1)
			goto out;
	}

	if (host_files(state, &h, s, cause) == -1)
		goto out;
	if (host_mkns(state, &h, hostname, cause) == -1)
		goto out;
	if (host_sshd_start(state, &h, cause) == -1)
		goto out;
	if (s->user_data != NULL && s->user_data_len > 0 &&
	    host_userdata_start(state, &h, cause) == -1)
		goto out;
	rc = set_state(&h, "running", cause);
out:
	if (rc == -1 && made) {
		char *c = NULL;

		if (lab_host_destroy_locked(state, s->instance_id, &c) == -1)
			free(c);
	}
	lab_unlock(lock);
	host_release(&h);
	free(name);
	free(gw);
	free(path);
	free(rtns);
	free(rtlink);
	free(br);
	free(addr);
	free(ctrl);
	free(hostname);
	return rc;
}

int
lab_host_wait(const char *state, const char *id, int timeout_ms, char **cause)
{
	struct host h;
	char *pidfile, *line, tcp[64];
	pid_t pid;
	double end = now_ms() + timeout_ms;
	int rc = -1;

	if (host_load(state, id, &h, cause) == -1)
		return -1;
	pidfile = xasprintf("%s/sshd.pid", h.dir);
	line = lab_read_line(pidfile);
	pid = line != NULL ? (pid_t)atol(line) : 0;
	free(line);
	free(pidfile);
	/* sshd listens when its namespace's /proc/<pid>/net/tcp shows port 22
	 * (0x0016) in state LISTEN (0A): no packet needed to know. */
	snprintf(tcp, sizeof tcp, "/proc/%ld/net/tcp", (long)pid);
	for (;;) {
		char *c = NULL, *text;

		if (pid <= 0 || !lab_pid_alive(pid)) {
			char *log = xasprintf("%s/sshd.log", h.dir);
			char *last = file_read(log, NULL, &c);

			free(c);
			*cause = xasprintf("%s: sshd is not running%s%s", id,
			    last != NULL && *last != '\0' ? ": " : "",
			    last != NULL ? last : "");
			free(last);
			free(log);
			break;
		}
		text = file_read(tcp, NULL, &c);
		free(c);
		if (text != NULL && strstr(text, ":0016 00000000:0000 0A") !=
		    NULL) {
			free(text);
			rc = 0;
			break;
		}
		free(text);
		if (now_ms() >= end) {
			*cause = xasprintf("%s: sshd not listening after %d ms",
			    id, timeout_ms);
			break;
		}
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	host_release(&h);
	return rc;
}

int
lab_host_stop(const char *state, const char *id, char **cause)
{
	struct host h;
	int lock, rc;

	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	if (host_load(state, id, &h, cause) == -1) {
		lab_unlock(lock);
		return -1;
	}
	host_kill(state, &h);
	rc = set_state(&h, "stopped", cause);
	host_release(&h);
	lab_unlock(lock);
	return rc;
}

int
lab_host_start(const char *state, const char *id, char **cause)
{
	struct host h;
	int lock, rc = -1;
	char *pidfile, *line;
	pid_t pid;

	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	if (host_load(state, id, &h, cause) == -1) {
		lab_unlock(lock);
		return -1;
	}
	pidfile = xasprintf("%s/sshd.pid", h.dir);
	line = lab_read_line(pidfile);
	pid = line != NULL ? (pid_t)atol(line) : 0;
	free(line);
	free(pidfile);
	if (pid > 0 && lab_pid_in_netns(pid, h.ns))
		rc = 0;		/* already running */
	else
		rc = host_sshd_start(state, &h, cause);
	if (rc == 0)
		rc = set_state(&h, "running", cause);
	host_release(&h);
	lab_unlock(lock);
	return rc;
}

int
lab_host_destroy(const char *state, const char *id, char **cause)
{
	int lock, rc;

	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	rc = lab_host_destroy_locked(state, id, cause);
	lab_unlock(lock);
	return rc;
}

int
lab_host_destroy_locked(const char *state, const char *id, char **cause)
{
	struct host h;
	char *dir, *c = NULL, *rtns, *link;
	int rc = 0;

	if (!lab_id_ok(id)) {
		*cause = xasprintf("bad instance id \"%s\"", id);
		return -1;
	}
	dir = lab_path(state, "hosts/%s", id);
	if (host_load(state, id, &h, &c) == -1) {
		/* A half-made host: its directory is all there is. */
		free(c);
		lab_rm_rf(dir);
		free(dir);
		return 0;
	}
	host_kill(state, &h);

	/* Its links, explicitly: a namespace still referenced somewhere would
	 * otherwise keep its address alive on the bridge. */
	rtns = lab_vpc_netns(state, h.vpc);
	link = xasprintf("mlshh%d", h.index);
	if (lab_netns_exists(rtns) && lab_cmd(&c, "ip", "-n", rtns, "link",
	    "del", link, (char *)NULL) == -1) {
		free(c);
		c = NULL;
	}
	free(link);
	free(rtns);
	public_down(state, &h);

	/* Its namespaces: the mount and UTS ones end with their last bind. */
	for (int i = 0; i < 2; i++) {
		char *f = lab_path(state, "nsfs/%s.%s", id, i == 0 ? "mnt" :
		    "uts");

		umount2(f, MNT_DETACH);
		unlink(f);
		free(f);
	}
	if (lab_netns_exists(h.ns) && lab_cmd(cause, "ip", "netns", "delete",
	    h.ns, (char *)NULL) == -1)
		rc = -1;
	lab_rm_rf(dir);
	free(dir);
	host_release(&h);
	return rc;
}

const char *
lab_host_state(const char *state, const char *id)
{
	char *path, *line;
	const char *what = NULL;

	if (!lab_id_ok(id))
		return NULL;
	path = lab_path(state, "hosts/%s/state", id);
	line = lab_read_line(path);
	if (line != NULL)
		what = strcmp(line, "running") == 0 ? "running" : "stopped";
	free(line);
	free(path);
	return what;
}

int
lab_host_list(const char *state, struct strlist *out, char **cause)
{
	char *path = lab_path(state, "hosts");
	DIR *dir = opendir(path);
	struct dirent *de;

	free(path);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			strlist_add(out, de->d_name);
	closedir(dir);
	strlist_sort(out);
	return 0;
}

int
lab_host_userdata_status(const char *state, const char *id)
{
	char *path, *line;
	int rc = -1;

	if (!lab_id_ok(id))
		return -1;
	path = lab_path(state, "hosts/%s/userdata.rc", id);
	line = lab_read_line(path);
	if (line != NULL && *line >= '0' && *line <= '9')
		rc = atoi(line);
	free(line);
	free(path);
	return rc;
}

char *
lab_host_console_path(const char *state, const char *id)
{
	return lab_path(state, "hosts/%s/console.log", id);
}

int
lab_host_exec(const char *state, const char *id, char *const argv[], int out_fd,
    int *status, char **cause)
{
	struct host h;
	struct lab_proc p = { .argv = argv, .out_fd = out_fd, .cwd = "/root" };
	int rc;

	if (argv[0] == NULL || argv[0][0] != '/') {
		*cause = xstrdup("host exec: the program needs an absolute path");
		return -1;
	}
	if (host_load(state, id, &h, cause) == -1)
		return -1;
	rc = host_proc(state, &h, &p, NULL, status, cause);
	host_release(&h);
	return rc;
}

int
lab_host_set_public_ip(const char *state, const char *id, const char *ip,
    char **cause)
{
	struct host h;
	unsigned int addr;
	int lock, len, rc = 0;

	if (ip != NULL && (lab_cidr_parse(ip, &addr, &len) == -1 || len != 32)) {
		*cause = xasprintf("%s: bad public IP \"%s\"", id, ip);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	if (host_load(state, id, &h, cause) == -1) {
		lab_unlock(lock);
		return -1;
	}
	if ((h.public_ip == NULL && ip == NULL) || (h.public_ip != NULL &&
	    ip != NULL && strcmp(h.public_ip, ip) == 0))
		goto out;
	/* sshd listens on 0.0.0.0: it answers on the new address as it is. */
	public_down(state, &h);
	free(h.public_ip);
	h.public_ip = ip != NULL ? xstrdup(ip) : NULL;
	if ((rc = host_save(&h, cause)) == 0 && ip != NULL)
		rc = public_up(state, &h, cause);
out:
	host_release(&h);
	lab_unlock(lock);
	return rc;
}

/* The public side: eth1 on the internet bridge, reachable from the client
 * through a /32 route there, and answering the client through eth1. */
static int
public_up(const char *state, const struct host *h, char **cause)
{
	char *core = lab_core_netns(state), *client = lab_client_netns(state);
	char *plink = xasprintf("mlshp%d", h->index);
	char *pub = xasprintf("%s/32", h->public_ip);
	int rc;

	rc = lab_cmd(cause, "ip", "-n", core, "link", "add", plink, "type",
	    "veth", "peer", "name", "eth1", "netns", h->ns, (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "link", "set", plink, "master",
	    "mlshinet", "up", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h->ns, "addr", "add", pub, "dev", "eth1",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h->ns, "link", "set", "eth1", "up",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", h->ns, "route", "add",
	    LAB_CLIENT_ADDR "/32", "dev", "eth1", "src", h->public_ip,
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", client, "route", "add", pub, "dev",
	    "eth0", "src", LAB_CLIENT_ADDR, (char *)NULL) == -1 ? -1 : 0;
	free(core);
	free(client);
	free(plink);
	free(pub);
	return rc;
}

/* Undo public_up, whatever part of it was done. */
static void
public_down(const char *state, const struct host *h)
{
	char *core = lab_core_netns(state), *client = lab_client_netns(state);
	char *plink = xasprintf("mlshp%d", h->index), *pub, *c = NULL;

	if (lab_netns_exists(core) && lab_cmd(&c, "ip", "-n", core, "link",
	    "del", plink, (char *)NULL) == -1) {
		free(c);
		c = NULL;
	}
	if (h->public_ip != NULL && lab_netns_exists(client)) {
		pub = xasprintf("%s/32", h->public_ip);
		if (lab_cmd(&c, "ip", "-n", client, "route", "del", pub,
		    (char *)NULL) == -1)
			free(c);
		free(pub);
	}
	free(core);
	free(client);
	free(plink);
}

/* ---- the host's files ---------------------------------------------------- */

static const char mount_nfs4[] =
"#!/bin/sh\n"
"# mount.nfs4 in an mlsh lab host: <mount-target-ip>:/<path> names an EFS\n"
"# mount target of this VPC; bind the file system's lab directory.\n"
"spec=$1 dir=$2\n"
"ip=${spec%%:*}\n"
"sub=${spec#*:}\n"
"case $ip in ''|*[!0-9.]*) echo \"mount.nfs4: $spec: not a lab mount target\" >&2; exit 32;; esac\n"
"case $sub in /*) ;; *) sub=/$sub;; esac\n"
"case $sub in *..*) echo \"mount.nfs4: $sub: bad path\" >&2; exit 32;; esac\n"
"fs=$(cat \"" HOST_RUN "/mt/$ip\" 2>/dev/null)\n"
"case $fs in ''|*[!A-Za-z0-9-]*) echo \"mount.nfs4: $ip: no mount target at this address in this VPC\" >&2; exit 32;; esac\n"
"src=" HOST_RUN "/efs/$fs$sub\n"
"[ -d \"$src\" ] || { echo \"mount.nfs4: $spec: no such directory\" >&2; exit 32; }\n"
"exec mount --bind \"$src\" \"$dir\"\n";

/* shutdown and poweroff in a lab host: ask the reconciler to stop this
 * instance (any arguments: -h now, -r is not modelled). */
static const char power_off[] =
"#!/bin/sh\n"
"# mlsh lab: the reconciler stops this instance (StopInstances) on request.\n"
"[ \"$(id -u)\" = 0 ] || { echo \"${0##*/}: must be root\" >&2; exit 1; }\n"
"echo \"${0##*/} $*\" >" HOST_RUN "/power/request.tmp &&\n"
"mv " HOST_RUN "/power/request.tmp " HOST_RUN "/power/request\n"
"echo \"${0##*/}: the system is going down\"\n";

/* A file the host's namespace setup writes into its overlay. */
struct hfile {
	char *path;		/* in the host */
	char *data;
	size_t len;
	int mode;
	int dir;		/* a directory: data unused */
	uid_t uid;
	gid_t gid;
};

struct hfiles {
	struct hfile v[24];
	int n;
};

static void
hf_add(struct hfiles *f, const char *path, char *data, int mode, uid_t uid,
    gid_t gid)
{
	struct hfile *e = &f->v[f->n++];

	e->path = xstrdup(path);
	e->data = data;
	e->len = data != NULL ? strlen(data) : 0;
	e->mode = mode;
	e->dir = data == NULL;
	e->uid = uid;
	e->gid = gid;
}

static void
hf_release(struct hfiles *f)
{
	for (int i = 0; i < f->n; i++) {
		free(f->v[i].path);
		free(f->v[i].data);
	}
	f->n = 0;
}

/* The host key, in the console log the way cloud-init prints it, so a
 * client can check the key it is offered against the console output. */
static int
console_keys(const struct host *h, char **cause)
{
	char *pub = xasprintf("%s/sys/ssh_host_ed25519_key.pub", h->dir);
	char *log = xasprintf("%s/console.log", h->dir);
	char *argv[] = { "ssh-keygen", "-l", "-f", pub, NULL };
	char *key, *c = NULL, *text;
	struct buf fp;
	int rc = -1, fd;

	buf_init(&fp);
	key = file_read(pub, NULL, &c);
	free(c);
	if (key == NULL) {
		*cause = xasprintf("%s: cannot read the host key", h->id);
		goto out;
	}
	if (lab_cmdv(argv, &fp, cause) == -1)
		goto out;
	text = xasprintf("-----BEGIN SSH HOST KEY FINGERPRINTS-----\n%s"
	    "-----END SSH HOST KEY FINGERPRINTS-----\n"
	    "-----BEGIN SSH HOST KEY KEYS-----\n%s"
	    "-----END SSH HOST KEY KEYS-----\n", fp.data, key);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		*cause = xasprintf("%s: %s", log, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(text);
out:
	buf_release(&fp);
	free(key);
	free(pub);
	free(log);
	return rc;
}

/* Files the host keeps in state (sshd's config, host key, user-data). */
static int
host_files(const char *state, const struct host *h,
    const struct lab_host_spec *s, char **cause)
{
	struct buf cfg;
	char *path, *key;
	int rc;

	key = xasprintf("%s/power", h->dir);
	if (mkdir(key, 0700) == -1 && errno != EEXIST) {
		*cause = xasprintf("%s: %s", key, strerror(errno));
		free(key);
		return -1;
	}
	free(key);
	key = xasprintf("%s/sys/ssh_host_ed25519_key", h->dir);
	if (access(key, F_OK) != 0 && lab_cmd(cause, "ssh-keygen", "-q", "-t",
	    "ed25519", "-N", "", "-C", h->id, "-f", key, (char *)NULL) == -1) {
		free(key);
		return -1;
	}
	free(key);

	buf_init(&cfg);
	buf_adds(&cfg,
	    "# sshd of lab host (written by mlsh's lab)\n"
	    "Port 22\n"
	    "ListenAddress 0.0.0.0\n"
	    "HostKey " HOST_SYS "/ssh_host_ed25519_key\n"
	    "PidFile none\n"
	    "UsePAM no\n"
	    "PasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\n"
	    "PubkeyAuthentication yes\n"
	    "AuthorizedKeysFile .ssh/authorized_keys\n"
	    "PermitRootLogin no\n"
	    "AllowTcpForwarding yes\n"
	    "AllowStreamLocalForwarding yes\n"
	    "X11Forwarding no\n"
	    "PrintMotd no\n"
	    "PrintLastLog no\n"
	    "UseDNS no\n"
	    "MaxStartups 100:30:200\n"
	    "MaxSessions 64\n"
	    "Subsystem sftp internal-sftp\n");
	if (console_keys(h, cause) == -1) {
		buf_release(&cfg);
		return -1;
	}
	if (h->ctrl_url != NULL || h->region != NULL) {
		buf_adds(&cfg, "SetEnv");
		if (h->ctrl_url != NULL)
			buf_printf(&cfg, " AWS_ENDPOINT_URL=%s "
			    "AWS_ACCESS_KEY_ID=" LAB_HOST_KEY_ID
			    " AWS_SECRET_ACCESS_KEY=" LAB_HOST_SECRET,
			    h->ctrl_url);
		if (h->region != NULL)
			buf_printf(&cfg, " AWS_DEFAULT_REGION=%s AWS_REGION=%s",
			    h->region, h->region);
		buf_addc(&cfg, '\n');
	}
	path = xasprintf("%s/sys/sshd_config", h->dir);
	rc = lab_write_file(path, cfg.data, cfg.len, 0600, cause);
	free(path);
	buf_release(&cfg);
	if (rc == -1)
		return -1;

	if (s->user_data != NULL && s->user_data_len > 0) {
		/* Compressed user-data is kept as it came; the host's own gzip
		 * uncompresses it before it runs (host_userdata_start). */
		int gz = gzip_is(s->user_data, s->user_data_len);

		path = xasprintf("%s/sys/user-data%s", h->dir, gz ? ".gz" : "");
		rc = lab_write_file(path, s->user_data, s->user_data_len,
		    gz ? 0600 : 0700, cause);
		free(path);
	}
	return rc;
}

/* The contents of the host's /etc/passwd, group, shadow, … built from the
 * machine's (system users stay, so programs find theirs) plus the login
 * user ("ubuntu"; "ec2-user" on a notebook host). */
static void
etc_files(const struct host *h, const char *hostname, const char *pubkey,
    struct hfiles *f)
{
	char *passwd, *group, *c = NULL, *line, *save;
	struct buf pw, gr, sh, env;
	unsigned int uid = 1000;
	int taken, have_sshd = 0;
	char *me = xasprintf("%s:", h->user);	/* its passwd/group lines */

	passwd = file_read("/etc/passwd", NULL, &c);
	free(c);
	c = NULL;
	group = file_read("/etc/group", NULL, &c);
	free(c);
	if (passwd == NULL)
		passwd = xstrdup("root:x:0:0:root:/root:/bin/bash\n");
	if (group == NULL)
		group = xstrdup("root:x:0:\n");

	/* The first uid >= 1000 free in both files, for user and group. */
	do {
		char pat[32];

		taken = 0;
		snprintf(pat, sizeof pat, ":x:%u:", uid);
		for (char *p = passwd; (p = strstr(p, pat)) != NULL; p++)
			taken = 1;
		for (char *p = group; (p = strstr(p, pat)) != NULL; p++)
			taken = 1;
		if (taken)
			uid++;
	} while (taken);

	buf_init(&pw);
	buf_init(&gr);
	buf_init(&sh);
	for (line = strtok_r(passwd, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t nl = strcspn(line, ":");

		if (str_startswith(line, me))
			continue;
		if (str_startswith(line, "sshd:"))
			have_sshd = 1;
		buf_printf(&pw, "%s\n", line);
		buf_printf(&sh, "%.*s:*:19000:0:99999:7:::\n", (int)nl, line);
	}
	if (!have_sshd) {
		buf_adds(&pw, "sshd:x:999:65534::/run/sshd:/usr/sbin/nologin\n");
		buf_adds(&sh, "sshd:*:19000:0:99999:7:::\n");
	}
	buf_printf(&pw, "%s:x:%u:%u:%s:/home/%s:/bin/bash\n", h->user, uid,
	    uid, h->user, h->user);
	buf_printf(&sh, "%s:*:19000:0:99999:7:::\n", h->user);
	for (line = strtok_r(group, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (str_startswith(line, me))
			continue;
		if (str_startswith(line, "sudo:") || str_startswith(line, "adm:"))
			buf_printf(&gr, "%s%s%s\n", line,
			    line[strlen(line) - 1] == ':' ? "" : ",", h->user);
		else
			buf_printf(&gr, "%s\n", line);
	}
	buf_printf(&gr, "%s:x:%u:\n", h->user, uid);
	free(passwd);
	free(group);

	buf_init(&env);
	c = NULL;
	{
		char *old = file_read("/etc/environment", NULL, &c);

		free(c);
		if (old != NULL) {
			for (line = strtok_r(old, "\n", &save); line != NULL;
			    line = strtok_r(NULL, "\n", &save))
				if (!str_startswith(line, "AWS_"))
					buf_printf(&env, "%s\n", line);
			free(old);
		}
	}
	if (h->ctrl_url != NULL)
		buf_printf(&env, "AWS_ENDPOINT_URL=%s\n"
		    "AWS_ACCESS_KEY_ID=" LAB_HOST_KEY_ID "\n"
		    "AWS_SECRET_ACCESS_KEY=" LAB_HOST_SECRET "\n", h->ctrl_url);
	if (h->region != NULL)
		buf_printf(&env, "AWS_DEFAULT_REGION=%s\nAWS_REGION=%s\n",
		    h->region, h->region);

	hf_add(f, "/etc/passwd", buf_detach(&pw), 0644, 0, 0);
	hf_add(f, "/etc/group", buf_detach(&gr), 0644, 0, 0);
	hf_add(f, "/etc/shadow", buf_detach(&sh), 0640, 0, 42);
	hf_add(f, "/etc/environment", buf_detach(&env), 0644, 0, 0);
	buf_release(&pw);	/* detach leaves an empty, allocated buffer */
	buf_release(&gr);
	buf_release(&sh);
	buf_release(&env);
	hf_add(f, "/etc/hostname", xasprintf("%s\n", hostname), 0644, 0, 0);
	hf_add(f, "/etc/hosts", xasprintf("127.0.0.1 localhost\n%s %s\n",
	    h->private_ip, hostname), 0644, 0, 0);
	hf_add(f, "/etc/mlshlab-instance-id", xasprintf("%s\n", h->id), 0644, 0,
	    0);
	if (access("/usr/bin/sudo", X_OK) == 0)
		hf_add(f, "/etc/sudoers.d/90-mlshlab-user", xasprintf(
		    "%s ALL=(ALL) NOPASSWD:ALL\n", h->user), 0440, 0, 0);
	if (h->ctrl_url != NULL)
		hf_add(f, "/etc/profile.d/mlshlab.sh", xasprintf(
		    "export AWS_ENDPOINT_URL=%s\n"
		    "export AWS_ACCESS_KEY_ID=" LAB_HOST_KEY_ID "\n"
		    "export AWS_SECRET_ACCESS_KEY=" LAB_HOST_SECRET "\n",
		    h->ctrl_url), 0644, 0, 0);
	hf_add(f, "/usr/sbin/mount.nfs4", xstrdup(mount_nfs4), 0755, 0, 0);
	hf_add(f, "/usr/local/sbin/shutdown", xstrdup(power_off), 0755, 0, 0);
	hf_add(f, "/usr/local/sbin/poweroff", xstrdup(power_off), 0755, 0, 0);
	free(me);
	me = xasprintf("/home/%s", h->user);
	hf_add(f, me, NULL, 0755, uid, uid);
	free(me);
	me = xasprintf("/home/%s/.ssh", h->user);
	hf_add(f, me, NULL, 0700, uid, uid);
	free(me);
	me = xasprintf("/home/%s/.ssh/authorized_keys", h->user);
	hf_add(f, me, xasprintf("%s%s",
	    pubkey != NULL ? pubkey : "", pubkey != NULL && *pubkey != '\0' &&
	    pubkey[strlen(pubkey) - 1] != '\n' ? "\n" : ""), 0600, uid, uid);
	free(me);
	hf_add(f, "/root", NULL, 0700, 0, 0);
}

/* ---- namespaces ---------------------------------------------------------- */

enum {
	STEP_SETNS = 1, STEP_UNSHARE, STEP_HOSTNAME, STEP_PRIVATE, STEP_TMPFS,
	STEP_OVERLAY, STEP_BIND, STEP_RUN, STEP_PIVOT, STEP_FILES,
};

static const char *step_names[] = {
	"", "setns", "unshare", "sethostname", "make / private",
	"tmpfs for the overlay", "overlay", "bind mount", "tmpfs mounts",
	"pivot_root", "write files",
};

/* Everything the child needs, prepared before fork (the child allocates
 * nothing). */
struct mkns {
	int netfd;
	const char *hostname;
	char *fsdir;		/* state/hosts/<id>/fs: the tmpfs */
	char *upper, *work, *root, *old, *ovopts;
	char *proc, *sys, *dev, *run, *tmp, *home, *roothome;
	char *hide[16];		/* machine files the host must not see */
	int nhide;
	char *runlab, *runhost, *runefs, *runmt, *runsshd, *runpower;
	char *sysdir, *efsdir, *mtdir, *powerdir;
	struct hfiles files;
};

static int mkns_child(const struct mkns *m, int *step);

static int
host_mkns(const char *state, const struct host *h, const char *hostname,
    char **cause)
{
	struct mkns m = { .hostname = hostname };
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, rc = -1, status;
	int report[2];
	pid_t pid;
	char *c = NULL, *pubkey;
	struct stat st;

	m.netfd = lab_netns_open(h->ns, cause);
	if (m.netfd == -1)
		return -1;
	m.fsdir = xasprintf("%s/fs", h->dir);
	m.upper = xasprintf("%s/upper", m.fsdir);
	m.work = xasprintf("%s/work", m.fsdir);
	m.root = xasprintf("%s/root", m.fsdir);
	m.old = xasprintf("%s/root/.mlshlab-old", m.fsdir);
	m.ovopts = xasprintf("lowerdir=/,upperdir=%s,workdir=%s", m.upper,
	    m.work);
	m.proc = xasprintf("%s/proc", m.root);
	m.sys = xasprintf("%s/sys", m.root);
	m.dev = xasprintf("%s/dev", m.root);
	m.run = xasprintf("%s/run", m.root);
	m.tmp = xasprintf("%s/tmp", m.root);
	m.home = xasprintf("%s/home", m.root);
	m.roothome = xasprintf("%s/root", m.root);
	{
		/* The machine's secrets, whited out in the host's overlay: its
		 * SSH host keys and password hashes (its /root and /home are
		 * covered by the host's own tmpfs). */
		static const char *secret[] = { "/etc/gshadow", "/etc/gshadow-",
		    "/etc/shadow-", "/etc/ssh/ssh_host_rsa_key",
		    "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ed25519_key",
		    "/etc/ssh/ssh_host_dsa_key", NULL };

		for (int i = 0; secret[i] != NULL && m.nhide < 16; i++)
			if (access(secret[i], F_OK) == 0)
				m.hide[m.nhide++] = xstrdup(secret[i]);
	}
	m.runlab = xasprintf("%s%s", m.root, HOST_RUN);
	m.runhost = xasprintf("%s%s", m.root, HOST_SYS);
	m.runefs = xasprintf("%s%s/efs", m.root, HOST_RUN);
	m.runmt = xasprintf("%s%s/mt", m.root, HOST_RUN);
	m.runsshd = xasprintf("%s/run/sshd", m.root);
	m.runpower = xasprintf("%s%s/power", m.root, HOST_RUN);
	m.sysdir = xasprintf("%s/sys", h->dir);
	m.powerdir = xasprintf("%s/power", h->dir);
	m.efsdir = lab_path(state, "efs");
	m.mtdir = lab_path(state, "vpcs/%s/mt", h->vpc_id);
	{
		/* The key comes from the spec file kept by host_save. */
		char *kpath = xasprintf("%s/authorized_key", h->dir);

		pubkey = file_read(kpath, NULL, &c);
		free(c);
		c = NULL;
		free(kpath);
	}
	etc_files(h, hostname, pubkey, &m.files);
	free(pubkey);
	if (mkdir_p(m.fsdir, 0700, cause) == -1)
		goto out;
	if (stat("/proc/self/ns/mnt", &st) == -1) {
		*cause = xasprintf("mount namespaces: %s", strerror(errno));
		goto out;
	}

	for (int i = 0; i < 2; i++) {
		char *f = lab_path(state, "nsfs/%s.%s", h->id, i == 0 ? "mnt" :
		    "uts");
		int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd == -1) {
			*cause = xasprintf("%s: %s", f, strerror(errno));
			free(f);
			goto out;
		}
		close(fd);
		free(f);
	}

	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		goto out;
	}
	report[0] = ready[0];
	report[1] = ready[1];
	pid = fork();
	if (pid == -1) {
		*cause = xasprintf("fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int step = 0, err, msg[2];
		char b;

		close(report[0]);
		close(go[1]);
		err = mkns_child(&m, &step);
		msg[0] = step;
		msg[1] = err;
		(void)!write(report[1], msg, sizeof msg);
		/* Hold the namespaces until the parent has bound them. */
		while (read(go[0], &b, 1) == -1 && errno == EINTR)
			;
		_exit(err == 0 ? 0 : 1);
	}
	close(report[1]);
	ready[1] = -1;
	close(go[0]);
	go[0] = -1;
	{
		int msg[2] = { 0, EIO };
		ssize_t r;

		while ((r = read(report[0], msg, sizeof msg)) == -1 &&
		    errno == EINTR)
			;
		if (r != (ssize_t)sizeof msg || msg[1] != 0) {
			*cause = xasprintf("%s: host namespaces: %s: %s", h->id,
			    msg[0] > 0 && msg[0] <= STEP_FILES ?
			    step_names[msg[0]] : "setup", strerror(msg[1]));
		} else {
			rc = 0;
			for (int i = 0; i < 2 && rc == 0; i++) {
				char src[64], *f;

				snprintf(src, sizeof src, "/proc/%ld/ns/%s",
				    (long)pid, i == 0 ? "mnt" : "uts");
				f = lab_path(state, "nsfs/%s.%s", h->id,
				    i == 0 ? "mnt" : "uts");
				if (mount(src, f, NULL, MS_BIND, NULL) == -1) {
					*cause = xasprintf("bind %s: %s", f,
					    strerror(errno));
					rc = -1;
				}
				free(f);
			}
		}
	}
	close(go[1]);
	go[1] = -1;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
out:
	if (ready[0] != -1)
		close(ready[0]);
	if (ready[1] != -1)
		close(ready[1]);
	if (go[0] != -1)
		close(go[0]);
	if (go[1] != -1)
		close(go[1]);
	close(m.netfd);
	hf_release(&m.files);
	free(m.fsdir);
	free(m.upper);
	free(m.work);
	free(m.root);
	free(m.old);
	free(m.ovopts);
	free(m.proc);
	free(m.sys);
	free(m.dev);
	free(m.run);
	free(m.tmp);
	free(m.home);
	free(m.roothome);
	for (int i = 0; i < m.nhide; i++)
		free(m.hide[i]);
	free(m.runlab);
	free(m.runhost);
	free(m.runefs);
	free(m.runmt);
	free(m.runsshd);
	free(m.runpower);
	free(m.powerdir);
	free(m.sysdir);
	free(m.efsdir);
	free(m.mtdir);
	return rc;
}

/* In the forked child: only system calls from here. Returns 0 or an errno,
 * with *step saying where. */
static int
mkns_child(const struct mkns *m, int *step)
{
#define TRY(s, call) do { *step = (s); if ((call) == -1) return errno; } while (0)
	TRY(STEP_SETNS, setns(m->netfd, CLONE_NEWNET));
	TRY(STEP_UNSHARE, unshare(CLONE_NEWNS | CLONE_NEWUTS));
	TRY(STEP_HOSTNAME, sethostname(m->hostname, strlen(m->hostname)));
	TRY(STEP_PRIVATE, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));

	/* The overlay's upper layer lives in a tmpfs of this namespace only. */
	TRY(STEP_TMPFS, mount("mlshlab", m->fsdir, "tmpfs", MS_NOSUID,
	    "mode=0755"));
	TRY(STEP_TMPFS, mkdir(m->upper, 0755));
	TRY(STEP_TMPFS, mkdir(m->work, 0755));
	TRY(STEP_TMPFS, mkdir(m->root, 0755));
	TRY(STEP_OVERLAY, mount("overlay", m->root, "overlay", 0, m->ovopts));

	TRY(STEP_BIND, mount("/proc", m->proc, NULL, MS_BIND | MS_REC, NULL));
	TRY(STEP_BIND, mount("/sys", m->sys, NULL, MS_BIND | MS_REC, NULL));
	TRY(STEP_BIND, mount("/dev", m->dev, NULL, MS_BIND | MS_REC, NULL));
	TRY(STEP_RUN, mount("tmpfs", m->run, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755,size=64m"));
	TRY(STEP_RUN, mount("tmpfs", m->tmp, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=1777"));
	TRY(STEP_RUN, mount("tmpfs", m->home, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0755"));
	TRY(STEP_RUN, mount("tmpfs", m->roothome, "tmpfs", MS_NOSUID | MS_NODEV,
	    "mode=0700"));
	TRY(STEP_RUN, mkdir(m->runsshd, 0755));
	TRY(STEP_RUN, mkdir(m->runlab, 0755));
	TRY(STEP_RUN, mkdir(m->runhost, 0700));
	TRY(STEP_RUN, mkdir(m->runefs, 0755));
	TRY(STEP_RUN, mkdir(m->runmt, 0755));
	TRY(STEP_RUN, mkdir(m->runpower, 0700));
	/* The host reads its sshd config and its VPC's mount targets; only the
	 * file systems are writable. */
	TRY(STEP_BIND, mount(m->sysdir, m->runhost, NULL, MS_BIND, NULL));
	TRY(STEP_BIND, mount(NULL, m->runhost, NULL, MS_REMOUNT | MS_BIND |
	    MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
	TRY(STEP_BIND, mount(m->efsdir, m->runefs, NULL, MS_BIND, NULL));
	TRY(STEP_BIND, mount(m->mtdir, m->runmt, NULL, MS_BIND, NULL));
	TRY(STEP_BIND, mount(m->powerdir, m->runpower, NULL, MS_BIND, NULL));
	TRY(STEP_BIND, mount(NULL, m->runmt, NULL, MS_REMOUNT | MS_BIND |
	    MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));

	/* Into the overlay; the machine's tree (and with it every copy of the
	 * lab's namespace files) is let go. */
	TRY(STEP_PIVOT, mkdir(m->old, 0700));
	TRY(STEP_PIVOT, syscall(SYS_pivot_root, m->root, m->old));
	TRY(STEP_PIVOT, chdir("/"));
	TRY(STEP_PIVOT, umount2("/.mlshlab-old", MNT_DETACH));
	TRY(STEP_PIVOT, rmdir("/.mlshlab-old"));
	for (int i = 0; i < m->nhide; i++)
		TRY(STEP_FILES, unlink(m->hide[i]));

	for (int i = 0; i < m->files.n; i++) {
		const struct hfile *f = &m->files.v[i];
		int fd;

		*step = STEP_FILES;
		if (f->dir) {
			if (mkdir(f->path, (mode_t)f->mode) == -1 &&
			    errno != EEXIST)
				return errno;
			if (chown(f->path, f->uid, f->gid) == -1 ||
			    chmod(f->path, (mode_t)f->mode) == -1)
				return errno;
			continue;
		}
		fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, f->mode);
		if (fd == -1)
			return errno;
		if (write(fd, f->data, f->len) != (ssize_t)f->len ||
		    fchown(fd, f->uid, f->gid) == -1 ||
		    fchmod(fd, (mode_t)f->mode) == -1) {
			int err = errno;

			close(fd);
			return err;
		}
		close(fd);
	}
	return 0;
#undef TRY
}

static int
host_open_ns(const char *state, const struct host *h, int fds[3], char **cause)
{
	fds[0] = fds[1] = fds[2] = -1;
	fds[0] = lab_netns_open(h->ns, cause);
	if (fds[0] == -1)
		return -1;
	for (int i = 1; i < 3; i++) {
		char *f = lab_path(state, "nsfs/%s.%s", h->id, i == 1 ? "uts" :
		    "mnt");

		fds[i] = open(f, O_RDONLY | O_CLOEXEC);
		if (fds[i] == -1) {
			*cause = xasprintf("%s: %s", f, strerror(errno));
			free(f);
			close_ns(fds);
			return -1;
		}
		free(f);
	}
	return 0;
}

static void
close_ns(int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

/* ---- processes ----------------------------------------------------------- */

static int
host_sshd_start(const char *state, const struct host *h, char **cause)
{
	char *argv[] = { NULL, "-D", "-e", "-f", HOST_SYS "/sshd_config", NULL };
	struct lab_proc p = { .argv = argv, .daemon = 1 };
	char *log, *pidfile, num[32];
	int fds[3], rc = -1;
	pid_t pid;

	argv[0] = lab_which("sshd");
	if (argv[0] == NULL) {
		*cause = xstrdup("sshd is not installed (apt-get install "
		    "openssh-server)");
		return -1;
	}
	if (host_open_ns(state, h, fds, cause) == -1) {
		free(argv[0]);
		return -1;
	}
	log = xasprintf("%s/sshd.log", h->dir);
	pidfile = xasprintf("%s/sshd.pid", h->dir);
	p.netns_fd = fds[0];
	p.utsns_fd = fds[1];
	p.mntns_fd = fds[2];
	p.out_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", log, strerror(errno));
		goto out;
	}
	if (lab_proc_run(&p, &pid, NULL, cause) == -1)
		goto out;
	snprintf(num, sizeof num, "%ld\n", (long)pid);
	rc = lab_write_file(pidfile, num, strlen(num), 0600, cause);
out:
	if (p.out_fd != -1)
		close(p.out_fd);
	close_ns(fds);
	free(argv[0]);
	free(log);
	free(pidfile);
	return rc;
}

/* Gzip user-data (sys/user-data.gz) uncompressed into sys/user-data, as
 * cloud-init does ("Gzip compressed content", cloud-init docs, user-data
 * formats): by the gzip of the host's /usr, inside the host's namespaces, at
 * most USERDATA_PLAIN_MAX bytes, each step within 60 s. gzip -t first: a pipe
 * would hide its exit status. */
#define USERDATA_PLAIN_MAX (1 << 20)
static int
userdata_gunzip(const char *state, const struct host *h, char **cause)
{
	char *gzpath = xasprintf("%s/sys/user-data.gz", h->dir);
	char *plain = xasprintf("%s/sys/user-data", h->dir);
	char *argv[] = { "/bin/sh", "-c",
	    "timeout 60 gzip -t \"$1\" 2>/dev/null && "
	    "timeout 60 gzip -dc \"$1\" 2>/dev/null | head -c $2",
	    "sh", HOST_SYS "/user-data.gz", NULL, NULL };
	char cap[32];
	struct lab_proc p = { .argv = argv, .cwd = "/", .out_fd = -1,
	    .rc_fd = -1 };
	int fds[3] = { -1, -1, -1 }, status = 0, rc = -1;
	struct stat st;
	char **env = NULL;

	if (access(gzpath, F_OK) != 0) {
		rc = 0;
		goto out;
	}
	snprintf(cap, sizeof cap, "%d", USERDATA_PLAIN_MAX + 1);
	argv[5] = cap;
	p.out_fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0700);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", plain, strerror(errno));
		goto out;
	}
	if (host_open_ns(state, h, fds, cause) == -1)
		goto out;
	env = host_env(h);
	p.envp = env;
	p.netns_fd = fds[0];
	p.utsns_fd = fds[1];
	p.mntns_fd = fds[2];
	if (lab_proc_run(&p, NULL, &status, cause) == -1)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		*cause = xstrdup("user-data: not valid gzip");
		goto out;
	}
	if (fstat(p.out_fd, &st) == -1 || st.st_size > USERDATA_PLAIN_MAX) {
		*cause = xasprintf("user-data: over %d bytes uncompressed",
		    USERDATA_PLAIN_MAX);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		unlink(plain);
	if (p.out_fd != -1)
		close(p.out_fd);
	close_ns(fds);
	free_env(env);
	free(gzpath);
	free(plain);
	return rc;
}

/* The user-data, once: a script with #! runs as it is, other text with
 * /bin/sh; cloud-config is not interpreted (noted in the console log). */
static int
host_userdata_start(const char *state, const struct host *h, char **cause)
{
	char *script = xasprintf("%s/sys/user-data", h->dir);
	char *marker = xasprintf("%s/userdata.started", h->dir);
	char *console = xasprintf("%s/console.log", h->dir);
	char *argv[3] = { NULL, NULL, NULL }, *head, *c = NULL;
	char *rcpath = xasprintf("%s/userdata.rc", h->dir);
	struct lab_proc p = { .argv = argv, .daemon = 1, .cwd = "/",
	    .rc_fd = -1 };
	int rc = -1;
	pid_t pid;

	if (access(marker, F_OK) == 0) {
		rc = 0;
		goto out;
	}
	if (userdata_gunzip(state, h, cause) == -1)
		goto out;
	head = file_read(script, NULL, &c);
	free(c);
	c = NULL;
	if (head == NULL) {
		rc = 0;
		goto out;
	}
	p.out_fd = open(console, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", console, strerror(errno));
		free(head);
		goto out;
	}
	if (str_startswith(head, "#cloud-config")) {
		static const char msg[] = "[lab] cloud-config user-data is not "
		    "interpreted by the lab; only scripts run\n";

		(void)!write(p.out_fd, msg, sizeof msg - 1);
		free(head);
		rc = lab_write_file(marker, "", 0, 0600, cause);
		goto out;
	}
	if (str_startswith(head, "#!")) {
		argv[0] = HOST_SYS "/user-data";
	} else {
		argv[0] = "/bin/sh";
		argv[1] = HOST_SYS "/user-data";
	}
	free(head);
	if (lab_write_file(marker, "", 0, 0600, cause) == -1)
		goto out;
	/* Opened here, written by the runner: the host cannot redirect it. */
	unlink(rcpath);
	p.rc_fd = open(rcpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (p.rc_fd == -1) {
		*cause = xasprintf("%s: %s", rcpath, strerror(errno));
		goto out;
	}
	if (host_proc(state, h, &p, &pid, NULL, cause) == -1)
		goto out;
	{
		char num[32], *pidfile = xasprintf("%s/userdata.pid", h->dir);

		snprintf(num, sizeof num, "%ld\n", (long)pid);
		rc = lab_write_file(pidfile, num, strlen(num), 0600, cause);
		free(pidfile);
	}
out:
	if (p.out_fd > 0)
		close(p.out_fd);
	if (p.rc_fd >= 0)
		close(p.rc_fd);
	free(rcpath);
	free(script);
	free(marker);
	free(console);
	return rc;
}

/* Stop every process of the host: the recorded ones, and whatever else runs
 * in its network namespace (found by the namespace's identity). */
static void
host_kill(const char *state, const struct host *h)
{
	pid_t *pids = NULL;
	size_t n = 0;
	const char *files[] = { "sshd.pid", "userdata.pid" };

	for (int i = 0; i < 2; i++) {
		char *f = xasprintf("%s/%s", h->dir, files[i]);
		char *line = lab_read_line(f);
		pid_t pid = line != NULL ? (pid_t)atol(line) : 0;

		if (pid > 1 && lab_pid_in_netns(pid, h->ns))
			lab_kill_pids(&pid, 1, 1000);
		free(line);
		unlink(f);
		free(f);
	}
	if (lab_netns_exists(h->ns) && lab_netns_pids(h->ns, &pids, &n) == 0) {
		lab_kill_pids(pids, n, 1000);
		free(pids);
	}
	{
		/* What this boot started is over: the next start runs its
		 * boot-time work again (lab/notebook.c's OnStart). */
		char *boot = xasprintf("%s/boot", h->dir);

		lab_rm_rf(boot);
		free(boot);
	}
}

int
lab_host_spawn(const char *state, const char *id, char *const argv[],
    const char *log, const char *rcpath, pid_t *pidp, char **cause)
{
	struct host h;
	struct lab_proc p = { .argv = argv, .daemon = 1, .cwd = "/",
	    .rc_fd = -1 };
	int rc = -1;

	if (host_load(state, id, &h, cause) == -1)
		return -1;
	p.out_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", log, strerror(errno));
		goto out;
	}
	if (rcpath != NULL) {
		/* Opened here, written by the runner: the host cannot forge
		 * it. */
		unlink(rcpath);
		p.rc_fd = open(rcpath, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (p.rc_fd == -1) {
			*cause = xasprintf("%s: %s", rcpath, strerror(errno));
			goto out;
		}
	}
	rc = host_proc(state, &h, &p, pidp, NULL, cause);
out:
	if (p.out_fd != -1)
		close(p.out_fd);
	if (p.rc_fd != -1)
		close(p.rc_fd);
	host_release(&h);
	return rc;
}

/* Run p in the host's namespaces with the host's environment. */
static int
host_proc(const char *state, const struct host *h, struct lab_proc *p,
    pid_t *pidp, int *statusp, char **cause)
{
	int fds[3], rc;
	char **env;

	if (host_open_ns(state, h, fds, cause) == -1)
		return -1;
	env = host_env(h);
	p->envp = env;
	p->netns_fd = fds[0];
	p->utsns_fd = fds[1];
	p->mntns_fd = fds[2];
	rc = lab_proc_run(p, pidp, statusp, cause);
	close_ns(fds);
	free_env(env);
	return rc;
}

int
lab_host_listening(const char *state, const char *id, int port)
{
	char *pidfile = lab_path(state, "hosts/%s/sshd.pid", id);
	char *line = lab_read_line(pidfile), *c = NULL, *text, pat[32];
	pid_t pid = line != NULL ? (pid_t)atol(line) : 0;
	int rc = 0;

	free(line);
	free(pidfile);
	if (pid <= 1)
		return 0;
	/* As lab_host_wait: the host namespace's table, seen through its
	 * sshd, says whether anything listens (state 0A) on the port. */
	snprintf(pat, sizeof pat, ":%04X 00000000:0000 0A", port);
	pidfile = xasprintf("/proc/%ld/net/tcp", (long)pid);
	text = file_read(pidfile, NULL, &c);
	free(c);
	rc = text != NULL && strstr(text, pat) != NULL;
	free(text);
	free(pidfile);
	return rc;
}

static char **
host_env(const struct host *h)
{
	struct strlist env;

	strlist_init(&env);
	strlist_add(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin");
	strlist_add(&env, "HOME=/root");
	strlist_add(&env, "USER=root");
	strlist_add(&env, "LOGNAME=root");
	strlist_add(&env, "SHELL=/bin/bash");
	strlist_add(&env, "LANG=C.UTF-8");
	if (h->ctrl_url != NULL) {
		strlist_take(&env, xasprintf("AWS_ENDPOINT_URL=%s",
		    h->ctrl_url));
		strlist_add(&env, "AWS_ACCESS_KEY_ID=" LAB_HOST_KEY_ID);
		strlist_add(&env, "AWS_SECRET_ACCESS_KEY=" LAB_HOST_SECRET);
	}
	if (h->region != NULL) {
		strlist_take(&env, xasprintf("AWS_DEFAULT_REGION=%s", h->region));
		strlist_take(&env, xasprintf("AWS_REGION=%s", h->region));
	}
	strlist_take(&env, NULL);
	return env.v;
}

static void
free_env(char **env)
{
	if (env == NULL)
		return;
	for (char **e = env; *e != NULL; e++)
		free(*e);
	free(env);
}

/* ---- the record ---------------------------------------------------------- */

static int
host_save(const struct host *h, char **cause)
{
	char *text, *path;
	int rc;

	text = xasprintf("ns=%s\nvpc_id=%s\nvpc=%d\nindex=%d\nprivate_ip=%s\n"
	    "public_ip=%s\nctrl_url=%s\nregion=%s\nuser=%s\n", h->ns, h->vpc_id,
	    h->vpc,
	    h->index, h->private_ip, h->public_ip != NULL ? h->public_ip : "",
	    h->ctrl_url != NULL ? h->ctrl_url : "",
	    h->region != NULL ? h->region : "", h->user);
	path = xasprintf("%s/spec", h->dir);
	rc = lab_write_file(path, text, strlen(text), 0600, cause);
	free(path);
	free(text);
	return rc;
}

static int
host_load(const char *state, const char *id, struct host *h, char **cause)
{
	char *path, *text, *line, *save, *c = NULL;

	memset(h, 0, sizeof *h);
	if (!lab_id_ok(id)) {
		*cause = xasprintf("bad instance id \"%s\"", id);
		return -1;
	}
	path = lab_path(state, "hosts/%s/spec", id);
	text = file_read(path, NULL, &c);
	free(path);
	free(c);
	if (text == NULL) {
		*cause = xasprintf("no lab host %s", id);
		return -1;
	}
	h->id = xstrdup(id);
	h->dir = lab_path(state, "hosts/%s", id);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (v == NULL)
			continue;
		*v++ = '\0';
		if (strcmp(line, "ns") == 0)
			h->ns = xstrdup(v);
		else if (strcmp(line, "vpc_id") == 0)
			h->vpc_id = xstrdup(v);
		else if (strcmp(line, "vpc") == 0)
			h->vpc = atoi(v);
		else if (strcmp(line, "index") == 0)
			h->index = atoi(v);
		else if (strcmp(line, "private_ip") == 0)
			h->private_ip = xstrdup(v);
		else if (strcmp(line, "public_ip") == 0 && *v != '\0')
			h->public_ip = xstrdup(v);
		else if (strcmp(line, "ctrl_url") == 0 && *v != '\0')
			h->ctrl_url = xstrdup(v);
		else if (strcmp(line, "region") == 0 && *v != '\0')
			h->region = xstrdup(v);
		else if (strcmp(line, "user") == 0 && lab_id_ok(v))
			h->user = xstrdup(v);
	}
	if (h->user == NULL)
		h->user = xstrdup("ubuntu");
	free(text);
	if (h->ns == NULL || h->vpc_id == NULL || h->private_ip == NULL) {
		*cause = xasprintf("lab host %s: spec is incomplete", id);
		host_release(h);
		return -1;
	}
	return 0;
}

static void
host_release(struct host *h)
{
	free(h->id);
	free(h->dir);
	free(h->ns);
	free(h->vpc_id);
	free(h->private_ip);
	free(h->public_ip);
	free(h->ctrl_url);
	free(h->region);
	free(h->user);
	memset(h, 0, sizeof *h);
}

static int
set_state(const struct host *h, const char *what, char **cause)
{
	char *path = xasprintf("%s/state", h->dir);
	int rc = lab_write_file(path, what, strlen(what), 0600, cause);

	free(path);
	return rc;
}
