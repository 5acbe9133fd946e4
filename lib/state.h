/* state.h: the per-workspace state store (DESIGN.md section 6).
 *
 * $XDG_STATE_HOME/mlsh/<workspace>.json, written atomically (temp file, fsync,
 * rename, fsync of the directory), mode 0600, with a schema version, and
 * locked with flock on <workspace>.lock so a second mlsh that writes gets
 * "workspace 'x' is in use by pid N"; one that only reads takes a snapshot
 * without the lock. A corrupt file is an error and is never overwritten. */
#ifndef MLSH_STATE_H
#define MLSH_STATE_H

#include <cjson/cJSON.h>
#include "lib/util.h"

#define STATE_SCHEMA 1

/* How to wait for a workspace another mlsh holds: up to wait_s seconds
 * (0: not at all), stopping early when *cancel becomes non-zero, calling
 * progress about once a second with the holder's pid and the seconds
 * waited, and once with waited_s -1 when a wait that called it ends (may be
 * NULL). */
struct state_wait {
	int wait_s;
	volatile int *cancel;
	void (*progress)(void *arg, const char *workspace, long pid,
	    int waited_s, int wait_s);
	void *arg;
};

struct state {
	char *workspace;
	char *path;		/* <dir>/<workspace>.json */
	char *dir;
	int lock_fd;		/* -1 for a snapshot */
	int existed;		/* the file was there when opened */
	cJSON *root;		/* {"schema":1,"workspace":…,"resources":{…}} */
	/* A snapshot (state_open_snapshot): read without the lock, for
	 * commands that only read, so they work beside an mlsh that holds
	 * the workspace. The file is replaced atomically (rename), so a read
	 * never sees half a write. Its first save takes the lock (wait as
	 * given) and refuses when another mlsh wrote the file since. */
	int snapshot;
	struct state_wait wait;
	unsigned long long file_dev, file_ino;	/* identity of what was read */
	long long file_mtime_ns, file_size;
};

/* Open and lock; wait_s > 0 waits that long for another holder (polling,
 * stopping early when *cancel becomes non-zero). */
int state_open(const char *dir, const char *workspace, int wait_s,
    volatile int *cancel, struct state **out, char **cause);
/* The same with a progress callback while waiting (w may be NULL). The
 * message when the workspace is held names the holder's pid and, when not
 * waiting, --wait: "workspace 'x' is in use by pid N (--wait waits for
 * it)". */
int state_open_wait(const char *dir, const char *workspace,
    const struct state_wait *w, struct state **out, char **cause);
/* Read without locking (see snapshot above); w is kept for the lock a
 * later save takes. */
int state_open_snapshot(const char *dir, const char *workspace,
    const struct state_wait *w, struct state **out, char **cause);
/* A snapshot: read the file again when another mlsh replaced it since
 * (one stat when it did not). 0, or -1 with *cause (the old root kept). */
int state_refresh(struct state *, char **cause);
/* A snapshot becomes a locked state: take the lock (waiting as its wait
 * says) and read the file again. 0 (also for a state already locked), or
 * -1 with *cause, still a snapshot. */
int state_lock(struct state *, char **cause);
int state_save(struct state *, char **cause);
void state_close(struct state *);

/* Workspace names with a state file in dir, sorted. */
void state_list(const char *dir, struct strlist *out);
/* Remove a workspace's files; refuses when another process holds it. */
int state_remove(const char *dir, const char *workspace, char **cause);
/* Number of resources recorded in a state (0 if none). */
int state_resource_count(const cJSON *root);
/* Workspace names: [A-Za-z0-9][A-Za-z0-9_.-]*, at most STATE_NAME_MAX.
 * The bound is the longest name mlsh derives from a workspace that has a
 * limit: the IAM role and instance profile mlsh-<ws>-notebook (64). The
 * others fit under it: EFS CreationToken mlsh-<ws>-efs (64), SageMaker
 * <ws>-notebook and lifecycle config <ws>-onstart (63), EC2 key pair
 * <ws>-key and security groups <ws>-sg-nodes (255), IAM path /mlsh/<ws>/
 * (512), tag values (256). Limits from botocore's models (iam roleNameType
 * max 64, instanceProfileNameType 128, pathType 512; efs CreationToken 64;
 * sagemaker NotebookInstanceName and NotebookInstanceLifecycleConfigName 63)
 * and https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
 * (RoleName: maximum length of 64). */
#define STATE_NAME_MAX	(64 - (int)sizeof "mlsh--notebook" + 1)
int state_name_ok(const char *);
/* NULL when the name is acceptable, else the one-line reason. */
char *state_name_error(const char *);

/* The directory mlsh keeps its state in: $XDG_STATE_HOME/mlsh when that is
 * absolute, else $HOME/.local/state/mlsh, else the password entry's home
 * directory (what OpenSSH uses for ~). NULL with *cause when none of them
 * exists: mlsh never falls back to a shared directory such as /tmp. */
char *state_default_dir(char **cause);
/* Make dir (mode 0700, parents too) or check the one there: it must be a
 * directory owned by the user (or root) and not writable by group or
 * others, else -1 with a one-line *cause naming the fix. A readable one
 * (0755) is tightened to 0700, and its files found looser than 0600 are
 * tightened too (the train/ cache: directories 0700). */
int state_dir_prepare(const char *dir, char **cause);
/* Write a state file atomically (temp file, fsync, rename, directory fsync)
 * with mode 0600; never through a symbolic link. */
int state_write_file(const char *path, const char *text, size_t len,
    char **cause);
/* Read a state file, refusing a symbolic link. */
char *state_read_file(const char *path, size_t *lenp, char **cause);

#endif
