/* Unit tests: what a resource really cost, from the billing classes its
 * meter recorded (stack/meter.c): start, stop, start, terminate; unknown
 * states; clocks that disagree; a record read back from the state file or
 * from an older one without a meter; the ledger of removed resources. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stack/stack.h"
#include "lib/state.h"
#include "unit.h"

static const struct stack_prices us_east = { .region = "us-east-1" };
/* dl1.24xlarge, and its 100 GB gp3 root volume per hour */
#define DL1	13.11
#define EBS	(100 * 0.08 / 730)

#define T_NEAR(a, b) do {						\
	double t_x = (a), t_y = (b);					\
	if (!(fabs(t_x - t_y) < 1e-9))					\
		T_FAIL("%s == %.12g, expected %.12g", #a, t_x, t_y);	\
} while (0)

/* "1970-01-01T00:17:30.000Z" for 1050 */
static char *
iso(double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char b[40];

	gmtime_r(&s, &tm);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	return xstrdup(b);
}

static char *
reason(double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char b[64];

	gmtime_r(&s, &tm);
	strftime(b, sizeof b, "User initiated (%Y-%m-%d %H:%M:%S GMT)", &tm);
	return xstrdup(b);
}

static cJSON *
node(const char *state)
{
	cJSON *r = cJSON_Parse("{\"type\":\"instance\",\"status\":\"created\","
	    "\"created\":1000,\"meter\":[],\"attrs\":{\"instance_type\":"
	    "\"dl1.24xlarge\",\"disk_gb\":\"100\",\"disk_type\":\"gp3\"}}");

	if (state != NULL)
		cJSON_AddStringToObject(cJSON_GetObjectItem(r, "attrs"),
		    "state", state);
	return r;
}

static void
set(cJSON *rec, const char *key, char *value)
{
	cJSON *at = cJSON_GetObjectItem(rec, "attrs");

	cJSON_DeleteItemFromObject(at, key);
	if (value != NULL)
		cJSON_AddStringToObject(at, key, value);
	free(value);
}

static int
meter_n(const cJSON *rec)
{
	return cJSON_GetArraySize(cJSON_GetObjectItem(rec, "meter"));
}

static double
meter_t(const cJSON *rec, int i)
{
	return cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(rec,
	    "meter"), i), 0)->valuedouble;
}

static const char *
meter_bill(const cJSON *rec, int i)
{
	return cJSON_GetArrayItem(cJSON_GetArrayItem(cJSON_GetObjectItem(rec,
	    "meter"), i), 1)->valuestring;
}

static void
test_start_stop_start_terminate(void)
{
	cJSON *r = node("pending");
	struct stack_spent sp;
	double usd;

	stack_meter_observe(r, 1000);		/* RunInstances: pending */
	T_EQ_INT(meter_n(r), 1);
	T_EQ_STR(meter_bill(r, 0), "storage");
	set(r, "state", xstrdup("running"));
	set(r, "launch_time", iso(1050));
	stack_meter_observe(r, 1100);		/* running since LaunchTime */
	T_EQ_INT(meter_n(r), 2);
	T_NEAR(meter_t(r, 1), 1050);
	stack_meter_observe(r, 2000);		/* no change, nothing added */
	T_EQ_INT(meter_n(r), 2);
	stack_meter_mark(r, STACK_BILL_STORAGE, 4650);	/* node stop: 1 h */
	set(r, "state", xstrdup("stopped"));
	set(r, "state_reason", reason(4640));	/* before the mark: ignored */
	stack_meter_observe(r, 5000);
	T_EQ_INT(meter_n(r), 3);
	set(r, "state", xstrdup("running"));	/* started: LaunchTime 8250 */
	set(r, "launch_time", iso(8250));
	stack_meter_observe(r, 8300);
	T_NEAR(meter_t(r, 3), 8250);
	stack_meter_mark(r, STACK_BILL_NONE, 10050);	/* terminate: 0.5 h */
	set(r, "state", xstrdup("running"));	/* an older describe */
	stack_meter_observe(r, 10100);		/* deleted stays deleted */
	T_EQ_INT(meter_n(r), 5);
	T_EQ_STR(meter_bill(r, 4), "none");

	usd = stack_rec_spent(&us_east, r, 99999, &sp);
	T_NEAR(sp.all_h, 1.5);
	T_NEAR(sp.storage_h, (50 + 3600) / 3600.0);
	T_EQ_INT(sp.n, 2);			/* compute, root volume */
	T_NEAR(sp.parts[0].usd, DL1 * 1.5);
	T_NEAR(sp.parts[1].usd, EBS * (1.5 + 3650 / 3600.0));
	T_NEAR(usd, DL1 * 1.5 + EBS * (1.5 + 3650 / 3600.0));
	T_OK(!sp.unknown);
	cJSON_Delete(r);
}

