/* seccomp_cache.c — compiled seccomp filters kept across containers.
 *
 * Turning a docker-sized profile into BPF with libseccomp costs ~10 ms,
 * and container engines pass the same profile to every container. So the
 * program is kept in <state root>/.cache/seccomp/<key>, where key is the
 * 64-bit FNV-1a of the profile's canonical serialization. The file holds
 * that serialization too, and a hit needs it to match byte for byte: a
 * hash collision is a miss, never the wrong filter. The serialization
 * starts with everything else the program depends on (hull's and
 * libseccomp's versions, the kernel's seccomp API level, the native
 * architecture), so an upgrade or another machine misses as well.
 *
 * File layout (native byte order: the file never leaves this machine):
 *   "hullbpf1"  u64 profile length  profile  u64 instruction count  program
 *
 * The cache is an optimisation only: a file that is missing, short,
 * corrupt, not owned by us or writable by others is ignored (and
 * overwritten by the next store), and a cache directory we may not read or
 * write (an init in a user namespace whose root is not the owner) just
 * means compiling every time. It is bounded (cache.c): each store evicts
 * the least recently used programs beyond $HULL_SECCOMP_CACHE_MAX. */
#include "security.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "hullbpf1"
#define CACHE_MAGIC_LEN 8
/* Bump when hull changes how a profile becomes rules (seccomp.c). */
#define TRANSLATION_VERSION 2

/* ---- canonical serialization ------------------------------------------- */

struct bytes_out {
  char *data;
  size_t len, cap;
};

