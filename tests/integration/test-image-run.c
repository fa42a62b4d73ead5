/* test-image-run.c — containers made from images: `hull run --image`
 * (layers unpacked once into the store, an overlayfs rootfs whose writes
 * land in the container's upper directory, --rm and `delete` removing it),
 * the full-copy fallback, `hull image mount|umount`, gc keeping what
 * containers use, and a layer that does not match its config refused.
 * The image and its store: image-fixture.h. */
#include "tests/integration/image-fixture.h"
#include "images/images.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static bool exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

/* The one unpacked layer directory whose etc/marker holds text. */
static char *layer_with_marker(const char *store, const char *text) {
  cleanup_free char *dir = xasprintf("%s/layers/sha256", store);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  char *found = NULL;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      cleanup_free char *m = xasprintf("%s/%s/etc/marker", dir, e->d_name);
      cleanup_free char *got = hread_file(m);
      if (got && strcmp(got, text) == 0)
        found = xasprintf("%s/%s", dir, e->d_name);
    }
  closedir(d);
  ck_assert_msg(found, "no layer with etc/marker %s", text);
  return found;
}

START_TEST(run_image_command_and_image_cmd) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);

  struct hres r = hrun_image(c, store, "--rm", "--", "/bin/echo", "hi");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "hi\n");
  hres_free(&r);
  /* No command: the image's Cmd. */
  r = hrun_image(c, store, "--rm");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "from-image\n");
  hres_free(&r);
  /* The upper layer wins and the whiteout hides the lower file. */
  r = hrun_image(c, store, "--rm", "--name", c->id, "--", "/bin/sh", "-c",
                 "cat /etc/marker; test -e /etc/gone || echo no-gone");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "two\nno-gone\n");
  hres_free(&r);
  /* --rm leaves no container, bundle, upper directory or mount. */
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  ck_assert_int_eq(hcount_entries(c->root), 0);
  ck_assert(!image_mounted_under(store));
  hctx_finish(c);
}
END_TEST

START_TEST(layers_unpacked_once) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--rm",
              "--", "/bin/true");
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);
  cleanup_free char *top = layer_with_marker(store, "two\n");
  struct stat before, after;
  ck_assert_int_eq(stat(top, &before), 0);
  sleep(1); /* a re-unpack would show in the directory's ctime */
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--rm",
              "--", "/bin/true");
  ck_assert_int_eq(stat(top, &after), 0);
  ck_assert_int_eq(before.st_ino, after.st_ino);
  ck_assert_int_eq(before.st_ctim.tv_sec, after.st_ctim.tv_sec);
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);
  hctx_finish(c);
}
END_TEST

