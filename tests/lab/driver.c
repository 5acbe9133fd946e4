/* driver.c: the lab's data-plane primitives as a command, for
 * tests/lab/dataplane.t (independent of the shell and of the AWS layer).
 *
 *   driver STATE net-up [NAME] | net-down | is-up | client-ns | core-ns
 *   driver STATE ctrl-url VPC PORT | vpc-destroy VPC
 *   driver STATE spawn-core TAG PROGRAM [ARG…]        prints the PID
 *   driver STATE host-create id=… vpc=… [vpc_cidr=…] subnet=… subnet_cidr=…
 *          ip=… [public_ip=…] [key=@FILE] [userdata=@FILE] [port=N]
 *          [region=…] [hostname=…]                    prints ms=N
 *   driver STATE host-wait ID MS                       prints ms=N
 *   driver STATE host-stop|host-start|host-destroy|host-state ID
 *   driver STATE host-userdata ID        the exit status, or "running"
 *   driver STATE host-public ID IP|-
 *   driver STATE apply FILE              lines "running|stopped key=value…"
 *   driver STATE host-exec ID /abs/program [ARG…]     exits with its status
 *   driver STATE efs-create|efs-destroy|efs-path FS
 *   driver STATE efs-target-add FS VPC IP | efs-target-del VPC IP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "lab/lab.h"
#include "lib/util.h"

static char *
value(const char *v, size_t *lenp)
{
	char *cause = NULL, *data;

	if (v[0] != '@') {
		if (lenp != NULL)
			*lenp = strlen(v);
		return xstrdup(v);
	}
	data = file_read(v + 1, lenp, &cause);
	if (data == NULL) {
		fprintf(stderr, "driver: %s\n", cause);
		exit(2);
	}
	return data;
}

static int
parse_spec(int argc, char **argv, struct lab_host_spec *s)
{
	memset(s, 0, sizeof *s);
	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		const char *k = argv[i];

		if (eq == NULL) {
			fprintf(stderr, "driver: %s: want key=value\n", argv[i]);
			return -1;
		}
		*eq++ = '\0';
		if (strcmp(k, "id") == 0)
			s->instance_id = eq;
		else if (strcmp(k, "vpc") == 0)
			s->vpc_id = eq;
		else if (strcmp(k, "vpc_cidr") == 0)
			s->vpc_cidr = eq;
		else if (strcmp(k, "subnet") == 0)
			s->subnet_id = eq;
		else if (strcmp(k, "subnet_cidr") == 0)
			s->subnet_cidr = eq;
		else if (strcmp(k, "ip") == 0)
			s->private_ip = eq;
		else if (strcmp(k, "public_ip") == 0)
			s->public_ip = eq;
		else if (strcmp(k, "key") == 0)
			s->ssh_public_key = value(eq, NULL);
		else if (strcmp(k, "userdata") == 0)
			s->user_data = value(eq, &s->user_data_len);
		else if (strcmp(k, "port") == 0)
			s->ctrl_port = atoi(eq);
		else if (strcmp(k, "region") == 0)
			s->region = eq;
		else if (strcmp(k, "hostname") == 0)
			s->hostname = eq;
		else {
			fprintf(stderr, "driver: unknown key %s\n", k);
			return -1;
		}
	}
	if (s->instance_id == NULL || s->vpc_id == NULL ||
	    s->subnet_id == NULL || s->subnet_cidr == NULL ||
	    s->private_ip == NULL) {
		fprintf(stderr, "driver: a host needs id vpc subnet subnet_cidr "
		    "ip\n");
		return -1;
	}
	return 0;
}

/* apply FILE: one instance a line, "running|stopped key=value…". */
static int
apply(const char *state, const char *file)
{
	char *cause = NULL, *text, *line, *save;
	struct lab_want want[64];
	struct strlist errs;
	size_t n = 0;
	int failed;

	text = file_read(file, NULL, &cause);
	if (text == NULL) {
		fprintf(stderr, "driver: %s\n", cause);
		return 2;
	}
	for (line = strtok_r(text, "\n", &save); line != NULL && n < 64;
	    line = strtok_r(NULL, "\n", &save)) {
		char *words[32], *w, *wsave;
		int nw = 0;

		for (w = strtok_r(line, " \t", &wsave); w != NULL && nw < 32;
		    w = strtok_r(NULL, " \t", &wsave))
			words[nw++] = w;
		if (nw == 0)
			continue;
		if (parse_spec(nw - 1, words + 1, &want[n].spec) == -1)
			return 2;
		want[n++].running = strcmp(words[0], "running") == 0;
	}
	strlist_init(&errs);
	failed = lab_apply(state, want, n, &errs);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "driver: %s\n", errs.v[i]);
	strlist_release(&errs);
	for (size_t i = 0; i < n; i++) {
		free((char *)want[i].spec.ssh_public_key);
		free((char *)want[i].spec.user_data);
	}
	free(text);
	return failed == 0 ? 0 : 1;
}

