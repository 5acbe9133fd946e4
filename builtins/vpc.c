/* vpc: the network the workspace's nodes live in (the seed's core module):
 * VPC, public and private subnet in one AZ, internet gateway, NAT gateway and
 * its Elastic IP, route tables, security groups, the user's key pair and a
 * small jump host with IMDSv2. `vpc up` creates what is missing (idempotent,
 * journaled, parallel where independent), `vpc down` removes it, `vpc
 * status` shows it. The types' functions for stack_types.def live here too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "stack/stack.h"
#include "builtins/checkip.h"
#include "lib/state.h"

#define DEFAULT_CIDR	"10.0.0.0/16"
#define DEFAULT_TYPES	"dl1.24xlarge,p3.8xlarge"
#define JUMP_TYPE	"t3.nano"
/* The jump host keeps its image's root volume: Canonical's hvm-ssd/ebs-gp2
 * server images have an 8 GiB gp2 root (cost counts it). */
#define JUMP_DISK_GB	8
#define JUMP_DISK_TYPE	"gp2"
#define UBUNTU_OWNER	"099720109477"
#define UBUNTU_SSM	"/aws/service/canonical/ubuntu/server/22.04/stable/" \
			"current/amd64/hvm/ebs-gp2/ami-id"
#define UBUNTU_NAME	"ubuntu/images/hvm-ssd*/ubuntu-*-22.04-amd64-server-*"
#define UBUNTU_ANY	"ubuntu/images/hvm-ssd*/ubuntu-*-amd64-server-*"

/* The roles vpc up makes, in creation order (vpc down deletes them). */
static const char *const vpc_roles[] = {
	"vpc", "eip", "key", "subnet-public", "subnet-private", "igw",
	"rt-public", "rt-private", "sg-jump", "sg-nodes", "sg-notebook",
	"sg-grafana", "sg-efs", "nat", "jump", NULL
};

/* --- small helpers --- */

/* "10.0.0.0/16" -> the /24 number k inside it: "10.0.k.0/24". */
static int
cidr_parse(const char *cidr, unsigned *a, unsigned *b, unsigned *c,
    unsigned *d, unsigned *len)
{
	char tail;
	if (sscanf(cidr, "%u.%u.%u.%u/%u%c", a, b, c, d, len, &tail) != 5)
		return -1;
	if (*a > 255 || *b > 255 || *c > 255 || *d > 255 || *len > 32)
		return -1;
	return 0;
}

static char *
subnet_cidr(const char *vpc_cidr, int k)
{
	unsigned a, b, c, d, len;

	if (cidr_parse(vpc_cidr, &a, &b, &c, &d, &len) != 0 || len > 22)
		return NULL;
	return xasprintf("%u.%u.%u.0/24", a, b, c + (unsigned)k);
}

static int
is_private_cidr(const char *cidr)
{
	unsigned a, b, c, d, len;

	if (cidr_parse(cidr, &a, &b, &c, &d, &len) != 0)
		return 0;
	return (a == 10 && len >= 8) || (a == 172 && b >= 16 && b <= 31 &&
	    len >= 12) || (a == 192 && b == 168 && len >= 16);
}

/* The caller's public address as a /32 from the checkip service (the
 * lab's own in the lab: builtins/checkip.c). */
static char *
checkip(struct mlsh_ctx *ctx)
{
	char *cause = NULL, *addr = checkip_address(ctx, &cause), *r;

	if (addr == NULL) {
		cmd_error(ctx, "cannot find your public address (%s); pass "
		    "--allow CIDR", cause);
		free(cause);
		return NULL;
	}
	r = xasprintf("%s/32", addr);
	free(addr);
	return r;
}

/* The user's public key: --key, else ~/.ssh/id_ed25519.pub, id_rsa.pub. */
static char *
public_key(struct mlsh_ctx *ctx, const char *given, char **path_out)
{
	const char *home = getenv("HOME");
	const char *names[] = { "id_ed25519.pub", "id_rsa.pub", NULL };
	char *text = NULL, *cause = NULL;

	if (given != NULL) {
		if ((text = file_read(given, NULL, &cause)) == NULL) {
			cmd_error(ctx, "cannot read the key: %s", cause);
			free(cause);
			return NULL;
		}
		*path_out = xstrdup(given);
	} else {
		for (int i = 0; names[i] != NULL && text == NULL; i++) {
			char *p = xasprintf("%s/.ssh/%s", home ? home : "",
			    names[i]);
			if ((text = file_read(p, NULL, &cause)) != NULL)
				*path_out = p;
			else
				free(p);
			free(cause);
			cause = NULL;
		}
		if (text == NULL) {
			cmd_error(ctx, "no public key in ~/.ssh (id_ed25519.pub, "
			    "id_rsa.pub); make one with ssh-keygen or pass "
			    "--key PATH");
			return NULL;
		}
	}
	if (strncmp(text, "ssh-", 4) != 0 && strncmp(text, "ecdsa-", 6) != 0) {
		cmd_error(ctx, "'%s' is not an OpenSSH public key", *path_out);
		free(text);
		free(*path_out);
		*path_out = NULL;
		return NULL;
	}
	return text;
}

