#!/usr/bin/env bash
# scripts/check-layers.sh: the include rules of docs/architecture.md. The
# check runs on copies (a small tree made here, and the real one) with one
# wrong #include added, so it is seen to fail as well as to pass.
. "$TESTS_DIR/lib.sh"
ROOT="$TESTS_DIR/.."

# A small tree that keeps every rule: each layer includes itself and below.
mk_clean() {	# mk_clean DIR
	mkdir -p "$1/scripts" "$1/lib" "$1/aws" "$1/shell" "$1/builtins" "$1/stack"
	cp "$ROOT/scripts/check-layers.sh" "$1/scripts/"
	printf '#include "lib/util.h"\n' > "$1/lib/util.c"
	printf '#include "aws/internal.h"\n#include "lib/util.h"\n' > "$1/aws/aws.c"
	printf '#include "aws/aws.h"\n#include "lib/util.h"\n' > "$1/stack/stack.c"
	printf '#include "shell/shell.h"\n#include "aws/aws.h"\n' > "$1/shell/shell.c"
	printf '#include "builtins/builtins.def"\n' > "$1/shell/cmd.c"
	printf '#include "builtins/services.def"\n' > "$1/shell/service.c"
	printf '#include "stack/stack.h"\n#include "shell/shell.h"\n' > "$1/builtins/vpc.c"
}

t_out 'a tree that keeps the layers passes' 'check-layers: ok' '
	mk_clean clean && clean/scripts/check-layers.sh'
t_err 'shell/ including stack/ fails, naming the file and line' \
	'check-layers: 1 include(s) against docs/architecture.md' 1 '
	mk_clean up && printf "#include \"lib/util.h\"\n#include \"stack/stack.h\"\n" > up/shell/repl.c &&
	up/scripts/check-layers.sh 2>/dev/null | grep -qx "shell/repl.c:2: shell/ may not include stack/stack.h (layer stack)" &&
	up/scripts/check-layers.sh >/dev/null'
t_out 'an internal aws/ header from another layer fails' \
	'builtins/region.c:1: aws/creds.h is internal to aws/' '
	mk_clean internal && printf "#include \"aws/creds.h\"\n" > internal/builtins/region.c &&
	internal/scripts/check-layers.sh 2>/dev/null; [ $? -eq 1 ]'
t_out 'the two builtin tables only where the shell reads them' \
	'shell/repl.c:1: shell/ may not include builtins/services.def (layer builtins)' '
	mk_clean tables && printf "#include \"builtins/services.def\"\n" > tables/shell/repl.c &&
	tables/scripts/check-layers.sh 2>/dev/null; [ $? -eq 1 ]'

# The real tree, copied: one wrong include added is reported, and nothing
# else changes.
real_copy() {	# real_copy DIR
	mkdir -p "$1"
	(cd "$ROOT" && tar cf - scripts/check-layers.sh lib aws remote lab stack shell builtins) |
		(cd "$1" && tar xf -)
}
t_ok 'a wrong include in the real tree is reported, and only it' '
	real_copy real && real/scripts/check-layers.sh > before 2>&1
	printf "#include \"remote/remote.h\"\n" >> real/shell/output.c &&
	n=$(wc -l < real/shell/output.c) &&
	! real/scripts/check-layers.sh > after 2>&1 &&
	diff before after | grep -qx "> shell/output.c:$n: shell/ may not include remote/remote.h (layer remote)" &&
	grep -qx "check-layers: ok" before &&
	[ "$(diff before after | grep -c "^>")" -eq 2 ]'
t_out 'the real tree keeps the layers' 'check-layers: ok' '
	"$ROOT/scripts/check-layers.sh"'
t_done
