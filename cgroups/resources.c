/* resources.c — linux.resources until the managers can apply them: every
 * set field is refused by name, so no limit is ever silently ignored. */
#include "cgroups/internal.h"

#define FIELD(cond, name)                                                    \
  do {                                                                       \
    if (cond)                                                                \
      return "linux.resources." name;                                        \
  } while (0)

static const char *memory_first_set(const struct spec_resources *r) {
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

static const char *cpu_first_set(const struct spec_resources *r) {
  FIELD(r->cpu.shares.set, "cpu.shares");
  FIELD(r->cpu.quota.set, "cpu.quota");
  FIELD(r->cpu.burst.set, "cpu.burst");
  FIELD(r->cpu.period.set, "cpu.period");
  FIELD(r->cpu.realtime_runtime.set, "cpu.realtimeRuntime");
  FIELD(r->cpu.realtime_period.set, "cpu.realtimePeriod");
  FIELD(r->cpu.cpus != NULL, "cpu.cpus");
  FIELD(r->cpu.mems != NULL, "cpu.mems");
  FIELD(r->cpu.idle.set, "cpu.idle");
  return NULL;
}

static const char *block_io_first_set(const struct spec_resources *r) {
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

const char *cgroup_resources_first_set(const struct spec_resources *r) {
  if (r == NULL)
    return NULL;
  const char *f;
  if ((f = memory_first_set(r)) || (f = cpu_first_set(r)))
    return f;
  FIELD(r->pids.limit.set, "pids.limit");
  if ((f = block_io_first_set(r)))
    return f;
  FIELD(r->n_hugepage_limits > 0, "hugepageLimits");
  FIELD(r->network.class_id.set, "network.classID");
  FIELD(r->network.n_priorities > 0, "network.priorities");
  FIELD(r->n_rdma > 0, "rdma");
  FIELD(r->unified.len > 0, "unified");
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
  return hull_error(err, 0, "%s: cgroup resources are not implemented yet",
                    field);
}
