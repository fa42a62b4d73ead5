/* image-bundle.c — the bundle of a container that `run --image` or `create
 * --image` makes from an image of the store: <image-root>/containers/<id>/
 * (rootfs, .upper, .work, config.json and the record gc reads), removed
 * with the container by `run --rm` or `delete`. */
#include "cli.h"
#include "create-flags.h"
#include "images/images.h"
#include "runtime/spec/spec.h"
#include "runtime/state/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* 12 hex digits, as podman's short ids. */
static void random_id(char out[13]) {
  unsigned char b[6] = {0};
  if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
    pid_t p = getpid();
    memcpy(b, &p, sizeof(p) < sizeof(b) ? sizeof(p) : sizeof(b));
  }
  for (size_t i = 0; i < sizeof(b); i++)
    snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static bool container_exists(const char *root, const char *id) {
  cleanup_free char *json = NULL;
  cleanup_error hull_error_t ignored = NULL;
  return container_state(root, id, &json, &ignored) == 0;
}

static bool root_is_relative(const char *root) { return root[0] != '/'; }

/* IMAGE_VOLUMES_BIND: each volume's directory under volumes_dir (the
 * config's bind sources there), made before create mounts them. */
static int make_volume_dirs(const char *bundle, const char *volumes_dir,
                            hull_error_t *err) {
  cleanup_spec struct spec *spec = NULL;
  if (spec_load(bundle, &spec, err) < 0)
    return -1;
  size_t len = strlen(volumes_dir);
  for (size_t i = 0; i < spec->n_mounts; i++) {
    const char *src = spec->mounts[i].source;
    if (src && strncmp(src, volumes_dir, len) == 0 && src[len] == '/' &&
        mkdir_p(src, 0755, err) < 0)
      return hull_error_wrap(err, "--image-volume");
  }
  return 0;
}

static bool has_maps(const struct run_image_flags *img) {
  return img->maps.n_uid > 0;
}

/* A user-namespaced container's root reaches its rootfs through the store
 * and containers/: they let others search them (not list them). */
static int let_others_search(const char *dir, hull_error_t *err) {
  struct stat st;
  if (stat(dir, &st) < 0)
    return hull_error(err, errno, "stat `%s`", dir);
  if ((st.st_mode & 0011) != 0011 &&
      chmod(dir, (st.st_mode & 07777) | 0011) < 0)
    return hull_error(err, errno, "chmod `%s`", dir);
  return 0;
}

/* The bundle in dir, made already and empty. */
static int make_bundle_in(struct image_store *s, struct run_image_flags *img,
                          const char *root, const char *id, const char *dir,
                          hull_error_t *err) {
  cleanup_free char *parent = xasprintf("%s/containers", img->image_root);
  const char *const way[] = {img->image_root, parent, dir};
  for (size_t i = 0; has_maps(img) && i < 3; i++)
    if (let_others_search(way[i], err) < 0)
      return -1;
  struct image_run_options run = {
      .args = img->args, .id_maps = has_maps(img) ? &img->maps : NULL};
  image_config_apply(&img->config, &run);
  /* For gc: a bundle whose container never came to be (this command was
   * killed before create recorded it) and whose maker is gone is
   * garbage. */
  cleanup_free char *cwd = root_is_relative(root) ? getcwd(NULL, 0) : NULL;
  cleanup_free char *notes = xasprintf("state %s%s%s %s\npid %d\n",
                                       cwd ? cwd : "", cwd ? "/" : "", root,
                                       id, (int)getpid());
  int r = image_bundle_make(s, img->ref, dir, &run,
                            image_rootfs_mode_from_env(false), "run", notes,
                            err);
  if (r == 0 && run.volumes == IMAGE_VOLUMES_BIND)
    r = make_volume_dirs(dir, run.volumes_dir, err);
  return r;
}

static int make_bundle(struct run_image_flags *img, const char *root,
                       const char *id, const char *dir, hull_error_t *err) {
  struct image_store *s = NULL;
  if (image_store_open(img->image_root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  cleanup_free char *parent = xasprintf("%s/containers", img->image_root);
  int r = mkdir_p(parent, 0700, err);
  if (r == 0 && mkdir(dir, 0700) < 0)
    r = hull_error(err, errno, "container bundle `%s`", dir);
  else if (r == 0 && (r = make_bundle_in(s, img, root, id, dir, err)) < 0) {
    cleanup_error hull_error_t ignored = NULL;
    image_bundle_remove(dir, &ignored);
    rmdir(dir);
  }
  image_store_close(s);
  return r;
}

int image_container_bundle(struct create_options *o,
                           struct run_image_flags *img, char **dir,
                           hull_error_t *err) {
  *dir = NULL;
  if (o->id == NULL) {
    random_id(img->generated_id);
    o->id = img->generated_id;
  }
  /* The id names the bundle directory before create checks it. */
  if (state_validate_id(o->id, err) < 0)
    return -1;
  if (container_exists(o->root, o->id))
    return hull_error(err, 0, "container with id exists: %s", o->id);
  if (img->image_root == NULL)
    img->image_root = IMAGE_DEFAULT_ROOT;
  cleanup_free char *path = xasprintf("%s/containers/%s", img->image_root,
                                      o->id);
  if (make_bundle(img, o->root, o->id, path, err) < 0)
    return -1;
  o->bundle = path;
  *dir = take_ptr(path);
  return 0;
}

void image_container_bundle_release(const struct create_options *o,
                                    const char *dir) {
  if (container_exists(o->root, o->id))
    return;
  cleanup_error hull_error_t err = NULL;
  if (image_bundle_remove(dir, &err) < 0 || rmdir(dir) < 0)
    log_warning("%s: could not remove the bundle `%s`: %s", o->id, dir,
                err ? err->msg : strerror(errno));
}
