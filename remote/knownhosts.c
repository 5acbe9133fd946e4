/* knownhosts.c: mlsh's own known_hosts (OpenSSH format) and fingerprints.
 *
 * The policy is OpenSSH's (sshconnect.c check_host_key with
 * StrictHostKeyChecking=accept-new), checked against ssh and ssh-keygen -F
 * on the same file by tests/remote/hostkeys.t:
 *   - a key held by an "@revoked" line whose hosts match is always refused,
 *     even on first contact;
 *   - if any plain key is known for the host, under any key type, the
 *     offered key must be one of them; any other key is a change and is
 *     refused, naming both fingerprints and the ssh-keygen -R command that
 *     forgets the old pin;
 *   - "@cert-authority" lines are never pins of their key.  libssh2 1.10
 *     negotiates no *-cert-v01 host key algorithms, so mlsh cannot check a
 *     host certificate: a host covered only by @cert-authority lines is
 *     refused (OpenSSH would verify the certificate; accepting its plain
 *     key on first use would be a downgrade), until a plain line pins it;
 *   - otherwise the host is new: the key must match the fingerprints the
 *     instance published (when the caller has them), the strict policy
 *     refuses it, and else it is recorded.
 *
 * Host names are matched as OpenSSH does: comma-separated patterns with
 * '*' and '?', '!' negation, case-insensitive, and hashed "|1|salt|hash"
 * entries (ssh-keygen -H).  A connection looks its host up under one name:
 * the alias the caller gave (mlsh uses the instance id, like OpenSSH's
 * HostKeyAlias, so two workspaces reusing 10.0.1.x never share a pin),
 * else "HOST" or "[HOST]:PORT".  Recorded lines are "ALIAS,HOST TYPE KEY"
 * so `ssh-keygen -F HOST` finds them too, while mlsh (and OpenSSH with
 * HostKeyAlias) only ever trusts them under the alias.
 *
 * Lines written before aliases existed ("10.0.1.5 TYPE KEY", one address,
 * nothing else) are not pins any more: such an address may belong to
 * another workspace's instance.  On first contact under an alias, a legacy
 * line for the address holding exactly the offered key is converted (the
 * line is replaced by the alias line, silently); legacy lines with other
 * keys are left alone and ignored.
 *
 * The file is re-read on every check so several mlsh processes can share
 * it.  Every change rewrites it under a lock (.<file>.lock, flock): a temp
 * file created 0600 in the same directory, fsync, rename; lines mlsh does
 * not understand are kept byte for byte.  Nothing is ever written through a
 * symbolic link (O_NOFOLLOW; a symlinked file is an error). */
#include "remote/internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define KH_MAX_SIZE (16 * 1024 * 1024)

enum { MARK_NONE, MARK_REVOKED, MARK_CA };

/* One parsed line; pointers into the file's text. */
struct kh_line {
	int marker;
	const char *hosts;
	size_t hostslen;
	const char *type;
	size_t typelen;
	unsigned char *blob;		/* allocated */
	size_t bloblen;
};

static int expected_ok(struct rmt_session *, struct rmt_conn *, const char *fp,
    char **cause);
static unsigned char *b64_decode(const char *, size_t, size_t *);

/* Base64 of a key blob, as known_hosts stores it. */
static char *
b64_encode(const unsigned char *p, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)len);
	return out;
}

static unsigned char *
b64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char *raw;
	size_t pad = 0;
	int n;

	if (len == 0 || len % 4 != 0 || len > 64 * 1024)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/' &&
		    !(s[i] == '=' && i >= len - 2))
			return NULL;
	raw = xmalloc(len / 4 * 3 + 1);
	if ((n = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)len)) < 0) {
		free(raw);
		return NULL;
	}
	if (s[len - 1] == '=')
		pad++;
	if (s[len - 2] == '=')
		pad++;
	*outlen = (size_t)n - pad;
	return raw;
}

