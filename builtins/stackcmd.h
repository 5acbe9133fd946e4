/* stackcmd.h: the builtins' side of the stack engine (stack/stack.h): a
 * command's context and arguments become the engine's env, opts and ui.
 *
 *	env	the workspace state (shell_state), the AWS client, the region,
 *		the price overrides (the Lua table `prices`, prices.json) as
 *		cJSON, and the host key pins to forget with an instance;
 *	opts	--dry-run, --yes, --force when the command declares them,
 *		MLSH_SEQUENTIAL=1, --json;
 *	ui	errors to cmd_error (so an exec can `return 1` after a failed
 *		stack call), warnings to shell_warn, notes to stderr, progress
 *		and questions to shell/ui.h. */
#ifndef MLSH_STACKCMD_H
#define MLSH_STACKCMD_H

#include "shell/shell.h"
#include "stack/stack.h"

/* Open the workspace's stack for the running command (a may be NULL).
 * -1 after cmd_error when the state cannot be opened. */
int stack_open(struct mlsh_ctx *, const struct cmd_args *a, struct stack *);

/* Before a command deletes roles (its records; absent ones are skipped) and,
 * with iam not NULL, the IAM role and instance profile iam_remove(st, iam)
 * takes with them:
 * with --force or --dry-run, go on; with a terminal on standard input (even
 * under `mlsh -c`), list what goes, one line each (role, what it is, id,
 * $/h; the EFS file system named with its data), and ask; without one,
 * refuse in one line naming --force (Terraform's -auto-approve: scripts
 * must say so). 0 to go on, 1 after cmd_error. */
int stackcmd_confirm_delete(struct stack *, const struct strlist *roles,
    const char *iam);

/* The session's prices: its region, the Lua global `prices`
 * ({["t3.nano"]=0.006}) and <state dir>/prices.json. The pointer and what
 * it points to stay valid while the overrides are unchanged (always during
 * one command). */
const struct stack_prices *stackcmd_prices(struct mlsh_ctx *);

/* The workspace's state root without waiting for anyone (the open state,
 * else the file read without locking into *owned, which the caller
 * deletes); NULL when none. Never touches the network. */
const cJSON *stackcmd_state_peek(struct mlsh_ctx *, cJSON **owned);

/* The workspace's running $/h for the prompt: the open state, else the file
 * read without locking (the prompt never waits for another mlsh). */
double stackcmd_hourly_rate(struct mlsh_ctx *);
/* The workspace's budget (stack_budget_json) from the state as it is on
 * disk, or NULL without one. Never touches the network. */
cJSON *stackcmd_budget(struct mlsh_ctx *);

/* Result fields as data (issue 12: --json and Lua get strings and null):
 * v, or null when v is NULL (the table prints null as "-"). Dollar amounts:
 * json_add_usd in lib/util.h. */
void stackcmd_add_text(cJSON *o, const char *key, const char *v);

/* What still costs money in the workspace, for leaving the REPL: a first
 * line with the total, then one line per kind with its count and $/h
 * ("  dl1 ×2  $26.22/h"; nodes by kind, the jump host, the NAT gateway, the
 * notebook, EFS …), from the state alone. NULL when nothing costs. Caller
 * frees. */
char *stackcmd_running(struct mlsh_ctx *);

#endif
