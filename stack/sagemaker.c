/* sagemaker.c: the SageMaker notebook and its lifecycle configuration as
 * resource types of the stack (their rows in stack/types.c): names,
 * describe, attributes, and the delete / refresh / list hooks. The
 * notebook command (builtins/notebook.c) builds on the same helpers. */
#include "stack/sagemaker.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "stack/types.h"

/* SageMaker names: [a-zA-Z0-9](-*[a-zA-Z0-9])*, at most 63. */
char *
stack_sm_name(struct stack *st, const char *suffix)
{
	char *s = xasprintf("%s-%s", st->ws, suffix), *o = s;

	for (char *p = s; *p; p++) {
		char c = isalnum((unsigned char)*p) ? *p : '-';
		if (c == '-' && (o == s || o[-1] == '-'))
			continue;
		*o++ = c;
	}
	*o = '\0';
	if (strlen(s) > 63) {
		memmove(s, s + strlen(s) - 63, 64);
		while (*s == '-')
			memmove(s, s + 1, strlen(s));
	}
	return s;
}

int
stack_sm_describe(struct stack *st, const char *name, cJSON **res,
    struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(p, "NotebookInstanceName", name);
	st->ncalls++;
	rc = aws_call(st->aws, "sagemaker", "DescribeNotebookInstance", p, res,
	    err);
	cJSON_Delete(p);
	return rc;
}

static void
set_str(cJSON *o, const char *key, const cJSON *v)
{
	if (o == NULL || !cJSON_IsString(v))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, v->valuestring);
}

void
stack_sm_attrs(cJSON *attrs, const cJSON *item)
{
	set_str(attrs, "state", cJSON_GetObjectItemCaseSensitive(item,
	    "NotebookInstanceStatus"));
	set_str(attrs, "instance_type", cJSON_GetObjectItemCaseSensitive(item,
	    "InstanceType"));
	set_str(attrs, "subnet", cJSON_GetObjectItemCaseSensitive(item,
	    "SubnetId"));
	set_str(attrs, "arn", cJSON_GetObjectItemCaseSensitive(item,
	    "NotebookInstanceArn"));
	set_str(attrs, "name", cJSON_GetObjectItemCaseSensitive(item,
	    "NotebookInstanceName"));
	set_str(attrs, "url", cJSON_GetObjectItemCaseSensitive(item, "Url"));
	/* Only while Failed (a restart clears it). */
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(item,
	    "FailureReason")))
		set_str(attrs, "failure_reason",
		    cJSON_GetObjectItemCaseSensitive(item, "FailureReason"));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(attrs, "failure_reason");
}

static cJSON *
rec_attrs_of(cJSON *rec)
{
	cJSON *at = cJSON_GetObjectItemCaseSensitive(rec, "attrs");
	if (!cJSON_IsObject(at))
		at = cJSON_AddObjectToObject(rec, "attrs");
	return at;
}


/* ---- the types table's functions --------------------------------------------- */

/* A notebook is deleted from Stopped: stop it first and let refresh (during
 * down's wait) send the delete once it is stopped. */
int
notebook_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL, *p;
	const cJSON *s;
	const char *action = NULL;
	int rc;

	if (name == NULL)
		return 0;
	if (stack_sm_describe(st, name, &res, err) != 0) {
		if (stack_err_gone(err))
			return 0;
		return -1;
	}
	s = cJSON_GetObjectItemCaseSensitive(res, "NotebookInstanceStatus");
	if (cJSON_IsString(s)) {
		if (strcmp(s->valuestring, "Stopped") == 0 ||
		    strcmp(s->valuestring, "Failed") == 0)
			action = "DeleteNotebookInstance";
		else if (strcmp(s->valuestring, "InService") == 0 ||
		    strcmp(s->valuestring, "Pending") == 0 ||
		    strcmp(s->valuestring, "Updating") == 0)
			action = "StopNotebookInstance";
	}
	cJSON_Delete(res);
	{
		cJSON *at = rec_attrs_of(rec);
		cJSON_DeleteItemFromObjectCaseSensitive(at, "deleting");
		cJSON_AddStringToObject(at, "deleting", "true");
	}
	if (action == NULL)	/* Stopping, Deleting: on its way */
		return 0;
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "NotebookInstanceName", name);
	res = NULL;
	rc = aws_call(st->aws, "sagemaker", action, p, &res, err);
	cJSON_Delete(p);
	cJSON_Delete(res);
	if (rc != 0 && stack_err_gone(err))
		return 0;
	return rc;
}

