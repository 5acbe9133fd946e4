/* vpc: the network the workspace's nodes live in (the seed's core module):
 * VPC, public and private subnet in one AZ, internet gateway, NAT gateway and
 * its Elastic IP, route tables, security groups, the user's key pair and a
 * small jump host with IMDSv2. `vpc up` creates what is missing (idempotent,
 * journaled, parallel where independent), `vpc down` removes it, `vpc
 * status` shows it. Its types are rows in stack/types.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "builtins/stackcmd.h"
#include "stack/apply.h"
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

/* Whether the offerings list type in az. */
static int
offered(const cJSON *items, const char *az, const char *type)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(it, "location");
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(it,
		    "instanceType");
		if (cJSON_IsString(l) && cJSON_IsString(ty) &&
		    strcmp(l->valuestring, az) == 0 &&
		    strcmp(ty->valuestring, type) == 0)
			return 1;
	}
	return 0;
}

/* The AZ offerings of the wanted types (and the jump host's), the types
 * into types; NULL after the error. */
static cJSON *
az_offerings(struct stack *st, const char *types_csv, struct strlist *types)
{
	cJSON *p = cJSON_CreateObject(), *items = NULL;
	struct aws_error err;
	char *dup = xstrdup(types_csv), *tok, *save = NULL, key[32];
	int k = 1;

	cJSON_AddStringToObject(p, "LocationType", "availability-zone");
	cJSON_AddStringToObject(p, "Filter.1.Name", "instance-type");
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (*tok == '\0')
			continue;
		snprintf(key, sizeof key, "Filter.1.Value.%d", k++);
		cJSON_AddStringToObject(p, key, tok);
		strlist_add(types, tok);
	}
	/* The jump host must fit there too (not every AZ has t3). */
	if (!strlist_has(types, JUMP_TYPE)) {
		snprintf(key, sizeof key, "Filter.1.Value.%d", k++);
		cJSON_AddStringToObject(p, key, JUMP_TYPE);
	}
	free(dup);
	memset(&err, 0, sizeof err);
	st->ncalls++;
	if (aws_paginate(st->aws, "ec2", "DescribeInstanceTypeOfferings", p,
	    "instanceTypeOfferingSet", 0, &items, &err) != 0) {
		stack_fail(st, "cannot list instance type offerings", &err);
		items = NULL;
	}
	cJSON_Delete(p);
	return items;
}

/* The AZ offering the most of the types (the first of equals), among those
 * offering the jump host's type; one that offers the first type (the
 * training type the workspace is for: dl1) wins over any that does not.
 * NULL when none; *best how many types it offers. */
static char *
best_az(const cJSON *items, const struct strlist *types, size_t *best)
{
	struct strlist azs;
	const cJSON *it;
	char *found = NULL;
	int best_first = 0;

	strlist_init(&azs);
	cJSON_ArrayForEach(it, items) {
		const cJSON *az = cJSON_GetObjectItemCaseSensitive(it, "location");
		if (cJSON_IsString(az) && !strlist_has(&azs, az->valuestring))
			strlist_add(&azs, az->valuestring);
	}
	strlist_sort(&azs);
	*best = 0;
	for (size_t i = 0; i < azs.n; i++) {
		size_t have = 0;
		int first = 0;
		if (!offered(items, azs.v[i], JUMP_TYPE))
			continue;
		for (size_t t = 0; t < types->n; t++)
			if (offered(items, azs.v[i], types->v[t])) {
				have++;
				first |= t == 0;
			}
		if ((have > *best && first >= best_first) ||
		    first > best_first) {
			*best = have;
			best_first = first;
			free(found);
			found = xstrdup(azs.v[i]);
		}
	}
	strlist_release(&azs);
	return found;
}

/* No AZ offers every type: where each is, and which node kinds cannot start
 * in found; an error when found is NULL, else a warning. */
