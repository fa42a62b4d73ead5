/* test_vm_image.c — the guest's initramfs (runtime/vm/image.c).
 *
 * The guest config transform on a docker-style config and on `hull spec`'s
 * output; the base image (read back with libarchive: /init, the device
 * nodes, libc and the ELF interpreter, and not what this process merely
 * dlopen()ed) and its cache (a second call reuses the file); the
 * container's archive (modes, owners, symlinks, hard links, device nodes,
 * fifos, no sockets, a mount point copied empty, bind copies); the layout
 * of the concatenation (user initrd padded to 4 bytes, base, container);
 * and the half-of-memory limit. */
#include "runtime/vm/host.h"
#include "runtime/vm/libarchive.h"
#include "tests/suite.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static char tmpdir[64];

static void setup(void) {
  strcpy(tmpdir, "/tmp/hull-vmimg-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(tmpdir, &err);
  hull_error_release(&err);
}

/* ---- reading archives back ---------------------------------------------- */

struct entry {
  char *path, *symlink, *data;
  mode_t mode;
  int64_t size, ino;
  unsigned nlink, uid, gid, rmajor, rminor;
};

struct listing {
  struct entry *e;
  size_t n;
};

static void read_archive(const void *buf, size_t len, struct listing *out) {
  const struct archive_api *api;
  hull_error_t err = NULL;
  ck_assert_msg(archive_api_load(&api, &err) == 0, "%s", err ? err->msg : "");
  struct archive *a = api->archive_read_new();
  api->archive_read_support_format_cpio(a);
  ck_assert_int_eq(api->archive_read_open_memory(a, buf, len), ARCHIVE_OK);
  struct archive_entry *ae;
  memset(out, 0, sizeof *out);
  while (api->archive_read_next_header(a, &ae) == ARCHIVE_OK) {
    out->e = xrealloc(out->e, (out->n + 1) * sizeof *out->e);
    struct entry *e = &out->e[out->n++];
    memset(e, 0, sizeof *e);
    e->path = xstrdup(api->archive_entry_pathname(ae));
    const char *link = api->archive_entry_symlink(ae);
    e->symlink = link ? xstrdup(link) : NULL;
    e->mode = api->archive_entry_mode(ae);
    e->size = api->archive_entry_size(ae);
    e->ino = api->archive_entry_ino64(ae);
    e->nlink = api->archive_entry_nlink(ae);
    e->uid = (unsigned)api->archive_entry_uid(ae);
    e->gid = (unsigned)api->archive_entry_gid(ae);
    e->rmajor = api->archive_entry_rdevmajor(ae);
    e->rminor = api->archive_entry_rdevminor(ae);
    e->data = xzalloc((size_t)e->size + 1);
    if (S_ISREG(e->mode) && e->size > 0) /* a symlink's target is no data */
      ck_assert_int_eq(api->archive_read_data(a, e->data, (size_t)e->size),
                       e->size);
  }
  api->archive_read_free(a);
}

static void listing_free(struct listing *l) {
  for (size_t i = 0; i < l->n; i++) {
    free(l->e[i].path);
    free(l->e[i].symlink);
    free(l->e[i].data);
  }
  free(l->e);
}

static const struct entry *find(const struct listing *l, const char *path) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->e[i].path, path) == 0)
      return &l->e[i];
  return NULL;
}

static const struct entry *must_find(const struct listing *l,
                                     const char *path) {
  const struct entry *e = find(l, path);
  ck_assert_msg(e != NULL, "`%s` is not in the archive", path);
  return e;
}

static const struct entry *find_suffix(const struct listing *l,
                                       const char *suffix) {
  size_t n = strlen(suffix);
  for (size_t i = 0; i < l->n; i++) {
    size_t m = strlen(l->e[i].path);
    if (m >= n && strcmp(l->e[i].path + m - n, suffix) == 0)
      return &l->e[i];
  }
  return NULL;
}

