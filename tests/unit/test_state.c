/* Unit tests: the state store (atomic writes, locking, corrupt files). */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/state.h"
#include "unit.h"

static char dir[] = "/tmp/mlsh-state.XXXXXX";

static void
write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	free(p);
}

static char *
read_back(const char *name)
{
	char *p = xasprintf("%s/%s", dir, name), *cause = NULL, *t;
	t = file_read(p, NULL, &cause);
	free(p);
	free(cause);
	return t;
}

static void
test_roundtrip(void)
{
	struct state *s;
	char *cause = NULL, *p;
	struct stat st;

	T_EQ_INT(state_open(dir, "w1", 0, NULL, &s, &cause), 0);
	T_EQ_INT(s->existed, 0);
	cJSON_AddStringToObject(cJSON_GetObjectItem(s->root, "resources"),
	    "vpc", "vpc-123");
	T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);

	p = xasprintf("%s/w1.json", dir);
	T_EQ_INT(stat(p, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	free(p);

	T_EQ_INT(state_open(dir, "w1", 0, NULL, &s, &cause), 0);
	T_EQ_INT(s->existed, 1);
	T_EQ_INT(state_resource_count(s->root), 1);
	T_EQ_INT(cJSON_GetObjectItem(s->root, "schema")->valueint,
	    STATE_SCHEMA);
	state_close(s);
}

static void
test_no_temp_left(void)
{
	struct state *s;
	char *cause = NULL;
	DIR *d;
	struct dirent *e;
	int temps = 0;

	T_EQ_INT(state_open(dir, "w2", 0, NULL, &s, &cause), 0);
	for (int i = 0; i < 20; i++)
		T_EQ_INT(state_save(s, &cause), 0);
	state_close(s);
	d = opendir(dir);
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp") != NULL)
			temps++;
	closedir(d);
	T_EQ_INT(temps, 0);
}

/* A reader never sees a half-written file while a writer saves in a loop. */
static void
test_atomic_under_readers(void)
{
	struct state *s;
	char *cause = NULL;
	pid_t pid;
	int st, bad = 0;

	T_EQ_INT(state_open(dir, "w3", 0, NULL, &s, &cause), 0);
	for (int i = 0; i < 2000; i++) {	/* make the file big */
		char key[16];
		snprintf(key, sizeof key, "r%d", i);
		cJSON_AddNumberToObject(cJSON_GetObjectItem(s->root,
		    "resources"), key, i);
	}
	T_EQ_INT(state_save(s, &cause), 0);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 50; i++)
			state_save(s, &cause);
		_exit(0);
	}
	for (int i = 0; i < 300; i++) {
		char *t = read_back("w3.json");
		cJSON *j = t ? cJSON_Parse(t) : NULL;
		if (j == NULL)
			bad++;
		cJSON_Delete(j);
		free(t);
	}
	waitpid(pid, &st, 0);
	state_close(s);
	T_EQ_INT(bad, 0);
}

