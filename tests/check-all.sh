#!/bin/sh
# check-all.sh — `make check`: the unit tests, the integration tests on this
# host, the VM-mode ones again with Debian's guest kernel, the integration
# tests again in a qemu VM with a pure cgroup v2
# hierarchy, and the systemd driver in a VM with systemd as PID 1. Every
# part runs even when an earlier one failed. Each part ends its output with
#   LABEL: N passed, N failed, N skipped
# after one "skipped: TEST: WHY" line per test it could not run (see
# tests/suite-main.c); this script adds them up, lists every skip with its
# reason and part, and ends with one line:
#   N passed, N failed, N skipped
# It exits non-zero when anything failed, or when a part ended without its
# closing line (a crash or timeout counts as one failure of that part).
#
# Run from the top of the tree after `make` built hull, the test binaries
# and tests/rootfs (the Makefile's check target does both).
set -u

top=$(pwd)
out=${CHECK_OUT:-$top/tests/out}
mkdir -p "$out"
summary=$out/summary
: >"$summary"

# run_part LABEL CMD ARG...: runs CMD with its output on ours and in
# $out/LABEL.log, then appends the part's counts and skips to $summary.
run_part() {
	label=$1
	shift
	log=$out/$label.log
	echo "=== $label: $*"
	status_file=$out/$label.status
	{ HULL_TALLY_LABEL=$label "$@" </dev/null 2>&1; echo $? >"$status_file"; } |
		tee "$log"
	status=$(cat "$status_file")
	closing=$(tr -d '\r' <"$log" |
		grep -E "^$label: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped\$" |
		tail -n 1)
	if [ -z "$closing" ]; then
		echo "count	$label	0	1	0" >>"$summary"
		echo "fail	$label	ended (status $status) without its closing line; see $log" >>"$summary"
		return
	fi
	set -- $(echo "$closing" | sed -E 's/^[^:]*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')
	failed=$2
	if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
		failed=1
		echo "fail	$label	exited with status $status after reporting no failure; see $log" >>"$summary"
	fi
	echo "count	$label	$1	$failed	$3" >>"$summary"
	tr -d '\r' <"$log" | sed -n "s/^skipped: /skip	$label	/p" >>"$summary"
}

export HULL="$top/hull" HULL_TEST_ROOTFS="$top/tests/rootfs" \
	HULL_SPEC_TESTS="$top/tests/spec-cases"

run_part unit tests/unit/run-unit
run_part integration tests/integration/run-integration
# The VM-mode suites again with Debian's kernel (/boot) where they boot
# hull's own above: both kernels must run every one of them.
run_part integration-vm-debian-kernel env HULL_TEST_KERNEL=debian \
	CK_INCLUDE_TAGS=vm-mode tests/integration/run-integration
run_part integration-cgroup2-vm sh tests/vm/run-vm-tests.sh
run_part systemd-vm env VM_SYSTEMD=1 \
	VM_EXTRA="$top/tests/vm/systemd-test.sh:/hull/systemd-test.sh" \
	sh tests/vm/run-vm-tests.sh sh /hull/systemd-test.sh

echo
echo "=== summary"
awk -F '\t' '
	$1 == "count" { printf "%s: %d passed, %d failed, %d skipped\n", $2, $3, $4, $5 }
	$1 == "fail" { printf "FAILED: %s: %s\n", $2, $3 }
' "$summary"
n_skips=$(grep -c '^skip	' "$summary")
if [ "$n_skips" -gt 0 ]; then
	echo "skipped tests ($n_skips), with the reason each could not run here:"
	awk -F '\t' '$1 == "skip" { printf "  %s: %s\n", $2, $3 }' "$summary"
fi
# The closing line, also kept in $out/closing for .ci/run to repeat last.
awk -F '\t' '
	$1 == "count" { p += $3; f += $4; s += $5 }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s }
' "$summary" | tee "$out/closing"
! grep -q ', [1-9][0-9]* failed,' "$out/closing"
