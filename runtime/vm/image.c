/* image.c — the guest's initramfs, as concatenated cpio (newc) archives that
 * the kernel unpacks one over the other:
 *
 *   the user's initrd (vm.kernel.initrd), if any, padded to 4 bytes;
 *   the base: hull itself as /init (stripped of its debug info) and the
 *     shared objects it runs with, at their host paths, plus the directories and the two device nodes PID 1
 *     needs before it mounts devtmpfs. Built once per hull binary (and
 *     libraries) and cached;
 *   the container's part: /bundle/config.json (the guest's config),
 *     /bundle/rootfs (a copy of the rootfs) and /bundle/binds/N (copies of
 *     the bind mounts' sources).
 *
 * The archives are uncompressed: under emulation the guest unpacks plain
 * cpio faster than it inflates gzip, and the host writes it at disk speed.
 * libarchive writes them (loaded on first use, libarchive.h). */
#include "runtime/vm/vm.h"
#include "netns/netns.h"
#include "runtime/vm/libarchive.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/openat2.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

/* Bumped when the base's layout changes, so old cache files are not used. */
#define BASE_FORMAT 2
#define COPY_CHUNK (256 * 1024)

/* ---- writing cpio archives ---------------------------------------------- */

struct cpio {
  const struct archive_api *api;
  struct archive *a;
};

static int cpio_error(struct cpio *c, const char *what, hull_error_t *err) {
  const char *why = c->api->archive_error_string(c->a);
  return hull_error(err, 0, "%s: %s", what, why ? why : "libarchive failed");
}

static int cpio_open(struct cpio *c, int fd, const char *what,
                     hull_error_t *err) {
  if (archive_api_load(&c->api, err) < 0)
    return -1;
  c->a = c->api->archive_write_new();
  if (c->a == NULL)
    abort();
  if (c->api->archive_write_set_format_cpio_newc(c->a) != ARCHIVE_OK ||
      c->api->archive_write_set_bytes_in_last_block(c->a, 1) != ARCHIVE_OK ||
      c->api->archive_write_open_fd(c->a, fd) != ARCHIVE_OK)
    return cpio_error(c, what, err);
  return 0;
}

static int cpio_close(struct cpio *c, const char *what, hull_error_t *err) {
  int r = c->api->archive_write_close(c->a) == ARCHIVE_OK
              ? 0
              : cpio_error(c, what, err);
  c->api->archive_write_free(c->a);
  c->a = NULL;
  return r;
}

static void cpio_discard(struct cpio *c) {
  if (c->a != NULL)
    c->api->archive_write_free(c->a);
  c->a = NULL;
}

static struct archive_entry *new_entry(const struct archive_api *api,
                                       const char *path, mode_t mode) {
  struct archive_entry *e = api->archive_entry_new();
  if (e == NULL)
    abort();
  api->archive_entry_copy_pathname(e, path);
  api->archive_entry_set_mode(e, mode);
  api->archive_entry_set_size(e, 0); /* libarchive wants one on every entry */
  api->archive_entry_set_nlink(e, S_ISDIR(mode) ? 2 : 1);
  return e;
}

/* Copies the entry's size bytes of fd into the current entry. Should the
 * file have shrunk since its stat, libarchive pads the entry with zeros;
 * should it have grown, the rest is left out. */
static int cpio_copy_data(struct cpio *c, int fd, uint64_t size,
                          const char *what, hull_error_t *err) {
  cleanup_free char *buf = xmalloc(COPY_CHUNK);
  while (size > 0) {
    ssize_t n = read(fd, buf, size < COPY_CHUNK ? size : COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return hull_error(err, errno, "read `%s`", what);
    if (n == 0)
      return 0;
    if (c->api->archive_write_data(c->a, buf, (size_t)n) < 0)
      return cpio_error(c, what, err);
    size -= (uint64_t)n;
  }
  return 0;
}

static int cpio_write_entry(struct cpio *c, struct archive_entry *e,
                            hull_error_t *err) {
  if (c->api->archive_write_header(c->a, e) < ARCHIVE_WARN)
    return cpio_error(c, c->api->archive_entry_pathname(e), err);
  return 0;
}

/* An entry without data: a directory or a device node. */
static int cpio_add_node(struct cpio *c, const char *path, mode_t mode,
                         unsigned major, unsigned minor, hull_error_t *err) {
  struct archive_entry *e = new_entry(c->api, path, mode);
  c->api->archive_entry_set_rdevmajor(e, major);
  c->api->archive_entry_set_rdevminor(e, minor);
  int r = cpio_write_entry(c, e, err);
  c->api->archive_entry_free(e);
  return r;
}

/* A regular file owned by root, with host_path's bytes. */
static int cpio_add_file(struct cpio *c, const char *path, mode_t perm,
                         const char *host_path, hull_error_t *err) {
  cleanup_close int fd = open(host_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", host_path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", host_path);
  struct archive_entry *e = new_entry(c->api, path, S_IFREG | perm);
  c->api->archive_entry_set_size(e, st.st_size);
  c->api->archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int r = cpio_write_entry(c, e, err);
  c->api->archive_entry_free(e);
  if (r < 0)
    return -1;
  return cpio_copy_data(c, fd, (uint64_t)st.st_size, host_path, err);
}

/* ---- the base: which files ---------------------------------------------- */

/* The objects hull runs with: the executable, its ELF interpreter and its
 * DT_NEEDED libraries, recursively. We follow DT_NEEDED rather than
 * /proc/self/maps because maps also lists what this process dlopen()ed
 * (libarchive itself and its compression libraries while we write the
 * image, libsystemd after --systemd-cgroup): the guest needs none of those,
 * and the cache key would change with what happened to be loaded. Each
 * name is resolved by asking the dynamic linker where it loaded it
 * (RTLD_NOLOAD), so the paths are exactly the ones hull runs with. */
struct objects {
  char **paths; /* absolute, the executable's first (as /proc/self/exe) */
  size_t n;
};

static bool objects_has(const struct objects *o, const char *path) {
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->paths[i], path) == 0)
      return true;
  return false;
}

