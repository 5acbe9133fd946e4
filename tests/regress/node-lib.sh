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
# tagged WS [NAME]: count of live instances tagged with workspace WS (and
# Name NAME), asked of moto itself with curl: one DescribeInstances, its
# instanceId elements counted (moto checks no signature). The AWS CLI and a
# python to read its answer cost ~2 s of CPU a count; the tests count ~15
# times.
tagged() {
	curl -s -m 60 -H "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/20200101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0" \
	    --data-urlencode Action=DescribeInstances --data-urlencode Version=2016-11-15 \
	    --data-urlencode Filter.1.Name=tag:mlsh:workspace --data-urlencode "Filter.1.Value.1=$1" \
	    --data-urlencode Filter.2.Name=instance-state-name --data-urlencode Filter.2.Value.1=pending \
	    --data-urlencode Filter.2.Value.2=running --data-urlencode Filter.2.Value.3=stopping \
	    --data-urlencode Filter.2.Value.4=stopped \
	    ${2:+--data-urlencode Filter.3.Name=tag:Name --data-urlencode "Filter.3.Value.1=$2"} "$U/" >"$T/tagged.xml" &&
	grep -q "<DescribeInstancesResponse" "$T/tagged.xml" &&
	grep -o "<instanceId>" "$T/tagged.xml" | wc -l
}
mkdir -p "$HOME/.ssh" && ssh-keygen -q -t ed25519 -N '' -f "$HOME/.ssh/id_ed25519"

