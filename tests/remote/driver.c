/* driver.c: a command-line front to remote/ for tests/remote/remote.t and
 * bench/ssh.sh.  Not a user tool: it prints what the tests compare.
 *
 *   driver [-J host:port] [-u user] [-i key] [-k known_hosts] [-A] [-T ms] CMD ...
 *     exec NODE COMMAND            stdout/stderr streamed; exit code = status
 *     repeat N NODE COMMAND        N execs in one session; prints "ms_per_exec X"
 *     twice NODE COMMAND READY GO  exec, touch READY, wait for GO, exec again
 *     pty NODE COLS ROWS COMMAND   exec under a pty
 *     cancel NODE MS COMMAND [THEN]  exec, cancel after MS ms; then run THEN
 *     shell NODE                   interactive shell on this terminal
 *     fp NODE                      host key fingerprint
 *     forget NAME                  drop NAME's pins from the -k file
 *     put NODE LOCAL REMOTE [resume] [verify]
 *     get NODE REMOTE LOCAL [resume] [verify]
 *     puttree NODE LOCAL REMOTE / gettree NODE REMOTE LOCAL / walk NODE ROOT
 *     forward HOST PORT            listen; print "port N"; serve until stdin
 *                                  EOF, stop, print the final counts
 * Node "-" means the jump host.  Environment: DRIVER_EXPECT="HOST PORT FP"
 * (published fingerprint), DRIVER_ALIAS="HOST PORT ALIAS[;...]" (the name
 * a host's key is pinned under), DRIVER_NODE_USER="HOST:PORT USER" (that
 * node's login user), DRIVER_FORWARD_VIA=HOST:PORT (forward through that
 * node), DRIVER_PASSPHRASE, DRIVER_STDIN, DRIVER_PTY, DRIVER_CANCEL_MS (puttree
 * and gettree cancel that long after they start). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote/remote.h"
#include "lib/util.h"

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "driver: %s: %s\n", what, cause ? cause : "(no cause)");
	free(cause);
	exit(255);
}

static void
new_hostkey(void *arg, const char *label, const char *fp)
{
	(void)arg;
	fprintf(stderr, "new host key: %s %s\n", label, fp);
}

static char *
passphrase(void *arg, const char *path)
{
	const char *p = getenv("DRIVER_PASSPHRASE");
	(void)arg;
	(void)path;
	return p != NULL ? xstrdup(p) : NULL;
}

static int
to_fd(void *arg, const char *p, size_t n)
{
	int fd = *(int *)arg == 1 ? 1 : 2;
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int out_fd = 1, err_fd = 2;

static int
on_out(void *arg, const char *p, size_t n)
{
	(void)arg;
	return to_fd(&out_fd, p, n);
}

static int
on_err(void *arg, const char *p, size_t n)
{
	(void)arg;
	return to_fd(&err_fd, p, n);
}

static double cancel_after;

static int
cancel_hook(void *arg)
{
	(void)arg;
	return cancel_after > 0 && now_ms() > cancel_after;
}

static void
progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	(void)done;
	(void)total;
}

static void
skipped_print(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "skipped: %s\n", msg);
}

static int
walk_print(void *arg, const char *rel, const struct rmt_stat *st, char **cause)
{
	(void)arg;
	(void)cause;
	printf("%s %s %llu\n", S_ISDIR(st->mode) ? "d" : "f", *rel ? rel : ".",
	    S_ISDIR(st->mode) ? 0ULL : (unsigned long long)st->size);
	return 0;
}

static volatile sig_atomic_t winch;

static void
on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static const char *
nodearg(const char *n)
{
	return strcmp(n, "-") == 0 ? NULL : n;
}

static int
do_exec(struct rmt_session *s, const char *node, const char *cmd, int pty, int cols,
    int rows)
{
	struct rmt_exec e = RMT_EXEC_INIT;
	struct rmt_status st;
	char *cause;

	e.command = cmd;
	e.on_stdout = on_out;
	e.on_stderr = on_err;
	e.pty = pty;
	e.cols = cols;
	e.rows = rows;
	e.cancel = cancel_hook;
	if (getenv("DRIVER_STDIN") != NULL)
		e.in_fd = 0;
	if (getenv("DRIVER_TIMEOUT_MS") != NULL)
		e.timeout_ms = atoi(getenv("DRIVER_TIMEOUT_MS"));
	if (rmt_exec(s, node, &e, &st, &cause) == -1)
		die("exec", cause);
	if (st.signal[0] != '\0')
		fprintf(stderr, "driver: signal %s\n", st.signal);
	if (st.cancelled)
		fprintf(stderr, "driver: cancelled\n");
	if (st.timed_out)
		fprintf(stderr, "driver: timed out\n");
	return st.exit_code;
}

int
main(int argc, char **argv)
{
	struct rmt_config cfg = { 0 };
	struct rmt_session *s;
	char *cause = NULL, *hp = NULL;
	int opt, rc = 0;

	signal(SIGPIPE, SIG_IGN);
	cfg.user = "root";
	cfg.no_agent = 1;
	cfg.new_hostkey = new_hostkey;
	cfg.passphrase = passphrase;
	while ((opt = getopt(argc, argv, "+J:u:i:k:AT:S")) != -1) {
		switch (opt) {
		case 'J':
			free(hp);
			hp = xstrdup(optarg);
			if (strrchr(hp, ':') != NULL) {
				cfg.jump_port = atoi(strrchr(hp, ':') + 1);
				*strrchr(hp, ':') = '\0';
			}
			cfg.jump_host = hp;
			break;
		case 'u': cfg.user = optarg; break;
		case 'i': cfg.key_file = optarg; break;
		case 'k': cfg.known_hosts = optarg; break;
		case 'A': cfg.no_agent = 0; break;
		case 'T': cfg.connect_timeout_ms = atoi(optarg); break;
		case 'S': cfg.hostkey_policy = RMT_HOSTKEY_STRICT; break;
		default: return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return 2;
	s = rmt_session_new(&cfg);
	if (getenv("DRIVER_ALIAS") != NULL) {	/* "HOST PORT ALIAS[;...]" */
		char *list = xstrdup(getenv("DRIVER_ALIAS")), *save = NULL;
		for (char *one = strtok_r(list, ";", &save); one != NULL;
		    one = strtok_r(NULL, ";", &save)) {
			char host[256], alias[256];
			int port;
			if (sscanf(one, "%255s %d %255s", host, &port, alias) == 3)
				rmt_hostkey_alias(s, host, port, alias);
		}
		free(list);
	}
	if (getenv("DRIVER_NODE_USER") != NULL) {	/* "HOST:PORT USER" */
		char node[256], user[64];
		if (sscanf(getenv("DRIVER_NODE_USER"), "%255s %63s", node, user) == 2)
			rmt_node_user(s, node, user);
	}
	if (getenv("DRIVER_EXPECT") != NULL) {	/* "HOST PORT FP" */
		char host[256], fp[256];
		int port;
		const char *fps[1] = { fp };
		if (sscanf(getenv("DRIVER_EXPECT"), "%255s %d %255s", host, &port, fp) == 3)
			rmt_expect_hostkeys(s, host, port, fps, 1);
	}
	if (strcmp(argv[0], "exec") == 0 && argc == 3) {
		rc = do_exec(s, nodearg(argv[1]), argv[2], 0, 0, 0);
	} else if (strcmp(argv[0], "pty") == 0 && argc == 5) {
		rc = do_exec(s, nodearg(argv[1]), argv[4], 1, atoi(argv[2]), atoi(argv[3]));
	} else if (strcmp(argv[0], "cancel") == 0 && (argc == 4 || argc == 5)) {
		cancel_after = now_ms() + atoi(argv[2]);
		rc = do_exec(s, nodearg(argv[1]), argv[3], getenv("DRIVER_PTY") != NULL, 0, 0);
		if (argc == 5) {	/* then, in the same session */
			cancel_after = 0;
			rc = do_exec(s, nodearg(argv[1]), argv[4], 0, 0, 0);
		}
	} else if (strcmp(argv[0], "repeat") == 0 && argc == 4) {
		int n = atoi(argv[1]);
		double t0;
		char *out;
		/* first call opens the connections; time the rest */
		if (rmt_run(s, nodearg(argv[2]), argv[3], &out, NULL, &cause) == -1)
			die("exec", cause);
		free(out);
		t0 = now_ms();
		for (int i = 0; i < n; i++) {
			if (rmt_run(s, nodearg(argv[2]), argv[3], &out, NULL, &cause) != 0)
				die("exec", cause);
			free(out);
		}
		printf("ms_per_exec %.2f\n", (now_ms() - t0) / n);
	} else if (strcmp(argv[0], "twice") == 0 && argc == 5) {
		int fd;
		rc = do_exec(s, nodearg(argv[1]), argv[2], 0, 0, 0);
		if ((fd = open(argv[3], O_CREAT | O_WRONLY, 0600)) >= 0)
			close(fd);
		for (int i = 0; i < 300 && access(argv[4], F_OK) != 0; i++)
			usleep(100000);
		rc |= do_exec(s, nodearg(argv[1]), argv[2], 0, 0, 0);
		fprintf(stderr, "connects %u\n", rmt_session_connects(s));
	} else if (strcmp(argv[0], "shell") == 0 && argc == 2) {
		struct rmt_shell sh = { .in_fd = 0, .out_fd = 1, .resized = &winch };
		struct rmt_status st;
		char saved[RMT_TERMIOS_SIZE];
		int raw = isatty(0) && rmt_tty_raw(0, saved, &cause) == 0;
		signal(SIGWINCH, on_winch);
		rc = rmt_shell(s, nodearg(argv[1]), &sh, &st, &cause);
		if (raw)
			rmt_tty_restore(0, saved);
		if (rc == -1)
			die("shell", cause);
		rc = st.exit_code;
	} else if (strcmp(argv[0], "forget") == 0 && argc == 2) {
		int n = rmt_known_hosts_forget(cfg.known_hosts, argv[1], &cause);
		if (n == -1)
			die("forget", cause);
		printf("forgot %d\n", n);
	} else if (strcmp(argv[0], "methods") == 0 && argc == 2) {
		char *m = rmt_methods(s, nodearg(argv[1]), &cause);
		if (m == NULL)
			die("methods", cause);
		printf("%s\n", m);
		free(m);
	} else if (strcmp(argv[0], "fp") == 0 && argc == 2) {
		char *fp = rmt_hostkey_fingerprint(s, nodearg(argv[1]), &cause);
		if (fp == NULL)
			die("fp", cause);
		printf("%s\n", fp);
		free(fp);
	} else if ((strcmp(argv[0], "put") == 0 || strcmp(argv[0], "get") == 0) && argc >= 4) {
		struct rmt_xfer x = { .progress = progress };
		double t0 = now_ms();
		for (int i = 4; i < argc; i++) {
			if (strcmp(argv[i], "resume") == 0)
				x.resume = 1;
			if (strcmp(argv[i], "verify") == 0)
				x.verify = 1;
		}
		if (argv[0][0] == 'p')
			rc = rmt_put(s, nodearg(argv[1]), argv[2], argv[3], &x, &cause);
		else
			rc = rmt_get(s, nodearg(argv[1]), argv[2], argv[3], &x, &cause);
		if (rc == -1)
			die(argv[0], cause);
		printf("resumed_from %llu transferred %llu ms %.0f\n",
		    (unsigned long long)x.resumed_from, (unsigned long long)x.transferred,
		    now_ms() - t0);
	} else if (strcmp(argv[0], "puttree") == 0 && (argc == 4 || argc == 5)) {
		struct rmt_xfer x = { .tar = argc == 5 && strcmp(argv[4], "tar") == 0,
		    .skipped = skipped_print };
		if (getenv("DRIVER_CANCEL_MS") != NULL) {
			cancel_after = now_ms() + atoi(getenv("DRIVER_CANCEL_MS"));
			x.cancel = cancel_hook;
		}
		if (rmt_put_tree(s, nodearg(argv[1]), argv[2], argv[3], &x, &cause) == -1)
			die("puttree", cause);
	} else if (strcmp(argv[0], "gettree") == 0 && (argc == 4 || argc == 5)) {
		struct rmt_xfer x = { .tar = argc == 5 && strcmp(argv[4], "tar") == 0,
		    .skipped = skipped_print };
		if (getenv("DRIVER_CANCEL_MS") != NULL) {
			cancel_after = now_ms() + atoi(getenv("DRIVER_CANCEL_MS"));
			x.cancel = cancel_hook;
		}
		if (rmt_get_tree(s, nodearg(argv[1]), argv[2], argv[3], &x, &cause) == -1)
			die("gettree", cause);
	} else if (strcmp(argv[0], "walk") == 0 && argc == 3) {
		if (rmt_walk(s, nodearg(argv[1]), argv[2], walk_print, NULL, &cause) == -1)
			die("walk", cause);
	} else if (strcmp(argv[0], "forward") == 0 && argc == 3) {
		struct rmt_forward *f;
		struct rmt_forward_stats fs;
		char line[256];
		struct rmt_forward_via via = { getenv("DRIVER_FORWARD_VIA"), NULL,
		    NULL };
		if (rmt_forward_start(&cfg, 0, via.node != NULL ? &via : NULL,
		    argv[1], atoi(argv[2]), &f, &cause) == -1)
			die("forward", cause);
		printf("port %d\n", rmt_forward_port(f));
		fflush(stdout);
		while (fgets(line, sizeof line, stdin) != NULL)
			;
		rmt_forward_halt(f);	/* the final counts, after the stop */
		rmt_forward_stats(f, &fs);
		printf("accepted %u failed %u active %u closed %u error %s\n",
		    fs.accepted, fs.failed, fs.active, fs.closed,
		    fs.last_error ? fs.last_error : "-");
		free(fs.last_error);
		rmt_forward_stop(f);
	} else {
		fprintf(stderr, "driver: bad command\n");
		rc = 2;
	}
	rmt_session_free(s);
	free(hp);
	return rc;
}
