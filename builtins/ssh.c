/* ssh, cp, ssh-config: reach the stack's hosts through the jump host with
 * mlsh's own SSH (remote/), one kept connection per session. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "builtins/target.h"
#include "lib/state.h"
#include "shell/complete.h"

static void
ssh_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	(void)a;
	(void)opt;
	if (argi == 0)
		target_complete(ctx, prefix, out);
}

static int
to_stdout(void *arg, const char *data, size_t len)
{
	(void)arg;
	return fwrite(data, 1, len, stdout) == len ? (fflush(stdout), 0) : -1;
}

static int
to_stderr(void *arg, const char *data, size_t len)
{
	(void)arg;
	return fwrite(data, 1, len, stderr) == len ? 0 : -1;
}

static volatile sig_atomic_t winch;

static void
on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static int
ssh_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	struct rmt_session *s;
	struct rmt_status st;
	char *node = NULL, *cause = NULL;
	int rc;

	(void)result;
	if (target_resolve(ctx, a->argv[0], &node) != 0)
		return 1;
	if ((s = target_session(ctx)) == NULL ||
	    target_connect(ctx, s, node, a->argv[0], 30) != 0) {
		free(node);
		return 1;
	}
	memset(&st, 0, sizeof st);
	if (a->argc == 1) {
		/* An interactive shell on a PTY. */
		unsigned char saved[RMT_TERMIOS_SIZE];
		struct rmt_shell sh;
		struct sigaction sa, old;

		if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
			free(node);
			return cmd_error(ctx, "an interactive shell needs a "
			    "terminal; give a command: ssh %s COMMAND",
			    a->argv[0]);
		}
		memset(&sh, 0, sizeof sh);
		sh.in_fd = STDIN_FILENO;
		sh.out_fd = STDOUT_FILENO;
		sh.resized = &winch;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_winch;
		sigaction(SIGWINCH, &sa, &old);
		if (rmt_tty_raw(STDIN_FILENO, saved, &cause) != 0) {
			sigaction(SIGWINCH, &old, NULL);
			cmd_error(ctx, "%s", cause);
			free(cause);
			free(node);
			return 1;
		}
		rc = rmt_shell(s, node, &sh, &st, &cause);
		rmt_tty_restore(STDIN_FILENO, saved);
		sigaction(SIGWINCH, &old, NULL);
	} else {
		struct rmt_exec e = RMT_EXEC_INIT;
		struct buf cmd;
		buf_init(&cmd);
		for (int i = 1; i < a->argc; i++)
			buf_printf(&cmd, "%s%s", i > 1 ? " " : "", a->argv[i]);
		e.command = cmd.data;
		e.on_stdout = to_stdout;
		e.on_stderr = to_stderr;
		e.cancel = target_cancelled;
		/* Standard input goes along only when asked: a script's own
		 * stdin is often a pipe that never ends. */
		if (cmd_opt_bool(a, "stdin"))
			e.in_fd = STDIN_FILENO;
		rc = rmt_exec(s, node, &e, &st, &cause);
		buf_release(&cmd);
	}
	free(node);
	if (rc != 0) {
		cmd_error(ctx, "%s", cause);
		free(cause);
		return 1;
	}
	if (st.cancelled)
		return cmd_error(ctx, "interrupted");
	/* The remote status is ours, as with ssh(1); nothing to print. */
	return st.exit_code;
}

