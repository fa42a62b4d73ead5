/* test-image-pull.c — `hull image pull` against a real registry: Debian's
 * docker-registry (distribution 2.x), started per test on 127.0.0.1 with
 * its storage in the test's directory. Images are pushed by the test with
 * plain HTTP requests over a socket (POST an upload, PUT its blob, PUT the
 * manifest), so nothing but the registry is needed; the registry's access
 * log tells which blobs hull fetched. */
#include "tests/integration/harness.h"
#include "tests/integration/vm-harness.h"
#include "images/images.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REGISTRY "/usr/bin/docker-registry"
#define LAYER_MT "application/vnd.oci.image.layer.v1.tar"

/* ---- the registry -------------------------------------------------------- */

struct registry {
  pid_t pid;
  int port;
  bool tls;        /* on 127.0.0.2 over TLS (registry_restart_tls) */
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

static bool plain_ready(int port) {
  struct http_res h = http(port, "GET", "/v2/", NULL, NULL, 0);
  free(h.location);
  return h.status == 200 || h.status == 401;
}

/* Something accepts connections on 127.0.0.2:port. */
static bool tls_listening(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(0x7f000002u)};
  bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

static void registry_start(struct hctx *c, struct registry *r) {
  pid_t parent = getpid();
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* A failed assertion ends the test's process before registry_free:
     * the registry goes with it (the sweep knows only containers). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      _exit(127);
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
    if (r->tls ? tls_listening(r->port) : plain_ready(r->port))
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

#define MAX_LAYERS 3

/* An image's bytes; its layers differ by arch. layer, layer_len and d.layer
 * are the first layer's. */
struct image_bytes {
  char *layer, *config, *manifest;
  size_t layer_len;
  struct pushed d;
  size_t n_layers;
  char *layers[MAX_LAYERS];
  struct image_digest layer_d[MAX_LAYERS];
};

/* Docker's schema 2 media types instead of OCI's. */
static bool docker_types;

/* 200 KiB of noise seeded by arch and the layer's index. */
static char *make_layer(const char *arch, size_t index, size_t len) {
  char *layer = xmalloc(len);
  uint32_t x = 7919;
  for (const char *a = arch; *a; a++)
    x = x * 31 + (unsigned char)*a;
  x += (uint32_t)index * 104729;
  for (size_t i = 0; i < len; i++) {
    x = x * 1103515245 + 12345;
    layer[i] = (char)(x >> 16);
  }
  return layer;
}

/* A comma-separated list of the layers' diff_ids, or descriptors. */
static char *layer_list(const struct image_bytes *b, bool descriptors) {
  char *list = xstrdup("");
  for (size_t i = 0; i < b->n_layers; i++) {
    char *more;
    if (descriptors)
      more = xasprintf(
          "%s%s{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu}", list,
          i ? "," : "",
          docker_types ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                       : LAYER_MT,
          b->layer_d[i].text, b->layer_len);
    else
      more = xasprintf("%s%s\"%s\"", list, i ? "," : "", b->layer_d[i].text);
    free(list);
    list = more;
  }
  return list;
}

static struct image_bytes make_image_layers(const char *arch, size_t n) {
  struct image_bytes b = {.layer_len = 200 * 1024, .n_layers = n};
  for (size_t i = 0; i < n; i++) {
    b.layers[i] = make_layer(arch, i, b.layer_len);
    image_digest_of(IMAGE_SHA256, b.layers[i], b.layer_len, &b.layer_d[i]);
  }
  b.layer = b.layers[0];
  b.d.layer = b.layer_d[0];
  cleanup_free char *diff_ids = layer_list(&b, false);
  b.config = xasprintf(
      "{\"architecture\":\"%s\",\"os\":\"linux\",\"rootfs\":{\"type\":"
      "\"layers\",\"diff_ids\":[%s]}}", arch, diff_ids);
  image_digest_of(IMAGE_SHA256, b.config, strlen(b.config), &b.d.config);
  cleanup_free char *layers = layer_list(&b, true);
  b.manifest = xasprintf(
      "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":"
      "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[%s]}",
      docker_types ? IMAGE_MT_DOCKER_MANIFEST : IMAGE_MT_MANIFEST,
      docker_types ? IMAGE_MT_DOCKER_CONFIG : IMAGE_MT_CONFIG,
      b.d.config.text, strlen(b.config), layers);
  b.d.manifest_len = strlen(b.manifest);
  image_digest_of(IMAGE_SHA256, b.manifest, b.d.manifest_len, &b.d.manifest);
  return b;
}

static struct image_bytes make_image(const char *arch) {
  return make_image_layers(arch, 1);
}

static void image_bytes_free(struct image_bytes *b) {
  for (size_t i = 0; i < b->n_layers; i++)
    free(b->layers[i]);
  free(b->config);
  free(b->manifest);
}

/* The image for arch pushed, tagged tag when tag is not NULL (an index's
 * entries are pushed by digest). */
static void push_image_bytes(const struct registry *r, const char *repo,
                             const char *tag, const struct image_bytes *b) {
  struct image_digest d;
  for (size_t i = 0; i < b->n_layers; i++)
    push_blob(r, repo, b->layers[i], b->layer_len, &d);
  push_blob(r, repo, b->config, strlen(b->config), &d);
  push_manifest(r, repo, tag ? tag : b->d.manifest.text,
                docker_types ? IMAGE_MT_DOCKER_MANIFEST : IMAGE_MT_MANIFEST,
                b->manifest, &d);
}

static struct pushed push_image(const struct registry *r, const char *repo,
                                const char *tag, const char *arch) {
  struct image_bytes b = make_image(arch);
  struct image_digest d;
  push_blob(r, repo, b.layer, b.layer_len, &d);
  push_blob(r, repo, b.config, strlen(b.config), &d);
  push_manifest(r, repo, tag ? tag : b.d.manifest.text,
                docker_types ? IMAGE_MT_DOCKER_MANIFEST : IMAGE_MT_MANIFEST,
                b.manifest, &d);
  struct pushed p = b.d;
  image_bytes_free(&b);
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

/* ---- a registry of the test's own ------------------------------------------
 * For what docker-registry cannot be made to do: die half-way through a
 * blob, stall, ignore Range, count concurrent transfers, or ask for
 * credentials with a token (it would need token certificates). Serves one
 * image as busybox:1 from memory, a thread per connection, one request
 * per connection. */

struct fake {
  int fd;
  int port;
  pthread_t thread;
  const struct image_bytes *image;
  bool truncate_layer;     /* every layer response: its whole length
                              announced, half sent, the connection closed */
  atomic_int cut_layers;   /* so are the next this many layer responses */
  bool stall_layer;        /* the layer: half sent, then nothing until
                              fake_stop */
  bool honour_range;       /* "Range: bytes=N-" gets a 206 (else ignored:
                              a 200 with everything) */
  bool hold_layers;        /* a layer's answer waits for a second layer
                              request to be in flight (or 10 s) */
  bool redirect_layer;     /* the layer: a 307 to /storage/layer */
  const char *bearer;      /* required "Authorization: Bearer <this>" */
  const char *basic;       /* required "Authorization: Basic <this>" (on
                              the token endpoint when bearer is set) */
  pthread_mutex_t lock;    /* guards what follows */
  pthread_cond_t changed;
  int token_requests;
  int layers_in_flight;
  int max_layers_in_flight;
  char ranges[512];        /* the Range headers received, ";"-separated */
  atomic_int connections;  /* threads serving one */
  atomic_bool stop;
};

static void fake_reply(int fd, const char *status, const char *extra,
                       const char *body, size_t len, size_t send) {
  cleanup_free char *head = xasprintf(
      "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
      status, len, extra ? extra : "");
  if (write_all(fd, head, strlen(head)) == 0 && send)
    write_all(fd, body, send);
}

/* The request's head, or false when the client went away or spoke TLS. */
static bool fake_read_request(int fd, char *req, size_t cap) {
  size_t got = 0;
  while (got < cap - 1) {
    ssize_t n = read(fd, req + got, cap - 1 - got);
    if (n <= 0)
      return false;
    got += (size_t)n;
    req[got] = '\0';
    if (req[0] == 0x16) {
      /* A TLS handshake: answer as Go's server does a client that speaks
       * TLS to plain HTTP. */
      static const char bad[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
      write_all(fd, bad, sizeof(bad) - 1);
      return false;
    }
    if (strstr(req, "\r\n\r\n"))
      return true;
  }
  return false;
}

/* Waits (bounded) for a second layer request to be in flight at once,
 * remembering the most seen; once two were, no request waits. */
static void fake_hold(struct fake *f) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&f->lock);
  f->layers_in_flight++;
  if (f->layers_in_flight > f->max_layers_in_flight)
    f->max_layers_in_flight = f->layers_in_flight;
  pthread_cond_broadcast(&f->changed);
  while (f->max_layers_in_flight < 2 && !atomic_load(&f->stop) &&
         pthread_cond_timedwait(&f->changed, &f->lock, &until) == 0)
    ;
  pthread_mutex_unlock(&f->lock);
}

static void fake_unhold(struct fake *f) {
  pthread_mutex_lock(&f->lock);
  f->layers_in_flight--;
  pthread_mutex_unlock(&f->lock);
}

static void fake_send_layer(struct fake *f, int fd, const char *req,
                            const char *data, size_t len) {
  long long from = -1;
  const char *range = strcasestr(req, "\r\nRange: ");
  if (range) {
    char text[64] = "";
    sscanf(range + 9, "%63[^\r]", text);
    pthread_mutex_lock(&f->lock);
    size_t used = strlen(f->ranges);
    snprintf(f->ranges + used, sizeof(f->ranges) - used, "%s;", text);
    pthread_mutex_unlock(&f->lock);
    if (f->honour_range && sscanf(text, "bytes=%lld-", &from) != 1)
      from = -1;
  }
  if (f->hold_layers)
    fake_hold(f);
  bool cut = f->truncate_layer || atomic_fetch_sub(&f->cut_layers, 1) > 0;
  if (from >= 0 && (size_t)from < len) {
    cleanup_free char *cr = xasprintf("Content-Range: bytes %lld-%zu/%zu\r\n",
                                      from, len - 1, len);
    size_t rest = len - (size_t)from;
    fake_reply(fd, "206 Partial Content", cr, data + from, rest,
               cut ? rest / 2 : rest);
  } else {
    fake_reply(fd, "200 OK", NULL, data, len,
               cut || f->stall_layer ? len / 2 : len);
  }
  while (f->stall_layer && !atomic_load(&f->stop))
    usleep(20 * 1000);
  if (f->hold_layers)
    fake_unhold(f);
}

/* Answers the credentials' checks; true when the request may go on. */
static bool fake_authorized(struct fake *f, int fd, const char *path,
                            const char *auth) {
  cleanup_free char *want_basic =
      f->basic ? xasprintf("Basic %s", f->basic) : NULL;
  cleanup_free char *want_bearer =
      f->bearer ? xasprintf("Bearer %s", f->bearer) : NULL;
  if (strncmp(path, "/token?", 7) == 0) {
    pthread_mutex_lock(&f->lock);
    f->token_requests++;
    pthread_mutex_unlock(&f->lock);
    if (want_basic && strcmp(auth, want_basic) != 0) {
      fake_reply(fd, "401 Unauthorized", NULL, NULL, 0, 0);
      return false;
    }
    cleanup_free char *body = xasprintf("{\"token\":\"%s\"}", f->bearer);
    fake_reply(fd, "200 OK", "Content-Type: application/json\r\n", body,
               strlen(body), strlen(body));
    return false;
  }
  if (want_bearer && strcmp(auth, want_bearer) != 0) {
    cleanup_free char *challenge = xasprintf(
        "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\","
        "service=\"fake\",scope=\"repository:busybox:pull\"\r\n", f->port);
    fake_reply(fd, "401 Unauthorized", challenge, NULL, 0, 0);
    return false;
  }
  if (!want_bearer && want_basic && strcmp(auth, want_basic) != 0) {
    fake_reply(fd, "401 Unauthorized",
               "WWW-Authenticate: Basic realm=\"fake\"\r\n", NULL, 0, 0);
    return false;
  }
  return true;
}

static void fake_serve(struct fake *f, int fd) {
  char req[8192];
  if (!fake_read_request(fd, req, sizeof(req)))
    return;
  char path[4096] = "";
  if (sscanf(req, "GET %4095s", path) != 1)
    return;
  char auth[512] = "";
  const char *a = strcasestr(req, "\r\nAuthorization: ");
  if (a)
    sscanf(a + 17, "%511[^\r]", auth);
  if (!fake_authorized(f, fd, path, auth))
    return;
  const struct image_bytes *im = f->image;
  cleanup_free char *config = xasprintf("/v2/busybox/blobs/%s",
                                        im->d.config.text);
  if (strcmp(path, "/v2/busybox/manifests/1") == 0) {
    fake_reply(fd, "200 OK", "Content-Type: " IMAGE_MT_MANIFEST "\r\n",
               im->manifest, strlen(im->manifest), strlen(im->manifest));
    return;
  }
  if (strcmp(path, config) == 0) {
    fake_reply(fd, "200 OK", NULL, im->config, strlen(im->config),
               strlen(im->config));
    return;
  }
  if (strcmp(path, "/storage/layer") == 0) {
    fake_send_layer(f, fd, req, im->layer, im->layer_len);
    return;
  }
  for (size_t i = 0; i < im->n_layers; i++) {
    cleanup_free char *layer = xasprintf("/v2/busybox/blobs/%s",
                                         im->layer_d[i].text);
    if (strcmp(path, layer) != 0)
      continue;
    if (f->redirect_layer)
      fake_reply(fd, "307 Temporary Redirect",
                 "Location: /storage/layer\r\n", "moved", 5, 5);
    else
      fake_send_layer(f, fd, req, im->layers[i], im->layer_len);
    return;
  }
  fake_reply(fd, "404 Not Found", NULL, NULL, 0, 0);
}

struct fake_conn {
  struct fake *f;
  int fd;
};

static void *fake_conn_main(void *arg) {
  struct fake_conn *fc = arg;
  fake_serve(fc->f, fc->fd);
  close(fc->fd);
  atomic_fetch_sub(&fc->f->connections, 1);
  free(fc);
  return NULL;
}

static void *fake_main(void *arg) {
  struct fake *f = arg;
  while (!atomic_load(&f->stop)) {
    struct pollfd p = {.fd = f->fd, .events = POLLIN};
    if (poll(&p, 1, 50) <= 0)
      continue;
    int conn = accept4(f->fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
      continue;
    struct timeval tv = {.tv_sec = 5};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct fake_conn *fc = xzalloc(sizeof(*fc));
    fc->f = f;
    fc->fd = conn;
    atomic_fetch_add(&f->connections, 1);
    pthread_t t;
    if (pthread_create(&t, NULL, fake_conn_main, fc) == 0) {
      pthread_detach(t);
    } else {
      close(conn);
      atomic_fetch_sub(&f->connections, 1);
      free(fc);
    }
  }
  return NULL;
}

/* On 127.0.0.<host_octet>. */
static void fake_start_on(struct fake *f, int host_octet, int port,
                          const struct image_bytes *image) {
  f->image = image;
  pthread_mutex_init(&f->lock, NULL);
  pthread_cond_init(&f->changed, NULL);
  f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(f->fd, 0);
  int one = 1;
  setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr =
                              htonl(0x7f000000u | (uint32_t)host_octet)};
  ck_assert_int_eq(bind(f->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(f->fd, 16), 0);
  f->port = port;
  atomic_store(&f->stop, false);
  ck_assert_int_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_start(struct fake *f, int port,
                       const struct image_bytes *image) {
  fake_start_on(f, 1, port, image);
}

/* Stops accepting, ends stalls and holds, waits for every connection's
 * thread. */
static void fake_stop(struct fake *f) {
  atomic_store(&f->stop, true);
  pthread_mutex_lock(&f->lock);
  pthread_cond_broadcast(&f->changed);
  pthread_mutex_unlock(&f->lock);
  pthread_join(f->thread, NULL);
  close(f->fd);
  while (atomic_load(&f->connections) > 0)
    usleep(10 * 1000);
  pthread_cond_destroy(&f->changed);
  pthread_mutex_destroy(&f->lock);
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

/* <store>/tmp/sha256-<hex>: where a blob is written until verified. */
static char *temp_blob(const char *store, const struct image_digest *d) {
  return xasprintf("%s/tmp/sha256-%s", store, image_digest_hex(d));
}

static long long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int count_entries(const char *store, const char *sub) {
  cleanup_free char *p = xasprintf("%s/%s", store, sub);
  return hcount_entries(p);
}

/* Asserts the store names nothing (the header line only). */
static void expect_no_names(struct hctx *c, const char *store) {
  struct hres r = himage(c, store, "ls");
  ck_assert_hres(r, 0);
  ck_assert_msg(strchr(r.out, '\n') == strrchr(r.out, '\n'),
                "names left: %s", r.out);
  hres_free(&r);
}

/* hull loads libcurl for a pull (the test VM has none). */
static bool have_libcurl(void) {
  void *lib = dlopen("libcurl.so.4", RTLD_LAZY);
  if (lib)
    dlclose(lib);
  return lib != NULL;
}

#define SKIP_UNLESS_LIBCURL()                                                 \
  SKIP_UNLESS(have_libcurl(), "no libcurl.so.4 (Debian package libcurl4)")

/* Why a tool the test needs is missing: the cgroup-v2 test VM carries
 * none of these (the same tests run on the host in the same make check),
 * elsewhere its package is not installed. */
#define MISSING(path, package)                                                \
  (vm_in_test_vm() ? "no " path " in the cgroup-v2 test VM (the host's run " \
                     "covers it)"                                            \
                   : "no " path " (Debian package " package ")")

#define SKIP_UNLESS_REGISTRY()                                                \
  SKIP_UNLESS_LIBCURL();                                                      \
  SKIP_UNLESS(access(REGISTRY, X_OK) == 0,                                    \
              MISSING(REGISTRY, "docker-registry"))

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
  hexpect_one_line_error(r, want);
  hres_free(&r);

  cleanup_free char *ref2 = xasprintf("127.0.0.1:%d/nothere:1", reg.port);
  r = himage(c, store, "pull", ref2);
  cleanup_free char *want2 = xasprintf(
      "pull %s: GET /v2/nothere/manifests/1: 404 Not Found", ref2);
  hexpect_one_line_error(r, want2);
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
  hexpect_one_line_error(r, want);
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

/* Every try of the layer breaks half-way: the pull fails naming the blob,
 * keeps the half it has (no blob, no name), and a later pull from the real
 * registry goes on from there. */
START_TEST(registry_dying_mid_blob_keeps_the_part_for_a_later_pull) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct image_bytes im = make_image(image_host_architecture());
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  ck_assert_str_eq(p.layer.text, im.d.layer.text);
  /* The registry's port now answers with half of the layer. */
  registry_stop(&reg);
  struct fake f = {.truncate_layer = true, .honour_range = true};
  fake_start(&f, reg.port, &im);

  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  /* Each try gets half of what is left. */
  size_t have = im.layer_len / 2 + im.layer_len / 4 + im.layer_len / 8 +
                im.layer_len / 16;
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/blobs/%s: transfer closed with %zu bytes "
      "remaining to read (4 tries; %zu bytes kept for the next pull)", ref,
      im.d.layer.text, im.layer_len - have,
      have);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  fake_stop(&f);
  ck_assert(!stored(store, &p.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 1);
  cleanup_free char *tmp = temp_blob(store, &im.d.layer);
  ck_assert_int_eq(file_size(tmp), (long long)have);
  expect_no_names(c, store);

  registry_start(c, &reg);
  r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* "user:secret" in base64. */
#define USER_SECRET_B64 "dXNlcjpzZWNyZXQ="

START_TEST(bearer_token_fetched_on_401) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.bearer = "tok-123"};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  /* One token serves every request of the pull. */
  ck_assert_int_eq(f.token_requests, 1);
  fake_stop(&f);

  /* A token endpoint that wants credentials gets --creds. */
  struct image_bytes im2 = make_image("ppc64le");
  struct fake g = {.bearer = "tok-456", .basic = USER_SECRET_B64};
  fake_start(&g, free_port(), &im2);
  cleanup_free char *ref2 = xasprintf("127.0.0.1:%d/busybox:1", g.port);
  r = himage(c, store, "pull", ref2);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/1: token: GET "
      "http://127.0.0.1:%d/token: 401 Unauthorized", ref2, g.port);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "pull", "--creds", "user:secret", ref2);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im2.d.layer));
  fake_stop(&g);
  image_bytes_free(&im);
  image_bytes_free(&im2);
  hctx_finish(c);
}
END_TEST

