#!/usr/bin/env bash
# bench/net-bench.sh — what a container's network costs: hull's own bridge
# network (annotation run.oci.network=bridge) beside Debian's CNI `bridge`
# + `host-local` plugins (containernetworking-plugins) run the way an
# engine runs them.  `make bench` runs it after bench.sh; run it as root.
#
# Everything happens in a network namespace this script makes (`unshare
# --net`, with a private mount namespace for the per-container network
# namespaces it bind-mounts on a tmpfs): the host's interfaces, addresses,
# iptables and nftables are never touched, and all of it goes away with the
# namespaces.
#
# Measured:
#   setup+teardown  per container, median of BENCH_NET_N iterations, the
#       two sides interleaved in rotating order:
#       CNI   CNI_COMMAND=ADD then DEL of the bridge plugin (which runs
#             host-local) into a network namespace made beforehand, config
#             on stdin: bridge cni-bench0, isGateway, ipMasq, host-local
#             10.90.0.0/24 with its dataDir in the work directory
#       hull  (`hull create` + `hull delete` of a container annotated
#             run.oci.network=bridge) minus (the same without it): both
#             include making the container's network namespace, so the
#             difference is the network alone, as CNI's is
#       The cost of making and removing a network namespace, which neither
#       figure includes, is printed beside them.
#   200 on one bridge  BENCH_NET_MANY (200) containers alive at once on one
#       bridge: the setup time of the 1st and of the last, and the medians
#       of the first and last ten (flat means the last costs what the
#       first did). CNI: ADD; hull: the whole `hull create` with the
#       annotation (its network part is not separable there).
#   TCP throughput  bench/net-throughput (built by `make bench`) sends
#       BENCH_NET_BYTES (1 GiB) from one container's namespace to another's
#       over the bridge, median of BENCH_NET_RUNS (3), against the same over
#       the loopback of the bench's namespace (the host's loopback code,
#       without touching the host's).
#
# Until hull has its bridge network, `hull create` refuses or ignores the
# annotation; the hull column then says "not available" and the CNI side is
# still measured.
#
# Environment:
#   BENCH_NET_N      iterations of setup+teardown (default 20)
#   BENCH_NET_MANY   containers on one bridge (default 200)
#   BENCH_NET_BYTES  bytes per throughput run (default 1073741824)
#   BENCH_NET_RUNS   throughput runs per path (default 3)
#   BENCH_TIMEOUT    seconds before one hull command is killed (default 30)
#   BENCH_ROOTFS     rootfs for the bundle (default tests/rootfs)
#   HULL             the binary (default ./hull)
#   CNI_PATH         where the CNI plugins are (default /usr/lib/cni)
#   NET_THROUGHPUT   the throughput tool (default bench/net-throughput)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BENCH_NET_N=${BENCH_NET_N:-20}
export BENCH_NET_MANY=${BENCH_NET_MANY:-200}
export BENCH_NET_BYTES=${BENCH_NET_BYTES:-1073741824}
export BENCH_NET_RUNS=${BENCH_NET_RUNS:-3}
export BENCH_TIMEOUT=${BENCH_TIMEOUT:-30}
export BENCH_ROOTFS=${BENCH_ROOTFS:-$repo/tests/rootfs}
export HULL=${HULL:-$repo/hull}
export CNI_PATH=${CNI_PATH:-/usr/lib/cni}
export NET_THROUGHPUT=${NET_THROUGHPUT:-$repo/bench/net-throughput}

SIDES=(cni hull)
NOT_AVAILABLE="not available (run.oci.network unsupported)"

die() { echo "net-bench: $*" >&2; exit 1; }

# ---------------------------------------------------------------- outer part

