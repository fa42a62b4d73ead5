#!/bin/sh
# demo.sh — the README's demo: one container from the test rootfs, start to
# finish. The runtime comes from $HULL (default ./hull), so `HULL=runc sh
# tests/demo.sh` shows what hull is meant to match. Run from the source tree.
set -eu

runtime=${HULL:-./hull}
rootfs=${HULL_TEST_ROOTFS:-tests/rootfs}
case $runtime in
*/*) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;;
esac
rootfs=$(cd "$rootfs" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/hull-demo.XXXXXX")
id=hull-demo-$$
cleanup() {
	"$runtime" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/bundle/rootfs" "$work/state"
# A copy, so the demo never writes into the shared rootfs.
cp -a "$rootfs/." "$work/bundle/rootfs/"

echo "+ $runtime spec"
(cd "$work/bundle" && "$runtime" spec)

# The default config runs an interactive `sh` on a terminal; make it print
# one line without a terminal instead.
cmd='"sh", "-c", "echo hello from a hull container: $(hostname), pid $$, uid $(id -u)"'
# Whether the runtime prints args one per line or as ["sh"] on one line.
sed -i \
	-e 's/"terminal": *true/"terminal": false/' \
	-e "s|^\\([[:space:]]*\\)\"sh\"\$|\\1$cmd|" \
	-e "s|\\[ *\"sh\" *\\]|[$cmd]|" \
	-e 's/"hostname": *"[^"]*"/"hostname": "hull-demo"/' \
	"$work/bundle/config.json"

echo "+ $runtime --root $work/state run --bundle $work/bundle $id"
status=0
"$runtime" --root "$work/state" run --bundle "$work/bundle" "$id" || status=$?
echo "+ exit status $status"
exit "$status"
