/* convert.c — values that change meaning between cgroup v1 and v2: cpu
 * shares to cpu.weight, blkio weight to io.weight, and memory+swap to
 * memory.swap.max. Pure functions, unit tested.
 *
 * hull links no libm, so the few logarithms the shares formula needs are
 * computed here (ln by the atanh series: exact enough for a value that is
 * rounded up to an integer in [1, 10000]). */
#include "cgroups/internal.h"

#define LN2 0.693147180559945309417232121458
#define LN10 2.302585092994045684017968

/* x = m * 2^k with m in [1, 2); ln(m) = 2 atanh(s), s = (m-1)/(m+1) <= 1/3,
 * so forty terms are far below double precision. Exact (k) for powers of
 * two, which keeps shares=1024 -> weight=100 exact. */
static double log2_of(double x) {
  int k = 0;
  while (x >= 2) {
    x /= 2;
    k++;
  }
  while (x < 1) {
    x *= 2;
    k--;
  }
  double s = (x - 1) / (x + 1), s2 = s * s, term = s, sum = 0;
  for (int n = 1; n < 80; n += 2) {
    sum += term / n;
    term *= s2;
  }
  return k + 2 * sum / LN2;
}

static double log10_of(double x) { return log2_of(x) * LN2 / LN10; }

/* The quadratic-in-log2 mapping of runc >= 1.3.2 (opencontainers/cgroups
 * ConvertCPUSharesToCgroupV2Value, runc PR #4785) and crun >= 1.23
 * (convert_shares_to_weight), which maps min, default and max onto each
 * other: 2 -> 1, 1024 -> 100, 262144 -> 10000 (the old linear formula
 * 1 + (shares-2)*9999/262142 mapped the default 1024 to 39):
 *   l = log2(shares); weight = ceil(10^((l^2 + 125 l) / 612 - 7/34))
 * The ceiling is taken as the smallest weight whose log10 reaches the
 * exponent (within 1e-12, so exact powers of ten are not pushed up by the
 * last bit of rounding). */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares) {
  if (shares == 0)
    return 0;
  if (shares <= 2)
    return 1;
  if (shares >= 262144)
    return 10000;
  double l = log2_of((double)shares);
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  uint64_t lo = 1, hi = 10000;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (log10_of((double)mid) >= exponent - 1e-12)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* runc's ConvertBlkIOToIOWeightValue: [10, 1000] onto [1, 10000]. */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t weight) {
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + (weight - 10) * 9999 / 990;
}

/* As runc's ConvertMemorySwapToCgroupV2Value plus its caller: the OCI swap
 * value is memory+swap (v1's memsw), v2's memory.swap.max is swap alone. */
int cgroup_swap_to_v2(int64_t swap, int64_t limit, bool *write, int64_t *out,
                      hull_error_t *err) {
  *write = false;
  *out = 0;
  if (limit == -1 && swap == 0) {
    /* Unlimited memory without a swap value: unlimited swap too, as v1. */
    *write = true;
    *out = -1;
    return 0;
  }
  if (swap == 0)
    return 0;
  if (swap == -1) {
    *write = true;
    *out = -1;
    return 0;
  }
  if (limit == 0 || limit == -1)
    return hull_error(err, 0, "linux.resources.memory.swap: a swap limit "
                      "needs a memory limit");
  if (limit < 0 || swap < 0)
    return hull_error(err, 0, "linux.resources.memory: invalid limit %lld "
                      "or swap %lld", (long long)limit, (long long)swap);
  if (swap < limit)
    return hull_error(err, 0, "linux.resources.memory.swap: %lld is below "
                      "memory.limit %lld (swap counts memory+swap)",
                      (long long)swap, (long long)limit);
  *write = true;
  *out = swap - limit;
  return 0;
}
