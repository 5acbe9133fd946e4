/* sftp.c: file transfer over SFTP on a node (through the jump host).
 *
 * Large files: libssh2 pipelines SFTP reads and writes when handed big
 * buffers, so we hand it XFER_CHUNK at a time.  Resume keeps a partial copy
 * when its last bytes (up to RESUME_CHECK, i.e. all of a small prefix) equal
 * the source at the same offsets; otherwise the copy starts over.  verify
 * compares SHA-256 of both whole files (remote: sha256sum over exec).
 *
 * The server is not trusted with the local file system: a name it lists is
 * used only as one plain path component (OpenSSH's sftp refuses '/' in them,
 * "Server sent suspect path"; we also refuse control characters, which would
 * reach the terminal, and NUL), local files and directories below the
 * destination are opened relative to their parent's descriptor with
 * O_NOFOLLOW, and modes keep only their 0777 bits. */
#include "remote/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XFER_CHUNK (1024 * 1024)
#define XFER_BUF (4 * 1024 * 1024)	/* upload: bytes offered to the pipeline */
#define RESUME_CHECK (1024 * 1024)

static char *sftp_error(struct rmt_conn *, LIBSSH2_SFTP *, const char *what,
    const char *path);
static LIBSSH2_SFTP_HANDLE *sftp_open(struct rmt_conn *, LIBSSH2_SFTP *,
    const char *path, unsigned long flags, long mode, int type);
static int sftp_close(struct rmt_conn *, LIBSSH2_SFTP_HANDLE *);
static int sftp_stat(struct rmt_conn *, LIBSSH2_SFTP *, const char *path,
    LIBSSH2_SFTP_ATTRIBUTES *);
static int read_at(struct rmt_conn *, LIBSSH2_SFTP *, const char *path,
    uint64_t off, char *buf, size_t len, char **cause);
static int local_sha256(const char *path, char out[65], char **cause);
static int remote_sha256(struct rmt_session *, const char *node, const char *path,
    char out[65], char **cause);
static int local_sha256_fd(int fd, const char *path, char out[65], char **cause);
static void attrs_to_stat(const LIBSSH2_SFTP_ATTRIBUTES *, struct rmt_stat *);
static int read_dir(struct rmt_session *, struct rmt_conn *, LIBSSH2_SFTP *,
    const char *path, struct strlist *names, struct rmt_stat **stats,
    struct rmt_xfer *, char **first_bad, char **cause);
static int open_parent(const char *path, char **name, char **cause);
static int get_at(struct rmt_session *, const char *node, const char *remote,
    int dirfd, const char *name, const char *label, struct rmt_xfer *,
    char **cause);

#define NAME_BUF 8192		/* longest name a listing may hold, + 1 */
#define TREE_DEPTH 256		/* a listing that nests deeper is refused */
#define MAX_REFUSED 1000	/* a listing with more unsafe names is refused */

/* A cancelled transfer leaves requests in flight (the pipeline, the
 * read-ahead): the session is dropped rather than drained, so the cancel
 * takes effect now. What was written stays; a later copy resumes it. */
static char *
upload_cancelled(struct rmt_conn *c, const char *remote, uint64_t off)
{
	c->broken = 1;
	return xasprintf("%s: upload of \"%s\" cancelled at %llu bytes",
	    c->label, remote, (unsigned long long)off);
}

static char *
download_cancelled(struct rmt_conn *c, const char *remote, uint64_t off)
{
	c->broken = 1;
	return xasprintf("%s: download of \"%s\" cancelled at %llu bytes",
	    c->label, remote, (unsigned long long)off);
}

int
rmt_stat(struct rmt_session *s, const char *node, const char *path,
    struct rmt_stat *st, char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp = rmt_sftp(s, node, &c, cause);
	int r;

	if (sftp == NULL)
		return -1;
	if ((r = sftp_stat(c, sftp, path, &a)) == 0)
		attrs_to_stat(&a, st);
	else if (r == -1)
		*cause = sftp_error(c, sftp, "cannot stat", path);
	return r;
}