START_TEST(writes_land_in_upper_and_delete_removes_them) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres r = hrun_image(c, store, "--name", c->id, "--", "/bin/sh", "-c",
                             "echo w > /etc/written; echo x > /etc/marker");
  ck_assert_hres(r, 0);
  hres_free(&r);
  /* Without --rm the container stays (stopped), as podman's. */
  cleanup_free char *status = hstate_status(c, c->id, NULL);
  ck_assert_str_eq(status, "stopped");
  cleanup_free char *bundle = xasprintf("%s/containers/%s", store, c->id);
  cleanup_free char *upper = xasprintf("%s/.upper/etc/written", bundle);
  cleanup_free char *written = hread_file(upper);
  ck_assert_str_eq(written, "w\n");
  cleanup_free char *top = layer_with_marker(store, "two\n");
  cleanup_free char *in_layer = xasprintf("%s/etc/written", top);
  ck_assert(!exists(in_layer));

  /* A container's bundle is not umount's to undo. */
  r = hrun(c, "image", "umount", bundle, NULL);
  cleanup_free char *refused = xasprintf(
      "bundle `%s`: not made by hull image mount", bundle);
  hexpect_one_line_error(r, refused);
  hres_free(&r);
  ck_assert(image_mounted_under(bundle));

  hrun_expect(0, c, "delete", c->id);
  ck_assert(!exists(bundle));
  ck_assert(!image_mounted_under(store));
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(copy_fallback_run_and_mount) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  setenv("HULL_IMAGE_ROOTFS", "copy", 1);
  struct hres r = hrun_image(c, store, "--rm", "--", "/bin/sh", "-c",
                             "cat /etc/marker; test -e /etc/gone || echo ok;"
                             " grep -c ' - overlay ' /proc/self/mountinfo");
  unsetenv("HULL_IMAGE_ROOTFS");
  ck_assert_hres(r, 1); /* grep -c found none */
  ck_assert_str_eq(r.out, "two\nok\n0\n");
  hres_free(&r);

  cleanup_free char *bundle = xasprintf("%s/b", c->dir);
  hrun_expect(0, c, "image", "--image-root", store, "mount", "--copy", REF,
              bundle);
  cleanup_free char *marker = xasprintf("%s/rootfs/etc/marker", bundle);
  cleanup_free char *gone = xasprintf("%s/rootfs/etc/gone", bundle);
  cleanup_free char *text = hread_file(marker);
  ck_assert_str_eq(text, "two\n");
  ck_assert(!exists(gone));
  ck_assert(!image_mounted_under(bundle));
  char value[8];
  ck_assert_int_eq(lgetxattr(marker, "trusted.hull", value, sizeof(value)),
                   1);
  ck_assert_int_eq(value[0], 'x');
  cleanup_free char *link = xasprintf("%s/rootfs/etc/marker-link", bundle);
  struct stat a, b;
  ck_assert_int_eq(stat(marker, &a), 0);
  ck_assert_int_eq(stat(link, &b), 0);
  ck_assert_int_eq(a.st_ino, b.st_ino); /* still one file */
  hrun_expect(0, c, "image", "umount", bundle);
  cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
  ck_assert(!exists(rootfs));
  ck_assert_int_eq(hcount_entries(bundle), 0);

  /* A path overlayfs's options cannot carry gets the copy too. */
  cleanup_free char *odd = xasprintf("%s/a,b:c", c->dir);
  hrun_expect(0, c, "image", "--image-root", store, "mount", REF, odd);
  cleanup_free char *odd_marker = xasprintf("%s/rootfs/etc/marker", odd);
  cleanup_free char *odd_text = hread_file(odd_marker);
  ck_assert_str_eq(odd_text, "two\n");
  ck_assert(!image_mounted_under(odd));
  hrun_expect(0, c, "image", "umount", odd);
  ck_assert_int_eq(hcount_entries(odd), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(mount_and_umount_overlay) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  cleanup_free char *bundle = xasprintf("%s/b", c->dir);
  hrun_expect(0, c, "image", "--image-root", store, "mount", REF, bundle);
  cleanup_free char *rootfs = xasprintf("%s/rootfs", bundle);
  ck_assert(image_mounted_under(rootfs));
  cleanup_free char *marker = xasprintf("%s/etc/marker", rootfs);
  cleanup_free char *text = hread_file(marker);
  ck_assert_str_eq(text, "two\n");
  cleanup_free char *cfg_path = xasprintf("%s/config.json", bundle);
  cleanup_free char *cfg = hread_file(cfg_path);
  const char *root_path[] = {"root", "path", NULL};
  cleanup_free char *root = hjson_string(cfg, root_path);
  ck_assert_str_eq(root, rootfs);
  /* The bundle runs as any other. */
  struct hres r = hrun(c, "run", "--bundle", bundle, c->id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "from-image\n");
  hres_free(&r);
  /* A second mount on it is refused. */
  r = hrun(c, "image", "--image-root", store, "mount", REF, bundle, NULL);
  ck_assert_hres(r, 1);
  ck_assert(hcontains(r.err, "config.json exists already"));
  hres_free(&r);
  /* gc keeps what a mounted bundle uses, even unnamed. */
  ck_assert_int_eq(image_count_in(store, "mounts"), 1);
  hrun_expect(0, c, "image", "--image-root", store, "rm", REF);
  hrun_expect(0, c, "image", "--image-root", store, "gc");
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);
  free(text);
  text = hread_file(marker);
  ck_assert_str_eq(text, "two\n");

  hrun_expect(0, c, "image", "umount", bundle);
  ck_assert(!image_mounted_under(rootfs));
  ck_assert_int_eq(hcount_entries(bundle), 0);
  ck_assert_int_eq(image_count_in(store, "mounts"), 0);
  hrun_expect(0, c, "image", "--image-root", store, "gc");
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 0);
  ck_assert_int_eq(image_count_in(store, "blobs/sha256"), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(gc_keeps_what_containers_use) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--name",
              c->id, "--", "/bin/true");
  /* The name goes; the container still uses the image. */
  hrun_expect(0, c, "image", "--image-root", store, "rm", REF);
  int blobs = image_count_in(store, "blobs/sha256");
  hrun_expect(0, c, "image", "--image-root", store, "gc");
  ck_assert_int_eq(image_count_in(store, "blobs/sha256"), blobs);
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);

  hrun_expect(0, c, "delete", c->id);
  struct hres r = hrun(c, "image", "--image-root", store, "gc", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "deleted: layer sha256:"), "gc: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(image_count_in(store, "blobs/sha256"), 0);
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 0);
  hctx_finish(c);
}
END_TEST