START_TEST(basic_auth_with_creds) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.basic = USER_SECRET_B64};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/1: 401 Unauthorized", ref);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "pull", "--creds", "user:wrong", ref);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "pull", "--creds", "user:secret", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(blob_redirect_followed) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.redirect_layer = true};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

/* A registry turns a docker schema 2 manifest into schema 1 for a client
 * that does not accept it: the digest pulled is the one pushed only when
 * hull's Accept names schema 2. */
START_TEST(docker_schema2_manifest_pulled_as_pushed) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  docker_types = true;
  struct pushed p = push_image(&reg, "dockerish", "1",
                               image_host_architecture());
  docker_types = false;
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/dockerish:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("Digest: %s\n", p.manifest.text);
  ck_assert_msg(hcontains(r.out, want), "out: %s", r.out);
  hres_free(&r);
  r = himage(c, store, "inspect", ref);
  ck_assert_hres(r, 0);
  const char *mt_path[] = {"mediaType", NULL};
  cleanup_free char *mt = hjson_string(r.out, mt_path);
  ck_assert_str_eq(mt, IMAGE_MT_DOCKER_MANIFEST);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* docker's rule: plain HTTP for localhost and 127.0.0.1 only (127.0.0.2
 * is as local, but not by name), or with --insecure. */