/* The key type an SSH key blob names (its first string), or NULL. */
static char *
blob_type(const unsigned char *blob, size_t len)
{
	uint32_t n;

	if (len < 4)
		return NULL;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
	    (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > 64 || n > len - 4)
		return NULL;
	for (uint32_t i = 0; i < n; i++)
		if (!isgraph(blob[4 + i]))
			return NULL;
	return xstrndup((const char *)blob + 4, n);
}

/* "ED25519" for ssh-ed25519, as ssh-keygen -l and ssh print types. */
static const char *
type_label(const char *type)
{
	if (type == NULL)
		return "unknown";
	if (strcmp(type, "ssh-ed25519") == 0)
		return "ED25519";
	if (strncmp(type, "ecdsa-sha2-", 11) == 0)
		return "ECDSA";
	if (strcmp(type, "ssh-rsa") == 0)
		return "RSA";
	if (strcmp(type, "ssh-dss") == 0)
		return "DSA";
	return type;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

static size_t
field(const char *p, const char *end)
{
	size_t n = 0;

	while (p + n < end && !is_blank(p[n]))
		n++;
	return n;
}

/* Parse one line [p, end) (no newline).  0 for a line with a key, -1 for a
 * comment, a blank or anything malformed (ignored, as OpenSSH does). */
static int
line_parse(const char *p, const char *end, struct kh_line *l)
{
	size_t n;
	char *t;

	memset(l, 0, sizeof *l);
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return -1;
	if (*p == '@') {
		n = field(p, end);
		if (n == 8 && memcmp(p, "@revoked", 8) == 0)
			l->marker = MARK_REVOKED;
		else if (n == 15 && memcmp(p, "@cert-authority", 15) == 0)
			l->marker = MARK_CA;
		else
			return -1;
		for (p += n; p < end && is_blank(*p); p++)
			;
	}
	l->hosts = p;
	if ((l->hostslen = field(p, end)) == 0)
		return -1;
	for (p += l->hostslen; p < end && is_blank(*p); p++)
		;
	l->type = p;
	if ((l->typelen = field(p, end)) == 0)
		return -1;
	for (p += l->typelen; p < end && is_blank(*p); p++)
		;
	if ((n = field(p, end)) == 0 ||
	    (l->blob = b64_decode(p, n, &l->bloblen)) == NULL)
		return -1;
	/* The blob must be a key of the type the line says. */
	t = blob_type(l->blob, l->bloblen);
	if (t == NULL || strlen(t) != l->typelen || memcmp(t, l->type, l->typelen)) {
		free(t);
		free(l->blob);
		l->blob = NULL;
		return -1;
	}
	free(t);
	return 0;
}

/* OpenSSH's match_pattern: '*' and '?', case-insensitive (name is
 * lowercase already).  Iterative, so a pattern of many stars stays
 * linear-ish instead of exponential. */
static int
pattern_match(const char *s, const char *p, size_t plen)
{
	const char *star = NULL, *pend = p + plen, *ss = NULL;

	while (*s != '\0') {
		if (p < pend && (*p == '?' ||
		    tolower((unsigned char)*p) == (unsigned char)*s)) {
			p++;
			s++;
		} else if (p < pend && *p == '*') {
			star = ++p;
			ss = s;
		} else if (star != NULL) {
			p = star;
			s = ++ss;
		} else
			return 0;
	}
	while (p < pend && *p == '*')
		p++;
	return p == pend;
}

/* A hashed entry "|1|base64(salt)|base64(HMAC-SHA1(salt, name))". */
static int
hashed_match(const char *lname, const char *h, size_t len)
{
	const char *bar;
	unsigned char *salt, *want, md[EVP_MAX_MD_SIZE];
	size_t saltlen, wantlen;
	unsigned int mdlen = 0;
	int ok = 0;

	h += 3;
	len -= 3;
	if ((bar = memchr(h, '|', len)) == NULL)
		return 0;
	salt = b64_decode(h, (size_t)(bar - h), &saltlen);
	want = b64_decode(bar + 1, len - (size_t)(bar - h) - 1, &wantlen);
	if (salt != NULL && want != NULL &&
	    HMAC(EVP_sha1(), salt, (int)saltlen, (const unsigned char *)lname,
	    strlen(lname), md, &mdlen) != NULL && mdlen == wantlen &&
	    memcmp(md, want, mdlen) == 0)
		ok = 1;
	free(salt);
	free(want);
	return ok;
}

static char *
lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

/* OpenSSH's match_hostname on a hosts field: 1 when a pattern matches,
 * -1 when a negated one does (the line is out), 0 otherwise.  With exact,
 * patterns are compared literally (no wildcards, no negation): used to
 * find the lines recorded for one name. */
static int
hosts_match(const char *hosts, size_t len, const char *lname, int exact)
{
	const char *p = hosts, *end = hosts + len;
	int got = 0;

	if (len > 3 && memcmp(hosts, "|1|", 3) == 0)
		return hashed_match(lname, hosts, len);
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		int neg = !exact && n > 0 && *p == '!';

		if (exact) {
			if (n == strlen(lname) && strncasecmp(p, lname, n) == 0)
				got = 1;
		} else if (pattern_match(lname, p + neg, n - (size_t)neg)) {
			if (neg)
				return -1;
			got = 1;
		}
		p += n + (comma != NULL);
	}
	return got;
}

