/* metrics NODE [--since 1h]: the node's CloudWatch metrics in the terminal,
 * the Grafana dashboard's panels without a browser.
 *
 * What is read: every metric of namespace "mlsh" with the dimensions
 * Workspace=<ws> and Node=<name> (what scripts/userdata/metrics.sh sends:
 * cpu_used_percent, mem_used_percent, disk_used_percent per path,
 * gpu_/hpu_utilization and _memory_used per card index), found with
 * ListMetrics, plus AWS/EC2 CPUUtilization of the node's instance id. The
 * series come from GetMetricData, one request for up to 500 queries,
 * repeated with NextToken until the answer has none:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_ListMetrics.html
 * botocore's model (1.43) lists smithy-rpc-v2-cbor, json and query for
 * CloudWatch; the query protocol is still served (and is what moto reads),
 * so this uses mlsh's query/XML layer.
 *
 * The period: one point per panel column at most (--since / width, rounded
 * up to a whole minute), and never finer than CloudWatch keeps for that age
 * (data older than 15 days only at 5 minutes, older than 63 days only at
 * 1 hour; everything is gone after 455 days): "Metrics retention" in
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "aws/aws.h"
#include "lib/duration.h"
#include "shell/plot.h"
#include "stack/stack.h"
#include "builtins/node.h"
#include "builtins/target.h"

#define NAMESPACE	"mlsh"
#define SINCE_DEFAULT	"1h"
#define SINCE_MIN	300L			/* 5 minutes: a few points */
#define SINCE_MAX	(455L * 86400)		/* what CloudWatch keeps */
#define MAX_SERIES	200			/* per node: a dl1 has ~25 */
#define MAX_QUERIES	500			/* per GetMetricData call */
#define MAX_PAGES	100
#define PANEL_HEIGHT	10

struct series {
	char *metric, *ns, *label, *unit;
	cJSON *dims;		/* [{Name, Value}], owned */
	size_t n, cap;
	double *t, *v;		/* epoch seconds, values */
};

struct mreq {
	const char *node, *iid;
	long since, period;
	time_t start, end;
	struct series *v;
	size_t n;
};

static void
series_free(struct mreq *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct series *s = &m->v[i];
		free(s->metric);
		free(s->ns);
		free(s->label);
		free(s->unit);
		cJSON_Delete(s->dims);
		free(s->t);
		free(s->v);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* --since: a duration from 5 minutes to what CloudWatch keeps. */
static int
since_parse(struct mlsh_ctx *ctx, const char *s, long *out)
{
	char *cause = NULL, *off;

	if (duration_parse(s, SINCE_MIN, SINCE_MAX, 0, out, &cause) == 0)
		return 0;
	/* DURATION_FORMS offers "off", which --since does not take. */
	if ((off = strstr(cause, ", or off")) != NULL && off[8] == '\0')
		*off = '\0';
	cmd_error(ctx, "--since: %s", cause);
	free(cause);
	return -1;
}

/* Seconds per point: at most width points, whole minutes, and what
 * CloudWatch still has at that age. */
static long
choose_period(long since, int width)
{
	long p = (since + width - 1) / (width > 0 ? width : 1), step = 60;

	if (since > 63L * 86400)
		step = 3600;
	else if (since > 15L * 86400)
		step = 300;
	p = (p + step - 1) / step * step;
	return p < step ? step : p;
}

/* The panel width: the terminal's, else $COLUMNS, else 80. */
static int
term_width(void)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");
	int w = 80;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		w = ws.ws_col;
	else if (c != NULL && atoi(c) > 0)
		w = atoi(c);
	return w < PLOT_MIN_WIDTH ? PLOT_MIN_WIDTH : w > 240 ? 240 : w;
}

static const char *
jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A number the XML layer may give as a string. */
static double
jnum(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return v->valuedouble;
	if (cJSON_IsString(v) && v->valuestring[0] != '\0') {
		char *e;
		double d = strtod(v->valuestring, &e);
		return *e == '\0' ? d : NAN;
	}
	return NAN;
}