static void objects_add(struct objects *o, const char *path) {
  o->paths = xrealloc(o->paths, (o->n + 2) * sizeof(char *));
  o->paths[o->n++] = xstrdup(path);
  o->paths[o->n] = NULL;
}

/* An ELF file mapped read-only, for its headers. */
struct elf_file {
  uint8_t *data;
  size_t len;
};

static int elf_map(const char *path, struct elf_file *f, hull_error_t *err) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", path);
  f->len = (size_t)st.st_size;
  if (f->len < sizeof(Elf64_Ehdr))
    return hull_error(err, 0, "`%s`: not an ELF file", path);
  f->data = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
  if (f->data == MAP_FAILED)
    return hull_error(err, errno, "mmap `%s`", path);
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
      eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_phentsize != sizeof(Elf64_Phdr) ||
      eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > f->len) {
    munmap(f->data, f->len);
    return hull_error(err, 0, "`%s`: not a 64-bit ELF file", path);
  }
  return 0;
}

static const Elf64_Phdr *elf_phdr(const struct elf_file *f, unsigned i) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
  return (const Elf64_Phdr *)(f->data + eh->e_phoff) + i;
}

static unsigned elf_phnum(const struct elf_file *f) {
  return ((const Elf64_Ehdr *)f->data)->e_phnum;
}

/* The file offset of a virtual address, through the PT_LOAD segments. */
static bool elf_offset(const struct elf_file *f, uint64_t vaddr,
                       uint64_t *off) {
  for (unsigned i = 0; i < elf_phnum(f); i++) {
    const Elf64_Phdr *ph = elf_phdr(f, i);
    if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr &&
        vaddr - ph->p_vaddr < ph->p_filesz) {
      *off = ph->p_offset + (vaddr - ph->p_vaddr);
      return *off < f->len;
    }
  }
  return false;
}

/* A NUL-terminated string at off, or NULL when it runs off the file. */
static const char *elf_string(const struct elf_file *f, uint64_t off) {
  if (off >= f->len || memchr(f->data + off, '\0', f->len - off) == NULL)
    return NULL;
  return (const char *)f->data + off;
}

/* PT_INTERP's path, or NULL. */
static const char *elf_interp(const struct elf_file *f) {
  for (unsigned i = 0; i < elf_phnum(f); i++) {
    const Elf64_Phdr *ph = elf_phdr(f, i);
    if (ph->p_type == PT_INTERP)
      return elf_string(f, ph->p_offset);
  }
  return NULL;
}

static const char *loaded_path(const char *soname, hull_error_t *err) {
  void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
  if (h == NULL) {
    hull_error(err, 0, "`%s` is not loaded: %s", soname, dlerror());
    return NULL;
  }
  struct link_map *lm = NULL;
  const char *path = NULL;
  if (dlinfo(h, RTLD_DI_LINKMAP, &lm) == 0 && lm != NULL && lm->l_name[0])
    path = lm->l_name; /* lives as long as the object stays loaded */
  dlclose(h);
  if (path == NULL)
    hull_error(err, 0, "`%s`: the dynamic linker gives no path", soname);
  return path;
}

static int add_needed(struct objects *o, const char *path, hull_error_t *err);

/* Adds the DT_NEEDED libraries of the ELF f (and theirs). */
static int add_needed_of(struct objects *o, const struct elf_file *f,
                         const char *path, hull_error_t *err) {
  for (unsigned i = 0; i < elf_phnum(f); i++) {
    const Elf64_Phdr *ph = elf_phdr(f, i);
    if (ph->p_type != PT_DYNAMIC)
      continue;
    if (ph->p_offset > f->len || ph->p_filesz > f->len - ph->p_offset)
      return hull_error(err, 0, "`%s`: bad PT_DYNAMIC", path);
    const Elf64_Dyn *dyn = (const Elf64_Dyn *)(f->data + ph->p_offset);
    size_t n = ph->p_filesz / sizeof *dyn;
    uint64_t strtab = 0;
    for (size_t j = 0; j < n && dyn[j].d_tag != DT_NULL; j++)
      if (dyn[j].d_tag == DT_STRTAB)
        strtab = dyn[j].d_un.d_ptr;
    uint64_t stroff;
    if (!elf_offset(f, strtab, &stroff))
      return hull_error(err, 0, "`%s`: no DT_STRTAB", path);
    for (size_t j = 0; j < n && dyn[j].d_tag != DT_NULL; j++) {
      if (dyn[j].d_tag != DT_NEEDED)
        continue;
      const char *name = elf_string(f, stroff + dyn[j].d_un.d_val);
      if (name == NULL)
        return hull_error(err, 0, "`%s`: bad DT_NEEDED", path);
      const char *lib = loaded_path(name, err);
      if (lib == NULL || add_needed(o, lib, err) < 0)
        return hull_error_wrap(err, "libraries of `%s`", path);
    }
  }
  return 0;
}

static int add_needed(struct objects *o, const char *path, hull_error_t *err) {
  if (objects_has(o, path))
    return 0;
  objects_add(o, path);
  struct elf_file f;
  if (elf_map(path, &f, err) < 0)
    return -1;
  int r = add_needed_of(o, &f, path, err);
  munmap(f.data, f.len);
  return r;
}

static void objects_free(struct objects *o) {
  strv_free(o->paths);
  o->paths = NULL;
  o->n = 0;
}

/* hull (as /proc/self/exe), its interpreter, and its libraries. */
static int collect_objects(struct objects *o, hull_error_t *err) {
  const char *exe = "/proc/self/exe";
  objects_add(o, exe);
  struct elf_file f;
  if (elf_map(exe, &f, err) < 0)
    return -1;
  const char *interp = elf_interp(&f);
  if (interp != NULL)
    objects_add(o, interp);
  int r = add_needed_of(o, &f, exe, err);
  munmap(f.data, f.len);
  return r;
}

/* The bytes of the ELF f that its program headers reach: what the kernel
 * and the dynamic linker read. What lies past them (debug info, the symbol
 * table, the section headers) only debuggers and linkers do. */