static char *slurp(const char *path, size_t *len) {
  char *data;
  hull_error_t err = NULL;
  ck_assert_msg(read_file(path, &data, len, &err) == 0, "%s",
                err ? err->msg : "");
  return data;
}

/* ---- the guest's config.json ---------------------------------------------- */

static const char *docker_style =
    "{\"ociVersion\":\"1.0.2-dev\","
    "\"process\":{\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
    "\"cwd\":\"/\",\"env\":[\"PATH=/bin\"]},"
    "\"root\":{\"path\":\"/var/lib/docker/overlay2/abc/merged\","
    "\"readonly\":true},"
    "\"hostname\":\"c1\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"mode=755\"]},"
    "{\"destination\":\"/etc/resolv.conf\",\"type\":\"bind\","
    "\"source\":\"/var/lib/docker/containers/abc/resolv.conf\","
    "\"options\":[\"rbind\",\"rprivate\"]},"
    "{\"destination\":\"/data\",\"type\":\"none\",\"source\":\"/srv/data\","
    "\"options\":[\"rbind\",\"ro\"]},"
    "{\"destination\":\"/dev/fuse\",\"type\":\"bind\",\"source\":\"/dev/fuse\","
    "\"options\":[\"bind\"]},"
    "{\"destination\":\"/rel\",\"type\":\"bind\",\"source\":\"rel/dir\","
    "\"options\":[\"bind\"]}"
    "],"
    "\"hooks\":{\"prestart\":[{\"path\":\"/usr/bin/docker-proxy\"}]},"
    "\"annotations\":{\"com.example\":\"x\",\"run.oci.handler\":\"vm\","
    "\"run.oci.vm.memory\":\"512\"},"
    "\"vm\":{\"kernel\":{\"path\":\"/boot/vmlinuz\"}},"
    "\"linux\":{\"cgroupsPath\":\"system.slice:docker:abc\","
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\","
    "\"path\":\"/var/run/docker/netns/abc\"},{\"type\":\"mount\"}],"
    "\"resources\":{\"memory\":{\"limit\":9223372036854775807}},"
    "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\","
    "\"listenerPath\":\"/run/seccomp.sock\",\"listenerMetadata\":\"m\"},"
    "\"maskedPaths\":[\"/proc/kcore\"]}}";

static yajl_val at(yajl_val root, const char *const *path) {
  yajl_val v = yajl_tree_get(root, (const char **)path, yajl_t_any);
  return v;
}

#define AT(root, ...) at(root, (const char *const[]){__VA_ARGS__, NULL})

static const char *str_at(yajl_val v) {
  ck_assert_ptr_nonnull(v);
  ck_assert(YAJL_IS_STRING(v));
  return v->u.string;
}

static char *guest_config(const char *text, const char *id) {
  char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(vm_guest_config(text, NULL, id, &out, &err) == 0, "%s",
                err ? err->msg : "");
  /* What the guest's hull will parse. */
  struct spec *spec = NULL;
  ck_assert_msg(spec_parse(out, strlen(out), "guest", &spec, &err) == 0, "%s",
                err ? err->msg : "");
  spec_free(spec);
  return out;
}

