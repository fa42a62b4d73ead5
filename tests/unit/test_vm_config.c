/* test_vm_config.c — what VM a container asks for (runtime/vm/config.c):
 * vm_wanted, the defaults, the spec's `vm` object, annotations overriding
 * it, and each refusal as a one-line error naming the field or annotation
 * and the path.
 *
 * Kernels here are synthetic bzImages in a temporary directory; the
 * defaults test uses the host's /boot/vmlinuz-* and /dev/kvm (without
 * it, qemu from $PATH is the backend). Most tests name a
 * hypervisor (/bin/true) so that they do not depend on /dev/kvm. */
#include "runtime/vm/vm.h"
#include "runtime/vm/vmm/vmm.h"
#include "tests/suite.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HYPERVISOR "/bin/true"

static char tmpdir[64];
static char kernel[128], kernel2[128], initrd[128], text[128];

static void write_bytes(const char *path, const void *data, size_t len,
                        mode_t mode) {
  hull_error_t err = NULL;
  ck_assert_msg(write_file_atomic(path, data, len, mode, &err) == 0, "%s",
                err ? err->msg : "");
}

/* The smallest bzImage boot_parse_kernel accepts: boot sector, 4 setup
 * sectors with a 2.15 header and a 64-bit entry, a payload. */
static void write_fake_bzimage(const char *path) {
  size_t len = 5 * 512 + 4096;
  uint8_t *img = xzalloc(len);
  img[BP_SETUP_SECTS] = 4;
  img[BP_BOOT_FLAG] = 0x55;
  img[BP_BOOT_FLAG + 1] = 0xaa;
  memcpy(img + BP_HEADER, "HdrS", 4);
  img[BP_VERSION] = 0x0f;
  img[BP_VERSION + 1] = 0x02;
  img[BP_XLOADFLAGS] = 0x1;
  write_bytes(path, img, len, 0644);
  free(img);
}

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-vmcfg-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
  snprintf(kernel, sizeof kernel, "%s/vmlinuz", tmpdir);
  snprintf(kernel2, sizeof kernel2, "%s/vmlinuz-2", tmpdir);
  snprintf(initrd, sizeof initrd, "%s/initrd.img", tmpdir);
  snprintf(text, sizeof text, "%s/notes.txt", tmpdir);
  write_fake_bzimage(kernel);
  write_fake_bzimage(kernel2);
  write_bytes(initrd, "07070100", 8, 0644);
  write_bytes(text, "not a kernel, just some text that is long enough to "
              "have a header's worth of bytes ........................"
              "..........................................................."
              "..........................................................."
              "..........................................................."
              "..........................................................."
              "...........................................................",
              400, 0644);
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(tmpdir, &err);
  hull_error_release(&err);
}

static struct spec *parse(const char *json) {
  struct spec *spec = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(spec_parse(json, strlen(json), "config.json", &spec, &err) == 0,
                "%s", err ? err->msg : "");
  return spec;
}

/* A config.json with the given "vm" member (or none: NULL) and annotations
 * (the inside of the object). */
static struct spec *spec_with(const char *vm, const char *annotations) {
  cleanup_free char *json = xasprintf(
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"}%s%s%s"
      ",\"annotations\":{%s}}",
      vm ? ",\"vm\":" : "", vm ? vm : "", "", annotations ? annotations : "");
  return parse(json);
}

static void expect_error(struct spec *spec, const char *want) {
  struct vm_settings s;
  hull_error_t err = NULL;
  ck_assert_msg(vm_settings_from_spec(spec, &s, &err) < 0,
                "accepted; wanted an error with `%s`", want);
  ck_assert_ptr_nonnull(err);
  ck_assert_msg(strstr(err->msg, want) != NULL, "message `%s` lacks `%s`",
                err->msg, want);
  ck_assert_msg(strchr(err->msg, '\n') == NULL, "not one line: `%s`",
                err->msg);
  hull_error_release(&err);
  spec_free(spec);
}

static void get_settings(struct spec *spec, struct vm_settings *s) {
  hull_error_t err = NULL;
  ck_assert_msg(vm_settings_from_spec(spec, s, &err) == 0, "%s",
                err ? err->msg : "");
  spec_free(spec);
}

