/* test-image.c — `hull image`: OCI image layouts imported into a store at
 * --image-root (in the test's directory), listed, inspected, named, removed
 * and collected; corrupted and malformed layouts refused with one line
 * naming the blob and field; imports at once, and after a SIGKILL.
 *
 * Layouts are made by umoci (Debian's) where a real tool's output matters,
 * and written here blob by blob where a test needs a precise defect. */
#include "tests/integration/harness.h"
#include "images/images.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define UMOCI "/usr/bin/umoci"
#define LAYER_MT "application/vnd.oci.image.layer.v1.tar"

/* What the archive tests need: GNU tar (-P keeps "../" in member names;
 * the test VM's busybox tar has no -P) and libarchive for hull. */
static bool archive_tools(void) {
  char real[4096];
  void *lib = dlopen("libarchive.so.13", RTLD_LAZY);
  if (lib == NULL)
    return false;
  dlclose(lib);
  return realpath("/usr/bin/tar", real) != NULL &&
         strstr(real, "busybox") == NULL;
}

static char *store_of(struct hctx *c) {
  return xasprintf("%s/images", c->dir);
}

static int count_in(const char *store, const char *sub) {
  cleanup_free char *p = xasprintf("%s/%s", store, sub);
  return hcount_entries(p);
}

/* ---- hand-made layouts ------------------------------------------------------ */

struct oci_dir {
  char *dir;
  struct image_digest config, layer, manifest;
  size_t config_len, layer_len, manifest_len;
};

static void write_bytes(const char *path, const void *data, size_t len) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ck_assert_msg(fd >= 0, "create %s", path);
  ck_assert_int_eq(write_all(fd, data, len), 0);
  close(fd);
}

static void put_blob(const char *dir, const void *data, size_t len,
                     struct image_digest *d) {
  image_digest_of(IMAGE_SHA256, data, len, d);
  cleanup_free char *path =
      xasprintf("%s/blobs/sha256/%s", dir, image_digest_hex(d));
  write_bytes(path, data, len);
}

/* A layer of layer_len deterministic bytes (an import stores layers as
 * bytes; nothing unpacks them here). */
static char *layer_bytes(size_t len) {
  char *b = xmalloc(len);
  uint32_t x = 12345;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245 + 12345;
    b[i] = (char)(x >> 16);
  }
  return b;
}

/* A layout at c->dir/<name> holding one image named by ref_name; the
 * manifest's JSON is manifest_fmt with the config and layer descriptors
 * (NULL: a correct one), its layer size as declared + size_delta. */
static struct oci_dir make_layout(struct hctx *c, const char *name,
                                 size_t layer_len, int size_delta,
                                 const char *manifest_fmt) {
  struct oci_dir l = {.dir = xasprintf("%s/%s", c->dir, name)};
  cleanup_free char *blobs = xasprintf("%s/blobs/sha256", l.dir);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(blobs, 0755, &err), 0);
  cleanup_free char *oci = xasprintf("%s/oci-layout", l.dir);
  hwrite_file(oci, "{\"imageLayoutVersion\": \"1.0.0\"}", 0644);

  cleanup_free char *layer = layer_bytes(layer_len);
  put_blob(l.dir, layer, layer_len, &l.layer);
  l.layer_len = layer_len;
  cleanup_free char *cfg = xasprintf(
      "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": "
      "{\"Cmd\": [\"/bin/sh\"]}, \"rootfs\": {\"type\": \"layers\", "
      "\"diff_ids\": [\"%s\"]}}", l.layer.text);
  put_blob(l.dir, cfg, strlen(cfg), &l.config);
  l.config_len = strlen(cfg);
  cleanup_free char *cdesc = xasprintf(
      "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}",
      IMAGE_MT_CONFIG, l.config.text, l.config_len);
  cleanup_free char *ldesc = xasprintf(
      "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu}", LAYER_MT,
      l.layer.text, (size_t)((long)layer_len + size_delta));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  cleanup_free char *manifest =
      manifest_fmt ? xasprintf(manifest_fmt, cdesc, ldesc)
                   : xasprintf("{\"schemaVersion\": 2, \"mediaType\": \"%s\", "
                               "\"config\": %s, \"layers\": [%s]}",
                               IMAGE_MT_MANIFEST, cdesc, ldesc);
