/* lab.h: the lab's data plane: network namespaces that stand in for VPCs and
 * the internet, and a real host (network + mount + UTS namespaces running
 * OpenSSH sshd) for every running EC2 instance.
 *
 * Network design (see lab/net.c for the details):
 *
 *   <name>-client  mlsh opens its lab sockets here. eth0 198.18.0.2 on the
 *                  "internet" bridge; a /32 route per public IP; nothing else.
 *   <name>-core    bridge mlshinet 198.18.0.1/24 (the control plane listens
 *                  here and on every VPC's transit address); forwarding off,
 *                  so the core never routes between the internet and a VPC.
 *   <name>-v<N>    one router per VPC: a bridge per subnet holding the subnet
 *                  gateway (.1), forwarding on, a transit link to the core
 *                  (router 198.18.N.2, core 198.18.N.1 = the control plane as
 *                  that VPC's hosts see it). One router per VPC keeps
 *                  overlapping CIDRs (two 172.31.0.0/16) apart; the core
 *                  answers each VPC through its own routing table.
 *   <name>-i-…     a host: eth0 in its subnet, eth1 with the public IP on the
 *                  internet bridge when it has one. Routes: its VPC CIDR and
 *                  the control plane via the gateway, the client via eth1.
 *
 * No namespace has a default route, so nothing leaves the lab; the client has
 * no route to any VPC CIDR, so a private host is reachable only through a host
 * with a public IP (ssh -J). Nothing is ever added to the root namespace.
 *
 * Each host filters what reaches it and what it sends as its security groups
 * and its subnet's route table say (nftables in the host's own namespace,
 * derived by the reconciler: lab/fw.h). The core also answers checkip
 * (LAB_CHECKIP_URL in lab/ctrl.h) with the caller's address.
 *
 * Every function returns 0, or -1 with *cause set to an allocated message; none
 * prints or exits. All need root (CAP_NET_ADMIN + CAP_SYS_ADMIN). Calls on one
 * state directory are serialised with a lock file. */
#ifndef MLSH_LAB_H
#define MLSH_LAB_H

#include <stddef.h>
#include <sys/types.h>

#define LAB_DEFAULT_NAME "mlshlab"
#define LAB_CTRL_ADDR "198.18.0.1"	/* the control plane, from the client */
#define LAB_CLIENT_ADDR "198.18.0.2"
#define LAB_MAX_VPCS 254

/* Bring the lab's core up: client and core namespaces, the internet bridge.
 * name prefixes every namespace (must start with "mlsh"; NULL: "mlshlab").
 * A no-op when that lab is already up (its hosts are kept); otherwise
 * whatever a dead lab left in state_dir is cleaned first. state_dir belongs
 * to the lab: lab_net_down empties it (all but its lock file). */
int lab_net_up(const char *state_dir, const char *name, char **cause);
/* Remove every host, namespace, veth, bridge, mount and process the lab made
 * (by the PIDs and names recorded in state_dir, and by the namespaces' names
 * for leftovers). Also the cleanup-after-crash path. */
int lab_net_down(const char *state_dir, char **cause);
/* 1 when the lab in state_dir is up (its core namespace exists), else 0. */
int lab_net_is_up(const char *state_dir);
/* The namespace names (allocated): "<name>-client", "<name>-core". */
char *lab_client_netns(const char *state_dir);
char *lab_core_netns(const char *state_dir);
/* An fd on the client network namespace (for setns around socket creation),
 * or -1 with *cause. */
int lab_client_netns_fd(const char *state_dir, char **cause);

/* The control plane as a VPC's hosts see it: "http://198.18.N.1:<port>"
 * (allocated; creates the VPC's router when missing). */
int lab_vpc_ctrl_url(const char *state_dir, const char *vpc_id, int port,
    char **url, char **cause);
/* Remove a VPC's router (its hosts must be gone). */
int lab_vpc_destroy(const char *state_dir, const char *vpc_id, char **cause);

/* Start a long-running process (the control plane) in the core namespace,
 * daemonized, its output appended to state_dir/<tag>.log; its PID is recorded
 * under state_dir/pids/ so lab_net_down stops it. */
int lab_spawn_core(const char *state_dir, const char *tag,
    char *const argv[], pid_t *pidp, char **cause);

