# The AWS layer against moto on loopback (DESIGN.md section 9): one-shot
# `mlsh -c 'api ec2 DescribeVpcs'` vs `curl --aws-sigv4` and the AWS CLI, and
# 200 calls in one mlsh session vs 200 in one boto3 process.
# Targets: one-shot within 1.3x curl; in-session per call close to moto's own time.
set -u
M=$(pwd)/mlsh
tmp=$(mktemp -d)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null; wait $moto 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 XDG_STATE_HOME=$tmp HOME=$tmp
U=http://127.0.0.1:$port
ms() { date +%s%N; }
per() { # n command... -> mean ms per run
	local n=$1; shift; local t0 t1
	t0=$(ms); for _ in $(seq "$n"); do "$@" >/dev/null 2>&1; done; t1=$(ms)
	echo $(( (t1 - t0) / n / 1000 ))
}
"$M" --norc --endpoint-url "$U" -c 'api ec2 CreateVpc CidrBlock=10.0.0.0/16' >/dev/null
n=30
m_us=$(per $n "$M" --norc --endpoint-url "$U" -c 'api ec2 DescribeVpcs')
c_us=$(per $n curl -s --aws-sigv4 "aws:amz:us-east-1:ec2" --user bench:bench \
	-d 'Action=DescribeVpcs&Version=2016-11-15' "$U/")
a_us=$(per 5 aws --endpoint-url "$U" ec2 describe-vpcs)
echo "  one-shot DescribeVpcs: mlsh $((m_us / 1000)).$(( (m_us % 1000) / 100 )) ms, curl --aws-sigv4 $((c_us / 1000)).$(( (c_us % 1000) / 100 )) ms, aws CLI $((a_us / 1000)) ms"
python3 -c "print('  ratio mlsh/curl %.2f (target <= 1.3), mlsh/aws-cli %.3f' % ($m_us/$c_us, $m_us/$a_us))"
# 200 calls in one process: mlsh (Lua loop in one session, kept-alive connection) vs boto3.
cat > "$tmp/loop.mlsh" <<'LUA'
for i = 1, 200 do api.call("ec2", "DescribeVpcs") end
LUA
t0=$(ms); "$M" --norc --endpoint-url "$U" "$tmp/loop.mlsh"; t1=$(ms)
mloop=$(( (t1 - t0) / 200 / 1000 ))
b=$(python3 - "$U" <<'PY'
import sys, time, boto3
c = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
c.describe_vpcs()
t = time.time()
for _ in range(200): c.describe_vpcs()
print(int((time.time() - t) / 200 * 1e6))
PY
)
echo "  200 calls in one process: mlsh $((mloop / 1000)).$(( (mloop % 1000) / 100 )) ms/call, boto3 $((b / 1000)).$(( (b % 1000) / 100 )) ms/call"
python3 -c "print('  ratio mlsh/boto3 %.2f' % ($mloop/$b))"
