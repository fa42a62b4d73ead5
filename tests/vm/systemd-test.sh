#!/bin/sh
# systemd-test.sh — the systemd cgroup driver, in the test VM booted with
# systemd as PID 1 (`make check-vm-systemd`). Runs in /hull with HULL and
# HULL_TEST_ROOTFS set. Checks that `--systemd-cgroup create` puts the init in
# a transient scope of the slice cgroupsPath names, with the limits both as
# unit properties and in cgroupfs, that update changes both (so they survive
# a daemon-reload), and that delete stops the scope.
set -u
hull=${HULL:-/hull/hull}
root=/tmp/sd-root
bundle=/tmp/sd-bundle
scope=/sys/fs/cgroup/system.slice/hull-sdtest.scope
failures=0
passes=0

ok() { echo "ok: $*"; passes=$((passes + 1)); }
not_ok() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() { # WHAT WANT GOT
	if [ "$2" = "$3" ]; then ok "$1 = $3"; else not_ok "$1: want \`$2', got \`$3'"; fi
}

[ -d /run/systemd/system ] || { echo "FAIL: systemd is not PID 1 ($(cat /proc/1/comm))"; exit 1; }
ok "PID 1 is $(cat /proc/1/comm)"

mkdir -p "$bundle" "$root"
(cd "$bundle" && "$hull" spec) || exit 1
sed -i -e 's/"terminal": true/"terminal": false/' \
       -e 's|^\([[:space:]]*\)"sh"$|\1"/bin/sleep", "1000"|' \
       -e "s|\"path\": \"rootfs\"|\"path\": \"$HULL_TEST_ROOTFS\"|" \
       -e 's|"resources": {|"resources": { "memory": {"limit": 67108864}, "pids": {"limit": 42}, "cpu": {"shares": 512, "quota": 50000, "period": 100000},|' \
       -e 's|"linux": {|"linux": { "cgroupsPath": "system.slice:hull:sdtest",|' \
       "$bundle/config.json"

t0=$(cut -d ' ' -f 1 /proc/uptime)
if ! "$hull" --root "$root" --systemd-cgroup create --bundle "$bundle" sdtest; then
	echo "FAIL: create"; exit 1
fi
t1=$(cut -d ' ' -f 1 /proc/uptime)
ok "create with --systemd-cgroup ($(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }') s under TCG)"
pid=$("$hull" --root "$root" state sdtest | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
expect "the init's cgroup" "0::/system.slice/hull-sdtest.scope" "$(cat /proc/"$pid"/cgroup)"
expect "memory.max" 67108864 "$(cat $scope/memory.max 2>&1)"
expect "pids.max" 42 "$(cat $scope/pids.max 2>&1)"
expect "cpu.max" "50000 100000" "$(cat $scope/cpu.max 2>&1)"
weight=$(cat $scope/cpu.weight 2>&1)
[ "$weight" != 100 ] && ok "cpu.weight $weight (shares 512)" || not_ok "cpu.weight: $weight, not from shares 512"
# The properties systemd keeps (and would write back on daemon-reload).
props=$(cat /run/systemd/transient/hull-sdtest.scope 2>&1)
for p in "Delegate=yes" "MemoryMax=67108864" "TasksMax=42" "Slice=system.slice"; do
	case $props in
	*"$p"*) ok "unit property $p" ;;
	*) not_ok "unit property $p missing from /run/systemd/transient/hull-sdtest.scope" ;;
	esac
done

# update keeps systemd's properties in step with cgroupfs, so that a
# daemon-reload does not put the create-time limits back.
if "$hull" --root "$root" --systemd-cgroup update --memory 100663296 --pids-limit 77 sdtest; then
	ok "update --memory 96M --pids-limit 77"
else
	not_ok "update"
fi
expect "memory.max after update" 100663296 "$(cat $scope/memory.max 2>&1)"
expect "MemoryMax after update" 100663296 "$(systemctl show -P MemoryMax hull-sdtest.scope 2>&1)"
expect "TasksMax after update" 77 "$(systemctl show -P TasksMax hull-sdtest.scope 2>&1)"
# SetUnitProperties(runtime) keeps them as drop-ins of the transient unit.
dropin=/run/systemd/transient/hull-sdtest.scope.d/50-MemoryMax.conf
case $(cat $dropin 2>&1) in
*"MemoryMax=100663296"*) ok "$dropin has MemoryMax=100663296" ;;
*) not_ok "$dropin: $(cat $dropin 2>&1)" ;;
esac
systemctl daemon-reload || not_ok "systemctl daemon-reload"
expect "memory.max after daemon-reload" 100663296 "$(cat $scope/memory.max 2>&1)"
expect "pids.max after daemon-reload" 77 "$(cat $scope/pids.max 2>&1)"
expect "cpu.max after daemon-reload" "50000 100000" "$(cat $scope/cpu.max 2>&1)"

"$hull" --root "$root" start sdtest || not_ok "start"
expect "state" running "$("$hull" --root "$root" state sdtest | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')"
"$hull" --root "$root" pause sdtest && "$hull" --root "$root" resume sdtest || not_ok "pause/resume"

"$hull" --root "$root" delete --force sdtest || not_ok "delete --force"
sleep 0.5
if [ -e "$scope" ]; then not_ok "$scope still there after delete"; else ok "scope gone after delete"; fi
[ ! -e /run/systemd/transient/hull-sdtest.scope ] && ok "unit gone after delete" ||
	not_ok "unit hull-sdtest.scope still loaded after delete"
[ ! -e /run/systemd/transient/hull-sdtest.scope.d ] && ok "update's drop-ins gone after delete" ||
	not_ok "/run/systemd/transient/hull-sdtest.scope.d still there after delete"

# A cgroupsPath that is not slice:prefix:name is refused, and nothing stays.
sed -i 's|"cgroupsPath": "system.slice:hull:sdtest"|"cgroupsPath": "/not/systemd"|' "$bundle/config.json"
if out=$("$hull" --root "$root" --systemd-cgroup run --bundle "$bundle" sdbad 2>&1); then
	not_ok "run with cgroupsPath /not/systemd succeeded"
else
	ok "cgroupsPath /not/systemd refused: $out"
fi

# The closing line tests/check-all.sh adds to the others'.
echo "${HULL_TALLY_LABEL:-systemd-test}: $passes passed, $failures failed, 0 skipped"
[ "$failures" = 0 ]
