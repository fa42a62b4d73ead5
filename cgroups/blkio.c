/* blkio.c — linux.resources.blockIO: v1's blkio controller (CFQ weights
 * or, on newer kernels, BFQ's) and v2's io controller. */
#include "cgroups/internal.h"

#include <string.h>

/* CFQ's weight file, or on kernels without CFQ (5.0+) BFQ's; NULL with an
 * error naming the field when the host has neither (no CFQ or BFQ I/O
 * scheduler: blkio offers only throttling then). */
static const char *v1_weight_file(const char *dir, bool per_device,
                                  hull_error_t *err) {
  const char *cfq = per_device ? "blkio.weight_device" : "blkio.weight";
  const char *bfq = per_device ? "blkio.bfq.weight_device" : "blkio.bfq.weight";
  if (cgroup_fs_has(dir, cfq))
    return cfq;
  if (cgroup_fs_has(dir, bfq))
    return bfq;
  hull_error(err, 0,
             "linux.resources.blockIO.%s: not supported by this host's blkio "
             "controller (no %s or %s: needs the CFQ or BFQ I/O scheduler)",
             per_device ? "weightDevice" : "weight", cfq, bfq);
  return NULL;
}

struct throttle {
  const char *field, *v1_file, *v2_key;
  const struct spec_throttle_device *items;
  size_t n;
};

static void throttles_of(const struct spec_resources *r, struct throttle t[4]) {
  const __typeof__(r->block_io) *b = &r->block_io;
  t[0] = (struct throttle){"blockIO.throttleReadBpsDevice",
                           "blkio.throttle.read_bps_device", "rbps",
                           b->throttle_read_bps, b->n_throttle_read_bps};
  t[1] = (struct throttle){"blockIO.throttleWriteBpsDevice",
                           "blkio.throttle.write_bps_device", "wbps",
                           b->throttle_write_bps, b->n_throttle_write_bps};
  t[2] = (struct throttle){"blockIO.throttleReadIOPSDevice",
                           "blkio.throttle.read_iops_device", "riops",
                           b->throttle_read_iops, b->n_throttle_read_iops};
  t[3] = (struct throttle){"blockIO.throttleWriteIOPSDevice",
                           "blkio.throttle.write_iops_device", "wiops",
                           b->throttle_write_iops, b->n_throttle_write_iops};
}

static int write_device_value(const char *dir, const char *file, int64_t major,
                              int64_t minor, uint64_t v, const char *field,
                              hull_error_t *err) {
  cleanup_free char *line = xasprintf("%lld:%lld %llu", (long long)major,
                                      (long long)minor, (unsigned long long)v);
  return cgroup_fs_write(dir, file, line, field, err);
}

static int v1_weights(const char *dir, const struct spec_resources *r,
                      hull_error_t *err) {
  const __typeof__(r->block_io) *b = &r->block_io;
  if (b->weight.set && b->weight.v != 0) {
    const char *file = v1_weight_file(dir, false, err);
    if (file == NULL ||
        cgroup_fs_write_u64(dir, file, b->weight.v, "blockIO.weight", err) < 0)
      return -1;
  }
  if (b->leaf_weight.set && b->leaf_weight.v != 0 &&
      cgroup_fs_write_u64(dir, "blkio.leaf_weight", b->leaf_weight.v,
                          "blockIO.leafWeight", err) < 0)
    return -1;
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct spec_block_weight_device *d = &b->weight_device[i];
    if (d->weight.set) {
      const char *file = v1_weight_file(dir, true, err);
      if (file == NULL ||
          write_device_value(dir, file, d->major, d->minor, d->weight.v,
                             "blockIO.weightDevice", err) < 0)
        return -1;
    }
    if (d->leaf_weight.set &&
        write_device_value(dir, "blkio.leaf_weight_device", d->major,
                           d->minor, d->leaf_weight.v, "blockIO.weightDevice",
                           err) < 0)
      return -1;
  }
  return 0;
}

int cgroup_v1_set_blkio(const char *dir, const struct spec_resources *r,
                        hull_error_t *err) {
  if (v1_weights(dir, r, err) < 0)
    return -1;
  struct throttle t[4];
  throttles_of(r, t);
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < t[k].n; i++)
      if (write_device_value(dir, t[k].v1_file, t[k].items[i].major,
                             t[k].items[i].minor, t[k].items[i].rate,
                             t[k].field, err) < 0)
        return -1;
  return 0;
}

/* BFQ takes the blkio weight as is (its range is v1's); io.weight gets it
 * converted to [1, 10000], per device as "MAJ:MIN W". */
static int v2_weights(const char *dir, const struct spec_resources *r,
                      hull_error_t *err) {
  const __typeof__(r->block_io) *b = &r->block_io;
  bool bfq = cgroup_fs_has(dir, "io.bfq.weight");
  if (b->weight.set && b->weight.v != 0) {
    uint64_t w = bfq ? b->weight.v
                     : cgroup_blkio_weight_to_io_weight(b->weight.v);
    if (cgroup_fs_write_u64(dir, bfq ? "io.bfq.weight" : "io.weight", w,
                            "blockIO.weight", err) < 0)
      return -1;
  }
  if (b->leaf_weight.set)
    log_debug("linux.resources.blockIO.leafWeight: no leaf weight on cgroup "
              "v2; ignored");
  for (size_t i = 0; i < b->n_weight_device; i++) {
    const struct spec_block_weight_device *d = &b->weight_device[i];
    if (!d->weight.set)
      continue;
    uint64_t w = bfq ? d->weight.v
                     : cgroup_blkio_weight_to_io_weight(d->weight.v);
    if (write_device_value(dir, bfq ? "io.bfq.weight" : "io.weight", d->major,
                           d->minor, w, "blockIO.weightDevice", err) < 0)
      return -1;
  }
  return 0;
}

/* One io.max line per device with every limit it has: "8:0 rbps=1048576
 * wiops=100". A rate of 0 removes a v1 limit; v2 spells that "max". */
static char *io_max_line(const struct throttle t[4], int64_t major,
                         int64_t minor) {
  char *line = xasprintf("%lld:%lld", (long long)major, (long long)minor);
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < t[k].n; i++) {
      const struct spec_throttle_device *d = &t[k].items[i];
      if (d->major != major || d->minor != minor)
        continue;
      cleanup_free char *old = line;
      line = d->rate == 0 ? xasprintf("%s %s=max", old, t[k].v2_key)
                          : xasprintf("%s %s=%llu", old, t[k].v2_key,
                                      (unsigned long long)d->rate);
    }
  return line;
}

static bool seen_before(const struct throttle t[4], size_t k, size_t i) {
  const struct spec_throttle_device *d = &t[k].items[i];
  for (size_t kk = 0; kk <= k; kk++)
    for (size_t ii = 0; ii < (kk == k ? i : t[kk].n); ii++)
      if (t[kk].items[ii].major == d->major &&
          t[kk].items[ii].minor == d->minor)
        return true;
  return false;
}

int cgroup_v2_set_io(const char *dir, const struct spec_resources *r,
                     hull_error_t *err) {
  if (v2_weights(dir, r, err) < 0)
    return -1;
  struct throttle t[4];
  throttles_of(r, t);
  for (size_t k = 0; k < 4; k++)
    for (size_t i = 0; i < t[k].n; i++) {
      if (seen_before(t, k, i))
        continue;
      cleanup_free char *line =
          io_max_line(t, t[k].items[i].major, t[k].items[i].minor);
      if (cgroup_fs_write(dir, "io.max", line, t[k].field, err) < 0)
        return -1;
    }
  return 0;
}
