/* forward.c: local port forwarding (ssh -L) on 127.0.0.1.
 *
 * Threading: each forwarder has its own rmt_session (its own jump
 * connection, and its own connection to the node it forwards through, if
 * any) and is the only thread that ever touches it, so no libssh2
 * object is shared between threads and nothing needs a lock except the
 * stats.  The thread runs a poll() loop over the listener, the accepted
 * sockets and the jump socket; each accepted connection gets its own
 * direct-tcpip channel.  libssh2 can open one channel at a time per session
 * in non-blocking mode, so new connections queue while one opens.  If the
 * jump connection drops, open connections are closed and the next accepted
 * one reconnects.  A stop closes whatever is still open and counts it, so
 * the final stats always balance (accepted == closed). */
#include "remote/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FWD_BUF 32768
#define FWD_CLOSE_MS 3000

enum { F_OPENING, F_OPEN, F_CLOSING };

struct fconn {
	struct fconn *next;
	int fd;
	int peer_port;
	int state;
	LIBSSH2_CHANNEL *ch;
	double closing_since;
	size_t uplen, upoff, downlen, downoff;
	int local_eof, eof_sent, remote_eof, shut_wr;
	char up[FWD_BUF], down[FWD_BUF];
};

struct rmt_forward {
	struct rmt_session *s;
	char *via;			/* node the channels open on; NULL: the jump */
	char *target;
	int tport;
	int lfd, port;
	int wake[2];
	pthread_t th;
	pthread_mutex_t mu;
	struct rmt_forward_stats st;	/* under mu */
	int stop;			/* under mu */
	int halted;			/* thread joined, connections counted */
	struct fconn *conns;
	struct fconn *opening;		/* its channel open is under way */
	struct pollfd *pfd;		/* the thread's poll set */
	size_t npfd;
};

static void *forward_main(void *);
static void fconn_close(struct rmt_forward *, struct fconn *, int failed);

int
rmt_forward_start(const struct rmt_config *cfg, int lport,
    const struct rmt_forward_via *via, const char *target_host,
    int target_port, struct rmt_forward **fp, char **cause)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	struct rmt_forward *f;
	int one = 1;

	*cause = NULL;
	rmt_global_init();
	f = xcalloc(1, sizeof *f);
	f->target = xstrdup(target_host);
	f->tport = target_port;
	f->wake[0] = f->wake[1] = -1;
	pthread_mutex_init(&f->mu, NULL);
	/* Only ever loopback: a tunnel must not open a port to the network. */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)lport);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->lfd == -1 ||
	    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) == -1 ||
	    listen(f->lfd, 128) == -1 ||
	    getsockname(f->lfd, (struct sockaddr *)&sa, &len) == -1) {
		*cause = xasprintf("tunnel: cannot listen on 127.0.0.1:%d: %s", lport,
		    strerror(errno));
		goto fail;
	}
	f->port = ntohs(sa.sin_port);
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		*cause = xasprintf("tunnel: pipe: %s", strerror(errno));
		goto fail;
	}
	f->s = rmt_session_new(cfg);
	if (via != NULL) {
		char *host = NULL;
		int port;

		f->via = xstrdup(via->node);
		rmt_parse_node(f->via, &host, &port);
		if (via->alias != NULL)
			rmt_hostkey_alias(f->s, host, port, via->alias);
		free(host);
		if (via->user != NULL)
			rmt_node_user(f->s, f->via, via->user);
	}
	/* Connect now: host-key and login problems show at once. */
	if (rmt_connect(f->s, f->via, cause) == -1)
		goto fail;
	if ((errno = pthread_create(&f->th, NULL, forward_main, f)) != 0) {
		*cause = xasprintf("tunnel: cannot start a thread: %s", strerror(errno));
		goto fail;
	}
	*fp = f;
	return 0;