START_TEST(https_unless_local_or_insecure) {
  SKIP_UNLESS_LIBCURL();
  /* curl refuses before the handshake without them. */
  SKIP_UNLESS(access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0,
              MISSING("/etc/ssl/certs/ca-certificates.crt",
                      "ca-certificates"));
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {0};
  fake_start_on(&f, 2, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.2:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 1);
  /* TLS spoken to a plain HTTP server: curl says how the handshake broke. */
  cleanup_free char *want =
      xasprintf("pull %s: GET /v2/busybox/manifests/1: ", ref);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s", r.err);
  ck_assert_msg(hcontains(r.err, "SSL") || hcontains(r.err, "TLS"),
                "stderr: %s", r.err);
  hres_free(&r);
  expect_no_names(c, store);
  r = himage(c, store, "pull", "--insecure", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

/* --tls-verify=false against a plain HTTP registry on a non-local name:
 * TLS first, plain http after the failed handshake, and a 401 there is
 * still answered with --creds. */
START_TEST(insecure_falls_back_to_http_and_answers_a_401) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.basic = USER_SECRET_B64};
  fake_start_on(&f, 2, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.2:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", "--tls-verify=false", "--creds",
                         "user:secret", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

/* Only `hull image pull` loads libcurl: hull is not linked with it. */
START_TEST(hull_is_not_linked_with_libcurl) {
  SKIP_UNLESS(access("/usr/bin/ldd", X_OK) == 0,
              MISSING("/usr/bin/ldd", "libc-bin"));
  struct hctx *c = hctx_new();
  cleanup_free char *out = xasprintf("%s/ldd", c->dir);
  cleanup_free char *cmd = xasprintf("ldd %s > %s 2>&1", getenv("HULL"), out);
  ck_assert_int_eq(system(cmd), 0);
  cleanup_free char *text = hread_file(out);
  ck_assert_msg(hcontains(text, "libc.so"), "ldd: %s", text);
  ck_assert_msg(!hcontains(text, "libcurl"), "ldd: %s", text);
  hctx_finish(c);
}
END_TEST

START_TEST(pull_by_digest) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox@%s", reg.port,
                                     p.manifest.text);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("Pulled image: %s\nDigest: %s\n", ref,
                                      p.manifest.text);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));

  /* A digest the registry does not have. */
  struct image_digest none;
  image_digest_of(IMAGE_SHA256, "x", 1, &none);
  cleanup_free char *ref2 = xasprintf("127.0.0.1:%d/busybox@%s", reg.port,
                                      none.text);
  r = himage(c, store, "pull", ref2);
  cleanup_free char *want2 = xasprintf(
      "pull %s: GET /v2/busybox/manifests/%s: 404 Not Found", ref2, none.text);
  hexpect_one_line_error(r, want2);
  hres_free(&r);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* Two pulls of one image at once: each blob fetched and stored once (the
 * store's blob lock), both succeed. */
START_TEST(two_pulls_at_once) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  char *args[] = {"image", "--image-root", store, "pull", ref, NULL};
  struct hbg a = hstart(c, args, gate[0], -1);
  struct hbg b = hstart(c, args, gate[0], -1);
  close(gate[0]);
  ck_assert_int_eq(write(gate[1], "gg", 2), 2);
  close(gate[1]);
  struct hres ra = hbg_wait(&a, 30000), rb = hbg_wait(&b, 30000);
  ck_assert_hres(ra, 0);
  ck_assert_hres(rb, 0);
  hres_free(&ra);
  hres_free(&rb);
  ck_assert(stored(store, &p.layer));
  ck_assert_int_eq(count_entries(store, "blobs/sha256"), 3);
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  /* Whichever pull comes second to a blob waits for the first's lock and
   * finds it stored: config and layer are fetched once each. */
  ck_assert_int_eq(blob_gets(&reg, "busybox"), 2);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* A tag that leads to a manifest, not an index: --platform checks its
 * config. */
START_TEST(platform_checked_on_a_single_manifest) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", reg.port);
  cleanup_free char *other = xasprintf("linux/%s", other_arch());
  struct hres r = himage(c, store, "pull", "--platform", other, ref);
  cleanup_free char *want = xasprintf(
      "pull %s: config %s: the image is for linux/%s, not %s", ref,
      p.config.text, image_host_architecture(), other);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert(!stored(store, &p.layer));
  expect_no_names(c, store);
  cleanup_free char *host = xasprintf("linux/%s", image_host_architecture());
  r = himage(c, store, "pull", "--platform", host, ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* ---- several layers at once -------------------------------------------------- */

START_TEST(layers_fetched_several_at_once) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image_layers(image_host_architecture(), 3);
  /* Each layer's answer waits until a second layer request is in flight
   * (at most 10 s): fetched one after another, none ever meets another. */
  struct fake f = {.hold_layers = true};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  fake_stop(&f);
  for (size_t i = 0; i < im.n_layers; i++)
    ck_assert(stored(store, &im.layer_d[i]));
  ck_assert_int_ge(f.max_layers_in_flight, 2);
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(image_of_several_layers_from_docker_registry) {
  SKIP_UNLESS_REGISTRY();
  struct hctx *c = hctx_new();
  struct registry reg = {0};
  registry_new(c, &reg);
  struct image_bytes im = make_image_layers(image_host_architecture(), 3);
  push_image_bytes(&reg, "layered", "1", &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/layered:1", reg.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  cleanup_free char *want = xasprintf("Pulled image: %s\nDigest: %s\n", ref,
                                      im.d.manifest.text);
  ck_assert_str_eq(r.out, want);
  hres_free(&r);
  for (size_t i = 0; i < im.n_layers; i++)
    ck_assert(stored(store, &im.layer_d[i]));
  ck_assert_int_eq(count_entries(store, "blobs/sha256"), 5);
  ck_assert_int_eq(blob_gets(&reg, "layered"), 4);   /* config, 3 layers */
  r = himage(c, store, "inspect", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  image_bytes_free(&im);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* ---- resuming ------------------------------------------------------------------ */

START_TEST(broken_transfer_resumed_from_where_it_stopped) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.honour_range = true};
  atomic_store(&f.cut_layers, 1);
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  fake_stop(&f);
  ck_assert(stored(store, &im.d.layer));
  /* The second request asked for the rest only. */
  cleanup_free char *want = xasprintf("bytes=%zu-;", im.layer_len / 2);
  ck_assert_str_eq(f.ranges, want);
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(server_ignoring_range_gets_the_blob_again_whole) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.honour_range = false};
  atomic_store(&f.cut_layers, 1);
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  fake_stop(&f);
  cleanup_free char *want = xasprintf("bytes=%zu-;", im.layer_len / 2);
  ck_assert_str_eq(f.ranges, want);
  /* Stored means verified: the 200's whole body replaced the prefix. */
  ck_assert(stored(store, &im.d.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(killed_pull_leaves_what_the_next_pull_resumes) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.stall_layer = true};
  int port = free_port();
  fake_start(&f, port, &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", port);
  char *args[] = {"image", "--image-root", store, "pull", ref, NULL};
  struct hbg b = hstart(c, args, -1, -1);
  cleanup_free char *tmp = temp_blob(store, &im.d.layer);
  long long half = (long long)im.layer_len / 2;
  for (int i = 0; i < 400 && file_size(tmp) < half; i++)
    usleep(50 * 1000);
  ck_assert_int_eq(file_size(tmp), half);
  ck_assert_int_eq(kill(b.pid, SIGKILL), 0);
  struct hres r = hbg_wait(&b, 10000);
  hres_free(&r);
  fake_stop(&f);
  ck_assert(!stored(store, &im.d.layer));
  ck_assert_int_eq(file_size(tmp), half);

  struct fake g = {.honour_range = true};
  fake_start(&g, port, &im);
  r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  fake_stop(&g);
  cleanup_free char *want = xasprintf("bytes=%lld-;", half);
  ck_assert_str_eq(g.ranges, want);
  ck_assert(stored(store, &im.d.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(wrong_partial_data_fails_the_digest_check_leaving_nothing) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.honour_range = true};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  struct hres r = himage(c, store, "ls");   /* makes the store */
  ck_assert_hres(r, 0);
  hres_free(&r);
  /* A prefix that is not the blob's, as a killed pull would leave one. */
  cleanup_free char *tmp = temp_blob(store, &im.d.layer);
  cleanup_free char *junk = xmalloc(1000);
  memset(junk, 'j', 1000);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write_all(fd, junk, 1000), 0);
  close(fd);

  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: blob %s: content does not match its digest", ref,
      im.d.layer.text);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  ck_assert_str_eq(f.ranges, "bytes=1000-;");
  ck_assert(!stored(store, &im.d.layer));
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  expect_no_names(c, store);
  /* Nothing of it is left to resume: the next pull starts afresh. */
  r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &im.d.layer));
  ck_assert_str_eq(f.ranges, "bytes=1000-;");
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

START_TEST(gc_removes_a_partial_blob_no_pull_holds) {
  SKIP_UNLESS_LIBCURL();
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image(image_host_architecture());
  struct fake f = {.truncate_layer = true};
  fake_start(&f, free_port(), &im);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 1);
  hres_free(&r);
  fake_stop(&f);
  ck_assert_int_eq(count_entries(store, "tmp"), 1);
  r = himage(c, store, "gc");
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_int_eq(count_entries(store, "tmp"), 0);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

/* ---- progress ------------------------------------------------------------------ */

START_TEST(progress_shown_on_a_terminal_only) {
  SKIP_UNLESS_LIBCURL();
  SKIP_UNLESS(access("/usr/bin/script", X_OK) == 0,
              MISSING("/usr/bin/script", "bsdutils"));
  struct hctx *c = hctx_new();
  struct image_bytes im = make_image_layers(image_host_architecture(), 2);
  struct fake f = {0};
  fake_start(&f, free_port(), &im);
  cleanup_free char *ref = xasprintf("127.0.0.1:%d/busybox:1", f.port);

  /* stderr a pipe: nothing but the result on stdout. */
  cleanup_free char *store = store_of(c);
  struct hres r = himage(c, store, "pull", ref);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.err, "");
  ck_assert_msg(!hcontains(r.out, "Copying"), "out: %s", r.out);
  hres_free(&r);

  /* Under script(1) every stdio is a terminal. */
  cleanup_free char *tty_store = xasprintf("%s/tty-images", c->dir);
  cleanup_free char *out = xasprintf("%s/tty.out", c->dir);
  cleanup_free char *cmd = xasprintf(
      "script -qec '%s image --image-root %s pull %s' /dev/null "
      "</dev/null >%s 2>&1", getenv("HULL"), tty_store, ref, out);
  ck_assert_int_eq(system(cmd), 0);
  cleanup_free char *text = hread_file(out);
  for (size_t i = 0; i < im.n_layers; i++) {
    cleanup_free char *line = xasprintf("Copying blob %.12s done 200.0 KiB",
                                        image_digest_hex(&im.layer_d[i]));
    ck_assert_msg(hcontains(text, line), "tty: %s\nwant: %s", text, line);
  }
  cleanup_free char *config = xasprintf("Copying config %.12s done",
                                        image_digest_hex(&im.d.config));
  ck_assert_msg(hcontains(text, config), "tty: %s", text);
  ck_assert_msg(hcontains(text, "Pulled image: "), "tty: %s", text);

  /* Pulled again: each blob said to be there already. */
  ck_assert_int_eq(system(cmd), 0);
  free(text);
  text = hread_file(out);
  cleanup_free char *skipped = xasprintf(
      "Copying blob %.12s skipped: already exists",
      image_digest_hex(&im.d.layer));
  ck_assert_msg(hcontains(text, skipped), "tty: %s", text);
  fake_stop(&f);
  image_bytes_free(&im);
  hctx_finish(c);
}
END_TEST

