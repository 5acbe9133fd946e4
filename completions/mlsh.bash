# bash completion for the mlsh command line (its own flags, and .mlsh files).
# Inside mlsh, Tab is mlsh's own completion.
_mlsh() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case $prev in
	-w|--workspace)
		local dir=${XDG_STATE_HOME:-$HOME/.local/state}/mlsh
		COMPREPLY=($(compgen -W "$(cd "$dir" 2>/dev/null && ls *.json 2>/dev/null | sed 's/\.json$//')" -- "$cur"))
		return ;;
	-p|--profile)
		COMPREPLY=($(compgen -W "$(sed -n 's/^\[\(profile \)\{0,1\}\([^]]*\)\]$/\2/p' \
			"${AWS_CONFIG_FILE:-$HOME/.aws/config}" "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" 2>/dev/null | sort -u)" -- "$cur"))
		return ;;
	-r|--region)
		COMPREPLY=($(compgen -W "us-east-1 us-east-2 us-west-1 us-west-2 eu-west-1 eu-west-2 eu-west-3 eu-central-1 eu-north-1 ap-south-1 ap-northeast-1 ap-northeast-2 ap-southeast-1 ap-southeast-2 ca-central-1 sa-east-1" -- "$cur"))
		return ;;
	-c|--endpoint-url)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "-c --workspace --profile --region --endpoint-url --json --trace --wait --norc --yes --lab --help --version" -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -X '!*.mlsh' -- "$cur") $(compgen -d -- "$cur"))
}
complete -o filenames -F _mlsh mlsh