int
rmt_mkdir_p(struct rmt_session *s, const char *node, const char *path, int mode,
    char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp = rmt_sftp(s, node, &c, cause);
	char *p, *q;
	int r;

	if (sftp == NULL)
		return -1;
	p = xstrdup(path);
	for (q = p + (*p == '/'); ; q++) {
		if (*q != '/' && *q != '\0')
			continue;
		char save = *q;
		*q = '\0';
		if (*p != '\0' && (r = sftp_stat(c, sftp, p, &a)) != 0) {
			double deadline = rmt_deadline(s, 0);
			if (r == -1) {
				*cause = sftp_error(c, sftp, "cannot stat", p);
				free(p);
				return -1;
			}
			while ((r = libssh2_sftp_mkdir_ex(sftp, p, (unsigned)strlen(p), mode)) ==
			    LIBSSH2_ERROR_EAGAIN)
				if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
					break;
			if (r != 0 && sftp_stat(c, sftp, p, &a) != 0) {
				*cause = sftp_error(c, sftp, "cannot create directory", p);
				free(p);
				return -1;
			}
		} else if (*p != '\0' && !LIBSSH2_SFTP_S_ISDIR(a.permissions)) {
			*cause = xasprintf("%s: \"%s\" exists and is not a directory", c->label, p);
			free(p);
			return -1;
		}
		*q = save;
		if (save == '\0')
			break;
	}
	free(p);
	return 0;
}