/* Pick the AZ offering every wanted instance type. */
static char *
pick_az(struct stack *st, const char *types_csv)
{
	struct strlist types, azs;
	cJSON *p = cJSON_CreateObject(), *items = NULL, *it;
	struct aws_error err;
	char *dup = xstrdup(types_csv), *tok, *save = NULL, *found = NULL;
	int k = 1, best_first = 0;
	size_t best = 0;
	struct buf why, cannot;

	strlist_init(&types);
	strlist_init(&azs);
	cJSON_AddStringToObject(p, "LocationType", "availability-zone");
	cJSON_AddStringToObject(p, "Filter.1.Name", "instance-type");
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char key[32];
		if (*tok == '\0')
			continue;
		snprintf(key, sizeof key, "Filter.1.Value.%d", k++);
		cJSON_AddStringToObject(p, key, tok);
		strlist_add(&types, tok);
	}
	/* The jump host must fit there too (not every AZ has t3). */
	if (!strlist_has(&types, JUMP_TYPE)) {
		char key[32];
		snprintf(key, sizeof key, "Filter.1.Value.%d", k++);
		cJSON_AddStringToObject(p, key, JUMP_TYPE);
	}
	free(dup);
	memset(&err, 0, sizeof err);
	st->ncalls++;
	if (aws_paginate(st->aws, "ec2", "DescribeInstanceTypeOfferings", p,
	    "instanceTypeOfferingSet", 0, &items, &err) != 0) {
		cJSON_Delete(p);
		strlist_release(&types);
		stack_fail(st, "cannot list instance type offerings", &err);
		return NULL;
	}
	cJSON_Delete(p);
	cJSON_ArrayForEach(it, items) {
		const cJSON *az = cJSON_GetObjectItemCaseSensitive(it, "location");
		if (cJSON_IsString(az) && !strlist_has(&azs, az->valuestring))
			strlist_add(&azs, az->valuestring);
	}
	strlist_sort(&azs);
	/* The AZ offering the most of the types (the first of equals),
	 * among those offering the jump host's type; one that offers the
	 * first type (the training type the workspace is for: dl1) wins over
	 * any that does not. */
	for (size_t i = 0; i < azs.n; i++) {
		size_t have = 0;
		int jump = 0, first = 0;
		cJSON_ArrayForEach(it, items) {
			const cJSON *az = cJSON_GetObjectItemCaseSensitive(it,
			    "location");
			const cJSON *ty = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceType");
			if (cJSON_IsString(az) && cJSON_IsString(ty) &&
			    strcmp(az->valuestring, azs.v[i]) == 0 &&
			    strcmp(ty->valuestring, JUMP_TYPE) == 0)
				jump = 1;
		}
		if (!jump)
			continue;
		for (size_t t = 0; t < types.n; t++) {
			cJSON_ArrayForEach(it, items) {
				const cJSON *az = cJSON_GetObjectItemCaseSensitive(
				    it, "location");
				const cJSON *ty = cJSON_GetObjectItemCaseSensitive(
				    it, "instanceType");
				if (cJSON_IsString(az) && cJSON_IsString(ty) &&
				    strcmp(az->valuestring, azs.v[i]) == 0 &&
				    strcmp(ty->valuestring, types.v[t]) == 0) {
					have++;
					if (t == 0)
						first = 1;
					break;
				}
			}
		}
		if (have > best && first >= best_first) {
			best = have;
			best_first = first;
			free(found);
			found = xstrdup(azs.v[i]);
		} else if (first > best_first) {
			best = have;
			best_first = first;
			free(found);
			found = xstrdup(azs.v[i]);
		}
	}
	if (best < types.n) {
		buf_init(&why);
		buf_init(&cannot);
		for (size_t t = 0; t < types.n; t++) {
			struct buf where;
			int there = 0;
			buf_init(&where);
			cJSON_ArrayForEach(it, items) {
				const cJSON *az = cJSON_GetObjectItemCaseSensitive(
				    it, "location");
				const cJSON *ty = cJSON_GetObjectItemCaseSensitive(
				    it, "instanceType");
				if (cJSON_IsString(az) && cJSON_IsString(ty) &&
				    strcmp(ty->valuestring, types.v[t]) == 0) {
					buf_printf(&where, "%s%s", where.len ?
					    " " : "", az->valuestring);
					if (found != NULL && strcmp(
					    az->valuestring, found) == 0)
						there = 1;
				}
			}
			if (!there) {
				/* The built-in kinds are named after their
				 * type's family: p3.8xlarge is `node p3`. */
				const char *dot = strchr(types.v[t], '.');
				buf_printf(&cannot, "%s%.*s (%s)", cannot.len ?
				    ", " : "", dot ? (int)(dot - types.v[t]) :
				    (int)strlen(types.v[t]), types.v[t],
				    types.v[t]);
			}
			buf_printf(&why, "%s%s %s", why.len ? "; " : "",
			    types.v[t], where.len ? "only in" :
			    "offered in no zone");
			if (where.len)
				buf_printf(&why, " %s", where.data);
			buf_release(&where);
		}
		if (found == NULL)
			cmd_error(st->ctx, "no availability zone of %s offers "
			    "any of %s: %s (choose --types or --az)", st->region,
			    types_csv, why.data);
		else
			shell_warn(st->ctx, "vpc: warning: no availability zone "
			    "of %s offers all of %s: %s; using %s, where node "
			    "kind%s %s cannot start (--az or --types to "
			    "choose)", st->region, types_csv, why.data, found,
			    strchr(cannot.data, ',') ? "s" : "", cannot.data);
		buf_release(&why);
		buf_release(&cannot);
	}
	cJSON_Delete(items);
	strlist_release(&types);
	strlist_release(&azs);
	return found;
}

static cJSON *
obj(const char *k1, const char *v1)
{
	cJSON *o = cJSON_CreateObject();
	if (k1 != NULL)
		cJSON_AddStringToObject(o, k1, v1);
	return o;
}

static void
vpc_attrs(cJSON *at, const cJSON *it)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "cidrBlock");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "state");
	if (cJSON_IsString(v)) {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "cidr");
		cJSON_AddStringToObject(at, "cidr", v->valuestring);
	}
	if (cJSON_IsString(s)) {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
		cJSON_AddStringToObject(at, "state", s->valuestring);
	}
}

static void
set_attr(cJSON *at, const char *k, const cJSON *item, const char *member)
{
	const cJSON *v = stack_path(item, member);
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		cJSON_DeleteItemFromObjectCaseSensitive(at, k);
		cJSON_AddStringToObject(at, k, v->valuestring);
	}
}

static void
subnet_attrs(cJSON *at, const cJSON *it)
{
	set_attr(at, "cidr", it, "cidrBlock");
	set_attr(at, "az", it, "availabilityZone");
	set_attr(at, "state", it, "state");
}

static void
eip_attrs(cJSON *at, const cJSON *it)
{
	set_attr(at, "public_ip", it, "publicIp");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "price_key");
	cJSON_AddStringToObject(at, "price_key", "eip");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
	cJSON_AddStringToObject(at, "state", "allocated");
}

static void
nat_attrs(cJSON *at, const cJSON *it)
{
	set_attr(at, "state", it, "state");
	set_attr(at, "subnet", it, "subnetId");
	set_attr(at, "public_ip", it, "natGatewayAddressSet.0.publicIp");
	set_attr(at, "private_ip", it, "natGatewayAddressSet.0.privateIp");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "price_key");
	cJSON_AddStringToObject(at, "price_key", "nat-gateway");
}

static void
sg_attrs(cJSON *at, const cJSON *it)
{
	set_attr(at, "group_name", it, "groupName");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
	cJSON_AddStringToObject(at, "state", "available");
}

static void
key_attrs(cJSON *at, const cJSON *it)
{
	set_attr(at, "fingerprint", it, "keyFingerprint");
	set_attr(at, "key_pair_id", it, "keyPairId");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
	cJSON_AddStringToObject(at, "state", "available");
}

static void
plain_attrs(cJSON *at, const cJSON *it)
{
	(void)it;
	cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
	cJSON_AddStringToObject(at, "state", "available");
}

/* One ingress rule: from a range (src a CIDR) or, with by_group, from another
 * group (or the group itself): the address of whatever carries src, never a
 * range. */
