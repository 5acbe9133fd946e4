/* auth.c: public-key authentication, ssh-agent first, then the key file. */
#include "remote/internal.h"

#include <stdlib.h>
#include <string.h>

static int try_agent(struct rmt_conn *, const char *user, double deadline,
    int *nkeys, char **cause);
static int try_keyfile(struct rmt_conn *, const char *user, double deadline,
    char **cause);

static int key_is_rsa(const char *path);

#define AUTH_OK 0
#define AUTH_REFUSED 1
#define AUTH_ERROR (-1)

int
rmt_auth(struct rmt_conn *c, const char *user, double deadline, char **cause)
{
	struct rmt_session *s = c->s;
	struct buf tried;
	char *methods;
	int r, nkeys = 0;

	/* Also settles whether the server takes "none" (methods NULL then). */
	while ((methods = libssh2_userauth_list(c->ssh, user, (unsigned)strlen(user))) == NULL &&
	    libssh2_session_last_errno(c->ssh) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT) {
			*cause = xasprintf("%s: authentication timed out", c->label);
			return -1;
		}
	if (libssh2_userauth_authenticated(c->ssh))
		return 0;
	if (methods == NULL) {
		*cause = rmt_conn_error(c, "authentication failed");
		return -1;
	}
	if (strstr(methods, "publickey") == NULL) {
		*cause = xasprintf("%s: authentication refused for %s: the server "
		    "offers no public-key authentication (only %s)", c->label, user, methods);
		return -1;
	}
	buf_init(&tried);
	if (!s->cfg.no_agent && getenv("SSH_AUTH_SOCK") != NULL) {
		r = try_agent(c, user, deadline, &nkeys, cause);
		if (r == AUTH_OK) {
			buf_release(&tried);
			return 0;
		}
		if (r == AUTH_ERROR) {
			buf_release(&tried);
			return -1;
		}
		buf_printf(&tried, "ssh-agent (%d key%s)", nkeys, nkeys == 1 ? "" : "s");
	}
	if (s->cfg.key_file != NULL) {
		r = try_keyfile(c, user, deadline, cause);
		if (r == AUTH_OK) {
			buf_release(&tried);
			return 0;
		}
		if (r == AUTH_ERROR) {
			buf_release(&tried);
			return -1;
		}
		buf_printf(&tried, "%s%s", tried.len ? ", " : "", s->cfg.key_file);
		if (key_is_rsa(s->cfg.key_file))
			buf_adds(&tried, ", an RSA key: libssh2 1.10 signs RSA with SHA-1, "
			    "which OpenSSH 8.8 and later refuse; use an ed25519 or ecdsa key");
	}
	if (tried.len == 0)
		*cause = xasprintf("%s: authentication refused for %s: no ssh-agent and "
		    "no key file to try", c->label, user);
	else
		*cause = xasprintf("%s: authentication refused for %s (tried %s)",
		    c->label, user, tried.data);
	buf_release(&tried);
	return -1;
}

static int
try_agent(struct rmt_conn *c, const char *user, double deadline, int *nkeys,
    char **cause)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(c->ssh);
	struct libssh2_agent_publickey *id = NULL;
	int r, ret = AUTH_REFUSED;

	*nkeys = 0;
	if (agent == NULL)
		return AUTH_REFUSED;
	/* The agent socket is local and blocking; only the SSH side waits. */
	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0) {
		libssh2_agent_free(agent);
		return AUTH_REFUSED;
	}
	while ((r = libssh2_agent_get_identity(agent, &id, id)) == 0) {
		(*nkeys)++;
		while ((r = libssh2_agent_userauth(agent, user, id)) == LIBSSH2_ERROR_EAGAIN)
			if (rmt_wait_until(c, deadline) == RMT_TIMEOUT) {
				*cause = xasprintf("%s: authentication timed out", c->label);
				ret = AUTH_ERROR;
				goto out;
			}
		if (r == 0) {
			ret = AUTH_OK;
			break;
		}
		if (r != LIBSSH2_ERROR_AUTHENTICATION_FAILED &&
		    r != LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED &&
		    r != LIBSSH2_ERROR_AGENT_PROTOCOL) {
			*cause = rmt_conn_error(c, "authentication failed");
			ret = AUTH_ERROR;
			break;
		}
	}
out:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return ret;
}

static int
try_keyfile(struct rmt_conn *c, const char *user, double deadline, char **cause)
{
	struct rmt_session *s = c->s;
	const char *path = s->cfg.key_file;
	char *pass = NULL, *why = NULL;
	int enc, r;

	if ((enc = rmt_key_encrypted(path, &why)) == -1) {
		*cause = xasprintf("%s: key %s: %s", c->label, path, why);
		free(why);
		return AUTH_ERROR;
	}
	if (enc) {
		if (s->cfg.passphrase != NULL)
			pass = s->cfg.passphrase(s->cfg.passphrase_arg, path);
		if (pass == NULL) {
			*cause = xasprintf("%s: key %s is passphrase-protected; add it to "
			    "ssh-agent or run interactively", c->label, path);
			return AUTH_ERROR;
		}
	}
	while ((r = libssh2_userauth_publickey_fromfile_ex(c->ssh, user,
	    (unsigned)strlen(user), NULL, path, pass)) == LIBSSH2_ERROR_EAGAIN)
		if (rmt_wait_until(c, deadline) == RMT_TIMEOUT)
			break;
	if (pass != NULL) {
		explicit_bzero(pass, strlen(pass));
		free(pass);
	}
	if (r == 0)
		return AUTH_OK;
	if (r == LIBSSH2_ERROR_AUTHENTICATION_FAILED || r == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
		return AUTH_REFUSED;
	if (r == LIBSSH2_ERROR_FILE || r == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED) {
		*cause = xasprintf("%s: key %s cannot be used: %s%s", c->label, path,
		    rmt_ssh_error(c), enc ? " (wrong passphrase?)" : "");
		return AUTH_ERROR;
	}
	if (c->timed_out) {
		c->timed_out = 0;
		*cause = xasprintf("%s: authentication timed out", c->label);
	} else
		*cause = rmt_conn_error(c, "authentication failed");
	return AUTH_ERROR;
}

/* RSA keys get a hint when refused (see rmt_auth). */
static int
key_is_rsa(const char *path)
{
	char *pub = xasprintf("%s.pub", path), *why = NULL, *text;
	size_t len;
	int rsa = 0;

	if ((text = file_read(pub, &len, &why)) != NULL)
		rsa = strncmp(text, "ssh-rsa ", 8) == 0;
	else if ((free(why), why = NULL, text = file_read(path, &len, &why)) != NULL)
		rsa = strstr(text, "BEGIN RSA PRIVATE KEY") != NULL;
	free(why);
	free(text);
	free(pub);
	return rsa;
}
