/* config.c — what VM a container asks for: the spec's `vm` object
 * (config-vm.md) and the run.oci.handler=vm / run.oci.vm.* annotations,
 * which override it (an engine can pass annotations, not a `vm` object).
 *
 * Everything is checked here, before anything starts, so a bad setting is
 * one line naming the field or annotation and the path at fault. */
#include "runtime/vm/vm.h"
#include "runtime/vm/vmm/vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_KERNEL_GLOB "/boot/vmlinuz-*"
#define DEFAULT_VCPUS 1
#define DEFAULT_MEMORY_MIB 256
#define DEFAULT_BOOT_TIMEOUT_S 30
#define DEFAULT_QEMU "qemu-system-x86_64"
#define MAX_BOOT_TIMEOUT_S 3600
#define MIN_MEMORY_MIB 64
/* A size derived from the container's limit is rounded down to this, the
 * huge page size, so that any backing can hold it. */
#define MEMORY_ALIGN_MIB 2
/* What a hypervisor adds to its guest's memory in the host cgroup (qemu's
 * own RSS is ~40 MiB under TCG; hull's VMM ~2 MiB). */
#define QEMU_OVERHEAD_MIB 64
#define BUILTIN_OVERHEAD_MIB 16
#define MAX_VCPUS 64
/* The built-in VMM's limits (vmm.h): RAM below the PCI hole, the vCPUs
 * its MP table describes. */
#define BUILTIN_MAX_MEMORY_MIB 3072
#define BUILTIN_MAX_VCPUS VM_MAX_VCPUS

#define SPEC_AT "config.json: .vm."
#define ANNOTATION_AT "annotation " VM_ANNOTATION_PREFIX

/* The annotations we know, without the prefix. */
static const char *const known_annotations[] = {
    "kernel", "initrd", "kernel_params", "vcpus", "memory", "hypervisor",
    "timeout", "rootfs", "balloon", "memory_backing", NULL};

bool vm_wanted(const struct spec *spec) {
  if (spec->vm != NULL)
    return true;
  const char *handler = spec_map_get(&spec->annotations, VM_HANDLER_ANNOTATION);
  return handler != NULL && strcmp(handler, VM_HANDLER_NAME) == 0;
}

void vm_settings_free(struct vm_settings *s) {
  free(s->kernel);
  free(s->initrd);
  strv_free(s->kernel_params);
  free(s->hypervisor);
  strv_free(s->hypervisor_params);
  free(s->virtiofsd);
  free(s->image);
  memset(s, 0, sizeof *s);
}

/* ---- where each setting comes from ------------------------------------- */

/* A setting's value and the name errors give it: "config.json: .vm.x" or
 * "annotation run.oci.vm.x". */
struct setting {
  const char *label;
  const char *text;       /* paths, and numbers from annotations */
  uint64_t number;        /* numbers from the spec */
  bool from_annotation;
};

static const char *annotation(const struct spec *spec, const char *name) {
  cleanup_free char *key = xasprintf(VM_ANNOTATION_PREFIX "%s", name);
  return spec_map_get(&spec->annotations, key);
}

/* A path: the annotation if present, else the spec's value (may be NULL). */
static struct setting path_setting(const struct spec *spec, const char *name,
                                   const char *spec_label,
                                   const char *spec_value) {
  const char *a = annotation(spec, name);
  if (a != NULL)
    return (struct setting){.label = NULL, .text = a, .from_annotation = true};
  return (struct setting){.label = spec_label, .text = spec_value};
}

/* Errors name annotations by their full key; labels of annotations are
 * built on demand since they depend on the name. */
static const char *label_of(const struct setting *s, const char *name,
                            char *buf, size_t size) {
  if (!s->from_annotation)
    return s->label;
  snprintf(buf, size, ANNOTATION_AT "%s", name);
  return buf;
}

