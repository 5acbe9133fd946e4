/* api_shape.c: `api` results as the AWS CLI prints them.
 *
 * aws_call gives one data model for every protocol (aws/xml.h): fine for
 * mlsh's own code, but XML's element names (vpcSet, isDefault) and all-text
 * scalars ("22", "false", "" for an empty list) are not what a jq filter
 * written for `aws … --output json` expects. botocore parses a response by
 * walking the operation's output shape (botocore/parsers.py): members are
 * looked up by their locationName and named by the member name, lists are
 * lists even when empty, scalars are typed, anything the shape does not
 * know is dropped. This file does the same walk over aws_call's tree, with
 * the shapes compiled in (scripts/gen-api-actions.py -> api_shapes.inc).
 *
 * Timestamps: the AWS CLI v2 prints them ISO 8601 (v1 with
 * cli_timestamp_format = iso8601): Python's isoformat() of botocore's parse
 * (https://docs.aws.amazon.com/cli/latest/userguide/cliv2-migration-changes.html
 * "Timestamp output"), so epoch numbers from the JSON protocols and XML's
 * text come out alike. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "builtins/api_shape.h"
#include "builtins/api_shapes.inc"

static cJSON *shape_value(int xml, unsigned idx, const cJSON *raw);

static const char *
name_text(unsigned k)
{
	return api_shape_names + api_shape_name_at[k];
}

/* "22" -> 22 for an XML integer or float; the text unchanged when it is
 * not a number (botocore would fail on it; showing it loses nothing). */
static cJSON *
xml_number(const cJSON *raw)
{
	char *end;
	double d;

	if (!cJSON_IsString(raw))
		return cJSON_Duplicate(raw, 1);
	d = strtod(raw->valuestring, &end);
	if (end == raw->valuestring || *end != '\0' || !isfinite(d))
		return cJSON_Duplicate(raw, 1);
	return cJSON_CreateNumber(d);
}

/* An IAM policy document: URL-encoded JSON text, which botocore decodes
 * (handlers.py json_decode_policies: json.loads(unquote(value))); the text
 * as it came when it is not JSON. */
static cJSON *
policy_document(const cJSON *raw)
{
	const char *s;
	struct buf b;
	cJSON *v;

	if (!cJSON_IsString(raw))
		return cJSON_Duplicate(raw, 1);
	buf_init(&b);
	for (s = raw->valuestring; *s != '\0'; s++) {
		if (*s == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hex[3] = { s[1], s[2], '\0' };
			buf_addc(&b, (char)strtol(hex, NULL, 16));
			s += 2;
		} else {
			buf_addc(&b, *s);
		}
	}
	v = cJSON_ParseWithLength(b.data != NULL ? b.data : "", b.len);
	buf_release(&b);
	return v != NULL ? v : cJSON_Duplicate(raw, 1);
}

static cJSON *
shape_scalar(int xml, int kind, const cJSON *raw)
{
	char *ts;
	cJSON *v;

	switch (kind) {
	case API_SH_BOOL:
		if (cJSON_IsString(raw))
			return cJSON_CreateBool(strcmp(raw->valuestring,
			    "true") == 0);
		break;
	case API_SH_INT:
	case API_SH_FLOAT:
		if (xml)
			return xml_number(raw);
		break;
	case API_SH_POLICY:
		return policy_document(raw);
	case API_SH_TIMESTAMP:
		if ((ts = api_iso_timestamp(raw)) != NULL) {
			v = cJSON_CreateString(ts);
			free(ts);
			return v;
		}
		break;
	default:	/* strings and blobs (the CLI keeps blobs base64) */
		if (xml && cJSON_IsArray(raw))
			return cJSON_CreateString("");	/* <fooSet/> */
		if (xml && cJSON_IsObject(raw))
			return NULL;
		break;
	}
	return cJSON_Duplicate(raw, 1);
}

/* An empty XML element: "" (or [] for a name ending in Set, aws/xml.h). */
static int
xml_empty(const cJSON *raw)
{
	return (cJSON_IsString(raw) && raw->valuestring[0] == '\0') ||
	    (cJSON_IsArray(raw) && cJSON_GetArraySize(raw) == 0);
}

static cJSON *
shape_struct(int xml, const struct api_shape *sh, const cJSON *raw)
{
	cJSON *out;

	if (xml && cJSON_IsArray(raw) && cJSON_GetArraySize(raw) > 0)
		raw = cJSON_GetArrayItem(raw, 0);	/* a repeated element */
	if (xml && xml_empty(raw))
		return cJSON_CreateObject();
	if (!cJSON_IsObject(raw))
		return NULL;
	out = cJSON_CreateObject();
	for (unsigned i = 0; i < sh->n; i++) {
		const struct api_shape_member *m =
		    &api_shape_members[sh->first + i];
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(raw,
		    name_text(xml ? m->wire : m->name));
		cJSON *v;

		if (c == NULL || cJSON_IsNull(c))
			continue;
		if ((v = shape_value(xml, m->shape, c)) != NULL)
			cJSON_AddItemToObject(out, name_text(m->name), v);
	}
	return out;
}

static void
list_add(int xml, unsigned item, cJSON *out, const cJSON *raw)
{
	cJSON *v;

	if (cJSON_IsNull(raw))
		return;
	if ((v = shape_value(xml, item, raw)) != NULL)
		cJSON_AddItemToArray(out, v);
}

/* XML lists come as arrays (children all <item> or <member>), as "" or []
 * when empty, or, when their children have other names, as an object of
 * them: botocore takes every child of the list's element as an item. */