#pragma GCC diagnostic pop
  put_blob(l.dir, manifest, strlen(manifest), &l.manifest);
  l.manifest_len = strlen(manifest);
  cleanup_free char *index = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"manifests\": [{"
      "\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu, "
      "\"annotations\": {\"%s\": \"1.0\"}}]}", IMAGE_MT_INDEX,
      IMAGE_MT_MANIFEST, l.manifest.text, l.manifest_len,
      IMAGE_ANNOTATION_REF_NAME);
  cleanup_free char *ipath = xasprintf("%s/index.json", l.dir);
  hwrite_file(ipath, index, 0644);
  return l;
}

static void layout_free(struct oci_dir *l) { free(l->dir); }

/* ---- tests -------------------------------------------------------------------- */

START_TEST(import_ls_inspect_tag_rm_gc) {
  SKIP_UNLESS(access(UMOCI, X_OK) == 0, "no umoci (Debian package umoci)");
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  cleanup_free char *lay = xasprintf("%s/app", c->dir);
  cleanup_free char *img = xasprintf("%s:1.0", lay);
  cleanup_free char *file = xasprintf("%s/hello", c->dir);
  hwrite_file(file, "hello from a layer\n", 0644);
  hrun_tool((char *[]){UMOCI, "init", "--layout", lay, NULL});
  hrun_tool((char *[]){UMOCI, "new", "--image", img, NULL});
  hrun_tool((char *[]){UMOCI, "insert", "--image", img, file, "/hello", NULL});
  hrun_tool((char *[]){UMOCI, "tag", "--image", img, "latest", NULL});

  struct hres r = himage(c, store, "import", lay);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: localhost/app:1.0\n"
                          "Loaded image: localhost/app:latest\n");
  hres_free(&r);

  r = himage(c, store, "inspect", "localhost/app:1.0");
  ck_assert_hres(r, 0);
  const char *os_path[] = {"config", "os", NULL};
  cleanup_free char *os = hjson_string(r.out, os_path);
  ck_assert_str_eq(os, "linux");
  ck_assert(hjson_valid(r.out));
  const char *digest_path[] = {"digest", NULL};
  cleanup_free char *digest = hjson_string(r.out, digest_path);
  ck_assert_ptr_nonnull(digest);
  ck_assert(hcontains(r.out, "\"localhost/app:latest\""));
  ck_assert(hcontains(r.out, "application/vnd.oci.image.layer.v1.tar+gzip"));
  hres_free(&r);
  int blobs = count_in(store, "blobs/sha256");
  ck_assert_int_eq(blobs, 3);   /* manifest, config, the layer */

  r = himage(c, store, "ls");
  ck_assert_hres(r, 0);
  cleanup_free char *row = xasprintf("localhost/app:1.0      %.12s   ",
                                     digest + 7);
  ck_assert_msg(hcontains(r.out, row), "ls: %s", r.out);
  ck_assert_msg(strncmp(r.out, "NAME ", 5) == 0, "ls: %s", r.out);
  hres_free(&r);

  hrun_expect(0, c, "image", "--image-root", store, "tag", "localhost/app:1.0",
              "myapp:v1");
  r = himage(c, store, "inspect", "myapp:v1");
  ck_assert_hres(r, 0);
  ck_assert(hcontains(r.out, "\"docker.io/library/myapp:v1\""));
  hres_free(&r);

  r = himage(c, store, "rm", "localhost/app:1.0");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Untagged: localhost/app:1.0\n");
  hres_free(&r);
  r = himage(c, store, "inspect", "localhost/app:1.0");
  hexpect_one_line_error(r, "image \\\"localhost/app:1.0\\\": no such image");
  hres_free(&r);

  /* Other names still reach every blob: gc keeps them. */
  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Total reclaimed space: 0B\n");
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), blobs);

  hrun_expect(0, c, "image", "--image-root", store, "rm", "localhost/app",
              "myapp:v1");
  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "deleted: sha256:") &&
                    hcontains(r.out, digest),
                "gc: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 0);
  r = himage(c, store, "ls");
  ck_assert_str_eq(r.out, "NAME   DIGEST         SIZE\n");
  hres_free(&r);

  /* --name with a tag names the image (both of umoci's tags are it);
   * without one it is the repository for each ref.name. */
  r = himage(c, store, "import", "--name", "myapp:v2", lay);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: docker.io/library/myapp:v2\n");
  hres_free(&r);
  r = himage(c, store, "import", lay, "--name", "example.com/team/app");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: example.com/team/app:1.0\n"
                          "Loaded image: example.com/team/app:latest\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(corrupted_blob_refused_leaving_nothing) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "bad", 1000, 0, NULL);
  cleanup_free char *path = xasprintf("%s/blobs/sha256/%s", l.dir,
                                      image_digest_hex(&l.layer));
  int fd = open(path, O_RDWR);
  char b;
  ck_assert_int_eq(pread(fd, &b, 1, 500), 1);
  b ^= 1;
  ck_assert_int_eq(pwrite(fd, &b, 1, 500), 1);
  close(fd);

  struct hres r = himage(c, store, "import", l.dir);
  cleanup_free char *want =
      xasprintf("blob %s: content does not match its digest", l.layer.text);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  cleanup_free char *stored = xasprintf("%s/blobs/sha256/%s", store,
                                        image_digest_hex(&l.layer));
  ck_assert_int_ne(access(stored, F_OK), 0);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  r = himage(c, store, "ls");
  ck_assert_str_eq(r.out, "NAME   DIGEST         SIZE\n");
  hres_free(&r);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

