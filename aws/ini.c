/* ini.c: the AWS shared config/credentials file format (see ini.h). */
#include "aws/ini.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/util.h"

static struct ini_section *section_get(struct ini *, const char *, size_t);
static void section_set(struct ini_section *, const char *, char *);
static struct ini_entry *entry_find(const struct ini_section *, const char *);
static void trim(const char **, const char **);
static const char *inline_comment(const char *, const char *);

void
ini_parse(struct ini *ini, const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	struct ini_section *sec = NULL;
	char *parent = NULL;		/* key with an empty value: sub-section */
	struct ini_entry *last = NULL;	/* key with a value: continuations */

	ini->sections = NULL;
	ini->n = ini->cap = 0;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;		/* a UTF-8 BOM from a Windows editor */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *ls = p, *le = nl ? nl : end;
		int indented;

		p = nl ? nl + 1 : end;
		if (le > ls && le[-1] == '\r')
			le--;
		indented = ls < le && (*ls == ' ' || *ls == '\t');
		trim(&ls, &le);
		if (ls == le || *ls == '#' || *ls == ';')
			continue;
		if (*ls == '[') {
			const char *close = memchr(ls, ']', (size_t)(le - ls));
			const char *ns = ls + 1, *ne;

			free(parent);
			parent = NULL;
			last = NULL;
			if (close == NULL) {
				sec = NULL;	/* malformed header: skip its keys */
				continue;
			}
			ne = close;
			trim(&ns, &ne);
			sec = section_get(ini, ns, (size_t)(ne - ns));
			continue;
		}
		if (sec == NULL)
			continue;

		const char *eq = memchr(ls, '=', (size_t)(le - ls));
		if (eq == NULL) {
			/* A bare indented line continues the previous value. */
			if (indented && last != NULL) {
				const char *ve = inline_comment(ls, le);
				char *v;

				trim(&ls, &ve);
				v = xasprintf("%s\n%.*s", last->value,
				    (int)(ve - ls), ls);
				free(last->value);
				last->value = v;
			}
			continue;
		}
		const char *ks = ls, *ke = eq, *vs = eq + 1, *ve = le;
		trim(&ks, &ke);
		/* A command line keeps its " #" and " ;". */
		if ((size_t)(ke - ks) != 18 ||
		    strncasecmp(ks, "credential_process", 18) != 0)
			ve = inline_comment(vs, ve);
		trim(&vs, &ve);
		if (ks == ke)
			continue;
		char *key = xstrndup(ks, (size_t)(ke - ks));
		char *val = xstrndup(vs, (size_t)(ve - vs));
		if (indented && parent != NULL) {
			char *full = xasprintf("%s.%s", parent, key);

			section_set(sec, full, val);
			free(full);
			free(key);
			continue;
		}
		free(parent);
		parent = NULL;
		last = NULL;
		if (*val == '\0')
			parent = xstrdup(key);
		section_set(sec, key, val);
		if (parent == NULL)
			last = entry_find(sec, key);
		free(key);
	}
	free(parent);
}

int
ini_load(struct ini *ini, const char *path, char **cause)
{
	size_t len;
	char *err = NULL, *text;

	ini->sections = NULL;
	ini->n = ini->cap = 0;
	if (access(path, F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	text = file_read(path, &len, &err);
	if (text == NULL) {
		*cause = err;
		return -1;
	}
	ini_parse(ini, text, len);
	free(text);
	return 0;
}

void
ini_release(struct ini *ini)
{
	for (size_t i = 0; i < ini->n; i++) {
		struct ini_section *s = &ini->sections[i];

		for (size_t j = 0; j < s->n; j++) {
			free(s->entries[j].key);
			free(s->entries[j].value);
		}
		free(s->entries);
		free(s->name);
	}
	free(ini->sections);
	ini->sections = NULL;
	ini->n = ini->cap = 0;
}

const struct ini_section *
ini_section(const struct ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

const char *
ini_get(const struct ini_section *sec, const char *key)
{
	const struct ini_entry *e;

	if (sec == NULL)
		return NULL;
	e = entry_find(sec, key);
	return e ? e->value : NULL;
}

static struct ini_section *
section_get(struct ini *ini, const char *name, size_t len)
{
	struct ini_section *s;

	for (size_t i = 0; i < ini->n; i++) {
		s = &ini->sections[i];
		if (strlen(s->name) == len && memcmp(s->name, name, len) == 0)
			return s;
	}
	if (ini->n == ini->cap) {
		ini->cap = ini->cap ? ini->cap * 2 : 8;
		ini->sections = xreallocarray(ini->sections, ini->cap,
		    sizeof *ini->sections);
	}
	s = &ini->sections[ini->n++];
	s->name = xstrndup(name, len);
	s->entries = NULL;
	s->n = s->cap = 0;
	return s;
}

/* Takes ownership of value. */
static void
section_set(struct ini_section *s, const char *key, char *value)
{
	struct ini_entry *e = entry_find(s, key);

	if (e != NULL) {
		free(e->value);
		e->value = value;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->entries = xreallocarray(s->entries, s->cap, sizeof *s->entries);
	}
	s->entries[s->n].key = xstrdup(key);
	s->entries[s->n].value = value;
	s->n++;
}

static struct ini_entry *
entry_find(const struct ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcasecmp(s->entries[i].key, key) == 0)
			return &s->entries[i];
	return NULL;
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' ||
	    (*e)[-1] == '\r'))
		(*e)--;
}

/* End of a value before an inline comment: '#' or ';' after a blank. */
static const char *
inline_comment(const char *s, const char *e)
{
	for (const char *p = s; p < e; p++)
		if ((*p == '#' || *p == ';') && p > s &&
		    (p[-1] == ' ' || p[-1] == '\t'))
			return p;
	return e;
}
