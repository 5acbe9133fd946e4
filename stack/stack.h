/* stack.h: the domain layer the stack builtins share (vpc, efs, node,
 * notebook, grafana, status, cost, down): resource records with a journal
 * in the workspace state, tags, plans for --dry-run, parallel creates,
 * waits, deletes in dependency order, prices, and the table of resource
 * types (rows of data in stack/types.c). It knows nothing of the terminal, the shell or
 * Lua: the caller hands it
 *
 *	struct stack_env	the state, the AWS client, the region, price
 *				overrides as data (cJSON), a hook for gone
 *				instances;
 *	struct stack_opts	dry_run, yes, force, sequential, json;
 *	struct stack_ui		callbacks: error, warn, note (a line for the
 *				user: summaries, prices), progress (the
 *				status line), confirm (a y/N question).
 *
 * builtins/stackcmd.h fills the three from a command's context and args
 * (stack_open) with cmd_error, shell_warn and shell/ui.h. A command that
 * builds part of the stack reads:
 *
 *	struct stack st;
 *	if (stack_open(ctx, a, &st) != 0)		// builtins/stackcmd.h
 *		return 1;
 *	const char *subnet = stack_need(&st, "subnet-private", "vpc up");
 *	if (subnet == NULL) { stack_close(&st); return 1; }
 *	struct stack_price_item pi[] = { { "dl1-1", "dl1.24xlarge", 1 } };
 *	if (stack_confirm_price(&st, pi, 1) != 0) …	// a note, may ask
 *	struct stack_create c = {
 *		.role = "dl1-1", .type = "instance",
 *		.service = "ec2", .action = "RunInstances", .params = p,
 *		.token_member = "ClientToken", .tag_style = STACK_TAG_SPEC,
 *		.tag_type = "instance", .item_path = "instancesSet.0",
 *		.id_key = "instanceId", .attrs = stack_instance_attrs,
 *		.summary = "dl1.24xlarge in subnet-…",
 *	};
 *	if (stack_create_many(&st, &c, 1) != 0) …	// error already reported
 *	stack_wait_state(&st, "dl1-1", "running", 900);
 *	*result = stack_result(&st);			// created / existing / plan
 *	stack_close(&st);
 *
 * Errors: every function returning int gives 0 on success and -1 after
 * reporting one line through ui.error (no command prefix: the caller adds
 * it), so an exec can just `return 1`. A failed AWS call also leaves its
 * structured error in st->fail (code, message) for callers that branch on
 * it (st->fail.code "InsufficientInstanceCapacity"): never on the text.
 * st->nerrors counts the lines reported, so a caller can tell "failed"
 * from "found nothing" without reading them.
 *
 * Nothing here prints, reads stdin, checks a tty or reads the shell's
 * globals: the Ctrl-C check is the AWS client's interrupted hook
 * (aws_sleep, aws_wait).
 *
 * The state (env.state->root):
 *
 *	"resources": {			// keyed by role, one record each
 *	  "vpc": {
 *	    "role": "vpc", "type": "vpc", "id": "vpc-0abc",
 *	    "region": "us-east-1", "created": 1764400000,	// unix time
 *	    "status": "created",	// or "pending": intent journaled, id
 *					// not known yet (a crash in between)
 *	    "token": "mlsh-msls-vpc-5f3a…",	// idempotency token / marker
 *	    "attrs": { "cidr": "10.0.0.0/16", "state": "available", … },
 *	    "steps": { "dns-hostnames": true, … }	// follow-up calls done
 *	  }, …
 *	}
 *
 * Conventional attrs (status, cost and the prompt read them): "state",
 * "az", "private_ip", "public_ip", "instance_type" (also the price key of
 * an instance or a notebook), "price_key" (any other priced resource:
 * "nat-gateway", "eip", "efs-gb-month" …), "name" (IAM and SageMaker
 * resources whose id is a name), "parent" (a role this one hangs off).
 *
 * Roles `vpc up` records (others build on them): "vpc", "subnet-public",
 * "subnet-private", "igw", "rt-public", "rt-private", "eip", "nat",
 * "sg-jump" (22 from --allow), "sg-nodes" (22 from sg-jump, all from
 * sg-nodes), "sg-notebook" (22 from sg-jump), "sg-grafana" (22 and 3000
 * from sg-jump), "sg-efs" (2049 from sg-nodes and sg-notebook), "key" (the
 * key pair: id = key name),
 * "jump" (type "instance"). `efs up`: "efs" (attrs "dns_name"),
 * "mount-target". Nodes and grafana are type "instance" too (already in
 * stack/types.c); roles "dl1-1", "p3-1", "grafana" ….
 *
 * Journal: stack_create_many records every create as a pending intent with
 * its token and saves the state (atomic) BEFORE the call, and the id right
 * after it. On the next run a pending intent is resolved before anything is
 * created: the type's list function finds what carries the workspace's tags
 * (`mlsh:workspace` = workspace, `Name` = <workspace>-<role>); found, it is
 * adopted; not found, the create is sent again with the same token. So a
 * kill -9 anywhere in an `up` and a re-run leave exactly one of each. A
 * create refused as a duplicate (*Duplicate, *AlreadyExists: e.g. a key
 * pair left by a lost state file) is resolved the same way and adopted
 * when it carries the workspace's tags.
 *
 * Dry run: with --dry-run every create, step, delete and wait is appended
 * to the plan instead of being sent, on a private copy of the resources
 * (ids not yet known read "<role>"), and the state file is never written.
 */
