/* fw.c: security groups and route tables as nftables rules inside each lab
 * host's network namespace (see fw.h).
 *
 * What is modelled, from AWS's VPC User Guide:
 *   - "Security groups are stateful. For example, if you send a request from
 *     an instance, the response traffic for that request is allowed to reach
 *     the instance regardless of the inbound security group rules."
 *     https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
 *   - Rules only allow; no inbound rule means no inbound traffic; a new group
 *     has one outbound rule allowing all; with several groups "the rules from
 *     each security group are effectively aggregated".
 *     https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
 *   - A security group as source "allows … the private IP addresses of the
 *     network interfaces associated with the referenced security group", not
 *     public or Elastic IPs (same page, "Security group referencing").
 *   - An instance launched without a group gets its VPC's default group.
 *     https://docs.aws.amazon.com/vpc/latest/userguide/default-security-group.html
 *   - A subnet uses its explicitly associated route table, else the VPC's
 *     main one; a subnet is public when that table routes to an internet
 *     gateway, and only then do public IPs in it work.
 *     https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
 *     https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Internet_Gateway.html
 * Not modelled: IPv6 rules, prefix lists, network ACLs, NAT egress (the lab
 * has none), groups on EFS mount targets (EFS in the lab is no network).
 *
 * The ruleset is text, derived deterministically (the reconciler compares it
 * with the loaded one and loads it only when it changed). Every address put
 * into it is parsed and printed again, so nothing from the control plane is
 * pasted into nft's input as it came. */
#include "lab/fw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static const char *jstr(const cJSON *o, const char *k);
static int jint(const cJSON *o, const char *k, int dflt);
static void instance_groups(const cJSON *inst, const cJSON *sgs,
    struct strlist *out);
static const cJSON *find_sg(const cJSON *sgs, const char *id);
static void add_perms(struct buf *b, const cJSON *perms, int in,
    const cJSON *reservations, const cJSON *sgs);
static int internet_routed(const cJSON *inst, const cJSON *rts);

#define ARR_EACH(e, a) for (e = cJSON_IsArray(a) ? (a)->child : NULL; e != NULL; e = e->next)

char *
lab_fw_ruleset(const cJSON *inst, const cJSON *reservations, const cJSON *sgs,
    const cJSON *rts)
{
	struct buf b, in, out;
	struct strlist groups;
	int sealed = jstr(inst, "ipAddress") != NULL &&
	    !internet_routed(inst, rts);

	buf_init(&b);
	buf_init(&in);
	buf_init(&out);
	strlist_init(&groups);
	instance_groups(inst, sgs, &groups);
	for (size_t i = 0; i < groups.n; i++) {
		const cJSON *sg = find_sg(sgs, groups.v[i]);

		buf_printf(&in, "\t\t# %s%s\n", groups.v[i], sg == NULL ?
		    ": no such group, no rules" : "");
		buf_printf(&out, "\t\t# %s%s\n", groups.v[i], sg == NULL ?
		    ": no such group, no rules" : "");
		if (sg == NULL)
			continue;
		add_perms(&in, cJSON_GetObjectItemCaseSensitive(sg,
		    "ipPermissions"), 1, reservations, sgs);
		add_perms(&out, cJSON_GetObjectItemCaseSensitive(sg,
		    "ipPermissionsEgress"), 0, reservations, sgs);
	}

	buf_printf(&b, "# mlsh lab: security groups of %s\n"
	    "table ip mlshlab\n"
	    "delete table ip mlshlab\n"
	    "table ip mlshlab {\n"
	    "\tchain input {\n"
	    "\t\ttype filter hook input priority filter; policy drop;\n"
	    "\t\tiif \"lo\" accept\n",
	    jstr(inst, "instanceId") ? jstr(inst, "instanceId") : "?");
	if (sealed)
		buf_adds(&b, "\t\t# public IP without a route to an internet "
		    "gateway\n\t\tiifname \"eth1\" drop\n");
	buf_adds(&b, "\t\tct state established,related accept\n");
	buf_add(&b, in.data, in.len);
	buf_adds(&b, "\t}\n"
	    "\tchain output {\n"
	    "\t\ttype filter hook output priority filter; policy drop;\n"
	    "\t\toif \"lo\" accept\n");
	if (sealed)
		buf_adds(&b, "\t\toifname \"eth1\" drop\n");
	buf_adds(&b, "\t\tct state established,related accept\n");
	buf_add(&b, out.data, out.len);
	buf_adds(&b, "\t}\n}\n");
	buf_release(&in);
	buf_release(&out);
	strlist_release(&groups);
	return buf_detach_release(&b);
}