/* A layout whose one layer (a plain tar of one file) is listed in the
 * config with the digest of other bytes. */
static void make_lying_image(struct hctx *c, const char *store,
                             struct image_digest *layer,
                             struct image_digest *claimed) {
  ck_assert_msg(access(TAR, X_OK) == 0, "a test without its tar skip");
  cleanup_free char *lay = xasprintf("%s/liar", c->dir);
  cleanup_free char *blobs = xasprintf("%s/blobs/sha256", lay);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(blobs, 0755, &err), 0);
  cleanup_free char *content = xasprintf("%s/content", c->dir);
  ck_assert_int_eq(mkdir_p(content, 0755, &err), 0);
  cleanup_free char *file = xasprintf("%s/f", content);
  hwrite_file(file, "data\n", 0644);
  cleanup_free char *tarball = xasprintf("%s/layer.tar", c->dir);
  hrun_tool((char *[]){TAR, "-C", content, "-cf", tarball, "f", NULL});
  cleanup_free char *tar = NULL;
  size_t tar_len;
  ck_assert_int_eq(read_file(tarball, &tar, &tar_len, &err), 0);
  image_digest_of(IMAGE_SHA256, tar, tar_len, layer);
  image_digest_of(IMAGE_SHA256, "other", 5, claimed);

  struct { const char *name; char *data; struct image_digest d; } b[3];
  b[0].data = xasprintf(
      "{\"architecture\": \"%s\", \"os\": \"linux\", \"rootfs\": {\"type\": "
      "\"layers\", \"diff_ids\": [\"%s\"]}}", image_host_architecture(),
      claimed->text);
  image_digest_of(IMAGE_SHA256, b[0].data, strlen(b[0].data), &b[0].d);
  b[1].data = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"config\": "
      "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}, "
      "\"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\","
      " \"digest\": \"%s\", \"size\": %zu}]}", IMAGE_MT_MANIFEST,
      IMAGE_MT_CONFIG, b[0].d.text, strlen(b[0].data), layer->text, tar_len);
  image_digest_of(IMAGE_SHA256, b[1].data, strlen(b[1].data), &b[1].d);
  for (int i = 0; i < 2; i++) {
    cleanup_free char *p = xasprintf("%s/%s", blobs, image_digest_hex(&b[i].d));
    hwrite_file(p, b[i].data, 0644);
  }
  cleanup_free char *lp = xasprintf("%s/%s", blobs, image_digest_hex(layer));
  ck_assert_int_eq(rename(tarball, lp), 0);
  cleanup_free char *oci = xasprintf("%s/oci-layout", lay);
  hwrite_file(oci, "{\"imageLayoutVersion\": \"1.0.0\"}", 0644);
  cleanup_free char *index = xasprintf(
      "{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"%s\", "
      "\"digest\": \"%s\", \"size\": %zu, \"annotations\": {\"%s\": \"t\"}}]}",
      IMAGE_MT_MANIFEST, b[1].d.text, strlen(b[1].data),
      IMAGE_ANNOTATION_REF_NAME);
  cleanup_free char *ip = xasprintf("%s/index.json", lay);
  hwrite_file(ip, index, 0644);
  free(b[0].data);
  free(b[1].data);
  hrun_expect(0, c, "image", "--image-root", store, "import", lay);
}