/* Digits only: no sign, no blanks, no suffix, no overflow. */
static int parse_number(const char *label, const char *text, uint64_t *out,
                        hull_error_t *err) {
  char *end;
  if (text[0] < '0' || text[0] > '9')
    return hull_error(err, 0, "%s: \"%s\" is not a number", label, text);
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (*end != '\0')
    return hull_error(err, 0, "%s: \"%s\" is not a number", label, text);
  if (errno == ERANGE)
    return hull_error(err, 0, "%s: \"%s\" is too large", label, text);
  *out = v;
  return 0;
}

/* A number: the annotation (parsed) if present, else the spec's value if
 * set; *found false when neither. */
static int number_setting(const struct spec *spec, const char *name,
                          const char *spec_label, const struct spec_uint *v,
                          uint64_t *out, const char **label, bool *found,
                          char *buf, size_t size, hull_error_t *err) {
  const char *a = annotation(spec, name);
  *found = true;
  if (a != NULL) {
    snprintf(buf, size, ANNOTATION_AT "%s", name);
    *label = buf;
    return parse_number(buf, a, out, err);
  }
  *label = spec_label;
  if (v != NULL && v->set) {
    *out = v->v;
    return 0;
  }
  *found = false;
  return 0;
}

/* ---- refusals ------------------------------------------------------------ */

static int refuse_unsupported(const struct spec_vm *vm, hull_error_t *err) {
  if (vm == NULL)
    return 0;
  if (vm->hw_config.device_tree != NULL)
    return hull_error(err, 0, SPEC_AT "hwConfig.deviceTree: not supported: "
                      "hull's guests are x86-64 PCs, described without a "
                      "device tree");
  const char *passthrough = vm->hw_config.dtdevs != NULL ? "dtdevs"
                            : vm->hw_config.n_iomems > 0 ? "iomems"
                            : vm->hw_config.n_irqs > 0   ? "irqs"
                                                         : NULL;
  if (passthrough != NULL)
    return hull_error(err, 0, SPEC_AT "hwConfig.%s: not supported: hull "
                      "passes no host hardware through to the guest",
                      passthrough);
  return 0;
}

/* ---- files ------------------------------------------------------------- */

static int check_absolute(const char *label, const char *path,
                          hull_error_t *err) {
  if (path[0] != '/')
    return hull_error(err, 0, "%s: `%s` is not an absolute path", label,
                      path);
  return 0;
}

/* The newest /boot/vmlinuz-* by version order (what Debian's
 * linux-image-amd64 installs), or NULL. */
static char *newest_boot_kernel(void) {
  glob_t g;
  int r = glob(DEFAULT_KERNEL_GLOB, 0, NULL, &g);
  if (r != 0) {
    if (r != GLOB_NOMATCH)
      globfree(&g);
    return NULL;
  }
  const char *best = g.gl_pathv[0];
  for (size_t i = 1; i < g.gl_pathc; i++)
    if (strverscmp(g.gl_pathv[i], best) > 0)
      best = g.gl_pathv[i];
  char *path = xstrdup(best);
  globfree(&g);
  return path;
}

/* The kernel a spec that names none gets, and the label its errors carry:
 * hull's own ($HULL_GUEST_KERNEL when set, which must then be a kernel;
 * else the installed one if it is there), then the host's newest
 * /boot/vmlinuz-*; an error saying how to name one when there is none. */
static int default_kernel(char **out, const char **label, hull_error_t *err) {
  const char *env = getenv(GUEST_KERNEL_ENV);
  if (env != NULL && env[0] != '\0') {
    *out = xstrdup(env);
    *label = "VM mode: $" GUEST_KERNEL_ENV;
    return 0;
  }
  *label = "VM mode: default kernel";
  if (access(HULL_GUEST_KERNEL_PATH, F_OK) == 0) {
    *out = xstrdup(HULL_GUEST_KERNEL_PATH);
    return 0;
  }
  *out = newest_boot_kernel();
  if (*out == NULL)
    return hull_error(err, 0, "VM mode: no guest kernel: neither hull's own "
                      "(`" HULL_GUEST_KERNEL_PATH "`: make guest-kernel "
                      "install) nor anything matching `" DEFAULT_KERNEL_GLOB
                      "` (set vm.kernel.path or annotation "
                      VM_ANNOTATION_PREFIX "kernel)");
  return 0;
}

