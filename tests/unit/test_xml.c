/* test_xml.c: AWS XML responses to cJSON, and the error parser of each
 * protocol (aws/xml.c, aws/protocol.c). No network. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "aws/internal.h"
#include "aws/xml.h"

/* Parse like a successful response of the given service/action. */
static cJSON *
ok_response(const char *service, const char *action, const char *body)
{
	struct aws_response r;
	struct aws_error err;
	cJSON *out = NULL;

	memset(&err, 0, sizeof err);
	aws_response_init(&r);
	r.status = 200;
	buf_adds(&r.body, body);
	if (aws_proto_parse(aws_service_find(service), action, &r, &out,
	    &err) != 0)
		T_FAIL("parse failed: %s", err.code);
	aws_error_release(&err);
	aws_response_release(&r);
	return out;
}

/* Parse like a failed response; returns the error line. */
static char *
err_response(const char *service, long status, const char *error_type,
    const char *request_id, const char *body, struct aws_error *err)
{
	struct aws_response r;
	cJSON *out = NULL;

	memset(err, 0, sizeof *err);
	aws_response_init(&r);
	r.status = status;
	if (error_type != NULL)
		r.error_type = xstrdup(error_type);
	if (request_id != NULL)
		r.request_id = xstrdup(request_id);
	buf_adds(&r.body, body);
	if (aws_proto_parse(aws_service_find(service), "Any", &r, &out,
	    err) == 0)
		T_FAIL("an error status parsed as success");
	cJSON_Delete(out);
	aws_response_release(&r);
	return aws_error_line(err);
}

static const char *
str_at(const cJSON *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL, *tok;
	const cJSON *v = o;

	for (tok = strtok_r(p, "/", &save); tok != NULL && v != NULL;
	    tok = strtok_r(NULL, "/", &save)) {
		if (*tok >= '0' && *tok <= '9')
			v = cJSON_GetArrayItem(v, atoi(tok));
		else
			v = cJSON_GetObjectItemCaseSensitive(v, tok);
	}
	free(p);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char describe_vpcs[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<DescribeVpcsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
"    <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>\n"
"    <vpcSet>\n"
"        <item>\n"
"            <vpcId>vpc-1a2b3c4d</vpcId>\n"
"            <state>available</state>\n"
"            <cidrBlock>10.0.0.0/16</cidrBlock>\n"
"            <cidrBlockAssociationSet>\n"
"                <item>\n"
"                    <cidrBlock>10.0.0.0/16</cidrBlock>\n"
"                    <cidrBlockState><state>associated</state></cidrBlockState>\n"
"                </item>\n"
"            </cidrBlockAssociationSet>\n"
"            <tagSet/>\n"
"            <isDefault>false</isDefault>\n"
"        </item>\n"
"        <item>\n"
"            <vpcId>vpc-2</vpcId>\n"
"            <tagSet><item><key>Name</key><value>b</value></item></tagSet>\n"
"            <description></description>\n"
"        </item>\n"
"    </vpcSet>\n"
"    <nextToken>tok-2</nextToken>\n"
"</DescribeVpcsResponse>\n";

static void
ec2_describe_vpcs(void)
{
	cJSON *r = ok_response("ec2", "DescribeVpcs", describe_vpcs), *v;

	T_OK(r != NULL);
	T_EQ_STR(str_at(r, "RequestId"), "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");
	T_OK(cJSON_GetObjectItemCaseSensitive(r, "requestId") == NULL);
	v = cJSON_GetObjectItem(r, "vpcSet");
	T_OK(cJSON_IsArray(v));
	T_EQ_INT(cJSON_GetArraySize(v), 2);
	T_EQ_STR(str_at(r, "vpcSet/0/vpcId"), "vpc-1a2b3c4d");
	T_EQ_STR(str_at(r, "vpcSet/0/cidrBlockAssociationSet/0/cidrBlockState/state"),
	    "associated");
	/* an empty Set is an empty array, other empty elements "" */
	v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r,
	    "vpcSet"), 0), "tagSet");
	T_OK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0);
	T_EQ_STR(str_at(r, "vpcSet/1/description"), "");
	/* nested item lists, a one-item list still an array */
	v = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r,
	    "vpcSet"), 1), "tagSet");
	T_OK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1);
	T_EQ_STR(str_at(r, "vpcSet/1/tagSet/0/value"), "b");
	T_EQ_STR(str_at(r, "nextToken"), "tok-2");
	T_EQ_STR(str_at(r, "vpcSet/0/isDefault"), "false");
	cJSON_Delete(r);
}