static void
az_explain(struct stack *st, const cJSON *items, const struct strlist *types,
    const char *types_csv, const char *found)
{
	struct buf why, cannot;
	const cJSON *it;

	buf_init(&why);
	buf_init(&cannot);
	for (size_t t = 0; t < types->n; t++) {
		struct buf where;
		int there = 0;
		buf_init(&where);
		cJSON_ArrayForEach(it, items) {
			const cJSON *az = cJSON_GetObjectItemCaseSensitive(it,
			    "location");
			const cJSON *ty = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceType");
			if (!cJSON_IsString(az) || !cJSON_IsString(ty) ||
			    strcmp(ty->valuestring, types->v[t]) != 0)
				continue;
			buf_printf(&where, "%s%s", where.len ? " " : "",
			    az->valuestring);
			if (found != NULL && strcmp(az->valuestring, found) == 0)
				there = 1;
		}
		if (!there) {
			/* The built-in kinds are named after their type's
			 * family: p3.8xlarge is `node p3`. */
			const char *dot = strchr(types->v[t], '.');
			buf_printf(&cannot, "%s%.*s (%s)", cannot.len ? ", " :
			    "", dot ? (int)(dot - types->v[t]) :
			    (int)strlen(types->v[t]), types->v[t], types->v[t]);
		}
		buf_printf(&why, "%s%s %s", why.len ? "; " : "", types->v[t],
		    where.len ? "only in" : "offered in no zone");
		if (where.len)
			buf_printf(&why, " %s", where.data);
		buf_release(&where);
	}
	if (found == NULL)
		cmd_error(st->ctx, "no availability zone of %s offers any of "
		    "%s: %s (choose --types or --az)", st->region, types_csv,
		    why.data);
	else
		shell_warn(st->ctx, "vpc: warning: no availability zone of %s "
		    "offers all of %s: %s; using %s, where node kind%s %s "
		    "cannot start (--az or --types to choose)", st->region,
		    types_csv, why.data, found, strchr(cannot.data, ',') ?
		    "s" : "", cannot.data);
	buf_release(&why);
	buf_release(&cannot);
}

/* Pick the AZ offering every wanted instance type. */
static char *
pick_az(struct stack *st, const char *types_csv)
{
	struct strlist types;
	cJSON *items;
	char *found = NULL;
	size_t best;

	strlist_init(&types);
	if ((items = az_offerings(st, types_csv, &types)) != NULL) {
		found = best_az(items, &types, &best);
		if (best < types.n)
			az_explain(st, items, &types, types_csv, found);
	}
	cJSON_Delete(items);
	strlist_release(&types);
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

/* A security group's ingress rule: the group (role) and the step that
 * records it, protocol and ports (from -1: all), the source group's role. */
struct sg_rule {
	const char *role, *step, *proto;
	int from, to;
	const char *src, *desc;
};

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

/* What `vpc up` builds from: its options and what it resolved. */
struct vpc_plan {
	const char *cidr;
	char *pub_cidr, *priv_cidr;
	char *allow;			/* NULL: the recorded rule stays */
	char *az;
	char *key, *keypath;		/* the public key to import, or NULL */
	char *ami;			/* NULL: the jump host exists */
};

static cJSON *
vpc_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	const struct vpc_plan *v = arg;
	*sum = xasprintf("CidrBlock=%s", v->cidr);
	return obj("CidrBlock", v->cidr);
}

static cJSON *
eip_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	*sum = xstrdup("Domain=vpc");
	return obj("Domain", "vpc");
}

static cJSON *
key_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	const struct vpc_plan *v = arg;
	char *kname = stack_name(st, "key");
	char *mat = v->key ? base64_encode(v->key, strlen(v->key)) : xstrdup("");
	cJSON *kp = obj("KeyName", kname);

	cJSON_AddStringToObject(kp, "PublicKeyMaterial", mat);
	*sum = xasprintf("KeyName=%s from %s", kname, v->keypath ?
	    v->keypath : "~/.ssh");
	free(mat);
	free(kname);
	return kp;
}