START_TEST(wanted) {
  struct spec *s = spec_with(NULL, NULL);
  ck_assert(!vm_wanted(s));
  spec_free(s);
  s = spec_with(NULL, "\"run.oci.handler\":\"krun\"");
  ck_assert(!vm_wanted(s));
  spec_free(s);
  s = spec_with(NULL, "\"run.oci.handler\":\"vm\"");
  ck_assert(vm_wanted(s));
  spec_free(s);
  cleanup_free char *vm = xasprintf("{\"kernel\":{\"path\":\"%s\"}}", kernel);
  s = spec_with(vm, NULL);
  ck_assert(vm_wanted(s));
  spec_free(s);
}
END_TEST

START_TEST(defaults) {
  /* The host's kernel is the default only without hull's own. */
  unsetenv("HULL_GUEST_KERNEL");
  if (access(HULL_GUEST_KERNEL_PATH, F_OK) == 0)
    SKIP_TEST("hull's own guest kernel is installed: " HULL_GUEST_KERNEL_PATH);
  glob_t g;
  if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
    SKIP_TEST("no /boot/vmlinuz-* (linux-image-amd64)");
  const char *newest = g.gl_pathv[0];
  for (size_t i = 1; i < g.gl_pathc; i++)
    if (strverscmp(g.gl_pathv[i], newest) > 0)
      newest = g.gl_pathv[i];
  struct spec *spec = spec_with(NULL, "\"run.oci.handler\":\"vm\"");
  /* The backend: the built-in VMM where /dev/kvm opens, else qemu. */
  int kvm;
  hull_error_t kerr = NULL;
  bool has_kvm = kvm_open(&kvm, &kerr) == 0;
  if (has_kvm)
    close(kvm);
  hull_error_release(&kerr);
  cleanup_free char *qemu = find_on_path("qemu-system-x86_64");
  if (!has_kvm && qemu == NULL) {
    expect_error(spec, "the built-in VMM needs /dev/kvm and there is no "
                       "qemu-system-x86_64 in $PATH");
    globfree(&g);
    return;
  }
  struct vm_settings s;
  get_settings(spec, &s);
  ck_assert_str_eq(s.kernel, newest);
  ck_assert_ptr_null(s.initrd);
  if (has_kvm)
    ck_assert_ptr_null(s.hypervisor);
  else
    ck_assert_str_eq(s.hypervisor, qemu);
  ck_assert_ptr_nonnull(s.kernel_params);
  ck_assert_ptr_null(s.kernel_params[0]);
  ck_assert_ptr_nonnull(s.hypervisor_params);
  ck_assert_ptr_null(s.hypervisor_params[0]);
  ck_assert_uint_eq(s.vcpus, 1);
  ck_assert_uint_eq(s.memory_bytes, 256ULL << 20);
  ck_assert_uint_eq(s.boot_timeout_ms, 30000);
  vm_settings_free(&s);
  globfree(&g);
}
END_TEST

/* Without /dev/kvm the default backend is qemu from $PATH: these hide it
 * so that a test can reach the built-in VMM's own checks (which come
 * before the /dev/kvm one). */
static char *hide_qemu(void) {
  char *old = xstrdup(getenv("PATH") ? getenv("PATH") : "");
  setenv("PATH", "/nonexistent", 1);
  return old;
}

static void restore_path(const char *old) { setenv("PATH", old, 1); }

/* No hypervisor named, no /dev/kvm and no qemu on $PATH: one line naming
 * both and how to name one. */
START_TEST(no_backend_is_one_line_error) {
  int kvm;
  hull_error_t kerr = NULL;
  if (kvm_open(&kvm, &kerr) == 0) {
    close(kvm);
    SKIP_TEST("/dev/kvm opens here: the built-in VMM is the backend");
  }
  hull_error_release(&kerr);
  cleanup_free char *old = hide_qemu();
  cleanup_free char *ann = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\"", kernel);
  expect_error(spec_with(NULL, ann),
               "VM mode: the built-in VMM needs /dev/kvm and there is no "
               "qemu-system-x86_64 in $PATH (name a hypervisor: "
               "vm.hypervisor.path or annotation run.oci.vm.hypervisor)");
  restore_path(old);
}
END_TEST