static bool has_kernel_magic(const uint8_t *data, size_t len) {
  static const uint8_t hdrs[4] = {'H', 'd', 'r', 'S'};
  bool bz = len >= BP_HEADER + 4 && memcmp(data + BP_HEADER, hdrs, 4) == 0;
  bool elf = len >= 4 && memcmp(data, "\177ELF", 4) == 0;
  return bz || elf;
}

/* Opens an absolute path for reading (the error names label and path). */
static int open_absolute(const char *label, const char *path, int *fd,
                         struct stat *st, hull_error_t *err) {
  if (check_absolute(label, path, err) < 0)
    return -1;
  *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (*fd < 0)
    return hull_error(err, errno, "%s: open `%s`", label, path);
  if (fstat(*fd, st) < 0)
    return hull_error(err, errno, "%s: stat `%s`", label, path);
  return 0;
}

/* A kernel image hull can boot. The file is mapped, not read: parsing
 * touches its headers only, a page or two of an ~8 MB image. */
static int check_kernel(const char *label, const char *path,
                        hull_error_t *err) {
  cleanup_close int fd = -1;
  struct stat st;
  if (open_absolute(label, path, &fd, &st, err) < 0)
    return -1;
  if (!S_ISREG(st.st_mode) || st.st_size < BP_HEADER + 4)
    return hull_error(err, 0, "%s: `%s` is not a kernel image (no bzImage or "
                      "ELF header)", label, path);
  size_t len = (size_t)st.st_size;
  uint8_t *data = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED)
    return hull_error(err, errno, "%s: mmap `%s`", label, path);
  int r = 0;
  struct kernel_image img;
  if (!has_kernel_magic(data, len))
    r = hull_error(err, 0, "%s: `%s` is not a kernel image (no bzImage or "
                   "ELF header)", label, path);
  else if (boot_parse_kernel(data, len, path, &img, err) < 0)
    r = hull_error_wrap(err, "%s", label);
  munmap(data, len);
  return r;
}

static int check_initrd(const char *label, const char *path,
                        hull_error_t *err) {
  cleanup_close int fd = -1;
  struct stat st;
  if (open_absolute(label, path, &fd, &st, err) < 0)
    return -1;
  if (!S_ISREG(st.st_mode))
    return hull_error(err, 0, "%s: `%s` is not a regular file", label, path);
  return 0;
}

static int check_hypervisor(const char *label, const char *path,
                            hull_error_t *err) {
  if (check_absolute(label, path, err) < 0)
    return -1;
  struct stat st;
  if (stat(path, &st) < 0)
    return hull_error(err, errno, "%s: `%s`", label, path);
  if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0)
    return hull_error(err, 0, "%s: `%s` is not an executable file", label,
                      path);
  return 0;
}

/* None named: the built-in VMM where /dev/kvm opens, else qemu from $PATH
 * (a host without /dev/kvm still runs VM containers, under TCG). The
 * choice comes first: the limits that follow depend on the backend. With
 * neither, the built-in VMM's limits are checked and then check_kvm says
 * what is missing. */
static void default_backend(struct vm_settings *out) {
  int fd;
  hull_error_t kvm_err = NULL;
  if (kvm_open(&fd, &kvm_err) == 0) {
    close(fd);
    return;
  }
  hull_error_release(&kvm_err);
  out->hypervisor = find_on_path(DEFAULT_QEMU);
}

static int check_kvm(hull_error_t *err) {
  int fd;
  if (kvm_open(&fd, err) < 0)
    return hull_error_wrap(err, "VM mode: the built-in VMM needs /dev/kvm and "
                           "there is no " DEFAULT_QEMU " in $PATH (name a "
                           "hypervisor: vm.hypervisor.path or annotation "
                           VM_ANNOTATION_PREFIX "hypervisor)");
  close(fd);
  return 0;
}

