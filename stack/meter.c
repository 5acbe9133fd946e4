/* meter.c: what a workspace's resources have really cost (stack.h, "what
 * was spent"). Each record keeps a meter, the billing classes it was seen
 * in and since when:
 *
 *	"meter": [[1764400000, "all"], [1764403600, "storage"], …]
 *
 * "all" bills every part of the record (an instance's compute, its public
 * IPv4 address and its root volume), "storage" only its storage (a stopped
 * instance's EBS volume), "none" nothing (terminated, deleted). EC2 bills
 * instance usage in the running state only, while EBS volumes are charged
 * whatever the instance's state ("Amazon EC2 instance state changes",
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html);
 * on-demand Linux instances per second with a minimum of 60 seconds each
 * time they enter the running state (https://aws.amazon.com/ec2/pricing/).
 *
 * Changes are recorded when mlsh makes them (a stop, a start, a terminate:
 * stack_meter_mark) and when it sees them (every save observes every
 * record): at the time AWS says — the instance's LaunchTime for a start,
 * the time in its StateTransitionReason ("User initiated (2026-12-01
 * 10:00:00 GMT)") for a stop or a terminate — when that lies between the
 * last change and now, else at now (an upper bound). When a record goes,
 * what it cost is kept in the state's ledger, so a `down` that was
 * interrupted and run again still reports the whole of it. */
#include "stack/stack.h"
#include "stack/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/state.h"

/* AWS's minimum charge each time an instance starts. */
#define MIN_RUN_S	60.0
/* Summaries of closed ledgers kept in the state. */
#define CLOSED_MAX	20

static const char *const bill_names[] = { "none", "storage", "all" };

double
stack_now(void)
{
	/* Tests move the clock without sleeping (never set otherwise). */
	const char *o = getenv("MLSH_TEST_CLOCK_OFFSET");

	return (double)time(NULL) + (o != NULL ? atof(o) : 0);
}

int
stack_bill_class(const char *state)
{
	static const char *const none[] = { "terminated", "shutting-down",
	    "deleted", "gone", "Deleting", NULL };
	static const char *const storage[] = { "stopped", "stopping",
	    "pending", "Stopped", "Stopping", "Pending", NULL };

	if (state == NULL)
		return STACK_BILL_ALL;		/* unknown: an upper bound */
	for (size_t i = 0; none[i] != NULL; i++)
		if (strcmp(state, none[i]) == 0)
			return STACK_BILL_NONE;
	for (size_t i = 0; storage[i] != NULL; i++)
		if (strcmp(state, storage[i]) == 0)
			return STACK_BILL_STORAGE;
	return STACK_BILL_ALL;
}

static int
bill_from_name(const char *s)
{
	for (int i = 0; i < 3; i++)
		if (s != NULL && strcmp(s, bill_names[i]) == 0)
			return i;
	return STACK_BILL_ALL;
}

/* "2026-12-01T10:00:00.000Z" (LaunchTime) or the "(2026-12-01 10:00:00
 * GMT)" of a StateTransitionReason (moto says UTC): unix time, or -1. */
static double
parse_time(const char *s, int reason)
{
	struct tm tm;
	const char *p;

	if (s == NULL)
		return -1;
	if (reason) {
		if ((p = strchr(s, '(')) == NULL)
			return -1;
		p++;
	} else
		p = s;
	memset(&tm, 0, sizeof tm);
	p = strptime(p, reason ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%dT%H:%M:%S",
	    &tm);
	if (p == NULL)
		return -1;
	if (reason && strncmp(p, " GMT", 4) != 0 && strncmp(p, " UTC", 4) != 0)
		return -1;
	return (double)timegm(&tm);
}

static void
meter_push(cJSON *m, double t, int bill)
{
	cJSON *e = cJSON_CreateArray();

	cJSON_AddItemToArray(e, cJSON_CreateNumber(t));
	cJSON_AddItemToArray(e, cJSON_CreateString(bill_names[bill]));
	cJSON_AddItemToArray(m, e);
}

static void
meter_last(const cJSON *m, double *t, int *bill)
{
	const cJSON *e = cJSON_GetArrayItem(m, cJSON_GetArraySize(m) - 1);

	*t = cJSON_GetNumberValue(cJSON_GetArrayItem(e, 0));
	if (isnan(*t))
		*t = 0;
	*bill = bill_from_name(cJSON_GetStringValue(cJSON_GetArrayItem(e, 1)));
}

/* Append bill to m unless it is the current one: at `when` when AWS's time
 * lies between the last change and now, else at now; never before the last
 * change (the clocks of mlsh and AWS may disagree). */
