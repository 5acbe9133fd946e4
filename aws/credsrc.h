/* credsrc.h: the credential sources behind aws_creds_resolve (internal to
 * aws/): creds.c runs the chain, profiles.c reads the shared files,
 * assume_role.c, credproc.c and imds.c are the sources a profile can name.
 * Every source returns 1 with *out filled, 0 when it yields nothing, -1
 * with *err set. */
#ifndef MLSH_CREDSRC_H
#define MLSH_CREDSRC_H

#include "aws/creds.h"
#include "aws/ini.h"
#include "lib/util.h"

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

/* profiles.c */
int creds_files_load(struct files *, struct aws_error *);
void creds_files_release(struct files *);
/* The config file's section for a profile ("[profile NAME]", or
 * "[default]"); want_default: the "[default]" one for "default". */
const struct ini_section *creds_config_section(const struct files *,
    const char *name, int want_default);
const char *creds_profile_get(const struct files *, const char *name,
    const char *key);
int creds_profile_exists(const struct files *, const char *name);
/* A path as the user knows it (~/.aws/config). Caller frees. */
char *creds_display_path(const char *path);
/* $HOME/rel. Caller frees. */
char *creds_home_file(const char *rel);

/* creds.c: the chain and what every source shares. */
int creds_from_env(struct aws_creds *, struct aws_error *);
int creds_from_profile(struct chain *, const char *name,
    struct aws_creds *, struct aws_error *);
/* Static keys of one section ("profile NAME" in path). */
int creds_static(const struct ini_section *, const char *name,
    const char *what, const char *path, struct aws_creds *,
    struct aws_error *);
void creds_clear(struct aws_creds *);
/* An environment variable, NULL when unset or empty. */
const char *creds_getenv(const char *name);
/* Fill *err (code, formatted message); returns -1. */
int creds_fail(struct aws_error *, const char *code, const char *fmt, ...)
    MLSH_PRINTF(3, 4);

/* assume_role.c */
int creds_assume_role(struct chain *, const char *name, const char *role_arn,
    struct aws_creds *, struct aws_error *);

/* credproc.c */
int creds_process(const char *name, const char *cmd, struct aws_creds *,
    struct aws_error *);
/* Fill the keys of *out from a JSON object; "Expiration" (ISO 8601) when
 * present. 0, or -1 with *cause naming what is missing, never a value. */
int creds_from_json(const cJSON *, const char *id_key,
    const char *secret_key, const char *token_key, struct aws_creds *,
    char **cause);
/* The first line of s (up to len), trimmed, at most 200 bytes: for an
 * error message. Caller frees. */
char *creds_first_line(const char *s, size_t len);

/* imds.c: 0, or -1 with *cause. */
int creds_imds(struct aws_creds *, char **cause);

#endif
