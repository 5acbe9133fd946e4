/* creds.c: the AWS SDK credential and region chain (see creds.h).
 *
 * Sources, in the SDKs' order: the environment; the profile from the shared
 * credentials and config files (within a profile, as botocore: role_arn,
 * then the credentials file's keys, then credential_process, then the config
 * file's keys); then IMDSv2, only on an EC2 machine. Assumed-role credentials
 * are cached in memory and on disk (XDG state dir, 0600 files) until five
 * minutes before they expire. Secrets never appear in an error message.
 *
 * Not thread-safe: the in-memory cache is a plain list, as the client is used
 * from one thread. */
#include "aws/creds.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "aws/ini.h"
#include "lib/util.h"

#define EXPIRY_MARGIN		300	/* refresh 5 min before expiry */
#define MAX_CHAIN		8	/* role_arn -> source_profile depth */
#define PROCESS_TIMEOUT_MS	60000
#define PROCESS_MAX_OUTPUT	(1 << 20)
#define IMDS_DEFAULT		"http://169.254.169.254"
#define IMDS_TIMEOUT_MS		1000
#define IMDS_MAX_BODY		65536
#define DMI_DIR			"/sys/devices/virtual/dmi/id"

/* Both shared files, loaded once per resolve. */
struct files {
	char *config_path, *creds_path;
	struct ini config, creds;
};

/* One resolve: the client for STS, the files, and the profiles on the way
 * (role_arn -> source_profile -> …) to catch loops. */
struct chain {
	struct aws_client *client;
	struct files *files;
	struct strlist visiting;	/* profiles being resolved: loop guard */
};

static int files_load(struct files *, struct aws_error *);
static void files_release(struct files *);
static const struct ini_section *config_section(const struct files *,
    const char *, int);
static const char *profile_get(const struct files *, const char *,
    const char *);
static int profile_exists(const struct files *, const char *);
static char *display_path(const char *);
static char *home_file(const char *);
static char *expand_home(const char *);

static int creds_from_env(struct aws_creds *, struct aws_error *);
static int creds_from_profile(struct chain *, const char *,
    struct aws_creds *, struct aws_error *);
static int creds_static(const struct ini_section *, const char *,
    const char *, const char *, struct aws_creds *, struct aws_error *);
static int creds_assume_role(struct chain *, const char *, const char *,
    struct aws_creds *, struct aws_error *);
static int creds_process(const char *, const char *, struct aws_creds *,
    struct aws_error *);
static int creds_imds(struct aws_creds *, char **);

static int cache_get(const char *, struct aws_creds *);
static void cache_put(const char *, const struct aws_creds *);
static char *cache_key(const char *, const char *, const char *,
    const char *, const char *, const char *);

static int run_process(const char *, long, struct buf *, struct buf *,
    int *, char **);
static int creds_from_json(const cJSON *, const char *, const char *,
    const char *, struct aws_creds *, char **);
static int parse_time(const char *, time_t *);
static void format_time(time_t, char[32]);
static void creds_copy(struct aws_creds *, const struct aws_creds *);
static void creds_clear(struct aws_creds *);
static const char *env(const char *);
static int fail(struct aws_error *, const char *, const char *, ...)
    MLSH_PRINTF(3, 4);
static char *first_line(const char *, size_t);
static void redact_output(char *, const char *, size_t);
static char *read_small(const char *, const char *);
static int dmi_is(const char *, const char *, const char *, int);

char *
aws_config_get(const char *profile, const char *key)
{
	struct files f;
	struct aws_error err = { 0 };
	const char *v;
	char *out;

	if (profile == NULL)
		profile = aws_profile_name(NULL);
	if (files_load(&f, &err) != 0) {
		free(err.code);
		free(err.message);
		return NULL;
	}
	v = profile_get(&f, profile, key);
	out = v ? xstrdup(v) : NULL;
	files_release(&f);
	return out;
}

int
aws_profile_exists(const char *profile)
{
	struct files f;
	struct aws_error err = { 0 };
	int yes;

	if (profile == NULL || *profile == '\0')
		return 0;
	if (files_load(&f, &err) != 0) {
		free(err.code);
		free(err.message);
		return 0;
	}
	yes = profile_exists(&f, profile);
	files_release(&f);
	return yes;
}

void
aws_profile_list(struct strlist *out)
{
	struct files f;
	struct strlist names;
	struct aws_error err = { 0 };

	if (files_load(&f, &err) != 0) {
		free(err.code);
		free(err.message);
		return;
	}
	strlist_init(&names);
	for (size_t i = 0; i < f.creds.n; i++)
		if (*f.creds.sections[i].name != '\0')
			strlist_add(&names, f.creds.sections[i].name);
	for (size_t i = 0; i < f.config.n; i++) {
		const char *s = f.config.sections[i].name;

		if (strcmp(s, "default") == 0)
			strlist_add(&names, s);
		else if (strncmp(s, "profile", 7) == 0 &&
		    (s[7] == ' ' || s[7] == '\t')) {
			for (s += 7; *s == ' ' || *s == '\t'; s++)
				;
			if (*s != '\0')
				strlist_add(&names, s);
		}
		/* "sso-session x", "services x" …: not profiles. */
	}
	strlist_sort(&names);
	strlist_uniq(&names);
	for (size_t i = 0; i < names.n; i++)
		strlist_add(out, names.v[i]);
	strlist_release(&names);
	files_release(&f);
}

