#!/bin/sh
# embed.sh FILE…: C source for the scripts mlsh carries in its binary
# (user-data, lifecycle scripts, the Grafana dashboard), so they stay
# reviewable files in scripts/ and need no install directory at run time.
# Output: one table `embedded_files[]` of { path, text }.
set -e
n=0
for f in "$@"; do
	printf 'static const char embedded_%d[] =\n' "$n"
	sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' \
	    -e 's/	/\\t/g' -e 's/^/"/' -e 's/$/\\n"/' "$f"
	printf '"";\n'
	n=$((n + 1))
done
printf 'static const struct { const char *path; const char *text; } embedded_files[] = {\n'
n=0
for f in "$@"; do
	printf '\t{ "%s", embedded_%d },\n' "$f" "$n"
	n=$((n + 1))
done
printf '\t{ NULL, NULL }\n};\n'
