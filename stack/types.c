/* types.c: every kind of resource a workspace's stack records, as rows of
 * data, and the generic describe, delete and list that read them. A new
 * EC2 type is one row; a hook (stack/types.h) replaces the generic
 * function only where the type truly differs.
 *
 * Delete orders (`down` deletes lower orders first; one order group is
 * started together and waited for before the next):
 *   10 instances and notebooks   20 NAT gateways   25 mount targets
 *   30 Elastic IPs, file systems 40 lifecycle configs
 *   50 subnets                   55 route tables   60 internet gateways
 *   65 security groups           70 key pairs      80 instance profiles
 *   85 IAM roles                 100 VPCs
 *
 * EC2 describes take a list of ids (VpcId.1 … VpcId.N) and answer
 * InvalidXxxID.NotFound for the whole request when one of them does not
 * exist ("Error codes for the Amazon EC2 API",
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html),
 * so a batch that meets one is asked again id by id. */
#include "stack/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* At most this many ids in one describe (AWS documents no limit for most
 * EC2 describes; a bounded request stays well under any URL or body limit). */
#define BATCH_MAX	100

static const struct stack_attr_map instance_map[] = {
	{ "instance_type", "instanceType" },
	{ "az", "placement.availabilityZone" },
	{ "private_ip", "privateIpAddress" },
	{ "public_ip", "ipAddress" },
	{ "subnet", "subnetId" },
	{ "ami", "imageId" },
	{ "lifecycle", "instanceLifecycle" },
	{ "spot_request", "spotInstanceRequestId" },
	/* When it last started, and why and when it last stopped: the
	 * meter's times (stack/meter.c). */
	{ "launch_time", "launchTime" },
	{ "state_reason", "reason" },
	{ NULL, NULL },
};
static const struct stack_attr_map vpc_map[] = {
	{ "cidr", "cidrBlock" }, { NULL, NULL },
};
static const struct stack_attr_map subnet_map[] = {
	{ "cidr", "cidrBlock" }, { "az", "availabilityZone" }, { NULL, NULL },
};
static const struct stack_attr_map eip_map[] = {
	{ "public_ip", "publicIp" }, { NULL, NULL },
};
static const struct stack_attr_map nat_map[] = {
	{ "subnet", "subnetId" },
	{ "public_ip", "natGatewayAddressSet.0.publicIp" },
	{ "private_ip", "natGatewayAddressSet.0.privateIp" },
	{ NULL, NULL },
};
static const struct stack_attr_map sg_map[] = {
	{ "group_name", "groupName" }, { NULL, NULL },
};
static const struct stack_attr_map key_map[] = {
	{ "fingerprint", "keyFingerprint" }, { "key_pair_id", "keyPairId" },
	{ NULL, NULL },
};
static const struct stack_attr_map mt_map[] = {
	{ "private_ip", "IpAddress" }, { "subnet", "SubnetId" },
	{ "az", "AvailabilityZoneName" }, { "file_system", "FileSystemId" },
	{ NULL, NULL },
};

/* An EC2 type listed by its tags: service, describe, id parameter and set,
 * id member, delete action and its id parameter. */
#define EC2(desc, idp, items, idm, del_action, del_id) \
	.service = "ec2", .describe = desc, .id_param = idp, .batch = 1, \
	.set = items, .id_member = idm, .delete = del_action, \
	.delete_id = del_id, .list_by_tag = 1

