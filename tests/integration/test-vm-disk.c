/* test-vm-disk.c — the spec's vm.image under qemu: a virtio-blk disk in
 * the format the spec names, whose file system is the container's rootfs
 * in the guest (runtime/vm/share.c, guest/share.c); what the guest writes
 * is in the image afterwards. The images are made here (mkfs.ext4 -d of
 * the test rootfs; qemu-img convert for qcow2) and booted with Debian's
 * kernel, whose ext4 hull loads from /lib/modules, and with hull's own,
 * which has ext4 built in. Bad input is one line naming
 * vm.image.path or vm.image.format, and leaves nothing. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MKFS_EXT4 "/usr/sbin/mkfs.ext4"
#define DEBUGFS "/usr/sbin/debugfs"
#define QEMU_IMG "/usr/bin/qemu-img"

/* A 64 MiB raw ext4 image of the test rootfs at path. */
static void make_raw_image(struct hctx *c, const char *path) {
  vm_make_sparse(path, 64 << 20);
  char *argv[] = {MKFS_EXT4, "-q", "-F", "-d", c->rootfs, (char *)path, NULL};
  hrun_tool(argv);
}

/* `debugfs -R 'cat PATH' image`'s stdout (debugfs opens it read-only). */
static char *debugfs_cat(const char *image, const char *path) {
  cleanup_free char *cmd =
      xasprintf(DEBUGFS " -R 'cat %s' '%s' 2>/dev/null", path, image);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char buf[4096];
  size_t n = fread(buf, 1, sizeof(buf) - 1, p);
  buf[n] = '\0';
  pclose(p);
  return xstrdup(buf);
}

/* The top-level members that boot kernel under qemu with image as the
 * rootfs. */
static char *vm_with_image(const char *kernel, const char *image,
                           const char *format) {
  return xasprintf("\"vm\": {\"hypervisor\": {\"path\": \"" QEMU "\"}, "
                   "\"kernel\": {\"path\": \"%s\"}, "
                   "\"image\": {\"path\": \"%s\", \"format\": \"%s\"}}",
                   kernel, image, format);
}

/* Runs the container once: it says where its rootfs comes from and
 * writes /in-image. */
static void run_writer(struct hctx *c, const char *kernel, const char *image,
                       const char *format) {
  cleanup_free char *vm = vm_with_image(kernel, image, format);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"grep ' / ' /proc/mounts | "
              "cut -d' ' -f1,3; echo written by the guest >/in-image\"",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "/dev/vda ext4\n");
  hres_free(&r);
  /* root.path's files were not the rootfs */
  cleanup_free char *in_bundle = xasprintf("%s/in-image", c->rootfs);
  ck_assert_int_ne(access(in_bundle, F_OK), 0);
}

START_TEST(vm_disk_raw_image_is_the_rootfs) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access(MKFS_EXT4, X_OK) == 0, MKFS_EXT4 " is not installed");
  SKIP_UNLESS(access(DEBUGFS, X_OK) == 0, DEBUGFS " is not installed");
  struct hctx *c = hctx_new();
  cleanup_free char *image = xasprintf("%s/disk.raw", c->dir);
  make_raw_image(c, image);
  run_writer(c, kernel, image, "raw");
  cleanup_free char *text = debugfs_cat(image, "/in-image");
  ck_assert_str_eq(text, "written by the guest\n");
  hctx_finish(c);
}
END_TEST