static cJSON *
ingress_rule(const char *group, const char *proto, int from, int to,
    int by_group, const char *src, const char *desc)
{
	const char *list = by_group ? "Groups" : "IpRanges";
	char key[64];
	cJSON *p = obj("GroupId", group);

	cJSON_AddStringToObject(p, "IpPermissions.1.IpProtocol", proto);
	if (from >= 0) {
		cJSON_AddNumberToObject(p, "IpPermissions.1.FromPort", from);
		cJSON_AddNumberToObject(p, "IpPermissions.1.ToPort", to);
	}
	snprintf(key, sizeof key, "IpPermissions.1.%s.1.%s", list,
	    by_group ? "GroupId" : "CidrIp");
	cJSON_AddStringToObject(p, key, src);
	snprintf(key, sizeof key, "IpPermissions.1.%s.1.Description", list);
	cJSON_AddStringToObject(p, key, desc);
	return p;
}

static cJSON *
ingress(const char *group, const char *proto, int from, int to,
    const char *cidr, const char *desc)
{
	return ingress_rule(group, proto, from, to, 0, cidr, desc);
}

static cJSON *
ingress_group(const char *group, const char *proto, int from, int to,
    const char *src, const char *desc)
{
	return ingress_rule(group, proto, from, to, 1, src, desc);
}

/* The rules of the security groups, one step each. The jump host is the only
 * door: every other group admits SSH (and Grafana's 3000) from sg-jump alone;
 * the nodes admit each other on every port (collective communication opens
 * ports of its own choosing), and EFS admits NFS from the groups that mount
 * it (nodes, notebook; Grafana does not mount EFS). Egress stays open. */
