/* internal.h: what the remote/ files share and nobody else sees. */
#ifndef MLSH_REMOTE_INTERNAL_H
#define MLSH_REMOTE_INTERNAL_H

#include <libssh2.h>
#include <libssh2_sftp.h>
#include <poll.h>
#include <sys/stat.h>

#include "remote/remote.h"
#include "lib/util.h"

/* One SSH connection: the jump host, or a node reached through it. */
struct rmt_conn {
	struct rmt_session *s;
	struct rmt_conn *next;		/* session's node list */
	char *node;			/* node string as given; NULL for the jump */
	char *host;
	int port;
	char *label;			/* "jump H:P" / "node H[:P]", starts every error */
	char *addrname;			/* "H" or "[H]:P", as known_hosts writes it */
	char *khname;			/* the name its key is pinned under: the
					   caller's alias (instance id), else addrname */
	int fd;				/* jump: TCP socket; node: placeholder eventfd */
	LIBSSH2_SESSION *ssh;
	LIBSSH2_SFTP *sftp;
	int broken;			/* the transport failed; reopen before use */
	int tar;			/* GNU tar there: 0 not asked yet, 1 yes, 2 no */
	int timed_out;			/* the last rmt_wait_until hit its deadline */
	/* Channels closed without waiting for the server (cancelled
	 * commands); freed once the server has closed them too. */
	LIBSSH2_CHANNEL *zombie[16];
	int nzombie;

	/* Node only: the direct-tcpip channel on the jump session carrying this
	 * session's bytes, and the bytes libssh2 handed to our send callback
	 * that the channel has not taken yet. */
	struct rmt_conn *jump;
	unsigned gen;			/* jump generation the tunnel belongs to */
	LIBSSH2_CHANNEL *tunnel;
	struct buf out;
	size_t out_off;
	int tunnel_err;			/* libssh2 error of the tunnel, or 0 */
	int tunnel_eof;
};

/* What the caller told us about a host: the name its key is pinned under
 * (rmt_hostkey_alias) and the fingerprints it published. */
struct rmt_expect {
	char *host;
	int port;
	char *alias;			/* NULL: none */
	struct strlist fps;
};

struct rmt_session {
	struct rmt_config cfg;		/* strings owned (copies) */
	struct rmt_conn *jump;
	struct rmt_conn *nodes;
	unsigned gen;			/* bumped at every jump (re)connect */
	unsigned connects;
	struct rmt_expect *expect;
	size_t nexpect;
	struct strlist labels;		/* node, label, node, label … (rmt_label_node) */
	struct strlist users;		/* node, user, … (rmt_node_user) */
	double limit;			/* every wait ends by then; 0: none
					   (rmt_session_limit) */
};

#define RMT_TIMEOUT (-1000)		/* our own "rc" for a deadline that passed */
#define RMT_SLICE_MS 100		/* longest single poll, so hooks stay responsive */

void rmt_global_init(void);

/* The connection for node (NULL → jump), opened or re-opened as needed. */
struct rmt_conn *rmt_conn_get(struct rmt_session *, const char *node, char **cause);
/* "HOST", "HOST:PORT", "[v6]:PORT" → host (allocated) and port (22). */
void rmt_parse_node(const char *node, char **host, int *port);
/* The cached connection to node (NULL: the jump), or NULL; never connects. */
struct rmt_conn *rmt_conn_cached(struct rmt_session *, const char *node);
/* The socket that carries c (a node's bytes travel on its jump connection)
 * and the poll events it needs now; pushes what node sessions buffered. */
short rmt_conn_poll(struct rmt_conn *c, int *fd);
/* After an operation on c failed before anything was sent: 1 when the
 * failure was the connection (now marked broken, worth one retry). */
int rmt_conn_failed(struct rmt_conn *);
/* Wait until c can make progress, at most timeout_ms, also polling extra
 * (whose revents are filled in).  Pushes pending tunnel bytes first. */
int rmt_wait(struct rmt_conn *, struct pollfd *extra, int nextra, int timeout_ms);
/* Wait with an absolute deadline (now_ms() scale; 0 → the io timeout from
 * now); returns 0, or RMT_TIMEOUT once the deadline passed. */
int rmt_wait_until(struct rmt_conn *, double deadline);
double rmt_deadline(struct rmt_session *, int ms);
/* libssh2's last error on c as "message" (borrowed from libssh2). */
const char *rmt_ssh_error(struct rmt_conn *);
char *rmt_conn_error(struct rmt_conn *, const char *what);
/* Open a "session" channel on c (retrying once on a fresh connection). */
LIBSSH2_CHANNEL *rmt_open_channel(struct rmt_session *, const char *node,
    struct rmt_conn **cp, char **cause);
void rmt_channel_free(struct rmt_conn *, LIBSSH2_CHANNEL *);
/* Close without waiting for the server's side; freed later. */
void rmt_channel_abandon(struct rmt_conn *, LIBSSH2_CHANNEL *);
void rmt_reap_zombies(struct rmt_conn *);
LIBSSH2_SFTP *rmt_sftp(struct rmt_session *, const char *node,
    struct rmt_conn **cp, char **cause);

/* s[0..len) as it can be shown in a message: control characters, NUL,
 * backslash and '"' escaped as in C (sftp.c). */
char *rmt_printable(const char *s, size_t len);

/* Open name in dirfd for writing, never through a symbolic link (sftp.c).
 * mode is for a new file; an existing one keeps its mode, less set-id bits.
 * label names the file in messages. */
int rmt_open_dest(int dirfd, const char *name, const char *label, int mode,
    struct stat *st, char **cause);

/* Trees as one tar stream (tarcopy.c). */
/* In a tree upload that may resume, files this large go over SFTP after the
 * archive, each resumable; the archive itself starts over when repeated. */
#define RMT_TAR_RESUME_MIN (64ULL * 1024 * 1024)
/* 1 when node has GNU tar (asked once per connection), 0 not, -1 error. */
int rmt_has_tar(struct rmt_session *, const char *node, char **cause);
int rmt_put_tree_tar(struct rmt_session *, const char *node, const char *local,
    const char *remote, struct rmt_xfer *, char **cause);
int rmt_get_tree_tar(struct rmt_session *, const char *node, const char *src,
    int top, const char *local, struct rmt_xfer *, char **first_bad,
    char **cause);
/* path quoted for the remote shell, appended to b. */
void rmt_shquote(struct buf *b, const char *path);

/* Host keys (knownhosts.c). */
int rmt_hostkey_check(struct rmt_conn *, char **cause);
/* LIBSSH2_METHOD_HOSTKEY preference with the key types known for c first,
 * or NULL when none is known (keep the default). */
char *rmt_hostkey_prefs(struct rmt_conn *);

/* Authentication (auth.c). */
int rmt_auth(struct rmt_conn *, const char *user, double deadline, char **cause);

/* Default socket opener. */
int rmt_tcp_connect(const char *host, int port, int timeout_ms, char **cause);
int rmt_set_nonblock(int fd);

#endif
