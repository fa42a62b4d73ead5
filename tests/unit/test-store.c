/* test-store.c — images/: the blob store (store.c), the JSON checks
 * (manifest.c), names (refs.c) and gc (gc.c), in temp directories. */
#include "images/images.h"
#include "tests/suite.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct fixture {
  char dir[64];
  char *root;
  struct image_store *s;
};

static void fixture_open(struct fixture *f) {
  strcpy(f->dir, "/tmp/hull-store-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(f->dir));
  f->root = xasprintf("%s/store", f->dir);
  hull_error_t err = NULL;
  ck_assert_msg(image_store_open(f->root, IMAGE_STORE_SHARED, &f->s, &err) ==
                    0, "%s", err ? err->msg : "");
}

static void fixture_close(struct fixture *f) {
  image_store_close(f->s);
  hull_error_t err = NULL;
  remove_tree(f->dir, &err);
  hull_error_release(&err);
  free(f->root);
}

/* The number of entries in root/sub. */
static int count_entries(const char *root, const char *sub) {
  cleanup_free char *p = xasprintf("%s/%s", root, sub);
  DIR *d = opendir(p);
  ck_assert_ptr_nonnull(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void put_text(struct fixture *f, const char *text,
                     struct image_digest *d) {
  image_digest_of(IMAGE_SHA256, text, strlen(text), d);
  hull_error_t err = NULL;
  ck_assert_msg(image_store_put_bytes(f->s, d, (int64_t)strlen(text), text,
                                      strlen(text), &err) == 0,
                "%s", err ? err->msg : "");
}

/* A stored blob's descriptor as JSON. */
static char *descriptor_json(const char *mt, const struct image_digest *d,
                             size_t size) {
  return xasprintf("{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": "
                   "%zu}", mt, d->text, size);
}

/* ---- blobs ---------------------------------------------------------------- */

START_TEST(put_then_read_back_verified) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  put_text(&f, "hello blob", &d);
  ck_assert(image_store_has(f.s, &d));
  cleanup_free char *path = xasprintf("%s/blobs/sha256/%s", f.root,
                                      image_digest_hex(&d));
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 07777, 0444);
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  hull_error_t err = NULL;
  cleanup_free char *data = NULL;
  ck_assert_int_eq(image_store_read_blob(f.s, &d, 10, &data, NULL, &err), 0);
  ck_assert_str_eq(data, "hello blob");
  /* Storing it again is a no-op that succeeds. */
  ck_assert_int_eq(image_store_put_bytes(f.s, &d, 10, "hello blob", 10, &err),
                   0);
  fixture_close(&f);
}
END_TEST

START_TEST(wrong_size_and_content_refused_leaving_nothing) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, "twelve bytes", 12, &d);
  hull_error_t err = NULL;
  cleanup_free char *want_size = xasprintf(
      "blob %s: size 10 does not match the descriptor's 12", d.text);
  ck_assert_int_lt(image_store_put_bytes(f.s, &d, 12, "ten bytes!", 10, &err),
                   0);
  ck_assert_str_eq(err->msg, want_size);
  hull_error_release(&err);

  /* Through a file, whose size is checked before a byte is copied. */
  cleanup_free char *src = xasprintf("%s/src", f.dir);
  int fd = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_eq(write(fd, "ten bytes!", 10), 10);
  lseek(fd, 0, SEEK_SET);
  ck_assert_int_lt(image_store_put_fd(f.s, &d, 12, fd, &err), 0);
  ck_assert_str_eq(err->msg, want_size);
  hull_error_release(&err);
  close(fd);

  cleanup_free char *want_digest =
      xasprintf("blob %s: content does not match its digest", d.text);
  ck_assert_int_lt(image_store_put_bytes(f.s, &d, 12, "twelve bytez", 12,
                                         &err), 0);
  ck_assert_str_eq(err->msg, want_digest);
  hull_error_release(&err);

  ck_assert(!image_store_has(f.s, &d));
  ck_assert_int_eq(count_entries(f.root, "blobs/sha256"), 0);
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  fixture_close(&f);
}
END_TEST