static const struct mlsh_opt ssh_opts[] = {
	{ "stdin", 'i', OPT_BOOL, NULL, NULL,
	    "send mlsh's standard input to the command" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_ssh_entry = {
	.name = "ssh",
	.opts = ssh_opts,
	.raw_after = 1,
	.summary = "run a command on the jump host or a node, or open a shell",
	.args_usage = "TARGET [COMMAND…]",
	.help = "TARGET is 'jump' or a node (dl1-1 …). Nodes are reached "
	    "through the jump host on the session's one kept connection "
	    "(direct-tcpip, never agent forwarding). Without COMMAND, an "
	    "interactive shell. The exit status is the remote command's. "
	    "Words after TARGET are the remote command's, joined with blanks "
	    "for the remote shell (options go before TARGET); quote ; # $ to "
	    "keep mlsh from reading them.",
	.min_args = 1,
	.max_args = -1,
	.complete = ssh_complete,
	.exec = ssh_exec,
};

/* cp */

/* A progress line left open on the terminal (\r, no newline yet). */
static int progress_open;

static void
progress(void *arg, uint64_t done, uint64_t total)
{
	static double last;
	double now = now_ms();
	const char *name = arg;
	int tty = isatty(STDERR_FILENO);

	if (done != total && now - last < (tty ? 100 : 5000))
		return;
	last = now;
	progress_open = tty && done != total;
	if (total > 0) {
		int pct = (int)(done * 100 / total), w = 24, fill = pct * w / 100;
		fprintf(stderr, "%s%s ", tty ? "\r" : "", name);
		for (int i = 0; i < w; i++)
			fputs(i < fill ? "#" : ".", stderr);
		fprintf(stderr, " %3d%% %.1f/%.1f MB%s", pct, done / 1e6,
		    total / 1e6, tty ? "" : "\n");
	}
	if (done == total && tty)
		fputc('\n', stderr);
	fflush(stderr);
}

/* "dl1-1:/efs/x" -> target "dl1-1", path "/efs/x"; a local path has no
 * target (a ':' after a '/' is part of a local name). */
static int
split_remote(const char *spec, char **target, const char **path)
{
	const char *colon = strchr(spec, ':');
	const char *slash = strchr(spec, '/');

	if (colon == NULL || colon == spec || (slash != NULL && slash < colon))
		return 0;
	*target = xstrndup(spec, (size_t)(colon - spec));
	*path = colon + 1;
	return 1;
}

/* What a recursive copy leaves out (a link, a name the server should not
 * have sent): one line each, already printable. */
static void
cp_skipped(void *arg, const char *msg)
{
	shell_warn(arg, "cp: warning: %s", msg);
}

/* The last component of path, trailing slashes ignored; NULL when there is
 * none to name a copy by ("/", ".", ".."). */
static char *
last_component(const char *path)
{
	size_t n = strlen(path);
	const char *b;

	while (n > 1 && path[n - 1] == '/')
		n--;
	for (b = path + n; b > path && b[-1] != '/'; b--)
		;
	n -= (size_t)(b - path);
	if (n == 0 || (n == 1 && *b == '.') || (n == 2 && b[0] == '.' &&
	    b[1] == '.') || *b == '/')
		return NULL;
	return xstrndup(b, n);
}

/* As scp: a destination that is an existing directory receives the copy
 * under the source's name. Returns the path to write (allocated). */
static char *
into_dir(const char *dst, int is_dir, const char *src)
{
	char *base;

	if (!is_dir || (base = last_component(src)) == NULL)
		return xstrdup(dst);
	char *p = xasprintf("%s%s%s", dst, dst[strlen(dst) - 1] == '/' ? "" :
	    "/", base);
	free(base);
	return p;
}

/* A copy that failed or was interrupted: what was really written (bytes
 * the server acknowledged, or written locally) and what is left. Ctrl-C
 * drops the connection at once (remote/sftp.c); the partial file stays
 * and the same cp resumes it, as for any partial copy. */
static void
cp_failed(struct mlsh_ctx *ctx, const struct rmt_xfer *x, const char *cause,
    const char *dst, int recursive)
{
	if (progress_open)
		fputc('\n', stderr);
	progress_open = 0;
	if (!mlsh_interrupted) {
		cmd_error(ctx, "%s", cause);
		return;
	}
	cmd_error(ctx, "interrupted: %llu bytes (%.1f MB) copied to %s%s; %s",
	    (unsigned long long)x->transferred, x->transferred / 1e6, dst,
	    x->resumed_from > 0 ? " after the earlier partial copy" : "",
	    recursive ? "what was written is kept; the same cp copies the "
	    "tree again (files of 64 MB and more resume)" : "the partial copy "
	    "is kept and the same cp resumes it");
}

static int
cp_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	char *st = NULL, *dt = NULL, *node = NULL, *cause = NULL, *to = NULL;
	const char *sp = a->argv[0], *dp = a->argv[1];
	int srem = split_remote(a->argv[0], &st, &sp);
	int drem = split_remote(a->argv[1], &dt, &dp);
	int recursive = cmd_opt_bool(a, "recursive"), rc, ok;
	struct rmt_session *s = NULL;
	struct rmt_xfer x;
	struct stat lst;
	double t0 = now_ms();

	if (srem == drem) {
		free(st);
		free(dt);
		return cmd_usage_error(ctx, a, "exactly one side must be "
		    "TARGET:PATH");
	}
	/* errors say "dl1-1", not the node's private address (target.c labels
	 * every node it resolves) */
	ok = target_resolve(ctx, srem ? st : dt, &node) == 0 &&
	    (s = target_session(ctx)) != NULL;
	if (!ok || target_connect(ctx, s, node, srem ? st : dt, 30) != 0) {
		free(st);
		free(dt);
		free(node);
		return 1;
	}
	memset(&x, 0, sizeof x);
	x.resume = 1;		/* a large copy picks up where it stopped */
	x.verify = cmd_opt_bool(a, "verify");
	x.progress = progress;
	x.cancel = target_cancelled;
	x.arg = (void *)(srem ? sp : a->argv[0]);
	x.skipped = cp_skipped;
	x.skipped_arg = ctx;
	/* a tree goes as one tar stream when the node has GNU tar; the
	 * environment can insist on SFTP (tests of the SFTP path do) */
	x.tar = !(getenv("MLSH_CP_VIA") && strcmp(getenv("MLSH_CP_VIA"), "sftp") == 0);
	if (!srem && stat(sp, &lst) == 0 && S_ISDIR(lst.st_mode) &&
	    !recursive) {
		cause = xasprintf("'%s' is a directory (use -r)", sp);
		rc = -1;
	} else if (srem) {
		/* A link to a directory is followed only when named as the
		 * directory ("out/"): a link planted where a file is expected
		 * must not redirect the copy. */
		size_t n = strlen(dp);
		int isdir = n > 0 && dp[n - 1] == '/' ?
		    stat(dp, &lst) == 0 && S_ISDIR(lst.st_mode) :
		    lstat(dp, &lst) == 0 && S_ISDIR(lst.st_mode);
		to = into_dir(dp, isdir, sp);
		rc = recursive ? rmt_get_tree(s, node, sp, to, &x, &cause) :
		    rmt_get(s, node, sp, to, &x, &cause);
	} else {
		struct rmt_stat rst;
		int r;
		if (*dp == '\0')
			dp = ".";	/* "node:" is the login directory, as scp */
		r = rmt_stat(s, node, dp, &rst, &cause);
		if (r == -1)
			rc = -1;
		else {
			to = into_dir(dp, r == 0 && S_ISDIR(rst.mode), sp);
			rc = recursive ? rmt_put_tree(s, node, sp, to, &x, &cause) :
			    rmt_put(s, node, sp, to, &x, &cause);
		}
	}
	free(st);
	free(dt);
	free(node);
	if (rc != 0) {
		cp_failed(ctx, &x, cause, a->argv[1], recursive);
		free(cause);
		free(to);
		return 1;
	}
	*result = cJSON_CreateObject();
	cJSON_AddStringToObject(*result, "from", a->argv[0]);
	/* the path written: inside the destination when it is a directory */
	if (srem || to == NULL)
		cJSON_AddStringToObject(*result, "to", to ? to : a->argv[1]);
	else {
		char *t = xasprintf("%.*s%s", (int)(strchr(a->argv[1], ':') -
		    a->argv[1] + 1), a->argv[1], to);
		cJSON_AddStringToObject(*result, "to", t);
		free(t);
	}
	free(to);
	cJSON_AddNumberToObject(*result, "bytes", (double)x.transferred);
	cJSON_AddNumberToObject(*result, "resumed_from",
	    (double)x.resumed_from);
	cJSON_AddNumberToObject(*result, "seconds",
	    (double)(long)((now_ms() - t0) / 10) / 100.0);
	return 0;
}

/* TARGET:PATH completes remote paths; anything else local paths, and the
 * targets themselves (TARGET:) while no '/' says it is a local path. */
static void
cp_complete(struct mlsh_ctx *ctx, const struct cmd_args *a, const char *opt,
    int argi, const char *prefix, struct strlist *out)
{
	struct strlist t;
	const char *path;
	char *target = NULL;

	(void)a;
	(void)opt;
	(void)argi;
	if (split_remote(prefix, &target, &path)) {
		target_complete_path(ctx, target, path, out);
		free(target);
		return;
	}
	complete_files(prefix, out);
	if (strchr(prefix, '/') != NULL)
		return;
	strlist_init(&t);
	target_complete(ctx, prefix, &t);
	for (size_t i = 0; i < t.n; i++)
		strlist_take(out, xasprintf("%s:", t.v[i]));
	strlist_release(&t);
}

static const struct mlsh_opt cp_opts[] = {
	{ "recursive", 'r', OPT_BOOL, NULL, NULL, "copy directories" },
	{ "verify", 0, OPT_BOOL, NULL, NULL,
	    "compare SHA-256 of both sides at the end" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_cp_entry = {
	.name = "cp",
	.summary = "copy files to or from a node (SFTP through the jump host)",
	.args_usage = "SRC DST",
	.help = "One side is TARGET:PATH (dl1-1:/efs/images). As with scp, a "
	    "destination that is an existing directory receives the copy "
	    "under the source's name. Copies resume: a partial file whose "
	    "start matches is continued, not restarted; Ctrl-C stops a copy "
	    "at once and keeps what was written, so the same cp resumes it. "
	    "Tab completes local paths, and TARGET:PATH on the node (listed "
	    "over the kept connection; nothing when the node does not answer "
	    "within 2 s or was never contacted yet). The node is not "
	    "trusted with local files: a name it lists that is not a plain "
	    "file name (../x, a/b, control characters) is refused with a "
	    "warning and the copy fails after the rest; a symbolic link at "
	    "the destination is never written through (a link to a directory "
	    "is followed only when written DIR/); symbolic links are skipped "
	    "with -r, as OpenSSH's sftp does; modes keep only their rwx bits "
	    "(no set-id or sticky), and the umask applies. With -r, a tree "
	    "goes as one tar stream over the connection when the node has GNU "
	    "tar (mlsh writes and reads the archive itself, checking every "
	    "name as above; files of 64 MB and more still go over SFTP and "
	    "resume); without GNU tar, or with --verify, file by file over "
	    "SFTP (MLSH_CP_VIA=sftp forces that).",
	.opts = cp_opts,
	.min_args = 2,
	.max_args = 2,
	.complete = cp_complete,
	.exec = cp_exec,
};

/* ssh-config */

/* The instance names the other workspaces in the state directory have: a
 * short name one of them also uses would make two Host entries match it. */
static void
names_elsewhere(struct mlsh_ctx *ctx, struct strlist *out)
{
	struct strlist ws;

	strlist_init(&ws);
	state_list(ctx->state_dir, &ws);
	for (size_t i = 0; i < ws.n; i++) {
		char *p, *text, *cause = NULL;
		cJSON *root;
		const cJSON *r;

		if (strcmp(ws.v[i], ctx->workspace) == 0)
			continue;
		p = xasprintf("%s/%s.json", ctx->state_dir, ws.v[i]);
		text = state_read_file(p, NULL, &cause);
		free(p);
		free(cause);
		root = text ? cJSON_Parse(text) : NULL;
		free(text);
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(root,
		    "resources")) {
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(r,
			    "type");
			if (cJSON_IsString(t) && strcmp(t->valuestring,
			    "instance") == 0)
				strlist_add(out, r->string);
		}
		cJSON_Delete(root);
	}
	strlist_release(&ws);
}

/* The lines every host's entry ends with: mlsh's key and pins. */
static void
host_tail(struct buf *b, const struct rmt_config *cfg, const char *alias)
{
	if (cfg->key_file)
		buf_printf(b, "  IdentityFile %s\n", cfg->key_file);
	/* mlsh pins host keys under instance ids: the same names here. */
	if (alias != NULL)
		buf_printf(b, "  HostKeyAlias %s\n", alias);
	buf_printf(b, "  UserKnownHostsFile %s\n  StrictHostKeyChecking "
	    "accept-new\n\n", cfg->known_hosts);
}

static int
sshconfig_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const struct rmt_config *cfg = target_config(ctx);
	struct state *s;
	char *cause = NULL, *jumpalias;
	const cJSON *r;
	struct buf b;
	struct strlist others;
	const char *out = cmd_opt(a, "output");

	if (cfg == NULL || (s = shell_state(ctx, &cause)) == NULL) {
		free(cause);
		return 1;
	}
	/* Every host is named by workspace (mlsh-WS-jump, mlsh-WS-dl1-1), so
	 * two workspaces' snippets included side by side never collide; a
	 * node's short name is an alias too when no other workspace here has
	 * a node of that name. */
	strlist_init(&others);
	names_elsewhere(ctx, &others);
	jumpalias = xasprintf("mlsh-%s-jump", ctx->workspace);
	buf_init(&b);
	buf_printf(&b, "# mlsh workspace '%s': written by 'ssh-config'.\n"
	    "# Include it from ~/.ssh/config (Include %s).\n\n",
	    ctx->workspace, out ? out : "FILE");
	buf_printf(&b, "Host %s\n  HostName %s\n  User %s\n", jumpalias,
	    cfg->jump_host, cfg->user);
	host_tail(&b, cfg, cfg->jump_alias);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s->root,
	    "resources")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "type");
		const cJSON *ip = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(r, "attrs"), "private_ip");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "id");
		if (!cJSON_IsString(t) || strcmp(t->valuestring, "instance") ||
		    strcmp(r->string, "jump") == 0 || !cJSON_IsString(ip))
			continue;
		buf_printf(&b, "Host mlsh-%s-%s", ctx->workspace, r->string);
		if (!strlist_has(&others, r->string))
			buf_printf(&b, " %s", r->string);
		buf_printf(&b, "\n  HostName %s\n  User %s\n  ProxyJump %s\n",
		    ip->valuestring, cfg->user, jumpalias);
		host_tail(&b, cfg, cJSON_IsString(id) ? id->valuestring : NULL);
	}
	strlist_release(&others);
	free(jumpalias);
	if (out != NULL) {
		/* 0600 as OpenSSH wants its config files; an existing file
		 * is tightened too. */
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
		FILE *f = NULL;

		if (fd >= 0 && (fchmod(fd, 0600) != 0 ||
		    (f = fdopen(fd, "w")) == NULL)) {
			close(fd);
			fd = -1;
		}
		if (fd < 0 || fputs(b.data, f) < 0 || fclose(f) != 0) {
			cmd_error(ctx, "cannot write '%s': %s", out,
			    strerror(errno));
			buf_release(&b);
			return 1;
		}
		*result = cJSON_CreateObject();
		cJSON_AddStringToObject(*result, "written", out);
	} else
		*result = cJSON_CreateString(b.data);
	buf_release(&b);
	return 0;
}

static const struct mlsh_opt sshconfig_opts[] = {
	{ "output", 'o', OPT_PATH, NULL, "FILE", "write it to FILE" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

const struct mlsh_cmd cmd_sshconfig_entry = {
	.name = "ssh-config",
	.summary = "an OpenSSH config snippet for the workspace's hosts",
	.help = "Host entries with ProxyJump through the jump host and mlsh's "
	    "known_hosts, so plain ssh, scp and editors' remote plugins reach "
	    "the nodes. Hosts are named by workspace (mlsh-WS-jump, "
	    "mlsh-WS-dl1-1), so several workspaces' snippets can be included "
	    "together; a node's short name (dl1-1) is an alias too when no "
	    "other workspace has a node of that name.",
	.opts = sshconfig_opts,
	.min_args = 0,
	.max_args = 0,
	.exec = sshconfig_exec,
	.flags = CMD_READONLY,	/* reads the state; works beside a running mlsh */
};