START_TEST(vm_object) {
  cleanup_free char *vm = xasprintf(
      "{\"hypervisor\":{\"path\":\"" HYPERVISOR "\",\"parameters\":[\"-M\","
      "\"pc\"]},\"kernel\":{\"path\":\"%s\",\"parameters\":[\"quiet\","
      "\"x=1\"],\"initrd\":\"%s\"},\"hwConfig\":{\"vcpus\":2,"
      "\"memory\":536870912}}",
      kernel, initrd);
  struct vm_settings s;
  get_settings(spec_with(vm, NULL), &s);
  ck_assert_str_eq(s.kernel, kernel);
  ck_assert_str_eq(s.initrd, initrd);
  ck_assert_str_eq(s.hypervisor, HYPERVISOR);
  ck_assert_str_eq(s.hypervisor_params[0], "-M");
  ck_assert_str_eq(s.hypervisor_params[1], "pc");
  ck_assert_ptr_null(s.hypervisor_params[2]);
  ck_assert_str_eq(s.kernel_params[0], "quiet");
  ck_assert_str_eq(s.kernel_params[1], "x=1");
  ck_assert_ptr_null(s.kernel_params[2]);
  ck_assert_uint_eq(s.vcpus, 2);
  ck_assert_uint_eq(s.memory_bytes, 512ULL << 20);
  ck_assert_uint_eq(s.boot_timeout_ms, 30000);
  vm_settings_free(&s);
}
END_TEST

START_TEST(annotations_override) {
  cleanup_free char *vm = xasprintf(
      "{\"hypervisor\":{\"path\":\"/nonexistent/qemu\"},\"kernel\":{\"path\":"
      "\"%s\",\"parameters\":[\"quiet\"]},\"hwConfig\":{\"vcpus\":2,"
      "\"memory\":536870912}}",
      kernel);
  cleanup_free char *ann = xasprintf(
      "\"run.oci.vm.kernel\":\"%s\",\"run.oci.vm.initrd\":\"%s\","
      "\"run.oci.vm.kernel_params\":\" a=1  b \",\"run.oci.vm.vcpus\":\"4\","
      "\"run.oci.vm.memory\":\"1024\",\"run.oci.vm.hypervisor\":\""
      HYPERVISOR "\",\"run.oci.vm.timeout\":\"5\"",
      kernel2, initrd);
  struct vm_settings s;
  get_settings(spec_with(vm, ann), &s);
  ck_assert_str_eq(s.kernel, kernel2);
  ck_assert_str_eq(s.initrd, initrd);
  ck_assert_str_eq(s.hypervisor, HYPERVISOR);
  ck_assert_str_eq(s.kernel_params[0], "a=1");
  ck_assert_str_eq(s.kernel_params[1], "b");
  ck_assert_ptr_null(s.kernel_params[2]);
  ck_assert_uint_eq(s.vcpus, 4);
  ck_assert_uint_eq(s.memory_bytes, 1024ULL << 20);
  ck_assert_uint_eq(s.boot_timeout_ms, 5000);
  vm_settings_free(&s);
}
END_TEST

/* The handler annotation with the kernel and hypervisor named, plus more. */
static struct spec *ann_spec(const char *more) {
  cleanup_free char *ann = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\","
      "\"run.oci.vm.hypervisor\":\"" HYPERVISOR "\"%s%s",
      kernel, more ? "," : "", more ? more : "");
  return spec_with(NULL, ann);
}

/* hull's own kernel, named by $HULL_GUEST_KERNEL, comes before /boot's;
 * a spec's or annotation's kernel before either. */
START_TEST(own_kernel_is_the_default) {
  setenv("HULL_GUEST_KERNEL", kernel2, 1);
  struct vm_settings s;
  get_settings(spec_with(NULL, "\"run.oci.handler\":\"vm\","
                         "\"run.oci.vm.hypervisor\":\"" HYPERVISOR "\""),
               &s);
  ck_assert_str_eq(s.kernel, kernel2);
  vm_settings_free(&s);
  cleanup_free char *vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\""
      HYPERVISOR "\"}}", kernel);
  get_settings(spec_with(vm, NULL), &s);
  ck_assert_str_eq(s.kernel, kernel);
  vm_settings_free(&s);

  /* Set, it must be a kernel: no silent fallback to another. */
  setenv("HULL_GUEST_KERNEL", text, 1);
  cleanup_free char *want = xasprintf(
      "VM mode: $HULL_GUEST_KERNEL: `%s` is not a kernel image", text);
  expect_error(spec_with(NULL, "\"run.oci.handler\":\"vm\","
                         "\"run.oci.vm.hypervisor\":\"" HYPERVISOR "\""), want);
  unsetenv("HULL_GUEST_KERNEL");
}
END_TEST

