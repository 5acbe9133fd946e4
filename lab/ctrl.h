/* ctrl.h: the lab's control plane (moto in the core namespace, with the lab's
 * image catalogue) and the reconciler that turns what moto reports into
 * hosts (lab.h's data plane). Lower layer: no printing except to the log
 * FILE the caller hands the reconciler. */
#ifndef MLSH_LAB_CTRL_H
#define MLSH_LAB_CTRL_H

#include <stdio.h>
#include "aws/aws.h"

#define LAB_CTRL_PORT 5000
#define LAB_MOTO_PORT 5001	/* moto behind the strict proxy, core loopback */
#define LAB_CTRL_URL "http://198.18.0.1:5000"	/* from the client namespace */
/* The lab's checkip (answers the caller's address, as checkip.amazonaws.com
 * does), on the internet side of the core. */
#define LAB_CHECKIP_PORT_S "8080"
#define LAB_CHECKIP_URL "http://198.18.0.1:" LAB_CHECKIP_PORT_S "/"
#define LAB_ACCESS_KEY "mlsh-lab"
#define LAB_SECRET_KEY "mlsh-lab-secret"

/* Start moto in the core namespace with the lab's image catalogue
 * (MOTO_AMIS_PATH), and the lab's checkip beside it, and wait until moto
 * answers (timeout_ms). python is the interpreter that has moto ("python3"
 * when NULL). With strict (the path of tests/strict/strictaws.py), moto
 * listens on the core namespace's loopback (LAB_MOTO_PORT) and the strict AWS
 * proxy, every switch on, takes the control plane's address in front of it;
 * the state directory's file "strict" says so. */
int lab_ctrl_start(const char *state_dir, const char *python,
    const char *strict, int timeout_ms, char **cause);
/* Whether the control plane is the strict AWS proxy (lab up --strict). */
int lab_ctrl_strict(const char *state_dir);
/* Whether the control plane answers (one quick request). */
int lab_ctrl_alive(const char *state_dir);
/* GET url from the lab's client namespace (the only place lab addresses are
 * reachable from): 0 with *body (allocated, at most 64 KiB) on a 2xx/3xx
 * answer, else -1 with *cause. Bounded by timeout_ms. */
int lab_http_get(const char *state_dir, const char *url, long timeout_ms,
    char **body, char **cause);
/* Empty moto (POST /moto-api/reset). */
int lab_ctrl_reset(const char *state_dir, char **cause);
/* The image catalogue the lab gives moto, as JSON text (caller frees). */
char *lab_ctrl_catalogue(void);

/* An AWS client for the lab's control plane, its sockets opened in the client
 * namespace, with the lab's fixed credentials (real ones never go to the
 * emulator). base (may be NULL) gives the other options (region, trace …). */
struct aws_client *lab_ctrl_client(const char *state_dir,
    const struct aws_options *base, char **cause);

/* The reconciler: a daemon (started by `lab up`, its PID in
 * state_dir/reconciler.pid) that polls the control plane every ~200 ms and
 * applies it. lab_reconciler_start forks and execs `exe --lab-daemon DIR`;
 * lab_reconciler_run is what that process runs until SIGTERM or until the
 * lab is gone. */
int lab_reconciler_start(const char *state_dir, const char *exe, char **cause);
int lab_reconciler_stop(const char *state_dir);
long lab_reconciler_pid(const char *state_dir);	/* 0: not running */
int lab_reconciler_run(const char *state_dir, FILE *log);

#endif
