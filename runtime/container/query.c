/* query.c — `state` and `list`: what hull knows of its containers. */
#include "lifecycle.h"

#include <stdlib.h>

int container_state(const char *root, const char *id, char **json,
                    hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  /* The placeholder is enough for delete, but reporting it as a stopped
   * container with no bundle would be made up. */
  if (lc.state_missing)
    return hull_error(err, 0,
                      "container %s has no state: its create was "
                      "interrupted; `delete %s` removes it",
                      id, id);
  *json = state_oci_json(lc.state, lifecycle_status(&lc), true);
  return 0;
}

int container_bundle(const char *root, const char *id, char **bundle,
                     hull_error_t *err) {
  cleanup_lifecycle struct lifecycle lc;
  *bundle = NULL;
  if (lifecycle_open(root, id, &lc, err) < 0)
    return -1;
  if (lc.state->bundle)
    *bundle = xstrdup(lc.state->bundle);
  return 0;
}

static void summarize(const struct lifecycle *lc,
                      struct container_summary *s) {
  const struct container_state *st = lc->state;
  s->id = xstrdup(st->id);
  s->bundle = xstrdup(st->bundle ? st->bundle : "");
  s->rootfs = xstrdup(st->rootfs ? st->rootfs : "");
  s->created = xstrdup(st->created ? st->created : "");
  s->owner = xstrdup(st->owner ? st->owner : "");
  s->status = lifecycle_status(lc);
  s->pid = s->status == STATUS_STOPPED ? 0 : st->pid;
}

int container_list(const char *root, struct container_summary **out,
                   size_t *n, hull_error_t *err) {
  cleanup_strv char **ids = NULL;
  if (state_list_ids(root, &ids, err) < 0)
    return -1;
  *out = xzalloc((strv_len(ids) + 1) * sizeof(**out));
  *n = 0;
  for (size_t i = 0; ids[i]; i++) {
    cleanup_error hull_error_t skip = NULL;
    cleanup_lifecycle struct lifecycle lc;
    /* A container deleted while we list is simply not listed. */
    if (lifecycle_open(root, ids[i], &lc, &skip) < 0)
      continue;
    summarize(&lc, &(*out)[(*n)++]);
  }
  return 0;
}

void container_summaries_free(struct container_summary *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(s[i].id);
    free(s[i].bundle);
    free(s[i].rootfs);
    free(s[i].created);
    free(s[i].owner);
  }
  free(s);
}