/* A vm object with the fake kernel and a hypervisor, plus more members. */
static struct spec *vm_spec(const char *more) {
  cleanup_free char *vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\"" HYPERVISOR
      "\"}%s%s}",
      kernel, more ? "," : "", more ? more : "");
  return spec_with(vm, NULL);
}

START_TEST(kernel_errors) {
  cleanup_free char *want = xasprintf(
      "config.json: .vm.kernel.path: `%s` is not a kernel image (no bzImage "
      "or ELF header)", text);
  cleanup_free char *vm = xasprintf("{\"kernel\":{\"path\":\"%s\"}}", text);
  expect_error(spec_with(vm, NULL), want);

  cleanup_free char *missing = xasprintf("%s/nope", tmpdir);
  cleanup_free char *vm2 = xasprintf("{\"kernel\":{\"path\":\"%s\"}}", missing);
  cleanup_free char *want2 = xasprintf(
      "config.json: .vm.kernel.path: open `%s`: No such file or directory",
      missing);
  expect_error(spec_with(vm2, NULL), want2);

  cleanup_free char *ann = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\"", text);
  cleanup_free char *want3 = xasprintf(
      "annotation run.oci.vm.kernel: `%s` is not a kernel image", text);
  expect_error(spec_with(NULL, ann), want3);

  expect_error(spec_with("{\"kernel\":{\"path\":\"boot/vmlinuz\"}}", NULL),
               "config.json: .vm.kernel.path: `boot/vmlinuz` is not an "
               "absolute path");
}
END_TEST

START_TEST(initrd_and_hypervisor_errors) {
  cleanup_free char *missing = xasprintf("%s/initrd-nope", tmpdir);
  cleanup_free char *more = xasprintf("\"run.oci.vm.initrd\":\"%s\"", missing);
  cleanup_free char *want = xasprintf(
      "annotation run.oci.vm.initrd: open `%s`: No such file or directory",
      missing);
  expect_error(ann_spec(more), want);

  cleanup_free char *vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\",\"initrd\":\"%s\"}}", kernel, missing);
  expect_error(spec_with(vm, NULL), "config.json: .vm.kernel.initrd: open `");

  cleanup_free char *vm2 = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\"%s\"}}",
      kernel, text);
  cleanup_free char *want2 = xasprintf(
      "config.json: .vm.hypervisor.path: `%s` is not an executable file",
      text);
  expect_error(spec_with(vm2, NULL), want2);

  cleanup_free char *ann = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\","
      "\"run.oci.vm.hypervisor\":\"%s\"", kernel, tmpdir);
  expect_error(spec_with(NULL, ann), "annotation run.oci.vm.hypervisor: `");
}
END_TEST

START_TEST(number_errors) {
  expect_error(ann_spec("\"run.oci.vm.vcpus\":\"x\""),
               "annotation run.oci.vm.vcpus: \"x\" is not a number");
  expect_error(ann_spec("\"run.oci.vm.vcpus\":\"-1\""),
               "annotation run.oci.vm.vcpus: \"-1\" is not a number");
  expect_error(ann_spec("\"run.oci.vm.memory\":\"512M\""),
               "annotation run.oci.vm.memory: \"512M\" is not a number");
  expect_error(ann_spec("\"run.oci.vm.timeout\":\"\""),
               "annotation run.oci.vm.timeout: \"\" is not a number");
  expect_error(ann_spec("\"run.oci.vm.vcpus\":\"0\""),
               "annotation run.oci.vm.vcpus: 0 vCPUs: must be 1 to 64");
  expect_error(ann_spec("\"run.oci.vm.vcpus\":\"65\""),
               "annotation run.oci.vm.vcpus: 65 vCPUs: must be 1 to 64");
  expect_error(vm_spec("\"hwConfig\":{\"vcpus\":0}"),
               "config.json: .vm.hwConfig.vcpus: 0 vCPUs");
  expect_error(ann_spec("\"run.oci.vm.memory\":\"32\""),
               "annotation run.oci.vm.memory: 32 MiB is less than the 64 MiB");
  expect_error(vm_spec("\"hwConfig\":{\"memory\":1048576}"),
               "config.json: .vm.hwConfig.memory: 1048576 bytes is less than "
               "the 64 MiB");
  expect_error(ann_spec("\"run.oci.vm.timeout\":\"0\""),
               "annotation run.oci.vm.timeout: 0 seconds: must be 1 to");
  expect_error(ann_spec("\"run.oci.vm.memroy\":\"512\""),
               "annotation run.oci.vm.memroy: unknown");
}
END_TEST