#ifndef MLSH_STACK_H
#define MLSH_STACK_H

#include <cjson/cJSON.h>
#include "aws/aws.h"
#include "lib/util.h"

struct state;
struct mlsh_ctx;

/* Prices as data: the built-in table for region, under two layers of
 * overrides ({key: $/h}); each may be NULL. */
struct stack_prices {
	const char *region;
	const cJSON *config;		/* the user's configuration: source
					 * "config" */
	const cJSON *file;		/* prices.json: {"region": {key: $/h}}
					 * or flat; source "prices.json" */
};

struct stack_opts {
	int dry_run;			/* plan, send nothing, save nothing */
	int yes;			/* no price question */
	int force;			/* the caller's --force */
	int sequential;			/* no parallel calls (benchmarks) */
	int json;			/* output is JSON: no dry-run summary */
	int over_budget;		/* start even past the budget */
};

/* How the engine talks to the user. Every callback may be NULL (then the
 * line is dropped; confirm: "cannot ask"). Lines never end in a newline. */
struct stack_ui {
	void *arg;
	const char *cmd;		/* "vpc": names warnings and summaries */
	const char *sub;		/* "up", or NULL */
	void (*error)(void *arg, const char *line);
	void (*warn)(void *arg, const char *line);
	void (*note)(void *arg, const char *line);
	/* The status line: done == 0 shows or replaces it (throttled in
	 * logs); done != 0 ends it, then prints line (may be NULL). */
	void (*progress)(void *arg, int done, const char *line);
	/* 1 yes, 0 no, -1 no question can be asked (a script). */
	int (*confirm)(void *arg, const char *question);
};

struct stack_env {
	struct state *state;		/* open and locked by the caller */
	struct aws_client *aws;
	const char *region;
	struct stack_prices prices;	/* region NULL: env.region */
	/* An instance was terminated (its host key pins can go). */
	void (*instance_gone)(void *arg, const char *instance_id);
	void *arg;
};

/* One command's view of the workspace's stack. */
struct stack {
	struct mlsh_ctx *ctx;		/* the caller's own, carried for it:
					 * the engine never reads it */
	struct stack_env env;
	struct stack_ui ui;
	struct stack_prices prices;	/* env.prices, its region filled in */
	struct state *state;		/* = env.state */
	struct aws_client *aws;		/* = env.aws */
	const char *ws;			/* workspace name */
	const char *region;
	int dry_run;			/* from stack_opts */
	int yes;
	int force;
	int sequential;
	int json;
	int over_budget;
	cJSON *resources;		/* the state's "resources" object, or a
					 * private copy when dry_run */
	cJSON *plan;			/* array of {"step","action","role","params"} */
	cJSON *created;			/* roles created by this command */
	cJSON *existing;		/* roles found already there */
	cJSON *removed;			/* roles deleted by this command */
	int ncalls;			/* AWS calls sent by this command */
	struct aws_error fail;		/* the last AWS failure stack_fail
					 * reported (code NULL: none) */
	int nerrors;			/* lines reported through ui.error */
	double started_ms;
};

/* Begin a command on the stack: copies env, opts (may be NULL) and ui
 * (may be NULL). The state must be open. */
void stack_begin(struct stack *, const struct stack_env *,
    const struct stack_opts *, const struct stack_ui *);
void stack_close(struct stack *);