static uint64_t elf_loaded_size(const struct elf_file *f) {
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
  uint64_t end = eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr);
  for (unsigned i = 0; i < elf_phnum(f); i++) {
    const Elf64_Phdr *ph = elf_phdr(f, i);
    if (ph->p_offset + ph->p_filesz > end)
      end = ph->p_offset + ph->p_filesz;
  }
  return end < f->len ? end : f->len;
}

/* host_path, an ELF executable, without what lies past its loaded bytes
 * and with no section headers, as `strip` would leave it: hull's debug
 * info is four fifths of its file, which the guest would unpack (~20 ms
 * of a TCG boot) and never read. */
static int cpio_add_stripped(struct cpio *c, const char *path, mode_t perm,
                             const char *host_path, hull_error_t *err) {
  struct elf_file f;
  if (elf_map(host_path, &f, err) < 0)
    return -1;
  uint64_t size = elf_loaded_size(&f);
  Elf64_Ehdr eh = *(const Elf64_Ehdr *)f.data;
  eh.e_shoff = 0;
  eh.e_shnum = 0;
  eh.e_shstrndx = SHN_UNDEF;
  struct archive_entry *e = new_entry(c->api, path, S_IFREG | perm);
  c->api->archive_entry_set_size(e, (int64_t)size);
  int r = cpio_write_entry(c, e, err);
  c->api->archive_entry_free(e);
  if (r == 0 &&
      (c->api->archive_write_data(c->a, &eh, sizeof eh) < 0 ||
       c->api->archive_write_data(c->a, f.data + sizeof eh,
                                  size - sizeof eh) < 0))
    r = cpio_error(c, host_path, err);
  munmap(f.data, f.len);
  return r;
}

/* ---- the base: its cache key ---------------------------------------------- */

static void fnv1a(uint64_t *h, const void *data, size_t len) {
  const uint8_t *p = data;
  for (size_t i = 0; i < len; i++) {
    *h ^= p[i];
    *h *= 0x100000001b3ULL;
  }
}

/* Changes when hull or any of its libraries is replaced (a new build, a
 * libc upgrade): a hash of each one's path, device, inode, size and mtime. */
static int base_key(const struct objects *o, char key[17], hull_error_t *err) {
  uint64_t h = 0xcbf29ce484222325ULL;
  int format = BASE_FORMAT;
  fnv1a(&h, &format, sizeof format);
  for (size_t i = 0; i < o->n; i++) {
    struct stat st;
    if (stat(o->paths[i], &st) < 0)
      return hull_error(err, errno, "stat `%s`", o->paths[i]);
    uint64_t fields[] = {st.st_dev, st.st_ino, (uint64_t)st.st_size,
                         (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec};
    fnv1a(&h, o->paths[i], strlen(o->paths[i]) + 1);
    fnv1a(&h, fields, sizeof fields);
  }
  snprintf(key, 17, "%016llx", (unsigned long long)h);
  return 0;
}

/* ---- the base: writing it ------------------------------------------------- */

/* The directories above path ("lib", "lib/x86_64-linux-gnu" for
 * "lib/x86_64-linux-gnu/libc.so.6"), each written once: the kernel's
 * unpacker creates no missing parents. */
static int add_parents(struct cpio *c, const char *path, char ***done,
                       hull_error_t *err) {
  cleanup_free char *p = xstrdup(path);
  for (char *s = strchr(p, '/'); s != NULL; s = strchr(s + 1, '/')) {
    *s = '\0';
    bool seen = false;
    for (char **d = *done; d && *d && !seen; d++)
      seen = strcmp(*d, p) == 0;
    if (!seen) {
      size_t n = strv_len(*done);
      *done = xrealloc(*done, (n + 2) * sizeof(char *));
      (*done)[n] = xstrdup(p);
      (*done)[n + 1] = NULL;
      if (cpio_add_node(c, p, S_IFDIR | 0755, 0, 0, err) < 0)
        return -1;
    }
    *s = '/';
  }
  return 0;
}

static int write_base(int fd, const struct objects *o, hull_error_t *err) {
  struct cpio c = {0};
  cleanup_strv char **dirs = NULL;
  static const struct { const char *path; mode_t mode; } skeleton[] = {
      {"dev", 0755}, {"proc", 0555}, {"sys", 0555}, {"run", 0755},
      {"tmp", 01777}, {"bundle", 0755}, {"etc", 0755},
  };
  if (cpio_open(&c, fd, "base initramfs", err) < 0)
    goto fail;
  for (size_t i = 0; i < sizeof skeleton / sizeof *skeleton; i++)
    if (cpio_add_node(&c, skeleton[i].path, S_IFDIR | skeleton[i].mode, 0, 0,
                      err) < 0)
      goto fail;
  /* The kernel opens /dev/console for PID 1 before anything mounts
   * devtmpfs; /dev/null is there for the same early moments. */
  if (cpio_add_node(&c, "dev/console", S_IFCHR | 0600, 5, 1, err) < 0 ||
      cpio_add_node(&c, "dev/null", S_IFCHR | 0666, 1, 3, err) < 0 ||
      cpio_add_stripped(&c, "init", 0755, o->paths[0], err) < 0)
    goto fail;
  for (size_t i = 1; i < o->n; i++) {
    const char *rel = o->paths[i] + 1; /* archive paths are relative */
    if (add_parents(&c, rel, &dirs, err) < 0 ||
        cpio_add_file(&c, rel, 0755, o->paths[i], err) < 0)
      goto fail;
  }
  return cpio_close(&c, "base initramfs", err);
fail:
  cpio_discard(&c);
  return -1;
}

/* The cached base for key, written first when it is not there yet; *lock
 * holds it (cache.c) until closed. */
static int base_cached_or_built(const char *cache_dir, const struct objects *o,
                                const char *key, char **path, int *lock,
                                hull_error_t *err) {
  cleanup_free char *dir = xasprintf("%s/vm", cache_dir);
  cleanup_free char *name = xasprintf("base-%s.cpio", key);
  cleanup_free char *final = xasprintf("%s/%s", dir, name);
  *lock = cache_use(dir, name);
  if (*lock >= 0) {
    *path = take_ptr(final);
    return 0;
  }
  /* Written under a temporary name and renamed: a concurrent create sees
   * a whole file or none. */
  cleanup_free char *tmp = NULL;
  int fd = cache_new_entry(dir, &tmp, err);
  if (fd < 0)
    return -1;
  int r = write_base(fd, o, err);
  if (r == 0 && fchmod(fd, 0644) < 0)
    r = hull_error(err, errno, "chmod `%s`", tmp);
  if (r == 0)
    r = cache_publish_or_use(dir, tmp, name, &fd, err);
  if (r < 0) {
    unlink(tmp);
    close(fd);
    return hull_error_wrap(err, "`%s`", final);
  }
  *lock = fd;
  cache_trim_to_limit(dir, VM_CACHE_MAX_ENV, VM_CACHE_MAX_DEFAULT);
  *path = take_ptr(final);
  return 0;
}

int vm_image_base(const char *cache_dir, char **path, int *lock,
                  hull_error_t *err) {
  struct objects o = {0};
  char key[17];
  *lock = -1;
  int r = collect_objects(&o, err) < 0 || base_key(&o, key, err) < 0 ||
                  base_cached_or_built(cache_dir, &o, key, path, lock,
                                       err) < 0
              ? -1
              : 0;
  objects_free(&o);
  if (r < 0)
    hull_error_wrap(err, "VM base initramfs");
  return r;
}

/* ---- the guest's config.json ---------------------------------------------- */

/* A bind mount whose source the guest gets a copy of (/bundle/binds/N):
 * an absolute host path. Sources under /dev, /proc and /sys name the host
 * kernel's objects; the guest has its own (and copying them makes no
 * sense). */
static bool bind_source_copied(const char *type, bool bind_option,
                               const char *source) {
  static const char *const host_only[] = {"/dev", "/proc", "/sys", NULL};
  bool is_bind = bind_option || (type != NULL && strcmp(type, "bind") == 0);
  if (!is_bind || source == NULL || source[0] != '/')
    return false;
  for (const char *const *p = host_only; *p; p++) {
    size_t n = strlen(*p);
    if (strncmp(source, *p, n) == 0 && (source[n] == '\0' || source[n] == '/'))
      return false;
  }
  return true;
}

static bool mount_has_bind_option(const struct spec_mount *m);

bool vm_mount_source_to_guest(const struct spec_mount *m) {
  return bind_source_copied(m->type, mount_has_bind_option(m), m->source);
}

static bool is_bind_option(const char *o) {
  return strcmp(o, "bind") == 0 || strcmp(o, "rbind") == 0;
}

static void gen_value(yajl_gen g, yajl_val v);

static bool mount_has_bind_option(const struct spec_mount *m) {
  for (char **o = m->options; o && *o; o++)
    if (is_bind_option(*o))
      return true;
  return false;
}

static void gen_object_except(yajl_gen g, yajl_val v, const char *const *skip) {
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    bool skipped = false;
    for (const char *const *s = skip; s && *s && !skipped; s++)
      skipped = strcmp(k, *s) == 0;
    if (skipped)
      continue;
    json_gen_string(g, k);
    gen_value(g, v->u.object.values[i]);
  }
}

