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
# for each backend that works here: qemu-system-x86_64 (TCG unless
# VM_BENCH_QEMU_ACCEL says otherwise) and hull's built-in VMM on /dev/kvm,
# each with hull's own guest kernel (`make guest-kernel`; `make bench`
# names it in $HULL_GUEST_KERNEL) and with Debian's from /boot.
# A backend that fails is reported with its error (on a nested, emulating
# /dev/kvm the built-in VMM cannot boot Linux), and the VMM's own setup
# time to the first guest instruction, which does not depend on the
# emulation, comes from bench/vmm-bench.sh.
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

# bundle BACKEND-ANNOTATIONS: a bundle of tests/rootfs whose process says hi.
make_bundle() {
	local dir=$1 annotations=$2
	mkdir -p "$dir"
	(cd "$dir" && "$hull" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e 's|^\t\t\t"sh"$|\t\t\t"sh", "-c", "echo hi"|' \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$repo/tests/rootfs\"|" \
		-e "s|^\t\"ociVersion\": \(.*\)$|\t\"ociVersion\": \1\n\t\"annotations\": {$annotations},|" \
		"$dir/config.json"
	grep -q '"echo hi"' "$dir/config.json" || die "could not adapt \`hull spec' output"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { if (us == "-") print "-"; else printf "%.0f", us / 1000 }'; }

# bench NAME KERNEL ANNOTATIONS
bench() {
	local name=$1 bundle=$work/bundle-$1 i line us kib status first
	local firsts=() totals=() rss=() readies=()
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$2\"$3"
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
		read -r us kib status first <<<"$line"
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

# Each backend with each kernel there is: hull's own (NAME-hull) and
# Debian's (NAME-debian).
kernels=()
[[ -r $own ]] && kernels+=("hull:$own")
[[ -r $kernel ]] && kernels+=("debian:$kernel")
echo "VM mode, $n runs each (medians); kernels: ${kernels[*]}"
for k in "${kernels[@]}"; do
	if [[ -n $qemu ]]; then
		bench "qemu-${k%%:*}" "${k#*:}" ", \"run.oci.vm.hypervisor\": \"$qemu\""
	else
		echo "qemu       skipped: no qemu-system-x86_64 (apt-get install qemu-system-x86)"
	fi
done
for k in "${kernels[@]}"; do
	bench "built-in-${k%%:*}" "${k#*:}" ""
done
if [[ -f $repo/bench/vmm-bench.sh ]]; then
	echo
	sh "$repo/bench/vmm-bench.sh"
fi