START_TEST(guest_config_docker_style) {
  cleanup_free char *out = guest_config(docker_style, "c1");
  char errbuf[128];
  yajl_val root = yajl_tree_parse(out, errbuf, sizeof errbuf);
  ck_assert_ptr_nonnull(root);
  ck_assert_ptr_null(AT(root, "vm"));
  ck_assert_ptr_null(AT(root, "hooks"));
  ck_assert_str_eq(str_at(AT(root, "annotations", "com.example")), "x");
  ck_assert_str_eq(str_at(AT(root, "annotations", "io.hull.vm.id")), "c1");
  ck_assert_ptr_null(AT(root, "annotations", "run.oci.handler"));
  ck_assert_ptr_null(AT(root, "annotations", "run.oci.vm.memory"));
  ck_assert_str_eq(str_at(AT(root, "root", "path")), "rootfs");
  ck_assert(YAJL_IS_TRUE(AT(root, "root", "readonly")));
  ck_assert_str_eq(str_at(AT(root, "linux", "cgroupsPath")), "/hull/c1");
  ck_assert_str_eq(str_at(AT(root, "hostname")), "c1");

  /* No host paths; the network namespace is the guest's own. */
  yajl_val ns = AT(root, "linux", "namespaces");
  ck_assert(YAJL_IS_ARRAY(ns));
  ck_assert_uint_eq(ns->u.array.len, 3);
  const char *path_key[] = {"path", NULL}, *type_key[] = {"type", NULL};
  ck_assert_ptr_null(yajl_tree_get(ns->u.array.values[0], path_key, yajl_t_any));
  ck_assert_ptr_null(yajl_tree_get(ns->u.array.values[2], path_key, yajl_t_any));
  ck_assert_str_eq(
      str_at(yajl_tree_get(ns->u.array.values[1], type_key, yajl_t_any)),
      "network");
  ck_assert_str_eq(
      str_at(yajl_tree_get(ns->u.array.values[1], path_key, yajl_t_any)),
      "/proc/1/ns/net");

  ck_assert_str_eq(str_at(AT(root, "linux", "seccomp", "defaultAction")),
                   "SCMP_ACT_ERRNO");
  ck_assert_ptr_null(AT(root, "linux", "seccomp", "listenerPath"));
  ck_assert_ptr_null(AT(root, "linux", "seccomp", "listenerMetadata"));
  ck_assert_ptr_nonnull(strstr(out, "9223372036854775807"));

  yajl_val mounts = AT(root, "mounts");
  ck_assert_uint_eq(mounts->u.array.len, 6);
  const char *src_key[] = {"source", NULL}, *opt_key[] = {"options", NULL};
  const char *want[] = {"proc", "tmpfs", "/bundle/binds/2", "/bundle/binds/3",
                        "/dev/fuse", "rel/dir"};
  for (size_t i = 0; i < 6; i++)
    ck_assert_str_eq(str_at(yajl_tree_get(mounts->u.array.values[i], src_key,
                                          yajl_t_any)),
                     want[i]);
  /* The rest of a rewritten mount stays. */
  yajl_val opts = yajl_tree_get(mounts->u.array.values[3], opt_key,
                                yajl_t_array);
  ck_assert_uint_eq(opts->u.array.len, 2);
  ck_assert_str_eq(str_at(opts->u.array.values[1]), "ro");
  yajl_tree_free(root);
}
END_TEST

/* `hull spec`'s config: nothing to rewrite but root, cgroupsPath, the id
 * annotation (added where absent) and the network namespace (the
 * guest's). */
START_TEST(guest_config_hull_spec) {
  cleanup_free char *text = spec_default_json(false);
  cleanup_free char *out = guest_config(text, "busy");
  char errbuf[128];
  yajl_val in = yajl_tree_parse(text, errbuf, sizeof errbuf);
  yajl_val root = yajl_tree_parse(out, errbuf, sizeof errbuf);
  ck_assert_ptr_nonnull(root);
  ck_assert_str_eq(str_at(AT(root, "root", "path")), "rootfs");
  ck_assert_str_eq(str_at(AT(root, "annotations", "io.hull.vm.id")), "busy");
  ck_assert_str_eq(str_at(AT(root, "linux", "cgroupsPath")), "/hull/busy");
  ck_assert_uint_eq(AT(root, "mounts")->u.array.len,
                    AT(in, "mounts")->u.array.len);
  ck_assert_uint_eq(AT(root, "linux", "namespaces")->u.array.len,
                    AT(in, "linux", "namespaces")->u.array.len);
  ck_assert_ptr_nonnull(strstr(out, "\"/proc/1/ns/net\""));
  ck_assert_str_eq(str_at(AT(root, "process", "args")->u.array.values[0]),
                   "sh");
  yajl_tree_free(in);
  yajl_tree_free(root);
}
END_TEST