static void gen_value(yajl_gen g, yajl_val v) {
  if (json_gen_scalar(g, v))
    return;
  if (YAJL_IS_OBJECT(v)) {
    yajl_gen_map_open(g);
    gen_object_except(g, v, NULL);
    yajl_gen_map_close(g);
  } else {
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->u.array.len; i++)
      gen_value(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
  }
}

/* Annotations without the ones that asked the host for a VM or for one
 * of hull's networks (the host made it: the guest gets its cards), plus
 * the container's id, which the agent names the guest container by. */
static void gen_annotations(yajl_gen g, yajl_val v, const char *id) {
  size_t plen = strlen(VM_ANNOTATION_PREFIX);
  size_t nlen = strlen(NETNS_ANNOTATION_PREFIX);
  yajl_gen_map_open(g);
  for (size_t i = 0; v && YAJL_IS_OBJECT(v) && i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    if (strcmp(k, VM_HANDLER_ANNOTATION) == 0 ||
        strcmp(k, VM_GUEST_ID_ANNOTATION) == 0 ||
        strncmp(k, VM_ANNOTATION_PREFIX, plen) == 0 ||
        strcmp(k, NETNS_ANNOTATION) == 0 ||
        strncmp(k, NETNS_ANNOTATION_PREFIX, nlen) == 0)
      continue;
    json_gen_string(g, k);
    gen_value(g, v->u.object.values[i]);
  }
  json_gen_string(g, VM_GUEST_ID_ANNOTATION);
  json_gen_string(g, id);
  yajl_gen_map_close(g);
}

/* The rootfs is at /bundle/rootfs in the guest; readonly and the rest
 * stay. */
static void gen_root(yajl_gen g, yajl_val v) {
  static const char *const skip[] = {"path", NULL};
  yajl_gen_map_open(g);
  json_gen_string(g, "path");
  json_gen_string(g, "rootfs");
  if (v != NULL && YAJL_IS_OBJECT(v))
    gen_object_except(g, v, skip);
  yajl_gen_map_close(g);
}

static bool has_bind_option(yajl_val mount) {
  yajl_val opts = json_member(mount, "options");
  for (size_t i = 0; opts && YAJL_IS_ARRAY(opts) && i < opts->u.array.len;
       i++) {
    yajl_val o = opts->u.array.values[i];
    if (YAJL_IS_STRING(o) && is_bind_option(o->u.string))
      return true;
  }
  return false;
}

/* A mount hull added to the spec itself, after the config's own (the
 * notify socket's directory, a hull network's /etc/hosts and
 * /etc/resolv.conf): index is its place in spec->mounts, which is where
 * vm_image_container copies its source. */
