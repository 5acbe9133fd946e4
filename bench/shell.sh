# First prompt time and completion latency (DESIGN.md section 9: < 20 ms, < 5 ms).
set -u
M=${MLSH:-./mlsh}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME=$tmp HOME=$tmp
n=100
t0=$(date +%s%N)
for _ in $(seq $n); do "$M" --norc -c exit; done
t1=$(date +%s%N)
echo "  mlsh -c exit: $(( (t1 - t0) / n / 1000 )) us per run (mean of $n; target < 20000)"
cc -O2 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags libcjson) -include string.h \
	-o "$tmp/complete" bench/complete.c build/libmlsh.a \
	$(pkg-config --libs libedit libcurl openssl libcjson libssh2 lua5.4 expat) -lm && "$tmp/complete"
# Lexing is linear: one 7 MB line of 1 M commands read from stdin (issue 10
# item 13: the old lexer took 99 s on such a line).
python3 -c 'import sys; sys.stdout.write("set a b;" * 900000 + "\n")' >"$tmp/big"
t0=$(date +%s%N)
"$M" --norc <"$tmp/big" >/dev/null
t1=$(date +%s%N)
echo "  one 7 MB line of 900000 commands: $(( (t1 - t0) / 1000000 )) ms"
