/* image.h: choosing a machine image for a node kind from a DescribeImages
 * answer. The choice is a pure function of the catalogue (unit-tested on
 * catalogue data); node.c asks EC2 and reports.
 *
 * Rules: an image's name matches one of the kind's patterns (fnmatch);
 * TensorFlow and Amazon Linux images are skipped unless a pattern names
 * them; an image whose description lists the instance families it supports
 * ("Supported EC2 instances: G4dn, G5, P4d, P5. …", as the DLAMI
 * descriptions and release notes do) must list the type's family; a
 * deprecated image (DeprecationTime in the past) only when asked; the
 * newest creation date wins (equal dates: the greater name). */
#ifndef MLSH_IMAGE_H
#define MLSH_IMAGE_H

#include <time.h>
#include <cjson/cJSON.h>

struct image_pick {
	const cJSON *best;		/* the image to use, or NULL */
	const cJSON *unsupported;	/* the newest match rejected only because
					 * its description does not list the
					 * type's family, or NULL */
	const cJSON *last_supported;	/* the newest match (deprecated ones
					 * included) that lists the family */
	int matched;			/* images matching a pattern and the
					 * framework/OS rules */
};

/* Choose among images (a DescribeImages imagesSet, items borrowed) for
 * itype. include_deprecated lets deprecated images win; now is the time
 * DeprecationTime is compared with. */
void image_choose(const cJSON *images, const char *const *patterns,
    const char *itype, int include_deprecated, time_t now,
    struct image_pick *out);

/* "P3" for "p3.8xlarge", "DL1" for "dl1.24xlarge", "G4dn" for
 * "g4dn.xlarge": the family as AWS writes it. Caller frees. */
char *image_family(const char *itype);
/* Whether the image's description lists supported instance families:
 * 1 and fam listed, 0 listed but not fam, -1 no list. */
int image_supports(const cJSON *image, const char *family);
/* The families an image's description lists ("G4dn, G5, P4d"), or NULL.
 * Caller frees. */
char *image_supported_list(const cJSON *image);
/* Whether the image's DeprecationTime ("2024-05-01T00:00:00.000Z") is
 * at or before now. */
int image_deprecated(const cJSON *image, time_t now);
/* The SSH login user the image's OS uses: "ec2-user" for Amazon Linux,
 * else "ubuntu". Borrowed static string. */
const char *image_login_user(const cJSON *image);
/* A supported instance type close to itype among the families the image
 * lists: the same letter with the next generation (P3 -> P4d), else the
 * first listed. Caller frees; NULL when the image lists none. */
char *image_nearest_type(const cJSON *image, const char *itype);

#endif