START_TEST(wrong_size_refused_leaving_nothing) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "short", 1000, 2, NULL);
  struct hres r = himage(c, store, "import", l.dir);
  cleanup_free char *want = xasprintf(
      "blob %s: size 1000 does not match the descriptor's 1002", l.layer.text);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  cleanup_free char *stored = xasprintf("%s/blobs/sha256/%s", store,
                                        image_digest_hex(&l.layer));
  ck_assert_int_ne(access(stored, F_OK), 0);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

START_TEST(bad_manifest_names_blob_and_field) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(
      c, "v2", 10, 0,
      "{\"schemaVersion\": 2, \"mediaType\": "
      "\"application/vnd.oci.image.manifest.v2+json\", \"config\": %s, "
      "\"layers\": [%s]}");
  struct hres r = himage(c, store, "import", l.dir);
  cleanup_free char *want = xasprintf(
      "manifest %s: .mediaType: \\\"application/vnd.oci.image.manifest.v2"
      "+json\\\" is not an image manifest (" IMAGE_MT_MANIFEST ")",
      l.manifest.text);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  layout_free(&l);

  struct oci_dir m = make_layout(c, "nolayers", 10, 0,
                                "{\"schemaVersion\": 2, \"config\": %s%.0s}");
  r = himage(c, store, "import", m.dir);
  cleanup_free char *want2 =
      xasprintf("manifest %s: .layers: missing", m.manifest.text);
  hexpect_one_line_error(r, want2);
  hres_free(&r);
  r = himage(c, store, "ls");
  ck_assert_str_eq(r.out, "NAME   DIGEST         SIZE\n");
  hres_free(&r);
  layout_free(&m);
  hctx_finish(c);
}
END_TEST

