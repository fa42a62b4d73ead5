/* vm-harness.h — what the VM-mode integration tests share (test_vm_mode.c,
 * test_vm_user.c, test-vm-network.c): the guest kernel (hull's own when
 * `make check` built it, else Debian's from /boot), qemu (TCG) as the
 * hypervisor, and the reasons to skip. Each boot costs seconds under TCG:
 * a test checks as much as it can per boot. */
#ifndef HULL_TEST_VM_HARNESS_H
#define HULL_TEST_VM_HARNESS_H

#include "tests/integration/harness.h"

#include <stdbool.h>
#include <sys/types.h>

#define QEMU "/usr/bin/qemu-system-x86_64"
#define BOOT_TIMEOUT_MS 120000 /* a whole run under TCG, with slack */

/* The newest /boot/vmlinuz-*, or NULL. */
char *vm_host_kernel(void);
/* hull's own guest kernel, as `make check` names it ($HULL_GUEST_KERNEL),
 * or NULL when that is not set or not there. */
char *vm_own_kernel(void);
/* The kernel the tests boot: hull's own, else the host's newest; the
 * host's when HULL_TEST_KERNEL=debian (make check's second VM pass). */
char *vm_test_kernel(void);
/* Inside the VM that `make check-vm` boots: no nested qemu there. */
bool vm_in_test_vm(void);

#define SKIP_WITHOUT_QEMU(kernel)                                             \
  SKIP_UNLESS(!vm_in_test_vm(), "no nested qemu in the test VM");             \
  SKIP_UNLESS(access(QEMU, X_OK) == 0, QEMU " is not installed");             \
  SKIP_UNLESS((kernel) != NULL, "no guest kernel (make guest-kernel, or "  \
                                "/boot/vmlinuz-*)")

/* The config's top-level "annotations" member that asks for a VM under
 * qemu with kernel (NULL: the default one), as an engine passes it;
 * extra: more members. */
char *vm_annotations(const char *kernel, const char *extra);

/* Runs `$HULL --root c->root ARGS...` (NULL-terminated) with a timeout. */
struct hres vrun(struct hctx *c, int timeout_ms, ...)
    __attribute__((sentinel));

/* Runs script with /bin/sh -c in the container (as user, NULL: its own). */
struct hres vexec(struct hctx *c, const char *user, const char *script);

/* A sparse file of size bytes at path (zeros: no file system on it). */
void vm_make_sparse(const char *path, off_t size);

/* err is one line (a failed create's) and names part. */
void vm_expect_one_line(const char *err, const char *part);

/* root.readonly with the rootfs shared as share_annotation asks: the
 * container runs probe (a shell command list, "" for none) and then tries
 * to write to its root and to a bind whose mount point the rootfs lacks;
 * the run prints probe_out and then "made", the root write is refused and
 * the bind's lands. A whole test: it makes and finishes its hctx. */
void vm_readonly_root_refuses_writes(const char *kernel,
                                     const char *share_annotation,
                                     const char *probe, const char *probe_out);

#endif
