#!/usr/bin/env bash
# bench/seccomp-bench.sh — what a docker-sized seccomp profile costs `hull
# run`, `create` and `start`: medians (µs) over BENCH_N iterations of a
# container running /bin/true without a profile and with
# bench/docker-like-seccomp.json (~290 syscalls).  Both use one --root, so
# after the first container the profile's compiled filter is cached.
# Run as root after `make tests/rootfs/.done`.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${BENCH_N:-50}
HULL=${HULL:-$repo/hull}
ROOTFS=$(cd "${BENCH_ROOTFS:-$repo/tests/rootfs}" && pwd)

work=$(mktemp -d /tmp/hull-seccomp-bench.XXXXXX)
trap 'for d in "$work"/root/*/; do [[ -d $d ]] && "$HULL" --root "$work/root" delete --force "$(basename "$d")" >/dev/null 2>&1; done; rm -rf "$work"' EXIT
cc -O2 -o "$work/measure" "$repo/bench/measure.c"

make_bundle() {   # DIR PROFILE|-
	mkdir -p "$1"
	"$HULL" spec --bundle "$1"
	local filter='.process.terminal = false | .process.args = ["/bin/true"] | .root.path = $rootfs'
	if [[ $2 == - ]]; then
		jq --arg rootfs "$ROOTFS" "$filter | del(.linux.seccomp)" "$1/config.json" >"$1/c"
	else
		jq --arg rootfs "$ROOTFS" --slurpfile p "$2" "$filter | .linux.seccomp = \$p[0]" \
			"$1/config.json" >"$1/c"
	fi
	mv "$1/c" "$1/config.json"
}
make_bundle "$work/plain" -
make_bundle "$work/docker" "$repo/bench/docker-like-seccomp.json"

sample() {   # FILE CMD...: appends the wall µs of CMD, fails on a bad exit
	local out=$1 us kib status
	shift
	read -r us kib status < <("$work/measure" -o "$work/out" -t 30 "$@")
	[[ $status == 0 ]] || { echo "failed ($status): $*" >&2; cat "$work/out" >&2; exit 1; }
	echo "$us" >>"$out"
}

for ((i = 0; i < N; i++)); do
	for kind in plain docker; do
		id=$kind-$i
		sample "$work/$kind.run" "$HULL" --root "$work/root" run --bundle "$work/$kind" "$id-r"
		sample "$work/$kind.create" "$HULL" --root "$work/root" create --bundle "$work/$kind" "$id"
		sample "$work/$kind.start" "$HULL" --root "$work/root" start "$id"
		while [[ $("$HULL" --root "$work/root" state "$id" | jq -r .status) != stopped ]]; do sleep 0.001; done
		"$HULL" --root "$work/root" delete "$id"
	done
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-8s %10s %10s\n' "" "no-profile" "docker"
for m in run create start; do
	printf '%-8s %10s %10s\n' "$m" "$(median "$work/plain.$m")" "$(median "$work/docker.$m")"
done
