/* userns-pool.c — tenant id ranges: the pool run.oci.userns=auto takes a
 * container's uids and gids from, and who holds which range.
 *
 * The pool is --userns-pool START:SIZE, or the /etc/subuid and /etc/subgid
 * entries of a user named "hull" (line i of one beside line i of the
 * other). On disk, under --root (a dot-dir: `hull list` skips it):
 *
 *   <root>/.userns/.lock                     flock: one taker at a time
 *   <root>/.userns/<uid>:<gid>+<size>=<id>   container id holds host uids
 *                                            [uid, uid+size) and gids
 *                                            [gid, gid+size)
 *   <root>/.userns/pending:<uid>:<gid>+<size>=<id>
 *                                            the same while id's create
 *                                            runs: its creator holds an
 *                                            flock on the file
 *
 * A record is a name (as netns/ipam.c's addresses): one readdir tells who
 * holds what. It appears (O_EXCL) after the container's state dir, is
 * renamed once create has succeeded, and is unlinked by delete (and by a
 * failed create) before the state dir goes -- each under the lock, so a
 * taker that reads the directory under the lock sees every range held or
 * being taken (a directory read while an entry is renamed may return
 * neither name).
 *
 * A range is free again when
 *   - its container's state dir is gone (a delete killed in between), or
 *   - it is pending, nobody holds its flock (the creator died: a killed
 *     create), and the container has no live first process: create's init
 *     dies with hull until it is ready (PR_SET_PDEATHSIG), so a live one
 *     means the create got that far, and the range stays with it until
 *     `delete` (it is renamed as if create had finished).
 * The next taker reclaims such ranges as it reads the directory; a crash
 * costs no range and needs no sweep. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL_DIR ".userns"
#define PENDING "pending:"
/* The highest id a map may reach: the kernel refuses (uid_t)-1. */
#define LAST_ID 4294967294ull
/* "pending:<uid>:<gid>+<size>=" at its longest. */
#define RECORD_PREFIX_MAX (sizeof(PENDING) - 1 + 3 * 10 + 3)

/* ---- the pool --------------------------------------------------------- */

static void pool_add(struct userns_pool *pool, uint32_t uid, uint32_t gid,
                     uint32_t size) {
  pool->spans = xrealloc(pool->spans, (pool->n + 1) * sizeof(*pool->spans));
  pool->spans[pool->n++] = (struct userns_span){uid, gid, size};
}

