/* fw.h: the lab enforces the VPC's security groups and route tables.
 *
 * From what the control plane reports (DescribeInstances,
 * DescribeSecurityGroups, DescribeRouteTables) the reconciler derives one
 * nftables ruleset per host and loads it inside that host's own network
 * namespace (table "ip mlshlab", input and output hooks), never anywhere
 * else; it is loaded again only when the derived text changes. The model is
 * AWS's (lab/fw.c cites the documents):
 *
 *   - security groups are stateful: replies to allowed traffic pass;
 *   - ingress is denied unless a rule of one of the instance's groups allows
 *     it (a CIDR, or a source group: the private IPs of the instances in
 *     that group); egress is allowed only by egress rules (a new group has
 *     "all to 0.0.0.0/0"); several groups give the union of their rules;
 *   - an instance without groups has its VPC's default group;
 *   - a public IP works only when the subnet's route table (its explicit
 *     association, else the VPC's main table) routes the internet to an
 *     internet gateway; otherwise the host's public side drops everything.
 */
#ifndef MLSH_LAB_FW_H
#define MLSH_LAB_FW_H

#include <cjson/cJSON.h>

/* The nftables ruleset (allocated text for `nft -f`) for one instance of a
 * DescribeInstances answer. reservations: the "reservationSet" array (every
 * instance, for source-group references); sgs: DescribeSecurityGroups'
 * "securityGroupInfo" array; rts: DescribeRouteTables' "routeTableSet"
 * array. Pure: no I/O. */
char *lab_fw_ruleset(const cJSON *inst, const cJSON *reservations,
    const cJSON *sgs, const cJSON *rts);

/* Load ruleset inside the host's network namespace unless it is the one
 * already loaded there (kept in state/hosts/<id>/fw.nft). *changed is 1
 * when it was loaded now. 0, or -1 with *cause. */
int lab_fw_apply(const char *state_dir, const char *instance_id,
    const char *ruleset, int *changed, char **cause);

#endif
