/* main.c: mlsh's command line. Only main exits. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shell/shell.h"
#include "aws/aws.h"
#include "lib/state.h"
#include "lab/ctrl.h"

static struct mlsh_ctx ctx;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: mlsh [options] [-c LINE | BUILTIN [ARG…] | FILE.mlsh [ARG…]]\n"
"\n"
"An interactive shell for ML training infrastructure on AWS.\n"
"With no LINE or FILE, mlsh reads commands: a prompt with line editing\n"
"on a terminal, else one command per line from standard input.\n"
"'mlsh BUILTIN ARGS…' runs one builtin (e.g. 'mlsh lab up'); a script is\n"
"named by a path with '/' or a .mlsh suffix (./deploy, deploy.mlsh).\n"
"\n"
"options:\n"
"  -c LINE             run LINE and exit with its status\n"
"  -w, --workspace W   use workspace W (default: the last one used)\n"
"  -p, --profile P     AWS profile\n"
"  -r, --region R      AWS region\n"
"      --endpoint-url U  send every AWS call to U (moto, a proxy)\n"
"      --json          print results as JSON\n"
"      --trace         print each AWS request (secrets redacted)\n"
"      --wait          wait for a workspace another mlsh holds\n"
"      --norc          do not run ~/.mlshrc\n"
"  -y, --yes           start what costs without asking (scripts, -c)\n"
"      --lab           use the lab (a local cloud; starts it; needs root)\n"
"  -h, --help          this help\n"
"  -V, --version       print the version\n"
"\n"
"Type 'help' at the prompt for the builtins.\n");
}

static void
on_sigint(int sig)
{
	(void)sig;
	mlsh_interrupted = 1;
	mlsh_line_interrupted = 1;
	script_interrupt();
}

static int
is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* A script is named by a path with a '/' or a .mlsh suffix; a bare word is a
 * builtin. A file in the current directory never shadows a builtin (`mlsh
 * status` with ./status present ran the file as Lua). A #! script always
 * reaches us with a '/' (the kernel passes the path it ran). */
static int
is_script_name(const char *arg)
{
	size_t n = strlen(arg);
	return strchr(arg, '/') != NULL ||
	    (n > 5 && strcmp(arg + n - 5, ".mlsh") == 0);
}

static int
is_builtin(const char *name)
{
	for (size_t i = 0; mlsh_builtins[i] != NULL; i++)
		if (strcmp(mlsh_builtins[i]->name, name) == 0)
			return 1;
	return 0;
}

static char *
last_workspace(const char *state_dir)
{
	char *p = xasprintf("%s/current", state_dir), *cause = NULL, *t;

	t = state_read_file(p, NULL, &cause);
	free(p);
	free(cause);
	if (t != NULL) {
		t[strcspn(t, "\n")] = '\0';
		if (*t != '\0')
			return t;
		free(t);
	}
	return NULL;
}

static int
run_rc(void)
{
	const char *home = getenv("HOME");
	char *rc, *cause = NULL;
	int st = 0;

	if (home == NULL)
		return 0;
	rc = xasprintf("%s/.mlshrc", home);
	if (access(rc, F_OK) == 0) {
		st = script_run_file(&ctx, rc, 0, NULL, &cause);
		if (cause != NULL)
			fprintf(stderr, "mlsh: %s\n", cause);
		free(cause);
	}
	free(rc);
	return st;
}

