/* test_creds.c: the credential and region chain (aws/creds.c, aws/ini.c).
 *
 * Every case runs in a fresh temp HOME with its own config files and a fake
 * DMI directory, so nothing reads the real ~/.aws and nothing can reach the
 * real IMDS: AWS_EC2_METADATA_SERVICE_ENDPOINT always points at 127.0.0.1.
 * The AssumeRole case talks to moto (MOTO_URL, exported by tests/run) and
 * re-executes this binary to check that a second process reuses the disk
 * cache. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "aws/aws.h"
#include "aws/creds.h"
#include "aws/ini.h"
#include "lib/util.h"

#define SECRET	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
#define TOKEN	"FwoGZXIvYXdzSESSIONTOKEN"
#define KEYID	"AKIDEXAMPLE1234"

static char *tmp;		/* this run's temp dir */
static int case_no;
static char *dir;		/* this case's dir */

static void
rmrf(const char *path)
{
	char *cmd = xasprintf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
	free(cmd);
}

static char *
path(const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

static void
write_file(const char *rel, const char *text)
{
	char *p = path(rel);
	FILE *f;

	if ((f = fopen(p, "w")) == NULL) {
		fprintf(stderr, "cannot write %s\n", p);
		abort();
	}
	fputs(text, f);
	fclose(f);
	free(p);
}

static void
mkdir_in(const char *rel)
{
	char *p = path(rel), *cause = NULL;

	if (mkdir_p(p, 0700, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		abort();
	}
	free(p);
}

static void
set_path_env(const char *name, const char *rel)
{
	char *p = path(rel);

	setenv(name, p, 1);
	free(p);
}

/* A clean slate: new dir, no AWS variables, config files in the dir, a
 * DMI dir that is not EC2 and an IMDS endpoint on loopback. */
static void
reset(void)
{
	static const char *const vars[] = { "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
	    "AWS_EC2_METADATA_DISABLED", "MLSH_CREDENTIAL_PROCESS_TIMEOUT_MS",
	    "AWS_DEFAULT_PROFILE", NULL };

	for (int i = 0; vars[i] != NULL; i++)
		unsetenv(vars[i]);
	free(dir);
	dir = xasprintf("%s/%d", tmp, ++case_no);
	mkdir_in("home/.aws");
	mkdir_in("state");
	mkdir_in("dmi");
	set_path_env("HOME", "home");
	set_path_env("XDG_STATE_HOME", "state");
	set_path_env("MLSH_DMI_DIR", "dmi");
	set_path_env("AWS_CONFIG_FILE", "config");
	set_path_env("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	/* Discard port on loopback: nothing listens, nothing leaves. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9", 1);
}

/* Every error text must be free of every secret the tests use. */
static void
check_no_secret(const struct aws_error *err)
{
	const char *m = err->message ? err->message : "";

	T_OK(strstr(m, SECRET) == NULL);
	T_OK(strstr(m, TOKEN) == NULL);
	T_OK(strstr(m, "procsecret") == NULL);
	T_OK(strstr(m, "imdssecret") == NULL);
}

static int
resolve(const char *profile, struct aws_creds *out, struct aws_error *err)
{
	int r;

	memset(err, 0, sizeof *err);
	r = aws_creds_resolve(NULL, profile, out, err);
	if (r != 0)
		check_no_secret(err);
	return r;
}

static void
t_env(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	setenv("AWS_ACCESS_KEY_ID", KEYID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, KEYID);
	T_EQ_STR(c.secret_key, SECRET);
	T_OK(c.session_token == NULL);
	T_EQ_INT(c.expires, 0);
	T_EQ_STR(c.source, "environment");
	aws_creds_release(&c);
}

static void
t_env_token(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	setenv("AWS_ACCESS_KEY_ID", KEYID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	/* The environment outranks a profile named by AWS_PROFILE. */
	write_file("credentials", "[dev]\naws_access_key_id = AKIDDEV\n"
	    "aws_secret_access_key = devsecret\n");
	setenv("AWS_PROFILE", "dev", 1);
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, KEYID);
	T_EQ_STR(c.session_token, TOKEN);
	aws_creds_release(&c);
}

static void
t_env_partial(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	setenv("AWS_ACCESS_KEY_ID", KEYID, 1);
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "InvalidCredentials");
	T_OK(err.message && strstr(err.message, "AWS_SECRET_ACCESS_KEY"));
	aws_error_release(&err);

	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_OK(err.message && strstr(err.message, "AWS_ACCESS_KEY_ID"));
	aws_error_release(&err);
}

static void
t_profile_credentials_file(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	write_file("credentials",
	    "# a comment\n"
	    "; another\n"
	    "\n"
	    "  [ default ]  \r\n"
	    "aws_access_key_id=" KEYID "\r\n"
	    "   aws_secret_access_key   =   " SECRET "   \n"
	    "aws_session_token = " TOKEN " # inline comment\n"
	    "[other]\n"
	    "aws_access_key_id = AKIDOTHER\n"
	    "aws_secret_access_key = othersecret\n");
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, KEYID);
	T_EQ_STR(c.secret_key, SECRET);
	T_EQ_STR(c.session_token, TOKEN);
	T_EQ_STR(c.source, "profile default");
	aws_creds_release(&c);

	T_EQ_INT(resolve("other", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDOTHER");
	aws_creds_release(&c);
}

static void
t_profile_config_file(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	write_file("config",
	    "[default]\nregion = eu-west-1\n"
	    "[profile dev]\n"
	    "region = eu-central-1\n"
	    "aws_access_key_id = AKIDCONF\n"
	    "aws_secret_access_key = " SECRET "\n");
	setenv("AWS_PROFILE", "dev", 1);
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDCONF");
	T_EQ_STR(c.source, "profile dev");
	aws_creds_release(&c);

	/* Half a key pair is an error that names the missing key. */
	write_file("credentials", "[dev]\naws_access_key_id = AKIDHALF\n");
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "InvalidCredentials");
	T_OK(err.message && strstr(err.message, "aws_secret_access_key"));
	aws_error_release(&err);
}

/* Config: "[profile x]" (and "[default]"); credentials: "[x]". */
static void
t_profile_sections(void)
{
	struct aws_creds c;
	struct aws_error err;
	char *v;

	reset();
	write_file("config",
	    "[x]\nregion = wrong-1\n"
	    "[profile   y]\nregion = ap-south-1\n"
	    "[profile default]\nregion = sa-east-1\n"
	    "[default]\nregion = wrong-2\noutput = json\n");
	write_file("credentials",
	    "[profile x]\naws_access_key_id = AKIDWRONG\n"
	    "aws_secret_access_key = " SECRET "\n"
	    "[x]\naws_access_key_id = AKIDX\n"
	    "aws_secret_access_key = " SECRET "\n");
	v = aws_config_get("x", "region");
	T_OK(v == NULL);
	free(v);
	v = aws_config_get("y", "region");
	T_EQ_STR(v, "ap-south-1");
	free(v);
	/* "[profile default]" wins over "[default]"; both are read. */
	v = aws_config_get("default", "region");
	T_EQ_STR(v, "sa-east-1");
	free(v);
	v = aws_config_get(NULL, "output");
	T_EQ_STR(v, "json");
	free(v);
	T_EQ_INT(resolve("x", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDX");
	aws_creds_release(&c);
}

static void
t_profile_list(void)
{
	struct strlist l;

	reset();
	strlist_init(&l);
	aws_profile_list(&l);
	T_EQ_INT(l.n, 0);
	T_EQ_INT(aws_profile_exists("default"), 0);
	write_file("config",
	    "[default]\nregion = eu-west-1\n"
	    "[profile  dev]\nregion = eu-west-2\n"
	    "[sso-session corp]\nsso_region = eu-west-1\n"
	    "[services local]\nec2 =\n  endpoint_url = http://127.0.0.1:1\n"
	    "[stray]\nregion = x\n");
	write_file("credentials", "[dev]\naws_access_key_id = A\n"
	    "[ci]\naws_access_key_id = B\n[default]\n");
	aws_profile_list(&l);
	T_EQ_INT(l.n, 3);
	if (l.n == 3) {
		T_EQ_STR(l.v[0], "ci");
		T_EQ_STR(l.v[1], "default");
		T_EQ_STR(l.v[2], "dev");
	}
	strlist_release(&l);
	T_EQ_INT(aws_profile_exists("dev"), 1);
	T_EQ_INT(aws_profile_exists("ci"), 1);
	T_EQ_INT(aws_profile_exists("default"), 1);
	T_EQ_INT(aws_profile_exists("stray"), 0);
	T_EQ_INT(aws_profile_exists("corp"), 0);
	T_EQ_INT(aws_profile_exists(""), 0);
}

static void
t_profile_explicit(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	T_EQ_STR(aws_profile_name(NULL), "default");
	T_EQ_STR(aws_profile_name(""), "default");
	setenv("AWS_PROFILE", "a", 1);
	T_EQ_STR(aws_profile_name(NULL), "a");
	T_EQ_STR(aws_profile_name("b"), "b");

	write_file("credentials",
	    "[a]\naws_access_key_id = AKIDA\naws_secret_access_key = sa\n"
	    "[b]\naws_access_key_id = AKIDB\naws_secret_access_key = sb\n");
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDA");
	aws_creds_release(&c);
	T_EQ_INT(resolve("b", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDB");
	aws_creds_release(&c);

	/* An explicit profile outranks the environment's keys (botocore). */
	setenv("AWS_ACCESS_KEY_ID", KEYID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	T_EQ_INT(resolve("b", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDB");
	aws_creds_release(&c);
	T_EQ_INT(resolve(NULL, &c, &err), 0);
	T_EQ_STR(c.access_key, KEYID);
	aws_creds_release(&c);
}

static void
t_profile_not_found(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	write_file("credentials", "[a]\naws_access_key_id = AKIDA\n"
	    "aws_secret_access_key = " SECRET "\n");
	setenv("AWS_PROFILE", "nope", 1);
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "ProfileNotFound");
	T_OK(err.message && strstr(err.message, "'nope'"));
	aws_error_release(&err);
}

static void
t_region_order(void)
{
	char *r;

	reset();
	r = aws_region_resolve(NULL, NULL);
	T_EQ_STR(r, "us-east-1");
	free(r);
	write_file("config", "[default]\nregion = eu-west-3\n"
	    "[profile p]\nregion = ap-northeast-1\n");
	r = aws_region_resolve(NULL, NULL);
	T_EQ_STR(r, "eu-west-3");
	free(r);
	r = aws_region_resolve(NULL, "p");
	T_EQ_STR(r, "ap-northeast-1");
	free(r);
	setenv("AWS_PROFILE", "p", 1);
	r = aws_region_resolve(NULL, NULL);
	T_EQ_STR(r, "ap-northeast-1");
	free(r);
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	r = aws_region_resolve(NULL, NULL);
	T_EQ_STR(r, "us-west-1");
	free(r);
	setenv("AWS_REGION", "us-west-2", 1);
	r = aws_region_resolve(NULL, "p");
	T_EQ_STR(r, "us-west-2");
	free(r);
	r = aws_region_resolve("eu-north-1", "p");
	T_EQ_STR(r, "eu-north-1");
	free(r);
	/* Empty values count as unset. */
	setenv("AWS_REGION", "", 1);
	r = aws_region_resolve("", NULL);
	T_EQ_STR(r, "us-west-1");
	free(r);
}

static void
t_ini_nested(void)
{
	struct ini ini;
	const struct ini_section *s;
	static const char text[] =
	    "[profile n]\n"
	    "s3 =\n"
	    "  addressing_style = path\n"
	    "  region = nested-region\n"
	    "region = us-east-2\n"
	    "endpoint_url = http://127.0.0.1:1234   ; comment\n"
	    "credential_process = /bin/tool --arg 'a#b'\n"
	    "garbage line without equals\n"
	    "Role_ARN = arn:aws:iam::1:role/r\n"
	    "[broken\n"
	    "region = lost\n";
	static const char bom[] = "\xef\xbb\xbf[default]\nregion=r\n";
	char *v;

	ini_parse(&ini, text, sizeof text - 1);
	s = ini_section(&ini, "profile n");
	T_OK(s != NULL);
	T_EQ_STR(ini_get(s, "region"), "us-east-2");
	T_EQ_STR(ini_get(s, "s3.addressing_style"), "path");
	T_EQ_STR(ini_get(s, "s3.region"), "nested-region");
	T_EQ_STR(ini_get(s, "endpoint_url"), "http://127.0.0.1:1234");
	T_EQ_STR(ini_get(s, "credential_process"), "/bin/tool --arg 'a#b'");
	T_EQ_STR(ini_get(s, "role_arn"), "arn:aws:iam::1:role/r");
	T_OK(ini_section(&ini, "broken") == NULL);
	ini_release(&ini);

	ini_parse(&ini, bom, sizeof bom - 1);
	T_EQ_STR(ini_get(ini_section(&ini, "default"), "region"), "r");
	ini_release(&ini);

	reset();
	write_file("config", text);
	v = aws_config_get("n", "region");
	T_EQ_STR(v, "us-east-2");
	free(v);
	v = aws_config_get("n", "endpoint_url");
	T_EQ_STR(v, "http://127.0.0.1:1234");
	free(v);
	v = aws_config_get("n", "nope");
	T_OK(v == NULL);
	free(v);
}

/* Keys: credentials file first; other settings: config file first. */
static void
t_config_get_order(void)
{
	char *v;

	reset();
	write_file("config", "[profile p]\naws_access_key_id = AKIDCONF\n"
	    "region = from-config\n");
	write_file("credentials", "[p]\naws_access_key_id = AKIDCRED\n"
	    "region = from-credentials\nexternal_id = ext\n");
	v = aws_config_get("p", "aws_access_key_id");
	T_EQ_STR(v, "AKIDCRED");
	free(v);
	v = aws_config_get("p", "region");
	T_EQ_STR(v, "from-config");
	free(v);
	v = aws_config_get("p", "external_id");
	T_EQ_STR(v, "ext");
	free(v);
	/* A file that is missing is empty, not an error. */
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	v = aws_config_get("p", "region");
	T_EQ_STR(v, "from-credentials");
	free(v);
}

static void
process_profile(const char *cmd)
{
	char *text = xasprintf("[profile proc]\ncredential_process = %s\n", cmd);

	write_file("config", text);
	free(text);
}

static void
t_process_ok(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	write_file("proc.json", "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\","
	    " \"SecretAccessKey\": \"procsecret\", \"SessionToken\": \"proctok\","
	    " \"Expiration\": \"2099-01-02T03:04:05Z\"}\n");
	process_profile("cat \"$HOME/../proc.json\"; echo noise >&2");
	T_EQ_INT(resolve("proc", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDPROC");
	T_EQ_STR(c.secret_key, "procsecret");
	T_EQ_STR(c.session_token, "proctok");
	T_EQ_INT(c.expires, 4071006245LL);
	T_OK(c.source && strstr(c.source, "credential_process"));
	aws_creds_release(&c);

	/* No Expiration, no token: fine too. */
	process_profile("printf '%s' '{\"Version\":1,\"AccessKeyId\":\"AKIDP2\","
	    "\"SecretAccessKey\":\"procsecret\"}'");
	T_EQ_INT(resolve("proc", &c, &err), 0);
	T_EQ_STR(c.access_key, "AKIDP2");
	T_OK(c.session_token == NULL);
	T_EQ_INT(c.expires, 0);
	aws_creds_release(&c);
}

static void
t_process_exit(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	/* It prints credentials and then fails: they must not be used, and
	 * the secret must not reach the message; stderr's first line does. */
	process_profile("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\","
	    "\"SecretAccessKey\":\"procsecret\"}'; echo 'token expired, run "
	    "login (procsecret)' >&2; exit 3");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_EQ_STR(err.code, "CredentialProcessError");
	T_OK(err.message && strstr(err.message, "status 3"));
	T_OK(err.message && strstr(err.message, "token expired, run login"));
	T_OK(err.message && strstr(err.message, "'proc'"));
	aws_error_release(&err);

	process_profile("/nonexistent/tool");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "status 127"));
	aws_error_release(&err);
}

static void
t_process_bad_json(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	process_profile("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\","
	    "\"SecretAccessKey\":\"procsecret\"'");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_EQ_STR(err.code, "CredentialProcessError");
	T_OK(err.message && strstr(err.message, "not a JSON object"));
	aws_error_release(&err);

	process_profile("echo '{\"Version\":2,\"AccessKeyId\":\"AKIDP\","
	    "\"SecretAccessKey\":\"procsecret\"}'");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "Version"));
	aws_error_release(&err);

	process_profile("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\"}'");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "lacks SecretAccessKey"));
	aws_error_release(&err);

	process_profile("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\","
	    "\"SecretAccessKey\":\"procsecret\",\"Expiration\":\"soon\"}'");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "Expiration"));
	aws_error_release(&err);

	process_profile("echo '{\"Version\":1,\"AccessKeyId\":\"AKIDP\","
	    "\"SecretAccessKey\":\"procsecret\","
	    "\"Expiration\":\"2001-01-01T00:00:00Z\"}'");
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "expired"));
	aws_error_release(&err);
}