char *
aws_region_resolve(const char *explicit_region, const char *profile)
{
	const char *v;
	char *r;

	if (explicit_region != NULL && *explicit_region != '\0')
		return xstrdup(explicit_region);
	if ((v = env("AWS_REGION")) != NULL)
		return xstrdup(v);
	if ((v = env("AWS_DEFAULT_REGION")) != NULL)
		return xstrdup(v);
	r = aws_config_get(aws_profile_name(profile), "region");
	if (r != NULL && *r != '\0')
		return r;
	free(r);
	return xstrdup("us-east-1");
}

const char *
aws_profile_name(const char *explicit_profile)
{
	const char *v;

	if (explicit_profile != NULL && *explicit_profile != '\0')
		return explicit_profile;
	if ((v = env("AWS_PROFILE")) != NULL)
		return v;
	return "default";
}

int
aws_creds_resolve(struct aws_client *c, const char *profile,
    struct aws_creds *out, struct aws_error *err)
{
	struct files f;
	struct chain ch;
	struct buf tried;
	const char *name = aws_profile_name(profile);
	char *cp, *kp, *cause = NULL;
	const char *off;
	int r, explicit;

	memset(out, 0, sizeof *out);
	/* As botocore: a profile given explicitly (not through AWS_PROFILE)
	 * outranks the environment's keys. */
	explicit = profile != NULL && *profile != '\0' &&
	    strcmp(profile, aws_profile_name(NULL)) != 0;
	buf_init(&tried);
	if (explicit)
		buf_adds(&tried, "environment (skipped for an explicit profile)");
	else {
		if ((r = creds_from_env(out, err)) != 0) {
			buf_release(&tried);
			return r > 0 ? 0 : -1;
		}
		buf_adds(&tried, "environment (AWS_ACCESS_KEY_ID)");
	}

	if (files_load(&f, err) != 0) {
		buf_release(&tried);
		return -1;
	}
	ch.client = c;
	ch.files = &f;
	strlist_init(&ch.visiting);
	r = creds_from_profile(&ch, name, out, err);
	strlist_release(&ch.visiting);
	cp = display_path(f.creds_path);
	kp = display_path(f.config_path);
	if (r == 0 && strcmp(name, "default") != 0 && !profile_exists(&f, name))
		r = fail(err, "ProfileNotFound", "profile '%s' not found in %s "
		    "or %s", name, cp, kp);
	else if (r == 0)
		buf_printf(&tried, ", profile '%s' in %s and %s%s", name, cp, kp,
		    profile_exists(&f, name) ? " (no keys, role_arn or "
		    "credential_process)" : "");
	free(cp);
	free(kp);
	files_release(&f);
	if (r != 0) {
		buf_release(&tried);
		return r > 0 ? 0 : -1;
	}

	if (!aws_on_ec2())
		buf_adds(&tried, ", IMDS (not an EC2 instance)");
	else if ((off = env("AWS_EC2_METADATA_DISABLED")) != NULL &&
	    strcasecmp(off, "true") == 0)
		buf_adds(&tried, ", IMDS (AWS_EC2_METADATA_DISABLED)");
	else if (creds_imds(out, &cause) == 0) {
		buf_release(&tried);
		return 0;
	} else {
		buf_printf(&tried, ", IMDS (%s)", cause);
		free(cause);
	}
	fail(err, "NoCredentials", "no credentials: tried %s", tried.data);
	buf_release(&tried);
	return -1;
}

int
aws_on_ec2(void)
{
	const char *dir = env("MLSH_DMI_DIR");

	if (dir == NULL)
		dir = DMI_DIR;
	if (dmi_is(dir, "sys_vendor", "Amazon EC2", 0) ||
	    dmi_is(dir, "bios_vendor", "Amazon EC2", 0) ||
	    dmi_is(dir, "board_asset_tag", "i-", 1) ||
	    dmi_is(dir, "product_uuid", "ec2", 1))
		return 1;
	/* Older Xen instances show it only under /sys/hypervisor. */
	return env("MLSH_DMI_DIR") == NULL &&
	    dmi_is("/sys/hypervisor", "uuid", "ec2", 1);
}

/* 1 with *out filled, 0 when the environment has no keys, -1 on a half set. */
static int
creds_from_env(struct aws_creds *out, struct aws_error *err)
{
	const char *id = env("AWS_ACCESS_KEY_ID");
	const char *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");

	if (id == NULL && secret == NULL)
		return 0;
	if (secret == NULL)
		return fail(err, "InvalidCredentials", "AWS_ACCESS_KEY_ID is "
		    "set but AWS_SECRET_ACCESS_KEY is not");
	if (id == NULL)
		return fail(err, "InvalidCredentials", "AWS_SECRET_ACCESS_KEY is "
		    "set but AWS_ACCESS_KEY_ID is not");
	out->access_key = xstrdup(id);
	out->secret_key = xstrdup(secret);
	out->session_token = token ? xstrdup(token) : NULL;
	out->expires = 0;
	out->source = xstrdup("environment");
	return 1;
}