/* The built-in VMM's limits apply only when no hypervisor is named. */
START_TEST(builtin_limits) {
  cleanup_free char *path = hide_qemu();
  cleanup_free char *ann = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\","
      "\"run.oci.vm.memory\":\"4096\"", kernel);
  expect_error(spec_with(NULL, ann), "annotation run.oci.vm.memory: 4096 MiB "
               "is more than the built-in VMM's 3072 MiB");
  cleanup_free char *vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hwConfig\":{\"memory\":4294967296}}",
      kernel);
  expect_error(spec_with(vm, NULL), "config.json: .vm.hwConfig.memory: "
               "4294967296 bytes is more than the built-in VMM's");
  struct vm_settings s;
  get_settings(ann_spec("\"run.oci.vm.memory\":\"4096\""), &s);
  ck_assert_uint_eq(s.memory_bytes, 4096ULL << 20);
  vm_settings_free(&s);
  /* vCPUs: as many as its MP table holds. */
  cleanup_free char *many = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\","
      "\"run.oci.vm.vcpus\":\"33\"", kernel);
  expect_error(spec_with(NULL, many), "annotation run.oci.vm.vcpus: 33 vCPUs: "
               "the built-in VMM runs at most 32 (name a hypervisor for more)");
  cleanup_free char *two = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hwConfig\":{\"vcpus\":2}}", kernel);
  struct vm_settings s2;
  hull_error_t err = NULL;
  struct spec *spec = spec_with(two, NULL);
  if (vm_settings_from_spec(spec, &s2, &err) == 0) {
    ck_assert_uint_eq(s2.vcpus, 2);
    vm_settings_free(&s2);
  } else { /* only for want of /dev/kvm, not for the vCPUs */
    ck_assert_msg(strstr(err->msg, "/dev/kvm") != NULL, "%s", err->msg);
    hull_error_release(&err);
  }
  spec_free(spec);
  restore_path(path);
}
END_TEST

/* A container limited to limit_mib of memory, run by a named hypervisor. */
static struct spec *limited_spec(unsigned limit_mib, const char *more) {
  cleanup_free char *json = xasprintf(
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
      "\"linux\":{\"resources\":{\"memory\":{\"limit\":%llu}}},"
      "\"annotations\":{\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":"
      "\"%s\",\"run.oci.vm.hypervisor\":\"" HYPERVISOR "\"%s%s}}",
      (unsigned long long)limit_mib << 20, kernel, more ? "," : "",
      more ? more : "");
  return parse(json);
}

/* The hypervisor lives in the container's cgroup: without a size of the
 * user's the guest gets what the limit leaves (whole huge pages), a chosen
 * size that cannot fit is refused. */
START_TEST(memory_fits_the_cgroup_limit) {
  struct vm_settings s;
  get_settings(limited_spec(1024, NULL), &s);
  ck_assert_uint_eq(s.memory_bytes, (1024ULL - 64) << 20);
  vm_settings_free(&s);
  get_settings(limited_spec(8193, NULL), &s);
  ck_assert_uint_eq(s.memory_bytes, (8192ULL - 64) << 20);
  vm_settings_free(&s);
  get_settings(limited_spec(200, NULL), &s);
  ck_assert_uint_eq(s.memory_bytes, (200ULL - 64) << 20);
  vm_settings_free(&s);
  get_settings(limited_spec(2048, "\"run.oci.vm.memory\":\"300\""), &s);
  ck_assert_uint_eq(s.memory_bytes, 300ULL << 20);
  vm_settings_free(&s);
  expect_error(limited_spec(100, NULL),
               "config.json: .linux.resources.memory.limit: 100 MiB cannot "
               "hold the VM's 256 MiB and its hypervisor's ~64 MiB (raise it)");
  expect_error(limited_spec(300, "\"run.oci.vm.memory\":\"256\""),
               "300 MiB cannot hold the VM's 256 MiB and its hypervisor's ~64 "
               "MiB (raise it or lower annotation run.oci.vm.memory)");
}
END_TEST

