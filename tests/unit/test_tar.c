/* test_tar.c: remote/tar.c's writer and its reader of untrusted archives
 * (table tests, GNU tar's own archives, and a bounded mutation run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote/tar.h"
#include "unit.h"
#include "lib/util.h"

/* What a reader saw, one line per entry: "KIND NAME SIZE sha" or
 * "bad NAME: WHY". */
struct seen {
	struct buf log;
	struct buf data;
	int stop_at;		/* entry number whose entry() fails; 0: none */
	int n;
};

static int
on_entry(void *arg, const struct tar_entry *e, char **cause)
{
	struct seen *s = arg;

	if (++s->n == s->stop_at) {
		*cause = xstrdup("stopped");
		return -1;
	}
	if (e->bad != NULL) {
		buf_printf(&s->log, "bad %s: %s\n", e->name, e->bad);
		return 1;
	}
	buf_printf(&s->log, "%c %s %llu %o", "fdlo"[e->kind], e->name,
	    (unsigned long long)e->size, e->mode & 0777);
	buf_reset(&s->data);
	return e->kind == TAR_FILE ? 0 : 1;
}

static int
on_data(void *arg, const char *p, size_t n, char **cause)
{
	(void)cause;
	buf_add(&((struct seen *)arg)->data, p, n);
	return 0;
}

static int
on_end(void *arg, char **cause)
{
	struct seen *s = arg;
	(void)cause;
	buf_printf(&s->log, " [%.*s]", (int)(s->data.len < 20 ? s->data.len : 20),
	    s->data.data ? s->data.data : "");
	return 0;
}

/* Read archive a (len bytes) fed in pieces of step bytes; returns the log,
 * with "error: CAUSE" last when the reader failed. */
static char *
read_all(const char *a, size_t len, size_t step, int stop_at)
{
	struct seen s = { .stop_at = stop_at };
	struct tar_sink sink = { on_entry, on_data, on_end, &s };
	struct tar_reader *r;
	char *cause = NULL;
	int rc = 0;

	buf_init(&s.log);
	buf_init(&s.data);
	r = tar_reader_new(&sink);
	for (size_t off = 0; off < len && rc == 0; off += step)
		rc = tar_reader_feed(r, a + off, len - off < step ? len - off : step,
		    &cause);
	if (rc == 0)
		rc = tar_reader_finish(r, &cause);
	if (rc != 0)
		buf_printf(&s.log, "error: %s\n", cause);
	free(cause);
	tar_reader_free(r);
	buf_release(&s.data);
	buf_addc(&s.log, '\0');
	return buf_detach_release(&s.log);
}

static void
add_file(struct buf *b, const char *name, const char *body)
{
	size_t n = strlen(body);
	tar_header(b, name, '0', 0644, n, 1700000000);
	buf_add(b, body, n);
	for (size_t i = tar_padding(n); i > 0; i--)
		buf_addc(b, '\0');
}

/* Our writer's archive, read back whole, in 1-byte and 7-byte pieces. */
static void
round_trip(void)
{
	struct buf b;
	char longname[300];
	char *want;

	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	buf_init(&b);
	tar_header(&b, "d", '5', 0755, 0, 0);
	add_file(&b, "d/a", "alpha\n");
	add_file(&b, "empty", "");
	add_file(&b, longname, "long");
	tar_end(&b);
	T_EQ_INT(b.len % TAR_BLOCK, 0);
	want = xasprintf("d d 0 755f d/a 6 644 [alpha\n]f empty 0 644 []f %s 4 644 [long]",
	    longname);
	for (size_t step = 1; step <= TAR_BLOCK * 3; step = step * 7 + 1) {
		char *got = read_all(b.data, b.len, step, 0);
		T_EQ_STR(got, want);
		free(got);
	}
	free(want);
	buf_release(&b);
}

/* One header whose name field is raw (not checked by the writer), for the
 * hostile cases. */
static void
raw_entry(struct buf *b, const char *name, char type, const char *body)
{
	char h[TAR_BLOCK];
	unsigned sum = 0;
	size_t n = strlen(body);

	memset(h, 0, sizeof h);
	memcpy(h, name, strnlen(name, 100));
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 124, 12, "%011o", (unsigned)n);
	memset(h + 148, ' ', 8);
	h[156] = type;
	memcpy(h + 257, "ustar  ", 8);	/* GNU's magic */
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	buf_add(b, h, sizeof h);
	buf_add(b, body, n);
	for (size_t i = tar_padding(n); i > 0; i--)
		buf_addc(b, '\0');
}