static void gen_added_mount(yajl_gen g, const struct spec_mount *m,
                            size_t index) {
  yajl_gen_map_open(g);
  json_gen_string(g, "destination");
  json_gen_string(g, m->destination);
  if (m->type) {
    json_gen_string(g, "type");
    json_gen_string(g, m->type);
  }
  cleanup_free char *copy = xasprintf("/bundle/binds/%zu", index);
  bool copied =
      bind_source_copied(m->type, mount_has_bind_option(m), m->source);
  if (m->source) {
    json_gen_string(g, "source");
    json_gen_string(g, copied ? copy : m->source);
  }
  json_gen_string(g, "options");
  yajl_gen_array_open(g);
  for (char **o = m->options; o && *o; o++)
    json_gen_string(g, *o);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

/* The config's mounts (v: its "mounts", NULL when it has none), then the
 * ones hull added to spec after them. */
static void gen_mounts(yajl_gen g, yajl_val v, const struct spec *spec) {
  static const char *const skip[] = {"source", NULL};
  if (v != NULL && !YAJL_IS_ARRAY(v)) {
    gen_value(g, v);
    return;
  }
  size_t n = v ? v->u.array.len : 0;
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_val m = v->u.array.values[i];
    yajl_val type = json_member(m, "type"), source = json_member(m, "source");
    if (!bind_source_copied(YAJL_IS_STRING(type) ? type->u.string : NULL,
                            has_bind_option(m),
                            YAJL_IS_STRING(source) ? source->u.string : NULL)) {
      gen_value(g, m);
      continue;
    }
    cleanup_free char *copy = xasprintf("/bundle/binds/%zu", i);
    yajl_gen_map_open(g);
    gen_object_except(g, m, skip);
    json_gen_string(g, "source");
    json_gen_string(g, copy);
    yajl_gen_map_close(g);
  }
  for (size_t i = n; spec && i < spec->n_mounts; i++)
    gen_added_mount(g, &spec->mounts[i], i);
  yajl_gen_array_close(g);
}

/* Namespaces without `path`: a host namespace means nothing in the guest,
 * which makes a new one. The network namespace is the guest's own, PID 1's
 * (the agent's), whose cards are the interfaces of the container's network
 * namespace on the host (guest/network.c), as in Kata: joined by path, so
 * that the config still has one (net.* sysctls apply to it). */
static bool is_network_namespace(yajl_val ns) {
  yajl_val type = json_member(ns, "type");
  return YAJL_IS_STRING(type) && strcmp(type->u.string, "network") == 0;
}