static void
meter_change(cJSON *m, int bill, double when, double now)
{
	double lt;
	int lb;

	if (cJSON_GetArraySize(m) == 0) {
		meter_push(m, when > 0 && when < now ? when : now, bill);
		return;
	}
	meter_last(m, &lt, &lb);
	if (lb == bill)
		return;
	if (!(when > lt && when <= now))
		when = now;
	meter_push(m, when < lt ? lt : when, bill);
}

/* Apply rec's current state to the meter m. */
static void
meter_apply(cJSON *m, const cJSON *rec, double now)
{
	int bill = stack_bill_class(stack_attr(rec, "state")), lb;
	double when = -1, lt;

	if (cJSON_GetArraySize(m) > 0) {
		/* Deleted stays deleted, whatever an older describe said. */
		meter_last(m, &lt, &lb);
		if (lb == STACK_BILL_NONE)
			return;
	}
	if (bill == STACK_BILL_ALL)
		when = parse_time(stack_attr(rec, "launch_time"), 0);
	else
		when = parse_time(stack_attr(rec, "state_reason"), 1);
	meter_change(m, bill, when, now);
}

/* A meter to read: rec's own, or for a record from an older state file
 * (no meter) one billed in full since it was created. Caller frees. */
static cJSON *
meter_copy(const cJSON *rec, double now)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(rec, "meter");
	cJSON *c;
	double created;

	if (cJSON_IsArray(m))
		return cJSON_Duplicate(m, 1);
	c = cJSON_CreateArray();
	created = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rec,
	    "created"));
	if (created > 0)
		meter_push(c, created < now ? created : now, STACK_BILL_ALL);
	return c;
}

static int
is_live(const cJSON *rec)
{
	const char *status = stack_attr(rec, "status");
	return status == NULL || strcmp(status, "created") == 0;
}

void
stack_meter_observe(cJSON *rec, double now)
{
	cJSON *m;

	if (!is_live(rec))
		return;
	m = meter_copy(rec, now);
	meter_apply(m, rec, now);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "meter");
	cJSON_AddItemToObject(rec, "meter", m);
}

void
stack_meter_mark(cJSON *rec, int bill, double now)
{
	cJSON *m;

	if (rec == NULL || !is_live(rec))
		return;
	m = meter_copy(rec, now);
	meter_change(m, bill, -1, now);
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "meter");
	cJSON_AddItemToObject(rec, "meter", m);
}

void
stack_meter_observe_all(cJSON *resources, double now)
{
	cJSON *rec;

	cJSON_ArrayForEach(rec, resources)
		stack_meter_observe(rec, now);
}

/* Seconds billed in full and for storage only in m until now; a running
 * span of an instance counts at least MIN_RUN_S. */
static void
meter_seconds(const cJSON *m, double now, double min_run, double *all,
    double *storage)
{
	int n = cJSON_GetArraySize(m);

	*all = *storage = 0;
	for (int i = 0; i < n; i++) {
		const cJSON *e = cJSON_GetArrayItem(m, i);
		const cJSON *nx = cJSON_GetArrayItem(m, i + 1);
		double t = cJSON_GetNumberValue(cJSON_GetArrayItem(e, 0));
		double end = nx != NULL ?
		    cJSON_GetNumberValue(cJSON_GetArrayItem(nx, 0)) : now;
		double d = end - t;
		int bill = bill_from_name(cJSON_GetStringValue(
		    cJSON_GetArrayItem(e, 1)));

		if (isnan(d) || d < 0)
			d = 0;		/* a clock that went back */
		if (bill == STACK_BILL_ALL)
			*all += d < min_run ? min_run : d;
		else if (bill == STACK_BILL_STORAGE)
			*storage += d;
	}
}

double
stack_rec_spent(const struct stack_prices *pr, const cJSON *rec, double now,
    struct stack_spent *out)
{
	struct stack_spent sp;
	const struct stack_type *t = stack_type_find(stack_attr(rec, "type"));
	int instance = t != NULL && strcmp(t->name, "instance") == 0;
	double all_s, storage_s;
	cJSON *m;

	memset(&sp, 0, sizeof sp);
	if (is_live(rec)) {
		m = meter_copy(rec, now);
		meter_apply(m, rec, now);
		meter_seconds(m, now, instance ? MIN_RUN_S : 0, &all_s,
		    &storage_s);
		cJSON_Delete(m);
		sp.all_h = all_s / 3600;
		sp.storage_h = storage_s / 3600;
		sp.n = stack_rec_parts_all(pr, rec, sp.parts);
	}
	for (size_t i = 0; i < sp.n; i++) {
		struct stack_cost_part *p = &sp.parts[i];
		double h = p->storage ? sp.all_h + sp.storage_h : sp.all_h;
		p->usd = p->usd_per_hour < 0 ? -1 : p->usd_per_hour * h;
		if (p->usd < 0)
			sp.unknown = 1;
		else
			sp.usd += p->usd;
	}
	if (out != NULL)
		*out = sp;
	return sp.unknown ? -1 : sp.usd;
}

