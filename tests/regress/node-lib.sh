# node-lib.sh: the moto and helpers of stack-node.t and stack-services.t
# (sourced after lib.sh). Each file runs its own moto (killed by PID at the
# end) because it needs two things the shared one lacks: an image catalogue
# with Deep Learning AMIs (MOTO_AMIS_PATH=tests/regress/amis.json, AMI facts
# only: mlsh itself resolves them by name) and AWS managed policies
# (CloudWatchAgentServerPolicy …) that real IAM has.
export AWS_ACCESS_KEY_ID=AKIDMLSHTEST AWS_SECRET_ACCESS_KEY=mlsh-secret AWS_REGION=us-east-1

t_moto MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_AMIS_PATH="$TESTS_DIR/regress/amis.json" ||
	{ t_done; exit 1; }
U=$MOTO_URL

m() { "$MLSH" --endpoint-url "$U" "$@"; }
awscli() { aws --endpoint-url "$U" --region us-east-1 --output json "$@"; }
py() { python3 -S -c "import json,sys,base64; d=json.load(sys.stdin); $1"; }
rec() { # WS ROLE FIELD: a record's field (or attr) from the state file
	python3 -S -c "import json,sys; r=json.load(open(sys.argv[1]))['resources'].get(sys.argv[2],{}); print(r.get(sys.argv[3], r.get('attrs',{}).get(sys.argv[3],'')))" \
	    "$XDG_STATE_HOME/mlsh/$1.json" "$2" "$3"
}
instance() { awscli ec2 describe-instances --instance-ids "$1" | py "i=d['Reservations'][0]['Instances'][0]; $2"; }
tagged() { # count of live instances tagged with workspace $1 (and Name $2)
	awscli ec2 describe-instances --filters "Name=tag:mlsh:workspace,Values=$1" \
	    "Name=instance-state-name,Values=pending,running,stopping,stopped" ${2:+"Name=tag:Name,Values=$2"} |
	    py "print(sum(len(r['Instances']) for r in d['Reservations']))"
}
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"

