/* registry.c — the OCI distribution API's reads (distribution-spec
 * 1.x "pull"): manifests by tag or digest, blobs streamed into the store,
 * over libcurl. libcurl is loaded on first use (lazylib.c): linked, it
 * would load (with its TLS stack) into every hull command.
 *
 * Scheme: https, except plain http with `insecure` and for a registry on
 * localhost, 127.0.0.1 or [::1] (docker's rule for local registries).
 * Redirects are followed (registries send blob GETs to their storage);
 * anonymous access first, and on a 401 the bearer token the
 * WWW-Authenticate header points at (with the basic credentials when
 * given), or basic auth itself when that is what the registry asks for.
 *
 * TLS: the CAs curl trusts by default, and those in the registry's cert
 * directory (--cert-dir, else /etc/hull/certs.d/HOST:PORT/ when it exists:
 * every *.crt file, as podman's certs.d). insecure (--insecure,
 * --tls-verify=false) skips verification and falls back to plain http when
 * the registry does not speak TLS at all (docker's insecure registries).
 *
 * A blob's transfer that breaks (connection reset, body cut short, the
 * registry gone) is tried again from where it stopped (Range: bytes=N-),
 * a few times; what was received is kept in the store's temp file, so a
 * later pull goes on from there too (image_blob_writer_resume). */
#define CURL_DISABLE_TYPECHECK 1
#include "images/images.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API(name) __typeof__(name) *name

struct curl_api {
  API(curl_easy_init);
  API(curl_easy_cleanup);
  API(curl_easy_reset);
  API(curl_easy_setopt);
  API(curl_easy_perform);
  API(curl_easy_getinfo);
  API(curl_easy_strerror);
  API(curl_slist_append);
  API(curl_slist_free_all);
  API(curl_easy_escape);
  API(curl_free);
};

#undef API

#define SYM(name) LAZYLIB_SYMBOL(struct curl_api, name)

static const struct lazylib_symbol symbols[] = {
    SYM(curl_easy_init),     SYM(curl_easy_cleanup), SYM(curl_easy_reset),
    SYM(curl_easy_setopt),   SYM(curl_easy_perform), SYM(curl_easy_getinfo),
    SYM(curl_easy_strerror), SYM(curl_slist_append), SYM(curl_slist_free_all),
    SYM(curl_easy_escape),   SYM(curl_free),
};

static struct lazylib libcurl = LAZYLIB("libcurl.so.4", symbols,
                                        struct curl_api);

#define MANIFEST_ACCEPT                                                       \
  "Accept: " IMAGE_MT_INDEX ", " IMAGE_MT_MANIFEST ", " IMAGE_MT_DOCKER_LIST \
  ", " IMAGE_MT_DOCKER_MANIFEST

struct image_registry {
  const struct curl_api *api;
  CURL *curl;
  char *host;            /* "host:port", as the name has it */
  char *base;            /* "https://host:port" */
  char *repository;      /* "library/debian" */
  char *creds;           /* "user:pass" or NULL */
  char *authorization;   /* "Authorization: ..." once a 401 taught us */
  bool insecure;         /* no verification; http when TLS is not spoken */
  char *ca;              /* PEM: the default CAs and the cert dir's, or NULL */
  size_t ca_len;
};

/* Tries of one blob's transfer before its error is the pull's. */
#define BLOB_TRIES 4

/* One exchange's state, filled by the callbacks. */
struct exchange {
  struct image_registry *r;
  long status;
  char reason[64];             /* the status line's reason phrase */
  char *content_type;
  char *www_authenticate;
  /* the body: into memory (a manifest), or into a blob writer */
  char *body;
  size_t body_len;
  size_t body_max;
  struct image_blob_writer *writer;
  int64_t range_from;          /* "Range: bytes=<this>-" sent when > 0 */
  int64_t range_start;         /* a 206's Content-Range start, else -1 */
  bool body_begun;             /* the 2xx body's first bytes came */
  const struct image_blob_progress *progress;
  int64_t total;               /* the blob's size, for progress */
  CURLcode curl_rc;            /* the transfer's own result */
  hull_error_t write_err;      /* why the write callback stopped */
};

static bool is_local_host(const char *host) {
  static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; i < sizeof(local) / sizeof(*local); i++) {
    size_t n = strlen(local[i]);
    if (strncmp(host, local[i], n) == 0 &&
        (host[n] == '\0' || host[n] == ':'))
      return true;
  }
  return false;
}