/* --- the ledger: what removed resources cost --- */

static cJSON *
ledger(struct stack *st, const char *key)
{
	cJSON *l = cJSON_GetObjectItemCaseSensitive(st->state->root, "ledger");
	cJSON *a;

	if (!cJSON_IsObject(l)) {
		cJSON_DeleteItemFromObjectCaseSensitive(st->state->root,
		    "ledger");
		l = cJSON_AddObjectToObject(st->state->root, "ledger");
	}
	a = cJSON_GetObjectItemCaseSensitive(l, key);
	if (!cJSON_IsArray(a)) {
		cJSON_DeleteItemFromObjectCaseSensitive(l, key);
		a = cJSON_AddArrayToObject(l, key);
	}
	return a;
}

double
stack_ledger_add(struct stack *st, const char *role, cJSON *rec)
{
	double now = stack_now(), usd;
	struct stack_spent sp;
	cJSON *e, *parts;
	const char *v;

	/* Gone at the time AWS gives, else now. */
	stack_meter_observe(rec, now);
	stack_meter_mark(rec, STACK_BILL_NONE, now);
	usd = stack_rec_spent(&st->prices, rec, now, &sp);
	if (st->dry_run || (usd == 0 && !sp.unknown))
		return usd;		/* free: VPC, subnets, groups … */
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "role", role);
	cJSON_AddStringToObject(e, "type", (v = stack_attr(rec, "type")) ?
	    v : "-");
	cJSON_AddStringToObject(e, "id", (v = stack_attr(rec, "id")) ? v : "-");
	v = stack_attr(rec, "instance_type");
	if (v == NULL)
		v = stack_attr(rec, "price_key");
	cJSON_AddStringToObject(e, "what", v ? v : stack_attr(e, "type"));
	cJSON_AddNumberToObject(e, "removed", now);
	cJSON_AddNumberToObject(e, "running_h", sp.all_h);
	cJSON_AddNumberToObject(e, "stopped_h", sp.storage_h);
	json_add_usd(e, "usd", usd);
	parts = cJSON_AddArrayToObject(e, "parts");
	for (size_t i = 0; i < sp.n; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "what", sp.parts[i].what);
		cJSON_AddStringToObject(p, "suffix", sp.parts[i].suffix);
		json_add_usd(p, "usd", sp.parts[i].usd);
		cJSON_AddItemToArray(parts, p);
	}
	cJSON_AddItemToArray(ledger(st, "removed"), e);
	return usd;
}

cJSON *
stack_ledger_removed(struct stack *st)
{
	return ledger(st, "removed");
}

double
stack_ledger_total(struct stack *st, int *n, int *unknown)
{
	const cJSON *e;
	double sum = 0;

	*n = 0;
	cJSON_ArrayForEach(e, ledger(st, "removed")) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "usd");
		(*n)++;
		if (cJSON_IsNumber(u))
			sum += u->valuedouble;
		else
			*unknown = 1;
	}
	return sum;
}

/* What every closed session cost: ledger.closed_usd, else (a state from
 * before it was kept) the sum of the closed summaries there are. */
static double
closed_total(const cJSON *root)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "ledger");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(l, "closed_usd"), *e;
	double sum = 0;

	if (cJSON_IsNumber(t))
		return t->valuedouble;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l, "closed")) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "usd");
		if (cJSON_IsNumber(u))
			sum += u->valuedouble;
	}
	return sum;
}

void
stack_ledger_close(struct stack *st)
{
	cJSON *closed, *o;
	int n, unknown = 0;
	double sum, prior;

	if (st->dry_run || cJSON_GetArraySize(st->resources) > 0 ||
	    cJSON_GetArraySize(ledger(st, "removed")) == 0)
		return;
	sum = stack_ledger_total(st, &n, &unknown);
	/* The sum of every closed session, kept past CLOSED_MAX: a budget
	 * counts the workspace's whole life. */
	prior = closed_total(st->state->root);
	closed = ledger(st, "closed");
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    st->state->root, "ledger"), "closed_usd");
	cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(
	    st->state->root, "ledger"), "closed_usd", prior + sum);
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "closed", stack_now());
	cJSON_AddNumberToObject(o, "resources", n);
	json_add_usd(o, "usd", sum);
	if (unknown)
		cJSON_AddTrueToObject(o, "some_prices_unknown");
	cJSON_AddItemToArray(closed, o);
	while (cJSON_GetArraySize(closed) > CLOSED_MAX)
		cJSON_DeleteItemFromArray(closed, 0);
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    st->state->root, "ledger"), "removed");
	stack_save(st);
}