START_TEST(streamed_writer_refuses_more_than_the_size) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, "abcdef", 6, &d);
  hull_error_t err = NULL;
  struct image_blob_writer *w = NULL;
  ck_assert_int_eq(image_blob_writer_begin(f.s, &d, 6, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_write(w, "abc", 3, &err), 0);
  ck_assert_int_lt(image_blob_writer_write(w, "defg", 4, &err), 0);
  cleanup_free char *want =
      xasprintf("blob %s: more than the descriptor's 6 bytes", d.text);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  image_blob_writer_abort(w);
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  /* In pieces, right: stored. */
  ck_assert_int_eq(image_blob_writer_begin(f.s, &d, 6, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_write(w, "abc", 3, &err), 0);
  ck_assert_int_eq(image_blob_writer_write(w, "def", 3, &err), 0);
  ck_assert_int_eq(image_blob_writer_commit(w, &err), 0);
  ck_assert(image_store_has(f.s, &d));
  ck_assert_int_eq(image_blob_writer_begin(f.s, &d, 6, &w, &err), 0);
  fixture_close(&f);
}
END_TEST

START_TEST(corruption_in_the_store_is_caught_on_read) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  put_text(&f, "{\"a\": 1}", &d);
  cleanup_free char *path = xasprintf("%s/blobs/sha256/%s", f.root,
                                      image_digest_hex(&d));
  chmod(path, 0644);
  int fd = open(path, O_WRONLY);
  ck_assert_int_eq(pwrite(fd, "2", 1, 6), 1);
  close(fd);
  hull_error_t err = NULL;
  char *data = NULL;
  ck_assert_int_lt(image_store_read_blob(f.s, &d, 8, &data, NULL, &err), 0);
  cleanup_free char *want =
      xasprintf("blob %s: content does not match its digest", d.text);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  int bfd = -1;
  ck_assert_int_lt(image_store_open_blob(f.s, &d, 8, true, &bfd, &err), 0);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  /* Without the content check, only the size is looked at. */
  ck_assert_int_eq(image_store_open_blob(f.s, &d, 8, false, &bfd, &err), 0);
  close(bfd);
  ck_assert_int_lt(image_store_open_blob(f.s, &d, 9, false, &bfd, &err), 0);
  cleanup_free char *want_size = xasprintf(
      "blob %s: size 8 does not match the descriptor's 9", d.text);
  ck_assert_str_eq(err->msg, want_size);
  hull_error_release(&err);
  fixture_close(&f);
}
END_TEST

/* A temp file as a writer killed half-way leaves it: the next writer of
 * the blob takes it over, and it never shows as the blob. */
START_TEST(a_killed_writers_temp_file_is_taken_over) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, "complete", 8, &d);
  cleanup_free char *tmp = xasprintf("%s/tmp/sha256-%s", f.root,
                                     image_digest_hex(&d));
  pid_t pid = fork();
  if (pid == 0) {
    hull_error_t err = NULL;
    struct image_blob_writer *w = NULL;
    if (image_blob_writer_begin(f.s, &d, 8, &w, &err) != 1 ||
        image_blob_writer_write(w, "comp", 4, &err) < 0)
      _exit(1);
    kill(getpid(), SIGKILL);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFSIGNALED(status));
  struct stat st;
  ck_assert_int_eq(stat(tmp, &st), 0);
  ck_assert_int_eq(st.st_size, 4);
  ck_assert(!image_store_has(f.s, &d));
  hull_error_t err = NULL;
  ck_assert_int_eq(image_store_put_bytes(f.s, &d, 8, "complete", 8, &err), 0);
  ck_assert_int_ne(stat(tmp, &st), 0);
  cleanup_free char *data = NULL;
  ck_assert_int_eq(image_store_read_blob(f.s, &d, 8, &data, NULL, &err), 0);
  ck_assert_str_eq(data, "complete");
  fixture_close(&f);
}
END_TEST

/* A kept prefix is hashed and gone on from; a prefix longer than the blob
 * is dropped; restart empties it; wrong content fails the check leaving
 * no temp file. */
