/* output.c: tables and JSON. */
#include "shell/output.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "lib/util.h"

/* Values, keys and headers come from servers: all go through the one
 * sanitiser (util.c), so none can move the cursor or break the table. */
static char *
sanitize(const char *s)
{
	return str_sanitize(s, 0);
}

size_t
output_width(const char *s)
{
	size_t w = 0;
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n;
		if (*p < 0x80)
			n = 1;
		else if ((*p & 0xe0) == 0xc0)
			n = 2;
		else if ((*p & 0xf0) == 0xe0)
			n = 3;
		else if ((*p & 0xf8) == 0xf0)
			n = 4;
		else
			n = 1;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80) {
				n = 1;
				break;
			}
		p += n;
		w++;
	}
	return w;
}

char *
output_cell(const cJSON *v)
{
	char *s, *r;

	if (v == NULL || cJSON_IsNull(v))
		return xstrdup("-");
	if (cJSON_IsString(v))
		return sanitize(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == (double)(long long)d && d < 1e15 && d > -1e15)
			return xasprintf("%lld", (long long)d);
		return xasprintf("%g", d);
	}
	s = cJSON_PrintUnformatted(v);
	r = sanitize(s ? s : "");
	free(s);
	return r;
}

static void
pad(FILE *f, const char *s, size_t width)
{
	size_t w = output_width(s);
	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

static void
render_table(FILE *f, const cJSON *arr, int color)
{
	struct strlist cols;
	size_t nrows = (size_t)cJSON_GetArraySize(arr), *width, r = 0;
	char ***cells;
	const cJSON *row, *kv;

	struct strlist nested, heads;

	/* Columns in order of first appearance; a column whose every value is
	 * a list or an object is left out and named in a footer (--json shows
	 * everything). */
	strlist_init(&cols);
	strlist_init(&nested);
	cJSON_ArrayForEach(row, arr)
		cJSON_ArrayForEach(kv, row)
			if (!strlist_has(&cols, kv->string))
				strlist_add(&cols, kv->string);
	for (size_t c = 0; c < cols.n; c++) {
		int scalar = 0;
		cJSON_ArrayForEach(row, arr) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row,
			    cols.v[c]);
			if (v != NULL && !cJSON_IsArray(v) && !cJSON_IsObject(v))
				scalar = 1;
		}
		if (!scalar && cols.n > 1) {
			strlist_take(&nested, cols.v[c]);
			memmove(cols.v + c, cols.v + c + 1,
			    (cols.n - c) * sizeof *cols.v);
			cols.n--;
			c--;
		}
	}
	width = xcalloc(cols.n + 1, sizeof *width);
	cells = xcalloc(nrows + 1, sizeof *cells);
	/* The raw names find the cells; the headers print sanitised. */
	strlist_init(&heads);
	for (size_t c = 0; c < cols.n; c++) {
		for (char *p = cols.v[c]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		strlist_take(&heads, sanitize(cols.v[c]));
		width[c] = output_width(heads.v[c]);
	}
	cJSON_ArrayForEach(row, arr) {
		cells[r] = xcalloc(cols.n + 1, sizeof **cells);
		for (size_t c = 0; c < cols.n; c++) {
			const cJSON *v = NULL;
			cJSON_ArrayForEach(kv, row)
				if (strcasecmp(kv->string, cols.v[c]) == 0)
					v = kv;
			cells[r][c] = v ? output_cell(v) : xstrdup("");
			if (output_width(cells[r][c]) > width[c])
				width[c] = output_width(cells[r][c]);
		}
		r++;
	}
	if (color)
		fputs("\033[1m", f);
	for (size_t c = 0; c < cols.n; c++) {
		if (c + 1 < cols.n) {
			pad(f, heads.v[c], width[c]);
			fputs("  ", f);
		} else
			fputs(heads.v[c], f);
	}
	if (color)
		fputs("\033[0m", f);
	fputc('\n', f);
	for (r = 0; r < nrows; r++) {
		for (size_t c = 0; c < cols.n; c++) {
			if (c + 1 < cols.n) {
				pad(f, cells[r][c], width[c]);
				fputs("  ", f);
			} else
				fputs(cells[r][c], f);
			free(cells[r][c]);
		}
		fputc('\n', f);
		free(cells[r]);
	}
	free(cells);
	free(width);
	if (nested.n > 0) {
		fprintf(f, "(not shown: ");
		for (size_t i = 0; i < nested.n; i++) {
			char *n = sanitize(nested.v[i]);
			fprintf(f, "%s%s", i ? ", " : "", n);
			free(n);
		}
		fprintf(f, "; --json shows all)\n");
	}
	strlist_release(&nested);
	strlist_release(&heads);
	strlist_release(&cols);
}

static void
render_object(FILE *f, const cJSON *obj, int color)
{
	size_t w = 0;
	const cJSON *kv;
	char *k;

	cJSON_ArrayForEach(kv, obj) {
		k = sanitize(kv->string);
		if (output_width(k) > w)
			w = output_width(k);
		free(k);
	}
	cJSON_ArrayForEach(kv, obj) {
		char *c = output_cell(kv);
		k = sanitize(kv->string);
		if (color)
			fputs("\033[1m", f);
		pad(f, k, w);
		if (color)
			fputs("\033[0m", f);
		fprintf(f, "  %s\n", c);
		free(c);
		free(k);
	}
}

void
output_render(FILE *f, const cJSON *v, int color)
{
	if (v == NULL)
		return;
	if (cJSON_IsString(v)) {
		/* Text results (help, echo) print verbatim. */
		fputs(v->valuestring, f);
		if (v->valuestring[0] != '\0' &&
		    v->valuestring[strlen(v->valuestring) - 1] != '\n')
			fputc('\n', f);
		return;
	}
	if (cJSON_IsArray(v)) {
		const cJSON *e;
		int all_obj = cJSON_GetArraySize(v) > 0;
		cJSON_ArrayForEach(e, v)
			if (!cJSON_IsObject(e))
				all_obj = 0;
		if (all_obj) {
			render_table(f, v, color);
			return;
		}
		cJSON_ArrayForEach(e, v) {
			char *c = output_cell(e);
			fprintf(f, "%s\n", c);
			free(c);
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		render_object(f, v, color);
		return;
	}
	{
		char *c = output_cell(v);
		fprintf(f, "%s\n", c);
		free(c);
	}
}

/* cJSON escapes C0 controls in strings but passes DEL and C1 controls
 * (U+0080..U+009F, 0x9b is CSI) through: those become \u escapes too, which
 * is the same JSON. They can only occur inside strings. */
static void
json_put_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", f);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[1]);
			p++;
		} else
			fputc(*p, f);
	}
}

void
output_json(FILE *f, const cJSON *v)
{
	char *s;
	if (v == NULL) {
		fputs("null\n", f);
		return;
	}
	s = cJSON_Print(v);
	json_put_safe(f, s ? s : "null");
	fputc('\n', f);
	free(s);
}