static cJSON *
shape_list(int xml, const struct api_shape *sh, const cJSON *raw)
{
	unsigned item = api_shape_members[sh->first].shape;
	const cJSON *c, *e;
	cJSON *out;

	if (!cJSON_IsArray(raw) && !(xml && cJSON_IsObject(raw)))
		return xml ? cJSON_CreateArray() : NULL;
	out = cJSON_CreateArray();
	cJSON_ArrayForEach(c, raw) {
		if (cJSON_IsObject(raw) && cJSON_IsArray(c)) {
			cJSON_ArrayForEach(e, c)
				list_add(xml, item, out, e);
		} else {
			list_add(xml, item, out, c);
		}
	}
	return out;
}

static void
map_entry(const struct api_shape *sh, cJSON *out, const cJSON *entry)
{
	const struct api_shape_member *k = &api_shape_members[sh->first];
	const struct api_shape_member *v = k + 1;
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(entry,
	    name_text(k->wire));
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(entry,
	    name_text(v->wire));
	cJSON *x;

	if (!cJSON_IsString(key) || val == NULL)
		return;
	if ((x = shape_value(1, v->shape, val)) != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(out, key->valuestring);
		cJSON_AddItemToObject(out, key->valuestring, x);
	}
}

/* XML maps: <Name><entry><key/><value/></entry>…</Name> (not flattened:
 * the generator refuses flattened shapes). JSON maps are objects. */
static cJSON *
shape_map(int xml, const struct api_shape *sh, const cJSON *raw)
{
	unsigned val = api_shape_members[sh->first + 1].shape;
	const cJSON *c, *entries;
	cJSON *out, *v;

	if (xml && xml_empty(raw))
		return cJSON_CreateObject();
	if (!cJSON_IsObject(raw))
		return NULL;
	out = cJSON_CreateObject();
	if (xml) {
		entries = cJSON_GetObjectItemCaseSensitive(raw, "entry");
		if (cJSON_IsObject(entries))
			map_entry(sh, out, entries);
		else if (cJSON_IsArray(entries)) {
			cJSON_ArrayForEach(c, entries)
				map_entry(sh, out, c);
		}
		return out;
	}
	cJSON_ArrayForEach(c, raw) {
		if (!cJSON_IsNull(c) && (v = shape_value(0, val, c)) != NULL)
			cJSON_AddItemToObject(out, c->string, v);
	}
	return out;
}

static cJSON *
shape_value(int xml, unsigned idx, const cJSON *raw)
{
	const struct api_shape *sh = &api_shapes[idx];

	switch (sh->kind) {
	case API_SH_NONE:
		return cJSON_CreateObject();
	case API_SH_STRUCT:
		return shape_struct(xml, sh, raw);
	case API_SH_LIST:
		return shape_list(xml, sh, raw);
	case API_SH_MAP:
		return shape_map(xml, sh, raw);
	}
	return shape_scalar(xml, sh->kind, raw);
}

cJSON *
api_shape_output(size_t s, size_t k, int xml, const cJSON *raw)
{
	cJSON *v = shape_value(xml, api_outputs[s][k], raw);

	return v != NULL ? v : cJSON_CreateObject();
}

/* --- timestamps --- */

static char *
iso_from_epoch(double t)
{
	double whole = floor(t);
	long us = (long)nearbyint((t - whole) * 1e6);	/* half-even, as Python */
	time_t secs;
	struct tm tm;
	char day[32];

	if (us >= 1000000) {
		whole += 1;
		us -= 1000000;
	}
	if (!isfinite(t) || fabs(whole) > 1e14)
		return NULL;
	secs = (time_t)whole;
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return NULL;
	if (us != 0)
		return xasprintf("%s.%06ld+00:00", day, us);
	return xasprintf("%s+00:00", day);
}

/* YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH[:]MM]: the fraction cut to
 * microseconds (dateutil does), Z printed +00:00, no zone left out. */
static char *
iso_from_text(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	long us = 0, scale = 100000;
	char sep, sign = 0, zone[8] = "";

	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d:%2d%n", &y, &mo, &d, &sep, &h,
	    &mi, &sec, &n) != 7 || (sep != 'T' && sep != 't' && sep != ' ') ||
	    mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return NULL;
	s += n;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			us += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		snprintf(zone, sizeof zone, "+00:00");
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++;
		if (sscanf(s, "%2d%n", &oh, &n) != 1 || n != 2)
			return NULL;
		s += 2;
		if (*s == ':')
			s++;
		if (sscanf(s, "%2d%n", &om, &n) != 1 || n != 2)
			return NULL;
		s += 2;
		snprintf(zone, sizeof zone, "%c%02d:%02d", sign, oh, om);
	}
	if (*s != '\0')
		return NULL;
	if (us != 0)
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ld%s", y, mo,
		    d, h, mi, sec, us, zone);
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%s", y, mo, d, h, mi,
	    sec, zone);
}

char *
api_iso_timestamp(const cJSON *v)
{
	char *end, *iso;
	double t;

	if (cJSON_IsNumber(v))
		return iso_from_epoch(v->valuedouble);
	if (!cJSON_IsString(v))
		return NULL;
	if ((iso = iso_from_text(v->valuestring)) != NULL)
		return iso;
	t = strtod(v->valuestring, &end);
	if (end != v->valuestring && *end == '\0')
		return iso_from_epoch(t);
	return NULL;
}
