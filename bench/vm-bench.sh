#!/usr/bin/env bash
# bench/vm-bench.sh — what VM mode costs (`make bench` runs it after
# bench.sh; root).
#
# Measured, as medians over VM_BENCH_N runs (default 5) of a busybox
# container whose process is `echo hi`:
#   ready       `hull create` until it returned: the guest booted to its
#               agent's READY (kernel boot, hull as /init, the mounts)
#   first-byte  the time from spawning `hull run` to the first byte of the
#               container's output: boot of the guest kernel, hull's agent,
#               the guest container, the process
#   total       until `hull run` returned (the guest powered off)
#   maxrss      the largest RSS among hull, its VM process and the
#               hypervisor (ru_maxrss over the reaped tree)
# and, once for qemu, the rate of the container's stdout through the agent
# channel (a virtio-serial port): VM_BENCH_STDOUT_MIB (default 64) MiB from
# dd, from the first byte on the host to the last; and of its stdin:
# VM_BENCH_STDIN_MIB (default 64) MiB from a file that dd in the guest
# reads 64 KiB at a time, from the first byte of the container's output
# (`start`, before dd reads) to the last (dd's count, once it read all).
# (The built-in VMM's channel is its virtio console, hvc0, with hull's own
# kernel, and the second UART, ~0.2 MB/s, with a kernel that cannot find
# virtio-mmio devices; it needs a /dev/kvm that runs guest code, so it is
# not measured here.) On a host shared with other work this is as much the
# scheduler's number as hull's.
# for each backend that works here: qemu-system-x86_64 (TCG unless
# VM_BENCH_QEMU_ACCEL says otherwise) and hull's built-in VMM on /dev/kvm,
# each with hull's own guest kernel (`make guest-kernel`; `make bench`
# names it in $HULL_GUEST_KERNEL) and with Debian's from /boot; under qemu
# also without the balloon (run.oci.vm.balloon=false).
#
# Then, under qemu with the first of those kernels, what idle VM containers
# (`sleep`, started) cost:
#   idle-rss    the host RSS and PSS (file pages shared between VMs, as
#               qemu's mapping of the kernel, counted once) of one (its
#               monitor and qemu), VM_BENCH_SETTLE seconds (default 5) after
#               its process started: by then the balloon has reported what
#               the guest freed (the initramfs it unpacked); with and
#               without the balloon
#   10 at once  VM_BENCH_MANY (default 10) with balloons created and
#               started together: the time until all their processes ran,
#               and their total host RSS and PSS once settled
# A backend that fails is reported with its error (on a nested, emulating
# /dev/kvm the built-in VMM cannot boot Linux), and the VMM's own setup
# time to the first guest instruction, which does not depend on the
# emulation, comes from bench/vmm-bench.sh.
#
# Then, under qemu, how a 500 MB rootfs (tests/rootfs and a 500 MB file
# of real blocks) reaches the guest: shared over virtio-fs (where a
# virtiofsd is installed) and over virtio-9p, and copied into the
# initramfs (run.oci.vm.rootfs=initramfs), all with 2048 MiB: the copy's
# guest holds the initrd and the files unpacked from it at once (with
# 1280 MiB its unpacking runs out). And the two shares side by side under
# file system work (fs_bench: untar, stat, a big write and read, rm).
#
# VM_BENCH_ONLY=fs runs only that comparison.
#
# Environment: VM_BENCH_N, HULL (default ./hull), HULL_GUEST_KERNEL (hull's
# own kernel; none: not measured), VM_BENCH_KERNEL (default the newest
# /boot/vmlinuz-*), QEMU (default qemu-system-x86_64).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${VM_BENCH_N:-5}
hull=${HULL:-$repo/hull}
qemu=$(command -v "${QEMU:-qemu-system-x86_64}" || true)
kernel=${VM_BENCH_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
own=${HULL_GUEST_KERNEL:-}
# Where hull looks for one (runtime/vm/virtiofs.c).
virtiofsd=$(command -v virtiofsd || ls /usr/libexec/virtiofsd /usr/lib/qemu/virtiofsd 2>/dev/null | head -n 1 || true)

die() { echo "vm-bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root"
[[ -x $hull ]] || die "no $hull (run make)"
[[ -r $kernel || -r $own ]] || die "no guest kernel (make guest-kernel, or apt-get install linux-image-amd64)"

work=$(mktemp -d /tmp/hull-vm-bench.XXXXXX)
cleanup() {
	local d
	for d in "$work"/root/*/; do
		[[ -d $d ]] && "$hull" --root "$work/root" delete --force "$(basename "$d")" >/dev/null 2>&1
	done
	rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -Wall -Wextra -Werror -o "$work/measure" "$repo/bench/measure.c"

# make_bundle DIR BACKEND-ANNOTATIONS [ROOTFS] [SCRIPT]: a bundle of ROOTFS
# (default tests/rootfs) whose process runs SCRIPT (default: says hi).
make_bundle() {
	local dir=$1 annotations=$2 rootfs=${3:-$repo/tests/rootfs} script=${4:-echo hi}
	mkdir -p "$dir"
	(cd "$dir" && "$hull" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e "s|^\t\t\t\"sh\"\$|\t\t\t\"sh\", \"-c\", \"$script\"|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
		-e "s|^\t\"ociVersion\": \(.*\)$|\t\"ociVersion\": \1\n\t\"annotations\": {$annotations},|" \
		"$dir/config.json"
	grep -qF "\"$script\"" "$dir/config.json" || die "could not adapt \`hull spec' output"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { if (us == "-") print "-"; else printf "%.0f", us / 1000 }'; }

# bench NAME KERNEL ANNOTATIONS [ROOTFS]
bench() {
	local name=$1 bundle=$work/bundle-$1 i line us kib status first
	local firsts=() totals=() rss=() readies=()
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$2\"$3" "${4:-}"
	for ((i = 0; i < n; i++)); do
		# create returns once the agent said READY: the boot alone.
		: >"$work/out"
		line=$("$work/measure" -o "$work/out" -t 120 \
			"$hull" --root "$work/root" create --bundle "$bundle" "vmr-$name-$i")
		read -r us kib status <<<"$line"
		"$hull" --root "$work/root" delete --force "vmr-$name-$i" >/dev/null 2>&1 || true
		if [[ $status != 0 ]]; then
			printf '%-16s FAILED: %s\n' "$name" "$(head -n 1 "$work/out")"
			return 0
		fi
		readies+=("$us")
		: >"$work/out"
		line=$("$work/measure" -f -o "$work/out" -t 120 \
			"$hull" --root "$work/root" run --bundle "$bundle" "vmb-$name-$i")
		read -r us kib status first _ <<<"$line"
		if [[ $status != 0 ]] || ! grep -qx hi "$work/out"; then
			printf '%-16s FAILED: %s\n' "$name" "$(grep -v '^hi$' "$work/out" | head -n 1)"
			return 0
		fi
		firsts+=("$first") totals+=("$us") rss+=("$kib")
	done
	printf '%-16s ready %6s ms   first-byte %6s ms   total %6s ms   maxrss %7s KiB\n' "$name" \
		"$(ms "$(printf '%s\n' "${readies[@]}" | median)")" \
		"$(ms "$(printf '%s\n' "${firsts[@]}" | median)")" \
		"$(ms "$(printf '%s\n' "${totals[@]}" | median)")" \
		"$(printf '%s\n' "${rss[@]}" | median)"
}

# The host "RSS PSS" (kB) of a VM container: its monitor (the container's
# pid) and the monitor's descendants: the hypervisor, and virtio-fs's
# virtiofsds.
descendants() {
	local c
	for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

vm_rss() {
	local pid p rss=0 pss=0 r s
	pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p' "$work/root/$1/state.json")
	for p in $pid $(descendants "$pid"); do
		read -r r s < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { s = $2 }
			END { print r + 0, s + 0 }' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0 0)
		rss=$((rss + r)) pss=$((pss + s))
	done
	echo "$rss $pss"
}

# idle BUNDLE COUNT NAME: COUNT containers of BUNDLE created and started
# at once; prints "<ms until all ran> <total RSS kB> <total PSS kB>", the
# sizes once settled.
idle() {
	local bundle=$1 count=$2 name=$3 i t0 t1 rss=0 pss=0 r s deadline
	t0=$(date +%s%N)
	for ((i = 0; i < count; i++)); do
		("$hull" --root "$work/root" create --bundle "$bundle" "$name-$i" \
			>"$work/$name-$i.out" 2>&1 </dev/null &&
			"$hull" --root "$work/root" start "$name-$i") &
	done
	wait
	deadline=$((SECONDS + 300))
	for ((i = 0; i < count; i++)); do
		until grep -q ready "$work/$name-$i.out"; do
			((SECONDS < deadline)) || { echo "- - -"; return 0; }
			sleep 0.05
		done
	done
	t1=$(date +%s%N)
	sleep "${VM_BENCH_SETTLE:-5}"
	for ((i = 0; i < count; i++)); do
		read -r r s <<<"$(vm_rss "$name-$i")"
		rss=$((rss + r)) pss=$((pss + s))
	done
	for ((i = 0; i < count; i++)); do
		"$hull" --root "$work/root" delete --force "$name-$i" >/dev/null 2>&1 || true
	done
	echo "$(((t1 - t0) / 1000000)) $rss $pss"
}

idle_bench() {
	local bundle=$work/bundle-idle base many=${VM_BENCH_MANY:-10} ms rss pss
	# Many TCG boots at once share the host's cores: more than the default
	# 30 s to boot.
	base="\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$first_kernel\", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.timeout\": \"300\""
	for balloon in true false; do
		make_bundle "$bundle-$balloon" "$base, \"run.oci.vm.balloon\": \"$balloon\""
		sed -i 's|"sh", "-c", "echo hi"|"sh", "-c", "echo ready; exec sleep 1000"|' \
			"$bundle-$balloon/config.json"
		read -r ms rss pss <<<"$(idle "$bundle-$balloon" 1 "idle-$balloon")"
		printf 'idle-rss   balloon=%-5s RSS %7s KiB, PSS %7s KiB per VM container (started in %s ms)\n' \
			"$balloon" "$rss" "$pss" "$ms"
	done
	read -r ms rss pss <<<"$(idle "$bundle-true" "$many" many)"
	printf '%d at once  balloon=true  all running in %s ms; RSS %s KiB, PSS %s KiB in all (PSS %s KiB each)\n' \
		"$many" "$ms" "$rss" "$pss" "$([[ $pss == - ]] && echo - || echo $((pss / many)))"
}

# fs_bench NAME ANNOTATIONS: file system work in a started container of
# a rootfs holding a tarball of VM_BENCH_FS_FILES (default 2000) 4 KiB
# files, each step a `hull exec` timed on the host (median of n, less the
# median of an empty exec):
#   untar   tar x of the tree into the rootfs (creates, writes)
#   stat    ls -lR of it (a lookup and a stat per file)
#   write   256 MiB written with dd and fsync'ed
#   read    the same file read back
#   rm      rm -r of the tree
fs_bench() {
	local name=$1 bundle=$work/bundle-$1-fs rootfs=$work/rootfs-$1-fs id=vmfs-$1
	local files=${VM_BENCH_FS_FILES:-2000} step i t0 t1 base
	local -A cmd=(
		[untar]="mkdir /tree && tar xf /tree.tar -C /tree"
		[stat]="ls -lR /tree >/dev/null"
		[write]="dd if=/dev/zero of=/big bs=1M count=256 conv=fsync 2>/dev/null"
		[read]="dd if=/big of=/dev/null bs=1M 2>/dev/null"
		[rm]="rm -rf /tree /big"
	)
	rm -rf "$rootfs" && cp -a "$repo/tests/rootfs" "$rootfs"
	mkdir -p "$work/tree"
	for ((i = 0; i < files; i++)); do
		head -c 4096 /dev/urandom >"$work/tree/f$i"
	done
	tar cf "$rootfs/tree.tar" -C "$work/tree" .
	rm -rf "$work/tree"
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$first_kernel\"$2" \
		"$rootfs" "exec sleep 100000"
	sed -i 's/"readonly": true/"readonly": false/' "$bundle/config.json"
	if ! "$hull" --root "$work/root" create --bundle "$bundle" "$id" >"$work/out" 2>&1 ||
		! "$hull" --root "$work/root" start "$id" >>"$work/out" 2>&1; then
		printf '%-10s fs FAILED: %s\n' "$name" "$(head -n 1 "$work/out")"
		"$hull" --root "$work/root" delete --force "$id" >/dev/null 2>&1 || true
		return 0
	fi
	# exec_ms SCRIPT: one exec's wall time in ms.
	exec_ms() {
		t0=$(date +%s%N)
		"$hull" --root "$work/root" exec "$id" sh -c "$1" >/dev/null 2>"$work/out" ||
			{ echo "-"; return 0; }
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000000))
	}
	base=$(for ((i = 0; i < n; i++)); do exec_ms true; done | median)
	local -A took=()
	local runs
	for step in untar stat write read rm; do took[$step]=""; done
	for ((i = 0; i < n; i++)); do
		for step in untar stat write read rm; do
			took[$step]+="$(exec_ms "${cmd[$step]}") "
		done
	done
	printf '%-10s' "$name"
	for step in untar stat write read rm; do
		runs=$(tr ' ' '\n' <<<"${took[$step]}" | grep . | median)
		printf '  %s %6s ms' "$step" "$([[ $runs == - ]] && echo - || echo $((runs - base)))"
	done
	printf '  (exec alone %s ms; %s files)\n' "$base" "$files"
	"$hull" --root "$work/root" delete --force "$id" >/dev/null 2>&1 || true
}

# stdout_rate NAME ANNOTATIONS: MB/s of a container's bulk stdout, once.
stdout_rate() {
	local name=$1 bundle=$work/bundle-$1-stdout line us kib status first last bytes
	local mib=${VM_BENCH_STDOUT_MIB:-64}
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$first_kernel\"$2" \
		"" "dd if=/dev/zero bs=65536 count=$((mib * 16)) 2>/dev/null"
	line=$("$work/measure" -f -o /dev/null -t 600 \
		"$hull" --root "$work/root" run --bundle "$bundle" "vmb-$name-stdout")
	read -r us kib status first last bytes <<<"$line"
	if [[ $status != 0 || $bytes != $((mib << 20)) ]]; then
		printf '%-10s stdout FAILED: status %s, %s of %s bytes\n' "$name" "$status" "$bytes" $((mib << 20))
		return 0
	fi
	printf '%-10s stdout %6s MB/s (%s MiB in %s ms)\n' "$name" \
		"$(awk -v b="$bytes" -v us=$((last - first)) 'BEGIN { printf "%.2f", (us > 0 ? b / us : 0) }')" \
		"$mib" "$(ms $((last - first)))"
}

# stdin_rate NAME ANNOTATIONS: MB/s of a container's bulk stdin, once.
stdin_rate() {
	local name=$1 bundle=$work/bundle-$1-stdin line us kib status first last bytes
	local mib=${VM_BENCH_STDIN_MIB:-64}
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$first_kernel\"$2" \
		"" "echo start; dd bs=65536 iflag=fullblock of=/dev/null"
	dd if=/dev/urandom of="$work/stdin" bs=1M count="$mib" status=none
	: >"$work/out"
	line=$("$work/measure" -i "$work/stdin" -f -o "$work/out" -t 600 \
		"$hull" --root "$work/root" run --bundle "$bundle" "vmb-$name-stdin")
	read -r us kib status first last bytes <<<"$line"
	rm -f "$work/stdin"
	if [[ $status != 0 ]] || ! grep -q "^$((mib * 16))+0 records in" "$work/out"; then
		printf '%-10s stdin  FAILED: status %s, %s\n' "$name" "$status" \
			"$(grep records "$work/out" | head -n 1)"
		return 0
	fi
	printf '%-10s stdin  %6s MB/s (%s MiB in %s ms)\n' "$name" \
		"$(awk -v b=$((mib << 20)) -v us=$((last - first)) 'BEGIN { printf "%.2f", (us > 0 ? b / us : 0) }')" \
		"$mib" "$(ms $((last - first)))"
}

# Each backend with each kernel there is: hull's own (NAME-hull) and
# Debian's (NAME-debian); the rest with the first of them.
kernels=()
[[ -r $own ]] && kernels+=("hull:$own")
[[ -r $kernel ]] && kernels+=("debian:$kernel")
first_kernel=${kernels[0]#*:}
if [[ ${VM_BENCH_ONLY:-} == fs ]]; then
	[[ -n $qemu ]] || die "no qemu-system-x86_64"
	echo "File system work in the shared rootfs under qemu, $n runs each (medians); kernel $first_kernel:"
	[[ -n $virtiofsd ]] && fs_bench virtiofs ", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.rootfs\": \"virtio-fs\""
	fs_bench 9p ", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.rootfs\": \"virtio-9p\""
	exit 0
fi
echo "VM mode, $n runs each (medians); kernels: ${kernels[*]}"
for k in "${kernels[@]}"; do
	if [[ -n $qemu ]]; then
		bench "qemu-${k%%:*}" "${k#*:}" ", \"run.oci.vm.hypervisor\": \"$qemu\""
	else
		echo "qemu       skipped: no qemu-system-x86_64 (apt-get install qemu-system-x86)"
	fi
done
# Without /dev/kvm a VM container with no hypervisor named runs under qemu
# (config.c), so the built-in VMM is measured only where /dev/kvm is.
if [[ -c /dev/kvm ]]; then
	for k in "${kernels[@]}"; do
		bench "built-in-${k%%:*}" "${k#*:}" ""
	done
else
	echo "built-in   skipped: no /dev/kvm (hull runs VM containers under qemu without it)"
fi
if [[ -n $qemu ]]; then
	bench qemu-nobal "$first_kernel" ", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.balloon\": \"false\""
	stdout_rate qemu ", \"run.oci.vm.hypervisor\": \"$qemu\""
	stdin_rate qemu ", \"run.oci.vm.hypervisor\": \"$qemu\""
	echo
	echo "A 500 MB rootfs under qemu, 2048 MiB guests (medians):"
	cp -a "$repo/tests/rootfs" "$work/rootfs-500M"
	dd if=/dev/zero of="$work/rootfs-500M/blob" bs=1M count=500 status=none
	big=", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.memory\": \"2048\""
	if [[ -n $virtiofsd ]]; then
		bench 500M-virtiofs "$first_kernel" "$big, \"run.oci.vm.rootfs\": \"virtio-fs\"" "$work/rootfs-500M"
	else
		echo "500M-virtiofs    skipped: no virtiofsd (apt-get install virtiofsd)"
	fi
	bench 500M-9p "$first_kernel" "$big, \"run.oci.vm.rootfs\": \"virtio-9p\"" "$work/rootfs-500M"
	bench 500M-copy "$first_kernel" "$big, \"run.oci.vm.rootfs\": \"initramfs\"" "$work/rootfs-500M"
	echo
	echo "File system work in the shared rootfs under qemu, virtio-fs vs virtio-9p (medians):"
	if [[ -n $virtiofsd ]]; then
		fs_bench virtiofs ", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.rootfs\": \"virtio-fs\""
	else
		echo "virtiofs   skipped: no virtiofsd (apt-get install virtiofsd)"
	fi
	fs_bench 9p ", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.rootfs\": \"virtio-9p\""
	echo "Idle VM containers under qemu (host RSS of the monitor, qemu and any virtiofsd):"
	idle_bench
fi
if [[ -f $repo/bench/vmm-bench.sh ]]; then
	echo
	sh "$repo/bench/vmm-bench.sh"
fi
