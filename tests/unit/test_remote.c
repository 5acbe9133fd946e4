/* test_remote.c: the parts of remote/ that need no SSH server.  The full
 * behaviour (exec, SFTP, tunnels, host keys against real sshd) is in
 * tests/remote/remote.t. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "remote/remote.h"
#include "unit.h"
#include "lib/util.h"

#include <openssl/evp.h>

static char *
write_temp(const char *text)
{
	char *path = xstrdup("/tmp/mlsh-test-remote.XXXXXX");
	int fd = mkstemp(path);

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		T_FAIL("cannot write a temp file");
	if (fd != -1)
		close(fd);
	return path;
}

static void
fingerprint_like_openssh(void)
{
	/* ssh-keygen -lf on this key prints
	 * SHA256:xtdjik4tqPay+p+1/tz/GnbpuYCQJ0iX3Yyc8q318vY */
	const char *b64 = "AAAAC3NzaC1lZDI1NTE5AAAAIMAp6NMb+mCdjk069TJ/yryTdW6+FqZJKAMjy/e/+vEB";
	unsigned char blob[128];
	int n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));
	char *fp = rmt_fingerprint(blob, (size_t)n);	/* 51 bytes: no padding */

	T_EQ_INT(n, 51);
	T_EQ_STR(fp, "SHA256:xtdjik4tqPay+p+1/tz/GnbpuYCQJ0iX3Yyc8q318vY");
	free(fp);
}

static void
encrypted_keys_detected(void)
{
	char *plain = write_temp("-----BEGIN OPENSSH PRIVATE KEY-----\n"
	    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	    "QyNTUxOQAAACDAKejTG/pgnY5NOvUyf8q8k3VuvhamSSgDI8v3v/rxAQAAAIgI0ljICNJY\n"
	    "-----END OPENSSH PRIVATE KEY-----\n");
	char *locked = write_temp("-----BEGIN OPENSSH PRIVATE KEY-----\n"
	    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABAXmPUC5z\n"
	    "+gMBroj1BnS6JwAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIEDEip0gQacXUGw6\n"
	    "-----END OPENSSH PRIVATE KEY-----\n");
	char *pem = write_temp("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
	    "DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n");
	char *cause = NULL;

	T_EQ_INT(rmt_key_encrypted(plain, &cause), 0);
	T_EQ_INT(rmt_key_encrypted(locked, &cause), 1);
	T_EQ_INT(rmt_key_encrypted(pem, &cause), 1);
	T_EQ_INT(rmt_key_encrypted("/nonexistent/key", &cause), -1);
	T_OK(cause != NULL);
	free(cause);
	unlink(plain);
	unlink(locked);
	unlink(pem);
	free(plain);
	free(locked);
	free(pem);
}

/* The socket opener hook is used, and its cause names the jump hop. */
static int opener_calls;

static int
failing_opener(void *arg, const char *host, int port, char **cause)
{
	opener_calls++;
	*cause = xasprintf("namespace %s has no route to %s:%d", (char *)arg, host, port);
	return -1;
}

static void
opener_hook_error_names_the_hop(void)
{
	struct rmt_config cfg = { .jump_host = "203.0.113.5", .user = "ubuntu",
	    .open_socket = failing_opener, .open_socket_arg = "lab", .no_agent = 1 };
	struct rmt_session *s = rmt_session_new(&cfg);
	char *cause = NULL;

	T_EQ_INT(rmt_connect(s, "10.0.1.7", &cause), -1);
	T_EQ_INT(opener_calls, 1);
	T_EQ_STR(cause, "jump 203.0.113.5:22: namespace lab has no route to 203.0.113.5:22");
	free(cause);
	rmt_session_free(s);
}

/* The default opener against a closed loopback port. */
static void
jump_down_is_clear(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	struct rmt_config cfg = { .jump_host = "127.0.0.1", .user = "root", .no_agent = 1,
	    .connect_timeout_ms = 2000 };
	struct rmt_session *s;
	char *cause = NULL, *want;

	/* a port that was free a moment ago: bound, then closed */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	cfg.jump_port = port;
	s = rmt_session_new(&cfg);
	T_EQ_INT(rmt_run(s, NULL, "true", NULL, NULL, &cause), -1);
	want = xasprintf("jump 127.0.0.1:%d: connection refused", port);
	T_EQ_STR(cause, want);
	free(want);
	free(cause);
	rmt_session_free(s);
}

static void
forward_listens_on_loopback_only_and_checks_the_jump(void)
{
	struct rmt_config cfg = { .jump_host = "127.0.0.1", .jump_port = 1, .user = "root",
	    .no_agent = 1, .connect_timeout_ms = 2000 };
	struct rmt_forward *f = NULL;
	char *cause = NULL;

	/* the jump is unreachable: start fails, nothing is left listening */
	T_EQ_INT(rmt_forward_start(&cfg, 0, NULL, "127.0.0.1", 80, &f, &cause), -1);
	T_EQ_STR(cause, "jump 127.0.0.1:1: connection refused");
	T_OK(f == NULL);
	free(cause);
}