const struct stack_type stack_types[] = {
	{ .name = "instance", .order = 10,
	  EC2("DescribeInstances", "InstanceId", "reservationSet", "instanceId",
	      "TerminateInstances", "InstanceId.1"),
	  .inner = "instancesSet", .attrs = instance_map,
	  .state_member = "instanceState.name", .gone_states = "terminated",
	  .del = stack_instance_delete, .list = stack_instance_list },
	{ .name = "nat-gateway", .order = 20,
	  EC2("DescribeNatGateways", "NatGatewayId", "natGatewaySet",
	      "natGatewayId", "DeleteNatGateway", "NatGatewayId"),
	  .attrs = nat_map, .state_member = "state", .gone_states = "deleted",
	  .price_key = "nat-gateway", .list_skip = "deleted,deleting,failed" },
	{ .name = "mount-target", .order = 25, .service = "efs",
	  .describe = "DescribeMountTargets", .id_param = "MountTargetId",
	  .set = "MountTargets", .id_member = "MountTargetId",
	  .attrs = mt_map, .state_member = "LifeCycleState",
	  .gone_states = "deleted", .delete = "DeleteMountTarget",
	  .delete_id = "MountTargetId", .list = stack_efs_mt_list },
	{ .name = "eip", .order = 30,
	  EC2("DescribeAddresses", "AllocationId", "addressesSet",
	      "allocationId", "ReleaseAddress", "AllocationId"),
	  .attrs = eip_map, .state_fixed = "allocated", .price_key = "eip" },
	{ .name = "efs", .order = 30, .service = "efs",
	  .describe = "DescribeFileSystems", .id_param = "FileSystemId",
	  .set = "FileSystems", .id_member = "FileSystemId",
	  .state_member = "LifeCycleState", .attrs_fn = stack_efs_fs_attrs,
	  .gone_states = "deleted", .delete = "DeleteFileSystem",
	  .delete_id = "FileSystemId", .list = stack_efs_fs_list,
	  .price = stack_efs_fs_price },
	{ .name = "subnet", .order = 50,
	  EC2("DescribeSubnets", "SubnetId", "subnetSet", "subnetId",
	      "DeleteSubnet", "SubnetId"),
	  .attrs = subnet_map, .state_member = "state" },
	{ .name = "route-table", .order = 55,
	  EC2("DescribeRouteTables", "RouteTableId", "routeTableSet",
	      "routeTableId", "DeleteRouteTable", "RouteTableId"),
	  .state_fixed = "available", .del = stack_rt_delete },
	{ .name = "igw", .order = 60,
	  EC2("DescribeInternetGateways", "InternetGatewayId",
	      "internetGatewaySet", "internetGatewayId",
	      "DeleteInternetGateway", "InternetGatewayId"),
	  .state_fixed = "available", .del = stack_igw_delete },
	{ .name = "security-group", .order = 65,
	  EC2("DescribeSecurityGroups", "GroupId", "securityGroupInfo",
	      "groupId", "DeleteSecurityGroup", "GroupId"),
	  .attrs = sg_map, .state_fixed = "available", .del = stack_sg_delete },
	{ .name = "key-pair", .order = 70,
	  EC2("DescribeKeyPairs", "KeyName", "keySet", "keyName",
	      "DeleteKeyPair", "KeyName"),
	  .attrs = key_map, .state_fixed = "available" },
	{ .name = "vpc", .order = 100,
	  EC2("DescribeVpcs", "VpcId", "vpcSet", "vpcId", "DeleteVpc", "VpcId"),
	  .attrs = vpc_map, .state_member = "state" },
	{ .name = "instance-profile", .order = 80, .service = "iam",
	  .del = iam_profile_delete, .refresh = iam_profile_refresh,
	  .list = iam_profile_list },
	{ .name = "iam-role", .order = 85, .service = "iam",
	  .del = iam_role_delete, .refresh = iam_role_refresh,
	  .list = iam_role_list },
	{ .name = "notebook", .order = 10, .service = "sagemaker",
	  .del = notebook_delete, .refresh = notebook_refresh,
	  .list = notebook_list },
	{ .name = "lifecycle-config", .order = 40, .service = "sagemaker",
	  .del = notebook_lc_delete, .refresh = notebook_lc_refresh,
	  .list = notebook_lc_list },
	{ .name = NULL },
};

const struct stack_type *
stack_type_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; stack_types[i].name != NULL; i++)
		if (strcmp(stack_types[i].name, name) == 0)
			return &stack_types[i];
	return NULL;
}

static void
set_str(cJSON *o, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, value);
}

static const char *
item_str(const cJSON *item, const char *path)
{
	const cJSON *v = stack_path(item, path);
	return cJSON_IsString(v) && v->valuestring[0] != '\0' ?
	    v->valuestring : NULL;
}