START_TEST(guest_config_bad_json) {
  char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_int_lt(vm_guest_config("{\"a\":", NULL, "x", &out, &err), 0);
  ck_assert_ptr_nonnull(strstr(err->msg, "config.json: "));
  hull_error_release(&err);
}
END_TEST

/* ---- the base ------------------------------------------------------------- */

static char *build_base(void) {
  char *path = NULL;
  hull_error_t err = NULL;
  int lock;
  ck_assert_msg(vm_image_base(tmpdir, &path, &lock, &err) == 0, "%s",
                err ? err->msg : "");
  close(lock);
  return path;
}

/* How far into the ELF at path its program headers reach. */
static off_t loaded_size(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  Elf64_Ehdr eh;
  ck_assert_int_eq(pread(fd, &eh, sizeof eh, 0), sizeof eh);
  off_t end = 0;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    ck_assert_int_eq(pread(fd, &ph, sizeof ph,
                           (off_t)(eh.e_phoff + i * sizeof ph)),
                     sizeof ph);
    if ((off_t)(ph.p_offset + ph.p_filesz) > end)
      end = (off_t)(ph.p_offset + ph.p_filesz);
  }
  close(fd);
  return end;
}

START_TEST(base_has_init_and_libraries) {
  cleanup_free char *path = build_base();
  cleanup_free char *prefix = xasprintf("%s/vm/base-", tmpdir);
  ck_assert_msg(strncmp(path, prefix, strlen(prefix)) == 0, "base at `%s`",
                path);
  size_t len;
  cleanup_free char *data = slurp(path, &len);
  struct listing l;
  read_archive(data, len, &l);

  /* open+fstat, not stat: valgrind redirects only the open. */
  struct stat self;
  int self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(self_fd, 0);
  ck_assert_int_eq(fstat(self_fd, &self), 0);
  close(self_fd);
  const struct entry *init = must_find(&l, "init");
  ck_assert_uint_eq(init->mode, S_IFREG | 0755);
  /* Without the debug info (this binary is built with -g), which lies past
   * what the program headers reach: all the guest would read. */
  ck_assert_int_lt(init->size, self.st_size);
  ck_assert_int_ge(init->size, loaded_size("/proc/self/exe"));

  const struct entry *console = must_find(&l, "dev/console");
  ck_assert(S_ISCHR(console->mode));
  ck_assert_uint_eq(console->rmajor, 5);
  ck_assert_uint_eq(console->rminor, 1);
  const struct entry *null = must_find(&l, "dev/null");
  ck_assert(S_ISCHR(null->mode));
  ck_assert_uint_eq(null->rmajor, 1);
  ck_assert_uint_eq(null->rminor, 3);
  const char *dirs[] = {"dev", "proc", "sys", "run", "tmp", "bundle", "etc"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    ck_assert(S_ISDIR(must_find(&l, dirs[i])->mode));

  const struct entry *libc = find_suffix(&l, "/libc.so.6");
  ck_assert_msg(libc != NULL, "no libc.so.6 in the base");
  ck_assert_int_gt(libc->size, 100000);
  ck_assert_msg(find_suffix(&l, "/ld-linux-x86-64.so.2") != NULL,
                "no ELF interpreter in the base");
  ck_assert_msg(find_suffix(&l, "/libyajl.so.2") != NULL, "no libyajl");
  /* Loaded by us to write the archive, not needed by the guest. */
  ck_assert_msg(find_suffix(&l, "/libarchive.so.13") == NULL,
                "libarchive (dlopen()ed) is in the base");
  /* Every file's parent directory comes before it. */
  for (size_t i = 0; i < l.n; i++) {
    cleanup_free char *parent = xstrdup(l.e[i].path);
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
      continue;
    *slash = '\0';
    const struct entry *p = find(&l, parent);
    ck_assert_msg(p != NULL && p < &l.e[i], "`%s` comes before its parent",
                  l.e[i].path);
  }
  listing_free(&l);
}
END_TEST

START_TEST(base_is_cached) {
  cleanup_free char *first = build_base();
  struct stat a, b;
  ck_assert_int_eq(stat(first, &a), 0);
  cleanup_free char *second = build_base();
  ck_assert_str_eq(first, second);
  ck_assert_int_eq(stat(second, &b), 0);
  ck_assert_uint_eq(a.st_ino, b.st_ino);
  /* Not rewritten (the same inode); its mtime is its last use, for the
   * cache's eviction of the least recently used. */
  ck_assert(b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
            (b.st_mtim.tv_sec == a.st_mtim.tv_sec &&
             b.st_mtim.tv_nsec >= a.st_mtim.tv_nsec));
  /* No temporary left behind. */
  cleanup_free char *dir = xasprintf("%s/vm", tmpdir);
  DIR *d = opendir(dir);
  int files = 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    files += de->d_name[0] != '.';
  closedir(d);
  ck_assert_int_eq(files, 1);
}
END_TEST

/* ---- the container's part ------------------------------------------------- */

static void put(const char *dir, const char *name, const char *data,
                mode_t mode) {
  cleanup_free char *p = xasprintf("%s/%s", dir, name);
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write_all(fd, data, strlen(data)), 0);
  fchmod(fd, mode);
  close(fd);
}

