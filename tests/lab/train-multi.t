#!/usr/bin/env bash
# train run --nodes in the lab: two nodes from `node dl1 up --count 2`, one
# rank on each; the environment each rank sees (torch.distributed's env://
# contract); a real torch.distributed all-reduce and one DDP step over gloo
# between the nodes; a rank that fails fails the run and the other rank is
# stopped by its wrapper; train stop leaves no process of the run on either
# node; node-to-node traffic on any port (sg-nodes admits itself); bad
# --nodes values are one line before anything starts. Needs root (the lab).
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }

export MLSH_LAB_NAME="mlshtm$$"
. "$TESTS_DIR/lab/lab-lib.sh"
root_net() { ip -o addr; ip route; ip -o link | sed 's/ qlen.*//'; ip rule; }
root_net > "$T/net.before" 2>&1
t_on_exit '"$MLSH" --norc lab down >/dev/null 2>&1'

state_of() { m --json -c "train status $1" 2>/dev/null | py 'print(d["state"])'; }
# Every rank's state, in rank order ("running running").
ranks_of() { m --json -c "train status $1" 2>/dev/null | py 'print(" ".join(r["state"] for r in d["ranks"]))'; }
# The run and every rank have ended.
ended() { local s; s=$(ranks_of "$1") && [ -n "$s" ] && case " $s " in *" running "*|*" starting "*) return 1;; esac; }