static const struct sg_rule {
	const char *role, *step, *proto;
	int from, to;
	const char *src, *desc;
} sg_rules[] = {
	{ "sg-nodes", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host" },
	{ "sg-nodes", "ingress-self", "-1", -1, -1, "sg-nodes",
	    "all traffic between nodes (multi-node training)" },
	{ "sg-notebook", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host" },
	{ "sg-grafana", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host" },
	{ "sg-grafana", "ingress-grafana-jump", "tcp", 3000, 3000, "sg-jump",
	    "grafana through the jump host" },
	{ "sg-efs", "ingress-nfs-nodes", "tcp", 2049, 2049, "sg-nodes",
	    "NFS from the nodes" },
	{ "sg-efs", "ingress-nfs-notebook", "tcp", 2049, 2049, "sg-notebook",
	    "NFS from the notebook" },
};
#define NSG_RULES (sizeof sg_rules / sizeof sg_rules[0])
#define NSG 5		/* the groups: jump, nodes, notebook, grafana, efs */

/* Workspaces made before the groups referred to each other admitted the whole
 * VPC range; take those rules away when vpc up runs again. */
static int
legacy_revoke(struct stack *st, const char *role, const char *step,
    const char *proto, int port, const char *cidr)
{
	cJSON *rec = stack_rec(st, role), *steps, *p, *res = NULL;
	struct aws_error err;
	int rc = 0;

	steps = cJSON_GetObjectItemCaseSensitive(rec, "steps");
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(steps, step)) ||
	    stack_id(st, role) == NULL)
		return 0;
	if (port < 0)
		stack_plan(st, "RevokeSecurityGroupIngress", role, "all "
		    "traffic from %s (the old VPC-wide rule)", cidr);
	else
		stack_plan(st, "RevokeSecurityGroupIngress", role, "%s %d "
		    "from %s (the old VPC-wide rule)", proto, port, cidr);
	if (st->dry_run)
		return 0;
	p = ingress(stack_id(st, role), proto, port, port, cidr, "");
	cJSON_DeleteItemFromObjectCaseSensitive(p,
	    "IpPermissions.1.IpRanges.1.Description");
	if (stack_call(st, "ec2", "RevokeSecurityGroupIngress", p, &res,
	    &err) != 0) {
		if (err.code != NULL && (strcmp(err.code,
		    "InvalidPermission.NotFound") == 0 ||
		    stack_err_notfound(&err)))
			aws_error_release(&err);
		else
			rc = stack_fail(st, role, &err);
	}
	if (rc == 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(steps, step);
		stack_save(st);
	}
	cJSON_Delete(res);
	cJSON_Delete(p);
	return rc;
}

/* --- vpc up --- */

static int
vpc_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	const char *cidr = cmd_opt(a, "cidr"), *az_opt = cmd_opt(a, "az");
	const char *allow_opt = cmd_opt(a, "allow");
	const char *types = cmd_opt(a, "types");
	char *allow = NULL, *az = NULL, *key = NULL, *keypath = NULL;
	char *ami = NULL, *pub_cidr = NULL, *priv_cidr = NULL;
	const char *vpc, *recorded_cidr, *recorded_az;
	int rc = 1;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	/* A recorded VPC fixes its CIDR and AZ. */
	recorded_cidr = stack_attr(stack_rec(&st, "vpc"), "cidr");
	recorded_az = stack_attr(stack_rec(&st, "subnet-private"), "az");
	if (recorded_cidr != NULL && cidr != NULL &&
	    strcmp(cidr, recorded_cidr) != 0) {
		cmd_error(ctx, "the workspace's VPC is %s; 'vpc down' first to "
		    "change it to %s", recorded_cidr, cidr);
		goto out;
	}
	if (cidr == NULL)
		cidr = recorded_cidr ? recorded_cidr : DEFAULT_CIDR;
	if ((pub_cidr = subnet_cidr(cidr, 0)) == NULL) {
		rc = cmd_usage_error(ctx, a, "bad --cidr '%s' (a /16 to /22 "
		    "such as 10.0.0.0/16)", cidr);
		goto out;
	}
	priv_cidr = subnet_cidr(cidr, 1);
	if (!is_private_cidr(cidr))
		shell_warn(ctx, "vpc: warning: %s is not private address space "
		    "(RFC 1918)", cidr);
	/* Who may SSH to the jump host. */
	if (allow_opt != NULL) {
		unsigned x1, x2, x3, x4, len;
		if (cidr_parse(allow_opt, &x1, &x2, &x3, &x4, &len) != 0) {
			rc = cmd_usage_error(ctx, a, "bad --allow '%s' (a CIDR "
			    "such as 203.0.113.7/32)", allow_opt);
			goto out;
		}
		if (len == 0)
			shell_warn(ctx, "vpc: warning: --allow %s opens SSH on "
			    "the jump host to the whole internet", allow_opt);
		allow = xstrdup(allow_opt);
	} else if (!cJSON_IsTrue(stack_path(stack_rec(&st, "sg-jump"),
	    "steps.ingress-ssh")) && (allow = checkip(ctx)) == NULL)
		goto out;
	/* The AZ. */
	if (recorded_az != NULL) {
		if (az_opt != NULL && strcmp(az_opt, recorded_az) != 0) {
			cmd_error(ctx, "the workspace's subnets are in %s; "
			    "'vpc down' first to move to %s", recorded_az,
			    az_opt);
			goto out;
		}
		az = xstrdup(recorded_az);
	} else if (az_opt != NULL)
		az = xstrdup(az_opt);
	else if (stack_id(&st, "subnet-private") == NULL &&
	    (az = pick_az(&st, types ? types : DEFAULT_TYPES)) == NULL)
		goto out;
	/* Key pair and AMI, only when still to be made. */
	if (stack_id(&st, "key") == NULL &&
	    (key = public_key(ctx, cmd_opt(a, "key"), &keypath)) == NULL)
		goto out;
	if (stack_id(&st, "jump") == NULL) {
		if (stack_resolve_ami(&st, UBUNTU_SSM, UBUNTU_OWNER,
		    UBUNTU_NAME, &ami) != 0 && ami == NULL) {
			free(ctx->error);
			ctx->error = NULL;
			if (stack_resolve_ami(&st, NULL, UBUNTU_OWNER,
			    UBUNTU_ANY, &ami) != 0 || ami == NULL) {
				if (ctx->error == NULL)
					cmd_error(ctx, "no Ubuntu server AMI "
					    "found in %s", st.region);
				goto out;
			}
			shell_warn(ctx, "vpc: no Ubuntu 22.04 image in %s; the "
			    "jump host uses %s, the newest Ubuntu server image",
			    st.region, ami);
		}
	}
	/* What costs money. */
	{
		struct stack_price_item pi[5];
		size_t n = 0;
		if (stack_id(&st, "nat") == NULL)
			pi[n++] = (struct stack_price_item){ "NAT gateway",
			    "nat-gateway", 1 };
		if (stack_id(&st, "eip") == NULL)
			pi[n++] = (struct stack_price_item){ "Elastic IP",
			    "eip", 1 };
		if (stack_id(&st, "jump") == NULL) {
			pi[n++] = (struct stack_price_item){ "jump host",
			    JUMP_TYPE, 1 };
			pi[n++] = (struct stack_price_item){ "its public IPv4",
			    "public-ipv4", 1 };
			pi[n++] = (struct stack_price_item){ "its root volume",
			    "ebs-" JUMP_DISK_TYPE "-gb-month", JUMP_DISK_GB };
		}
		if (stack_confirm_price(&st, pi, n) != 0)
			goto out;
	}

	/* 1. VPC, Elastic IP, key pair: independent. */
	{
		struct stack_create c[3];
		size_t n = 0;
		char *sum = xasprintf("CidrBlock=%s", cidr);
		char *kname = stack_name(&st, "key");
		char *ksum = xasprintf("KeyName=%s from %s", kname,
		    keypath ? keypath : "~/.ssh");
		memset(c, 0, sizeof c);
		c[n++] = (struct stack_create){ .role = "vpc", .type = "vpc",
		    .service = "ec2", .action = "CreateVpc",
		    .params = obj("CidrBlock", cidr), .tag_style = STACK_TAG_SPEC,
		    .tag_type = "vpc", .item_path = "vpc", .id_key = "vpcId",
		    .attrs = vpc_attrs, .summary = sum };
		c[n++] = (struct stack_create){ .role = "eip", .type = "eip",
		    .service = "ec2", .action = "AllocateAddress",
		    .params = obj("Domain", "vpc"), .tag_style = STACK_TAG_SPEC,
		    .tag_type = "elastic-ip", .item_path = "",
		    .id_key = "allocationId", .attrs = eip_attrs,
		    .summary = "Domain=vpc" };
		{
			cJSON *kp = obj("KeyName", kname);
			char *mat = key ? base64_encode(key, strlen(key)) : xstrdup("");
			cJSON_AddStringToObject(kp, "PublicKeyMaterial", mat);
			free(mat);
			c[n++] = (struct stack_create){ .role = "key",
			    .type = "key-pair", .service = "ec2",
			    .action = "ImportKeyPair", .params = kp,
			    .tag_style = STACK_TAG_SPEC, .tag_type = "key-pair",
			    .item_path = "", .id_key = "keyName",
			    .attrs = key_attrs, .summary = ksum };
		}
		rc = stack_create_many(&st, c, n);
		free(sum);
		free(kname);
		free(ksum);
		if (rc != 0)
			goto fail;
	}
	vpc = stack_id(&st, "vpc");
	if (stack_rec(&st, "vpc") != NULL && stack_attr(stack_rec(&st, "vpc"),
	    "cidr") == NULL)
		stack_set_attr(&st, "vpc", "cidr", cidr);
	{
		cJSON *p1 = obj("VpcId", vpc), *p2 = obj("VpcId", vpc);
		struct stack_step s[2];
		cJSON_AddStringToObject(p1, "EnableDnsHostnames.Value", "true");
		cJSON_AddStringToObject(p2, "EnableDnsSupport.Value", "true");
		s[0] = (struct stack_step){ "vpc", "dns-hostnames", "ec2",
		    "ModifyVpcAttribute", p1, NULL, "EnableDnsHostnames=true" };
		s[1] = (struct stack_step){ "vpc", "dns-support", "ec2",
		    "ModifyVpcAttribute", p2, NULL, "EnableDnsSupport=true" };
		if (stack_step_many(&st, s, 2) != 0)
			goto fail;
	}

	/* 2. Subnets, gateway, route tables, security groups: all at once. */
	{
		struct stack_create c[10];
		cJSON *sp = obj("VpcId", vpc), *pp = obj("VpcId", vpc);
		char *s1 = xasprintf("%s in %s (public)", pub_cidr, az);
		char *s2 = xasprintf("%s in %s (private)", priv_cidr, az);
		char *g[NSG];
		/* One group per role; creation order is also a safe delete
		 * order reversed (each refers only to groups made before it,
		 * or to itself). */
		const char *roles[NSG] = { "sg-jump", "sg-nodes",
		    "sg-notebook", "sg-grafana", "sg-efs" };
		const char *desc[NSG] = {
			"mlsh jump host: ssh from the allowed address only",
			"mlsh nodes: ssh from the jump host, all between nodes",
			"mlsh notebook: ssh from the jump host",
			"mlsh grafana: ssh and 3000 from the jump host",
			"mlsh EFS: NFS from the nodes and the notebook" };
		size_t n = 0;

		cJSON_AddStringToObject(sp, "CidrBlock", pub_cidr);
		cJSON_AddStringToObject(sp, "AvailabilityZone", az);
		cJSON_AddStringToObject(pp, "CidrBlock", priv_cidr);
		cJSON_AddStringToObject(pp, "AvailabilityZone", az);
		c[n++] = (struct stack_create){ .role = "subnet-public",
		    .type = "subnet", .service = "ec2", .action = "CreateSubnet",
		    .params = sp, .tag_style = STACK_TAG_SPEC,
		    .tag_type = "subnet", .item_path = "subnet",
		    .id_key = "subnetId", .attrs = subnet_attrs, .summary = s1 };
		c[n++] = (struct stack_create){ .role = "subnet-private",
		    .type = "subnet", .service = "ec2", .action = "CreateSubnet",
		    .params = pp, .tag_style = STACK_TAG_SPEC,
		    .tag_type = "subnet", .item_path = "subnet",
		    .id_key = "subnetId", .attrs = subnet_attrs, .summary = s2 };
		c[n++] = (struct stack_create){ .role = "igw", .type = "igw",
		    .service = "ec2", .action = "CreateInternetGateway",
		    .params = cJSON_CreateObject(), .tag_style = STACK_TAG_SPEC,
		    .tag_type = "internet-gateway",
		    .item_path = "internetGateway",
		    .id_key = "internetGatewayId", .attrs = plain_attrs,
		    .summary = "" };
		c[n++] = (struct stack_create){ .role = "rt-public",
		    .type = "route-table", .service = "ec2",
		    .action = "CreateRouteTable", .params = obj("VpcId", vpc),
		    .tag_style = STACK_TAG_SPEC, .tag_type = "route-table",
		    .item_path = "routeTable", .id_key = "routeTableId",
		    .attrs = plain_attrs, .summary = "public" };
		c[n++] = (struct stack_create){ .role = "rt-private",
		    .type = "route-table", .service = "ec2",
		    .action = "CreateRouteTable", .params = obj("VpcId", vpc),
		    .tag_style = STACK_TAG_SPEC, .tag_type = "route-table",
		    .item_path = "routeTable", .id_key = "routeTableId",
		    .attrs = plain_attrs, .summary = "private" };
		for (int i = 0; i < NSG; i++) {
			cJSON *p = obj("VpcId", vpc);
			g[i] = stack_name(&st, roles[i]);
			cJSON_AddStringToObject(p, "GroupName", g[i]);
			cJSON_AddStringToObject(p, "GroupDescription", desc[i]);
			c[n++] = (struct stack_create){ .role = roles[i],
			    .type = "security-group", .service = "ec2",
			    .action = "CreateSecurityGroup", .params = p,
			    .tag_style = STACK_TAG_SPEC,
			    .tag_type = "security-group", .item_path = "",
			    .id_key = "groupId", .attrs = sg_attrs,
			    .summary = desc[i] };
		}
		rc = stack_create_many(&st, c, n);
		free(s1);
		free(s2);
		for (int i = 0; i < NSG; i++)
			free(g[i]);
		if (rc != 0)
			goto fail;
	}
	/* Their wiring: attach, associations, ingress rules. */
	{
		struct stack_step s[4 + NSG_RULES];
		char *sums[NSG_RULES];
		cJSON *p;
		char *sum22 = xasprintf("tcp 22 from %s", allow ? allow :
		    "(recorded)");
		size_t n = 0;

		p = obj("InternetGatewayId", stack_id(&st, "igw"));
		cJSON_AddStringToObject(p, "VpcId", vpc);
		s[n++] = (struct stack_step){ "igw", "attach", "ec2",
		    "AttachInternetGateway", p, "Resource.AlreadyAssociated",
		    "to the VPC" };
		p = obj("RouteTableId", stack_id(&st, "rt-public"));
		cJSON_AddStringToObject(p, "SubnetId",
		    stack_id(&st, "subnet-public"));
		s[n++] = (struct stack_step){ "rt-public", "associate", "ec2",
		    "AssociateRouteTable", p, "Resource.AlreadyAssociated",
		    "with subnet-public" };
		p = obj("RouteTableId", stack_id(&st, "rt-private"));
		cJSON_AddStringToObject(p, "SubnetId",
		    stack_id(&st, "subnet-private"));
		s[n++] = (struct stack_step){ "rt-private", "associate", "ec2",
		    "AssociateRouteTable", p, "Resource.AlreadyAssociated",
		    "with subnet-private" };
		if (allow != NULL)
			s[n++] = (struct stack_step){ "sg-jump", "ingress-ssh",
			    "ec2", "AuthorizeSecurityGroupIngress",
			    ingress(stack_id(&st, "sg-jump"), "tcp", 22, 22,
			    allow, "ssh from the allowed address"),
			    "InvalidPermission.Duplicate", sum22 };
		for (size_t i = 0; i < NSG_RULES; i++) {
			const struct sg_rule *r = &sg_rules[i];
			if (r->from < 0)
				sums[i] = xasprintf("all traffic from %s",
				    r->src);
			else
				sums[i] = xasprintf("%s %d from %s", r->proto,
				    r->from, r->src);
			s[n++] = (struct stack_step){ r->role, r->step, "ec2",
			    "AuthorizeSecurityGroupIngress",
			    ingress_group(stack_id(&st, r->role), r->proto,
			    r->from, r->to, stack_id(&st, r->src), r->desc),
			    "InvalidPermission.Duplicate", sums[i] };
		}
		rc = stack_step_many(&st, s, n);
		free(sum22);
		for (size_t i = 0; i < NSG_RULES; i++)
			free(sums[i]);
		if (rc != 0)
			goto fail;
		if (legacy_revoke(&st, "sg-nodes", "ingress-vpc", "-1", -1,
		    cidr) != 0 || legacy_revoke(&st, "sg-efs", "ingress-nfs",
		    "tcp", 2049, cidr) != 0)
			goto fail;
	}
	{
		struct stack_step s[1];
		cJSON *p = obj("RouteTableId", stack_id(&st, "rt-public"));
		cJSON_AddStringToObject(p, "DestinationCidrBlock", "0.0.0.0/0");
		cJSON_AddStringToObject(p, "GatewayId", stack_id(&st, "igw"));
		s[0] = (struct stack_step){ "rt-public", "route-default", "ec2",
		    "CreateRoute", p, "RouteAlreadyExists",
		    "0.0.0.0/0 -> igw" };
		if ((rc = stack_step_many(&st, s, 1)) != 0)
			goto fail;
	}

	/* 3. NAT gateway and jump host together; the NAT's wait overlaps the
	 * jump host's launch. */
	{
		struct stack_create c[2];
		cJSON *np = obj("SubnetId", stack_id(&st, "subnet-public"));
		cJSON *jp = obj("ImageId", ami ? ami : "(recorded)");
		char *jsum = xasprintf("%s %s in subnet-public, public IP, "
		    "IMDSv2 required", JUMP_TYPE, ami ? ami : "");
		const char *both[2] = { "nat", "jump" };

		cJSON_AddStringToObject(np, "AllocationId", stack_id(&st, "eip"));
		cJSON_AddStringToObject(jp, "InstanceType", JUMP_TYPE);
		cJSON_AddNumberToObject(jp, "MinCount", 1);
		cJSON_AddNumberToObject(jp, "MaxCount", 1);
		cJSON_AddStringToObject(jp, "KeyName", stack_id(&st, "key"));
		cJSON_AddStringToObject(jp, "MetadataOptions.HttpTokens",
		    "required");
		cJSON_AddStringToObject(jp, "MetadataOptions.HttpEndpoint",
		    "enabled");
		cJSON_AddStringToObject(jp, "NetworkInterface.1.DeviceIndex",
		    "0");
		cJSON_AddStringToObject(jp, "NetworkInterface.1.SubnetId",
		    stack_id(&st, "subnet-public"));
		cJSON_AddStringToObject(jp,
		    "NetworkInterface.1.AssociatePublicIpAddress", "true");
		cJSON_AddStringToObject(jp,
		    "NetworkInterface.1.SecurityGroupId.1",
		    stack_id(&st, "sg-jump"));
		c[0] = (struct stack_create){ .role = "nat",
		    .type = "nat-gateway", .service = "ec2",
		    .action = "CreateNatGateway", .params = np,
		    .token_member = "ClientToken", .tag_style = STACK_TAG_SPEC,
		    .tag_type = "natgateway", .item_path = "natGateway",
		    .id_key = "natGatewayId", .attrs = nat_attrs,
		    .summary = "in subnet-public with eip" };
		c[1] = (struct stack_create){ .role = "jump", .type = "instance",
		    .service = "ec2", .action = "RunInstances", .params = jp,
		    .token_member = "ClientToken", .tag_style = STACK_TAG_SPEC,
		    .tag_type = "instance", .item_path = "instancesSet.0",
		    .id_key = "instanceId", .attrs = stack_instance_attrs,
		    .summary = jsum };
		if (st.sequential) {
			rc = stack_create_many(&st, &c[0], 1);
			if (rc == 0)
				rc = stack_wait_state(&st, "nat", "available",
				    900);
			if (rc == 0)
				rc = stack_create_many(&st, &c[1], 1);
			else
				cJSON_Delete(c[1].params);
			if (rc == 0)
				rc = stack_wait_state(&st, "jump", "running",
				    600);
		} else {
			rc = stack_create_many(&st, c, 2);
			if (rc == 0)
				rc = stack_wait_states(&st, both, 2,
				    "available,running", 900);
		}
		free(jsum);
		if (rc != 0)
			goto fail;
	}
	{
		struct stack_step s[1];
		cJSON *p = obj("RouteTableId", stack_id(&st, "rt-private"));
		cJSON_AddStringToObject(p, "DestinationCidrBlock", "0.0.0.0/0");
		cJSON_AddStringToObject(p, "NatGatewayId", stack_id(&st, "nat"));
		s[0] = (struct stack_step){ "rt-private", "route-default",
		    "ec2", "CreateRoute", p, "RouteAlreadyExists",
		    "0.0.0.0/0 -> nat" };
		if ((rc = stack_step_many(&st, s, 1)) != 0)
			goto fail;
	}
	/* A new --allow (the user's address changed): swap the ssh rule. */
	{
		const char *old = stack_attr(stack_rec(&st, "sg-jump"), "allow");
		if (allow_opt != NULL && old != NULL && strcmp(old, allow) != 0) {
			char *prev = xstrdup(old);
			cJSON *rp = ingress(stack_id(&st, "sg-jump"), "tcp", 22,
			    22, prev, "ssh from the allowed address");
			cJSON *ap = ingress(stack_id(&st, "sg-jump"), "tcp", 22,
			    22, allow, "ssh from the allowed address");
			cJSON *res = NULL;
			struct aws_error err;
			stack_plan(&st, "RevokeSecurityGroupIngress", "sg-jump",
			    "tcp 22 from %s", prev);
			stack_plan(&st, "AuthorizeSecurityGroupIngress",
			    "sg-jump", "tcp 22 from %s", allow);
			if (!st.dry_run) {
				if (stack_call(&st, "ec2",
				    "AuthorizeSecurityGroupIngress", ap, &res,
				    &err) != 0 && !(err.code != NULL &&
				    strcmp(err.code, "InvalidPermission.Duplicate")
				    == 0)) {
					stack_fail(&st, "sg-jump", &err);
					rc = 1;
				} else {
					aws_error_release(&err);
					cJSON_Delete(res);
					res = NULL;
					if (stack_call(&st, "ec2",
					    "RevokeSecurityGroupIngress", rp, &res,
					    &err) != 0)
						aws_error_release(&err);
					shell_warn(ctx, "vpc: ssh to the jump host "
					    "now from %s (was %s)", allow, prev);
				}
				cJSON_Delete(res);
			}
			cJSON_Delete(rp);
			cJSON_Delete(ap);
			free(prev);
			if (rc == 1)
				goto fail;
		}
	}
	if (!st.dry_run && stack_rec(&st, "vpc") != NULL) {
		if (allow != NULL)
			stack_set_attr(&st, "sg-jump", "allow", allow);
		stack_set_attr(&st, "vpc", "az", az);
		if (stack_id(&st, "jump") != NULL && stack_attr(stack_rec(&st,
		    "jump"), "disk_gb") == NULL) {
			char gb[16];
			snprintf(gb, sizeof gb, "%d", JUMP_DISK_GB);
			stack_set_attr(&st, "jump", "disk_gb", gb);
			stack_set_attr(&st, "jump", "disk_type",
			    JUMP_DISK_TYPE);
		}
		stack_save(&st);
	}
	*result = stack_result(&st);
	rc = 0;
	goto out;
fail:
	rc = 1;
out:
	stack_close(&st);
	free(allow);
	free(az);
	free(key);
	free(keypath);
	free(ami);
	free(pub_cidr);
	free(priv_cidr);
	return rc;
}