START_TEST(a_kept_prefix_is_resumed) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, "complete", 8, &d);
  cleanup_free char *tmp = xasprintf("%s/tmp/sha256-%s", f.root,
                                     image_digest_hex(&d));
  hull_error_t err = NULL;
  struct image_blob_writer *w = NULL;
  ck_assert_int_eq(image_blob_writer_resume(f.s, &d, 8, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_offset(w), 0);
  ck_assert_int_eq(image_blob_writer_write(w, "comp", 4, &err), 0);
  image_blob_writer_keep(w);
  struct stat st;
  ck_assert_int_eq(stat(tmp, &st), 0);
  ck_assert_int_eq(st.st_size, 4);

  ck_assert_int_eq(image_blob_writer_resume(f.s, &d, 8, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_offset(w), 4);
  ck_assert_int_eq(image_blob_writer_write(w, "lete", 4, &err), 0);
  ck_assert_msg(image_blob_writer_commit(w, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert(image_store_has(f.s, &d));
  ck_assert_int_ne(stat(tmp, &st), 0);

  /* Longer than the blob: no prefix of it. Then a restart. */
  struct image_digest d2;
  image_digest_of(IMAGE_SHA256, "other", 5, &d2);
  cleanup_free char *tmp2 = xasprintf("%s/tmp/sha256-%s", f.root,
                                      image_digest_hex(&d2));
  int fd = open(tmp2, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write_all(fd, "toolongtext", 11), 0);
  close(fd);
  ck_assert_int_eq(image_blob_writer_resume(f.s, &d2, 5, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_offset(w), 0);
  ck_assert_int_eq(image_blob_writer_write(w, "ot", 2, &err), 0);
  ck_assert_int_eq(image_blob_writer_restart(w, &err), 0);
  ck_assert_int_eq(image_blob_writer_offset(w), 0);
  ck_assert_int_eq(image_blob_writer_write(w, "othe", 4, &err), 0);
  image_blob_writer_keep(w);

  /* A wrong prefix: the digest check fails, nothing stays. */
  fd = open(tmp2, O_WRONLY | O_TRUNC | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write_all(fd, "xthe", 4), 0);
  close(fd);
  ck_assert_int_eq(image_blob_writer_resume(f.s, &d2, 5, &w, &err), 1);
  ck_assert_int_eq(image_blob_writer_offset(w), 4);
  ck_assert_int_eq(image_blob_writer_write(w, "r", 1, &err), 0);
  ck_assert_int_lt(image_blob_writer_commit(w, &err), 0);
  cleanup_free char *want = xasprintf(
      "blob %s: content does not match its digest", d2.text);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  ck_assert(!image_store_has(f.s, &d2));
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  fixture_close(&f);
}
END_TEST

/* Eight processes store one 4 MiB blob at once: all succeed, the blob is
 * whole, and no temp file stays. */
START_TEST(concurrent_writers_store_a_blob_once) {
  struct fixture f;
  fixture_open(&f);
  size_t len = 4 << 20;
  char *big = xmalloc(len);
  for (size_t i = 0; i < len; i++)
    big[i] = (char)(i * 7);
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, big, len, &d);
  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  pid_t pids[8];
  for (int i = 0; i < 8; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      close(gate[1]);
      char c;
      if (read(gate[0], &c, 1) < 0)
        _exit(2);
      struct image_store *s = NULL;
      hull_error_t err = NULL;
      if (image_store_open(f.root, IMAGE_STORE_SHARED, &s, &err) < 0 ||
          image_store_put_bytes(s, &d, (int64_t)len, big, len, &err) < 0)
        _exit(1);
      _exit(0);
    }
  }
  close(gate[0]);
  close(gate[1]);
  for (int i = 0; i < 8; i++) {
    int status;
    ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "writer %d failed", i);
  }
  hull_error_t err = NULL;
  int fd = -1;
  ck_assert_int_eq(image_store_open_blob(f.s, &d, (int64_t)len, true, &fd,
                                         &err), 0);
  close(fd);
  ck_assert_int_eq(count_entries(f.root, "blobs/sha256"), 1);
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  free(big);
  fixture_close(&f);
}
END_TEST

/* ---- JSON checks ---------------------------------------------------------- */

#define D64 "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void expect_manifest_error(const char *json, const char *want) {
  struct image_manifest *m = NULL;
  hull_error_t err = NULL;
  ck_assert_int_lt(image_manifest_parse("manifest X", json, &m, &err), 0);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
}

