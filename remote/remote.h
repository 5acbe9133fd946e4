/* remote.h: SSH to the jump host and, through it, to the nodes (libssh2).
 *
 * One struct rmt_session per shell session holds one persistent connection to
 * the jump host and one cached connection per node.  A node connection is a
 * second SSH session whose transport is a direct-tcpip channel opened on the
 * jump session to NODE:22 (never agent forwarding).  Every operation below
 * names its target with a node string: NULL (or "jump") means the jump host,
 * otherwise "HOST" or "HOST:PORT" as the jump host can reach it.
 *
 * Connections are opened on first use and re-opened transparently: when the
 * jump (or node) connection turns out to be gone at the start of an operation,
 * it is re-established once and the operation retried, as long as nothing of
 * the operation reached the server yet.
 *
 * Errors: nothing here prints or exits.  Functions return -1 (or NULL) and set
 * *cause to an allocated message that names the hop first, e.g.
 *   "jump 203.0.113.5:22: connection refused"
 *   "node 10.0.1.7: authentication refused for ubuntu"
 *   "node 10.0.1.7: channel refused by the jump host: connect failed"
 * The caller frees *cause.
 *
 * Threads: an rmt_session is not thread-safe; use it from one thread at a
 * time.  All I/O runs in the calling thread as a small poll() event loop (the
 * node transport is pumped through the jump channel from inside libssh2's own
 * send/recv callbacks, so no helper thread exists).  A port forwarder
 * (rmt_forward_start) owns a separate jump connection and runs in its own
 * thread; it shares nothing mutable with the session that created it.
 *
 * libssh2 1.10 (Debian 12) limits: user keys must be ed25519 or ecdsa (it
 * signs RSA keys with ssh-rsa/SHA-1, which OpenSSH 8.8+ refuses), hosts need
 * an ed25519 or ecdsa host key (no rsa-sha2-* host keys), and there is no
 * "signal" channel request (see rmt_exec.cancel).
 *
 * Keep-alive: the jump connection has TCP keep-alive and SSH keep-alive
 * configured; SSH keep-alives are only sent when the library runs, so an idle
 * shell should call rmt_session_tick() from its prompt loop every
 * few seconds (it never blocks). */
#ifndef MLSH_REMOTE_H
#define MLSH_REMOTE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rmt_session;
struct rmt_forward;

enum rmt_hostkey_policy {
	RMT_HOSTKEY_ACCEPT_NEW = 0,	/* record unknown hosts, refuse changed keys */
	RMT_HOSTKEY_STRICT,		/* refuse unknown hosts too */
};

struct rmt_config {
	const char *jump_host;		/* address of the jump host */
	int jump_port;			/* 0 → 22 */
	const char *user;		/* login user on the jump host and nodes */
	const char *node_user;		/* NULL → user */
	const char *key_file;		/* private key, tried after the agent; may be NULL */
	int no_agent;			/* do not try $SSH_AUTH_SOCK */
	const char *known_hosts;	/* mlsh's own known_hosts file (created on demand) */
	enum rmt_hostkey_policy hostkey_policy;
	/* The name the jump host's key is pinned under in known_hosts, as
	 * OpenSSH's HostKeyAlias (mlsh: its instance id); NULL → the address.
	 * And the fingerprints it published (console output), which its key
	 * must match on first contact; none → trust on first use. */
	const char *jump_alias;
	const char *const *jump_fingerprints;
	size_t njump_fingerprints;
	int connect_timeout_ms;		/* per hop: TCP connect, handshake, auth; 0 → 15000 */
	int io_timeout_ms;		/* SFTP/tunnel stall limit; 0 → 60000 */
	int keepalive_s;		/* SSH keep-alive interval; 0 → 15, <0 off */

	/* Opens a connected TCP socket to host:port; returns the fd or -1 with
	 * *cause set.  NULL → plain TCP connect with connect_timeout_ms.  The lab
	 * uses it to open sockets inside its own network namespace. */
	int (*open_socket)(void *arg, const char *host, int port, char **cause);
	void *open_socket_arg;

	/* Asked for the passphrase of an encrypted key file; returns an
	 * allocated string, or NULL when nobody can answer (no terminal). */
	char *(*passphrase)(void *arg, const char *key_file);
	void *passphrase_arg;

	/* Told about a host key seen for the first time and recorded in
	 * known_hosts, so the shell can show it.  label is "jump H:P" or
	 * "node H"; fingerprint is "SHA256:..." as OpenSSH prints it. */
	void (*new_hostkey)(void *arg, const char *label, const char *fingerprint);
	void *new_hostkey_arg;
};

/* Sessions.  rmt_session_new copies the config (strings included) and does no
 * I/O; connections open on first use.  rmt_session_free closes everything. */