/* --- vpc down / status --- */

static int
vpc_down(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles, all;
	int rc;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&roles);
	strlist_init(&all);
	stack_roles(&st, 0, &all);
	for (size_t i = 0; i < all.n; i++) {
		int mine = 0;
		for (int k = 0; vpc_roles[k] != NULL; k++)
			if (strcmp(vpc_roles[k], all.v[i]) == 0)
				mine = 1;
		if (mine)
			strlist_add(&roles, all.v[i]);
	}
	if (roles.n < all.n) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < all.n; i++)
			if (!strlist_has(&roles, all.v[i]))
				buf_printf(&b, "%s%s", b.len ? ", " : "",
				    all.v[i]);
		cmd_error(ctx, "%s still use%s the VPC; remove %s first, or run "
		    "'down' for everything", b.data, all.n - roles.n == 1 ?
		    "s" : "", all.n - roles.n == 1 ? "it" : "them");
		buf_release(&b);
		strlist_release(&roles);
		strlist_release(&all);
		stack_close(&st);
		return 1;
	}
	rc = stack_delete(&st, &roles);
	if (rc == 0)
		*result = stack_result(&st);
	strlist_release(&roles);
	strlist_release(&all);
	stack_close(&st);
	return rc == 0 ? 0 : 1;
}