static int
walk(struct rmt_session *s, const char *node, const char *root, const char *rel,
    int depth, rmt_walk_fn fn, void *arg, char **first_bad, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp = rmt_sftp(s, node, &c, cause);
	struct strlist names;
	struct rmt_stat *stats = NULL;
	char *path;
	int r, ret = 0;

	if (sftp == NULL)
		return -1;
	if (depth > TREE_DEPTH) {
		*cause = xasprintf("%s: \"%s/%s\" nests deeper than %d directories",
		    c->label, root, rel, TREE_DEPTH);
		return -1;
	}
	path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	strlist_init(&names);
	if (read_dir(s, c, sftp, path, &names, &stats, NULL, first_bad,
	    cause) == -1)
		ret = -1;
	/* the handle is closed before descending: one open handle at most */
	for (size_t i = 0; ret == 0 && i < names.n; i++) {
		char *sub = *rel ? xasprintf("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);
		r = fn(arg, sub, &stats[i], cause);
		if (r == -1)
			ret = -1;
		else if (r == 0 && S_ISDIR(stats[i].mode))
			ret = walk(s, node, root, sub, depth + 1, fn, arg, first_bad,
			    cause);
		free(sub);
	}
	strlist_release(&names);
	free(stats);
	free(path);
	return ret;
}

int
rmt_walk(struct rmt_session *s, const char *node, const char *root, rmt_walk_fn fn,
    void *arg, char **cause)
{
	struct rmt_stat st;
	int r;

	*cause = NULL;
	if ((r = rmt_stat(s, node, root, &st, cause)) != 0) {
		if (r == 1)
			*cause = xasprintf("\"%s\": no such file or directory", root);
		return -1;
	}
	if ((r = fn(arg, "", &st, cause)) == -1)
		return -1;
	if (r == 1 || !S_ISDIR(st.mode))
		return 0;
	char *bad = NULL;
	if (walk(s, node, root, "", 1, fn, arg, &bad, cause) == -1) {
		free(bad);
		return -1;
	}
	if (bad != NULL) {
		*cause = xasprintf("\"%s\": the server listed an unsafe name (%s)",
		    root, bad);
		free(bad);
		return -1;
	}
	return 0;
}

/* Upload. */
int
rmt_put(struct rmt_session *s, const char *node, const char *local, const char *remote,
    struct rmt_xfer *x, char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp;
	struct stat lst;
	uint64_t off = 0, size;
	size_t have;
	char *buf = NULL;
	int fd, r, ret = -1;

	*cause = NULL;
	x->resumed_from = x->transferred = 0;
	if ((fd = open(local, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &lst) == -1) {
		*cause = xasprintf("cannot open \"%s\": %s", local, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (!S_ISREG(lst.st_mode)) {
		*cause = xasprintf("cannot copy \"%s\": not a regular file", local);
		close(fd);
		return -1;
	}
	size = (uint64_t)lst.st_size;
	if ((sftp = rmt_sftp(s, node, &c, cause)) == NULL)
		goto out;
	buf = xmalloc(XFER_BUF);
	if (x->resume && (r = sftp_stat(c, sftp, remote, &a)) == 0 &&
	    a.filesize > 0 && a.filesize <= size) {
		size_t n = a.filesize < RESUME_CHECK ? (size_t)a.filesize : RESUME_CHECK;
		char *mine = xmalloc(n);
		if (read_at(c, sftp, remote, a.filesize - n, buf, n, cause) == -1) {
			free(mine);
			goto out;
		}
		if (pread(fd, mine, n, (off_t)(a.filesize - n)) == (ssize_t)n &&
		    memcmp(mine, buf, n) == 0)
			off = a.filesize;
		free(mine);
	}
	x->resumed_from = off;
	h = sftp_open(c, sftp, remote, LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
	    (off == 0 ? LIBSSH2_FXF_TRUNC : 0),
	    /* never set-id or sticky bits on the server (OpenSSH's sftp
	     * sends perm & 0777 too); the server's umask applies */
	    (long)((x->mode ? (unsigned)x->mode : lst.st_mode) & 0777),
	    LIBSSH2_SFTP_OPENFILE);
	if (h == NULL) {
		*cause = sftp_error(c, sftp, "cannot create", remote);
		goto out;
	}
	if (off > 0)
		libssh2_sftp_seek64(h, off);
	if (x->progress != NULL)
		x->progress(x->arg, off, size);
	/* buf holds [off, off + have) of the file.  libssh2 keeps sending the
	 * part of what we pass that it has not sent yet, and returns as acks
	 * arrive, so refilling the tail before the buffer runs dry keeps the
	 * pipeline full across refills. */
	have = 0;
	while (off < size) {
		double deadline = rmt_deadline(s, 0);
		ssize_t w;

		/* libssh2 may take all we offer without EAGAIN for a long
		 * while on a fast link: ask about cancel on every round. */
		if (x->cancel != NULL && x->cancel(x->arg)) {
			*cause = upload_cancelled(c, remote, off);
			goto out;
		}
		if (have < XFER_BUF / 2 && off + have < size) {
			ssize_t n = pread(fd, buf + have, XFER_BUF - have, (off_t)(off + have));
			if (n <= 0) {
				*cause = xasprintf("cannot read \"%s\": %s", local,
				    n == 0 ? "file shrank" : strerror(errno));
				sftp_close(c, h);
				goto out;
			}
			have += (size_t)n;
		}
		while ((w = libssh2_sftp_write(h, buf, have)) == LIBSSH2_ERROR_EAGAIN) {
			if (x->cancel != NULL && x->cancel(x->arg)) {
				*cause = upload_cancelled(c, remote, off);
				goto out;
			}
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		}
		if (w < 0) {
			rmt_conn_failed(c);
			*cause = sftp_error(c, sftp, "cannot write", remote);
			goto out;
		}
		memmove(buf, buf + w, have - (size_t)w);
		have -= (size_t)w;
		off += (uint64_t)w;
		x->transferred += (uint64_t)w;
		if (x->progress != NULL)
			x->progress(x->arg, off, size);
	}
	if (sftp_close(c, h) != 0) {
		*cause = sftp_error(c, sftp, "cannot close", remote);
		goto out;
	}
	if (x->verify) {
		char mine[65], theirs[65];
		if (local_sha256(local, mine, cause) == -1 ||
		    remote_sha256(s, node, remote, theirs, cause) == -1)
			goto out;
		if (strcmp(mine, theirs) != 0) {
			*cause = xasprintf("%s: \"%s\" differs after upload (sha256 %.12s, "
			    "local %.12s)", c->label, remote, theirs, mine);
			goto out;
		}
	}
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Download. */
int
rmt_get(struct rmt_session *s, const char *node, const char *remote, const char *local,
    struct rmt_xfer *x, char **cause)
{
	char *name;
	int dirfd, r;

	*cause = NULL;
	x->resumed_from = x->transferred = 0;
	if ((dirfd = open_parent(local, &name, cause)) == -1)
		return -1;
	r = get_at(s, node, remote, dirfd, name, local, x, cause);
	close(dirfd);
	free(name);
	return r;
}

/* Open name in dirfd for writing, never through a symbolic link. mode is for
 * a new file; an existing file keeps its mode, less any set-id bits. */
int
rmt_open_dest(int dirfd, const char *name, const char *label, int mode,
    struct stat *st, char **cause)
{
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, mode);

	if (fd == -1) {
		if (errno == ELOOP)
			*cause = xasprintf("cannot write \"%s\": it is a symbolic "
			    "link (not followed; remove it or name its target)", label);
		else
			*cause = xasprintf("cannot create \"%s\": %s", label,
			    strerror(errno));
		return -1;
	}
	/* O_NONBLOCK only kept a FIFO from blocking the open; a character
	 * device (/dev/null) is fine, anything else but a file is not. */
	if (fstat(fd, st) == -1 || !(S_ISREG(st->st_mode) || S_ISCHR(st->st_mode))) {
		*cause = xasprintf("cannot write \"%s\": not a regular file", label);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (S_ISREG(st->st_mode) && (st->st_mode & 07000) != 0)
		fchmod(fd, st->st_mode & 0777);
	return fd;
}

/* Download remote into name in dirfd; label names the local file in
 * messages. */
static int
get_at(struct rmt_session *s, const char *node, const char *remote, int dirfd,
    const char *name, const char *label, struct rmt_xfer *x, char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp;
	struct stat lst;
	uint64_t off = 0, size;
	char *buf = NULL;
	int fd = -1, r, ret = -1;
	unsigned mode;

	if ((sftp = rmt_sftp(s, node, &c, cause)) == NULL)
		return -1;
	if ((r = sftp_stat(c, sftp, remote, &a)) != 0) {
		*cause = r == 1 ? xasprintf("%s: \"%s\": no such file or directory",
		    c->label, remote) : sftp_error(c, sftp, "cannot stat", remote);
		return -1;
	}
	size = a.filesize;
	/* As OpenSSH's sftp: the 0777 bits of the source, never set-id or
	 * sticky; u+w so a resumed copy can be written; the umask applies. */
	if (x->mode)
		mode = (unsigned)x->mode & 0777;
	else if (a.flags & LIBSSH2_SFTP_ATTR_PERMISSIONS)
		mode = (unsigned)a.permissions & 0777;
	else
		mode = 0666;
	if ((fd = rmt_open_dest(dirfd, name, label, (int)(mode | S_IWUSR), &lst,
	    cause)) == -1)
		return -1;
	buf = xmalloc(XFER_CHUNK);
	if (x->resume && S_ISREG(lst.st_mode) && lst.st_size > 0 &&
	    (uint64_t)lst.st_size <= size) {
		size_t n = lst.st_size < RESUME_CHECK ? (size_t)lst.st_size : RESUME_CHECK;
		char *mine = xmalloc(n);
		if (read_at(c, sftp, remote, (uint64_t)lst.st_size - n, buf, n, cause) == -1) {
			free(mine);
			goto out;
		}
		if (pread(fd, mine, n, lst.st_size - (off_t)n) == (ssize_t)n &&
		    memcmp(mine, buf, n) == 0)
			off = (uint64_t)lst.st_size;
		free(mine);
	}
	x->resumed_from += off;
	if (off == 0 && S_ISREG(lst.st_mode) && lst.st_size > 0 &&
	    ftruncate(fd, 0) == -1) {
		*cause = xasprintf("cannot write \"%s\": %s", label, strerror(errno));
		goto out;
	}
	if ((h = sftp_open(c, sftp, remote, LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE)) == NULL) {
		*cause = sftp_error(c, sftp, "cannot open", remote);
		goto out;
	}
	if (off > 0)
		libssh2_sftp_seek64(h, off);
	if (x->progress != NULL)
		x->progress(x->arg, off, size);
	for (;;) {
		double deadline = rmt_deadline(s, 0);
		ssize_t n;
		/* asked on every round, as for uploads */
		if (x->cancel != NULL && x->cancel(x->arg)) {
			*cause = download_cancelled(c, remote, off);
			goto out;
		}
		while ((n = libssh2_sftp_read(h, buf, XFER_CHUNK)) == LIBSSH2_ERROR_EAGAIN) {
			if (x->cancel != NULL && x->cancel(x->arg)) {
				*cause = download_cancelled(c, remote, off);
				goto out;
			}
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		}
		if (n == 0)
			break;
		if (n < 0) {
			rmt_conn_failed(c);
			*cause = sftp_error(c, sftp, "cannot read", remote);
			goto out;
		}
		if ((S_ISREG(lst.st_mode) ? pwrite(fd, buf, (size_t)n, (off_t)off) :
		    write(fd, buf, (size_t)n)) != n) {
			*cause = xasprintf("cannot write \"%s\": %s", label, strerror(errno));
			sftp_close(c, h);
			goto out;
		}
		off += (uint64_t)n;
		x->transferred += (uint64_t)n;
		if (x->progress != NULL)
			x->progress(x->arg, off, size);
	}
	sftp_close(c, h);
	if (S_ISREG(lst.st_mode) && ftruncate(fd, (off_t)off) == -1) {
		*cause = xasprintf("cannot write \"%s\": %s", label, strerror(errno));
		goto out;
	}
	if (x->verify) {
		char mine[65], theirs[65];
		if (local_sha256_fd(fd, label, mine, cause) == -1 ||
		    remote_sha256(s, node, remote, theirs, cause) == -1)
			goto out;
		if (strcmp(mine, theirs) != 0) {
			*cause = xasprintf("\"%s\" differs after download (sha256 %.12s, "
			    "remote %.12s)", label, mine, theirs);
			goto out;
		}
	}
	ret = 0;
out:
	if (fd != -1 && close(fd) == -1 && ret == 0) {
		*cause = xasprintf("cannot write \"%s\": %s", label, strerror(errno));
		ret = -1;
	}
	free(buf);
	return ret;
}

/* Trees. */
struct tree {
	struct rmt_session *s;
	const char *node, *src, *dst;
	struct rmt_xfer *x;
	uint64_t resumed_from, transferred;	/* totals over the files */
	char *first_bad;			/* the first unsafe name, printable */
};

static void
skipped(struct rmt_xfer *x, char *msg)
{
	if (x->skipped != NULL)
		x->skipped(x->skipped_arg, msg);
	free(msg);
}

static int
put_tree_dir(struct tree *t, const char *rel, char **cause)
{
	char *lpath = *rel ? xasprintf("%s/%s", t->src, rel) : xstrdup(t->src);
	char *rpath = *rel ? xasprintf("%s/%s", t->dst, rel) : xstrdup(t->dst);
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (rmt_mkdir_p(t->s, t->node, rpath, 0755, cause) == -1) {
		ret = -1;
		goto out;
	}
	if ((d = opendir(lpath)) == NULL) {
		*cause = xasprintf("cannot read \"%s\": %s", lpath, strerror(errno));
		ret = -1;
		goto out;
	}
	while (ret == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *sub, *lsub, *rsub;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		lsub = xasprintf("%s/%s", t->src, sub);
		rsub = xasprintf("%s/%s", t->dst, sub);
		/* lstat: a link is left out, as OpenSSH's sftp put -R does (and
		 * a link to a parent cannot loop) */
		if (lstat(lsub, &st) == -1) {
			*cause = xasprintf("cannot stat \"%s\": %s", lsub, strerror(errno));
			ret = -1;
		} else if (S_ISDIR(st.st_mode))
			ret = put_tree_dir(t, sub, cause);
		else if (S_ISREG(st.st_mode)) {
			ret = rmt_put(t->s, t->node, lsub, rsub, t->x, cause);
			t->resumed_from += t->x->resumed_from;
			t->transferred += t->x->transferred;
		} else
			skipped(t->x, xasprintf("skipped \"%s\": %s", lsub,
			    S_ISLNK(st.st_mode) ? "symbolic link, not followed" :
			    "not a regular file"));
		free(sub);
		free(lsub);
		free(rsub);
	}
	closedir(d);
out:
	free(lpath);
	free(rpath);
	return ret;
}

int
rmt_put_tree(struct rmt_session *s, const char *node, const char *local,
    const char *remote, struct rmt_xfer *x, char **cause)
{
	struct tree t = { s, node, local, remote, x, 0, 0, NULL };
	struct stat st;
	int r;

	*cause = NULL;
	x->refused = 0;
	if (stat(local, &st) == -1) {
		*cause = xasprintf("cannot stat \"%s\": %s", local, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return rmt_put(s, node, local, remote, x, cause);
	if (x->tar && !x->verify && (r = rmt_has_tar(s, node, cause)) != 0)
		return r == 1 ? rmt_put_tree_tar(s, node, local, remote, x, cause) : -1;
	r = put_tree_dir(&t, "", cause);
	x->resumed_from = t.resumed_from;
	x->transferred = t.transferred;
	return r;
}

/* Copy the remote directory t->src/rel into dirfd (local t->dst/rel). */
static int
get_tree_dir(struct tree *t, const char *rel, int dirfd, int depth, char **cause)
{
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp = rmt_sftp(t->s, t->node, &c, cause);
	char *rpath = *rel ? xasprintf("%s/%s", t->src, rel) : xstrdup(t->src);
	struct strlist names;
	struct rmt_stat *stats = NULL;
	int ret = 0;

	if (sftp == NULL) {
		free(rpath);
		return -1;
	}
	if (depth > TREE_DEPTH) {
		*cause = xasprintf("%s: \"%s\" nests deeper than %d directories",
		    c->label, rpath, TREE_DEPTH);
		free(rpath);
		return -1;
	}
	strlist_init(&names);
	if (read_dir(t->s, c, sftp, rpath, &names, &stats, t->x, &t->first_bad,
	    cause) == -1)
		ret = -1;
	for (size_t i = 0; ret == 0 && i < names.n; i++) {
		const char *name = names.v[i];
		char *sub = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		char *rsub = xasprintf("%s/%s", t->src, sub);
		char *lsub = xasprintf("%s/%s", t->dst, sub);
		unsigned mode = stats[i].mode;

		if (S_ISDIR(mode)) {
			int fd;
			/* mkdir, then open what is there now without following
			 * a link: a link planted (or raced in) is refused */
			if (mkdirat(dirfd, name, (mode & 0777) | S_IRWXU) == -1 &&
			    errno != EEXIST) {
				*cause = xasprintf("cannot create directory \"%s\": %s",
				    lsub, strerror(errno));
				ret = -1;
			} else if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC)) == -1) {
				*cause = xasprintf("cannot write into \"%s\": %s", lsub,
				    errno == ELOOP || errno == ENOTDIR ? "not a directory "
				    "(a symbolic link is not followed)" : strerror(errno));
				ret = -1;
			} else {
				ret = get_tree_dir(t, sub, fd, depth + 1, cause);
				close(fd);
			}
		} else if (S_ISREG(mode)) {
			uint64_t before = t->x->resumed_from;
			t->x->transferred = 0;
			ret = get_at(t->s, t->node, rsub, dirfd, name, lsub, t->x, cause);
			t->resumed_from += t->x->resumed_from - before;
			t->transferred += t->x->transferred;
			t->x->resumed_from = before;
		} else
			skipped(t->x, xasprintf("%s: skipped \"%s\": %s", c->label, rsub,
			    S_ISLNK(mode) ? "symbolic link, not followed" :
			    "not a regular file"));
		free(sub);
		free(rsub);
		free(lsub);
	}
	strlist_release(&names);
	free(stats);
	free(rpath);
	return ret;
}

int
rmt_get_tree(struct rmt_session *s, const char *node, const char *remote,
    const char *local, struct rmt_xfer *x, char **cause)
{
	struct tree t = { s, node, remote, local, x, 0, 0, NULL };
	struct rmt_stat st;
	char *name;
	int r, dirfd, fd;

	*cause = NULL;
	x->refused = 0;
	x->resumed_from = x->transferred = 0;
	if ((r = rmt_stat(s, node, remote, &st, cause)) != 0) {
		if (r == 1) {
			struct rmt_conn *c;
			char *e = NULL;
			/* named as the user knows the node (rmt_label_node) */
			*cause = xasprintf("%s: \"%s\": no such file or directory",
			    rmt_sftp(s, node, &c, &e) ? c->label : "server", remote);
			free(e);
		}
		return -1;
	}
	if (!S_ISDIR(st.mode))
		return rmt_get(s, node, remote, local, x, cause);
	if ((dirfd = open_parent(local, &name, cause)) == -1)
		return -1;
	if (mkdirat(dirfd, name, (st.mode & 0777) | S_IRWXU) == -1 && errno != EEXIST) {
		*cause = xasprintf("cannot create directory \"%s\": %s", local,
		    strerror(errno));
		r = -1;
	} else if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot write into \"%s\": %s", local,
		    errno == ELOOP || errno == ENOTDIR ? "not a directory (a symbolic "
		    "link is not followed)" : strerror(errno));
		r = -1;
	} else {
		if (x->tar && !x->verify && (r = rmt_has_tar(s, node, cause)) != 0)
			r = r == 1 ? rmt_get_tree_tar(s, node, remote, fd, local, x,
			    &t.first_bad, cause) : -1, t.transferred = x->transferred;
		else
			r = get_tree_dir(&t, "", fd, 1, cause);
		close(fd);
	}
	close(dirfd);
	free(name);
	x->resumed_from = t.resumed_from;
	x->transferred = t.transferred;
	if (r == 0 && x->refused > 0) {
		struct rmt_conn *c;
		char *e = NULL;
		const char *label = rmt_sftp(s, node, &c, &e) ? c->label : "server";
		*cause = xasprintf("%s: refused %u unsafe name%s listed under \"%s\" "
		    "(first %s); the rest was copied", label, x->refused,
		    x->refused == 1 ? "" : "s", remote, t.first_bad);
		free(e);
		r = -1;
	}
	free(t.first_bad);
	return r;
}

/* Helpers. */

/*
 * The entries of the remote directory path, "." and ".." left out, with
 * their attributes (READDIR's, which OpenSSH's server takes from lstat: a
 * link shows as a link). A name is kept only when it can be one path
 * component: not empty, no '/', no NUL (the length libssh2 reports is the
 * wire length), no control character. Others are told to x->skipped,
 * counted in x->refused, and the first is kept (printable) in *first_bad.
 */
static int
read_dir(struct rmt_session *s, struct rmt_conn *c, LIBSSH2_SFTP *sftp,
    const char *path, struct strlist *names, struct rmt_stat **stats,
    struct rmt_xfer *x, char **first_bad, char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	char *name = xmalloc(NAME_BUF), *longname = xmalloc(2 * NAME_BUF);
	int r, ret = 0, nbad = 0;

	h = sftp_open(c, sftp, path, 0, 0, LIBSSH2_SFTP_OPENDIR);
	if (h == NULL) {
		*cause = sftp_error(c, sftp, "cannot read directory", path);
		free(name);
		free(longname);
		return -1;
	}
	for (;;) {
		double deadline = rmt_deadline(s, 0);
		size_t len, i;

		/* libssh2 returns 0 both at the end of the listing and for an
		 * empty name, which must not end it quietly: only an entry
		 * writes the long name and the attributes. */
		a.flags = ~0UL;
		longname[0] = '\1';
		while ((r = libssh2_sftp_readdir_ex(h, name, NAME_BUF, longname,
		    2 * NAME_BUF, &a)) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (r == 0 && a.flags == ~0UL && longname[0] == '\1')
			break;
		if (x != NULL && x->cancel != NULL && x->cancel(x->arg)) {
			*cause = xasprintf("%s: listing of \"%s\" cancelled", c->label,
			    path);
			ret = -1;
			break;
		}
		if (r == LIBSSH2_ERROR_BUFFER_TOO_SMALL) {
			/* libssh2 cannot step over it: the listing ends here */
			*cause = xasprintf("%s: cannot read directory \"%s\": the server "
			    "listed a name longer than %d bytes", c->label, path,
			    NAME_BUF - 1);
			ret = -1;
			break;
		}
		if (r < 0) {
			*cause = sftp_error(c, sftp, "cannot read directory", path);
			ret = -1;
			break;
		}
		len = (size_t)r;
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		for (i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)name[i];
			if (ch == '/' || ch < 0x20 || ch == 0x7f)
				break;
		}
		if (len == 0 || i < len) {
			char *shown;
			if (++nbad > MAX_REFUSED) {
				*cause = xasprintf("%s: cannot read directory \"%s\": "
				    "more than %d unsafe names", c->label, path,
				    MAX_REFUSED);
				ret = -1;
				break;
			}
			shown = rmt_printable(name, len);
			if (x != NULL) {
				x->refused++;
				if (x->skipped != NULL) {
					char *msg = xasprintf("%s: refused the name \"%s\" "
					    "listed in \"%s\": not a plain file name",
					    c->label, shown, path);
					x->skipped(x->skipped_arg, msg);
					free(msg);
				}
			}
			if (*first_bad == NULL)
				*first_bad = xasprintf("\"%s\"", shown);
			free(shown);
			continue;
		}
		*stats = xreallocarray(*stats, names->n + 1, sizeof **stats);
		attrs_to_stat(&a, &(*stats)[names->n]);
		strlist_add(names, name);
	}
	sftp_close(c, h);
	free(name);
	free(longname);
	return ret;
}

/* name as it can be shown: control characters, NUL, backslash and '"'
 * escaped as in C. */
char *
rmt_printable(const char *name, size_t len)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch == '\n')
			buf_adds(&b, "\\n");
		else if (ch == '\t')
			buf_adds(&b, "\\t");
		else if (ch == '\\' || ch == '"')
			buf_printf(&b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(&b, "\\x%02x", ch);
		else
			buf_addc(&b, (char)ch);
	}
	return buf_detach_release(&b);
}

