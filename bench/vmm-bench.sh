#!/bin/sh
# bench/vmm-bench.sh — the built-in VMM's setup time to the first guest
# instruction and its peak RSS (256 MiB guest), beside qemu-system-x86_64's
# time to the same guest's first UART byte and its peak RSS.
# The guest is tests/vm-guest/guest.elf; bench/vmm-bench.c says what is
# measured. Run from the repository root as root (needs /dev/kvm):
#   sh bench/vmm-bench.sh [RUNS]        (default 10)
set -eu
cd "$(dirname "$0")/.."
runs=${1:-10}
make -s libhull.a tests/vm-guest/guest.elf
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$dir/vmm-bench
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I. -pthread \
  -o "$out" bench/vmm-bench.c libhull.a \
  $(pkg-config --libs libcap libseccomp yajl libmnl)
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "vmm-bench: no qemu-system-x86_64: its lines will say it failed" >&2
fi
"$out" tests/vm-guest/guest.elf "$runs"