int
lab_fw_apply(const char *state, const char *id, const char *ruleset,
    int *changed, char **cause)
{
	int lock, rc;

	*changed = 0;
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	rc = lab_fw_apply_locked(state, id, ruleset, changed, cause);
	lab_unlock(lock);
	return rc;
}

int
lab_fw_apply_locked(const char *state, const char *id, const char *ruleset,
    int *changed, char **cause)
{
	char *path = NULL, *tmp = NULL, *log = NULL, *old, *c = NULL, *name;
	char *ns = NULL, *nft = NULL;
	struct lab_proc p = { .utsns_fd = -1, .mntns_fd = -1, .out_fd = -1,
	    .netns_fd = -1, .rc_fd = -1 };
	char *argv[4];
	int status = 0, rc = -1;

	*changed = 0;
	if (!lab_id_ok(id)) {
		*cause = xasprintf("bad instance id \"%s\"", id);
		return -1;
	}
	path = lab_path(state, "hosts/%s/fw.nft", id);
	old = file_read(path, NULL, &c);
	free(c);
	if (old != NULL && strcmp(old, ruleset) == 0) {
		free(old);
		rc = 0;
		goto out;
	}
	free(old);
	name = lab_name(state);
	ns = xasprintf("%s-%s", name, id);
	free(name);
	if (!lab_netns_exists(ns)) {
		*cause = xasprintf("%s: no such host", id);
		goto out;
	}
	if ((nft = lab_which("nft")) == NULL) {
		*cause = xstrdup("nft is not installed (apt-get install "
		    "nftables)");
		goto out;
	}
	tmp = lab_path(state, "hosts/%s/fw.nft.new", id);
	log = lab_path(state, "hosts/%s/fw.log", id);
	if (lab_write_file(tmp, ruleset, strlen(ruleset), 0600, cause) == -1)
		goto out;
	/* Only ever inside the host's namespace: lab_proc_run's child fails
	 * rather than run nft where it is when setns fails. */
	if ((p.netns_fd = lab_netns_open(ns, cause)) == -1)
		goto out;
	p.out_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (p.out_fd == -1) {
		*cause = xasprintf("%s: %s", log, strerror(errno));
		goto out;
	}
	argv[0] = nft;
	argv[1] = "-f";
	argv[2] = tmp;
	argv[3] = NULL;
	p.argv = argv;
	if (lab_proc_run(&p, NULL, &status, cause) == -1)
		goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *msg = file_read(log, NULL, &c);

		free(c);
		if (msg != NULL)
			msg[strcspn(msg, "\n")] = '\0';
		*cause = xasprintf("%s: nft: %s", id, msg != NULL && *msg !=
		    '\0' ? msg : "failed");
		free(msg);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto out;
	}
	*changed = 1;
	rc = 0;
out:
	if (p.netns_fd != -1)
		close(p.netns_fd);
	if (p.out_fd != -1)
		close(p.out_fd);
	free(path);
	free(tmp);
	free(log);
	free(ns);
	free(nft);
	return rc;
}

/* ---- derivation ---------------------------------------------------------- */

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) && v->valuestring[0] != '\0' ?
	    v->valuestring : NULL;
}

/* EC2's XML gives numbers as text; accept either. */
static int
jint(const cJSON *o, const char *k, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	char *end;
	long n;

	if (cJSON_IsNumber(v))
		return v->valueint;
	if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		return dflt;
	n = strtol(v->valuestring, &end, 10);
	return *end == '\0' && n >= -1 && n <= 65535 ? (int)n : dflt;
}

static int
group_ok(const char *id)
{
	return id != NULL && str_startswith(id, "sg-") && lab_id_ok(id);
}

/* The instance's groups: its own and its interfaces' (moto lists the
 * groups of an instance launched with NetworkInterface.N.SecurityGroupId on
 * the interface only), else its VPC's default group. Sorted, so the text
 * does not depend on order. */