static const char create_role[] =
"<CreateRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
"  <CreateRoleResult>\n"
"    <Role>\n"
"      <Path>/application_abc/component_xyz/</Path>\n"
"      <Arn>arn:aws:iam::123456789012:role/application_abc/component_xyz/S3Access</Arn>\n"
"      <RoleName>S3Access</RoleName>\n"
"      <AssumeRolePolicyDocument>{\"Version\":\"2012-10-17\"}</AssumeRolePolicyDocument>\n"
"      <CreateDate>2012-05-08T23:34:01.495Z</CreateDate>\n"
"      <RoleId>AROADBQP57FF2AEXAMPLE</RoleId>\n"
"      <Tags><member><Key>team</Key><Value>ml</Value></member></Tags>\n"
"    </Role>\n"
"  </CreateRoleResult>\n"
"  <ResponseMetadata>\n"
"    <RequestId>4a93ceee-9966-11e1-b624-b1aEXAMPLE7c</RequestId>\n"
"  </ResponseMetadata>\n"
"</CreateRoleResponse>\n";

static void
iam_create_role(void)
{
	cJSON *r = ok_response("iam", "CreateRole", create_role), *v;

	T_OK(r != NULL);
	T_OK(cJSON_GetObjectItem(r, "CreateRoleResult") == NULL);
	T_OK(cJSON_GetObjectItem(r, "ResponseMetadata") == NULL);
	T_EQ_STR(str_at(r, "RequestId"), "4a93ceee-9966-11e1-b624-b1aEXAMPLE7c");
	T_EQ_STR(str_at(r, "Role/RoleName"), "S3Access");
	T_EQ_STR(str_at(r, "Role/AssumeRolePolicyDocument"),
	    "{\"Version\":\"2012-10-17\"}");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "Role"), "Tags");
	T_OK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1);
	T_EQ_STR(str_at(r, "Role/Tags/0/Value"), "ml");
	cJSON_Delete(r);
}

static void
repeated_siblings_and_namespaces(void)
{
	static const char doc[] =
	    "<a:Root xmlns:a=\"urn:x\" attr=\"1\"><a:x>1</a:x><a:x>2</a:x>"
	    "<y k=\"v\">3</y><z><member>only</member></z></a:Root>";
	char *cause = NULL, *root = NULL;
	cJSON *r = awsxml_parse(doc, strlen(doc), &root, &cause);

	T_OK(r != NULL);
	T_EQ_STR(root, "Root");
	T_OK(cJSON_IsArray(cJSON_GetObjectItem(r, "x")));
	T_EQ_STR(str_at(r, "x/1"), "2");
	T_EQ_STR(str_at(r, "y"), "3");
	T_EQ_STR(str_at(r, "z/0"), "only");
	cJSON_Delete(r);
	free(root);
	free(cause);
}

static void
malformed_is_an_error(void)
{
	static const char *const bad[] = {
		"", "<", "<a><b></a>", "<a>&bogus;</a>", "not xml at all",
		"<a></a><b></b>", "<?xml version=\"1.0\"?>",
	};
	size_t i;
	char *cause;
	cJSON *r;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		r = awsxml_parse(bad[i], strlen(bad[i]), NULL, &cause);
		if (r != NULL || cause == NULL)
			T_FAIL("\"%s\" parsed", bad[i]);
		cJSON_Delete(r);
		free(cause);
	}
}

static void
deep_nesting_is_an_error(void)
{
	struct buf b;
	char *cause = NULL;
	cJSON *r;
	int i;

	buf_init(&b);
	for (i = 0; i < 5000; i++)
		buf_adds(&b, "<a>");
	for (i = 0; i < 5000; i++)
		buf_adds(&b, "</a>");
	r = awsxml_parse(b.data, b.len, NULL, &cause);
	T_OK(r == NULL && cause != NULL);
	free(cause);
	buf_release(&b);
}

static void
ec2_error(void)
{
	struct aws_error e;
	char *line = err_response("ec2", 400, NULL, NULL,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
	    "<Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-123' "
	    "does not exist</Message></Error></Errors>"
	    "<RequestID>1a2b3c4d-5e6f-7a8b-9c0d-ef0123456789</RequestID>"
	    "</Response>", &e);

	T_EQ_STR(e.code, "InvalidVpcID.NotFound");
	T_EQ_INT(e.http_status, 400);
	T_EQ_STR(e.request_id, "1a2b3c4d-5e6f-7a8b-9c0d-ef0123456789");
	T_EQ_STR(line, "ec2: InvalidVpcID.NotFound: The vpc ID 'vpc-123' does "
	    "not exist (request 1a2b3c4d\xe2\x80\xa6)");
	free(line);
	aws_error_release(&e);
}

static void
query_error(void)
{
	struct aws_error e;
	char *line = err_response("iam", 409, NULL, NULL,
	    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
	    "<Error><Type>Sender</Type><Code>EntityAlreadyExists</Code>"
	    "<Message>Role with name r already exists.</Message></Error>"
	    "<RequestId>abc</RequestId></ErrorResponse>", &e);

	T_EQ_STR(e.code, "EntityAlreadyExists");
	T_EQ_STR(line, "iam: EntityAlreadyExists: Role with name r already "
	    "exists. (request abc)");
	free(line);
	aws_error_release(&e);
}