/* Subnets: data is "public" or "private" (the first /24 or the second). */
static cJSON *
subnet_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	const struct vpc_plan *v = arg;
	const char *which = r->data;
	const char *cidr = strcmp(which, "public") == 0 ? v->pub_cidr :
	    v->priv_cidr;
	cJSON *p = obj("VpcId", stack_id(st, "vpc"));

	cJSON_AddStringToObject(p, "CidrBlock", cidr);
	cJSON_AddStringToObject(p, "AvailabilityZone", v->az);
	*sum = xasprintf("%s in %s (%s)", cidr, v->az, which);
	return p;
}

static cJSON *
igw_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	return cJSON_CreateObject();
}

/* Route tables: data is their summary ("public"). */
static cJSON *
rt_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	*sum = xstrdup(r->data);
	return obj("VpcId", stack_id(st, "vpc"));
}

/* Security groups: data is their description. */
static cJSON *
sg_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	cJSON *p = obj("VpcId", stack_id(st, "vpc"));
	char *g = stack_name(st, r->role);

	cJSON_AddStringToObject(p, "GroupName", g);
	cJSON_AddStringToObject(p, "GroupDescription", r->data);
	*sum = xstrdup(r->data);
	free(g);
	return p;
}

static cJSON *
nat_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	cJSON *p = obj("SubnetId", stack_id(st, "subnet-public"));

	cJSON_AddStringToObject(p, "AllocationId", stack_id(st, "eip"));
	*sum = xstrdup("in subnet-public with eip");
	return p;
}

static cJSON *
jump_params(struct stack *st, void *arg, const struct stack_apply_role *r,
    char **sum)
{
	const struct vpc_plan *v = arg;
	cJSON *jp = obj("ImageId", v->ami ? v->ami : "(recorded)");

	cJSON_AddStringToObject(jp, "InstanceType", JUMP_TYPE);
	cJSON_AddNumberToObject(jp, "MinCount", 1);
	cJSON_AddNumberToObject(jp, "MaxCount", 1);
	cJSON_AddStringToObject(jp, "KeyName", stack_id(st, "key"));
	cJSON_AddStringToObject(jp, "MetadataOptions.HttpTokens", "required");
	cJSON_AddStringToObject(jp, "MetadataOptions.HttpEndpoint", "enabled");
	cJSON_AddStringToObject(jp, "NetworkInterface.1.DeviceIndex", "0");
	cJSON_AddStringToObject(jp, "NetworkInterface.1.SubnetId",
	    stack_id(st, "subnet-public"));
	cJSON_AddStringToObject(jp,
	    "NetworkInterface.1.AssociatePublicIpAddress", "true");
	cJSON_AddStringToObject(jp, "NetworkInterface.1.SecurityGroupId.1",
	    stack_id(st, "sg-jump"));
	*sum = xasprintf("%s %s in subnet-public, public IP, IMDSv2 required",
	    JUMP_TYPE, v->ami ? v->ami : "");
	return jp;
}

#define EC2_CREATE(r, t, deps, action, tag, item, id, fn) \
	{ r, t, deps, "ec2", action, NULL, STACK_TAG_SPEC, tag, item, id, fn, \
	    NULL, 0, NULL }
#define SG(r, desc) \
	{ r, "security-group", "vpc", "ec2", "CreateSecurityGroup", NULL, \
	    STACK_TAG_SPEC, "security-group", "", "groupId", sg_params, NULL, \
	    0, desc }

/* The roles, in creation order (vpc_roles lists them for down/status).
 * One security group per role; creation order is also a safe delete order
 * reversed (each refers only to groups made before it, or to itself).
 * The NAT's wait overlaps the jump host's launch. */
