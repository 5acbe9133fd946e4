/* quota.c: Service Quotas read before anything costly starts (quota.h).
 *
 * EC2 on-demand and spot limits are in vCPUs per family class
 * ("On-Demand Instance quotas",
 * https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html;
 * "Spot Instance quotas",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-spot-limits.html),
 * read with GetServiceQuota (ServiceCode ec2); a running instance of the
 * class counts against the same quota, so what is asked is running + new.
 * SageMaker notebook limits are per instance type, named "<type> for
 * notebook instance usage" (their codes differ per type, so the quota is
 * found by name with ListServiceQuotas). */
#include "stack/quota.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Family letters -> quota. The letters are the type's leading letters
 * ("dl" of dl1.24xlarge, "p" of p3.8xlarge, "g" of g5.xlarge). */
static const struct {
	const char *letters;		/* comma-separated */
	const char *od_code, *od_name;
	const char *spot_code, *spot_name;
} ec2_quotas[] = {
	{ "dl", "L-6E869C2A", "Running On-Demand DL instances",
	    "L-85EED4F7", "All DL Spot Instance Requests" },
	{ "p", "L-417A185B", "Running On-Demand P instances",
	    "L-7212CCBC", "All P Spot Instance Requests" },
	{ "g,vt", "L-DB2E81BA", "Running On-Demand G and VT instances",
	    "L-3819A6DF", "All G and VT Spot Instance Requests" },
	{ "a,c,d,h,i,m,r,t,z", "L-1216C47A", "Running On-Demand Standard "
	    "(A, C, D, H, I, M, R, T, Z) instances", "L-34B43A08",
	    "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" },
};

static int warned;	/* "this endpoint has no Service Quotas": once */

static int
letters_of(const char *itype, char *out, size_t n)
{
	size_t i = 0;

	while (itype[i] != '\0' && isalpha((unsigned char)itype[i]) &&
	    i + 1 < n) {
		out[i] = (char)tolower((unsigned char)itype[i]);
		i++;
	}
	out[i] = '\0';
	return i > 0 ? 0 : -1;
}

