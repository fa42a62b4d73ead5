/* update.c — `update`: new limits for a live container.
 *
 * The container's current resources are kept as JSON in
 * <root>/<id>/resources.json once it has been updated (before that they are
 * the saved config.json's linux.resources). An update is merged into them
 * member by member, the whole result is written to the cgroup (some values
 * only make sense together, e.g. memory limit and swap), and then saved, so
 * the next update starts from what the cgroup has. */
#include "lifecycle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STATE_RESOURCES "resources.json"

/* The resources as they are now, as a JSON object. */
static int current_resources(const struct lifecycle *lc, char **out,
                             hull_error_t *err) {
  cleanup_free char *saved = xasprintf("%s/%s", lc->dir.path, STATE_RESOURCES);
  if (read_file(saved, out, NULL, err) == 0)
    return 0;
  if ((*err)->errno_value != ENOENT)
    return -1;
  hull_error_release(err);
  cleanup_free char *config_path =
      xasprintf("%s/%s", lc->dir.path, STATE_CONFIG);
  cleanup_free char *config = NULL;
  if (read_file(config_path, &config, NULL, err) < 0)
    return -1;
  return spec_resources_of_config(config, out, err);
}

/* runc: a memory limit of -1 (unlimited) without a swap value means
 * unlimited swap too, as v1 requires memory+swap >= memory. */
static int complete_update(const char *update, char **out,
                           hull_error_t *err) {
  struct spec_resources *r = NULL;
  if (spec_resources_parse(update, strlen(update), "resources", &r, err) < 0)
    return -1;
  bool unlimited = r->memory.limit.set && r->memory.limit.v == -1 &&
                   !r->memory.swap.set;
  spec_resources_free(r);
  if (!unlimited) {
    *out = xstrdup(update);
    return 0;
  }
  return spec_json_merge(update, "{\"memory\": {\"swap\": -1}}", out, err);
}

static int write_resources(struct lifecycle *lc, struct cgroup *cg,
                           const char *json, hull_error_t *err) {
  struct spec_resources *r = NULL;
  if (spec_resources_parse(json, strlen(json), "resources", &r, err) < 0)
    return -1;
  int ret = lc->cgroups->update(cg, r, err);
  spec_resources_free(r);
  return ret;
}

static int check_intel_rdt(const struct update_options *o, hull_error_t *err) {
  /* hull has no Intel RDT support, so these are "not enabled", in runc's
   * words. */
  if (o->l3_cache_schema && *o->l3_cache_schema)
    return hull_error(err, 0, "Intel RDT/CAT: l3 cache schema is not enabled");
  if (o->mem_bw_schema && *o->mem_bw_schema)
    return hull_error(err, 0,
                      "Intel RDT/MBA: memory bandwidth schema is not enabled");
  return 0;
}

int container_update(const struct update_options *o, hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(o->root, o->id, &lc, err) < 0)
    return -1;
  cleanup_free char *update = NULL;
  if (complete_update(o->resources_json, &update, err) < 0 ||
      check_intel_rdt(o, err) < 0)
    return -1;
  if (lifecycle_status(&lc) == STATUS_STOPPED)
    return hull_error(err, 0, "container not running");

  cleanup_free char *current = NULL, *merged = NULL;
  if (current_resources(&lc, &current, err) < 0 ||
      spec_json_merge(current, update, &merged, err) < 0)
    return hull_error_wrap(err, "update container %s", o->id);
  struct cgroup *cg = NULL;
  if (lifecycle_refuse_cgroupless(&lc, "update", err) < 0 ||
      lifecycle_cgroup(&lc, &cg, err) < 0)
    return -1;
  if (cg == NULL)
    return hull_error(err, 0, "container %s has no cgroup", o->id);
  int ret = write_resources(&lc, cg, merged, err);
  if (ret < 0) {
    /* Put back what was there, as runc does; the error is the update's. */
    cleanup_error hull_error_t ignored = NULL;
    write_resources(&lc, cg, current, &ignored);
  }
  cgroup_free(cg);
  if (ret < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", lc.dir.path, STATE_RESOURCES);
  return write_file_atomic(path, merged, strlen(merged), 0600, err);
}
