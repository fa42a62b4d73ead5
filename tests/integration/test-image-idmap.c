/* test-image-idmap.c — containers of an image in a user namespace of their
 * own: `hull run --image --uidmap/--gidmap` and `hull image mount` with
 * them. The container sees the image's files as their owners in the tar
 * (root's as 0) through idmapped lowers, while the shared layer directories
 * on the host stay as unpacked (never chowned), and two containers with
 * different maps share them; what a container writes lands in its upper
 * directory as its host uid.
 *
 * The image is made with tar alone (GNU tar here, busybox's in the test
 * VM, which has no umoci): the test rootfs as one layer, and a second
 * holding /data/owned, owned by 1000:1000. The store sits in the test's
 * directory; where that file system cannot be idmapped (tmpfs before Linux
 * 6.3: the VM's /tmp), on an ext4 loop mount made for the test. */
#include "tests/integration/harness.h"
#include "images/images.h"
#include "runtime/common/common.h"
#include "runtime/linux/linux.h"
#include "runtime/spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define REF "localhost/idmap:t"
#define MAPS_100000 "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536"

static const char *tar_path(void) {
  static const char *const tars[] = {"/usr/bin/tar", "/bin/tar"};
  for (size_t i = 0; i < 2; i++)
    if (access(tars[i], X_OK) == 0)
      return tars[i];
  return NULL;
}

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* Whether a mount point lies at or under path. */
static bool mounted_under(const char *path) {
  cleanup_free char *info = hread_file("/proc/self/mountinfo");
  cleanup_free char *needle = xasprintf(" %s", path);
  return info && hcontains(info, needle);
}

static void expect_owner(const char *path, uid_t uid, gid_t gid) {
  struct stat st;
  ck_assert_msg(lstat(path, &st) == 0, "stat %s", path);
  ck_assert_msg(st.st_uid == uid && st.st_gid == gid,
                "%s is owned by %u:%u, want %u:%u", path, (unsigned)st.st_uid,
                (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
}

/* ---- where the store can be idmapped ---------------------------------------- */

static const char *tool(const char *a, const char *b) {
  return access(a, X_OK) == 0 ? a : access(b, X_OK) == 0 ? b : NULL;
}

/* An ext4 file system on a loop device at c->dir/fs, for a test directory
 * on a file system the kernel cannot idmap. Returns its mount point, or
 * NULL (with *why) when this host cannot make one. */
static char *mount_ext4(struct hctx *c, const char **why) {
  const char *mke2fs = tool("/usr/sbin/mke2fs", "/bin/mke2fs");
  const char *mount_cmd = tool("/usr/bin/mount", "/bin/mount");
  if (mke2fs == NULL || mount_cmd == NULL) {
    *why = "the test directory's file system cannot be idmapped and there "
           "is no mke2fs or mount to make an ext4 one";
    return NULL;
  }
  cleanup_free char *file = xasprintf("%s/fs.img", c->dir);
  char *mnt = xasprintf("%s/fs", c->dir);
  int fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, 64 << 20), 0);
  close(fd);
  ck_assert_int_eq(mkdir(mnt, 0755), 0);
  hrun_tool((char *[]){(char *)mke2fs, "-F", file, NULL});
  /* ext4's driver mounts busybox's ext2 too, idmappable as ext4. */
  hrun_tool((char *[]){(char *)mount_cmd, "-t", "ext4", "-o", "loop", file,
                      mnt, NULL});
  if (!hcan_idmap(mnt)) {
    umount2(mnt, MNT_DETACH);
    free(mnt);
    *why = "the kernel idmaps neither the test directory's file system nor "
           "ext4";
    return NULL;
  }
  return mnt;
}

/* The store's directory, on a file system the kernel idmaps; *mnt: a loop
 * mount made for it (unmount_store), or NULL. */
static char *store_dir(struct hctx *c, char **mnt, const char **why) {
  *mnt = NULL;
  if (hcan_idmap(c->dir))
    return xasprintf("%s/images", c->dir);
  *mnt = mount_ext4(c, why);
  return *mnt ? xasprintf("%s/images", *mnt) : NULL;
}

static void unmount_store(char *mnt) {
  if (mnt)
    ck_assert_msg(umount2(mnt, 0) == 0, "umount %s: %s", mnt,
                  strerror(errno));
  free(mnt);
}

/* ---- the image ------------------------------------------------------------ */

static void write_blob(const char *blobs, const char *data, size_t len,
                       struct image_digest *d) {
  image_digest_of(IMAGE_SHA256, data, len, d);
  cleanup_free char *p = xasprintf("%s/%s", blobs, image_digest_hex(d));
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write_all(fd, data, len), 0);
  close(fd);
}