static bool has_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Appends the file's content to the PEM being gathered. */
static int append_file(char **pem, size_t *len, const char *path,
                       hull_error_t *err) {
  cleanup_free char *text = NULL;
  size_t n = 0;
  if (read_file(path, &text, &n, err) < 0)
    return -1;
  *pem = xrealloc(*pem, *len + n + 2);
  memcpy(*pem + *len, text, n);
  *len += n;
  (*pem)[(*len)++] = '\n';
  (*pem)[*len] = '\0';
  return 0;
}

/* Every *.crt in dir appended; a missing dir is an error only when the
 * user named it. */
static int append_cert_dir(char **pem, size_t *len, const char *dir,
                           bool named, hull_error_t *err) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    if (!named && errno == ENOENT)
      return 0;
    return hull_error(err, errno, "cert dir `%s`", dir);
  }
  int r = 0;
  struct dirent *e;
  while (r == 0 && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".crt"))
      continue;
    cleanup_free char *path = xasprintf("%s/%s", dir, e->d_name);
    r = append_file(pem, len, path, err);
  }
  closedir(d);
  return r;
}

/* The CAs to trust for host: curl's default bundle and the cert dir's;
 * NULL (curl's default alone) when the dir has none. */
static int load_cas(struct image_registry *r, const char *cert_dir,
                    hull_error_t *err) {
  cleanup_free char *fallback = NULL;
  const char *dir = cert_dir;
  if (dir == NULL)
    dir = fallback = xasprintf("/etc/hull/certs.d/%s", r->host);
  char *pem = NULL;
  size_t len = 0;
  if (append_cert_dir(&pem, &len, dir, cert_dir != NULL, err) < 0) {
    free(pem);
    return -1;
  }
  if (pem == NULL)
    return 0;
  /* The blob replaces curl's CA file: that file first, then ours. */
  char *def = NULL;
  r->api->curl_easy_getinfo(r->curl, CURLINFO_CAINFO, &def);
  char *all = NULL;
  size_t all_len = 0;
  hull_error_t ignored = NULL;
  if (def && append_file(&all, &all_len, def, &ignored) < 0)
    hull_error_release(&ignored);
  all = xrealloc(all, all_len + len + 1);
  memcpy(all + all_len, pem, len + 1);
  free(pem);
  r->ca = all;
  r->ca_len = all_len + len;
  return 0;
}

static struct image_registry *registry_new(const struct curl_api *api,
                                           hull_error_t *err) {
  CURL *c = api->curl_easy_init();
  if (c == NULL) {
    hull_error(err, 0, "curl_easy_init failed");
    return NULL;
  }
  struct image_registry *r = xzalloc(sizeof(*r));
  r->api = api;
  r->curl = c;
  return r;
}

int image_registry_open(const char *host, const char *repository,
                        const struct image_registry_options *o,
                        struct image_registry **out, hull_error_t *err) {
  const void *table;
  if (lazylib_load(&libcurl, &table, err) < 0)
    return hull_error_wrap(err, "images: pull needs libcurl (apt-get install "
                                "libcurl4)");
  struct image_registry *r = registry_new(table, err);
  if (r == NULL)
    return -1;
  /* Docker Hub's API lives on its own host. */
  const char *api_host =
      strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host;
  r->insecure = o && o->insecure;
  bool plain = !r->insecure && is_local_host(host);
  r->host = xstrdup(host);
  r->base = xasprintf("%s://%s", plain ? "http" : "https", api_host);
  r->repository = xstrdup(repository);
  r->creds = o && o->creds ? xstrdup(o->creds) : NULL;
  if (!plain && load_cas(r, o ? o->cert_dir : NULL, err) < 0) {
    image_registry_close(r);
    return -1;
  }
  *out = r;
  return 0;
}

int image_registry_clone(const struct image_registry *r,
                         struct image_registry **out, hull_error_t *err) {
  struct image_registry *c = registry_new(r->api, err);
  if (c == NULL)
    return -1;
  c->host = xstrdup(r->host);
  c->base = xstrdup(r->base);
  c->repository = xstrdup(r->repository);
  c->creds = r->creds ? xstrdup(r->creds) : NULL;
  c->authorization = r->authorization ? xstrdup(r->authorization) : NULL;
  c->insecure = r->insecure;
  if (r->ca) {
    c->ca = xmalloc(r->ca_len + 1);
    memcpy(c->ca, r->ca, r->ca_len + 1);
    c->ca_len = r->ca_len;
  }
  *out = c;
  return 0;
}

