/* session.c: the connection manager.
 *
 * The jump connection is a TCP socket (from the caller's opener) running a
 * non-blocking libssh2 session.  A node connection is a second non-blocking
 * libssh2 session whose send/recv callbacks move bytes over a direct-tcpip
 * channel of the jump session: libssh2 never touches a socket for it (it gets
 * a placeholder eventfd only because the handshake wants an fd).  All waiting
 * happens in rmt_wait(), which polls the jump socket; so everything runs in
 * the calling thread and a node session can only make progress when its
 * caller drives it, which is exactly when someone waits for it. */
#include "remote/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUNNEL_BUF_MAX (256 * 1024)
#define TUNNEL_WINDOW (8 * 1024 * 1024)

static void conn_close(struct rmt_conn *);
static void conn_free(struct rmt_conn *);
static struct rmt_conn *jump_get(struct rmt_session *, char **);
static struct rmt_conn *node_open(struct rmt_session *, const char *, char **);
static int tunnel_flush(struct rmt_conn *);
static char *xstrdup_or_null(const char *);
static char *lower_first(char *);

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void
global_init_once(void)
{
	libssh2_init(0);
}

void
rmt_global_init(void)
{
	pthread_once(&global_once, global_init_once);
}

struct rmt_session *
rmt_session_new(const struct rmt_config *cfg)
{
	struct rmt_session *s = xcalloc(1, sizeof *s);

	rmt_global_init();
	s->cfg = *cfg;
	s->cfg.jump_host = xstrdup_or_null(cfg->jump_host);
	s->cfg.user = xstrdup_or_null(cfg->user);
	s->cfg.node_user = xstrdup_or_null(cfg->node_user);
	s->cfg.key_file = xstrdup_or_null(cfg->key_file);
	s->cfg.known_hosts = xstrdup_or_null(cfg->known_hosts);
	if (s->cfg.jump_port <= 0)
		s->cfg.jump_port = 22;
	if (s->cfg.connect_timeout_ms <= 0)
		s->cfg.connect_timeout_ms = 15000;
	if (s->cfg.io_timeout_ms <= 0)
		s->cfg.io_timeout_ms = 60000;
	if (s->cfg.keepalive_s == 0)
		s->cfg.keepalive_s = 15;
	/* The jump host's alias and fingerprints join the per-host list. */
	if (cfg->jump_host != NULL && cfg->jump_alias != NULL)
		rmt_hostkey_alias(s, cfg->jump_host, s->cfg.jump_port, cfg->jump_alias);
	if (cfg->jump_host != NULL && cfg->njump_fingerprints > 0)
		rmt_expect_hostkeys(s, cfg->jump_host, s->cfg.jump_port,
		    cfg->jump_fingerprints, cfg->njump_fingerprints);
	s->cfg.jump_alias = NULL;
	s->cfg.jump_fingerprints = NULL;
	s->cfg.njump_fingerprints = 0;
	return s;
}

void
rmt_session_free(struct rmt_session *s)
{
	if (s == NULL)
		return;
	rmt_disconnect(s, NULL);
	for (size_t i = 0; i < s->nexpect; i++) {
		free(s->expect[i].host);
		free(s->expect[i].alias);
		strlist_release(&s->expect[i].fps);
	}
	free(s->expect);
	strlist_release(&s->labels);
	strlist_release(&s->users);
	free((char *)s->cfg.jump_host);
	free((char *)s->cfg.user);
	free((char *)s->cfg.node_user);
	free((char *)s->cfg.key_file);
	free((char *)s->cfg.known_hosts);
	free(s);
}

/* key, value, key, value …: set key's value (NULL removes it). */
static void
pairs_set(struct strlist *l, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i + 1 < l->n; i += 2)
		if (strcmp(l->v[i], key) == 0)
			break;
	if (i + 1 < l->n) {
		free(l->v[i + 1]);
		l->v[i + 1] = xstrdup(value != NULL ? value : "");
	} else if (value != NULL) {
		strlist_add(l, key);
		strlist_add(l, value);
	}
}

/* key's value, or NULL (an empty value counts as none). */
static const char *
pairs_get(const struct strlist *l, const char *key)
{
	for (size_t i = 0; key != NULL && i + 1 < l->n; i += 2)
		if (strcmp(l->v[i], key) == 0)
			return *l->v[i + 1] != '\0' ? l->v[i + 1] : NULL;
	return NULL;
}

void
rmt_node_user(struct rmt_session *s, const char *node, const char *user)
{
	pairs_set(&s->users, node, user);
}

