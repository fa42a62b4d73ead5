/* resources.c — "linux.resources": the cgroup limits (devices, memory, cpu,
 * pids, block I/O, hugepages, network, rdma, unified). */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

/* ---- devices --------------------------------------------------------- */

static int parse_device_rule(yajl_val v, const struct jpath *at, void *item,
                             hull_error_t *err) {
  struct spec_device_rule *d = item;
  if (jbool(v, at, "allow", REQUIRED, &d->allow, err) < 0 ||
      jstring(v, at, "type", OPTIONAL, &d->type, err) < 0 ||
      jspec_int(v, at, "major", INT64_MIN, INT64_MAX, &d->major, err) < 0 ||
      jspec_int(v, at, "minor", INT64_MIN, INT64_MAX, &d->minor, err) < 0 ||
      jstring(v, at, "access", OPTIONAL, &d->access, err) < 0)
    return -1;
  /* config-linux.md: type is a (all), c (char) or b (block); access is a
   * composition of r, w and m. */
  if (d->type != NULL &&
      (strlen(d->type) != 1 || strchr("acb", d->type[0]) == NULL))
    return jerr(JKEY(at, "type"), err, "unknown device type \"%s\"",
                d->type);
  if (d->access != NULL && strspn(d->access, "rwm") != strlen(d->access))
    return jerr(JKEY(at, "access"), err,
                "invalid access \"%s\" (expected letters of \"rwm\")",
                d->access);
  return 0;
}

/* ---- memory, cpu, pids ------------------------------------------------ */

