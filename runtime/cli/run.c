/* run.c — `hull run`: create + start, and wait unless --detach. With
 * --image REF, the bundle is made from an image of the store first
 * (image-bundle.c), removed with the container by --rm or `delete`. */
#include "cli.h"
#include "create-flags.h"

#include <string.h>

static int run_image(struct create_options *o, struct run_image_flags *img,
                     int *code, hull_error_t *err) {
  if (o->bundle)
    return hull_error(err, 0, "run: --image makes the bundle; --bundle "
                              "cannot go with it");
  if (img->rm && o->detach)
    return hull_error(err, 0, "run: --rm and --detach cannot go together "
                              "(nothing stays to remove the container)");
  o->id = img->name;
  cleanup_free char *dir = NULL;
  if (image_container_bundle(o, img, &dir, err) < 0)
    return -1;
  o->keep = o->keep || !img->rm; /* as podman: kept until `hull delete` */
  int r = container_run(o, code, err);
  image_container_bundle_release(o, dir); /* --rm, or create failed */
  return r;
}

int cmd_run(const struct global_options *g, int argc, char **argv,
            hull_error_t *err) {
  struct create_options o = {.root = g->root,
                            .systemd_cgroup = g->systemd_cgroup,
                            .rootless_cgroups = cli_rootless_cgroups(g),
                            .runtime_in_user_ns = g->in_user_ns,
                            .userns_pool = g->userns_pool};
  struct run_image_flags img = {0};
  int code = 0;
  int r = parse_create_flags("run", argc, argv, &o, true, &img, err);
  if (r == 0) {
    interrupt_hold(); /* SIGTERM ends run's waits; it cleans up first */
    r = img.ref ? run_image(&o, &img, &code, err)
                : container_run(&o, &code, err);
  }
  image_config_flags_free(&img.config);
  image_id_maps_clear(&img.maps);
  return r < 0 ? -1 : code;
}