static void
t_process_timeout(void)
{
	struct aws_creds c;
	struct aws_error err;
	double t0;

	reset();
	setenv("MLSH_CREDENTIAL_PROCESS_TIMEOUT_MS", "300", 1);
	/* A child that keeps the pipe open: the whole group must go. */
	process_profile("sleep 30 & sleep 30; echo late");
	t0 = now_ms();
	T_EQ_INT(resolve("proc", &c, &err), -1);
	T_OK(now_ms() - t0 < 5000);
	T_EQ_STR(err.code, "CredentialProcessError");
	T_OK(err.message && strstr(err.message, "timed out after 300 ms"));
	aws_error_release(&err);
}

static void
t_no_creds(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	/* The default paths, under the fake HOME, shown with "~". */
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "NoCredentials");
	T_EQ_STR(err.message, "no credentials: tried environment "
	    "(AWS_ACCESS_KEY_ID), profile 'default' in ~/.aws/credentials and "
	    "~/.aws/config, IMDS (not an EC2 instance)");
	aws_error_release(&err);

	/* A default profile with only a region. */
	write_file("home/.aws/config", "[default]\nregion = eu-west-1\n");
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "NoCredentials");
	T_OK(err.message && strstr(err.message, "(no keys, role_arn or "
	    "credential_process)"));
	aws_error_release(&err);

	/* On "EC2" with IMDS disabled: said so, nothing contacted. */
	write_file("dmi/sys_vendor", "Amazon EC2\n");
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_OK(err.message && strstr(err.message,
	    "IMDS (AWS_EC2_METADATA_DISABLED)"));
	aws_error_release(&err);

	/* On "EC2" with IMDS not answering (closed loopback port). */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	T_EQ_INT(resolve(NULL, &c, &err), -1);
	T_EQ_STR(err.code, "NoCredentials");
	T_OK(err.message && strstr(err.message, "IMDS (token: "));
	aws_error_release(&err);
}