int
notebook_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id"), *deleting;
	cJSON *res = NULL, *at;
	const char *state;

	if (name == NULL)
		return STACK_GONE;
	if (stack_sm_describe(st, name, &res, err) != 0) {
		if (stack_err_gone(err))
			return STACK_GONE;
		return -1;
	}
	at = rec_attrs_of(rec);
	stack_sm_attrs(at, res);
	cJSON_Delete(res);
	deleting = stack_attr(rec, "deleting");
	state = stack_attr(rec, "state");
	if (deleting != NULL && strcmp(deleting, "true") == 0 && state != NULL &&
	    (strcmp(state, "Stopped") == 0 || strcmp(state, "Failed") == 0)) {
		/* down's wait: stopped now, so the delete can go */
		cJSON *p = cJSON_CreateObject();
		struct aws_error e2;
		memset(&e2, 0, sizeof e2);
		cJSON_AddStringToObject(p, "NotebookInstanceName", name);
		res = NULL;
		if (aws_call(st->aws, "sagemaker", "DeleteNotebookInstance", p,
		    &res, &e2) != 0 && stack_err_notfound(&e2)) {
			cJSON_Delete(p);
			aws_error_release(&e2);
			return STACK_GONE;
		}
		aws_error_release(&e2);
		cJSON_Delete(p);
		cJSON_Delete(res);
		cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
		cJSON_AddStringToObject(at, "state", "Deleting");
	}
	return STACK_LIVE;
}

int
notebook_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	char *name = stack_sm_name(st, "notebook");
	cJSON *res = NULL, *o;

	if (stack_sm_describe(st, name, &res, err) != 0) {
		free(name);
		if (stack_err_gone(err))
			return 0;
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", NB_ROLE);
	cJSON_AddStringToObject(o, "id", name);
	stack_sm_attrs(cJSON_AddObjectToObject(o, "attrs"), res);
	cJSON_AddItemToArray(out, o);
	cJSON_Delete(res);
	free(name);
	return 0;
}

static int
lc_call(struct stack *st, const char *action, const char *name, cJSON **res,
    struct aws_error *err)
{
	cJSON *p = cJSON_CreateObject();
	int rc;

	cJSON_AddStringToObject(p, "NotebookInstanceLifecycleConfigName", name);
	st->ncalls++;
	rc = aws_call(st->aws, "sagemaker", action, p, res, err);
	cJSON_Delete(p);
	return rc;
}

int
notebook_lc_delete(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL;
	int rc;

	if (name == NULL)
		return 0;
	rc = lc_call(st, "DeleteNotebookInstanceLifecycleConfig", name, &res,
	    err);
	cJSON_Delete(res);
	if (rc != 0 && stack_err_gone(err))
		return 0;
	return rc;
}

int
notebook_lc_refresh(struct stack *st, cJSON *rec, struct aws_error *err)
{
	const char *name = stack_attr(rec, "id");
	cJSON *res = NULL, *at;

	if (name == NULL)
		return STACK_GONE;
	if (lc_call(st, "DescribeNotebookInstanceLifecycleConfig", name, &res,
	    err) != 0) {
		if (stack_err_gone(err))
			return STACK_GONE;
		return -1;
	}
	at = rec_attrs_of(rec);
	cJSON_DeleteItemFromObjectCaseSensitive(at, "state");
	cJSON_AddStringToObject(at, "state", "available");
	cJSON_Delete(res);
	return STACK_LIVE;
}

int
notebook_lc_list(struct stack *st, cJSON *out, struct aws_error *err)
{
	char *name = stack_sm_name(st, "onstart");
	cJSON *res = NULL, *o;

	if (lc_call(st, "DescribeNotebookInstanceLifecycleConfig", name, &res,
	    err) != 0) {
		free(name);
		if (stack_err_gone(err))
			return 0;
		return -1;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "role", NB_LC_ROLE);
	cJSON_AddStringToObject(o, "id", name);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "attrs"), "state",
	    "available");
	cJSON_AddItemToArray(out, o);
	cJSON_Delete(res);
	free(name);
	return 0;
}
