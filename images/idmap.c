/* idmap.c — a container of an image in a user namespace of its own
 * (--uidmap/--gidmap): the maps' syntax, and the layers shared through
 * idmapped mounts (issue #12: never chowned copies of the shared layers).
 *
 * A layer directory is owned as its tar says: root's files are uid 0 on
 * the host. A clone of it (open_tree OPEN_TREE_CLONE) given the maps
 * (mount_setattr MOUNT_ATTR_IDMAP with a user namespace carrying them)
 * shows uid 0 as the container root's host uid, so the overlayfs made on
 * such clones shows the container its files as their own, while the
 * directory itself, and every other container's view of it, is unchanged.
 * The kernel gives a mapping only to a detached mount, and overlayfs's
 * lowerdir names paths: each clone is attached at BUNDLE/.lowers/<i>, the
 * overlay mounted on them, and the clones detached again: overlayfs keeps
 * private copies of its layers' mounts (clone_private_mount). */
#include "images/images.h"
#include "runtime/linux/linux.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define OVERFLOW_ID 65534u

/* ---- the flags ------------------------------------------------------- */

/* A decimal number of 32 bits ending at *end (':' or '\0'). */
static bool parse_u32(const char *s, char stop, uint32_t *out,
                      const char **end) {
  uint64_t v = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) {
    v = v * 10 + (uint64_t)(*p - '0');
    if (v > UINT32_MAX)
      return false;
  }
  if (p == s || *p != stop)
    return false;
  *out = (uint32_t)v;
  *end = p;
  return true;
}

int image_id_maps_add(struct image_id_maps *m, const char *flag,
                      const char *text, hull_error_t *err) {
  struct spec_id_mapping one;
  const char *p;
  if (!parse_u32(text, ':', &one.container_id, &p) ||
      !parse_u32(p + 1, ':', &one.host_id, &p) ||
      !parse_u32(p + 1, '\0', &one.size, &p))
    return hull_error(err, 0, "%s \"%s\": expected CONTAINER_ID:HOST_ID:SIZE",
                      flag, text);
  if (one.size == 0)
    return hull_error(err, 0, "%s \"%s\": SIZE must be at least 1", flag,
                      text);
  if ((uint64_t)one.container_id + one.size > (uint64_t)UINT32_MAX + 1 ||
      (uint64_t)one.host_id + one.size > (uint64_t)UINT32_MAX + 1)
    return hull_error(err, 0, "%s \"%s\": the range goes past id 4294967295",
                      flag, text);
  bool uid = strcmp(flag, "--uidmap") == 0;
  struct spec_id_mapping **v = uid ? &m->uid : &m->gid;
  size_t *n = uid ? &m->n_uid : &m->n_gid;
  *v = xrealloc(*v, (*n + 1) * sizeof(**v));
  (*v)[(*n)++] = one;
  return 0;
}

static bool overlap(uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b) {
  return (uint64_t)a < (uint64_t)b + size_b &&
         (uint64_t)b < (uint64_t)a + size_a;
}

/* The kernel refuses such a map when it is written; said here, the flag
 * named, before anything is made. */
static int check_overlaps(const struct spec_id_mapping *v, size_t n,
                          const char *flag, hull_error_t *err) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      bool in = overlap(v[i].container_id, v[j].container_id, v[i].size,
                        v[j].size);
      if (in || overlap(v[i].host_id, v[j].host_id, v[i].size, v[j].size))
        return hull_error(err, 0, "%s \"%" PRIu32 ":%" PRIu32 ":%" PRIu32
                                  "\": overlaps the %s ids of \"%" PRIu32
                                  ":%" PRIu32 ":%" PRIu32 "\"",
                          flag, v[j].container_id, v[j].host_id, v[j].size,
                          in ? "container" : "host", v[i].container_id,
                          v[i].host_id, v[i].size);
    }
  return 0;
}

