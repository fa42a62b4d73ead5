/* test-vm-virtiofs.c — the container's files under qemu shared over
 * virtio-fs, a virtiofsd per share (runtime/vm/virtiofs.c): writes land in
 * the bundle, host edits are seen at once, read-only is enforced on the
 * host (a read-only bind under virtiofsd), and no virtiofsd outlives the
 * container, whether it is deleted or its monitor is killed. With hull's
 * own kernel (built-in virtiofs) and Debian's (modules in the initramfs).
 * Skipped without qemu, a guest kernel or a virtiofsd. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"
#include "runtime/vm/vm.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB (1024LL * 1024 * 1024)
#define VIRTIOFS "\"run.oci.vm.rootfs\": \"virtio-fs\""

#define SKIP_WITHOUT_VIRTIOFSD()                                              \
  SKIP_UNLESS(virtiofsd_here(), "no virtiofsd (" VM_VIRTIOFSD_PLACES ")")

static bool virtiofsd_here(void) {
  cleanup_free char *found = vm_virtiofsd_find();
  return found != NULL;
}

static char *comm_of(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/comm", (int)pid);
  char *text = hread_file(path);
  if (text)
    text[strcspn(text, "\n")] = '\0';
  return text;
}

/* The pids below pid (its children's /proc lists) whose comm is name. */
static void descendants_named(pid_t pid, const char *name, pid_t *out,
                              size_t *n, size_t max) {
  cleanup_free char *path =
      xasprintf("/proc/%d/task/%d/children", (int)pid, (int)pid);
  cleanup_free char *text = hread_file(path);
  char *save = NULL;
  for (char *t = text ? strtok_r(text, " \n", &save) : NULL; t;
       t = strtok_r(NULL, " \n", &save)) {
    pid_t child = (pid_t)atoi(t);
    cleanup_free char *comm = comm_of(child);
    if (comm && strcmp(comm, name) == 0 && *n < max)
      out[(*n)++] = child;
    descendants_named(child, name, out, n, max);
  }
}

static pid_t monitor_pid(struct hctx *c) {
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, c->id, &pid);
  ck_assert_int_gt(pid, 0);
  return pid;
}

/* Whether every one of pids is gone (or another program now) within 5 s. */
static bool all_gone(const pid_t *pids, size_t n) {
  for (int tries = 0; tries < 100; tries++) {
    size_t alive = 0;
    for (size_t i = 0; i < n; i++) {
      cleanup_free char *comm = comm_of(pids[i]);
      alive += comm && strcmp(comm, "virtiofsd") == 0;
    }
    if (alive == 0)
      return true;
    usleep(50000);
  }
  return false;
}