fail:
	if (f->lfd != -1)
		close(f->lfd);
	if (f->wake[0] != -1) {
		close(f->wake[0]);
		close(f->wake[1]);
	}
	rmt_session_free(f->s);
	pthread_mutex_destroy(&f->mu);
	free(f->via);
	free(f->target);
	free(f);
	return -1;
}

int
rmt_forward_port(const struct rmt_forward *f)
{
	return f->port;
}

void
rmt_forward_stats(struct rmt_forward *f, struct rmt_forward_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	st->last_error = f->st.last_error ? xstrdup(f->st.last_error) : NULL;
	pthread_mutex_unlock(&f->mu);
}

/* Stop the thread; it closes and counts every connection still open before
 * it ends.  Then no client can connect: the listener goes too. */
void
rmt_forward_halt(struct rmt_forward *f)
{
	if (f == NULL || f->halted)
		return;
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_mutex_unlock(&f->mu);
	(void)!write(f->wake[1], "x", 1);
	pthread_join(f->th, NULL);
	f->halted = 1;
	close(f->lfd);
	f->lfd = -1;
}

void
rmt_forward_stop(struct rmt_forward *f)
{
	if (f == NULL)
		return;
	rmt_forward_halt(f);
	rmt_session_free(f->s);
	close(f->wake[0]);
	close(f->wake[1]);
	pthread_mutex_destroy(&f->mu);
	free(f->pfd);
	free(f->st.last_error);
	free(f->via);
	free(f->target);
	free(f);
}

static void
set_error(struct rmt_forward *f, char *msg)
{
	pthread_mutex_lock(&f->mu);
	free(f->st.last_error);
	f->st.last_error = msg;
	pthread_mutex_unlock(&f->mu);
}

static int
stopping(struct rmt_forward *f)
{
	int stop;

	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

static int
again(ssize_t rc)
{
	/* BAD_USE: another channel's packet is half-sent; it finishes first. */
	return rc == LIBSSH2_ERROR_EAGAIN || rc == LIBSSH2_ERROR_BAD_USE;
}

/* Move bytes for one open connection; returns 1 on progress, -1 when done. */
static int
pump(struct rmt_forward *f, struct fconn *c)
{
	int progress = 0;
	ssize_t n;

	/* local → remote */
	if (!c->local_eof && c->uplen == 0) {
		n = recv(c->fd, c->up, FWD_BUF, MSG_DONTWAIT);
		if (n > 0) {
			c->uplen = (size_t)n;
			c->upoff = 0;
			progress = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			c->local_eof = 1;
			progress = 1;
		}
	}
	while (c->upoff < c->uplen) {
		n = libssh2_channel_write(c->ch, c->up + c->upoff, c->uplen - c->upoff);
		if (again(n))
			break;
		if (n < 0)
			return -1;
		c->upoff += (size_t)n;
		progress = 1;
	}
	if (c->upoff == c->uplen) {
		pthread_mutex_lock(&f->mu);
		f->st.bytes_out += c->uplen;
		pthread_mutex_unlock(&f->mu);
		c->uplen = c->upoff = 0;
	}
	if (c->local_eof && c->uplen == 0 && !c->eof_sent) {
		n = libssh2_channel_send_eof(c->ch);
		if (!again(n)) {
			c->eof_sent = 1;
			progress = 1;
		}
	}
	/* remote → local */
	if (c->downoff == c->downlen && !c->remote_eof) {
		n = libssh2_channel_read(c->ch, c->down, FWD_BUF);
		if (n > 0) {
			c->downlen = (size_t)n;
			c->downoff = 0;
			progress = 1;
		} else if (n == 0 || (!again(n) && n < 0)) {
			if (n < 0 || libssh2_channel_eof(c->ch)) {
				c->remote_eof = 1;
				progress = 1;
			}
		}
	}
	while (c->downoff < c->downlen) {
		n = send(c->fd, c->down + c->downoff, c->downlen - c->downoff,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				break;
			return -1;
		}
		c->downoff += (size_t)n;
		progress = 1;
		if (c->downoff == c->downlen) {
			pthread_mutex_lock(&f->mu);
			f->st.bytes_in += c->downlen;
			pthread_mutex_unlock(&f->mu);
		}
	}
	if (c->remote_eof && c->downoff == c->downlen && !c->shut_wr) {
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 1;
		progress = 1;
	}
	if (c->remote_eof && c->shut_wr && (c->eof_sent || c->local_eof))
		return -1;
	return progress;
}

static void
fconn_close(struct rmt_forward *f, struct fconn *c, int failed)
{
	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	c->state = F_CLOSING;
	c->closing_since = now_ms();
	pthread_mutex_lock(&f->mu);
	f->st.active--;
	f->st.closed++;
	if (failed)
		f->st.failed++;
	pthread_mutex_unlock(&f->mu);
}

/* At stop: every connection still open is closed (its client sees the socket
 * close) and counted, so a stopped forwarder always reports active 0 and
 * closed == accepted, however far the thread had got with each one.  Not a
 * failure: the user asked for it.  Their channels go with the session. */
static void
close_all(struct rmt_forward *f)
{
	struct fconn *c, *next;

	for (c = f->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state != F_CLOSING)
			fconn_close(f, c, 0);
		free(c);
	}
	f->conns = NULL;
	f->opening = NULL;
}