static int
vpc_status(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct strlist roles;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	strlist_init(&roles);
	for (int k = 0; vpc_roles[k] != NULL; k++)
		if (stack_rec(&st, vpc_roles[k]) != NULL)
			strlist_add(&roles, vpc_roles[k]);
	*result = stack_status_rows(&st, &roles);
	strlist_release(&roles);
	stack_close(&st);
	return 0;
}

/* --- the types' functions (stack_types.def) --- */

/* Describe one resource by id; GONE when not found or its set is empty.
 * state_member: where its state is ("state"), or NULL ("available"). */
int
vpc_vpc_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "ec2",
	    "DeleteVpc", "VpcId", stack_attr(rec, "id"), err);
}

int
vpc_vpc_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeVpcs", "VpcId.1",
	    "vpcSet.0",
	    "state", vpc_attrs, err);
}

int
vpc_vpc_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeVpcs", "vpcSet", "vpcId", vpc_attrs,
	    out, err);
}

int
vpc_subnet_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "ec2",
	    "DeleteSubnet", "SubnetId", stack_attr(rec, "id"),
	    err);
}

int
vpc_subnet_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeSubnets", "SubnetId.1",
	    "subnetSet.0", "state", subnet_attrs, err);
}

int
vpc_subnet_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeSubnets", "subnetSet", "subnetId",
	    subnet_attrs, out, err);
}

