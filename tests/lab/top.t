#!/usr/bin/env bash
# top in the lab: two nodes from `node dl1 up --count 2`; `top --once --json`
# samples both (numbers in range, /efs mounted), a fake nvidia-smi on the
# node's PATH ($HOME/.local/bin, which the sampler searches first) gives the
# accelerator entries; a node whose sshd is frozen (SIGSTOP: it accepts TCP
# but never answers) is "no answer" within its bound while the other still
# shows; the live view in tmux shows both nodes and leaves on q with the
# terminal back to the prompt. Bad --interval values are one line. Needs
# root (the lab).
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
command -v tmux >/dev/null || { echo "not ok - tmux is installed"; exit 1; }

export MLSH_LAB_NAME="mlshtop$$"
. "$TESTS_DIR/lab/lab-lib.sh"
TS="mlshtop$$"
STOPPED=""
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	tmux -L "$TS" kill-server 2>/dev/null
	"$MLSH" --norc lab down >/dev/null 2>&1
}
t_on_exit cleanup

t_err '--interval 0' "top: --interval must be 1 to 3600, not '0' (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top --interval 0"'
t_err '--interval abc' "top: --interval needs an integer, not 'abc' (usage: top [--once] [--interval SECS])" 2 \
	'"$MLSH" --norc -c "top --interval abc"'


lab_start
t_ok 'a stack with two nodes: vpc up, efs up, node dl1 up --count 2' '
	m -c "vpc up --allow 198.18.0.2/32 --yes" >"$T/vpc.log" 2>&1 &&
	m -c "efs up" >"$T/efs.log" 2>&1 &&
	m -c "node dl1 up --count 2 --yes" >"$T/node.log" 2>&1' || tail -5 "$T/node.log"
t_ok 'both nodes answer, /efs mounted on each' '
	wait_for 150 m -c "ssh dl1-1 mountpoint -q /efs" 2>/dev/null &&
	wait_for 150 m -c "ssh dl1-2 mountpoint -q /efs" 2>/dev/null'

m --json -c "top --once" >"$T/top.json" 2>"$T/top.err"
t_ok 'top --once --json: both nodes, answered, numbers in range' '
	py "