/* ---- the pieces ---------------------------------------------------------- */

static int resolve_paths(const struct spec *spec, struct vm_settings *out,
                         hull_error_t *err) {
  const struct spec_vm *vm = spec->vm;
  char buf[128];

  struct setting k = path_setting(spec, "kernel", SPEC_AT "kernel.path",
                                  vm ? vm->kernel.path : NULL);
  const char *klabel;
  if (k.text != NULL) {
    out->kernel = xstrdup(k.text);
    klabel = label_of(&k, "kernel", buf, sizeof buf);
  } else if (default_kernel(&out->kernel, &klabel, err) < 0) {
    return -1;
  }
  if (check_kernel(klabel, out->kernel, err) < 0)
    return -1;

  struct setting i = path_setting(spec, "initrd", SPEC_AT "kernel.initrd",
                                  vm ? vm->kernel.initrd : NULL);
  if (i.text != NULL) {
    out->initrd = xstrdup(i.text);
    if (check_initrd(label_of(&i, "initrd", buf, sizeof buf), out->initrd,
                     err) < 0)
      return -1;
  }

  struct setting h = path_setting(spec, "hypervisor", SPEC_AT "hypervisor.path",
                                  vm ? vm->hypervisor.path : NULL);
  if (h.text != NULL) {
    out->hypervisor = xstrdup(h.text);
    if (check_hypervisor(label_of(&h, "hypervisor", buf, sizeof buf),
                         out->hypervisor, err) < 0)
      return -1;
  }
  if (h.text == NULL)
    default_backend(out);
  return 0;
}

/* Splits an annotation's space-separated parameters. */
static char **split_words(const char *text) {
  size_t n = 0;
  char **v = xzalloc(sizeof(char *));
  for (const char *p = text; *p;) {
    while (*p == ' ' || *p == '\t' || *p == '\n')
      p++;
    size_t len = strcspn(p, " \t\n");
    if (len == 0)
      break;
    v = xrealloc(v, (n + 2) * sizeof(char *));
    v[n++] = xstrndup(p, len);
    v[n] = NULL;
    p += len;
  }
  return v;
}

static void resolve_params(const struct spec *spec, struct vm_settings *out) {
  const struct spec_vm *vm = spec->vm;
  const char *a = annotation(spec, "kernel_params");
  if (a != NULL)
    out->kernel_params = split_words(a);
  else if (vm != NULL && vm->kernel.parameters != NULL)
    out->kernel_params = strv_dup(vm->kernel.parameters);
  else
    out->kernel_params = xzalloc(sizeof(char *));
  if (vm != NULL && vm->hypervisor.parameters != NULL)
    out->hypervisor_params = strv_dup(vm->hypervisor.parameters);
  else
    out->hypervisor_params = xzalloc(sizeof(char *));
}

static int resolve_vcpus(const struct spec *spec, struct vm_settings *out,
                         hull_error_t *err) {
  char buf[128];
  const char *label;
  bool found;
  uint64_t v = DEFAULT_VCPUS;
  if (number_setting(spec, "vcpus", SPEC_AT "hwConfig.vcpus",
                     spec->vm ? &spec->vm->hw_config.vcpus : NULL, &v, &label,
                     &found, buf, sizeof buf, err) < 0)
    return -1;
  if (!found)
    v = DEFAULT_VCPUS;
  if (v == 0 || v > MAX_VCPUS)
    return hull_error(err, 0, "%s: %llu vCPUs: must be 1 to %d", label,
                      (unsigned long long)v, MAX_VCPUS);
  if (out->hypervisor == NULL && v > BUILTIN_MAX_VCPUS)
    return hull_error(err, 0, "%s: %llu vCPUs: the built-in VMM runs at "
                      "most %d (name a hypervisor for more)", label,
                      (unsigned long long)v, BUILTIN_MAX_VCPUS);
  out->vcpus = (unsigned)v;
  return 0;
}