/* dir's entries as an uncompressed layer blob; its digest (its diff_id)
 * in *d and size in *size. */
static void tar_layer(struct hctx *c, const char *blobs, const char *dir,
                      struct image_digest *d, size_t *size) {
  cleanup_free char *tarball = xasprintf("%s/layer.tar", c->dir);
  hrun_tool((char *[]){(char *)tar_path(), "-C", (char *)dir, "-cf", tarball,
                      ".", NULL});
  cleanup_free char *data = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(read_file(tarball, &data, size, &err), 0);
  write_blob(blobs, data, *size, d);
  unlink(tarball);
}

/* The image REF: the test rootfs, then /data/owned (1000:1000), Cmd
 * ["/bin/true"]; imported into store. */
static void make_image(struct hctx *c, const char *store) {
  ck_assert_msg(tar_path(), "a test without its tar skip");
  const char *rootfs = getenv("HULL_TEST_ROOTFS");
  ck_assert_ptr_nonnull(rootfs);
  cleanup_free char *lay = xasprintf("%s/layout", c->dir);
  cleanup_free char *blobs = xasprintf("%s/blobs/sha256", lay);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(blobs, 0755, &err), 0);
  cleanup_free char *content = xasprintf("%s/content", c->dir);
  cleanup_free char *data = xasprintf("%s/data", content);
  ck_assert_int_eq(mkdir_p(data, 0755, &err), 0);
  cleanup_free char *owned = xasprintf("%s/owned", data);
  hwrite_file(owned, "mine\n", 0644);
  ck_assert_int_eq(chown(owned, 1000, 1000), 0);

  struct image_digest l[2], config, manifest;
  size_t size[2];
  tar_layer(c, blobs, rootfs, &l[0], &size[0]);
  tar_layer(c, blobs, content, &l[1], &size[1]);
  ck_assert_int_eq(remove_tree(content, &err), 0);
  cleanup_free char *cfg = xasprintf(
      "{\"architecture\": \"%s\", \"os\": \"linux\", \"config\": {\"Cmd\": "
      "[\"/bin/true\"]}, \"rootfs\": {\"type\": \"layers\", \"diff_ids\": "
      "[\"%s\", \"%s\"]}}", image_host_architecture(), l[0].text, l[1].text);
  write_blob(blobs, cfg, strlen(cfg), &config);
  cleanup_free char *man = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"config\": "
      "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}, "
      "\"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\","
      " \"digest\": \"%s\", \"size\": %zu}, {\"mediaType\": "
      "\"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"%s\", "
      "\"size\": %zu}]}", IMAGE_MT_MANIFEST, IMAGE_MT_CONFIG, config.text,
      strlen(cfg), l[0].text, size[0], l[1].text, size[1]);
  write_blob(blobs, man, strlen(man), &manifest);
  cleanup_free char *oci = xasprintf("%s/oci-layout", lay);
  hwrite_file(oci, "{\"imageLayoutVersion\": \"1.0.0\"}", 0644);
  cleanup_free char *index = xasprintf(
      "{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"%s\", "
      "\"digest\": \"%s\", \"size\": %zu, \"annotations\": {\"%s\": "
      "\"localhost/idmap:t\"}}]}", IMAGE_MT_MANIFEST, manifest.text,
      strlen(man), IMAGE_ANNOTATION_REF_NAME);
  cleanup_free char *ip = xasprintf("%s/index.json", lay);
  hwrite_file(ip, index, 0644);
  hrun_expect(0, c, "image", "--image-root", store, "import", lay);
}

/* The unpacked layer that holds path. */
static char *layer_holding(const char *store, const char *path) {
  cleanup_free char *dir = xasprintf("%s/layers/sha256", store);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  char *found = NULL;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      cleanup_free char *p = xasprintf("%s/%s/%s", dir, e->d_name, path);
      if (found == NULL && exists(p))
        found = xasprintf("%s/%s", dir, e->d_name);
    }
  closedir(d);
  ck_assert_msg(found, "no layer holds %s", path);
  return found;
}

/* The test's store, made and holding REF; skips where no file system can
 * be idmapped. A macro: a skip must end the test. */
#define SETUP_STORE(c, store, mnt)                                            \
  SKIP_UNLESS(tar_path() != NULL, "no tar at /usr/bin/tar or /bin/tar");      \
  struct hctx *c = hctx_new();                                                \
  const char *why_ = NULL;                                                    \
  char *mnt = NULL;                                                           \
  cleanup_free char *store = store_dir(c, &mnt, &why_);                       \
  if (store == NULL) {                                                        \
    hctx_finish(c);                                                           \
    SKIP_TEST("%s", why_);                                                    \
  }                                                                           \
  make_image(c, store)

