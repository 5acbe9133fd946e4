/* state.c: atomic, locked, versioned JSON state per workspace. */
#include "lib/state.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int
state_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > STATE_NAME_MAX || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return 0;
	return 1;
}

char *
state_name_error(const char *s)
{
	if (strlen(s) > STATE_NAME_MAX)
		return xasprintf("workspace name '%.*s…' is %zu characters, at "
		    "most %d (IAM role names mlsh-<ws>-notebook are limited to "
		    "64)", 20, s, strlen(s), STATE_NAME_MAX);
	if (!state_name_ok(s))
		return xasprintf("bad workspace name '%s' (letters, digits, "
		    "'_', '.', '-', starting with a letter or digit; up to %d)",
		    s, STATE_NAME_MAX);
	return NULL;
}

char *
state_default_dir(char **cause)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;

	if (xdg != NULL && *xdg == '/')
		return xasprintf("%s/mlsh", xdg);
	if (home != NULL && *home == '/')
		return xasprintf("%s/.local/state/mlsh", home);
	/* As OpenSSH does for ~: the password entry's home. */
	pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		return xasprintf("%s/.local/state/mlsh", pw->pw_dir);
	*cause = xasprintf("no home directory: HOME is not set and uid %ld "
	    "has no password entry; set HOME or XDG_STATE_HOME", (long)getuid());
	return NULL;
}

/* Tighten what is looser than it should be: files 0600, directories 0700.
 * Only what the user owns, never through symbolic links. */
static void
tighten(int dfd, const char *name, int depth)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *e;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    st.st_uid != geteuid())
		return;
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) != 0) {
		if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC | O_NONBLOCK)) >= 0) {
			fchmod(fd, st.st_mode & 0700);
			close(fd);
		}
	} else if (S_ISDIR(st.st_mode) && depth > 0) {
		if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			return;
		if ((st.st_mode & 077) != 0)
			fchmod(fd, 0700);
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			return;
		}
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0)
				tighten(dirfd(d), e->d_name, depth - 1);
		closedir(d);
	}
}

int
state_dir_prepare(const char *dir, char **cause)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (mkdir_p(dir, 0700, cause) != 0)
		return -1;
	if (stat(dir, &st) != 0) {
		*cause = xasprintf("cannot use the state directory '%s': %s", dir,
		    strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*cause = xasprintf("state directory '%s' is not a directory; "
		    "move it away", dir);
		return -1;
	}
	/* Like OpenSSH's checks on ~/.ssh: the user's own (or root's), and
	 * nobody else can add or swap files in it. */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		*cause = xasprintf("state directory '%s' belongs to uid %ld, not "
		    "to you (uid %ld); set XDG_STATE_HOME to a directory of your "
		    "own", dir, (long)st.st_uid, (long)geteuid());
		return -1;
	}
	if ((st.st_mode & 022) != 0) {
		*cause = xasprintf("state directory '%s' is writable by others "
		    "(mode %03o); fix it with: chmod 700 '%s'", dir,
		    (unsigned)(st.st_mode & 0777), dir);
		return -1;
	}
	if ((st.st_mode & 077) != 0 && st.st_uid == geteuid() &&
	    chmod(dir, 0700) != 0) {
		*cause = xasprintf("cannot make '%s' private (chmod 700): %s",
		    dir, strerror(errno));
		return -1;
	}
	/* Files an older mlsh left readable: state, current, history, the
	 * train cache (two levels: train/<ws>/runs). The lab's directory is
	 * its own business. */
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
			    (e->d_name[1] == '.' && e->d_name[2] == '\0')))
				continue;
			if (strcmp(e->d_name, "lab") == 0)
				continue;
			tighten(dirfd(d), e->d_name,
			    strcmp(e->d_name, "train") == 0 ? 2 : 0);
		}
		closedir(d);
	}
	return 0;
}

