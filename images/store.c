/* store.c — the content-addressed blob store (layout in images.h).
 *
 * A blob reaches its final name only complete and verified: it is written
 * to tmp/<alg>-<hex>, checked against the descriptor's size and digest,
 * fsynced and renamed. The temp file doubles as the blob's lock: a writer
 * holds an flock on it, so a second process storing the same blob waits,
 * then finds the blob stored and writes nothing. A writer killed half-way
 * (or a download that failed and kept it) leaves the temp file unlocked:
 * the next writer of that blob truncates it, or, resuming (a pull), hashes
 * it and goes on from its end; gc removes it, and nothing else looks in
 * tmp/. */
#include "images/images.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct image_store {
  char *root;
  int dirfd;
  int lock_fd;
};

struct image_blob_writer {
  struct image_store *store;
  struct image_digest digest;
  int64_t size;
  int64_t written;
  int fd;               /* the temp file, locked */
  char *tmp;            /* its path relative to the root */
  struct image_hasher *hasher;
};

static const char *algorithm_dir(const struct image_digest *d) {
  return d->algorithm == IMAGE_SHA512 ? "sha512" : "sha256";
}

char *image_store_blob_path(const struct image_digest *d) {
  return xasprintf("blobs/%s/%s", algorithm_dir(d), image_digest_hex(d));
}

static char *temp_path(const struct image_digest *d) {
  return xasprintf("tmp/%s-%s", algorithm_dir(d), image_digest_hex(d));
}

static int make_dirs(const char *root, hull_error_t *err) {
  static const char *const dirs[] = {"", "/blobs", "/blobs/sha256",
                                     "/blobs/sha512", "/tmp"};
  for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
    cleanup_free char *p = xasprintf("%s%s", root, dirs[i]);
    if (mkdir_p(p, 0700, err) < 0)
      return -1;
  }
  return 0;
}

int image_store_open(const char *root, enum image_store_mode mode,
                     struct image_store **out, hull_error_t *err) {
  if (make_dirs(root, err) < 0)
    return hull_error_wrap(err, "image store `%s`", root);
  cleanup_close int dirfd =
      open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0)
    return hull_error(err, errno, "open image store `%s`", root);
  cleanup_close int lock_fd =
      openat(dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (lock_fd < 0)
    return hull_error(err, errno, "open `%s/lock`", root);
  int op = mode == IMAGE_STORE_EXCLUSIVE ? LOCK_EX : LOCK_SH;
  while (flock(lock_fd, op) < 0)
    if (errno != EINTR)
      return hull_error(err, errno, "lock `%s/lock`", root);
  struct image_store *s = xzalloc(sizeof(*s));
  s->root = xstrdup(root);
  s->dirfd = take_fd(&dirfd);
  s->lock_fd = take_fd(&lock_fd);
  *out = s;
  return 0;
}

void image_store_close(struct image_store *s) {
  if (s == NULL)
    return;
  close(s->lock_fd);
  close(s->dirfd);
  free(s->root);
  free(s);
}

const char *image_store_root(const struct image_store *s) { return s->root; }

int image_store_dirfd(const struct image_store *s) { return s->dirfd; }

