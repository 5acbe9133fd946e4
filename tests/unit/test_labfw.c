/* Unit tests: the lab's nftables rules derived from security groups and
 * route tables (lab/fw.c), from JSON shaped like mlsh's EC2 answers. */
#include <stdlib.h>
#include "lab/fw.h"
#include "unit.h"

/* Two instances: a jump host (sg-jump on its interface, public IP) and a
 * node (sg-nodes on the instance); one default group. */
static const char reservations[] = "[{\"instancesSet\":["
    "{\"instanceId\":\"i-jump\",\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-pub\","
    " \"privateIpAddress\":\"10.0.0.4\",\"ipAddress\":\"54.1.2.3\","
    " \"instanceState\":{\"name\":\"running\"},\"groupSet\":[],"
    " \"networkInterfaceSet\":[{\"groupSet\":[{\"groupId\":\"sg-jump\"}]}]},"
    "{\"instanceId\":\"i-node\",\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-priv\","
    " \"privateIpAddress\":\"10.0.1.5\",\"instanceState\":{\"name\":\"running\"},"
    " \"groupSet\":[{\"groupId\":\"sg-nodes\"}]},"
    "{\"instanceId\":\"i-gone\",\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-pub\","
    " \"privateIpAddress\":\"10.0.0.9\",\"instanceState\":{\"name\":\"terminated\"},"
    " \"groupSet\":[{\"groupId\":\"sg-jump\"}]},"
    "{\"instanceId\":\"i-bare\",\"vpcId\":\"vpc-1\",\"subnetId\":\"subnet-priv\","
    " \"privateIpAddress\":\"10.0.1.6\",\"instanceState\":{\"name\":\"running\"}}"
    "]}]";

static const char sgs[] = "["
    "{\"groupId\":\"sg-jump\",\"groupName\":\"w-sg-jump\",\"vpcId\":\"vpc-1\","
    " \"ipPermissions\":[{\"ipProtocol\":\"tcp\",\"fromPort\":\"22\",\"toPort\":\"22\","
    "  \"groups\":\"\",\"ipRanges\":[{\"cidrIp\":\"198.18.0.2/32\"}]}],"
    " \"ipPermissionsEgress\":[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}]},"
    "{\"groupId\":\"sg-nodes\",\"groupName\":\"w-sg-nodes\",\"vpcId\":\"vpc-1\","
    " \"ipPermissions\":["
    "  {\"ipProtocol\":\"tcp\",\"fromPort\":\"22\",\"toPort\":\"22\",\"ipRanges\":\"\","
    "   \"groups\":[{\"groupId\":\"sg-jump\"}]},"
    "  {\"ipProtocol\":\"tcp\",\"fromPort\":\"3000\",\"toPort\":\"3010\","
    "   \"ipRanges\":[{\"cidrIp\":\"10.0.7.9/16\"}]},"
    "  {\"ipProtocol\":\"-1\",\"groups\":[{\"groupId\":\"sg-nodes\"}]},"
    "  {\"ipProtocol\":\"icmp\",\"fromPort\":\"8\",\"toPort\":\"-1\","
    "   \"ipRanges\":[{\"cidrIp\":\"10.0.0.0/16\"}]},"
    "  {\"ipProtocol\":\"tcp\",\"fromPort\":\"1\",\"toPort\":\"2\","
    "   \"ipRanges\":[{\"cidrIp\":\"1.2.3.4/32; flush ruleset\"}]},"
    "  {\"ipProtocol\":\"gre\",\"ipRanges\":[{\"cidrIp\":\"10.0.0.0/16\"}]}],"
    " \"ipPermissionsEgress\":[]},"
    "{\"groupId\":\"sg-default\",\"groupName\":\"default\",\"vpcId\":\"vpc-1\","
    " \"ipPermissions\":[{\"ipProtocol\":\"-1\",\"groups\":[{\"groupId\":\"sg-default\"}]}],"
    " \"ipPermissionsEgress\":[{\"ipProtocol\":\"-1\",\"ipRanges\":[{\"cidrIp\":\"0.0.0.0/0\"}]}]}"
    "]";

static const char rts_igw[] = "["
    "{\"routeTableId\":\"rtb-main\",\"vpcId\":\"vpc-1\","
    " \"associationSet\":[{\"main\":\"true\"}],"
    " \"routeSet\":[{\"destinationCidrBlock\":\"10.0.0.0/16\",\"gatewayId\":\"local\"}]},"
    "{\"routeTableId\":\"rtb-pub\",\"vpcId\":\"vpc-1\","
    " \"associationSet\":[{\"main\":\"false\",\"subnetId\":\"subnet-pub\"}],"
    " \"routeSet\":[{\"destinationCidrBlock\":\"10.0.0.0/16\",\"gatewayId\":\"local\"},"
    "  {\"destinationCidrBlock\":\"0.0.0.0/0\",\"gatewayId\":\"igw-1\",\"state\":\"active\"}]}"
    "]";