START_TEST(two_imports_at_once) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "big", 8 << 20, 0, NULL);
  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  char *args[] = {"image", "--image-root", store, "import", l.dir, NULL};
  struct hbg a = hstart(c, args, gate[0], -1);
  struct hbg b = hstart(c, args, gate[0], -1);
  close(gate[0]);
  /* A byte each (the children hold the write end too: no EOF). */
  ck_assert_int_eq(write(gate[1], "gg", 2), 2);
  close(gate[1]);
  struct hres ra = hbg_wait(&a, 20000), rb = hbg_wait(&b, 20000);
  ck_assert_hres(ra, 0);
  ck_assert_hres(rb, 0);
  ck_assert_str_eq(ra.out, "Loaded image: localhost/big:1.0\n");
  ck_assert_str_eq(rb.out, "Loaded image: localhost/big:1.0\n");
  hres_free(&ra);
  hres_free(&rb);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  /* Every blob whole: inspect reads the JSON ones verified, and the layer
   * is checked here. */
  hrun_expect(0, c, "image", "--image-root", store, "inspect", "localhost/big:1.0");
  struct image_store *s = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(image_store_open(store, IMAGE_STORE_SHARED, &s, &err), 0);
  int fd = -1;
  ck_assert_msg(image_store_open_blob(s, &l.layer, (int64_t)l.layer_len, true,
                                      &fd, &err) == 0, "%s", err ? err->msg : "");
  close(fd);
  image_store_close(s);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

/* hull killed at some moment of an import: the next import completes it,
 * and gc leaves exactly the image. */
START_TEST(import_after_sigkill_completes) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "app", 32 << 20, 0, NULL);
  char *args[] = {"image", "--image-root", store, "import", l.dir, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  usleep(40 * 1000);
  kill(b.pid, SIGKILL);
  struct hres r = hbg_wait(&b, 10000);
  hres_free(&r);

  r = himage(c, store, "import", l.dir);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: localhost/app:1.0\n");
  hres_free(&r);
  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Total reclaimed space: 0B\n");
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  hrun_expect(0, c, "image", "--image-root", store, "inspect",
              "localhost/app:1.0");
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

/* The temp files a writer killed half-way leaves: one of a blob the import
 * needs (taken over), one of a blob nobody wants (ignored, then removed by
 * gc). */
START_TEST(temp_files_left_by_a_kill_ignored_and_collected) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "app", 1000, 0, NULL);
  cleanup_free char *tmp_dir = xasprintf("%s/tmp", store);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(tmp_dir, 0700, &err), 0);
  cleanup_free char *partial = xasprintf("%s/sha256-%s", tmp_dir,
                                         image_digest_hex(&l.config));
  hwrite_file(partial, "{\"archi", 0600);
  cleanup_free char *stray = xasprintf(
      "%s/sha256-0000000000000000000000000000000000000000000000000000000000"
      "000000", tmp_dir);
  hwrite_file(stray, "junk", 0600);

  struct hres r = himage(c, store, "import", l.dir);
  ck_assert_hres(r, 0);
  hres_free(&r);
  hrun_expect(0, c, "image", "--image-root", store, "inspect",
              "localhost/app:1.0");
  r = himage(c, store, "ls");
  ck_assert_msg(hcontains(r.out, "localhost/app:1.0"), "ls: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(access(partial, F_OK), -1);
  ck_assert_int_eq(access(stray, F_OK), 0);

  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Total reclaimed space: 0B\n");
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

/* An OCI archive (a gzipped tar of a layout): imported as the layout, named
 * after the file; a member that would land outside the layout is never
 * written. */
START_TEST(oci_archive_import) {
  SKIP_UNLESS(archive_tools(), "no GNU tar at /usr/bin/tar or no "
                               "libarchive.so.13");
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct oci_dir l = make_layout(c, "src", 1000, 0, NULL);
  cleanup_free char *evil = xasprintf("%s/evil", c->dir);
  hwrite_file(evil, "outside\n", 0644);
  cleanup_free char *tarball = xasprintf("%s/app.tar.gz", c->dir);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", l.dir, "-czPf", tarball, ".",
                      "../evil", NULL});
  struct hres r = himage(c, store, "import", tarball);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: localhost/app:1.0\n");
  hres_free(&r);
  hrun_expect(0, c, "image", "--image-root", store, "inspect",
              "localhost/app:1.0");
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  cleanup_free char *escaped = xasprintf("%s/evil", store);
  ck_assert_int_ne(access(escaped, F_OK), 0);

  cleanup_free char *junk = xasprintf("%s/junk.tar", c->dir);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", c->dir, "-cf", junk, "evil",
                      NULL});
  r = himage(c, store, "import", junk);
  cleanup_free char *want = xasprintf(
      "%s: neither an OCI archive nor a docker save archive (no oci-layout "
      "or manifest.json member)", junk);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