void image_registry_close(struct image_registry *r) {
  if (r == NULL)
    return;
  r->api->curl_easy_cleanup(r->curl);
  free(r->host);
  free(r->base);
  free(r->repository);
  free(r->creds);
  free(r->authorization);
  free(r->ca);
  free(r);
}

/* ---- callbacks -------------------------------------------------------------- */

static char *header_value(const char *line, size_t len, const char *name) {
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
    return NULL;
  const char *v = line + n + 1;
  const char *end = line + len;
  while (v < end && isspace((unsigned char)*v))
    v++;
  while (end > v && isspace((unsigned char)end[-1]))
    end--;
  return xstrndup(v, (size_t)(end - v));
}

static size_t on_header(char *line, size_t size, size_t n, void *arg) {
  struct exchange *x = arg;
  size_t len = size * n;
  if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
    /* A new response (after a redirect or a 100): start over. */
    free(x->content_type);
    free(x->www_authenticate);
    x->content_type = x->www_authenticate = NULL;
    x->reason[0] = '\0';
    x->range_start = -1;
    const char *sp = memchr(line, ' ', len);
    if (sp) {
      sp = memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line));
      if (sp) {
        size_t rl = len - (size_t)(sp + 1 - line);
        while (rl > 0 && isspace((unsigned char)sp[rl]))
          rl--;
        snprintf(x->reason, sizeof(x->reason), "%.*s", (int)rl, sp + 1);
        size_t end = strcspn(x->reason, "\r\n");
        x->reason[end] = '\0';
      }
    }
    return len;
  }
  char *v;
  if ((v = header_value(line, len, "Content-Type"))) {
    free(x->content_type);
    x->content_type = v;
  } else if ((v = header_value(line, len, "WWW-Authenticate"))) {
    free(x->www_authenticate);
    x->www_authenticate = v;
  } else if ((v = header_value(line, len, "Content-Range"))) {
    long long start;
    if (sscanf(v, "bytes %lld-", &start) == 1)
      x->range_start = start;
    free(v);
  }
  return len;
}

/* Before a blob's first bytes: a 206 must go on where the temp file ends;
 * a 200 (a server that ignores Range) is the whole blob again. */
static int body_begins(struct exchange *x, long status, hull_error_t *err) {
  int64_t have = image_blob_writer_offset(x->writer);
  if (status == 206 && x->range_start != have)
    return hull_error(err, 0, "asked for bytes from %lld, got a range from "
                              "%lld", (long long)have,
                      (long long)x->range_start);
  if (status != 206 && have > 0)
    return image_blob_writer_restart(x->writer, err);
  return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
  struct exchange *x = arg;
  size_t len = size * n;
  long status = 0;
  x->r->api->curl_easy_getinfo(x->r->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status / 100 != 2 || x->writer == NULL) {
    /* A manifest, or an error's body: kept in memory, up to a limit. */
    if (x->body_len + len > x->body_max) {
      if (status / 100 != 2)
        return len;     /* an error's body: the status says enough */
      hull_error(&x->write_err, 0, "more than %zu bytes", x->body_max);
      return 0;
    }
    x->body = xrealloc(x->body, x->body_len + len + 1);
    memcpy(x->body + x->body_len, data, len);
    x->body_len += len;
    x->body[x->body_len] = '\0';
    return len;
  }
  if (!x->body_begun) {
    x->body_begun = true;
    if (body_begins(x, status, &x->write_err) < 0)
      return 0;
  }
  if (image_blob_writer_write(x->writer, data, len, &x->write_err) < 0)
    return 0;
  if (x->progress)
    x->progress->update(x->progress->arg, image_blob_writer_offset(x->writer),
                        x->total, false);
  return len;
}

static void exchange_clear(struct exchange *x) {
  free(x->content_type);
  free(x->www_authenticate);
  free(x->body);
  hull_error_release(&x->write_err);
}

/* HTTP/2 has no reason phrases: the usual ones, for errors that read as
 * HTTP/1.1's do. */
static const char *standard_reason(long status) {
  switch (status) {
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 429: return "Too Many Requests";
  case 500: return "Internal Server Error";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  default: return "(no reason given)";
  }
}

/* ---- auth ----------------------------------------------------------------- */

static char *base64(const char *text) {
  static const char tbl[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const unsigned char *s = (const unsigned char *)text;
  size_t n = strlen(text), o = 0;
  char *out = xzalloc(4 * ((n + 2) / 3) + 1);
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) |
                 (i + 2 < n ? s[i + 2] : 0);
    out[o++] = tbl[v >> 18 & 63];
    out[o++] = tbl[v >> 12 & 63];
    out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  return out;
}