START_TEST(manifest_fields_are_checked_and_named) {
  const char *cfg = "{\"mediaType\": \"" IMAGE_MT_CONFIG "\", \"digest\": \""
                    D64 "\", \"size\": 3}";
  cleanup_free char *ok = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"config\": %s, "
      "\"layers\": [%s]}", IMAGE_MT_MANIFEST, cfg, cfg);
  struct image_manifest *m = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(image_manifest_parse("manifest X", ok, &m, &err), 0);
  ck_assert_int_eq(m->n_layers, 1);
  ck_assert_int_eq(m->config.size, 3);
  ck_assert_str_eq(m->config.digest.text, D64);
  image_manifest_free(m);

  cleanup_free char *bad_mt = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image."
      "manifest.v9+json\", \"config\": %s, \"layers\": []}", cfg);
  expect_manifest_error(bad_mt, "manifest X: .mediaType: \"application/vnd."
                        "oci.image.manifest.v9+json\" is not an image "
                        "manifest (" IMAGE_MT_MANIFEST ")");
  cleanup_free char *no_layers =
      xasprintf("{\"schemaVersion\": 2, \"config\": %s}", cfg);
  expect_manifest_error(no_layers, "manifest X: .layers: missing");
  expect_manifest_error("{\"schemaVersion\": 2, \"layers\": []}",
                        "manifest X: .config: missing");
  cleanup_free char *v1 = xasprintf(
      "{\"schemaVersion\": 1, \"config\": %s, \"layers\": []}", cfg);
  expect_manifest_error(v1, "manifest X: .schemaVersion: must be 2");
  cleanup_free char *no_digest = xasprintf(
      "{\"schemaVersion\": 2, \"config\": %s, \"layers\": [{\"mediaType\": "
      "\"a/b\", \"size\": 1}]}", cfg);
  expect_manifest_error(no_digest, "manifest X: .layers[0].digest: missing");
  cleanup_free char *neg = xasprintf(
      "{\"schemaVersion\": 2, \"config\": %s, \"layers\": [{\"mediaType\": "
      "\"a/b\", \"digest\": \"" D64 "\", \"size\": -1}]}", cfg);
  expect_manifest_error(neg, "manifest X: .layers[0].size: expected a "
                        "non-negative integer");
  cleanup_free char *bad_type = xasprintf(
      "{\"schemaVersion\": 2, \"config\": %s, \"layers\": [{\"mediaType\": "
      "\"tar\", \"digest\": \"" D64 "\", \"size\": 1}]}", cfg);
  expect_manifest_error(bad_type, "manifest X: .layers[0].mediaType: \"tar\" "
                        "is not a media type");
  cleanup_free char *bad_digest = xasprintf(
      "{\"schemaVersion\": 2, \"config\": %s, \"layers\": [{\"mediaType\": "
      "\"a/b\", \"digest\": \"sha256:ABC\", \"size\": 1}]}", cfg);
  expect_manifest_error(bad_digest, "manifest X: .layers[0].digest: digest "
                        "\"sha256:ABC\": not an OCI digest (sha256:<64 hex> "
                        "or sha512:<128 hex>)");
  expect_manifest_error("[1]", "manifest X: expected a JSON object");
}
END_TEST

START_TEST(config_needs_platform_and_layers_rootfs) {
  struct image_config *c = NULL;
  hull_error_t err = NULL;
  const char *ok = "{\"architecture\": \"amd64\", \"os\": \"linux\", "
                   "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"" D64
                   "\"]}}";
  ck_assert_int_eq(image_config_parse("config X", ok, &c, &err), 0);
  ck_assert_int_eq(c->n_diff_ids, 1);
  ck_assert_str_eq(c->platform.architecture, "amd64");
  image_config_free(c);
  ck_assert_int_lt(image_config_parse("config X", "{\"os\": \"linux\"}", &c,
                                      &err), 0);
  ck_assert_str_eq(err->msg, "config X: .architecture: missing");
  hull_error_release(&err);
  ck_assert_int_lt(image_config_parse(
                       "config X", "{\"architecture\": \"amd64\", \"os\": "
                       "\"linux\", \"rootfs\": {\"type\": \"zip\", "
                       "\"diff_ids\": []}}", &c, &err), 0);
  ck_assert_str_eq(err->msg, "config X: .rootfs.type: \"zip\" is not "
                             "\"layers\"");
  hull_error_release(&err);
}
END_TEST

