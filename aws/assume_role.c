/* assume_role.c: a profile's role_arn through STS AssumeRole, with the
 * source profile's credentials (source_profile or credential_source).
 * Assumed-role credentials are cached in memory and on disk (XDG state dir,
 * 0600 files) until five minutes before they expire.
 *
 * Not thread-safe: the in-memory cache is a plain list, as the client is used
 * from one thread. */
#include "aws/credsrc.h"


#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define EXPIRY_MARGIN		300	/* refresh 5 min before expiry */
#define MAX_CHAIN		8	/* role_arn -> source_profile depth */

static int fresh(const struct aws_creds *c);
static char *cache_dir(void);
static int cache_get(const char *key, struct aws_creds *out);
static void cache_put(const char *key, const struct aws_creds *c);
static char *cache_key(const char *profile, const char *role_arn,
    const char *source, const char *session, const char *external, const char *duration);
static void format_time(time_t t, char out[32]);
static void creds_copy(struct aws_creds *dst, const struct aws_creds *src);

/* source_profile: the named profile's credentials (its own keys when it
 * names itself), with a guard against loops. 1, or -1 with *err set. */
static int
source_profile(struct chain *ch, const char *name, const char *src,
    struct aws_creds *base, struct aws_error *err)
{
	const struct files *f = ch->files;
	int r;

	if (ch->visiting.n >= MAX_CHAIN || (strlist_has(&ch->visiting, src) &&
	    strcmp(src, name) != 0)) {
		struct buf b;

		buf_init(&b);
		for (size_t i = 0; i < ch->visiting.n; i++)
			buf_printf(&b, "%s -> ", ch->visiting.v[i]);
		buf_printf(&b, "%s -> %s", name, src);
		creds_fail(err, "InvalidConfig", "source_profile loop: %s",
		    b.data);
		buf_release(&b);
		return -1;
	}
	strlist_add(&ch->visiting, name);
	if (strcmp(src, name) == 0) {
		/* source_profile naming itself means its own keys. */
		const struct ini_section *s = ini_section(&f->creds, name);

		r = creds_static(s, name, "profile", f->creds_path, base, err);
		if (r == 0)
			r = creds_static(creds_config_section(f, name, 0), name,
			    "profile", f->config_path, base, err);
	} else
		r = creds_from_profile(ch, src, base, err);
	ch->visiting.n--;
	free(ch->visiting.v[ch->visiting.n]);
	ch->visiting.v[ch->visiting.n] = NULL;
	if (r == 0)
		return creds_fail(err, creds_profile_exists(f, src) ?
		    "NoCredentials" : "ProfileNotFound", "profile '%s': "
		    "source_profile '%s' %s", name, src,
		    creds_profile_exists(f, src) ? "has no credentials" :
		    "not found");
	return r;
}

/* The credentials to call STS with: source_profile, else
 * credential_source. 1, or -1 with *err set. */
static int
assume_base(struct chain *ch, const char *name, struct aws_creds *base,
    struct aws_error *err)
{
	const struct files *f = ch->files;
	const char *src = creds_profile_get(f, name, "source_profile");
	const char *csrc = creds_profile_get(f, name, "credential_source");
	char *cause = NULL;
	int r;

	if (src != NULL && *src != '\0')
		return source_profile(ch, name, src, base, err);
	if (csrc != NULL && strcasecmp(csrc, "Environment") == 0) {
		if ((r = creds_from_env(base, err)) == 0)
			return creds_fail(err, "NoCredentials", "profile '%s': "
			    "credential_source Environment but "
			    "AWS_ACCESS_KEY_ID is not set", name);
		return r;
	}
	if (csrc != NULL && strcasecmp(csrc, "Ec2InstanceMetadata") == 0) {
		if (!aws_on_ec2())
			return creds_fail(err, "NoCredentials", "profile '%s': "
			    "credential_source Ec2InstanceMetadata but this is "
			    "not an EC2 instance", name);
		if (creds_imds(base, &cause) == 0)
			return 1;
		creds_fail(err, "NoCredentials", "profile '%s': IMDS: %s", name,
		    cause);
		free(cause);
		return -1;
	}
	if (csrc != NULL)
		return creds_fail(err, "InvalidConfig", "profile '%s': "
		    "credential_source '%s' is not supported", name, csrc);
	return creds_fail(err, "InvalidConfig", "profile '%s' has role_arn but "
	    "no source_profile", name);
}

