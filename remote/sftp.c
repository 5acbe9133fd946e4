/* sftp.c: file transfer over SFTP on a node (through the jump host).
 *
 * Large files: libssh2 pipelines SFTP reads and writes when handed big
 * buffers, so we hand it XFER_CHUNK at a time.  Resume keeps a partial copy
 * when its last bytes (up to RESUME_CHECK, i.e. all of a small prefix) equal
 * the source at the same offsets; otherwise the copy starts over.  verify
 * compares SHA-256 of both whole files (remote: sha256sum over exec). */
#include "internal.h"

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
static void attrs_to_stat(const LIBSSH2_SFTP_ATTRIBUTES *, struct rmt_stat *);

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
    rmt_walk_fn fn, void *arg, char **cause)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp = rmt_sftp(s, node, &c, cause);
	struct strlist names;
	struct rmt_stat *stats = NULL;
	char name[1024], *path;
	int r, ret = 0;

	if (sftp == NULL)
		return -1;
	path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	h = sftp_open(c, sftp, path, 0, 0, LIBSSH2_SFTP_OPENDIR);
	if (h == NULL) {
		*cause = sftp_error(c, sftp, "cannot read directory", path);
		free(path);
		return -1;
	}
	strlist_init(&names);
	for (;;) {
		double deadline = rmt_deadline(s, 0);
		while ((r = libssh2_sftp_readdir_ex(h, name, sizeof name, NULL, 0, &a)) ==
		    LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
				break;
		if (r == 0)
			break;
		if (r < 0) {
			*cause = sftp_error(c, sftp, "cannot read directory", path);
			ret = -1;
			break;
		}
		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		stats = xreallocarray(stats, names.n + 1, sizeof *stats);
		attrs_to_stat(&a, &stats[names.n]);
		strlist_add(&names, name);
	}
	sftp_close(c, h);
	/* the handle is closed before descending: one open handle at most */
	for (size_t i = 0; ret == 0 && i < names.n; i++) {
		char *sub = *rel ? xasprintf("%s/%s", rel, names.v[i]) : xstrdup(names.v[i]);
		r = fn(arg, sub, &stats[i], cause);
		if (r == -1)
			ret = -1;
		else if (r == 0 && S_ISDIR(stats[i].mode))
			ret = walk(s, node, root, sub, fn, arg, cause);
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
	return walk(s, node, root, "", fn, arg, cause);
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
	    x->mode ? x->mode : (long)(lst.st_mode & 07777), LIBSSH2_SFTP_OPENFILE);
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
				*cause = xasprintf("%s: upload of \"%s\" cancelled at %llu "
				    "bytes", c->label, remote, (unsigned long long)off);
				c->broken = 1;	/* mid-pipeline: drop the session */
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
	LIBSSH2_SFTP_ATTRIBUTES a;
	LIBSSH2_SFTP_HANDLE *h;
	struct rmt_conn *c;
	LIBSSH2_SFTP *sftp;
	struct stat lst;
	uint64_t off = 0, size;
	char *buf = NULL;
	int fd = -1, r, ret = -1, mode;

	*cause = NULL;
	x->resumed_from = x->transferred = 0;
	if ((sftp = rmt_sftp(s, node, &c, cause)) == NULL)
		return -1;
	if ((r = sftp_stat(c, sftp, remote, &a)) != 0) {
		*cause = r == 1 ? xasprintf("%s: \"%s\": no such file or directory",
		    c->label, remote) : sftp_error(c, sftp, "cannot stat", remote);
		return -1;
	}
	size = a.filesize;
	mode = x->mode ? x->mode : (int)(a.permissions & 07777);
	buf = xmalloc(XFER_CHUNK);
	if (x->resume && stat(local, &lst) == 0 && lst.st_size > 0 &&
	    (uint64_t)lst.st_size <= size) {
		size_t n = lst.st_size < RESUME_CHECK ? (size_t)lst.st_size : RESUME_CHECK;
		char *mine = xmalloc(n);
		int lfd = open(local, O_RDONLY | O_CLOEXEC);
		if (read_at(c, sftp, remote, (uint64_t)lst.st_size - n, buf, n, cause) == -1) {
			free(mine);
			if (lfd != -1)
				close(lfd);
			goto out;
		}
		if (lfd != -1 && pread(lfd, mine, n, lst.st_size - (off_t)n) == (ssize_t)n &&
		    memcmp(mine, buf, n) == 0)
			off = (uint64_t)lst.st_size;
		free(mine);
		if (lfd != -1)
			close(lfd);
	}
	x->resumed_from = off;
	fd = open(local, O_WRONLY | O_CREAT | O_CLOEXEC | (off == 0 ? O_TRUNC : 0),
	    mode ? mode : 0644);
	if (fd == -1) {
		*cause = xasprintf("cannot create \"%s\": %s", local, strerror(errno));
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
		while ((n = libssh2_sftp_read(h, buf, XFER_CHUNK)) == LIBSSH2_ERROR_EAGAIN) {
			if (x->cancel != NULL && x->cancel(x->arg)) {
				*cause = xasprintf("%s: download of \"%s\" cancelled at %llu bytes",
				    c->label, remote, (unsigned long long)off);
				c->broken = 1;	/* read-ahead in flight: drop the session */
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
		if (pwrite(fd, buf, (size_t)n, (off_t)off) != n) {
			*cause = xasprintf("cannot write \"%s\": %s", local, strerror(errno));
			sftp_close(c, h);
			goto out;
		}
		off += (uint64_t)n;
		x->transferred += (uint64_t)n;
		if (x->progress != NULL)
			x->progress(x->arg, off, size);
	}
	sftp_close(c, h);
	if (ftruncate(fd, (off_t)off) == -1 || close(fd) == -1) {
		fd = -1;
		*cause = xasprintf("cannot write \"%s\": %s", local, strerror(errno));
		goto out;
	}
	fd = -1;
	if (x->verify) {
		char mine[65], theirs[65];
		if (local_sha256(local, mine, cause) == -1 ||
		    remote_sha256(s, node, remote, theirs, cause) == -1)
			goto out;
		if (strcmp(mine, theirs) != 0) {
			*cause = xasprintf("\"%s\" differs after download (sha256 %.12s, "
			    "remote %.12s)", local, mine, theirs);
			goto out;
		}
	}
	ret = 0;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return ret;
}

/* Trees. */
struct tree {
	struct rmt_session *s;
	const char *node, *src, *dst;
	struct rmt_xfer *x;
};

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
		if (stat(lsub, &st) == 0 && S_ISDIR(st.st_mode))
			ret = put_tree_dir(t, sub, cause);
		else if (S_ISREG(st.st_mode))
			ret = rmt_put(t->s, t->node, lsub, rsub, t->x, cause);
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
	struct tree t = { s, node, local, remote, x };
	struct stat st;

	*cause = NULL;
	if (stat(local, &st) == -1) {
		*cause = xasprintf("cannot stat \"%s\": %s", local, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return rmt_put(s, node, local, remote, x, cause);
	return put_tree_dir(&t, "", cause);
}

static int
get_tree_fn(void *arg, const char *rel, const struct rmt_stat *st, char **cause)
{
	struct tree *t = arg;
	char *lpath = *rel ? xasprintf("%s/%s", t->dst, rel) : xstrdup(t->dst);
	char *rpath = *rel ? xasprintf("%s/%s", t->src, rel) : xstrdup(t->src);
	int r = 0;

	if (S_ISDIR(st->mode))
		r = mkdir_p(lpath, 0755, cause);
	else if (S_ISREG(st->mode))
		r = rmt_get(t->s, t->node, rpath, lpath, t->x, cause);
	free(lpath);
	free(rpath);
	return r == -1 ? -1 : 0;
}

int
rmt_get_tree(struct rmt_session *s, const char *node, const char *remote,
    const char *local, struct rmt_xfer *x, char **cause)
{
	struct tree t = { s, node, remote, local, x };

	return rmt_walk(s, node, remote, get_tree_fn, &t, cause);
}

/* Helpers. */

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
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32];
	char *buf = xmalloc(XFER_CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1) {
		*cause = xasprintf("cannot open \"%s\": %s", path, strerror(errno));
		free(buf);
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = read(fd, buf, XFER_CHUNK)) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	close(fd);
	free(buf);
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
	buf_adds(&cmd, "sha256sum -- '");
	for (const char *p = path; *p; p++)
		if (*p == '\'')
			buf_adds(&cmd, "'\\''");
		else
			buf_addc(&cmd, *p);
	buf_adds(&cmd, "'");
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