static int
host_create(const char *state, int argc, char **argv)
{
	struct lab_host_spec s;
	char *cause = NULL;
	double t0;
	int rc;

	if (parse_spec(argc, argv, &s) == -1)
		return 2;
	t0 = now_ms();
	rc = lab_host_create(state, &s, &cause);
	free((char *)s.ssh_public_key);
	free((char *)s.user_data);
	if (rc == -1) {
		fprintf(stderr, "driver: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("ms=%.0f\n", now_ms() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *state, *cmd;
	char *cause = NULL;
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: driver STATE COMMAND [ARG…]\n");
		return 2;
	}
	state = argv[1];
	cmd = argv[2];
	argc -= 3;
	argv += 3;

#define NEED(n) do { if (argc < (n)) { \
	fprintf(stderr, "driver: %s: missing arguments\n", cmd); return 2; } \
} while (0)
	if (strcmp(cmd, "net-up") == 0) {
		double t0 = now_ms();

		rc = lab_net_up(state, argc > 0 ? argv[0] : NULL, &cause);
		if (rc == 0)
			printf("ms=%.0f\n", now_ms() - t0);
	} else if (strcmp(cmd, "net-down") == 0) {
		rc = lab_net_down(state, &cause);
	} else if (strcmp(cmd, "is-up") == 0) {
		return lab_net_is_up(state) ? 0 : 1;
	} else if (strcmp(cmd, "client-ns") == 0) {
		char *ns = lab_client_netns(state);

		puts(ns);
		free(ns);
	} else if (strcmp(cmd, "core-ns") == 0) {
		char *ns = lab_core_netns(state);

		puts(ns);
		free(ns);
	} else if (strcmp(cmd, "ctrl-url") == 0) {
		char *url;

		NEED(2);
		rc = lab_vpc_ctrl_url(state, argv[0], atoi(argv[1]), &url,
		    &cause);
		if (rc == 0) {
			puts(url);
			free(url);
		}
	} else if (strcmp(cmd, "vpc-destroy") == 0) {
		NEED(1);
		rc = lab_vpc_destroy(state, argv[0], &cause);
	} else if (strcmp(cmd, "spawn-core") == 0) {
		pid_t pid;

		NEED(2);
		rc = lab_spawn_core(state, argv[0], argv + 1, &pid, &cause);
		if (rc == 0)
			printf("%ld\n", (long)pid);
	} else if (strcmp(cmd, "host-create") == 0) {
		return host_create(state, argc, argv);
	} else if (strcmp(cmd, "host-wait") == 0) {
		double t0 = now_ms();

		NEED(2);
		rc = lab_host_wait(state, argv[0], atoi(argv[1]), &cause);
		if (rc == 0)
			printf("ms=%.0f\n", now_ms() - t0);
	} else if (strcmp(cmd, "host-stop") == 0) {
		NEED(1);
		rc = lab_host_stop(state, argv[0], &cause);
	} else if (strcmp(cmd, "host-start") == 0) {
		NEED(1);
		rc = lab_host_start(state, argv[0], &cause);
	} else if (strcmp(cmd, "host-destroy") == 0) {
		NEED(1);
		rc = lab_host_destroy(state, argv[0], &cause);
	} else if (strcmp(cmd, "host-state") == 0) {
		const char *what;

		NEED(1);
		what = lab_host_state(state, argv[0]);
		puts(what != NULL ? what : "none");
	} else if (strcmp(cmd, "apply") == 0) {
		NEED(1);
		return apply(state, argv[0]);
	} else if (strcmp(cmd, "host-public") == 0) {
		NEED(2);
		rc = lab_host_set_public_ip(state, argv[0], strcmp(argv[1], "-") ==
		    0 ? NULL : argv[1], &cause);
	} else if (strcmp(cmd, "host-userdata") == 0) {
		int st;

		NEED(1);
		st = lab_host_userdata_status(state, argv[0]);
		if (st < 0)
			puts("running");
		else
			printf("%d\n", st);
	} else if (strcmp(cmd, "host-exec") == 0) {
		int status;

		NEED(2);
		fflush(stdout);
		rc = lab_host_exec(state, argv[0], argv + 1, 1, &status, &cause);
		if (rc == 0)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	} else if (strcmp(cmd, "efs-create") == 0) {
		NEED(1);
		rc = lab_efs_create(state, argv[0], &cause);
	} else if (strcmp(cmd, "efs-destroy") == 0) {
		NEED(1);
		rc = lab_efs_destroy(state, argv[0], &cause);
	} else if (strcmp(cmd, "efs-path") == 0) {
		char *p;

		NEED(1);
		p = lab_efs_path(state, argv[0]);
		puts(p);
		free(p);
	} else if (strcmp(cmd, "efs-target-add") == 0) {
		NEED(3);
		rc = lab_efs_target_add(state, argv[0], argv[1], argv[2], &cause);
	} else if (strcmp(cmd, "efs-target-del") == 0) {
		NEED(2);
		rc = lab_efs_target_del(state, argv[0], argv[1], &cause);
	} else {
		fprintf(stderr, "driver: unknown command %s\n", cmd);
		return 2;
	}
	if (rc == -1) {
		fprintf(stderr, "driver: %s\n", cause);
		free(cause);
		return 1;
	}
	return 0;
}
