# lab-lib.sh: what the lab groups that drive nodes share (sourced after
# lib.sh, with MLSH_LAB_NAME set): no check-ip lookup leaves the machine, m
# runs mlsh against the lab, py reads JSON, wait_for polls, rec reads a
# record of the default workspace, and the user has an SSH key.
export MLSH_CHECKIP_URL=http://127.0.0.1:9/no-checkip-in-tests
m() { "$MLSH" --norc --lab "$@"; }
py() { python3 -S -c "import json,sys; d=json.load(sys.stdin); $1"; }
wait_for() { # tries(0.2 s each) command…
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
	return 1
}
rec() { python3 -S -c "import json;print(json.load(open('$XDG_STATE_HOME/mlsh/default.json'))['resources']['$1']$2)"; }
mkdir -p "$HOME/.ssh"
ssh-keygen -q -t ed25519 -N "" -f "$HOME/.ssh/id_ed25519"