static void
test_stopped_costs_storage_only(void)
{
	cJSON *r = node("running");
	struct stack_cost_part cur[STACK_COST_PARTS];
	struct stack_spent sp;

	stack_meter_observe(r, 1000);
	stack_meter_mark(r, STACK_BILL_STORAGE, 1000 + 3600);
	set(r, "state", xstrdup("stopped"));
	/* two hours stopped: no compute, the volume all three */
	stack_rec_spent(&us_east, r, 1000 + 3 * 3600, &sp);
	T_NEAR(sp.parts[0].usd, DL1);
	T_NEAR(sp.parts[1].usd, EBS * 3);
	/* its rate now: $0 compute, the volume's */
	T_NEAR(stack_rec_hourly(&us_east, r), EBS);
	T_EQ_INT(stack_rec_parts(&us_east, r, cur), 2);
	T_NEAR(cur[0].usd_per_hour, 0);
	cJSON_Delete(r);
}

static void
test_minimum_minute(void)
{
	cJSON *r = node("running");
	struct stack_spent sp;

	stack_meter_observe(r, 1000);
	stack_meter_mark(r, STACK_BILL_STORAGE, 1010);	/* ran 10 s */
	set(r, "state", xstrdup("stopped"));
	stack_rec_spent(&us_east, r, 1010, &sp);
	T_NEAR(sp.all_h, 60 / 3600.0);
	cJSON_Delete(r);
}

static void
test_unknown_state(void)
{
	cJSON *r = node(NULL);
	struct stack_spent sp;

	/* No state, or one mlsh does not know: billed in full (an upper
	 * bound, never $0). */
	T_EQ_INT(stack_bill_class(NULL), STACK_BILL_ALL);
	T_EQ_INT(stack_bill_class("rebooting-somehow"), STACK_BILL_ALL);
	T_EQ_INT(stack_bill_class("stopping"), STACK_BILL_STORAGE);
	T_EQ_INT(stack_bill_class("shutting-down"), STACK_BILL_NONE);
	stack_meter_observe(r, 1000);
	T_EQ_STR(meter_bill(r, 0), "all");
	stack_rec_spent(&us_east, r, 1000 + 3600, &sp);
	T_NEAR(sp.all_h, 1);
	/* An unknown price: -1, the known parts still summed. */
	{
		struct stack_prices nowhere = { .region = "xx-nowhere-1" };
		T_NEAR(stack_rec_spent(&nowhere, r, 1000 + 3600, &sp), -1);
		T_OK(sp.unknown);
	}
	cJSON_Delete(r);
}

static void
test_clock_skew(void)
{
	cJSON *r = node("pending");
	struct stack_spent sp;

	stack_meter_observe(r, 1000);
	/* AWS's clock ahead of ours: a LaunchTime after now is not used. */
	set(r, "state", xstrdup("running"));
	set(r, "launch_time", iso(5000));
	stack_meter_observe(r, 2000);
	T_NEAR(meter_t(r, 1), 2000);
	/* A stop reason dated before the last change: at now instead. */
	set(r, "state", xstrdup("stopped"));
	set(r, "state_reason", reason(1500));
	stack_meter_observe(r, 3000);
	T_NEAR(meter_t(r, 2), 3000);
	/* Our clock went back: never before the last change, and no
	 * negative spans. */
	set(r, "state", xstrdup("running"));
	set(r, "launch_time", NULL);
	stack_meter_observe(r, 2500);
	T_NEAR(meter_t(r, 3), 3000);
	stack_rec_spent(&us_east, r, 2900, &sp);
	T_NEAR(sp.all_h, 1000 / 3600.0 + 60 / 3600.0);	/* + the minimum */
	T_NEAR(sp.storage_h, 1000 / 3600.0);
	/* A reason that is no time at all is ignored. */
	set(r, "state", xstrdup("stopped"));
	set(r, "state_reason", xstrdup("Server.ScheduledStop: (soon)"));
	stack_meter_observe(r, 4000);
	T_NEAR(meter_t(r, 4), 4000);
	cJSON_Delete(r);
}