/* ---- TLS -------------------------------------------------------------------------- */

static bool have_openssl(void) {
  return system("command -v openssl >/dev/null 2>&1") == 0;
}

static void sh(const char *cmd) {
  int st = system(cmd);
  ck_assert_msg(st == 0, "`%s` exited with %d", cmd, st);
}

/* In c->dir: certs/ca.crt (a CA of the test's own, the --cert-dir) and
 * server.crt/server.key for 127.0.0.2, signed by it. */
static void make_certs(struct hctx *c) {
  cleanup_free char *cmd = xasprintf(
      "cd %s && mkdir -p certs && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -keyout ca.key -out certs/ca.crt -days 2 -subj '/CN=hull test "
      "CA' && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout server.key -out server.csr -subj '/CN=127.0.0.2' && "
      "printf 'subjectAltName=IP:127.0.0.2\\nbasicConstraints=CA:FALSE\\n' "
      ">ext.cnf && "
      "openssl x509 -req -in server.csr -CA certs/ca.crt -CAkey ca.key "
      "-CAcreateserial -out server.crt -days 2 -extfile ext.cnf "
      ">openssl.log 2>&1",
      c->dir);
  sh(cmd);
}

/* The registry again, on 127.0.0.2 over TLS with the test's certificate,
 * with extra (YAML at the top level) added to its config. */
