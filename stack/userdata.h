/* userdata.h: the scripts mlsh carries (the user-data in scripts/userdata,
 * scripts/notebook-onstart.sh, scripts/grafana-dashboard.json, embedded at
 * build time by scripts/embed.sh) and their templating.
 *
 * Templates hold two kinds of placeholders:
 *   @NAME@     inside single quotes ('@REGION@'); the value is quoted for
 *              them (a ' becomes '\''), so any value is safe;
 *   @@NAME@@   alone on a line, inside a quoted here-document: the value (a
 *              whole file) goes in as it is; it must not contain the
 *              here-document's end word (checked: a line equal to the line
 *              after the placeholder).
 * An @NAME@ (upper-case letters, digits, _) without a value is an error, so
 * a typo never reaches a machine. */
#ifndef MLSH_USERDATA_H
#define MLSH_USERDATA_H

#include <stddef.h>

struct userdata_var {
	const char *name;		/* "REGION" */
	const char *value;		/* NULL: "" */
};

/* The embedded text of path ("scripts/userdata/node.sh"), or NULL. */
const char *userdata_file(const char *path);

/* Render tmpl. Returns the text (caller frees), or NULL with *cause. */
char *userdata_render(const char *tmpl, const struct userdata_var *vars,
    size_t n, char **cause);

/* s without its comment lines (blanks, then '#', and not "#!" or
 * "# shellcheck"), in place: what goes to a machine when the reviewed
 * scripts with their comments are over EC2's limit. Returns s. */
char *userdata_strip_comments(char *s);

/* EC2 takes at most 16 KB of user-data (before base64). */
#define USERDATA_MAX 16384

#endif
