/* checkip.h: the caller's public address, as AWS sees it (for `vpc up`
 * without --allow, and for saying why the jump host does not answer). */
#ifndef MLSH_CHECKIP_H
#define MLSH_CHECKIP_H

#include "shell/shell.h"

/* The address a checkip service answers ("203.0.113.7", allocated), or
 * NULL with *cause. The service is MLSH_CHECKIP_URL, else
 * https://checkip.amazonaws.com; in the lab (--lab) the request opens in
 * the lab's client namespace, to MLSH_CHECKIP_URL or the lab's own checkip,
 * so a lab session never asks the real network. */
char *checkip_address(struct mlsh_ctx *, char **cause);

/* When the jump host does not answer: "your address A is not in the jump
 * host's --allow (C); 'vpc up --allow A/32' lets it in" (allocated) when
 * no port-22 rule of the jump host's security groups covers the caller's
 * address; NULL when one does or when either cannot be read. */
char *checkip_jump_hint(struct mlsh_ctx *);

#endif
