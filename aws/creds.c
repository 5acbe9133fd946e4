/* creds.c: the AWS SDK credential chain (see creds.h).
 *
 * Sources, in the SDKs' order: the environment; the profile from the shared
 * credentials and config files (within a profile, as botocore: role_arn,
 * then the credentials file's keys, then credential_process, then the config
 * file's keys); then IMDSv2, only on an EC2 machine. The sources live in
 * their own files (credsrc.h): profiles.c (the shared files, region),
 * assume_role.c (STS and its cache), credproc.c (credential_process),
 * imds.c. Secrets never appear in an error message. */
#include "aws/credsrc.h"


#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define DMI_DIR			"/sys/devices/virtual/dmi/id"

static int dmi_is(const char *dir, const char *name, const char *value,
    int prefix);
static char *read_small(const char *dir, const char *name);

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

	if (creds_files_load(&f, err) != 0) {
		buf_release(&tried);
		return -1;
	}
	ch.client = c;
	ch.files = &f;
	strlist_init(&ch.visiting);
	r = creds_from_profile(&ch, name, out, err);
	strlist_release(&ch.visiting);
	cp = creds_display_path(f.creds_path);
	kp = creds_display_path(f.config_path);
	if (r == 0 && strcmp(name, "default") != 0 && !creds_profile_exists(&f, name))
		r = creds_fail(err, "ProfileNotFound", "profile '%s' not found in %s "
		    "or %s", name, cp, kp);
	else if (r == 0)
		buf_printf(&tried, ", profile '%s' in %s and %s%s", name, cp, kp,
		    creds_profile_exists(&f, name) ? " (no keys, role_arn or "
		    "credential_process)" : "");
	free(cp);
	free(kp);
	creds_files_release(&f);
	if (r != 0) {
		buf_release(&tried);
		return r > 0 ? 0 : -1;
	}

	if (!aws_on_ec2())
		buf_adds(&tried, ", IMDS (not an EC2 instance)");
	else if ((off = creds_getenv("AWS_EC2_METADATA_DISABLED")) != NULL &&
	    strcasecmp(off, "true") == 0)
		buf_adds(&tried, ", IMDS (AWS_EC2_METADATA_DISABLED)");
	else if (creds_imds(out, &cause) == 0) {
		buf_release(&tried);
		return 0;
	} else {
		buf_printf(&tried, ", IMDS (%s)", cause);
		free(cause);
	}
	creds_fail(err, "NoCredentials", "no credentials: tried %s", tried.data);
	buf_release(&tried);
	return -1;
}

int
aws_on_ec2(void)
{
	const char *dir = creds_getenv("MLSH_DMI_DIR");

	if (dir == NULL)
		dir = DMI_DIR;
	if (dmi_is(dir, "sys_vendor", "Amazon EC2", 0) ||
	    dmi_is(dir, "bios_vendor", "Amazon EC2", 0) ||
	    dmi_is(dir, "board_asset_tag", "i-", 1) ||
	    dmi_is(dir, "product_uuid", "ec2", 1))
		return 1;
	/* Older Xen instances show it only under /sys/hypervisor. */
	return creds_getenv("MLSH_DMI_DIR") == NULL &&
	    dmi_is("/sys/hypervisor", "uuid", "ec2", 1);
}

/* 1 with *out filled, 0 when the environment has no keys, -1 on a half set. */
int
creds_from_env(struct aws_creds *out, struct aws_error *err)
{
	const char *id = creds_getenv("AWS_ACCESS_KEY_ID");
	const char *secret = creds_getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = creds_getenv("AWS_SESSION_TOKEN");

	if (id == NULL && secret == NULL)
		return 0;
	if (secret == NULL)
		return creds_fail(err, "InvalidCredentials", "AWS_ACCESS_KEY_ID is "
		    "set but AWS_SECRET_ACCESS_KEY is not");
	if (id == NULL)
		return creds_fail(err, "InvalidCredentials", "AWS_SECRET_ACCESS_KEY is "
		    "set but AWS_ACCESS_KEY_ID is not");
	out->access_key = xstrdup(id);
	out->secret_key = xstrdup(secret);
	out->session_token = token ? xstrdup(token) : NULL;
	out->expires = 0;
	out->source = xstrdup("environment");
	return 1;
}

/* 1 with *out filled, 0 when the profile yields nothing, -1 on error. */
int
creds_from_profile(struct chain *ch, const char *name, struct aws_creds *out,
    struct aws_error *err)
{
	const struct files *f = ch->files;
	const struct ini_section *cs = ini_section(&f->creds, name);
	const struct ini_section *conf = creds_config_section(f, name, 0);
	const struct ini_section *conf_default = creds_config_section(f, name, 1);
	const char *role_arn = creds_profile_get(f, name, "role_arn");
	const char *process;
	int r;

	if (role_arn != NULL && *role_arn != '\0' &&
	    !strlist_has(&ch->visiting, name))
		return creds_assume_role(ch, name, role_arn, out, err);

	r = creds_static(cs, name, "profile", f->creds_path, out, err);
	if (r != 0)
		return r;
	process = creds_profile_get(f, name, "credential_process");
	if (process != NULL && *process != '\0')
		return creds_process(name, process, out, err);
	r = creds_static(conf, name, "profile", f->config_path, out, err);
	if (r == 0)
		r = creds_static(conf_default, name, "profile", f->config_path,
		    out, err);
	return r;
}

/* Static keys of one section. 1 found, 0 none, -1 when only half present. */
int
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
		p = creds_display_path(path);
		creds_fail(err, "InvalidCredentials", "%s '%s' in %s has %s but no %s",
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

/* Like aws_creds_release, with the secrets wiped first. */
void
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
const char *
creds_getenv(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

int
creds_fail(struct aws_error *err, const char *code, const char *fmt, ...)
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
