#!/usr/bin/env bash
# state-files.t: where mlsh keeps its state and with which modes. No home:
# refuse (never /tmp). The state directory 0700, refused when others can
# write it or it belongs to someone else; files 0600, tightened when found
# looser; no symbolic links followed; workspace names bounded by the
# longest name derived from them; regions checked before they reach a file.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
mode() { stat -c %a "$1"; }
S="$XDG_STATE_HOME/mlsh"
# A uid with no password entry, and nobody (home /nonexistent).
NOUID=54321

t_ok 'the state directory is made 0700' '
	"$MLSH" --norc -c "workspace w1" >/dev/null && [ "$(mode "$S")" = 700 ] &&
	[ "$(mode "$S/current")" = 600 ] && [ "$(mode "$S/w1.json")" = 600 ] &&
	[ "$(mode "$S/w1.lock")" = 600 ]'

t_ok 'current is written atomically (no temp file left, one line)' '
	"$MLSH" --norc -c "workspace w2" >/dev/null && [ "$(cat "$S/current")" = w2 ] &&
	[ -z "$(ls "$S" | grep tmp)" ]'

t_ok 'looser files and directories are tightened: 0600 and 0700' '
	chmod 755 "$S" && chmod 644 "$S/current" "$S/w1.json" &&
	mkdir -p "$S/train/w1" && echo r1 >"$S/train/w1/runs" &&
	chmod 755 "$S/train" "$S/train/w1" && chmod 644 "$S/train/w1/runs" &&
	"$MLSH" --norc -c "echo" >/dev/null &&
	[ "$(mode "$S")" = 700 ] && [ "$(mode "$S/current")" = 600 ] &&
	[ "$(mode "$S/w1.json")" = 600 ] && [ "$(mode "$S/train")" = 700 ] &&
	[ "$(mode "$S/train/w1")" = 700 ] && [ "$(mode "$S/train/w1/runs")" = 600 ]'

t_err 'a state directory others can write is refused, naming the fix' \
	"mlsh: state directory '$S' is writable by others (mode 777); fix it with: chmod 700 '$S'" 1 \
	'chmod 777 "$S"; "$MLSH" --norc -c "echo"; r=$?; chmod 700 "$S"; exit $r'

t_err 'a state directory of another user is refused' \
	"mlsh: state directory '$T/other/mlsh' belongs to uid $NOUID, not to you (uid $(id -u)); set XDG_STATE_HOME to a directory of your own" 1 \
	'mkdir -p "$T/other/mlsh" && chown $NOUID "$T/other/mlsh" && chmod 700 "$T/other/mlsh" &&
	 XDG_STATE_HOME="$T/other" "$MLSH" --norc -c "echo"'

t_err 'a state file that is a symbolic link is not followed' \
	"workspace: '$S/lnk.json' is a symbolic link; mlsh does not follow links in its state directory" 1 \
	'echo "{\"schema\":1,\"resources\":{}}" >"$T/elsewhere.json" && ln -s "$T/elsewhere.json" "$S/lnk.json" &&
	 "$MLSH" --norc -c "workspace lnk"'

t_err 'no HOME, no XDG_STATE_HOME, no password entry: refused, never /tmp' \
	"mlsh: no home directory: HOME is not set and uid $NOUID has no password entry; set HOME or XDG_STATE_HOME" 1 \
	'cd / && setpriv --reuid=$NOUID --regid=$NOUID --clear-groups env -u HOME -u XDG_STATE_HOME "$MLSH" --norc -c "echo hi"'

t_ok 'no HOME: the password entry'"'"'s home is used (as OpenSSH does)' '
	out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env -u HOME -u XDG_STATE_HOME "$MLSH" --norc -c "echo hi" 2>&1)
	[ $? -eq 1 ] && case "$out" in *"/nonexistent"*) true;; *) false;; esac'

t_ok 'ssh-config -o writes 0600, and tightens a file that was 0644' '
	echo "{\"schema\":1,\"workspace\":\"sc\",\"resources\":{\"jump\":{\"type\":\"instance\",\"attrs\":{\"public_ip\":\"203.0.113.9\"}}}}" >"$S/sc.json" &&
	"$MLSH" --norc -w sc -c "ssh-config -o new.conf" >/dev/null && [ "$(mode new.conf)" = 600 ] &&
	grep -q "HostName 203.0.113.9" new.conf &&
	touch old.conf && chmod 644 old.conf &&
	"$MLSH" --norc -w sc -c "ssh-config -o old.conf" >/dev/null && [ "$(mode old.conf)" = 600 ]'

ws50=$(printf "w%.0s" $(seq 50)); ws51=${ws50}x
t_ok 'a 50-character workspace name is accepted' '"$MLSH" --norc -c "workspace $ws50" >/dev/null'
t_err 'a 51-character workspace name: the error says the maximum and why' \
	"workspace: workspace name 'wwwwwwwwwwwwwwwwwwww…' is 51 characters, at most 50 (IAM role names mlsh-<ws>-notebook are limited to 64)" 1 \
	'"$MLSH" --norc -c "workspace $ws51"'

t_err '-r is checked like the region builtin' \
	"mlsh: -r: 'us-east-1;id' is not a region name (like us-east-1)" 2 \
	'"$MLSH" --norc -r "us-east-1;id" -c "echo"'
t_err 'AWS_REGION is checked before any request' \
	"sts: InvalidConfig: AWS_REGION 'eu-west-1\$(id)' is not a region name (like us-east-1)" 1 \
	'AWS_REGION="eu-west-1\$(id)" AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b "$MLSH" --norc --endpoint-url http://127.0.0.1:9 -c "api sts GetCallerIdentity"'
t_ok 'region names: real ones pass, others do not' '
	for r in us-east-1 us-gov-west-1 ap-southeast-5 il-central-1 cn-north-1; do
		"$MLSH" --norc -c "region $r" >/dev/null || exit 1; done
	for r in us-east US-EAST-1 us-east-1a "us-east-1 " u-east-1 us--east-1 us-east1-1; do
		"$MLSH" --norc -c "region \"$r\"" >/dev/null 2>&1 && exit 1; done; true'

t_done
