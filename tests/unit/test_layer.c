/* test_layer.c — images/layer.c: layer blobs unpacked for overlayfs, their
 * diff_ids, and crafted layers that try to write outside the layer
 * directory. Well-formed layers are made by GNU tar, gzip and zstd from a
 * staged tree; malicious ones by a small ustar writer here, since no tar
 * tool writes them on purpose (with our own uid/gid, so that they unpack
 * without root). Tests of foreign ownership, devices and trusted.* xattrs
 * skip without root. */
#include "images/images.h"
#include "tests/suite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#define OCI_TAR "application/vnd.oci.image.layer.v1.tar"
#define OCI_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define DOCKER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define CANARY_TEXT "canary\n"

/* A scratch directory: layer/ (the destination), canary (a file a
 * malicious layer aims at), and the tar files. */
struct scratch {
  char dir[64];
  char *layer, *canary;
};

static void scratch_make(struct scratch *s) {
  snprintf(s->dir, sizeof s->dir, "/tmp/hull-layer-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(s->dir));
  s->layer = xasprintf("%s/layer", s->dir);
  s->canary = xasprintf("%s/canary", s->dir);
  ck_assert_int_eq(mkdir(s->layer, 0755), 0);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(s->canary, CANARY_TEXT,
                                     strlen(CANARY_TEXT), 0644, &err), 0);
}

static void scratch_free(struct scratch *s) {
  hull_error_t err = NULL;
  if (remove_tree(s->dir, &err) < 0)
    hull_error_release(&err);
  free(s->layer);
  free(s->canary);
}

/* The canary is as it was, alone, and the scratch directory holds only
 * what the test put there: nothing was written outside the layer. */
static void assert_canary_untouched(const struct scratch *s) {
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(s->canary, &text, NULL, &err), 0);
  ck_assert_str_eq(text, CANARY_TEXT);
  struct stat st;
  ck_assert_int_eq(stat(s->canary, &st), 0);
  ck_assert_int_eq(st.st_nlink, 1);
  ck_assert_int_eq(st.st_mode & 07777, 0644);
  ck_assert_int_eq(stat(s->dir, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0700);
  cleanup_free char *cmd = xasprintf(
      "test \"$(ls -A %s | grep -v '\\.tar' | tr '\\n' ' ')\" = "
      "'canary layer '", s->dir);
  ck_assert_int_eq(system(cmd), 0);
}

/* ---- a ustar writer for crafted layers -------------------------------- */

struct tar_entry {
  const char *name;
  char type; /* '0' file, '1' hard link, '2' symlink, '3' char, '5' dir */
  const char *link;
  const char *data;
  unsigned mode, major, minor;
};

static void octal(char *field, size_t len, unsigned long long v) {
  char digits[32];
  snprintf(digits, sizeof digits, "%0*llo", (int)len - 1, v);
  memcpy(field, digits, len - 1);
}

static void tar_write(FILE *f, const struct tar_entry *e) {
  char h[512] = {0};
  size_t size = e->data ? strlen(e->data) : 0;
  snprintf(h, 100, "%s", e->name);
  octal(h + 100, 8, e->mode ? e->mode : (e->type == '5' ? 0755 : 0644));
  /* Our own ids, so that the unpacker's chown works without root. */
  octal(h + 108, 8, geteuid());
  octal(h + 116, 8, getegid());
  octal(h + 124, 12, size);
  octal(h + 136, 12, 1700000000);
  h[156] = e->type;
  if (e->link)
    snprintf(h + 157, 100, "%s", e->link);
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  octal(h + 329, 8, e->major);
  octal(h + 337, 8, e->minor);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (size_t i = 0; i < sizeof h; i++)
    sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);
  ck_assert_uint_eq(fwrite(h, 1, sizeof h, f), sizeof h);
  if (size) {
    char pad[512] = {0};
    ck_assert_uint_eq(fwrite(e->data, 1, size, f), size);
    ck_assert_uint_eq(fwrite(pad, 1, (512 - size % 512) % 512, f),
                      (512 - size % 512) % 512);
  }
}

/* A tar of entries (ended by one with no name) at <scratch>/name. */
static char *tar_make(const struct scratch *s, const char *name,
                      const struct tar_entry *entries) {
  char *path = xasprintf("%s/%s", s->dir, name);
  FILE *f = fopen(path, "we");
  ck_assert_ptr_nonnull(f);
  for (const struct tar_entry *e = entries; e->name; e++)
    tar_write(f, e);
  char end[1024] = {0};
  ck_assert_uint_eq(fwrite(end, 1, sizeof end, f), sizeof end);
  ck_assert_int_eq(fclose(f), 0);
  return path;
}

/* ---- running the unpacker --------------------------------------------- */