static void create_and_start(struct hctx *c) {
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "create", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = vrun(c, 60000, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
}

/* One boot with the test kernel (hull's own when built): a 1 GiB sparse
 * file written in the guest is in the bundle; a bound directory and file
 * are live both ways, with the writer's ids on the host; a ro bind refuses
 * writes (on the host: its virtiofsd exports a read-only bind); a
 * virtiofsd per share, and none after delete. */
START_TEST(vm_virtiofs_rootfs_and_binds_live_both_ways) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_WITHOUT_VIRTIOFSD();
  struct hctx *c = hctx_new();
  cleanup_free char *data = xasprintf("%s/data", c->dir);
  cleanup_free char *ro = xasprintf("%s/ro", c->dir);
  cleanup_free char *file = xasprintf("%s/shared-file", c->dir);
  ck_assert_int_eq(mkdir(data, 0755), 0);
  ck_assert_int_eq(chmod(data, 01777), 0);
  ck_assert_int_eq(mkdir(ro, 0755), 0);
  cleanup_free char *ro_file = xasprintf("%s/kept", ro);
  hwrite_file(ro_file, "kept\n", 0644);
  hwrite_file(file, "host line\n", 0644);
  cleanup_free char *mounts = xasprintf(
      "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"%s\", "
      "\"options\": [\"rbind\", \"rw\"]}, "
      "{\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"%s\", "
      "\"options\": [\"rbind\", \"ro\"]}, "
      "{\"destination\": \"/etc/shared-file\", \"type\": \"bind\", "
      "\"source\": \"%s\", \"options\": [\"rbind\", \"ro\"]}",
      data, ro, file);
  cleanup_free char *vm = vm_annotations(kernel, VIRTIOFS);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"exec sleep 1000\"",
      .mounts_extra = mounts,
      .top_extra = vm});
  create_and_start(c);

  /* the guest mounted virtio-fs, and a 1 GiB sparse file lands */
  struct hres r = vexec(c, NULL, "grep -c virtiofs /proc/mounts; "
                                 "truncate -s 1G /big && stat -c %s /big");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "1073741824\n"), "%s", r.out);
  hres_free(&r);
  cleanup_free char *big = xasprintf("%s/big", c->rootfs);
  struct stat st;
  ck_assert_int_eq(stat(big, &st), 0);
  ck_assert_int_eq(st.st_size, GIB);
  ck_assert_int_lt(st.st_blocks, 1024); /* sparse on the host too */

  /* host edits, seen at once (no attribute cache in the guest) */
  cleanup_free char *from_host = xasprintf("%s/from-host", data);
  hwrite_file(from_host, "edited on the host\n", 0644);
  r = vexec(c, NULL, "cat /data/from-host /etc/shared-file");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "edited on the host\nhost line\n");
  hres_free(&r);
  hwrite_file(from_host, "edited again, longer\n", 0644);
  r = vexec(c, NULL, "cat /data/from-host");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "edited again, longer\n");
  hres_free(&r);

  /* guest writes, on the host with the writer's ids and mode */
  r = vexec(c, "1234:5678", "umask 027 && echo from the guest "
                            ">/data/from-guest && mkdir /data/dir");
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *from_guest = xasprintf("%s/from-guest", data);
  cleanup_free char *text = hread_file(from_guest);
  ck_assert_str_eq(text, "from the guest\n");
  ck_assert_int_eq(stat(from_guest, &st), 0);
  ck_assert_int_eq(st.st_uid, 1234);
  ck_assert_int_eq(st.st_gid, 5678);
  ck_assert_int_eq(st.st_mode & 07777, 0640);

  /* ro binds, a directory and a file: refused, and untouched on the host */
  r = vexec(c, NULL, "cat /ro/kept; touch /ro/new; echo x >>/etc/shared-file");
  ck_assert_int_ne(r.status, 0);
  ck_assert_str_eq(r.out, "kept\n");
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  cleanup_free char *ro_new = xasprintf("%s/new", ro);
  ck_assert_int_ne(access(ro_new, F_OK), 0);
  free(take_ptr(text));
  text = hread_file(file);
  ck_assert_str_eq(text, "host line\n");

  /* no socket left in the state dir: each was unlinked once connected */
  cleanup_free char *state = xasprintf("%s/%s", c->root, c->id);
  for (int i = 0; i < 4; i++) {
    cleanup_free char *sock = xasprintf("%s/virtiofs-%d.sock", state, i);
    ck_assert_msg(access(sock, F_OK) != 0, "%s is left", sock);
  }
  cleanup_free char *shares = xasprintf("%s/shares", state);
  ck_assert_int_eq(access(shares, F_OK), 0); /* ro-N mount points, entries */

  /* a virtiofsd per share (each its sandboxed child too), none after */
  pid_t daemons[32];
  size_t n = 0;
  descendants_named(monitor_pid(c), "virtiofsd", daemons, &n, 32);
  ck_assert_msg(n >= 4, "%zu virtiofsd for 4 shares", n);
  r = vrun(c, 60000, "delete", "--force", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(all_gone(daemons, n), "a virtiofsd outlived delete");
  hctx_finish(c);
}
END_TEST

/* Debian's kernel (virtiofs and fuse loaded from the initramfs), and
 * root.readonly: the rootfs share refuses the guest's writes, a mount
 * point the rootfs lacks is still made, and the run's output says so. */
START_TEST(vm_virtiofs_readonly_root_with_debian_kernel) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_WITHOUT_VIRTIOFSD();
  vm_readonly_root_refuses_writes(
      kernel, VIRTIOFS,
      "grep -q ' / virtiofs ro' /proc/mounts && echo virtiofs; ",
      "virtiofs\n");
}
END_TEST

/* kill -9 of the monitor (the container's pid): qemu dies with it, and
 * the virtiofsds with them; delete then finds nothing left. */
START_TEST(vm_virtiofs_daemons_die_with_the_monitor) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_WITHOUT_VIRTIOFSD();
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(kernel, VIRTIOFS);
  /* Without a pid namespace: nothing but the daemons' own care ends
   * them (with one, its init's death would). */
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"exec sleep 1000\"",
      .namespaces = "{\"type\": \"network\"}, {\"type\": \"ipc\"}, "
                    "{\"type\": \"uts\"}, {\"type\": \"mount\"}",
      .top_extra = vm});
  create_and_start(c);
  pid_t monitor = monitor_pid(c);
  pid_t daemons[8];
  size_t n = 0;
  descendants_named(monitor, "virtiofsd", daemons, &n, 8);
  ck_assert_msg(n >= 1, "no virtiofsd below the monitor %d", (int)monitor);
  ck_assert_int_eq(kill(monitor, SIGKILL), 0);
  ck_assert_msg(all_gone(daemons, n), "a virtiofsd outlived its monitor");
  ck_assert(hwait_status(c, c->id, "stopped", 10000));
  struct hres r = vrun(c, 60000, "delete", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* `$HULL --root ROOT run --bundle B ID` where no virtiofsd can be found:
 * in a mount namespace of its own with /usr/lib/qemu and /usr/libexec
 * hidden under empty tmpfs, and $PATH without one. Its stderr. */
static char *run_without_virtiofsd(struct hctx *c, int *status) {
  cleanup_free char *err_path = xasprintf("%s/no-virtiofsd.err", c->dir);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 2) < 0 || unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
      _exit(126);
    const char *hide[] = {"/usr/lib/qemu", "/usr/libexec"};
    for (size_t i = 0; i < 2; i++)
      if (access(hide[i], F_OK) == 0 &&
          mount("tmpfs", hide[i], "tmpfs", 0, NULL) < 0)
        _exit(126);
    setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    const char *hull = getenv("HULL");
    execl(hull, hull, "--root", c->root, "run", "--bundle", c->bundle, c->id,
          (char *)NULL);
    _exit(127);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return hread_file(err_path);
}