static char *sub(const char *name) { return xasprintf("%s/%s", tmpdir, name); }

/* rootfs/: a (0640, uid 1234), b (hard link to a), c -> a, d/ (0700) with
 * e, f (fifo), g (char 1,3), s (socket, skipped). binds/dir/x and
 * binds/file are bind sources. */
static void make_trees(void) {
  cleanup_free char *rootfs = sub("rootfs"), *d = sub("rootfs/d"),
                    *binds = sub("binds"), *bdir = sub("binds/dir");
  ck_assert_int_eq(mkdir(rootfs, 0755), 0);
  ck_assert_int_eq(mkdir(d, 0700), 0);
  chmod(d, 0700);
  ck_assert_int_eq(mkdir(binds, 0755), 0);
  ck_assert_int_eq(mkdir(bdir, 0755), 0);
  put(rootfs, "a", "hello", 0640);
  cleanup_free char *a = sub("rootfs/a"), *b = sub("rootfs/b"),
                    *c = sub("rootfs/c"), *f = sub("rootfs/f"),
                    *g = sub("rootfs/g"), *s = sub("rootfs/s");
  ck_assert_int_eq(chown(a, 1234, 4321), 0);
  ck_assert_int_eq(link(a, b), 0);
  ck_assert_int_eq(symlink("a", c), 0);
  put(d, "e", "in d", 0600);
  ck_assert_int_eq(mkfifo(f, 0644), 0);
  ck_assert_int_eq(mknod(g, S_IFCHR | 0666, makedev(1, 3)), 0);
  int sock = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sun = {.sun_family = AF_UNIX};
  snprintf(sun.sun_path, sizeof sun.sun_path, "%s", s);
  ck_assert_int_eq(bind(sock, (struct sockaddr *)&sun, sizeof sun), 0);
  close(sock);
  put(bdir, "x", "bound dir file", 0644);
  put(binds, "file", "bound file", 0600);
}

static struct spec *spec_with_binds(void) {
  cleanup_free char *json = xasprintf(
      "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"mounts\":["
      "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"
      "{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"%s/binds/dir\","
      "\"options\":[\"rbind\"]},"
      "{\"destination\":\"/y\",\"source\":\"%s/binds/file\","
      "\"options\":[\"bind\",\"ro\"]},"
      "{\"destination\":\"/dev/null2\",\"type\":\"bind\","
      "\"source\":\"/dev/null\",\"options\":[\"bind\"]}]}",
      tmpdir, tmpdir);
  struct spec *spec = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(spec_parse(json, strlen(json), "config.json", &spec, &err) == 0,
                "%s", err ? err->msg : "");
  return spec;
}

