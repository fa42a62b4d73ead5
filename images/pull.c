/* pull.c — `hull image pull REF`: an image from a registry into the store.
 * The tag (or digest) leads to a manifest or an index; an index's entry
 * for the platform to a manifest; the manifest to its config and layers.
 * Every document is stored (verified against its digest) before it is
 * parsed, blobs the store has are not fetched again, and the name is set
 * last, so a failed pull names nothing and leaves only unnamed blobs for
 * gc. Only the chosen platform's blobs are fetched: the index is kept
 * whole (the name points at it, as the registry's tag does), its other
 * platforms stay absent until pulled with --platform.
 *
 * The config comes first (its platform is checked before a layer is
 * fetched), then the layers, up to PULL_PARALLEL at once. */
#include "images/images.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Layers fetched at once, as docker and podman do (3 by default).
 * Threads, each with its own connection (image_registry_clone), rather
 * than libcurl's multi interface: a blob's transfer writes, hashes and
 * fsyncs synchronously, is tried again from where it broke, and may stop
 * for a token on a 401; on a thread each of these stays a plain call in
 * one function per blob, where multi would turn them into a state machine
 * driven by one loop. Three threads cost nothing beside the downloads. */
#define PULL_PARALLEL 3

/* A normalised name taken apart: "127.0.0.1:5000/busybox:1" -> host
 * "127.0.0.1:5000", repository "busybox", reference "1". */
struct pull_ref {
  char *name;          /* normalised */
  char *host;
  char *repository;
  char *reference;     /* the digest when there is one, else the tag */
};

static void pull_ref_clear(struct pull_ref *p) {
  free(p->name);
  free(p->host);
  free(p->repository);
  free(p->reference);
}

static int split_ref(const char *ref, struct pull_ref *out,
                     hull_error_t *err) {
  if (image_ref_normalize(ref, &out->name, err) < 0)
    return -1;
  const char *slash = strchr(out->name, '/');
  out->host = xstrndup(out->name, (size_t)(slash - out->name));
  const char *path = slash + 1;
  const char *at = strchr(path, '@');
  const char *last_slash = strrchr(path, '/');
  const char *colon = strchr(last_slash ? last_slash : path, ':');
  if (at && colon && colon > at)
    colon = NULL;
  const char *end = colon ? colon : at;
  out->repository = xstrndup(path, (size_t)(end - path));
  out->reference = xstrdup(at ? at + 1 : colon + 1);
  return 0;
}

struct pull {
  struct image_store *store;
  struct image_registry *registry;
  const struct pull_ref *ref;
  struct image_progress *progress;   /* NULL: nothing shown */
};

/* ---- blobs, several at once -------------------------------------------- */

struct blob_jobs {
  struct pull *p;
  const struct image_descriptor *blobs;
  size_t n;
  pthread_mutex_t lock;
  size_t next;            /* the next blob a fetcher takes */
  bool failed;            /* no more are taken */
  hull_error_t *errs;     /* each blob's error */
};

/* One fetcher: a thread (or the caller) with its registry handle. */
struct fetcher {
  struct blob_jobs *jobs;
  struct image_registry *registry;
  pthread_t thread;
};

static bool take_blob(struct blob_jobs *j, size_t *i) {
  pthread_mutex_lock(&j->lock);
  bool some = !j->failed && j->next < j->n;
  if (some)
    *i = j->next++;
  pthread_mutex_unlock(&j->lock);
  return some;
}

static void mark_failed(struct blob_jobs *j) {
  pthread_mutex_lock(&j->lock);
  j->failed = true;
  pthread_mutex_unlock(&j->lock);
}

static int fetch_one(struct blob_jobs *j, struct image_registry *r, size_t i) {
  const struct image_descriptor *d = &j->blobs[i];
  struct image_progress *shown = j->p->progress;
  if (shown && image_store_has(j->p->store, &d->digest)) {
    image_progress_skipped(shown, i);
    return 0;
  }
  struct image_blob_progress line;
  if (shown)
    line = image_progress_line(shown, i);
  return image_registry_get_blob(r, j->p->store, d, shown ? &line : NULL,
                                 &j->errs[i]);
}

static void *fetcher_main(void *arg) {
  struct fetcher *f = arg;
  size_t i;
  while (take_blob(f->jobs, &i))
    if (fetch_one(f->jobs, f->registry, i) < 0)
      mark_failed(f->jobs);
  return NULL;
}

/* The first blob's error in the manifest's order (not the first to
 * happen), so that a pull's error does not depend on timing. */
