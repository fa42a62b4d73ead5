/* userns-auto.c — run.oci.userns=auto[:size=N]: a container in a user
 * namespace of its own whose ids are a range no other container under the
 * same --root holds (root inside is nobody to the host and to every other
 * tenant), taken from the id pool (runtime/state/userns-pool.c) and given
 * back by delete.
 *
 * The config says nothing of the ids: create adds the user namespace (at
 * check time, so that what is checked is what runs) and, once the state
 * dir exists, its maps: container ids 0..N-1 to the range, uids and gids
 * alike. The rootfs is shared as it is, never chowned: the init attaches
 * an idmapped copy of it (the runtime makes it, see create.c), which shows
 * the host root's files as the container root's. */
#include "lifecycle.h"
#include "runtime/linux/linux.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USERNS_ANNOTATION "run.oci.userns"
#define DEFAULT_SIZE 65536u
#define SUBUID "/etc/subuid"
#define SUBGID "/etc/subgid"
#define POOL_USER "hull"

bool userns_auto_wanted(const struct spec *spec) {
  return spec_map_get(&spec->annotations, USERNS_ANNOTATION) != NULL;
}

/* "auto" or "auto:size=N", N from 1 to what a map can hold. */
static int parse_size(const char *text, uint32_t *size, hull_error_t *err) {
  *size = DEFAULT_SIZE;
  if (strcmp(text, "auto") == 0)
    return 0;
  static const char prefix[] = "auto:size=";
  if (strncmp(text, prefix, sizeof(prefix) - 1) != 0)
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION ": \"%s\" is "
                              "not a mode hull has (auto or auto:size=N)",
                      text);
  const char *n = text + sizeof(prefix) - 1;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(n, &end, 10);
  if (*n < '0' || *n > '9' || *end || errno || v == 0 || v > UINT32_MAX)
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION ": \"%s\": "
                              "size must be a number from 1 to %" PRIu32,
                      text, (uint32_t)UINT32_MAX);
  *size = (uint32_t)v;
  return 0;
}

/* What the mode cannot go with, each refused by name. */
static int check_config(const struct spec *spec, hull_error_t *err) {
  /* The pool is the host's ids: only the host's root may hand them out
   * (a user's containers map its /etc/subuid range through
   * linux.uidMappings and newuidmap). */
  if (geteuid() != 0 || ns_running_in_user_ns())
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION "=auto: needs "
                              "hull run by root (not in a user namespace): "
                              "a user's containers map its /etc/subuid ids "
                              "through linux.uidMappings");
  if (strcmp(exec_handler_for(spec)->name, "process") != 0)
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION "=auto: not "
                              "with VM mode (the guest kernel is the "
                              "boundary there)");
  const struct spec_linux *l = spec->linux;
  if (l->n_uid_mappings > 0 || l->n_gid_mappings > 0)
    return hull_error(err, 0, "config.json: .linux.%s: cannot be given with "
                              "annotation " USERNS_ANNOTATION "=auto, which "
                              "picks the mapping",
                      l->n_uid_mappings > 0 ? "uidMappings" : "gidMappings");
  const struct spec_namespace *user = spec_namespace_find(spec, SPEC_NS_USER);
  if (user && user->path && *user->path)
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION "=auto: "
                              "cannot join the user namespace `%s` "
                              "(linux.namespaces): it makes one",
                      user->path);
  if (spec_namespace_find(spec, SPEC_NS_MOUNT) == NULL)
    return hull_error(err, 0, "annotation " USERNS_ANNOTATION "=auto: needs "
                              "a new mount namespace (linux.namespaces), "
                              "where the idmapped rootfs is mounted");
  return 0;
}

int userns_auto_check(struct spec *spec, hull_error_t *err) {
  const char *mode = spec_map_get(&spec->annotations, USERNS_ANNOTATION);
  uint32_t size;
  if (mode == NULL)
    return 0;
  if (spec->linux == NULL)
    return 0; /* create's own check names .linux */
  if (parse_size(mode, &size, err) < 0 || check_config(spec, err) < 0)
    return -1;
  struct spec_linux *l = spec->linux;
  if (spec_namespace_find(spec, SPEC_NS_USER) == NULL) {
    l->namespaces = xrealloc(l->namespaces,
                             (l->n_namespaces + 1) * sizeof(*l->namespaces));
    l->namespaces[l->n_namespaces++] =
        (struct spec_namespace){.type = SPEC_NS_USER};
  }
  return 0;
}

static int open_pool(const char *option, struct userns_pool *pool,
                     hull_error_t *err) {
  if (option)
    return userns_pool_parse(option, pool, err);
  return userns_pool_from_subid(SUBUID, SUBGID, POOL_USER, pool, err);
}

static struct spec_id_mapping *one_map(uint32_t host, uint32_t size) {
  struct spec_id_mapping *m = xmalloc(sizeof(*m));
  *m = (struct spec_id_mapping){.container_id = 0, .host_id = host,
                                .size = size};
  return m;
}

int userns_auto_take(struct lifecycle *lc, const char *root,
                     const char *pool_option, struct userns_lease *lease,
                     hull_error_t *err) {
  *lease = (struct userns_lease){.fd = -1};
  struct spec *spec = lc->spec;
  const char *mode = spec_map_get(&spec->annotations, USERNS_ANNOTATION);
  uint32_t size;
  if (mode == NULL)
    return 0;
  if (parse_size(mode, &size, err) < 0)
    return -1;
  struct userns_pool pool;
  if (open_pool(pool_option, &pool, err) < 0)
    return hull_error_wrap(err, "annotation " USERNS_ANNOTATION "=auto");
  int ret = 0;
  if (size > userns_pool_largest(&pool))
    ret = hull_error(err, 0, "annotation " USERNS_ANNOTATION "=%s: more ids "
                     "than the pool's largest range holds (%" PRIu64 ": %s)",
                     mode, userns_pool_largest(&pool), pool.source);
  else if (userns_lease_take(root, lc->state->id, &pool, size, lease,
                             err) < 0)
    ret = hull_error_wrap(err, "annotation " USERNS_ANNOTATION "=%s", mode);
  userns_pool_clear(&pool);
  if (ret < 0)
    return -1;
  log_debug("userns: container \"%s\" holds uids %" PRIu32 "+%" PRIu32
            ", gids %" PRIu32 "+%" PRIu32, lc->state->id, lease->range.uid,
            size, lease->range.gid, size);
  struct spec_linux *l = spec->linux;
  l->uid_mappings = one_map(lease->range.uid, size);
  l->n_uid_mappings = 1;
  l->gid_mappings = one_map(lease->range.gid, size);
  l->n_gid_mappings = 1;
  return 0;
}

int userns_auto_release(const struct lifecycle *lc, hull_error_t *err) {
  cleanup_free char *copy = xstrdup(lc->dir.path);
  cleanup_free char *root = xstrdup(dirname(copy));
  return userns_release(root, lc->state->id, err);
}