/* 1 with *out filled, 0 when the profile yields nothing, -1 on error. */
static int
creds_from_profile(struct chain *ch, const char *name, struct aws_creds *out,
    struct aws_error *err)
{
	const struct files *f = ch->files;
	const struct ini_section *cs = ini_section(&f->creds, name);
	const struct ini_section *conf = config_section(f, name, 0);
	const struct ini_section *conf_default = config_section(f, name, 1);
	const char *role_arn = profile_get(f, name, "role_arn");
	const char *process;
	int r;

	if (role_arn != NULL && *role_arn != '\0' &&
	    !strlist_has(&ch->visiting, name))
		return creds_assume_role(ch, name, role_arn, out, err);

	r = creds_static(cs, name, "profile", f->creds_path, out, err);
	if (r != 0)
		return r;
	process = profile_get(f, name, "credential_process");
	if (process != NULL && *process != '\0')
		return creds_process(name, process, out, err);
	r = creds_static(conf, name, "profile", f->config_path, out, err);
	if (r == 0)
		r = creds_static(conf_default, name, "profile", f->config_path,
		    out, err);
	return r;
}

/* Static keys of one section. 1 found, 0 none, -1 when only half present. */
static int
creds_static(const struct ini_section *sec, const char *name,
    const char *what, const char *path, struct aws_creds *out,
    struct aws_error *err)
{
	const char *id = ini_get(sec, "aws_access_key_id");
	const char *secret = ini_get(sec, "aws_secret_access_key");
	const char *token = ini_get(sec, "aws_session_token");
	char *p;

	if (id != NULL && *id == '\0')
		id = NULL;
	if (secret != NULL && *secret == '\0')
		secret = NULL;
	if (id == NULL && secret == NULL)
		return 0;
	if (id == NULL || secret == NULL) {
		p = display_path(path);
		fail(err, "InvalidCredentials", "%s '%s' in %s has %s but no %s",
		    what, name, p, id ? "aws_access_key_id" :
		    "aws_secret_access_key", id ? "aws_secret_access_key" :
		    "aws_access_key_id");
		free(p);
		return -1;
	}
	out->access_key = xstrdup(id);
	out->secret_key = xstrdup(secret);
	out->session_token = token && *token ? xstrdup(token) : NULL;
	out->expires = 0;
	out->source = xasprintf("profile %s", name);
	return 1;
}

/* role_arn: the source profile's credentials, then STS AssumeRole, with the
 * result cached in memory and on disk. */
static int
creds_assume_role(struct chain *ch, const char *name, const char *role_arn,
    struct aws_creds *out, struct aws_error *err)
{
	const struct files *f = ch->files;
	const char *src = profile_get(f, name, "source_profile");
	const char *csrc = profile_get(f, name, "credential_source");
	const char *session = profile_get(f, name, "role_session_name");
	const char *external = profile_get(f, name, "external_id");
	const char *duration = profile_get(f, name, "duration_seconds");
	struct aws_creds base = { 0 };
	cJSON *params, *res = NULL, *cr;
	char *key, *cause = NULL, *m;
	int r;

	if (profile_get(f, name, "mfa_serial") != NULL)
		return fail(err, "InvalidConfig", "profile '%s': mfa_serial is "
		    "not supported", name);
	if (duration != NULL && *duration != '\0') {
		char *end;
		long d = strtol(duration, &end, 10);

		if (*end != '\0' || d < 900 || d > 43200)
			return fail(err, "InvalidConfig", "profile '%s': "
			    "duration_seconds '%s' is not a number of seconds "
			    "from 900 to 43200", name, duration);
	}

	key = cache_key(name, role_arn, src ? src : csrc, session, external,
	    duration);
	if (cache_get(key, out)) {
		free(key);
		return 1;
	}