struct rmt_session *rmt_session_new(const struct rmt_config *);
void rmt_session_free(struct rmt_session *);
/* Open (or check) the connection to node now, e.g. to report errors early. */
int rmt_connect(struct rmt_session *, const char *node, char **cause);
/* Close one cached connection (node NULL: the jump and every node). */
void rmt_disconnect(struct rmt_session *, const char *node);
/* Send due keep-alives, notice dropped connections; never blocks.  Returns
 * seconds until it wants to run again. */
int rmt_session_tick(struct rmt_session *);
/* Fingerprints published for a host (from the instance's console output):
 * on first contact its key must match one of them.  host/port as in node
 * strings; copies the list. */
void rmt_expect_hostkeys(struct rmt_session *, const char *host, int port,
    const char *const *fingerprints, size_t n);
/* The name host:port's key is pinned under in known_hosts (OpenSSH's
 * HostKeyAlias; mlsh uses the instance id, so that two workspaces whose
 * nodes reuse an address never share a pin).  Recorded lines are
 * "ALIAS,HOST TYPE KEY" ("[HOST]:PORT" off port 22); only lines matching
 * the alias are pins for the host.  Without an alias the address is the
 * name, as in plain OpenSSH.  Set it before the first connection. */
void rmt_hostkey_alias(struct rmt_session *, const char *host, int port,
    const char *alias);
/* Name node by label in its errors instead of "node ADDRESS" (the shell
 * knows a node as "dl1-1"; its private address means little to the user).
 * Applies to its connection now and later. */
void rmt_label_node(struct rmt_session *, const char *node, const char *label);
/* Log in to node as user (its image's login user, e.g. ec2-user on Amazon
 * Linux) instead of the configured one; NULL goes back to the default.
 * Applies to connections made after the call. */
void rmt_node_user(struct rmt_session *, const char *node, const char *user);
/* The SHA256 fingerprint of node's host key (connects if needed). */
char *rmt_hostkey_fingerprint(struct rmt_session *, const char *node, char **cause);
/* The algorithms in use with node (connects if needed): "CIPHER MAC" out,
 * then "CIPHER MAC" in, e.g. "aes128-ctr hmac-sha2-256 aes128-ctr
 * hmac-sha2-256". */
char *rmt_methods(struct rmt_session *, const char *node, char **cause);
/* Bound what follows: every wait (connecting included, except a socket the
 * config's open_socket makes) ends within ms from now, failing as a timeout
 * would; 0 lifts the bound. For callers that must not block long, such as
 * completing a remote path at the prompt. */
void rmt_session_limit(struct rmt_session *, int ms);
/* How many times connections were (re-)established, for tests and status. */
unsigned rmt_session_connects(struct rmt_session *);

/* Exec.  Output is streamed to the callbacks as it arrives; a callback
 * returning -1 aborts the command (the channel is closed). */
struct rmt_exec {
	const char *command;
	/* stdin: a buffer, or an fd read to EOF, or neither (immediate EOF) */
	const void *in_buf;
	size_t in_len;
	int in_fd;			/* -1 when unused (0 is a valid fd: set it) */
	/* or a producer (then in_buf and in_fd are unused): called with arg
	 * whenever what it gave is written; returns the bytes it put in buf
	 * (at most cap), 0 at the end, -1 to abort: the channel is closed as
	 * for a cancel, and rmt_exec fails (the caller keeps its own cause) */
	ssize_t (*in_fill)(void *arg, char *buf, size_t cap);
	int (*on_stdout)(void *arg, const char *data, size_t len);
	int (*on_stderr)(void *arg, const char *data, size_t len);
	void *arg;
	/* Polled about every 100 ms.  Once it returns nonzero: under a pty a ^C
	 * is typed (the remote terminal sends SIGINT) and the channel is closed
	 * if the command still runs 2 s later; without a pty the channel is
	 * closed at once (libssh2 1.10 cannot send the "signal" request), so
	 * the command sees EOF on stdin and EPIPE on output. */
	int (*cancel)(void *arg);
	int timeout_ms;			/* 0 → none; on expiry as for cancel */
	/* Optional pseudo-terminal for the command (stdout and stderr merge). */
	int pty;
	const char *term;		/* NULL → "xterm" */
	int cols, rows;			/* 0 → 80x24 */
};

struct rmt_status {
	int exit_code;			/* exit status, or 128+signal when killed */
	char signal[16];		/* "" or the signal name ("TERM", "KILL") */
	int cancelled;			/* the cancel hook fired */
	int timed_out;			/* timeout_ms expired (command killed) */
};

/* Use this to initialise struct rmt_exec: in_fd -1, everything else zero. */
#define RMT_EXEC_INIT { .in_fd = -1 }