lab_start
t_ok 'a stack with two nodes: vpc up, efs up, node dl1 up --count 2' '
	m -c "vpc up --allow 198.18.0.2/32 --yes" >"$T/vpc.log" 2>&1 &&
	m -c "efs up" >"$T/efs.log" 2>&1 &&
	m -c "node dl1 up --count 2 --yes" >"$T/node.log" 2>&1 &&
	[ "$(m --json -c "node ls" | py "print(\" \".join(sorted(n[\"name\"] for n in d)))")" = "dl1-1 dl1-2" ]' ||
	tail -5 "$T/node.log"
t_ok 'both nodes answer through the jump host, /efs mounted on each' '
	wait_for 150 m -c "ssh dl1-1 mountpoint -q /efs" 2>/dev/null &&
	wait_for 150 m -c "ssh dl1-2 mountpoint -q /efs" 2>/dev/null'
IP1=$(rec dl1-1 '["attrs"]["private_ip"]'); IP2=$(rec dl1-2 '["attrs"]["private_ip"]')

# Bad --nodes: one line each, and nothing started.
t_err '--nodes 0' "train: --nodes 0: a run needs at least one node" 1 \
	'm -c "train run --nodes 0 -- true"'
t_err '--nodes 5 with two nodes' \
	"train: --nodes 5: workspace 'default' has 2 nodes (dl1-1, dl1-2); 'node dl1 up --count 5' makes more" 1 \
	'm -c "train run --nodes 5 -- true"'
t_err '--nodes naming a node twice' "train: --nodes names 'dl1-1' twice" 1 \
	'm -c "train run --nodes dl1-1,dl1-1 -- true"'
t_err '--nodes naming no node' \
	"train: no node 'nosuch' in workspace 'default' (nodes: dl1-1, dl1-2)" 1 \
	'm -c "train run --nodes nosuch -- true"'
t_err '--node and --nodes together' "train: --node and --nodes: give one" 1 \
	'm -c "train run --node dl1-1 --nodes 2 -- true"'
t_err '--master-port without --nodes' "train: --master-port is for --nodes runs" 1 \
	'm -c "train run --master-port 1234 -- true"'
t_ok 'none of them started a run' '[ "$(m --json -c "train ls")" = "[]" ]'

# The firewall: sg-nodes admits its own members on every port (vpc.c's
# ingress-self rule), and only them: the jump host is dropped there.
m -c "ssh dl1-2 'nohup python3 -m http.server 41234 >/dev/null 2>&1 </dev/null & exit 0'" >/dev/null 2>&1
tcp_from() { # NODE: connect to dl1-2:41234 from NODE (3 s at most)
	m -c "ssh $1 'timeout 3 bash -c \"exec 3<>/dev/tcp/$IP2/41234\"'" >/dev/null 2>&1; }
t_ok 'node to node on an arbitrary port is admitted; the jump host is not' '
	wait_for 50 tcp_from dl1-1 && ! tcp_from jump'
m -c "ssh dl1-2 'pkill -f \"http.server [4]1234\"'" >/dev/null 2>&1

ENV_LINE='env | grep -E "^(MLSH_NODE_RANK|MLSH_NUM_NODES|MLSH_NODE_IPS|MASTER_ADDR|MASTER_PORT|RANK|WORLD_SIZE|LOCAL_RANK|MLSH_PROCS_PER_NODE)=" | sort'
t_ok 'train run --nodes 2: one run, a rank on each node' '
	m --json -c "train run --nodes 2 --name env -- '"'"'$ENV_LINE'"'"'" >"$T/env.json" &&
	py "assert d[\"run\"]==\"env\" and d[\"nodes\"]==[\"dl1-1\",\"dl1-2\"], d; assert [r[\"node\"] for r in d[\"ranks\"]]==[\"dl1-1\",\"dl1-2\"], d; assert d[\"dir\"]==\"/efs/runs/env\", d" <"$T/env.json" &&
	wait_for 150 ended env && [ "$(state_of env)" = "exited 0" ]'
# What rank K of the env run sees.
env_rank() { printf '%s\n' LOCAL_RANK=0 "MASTER_ADDR=$IP1" MASTER_PORT=29500 \
	"MLSH_NODE_IPS=$IP1,$IP2" "MLSH_NODE_RANK=$1" MLSH_NUM_NODES=2 "RANK=$1" WORLD_SIZE=2; }
t_out 'rank 0 (train logs) sees rank 0 of 2, MASTER_ADDR dl1-1' "$(env_rank 0)" 'm -c "train logs env"'
t_out 'rank 1 on dl1-2 sees rank 1 of 2, the same master' "$(env_rank 1)" \
	'm -c "ssh dl1-2 cat /efs/runs/env/rank-1/log"'
t_ok 'the run'\''s status: every rank, on its node, exited 0' '
	m --json -c "train status env" | py "assert d[\"nodes\"]==[\"dl1-1\",\"dl1-2\"], d; assert [(r[\"rank\"],r[\"node\"],r[\"state\"],r[\"exit\"]) for r in d[\"ranks\"]]==[(0,\"dl1-1\",\"exited 0\",0),(1,\"dl1-2\",\"exited 0\",0)], d; assert d[\"failure\"] is None and d[\"exit\"]==0, d" &&
	m -c "train status env" | grep -q "^ranks  *0 dl1-1 exited 0, 1 dl1-2 exited 0$"'
t_out '--procs-per-node 8 --master-port and names in another order: torchrun sets the ranks' "MASTER_ADDR=$IP2
MASTER_PORT=29600
MLSH_NODE_IPS=$IP2,$IP1
MLSH_NODE_RANK=0
MLSH_NUM_NODES=2
MLSH_PROCS_PER_NODE=8" '
	m -c "train run --nodes dl1-2,dl1-1 --procs-per-node 8 --master-port 29600 --name ppn -- '"'"'$ENV_LINE'"'"'" >/dev/null &&
	wait_for 150 ended ppn && m -c "train logs ppn"'

# torch.distributed over gloo between the two nodes: an all-reduce of
# rank+1 (3 on both), then one DDP step from different data and seeds: the
# parameters' hash is the same on both ranks.
cat >"$T/ddp.py" <<'EOF'
import hashlib, torch, torch.distributed as dist
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method="env://")
r, w = dist.get_rank(), dist.get_world_size()
t = torch.tensor([float(r + 1)])
dist.all_reduce(t)
torch.manual_seed(r)
m = torch.nn.Linear(4, 2)
ddp = torch.nn.parallel.DistributedDataParallel(m)
opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
ddp(torch.randn(8, 4)).pow(2).mean().backward()
opt.step()
h = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in m.parameters())).hexdigest()[:16]
print("rank %d/%d sum %g params %s" % (r, w, t.item(), h), flush=True)
dist.destroy_process_group()
EOF
m -c "cp $T/ddp.py dl1-1:/efs/ddp.py" >/dev/null
t_ok 'torch.distributed: all_reduce and a DDP step agree on both nodes' '
	m -c "train run --nodes 2 --name ddp -- /usr/bin/python3 /efs/ddp.py" >/dev/null &&
	wait_for 600 ended ddp && [ "$(state_of ddp)" = "exited 0" ] &&
	l0=$(m -c "train logs ddp" | grep "^rank ") && l1=$(m -c "ssh dl1-2 cat /efs/runs/ddp/rank-1/log" | grep "^rank ") &&
	echo "$l0 / $l1" && [ "${l0% params *}" = "rank 0/2 sum 3" ] && [ "${l1% params *}" = "rank 1/2 sum 3" ] &&
	[ "${l0##* params }" = "${l1##* params }" ]' || m -c "train logs ddp; ssh dl1-2 cat /efs/runs/ddp/rank-1/log" 2>&1 | tail -20

