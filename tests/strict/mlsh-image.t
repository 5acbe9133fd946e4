#!/usr/bin/env bash
# mlsh-image.t: image choice on the strict AWS's "catalogue" switch (real
# DLAMI names and descriptions, deprecated images hidden). dl1: the newest
# non-deprecated Habana PyTorch DLAMI on Ubuntu, never TensorFlow or Amazon
# Linux unless asked; p3: no current GPU PyTorch DLAMI lists P3, so mlsh
# says so, names the last one that did and how to use it, and the nearest
# supported type; kinds in ~/.mlshrc pin patterns; the login user follows
# the image; a dl1 node starts from the chosen image and down leaves nothing.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export MLSH="${MLSH:-$ROOT/mlsh}" TESTS_DIR="${TESTS_DIR:-$ROOT/tests}"
. "$TESTS_DIR/lib.sh"
. "$TESTS_DIR/strict/lib.sh"
strict_start
. "$TESTS_DIR/strict/mlsh-lib.sh"
W=si$$
HPT="Deep Learning AMI Habana PyTorch 2.1.1 SynapseAI 1.14.0 (Ubuntu 22.04) 20250115"

t_ok 'the network (jump host from the catalogue s Ubuntu)' '
	strict_set "{\"catalogue\": true, \"offerings\": true}" &&
	m -w $W -c "vpc up --allow 203.0.113.7/32 --types dl1.24xlarge" >/dev/null 2>"$T/vpc.err" ||
	{ cat "$T/vpc.err"; false; }'

t_ok 'dl1 --dry-run: the newest Habana PyTorch on Ubuntu (not the newer TensorFlow or Amazon Linux ones), its date and user' '
	out=$(m -w $W -c "node dl1 up --dry-run --skip-quota-check" 2>&1) &&
	grep -q "image *dl1 *ami-0d1a0000000000007 \"$HPT\" (2025-01-15), login user ubuntu" <<<"$out" &&
	grep -q "RunInstances *dl1-1 *dl1.24xlarge ami-0d1a0000000000007" <<<"$out" || { echo "$out"; false; }'

t_out 'p3: no current image supports it; the last that did, how to use it, the nearest type' \
	"node: no current image for p3 supports p3.8xlarge: the newest, Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.9 (Ubuntu 24.04) 20260317 (2026-03-17), lists G4dn, G5, G6, Gr6, G6e, P4, P4de, P5, P5e, P5en, P6-B200; the last that listed P3 is Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3.0 (Ubuntu 20.04) 20240615 (ami-0a9a0000000000003, 2024-06-15, deprecated): use it with --ami ami-0a9a0000000000003 or --include-deprecated, or a supported type (nearest: --type p4d.24xlarge)" '
	{ ! m -w $W -c "node p3 up --dry-run --skip-quota-check" >/dev/null 2>"$T/p3.err"; } && cat "$T/p3.err"'

t_ok 'p3 --include-deprecated: that image; --type p4d.24xlarge: the current one' '
	m -w $W -c "node p3 up --include-deprecated --dry-run --skip-quota-check" 2>&1 |
	    grep -q "image *p3 *ami-0a9a0000000000003 .*(2024-06-15), login user ubuntu" &&
	m -w $W -c "node p3 up --type p4d.24xlarge --dry-run --skip-quota-check" 2>&1 |
	    grep -q "image *p3 *ami-0a9a0000000000006 \"Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.9 (Ubuntu 24.04) 20260317\""'

cat >"$HOME/.mlshrc" <<'RC'
node_kinds = {
  htf = { type = "dl1.24xlarge", ami_name = "*Habana TensorFlow*" },
  hal = { type = "dl1.24xlarge", ami_name = "*Habana PyTorch*(Amazon Linux 2)*" },
  none = { type = "dl1.24xlarge", ami_name = { "Nothing like this*", "Nor this*" } },
}
RC
t_ok 'a kind in ~/.mlshrc pins patterns: TensorFlow when asked; Amazon Linux logs in as ec2-user' '
	m -w $W -c "node htf up --dry-run --skip-quota-check" 2>&1 |
	    grep -q "image *htf *ami-0d1a0000000000009 \"Deep Learning AMI Habana TensorFlow 2.15.0 SynapseAI 1.14.0 (Ubuntu 22.04) 20250310\" (2025-03-10), login user ubuntu" &&
	m -w $W -c "node hal up --dry-run --skip-quota-check" 2>&1 |
	    grep -q "image *hal *ami-0d1a0000000000008 .*(2025-03-01), login user ec2-user"'

t_err 'no image matches: one line naming the patterns and --ami' \
	"node: no AMI for none: tried 'Nothing like this*', 'Nor this*' (owner amazon); give one with --ami, or ami_name in node_kinds" 1 '
	m -w $W -c "node none up --dry-run --skip-quota-check"'
rm -f "$HOME/.mlshrc"

t_ok 'node dl1 up starts from the chosen image and records its user' '
	m -w $W -c "node dl1 up --skip-quota-check" >/dev/null 2>"$T/up.err" &&
	python3 -c "
import boto3, json, os, sys
ec2 = boto3.client(\"ec2\", endpoint_url=os.environ[\"MOTO_URL\"], region_name=\"us-east-1\")
r = json.load(open(sys.argv[1]))[\"resources\"][\"dl1-1\"]
i = ec2.describe_instances(InstanceIds=[r[\"id\"]])[\"Reservations\"][0][\"Instances\"][0]
assert i[\"ImageId\"] == \"ami-0d1a0000000000007\", i[\"ImageId\"]
assert r[\"attrs\"][\"login_user\"] == \"ubuntu\" and r[\"attrs\"][\"ami_name\"].startswith(\"Deep Learning AMI Habana PyTorch 2.1.1\"), r" \
	    "$XDG_STATE_HOME/mlsh/$W.json" || { cat "$T/up.err"; false; }'

t_ok 'down leaves nothing' '
	strict_reset && m -w $W -c "down --force" >/dev/null 2>"$T/down.err" &&
	[ "$(counts $W)" = "$NONE" ] || { cat "$T/down.err"; counts $W; false; }'

strict_reset
t_done
