/* Unit tests: the command language (quoting, comments, ';', $VAR, !cmd). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "shell/lexer.h"
#include "unit.h"
#include "lib/util.h"

static const char *
vars(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "X") == 0)
		return "a b";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	return NULL;
}

/* Lex s and join the words of all commands as "w1|w2;w3". */
static char *
lexed(const char *s, char **cause)
{
	struct lex_result r;
	struct buf b;

	*cause = NULL;
	if (lex_line(s, strlen(s), vars, NULL, &r, cause) != 0)
		return NULL;
	buf_init(&b);
	for (size_t i = 0; i < r.n; i++) {
		if (i)
			buf_addc(&b, ';');
		if (r.cmds[i].shell)
			buf_printf(&b, "!{%s}", r.cmds[i].shell);
		for (size_t k = 0; k < r.cmds[i].n; k++)
			buf_printf(&b, "%s%s", k ? "|" : "", r.cmds[i].w[k].text);
	}
	lex_result_release(&r);
	return buf_detach_release(&b);
}

#define LEX(in, want) do {						\
	char *c_, *o_ = lexed(in, &c_);					\
	T_EQ_STR(o_, want);						\
	free(o_); free(c_);						\
} while (0)

#define LEX_ERR(in, want) do {						\
	char *c_, *o_ = lexed(in, &c_);					\
	T_OK(o_ == NULL);						\
	T_EQ_STR(c_, want);						\
	free(o_); free(c_);						\
} while (0)

static void
test_words(void)
{
	LEX("echo a  b\tc", "echo|a|b|c");
	LEX("  ", "");
	LEX("", "");
	LEX("a'b c'd", "ab cd");
	LEX("\"a b\" 'c d'", "a b|c d");
	LEX("a\\ b", "a b");
	LEX("'it''s'", "its");
	LEX("\"q\\\"x\"", "q\"x");
	LEX("'\\n'", "\\n");
	LEX("\"\"", "");
	LEX("''", "");
}

static void
test_separators_comments(void)
{
	LEX("a; b ;c", "a;b;c");
	LEX("a;;b;", "a;b");
	LEX("a # b c", "a");
	LEX("a#b", "a#b");
	LEX("# all comment", "");
	LEX("a\nb", "a;b");
	LEX("'a;b' \"c#d\"", "a;b|c#d");
}

static void
test_vars(void)
{
	LEX("echo $X", "echo|a b");		/* never split */
	LEX("echo ${X}y", "echo|a by");
	LEX("echo \"$X\"", "echo|a b");
	LEX("echo '$X'", "echo|$X");
	LEX("echo $NOPE.", "echo|.");
	LEX("echo $", "echo|$");
	LEX("echo $1", "echo|$1");
	LEX("echo \\$X", "echo|$X");
	LEX("echo a$EMPTY", "echo|a");
}

static void
test_shell(void)
{
	LEX("!ls -l | wc", "!{ls -l | wc}");
	LEX("echo a; !echo b; c", "echo|a;!{echo b; c}");
	LEX("echo a!b", "echo|a!b");
}

static void
test_errors(void)
{
	LEX_ERR("echo 'abc", "unterminated single quote");
	LEX_ERR("echo \"abc", "unterminated double quote");
	LEX_ERR("echo ${X", "unterminated ${");
	LEX_ERR("echo \\", "trailing backslash");
	{
		char *cause = NULL;
		struct lex_result r;
		T_EQ_INT(lex_line("a\0b", 3, vars, NULL, &r, &cause), -1);
		T_EQ_STR(cause, "line contains a NUL byte");
		free(cause);
	}
}

static void
test_big_and_binary(void)
{
	size_t n = 4 << 20;
	char *s = xmalloc(n + 1), *cause = NULL;
	struct lex_result r;

	for (size_t i = 0; i < n; i++)
		s[i] = (i % 7 == 0) ? ' ' : (char)(0x80 + i % 64);
	s[n] = '\0';
	T_EQ_INT(lex_line(s, n, vars, NULL, &r, &cause), 0);
	T_OK(r.n == 1 && r.cmds[0].n > 100000);
	lex_result_release(&r);
	free(s);
}

static void
test_partial(void)
{
	struct lex_cmd c;
	int open;
	char q;

	lex_partial("workspace l", 11, vars, NULL, &c, &open, &q);
	T_EQ_INT(c.n, 2);
	T_EQ_INT(open, 1);
	T_EQ_STR(c.w[1].text, "l");
	T_EQ_INT(c.w[1].start, 10);
	lex_cmd_release(&c);

	lex_partial("echo 'a b", 9, vars, NULL, &c, &open, &q);
	T_EQ_INT(open, 1);
	T_EQ_INT(q, '\'');
	T_EQ_STR(c.w[1].text, "a b");
	lex_cmd_release(&c);

	lex_partial("a; b ", 5, vars, NULL, &c, &open, &q);
	T_EQ_INT(open, 0);
	T_EQ_INT(c.n, 1);
	T_EQ_STR(c.w[0].text, "b");
	lex_cmd_release(&c);

	lex_partial("a;", 2, vars, NULL, &c, &open, &q);
	T_EQ_INT(c.n, 0);
	lex_cmd_release(&c);
}

