#!/usr/bin/env bash
# docs/commands.md is generated from the builtin table: keep it current.
. "$TESTS_DIR/lib.sh"
t_ok 'docs/commands.md matches the table (run make docs)' \
	'diff -u "$TESTS_DIR/../docs/commands.md" <("$MLSH" --gen-docs)'
t_ok 'the man page names every global flag of --help' '
	for f in $("$MLSH" --help | grep -oE -- "--[a-z-]+" | sort -u); do
		grep -qF -- "$(sed "s/-/\\\\-/g" <<<"$f")" "$TESTS_DIR/../docs/mlsh.1" || { echo "man page lacks $f"; exit 1; }
	done'
t_ok 'bash completion knows every global flag' '
	for f in $("$MLSH" --help | grep -oE -- "--[a-z-]+" | sort -u); do
		grep -q -- " $f" "$TESTS_DIR/../completions/mlsh.bash" || { echo "completion lacks $f"; exit 1; }
	done'
t_done