static void
json_error(void)
{
	struct aws_error e;
	char *line = err_response("sagemaker", 400, NULL, "req-1",
	    "{\"__type\":\"com.amazonaws.sagemaker#ResourceNotFound\","
	    "\"Message\":\"no such notebook\"}", &e);

	T_EQ_STR(e.code, "ResourceNotFound");
	T_EQ_STR(e.message, "no such notebook");
	T_EQ_STR(line, "sagemaker: ResourceNotFound: no such notebook "
	    "(request req-1)");
	free(line);
	aws_error_release(&e);
	line = err_response("ssm", 400, NULL, NULL,
	    "{\"__type\":\"ParameterNotFound\",\"message\":\"x\"}", &e);
	T_EQ_STR(line, "ssm: ParameterNotFound: x");
	free(line);
	aws_error_release(&e);
}

static void
rest_json_error(void)
{
	struct aws_error e;
	char *line = err_response("efs", 404,
	    "FileSystemNotFound:http://internal.amazon.com/coral/", "r-2",
	    "{\"ErrorCode\":\"FileSystemNotFound\",\"message\":\"fs-1 not found\"}",
	    &e);

	T_EQ_STR(e.code, "FileSystemNotFound");
	T_EQ_STR(e.message, "fs-1 not found");
	free(line);
	aws_error_release(&e);
	line = err_response("efs", 409, NULL, NULL,
	    "{\"code\":\"FileSystemAlreadyExists\",\"message\":\"dup\"}", &e);
	T_EQ_STR(e.code, "FileSystemAlreadyExists");
	free(line);
	aws_error_release(&e);
}

static void
non_aws_error(void)
{
	struct aws_error e;
	char *line = err_response("ec2", 502, NULL, NULL,
	    "<html><head><title>502 Bad Gateway</title></head><body>"
	    "<center><h1>502 Bad Gateway</h1></center></body></html>", &e);

	T_EQ_INT(e.http_status, 502);
	T_EQ_STR(e.code, "BadGateway");
	T_OK(e.message != NULL && strstr(e.message, "502 Bad Gateway") != NULL);
	T_OK(aws_error_retryable(&e));
	free(line);
	aws_error_release(&e);
	line = err_response("sts", 418, NULL, NULL, "\x01\x02 garbage {", &e);
	T_EQ_STR(e.code, "HTTP418");
	free(line);
	aws_error_release(&e);
}

static void
empty_bodies(void)
{
	cJSON *r = ok_response("efs", "DeleteFileSystem", "");

	T_OK(cJSON_IsObject(r) && cJSON_GetArraySize(r) == 0);
	cJSON_Delete(r);
	r = ok_response("ec2", "DeleteVpc",
	    "<DeleteVpcResponse><requestId>x</requestId><return>true</return>"
	    "</DeleteVpcResponse>");
	T_EQ_STR(str_at(r, "return"), "true");
	cJSON_Delete(r);
	r = ok_response("iam", "DeleteRole", "<DeleteRoleResponse/>");
	T_OK(cJSON_IsObject(r));
	cJSON_Delete(r);
}

static void
request_flattening(void)
{
	struct aws_request rq;
	char *cause = NULL;
	cJSON *p = cJSON_Parse("{\"Filter\":[{\"Name\":\"tag:Name\","
	    "\"Value\":[\"a b\",\"c/d\"]}],\"MaxResults\":5,\"DryRun\":false}");

	aws_request_init(&rq);
	T_EQ_INT(aws_proto_build(aws_service_find("ec2"), "DescribeVpcs", p, &rq,
	    &cause), 0);
	T_EQ_STR(rq.body.data, "Action=DescribeVpcs&Version=2016-11-15"
	    "&Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b"
	    "&Filter.1.Value.2=c%2Fd&MaxResults=5&DryRun=false");
	aws_request_release(&rq);
	cJSON_Delete(p);

	p = cJSON_Parse("{\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}]}");
	aws_request_init(&rq);
	T_EQ_INT(aws_proto_build(aws_service_find("iam"), "TagRole", p, &rq,
	    &cause), 0);
	T_EQ_STR(rq.body.data, "Action=TagRole&Version=2010-05-08"
	    "&Tags.member.1.Key=k&Tags.member.1.Value=v");
	aws_request_release(&rq);
	cJSON_Delete(p);

	p = cJSON_Parse("{\"FileSystemId\":\"fs-1\",\"Marker\":\"m x\","
	    "\"MaxItems\":2}");
	aws_request_init(&rq);
	T_EQ_INT(aws_proto_build(aws_service_find("efs"), "DescribeFileSystems",
	    p, &rq, &cause), 0);
	T_EQ_STR(rq.method, "GET");
	T_EQ_STR(rq.path, "/2015-02-01/file-systems");
	T_EQ_STR(rq.query, "FileSystemId=fs-1&Marker=m%20x&MaxItems=2");
	T_EQ_INT(rq.body.len, 0);
	aws_request_release(&rq);
	aws_request_init(&rq);
	T_EQ_INT(aws_proto_build(aws_service_find("efs"), "DeleteFileSystem",
	    p, &rq, &cause), 0);
	T_EQ_STR(rq.method, "DELETE");
	T_EQ_STR(rq.path, "/2015-02-01/file-systems/fs-1");
	aws_request_release(&rq);
	cJSON_Delete(p);
	aws_request_init(&rq);
	T_EQ_INT(aws_proto_build(aws_service_find("efs"), "DeleteFileSystem",
	    NULL, &rq, &cause), -1);
	T_OK(cause != NULL && strstr(cause, "FileSystemId") != NULL);
	free(cause);
	aws_request_release(&rq);
}

