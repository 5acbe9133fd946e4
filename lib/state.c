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
lock_take(const char *dir, const char *ws, int wait_s, volatile int *cancel,
    int *fdp, char **cause)
{
	char *p = lock_path(dir, ws);
	int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	double deadline = now_ms() + wait_s * 1000.0;
	char pid[32];

	if (fd < 0) {
		*cause = xasprintf("cannot open '%s': %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK) {
			*cause = xasprintf("cannot lock workspace '%s': %s", ws,
			    strerror(errno));
			close(fd);
			return -1;
		}
		if (wait_s <= 0 || now_ms() >= deadline ||
		    (cancel != NULL && *cancel)) {
			long h = lock_holder(fd);
			if (h > 0)
				*cause = xasprintf("workspace '%s' is in use by "
				    "pid %ld%s", ws, h, wait_s > 0 ?
				    " (gave up waiting)" : "");
			else
				*cause = xasprintf("workspace '%s' is in use",
				    ws);
			close(fd);
			return -1;
		}
		usleep(100 * 1000);
	}
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

int
state_open(const char *dir, const char *ws, int wait_s, volatile int *cancel,
    struct state **out, char **cause)
{
	struct state *s;
	char *text;
	size_t len;
	struct stat st;

	if ((*cause = state_name_error(ws)) != NULL)
		return -1;
	if (mkdir_p(dir, 0700, cause) != 0)
		return -1;
	s = xcalloc(1, sizeof *s);
	s->workspace = xstrdup(ws);
	s->dir = xstrdup(dir);
	s->path = xasprintf("%s/%s.json", dir, ws);
	s->lock_fd = -1;
	if (lock_take(dir, ws, wait_s, cancel, &s->lock_fd, cause) != 0)
		goto fail;

	if (lstat(s->path, &st) != 0) {
		if (errno != ENOENT) {
			*cause = xasprintf("cannot read '%s': %s", s->path,
			    strerror(errno));
			goto fail;
		}
		s->root = state_new_root(ws);
		*out = s;
		return 0;
	}
	s->existed = 1;
	if ((text = state_read_file(s->path, &len, cause)) == NULL)
		goto fail;
	s->root = cJSON_ParseWithLength(text, len);
	free(text);
	if (s->root == NULL || !cJSON_IsObject(s->root)) {
		*cause = xasprintf("state file '%s' is corrupt (not a JSON "
		    "object); fix or move it away, mlsh will not overwrite it",
		    s->path);
		goto fail;
	}
	{
		cJSON *v = cJSON_GetObjectItemCaseSensitive(s->root, "schema");
		if (!cJSON_IsNumber(v)) {
			*cause = xasprintf("state file '%s' has no schema "
			    "version; mlsh will not overwrite it", s->path);
			goto fail;
		}
		if (v->valueint > STATE_SCHEMA) {
			*cause = xasprintf("state file '%s' has schema %d, newer "
			    "than this mlsh (%d)", s->path, v->valueint,
			    STATE_SCHEMA);
			goto fail;
		}
	}
	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(s->root,
	    "resources")))
		cJSON_AddItemToObject(s->root, "resources",
		    cJSON_CreateObject());
	*out = s;
	return 0;
fail:
	state_close(s);
	return -1;
}

int
state_save(struct state *s, char **cause)
{
	char *tmp = xasprintf("%s.tmp.%ld", s->path, (long)getpid());
	char *text = cJSON_Print(s->root);
	size_t len = strlen(text), off = 0;
	int fd, dfd;

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

	if (lock_take(dir, ws, 0, NULL, &fd, cause) != 0)
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
