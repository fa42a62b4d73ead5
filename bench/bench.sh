#!/usr/bin/env bash
# bench/bench.sh — compare hull with crun and runc on the same machine, same
# bundle, same moment.  `make bench` runs it after building hull and
# tests/rootfs; run it as root.
#
# Measured, as medians over BENCH_N iterations (default 100):
#   run      `RUNTIME run` of a container whose process is /bin/true
#   create   `RUNTIME create`, then (each timed on its own)
#   start    `RUNTIME start` of that container (its process is /bin/true)
#   delete   `RUNTIME delete` once it has stopped
#   exec     `RUNTIME exec ID /bin/true` into a running container (one per
#            runtime, started before the loop)
#   maxrss   peak RSS of the `run` process (ru_maxrss: the runtime and the
#            children it reaped itself, e.g. runc's `runc init`)
#   floor    `unshare --fork --pid --mount --uts --ipc --net /bin/true`, the
#            cost of the namespaces alone
#
# Then, what a container costs its cgroup (same interleaving, once each):
#   memmin   the smallest linux.resources.memory.limit at which `run` of
#            /bin/true still succeeds, bisected between 64 KiB and 16 MiB to
#            16 KiB: the runtime's own peak inside the container's memcg
#            before exec (its init is charged there once moved)
#   pids1    whether `run` of /bin/true succeeds with pids.limit 1
#   idlemem  the memcg usage (v1 memory.usage_in_bytes, v2 memory.current)
#            of a started container whose process is `sleep`, median over
#            BENCH_IDLE_N containers (default 10) alive at once
#
# The runtimes are interleaved: every iteration measures each of them once,
# in a rotating order, so machine noise hits all of them alike.  Before
# that, each runtime must pass a sanity check (a container whose process
# exits 7 makes `run` exit 7), so a stub cannot post fast numbers.  A runtime
# that fails is reported as FAILED with the first line of its output, and
# the others are still measured.
#
# Everything runs inside one private mount namespace in which the cgroup2
# mount at /sys/fs/cgroup/unified is unmounted, so that all three runtimes
# see the same cgroup v1 layout: crun 1.8 refuses hybrid hierarchies.  The
# host's mounts are never touched.
#
# Environment:
#   BENCH_N        iterations (default 100)
#   BENCH_TIMEOUT  seconds before one runtime command is killed (default 30)
#   BENCH_IDLE_N   containers per runtime for idlemem (default 10)
#   BENCH_ROOTFS   rootfs for the bundle (default tests/rootfs)
#   HULL CRUN RUNC the binaries (default ./hull, /usr/bin/crun, /usr/sbin/runc);
#                  HULL=/usr/sbin/runc exercises this script before hull works
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_N=${BENCH_N:-100}
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-30}
export BENCH_IDLE_N=${BENCH_IDLE_N:-10}
export BENCH_ROOTFS=${BENCH_ROOTFS:-$repo/tests/rootfs}
export HULL=${HULL:-$repo/hull}
export CRUN=${CRUN:-/usr/bin/crun}
export RUNC=${RUNC:-/usr/sbin/runc}

RUNTIMES=(crun runc hull)          # crun first: the ratios are relative to it
METRICS=(run create start delete exec maxrss)

die() { echo "bench: $*" >&2; exit 1; }

binary_of() {
	case $1 in
	crun) echo "$CRUN" ;;
	runc) echo "$RUNC" ;;
	hull) echo "$HULL" ;;
	esac
}

