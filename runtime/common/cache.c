/* cache.c — bounded caches under <root>/.cache: entries used, added and
 * evicted least recently used first, safely among concurrent hulls (see
 * common.h for the protocol). */
#include "common.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME ".lock"
/* A temporary no one holds may still be between mkostemp and its flock:
 * only one older than this is abandoned. */
#define ABANDONED_AFTER_S 60

/* <dir>/.lock, locked how; -1 when it cannot be (a directory we may not
 * write: an init in a user namespace), and then callers go on unlocked. */
static int dir_lock(const char *dir, int how) {
  cleanup_free char *path = xasprintf("%s/" LOCK_NAME, dir);
  int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return -1;
  cleanup_error hull_error_t err = NULL;
  if (flock_wait(fd, how, 50, path, &err) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int cache_use(const char *dir, const char *name) {
  cleanup_close int lock = dir_lock(dir, LOCK_SH);
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  /* O_NONBLOCK: a fifo in an entry's place must not hang its user. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return -1;
  struct stat st;
  /* Eviction holds the directory's lock exclusively: this never waits
   * on an entry being removed, but without that lock it may have been. */
  if (flock(fd, LOCK_SH) < 0 || fstat(fd, &st) < 0 || st.st_nlink == 0) {
    close(fd);
    return -1;
  }
  /* The use is what makes it recent; not ours to touch is fine. */
  futimens(fd, NULL);
  return fd;
}

int cache_new_entry(const char *dir, char **tmp, hull_error_t *err) {
  if (mkdir_p(dir, 0700, err) < 0)
    return -1;
  char *path = xasprintf("%s/.new-XXXXXX", dir);
  int fd = mkostemp(path, O_CLOEXEC);
  if (fd < 0) {
    hull_error(err, errno, "create a temporary in `%s`", dir);
    free(path);
    return -1;
  }
  flock(fd, LOCK_SH);
  *tmp = path;
  return fd;
}

int cache_publish(const char *dir, const char *tmp, const char *name,
                  hull_error_t *err) {
  cleanup_close int lock = dir_lock(dir, LOCK_SH);
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  if (rename(tmp, path) < 0)
    return hull_error(err, errno, "rename `%s` to `%s`", tmp, path);
  return 0;
}

/* Under the directory's lock, so eviction cannot come between finding the
 * entry there and holding it. */
int cache_publish_or_use(const char *dir, const char *tmp, const char *name,
                         int *fd, hull_error_t *err) {
  cleanup_close int lock = dir_lock(dir, LOCK_SH);
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EEXIST)
    return hull_error(err, errno, "rename `%s` to `%s`", tmp, path);
  int existing = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (existing < 0 || flock(existing, LOCK_SH) < 0) {
    int e = errno;
    if (existing >= 0)
      close(existing);
    return hull_error(err, e, "open `%s`", path);
  }
  unlink(tmp);
  close(*fd);
  *fd = existing;
  return 0;
}

/* ---- eviction -------------------------------------------------------------- */

struct entry {
  char *name;
  struct timespec used;
  uint64_t size;
  bool temporary;
};

static int older_first(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  if (x->used.tv_sec != y->used.tv_sec)
    return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
  if (x->used.tv_nsec != y->used.tv_nsec)
    return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int list_entries(DIR *d, struct entry **out, size_t *n) {
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
        strcmp(de->d_name, LOCK_NAME) == 0 ||
        fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        !S_ISREG(st.st_mode))
      continue;
    *out = xrealloc(*out, (*n + 1) * sizeof(**out));
    (*out)[(*n)++] = (struct entry){
        .name = xstrdup(de->d_name), .used = st.st_mtim,
        .size = (uint64_t)st.st_size, .temporary = de->d_name[0] == '.'};
  }
  return 0;
}

/* Removes dir/e unless someone holds it. */
static bool evict(int dfd, const struct entry *e) {
  cleanup_close int fd =
      openat(dfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
    return false;
  return unlinkat(dfd, e->name, 0) == 0;
}

static void note_removed(const char *dir, const struct entry *e, bool list,
                         struct cache_trim_result *r) {
  r->removed++;
  r->freed += e->size;
  if (list) {
    cleanup_free char *path = xasprintf("%s/%s", dir, e->name);
    strv_append(&r->removed_paths, path);
  }
}

int cache_trim(const char *dir, uint64_t max, bool list_removed,
               struct cache_trim_result *r, hull_error_t *err) {
  *r = (struct cache_trim_result){0};
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : hull_error(err, errno, "open `%s`", dir);
  cleanup_close int lock = dir_lock(dir, LOCK_EX);
  struct entry *es = NULL;
  size_t n = 0;
  list_entries(d, &es, &n);
  qsort(es, n, sizeof(*es), older_first);
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += es[i].temporary ? 0 : es[i].size;
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    struct entry *e = &es[i];
    bool abandoned = e->temporary && now - e->used.tv_sec > ABANDONED_AFTER_S;
    bool over = !e->temporary && total > max;
    if ((abandoned || over) && evict(dirfd(d), e)) {
      total -= e->temporary ? 0 : e->size;
      note_removed(dir, e, list_removed, r);
    }
    free(e->name);
  }
  free(es);
  closedir(d);
  r->kept = total;
  return 0;
}

/* ---- bounds ---------------------------------------------------------------- */

static bool parse_size(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || s[0] == '-')
    return false;
  unsigned shift = 0;
  switch (*end) {
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  default: break;
  }
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
    return false;
  *out = (uint64_t)v << shift;
  return true;
}

uint64_t cache_limit(const char *env, uint64_t dflt) {
  const char *s = getenv(env);
  uint64_t v;
  if (s == NULL || *s == '\0')
    return dflt;
  if (!parse_size(s, &v)) {
    log_warning("%s=%s: not a size (bytes, or with K, M or G): using %llu",
                env, s, (unsigned long long)dflt);
    return dflt;
  }
  return v;
}

void cache_trim_to_limit(const char *dir, const char *env, uint64_t dflt) {
  struct cache_trim_result r;
  cleanup_error hull_error_t err = NULL;
  if (cache_trim(dir, cache_limit(env, dflt), false, &r, &err) < 0)
    log_debug("cache `%s` not trimmed: %s", dir, err->msg);
}