static void registry_restart_tls(struct hctx *c, struct registry *r,
                                 const char *extra) {
  registry_stop(r);
  cleanup_free char *yml = xasprintf(
      "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
      "    rootdirectory: %s\nhttp:\n  addr: 127.0.0.2:%d\n  tls:\n"
      "    certificate: %s/server.crt\n    key: %s/server.key\n%s",
      r->storage, r->port, c->dir, c->dir, extra ? extra : "");
  hwrite_file(r->config, yml, 0644);
  r->tls = true;
  registry_start(c, r);
}

START_TEST(tls_registry_trusted_through_cert_dir) {
  SKIP_UNLESS_REGISTRY();
  SKIP_UNLESS(have_openssl(), "no openssl command (Debian package openssl)");
  struct hctx *c = hctx_new();
  make_certs(c);
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  registry_restart_tls(c, &reg, NULL);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.2:%d/busybox:1", reg.port);

  struct hres r = himage(c, store, "pull", ref);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/1: certificate verification failed "
      "for registry 127.0.0.2:%d (trust its CA with --cert-dir): ", ref,
      reg.port);
  ck_assert_hres(r, 1);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s\nwant: %s", r.err, want);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "more than one line: %s", r.err);
  hres_free(&r);
  expect_no_names(c, store);

  cleanup_free char *certs = xasprintf("%s/certs", c->dir);
  r = himage(c, store, "pull", "--cert-dir", certs, ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));

  /* --tls-verify=false: TLS without verification. */
  cleanup_free char *store2 = xasprintf("%s/images2", c->dir);
  r = himage(c, store2, "pull", "--tls-verify=false", ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store2, &p.layer));

  cleanup_free char *none = xasprintf("%s/no-such-dir", c->dir);
  r = himage(c, store2, "pull", "--cert-dir", none, ref);
  cleanup_free char *want2 = xasprintf(
      "pull %s: cert dir `%s`: No such file or directory", ref, none);
  hexpect_one_line_error(r, want2);
  hres_free(&r);
  r = himage(c, store2, "pull", "--tls-verify=maybe", ref);
  hexpect_one_line_error(r, "image pull: --tls-verify: expects true or "
                           "false, not \\\"maybe\\\"");
  hres_free(&r);
  r = himage(c, store2, "ls", "--cert-dir", certs);
  hexpect_one_line_error(r, "image ls: --cert-dir is for pull");
  hres_free(&r);
  registry_free(&reg);
  hctx_finish(c);
}
END_TEST