static const struct stack_apply_role vpc_table[] = {
	EC2_CREATE("vpc", "vpc", NULL, "CreateVpc", "vpc", "vpc", "vpcId",
	    vpc_params),
	EC2_CREATE("eip", "eip", NULL, "AllocateAddress", "elastic-ip", "",
	    "allocationId", eip_params),
	EC2_CREATE("key", "key-pair", NULL, "ImportKeyPair", "key-pair", "",
	    "keyName", key_params),
	{ "subnet-public", "subnet", "vpc", "ec2", "CreateSubnet", NULL,
	    STACK_TAG_SPEC, "subnet", "subnet", "subnetId", subnet_params,
	    NULL, 0, "public" },
	{ "subnet-private", "subnet", "vpc", "ec2", "CreateSubnet", NULL,
	    STACK_TAG_SPEC, "subnet", "subnet", "subnetId", subnet_params,
	    NULL, 0, "private" },
	EC2_CREATE("igw", "igw", "vpc", "CreateInternetGateway",
	    "internet-gateway", "internetGateway", "internetGatewayId",
	    igw_params),
	{ "rt-public", "route-table", "vpc", "ec2", "CreateRouteTable", NULL,
	    STACK_TAG_SPEC, "route-table", "routeTable", "routeTableId",
	    rt_params, NULL, 0, "public" },
	{ "rt-private", "route-table", "vpc", "ec2", "CreateRouteTable", NULL,
	    STACK_TAG_SPEC, "route-table", "routeTable", "routeTableId",
	    rt_params, NULL, 0, "private" },
	SG("sg-jump", "mlsh jump host: ssh from the allowed address only"),
	SG("sg-nodes", "mlsh nodes: ssh from the jump host, all between nodes"),
	SG("sg-notebook", "mlsh notebook: ssh from the jump host"),
	SG("sg-grafana", "mlsh grafana: ssh and 3000 from the jump host"),
	SG("sg-efs", "mlsh EFS: NFS from the nodes and the notebook"),
	{ "nat", "nat-gateway", "subnet-public,eip", "ec2", "CreateNatGateway",
	    "ClientToken", STACK_TAG_SPEC, "natgateway", "natGateway",
	    "natGatewayId", nat_params, "available", 900, NULL },
	{ "jump", "instance", "subnet-public,sg-jump,key", "ec2",
	    "RunInstances", "ClientToken", STACK_TAG_SPEC, "instance",
	    "instancesSet.0", "instanceId", jump_params, "running", 600, NULL },
};
#define NVPC_TABLE (sizeof vpc_table / sizeof vpc_table[0])

/* A VPC adopted without its CIDR gets the one it was asked with. */
static int
vpc_cidr_fix(struct stack *st, void *arg, const struct stack_apply_step *s)
{
	const struct vpc_plan *v = arg;

	if (stack_rec(st, "vpc") != NULL && stack_attr(stack_rec(st, "vpc"),
	    "cidr") == NULL)
		stack_set_attr(st, "vpc", "cidr", v->cidr);
	return 0;
}

/* ModifyVpcAttribute: data is the attribute ("EnableDnsHostnames"). */
static cJSON *
dns_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	cJSON *p = obj("VpcId", stack_id(st, "vpc"));
	char *k = xasprintf("%s.Value", (const char *)s->data);

	cJSON_AddStringToObject(p, k, "true");
	*sum = xasprintf("%s=true", (const char *)s->data);
	free(k);
	return p;
}

static cJSON *
attach_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	cJSON *p = obj("InternetGatewayId", stack_id(st, "igw"));

	cJSON_AddStringToObject(p, "VpcId", stack_id(st, "vpc"));
	*sum = xstrdup("to the VPC");
	return p;
}

/* AssociateRouteTable: data is the subnet's role. */
static cJSON *
assoc_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	cJSON *p = obj("RouteTableId", stack_id(st, s->role));

	cJSON_AddStringToObject(p, "SubnetId", stack_id(st, s->data));
	*sum = xasprintf("with %s", (const char *)s->data);
	return p;
}