int
state_write_file(const char *path, const char *text, size_t len,
    char **cause)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid()), *dir, *sl;
	size_t off = 0;
	ssize_t n;
	int fd, dfd;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off < len || fsync(fd) != 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		*cause = xasprintf("cannot rename '%s': %s", tmp,
		    strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	dir = xstrdup(path);
	if ((sl = strrchr(dir, '/')) != NULL) {
		*sl = '\0';
		if ((dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	return 0;
}

char *
state_read_file(const char *path, size_t *lenp, char **cause)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			*cause = xasprintf("'%s' is a symbolic link; mlsh does "
			    "not follow links in its state directory", path);
		else
			*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	return fd_read_all(fd, path, lenp, cause);
}

static char *
lock_path(const char *dir, const char *ws)
{
	return xasprintf("%s/%s.lock", dir, ws);
}

/* The pid written in a lock file by its holder, or 0. */
static long
lock_holder(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof b - 1, 0);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	return strtol(b, NULL, 10);
}

static int
lock_take(const char *dir, const char *ws, const struct state_wait *w,
    int *fdp, char **cause)
{
	char *p = lock_path(dir, ws);
	int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	int wait_s = w != NULL ? w->wait_s : 0, shown = 0;
	double start = now_ms();
	char pid[32];

	if (fd < 0) {
		*cause = xasprintf("cannot open '%s': %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	for (;;) {
		int waited;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK) {
			*cause = xasprintf("cannot lock workspace '%s': %s", ws,
			    strerror(errno));
			close(fd);
			return -1;
		}
		waited = (int)((now_ms() - start) / 1000);
		if (wait_s <= 0 || waited >= wait_s ||
		    (w->cancel != NULL && *w->cancel)) {
			long h = lock_holder(fd);
			char *who = h > 0 ? xasprintf(" by pid %ld", h) :
			    xstrdup("");
			if (shown > 0)
				w->progress(w->arg, ws, h, -1, wait_s);
			if (wait_s <= 0)
				*cause = xasprintf("workspace '%s' is in use%s "
				    "(--wait waits for it)", ws, who);
			else
				*cause = xasprintf("workspace '%s' is still in "
				    "use%s after %d s (gave up waiting)", ws,
				    who, waited);
			free(who);
			close(fd);
			return -1;
		}
		if (w->progress != NULL && waited >= shown) {
			w->progress(w->arg, ws, lock_holder(fd), waited, wait_s);
			shown = waited + 1;
		}
		usleep(100 * 1000);
	}
	if (shown > 0)
		w->progress(w->arg, ws, 0, -1, wait_s);
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) < 0) {
		/* The pid is only informative; the lock itself is held. */
	}
	*fdp = fd;
	return 0;
}

static cJSON *
state_new_root(const char *ws)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "schema", STATE_SCHEMA);
	cJSON_AddStringToObject(r, "workspace", ws);
	cJSON_AddNumberToObject(r, "created", (double)time(NULL));
	cJSON_AddItemToObject(r, "resources", cJSON_CreateObject());
	cJSON_AddItemToObject(r, "journal", cJSON_CreateArray());
	return r;
}

/* The identity of what is at path now (all 0 when nothing is). */
static void
file_identity(const char *path, unsigned long long *dev,
    unsigned long long *ino, long long *mtime_ns, long long *size)
{
	struct stat st;

	*dev = *ino = 0;
	*mtime_ns = *size = 0;
	if (lstat(path, &st) != 0)
		return;
	*dev = (unsigned long long)st.st_dev;
	*ino = (unsigned long long)st.st_ino;
	*mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
	    st.st_mtim.tv_nsec;
	*size = (long long)st.st_size;
}

/* Whether the file is another than the one s read (or saved). */
static int
file_changed(const struct state *s)
{
	unsigned long long dev, ino;
	long long mt, size;

	file_identity(s->path, &dev, &ino, &mt, &size);
	return dev != s->file_dev || ino != s->file_ino ||
	    mt != s->file_mtime_ns || size != s->file_size;
}

/* Read the file into a new root (a new one when there is no file). */
static cJSON *
state_read_root(struct state *s, int *existed, char **cause)
{
	cJSON *root, *v;
	char *text;
	size_t len;
	struct stat st;

	file_identity(s->path, &s->file_dev, &s->file_ino, &s->file_mtime_ns,
	    &s->file_size);
	if (lstat(s->path, &st) != 0) {
		if (errno != ENOENT) {
			*cause = xasprintf("cannot read '%s': %s", s->path,
			    strerror(errno));
			return NULL;
		}
		*existed = 0;
		return state_new_root(s->workspace);
	}
	*existed = 1;
	if ((text = state_read_file(s->path, &len, cause)) == NULL)
		return NULL;
	root = cJSON_ParseWithLength(text, len);
	free(text);
	if (root == NULL || !cJSON_IsObject(root)) {
		*cause = xasprintf("state file '%s' is corrupt (not a JSON "
		    "object); fix or move it away, mlsh will not overwrite it",
		    s->path);
		cJSON_Delete(root);
		return NULL;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "schema");
	if (!cJSON_IsNumber(v)) {
		*cause = xasprintf("state file '%s' has no schema version; mlsh "
		    "will not overwrite it", s->path);
		cJSON_Delete(root);
		return NULL;
	}
	if (v->valueint > STATE_SCHEMA) {
		*cause = xasprintf("state file '%s' has schema %d, newer than "
		    "this mlsh (%d)", s->path, v->valueint, STATE_SCHEMA);
		cJSON_Delete(root);
		return NULL;
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root,
	    "resources")))
		cJSON_AddItemToObject(root, "resources", cJSON_CreateObject());
	return root;
}

