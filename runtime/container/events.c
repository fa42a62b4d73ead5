/* events.c — `events`: a container's usage counters and OOM kills as JSON
 * lines, in runc's shape (its types.Event and types.Stats: omitted-when-zero
 * fields are omitted the same way, so engines decode them alike). */
#include "lifecycle.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the JSON ------------------------------------------------------------ */

static void gen_key(yajl_gen g, const char *key) { json_gen_string(g, key); }

/* Every uint64 fits, "max" limits (UINT64_MAX) included. */
static void gen_u64(yajl_gen g, uint64_t v) {
  char buf[24];
  int len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
  yajl_gen_number(g, buf, (size_t)len);
}

static void gen_field(yajl_gen g, const char *key, uint64_t v) {
  gen_key(g, key);
  gen_u64(g, v);
}

/* Go's `json:",omitempty"`. */
static void gen_field_nonzero(yajl_gen g, const char *key, uint64_t v) {
  if (v != 0)
    gen_field(g, key, v);
}

static void gen_u64_array(yajl_gen g, const char *key, const uint64_t *v,
                          size_t n) {
  if (n == 0)
    return;                  /* omitempty */
  gen_key(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_u64(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_u16_array(yajl_gen g, const char *key, const uint16_t *v,
                          size_t n) {
  if (n == 0)
    return;
  gen_key(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    gen_u64(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_cpuset(yajl_gen g, const struct cgroup_stats *s) {
  const __typeof__(s->cpuset) *c = &s->cpuset;
  gen_key(g, "cpuset");
  yajl_gen_map_open(g);
  gen_u16_array(g, "cpus", c->cpus, c->n_cpus);
  gen_field(g, "cpu_exclusive", c->cpu_exclusive);
  gen_u16_array(g, "mems", c->mems, c->n_mems);
  gen_field(g, "mem_hardwall", c->mem_hardwall);
  gen_field(g, "mem_exclusive", c->mem_exclusive);
  gen_field(g, "memory_migrate", c->memory_migrate);
  gen_field(g, "memory_spread_page", c->memory_spread_page);
  gen_field(g, "memory_spread_slab", c->memory_spread_slab);
  gen_field(g, "memory_pressure", c->memory_pressure);
  gen_field(g, "sched_load_balance", c->sched_load_balance);
  gen_key(g, "sched_relax_domain_level");
  yajl_gen_integer(g, c->sched_relax_domain_level);
  yajl_gen_map_close(g);
}

static void gen_cpu(yajl_gen g, const struct cgroup_stats *s) {
  gen_key(g, "cpu");
  yajl_gen_map_open(g);
  gen_key(g, "usage");
  yajl_gen_map_open(g);
  gen_field_nonzero(g, "total", s->cpu.total);
  gen_u64_array(g, "percpu", s->cpu.percpu, s->cpu.n_percpu);
  gen_u64_array(g, "percpu_kernel", s->cpu.percpu_kernel,
                s->cpu.n_percpu_kernel);
  gen_u64_array(g, "percpu_user", s->cpu.percpu_user, s->cpu.n_percpu_user);
  gen_field(g, "kernel", s->cpu.kernel);
  gen_field(g, "user", s->cpu.user);
  yajl_gen_map_close(g);
  gen_key(g, "throttling");
  yajl_gen_map_open(g);
  gen_field_nonzero(g, "periods", s->cpu.periods);
  gen_field_nonzero(g, "throttledPeriods", s->cpu.throttled_periods);
  gen_field_nonzero(g, "throttledTime", s->cpu.throttled_time);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
}

static void gen_memory_entry(yajl_gen g, const char *key,
                             const struct cgroup_memory_entry *e) {
  gen_key(g, key);
  yajl_gen_map_open(g);
  gen_field(g, "limit", e->limit);
  gen_field_nonzero(g, "usage", e->usage);
  gen_field_nonzero(g, "max", e->max);
  gen_field(g, "failcnt", e->failcnt);
  yajl_gen_map_close(g);
}

static void gen_memory(yajl_gen g, const struct cgroup_stats *s) {
  gen_key(g, "memory");
  yajl_gen_map_open(g);
  gen_field_nonzero(g, "cache", s->memory.cache);
  gen_memory_entry(g, "usage", &s->memory.usage);
  gen_memory_entry(g, "swap", &s->memory.swap);
  gen_memory_entry(g, "kernel", &s->memory.kernel);
  gen_memory_entry(g, "kernelTCP", &s->memory.kernel_tcp);
  if (s->memory.n_raw > 0) {
    gen_key(g, "raw");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < s->memory.n_raw; i++)
      gen_field(g, s->memory.raw[i].name, s->memory.raw[i].value);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_blkio(yajl_gen g, const struct cgroup_stats *s) {
  static const char *const names[BLKIO_KINDS] = {
      "ioServiceBytesRecursive", "ioServicedRecursive", "ioQueueRecursive",
      "ioServiceTimeRecursive",  "ioWaitTimeRecursive", "ioMergedRecursive",
      "ioTimeRecursive",         "sectorsRecursive"};
  gen_key(g, "blkio");
  yajl_gen_map_open(g);
  for (int k = 0; k < BLKIO_KINDS; k++) {
    const struct cgroup_blkio_list *l = &s->blkio[k];
    if (l->len == 0)
      continue;
    gen_key(g, names[k]);
    yajl_gen_array_open(g);
    for (size_t i = 0; i < l->len; i++) {
      yajl_gen_map_open(g);
      gen_field_nonzero(g, "major", l->items[i].major);
      gen_field_nonzero(g, "minor", l->items[i].minor);
      if (l->items[i].op && *l->items[i].op) {
        gen_key(g, "op");
        json_gen_string(g, l->items[i].op);
      }
      gen_field_nonzero(g, "value", l->items[i].value);
      yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
  }
  yajl_gen_map_close(g);
}

static void gen_hugetlb(yajl_gen g, const struct cgroup_stats *s) {
  gen_key(g, "hugetlb");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < s->n_hugetlb; i++) {
    gen_key(g, s->hugetlb[i].page_size);
    yajl_gen_map_open(g);
    gen_field_nonzero(g, "usage", s->hugetlb[i].usage);
    gen_field_nonzero(g, "max", s->hugetlb[i].max);
    gen_field(g, "failcnt", s->hugetlb[i].failcnt);
    yajl_gen_map_close(g);
  }
  yajl_gen_map_close(g);
}

char *container_stats_json(const char *id, const struct cgroup_stats *s) {
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  gen_key(g, "type");
  json_gen_string(g, "stats");
  gen_key(g, "id");
  json_gen_string(g, id);
  gen_key(g, "data");
  yajl_gen_map_open(g);
  gen_cpu(g, s);
  gen_cpuset(g, s);
  gen_memory(g, s);
  gen_key(g, "pids");
  yajl_gen_map_open(g);
  gen_field_nonzero(g, "current", s->pids.current);
  gen_field_nonzero(g, "limit", s->pids.limit);
  yajl_gen_map_close(g);
  gen_blkio(g, s);
  gen_hugetlb(g, s);
  /* hull has no Intel RDT and reads no interface counters. */
  gen_key(g, "intel_rdt");
  yajl_gen_map_open(g);
  yajl_gen_map_close(g);
  gen_key(g, "network_interfaces");
  yajl_gen_null(g);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  return json_gen_finish(g);
}

static char *oom_json(const char *id) {
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  gen_key(g, "type");
  json_gen_string(g, "oom");
  gen_key(g, "id");
  json_gen_string(g, id);
  yajl_gen_map_close(g);
  return json_gen_finish(g);
}

/* ---- the stream ------------------------------------------------------------ */

struct watched {
  const char *id;
  pid_t pid;
  uint64_t start_time;
  const struct cgroup_manager *manager;
  struct cgroup *cg;
  FILE *out;
};

static int emit(FILE *out, char *line, hull_error_t *err) {
  int ok = fprintf(out, "%s\n", line) >= 0 && fflush(out) == 0;
  free(line);
  return ok ? 0 : hull_error(err, errno, "write events");
}

static int emit_stats(const struct watched *w, hull_error_t *err) {
  struct cgroup_stats s = {0};
  int ret = w->manager->stats(w->cg, &s, err);
  if (ret == 0)
    ret = emit(w->out, container_stats_json(w->id, &s), err);
  cgroup_stats_release(&s);
  return ret;
}

/* How often the stream looks whether the container is still there. */
#define ALIVE_CHECK_MS 100

static int stream(const struct watched *w, long interval_ms,
                  hull_error_t *err) {
  struct cgroup_oom_watch *oom = NULL;
  if (cgroup_oom_watch_open(w->cg, &oom, err) < 0)
    return -1;
  int ret = 0;
  long next_stats = monotonic_ms() + interval_ms;
  while (ret == 0) {
    long wait = next_stats - monotonic_ms();
    struct pollfd p = {.fd = cgroup_oom_watch_fd(oom), .events = POLLIN};
    int n = poll(&p, 1, wait < 0 ? 0 : wait > ALIVE_CHECK_MS ? ALIVE_CHECK_MS
                                                              : (int)wait);
    if (n < 0 && errno != EINTR) {
      ret = hull_error(err, errno, "poll");
      break;
    }
    if (n > 0) {
      uint64_t ooms;
      bool gone;
      ret = cgroup_oom_watch_read(oom, &ooms, &gone, err);
      for (uint64_t i = 0; ret == 0 && i < ooms; i++)
        ret = emit(w->out, oom_json(w->id), err);
      if (gone)
        break;
    }
    if (!process_is_alive(w->pid, w->start_time))
      break;
    if (ret == 0 && monotonic_ms() >= next_stats) {
      /* As runc: a failed sample is logged, the stream goes on. */
      cleanup_error hull_error_t stats_err = NULL;
      if (emit_stats(w, &stats_err) < 0)
        log_msg(LOG_ERROR, "%s", stats_err->msg);
      next_stats += interval_ms;
    }
  }
  cgroup_oom_watch_free(oom);
  return ret;
}

int container_events(const struct events_options *o, hull_error_t *err) {
  struct watched w = {.id = o->id, .out = o->out};
  {
    /* Read what is needed and let go of the container's lock: delete and
     * kill must work while events streams. */
    cleanup_lifecycle struct lifecycle lc;
    if (lifecycle_open(o->root, o->id, &lc, err) < 0)
      return -1;
    /* runc's order: the container, then the interval, then its status. */
    if (o->interval_ms <= 0)
      return hull_error(err, 0, "duration interval must be greater than 0");
    if (lifecycle_status(&lc) == STATUS_STOPPED)
      return hull_error(err, 0, "container with id %s is not running", o->id);
    w.pid = lc.state->pid;
    w.start_time = lc.state->pid_start_time;
    w.manager = lc.cgroups;
    if (lifecycle_refuse_cgroupless(&lc, "events", err) < 0 ||
        lifecycle_cgroup(&lc, &w.cg, err) < 0)
      return -1;
  }
  if (w.cg == NULL)
    return hull_error(err, 0, "container %s has no cgroup", o->id);
  int ret = o->stats_once ? emit_stats(&w, err)
                          : stream(&w, o->interval_ms, err);
  cgroup_free(w.cg);
  return ret;
}
