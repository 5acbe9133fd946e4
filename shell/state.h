/* state.h: the per-workspace state store (DESIGN.md section 6).
 *
 * $XDG_STATE_HOME/mlsh/<workspace>.json, written atomically (temp file, fsync,
 * rename, fsync of the directory), mode 0600, with a schema version, and
 * locked with flock on <workspace>.lock so a second mlsh gets
 * "workspace 'x' is in use by pid N". A corrupt file is an error and is never
 * overwritten. */
#ifndef MLSH_STATE_H
#define MLSH_STATE_H

#include <cjson/cJSON.h>
#include "util.h"

#define STATE_SCHEMA 1

struct state {
	char *workspace;
	char *path;		/* <dir>/<workspace>.json */
	char *dir;
	int lock_fd;
	int existed;		/* the file was there when opened */
	cJSON *root;		/* {"schema":1,"workspace":…,"resources":{…}} */
};

/* Open and lock; wait_s > 0 waits that long for another holder (polling,
 * stopping early when *cancel becomes non-zero). */
int state_open(const char *dir, const char *workspace, int wait_s,
    volatile int *cancel, struct state **out, char **cause);
int state_save(struct state *, char **cause);
void state_close(struct state *);

/* Workspace names with a state file in dir, sorted. */
void state_list(const char *dir, struct strlist *out);
/* Remove a workspace's files; refuses when another process holds it. */
int state_remove(const char *dir, const char *workspace, char **cause);
/* Number of resources recorded in a state (0 if none). */
int state_resource_count(const cJSON *root);
/* Whether a workspace name is acceptable: [A-Za-z0-9][A-Za-z0-9_.-]{0,62}. */
int state_name_ok(const char *);

#endif