START_TEST(vm_disk_qcow2_image_is_the_rootfs) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access(MKFS_EXT4, X_OK) == 0, MKFS_EXT4 " is not installed");
  SKIP_UNLESS(access(DEBUGFS, X_OK) == 0, DEBUGFS " is not installed");
  SKIP_UNLESS(access(QEMU_IMG, X_OK) == 0, QEMU_IMG " is not installed");
  struct hctx *c = hctx_new();
  cleanup_free char *raw = xasprintf("%s/disk.raw", c->dir);
  cleanup_free char *qcow2 = xasprintf("%s/disk.qcow2", c->dir);
  make_raw_image(c, raw);
  char *to_qcow2[] = {QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2", raw,
                      qcow2, NULL};
  hrun_tool(to_qcow2);
  ck_assert_int_eq(unlink(raw), 0);
  run_writer(c, kernel, qcow2, "qcow2");
  char *to_raw[] = {QEMU_IMG, "convert", "-f", "qcow2", "-O", "raw", qcow2,
                    raw, NULL};
  hrun_tool(to_raw);
  cleanup_free char *text = debugfs_cat(raw, "/in-image");
  ck_assert_str_eq(text, "written by the guest\n");
  hctx_finish(c);
}
END_TEST

/* hull's own kernel has ext4 built in (runtime/vm/guest-kernel/config):
 * an ext4 image is the container's rootfs with no module to load. */
START_TEST(vm_disk_own_kernel_mounts_an_ext4_image) {
  cleanup_free char *kernel = vm_own_kernel();
  SKIP_UNLESS(kernel != NULL, "no hull guest kernel ($HULL_GUEST_KERNEL)");
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access(MKFS_EXT4, X_OK) == 0, MKFS_EXT4 " is not installed");
  struct hctx *c = hctx_new();
  cleanup_free char *image = xasprintf("%s/disk.raw", c->dir);
  make_raw_image(c, image);
  cleanup_free char *vm = vm_with_image(kernel, image, "raw");
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"grep ' / ' /proc/mounts | "
              "cut -d' ' -f1,3\"",
      .top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
  ck_assert_str_eq(r.out, "/dev/vda ext4\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* An image with no file system on it (zeros): create fails in one line
 * naming the device and the file systems the guest kernel tried, and
 * leaves nothing. */
START_TEST(vm_disk_without_a_file_system_says_what_was_tried) {
  cleanup_free char *kernel = vm_test_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *image = xasprintf("%s/zeros.raw", c->dir);
  vm_make_sparse(image, 8 << 20);
  cleanup_free char *vm = vm_with_image(kernel, image, "raw");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  vm_expect_one_line(r.err, "mount the VM image's disk `/dev/vda` on "
                            "`/bundle/rootfs` as any block file system the "
                            "guest kernel has (");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Each refused with one line naming the field, exit 1, nothing left: a
 * missing image, a format the spec does not list, and an image that is
 * not of the format named (qemu's own words, after the path). */
START_TEST(vm_disk_bad_images_refused_by_name) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  cleanup_free char *missing = xasprintf("%s/missing.raw", c->dir);
  cleanup_free char *vm = vm_with_image(kernel, missing, "raw");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  cleanup_free char *want = xasprintf(
      "config.json: .vm.image.path: `%s`: No such file or directory", missing);
  hexpect_one_line_error(r, want);
  hres_free(&r);

  cleanup_free char *image = xasprintf("%s/disk.raw", c->dir);
  vm_make_sparse(image, 8 << 20);
  free(take_ptr(vm));
  vm = vm_with_image(kernel, image, "iso");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, ".vm.image.format") &&
                    hcontains(r.err, "\\\"iso\\\""),
                "%s", r.err);
  hres_free(&r);

  free(take_ptr(vm));
  vm = vm_with_image(kernel, image, "qcow2");
  hctx_write_config(c, &(struct hconfig){.top_extra = vm});
  r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle, c->id, NULL);
  free(take_ptr(want));
  want = xasprintf("config.json: .vm.image.path: `%s`: Image is not in qcow2 "
                   "format", image);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *vm_disk_suite(void) {
  Suite *s = suite_create("integration-vm-disk");
  TCase *tc = harness_tcase("vm-disk", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_disk_raw_image_is_the_rootfs);
  tcase_add_test(tc, vm_disk_qcow2_image_is_the_rootfs);
  tcase_add_test(tc, vm_disk_own_kernel_mounts_an_ext4_image);
  tcase_add_test(tc, vm_disk_without_a_file_system_says_what_was_tried);
  tcase_add_test(tc, vm_disk_bad_images_refused_by_name);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_disk_suite)