START_TEST(index_selects_the_platform) {
  cleanup_free char *json = xasprintf(
      "{\"schemaVersion\": 2, \"manifests\": ["
      "{\"mediaType\": \"%s\", \"digest\": \"" D64 "\", \"size\": 1, "
      "\"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", "
      "\"variant\": \"v7\"}},"
      "{\"mediaType\": \"%s\", \"digest\": \"" D64 "\", \"size\": 2, "
      "\"platform\": {\"os\": \"linux\", \"architecture\": \"arm64\", "
      "\"variant\": \"v8\"}},"
      "{\"mediaType\": \"%s\", \"digest\": \"" D64 "\", \"size\": 3, "
      "\"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}}]}",
      IMAGE_MT_MANIFEST, IMAGE_MT_MANIFEST, IMAGE_MT_MANIFEST);
  struct image_index *ix = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(image_index_parse("index X", json, &ix, &err), 0);
  struct image_platform p;
  const struct image_descriptor *d;
  ck_assert_int_eq(image_platform_parse("linux/arm64", &p, &err), 0);
  ck_assert_int_eq(image_index_select("index X", ix, &p, &d, &err), 0);
  ck_assert_int_eq(d->size, 2);
  image_platform_clear(&p);
  ck_assert_int_eq(image_platform_parse("linux/arm/v7", &p, &err), 0);
  ck_assert_int_eq(image_index_select("index X", ix, &p, &d, &err), 0);
  ck_assert_int_eq(d->size, 1);
  image_platform_clear(&p);
  ck_assert_int_eq(image_platform_parse("linux/s390x", &p, &err), 0);
  ck_assert_int_lt(image_index_select("index X", ix, &p, &d, &err), 0);
  ck_assert_str_eq(err->msg, "index X: no manifest for linux/s390x (it has "
                             "linux/arm/v7, linux/arm64/v8, linux/amd64)");
  hull_error_release(&err);
  image_platform_clear(&p);
  image_platform_host(&p);
  ck_assert_str_eq(p.os, "linux");
  image_platform_clear(&p);
  ck_assert_int_lt(image_platform_parse("linux", &p, &err), 0);
  ck_assert_str_eq(err->msg, "platform \"linux\": expected os/arch[/variant] "
                             "(linux/arm64/v8)");
  hull_error_release(&err);
  image_index_free(ix);
}
END_TEST

START_TEST(archive_member_names_stay_inside) {
  static const char *const ok[] = {"oci-layout", "index.json",
                                   "blobs/sha256/ab12", "abc/layer.tar",
                                   "abc.json"};
  static const char *const bad[] = {"", "/etc/passwd", "../x", "a/../b",
                                    "a/./b", ".hidden", "a//b", "a/b/c/d",
                                    "a b", "a/b\\c"};
  for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
    ck_assert_msg(image_archive_member_ok(ok[i]), "%s", ok[i]);
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    ck_assert_msg(!image_archive_member_ok(bad[i]), "%s", bad[i]);
}
END_TEST

START_TEST(containerd_name_beats_a_bare_ref_name) {
  const char *json =
      "{\"schemaVersion\": 2, \"manifests\": [{\"mediaType\": \"" IMAGE_MT_MANIFEST
      "\", \"digest\": \"" D64 "\", \"size\": 1, \"annotations\": {"
      "\"org.opencontainers.image.ref.name\": \"latest\", "
      "\"io.containerd.image.name\": \"docker.io/library/busybox:latest\"}},"
      "{\"mediaType\": \"" IMAGE_MT_MANIFEST "\", \"digest\": \"" D64 "\", "
      "\"size\": 1, \"annotations\": {\"org.opencontainers.image.ref.name\": "
      "\"1.0\"}}]}";
  struct image_index *ix = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(image_index_parse("index.json", json, &ix, &err), 0);
  ck_assert_str_eq(ix->manifests[0].ref_name,
                   "docker.io/library/busybox:latest");
  ck_assert_str_eq(ix->manifests[1].ref_name, "1.0");
  image_index_free(ix);
}
END_TEST