/* Report one line through ui.error (st->nerrors counts it). -1. */
int stack_error(struct stack *, const char *fmt, ...) MLSH_PRINTF(2, 3);
/* "<cmd>: warning: …" lines go through ui.warn; the caller writes the
 * whole line, prefix included. */
void stack_warn(struct stack *, const char *fmt, ...) MLSH_PRINTF(2, 3);
/* A line for the user through ui.note. */
void stack_note(struct stack *, const char *fmt, ...) MLSH_PRINTF(2, 3);
/* The running command's name for messages ("vpc"; "stack" when none). */
const char *stack_cmd(const struct stack *);

/* Save the state (no-op in a dry run). -1 after stack_error. */
int stack_save(struct stack *);

/* The result of an up/down: {"created":[roles], "existing":[roles],
 * "removed":[roles], "calls":N} or, in a dry run, the plan as a table.
 * Notes the one-line summary. Caller owns it. */
cJSON *stack_result(struct stack *);

/* --- records --- */

/* The record of role, or NULL. Borrowed. */
cJSON *stack_rec(struct stack *, const char *role);
/* The id of role when created (NULL when absent or still pending), except
 * in a dry run, where a planned resource reads "<role>". Borrowed. */
const char *stack_id(struct stack *, const char *role);
/* Like stack_id, but an absent role is an error that names the command to
 * run first: "no subnet-private in workspace 'msls'; run 'vpc up' first". */
const char *stack_need(struct stack *, const char *role, const char *run_first);
/* String attribute of a record (NULL when none). Borrowed. */
const char *stack_attr(const cJSON *rec, const char *key);
/* rec's "attrs" object, made when it has none. Borrowed. */
cJSON *stack_rec_attrs(cJSON *rec);
/* Set a string (or, with value NULL, remove) attribute of role's record. */
void stack_set_attr(struct stack *, const char *role, const char *key,
    const char *value);
/* Record a resource as created (id known), replacing any pending intent,
 * and save. Returns the record (borrowed). */
cJSON *stack_record(struct stack *, const char *role, const char *type,
    const char *id);
/* Forget role's record (after its delete) and save. */
int stack_forget(struct stack *, const char *role);
/* Roles of the workspace, in the order of the types table's delete order
 * (descending when reverse). The caller releases the list. */
void stack_roles(struct stack *, int reverse, struct strlist *out);
/* The same order with each role's record: an array of n (caller frees it;
 * roles and records are borrowed from st->resources). */
struct stack_role_rec {
	const char *role;
	cJSON *rec;
	int order;			/* the type's delete order */
};
struct stack_role_rec *stack_records(struct stack *, int reverse, size_t *n);

/* Tags every resource carries: [{"Key":"mlsh:workspace","Value":ws},
 * {"Key":"Name","Value":"ws-role"}]. Caller owns it. */
cJSON *stack_tags(struct stack *, const char *role);
/* "<ws>-<role>", the Name tag. Caller frees. */
char *stack_name(struct stack *, const char *role);

/* --- creates --- */

enum stack_tag_style {
	STACK_TAG_SPEC,		/* EC2 TagSpecifications with tag_type */
	STACK_TAG_AFTER,	/* EC2 CreateTags right after the create */
	STACK_TAG_LIST,		/* "Tags": [{"Key","Value"}] in the params
				 * (IAM, EFS, SageMaker) */
	STACK_TAG_NONE,
};

struct stack_create {
	const char *role;		/* "subnet-public", "dl1-1" */
	const char *type;		/* a type name (stack/types.c) */
	const char *service;		/* "ec2" */
	const char *action;		/* "CreateSubnet" */
	cJSON *params;			/* taken: stack_create_many frees it */
	const char *token_member;	/* "ClientToken", "CreationToken", or
					 * NULL when the action takes none */
	enum stack_tag_style tag_style;
	const char *tag_type;		/* STACK_TAG_SPEC: "subnet", "vpc" … */
	const char *item_path;		/* where the created object is in the
					 * response: "subnet", "instancesSet.0";
					 * "" for the response itself */
	const char *id_key;		/* its id member: "subnetId" */
	/* Copy attributes from the created object (or, when an intent is
	 * resolved, from the object the type's list function found) into
	 * attrs. May be NULL. */
	void (*attrs)(cJSON *attrs, const cJSON *item);
	const char *summary;		/* key parameters for the plan/output */
	const char *token;		/* a fixed token (EFS CreationToken from
					 * the workspace); NULL: a fresh one per
					 * intent, kept across re-runs */
	/* out */
	int skipped;			/* it already existed */
};