void
rmt_kh_result_release(struct rmt_kh_result *r)
{
	free(r->known_fp);
	free(r->known_type);
	memset(r, 0, sizeof *r);
}

int
rmt_known_hosts_lookup(const char *text, const char *name, const char *addr,
    const void *key, size_t keylen, struct rmt_kh_result *r)
{
	char *lname = lower(name), *laddr = lower(addr != NULL ? addr : name);
	int alias = strcmp(lname, laddr) != 0, lineno = 0, ca = 0, revoked = 0;
	const char *p = text != NULL ? text : "", *nl, *end;
	struct kh_line l;

	memset(r, 0, sizeof *r);
	for (; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		end = nl;
		if (end > p && end[-1] == '\r')
			end--;
		lineno++;
		if (line_parse(p, end, &l) == -1)
			continue;
		int same = l.bloblen == keylen && memcmp(l.blob, key, keylen) == 0;
		int m = hosts_match(l.hosts, l.hostslen, lname, 0);
		/* A revocation is about the key: the address counts too. */
		if (l.marker == MARK_REVOKED && same && !revoked && (m == 1 ||
		    (alias && hosts_match(l.hosts, l.hostslen, laddr, 0) == 1))) {
			revoked = lineno;
		} else if (m == 1 && l.marker == MARK_CA) {
			if (ca == 0)
				ca = lineno;
		} else if (m == 1 && l.marker == MARK_NONE) {
			if (same && r->status != RMT_KH_OK) {
				r->status = RMT_KH_OK;
				r->line = lineno;
			} else if (!same) {
				r->nknown++;
				if (r->known_fp == NULL) {
					r->known_fp = rmt_fingerprint(l.blob, l.bloblen);
					r->known_type = xstrndup(l.type, l.typelen);
					if (r->status != RMT_KH_OK)
						r->line = lineno;
				}
			}
		} else if (alias && l.marker == MARK_NONE && same &&
		    l.hostslen == strlen(laddr) &&
		    strncasecmp(l.hosts, laddr, l.hostslen) == 0)
			r->legacy++;
		free(l.blob);
	}
	if (revoked) {
		r->status = RMT_KH_REVOKED;
		r->line = revoked;
	} else if (r->status != RMT_KH_OK) {
		if (r->nknown > 0)
			r->status = RMT_KH_CHANGED;
		else if (ca) {
			r->status = RMT_KH_CA;
			r->line = ca;
		} else
			r->status = RMT_KH_NEW;
	}
	if (r->status != RMT_KH_NEW)
		r->legacy = 0;
	free(lname);
	free(laddr);
	return r->status;
}