# Delete every container left under each runtime's --root.  Safe to repeat.
delete_leftovers() {
	local work=$1 rt bin dir
	for rt in "${RUNTIMES[@]}"; do
		bin=$(binary_of "$rt")
		[[ -x $bin && -d $work/root-$rt ]] || continue
		for dir in "$work/root-$rt"/*/; do
			[[ -d $dir ]] || continue
			timeout 10 "$bin" --root "$work/root-$rt" delete --force \
				"$(basename "$dir")" >/dev/null 2>&1 || true
		done
	done
}

# ---------------------------------------------------------------- outer part
# Checks, builds the driver and the bundle, then re-runs this script inside a
# private mount namespace.

outer() {
	[[ $(id -u) == 0 ]] || die "must run as root (the runtimes create namespaces and cgroups)"
	[[ $BENCH_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer, not \`$BENCH_N'"
	[[ $BENCH_IDLE_N =~ ^[1-9][0-9]*$ ]] || die "BENCH_IDLE_N must be a positive integer, not \`$BENCH_IDLE_N'"
	[[ -x $BENCH_ROOTFS/bin/true || -L $BENCH_ROOTFS/bin/true ]] ||
		die "no rootfs at \`$BENCH_ROOTFS' (run \`make tests/rootfs/.done' or set BENCH_ROOTFS)"
	[[ -x $RUNC ]] || die "runc not found at \`$RUNC' (apt-get install runc, or set RUNC): it writes the bundle's config"
	command -v cc >/dev/null || die "cc not found (apt-get install build-essential)"
	command -v unshare >/dev/null || die "unshare not found (apt-get install util-linux)"

	work=$(mktemp -d /tmp/hull-bench.XXXXXX)
	trap 'delete_leftovers "$work"; rm -rf "$work"' EXIT

	cc -O2 -Wall -Wextra -Werror -o "$work/measure" "$repo/bench/measure.c"
	make_bundle "$work/bundle" '"/bin/true"'
	make_bundle "$work/bundle-exit7" '"/bin/sh", "-c", "exit 7"'
	make_bundle "$work/bundle-sleep" '"/bin/sleep", "100000"'
	make_bundle "$work/bundle-pids1" '"/bin/true"' '"pids": {"limit": 1}'

	unshare --mount --propagation private -- bash "${BASH_SOURCE[0]}" --inner "$work"
}

# make_bundle DIR ARGS: one bundle for all runtimes, runc's default config
# made non-interactive, running ARGS (JSON strings) from the read-only rootfs,
# with RESOURCES (JSON members) added to linux.resources when given.
make_bundle() {
	local bundle=$1 args=$2 resources=${3:-} rootfs
	rootfs=$(cd "$BENCH_ROOTFS" && pwd)
	mkdir -p "$bundle"
	"$RUNC" spec --bundle "$bundle"
	sed -i -e 's/"terminal": true/"terminal": false/' \
	       -e "s|^\\([[:space:]]*\\)\"sh\"\$|\\1$args|" \
	       -e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" "$bundle/config.json"
	if ! grep -q '"terminal": false' "$bundle/config.json" ||
	   ! grep -qF "$args" "$bundle/config.json" ||
	   ! grep -qF "\"path\": \"$rootfs\"" "$bundle/config.json"; then
		die "could not adapt \`runc spec' output in $bundle/config.json"
	fi
	[[ -z $resources ]] || add_resources "$bundle/config.json" "$resources"
}

# add_resources CONFIG MEMBERS: MEMBERS (JSON) into CONFIG's linux.resources.
add_resources() {
	local config=$1 members=$2
	sed -i -e "s|\"resources\": {|\"resources\": { $members,|" "$config"
	grep -qF "$members" "$config" || die "could not add $members to $config"
}

# ---------------------------------------------------------------- inner part

declare -A BIN FAILED

# measure METRIC RUNTIME COMMAND...: time COMMAND, keep the sample, or mark
# the runtime FAILED for METRIC with its first line of output.
measure() {
	local metric=$1 rt=$2 us kib status
	shift 2
	: >"$work/out"
	if ! read -r us kib status < <("$work/measure" -o "$work/out" -t "$BENCH_TIMEOUT" "$@"); then
		FAILED[$rt.$metric]="could not be measured (see measure's message above)"
		return 1
	fi
	if [[ $status != 0 ]]; then
		local why
		why=$(grep -m1 . "$work/out" | cut -c1-160 || true)
		[[ $status == 124 ]] && why="timed out after ${BENCH_TIMEOUT}s${why:+: $why}"
		FAILED[$rt.$metric]="exit $status${why:+: $why}"
		return 1
	fi
	echo "$us" >>"$work/samples/$rt.$metric"
	[[ $metric != run ]] || echo "$kib" >>"$work/samples/$rt.maxrss"
}

failed() { [[ -n ${FAILED[$1.$2]:-} ]]; }

bench_run() {
	local rt=$1 id=$2 root=$work/root-$1
	failed "$rt" run && return 0
	measure run "$rt" "${BIN[$rt]}" --root "$root" run --bundle "$work/bundle" "$id" ||
		FAILED[$rt.maxrss]=${FAILED[$rt.run]}
	# `run` deletes its container; make sure, untimed.
	[[ ! -e $root/$id ]] || "${BIN[$rt]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
}

wait_stopped() {
	local bin=$1 root=$2 id=$3 tries
	for ((tries = 0; tries < 500; tries++)); do
		"$bin" --root "$root" state "$id" 2>/dev/null | grep -Eq '"status": *"stopped"' && return 0
		sleep 0.01
	done
	return 1
}

bench_lifecycle() {
	local rt=$1 id=$2 root=$work/root-$1 bin=${BIN[$1]} metric
	for metric in create start delete; do
		failed "$rt" "$metric" && return 0
	done
	if ! measure create "$rt" "$bin" --root "$root" create --bundle "$work/bundle" "$id"; then
		FAILED[$rt.start]="not measured: create failed"
		FAILED[$rt.delete]="not measured: create failed"
	elif ! measure start "$rt" "$bin" --root "$root" start "$id"; then
		FAILED[$rt.delete]="not measured: start failed"
	elif ! wait_stopped "$bin" "$root" "$id"; then
		FAILED[$rt.delete]="not measured: \`state' never said stopped after start"
	else
		measure delete "$rt" "$bin" --root "$root" delete "$id" || true
	fi
	[[ ! -e $root/$id ]] || "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
}

# One running container per runtime for the exec metric.
start_exec_target() {
	local rt=$1 root=$work/root-$1 id=bench-exec-$1
	failed "$rt" exec && return 0
	if ! timeout "$BENCH_TIMEOUT" "${BIN[$rt]}" --root "$root" run -d --bundle "$work/bundle-sleep" "$id" >"$work/out" 2>&1 </dev/null; then
		FAILED[$rt.exec]="could not start the container to exec into: $(grep -m1 . "$work/out" | cut -c1-120)"
	fi
}

bench_exec() {
	local rt=$1
	failed "$rt" exec && return 0
	measure exec "$rt" "${BIN[$rt]}" --root "$work/root-$rt" exec "bench-exec-$rt" /bin/true || true
}

# A runtime must really run a container before its numbers mean anything:
# one whose process exits 7 must make `run` exit 7.
sanity_check() {
	local rt=$1 root=$work/root-$1 id=bench-sanity-$1 us kib status why metric
	: >"$work/out"
	read -r us kib status < <("$work/measure" -o "$work/out" -t "$BENCH_TIMEOUT" \
		"${BIN[$rt]}" --root "$root" run --bundle "$work/bundle-exit7" "$id") || status=none
	[[ ! -e $root/$id ]] || "${BIN[$rt]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	[[ $status != 7 ]] || return 0
	why=$(grep -m1 . "$work/out" | cut -c1-160 || true)
	for metric in "${METRICS[@]}"; do
		FAILED[$rt.$metric]="sanity check: a container exiting 7 made \`run' exit $status${why:+: $why}"
	done
}

median() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cell METRIC RUNTIME: "median unit" (and "ratio" to crun) or FAILED.
value_of() {
	local f=$work/samples/$2.$1
	failed "$2" "$1" && return 1
	[[ -s $f ]] || return 1
	median "$f"
}

format_value() {
	local metric=$1 v=$2
	if [[ $metric == maxrss ]]; then
		printf '%d KiB' "${v%.*}"
	else
		awk -v us="$v" 'BEGIN { printf "%.2f ms", us / 1000 }'
	fi
}

cell() {
	local metric=$1 rt=$2 v base
	v=$(value_of "$metric" "$rt") || { echo "FAILED"; return; }
	if [[ $rt != crun ]] && base=$(value_of "$metric" crun); then
		printf '%s (%sx)' "$(format_value "$metric" "$v")" \
			"$(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
	else
		format_value "$metric" "$v"
	fi
}

report() {
	local metric rt floor
	declare -A LABEL=([run]="run /bin/true" [create]=create [start]=start
	                  [delete]=delete [exec]="exec /bin/true" [maxrss]="peak RSS of run")
	echo
	echo "hull bench: medians of $BENCH_N iterations, interleaved; ratios relative to crun"
	echo "kernel $(uname -r), $(nproc) CPUs, cgroup v1 (unified unmounted in a private mount ns)"
	for rt in "${RUNTIMES[@]}"; do
		printf '  %-5s %s\n' "$rt" "${BIN[$rt]}"
	done
	echo
	printf '%-18s' metric
	for rt in "${RUNTIMES[@]}"; do printf '%-22s' "$rt"; done
	echo
	for metric in "${METRICS[@]}"; do
		printf '%-18s' "${LABEL[$metric]}"
		for rt in "${RUNTIMES[@]}"; do printf '%-22s' "$(cell "$metric" "$rt")"; done
		echo
	done
	floor=$(median "$work/samples/unshare.floor")
	echo
	echo "floor: unshare --fork --pid --mount --uts --ipc --net /bin/true: $(format_value floor "$floor")"

	local failures
	failures=$(for rt in "${RUNTIMES[@]}"; do
		local first=${FAILED[$rt.${METRICS[0]}]:-} same=1
		for metric in "${METRICS[@]}"; do
			[[ ${FAILED[$rt.$metric]:-} == "$first" ]] || same=
		done
		if [[ -n $first && -n $same ]]; then
			echo "$rt FAILED: $first"
			continue
		fi
		for metric in "${METRICS[@]}"; do
			! failed "$rt" "$metric" || echo "$rt $metric FAILED: ${FAILED[$rt.$metric]}"
		done
	done)
	[[ -z $failures ]] || printf '\n%s\n' "$failures"

	echo
	for metric in "${METRICS[@]}"; do
		local line=""
		for rt in "${RUNTIMES[@]}"; do
			line+="${line:+, }$rt $(cell "$metric" "$rt")"
		done
		printf 'summary %-7s %s\n' "$metric:" "$line"
	done
	printf 'summary %-7s %s\n' "floor:" "$(format_value floor "$floor")"
}

# ------------------------------------------------------- what cgroups see

CG_METRICS=(memmin pids1 idlemem)
declare -A CG                     # CG[rt.metric]: the value, or FAILED: why

# run_ok RT BUNDLE ID: whether `run` of BUNDLE succeeds; leaves nothing.
run_ok() {
	local rt=$1 bundle=$2 id=$3 root=$work/root-$1 ok=0
	timeout "$BENCH_TIMEOUT" "${BIN[$rt]}" --root "$root" run --bundle "$bundle" "$id" \
		>/dev/null 2>&1 || ok=1
	[[ ! -e $root/$id ]] || "${BIN[$rt]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	return $ok
}

# The bundle running /bin/true under a memory limit of KIB KiB.
memory_bundle() {
	local kib=$1 dir=$work/bundle-mem-$1
	if [[ ! -d $dir ]]; then
		mkdir -p "$dir"
		cp "$work/bundle/config.json" "$dir/"
		add_resources "$dir/config.json" "\"memory\": {\"limit\": $((kib * 1024))}"
	fi
	echo "$dir"
}

probe_memory() {
	local rt=$1 kib=$2
	run_ok "$rt" "$(memory_bundle "$kib")" "bench-mem-$rt-$kib"
}

# Bisects every runtime's smallest working memory limit in lockstep, one
# probe per runtime per round, in rotating order.
bench_memmin() {
	local lo=64 hi=16384 step=16 rt i=0 k n=${#RUNTIMES[@]} mid
	declare -A LO HI
	for rt in "${RUNTIMES[@]}"; do
		failed "$rt" run && { CG[$rt.memmin]="FAILED: ${FAILED[$rt.run]}"; continue; }
		if ! probe_memory "$rt" "$hi"; then
			CG[$rt.memmin]="FAILED: run fails even at $hi KiB"
		elif probe_memory "$rt" "$lo"; then
			CG[$rt.memmin]=$lo
		else
			LO[$rt]=$lo HI[$rt]=$hi
		fi
	done
	while ((${#LO[@]} > 0)); do
		for ((k = 0; k < n; k++)); do
			rt=${RUNTIMES[(i + k) % n]}
			[[ -n ${LO[$rt]:-} ]] || continue
			mid=$(((LO[$rt] + HI[$rt]) / 2 / step * step))
			if probe_memory "$rt" "$mid"; then HI[$rt]=$mid; else LO[$rt]=$mid; fi
			if ((HI[$rt] - LO[$rt] <= step)); then
				CG[$rt.memmin]=${HI[$rt]}
				unset "LO[$rt]" "HI[$rt]"
			fi
		done
		i=$((i + 1))
	done
}

bench_pids1() {
	local rt
	for rt in "${RUNTIMES[@]}"; do
		if failed "$rt" run; then CG[$rt.pids1]="FAILED: ${FAILED[$rt.run]}"
		elif run_ok "$rt" "$work/bundle-pids1" "bench-pids1-$rt"; then CG[$rt.pids1]=yes
		else CG[$rt.pids1]=no
		fi
	done
}

# The memcg usage in bytes of process PID's cgroup (v1 memory hierarchy, else
# the cgroup2 one when /sys/fs/cgroup is cgroup2).
memcg_usage_of() {
	local pid=$1 line path
	while IFS= read -r line; do
		path=${line#*:*:}
		case $line in
		*:memory:*) cat "/sys/fs/cgroup/memory$path/memory.usage_in_bytes"; return ;;
		0::*) [[ -e /sys/fs/cgroup/memory/memory.usage_in_bytes ]] ||
			{ cat "/sys/fs/cgroup$path/memory.current"; return; } ;;
		esac
	done <"/proc/$pid/cgroup"
	return 1
}

# BENCH_IDLE_N containers per runtime running `sleep`, created and started in
# rotating order, all alive at once; then each one's memcg usage.
bench_idlemem() {
	local rt i k n=${#RUNTIMES[@]} id root pid bytes
	declare -A IDS
	for ((i = 0; i < BENCH_IDLE_N; i++)); do
		for ((k = 0; k < n; k++)); do
			rt=${RUNTIMES[(i + k) % n]}
			failed "$rt" run && continue
			[[ -z ${CG[$rt.idlemem]:-} ]] || continue
			id=bench-idle-$rt-$i root=$work/root-$rt
			if ! timeout "$BENCH_TIMEOUT" "${BIN[$rt]}" --root "$root" create --bundle "$work/bundle-sleep" "$id" >"$work/out" 2>&1 ||
			   ! timeout "$BENCH_TIMEOUT" "${BIN[$rt]}" --root "$root" start "$id" >"$work/out" 2>&1; then
				CG[$rt.idlemem]="FAILED: $(grep -m1 . "$work/out" | cut -c1-160 || true)"
				continue
			fi
			IDS[$rt]+=" $id"
		done
	done
	sleep 1          # let every `sleep` exec and settle
	for rt in "${RUNTIMES[@]}"; do
		failed "$rt" run && { CG[$rt.idlemem]="FAILED: ${FAILED[$rt.run]}"; continue; }
		root=$work/root-$rt
		: >"$work/samples/$rt.idlemem"
		for id in ${IDS[$rt]:-}; do
			pid=$("${BIN[$rt]}" --root "$root" state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
			if [[ -n $pid ]] && bytes=$(memcg_usage_of "$pid"); then
				echo $((bytes / 1024)) >>"$work/samples/$rt.idlemem"
			fi
			"${BIN[$rt]}" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
		done
		if [[ -z ${CG[$rt.idlemem]:-} ]]; then
			if [[ -s $work/samples/$rt.idlemem ]]; then
				CG[$rt.idlemem]=$(median "$work/samples/$rt.idlemem")
			else
				CG[$rt.idlemem]="FAILED: no container's memcg usage could be read"
			fi
		fi
	done
}

cg_cell() {
	local metric=$1 rt=$2 v=${CG[$2.$1]:-FAILED: not measured} base
	case $v in
	FAILED*) echo FAILED; return ;;
	yes|no) echo "$v"; return ;;
	esac
	base=${CG[crun.$metric]:-}
	if [[ $rt != crun && $base =~ ^[0-9.]+$ && $base != 0 ]]; then
		printf '%d KiB (%sx)' "${v%.*}" "$(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
	else
		printf '%d KiB' "${v%.*}"
	fi
}

cg_report() {
	local metric rt
	declare -A LABEL=([memmin]="min memory.limit" [pids1]="pids.limit=1 ok"
	                  [idlemem]="memcg of idle ctr")
	echo
	echo "cgroup cost: memmin bisected to 16 KiB; idlemem median of $BENCH_IDLE_N sleeping containers"
	printf '%-18s' metric
	for rt in "${RUNTIMES[@]}"; do printf '%-22s' "$rt"; done
	echo
	for metric in "${CG_METRICS[@]}"; do
		printf '%-18s' "${LABEL[$metric]}"
		for rt in "${RUNTIMES[@]}"; do printf '%-22s' "$(cg_cell "$metric" "$rt")"; done
		echo
	done
	for rt in "${RUNTIMES[@]}"; do
		for metric in "${CG_METRICS[@]}"; do
			[[ ${CG[$rt.$metric]:-} != FAILED* ]] || echo "$rt $metric ${CG[$rt.$metric]}"
		done
	done
	echo
	for metric in "${CG_METRICS[@]}"; do
		local line=""
		for rt in "${RUNTIMES[@]}"; do
			line+="${line:+, }$rt $(cg_cell "$metric" "$rt")"
		done
		printf 'summary %-8s %s\n' "$metric:" "$line"
	done
}

inner() {
	work=$1
	# Refuse to unmount anything unless we really are in our own mount namespace.
	[[ $(readlink /proc/self/ns/mnt) != $(readlink /proc/$PPID/ns/mnt) ]] ||
		die "not in a private mount namespace; refusing to touch mounts"
	if mountpoint -q /sys/fs/cgroup/unified; then
		umount /sys/fs/cgroup/unified
	fi
	trap 'delete_leftovers "$work"' EXIT

	mkdir -p "$work/samples"
	local rt bin
	for rt in "${RUNTIMES[@]}"; do
		bin=$(binary_of "$rt")
		bin=$(command -v "$bin" || echo "$bin")
		BIN[$rt]=$bin
		mkdir -p "$work/root-$rt"
		if [[ ! -x $bin ]]; then
			local metric
			for metric in "${METRICS[@]}"; do FAILED[$rt.$metric]="\`$bin' is not an executable"; done
		fi
	done

	for rt in "${RUNTIMES[@]}"; do
		failed "$rt" run || sanity_check "$rt"
	done

	for rt in "${RUNTIMES[@]}"; do
		start_exec_target "$rt"
	done

	local i k n=${#RUNTIMES[@]} progress=
	[[ -t 2 ]] && progress=1
	for ((i = 0; i < BENCH_N; i++)); do
		[[ -z $progress ]] || printf '\rbench: iteration %d/%d' $((i + 1)) "$BENCH_N" >&2
		for ((k = 0; k < n; k++)); do
			rt=${RUNTIMES[(i + k) % n]}
			bench_run "$rt" "bench-run-$rt-$i"
		done
		for ((k = 0; k < n; k++)); do
			rt=${RUNTIMES[(i + k + 1) % n]}
			bench_lifecycle "$rt" "bench-life-$rt-$i"
		done
		for ((k = 0; k < n; k++)); do
			bench_exec "${RUNTIMES[(i + k + 2) % n]}"
		done
		measure floor unshare unshare --fork --pid --mount --uts --ipc --net /bin/true ||
			die "unshare itself failed: ${FAILED[unshare.floor]}"
	done
	[[ -z $progress ]] || echo >&2
	for rt in "${RUNTIMES[@]}"; do
		"${BIN[$rt]}" --root "$work/root-$rt" delete --force "bench-exec-$rt" >/dev/null 2>&1 || true
	done
	[[ -z $progress ]] || echo "bench: cgroup costs (memory limit bisection, pids.limit 1, idle memcg)" >&2
	bench_memmin
	bench_pids1
	bench_idlemem
	report
	cg_report
}

if [[ ${1:-} == --inner ]]; then
	inner "$2"
else
	outer
fi