/* Commands from a non-terminal stdin: one line at a time. */
static int
run_stdin(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = 0;
	size_t lineno = 0;
	int st = 0;

	while (!ctx.exit_requested && (n = getline(&line, &cap, stdin)) >= 0) {
		/* Ctrl-C ends the input too, as it ends sh reading a script. */
		if (mlsh_line_interrupted) {
			st = 130;
			break;
		}
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		st = shell_run_line(&ctx, line, (size_t)n);
		lineno++;
		if (st != 0 && ctx.errexit && !ctx.exit_requested) {
			fprintf(stderr, "mlsh: stopped at line %zu of standard "
			    "input (status %d; errexit is on)\n", lineno, st);
			break;
		}
	}
	if (n < 0 && mlsh_line_interrupted)
		st = 130;	/* while waiting for a line */
	free(line);
	return ctx.exit_requested ? ctx.exit_status : st;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workspace", required_argument, NULL, 'w' },
		{ "profile", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "endpoint-url", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "trace", no_argument, NULL, 't' },
		{ "wait", no_argument, NULL, 'W' },
		{ "norc", no_argument, NULL, 'n' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "gen-docs", no_argument, NULL, 'G' },
		{ "lab", no_argument, NULL, 'L' },
		{ "lab-daemon", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	const char *line = NULL, *ws = NULL;
	int c, norc = 0, st;
	struct sigaction sa;

	shell_init(&ctx);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:w:p:r:yhV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c': line = optarg; break;
		case 'w': ws = optarg; break;
		case 'p': free(ctx.profile); ctx.profile = xstrdup(optarg); break;
		case 'r':
			/* It reaches URLs and a file the node sources. */
			if (!aws_region_ok(optarg)) {
				fprintf(stderr, "mlsh: -r: '%s' is not a region "
				    "name (like us-east-1)\n", optarg);
				shell_free(&ctx);
				return 2;
			}
			free(ctx.region);
			ctx.region = xstrdup(optarg);
			break;
		case 'E':
			free(ctx.endpoint_url);
			ctx.endpoint_url = xstrdup(optarg);
			break;
		case 'j': ctx.json = 1; break;
		case 't': ctx.trace = 1; break;
		case 'W': ctx.wait_lock = 1; break;
		case 'n': norc = 1; break;
		case 'y': ctx.yes = 1; break;
		case 'L': ctx.lab = 1; break;
		case 'D': {
			/* The lab's reconciler (lab/ctrl.c starts it). */
			int rc = lab_reconciler_run(optarg, stderr);
			shell_free(&ctx);
			return rc;
		}
		case 'h': usage(stdout); shell_free(&ctx); return 0;
		case 'V':
			printf("mlsh %s\n", MLSH_VERSION);
			shell_free(&ctx);
			return 0;
		case 'G': {
			char *md = cmd_markdown();
			fputs(md, stdout);
			free(md);
			shell_free(&ctx);
			return 0;
		}
		default:
			if (optopt != 0 && strchr("cwpr", optopt) != NULL)
				fprintf(stderr, "mlsh: -%c needs a value "
				    "(try 'mlsh --help')\n", optopt);
			else
				fprintf(stderr, "mlsh: unknown option: %s "
				    "(try 'mlsh --help')\n", argv[optind - 1]);
			shell_free(&ctx);
			return 2;
		}
	}

	{
		/* No home: refuse (never /tmp). A state directory others can
		 * write: refuse, naming the fix. */
		char *cause = NULL;

		if (ctx.state_dir == NULL ||
		    state_dir_prepare(ctx.state_dir, &cause) != 0) {
			fprintf(stderr, "mlsh: %s\n", cause ? cause : ctx.error);
			free(cause);
			shell_free(&ctx);
			return 1;
		}
	}
	if (ws == NULL)
		ws = getenv("MLSH_WORKSPACE");
	if (ws != NULL && *ws != '\0') {
		ctx.workspace = xstrdup(ws);
		ctx.workspace_given = 1;
	}
	else if ((ctx.workspace = last_workspace(ctx.state_dir)) == NULL)
		ctx.workspace = xstrdup("default");

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: reads return EINTR */
	signal(SIGPIPE, SIG_IGN);

	{
		const char *l = getenv("MLSH_LAB");
		if (l != NULL && *l != '\0' && strcmp(l, "0") != 0)
			ctx.lab = 1;
	}
	if (ctx.lab && ctx.endpoint_url != NULL) {
		fprintf(stderr, "mlsh: --lab and --endpoint-url do not go "
		    "together\n");
		shell_free(&ctx);
		return 2;
	}
	/* `mlsh --lab lab down` must not start what it stops. */
	ctx.lab_no_start = optind < argc && strcmp(argv[optind], "lab") == 0;
	{
		char *cause = NULL;
		if (shell_services_init(&ctx, &cause) != 0) {
			fprintf(stderr, "mlsh: %s\n", cause);
			free(cause);
			shell_free(&ctx);
			return 1;
		}
	}

	if (script_init(&ctx) != 0) {
		fprintf(stderr, "mlsh: cannot start Lua\n");
		shell_free(&ctx);
		return 1;
	}
	/* Scripts and -c lists stop at the first failed command (sh -e);
	 * the prompt and standard input go on (`set errexit` changes it). */
	if (line != NULL || (optind < argc && is_script_name(argv[optind])))
		ctx.errexit = 1;
	if (!norc)
		run_rc();

	if (line != NULL) {
		if (optind < argc) {
			fprintf(stderr, "mlsh: unexpected argument with -c: %s\n",
			    argv[optind]);
			st = 2;
		} else {
			st = shell_run_line(&ctx, line, strlen(line));
			if (ctx.exit_requested)
				st = ctx.exit_status;
		}
	} else if (optind < argc && is_builtin(argv[optind])) {
		/* mlsh BUILTIN ARGS…: one command, its words as given. */
		st = shell_run_argv(&ctx, argc - optind, argv + optind, NULL);
		if (ctx.exit_requested)
			st = ctx.exit_status;
	} else if (optind < argc && !is_script_name(argv[optind])) {
		const char *a = argv[optind];
		if (is_file(a))
			fprintf(stderr, "mlsh: %s: not a builtin; to run the "
			    "script in the current directory, write ./%s\n", a,
			    a);
		else
			fprintf(stderr, "mlsh: %s: no such builtin (a script "
			    "needs a path with '/' or a .mlsh suffix, e.g. "
			    "./%s; 'mlsh help' lists the builtins)\n", a, a);
		st = 2;
	} else if (optind < argc) {
		char *cause = NULL;
		st = script_run_file(&ctx, argv[optind], argc - optind - 1,
		    argv + optind + 1, &cause);
		if (cause != NULL)
			fprintf(stderr, "mlsh: %s\n", cause);
		free(cause);
	} else if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		ctx.interactive = 1;
		st = repl_run(&ctx);
	} else
		st = run_stdin();

	shell_free(&ctx);
	return st;
}