static void
t_on_ec2(void)
{
	reset();
	T_EQ_INT(aws_on_ec2(), 0);
	write_file("dmi/sys_vendor", "QEMU\n");
	write_file("dmi/product_uuid", "4c4c4544-0000-1010-8000-b2c04f333432\n");
	write_file("dmi/board_asset_tag", "\n");
	T_EQ_INT(aws_on_ec2(), 0);
	write_file("dmi/sys_vendor", "Amazon EC2\n");
	T_EQ_INT(aws_on_ec2(), 1);
	write_file("dmi/sys_vendor", "Xen\n");
	write_file("dmi/product_uuid", "EC2E1916-9099-7CAF-FD21-012345678901\n");
	T_EQ_INT(aws_on_ec2(), 1);
	write_file("dmi/product_uuid", "00000000-0000\n");
	write_file("dmi/board_asset_tag", "i-0123456789abcdef0\n");
	T_EQ_INT(aws_on_ec2(), 1);
}

/* A fake IMDSv2 on 127.0.0.1: python's http.server, port written to a
 * file, killed by PID. */
static const char imds_py[] =
"import http.server, json, os, sys, datetime\n"
"exp = (datetime.datetime.now(datetime.timezone.utc) +\n"
"       datetime.timedelta(hours=6)).strftime('%Y-%m-%dT%H:%M:%SZ')\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    def reply(self, code, body):\n"
"        b = body.encode()\n"
"        self.send_response(code)\n"
"        self.send_header('Content-Length', str(len(b)))\n"
"        self.end_headers()\n"
"        self.wfile.write(b)\n"
"    def do_PUT(self):\n"
"        if self.path == '/latest/api/token' and \\\n"
"           self.headers.get('X-aws-ec2-metadata-token-ttl-seconds') == '21600':\n"
"            return self.reply(200, 'TOKEN-123')\n"
"        self.reply(400, '')\n"
"    def do_GET(self):\n"
"        if self.headers.get('X-aws-ec2-metadata-token') != 'TOKEN-123':\n"
"            return self.reply(401, '')\n"
"        p = '/latest/meta-data/iam/security-credentials/'\n"
"        if self.path == p:\n"
"            return self.reply(200, 'node-role\\n')\n"
"        if self.path == p + 'node-role':\n"
"            return self.reply(200, json.dumps({'Code': 'Success',\n"
"                'Type': 'AWS-HMAC', 'AccessKeyId': 'ASIAIMDS',\n"
"                'SecretAccessKey': 'imdssecret', 'Token': 'imdstoken',\n"
"                'Expiration': exp}))\n"
"        self.reply(404, '')\n"
"    def log_message(self, *a):\n"
"        pass\n"
"s = http.server.HTTPServer(('127.0.0.1', 0), H)\n"
"open(sys.argv[1] + '.tmp', 'w').write(str(s.server_address[1]))\n"
"os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
"s.serve_forever()\n";