int rmt_exec(struct rmt_session *, const char *node, const struct rmt_exec *,
    struct rmt_status *, char **cause);
/* Convenience: run command, collect stdout (and stderr, if err is not NULL)
 * into allocated NUL-terminated strings; returns the exit code or -1. */
int rmt_run(struct rmt_session *, const char *node, const char *command,
    char **out, char **err, char **cause);

/* Interactive shell on a PTY.  Pumps in_fd → remote and remote → out_fd until
 * the remote side closes; EOF on in_fd is passed on.  The caller puts its
 * terminal in raw mode (rmt_tty_raw) and restores it.  When *resized is set
 * (by the caller's SIGWINCH handler) the size is re-read from out_fd
 * (TIOCGWINSZ) and sent; the flag is cleared. */
struct rmt_shell {
	const char *term;		/* NULL → $TERM or "xterm" */
	int cols, rows;			/* 0 → from out_fd, else 80x24 */
	int in_fd, out_fd;
	volatile sig_atomic_t *resized;	/* may be NULL */
	const char *command;		/* NULL → login shell */
};
int rmt_shell(struct rmt_session *, const char *node, const struct rmt_shell *,
    struct rmt_status *, char **cause);
/* Raw mode for a local terminal; *saved receives the old state (opaque
 * struct termios storage of at least RMT_TERMIOS_SIZE bytes). */
#define RMT_TERMIOS_SIZE 128
int rmt_tty_raw(int fd, void *saved, char **cause);
void rmt_tty_restore(int fd, const void *saved);

/* SFTP on a node (or the jump host). */
struct rmt_stat {
	uint64_t size;
	unsigned mode;			/* st_mode bits: S_ISDIR etc. work */
	int64_t mtime;
};
/* Returns 0, 1 when path does not exist, -1 on error. */
int rmt_stat(struct rmt_session *, const char *node, const char *path,
    struct rmt_stat *, char **cause);
int rmt_mkdir_p(struct rmt_session *, const char *node, const char *path,
    int mode, char **cause);
/* Depth-first walk below root (root itself first, path relative "" for it).
 * fn returns 0 to go on, 1 to skip a directory's contents, -1 to stop (the
 * walk then returns -1 with *cause from fn, which may leave it NULL). Names
 * the server lists that are unsafe as file names (as for rmt_get_tree) are
 * not walked; the walk then ends with -1 and a cause naming the first. */
typedef int (*rmt_walk_fn)(void *arg, const char *relpath,
    const struct rmt_stat *, char **cause);
int rmt_walk(struct rmt_session *, const char *node, const char *root,
    rmt_walk_fn fn, void *arg, char **cause);

struct rmt_xfer {
	int resume;			/* continue a partial copy if its prefix matches */
	int verify;			/* compare sha256 of both full files at the end
					   (remote side: sha256sum over exec) */
	int mode;			/* mode of a created file; 0 → the source's.
					   Only the 0777 bits are used either way
					   (no set-id or sticky bits, as OpenSSH's
					   sftp); a download also gets u+w and the
					   umask applies */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	int (*cancel)(void *arg);
	void *arg;
	/* Told about each entry a recursive copy leaves out, as one printable
	 * line (control characters escaped): a name the server listed that is
	 * unsafe as a file name (counted in refused), a symbolic link (not
	 * followed, as OpenSSH's sftp get -R / put -R), a device or socket. */
	void (*skipped)(void *arg, const char *msg);
	void *skipped_arg;
	/* Trees: when the node has GNU tar, send the tree as one archive over
	 * an exec channel (one stream instead of round trips per file; what
	 * arrives is checked as strictly as SFTP listings are). Progress then
	 * counts the whole tree on upload, each file on download. With resume,
	 * files of 64 MB and more still go over SFTP, each resumable; verify
	 * keeps the per-file SFTP copy. Without tar: SFTP. */
	int tar;
	/* out: what happened */
	uint64_t resumed_from;		/* bytes kept from an earlier partial copy */
	uint64_t transferred;		/* bytes sent in this call */
	unsigned refused;		/* unsafe names left out */
};
int rmt_put(struct rmt_session *, const char *node, const char *local,
    const char *remote, struct rmt_xfer *, char **cause);
/* A download never writes through a symbolic link: the last component of
 * local (and every file and directory below a tree's top) is opened with
 * O_NOFOLLOW, so a link planted there is refused, not followed; the
 * directories leading to local are the caller's and are followed. Set-id
 * bits an existing file had are cleared. */
int rmt_get(struct rmt_session *, const char *node, const char *remote,
    const char *local, struct rmt_xfer *, char **cause);