static void
hostile_names_are_refused(void)
{
	static const struct { const char *name; char type; const char *want; } cases[] = {
		{ "/etc/passwd", '0', "bad /etc/passwd: absolute path\n" },
		{ "../x", '0', "bad ../x: \"..\" in the path\n" },
		{ "a/../../x", '0', "bad a/../../x: \"..\" in the path\n" },
		{ "a/..", '5', "bad a/..: \"..\" in the path\n" },
		{ "e\033[2Jvil", '0', "bad e\\x1b[2Jvil: control character in the name\n" },
		{ "nl\nx", '0', "bad nl\\nx: control character in the name\n" },
		{ "./", '0', "bad : empty name\n" },
		{ "./a//b/./c", '0', "f a/b/c 1 644 [x]" },
		{ "..a/b..", '0', "f ..a/b.. 1 644 [x]" },
		{ "./", '5', "d  1 644" },
		{ "lnk", '2', "l lnk 1 644" },
		{ "hard", '1', "l hard 1 644" },
		{ "dev", '3', "o dev 1 644" },
		{ "fifo", '6', "o fifo 1 644" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b;
		buf_init(&b);
		raw_entry(&b, cases[i].name, cases[i].type, "x");
		tar_end(&b);
		char *got = read_all(b.data, b.len, 100, 0);
		T_EQ_STR(got, cases[i].want);
		free(got);
		buf_release(&b);
	}
}

static void
deep_and_long_names(void)
{
	struct buf b, name;
	char *got;

	buf_init(&name);
	for (int i = 0; i < TAR_DEPTH_MAX + 1; i++)
		buf_adds(&name, "d/");
	buf_adds(&name, "f");
	buf_addc(&name, '\0');
	buf_init(&b);
	tar_header(&b, name.data, '0', 0644, 0, 0);	/* a pax path record */
	tar_end(&b);
	got = read_all(b.data, b.len, 512, 0);
	T_OK(strstr(got, "nests deeper than 256 directories") != NULL);
	free(got);

	buf_reset(&b);
	buf_reset(&name);
	for (int i = 0; i < TAR_NAME_MAX; i++)
		buf_addc(&name, 'x');
	buf_adds(&name, "y");
	buf_addc(&name, '\0');
	tar_header(&b, name.data, '0', 0644, 0, 0);
	tar_end(&b);
	got = read_all(b.data, b.len, 512, 0);
	T_OK(strncmp(got, "bad xxx", 7) == 0 && strstr(got, "longer than 4096") != NULL);
	free(got);
	buf_release(&b);
	buf_release(&name);
}

static void
broken_archives_stop(void)
{
	struct buf b;
	char *got;

	buf_init(&b);
	add_file(&b, "a", "hello");
	tar_end(&b);

	/* a flipped bit in the header */
	b.data[3] ^= 1;
	got = read_all(b.data, b.len, 512, 0);
	T_EQ_STR(got, "error: bad header checksum\n");
	free(got);
	b.data[3] ^= 1;

	/* cut inside the data */
	got = read_all(b.data, 514, 512, 0);
	T_EQ_STR(got, "f a 5 644error: the archive ends in the middle of an entry\n");
	free(got);

	/* the sink stops it */
	got = read_all(b.data, b.len, 512, 1);
	T_EQ_STR(got, "error: stopped\n");
	free(got);

	/* a GNU long name record over the limit */
	buf_reset(&b);
	{
		char h[TAR_BLOCK];
		unsigned sum = 0;
		memset(h, 0, sizeof h);
		strcpy(h, "././@LongLink");
		snprintf(h + 124, 12, "%011o", TAR_META_MAX + 1);
		memset(h + 148, ' ', 8);
		h[156] = 'L';
		for (int i = 0; i < TAR_BLOCK; i++)
			sum += (unsigned char)h[i];
		snprintf(h + 148, 8, "%06o", sum);
		buf_add(&b, h, sizeof h);
	}
	got = read_all(b.data, b.len, 512, 0);
	T_EQ_STR(got, "error: a header record of 65537 bytes (at most 65536)\n");
	free(got);

	/* a malformed pax record */
	buf_reset(&b);
	raw_entry(&b, "././@PaxHeader", 'x', "99 path=x\n");
	add_file(&b, "a", "z");
	tar_end(&b);
	got = read_all(b.data, b.len, 512, 0);
	T_EQ_STR(got, "error: malformed pax record\n");
	free(got);

	/* a pax path with a NUL inside */
	buf_reset(&b);
	raw_entry(&b, "././@PaxHeader", 'x', "12 path=aXb\n");
	b.data[TAR_BLOCK + 9] = '\0';	/* the X */
	add_file(&b, "ok", "z");
	tar_end(&b);
	got = read_all(b.data, b.len, 512, 0);
	if (strncmp(got, "bad a: longer than 4096 bytes", 29) != 0)
		T_FAIL("got %s", got);
	free(got);
	buf_release(&b);
}

/* GNU tar's own archive (gnu format: "L" records, "./" names) reads as
 * written. */
static void
reads_gnu_tar(void)
{
	char dir[] = "/tmp/mlsh-test-tar.XXXXXX", *cmd, *got;
	struct buf b;
	FILE *f;
	char chunk[4096];
	size_t n;

	if (mkdtemp(dir) == NULL || access("/bin/tar", X_OK) != 0)
		T_SKIP("no /bin/tar or temp dir");
	cmd = xasprintf("cd %s && mkdir -p t/sub && printf hi > t/sub/f && "
	    "printf %%0150d 0 > t/longname && mv t/longname t/$(printf %%0120d 0) && "
	    "ln -s /etc/passwd t/lnk && tar -c -f - -C t --sort=name .", dir);
	f = popen(cmd, "r");
	buf_init(&b);
	while (f != NULL && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	T_OK(f != NULL && pclose(f) == 0);
	got = read_all(b.data, b.len, 1000, 0);
	/* the modes of directories depend on the umask: compare around them */
	T_OK(strstr(got, "f 000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000 150 644")
	    != NULL);
	T_OK(strstr(got, "l lnk 0 777") != NULL);
	T_OK(strstr(got, "f sub/f 2 644 [hi]") != NULL);
	T_OK(strstr(got, "error") == NULL);
	free(got);
	free(cmd);
	cmd = xasprintf("rm -rf %s", dir);
	T_OK(system(cmd) == 0);
	free(cmd);
	buf_release(&b);
}

/* Our archive extracts with GNU tar (the put side). */
static void
gnu_tar_reads_ours(void)
{
	char dir[] = "/tmp/mlsh-test-tar.XXXXXX", *cmd;
	char longname[160];
	struct buf b;
	FILE *f;

	if (mkdtemp(dir) == NULL || access("/bin/tar", X_OK) != 0)
		T_SKIP("no /bin/tar or temp dir");
	memset(longname, 'q', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	buf_init(&b);
	tar_header(&b, "sub", '5', 0755, 0, 0);
	add_file(&b, "sub/f", "hello");
	add_file(&b, longname, "long");
	tar_end(&b);
	cmd = xasprintf("tar -x -m -o -f - -C %s", dir);
	f = popen(cmd, "w");
	T_OK(f != NULL && fwrite(b.data, 1, b.len, f) == b.len);
	T_OK(f != NULL && pclose(f) == 0);
	free(cmd);
	cmd = xasprintf("[ \"$(cat %s/sub/f)\" = hello ] && [ \"$(cat %s/%s)\" = long ]",
	    dir, dir, longname);
	T_OK(system(cmd) == 0);
	free(cmd);
	cmd = xasprintf("rm -rf %s", dir);
	T_OK(system(cmd) == 0);
	free(cmd);
	buf_release(&b);
}

/* Random corruption never crashes the reader, and whatever it accepts is
 * a checked name (bounded: 3000 runs). */
static void
mutations_are_safe(void)
{
	struct buf b;
	unsigned seed = 12345;

	buf_init(&b);
	tar_header(&b, "d", '5', 0755, 0, 0);
	add_file(&b, "d/a", "alpha");
	raw_entry(&b, "././@PaxHeader", 'x', "13 path=abcd\n");
	add_file(&b, "x", "0123456789");
	tar_end(&b);
	for (int run = 0; run < 3000; run++) {
		char *copy = xmalloc(b.len);
		memcpy(copy, b.data, b.len);
		for (int k = 0; k < 1 + run % 4; k++) {
			seed = seed * 1103515245 + 12345;
			size_t at = (seed >> 8) % b.len;
			seed = seed * 1103515245 + 12345;
			copy[at] = (char)(seed >> 16);
		}
		char *got = read_all(copy, b.len, 1 + run % 700, 0);
		T_OK(strstr(got, " /") == NULL && strstr(got, "f ../") == NULL);
		free(got);
		free(copy);
	}
	buf_release(&b);
}

int
main(void)
{
	T_RUN(round_trip);
	T_RUN(hostile_names_are_refused);
	T_RUN(deep_and_long_names);
	T_RUN(broken_archives_stop);
	T_RUN(reads_gnu_tar);
	T_RUN(gnu_tar_reads_ours);
	T_RUN(mutations_are_safe);
	T_DONE();
}