/* The balloon: on under qemu, none with the built-in VMM;
 * run.oci.vm.balloon says otherwise, as true or false. */
START_TEST(balloon_setting) {
  struct vm_settings s;
  get_settings(ann_spec(NULL), &s);
  ck_assert(s.balloon);
  vm_settings_free(&s);
  get_settings(ann_spec("\"run.oci.vm.balloon\":\"true\""), &s);
  ck_assert(s.balloon);
  vm_settings_free(&s);
  get_settings(ann_spec("\"run.oci.vm.balloon\":\"false\""), &s);
  ck_assert(!s.balloon);
  vm_settings_free(&s);
  expect_error(ann_spec("\"run.oci.vm.balloon\":\"on\""),
               "annotation run.oci.vm.balloon: \"on\" is not true or false");
  cleanup_free char *builtin = xasprintf(
      "\"run.oci.handler\":\"vm\",\"run.oci.vm.kernel\":\"%s\","
      "\"run.oci.vm.balloon\":\"true\"", kernel);
  cleanup_free char *path = hide_qemu();
  expect_error(spec_with(NULL, builtin), "annotation run.oci.vm.balloon: the "
               "built-in VMM has no balloon (name a hypervisor)");
  restore_path(path);
}
END_TEST

/* run.oci.vm.memory_backing: thp where the host has it, hugetlb only with
 * enough free huge pages for the whole guest, nothing else. */
START_TEST(memory_backing_setting) {
  struct vm_settings s;
  get_settings(ann_spec(NULL), &s);
  ck_assert_int_eq(s.memory_backing, VM_BACKING_DEFAULT);
  vm_settings_free(&s);
  expect_error(ann_spec("\"run.oci.vm.memory_backing\":\"THP\""),
               "annotation run.oci.vm.memory_backing: \"THP\" is not thp or "
               "hugetlb");
  char *thp = NULL;
  hull_error_t err = NULL;
  if (read_file("/sys/kernel/mm/transparent_hugepage/enabled", &thp, NULL,
                &err) < 0)
    hull_error_release(&err);
  if (thp != NULL && strstr(thp, "[never]") == NULL) {
    get_settings(ann_spec("\"run.oci.vm.memory_backing\":\"thp\""), &s);
    ck_assert_int_eq(s.memory_backing, VM_BACKING_THP);
    vm_settings_free(&s);
  } else {
    expect_error(ann_spec("\"run.oci.vm.memory_backing\":\"thp\""),
                 "annotation run.oci.vm.memory_backing: thp: the host");
  }
  free(thp);
  /* 1 TiB: more huge pages than any test host has free */
  expect_error(ann_spec("\"run.oci.vm.memory\":\"1048576\","
                        "\"run.oci.vm.memory_backing\":\"hugetlb\""),
               "annotation run.oci.vm.memory_backing: hugetlb: the VM's "
               "1048576 MiB needs");
  expect_error(ann_spec("\"run.oci.vm.memory\":\"255\","
                        "\"run.oci.vm.memory_backing\":\"hugetlb\""),
               "hugetlb: the VM's 255 MiB is not a multiple of the");
}
END_TEST

/* run.oci.vm.rootfs: virtio-9p under qemu by default (measured the faster
 * under TCG), virtio-fs when asked and a virtiofsd is there (hull as
 * root), and not with memory_backing=thp where shmem has no THP; vm.image
 * with its format as qemu names it. */
static char *hread_text(const char *path) {
  char *text_out = NULL;
  hull_error_t err = NULL;
  if (read_file(path, &text_out, NULL, &err) < 0)
    hull_error_release(&err);
  return text_out;
}