/* ISO 8601 UTC ("2026-12-02T16:25:00Z", "…00.000Z", "…00+00:00"). */
static double
iso_time(const cJSON *v)
{
	struct tm tm;

	if (!cJSON_IsString(v))
		return NAN;
	memset(&tm, 0, sizeof tm);
	if (strptime(v->valuestring, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return NAN;
	return (double)timegm(&tm);
}

static void
iso_format(char *b, size_t n, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(b, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The unit of metrics.sh's names (ListMetrics does not tell). */
static const char *
unit_of(const char *metric)
{
	if (strstr(metric, "percent") || strstr(metric, "tilization"))
		return "%";
	if (strstr(metric, "memory_used"))
		return "MB";
	return "";
}

/* "disk_used_percent path=/efs": the metric and the dimensions beyond the
 * node's own. */
static char *
label_of(const char *metric, const char *ns, const cJSON *dims)
{
	struct buf b;
	const cJSON *d;

	buf_init(&b);
	buf_printf(&b, "%s", metric);
	if (strcmp(ns, NAMESPACE) != 0)
		buf_printf(&b, " (%s)", ns);
	cJSON_ArrayForEach(d, dims) {
		const char *k = jstr(d, "Name"), *v = jstr(d, "Value");
		if (k && v && strcmp(k, "Workspace") && strcmp(k, "Node") &&
		    strcmp(k, "InstanceId"))
			buf_printf(&b, " %s=%s", k, v);
	}
	buf_addc(&b, '\0');
	return b.data;
}

static void
series_add(struct mreq *m, const char *ns, const char *metric,
    const cJSON *dims)
{
	struct series *s;
	char *label = label_of(metric, ns, dims);

	for (size_t i = 0; i < m->n; i++)	/* moto lists a metric per datum */
		if (strcmp(m->v[i].label, label) == 0) {
			free(label);
			return;
		}
	m->v = xreallocarray(m->v, m->n + 1, sizeof *m->v);
	s = &m->v[m->n++];
	memset(s, 0, sizeof *s);
	s->metric = xstrdup(metric);
	s->ns = xstrdup(ns);
	s->label = label;
	s->unit = xstrdup(unit_of(metric));
	s->dims = dims ? cJSON_Duplicate(dims, 1) : cJSON_CreateArray();
}

static cJSON *
dim(const char *k, const char *v)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "Name", k);
	cJSON_AddStringToObject(d, "Value", v);
	return d;
}

/* The node's metrics in namespace mlsh (ListMetrics, every page), and the
 * instance's EC2 CPU. */
static int
list_series(struct mlsh_ctx *ctx, struct mreq *m)
{
	cJSON *p = cJSON_CreateObject(), *dims, *items = NULL, *it;
	struct aws_error err;
	int rc;

	memset(&err, 0, sizeof err);
	cJSON_AddStringToObject(p, "Namespace", NAMESPACE);
	dims = cJSON_AddArrayToObject(p, "Dimensions");
	cJSON_AddItemToArray(dims, dim("Workspace", ctx->workspace));
	cJSON_AddItemToArray(dims, dim("Node", m->node));
	rc = aws_paginate(shell_aws(ctx), "cloudwatch", "ListMetrics", p,
	    "Metrics", MAX_PAGES, &items, &err);
	cJSON_Delete(p);
	if (rc != 0) {
		char *line = aws_error_line(&err);
		cmd_error(ctx, "%s", line);
		free(line);
		aws_error_release(&err);
		return -1;
	}
	if (m->iid != NULL) {
		cJSON *d = cJSON_CreateArray();
		cJSON_AddItemToArray(d, dim("InstanceId", m->iid));
		series_add(m, "AWS/EC2", "CPUUtilization", d);
		cJSON_Delete(d);
	}
	cJSON_ArrayForEach(it, items) {
		const char *ns = jstr(it, "Namespace"), *name = jstr(it,
		    "MetricName");
		if (ns != NULL && name != NULL && m->n < MAX_SERIES)
			series_add(m, ns, name, cJSON_GetObjectItemCaseSensitive(
			    it, "Dimensions"));
	}
	cJSON_Delete(items);
	return 0;
}

/* The request for series [from, to): ids "m<i>", the node's period. */
static cJSON *
gmd_params(const struct mreq *m, size_t from, size_t to, const char *token)
{
	cJSON *p = cJSON_CreateObject(), *qs;
	char t[32], id[16];

	iso_format(t, sizeof t, (double)m->start);
	cJSON_AddStringToObject(p, "StartTime", t);
	iso_format(t, sizeof t, (double)m->end);
	cJSON_AddStringToObject(p, "EndTime", t);
	cJSON_AddStringToObject(p, "ScanBy", "TimestampAscending");
	if (token != NULL)
		cJSON_AddStringToObject(p, "NextToken", token);
	qs = cJSON_AddArrayToObject(p, "MetricDataQueries");
	for (size_t i = from; i < to; i++) {
		cJSON *q = cJSON_CreateObject(), *ms, *met;
		snprintf(id, sizeof id, "m%zu", i);
		cJSON_AddStringToObject(q, "Id", id);
		ms = cJSON_AddObjectToObject(q, "MetricStat");
		met = cJSON_AddObjectToObject(ms, "Metric");
		cJSON_AddStringToObject(met, "Namespace", m->v[i].ns);
		cJSON_AddStringToObject(met, "MetricName", m->v[i].metric);
		cJSON_AddItemToObject(met, "Dimensions",
		    cJSON_Duplicate(m->v[i].dims, 1));
		cJSON_AddNumberToObject(ms, "Period", (double)m->period);
		cJSON_AddStringToObject(ms, "Stat", "Average");
		cJSON_AddItemToArray(qs, q);
	}
	return p;
}

static void
point_add(struct series *s, double t, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->t = xreallocarray(s->t, s->cap, sizeof *s->t);
		s->v = xreallocarray(s->v, s->cap, sizeof *s->v);
	}
	s->t[s->n] = t;
	s->v[s->n++] = v;
}

/* One page's MetricDataResults into the series their ids name. */
static void
take_results(struct mreq *m, const cJSON *res)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(res,
	    "MetricDataResults")) {
		const char *id = jstr(r, "Id");
		const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r,
		    "Timestamps"), *vs = cJSON_GetObjectItemCaseSensitive(r,
		    "Values"), *t, *v;
		char *e;
		unsigned long i;

		if (id == NULL || id[0] != 'm' || (i = strtoul(id + 1, &e,
		    10), *e != '\0') || i >= m->n)
			continue;
		for (t = ts ? ts->child : NULL, v = vs ? vs->child : NULL;
		    t != NULL && v != NULL; t = t->next, v = v->next) {
			double tt = iso_time(t), vv = jnum(v);
			if (isfinite(tt) && isfinite(vv))
				point_add(&m->v[i], tt, vv);
		}
	}
}