bool image_store_has(struct image_store *s, const struct image_digest *d) {
  cleanup_free char *path = image_store_blob_path(d);
  struct stat st;
  return fstatat(s->dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISREG(st.st_mode);
}

static int size_mismatch(const struct image_digest *d, int64_t have,
                         int64_t want, hull_error_t *err) {
  return hull_error(err, 0, "blob %s: size %lld does not match the "
                            "descriptor's %lld",
                    d->text, (long long)have, (long long)want);
}

static int digest_mismatch(const struct image_digest *d, hull_error_t *err) {
  return hull_error(err, 0, "blob %s: content does not match its digest",
                    d->text);
}

/* Whether fd is still the file at path: a writer that finished renamed it
 * away (or a waiter that found the blob stored unlinked it) while we
 * waited for its lock. */
static bool still_linked(int dirfd, const char *path, int fd) {
  struct stat a, b;
  return fstat(fd, &a) == 0 &&
         fstatat(dirfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int lock_temp(struct image_store *s, const char *tmp, int *out,
                     hull_error_t *err) {
  cleanup_close int fd = openat(s->dirfd, tmp,
                                O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                                0600);
  if (fd < 0)
    return hull_error(err, errno, "open `%s/%s`", s->root, tmp);
  while (flock(fd, LOCK_EX) < 0)
    if (errno != EINTR)
      return hull_error(err, errno, "lock `%s/%s`", s->root, tmp);
  *out = take_fd(&fd);
  return 0;
}

/* The prefix a killed or failed download left in fd, hashed, so the
 * transfer can go on from its end; more than size bytes is no prefix of
 * the blob: dropped. */
static int take_prefix(struct image_blob_writer *w, hull_error_t *err) {
  struct stat st;
  if (fstat(w->fd, &st) < 0)
    return hull_error(err, errno, "stat `%s/%s`", w->store->root, w->tmp);
  if (st.st_size > w->size)
    return image_blob_writer_restart(w, err);
  char buf[64 << 10];
  while (w->written < st.st_size) {
    ssize_t n = pread(w->fd, buf, sizeof(buf), w->written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return hull_error(err, n < 0 ? errno : 0, "blob %s: read `%s/%s`",
                        w->digest.text, w->store->root, w->tmp);
    image_hasher_update(w->hasher, buf, (size_t)n);
    w->written += n;
  }
  if (lseek(w->fd, w->written, SEEK_SET) < 0)
    return hull_error(err, errno, "seek `%s/%s`", w->store->root, w->tmp);
  return 0;
}

static int writer_begin(struct image_store *s, const struct image_digest *d,
                        int64_t size, bool resume,
                        struct image_blob_writer **out, hull_error_t *err) {
  if (size < 0)
    return hull_error(err, 0, "blob %s: negative size %lld", d->text,
                      (long long)size);
  cleanup_free char *tmp = temp_path(d);
  for (;;) {
    if (image_store_has(s, d))
      return 0;
    cleanup_close int fd = -1;
    if (lock_temp(s, tmp, &fd, err) < 0)
      return -1;
    if (!still_linked(s->dirfd, tmp, fd))
      continue;                 /* its writer finished: look again */
    if (image_store_has(s, d)) {
      /* Made by our own open after the writer renamed its file. */
      unlinkat(s->dirfd, tmp, 0);
      return 0;
    }
    /* Ours now; whatever is in it was left by a writer that died or
     * kept it (image_blob_writer_keep). */
    struct image_blob_writer *w = xzalloc(sizeof(*w));
    w->store = s;
    w->digest = *d;
    w->size = size;
    w->fd = take_fd(&fd);
    w->tmp = take_ptr(tmp);
    w->hasher = image_hasher_new(d->algorithm);
    int r = resume ? take_prefix(w, err) : image_blob_writer_restart(w, err);
    if (r < 0) {
      image_blob_writer_abort(w);
      return -1;
    }
    *out = w;
    return 1;
  }
}

int image_blob_writer_begin(struct image_store *s, const struct image_digest *d,
                            int64_t size, struct image_blob_writer **out,
                            hull_error_t *err) {
  return writer_begin(s, d, size, false, out, err);
}

int image_blob_writer_resume(struct image_store *s,
                             const struct image_digest *d, int64_t size,
                             struct image_blob_writer **out,
                             hull_error_t *err) {
  return writer_begin(s, d, size, true, out, err);
}

int64_t image_blob_writer_offset(const struct image_blob_writer *w) {
  return w->written;
}

int image_blob_writer_restart(struct image_blob_writer *w, hull_error_t *err) {
  if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
    return hull_error(err, errno, "truncate `%s/%s`", w->store->root, w->tmp);
  image_hasher_free(w->hasher);
  w->hasher = image_hasher_new(w->digest.algorithm);
  w->written = 0;
  return 0;
}

int image_blob_writer_write(struct image_blob_writer *w, const void *data,
                            size_t len, hull_error_t *err) {
  if ((int64_t)len > w->size - w->written)
    return hull_error(err, 0, "blob %s: more than the descriptor's %lld "
                              "bytes", w->digest.text, (long long)w->size);
  image_hasher_update(w->hasher, data, len);
  if (write_all(w->fd, data, len) < 0)
    return hull_error(err, errno, "blob %s: write `%s/%s`", w->digest.text,
                      w->store->root, w->tmp);
  w->written += (int64_t)len;
  return 0;
}

/* Closes the temp file as it is, unlocked: the next resuming writer of the
 * blob goes on from its end (gc removes it otherwise). */
void image_blob_writer_keep(struct image_blob_writer *w) {
  if (w == NULL)
    return;
  /* On disk before the lock goes: after a crash, a prefix with a hole
   * would fail the next pull's digest check. */
  (void)!fdatasync(w->fd);
  close(w->fd);
  image_hasher_free(w->hasher);
  free(w->tmp);
  free(w);
}

/* Unlinks the temp file while still holding its lock, so that a waiter
 * sees it gone (still_linked) and starts over. */
void image_blob_writer_abort(struct image_blob_writer *w) {
  if (w == NULL)
    return;
  unlinkat(w->store->dirfd, w->tmp, 0);
  close(w->fd);
  image_hasher_free(w->hasher);
  free(w->tmp);
  free(w);
}

static int fsync_dir(struct image_store *s, const char *dir,
                     hull_error_t *err) {
  cleanup_close int fd =
      openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) < 0)
    return hull_error(err, errno, "fsync `%s/%s`", s->root, dir);
  return 0;
}

static int writer_publish(struct image_blob_writer *w, hull_error_t *err) {
  struct image_store *s = w->store;
  if (w->written != w->size)
    return size_mismatch(&w->digest, w->written, w->size, err);
  struct image_digest got;
  image_hasher_finish(take_ptr(w->hasher), &got);
  if (strcmp(got.text, w->digest.text) != 0)
    return digest_mismatch(&w->digest, err);
  if (fchmod(w->fd, 0444) < 0 || fsync(w->fd) < 0)
    return hull_error(err, errno, "blob %s: fsync `%s/%s`", w->digest.text,
                      s->root, w->tmp);
  cleanup_free char *path = image_store_blob_path(&w->digest);
  if (renameat(s->dirfd, w->tmp, s->dirfd, path) < 0)
    return hull_error(err, errno, "blob %s: rename `%s/%s` to `%s/%s`",
                      w->digest.text, s->root, w->tmp, s->root, path);
  cleanup_free char *dir = xasprintf("blobs/%s", algorithm_dir(&w->digest));
  return fsync_dir(s, dir, err);
}

int image_blob_writer_commit(struct image_blob_writer *w, hull_error_t *err) {
  int r = writer_publish(w, err);
  if (r < 0) {
    image_blob_writer_abort(w);
    return -1;
  }
  /* Renamed: closing drops the lock; waiters see the temp name gone. */
  close(w->fd);
  free(w->tmp);
  free(w);
  return 0;
}

static int copy_into(struct image_blob_writer *w, int fd, hull_error_t *err) {
  const size_t chunk = 256 * 1024;
  cleanup_free char *buf = xmalloc(chunk);
  for (;;) {
    ssize_t n = read(fd, buf, chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return hull_error(err, errno, "blob %s: read", w->digest.text);
    if (n == 0)
      return 0;
    if (w->written + n > w->size) {
      /* Count the rest, so that the error says how big it really is. */
      int64_t total = w->written + n;
      while ((n = read(fd, buf, chunk)) > 0)
        total += n;
      return size_mismatch(&w->digest, total, w->size, err);
    }
    if (image_blob_writer_write(w, buf, (size_t)n, err) < 0)
      return -1;
  }
}

int image_store_put_fd(struct image_store *s, const struct image_digest *d,
                       int64_t size, int fd, hull_error_t *err) {
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size != size)
    return size_mismatch(d, st.st_size, size, err);
  struct image_blob_writer *w = NULL;
  int r = image_blob_writer_begin(s, d, size, &w, err);
  if (r <= 0)
    return r;
  if (copy_into(w, fd, err) < 0) {
    image_blob_writer_abort(w);
    return -1;
  }
  return image_blob_writer_commit(w, err);
}

int image_store_put_bytes(struct image_store *s, const struct image_digest *d,
                          int64_t size, const void *data, size_t len,
                          hull_error_t *err) {
  if ((int64_t)len != size)
    return size_mismatch(d, (int64_t)len, size, err);
  struct image_blob_writer *w = NULL;
  int r = image_blob_writer_begin(s, d, size, &w, err);
  if (r <= 0)
    return r;
  if (image_blob_writer_write(w, data, len, err) < 0) {
    image_blob_writer_abort(w);
    return -1;
  }
  return image_blob_writer_commit(w, err);
}

static int open_checked(struct image_store *s, const struct image_digest *d,
                        int64_t size, int *out, hull_error_t *err) {
  cleanup_free char *path = image_store_blob_path(d);
  cleanup_close int fd =
      openat(s->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    return hull_error(err, 0, "blob %s: not in the image store", d->text);
  if (fd < 0)
    return hull_error(err, errno, "blob %s: open `%s/%s`", d->text, s->root,
                      path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "blob %s: stat", d->text);
  if (st.st_size != size)
    return size_mismatch(d, st.st_size, size, err);
  *out = take_fd(&fd);
  return 0;
}

static int hash_fd(int fd, const struct image_digest *d, hull_error_t *err) {
  const size_t chunk = 256 * 1024;
  cleanup_free char *buf = xmalloc(chunk);
  struct image_hasher *h = image_hasher_new(d->algorithm);
  for (;;) {
    ssize_t n = read(fd, buf, chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      image_hasher_free(h);
      return hull_error(err, errno, "blob %s: read", d->text);
    }
    if (n == 0)
      break;
    image_hasher_update(h, buf, (size_t)n);
  }
  struct image_digest got;
  image_hasher_finish(h, &got);
  if (strcmp(got.text, d->text) != 0)
    return digest_mismatch(d, err);
  return 0;
}

int image_store_open_blob(struct image_store *s, const struct image_digest *d,
                          int64_t size, bool verify_content, int *out,
                          hull_error_t *err) {
  cleanup_close int fd = -1;
  if (open_checked(s, d, size, &fd, err) < 0)
    return -1;
  if (verify_content) {
    if (hash_fd(fd, d, err) < 0)
      return -1;
    if (lseek(fd, 0, SEEK_SET) < 0)
      return hull_error(err, errno, "blob %s: seek", d->text);
  }
  *out = take_fd(&fd);
  return 0;
}

int image_store_read_blob(struct image_store *s, const struct image_digest *d,
                          int64_t size, char **data, size_t *len,
                          hull_error_t *err) {
  if (size > IMAGE_JSON_MAX)
    return hull_error(err, 0, "blob %s: %lld bytes is too big for a JSON "
                              "document (at most %d)",
                      d->text, (long long)size, IMAGE_JSON_MAX);
  cleanup_close int fd = -1;
  if (open_checked(s, d, size, &fd, err) < 0)
    return -1;
  cleanup_free char *buf = xmalloc((size_t)size + 1);
  ssize_t n = read_all(fd, buf, (size_t)size);
  if (n < 0)
    return hull_error(err, errno, "blob %s: read", d->text);
  if (n != size)
    return size_mismatch(d, n, size, err);
  buf[n] = '\0';
  struct image_digest got;
  image_digest_of(d->algorithm, buf, (size_t)n, &got);
  if (strcmp(got.text, d->text) != 0)
    return digest_mismatch(d, err);
  *data = take_ptr(buf);
  if (len)
    *len = (size_t)n;
  return 0;
}