struct lab_host_spec {
	const char *instance_id;	/* "i-0abc…" */
	const char *vpc_id;
	const char *vpc_cidr;		/* "10.0.0.0/16": routed via the gateway */
	const char *subnet_id;
	const char *subnet_cidr;	/* "10.0.1.0/24" */
	const char *private_ip;
	const char *public_ip;		/* NULL: none */
	const char *ssh_public_key;	/* an authorized_keys line; NULL: none */
	const char *user_data;		/* decoded; NULL: none */
	size_t user_data_len;
	const char *hostname;		/* NULL: "ip-10-0-1-5" */
	int ctrl_port;			/* the control plane's port; 0: none */
	const char *region;		/* AWS_DEFAULT_REGION on the host; NULL: none */
	const char *user;		/* the login user; NULL: "ubuntu" */
	const char *firewall;		/* nftables ruleset loaded in the host's
					 * namespace before anything runs there
					 * (lab/fw.h); NULL: none */
};

/* Make the host and start its sshd; run the user-data once, in the
 * background (its output goes to the console log). Returns once sshd is
 * started (lab_host_wait waits until it listens). */
int lab_host_create(const char *state_dir, const struct lab_host_spec *,
    char **cause);
/* Wait up to timeout_ms until the host's sshd listens on port 22. */
int lab_host_wait(const char *state_dir, const char *instance_id,
    int timeout_ms, char **cause);
/* Stop every process of the host (kept: its namespaces, files, mounts). */
int lab_host_stop(const char *state_dir, const char *instance_id, char **cause);
/* Bring sshd back after a stop; the user-data is not run again. */
int lab_host_start(const char *state_dir, const char *instance_id, char **cause);
/* Stop the host and remove everything it had. */
int lab_host_destroy(const char *state_dir, const char *instance_id,
    char **cause);
/* Give the host a public IP, move it, or (ip NULL) take it away: AWS hands
 * out a new one when a stopped instance starts. */
int lab_host_set_public_ip(const char *state_dir, const char *instance_id,
    const char *ip, char **cause);
/* "running", "stopped", or NULL when there is no such host (borrowed). */
const char *lab_host_state(const char *state_dir, const char *instance_id);
/* The instance ids of every host (sorted; caller releases). */
struct strlist;
int lab_host_list(const char *state_dir, struct strlist *out, char **cause);
/* The user-data's exit status once it has finished; -1 while it runs or
 * when there is none. */
int lab_host_userdata_status(const char *state_dir, const char *instance_id);
/* Path of the host's console log (allocated). */
char *lab_host_console_path(const char *state_dir, const char *instance_id);
/* Run argv as root inside the host (its namespaces, env of the host), wait
 * for it; *status gets the exit status. Output goes to out_fd (or /dev/null
 * when -1). The SSM-like path for tests and agents. */
int lab_host_exec(const char *state_dir, const char *instance_id,
    char *const argv[], int out_fd, int *status, char **cause);

/* The reconciler's last step: make the lab's hosts what the control plane
 * says. Each wanted instance is created when missing (and stopped after its
 * first boot when it is wanted stopped), started or stopped, its public IP
 * moved; every host not wanted (terminated) is destroyed. Failures do not
 * stop the others: each adds "<instance id>: <cause>" to errs. Returns the
 * number of failures. */
struct lab_want {
	struct lab_host_spec spec;
	int running;		/* 1: running (pending too), 0: stopped */
};
struct strlist;
int lab_apply(const char *state_dir, const struct lab_want *want, size_t n,
    struct strlist *errs);

/* EFS: a file system is a directory under the lab state; a mount target maps
 * an address in a VPC to it, so `mount -t nfs4 <ip>:/ /efs` inside a host of
 * that VPC binds the directory at /efs. */
int lab_efs_create(const char *state_dir, const char *fs_id, char **cause);
int lab_efs_destroy(const char *state_dir, const char *fs_id, char **cause);
int lab_efs_target_add(const char *state_dir, const char *fs_id,
    const char *vpc_id, const char *ip, char **cause);
int lab_efs_target_del(const char *state_dir, const char *vpc_id,
    const char *ip, char **cause);
/* The file system's directory (allocated). */
char *lab_efs_path(const char *state_dir, const char *fs_id);

#endif
