#!/bin/sh
# make-initramfs.sh OUT KVER [CMD ARG...] — builds a gzip'd cpio initramfs
# that boots a pure cgroup v2 test machine and runs CMD (default: the
# integration tests) as root, then powers off.
#
# It holds Debian's static busybox, the hull binary, the integration test
# binary and the shared libraries both need (found with ldd, with their
# loader), umoci and GNU tar when the host has them, the test rootfs, the spec test cases when present, the kernel
# modules listed in $VM_MODULES from /lib/modules/KVER with their
# dependencies, and tests/vm/init as /init.
#
# Where things come from (defaults are the Makefile's outputs):
#   HULL=./hull  INTEG=tests/integration/run-integration
#   ROOTFS=tests/rootfs  SPEC_CASES=tests/spec-cases  BUSYBOX=/bin/busybox
#   VM_MODULES="overlay veth tun bridge nf_tables ..."  (names as in modules.dep;
#                 loop and ext4: an ext4 loop mount for the image-idmap
#                 tests, as the guest's tmpfs has no idmapped mounts before
#                 Linux 6.3)
#   VM_EXTRA="HOSTPATH:GUESTPATH ..."  more files or directories to copy
#   VM_SYSTEMD=1  also Debian's systemd (/lib/systemd/systemd, its
#                 libraries and unit files) and hull-vm.target, whose one
#                 service runs CMD; boot with hull_vm_systemd=1 to make
#                 systemd PID 1 (run-vm-tests.sh's VM_SYSTEMD=1 does)
# In the guest: /hull/hull, /hull/run-integration, /hull/rootfs,
# /hull/spec-cases, /hull/v2-smoke.sh. The default CMD runs v2-smoke.sh,
# then the integration tests. CMD runs in /hull with HULL, HULL_TEST_ROOTFS and
# HULL_SPEC_TESTS set, plus HULL_TALLY_LABEL and every CK_* variable set when this script runs
# (CK_RUN_SUITE, CK_RUN_CASE, CK_VERBOSITY, CK_TIMEOUT_MULTIPLIER, ...).
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT KVER [CMD ARG...]" >&2
	exit 2
fi
out=$1
kver=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
hull=${HULL:-./hull}
integ=${INTEG:-tests/integration/run-integration}
rootfs=${ROOTFS:-tests/rootfs}
spec_cases=${SPEC_CASES:-tests/spec-cases}
busybox=${BUSYBOX:-/bin/busybox}
modules=${VM_MODULES-overlay veth tun bridge crc32c_generic loop ext4 nf_tables nft_chain_nat nft_nat nft_masq nft_ct nft_fib_inet nft_fib_ipv4 nft_fib_ipv6}
moddir=/lib/modules/$kver

die() {
	echo "$0: $*" >&2
	exit 1
}

for f in "$hull" "$integ" "$busybox"; do
	[ -x "$f" ] || die "$f: not found or not executable (run make first)"
done
[ -d "$rootfs/bin" ] || die "$rootfs: no rootfs (make tests/rootfs/.done)"
command -v cpio >/dev/null || die "cpio not found (apt-get install cpio)"
if ! "$busybox" 2>&1 | head -n 1 | grep -q BusyBox; then
	die "$busybox does not run (apt-get install busybox-static)"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/hull-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

for d in bin sbin etc proc sys dev tmp run root newroot hull lib/modules; do
	mkdir -p "$stage/$d"
done
chmod 1777 "$stage/tmp"

# busybox and its applets: the guest's shell, mount, insmod, poweroff, ...
cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done