# A rank that fails: rank 1 exits 3 while rank 0 sleeps; the run fails,
# naming rank 1, and rank 0's wrapper stops rank 0 (no mlsh involved).
t_ok 'rank 1 exits 3: the run failed, status names it, rank 0 was stopped' '
	m -c "train run --nodes 2 --name fail -- '"'"'[ \$MLSH_NODE_RANK = 1 ] && exit 3; sleep 6001'"'"'" >/dev/null &&
	{ wait_for 600 ended fail || { m --json -c "train status fail"; false; }; } && out=$(m --json -c "train status fail") &&
	py "assert d[\"state\"]==\"failed\" and d[\"failure\"]==\"rank 1 on dl1-2 exited 3\" and d[\"exit\"]==3, d; s=[(r[\"rank\"],r[\"state\"]) for r in d[\"ranks\"]]; assert s==[(0,\"killed\"),(1,\"exited 3\")], s" <<<"$out" &&
	p0=$(py "print(d[\"ranks\"][0][\"pid\"])" <<<"$out") && ! kill -0 "$p0" 2>/dev/null &&
	m -c "train status fail" | grep -q "^failure  *rank 1 on dl1-2 exited 3$" &&
	m -c "train logs fail" | grep -q "^train: stopping rank 0 on dl1-1: rank 1 on dl1-2 exited 3$" ||
	{ echo "status: ${out:-}"; m -c "train logs fail" | tail -5; false; }'

# train stop: every rank, and nothing of the run left on either node.
none_left() { # NODE: no process of the stop run seen from NODE
	! m -c "ssh $1 'pgrep -f \"sleep [6]002\"'" >/dev/null 2>&1; }