void
stack_type_attrs(const struct stack_type *t, cJSON *at, const cJSON *item)
{
	const char *v;

	if (t->state_member != NULL && (v = item_str(item,
	    t->state_member)) != NULL)
		set_str(at, "state", v);
	else if (t->state_fixed != NULL)
		set_str(at, "state", t->state_fixed);
	for (const struct stack_attr_map *m = t->attrs; m != NULL &&
	    m->key != NULL; m++)
		if ((v = item_str(item, m->path)) != NULL)
			set_str(at, m->key, v);
	if (t->attrs_fn != NULL)
		t->attrs_fn(at, item);
	if (t->price_key != NULL)
		set_str(at, "price_key", t->price_key);
}

void
stack_instance_attrs(cJSON *attrs, const cJSON *item)
{
	stack_type_attrs(stack_type_find("instance"), attrs, item);
}

/* Whether state is one of the comma-separated states in list. */
static int
state_in(const char *state, const char *list)
{
	size_t n;

	if (state == NULL || list == NULL)
		return 0;
	n = strlen(state);
	for (const char *p = list; *p != '\0'; ) {
		const char *c = strchr(p, ',');
		size_t len = c != NULL ? (size_t)(c - p) : strlen(p);
		if (len == n && strncmp(p, state, n) == 0)
			return 1;
		p += len + (c != NULL);
	}
	return 0;
}

/* The described items, flat (instances come inside reservations). Caller
 * frees. */
static cJSON *
flat_items(const struct stack_type *t, cJSON *items)
{
	cJSON *flat, *it, *in;

	if (t->inner == NULL)
		return items;
	flat = cJSON_CreateArray();
	cJSON_ArrayForEach(it, items)
		cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(it,
		    t->inner))
			cJSON_AddItemToArray(flat, cJSON_Duplicate(in, 1));
	cJSON_Delete(items);
	return flat;
}

/* One describe of recs[0..n) (all of type t, ids known): res[i] set from
 * the answer, an id missing from it = gone. -1 with err when the call
 * failed (a not-found included: the caller decides). */
static int
describe(struct stack *st, const struct stack_type *t, cJSON **recs,
    size_t n, int *res, struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *items = NULL;
	int rc;

	for (size_t i = 0; i < n; i++) {
		char *k = t->batch ? xasprintf("%s.%zu", t->id_param, i + 1) :
		    xstrdup(t->id_param);
		cJSON_AddStringToObject(p, k, stack_attr(recs[i], "id"));
		free(k);
	}
	rc = aws_paginate(st->aws, t->service, t->describe, p, t->set, 0,
	    &items, err);
	cJSON_Delete(p);
	if (rc != 0)
		return -1;
	items = flat_items(t, items);
	for (size_t i = 0; i < n; i++) {
		const char *id = stack_attr(recs[i], "id");
		const cJSON *it, *found = NULL;
		cJSON_ArrayForEach(it, items) {
			const char *iid = item_str(it, t->id_member);
			if (iid != NULL && strcmp(iid, id) == 0) {
				found = it;
				break;
			}
		}
		res[i] = STACK_GONE;
		if (found == NULL)
			continue;
		stack_type_attrs(t, stack_rec_attrs(recs[i]), found);
		if (!state_in(stack_attr(recs[i], "state"), t->gone_states))
			res[i] = STACK_LIVE;
	}
	cJSON_Delete(items);
	return 0;
}

int
stack_type_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	int r;

	if (t != NULL && t->refresh != NULL)
		return t->refresh(st, rec, err);
	if (t == NULL || t->describe == NULL || stack_attr(rec, "id") == NULL)
		return STACK_GONE;
	if (describe(st, t, &rec, 1, &r, err) != 0) {
		if (!stack_err_notfound(err))
			return -1;
		aws_error_release(err);
		return STACK_GONE;
	}
	return r;
}

int
stack_type_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));

	if (t != NULL && t->del != NULL)
		return t->del(st, rec, err);
	if (t == NULL || t->delete == NULL || stack_attr(rec, "id") == NULL)
		return 0;
	return stack_delete_by_id(st, t->service, t->delete, t->delete_id,
	    stack_attr(rec, "id"), err);
}

