/* checkip.c: the caller's public address (checkip.amazonaws.com, or the
 * lab's own), and the hint for a jump host that does not answer. */
#include "builtins/checkip.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aws/aws.h"
#include "builtins/target.h"
#include "lab/ctrl.h"

#define CHECKIP_URL	"https://checkip.amazonaws.com"

static int addr_parse(const char *s, unsigned *addr, int *len);
static void add_group(cJSON *params, const char *id, int *n);
static int covers_ssh(const cJSON *perm);

char *
checkip_address(struct mlsh_ctx *ctx, char **cause)
{
	const char *url = getenv("MLSH_CHECKIP_URL");
	char *body = NULL, *p;
	unsigned a;
	int len;

	if (url == NULL || *url == '\0')
		url = ctx->lab ? LAB_CHECKIP_URL : CHECKIP_URL;
	if ((ctx->lab ? lab_http_get(ctx->lab_dir, url, 5000, &body, cause) :
	    aws_http_get_text(url, 5000, &body, cause)) != 0)
		return NULL;
	for (p = body + strlen(body); p > body && isspace((unsigned char)p[-1]);
	    p--)
		*--p = '\0';
	if (addr_parse(body, &a, &len) != 0 || len != 32) {
		*cause = xasprintf("%s answered '%.40s'", url, body);
		free(body);
		return NULL;
	}
	free(body);
	return xasprintf("%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255);
}


char *
checkip_jump_hint(struct mlsh_ctx *ctx)
{
	const cJSON *res = target_resources(ctx), *jump, *id, *g, *sg, *perm, *r;
	const cJSON *inst, *eni;
	cJSON *p = NULL, *ans = NULL, *sgs = NULL;
	struct aws_error err;
	struct buf cidrs;
	char *me = NULL, *cause = NULL, *hint = NULL;
	unsigned mine, net;
	int len, n = 0, inside = 0;

	memset(&err, 0, sizeof err);
	buf_init(&cidrs);
	jump = res != NULL ? cJSON_GetObjectItemCaseSensitive(res, "jump") :
	    NULL;
	id = cJSON_GetObjectItemCaseSensitive(jump, "id");
	if (!cJSON_IsString(id))
		goto out;
	/* The groups the jump host has now, whatever the state recorded. */
	p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "InstanceId.1", id->valuestring);
	if (aws_call(shell_aws(ctx), "ec2", "DescribeInstances", p, &ans,
	    &err) != 0)
		goto out;
	cJSON_Delete(p);
	p = cJSON_CreateObject();
	inst = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ans,
	    "reservationSet"), 0), "instancesSet"), 0);
	/* Its own groups and its interfaces' (where moto lists them). */
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(inst,
	    "groupSet"))
		add_group(p, json_string(g, "groupId"), &n);
	cJSON_ArrayForEach(eni, cJSON_GetObjectItemCaseSensitive(inst,
	    "networkInterfaceSet"))
		cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(eni,
		    "groupSet"))
			add_group(p, json_string(g, "groupId"), &n);
	if (n == 0 || aws_call(shell_aws(ctx), "ec2", "DescribeSecurityGroups",
	    p, &sgs, &err) != 0)
		goto out;
	if ((me = checkip_address(ctx, &cause)) == NULL ||
	    addr_parse(me, &mine, &len) != 0)
		goto out;
	cJSON_ArrayForEach(sg, cJSON_GetObjectItemCaseSensitive(sgs,
	    "securityGroupInfo"))
		cJSON_ArrayForEach(perm, cJSON_GetObjectItemCaseSensitive(sg,
		    "ipPermissions")) {
			if (!covers_ssh(perm))
				continue;
			cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(
			    perm, "ipRanges")) {
				const char *c = json_string(r, "cidrIp");

				if (c == NULL || addr_parse(c, &net, &len) != 0)
					continue;
				buf_printf(&cidrs, "%s%s", cidrs.len ? ", " : "",
				    c);
				if (len == 0 || ((mine ^ net) &
				    (~0U << (32 - len))) == 0)
					inside = 1;
			}
		}
	if (!inside)
		hint = xasprintf("your address %s is not in the jump host's "
		    "--allow (%s); 'vpc up --allow %s/32' lets it in", me,
		    cidrs.len ? cidrs.data : "no ssh rule", me);
out:
	aws_error_release(&err);
	cJSON_Delete(p);
	cJSON_Delete(ans);
	cJSON_Delete(sgs);
	buf_release(&cidrs);
	free(me);
	free(cause);
	return hint;
}

/* GroupId.N=id unless already there. */
static void
add_group(cJSON *params, const char *id, int *n)
{
	const cJSON *v;
	char key[32];

	if (id == NULL || *n >= 16)
		return;
	cJSON_ArrayForEach(v, params)
		if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0)
			return;
	snprintf(key, sizeof key, "GroupId.%d", ++*n);
	cJSON_AddStringToObject(params, key, id);
}

/* An ingress rule that admits TCP port 22. */
static int
covers_ssh(const cJSON *perm)
{
	const char *proto = json_string(perm, "ipProtocol");
	const char *from = json_string(perm, "fromPort"), *to = json_string(perm, "toPort");

	if (proto == NULL || strcmp(proto, "-1") == 0)
		return 1;
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "6") != 0)
		return 0;
	return from == NULL || to == NULL || (atoi(from) <= 22 &&
	    atoi(to) >= 22);
}

/* "a.b.c.d" or "a.b.c.d/n". */
static int
addr_parse(const char *s, unsigned *addr, int *len)
{
	unsigned a, b, c, d;
	int used = 0, l = 32;
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%n", &a, &b, &c, &d, &used) != 4 ||
	    !isdigit((unsigned char)s[0]))
		return -1;
	if (s[used] == '/') {
		if (sscanf(s + used, "/%d%c", &l, &tail) != 1)
			return -1;
	} else if (s[used] != '\0')
		return -1;
	if (a > 255 || b > 255 || c > 255 || d > 255 || l < 0 || l > 32)
		return -1;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*len = l;
	return 0;
}
