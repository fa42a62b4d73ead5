# hull — build, test, install, bench.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
LIBEXECDIR = $(PREFIX)/libexec

VERSION := 0.1.0
GIT_COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

# Linked into every hull command.
PKGS = libcap libseccomp yajl libmnl
# Headers only: hull loads these with dlopen when a command needs them
# (lazylib.c), so the commands that do not start without them.
DLOPEN_PKGS = libnftnl libcrypto libcurl
CC ?= cc
CFLAGS ?= -O2 -g
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
         -fcf-protection -fPIE
WARN = -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS) -I. \
             $(shell pkg-config --cflags $(PKGS) $(DLOPEN_PKGS)) \
             -DHULL_VERSION='"$(VERSION)"' -DHULL_COMMIT='"$(GIT_COMMIT)"' \
             -DHULL_GUEST_KERNEL_PATH='"$(LIBEXECDIR)/hull/vmlinux"'
LDFLAGS_HARDEN = -pie -Wl,-z,relro,-z,now -Wl,--as-needed
LIBS = $(shell pkg-config --libs $(PKGS))

# Every .c under the modules is part of libhull, except main.c (the guest
# agent, runtime/vm/guest/, is hull itself: `hull vm-agent`).
LIB_SRCS := $(filter-out runtime/main.c, \
              $(wildcard runtime/*/*.c runtime/vm/*/*.c cgroups/*.c netns/*.c \
                         images/*.c hooks/*.c))
LIB_OBJS := $(LIB_SRCS:.c=.o)
HDRS := $(wildcard runtime/*/*.h runtime/vm/*/*.h runtime/*.h cgroups/*.h netns/*.h images/*.h hooks/*.h)

UNIT_SRCS := tests/suite-main.c $(wildcard tests/unit/*.c)
INTEG_SRCS := tests/suite-main.c $(wildcard tests/integration/*.c)
TEST_HDRS := $(wildcard tests/*.h tests/integration/*.h)
CHECK_CFLAGS := $(shell pkg-config --cflags check)
CHECK_LIBS := $(shell pkg-config --libs check)

all: hull

%.o: %.c $(HDRS)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

libhull.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

hull: runtime/main.o libhull.a
	$(CC) $(LDFLAGS_HARDEN) $(LDFLAGS) -o $@ $^ $(LIBS)

# The in-container test helper: static, so it runs in a rootfs with no libc.
tests/helper/hull-test-helper: tests/helper/hull-test-helper.c
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

tests/unit/run-unit: $(UNIT_SRCS) libhull.a $(HDRS) $(TEST_HDRS)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $(UNIT_SRCS) libhull.a $(LIBS) $(CHECK_LIBS)

tests/integration/run-integration: $(INTEG_SRCS) libhull.a $(HDRS) $(TEST_HDRS)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -o $@ $(INTEG_SRCS) libhull.a $(LIBS) $(CHECK_LIBS)

# A busybox rootfs plus our helper, shared by the integration tests and the
# README's demo.
tests/rootfs/.done: tests/helper/hull-test-helper tests/make-rootfs.sh
	sh tests/make-rootfs.sh tests/rootfs tests/helper/hull-test-helper
	touch $@

# Everything that runs here: unit tests, integration tests, the integration
# tests in a cgroup v2 VM, the systemd driver in a VM (tests/check-all.sh).
# Ends with "N passed, N failed, N skipped" after the list of skipped tests
# and why each could not run on this host.
check: hull tests/unit/run-unit tests/integration/run-integration tests/rootfs/.done \
       guest-kernel
	HULL_GUEST_KERNEL=$(GUEST_KERNEL) sh tests/check-all.sh

# The integration tests again, in a qemu (TCG) virtual machine whose cgroups
# are pure v2 (tests/vm/). `CK_RUN_SUITE=rootfs make check-vm` runs one suite.
check-vm: hull tests/integration/run-integration tests/rootfs/.done
	sh tests/vm/run-vm-tests.sh
.PHONY: check-vm

# The systemd cgroup driver (--systemd-cgroup) in the same VM booted with
# Debian's systemd as PID 1 (tests/vm/systemd-test.sh).
check-vm-systemd: hull tests/integration/run-integration tests/rootfs/.done
	VM_SYSTEMD=1 VM_EXTRA="$(CURDIR)/tests/vm/systemd-test.sh:/hull/systemd-test.sh" \
	  sh tests/vm/run-vm-tests.sh sh /hull/systemd-test.sh
.PHONY: check-vm-systemd

# Real engines (podman, containerd's ctr, docker) drive hull, each on
# private sockets and directories (tests/engines/). Slow: not part of check.
# Every engine runs even when an earlier one failed.
check-engines: hull tests/helper/hull-test-helper
	status=0; for e in podman containerd docker; do \
	  bash tests/engines/$$e.sh || status=1; done; exit $$status
.PHONY: check-engines

check-unit: tests/unit/run-unit
	tests/unit/run-unit

# Unit tests under ASan/UBSan and valgrind.
check-sanitize:
	$(MAKE) clean
	$(MAKE) tests/unit/run-unit CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDFLAGS="-fsanitize=address,undefined"
	tests/unit/run-unit
	$(MAKE) clean

check-valgrind: tests/unit/run-unit
	CK_FORK=no CK_EXCLUDE_TAGS=kernel-security valgrind --error-exitcode=1 \
	  --leak-check=full --suppressions=tests/valgrind.supp tests/unit/run-unit

# bench.sh: hull against crun and runc; net-bench.sh: a container's network,
# hull's bridge beside CNI's bridge + host-local plugins (setup+teardown, 200
# on one bridge, TCP throughput with net-throughput); vm-bench.sh: VM mode
# (hull run to the first byte per backend, then vmm-bench.sh: the built-in
# VMM's setup time and RSS beside qemu's).
bench: hull tests/rootfs/.done bench/net-throughput guest-kernel
	bash bench/bench.sh
	bash bench/net-bench.sh
	HULL_GUEST_KERNEL=$(GUEST_KERNEL) bash bench/vm-bench.sh
	bash bench/image-bench.sh

bench/net-throughput: bench/net-throughput.c
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $<

# hull's guest kernel (runtime/vm/guest-kernel/): Debian's linux-source with
# the patches and the config kept there, built once per change of them, the
# build script or the source package into GUEST_KERNEL_CACHE, outside the tree so
# that `make clean` and a fresh clone keep it (a CI runner that keeps or
# caches that directory, keyed on runtime/vm/guest-kernel/*, builds it once).
# A cold build is ~22 CPU-minutes (~12 min on 2 idle cores, 40 on a busy
# shared one; ~1150 objects); a hit costs a hash of the config.
# GUEST_KERNEL_SRC=<an unpacked linux-source tree> builds there, kept.
GUEST_KERNEL_CACHE ?= $(HOME)/.cache/hull/guest-kernel
GUEST_KERNEL = $(GUEST_KERNEL_CACHE)/current/vmlinux
GUEST_KERNEL_JOBS ?= 2
guest-kernel:
	GUEST_KERNEL_SRC=$(GUEST_KERNEL_SRC) nice -n 10 \
	  sh runtime/vm/guest-kernel/build.sh $(GUEST_KERNEL_CACHE) \
	  $(GUEST_KERNEL_JOBS)
.PHONY: guest-kernel

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	  build-essential pkg-config libcap-dev libseccomp-dev libyajl-dev \
	  libmnl-dev libnftnl-dev libssl-dev libcurl4-openssl-dev libsystemd-dev libarchive-dev libarchive13 check libsubunit-dev busybox-static iproute2 crun runc \
	  procps util-linux man-db \
	  qemu-system-x86 qemu-utils linux-image-amd64 cpio xz-utils systemd \
	  linux-source patch bc bison flex libelf-dev \
	  containerd podman docker.io uidmap conmon passt slirp4netns \
	  containernetworking-plugins docker-registry umoci zstd ca-certificates

install: hull guest-kernel
	install -D -m 0755 hull $(DESTDIR)$(BINDIR)/hull
	install -D -m 0644 $(GUEST_KERNEL) $(DESTDIR)$(LIBEXECDIR)/hull/vmlinux
	install -D -m 0644 $(GUEST_KERNEL).config \
	  $(DESTDIR)$(LIBEXECDIR)/hull/vmlinux.config
	for m in man/*.8; do install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/$$(basename $$m); done

demo: hull tests/rootfs/.done
	sh tests/demo.sh

clean:
	rm -f hull libhull.a runtime/main.o $(LIB_OBJS) tests/unit/run-unit \
	  tests/integration/run-integration tests/helper/hull-test-helper \
	  bench/net-throughput
	rm -rf tests/rootfs

.PHONY: all check check-unit check-sanitize check-valgrind bench deps install demo clean

# The built-in VMM's test guest (tests/vm-guest/): a freestanding ELF64
# linked at 1 MiB, and its flat image, which test_vmm wraps as a bzImage.
VM_GUEST := tests/vm-guest/guest.elf tests/vm-guest/guest.bin
tests/vm-guest/guest.elf: tests/vm-guest/guest.S tests/vm-guest/guest.ld
	$(CC) -nostdlib -static -no-pie -Wl,-T,tests/vm-guest/guest.ld \
	  -Wl,--build-id=none -o $@ tests/vm-guest/guest.S
tests/vm-guest/guest.bin: tests/vm-guest/guest.elf
	objcopy -O binary $< $@
tests/unit/run-unit: $(VM_GUEST)
clean: clean-vm-guest
clean-vm-guest:
	rm -f $(VM_GUEST)
.PHONY: clean-vm-guest
