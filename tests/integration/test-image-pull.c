/* test-image-pull.c — `hull image pull` against a real registry: Debian's
 * docker-registry (distribution 2.x), started per test on 127.0.0.1 with
 * its storage in the test's directory. Images are pushed by the test with
 * plain HTTP requests over a socket (POST an upload, PUT its blob, PUT the
 * manifest), so nothing but the registry is needed; the registry's access
 * log tells which blobs hull fetched. */
#include "tests/integration/harness.h"
#include "images/images.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REGISTRY "/usr/bin/docker-registry"
#define LAYER_MT "application/vnd.oci.image.layer.v1.tar"

/* `hull image --image-root <store> ARGS...` */
#define himage(c, store, ...)                                                 \
  hrun(c, "image", "--image-root", store, __VA_ARGS__, NULL)

/* ---- the registry -------------------------------------------------------- */

struct registry {
  pid_t pid;
  int port;
  char *config;    /* its config file */
  char *storage;   /* its rootdirectory */
  char *log;       /* its stdout and stderr (the access log) */
};

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

struct http_res {
  int status;
  char *location;  /* the Location header's path and query, or NULL */
};

/* One HTTP/1.1 request on its own connection; -1 status when the
 * registry cannot be reached. */
static struct http_res http(int port, const char *method, const char *path,
                            const char *content_type, const void *body,
                            size_t len) {
  struct http_res res = {.status = -1};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    close(fd);
    return res;
  }
  cleanup_free char *head = xasprintf(
      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n"
      "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
      method, path, port, content_type ? content_type : "application/json",
      len);
  ck_assert_int_eq(write_all(fd, head, strlen(head)), 0);
  if (len)
    ck_assert_int_eq(write_all(fd, body, len), 0);
  size_t cap = 1 << 16, got = 0;
  cleanup_free char *buf = xmalloc(cap + 1);
  ssize_t n;
  while ((n = read(fd, buf + got, cap - got)) > 0) {
    got += (size_t)n;
    if (got == cap)
      buf = xrealloc(buf, (cap *= 2) + 1);
  }
  close(fd);
  buf[got] = '\0';
  if (sscanf(buf, "HTTP/1.%*d %d", &res.status) != 1)
    return res;
  char *loc = strcasestr(buf, "\r\nLocation: ");
  if (loc) {
    loc += 12;
    char *end = strstr(loc, "\r\n");
    char *path_start = strstr(loc, "://");
    path_start = path_start && path_start < end ? strchr(path_start + 3, '/')
                                                : loc;
    res.location = xstrndup(path_start, (size_t)(end - path_start));
  }
  return res;
}

static void registry_start(struct hctx *c, struct registry *r) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    int out = open(r->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(in, 0);
    dup2(out, 1);
    dup2(out, 2);
    execl(REGISTRY, REGISTRY, "serve", r->config, (char *)NULL);
    _exit(127);
  }
  r->pid = pid;
  for (int i = 0; i < 200; i++) {
    struct http_res h = http(r->port, "GET", "/v2/", NULL, NULL, 0);
    free(h.location);
    if (h.status == 200)
      return;
    usleep(50 * 1000);
  }
  ck_abort_msg("docker-registry did not answer on port %d: %s", r->port,
               hread_file(r->log));
}

static void registry_stop(struct registry *r) {
  if (r->pid <= 0)
    return;
  kill(r->pid, SIGKILL);
  waitpid(r->pid, NULL, 0);
  r->pid = 0;
}

static void registry_new(struct hctx *c, struct registry *r) {
  r->port = free_port();
  r->storage = xasprintf("%s/registry", c->dir);
  r->config = xasprintf("%s/registry.yml", c->dir);
  r->log = xasprintf("%s/registry.log", c->dir);
  cleanup_free char *yml = xasprintf(
      "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
      "    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%d\n",
      r->storage, r->port);
  hwrite_file(r->config, yml, 0644);
  registry_start(c, r);
}

static void registry_free(struct registry *r) {
  registry_stop(r);
  free(r->config);
  free(r->storage);
  free(r->log);
}

/* How many GETs of blobs of repo the access log shows. */
static int blob_gets(const struct registry *r, const char *repo) {
  cleanup_free char *log = hread_file(r->log);
  cleanup_free char *needle = xasprintf("\"GET /v2/%s/blobs/", repo);
  int n = 0;
  for (const char *p = log; p && (p = strstr(p, needle)); p++)
    n++;
  return n;
}

/* ---- pushing ------------------------------------------------------------------ */

static void push_blob(const struct registry *r, const char *repo,
                      const void *data, size_t len, struct image_digest *d) {
  image_digest_of(IMAGE_SHA256, data, len, d);
  cleanup_free char *start = xasprintf("/v2/%s/blobs/uploads/", repo);
  struct http_res h = http(r->port, "POST", start, NULL, NULL, 0);
  ck_assert_int_eq(h.status, 202);
  ck_assert_ptr_nonnull(h.location);
  cleanup_free char *put = xasprintf(
      "%s%sdigest=%s", h.location, strchr(h.location, '?') ? "&" : "?",
      d->text);
  free(h.location);
  h = http(r->port, "PUT", put, "application/octet-stream", data, len);
  free(h.location);
  ck_assert_int_eq(h.status, 201);
}