/* known_hosts lookups, without a server: the policy of knownhosts.c. */
static const char *ED_B64 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIMAp6NMb+mCdjk069TJ/yryTdW6+FqZJKAMjy/e/+vEB";
/* another ed25519 key (ssh-keygen -t ed25519) */
static const char *ED2_B64 =
    "AAAAC3NzaC1lZDI1NTE5AAAAIOotzPndsZhqNNYhSY4gmCU1nc+S0gPqIbG4ZgfRvh2G";

static int
lookup(const char *text, const char *name, const char *addr, const char *b64,
    struct rmt_kh_result *r)
{
	unsigned char blob[128];
	int n = EVP_DecodeBlock(blob, (const unsigned char *)b64, (int)strlen(b64));

	return rmt_known_hosts_lookup(text, name, addr, blob, (size_t)n - 0, r);
}

static void
known_hosts_policy(void)
{
	struct rmt_kh_result r;
	char *t;

	/* same key; another key of any type is a change, naming the line */
	t = xasprintf("# c\n\n10.0.1.5 ssh-ed25519 %s\n", ED_B64);
	T_EQ_INT(lookup(t, "10.0.1.5", NULL, ED_B64, &r), RMT_KH_OK);
	rmt_kh_result_release(&r);
	T_EQ_INT(lookup(t, "10.0.1.5", NULL, ED2_B64, &r), RMT_KH_CHANGED);
	T_EQ_INT(r.line, 3);
	T_EQ_STR(r.known_fp, "SHA256:xtdjik4tqPay+p+1/tz/GnbpuYCQJ0iX3Yyc8q318vY");
	T_EQ_STR(r.known_type, "ssh-ed25519");
	rmt_kh_result_release(&r);
	T_EQ_INT(lookup(t, "10.0.1.6", NULL, ED_B64, &r), RMT_KH_NEW);
	free(t);

	/* @revoked wins, even with nothing else known; @cert-authority is
	 * never a pin of its key */
	t = xasprintf("@revoked * ssh-ed25519 %s\n", ED_B64);
	T_EQ_INT(lookup(t, "i-0abc", "10.0.1.5", ED_B64, &r), RMT_KH_REVOKED);
	T_EQ_INT(r.line, 1);
	T_EQ_INT(lookup(t, "i-0abc", "10.0.1.5", ED2_B64, &r), RMT_KH_NEW);
	free(t);
	t = xasprintf("@cert-authority i-0* ssh-ed25519 %s\n", ED_B64);
	T_EQ_INT(lookup(t, "i-0abc", NULL, ED_B64, &r), RMT_KH_CA);
	T_EQ_INT(lookup(t, "i-1abc", NULL, ED_B64, &r), RMT_KH_NEW);
	free(t);

	/* aliases: pins hold for their name only; a legacy address line
	 * holding the key is reported for conversion, others are ignored */
	t = xasprintf("i-0aaa,10.0.1.5 ssh-ed25519 %s\n10.0.1.5 ssh-ed25519 %s\n",
	    ED_B64, ED2_B64);
	T_EQ_INT(lookup(t, "i-0aaa", "10.0.1.5", ED_B64, &r), RMT_KH_OK);
	T_EQ_INT(lookup(t, "I-0AAA", "10.0.1.5", ED_B64, &r), RMT_KH_OK);
	T_EQ_INT(lookup(t, "i-0bbb", "10.0.1.5", ED_B64, &r), RMT_KH_NEW);
	T_EQ_INT(r.legacy, 0);
	T_EQ_INT(lookup(t, "i-0bbb", "10.0.1.5", ED2_B64, &r), RMT_KH_NEW);
	T_EQ_INT(r.legacy, 1);
	free(t);

	/* malformed lines are skipped, never fatal */
	t = xasprintf("@\n@revoked\n@cert-authority x\n|1|\n|1|@@|@@ ssh-ed25519 %s\n"
	    "h ssh-rsa %s\nh ssh-ed25519 AAAA\nh ssh-ed25519 ====\n"
	    "h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM\n"
	    "h,!h ssh-ed25519 %s\n**********************************x ssh-ed25519 %s\n"
	    "h ssh-ed25519 %s", ED_B64, ED_B64, ED_B64, ED_B64, ED_B64);
	T_EQ_INT(lookup(t, "h", NULL, ED2_B64, &r), RMT_KH_CHANGED);
	T_EQ_INT(r.line, 12);
	rmt_kh_result_release(&r);
	T_EQ_INT(lookup(t, "h", NULL, ED_B64, &r), RMT_KH_OK);
	free(t);
}

int
main(void)
{
	T_RUN(fingerprint_like_openssh);
	T_RUN(known_hosts_policy);
	T_RUN(encrypted_keys_detected);
	T_RUN(opener_hook_error_names_the_hop);
	T_RUN(jump_down_is_clear);
	T_RUN(forward_listens_on_loopback_only_and_checks_the_jump);
	T_DONE();
}
