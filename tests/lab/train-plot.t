#!/usr/bin/env bash
# train plot, samples and the speed columns of status in the lab: a fake
# trainer (tests/lab/fake-trainer.py, the log contract of scripts/dcgan
# with fixed times, and a PNG per epoch) runs on a lab node; the picture
# has its axes and both series, --json gives the log's series, samples
# copies the newest PNG byte for byte, status has images/s and the cost of
# an epoch as computed here from the log. Needs root (the lab).
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }

export MLSH_LAB_NAME="mlshtp$$"
. "$TESTS_DIR/lab/lab-lib.sh"
t_on_exit '"$MLSH" --norc lab down >/dev/null 2>&1'

lab_start
t_ok 'a node in the lab: vpc up, node dl1 up' '
	m -c "vpc up --allow 198.18.0.2/32 --yes; node dl1 up --yes" >"$T/up.log" 2>&1 ||
	{ tail -5 "$T/up.log"; false; }'
t_ok 'the node answers through the jump host' '
	wait_for 150 m -c "ssh dl1-1 true" >/dev/null 2>&1'

# The runs: fake (the contract, 2 epochs), early (two progress lines, no
# epoch end yet), quiet (no progress line), bad (its samples are not a
# PNG), big (its samples are 70 MB). Each is waited for with attach.
m -c "cp $TESTS_DIR/lab/fake-trainer.py dl1-1:fake-trainer.py" >/dev/null
L='Loss_D: 1.0 Loss_G: 2.0 D(x): 0.5 D(G(z)): 0.5 / 0.5'
m -c "train run --name fake -- python3 fake-trainer.py out" >/dev/null
m -c "train run --name early -- 'echo \"[2026-12-01 10:00:00] [0/4][9/100] $L\"; echo \"[2026-12-01 10:10:00] [0/4][59/100] $L\"'" >/dev/null
m -c "train run --name quiet -- 'echo hello'" >/dev/null
m -c "train run --name bad -- 'echo not a png >\$HOME/bad.png; echo \"[ts] samples: \$HOME/bad.png\"'" >/dev/null
m -c "train run --name big -- 'printf \"\\211PNG\\r\\n\\032\\n\" >\$HOME/big.png; truncate -s 70M \$HOME/big.png; echo \"samples: \$HOME/big.png\"'" >/dev/null
for r in fake early quiet bad big; do m -c "train attach $r" >"$T/$r.log" 2>/dev/null; done
t_ok 'the fake trainer ran to its end' '
	m --json -c "train status fake" | py "assert d[\"state\"] == \"exited 0\", d" &&
	grep -q "samples: .*samples_2.png" "$T/fake.log"'

# What the log says, read here independently of mlsh.
python3 - "$T/fake.log" >"$T/expect.json" <<'PY'
import json, re, sys
steps, ld, lg, done = [], [], [], None
for line in open(sys.argv[1]):
    m = re.search(r"\[(\d+)/(\d+)\]\[(\d+)/(\d+)\] Loss_D: (\S+) Loss_G: (\S+)", line)
    if m:
        e, _, i, s = map(int, m.groups()[:4])
        steps.append(e * s + i); ld.append(float(m.group(5))); lg.append(float(m.group(6)))
    m = re.search(r"epoch \d+/\d+ done: \S+ images in (\S+) s, (\S+) images/s", line)
    if m:
        done = (float(m.group(1)), float(m.group(2)))
print(json.dumps({"steps": steps, "loss_d": ld, "loss_g": lg, "secs": done[0], "rate": done[1]}))
PY