static void
error_lines(void)
{
	struct aws_error e = { 0 };
	char *line;

	aws_error_set(&e, 0, "ec2", "RequestTimeout", "no answer", NULL);
	line = aws_error_line(&e);
	T_EQ_STR(line, "ec2: RequestTimeout: no answer");
	T_OK(aws_error_retryable(&e));
	free(line);
	aws_error_set(&e, 400, "ec2", "RequestLimitExceeded", "slow down", "");
	T_OK(aws_error_retryable(&e));
	aws_error_set(&e, 400, "ec2", "InvalidParameterValue", "bad", NULL);
	T_OK(!aws_error_retryable(&e));
	aws_error_release(&e);
}

static void
services_and_endpoints(void)
{
	const struct aws_service *s;
	char *u;

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL_SAGEMAKER");
	s = aws_service_find("sagemaker");
	T_OK(s != NULL && s->protocol == AWS_PROTO_JSON);
	u = aws_endpoint_url(s, "eu-west-1", NULL);
	T_EQ_STR(u, "https://api.sagemaker.eu-west-1.amazonaws.com");
	free(u);
	s = aws_service_find("iam");
	u = aws_endpoint_url(s, "eu-west-1", NULL);
	T_EQ_STR(u, "https://iam.amazonaws.com");
	T_EQ_STR(aws_signing_region(s, "eu-west-1"), "us-east-1");
	free(u);
	s = aws_service_find("cloudwatch");
	T_EQ_STR(s->signing_name, "monitoring");
	u = aws_endpoint_url(s, "us-west-2", NULL);
	T_EQ_STR(u, "https://monitoring.us-west-2.amazonaws.com");
	free(u);
	s = aws_service_find("efs");
	u = aws_endpoint_url(s, "us-west-2", NULL);
	T_EQ_STR(u, "https://elasticfilesystem.us-west-2.amazonaws.com");
	free(u);

	/* --endpoint-url, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL */
	s = aws_service_find("ec2");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/", 1);
	u = aws_endpoint_url(s, "us-east-1", NULL);
	T_EQ_STR(u, "http://127.0.0.1:1");
	free(u);
	setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:2/ec2", 1);
	u = aws_endpoint_url(s, "us-east-1", NULL);
	T_EQ_STR(u, "http://127.0.0.1:2/ec2");
	free(u);
	u = aws_endpoint_url(aws_service_find("ssm"), "us-east-1", NULL);
	T_EQ_STR(u, "http://127.0.0.1:1");
	free(u);
	u = aws_endpoint_url(s, "us-east-1", "http://127.0.0.1:3");
	T_EQ_STR(u, "http://127.0.0.1:3");
	free(u);
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");

	T_OK(aws_service_find("s3") == NULL);
	T_EQ_STR(aws_idem_member(aws_service_find("efs"), "CreateFileSystem"),
	    "CreationToken");
	T_OK(aws_idem_member(aws_service_find("ec2"), "CreateVpc") == NULL);
	T_EQ_STR(aws_idem_member(aws_service_find("ec2"), "RunInstances"),
	    "ClientToken");
}

int
main(void)
{
	T_RUN(ec2_describe_vpcs);
	T_RUN(iam_create_role);
	T_RUN(repeated_siblings_and_namespaces);
	T_RUN(malformed_is_an_error);
	T_RUN(deep_nesting_is_an_error);
	T_RUN(ec2_error);
	T_RUN(query_error);
	T_RUN(json_error);
	T_RUN(rest_json_error);
	T_RUN(non_aws_error);
	T_RUN(empty_bodies);
	T_RUN(request_flattening);
	T_RUN(error_lines);
	T_RUN(services_and_endpoints);
	T_DONE();
}