/* The hypervisor lives in the container's cgroup, so the spec's memory
 * limit must hold the guest's memory and the hypervisor's own. Without a
 * size of the user's, the guest gets what the limit leaves: the container
 * may use its limit, as a process container may (the guest's pages are
 * taken only as it touches them, and the balloon gives freed ones back).
 * A size the user chose that cannot fit is an error (the VM would be
 * OOM-killed on the host as the guest touches its memory). */
static int fit_memory_limit(const struct spec *spec, bool chosen,
                            const char *label, struct vm_settings *out,
                            hull_error_t *err) {
  const struct spec_resources *r = spec->linux ? spec->linux->resources : NULL;
  if (r == NULL || !r->memory.limit.set || r->memory.limit.v <= 0)
    return 0;
  uint64_t limit_mib = (uint64_t)r->memory.limit.v >> 20;
  uint64_t overhead = out->hypervisor ? QEMU_OVERHEAD_MIB : BUILTIN_OVERHEAD_MIB;
  uint64_t room = limit_mib > overhead ? limit_mib - overhead : 0;
  uint64_t mib = out->memory_bytes >> 20;
  if (!chosen && room >= MIN_MEMORY_MIB) {
    out->memory_bytes = (room / MEMORY_ALIGN_MIB * MEMORY_ALIGN_MIB) << 20;
    return 0;
  }
  if (mib <= room)
    return 0;
  return hull_error(err, 0, "config.json: .linux.resources.memory.limit: "
                    "%llu MiB cannot hold the VM's %llu MiB and its "
                    "hypervisor's ~%llu MiB (raise it%s%s)",
                    (unsigned long long)limit_mib, (unsigned long long)mib,
                    (unsigned long long)overhead, chosen ? " or lower " : "",
                    chosen ? label : "");
}

/* The spec gives bytes, the annotation MiB; the VMMs take whole MiB, so
 * bytes are rounded down to one. */
static int resolve_memory(const struct spec *spec, struct vm_settings *out,
                          hull_error_t *err) {
  char buf[128];
  const char *label;
  bool found;
  uint64_t v = 0;
  if (number_setting(spec, "memory", SPEC_AT "hwConfig.memory",
                     spec->vm ? &spec->vm->hw_config.memory : NULL, &v, &label,
                     &found, buf, sizeof buf, err) < 0)
    return -1;
  bool in_mib = annotation(spec, "memory") != NULL;
  uint64_t mib = !found ? DEFAULT_MEMORY_MIB : in_mib ? v : v >> 20;
  const char *unit = in_mib ? "MiB" : "bytes";
  if (mib < MIN_MEMORY_MIB)
    return hull_error(err, 0, "%s: %llu %s is less than the %d MiB a guest "
                      "needs", label, (unsigned long long)v, unit,
                      MIN_MEMORY_MIB);
  if (out->hypervisor == NULL && mib > BUILTIN_MAX_MEMORY_MIB)
    return hull_error(err, 0, "%s: %llu %s is more than the built-in VMM's "
                      "%d MiB (name a hypervisor for more)", label,
                      (unsigned long long)v, unit, BUILTIN_MAX_MEMORY_MIB);
  if (mib > UINT64_MAX >> 20)
    return hull_error(err, 0, "%s: %llu %s is too large", label,
                      (unsigned long long)v, unit);
  out->memory_bytes = mib << 20;
  return fit_memory_limit(spec, found, label, out, err);
}

/* run.oci.vm.balloon=true|false; without it, a qemu VM has one (every
 * qemu VM has virtio devices, the agent channel's at least, so the balloon
 * never changes its machine) and the built-in VMM, which has none, not. */