/* The file's text ("" when it does not exist yet), refusing symlinks and
 * anything but a regular file. */
static char *
kh_read(const char *path, char **cause)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd == -1) {
		if (errno == ENOENT)
			return xstrdup("");
		if (errno == ELOOP)
			*cause = xasprintf("known hosts \"%s\" is a symbolic link; "
			    "refusing it", path);
		else
			*cause = xasprintf("cannot read known hosts \"%s\": %s",
			    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > KH_MAX_SIZE) {
		*cause = xasprintf("known hosts \"%s\" is not a regular file of "
		    "at most %d MB", path, KH_MAX_SIZE >> 20);
		close(fd);
		return NULL;
	}
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len > KH_MAX_SIZE) {
			*cause = xasprintf("cannot read known hosts \"%s\": %s", path,
			    n < 0 ? strerror(errno) : "too large");
			close(fd);
			buf_release(&b);
			return NULL;
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (b.data == NULL)
		buf_adds(&b, "");
	return buf_detach_release(&b);
}

/* Rewrite the file under its lock: every line for which drop() says 1 goes,
 * then add (a whole line, or NULL) is appended.  Returns how many lines were
 * dropped, or -1.  Atomic (temp file, fsync, rename), mode 0600 whatever the
 * old file's mode was; nothing is written when nothing changes. */
static int
kh_rewrite(const char *path, int (*drop)(void *, const char *, const char *),
    void *arg, const char *add, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *lock, *tmp = NULL;
	const char *base;
	char *text = NULL;
	const char *p, *nl;
	struct buf out;
	int lfd = -1, fd = -1, dropped = 0, ret = -1;

	buf_init(&out);
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700, cause) == -1)
			goto out;
	}
	/* ".known_hosts.lock": no workspace's own "<name>.lock" can be it. */
	base = strrchr(path, '/');
	lock = base != NULL ? xasprintf("%.*s/.%s.lock", (int)(base - path), path,
	    base + 1) : xasprintf(".%s.lock", path);
	lfd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	free(lock);
	if (lfd == -1) {
		*cause = xasprintf("cannot lock known hosts \"%s\": %s", path,
		    strerror(errno));
		goto out;
	}
	/* Another mlsh holds it for a few milliseconds at most; bounded wait. */
	for (int i = 0; flock(lfd, LOCK_EX | LOCK_NB) == -1; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || i == 200) {
			*cause = xasprintf("cannot lock known hosts \"%s\": %s",
			    path, errno == EWOULDBLOCK ? "held by another process "
			    "for over 10 s" : strerror(errno));
			goto out;
		}
		usleep(50 * 1000);
	}
	if ((text = kh_read(path, cause)) == NULL)
		goto out;
	for (p = text; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		if (drop != NULL && drop(arg, p, nl))
			dropped++;
		else
			buf_add(&out, p, (size_t)(nl - p));
	}
	if (dropped == 0 && add == NULL) {
		ret = 0;
		goto out;
	}
	if (out.len > 0 && out.data[out.len - 1] != '\n')
		buf_addc(&out, '\n');
	if (add != NULL)
		buf_printf(&out, "%s\n", add);
	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		*cause = xasprintf("cannot write known hosts \"%s\": %s", path,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) == -1 ||
	    (out.len > 0 && write(fd, out.data, out.len) != (ssize_t)out.len) ||
	    fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		*cause = xasprintf("cannot write known hosts \"%s\": %s", path,
		    strerror(errno));
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	ret = dropped;
out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	if (lfd != -1)
		close(lfd);	/* releases the lock */
	free(tmp);
	free(text);
	free(dir);
	buf_release(&out);
	return ret;
}

struct drop_name {
	char *lname;
	const unsigned char *key;	/* legacy lines: only with this key */
	size_t keylen;
};