/* "Authorization: Basic <base64 of user:pass>" */
static char *basic_header(const char *creds) {
  cleanup_free char *b64 = base64(creds);
  return xasprintf("Authorization: Basic %s", b64);
}

/* The value of key="..." in a WWW-Authenticate challenge. */
static char *challenge_param(const char *challenge, const char *key) {
  size_t n = strlen(key);
  for (const char *p = challenge; (p = strcasestr(p, key)) != NULL; p += n) {
    if (p != challenge && p[-1] != ' ' && p[-1] != ',')
      continue;
    if (p[n] != '=' || p[n + 1] != '"')
      continue;
    const char *v = p + n + 2;
    const char *end = strchr(v, '"');
    return end ? xstrndup(v, (size_t)(end - v)) : NULL;
  }
  return NULL;
}

static int perform(struct image_registry *r, const char *url, const char *path,
                   struct curl_slist *headers, struct exchange *x,
                   hull_error_t *err);

/* distribution's token auth: GET realm?service=...&scope=..., with the
 * basic credentials when given; the JSON answer's token (or
 * access_token) becomes the bearer. */
static int fetch_token(struct image_registry *r, const char *challenge,
                       hull_error_t *err) {
  cleanup_free char *realm = challenge_param(challenge, "realm");
  cleanup_free char *service = challenge_param(challenge, "service");
  cleanup_free char *scope = challenge_param(challenge, "scope");
  if (realm == NULL)
    return hull_error(err, 0, "401 Unauthorized: no realm in the "
                              "WWW-Authenticate challenge \"%s\"", challenge);
  CURL *c = r->curl;
  char *es = service ? r->api->curl_easy_escape(c, service, 0) : NULL;
  char *esc = scope ? r->api->curl_easy_escape(c, scope, 0) : NULL;
  cleanup_free char *url = xasprintf(
      "%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?",
      es ? es : "", esc ? "&scope=" : "", esc ? esc : "");
  r->api->curl_free(es);
  r->api->curl_free(esc);
  struct curl_slist *h = NULL;
  cleanup_free char *basic = r->creds ? basic_header(r->creds) : NULL;
  if (basic)
    h = r->api->curl_slist_append(h, basic);
  struct exchange x = {.r = r, .body_max = 1 << 20};
  int ret = perform(r, url, realm, h, &x, err);
  r->api->curl_slist_free_all(h);
  if (ret == 0 && x.status != 200)
    ret = hull_error(err, 0, "GET %s: %ld %s", realm, x.status,
                     *x.reason ? x.reason : standard_reason(x.status));
  if (ret == 0) {
    char msg[128];
    yajl_val root = yajl_tree_parse(x.body ? x.body : "", msg, sizeof(msg));
    const char *tp[] = {"token", NULL}, *ap[] = {"access_token", NULL};
    yajl_val t = root ? yajl_tree_get(root, tp, yajl_t_string) : NULL;
    if (t == NULL && root)
      t = yajl_tree_get(root, ap, yajl_t_string);
    if (t == NULL)
      ret = hull_error(err, 0, "GET %s: no token in the answer", realm);
    else {
      free(r->authorization);
      r->authorization = xasprintf("Authorization: Bearer %s",
                                   YAJL_GET_STRING(t));
    }
    yajl_tree_free(root);
  }
  exchange_clear(&x);
  return ret;
}

/* ---- requests ------------------------------------------------------------------ */

static void set_tls(struct image_registry *r) {
  if (r->insecure) {
    r->api->curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, 0L);
    r->api->curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (r->ca) {
    struct curl_blob b = {.data = r->ca, .len = r->ca_len,
                          .flags = CURL_BLOB_NOCOPY};
    r->api->curl_easy_setopt(r->curl, CURLOPT_CAINFO_BLOB, &b);
  }
}

/* An insecure registry whose port does not speak TLS (the handshake
 * fails, or the server hangs up on it): plain http from now on (docker's
 * fallback for insecure registries). */
static bool fall_back_to_http(struct image_registry *r,
                              const struct exchange *x) {
  bool no_tls = x->curl_rc == CURLE_SSL_CONNECT_ERROR ||
                x->curl_rc == CURLE_GOT_NOTHING ||
                x->curl_rc == CURLE_RECV_ERROR ||
                x->curl_rc == CURLE_SEND_ERROR;
  if (!r->insecure || !no_tls || strncmp(r->base, "https://", 8) != 0)
    return false;
  char *plain = xasprintf("http://%s", r->base + 8);
  free(r->base);
  r->base = plain;
  return true;
}