outer() {
	[[ $(id -u) == 0 ]] || die "must run as root (network namespaces, bridges, iptables)"
	local v
	for v in BENCH_NET_N BENCH_NET_MANY BENCH_NET_BYTES BENCH_NET_RUNS; do
		[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not \`${!v}'"
	done
	((BENCH_NET_MANY >= 20)) || die "BENCH_NET_MANY must be at least 20 (first and last ten)"
	((BENCH_NET_MANY <= 250)) || die "BENCH_NET_MANY must be at most 250 (one /24)"
	[[ -x $HULL ]] || die "no hull at \`$HULL' (run make)"
	[[ -x $NET_THROUGHPUT ]] || die "no \`$NET_THROUGHPUT' (run \`make bench/net-throughput')"
	[[ -x $BENCH_ROOTFS/bin/sleep || -L $BENCH_ROOTFS/bin/sleep ]] ||
		die "no rootfs at \`$BENCH_ROOTFS' (run \`make tests/rootfs/.done' or set BENCH_ROOTFS)"
	command -v unshare >/dev/null || die "unshare not found (apt-get install util-linux)"
	command -v nsenter >/dev/null || die "nsenter not found (apt-get install util-linux)"
	command -v ip >/dev/null || die "ip not found (apt-get install iproute2)"

	work=$(mktemp -d /tmp/hull-net-bench.XXXXXX)
	trap 'rm -rf "$work"' EXIT
	make_bundle "$work/bundle" ''
	make_bundle "$work/bundle-net" '"run.oci.network": "bridge"'
	unshare --net --mount --propagation private -- bash "${BASH_SOURCE[0]}" --inner "$work"
}

# make_bundle DIR ANNOTATIONS: a bundle of the rootfs whose process sleeps
# (it is only ever created, never started), with ANNOTATIONS (JSON members).
make_bundle() {
	local dir=$1 annotations=$2 rootfs
	rootfs=$(cd "$BENCH_ROOTFS" && pwd)
	mkdir -p "$dir"
	(cd "$dir" && "$HULL" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e 's|^\([[:space:]]*\)"sh"$|\1"/bin/sleep", "100000"|' \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
		-e "s|^\\([[:space:]]*\\)\"ociVersion\": \\(.*\\)\$|&\\n\\1\"annotations\": {$annotations},|" \
		"$dir/config.json"
	if ! grep -q '"/bin/sleep", "100000"' "$dir/config.json" ||
	   ! grep -qF "\"annotations\": {$annotations}" "$dir/config.json"; then
		die "could not adapt \`hull spec' output in $dir/config.json"
	fi
}

# ---------------------------------------------------------------- inner part

declare -A FAILED           # FAILED[side]: why that side could not be measured

failed() { [[ -n ${FAILED[$1]:-} ]]; }
first_line() { grep -m1 . "$1" | cut -c1-160 || true; }

# ---- network namespaces for the CNI side: a file under $ns bind-mounted
# by unshare, as `ip netns add` makes them.

new_netns() {
	touch "$ns/$1"
	unshare --net="$ns/$1" true
}

remove_netns() {
	umount "$ns/$1" 2>/dev/null || true
	rm -f "$ns/$1"
}

# cni COMMAND ID: the bridge plugin as an engine runs it, for the container
# ID whose namespace is $ns/ID; its answer in $work/cni.out.
cni() {
	# CNI_PATH (exported above) is where the plugin finds host-local.
	CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$ns/$2 CNI_IFNAME=eth0 \
		"$CNI_PATH/bridge" <"$work/cni.json" >"$work/cni.out" 2>&1
}

write_cni_config() {
	cat >"$work/cni.json" <<-EOF
	{
	  "cniVersion": "1.0.0",
	  "name": "hull-bench",
	  "type": "bridge",
	  "bridge": "cni-bench0",
	  "isGateway": true,
	  "ipMasq": true,
	  "ipam": {
	    "type": "host-local",
	    "subnet": "10.90.0.0/24",
	    "dataDir": "$work/cni-ipam"
	  }
	}
	EOF
}

# The address CNI gave the container (from the ADD answer in cni.out).
cni_address() {
	sed -n 's|.*"address": *"\([0-9.]*\)/.*|\1|p' "$work/cni.out" | head -n 1
}

# ---- hull

hull() { timeout "$BENCH_TIMEOUT" "$HULL" --root "$work/root" "$@" </dev/null; }

hull_create() { hull create --bundle "$1" "$2" >"$work/out" 2>&1; }
hull_delete() { hull delete --force "$1" >"$work/out" 2>&1; }

# The network namespace of hull container ID.
hull_netns_of() {
	local pid
	pid=$(hull state "$1" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[[ -n $pid ]] && echo "/proc/$pid/ns/net"
}

# The IPv4 address of eth0 in network namespace PATH, or nothing.
eth0_address_in() {
	{ nsenter --net="$1" ip -4 -o addr show dev eth0 2>/dev/null || true; } |
		sed -n 's|.* inet \([0-9.]*\)/.*|\1|p' | head -n 1
}

# Whether hull has its bridge network: a container created with the
# annotation must have an eth0 with an address. Sets FAILED[hull] if not.
probe_hull_network() {
	if ! hull_create "$work/bundle" probe-plain; then
		FAILED[hull]="hull create (no network) fails: $(first_line "$work/out")"
		return
	fi
	hull_delete probe-plain || true
	if ! hull_create "$work/bundle-net" probe-net; then
		if grep -q 'run\.oci\.network' "$work/out"; then
			FAILED[hull]="$NOT_AVAILABLE"
			HULL_DETAIL="hull create: $(first_line "$work/out")"
		else
			FAILED[hull]="hull create with run.oci.network=bridge: $(first_line "$work/out")"
		fi
		return
	fi
	local netns address=
	netns=$(hull_netns_of probe-net) && address=$(eth0_address_in "$netns")
	hull_delete probe-net || true
	if [[ -z $address ]]; then
		FAILED[hull]="$NOT_AVAILABLE"
		HULL_DETAIL="hull create accepted the annotation but the container has no eth0 with an address"
	fi
}

# ---- timing: ${EPOCHREALTIME//[!0-9]/} is the time in microseconds, read with
# no process of our own around what is timed (an engine forks and execs the
# plugin just as bash does).

median() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

sample() { echo "$2" >>"$work/samples/$1"; }

# ---- 1. setup + teardown per container

# One CNI ADD + DEL into a fresh namespace; the namespace's own cost apart.
cni_setup_teardown() {
	local id=$1 t0 t1 t2 t3 t4
	t0=${EPOCHREALTIME//[!0-9]/}
	new_netns "$id"
	t1=${EPOCHREALTIME//[!0-9]/}
	if ! cni ADD "$id"; then
		FAILED[cni]="CNI ADD: $(first_line "$work/cni.out")"
		remove_netns "$id"
		return
	fi
	t2=${EPOCHREALTIME//[!0-9]/}
	if ! cni DEL "$id"; then
		FAILED[cni]="CNI DEL: $(first_line "$work/cni.out")"
		remove_netns "$id"
		return
	fi
	t3=${EPOCHREALTIME//[!0-9]/}
	remove_netns "$id"
	t4=${EPOCHREALTIME//[!0-9]/}
	sample cni.setup $((t2 - t1))
	sample cni.teardown $((t3 - t2))
	sample cni.both $((t3 - t1))
	sample netns $((t1 - t0 + t4 - t3))
}

# hull create + delete of BUNDLE, into samples KEY.setup/teardown/both.
hull_create_delete() {
	local bundle=$1 key=$2 id=$3 t0 t1 t2
	t0=${EPOCHREALTIME//[!0-9]/}
	if ! hull_create "$bundle" "$id"; then
		FAILED[hull]="hull create ($key): $(first_line "$work/out")"
		return
	fi
	t1=${EPOCHREALTIME//[!0-9]/}
	if ! hull_delete "$id"; then
		FAILED[hull]="hull delete ($key): $(first_line "$work/out")"
		return
	fi
	t2=${EPOCHREALTIME//[!0-9]/}
	sample "$key.setup" $((t1 - t0))
	sample "$key.teardown" $((t2 - t1))
	sample "$key.both" $((t2 - t0))
}

hull_setup_teardown() {
	local i=$1
	# Alternate which goes first, as the sides do.
	if ((i % 2)); then
		hull_create_delete "$work/bundle" hull-plain "nb-plain-$i"
		failed hull || hull_create_delete "$work/bundle-net" hull-net "nb-net-$i"
	else
		hull_create_delete "$work/bundle-net" hull-net "nb-net-$i"
		failed hull || hull_create_delete "$work/bundle" hull-plain "nb-plain-$i"
	fi
}

bench_setup_teardown() {
	local i k side
	# One round first, not counted: the bridge, iptables' tables and the
	# page cache come into being then.
	cni_setup_teardown warm-cni
	failed hull || hull_setup_teardown 0
	rm -f "$work"/samples/*
	for ((i = 0; i < BENCH_NET_N; i++)); do
		for ((k = 0; k < 2; k++)); do
			side=${SIDES[(i + k) % 2]}
			failed "$side" && continue
			if [[ $side == cni ]]; then cni_setup_teardown "nb-$i"; else hull_setup_teardown "$i"; fi
		done
	done
}

# ---- 2. many containers on one bridge

bench_many_cni() {
	local i t0 t1
	for ((i = 1; i <= BENCH_NET_MANY; i++)); do new_netns "many-$i"; done
	for ((i = 1; i <= BENCH_NET_MANY; i++)); do
		t0=${EPOCHREALTIME//[!0-9]/}
		if ! cni ADD "many-$i"; then
			FAILED[cni.many]="CNI ADD of container $i: $(first_line "$work/cni.out")"
			break
		fi
		t1=${EPOCHREALTIME//[!0-9]/}
		echo $((t1 - t0)) >>"$work/many/cni"
	done
	for ((i = 1; i <= BENCH_NET_MANY; i++)); do
		cni DEL "many-$i" || true
		remove_netns "many-$i"
	done
}

bench_many_hull() {
	local i t0 t1
	for ((i = 1; i <= BENCH_NET_MANY; i++)); do
		t0=${EPOCHREALTIME//[!0-9]/}
		if ! hull_create "$work/bundle-net" "many-$i"; then
			FAILED[hull.many]="hull create of container $i: $(first_line "$work/out")"
			break
		fi
		t1=${EPOCHREALTIME//[!0-9]/}
		echo $((t1 - t0)) >>"$work/many/hull"
	done
	for ((i = 1; i <= BENCH_NET_MANY; i++)); do hull_delete "many-$i" || true; done
}

# ---- 3. TCP throughput

# throughput KEY SENDER-NETNS RECEIVER-NETNS ADDRESS: BENCH_NET_RUNS runs of
# the tool into samples KEY (MB/s). Empty netns: the bench's own.
throughput() {
	local key=$1 from=$2 to=$3 address=$4 run pid line
	local in_from=() in_to=()
	[[ -z $from ]] || in_from=(nsenter --net="$from")
	[[ -z $to ]] || in_to=(nsenter --net="$to")
	for ((run = 0; run < BENCH_NET_RUNS; run++)); do
		"${in_to[@]}" "$NET_THROUGHPUT" recv 5201 >/dev/null 2>"$work/recv.err" &
		pid=$!
		if line=$("${in_from[@]}" "$NET_THROUGHPUT" send "$address" 5201 "$BENCH_NET_BYTES" 2>"$work/send.err"); then
			echo "${line%% *}" >>"$work/samples/tp.$key"
			wait "$pid" || true
		else
			FAILED[tp.$key]="$(first_line "$work/send.err")"
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return
		fi
	done
}

bench_throughput() {
	ip link set lo up
	throughput loopback "" "" 127.0.0.1
	if ! failed cni; then
		local address
		new_netns tp-a
		new_netns tp-b
		if cni ADD tp-a && cni ADD tp-b && address=$(cni_address) && [[ -n $address ]]; then
			throughput cni "$ns/tp-a" "$ns/tp-b" "$address"
		else
			FAILED[tp.cni]="CNI ADD: $(first_line "$work/cni.out")"
		fi
		cni DEL tp-a || true
		cni DEL tp-b || true
		remove_netns tp-a
		remove_netns tp-b
	fi
	if ! failed hull; then
		local a b address
		if hull_create "$work/bundle-net" tp-a && hull_create "$work/bundle-net" tp-b &&
		   a=$(hull_netns_of tp-a) && b=$(hull_netns_of tp-b) &&
		   address=$(eth0_address_in "$b") && [[ -n $address ]]; then
			throughput hull "$a" "$b" "$address"
		else
			FAILED[tp.hull]="two containers on hull's bridge: $(first_line "$work/out")"
		fi
		hull_delete tp-a || true
		hull_delete tp-b || true
	fi
}

# ---- report

ms() { awk -v us="$1" 'BEGIN { printf "%.2f ms", us / 1000 }'; }

# The median of samples KEY in ms, or nothing when there are none.
median_us() { [[ -s $work/samples/$1 ]] && median "$work/samples/$1"; }

# hull's network cost for PART (setup, teardown, both): net minus plain.
hull_delta() {
	local net plain
	net=$(median_us "hull-net.$1") && plain=$(median_us "hull-plain.$1") || return 1
	awk -v a="$net" -v b="$plain" 'BEGIN { print a - b }'
}

# cell SIDE PART: the figure for setup+teardown (PART both, setup, teardown).
setup_cell() {
	local side=$1 part=$2 v base
	if failed "$side"; then
		[[ ${FAILED[$side]} == "$NOT_AVAILABLE" ]] && echo "not available" || echo FAILED
		return
	fi
	if [[ $side == cni ]]; then
		v=$(median_us "cni.$part") || { echo FAILED; return; }
		ms "$v"
		return
	fi
	v=$(hull_delta "$part") || { echo FAILED; return; }
	if base=$(median_us "cni.$part"); then
		printf '%s (%sx)' "$(ms "$v")" "$(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.3f", a / b }')"
	else
		ms "$v"
	fi
}

# many_cell SIDE WHICH: first, last, first10, last10 of the many run.
many_cell() {
	local side=$1 which=$2 f=$work/many/$1
	if failed "$side"; then
		[[ ${FAILED[$side]} == "$NOT_AVAILABLE" ]] && echo "not available" || echo FAILED
		return
	fi
	failed "$side.many" && { echo FAILED; return; }
	[[ -s $f ]] || { echo FAILED; return; }
	case $which in
	first) ms "$(head -n 1 "$f")" ;;
	last) ms "$(tail -n 1 "$f")" ;;
	first10) head -n 10 "$f" >"$f.part" && ms "$(median "$f.part")" ;;
	last10) tail -n 10 "$f" >"$f.part" && ms "$(median "$f.part")" ;;
	ratio) head -n 10 "$f" >"$f.a" && tail -n 10 "$f" >"$f.b" &&
		awk -v a="$(median "$f.b")" -v b="$(median "$f.a")" 'BEGIN { printf "%.2fx", a / b }' ;;
	esac
}

tp_cell() {
	local key=$1 v base
	if [[ $key != loopback ]] && failed "$key"; then
		[[ ${FAILED[$key]} == "$NOT_AVAILABLE" ]] && echo "not available" || echo FAILED
		return
	fi
	failed "tp.$key" && { echo FAILED; return; }
	v=$(median_us "tp.$key") || { echo FAILED; return; }
	if [[ $key != loopback ]] && base=$(median_us tp.loopback); then
		printf '%.0f MB/s (%s of lo)' "$v" "$(awk -v a="$v" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
	else
		printf '%.0f MB/s' "$v"
	fi
}

row() { printf '%-34s%-26s%s\n' "$1" "$2" "$3"; }

report() {
	local plugins
	plugins=$(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo "version unknown")
	echo
	echo "hull net bench: setup+teardown medians of $BENCH_NET_N iterations, interleaved; ratio hull/CNI"
	echo "kernel $(uname -r), $(nproc) CPUs, all in a private network namespace"
	echo "  cni   $CNI_PATH/bridge + host-local (containernetworking-plugins $plugins), ipMasq (iptables)"
	echo "  hull  $HULL, run.oci.network=bridge: (create+delete with) - (without)"
	echo
	row metric cni hull
	row "setup+teardown per container" "$(setup_cell cni both)" "$(setup_cell hull both)"
	row "  setup (ADD / create)" "$(setup_cell cni setup)" "$(setup_cell hull setup)"
	row "  teardown (DEL / delete)" "$(setup_cell cni teardown)" "$(setup_cell hull teardown)"
	row "$BENCH_NET_MANY on one bridge: 1st setup" "$(many_cell cni first)" "$(many_cell hull first)"
	row "  setup of the ${BENCH_NET_MANY}th" "$(many_cell cni last)" "$(many_cell hull last)"
	row "  median of the first ten" "$(many_cell cni first10)" "$(many_cell hull first10)"
	row "  median of the last ten" "$(many_cell cni last10)" "$(many_cell hull last10)"
	row "  last ten / first ten" "$(many_cell cni ratio)" "$(many_cell hull ratio)"
	row "TCP ctr<->ctr, one bridge" "$(tp_cell cni)" "$(tp_cell hull)"
	echo
	echo "netns create+remove (paid by both, in neither figure): $(ms "$(median_us netns || echo 0)")"
	echo "TCP over lo (bench's netns), $((BENCH_NET_BYTES >> 20)) MiB x $BENCH_NET_RUNS: $(tp_cell loopback)"
	echo "hull's $BENCH_NET_MANY figures are whole \`hull create' calls (network included); CNI's are ADD alone"

	local key notes
	notes=$(
		if [[ ${FAILED[hull]:-} == "$NOT_AVAILABLE" ]]; then
			echo "hull network: $NOT_AVAILABLE"
			[[ -z ${HULL_DETAIL:-} ]] || echo "  ($HULL_DETAIL)"
		fi
		for key in cni hull cni.many hull.many tp.loopback tp.cni tp.hull; do
			[[ -z ${FAILED[$key]:-} || ${FAILED[$key]} == "$NOT_AVAILABLE" ]] ||
				echo "$key FAILED: ${FAILED[$key]}"
		done)
	[[ -z $notes ]] || printf '\n%s\n' "$notes"

	echo
	printf 'summary %-16s cni %s, hull %s\n' "setup+teardown:" "$(setup_cell cni both)" "$(setup_cell hull both)"
	printf 'summary %-16s cni %s -> %s, hull %s -> %s\n' "1st->${BENCH_NET_MANY}th:" \
		"$(many_cell cni first10)" "$(many_cell cni last10)" "$(many_cell hull first10)" "$(many_cell hull last10)"
	printf 'summary %-16s lo %s, cni %s, hull %s\n' "tcp:" "$(tp_cell loopback)" "$(tp_cell cni)" "$(tp_cell hull)"
}

cleanup_inner() {
	local dir
	for dir in "$work"/root/*/; do
		[[ -d $dir ]] || continue
		hull delete --force "$(basename "$dir")" >/dev/null 2>&1 || true
	done
	[[ ! -d ${ns:-} ]] || umount -R "$ns" 2>/dev/null || true
}

inner() {
	work=$1
	# Refuse to go on outside our own network and mount namespaces.
	[[ $(readlink /proc/self/ns/net) != $(readlink /proc/$PPID/ns/net) ]] ||
		die "not in a private network namespace; refusing to make bridges"
	[[ $(readlink /proc/self/ns/mnt) != $(readlink /proc/$PPID/ns/mnt) ]] ||
		die "not in a private mount namespace; refusing to mount"
	ns=$work/netns
	mkdir -p "$ns" "$work/samples" "$work/many" "$work/root"
	mount -t tmpfs -o mode=0700 net-bench "$ns"
	trap cleanup_inner EXIT
	write_cni_config
	HULL_DETAIL=

	local plugin
	for plugin in bridge host-local; do
		[[ -x $CNI_PATH/$plugin ]] ||
			FAILED[cni]="no $CNI_PATH/$plugin (apt-get install containernetworking-plugins)"
	done
	probe_hull_network

	local progress=
	[[ -t 2 ]] && progress=1
	[[ -z $progress ]] || echo "net-bench: setup+teardown x $BENCH_NET_N" >&2
	bench_setup_teardown
	[[ -z $progress ]] || echo "net-bench: $BENCH_NET_MANY containers on one bridge" >&2
	failed cni || bench_many_cni
	failed hull || bench_many_hull
	[[ -z $progress ]] || echo "net-bench: TCP throughput" >&2
	bench_throughput
	report
}

if [[ ${1:-} == --inner ]]; then
	inner "$2"
else
	outer
fi