/* Plain lines recorded for one name (literally, or hashed): what `down`
 * forgets.  Wildcard lines and markers are the user's and stay. */
static int
drop_named(void *arg, const char *p, const char *nl)
{
	struct drop_name *d = arg;
	struct kh_line l;
	const char *end = nl;
	int hit;

	if (end > p && end[-1] == '\n')
		end--;
	if (end > p && end[-1] == '\r')
		end--;
	if (line_parse(p, end, &l) == -1)
		return 0;
	hit = l.marker == MARK_NONE &&
	    hosts_match(l.hosts, l.hostslen, d->lname, 1) == 1;
	if (d->key != NULL)	/* converting a legacy address line */
		hit = hit && l.hostslen == strlen(d->lname) &&
		    l.bloblen == d->keylen && memcmp(l.blob, d->key, d->keylen) == 0;
	free(l.blob);
	return hit;
}

int
rmt_known_hosts_forget(const char *path, const char *name, char **cause)
{
	struct drop_name d = { lower(name), NULL, 0 };
	int n = kh_rewrite(path, drop_named, &d, NULL, cause);

	free(d.lname);
	return n;
}

int
rmt_known_hosts_has(const char *path, const char *name)
{
	char *cause = NULL, *text = kh_read(path, &cause), *lname = lower(name);
	const char *p, *nl, *end;
	struct kh_line l;
	int found = 0;

	free(cause);
	for (p = text != NULL ? text : ""; *p != '\0' && !found;
	    p = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (line_parse(p, end, &l) == -1)
			continue;
		found = l.marker == MARK_NONE &&
		    hosts_match(l.hosts, l.hostslen, lname, 0) == 1;
		free(l.blob);
	}
	free(text);
	free(lname);
	return found;
}

