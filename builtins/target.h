/* target.h: the session's SSH reach into the stack, shared by the ssh, cp,
 * tunnel, ssh-config and train builtins (and grafana open).
 *
 * One struct rmt_session per shell session (remote/remote.h): one persistent
 * connection to the workspace's jump host, reused by every command, and one
 * cached connection per node through it. Targets are "jump" or a role of
 * type instance in the workspace state ("dl1-1", "grafana" …); a node is
 * reached at its private_ip through the jump host's public_ip. In the lab
 * (--lab) sockets open inside the lab's client namespace. The login user is
 * "ubuntu"; authentication is ssh-agent first, then the private key beside
 * the public key `vpc up` imported (~/.ssh/id_ed25519, else id_rsa, or the
 * key record's "private_key" attribute). Host keys go to mlsh's own
 * $XDG_STATE_HOME/mlsh/known_hosts (0600), pinned under the instance id
 * ("i-0abc…,10.0.1.5 TYPE KEY", OpenSSH's HostKeyAlias), checked on first
 * contact against the fingerprints the console output publishes; first
 * contact prints the fingerprint. */
#ifndef MLSH_TARGET_H
#define MLSH_TARGET_H

#include "shell/shell.h"
#include "remote/remote.h"

/* The session (made on first use). NULL after cmd_error when the workspace
 * has no jump host ("no jump host in workspace 'x'; run 'vpc up' first") or
 * no usable key. */
struct rmt_session *target_session(struct mlsh_ctx *);

/* The connection settings (ssh-config writes them). Borrowed; NULL after
 * cmd_error. */
const struct rmt_config *target_config(struct mlsh_ctx *);
/* The same, to connect with (a port forwarder opens its own connection):
 * NULL after cmd_error also when the endpoint is an emulator on this
 * machine outside the lab, whose made-up addresses are not ours to reach. */
const struct rmt_config *target_config_connect(struct mlsh_ctx *);
/* Whether the endpoint is an emulator on this machine outside the lab (its
 * addresses are not real hosts): what target_config_connect refuses, asked
 * before anything is read or sent. */
int target_emulated(struct mlsh_ctx *);

/* Resolve a target name to remote/'s node string: *node is NULL for the
 * jump host, else the node's private IP (allocated). -1 after cmd_error
 * ("no node 'dl1-9' in workspace 'x' (nodes: dl1-1, p3-1)", "node 'dl1-1' is
 * stopped; 'node dl1-1 start' starts it"). */
int target_resolve(struct mlsh_ctx *, const char *name, char **node);
/* For a node address target_resolve gave: the name its key is pinned under
 * (instance id) and its login user; NULL when not known (borrowed, valid
 * until the next target_reset). */
void target_node_login(struct mlsh_ctx *, const char *ip, const char **alias,
    const char **user);

/* A session of its own for node (an address target_resolve gave) named
 * name, for a caller that uses it from another thread (top samples every
 * node at once): its own jump connection, the node's pinned-key alias,
 * login user and label, and on first contact the fingerprints its console
 * output published (what target_connect prepares), without connecting.
 * No passphrase prompt: an encrypted key must be in the agent. Free with
 * rmt_session_free. NULL after cmd_error. */
struct rmt_session *target_session_own(struct mlsh_ctx *, const char *node,
    const char *name);

/* Connect to node (NULL: the jump host) now, waiting while its sshd is not
 * up yet (a host that just started refuses connections, has no route yet
 * or drops them for a while: refused, unreachable, no route, timed out),
 * with a line on stderr while it waits. Attempts start until timeout_s has
 * passed, so the whole wait is at most timeout_s plus one connect timeout.
 * A jump host that times out while its security group does not admit this
 * address fails at once with that hint. Ctrl-C stops the wait. -1 after
 * cmd_error. */
int target_connect(struct mlsh_ctx *, struct rmt_session *, const char *node,
    const char *name, int timeout_s);

/* The workspace's "resources" records, read from the state file without
 * taking its lock (SSH never changes the stack; a long `train attach` must
 * not lock out `ssh` from another terminal). Borrowed until the next call.
 * NULL after cmd_error. */
const cJSON *target_resources(struct mlsh_ctx *);

/* The SHA256 host-key fingerprints an instance's console output publishes
 * (cloud-init's "BEGIN SSH HOST KEY FINGERPRINTS" block), added to out.
 * Pure: for target_connect and the tests. */
void target_console_fingerprints(const char *console, struct strlist *out);

/* Completion: "jump" and every instance role of the workspace (from the
 * state file, read without locking: never blocks the prompt). */
void target_complete(struct mlsh_ctx *, const char *prefix,
    struct strlist *out);

/* Completion of TARGET:PATH: the entries of PATH's directory on target
 * whose names start with what follows its last '/', as "TARGET:DIR/NAME"
 * (directories end in '/'), listed over the kept SFTP connection and
 * cached per directory for a few seconds. Bounded: a host that does not
 * answer within 2 s gives nothing (and is not asked again for a while); a
 * host never contacted yet (no pinned key) gives nothing either. */
void target_complete_path(struct mlsh_ctx *, const char *target,
    const char *prefix, struct strlist *out);

/* Forget the host keys pinned for an instance that is gone (its lines in
 * known_hosts, found by instance id; other workspaces' pins for the same
 * address stay). A failure to rewrite the file is a warning. */
void target_forget_instance(struct mlsh_ctx *, const char *id);

/* Drop the session (workspace switch, lab down). */
void target_reset(struct mlsh_ctx *);

/* The session service (builtins/services.def): reset, tick, free. */
extern const struct mlsh_service svc_target;

/* Ctrl-C hook for remote/'s cancel callbacks. */
int target_cancelled(void *arg);

#endif