/* A docker save archive (Docker before 25, podman's docker-archive): its
 * RepoTags become the names, its layer.tar files the layers; a
 * manifest.json naming a file outside the archive is refused. */
static char *docker_archive(struct hctx *c, const char *name,
                            const char *config_member,
                            struct image_digest *layer_digest) {
  cleanup_free char *dir = xasprintf("%s/%s.d", c->dir, name);
  cleanup_free char *layer = layer_bytes(3000);
  image_digest_of(IMAGE_SHA256, layer, 3000, layer_digest);
  cleanup_free char *layer_dir = xasprintf(
      "%s/%s", dir, image_digest_hex(layer_digest));
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(layer_dir, 0755, &err), 0);
  cleanup_free char *layer_path = xasprintf("%s/layer.tar", layer_dir);
  write_bytes(layer_path, layer, 3000);
  cleanup_free char *cfg = xasprintf(
      "{\"architecture\": \"amd64\", \"os\": \"linux\", \"rootfs\": "
      "{\"type\": \"layers\", \"diff_ids\": [\"%s\"]}}", layer_digest->text);
  struct image_digest cd;
  image_digest_of(IMAGE_SHA256, cfg, strlen(cfg), &cd);
  cleanup_free char *cfg_path =
      xasprintf("%s/%s.json", dir, image_digest_hex(&cd));
  hwrite_file(cfg_path, cfg, 0644);
  cleanup_free char *cfg_member =
      config_member ? xstrdup(config_member)
                    : xasprintf("%s.json", image_digest_hex(&cd));
  cleanup_free char *manifest = xasprintf(
      "[{\"Config\": \"%s\", \"RepoTags\": [\"busybox:latest\", "
      "\"example.com/bb:2\"], \"Layers\": [\"%s/layer.tar\"]}]", cfg_member,
      image_digest_hex(layer_digest));
  cleanup_free char *mpath = xasprintf("%s/manifest.json", dir);
  hwrite_file(mpath, manifest, 0644);
  char *tarball = xasprintf("%s/%s.tar", c->dir, name);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", dir, "-cf", tarball, ".", NULL});
  return tarball;
}

START_TEST(docker_save_archive_import) {
  SKIP_UNLESS(archive_tools(), "no GNU tar at /usr/bin/tar or no "
                               "libarchive.so.13");
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct image_digest layer;
  cleanup_free char *tarball = docker_archive(c, "saved", NULL, &layer);
  struct hres r = himage(c, store, "import", tarball);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: docker.io/library/busybox:latest\n"
                          "Loaded image: example.com/bb:2\n");
  hres_free(&r);
  r = himage(c, store, "inspect", "busybox");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, layer.text), "inspect: %s", r.out);
  ck_assert(hcontains(r.out, "\"example.com/bb:2\""));
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  ck_assert_int_eq(count_in(store, "tmp"), 0);

  cleanup_free char *bad = docker_archive(c, "outside", "../../etc/passwd",
                                          &layer);
  r = himage(c, store, "import", bad);
  cleanup_free char *want = xasprintf(
      "%s: manifest.json: \\\"../../etc/passwd\\\" is not a member name "
      "hull reads", bad);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  hctx_finish(c);
}
END_TEST

/* Docker before 25 and podman's docker-archive store a layer once and make
 * <id>/layer.tar a symlink to it (`../<hex>.tar`): imported as the layer.
 * A symlink leading out of the archive is skipped, so a manifest naming
 * it finds no member. */
