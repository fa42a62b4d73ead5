/* resources.c — which parts of linux.resources a config sets, one
 * predicate per controller. The managers apply a controller only when its
 * predicate names a field, and the disabled manager refuses any set field
 * by name, so no limit is ever silently dropped. */
#include "cgroups/internal.h"

#define FIELD(cond, name)                                                    \
  do {                                                                       \
    if (cond)                                                                \
      return "linux.resources." name;                                        \
  } while (0)

const char *cgroup_memory_first_set(const struct spec_resources *r) {
  FIELD(r->memory.limit.set, "memory.limit");
  FIELD(r->memory.reservation.set, "memory.reservation");
  FIELD(r->memory.swap.set, "memory.swap");
  FIELD(r->memory.kernel.set, "memory.kernel");
  FIELD(r->memory.kernel_tcp.set, "memory.kernelTCP");
  FIELD(r->memory.swappiness.set, "memory.swappiness");
  FIELD(r->memory.disable_oom_killer.set, "memory.disableOOMKiller");
  FIELD(r->memory.use_hierarchy.set, "memory.useHierarchy");
  FIELD(r->memory.check_before_update.set, "memory.checkBeforeUpdate");
  return NULL;
}

const char *cgroup_cpu_first_set(const struct spec_resources *r) {
  FIELD(r->cpu.shares.set, "cpu.shares");
  FIELD(r->cpu.quota.set, "cpu.quota");
  FIELD(r->cpu.burst.set, "cpu.burst");
  FIELD(r->cpu.period.set, "cpu.period");
  FIELD(r->cpu.realtime_runtime.set, "cpu.realtimeRuntime");
  FIELD(r->cpu.realtime_period.set, "cpu.realtimePeriod");
  FIELD(r->cpu.idle.set, "cpu.idle");
  return NULL;
}

const char *cgroup_cpuset_first_set(const struct spec_resources *r) {
  FIELD(r->cpu.cpus && *r->cpu.cpus, "cpu.cpus");
  FIELD(r->cpu.mems && *r->cpu.mems, "cpu.mems");
  return NULL;
}

const char *cgroup_pids_first_set(const struct spec_resources *r) {
  FIELD(r->pids.limit.set, "pids.limit");
  return NULL;
}

const char *cgroup_blkio_first_set(const struct spec_resources *r) {
  FIELD(r->block_io.weight.set, "blockIO.weight");
  FIELD(r->block_io.leaf_weight.set, "blockIO.leafWeight");
  FIELD(r->block_io.n_weight_device > 0, "blockIO.weightDevice");
  FIELD(r->block_io.n_throttle_read_bps > 0, "blockIO.throttleReadBpsDevice");
  FIELD(r->block_io.n_throttle_write_bps > 0,
        "blockIO.throttleWriteBpsDevice");
  FIELD(r->block_io.n_throttle_read_iops > 0,
        "blockIO.throttleReadIOPSDevice");
  FIELD(r->block_io.n_throttle_write_iops > 0,
        "blockIO.throttleWriteIOPSDevice");
  return NULL;
}

const char *cgroup_hugetlb_first_set(const struct spec_resources *r) {
  FIELD(r->n_hugepage_limits > 0, "hugepageLimits");
  return NULL;
}

const char *cgroup_net_cls_first_set(const struct spec_resources *r) {
  FIELD(r->network.class_id.set, "network.classID");
  return NULL;
}

const char *cgroup_net_prio_first_set(const struct spec_resources *r) {
  FIELD(r->network.n_priorities > 0, "network.priorities");
  return NULL;
}

const char *cgroup_rdma_first_set(const struct spec_resources *r) {
  FIELD(r->n_rdma > 0, "rdma");
  return NULL;
}

const char *cgroup_unified_first_set(const struct spec_resources *r) {
  FIELD(r->unified.len > 0, "unified");
  return NULL;
}

const char *cgroup_resources_first_set(const struct spec_resources *r) {
  if (r == NULL)
    return NULL;
  const char *(*const all[])(const struct spec_resources *) = {
      cgroup_memory_first_set,  cgroup_cpu_first_set,
      cgroup_cpuset_first_set,  cgroup_pids_first_set,
      cgroup_blkio_first_set,   cgroup_hugetlb_first_set,
      cgroup_net_cls_first_set, cgroup_net_prio_first_set,
      cgroup_rdma_first_set,    cgroup_unified_first_set,
  };
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    const char *f = all[i](r);
    if (f)
      return f;
  }
  return NULL;
}

int cgroup_apply_unsupported(struct cgroup *cg, const struct spec_linux *l,
                             hull_error_t *err) {
  const struct spec_resources *res = l ? l->resources : NULL;
  const char *field = res && res->n_devices > 0
                          ? "linux.resources.devices"
                          : cgroup_resources_first_set(res);
  if (field == NULL)
    return 0;
  return hull_error(err, 0, "%s: no cgroup manager on this host to apply it",
                    field);
}