static void
instance_groups(const cJSON *inst, const cJSON *sgs, struct strlist *out)
{
	const cJSON *g, *eni, *sg;

	ARR_EACH(g, cJSON_GetObjectItemCaseSensitive(inst, "groupSet"))
		if (group_ok(jstr(g, "groupId")) &&
		    !strlist_has(out, jstr(g, "groupId")))
			strlist_add(out, jstr(g, "groupId"));
	ARR_EACH(eni, cJSON_GetObjectItemCaseSensitive(inst,
	    "networkInterfaceSet"))
		ARR_EACH(g, cJSON_GetObjectItemCaseSensitive(eni, "groupSet"))
			if (group_ok(jstr(g, "groupId")) &&
			    !strlist_has(out, jstr(g, "groupId")))
				strlist_add(out, jstr(g, "groupId"));
	if (out->n == 0 && jstr(inst, "vpcId") != NULL)
		ARR_EACH(sg, sgs)
			if (jstr(sg, "groupName") != NULL &&
			    strcmp(jstr(sg, "groupName"), "default") == 0 &&
			    jstr(sg, "vpcId") != NULL &&
			    strcmp(jstr(sg, "vpcId"), jstr(inst, "vpcId")) == 0 &&
			    group_ok(jstr(sg, "groupId")))
				strlist_add(out, jstr(sg, "groupId"));
	strlist_sort(out);
}

static const cJSON *
find_sg(const cJSON *sgs, const char *id)
{
	const cJSON *sg;

	ARR_EACH(sg, sgs)
		if (jstr(sg, "groupId") != NULL &&
		    strcmp(jstr(sg, "groupId"), id) == 0)
			return sg;
	return NULL;
}

/* "a.b.c.d/n" made canonical (host bits cleared), or NULL. */
static char *
cidr_canon(const char *cidr)
{
	unsigned int addr;
	int len;
	char *ip, *s;

	if (cidr == NULL || lab_cidr_parse(cidr, &addr, &len) == -1)
		return NULL;
	addr &= len == 0 ? 0 : ~0U << (32 - len);
	ip = lab_ip_str(addr);
	s = xasprintf("%s/%d", ip, len);
	free(ip);
	return s;
}

/* The private IPs of the running (or pending, or stopped: they keep their
 * address) instances in group id. */
static void
group_members(const cJSON *reservations, const cJSON *sgs, const char *id,
    struct strlist *out)
{
	const cJSON *r, *inst;
	struct strlist gs;

	ARR_EACH(r, reservations)
		ARR_EACH(inst, cJSON_GetObjectItemCaseSensitive(r,
		    "instancesSet")) {
			const char *st = jstr(cJSON_GetObjectItemCaseSensitive(
			    inst, "instanceState"), "name");
			char *ip;

			if (st == NULL || strcmp(st, "terminated") == 0 ||
			    strcmp(st, "shutting-down") == 0)
				continue;
			strlist_init(&gs);
			instance_groups(inst, sgs, &gs);
			if (strlist_has(&gs, id) && (ip = cidr_canon(jstr(inst,
			    "privateIpAddress"))) != NULL) {
				/* "10.0.1.5/32" -> "10.0.1.5" */
				ip[strcspn(ip, "/")] = '\0';
				if (!strlist_has(out, ip))
					strlist_add(out, ip);
				free(ip);
			}
			strlist_release(&gs);
		}
	strlist_sort(out);
}

/* The protocol and port part of a rule ("tcp dport 22", "" for all), or
 * NULL for a protocol the lab does not model. */
static char *
match_of(const cJSON *perm)
{
	const char *proto = jstr(perm, "ipProtocol");
	int from = jint(perm, "fromPort", -1), to = jint(perm, "toPort", -1);
	const char *name = NULL;
	char *end;
	long num;

	if (proto == NULL || strcmp(proto, "-1") == 0 ||
	    strcmp(proto, "all") == 0)
		return xstrdup("");
	if (strcmp(proto, "tcp") == 0 || strcmp(proto, "6") == 0)
		name = "tcp";
	else if (strcmp(proto, "udp") == 0 || strcmp(proto, "17") == 0)
		name = "udp";
	if (name != NULL) {
		if (from < 0 || to < 0 || (from == 0 && to == 65535))
			return xasprintf("meta l4proto %s ", name);
		if (from == to)
			return xasprintf("%s dport %d ", name, from);
		if (from > to)
			return NULL;
		return xasprintf("%s dport %d-%d ", name, from, to);
	}
	if (strcmp(proto, "icmp") == 0 || strcmp(proto, "1") == 0) {
		/* For ICMP the ports are the type and code; -1: any. */
		if (from < 0 || from > 255)
			return xstrdup("meta l4proto icmp ");
		if (to < 0 || to > 255)
			return xasprintf("icmp type %d ", from);
		return xasprintf("icmp type %d icmp code %d ", from, to);
	}
	num = strtol(proto, &end, 10);
	if (*end == '\0' && num >= 0 && num <= 255)
		return xasprintf("meta l4proto %ld ", num);
	return NULL;
}