/* SSH to the jump host from --allow (or the address checkip found); none
 * when the rule is recorded and no --allow was given. */
static cJSON *
ssh_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	const struct vpc_plan *v = arg;

	if (v->allow == NULL)
		return NULL;
	*sum = xasprintf("tcp 22 from %s", v->allow);
	return ingress(stack_id(st, "sg-jump"), "tcp", 22, 22, v->allow,
	    "ssh from the allowed address");
}

/* A group-to-group rule: data is its sg_rules row. */
static cJSON *
rule_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	const struct sg_rule *r = s->data;

	if (r->from < 0)
		*sum = xasprintf("all traffic from %s", r->src);
	else
		*sum = xasprintf("%s %d from %s", r->proto, r->from, r->src);
	return ingress_group(stack_id(st, r->role), r->proto, r->from, r->to,
	    stack_id(st, r->src), r->desc);
}

/* An old VPC-wide rule: data is its sg_rule (step, proto, port). */
static int
legacy_step(struct stack *st, void *arg, const struct stack_apply_step *s)
{
	const struct vpc_plan *v = arg;
	const struct sg_rule *r = s->data;

	return legacy_revoke(st, s->role, r->step, r->proto, r->from, v->cidr);
}

/* The default route: data is the target's role ("igw", "nat"). */
static cJSON *
route_params(struct stack *st, void *arg, const struct stack_apply_step *s,
    char **sum)
{
	const char *target = s->data;
	cJSON *p = obj("RouteTableId", stack_id(st, s->role));

	cJSON_AddStringToObject(p, "DestinationCidrBlock", "0.0.0.0/0");
	cJSON_AddStringToObject(p, strcmp(target, "igw") == 0 ? "GatewayId" :
	    "NatGatewayId", stack_id(st, target));
	*sum = xasprintf("0.0.0.0/0 -> %s", target);
	return p;
}

#define RULE(role, step, proto, from, to, src, desc) \
	{ role, step, role "," src, "ec2", "AuthorizeSecurityGroupIngress", \
	    "InvalidPermission.Duplicate", rule_params, NULL, \
	    &(const struct sg_rule){ role, step, proto, from, to, src, desc } }
#define LEGACY(role, step, proto, port) \
	{ role, "legacy-" step, "sg-efs:ingress-nfs-notebook", NULL, NULL, \
	    NULL, NULL, legacy_step, \
	    &(const struct sg_rule){ role, step, proto, port, port, NULL, NULL } }

/* The wiring, each step once (recorded in its role's steps). The jump host
 * is the only door: every other group admits SSH (and Grafana's 3000) from
 * sg-jump alone; the nodes admit each other on every port (collective
 * communication opens ports of its own choosing), and EFS admits NFS from
 * the groups that mount it (nodes, notebook; Grafana does not mount EFS).
 * Egress stays open. Workspaces made before the groups referred to each
 * other admitted the whole VPC range: those rules go once every group rule
 * is there. */
