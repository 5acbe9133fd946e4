/* node.h: launching EC2 instances of the stack in the private subnet, shared
 * by node.c and grafana.c: no public IP, IMDSv2 required, an instance
 * profile, the workspace's tags, a ClientToken, user-data. */
#ifndef MLSH_NODE_H
#define MLSH_NODE_H

#include "builtins/stackcmd.h"

struct node_launch {
	const char *role;		/* "dl1-1", "grafana" */
	const char *instance_type;
	const char *ami;
	const char *profile;		/* instance profile name */
	const char *user_data;		/* rendered script */
	int disk_gb;			/* root volume; 0: the AMI's default */
	int spot;			/* persistent spot, stops on interruption */
	const char *sg_role;		/* security group role; NULL: "sg-nodes"
					 * (the first launch's counts for all) */
	int shutdown_terminates;	/* a shutdown on the machine terminates
					 * it (--autostop-down); 0: stops it */
};

/* RunInstances for every launch that is not recorded yet (in parallel, one
 * journaled intent each), then wait until all are running. Needs the
 * "subnet-private" and the group's record (vpc up); uses "key" when there.
 * -1 after cmd_error. */
int node_launch_many(struct stack *, const struct node_launch *, size_t n);

/* The workspace's EFS for templates: id, DNS name and mount-target address
 * ("" when absent). Borrowed. */
void node_efs(struct stack *, const char **id, const char **dns,
    const char **ip);

/* Render an embedded user-data template with the workspace's values (see
 * userdata.h), checked against EC2's 16 KB limit. extra may add or override
 * variables. Caller frees; NULL after cmd_error. */
struct userdata_var;
char *node_user_data(struct stack *, const char *path, const char *node,
    const struct userdata_var *extra, size_t nextra);

/* The first AMI found: ssm parameter, then each name pattern of owner.
 * -1 after cmd_error naming what was tried. Caller frees *ami. */
int node_resolve_ami(struct stack *, const char *what, const char *ssm,
    const char *owner, const char *const *patterns, char **ami);

/* The workspace's nodes (instance records named KIND-N) in order, dl1-2
 * before dl1-10: what `node ls` lists (and `top` samples). */
void node_list(const cJSON *resources, struct strlist *out);

/* Autostop (builtins/autostop.c): the default idle time before a node
 * stops itself, and the parser of --autostop / `node NAME autostop`
 * (1 minute to 7 days, or off = 0; the lab tests lower the minimum with
 * MLSH_AUTOSTOP_MIN_S). */
#define AUTOSTOP_DEFAULT_S	3600
int autostop_parse(const char *s, long *secs, char **cause);
int node_autostop(struct mlsh_ctx *, struct cmd_args *, cJSON **);

#endif
