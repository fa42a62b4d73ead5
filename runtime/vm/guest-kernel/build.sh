#!/bin/sh
# build.sh — hull's guest kernel (`make guest-kernel`): Debian's
# linux-source tarball with ./*.patch applied, `make tinyconfig` with
# ./config merged over it, `make vmlinux`, stripped. The result is an ELF
# with a PVH entry, booted as it is (no decompression in the guest).
#
# Usage: build.sh CACHE_DIR [JOBS]
#
# CACHE_DIR/<key>/vmlinux (and vmlinux.config beside it) where key hashes
# the fragment, the patches, this script and the source tarball's identity:
# a build is done once per change of any of them, and older keys stay until
# removed by hand. CACHE_DIR/current links to the newest. The source tree (~1.4 GB
# unpacked) is built in CACHE_DIR/build.<pid> and removed afterwards, unless
# GUEST_KERNEL_SRC names a tree unpacked from that same tarball to build in
# and keep (a later build there is incremental: for work on the config; a
# patch already applied there is not applied again, and one taken out of
# this directory stays in it until the tree is unpacked afresh).
# Prints the vmlinux's path.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/config
cache=${1:?usage: build.sh CACHE_DIR [JOBS]}
jobs=${2:-2}

# The newest linux-source-X.Y tarball (the `linux-source` package depends
# on the current one).
source=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
if [ -z "$source" ]; then
	echo "build.sh: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source)" >&2
	exit 1
fi

# Small changes to the kernel's source, each file saying why (patch -p1).
patches=$(ls "$here"/*.patch 2>/dev/null | sort || true)

key=$( { stat -c '%n %s %Y' "$source"; cat "$fragment" $patches "$0"; } | sha256sum | cut -c1-16)
out=$cache/$key
if [ -s "$out/vmlinux" ]; then
	ln -sfn "$key" "$cache/current"
	echo "$out/vmlinux"
	exit 0
fi

# Every line of the fragment, as it must read in the final .config:
# olddefconfig drops an option whose dependencies are unmet without a word.
check_config() {
	missing=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" "$1" || missing="$missing $line" ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }; opt=${opt%% *}
			! grep -q "^$opt=" "$1" || missing="$missing $opt(wanted unset)" ;;
		esac
	done < "$fragment"
	if [ -n "$missing" ]; then
		echo "build.sh: not in the kernel's .config as $fragment asks:$missing" >&2
		return 1
	fi
}

mkdir -p "$cache"
if [ -n "${GUEST_KERNEL_SRC:-}" ]; then
	cd "$GUEST_KERNEL_SRC"
else
	build=$cache/build.$$
	trap 'rm -rf "$build"' EXIT INT TERM
	mkdir "$build"
	echo "build.sh: unpacking $source" >&2
	tar -xJf "$source" -C "$build" --strip-components=1
	cd "$build"
fi
for p in $patches; do
	if ! patch -p1 -R -s -f --dry-run <"$p" >/dev/null 2>&1; then
		patch -p1 -s -f <"$p"
	fi
done
make -s tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s olddefconfig
check_config .config
echo "build.sh: building vmlinux ($(make -s kernelversion)-hull, $jobs jobs)" >&2
make -s -j"$jobs" vmlinux
mkdir -p "$out"
strip -o "$out/vmlinux.tmp" vmlinux
cp .config "$out/vmlinux.config"
mv "$out/vmlinux.tmp" "$out/vmlinux"
ln -sfn "$key" "$cache/current"
echo "$out/vmlinux"