static struct spec_id_mapping *copy_maps(const struct spec_id_mapping *v,
                                         size_t n) {
  struct spec_id_mapping *out = xmalloc(n * sizeof(*out));
  memcpy(out, v, n * sizeof(*out));
  return out;
}

int image_id_maps_finish(struct image_id_maps *m, hull_error_t *err) {
  if (m->n_uid == 0 && m->n_gid > 0) {
    m->uid = copy_maps(m->gid, m->n_gid);
    m->n_uid = m->n_gid;
  } else if (m->n_gid == 0 && m->n_uid > 0) {
    m->gid = copy_maps(m->uid, m->n_uid);
    m->n_gid = m->n_uid;
  }
  if (check_overlaps(m->uid, m->n_uid, "--uidmap", err) < 0 ||
      check_overlaps(m->gid, m->n_gid, "--gidmap", err) < 0)
    return -1;
  return 0;
}

void image_id_maps_clear(struct image_id_maps *m) {
  free(m->uid);
  free(m->gid);
  *m = (struct image_id_maps){0};
}

static uint32_t to_host(const struct spec_id_mapping *v, size_t n,
                        uint32_t id) {
  for (size_t i = 0; i < n; i++)
    if (id >= v[i].container_id && id - v[i].container_id < v[i].size)
      return v[i].host_id + (id - v[i].container_id);
  return OVERFLOW_ID;
}

uint32_t image_id_maps_host_uid(const struct image_id_maps *m, uint32_t id) {
  return to_host(m->uid, m->n_uid, id);
}

uint32_t image_id_maps_host_gid(const struct image_id_maps *m, uint32_t id) {
  return to_host(m->gid, m->n_gid, id);
}

/* ---- idmapped lowers ------------------------------------------------- */

/* dir cloned, given the maps' user namespace, attached at target. */
static int attach_idmapped(const char *dir, int userns, const char *target,
                           hull_error_t *err) {
  cleanup_close int tree = -1;
  if (idmap_clone_tree(dir, false, userns, "layer", "--copy or "
                       "HULL_IMAGE_ROOTFS=copy makes a chowned copy", &tree,
                       err) < 0)
    return hull_error_wrap(err, "idmapped lowers");
  if (mkdir(target, 0700) < 0)
    return hull_error(err, errno, "idmapped lowers: mkdir `%s`", target);
  if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return hull_error(err, errno, "idmapped lowers: attach `%s`", target);
  return 0;
}

int image_idmapped_lowers(char *const *dirs, const char *bundle,
                          const struct image_id_maps *m, char ***lowers,
                          hull_error_t *err) {
  *lowers = NULL;
  cleanup_close int userns = -1;
  if (ns_new_user_fd(m->uid, m->n_uid, m->gid, m->n_gid, &userns, err) < 0)
    return hull_error_wrap(err, "idmapped lowers");
  cleanup_free char *top = xasprintf("%s/.lowers", bundle);
  if (mkdir(top, 0700) < 0)
    return hull_error(err, errno, "idmapped lowers: mkdir `%s`", top);
  char **out = NULL;
  for (size_t i = 0; dirs && dirs[i]; i++) {
    cleanup_free char *target = xasprintf("%s/%zu", top, i);
    strv_append(&out, target);
    if (attach_idmapped(dirs[i], userns, target, err) < 0) {
      strv_free(out);
      return -1;
    }
  }
  *lowers = out;
  return 0;
}

int image_idmapped_lowers_remove(const char *bundle, hull_error_t *err) {
  cleanup_free char *top = xasprintf("%s/.lowers", bundle);
  for (size_t i = 0;; i++) {
    cleanup_free char *p = xasprintf("%s/%zu", top, i);
    if (access(p, F_OK) < 0)
      break;
    if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
      return hull_error(err, errno, "unmount `%s`", p);
    if (rmdir(p) < 0)
      return hull_error(err, errno, "remove `%s`", p);
  }
  if (rmdir(top) < 0 && errno != ENOENT)
    return hull_error(err, errno, "remove `%s`", top);
  return 0;
}
