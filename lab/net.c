/* net.c: the lab's network: core and client namespaces, one router namespace
 * per VPC with a bridge per subnet, and the teardown that also cleans up
 * after a crashed lab. The addressing is described in lab.h.
 *
 * Every link is made inside lab namespaces (`ip -n NS link add … peer … netns
 * OTHER`), so nothing ever appears in the root namespace, even for a moment. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static int net_up_locked(const char *state, const char *name, char **cause);
static int net_down_locked(const char *state, const char *name, char **cause);
static int ns_create(const char *ns, char **cause);
static int ns_delete(const char *ns, char **cause);
static int nsfs_prepare(const char *state, char **cause);
static void nsfs_release(const char *state);
static void kill_recorded(const char *state, const char *core);
static int state_ok(const char *state, char **cause);

int
lab_net_up(const char *state, const char *name, char **cause)
{
	int lock, rc;

	if (name == NULL)
		name = LAB_DEFAULT_NAME;
	if (strncmp(name, "mlsh", 4) != 0 || strlen(name) > 32 ||
	    !lab_id_ok(name)) {
		*cause = xasprintf("lab name \"%s\" must start with \"mlsh\" and "
		    "use letters, digits and dashes", name);
		return -1;
	}
	if (state_ok(state, cause) == -1)
		return -1;
	if (geteuid() != 0) {
		*cause = xstrdup("the lab needs root (CAP_NET_ADMIN and "
		    "CAP_SYS_ADMIN) for its namespaces");
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	if (lab_net_is_up(state)) {
		char *cur = lab_name(state), *client = xasprintf("%s-client", name);
		int same = strcmp(cur, name) == 0 && lab_netns_exists(client);

		free(cur);
		free(client);
		if (same) {
			lab_unlock(lock);
			return 0;	/* already up: keep its hosts */
		}
	}
	rc = net_up_locked(state, name, cause);
	if (rc == -1) {
		char *c2 = NULL;

		/* Leave nothing half made. */
		if (net_down_locked(state, name, &c2) == -1)
			free(c2);
	}
	lab_unlock(lock);
	return rc;
}