static int resolve_balloon(const struct spec *spec, struct vm_settings *out,
                           hull_error_t *err) {
  const char *a = annotation(spec, "balloon");
  const char *label = ANNOTATION_AT "balloon";
  if (a == NULL) {
    out->balloon = out->hypervisor != NULL;
    return 0;
  }
  if (strcmp(a, "true") != 0 && strcmp(a, "false") != 0)
    return hull_error(err, 0, "%s: \"%s\" is not true or false", label, a);
  out->balloon = strcmp(a, "true") == 0;
  if (out->balloon && out->hypervisor == NULL)
    return hull_error(err, 0, "%s: the built-in VMM has no balloon (name a "
                      "hypervisor)", label);
  return 0;
}

#define THP_ENABLED_PATH "/sys/kernel/mm/transparent_hugepage/enabled"
#define MEMINFO_PATH "/proc/meminfo"

/* qemu madvises its guest memory for huge pages, which the host honours
 * unless its policy is [never] (or it has no THP at all). */
static int check_thp(const char *label, hull_error_t *err) {
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t e = NULL;
  if (read_file(THP_ENABLED_PATH, &text, NULL, &e) < 0)
    return hull_error(err, 0, "%s: thp: the host has no transparent huge "
                      "pages (no " THP_ENABLED_PATH ")", label);
  if (strstr(text, "[never]") != NULL)
    return hull_error(err, 0, "%s: thp: the host's transparent huge pages are "
                      "off (" THP_ENABLED_PATH " says [never])", label);
  return 0;
}