/* Accept what the listener has queued (at most 64 a pass); channels open in
 * arrival order.  Returns 1 when one came. */
static int
accept_new(struct rmt_forward *f)
{
	struct fconn *c, **pp;
	int progress = 0;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof sa;
		int fd = accept4(f->lfd, (struct sockaddr *)&sa, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			break;
		c = xcalloc(1, sizeof *c);
		c->fd = fd;
		c->peer_port = ntohs(sa.sin_port);
		c->state = F_OPENING;
		for (pp = &f->conns; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = c;
		pthread_mutex_lock(&f->mu);
		f->st.accepted++;
		f->st.active++;
		pthread_mutex_unlock(&f->mu);
		progress = 1;
	}
	return progress;
}

/* The jump connection to open channels on: checked (and re-opened) when a
 * new client needs a channel and no channel open is under way; NULL when
 * there is none this pass (the next pass reconnects). */
static struct rmt_conn *
jump_for(struct rmt_forward *f)
{
	struct rmt_conn *j = rmt_conn_cached(f->s, f->via), *old;
	struct fconn *c;
	char *cause = NULL;
	int waiting = 0;

	if (f->opening == NULL) {
		for (c = f->conns; c != NULL; c = c->next)
			waiting |= c->state == F_OPENING;
		if (waiting) {
			old = j;
			j = rmt_conn_get(f->s, f->via, &cause);
			if (j != old)	/* channels died with the old session */
				for (c = f->conns; c != NULL; c = c->next)
					if (c->state != F_OPENING) {
						if (c->state == F_OPEN)
							fconn_close(f, c, 1);
						c->ch = NULL;
					}
			if (j == NULL) {
				set_error(f, cause);
				for (c = f->conns; c != NULL; c = c->next)
					if (c->state == F_OPENING)
						fconn_close(f, c, 1);
			}
		}
	}
	if (j != NULL && j->broken) {
		j = NULL;
		f->opening = NULL;
	}
	return j;
}

/* Open c's channel; libssh2 opens one at a time per session, so an open
 * that would block is resumed first on the next pass. */
static int
open_channel(struct rmt_forward *f, struct rmt_conn *j, struct fconn *c)
{
	c->ch = libssh2_channel_direct_tcpip_ex(j->ssh, f->target, f->tport,
	    "127.0.0.1", c->peer_port);
	f->opening = NULL;
	if (c->ch != NULL) {
		c->state = F_OPEN;
		return 1;
	}
	if (again(libssh2_session_last_errno(j->ssh))) {
		f->opening = c;
		return 0;
	}
	rmt_conn_failed(j);
	set_error(f, rmt_conn_error(j, "channel refused"));
	fconn_close(f, c, 1);
	return 1;
}

/* One pass over the connections on jump j: open channels, move bytes, free
 * closed channels, forget finished connections.  Returns 1 on progress;
 * *pending is set when a channel holds data poll() cannot see. */
static int
serve(struct rmt_forward *f, struct rmt_conn *j, int *pending)
{
	struct fconn *c, **pp;
	int progress = 0, next, r;

	if (j != NULL)
		libssh2_keepalive_send(j->ssh, &next);
	for (c = f->conns; c != NULL && j != NULL; c = c->next) {
		if (c->state == F_OPENING && (f->opening == NULL || f->opening == c))
			progress |= open_channel(f, j, c);
		if (c->state == F_OPEN) {
			r = pump(f, c);
			if (r < 0)
				fconn_close(f, c, 0);
			if (r != 0)
				progress = 1;
			else if (c->downoff == c->downlen && libssh2_poll_channel_read(c->ch, 0))
				*pending = 1;
		}
		if (c->state == F_CLOSING && c->ch != NULL) {
			r = libssh2_channel_free(c->ch);
			if (!again(r) || now_ms() - c->closing_since > FWD_CLOSE_MS)
				c->ch = NULL;	/* a stuck one goes with the session */
		}
	}
	for (pp = &f->conns; *pp != NULL;) {
		c = *pp;
		if (c->state == F_CLOSING && c->ch == NULL) {
			*pp = c->next;
			free(c);
		} else
			pp = &c->next;
	}
	return progress;
}

/* Sleep until the wake pipe, the listener, the jump socket or a client
 * socket is ready, one slice at most.  A hang-up on the jump socket fails
 * the connections it carried now; the next client reconnects. */
static void
wait_events(struct rmt_forward *f, struct rmt_conn *j, int pending)
{
	struct fconn *c;
	size_t n = 0, count = 0;
	int jidx = -1;
	char b[16];

	for (c = f->conns; c != NULL; c = c->next)
		count++;
	if (f->npfd < count + 3) {
		f->npfd = count + 16;
		f->pfd = xreallocarray(f->pfd, f->npfd, sizeof *f->pfd);
	}
	f->pfd[n++] = (struct pollfd){ .fd = f->wake[0], .events = POLLIN };
	f->pfd[n++] = (struct pollfd){ .fd = f->lfd, .events = POLLIN };
	if (j != NULL) {
		jidx = (int)n;
		f->pfd[n].events = rmt_conn_poll(j, &f->pfd[n].fd);
		n++;
	}
	for (c = f->conns; c != NULL; c = c->next) {
		short ev = 0;
		if (c->state != F_OPEN)
			continue;
		if (!c->local_eof && c->uplen == 0)
			ev |= POLLIN;
		if (c->downoff < c->downlen)
			ev |= POLLOUT;
		if (ev)
			f->pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
	}
	if (poll(f->pfd, n, pending ? 0 : RMT_SLICE_MS) > 0 &&
	    (f->pfd[0].revents & POLLIN))
		(void)!read(f->wake[0], b, sizeof b);
	if (jidx >= 0 && (f->pfd[jidx].revents & (POLLHUP | POLLERR))) {
		j->broken = 1;
		if (j->jump != NULL)
			j->jump->broken = 1;
		for (c = f->conns; c != NULL; c = c->next)
			if (c->state == F_OPEN)
				fconn_close(f, c, 1);
	}
}

static void *
forward_main(void *arg)
{
	struct rmt_forward *f = arg;
	struct rmt_conn *j;
	int progress, pending;

	while (!stopping(f)) {
		pending = 0;
		progress = accept_new(f);
		j = jump_for(f);
		progress |= serve(f, j, &pending);
		if (!progress)
			wait_events(f, j, pending);
	}
	close_all(f);
	return NULL;
}