static int
net_up_locked(const char *state, const char *name, char **cause)
{
	char *core = xasprintf("%s-core", name);
	char *client = xasprintf("%s-client", name);
	char *path, *old;
	int rc = -1;

	/* A dead lab's leftovers first: its name may differ from ours. */
	old = lab_name(state);
	if (net_down_locked(state, old, cause) == -1)
		goto out;
	if (strcmp(old, name) != 0 && net_down_locked(state, name, cause) == -1)
		goto out;

	path = lab_path(state, "name");
	rc = lab_write_file(path, name, strlen(name), 0600, cause);
	free(path);
	if (rc == -1)
		goto out;
	rc = -1;
	if (nsfs_prepare(state, cause) == -1)
		goto out;
	path = lab_path(state, "efs");
	rc = mkdir_p(path, 0755, cause);
	free(path);
	if (rc == -1)
		goto out;
	rc = -1;
	if (ns_create(core, cause) == -1 || ns_create(client, cause) == -1)
		goto out;

	/* Bridges get a fixed MAC: by default a bridge takes its lowest port's,
	 * so it would change as hosts come and go and neighbours' ARP caches
	 * would point at an address nobody answers for. */
	if (lab_cmd(cause, "ip", "-n", core, "link", "add", "mlshinet",
	    "address", "02:6d:6c:00:00:01", "type", "bridge",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "addr", "add", LAB_CTRL_ADDR "/24",
	    "dev", "mlshinet", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "link", "set", "mlshinet", "up",
	    (char *)NULL) == -1)
		goto out;
	if (lab_cmd(cause, "ip", "-n", client, "link", "add", "eth0", "type",
	    "veth", "peer", "name", "mlshc0", "netns", core, (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "link", "set", "mlshc0", "master",
	    "mlshinet", "up", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", client, "addr", "add",
	    LAB_CLIENT_ADDR "/24", "dev", "eth0", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", client, "link", "set", "eth0", "up",
	    (char *)NULL) == -1)
		goto out;

	path = lab_path(state, "net.up");
	rc = lab_write_file(path, "", 0, 0600, cause);
	free(path);
out:
	free(old);
	free(core);
	free(client);
	return rc;
}

int
lab_net_down(const char *state, char **cause)
{
	int lock, rc;
	char *name;

	if (state_ok(state, cause) == -1)
		return -1;
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	name = lab_name(state);
	rc = net_down_locked(state, name, cause);
	free(name);
	lab_unlock(lock);
	return rc;
}

static int
net_down_locked(const char *state, const char *name, char **cause)
{
	char *dirpath, *core = xasprintf("%s-core", name), *prefix;
	struct strlist left;
	DIR *dir;
	struct dirent *de;
	size_t i;
	int rc = 0;

	/* Hosts first: their processes, mounts and namespaces. */
	dirpath = lab_path(state, "hosts");
	if ((dir = opendir(dirpath)) != NULL) {
		struct strlist ids;

		strlist_init(&ids);
		while ((de = readdir(dir)) != NULL)
			if (de->d_name[0] != '.')
				strlist_add(&ids, de->d_name);
		closedir(dir);
		for (i = 0; i < ids.n; i++) {
			char *c = NULL;

			if (lab_host_destroy_locked(state, ids.v[i], &c) == -1) {
				if (rc == 0)
					*cause = c;
				else
					free(c);
				rc = -1;
			}
		}
		strlist_release(&ids);
	}
	free(dirpath);

	kill_recorded(state, core);

	/* Every namespace with our prefix, recorded or not (a crash may
	 * have lost the record): stop what runs in it, then delete it. */
	prefix = xasprintf("%s-", name);
	strlist_init(&left);
	if ((dir = opendir("/run/netns")) != NULL) {
		while ((de = readdir(dir)) != NULL)
			if (str_startswith(de->d_name, prefix))
				strlist_add(&left, de->d_name);
		closedir(dir);
	}
	strlist_sort(&left);
	for (i = 0; i < left.n; i++) {
		pid_t *pids;
		size_t n;
		char *c = NULL;

		if (lab_netns_pids(left.v[i], &pids, &n) == 0) {
			lab_kill_pids(pids, n, 1000);
			free(pids);
		}
		if (ns_delete(left.v[i], &c) == -1) {
			if (rc == 0)
				*cause = c;
			else
				free(c);
			rc = -1;
		}
	}
	strlist_release(&left);
	free(prefix);

	nsfs_release(state);

	/* The state: everything but the lock we hold. */
	if ((dir = opendir(state)) != NULL) {
		struct strlist names;

		strlist_init(&names);
		while ((de = readdir(dir)) != NULL)
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0 &&
			    strcmp(de->d_name, "lock") != 0)
				strlist_add(&names, de->d_name);
		closedir(dir);
		for (i = 0; i < names.n; i++) {
			char *p = lab_path(state, "%s", names.v[i]);

			if (lab_rm_rf(p) == -1 && rc == 0) {
				*cause = xasprintf("cannot remove %s: %s", p,
				    strerror(errno));
				rc = -1;
			}
			free(p);
		}
		strlist_release(&names);
	}
	free(core);
	return rc;
}

int
lab_net_is_up(const char *state)
{
	char *marker = lab_path(state, "net.up"), *name = lab_name(state);
	char *core = xasprintf("%s-core", name);
	int up = access(marker, F_OK) == 0 && lab_netns_exists(core);

	free(marker);
	free(name);
	free(core);
	return up;
}

char *
lab_client_netns(const char *state)
{
	char *name = lab_name(state), *ns = xasprintf("%s-client", name);

	free(name);
	return ns;
}

char *
lab_core_netns(const char *state)
{
	char *name = lab_name(state), *ns = xasprintf("%s-core", name);

	free(name);
	return ns;
}

int
lab_client_netns_fd(const char *state, char **cause)
{
	char *ns = lab_client_netns(state);
	int fd = lab_netns_open(ns, cause);

	free(ns);
	return fd;
}

char *
lab_vpc_netns(const char *state, int vpc_index)
{
	char *name = lab_name(state), *ns = xasprintf("%s-v%d", name, vpc_index);

	free(name);
	return ns;
}

int
lab_vpc_ctrl_url(const char *state, const char *vpc_id, int port, char **url,
    char **cause)
{
	int lock, index, rc;

	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	rc = lab_vpc_ensure(state, vpc_id, &index, cause);
	lab_unlock(lock);
	if (rc == 0)
		*url = xasprintf("http://198.18.%d.1:%d", index, port);
	return rc;
}