int
vpc_igw_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *att, *a;
	const char *id = stack_attr(rec, "id");
	int rc;

	/* Detach from whatever VPC it is attached to. */
	cJSON_AddStringToObject(p, "InternetGatewayId.1", id);
	rc = aws_call(st->aws, "ec2", "DescribeInternetGateways", p, &res, err);
	cJSON_Delete(p);
	if (rc != 0)
		return -1;
	att = (cJSON *)stack_path(res, "internetGatewaySet.0.attachmentSet");
	cJSON_ArrayForEach(a, att) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "vpcId");
		cJSON *dp, *dr = NULL;
		if (!cJSON_IsString(v))
			continue;
		dp = obj("InternetGatewayId", id);
		cJSON_AddStringToObject(dp, "VpcId", v->valuestring);
		st->ncalls++;
		rc = aws_call(st->aws, "ec2", "DetachInternetGateway", dp, &dr,
		    err);
		cJSON_Delete(dp);
		cJSON_Delete(dr);
		if (rc != 0 && (err->code == NULL ||
		    strcmp(err->code, "Gateway.NotAttached") != 0)) {
			cJSON_Delete(res);
			return -1;
		}
		aws_error_release(err);
	}
	cJSON_Delete(res);
	return stack_delete_by_id(st, "ec2",
	    "DeleteInternetGateway", "InternetGatewayId", id,
	    err);
}

int
vpc_igw_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeInternetGateways", "InternetGatewayId.1",
	    "internetGatewaySet.0", NULL, plain_attrs, err);
}

int
vpc_igw_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeInternetGateways",
	    "internetGatewaySet", "internetGatewayId", plain_attrs, out, err);
}

int
vpc_rt_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *as;
	const char *id = stack_attr(rec, "id");
	int rc;

	cJSON_AddStringToObject(p, "RouteTableId.1", id);
	rc = aws_call(st->aws, "ec2", "DescribeRouteTables", p, &res, err);
	cJSON_Delete(p);
	if (rc != 0)
		return -1;
	cJSON_ArrayForEach(as, (cJSON *)stack_path(res,
	    "routeTableSet.0.associationSet")) {
		const cJSON *aid = cJSON_GetObjectItemCaseSensitive(as,
		    "routeTableAssociationId");
		const cJSON *main = cJSON_GetObjectItemCaseSensitive(as, "main");
		cJSON *dr = NULL, *dp;
		if (!cJSON_IsString(aid) || (cJSON_IsString(main) &&
		    strcmp(main->valuestring, "true") == 0))
			continue;
		dp = obj("AssociationId", aid->valuestring);
		st->ncalls++;
		rc = aws_call(st->aws, "ec2", "DisassociateRouteTable", dp, &dr,
		    err);
		cJSON_Delete(dp);
		cJSON_Delete(dr);
		if (rc != 0 && !stack_err_notfound(err)) {
			cJSON_Delete(res);
			return -1;
		}
		aws_error_release(err);
	}
	cJSON_Delete(res);
	return stack_delete_by_id(st, "ec2",
	    "DeleteRouteTable", "RouteTableId", id, err);
}

int
vpc_rt_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeRouteTables", "RouteTableId.1",
	    "routeTableSet.0", NULL, plain_attrs, err);
}

int
vpc_rt_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeRouteTables", "routeTableSet",
	    "routeTableId", plain_attrs, out, err);
}

int
vpc_eip_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "ec2",
	    "ReleaseAddress", "AllocationId",
	    stack_attr(rec, "id"), err);
}

int
vpc_eip_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeAddresses", "AllocationId.1",
	    "addressesSet.0", NULL, eip_attrs, err);
}

int
vpc_eip_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeAddresses", "addressesSet",
	    "allocationId", eip_attrs, out, err);
}

int
vpc_nat_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "ec2",
	    "DeleteNatGateway", "NatGatewayId",
	    stack_attr(rec, "id"), err);
}

int
vpc_nat_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	int r = stack_refresh_by_id(st, rec, "ec2",
	    "DescribeNatGateways", "NatGatewayId.1",
	    "natGatewaySet.0", "state", nat_attrs, err);
	const char *s = stack_attr(rec, "state");

	if (r == STACK_LIVE && s != NULL && strcmp(s, "deleted") == 0)
		return STACK_GONE;
	return r;
}

int
vpc_nat_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *all = cJSON_CreateArray(), *it;

	if (stack_ec2_list(st, "DescribeNatGateways", "natGatewaySet",
	    "natGatewayId", nat_attrs, all, err) != 0) {
		cJSON_Delete(all);
		return -1;
	}
	cJSON_ArrayForEach(it, all) {
		const char *s = stack_attr(it, "state");
		if (s != NULL && (strcmp(s, "deleted") == 0 ||
		    strcmp(s, "deleting") == 0 || strcmp(s, "failed") == 0))
			continue;
		cJSON_AddItemToArray(out, cJSON_Duplicate(it, 1));
	}
	cJSON_Delete(all);
	return 0;
}

/* AWS refuses to delete a group that a rule of another group refers to
 * ("If you attempt to delete a security group that is associated with an
 * instance or network interface, is referenced by another security group in
 * the same VPC, … the operation fails with DependencyViolation":
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
 * moto does not check, so do not rely on the order alone: revoke every rule
 * that names this group (in any group, itself included) and then delete it.
 * A group still used by a network interface answers DependencyViolation,
 * which stack_delete retries. */