void
rmt_label_node(struct rmt_session *s, const char *node, const char *label)
{
	pairs_set(&s->labels, node, label);
	for (struct rmt_conn *c = s->nodes; c != NULL; c = c->next)
		if (c->node != NULL && strcmp(c->node, node) == 0) {
			free(c->label);
			c->label = xstrdup(label);
		}
}

unsigned
rmt_session_connects(struct rmt_session *s)
{
	return s->connects;
}

int
rmt_connect(struct rmt_session *s, const char *node, char **cause)
{
	return rmt_conn_get(s, node, cause) == NULL ? -1 : 0;
}

/* Parse "HOST" or "HOST:PORT" (and "[v6]:PORT"). */
void
rmt_parse_node(const char *node, char **host, int *port)
{
	const char *colon = strrchr(node, ':');

	*port = 22;
	if (node[0] == '[' && (colon = strstr(node, "]:")) != NULL) {
		*host = xstrndup(node + 1, colon - node - 1);
		*port = atoi(colon + 2);
	} else if (colon != NULL && strchr(node, ':') == colon) {
		*host = xstrndup(node, colon - node);
		*port = atoi(colon + 1);
	} else
		*host = xstrdup(node);
	if (*port <= 0 || *port > 65535)
		*port = 22;
}

static struct rmt_conn *
node_find(struct rmt_session *s, const char *node)
{
	for (struct rmt_conn *c = s->nodes; c != NULL; c = c->next)
		if (strcmp(c->node, node) == 0)
			return c;
	return NULL;
}