static void
t_imds(void)
{
	struct aws_creds c;
	struct aws_error err;
	char *script, *portfile, *port = NULL, *url, *cause = NULL;
	pid_t pid;
	int status;

	reset();
	write_file("imds.py", imds_py);
	script = path("imds.py");
	portfile = path("imds.port");
	if ((pid = fork()) == 0) {
		execlp("python3", "python3", script, portfile, (char *)NULL);
		_exit(127);
	}
	T_OK(pid > 0);
	/* Up to 30 s: python starts slowly on a loaded machine (5 s was
	 * not always enough); the port file appears as soon as it listens. */
	for (int i = 0; i < 600 && port == NULL; i++) {
		port = file_read(portfile, NULL, &cause);
		free(cause);
		cause = NULL;
		if (port == NULL)
			usleep(50000);
	}
	T_OK(port != NULL);
	if (port != NULL) {
		url = xasprintf("http://127.0.0.1:%s/", port);
		setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
		free(url);
		/* Not EC2: IMDS is never asked, even with a live endpoint. */
		T_EQ_INT(resolve(NULL, &c, &err), -1);
		T_OK(err.message && strstr(err.message, "not an EC2 instance"));
		aws_error_release(&err);

		write_file("dmi/board_asset_tag", "i-0123456789abcdef0\n");
		T_EQ_INT(resolve(NULL, &c, &err), 0);
		T_EQ_STR(c.access_key, "ASIAIMDS");
		T_EQ_STR(c.secret_key, "imdssecret");
		T_EQ_STR(c.session_token, "imdstoken");
		T_OK(c.expires > time(NULL) + 5 * 3600);
		T_EQ_STR(c.source, "imds role node-role");
		aws_creds_release(&c);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	free(port);
	free(script);
	free(portfile);
}

/* role_arn errors that need no STS call. */
static void
t_role_config_errors(void)
{
	struct aws_creds c;
	struct aws_error err;

	reset();
	write_file("config",
	    "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\n"
	    "source_profile = b\n"
	    "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\n"
	    "source_profile = a\n"
	    "[profile lone]\nrole_arn = arn:aws:iam::123456789012:role/l\n"
	    "[profile dangling]\nrole_arn = arn:aws:iam::123456789012:role/d\n"
	    "source_profile = ghost\n"
	    "[profile empty]\nregion = us-east-1\n"
	    "[profile hollow]\nrole_arn = arn:aws:iam::123456789012:role/h\n"
	    "source_profile = empty\n");
	T_EQ_INT(resolve("a", &c, &err), -1);
	T_EQ_STR(err.code, "InvalidConfig");
	T_OK(err.message && strstr(err.message, "loop: a -> b -> a"));
	aws_error_release(&err);
	T_EQ_INT(resolve("lone", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "no source_profile"));
	aws_error_release(&err);
	T_EQ_INT(resolve("dangling", &c, &err), -1);
	T_EQ_STR(err.code, "ProfileNotFound");
	T_OK(err.message && strstr(err.message, "'ghost' not found"));
	aws_error_release(&err);
	T_EQ_INT(resolve("hollow", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "'empty' has no credentials"));
	aws_error_release(&err);
}

/* --- AssumeRole against moto --- */

static const char role_config[] =
    "[profile src]\n"
    "aws_access_key_id = AKIDSOURCE0000000000\n"
    "aws_secret_access_key = " SECRET "\n"
    "region = us-east-1\n"
    "[profile role]\n"
    "role_arn = arn:aws:iam::123456789012:role/x\n"
    "source_profile = src\n"
    "role_session_name = mlsh-test\n"
    "region = us-east-1\n";

/* Child mode: resolve a profile in a fresh process, print key and source. */
static int
child_resolve(const char *profile)
{
	struct aws_options o = { .netns_fd = -1 };
	struct aws_client *c;
	struct aws_creds cr;
	struct aws_error err = { 0 };
	int r;

	o.profile = profile;
	c = aws_client_new(&o);
	r = aws_creds_resolve(c, profile, &cr, &err);
	if (r == 0) {
		printf("%s %s\n", cr.access_key, cr.source ? cr.source : "");
		aws_creds_release(&cr);
	} else {
		printf("error %s: %s\n", err.code ? err.code : "?",
		    err.message ? err.message : "?");
		aws_error_release(&err);
	}
	aws_client_free(c);
	return r == 0 ? 0 : 1;
}

/* Run this binary in child mode; returns its stdout line (caller frees). */
static char *
run_child(const char *profile)
{
	int p[2], status;
	pid_t pid;
	struct buf b;
	char chunk[512], *line;
	ssize_t n;

	if (pipe(p) != 0)
		return NULL;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("/proc/self/exe", "test_creds", "--child-resolve", profile,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	buf_init(&b);
	while ((n = read(p[0], chunk, sizeof chunk)) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(p[0]);
	waitpid(pid, &status, 0);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	line = buf_detach(&b);
	buf_release(&b);
	return line;
}

static char *
cache_file(void)
{
	char *pattern = path("state/mlsh/cache/*.json"), *out = NULL;
	glob_t g;

	if (glob(pattern, 0, NULL, &g) == 0) {
		if (g.gl_pathc == 1)
			out = xstrdup(g.gl_pathv[0]);
		globfree(&g);
	}
	free(pattern);
	return out;
}

/* Rewrite the cache entry's Expiration to now + delta seconds. */
static void
set_cache_expiry(const char *file, long delta)
{
	char *text, *cause = NULL, when[32], *out;
	cJSON *j, *cr;
	time_t t = time(NULL) + delta;
	FILE *f;

	text = file_read(file, NULL, &cause);
	T_OK(text != NULL);
	if (text == NULL) {
		free(cause);
		return;
	}
	j = cJSON_Parse(text);
	cr = cJSON_GetObjectItemCaseSensitive(j, "Credentials");
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	cJSON_ReplaceItemInObjectCaseSensitive(cr, "Expiration",
	    cJSON_CreateString(when));
	out = cJSON_PrintUnformatted(j);
	if ((f = fopen(file, "w")) != NULL) {
		fputs(out, f);
		fclose(f);
	}
	free(out);
	cJSON_Delete(j);
	free(text);
}

static int
first_word_is(const char *line, const char *word)
{
	size_t n = strlen(word);

	return line != NULL && strncmp(line, word, n) == 0 && line[n] == ' ';
}

static void
t_assume_role(void)
{
	const char *moto = getenv("MOTO_URL");
	struct aws_options o = { .netns_fd = -1 };
	struct aws_client *cl;
	struct aws_creds c1 = { 0 }, c2 = { 0 };
	struct aws_error err;
	struct stat st;
	char *file, *cdir, *line, *k1;

	if (moto == NULL || *moto == '\0') {
		T_SKIP("MOTO_URL is not set (tests/run starts moto)");
		return;
	}
	reset();
	setenv("AWS_ENDPOINT_URL", moto, 1);
	write_file("config", role_config);
	o.profile = "role";
	cl = aws_client_new(&o);
	T_OK(cl != NULL);

	memset(&err, 0, sizeof err);
	T_EQ_INT(aws_creds_resolve(cl, "role", &c1, &err), 0);
	if (err.message != NULL) {
		T_FAIL("assume role: %s: %s", err.code, err.message);
		check_no_secret(&err);
		aws_error_release(&err);
	}
	T_OK(c1.access_key != NULL &&
	    strcmp(c1.access_key, "AKIDSOURCE0000000000") != 0);
	T_OK(c1.secret_key != NULL && strcmp(c1.secret_key, SECRET) != 0);
	T_OK(c1.session_token != NULL);
	T_OK(c1.expires > time(NULL) + 600);
	T_OK(c1.source && strstr(c1.source, "assume-role"));
	k1 = xstrdup(c1.access_key ? c1.access_key : "?");

	/* Disk cache: one private file in a private dir. */
	file = cache_file();
	T_OK(file != NULL);
	cdir = path("state/mlsh/cache");
	T_OK(stat(cdir, &st) == 0 && (st.st_mode & 0777) == 0700);
	if (file != NULL)
		T_OK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);

	/* Same process: the in-memory cache. */
	T_EQ_INT(aws_creds_resolve(cl, "role", &c2, &err), 0);
	T_EQ_STR(c2.access_key, k1);
	aws_creds_release(&c2);

	/* Another process: the disk cache. */
	line = run_child("role");
	T_OK(first_word_is(line, k1));
	T_OK(line && strstr(line, "cached"));
	free(line);

	if (file != NULL) {
		/* Expired, then inside the 5-minute margin: both refreshed. */
		set_cache_expiry(file, -60);
		line = run_child("role");
		T_OK(line != NULL && strncmp(line, "ASIA", 4) == 0);
		T_OK(!first_word_is(line, k1));
		T_OK(line && strstr(line, "cached") == NULL);
		free(line);
		T_OK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);

		set_cache_expiry(file, 120);
		line = run_child("role");
		T_OK(line && strstr(line, "cached") == NULL);
		free(line);

		/* Still fresh: reused. */
		set_cache_expiry(file, 1800);
		line = run_child("role");
		T_OK(line && strstr(line, "cached") != NULL);
		free(line);
	}

	aws_creds_release(&c1);
	aws_client_free(cl);
	free(file);
	free(cdir);
	free(k1);
}

/* ExternalId and DurationSeconds reach STS; an STS failure names the role
 * and never the source secret. */
static void
t_assume_role_options(void)
{
	const char *moto = getenv("MOTO_URL");
	struct aws_options o = { .netns_fd = -1, .max_attempts = 1,
	    .timeout_ms = 2000 };
	struct aws_client *cl;
	struct aws_creds c = { 0 };
	struct aws_error err = { 0 };
	time_t now = time(NULL);

	if (moto == NULL || *moto == '\0') {
		T_SKIP("MOTO_URL is not set (tests/run starts moto)");
		return;
	}
	reset();
	setenv("AWS_ENDPOINT_URL", moto, 1);
	write_file("config",
	    "[profile src]\n"
	    "aws_access_key_id = AKIDSOURCE0000000000\n"
	    "aws_secret_access_key = " SECRET "\n"
	    "[profile short]\n"
	    "role_arn = arn:aws:iam::123456789012:role/short\n"
	    "source_profile = src\n"
	    "external_id = ext-123\n"
	    "duration_seconds = 900\n"
	    "[profile bad]\n"
	    "role_arn = arn:aws:iam::123456789012:role/bad\n"
	    "source_profile = src\n"
	    "duration_seconds = 12\n");
	cl = aws_client_new(&o);
	T_EQ_INT(aws_creds_resolve(cl, "short", &c, &err), 0);
	if (err.message != NULL) {
		T_FAIL("assume role: %s: %s", err.code, err.message);
		aws_error_release(&err);
	}
	/* 900 s is inside the 5-minute margin only after 10 minutes. */
	T_OK(c.expires >= now + 880 && c.expires <= now + 960);
	aws_creds_release(&c);

	T_EQ_INT(aws_creds_resolve(cl, "bad", &c, &err), -1);
	T_EQ_STR(err.code, "InvalidConfig");
	T_OK(err.message && strstr(err.message, "duration_seconds"));
	aws_error_release(&err);

	/* A chain (outer -> inner -> src) and a profile that is its own
	 * source (its keys assume its role). */
	write_file("config",
	    "[profile src]\n"
	    "aws_access_key_id = AKIDSOURCE0000000000\n"
	    "aws_secret_access_key = " SECRET "\n"
	    "[profile inner]\n"
	    "role_arn = arn:aws:iam::123456789012:role/inner\n"
	    "source_profile = src\n"
	    "[profile outer]\n"
	    "role_arn = arn:aws:iam::123456789012:role/outer\n"
	    "source_profile = inner\n"
	    "[profile self]\n"
	    "role_arn = arn:aws:iam::123456789012:role/self\n"
	    "source_profile = self\n"
	    "aws_access_key_id = AKIDSELF000000000000\n"
	    "aws_secret_access_key = " SECRET "\n");
	T_EQ_INT(aws_creds_resolve(cl, "outer", &c, &err), 0);
	if (err.message != NULL) {
		T_FAIL("chain: %s: %s", err.code, err.message);
		aws_error_release(&err);
	}
	T_OK(c.source && strstr(c.source, "role/outer"));
	T_OK(c.session_token != NULL);
	aws_creds_release(&c);
	T_EQ_INT(aws_creds_resolve(cl, "self", &c, &err), 0);
	if (err.message != NULL) {
		T_FAIL("self: %s: %s", err.code, err.message);
		aws_error_release(&err);
	}
	T_OK(c.access_key && strcmp(c.access_key, "AKIDSELF000000000000") != 0);
	T_OK(c.source && strstr(c.source, "role/self"));
	aws_creds_release(&c);
	aws_client_free(cl);

	/* Nothing listens on the discard port. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
	write_file("config",
	    "[profile src]\n"
	    "aws_access_key_id = AKIDSOURCE0000000000\n"
	    "aws_secret_access_key = " SECRET "\n"
	    "aws_session_token = " TOKEN "\n"
	    "[profile role]\n"
	    "role_arn = arn:aws:iam::123456789012:role/down\n"
	    "source_profile = src\n");
	cl = aws_client_new(&o);
	T_EQ_INT(aws_creds_resolve(cl, "role", &c, &err), -1);
	T_OK(err.message && strstr(err.message, "profile 'role': cannot "
	    "assume role 'arn:aws:iam::123456789012:role/down'"));
	check_no_secret(&err);
	aws_error_release(&err);
	aws_client_free(cl);
}

int
main(int argc, char **argv)
{
	char tmpl[] = "/tmp/mlsh-test-creds.XXXXXX";

	if (argc == 3 && strcmp(argv[1], "--child-resolve") == 0)
		return child_resolve(argv[2]);
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tmp = tmpl;
	T_RUN(t_env);
	T_RUN(t_env_token);
	T_RUN(t_env_partial);
	T_RUN(t_profile_credentials_file);
	T_RUN(t_profile_config_file);
	T_RUN(t_profile_sections);
	T_RUN(t_profile_list);
	T_RUN(t_profile_explicit);
	T_RUN(t_profile_not_found);
	T_RUN(t_region_order);
	T_RUN(t_ini_nested);
	T_RUN(t_config_get_order);
	T_RUN(t_process_ok);
	T_RUN(t_process_exit);
	T_RUN(t_process_bad_json);
	T_RUN(t_process_timeout);
	T_RUN(t_no_creds);
	T_RUN(t_on_ec2);
	T_RUN(t_imds);
	T_RUN(t_role_config_errors);
	T_RUN(t_assume_role);
	T_RUN(t_assume_role_options);
	rmrf(tmp);
	free(dir);
	T_DONE();
}
