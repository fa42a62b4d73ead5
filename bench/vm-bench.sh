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
# and, once for qemu, the rate of the container's stdout through the agent
# channel (a virtio-serial port): VM_BENCH_STDOUT_MIB (default 64) MiB from
# dd, from the first byte on the host to the last. (The built-in VMM's
# channel is still the second UART, at ~0.2 MB/s under TCG.) On a host shared with other work this is as
# much the scheduler's number as hull's.
# for each backend that works here: qemu-system-x86_64 (TCG unless
# VM_BENCH_QEMU_ACCEL says otherwise) and hull's built-in VMM on /dev/kvm.
# A backend that fails is reported with its error (on a nested, emulating
# /dev/kvm the built-in VMM cannot boot Linux), and the VMM's own setup
# time to the first guest instruction, which does not depend on the
# emulation, comes from bench/vmm-bench.sh.
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

# make_bundle DIR BACKEND-ANNOTATIONS [SCRIPT]: a bundle of tests/rootfs
# whose process runs SCRIPT (default: says hi).
make_bundle() {
	local dir=$1 annotations=$2 script=${3:-echo hi}
	mkdir -p "$dir"
	(cd "$dir" && "$hull" spec)
	sed -i -e 's/"terminal": true/"terminal": false/' \
		-e "s|^\t\t\t\"sh\"\$|\t\t\t\"sh\", \"-c\", \"$script\"|" \
		-e "s|\"path\": \"rootfs\"|\"path\": \"$repo/tests/rootfs\"|" \
		-e "s|^\t\"ociVersion\": \(.*\)$|\t\"ociVersion\": \1\n\t\"annotations\": {$annotations},|" \
		"$dir/config.json"
	grep -qF "\"$script\"" "$dir/config.json" || die "could not adapt \`hull spec' output"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
ms() { awk -v us="$1" 'BEGIN { if (us == "-") print "-"; else printf "%.0f", us / 1000 }'; }

# bench NAME ANNOTATIONS
bench() {
	local name=$1 bundle=$work/bundle-$1 i line us kib status first
	local firsts=() totals=() rss=()
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$kernel\"$2"
	for ((i = 0; i < n; i++)); do
		: >"$work/out"
		line=$("$work/measure" -f -o "$work/out" -t 120 \
			"$hull" --root "$work/root" run --bundle "$bundle" "vmb-$name-$i")
		read -r us kib status first _ <<<"$line"
		if [[ $status != 0 ]] || ! grep -qx hi "$work/out"; then
			printf '%-10s FAILED: %s\n' "$name" "$(grep -v '^hi$' "$work/out" | head -n 1)"
			return 0
		fi
		firsts+=("$first") totals+=("$us") rss+=("$kib")
	done
	printf '%-10s first-byte %6s ms   total %6s ms   maxrss %7s KiB\n' "$name" \
		"$(ms "$(printf '%s\n' "${firsts[@]}" | median)")" \
		"$(ms "$(printf '%s\n' "${totals[@]}" | median)")" \
		"$(printf '%s\n' "${rss[@]}" | median)"
}

# stdout_rate NAME ANNOTATIONS: MB/s of a container's bulk stdout, once.
stdout_rate() {
	local name=$1 bundle=$work/bundle-$1-stdout line us kib status first last bytes
	local mib=${VM_BENCH_STDOUT_MIB:-64}
	make_bundle "$bundle" "\"run.oci.handler\": \"vm\", \"run.oci.vm.kernel\": \"$kernel\"$2" \
		"dd if=/dev/zero bs=65536 count=$((mib * 16)) 2>/dev/null"
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

echo "VM mode, $n runs each, kernel $kernel (medians):"
if [[ -n $qemu ]]; then
	bench qemu ", \"run.oci.vm.hypervisor\": \"$qemu\""
	stdout_rate qemu ", \"run.oci.vm.hypervisor\": \"$qemu\""
else
	echo "qemu       skipped: no qemu-system-x86_64 (apt-get install qemu-system-x86)"
fi
bench built-in ""
if [[ -f $repo/bench/vmm-bench.sh ]]; then
	echo
	sh "$repo/bench/vmm-bench.sh"
fi