static void
node_unlink(struct rmt_session *s, struct rmt_conn *c)
{
	for (struct rmt_conn **pp = &s->nodes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

void
rmt_disconnect(struct rmt_session *s, const char *node)
{
	struct rmt_conn *c;

	if (node != NULL) {
		if ((c = node_find(s, node)) != NULL) {
			node_unlink(s, c);
			conn_free(c);
		}
		return;
	}
	/* Nodes ride on the jump: close them first, each unlinked before it
	 * is freed (closing one flushes the others still on the list). */
	while ((c = s->nodes) != NULL) {
		s->nodes = c->next;
		conn_free(c);
	}
	if (s->jump != NULL) {
		conn_free(s->jump);
		s->jump = NULL;
	}
}

/* A cheap look at the jump socket: has the server gone away while we were
 * idle?  Reads nothing that libssh2 would need. */
static int
jump_alive(struct rmt_conn *j)
{
	struct pollfd pfd = { .fd = j->fd, .events = POLLIN };
	char c;

	if (j->broken)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 1;
	if (pfd.revents & (POLLERR | POLLNVAL))
		return 0;
	if (pfd.revents & (POLLIN | POLLHUP)) {
		ssize_t n = recv(j->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 0;
	}
	return 1;
}

struct rmt_conn *
rmt_conn_get(struct rmt_session *s, const char *node, char **cause)
{
	struct rmt_conn *c;

	*cause = NULL;
	if (node == NULL || *node == '\0' || strcmp(node, "jump") == 0)
		return jump_get(s, cause);
	if ((c = node_find(s, node)) != NULL) {
		if (!c->broken && s->jump != NULL && c->jump == s->jump &&
		    c->gen == s->gen && jump_alive(s->jump))
			return c;
		node_unlink(s, c);
		conn_free(c);
	}
	return node_open(s, node, cause);
}

static int
ssh_error_is_transport(int err)
{
	switch (err) {
	case LIBSSH2_ERROR_SOCKET_NONE:
	case LIBSSH2_ERROR_SOCKET_SEND:
	case LIBSSH2_ERROR_SOCKET_RECV:
	case LIBSSH2_ERROR_SOCKET_DISCONNECT:
	case LIBSSH2_ERROR_SOCKET_TIMEOUT:
	case LIBSSH2_ERROR_TIMEOUT:
	case LIBSSH2_ERROR_KEX_FAILURE:
	case LIBSSH2_ERROR_DECRYPT:
	case LIBSSH2_ERROR_BANNER_RECV:
	case LIBSSH2_ERROR_BANNER_SEND:
	case RMT_TIMEOUT:
		return 1;
	}
	return 0;
}

int
rmt_conn_failed(struct rmt_conn *c)
{
	struct rmt_session *s = c->s;
	int err = libssh2_session_last_errno(c->ssh);

	if (c->jump == NULL) {
		if (c->timed_out || ssh_error_is_transport(err) || !jump_alive(c))
			c->broken = 1;
		if (c->broken)
			for (struct rmt_conn *n = s->nodes; n != NULL; n = n->next)
				n->broken = 1;
		return c->broken;
	}
	if (c->tunnel_err || c->tunnel_eof || c->timed_out || ssh_error_is_transport(err))
		c->broken = 1;
	if (c->jump != NULL && (ssh_error_is_transport(
	    libssh2_session_last_errno(c->jump->ssh)) || !jump_alive(c->jump))) {
		c->jump->broken = 1;
		c->broken = 1;
	}
	return c->broken;
}

const char *
rmt_ssh_error(struct rmt_conn *c)
{
	char *msg = NULL;

	if (c->tunnel_err && c->jump != NULL) {
		libssh2_session_last_error(c->jump->ssh, &msg, NULL, 0);
		return msg != NULL && *msg != '\0' ? msg : "the jump host dropped the tunnel";
	}
	if (c->tunnel_eof)
		return "the connection was closed";
	libssh2_session_last_error(c->ssh, &msg, NULL, 0);
	return msg != NULL && *msg != '\0' ? msg : "unknown error";
}

/* "label: what: libssh2 message". */
char *
rmt_conn_error(struct rmt_conn *c, const char *what)
{
	int err = libssh2_session_last_errno(c->ssh);
	char *m, *msg;

	if (c->timed_out) {
		/* An answer may still come, to a request nobody waits for:
		 * libssh2 would hand it to the next one (an SFTP stat read a
		 * directory's listing). The connection goes; the next
		 * operation opens a new one. */
		c->timed_out = 0;
		c->broken = 1;
		return xasprintf("%s: %s: timed out", c->label, what);
	}
	m = lower_first(xstrdup(rmt_ssh_error(c)));
	if (c->broken || c->tunnel_err || c->tunnel_eof || ssh_error_is_transport(err))
		msg = xasprintf("%s: %s: connection lost (%s)", c->label, what, m);
	else
		msg = xasprintf("%s: %s: %s", c->label, what, m);
	free(m);
	return msg;
}

double
rmt_deadline(struct rmt_session *s, int ms)
{
	double d = now_ms() + (ms > 0 ? ms : s->cfg.io_timeout_ms);

	return s->limit > 0 && s->limit < d ? s->limit : d;
}

void
rmt_session_limit(struct rmt_session *s, int ms)
{
	s->limit = ms > 0 ? now_ms() + ms : 0;
}

struct rmt_conn *
rmt_conn_cached(struct rmt_session *s, const char *node)
{
	if (node == NULL)
		return s->jump;
	return node_find(s, node);
}

short
rmt_conn_poll(struct rmt_conn *c, int *fd)
{
	struct rmt_conn *j = c->jump != NULL ? c->jump : c;
	short ev = POLLIN;

	/* Bytes a node session gave us must reach the jump session; a pending
	 * partial packet there blocks every other sender.  A flush stuck on
	 * the socket shows as OUTBOUND below; one stuck on the channel window
	 * waits for the window adjust, which is inbound. */
	for (struct rmt_conn *nc = c->s->nodes; nc != NULL; nc = nc->next)
		if (nc->jump == j && nc->tunnel != NULL && !nc->tunnel_err)
			tunnel_flush(nc);
	if (libssh2_session_block_directions(j->ssh) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		ev |= POLLOUT;
	*fd = j->fd;
	return ev;
}

int
rmt_wait(struct rmt_conn *c, struct pollfd *extra, int nextra, int timeout_ms)
{
	struct pollfd pfd[8];
	int n = 0;

	pfd[n].events = rmt_conn_poll(c, &pfd[n].fd);
	n++;
	for (int i = 0; i < nextra && n < 8; i++)
		pfd[n++] = extra[i];
	if (timeout_ms > RMT_SLICE_MS)
		timeout_ms = RMT_SLICE_MS;
	if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
		return -1;
	for (int i = 0; i < nextra && i + 1 < n; i++)
		extra[i].revents = pfd[i + 1].revents;
	return 0;
}

int
rmt_wait_until(struct rmt_conn *c, double deadline)
{
	double left = deadline - now_ms();

	if (left <= 0) {
		c->timed_out = 1;
		return RMT_TIMEOUT;
	}
	rmt_wait(c, NULL, 0, (int)left + 1);
	return 0;
}

/* Connecting. */

static void
sock_tune(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int
rmt_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static char *
lower_first(char *s)
{
	if (s != NULL && s[0] != '\0' && islower((unsigned char)s[1]))
		s[0] = (char)tolower((unsigned char)s[0]);
	return s;
}

int
rmt_tcp_connect(const char *host, int port, int timeout_ms, char **cause)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char portstr[16];
	int fd = -1, err = 0, rc;

	snprintf(portstr, sizeof portstr, "%d", port);
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		*cause = lower_first(xasprintf("%s", gai_strerror(rc)));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd == -1) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			socklen_t len = sizeof err;

			rc = poll(&pfd, 1, timeout_ms);
			if (rc == 0)
				err = ETIMEDOUT;
			else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			if (err == 0)
				break;
		} else
			err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		if (err == ETIMEDOUT)
			*cause = xasprintf("connection timed out after %d s", (timeout_ms + 999) / 1000);
		else
			*cause = lower_first(xstrdup(strerror(err ? err : EHOSTUNREACH)));
		return -1;
	}
	return fd;
}

/* Who logs in to node: its own user (rmt_node_user), else the config's. */
static const char *
node_user(struct rmt_session *s, const char *node)
{
	const char *u = pairs_get(&s->users, node);

	if (u != NULL)
		return u;
	return s->cfg.node_user ? s->cfg.node_user : s->cfg.user;
}

static struct rmt_conn *
conn_new(struct rmt_session *s, const char *node, const char *host, int port)
{
	struct rmt_conn *c = xcalloc(1, sizeof *c);

	c->s = s;
	c->node = node != NULL ? xstrdup(node) : NULL;
	c->host = xstrdup(host);
	c->port = port;
	c->fd = -1;
	buf_init(&c->out);
	if (pairs_get(&s->labels, node) != NULL)
		/* the shell's name for the node (rmt_label_node) */
		c->label = xstrdup(pairs_get(&s->labels, node));
	else if (node == NULL)
		c->label = xasprintf("jump %s:%d", host, port);
	else if (port == 22)
		c->label = xasprintf("node %s", host);
	else
		c->label = xasprintf("node %s:%d", host, port);
	c->addrname = port == 22 ? xstrdup(host) : xasprintf("[%s]:%d", host, port);
	c->khname = NULL;
	for (size_t i = 0; i < s->nexpect; i++)
		if (s->expect[i].alias != NULL && s->expect[i].port == port &&
		    strcmp(s->expect[i].host, host) == 0)
			c->khname = xstrdup(s->expect[i].alias);
	if (c->khname == NULL)
		c->khname = xstrdup(c->addrname);
	return c;
}

static int
handshake(struct rmt_conn *c, double deadline, char **cause)
{
	int rc;

	while ((rc = libssh2_session_handshake(c->ssh, c->fd)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT) {
			*cause = xasprintf("%s: ssh handshake timed out", c->label);
			return -1;
		}
	if (rc != 0) {
		if (c->tunnel_eof || c->tunnel_err)
			*cause = xasprintf("%s: ssh handshake failed: the jump host closed the "
			    "connection (is sshd running on the node?)", c->label);
		else
			*cause = xasprintf("%s: ssh handshake failed: %s", c->label, rmt_ssh_error(c));
		return -1;
	}
	return 0;
}

/* Ciphers and MACs, fastest first on x86-64 with AES-NI and SHA-NI (issue
 * 15). libssh2 1.10 (Debian 12) calls the cipher once per 16-byte block:
 * there, openssl speed -evp at 16 bytes gives aes-128-ctr 534 MB/s,
 * aes-256-ctr 474 MB/s; HMAC at 32 KB: sha1 1469, sha256 1310, sha512 587
 * MB/s (hmac-sha1 is left last: barely faster, and the weaker hash). The
 * GCM modes (libssh2 1.11.0+, OpenSSL backend) are cipher and MAC in one
 * and need no HMAC; ETM MACs (1.11.0+) are what OpenSSH prefers. */
#define CIPHER_PREFS "aes128-gcm@openssh.com,aes256-gcm@openssh.com," \
	"aes128-ctr,aes256-ctr,aes192-ctr"
#define MAC_PREFS "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
	"hmac-sha2-256,hmac-sha2-512,hmac-sha1"

/* Set method's preference to the names in want that this libssh2 knows:
 * 1.10 corrupts memory when it drops an unknown name itself (below), and a
 * newer library's names (GCM, ETM) are then used without a change here. */
static void
supported_prefs(LIBSSH2_SESSION *ssh, int method, const char *want)
{
	const char **algs = NULL;
	int n = libssh2_session_supported_algs(ssh, method, &algs);
	char *list = xstrdup(want), *save = NULL;
	struct buf b;

	buf_init(&b);
	for (char *w = strtok_r(list, ",", &save); w != NULL;
	    w = strtok_r(NULL, ",", &save))
		for (int i = 0; i < n; i++)
			if (strcmp(algs[i], w) == 0) {
				buf_printf(&b, "%s%s", b.len ? "," : "", w);
				break;
			}
	if (n > 0)
		libssh2_free(ssh, algs);
	if (b.len > 0)
		libssh2_session_method_pref(ssh, method, b.data);
	buf_release(&b);
	free(list);
}

/* Preferences that keep libssh2 1.10 on algorithms current OpenSSH accepts.
 * Host key types already pinned for the host come first, as OpenSSH orders
 * them, so a host with several keys shows the one we know.
 * Every name must be one libssh2 knows: 1.10 corrupts memory (overlapping
 * memcpy) when it drops an unknown name from a preference list.  1.10 has
 * no rsa-sha2-* host keys, so a host needs an ed25519 or ecdsa key. */
static void
set_methods(struct rmt_conn *c)
{
	LIBSSH2_SESSION *ssh = c->ssh;
	char *known = rmt_hostkey_prefs(c);

	libssh2_session_method_pref(ssh, LIBSSH2_METHOD_KEX,
	    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
	    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group16-sha512,"
	    "diffie-hellman-group14-sha256,diffie-hellman-group-exchange-sha256");
	libssh2_session_method_pref(ssh, LIBSSH2_METHOD_HOSTKEY, known != NULL ?
	    known : "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
	    "ecdsa-sha2-nistp521,ssh-rsa");
	free(known);
	/* Fastest first, among what this libssh2 has (see supported_prefs). */
	supported_prefs(ssh, LIBSSH2_METHOD_CRYPT_CS, CIPHER_PREFS);
	supported_prefs(ssh, LIBSSH2_METHOD_CRYPT_SC, CIPHER_PREFS);
	supported_prefs(ssh, LIBSSH2_METHOD_MAC_CS, MAC_PREFS);
	supported_prefs(ssh, LIBSSH2_METHOD_MAC_SC, MAC_PREFS);
}

static struct rmt_conn *
jump_get(struct rmt_session *s, char **cause)
{
	struct rmt_conn *c;
	double deadline;
	char *why = NULL;

	if (s->jump != NULL) {
		if (jump_alive(s->jump))
			return s->jump;
		rmt_disconnect(s, NULL);
	}
	if (s->cfg.jump_host == NULL || s->cfg.user == NULL) {
		*cause = xstrdup("jump: no jump host or user configured");
		return NULL;
	}
	c = conn_new(s, NULL, s->cfg.jump_host, s->cfg.jump_port);
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	if (s->cfg.open_socket != NULL)
		c->fd = s->cfg.open_socket(s->cfg.open_socket_arg, c->host, c->port, &why);
	else
		c->fd = rmt_tcp_connect(c->host, c->port, deadline - now_ms() > 1 ?
		    (int)(deadline - now_ms()) : 1, &why);
	if (c->fd == -1) {
		*cause = xasprintf("%s: %s", c->label, why != NULL ? why : "cannot connect");
		free(why);
		conn_free(c);
		return NULL;
	}
	sock_tune(c->fd);
	rmt_set_nonblock(c->fd);
	c->ssh = libssh2_session_init_ex(NULL, NULL, NULL, c);
	libssh2_session_set_blocking(c->ssh, 0);
	set_methods(c);
	if (handshake(c, deadline, cause) == -1 ||
	    rmt_hostkey_check(c, cause) == -1 ||
	    rmt_auth(c, s->cfg.user, deadline, cause) == -1) {
		conn_free(c);
		return NULL;
	}
	if (s->cfg.keepalive_s > 0)
		libssh2_keepalive_config(c->ssh, 1, (unsigned)s->cfg.keepalive_s);
	s->jump = c;
	s->gen++;
	s->connects++;
	return c;
}

/* The node transport: libssh2's socket I/O for a node session goes to the
 * tunnel channel on the jump session.  Outgoing bytes are accepted into our
 * own buffer so that a partial packet pending on the jump session is always
 * completed by us (tunnel_flush) and never abandoned by a node operation
 * that returned early. */

static LIBSSH2_SEND_FUNC(tunnel_send)
{
	struct rmt_conn *c = *abstract;
	size_t room;

	if (socket != c->fd) {
		/* libssh2 talks to ssh-agent through these callbacks too */
		ssize_t r = send(socket, buffer, length, flags);
		return r < 0 ? -errno : r;
	}
	if (c->tunnel == NULL || c->tunnel_err || c->tunnel_eof)
		return -EPIPE;
	if (tunnel_flush(c) < 0)
		return -EPIPE;
	room = TUNNEL_BUF_MAX - (c->out.len - c->out_off);
	if (room == 0)
		return -EAGAIN;
	if (length > room)
		length = room;
	if (c->out_off > 0 && c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	} else if (c->out_off >= 65536) {
		/* The pending jump packet was copied into libssh2's own buffer
		 * already, so moving ours does not disturb it. */
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	buf_add(&c->out, buffer, length);
	if (tunnel_flush(c) < 0)
		return -EPIPE;
	return (ssize_t)length;
}

static LIBSSH2_RECV_FUNC(tunnel_recv)
{
	struct rmt_conn *c = *abstract;
	ssize_t n;
	int f;

	if (socket != c->fd) {
		n = recv(socket, buffer, length, flags);
		return n < 0 ? -errno : n;
	}
	if (c->tunnel == NULL || c->tunnel_err)
		return -ECONNRESET;
	if (c->tunnel_eof)
		return 0;
	/* A half-sent packet on the jump session must go out before anything
	 * else (a window adjust from channel_read) is sent there.  A flush
	 * waiting only for channel window leaves nothing half-sent, and then
	 * we must keep reading, or both directions could wait on each other. */
	if ((f = tunnel_flush(c)) < 0)
		return -ECONNRESET;
	if (f > 0 && (libssh2_session_block_directions(c->jump->ssh) &
	    LIBSSH2_SESSION_BLOCK_OUTBOUND))
		return -EAGAIN;
	n = libssh2_channel_read(c->tunnel, buffer, length);
	if (n > 0)
		return n;
	if (n == LIBSSH2_ERROR_EAGAIN || n == LIBSSH2_ERROR_BAD_USE)
		return -EAGAIN;
	if (n == 0) {
		if (!libssh2_channel_eof(c->tunnel))
			return -EAGAIN;
		c->tunnel_eof = 1;
		return 0;
	}
	c->tunnel_err = (int)n;
	return -ECONNRESET;
}

/* Push buffered node bytes into the tunnel: 0 all sent, 1 pending, -1 error. */
static int
tunnel_flush(struct rmt_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = libssh2_channel_write(c->tunnel, c->out.data + c->out_off,
		    c->out.len - c->out_off);
		if (n == LIBSSH2_ERROR_EAGAIN || n == LIBSSH2_ERROR_BAD_USE)
			return 1;
		if (n < 0) {
			c->tunnel_err = (int)n;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	return 0;
}

/* A direct-tcpip channel like libssh2_channel_direct_tcpip_ex, but with a
 * larger receive window: the node session's whole stream flows through it,
 * and the default 2 MB stalls bulk output whenever we are descheduled.
 * msg holds the request across EAGAIN retries (libssh2 wants the same
 * arguments again). */
static LIBSSH2_CHANNEL *
open_direct(LIBSSH2_SESSION *ssh, const char *host, int port, struct buf *msg)
{
	if (msg->len == 0) {
		const char *orig = "127.0.0.1";
		uint32_t v[4] = { (uint32_t)strlen(host), (uint32_t)port,
		    (uint32_t)strlen(orig), 22 };
		unsigned char b[4];

		for (int i = 0; i < 4; i++) {
			b[0] = (unsigned char)(v[i] >> 24);
			b[1] = (unsigned char)(v[i] >> 16);
			b[2] = (unsigned char)(v[i] >> 8);
			b[3] = (unsigned char)v[i];
			buf_add(msg, b, 4);
			if (i == 0)
				buf_adds(msg, host);
			else if (i == 2)
				buf_adds(msg, orig);
		}
	}
	return libssh2_channel_open_ex(ssh, "direct-tcpip", 12, TUNNEL_WINDOW,
	    LIBSSH2_CHANNEL_PACKET_DEFAULT, msg->data, (unsigned)msg->len);
}

static struct rmt_conn *
node_open(struct rmt_session *s, const char *node, char **cause)
{
	struct rmt_conn *j, *c;
	LIBSSH2_CHANNEL *ch = NULL;
	struct buf msg;
	double deadline;
	char *host;
	int port;

	rmt_parse_node(node, &host, &port);
	buf_init(&msg);
	for (int attempt = 0; attempt < 2 && ch == NULL; attempt++) {
		if ((j = jump_get(s, cause)) == NULL) {
			free(host);
			buf_release(&msg);
			return NULL;
		}
		deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
		while ((ch = open_direct(j->ssh, host, port, &msg)) == NULL &&
		    libssh2_session_last_errno(j->ssh) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(j, deadline) == RMT_TIMEOUT)
				break;
		if (ch != NULL)
			break;
		if (attempt == 0 && rmt_conn_failed(j))
			continue;
		c = conn_new(s, node, host, port);
		if (libssh2_session_last_errno(j->ssh) == LIBSSH2_ERROR_CHANNEL_FAILURE) {
			/* "Channel open failure (connect failed)" → the reason */
			const char *m = rmt_ssh_error(j), *p = strchr(m, '(');
			*cause = xasprintf("%s: channel refused by the jump host%s%s",
			    c->label, p != NULL ? " " : "", p != NULL ? p : "");
		} else
			*cause = rmt_conn_error(j, "cannot open the tunnel to the node");
		if (strncmp(*cause, "jump", 4) == 0) {
			char *t = xasprintf("%s: %s", c->label, *cause);
			free(*cause);
			*cause = t;
		}
		conn_free(c);
		free(host);
		buf_release(&msg);
		return NULL;
	}
	buf_release(&msg);
	c = conn_new(s, node, host, port);
	free(host);
	c->jump = j;
	c->gen = s->gen;
	c->tunnel = ch;
	c->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->ssh = libssh2_session_init_ex(NULL, NULL, NULL, c);
	libssh2_session_set_blocking(c->ssh, 0);
	libssh2_session_callback_set(c->ssh, LIBSSH2_CALLBACK_SEND, (void *)tunnel_send);
	libssh2_session_callback_set(c->ssh, LIBSSH2_CALLBACK_RECV, (void *)tunnel_recv);
	set_methods(c);
	c->next = s->nodes;
	s->nodes = c;
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	if (handshake(c, deadline, cause) == -1 ||
	    rmt_hostkey_check(c, cause) == -1 ||
	    rmt_auth(c, node_user(s, node), deadline, cause) == -1) {
		node_unlink(s, c);
		conn_free(c);
		return NULL;
	}
	s->connects++;
	return c;
}

/* Closing.  libssh2 calls may need I/O even to free things; every loop here
 * is bounded by a short deadline and gives up (leaking at worst) rather than
 * hang on a dead peer. */
static void
conn_close(struct rmt_conn *c)
{
	double deadline = now_ms() + 2000;
	int dead = c->broken || c->tunnel_err || c->tunnel_eof ||
	    (c->jump != NULL && c->jump->broken);

	if (dead)
		deadline = now_ms() + 200;
	if (c->ssh != NULL) {
		if (c->sftp != NULL) {
			while (libssh2_sftp_shutdown(c->sftp) == LIBSSH2_ERROR_EAGAIN &&
			    !dead && rmt_wait_until(c, deadline) == 0)
				;
			c->sftp = NULL;
		}
		if (!dead)
			while (libssh2_session_disconnect(c->ssh, "bye") == LIBSSH2_ERROR_EAGAIN &&
			    rmt_wait_until(c, deadline) == 0)
				;
		/* A dead transport fails fast: sends error out at once. */
		if (dead && c->jump != NULL)
			c->tunnel_err = LIBSSH2_ERROR_SOCKET_SEND;
		while (libssh2_session_free(c->ssh) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT) {
				c->tunnel_err = LIBSSH2_ERROR_SOCKET_SEND;
				if (libssh2_session_free(c->ssh) == LIBSSH2_ERROR_EAGAIN)
					break;	/* leaked, bounded */
				break;
			}
		c->ssh = NULL;
	}
	if (c->tunnel != NULL && c->jump != NULL && c->jump->ssh != NULL) {
		if (!c->jump->broken) {
			tunnel_flush(c);
			libssh2_channel_send_eof(c->tunnel);
		}
		rmt_channel_free(c->jump, c->tunnel);
		c->tunnel = NULL;
	}
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
}

static void
conn_free(struct rmt_conn *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	buf_release(&c->out);
	free(c->node);
	free(c->host);
	free(c->label);
	free(c->addrname);
	free(c->khname);
	free(c);
}

void
rmt_channel_free(struct rmt_conn *c, LIBSSH2_CHANNEL *ch)
{
	double deadline = now_ms() + (c->broken ? 200 : 2000);
	int rc;

	while ((rc = libssh2_channel_free(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			return;	/* freed with the session */
}

void
rmt_channel_abandon(struct rmt_conn *c, LIBSSH2_CHANNEL *ch)
{
	if (libssh2_channel_free(ch) != LIBSSH2_ERROR_EAGAIN)
		return;
	if (c->nzombie == (int)(sizeof c->zombie / sizeof c->zombie[0])) {
		rmt_channel_free(c, c->zombie[0]);
		memmove(c->zombie, c->zombie + 1, (size_t)--c->nzombie * sizeof c->zombie[0]);
	}
	c->zombie[c->nzombie++] = ch;
}

void
rmt_reap_zombies(struct rmt_conn *c)
{
	int i, n = 0;

	for (i = 0; i < c->nzombie; i++)
		if (libssh2_channel_free(c->zombie[i]) == LIBSSH2_ERROR_EAGAIN)
			c->zombie[n++] = c->zombie[i];
	c->nzombie = n;
}

int
rmt_session_tick(struct rmt_session *s)
{
	int next = s->cfg.keepalive_s > 0 ? s->cfg.keepalive_s : 60;

	if (s->jump == NULL)
		return next;
	if (!jump_alive(s->jump)) {
		rmt_disconnect(s, NULL);	/* reopened on next use */
		return next;
	}
	if (s->cfg.keepalive_s > 0) {
		int rc = libssh2_keepalive_send(s->jump->ssh, &next);
		if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN)
			s->jump->broken = 1;
	}
	return next > 0 ? next : 1;
}

LIBSSH2_CHANNEL *
rmt_open_channel(struct rmt_session *s, const char *node, struct rmt_conn **cp,
    char **cause)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct rmt_conn *c = rmt_conn_get(s, node, cause);
		LIBSSH2_CHANNEL *ch;
		double deadline;

		if (c == NULL)
			return NULL;
		if (c->nzombie > 0)
			rmt_reap_zombies(c);
		deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
		while ((ch = libssh2_channel_open_ex(c->ssh, "session", 7,
		    4 * 1024 * 1024, 32768, NULL, 0)) == NULL &&
		    libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (ch != NULL) {
			*cp = c;
			return ch;
		}
		if (attempt == 0 && rmt_conn_failed(c))
			continue;
		*cause = rmt_conn_error(c, "cannot open a session channel");
		return NULL;
	}
	*cause = xstrdup("unreachable");
	return NULL;
}

LIBSSH2_SFTP *
rmt_sftp(struct rmt_session *s, const char *node, struct rmt_conn **cp, char **cause)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		struct rmt_conn *c = rmt_conn_get(s, node, cause);
		double deadline;

		if (c == NULL)
			return NULL;
		*cp = c;
		if (c->sftp != NULL)
			return c->sftp;
		deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
		while ((c->sftp = libssh2_sftp_init(c->ssh)) == NULL &&
		    libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (c->sftp != NULL)
			return c->sftp;
		if (attempt == 0 && rmt_conn_failed(c))
			continue;
		*cause = rmt_conn_error(c, "sftp subsystem refused");
		return NULL;
	}
	*cause = xstrdup("unreachable");
	return NULL;
}

static struct rmt_expect *
expect_get(struct rmt_session *s, const char *host, int port)
{
	struct rmt_expect *e;

	if (port <= 0)
		port = 22;
	for (size_t i = 0; i < s->nexpect; i++)
		if (strcmp(s->expect[i].host, host) == 0 && s->expect[i].port == port)
			return &s->expect[i];
	s->expect = xreallocarray(s->expect, s->nexpect + 1, sizeof *s->expect);
	e = &s->expect[s->nexpect++];
	e->host = xstrdup(host);
	e->port = port;
	e->alias = NULL;
	strlist_init(&e->fps);
	return e;
}

void
rmt_expect_hostkeys(struct rmt_session *s, const char *host, int port,
    const char *const *fps, size_t n)
{
	struct rmt_expect *e = expect_get(s, host, port);

	for (size_t i = 0; i < n; i++)
		if (!strlist_has(&e->fps, fps[i]))
			strlist_add(&e->fps, fps[i]);
}

void
rmt_hostkey_alias(struct rmt_session *s, const char *host, int port,
    const char *alias)
{
	struct rmt_expect *e = expect_get(s, host, port);

	free(e->alias);
	e->alias = alias != NULL && *alias != '\0' ? xstrdup(alias) : NULL;
}

char *
rmt_hostkey_fingerprint(struct rmt_session *s, const char *node, char **cause)
{
	struct rmt_conn *c = rmt_conn_get(s, node, cause);
	const char *key;
	size_t len;
	int type;

	if (c == NULL)
		return NULL;
	if ((key = libssh2_session_hostkey(c->ssh, &len, &type)) == NULL) {
		*cause = xasprintf("%s: no host key", c->label);
		return NULL;
	}
	return rmt_fingerprint(key, len);
}

char *
rmt_methods(struct rmt_session *s, const char *node, char **cause)
{
	struct rmt_conn *c = rmt_conn_get(s, node, cause);
	const char *cs, *sc, *mcs, *msc;

	if (c == NULL)
		return NULL;
	cs = libssh2_session_methods(c->ssh, LIBSSH2_METHOD_CRYPT_CS);
	sc = libssh2_session_methods(c->ssh, LIBSSH2_METHOD_CRYPT_SC);
	mcs = libssh2_session_methods(c->ssh, LIBSSH2_METHOD_MAC_CS);
	msc = libssh2_session_methods(c->ssh, LIBSSH2_METHOD_MAC_SC);
	return xasprintf("%s %s %s %s", cs ? cs : "-", mcs ? mcs : "-",
	    sc ? sc : "-", msc ? msc : "-");
}

static char *
xstrdup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}