# A program and the shared libraries it loads, at the same paths as here.
copy_with_libs() {
	cp "$1" "$2"
	# ldd prints "name => /path (addr)" or "/path (addr)" for the loader.
	for lib in $(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}
copy_with_libs "$hull" "$stage/hull/hull"
copy_with_libs "$integ" "$stage/hull/run-integration"
# What hull loads itself (dlopen) when a command needs it: libnftnl for
# hull's networks, libcrypto for image digests, libcurl for pulls,
# libarchive for VM images and image layers. Absent here, absent in the
# guest.
for soname in libnftnl.so.11 libcrypto.so.3 libarchive.so.13 libcurl.so.4; do
	lib=$(ldconfig -p | sed -n "s/.*$soname .*=> \(.*\)/\1/p" | head -n 1)
	[ -n "$lib" ] || continue
	mkdir -p "$stage$(dirname "$lib")"
	copy_with_libs "$lib" "$stage$lib"
done

# The tools the image tests make their images with (umoci; GNU tar, whose
# -P busybox's lacks), at their paths here: without them those tests
# would only skip in the guest.
for tool in /usr/bin/umoci /usr/bin/tar; do
	[ -x "$tool" ] || continue
	mkdir -p "$stage/usr/bin"
	copy_with_libs "$tool" "$stage$tool"
done

cp -a "$rootfs" "$stage/hull/rootfs"
cp "$here/v2-smoke.sh" "$stage/hull/v2-smoke.sh"
[ -d "$spec_cases" ] && cp -a "$spec_cases" "$stage/hull/spec-cases"

for pair in ${VM_EXTRA:-}; do
	mkdir -p "$stage$(dirname "${pair#*:}")"
	cp -a "${pair%%:*}" "$stage${pair#*:}"
done

if [ -n "${VM_SYSTEMD:-}" ]; then
	[ -x /lib/systemd/systemd ] || die "/lib/systemd/systemd: not found (apt-get install systemd)"
	mkdir -p "$stage/lib/systemd" "$stage/etc/systemd/system"
	copy_with_libs /lib/systemd/systemd "$stage/lib/systemd/systemd"
	# For the tests to read unit properties and to daemon-reload.
	copy_with_libs /bin/systemctl "$stage/bin/systemctl"
	# hull loads libsystemd itself (dlopen) for --systemd-cgroup.
	sdlib=$(ldconfig -p | sed -n 's/.*libsystemd\.so\.0 .*=> \(.*\)/\1/p' | head -n 1)
	[ -n "$sdlib" ] || die "libsystemd.so.0: not found (apt-get install libsystemd0)"
	mkdir -p "$stage$(dirname "$sdlib")"
	copy_with_libs "$sdlib" "$stage$sdlib"
	cp -a /lib/systemd/system "$stage/lib/systemd/system"
	# Nothing but the test: no default dependencies, no getty, no udev.
	cat >"$stage/etc/systemd/system/hull-vm.target" <<-EOF
	[Unit]
	Description=hull VM test
	DefaultDependencies=no
	Wants=hull-vm-test.service
	EOF
	cat >"$stage/etc/systemd/system/hull-vm-test.service" <<-EOF
	[Unit]
	DefaultDependencies=no
	[Service]
	Type=oneshot
	ExecStart=/bin/sh /init run-test
	StandardOutput=tty
	StandardError=tty
	TTYPath=/dev/ttyS0
	EOF
	: >"$stage/etc/machine-id"
fi

# Kernel modules: each one's dependencies first (modules.dep lists them
# deepest last), decompressed so busybox insmod can load them.
: >"$stage/etc/modules"
if [ -n "$modules" ]; then
	[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep: not found (apt-get install linux-image-amd64)"
	add_module() { # relative path in modules.dep
		rel=$1
		name=${rel%.xz}
		name=${name%.zst}
		name=${name%.gz}
		grep -qxF "$name" "$stage/etc/modules" && return 0
		mkdir -p "$stage/lib/modules/$(dirname "$name")"
		case $rel in
		*.xz) xz -dc "$moddir/$rel" >"$stage/lib/modules/$name" ;;
		*.zst) zstd -qdc "$moddir/$rel" >"$stage/lib/modules/$name" ;;
		*.gz) gzip -dc "$moddir/$rel" >"$stage/lib/modules/$name" ;;
		*) cp "$moddir/$rel" "$stage/lib/modules/$name" ;;
		esac
		echo "$name" >>"$stage/etc/modules"
	}
	for m in $modules; do
		line=$(grep -E "/$m\\.ko(\\.xz|\\.zst|\\.gz)?:" "$moddir/modules.dep" | head -n 1) ||
			die "module $m: not in $moddir/modules.dep"
		[ -n "$line" ] || die "module $m: not in $moddir/modules.dep"
		deps=${line#*:}
		# Dependencies are listed nearest first; load the farthest first.
		rev=
		for d in $deps; do rev="$d $rev"; done
		for d in $rev; do add_module "$d"; done
		add_module "${line%%:*}"
	done
fi

# What /init runs, and with which environment.
quote() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "export HULL=/hull/hull HULL_TEST_ROOTFS=/hull/rootfs"
	[ -d "$spec_cases" ] && echo "export HULL_SPEC_TESTS=/hull/spec-cases"
	env | sed -n 's/^\(CK_[A-Z_]*\|HULL_TALLY_LABEL\)=.*/\1/p' | while read -r var; do
		echo "export $var=$(quote "$(printenv "$var")")"
	done
	printf 'set --'
	if [ $# -eq 0 ]; then
		set -- sh -c 'sh /hull/v2-smoke.sh && exec /hull/run-integration'
	fi
	for a in "$@"; do printf ' %s' "$(quote "$a")"; done
	echo
} >"$stage/etc/hull-vm-test"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
cp "$here/init" "$stage/init"
chmod 0755 "$stage/init"

tmp_out=$out.tmp.$$
(cd "$stage" && find . -print | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$tmp_out"
mv -f "$tmp_out" "$out"
