/* proc.c: how the lab runs programs (fork/exec, never a shell string), finds
 * and stops processes by namespace identity, and keeps its state files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"LANG=C.UTF-8",
	"HOME=/root",
	NULL,
};

static void child_fail(int fd, int err);
static int read_full(int fd, void *p, size_t n);
static void close_from(int lowfd);

int
lab_proc_run(const struct lab_proc *p, pid_t *pidp, int *statusp, char **cause)
{
	int errpipe[2], nullfd = -1, outfd;
	pid_t pid, got;
	int status, err;
	char *const *envp = p->envp != NULL ? p->envp : default_env;
	const char *cwd = p->cwd != NULL ? p->cwd : "/";

	if (pipe2(errpipe, O_CLOEXEC) == -1) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	if (p->out_fd < 0) {
		nullfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (nullfd == -1) {
			*cause = xasprintf("/dev/null: %s", strerror(errno));
			close(errpipe[0]);
			close(errpipe[1]);
			return -1;
		}
	}
	outfd = p->out_fd >= 0 ? p->out_fd : nullfd;

	/* Only async-signal-safe calls from here to exec: the caller may have
	 * threads. Everything the child needs was prepared above. */
	pid = fork();
	if (pid == -1) {
		err = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		if (nullfd != -1)
			close(nullfd);
		*cause = xasprintf("fork: %s", strerror(err));
		return -1;
	}
	if (pid == 0) {
		int devnull, wfd = errpipe[1], rcfd = p->daemon ? p->rc_fd : -1;
		pid_t gpid;

		sigset_t none;

		/* A clean slate: the shell may block or ignore signals. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (p->daemon) {
			if (setsid() == -1)
				child_fail(wfd, errno);
			gpid = fork();
			if (gpid == -1)
				child_fail(wfd, errno);
			if (gpid > 0) {
				/* The middle child reports the daemon's PID. */
				int zero = 0;
				(void)!write(wfd, &gpid, sizeof gpid);
				(void)!write(wfd, &zero, sizeof zero);
				_exit(0);
			}
		}
		if (p->netns_fd >= 0 && setns(p->netns_fd, CLONE_NEWNET) == -1)
			child_fail(wfd, errno);
		if (p->utsns_fd >= 0 && setns(p->utsns_fd, CLONE_NEWUTS) == -1)
			child_fail(wfd, errno);
		if (p->mntns_fd >= 0 && setns(p->mntns_fd, CLONE_NEWNS) == -1)
			child_fail(wfd, errno);
		if (chdir(cwd) == -1 && chdir("/") == -1)
			child_fail(wfd, errno);
		devnull = open("/dev/null", O_RDONLY);
		if (devnull == -1)
			child_fail(wfd, errno);
		/* Out of the way of the renumbering below. */
		if (rcfd >= 0 && (rcfd = fcntl(rcfd, F_DUPFD, 10)) == -1)
			child_fail(wfd, errno);
		if (dup2(devnull, 0) == -1 || dup2(outfd, 1) == -1 ||
		    dup2(outfd, 2) == -1 || dup2(wfd, 3) == -1)
			child_fail(wfd, errno);
		wfd = 3;
		fcntl(wfd, F_SETFD, FD_CLOEXEC);
		if (rcfd >= 0) {
			if (dup2(rcfd, 4) == -1)
				child_fail(wfd, errno);
			rcfd = 4;
			fcntl(rcfd, F_SETFD, FD_CLOEXEC);
			close_from(5);
		} else
			close_from(4);
		umask(022);
		if (p->daemon && rcfd >= 0) {
			/* The runner: wait for the program, keep its status. */
			pid_t w = fork();
			int st;
			char num[16];
			size_t i = sizeof num;
			unsigned int v;

			if (w == -1)
				child_fail(wfd, errno);
			if (w == 0) {
				execve(p->argv[0], p->argv, envp);
				_exit(127);
			}
			close(wfd);
			while (waitpid(w, &st, 0) == -1 && errno == EINTR)
				;
			v = WIFEXITED(st) ? (unsigned)WEXITSTATUS(st) :
			    128 + (unsigned)WTERMSIG(st);
			num[--i] = '\n';
			do {
				num[--i] = (char)('0' + v % 10);
				v /= 10;
			} while (v != 0);
			(void)!write(rcfd, num + i, sizeof num - i);
			_exit(0);
		}
		execve(p->argv[0], p->argv, envp);
		child_fail(wfd, errno);
	}

	close(errpipe[1]);
	if (nullfd != -1)
		close(nullfd);
	if (p->daemon) {
		pid_t gpid = -1;
		int zero = -1;

		while ((got = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
			;
		if (read_full(errpipe[0], &gpid, sizeof gpid) != 0 ||
		    read_full(errpipe[0], &zero, sizeof zero) != 0 || zero != 0) {
			close(errpipe[0]);
			*cause = xasprintf("%s: cannot start: %s", p->argv[0],
			    zero > 0 ? strerror(zero) : "daemon setup failed");
			return -1;
		}
		/* The daemon writes an errno here if exec fails; EOF when it ran. */
		if (read_full(errpipe[0], &err, sizeof err) == 0) {
			close(errpipe[0]);
			*cause = xasprintf("%s: %s", p->argv[0], strerror(err));
			return -1;
		}
		close(errpipe[0]);
		if (pidp != NULL)
			*pidp = gpid;
		return 0;
	}
	if (read_full(errpipe[0], &err, sizeof err) == 0) {
		close(errpipe[0]);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		*cause = xasprintf("%s: %s", p->argv[0], strerror(err));
		return -1;
	}
	close(errpipe[0]);
	while ((got = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	if (got == -1) {
		*cause = xasprintf("waitpid: %s", strerror(errno));
		return -1;
	}
	if (pidp != NULL)
		*pidp = pid;
	if (statusp != NULL)
		*statusp = status;
	return 0;
}

static void
child_fail(int fd, int err)
{
	(void)!write(fd, &err, sizeof err);
	_exit(127);
}

static int
read_full(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lowfd, ~0U, 0) == 0)
		return;
#endif
	for (int fd = lowfd; fd < 1024; fd++)
		close(fd);
}

char *
lab_which(const char *name)
{
	static const char *dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin",
	    "/usr/local/sbin", "/usr/local/bin", NULL };
	char *path;

	if (name[0] == '/')
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	for (int i = 0; dirs[i] != NULL; i++) {
		path = xasprintf("%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

int
lab_cmdv(char *const argv[], struct buf *out, char **cause)
{
	char tmpl[] = "/tmp/mlshlab-cmd.XXXXXX";
	struct lab_proc p = { .netns_fd = -1, .utsns_fd = -1, .mntns_fd = -1 };
	struct strlist av;
	char *path, *text;
	int fd, status, rc;
	size_t i;

	path = lab_which(argv[0]);
	if (path == NULL) {
		*cause = xasprintf("%s: not installed", argv[0]);
		return -1;
	}
	fd = mkstemp(tmpl);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", tmpl, strerror(errno));
		free(path);
		return -1;
	}
	unlink(tmpl);
	strlist_init(&av);
	strlist_take(&av, path);
	for (i = 1; argv[i] != NULL; i++)
		strlist_add(&av, argv[i]);
	strlist_take(&av, NULL);
	av.n--;
	p.argv = av.v;
	p.out_fd = fd;
	rc = lab_proc_run(&p, NULL, &status, cause);
	if (rc == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
		struct buf b;
		char chunk[4096];
		ssize_t r;

		buf_init(&b);
		lseek(fd, 0, SEEK_SET);
		while ((r = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(&b, chunk, (size_t)r);
		while (b.len > 0 && (b.data[b.len - 1] == '\n' ||
		    b.data[b.len - 1] == ' '))
			b.data[--b.len] = '\0';
		text = buf_detach(&b);
		buf_release(&b);
		{
			struct buf cmd;

			buf_init(&cmd);
			for (i = 0; i < av.n; i++)
				buf_printf(&cmd, "%s%s", i > 0 ? " " : "",
				    i == 0 ? argv[0] : av.v[i]);
			*cause = xasprintf("%s: %s", cmd.data,
			    *text != '\0' ? text : "failed");
			buf_release(&cmd);
		}
		free(text);
		rc = -1;
	} else if (rc == 0 && out != NULL) {
		char chunk[4096];
		ssize_t r;

		lseek(fd, 0, SEEK_SET);
		while ((r = read(fd, chunk, sizeof chunk)) > 0)
			buf_add(out, chunk, (size_t)r);
	}
	close(fd);
	av.n++;
	strlist_release(&av);
	return rc;
}

int
lab_cmd(char **cause, const char *arg0, ...)
{
	struct strlist av;
	va_list ap;
	const char *a;
	int rc;

	strlist_init(&av);
	strlist_add(&av, arg0);
	va_start(ap, arg0);
	while ((a = va_arg(ap, const char *)) != NULL)
		strlist_add(&av, a);
	va_end(ap);
	strlist_take(&av, NULL);
	rc = lab_cmdv(av.v, NULL, cause);
	strlist_release(&av);
	return rc;
}

int
lab_netns_exists(const char *name)
{
	char *path = xasprintf("/run/netns/%s", name);
	struct stat st;
	int ok = stat(path, &st) == 0;

	free(path);
	return ok;
}

int
lab_netns_open(const char *name, char **cause)
{
	char *path = xasprintf("/run/netns/%s", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		*cause = xasprintf("network namespace %s: %s", name,
		    strerror(errno));
	free(path);
	return fd;
}

int
lab_netns_sysctl(const char *nsname, const char *path, const char *value,
    char **cause)
{
	char *file = xasprintf("/proc/sys/%s", path);
	int self, target, fd, rc = -1;

	/* /proc/sys/net is looked up in the opener's network namespace, so
	 * step into the namespace for the open and straight back out. */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self == -1) {
		*cause = xasprintf("/proc/thread-self/ns/net: %s",
		    strerror(errno));
		free(file);
		return -1;
	}
	target = lab_netns_open(nsname, cause);
	if (target == -1) {
		close(self);
		free(file);
		return -1;
	}
	if (setns(target, CLONE_NEWNET) == -1) {
		*cause = xasprintf("setns %s: %s", nsname, strerror(errno));
		goto out;
	}
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (setns(self, CLONE_NEWNET) == -1)
		abort();	/* cannot go home: never keep running elsewhere */
	if (fd == -1) {
		*cause = xasprintf("%s in %s: %s", file, nsname, strerror(errno));
		goto out;
	}
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		*cause = xasprintf("%s in %s: %s", file, nsname, strerror(errno));
	else
		rc = 0;
	close(fd);
out:
	close(target);
	close(self);
	free(file);
	return rc;
}

static int
ns_ino(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return -1;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

int
lab_netns_pids(const char *nsname, pid_t **pids, size_t *n)
{
	char *nspath = xasprintf("/run/netns/%s", nsname);
	dev_t dev, d;
	ino_t ino, i;
	DIR *dir;
	struct dirent *de;
	size_t cap = 0;
	pid_t self = getpid();

	*pids = NULL;
	*n = 0;
	if (ns_ino(nspath, &dev, &ino) == -1) {
		free(nspath);
		return -1;
	}
	free(nspath);
	dir = opendir("/proc");
	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		char *end, path[64];
		long v = strtol(de->d_name, &end, 10);

		if (*end != '\0' || v <= 0 || (pid_t)v == self)
			continue;
		snprintf(path, sizeof path, "/proc/%ld/ns/net", v);
		if (ns_ino(path, &d, &i) == -1 || d != dev || i != ino)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*pids = xreallocarray(*pids, cap, sizeof **pids);
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	closedir(dir);
	return 0;
}

int
lab_pid_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	int fd;
	ssize_t r;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return 0;
	r = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int
lab_pid_in_netns(pid_t pid, const char *nsname)
{
	char path[64], *nspath;
	dev_t d1, d2;
	ino_t i1, i2;
	int rc;

	if (!lab_pid_alive(pid))
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/ns/net", (long)pid);
	nspath = xasprintf("/run/netns/%s", nsname);
	rc = ns_ino(path, &d1, &i1) == 0 && ns_ino(nspath, &d2, &i2) == 0 &&
	    d1 == d2 && i1 == i2;
	free(nspath);
	return rc;
}

void
lab_kill_pids(const pid_t *pids, size_t n, int grace_ms)
{
	size_t i;
	int left;
	double end;

	for (i = 0; i < n; i++)
		if (pids[i] > 1)
			kill(pids[i], SIGTERM);
	end = now_ms() + grace_ms;
	do {
		left = 0;
		for (i = 0; i < n; i++)
			if (pids[i] > 1 && lab_pid_alive(pids[i]))
				left++;
		if (left == 0)
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	} while (now_ms() < end);
	for (i = 0; i < n; i++)
		if (pids[i] > 1 && lab_pid_alive(pids[i]))
			kill(pids[i], SIGKILL);
	for (int tries = 0; tries < 100; tries++) {
		left = 0;
		for (i = 0; i < n; i++)
			if (pids[i] > 1 && lab_pid_alive(pids[i]))
				left++;
		if (left == 0)
			return;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

char *
lab_path(const char *state, const char *fmt, ...)
{
	va_list ap;
	char *rel, *path;

	va_start(ap, fmt);
	rel = xvasprintf(fmt, ap);
	va_end(ap);
	path = xasprintf("%s/%s", state, rel);
	free(rel);
	return path;
}

int
lab_write_file(const char *path, const char *data, size_t len, int mode,
    char **cause)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd;
	ssize_t w;
	size_t off = 0;

	/* Write-then-rename: readers (and bind mounts of the directory) see
	 * the old or the new file, never half of one. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	fchmod(fd, mode);
	while (off < len) {
		w = write(fd, data + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			*cause = xasprintf("%s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			free(tmp);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

char *
lab_read_line(const char *path)
{
	char *cause = NULL, *data, *nl;

	data = file_read(path, NULL, &cause);
	if (data == NULL) {
		free(cause);
		return NULL;
	}
	nl = strchr(data, '\n');
	if (nl != NULL)
		*nl = '\0';
	return data;
}

int
lab_rm_rf(const char *path)
{
	struct stat st;
	DIR *dir;
	struct dirent *de;
	int rc = 0;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	dir = opendir(path);
	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		char *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = xasprintf("%s/%s", path, de->d_name);
		if (lab_rm_rf(sub) == -1)
			rc = -1;
		free(sub);
	}
	closedir(dir);
	if (rmdir(path) == -1)
		rc = -1;
	return rc;
}

char *
lab_name(const char *state)
{
	char *path = lab_path(state, "name");
	char *name = lab_read_line(path);

	free(path);
	return name != NULL ? name : xstrdup(LAB_DEFAULT_NAME);
}

int
lab_lock(const char *state, char **cause)
{
	char *path;
	int fd;

	if (mkdir_p(state, 0700, cause) == -1)
		return -1;
	path = lab_path(state, "lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			*cause = xasprintf("lock: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

void
lab_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int
lab_next_index(const char *state, const char *counter)
{
	char *path = lab_path(state, "%s", counter), *line, *cause = NULL, num[32];
	int n;

	line = lab_read_line(path);
	n = line != NULL ? atoi(line) + 1 : 1;
	free(line);
	snprintf(num, sizeof num, "%d\n", n);
	if (lab_write_file(path, num, strlen(num), 0600, &cause) == -1)
		free(cause);
	free(path);
	return n;
}

int
lab_cidr_parse(const char *cidr, unsigned int *addr, int *len)
{
	unsigned int a, b, c, d;
	int l = 32, used = 0;
	char tail;

	if (sscanf(cidr, "%u.%u.%u.%u%n", &a, &b, &c, &d, &used) != 4)
		return -1;
	if (cidr[used] == '/') {
		if (sscanf(cidr + used, "/%d%c", &l, &tail) != 1)
			return -1;
	} else if (cidr[used] != '\0')
		return -1;
	if (a > 255 || b > 255 || c > 255 || d > 255 || l < 0 || l > 32)
		return -1;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*len = l;
	return 0;
}

char *
lab_ip_str(unsigned int addr)
{
	return xasprintf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
	    (addr >> 8) & 255, addr & 255);
}
