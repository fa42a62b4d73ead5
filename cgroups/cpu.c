/* cpu.c — linux.resources.cpu: the cpu controller (shares or weight,
 * CFS quota, period and burst, realtime budget, idle) and cpuset (cpus,
 * mems), on v1 and v2. Write orders follow runc's, which works around the
 * kernel's checks against the parent's and the current values. */
#include "cgroups/internal.h"

#include <errno.h>

/* A period or burst write can fail with EINVAL while the old quota still
 * applies; when a quota follows, runc retries after it. Returns 1 when the
 * value must be written again after the quota. */
static int write_before_quota(const char *dir, const char *file, uint64_t v,
                              const char *field, bool quota_follows,
                              hull_error_t *err) {
  if (cgroup_fs_write_u64(dir, file, v, field, err) == 0)
    return 0;
  if ((*err)->errno_value != EINVAL || !quota_follows)
    return -1;
  hull_error_release(err);
  return 1;
}

static int v1_cfs(const char *dir, const struct spec_resources *r,
                  hull_error_t *err) {
  bool quota = r->cpu.quota.set && r->cpu.quota.v != 0;
  int period_again = 0, burst_again = 0;
  if (r->cpu.period.set && r->cpu.period.v != 0 &&
      (period_again = write_before_quota(dir, "cpu.cfs_period_us",
                                         r->cpu.period.v, "cpu.period", quota,
                                         err)) < 0)
    return -1;
  if (r->cpu.burst.set &&
      (burst_again = write_before_quota(dir, "cpu.cfs_burst_us",
                                        r->cpu.burst.v, "cpu.burst", quota,
                                        err)) < 0)
    return -1;
  if (!quota)
    return 0;
  if (cgroup_fs_write_i64(dir, "cpu.cfs_quota_us", r->cpu.quota.v,
                          "cpu.quota", err) < 0)
    return -1;
  if (period_again && cgroup_fs_write_u64(dir, "cpu.cfs_period_us",
                                          r->cpu.period.v, "cpu.period",
                                          err) < 0)
    return -1;
  if (burst_again && cgroup_fs_write_u64(dir, "cpu.cfs_burst_us",
                                         r->cpu.burst.v, "cpu.burst", err) < 0)
    return -1;
  return 0;
}

/* The kernel clamps cpu.shares to [2, 262144] silently; say so instead. */
static int v1_shares(const char *dir, uint64_t shares, hull_error_t *err) {
  if (cgroup_fs_write_u64(dir, "cpu.shares", shares, "cpu.shares", err) < 0)
    return -1;
  uint64_t got;
  if (cgroup_fs_read_u64(dir, "cpu.shares", &got, err) < 0)
    return hull_error_wrap(err, "linux.resources.cpu.shares");
  if (got != shares)
    return hull_error(err, 0, "linux.resources.cpu.shares: %llu is out of "
                      "range (the kernel made it %llu)",
                      (unsigned long long)shares, (unsigned long long)got);
  return 0;
}

int cgroup_v1_set_cpu(const char *dir, const struct spec_resources *r,
                      hull_error_t *err) {
  if (r->cpu.shares.set && r->cpu.shares.v != 0 &&
      v1_shares(dir, r->cpu.shares.v, err) < 0)
    return -1;
  if (v1_cfs(dir, r, err) < 0)
    return -1;
  /* cpu.idle came with kernel 5.15; without it every cgroup is not idle,
   * so 0 holds already. */
  bool idle_known = r->cpu.idle.v != 0 || cgroup_fs_has(dir, "cpu.idle");
  if (r->cpu.idle.set && idle_known &&
      cgroup_fs_write_i64(dir, "cpu.idle", r->cpu.idle.v, "cpu.idle", err) < 0)
    return -1;
  /* The period first: the runtime is checked against it. */
  if (r->cpu.realtime_period.set && r->cpu.realtime_period.v != 0 &&
      cgroup_fs_write_u64(dir, "cpu.rt_period_us", r->cpu.realtime_period.v,
                          "cpu.realtimePeriod", err) < 0)
    return -1;
  if (r->cpu.realtime_runtime.set && r->cpu.realtime_runtime.v != 0 &&
      cgroup_fs_write_i64(dir, "cpu.rt_runtime_us", r->cpu.realtime_runtime.v,
                          "cpu.realtimeRuntime", err) < 0)
    return -1;
  return 0;
}

