/* test-vm-share.c — the container's files under qemu are shared live with
 * the guest over virtio-9p (run.oci.vm.rootfs=virtio-9p; virtio-fs, the
 * default where a virtiofsd runs, is test-vm-virtiofs.c's), not copied
 * into its initramfs: writes land in
 * the bundle, host edits are seen, the size is not bounded by the guest's
 * memory, and read-only is enforced by qemu. Each boot costs seconds under
 * TCG: a test checks as much as it can per boot. Skipped like the other VM
 * tests without qemu or a guest kernel. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GIB (1024LL * 1024 * 1024)
#define NINE_P "\"run.oci.vm.rootfs\": \"virtio-9p\""

/* A sparse file of size bytes at path. */
/* The pids `hull ps` lists: the monitor first, then qemu. */
static pid_t qemu_pid(struct hctx *c) {
  struct hres r = vrun(c, 10000, "ps", "--format", "json", c->id, NULL);
  ck_assert_hres(r, 0);
  long a = 0, b = 0;
  ck_assert_msg(sscanf(r.out, "[%ld,%ld", &a, &b) == 2, "ps: %s", r.out);
  hres_free(&r);
  return (pid_t)b;
}

/* qemu's command line, NULs as spaces. */
static char *cmdline_of(pid_t pid) {
  cleanup_free char *path = xasprintf("/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  ck_assert_int_gt(n, 0);
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0')
      buf[i] = ' ';
  buf[n] = '\0';
  return xstrdup(buf);
}

/* One boot: a rootfs with a 1 GiB file (four times the guest's memory,
 * which the initramfs could not hold) runs; a 1 GiB file written in the
 * guest is in the bundle; a bound directory and a bound file are live both
 * ways, with the writer's uid, gid and mode on the host; a ro bind refuses
 * writes, and qemu itself holds it read-only; delete leaves no qemu. */
START_TEST(vm_share_rootfs_and_binds_live_both_ways) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *huge = xasprintf("%s/huge", c->rootfs);
  vm_make_sparse(huge, GIB);
  cleanup_free char *data = xasprintf("%s/data", c->dir);
  cleanup_free char *ro = xasprintf("%s/ro", c->dir);
  cleanup_free char *file = xasprintf("%s/shared-file", c->dir);
  ck_assert_int_eq(mkdir(data, 0755), 0);
  ck_assert_int_eq(chmod(data, 01777), 0); /* uid 1234 writes there */
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
      "\"source\": \"%s\", \"options\": [\"rbind\", \"rw\"]}",
      data, ro, file);
  cleanup_free char *vm = vm_annotations(kernel, NINE_P);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"exec sleep 1000\"",
      .namespaces = "{\"type\": \"network\"}, {\"type\": \"ipc\"}, "
                    "{\"type\": \"uts\"}, {\"type\": \"mount\"}",
      .mounts_extra = mounts,
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "create", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = vrun(c, 60000, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);

  /* the rootfs's 1 GiB file, and one written in the guest */
  r = vexec(c, NULL, "stat -c %s /huge && truncate -s 1G /big");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "1073741824\n");
  hres_free(&r);
  cleanup_free char *big = xasprintf("%s/big", c->rootfs);
  struct stat st;
  ck_assert_int_eq(stat(big, &st), 0);
  ck_assert_int_eq(st.st_size, GIB);

  /* host edits, seen in the guest at once */
  cleanup_free char *from_host = xasprintf("%s/from-host", data);
  hwrite_file(from_host, "edited on the host\n", 0644);
  hwrite_file(file, "host line, edited\n", 0644);
  r = vexec(c, NULL, "cat /data/from-host /etc/shared-file");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "edited on the host\nhost line, edited\n");
  hres_free(&r);

  /* guest writes, on the host with the writer's ids and mode */
  r = vexec(c, "1234:5678", "umask 027 && echo from the guest "
                            ">/data/from-guest && mkdir /data/dir");
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = vexec(c, NULL, "echo guest line >>/etc/shared-file");
  ck_assert_hres(r, 0);
  hres_free(&r);
  cleanup_free char *from_guest = xasprintf("%s/from-guest", data);
  cleanup_free char *text = hread_file(from_guest);
  ck_assert_str_eq(text, "from the guest\n");
  ck_assert_int_eq(stat(from_guest, &st), 0);
  ck_assert_int_eq(st.st_uid, 1234);
  ck_assert_int_eq(st.st_gid, 5678);
  ck_assert_int_eq(st.st_mode & 07777, 0640);
  cleanup_free char *dir = xasprintf("%s/dir", data);
  ck_assert_int_eq(stat(dir, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0750);
  ck_assert_int_eq(st.st_uid, 1234);
  free(take_ptr(text));
  text = hread_file(file);
  ck_assert_str_eq(text, "host line, edited\nguest line\n");

  /* the ro bind: refused in the guest, and read-only in qemu */
  r = vexec(c, NULL, "cat /ro/kept; touch /ro/new");
  ck_assert_int_ne(r.status, 0);
  ck_assert_str_eq(r.out, "kept\n");
  ck_assert_msg(hcontains(r.err, "Read-only file system"), "%s", r.err);
  hres_free(&r);
  cleanup_free char *ro_new = xasprintf("%s/new", ro);
  ck_assert_int_ne(access(ro_new, F_OK), 0);
  pid_t qemu = qemu_pid(c);
  cleanup_free char *cmd = cmdline_of(qemu);
  cleanup_free char *ro_share =
      xasprintf("path=%s,security_model=passthrough,multidevs=remap,"
                "readonly=on", ro);
  ck_assert_msg(hcontains(cmd, ro_share), "qemu: %s", cmd);
  cleanup_free char *rw_share = xasprintf(
      "path=%s,security_model=passthrough,multidevs=remap ", c->rootfs);
  ck_assert_msg(hcontains(cmd, rw_share), "qemu: %s", cmd);

  /* delete: no qemu, and (hctx_finish) no mount, no state */
  r = vrun(c, 60000, "delete", "--force", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  for (int i = 0; i < 100 && kill(qemu, 0) == 0; i++)
    usleep(50000);
  ck_assert_msg(kill(qemu, 0) < 0, "qemu %d outlived delete", (int)qemu);
  hctx_finish(c);
}
END_TEST

/* root.readonly: the rootfs is exported read-only, the guest's writes are
 * refused, and a mount point the rootfs lacks is still made (on the host,
 * as a namespace container would make it before going read-only). */
START_TEST(vm_share_readonly_root_refuses_writes) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  vm_readonly_root_refuses_writes(kernel, NINE_P, "", "");
}
END_TEST

/* run.oci.vm.rootfs=initramfs keeps the copy, and with it the limit of
 * half the guest's memory (checked before anything boots); a value hull
 * does not know is one line naming the annotation. */
START_TEST(vm_share_initramfs_copy_keeps_its_limit) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *huge = xasprintf("%s/huge", c->rootfs);
  vm_make_sparse(huge, GIB);
  cleanup_free char *vm =
      vm_annotations(kernel, "\"run.oci.vm.rootfs\": \"initramfs\"");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, "half of the guest's 256 MiB"), "%s", r.err);
  hres_free(&r);
  free(take_ptr(vm));
  vm = vm_annotations(kernel, "\"run.oci.vm.rootfs\": \"nfs\"");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  vm_expect_one_line(r.err, "annotation run.oci.vm.rootfs: `nfs`: expected "
                            "virtio-fs, virtio-9p or initramfs");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *vm_share_suite(void) {
  Suite *s = suite_create("integration-vm-share");
  TCase *tc = harness_tcase("vm-share", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_share_rootfs_and_binds_live_both_ways);
  tcase_add_test(tc, vm_share_readonly_root_refuses_writes);
  tcase_add_test(tc, vm_share_initramfs_copy_keeps_its_limit);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_share_suite)