static int jobs_result(struct blob_jobs *j, hull_error_t *err) {
  int r = 0;
  for (size_t i = 0; i < j->n; i++) {
    if (r == 0 && j->errs[i]) {
      hull_error_release(err);
      *err = take_ptr(j->errs[i]);
      r = -1;
    }
    hull_error_release(&j->errs[i]);
  }
  return r;
}

/* Up to PULL_PARALLEL - 1 threads besides the caller, each with a handle
 * cloned before any starts (the caller's own handle changes as it works:
 * a token, a fallback to http). Returns how many started. */
static size_t start_fetchers(struct blob_jobs *j, struct fetcher *f,
                             size_t want) {
  size_t started = 0;
  hull_error_t ignored = NULL;
  for (size_t k = 0; k < want; k++) {
    f[k].jobs = j;
    if (image_registry_clone(j->p->registry, &f[k].registry, &ignored) < 0)
      break;    /* fewer fetchers, not a failed pull */
  }
  hull_error_release(&ignored);
  while (started < want && f[started].registry &&
         pthread_create(&f[started].thread, NULL, fetcher_main,
                        &f[started]) == 0)
    started++;
  for (size_t k = started; k < want; k++)
    image_registry_close(f[k].registry);
  return started;
}

/* The n blobs stored, up to PULL_PARALLEL fetched at once; the calling
 * thread is one of the fetchers, with the pull's own handle. */
static int fetch_blobs(struct pull *p, const char *kind,
                       const struct image_descriptor *blobs, size_t n,
                       hull_error_t *err) {
  struct blob_jobs j = {.p = p, .blobs = blobs, .n = n};
  j.errs = xzalloc((n ? n : 1) * sizeof(*j.errs));
  pthread_mutex_init(&j.lock, NULL);
  if (p->progress)
    image_progress_batch(p->progress, kind, blobs, n);
  struct fetcher others[PULL_PARALLEL - 1] = {0};
  size_t want = n < PULL_PARALLEL ? (n ? n - 1 : 0) : PULL_PARALLEL - 1;
  size_t started = start_fetchers(&j, others, want);
  struct fetcher self = {.jobs = &j, .registry = p->registry};
  fetcher_main(&self);
  for (size_t k = 0; k < started; k++) {
    pthread_join(others[k].thread, NULL);
    image_registry_close(others[k].registry);
  }
  pthread_mutex_destroy(&j.lock);
  int r = jobs_result(&j, err);
  free(j.errs);
  return r;
}

/* A manifest or index fetched by reference, checked against the digest
 * when the reference is one, and stored. d gets its descriptor. */
static int fetch_document(struct pull *p, const char *reference,
                          struct image_descriptor *d, hull_error_t *err) {
  cleanup_free char *body = NULL;
  cleanup_free char *media_type = NULL;
  size_t len = 0;
  if (image_registry_get_manifest(p->registry, reference, &body, &len,
                                  &media_type, err) < 0)
    return -1;
  struct image_digest want;
  bool by_digest = strchr(reference, ':') != NULL;
  if (by_digest && image_digest_parse(reference, &want, err) < 0)
    return -1;
  struct image_digest got;
  image_digest_of(by_digest ? want.algorithm : IMAGE_SHA256, body, len, &got);
  if (by_digest && strcmp(got.text, want.text) != 0)
    return hull_error(err, 0, "GET /v2/%s/manifests/%s: content does not "
                              "match its digest (%s)", p->ref->repository,
                      reference, got.text);
  if (image_store_put_bytes(p->store, &got, (int64_t)len, body, len, err) < 0)
    return -1;
  d->media_type = take_ptr(media_type);
  d->digest = got;
  d->size = (int64_t)len;
  return 0;
}

/* The config, stored already, read as run will read it; for a manifest
 * the tag leads to directly, its platform checked against the one asked
 * for (want NULL: none was), as an index's entry would be. */