static void
test_one(void)
{
	const char *s = "a 1; b 2 ;; c";
	size_t pos = 0;
	struct lex_cmd c;
	char *cause = NULL;

	T_EQ_INT(lex_one(s, strlen(s), &pos, vars, NULL, &c, &cause), 1);
	T_EQ_STR(c.w[0].text, "a");
	lex_cmd_release(&c);
	T_EQ_INT(lex_one(s, strlen(s), &pos, vars, NULL, &c, &cause), 1);
	T_EQ_STR(c.w[1].text, "2");
	lex_cmd_release(&c);
	T_EQ_INT(lex_one(s, strlen(s), &pos, vars, NULL, &c, &cause), 1);
	T_EQ_STR(c.w[0].text, "c");
	lex_cmd_release(&c);
	T_EQ_INT(lex_one(s, strlen(s), &pos, vars, NULL, &c, &cause), 0);
}

static void
on_fault(int sig)
{
	static const char m[] = "FAIL test_one_reads_only_its_command: lex_one "
	    "read past the command it returned\n";
	(void)sig;
	(void)!write(2, m, sizeof m - 1);
	_exit(1);
}

/* After the first call (which checks the whole line for NUL), lex_one reads
 * only the command it returns: the line ends right before a page that
 * cannot be read, and the length says the line goes on into it. Any read
 * past the ';' of the returned command faults. This is what keeps a line of
 * many commands linear (it used to rescan the rest of the line each time). */
static void
test_one_reads_only_its_command(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const char *cmd = "echo 'a;b' \"$X\";";
	size_t cl = strlen(cmd), pos;
	char *line, *cause = NULL;
	struct lex_cmd c;

	T_OK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	T_OK(mprotect(m + pg, (size_t)pg, PROT_NONE) == 0);
	line = m + pg - 2 * cl;
	memcpy(line, cmd, cl);
	memcpy(line + cl, cmd, cl);
	pos = cl;		/* the second command, as a later call sees it */
	signal(SIGSEGV, on_fault);
	T_EQ_INT(lex_one(line, 2 * cl + 100, &pos, vars, NULL, &c, &cause), 1);
	signal(SIGSEGV, SIG_DFL);
	T_EQ_INT(pos, 2 * cl);
	T_EQ_INT(c.n, 3);
	T_EQ_STR(c.w[1].text, "a;b");
	T_EQ_STR(c.w[2].text, "a b");
	lex_cmd_release(&c);
	munmap(m, 2 * (size_t)pg);
}

static void
on_alarm(int sig)
{
	static const char m[] = "FAIL test_one_big_line: lexing an 8 MB line "
	    "of commands took minutes (quadratic?)\n";
	(void)sig;
	(void)!write(2, m, sizeof m - 1);
	_exit(1);
}

/* 4 M commands on one 8 MB line, one lex_one call each. Linear, this takes
 * about a second; the old rescanning lexer read ~16 TB. The alarm is only
 * there to turn that into a failure instead of a hang. */
static void
test_one_big_line(void)
{
	size_t n = 4u << 20, len = 2 * n, pos = 0, got = 0;
	char *s = xmalloc(len + 1), *cause = NULL;
	struct lex_cmd c;
	int r;

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = (char)('a' + i % 26);
		s[2 * i + 1] = ';';
	}
	s[len] = '\0';
	signal(SIGALRM, on_alarm);
	alarm(300);
	while ((r = lex_one(s, len, &pos, vars, NULL, &c, &cause)) == 1) {
		if (c.n != 1 || c.w[0].text[0] != (char)('a' + got % 26))
			break;
		got++;
		lex_cmd_release(&c);
	}
	alarm(0);
	T_EQ_INT(r, 0);
	T_EQ_INT(got, n);
	T_EQ_INT(pos, len);
	free(s);
}

int
main(void)
{
	T_RUN(test_words);
	T_RUN(test_separators_comments);
	T_RUN(test_vars);
	T_RUN(test_shell);
	T_RUN(test_errors);
	T_RUN(test_big_and_binary);
	T_RUN(test_partial);
	T_RUN(test_one);
	T_RUN(test_one_reads_only_its_command);
	T_RUN(test_one_big_line);
	T_DONE();
}