static void push_manifest(const struct registry *r, const char *repo,
                          const char *tag, const char *media_type,
                          const char *json, struct image_digest *d) {
  image_digest_of(IMAGE_SHA256, json, strlen(json), d);
  cleanup_free char *path = xasprintf("/v2/%s/manifests/%s", repo, tag);
  struct http_res h =
      http(r->port, "PUT", path, media_type, json, strlen(json));
  free(h.location);
  ck_assert_int_eq(h.status, 201);
}

struct pushed {
  struct image_digest layer, config, manifest;
  size_t manifest_len;
};

/* A one-layer image for arch (its layer's bytes differ by arch), tagged
 * tag when tag is not NULL (an index's entries are pushed by digest). */
static struct pushed push_image(const struct registry *r, const char *repo,
                                const char *tag, const char *arch) {
  struct pushed p;
  size_t layer_len = 200 * 1024;
  cleanup_free char *layer = xmalloc(layer_len);
  uint32_t x = 7919;
  for (const char *a = arch; *a; a++)
    x = x * 31 + (unsigned char)*a;
  for (size_t i = 0; i < layer_len; i++) {
    x = x * 1103515245 + 12345;
    layer[i] = (char)(x >> 16);
  }
  push_blob(r, repo, layer, layer_len, &p.layer);
  cleanup_free char *config = xasprintf(
      "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[\"%s\"]}}", arch, p.layer.text);
  push_blob(r, repo, config, strlen(config), &p.config);
  cleanup_free char *manifest = xasprintf(
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
      "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
      "\"%s\",\"digest\":\"%s\",\"size\":%zu}]}",
      IMAGE_MT_MANIFEST, IMAGE_MT_CONFIG, p.config.text, strlen(config),
      LAYER_MT, p.layer.text, layer_len);
  struct image_digest md;
  image_digest_of(IMAGE_SHA256, manifest, strlen(manifest), &md);
  push_manifest(r, repo, tag ? tag : md.text, IMAGE_MT_MANIFEST, manifest,
                &p.manifest);
  p.manifest_len = strlen(manifest);
  return p;
}

static const char *other_arch(void) {
  return strcmp(image_host_architecture(), "arm64") == 0 ? "amd64" : "arm64";
}

/* An index tagged tag with an image for the host's architecture and one
 * for other_arch(); out[0] the host's. */
static void push_index(const struct registry *r, const char *repo,
                       const char *tag, struct pushed out[2]) {
  const char *arch[2] = {image_host_architecture(), other_arch()};
  cleanup_free char *entries = xstrdup("");
  for (int i = 0; i < 2; i++) {
    out[i] = push_image(r, repo, NULL, arch[i]);
    char *more = xasprintf(
        "%s%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"%s\"}}",
        entries, i ? "," : "", IMAGE_MT_MANIFEST, out[i].manifest.text,
        out[i].manifest_len, arch[i]);
    free(entries);
    entries = more;
  }
  cleanup_free char *index = xasprintf(
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}",
      IMAGE_MT_INDEX, entries);
  struct image_digest d;
  push_manifest(r, repo, tag, IMAGE_MT_INDEX, index, &d);
}

/* ---- the store ------------------------------------------------------------------ */

static char *store_of(struct hctx *c) {
  return xasprintf("%s/images", c->dir);
}

static bool stored(const char *store, const struct image_digest *d) {
  cleanup_free char *p = xasprintf("%s/blobs/sha256/%s", store,
                                   image_digest_hex(d));
  return access(p, F_OK) == 0;
}

static int count_entries(const char *store, const char *sub) {
  cleanup_free char *p = xasprintf("%s/%s", store, sub);
  DIR *d = opendir(p);
  if (d == NULL)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

/* Asserts exit 1 with exactly one line of error, msg. */
static void expect_one_line_error(struct hres r, const char *msg) {
  ck_assert_hres(r, 1);
  cleanup_free char *quoted = xasprintf("msg=\"%s\"", msg);
  ck_assert_msg(hcontains(r.err, quoted), "stderr: %s\nwant: %s", r.err,
                quoted);
  char *nl = strchr(r.err, '\n');
  ck_assert_msg(nl && nl[1] == '\0', "more than one line: %s", r.err);
}

/* Asserts the store names nothing (the header line only). */
static void expect_no_names(struct hctx *c, const char *store) {
  struct hres r = himage(c, store, "ls");
  ck_assert_hres(r, 0);
  ck_assert_msg(strchr(r.out, '\n') == strrchr(r.out, '\n'),
                "names left: %s", r.out);
  hres_free(&r);
}

#define SKIP_UNLESS_REGISTRY()                                                \
  SKIP_UNLESS(access(REGISTRY, X_OK) == 0,                                    \
              "no " REGISTRY " (Debian package docker-registry)")

/* ---- tests ---------------------------------------------------------------------- */

START_TEST(pull_by_tag_then_ls_and_inspect) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);

  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("Pulled image: %s\nDigest: %s\n", ref,
                                      p.manifest.text);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);
  ck_assert(stored(store, &p.manifest));
  ck_assert(stored(store, &p.config));
  ck_assert(stored(store, &p.layer));

  r = himage(c, store, "ls");
  ck_assert_hres(r, 0);
  cleanup_free char *line =
      xasprintf("%s   %.12s", ref, image_digest_hex(&p.manifest));
  ck_assert_msg(hcontains(r.out, line), "ls: %s", r.out);
  hres_free(&r);

  r = himage(c, store, "inspect", ref);
  ck_assert_hres(r, 0);
  const char *arch_path[] = {"config", "architecture", NULL};
  cleanup_free char *arch = hjson_string(r.out, arch_path);
  ck_assert_str_eq(arch, image_host_architecture());
  const char *md_path[] = {"manifestDigest", NULL};
  cleanup_free char *md = hjson_string(r.out, md_path);
  ck_assert_str_eq(md, p.manifest.text);
  hres_free(&r);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