m -c "train plot --width 72 --height 18 fake" >"$T/plot.txt" 2>"$T/plot.err"
t_ok 'train plot: 18 lines of at most 72 cells, legend, y labels, x axis, step range' '
	python3 - "$T/plot.txt" "$T/expect.json" <<-"PY"
	import json, sys
	lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
	assert lines[-1] == "", lines[-1]
	lines = lines[:-1]
	x = json.load(open(sys.argv[2]))
	assert len(lines) == 18, len(lines)
	assert max(len(l) for l in lines) == 72, [len(l) for l in lines]
	assert "Loss_D" in lines[0] and "Loss_G" in lines[0] and "run fake" in lines[0], lines[0]
	top = max(x["loss_d"] + x["loss_g"]); bot = min(x["loss_d"] + x["loss_g"])
	assert lines[1].split()[0] == "%.4g" % top and lines[1].rstrip().split()[1][0] == "\u2524", (lines[1], top)
	assert lines[15].split()[0] == "%.4g" % bot and "\u2524" in lines[15], (lines[15], bot)
	assert "\u2514\u2500" in lines[16], lines[16]
	lab = lines[17].split()
	assert lab[0] == "0" and lab[-1] == str(max(x["steps"])) and "step" in lab, lab
	body = "".join(lines[1:16])
	assert any(0x2801 <= ord(c) <= 0x28ff for c in body), "no braille (Loss_D)"
	assert any(0x2580 <= ord(c) <= 0x259f for c in body), "no blocks (Loss_G)"
	assert "\x1b" not in body, "colour with NO_COLOR set"
	PY'
t_ok 'train plot --json: the series of the log, step = epoch * steps + step' '
	m --json -c "train plot fake" >"$T/plot.json" &&
	python3 - "$T/plot.json" "$T/expect.json" <<-"PY"
	import json, sys
	d = json.load(open(sys.argv[1])); x = json.load(open(sys.argv[2]))
	assert d["points"] == len(x["steps"]) == len(d["steps"]) == len(d["loss_d"]) == len(d["loss_g"]) == 22, d["points"]
	assert d["steps"] == x["steps"], d["steps"]
	assert d["loss_d"] == x["loss_d"] and d["loss_g"] == x["loss_g"]
	PY'
