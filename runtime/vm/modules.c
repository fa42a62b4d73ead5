/* modules.c — the guest kernel's modules a VM needs (virtio-net, when the
 * kernel has it as a module, as Debian's does), found where the host keeps
 * the modules of that kernel: /lib/modules/<its release>/, whose
 * modules.dep says what each needs first. A guest kernel that is not the
 * host's installed one gets no modules: it must have them built in, as
 * hull's own (runtime/vm/guest-kernel/) has everything. An ELF vmlinux has
 * no release we read, and a release without /lib/modules/<release>/
 * (hull's "-hull") has none to add: both are no modules, not an error. */
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MODULES_DIR "/lib/modules"

/* A bzImage's header: "HdrS" at 0x202, and at 0x20e the offset (from
 * 0x200) of a string that starts with the release. */
char *vm_kernel_release(const char *kernel) {
  int fd = open(kernel, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  unsigned char hdr[0x210];
  char text[256];
  char *release = NULL;
  if (pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) &&
      memcmp(hdr + 0x202, "HdrS", 4) == 0) {
    unsigned off = hdr[0x20e] | (unsigned)hdr[0x20f] << 8;
    ssize_t n = off ? pread(fd, text, sizeof(text) - 1, 0x200 + off) : -1;
    if (n > 0) {
      text[n] = '\0';
      size_t len = strcspn(text, " ");
      /* It names a directory under /lib/modules. */
      if (len > 0 && len < (size_t)n && memchr(text, '/', len) == NULL &&
          strncmp(text, "..", len) != 0 && strncmp(text, ".", len) != 0)
        release = xstrndup(text, len);
    }
  }
  close(fd);
  return release;
}

/* "kernel/drivers/net/virtio_net.ko.xz" names virtio_net ('-' is '_'). */
static bool names_module(const char *path, const char *name) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t i = 0;
  for (; name[i] && base[i]; i++) {
    char a = base[i] == '-' ? '_' : base[i];
    char b = name[i] == '-' ? '_' : name[i];
    if (a != b)
      return false;
  }
  return name[i] == '\0' && strncmp(base + i, ".ko", 3) == 0;
}

/* modules.dep's line for name: "path: dep dep ..." split, path first. */
static char **dep_line(const char *deps, const char *name) {
  for (const char *line = deps; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *colon = memchr(line, ':', len);
    if (colon) {
      cleanup_free char *path = xstrndup(line, (size_t)(colon - line));
      if (names_module(path, name)) {
        char **v = NULL;
        strv_append(&v, path);
        cleanup_free char *rest =
            xstrndup(colon + 1, len - (size_t)(colon - line) - 1);
        char *save = NULL;
        for (char *t = strtok_r(rest, " ", &save); t;
             t = strtok_r(NULL, " ", &save))
          strv_append(&v, t);
        return v;
      }
    }
    if (!end)
      break;
    line = end + 1;
  }
  return NULL;
}

static bool strv_has(char *const *v, const char *s) {
  for (size_t i = 0; v && v[i]; i++)
    if (strcmp(v[i], s) == 0)
      return true;
  return false;
}

char **vm_kernel_modules(const char *release, const char *const *names) {
  if (release == NULL)
    return NULL;
  cleanup_free char *dir = xasprintf(MODULES_DIR "/%s", release);
  cleanup_free char *dep_path = xasprintf("%s/modules.dep", dir);
  cleanup_free char *deps = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file(dep_path, &deps, NULL, &err) < 0)
    return NULL;
  char **out = NULL;
  for (size_t i = 0; names[i]; i++) {
    /* Not there: built in (modules.builtin), or not to be had. */
    cleanup_strv char **line = dep_line(deps, names[i]);
    size_t n = strv_len(line);
    /* The module, then all it needs, which depmod lists so that they load
     * last to first: the whole line backwards. */
    for (size_t j = n; j-- > 0;) {
      cleanup_free char *path = xasprintf("%s/%s", dir, line[j]);
      if (!strv_has(out, path))
        strv_append(&out, path);
    }
  }
  return out;
}

static bool config_has(const char *path, const char *option) {
  cleanup_free char *config = NULL;
  cleanup_error hull_error_t err = NULL;
  if (read_file(path, &config, NULL, &err) < 0)
    return false;
  cleanup_free char *line = xasprintf("\n%s=y\n", option);
  return strstr(config, line) != NULL;
}

bool vm_kernel_builds_in(const char *kernel, const char *release,
                         const char *option) {
  cleanup_free char *beside = xasprintf("%s.config", kernel);
  if (access(beside, F_OK) == 0)
    return config_has(beside, option);
  if (release == NULL)
    return false;
  cleanup_free char *path = xasprintf("/boot/config-%s", release);
  return config_has(path, option);
}

bool vm_kernel_has_mmio_cmdline(const char *kernel, const char *release) {
  return vm_kernel_builds_in(kernel, release,
                             "CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES");
}
