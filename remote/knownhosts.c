/* knownhosts.c: mlsh's own known_hosts (OpenSSH format) and fingerprints.
 *
 * First contact records the key (unless the policy is strict, or the caller
 * published fingerprints for the host and the key matches none of them);
 * a changed key is refused with both fingerprints.  The file is re-read on
 * every check so several mlsh processes can share it, and new lines are
 * appended, never rewritten, so lines libssh2 does not understand survive. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int knownhost_keytype(int hostkey_type);
static char *fingerprint_b64(const char *b64);
static int append_line(const char *path, const char *line, size_t len, char **cause);
static int expected_ok(struct rmt_session *, struct rmt_conn *, const char *fp,
    char **cause);

int
rmt_hostkey_check(struct rmt_conn *c, char **cause)
{
	struct rmt_session *s = c->s;
	LIBSSH2_KNOWNHOSTS *kh;
	struct libssh2_knownhost *found = NULL, *added = NULL;
	const char *key, *path = s->cfg.known_hosts;
	size_t len;
	int type, mask, r, ret = -1;
	char *fp, *name;

	if ((key = libssh2_session_hostkey(c->ssh, &len, &type)) == NULL) {
		*cause = xasprintf("%s: the server sent no host key", c->label);
		return -1;
	}
	fp = rmt_fingerprint(key, len);
	if (path == NULL) {
		/* No file: only the published fingerprints can vouch for it. */
		ret = expected_ok(s, c, fp, cause);
		free(fp);
		return ret;
	}
	kh = libssh2_knownhost_init(c->ssh);
	if (access(path, F_OK) == 0 &&
	    libssh2_knownhost_readfile(kh, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		*cause = xasprintf("%s: cannot read known hosts \"%s\"", c->label, path);
		goto out;
	}
	mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW |
	    knownhost_keytype(type);
	r = libssh2_knownhost_checkp(kh, c->host, c->port, key, len, mask, &found);
	switch (r) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		ret = 0;
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: {
		char *old = found != NULL ? fingerprint_b64(found->key) : NULL;
		*cause = xasprintf("%s: host key changed: %s has %s, the host offers %s; "
		    "if the host was rebuilt, delete its line from %s",
		    c->label, path, old != NULL ? old : "another key", fp, path);
		free(old);
		break;
	}
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: {
		char line[8192];
		size_t linelen = 0;

		if (s->cfg.hostkey_policy == RMT_HOSTKEY_STRICT) {
			*cause = xasprintf("%s: unknown host key %s (not in %s)",
			    c->label, fp, path);
			break;
		}
		if (expected_ok(s, c, fp, cause) == -1)
			break;
		if (c->port == 22)
			name = xstrdup(c->host);
		else
			name = xasprintf("[%s]:%d", c->host, c->port);
		r = libssh2_knownhost_addc(kh, name, NULL, key, len, NULL, 0, mask, &added);
		free(name);
		if (r != 0 || libssh2_knownhost_writeline(kh, added, line, sizeof line,
		    &linelen, LIBSSH2_KNOWNHOST_FILE_OPENSSH) != 0) {
			*cause = xasprintf("%s: cannot record the host key", c->label);
			break;
		}
		if (append_line(path, line, linelen, cause) == -1) {
			char *t = xasprintf("%s: %s", c->label, *cause);
			free(*cause);
			*cause = t;
			break;
		}
		if (s->cfg.new_hostkey != NULL)
			s->cfg.new_hostkey(s->cfg.new_hostkey_arg, c->label, fp);
		ret = 0;
		break;
	}
	default:
		*cause = xasprintf("%s: cannot check the host key against %s", c->label, path);
		break;
	}
out:
	libssh2_knownhost_free(kh);
	free(fp);
	return ret;
}

/* On first contact: the caller's published fingerprints, if any, decide. */
static int
expected_ok(struct rmt_session *s, struct rmt_conn *c, const char *fp, char **cause)
{
	for (size_t i = 0; i < s->nexpect; i++) {
		struct rmt_expect *e = &s->expect[i];
		if (strcmp(e->host, c->host) != 0 || e->port != c->port || e->fps.n == 0)
			continue;
		if (strlist_has(&e->fps, fp))
			return 0;
		*cause = xasprintf("%s: host key %s matches none of the %zu fingerprints "
		    "the instance published (first: %s)", c->label, fp, e->fps.n,
		    e->fps.v[0]);
		return -1;
	}
	return 0;
}

static int
knownhost_keytype(int t)
{
	switch (t) {
	case LIBSSH2_HOSTKEY_TYPE_RSA:
		return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS:
		return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
		return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519:
		return LIBSSH2_KNOWNHOST_KEY_ED25519;
	}
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

char *
rmt_fingerprint(const void *blob, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[128];
	int n;

	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	n = EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')	/* OpenSSH drops the padding */
		n--;
	b64[n] = '\0';
	return xasprintf("SHA256:%s", b64);
}

/* Fingerprint of a base64 key as stored in known_hosts. */
static char *
fingerprint_b64(const char *b64)
{
	size_t len = strlen(b64), pad = 0;
	unsigned char *raw;
	int n;
	char *fp;

	while (len > 0 && (b64[len - 1] == '\n' || b64[len - 1] == ' '))
		len--;
	if (len == 0 || len % 4 != 0)
		return NULL;
	raw = xmalloc(len);
	if ((n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len)) < 0) {
		free(raw);
		return NULL;
	}
	if (b64[len - 1] == '=')
		pad++;
	if (b64[len - 2] == '=')
		pad++;
	fp = rmt_fingerprint(raw, (size_t)n - pad);
	free(raw);
	return fp;
}

static int
append_line(const char *path, const char *line, size_t len, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, cause) == -1) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		*cause = xasprintf("cannot open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, line, len) != (ssize_t)len) {
		*cause = xasprintf("cannot write \"%s\": %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Encrypted private keys: PEM ("Proc-Type: 4,ENCRYPTED", "BEGIN ENCRYPTED
 * PRIVATE KEY") or OpenSSH's own format, whose cipher name follows the
 * "openssh-key-v1\0" magic as an SSH string. */
int
rmt_key_encrypted(const char *path, char **cause)
{
	size_t len;
	char *text = file_read(path, &len, cause), *b, *e;
	int ret = 0;

	if (text == NULL)
		return -1;
	if (strstr(text, "ENCRYPTED") != NULL)
		ret = 1;
	else if ((b = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----")) != NULL &&
	    (e = strstr(b, "-----END")) != NULL) {
		struct buf clean;
		unsigned char raw[96];
		b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
		buf_init(&clean);
		for (; b < e && clean.len < 128; b++)
			if (*b != '\n' && *b != '\r' && *b != ' ')
				buf_addc(&clean, *b);
		if (clean.len >= 64 && EVP_DecodeBlock(raw, (unsigned char *)clean.data, 64) >= 48 &&
		    memcmp(raw, "openssh-key-v1", 15) == 0) {
			/* raw[15..18] = length of the cipher name, then the name */
			uint32_t n = (uint32_t)raw[15] << 24 | raw[16] << 16 | raw[17] << 8 | raw[18];
			if (!(n == 4 && memcmp(raw + 19, "none", 4) == 0))
				ret = 1;
		}
		buf_release(&clean);
	}
	free(text);
	return ret;
}