START_TEST(docker_archive_with_linked_layers) {
  SKIP_UNLESS(archive_tools(), "no GNU tar at /usr/bin/tar or no "
                               "libarchive.so.13");
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct image_digest layer;
  cleanup_free char *tarball = docker_archive(c, "linked", NULL, &layer);
  cleanup_free char *dir = xasprintf("%s/linked.d", c->dir);
  const char *hex = image_digest_hex(&layer);
  /* The layer once, at <hex>.tar; <hex>/layer.tar and a second id's
   * layer.tar link to it. */
  cleanup_free char *old = xasprintf("%s/%s/layer.tar", dir, hex);
  cleanup_free char *once = xasprintf("%s/%s.tar", dir, hex);
  ck_assert_int_eq(rename(old, once), 0);
  cleanup_free char *up = xasprintf("../%s.tar", hex);
  ck_assert_int_eq(symlink(up, old), 0);
  cleanup_free char *other = xasprintf("%s/other", dir);
  ck_assert_int_eq(mkdir(other, 0755), 0);
  cleanup_free char *other_layer = xasprintf("%s/layer.tar", other);
  cleanup_free char *via = xasprintf("./../%s/../%s.tar", hex, hex);
  ck_assert_int_eq(symlink(via, other_layer), 0);
  cleanup_free char *evil = xasprintf("%s/evil", dir);
  ck_assert_int_eq(mkdir(evil, 0755), 0);
  cleanup_free char *evil_layer = xasprintf("%s/layer.tar", evil);
  ck_assert_int_eq(symlink("../../../../../../etc/hostname", evil_layer), 0);
  cleanup_free char *manifest = xasprintf("%s/manifest.json", dir);
  cleanup_free char *text = hread_file(manifest);
  cleanup_free char *member = xasprintf("%s/layer.tar", hex);
  char *at = strstr(text, member);
  ck_assert_ptr_nonnull(at);
  cleanup_free char *linked = xasprintf(
      "%.*sother/layer.tar%s", (int)(at - text), text, at + strlen(member));
  hwrite_file(manifest, linked, 0644);
  unlink(tarball);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", dir, "-cf", tarball, ".", NULL});

  struct hres r = himage(c, store, "import", tarball);
  ck_assert_hres(r, 0);
  hres_free(&r);
  r = himage(c, store, "inspect", "busybox");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, layer.text), "inspect: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 3);
  ck_assert_int_eq(count_in(store, "tmp"), 0);

  hwrite_file(manifest,
              "[{\"Config\": \"x.json\", \"Layers\": [\"evil/layer.tar\"]}]",
              0644);
  cleanup_free char *bad = xasprintf("%s/evil.tar", c->dir);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", dir, "-cf", bad, ".", NULL});
  r = himage(c, store, "import", bad);
  cleanup_free char *want =
      xasprintf("%s: member x.json: No such file or directory", bad);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  hctx_finish(c);
}
END_TEST

/* What podman itself saves (its docker-archive and oci-archive formats)
 * imports and runs. podman works in a root of the test's own (vfs: no
 * mounts), from a tarball of the test rootfs. */
START_TEST(podman_save_archives_import_and_run) {
  SKIP_UNLESS(access("/usr/bin/podman", X_OK) == 0,
              "no /usr/bin/podman (Debian package podman; the cgroup-v2 "
              "test VM carries none)");
  SKIP_UNLESS(archive_tools(), "no GNU tar at /usr/bin/tar or no "
                               "libarchive.so.13");
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  cleanup_free char *rootfs_tar = xasprintf("%s/rootfs.tar", c->dir);
  hrun_tool((char *[]){"/usr/bin/tar", "-C", c->rootfs, "-cf", rootfs_tar,
                       ".", NULL});
  /* Short: podman refuses a runroot longer than 50 characters. */
  cleanup_free char *proot = xasprintf("%s/pr", c->dir);
  cleanup_free char *prun = xasprintf("%s/pd", c->dir);
  cleanup_free char *root_flag = xasprintf("--root=%s", proot);
  cleanup_free char *run_flag = xasprintf("--runroot=%s", prun);
#define PODMAN(...)                                                           \
  hrun_tool((char *[]){"/usr/bin/podman", root_flag, run_flag,              \
                       "--storage-driver=vfs", "--events-backend=none",      \
                       __VA_ARGS__, NULL})
  PODMAN("import", "--change", "CMD [\"/bin/echo\", \"saved-by-podman\"]",
         rootfs_tar, "example.com/saved:1");
  cleanup_free char *docker_tar = xasprintf("%s/docker.tar", c->dir);
  cleanup_free char *oci_tar = xasprintf("%s/oci.tar", c->dir);
  PODMAN("save", "--format", "docker-archive", "-o", docker_tar,
         "example.com/saved:1");
  PODMAN("save", "--format", "oci-archive", "-o", oci_tar,
         "example.com/saved:1");
#undef PODMAN

  struct hres r = himage(c, store, "import", docker_tar);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: example.com/saved:1\n");
  hres_free(&r);
  r = himage(c, store, "import", "--name", "example.com/oci:1", oci_tar);
  ck_assert_hres(r, 0);
  hres_free(&r);
  const char *refs[] = {"example.com/saved:1", "example.com/oci:1"};
  for (size_t i = 0; i < 2; i++) {
    r = hrun(c, "run", "--image", refs[i], "--image-root", store, "--rm",
             NULL);
    ck_assert_hres(r, 0);
    ck_assert_str_eq(r.out, "saved-by-podman\n");
    hres_free(&r);
  }
  /* One layer, stored once for both names. */
  ck_assert_int_eq(count_in(store, "layers/sha256"), 1);
  hctx_finish(c);
}
END_TEST

