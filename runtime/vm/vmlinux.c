/* vmlinux.c — a bzImage's kernel, unpacked once on the host.
 *
 * A bzImage decompresses itself in the guest; under TCG (or an emulating
 * /dev/kvm) the xz decompression of Debian's kernel costs most of the boot
 * (here ~6 of ~9 s to the first userspace instruction). The host does it
 * once, with libarchive's decoders, and keeps the ELF vmlinux under
 * <cache>/vm/ keyed by the bzImage file's identity. qemu boots such an ELF through its PVH entry
 * (Xen's PHYS32_ENTRY note; Debian builds CONFIG_PVH), the built-in VMM
 * through its 64-bit entry. Anything unexpected only means the bzImage is
 * booted as it is: this is never a reason to fail. */
#include "host.h"
#include "libarchive.h"
#include "vmm/vmm.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static uint64_t fnv1a64(const void *p, size_t n) {
  const uint8_t *b = p;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}

/* The cache entry's name comes from the kernel file's identity, so that a
 * hit costs one stat and not a read and hash of ~8 MB per create. */
static char *cache_name(const struct stat *st) {
  uint64_t id[] = {st->st_dev, st->st_ino, (uint64_t)st->st_size,
                   (uint64_t)st->st_mtim.tv_sec,
                   (uint64_t)st->st_mtim.tv_nsec};
  return xasprintf("vmlinux-%016llx",
                   (unsigned long long)fnv1a64(id, sizeof(id)));
}

/* Decompresses the payload (xz, gzip, zstd, lz4, ...: whatever libarchive
 * reads) into out_fd. The kernel's build appends the decompressed size as
 * 4 bytes after the compressed stream: the decoder gets the stream alone
 * (xz's fails on trailing bytes, losing its last block), and the size
 * checks what it gave. */
static int decompress(const uint8_t *data, size_t len, int out_fd,
                      hull_error_t *err) {
  const struct archive_api *a;
  if (len < 4 || archive_api_load(&a, err) < 0)
    return len < 4 ? hull_error(err, 0, "empty payload") : -1;
  uint32_t want;
  memcpy(&want, data + len - 4, sizeof(want));
  struct archive *ar = a->archive_read_new();
  a->archive_read_support_filter_all(ar);
  a->archive_read_support_format_raw(ar);
  struct archive_entry *entry;
  int ret = 0;
  uint64_t written = 0;
  if (a->archive_read_open_memory(ar, data, len - 4) != ARCHIVE_OK ||
      a->archive_read_next_header(ar, &entry) != ARCHIVE_OK)
    ret = hull_error(err, 0, "read the compressed kernel: %s",
                     a->archive_error_string(ar));
  const size_t buf_size = 1 << 16;
  cleanup_free char *buf = xmalloc(buf_size);
  la_ssize_t n = 0;
  while (ret == 0 && (n = a->archive_read_data(ar, buf, buf_size)) > 0) {
    if (write_all(out_fd, buf, (size_t)n) < 0)
      ret = hull_error(err, errno, "write the unpacked kernel");
    written += (uint64_t)n;
  }
  if (ret == 0 && written != want)
    ret = hull_error(err, 0, "unpacked %llu bytes of %u (%s)",
                     (unsigned long long)written, want,
                     n < 0 ? a->archive_error_string(ar) : "short");
  a->archive_read_free(ar);
  return ret;
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

static bool is_elf(const char *kernel) {
  cleanup_close int fd = open(kernel, O_RDONLY | O_CLOEXEC);
  char magic[SELFMAG];
  return fd >= 0 && pread(fd, magic, SELFMAG, 0) == SELFMAG &&
         memcmp(magic, ELFMAG, SELFMAG) == 0;
}

static int unpack(const char *kernel, const char *dir, char **out, int *lock,
                  hull_error_t *err) {
  /* A vmlinux (hull's own kernel) is booted as it is: its ~16 MB are not
   * read only to learn that they are no bzImage. */
  if (is_elf(kernel))
    return hull_error(err, 0, "`%s` is an ELF file", kernel);
  struct stat st;
  if (stat(kernel, &st) < 0)
    return hull_error(err, errno, "stat `%s`", kernel);
  cleanup_free char *name = cache_name(&st);
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  *lock = cache_use(dir, name);
  if (*lock >= 0) {
    *out = take_ptr(path);
    return 0;
  }
  cleanup_free char *data = NULL;
  size_t len = 0;
  struct kernel_image img;
  if (read_file(kernel, &data, &len, err) < 0 ||
      boot_parse_kernel((const uint8_t *)data, len, kernel, &img, err) < 0)
    return -1;
  if (img.kind != KERNEL_BZIMAGE || img.payload_length == 0 ||
      (uint64_t)img.payload_offset + img.payload_length > len)
    return hull_error(err, 0, "`%s`: not a bzImage with a payload", kernel);
  cleanup_free char *tmp = NULL;
  int fd = cache_new_entry(dir, &tmp, err);
  if (fd < 0)
    return -1;
  int ret = decompress((const uint8_t *)data + img.payload_offset,
                       img.payload_length, fd, err);
  if (ret == 0 && !has_pvh_note(fd))
    ret = hull_error(err, 0, "`%s` has no PVH entry", kernel);
  if (ret == 0 && fchmod(fd, 0644) < 0)
    ret = hull_error(err, errno, "chmod `%s`", tmp);
  if (ret == 0)
    ret = cache_publish_or_use(dir, tmp, name, &fd, err);
  if (ret < 0) {
    unlink(tmp);
    close(fd);
    return -1;
  }
  *lock = fd;
  cache_trim_to_limit(dir, VM_CACHE_MAX_ENV, VM_CACHE_MAX_DEFAULT);
  *out = take_ptr(path);
  return 0;
}

bool vm_kernel_is_pvh_elf(const char *kernel) {
  cleanup_close int fd = open(kernel, O_RDONLY | O_CLOEXEC);
  return fd >= 0 && has_pvh_note(fd);
}

char *vm_unpacked_kernel(const char *kernel, const char *cache_dir,
                         int *lock) {
  cleanup_free char *dir = xasprintf("%s/vm", cache_dir);
  cleanup_error hull_error_t err = NULL;
  char *out = NULL;
  *lock = -1;
  if (unpack(kernel, dir, &out, lock, &err) < 0) {
    log_debug("booting `%s` as it is: %s", kernel, err->msg);
    return NULL;
  }
  return out;
}
