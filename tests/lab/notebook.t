#!/usr/bin/env bash
# The SageMaker notebook for real in the lab (lab/notebook.c): notebook up
# makes a host in the private subnet whose OnStart (scripts/notebook-onstart.sh)
# mounts EFS under ec2-user's SageMaker directory, with the model code copied
# from a local path and Jupyter on 8443; notebook open tunnels the presigned
# URL through the jump host; Jupyter's REST and kernel API through that URL
# list the tree and run torch; headless Chromium (as $BROWSER) loads the page
# and its screenshot is kept in the test's log directory; stop/start run
# OnStart again; a lifecycle script exiting 1 puts the notebook in Failed
# with the reason. Needs root.
. "$TESTS_DIR/lib.sh"
[ "$(id -u)" = 0 ] || { echo "not ok - the lab tests run as root"; exit 1; }
export MLSH_LAB_NAME="mlshnb$$"
NS="$MLSH_LAB_NAME"
. "$TESTS_DIR/lab/lab-lib.sh"
# The default code repository, as the lab copies it (no network): the
# DCGAN the repository carries.
export MLSH_LAB_REPO_DIR
MLSH_LAB_REPO_DIR=$(cd "$TESTS_DIR/../scripts/dcgan" && pwd)
# SageMaker's 5 minutes, shortened for the script that runs over it below
# (the reconciler reads it when lab up starts it).
export MLSH_LAB_LIFECYCLE_LIMIT_S=20
open_pid=
cleanup() {
	[ -n "$open_pid" ] && kill "$open_pid" 2>/dev/null
	"$MLSH" --norc lab down >/dev/null 2>&1
}
trap cleanup EXIT
# Everything mlsh's tunnel and the browser do happens in the lab's client
# namespace: its loopback holds the tunnel, and nothing there leaves the lab.
inclient() { ip netns exec "$NS-client" "$@"; }
LAB="$XDG_STATE_HOME/mlsh/lab"

"$MLSH" --norc lab up >/dev/null 2>&1
for _ in 1 2 3 4 5 6; do m -c "api ec2 DescribeInstanceTypeOfferings" >/dev/null 2>&1 && break; sleep 2; done
t_ok 'vpc up; efs up; notebook up in the lab: InService once OnStart ran and Jupyter answers' '
	m -c "vpc up --allow 198.18.0.2/32 --yes; efs up; notebook up --yes --type ml.t3.medium --skip-quota-check" >"$T/up.log" 2>&1 &&
	m --json -c "notebook status" | py "assert d[\"state\"] == \"InService\", d" ||
	{ tail -5 "$T/up.log"; tail -5 "$LAB/reconciler.log"; false; }'
name=$(rec notebook "['id']")
host="nb-$name"
t_ok 'the notebook is a host in the private subnet, its login user ec2-user' '
	[ "$(cat "$LAB/hosts/$host/state")" = running ] &&
	ip=$(sed -n "s/^private_ip=//p" "$LAB/hosts/$host/spec") &&
	python3 -c "import ipaddress,sys; assert ipaddress.ip_address(sys.argv[1]) in ipaddress.ip_network(sys.argv[2])" \
		"$ip" "$(rec subnet-private "[\"attrs\"][\"cidr\"]")" &&
	nsenter --net="/run/netns/$NS-$host" --mount="$LAB/nsfs/$host.mnt" \
		stat -c %U /home/ec2-user/SageMaker | grep -qx ec2-user'
t_ok 'notebook logs shows the OnStart output (CloudWatch Logs, NAME/LifecycleConfigOnStart)' '
	m -c "notebook logs" | grep -qx "mlsh-onstart: done"'

# Images on the EFS the OnStart mounted at /efs (~ec2-user/SageMaker/efs).
fs=$(rec efs "['id']")
mkdir -p "$LAB/efs/$fs/images" && touch "$LAB/efs/$fs/images/"{a,b}.jpg

# The browser: headless Chromium as root needs --no-sandbox; it runs in the
# client namespace with mlsh, and exits after its screenshot.
cat >"$T/browser" <<EOF
#!/bin/sh
echo "\$1" >"$T/browser.url"
if command -v chromium >/dev/null; then
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--user-data-dir="$T/chrome" --window-size=1200,800 --virtual-time-budget=5000 \
		--screenshot="$T/jupyter.png" "\$1" >"$T/chrome.log" 2>&1
fi
echo done >"$T/browser.done"
EOF
chmod +x "$T/browser"
BROWSER="$T/browser" ip netns exec "$NS-client" "$MLSH" --norc --lab -c "notebook open --json" >"$T/open.json" 2>"$T/open.err" &
open_pid=$!
wait_for 300 test -s "$T/browser.done" || true
url=$(py 'print(d["url"])' <"$T/open.json" 2>/dev/null)
t_ok 'notebook open prints a local URL through its tunnel and runs $BROWSER with it' '
	case "$url" in http://127.0.0.1:*/tree\?authToken=*) ;; *) false;; esac &&
	[ "$(cat "$T/browser.url")" = "$url" ] || { cat "$T/open.json" "$T/open.err"; false; }'
