#!/usr/bin/env bash
# hostkeys-down.t: host-key pins are per instance, not per address. Two
# workspaces on the suite's moto, each with its jump host; known_hosts holds
# both pins for one shared address (workspaces reuse 10.0.x.y) and an old
# address-only line. `down` in one removes its own pin only and leaves the
# file 0600; ssh-config names the same pins (HostKeyAlias).
. "$TESTS_DIR/lib.sh"
: "${MOTO_URL:?tests/run starts moto and sets MOTO_URL}"
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests
m() { "$MLSH" --endpoint-url "$MOTO_URL" "$@"; }
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"
KH=$XDG_STATE_HOME/mlsh/known_hosts
jump_id() { python3 -S -c 'import json,sys; print(json.load(open(sys.argv[1]))["resources"]["jump"]["id"])' \
	"$XDG_STATE_HOME/mlsh/$1.json"; }
k() { ssh-keygen -q -t ed25519 -N '' -f "$T/$1" && cut -d' ' -f1,2 "$T/$1.pub"; }

t_ok 'two workspaces, each with a jump host' '
	m -c "workspace hka; vpc up --allow 203.0.113.7/32" >/dev/null 2>&1 &&
	m -c "workspace hkb; vpc up --allow 203.0.113.7/32" >/dev/null 2>&1 &&
	A=$(jump_id hka) && B=$(jump_id hkb) && [ -n "$A" ] && [ -n "$B" ] && [ "$A" != "$B" ]'
A=$(jump_id hka); B=$(jump_id hkb)
KA=$(k ka); KB=$(k kb); KL=$(k kl)
printf '%s\n' "$A,10.0.1.4 $KA" "# mine" "$B,10.0.1.4 $KB" "10.0.1.4 $KL" >"$KH"
chmod 644 "$KH"
cp "$KH" "$T/before"

t_ok 'ssh-config points OpenSSH at the pins by instance id (HostKeyAlias)' '
	m -w hkb -c "ssh-config -o $T/cfg" >/dev/null &&
	grep -qx "  HostKeyAlias $B" "$T/cfg" && grep -qx "  UserKnownHostsFile $KH" "$T/cfg" &&
	ssh -G -F "$T/cfg" mlsh-hkb-jump | grep -qx "hostkeyalias $B"'
t_ok 'down in one workspace' 'm -w hka -c "down --force" >/dev/null 2>&1'
t_ok 'its pin is gone; the other workspace'\''s pin for the same address stays' '
	! grep -q "^$A," "$KH" && grep -qxF "$B,10.0.1.4 $KB" "$KH"'
t_ok 'every other line is kept as it was (old address-only line, comment)' '
	diff <(grep -v "^$A," "$T/before") "$KH"'
t_ok 'the rewritten file is 0600' '[ "$(stat -c %a "$KH")" = 600 ]'
t_ok 'ssh-keygen -F still finds the other pin by instance id and by address' '
	ssh-keygen -F "$B" -f "$KH" | grep -q ssh-ed25519 && [ "$(ssh-keygen -F 10.0.1.4 -f "$KH" | grep -vc "^#")" = 2 ]'
t_ok 'down in the other workspace removes its pin' '
	m -w hkb -c "down --force" >/dev/null 2>&1 && ! grep -q "^$B," "$KH" && grep -qxF "10.0.1.4 $KL" "$KH" &&
	[ "$(stat -c %a "$KH")" = 600 ]'
t_done
