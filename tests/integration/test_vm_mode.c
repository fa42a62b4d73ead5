/* test_vm_mode.c — VM mode end to end: the busybox rootfs in a qemu (TCG)
 * guest under Debian's kernel from /boot, through hull's usual verbs.
 *
 * Each boot costs seconds under TCG, so each test combines its checks per
 * boot. Skipped (with the reason) where there is no qemu-system-x86_64 or
 * no /boot/vmlinuz-*, and inside the VM that `make check-vm` boots (no
 * nested qemu there); the tcase is tagged "vm-mode" too. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"
#include "runtime/vm/vmm/vmm.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The spec's vm object for the qemu backend (extra: more of it). */
static char *vm_object(const char *kernel, const char *hypervisor,
                       const char *extra) {
  cleanup_free char *hv =
      hypervisor ? xasprintf("\"hypervisor\": {\"path\": \"%s\"}, ", hypervisor)
                 : xstrdup("");
  return xasprintf("\"vm\": {%s\"kernel\": {\"path\": \"%s\"%s}, "
                   "\"hwConfig\": {\"vcpus\": 1, \"memory\": 268435456}}",
                   hv, kernel, extra ? extra : "");
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value after `key` in text (up to the end of its line). */
static char *line_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  ck_assert_msg(p != NULL, "no `%s` in: %s", key, text);
  p += strlen(key);
  return xstrndup(p, strcspn(p, "\n"));
}

/* run: the output, the exit code, the guest's kernel and memory. On
 * Debian's kernel named by path: the fallback for hosts without hull's own
 * (a bzImage, unpacked on the host; modules from /lib/modules) keeps
 * working. */
START_TEST(vm_run_prints_output_and_exits_with_the_code) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_object(kernel, QEMU, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo hi; echo release=$(uname -r); "
              "grep MemTotal /proc/meminfo; exit 7\"",
      .top_extra = vm});
  long long t0 = now_ms();
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  long long took = now_ms() - t0;
  ck_assert_hres(r, 7);
  ck_assert_msg(strncmp(r.out, "hi\n", 3) == 0, "output: %s", r.out);
  cleanup_free char *release = line_after(r.out, "release=");
  ck_assert_str_eq(release, strstr(kernel, "vmlinuz-") + strlen("vmlinuz-"));
  /* 256 MiB, less what the kernel keeps for itself */
  cleanup_free char *mem = line_after(r.out, "MemTotal:");
  long kb = strtol(mem, NULL, 10);
  ck_assert_msg(kb > 180 * 1024 && kb <= 256 * 1024, "MemTotal %ld kB", kb);
  fprintf(stderr, "vm_run: `hull run` of a VM container took %lld ms\n", took);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Entries of <root>/.cache/vm/ whose names start with prefix. */
static int vm_cache_entries(struct hctx *c, const char *prefix) {
  cleanup_free char *dir = xasprintf("%s/.cache/vm", c->root);
  DIR *d = opendir(dir);
  int n = 0;
  if (d == NULL)
    return 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
  closedir(d);
  return n;
}

/* `hull gc` removes the base initramfs and the unpacked kernel a VM left
 * in the cache, and the next VM builds them again and boots. */
START_TEST(vm_gc_empties_the_cache_and_the_next_vm_rebuilds_it) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_object(kernel, QEMU, NULL);
  hctx_write_config(c, &(struct hconfig){.args = "\"/bin/echo\", \"hi\"",
                                         .top_extra = vm});
  for (int round = 0; round < 2; round++) {
    struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                         c->id, NULL);
    ck_assert_hres(r, 0);
    ck_assert_msg(hcontains(r.out, "hi\n"), "output: %s", r.out);
    hres_free(&r);
    ck_assert_int_eq(vm_cache_entries(c, "base-"), 1);
    ck_assert_int_eq(vm_cache_entries(c, "vmlinux-"), 1);
    r = hrun(c, "gc", NULL);
    ck_assert_hres(r, 0);
    cleanup_free char *base = xasprintf("deleted: %s/.cache/vm/base-", c->root);
    cleanup_free char *vmlinux =
        xasprintf("deleted: %s/.cache/vm/vmlinux-", c->root);
    ck_assert_msg(hcontains(r.out, base) && hcontains(r.out, vmlinux), "%s",
                  r.out);
    hres_free(&r);
    ck_assert_int_eq(vm_cache_entries(c, "base-"), 0);
    ck_assert_int_eq(vm_cache_entries(c, "vmlinux-"), 0);
  }
  hctx_finish(c);
}
END_TEST

/* A VM that names no kernel boots hull's own (`make guest-kernel`, which
 * `make check` builds and names in $HULL_GUEST_KERNEL): its release ends
 * in the config's -hull, and, an ELF with a PVH entry, it runs on a
 * microvm (whose reset is a triple fault: reboot=t). */