START_TEST(mismatched_diff_id_refused_leaving_nothing) {
  SKIP_UNLESS(access(TAR, X_OK) == 0, "no tar at " TAR);
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  struct image_digest layer, claimed;
  make_lying_image(c, store, &layer, &claimed);
  struct hres r = hrun(c, "run", "--image", "localhost/liar:t",
                       "--image-root", store, "--rm", "--name", c->id, "--",
                       "/f", NULL);
  cleanup_free char *want = xasprintf(
      "layer %s: diff_id %s does not match the config's rootfs.diff_ids[0] "
      "%s", layer.text, layer.text, claimed.text);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 0);
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  /* Only the layer's lock file is left in tmp/, no partial layer. */
  cleanup_free char *tmp = xasprintf("%s/tmp", store);
  DIR *d = opendir(tmp);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d)))
    ck_assert_msg(e->d_name[0] == '.' || strstr(e->d_name, ".lock"),
                  "left in tmp/: %s", e->d_name);
  closedir(d);
  hctx_finish(c);
}
END_TEST

START_TEST(unknown_image_is_one_line_error) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  struct hres r = hrun(c, "run", "--image", "nosuch", "--image-root", store,
                       "--rm", NULL);
  hexpect_one_line_error(r, "image \\\"nosuch\\\": no such image");
  hres_free(&r);
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  r = hrun(c, "run", "--rm", c->id, NULL);
  hexpect_one_line_error(r, "run: --rm is for --image");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST


START_TEST(two_runs_at_once_unpack_each_layer_once) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  cleanup_free char *id_a = xasprintf("%s-a", c->id);
  cleanup_free char *id_b = xasprintf("%s-b", c->id);
  char *args_a[] = {"run", "--image", REF, "--image-root", store, "--rm",
                    "--name", id_a, "--", "/bin/echo", "a", NULL};
  char *args_b[] = {"run", "--image", REF, "--image-root", store, "--rm",
                    "--name", id_b, "--", "/bin/echo", "b", NULL};
  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  struct hbg a = hstart(c, args_a, gate[0], -1);
  struct hbg b = hstart(c, args_b, gate[0], -1);
  close(gate[0]);
  ck_assert_int_eq(write(gate[1], "gg", 2), 2);
  close(gate[1]);
  struct hres ra = hbg_wait(&a, 30000), rb = hbg_wait(&b, 30000);
  ck_assert_hres(ra, 0);
  ck_assert_hres(rb, 0);
  ck_assert_str_eq(ra.out, "a\n");
  ck_assert_str_eq(rb.out, "b\n");
  hres_free(&ra);
  hres_free(&rb);
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(leftover_unpack_ignored_and_collected) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  /* What an unpack killed half-way leaves: a temp directory in tmp/. */
  cleanup_free char *half = xasprintf("%s/tmp/layer-%064d-Ab12Cd/etc", store,
                                      0);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(half, 0755, &err), 0);
  struct hres r = hrun_image(c, store, "--rm", "--", "/bin/cat", "/etc/marker");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "two\n");
  hres_free(&r);
  hrun_expect(0, c, "image", "--image-root", store, "gc");
  ck_assert_int_eq(image_count_in(store, "tmp"), 0);
  /* The named image's layers stay. */
  ck_assert_int_eq(image_count_in(store, "layers/sha256"), 2);
  hctx_finish(c);
}
END_TEST