static void pack(const char *user_initrd, const char *base, uint64_t memory,
                 const char *out) {
  struct spec *spec = spec_with_binds();
  cleanup_free char *rootfs = sub("rootfs");
  hull_error_t err = NULL;
  ck_assert_msg(vm_image_container(user_initrd, base, spec, rootfs,
                                   "{\"guest\":true}", memory, out, &err) == 0,
                "%s", err ? err->msg : "");
  spec_free(spec);
}

START_TEST(container_archive) {
  make_trees();
  cleanup_free char *empty = sub("empty-base"), *out = sub("initrd");
  put(tmpdir, "empty-base", "", 0644);
  pack(NULL, empty, 256ULL << 20, out);
  size_t len;
  cleanup_free char *data = slurp(out, &len);
  struct listing l;
  read_archive(data, len, &l);

  ck_assert_str_eq(must_find(&l, "bundle/config.json")->data,
                   "{\"guest\":true}");
  ck_assert(S_ISDIR(must_find(&l, "bundle/rootfs")->mode));
  const struct entry *a = must_find(&l, "bundle/rootfs/a");
  const struct entry *b = must_find(&l, "bundle/rootfs/b");
  ck_assert_uint_eq(a->mode, S_IFREG | 0640);
  ck_assert_uint_eq(a->uid, 1234);
  ck_assert_uint_eq(a->gid, 4321);
  /* Hard links: one inode number, the data with the last one written. */
  ck_assert_int_eq(a->ino, b->ino);
  ck_assert_uint_eq(a->nlink, 2);
  ck_assert_uint_eq(b->nlink, 2);
  const struct entry *last = a < b ? b : a, *first = a < b ? a : b;
  ck_assert_int_eq(first->size, 0);
  ck_assert_str_eq(last->data, "hello");

  const struct entry *c = must_find(&l, "bundle/rootfs/c");
  ck_assert(S_ISLNK(c->mode));
  ck_assert_str_eq(c->symlink, "a");
  ck_assert_uint_eq(must_find(&l, "bundle/rootfs/d")->mode, S_IFDIR | 0700);
  ck_assert_str_eq(must_find(&l, "bundle/rootfs/d/e")->data, "in d");
  ck_assert(S_ISFIFO(must_find(&l, "bundle/rootfs/f")->mode));
  const struct entry *g = must_find(&l, "bundle/rootfs/g");
  ck_assert(S_ISCHR(g->mode));
  ck_assert_uint_eq(g->rmajor, 1);
  ck_assert_uint_eq(g->rminor, 3);
  ck_assert_ptr_null(find(&l, "bundle/rootfs/s"));
  /* Only the bind mounts with host sources are copied, by mount index. */
  ck_assert_ptr_null(find(&l, "bundle/binds/0"));
  ck_assert(S_ISDIR(must_find(&l, "bundle/binds/1")->mode));
  ck_assert_str_eq(must_find(&l, "bundle/binds/1/x")->data, "bound dir file");
  const struct entry *file = must_find(&l, "bundle/binds/2");
  ck_assert_uint_eq(file->mode, S_IFREG | 0600);
  ck_assert_str_eq(file->data, "bound file");
  ck_assert_ptr_null(find(&l, "bundle/binds/3"));
  listing_free(&l);
}
END_TEST

START_TEST(mount_point_copied_empty) {
  /* A mount namespace of the test's own: a failing assertion ends the test
   * without its teardown, and the tmpfs must not outlive it. */
  ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
  ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
  make_trees();
  cleanup_free char *mnt = sub("rootfs/mnt");
  ck_assert_int_eq(mkdir(mnt, 0755), 0);
  ck_assert_int_eq(mount("tmpfs", mnt, "tmpfs", 0, "size=1m"), 0);
  put(mnt, "inside", "other fs", 0644);
  cleanup_free char *empty = sub("empty-base"), *out = sub("initrd");
  put(tmpdir, "empty-base", "", 0644);
  pack(NULL, empty, 256ULL << 20, out);
  ck_assert_int_eq(umount2(mnt, MNT_DETACH), 0);
  size_t len;
  cleanup_free char *data = slurp(out, &len);
  struct listing l;
  read_archive(data, len, &l);
  ck_assert(S_ISDIR(must_find(&l, "bundle/rootfs/mnt")->mode));
  ck_assert_ptr_null(find(&l, "bundle/rootfs/mnt/inside"));
  listing_free(&l);
}
END_TEST

