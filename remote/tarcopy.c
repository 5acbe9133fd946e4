/* tarcopy.c: recursive copies as one tar stream over an exec channel.
 *
 * Over SFTP every file costs about four round trips in a row (open, write,
 * close, and a stat or mkdir), which through the jump host made 2,000 small
 * files take 15 times as long as `tar | ssh -J`.  When the node has GNU tar
 * (probed once per connection), a tree goes as one archive instead: mlsh
 * writes it (tar.c) into `tar -x` on the node, or reads what `tar -c` on the
 * node writes, extracting it itself.  The node is not trusted with the
 * local file system: tar.c checks every name, and files and directories are
 * opened below the destination relative to their parent's descriptor with
 * O_NOFOLLOW, as sftp.c does; links, devices and the like are left out.
 *
 * GNU tar, because a multiply-linked file must arrive as a file
 * (--hard-dereference), and `-m -o` (mtimes and owners not restored, as
 * SFTP creates files) and `-C` mean the same in busybox's, but that one
 * lacks --hard-dereference. */
#include "remote/internal.h"
#include "remote/tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STDERR_KEEP 2048	/* what is kept of the node's tar's stderr */
#define MAX_REFUSED 1000	/* as sftp.c: more unsafe names end the copy */

/* 1 when node has GNU tar, 0 when not, -1 when the probe failed. */
int
rmt_has_tar(struct rmt_session *s, const char *node, char **cause)
{
	struct rmt_conn *c = rmt_conn_get(s, node, cause);
	char *out = NULL;
	int r;

	if (c == NULL)
		return -1;
	if (c->tar == 0) {
		r = rmt_run(s, node, "tar --version 2>/dev/null | head -n 1", &out,
		    NULL, cause);
		if (r == -1)
			return -1;
		c->tar = r == 0 && out != NULL && strstr(out, "GNU tar") != NULL ? 1 : 2;
		free(out);
	}
	return c->tar == 1;
}

/* Appends path to b quoted for the remote shell. */
void
rmt_shquote(struct buf *b, const char *path)
{
	buf_addc(b, '\'');
	for (const char *p = path; *p; p++)
		if (*p == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *p);
	buf_addc(b, '\'');
}

/* The node's tar, common to both ways: stderr kept (bounded), cancel
 * relayed to the caller's hook. */
struct tar_run {
	struct rmt_xfer *x;
	struct buf err;
	int cancelled;
	char *cause;		/* our own reason for stopping, or NULL */
};

static int
run_stderr(void *arg, const char *p, size_t n)
{
	struct tar_run *t = arg;

	if (t->err.len < STDERR_KEEP)
		buf_add(&t->err, p, n < STDERR_KEEP - t->err.len ? n : STDERR_KEEP -
		    t->err.len);
	return 0;
}

static int
run_cancel(void *arg)
{
	struct tar_run *t = arg;

	if (!t->cancelled && t->x->cancel != NULL && t->x->cancel(t->x->arg))
		t->cancelled = 1;
	return t->cancelled;
}

/* Run command with e's streams; the cause says what went wrong, ours first,
 * then a cancel, then the node's tar (its first line of stderr). */
static int
run_tar(struct rmt_session *s, const char *node, struct rmt_exec *e,
    struct tar_run *t, const char *what, const char *path, char **cause)
{
	struct rmt_conn *c = rmt_conn_get(s, node, cause);
	struct rmt_status st;
	char *ecause = NULL;
	int r;

	if (c == NULL)
		return -1;
	e->on_stderr = run_stderr;
	e->cancel = run_cancel;
	r = rmt_exec(s, node, e, &st, &ecause);
	if (t->cause != NULL) {
		*cause = t->cause;
		t->cause = NULL;
	} else if (t->cancelled || (r == 0 && st.cancelled))
		*cause = xasprintf("%s: %s of \"%s\" cancelled at %llu bytes",
		    c->label, what, path, (unsigned long long)t->x->transferred);
	else if (r == -1) {
		*cause = ecause;
		ecause = NULL;
	} else if (st.exit_code != 0) {
		buf_addc(&t->err, '\0');
		char *nl = strchr(t->err.data, '\n');
		if (nl != NULL)
			*nl = '\0';
		char *shown = rmt_printable(t->err.data, strlen(t->err.data));
		*cause = xasprintf("%s: %s of \"%s\" failed: tar exited %d%s%s",
		    c->label, what, path, st.exit_code, *shown ? ": " : "", shown);
		free(shown);
	}
	free(ecause);
	return *cause == NULL ? 0 : -1;
}

