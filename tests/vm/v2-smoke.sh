#!/bin/sh
# v2-smoke.sh — run in the test VM before the integration tests: a container
# on a pure cgroup v2 host lands in its own cgroup (clone3 CLONE_INTO_CGROUP
# in the v2 manager), the cgroup mount in it is the cgroup2 tree, and delete
# removes the cgroup. Prints what the container's cgroup offers.
# Uses $HULL and $HULL_TEST_ROOTFS, like the integration tests.
set -eu

hull=${HULL:-/hull/hull}
dir=$(mktemp -d /tmp/v2-smoke.XXXXXX)
root=$dir/state
id=v2smoke
cg=/sys/fs/cgroup/hull-v2-smoke/$id

fail() {
	echo "v2-smoke: FAILED: $*"
	"$hull" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	exit 1
}

grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || fail "/sys/fs/cgroup is not cgroup2"
mkdir -p "$dir/bundle"
cp -a "${HULL_TEST_ROOTFS:-/hull/rootfs}" "$dir/bundle/rootfs"
# No cgroup namespace: the cgroup mount must not touch the host's cgroup2.
cat >"$dir/bundle/config.json" <<EOF
{
  "ociVersion": "1.2.0",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/",
    "args": ["sleep", "60"], "env": ["PATH=/bin"]
  },
  "root": {"path": "rootfs"},
  "hostname": "v2smoke",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "cgroupsPath": "/hull-v2-smoke/$id",
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"},
                   {"type": "uts"}, {"type": "network"}]
  }
}
EOF
"$hull" --root "$root" create -b "$dir/bundle" "$id" || fail "create"
pid=$("$hull" --root "$root" state "$id" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
[ -n "$pid" ] || fail "state shows no pid"
grep -qx "0::/hull-v2-smoke/$id" "/proc/$pid/cgroup" ||
	fail "init $pid is in $(cat "/proc/$pid/cgroup"), not /hull-v2-smoke/$id"
grep -qx "$pid" "$cg/cgroup.procs" || fail "$cg/cgroup.procs lacks $pid"
echo "v2-smoke: init $pid in $cg; its controllers: [$(cat "$cg/cgroup.controllers")]"
"$hull" --root "$root" start "$id" || fail "start"
"$hull" --root "$root" kill "$id" KILL || fail "kill"
"$hull" --root "$root" delete --force "$id" || fail "delete"
[ ! -e "$cg" ] || fail "$cg left behind by delete"
rmdir /sys/fs/cgroup/hull-v2-smoke
grep -q nsdelegate /proc/self/mountinfo || fail "the host's cgroup2 lost nsdelegate"
rm -rf "$dir"
echo "v2-smoke: ok"
