#!/usr/bin/env bash
# check-layers: fail when an #include goes against the layers drawn in
# docs/architecture.md. Each directory may include its own headers and those
# of the layers below it; from another directory only a layer's public
# headers may be included. Prints one line per offending #include.
#
#   lib/       base utilities, the state store            -> (nothing)
#   aws/       AWS APIs (public: aws/aws.h)               -> lib
#   remote/    SSH (public: remote/remote.h)              -> lib
#   lab/       the local cloud (public: lab/lab.h, lab/ctrl.h) -> aws, lib
#   stack/     the domain layer, no terminal              -> aws, remote, lib
#   shell/     REPL, parser, output, Lua host             -> aws, lib, and the
#              two tables builtins provide: builtins/builtins.def (commands,
#              shell/cmd.c only), builtins/services.def (session services,
#              shell/service.c only)
#   builtins/  the commands                               -> every layer
#   shell/main.c wires everything                         -> every layer
set -u
cd "$(dirname "$0")/.."

allowed() {	# allowed LAYER: the layers LAYER may include from
	case "$1" in
	lib)      echo "lib" ;;
	aws)      echo "aws lib" ;;
	remote)   echo "remote lib" ;;
	lab)      echo "lab aws lib" ;;
	stack)    echo "stack aws remote lib" ;;
	shell)    echo "shell aws lib" ;;
	builtins) echo "builtins shell stack aws remote lab lib" ;;
	esac
}
public() {	# public HEADER: 0 when another layer may include it
	case "$1" in
	aws/aws.h|remote/remote.h|lab/lab.h|lab/ctrl.h) return 0 ;;
	aws/*|remote/*|lab/*) return 1 ;;
	*) return 0 ;;
	esac
}

bad=0
for f in lib/*.[ch] aws/*.[ch] remote/*.[ch] lab/*.[ch] stack/*.[ch] stack/*.def \
	shell/*.[ch] builtins/*.[ch] builtins/*.def; do
	[ -f "$f" ] || continue
	[ "$f" = shell/main.c ] && continue
	layer=${f%%/*}
	[ "$layer" = "${prev_layer:-}" ] || ok=" $(allowed "$layer") "
	prev_layer=$layer
	while IFS=: read -r line inc; do
		[[ $inc =~ \#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]] || continue
		h=${BASH_REMATCH[1]}
		case "$h" in */*) ;; *) continue ;; esac	# same directory
		hl=${h%%/*}
		[ "$f" = shell/cmd.c ] && [ "$h" = builtins/builtins.def ] && continue
		[ "$f" = shell/service.c ] && [ "$h" = builtins/services.def ] && continue
		if [[ "$ok" != *" $hl "* ]]; then
			echo "$f:$line: $layer/ may not include $h (layer $hl)"
			bad=$((bad + 1))
		elif [ "$hl" != "$layer" ] && ! public "$h"; then
			echo "$f:$line: $h is internal to $hl/"
			bad=$((bad + 1))
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include "' "$f")
done
if [ "$bad" -gt 0 ]; then
	echo "check-layers: $bad include(s) against docs/architecture.md" >&2
	exit 1
fi
echo "check-layers: ok"