assert [n[\"node\"] for n in d] == [\"dl1-1\", \"dl1-2\"], d
for n in d:
    assert n[\"answered\"] is True and n[\"error\"] is None and n[\"state\"] == \"running\", n
    assert 0 <= n[\"cpu_percent\"] <= 100, n
    assert 0 < n[\"mem_used_mb\"] <= n[\"mem_total_mb\"], n
    assert 0 <= n[\"disk_percent\"] <= 100, n
    assert isinstance(n[\"usd_per_hour\"], (int, float)) and n[\"usd_per_hour\"] > 0, n
    assert n[\"accel\"] == [], n
" <"$T/top.json"' || { cat "$T/top.json" "$T/top.err"; }
t_ok 'one new connection at a time (MLSH_TOP_MAX_FRESH=1): --once still samples both, in two rounds' '
	MLSH_TOP_MAX_FRESH=1 m --json -c "top --once" 2>"$T/fresh.err" |
	py "assert [(n[\"node\"], n[\"answered\"], n[\"error\"]) for n in d] == [(\"dl1-1\", True, None), (\"dl1-2\", True, None)], d"' ||
	cat "$T/fresh.err"
t_ok '/efs is mounted: its percent is there, a number' '
	py "assert all(isinstance(n[\"efs_percent\"], int) and 0 <= n[\"efs_percent\"] <= 100 for n in d), d" <"$T/top.json"'

# A fake nvidia-smi with two cards on dl1-1's PATH.
m -c "ssh dl1-1 'mkdir -p .local/bin && printf \"#!/bin/sh\\necho 37, 1024, 16384\\necho 5, 0, 16384\\n\" >.local/bin/nvidia-smi && chmod +x .local/bin/nvidia-smi'" >"$T/fake.log" 2>&1
m --json -c "top --once" >"$T/top2.json" 2>"$T/top2.err"
t_ok 'a fake nvidia-smi on the node gives its accel entries' '
	py "
n = d[0]; assert n[\"node\"] == \"dl1-1\", n
assert n[\"accel\"] == [{\"index\": 0, \"util_percent\": 37, \"mem_used_mb\": 1024, \"mem_total_mb\": 16384},
                      {\"index\": 1, \"util_percent\": 5, \"mem_used_mb\": 0, \"mem_total_mb\": 16384}], n
" <"$T/top2.json"' || cat "$T/top2.json" "$T/fake.log"
t_ok 'the text table shows both nodes and the cards' '
	m -c "top --once" >"$T/top.txt" 2>&1 && grep -q "^NODE  *STATE  *CPU" "$T/top.txt" &&
	grep -q "^dl1-1 .*37% 1/16G 5% 0/16G" "$T/top.txt" && grep -q "^dl1-2  *running" "$T/top.txt"' || cat "$T/top.txt"

# A run on each node: two progress lines with their own times, then a
# long sleep (the run stays alive). dl1-1: 5% then 25% in 40 s, ETA 150 s;
# dl1-2: 5% then 75% in 140 s, ETA 50 s.
prog() { # FILE LAST_TIME EPOCH STEP
	printf '#!/bin/sh\necho "[2026-01-01 00:00:00] [0/2][0/10] Loss_D: 1.0 Loss_G: 2.0"\n' >"$1"
	printf 'echo "[2026-01-01 %s] [%s/2][%s/10] Loss_D: 0.5 Loss_G: 1.5"\nexec sleep 900\n' "$2" "$3" "$4" >>"$1"
}
prog "$T/p1.sh" 00:00:40 0 4
prog "$T/p2.sh" 00:02:20 1 4
t_ok 'a train run on each node' '
	m -c "cp $T/p1.sh dl1-1:p1.sh" >"$T/run.log" 2>&1 && m -c "cp $T/p2.sh dl1-2:p2.sh" >>"$T/run.log" 2>&1 &&
	m -c "train run --node dl1-1 --name r1 -- sh p1.sh" >>"$T/run.log" 2>&1 &&
	m -c "train run --node dl1-2 --name r2 -- sh p2.sh" >>"$T/run.log" 2>&1' || cat "$T/run.log"
has_progress() { m --json -c "train status r2" 2>/dev/null | py "d = d[0] if isinstance(d, list) else d; assert d[\"progress\"][\"fraction\"] == 0.75" 2>/dev/null; }
wait_for 150 has_progress
m --json -c "top --once" >"$T/top5.json" 2>"$T/top5.err"
t_ok 'top --once --json: each node'\''s run with its progress and ETA' '
	py "
a, b = d
assert a[\"run\"][\"name\"] == \"r1\" and a[\"run\"][\"epoch\"] == 0 and a[\"run\"][\"epochs\"] == 2, a
assert a[\"run\"][\"fraction\"] == 0.25 and a[\"run\"][\"eta_seconds\"] == 150, a
assert a[\"run\"][\"last\"] == \"Loss_D: 0.5 Loss_G: 1.5\" and a[\"run\"][\"elapsed_seconds\"] >= 0, a
assert b[\"run\"][\"name\"] == \"r2\" and b[\"run\"][\"fraction\"] == 0.75 and b[\"run\"][\"eta_seconds\"] == 50, b
" <"$T/top5.json"' || cat "$T/top5.json" "$T/top5.err"
t_ok 'and each node'\''s autostop from its watchdog: the setting, a countdown only while idle' '
	py "
for n in d:
    s = n[\"autostop\"]
    assert s[\"source\"] == \"watchdog\" and s[\"setting_seconds\"] > 0, n
    if s[\"state\"] == \"idle\":	# its last check came before the run
        assert 0 <= s[\"stops_in_seconds\"] <= s[\"setting_seconds\"], n
    else:
        assert s[\"state\"] in (\"busy\", None) and s[\"stops_in_seconds\"] is None, n
" <"$T/top5.json"' || cat "$T/top5.json"
t_ok 'the text table: RUN and AUTOSTOP columns' '
	m -c "top --once" >"$T/top5.txt" 2>&1 && grep -q "^NODE .* RUN  *AUTOSTOP  *\$/H" "$T/top5.txt" &&
	grep -q "^dl1-1 .* r1 25% ETA 2m30s " "$T/top5.txt" && grep -q "^dl1-2 .* r2 75% ETA 50s " "$T/top5.txt"' ||
	cat "$T/top5.txt"

# The live view in tmux (own socket), then q.
tmux -L "$TS" new-session -d -s top -x 160 -y 30 \
	"env HOME=$HOME XDG_STATE_HOME=$XDG_STATE_HOME MLSH_LAB_NAME=$MLSH_LAB_NAME TERM=xterm $MLSH --norc --lab"
screen() { tmux -L "$TS" capture-pane -p -t top 2>/dev/null; }
seen() { screen | grep -Eq -- "$1"; }
wait_for 300 seen 'mlsh default@' >/dev/null
tmux -L "$TS" send-keys -t top 'top' Enter
t_ok 'the live view shows both nodes with a CPU history' '
	wait_for 300 seen "^dl1-2 +running +[0-9]+%" && seen "^dl1-1 +running +[0-9]+%" && seen "CPU HISTORY" &&
	seen "q quits"' || screen
tmux -L "$TS" send-keys -t top q
t_ok 'q leaves, the screen and the prompt come back, the terminal cooked again' '
	wait_for 150 eval "! seen \"q quits\"" && tmux -L "$TS" send-keys -t top "echo back at the prompt" Enter &&
	wait_for 150 seen "^back at the prompt"' || screen

# Freeze dl1-2's sshd: connections are accepted (the kernel's backlog),
# nothing answers.
# Its listener is found among the processes of its namespace (by its
# process title), not from the lab's sshd.pid, which can name another
# process (its parent, or a PID reused since).
ID2=$(rec dl1-2 '["id"]')
STOPPED=$(for p in $(ip netns pids "$MLSH_LAB_NAME-$ID2" 2>/dev/null); do ps -o pid=,args= -p "$p"; done |
	awk '/sshd: .*\[listener\]/ { print $1; exit }')
t_ok 'dl1-2'\''s sshd found and frozen' '[ -n "$STOPPED" ] && kill -STOP "$STOPPED"'
timeout 60 "$MLSH" --norc --lab --json -c "top --once" >"$T/top3.json" 2>"$T/top3.err"
t_ok 'a node that does not answer is reported, the other still shows' '
	py "
a, b = d
assert a[\"node\"] == \"dl1-1\" and a[\"answered\"] is True and a[\"cpu_percent\"] is not None, a
assert a[\"run\"][\"name\"] == \"r1\" and a[\"run\"][\"fraction\"] == 0.25, a
assert b[\"node\"] == \"dl1-2\" and b[\"answered\"] is False and b[\"error\"] and b[\"run\"] is None, b
assert b[\"cpu_percent\"] is None and b[\"accel\"] == [] and b[\"usd_per_hour\"] > 0, b
" <"$T/top3.json"' || cat "$T/top3.json" "$T/top3.err"
t_ok 'the text table says "no answer" for it and why below' '
	timeout 60 "$MLSH" --norc --lab -c "top --once" >"$T/top4.txt" 2>&1 &&
	grep -q "^dl1-1  *running  *[0-9]*%" "$T/top4.txt" && grep -q "^dl1-2  *running  *no answer" "$T/top4.txt" &&
	grep -q "^dl1-2: .*timed out" "$T/top4.txt"' || cat "$T/top4.txt"
kill -CONT "$STOPPED" 2>/dev/null; STOPPED=""
t_err 'the live view without a terminal: one line' \
	"top: the live view needs a terminal; 'top --once' prints one table" 1 'm -c top </dev/null'
# Before t_done: it removes $T, where the lab keeps what lab down needs.
t_ok 'lab down leaves no namespace of this lab' '
	"$MLSH" --norc lab down >/dev/null 2>&1 && ! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_done
