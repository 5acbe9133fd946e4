/* Unit tests: the stack engine talks to the user only through its
 * struct stack_ui (errors, notes, questions), takes its options and prices
 * as data, and never writes to the terminal itself. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stack/stack.h"
#include "lib/state.h"
#include "unit.h"

/* What the fake ui was told. */
struct seen {
	struct strlist errors, warns, notes, questions;
	int answer;			/* what confirm answers */
	int progress_done;
};

static void
on_error(void *arg, const char *line)
{
	strlist_add(&((struct seen *)arg)->errors, line);
}

static void
on_warn(void *arg, const char *line)
{
	strlist_add(&((struct seen *)arg)->warns, line);
}

static void
on_note(void *arg, const char *line)
{
	strlist_add(&((struct seen *)arg)->notes, line);
}

static int
on_confirm(void *arg, const char *question)
{
	struct seen *s = arg;

	strlist_add(&s->questions, question);
	return s->answer;
}

static void
seen_init(struct seen *s, int answer)
{
	memset(s, 0, sizeof *s);
	strlist_init(&s->errors);
	strlist_init(&s->warns);
	strlist_init(&s->notes);
	strlist_init(&s->questions);
	s->answer = answer;
}

static void
seen_release(struct seen *s)
{
	strlist_release(&s->errors);
	strlist_release(&s->warns);
	strlist_release(&s->notes);
	strlist_release(&s->questions);
}

/* A workspace in memory: a dry run never saves, and nothing here calls
 * AWS (aws is NULL: a call would crash the test). */
static struct state state = { .workspace = (char *)"t" };

/* stderr goes to a file while the engine runs: it must stay empty. */
static int saved_fd = -1;
static char errfile[] = "/tmp/mlsh-stack-ui.XXXXXX";

static void
stderr_capture(void)
{
	int fd = mkstemp(errfile);

	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Bytes the engine wrote to stderr itself. */
static long
stderr_release(void)
{
	off_t n;

	fflush(stderr);
	n = lseek(STDERR_FILENO, 0, SEEK_END);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	unlink(errfile);
	strcpy(errfile, "/tmp/mlsh-stack-ui.XXXXXX");
	return (long)n;
}

static void
open_stack(struct stack *st, struct seen *s, const struct stack_opts *o,
    const cJSON *config)
{
	struct stack_env env = {
		.state = &state, .region = "us-east-1",
		.prices = { .config = config },
	};
	struct stack_ui ui = {
		.arg = s, .cmd = "vpc", .sub = "up", .error = on_error,
		.warn = on_warn, .note = on_note, .confirm = on_confirm,
	};

	cJSON_Delete(state.root);
	state.root = cJSON_Parse("{\"resources\":{}}");
	stack_begin(st, &env, o, &ui);
}

static void
test_dry_run_plan(void)
{
	struct stack_opts o = { .dry_run = 1 };
	struct stack st;
	struct seen s;
	cJSON *plan;
	long wrote;

	seen_init(&s, 1);
	stderr_capture();
	open_stack(&st, &s, &o, NULL);
	{
		struct stack_create c = {
			.role = "vpc", .type = "vpc", .service = "ec2",
			.action = "CreateVpc", .params = cJSON_CreateObject(),
			.tag_style = STACK_TAG_SPEC, .tag_type = "vpc",
			.item_path = "vpc", .id_key = "vpcId",
			.summary = "10.0.0.0/16",
		};
		T_EQ_INT(stack_create_many(&st, &c, 1), 0);
	}
	T_EQ_STR(stack_id(&st, "vpc"), "<vpc>");
	T_EQ_INT(stack_wait_state(&st, "vpc", "available", 60), 0);
	plan = stack_result(&st);
	wrote = stderr_release();
	T_EQ_INT(wrote, 0);
	T_EQ_INT(cJSON_GetArraySize(plan), 2);
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(plan, 0), "action")), "CreateVpc");
	T_EQ_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(plan, 1), "action")), "wait");
	T_EQ_INT(s.notes.n, 1);
	T_EQ_STR(s.notes.n ? s.notes.v[0] : NULL,
	    "vpc up: dry run: 2 calls planned, nothing changed");
	T_EQ_INT(s.errors.n, 0);
	/* The dry run worked on a copy: the state is untouched. */
	T_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(state.root,
	    "resources")), 0);
	cJSON_Delete(plan);
	stack_close(&st);
	seen_release(&s);
}

static void
test_confirm_declined(void)
{
	struct stack_price_item pi[] = { { "dl1-1", "dl1.24xlarge", 1 } };
	struct stack st;
	struct seen s;
	long wrote;

	seen_init(&s, 0);
	stderr_capture();
	open_stack(&st, &s, NULL, NULL);
	T_EQ_INT(stack_confirm_price(&st, pi, 1), -1);
	wrote = stderr_release();
	T_EQ_INT(wrote, 0);
	T_EQ_INT(s.questions.n, 1);
	T_EQ_STR(s.questions.n ? s.questions.v[0] : NULL, "start it?");
	T_EQ_STR(s.notes.n ? s.notes.v[0] : NULL, "vpc: starting dl1-1 "
	    "(dl1.24xlarge) $13.11/h: total $13.11/h");
	T_EQ_INT(s.errors.n, 1);
	T_EQ_STR(s.errors.n ? s.errors.v[0] : NULL, "not started");
	T_EQ_INT(st.nerrors, 1);
	stack_close(&st);
	seen_release(&s);
}

