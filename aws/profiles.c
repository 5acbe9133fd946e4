/* profiles.c: the shared config and credentials files (~/.aws/config,
 * ~/.aws/credentials, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE), the
 * profile and region in effect. See credsrc.h. */
#include "aws/credsrc.h"


#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int is_secret_key(const char *key);
static char *expand_home(const char *p);

char *
aws_config_get(const char *profile, const char *key)
{
	struct files f;
	struct aws_error err = { 0 };
	const char *v;
	char *out;

	if (profile == NULL)
		profile = aws_profile_name(NULL);
	if (creds_files_load(&f, &err) != 0) {
		free(err.code);
		free(err.message);
		return NULL;
	}
	v = creds_profile_get(&f, profile, key);
	out = v ? xstrdup(v) : NULL;
	creds_files_release(&f);
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
	if (creds_files_load(&f, &err) != 0) {
		free(err.code);
		free(err.message);
		return 0;
	}
	yes = creds_profile_exists(&f, profile);
	creds_files_release(&f);
	return yes;
}

void
aws_profile_list(struct strlist *out)
{
	struct files f;
	struct strlist names;
	struct aws_error err = { 0 };

	if (creds_files_load(&f, &err) != 0) {
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
	creds_files_release(&f);
}

char *
aws_region_resolve(const char *explicit_region, const char *profile)
{
	const char *v;
	char *r;

	if (explicit_region != NULL && *explicit_region != '\0')
		return xstrdup(explicit_region);
	if ((v = creds_getenv("AWS_REGION")) != NULL)
		return xstrdup(v);
	if ((v = creds_getenv("AWS_DEFAULT_REGION")) != NULL)
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
	if ((v = creds_getenv("AWS_PROFILE")) != NULL)
		return v;
	return "default";
}

int
creds_files_load(struct files *f, struct aws_error *err)
{
	const char *p;
	char *cause = NULL;

	memset(f, 0, sizeof *f);
	p = creds_getenv("AWS_CONFIG_FILE");
	f->config_path = p ? expand_home(p) : creds_home_file(".aws/config");
	p = creds_getenv("AWS_SHARED_CREDENTIALS_FILE");
	f->creds_path = p ? expand_home(p) : creds_home_file(".aws/credentials");
	if (ini_load(&f->config, f->config_path, &cause) != 0 ||
	    ini_load(&f->creds, f->creds_path, &cause) != 0) {
		creds_fail(err, "InvalidConfig", "%s", cause);
		free(cause);
		creds_files_release(f);
		return -1;
	}
	return 0;
}

void
creds_files_release(struct files *f)
{
	ini_release(&f->config);
	ini_release(&f->creds);
	free(f->config_path);
	free(f->creds_path);
	memset(f, 0, sizeof *f);
}

/* The config file's section for a profile: "[profile NAME]" (any blanks
 * after "profile"); with want_default, "[default]" for "default". */
const struct ini_section *
creds_config_section(const struct files *f, const char *name, int want_default)
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
const char *
creds_profile_get(const struct files *f, const char *name, const char *key)
{
	const char *conf, *cred;

	conf = ini_get(creds_config_section(f, name, 0), key);
	if (conf == NULL)
		conf = ini_get(creds_config_section(f, name, 1), key);
	cred = ini_get(ini_section(&f->creds, name), key);
	if (is_secret_key(key))
		return cred ? cred : conf;
	return conf ? conf : cred;
}

int
creds_profile_exists(const struct files *f, const char *name)
{
	return ini_section(&f->creds, name) != NULL ||
	    creds_config_section(f, name, 0) != NULL ||
	    creds_config_section(f, name, 1) != NULL;
}

/* "~/.aws/config" for the user's own files, the path otherwise. */
char *
creds_display_path(const char *path)
{
	char *home = creds_home_file("");
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
char *
creds_home_file(const char *rel)
{
	const char *h = creds_getenv("HOME");
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
		return creds_home_file(p[1] ? p + 2 : "");
	return xstrdup(p);
}