/* Unpacks path into dest; returns the error message (NULL: success). */
static char *unpack(const char *path, const char *media_type,
                    const char *dest, struct image_layer_unpacked *out) {
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  struct image_layer_unpacked ignored;
  hull_error_t err = NULL;
  if (image_layer_unpack(fd, media_type, dest, out ? out : &ignored, &err) ==
      0) {
    ck_assert_ptr_null(err);
    return NULL;
  }
  ck_assert_ptr_nonnull(err);
  char *msg = xstrdup(err->msg);
  hull_error_release(&err);
  ck_assert_ptr_null(strchr(msg, '\n'));
  return msg;
}

static void assert_refused(const char *path, const char *dest,
                           const char *want) {
  cleanup_free char *msg = unpack(path, OCI_TAR, dest, NULL);
  ck_assert_ptr_nonnull(msg);
  ck_assert_str_eq(msg, want);
}

static void run_cmd(char *cmd) {
  ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
  free(cmd);
}
#define run(...) run_cmd(xasprintf(__VA_ARGS__))

static char *sha256sum(const char *path) {
  cleanup_free char *cmd = xasprintf("sha256sum %s", path);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char hex[65] = {0};
  ck_assert_int_eq(fscanf(p, "%64s", hex), 1);
  ck_assert_int_eq(pclose(p), 0);
  return xasprintf("sha256:%s", hex);
}

static bool is_root(void) { return geteuid() == 0; }

/* Without openat2 (old kernels, valgrind) the unpacker refuses every
 * symlink on an entry's path, with another message. */
static bool have_openat2(void) {
  struct open_how how = {.flags = O_PATH | O_CLOEXEC};
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
  if (fd >= 0)
    close(fd);
  return fd >= 0 || errno != ENOSYS;
}

/* What refusing an entry written through a symlink that leaves says. */
static char *through_symlink(const char *entry, const char *what) {
  const char *sep = *what ? " " : "";
  if (have_openat2())
    return xasprintf("layer entry \"%s\": %s%sescapes the layer directory",
                     entry, what, sep);
  return xasprintf("layer entry \"%s\": %s%sgoes through a symlink hull "
                   "does not follow (a loop, or no openat2 before Linux 5.6)",
                   entry, what, sep);
}

#define NEEDS_ROOT() SKIP_UNLESS(is_root(), "not root (ownership, devices, " \
                                            "trusted.* xattrs need it)")

static void assert_missing(const char *dir, const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  struct stat st;
  ck_assert_msg(lstat(path, &st) < 0 && errno == ENOENT, "%s exists", path);
}

/* ---- well-formed layers ----------------------------------------------- */

/* security.capability for cap_net_bind_service=ep (VFS_CAP_REVISION_2). */
static const unsigned char net_bind_cap[20] = {0x01, 0, 0, 0x02, 0x00, 0x04};

static void stage(const char *src) {
  cleanup_free char *d = xasprintf("%s/dir", src);
  cleanup_free char *f = xasprintf("%s/dir/setuid", src);
  cleanup_free char *ping = xasprintf("%s/ping", src);
  cleanup_free char *hard = xasprintf("%s/dir/hard", src);
  cleanup_free char *sym = xasprintf("%s/link", src);
  cleanup_free char *chr = xasprintf("%s/null", src);
  cleanup_free char *blk = xasprintf("%s/loop", src);
  cleanup_free char *fifo = xasprintf("%s/fifo", src);
  cleanup_free char *tmp = xasprintf("%s/tmp", src);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  ck_assert_int_eq(mkdir(d, 0750), 0);
  ck_assert_int_eq(mkdir(tmp, 0755), 0);
  ck_assert_int_eq(chmod(tmp, 01777), 0);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(f, "hello\n", 6, 0644, &err), 0);
  ck_assert_int_eq(chown(f, 1234, 5678), 0);
  ck_assert_int_eq(chmod(f, 04755), 0);
  ck_assert_int_eq(setxattr(f, "user.note", "kept", 4, 0), 0);
  ck_assert_int_eq(write_file_atomic(ping, "ping", 4, 0755, &err), 0);
  ck_assert_int_eq(setxattr(ping, "security.capability", net_bind_cap,
                            sizeof net_bind_cap, 0), 0);
  ck_assert_int_eq(link(f, hard), 0);
  ck_assert_int_eq(symlink("dir/setuid", sym), 0);
  ck_assert_int_eq(mknod(chr, S_IFCHR | 0666, makedev(1, 3)), 0);
  ck_assert_int_eq(chmod(chr, 0666), 0);
  ck_assert_int_eq(mknod(blk, S_IFBLK | 0660, makedev(7, 200)), 0);
  ck_assert_int_eq(mkfifo(fifo, 0620), 0);
  ck_assert_int_eq(chmod(fifo, 0620), 0);
  /* A sparse file (1 MiB, 3 bytes of data at the end) and a name longer
   * than ustar's 100 bytes. */
  cleanup_free char *sparse = xasprintf("%s/sparse", src);
  cleanup_close int sfd = open(sparse, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ck_assert_int_ge(sfd, 0);
  ck_assert_int_eq(pwrite(sfd, "end", 3, (1 << 20) - 3), 3);
  cleanup_free char *long_name = xasprintf("%s/dir/%0150d", src, 7);
  ck_assert_int_eq(write_file_atomic(long_name, "long", 4, 0644, &err), 0);
  struct timespec t[2] = {{.tv_sec = 1600000000, .tv_nsec = 0},
                          {.tv_sec = 1600000000, .tv_nsec = 0}};
  ck_assert_int_eq(utimensat(AT_FDCWD, f, t, 0), 0);
  ck_assert_int_eq(utimensat(AT_FDCWD, sym, t, AT_SYMLINK_NOFOLLOW), 0);
  t[0].tv_sec = t[1].tv_sec = 1500000000;
  ck_assert_int_eq(utimensat(AT_FDCWD, d, t, 0), 0);
}