/* --- the budget --- */

#define BUDGET_WARN	0.8	/* warn from this share of the budget on */

double
stack_budget(const cJSON *root)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(root, "budget"), "usd");

	return cJSON_IsNumber(u) && u->valuedouble > 0 ? u->valuedouble : -1;
}

void
stack_budget_set(cJSON *root, double usd)
{
	cJSON *b;

	cJSON_DeleteItemFromObjectCaseSensitive(root, "budget");
	if (usd <= 0)
		return;
	b = cJSON_AddObjectToObject(root, "budget");
	json_add_usd(b, "usd", usd);
	cJSON_AddNumberToObject(b, "set", stack_now());
}

double
stack_spent_total(const struct stack_prices *pr, const cJSON *root,
    double now, int *unknown)
{
	const cJSON *rec, *e, *l = cJSON_GetObjectItemCaseSensitive(root,
	    "ledger");
	double sum = closed_total(root);
	struct stack_spent sp;

	cJSON_ArrayForEach(rec, cJSON_GetObjectItemCaseSensitive(root,
	    "resources")) {
		stack_rec_spent(pr, rec, now, &sp);
		sum += sp.usd;
		if (sp.unknown)
			*unknown = 1;
	}
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(l, "removed")) {
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "usd");
		if (cJSON_IsNumber(u))
			sum += u->valuedouble;
		else
			*unknown = 1;
	}
	return sum;
}

cJSON *
stack_budget_json(const struct stack_prices *pr, const cJSON *root,
    double now)
{
	double b = stack_budget(root), spent, rate;
	int unknown = 0;
	cJSON *o;

	if (b < 0)
		return NULL;
	spent = stack_spent_total(pr, root, now, &unknown);
	rate = stack_hourly_rate(pr, root);
	o = cJSON_CreateObject();
	json_add_usd(o, "usd", b);
	json_add_usd(o, "spent_usd", spent);
	json_add_usd(o, "left_usd", b > spent ? b - spent : 0);
	cJSON_AddNumberToObject(o, "percent", round(spent / b * 1000) / 10);
	json_add_usd(o, "usd_per_hour", rate);
	if (rate > 0)
		cJSON_AddNumberToObject(o, "hours_left", b > spent ?
		    round((b - spent) / rate * 100) / 100 : 0);
	else
		cJSON_AddNullToObject(o, "hours_left");
	cJSON_AddBoolToObject(o, "some_prices_unknown", unknown);
	return o;
}

/* "3.5 h", "2 d 4 h": how long money lasts. */
static void
hours_text(double h, char *buf, size_t n)
{
	if (h < 48)
		snprintf(buf, n, "%.1f h", h);
	else
		snprintf(buf, n, "%.0f d %.0f h", floor(h / 24),
		    fmod(floor(h), 24));
}

int
stack_budget_check(struct stack *st, double adding)
{
	const cJSON *root = st->state->root;
	double b = stack_budget(root), spent, rate;
	int unknown = 0;
	char left[32];

	if (b < 0)
		return 0;
	spent = stack_spent_total(&st->prices, root, stack_now(), &unknown);
	rate = stack_hourly_rate(&st->prices, root) + (adding > 0 ? adding : 0);
	if (spent >= b && !st->over_budget && !st->dry_run)
		return stack_error(st, "over budget: workspace '%s' has spent "
		    "$%.2f of its $%.2f; --over-budget starts it anyway, `set "
		    "budget N` raises it", st->ws, spent, b);
	if (spent >= b) {
		stack_warn(st, "%s: warning: over budget: workspace '%s' has "
		    "spent $%.2f of its $%.2f%s", stack_cmd(st), st->ws, spent,
		    b, st->dry_run ? " (without --over-budget a real run "
		    "stops here)" : "");
		return 0;
	}
	hours_text(rate > 0 ? (b - spent) / rate : 0, left, sizeof left);
	if (spent >= BUDGET_WARN * b)
		stack_warn(st, "%s: warning: workspace '%s' has spent $%.2f "
		    "of its $%.2f budget (%.0f%%)", stack_cmd(st), st->ws,
		    spent, b, spent / b * 100);
	stack_note(st, "%s: budget: $%.2f of $%.2f left%s%s%s", stack_cmd(st),
	    b - spent, b, rate > 0 ? ", " : "", rate > 0 ? left : "",
	    rate > 0 ? " at the new rate" : "");
	return 0;
}