static int
cmp_point(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Points in time order (pages may come in any order). */
static void
series_sort(struct series *s)
{
	double *pairs = xcalloc(s->n ? s->n * 2 : 1, sizeof *pairs);

	for (size_t i = 0; i < s->n; i++)
		pairs[2 * i] = s->t[i], pairs[2 * i + 1] = s->v[i];
	qsort(pairs, s->n, 2 * sizeof *pairs, cmp_point);
	for (size_t i = 0; i < s->n; i++)
		s->t[i] = pairs[2 * i], s->v[i] = pairs[2 * i + 1];
	free(pairs);
}

/* GetMetricData for every series, 500 queries a call, each call followed
 * through its NextToken pages. */
static int
fetch(struct mlsh_ctx *ctx, struct mreq *m)
{
	for (size_t from = 0; from < m->n; from += MAX_QUERIES) {
		size_t to = m->n - from > MAX_QUERIES ? from + MAX_QUERIES :
		    m->n;
		char *token = NULL;
		int page = 0;
		do {
			cJSON *p = gmd_params(m, from, to, token), *res = NULL;
			struct aws_error err;
			const char *next;
			memset(&err, 0, sizeof err);
			free(token);
			token = NULL;
			if (aws_call(shell_aws(ctx), "cloudwatch",
			    "GetMetricData", p, &res, &err) != 0) {
				char *line = aws_error_line(&err);
				cJSON_Delete(p);
				cmd_error(ctx, "%s", line);
				free(line);
				aws_error_release(&err);
				return -1;
			}
			cJSON_Delete(p);
			take_results(m, res);
			if ((next = jstr(res, "NextToken")) != NULL && *next)
				token = xstrdup(next);
			cJSON_Delete(res);
		} while (token != NULL && ++page < MAX_PAGES);
		if (token != NULL) {
			free(token);
			return cmd_error(ctx, "GetMetricData: more than %d "
			    "pages; give a shorter --since", MAX_PAGES), -1;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		series_sort(&m->v[i]);
	return 0;
}

static void
min_max_last(const struct series *s, double *lo, double *hi, double *last)
{
	*lo = *hi = *last = s->v[0];
	for (size_t i = 1; i < s->n; i++) {
		if (s->v[i] < *lo)
			*lo = s->v[i];
		if (s->v[i] > *hi)
			*hi = s->v[i];
	}
	*last = s->v[s->n - 1];
}

static cJSON *
series_json(const struct series *s)
{
	cJSON *o = cJSON_CreateObject(), *d, *ts, *vs;
	const cJSON *x;
	char t[32];
	double lo, hi, last;

	cJSON_AddStringToObject(o, "metric", s->metric);
	cJSON_AddStringToObject(o, "namespace", s->ns);
	d = cJSON_AddObjectToObject(o, "dimensions");
	cJSON_ArrayForEach(x, s->dims)
		if (jstr(x, "Name") && jstr(x, "Value"))
			cJSON_AddStringToObject(d, jstr(x, "Name"),
			    jstr(x, "Value"));
	cJSON_AddStringToObject(o, "unit", s->unit);
	ts = cJSON_AddArrayToObject(o, "timestamps");
	vs = cJSON_AddArrayToObject(o, "values");
	for (size_t i = 0; i < s->n; i++) {
		iso_format(t, sizeof t, s->t[i]);
		cJSON_AddItemToArray(ts, cJSON_CreateString(t));
		cJSON_AddItemToArray(vs, cJSON_CreateNumber(s->v[i]));
	}
	min_max_last(s, &lo, &hi, &last);
	cJSON_AddNumberToObject(o, "min", lo);
	cJSON_AddNumberToObject(o, "max", hi);
	cJSON_AddNumberToObject(o, "last", last);
	return o;
}

static cJSON *
result_json(struct mlsh_ctx *ctx, const struct mreq *m)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char t[32];

	cJSON_AddStringToObject(o, "node", m->node);
	if (m->iid != NULL)
		cJSON_AddStringToObject(o, "instance_id", m->iid);
	else
		cJSON_AddNullToObject(o, "instance_id");
	cJSON_AddStringToObject(o, "workspace", ctx->workspace);
	cJSON_AddNumberToObject(o, "since_seconds", (double)m->since);
	cJSON_AddNumberToObject(o, "period_seconds", (double)m->period);
	iso_format(t, sizeof t, (double)m->start);
	cJSON_AddStringToObject(o, "start", t);
	iso_format(t, sizeof t, (double)m->end);
	cJSON_AddStringToObject(o, "end", t);
	arr = cJSON_AddArrayToObject(o, "metrics");
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].n > 0)
			cJSON_AddItemToArray(arr, series_json(&m->v[i]));
	return o;
}