/* The generic list: the describe filtered by the workspace's tag. */
static int
list_by_tag(struct stack *st, const struct stack_type *t, cJSON *out,
    struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject(), *items = NULL, *it;
	int rc;

	cJSON_AddStringToObject(p, "Filter.1.Name", "tag:mlsh:workspace");
	cJSON_AddStringToObject(p, "Filter.1.Value.1", st->ws);
	st->ncalls++;
	rc = aws_paginate(st->aws, t->service, t->describe, p, t->set, 0,
	    &items, err);
	cJSON_Delete(p);
	if (rc != 0)
		return -1;
	items = flat_items(t, items);
	cJSON_ArrayForEach(it, items) {
		const char *role = stack_role_from_name(st,
		    stack_tag_value(it, "Name"));
		const char *id = item_str(it, t->id_member);
		cJSON *o, *at;
		if (role == NULL || id == NULL)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "id", id);
		at = cJSON_AddObjectToObject(o, "attrs");
		stack_type_attrs(t, at, it);
		if (state_in(stack_attr(o, "state"), t->list_skip))
			cJSON_Delete(o);
		else
			cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(items);
	return 0;
}

int
stack_type_list(struct stack *st, const struct stack_type *t, cJSON *out,
    struct aws_error *err)
{
	if (t->list != NULL)
		return t->list(st, out, err);
	if (t->list_by_tag)
		return list_by_tag(st, t, out, err);
	return 0;
}

/* Refresh recs[0..n) of type t by describes of at most BATCH_MAX ids; a
 * batch refused as not found (one of them is gone) is asked again id by
 * id. -1 with err (and *bad the index) when a call failed. */
static int
refresh_type(struct stack *st, const struct stack_type *t, cJSON **recs,
    size_t n, int *res, struct aws_error *err, size_t *bad)
{
	size_t step = t->batch ? BATCH_MAX : 1;

	for (size_t i = 0; i < n; i += step) {
		size_t m = n - i < step ? n - i : step;
		st->ncalls++;
		if (describe(st, t, recs + i, m, res + i, err) == 0)
			continue;
		if (!stack_err_notfound(err)) {
			*bad = i;
			return -1;
		}
		aws_error_release(err);
		for (size_t k = i; k < i + m; k++) {
			res[k] = STACK_GONE;
			if (m == 1)
				break;
			st->ncalls++;
			if (describe(st, t, recs + k, 1, res + k, err) == 0)
				continue;
			if (!stack_err_notfound(err)) {
				*bad = k;
				return -1;
			}
			aws_error_release(err);
			res[k] = STACK_GONE;
		}
	}
	return 0;
}

int
stack_refresh_many(struct stack *st, const char *const *roles, size_t n,
    int *res, struct aws_error *err, const char **failed)
{
	cJSON **recs = xcalloc(n ? n : 1, sizeof *recs);
	size_t *idx = xcalloc(n ? n : 1, sizeof *idx);
	int *r = xcalloc(n ? n : 1, sizeof *r);
	char *done = xcalloc(n ? n : 1, 1);
	int rc = 0;

	memset(err, 0, sizeof *err);
	for (size_t i = 0; i < n; i++)
		res[i] = -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cJSON *rec = stack_rec(st, roles[i]);
		const struct stack_type *t = stack_type_find(stack_attr(rec,
		    "type"));
		size_t m = 0, bad = 0;

		if (done[i] || t == NULL || stack_attr(rec, "id") == NULL ||
		    (t->refresh == NULL && t->describe == NULL))
			continue;
		if (t->refresh != NULL) {	/* its own describe, one each */
			st->ncalls++;
			if ((res[i] = t->refresh(st, rec, err)) < 0) {
				*failed = roles[i];
				rc = -1;
			}
			continue;
		}
		/* Every record of the type from here on, in one go. */
		for (size_t j = i; j < n; j++) {
			cJSON *o = stack_rec(st, roles[j]);
			if (done[j] || stack_attr(o, "id") == NULL ||
			    stack_type_find(stack_attr(o, "type")) != t)
				continue;
			done[j] = 1;
			recs[m] = o;
			idx[m++] = j;
		}
		if (refresh_type(st, t, recs, m, r, err, &bad) != 0) {
			*failed = roles[idx[bad]];
			rc = -1;
			m = bad;
		}
		for (size_t k = 0; k < m; k++)
			res[idx[k]] = r[k];
	}
	free(recs);
	free(idx);
	free(r);
	free(done);
	return rc;
}