/* The router namespace of a VPC: made on first use. */
int
lab_vpc_ensure(const char *state, const char *vpc_id, int *indexp,
    char **cause)
{
	char *path, *line, *ns = NULL, *core = NULL, *peer = NULL;
	char *rtaddr = NULL, *coreaddr = NULL, *from = NULL, *table = NULL;
	int index = 0, rc = -1;
	struct strlist used;
	DIR *dir;
	struct dirent *de;

	if (!lab_id_ok(vpc_id)) {
		*cause = xasprintf("bad vpc id \"%s\"", vpc_id);
		return -1;
	}
	if (!lab_net_is_up(state)) {
		*cause = xstrdup("the lab network is not up");
		return -1;
	}
	path = lab_path(state, "vpcs/%s/index", vpc_id);
	line = lab_read_line(path);
	free(path);
	if (line != NULL) {
		*indexp = atoi(line);
		free(line);
		return 0;
	}

	/* The smallest free index: it names the transit /30 (198.18.N.0). */
	strlist_init(&used);
	path = lab_path(state, "vpcs");
	if ((dir = opendir(path)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			char *p;

			if (de->d_name[0] == '.')
				continue;
			p = lab_path(state, "vpcs/%s/index", de->d_name);
			if ((line = lab_read_line(p)) != NULL)
				strlist_take(&used, line);
			free(p);
		}
		closedir(dir);
	}
	free(path);
	for (index = 1; index <= LAB_MAX_VPCS; index++) {
		char num[16];

		snprintf(num, sizeof num, "%d", index);
		if (!strlist_has(&used, num))
			break;
	}
	strlist_release(&used);
	if (index > LAB_MAX_VPCS) {
		*cause = xasprintf("the lab has room for %d VPCs", LAB_MAX_VPCS);
		return -1;
	}

	ns = lab_vpc_netns(state, index);
	core = lab_core_netns(state);
	peer = xasprintf("mlshv%d", index);
	rtaddr = xasprintf("198.18.%d.2/30", index);
	coreaddr = xasprintf("198.18.%d.1/30", index);
	from = xasprintf("198.18.%d.1", index);
	table = xasprintf("%d", 1000 + index);
	if (ns_create(ns, cause) == -1)
		goto out;
	if (lab_netns_sysctl(ns, "net/ipv4/ip_forward", "1", cause) == -1)
		goto out;
	if (lab_cmd(cause, "ip", "-n", ns, "link", "add", "mlshcore", "type",
	    "veth", "peer", "name", peer, "netns", core, (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns, "addr", "add", rtaddr, "dev",
	    "mlshcore", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns, "link", "set", "mlshcore", "up",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "addr", "add", coreaddr, "dev",
	    peer, (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "link", "set", peer, "up",
	    (char *)NULL) == -1)
		goto out;
	/* The core answers this VPC's hosts from 198.18.N.1 through the VPC's
	 * own table, so another VPC with the same CIDR gets its own answers. */
	if (lab_cmd(cause, "ip", "-n", core, "rule", "add", "from", from,
	    "lookup", table, "pref", table, (char *)NULL) == -1)
		goto out;

	path = lab_path(state, "vpcs/%s/mt", vpc_id);
	rc = mkdir_p(path, 0755, cause);
	free(path);
	if (rc == 0) {
		char num[16];

		snprintf(num, sizeof num, "%d\n", index);
		path = lab_path(state, "vpcs/%s/index", vpc_id);
		rc = lab_write_file(path, num, strlen(num), 0644, cause);
		free(path);
	}
	if (rc == 0)
		*indexp = index;
out:
	if (rc == -1 && ns != NULL && lab_netns_exists(ns)) {
		char *c = NULL;

		if (ns_delete(ns, &c) == -1)
			free(c);
	}
	free(ns);
	free(core);
	free(peer);
	free(rtaddr);
	free(coreaddr);
	free(from);
	free(table);
	return rc;
}

int
lab_subnet_ensure(const char *state, const char *vpc_id, const char *subnet_id,
    const char *cidr, int *indexp, char **cause)
{
	char *path, *line, *ns, *core, *br, *gw, *gwaddr, *via, *table, *net;
	char *mac = NULL;
	unsigned int addr;
	int len, vpc, index, rc = -1;

	if (!lab_id_ok(subnet_id) || lab_cidr_parse(cidr, &addr, &len) == -1 ||
	    len > 28 || len < 8) {
		*cause = xasprintf("bad subnet \"%s\" (%s)", subnet_id, cidr);
		return -1;
	}
	path = lab_path(state, "subnets/%s/index", subnet_id);
	line = lab_read_line(path);
	free(path);
	if (line != NULL) {
		*indexp = atoi(line);
		free(line);
		return 0;
	}
	if (lab_vpc_ensure(state, vpc_id, &vpc, cause) == -1)
		return -1;

	index = lab_next_index(state, "counter.subnet");
	ns = lab_vpc_netns(state, vpc);
	core = lab_core_netns(state);
	br = xasprintf("mlshs%d", index);
	addr &= len == 0 ? 0 : ~0U << (32 - len);
	gw = lab_ip_str(addr + 1);
	gwaddr = xasprintf("%s/%d", gw, len);
	net = xasprintf("%s", cidr);
	via = xasprintf("198.18.%d.2", vpc);
	table = xasprintf("%d", 1000 + vpc);
	mac = xasprintf("02:6d:6c:%02x:%02x:%02x", vpc & 0xff,
	    (index >> 8) & 0xff, index & 0xff);
	if (lab_cmd(cause, "ip", "-n", ns, "link", "add", br, "address", mac,
	    "type", "bridge", (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns, "addr", "add", gwaddr, "dev", br,
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", ns, "link", "set", br, "up",
	    (char *)NULL) == -1 ||
	    lab_cmd(cause, "ip", "-n", core, "route", "add", net, "via", via,
	    "table", table, (char *)NULL) == -1)
		goto out;

	path = lab_path(state, "subnets/%s", subnet_id);
	rc = mkdir_p(path, 0755, cause);
	free(path);
	if (rc == 0) {
		char *text = xasprintf("%d\n%s\n%s\n", index, vpc_id, cidr);

		path = lab_path(state, "subnets/%s/index", subnet_id);
		rc = lab_write_file(path, text, strlen(text), 0644, cause);
		free(path);
		free(text);
	}
	if (rc == 0)
		*indexp = index;
out:
	free(ns);
	free(core);
	free(br);
	free(gw);
	free(gwaddr);
	free(net);
	free(via);
	free(table);
	free(mac);
	return rc;
}

int
lab_vpc_destroy(const char *state, const char *vpc_id, char **cause)
{
	char *path, *line, *ns, *core, *from;
	int lock, index, rc = 0;

	if (!lab_id_ok(vpc_id)) {
		*cause = xasprintf("bad vpc id \"%s\"", vpc_id);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	path = lab_path(state, "vpcs/%s/index", vpc_id);
	line = lab_read_line(path);
	free(path);
	if (line == NULL) {
		lab_unlock(lock);
		return 0;
	}
	index = atoi(line);
	free(line);
	ns = lab_vpc_netns(state, index);
	core = lab_core_netns(state);
	from = xasprintf("198.18.%d.1", index);
	{
		char *c = NULL;
		char *table = xasprintf("%d", 1000 + index);

		/* The transit veth goes with the router; the rule stays. */
		if (lab_cmd(&c, "ip", "-n", core, "rule", "del", "from", from,
		    "lookup", table, (char *)NULL) == -1)
			free(c);
		free(table);
	}
	if (lab_netns_exists(ns) && ns_delete(ns, cause) == -1)
		rc = -1;
	/* The VPC's subnets go with it. */
	{
		DIR *dir;
		struct dirent *de;
		char *sdir = lab_path(state, "subnets");

		if ((dir = opendir(sdir)) != NULL) {
			while ((de = readdir(dir)) != NULL) {
				char *p, *text, *c = NULL;

				if (de->d_name[0] == '.')
					continue;
				p = lab_path(state, "subnets/%s/index",
				    de->d_name);
				text = file_read(p, NULL, &c);
				free(c);
				free(p);
				if (text != NULL && strstr(text, vpc_id) != NULL) {
					p = lab_path(state, "subnets/%s",
					    de->d_name);
					lab_rm_rf(p);
					free(p);
				}
				free(text);
			}
			closedir(dir);
		}
		free(sdir);
	}
	path = lab_path(state, "vpcs/%s", vpc_id);
	lab_rm_rf(path);
	free(path);
	free(ns);
	free(core);
	free(from);
	lab_unlock(lock);
	return rc;
}

int
lab_spawn_core(const char *state, const char *tag, char *const argv[],
    pid_t *pidp, char **cause)
{
	struct lab_proc p = { .utsns_fd = -1, .mntns_fd = -1, .daemon = 1 };
	char *core, *log, *path, *exe, num[32];
	struct strlist av;
	pid_t pid;
	int lock, rc = -1;

	if (!lab_id_ok(tag)) {
		*cause = xasprintf("bad tag \"%s\"", tag);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	exe = lab_which(argv[0]);
	if (exe == NULL) {
		*cause = xasprintf("%s: not installed", argv[0]);
		lab_unlock(lock);
		return -1;
	}
	strlist_init(&av);
	strlist_take(&av, exe);
	for (size_t i = 1; argv[i] != NULL; i++)
		strlist_add(&av, argv[i]);
	strlist_take(&av, NULL);
	core = lab_core_netns(state);
	log = lab_path(state, "%s.log", tag);
	p.argv = av.v;
	p.netns_fd = lab_netns_open(core, cause);
	if (p.netns_fd == -1)
		goto out;
	p.out_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", log, strerror(errno));
		goto out;
	}
	if (lab_proc_run(&p, &pid, NULL, cause) == -1)
		goto out;
	path = lab_path(state, "pids");
	mkdir_p(path, 0700, cause);
	free(path);
	path = lab_path(state, "pids/%s.pid", tag);
	snprintf(num, sizeof num, "%ld\n", (long)pid);
	rc = lab_write_file(path, num, strlen(num), 0600, cause);
	free(path);
	if (rc == 0 && pidp != NULL)
		*pidp = pid;
out:
	if (p.netns_fd != -1)
		close(p.netns_fd);
	if (p.out_fd > 0)
		close(p.out_fd);
	free(core);
	free(log);
	strlist_release(&av);
	lab_unlock(lock);
	return rc;
}

/* Stop the processes recorded under pids/, each only if it still is in the
 * core namespace (a recycled PID belongs to someone else). */
static void
kill_recorded(const char *state, const char *core)
{
	char *dirpath = lab_path(state, "pids");
	DIR *dir;
	struct dirent *de;

	if ((dir = opendir(dirpath)) == NULL) {
		free(dirpath);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		char *p, *line;
		pid_t pid;

		if (de->d_name[0] == '.')
			continue;
		p = lab_path(state, "pids/%s", de->d_name);
		line = lab_read_line(p);
		pid = line != NULL ? (pid_t)atol(line) : 0;
		if (pid > 1 && lab_pid_in_netns(pid, core))
			lab_kill_pids(&pid, 1, 2000);
		free(line);
		unlink(p);
		free(p);
	}
	closedir(dir);
	free(dirpath);
}

static int
ns_create(const char *ns, char **cause)
{
	if (lab_cmd(cause, "ip", "netns", "add", ns, (char *)NULL) == -1)
		return -1;
	/* IPv4 only: no link-local IPv6 chatter, no v6 routes to reason about
	 * (best effort: a kernel without IPv6 has nothing to turn off). */
	{
		char *c = NULL;

		if (lab_netns_sysctl(ns, "net/ipv6/conf/all/disable_ipv6", "1",
		    &c) == -1)
			free(c);
		c = NULL;
		if (lab_netns_sysctl(ns, "net/ipv6/conf/default/disable_ipv6",
		    "1", &c) == -1)
			free(c);
	}
	return lab_cmd(cause, "ip", "-n", ns, "link", "set", "lo", "up",
	    (char *)NULL);
}

static int
ns_delete(const char *ns, char **cause)
{
	return lab_cmd(cause, "ip", "netns", "delete", ns, (char *)NULL);
}

/* Host namespaces (mount, UTS) are kept alive by bind mounts of their nsfs
 * files under state/nsfs, which must be a private mount: a shared one would
 * propagate the namespace into itself. */
static int
nsfs_prepare(const char *state, char **cause)
{
	char *dir = lab_path(state, "nsfs");
	int rc = -1;

	if (mkdir_p(dir, 0700, cause) == -1)
		goto out;
	if (mount(dir, dir, NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, dir, NULL, MS_PRIVATE, NULL) == -1) {
		*cause = xasprintf("mount %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Unmount everything at or under state/nsfs (from /proc/self/mountinfo,
 * deepest first). */
static void
nsfs_release(const char *state)
{
	char *dir = lab_path(state, "nsfs"), *real, *info, *line, *save, *c = NULL;
	struct strlist mounts;

	real = realpath(dir, NULL);
	if (real == NULL) {
		free(dir);
		return;
	}
	info = file_read("/proc/self/mountinfo", NULL, &c);
	free(c);
	strlist_init(&mounts);
	for (line = info != NULL ? strtok_r(info, "\n", &save) : NULL;
	    line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char mp[4096];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		if (strcmp(mp, real) == 0 || (str_startswith(mp, real) &&
		    mp[strlen(real)] == '/'))
			strlist_add(&mounts, mp);
	}
	free(info);
	for (size_t i = mounts.n; i > 0; i--)
		umount2(mounts.v[i - 1], MNT_DETACH);
	strlist_release(&mounts);
	free(real);
	free(dir);
}

static int
state_ok(const char *state, char **cause)
{
	if (state == NULL || state[0] != '/' || strpbrk(state, ",: \t\n\\") !=
	    NULL) {
		*cause = xasprintf("lab state directory \"%s\" must be an "
		    "absolute path without spaces, commas or colons",
		    state != NULL ? state : "");
		return -1;
	}
	return 0;
}

/* Ids end up in paths and namespace names: letters, digits, dashes only. */
int
lab_id_ok(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 64)
		return 0;
	for (const char *c = id; *c != '\0'; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '-')
			return 0;
	return 1;
}