/* docker-registry's htpasswd file wants bcrypt: libcrypt's crypt(3) makes
 * it ($2b$); NULL when this libcrypt cannot. */
static char *bcrypt_of(const char *password) {
  void *lib = dlopen("libcrypt.so.1", RTLD_NOW);
  if (lib == NULL)
    return NULL;
  char *(*crypt_fn)(const char *, const char *) =
      (char *(*)(const char *, const char *))dlsym(lib, "crypt");
  char *h = crypt_fn ? crypt_fn(password, "$2b$05$abcdefghijklmnopqrstuu")
                     : NULL;
  char *out = h && strncmp(h, "$2b$", 4) == 0 ? xstrdup(h) : NULL;
  dlclose(lib);
  return out;
}

START_TEST(tls_registry_with_htpasswd_basic_auth) {
  SKIP_UNLESS_REGISTRY();
  SKIP_UNLESS(have_openssl(), "no openssl command (Debian package openssl)");
  cleanup_free char *hash = bcrypt_of("secret");
  SKIP_UNLESS(hash != NULL, "no bcrypt in libcrypt.so.1 (libcrypt1)");
  struct hctx *c = hctx_new();
  make_certs(c);
  struct registry reg = {0};
  registry_new(c, &reg);
  struct pushed p = push_image(&reg, "busybox", "1", image_host_architecture());
  cleanup_free char *htpasswd = xasprintf("%s/htpasswd", c->dir);
  cleanup_free char *entry = xasprintf("user:%s\n", hash);
  hwrite_file(htpasswd, entry, 0644);
  cleanup_free char *auth = xasprintf(
      "auth:\n  htpasswd:\n    realm: hull-test\n    path: %s\n", htpasswd);
  registry_restart_tls(c, &reg, auth);
  cleanup_free char *store = store_of(c);
  cleanup_free char *ref = xasprintf("127.0.0.2:%d/busybox:1", reg.port);
  cleanup_free char *certs = xasprintf("%s/certs", c->dir);

  struct hres r = himage(c, store, "pull", "--cert-dir", certs, ref);
  cleanup_free char *want = xasprintf(
      "pull %s: GET /v2/busybox/manifests/1: 401 Unauthorized", ref);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "pull", "--cert-dir", certs, "--creds", "user:wrong",
             ref);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  r = himage(c, store, "pull", "--cert-dir", certs, "--creds", "user:secret",
             ref);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert(stored(store, &p.layer));
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
  tcase_add_test(tc, registry_dying_mid_blob_keeps_the_part_for_a_later_pull);
  tcase_add_test(tc, bearer_token_fetched_on_401);
  tcase_add_test(tc, basic_auth_with_creds);
  tcase_add_test(tc, platform_checked_on_a_single_manifest);
  tcase_add_test(tc, pull_by_digest);
  tcase_add_test(tc, two_pulls_at_once);
  tcase_add_test(tc, blob_redirect_followed);
  tcase_add_test(tc, docker_schema2_manifest_pulled_as_pushed);
  tcase_add_test(tc, https_unless_local_or_insecure);
  tcase_add_test(tc, hull_is_not_linked_with_libcurl);
  tcase_add_test(tc, insecure_falls_back_to_http_and_answers_a_401);
  tcase_add_test(tc, layers_fetched_several_at_once);
  tcase_add_test(tc, image_of_several_layers_from_docker_registry);
  tcase_add_test(tc, broken_transfer_resumed_from_where_it_stopped);
  tcase_add_test(tc, server_ignoring_range_gets_the_blob_again_whole);
  tcase_add_test(tc, killed_pull_leaves_what_the_next_pull_resumes);
  tcase_add_test(tc, wrong_partial_data_fails_the_digest_check_leaving_nothing);
  tcase_add_test(tc, gc_removes_a_partial_blob_no_pull_holds);
  tcase_add_test(tc, progress_shown_on_a_terminal_only);
  tcase_add_test(tc, tls_registry_trusted_through_cert_dir);
  tcase_add_test(tc, tls_registry_with_htpasswd_basic_auth);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(image_pull_suite)