/* The directory holding path's last component, opened (the caller's own
 * directories are followed); *name is that component. */
static int
open_parent(const char *path, char **name, char **cause)
{
	char *p = xstrdup(path), *slash;
	size_t n = strlen(p);
	const char *dir;
	int fd;

	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if ((slash = strrchr(p, '/')) == NULL) {
		dir = ".";
		*name = xstrdup(p);
	} else {
		*name = xstrdup(slash + 1);
		if (slash == p)
			dir = "/";
		else {
			*slash = '\0';
			dir = p;
		}
	}
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) {
		*cause = xasprintf("cannot create \"%s\": not a file name", path);
		fd = -1;
	} else if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		*cause = xasprintf("cannot create \"%s\": %s", path, strerror(errno));
	free(p);
	if (fd == -1) {
		free(*name);
		*name = NULL;
	}
	return fd;
}


static void
attrs_to_stat(const LIBSSH2_SFTP_ATTRIBUTES *a, struct rmt_stat *st)
{
	st->size = a->flags & LIBSSH2_SFTP_ATTR_SIZE ? a->filesize : 0;
	st->mode = a->flags & LIBSSH2_SFTP_ATTR_PERMISSIONS ? (unsigned)a->permissions : 0;
	st->mtime = a->flags & LIBSSH2_SFTP_ATTR_ACMODTIME ? (int64_t)a->mtime : 0;
}