/* cpu.max: "<quota> <period>", "max <period>" for no quota; the period is
 * left out when not given (the kernel keeps the current one). */
static char *v2_cpu_max(const struct spec_resources *r) {
  cleanup_free char *quota =
      r->cpu.quota.set && r->cpu.quota.v > 0
          ? xasprintf("%lld", (long long)r->cpu.quota.v)
          : xstrdup("max");
  if (r->cpu.period.set && r->cpu.period.v != 0)
    return xasprintf("%s %llu", quota, (unsigned long long)r->cpu.period.v);
  return take_ptr(quota);
}

static int v2_cpu_bandwidth(const char *dir, const struct spec_resources *r,
                            hull_error_t *err) {
  bool quota = r->cpu.quota.set && r->cpu.quota.v != 0;
  bool max = quota || (r->cpu.period.set && r->cpu.period.v != 0);
  int burst_again = 0;
  if (r->cpu.burst.set &&
      (burst_again = write_before_quota(dir, "cpu.max.burst", r->cpu.burst.v,
                                        "cpu.burst", quota, err)) < 0)
    return -1;
  if (!max)
    return 0;
  cleanup_free char *value = v2_cpu_max(r);
  const char *field = quota ? "cpu.quota" : "cpu.period";
  if (cgroup_fs_write(dir, "cpu.max", value, field, err) < 0)
    return -1;
  if (burst_again && cgroup_fs_write_u64(dir, "cpu.max.burst",
                                         r->cpu.burst.v, "cpu.burst", err) < 0)
    return -1;
  return 0;
}

int cgroup_v2_set_cpu(const char *dir, const struct spec_resources *r,
                      hull_error_t *err) {
  if (r->cpu.realtime_runtime.set || r->cpu.realtime_period.set)
    return hull_error(err, 0, "linux.resources.cpu.%s: cgroup v2 has no "
                      "realtime CPU budget", r->cpu.realtime_runtime.set
                                                 ? "realtimeRuntime"
                                                 : "realtimePeriod");
  bool idle = r->cpu.idle.set && r->cpu.idle.v != 0;
  if (r->cpu.idle.set && cgroup_fs_write_i64(dir, "cpu.idle", r->cpu.idle.v,
                                             "cpu.idle", err) < 0)
    return -1;
  /* An idle cgroup has the minimum weight; the kernel refuses another. */
  uint64_t weight = cgroup_cpu_shares_to_weight(
      r->cpu.shares.set ? r->cpu.shares.v : 0);
  if (weight != 0 && idle)
    log_debug("linux.resources.cpu.shares: ignored for an idle cgroup");
  else if (weight != 0 && cgroup_fs_write_u64(dir, "cpu.weight", weight,
                                              "cpu.shares", err) < 0)
    return -1;
  return v2_cpu_bandwidth(dir, r, err);
}

/* The same files on v1 and v2. */
int cgroup_set_cpuset(const char *dir, const struct spec_resources *r,
                      hull_error_t *err) {
  if (r->cpu.cpus && *r->cpu.cpus &&
      cgroup_fs_write(dir, "cpuset.cpus", r->cpu.cpus, "cpu.cpus", err) < 0)
    return -1;
  if (r->cpu.mems && *r->cpu.mems &&
      cgroup_fs_write(dir, "cpuset.mems", r->cpu.mems, "cpu.mems", err) < 0)
    return -1;
  return 0;
}