/* STS AssumeRole signed with base. 1 with *out filled, or -1. */
static int
assume_call(struct chain *ch, const char *name, const char *role_arn,
    const struct aws_creds *base, struct aws_creds *out,
    struct aws_error *err)
{
	const struct files *f = ch->files;
	const char *session = creds_profile_get(f, name, "role_session_name");
	const char *external = creds_profile_get(f, name, "external_id");
	const char *duration = creds_profile_get(f, name, "duration_seconds");
	cJSON *params, *res = NULL, *cr;
	char *cause = NULL, *m;
	int r;

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
	r = aws_call_with_creds(ch->client, base, "sts", "AssumeRole", params,
	    &res, err);
	cJSON_Delete(params);
	if (r != 0) {
		m = xasprintf("profile '%s': cannot assume role '%s': %s", name,
		    role_arn, err->message ? err->message : "(no message)");
		free(err->message);
		err->message = m;
		cJSON_Delete(res);
		return -1;
	}
	cr = cJSON_GetObjectItemCaseSensitive(res, "Credentials");
	if (cr == NULL)	/* a layer that kept the wrapper */
		cr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		    res, "AssumeRoleResult"), "Credentials");
	r = creds_from_json(cr, "AccessKeyId", "SecretAccessKey",
	    "SessionToken", out, &cause);
	cJSON_Delete(res);
	if (r != 0) {
		creds_fail(err, "InvalidResponse", "profile '%s': AssumeRole "
		    "answer %s", name, cause);
		free(cause);
		return -1;
	}
	out->source = xasprintf("assume-role %s (profile %s)", role_arn, name);
	return 1;
}

/* role_arn: the source profile's credentials, then STS AssumeRole, with the
 * result cached in memory and on disk. */
int
creds_assume_role(struct chain *ch, const char *name, const char *role_arn,
    struct aws_creds *out, struct aws_error *err)
{
	const struct files *f = ch->files;
	const char *duration = creds_profile_get(f, name, "duration_seconds");
	struct aws_creds base = { 0 };
	char *key;
	int r;

	if (creds_profile_get(f, name, "mfa_serial") != NULL)
		return creds_fail(err, "InvalidConfig", "profile '%s': "
		    "mfa_serial is not supported", name);
	if (duration != NULL && *duration != '\0') {
		char *end;
		long d = strtol(duration, &end, 10);

		if (*end != '\0' || d < 900 || d > 43200)
			return creds_fail(err, "InvalidConfig", "profile '%s': "
			    "duration_seconds '%s' is not a number of seconds "
			    "from 900 to 43200", name, duration);
	}
	{
		const char *src = creds_profile_get(f, name, "source_profile");

		key = cache_key(name, role_arn, src ? src : creds_profile_get(f,
		    name, "credential_source"), creds_profile_get(f, name,
		    "role_session_name"), creds_profile_get(f, name,
		    "external_id"), duration);
	}
	if (cache_get(key, out)) {
		free(key);
		return 1;
	}
	if ((r = assume_base(ch, name, &base, err)) > 0 && ch->client == NULL)
		r = creds_fail(err, "InvalidConfig", "profile '%s': no client "
		    "to call STS AssumeRole with", name);
	if (r > 0)
		r = assume_call(ch, name, role_arn, &base, out, err);
	creds_clear(&base);
	if (r > 0)
		cache_put(key, out);
	free(key);
	return r > 0 ? 1 : -1;
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
	const char *x = creds_getenv("XDG_STATE_HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/mlsh/cache", x);
	return creds_home_file(".local/state/mlsh/cache");
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

static void
format_time(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