/* user initrd, zeros to a 4-byte boundary, the base, the container. */
START_TEST(concatenation) {
  make_trees();
  cleanup_free char *base = build_base();
  cleanup_free char *user = sub("user.img"), *out = sub("initrd");
  put(tmpdir, "user.img", "ABCDE", 0644);
  pack(user, base, 256ULL << 20, out);
  size_t len, base_len;
  cleanup_free char *data = slurp(out, &len);
  cleanup_free char *base_data = slurp(base, &base_len);
  ck_assert_int_eq(memcmp(data, "ABCDE\0\0\0", 8), 0);
  ck_assert_int_eq(base_len % 4, 0);
  ck_assert_int_eq(memcmp(data + 8, base_data, base_len), 0);
  struct listing l;
  read_archive(data + 8 + base_len, len - 8 - base_len, &l);
  ck_assert_str_eq(l.e[0].path, "bundle");
  must_find(&l, "bundle/rootfs/d/e");
  listing_free(&l);
}
END_TEST

START_TEST(too_big_for_memory) {
  make_trees();
  cleanup_free char *empty = sub("empty-base"), *out = sub("initrd");
  put(tmpdir, "empty-base", "", 0644);
  struct spec *spec = spec_with_binds();
  cleanup_free char *rootfs = sub("rootfs");
  hull_error_t err = NULL;
  ck_assert_int_lt(vm_image_container(NULL, empty, spec, rootfs, "{}", 16, out,
                                      &err),
                   0);
  ck_assert_msg(strstr(err->msg, "half of the guest's") != NULL, "%s",
                err->msg);
  ck_assert_msg(strchr(err->msg, '\n') == NULL, "%s", err->msg);
  ck_assert_int_ne(access(out, F_OK), 0); /* no half-written initrd */
  hull_error_release(&err);
  spec_free(spec);
}
END_TEST

START_TEST(missing_bind_source) {
  make_trees();
  cleanup_free char *empty = sub("empty-base"), *out = sub("initrd");
  put(tmpdir, "empty-base", "", 0644);
  cleanup_free char *file = sub("binds/file");
  unlink(file);
  struct spec *spec = spec_with_binds();
  cleanup_free char *rootfs = sub("rootfs");
  hull_error_t err = NULL;
  ck_assert_int_lt(vm_image_container(NULL, empty, spec, rootfs, "{}",
                                      256ULL << 20, out, &err),
                   0);
  ck_assert_msg(strstr(err->msg, "mounts[2]: source `") != NULL &&
                    strstr(err->msg, "No such file or directory") != NULL,
                "%s", err->msg);
  hull_error_release(&err);
  spec_free(spec);
}
END_TEST

/* Under qemu: the rootfs and each bind source the guest gets become
 * virtio-9p (or virtio-fs) shares, vm.image's disk the rootfs (a file's a share dir of its own, its entry made for
 * the monitor's bind mount), read-only as asked; a read-only rootfs gets
 * its missing mount points (a file for a file's bind) on the host. */
