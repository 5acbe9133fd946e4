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

static int finish(struct rmt_conn *, LIBSSH2_CHANNEL *, struct rmt_status *,
    int closing);
static int write_all(int fd, const char *p, size_t n);

int
rmt_exec(struct rmt_session *s, const char *node, const struct rmt_exec *e,
    struct rmt_status *st, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_CHANNEL *ch;
	char *buf = NULL, *inbuf = NULL;
	size_t in_off = 0, in_len = 0;
	int rc, in_done, eof_sent = 0, in_eof = 0, ret = -1;
	double deadline, started = now_ms(), cancel_at = 0;

	memset(st, 0, sizeof *st);
	*cause = NULL;
	if ((ch = rmt_open_channel(s, node, &c, cause)) == NULL)
		return -1;
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	if (e->pty) {
		const char *term = e->term != NULL ? e->term : "xterm";
		while ((rc = libssh2_channel_request_pty_ex(ch, term, (unsigned)strlen(term),
		    NULL, 0, e->cols > 0 ? e->cols : 80, e->rows > 0 ? e->rows : 24,
		    0, 0)) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (rc != 0) {
			*cause = rmt_conn_error(c, "pty request refused");
			goto out;
		}
	}
	while ((rc = libssh2_channel_process_startup(ch, "exec", 4, e->command,
	    (unsigned)strlen(e->command))) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	if (rc != 0) {
		*cause = rmt_conn_error(c, "exec refused");
		goto out;
	}

	buf = xmalloc(IOBUF);
	if (e->in_fd >= 0)
		inbuf = xmalloc(IOBUF);
	in_done = e->in_buf == NULL && e->in_fd < 0;
	for (;;) {
		struct pollfd extra = { .fd = -1 };
		int progress = 0, out_eof = 0, err_eof = 0;
		ssize_t n;

		/* remote → callbacks */
		while ((n = libssh2_channel_read(ch, buf, IOBUF)) > 0) {
			progress = 1;
			if (e->on_stdout != NULL && e->on_stdout(e->arg, buf, (size_t)n) == -1) {
				*cause = xasprintf("%s: output rejected", c->label);
				finish(c, ch, st, 1);
				ch = NULL;
				goto out;
			}
		}
		if (n == 0)
			out_eof = 1;
		else if (n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		while ((n = libssh2_channel_read_stderr(ch, buf, IOBUF)) > 0) {
			progress = 1;
			if (e->on_stderr != NULL && e->on_stderr(e->arg, buf, (size_t)n) == -1) {
				*cause = xasprintf("%s: output rejected", c->label);
				finish(c, ch, st, 1);
				ch = NULL;
				goto out;
			}
		}
		if (n == 0)
			err_eof = 1;
		else if (n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		if (out_eof && err_eof && libssh2_channel_eof(ch))
			break;

		/* stdin → remote */
		if (!in_done && e->in_buf != NULL) {
			while (in_off < e->in_len) {
				n = libssh2_channel_write(ch, (const char *)e->in_buf + in_off,
				    e->in_len - in_off);
				if (n == LIBSSH2_ERROR_EAGAIN)
					break;
				if (n < 0)
					goto lost;
				in_off += (size_t)n;
				progress = 1;
			}
			if (in_off == e->in_len)
				in_done = 1;
		} else if (!in_done && e->in_fd >= 0) {
			if (in_off == in_len && !in_eof) {
				struct pollfd p = { .fd = e->in_fd, .events = POLLIN };
				if (poll(&p, 1, 0) > 0) {
					n = read(e->in_fd, inbuf, IOBUF);
					if (n > 0) {
						in_off = 0;
						in_len = (size_t)n;
					} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
						in_eof = 1;
					progress = 1;
				}
			}
			while (in_off < in_len) {
				n = libssh2_channel_write(ch, inbuf + in_off, in_len - in_off);
				if (n == LIBSSH2_ERROR_EAGAIN)
					break;
				if (n < 0)
					goto lost;
				in_off += (size_t)n;
				progress = 1;
			}
			if (in_eof && in_off == in_len)
				in_done = 1;
			else if (in_off == in_len) {
				extra.fd = e->in_fd;
				extra.events = POLLIN;
			}
		}
		/* a pty with no input stays open for the ^C of a cancel */
		if (in_done && !eof_sent && !(e->pty && e->in_buf == NULL && e->in_fd < 0)) {
			rc = libssh2_channel_send_eof(ch);
			if (rc == 0)
				eof_sent = 1;
			else if (rc != LIBSSH2_ERROR_EAGAIN)
				eof_sent = 1;	/* the channel may be closing already */
		}

		/* cancellation and timeout */
		if (e->timeout_ms > 0 && !st->timed_out && now_ms() - started > e->timeout_ms) {
			st->timed_out = 1;
			cancel_at = 0;
		}
		if (!st->cancelled && e->cancel != NULL && e->cancel(e->arg))
			st->cancelled = 1;
		if (st->cancelled || st->timed_out) {
			if (cancel_at == 0) {
				cancel_at = now_ms();
				if (!e->pty || eof_sent ||
				    libssh2_channel_write(ch, "\003", 1) != 1)
					break;
			} else if (now_ms() - cancel_at > CANCEL_GRACE_MS)
				break;
		}
		if (!progress)
			rmt_wait(c, extra.fd >= 0 ? &extra : NULL, extra.fd >= 0, RMT_SLICE_MS);
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
	free(inbuf);
	return ret;
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
int
rmt_shell(struct rmt_session *s, const char *node, const struct rmt_shell *sh,
    struct rmt_status *st, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_CHANNEL *ch;
	struct winsize ws;
	const char *term = sh->term;
	char *buf, *inbuf;
	size_t in_off = 0, in_len = 0;
	int cols = sh->cols, rows = sh->rows, rc, in_eof = 0, eof_sent = 0, ret = -1;
	double deadline;

	memset(st, 0, sizeof *st);
	*cause = NULL;
	if (term == NULL && (term = getenv("TERM")) == NULL)
		term = "xterm";
	if ((cols <= 0 || rows <= 0) && ioctl(sh->out_fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0) {
		cols = ws.ws_col;
		rows = ws.ws_row;
	}
	if (cols <= 0 || rows <= 0) {
		cols = 80;
		rows = 24;
	}
	if ((ch = rmt_open_channel(s, node, &c, cause)) == NULL)
		return -1;
	deadline = rmt_deadline(s, s->cfg.connect_timeout_ms);
	while ((rc = libssh2_channel_request_pty_ex(ch, term, (unsigned)strlen(term), NULL, 0,
	    cols, rows, 0, 0)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	if (rc != 0) {
		*cause = rmt_conn_error(c, "pty request refused");
		rmt_channel_free(c, ch);
		return -1;
	}
	if (sh->command != NULL)
		while ((rc = libssh2_channel_process_startup(ch, "exec", 4, sh->command,
		    (unsigned)strlen(sh->command))) == LIBSSH2_ERROR_EAGAIN)
			rmt_wait_until(c, deadline);
	else
		while ((rc = libssh2_channel_process_startup(ch, "shell", 5, NULL, 0)) ==
		    LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
	if (rc != 0) {
		*cause = rmt_conn_error(c, "shell refused");
		rmt_channel_free(c, ch);
		return -1;
	}
	buf = xmalloc(IOBUF);
	inbuf = xmalloc(IOBUF);
	for (;;) {
		struct pollfd extra = { .fd = -1 };
		int progress = 0;
		ssize_t n;

		if (sh->resized != NULL && *sh->resized) {
			*sh->resized = 0;
			if (ioctl(sh->out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
				while (libssh2_channel_request_pty_size(ch, ws.ws_col, ws.ws_row) ==
				    LIBSSH2_ERROR_EAGAIN)
					if (rmt_wait_until(c, rmt_deadline(s, 5000)) == RMT_TIMEOUT)
						break;
		}
		/* stderr merges into stdout under a pty, but read both anyway */
		while ((n = libssh2_channel_read(ch, buf, IOBUF)) > 0) {
			progress = 1;
			write_all(sh->out_fd, buf, (size_t)n);
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		while ((n = libssh2_channel_read_stderr(ch, buf, IOBUF)) > 0) {
			progress = 1;
			write_all(sh->out_fd, buf, (size_t)n);
		}
		if (libssh2_channel_eof(ch))
			break;
		if (in_off == in_len && !in_eof) {
			struct pollfd p = { .fd = sh->in_fd, .events = POLLIN };
			if (poll(&p, 1, 0) > 0) {
				n = read(sh->in_fd, inbuf, IOBUF);
				if (n > 0) {
					in_off = 0;
					in_len = (size_t)n;
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR))
					in_eof = 1;
				progress = 1;
			}
		}
		while (in_off < in_len) {
			n = libssh2_channel_write(ch, inbuf + in_off, in_len - in_off);
			if (n == LIBSSH2_ERROR_EAGAIN)
				break;
			if (n < 0)
				goto lost;
			in_off += (size_t)n;
			progress = 1;
		}
		if (in_eof && in_off == in_len && !eof_sent &&
		    libssh2_channel_send_eof(ch) != LIBSSH2_ERROR_EAGAIN)
			eof_sent = 1;
		if (!in_eof && in_off == in_len) {
			extra.fd = sh->in_fd;
			extra.events = POLLIN;
		}
		if (!progress)
			rmt_wait(c, extra.fd >= 0 ? &extra : NULL, extra.fd >= 0, RMT_SLICE_MS);
	}
	ret = finish(c, ch, st, 0);
	if (ret == -1)
		*cause = rmt_conn_error(c, "shell ended without an exit status");
	rmt_channel_free(c, ch);
	free(buf);
	free(inbuf);
	return ret;
lost:
	rmt_conn_failed(c);
	*cause = rmt_conn_error(c, "shell interrupted");
	free(buf);
	free(inbuf);
	return -1;
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