START_TEST(share_and_image_settings) {
  struct vm_settings s;
  get_settings(ann_spec(NULL), &s);
  ck_assert(!s.files_copied);
  ck_assert_int_eq(s.share, VM_SHARE_9P);
  ck_assert_ptr_null(s.image);
  vm_settings_free(&s);
  cleanup_free char *virtiofsd = vm_virtiofsd_find();
  if (virtiofsd != NULL && geteuid() == 0) {
    get_settings(ann_spec("\"run.oci.vm.rootfs\":\"virtio-fs\""), &s);
    ck_assert_int_eq(s.share, VM_SHARE_VIRTIOFS);
    ck_assert_str_eq(s.virtiofsd, virtiofsd);
    if (strcmp(virtiofsd, "/usr/lib/qemu/virtiofsd") == 0)
      ck_assert(s.virtiofsd_qemus); /* qemu 7.2's, in C */
    vm_settings_free(&s);
  }
  cleanup_free char *shmem =
      hread_text("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
  cleanup_free char *thp =
      hread_text("/sys/kernel/mm/transparent_hugepage/enabled");
  if (virtiofsd != NULL && geteuid() == 0 && shmem && thp &&
      strstr(thp, "[never]") == NULL && strstr(shmem, "[never]") != NULL)
    expect_error(ann_spec("\"run.oci.vm.rootfs\":\"virtio-fs\","
                          "\"run.oci.vm.memory_backing\":\"thp\""),
                 "annotation run.oci.vm.rootfs: virtio-fs: the guest's memory "
                 "must be shared (a memfd), whose transparent huge pages are "
                 "off here");
  expect_error(ann_spec("\"run.oci.vm.rootfs\":\"9p\""),
               "annotation run.oci.vm.rootfs: `9p`: expected virtio-fs, "
               "virtio-9p or initramfs");
  cleanup_free char *vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\""
      HYPERVISOR "\"},\"image\":{\"path\":\"%s\",\"format\":\"vhd\"}}",
      kernel, kernel);
  get_settings(spec_with(vm, NULL), &s);
  ck_assert_str_eq(s.image, kernel);
  ck_assert_str_eq(s.image_format, "vpc");
  vm_settings_free(&s);
  free(take_ptr(vm));
  vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\""
      HYPERVISOR "\"},\"image\":{\"path\":\"img\",\"format\":\"raw\"}}",
      kernel);
  expect_error(spec_with(vm, NULL),
               "config.json: .vm.image.path: `img` is not an absolute path");
  free(take_ptr(vm));
  vm = xasprintf(
      "{\"kernel\":{\"path\":\"%s\"},\"hypervisor\":{\"path\":\""
      HYPERVISOR "\"},\"image\":{\"path\":\"%s\",\"format\":\"raw\"}}",
      kernel, tmpdir);
  cleanup_free char *not_file = xasprintf(
      "config.json: .vm.image.path: `%s` is not a file or a block device",
      tmpdir);
  expect_error(spec_with(vm, NULL), not_file);
}
END_TEST

START_TEST(unsupported_parts) {
  expect_error(vm_spec("\"image\":{\"path\":\"/i.qcow2\",\"format\":\"qcow2\"}"),
               "config.json: .vm.image.path: `/i.qcow2`: No such file or "
               "directory");
  expect_error(vm_spec("\"hwConfig\":{\"deviceTree\":\"/dt.dtb\"}"),
               "config.json: .vm.hwConfig.deviceTree: not supported");
  expect_error(vm_spec("\"hwConfig\":{\"dtdevs\":[\"/soc/x\"]}"),
               "config.json: .vm.hwConfig.dtdevs: not supported");
  expect_error(
      vm_spec("\"hwConfig\":{\"iomems\":[{\"firstMFN\":1,\"nrMFNs\":2}]}"),
      "config.json: .vm.hwConfig.iomems: not supported");
  expect_error(vm_spec("\"hwConfig\":{\"irqs\":[5]}"),
               "config.json: .vm.hwConfig.irqs: not supported");
}
END_TEST

static Suite *vm_config_suite(void) {
  Suite *s = suite_create("vm-config");
  TCase *tc = tcase_create("settings");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, wanted);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, no_backend_is_one_line_error);
  tcase_add_test(tc, vm_object);
  tcase_add_test(tc, annotations_override);
  tcase_add_test(tc, kernel_errors);
  tcase_add_test(tc, own_kernel_is_the_default);
  tcase_add_test(tc, initrd_and_hypervisor_errors);
  tcase_add_test(tc, number_errors);
  tcase_add_test(tc, builtin_limits);
  tcase_add_test(tc, share_and_image_settings);
  tcase_add_test(tc, unsupported_parts);
  tcase_add_test(tc, memory_fits_the_cgroup_limit);
  tcase_add_test(tc, balloon_setting);
  tcase_add_test(tc, memory_backing_setting);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_config_suite)