t_ok 'the token is what lets one in: a wrong one is refused' '
	base=${url%%/tree*} &&
	[ "$(inclient curl -s -o /dev/null -w "%{http_code}" "$base/api/contents?authToken=nope")" = 403 ] &&
	[ "$(inclient curl -s -o /dev/null -w "%{http_code}" "$url")" = 200 ]'
t_ok 'through the URL, the tree lists the EFS and the model code; a python3 kernel imports torch and lists /efs/images' '
	inclient timeout 300 /usr/bin/python3 "$TESTS_DIR/lab/notebook-client.py" "$url" \
		"import os, torch; print(\"torch\", torch.__version__); print(\",\".join(sorted(os.listdir(\"/efs/images\"))))" \
		>"$T/client.out" 2>&1 &&
	head -1 "$T/client.out" | grep -qF "[\"efs\", \"msls-pytorch-dcgan\"]" &&
	grep -q "^torch 1\." "$T/client.out" && grep -qx "a.jpg,b.jpg" "$T/client.out" ||
	{ cat "$T/client.out"; false; }'
# The screenshot goes to the run's log directory (kept when a group fails),
# or to $MLSH_TEST_ARTEFACTS when set (CI keeps that one).
shots=${MLSH_TEST_ARTEFACTS:-${TEST_TMP:-$T}}
mkdir -p "$shots"
if command -v chromium >/dev/null; then
	t_ok 'headless Chromium loaded Jupyter through the URL; its screenshot is kept' '
		[ "$(head -c 8 "$T/jupyter.png" | od -An -tx1 | tr -d " ")" = 89504e470d0a1a0a ] &&
		[ "$(stat -c %s "$T/jupyter.png")" -gt 5000 ] &&
		cp "$T/jupyter.png" "$shots/notebook-jupyter.png" &&
		echo "# screenshot: $shots/notebook-jupyter.png" ||
		{ tail -5 "$T/chrome.log"; false; }'
else
	t_skip 'headless Chromium: chromium is not installed (make deps)'
fi
kill -TERM "$open_pid"; wait "$open_pid" 2>/dev/null; open_pid=
t_ok 'the tunnel ends with the mlsh session' '
	! inclient curl -s -m 5 -o /dev/null "$url"'

t_ok 'stop stops the host; start runs OnStart again and Jupyter comes back' '
	m -c "notebook stop" >/dev/null &&
	wait_for 150 grep -qx stopped "$LAB/hosts/$host/state" &&
	m -c "notebook start" >/dev/null &&
	m --json -c "notebook status" | py "assert d[\"state\"] == \"InService\", d" &&
	[ "$(m -c "notebook logs" | grep -cx "mlsh-onstart: done")" = 2 ]'

# Failure: the notebook deleted (its host goes), and made again with a
# lifecycle configuration whose OnStart exits 1 (notebook up adopts the
# configuration of its name).
t_ok 'notebook down removes the notebook host' '
	m -c "notebook down --force" >/dev/null &&
	wait_for 150 test ! -e "$LAB/hosts/$host"'
bad=$(printf '#!/bin/bash\necho "lab: about to fail"\nexit 1\n' | base64 -w0)
m -c "api sagemaker CreateNotebookInstanceLifecycleConfig '{\"NotebookInstanceLifecycleConfigName\": \"default-onstart\", \"OnStart\": [{\"Content\": \"$bad\"}]}'" >/dev/null
t_ok 'an OnStart exiting 1 puts the notebook in Failed: notebook up says why' '
	! m -c "notebook up --yes --type ml.t3.medium --skip-quota-check" >"$T/bad.out" 2>"$T/bad.err" &&
	grep -q "failed (state Failed): Notebook Instance Lifecycle Config .*default-onstart.* failed (OnStart exit status 1)" "$T/bad.err" ||
	{ cat "$T/bad.err"; false; }'
t_ok 'notebook status shows Failed with the reason; notebook logs the script'\''s output' '
	m --json -c "notebook status" | py "assert d[\"state\"] == \"Failed\" and \"OnStart exit status 1\" in d[\"failure_reason\"], d" &&
	m -c "notebook logs" | grep -qx "lab: about to fail"'
# One that runs over the limit is stopped and fails the notebook too.
m -c "notebook down --force" >/dev/null 2>&1
wait_for 150 test ! -e "$LAB/hosts/$host" || true
slow=$(printf '#!/bin/bash\necho "lab: sleeping"\nsleep 600\n' | base64 -w0)
m -c "api sagemaker CreateNotebookInstanceLifecycleConfig '{\"NotebookInstanceLifecycleConfigName\": \"default-onstart\", \"OnStart\": [{\"Content\": \"$slow\"}]}'" >/dev/null
t_ok 'an OnStart over the limit is stopped: Failed, took longer than the limit (status 124)' '
	! m -c "notebook up --yes --type ml.t3.medium --skip-quota-check" >"$T/slow.out" 2>"$T/slow.err" &&
	grep -q "took longer than the lab.s 20 seconds (OnStart exit status 124)" "$T/slow.err" &&
	m -c "notebook logs" | grep -qx "lab: sleeping" ||
	{ cat "$T/slow.err"; false; }'
t_ok 'lab down leaves no namespace of this lab' '
	"$MLSH" --norc lab down >/dev/null 2>&1 && ! ip netns list | grep -q "^$NS-"'
t_done
