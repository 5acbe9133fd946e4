/* test_api_shape.c: api results shaped as botocore parses them (member
 * names from locationNames, typed scalars, lists, maps, IAM policies,
 * timestamps), from aws/xml.c's tree and from JSON. */
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "aws/xml.h"
#include "builtins/api_shape.h"
#include "builtins/api_actions.inc"

/* The shaped result of SERVICE ACTION for a response body, as compact JSON
 * text (XML: the body's root element is the response's, as aws_call sees
 * it once the Result wrapper is gone). */
static char *
shaped(const char *service, const char *action, const char *body)
{
	cJSON *raw, *out;
	char *cause = NULL, *text;
	int xml = body[0] == '<';

	for (size_t s = 0; api_actions[s].service != NULL; s++) {
		if (strcmp(api_actions[s].service, service) != 0)
			continue;
		for (size_t k = 0; k < api_actions[s].n; k++) {
			if (strcmp(api_actions[s].actions[k], action) != 0)
				continue;
			raw = xml ? awsxml_parse(body, strlen(body), NULL,
			    &cause) : cJSON_Parse(body);
			free(cause);
			if (raw == NULL)
				return strdup("(unparsable)");
			out = api_shape_output(s, k, xml, raw);
			text = cJSON_PrintUnformatted(out);
			cJSON_Delete(raw);
			cJSON_Delete(out);
			return text;
		}
	}
	return strdup("(no such action)");
}

#define T_SHAPED(svc, act, body, want) do {				\
	char *t_s = shaped(svc, act, body);				\
	T_EQ_STR(t_s, want);						\
	free(t_s);							\
} while (0)

static void
t_ec2_names_and_types(void)
{
	T_SHAPED("ec2", "DescribeVpcs",
	    "<R><requestId>r-1</requestId><vpcSet><item><vpcId>vpc-1</vpcId>"
	    "<isDefault>false</isDefault><tagSet/><unknownThing>x"
	    "</unknownThing></item></vpcSet></R>",
	    "{\"Vpcs\":[{\"IsDefault\":false,\"Tags\":[],\"VpcId\":\"vpc-1\"}]}");
	T_SHAPED("ec2", "DescribeSecurityGroups",
	    "<R><securityGroupInfo><item><groupId>sg-1</groupId>"
	    "<ipPermissions><item><fromPort>22</fromPort><toPort>22</toPort>"
	    "<ipProtocol>tcp</ipProtocol><ipRanges><item><cidrIp>10.0.0.0/8"
	    "</cidrIp></item></ipRanges></item></ipPermissions>"
	    "</item></securityGroupInfo></R>",
	    "{\"SecurityGroups\":[{\"GroupId\":\"sg-1\",\"IpPermissions\":"
	    "[{\"IpProtocol\":\"tcp\",\"FromPort\":22,\"ToPort\":22,"
	    "\"IpRanges\":[{\"CidrIp\":\"10.0.0.0/8\"}]}]}]}");
	/* An empty list element whose name does not end in Set. */
	T_SHAPED("iam", "ListRoles",
	    "<R><Roles/><IsTruncated>false</IsTruncated></R>",
	    "{\"Roles\":[],\"IsTruncated\":false}");
}

static void
t_query_map_and_policy(void)
{
	T_SHAPED("iam", "GetAccountSummary",
	    "<R><SummaryMap><entry><key>Users</key><value>3</value></entry>"
	    "</SummaryMap></R>", "{\"SummaryMap\":{\"Users\":3}}");
	T_SHAPED("iam", "GetAccountSummary",
	    "<R><SummaryMap><entry><key>Users</key><value>3</value></entry>"
	    "<entry><key>Roles</key><value>0</value></entry></SummaryMap></R>",
	    "{\"SummaryMap\":{\"Users\":3,\"Roles\":0}}");
	/* botocore's json_decode_policies: URL-encoded JSON to an object. */
	T_SHAPED("iam", "GetRole",
	    "<R><Role><RoleName>r</RoleName><AssumeRolePolicyDocument>"
	    "%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>"
	    "<MaxSessionDuration>3600</MaxSessionDuration></Role></R>",
	    "{\"Role\":{\"RoleName\":\"r\",\"AssumeRolePolicyDocument\":"
	    "{\"Version\":\"2012-10-17\"},\"MaxSessionDuration\":3600}}");
	T_SHAPED("iam", "GetRole",
	    "<R><Role><AssumeRolePolicyDocument>not json"
	    "</AssumeRolePolicyDocument></Role></R>",
	    "{\"Role\":{\"AssumeRolePolicyDocument\":\"not json\"}}");
}

static void
t_json_protocols(void)
{
	T_SHAPED("sagemaker", "DescribeNotebookInstance",
	    "{\"NotebookInstanceName\":\"nb\",\"CreationTime\":1764669600.5,"
	    "\"VolumeSizeInGB\":5,\"Url\":null,\"Extra\":1}",
	    "{\"NotebookInstanceName\":\"nb\",\"CreationTime\":"
	    "\"2025-12-02T10:00:00.500000+00:00\",\"VolumeSizeInGB\":5}");
	T_SHAPED("efs", "DescribeFileSystems",
	    "{\"FileSystems\":[{\"FileSystemId\":\"fs-1\",\"Encrypted\":true,"
	    "\"SizeInBytes\":{\"Value\":6144,\"Timestamp\":1764669600}}]}",
	    "{\"FileSystems\":[{\"FileSystemId\":\"fs-1\",\"SizeInBytes\":"
	    "{\"Value\":6144,\"Timestamp\":\"2025-12-02T10:00:00+00:00\"},"
	    "\"Encrypted\":true}]}");
	/* An action without output members gives {}. */
	T_SHAPED("ec2", "DeleteVpc", "<R><return>true</return></R>", "{}");
}

static void
iso(const char *in, int number, const char *want)
{
	cJSON *v = number ? cJSON_CreateNumber(atof(in)) :
	    cJSON_CreateString(in);
	char *got = api_iso_timestamp(v);

	if (want == NULL)
		T_OK(got == NULL);
	else
		T_EQ_STR(got, want);
	free(got);
	cJSON_Delete(v);
}

/* Python's isoformat() of botocore's parse_timestamp(), checked by hand
 * against botocore 1.43 (TZ=UTC). */
static void
t_timestamps(void)
{
	iso("2026-12-02T10:34:59.000Z", 0, "2026-12-02T10:34:59+00:00");
	iso("2026-12-02T10:34:59.1234567Z", 0,
	    "2026-12-02T10:34:59.123456+00:00");
	iso("2026-12-02T10:34:59+02:00", 0, "2026-12-02T10:34:59+02:00");
	iso("2026-12-02T10:34:59", 0, "2026-12-02T10:34:59");
	iso("1764669600.5", 0, "2025-12-02T10:00:00.500000+00:00");
	iso("1764669600", 1, "2025-12-02T10:00:00+00:00");
	iso("1764669600.123456", 1, "2025-12-02T10:00:00.123456+00:00");
	iso("yesterday", 0, NULL);
	iso("2026-13-02T10:34:59Z", 0, NULL);
}

int
main(void)
{
	T_RUN(t_ec2_names_and_types);
	T_RUN(t_query_map_and_policy);
	T_RUN(t_json_protocols);
	T_RUN(t_timestamps);
	T_DONE();
}