static void
add_perms(struct buf *b, const cJSON *perms, int in, const cJSON *reservations,
    const cJSON *sgs)
{
	const char *dir = in ? "saddr" : "daddr";
	const cJSON *perm, *r, *g;

	ARR_EACH(perm, perms) {
		char *m = match_of(perm);

		if (m == NULL) {
			buf_printf(b, "\t\t# protocol %.16s: not modelled\n",
			    jstr(perm, "ipProtocol") ? jstr(perm, "ipProtocol") :
			    "?");
			continue;
		}
		ARR_EACH(r, cJSON_GetObjectItemCaseSensitive(perm, "ipRanges")) {
			char *cidr = cidr_canon(jstr(r, "cidrIp"));

			if (cidr == NULL)
				continue;
			if (strcmp(cidr, "0.0.0.0/0") == 0)
				buf_printf(b, "\t\t%saccept\n", m);
			else
				buf_printf(b, "\t\tip %s %s %saccept\n", dir,
				    cidr, m);
			free(cidr);
		}
		ARR_EACH(g, cJSON_GetObjectItemCaseSensitive(perm, "groups")) {
			const char *gid = jstr(g, "groupId");
			struct strlist ips;

			if (!group_ok(gid))
				continue;
			strlist_init(&ips);
			group_members(reservations, sgs, gid, &ips);
			if (ips.n == 0)
				buf_printf(b, "\t\t# from %s: no instances\n",
				    gid);
			else {
				buf_printf(b, "\t\tip %s { ", dir);
				for (size_t i = 0; i < ips.n; i++)
					buf_printf(b, "%s%s", i ? ", " : "",
					    ips.v[i]);
				buf_printf(b, " } %saccept # %s\n", m, gid);
			}
			strlist_release(&ips);
		}
		free(m);
	}
}

/* Whether the instance's subnet routes the internet (here: the lab's
 * client address) to an internet gateway. */
static int
internet_routed(const cJSON *inst, const cJSON *rts)
{
	const char *subnet = jstr(inst, "subnetId"), *vpc = jstr(inst, "vpcId");
	const cJSON *rt, *a, *use = NULL, *route;
	unsigned int client, net;
	int len, plen;

	ARR_EACH(rt, rts)
		ARR_EACH(a, cJSON_GetObjectItemCaseSensitive(rt,
		    "associationSet"))
			if (subnet != NULL && jstr(a, "subnetId") != NULL &&
			    strcmp(jstr(a, "subnetId"), subnet) == 0)
				use = rt;
	if (use == NULL)
		ARR_EACH(rt, rts)
			ARR_EACH(a, cJSON_GetObjectItemCaseSensitive(rt,
			    "associationSet"))
				if (jstr(a, "main") != NULL &&
				    strcmp(jstr(a, "main"), "true") == 0 &&
				    vpc != NULL && jstr(rt, "vpcId") != NULL &&
				    strcmp(jstr(rt, "vpcId"), vpc) == 0)
					use = rt;
	if (use == NULL)
		return 0;
	lab_cidr_parse(LAB_CLIENT_ADDR, &client, &plen);
	ARR_EACH(route, cJSON_GetObjectItemCaseSensitive(use, "routeSet")) {
		const char *gw = jstr(route, "gatewayId");
		const char *st = jstr(route, "state");

		if (gw == NULL || !str_startswith(gw, "igw-") ||
		    (st != NULL && strcmp(st, "blackhole") == 0) ||
		    lab_cidr_parse(jstr(route, "destinationCidrBlock") ?
		    jstr(route, "destinationCidrBlock") : "", &net, &len) == -1)
			continue;
		if (len == 0 || ((client ^ net) & (~0U << (32 - len))) == 0)
			return 1;
	}
	return 0;
}