static int parse_memory(yajl_val res, const struct jpath *up,
                        struct spec_resources *r, hull_error_t *err) {
  yajl_val v;
  int present = jobject(res, up, "memory", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  const struct jpath *at = JKEY(up, "memory");
  __typeof__(r->memory) *m = &r->memory;
  m->present = true;
  if (jspec_int(v, at, "limit", INT64_MIN, INT64_MAX, &m->limit, err) < 0 ||
      jspec_int(v, at, "reservation", INT64_MIN, INT64_MAX, &m->reservation,
                err) < 0 ||
      jspec_int(v, at, "swap", INT64_MIN, INT64_MAX, &m->swap, err) < 0 ||
      jspec_int(v, at, "kernel", INT64_MIN, INT64_MAX, &m->kernel, err) < 0 ||
      jspec_int(v, at, "kernelTCP", INT64_MIN, INT64_MAX, &m->kernel_tcp,
                err) < 0 ||
      jspec_uint(v, at, "swappiness", UINT64_MAX, &m->swappiness, err) < 0 ||
      jspec_bool(v, at, "disableOOMKiller", &m->disable_oom_killer, err) <
          0 ||
      jspec_bool(v, at, "useHierarchy", &m->use_hierarchy, err) < 0 ||
      jspec_bool(v, at, "checkBeforeUpdate", &m->check_before_update, err) <
          0)
    return -1;
  return 0;
}

static int parse_cpu(yajl_val res, const struct jpath *up,
                     struct spec_resources *r, hull_error_t *err) {
  yajl_val v;
  int present = jobject(res, up, "cpu", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  const struct jpath *at = JKEY(up, "cpu");
  __typeof__(r->cpu) *c = &r->cpu;
  c->present = true;
  if (jspec_uint(v, at, "shares", UINT64_MAX, &c->shares, err) < 0 ||
      jspec_int(v, at, "quota", INT64_MIN, INT64_MAX, &c->quota, err) < 0 ||
      jspec_uint(v, at, "burst", UINT64_MAX, &c->burst, err) < 0 ||
      jspec_uint(v, at, "period", UINT64_MAX, &c->period, err) < 0 ||
      jspec_int(v, at, "realtimeRuntime", INT64_MIN, INT64_MAX,
                &c->realtime_runtime, err) < 0 ||
      jspec_uint(v, at, "realtimePeriod", UINT64_MAX, &c->realtime_period,
                 err) < 0 ||
      jstring(v, at, "cpus", OPTIONAL, &c->cpus, err) < 0 ||
      jstring(v, at, "mems", OPTIONAL, &c->mems, err) < 0 ||
      jspec_int(v, at, "idle", INT64_MIN, INT64_MAX, &c->idle, err) < 0)
    return -1;
  return 0;
}

static int parse_pids(yajl_val res, const struct jpath *up,
                      struct spec_resources *r, hull_error_t *err) {
  yajl_val v;
  int present = jobject(res, up, "pids", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  if (jint(v, JKEY(up, "pids"), "limit", REQUIRED, INT64_MIN, INT64_MAX,
           &r->pids.limit.v, err) < 0)
    return -1;
  r->pids.present = r->pids.limit.set = true;
  return 0;
}

/* ---- block I/O ----------------------------------------------------------- */

static int parse_weight_device(yajl_val v, const struct jpath *at,
                               void *item, hull_error_t *err) {
  struct spec_block_weight_device *d = item;
  if (jint(v, at, "major", REQUIRED, INT64_MIN, INT64_MAX, &d->major, err) <
          0 ||
      jint(v, at, "minor", REQUIRED, INT64_MIN, INT64_MAX, &d->minor, err) <
          0 ||
      jspec_uint(v, at, "weight", UINT16_MAX, &d->weight, err) < 0 ||
      jspec_uint(v, at, "leafWeight", UINT16_MAX, &d->leaf_weight, err) < 0)
    return -1;
  return 0;
}

static int parse_throttle_device(yajl_val v, const struct jpath *at,
                                 void *item, hull_error_t *err) {
  struct spec_throttle_device *d = item;
  if (jint(v, at, "major", REQUIRED, INT64_MIN, INT64_MAX, &d->major, err) <
          0 ||
      jint(v, at, "minor", REQUIRED, INT64_MIN, INT64_MAX, &d->minor, err) <
          0 ||
      juint(v, at, "rate", OPTIONAL, UINT64_MAX, &d->rate, err) < 0)
    return -1;
  return 0;
}

static int throttle_list(yajl_val v, const struct jpath *at, const char *key,
                         struct spec_throttle_device **items, size_t *n,
                         hull_error_t *err) {
  return jarray(v, at, key, OPTIONAL, sizeof(struct spec_throttle_device),
                parse_throttle_device, items, n, err);
}

static int parse_block_io(yajl_val res, const struct jpath *up,
                          struct spec_resources *r, hull_error_t *err) {
  yajl_val v;
  int present = jobject(res, up, "blockIO", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  const struct jpath *at = JKEY(up, "blockIO");
  __typeof__(r->block_io) *b = &r->block_io;
  b->present = true;
  if (jspec_uint(v, at, "weight", UINT16_MAX, &b->weight, err) < 0 ||
      jspec_uint(v, at, "leafWeight", UINT16_MAX, &b->leaf_weight, err) < 0 ||
      jarray(v, at, "weightDevice", OPTIONAL,
             sizeof(struct spec_block_weight_device), parse_weight_device,
             &b->weight_device, &b->n_weight_device, err) < 0 ||
      throttle_list(v, at, "throttleReadBpsDevice", &b->throttle_read_bps,
                    &b->n_throttle_read_bps, err) < 0 ||
      throttle_list(v, at, "throttleWriteBpsDevice", &b->throttle_write_bps,
                    &b->n_throttle_write_bps, err) < 0 ||
      throttle_list(v, at, "throttleReadIOPSDevice", &b->throttle_read_iops,
                    &b->n_throttle_read_iops, err) < 0 ||
      throttle_list(v, at, "throttleWriteIOPSDevice",
                    &b->throttle_write_iops, &b->n_throttle_write_iops,
                    err) < 0)
    return -1;
  return 0;
}

/* ---- hugepages, network, rdma --------------------------------------------- */

/* The schema's pattern ^[1-9][0-9]*[KMG]B$, e.g. "2MB". */
static bool is_page_size(const char *s) {
  size_t digits = strspn(s, "0123456789");
  return digits > 0 && s[0] != '0' && s[digits] != '\0' &&
         strchr("KMG", s[digits]) != NULL && strcmp(s + digits + 1, "B") == 0;
}

static int parse_hugepage_limit(yajl_val v, const struct jpath *at,
                                void *item, hull_error_t *err) {
  struct spec_hugepage_limit *h = item;
  if (jstring(v, at, "pageSize", REQUIRED, &h->page_size, err) < 0)
    return -1;
  if (!is_page_size(h->page_size))
    return jerr(JKEY(at, "pageSize"), err,
                "invalid page size \"%s\" (expected e.g. \"2MB\")",
                h->page_size);
  return juint(v, at, "limit", REQUIRED, UINT64_MAX, &h->limit, err) < 0 ? -1
                                                                         : 0;
}

static int parse_net_priority(yajl_val v, const struct jpath *at, void *item,
                              hull_error_t *err) {
  struct spec_net_priority *p = item;
  if (jstring(v, at, "name", REQUIRED, &p->name, err) < 0 ||
      juint32(v, at, "priority", REQUIRED, &p->priority, err) < 0)
    return -1;
  return 0;
}

static int parse_network(yajl_val res, const struct jpath *up,
                         struct spec_resources *r, hull_error_t *err) {
  yajl_val v;
  int present = jobject(res, up, "network", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  const struct jpath *at = JKEY(up, "network");
  r->network.present = true;
  if (jspec_uint(v, at, "classID", UINT32_MAX, &r->network.class_id, err) <
          0 ||
      jarray(v, at, "priorities", OPTIONAL, sizeof(struct spec_net_priority),
             parse_net_priority, &r->network.priorities,
             &r->network.n_priorities, err) < 0)
    return -1;
  return 0;
}

static int parse_rdma(const char *name, yajl_val v, const struct jpath *at,
                      void *item, hull_error_t *err) {
  struct spec_rdma *rd = item;
  rd->device = xstrdup(name);
  if (jspec_uint(v, at, "hcaHandles", UINT32_MAX, &rd->hca_handles, err) <
          0 ||
      jspec_uint(v, at, "hcaObjects", UINT32_MAX, &rd->hca_objects, err) < 0)
    return -1;
  return 0;
}

/* ---- the section ---------------------------------------------------------- */

int spec_parse_resources(yajl_val parent, const struct jpath *up,
                         struct spec_resources **out, hull_error_t *err) {
  yajl_val v;
  int present = jobject(parent, up, "resources", OPTIONAL, &v, err);
  if (present <= 0)
    return present;
  const struct jpath *at = JKEY(up, "resources");
  struct spec_resources *r = *out = xzalloc(sizeof(*r));
  if (jarray(v, at, "devices", OPTIONAL, sizeof(struct spec_device_rule),
             parse_device_rule, &r->devices, &r->n_devices, err) < 0 ||
      parse_memory(v, at, r, err) < 0 || parse_cpu(v, at, r, err) < 0 ||
      parse_pids(v, at, r, err) < 0 || parse_block_io(v, at, r, err) < 0 ||
      jarray(v, at, "hugepageLimits", OPTIONAL,
             sizeof(struct spec_hugepage_limit), parse_hugepage_limit,
             &r->hugepage_limits, &r->n_hugepage_limits, err) < 0 ||
      parse_network(v, at, r, err) < 0 ||
      jobject_map(v, at, "rdma", sizeof(struct spec_rdma), parse_rdma,
                  &r->rdma, &r->n_rdma, err) < 0 ||
      jmap(v, at, "unified", &r->unified, err) < 0)
    return -1;
  return 0;
}

void spec_resources_free(struct spec_resources *r) {
  if (r == NULL)
    return;
  for (size_t i = 0; i < r->n_devices; i++) {
    free(r->devices[i].type);
    free(r->devices[i].access);
  }
  free(r->devices);
  free(r->cpu.cpus);
  free(r->cpu.mems);
  free(r->block_io.weight_device);
  free(r->block_io.throttle_read_bps);
  free(r->block_io.throttle_write_bps);
  free(r->block_io.throttle_read_iops);
  free(r->block_io.throttle_write_iops);
  for (size_t i = 0; i < r->n_hugepage_limits; i++)
    free(r->hugepage_limits[i].page_size);
  free(r->hugepage_limits);
  for (size_t i = 0; i < r->network.n_priorities; i++)
    free(r->network.priorities[i].name);
  free(r->network.priorities);
  for (size_t i = 0; i < r->n_rdma; i++)
    free(r->rdma[i].device);
  free(r->rdma);
  spec_map_free(&r->unified);
  free(r);
}