/* A decimal number of 32 bits, all of text up to stop ('\0' or ':'). */
static bool parse_u32(const char *text, char stop, uint32_t *out,
                      const char **end) {
  uint64_t v = 0;
  const char *p = text;
  for (; *p >= '0' && *p <= '9'; p++)
    if ((v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
      return false;
  if (p == text || *p != stop)
    return false;
  *out = (uint32_t)v;
  if (end)
    *end = p;
  return true;
}

/* Root's id is never a tenant's, and no map reaches (uid_t)-1. */
static int check_span(uint32_t start, uint32_t size, const char *where,
                      hull_error_t *err) {
  if (size == 0)
    return hull_error(err, 0, "%s: the pool is empty (size 0)", where);
  if (start == 0)
    return hull_error(err, 0, "%s: the pool may not hold id 0 (the host's "
                              "root)", where);
  if ((uint64_t)start + size - 1 > LAST_ID)
    return hull_error(err, 0, "%s: the pool goes past id %llu", where,
                      LAST_ID);
  return 0;
}

int userns_pool_parse(const char *text, struct userns_pool *pool,
                      hull_error_t *err) {
  *pool = (struct userns_pool){0};
  uint32_t start, size;
  const char *colon;
  if (!parse_u32(text, ':', &start, &colon) ||
      !parse_u32(colon + 1, '\0', &size, NULL))
    return hull_error(err, 0, "invalid value \"%s\" for flag --userns-pool: "
                              "want START:SIZE", text);
  cleanup_free char *where = xasprintf("--userns-pool %s", text);
  if (check_span(start, size, where, err) < 0)
    return -1;
  pool_add(pool, start, start, size);
  pool->source = xasprintf("--userns-pool %s", text);
  return 0;
}

/* The START:SIZE of each line of file naming user (or its uid). */
static int read_subid(const char *file, const char *user, uint32_t **starts,
                      uint32_t **sizes, size_t *n, hull_error_t *err) {
  *starts = *sizes = NULL;
  *n = 0;
  cleanup_free char *text = NULL;
  if (read_file(file, &text, NULL, err) < 0) {
    if ((*err)->errno_value != ENOENT)
      return -1;
    hull_error_release(err); /* no file: no entry */
    return 0;
  }
  struct passwd *pw = getpwnam(user);
  cleanup_free char *uid = pw ? xasprintf("%u", (unsigned)pw->pw_uid) : NULL;
  size_t line_no = 0;
  for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    line_no++;
    char *colon = strchr(line, ':');
    if (line[0] == '#' || colon == NULL)
      continue;
    *colon = '\0';
    if (strcmp(line, user) != 0 && !(uid && strcmp(line, uid) == 0))
      continue;
    uint32_t start, size;
    const char *mid;
    if (!parse_u32(colon + 1, ':', &start, &mid) ||
        !parse_u32(mid + 1, '\0', &size, NULL))
      return hull_error(err, 0, "%s:%zu: %s's entry is not NAME:START:SIZE",
                        file, line_no, user);
    cleanup_free char *where = xasprintf("%s:%zu", file, line_no);
    if (check_span(start, size, where, err) < 0)
      return -1;
    *starts = xrealloc(*starts, (*n + 1) * sizeof(**starts));
    *sizes = xrealloc(*sizes, (*n + 1) * sizeof(**sizes));
    (*starts)[*n] = start;
    (*sizes)[(*n)++] = size;
  }
  return 0;
}

int userns_pool_from_subid(const char *subuid, const char *subgid,
                           const char *user, struct userns_pool *pool,
                           hull_error_t *err) {
  *pool = (struct userns_pool){0};
  cleanup_free uint32_t *us = NULL, *usz = NULL, *gs = NULL, *gsz = NULL;
  size_t nu = 0, ng = 0;
  if (read_subid(subuid, user, &us, &usz, &nu, err) < 0 ||
      read_subid(subgid, user, &gs, &gsz, &ng, err) < 0)
    return -1;
  if (nu == 0 || ng == 0)
    return hull_error(err, 0, "no id pool: %s has no entry for user "
                      "\"%s\" (add %s:START:SIZE to %s and %s, or give "
                      "--userns-pool START:SIZE)", nu == 0 ? subuid : subgid,
                      user, user, subuid, subgid);
  if (nu != ng)
    return hull_error(err, 0, "no id pool: user \"%s\" has %zu entries in %s "
                      "but %zu in %s (line i of one goes with line i of the "
                      "other)", user, nu, subuid, ng, subgid);
  for (size_t i = 0; i < nu; i++) {
    if (usz[i] != gsz[i]) {
      userns_pool_clear(pool);
      return hull_error(err, 0, "no id pool: user \"%s\"'s entry %zu has "
                        "%" PRIu32 " ids in %s but %" PRIu32 " in %s", user,
                        i + 1, usz[i], subuid, gsz[i], subgid);
    }
    pool_add(pool, us[i], gs[i], usz[i]);
  }
  pool->source = xasprintf("%s's and %s's entries for user \"%s\"", subuid,
                           subgid, user);
  return 0;
}

void userns_pool_clear(struct userns_pool *pool) {
  free(pool->spans);
  free(pool->source);
  *pool = (struct userns_pool){0};
}

uint64_t userns_pool_largest(const struct userns_pool *pool) {
  uint64_t most = 0;
  for (size_t i = 0; i < pool->n; i++)
    if (pool->spans[i].size > most)
      most = pool->spans[i].size;
  return most;
}

/* ---- records ---------------------------------------------------------- */

struct record {
  bool pending;
  struct userns_span range;
  const char *id;            /* points into the name */
};

/* "[pending:]<uid>:<gid>+<size>=<id>"; false for anything else. */
static bool parse_record(const char *name, struct record *r) {
  const char *p = name;
  r->pending = strncmp(p, PENDING, sizeof(PENDING) - 1) == 0;
  if (r->pending)
    p += sizeof(PENDING) - 1;
  const char *eq = strchr(p, '=');
  if (eq == NULL || eq[1] == '\0')
    return false;
  cleanup_free char *head = xstrndup(p, (size_t)(eq - p));
  const char *q;
  char *plus = strchr(head, '+');
  if (plus == NULL)
    return false;
  *plus = '\0';
  if (!parse_u32(head, ':', &r->range.uid, &q) ||
      !parse_u32(q + 1, '\0', &r->range.gid, NULL) ||
      !parse_u32(plus + 1, '\0', &r->range.size, NULL))
    return false;
  r->id = eq + 1;
  return true;
}

static char *record_name(bool pending, const struct userns_span *s,
                         const char *id) {
  return xasprintf("%s%" PRIu32 ":%" PRIu32 "+%" PRIu32 "=%s",
                   pending ? PENDING : "", s->uid, s->gid, s->size, id);
}

/* <root>/.userns, open and locked (made first when make is true; else its
 * absence leaves *dir -1). */
struct pool_dir {
  int dir, lock;
  char *path;
};

static void pool_dir_close(struct pool_dir *d) {
  if (d->lock >= 0)
    close(d->lock); /* drops the flock */
  if (d->dir >= 0)
    close(d->dir);
  free(d->path);
}
#define cleanup_pool_dir __attribute__((cleanup(pool_dir_close)))

static int pool_dir_lock(const char *root, bool make, struct pool_dir *d,
                         hull_error_t *err) {
  d->dir = d->lock = -1;
  d->path = xasprintf("%s/" POOL_DIR, root);
  if (make && mkdir(d->path, 0700) < 0 && errno != EEXIST)
    return hull_error(err, errno, "mkdir `%s`", d->path);
  d->dir = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (d->dir < 0) {
    if (errno == ENOENT && !make)
      return 0;
    return hull_error(err, errno, "open `%s`", d->path);
  }
  d->lock = openat(d->dir, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                   0600);
  if (d->lock < 0)
    return hull_error(err, errno, "open `%s/.lock`", d->path);
  return flock_wait(d->lock, LOCK_EX, 4, "waiting for the id pool's lock",
                    err);
}

/* Whether the container of a pending record whose creator died got as far
 * as a live first process (see the top of the file). */
static bool first_process_alive(const char *root, const char *id) {
  cleanup_free char *path = xasprintf("%s/%s", root, id);
  struct state_dir d = {.fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                        .path = path};
  if (d.fd < 0)
    return false;
  struct container_state *st = NULL;
  cleanup_error hull_error_t ignored = NULL;
  bool alive = state_read(&d, &st, &ignored) == 0 &&
               process_is_alive(st->pid, st->pid_start_time);
  container_state_free(st);
  close(d.fd);
  return alive;
}

static bool state_dir_exists(const char *root, const char *id) {
  cleanup_free char *path = xasprintf("%s/%s", root, id);
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether a pending record's range is still taken: its creator holds the
 * record's flock, or left a live first process behind (then the record
 * becomes a created container's). */
static bool pending_still_held(const struct pool_dir *d, const char *root,
                               const char *name, const struct record *r) {
  cleanup_close int fd = openat(d->dir, name, O_RDONLY | O_CLOEXEC |
                                                  O_NOFOLLOW);
  if (fd < 0)
    return false;
  if (flock(fd, LOCK_EX | LOCK_NB) < 0)
    return errno == EWOULDBLOCK;
  if (!state_dir_exists(root, r->id) || !first_process_alive(root, r->id))
    return false;
  cleanup_free char *done = record_name(false, &r->range, r->id);
  if (renameat(d->dir, name, d->dir, done) < 0 && errno == ENOENT)
    return false; /* released meanwhile */
  return true;
}

static bool still_held(const struct pool_dir *d, const char *root,
                       const char *name, const struct record *r) {
  if (r->pending)
    return pending_still_held(d, root, name, r);
  return state_dir_exists(root, r->id);
}

/* The ranges held, reclaiming those that are free again (under the lock). */
static int held_ranges(const struct pool_dir *d, const char *root,
                       struct userns_span **held, size_t *n,
                       hull_error_t *err) {
  *held = NULL;
  *n = 0;
  int fd = dup(d->dir);
  DIR *dir = fd < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    if (fd >= 0)
      close(fd);
    return hull_error(err, errno, "read `%s`", d->path);
  }
  for (struct dirent *de; (de = readdir(dir)) != NULL;) {
    struct record r;
    if (de->d_name[0] == '.' || !parse_record(de->d_name, &r))
      continue;
    if (!still_held(d, root, de->d_name, &r)) {
      log_debug("userns pool: range %" PRIu32 "+%" PRIu32 " of \"%s\" is "
                "free again", r.range.uid, r.range.size, r.id);
      if (unlinkat(d->dir, de->d_name, 0) < 0 && errno != ENOENT) {
        int e = errno;
        closedir(dir);
        free(*held);
        return hull_error(err, e, "remove `%s/%s`", d->path, de->d_name);
      }
      continue;
    }
    *held = xrealloc(*held, (*n + 1) * sizeof(**held));
    (*held)[(*n)++] = r.range;
  }
  closedir(dir);
  return 0;
}

static bool overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

/* The lowest offset into span at which size uids and gids are free, or
 * false. Each held range the candidate meets moves it past that range. */
static bool first_fit(const struct userns_span *span, uint32_t size,
                      const struct userns_span *held, size_t n,
                      uint64_t *offset) {
  uint64_t o = 0;
  for (bool moved = true; moved;) {
    moved = false;
    if (o + size > span->size)
      return false;
    for (size_t i = 0; i < n; i++) {
      const struct userns_span *h = &held[i];
      if (overlap(span->uid + o, size, h->uid, h->size)) {
        o = (uint64_t)h->uid + h->size - span->uid;
        moved = true;
      } else if (overlap(span->gid + o, size, h->gid, h->size)) {
        o = (uint64_t)h->gid + h->size - span->gid;
        moved = true;
      }
      if (moved && o + size > span->size)
        return false;
    }
  }
  *offset = o;
  return true;
}

int userns_lease_take(const char *root, const char *id,
                      const struct userns_pool *pool, uint32_t size,
                      struct userns_lease *out, hull_error_t *err) {
  *out = (struct userns_lease){.fd = -1};
  if (strlen(id) > NAME_MAX - RECORD_PREFIX_MAX)
    return hull_error(err, 0, "container id longer than %zu bytes",
                      (size_t)(NAME_MAX - RECORD_PREFIX_MAX));
  cleanup_pool_dir struct pool_dir d = {.dir = -1, .lock = -1};
  if (pool_dir_lock(root, true, &d, err) < 0)
    return -1;
  cleanup_free struct userns_span *held = NULL;
  size_t n_held = 0;
  if (held_ranges(&d, root, &held, &n_held, err) < 0)
    return -1;
  for (size_t i = 0; i < pool->n; i++) {
    uint64_t o;
    if (!first_fit(&pool->spans[i], size, held, n_held, &o))
      continue;
    struct userns_span got = {pool->spans[i].uid + (uint32_t)o,
                              pool->spans[i].gid + (uint32_t)o, size};
    cleanup_free char *name = record_name(true, &got, id);
    cleanup_close int fd = openat(d.dir, name, O_RDONLY | O_CREAT | O_EXCL |
                                                   O_CLOEXEC | O_NOFOLLOW,
                                  0600);
    if (fd < 0)
      return hull_error(err, errno, "create `%s/%s`", d.path, name);
    if (flock(fd, LOCK_EX) < 0) {
      int e = errno;
      unlinkat(d.dir, name, 0);
      return hull_error(err, e, "lock `%s/%s`", d.path, name);
    }
    out->fd = take_fd(&fd);
    out->range = got;
    out->root = xstrdup(root);
    out->name = take_ptr(name);
    return 0;
  }
  return hull_error(err, 0, "no free range of %" PRIu32 " ids left in the "
                    "pool (%s; %zu ranges held)", size, pool->source, n_held);
}

int userns_lease_commit(struct userns_lease *l, hull_error_t *err) {
  /* Under the lock, as every change of a name: a directory read while
   * an entry is renamed may return neither name. */
  cleanup_pool_dir struct pool_dir d = {.dir = -1, .lock = -1};
  if (pool_dir_lock(l->root, false, &d, err) < 0)
    return -1;
  const char *done = l->name + sizeof(PENDING) - 1;
  if (d.dir < 0 || renameat(d.dir, l->name, d.dir, done) < 0)
    return hull_error(err, d.dir < 0 ? ENOENT : errno, "rename `%s/%s`",
                      d.path, l->name);
  userns_lease_close(l);
  return 0;
}

void userns_lease_close(struct userns_lease *l) {
  if (l->fd >= 0)
    close(l->fd); /* drops the flock */
  free(l->root);
  free(l->name);
  *l = (struct userns_lease){.fd = -1};
}

int userns_release(const char *root, const char *id, hull_error_t *err) {
  cleanup_pool_dir struct pool_dir d = {.dir = -1, .lock = -1};
  if (pool_dir_lock(root, false, &d, err) < 0)
    return -1;
  if (d.dir < 0)
    return 0; /* no range was ever taken under this root */
  int fd = dup(d.dir);
  DIR *dir = fd < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    if (fd >= 0)
      close(fd);
    return hull_error(err, errno, "read `%s`", d.path);
  }
  int ret = 0;
  for (struct dirent *de; (de = readdir(dir)) != NULL;) {
    struct record r;
    if (de->d_name[0] == '.' || !parse_record(de->d_name, &r) ||
        strcmp(r.id, id) != 0)
      continue;
    if (unlinkat(d.dir, de->d_name, 0) < 0 && errno != ENOENT) {
      ret = hull_error(err, errno, "remove `%s/%s`", d.path, de->d_name);
      break;
    }
  }
  closedir(dir);
  return ret;
}