/* run.oci.vm.rootfs: a value hull does not know, and virtio-fs asked for
 * where no virtiofsd is installed: one line naming the annotation, before
 * anything starts. */
START_TEST(vm_virtiofs_refused_by_name) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/usr/bin/virtiofsd", F_OK) != 0 &&
                  access("/bin/virtiofsd", F_OK) != 0,
              "a virtiofsd in /usr/bin cannot be hidden");
  struct hctx *c = hctx_new();
  cleanup_free char *vm =
      vm_annotations(kernel, "\"run.oci.vm.rootfs\": \"virtiofs\"");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, 30000, "run", "--bundle", c->bundle, c->id, NULL);
  hexpect_one_line_error(r, "annotation run.oci.vm.rootfs: `virtiofs`: "
                            "expected virtio-fs, virtio-9p or initramfs");
  hres_free(&r);
  free(take_ptr(vm));
  vm = vm_annotations(kernel, VIRTIOFS);
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  int status = 0;
  cleanup_free char *err = run_without_virtiofsd(c, &status);
  ck_assert_int_eq(status, 1);
  vm_expect_one_line(err, "annotation run.oci.vm.rootfs: virtio-fs: no "
                          "virtiofsd (looked in " VM_VIRTIOFSD_PLACES ")");
  hctx_finish(c);
}
END_TEST

/* A virtiofsd that is not qemu's (the Rust one, as Debian's virtiofsd
 * package installs it) gets its own long options, not qemu's -o ones it
 * refuses; and a virtiofsd that fails fails create in one line, leaving
 * nothing. A stand-in first on $PATH records its arguments and fails. */
START_TEST(vm_virtiofs_rust_daemon_gets_its_options) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(geteuid() == 0, "virtio-fs needs hull to run as root");
  struct hctx *c = hctx_new();
  cleanup_free char *bin = xasprintf("%s/bin", c->dir);
  ck_assert_int_eq(mkdir(bin, 0755), 0);
  cleanup_free char *args = xasprintf("%s/virtiofsd.args", c->dir);
  cleanup_free char *fake = xasprintf("%s/virtiofsd", bin);
  cleanup_free char *script = xasprintf(
      "#!/bin/sh\n"
      "[ \"$1\" = --version ] && { echo 'virtiofsd 1.10.1'; exit 0; }\n"
      "echo \"$@\" >>'%s'\n"
      "echo 'virtiofsd: fake, refusing' >&2\n"
      "exit 1\n", args);
  hwrite_file(fake, script, 0755);
  cleanup_free char *path = xasprintf("%s:%s", bin, getenv("PATH"));
  setenv("PATH", path, 1);
  cleanup_free char *vm = vm_annotations(kernel, VIRTIOFS);
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "more than one line: %s", r.err);
  hres_free(&r);
  cleanup_free char *got = hread_file(args);
  ck_assert_ptr_nonnull(got);
  cleanup_free char *want = xasprintf(
      "--shared-dir=%s --cache=auto --xattr --log-level=error "
      "--rlimit-nofile=0\n", c->rootfs);
  ck_assert_msg(strncmp(got, "--fd=", 5) == 0 && hcontains(got, want),
                "virtiofsd's arguments: %s", got);
  hctx_finish(c);
}
END_TEST

static Suite *vm_virtiofs_suite(void) {
  Suite *s = suite_create("integration-vm-virtiofs");
  TCase *tc = harness_tcase("vm-virtiofs", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_virtiofs_rootfs_and_binds_live_both_ways);
  tcase_add_test(tc, vm_virtiofs_readonly_root_with_debian_kernel);
  tcase_add_test(tc, vm_virtiofs_daemons_die_with_the_monitor);
  tcase_add_test(tc, vm_virtiofs_refused_by_name);
  tcase_add_test(tc, vm_virtiofs_rust_daemon_gets_its_options);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_virtiofs_suite)