static int
letters_in(const char *l, const char *list)
{
	size_t n = strlen(l);
	const char *p;

	for (p = list; (p = strstr(p, l)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
	return 0;
}

int
quota_ec2_code(const char *itype, int spot, const char **code,
    const char **name)
{
	char l[16];

	if (letters_of(itype, l, sizeof l) != 0)
		return -1;
	for (size_t i = 0; i < sizeof ec2_quotas / sizeof ec2_quotas[0]; i++)
		if (letters_in(l, ec2_quotas[i].letters)) {
			*code = spot ? ec2_quotas[i].spot_code :
			    ec2_quotas[i].od_code;
			*name = spot ? ec2_quotas[i].spot_name :
			    ec2_quotas[i].od_name;
			return 0;
		}
	return -1;
}

static void
warn_unknown(struct stack *st, const struct aws_error *err)
{
	if (warned++)
		return;
	stack_warn(st, "%s: warning: cannot read Service Quotas here "
	    "(%s%s%s); quotas not checked", stack_cmd(st),
	    err->code ? err->code : "error",
	    err->message ? ": " : "", err->message ? err->message : "");
}

/* The quota's value: GetServiceQuota, then (a quota never changed on the
 * account may have no applied value) GetAWSDefaultServiceQuota. 0 with
 * *value, 1 unknown here (warned), -1 never. */
static int
quota_value(struct stack *st, const char *service, const char *code,
    double *value)
{
	static const char *const actions[] = { "GetServiceQuota",
	    "GetAWSDefaultServiceQuota" };
	struct aws_error err;
	int rc = 1;

	memset(&err, 0, sizeof err);
	for (size_t i = 0; i < 2 && rc == 1; i++) {
		cJSON *p = cJSON_CreateObject(), *res = NULL;
		const cJSON *v;
		aws_error_release(&err);
		cJSON_AddStringToObject(p, "ServiceCode", service);
		cJSON_AddStringToObject(p, "QuotaCode", code);
		if (stack_call(st, "servicequotas", actions[i], p, &res,
		    &err) == 0 && cJSON_IsNumber(v = stack_path(res,
		    "Quota.Value"))) {
			*value = v->valuedouble;
			rc = 0;
		}
		cJSON_Delete(p);
		cJSON_Delete(res);
		if (rc == 1 && (err.code == NULL || strcmp(err.code,
		    "NoSuchResourceException") != 0))
			break;	/* only an unknown quota has a second way */
	}
	if (rc == 1) {
		if (err.code == NULL)
			err.code = xstrdup("no Quota.Value in the answer");
		warn_unknown(st, &err);
	}
	aws_error_release(&err);
	return rc;
}

/* vCPUs of each type in types (DescribeInstanceTypes), into out
 * {type: vcpus}. -1 when the call fails. */
static int
type_vcpus(struct stack *st, const struct strlist *types, cJSON *out)
{
	cJSON *p = cJSON_CreateObject(), *res = NULL, *it;
	struct aws_error err;
	int rc;

	for (size_t i = 0; i < types->n; i++) {
		char key[48];
		snprintf(key, sizeof key, "InstanceType.%zu", i + 1);
		cJSON_AddStringToObject(p, key, types->v[i]);
	}
	rc = stack_call(st, "ec2", "DescribeInstanceTypes", p, &res, &err);
	cJSON_Delete(p);
	if (rc != 0) {
		aws_error_release(&err);
		return -1;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(res,
	    "instanceTypeSet")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(it,
		    "instanceType");
		const cJSON *v = stack_path(it, "vCpuInfo.defaultVCpus");
		double n = cJSON_IsNumber(v) ? v->valuedouble :
		    cJSON_IsString(v) ? atof(v->valuestring) : 0;
		if (cJSON_IsString(t) && n > 0)
			cJSON_AddNumberToObject(out, t->valuestring, n);
	}
	cJSON_Delete(res);
	return 0;
}

int
quota_check_instances(struct stack *st, const char *what, const char *itype,
    int count, int spot)
{
	const char *code, *name;
	char want_l[16];
	double limit = 0, running = 0, per;
	struct strlist types;
	cJSON *p, *res = NULL, *vcpus, *r, *it, *n;
	struct aws_error err;
	int rc = 0;

	if (quota_ec2_code(itype, spot, &code, &name) != 0 ||
	    letters_of(itype, want_l, sizeof want_l) != 0)
		return 0;	/* a class mlsh knows no quota for */
	if (quota_value(st, "ec2", code, &limit) != 0)
		return 0;
	/* What runs already in the class, on-demand or spot as asked. */
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "Filter.1.Name", "instance-state-name");
	cJSON_AddStringToObject(p, "Filter.1.Value.1", "pending");
	cJSON_AddStringToObject(p, "Filter.1.Value.2", "running");
	if (aws_paginate(st->aws, "ec2", "DescribeInstances", p,
	    "reservationSet", 0, &res, &err) != 0) {
		cJSON_Delete(p);
		return stack_fail(st, "cannot count running instances", &err);
	}
	st->ncalls++;
	cJSON_Delete(p);
	strlist_init(&types);
	strlist_add(&types, itype);
	cJSON_ArrayForEach(r, res)
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r,
		    "instancesSet")) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceType");
			const char *c2, *n2;
			if (cJSON_IsString(t) && quota_ec2_code(t->valuestring,
			    spot, &c2, &n2) == 0 && strcmp(c2, code) == 0 &&
			    !strlist_has(&types, t->valuestring))
				strlist_add(&types, t->valuestring);
		}
	vcpus = cJSON_CreateObject();
	if (type_vcpus(st, &types, vcpus) != 0 ||
	    !cJSON_IsNumber(n = cJSON_GetObjectItemCaseSensitive(vcpus,
	    itype))) {
		/* Without vCPU counts there is nothing to compare. */
		cJSON_Delete(vcpus);
		cJSON_Delete(res);
		strlist_release(&types);
		return 0;
	}
	per = n->valuedouble;
	cJSON_ArrayForEach(r, res)
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r,
		    "instancesSet")) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceType");
			const cJSON *lc = cJSON_GetObjectItemCaseSensitive(it,
			    "instanceLifecycle");
			int is_spot = cJSON_IsString(lc) &&
			    strcmp(lc->valuestring, "spot") == 0;
			const char *c2, *n2;
			const cJSON *v;
			if (!cJSON_IsString(t) || is_spot != spot ||
			    quota_ec2_code(t->valuestring, spot, &c2, &n2) !=
			    0 || strcmp(c2, code) != 0)
				continue;
			v = cJSON_GetObjectItemCaseSensitive(vcpus,
			    t->valuestring);
			running += cJSON_IsNumber(v) ? v->valuedouble : 0;
		}
	if (running + per * count > limit) {
		double want = running + per * count;
		stack_error(st, "the %s quota '%s' (ec2 %s) is %.0f vCPUs in "
		    "%s; %s needs %.0f more (%.0f running): ask for %.0f with "
		    "'aws service-quotas request-service-quota-increase "
		    "--region %s --service-code ec2 --quota-code %s "
		    "--desired-value %.0f' or in the Service Quotas console; "
		    "--skip-quota-check to try anyway", spot ? "spot" :
		    "on-demand", name, code, limit, st->region, what,
		    per * count, running, want, st->region, code, want);
		rc = -1;
	}
	cJSON_Delete(vcpus);
	cJSON_Delete(res);
	strlist_release(&types);
	return rc;
}