	/* Credentials to call STS with. */
	if (src != NULL && *src != '\0') {
		if (ch->visiting.n >= MAX_CHAIN || (strlist_has(&ch->visiting,
		    src) && strcmp(src, name) != 0)) {
			struct buf b;

			buf_init(&b);
			for (size_t i = 0; i < ch->visiting.n; i++)
				buf_printf(&b, "%s -> ", ch->visiting.v[i]);
			buf_printf(&b, "%s -> %s", name, src);
			fail(err, "InvalidConfig", "source_profile loop: %s",
			    b.data);
			buf_release(&b);
			free(key);
			return -1;
		}
		strlist_add(&ch->visiting, name);
		if (strcmp(src, name) == 0) {
			/* source_profile naming itself means its own keys. */
			const struct ini_section *s = ini_section(&f->creds, name);

			r = creds_static(s, name, "profile", f->creds_path, &base,
			    err);
			if (r == 0)
				r = creds_static(config_section(f, name, 0), name,
				    "profile", f->config_path, &base, err);
		} else
			r = creds_from_profile(ch, src, &base, err);
		ch->visiting.n--;
		free(ch->visiting.v[ch->visiting.n]);
		ch->visiting.v[ch->visiting.n] = NULL;
		if (r == 0)
			fail(err, profile_exists(f, src) ? "NoCredentials" :
			    "ProfileNotFound", "profile '%s': source_profile "
			    "'%s' %s", name, src, profile_exists(f, src) ?
			    "has no credentials" : "not found");
	} else if (csrc != NULL && strcasecmp(csrc, "Environment") == 0) {
		r = creds_from_env(&base, err);
		if (r == 0)
			fail(err, "NoCredentials", "profile '%s': credential_source "
			    "Environment but AWS_ACCESS_KEY_ID is not set", name);
	} else if (csrc != NULL && strcasecmp(csrc, "Ec2InstanceMetadata") == 0) {
		if (!aws_on_ec2())
			r = fail(err, "NoCredentials", "profile '%s': "
			    "credential_source Ec2InstanceMetadata but this is "
			    "not an EC2 instance", name);
		else if (creds_imds(&base, &cause) == 0)
			r = 1;
		else {
			r = fail(err, "NoCredentials", "profile '%s': IMDS: %s",
			    name, cause);
			free(cause);
		}
	} else if (csrc != NULL)
		r = fail(err, "InvalidConfig", "profile '%s': credential_source "
		    "'%s' is not supported", name, csrc);
	else
		r = fail(err, "InvalidConfig", "profile '%s' has role_arn but "
		    "no source_profile", name);
	if (r <= 0) {
		creds_clear(&base);
		free(key);
		return -1;
	}
	if (ch->client == NULL) {
		creds_clear(&base);
		free(key);
		return fail(err, "InvalidConfig", "profile '%s': no client to "
		    "call STS AssumeRole with", name);
	}

	params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "RoleArn", role_arn);
	if (session != NULL && *session != '\0')
		cJSON_AddStringToObject(params, "RoleSessionName", session);
	else {
		m = xasprintf("mlsh-%lld", (long long)time(NULL));
		cJSON_AddStringToObject(params, "RoleSessionName", m);
		free(m);
	}
	if (external != NULL && *external != '\0')
		cJSON_AddStringToObject(params, "ExternalId", external);
	if (duration != NULL && *duration != '\0')
		cJSON_AddStringToObject(params, "DurationSeconds", duration);
	r = aws_call_with_creds(ch->client, &base, "sts", "AssumeRole", params,
	    &res, err);
	cJSON_Delete(params);
	creds_clear(&base);
	if (r != 0) {
		m = xasprintf("profile '%s': cannot assume role '%s': %s", name,
		    role_arn, err->message ? err->message : "(no message)");
		free(err->message);
		err->message = m;
		cJSON_Delete(res);
		free(key);
		return -1;
	}
	cr = cJSON_GetObjectItemCaseSensitive(res, "Credentials");
	if (cr == NULL)	/* a layer that kept the wrapper */
		cr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		    res, "AssumeRoleResult"), "Credentials");
	m = xasprintf("assume-role %s (profile %s)", role_arn, name);
	if (creds_from_json(cr, "AccessKeyId", "SecretAccessKey",
	    "SessionToken", out, &cause) != 0) {
		fail(err, "InvalidResponse", "profile '%s': AssumeRole answer "
		    "%s", name, cause);
		free(cause);
		free(m);
		cJSON_Delete(res);
		free(key);
		return -1;
	}
	cJSON_Delete(res);
	out->source = m;
	cache_put(key, out);
	free(key);
	return 1;
}

/* credential_process: run it through /bin/sh with a timeout and read the
 * AWS CLI's JSON from its stdout. */
static int
creds_process(const char *name, const char *cmd, struct aws_creds *out,
    struct aws_error *err)
{
	struct buf o, e;
	const char *t = env("MLSH_CREDENTIAL_PROCESS_TIMEOUT_MS");
	long timeout = t ? strtol(t, NULL, 10) : PROCESS_TIMEOUT_MS;
	char *cause = NULL, *line;
	cJSON *j, *v;
	int status, r = -1;

