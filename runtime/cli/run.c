/* run.c — `hull run`: create + start, and wait unless --detach. With
 * --image REF, the bundle is made from an image of the store first:
 * <image-root>/containers/<id>/ (rootfs, .upper, .work, config.json and
 * the record gc reads), removed with the container by --rm or `delete`. */
#include "cli.h"
#include "create-flags.h"
#include "images/images.h"

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

/* The id names a directory: runc's id grammar, checked before it does. */
static int check_id(const char *id, hull_error_t *err) {
  bool ok = id[0] != '\0' && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
  for (const char *p = id; ok && *p; p++)
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
         (*p >= '0' && *p <= '9') || strchr("_+-.", *p) != NULL;
  return ok ? 0 : hull_error(err, 0, "invalid id format: %s", id);
}

static bool container_exists(const char *root, const char *id) {
  cleanup_free char *json = NULL;
  cleanup_error hull_error_t ignored = NULL;
  return container_state(root, id, &json, &ignored) == 0;
}

/* The bundle of a container made from an image, and its directory. */
static void remove_image_bundle(const char *dir) {
  cleanup_error hull_error_t err = NULL;
  if (image_bundle_remove(dir, &err) < 0 || rmdir(dir) < 0)
    log_warning("run: could not remove the bundle `%s`: %s", dir,
            err ? err->msg : strerror(errno));
}

static bool root_is_relative(const char *root) { return root[0] != '/'; }

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

static int make_bundle_in(struct image_store *s,
                          const struct run_image_flags *img, const char *root,
                          const char *id, const char *dir, hull_error_t *err) {
  cleanup_free char *parent = xasprintf("%s/containers", img->image_root);
  const char *const way[] = {img->image_root, parent, dir};
  for (size_t i = 0; has_maps(img) && i < 3; i++)
    if (let_others_search(way[i], err) < 0)
      return -1;
  struct image_run_options run = {
      .args = img->args, .id_maps = has_maps(img) ? &img->maps : NULL};
  /* For gc: a bundle whose container never came to be (this run was
   * killed before create recorded it) and whose run is gone is garbage. */
  cleanup_free char *cwd = root_is_relative(root) ? getcwd(NULL, 0) : NULL;
  cleanup_free char *notes = xasprintf("state %s%s%s %s\npid %d\n",
                                       cwd ? cwd : "", cwd ? "/" : "", root,
                                       id, (int)getpid());
  return image_bundle_make(s, img->ref, dir, &run,
                           image_rootfs_mode_from_env(false), "run", notes,
                           err);
}

static int make_image_bundle(const struct run_image_flags *img,
                             const char *root, const char *id,
                             const char *dir, hull_error_t *err) {
  struct image_store *s = NULL;
  if (image_store_open(img->image_root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  cleanup_free char *parent = xasprintf("%s/containers", img->image_root);
  int r = mkdir_p(parent, 0700, err);
  if (r == 0 && mkdir(dir, 0700) < 0)
    r = hull_error(err, errno, "container bundle `%s`", dir);
  else if (r == 0 && (r = make_bundle_in(s, img, root, id, dir, err)) < 0)
    rmdir(dir);
  image_store_close(s);
  return r;
}

static int run_image(struct create_options *o, struct run_image_flags *img,
                     int *code, hull_error_t *err) {
  if (img->rm && o->detach)
    return hull_error(err, 0, "run: --rm and --detach cannot go together "
                              "(nothing stays to remove the container)");
  char generated[13];
  if (img->name == NULL)
    random_id(generated);
  o->id = img->name ? img->name : generated;
  if (check_id(o->id, err) < 0)
    return -1;
  if (container_exists(o->root, o->id))
    return hull_error(err, 0, "container with id exists: %s", o->id);
  if (img->image_root == NULL)
    img->image_root = IMAGE_DEFAULT_ROOT;
  cleanup_free char *dir = xasprintf("%s/containers/%s", img->image_root,
                                     o->id);
  if (make_image_bundle(img, o->root, o->id, dir, err) < 0)
    return -1;
  o->bundle = dir;
  o->keep = o->keep || !img->rm; /* as podman: kept until `hull delete` */
  int r = container_run(o, code, err);
  if (!container_exists(o->root, o->id)) /* --rm, or create failed */
    remove_image_bundle(dir);
  return r;
}

int cmd_run(const struct global_options *g, int argc, char **argv,
            hull_error_t *err) {
  struct create_options o = {.root = g->root,
                            .systemd_cgroup = g->systemd_cgroup};
  struct run_image_flags img = {0};
  if (parse_create_flags("run", argc, argv, &o, true, &img, err) < 0)
    return -1;
  int code = 0;
  interrupt_hold(); /* SIGTERM ends run's waits; it cleans up first */
  if (img.ref) {
    if (o.bundle)
      return hull_error(err, 0, "run: --image makes the bundle; --bundle "
                                "cannot go with it");
    return run_image(&o, &img, &code, err) < 0 ? -1 : code;
  }
  if (container_run(&o, &code, err) < 0)
    return -1;
  return code;
}