static int perform(struct image_registry *r, const char *url, const char *path,
                   struct curl_slist *headers, struct exchange *x,
                   hull_error_t *err) {
  const struct curl_api *api = r->api;
  CURL *c = r->curl;
  char curl_msg[CURL_ERROR_SIZE] = "";
  api->curl_easy_reset(c);
  api->curl_easy_setopt(c, CURLOPT_URL, url);
  api->curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  api->curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  api->curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api->curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api->curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api->curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (a registry that stops answering) ends. */
  api->curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api->curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  api->curl_easy_setopt(c, CURLOPT_USERAGENT, "hull/" HULL_VERSION);
  api->curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
  api->curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api->curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  api->curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api->curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  /* Our Authorization header is not sent on a redirect to another host
   * (libcurl >= 7.58 drops it there, CURLOPT_UNRESTRICTED_AUTH unset): a
   * blob's storage gets a URL signed for it instead. */
  if (headers)
    api->curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  set_tls(r);
  CURLcode rc = api->curl_easy_perform(c);
  x->curl_rc = rc;
  api->curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
  if (x->write_err)
    return hull_error(err, x->write_err->errno_value, "GET %s: %s", path,
                      x->write_err->msg);
  const char *why = *curl_msg ? curl_msg : api->curl_easy_strerror(rc);
  if (rc == CURLE_PEER_FAILED_VERIFICATION)
    return hull_error(err, 0, "GET %s: certificate verification failed for "
                              "registry %s (trust its CA with --cert-dir): %s",
                      path, r->host, why);
  if (rc != CURLE_OK)
    return hull_error(err, 0, "GET %s: %s", path, why);
  return 0;
}

/* Sets r->authorization for a 401's challenge: 1 when the request is
 * worth making again, 0 when hull has nothing to answer it with. */
static int answer_challenge(struct image_registry *r, const char *challenge,
                            hull_error_t *err) {
  if (strncasecmp(challenge, "Bearer ", 7) == 0)
    return fetch_token(r, challenge, err) < 0 ? -1 : 1;
  if (strncasecmp(challenge, "Basic", 5) == 0 && r->creds) {
    free(r->authorization);
    r->authorization = basic_header(r->creds);
    return 1;
  }
  return 0;
}

/* A GET of <base>/v2/<repository>/<what>, with a token fetched and the
 * request made again on a 401. */
static int get(struct image_registry *r, const char *what, const char *accept,
               struct exchange *x, hull_error_t *err) {
  cleanup_free char *path = xasprintf("/v2/%s/%s", r->repository, what);
  cleanup_free char *range =
      x->range_from > 0 ? xasprintf("Range: bytes=%lld-",
                                    (long long)x->range_from) : NULL;
  bool fell_back = false, answered = false;
  for (;;) {
    cleanup_free char *url = xasprintf("%s%s", r->base, path);
    struct curl_slist *h = NULL;
    if (accept)
      h = r->api->curl_slist_append(h, accept);
    if (range)
      h = r->api->curl_slist_append(h, range);
    if (r->authorization)
      h = r->api->curl_slist_append(h, r->authorization);
    int ret = perform(r, url, path, h, x, err);
    r->api->curl_slist_free_all(h);
    if (ret < 0 && !fell_back && fall_back_to_http(r, x)) {
      fell_back = true;
      hull_error_release(err);
      continue;
    }
    if (ret < 0)
      return -1;
    if (x->status != 401 || answered || x->www_authenticate == NULL)
      break;
    answered = true;
    int again = answer_challenge(r, x->www_authenticate, err);
    if (again < 0)
      return hull_error_wrap(err, "GET %s: token", path);
    if (again == 0)
      break;
    /* Again, from a clean slate. */
    struct exchange fresh = {.r = r, .writer = x->writer,
                             .body_max = x->body_max,
                             .range_from = x->range_from, .range_start = -1,
                             .progress = x->progress, .total = x->total};
    exchange_clear(x);
    *x = fresh;
  }
  if (x->status != 200 && !(x->status == 206 && x->writer))
    return hull_error(err, 0, "GET %s: %ld %s", path, x->status,
                      *x->reason ? x->reason : standard_reason(x->status));
  return 0;
}

/* "application/json; charset=utf-8" -> "application/json" */
static char *bare_media_type(const char *content_type) {
  if (content_type == NULL)
    return NULL;
  size_t n = strcspn(content_type, "; \t");
  return n ? xstrndup(content_type, n) : NULL;
}