/* 0 found, 1 no such file, -1 error. */
static int
sftp_stat(struct rmt_conn *c, LIBSSH2_SFTP *sftp, const char *path,
    LIBSSH2_SFTP_ATTRIBUTES *a)
{
	double deadline = rmt_deadline(c->s, 0);
	int r;

	while ((r = libssh2_sftp_stat_ex(sftp, path, (unsigned)strlen(path),
	    LIBSSH2_SFTP_STAT, a)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			return -1;
	if (r == 0)
		return 0;
	if (r == LIBSSH2_ERROR_SFTP_PROTOCOL &&
	    libssh2_sftp_last_error(sftp) == LIBSSH2_FX_NO_SUCH_FILE)
		return 1;
	return -1;
}

static LIBSSH2_SFTP_HANDLE *
sftp_open(struct rmt_conn *c, LIBSSH2_SFTP *sftp, const char *path,
    unsigned long flags, long mode, int type)
{
	double deadline = rmt_deadline(c->s, 0);
	LIBSSH2_SFTP_HANDLE *h;

	while ((h = libssh2_sftp_open_ex(sftp, path, (unsigned)strlen(path), flags, mode,
	    type)) == NULL && libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	return h;
}

static int
sftp_close(struct rmt_conn *c, LIBSSH2_SFTP_HANDLE *h)
{
	double deadline = rmt_deadline(c->s, 0);
	int r;

	while ((r = libssh2_sftp_close_handle(h)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	return r;
}

static int
read_at(struct rmt_conn *c, LIBSSH2_SFTP *sftp, const char *path, uint64_t off,
    char *buf, size_t len, char **cause)
{
	LIBSSH2_SFTP_HANDLE *h = sftp_open(c, sftp, path, LIBSSH2_FXF_READ, 0,
	    LIBSSH2_SFTP_OPENFILE);
	size_t got = 0;

	if (h == NULL) {
		*cause = sftp_error(c, sftp, "cannot open", path);
		return -1;
	}
	libssh2_sftp_seek64(h, off);
	while (got < len) {
		double deadline = rmt_deadline(c->s, 0);
		ssize_t n;
		while ((n = libssh2_sftp_read(h, buf + got, len - got)) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	sftp_close(c, h);
	if (got < len)
		memset(buf + got, 0, len - got);	/* a short remote file never matches */
	return 0;
}

static char *
sftp_error(struct rmt_conn *c, LIBSSH2_SFTP *sftp, const char *what, const char *path)
{
	static const char *const fx[] = {
		"ok", "end of file", "no such file or directory", "permission denied",
		"failure", "bad message", "no connection", "connection lost",
		"operation unsupported", "invalid handle", "no such path",
		"file already exists", "write protected", "no media",
		"no space on the file system", "quota exceeded", "unknown principal",
		"lock conflict", "directory not empty", "not a directory",
		"invalid filename", "link loop",
	};
	unsigned long e;

	if (libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_SFTP_PROTOCOL) {
		e = libssh2_sftp_last_error(sftp);
		return xasprintf("%s: %s \"%s\": %s", c->label, what, path,
		    e < sizeof fx / sizeof fx[0] ? fx[e] : "sftp error");
	}
	char *w = xasprintf("%s \"%s\"", what, path), *msg = rmt_conn_error(c, w);
	free(w);
	return msg;
}

static int
local_sha256(const char *path, char out[65], char **cause)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd == -1) {
		*cause = xasprintf("cannot open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	r = local_sha256_fd(fd, path, out, cause);
	close(fd);
	return r;
}

/* SHA-256 of the whole file behind fd (read from offset 0). */
static int
local_sha256_fd(int fd, const char *path, char out[65], char **cause)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	char *buf = xmalloc(XFER_CHUNK);
	off_t off = 0;
	ssize_t n;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = pread(fd, buf, XFER_CHUNK, off)) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		off += n;
	}
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	free(buf);
	if (n < 0) {
		*cause = xasprintf("cannot read \"%s\": %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int
remote_sha256(struct rmt_session *s, const char *node, const char *path, char out[65],
    char **cause)
{
	struct buf cmd;
	char *o = NULL;
	int r;

	buf_init(&cmd);
	buf_adds(&cmd, "sha256sum -- ");
	rmt_shquote(&cmd, path);
	r = rmt_run(s, node, cmd.data, &o, NULL, cause);
	buf_release(&cmd);
	if (r == -1)
		return -1;
	if (r != 0 || strlen(o) < 64) {
		*cause = xasprintf("cannot checksum \"%s\" remotely (sha256sum exit %d)", path, r);
		free(o);
		return -1;
	}
	memcpy(out, o, 64);
	out[64] = '\0';
	free(o);
	return 0;
}
