#!/bin/sh
# make-rootfs.sh DEST HELPER — builds the tiny rootfs the integration tests
# and the demo use: Debian's static busybox with its applets as symlinks, the
# static test helper, a minimal /etc/passwd and /etc/group, and the empty
# mount points a container needs. Running it again refreshes DEST in place.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 DEST HELPER" >&2
	exit 2
fi
dest=$1
helper=$2
busybox=${BUSYBOX:-/bin/busybox}

if [ ! -x "$busybox" ]; then
	echo "$0: $busybox not found (apt-get install busybox-static)" >&2
	exit 1
fi
# A dynamically linked busybox would need a libc inside the rootfs.
if ! "$busybox" 2>&1 | head -n 1 | grep -q BusyBox; then
	echo "$0: $busybox does not run" >&2
	exit 1
fi
if [ ! -f "$helper" ]; then
	echo "$0: helper $helper not found" >&2
	exit 1
fi

for d in bin etc proc sys dev tmp root; do
	mkdir -p "$dest/$d"
done
chmod 1777 "$dest/tmp"
chmod 0700 "$dest/root"

cp "$busybox" "$dest/bin/busybox.new"
mv -f "$dest/bin/busybox.new" "$dest/bin/busybox"
chmod 0755 "$dest/bin/busybox"
cp "$helper" "$dest/bin/hull-test-helper.new"
chmod 0755 "$dest/bin/hull-test-helper.new"
mv -f "$dest/bin/hull-test-helper.new" "$dest/bin/hull-test-helper"

# Every applet lives in /bin, so the default PATH finds it and the rootfs
# needs no /usr or /sbin.
for applet in $("$busybox" --list); do
	case $applet in
	busybox | hull-test-helper) continue ;;
	esac
	ln -sfn busybox "$dest/bin/$applet"
done

cat >"$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$dest/etc/group" <<'GROUP'
root:x:0:
user:x:1000:
nogroup:x:65534:
GROUP
chmod 0644 "$dest/etc/passwd" "$dest/etc/group"