	if (timeout <= 0)
		timeout = PROCESS_TIMEOUT_MS;
	buf_init(&o);
	buf_init(&e);
	if (run_process(cmd, timeout, &o, &e, &status, &cause) != 0) {
		fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process %s", name, cause);
		free(cause);
		goto out;
	}
	if (status != 0) {
		line = first_line(e.data, e.len);
		redact_output(line, o.data, o.len);
		if (WIFSIGNALED(status))
			fail(err, "CredentialProcessError", "profile '%s': "
			    "credential_process killed by signal %d%s%s", name,
			    WTERMSIG(status), *line ? ": " : "", line);
		else
			fail(err, "CredentialProcessError", "profile '%s': "
			    "credential_process exited with status %d%s%s", name,
			    WEXITSTATUS(status), *line ? ": " : "", line);
		free(line);
		goto out;
	}
	if ((j = cJSON_ParseWithLength(o.data, o.len)) == NULL ||
	    !cJSON_IsObject(j)) {
		fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output is not a JSON object", name);
		cJSON_Delete(j);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(j, "Version");
	if (!cJSON_IsNumber(v) || v->valuedouble != 1)
		fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output has no \"Version\": 1", name);
	else if (creds_from_json(j, "AccessKeyId", "SecretAccessKey",
	    "SessionToken", out, &cause) != 0) {
		fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process output %s", name, cause);
		free(cause);
	} else if (out->expires != 0 && out->expires <= time(NULL)) {
		creds_clear(out);
		fail(err, "CredentialProcessError", "profile '%s': "
		    "credential_process gave expired credentials", name);
	} else {
		out->source = xasprintf("credential_process (profile %s)", name);
		r = 1;
	}
	cJSON_Delete(j);
out:
	explicit_bzero(o.data, o.len);
	buf_release(&o);
	buf_release(&e);
	return r;
}

/* IMDSv2: token, role name, role credentials; 1 s per request. */
struct imds_body {
	struct buf b;
	int overflow;
};

static size_t
imds_write(char *p, size_t size, size_t n, void *arg)
{
	struct imds_body *body = arg;

	if (body->b.len + size * n > IMDS_MAX_BODY) {
		body->overflow = 1;
		return 0;
	}
	buf_add(&body->b, p, size * n);
	return size * n;
}

static int
imds_request(CURL *curl, const char *method, const char *url,
    const char *header, struct buf *out, char **cause)
{
	struct curl_slist *h = NULL;
	struct imds_body body;
	CURLcode rc;
	long status = 0;

	buf_init(&body.b);
	body.overflow = 0;
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	h = curl_slist_append(h, header);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)IMDS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)IMDS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROXY, "");	/* never via a proxy */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, imds_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(curl);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		*cause = xasprintf("%s", body.overflow ? "answer too large" :
		    curl_easy_strerror(rc));
		buf_release(&body.b);
		return -1;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		*cause = xasprintf("HTTP %ld", status);
		buf_release(&body.b);
		return -1;
	}
	*out = body.b;
	return 0;
}

static int
creds_imds(struct aws_creds *out, char **cause)
{
	const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct buf token = { 0 }, roles = { 0 }, doc = { 0 };
	char *base, *url, *hdr = NULL, *role = NULL, *why = NULL;
	size_t n;
	cJSON *j = NULL, *code;
	CURL *curl;
	int r = -1;

	base = xstrdup(ep ? ep : IMDS_DEFAULT);
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	if ((curl = curl_easy_init()) == NULL) {
		*cause = xstrdup("cannot start libcurl");
		free(base);
		return -1;
	}
	url = xasprintf("%s/latest/api/token", base);
	if (imds_request(curl, "PUT", url,
	    "X-aws-ec2-metadata-token-ttl-seconds: 21600", &token, &why) != 0) {
		*cause = xasprintf("token: %s", why);
		goto out;
	}
	hdr = xasprintf("X-aws-ec2-metadata-token: %s", token.data);
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/", base);
	if (imds_request(curl, "GET", url, hdr, &roles, &why) != 0) {
		*cause = xasprintf("role: %s", why);
		goto out;
	}
	role = first_line(roles.data, roles.len);
	if (*role == '\0' || strchr(role, '/') != NULL) {
		*cause = xstrdup("no IAM role attached");
		goto out;
	}
	free(url);
	url = xasprintf("%s/latest/meta-data/iam/security-credentials/%s", base,
	    role);
	if (imds_request(curl, "GET", url, hdr, &doc, &why) != 0) {
		*cause = xasprintf("role '%s': %s", role, why);
		goto out;
	}
	j = cJSON_ParseWithLength(doc.data, doc.len);
	code = cJSON_GetObjectItemCaseSensitive(j, "Code");
	if (j == NULL)
		*cause = xasprintf("role '%s': answer is not JSON", role);
	else if (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0)
		*cause = xasprintf("role '%s': %s", role, code->valuestring);
	else if (creds_from_json(j, "AccessKeyId", "SecretAccessKey", "Token",
	    out, &why) != 0) {
		*cause = xasprintf("role '%s': answer %s", role, why);
	} else {
		out->source = xasprintf("imds role %s", role);
		r = 0;
	}
out:
	free(why);
	cJSON_Delete(j);
	if (doc.data != NULL) {
		explicit_bzero(doc.data, doc.len);
		buf_release(&doc);
	}
	if (roles.data != NULL)
		buf_release(&roles);
	if (token.data != NULL)
		buf_release(&token);
	free(role);
	free(hdr);
	free(url);
	free(base);
	curl_easy_cleanup(curl);
	return r;
}

/* In-memory cache of assumed-role credentials, then the disk cache. */
struct mem_entry {
	char *key;
	struct aws_creds creds;
	struct mem_entry *next;
};
static struct mem_entry *mem_cache;