static void gen_namespaces(yajl_gen g, yajl_val v) {
  static const char *const skip[] = {"path", NULL};
  if (!YAJL_IS_ARRAY(v)) {
    gen_value(g, v);
    return;
  }
  yajl_gen_array_open(g);
  for (size_t i = 0; i < v->u.array.len; i++) {
    yajl_val ns = v->u.array.values[i];
    if (!YAJL_IS_OBJECT(ns)) {
      gen_value(g, ns);
      continue;
    }
    yajl_gen_map_open(g);
    gen_object_except(g, ns, skip);
    if (is_network_namespace(ns)) {
      json_gen_string(g, "path");
      json_gen_string(g, VM_GUEST_NETNS);
    }
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, yajl_val v, const char *id) {
  /* The seccomp notify listener is a host socket. */
  static const char *const seccomp_skip[] = {"listenerPath",
                                             "listenerMetadata", NULL};
  yajl_gen_map_open(g);
  for (size_t i = 0; i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    yajl_val val = v->u.object.values[i];
    if (strcmp(k, "cgroupsPath") == 0)
      continue;
    json_gen_string(g, k);
    if (strcmp(k, "namespaces") == 0) {
      gen_namespaces(g, val);
    } else if (strcmp(k, "seccomp") == 0 && YAJL_IS_OBJECT(val)) {
      yajl_gen_map_open(g);
      gen_object_except(g, val, seccomp_skip);
      yajl_gen_map_close(g);
    } else {
      gen_value(g, val);
    }
  }
  /* The guest has one container; its cgroup needs no host-given name. */
  cleanup_free char *cgroup = xasprintf("/hull/%s", id);
  json_gen_string(g, "cgroupsPath");
  json_gen_string(g, cgroup);
  yajl_gen_map_close(g);
}

int vm_guest_config(const char *config_text, const struct spec *spec,
                    const char *id, char **out, hull_error_t *err) {
  char errbuf[256] = "";
  yajl_val root = yajl_tree_parse(config_text, errbuf, sizeof errbuf);
  if (root == NULL || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    return hull_error(err, 0, "config.json: %s",
                      errbuf[0] ? errbuf : "not a JSON object");
  }
  yajl_gen g = json_gen_new(false);
  bool saw_annotations = false, saw_root = false, saw_mounts = false;
  yajl_gen_map_open(g);
  for (size_t i = 0; i < root->u.object.len; i++) {
    const char *k = root->u.object.keys[i];
    yajl_val v = root->u.object.values[i];
    /* vm: the guest runs no VM; hooks: they run on the host. */
    if (strcmp(k, "vm") == 0 || strcmp(k, "hooks") == 0)
      continue;
    json_gen_string(g, k);
    if (strcmp(k, "annotations") == 0) {
      gen_annotations(g, v, id);
      saw_annotations = true;
    } else if (strcmp(k, "root") == 0) {
      gen_root(g, v);
      saw_root = true;
    } else if (strcmp(k, "linux") == 0 && YAJL_IS_OBJECT(v)) {
      gen_linux(g, v, id);
    } else if (strcmp(k, "mounts") == 0) {
      gen_mounts(g, v, spec);
      saw_mounts = true;
    } else {
      gen_value(g, v);
    }
  }
  if (!saw_annotations) {
    json_gen_string(g, "annotations");
    gen_annotations(g, NULL, id);
  }
  if (!saw_root) {
    json_gen_string(g, "root");
    gen_root(g, NULL);
  }
  if (!saw_mounts && spec && spec->n_mounts > 0) {
    json_gen_string(g, "mounts");
    gen_mounts(g, NULL, spec);
  }
  yajl_gen_map_close(g);
  yajl_tree_free(root);
  *out = json_gen_finish(g);
  return 0;
}

/* ---- the container's part --------------------------------------------------- */

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

/* Archive inode numbers: hard links share one, everything else gets its
 * own. Host numbers would not do: newc has 32 bits for them, and two trees
 * (the rootfs and a bind source) may come from different file systems. */
struct inode_number {
  dev_t dev;
  ino_t ino;
  uint64_t number;
};

static int inode_cmp(const void *a, const void *b) {
  const struct inode_number *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* A tree (or a single file) being copied: its fd stays open, since a
 * hard-linked file's data is written with its last link and is reopened
 * then. */
struct pack_root {
  int fd;
  bool is_file;
};

struct packer {
  struct cpio c;
  struct archive_entry_linkresolver *links;
  void *inodes; /* tsearch tree of struct inode_number */
  uint64_t next_ino;
  struct pack_root *roots;
  size_t n_roots;
  uint64_t bytes, memory_bytes;
  const char *rootfs;
};

static uint64_t inode_number(struct packer *p, const struct stat *st) {
  if (!S_ISREG(st->st_mode) || st->st_nlink < 2)
    return ++p->next_ino;
  struct inode_number key = {.dev = st->st_dev, .ino = st->st_ino};
  struct inode_number **found = tfind(&key, &p->inodes, inode_cmp);
  if (found != NULL)
    return (*found)->number;
  struct inode_number *n = xmalloc(sizeof *n);
  *n = key;
  n->number = ++p->next_ino;
  if (tsearch(n, &p->inodes, inode_cmp) == NULL)
    abort();
  return n->number;
}

static size_t add_root(struct packer *p, int fd, bool is_file) {
  p->roots = xrealloc(p->roots, (p->n_roots + 1) * sizeof *p->roots);
  p->roots[p->n_roots] = (struct pack_root){.fd = fd, .is_file = is_file};
  return p->n_roots++;
}

/* Opens a regular file's data again: "<root>/<path below it>". Never
 * follows a symlink nor leaves the root, should the tree change under us. */
static int open_source(struct packer *p, const char *source,
                       hull_error_t *err) {
  char *rel;
  size_t i = strtoul(source, &rel, 10);
  if (*rel++ != '/' || i >= p->n_roots)
    return hull_error(err, 0, "internal: bad source `%s`", source);
  const struct pack_root *root = &p->roots[i];
  int fd;
  if (root->is_file) {
    fd = fcntl(root->fd, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
      close(fd);
      fd = -1;
    }
  } else {
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                   RESOLVE_NO_MAGICLINKS,
    };
    fd = (int)syscall(SYS_openat2, root->fd, rel, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
      fd = openat(root->fd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY |
                                     O_NONBLOCK | O_NOFOLLOW);
  }
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", rel);
  return fd;
}

static int check_size(struct packer *p, uint64_t more, hull_error_t *err) {
  p->bytes += more;
  if (p->bytes <= p->memory_bytes / 2)
    return 0;
  return hull_error(err, 0, "rootfs `%s` and bind sources: more than %llu MiB, "
                    "half of the guest's %llu MiB, which holds them in RAM "
                    "(give it more: run.oci.vm.memory or "
                    "vm.hwConfig.memory)", p->rootfs,
                    (unsigned long long)(p->memory_bytes / 2) >> 20,
                    (unsigned long long)p->memory_bytes >> 20);
}

/* Writes an entry the link resolver handed back, with its data when it
 * carries some. */
static int write_packed(struct packer *p, struct archive_entry *e,
                        hull_error_t *err) {
  const struct archive_api *api = p->c.api;
  int64_t size = api->archive_entry_size(e);
  bool data = api->archive_entry_filetype(e) == AE_IFREG && size > 0;
  if (data && check_size(p, (uint64_t)size, err) < 0)
    return -1;
  if (cpio_write_entry(&p->c, e, err) < 0)
    return -1;
  if (!data)
    return 0;
  cleanup_close int fd = open_source(p, api->archive_entry_sourcepath(e), err);
  if (fd < 0)
    return -1;
  return cpio_copy_data(&p->c, fd, (uint64_t)size,
                        api->archive_entry_pathname(e), err);
}

/* Hands e (ours to free) to the link resolver: newc carries a hard-linked
 * file's data with its last link, so entries may come back later. */
static int pack_entry(struct packer *p, struct archive_entry *e,
                      hull_error_t *err) {
  const struct archive_api *api = p->c.api;
  struct archive_entry *spare = NULL;
  api->archive_entry_linkify(p->links, &e, &spare);
  int r = e != NULL ? write_packed(p, e, err) : 0;
  if (r == 0 && spare != NULL)
    r = write_packed(p, spare, err);
  api->archive_entry_free(e);
  api->archive_entry_free(spare);
  return r;
}

/* Hard-linked files whose other links were not in the trees. */
static int flush_links(struct packer *p, hull_error_t *err) {
  const struct archive_api *api = p->c.api;
  for (;;) {
    struct archive_entry *e = NULL, *spare = NULL;
    api->archive_entry_linkify(p->links, &e, &spare);
    if (e == NULL)
      return 0;
    int r = write_packed(p, e, err);
    api->archive_entry_free(e);
    if (r < 0)
      return -1;
  }
}

static struct archive_entry *entry_from_stat(struct packer *p, const char *arc,
                                             const struct stat *st) {
  const struct archive_api *api = p->c.api;
  struct archive_entry *e = new_entry(api, arc, st->st_mode);
  api->archive_entry_set_uid(e, st->st_uid);
  api->archive_entry_set_gid(e, st->st_gid);
  api->archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
  api->archive_entry_set_ino64(e, (int64_t)inode_number(p, st));
  api->archive_entry_set_dev(e, 0);
  if (S_ISREG(st->st_mode)) {
    api->archive_entry_set_size(e, st->st_size);
    api->archive_entry_set_nlink(e, st->st_nlink);
  }
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    api->archive_entry_set_rdevmajor(e, major(st->st_rdev));
    api->archive_entry_set_rdevminor(e, minor(st->st_rdev));
  }
  return e;
}

static bool is_mount_point(int dirfd, const char *name, dev_t dev,
                           const struct stat *st) {
  if (st->st_dev != dev)
    return true;
  struct statx stx;
  return statx(dirfd, name, AT_SYMLINK_NOFOLLOW, 0, &stx) == 0 &&
         (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
         (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int pack_dir(struct packer *p, size_t root, int dirfd, dev_t dev,
                    const char *rel, const char *arc, hull_error_t *err);

/* One object below a root: rel is its path below the root, arc its path
 * in the archive. */
static int pack_child(struct packer *p, size_t root, int dirfd, dev_t dev,
                      const char *name, const char *rel, const char *arc,
                      hull_error_t *err) {
  const struct archive_api *api = p->c.api;
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return hull_error(err, errno, "stat `%s`", rel);
  if (S_ISSOCK(st.st_mode))
    return 0; /* a host socket is no use in the guest */
  struct archive_entry *e = entry_from_stat(p, arc, &st);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target - 1);
    if (n < 0 || (size_t)n == sizeof target - 1) {
      api->archive_entry_free(e);
      return hull_error(err, n < 0 ? errno : ENAMETOOLONG, "readlink `%s`",
                        rel);
    }
    target[n] = '\0';
    api->archive_entry_copy_symlink(e, target);
  } else if (S_ISREG(st.st_mode)) {
    cleanup_free char *source = xasprintf("%zu/%s", root, rel);
    api->archive_entry_copy_sourcepath(e, source);
  }
  if (pack_entry(p, e, err) < 0)
    return -1;
  if (!S_ISDIR(st.st_mode) || is_mount_point(dirfd, name, dev, &st))
    return 0; /* a mount point is copied empty, as with `cp -x` */
  cleanup_close int fd =
      openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", rel);
  return pack_dir(p, root, fd, dev, rel, arc, err);
}

static int pack_dir(struct packer *p, size_t root, int dirfd, dev_t dev,
                    const char *rel, const char *arc, hull_error_t *err) {
  int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return hull_error(err, e, "open directory `%s`", rel[0] ? rel : ".");
  }
  int r = 0;
  struct dirent *de;
  while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *child_rel =
        rel[0] ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
    cleanup_free char *child_arc = xasprintf("%s/%s", arc, de->d_name);
    r = pack_child(p, root, dirfd, dev, de->d_name, child_rel, child_arc, err);
  }
  if (r == 0 && errno != 0)
    r = hull_error(err, errno, "read directory `%s`", rel[0] ? rel : ".");
  closedir(d);
  return r;
}

