/* ec2.c: the EC2 types whose delete must undo something first (see
 * stack/types.h): an internet gateway is detached from its VPC, a route
 * table's associations are removed, the rules naming a security group are
 * revoked. */
#include "stack/types.h"

#include <string.h>

static cJSON *
obj(const char *k1, const char *v1)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, k1, v1);
	return o;
}

int
stack_igw_delete(struct stack *st, cJSON *rec, struct aws_error *err)
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
stack_rt_delete(struct stack *st, cJSON *rec, struct aws_error *err)
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
stack_sg_delete(struct stack *st, cJSON *rec, struct aws_error *err)
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
