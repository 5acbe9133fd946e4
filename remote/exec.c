/* exec.c: commands with streamed output, and the interactive PTY shell.
 *
 * libssh2 1.10 cannot send the "signal" channel request (that arrived in
 * 1.11), so cancelling works with what the protocol offers here: under a
 * PTY we type ^C, which the remote terminal turns into SIGINT; otherwise,
 * and when that is not enough, the channel is closed, and the remote command
 * sees EOF on stdin and EPIPE/SIGPIPE on output. */
#include "remote/internal.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define IOBUF 65536
#define CANCEL_GRACE_MS 2000

/* stdin → channel, for rmt_exec and rmt_shell alike: pending bytes are
 * [off, len) of data; once they are written, more are read from fd until it
 * ends (a buffer given whole starts with eof set).  When all is written the
 * channel gets its EOF, unless keep_open (a pty with no input stays open for
 * the ^C of a cancel). */
struct in_pump {
	int fd;
	ssize_t (*fill)(void *arg, char *buf, size_t cap);
	void *fill_arg;
	const char *data;
	char *fdbuf;
	size_t off, len;
	int eof, keep_open, eof_sent;
};

/* drain(): what one stream of the channel came to. */
enum { DRAIN_AGAIN, DRAIN_EOF, DRAIN_LOST, DRAIN_REJECTED };

static int finish(struct rmt_conn *, LIBSSH2_CHANNEL *, struct rmt_status *,
    int closing);
static int request_pty(struct rmt_conn *, LIBSSH2_CHANNEL *, const char *term,
    int cols, int rows, double deadline);
static int startup(struct rmt_conn *, LIBSSH2_CHANNEL *, const char *request,
    const char *command, double deadline);
static int drain(LIBSSH2_CHANNEL *, int stream, char *buf,
    int (*sink)(void *, const char *, size_t), void *arg, int *progress);
static int pump_in(LIBSSH2_CHANNEL *, struct in_pump *, int *progress,
    struct pollfd *wait_fd);
static int cancel_step(LIBSSH2_CHANNEL *, const struct rmt_exec *,
    struct rmt_status *, const struct in_pump *, double started,
    double *cancel_at);
static int write_all(int fd, const char *p, size_t n);

int
rmt_exec(struct rmt_session *s, const char *node, const struct rmt_exec *e,
    struct rmt_status *st, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_CHANNEL *ch;
	struct in_pump in = { .fd = e->in_fd, .eof = 1 };
	char *buf = NULL;
	int ret = -1;
	double deadline, started = now_ms(), cancel_at = 0;

	memset(st, 0, sizeof *st);
	*cause = NULL;
	if ((ch = rmt_open_channel(s, node, &c, cause)) == NULL)
		return -1;
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	if (e->pty && request_pty(c, ch, e->term != NULL ? e->term : "xterm",
	    e->cols > 0 ? e->cols : 80, e->rows > 0 ? e->rows : 24,
	    deadline) != 0) {
		*cause = rmt_conn_error(c, "pty request refused");
		goto out;
	}
	if (startup(c, ch, "exec", e->command, deadline) != 0) {
		*cause = rmt_conn_error(c, "exec refused");
		goto out;
	}

	buf = xmalloc(IOBUF);
	if (e->in_fd >= 0 || e->in_fill != NULL)
		in.fdbuf = xmalloc(IOBUF);
	if (e->in_fill != NULL) {
		in.fill = e->in_fill;
		in.fill_arg = e->arg;
		in.eof = 0;
	} else if (e->in_buf != NULL) {
		in.data = e->in_buf;
		in.len = e->in_len;
	} else if (e->in_fd >= 0)
		in.eof = 0;
	in.keep_open = e->pty && e->in_buf == NULL && e->in_fd < 0 &&
	    e->in_fill == NULL;
	for (;;) {
		struct pollfd wait_fd = { .fd = -1 };
		int progress = 0, out, err, r;

		/* remote → callbacks */
		out = drain(ch, 0, buf, e->on_stdout, e->arg, &progress);
		err = out == DRAIN_AGAIN || out == DRAIN_EOF ? drain(ch,
		    SSH_EXTENDED_DATA_STDERR, buf, e->on_stderr, e->arg,
		    &progress) : out;
		if (err == DRAIN_REJECTED) {
			*cause = xasprintf("%s: output rejected", c->label);
			finish(c, ch, st, 1);
			ch = NULL;
			goto out;
		}
		if (err == DRAIN_LOST)
			goto lost;
		if (out == DRAIN_EOF && err == DRAIN_EOF && libssh2_channel_eof(ch))
			break;
		if ((r = pump_in(ch, &in, &progress, &wait_fd)) == -2) {
			*cause = xasprintf("%s: input aborted", c->label);
			finish(c, ch, st, 1);
			ch = NULL;
			goto out;
		}
		if (r != 0)
			goto lost;
		if (cancel_step(ch, e, st, &in, started, &cancel_at) != 0)
			break;
		if (!progress)
			rmt_wait(c, wait_fd.fd >= 0 ? &wait_fd : NULL, wait_fd.fd >= 0,
			    RMT_SLICE_MS);
	}
	if (st->cancelled || st->timed_out) {
		/* under a pty the ^C may have ended it: take its real status */
		if (e->pty && libssh2_channel_eof(ch)) {
			ret = finish(c, ch, st, 0);
			if (ret == 0)
				goto out;
		}
		finish(c, ch, st, 1);
		ch = NULL;
		ret = 0;
		goto out;
	}
	ret = finish(c, ch, st, 0);
	if (ret == -1)
		*cause = rmt_conn_error(c, "command ended without an exit status");
	goto out;
lost:
	rmt_conn_failed(c);
	*cause = rmt_conn_error(c, "command interrupted");
	if (c->broken)
		ch = NULL;	/* freed with the broken session */
out:
	if (ch != NULL)
		rmt_channel_free(c, ch);
	free(buf);
	free(in.fdbuf);
	return ret;
}