static void
test_confirm_cannot_ask_or_yes(void)
{
	struct stack_price_item pi[] = { { "dl1-1", "dl1.24xlarge", 2 } };
	struct stack_opts yes = { .yes = 1 };
	struct stack st;
	struct seen s;

	/* A script: no question can be asked, so it goes on. */
	seen_init(&s, -1);
	open_stack(&st, &s, NULL, NULL);
	T_EQ_INT(stack_confirm_price(&st, pi, 1), 0);
	T_EQ_INT(s.questions.n, 1);
	T_EQ_INT(s.errors.n, 0);
	stack_close(&st);
	seen_release(&s);
	/* --yes: never asked. */
	seen_init(&s, 0);
	open_stack(&st, &s, &yes, NULL);
	T_EQ_INT(stack_confirm_price(&st, pi, 1), 0);
	T_EQ_INT(s.questions.n, 0);
	T_EQ_STR(s.notes.n ? s.notes.v[0] : NULL, "vpc: starting dl1-1 "
	    "2 × dl1.24xlarge $26.22/h: total $26.22/h");
	stack_close(&st);
	seen_release(&s);
}

static void
test_errors_through_ui(void)
{
	struct aws_error err = { 400, NULL, NULL, NULL, NULL };
	struct stack st;
	struct seen s;

	seen_init(&s, 1);
	open_stack(&st, &s, NULL, NULL);
	T_OK(stack_need(&st, "subnet-private", "vpc up") == NULL);
	T_EQ_STR(s.errors.n ? s.errors.v[0] : NULL, "no subnet-private in "
	    "workspace 't'; run 'vpc up' first");
	/* An AWS failure: the line to the ui, the structured error kept. */
	err.service = xstrdup("ec2");
	err.code = xstrdup("InsufficientInstanceCapacity");
	err.message = xstrdup("no capacity");
	T_EQ_INT(stack_fail(&st, "cannot create dl1-1", &err), -1);
	T_OK(err.code == NULL);
	T_EQ_STR(st.fail.code, "InsufficientInstanceCapacity");
	T_EQ_INT(s.errors.n, 2);
	T_OK(s.errors.n == 2 && strncmp(s.errors.v[1], "cannot create dl1-1: "
	    "ec2: InsufficientInstanceCapacity", 54) == 0);
	T_EQ_INT(st.nerrors, 2);
	stack_close(&st);
	seen_release(&s);
}

static void
test_prices_as_data(void)
{
	cJSON *config = cJSON_Parse("{\"t3.nano\": 0.5}");
	cJSON *file = cJSON_Parse("{\"us-east-1\": {\"t3.nano\": 0.7, "
	    "\"eip\": 0.25}}");
	struct stack_prices pr = { "us-east-1", config, file };
	struct stack_prices none = { "xx-nowhere-1", NULL, NULL };
	cJSON *t, *r;
	int seen_config = 0, seen_file = 0;

	T_OK(stack_price(&pr, "t3.nano") == 0.5);
	T_OK(stack_price(&pr, "eip") == 0.25);
	T_OK(stack_price(&pr, "nat-gateway") == 0.045);
	T_OK(stack_price(&none, "t3.nano") == -1);
	T_EQ_STR(stack_prices_date(&none), "unknown");
	t = stack_prices_table(&pr);
	cJSON_ArrayForEach(r, t) {
		const char *k = cJSON_GetStringValue(cJSON_GetObjectItem(r,
		    "key"));
		const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(r,
		    "source"));
		if (strcmp(k, "t3.nano") == 0)
			seen_config = strcmp(src, "config") == 0;
		if (strcmp(k, "eip") == 0)
			seen_file = strcmp(src, "prices.json") == 0;
	}
	T_OK(seen_config);
	T_OK(seen_file);
	cJSON_Delete(t);
	{
		/* A running t3.nano at the config's price, a stopped one free. */
		cJSON *root = cJSON_Parse("{\"resources\":{"
		    "\"a\":{\"type\":\"instance\",\"status\":\"created\","
		    "\"attrs\":{\"instance_type\":\"t3.nano\",\"state\":"
		    "\"running\"}},"
		    "\"b\":{\"type\":\"instance\",\"status\":\"created\","
		    "\"attrs\":{\"instance_type\":\"t3.nano\",\"state\":"
		    "\"stopped\"}}}}");
		T_OK(stack_hourly_rate(&pr, root) == 0.5);
		cJSON_Delete(root);
	}
	cJSON_Delete(config);
	cJSON_Delete(file);
}

int
main(void)
{
	T_RUN(test_dry_run_plan);
	T_RUN(test_confirm_declined);
	T_RUN(test_confirm_cannot_ask_or_yes);
	T_RUN(test_errors_through_ui);
	T_RUN(test_prices_as_data);
	cJSON_Delete(state.root);
	T_DONE();
}
