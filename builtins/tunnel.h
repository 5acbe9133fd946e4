/* tunnel.h: local port forwards through the jump host, kept while the shell
 * runs (listeners on 127.0.0.1 only). */
#ifndef MLSH_TUNNEL_H
#define MLSH_TUNNEL_H

#include "shell/shell.h"

/* Open a forward 127.0.0.1:lport (0: any free port) -> target:rport.
 * Returns the tunnel's result object (id, local, remote), or NULL after
 * cmd_error. A tunnel of the session already open to target:rport (on
 * lport, or any when lport is 0) is returned instead ("reused": true). */
cJSON *tunnel_open(struct mlsh_ctx *, const char *target, int lport,
    int rport);
/* The same to host:rport as the jump host reaches it (the jump host opens
 * the channel itself), for a server with no SSH of its own; label names it
 * in `tunnel ls`. */
cJSON *tunnel_open_host(struct mlsh_ctx *, const char *label,
    const char *host, int lport, int rport);
/* Instance id was terminated: close the tunnels to or through it (all of
 * them when it is the jump host), a line on stderr for each. */
void tunnel_instance_gone(struct mlsh_ctx *, const char *id);
/* Block until Ctrl-C, then close every tunnel (for -c and scripts). */
void tunnel_hold(struct mlsh_ctx *);
/* The session service: closes the tunnels at session end. */
extern const struct mlsh_service svc_tunnel;

#endif