int
quota_check_notebook(struct stack *st, const char *itype)
{
	cJSON *p = cJSON_CreateObject(), *items = NULL, *it, *nbs = NULL;
	struct aws_error err;
	char *want = xasprintf("%s for notebook instance usage", itype);
	const cJSON *found = NULL;
	double limit, used = 0;
	int rc = 0;

	cJSON_AddStringToObject(p, "ServiceCode", "sagemaker");
	st->ncalls++;
	if (aws_paginate(st->aws, "servicequotas", "ListServiceQuotas", p,
	    "Quotas", 20, &items, &err) != 0) {
		warn_unknown(st, &err);
		aws_error_release(&err);
		goto out;
	}
	cJSON_ArrayForEach(it, items) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(it,
		    "QuotaName");
		if (cJSON_IsString(n) && strcmp(n->valuestring, want) == 0)
			found = it;
	}
	if (found == NULL || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
	    found, "Value"))) {
		struct aws_error e = { 0, NULL, (char *)"NoSuchResourceException",
		    want, NULL };
		warn_unknown(st, &e);
		goto out;
	}
	limit = cJSON_GetObjectItemCaseSensitive(found, "Value")->valuedouble;
	/* Notebooks of the type that exist and are not stopped count. */
	cJSON_Delete(p);
	p = cJSON_CreateObject();
	st->ncalls++;
	if (aws_paginate(st->aws, "sagemaker", "ListNotebookInstances", p,
	    "NotebookInstances", 20, &nbs, &err) == 0) {
		cJSON_ArrayForEach(it, nbs) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(it,
			    "InstanceType");
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(it,
			    "NotebookInstanceStatus");
			if (cJSON_IsString(t) && strcmp(t->valuestring, itype) ==
			    0 && cJSON_IsString(s) && strcmp(s->valuestring,
			    "Stopped") != 0 && strcmp(s->valuestring,
			    "Deleting") != 0 && strcmp(s->valuestring,
			    "Failed") != 0)
				used++;
		}
	} else
		aws_error_release(&err);
	if (used + 1 > limit) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(found,
		    "QuotaCode");
		const char *c = cJSON_IsString(code) ? code->valuestring : "?";
		stack_error(st, "the SageMaker quota '%s' (sagemaker %s) is "
		    "%.0f in %s; the notebook needs 1 more (%.0f in use): ask "
		    "for %.0f with 'aws service-quotas "
		    "request-service-quota-increase --region %s --service-code "
		    "sagemaker --quota-code %s --desired-value %.0f' or in the "
		    "Service Quotas console; --skip-quota-check to try anyway",
		    want, c, limit, st->region, used, used + 1, st->region, c,
		    used + 1);
		rc = -1;
	}
out:
	cJSON_Delete(p);
	cJSON_Delete(items);
	cJSON_Delete(nbs);
	free(want);
	return rc;
}