/* A whole tree at arc: its top directory's entry, then what is below. */
static int pack_tree(struct packer *p, const char *host_path, const char *arc,
                     hull_error_t *err) {
  int fd = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", host_path);
  size_t root = add_root(p, fd, false);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", host_path);
  if (pack_entry(p, entry_from_stat(p, arc, &st), err) < 0 ||
      pack_dir(p, root, fd, st.st_dev, "", arc, err) < 0)
    return hull_error_wrap(err, "copy `%s`", host_path);
  return 0;
}

/* A bind mount's source at /bundle/binds/<index>: a tree, a file, or a
 * node, followed through symlinks as the mount would. */
static int pack_bind(struct packer *p, size_t index, const char *source,
                     hull_error_t *err) {
  cleanup_free char *arc = xasprintf("bundle/binds/%zu", index);
  struct stat st;
  if (stat(source, &st) < 0)
    return hull_error(err, errno, "mounts[%zu]: source `%s`", index, source);
  if (S_ISDIR(st.st_mode))
    return pack_tree(p, source, arc, err);
  if (S_ISSOCK(st.st_mode))
    return hull_error(err, 0, "mounts[%zu]: source `%s` is a socket, which "
                      "a VM cannot reach", index, source);
  struct archive_entry *e = entry_from_stat(p, arc, &st);
  p->c.api->archive_entry_set_nlink(e, 1); /* stands alone in the guest */
  if (S_ISREG(st.st_mode)) {
    int fd = open(source, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      p->c.api->archive_entry_free(e);
      return hull_error(err, errno, "mounts[%zu]: open `%s`", index, source);
    }
    cleanup_free char *ref = xasprintf("%zu/", add_root(p, fd, true));
    p->c.api->archive_entry_copy_sourcepath(e, ref);
  }
  return pack_entry(p, e, err);
}

static int add_memory_file(struct cpio *c, const char *path, mode_t perm,
                           const char *data, hull_error_t *err) {
  size_t len = strlen(data);
  struct archive_entry *e = new_entry(c->api, path, S_IFREG | perm);
  c->api->archive_entry_set_size(e, (int64_t)len);
  int r = cpio_write_entry(c, e, err);
  c->api->archive_entry_free(e);
  if (r == 0 && c->api->archive_write_data(c->a, data, len) < 0)
    r = cpio_error(c, path, err);
  return r;
}

static int write_container(int fd, const struct spec *spec, const char *rootfs,
                           const char *guest_config, uint64_t memory_bytes,
                           hull_error_t *err) {
  struct packer p = {.memory_bytes = memory_bytes, .rootfs = rootfs};
  int r = -1;
  if (cpio_open(&p.c, fd, "container initramfs", err) < 0)
    goto out;
  p.links = p.c.api->archive_entry_linkresolver_new();
  if (p.links == NULL)
    abort();
  p.c.api->archive_entry_linkresolver_set_strategy(
      p.links, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
  if (cpio_add_node(&p.c, "bundle", S_IFDIR | 0755, 0, 0, err) < 0 ||
      add_memory_file(&p.c, "bundle/config.json", 0644, guest_config, err) <
          0 ||
      pack_tree(&p, rootfs, "bundle/rootfs", err) < 0)
    goto out;
  bool binds_dir = false;
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const struct spec_mount *m = &spec->mounts[i];
    if (!bind_source_copied(m->type, mount_has_bind_option(m), m->source))
      continue;
    if (!binds_dir &&
        cpio_add_node(&p.c, "bundle/binds", S_IFDIR | 0755, 0, 0, err) < 0)
      goto out;
    binds_dir = true;
    if (pack_bind(&p, i, m->source, err) < 0)
      goto out;
  }
  if (flush_links(&p, err) < 0)
    goto out;
  r = cpio_close(&p.c, "container initramfs", err);
out:
  if (p.links != NULL)
    p.c.api->archive_entry_linkresolver_free(p.links);
  cpio_discard(&p.c);
  tdestroy(p.inodes, free);
  for (size_t i = 0; i < p.n_roots; i++)
    close(p.roots[i].fd);
  free(p.roots);
  return r;
}

