/* duration.c: see duration.h. */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "lib/duration.h"
#include "lib/util.h"

static long
unit_secs(int c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	}
	return 0;
}

int
duration_parse(const char *s, long min_s, long max_s, int allow_off,
    long *out, char **cause)
{
	const char *p = s;
	long total = 0;
	char lo[32], hi[32];

	*cause = NULL;
	if (s == NULL || *s == '\0') {
		*cause = xasprintf("empty duration: give %s", DURATION_FORMS);
		return -1;
	}
	if (allow_off && strcmp(s, "off") == 0) {
		*out = 0;
		return 0;
	}
	/* Units descend (2h30m, not 30m2h) and each is used once: a number
	 * then its unit, repeated; a bare number is not a duration. */
	long last = LONG_MAX;
	while (*p != '\0') {
		long v = 0, u;

		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p)) {
			if (v > (LONG_MAX - 9) / 10)
				goto big;
			v = v * 10 + (*p++ - '0');
		}
		u = unit_secs(*p);
		if (u == 0 || u >= last)
			goto bad;
		last = u;
		p++;
		if (v > (LONG_MAX - total) / u)
			goto big;
		total += v * u;
	}
	duration_format(min_s, lo, sizeof lo);
	duration_format(max_s, hi, sizeof hi);
	if (total < min_s || total > max_s) {
		*cause = xasprintf("duration '%s' is out of range: %s to %s%s",
		    s, lo, hi, allow_off ? ", or off" : "");
		return -1;
	}
	*out = total;
	return 0;
big:
	duration_format(max_s, hi, sizeof hi);
	*cause = xasprintf("duration '%s' is too long (at most %s)", s, hi);
	return -1;
bad:
	*cause = xasprintf("bad duration '%s': give %s", s, DURATION_FORMS);
	return -1;
}

void
duration_format(long secs, char *buf, unsigned n)
{
	static const struct { long s; char c; } u[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t len = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	if (secs <= 0) {
		snprintf(buf, n, "%s", secs == 0 ? "off" : "0s");
		return;
	}
	for (size_t i = 0; i < 4 && len < n; i++) {
		if (secs < u[i].s)
			continue;
		int w = snprintf(buf + len, n - len, "%ld%c", secs / u[i].s,
		    u[i].c);
		if (w < 0)
			return;
		len += (size_t)w;
		secs %= u[i].s;
	}
}