t_ok 'train stop stops every rank; no process of the run is left on either node' '
	m -c "train run --nodes 2 --name stopme -- '"'"'sleep 6002'"'"'" >/dev/null &&
	wait_for 50 eval "[ \"\$(ranks_of stopme)\" = \"running running\" ]" &&
	! none_left dl1-1 && ! none_left dl1-2 &&
	[ "$(m --json -c "train status stopme --node dl1-1" | py "print(d[\"state\"], [r[\"state\"] for r in d[\"ranks\"]])")" = "running ['"'"'running'"'"', '"'"'running'"'"']" ] &&
	pids=$(m --json -c "train status stopme" | py "print(\" \".join(str(r[\"pid\"]) for r in d[\"ranks\"]))") &&
	m --json -c "train stop stopme" | py "assert d[\"state\"]==\"killed\", d; assert [(r[\"rank\"],r[\"node\"],r[\"signal\"]) for r in d[\"stopped\"]]==[(0,\"dl1-1\",\"TERM\"),(1,\"dl1-2\",\"TERM\")], d" &&
	none_left dl1-1 && none_left dl1-2 &&
	for p in $pids; do ! kill -0 "$p" 2>/dev/null || exit 1; done &&
	[ "$(state_of stopme)" = killed ]'
t_ok 'train ls: one row per run, with its nodes and ranks' '
	m --json -c "train ls" | py "s={r[\"run\"]:(r[\"state\"],r.get(\"nodes\")) for r in d}; assert s[\"env\"]==(\"exited 0\",[\"dl1-1\",\"dl1-2\"]) and s[\"fail\"][0]==\"failed\" and s[\"stopme\"][0]==\"killed\" and s[\"ppn\"][1]==[\"dl1-2\",\"dl1-1\"], s; assert len(d)==len(s), d"'
t_ok 'Lua: train.run{nodes=2} and train.attach follow rank 0 to the run'\''s end' '
	cat >"$T/l.mlsh" <<-"EOF"
	local r = train.run{nodes = "2", name = "lua", cmd = "echo rank $MLSH_NODE_RANK"}
	local s = train.attach(r.run)
	print(r.ranks[2].node, s.state, #s.ranks, s.ranks[2].state)
	EOF
	out=$(m "$T/l.mlsh" 2>/dev/null) && [ "$(tail -1 <<<"$out")" = "dl1-2	exited 0	2	exited 0" ] &&
	grep -qx "rank 0" <<<"$out"'

t_ok 'a node not running: one line before anything starts' '
	m -c "node dl1-2 stop" >/dev/null 2>&1 &&
	! m -c "train run --nodes 2 --name off -- true" 2>"$T/off.err" &&
	[ "$(cat "$T/off.err")" = "train: node '"'"'dl1-2'"'"' is stopped; '"'"'node dl1-2 start'"'"' starts it" ] &&
	m -c "ssh dl1-1 test ! -e /efs/runs/off"'

# Without /efs (a workspace with no EFS): each node keeps its own RUN/ in
# ~/runs with its rank's directory only, and the run reads the same.
t_ok 'without /efs: each node keeps its rank in ~/runs; the run reads the same' '
	m -w local -c "vpc up --allow 198.18.0.2/32 --yes; node dl1 up --count 2 --yes" >"$T/local.log" 2>&1 &&
	wait_for 150 m -w local -c "ssh dl1-1 true" 2>/dev/null &&
	wait_for 150 m -w local -c "ssh dl1-2 true" 2>/dev/null &&
	m -w local --json -c "train run --nodes 2 --name loc -- '"'"'echo rank \$MLSH_NODE_RANK of \$MLSH_NUM_NODES'"'"'" >"$T/loc.json" &&
	py "assert d[\"dir\"]==\"/home/ubuntu/runs/loc\", d" <"$T/loc.json" &&
	wait_for 150 eval "[ \"\$(m -w local --json -c \"train status loc\" | py \"print(d[\\\"state\\\"])\")\" = \"exited 0\" ]" &&
	[ "$(m -w local -c "train logs loc")" = "rank 0 of 2" ] &&
	[ "$(m -w local -c "ssh dl1-2 cat runs/loc/rank-1/log")" = "rank 1 of 2" ] &&
	m -w local -c "ssh dl1-1 test ! -e runs/loc/rank-1" && m -w local -c "ssh dl1-2 test ! -e runs/loc/rank-0"' ||
	tail -5 "$T/local.log"
# Without /efs rank 0 cannot see RUN/failed on dl1-2: mlsh stops it when it
# reads the run (train status here).
t_ok 'without /efs: rank 1 exits 3; train status fails the run and stops rank 0' '
	m -w local -c "train run --nodes 2 --name lfail -- '"'"'[ \$MLSH_NODE_RANK = 1 ] && exit 3; sleep 6004'"'"'" >/dev/null &&
	wait_for 150 eval "m -w local --json -c \"train status lfail\" 2>\"$T/lfail.err\" >\"$T/lfail.json\" && grep -q \\\"failed\\\" \"$T/lfail.json\"" &&
	py "assert d[\"failure\"]==\"rank 1 on dl1-2 exited 3\", d; assert [r[\"state\"] for r in d[\"ranks\"]]==[\"killed\",\"exited 3\"], d" <"$T/lfail.json" &&
	grep -qx "train: lfail: rank 1 on dl1-2 exited 3; stopped rank 0 on dl1-1" "$T/lfail.err" &&
	! m -w local -c "ssh dl1-1 '"'"'pgrep -f \"sleep [6]004\"'"'"'" >/dev/null 2>&1'
# A rank that cannot start (dl1-2's ~/runs not writable: the probe before
# the start does not look at that) stops the ranks already started.
t_ok 'a rank that cannot start: one line, and rank 0 already started is stopped' '
	m -w local -c "ssh dl1-2 chmod a-w runs" &&
	! m -w local -c "train run --nodes 2 --name half -- '"'"'sleep 6003'"'"'" 2>"$T/half.err" &&
	[ "$(cat "$T/half.err")" = "train: cannot start rank 1 on dl1-2: cannot create run directory /home/ubuntu/runs (the ranks started were stopped)" ] &&
	[ "$(m -w local -c "ssh dl1-1 cat runs/half/rank-0/exit")" = 143 ] &&
	! m -w local -c "ssh dl1-1 '"'"'pgrep -f \"sleep [6]003\"'"'"'" >/dev/null 2>&1'

t_ok 'lab down leaves no namespace' '
	"$MLSH" --norc lab down >/dev/null && ! ip netns list | grep -q "^$MLSH_LAB_NAME-"'
t_ok 'the root namespace is unchanged by the whole test' '
	root_net > "$T/net.after" 2>&1; diff "$T/net.before" "$T/net.after"'
t_done