/* Appends the file at path to fd. */
static int append_file(int fd, const char *path, hull_error_t *err) {
  cleanup_close int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (in < 0)
    return hull_error(err, errno, "open `%s`", path);
  return copy_fd_contents(in, fd, path, err);
}

/* The kernel wants each uncompressed cpio archive to start on a 4-byte
 * boundary; the zeros between archives it skips. */
static int pad_to_4(int fd, hull_error_t *err) {
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0)
    return hull_error(err, errno, "lseek");
  static const char zeros[4];
  if (at % 4 != 0 && write_all(fd, zeros, 4 - (size_t)(at % 4)) < 0)
    return hull_error(err, errno, "write");
  return 0;
}

/* out_path made afresh holding the user's initrd (if any) and the base,
 * each padded to 4 bytes: what the container's cpio is appended to. */
static int start_initramfs(const char *out_path, const char *user_initrd,
                           const char *base_path, int *fd,
                           hull_error_t *err) {
  *fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
             0600);
  if (*fd < 0)
    return hull_error(err, errno, "create `%s`", out_path);
  if ((user_initrd != NULL &&
       (append_file(*fd, user_initrd, err) < 0 || pad_to_4(*fd, err) < 0)) ||
      append_file(*fd, base_path, err) < 0 || pad_to_4(*fd, err) < 0)
    return -1;
  return 0;
}

/* The initramfs is whole or gone. */
static int finish_initramfs(const char *out_path, int r, hull_error_t *err) {
  if (r == 0)
    return 0;
  unlink(out_path);
  return hull_error_wrap(err, "VM initramfs `%s`", out_path);
}

int vm_image_container(const char *user_initrd, const char *base_path,
                       const struct spec *spec, const char *rootfs,
                       const char *guest_config, uint64_t memory_bytes,
                       const char *out_path, hull_error_t *err) {
  cleanup_close int fd = -1;
  int r = start_initramfs(out_path, user_initrd, base_path, &fd, err);
  if (r == 0)
    r = write_container(fd, spec, rootfs, guest_config, memory_bytes, err);
  return fd < 0 ? r : finish_initramfs(out_path, r, err);
}

/* dir/NN-<name> for each of modules, in their order. */
static int add_modules(struct cpio *c, const char *dir, char *const *modules,
                       hull_error_t *err) {
  if (modules && modules[0] &&
      cpio_add_node(c, dir, S_IFDIR | 0755, 0, 0, err) < 0)
    return -1;
  for (size_t i = 0; modules && modules[i]; i++) {
    const char *base = strrchr(modules[i], '/');
    cleanup_free char *name =
        xasprintf("%s/%02zu-%s", dir, i, base ? base + 1 : modules[i]);
    if (cpio_add_file(c, name, 0644, modules[i], err) < 0)
      return -1;
  }
  return 0;
}

static int write_shared_container(int fd, const char *guest_config,
                                  const char *shares_text,
                                  char *const *modules, hull_error_t *err) {
  struct cpio c = {0};
  int r = -1;
  if (cpio_open(&c, fd, "container initramfs", err) < 0 ||
      cpio_add_node(&c, "bundle", S_IFDIR | 0755, 0, 0, err) < 0 ||
      add_memory_file(&c, "bundle/config.json", 0644, guest_config, err) < 0 ||
      cpio_add_node(&c, "vm", S_IFDIR | 0755, 0, 0, err) < 0 ||
      add_memory_file(&c, VM_GUEST_SHARES + 1, 0644, shares_text, err) < 0 ||
      add_modules(&c, VM_GUEST_SHARE_MODULES + 1, modules, err) < 0)
    goto out;
  r = cpio_close(&c, "container initramfs", err);
out:
  cpio_discard(&c);
  return r;
}

int vm_image_container_shared(const char *user_initrd, const char *base_path,
                              const char *guest_config,
                              const char *shares_text, char *const *modules,
                              const char *out_path, hull_error_t *err) {
  cleanup_close int fd = -1;
  int r = start_initramfs(out_path, user_initrd, base_path, &fd, err);
  if (r == 0)
    r = write_shared_container(fd, guest_config, shares_text, modules, err);
  return fd < 0 ? r : finish_initramfs(out_path, r, err);
}

int vm_image_append_network(const char *path, const char *network_config,
                            char *const *modules, hull_error_t *err) {
  if (network_config == NULL && (modules == NULL || modules[0] == NULL))
    return 0;
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  struct cpio c = {0};
  int r = -1;
  if (lseek(fd, 0, SEEK_END) < 0) {
    hull_error(err, errno, "lseek `%s`", path);
    goto out;
  }
  if (pad_to_4(fd, err) < 0 || cpio_open(&c, fd, "network archive", err) < 0 ||
      cpio_add_node(&c, "vm", S_IFDIR | 0755, 0, 0, err) < 0 ||
      (network_config &&
       add_memory_file(&c, VM_GUEST_NETWORK + 1, 0644, network_config,
                       err) < 0))
    goto out;
  if (add_modules(&c, VM_GUEST_MODULES + 1, modules, err) < 0)
    goto out;
  r = cpio_close(&c, "network archive", err);
out:
  cpio_discard(&c);
  if (r < 0)
    hull_error_wrap(err, "VM initramfs `%s`", path);
  return r;
}