static void put(struct bytes_out *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 256;
    b->data = xrealloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static void put_u64(struct bytes_out *b, uint64_t v) { put(b, &v, sizeof(v)); }

/* Length-prefixed, so no two string lists serialize alike; NULL and ""
 * differ (UINT64_MAX marks NULL). */
static void put_str(struct bytes_out *b, const char *s) {
  if (s == NULL) {
    put_u64(b, UINT64_MAX);
    return;
  }
  size_t n = strlen(s);
  put_u64(b, n);
  put(b, s, n);
}

static void put_strv(struct bytes_out *b, char *const *v) {
  size_t n = v ? strv_len(v) : 0;
  put_u64(b, v ? n : UINT64_MAX);
  for (size_t i = 0; i < n; i++)
    put_str(b, v[i]);
}

static void put_uint(struct bytes_out *b, struct spec_uint u) {
  put_u64(b, u.set);
  put_u64(b, u.set ? u.v : 0);
}

static void put_environment(struct bytes_out *b) {
  put_str(b, "hull seccomp profile");
  put_u64(b, TRANSLATION_VERSION);
  put_str(b, HULL_VERSION);
#ifdef HULL_COMMIT
  put_str(b, HULL_COMMIT);
#endif
  const struct scmp_version *v = seccomp_version();
  put_u64(b, v->major);
  put_u64(b, v->minor);
  put_u64(b, v->micro);
  put_u64(b, seccomp_api_get());
  put_u64(b, seccomp_arch_native());
}

static void put_syscall(struct bytes_out *b,
                        const struct spec_seccomp_syscall *sc) {
  put_strv(b, sc->names);
  put_str(b, sc->action);
  put_uint(b, sc->errno_ret);
  put_u64(b, sc->n_args);
  for (size_t k = 0; k < sc->n_args; k++) {
    const struct spec_seccomp_arg *a = &sc->args[k];
    put_u64(b, a->index);
    put_u64(b, a->value);
    put_uint(b, a->value_two);
    put_str(b, a->op);
  }
}

void seccomp_profile_serialize(const struct spec_seccomp *s,
                               struct seccomp_profile_bytes *out) {
  struct bytes_out b = {0};
  put_environment(&b);
  put_str(&b, s->default_action);
  put_uint(&b, s->default_errno_ret);
  put_strv(&b, s->architectures);
  put_strv(&b, s->flags);
  put_u64(&b, s->n_syscalls);
  for (size_t i = 0; i < s->n_syscalls; i++)
    put_syscall(&b, &s->syscalls[i]);
  *out = (struct seccomp_profile_bytes){.data = b.data, .len = b.len};
}

uint64_t seccomp_profile_key(const struct seccomp_profile_bytes *p) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < p->len; i++) {
    h ^= (unsigned char)p->data[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static char *cache_path(const char *dir, const struct seccomp_profile_bytes *p) {
  return xasprintf("%s/%016llx", dir,
                   (unsigned long long)seccomp_profile_key(p));
}

/* ---- reading ---------------------------------------------------------------- */

/* Nobody else may have written the program we are about to trust. */
static bool trustworthy(const struct stat *st) {
  return S_ISREG(st->st_mode) && st->st_uid == geteuid() &&
         (st->st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

static size_t file_size_for(size_t profile_len, size_t n_insns) {
  return CACHE_MAGIC_LEN + sizeof(uint64_t) + profile_len + sizeof(uint64_t) +
         n_insns * sizeof(struct sock_filter);
}

/* Checks the layout of buf against p; on success *insns points into buf. */
static bool parse_entry(const char *buf, size_t size,
                        const struct seccomp_profile_bytes *p,
                        const char **insns, size_t *n_insns) {
  size_t at = 0;
  uint64_t profile_len, n;
  if (size < file_size_for(0, 0) ||
      memcmp(buf, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0)
    return false;
  at = CACHE_MAGIC_LEN;
  memcpy(&profile_len, buf + at, sizeof(profile_len));
  at += sizeof(profile_len);
  if (profile_len != p->len || size < file_size_for(p->len, 0) ||
      memcmp(buf + at, p->data, p->len) != 0)
    return false;
  at += p->len;
  memcpy(&n, buf + at, sizeof(n));
  at += sizeof(n);
  if (n == 0 || n > BPF_MAXINSNS || size != file_size_for(p->len, n))
    return false;
  *insns = buf + at;
  *n_insns = n;
  return true;
}

int seccomp_cache_lookup(const char *dir, const struct seccomp_profile_bytes *p,
                         struct seccomp_bpf *out) {
  cleanup_free char *path = cache_path(dir, p);
  /* Read whole through the fd: an eviction after this cannot hurt. */
  cleanup_close int fd = cache_use(dir, strrchr(path, '/') + 1);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return 0;
  size_t max = file_size_for(p->len, BPF_MAXINSNS);
  if (!trustworthy(&st) || st.st_size <= 0 || (size_t)st.st_size > max) {
    log_debug("seccomp cache: ignoring `%s`", path);
    return 0;
  }
  size_t size = (size_t)st.st_size;
  cleanup_free char *buf = xmalloc(size);
  const char *insns;
  size_t n;
  if (read_all(fd, buf, size) != (ssize_t)size ||
      !parse_entry(buf, size, p, &insns, &n)) {
    log_debug("seccomp cache: ignoring `%s`: not a filter for this profile",
              path);
    return 0;
  }
  out->insns = xmalloc(n * sizeof(struct sock_filter));
  memcpy(out->insns, insns, n * sizeof(struct sock_filter));
  out->len = n;
  return 1;
}

/* ---- writing ---------------------------------------------------------------- */

int seccomp_cache_store(const char *dir, const struct seccomp_profile_bytes *p,
                        const struct seccomp_bpf *bpf, hull_error_t *err) {
  cleanup_free char *tmp = NULL;
  cleanup_close int fd = cache_new_entry(dir, &tmp, err);
  if (fd < 0)
    return -1;
  struct bytes_out b = {0};
  put(&b, CACHE_MAGIC, CACHE_MAGIC_LEN);
  put_u64(&b, p->len);
  put(&b, p->data, p->len);
  put_u64(&b, bpf->len);
  put(&b, bpf->insns, bpf->len * sizeof(struct sock_filter));
  cleanup_free char *path = cache_path(dir, p);
  int rc = 0;
  if (write_all(fd, b.data, b.len) < 0)
    rc = hull_error(err, errno, "write `%s`", tmp);
  else
    rc = cache_publish(dir, tmp, strrchr(path, '/') + 1, err);
  if (rc < 0)
    unlink(tmp);
  free(b.data);
  if (rc == 0)
    cache_trim_to_limit(dir, SECCOMP_CACHE_MAX_ENV, SECCOMP_CACHE_MAX_DEFAULT);
  return rc;
}

/* ---- the two together --------------------------------------------------- */

int seccomp_bpf_for(const struct spec_seccomp *s, const char *dir,
                    struct seccomp_bpf *out, hull_error_t *err) {
  if (seccomp_profile_check(s, err) < 0)
    return -1;
  if (dir == NULL)
    return seccomp_filter_compile(s, out, err);
  struct seccomp_profile_bytes p;
  seccomp_profile_serialize(s, &p);
  cleanup_free char *data = p.data;
  if (seccomp_cache_lookup(dir, &p, out) == 1)
    return 0;
  if (seccomp_filter_compile(s, out, err) < 0)
    return -1;
  cleanup_error hull_error_t cache_err = NULL;
  if (seccomp_cache_store(dir, &p, out, &cache_err) < 0)
    log_debug("seccomp cache: not stored: %s", cache_err->msg);
  return 0;
}
