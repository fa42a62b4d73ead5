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
 * given), or basic auth itself when that is what the registry asks for. */
#define CURL_DISABLE_TYPECHECK 1
#include "images/images.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

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
  char *base;            /* "https://host:port" */
  char *repository;      /* "library/debian" */
  char *creds;           /* "user:pass" or NULL */
  char *authorization;   /* "Authorization: ..." once a 401 taught us */
};

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

int image_registry_open(const char *host, const char *repository,
                        const struct image_registry_options *o,
                        struct image_registry **out, hull_error_t *err) {
  const void *table;
  if (lazylib_load(&libcurl, &table, err) < 0)
    return hull_error_wrap(err, "images: pull needs libcurl (apt-get install "
                                "libcurl4)");
  struct image_registry *r = xzalloc(sizeof(*r));
  r->api = table;
  r->curl = r->api->curl_easy_init();
  if (r->curl == NULL) {
    free(r);
    return hull_error(err, 0, "curl_easy_init failed");
  }
  /* Docker Hub's API lives on its own host. */
  const char *api_host =
      strcmp(host, "docker.io") == 0 ? "registry-1.docker.io" : host;
  bool plain = (o && o->insecure) || is_local_host(host);
  r->base = xasprintf("%s://%s", plain ? "http" : "https", api_host);
  r->repository = xstrdup(repository);
  r->creds = o && o->creds ? xstrdup(o->creds) : NULL;
  *out = r;
  return 0;
}

void image_registry_close(struct image_registry *r) {
  if (r == NULL)
    return;
  r->api->curl_easy_cleanup(r->curl);
  free(r->base);
  free(r->repository);
  free(r->creds);
  free(r->authorization);
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
  }
  return len;
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
  if (image_blob_writer_write(x->writer, data, len, &x->write_err) < 0)
    return 0;
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
  CURLcode rc = api->curl_easy_perform(c);
  api->curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->status);
  if (x->write_err)
    return hull_error(err, x->write_err->errno_value, "GET %s: %s", path,
                      x->write_err->msg);
  if (rc != CURLE_OK)
    return hull_error(err, 0, "GET %s: %s", path,
                      *curl_msg ? curl_msg : api->curl_easy_strerror(rc));
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
  cleanup_free char *url = xasprintf("%s%s", r->base, path);
  for (int attempt = 0;; attempt++) {
    struct curl_slist *h = NULL;
    if (accept)
      h = r->api->curl_slist_append(h, accept);
    if (r->authorization)
      h = r->api->curl_slist_append(h, r->authorization);
    int ret = perform(r, url, path, h, x, err);
    r->api->curl_slist_free_all(h);
    if (ret < 0)
      return -1;
    if (x->status != 401 || attempt > 0 || x->www_authenticate == NULL)
      break;
    int again = answer_challenge(r, x->www_authenticate, err);
    if (again < 0)
      return hull_error_wrap(err, "GET %s: token", path);
    if (again == 0)
      break;
    /* Again, from a clean slate. */
    struct image_blob_writer *w = x->writer;
    size_t max = x->body_max;
    exchange_clear(x);
    *x = (struct exchange){.r = r, .writer = w, .body_max = max};
  }
  if (x->status != 200)
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

int image_registry_get_blob(struct image_registry *r, struct image_store *s,
                            const struct image_descriptor *d,
                            hull_error_t *err) {
    struct image_blob_writer *w = NULL;
  int begun = image_blob_writer_begin(s, &d->digest, d->size, &w, err);
  if (begun <= 0)
    return begun;   /* stored already (0), or an error */
  cleanup_free char *what = xasprintf("blobs/%s", d->digest.text);
  struct exchange x = {.r = r, .writer = w, .body_max = 64 << 10};
  int ret = get(r, what, NULL, &x, err);
  exchange_clear(&x);
  if (ret < 0) {
    image_blob_writer_abort(w);
    return -1;
  }
  return image_blob_writer_commit(w, err);
}
