/* userdata: embedded scripts and their templating (see userdata.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "stack/userdata.h"
#include "lib/util.h"

#include "embedded.inc"	/* generated from scripts/ by scripts/embed.sh */

const char *
userdata_file(const char *path)
{
	for (size_t i = 0; embedded_files[i].path != NULL; i++)
		if (strcmp(embedded_files[i].path, path) == 0)
			return embedded_files[i].text;
	return NULL;
}

static const struct userdata_var *
var_find(const struct userdata_var *vars, size_t n, const char *name,
    size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len &&
		    strncmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

/* Length of an @NAME@ name at p (after the first @), or 0. */
static size_t
name_len(const char *p)
{
	size_t n = 0;

	while (isupper((unsigned char)p[n]) || isdigit((unsigned char)p[n]) ||
	    p[n] == '_')
		n++;
	return n > 0 && p[n] == '@' ? n : 0;
}

char *
userdata_render(const char *tmpl, const struct userdata_var *vars, size_t n,
    char **cause)
{
	struct buf b;
	const char *p = tmpl;

	buf_init(&b);
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
		size_t k;

		/* A whole-file line: @@NAME@@ */
		if (linelen > 4 && p[0] == '@' && p[1] == '@' &&
		    (k = name_len(p + 2)) > 0 && p[2 + k + 1] == '@' &&
		    linelen == k + 4) {
			const struct userdata_var *v = var_find(vars, n, p + 2, k);
			const char *val, *end, *q;
			size_t elen;
			if (v == NULL) {
				*cause = xasprintf("template: no value for "
				    "@@%.*s@@", (int)k, p + 2);
				goto fail;
			}
			val = v->value ? v->value : "";
			/* The end word: the line after the placeholder. */
			end = eol ? eol + 1 : "";
			elen = strcspn(end, "\n");
			for (q = val; elen > 0 && *q; ) {
				size_t l = strcspn(q, "\n");
				if (l == elen && strncmp(q, end, elen) == 0) {
					*cause = xasprintf("template: the text "
					    "for @@%.*s@@ contains its end "
					    "word '%.*s'", (int)k, p + 2,
					    (int)elen, end);
					goto fail;
				}
				q += l;
				if (*q == '\n')
					q++;
			}
			buf_adds(&b, val);
			if (*val != '\0' && val[strlen(val) - 1] != '\n')
				buf_addc(&b, '\n');
			p = eol ? eol + 1 : p + linelen;
			continue;
		}
		for (size_t i = 0; i < linelen; i++) {
			const struct userdata_var *v;
			if (p[i] != '@' || (k = name_len(p + i + 1)) == 0) {
				buf_addc(&b, p[i]);
				continue;
			}
			if ((v = var_find(vars, n, p + i + 1, k)) == NULL) {
				*cause = xasprintf("template: no value for "
				    "@%.*s@", (int)k, p + i + 1);
				goto fail;
			}
			for (const char *c = v->value ? v->value : ""; *c; c++) {
				if (*c == '\'')
					buf_adds(&b, "'\\''");
				else
					buf_addc(&b, *c);
			}
			i += k + 1;
		}
		if (eol != NULL)
			buf_addc(&b, '\n');
		p += linelen + (eol ? 1 : 0);
	}
	return buf_detach_release(&b);
fail:
	buf_release(&b);
	return NULL;
}

/* The here-document a kept line opens (<<WORD, <<-WORD, <<'WORD',
 * <<"WORD"): its terminator into term, or "" when it opens none. */
static void
heredoc_term(const char *line, size_t len, char *term, size_t cap, int *dash)
{
	const char *p = line, *end = line + len;

	*term = '\0';
	while ((p = memmem(p, (size_t)(end - p), "<<", 2)) != NULL) {
		size_t n = 0;

		p += 2;
		if (p < end && *p == '<') {	/* <<< is a here-string */
			p++;
			continue;
		}
		*dash = p < end && *p == '-';
		if (*dash)
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && (*p == '\'' || *p == '"'))
			p++;
		if (p < end && isdigit((unsigned char)*p))
			continue;	/* $((1 << 4)), not a here-document */
		while (p + n < end && n + 1 < cap && (isalnum((unsigned char)p[n]) ||
		    p[n] == '_'))
			n++;
		if (n == 0)
			continue;
		memcpy(term, p, n);
		term[n] = '\0';
		return;
	}
}

/* Drop comment lines (keeping #! and shellcheck directives), never inside a
 * here-document, whose lines are data (a YAML or Markdown file it writes). */
char *
userdata_strip_comments(char *s)
{
	char *r = s, *w = s, term[64] = "";
	int dash = 0;

	while (*r != '\0') {
		size_t len = strcspn(r, "\n"), lead = strspn(r, " \t");
		int nl = r[len] == '\n';

		if (*term != '\0') {
			size_t t = dash ? strspn(r, "\t") : 0;
			if (len - t == strlen(term) && strncmp(r + t, term,
			    len - t) == 0)
				*term = '\0';
		} else if (r[lead] == '#' && r[lead + 1] != '!' &&
		    strncmp(r + lead, "# shellcheck", 12) != 0) {
			r += len + nl;
			continue;
		} else
			heredoc_term(r, len, term, sizeof term, &dash);
		memmove(w, r, len + nl);
		w += len + nl;
		r += len + nl;
	}
	*w = '\0';
	return s;
}