/* One panel: the series over minutes before the end, its unit, min, max
 * and last value in the title. */
static int
panel(struct mlsh_ctx *ctx, const struct mreq *m, const struct series *s,
    int width, struct buf *out)
{
	double *x = xcalloc(s->n, sizeof *x), lo, hi, last;
	struct plot_series ser = { s->label, s->v };
	struct plot_opts o = { .width = width, .height = PANEL_HEIGHT,
		.color = ctx->color };
	char *title, *pic, *cause = NULL, xl[64], end[16];
	time_t te = m->end;
	struct tm tm;

	for (size_t i = 0; i < s->n; i++)
		x[i] = (s->t[i] - (double)m->end) / 60.0;
	min_max_last(s, &lo, &hi, &last);
	gmtime_r(&te, &tm);
	strftime(end, sizeof end, "%H:%M", &tm);
	snprintf(xl, sizeof xl, "minutes to %s UTC", end);
	title = xasprintf("%s%smin %.4g  max %.4g  last %.4g", s->unit,
	    *s->unit ? "  " : "", lo, hi, last);
	o.title = title;
	o.xlabel = xl;
	pic = plot_render(x, s->n, &ser, 1, &o, &cause);
	free(title);
	free(x);
	if (pic == NULL) {
		cmd_error(ctx, "cannot draw %s: %s", s->label, cause);
		free(cause);
		return -1;
	}
	buf_printf(out, "%s\n", pic);
	free(pic);
	return 0;
}

static int
panels(struct mlsh_ctx *ctx, const struct mreq *m, cJSON **result)
{
	int width = term_width();
	struct buf out;
	char d[32];

	duration_format(m->since, d, sizeof d);
	buf_init(&out);
	buf_printf(&out, "%s%s%s%s · last %s · a point per %lds · CloudWatch "
	    "namespace %s\n\n", m->node, m->iid ? " (" : "", m->iid ? m->iid :
	    "", m->iid ? ")" : "", d, m->period, NAMESPACE);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].n > 0 && panel(ctx, m, &m->v[i], width, &out) != 0) {
			buf_release(&out);
			return 1;
		}
	buf_addc(&out, '\0');
	*result = cJSON_CreateString(out.data);
	buf_release(&out);
	return 0;
}

