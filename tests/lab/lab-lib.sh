# lab-lib.sh: what the lab groups that drive nodes share (sourced after
# lib.sh, with MLSH_LAB_NAME set): no check-ip lookup leaves the machine, m
# runs mlsh against the lab, py reads JSON, wait_for polls, rec reads a
# record of the default workspace, the user has an SSH key, and lab_start
# brings the lab up.
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
# lab_start: the lab up, and its moto answering (it builds its EC2 backend
# slowly on a busy machine: the first call warms it), 10 tries 2 s apart.
lab_start() {
	"$MLSH" --norc lab up >/dev/null 2>&1
	for _ in $(seq 1 10); do m -c "api ec2 DescribeAvailabilityZones" >/dev/null 2>&1 && break; sleep 2; done
}