static const struct stack_apply_step vpc_steps[] = {
	{ "vpc", "cidr", "vpc", NULL, NULL, NULL, NULL, vpc_cidr_fix, NULL },
	{ "vpc", "dns-hostnames", "vpc", "ec2", "ModifyVpcAttribute", NULL,
	    dns_params, NULL, "EnableDnsHostnames" },
	{ "vpc", "dns-support", "vpc", "ec2", "ModifyVpcAttribute", NULL,
	    dns_params, NULL, "EnableDnsSupport" },
	{ "igw", "attach", "igw,vpc", "ec2", "AttachInternetGateway",
	    "Resource.AlreadyAssociated", attach_params, NULL, NULL },
	{ "rt-public", "associate", "rt-public,subnet-public", "ec2",
	    "AssociateRouteTable", "Resource.AlreadyAssociated", assoc_params,
	    NULL, "subnet-public" },
	{ "rt-private", "associate", "rt-private,subnet-private", "ec2",
	    "AssociateRouteTable", "Resource.AlreadyAssociated", assoc_params,
	    NULL, "subnet-private" },
	{ "sg-jump", "ingress-ssh", "sg-jump", "ec2",
	    "AuthorizeSecurityGroupIngress", "InvalidPermission.Duplicate",
	    ssh_params, NULL, NULL },
	RULE("sg-nodes", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host"),
	RULE("sg-nodes", "ingress-self", "-1", -1, -1, "sg-nodes",
	    "all traffic between nodes (multi-node training)"),
	RULE("sg-notebook", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host"),
	RULE("sg-grafana", "ingress-ssh-jump", "tcp", 22, 22, "sg-jump",
	    "ssh from the jump host"),
	RULE("sg-grafana", "ingress-grafana-jump", "tcp", 3000, 3000,
	    "sg-jump", "grafana through the jump host"),
	RULE("sg-efs", "ingress-nfs-nodes", "tcp", 2049, 2049, "sg-nodes",
	    "NFS from the nodes"),
	RULE("sg-efs", "ingress-nfs-notebook", "tcp", 2049, 2049,
	    "sg-notebook", "NFS from the notebook"),
	LEGACY("sg-nodes", "ingress-vpc", "-1", -1),
	LEGACY("sg-efs", "ingress-nfs", "tcp", 2049),
	{ "rt-public", "route-default", "rt-public,igw:attach", "ec2",
	    "CreateRoute", "RouteAlreadyExists", route_params, NULL, "igw" },
	{ "rt-private", "route-default", "rt-private,nat", "ec2",
	    "CreateRoute", "RouteAlreadyExists", route_params, NULL, "nat" },
};
#define NVPC_STEPS (sizeof vpc_steps / sizeof vpc_steps[0])

/* The AZ: the recorded one (a different --az is an error), --az, or the
 * one offering every wanted type. -1 after the error. */
static int
vpc_az(struct stack *st, struct cmd_args *a, struct vpc_plan *v)
{
	const char *az_opt = cmd_opt(a, "az"), *types = cmd_opt(a, "types");
	const char *recorded = stack_attr(stack_rec(st, "subnet-private"),
	    "az");

	if (recorded != NULL) {
		if (az_opt != NULL && strcmp(az_opt, recorded) != 0) {
			cmd_error(st->ctx, "the workspace's subnets are in %s; "
			    "'vpc down' first to move to %s", recorded,
			    az_opt);
			return -1;
		}
		v->az = xstrdup(recorded);
	} else if (az_opt != NULL)
		v->az = xstrdup(az_opt);
	else if (stack_id(st, "subnet-private") == NULL &&
	    (v->az = pick_az(st, types ? types : DEFAULT_TYPES)) == NULL)
		return -1;
	return 0;
}

/* The jump host's image, when it is still to be made: Ubuntu 22.04, else
 * the newest Ubuntu server image. -1 after the error. */
static int
vpc_ami(struct stack *st, struct vpc_plan *v)
{
	struct mlsh_ctx *ctx = st->ctx;

	if (stack_id(st, "jump") != NULL || stack_resolve_ami(st, UBUNTU_SSM,
	    UBUNTU_OWNER, UBUNTU_NAME, &v->ami) == 0 || v->ami != NULL)
		return 0;
	free(ctx->error);
	ctx->error = NULL;
	if (stack_resolve_ami(st, NULL, UBUNTU_OWNER, UBUNTU_ANY,
	    &v->ami) != 0 || v->ami == NULL) {
		if (ctx->error == NULL)
			cmd_error(ctx, "no Ubuntu server AMI found in %s",
			    st->region);
		return -1;
	}
	shell_warn(ctx, "vpc: no Ubuntu 22.04 image in %s; the jump host uses "
	    "%s, the newest Ubuntu server image", st->region, v->ami);
	return 0;
}

/* Options and what they resolve to: 0, or the command's exit code after
 * the error. */
static int
vpc_inputs(struct stack *st, struct cmd_args *a, struct vpc_plan *v)
{
	struct mlsh_ctx *ctx = st->ctx;
	const char *cidr = cmd_opt(a, "cidr"), *allow = cmd_opt(a, "allow");
	const char *recorded = stack_attr(stack_rec(st, "vpc"), "cidr");

	/* A recorded VPC fixes its CIDR and AZ. */
	if (recorded != NULL && cidr != NULL && strcmp(cidr, recorded) != 0) {
		cmd_error(ctx, "the workspace's VPC is %s; 'vpc down' first to "
		    "change it to %s", recorded, cidr);
		return 1;
	}
	v->cidr = cidr ? cidr : recorded ? recorded : DEFAULT_CIDR;
	if ((v->pub_cidr = subnet_cidr(v->cidr, 0)) == NULL)
		return cmd_usage_error(ctx, a, "bad --cidr '%s' (a /16 to /22 "
		    "such as 10.0.0.0/16)", v->cidr);
	v->priv_cidr = subnet_cidr(v->cidr, 1);
	if (!is_private_cidr(v->cidr))
		shell_warn(ctx, "vpc: warning: %s is not private address space "
		    "(RFC 1918)", v->cidr);
	/* Who may SSH to the jump host. */
	if (allow != NULL) {
		unsigned x1, x2, x3, x4, len;
		if (cidr_parse(allow, &x1, &x2, &x3, &x4, &len) != 0)
			return cmd_usage_error(ctx, a, "bad --allow '%s' (a "
			    "CIDR such as 203.0.113.7/32)", allow);
		if (len == 0)
			shell_warn(ctx, "vpc: warning: --allow %s opens SSH on "
			    "the jump host to the whole internet", allow);
		v->allow = xstrdup(allow);
	} else if (!cJSON_IsTrue(stack_path(stack_rec(st, "sg-jump"),
	    "steps.ingress-ssh")) && (v->allow = checkip(ctx)) == NULL)
		return 1;
	if (vpc_az(st, a, v) != 0)
		return 1;
	/* Key pair and AMI, only when still to be made. */
	if (stack_id(st, "key") == NULL && (v->key = public_key(ctx,
	    cmd_opt(a, "key"), &v->keypath)) == NULL)
		return 1;
	return vpc_ami(st, v) != 0 ? 1 : 0;
}

/* What costs money, before it starts. */
static int
vpc_confirm(struct stack *st)
{
	struct stack_price_item pi[5];
	size_t n = 0;

	if (stack_id(st, "nat") == NULL)
		pi[n++] = (struct stack_price_item){ "NAT gateway",
		    "nat-gateway", 1 };
	if (stack_id(st, "eip") == NULL)
		pi[n++] = (struct stack_price_item){ "Elastic IP", "eip", 1 };
	if (stack_id(st, "jump") == NULL) {
		pi[n++] = (struct stack_price_item){ "jump host", JUMP_TYPE,
		    1 };
		pi[n++] = (struct stack_price_item){ "its public IPv4",
		    "public-ipv4", 1 };
		pi[n++] = (struct stack_price_item){ "its root volume",
		    "ebs-" JUMP_DISK_TYPE "-gb-month", JUMP_DISK_GB };
	}
	return stack_confirm_price(st, pi, n);
}

/* A new --allow (the user's address changed): swap the ssh rule, the new
 * one first so that ssh never has no door. -1 after the error. */
static int
vpc_allow_swap(struct stack *st, const struct vpc_plan *v,
    const char *allow_opt)
{
	const char *old = stack_attr(stack_rec(st, "sg-jump"), "allow");
	cJSON *rp, *ap, *res = NULL;
	struct aws_error err;
	char *prev;
	int rc = 0;

	if (allow_opt == NULL || old == NULL || strcmp(old, v->allow) == 0)
		return 0;
	prev = xstrdup(old);
	rp = ingress(stack_id(st, "sg-jump"), "tcp", 22, 22, prev,
	    "ssh from the allowed address");
	ap = ingress(stack_id(st, "sg-jump"), "tcp", 22, 22, v->allow,
	    "ssh from the allowed address");
	stack_plan(st, "RevokeSecurityGroupIngress", "sg-jump",
	    "tcp 22 from %s", prev);
	stack_plan(st, "AuthorizeSecurityGroupIngress", "sg-jump",
	    "tcp 22 from %s", v->allow);
	if (!st->dry_run) {
		if (stack_call(st, "ec2", "AuthorizeSecurityGroupIngress", ap,
		    &res, &err) != 0 && !(err.code != NULL && strcmp(err.code,
		    "InvalidPermission.Duplicate") == 0))
			rc = stack_fail(st, "sg-jump", &err);
		else {
			aws_error_release(&err);
			cJSON_Delete(res);
			res = NULL;
			if (stack_call(st, "ec2", "RevokeSecurityGroupIngress",
			    rp, &res, &err) != 0)
				aws_error_release(&err);
			shell_warn(st->ctx, "vpc: ssh to the jump host now from "
			    "%s (was %s)", v->allow, prev);
		}
		cJSON_Delete(res);
	}
	cJSON_Delete(rp);
	cJSON_Delete(ap);
	free(prev);
	return rc;
}

/* What the records keep for later runs: --allow, the AZ, the jump host's
 * disk (cost counts it). */
static void
vpc_finish(struct stack *st, const struct vpc_plan *v)
{
	if (st->dry_run || stack_rec(st, "vpc") == NULL)
		return;
	if (v->allow != NULL)
		stack_set_attr(st, "sg-jump", "allow", v->allow);
	stack_set_attr(st, "vpc", "az", v->az);
	if (stack_id(st, "jump") != NULL && stack_attr(stack_rec(st, "jump"),
	    "disk_gb") == NULL) {
		char gb[16];
		snprintf(gb, sizeof gb, "%d", JUMP_DISK_GB);
		stack_set_attr(st, "jump", "disk_gb", gb);
		stack_set_attr(st, "jump", "disk_type", JUMP_DISK_TYPE);
	}
	stack_save(st);
}

static int
vpc_up(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct stack st;
	struct vpc_plan v;
	int rc;

	if (stack_open(ctx, a, &st) != 0)
		return 1;
	memset(&v, 0, sizeof v);
	rc = vpc_inputs(&st, a, &v);
	if (rc == 0 && (vpc_confirm(&st) != 0 || stack_apply(&st, vpc_table,
	    NVPC_TABLE, vpc_steps, NVPC_STEPS, &v) != 0 ||
	    vpc_allow_swap(&st, &v, cmd_opt(a, "allow")) != 0))
		rc = 1;
	if (rc == 0) {
		vpc_finish(&st, &v);
		*result = stack_result(&st);
	}
	stack_close(&st);
	free(v.allow);
	free(v.az);
	free(v.key);
	free(v.keypath);
	free(v.ami);
	free(v.pub_cidr);
	free(v.priv_cidr);
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
	rc = stackcmd_confirm_delete(&st, &roles, NULL) != 0 ? -1 :
	    stack_delete(&st, &roles);
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
	OPT_OVER_BUDGET,
	OPT_DRY_RUN("print the plan (the calls, in order) and change nothing"),
	{ NULL, 0, 0, NULL, NULL, NULL }
};

static const struct mlsh_opt down_opts[] = {
	OPT_FORCE("delete without asking (needed without a terminal)"),
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
	    .flags = CMD_NO_HISTORY | CMD_READONLY },
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