/* ---- names ---------------------------------------------------------------- */

START_TEST(names_are_normalised_as_docker_does) {
  static const char *const cases[][2] = {
      {"debian", "docker.io/library/debian:latest"},
      {"debian:12", "docker.io/library/debian:12"},
      {"user/app", "docker.io/user/app:latest"},
      {"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
      {"quay.io/a/b", "quay.io/a/b:latest"},
      {"localhost/x:1.0", "localhost/x:1.0"},
      {"localhost:5000/x", "localhost:5000/x:latest"},
      {"debian@" D64, "docker.io/library/debian@" D64},
      {"a__b/c-d.e:T_1", "docker.io/a__b/c-d.e:T_1"},
  };
  hull_error_t err = NULL;
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    cleanup_free char *out = NULL;
    ck_assert_msg(image_ref_normalize(cases[i][0], &out, &err) == 0, "%s: %s",
                  cases[i][0], err ? err->msg : "");
    ck_assert_str_eq(out, cases[i][1]);
  }
  static const char *const bad[] = {"Debian", "a//b", "-a", "a:", "a:-x",
                                    "a@sha256:1", ""};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    char *out = NULL;
    ck_assert_msg(image_ref_normalize(bad[i], &out, &err) < 0, "%s: %s",
                  bad[i], out);
    ck_assert_msg(strstr(err->msg, bad[i]) != NULL, "%s", err->msg);
    hull_error_release(&err);
  }
  ck_assert(image_ref_is_tag("1.0"));
  ck_assert(!image_ref_is_tag("a/b:1"));
}
END_TEST

START_TEST(refs_set_lookup_remove) {
  struct fixture f;
  fixture_open(&f);
  struct image_descriptor a = {.media_type = IMAGE_MT_MANIFEST, .size = 5};
  struct image_descriptor b = {.media_type = IMAGE_MT_MANIFEST, .size = 6};
  image_digest_of(IMAGE_SHA256, "a", 1, &a.digest);
  image_digest_of(IMAGE_SHA256, "b", 1, &b.digest);
  hull_error_t err = NULL;
  char *na[] = {"docker.io/library/debian:12", "example.com/x:1", NULL};
  char *nb[] = {"docker.io/library/alpine:latest", NULL};
  ck_assert_int_eq(image_refs_set(f.s, na, &a, &err), 0);
  ck_assert_int_eq(image_refs_set(f.s, nb, &b, &err), 0);
  struct image_name *names = NULL;
  size_t n = 0;
  ck_assert_int_eq(image_refs_list(f.s, &names, &n, &err), 0);
  ck_assert_int_eq(n, 3);
  ck_assert_str_eq(names[0].name, "docker.io/library/alpine:latest");
  ck_assert_str_eq(names[1].target.digest.text, a.digest.text);
  image_names_free(names, n);

  struct image_descriptor got;
  ck_assert_int_eq(image_refs_lookup(f.s, "debian:12", &got, &err), 0);
  ck_assert_str_eq(got.digest.text, a.digest.text);
  ck_assert_int_eq(got.size, 5);
  image_descriptor_clear(&got);
  cleanup_free char *prefix = xstrndup(image_digest_hex(&b.digest), 12);
  ck_assert_int_eq(image_refs_lookup(f.s, prefix, &got, &err), 0);
  ck_assert_str_eq(got.digest.text, b.digest.text);
  image_descriptor_clear(&got);
  ck_assert_int_eq(image_refs_lookup(f.s, a.digest.text, &got, &err), 0);
  image_descriptor_clear(&got);
  ck_assert_int_lt(image_refs_lookup(f.s, "debian:11", &got, &err), 0);
  ck_assert_str_eq(err->msg, "image \"debian:11\": no such image");
  hull_error_release(&err);

  char **removed = NULL;
  ck_assert_int_eq(image_refs_remove(f.s, a.digest.text, &removed, &err), 0);
  ck_assert_int_eq(strv_len(removed), 2);
  strv_free(removed);
  removed = NULL;
  ck_assert_int_eq(image_refs_remove(f.s, "alpine", &removed, &err), 0);
  ck_assert_str_eq(removed[0], "docker.io/library/alpine:latest");
  strv_free(removed);
  ck_assert_int_eq(image_refs_list(f.s, &names, &n, &err), 0);
  ck_assert_int_eq(n, 0);
  image_names_free(names, n);
  fixture_close(&f);
}
END_TEST