/* A /proc/meminfo field's number (kB or a count); 0 when missing. */
static uint64_t meminfo_field(const char *meminfo, const char *name) {
  const char *p = strstr(meminfo, name);
  return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

/* The whole of the guest's memory in free huge pages of the default size
 * (qemu takes them as the guest touches its memory: a shortfall would kill
 * the guest later, with SIGBUS, rather than now). */
static int check_hugetlb(const char *label, uint64_t memory_bytes,
                         hull_error_t *err) {
  cleanup_free char *meminfo = NULL;
  if (read_file(MEMINFO_PATH, &meminfo, NULL, err) < 0)
    return hull_error_wrap(err, "%s: hugetlb", label);
  uint64_t page_kb = meminfo_field(meminfo, "\nHugepagesize:");
  if (page_kb == 0)
    return hull_error(err, 0, "%s: hugetlb: the host has no huge pages (no "
                      "Hugepagesize in " MEMINFO_PATH ")", label);
  uint64_t page = page_kb << 10;
  uint64_t mib = memory_bytes >> 20;
  if (memory_bytes % page != 0)
    return hull_error(err, 0, "%s: hugetlb: the VM's %llu MiB is not a "
                      "multiple of the %llu kB huge page", label,
                      (unsigned long long)mib, (unsigned long long)page_kb);
  uint64_t free_pages = meminfo_field(meminfo, "\nHugePages_Free:");
  uint64_t reserved = meminfo_field(meminfo, "\nHugePages_Rsvd:");
  uint64_t available = free_pages > reserved ? free_pages - reserved : 0;
  uint64_t need = memory_bytes / page;
  if (available < need)
    return hull_error(err, 0, "%s: hugetlb: the VM's %llu MiB needs %llu free "
                      "%llu kB huge pages and the host has %llu (raise "
                      "/proc/sys/vm/nr_hugepages)", label,
                      (unsigned long long)mib, (unsigned long long)need,
                      (unsigned long long)page_kb,
                      (unsigned long long)available);
  return 0;
}

/* run.oci.vm.memory_backing=thp|hugetlb, after the memory's size. */
static int resolve_backing(const struct spec *spec, struct vm_settings *out,
                           hull_error_t *err) {
  const char *a = annotation(spec, "memory_backing");
  const char *label = ANNOTATION_AT "memory_backing";
  if (a == NULL)
    return 0;
  if (strcmp(a, "thp") == 0)
    out->memory_backing = VM_BACKING_THP;
  else if (strcmp(a, "hugetlb") == 0)
    out->memory_backing = VM_BACKING_HUGETLB;
  else
    return hull_error(err, 0, "%s: \"%s\" is not thp or hugetlb", label, a);
  if (out->hypervisor == NULL)
    return hull_error(err, 0, "%s: %s: the built-in VMM backs its guest with "
                      "its own memory (name a hypervisor)", label, a);
  return out->memory_backing == VM_BACKING_THP
             ? check_thp(label, err)
             : check_hugetlb(label, out->memory_bytes, err);
}

static int resolve_timeout(const struct spec *spec, struct vm_settings *out,
                           hull_error_t *err) {
  const char *a = annotation(spec, "timeout");
  uint64_t s = DEFAULT_BOOT_TIMEOUT_S;
  if (a != NULL) {
    const char *label = ANNOTATION_AT "timeout";
    if (parse_number(label, a, &s, err) < 0)
      return -1;
    if (s == 0 || s > MAX_BOOT_TIMEOUT_S)
      return hull_error(err, 0, "%s: %llu seconds: must be 1 to %d", label,
                        (unsigned long long)s, MAX_BOOT_TIMEOUT_S);
  }
  out->boot_timeout_ms = (unsigned)s * 1000;
  return 0;
}

#define SHMEM_THP_PATH "/sys/kernel/mm/transparent_hugepage/shmem_enabled"

/* Whether the host gives shared memory (a memfd, which virtio-fs needs for
 * the guest's RAM) transparent huge pages when qemu madvises it. */
static bool shmem_thp(void) {
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t e = NULL;
  if (read_file(SHMEM_THP_PATH, &text, NULL, &e) < 0)
    return false;
  return strstr(text, "[never]") == NULL && strstr(text, "[deny]") == NULL;
}

/* virtio-fs shares the guest's RAM with virtiofsd: a memfd, where
 * memory_backing=thp's huge pages are shmem's, off on many hosts. */
static int check_virtiofs_backing(const char *label,
                                  const struct vm_settings *out,
                                  hull_error_t *err) {
  if (out->memory_backing == VM_BACKING_THP && !shmem_thp())
    return hull_error(err, 0, "%s: virtio-fs: the guest's memory must be "
                      "shared (a memfd), whose transparent huge pages are "
                      "off here (" SHMEM_THP_PATH "); use virtio-9p or drop "
                      ANNOTATION_AT "memory_backing=thp", label);
  return 0;
}

static int choose_virtiofs(const char *label, struct vm_settings *out,
                           hull_error_t *err) {
  if (geteuid() != 0)
    return hull_error(err, 0, "%s: virtio-fs: virtiofsd needs hull to run as "
                      "root (use virtio-9p)", label);
  out->virtiofsd = vm_virtiofsd_find();
  if (out->virtiofsd == NULL)
    return hull_error(err, 0, "%s: virtio-fs: no virtiofsd (looked in "
                      VM_VIRTIOFSD_PLACES ")", label);
  out->share = VM_SHARE_VIRTIOFS;
  out->virtiofsd_qemus = vm_virtiofsd_is_qemus(out->virtiofsd);
  return check_virtiofs_backing(label, out, err);
}

/* How the rootfs and bind sources reach the guest: shared live by qemu
 * over virtio-9p (its default) or virtio-fs, or copied into the initramfs
 * (the built-in VMM's only way: it has no virtio).
 *
 * virtio-9p is the default, by measurement (bench/vm-bench.sh's fs_bench,
 * ARCHITECTURE.md): under TCG here it beat virtio-fs at every file system
 * task, by 2x on metadata (untar, ls -lR, rm) and 10-30x on bulk reads
 * and writes (qemu's 9p server copies straight into the guest's buffers
 * in 512 KB messages; virtio-fs goes through the guest's page cache in
 * 128 KiB FUSE requests, each copy and round trip emulated), and it needs
 * no daemon beside qemu, nor shared guest RAM (which memory_backing=thp
 * cannot have on a host without shmem THP). virtio-fs is the choice to
 * try under KVM, where those emulated costs are gone (not measured here:
 * this host has no usable /dev/kvm). */
static int resolve_rootfs(const struct spec *spec, struct vm_settings *out,
                          hull_error_t *err) {
  const char *a = annotation(spec, "rootfs");
  const char *label = ANNOTATION_AT "rootfs";
  if (a == NULL) {
    out->files_copied = out->hypervisor == NULL;
    out->share = VM_SHARE_9P;
    return 0;
  }
  if (strcmp(a, "initramfs") == 0) {
    out->files_copied = true;
    return 0;
  }
  bool fs = strcmp(a, "virtio-fs") == 0;
  if (!fs && strcmp(a, "virtio-9p") != 0)
    return hull_error(err, 0, "%s: `%s`: expected virtio-fs, virtio-9p or "
                      "initramfs", label, a);
  if (out->hypervisor == NULL)
    return hull_error(err, 0, "%s: the built-in VMM has no %s (name a "
                      "hypervisor, or use initramfs)", label, a);
  out->files_copied = false;
  out->share = VM_SHARE_9P;
  return fs ? choose_virtiofs(label, out, err) : 0;
}

/* qemu's block drivers for the spec's formats: its "vpc" is VHD. */
static const char *qemu_image_driver(const char *format) {
  if (format == NULL || strcmp(format, "raw") == 0)
    return "raw";
  if (strcmp(format, "vhd") == 0)
    return "vpc";
  static const char *const same[] = {"qcow2", "vdi", "vmdk", NULL};
  for (size_t i = 0; same[i]; i++)
    if (strcmp(format, same[i]) == 0)
      return same[i];
  return NULL;
}

/* vm.image: the disk whose file system becomes the container's rootfs
 * (disk.c), attached by qemu as a virtio-blk device in the format the
 * spec names (never probed). */
static int resolve_image(const struct spec *spec, struct vm_settings *out,
                         hull_error_t *err) {
  const struct spec_vm *vm = spec->vm;
  if (vm == NULL || !vm->has_image)
    return 0;
  const char *label = SPEC_AT "image.path";
  if (out->hypervisor == NULL)
    return hull_error(err, 0, "%s: the built-in VMM has no virtio-blk (name a "
                      "hypervisor)", label);
  if (out->files_copied)
    return hull_error(err, 0, "%s: the rootfs is the image's: "
                      ANNOTATION_AT "rootfs=initramfs has nothing to copy",
                      label);
  out->image_format = qemu_image_driver(vm->image.format);
  if (out->image_format == NULL)
    return hull_error(err, 0, SPEC_AT "image.format: `%s`: expected raw, "
                      "qcow2, vdi, vmdk or vhd", vm->image.format);
  if (check_absolute(label, vm->image.path, err) < 0)
    return -1;
  struct stat st;
  if (stat(vm->image.path, &st) < 0)
    return hull_error(err, errno, "%s: `%s`", label, vm->image.path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return hull_error(err, 0, "%s: `%s` is not a file or a block device",
                      label, vm->image.path);
  out->image = xstrdup(vm->image.path);
  return 0;
}

int vm_settings_from_spec(const struct spec *spec, struct vm_settings *out,
                          hull_error_t *err) {
  memset(out, 0, sizeof *out);
  if (refuse_unsupported(spec->vm, err) < 0 ||
      spec_refuse_unknown_annotations(&spec->annotations, VM_ANNOTATION_PREFIX,
                                      known_annotations, err) < 0 ||
      resolve_paths(spec, out, err) < 0)
    goto fail;
  resolve_params(spec, out);
  if (resolve_vcpus(spec, out, err) < 0 || resolve_memory(spec, out, err) < 0 ||
      resolve_backing(spec, out, err) < 0 ||
      resolve_balloon(spec, out, err) < 0 ||
      resolve_timeout(spec, out, err) < 0 ||
      resolve_rootfs(spec, out, err) < 0 || resolve_image(spec, out, err) < 0)
    goto fail;
  if (out->hypervisor == NULL && check_kvm(err) < 0)
    goto fail;
  return 0;
fail:
  vm_settings_free(out);
  return -1;
}