/* The document's own mediaType, for a registry that serves manifests as
 * application/json or the like. */
static char *own_media_type(const char *json) {
  char msg[128];
  yajl_val root = yajl_tree_parse(json, msg, sizeof(msg));
  const char *p[] = {"mediaType", NULL};
  yajl_val v = root ? yajl_tree_get(root, p, yajl_t_string) : NULL;
  char *mt = v ? xstrdup(YAJL_GET_STRING(v)) : NULL;
  yajl_tree_free(root);
  return mt;
}

int image_registry_get_manifest(struct image_registry *r,
                                const char *reference, char **body,
                                size_t *len, char **media_type,
                                hull_error_t *err) {
    cleanup_free char *what = xasprintf("manifests/%s", reference);
  struct exchange x = {.r = r, .body_max = IMAGE_JSON_MAX};
  int ret = get(r, what, MANIFEST_ACCEPT, &x, err);
  if (ret == 0) {
    cleanup_free char *mt = bare_media_type(x.content_type);
    if (mt == NULL || (image_media_kind(mt) != IMAGE_KIND_INDEX &&
                       image_media_kind(mt) != IMAGE_KIND_MANIFEST)) {
      free(mt);
      mt = own_media_type(x.body ? x.body : "");
    }
    if (mt == NULL) {
      ret = hull_error(err, 0, "GET /v2/%s/%s: neither the Content-Type "
                               "nor the document names a media type",
                       r->repository, what);
    } else {
      *media_type = take_ptr(mt);
      *len = x.body_len;
      *body = x.body ? take_ptr(x.body) : xstrdup("");
    }
  }
  exchange_clear(&x);
  return ret;
}

/* Transfer failures worth trying again from where the data stopped. */
static bool broken_transfer(const struct exchange *x) {
  if (x->write_err)
    return false;
  switch (x->curl_rc) {
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_COULDNT_CONNECT:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return true;
  default:
    return false;
  }
}

/* The last try's error, saying what the next pull starts from. */
static int gave_up(const struct image_blob_writer *w, hull_error_t *err) {
  cleanup_free char *last = xstrdup((*err)->msg);
  return hull_error(err, 0, "%s (%d tries; %lld bytes kept for the next "
                            "pull)", last, BLOB_TRIES,
                    (long long)image_blob_writer_offset(w));
}

static void pause_before_try(int tried) {
  struct timespec ts = {.tv_nsec = 200 * 1000 * 1000L * tried};
  nanosleep(&ts, NULL);
}

/* The blob's bytes from where w stands, tried again while the transfer
 * breaks. */
static int transfer_blob(struct image_registry *r,
                         const struct image_descriptor *d,
                         struct image_blob_writer *w,
                         const struct image_blob_progress *progress,
                         hull_error_t *err) {
  cleanup_free char *what = xasprintf("blobs/%s", d->digest.text);
  for (int tried = 1;; tried++) {
    if (image_blob_writer_offset(w) == d->size)
      return 0;          /* all there: the digest check decides */
    struct exchange x = {.r = r, .writer = w, .body_max = 64 << 10,
                         .range_from = image_blob_writer_offset(w),
                         .range_start = -1, .progress = progress,
                         .total = d->size};
    int ret = get(r, what, NULL, &x, err);
    bool broken = ret < 0 && broken_transfer(&x);
    exchange_clear(&x);
    if (ret == 0 || !broken)
      return ret;
    if (tried == BLOB_TRIES)
      return gave_up(w, err);
    hull_error_release(err);
    pause_before_try(tried);
  }
}

int image_registry_get_blob(struct image_registry *r, struct image_store *s,
                            const struct image_descriptor *d,
                            const struct image_blob_progress *progress,
                            hull_error_t *err) {
  struct image_blob_writer *w = NULL;
  int begun = image_blob_writer_resume(s, &d->digest, d->size, &w, err);
  if (begun < 0)
    return -1;
  if (begun && transfer_blob(r, d, w, progress, err) < 0) {
    /* What came is a prefix of the blob as far as anyone can tell: the
     * next pull checks it with the rest. */
    if (image_blob_writer_offset(w) > 0)
      image_blob_writer_keep(w);
    else
      image_blob_writer_abort(w);
    return -1;
  }
  if (begun && image_blob_writer_commit(w, err) < 0)
    return -1;
  if (progress)
    progress->update(progress->arg, d->size, d->size, true);
  return 0;
}
