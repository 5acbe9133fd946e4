/* test_autostop.c: what status and the prompt make of a machine's autostop
 * record (builtins/autostop.c), and the user-data helpers that make room
 * for the watchdog (stack/userdata.c, lib/gzip.c). */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "unit.h"
#include "builtins/autostop.h"
#include "lib/gzip.h"
#include "stack/userdata.h"

#define NOW 1000000L

/* A record {"attrs": {…}} from "k=v" pairs. */
static cJSON *
rec(const char *const *kv)
{
	cJSON *r = cJSON_CreateObject(), *a = cJSON_AddObjectToObject(r,
	    "attrs");

	for (; *kv != NULL; kv++) {
		const char *eq = strchr(*kv, '=');
		char k[64];
		snprintf(k, sizeof k, "%.*s", (int)(eq - *kv), *kv);
		cJSON_AddStringToObject(a, k, eq + 1);
	}
	return r;
}

static char *
text_of(const char *const *kv, cJSON **row_out)
{
	cJSON *r = rec(kv), *row = cJSON_CreateObject();
	char *t;

	autostop_fields(r, NOW, row);
	if (row_out != NULL)
		*row_out = cJSON_Duplicate(row, 1);
	t = autostop_take_text(row);
	cJSON_Delete(r);
	cJSON_Delete(row);
	return t;
}

static double
num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void
test_idle(void)
{
	const char *kv[] = { "state=running", "autostop=3600",
	    "autostop_state=idle", "autostop_idle_since=999280",
	    "autostop_checked=999900", NULL };
	cJSON *row;
	char *t = text_of(kv, &row);

	T_EQ_STR(t, "idle 12m, stops in 48m");
	T_EQ_INT(num(row, "idle_seconds"), 720);
	T_EQ_INT(num(row, "stops_in_seconds"), 2880);
	T_EQ_INT(num(row, "checked_seconds_ago"), 100);
	free(t);
	cJSON_Delete(row);
}

static void
test_terminate_and_due(void)
{
	const char *kv[] = { "state=running", "autostop=600",
	    "autostop_action=terminate", "autostop_state=idle",
	    "autostop_idle_since=999000", NULL };
	char *t = text_of(kv, NULL);

	T_EQ_STR(t, "idle 16m40s, terminating now");
	free(t);
	kv[4] = "autostop_idle_since=999700";
	t = text_of(kv, NULL);
	T_EQ_STR(t, "idle 5m, terminates in 5m");
	free(t);
}

static void
test_busy_off_unread_stopped(void)
{
	const char *busy[] = { "state=running", "autostop=3600",
	    "autostop_state=busy", "autostop_reason=train run r3", NULL };
	const char *off[] = { "state=running", "autostop=off", NULL };
	const char *unread[] = { "state=running", "autostop=1800", NULL };
	const char *stopped[] = { "state=stopped", "autostop=3600",
	    "autostop_state=idle", "autostop_idle_since=999000", NULL };
	const char *none[] = { "state=running", NULL };
	cJSON *row;
	char *t;

	t = text_of(busy, &row);
	T_EQ_STR(t, "busy (run r3)");
	T_EQ_INT(num(row, "idle_seconds"), 0);
	T_OK(cJSON_IsNull(cJSON_GetObjectItem(row, "stops_in_seconds")));
	free(t);
	cJSON_Delete(row);
	t = text_of(off, NULL);
	T_EQ_STR(t, "autostop off");
	free(t);
	t = text_of(unread, NULL);
	T_EQ_STR(t, "30m, not read yet");
	free(t);
	/* What was read of a machine that stopped since is over. */
	t = text_of(stopped, &row);
	T_EQ_STR(t, "1h, not read yet");
	T_OK(cJSON_IsNull(cJSON_GetObjectItem(row, "idle_seconds")));
	free(t);
	cJSON_Delete(row);
	T_OK(text_of(none, NULL) == NULL);
}

/* The prompt's nearest stop: the smallest known, only running and idle. */
static void
test_next_stop(void)
{
	const char *a[] = { "state=running", "autostop=3600",
	    "autostop_state=idle", "autostop_idle_since=999000", NULL };
	const char *b[] = { "state=running", "autostop=600",
	    "autostop_state=idle", "autostop_idle_since=999900", NULL };
	const char *c[] = { "state=stopped", "autostop=60",
	    "autostop_state=idle", "autostop_idle_since=999990", NULL };
	const char *d[] = { "state=running", "autostop=60",
	    "autostop_state=busy", NULL };
	cJSON *res = cJSON_CreateObject();

	T_EQ_INT(autostop_next_stop(res, NOW), -1);
	cJSON_AddItemToObject(res, "dl1-1", rec(a));
	T_EQ_INT(autostop_next_stop(res, NOW), 2600);
	cJSON_AddItemToObject(res, "dl1-2", rec(b));
	cJSON_AddItemToObject(res, "dl1-3", rec(c));
	cJSON_AddItemToObject(res, "dl1-4", rec(d));
	T_EQ_INT(autostop_next_stop(res, NOW), 500);
	cJSON_Delete(res);
}

static void
test_strip_and_gzip(void)
{
	char s[] = "#!/bin/sh\n# a comment\n\t# indented\nx=1 # kept\n"
	    "# shellcheck disable=SC2086\n#!/bin/sh in a heredoc\ny=2\n";
	char *gz;
	size_t glen;

	T_EQ_STR(userdata_strip_comments(s), "#!/bin/sh\nx=1 # kept\n"
	    "# shellcheck disable=SC2086\n#!/bin/sh in a heredoc\ny=2\n");
	T_OK(gzip_pack(s, strlen(s), &gz, &glen) == 0);
	T_OK(gzip_is(gz, glen) && !gzip_is(s, strlen(s)));
	free(gz);	/* round trips through gzip -dc: test_gzip.c */
}

/* A here-document's lines are data: a YAML or Markdown comment stays, up to
 * its terminator (<<-: after tabs); $((1 << 4)) opens none. */
static void
test_strip_heredoc(void)
{
	char s[] = "# gone\ncat >f <<YAML\n# kept: data\nYAML\n# gone too\n"
	    "cat >g <<-'EOF'\n\t# kept\n\tEOF\n# gone 3\nx=$((1 << 4))\n"
	    "# gone 4\ncat <<\"END\" >h\n# kept\nEND\n";

	T_EQ_STR(userdata_strip_comments(s), "cat >f <<YAML\n# kept: data\n"
	    "YAML\ncat >g <<-'EOF'\n\t# kept\n\tEOF\nx=$((1 << 4))\n"
	    "cat <<\"END\" >h\n# kept\nEND\n");
}

int
main(void)
{
	T_RUN(test_idle);
	T_RUN(test_terminate_and_due);
	T_RUN(test_busy_off_unread_stopped);
	T_RUN(test_next_stop);
	T_RUN(test_strip_and_gzip);
	T_RUN(test_strip_heredoc);
	T_DONE();
}
