#!/usr/bin/env bash
# bench/vm-bench.sh — what VM mode costs (`make bench` runs it after
# bench.sh; root).
#
# Measured, as medians over VM_BENCH_N runs (default 5) of a busybox
# container whose process is `echo hi`:
#   first-byte  the time from spawning `hull run` to the first byte of the
#               container's output: boot of the guest kernel, hull's agent,
#               the guest container, the process
#   total       until `hull run` returned (the guest powered off)
#   maxrss      the largest RSS among hull, its VM process and the
#               hypervisor (ru_maxrss over the reaped tree)
# for each backend that works here: qemu-system-x86_64 (TCG unless
# VM_BENCH_QEMU_ACCEL says otherwise) and hull's built-in VMM on /dev/kvm.
# A backend that fails is reported with its error (on a nested, emulating
# /dev/kvm the built-in VMM cannot boot Linux), and the VMM's own setup
# time to the first guest instruction, which does not depend on the
# emulation, comes from bench/vmm-bench.sh.
#
# Then, under qemu, how a 500 MB rootfs (tests/rootfs and a 500 MB file
# of real blocks) reaches the guest: shared over virtio-9p (qemu's
# default) and copied into the initramfs (run.oci.vm.rootfs=initramfs),
# both with 2048 MiB: the copy's guest holds the initrd and the files
# unpacked from it at once (with 1280 MiB its unpacking runs out).
#
# Environment: VM_BENCH_N, HULL (default ./hull), VM_BENCH_KERNEL (default
# the newest /boot/vmlinuz-*), QEMU (default qemu-system-x86_64).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${VM_BENCH_N:-5}
hull=${HULL:-$repo/hull}
qemu=$(command -v "${QEMU:-qemu-system-x86_64}" || true)
kernel=${VM_BENCH_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}

die() { echo "vm-bench: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "run as root"
[[ -x $hull ]] || die "no $hull (run make)"
[[ -r $kernel ]] || die "no kernel in /boot (apt-get install linux-image-amd64)"

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

# bundle BACKEND-ANNOTATIONS [ROOTFS]: a bundle of ROOTFS (default
# tests/rootfs) whose process says hi.
make_bundle() {
	local dir=$1 annotations=$2 rootfs=${3:-$repo/tests/rootfs}
	mkdir -p "$dir"
	(cd "$dir" && "$hull" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e 's|^\t\t\t"sh"$|\t\t\t"sh", "-c", "echo hi"|' \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|" \
		-e "s|^\t\"ociVersion\": \(.*\)$|\t\"ociVersion\": \1\n\t\"annotations\": {$annotations},|" \
		"$dir/config.json"
	grep -q '"echo hi"' "$dir/config.json" || die "could not adapt \`hull spec' output"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { if (us == "-") print "-"; else printf "%.0f", us / 1000 }'; }

# bench NAME ANNOTATIONS [ROOTFS]
bench() {
	local name=$1 bundle=$work/bundle-$1 i line us kib status first
	local firsts=() totals=() rss=()
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$kernel\"$2" "${3:-}"
	for ((i = 0; i < n; i++)); do
		: >"$work/out"
		line=$("$work/measure" -f -o "$work/out" -t 120 \
			"$hull" --root "$work/root" run --bundle "$bundle" "vmb-$name-$i")
		read -r us kib status first <<<"$line"
		if [[ $status != 0 ]] || ! grep -qx hi "$work/out"; then
			printf '%-14s FAILED: %s\n' "$name" "$(grep -v '^hi$' "$work/out" | head -n 1)"
			return 0
		fi
		firsts+=("$first") totals+=("$us") rss+=("$kib")
	done
	printf '%-14s first-byte %6s ms   total %6s ms   maxrss %7s KiB\n' "$name" \
		"$(ms "$(printf '%s\n' "${firsts[@]}" | median)")" \
		"$(ms "$(printf '%s\n' "${totals[@]}" | median)")" \
		"$(printf '%s\n' "${rss[@]}" | median)"
}

echo "VM mode, $n runs each, kernel $kernel (medians):"
if [[ -n $qemu ]]; then
	bench qemu ", \"run.oci.vm.hypervisor\": \"$qemu\""
else
	echo "qemu       skipped: no qemu-system-x86_64 (apt-get install qemu-system-x86)"
fi
bench built-in ""
if [[ -n $qemu ]]; then
	echo
	echo "A 500 MB rootfs under qemu, 2048 MiB guests (medians):"
	cp -a "$repo/tests/rootfs" "$work/rootfs-500M"
	dd if=/dev/zero of="$work/rootfs-500M/blob" bs=1M count=500 status=none
	big=", \"run.oci.vm.hypervisor\": \"$qemu\", \"run.oci.vm.memory\": \"2048\""
	bench 500M-9p "$big" "$work/rootfs-500M"
	bench 500M-copy "$big, \"run.oci.vm.rootfs\": \"initramfs\"" "$work/rootfs-500M"
fi
if [[ -f $repo/bench/vmm-bench.sh ]]; then
	echo
	sh "$repo/bench/vmm-bench.sh"
fi