static int check_config(struct pull *p, const struct image_manifest *m,
                        const struct image_platform *want,
                        hull_error_t *err) {
  const struct image_descriptor *c = &m->config;
  cleanup_free char *raw = NULL;
  if (image_store_read_blob(p->store, &c->digest, c->size, &raw, NULL,
                            err) < 0)
    return -1;
  cleanup_free char *what = xasprintf("config %s", c->digest.text);
  struct image_config *config = NULL;
  if (image_config_parse(what, raw, &config, err) < 0)
    return -1;
  int r = 0;
  if (config->n_diff_ids != m->n_layers) {
    r = hull_error(err, 0, "%s: .rootfs.diff_ids: %zu entries for the "
                           "manifest's %zu layers", what, config->n_diff_ids,
                   m->n_layers);
  } else if (want && !image_platform_matches(&config->platform, want)) {
    cleanup_free char *has = image_platform_format(&config->platform);
    cleanup_free char *wanted = image_platform_format(want);
    r = hull_error(err, 0, "%s: the image is for %s, not %s", what, has,
                   wanted);
  }
  image_config_free(config);
  return r;
}

static int fetch_manifest_blobs(struct pull *p,
                                const struct image_descriptor *md,
                                const struct image_platform *want,
                                hull_error_t *err) {
  struct image_manifest *m = NULL;
  if (image_load_manifest(p->store, md, &m, NULL, err) < 0)
    return -1;
  int r = fetch_blobs(p, "config", &m->config, 1, err);
  if (r == 0)
    r = check_config(p, m, want, err);
  if (r == 0)
    r = fetch_blobs(p, "blob", m->layers, m->n_layers, err);
  image_manifest_free(m);
  return r;
}

/* The index's entry for the platform, its manifest fetched unless
 * stored. */
static int fetch_platform_manifest(struct pull *p,
                                   const struct image_descriptor *top,
                                   const struct image_platform *want,
                                   hull_error_t *err) {
  struct image_index *ix = NULL;
  if (image_load_index(p->store, top, &ix, NULL, err) < 0)
    return -1;
  const struct image_descriptor *entry = NULL;
  cleanup_free char *what = xasprintf("index %s", top->digest.text);
  int r = image_index_select(what, ix, want, &entry, err);
  if (r == 0 && !image_store_has(p->store, &entry->digest)) {
    struct image_descriptor got = {0};
    r = fetch_document(p, entry->digest.text, &got, err);
    if (r == 0 && got.size != entry->size)
      r = hull_error(err, 0, "manifest %s: size %lld does not match the "
                             "index's %lld", entry->digest.text,
                     (long long)got.size, (long long)entry->size);
    image_descriptor_clear(&got);
  }
  if (r == 0)
    r = fetch_manifest_blobs(p, entry, NULL, err);
  image_index_free(ix);
  return r;
}

static int pull(struct image_store *s, const struct pull_ref *ref,
                const struct image_pull_options *o, char **name,
                struct image_digest *digest, hull_error_t *err) {
  struct image_platform want = {0};
  if (o && o->platform) {
    if (image_platform_parse(o->platform, &want, err) < 0)
      return -1;
  } else {
    image_platform_host(&want);
  }
  struct pull p = {.store = s, .ref = ref};
  if (o && o->progress_fd > 0)
    p.progress = image_progress_new(o->progress_fd);
  int r = image_registry_open(ref->host, ref->repository,
                              o ? &o->registry : NULL, &p.registry, err);
  struct image_descriptor top = {0};
  if (r == 0)
    r = fetch_document(&p, ref->reference, &top, err);
  if (r == 0) {
    switch (image_media_kind(top.media_type)) {
    case IMAGE_KIND_INDEX:
      r = fetch_platform_manifest(&p, &top, &want, err);
      break;
    case IMAGE_KIND_MANIFEST:
      r = fetch_manifest_blobs(&p, &top, o && o->platform ? &want : NULL,
                               err);
      break;
    default:
      r = hull_error(err, 0, "GET /v2/%s/manifests/%s: media type \"%s\" is "
                             "neither a manifest nor an index",
                     ref->repository, ref->reference, top.media_type);
    }
  }
  if (r == 0) {
    char *names[] = {ref->name, NULL};
    r = image_refs_set(s, names, &top, err);
  }
  if (r == 0) {
    *name = xstrdup(ref->name);
    *digest = top.digest;
  }
  image_descriptor_clear(&top);
  image_registry_close(p.registry);
  image_progress_free(p.progress);
  image_platform_clear(&want);
  return r;
}

int image_pull(struct image_store *s, const char *ref,
               const struct image_pull_options *o, char **name,
               struct image_digest *digest, hull_error_t *err) {
  struct pull_ref parts = {0};
  int r = split_ref(ref, &parts, err);
  if (r == 0)
    r = pull(s, &parts, o, name, digest, err);
  pull_ref_clear(&parts);
  if (r < 0)
    return hull_error_wrap(err, "pull %s", ref);
  return 0;
}