/* Upload. */

struct put_item {
	char *rel;		/* path below the source, "" never */
	char type;		/* '0' or '5' */
	unsigned mode;
	uint64_t size;
	int64_t mtime;
};

struct put_stream {
	struct tar_run run;
	const char *src;
	struct put_item *v;
	size_t n, i;
	int fd;			/* the file being sent, or -1 */
	uint64_t left;		/* its bytes still to send */
	struct buf hdr;		/* header or padding bytes to send first */
	size_t hdr_off;
	int ended;
	uint64_t total;
};

/* The local tree below src/rel into v (files of at least big bytes into
 * large instead, sent afterwards over SFTP so that they resume). */
static int
put_list(struct put_stream *p, const char *rel, struct strlist *large,
    uint64_t big, int depth, char **cause)
{
	char *lpath = *rel ? xasprintf("%s/%s", p->src, rel) : xstrdup(p->src);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (depth > TAR_DEPTH_MAX) {
		*cause = xasprintf("\"%s\" nests deeper than %d directories", lpath,
		    TAR_DEPTH_MAX);
		free(lpath);
		return -1;
	}
	if ((d = opendir(lpath)) == NULL) {
		*cause = xasprintf("cannot read \"%s\": %s", lpath, strerror(errno));
		free(lpath);
		return -1;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *sub = *rel ? xasprintf("%s/%s", rel, de->d_name) :
		    xstrdup(de->d_name);
		char *lsub = xasprintf("%s/%s", p->src, sub);
		/* lstat: links are left out, as sftp.c's put_tree_dir does */
		if (lstat(lsub, &st) == -1) {
			*cause = xasprintf("cannot stat \"%s\": %s", lsub, strerror(errno));
			ret = -1;
		} else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size >= big) {
			strlist_add(large, sub);
		} else if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
			p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
			p->v[p->n++] = (struct put_item){ xstrdup(sub),
			    S_ISDIR(st.st_mode) ? '5' : '0', st.st_mode & 0777,
			    S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0,
			    (int64_t)st.st_mtime };
			p->total += S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
			if (S_ISDIR(st.st_mode))
				ret = put_list(p, sub, large, big, depth + 1, cause);
		} else if (p->run.x->skipped != NULL) {
			char *msg = xasprintf("skipped \"%s\": %s", lsub,
			    S_ISLNK(st.st_mode) ? "symbolic link, not followed" :
			    "not a regular file");
			p->run.x->skipped(p->run.x->skipped_arg, msg);
			free(msg);
		}
		free(sub);
		free(lsub);
	}
	closedir(d);
	free(lpath);
	return ret;
}