/* GNU tar of the staged tree: --xattrs with every namespace. */
static char *stage_tar(const struct scratch *s) {
  cleanup_free char *src = xasprintf("%s/src.tar.d", s->dir);
  stage(src);
  char *tar = xasprintf("%s/layer.tar", s->dir);
  run("tar --xattrs --xattrs-include='*' --numeric-owner --sparse -cf %s "
      "-C %s .",
      tar, src);
  return tar;
}

START_TEST(every_kind_of_entry_and_its_metadata_is_kept) {
  NEEDS_ROOT();
  struct scratch s;
  scratch_make(&s);
  cleanup_free char *tar = stage_tar(&s);
  cleanup_free char *msg = unpack(tar, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);

  struct stat st;
  cleanup_free char *f = xasprintf("%s/dir/setuid", s.layer);
  ck_assert_int_eq(lstat(f, &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 04755);
  ck_assert_int_eq(st.st_uid, 1234);
  ck_assert_int_eq(st.st_gid, 5678);
  ck_assert_int_eq(st.st_mtime, 1600000000);
  ck_assert_int_eq(st.st_size, 6);
  char value[64];
  ck_assert_int_eq(lgetxattr(f, "user.note", value, sizeof value), 4);
  ck_assert_int_eq(memcmp(value, "kept", 4), 0);

  struct stat hard;
  cleanup_free char *h = xasprintf("%s/dir/hard", s.layer);
  ck_assert_int_eq(lstat(h, &hard), 0);
  ck_assert_int_eq(hard.st_ino, st.st_ino);
  ck_assert_int_eq(hard.st_nlink, 2);

  cleanup_free char *ping = xasprintf("%s/ping", s.layer);
  unsigned char cap[64];
  ck_assert_int_eq(lgetxattr(ping, "security.capability", cap, sizeof cap),
                   sizeof net_bind_cap);
  ck_assert_int_eq(memcmp(cap, net_bind_cap, sizeof net_bind_cap), 0);

  cleanup_free char *d = xasprintf("%s/dir", s.layer);
  ck_assert_int_eq(lstat(d, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0750);
  ck_assert_int_eq(st.st_mtime, 1500000000);
  cleanup_free char *tmp = xasprintf("%s/tmp", s.layer);
  ck_assert_int_eq(lstat(tmp, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 01777);

  cleanup_free char *sym = xasprintf("%s/link", s.layer);
  char target[64] = {0};
  ck_assert_int_eq(readlink(sym, target, sizeof target - 1), 10);
  ck_assert_str_eq(target, "dir/setuid");
  ck_assert_int_eq(lstat(sym, &st), 0);
  ck_assert_int_eq(st.st_mtime, 1600000000);

  cleanup_free char *chr = xasprintf("%s/null", s.layer);
  ck_assert_int_eq(lstat(chr, &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  ck_assert_int_eq(st.st_rdev, makedev(1, 3));
  ck_assert_int_eq(st.st_mode & 07777, 0666);
  cleanup_free char *blk = xasprintf("%s/loop", s.layer);
  ck_assert_int_eq(lstat(blk, &st), 0);
  ck_assert(S_ISBLK(st.st_mode));
  ck_assert_int_eq(st.st_rdev, makedev(7, 200));
  cleanup_free char *fifo = xasprintf("%s/fifo", s.layer);
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0620);

  cleanup_free char *sparse = xasprintf("%s/sparse", s.layer);
  ck_assert_int_eq(lstat(sparse, &st), 0);
  ck_assert_int_eq(st.st_size, 1 << 20);
  ck_assert_int_lt(st.st_blocks * 512, 1 << 19);
  cleanup_free char *sparse_text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(sparse, &sparse_text, NULL, &err), 0);
  ck_assert_str_eq(sparse_text + (1 << 20) - 3, "end");
  ck_assert_int_eq(sparse_text[0], '\0');
  cleanup_free char *long_name = xasprintf("%s/dir/%0150d", s.layer, 7);
  ck_assert_int_eq(access(long_name, F_OK), 0);
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

START_TEST(whiteouts_and_opaque_directories_take_overlay_form) {
  NEEDS_ROOT();
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry entries[] = {
      {.name = "etc/", .type = '5'},
      {.name = "etc/.wh.motd", .type = '0'},
      {.name = "var/", .type = '5'},
      {.name = "var/cache/", .type = '5'},
      {.name = "var/cache/.wh..wh..opq", .type = '0'},
      {.name = "var/cache/new", .type = '0', .data = "new\n"},
      /* A whiteout for a name this layer makes hides nothing. */
      {.name = "etc/hostname", .type = '0', .data = "box\n"},
      {.name = "etc/.wh.hostname", .type = '0'},
      {0}};
  cleanup_free char *tar = tar_make(&s, "layer.tar", entries);
  cleanup_free char *msg = unpack(tar, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);

  struct stat st;
  cleanup_free char *motd = xasprintf("%s/etc/motd", s.layer);
  ck_assert_int_eq(lstat(motd, &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  ck_assert_int_eq(st.st_rdev, makedev(0, 0));
  cleanup_free char *etc = xasprintf("%s/etc", s.layer);
  assert_missing(etc, ".wh.motd");
  assert_missing(etc, ".wh.hostname");
  cleanup_free char *hostname = xasprintf("%s/etc/hostname", s.layer);
  ck_assert_int_eq(lstat(hostname, &st), 0);
  ck_assert(S_ISREG(st.st_mode));

  cleanup_free char *cache = xasprintf("%s/var/cache", s.layer);
  char value[8];
  ck_assert_int_eq(lgetxattr(cache, "trusted.overlay.opaque", value,
                             sizeof value), 1);
  ck_assert_int_eq(value[0], 'y');
  assert_missing(cache, ".wh..wh..opq");
  cleanup_free char *var = xasprintf("%s/var", s.layer);
  ck_assert_int_lt(lgetxattr(var, "trusted.overlay.opaque", value,
                             sizeof value), 0);
  scratch_free(&s);
}
END_TEST

/* overlayfs reads trusted.overlay.* (redirect, metacopy, origin, opaque):
 * a tar that carries them would change what the mount shows. */
START_TEST(overlay_xattrs_in_the_tar_are_dropped) {
  NEEDS_ROOT();
  struct scratch s;
  scratch_make(&s);
  cleanup_free char *src = xasprintf("%s/src.tar.d", s.dir);
  cleanup_free char *dir = xasprintf("%s/dir", src);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  ck_assert_int_eq(setxattr(dir, "trusted.overlay.redirect", "/etc", 4, 0), 0);
  ck_assert_int_eq(setxattr(dir, "trusted.overlay.opaque", "y", 1, 0), 0);
  ck_assert_int_eq(setxattr(dir, "user.overlay.origin", "x", 1, 0), 0);
  ck_assert_int_eq(setxattr(dir, "user.kept", "1", 1, 0), 0);
  cleanup_free char *tar = xasprintf("%s/layer.tar", s.dir);
  run("tar --xattrs --xattrs-include='*' -cf %s -C %s .", tar, src);
  cleanup_free char *msg = unpack(tar, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);
  cleanup_free char *out = xasprintf("%s/dir", s.layer);
  char value[16];
  ck_assert_int_lt(lgetxattr(out, "trusted.overlay.redirect", value,
                             sizeof value), 0);
  ck_assert_int_lt(lgetxattr(out, "trusted.overlay.opaque", value,
                             sizeof value), 0);
  ck_assert_int_lt(lgetxattr(out, "user.overlay.origin", value,
                             sizeof value), 0);
  ck_assert_int_eq(lgetxattr(out, "user.kept", value, sizeof value), 1);
  scratch_free(&s);
}
END_TEST

/* The proof of the overlay form: two unpacked layers under overlayfs (in a
 * child's own mount namespace) show what a container would see. 0 when it
 * all held, else the step that failed. */
static int overlay_view(const char *lower, const char *upper_layer,
                        const char *mnt) {
  if (unshare(CLONE_NEWNS) < 0 ||
      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return 10;
  cleanup_free char *opts = xasprintf("lowerdir=%s:%s", upper_layer, lower);
  if (mount("overlay", mnt, "overlay", MS_RDONLY, opts) < 0)
    return errno == ENODEV ? 77 : 11;
  struct stat st;
  cleanup_free char *motd = xasprintf("%s/etc/motd", mnt);
  cleanup_free char *issue = xasprintf("%s/etc/issue", mnt);
  cleanup_free char *old = xasprintf("%s/var/cache/old", mnt);
  cleanup_free char *fresh = xasprintf("%s/var/cache/new", mnt);
  if (lstat(motd, &st) == 0 || errno != ENOENT)
    return 12; /* whited out */
  if (lstat(issue, &st) < 0)
    return 13; /* untouched */
  if (lstat(old, &st) == 0 || errno != ENOENT)
    return 14; /* hidden by the opaque directory */
  if (lstat(fresh, &st) < 0)
    return 15;
  return 0;
}

START_TEST(overlayfs_reads_the_whiteouts_and_opaque_directories) {
  NEEDS_ROOT();
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry base[] = {
      {.name = "etc/motd", .type = '0', .data = "hi\n"},
      {.name = "etc/issue", .type = '0', .data = "debian\n"},
      {.name = "var/cache/old", .type = '0', .data = "old\n"},
      {0}};
  const struct tar_entry change[] = {
      {.name = "etc/.wh.motd", .type = '0'},
      {.name = "var/cache/.wh..wh..opq", .type = '0'},
      {.name = "var/cache/new", .type = '0', .data = "new\n"},
      {0}};
  cleanup_free char *base_tar = tar_make(&s, "base.tar", base);
  cleanup_free char *change_tar = tar_make(&s, "change.tar", change);
  cleanup_free char *lower = xasprintf("%s/layer/base", s.dir);
  cleanup_free char *upper = xasprintf("%s/layer/change", s.dir);
  cleanup_free char *mnt = xasprintf("%s/layer/mnt", s.dir);
  ck_assert_int_eq(mkdir(lower, 0755), 0);
  ck_assert_int_eq(mkdir(upper, 0755), 0);
  ck_assert_int_eq(mkdir(mnt, 0755), 0);
  cleanup_free char *m1 = unpack(base_tar, OCI_TAR, lower, NULL);
  ck_assert_msg(m1 == NULL, "%s", m1);
  cleanup_free char *m2 = unpack(change_tar, OCI_TAR, upper, NULL);
  ck_assert_msg(m2 == NULL, "%s", m2);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(overlay_view(lower, upper, mnt));
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) {
    scratch_free(&s);
    SKIP_TEST("no overlay file system in this kernel");
  }
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  scratch_free(&s);
}
END_TEST

START_TEST(diff_id_is_the_sha256_of_the_uncompressed_tar) {
  struct scratch s;
  scratch_make(&s);
  /* GNU tar pads to 10 KiB records: the padding is part of the digest. */
  cleanup_free char *src = xasprintf("%s/src.tar.d", s.dir);
  cleanup_free char *dir = xasprintf("%s/dir", src);
  cleanup_free char *file = xasprintf("%s/dir/setuid", src);
  ck_assert_int_eq(mkdir(src, 0755), 0);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(file, "hello\n", 6, 0644, &err), 0);
  cleanup_free char *tar = xasprintf("%s/layer.tar", s.dir);
  run("tar -cf %s -C %s .", tar, src);
  cleanup_free char *want = sha256sum(tar);
  struct stat st;
  ck_assert_int_eq(stat(tar, &st), 0);
  run("gzip -k -c %s > %s.gz", tar, tar);
  run("zstd -q -c %s > %s.zst", tar, tar);
  static const struct {
    const char *suffix, *media_type;
  } kinds[] = {{"", OCI_TAR}, {".gz", OCI_GZIP}, {".zst", OCI_ZSTD},
               {".gz", DOCKER_GZIP}};
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    cleanup_free char *blob = xasprintf("%s%s", tar, kinds[i].suffix);
    cleanup_free char *dest = xasprintf("%s/layer%zu", s.dir, i);
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    struct image_layer_unpacked out = {0};
    cleanup_free char *msg = unpack(blob, kinds[i].media_type, dest, &out);
    ck_assert_msg(msg == NULL, "%s: %s", kinds[i].media_type, msg);
    ck_assert_str_eq(out.diff_id.text, want);
    ck_assert_uint_eq(out.bytes, (uint64_t)st.st_size);
    cleanup_free char *setuid = xasprintf("%s/dir/setuid", dest);
    ck_assert_int_eq(access(setuid, F_OK), 0);
  }
  scratch_free(&s);
}
END_TEST

START_TEST(media_type_and_data_must_agree) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry entries[] = {{.name = "a", .type = '0'}, {0}};
  cleanup_free char *tar = tar_make(&s, "layer.tar", entries);
  cleanup_free char *msg = unpack(tar, OCI_GZIP, s.layer, NULL);
  ck_assert_str_eq(msg, "layer data: not gzip as its media type "
                        OCI_GZIP " says");
  cleanup_free char *msg2 =
      unpack(tar, "application/vnd.oci.image.config.v1+json", s.layer, NULL);
  ck_assert_str_eq(msg2, "layer media type "
                         "\"application/vnd.oci.image.config.v1+json\": not "
                         "a layer (application/vnd.oci.image.layer.v1.tar, "
                         "+gzip, +zstd or "
                         "application/vnd.docker.image.rootfs.diff.tar.gzip)");
  assert_missing(s.layer, "a");
  scratch_free(&s);
}
END_TEST

START_TEST(corrupt_and_truncated_layers_are_one_line_errors) {
  struct scratch s;
  scratch_make(&s);
  static char big[200000];
  uint32_t x = 2463534242u; /* xorshift: text that barely compresses */
  for (size_t i = 0; i < sizeof big - 1; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    big[i] = (char)('!' + x % 90);
  }
  const struct tar_entry entries[] = {
      {.name = "big", .type = '0', .data = big}, {0}};
  cleanup_free char *tar = tar_make(&s, "layer.tar", entries);
  run("gzip -k -c %s > %s.gz", tar, tar);
  run("zstd -q -c %s > %s.zst", tar, tar);
  /* Zeros over the middle of the deflate stream. (libarchive does not
   * check the gzip trailer's CRC: a change that still inflates is caught by
   * the blob's digest and the diff_id, which callers compare.) */
  run("dd if=/dev/zero of=%s.gz bs=1 seek=4000 count=2048 conv=notrunc "
      "status=none", tar);
  cleanup_free char *gz = xasprintf("%s.gz", tar);
  cleanup_free char *msg = unpack(gz, OCI_GZIP, s.layer, NULL);
  ck_assert_str_eq(msg, "layer data: Damaged tar archive");

  static const struct {
    const char *suffix, *media_type;
    const char *want;
  } kinds[] = {{"", OCI_TAR, "layer data: Truncated tar archive"},
               {".zst", OCI_ZSTD, "layer data: Truncated zstd input"},
               {".gz2", OCI_GZIP, "layer data: truncated gzip input"}};
  run("gzip -k -c %s > %s.gz2", tar, tar);
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
    cleanup_free char *blob = xasprintf("%s%s", tar, kinds[i].suffix);
    run("truncate -s 50000 %s", blob);
    cleanup_free char *dest = xasprintf("%s/layer%zu", s.dir, i);
    ck_assert_int_eq(mkdir(dest, 0755), 0);
    cleanup_free char *m = unpack(blob, kinds[i].media_type, dest, NULL);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m, kinds[i].want);
  }
  scratch_free(&s);
}
END_TEST

/* ---- malicious layers ------------------------------------------------- */

START_TEST(dot_dot_above_the_layer_is_refused) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry up[] = {
      {.name = "../canary", .type = '0', .data = "pwned\n"}, {0}};
  cleanup_free char *tar = tar_make(&s, "up.tar", up);
  assert_refused(tar, s.layer,
                 "layer entry \"../canary\": escapes the layer directory");
  const struct tar_entry deeper[] = {
      {.name = "a/", .type = '5'},
      {.name = "a/../../canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar2 = tar_make(&s, "deeper.tar", deeper);
  assert_refused(tar2, s.layer, "layer entry \"a/../../canary\": escapes "
                                "the layer directory");
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

START_TEST(absolute_names_land_inside_the_layer) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry abs[] = {
      {.name = s.canary, .type = '0', .data = "pwned\n"}, {0}};
  cleanup_free char *tar = tar_make(&s, "abs.tar", abs);
  cleanup_free char *msg = unpack(tar, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);
  cleanup_free char *inside = xasprintf("%s%s", s.layer, s.canary);
  cleanup_free char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(inside, &text, NULL, &err), 0);
  ck_assert_str_eq(text, "pwned\n");
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

START_TEST(writes_through_a_symlink_that_leaves_are_refused) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry absolute[] = {
      {.name = "a", .type = '2', .link = s.dir},
      {.name = "a/canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar = tar_make(&s, "absolute.tar", absolute);
  cleanup_free char *want_a = through_symlink("a/canary", "");
  assert_refused(tar, s.layer, want_a);
  const struct tar_entry relative[] = {
      {.name = "b", .type = '2', .link = ".."},
      {.name = "b/canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar2 = tar_make(&s, "relative.tar", relative);
  cleanup_free char *want_b = through_symlink("b/canary", "");
  assert_refused(tar2, s.layer, want_b);
  /* A directory made through the symlink would chmod the target. */
  const struct tar_entry dir[] = {
      {.name = "c", .type = '2', .link = s.dir},
      {.name = "c/sub/", .type = '5', .mode = 0777},
      {0}};
  cleanup_free char *tar3 = tar_make(&s, "dir.tar", dir);
  cleanup_free char *want_c = through_symlink("c/sub/", "");
  assert_refused(tar3, s.layer, want_c);
  const struct tar_entry loop[] = {
      {.name = "l", .type = '2', .link = "l"},
      {.name = "l/canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar4 = tar_make(&s, "loop.tar", loop);
  assert_refused(tar4, s.layer, "layer entry \"l/canary\": goes through a "
                                "symlink hull does not follow (a loop, or no "
                                "openat2 before Linux 5.6)");
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

START_TEST(symlinks_inside_the_layer_are_followed) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry entries[] = {
      {.name = "usr/lib/", .type = '5'},
      {.name = "lib", .type = '2', .link = "usr/lib"},
      {.name = "lib/libc.so", .type = '0', .data = "elf"},
      {0}};
  cleanup_free char *tar = tar_make(&s, "layer.tar", entries);
  if (!have_openat2()) {
    cleanup_free char *want = through_symlink("lib/libc.so", "");
    assert_refused(tar, s.layer, want);
    scratch_free(&s);
    return;
  }
  cleanup_free char *msg = unpack(tar, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);
  cleanup_free char *libc = xasprintf("%s/usr/lib/libc.so", s.layer);
  ck_assert_int_eq(access(libc, F_OK), 0);
  scratch_free(&s);
}
END_TEST

START_TEST(hard_links_outside_the_layer_are_refused) {
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry passwd[] = {
      {.name = "pw", .type = '1', .link = "/etc/passwd"}, {0}};
  cleanup_free char *tar = tar_make(&s, "passwd.tar", passwd);
  assert_refused(tar, s.layer, "layer entry \"pw\": hard link to "
                               "\"/etc/passwd\": No such file or directory");
  const struct tar_entry up[] = {
      {.name = "x", .type = '1', .link = "../canary"}, {0}};
  cleanup_free char *tar2 = tar_make(&s, "up.tar", up);
  assert_refused(tar2, s.layer, "layer entry \"x\": hard link to "
                                "\"../canary\" escapes the layer directory");
  const struct tar_entry via[] = {
      {.name = "a", .type = '2', .link = s.dir},
      {.name = "y", .type = '1', .link = "a/canary"},
      {0}};
  cleanup_free char *tar3 = tar_make(&s, "via.tar", via);
  cleanup_free char *want_y = through_symlink("y", "hard link to "
                                                   "\"a/canary\"");
  assert_refused(tar3, s.layer, want_y);
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

START_TEST(a_directory_replaced_by_a_symlink_is_not_written_through) {
  struct scratch s;
  scratch_make(&s);
  /* dir, then a symlink over it, then a file below the name. */
  const struct tar_entry to_symlink[] = {
      {.name = "d/", .type = '5'},
      {.name = "d", .type = '2', .link = s.dir},
      {.name = "d/canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar = tar_make(&s, "to-symlink.tar", to_symlink);
  cleanup_free char *want_d = through_symlink("d/canary", "");
  assert_refused(tar, s.layer, want_d);
  /* symlink, then a directory over it (the symlink goes, nothing is
   * chmod-ed through it), then a file below: lands inside. */
  const struct tar_entry to_dir[] = {
      {.name = "e", .type = '2', .link = s.dir},
      {.name = "e/", .type = '5', .mode = 0777},
      {.name = "e/canary", .type = '0', .data = "pwned\n"},
      {0}};
  cleanup_free char *tar2 = tar_make(&s, "to-dir.tar", to_dir);
  cleanup_free char *msg = unpack(tar2, OCI_TAR, s.layer, NULL);
  ck_assert_msg(msg == NULL, "%s", msg);
  cleanup_free char *e = xasprintf("%s/e", s.layer);
  struct stat st;
  ck_assert_int_eq(lstat(e, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert_int_eq(st.st_mode & 07777, 0777);
  cleanup_free char *inside = xasprintf("%s/e/canary", s.layer);
  ck_assert_int_eq(access(inside, F_OK), 0);
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

/* In a child without CAP_MKNOD: the device is skipped with a warning on
 * stderr, the rest unpacked. Exit 0 when all of that held. */
static int unpack_without_mknod(const char *tar, const char *dest,
                                int warning_fd) {
  cap_t caps = cap_get_proc();
  cap_value_t mknod_cap = CAP_MKNOD;
  if (caps == NULL ||
      cap_set_flag(caps, CAP_EFFECTIVE, 1, &mknod_cap, CAP_CLEAR) < 0 ||
      cap_set_proc(caps) < 0)
    return 10;
  cap_free(caps);
  if (dup2(warning_fd, 2) < 0)
    return 11;
  cleanup_close int fd = open(tar, O_RDONLY | O_CLOEXEC);
  struct image_layer_unpacked out;
  hull_error_t err = NULL;
  if (image_layer_unpack(fd, OCI_TAR, dest, &out, &err) < 0)
    return 12;
  return 0;
}

START_TEST(devices_are_skipped_without_cap_mknod) {
  NEEDS_ROOT();
  struct scratch s;
  scratch_make(&s);
  const struct tar_entry entries[] = {
      {.name = "dev/", .type = '5'},
      {.name = "dev/sda", .type = '4', .major = 8, .minor = 0},
      {.name = "dev/null", .type = '3', .major = 1, .minor = 3},
      {.name = "dev/fifo", .type = '6'},
      {.name = "etc/hostname", .type = '0', .data = "box\n"},
      {.name = "etc/.wh.motd", .type = '0'},
      {0}};
  cleanup_free char *tar = tar_make(&s, "layer.tar", entries);
  int pipe_fds[2];
  ck_assert_int_eq(pipe2(pipe_fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(unpack_without_mknod(tar, s.layer, pipe_fds[1]));
  close(pipe_fds[1]);
  char warnings[4096] = {0};
  ck_assert_int_ge(read_all(pipe_fds[0], warnings, sizeof warnings - 1), 0);
  close(pipe_fds[0]);
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "child: status %d, stderr: %s", status, warnings);
  /* logrus' text form: the message quoted, its quotes escaped. */
  ck_assert_msg(strstr(warnings, "level=warning msg=\"layer entry "
                                 "\\\"dev/sda\\\": device node skipped "
                                 "(no CAP_MKNOD)\"\n") != NULL, "%s", warnings);
  ck_assert_msg(strstr(warnings, "level=warning msg=\"layer entry "
                                 "\\\"dev/null\\\": device node skipped "
                                 "(no CAP_MKNOD)\"\n") != NULL, "%s", warnings);
  cleanup_free char *dev = xasprintf("%s/dev", s.layer);
  assert_missing(dev, "sda");
  assert_missing(dev, "null");
  cleanup_free char *fifo = xasprintf("%s/dev/fifo", s.layer);
  struct stat st;
  ck_assert_int_eq(lstat(fifo, &st), 0);
  ck_assert(S_ISFIFO(st.st_mode));
  cleanup_free char *hostname = xasprintf("%s/etc/hostname", s.layer);
  ck_assert_int_eq(access(hostname, F_OK), 0);
  /* A whiteout needs no CAP_MKNOD (Linux 5.8). */
  cleanup_free char *motd = xasprintf("%s/etc/motd", s.layer);
  ck_assert_int_eq(lstat(motd, &st), 0);
  ck_assert(S_ISCHR(st.st_mode));
  ck_assert_int_eq(st.st_rdev, makedev(0, 0));
  assert_canary_untouched(&s);
  scratch_free(&s);
}
END_TEST

/* Before openat2: every component opened with O_NOFOLLOW, so a symlink on
 * the way is refused even where it would stay inside. */
START_TEST(the_fallback_walk_refuses_every_symlink) {
  struct scratch s;
  scratch_make(&s);
  cleanup_free char *ab = xasprintf("%s/a/b", s.layer);
  cleanup_free char *a = xasprintf("%s/a", s.layer);
  cleanup_free char *link = xasprintf("%s/s", s.layer);
  ck_assert_int_eq(mkdir(a, 0755), 0);
  ck_assert_int_eq(mkdir(ab, 0755), 0);
  ck_assert_int_eq(symlink("a", link), 0);
  cleanup_close int dest = open(s.layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(dest, 0);
  int fd = layer_open_walk(dest, "a/b", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  close(fd);
  fd = layer_open_walk(dest, "", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_lt(layer_open_walk(dest, "s/b", O_PATH | O_DIRECTORY, 0), 0);
  ck_assert_int_eq(errno, ELOOP);
  ck_assert_int_lt(layer_open_walk(dest, "s", O_RDONLY, 0), 0);
  ck_assert_int_eq(errno, ELOOP);
  /* The kernel's resolution follows it: it stays inside. */
  fd = layer_open_beneath(dest, "s/b", O_PATH | O_DIRECTORY, 0);
  ck_assert_int_eq(fd >= 0, have_openat2());
  if (fd >= 0)
    close(fd);
  scratch_free(&s);
}
END_TEST

static Suite *layer_suite(void) {
  Suite *s = suite_create("layer");
  TCase *tc = tcase_create("layer");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, every_kind_of_entry_and_its_metadata_is_kept);
  tcase_add_test(tc, whiteouts_and_opaque_directories_take_overlay_form);
  tcase_add_test(tc, overlayfs_reads_the_whiteouts_and_opaque_directories);
  tcase_add_test(tc, overlay_xattrs_in_the_tar_are_dropped);
  tcase_add_test(tc, diff_id_is_the_sha256_of_the_uncompressed_tar);
  tcase_add_test(tc, media_type_and_data_must_agree);
  tcase_add_test(tc, corrupt_and_truncated_layers_are_one_line_errors);
  tcase_add_test(tc, dot_dot_above_the_layer_is_refused);
  tcase_add_test(tc, absolute_names_land_inside_the_layer);
  tcase_add_test(tc, writes_through_a_symlink_that_leaves_are_refused);
  tcase_add_test(tc, symlinks_inside_the_layer_are_followed);
  tcase_add_test(tc, hard_links_outside_the_layer_are_refused);
  tcase_add_test(tc, a_directory_replaced_by_a_symlink_is_not_written_through);
  tcase_add_test(tc, devices_are_skipped_without_cap_mknod);
  tcase_add_test(tc, the_fallback_walk_refuses_every_symlink);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(layer_suite)
