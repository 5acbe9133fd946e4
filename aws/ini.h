/* ini.h: the AWS shared config/credentials file format.
 *
 * "[section]" headers, "key = value" lines, full-line comments starting with
 * '#' or ';', inline comments after whitespace (" # …", " ; …"), blank lines
 * and surrounding whitespace ignored. Indented lines under a key whose value
 * is empty ("s3 =") form a sub-section; they are kept as "parent.key" so they
 * never shadow top-level keys. Other indented "key = value" lines are plain
 * keys (stray indentation is tolerated); an indented line without '=' under
 * a key with a value continues it (appended after a newline). Keys compare without
 * case; section names are kept as written (trimmed). A repeated section
 * merges into the first; a repeated key keeps the last value. */
#ifndef MLSH_INI_H
#define MLSH_INI_H

#include <stddef.h>

struct ini_entry {
	char *key;
	char *value;
};

struct ini_section {
	char *name;
	struct ini_entry *entries;
	size_t n, cap;
};

struct ini {
	struct ini_section *sections;
	size_t n, cap;
};

/* Parse text (len bytes, need not be NUL-terminated). Never fails: lines that
 * are neither headers, keys nor comments are skipped, as are keys before the
 * first header. credential_process values keep their " #" and " ;": they
 * are shell command lines. Release with ini_release. */
void ini_parse(struct ini *, const char *text, size_t len);
/* Parse a file; a missing file gives an empty ini and returns 0, any other
 * read error returns -1 with an allocated *cause. */
int ini_load(struct ini *, const char *path, char **cause);
void ini_release(struct ini *);

/* The section of that exact name, or NULL. Borrowed. */
const struct ini_section *ini_section(const struct ini *, const char *name);
/* The value of key in the section, or NULL. Borrowed. */
const char *ini_get(const struct ini_section *, const char *key);

#endif