static void
test_lock(void)
{
	struct state *s, *s2;
	char *cause = NULL, *want;
	int p[2];
	pid_t pid;
	char c;

	/* Another process holds the workspace. */
	T_EQ_INT(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		struct state *held;
		char *cz = NULL;
		if (state_open(dir, "busy", 0, NULL, &held, &cz) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	T_EQ_INT(read(p[0], &c, 1), 1);
	T_EQ_INT(state_open(dir, "busy", 0, NULL, &s, &cause), -1);
	want = xasprintf("workspace 'busy' is in use by pid %ld (--wait waits "
	    "for it)", (long)pid);
	T_EQ_STR(cause, want);
	free(cause);
	cause = NULL;
	{
		/* A reader beside the holder: a snapshot, no lock. Its save
		 * needs the lock: refused with the same message. */
		struct state *r;
		T_EQ_INT(state_open_snapshot(dir, "busy", NULL, &r, &cause), 0);
		T_OK(r->snapshot && r->lock_fd < 0);
		T_EQ_INT(state_save(r, &cause), -1);
		T_EQ_STR(cause, want);
		free(cause);
		cause = NULL;
		T_EQ_INT(state_lock(r, &cause), -1);
		free(cause);
		cause = NULL;
		T_OK(r->snapshot);
		state_close(r);
	}
	free(want);
	T_EQ_INT(state_remove(dir, "busy", &cause), -1);
	free(cause);
	cause = NULL;
	/* --wait: gives up after its bound with a clear message. */
	T_EQ_INT(state_open(dir, "busy", 1, NULL, &s, &cause), -1);
	T_OK(cause && strstr(cause, "gave up waiting") != NULL &&
	    strstr(cause, "still in use by pid") != NULL);
	free(cause);
	cause = NULL;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	/* Released when the holder dies. */
	T_EQ_INT(state_open(dir, "busy", 0, NULL, &s, &cause), 0);
	/* In one process a second open is refused as well (flock per fd). */
	T_EQ_INT(state_open(dir, "busy", 0, NULL, &s2, &cause), -1);
	free(cause);
	state_close(s);
	close(p[0]);
	close(p[1]);
}

/* Snapshots read again what another process wrote; a save over a file
 * changed since it was read is refused, never a lost update. */
static void
test_snapshot(void)
{
	struct state *w, *r;
	char *cause = NULL;

	T_EQ_INT(state_open(dir, "snap", 0, NULL, &w, &cause), 0);
	cJSON_AddNumberToObject(w->root, "gen", 1);
	T_EQ_INT(state_save(w, &cause), 0);
	T_EQ_INT(state_open_snapshot(dir, "snap", NULL, &r, &cause), 0);
	T_EQ_INT((int)cJSON_GetObjectItem(r->root, "gen")->valuedouble, 1);
	cJSON_ReplaceItemInObject(w->root, "gen", cJSON_CreateNumber(2));
	T_EQ_INT(state_save(w, &cause), 0);
	T_EQ_INT(state_refresh(r, &cause), 0);
	T_EQ_INT((int)cJSON_GetObjectItem(r->root, "gen")->valuedouble, 2);
	cJSON_ReplaceItemInObject(w->root, "gen", cJSON_CreateNumber(3));
	T_EQ_INT(state_save(w, &cause), 0);
	state_close(w);
	/* r read gen 2; the file now says 3: its save must not undo it. */
	T_EQ_INT(state_save(r, &cause), -1);
	T_OK(cause && strstr(cause, "was changed by another mlsh") != NULL);
	free(cause);
	cause = NULL;
	T_OK(r->snapshot);
	/* Locked explicitly, it reads the file again and may save. */
	T_EQ_INT(state_lock(r, &cause), 0);
	T_OK(!r->snapshot && r->lock_fd >= 0);
	T_EQ_INT((int)cJSON_GetObjectItem(r->root, "gen")->valuedouble, 3);
	T_EQ_INT(state_save(r, &cause), 0);
	/* and holds the workspace now */
	T_EQ_INT(state_open(dir, "snap", 0, NULL, &w, &cause), -1);
	free(cause);
	state_close(r);
}

static void
test_corrupt(void)
{
	struct state *s;
	char *cause = NULL, *after;

	write_file("bad.json", "{\"schema\": 1, \"resources\": {");
	T_EQ_INT(state_open(dir, "bad", 0, NULL, &s, &cause), -1);
	T_OK(cause && strstr(cause, "is corrupt") != NULL);
	free(cause);
	cause = NULL;
	after = read_back("bad.json");
	T_EQ_STR(after, "{\"schema\": 1, \"resources\": {");
	free(after);

	write_file("noschema.json", "{\"resources\": {}}");
	T_EQ_INT(state_open(dir, "noschema", 0, NULL, &s, &cause), -1);
	T_OK(cause && strstr(cause, "no schema version") != NULL);
	free(cause);
	cause = NULL;

	write_file("future.json", "{\"schema\": 99}");
	T_EQ_INT(state_open(dir, "future", 0, NULL, &s, &cause), -1);
	T_OK(cause && strstr(cause, "newer than this mlsh") != NULL);
	free(cause);
}

static void
test_names_and_list(void)
{
	struct strlist l;
	struct state *s;
	char *cause = NULL;

	T_OK(state_name_ok("msls-dl1"));
	T_OK(state_name_ok("a.b_c"));
	T_OK(!state_name_ok(""));
	T_OK(!state_name_ok("../x"));
	T_OK(!state_name_ok("-x"));
	T_OK(!state_name_ok("a/b"));
	T_EQ_INT(state_open(dir, "../evil", 0, NULL, &s, &cause), -1);
	free(cause);
	strlist_init(&l);
	state_list(dir, &l);
	T_OK(strlist_has(&l, "w1"));
	T_OK(strlist_has(&l, "bad"));	/* listed even if corrupt */
	strlist_release(&l);
	cause = NULL;
	T_EQ_INT(state_remove(dir, "w1", &cause), 0);
	strlist_init(&l);
	state_list(dir, &l);
	T_OK(!strlist_has(&l, "w1"));
	strlist_release(&l);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(dir) == NULL)
		return 1;
	T_RUN(test_roundtrip);
	T_RUN(test_no_temp_left);
	T_RUN(test_atomic_under_readers);
	T_RUN(test_lock);
	T_RUN(test_snapshot);
	T_RUN(test_corrupt);
	T_RUN(test_names_and_list);
	cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	T_DONE();
}