START_TEST(pull_again_fetches_no_blob) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  /* The access log is at info level. */
  push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_int_eq(blob_gets(&reg, "busybox"), 2);   /* config, layer */
  r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_int_eq(blob_gets(&reg, "busybox"), 2);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

START_TEST(unknown_tag_or_repository_is_one_line_and_stores_nothing) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);

  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:nope", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/nope: 404 Not Found", ref);
  expect_one_line_error(r, want);
  hres_free(&r);

  cleanup_free char *ref2 = xasprintf("127.0.0.1:%d/nothere:1", reg.port);
  r = himage(c, store, "pull", ref2);
  cleanup_free char *want2 = xasprintf(
      "pull %s: GET /v2/nothere/manifests/1: 404 Not Found", ref2);
  expect_one_line_error(r, want2);
  hres_free(&r);

  ck_assert_int_eq(count_entries(store, "blobs/sha256"), 0);
  expect_no_names(c, store);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

START_TEST(corrupted_blob_on_the_registry_refused_leaving_nothing) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  /* distribution keeps blobs at blobs/sha256/<2 hex>/<hex>/data and serves
   * them as they are: one byte changed, same size. */
  const char *hex = image_digest_hex(&p.layer);
  cleanup_free char *data = xasprintf(
      "%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", reg.storage, hex,
      hex);
  int fd = open(data, O_WRONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "open %s", data);
  ck_assert_int_eq(pwrite(fd, "X", 1, 1000), 1);
  close(fd);

  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: blob %s: content does not match its digest", ref,
      p.layer.text);
  expect_one_line_error(r, want);
  hres_free(&r);
  ck_assert(!stored(store, &p.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  expect_no_names(c, store);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

START_TEST(registry_gone_is_one_line_and_a_later_pull_completes) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  registry_stop(&reg);

  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/1: Failed to connect to 127.0.0.1 "
      "port %d", ref, reg.port);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s", r.err);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "more than one line: %s", r.err);
  hres_free(&r);
  expect_no_names(c, store);

  registry_start(c, &reg);
  r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

START_TEST(index_gives_the_hosts_platform_or_the_one_asked_for) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p[2];
  push_index(&reg, "multi", "1", p);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/multi:1", reg.port);

  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p[0].manifest));
  ck_assert(stored(store, &p[0].layer));
  ck_assert(!stored(store, &p[1].manifest));
  ck_assert(!stored(store, &p[1].layer));
  r = himage(c, store, "inspect", ref);
  ck_assert_hres(r, 0);
  const char *arch_path[] = {"config", "architecture", NULL};
  cleanup_free char *arch = hjson_string(r.out, arch_path);
  ck_assert_str_eq(arch, image_host_architecture());
  hres_free(&r);

  cleanup_free char *other = xasprintf("linux/%s", other_arch());
  r = himage(c, store, "pull", "--platform", other, ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p[1].manifest));
  ck_assert(stored(store, &p[1].layer));
  r = himage(c, store, "inspect", "--platform", other, ref);
  ck_assert_hres(r, 0);
  cleanup_free char *arch2 = hjson_string(r.out, arch_path);
  ck_assert_str_eq(arch2, other_arch());
  hres_free(&r);

  r = himage(c, store, "pull", "--platform", "linux/s390x", ref);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, "no manifest for linux/s390x"), "stderr: %s",
                r.err);
  hres_free(&r);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

static Suite *image_pull_suite(void) {
  Suite *s = suite_create("integration-image-pull");
  TCase *tc = harness_tcase("image-pull", 60);
  tcase_add_test(tc, pull_by_tag_then_ls_and_inspect);
  tcase_add_test(tc, pull_again_fetches_no_blob);
  tcase_add_test(tc, unknown_tag_or_repository_is_one_line_and_stores_nothing);
  tcase_add_test(tc, corrupted_blob_on_the_registry_refused_leaving_nothing);
  tcase_add_test(tc, registry_gone_is_one_line_and_a_later_pull_completes);
  tcase_add_test(tc, index_gives_the_hosts_platform_or_the_one_asked_for);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(image_pull_suite)
