#!/bin/sh
# run-vm-tests.sh [CMD ARG...] — runs the integration tests (or CMD) as root
# in a qemu TCG virtual machine whose cgroups are pure v2, and exits with
# their status.
#
# Builds the initramfs (make-initramfs.sh; it passes CK_* variables on),
# boots the newest /boot/vmlinuz-* with it, streams the guest's console to
# stdout and to $VM_LOG, and stops the machine after $VM_TIMEOUT seconds.
# Needs: qemu-system-x86 linux-image-amd64 cpio busybox-static.
#   KERNEL=/boot/vmlinuz-VER   the kernel (its modules: /lib/modules/VER)
#   VM_TIMEOUT=600  VM_MEM=1024  VM_SMP=2  VM_LOG=tests/vm/out/console.log
#   VM_APPEND="hull_vm_propagation=private"  more of the kernel's command line
#   VM_SYSTEMD=1   systemd is PID 1 (make-initramfs.sh's VM_SYSTEMD) and
#                  starts the tests as a service
set -eu

here=$(cd "$(dirname "$0")" && pwd)
timeout=${VM_TIMEOUT:-600}
outdir=${VM_OUT:-$here/out}
log=${VM_LOG:-$outdir/console.log}
initrd=$outdir/initramfs.gz
qemu=${QEMU:-qemu-system-x86_64}

die() {
	echo "run-vm-tests: $*" >&2
	exit 1
}
now_ms() { date +%s%3N; }
secs() { echo "$1" | awk '{ printf "%.1f", $1 / 1000 }'; }

command -v "$qemu" >/dev/null || die "$qemu not found (apt-get install qemu-system-x86)"
kernel=${KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] && [ -r "$kernel" ] ||
	die "no kernel in /boot (apt-get install linux-image-amd64)"
kver=${kernel##*/vmlinuz-}
mkdir -p "$outdir"

# TCG runs the guest several times slower than the host: stretch the
# tests' own timeouts (make-initramfs.sh passes CK_* variables on).
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-2}"

systemd_append=
[ -z "${VM_SYSTEMD:-}" ] ||
	systemd_append="hull_vm_systemd=1 systemd.unit=hull-vm.target systemd.unified_cgroup_hierarchy=1 systemd.show_status=0"
export VM_SYSTEMD

t0=$(now_ms)
sh "$here/make-initramfs.sh" "$initrd" "$kver" "$@"
t1=$(now_ms)
echo "run-vm-tests: initramfs $(du -h "$initrd" | cut -f 1) built in $(secs $((t1 - t0))) s; booting $kernel under TCG"

qpid=
streamer=
stop() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	[ -n "$streamer" ] && kill "$streamer" 2>/dev/null && wait "$streamer" 2>/dev/null
	qpid=
	streamer=
}
trap 'stop' EXIT
trap 'stop; exit 130' INT TERM

: >"$log"
# -no-reboot: a kernel panic (panic=-1 reboots at once) ends qemu too.
"$qemu" -M pc,accel=tcg -cpu max -m "${VM_MEM:-1024}" -smp "${VM_SMP:-2}" \
	-nographic -no-reboot -serial mon:stdio -nic none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 hull_vm_test=1 $systemd_append ${VM_APPEND:-}" \
	</dev/null >"$log" 2>&1 &
qpid=$!
# tail ends when qemu does.
tail -n +1 -f --pid="$qpid" "$log" | tr -d '\r' &
streamer=$!

begun=
timed_out=
while kill -0 "$qpid" 2>/dev/null; do
	now=$(now_ms)
	if [ -z "$begun" ] && grep -q '^HULL-VM-TEST-BEGIN' "$log"; then
		begun=$now
	fi
	if [ $((now - t1)) -ge $((timeout * 1000)) ]; then
		timed_out=1
		kill "$qpid" 2>/dev/null
		break
	fi
	sleep 0.2
done
wait "$qpid" 2>/dev/null || true
qpid=
t2=$(now_ms)
wait "$streamer" 2>/dev/null || true
streamer=

tr -d '\r' <"$log" | sed -n '/^HULL-VM-TEST-BEGIN/,/^HULL-VM-TEST-END/p' >"$outdir/test-output.log"
end=$(tr -d '\r' <"$log" | grep '^HULL-VM-TEST-END status=' | tail -n 1)
if [ -n "$timed_out" ]; then
	echo "run-vm-tests: FAILED: the VM did not finish within ${timeout} s (VM_TIMEOUT); killed it. Console: $log"
	exit 124
fi
if [ -z "$begun" ] || [ -z "$end" ]; then
	echo "run-vm-tests: FAILED: the guest never reported the test's end (no HULL-VM-TEST-END on its console). Console: $log"
	exit 1
fi
status=${end#HULL-VM-TEST-END status=}
status=${status%% *}
echo "run-vm-tests: initramfs $(secs $((t1 - t0))) s, boot to the tests $(secs $((begun - t1))) s, tests $(secs $((t2 - begun))) s, total $(secs $((t2 - t0))) s; guest test status $status"
exit "$status"