/* Create what is not there yet, in parallel (aws_call_many) unless
 * sequential: resolve pending intents, journal every intent (one save),
 * send, record ids (one save), tag (STACK_TAG_AFTER). In a dry run only
 * plans. Frees every params. -1 after stack_error naming the first failure;
 * the ones that succeeded are recorded. */
int stack_create_many(struct stack *, struct stack_create *, size_t n);

/* A follow-up call that belongs to role and must happen once (attach,
 * route, association, ingress rule, attribute): skipped when
 * rec.steps[step] is set; done when the call succeeds or fails with one of
 * the comma-separated ok_codes ("Resource.AlreadyAssociated,RouteAlreadyExists"). */
struct stack_step {
	const char *role;
	const char *step;		/* "attach", "route-default" … */
	const char *service;
	const char *action;
	cJSON *params;			/* taken */
	const char *ok_codes;		/* or NULL */
	const char *summary;
};
int stack_step_many(struct stack *, struct stack_step *, size_t n);

/* One call counted in st->ncalls (and never sent in a dry run, where it
 * returns -1 with err code "DryRun"). For reads and deletes. Borrowed
 * params. Does not record an error: the caller decides. */
int stack_call(struct stack *, const char *service, const char *action,
    const cJSON *params, cJSON **result, struct aws_error *err);
/* Errors that mean AWS has not caught up with mlsh's own creates yet, which
 * stack_call and the creates/steps retry with backoff (0.25 s doubling to
 * 4 s), same parameters and idempotency token, for a bounded time:
 * STACK_RETRY_IAM (EC2 "Invalid IAM Instance Profile", SageMaker "Could not
 * assume role"; 120 s, MLSH_IAM_RETRY_S) and STACK_RETRY_FRESH_ID (a
 * *.NotFound for a request naming an id the workspace recorded less than
 * STACK_FRESH_S ago; 30 s, MLSH_NOTFOUND_RETRY_S). */
enum { STACK_RETRY_NO, STACK_RETRY_IAM, STACK_RETRY_FRESH_ID };
#define STACK_FRESH_S	300
int stack_retry_kind(struct stack *, const cJSON *params,
    const struct aws_error *);
/* Report err as the command's error, "<what>: <aws error line>", and keep
 * it in st->fail (err is moved there). -1. */
int stack_fail(struct stack *, const char *what, struct aws_error *err);
/* Append a line to the plan (dry run) or, when not dry, nothing. */
void stack_plan(struct stack *, const char *action, const char *role,
    const char *fmt, ...) MLSH_PRINTF(4, 5);

/* --- waits --- */

/* Poll role's type refresh function until attrs.state equals want (one of
 * several comma-separated: "available,running"), showing progress
 * through ui.progress ("waiting for nat nat-0abc: pending 12s"). One poll
 * loop, aws_wait's (backoff 0.5 s doubling to 5 s, jittered). Gives up
 * after timeout_s, on a failed/deleted state or on Ctrl-C, with the record
 * saved. In a dry run: planned. */
int stack_wait_state(struct stack *, const char *role, const char *want,
    int timeout_s);
/* Wait for several roles at once (one poll round each turn). */
int stack_wait_states(struct stack *, const char *const *roles, size_t n,
    const char *want, int timeout_s);
/* The status line through ui.progress; done != 0 ends it (fmt may be
 * NULL). */
void stack_progress(struct stack *, int done, const char *fmt, ...)
    MLSH_PRINTF(3, 4);

/* --- deletes --- */

/* Delete roles (every record when roles is NULL) in the types table's
 * delete order: each order group is started together (the type's delete
 * function), then polled with its refresh until gone; DependencyViolation
 * (and FileSystemInUse, DeleteConflict, IP in use) is retried with backoff
 * (0.5 s doubling to 8 s) for up to 3 minutes (MLSH_DEPENDENCY_TIMEOUT
 * seconds), within the group's 20-minute timeout; "not found"
 * counts as gone; records are forgotten once gone (state saved each time),
 * so an interrupted down resumes. Pending intents are resolved first. In a
 * dry run: planned. */
int stack_delete(struct stack *, const struct strlist *roles);

/* --- status (builtins/status.c) --- */