/* Recursive copies built on the above (directories created as needed).
 * Names in a directory listing are used only when they are plain names:
 * anything with '/', "", NUL or a control character is refused (told to
 * x->skipped); the rest of the tree is copied and the call then fails
 * ("N unsafe names refused"). "." and ".." are left out silently. Symbolic
 * links on the source side are left out (told to x->skipped), as OpenSSH's
 * sftp does (scp -r follows them). */
int rmt_put_tree(struct rmt_session *, const char *node, const char *local,
    const char *remote, struct rmt_xfer *, char **cause);
int rmt_get_tree(struct rmt_session *, const char *node, const char *remote,
    const char *local, struct rmt_xfer *, char **cause);

/* Local port forwarding: listen on 127.0.0.1:lport (0 → any free port) and
 * forward every accepted connection over its own direct-tcpip channel from
 * the jump host to target_host:target_port.  The forwarder opens its own jump
 * connection with cfg (checked before this returns, so a bad host or key
 * fails here) and serves in a background thread until rmt_forward_stop.
 * When that connection drops, open connections fail and the next client
 * reconnects it, from the forwarder's thread: cfg's hooks (open_socket,
 * passphrase, new_hostkey) must then be callable from that thread; give
 * passphrase NULL there rather than prompt from the background. */
/* via: forward through that node's own SSH connection (as ssh -J jump -L
 * …:target:… node), so target is as seen from the node (127.0.0.1: the
 * node itself) and the node's security group need admit only SSH from the
 * jump host; NULL: from the jump host itself. */
struct rmt_forward_via {
	const char *node;		/* "host" or "host:port" */
	const char *alias;		/* its known_hosts name (instance id), or NULL */
	const char *user;		/* its login user, or NULL: cfg's */
};
int rmt_forward_start(const struct rmt_config *, int lport,
    const struct rmt_forward_via *via, const char *target_host,
    int target_port, struct rmt_forward **, char **cause);
int rmt_forward_port(const struct rmt_forward *);
struct rmt_forward_stats {
	unsigned accepted;		/* connections accepted */
	unsigned active;		/* open right now */
	unsigned failed;		/* channel refused or broken */
	unsigned closed;		/* ended, failed ones included */
	uint64_t bytes_out, bytes_in;	/* local → remote, remote → local */
	char *last_error;		/* allocated or NULL */
};
/* accepted == active + closed at every moment. */
void rmt_forward_stats(struct rmt_forward *, struct rmt_forward_stats *);
/* Stop serving: the thread ends, every connection still open is closed and
 * counted (active 0, closed == accepted: rmt_forward_stats afterwards gives
 * the final counts), the listener closes.  rmt_forward_stop halts if need
 * be, then frees. */
void rmt_forward_halt(struct rmt_forward *);
void rmt_forward_stop(struct rmt_forward *);

/* Helpers shared with the shell. */
/* SHA256 fingerprint ("SHA256:base64") of a raw SSH key blob. */
char *rmt_fingerprint(const void *blob, size_t len);
/* 1 when a private key file is passphrase-protected, 0 when not, -1 unreadable. */
int rmt_key_encrypted(const char *path, char **cause);

/* known_hosts (OpenSSH's format; the policy is described in knownhosts.c).
 * Looking up text for a host pinned under name (its alias, or "HOST" /
 * "[HOST]:PORT"), whose address name is addr (NULL: name), offering key:
 * the status, the deciding line and, for a change, the pinned key. */
enum rmt_kh_status {
	RMT_KH_NEW,			/* no key known for the name */
	RMT_KH_OK,			/* the key is pinned for the name */
	RMT_KH_CHANGED,			/* other keys (of any type) are pinned */
	RMT_KH_REVOKED,			/* an @revoked line for the host holds it */
	RMT_KH_CA,			/* only @cert-authority lines cover it */
};
struct rmt_kh_result {
	enum rmt_kh_status status;
	int line;			/* 1-based line that decided, or 0 */
	char *known_fp;			/* CHANGED: fingerprint of a pinned key */
	char *known_type;		/* and its type ("ssh-ed25519") */
	int nknown;			/* CHANGED: how many other keys are pinned */
	int legacy;			/* NEW: address-only lines holding the key */
};
int rmt_known_hosts_lookup(const char *text, const char *name, const char *addr,
    const void *key, size_t keylen, struct rmt_kh_result *);
void rmt_kh_result_release(struct rmt_kh_result *);
/* 1 when path pins some key for name (a plain line matching it). */
int rmt_known_hosts_has(const char *path, const char *name);
/* Remove the plain lines recorded for name (listed literally or hashed;
 * wildcard lines and @markers stay), rewriting the file atomically, 0600.
 * Returns how many lines went, or -1 with *cause. */
int rmt_known_hosts_forget(const char *path, const char *name, char **cause);

#endif
