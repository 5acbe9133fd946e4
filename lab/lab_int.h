/* lab_int.h: helpers shared by the lab's files (not part of the lab's API). */
#ifndef MLSH_LAB_INT_H
#define MLSH_LAB_INT_H

#include <sys/types.h>

#include <stdio.h>

#include "lib/util.h"

/* How to run a program: in which namespaces, with which output. */
struct lab_proc {
	char *const *argv;	/* argv[0]: absolute path */
	char *const *envp;	/* NULL: PATH, LANG and HOME=/root only */
	int netns_fd;		/* -1: stay */
	int utsns_fd;		/* -1: stay */
	int mntns_fd;		/* -1: stay */
	int out_fd;		/* stdout and stderr; -1: /dev/null */
	int daemon;		/* setsid + double fork: outlives the caller */
	int rc_fd;		/* daemon only, >= 0: a runner waits for the
				 * program and writes its exit status here */
	const char *cwd;	/* NULL: "/" */
};
/* Start a process. A daemon's PID goes to *pidp; otherwise it is waited for
 * and its wait status goes to *statusp. */
int lab_proc_run(const struct lab_proc *, pid_t *pidp, int *statusp,
    char **cause);
/* Run argv (argv[0] a bare name looked up in the sbin/bin directories) in the
 * root namespaces and wait: 0 when it exits 0, else -1 with its stderr. */
int lab_cmd(char **cause, const char *arg0, ...);
int lab_cmdv(char *const argv[], struct buf *out, char **cause);
/* The absolute path of a system program (allocated), NULL when missing. */
char *lab_which(const char *name);

/* PIDs of every process in a network namespace (by inode, not by name). */
int lab_netns_pids(const char *nsname, pid_t **pids, size_t *n);
/* SIGTERM, wait up to grace_ms, then SIGKILL what is left. */
void lab_kill_pids(const pid_t *pids, size_t n, int grace_ms);
/* 1 when pid is alive (not a zombie). */
int lab_pid_alive(pid_t pid);
/* 1 when pid is alive and in the network namespace nsname. */
int lab_pid_in_netns(pid_t pid, const char *nsname);

/* Network namespaces: created with `ip netns add`, so they live under
 * /run/netns/<name>. */
int lab_netns_exists(const char *name);
int lab_netns_open(const char *name, char **cause);
/* Write value to a sysctl (path under /proc/sys, e.g. "net/ipv4/ip_forward")
 * of network namespace nsname. */
int lab_netns_sysctl(const char *nsname, const char *path, const char *value,
    char **cause);

/* State files. */
char *lab_path(const char *state, const char *fmt, ...) MLSH_PRINTF(2, 3);
int lab_write_file(const char *path, const char *data, size_t len, int mode,
    char **cause);
/* The file's first line, without the newline (allocated); NULL if absent. */
char *lab_read_line(const char *path);
int lab_rm_rf(const char *path);
/* The lab's namespace prefix (allocated), from state/name. */
char *lab_name(const char *state);
/* Serialise calls on one state directory. Returns the lock fd. */
int lab_lock(const char *state, char **cause);
void lab_unlock(int fd);

/* The next value of the monotonic counter in state/<counter> (from 1). */
int lab_next_index(const char *state, const char *counter);

/* net.c, for host.c */
int lab_vpc_ensure(const char *state, const char *vpc_id, int *indexp,
    char **cause);
int lab_subnet_ensure(const char *state, const char *vpc_id,
    const char *subnet_id, const char *cidr, int *indexp, char **cause);
char *lab_vpc_netns(const char *state, int vpc_index);

/* fw.c, for host.c: lab_fw_apply with the lab's lock held. */
int lab_fw_apply_locked(const char *state, const char *instance_id,
    const char *ruleset, int *changed, char **cause);

/* host.c, for notebook.c: start argv in the host (its namespaces, as root,
 * the host's environment) as a daemon, output appended to log; with rcpath
 * its exit status is written there when it ends. hosts/<id>/boot is emptied
 * whenever the host stops. */
int lab_host_spawn(const char *state, const char *id, char *const argv[],
    const char *log, const char *rcpath, pid_t *pidp, char **cause);
/* 1 when something listens on TCP port in the host. */
int lab_host_listening(const char *state, const char *id, int port);

/* notebook.c, for ctrl.c: the scripts the lab carries (lab/motoext.py,
 * lab/jupyter_config.py), by path; NULL when unknown. */
const char *lab_embedded(const char *path);

struct aws_client;

/* ctrl.c, for notebook.c: a timestamped line in the reconciler's log; base64
 * decoding (allocated, NUL-terminated). */
void lab_logf(FILE *log, const char *fmt, ...) MLSH_PRINTF(2, 3);
char *lab_b64decode(const char *in, size_t *outlen);
/* field of the first item of set in the answer to EC2 action with key=val
 * (allocated), NULL when there is none or the call fails. */
char *lab_ec2_first(struct aws_client *c, const char *action, const char *key,
    const char *val, const char *set, const char *field);

/* notebook.c, for the reconciler (ctrl.c): SageMaker notebook instances as
 * hosts. lab_nb_want adds a want for each notebook (running while Pending
 * or InService) to *want; lab_nb_boot, after lab_apply, runs each running
 * notebook's lifecycle scripts and Jupyter and moves its status on. */
struct aws_client;
struct lab_want;
void lab_nb_want(const char *state, struct aws_client *c,
    const struct cJSON *items,
    const char *region, struct lab_want **want, size_t *n, FILE *log);
void lab_nb_boot(const char *state, struct aws_client *c, FILE *log);
void lab_nb_forget(void);

/* host.c, for net.c */
int lab_host_destroy_locked(const char *state, const char *instance_id,
    char **cause);

/* Ids end up in paths and namespace names: letters, digits, dashes. */
int lab_id_ok(const char *id);

/* Parse "a.b.c.d/len" into a network address and prefix length. */
int lab_cidr_parse(const char *cidr, unsigned int *addr, int *len);
char *lab_ip_str(unsigned int addr);

#endif