static int
fresh(const struct aws_creds *c)
{
	return c->expires == 0 || time(NULL) < c->expires - EXPIRY_MARGIN;
}

static char *
cache_dir(void)
{
	const char *x = env("XDG_STATE_HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/mlsh/cache", x);
	return home_file(".local/state/mlsh/cache");
}

static int
cache_get(const char *key, struct aws_creds *out)
{
	struct mem_entry *e;
	struct stat st;
	char *dir, *path, *cause = NULL;
	struct buf text = { 0 };
	cJSON *j = NULL;
	int fd, ok = 0;

	for (e = mem_cache; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0 && fresh(&e->creds)) {
			creds_copy(out, &e->creds);
			return 1;
		}
	dir = cache_dir();
	path = xasprintf("%s/%s.json", dir, key);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	/* Only a private regular file of ours is trusted. */
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == getuid() && (st.st_mode & 077) == 0 &&
	    st.st_size < 65536) {
		char chunk[4096];
		ssize_t n;

		buf_init(&text);
		while ((n = read(fd, chunk, sizeof chunk)) > 0 ||
		    (n < 0 && errno == EINTR))
			if (n > 0)
				buf_add(&text, chunk, (size_t)n);
		explicit_bzero(chunk, sizeof chunk);
	}
	if (fd >= 0)
		close(fd);
	if (text.data != NULL && (j = cJSON_Parse(text.data)) != NULL &&
	    creds_from_json(cJSON_GetObjectItemCaseSensitive(j, "Credentials"),
	    "AccessKeyId", "SecretAccessKey", "SessionToken", out, &cause) == 0) {
		if (out->expires != 0 && fresh(out)) {
			cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "Source");

			out->source = xasprintf("%s, cached",
			    cJSON_IsString(s) ? s->valuestring : "assume-role");
			ok = 1;
			/* Keep it in memory too. */
			e = xcalloc(1, sizeof *e);
			e->key = xstrdup(key);
			creds_copy(&e->creds, out);
			e->next = mem_cache;
			mem_cache = e;
		} else
			creds_clear(out);
	}
	free(cause);
	cJSON_Delete(j);
	if (text.data != NULL) {
		explicit_bzero(text.data, text.len);
		buf_release(&text);
	}
	free(path);
	free(dir);
	return ok;
}

/* Best effort: a cache that cannot be written only costs a later call. */
static void
cache_put(const char *key, const struct aws_creds *c)
{
	struct mem_entry *e, **pp;
	char *dir, *path = NULL, *tmp = NULL, *text = NULL, *cause = NULL;
	char when[32];
	cJSON *j, *cr;
	int fd;

	for (pp = &mem_cache; (e = *pp) != NULL; pp = &e->next)
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			creds_clear(&e->creds);
			free(e->key);
			free(e);
			break;
		}
	e = xcalloc(1, sizeof *e);
	e->key = xstrdup(key);
	creds_copy(&e->creds, c);
	e->next = mem_cache;
	mem_cache = e;

	if (c->expires == 0)
		return;
	dir = cache_dir();
	if (mkdir_p(dir, 0700, &cause) != 0 || chmod(dir, 0700) != 0)
		goto out;
	path = xasprintf("%s/%s.json", dir, key);
	tmp = xasprintf("%s/.%s.XXXXXX", dir, key);
	if ((fd = mkstemp(tmp)) < 0)
		goto out;
	format_time(c->expires, when);
	j = cJSON_CreateObject();
	cr = cJSON_AddObjectToObject(j, "Credentials");
	cJSON_AddStringToObject(cr, "AccessKeyId", c->access_key);
	cJSON_AddStringToObject(cr, "SecretAccessKey", c->secret_key);
	if (c->session_token != NULL)
		cJSON_AddStringToObject(cr, "SessionToken", c->session_token);
	cJSON_AddStringToObject(cr, "Expiration", when);
	cJSON_AddStringToObject(j, "Source", c->source ? c->source : "");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (fchmod(fd, 0600) != 0 || write(fd, text, strlen(text)) !=
	    (ssize_t)strlen(text) || close(fd) != 0 || rename(tmp, path) != 0)
		unlink(tmp);
out:
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	free(cause);
	free(tmp);
	free(path);
	free(dir);
}

/* Hex SHA-256 of everything that makes the assumed role what it is. */
static char *
cache_key(const char *profile, const char *role_arn, const char *source,
    const char *session, const char *external, const char *duration)
{
	const char *parts[] = { profile, role_arn, source, session, external,
	    duration };
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct buf b;
	char *hex;

	buf_init(&b);
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		buf_adds(&b, parts[i] ? parts[i] : "");
		buf_addc(&b, '\n');
	}
	EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha256(), NULL);
	buf_release(&b);
	hex = xmalloc(mdlen * 2 + 1);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	hex[mdlen * 2] = '\0';
	return hex;
}

/* Run cmd with /bin/sh -c in its own process group, stdin from /dev/null,
 * collecting stdout and stderr. 0 with *status, or -1 with *cause (timeout,
 * fork failure). */