START_TEST(shares_plan) {
  make_trees();
  struct spec *spec = spec_with_binds();
  spec->root.readonly = true;
  cleanup_free char *rootfs = sub("rootfs"), *state = sub("state");
  ck_assert_int_eq(mkdir(state, 0700), 0);
  struct vm_shares sh;
  hull_error_t err = NULL;
  struct vm_settings nine_p = {.share = VM_SHARE_9P};
  ck_assert_msg(vm_shares_plan(spec, &nine_p, rootfs, state, &sh, &err) == 0,
                "%s", err ? err->msg : "");
  ck_assert_int_eq(sh.n, 3);
  ck_assert_str_eq(sh.v[0].host_path, rootfs);
  ck_assert(sh.v[0].readonly && sh.v[0].file_source == NULL);
  cleanup_free char *bdir = sub("binds/dir"), *bfile = sub("binds/file");
  ck_assert_str_eq(sh.v[1].host_path, bdir);
  ck_assert(!sh.v[1].readonly && sh.v[1].file_source == NULL);
  cleanup_free char *fdir = xasprintf("%s/shares/2", state);
  ck_assert_str_eq(sh.v[2].host_path, fdir);
  ck_assert_str_eq(sh.v[2].file_source, bfile);
  ck_assert(sh.v[2].readonly);
  cleanup_free char *entry = xasprintf("%s/" VM_SHARE_ENTRY, fdir);
  struct stat st;
  ck_assert_int_eq(stat(entry, &st), 0);
  ck_assert(S_ISREG(st.st_mode) && st.st_size == 0);
  cleanup_free char *text = vm_shares_guest_text(&sh);
  ck_assert_str_eq(text, "hull-rootfs /bundle/rootfs ro dir 9p\n"
                         "hull-bind-1 /bundle/binds/1 rw dir 9p\n"
                         "hull-bind-2 /bundle/binds/2 ro entry 9p\n");
  cleanup_free char *x = sub("rootfs/x"), *y = sub("rootfs/y"),
                    *tmp = sub("rootfs/tmp"), *null2 = sub("rootfs/dev/null2");
  ck_assert(stat(x, &st) == 0 && S_ISDIR(st.st_mode));
  ck_assert(stat(tmp, &st) == 0 && S_ISDIR(st.st_mode));
  ck_assert(stat(y, &st) == 0 && S_ISREG(st.st_mode));
  ck_assert(stat(null2, &st) == 0 && S_ISREG(st.st_mode));
  vm_shares_free(&sh);

  /* over virtio-fs, with vm.image: the rootfs is the guest's first disk */
  struct vm_settings fs = {.share = VM_SHARE_VIRTIOFS,
                           .image = (char *)"/images/root.qcow2"};
  ck_assert_msg(vm_shares_plan(spec, &fs, rootfs, state, &sh, &err) == 0,
                "%s", err ? err->msg : "");
  ck_assert(sh.v[0].disk && sh.v[0].readonly);
  ck_assert_str_eq(sh.v[0].host_path, "/images/root.qcow2");
  free(take_ptr(text));
  text = vm_shares_guest_text(&sh);
  ck_assert_str_eq(text, "vda /bundle/rootfs ro disk virtio-blk\n"
                         "hull-bind-1 /bundle/binds/1 rw dir virtiofs\n"
                         "hull-bind-2 /bundle/binds/2 ro entry virtiofs\n");
  vm_shares_free(&sh);
  spec_free(spec);
}
END_TEST

static Suite *vm_image_suite(void) {
  Suite *s = suite_create("vm-image");
  TCase *config = tcase_create("guest_config");
  tcase_add_test(config, guest_config_docker_style);
  tcase_add_test(config, guest_config_hull_spec);
  tcase_add_test(config, guest_config_bad_json);
  suite_add_tcase(s, config);
  TCase *image = tcase_create("initramfs");
  tcase_add_checked_fixture(image, setup, teardown);
  tcase_set_timeout(image, 30);
  tcase_add_test(image, base_has_init_and_libraries);
  tcase_add_test(image, base_is_cached);
  tcase_add_test(image, container_archive);
  tcase_add_test(image, mount_point_copied_empty);
  tcase_add_test(image, concatenation);
  tcase_add_test(image, too_big_for_memory);
  tcase_add_test(image, missing_bind_source);
  tcase_add_test(image, shares_plan);
  suite_add_tcase(s, image);
  return s;
}

HULL_SUITE(vm_image_suite)