/* One row per role (all records when roles is NULL): role, id, state, type,
 * private_ip, public_ip, $/h, age, accrued cost. Caller owns it. */
cJSON *stack_status_rows(struct stack *, const struct strlist *roles);

/* --- AMIs, AZs --- */

/* Resolve an AMI at run time: the SSM public parameter first (may be NULL),
 * else the newest DescribeImages match of owner and name pattern. Caller
 * frees *ami. Never a hard-coded id. -1 with *ami NULL when nothing
 * matches (nothing reported) or a call failed (reported: st->nerrors). */
int stack_resolve_ami(struct stack *, const char *ssm_param,
    const char *owner, const char *name_pattern, char **ami);

/* --- prices --- */

/* $/h of key ("t3.nano", "ml.p3.8xlarge", "nat-gateway", "eip") in the
 * prices' region, from the overrides (config, then file) then the built-in
 * table; -1 when unknown (show "unknown", never $0). */
double stack_price(const struct stack_prices *, const char *key);
/* The built-in table's date for the region ("2022-01"), or "unknown". */
const char *stack_prices_date(const struct stack_prices *);
/* What a record's $/h is made of: its price key (instance type, NAT
 * gateway, Elastic IP …) and, for an instance, its public IPv4 address
 * ("public-ipv4") and its root volume ("ebs-<type>-gb-month" × attrs.disk_gb
 * / 730 h, attrs.disk_type default gp3). Stopped: only the volume; gone:
 * nothing. Returns how many parts (at most STACK_COST_PARTS); a part whose
 * price is unknown has usd_per_hour -1. */
#define STACK_COST_PARTS 3
struct stack_cost_part {
	char what[48];			/* "t3.nano", "public IPv4", "EBS gp3 20 GB" */
	const char *suffix;		/* "" (the record itself), "public-ipv4", "ebs" */
	double usd_per_hour;
	int storage;			/* billed while stopped too (EBS) */
	double usd;			/* stack_rec_spent: what it cost */
};
size_t stack_rec_parts(const struct stack_prices *, const cJSON *rec,
    struct stack_cost_part *parts);
/* The same parts whatever the record's state (what it costs running). */
size_t stack_rec_parts_all(const struct stack_prices *, const cJSON *rec,
    struct stack_cost_part *parts);
/* The whole table for the region: [{"key","usd_per_hour","source"}]. */
cJSON *stack_prices_table(const struct stack_prices *);
/* What a record has cost until now, from its meter (stack_rec_spent at
 * stack_now(); -1 when a price is unknown). */
double stack_rec_accrued(const struct stack_prices *, const cJSON *rec);
/* $/h of one record now (0 for free or stopped resources, -1 unknown):
 * the type's price function, else its price key. */
double stack_rec_hourly(const struct stack_prices *, const cJSON *rec);
/* The running $/h of a state's root (unknown prices count 0); for the
 * prompt. Never touches the network. */
double stack_hourly_rate(const struct stack_prices *, const cJSON *root);

/* --- what was spent (stack/meter.c) --- */

/* The engine's clock: time(NULL) plus MLSH_TEST_CLOCK_OFFSET seconds when
 * that is set (tests move time without sleeping). */
double stack_now(void);
/* How a state is billed: STACK_BILL_ALL (running, available, and a state
 * mlsh does not know: an upper bound), STACK_BILL_STORAGE (pending,
 * stopping, stopped: only the root volume), STACK_BILL_NONE (terminated,
 * shutting-down, deleted, gone). */
enum { STACK_BILL_NONE, STACK_BILL_STORAGE, STACK_BILL_ALL };
int stack_bill_class(const char *state);
/* Note rec's billing class in its meter ("meter": [[unix time, "all" |
 * "storage" | "none"], …]) when it changed: at the time AWS gives
 * (attrs.launch_time for a start, the time in attrs.state_reason for a stop
 * or a terminate) when that lies between the last change and now, else at
 * now. A record of an older state file (no meter) is taken as billed in
 * full since it was created. Records not yet created are left alone.
 * stack_save observes every record. */
void stack_meter_observe(cJSON *rec, double now);
void stack_meter_observe_all(cJSON *resources, double now);
/* mlsh itself changed rec's state (a stop, a start, a delete): bill at
 * now. */
void stack_meter_mark(cJSON *rec, int bill, double now);
/* What rec cost until now: hours billed in full (running), hours of
 * storage only (stopped), per part and in total (-1 and unknown set when
 * a price is unknown; the known parts are still summed in usd). */