/* A stored image for platform arch: its manifest's descriptor JSON (with
 * platform) for an index; n_diff_ids lets the config disagree. */
static char *store_image(struct fixture *f, const char *arch, int n_diff_ids,
                         struct image_digest *man) {
  struct image_digest layer, cfg;
  cleanup_free char *layer_text = xasprintf("layer of %s", arch);
  put_text(f, layer_text, &layer);
  cleanup_free char *cfg_json = xasprintf(
      "{\"architecture\": \"%s\", \"os\": \"linux\", \"rootfs\": "
      "{\"type\": \"layers\", \"diff_ids\": [%s%s%s]}}", arch,
      n_diff_ids > 0 ? "\"" : "", n_diff_ids > 0 ? layer.text : "",
      n_diff_ids > 0 ? "\"" : "");
  put_text(f, cfg_json, &cfg);
  cleanup_free char *c = descriptor_json(IMAGE_MT_CONFIG, &cfg,
                                         strlen(cfg_json));
  cleanup_free char *l = descriptor_json(
      "application/vnd.oci.image.layer.v1.tar+gzip", &layer,
      strlen(layer_text));
  cleanup_free char *manifest = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"config\": %s, "
      "\"layers\": [%s]}", IMAGE_MT_MANIFEST, c, l);
  put_text(f, manifest, man);
  return xasprintf("{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": "
                   "%zu, \"platform\": {\"os\": \"linux\", "
                   "\"architecture\": \"%s\"}}", IMAGE_MT_MANIFEST, man->text,
                   strlen(manifest), arch);
}

START_TEST(resolve_picks_the_platform_from_an_index) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest amd, arm, bad, ix;
  cleanup_free char *d_amd = store_image(&f, "amd64", 1, &amd);
  cleanup_free char *d_arm = store_image(&f, "arm64", 1, &arm);
  cleanup_free char *d_bad = store_image(&f, "s390x", 0, &bad);
  cleanup_free char *index = xasprintf(
      "{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"manifests\": "
      "[%s, %s, %s]}", IMAGE_MT_INDEX, d_amd, d_arm, d_bad);
  put_text(&f, index, &ix);
  struct image_descriptor target = {.media_type = IMAGE_MT_INDEX,
                                    .digest = ix,
                                    .size = (int64_t)strlen(index)};
  hull_error_t err = NULL;
  char *names[] = {"example.com/multi:1", NULL};
  ck_assert_int_eq(image_refs_set(f.s, names, &target, &err), 0);

  struct image_platform p;
  struct image_resolved r;
  ck_assert_int_eq(image_platform_parse("linux/arm64", &p, &err), 0);
  ck_assert_msg(image_resolve(f.s, "example.com/multi:1", &p, &r, &err) == 0,
                "%s", err ? err->msg : "");
  ck_assert_str_eq(r.manifest_desc.digest.text, arm.text);
  ck_assert_str_eq(r.config->platform.architecture, "arm64");
  ck_assert_ptr_nonnull(r.index);
  ck_assert_str_eq(r.names[0], "example.com/multi:1");
  ck_assert_int_eq(r.manifest->n_layers, 1);
  image_resolved_clear(&r);
  image_platform_clear(&p);

  /* A config whose diff_ids disagree with the manifest's layers. */
  ck_assert_int_eq(image_platform_parse("linux/s390x", &p, &err), 0);
  ck_assert_int_lt(image_resolve(f.s, "example.com/multi:1", &p, &r, &err), 0);
  ck_assert_msg(strstr(err->msg, ": .rootfs.diff_ids: 0 entries for the "
                                 "manifest's 1 layers") != NULL,
                "%s", err->msg);
  hull_error_release(&err);
  image_platform_clear(&p);
  ck_assert_int_eq(image_platform_parse("linux/riscv64", &p, &err), 0);
  ck_assert_int_lt(image_resolve(f.s, "example.com/multi:1", &p, &r, &err), 0);
  cleanup_free char *want = xasprintf(
      "index %s: no manifest for linux/riscv64 (it has linux/amd64, "
      "linux/arm64, linux/s390x)", ix.text);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  image_platform_clear(&p);
  fixture_close(&f);
}
END_TEST