START_TEST(vm_default_kernel_is_hulls_own) {
  SKIP_UNLESS(!vm_in_test_vm(), "no nested qemu in the test VM");
  cleanup_free char *own = vm_own_kernel();
  SKIP_UNLESS(own != NULL, "no $HULL_GUEST_KERNEL (make check names hull's "
                           "guest kernel, make guest-kernel, there)");
  SKIP_WITHOUT_QEMU(own);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(NULL, NULL);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo release=$(uname -r); "
              "echo cmdline=$(cat /proc/cmdline)\"",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *release = line_after(r.out, "release=");
  size_t n = strlen(release);
  ck_assert_msg(n > 5 && strcmp(release + n - 5, "-hull") == 0,
                "release `%s` is not hull's kernel's", release);
  cleanup_free char *cmdline = line_after(r.out, "cmdline=");
  ck_assert_msg(strstr(cmdline, "reboot=t") != NULL, "not a microvm: %s",
                cmdline);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* create → created (pid: a live monitor) → start → exec → kill → stopped
 * → delete, in one boot; switched on by annotations, as an engine does. */
START_TEST(vm_lifecycle_create_start_exec_kill_delete) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  /* The monitor outlives `create`: reparented to this test, which can then
   * see how it ended. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, NULL);
  /* No pid namespace: the guest's sh is not a pid 1 that ignores SIGTERM. */
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo started; exec sleep 1000\"",
      .namespaces = "{\"type\": \"network\"}, {\"type\": \"ipc\"}, "
                    "{\"type\": \"uts\"}, {\"type\": \"mount\"}",
      .top_extra = vm});
  cleanup_free char *out = xasprintf("%s/out", c->dir);
  /* create keeps the container's stdio: a file here */
  cleanup_free char *cmd = xasprintf(
      "exec %s --root %s create --bundle %s %s >%s 2>&1 </dev/null",
      getenv("HULL"), c->root, c->bundle, c->id, out);
  ck_assert_int_eq(system(cmd), 0);

  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_str_eq(status, "created");
  ck_assert_int_gt(pid, 0);
  ck_assert_int_eq(kill(pid, 0), 0);

  struct hres r = vrun(c, 60000, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(hwait_file(out, "started", 30000));
  free(take_ptr(status));
  status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "running");

  r = vrun(c, 60000, "exec", c->id, "/bin/sh", "-c",
           "echo exec-out; cat /proc/1/cmdline >/dev/null; exit 3", NULL);
  ck_assert_hres(r, 3);
  ck_assert_str_eq(r.out, "exec-out\n");
  hres_free(&r);

  /* A detached exec's relay lives on in the cgroup, without the
   * container's lock: the other verbs still answer at once. */
  r = vrun(c, 60000, "exec", "-d", c->id, "sleep", "600", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = vrun(c, 5000, "ps", "--format", "json", c->id, NULL);
  ck_assert_hres(r, 0);
  size_t commas = 0;
  for (const char *p = r.out; *p; p++)
    commas += *p == ',';
  ck_assert_msg(commas == 2, "want the monitor, qemu and the relay: %s",
                r.out);
  hres_free(&r);

  /* kill: to the monitor, which passes it in (CONT: harmless); kill --all:
   * to every process of the container, in the guest */
  r = vrun(c, 60000, "kill", c->id, "CONT", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = vrun(c, 60000, "kill", "--all", c->id, "TERM", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  /* The monitor dies of the signal that ended the container's process,
   * as a namespace init would: a shim sees 128+15. */
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "status %#x", st);
  ck_assert(hwait_status(c, c->id, "stopped", 30000));

  r = vrun(c, 60000, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  /* the cache outlives the container */
  cleanup_free char *cache = xasprintf("%s/.cache/vm", c->root);
  ck_assert_int_eq(access(cache, F_OK), 0);
  hctx_finish(c);
}
END_TEST

/* Errors: one line, nothing left running or on disk. */
static void expect_create_error(const char *vm, const char *want) {
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_msg(r.status != 0, "run succeeded: %s", r.out);
  ck_assert_msg(strstr(r.err, want), "stderr `%s` lacks `%s`", r.err, want);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "more than one line: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}

START_TEST(vm_errors_are_one_line_and_leave_nothing) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  cleanup_free char *not_kernel = vm_object("/etc/hostname", QEMU, NULL);
  expect_create_error(not_kernel, "/etc/hostname");
  cleanup_free char *no_initrd =
      vm_object(kernel, QEMU, ", \"initrd\": \"/nonexistent/initrd\"");
  expect_create_error(no_initrd, "/nonexistent/initrd");
  cleanup_free char *failing = vm_object(kernel, "/bin/false", NULL);
  expect_create_error(failing,
                      "hypervisor `/bin/false` exited with status 1 before "
                      "the VM was ready");
  /* A guest that never runs (qemu -S: CPUs stopped) cannot answer, however
   * fast its kernel boots. */
  cleanup_free char *stopped = xasprintf(
      "\"vm\": {\"hypervisor\": {\"path\": \"%s\", \"parameters\": "
      "[\"-S\"]}, \"kernel\": {\"path\": \"%s\"}, \"hwConfig\": "
      "{\"vcpus\": 1, \"memory\": 268435456}}", QEMU, kernel);
  cleanup_free char *impatient = xasprintf(
      "%s, \"annotations\": {\"run.oci.vm.timeout\": \"1\"}", stopped);
  expect_create_error(impatient, "the VM did not answer within 1 s (last "
                                 "console line: ");
}
END_TEST

/* The built-in VMM runs the container where /dev/kvm runs guest code
 * natively. Where it emulates guest code (a nested /dev/kvm), a stock kernel
 * dies on the first instruction KVM's emulator lacks: then the error says
 * so in one line, and nothing is left. The probe that qemu's accel choice
 * uses tells the two apart first, so each host has one right answer. */
START_TEST(vm_builtin_vmm_runs_or_says_kvm_emulates) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/dev/kvm", R_OK | W_OK) == 0, "no /dev/kvm");
  bool native = false;
  cleanup_error hull_error_t probe_err = NULL;
  ck_assert_msg(vmm_probe_native(&native, &probe_err) == 0, "KVM probe: %s",
                probe_err ? probe_err->msg : "");
  struct hctx *c = hctx_new();
  cleanup_free char *object = vm_object(kernel, NULL, NULL);
  /* An emulating /dev/kvm crawls: Debian's kernel dies in KVM's
   * instruction emulation ~50 s in. */
  cleanup_free char *vm = xasprintf(
      "%s, \"annotations\": {\"run.oci.vm.timeout\": \"120\"}", object);
  /* Device rules as `hull spec` writes them: the cgroup must still let
   * the VMM open /dev/kvm. */
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo hi\"",
      .linux_extra = "\"resources\": {\"devices\": [{\"allow\": false, "
                     "\"access\": \"rwm\"}]}",
      .top_extra = vm});
  struct hres r = vrun(c, 150000, "run", "--bundle", c->bundle, c->id, NULL);
  if (native) {
    ck_assert_hres(r, 0);
    ck_assert_str_eq(r.out, "hi\n");
  } else {
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "more than one line: %s", r.err);
    ck_assert_msg(hcontains(r.err, "this /dev/kvm emulates guest code and "
                                   "cannot run the kernel; name a hypervisor "
                                   "(run.oci.vm.hypervisor)"),
                  "not the emulation error: %s", r.err);
  }
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* The built-in VMM with hull's own kernel: two vCPUs (its MP table; the
 * guest starts the second), and the agent channel on its virtio console
 * (hvc0, a virtio-mmio device on the kernel's command line), which carries
 * 1 MiB of stdout whole. Needs a /dev/kvm that runs guest code natively. */
START_TEST(vm_builtin_vmm_two_vcpus_and_virtio_console) {
  SKIP_UNLESS(access("/dev/kvm", R_OK | W_OK) == 0, "no /dev/kvm");
  cleanup_free char *kernel = vm_own_kernel();
  SKIP_UNLESS(kernel != NULL, "no $HULL_GUEST_KERNEL (hull's own kernel has "
                              "the built-in VMM's virtio-mmio devices)");
  bool native = false;
  cleanup_error hull_error_t probe_err = NULL;
  ck_assert_msg(vmm_probe_native(&native, &probe_err) == 0, "KVM probe: %s",
                probe_err ? probe_err->msg : "");
  SKIP_UNLESS(native, "this /dev/kvm emulates guest code (nested KVM): "
                      "Linux cannot boot on the built-in VMM here");
  struct hctx *c = hctx_new();
  cleanup_free char *vm = xasprintf(
      "\"vm\": {\"kernel\": {\"path\": \"%s\"}, \"hwConfig\": {\"vcpus\": 2, "
      "\"memory\": 268435456}}", kernel);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo cpus=$(nproc); "
              "echo cmdline=$(cat /proc/cmdline); "
              "head -c 1048576 /dev/zero | tr '\\\\0' x; echo\"",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *cpus = line_after(r.out, "cpus=");
  ck_assert_str_eq(cpus, "2");
  cleanup_free char *cmdline = line_after(r.out, "cmdline=");
  ck_assert_msg(strstr(cmdline, "hull.channel=/dev/hvc0") &&
                    strstr(cmdline, "virtio_mmio.device=512@0xd0000000:5"),
                "not the virtio console: %s", cmdline);
  const char *xs = strchr(r.out, 'x');
  ck_assert_ptr_nonnull(xs);
  ck_assert_uint_eq(strspn(xs, "x"), 1048576);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *vm_mode_suite(void) {
  Suite *s = suite_create("integration-vm-mode");
  TCase *tc = harness_tcase("vm-mode", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_run_prints_output_and_exits_with_the_code);
  tcase_add_test(tc, vm_gc_empties_the_cache_and_the_next_vm_rebuilds_it);
  tcase_add_test(tc, vm_default_kernel_is_hulls_own);
  tcase_add_test(tc, vm_lifecycle_create_start_exec_kill_delete);
  tcase_add_test(tc, vm_errors_are_one_line_and_leave_nothing);
  tcase_add_test(tc, vm_builtin_vmm_runs_or_says_kvm_emulates);
  tcase_add_test(tc, vm_builtin_vmm_two_vcpus_and_virtio_console);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_mode_suite)