struct stack_spent {
	double all_h;
	double storage_h;
	double usd;
	int unknown;
	size_t n;
	struct stack_cost_part parts[STACK_COST_PARTS];
};
double stack_rec_spent(const struct stack_prices *, const cJSON *rec,
    double now, struct stack_spent *out);
/* Keep what role cost in the state's ledger ("ledger": {"removed": [...]})
 * as its record goes (after its delete, or found gone). Returns the cost
 * (-1 unknown). Free resources are not kept. Nothing in a dry run. */
double stack_ledger_add(struct stack *, const char *role, cJSON *rec);
/* The ledger's removed resources (borrowed array). */
cJSON *stack_ledger_removed(struct stack *);
/* Their total; *n entries; *unknown set when one's price was unknown. */
double stack_ledger_total(struct stack *, int *n, int *unknown);
/* When the workspace has no resources left: the removed entries become one
 * summary in ledger.closed (the last 20 kept), and the state is saved. */
void stack_ledger_close(struct stack *);

/* --- the budget (stack/meter.c) --- */

/* A workspace's budget in USD, kept in its state ("budget": {"usd", "set"}):
 * what it may cost over its whole life, removed resources and earlier
 * emptied sessions (ledger.closed) included. */
double stack_budget(const cJSON *root);		/* -1: none */
void stack_budget_set(cJSON *root, double usd);	/* usd <= 0 removes it */
/* What the workspace has cost in all: its resources until now, the
 * ledger's removed ones and every closed session. Unknown prices count 0
 * and set *unknown. */
double stack_spent_total(const struct stack_prices *, const cJSON *root,
    double now, int *unknown);
/* The budget as data, or NULL without one: {"usd", "spent_usd",
 * "left_usd", "percent", "usd_per_hour", "hours_left" (null when nothing
 * runs), "some_prices_unknown"}. */
cJSON *stack_budget_json(const struct stack_prices *, const cJSON *root,
    double now);
/* Before starting something that costs adding $/h: past the budget,
 * an error unless --over-budget (a warning in a dry run); past 80 %, a
 * warning; otherwise a note of what is left and how long it lasts. */
int stack_budget_check(struct stack *, double adding);

struct stack_price_item {
	const char *what;		/* "jump host", "dl1-1" */
	const char *key;		/* price key: "t3.nano", "nat-gateway";
					 * a "-gb-month" key counts GB */
	int count;
};
/* Note what is about to start and its $/h before starting it; above $1/h
 * (or unknown) ask through ui.confirm unless yes or a dry run; when no
 * question can be asked (scripts) go on. -1 after stack_error when the
 * user declines. */
int stack_confirm_price(struct stack *, const struct stack_price_item *,
    size_t n);

/* --- the types table (stack/types.c) --- */

enum { STACK_GONE = 0, STACK_LIVE = 1 };

/* Start deleting rec (do not wait). 0 when started or already gone. */
typedef int (*stack_delete_fn)(struct stack *, cJSON *rec,
    struct aws_error *err);
/* Describe rec: STACK_LIVE (attrs.state updated), STACK_GONE (deleted,
 * terminated, not found) or -1 with err. */
typedef int (*stack_refresh_fn)(struct stack *, cJSON *rec,
    struct aws_error *err);
/* Every resource of the type tagged with the workspace, appended to out as
 * {"role","id","attrs":{…}} (role from the Name tag). For --recover,
 * drift and pending intents. */
typedef int (*stack_list_fn)(struct stack *, cJSON *out,
    struct aws_error *err);
/* $/h of rec, -1 when unknown. stack_price_default: attrs.price_key or
 * attrs.instance_type (0 when state is stopped/terminated), else free. */
typedef double (*stack_price_fn)(const struct stack_prices *,
    const cJSON *rec);

/* attrs[key] = the non-empty string at path in a described item. */
struct stack_attr_map {
	const char *key;
	const char *path;
};

/* A kind of resource the stack records, as data (the rows are in
 * stack/types.c). The generic describe, delete and list read the row; a
 * hook replaces one of them where a type truly differs. */