/* A store that fills up: the import fails naming the blob and the disk,
 * and no temp file stays to take the space. */
START_TEST(full_store_refused_leaving_nothing) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(store, 0700, &err), 0);
  SKIP_UNLESS(mount("tmpfs", store, "tmpfs", 0, "size=2m") == 0,
              "cannot mount a tmpfs (not root?)");
  struct oci_dir l = make_layout(c, "huge", 4 << 20, 0, NULL);
  struct hres r = himage(c, store, "import", l.dir);
  cleanup_free char *want = xasprintf("blob %s: write `%s/tmp/sha256-%s`: No "
                                      "space left on device", l.layer.text,
                                      store, image_digest_hex(&l.layer));
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "tmp"), 0);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 2);  /* manifest, config */
  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_int_eq(count_in(store, "blobs/sha256"), 0);
  ck_assert_int_eq(umount2(store, MNT_DETACH), 0);
  layout_free(&l);
  hctx_finish(c);
}
END_TEST

START_TEST(bad_arguments_are_one_line_errors) {
  struct hctx *c = hctx_new();
  cleanup_free char *store = store_of(c);
  struct hres r = himage(c, store, "import", c->dir);
  cleanup_free char *want = xasprintf(
      "%s: not an OCI image layout (no oci-layout file)", c->dir);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "tag", "nothing", "Upper");
  hexpect_one_line_error(r, "image name \\\"Upper\\\": invalid reference "
                           "format: repository name must be lowercase");
  hres_free(&r);
  r = himage(c, store, "frob");
  hexpect_one_line_error(r, "image: unknown command \\\"frob\\\" (import, pull, "
                           "ls, inspect, tag, rm, gc, mount, umount)");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *image_suite(void) {
  Suite *s = suite_create("integration-image");
  TCase *tc = harness_tcase("image", 60);
  tcase_add_test(tc, import_ls_inspect_tag_rm_gc);
  tcase_add_test(tc, corrupted_blob_refused_leaving_nothing);
  tcase_add_test(tc, wrong_size_refused_leaving_nothing);
  tcase_add_test(tc, bad_manifest_names_blob_and_field);
  tcase_add_test(tc, two_imports_at_once);
  tcase_add_test(tc, import_after_sigkill_completes);
  tcase_add_test(tc, temp_files_left_by_a_kill_ignored_and_collected);
  tcase_add_test(tc, oci_archive_import);
  tcase_add_test(tc, docker_save_archive_import);
  tcase_add_test(tc, docker_archive_with_linked_layers);
  tcase_add_test(tc, podman_save_archives_import_and_run);
  tcase_add_test(tc, full_store_refused_leaving_nothing);
  tcase_add_test(tc, bad_arguments_are_one_line_errors);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(image_suite)