/* Cancellation and timeout: returns 1 when the pump should stop. */
static int
cancel_step(LIBSSH2_CHANNEL *ch, const struct rmt_exec *e, struct rmt_status *st,
    const struct in_pump *in, double started, double *cancel_at)
{
	if (e->timeout_ms > 0 && !st->timed_out && now_ms() - started > e->timeout_ms) {
		st->timed_out = 1;
		*cancel_at = 0;
	}
	if (!st->cancelled && e->cancel != NULL && e->cancel(e->arg))
		st->cancelled = 1;
	if (!st->cancelled && !st->timed_out)
		return 0;
	if (*cancel_at == 0) {
		*cancel_at = now_ms();
		return !e->pty || in->eof_sent ||
		    libssh2_channel_write(ch, "\003", 1) != 1;
	}
	return now_ms() - *cancel_at > CANCEL_GRACE_MS;
}

static int
request_pty(struct rmt_conn *c, LIBSSH2_CHANNEL *ch, const char *term, int cols,
    int rows, double deadline)
{
	int rc;

	while ((rc = libssh2_channel_request_pty_ex(ch, term, (unsigned)strlen(term),
	    NULL, 0, cols, rows, 0, 0)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	return rc;
}

/* Start "exec" with a command, or "shell" (command NULL). */
static int
startup(struct rmt_conn *c, LIBSSH2_CHANNEL *ch, const char *request,
    const char *command, double deadline)
{
	int rc;

	while ((rc = libssh2_channel_process_startup(ch, request,
	    (unsigned)strlen(request), command,
	    command != NULL ? (unsigned)strlen(command) : 0)) ==
	    LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	return rc;
}

/* Read one stream of the channel until it would block, handing the data to
 * sink (NULL: dropped; -1 from it: rejected). */
static int
drain(LIBSSH2_CHANNEL *ch, int stream, char *buf,
    int (*sink)(void *, const char *, size_t), void *arg, int *progress)
{
	ssize_t n;

	while ((n = libssh2_channel_read_ex(ch, stream, buf, IOBUF)) > 0) {
		*progress = 1;
		if (sink != NULL && sink(arg, buf, (size_t)n) == -1)
			return DRAIN_REJECTED;
	}
	if (n == 0)
		return DRAIN_EOF;
	return n == LIBSSH2_ERROR_EAGAIN ? DRAIN_AGAIN : DRAIN_LOST;
}

/* One turn of the stdin pump: -1 when the channel failed, -2 when the
 * producer (in_fill) gave up.  wait_fd is set when the pump waits for input
 * from fd. */
static int
pump_in(LIBSSH2_CHANNEL *ch, struct in_pump *in, int *progress,
    struct pollfd *wait_fd)
{
	ssize_t n;

	if (in->off == in->len && !in->eof && in->fill != NULL) {
		n = in->fill(in->fill_arg, in->fdbuf, IOBUF);
		if (n < 0)
			return -2;
		if (n == 0)
			in->eof = 1;
		in->data = in->fdbuf;
		in->off = 0;
		in->len = n > 0 ? (size_t)n : 0;
		*progress = 1;
	} else if (in->off == in->len && !in->eof) {
		struct pollfd p = { .fd = in->fd, .events = POLLIN };
		if (poll(&p, 1, 0) > 0) {
			n = read(in->fd, in->fdbuf, IOBUF);
			if (n > 0) {
				in->data = in->fdbuf;
				in->off = 0;
				in->len = (size_t)n;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				in->eof = 1;
			*progress = 1;
		}
	}
	while (in->off < in->len) {
		n = libssh2_channel_write(ch, in->data + in->off, in->len - in->off);
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0)
			return -1;
		in->off += (size_t)n;
		*progress = 1;
	}
	if (in->off < in->len)
		return 0;
	if (!in->eof) {
		if (in->fill == NULL) {	/* a producer is simply asked again */
			wait_fd->fd = in->fd;
			wait_fd->events = POLLIN;
		}
	} else if (!in->eof_sent && !in->keep_open &&
	    libssh2_channel_send_eof(ch) != LIBSSH2_ERROR_EAGAIN)
		in->eof_sent = 1;	/* or the channel is closing already */
	return 0;
}

/* Close the channel and collect the exit status.  When closing (cancel,
 * timeout, rejected output) the server's side of the close is not waited
 * for: it comes only when the command ends. */
static int
finish(struct rmt_conn *c, LIBSSH2_CHANNEL *ch, struct rmt_status *st, int closing)
{
	double deadline = now_ms() + c->s->cfg.io_timeout_ms;
	char *sig = NULL;
	size_t siglen = 0;
	int rc = 0;

	if (closing) {
		libssh2_channel_send_eof(ch);
		rmt_channel_abandon(c, ch);
		st->exit_code = 130;
		return 1;
	}
	while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	if (rc == 0)
		while ((rc = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
	st->exit_code = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL) {
		static const struct { const char *name; int num; } sigs[] = {
			{ "HUP", 1 }, { "INT", 2 }, { "QUIT", 3 }, { "ILL", 4 }, { "ABRT", 6 },
			{ "FPE", 8 }, { "KILL", 9 }, { "USR1", 10 }, { "SEGV", 11 },
			{ "USR2", 12 }, { "PIPE", 13 }, { "ALRM", 14 }, { "TERM", 15 },
		};
		snprintf(st->signal, sizeof st->signal, "%s", sig);
		st->exit_code = 128;
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
			if (strcmp(sigs[i].name, sig) == 0)
				st->exit_code = 128 + sigs[i].num;
		libssh2_free(c->ssh, sig);
	}
	return rc == 0 ? 0 : -1;
}

/* rmt_run: collect output into strings. */
struct collect {
	struct buf out, err;
};

static int
collect_out(void *arg, const char *p, size_t n)
{
	buf_add(&((struct collect *)arg)->out, p, n);
	return 0;
}

static int
collect_err(void *arg, const char *p, size_t n)
{
	buf_add(&((struct collect *)arg)->err, p, n);
	return 0;
}

int
rmt_run(struct rmt_session *s, const char *node, const char *command, char **out,
    char **err, char **cause)
{
	struct rmt_exec e = RMT_EXEC_INIT;
	struct rmt_status st;
	struct collect col;

	buf_init(&col.out);
	buf_init(&col.err);
	e.command = command;
	e.on_stdout = collect_out;
	e.on_stderr = collect_err;
	e.arg = &col;
	if (rmt_exec(s, node, &e, &st, cause) == -1) {
		buf_release(&col.out);
		buf_release(&col.err);
		return -1;
	}
	if (out != NULL)
		*out = buf_detach_release(&col.out);
	else
		buf_release(&col.out);
	if (err != NULL)
		*err = buf_detach_release(&col.err);
	else
		buf_release(&col.err);
	return st.exit_code;
}

/* The interactive shell. */
static void shell_size(const struct rmt_shell *, int *cols, int *rows);
static void follow_resize(struct rmt_conn *, LIBSSH2_CHANNEL *,
    const struct rmt_shell *);
static int sink_fd(void *arg, const char *p, size_t n);

int
rmt_shell(struct rmt_session *s, const char *node, const struct rmt_shell *sh,
    struct rmt_status *st, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_CHANNEL *ch;
	struct in_pump in = { .fd = sh->in_fd };
	const char *term = sh->term;
	char *buf;
	int cols, rows, out_fd = sh->out_fd, ret = -1;
	double deadline;

	memset(st, 0, sizeof *st);
	*cause = NULL;
	if (term == NULL && (term = getenv("TERM")) == NULL)
		term = "xterm";
	shell_size(sh, &cols, &rows);
	if ((ch = rmt_open_channel(s, node, &c, cause)) == NULL)
		return -1;
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	if (request_pty(c, ch, term, cols, rows, deadline) != 0) {
		*cause = rmt_conn_error(c, "pty request refused");
		rmt_channel_free(c, ch);
		return -1;
	}
	if (startup(c, ch, sh->command != NULL ? "exec" : "shell", sh->command,
	    deadline) != 0) {
		*cause = rmt_conn_error(c, "shell refused");
		rmt_channel_free(c, ch);
		return -1;
	}
	buf = xmalloc(IOBUF);
	in.fdbuf = xmalloc(IOBUF);
	for (;;) {
		struct pollfd wait_fd = { .fd = -1 };
		int progress = 0;

		follow_resize(c, ch, sh);
		/* stderr merges into stdout under a pty, but read both anyway */
		if (drain(ch, 0, buf, sink_fd, &out_fd, &progress) == DRAIN_LOST)
			goto lost;
		drain(ch, SSH_EXTENDED_DATA_STDERR, buf, sink_fd, &out_fd, &progress);
		if (libssh2_channel_eof(ch))
			break;
		if (pump_in(ch, &in, &progress, &wait_fd) != 0)
			goto lost;
		if (!progress)
			rmt_wait(c, wait_fd.fd >= 0 ? &wait_fd : NULL, wait_fd.fd >= 0,
			    RMT_SLICE_MS);
	}
	ret = finish(c, ch, st, 0);
	if (ret == -1)
		*cause = rmt_conn_error(c, "shell ended without an exit status");
	rmt_channel_free(c, ch);
	goto out;
lost:
	rmt_conn_failed(c);
	*cause = rmt_conn_error(c, "shell interrupted");
out:
	free(buf);
	free(in.fdbuf);
	return ret;
}

/* The pty's size: given, else the terminal's, else 80x24. */
static void
shell_size(const struct rmt_shell *sh, int *cols, int *rows)
{
	struct winsize ws;

	*cols = sh->cols;
	*rows = sh->rows;
	if ((*cols <= 0 || *rows <= 0) && ioctl(sh->out_fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
	if (*cols <= 0 || *rows <= 0) {
		*cols = 80;
		*rows = 24;
	}
}

/* After a SIGWINCH (the caller's flag), pass the terminal's size on. */
static void
follow_resize(struct rmt_conn *c, LIBSSH2_CHANNEL *ch, const struct rmt_shell *sh)
{
	struct winsize ws;

	if (sh->resized == NULL || !*sh->resized)
		return;
	*sh->resized = 0;
	if (ioctl(sh->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		while (libssh2_channel_request_pty_size(ch, ws.ws_col, ws.ws_row) ==
		    LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, rmt_deadline(c->s, 5000)) == RMT_TIMEOUT)
				break;
}

static int
sink_fd(void *arg, const char *p, size_t n)
{
	write_all(*(int *)arg, p, n);
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, 1000);
				continue;
			}
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
rmt_tty_raw(int fd, void *saved, char **cause)
{
	struct termios t;

	if (sizeof(struct termios) > RMT_TERMIOS_SIZE || tcgetattr(fd, &t) == -1) {
		*cause = xasprintf("cannot read terminal settings: %s", strerror(errno));
		return -1;
	}
	memcpy(saved, &t, sizeof t);
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSADRAIN, &t) == -1) {
		*cause = xasprintf("cannot set raw mode: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void
rmt_tty_restore(int fd, const void *saved)
{
	struct termios t;

	memcpy(&t, saved, sizeof t);
	tcsetattr(fd, TCSADRAIN, &t);
}