START_TEST(detached_run_then_delete_force) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  struct hres r = hrun_image(c, store, "-d", "--name", c->id, "--",
                             "/bin/sleep", "60");
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(hwait_status(c, c->id, "running", 5000));
  cleanup_free char *rootfs = xasprintf("%s/containers/%s/rootfs", store,
                                        c->id);
  ck_assert(image_mounted_under(rootfs));
  r = hrun_image(c, store, "-d", "--rm", "--name", "x");
  hexpect_one_line_error(r, "run: --rm and --detach cannot go together "
                           "(nothing stays to remove the container)");
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", c->id);
  ck_assert(!image_mounted_under(store));
  ck_assert_int_eq(image_count_in(store, "containers"), 0);
  hctx_finish(c);
}
END_TEST

START_TEST(run_without_name_gets_generated_id) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--",
              "/bin/true");
  struct hres r = hrun(c, "list", "-q", NULL);
  ck_assert_hres(r, 0);
  ck_assert_int_eq(strlen(r.out), 13);
  for (int i = 0; i < 12; i++)
    ck_assert_msg(strchr("0123456789abcdef", r.out[i]), "id: %s", r.out);
  r.out[12] = '\0';
  cleanup_free char *id = xstrdup(r.out);
  hres_free(&r);
  cleanup_free char *bundle = xasprintf("%s/containers/%s", store, id);
  ck_assert(exists(bundle));
  hrun_expect(0, c, "delete", id);
  ck_assert(!exists(bundle));
  hctx_finish(c);
}
END_TEST

/* A pid that no process has (a child that exited and was reaped). */
static pid_t dead_pid(void) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(0);
  ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
  return pid;
}

START_TEST(gc_removes_bundle_of_a_run_killed_before_create) {
  SKIP_WITHOUT_UMOCI();
  struct hctx *c = hctx_new();
  cleanup_free char *store = image_store_of(c);
  image_make(c, store, NULL);
  hrun_expect(0, c, "run", "--image", REF, "--image-root", store, "--name",
              c->id, "--", "/bin/true");
  cleanup_free char *bundle = xasprintf("%s/containers/%s", store, c->id);
  /* While its container exists, the bundle is kept. */
  hrun_expect(0, c, "image", "--image-root", store, "gc");
  ck_assert(exists(bundle));
  /* What a run SIGKILLed between making the bundle and create leaves: a
   * record naming a container that does not exist, and a dead run. */
  cleanup_free char *record_path = xasprintf("%s/.hull-image", bundle);
  cleanup_free char *record = hread_file(record_path);
  ck_assert_ptr_nonnull(record);
  char *state = strstr(record, "\nstate ");
  ck_assert_ptr_nonnull(state);
  *state = '\0';
  cleanup_free char *forged = xasprintf("%s\nstate %s %s-never\npid %d\n",
                                        record, c->root, c->id,
                                        (int)dead_pid());
  hwrite_file(record_path, forged, 0600);
  struct hres r = hrun(c, "image", "--image-root", store, "gc", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *line = xasprintf("deleted: bundle %s\n", bundle);
  ck_assert_msg(hcontains(r.out, line), "gc: %s", r.out);
  hres_free(&r);
  ck_assert(!exists(bundle));
  ck_assert(!image_mounted_under(store));
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}
END_TEST

static Suite *image_run_suite(void) {
  Suite *s = suite_create("integration-image-run");
  TCase *tc = harness_tcase("image-run", 90);
  tcase_add_test(tc, run_image_command_and_image_cmd);
  tcase_add_test(tc, layers_unpacked_once);
  tcase_add_test(tc, writes_land_in_upper_and_delete_removes_them);
  tcase_add_test(tc, copy_fallback_run_and_mount);
  tcase_add_test(tc, mount_and_umount_overlay);
  tcase_add_test(tc, gc_keeps_what_containers_use);
  tcase_add_test(tc, mismatched_diff_id_refused_leaving_nothing);
  tcase_add_test(tc, unknown_image_is_one_line_error);
  tcase_add_test(tc, two_runs_at_once_unpack_each_layer_once);
  tcase_add_test(tc, leftover_unpack_ignored_and_collected);
  tcase_add_test(tc, detached_run_then_delete_force);
  tcase_add_test(tc, run_without_name_gets_generated_id);
  tcase_add_test(tc, gc_removes_bundle_of_a_run_killed_before_create);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(image_run_suite)