#define INSIDE "id -u; id -g; stat -c %u:%g / /bin/busybox /data/owned"

/* ---- tests ------------------------------------------------------------- */

START_TEST(mapped_container_sees_image_owners_and_writes_as_host_uid) {
  SETUP_STORE(c, store, mnt);
  struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                       "--name", c->id, MAPS_100000, "--", "/bin/sh", "-c",
                       INSIDE "; cat /proc/self/uid_map /proc/self/gid_map;"
                       " echo new > /made; echo root: >> /etc/passwd",
                       NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "0\n0\n0:0\n0:0\n1000:1000\n"
                          "         0     100000      65536\n"
                          "         0     100000      65536\n");
  hres_free(&r);
  /* On the host: the container's writes as its host ids, in its upper
   * directory; the shared layers as unpacked. */
  cleanup_free char *bundle = xasprintf("%s/containers/%s", store, c->id);
  cleanup_free char *made = xasprintf("%s/.upper/made", bundle);
  expect_owner(made, 100000, 100000);
  /* A file of the image, changed: copied up as the container's own. */
  cleanup_free char *copied = xasprintf("%s/.upper/etc/passwd", bundle);
  expect_owner(copied, 100000, 100000);
  cleanup_free char *base = layer_holding(store, "bin/busybox");
  cleanup_free char *busybox = xasprintf("%s/bin/busybox", base);
  expect_owner(base, 0, 0);
  expect_owner(busybox, 0, 0);
  cleanup_free char *top = layer_holding(store, "data/owned");
  cleanup_free char *owned = xasprintf("%s/data/owned", top);
  expect_owner(owned, 1000, 1000);
  cleanup_free char *text = hread_file(owned);
  ck_assert_str_eq(text, "mine\n");
  /* Only the overlay is mounted: the idmapped clones went once it held
   * its own. */
  cleanup_free char *lowers = xasprintf("%s/.lowers", bundle);
  ck_assert(!mounted_under(lowers));
  ck_assert(!exists(lowers));
  hrun_expect(0, c, "delete", c->id);
  ck_assert(!exists(bundle));
  ck_assert(!mounted_under(store));
  unmount_store(mnt);
  hctx_finish(c);
}
END_TEST

START_TEST(two_maps_share_one_unpacked_layer) {
  SETUP_STORE(c, store, mnt);
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--name", a,
              MAPS_100000, "--", "/bin/touch", "/made");
  cleanup_free char *base = layer_holding(store, "bin/busybox");
  struct stat before, after;
  ck_assert_int_eq(stat(base, &before), 0);
  /* Only --uidmap: the gids get the same map, as podman's. */
  struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                       "--name", b, "--uidmap", "0:200000:65536", "--",
                       "/bin/sh", "-c", INSIDE "; touch /made", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "0\n0\n0:0\n0:0\n1000:1000\n");
  hres_free(&r);
  /* Both overlays are mounted at once, on the same layer directories. */
  cleanup_free char *rootfs_a = xasprintf("%s/containers/%s/rootfs", store, a);
  cleanup_free char *rootfs_b = xasprintf("%s/containers/%s/rootfs", store, b);
  ck_assert(mounted_under(rootfs_a) && mounted_under(rootfs_b));
  cleanup_free char *made_a = xasprintf("%s/made", rootfs_a);
  cleanup_free char *made_b = xasprintf("%s/made", rootfs_b);
  expect_owner(made_a, 100000, 100000);
  expect_owner(made_b, 200000, 200000);
  /* The host sees each rootfs through its container's map. */
  cleanup_free char *bb_a = xasprintf("%s/bin/busybox", rootfs_a);
  cleanup_free char *bb_b = xasprintf("%s/bin/busybox", rootfs_b);
  expect_owner(bb_a, 100000, 100000);
  expect_owner(bb_b, 200000, 200000);
  ck_assert_int_eq(stat(base, &after), 0);
  ck_assert_int_eq(before.st_ino, after.st_ino);
  expect_owner(base, 0, 0);
  cleanup_free char *layers = xasprintf("%s/layers/sha256", store);
  ck_assert_int_eq(hcount_entries(layers), 2);
  hrun_expect(0, c, "delete", a);
  hrun_expect(0, c, "delete", b);
  ck_assert(!mounted_under(store));
  unmount_store(mnt);
  hctx_finish(c);
}
END_TEST

