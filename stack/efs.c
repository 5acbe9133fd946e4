/* efs.c: the EFS types' hooks (see stack/types.h): EFS filters by tag
 * nowhere, so file systems are listed whole and matched by the tags in the
 * answer, mount targets through their file system; a file system is priced
 * by its size. */
#include "stack/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
stack_efs_fs_attrs(cJSON *at, const cJSON *it)
{
	const cJSON *v;

	v = stack_path(it, "SizeInBytes.Value");
	if (cJSON_IsNumber(v)) {
		char n[32];
		snprintf(n, sizeof n, "%.0f", v->valuedouble);
		cJSON_DeleteItemFromObjectCaseSensitive(at, "size_bytes");
		cJSON_AddStringToObject(at, "size_bytes", n);
	}
	v = cJSON_GetObjectItemCaseSensitive(it, "Encrypted");
	if (cJSON_IsBool(v)) {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "encrypted");
		cJSON_AddStringToObject(at, "encrypted", cJSON_IsTrue(v) ?
		    "true" : "false");
	}
	v = cJSON_GetObjectItemCaseSensitive(it, "AvailabilityZoneName");
	cJSON_DeleteItemFromObjectCaseSensitive(at, "price_key");
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		cJSON_DeleteItemFromObjectCaseSensitive(at, "az");
		cJSON_AddStringToObject(at, "az", v->valuestring);
		cJSON_AddStringToObject(at, "price_key", "efs-one-zone-gb-month");
	} else
		cJSON_AddStringToObject(at, "price_key", "efs-gb-month");
}

int
stack_efs_fs_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *items = NULL, *it;

	st->ncalls++;
	if (aws_paginate(st->aws, "efs", "DescribeFileSystems", NULL,
	    "FileSystems", 0, &items, err) != 0)
		return -1;
	cJSON_ArrayForEach(it, items) {
		const char *ws = stack_tag_value(it, "mlsh:workspace");
		const char *role = stack_role_from_name(st,
		    stack_tag_value(it, "Name"));
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it,
		    "FileSystemId");
		const cJSON *lc = cJSON_GetObjectItemCaseSensitive(it,
		    "LifeCycleState");
		cJSON *o;
		if (ws == NULL || strcmp(ws, st->ws) != 0 || role == NULL ||
		    !cJSON_IsString(id) || (cJSON_IsString(lc) &&
		    (strcmp(lc->valuestring, "deleted") == 0 ||
		    strcmp(lc->valuestring, "deleting") == 0)))
			continue;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", role);
		cJSON_AddStringToObject(o, "id", id->valuestring);
		stack_type_attrs(stack_type_find("efs"),
		    cJSON_AddObjectToObject(o, "attrs"), it);
		cJSON_AddItemToArray(out, o);
	}
	cJSON_Delete(items);
	return 0;
}

double
stack_efs_fs_price(const struct stack_prices *pr, const cJSON *rec)
{
	const char *key = stack_attr(rec, "price_key");
	const char *size = stack_attr(rec, "size_bytes");
	double per_gb_month = stack_price(pr, key ? key : "efs-gb-month");

	if (per_gb_month < 0)
		return -1;
	/* AWS bills GB-months; a month is 730 hours. */
	return (size ? atof(size) : 0) / 1e9 * per_gb_month / 730.0;
}

/* Mount targets carry no tags: they belong to the workspace's file system;
 * the one in the private subnet is "mount-target". */
int
stack_efs_mt_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	cJSON *fss = cJSON_CreateArray(), *fs;
	int first_seen = 0;

	if (stack_efs_fs_list(st, fss, err) != 0) {
		cJSON_Delete(fss);
		return -1;
	}
	cJSON_ArrayForEach(fs, fss) {
		cJSON *p = cJSON_CreateObject(), *items = NULL, *it;
		cJSON_AddStringToObject(p, "FileSystemId", stack_attr(fs, "id"));
		st->ncalls++;
		if (aws_paginate(st->aws, "efs", "DescribeMountTargets", p,
		    "MountTargets", 0, &items, err) != 0) {
			cJSON_Delete(p);
			cJSON_Delete(fss);
			return -1;
		}
		cJSON_Delete(p);
		cJSON_ArrayForEach(it, items) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it,
			    "MountTargetId");
			const cJSON *lc = cJSON_GetObjectItemCaseSensitive(it,
			    "LifeCycleState");
			const char *sub = stack_id(st, "subnet-private");
			const cJSON *sid = cJSON_GetObjectItemCaseSensitive(it,
			    "SubnetId");
			cJSON *o;
			if (!cJSON_IsString(id) || (cJSON_IsString(lc) &&
			    strncmp(lc->valuestring, "delet", 5) == 0))
				continue;
			o = cJSON_CreateObject();
			/* Without a recorded subnet (--recover), the first
			 * one is the workspace's. */
			if ((sub == NULL && !first_seen) || (sub != NULL &&
			    cJSON_IsString(sid) &&
			    strcmp(sid->valuestring, sub) == 0))
				cJSON_AddStringToObject(o, "role",
				    "mount-target");
			else {
				char *r = xasprintf("mount-target-%s",
				    cJSON_IsString(sid) ? sid->valuestring :
				    id->valuestring);
				cJSON_AddStringToObject(o, "role", r);
				free(r);
			}
			first_seen = 1;
			cJSON_AddStringToObject(o, "id", id->valuestring);
			stack_type_attrs(stack_type_find("mount-target"),
			    cJSON_AddObjectToObject(o, "attrs"), it);
			cJSON_AddItemToArray(out, o);
		}
		cJSON_Delete(items);
	}
	cJSON_Delete(fss);
	return 0;
}