/* The node's record: any instance of the workspace (nodes, grafana). */
static const cJSON *
node_record(struct mlsh_ctx *ctx, const char *name)
{
	const cJSON *res = target_resources(ctx), *rec, *t;
	struct strlist names;
	struct buf list;

	if (res == NULL)
		return NULL;
	rec = cJSON_GetObjectItemCaseSensitive(res, name);
	t = cJSON_GetObjectItemCaseSensitive(rec, "type");
	if (rec != NULL && cJSON_IsString(t) && strcmp(t->valuestring,
	    "instance") == 0)
		return rec;
	strlist_init(&names);
	node_list(res, &names);
	buf_init(&list);
	for (size_t i = 0; i < names.n; i++)
		buf_printf(&list, "%s%s", i ? ", " : "", names.v[i]);
	cmd_error(ctx, "no node '%s' in workspace '%s' (nodes: %s)", name,
	    ctx->workspace, names.n ? list.data : "none");
	buf_release(&list);
	strlist_release(&names);
	return NULL;
}

static int
metrics_exec(struct mlsh_ctx *ctx, struct cmd_args *a, cJSON **result)
{
	const char *since = cmd_opt(a, "since");
	const cJSON *rec;
	struct mreq m;
	int rc = 1, any = 0;
	char d[32];

	memset(&m, 0, sizeof m);
	m.node = a->argv[0];
	if (since_parse(ctx, since ? since : SINCE_DEFAULT, &m.since) != 0 ||
	    (rec = node_record(ctx, m.node)) == NULL)
		return 1;
	m.iid = jstr(rec, "id");
	m.period = choose_period(m.since, term_width() - 10);
	m.end = time(NULL) / 60 * 60 + 60;	/* the current minute too */
	m.start = m.end - m.since;
	if (list_series(ctx, &m) != 0 || fetch(ctx, &m) != 0)
		goto out;
	for (size_t i = 0; i < m.n; i++)
		any |= m.v[i].n > 0;
	duration_format(m.since, d, sizeof d);
	if (shell_wants_data(ctx, a->json))
		*result = result_json(ctx, &m), rc = 0;
	else if (!any)
		cmd_error(ctx, "no CloudWatch metrics for %s in the last %s "
		    "(namespace %s, dimensions Workspace=%s Node=%s; the node "
		    "sends them every minute once its mlsh-metrics timer runs)",
		    m.node, d, NAMESPACE, ctx->workspace, m.node);
	else
		rc = panels(ctx, &m, result);
out:
	series_free(&m);
	return rc;
}

static void
metrics_complete(struct mlsh_ctx *ctx, const struct cmd_args *a,
    const char *opt, int argi, const char *prefix, struct strlist *out)
{
	(void)a;
	if (opt == NULL && argi == 0)
		target_complete(ctx, prefix, out);
}

static const struct mlsh_opt metrics_opts[] = {
	{ "since", 0, OPT_STRING, NULL, "DURATION", "how far back (default "
	    SINCE_DEFAULT "; 5m to 455d, what CloudWatch keeps)" },
	OPT_END
};

const struct mlsh_cmd cmd_metrics_entry = {
	.name = "metrics",
	.summary = "a node's CloudWatch metrics drawn in the terminal",
	.args_usage = "NODE",
	.help = "Reads what the node's mlsh-metrics timer sends to CloudWatch "
	    "(namespace mlsh, dimensions Workspace and Node: CPU, memory, "
	    "disk per path, accelerator utilisation and memory per card) and "
	    "the instance's AWS/EC2 CPUUtilization, with GetMetricData over "
	    "the last --since (one point per column of the terminal at most, "
	    "whole minutes; coarser for old data as CloudWatch keeps it), and "
	    "draws one panel per series with its unit, min, max and last "
	    "value. A node that sent nothing in that time is one line, not an "
	    "empty chart. --json gives {node, instance_id, workspace, "
	    "since_seconds, period_seconds, start, end, metrics: [{metric, "
	    "namespace, dimensions, unit, timestamps, values, min, max, "
	    "last}]} (metrics [] when there are none).",
	.opts = metrics_opts,
	.min_args = 1, .max_args = 1,
	.complete = metrics_complete,
	.exec = metrics_exec,
	.flags = CMD_READONLY,
};