static int
run_process(const char *cmd, long timeout_ms, struct buf *out, struct buf *err,
    int *status, char **cause)
{
	int op[2], ep[2];
	pid_t pid;
	double deadline = now_ms() + (double)timeout_ms;
	struct pollfd pfd[2];
	int open_fds = 2, timed_out = 0;

	if (pipe2(op, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC) != 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		close(op[0]);
		close(op[1]);
		return -1;
	}
	if ((pid = fork()) < 0) {
		*cause = xasprintf("cannot start: %s", strerror(errno));
		close(op[0]);
		close(op[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(op[1]);
	close(ep[1]);
	pfd[0].fd = op[0];
	pfd[1].fd = ep[0];
	pfd[0].events = pfd[1].events = POLLIN;
	while (open_fds > 0) {
		double left = deadline - now_ms();
		char chunk[4096];

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(pfd, 2, left > 1000 ? 1000 : (int)left + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			struct buf *b = i == 0 ? out : err;

			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			n = read(pfd[i].fd, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
				continue;
			}
			if (b->len < PROCESS_MAX_OUTPUT)
				buf_add(b, chunk, (size_t)n);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	/* Outputs closed; wait for the exit, still within the deadline. */
	for (;;) {
		pid_t w;

		if (!timed_out && (w = waitpid(pid, status, WNOHANG)) != 0) {
			if (w == pid)
				return 0;
			if (w < 0 && errno == EINTR)
				continue;
			/* ECHILD: someone else reaped it (SIGCHLD ignored);
			 * judge by the output alone. */
			*status = 0;
			return 0;
		}
		if (timed_out || now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			*cause = xasprintf("timed out after %ld ms", timeout_ms);
			return -1;
		}
		poll(NULL, 0, 10);
	}
}

/* Fill the keys of *out from a JSON object; "Expiration" (ISO 8601) when
 * present. -1 with *cause naming what is missing, never a value. */
static int
creds_from_json(const cJSON *o, const char *id_key, const char *secret_key,
    const char *token_key, struct aws_creds *out, char **cause)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, id_key);
	const cJSON *secret = cJSON_GetObjectItemCaseSensitive(o, secret_key);
	const cJSON *token = cJSON_GetObjectItemCaseSensitive(o, token_key);
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "Expiration");
	time_t t = 0;

	if (!cJSON_IsObject(o)) {
		*cause = xstrdup("has no credentials");
		return -1;
	}
	if (!cJSON_IsString(id) || *id->valuestring == '\0') {
		*cause = xasprintf("lacks %s", id_key);
		return -1;
	}
	if (!cJSON_IsString(secret) || *secret->valuestring == '\0') {
		*cause = xasprintf("lacks %s", secret_key);
		return -1;
	}
	if (exp != NULL && !cJSON_IsNull(exp) && (!cJSON_IsString(exp) ||
	    parse_time(exp->valuestring, &t) != 0)) {
		*cause = xstrdup("has an Expiration that is not an ISO 8601 time");
		return -1;
	}
	out->access_key = xstrdup(id->valuestring);
	out->secret_key = xstrdup(secret->valuestring);
	out->session_token = cJSON_IsString(token) && *token->valuestring ?
	    xstrdup(token->valuestring) : NULL;
	out->expires = t;
	out->source = NULL;
	return 0;
}

/* "2026-11-29T17:24:11Z", with optional fraction and "+hh:mm" offset. */
static int
parse_time(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	const char *p;
	char sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' ? 0 : -1;
	if (*p == '\0')
		return 0;
	sign = *p;
	if ((sign != '+' && sign != '-') ||
	    sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
		return -1;
	*out += (sign == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	return 0;
}

static void
format_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
files_load(struct files *f, struct aws_error *err)
{
	const char *p;
	char *cause = NULL;

	memset(f, 0, sizeof *f);
	p = env("AWS_CONFIG_FILE");
	f->config_path = p ? expand_home(p) : home_file(".aws/config");
	p = env("AWS_SHARED_CREDENTIALS_FILE");
	f->creds_path = p ? expand_home(p) : home_file(".aws/credentials");
	if (ini_load(&f->config, f->config_path, &cause) != 0 ||
	    ini_load(&f->creds, f->creds_path, &cause) != 0) {
		fail(err, "InvalidConfig", "%s", cause);
		free(cause);
		files_release(f);
		return -1;
	}
	return 0;
}

static void
files_release(struct files *f)
{
	ini_release(&f->config);
	ini_release(&f->creds);
	free(f->config_path);
	free(f->creds_path);
	memset(f, 0, sizeof *f);
}

/* The config file's section for a profile: "[profile NAME]" (any blanks
 * after "profile"); with want_default, "[default]" for "default". */
static const struct ini_section *
config_section(const struct files *f, const char *name, int want_default)
{
	if (want_default)
		return strcmp(name, "default") == 0 ?
		    ini_section(&f->config, "default") : NULL;
	for (size_t i = 0; i < f->config.n; i++) {
		const char *s = f->config.sections[i].name;

		if (strncmp(s, "profile", 7) != 0 || (s[7] != ' ' && s[7] != '\t'))
			continue;
		for (s += 7; *s == ' ' || *s == '\t'; s++)
			;
		if (strcmp(s, name) == 0)
			return &f->config.sections[i];
	}
	return NULL;
}

static int
is_secret_key(const char *key)
{
	return strcasecmp(key, "aws_access_key_id") == 0 ||
	    strcasecmp(key, "aws_secret_access_key") == 0 ||
	    strcasecmp(key, "aws_session_token") == 0;
}

/* Keys: the credentials file first; anything else: the config file first. */
static const char *
profile_get(const struct files *f, const char *name, const char *key)
{
	const char *conf, *cred;

	conf = ini_get(config_section(f, name, 0), key);
	if (conf == NULL)
		conf = ini_get(config_section(f, name, 1), key);
	cred = ini_get(ini_section(&f->creds, name), key);
	if (is_secret_key(key))
		return cred ? cred : conf;
	return conf ? conf : cred;
}

static int
profile_exists(const struct files *f, const char *name)
{
	return ini_section(&f->creds, name) != NULL ||
	    config_section(f, name, 0) != NULL ||
	    config_section(f, name, 1) != NULL;
}

/* "~/.aws/config" for the user's own files, the path otherwise. */
static char *
display_path(const char *path)
{
	char *home = home_file("");
	size_t n = strlen(home);

	if (n > 1 && strncmp(path, home, n) == 0 && path[n - 1] == '/') {
		char *d = xasprintf("~/%s", path + n);

		free(home);
		return d;
	}
	free(home);
	return xstrdup(path);
}

/* $HOME/rel (the passwd entry when HOME is unset). */
static char *
home_file(const char *rel)
{
	const char *h = env("HOME");
	struct passwd *pw;

	if (h == NULL && (pw = getpwuid(getuid())) != NULL)
		h = pw->pw_dir;
	if (h == NULL)
		h = "/";
	return xasprintf("%s%s%s", h, str_endswith(h, "/") ? "" : "/", rel);
}

static char *
expand_home(const char *p)
{
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
		return home_file(p[1] ? p + 2 : "");
	return xstrdup(p);
}

static void
creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	dst->access_key = src->access_key ? xstrdup(src->access_key) : NULL;
	dst->secret_key = src->secret_key ? xstrdup(src->secret_key) : NULL;
	dst->session_token = src->session_token ?
	    xstrdup(src->session_token) : NULL;
	dst->expires = src->expires;
	dst->source = src->source ? xstrdup(src->source) : NULL;
}

/* Like aws_creds_release, with the secrets wiped first. */
static void
creds_clear(struct aws_creds *c)
{
	if (c->secret_key != NULL)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	if (c->session_token != NULL)
		explicit_bzero(c->session_token, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->source);
	memset(c, 0, sizeof *c);
}

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
fail(struct aws_error *err, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *m;

	memset(err, 0, sizeof *err);
	err->code = xstrdup(code);
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	/* May quote a credential process or the metadata service. */
	err->message = str_sanitize(m, 0);
	free(m);
	return -1;
}

/* Blank out in line any secret the process printed on stdout, in case it
 * echoed it to stderr too. */
static void
redact_output(char *line, const char *out, size_t len)
{
	static const char *const keys[] = { "SecretAccessKey", "SessionToken",
	    NULL };
	cJSON *j = cJSON_ParseWithLength(out, len);

	for (int i = 0; j != NULL && keys[i] != NULL; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
		size_t n;
		char *p;

		if (!cJSON_IsString(v) || (n = strlen(v->valuestring)) == 0)
			continue;
		while ((p = strstr(line, v->valuestring)) != NULL)
			memset(p, '*', n);
	}
	cJSON_Delete(j);
}

/* The first non-blank line of s, trimmed, at most 200 bytes. */
static char *
first_line(const char *s, size_t len)
{
	const char *e = s + len, *le;

	while (s < e && isspace((unsigned char)*s))
		s++;
	for (le = s; le < e && *le != '\n' && *le != '\r'; le++)
		;
	while (le > s && isspace((unsigned char)le[-1]))
		le--;
	return xstrndup(s, (size_t)(le - s) > 200 ? 200 : (size_t)(le - s));
}

/* Whether dir/name reads value (or, with prefix, starts with it; any case). */
static int
dmi_is(const char *dir, const char *name, const char *value, int prefix)
{
	char *v = read_small(dir, name);
	int yes;

	if (v == NULL)
		return 0;
	yes = prefix ? strncasecmp(v, value, strlen(value)) == 0 :
	    strcmp(v, value) == 0;
	free(v);
	return yes;
}

/* A small sysfs-style file, trimmed; NULL when unreadable. */
static char *
read_small(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *cause = NULL, *text;
	size_t len = 0;

	text = file_read(path, &len, &cause);
	free(path);
	free(cause);
	if (text == NULL)
		return NULL;
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
	return text;
}