START_TEST(image_mount_with_maps_and_umount) {
  SETUP_STORE(c, store, mnt);
  cleanup_free char *bundle = xasprintf("%s/mounted", c->dir);
  hrun_expect(0, c, "image", "--image-root", store, "mount", MAPS_100000,
              REF, bundle);
  cleanup_free char *config_path = xasprintf("%s/config.json", bundle);
  cleanup_free char *config = hread_file(config_path);
  ck_assert_ptr_nonnull(config);
  ck_assert_msg(hcontains(config, "\"uidMappings\"") &&
                    hcontains(config, "\"gidMappings\"") &&
                    hcontains(config, "\"hostID\": 100000") &&
                    hcontains(config, "\"type\": \"user\""),
                "config.json: %s", config);
  cleanup_free char *upper = xasprintf("%s/.upper", bundle);
  cleanup_free char *work = xasprintf("%s/.work", bundle);
  expect_owner(upper, 100000, 100000);
  expect_owner(work, 100000, 100000);
  cleanup_free char *busybox = xasprintf("%s/rootfs/bin/busybox", bundle);
  expect_owner(busybox, 100000, 100000);
  /* The bundle runs as it is, with runc's command line (and is deleted
   * once it ran). */
  cleanup_free char *id = xasprintf("%s-m", c->id);
  struct hres r = hrun(c, "run", "--bundle", bundle, id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  hrun_expect(0, c, "image", "umount", bundle);
  ck_assert(!mounted_under(bundle));
  ck_assert_int_eq(hcount_entries(bundle), 0);
  cleanup_free char *lowers = xasprintf("%s/.lowers", bundle);
  ck_assert(!exists(lowers) && !exists(upper));
  unmount_store(mnt);
  hctx_finish(c);
}
END_TEST

START_TEST(copy_with_maps_is_chowned_layers_are_not) {
  SETUP_STORE(c, store, mnt);
  setenv("HULL_IMAGE_ROOTFS", "copy", 1);
  struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                       "--name", c->id, MAPS_100000, "--", "/bin/sh", "-c",
                       INSIDE "; grep -c ' - overlay ' /proc/self/mountinfo",
                       NULL);
  unsetenv("HULL_IMAGE_ROOTFS");
  ck_assert_hres(r, 1); /* grep -c found none: a copy */
  ck_assert_str_eq(r.out, "0\n0\n0:0\n0:0\n1000:1000\n0\n");
  hres_free(&r);
  cleanup_free char *rootfs = xasprintf("%s/containers/%s/rootfs", store,
                                        c->id);
  cleanup_free char *busybox = xasprintf("%s/bin/busybox", rootfs);
  cleanup_free char *owned = xasprintf("%s/data/owned", rootfs);
  ck_assert(!mounted_under(rootfs));
  expect_owner(rootfs, 100000, 100000);
  expect_owner(busybox, 100000, 100000);
  expect_owner(owned, 101000, 101000);
  cleanup_free char *base = layer_holding(store, "bin/busybox");
  cleanup_free char *layer_busybox = xasprintf("%s/bin/busybox", base);
  expect_owner(layer_busybox, 0, 0);
  hrun_expect(0, c, "delete", c->id);
  unmount_store(mnt);
  hctx_finish(c);
}
END_TEST