/* "name" or 'name' quoted for a shell when it needs it ([h]:p does). */
static char *
sh_word(const char *s)
{
	if (s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.,:/@+=")] == '\0')
		return xstrdup(s);
	if (strchr(s, '\'') == NULL)
		return xasprintf("'%s'", s);
	return xasprintf("\"%s\"", s);
}

static char *
forget_hint(const char *path, const char *name)
{
	char *p = sh_word(path), *n = sh_word(name);
	char *h = xasprintf("ssh-keygen -f %s -R %s", p, n);

	free(p);
	free(n);
	return h;
}

/* Host key algorithms libssh2 1.10 knows, in our order of preference.
 * Every name must be one libssh2 knows (see set_methods in session.c). */
static const char *const hostkey_algs[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "ssh-rsa", NULL
};

char *
rmt_hostkey_prefs(struct rmt_conn *c)
{
	const char *path = c->s->cfg.known_hosts;
	char *cause = NULL, *text, *lname = lower(c->khname);
	const char *p, *nl, *end;
	int known[8] = { 0 }, any = 0;
	struct buf b;
	struct kh_line l;

	if (path == NULL || (text = kh_read(path, &cause)) == NULL) {
		free(cause);
		free(lname);
		return NULL;
	}
	/* As OpenSSH's order_hostkeyalgs: the types known for the host first,
	 * so a host with several keys shows the one we pinned. */
	for (p = text; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (line_parse(p, end, &l) == -1)
			continue;
		if (l.marker == MARK_NONE &&
		    hosts_match(l.hosts, l.hostslen, lname, 0) == 1)
			for (int i = 0; hostkey_algs[i] != NULL; i++)
				if (strlen(hostkey_algs[i]) == l.typelen &&
				    memcmp(hostkey_algs[i], l.type, l.typelen) == 0)
					known[i] = any = 1;
		free(l.blob);
	}
	free(text);
	free(lname);
	if (!any)
		return NULL;
	buf_init(&b);
	for (int pass = 1; pass >= 0; pass--)
		for (int i = 0; hostkey_algs[i] != NULL; i++)
			if (known[i] == pass)
				buf_printf(&b, "%s%s", b.len ? "," : "", hostkey_algs[i]);
	return buf_detach_release(&b);
}

/* Record key for c: "ALIAS,HOST TYPE KEY" (or "HOST TYPE KEY" without an
 * alias), replacing legacy address lines that hold the same key. */
static int
record(struct rmt_conn *c, const unsigned char *key, size_t len,
    const char *type, int convert, char **cause)
{
	char *b64 = b64_encode(key, len), *line;
	struct drop_name d = { lower(c->addrname), key, len };
	int rc;

	if (strcmp(c->khname, c->addrname) != 0)
		line = xasprintf("%s,%s %s %s", c->khname, c->addrname, type, b64);
	else
		line = xasprintf("%s %s %s", c->khname, type, b64);
	rc = kh_rewrite(c->s->cfg.known_hosts, convert ? drop_named : NULL, &d,
	    line, cause);
	free(d.lname);
	free(line);
	free(b64);
	return rc == -1 ? -1 : 0;
}

int
rmt_hostkey_check(struct rmt_conn *c, char **cause)
{
	struct rmt_session *s = c->s;
	const char *key, *path = s->cfg.known_hosts;
	struct rmt_kh_result r;
	char *fp, *type, *text, *hint, *why = NULL, *known;
	size_t len;
	int htype, ret = -1;

	if ((key = libssh2_session_hostkey(c->ssh, &len, &htype)) == NULL) {
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
	if ((text = kh_read(path, &why)) == NULL) {
		*cause = xasprintf("%s: %s", c->label, why);
		free(why);
		free(fp);
		return -1;
	}
	type = blob_type((const unsigned char *)key, len);
	if (type == NULL)
		type = xstrdup("unknown");
	known = strcmp(c->khname, c->addrname) != 0 ?
	    xasprintf("%s (%s)", c->label, c->khname) : xstrdup(c->label);
	rmt_known_hosts_lookup(text, c->khname, c->addrname, key, len, &r);
	free(text);
	switch (r.status) {
	case RMT_KH_OK:
		ret = 0;
		break;
	case RMT_KH_REVOKED:
		*cause = xasprintf("%s: host key %s (%s) is revoked (@revoked, "
		    "line %d of %s); refusing it", known, fp, type_label(type),
		    r.line, path);
		break;
	case RMT_KH_CHANGED:
		hint = forget_hint(path, c->khname);
		*cause = xasprintf("%s: host key changed: %s line %d has %s (%s)%s "
		    "for %s, the host offers %s (%s); if the host was rebuilt, "
		    "forget the old key with: %s", known, path, r.line,
		    r.known_fp, type_label(r.known_type), r.nknown > 1 ?
		    " and other keys" : "", c->khname, fp, type_label(type), hint);
		free(hint);
		break;
	case RMT_KH_CA:
		*cause = xasprintf("%s: %s is covered by an @cert-authority line "
		    "(line %d of %s) and mlsh cannot check host certificates; "
		    "refusing its plain key %s (%s): pin it with a plain line "
		    "for %s to trust it", known, c->khname, r.line, path, fp,
		    type_label(type), c->khname);
		break;
	case RMT_KH_NEW:
		if (r.legacy == 0 && s->cfg.hostkey_policy == RMT_HOSTKEY_STRICT) {
			*cause = xasprintf("%s: unknown host key %s (%s) (not in %s)",
			    known, fp, type_label(type), path);
			break;
		}
		if (expected_ok(s, c, fp, cause) == -1)
			break;
		if (record(c, (const unsigned char *)key, len, type, r.legacy > 0,
		    &why) == -1) {
			*cause = xasprintf("%s: %s", c->label, why);
			free(why);
			break;
		}
		if (r.legacy == 0 && s->cfg.new_hostkey != NULL)
			s->cfg.new_hostkey(s->cfg.new_hostkey_arg, c->label, fp);
		ret = 0;
		break;
	}
	rmt_kh_result_release(&r);
	free(known);
	free(type);
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