/* ---- gc ------------------------------------------------------------------------ */

START_TEST(gc_keeps_what_names_reach_and_removes_the_rest) {
  struct fixture f;
  fixture_open(&f);
  struct image_digest cfg, layer, stray, man;
  const char *cfg_json = "{\"architecture\": \"amd64\", \"os\": \"linux\", "
                         "\"rootfs\": {\"type\": \"layers\", \"diff_ids\": "
                         "[]}}";
  put_text(&f, cfg_json, &cfg);
  put_text(&f, "layer bytes", &layer);
  put_text(&f, "nobody's", &stray);
  cleanup_free char *c = descriptor_json(IMAGE_MT_CONFIG, &cfg,
                                         strlen(cfg_json));
  cleanup_free char *l = descriptor_json(
      "application/vnd.oci.image.layer.v1.tar", &layer, 11);
  cleanup_free char *manifest = xasprintf(
      "{\"schemaVersion\": 2, \"config\": %s, \"layers\": [%s]}", c, l);
  put_text(&f, manifest, &man);
  struct image_descriptor target = {.media_type = IMAGE_MT_MANIFEST,
                                    .digest = man,
                                    .size = (int64_t)strlen(manifest)};
  hull_error_t err = NULL;
  char *names[] = {"docker.io/library/x:1", NULL};
  ck_assert_int_eq(image_refs_set(f.s, names, &target, &err), 0);
  /* A temp file of a writer that died. */
  cleanup_free char *tmp = xasprintf("%s/tmp/sha256-%s", f.root,
                                     image_digest_hex(&stray));
  int fd = open(tmp, O_WRONLY | O_CREAT, 0600);
  close(fd);
  image_store_close(f.s);

  struct image_store *gs = NULL;
  ck_assert_int_eq(image_store_open(f.root, IMAGE_STORE_EXCLUSIVE, &gs, &err),
                   0);
  char **removed = NULL;
  int64_t bytes = 0;
  ck_assert_msg(image_store_gc(gs, NULL, &removed, &bytes, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert_int_eq(strv_len(removed), 1);
  ck_assert_str_eq(removed[0], stray.text);
  ck_assert_int_eq(bytes, 8);
  strv_free(removed);
  ck_assert(image_store_has(gs, &man));
  ck_assert(image_store_has(gs, &cfg));
  ck_assert(image_store_has(gs, &layer));
  ck_assert_int_eq(count_entries(f.root, "tmp"), 0);
  image_store_close(gs);
  ck_assert_int_eq(image_store_open(f.root, IMAGE_STORE_SHARED, &f.s, &err),
                   0);
  fixture_close(&f);
}
END_TEST

static Suite *store_suite(void) {
  Suite *s = suite_create("store");
  TCase *tc = tcase_create("store");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, put_then_read_back_verified);
  tcase_add_test(tc, wrong_size_and_content_refused_leaving_nothing);
  tcase_add_test(tc, streamed_writer_refuses_more_than_the_size);
  tcase_add_test(tc, corruption_in_the_store_is_caught_on_read);
  tcase_add_test(tc, a_killed_writers_temp_file_is_taken_over);
  tcase_add_test(tc, a_kept_prefix_is_resumed);
  tcase_add_test(tc, concurrent_writers_store_a_blob_once);
  tcase_add_test(tc, manifest_fields_are_checked_and_named);
  tcase_add_test(tc, config_needs_platform_and_layers_rootfs);
  tcase_add_test(tc, index_selects_the_platform);
  tcase_add_test(tc, archive_member_names_stay_inside);
  tcase_add_test(tc, containerd_name_beats_a_bare_ref_name);
  tcase_add_test(tc, names_are_normalised_as_docker_does);
  tcase_add_test(tc, refs_set_lookup_remove);
  tcase_add_test(tc, resolve_picks_the_platform_from_an_index);
  tcase_add_test(tc, gc_keeps_what_names_reach_and_removes_the_rest);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(store_suite)