t_ok 'Lua: train.plot returns the series, train.samples the copy' '
	cat >"$T/p.mlsh" <<-EOF
	local p = train.plot("fake")
	local s = train.samples{"fake", "$T/lua.png"}
	print(#p.steps, p.steps[#p.steps], #p.loss_d, s.path, s.bytes > 0)
	EOF
	[ "$(m "$T/p.mlsh" | tr "\t" " ")" = "22 99 22 $T/lua.png true" ] && rm "$T/lua.png"'
t_ok 'train plot of a run with no progress line: one line, no picture, status 0' '
	m -c "train plot quiet" >"$T/q.out" 2>"$T/q.err" && [ ! -s "$T/q.out" ] &&
	[ "$(cat "$T/q.err")" = "train: quiet has no progress line with Loss_D or Loss_G yet: nothing to plot" ] &&
	m --json -c "train plot quiet" | py "assert d[\"points\"] == 0 and d[\"steps\"] == [], d"'
t_err 'train plot in a terminal too small: one line' \
	'train: a 20x23 terminal is too small for a plot (at least 30x8; --width, --height)' 1 \
	'COLUMNS=20 LINES=24 m -c "train plot fake"'
# On a terminal: the window's size (less a line for the prompt), colour.
if command -v tmux >/dev/null; then
	tm() { tmux -L "$MLSH_LAB_NAME" "$@"; }
	t_on_exit 'tmux -L "$MLSH_LAB_NAME" kill-server 2>/dev/null'
	tm new-session -d -s p -x 90 -y 20 \
		"env -u NO_COLOR '$MLSH' --norc --lab -c 'train plot fake'; printf plot-exit=\$?; sleep 120"
	t_ok 'train plot on a 90x20 terminal: 19 lines, 90 cells wide, in colour' '
		wait_for 150 sh -c "tmux -L $MLSH_LAB_NAME capture-pane -p -t p | grep -q plot-exit=0" &&
		tm capture-pane -p -t p >"$T/tty.txt" && tm capture-pane -p -e -t p >"$T/tty-e.txt" &&
		python3 - "$T/tty.txt" "$T/tty-e.txt" <<-"PY"
		import sys
		lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
		end = lines.index("plot-exit=0")
		assert end == 19 and "Loss_D" in lines[0], (end, lines[0])
		assert max(len(l) for l in lines[:end]) == 90, [len(l) for l in lines[:end]]
		esc = open(sys.argv[2], encoding="utf-8").read()
		assert "\x1b[36m" in esc and "\x1b[33m" in esc, "no colours"
		PY'
	tm kill-server 2>/dev/null
else
	t_skip 'train plot on a terminal: tmux is not installed (make deps)'
fi

mkdir -p "$T/dl" "$T/cwd"
t_ok 'train samples: the newest grid, byte for byte, its path printed' '
	[ "$(m -c "train samples fake $T/dl")" = "$T/dl/samples_2.png" ] &&
	remote=$(grep "samples: " "$T/fake.log" | tail -1 | sed "s/.*samples: //") &&
	[ "$(sha256sum <"$T/dl/samples_2.png")" = "$(m -c "ssh dl1-1 cat $remote" | sha256sum)" ] &&
	[ "$(m -c "ssh dl1-1 sha256sum $remote" | cut -d" " -f1)" = "$(sha256sum "$T/dl/samples_2.png" | cut -d" " -f1)" ] &&
	[ "$(ls -A "$T/dl")" = samples_2.png ]'
t_ok 'train samples --json: path, bytes, remote; default DEST the current directory' '
	(cd "$T/cwd" && m --json -c "train samples fake") >"$T/s.json" &&
	py "assert d[\"path\"] == \"samples_2.png\" and d[\"remote\"].endswith(\"/out/samples_2.png\") and d[\"bytes\"] == $(stat -c %s "$T/dl/samples_2.png") and (d[\"width\"], d[\"height\"]) == (65, 32), d" <"$T/s.json" &&
	cmp "$T/cwd/samples_2.png" "$T/dl/samples_2.png"'
t_err 'train samples of a run with none yet: one line' \
	"train: run 'early' has no samples yet (no 'samples: PATH' line in its log)" 1 \
	'm -c "train samples early $T/dl"'
t_ok 'train samples refuses what is not a PNG and leaves nothing behind' '
	! m -c "train samples bad $T/dl" 2>"$T/bad.err" &&
	grep -q "^train: cannot copy the samples of .bad. from dl1-1: not a PNG file" "$T/bad.err" &&
	[ "$(wc -l <"$T/bad.err")" = 1 ] && [ "$(ls -A "$T/dl")" = samples_2.png ]'
t_ok 'train samples refuses more than 64 MB before copying' '
	! m -c "train samples big $T/dl" 2>"$T/big.err" &&
	grep -q "big.png is 73.4 MB, more than the 64 MB a sample grid may have" "$T/big.err" &&
	[ "$(ls -A "$T/dl")" = samples_2.png ]'

# dl1.24xlarge: $13.11/h (DESIGN.md). fake: its last epoch took 3600 s at
# 3.5556 images/s; early: 1/8 of 4 epochs in 600 s, so 1200 s an epoch.
t_ok 'train status: images/s and cost per epoch from the epoch-end line' '
	m --json -c "train status fake" | python3 -c "
import json, sys; d = json.load(sys.stdin); x = json.load(open(\"$T/expect.json\"))
assert d[\"images_per_s\"] == x[\"rate\"], d
assert d[\"epoch_time_seconds\"] == x[\"secs\"], d
assert abs(d[\"cost_per_epoch_usd\"] - x[\"secs\"] / 3600 * 13.11) < 1e-6, d"'
t_ok 'train status: before an epoch ends, the cost per epoch from the progress rate' '
	m --json -c "train status early" | python3 -c "
import json, sys; d = json.load(sys.stdin)
secs = 600 / (60 / 400 - 10 / 400) / 4
assert d[\"images_per_s\"] is None and d[\"epoch_time_seconds\"] == secs, d
assert abs(d[\"cost_per_epoch_usd\"] - secs / 3600 * 13.11) < 1e-6, d"'
t_ok 'train status and train ls for people: images/s and cost per epoch' '
	m -c "train status fake" | grep -q "^images_per_s  *3.6$" &&
	m -c "train status fake" | grep -q "^cost_per_epoch  *[$]13.11$" &&
	m -c "train ls" >"$T/ls.txt" && grep -q "IMAGES_PER_S *COST_PER_EPOCH" "$T/ls.txt" &&
	grep -q "^fake .* 3.6  *[$]13.11 " "$T/ls.txt" &&
	m --json -c "train ls" | py "r = {x[\"run\"]: x for x in d}; assert r[\"fake\"][\"images_per_s\"] == 3.5556 and r[\"quiet\"][\"cost_per_epoch_usd\"] is None, r"'

t_ok 'lab down leaves no namespace' '
	"$MLSH" --norc lab down >/dev/null && ! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_done
