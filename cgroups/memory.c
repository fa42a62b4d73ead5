/* memory.c — linux.resources.memory on v1 (memory controller) and v2.
 * Unset values are 0, as in runc; -1 means unlimited. */
#include "cgroups/internal.h"

#define V1_LIMIT "memory.limit_in_bytes"
#define V1_MEMSW "memory.memsw.limit_in_bytes"

static int64_t value_or_zero(struct spec_int v) { return v.set ? v.v : 0; }

/* Kernel memory limits were deprecated with kernel 5.4 and dropped from
 * runc 1.2, which ignores them; so does hull. */
static void ignore_kernel_limits(const struct spec_resources *r) {
  if (r->memory.kernel.set)
    log_debug("linux.resources.memory.kernel is deprecated; ignored");
  if (r->memory.kernel_tcp.set)
    log_debug("linux.resources.memory.kernelTCP is deprecated; ignored");
}

/* checkBeforeUpdate: a limit below what the cgroup already uses would make
 * the kernel reclaim or OOM-kill at once; refuse it instead (runc does this
 * on v2; v1 kernels fail such a write with EBUSY anyway). */
static int check_usage(const char *dir, const char *usage_file, int64_t limit,
                       hull_error_t *err) {
  uint64_t usage;
  if (cgroup_fs_read_u64(dir, usage_file, &usage, err) < 0)
    return hull_error_wrap(err, "linux.resources.memory.checkBeforeUpdate");
  if ((uint64_t)limit < usage)
    return hull_error(err, 0, "linux.resources.memory.limit: %lld is below "
                      "the current usage %llu of %s", (long long)limit,
                      (unsigned long long)usage, dir);
  return 0;
}

static int v1_limit_and_swap(const char *dir, int64_t limit, int64_t swap,
                             hull_error_t *err) {
  /* Unlimited memory with no swap value means unlimited memory+swap too,
   * when the kernel accounts swap at all. */
  if (limit == -1 && swap == 0 && cgroup_fs_has(dir, V1_MEMSW))
    swap = -1;
  /* The kernel keeps limit <= memsw at every step, so when the new memsw
   * is above the current limit it must go first. */
  bool swap_first = false;
  if (limit != 0 && swap != 0) {
    uint64_t current;
    if (cgroup_fs_read_u64(dir, V1_LIMIT, &current, err) < 0)
      return hull_error_wrap(err, "linux.resources.memory.limit");
    swap_first = swap == -1 || current < (uint64_t)swap;
  }
  if (swap_first && cgroup_fs_write_i64(dir, V1_MEMSW, swap, "memory.swap",
                                        err) < 0)
    return -1;
  if (limit != 0 &&
      cgroup_fs_write_i64(dir, V1_LIMIT, limit, "memory.limit", err) < 0)
    return -1;
  if (!swap_first && swap != 0 &&
      cgroup_fs_write_i64(dir, V1_MEMSW, swap, "memory.swap", err) < 0)
    return -1;
  return 0;
}

int cgroup_v1_set_memory(const char *dir, const struct spec_resources *r,
                         hull_error_t *err) {
  int64_t limit = value_or_zero(r->memory.limit);
  int64_t swap = value_or_zero(r->memory.swap);
  ignore_kernel_limits(r);
  if (r->memory.check_before_update.v && limit > 0 &&
      check_usage(dir, "memory.usage_in_bytes", limit, err) < 0)
    return -1;
  if (v1_limit_and_swap(dir, limit, swap, err) < 0)
    return -1;
  if (r->memory.reservation.set &&
      cgroup_fs_write_i64(dir, "memory.soft_limit_in_bytes",
                          r->memory.reservation.v, "memory.reservation",
                          err) < 0)
    return -1;
  if (r->memory.swappiness.set) {
    if (r->memory.swappiness.v > 100)
      return hull_error(err, 0, "linux.resources.memory.swappiness: %llu is "
                        "not in 0-100",
                        (unsigned long long)r->memory.swappiness.v);
    if (cgroup_fs_write_u64(dir, "memory.swappiness", r->memory.swappiness.v,
                            "memory.swappiness", err) < 0)
      return -1;
  }
  if (r->memory.disable_oom_killer.v &&
      cgroup_fs_write(dir, "memory.oom_control", "1",
                      "memory.disableOOMKiller", err) < 0)
    return -1;
  if (r->memory.use_hierarchy.set &&
      cgroup_fs_write(dir, "memory.use_hierarchy",
                      r->memory.use_hierarchy.v ? "1" : "0",
                      "memory.useHierarchy", err) < 0)
    return -1;
  return 0;
}

/* v2 spells unlimited "max". */
static int write_v2_bytes(const char *dir, const char *file, int64_t v,
                          const char *field, hull_error_t *err) {
  if (v < 0)
    return cgroup_fs_write(dir, file, "max", field, err);
  return cgroup_fs_write_i64(dir, file, v, field, err);
}

static int v2_swap(const char *dir, int64_t limit, int64_t swap,
                   hull_error_t *err) {
  bool write;
  int64_t value;
  if (cgroup_swap_to_v2(swap, limit, &write, &value, err) < 0)
    return -1;
  if (!write)
    return 0;
  /* Without swap accounting there is no memory.swap.max; "no swap" and
   * "unlimited swap" then hold already (runc ignores them the same way). */
  if ((value == -1 || value == 0) && !cgroup_fs_has(dir, "memory.swap.max"))
    return 0;
  return write_v2_bytes(dir, "memory.swap.max", value, "memory.swap", err);
}

int cgroup_v2_set_memory(const char *dir, const struct spec_resources *r,
                         hull_error_t *err) {
  int64_t limit = value_or_zero(r->memory.limit);
  int64_t swap = value_or_zero(r->memory.swap);
  if (r->memory.disable_oom_killer.v)
    return hull_error(err, 0, "linux.resources.memory.disableOOMKiller: "
                      "cgroup v2 has no OOM killer switch");
  ignore_kernel_limits(r);
  if (r->memory.swappiness.set)
    log_debug("linux.resources.memory.swappiness: no per-cgroup swappiness "
              "on cgroup v2; ignored");
  if (r->memory.use_hierarchy.set && !r->memory.use_hierarchy.v)
    log_debug("linux.resources.memory.useHierarchy: cgroup v2 is always "
              "hierarchical; ignored");
  if (r->memory.check_before_update.v && limit > 0 &&
      check_usage(dir, "memory.current", limit, err) < 0)
    return -1;
  if (v2_swap(dir, limit, swap, err) < 0)
    return -1;
  if (limit != 0 &&
      write_v2_bytes(dir, "memory.max", limit, "memory.limit", err) < 0)
    return -1;
  if (r->memory.reservation.set &&
      r->memory.reservation.v != 0 &&
      write_v2_bytes(dir, "memory.low", r->memory.reservation.v,
                     "memory.reservation", err) < 0)
    return -1;
  return 0;
}