START_TEST(bad_maps_are_one_line_errors_leaving_nothing) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = xasprintf("%s/images", c->dir);
  static const struct { const char *flag, *text, *msg; } cases[] = {
      {"--uidmap", "0:100000", "--uidmap \\\"0:100000\\\": expected "
                               "CONTAINER_ID:HOST_ID:SIZE"},
      {"--gidmap", "0:x:1", "--gidmap \\\"0:x:1\\\": expected "
                            "CONTAINER_ID:HOST_ID:SIZE"},
      {"--uidmap", "0:100000:0", "--uidmap \\\"0:100000:0\\\": SIZE must be "
                                 "at least 1"},
      {"--gidmap", "0:4294967295:2", "--gidmap \\\"0:4294967295:2\\\": the "
                                     "range goes past id 4294967295"},
  };
  cleanup_free char *bundle = xasprintf("%s/mounted", c->dir);
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                         "--rm", cases[i].flag, cases[i].text, NULL);
    hexpect_one_line_error(r, cases[i].msg);
    hres_free(&r);
    r = hrun(c, "image", "--image-root", store, "mount", cases[i].flag,
             cases[i].text, REF, bundle, NULL);
    hexpect_one_line_error(r, cases[i].msg);
    hres_free(&r);
  }
  struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                       "--uidmap", "0:100000:10", "--uidmap", "5:300000:1",
                       NULL);
  hexpect_one_line_error(r, "--uidmap \\\"5:300000:1\\\": overlaps the "
                           "container ids of \\\"0:100000:10\\\"");
  hres_free(&r);
  r = hrun(c, "run", "--bundle", c->bundle, "--uidmap", "0:100000:10", c->id,
           NULL);
  hexpect_one_line_error(r, "run: --uidmap is for --image");
  hres_free(&r);
  /* Nothing was made: no store, bundle or container. */
  ck_assert(!exists(store));
  ck_assert(!exists(bundle));
  ck_assert_int_eq(hcount_entries(c->root), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(unreachable_bundle_names_the_directory) {
  SETUP_STORE(c, store, mnt);
  cleanup_free char *closed = xasprintf("%s/closed", c->dir);
  ck_assert_int_eq(mkdir(closed, 0700), 0);
  cleanup_free char *bundle = xasprintf("%s/b", closed);
  struct hres r = hrun(c, "image", "--image-root", store, "mount",
                       MAPS_100000, REF, bundle, NULL);
  cleanup_free char *want = xasprintf(
      "--uidmap: the container's root (host uid 100000) cannot search `%s`, "
      "on the way to its rootfs", closed);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert(!mounted_under(closed));
  ck_assert_int_eq(hcount_entries(bundle), 0);
  unmount_store(mnt);
  hctx_finish(c);
}
END_TEST

/* A store on a file system the kernel cannot idmap (ramfs has no idmapped
 * mounts on any kernel): a one-line error naming the layer and why, and
 * nothing left; with HULL_IMAGE_ROOTFS=copy the container runs. */
START_TEST(layer_fs_without_idmap_is_one_line_error) {
  SKIP_UNLESS(tar_path() != NULL, "no tar at /usr/bin/tar or /bin/tar");
  struct hctx *c = hctx_new();
  cleanup_free char *ram = xasprintf("%s/ram", c->dir);
  ck_assert_int_eq(mkdir(ram, 0755), 0);
  if (mount("ramfs", ram, "ramfs", 0, "mode=0755") < 0) {
    hctx_finish(c);
    SKIP_TEST("no ramfs: %s", strerror(errno));
  }
  if (hcan_idmap(ram)) {
    ck_assert_int_eq(umount2(ram, 0), 0);
    hctx_finish(c);
    SKIP_TEST("this kernel idmaps ramfs");
  }
  cleanup_free char *store = xasprintf("%s/images", ram);
  make_image(c, store);
  struct hres r = hrun(c, "run", "--image", REF, "--image-root", store,
                       "--rm", MAPS_100000, NULL);
  ck_assert_hres(r, 1);
  cleanup_free char *base = layer_holding(store, "bin/busybox");
  cleanup_free char *want = xasprintf(
      "idmapped lowers: the kernel cannot idmap layer `%s` (ramfs; --copy or "
      "HULL_IMAGE_ROOTFS=copy makes a chowned copy): Invalid argument", base);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  cleanup_free char *containers = xasprintf("%s/containers", store);
  ck_assert_int_eq(hcount_entries(containers), 0);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  cleanup_free char *below = xasprintf("%s/", ram);
  ck_assert(!mounted_under(below));

  setenv("HULL_IMAGE_ROOTFS", "copy", 1);
  r = hrun(c, "run", "--image", REF, "--image-root", store, "--rm",
           MAPS_100000, "--", "/bin/sh", "-c", INSIDE, NULL);
  unsetenv("HULL_IMAGE_ROOTFS");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "0\n0\n0:0\n0:0\n1000:1000\n");
  hres_free(&r);
  ck_assert_int_eq(umount2(ram, 0), 0);
  hctx_finish(c);
}
END_TEST

static Suite *image_idmap_suite(void) {
  Suite *s = suite_create("integration-image-idmap");
  TCase *tc = harness_tcase("image-idmap", 120);
  tcase_add_test(tc, mapped_container_sees_image_owners_and_writes_as_host_uid);
  tcase_add_test(tc, two_maps_share_one_unpacked_layer);
  tcase_add_test(tc, image_mount_with_maps_and_umount);
  tcase_add_test(tc, copy_with_maps_is_chowned_layers_are_not);
  tcase_add_test(tc, bad_maps_are_one_line_errors_leaving_nothing);
  tcase_add_test(tc, unreachable_bundle_names_the_directory);
  tcase_add_test(tc, layer_fs_without_idmap_is_one_line_error);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(image_idmap_suite)