/* The same, the public subnet's route to the internet gateway gone. */
static const char rts_none[] = "["
    "{\"routeTableId\":\"rtb-pub\",\"vpcId\":\"vpc-1\","
    " \"associationSet\":[{\"main\":\"false\",\"subnetId\":\"subnet-pub\"}],"
    " \"routeSet\":[{\"destinationCidrBlock\":\"10.0.0.0/16\",\"gatewayId\":\"local\"}]}"
    "]";

static cJSON *R, *S, *RT, *RT0;

static const cJSON *
inst(const char *id)
{
	const cJSON *i;

	cJSON_ArrayForEach(i, cJSON_GetObjectItem(cJSON_GetArrayItem(R, 0),
	    "instancesSet"))
		if (strcmp(cJSON_GetObjectItem(i, "instanceId")->valuestring,
		    id) == 0)
			return i;
	return NULL;
}

static void
test_jump(void)
{
	char *t = lab_fw_ruleset(inst("i-jump"), R, S, RT);

	T_OK(strstr(t, "policy drop;") != NULL);
	T_OK(strstr(t, "ct state established,related accept") != NULL);
	T_OK(strstr(t, "ip saddr 198.18.0.2/32 tcp dport 22 accept") != NULL);
	/* Egress all: one bare accept in the output chain. */
	T_OK(strstr(strstr(t, "chain output"), "\t\taccept\n") != NULL);
	/* Routed to the internet gateway: the public side is open. */
	T_OK(strstr(t, "eth1") == NULL);
	T_OK(strstr(t, "table ip mlshlab {") != NULL);
	free(t);
}

static void
test_node(void)
{
	char *t = lab_fw_ruleset(inst("i-node"), R, S, RT);

	/* A source group: the private IPs of its live instances only. */
	T_OK(strstr(t, "ip saddr { 10.0.0.4 } tcp dport 22 accept # sg-jump")
	    != NULL);
	T_OK(strstr(t, "10.0.0.9") == NULL);
	/* Host bits cleared, ranges kept. */
	T_OK(strstr(t, "ip saddr 10.0.0.0/16 tcp dport 3000-3010 accept") !=
	    NULL);
	/* Self-reference: all traffic from the group's own members. */
	T_OK(strstr(t, "ip saddr { 10.0.1.5 } accept # sg-nodes") != NULL);
	T_OK(strstr(t, "ip saddr 10.0.0.0/16 icmp type 8 accept") != NULL);
	/* What cannot be parsed is left out, never pasted in. */
	T_OK(strstr(t, "flush") == NULL);
	T_OK(strstr(t, "protocol gre: not modelled") != NULL);
	/* No egress rule: nothing new goes out. */
	T_OK(strstr(strstr(t, "chain output"), "\t\taccept\n") == NULL);
	free(t);
}

static void
test_default_group(void)
{
	char *t = lab_fw_ruleset(inst("i-bare"), R, S, RT);

	T_OK(strstr(t, "# sg-default") != NULL);
	T_OK(strstr(t, "ip saddr { 10.0.1.6 } accept # sg-default") != NULL);
	free(t);
}

static void
test_no_internet_route(void)
{
	char *t = lab_fw_ruleset(inst("i-jump"), R, S, RT0);
	char *again = lab_fw_ruleset(inst("i-jump"), R, S, RT0);

	T_OK(strstr(t, "iifname \"eth1\" drop") != NULL);
	T_OK(strstr(t, "oifname \"eth1\" drop") != NULL);
	/* Deterministic: the reconciler reloads only on a change. */
	T_EQ_STR(t, again);
	free(t);
	free(again);
	/* A private host has no public side to close. */
	t = lab_fw_ruleset(inst("i-node"), R, S, RT0);
	T_OK(strstr(t, "eth1") == NULL);
	free(t);
}

int
main(void)
{
	R = cJSON_Parse(reservations);
	S = cJSON_Parse(sgs);
	RT = cJSON_Parse(rts_igw);
	RT0 = cJSON_Parse(rts_none);
	if (R == NULL || S == NULL || RT == NULL || RT0 == NULL) {
		fprintf(stderr, "bad test JSON\n");
		return 1;
	}
	T_RUN(test_jump);
	T_RUN(test_node);
	T_RUN(test_default_group);
	T_RUN(test_no_internet_route);
	cJSON_Delete(R);
	cJSON_Delete(S);
	cJSON_Delete(RT);
	cJSON_Delete(RT0);
	T_DONE();
}