static int
state_open_mode(const char *dir, const char *ws, const struct state_wait *w,
    int snapshot, struct state **out, char **cause)
{
	struct state *s;

	if ((*cause = state_name_error(ws)) != NULL)
		return -1;
	if (mkdir_p(dir, 0700, cause) != 0)
		return -1;
	s = xcalloc(1, sizeof *s);
	s->workspace = xstrdup(ws);
	s->dir = xstrdup(dir);
	s->path = xasprintf("%s/%s.json", dir, ws);
	s->lock_fd = -1;
	s->snapshot = snapshot;
	if (w != NULL)
		s->wait = *w;
	if (!snapshot && lock_take(dir, ws, w, &s->lock_fd, cause) != 0)
		goto fail;
	if ((s->root = state_read_root(s, &s->existed, cause)) == NULL)
		goto fail;
	*out = s;
	return 0;
fail:
	state_close(s);
	return -1;
}

int
state_open(const char *dir, const char *ws, int wait_s, volatile int *cancel,
    struct state **out, char **cause)
{
	struct state_wait w = { .wait_s = wait_s, .cancel = cancel };

	return state_open_mode(dir, ws, &w, 0, out, cause);
}

int
state_open_wait(const char *dir, const char *ws, const struct state_wait *w,
    struct state **out, char **cause)
{
	return state_open_mode(dir, ws, w, 0, out, cause);
}

int
state_open_snapshot(const char *dir, const char *ws,
    const struct state_wait *w, struct state **out, char **cause)
{
	return state_open_mode(dir, ws, w, 1, out, cause);
}

int
state_refresh(struct state *s, char **cause)
{
	cJSON *root;
	int existed;

	if (!s->snapshot || !file_changed(s))
		return 0;
	if ((root = state_read_root(s, &existed, cause)) == NULL)
		return -1;
	cJSON_Delete(s->root);
	s->root = root;
	s->existed = existed;
	return 0;
}

/* Take the lock of a snapshot. keep: the caller's changes stay (a save),
 * refused when the file changed since it was read; else the file is read
 * again. */
static int
state_lock_mode(struct state *s, int keep, char **cause)
{
	cJSON *root;
	int existed;

	if (!s->snapshot)
		return 0;
	if (lock_take(s->dir, s->workspace, &s->wait, &s->lock_fd, cause) != 0)
		return -1;
	if (keep && file_changed(s)) {
		*cause = xasprintf("workspace '%s' was changed by another mlsh "
		    "while this command read it; run it again", s->workspace);
		goto fail;
	}
	if (!keep) {
		if ((root = state_read_root(s, &existed, cause)) == NULL)
			goto fail;
		cJSON_Delete(s->root);
		s->root = root;
		s->existed = existed;
	}
	s->snapshot = 0;
	return 0;
fail:
	close(s->lock_fd);
	s->lock_fd = -1;
	return -1;
}

int
state_lock(struct state *s, char **cause)
{
	return state_lock_mode(s, 0, cause);
}

int
state_save(struct state *s, char **cause)
{
	char *tmp, *text;
	size_t len, off = 0;
	int fd, dfd;

	/* A snapshot writes only under the lock, and only over what it read. */
	if (s->snapshot && state_lock_mode(s, 1, cause) != 0)
		return -1;
	tmp = xasprintf("%s.tmp.%ld", s->path, (long)getpid());
	text = cJSON_Print(s->root);
	len = strlen(text);

	unlink(tmp);	/* a leftover of a crash with our pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp,
		    strerror(errno));
		goto fail;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = xasprintf("cannot write '%s': %s", tmp,
			    strerror(errno));
			close(fd);
			unlink(tmp);
			goto fail;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
		*cause = xasprintf("cannot write '%s': %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		goto fail;
	}
	close(fd);
	if (rename(tmp, s->path) != 0) {
		*cause = xasprintf("cannot rename '%s': %s", tmp,
		    strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if ((dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	s->existed = 1;
	file_identity(s->path, &s->file_dev, &s->file_ino, &s->file_mtime_ns,
	    &s->file_size);
	free(tmp);
	free(text);
	return 0;
fail:
	free(tmp);
	free(text);
	return -1;
}

void
state_close(struct state *s)
{
	if (s == NULL)
		return;
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	cJSON_Delete(s->root);
	free(s->workspace);
	free(s->path);
	free(s->dir);
	free(s);
}

void
state_list(const char *dir, struct strlist *out)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) {
			char *name = xstrndup(e->d_name, n - 5);
			if (state_name_ok(name))
				strlist_take(out, name);
			else
				free(name);
		}
	}
	closedir(d);
	strlist_sort(out);
}

int
state_remove(const char *dir, const char *ws, char **cause)
{
	char *p;
	int fd;

	if (lock_take(dir, ws, NULL, &fd, cause) != 0)
		return -1;
	p = xasprintf("%s/%s.json", dir, ws);
	if (unlink(p) != 0 && errno != ENOENT) {
		*cause = xasprintf("cannot remove '%s': %s", p, strerror(errno));
		free(p);
		close(fd);
		return -1;
	}
	free(p);
	p = lock_path(dir, ws);
	unlink(p);
	free(p);
	close(fd);
	return 0;
}

int
state_resource_count(const cJSON *root)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "resources");
	return cJSON_IsObject(r) ? cJSON_GetArraySize(r) : 0;
}