struct stack_type {
	const char *name;		/* "vpc", "instance" */
	int order;			/* delete order: lower goes first */
	const char *service;		/* "ec2", "efs" */
	/* describe */
	const char *describe;		/* "DescribeVpcs" */
	const char *id_param;		/* "VpcId": sent as VpcId.1 … VpcId.N
					 * when batch, else as is */
	int batch;			/* the describe takes many ids */
	const char *set;		/* the items in the answer: "vpcSet" */
	const char *inner;		/* items one level deeper in each
					 * ("instancesSet" of a reservation) */
	const char *id_member;		/* an item's id: "vpcId" */
	const char *state_member;	/* attrs.state from the item, or NULL */
	const char *state_fixed;	/* attrs.state otherwise ("available") */
	const char *gone_states;	/* states that mean gone: "terminated" */
	const struct stack_attr_map *attrs;	/* {NULL} ends it */
	void (*attrs_fn)(cJSON *attrs, const cJSON *item);	/* more */
	const char *price_key;		/* attrs.price_key ("nat-gateway") */
	/* delete */
	const char *delete;		/* "DeleteVpc" */
	const char *delete_id;		/* "VpcId" */
	/* list: describe filtered by tag:mlsh:workspace (EC2) */
	int list_by_tag;
	const char *list_skip;		/* states left out: "deleted,failed" */
	/* hooks, NULL for the generic behaviour */
	stack_delete_fn del;
	stack_refresh_fn refresh;
	stack_list_fn list;
	stack_price_fn price;		/* NULL: stack_price_default */
};

double stack_price_default(const struct stack_prices *, const cJSON *rec);

extern const struct stack_type stack_types[];	/* NULL name ends it */
const struct stack_type *stack_type_find(const char *name);

/* rec's type's delete (hook or generic; not counted in ncalls). */
int stack_type_delete(struct stack *, cJSON *rec, struct aws_error *);
/* rec's type's refresh: STACK_LIVE, STACK_GONE, -1 with err (not counted:
 * the caller counts one call). A type without a describe is gone. */
int stack_type_refresh(struct stack *, cJSON *rec, struct aws_error *);
/* The type's list (hook or generic tag-filtered describe). 0 and nothing
 * for a type that cannot list. */
int stack_type_list(struct stack *, const struct stack_type *, cJSON *out,
    struct aws_error *);
/* Copy what a described (or created) item says into attrs, by t's row. */
void stack_type_attrs(const struct stack_type *, cJSON *attrs,
    const cJSON *item);
/* Refresh n roles with one describe per type (EC2 Id.1 … Id.N, paginated;
 * types without a list form or with a refresh hook: one call each), each
 * call counted in ncalls. res[i] = STACK_LIVE, STACK_GONE (an id missing
 * from the answer) or -1 (not refreshed: no record, id or describe; or the
 * call failed). Returns -1 when a call failed, with the first error in err
 * and *failed its role; else 0. Records are updated, not saved. */
int stack_refresh_many(struct stack *, const char *const *roles, size_t n,
    int *res, struct aws_error *err, const char **failed);

/* Building blocks for types' functions (EC2). */
/* The Value of tag key in an EC2 tagSet / a Tags list, or NULL. Borrowed. */
const char *stack_tag_value(const cJSON *item, const char *key);
/* Role from a Name tag "<ws>-<role>", or NULL. Borrowed (points into name). */
const char *stack_role_from_name(struct stack *, const char *name);
/* Whether err means "not found": *NotFound, NoSuch*, or SageMaker's
 * Validation* whose message says so (RecordNotFound, "does not exist",
 * "Could not find"). Callers branch on this, never on the text. */
int stack_err_notfound(const struct aws_error *);
/* A "not found" that is no error (a delete, a refresh, a list of what is
 * already gone): 1 with err released, else 0 with err untouched. */
int stack_err_gone(struct aws_error *);
/* Instances (jump, nodes, grafana): attrs from a RunInstances/Describe item:
 * state, az, private_ip, public_ip, instance_type. */
void stack_instance_attrs(cJSON *attrs, const cJSON *item);
/* A spot instance's request (DescribeSpotInstanceRequests): attrs
 * spot_request, spot_state ("open", "active", "cancelled" …) and
 * spot_instance (the request's instance now). 1 found, 0 none, -1 err. */
int stack_spot_lookup(struct stack *, cJSON *rec, struct aws_error *err);
/* a.b.0.c in a cJSON tree; NULL when absent. Borrowed. */
const cJSON *stack_path(const cJSON *, const char *path);
/* The types' common delete: ACTION with {id_param: id} on service. */
int stack_delete_by_id(struct stack *, const char *service,
    const char *action, const char *id_param, const char *id,
    struct aws_error *);
#endif