static void
test_restored_from_state(void)
{
	cJSON *r = node("running"), *back;
	char *text;
	struct stack_spent a, b;

	stack_meter_observe(r, 1000);
	stack_meter_mark(r, STACK_BILL_STORAGE, 4600);
	set(r, "state", xstrdup("stopped"));
	stack_meter_observe(r, 4600);
	/* After mlsh restarts: the record read back from the file. */
	text = cJSON_PrintUnformatted(r);
	back = cJSON_Parse(text);
	free(text);
	stack_rec_spent(&us_east, r, 9000, &a);
	stack_rec_spent(&us_east, back, 9000, &b);
	T_NEAR(a.all_h, b.all_h);
	T_NEAR(a.storage_h, b.storage_h);
	T_NEAR(a.parts[1].usd, b.parts[1].usd);
	set(back, "state", xstrdup("running"));
	stack_meter_observe(back, 9000);	/* started while mlsh was off */
	stack_rec_spent(&us_east, back, 9000 + 3600, &b);
	T_NEAR(b.all_h, 2);
	T_NEAR(b.storage_h, 4400 / 3600.0);
	cJSON_Delete(r);
	cJSON_Delete(back);

	/* A record of an older state file (no meter): billed in full since
	 * created, stopped at the time its StateTransitionReason gives. */
	r = node("stopped");
	cJSON_DeleteItemFromObject(r, "meter");
	set(r, "state_reason", reason(1000 + 1800));
	stack_rec_spent(&us_east, r, 1000 + 1800 + 3600, &a);
	T_NEAR(a.all_h, 0.5);
	T_NEAR(a.storage_h, 1);
	T_EQ_INT(meter_n(r), 0);		/* reading changes nothing */
	stack_meter_observe(r, 1000 + 1800 + 3600);
	T_EQ_INT(meter_n(r), 2);
	T_NEAR(meter_t(r, 1), 2800);
	cJSON_Delete(r);
}

static void
test_ledger(void)
{
	char dir[] = "/tmp/mlsh-meter.XXXXXX";
	struct state *s = NULL;
	char *cause = NULL;
	struct stack st;
	struct stack_env env = { .region = "us-east-1" };
	cJSON *res, *rec;
	int n, unknown = 0;
	double usd, total;

	T_OK(mkdtemp(dir) != NULL);
	T_EQ_INT(state_open(dir, "t", 0, NULL, &s, &cause), 0);
	if (s == NULL) {
		free(cause);
		return;
	}
	env.state = s;
	stack_begin(&st, &env, NULL, NULL);
	res = st.resources;
	rec = node("running");
	cJSON_AddItemToObject(res, "dl1-1", rec);
	cJSON_AddItemToObject(res, "vpc", cJSON_Parse("{\"type\":\"vpc\","
	    "\"status\":\"created\",\"created\":1000,\"attrs\":{\"state\":"
	    "\"available\"}}"));
	stack_meter_observe(rec, stack_now() - 3600);
	/* Removed: what it cost stays; a free VPC leaves no entry. */
	usd = stack_ledger_add(&st, "dl1-1", rec);
	T_OK(fabs(usd - (DL1 + EBS)) < 0.01);
	cJSON_DeleteItemFromObject(res, "dl1-1");
	T_EQ_INT(stack_ledger_add(&st, "vpc", cJSON_GetObjectItem(res, "vpc")),
	    0);
	total = stack_ledger_total(&st, &n, &unknown);
	T_EQ_INT(n, 1);
	T_OK(fabs(total - usd) < 1e-6 && !unknown);
	/* It survives a save and a fresh open (an interrupted down). */
	T_EQ_INT(stack_save(&st), 0);
	stack_close(&st);
	state_close(s);
	s = NULL;
	T_EQ_INT(state_open(dir, "t", 0, NULL, &s, &cause), 0);
	env.state = s;
	stack_begin(&st, &env, NULL, NULL);
	T_OK(stack_ledger_total(&st, &n, &unknown) == total && n == 1);
	/* Closed once the workspace is empty. */
	stack_ledger_close(&st);
	T_EQ_INT(cJSON_GetArraySize(stack_ledger_removed(&st)), 1);
	cJSON_DeleteItemFromObject(st.resources, "vpc");
	stack_ledger_close(&st);
	T_EQ_INT(cJSON_GetArraySize(stack_ledger_removed(&st)), 0);
	stack_close(&st);
	state_close(s);
	free(cause);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);
		T_EQ_INT(system(cmd), 0);
		free(cmd);
	}
}

int
main(void)
{
	unsetenv("MLSH_TEST_CLOCK_OFFSET");
	T_RUN(test_start_stop_start_terminate);
	T_RUN(test_stopped_costs_storage_only);
	T_RUN(test_minimum_minute);
	T_RUN(test_unknown_state);
	T_RUN(test_clock_skew);
	T_RUN(test_restored_from_state);
	T_RUN(test_ledger);
	T_DONE();
}