/* The next item's header into p->hdr, its file opened. */
static int
put_next(struct put_stream *p)
{
	struct put_item *it = &p->v[p->i++];
	struct stat st;

	buf_reset(&p->hdr);
	p->hdr_off = 0;
	tar_header(&p->hdr, it->rel, it->type, it->mode, it->size, it->mtime);
	if (it->type != '0')
		return 0;
	char *lpath = xasprintf("%s/%s", p->src, it->rel);
	p->fd = open(lpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (p->fd == -1 || fstat(p->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		p->run.cause = xasprintf("cannot open \"%s\": %s", lpath,
		    p->fd == -1 ? strerror(errno) : "no longer a regular file");
		free(lpath);
		return -1;
	}
	free(lpath);
	p->left = it->size;
	return 0;
}

static ssize_t
put_fill(void *arg, char *buf, size_t cap)
{
	struct put_stream *p = arg;
	struct rmt_xfer *x = p->run.x;
	size_t k = 0;

	if (run_cancel(&p->run))
		return -1;
	while (k < cap) {
		if (p->hdr_off < p->hdr.len) {
			size_t m = p->hdr.len - p->hdr_off < cap - k ?
			    p->hdr.len - p->hdr_off : cap - k;
			memcpy(buf + k, p->hdr.data + p->hdr_off, m);
			p->hdr_off += m;
			k += m;
		} else if (p->fd >= 0 && p->left > 0) {
			size_t want = p->left < cap - k ? (size_t)p->left : cap - k;
			ssize_t m = read(p->fd, buf + k, want);
			if (m <= 0) {
				p->run.cause = xasprintf("cannot read \"%s/%s\": %s",
				    p->src, p->v[p->i - 1].rel, m == 0 ?
				    "file shrank" : strerror(errno));
				return -1;
			}
			k += (size_t)m;
			p->left -= (uint64_t)m;
			x->transferred += (uint64_t)m;
			if (x->progress != NULL)
				x->progress(x->arg, x->transferred, p->total);
		} else if (p->fd >= 0) {
			close(p->fd);
			p->fd = -1;
			buf_reset(&p->hdr);
			p->hdr_off = 0;
			for (size_t z = tar_padding(p->v[p->i - 1].size); z > 0; z--)
				buf_addc(&p->hdr, '\0');
		} else if (p->i < p->n) {
			if (put_next(p) == -1)
				return -1;
		} else if (!p->ended) {
			buf_reset(&p->hdr);
			p->hdr_off = 0;
			tar_end(&p->hdr);
			p->ended = 1;
		} else
			break;
	}
	return (ssize_t)k;
}

/* rmt_put_tree's tar way: local is a directory, remote exists as one (or is
 * created). */
int
rmt_put_tree_tar(struct rmt_session *s, const char *node, const char *local,
    const char *remote, struct rmt_xfer *x, char **cause)
{
	struct put_stream p = { .run = { .x = x }, .src = local, .fd = -1 };
	struct rmt_exec e = RMT_EXEC_INIT;
	struct strlist large;
	struct buf cmd;
	int ret = -1;

	x->resumed_from = x->transferred = 0;
	buf_init(&p.run.err);
	buf_init(&p.hdr);
	buf_init(&cmd);
	strlist_init(&large);
	if (rmt_mkdir_p(s, node, remote, 0755, cause) == -1 ||
	    put_list(&p, "", &large, x->resume ? RMT_TAR_RESUME_MIN : UINT64_MAX,
	    1, cause) == -1)
		goto out;
	buf_adds(&cmd, "tar -x -m -o -f - -C ");
	rmt_shquote(&cmd, remote);
	buf_addc(&cmd, '\0');
	e.command = cmd.data;
	e.in_fill = put_fill;
	e.arg = &p;
	if (x->progress != NULL)
		x->progress(x->arg, 0, p.total);
	if (run_tar(s, node, &e, &p.run, "upload", local, cause) == -1)
		goto out;
	/* large files last, each resumable */
	for (size_t i = 0; i < large.n; i++) {
		uint64_t sent = x->transferred, kept = x->resumed_from;
		char *lsub = xasprintf("%s/%s", local, large.v[i]);
		char *rsub = xasprintf("%s/%s", remote, large.v[i]);
		int r = rmt_put(s, node, lsub, rsub, x, cause);
		x->transferred += sent;
		x->resumed_from += kept;
		free(lsub);
		free(rsub);
		if (r == -1)
			goto out;
	}
	ret = 0;
out:
	if (p.fd >= 0)
		close(p.fd);
	for (size_t i = 0; i < p.n; i++)
		free(p.v[i].rel);
	free(p.v);
	free(p.run.cause);
	buf_release(&p.run.err);
	buf_release(&p.hdr);
	buf_release(&cmd);
	strlist_release(&large);
	return ret;
}

/* Download. */

struct get_stream {
	struct tar_run run;	/* first: run_tar's hooks take it */
	struct tar_reader *reader;
	const char *label;	/* the local top, for messages */
	const char *src;	/* the remote top */
	const char *node_label;
	int top;		/* the local top directory */
	char *dir;		/* the directory dirfd is (relative), or NULL */
	int dirfd;
	int fd;			/* the file being written, or -1 */
	int regular;
	char *rel;		/* its name */
	uint64_t size, done;
	unsigned nbad;
	char **first_bad;
};

/* The directory rel below the top, opened without following links (made
 * when missing: tar lists directories before their contents, but a hostile
 * archive need not). */
static int
open_dir(struct get_stream *g, const char *rel, unsigned mode, char **cause)
{
	char *p, *q;
	int fd, next;

	if (*rel == '\0')
		return g->top;
	if (g->dir != NULL && strcmp(g->dir, rel) == 0)
		return g->dirfd;
	if (g->dir != NULL) {
		close(g->dirfd);
		free(g->dir);
		g->dir = NULL;
	}
	p = xstrdup(rel);
	fd = g->top;
	for (q = p; ; ) {
		char *slash = strchr(q, '/');
		if (slash != NULL)
			*slash = '\0';
		/* as sftp.c: the source's 0777 bits and u+rwx, for the
		 * directory named; its parents (if missing) 0755 */
		if (mkdirat(fd, q, (slash == NULL ? mode & 0777 : 0755) | S_IRWXU) == -1 &&
		    errno != EEXIST)
			next = -1;
		else
			next = openat(fd, q, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next == -1) {
			int err = errno;
			*cause = xasprintf("cannot write into \"%s/%s\": %s", g->label, p,
			    err == ELOOP || err == ENOTDIR ? "not a directory (a "
			    "symbolic link is not followed)" : strerror(err));
		}
		if (fd != g->top)
			close(fd);
		fd = next;
		if (fd == -1 || slash == NULL)
			break;
		*slash = '/';
		q = slash + 1;
	}
	if (fd == -1) {
		free(p);
		return -1;
	}
	g->dir = p;
	g->dirfd = fd;
	return fd;
}

static int
refuse(struct get_stream *g, const struct tar_entry *e, char **cause)
{
	struct rmt_xfer *x = g->run.x;

	if (++g->nbad > MAX_REFUSED) {
		*cause = xasprintf("%s: archive of \"%s\": more than %d unsafe names",
		    g->node_label, g->src, MAX_REFUSED);
		return -1;
	}
	x->refused++;
	if (x->skipped != NULL) {
		char *msg = xasprintf("%s: refused the name \"%s\" in the archive of "
		    "\"%s\": %s", g->node_label, e->name, g->src, e->bad);
		x->skipped(x->skipped_arg, msg);
		free(msg);
	}
	if (*g->first_bad == NULL)
		*g->first_bad = xasprintf("\"%s\"", e->name);
	return 1;
}

static int
get_entry(void *arg, const struct tar_entry *e, char **cause)
{
	struct get_stream *g = arg;
	struct rmt_xfer *x = g->run.x;
	char *slash, *dir;
	const char *last;
	struct stat st;
	int dfd;

	if (run_cancel(&g->run))
		return -1;
	if (e->bad != NULL)
		return refuse(g, e, cause);
	if (*e->name == '\0')
		return 1;	/* the top itself: made by the caller */
	if (e->kind == TAR_LINK || e->kind == TAR_OTHER) {
		if (x->skipped != NULL) {
			char *msg = xasprintf("%s: skipped \"%s/%s\": %s", g->node_label,
			    g->src, e->name, e->type == '2' ? "symbolic link, not "
			    "followed" : "not a regular file");
			x->skipped(x->skipped_arg, msg);
			free(msg);
		}
		return 1;
	}
	if (e->kind == TAR_DIR)
		return open_dir(g, e->name, e->mode, cause) == -1 ? -1 : 1;
	slash = strrchr(e->name, '/');
	dir = slash != NULL ? xstrndup(e->name, (size_t)(slash - e->name)) : xstrdup("");
	last = slash != NULL ? slash + 1 : e->name;
	dfd = open_dir(g, dir, 0755, cause);
	free(dir);
	if (dfd == -1)
		return -1;
	g->rel = xasprintf("%s/%s", g->label, e->name);
	/* as sftp.c: the 0777 bits, u+w, the umask applies */
	g->fd = rmt_open_dest(dfd, last, g->rel, (int)((x->mode ? (unsigned)x->mode :
	    e->mode) & 0777) | S_IWUSR, &st, cause);
	if (g->fd == -1)
		return -1;
	g->regular = S_ISREG(st.st_mode);
	if (g->regular && st.st_size > 0 && ftruncate(g->fd, 0) == -1) {
		*cause = xasprintf("cannot write \"%s\": %s", g->rel, strerror(errno));
		return -1;
	}
	g->size = e->size;
	g->done = 0;
	if (x->progress != NULL)
		x->progress(x->arg, 0, g->size);
	return 0;
}

static int
get_data(void *arg, const char *p, size_t n, char **cause)
{
	struct get_stream *g = arg;
	struct rmt_xfer *x = g->run.x;

	if (run_cancel(&g->run))
		return -1;
	while (n > 0) {
		ssize_t w = write(g->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			*cause = xasprintf("cannot write \"%s\": %s", g->rel,
			    strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
		g->done += (uint64_t)w;
		x->transferred += (uint64_t)w;
	}
	if (x->progress != NULL)
		x->progress(x->arg, g->done, g->size);
	return 0;
}

static int
get_end(void *arg, char **cause)
{
	struct get_stream *g = arg;
	int r = close(g->fd);

	g->fd = -1;
	if (r == -1)
		*cause = xasprintf("cannot write \"%s\": %s", g->rel, strerror(errno));
	free(g->rel);
	g->rel = NULL;
	return r;
}

/* stdout: the archive; rmt_exec's one arg is the get_stream, whose first
 * member is the tar_run that run_tar's stderr and cancel hooks take. */
static int
get_stdout(void *arg, const char *p, size_t n)
{
	struct get_stream *g = arg;

	if (g->run.cause != NULL)
		return -1;
	return tar_reader_feed(g->reader, p, n, &g->run.cause) == -1 ? -1 : 0;
}

/* rmt_get_tree's tar way: the remote directory src into top (opened; local
 * names it in messages). */
int
rmt_get_tree_tar(struct rmt_session *s, const char *node, const char *src,
    int top, const char *local, struct rmt_xfer *x, char **first_bad,
    char **cause)
{
	struct rmt_conn *c = rmt_conn_get(s, node, cause);
	struct get_stream g = { .run = { .x = x }, .label = local, .src = src,
	    .top = top, .fd = -1, .first_bad = first_bad };
	struct tar_sink sink = { get_entry, get_data, get_end, &g };
	struct rmt_exec e = RMT_EXEC_INIT;
	struct buf cmd;
	char *rcause = NULL;
	int ret = -1;

	if (c == NULL)
		return -1;
	g.node_label = c->label;
	buf_init(&g.run.err);
	buf_init(&cmd);
	buf_adds(&cmd, "tar -c --hard-dereference -f - -C ");
	rmt_shquote(&cmd, src);
	buf_adds(&cmd, " .");
	buf_addc(&cmd, '\0');
	g.reader = tar_reader_new(&sink);
	e.command = cmd.data;
	e.on_stdout = get_stdout;
	e.arg = &g;
	if (run_tar(s, node, &e, &g.run, "download", src, cause) == 0) {
		if (tar_reader_finish(g.reader, &rcause) == -1)
			*cause = xasprintf("%s: download of \"%s\": %s", c->label, src,
			    rcause);
		else
			ret = 0;
	}
	if (g.fd >= 0)
		close(g.fd);
	if (g.dir != NULL)
		close(g.dirfd);
	free(g.dir);
	free(g.rel);
	free(g.run.cause);
	free(rcause);
	tar_reader_free(g.reader);
	buf_release(&g.run.err);
	buf_release(&cmd);
	return ret;
}
