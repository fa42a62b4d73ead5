/* vmlinux.c — a bzImage's kernel, unpacked once on the host.
 *
 * A bzImage decompresses itself in the guest; under TCG (or an emulating
 * /dev/kvm) the xz decompression of Debian's kernel costs most of the boot
 * (here ~6 of ~9 s to the first userspace instruction). The host does it
 * once, with xz(1), and keeps the ELF vmlinux under <cache>/vm/ keyed by
 * the bzImage's contents. qemu boots such an ELF through its PVH entry
 * (Xen's PHYS32_ENTRY note; Debian builds CONFIG_PVH), the built-in VMM
 * through its 64-bit entry. Anything unexpected only means the bzImage is
 * booted as it is: this is never a reason to fail. */
#include "host.h"
#include "vmm/vmm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static const uint8_t xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

static uint64_t fnv1a64(const uint8_t *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/* xz -dc of data into out_fd; xz stops at the end of the first stream (the
 * bzImage puts the decompressed size after it). */
static int unxz(const uint8_t *data, size_t len, int out_fd, hull_error_t *err) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  pid_t pid = fork();
  if (pid < 0) {
    close(in[0]);
    close(in[1]);
    return hull_error(err, errno, "fork xz");
  }
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (dup2(in[0], 0) < 0 || dup2(out_fd, 1) < 0 || dup2(null, 2) < 0)
      _exit(127);
    signal(SIGPIPE, SIG_DFL);
    execlp("xz", "xz", "-dc", "--single-stream", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  /* xz writes to a file, never back to us: one blocking write is fine */
  int write_err = write_all(in[1], data, len) < 0 ? errno : 0;
  close(in[1]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (write_err && write_err != EPIPE)
    return hull_error(err, write_err, "feed xz");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return hull_error(err, 0, "xz -d failed (status %#x)", status);
  return 0;
}

/* Whether the ELF at fd has a PVH entry note. */
static bool has_pvh_note(int fd) {
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return false;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
            (ssize_t)sizeof(ph) ||
        ph.p_type != PT_NOTE || ph.p_filesz > 65536)
      continue;
    uint8_t notes[65536];
    if (pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) !=
        (ssize_t)ph.p_filesz)
      continue;
    for (size_t at = 0; at + sizeof(Elf64_Nhdr) <= ph.p_filesz;) {
      Elf64_Nhdr nh;
      memcpy(&nh, notes + at, sizeof(nh));
      size_t name_at = at + sizeof(nh);
      size_t desc_at = name_at + ((nh.n_namesz + 3u) & ~3u);
      if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
          name_at + 4 <= ph.p_filesz && memcmp(notes + name_at, "Xen", 4) == 0)
        return true;
      at = desc_at + ((nh.n_descsz + 3u) & ~3u);
    }
  }
  return false;
}

static int unpack(const char *kernel, const char *dir, char **out,
                  hull_error_t *err) {
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (read_file(kernel, &data, &len, err) < 0)
    return -1;
  struct kernel_image img;
  if (boot_parse_kernel((const uint8_t *)data, len, kernel, &img, err) < 0)
    return -1;
  const uint8_t *payload = (const uint8_t *)data + img.payload_offset;
  if (img.kind != KERNEL_BZIMAGE || img.payload_length < sizeof(xz_magic) ||
      memcmp(payload, xz_magic, sizeof(xz_magic)) != 0)
    return hull_error(err, 0, "`%s`: not a bzImage with an xz payload",
                      kernel);
  cleanup_free char *path = xasprintf(
      "%s/vmlinux-%016llx", dir,
      (unsigned long long)fnv1a64((const uint8_t *)data, len));
  if (access(path, R_OK) == 0) {
    *out = take_ptr(path);
    return 0;
  }
  if (mkdir_p(dir, 0700, err) < 0)
    return -1;
  cleanup_free char *tmp = xasprintf("%s.%d", path, (int)getpid());
  cleanup_close int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return hull_error(err, errno, "create `%s`", tmp);
  int ret = unxz(payload, img.payload_length, fd, err);
  if (ret == 0 && !has_pvh_note(fd))
    ret = hull_error(err, 0, "`%s` has no PVH entry", kernel);
  if (ret == 0 && rename(tmp, path) < 0)
    ret = hull_error(err, errno, "rename `%s`", tmp);
  if (ret < 0) {
    unlink(tmp);
    return -1;
  }
  *out = take_ptr(path);
  return 0;
}

char *vm_unpacked_kernel(const char *kernel, const char *cache_dir) {
  cleanup_free char *dir = xasprintf("%s/vm", cache_dir);
  cleanup_error hull_error_t err = NULL;
  char *out = NULL;
  if (unpack(kernel, dir, &out, &err) < 0) {
    log_debug("booting `%s` as it is: %s", kernel, err->msg);
    return NULL;
  }
  return out;
}