int
vpc_sg_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *id = stack_attr(rec, "id");
	cJSON *p = obj("Filter.1.Name", "ip-permission.group-id"), *res = NULL;
	const cJSON *g, *perm, *pair;
	int rc = 0;

	cJSON_AddStringToObject(p, "Filter.1.Value.1", id);
	if (aws_call(st->aws, "ec2", "DescribeSecurityGroups", p, &res,
	    err) != 0) {
		cJSON_Delete(p);
		return -1;
	}
	cJSON_Delete(p);
	cJSON_ArrayForEach(g, stack_path(res, "securityGroupInfo")) {
		const char *gid = stack_attr(g, "groupId");
		cJSON_ArrayForEach(perm, stack_path(g, "ipPermissions")) {
			const char *proto = stack_attr(perm, "ipProtocol");
			const cJSON *from = stack_path(perm, "fromPort");
			const cJSON *to = stack_path(perm, "toPort");
			cJSON_ArrayForEach(pair, stack_path(perm, "groups")) {
				cJSON *rp, *rr = NULL;
				const char *src = stack_attr(pair, "groupId");
				if (gid == NULL || proto == NULL ||
				    src == NULL || strcmp(src, id) != 0)
					continue;
				rp = obj("GroupId", gid);
				cJSON_AddStringToObject(rp,
				    "IpPermissions.1.IpProtocol", proto);
				if (strcmp(proto, "-1") != 0 && from != NULL &&
				    to != NULL) {
					cJSON_AddItemToObject(rp,
					    "IpPermissions.1.FromPort",
					    cJSON_Duplicate(from, 1));
					cJSON_AddItemToObject(rp,
					    "IpPermissions.1.ToPort",
					    cJSON_Duplicate(to, 1));
				}
				cJSON_AddStringToObject(rp,
				    "IpPermissions.1.Groups.1.GroupId", id);
				/* AWS matches without it; moto wants the
				 * description as well. */
				if (stack_attr(pair, "description") != NULL)
					cJSON_AddStringToObject(rp,
					    "IpPermissions.1.Groups.1.Description",
					    stack_attr(pair, "description"));
				st->ncalls++;
				if (aws_call(st->aws, "ec2",
				    "RevokeSecurityGroupIngress", rp, &rr,
				    err) != 0) {
					if (err->code != NULL && (strcmp(
					    err->code,
					    "InvalidPermission.NotFound") == 0 ||
					    stack_err_notfound(err)))
						aws_error_release(err);
					else
						rc = -1;
				}
				cJSON_Delete(rr);
				cJSON_Delete(rp);
				if (rc != 0)
					goto out;
			}
		}
	}
	rc = stack_delete_by_id(st, "ec2", "DeleteSecurityGroup", "GroupId",
	    id, err);
out:
	cJSON_Delete(res);
	return rc;
}

int
vpc_sg_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeSecurityGroups", "GroupId.1",
	    "securityGroupInfo.0", NULL, sg_attrs, err);
}

int
vpc_sg_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeSecurityGroups",
	    "securityGroupInfo", "groupId", sg_attrs, out, err);
}

int
vpc_key_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_delete_by_id(st, "ec2",
	    "DeleteKeyPair", "KeyName", stack_attr(rec, "id"),
	    err);
}

int
vpc_key_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	return stack_refresh_by_id(st, rec, "ec2",
	    "DescribeKeyPairs", "KeyName.1",
	    "keySet.0",
	    NULL, key_attrs, err);
}

int
vpc_key_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	return stack_ec2_list(st, "DescribeKeyPairs", "keySet", "keyName",
	    key_attrs, out, err);
}

/* --- entry --- */

static void
vpc_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)a;
	(void)argi;
	if (opt != NULL && strcmp(opt, "az") == 0) {
		/* The recorded AZ, then the region's usual letters: no network. */
		const char *r = shell_region(ctx);
		const char *letters = "abcdef";
		if (ctx->state != NULL) {
			const cJSON *rec = cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(ctx->state->root,
			    "resources"), "subnet-private");
			const char *z = stack_attr(rec, "az");
			if (z != NULL && str_startswith(z, prefix)) {
				strlist_add(out, z);
				return;
			}
		}
		for (const char *l = letters; *l; l++) {
			char *z = xasprintf("%s%c", r, *l);
			if (str_startswith(z, prefix))
				strlist_take(out, z);
			else
				free(z);
		}
	} else if (opt != NULL && strcmp(opt, "cidr") == 0) {
		if (str_startswith(DEFAULT_CIDR, prefix))
			strlist_add(out, DEFAULT_CIDR);
	} else if (opt != NULL && strcmp(opt, "types") == 0) {
		if (str_startswith(DEFAULT_TYPES, prefix))
			strlist_add(out, DEFAULT_TYPES);
	}
}

static const struct mlsh_opt up_opts[] = {
	{ "cidr", 0, OPT_STRING, NULL, "CIDR",
	    "the VPC's private range (default " DEFAULT_CIDR ")" },
	{ "az", 0, OPT_STRING, NULL, "AZ",
	    "availability zone (default: one offering every --types)" },
	{ "allow", 0, OPT_STRING, NULL, "CIDR",
	    "who may ssh to the jump host (default: your address/32)" },
	{ "key", 0, OPT_PATH, NULL, "PATH",
	    "public key (default ~/.ssh/id_ed25519.pub, else id_rsa.pub)" },
	{ "types", 0, OPT_STRING, NULL, "TYPES",
	    "instance types the AZ must offer (default " DEFAULT_TYPES ")" },
	OPT_YES("do not ask before starting"),
	OPT_DRY_RUN("print the plan (the calls, in order) and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_DRY_RUN("print the plan and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_cmd vpc_subcmds[] = {
	{ .name = "up", .summary = "create the network and the jump host",
	    .help = "Creates what is missing, in parallel where independent: "
	    "VPC (DNS hostnames on), public and private subnet in one AZ, "
	    "internet gateway, Elastic IP and NAT gateway, route tables, "
	    "security groups (jump: ssh from --allow only; nodes, notebook, "
	    "grafana: ssh (and grafana's 3000) from the jump host's group only; "
	    "nodes: all traffic between nodes; efs: 2049 from the nodes' and "
	    "notebook's groups), your key pair and a t3.nano jump "
	    "host with IMDSv2 required. Re-running it creates nothing new; "
	    "after a crash it resumes.",
	    .opts = up_opts, .min_args = 0, .max_args = 0,
	    .complete = vpc_complete, .exec = vpc_up },
	{ .name = "down", .summary = "remove the network and the jump host",
	    .opts = down_opts, .min_args = 0, .max_args = 0, .exec = vpc_down },
	{ .name = "status", .summary = "show the network's resources",
	    .min_args = 0, .max_args = 0, .exec = vpc_status,
	    .flags = CMD_NO_HISTORY },
	{ .name = NULL }
};

const struct mlsh_cmd cmd_vpc_entry = {
	.name = "vpc",
	.summary = "the workspace's network, NAT gateway and jump host",
	.help = "The seed's core module as a command: see `vpc up -h`.",
	.min_args = 0,
	.max_args = 0,
	.subcmds = vpc_subcmds,
};
