/* image.c: choosing a node's machine image from the catalogue (image.h).
 *
 * The facts modelled: Deep Learning AMI descriptions name the instance
 * families they support ("Supported EC2 instances: G4dn, G5, G6, Gr6, G6e,
 * P4d, P4de, P5, P5e, P5en. PyTorch-2.6, …"; the DLAMI release notes,
 * https://docs.aws.amazon.com/dlami/latest/devguide/appendix-ami-release-notes.html,
 * list the same); current GPU DLAMIs no longer list P3, older ones did
 * ("Supported EC2 instances: G3, P3, P3dn, P4d, G5, G4dn"); images past
 * their DeprecationTime are hidden by DescribeImages unless
 * IncludeDeprecated is set
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html). */
#include "stack/image.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lib/util.h"


char *
image_family(const char *itype)
{
	const char *dot = strchr(itype, '.');
	size_t n = dot ? (size_t)(dot - itype) : strlen(itype);
	char *f = xstrndup(itype, n);
	size_t i = 0;

	/* Leading letters upper case ("DL1", "P3"), the rest as AWS writes
	 * them ("G4dn", "P4de"). */
	while (f[i] != '\0' && isalpha((unsigned char)f[i])) {
		f[i] = (char)toupper((unsigned char)f[i]);
		i++;
	}
	return f;
}

char *
image_supported_list(const cJSON *image)
{
	const char *d = json_string(image, "description"), *p, *end;
	static const char key[] = "Supported EC2 instances:";

	if (d == NULL || (p = strcasestr(d, key)) == NULL)
		return NULL;
	p += sizeof key - 1;
	while (*p == ' ')
		p++;
	/* The list ends at the first full stop. */
	end = strchr(p, '.');
	return xstrndup(p, end ? (size_t)(end - p) : strlen(p));
}

int
image_supports(const cJSON *image, const char *family)
{
	char *list = image_supported_list(image), *tok, *save = NULL;
	int found = 0;

	if (list == NULL)
		return -1;
	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		size_t n = strlen(tok);
		/* Newer descriptions write P4 for the P4d family. */
		if (strcasecmp(tok, family) == 0 || (strncasecmp(tok, family,
		    n) == 0 && strcasecmp(family + n, "d") == 0))
			found = 1;
	}
	free(list);
	return found;
}

const char *
image_login_user(const cJSON *image)
{
	const char *n = json_string(image, "name"), *d = json_string(image, "description");
	const char *s[2] = { n, d };

	for (int i = 0; i < 2; i++)
		if (s[i] != NULL && (strcasestr(s[i], "Amazon Linux") != NULL ||
		    strstr(s[i], "AL2") != NULL || strstr(s[i], "amzn") != NULL))
			return "ec2-user";
	return "ubuntu";
}

/* A type of a family, for a suggestion that can be typed: the sizes the
 * big GPU families come in (P4 in a DLAMI description is p4d). */
static char *
family_type(const char *fam)
{
	static const struct { const char *fam, *type; } t[] = {
		{ "P4", "p4d.24xlarge" }, { "P4d", "p4d.24xlarge" },
		{ "P4de", "p4de.24xlarge" }, { "P5", "p5.48xlarge" },
		{ "P5e", "p5e.48xlarge" }, { "P5en", "p5en.48xlarge" },
		{ "P3dn", "p3dn.24xlarge" }, { "DL1", "dl1.24xlarge" },
		{ "Gr6", "gr6.4xlarge" }, { "P6-B200", "p6-b200.48xlarge" },
	};
	char *r;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (strcasecmp(t[i].fam, fam) == 0)
			return xstrdup(t[i].type);
	r = xasprintf("%s.xlarge", fam);
	for (char *c = r; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return r;
}

char *
image_nearest_type(const cJSON *image, const char *itype)
{
	char *list = image_supported_list(image), *fam = image_family(itype);
	char *tok, *save = NULL, *pick = NULL, *r, *first = NULL;
	size_t letters = 0;
	int gen = 0, best_gen = 0;

	if (list == NULL) {
		free(fam);
		return NULL;
	}
	while (isalpha((unsigned char)fam[letters]))
		letters++;
	gen = atoi(fam + letters);
	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		size_t l = 0;
		int g;
		if (first == NULL)
			first = tok;
		while (isalpha((unsigned char)tok[l]))
			l++;
		g = atoi(tok + l);
		/* Same letters, the smallest generation above ours. */
		if (l == letters && strncasecmp(tok, fam, l) == 0 && g > gen &&
		    (pick == NULL || g < best_gen)) {
			pick = tok;
			best_gen = g;
		}
	}
	if (pick == NULL)
		pick = first;
	if (pick == NULL) {
		free(list);
		free(fam);
		return NULL;
	}
	r = family_type(pick);
	free(list);
	free(fam);
	return r;
}

/* A pattern that names a framework or an OS asks for it. */
static int
asked(const char *const *patterns, const char *what)
{
	for (size_t i = 0; patterns != NULL && patterns[i] != NULL; i++)
		if (strcasestr(patterns[i], what) != NULL)
			return 1;
	return 0;
}

static int
name_matches(const char *name, const char *const *patterns)
{
	for (size_t i = 0; patterns != NULL && patterns[i] != NULL; i++)
		if (fnmatch(patterns[i], name, 0) == 0)
			return 1;
	return 0;
}

int
image_deprecated(const cJSON *img, time_t now)
{
	const char *t = json_string(img, "deprecationTime");
	struct tm tm;

	if (t == NULL || *t == '\0')
		return 0;
	memset(&tm, 0, sizeof tm);
	if (strptime(t, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return timegm(&tm) <= now;
}

static int
newer(const cJSON *a, const cJSON *b)
{
	const char *da = json_string(a, "creationDate"), *db;
	int c;

	if (b == NULL)
		return 1;
	db = json_string(b, "creationDate");
	c = strcmp(da ? da : "", db ? db : "");
	if (c == 0)
		c = strcmp(json_string(a, "name") ? json_string(a, "name") : "",
		    json_string(b, "name") ? json_string(b, "name") : "");
	return c > 0;
}

void
image_choose(const cJSON *images, const char *const *patterns,
    const char *itype, int include_deprecated, time_t now,
    struct image_pick *out)
{
	const cJSON *img;
	char *fam = image_family(itype);
	int tf = asked(patterns, "TensorFlow");
	int al = asked(patterns, "Amazon Linux") || asked(patterns, "AL2");

	memset(out, 0, sizeof *out);
	cJSON_ArrayForEach(img, images) {
		const char *name = json_string(img, "name");
		const char *state = json_string(img, "imageState");
		int dep, sup;

		if (name == NULL || !name_matches(name, patterns))
			continue;
		if (state != NULL && strcmp(state, "available") != 0)
			continue;
		if (!tf && strcasestr(name, "TensorFlow") != NULL)
			continue;
		if (!al && strcmp(image_login_user(img), "ec2-user") == 0)
			continue;
		out->matched++;
		dep = image_deprecated(img, now);
		sup = image_supports(img, fam);
		if (sup == 1 && newer(img, out->last_supported))
			out->last_supported = img;
		if (dep && !include_deprecated)
			continue;
		if (sup == 0) {
			if (newer(img, out->unsupported))
				out->unsupported = img;
			continue;
		}
		if (newer(img, out->best))
			out->best = img;
	}
	free(fam);
}
