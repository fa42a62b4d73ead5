/* progress.c — a pull's transfers shown on a terminal: one line per blob,
 * rewritten in place as its bytes come ("Copying blob 1a2b3c4d5e6f 1.2 MiB
 * / 3.4 MiB"), left as its final word ("... done 3.4 MiB"), as podman
 * shows them. Only ever made for a terminal (the caller asks isatty):
 * logs and scripts get none of it. Lines are written by the transfers'
 * threads, under one lock, each redraw one write(2). */
#include "images/images.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Redraws of one line, at most this often while its bytes come. */
#define REDRAW_MS 100

struct progress_line {
  struct image_progress *owner;
  size_t index;
  const char *kind;           /* "blob", "config" */
  char short_hex[13];
  int64_t drawn_ms;           /* when last drawn; -1: never */
};

struct image_progress {
  int fd;
  pthread_mutex_t lock;
  struct progress_line *lines;   /* the batch being shown */
  size_t n;
};

struct image_progress *image_progress_new(int fd) {
  struct image_progress *p = xzalloc(sizeof(*p));
  p->fd = fd;
  pthread_mutex_init(&p->lock, NULL);
  return p;
}

void image_progress_free(struct image_progress *p) {
  if (p == NULL)
    return;
  pthread_mutex_destroy(&p->lock);
  free(p->lines);
  free(p);
}

/* "1.5 MiB" */
static void human(int64_t n, char *buf, size_t len) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(*unit)) {
    v /= 1024;
    u++;
  }
  snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Line l's text replaced, the cursor back below the batch. Called with
 * the lock held. */
static void redraw(struct progress_line *l, const char *text) {
  struct image_progress *p = l->owner;
  size_t up = p->n - l->index;
  char buf[256];
  int len = snprintf(buf, sizeof(buf), "\033[%zuA\r\033[2KCopying %s %s %s"
                                       "\033[%zuB\r", up, l->kind,
                     l->short_hex, text, up);
  if (len > 0)
    (void)!write(p->fd, buf, (size_t)len < sizeof(buf) ? (size_t)len
                                                         : sizeof(buf) - 1);
}

void image_progress_batch(struct image_progress *p, const char *kind,
                          const struct image_descriptor *blobs, size_t n) {
  pthread_mutex_lock(&p->lock);
  free(p->lines);
  p->lines = xzalloc(n * sizeof(*p->lines));
  p->n = n;
  for (size_t i = 0; i < n; i++) {
    struct progress_line *l = &p->lines[i];
    *l = (struct progress_line){.owner = p, .index = i, .kind = kind,
                                .drawn_ms = -1};
    snprintf(l->short_hex, sizeof(l->short_hex), "%.12s",
             image_digest_hex(&blobs[i].digest));
    /* The batch's lines made, each below the last. */
    char buf[128];
    int len = snprintf(buf, sizeof(buf), "Copying %s %s waiting\n", kind,
                       l->short_hex);
    if (len > 0)
      (void)!write(p->fd, buf, (size_t)len);
  }
  pthread_mutex_unlock(&p->lock);
}

static void line_update(void *arg, int64_t done, int64_t total,
                        bool finished) {
  struct progress_line *l = arg;
  struct image_progress *p = l->owner;
  int64_t now = monotonic_ms();
  pthread_mutex_lock(&p->lock);
  if (finished || l->drawn_ms < 0 || now - l->drawn_ms >= REDRAW_MS) {
    char d[32], t[32], text[80];
    human(done, d, sizeof(d));
    human(total, t, sizeof(t));
    if (finished)
      snprintf(text, sizeof(text), "done %s", t);
    else
      snprintf(text, sizeof(text), "%s / %s", d, t);
    redraw(l, text);
    l->drawn_ms = now;
  }
  pthread_mutex_unlock(&p->lock);
}

struct image_blob_progress image_progress_line(struct image_progress *p,
                                               size_t i) {
  return (struct image_blob_progress){.update = line_update,
                                      .arg = &p->lines[i]};
}

void image_progress_skipped(struct image_progress *p, size_t i) {
  pthread_mutex_lock(&p->lock);
  redraw(&p->lines[i], "skipped: already exists");
  pthread_mutex_unlock(&p->lock);
}
