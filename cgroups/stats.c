/* stats.c — the usage counters `events` reports, read from the v1
 * controllers' files or the one cgroup2 directory. Each reader takes a
 * directory, so tests can point it at plain files. A file that is not
 * there (a controller the kernel lacks, swap accounting off) leaves its
 * counters zero, as runc's readers do. */
#include "cgroups/internal.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 and the file's text, 0 when it does not exist, -1 on other errors. */
static int read_optional(const char *dir, const char *file, char **text,
                         hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  *text = NULL;
  if (read_file(path, text, NULL, err) == 0)
    return 1;
  if ((*err)->errno_value == ENOENT || (*err)->errno_value == ENODEV) {
    hull_error_release(err);
    return 0;
  }
  return -1;
}

/* A number file, "max" as UINT64_MAX; an absent file leaves *out alone. */
static int read_number(const char *dir, const char *file, uint64_t *out,
                       hull_error_t *err) {
  cleanup_free char *text = NULL;
  int r = read_optional(dir, file, &text, err);
  if (r <= 0)
    return r;
  if (strncmp(text, "max", 3) == 0)
    *out = UINT64_MAX;
  else
    *out = strtoull(text, NULL, 10);
  return 0;
}

/* Calls fn for every "key value" line of a flat keyed file. */
static int for_each_pair(const char *dir, const char *file,
                         void (*fn)(const char *key, uint64_t v, void *ctx),
                         void *ctx, hull_error_t *err) {
  cleanup_free char *text = NULL;
  int r = read_optional(dir, file, &text, err);
  if (r <= 0)
    return r;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char *sp = strchr(line, ' ');
    if (sp == NULL)
      continue;
    *sp = '\0';
    fn(line, strtoull(sp + 1, NULL, 10), ctx);
  }
  return 0;
}

struct pick { const char *key; uint64_t *out; uint64_t scale; };

static void pick_pairs(const char *key, uint64_t v, void *ctx) {
  for (struct pick *p = ctx; p->key; p++)
    if (strcmp(p->key, key) == 0)
      *p->out = v * p->scale;
}

static void add_raw(const char *key, uint64_t v, void *ctx) {
  struct cgroup_stats *s = ctx;
  s->memory.raw = xrealloc(s->memory.raw,
                           (s->memory.n_raw + 1) * sizeof(*s->memory.raw));
  s->memory.raw[s->memory.n_raw++] =
      (struct cgroup_counter){.name = xstrdup(key), .value = v};
}

static uint64_t raw_value(const struct cgroup_stats *s, const char *key) {
  for (size_t i = 0; i < s->memory.n_raw; i++)
    if (strcmp(s->memory.raw[i].name, key) == 0)
      return s->memory.raw[i].value;
  return 0;
}

/* A file of space-separated numbers ("12 34 56"). */
static int read_numbers(const char *dir, const char *file, uint64_t **out,
                        size_t *n, hull_error_t *err) {
  cleanup_free char *text = NULL;
  int r = read_optional(dir, file, &text, err);
  if (r <= 0)
    return r;
  for (char *p = text, *end; *p; p = end) {
    uint64_t v = strtoull(p, &end, 10);
    if (end == p)
      break;
    *out = xrealloc(*out, (*n + 1) * sizeof(uint64_t));
    (*out)[(*n)++] = v;
  }
  return 0;
}

/* ---- cpu ---------------------------------------------------------------- */

int cgroup_v1_stats_cpu(const char *cpuacct, const char *cpu,
                        struct cgroup_stats *s, hull_error_t *err) {
  if (cpuacct) {
    if (read_number(cpuacct, "cpuacct.usage", &s->cpu.total, err) < 0)
      return -1;
    if (read_numbers(cpuacct, "cpuacct.usage_percpu", &s->cpu.percpu,
                     &s->cpu.n_percpu, err) < 0 ||
        read_numbers(cpuacct, "cpuacct.usage_percpu_sys",
                     &s->cpu.percpu_kernel, &s->cpu.n_percpu_kernel,
                     err) < 0 ||
        read_numbers(cpuacct, "cpuacct.usage_percpu_user",
                     &s->cpu.percpu_user, &s->cpu.n_percpu_user, err) < 0)
      return -1;
    /* cpuacct.stat counts clock ticks. */
    uint64_t tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
    struct pick ticks[] = {{"user", &s->cpu.user, tick_ns},
                           {"system", &s->cpu.kernel, tick_ns},
                           {NULL, NULL, 0}};
    if (for_each_pair(cpuacct, "cpuacct.stat", pick_pairs, ticks, err) < 0)
      return -1;
  }
  if (cpu) {
    struct pick throttling[] = {
        {"nr_periods", &s->cpu.periods, 1},
        {"nr_throttled", &s->cpu.throttled_periods, 1},
        {"throttled_time", &s->cpu.throttled_time, 1},
        {NULL, NULL, 0}};
    if (for_each_pair(cpu, "cpu.stat", pick_pairs, throttling, err) < 0)
      return -1;
  }
  return 0;
}

static int v2_stats_cpu(const char *dir, struct cgroup_stats *s,
                        hull_error_t *err) {
  struct pick fields[] = {
      {"usage_usec", &s->cpu.total, 1000},
      {"user_usec", &s->cpu.user, 1000},
      {"system_usec", &s->cpu.kernel, 1000},
      {"nr_periods", &s->cpu.periods, 1},
      {"nr_throttled", &s->cpu.throttled_periods, 1},
      {"throttled_usec", &s->cpu.throttled_time, 1000},
      {NULL, NULL, 0}};
  return for_each_pair(dir, "cpu.stat", pick_pairs, fields, err);
}

/* ---- cpuset ------------------------------------------------------------- */

/* A cpuset list ("0-3,8,10-11") into its members. */
static int read_cpu_list(const char *dir, const char *file, uint16_t **out,
                         size_t *n, hull_error_t *err) {
  cleanup_free char *text = NULL;
  int r = read_optional(dir, file, &text, err);
  if (r <= 0)
    return r;
  for (char *p = text; *p && *p != '\n';) {
    char *end;
    unsigned long lo = strtoul(p, &end, 10), hi = lo;
    if (end == p)
      break;
    if (*end == '-')
      hi = strtoul(end + 1, &end, 10);
    for (unsigned long v = lo; v <= hi && v <= UINT16_MAX; v++) {
      *out = xrealloc(*out, (*n + 1) * sizeof(uint16_t));
      (*out)[(*n)++] = (uint16_t)v;
    }
    p = end + (*end == ',');
  }
  return 0;
}

int cgroup_stats_cpuset(const char *dir, bool v2, struct cgroup_stats *s,
                        hull_error_t *err) {
  __typeof__(s->cpuset) *c = &s->cpuset;
  if (read_cpu_list(dir, v2 ? "cpuset.cpus.effective" : "cpuset.cpus",
                    &c->cpus, &c->n_cpus, err) < 0 ||
      read_cpu_list(dir, v2 ? "cpuset.mems.effective" : "cpuset.mems",
                    &c->mems, &c->n_mems, err) < 0)
    return -1;
  if (v2)
    return 0;
  static const struct { const char *file; size_t offset; } flags[] = {
#define FLAG(f, m) {f, offsetof(__typeof__(s->cpuset), m)}
      FLAG("cpuset.cpu_exclusive", cpu_exclusive),
      FLAG("cpuset.mem_hardwall", mem_hardwall),
      FLAG("cpuset.mem_exclusive", mem_exclusive),
      FLAG("cpuset.memory_migrate", memory_migrate),
      FLAG("cpuset.memory_spread_page", memory_spread_page),
      FLAG("cpuset.memory_spread_slab", memory_spread_slab),
      FLAG("cpuset.memory_pressure", memory_pressure),
      FLAG("cpuset.sched_load_balance", sched_load_balance),
#undef FLAG
  };
  for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++)
    if (read_number(dir, flags[i].file,
                    (uint64_t *)((char *)c + flags[i].offset), err) < 0)
      return -1;
  cleanup_free char *level = NULL;
  int r = read_optional(dir, "cpuset.sched_relax_domain_level", &level, err);
  if (r < 0)
    return -1;
  if (r > 0)
    c->sched_relax_domain_level = strtoll(level, NULL, 10);
  return 0;
}

/* ---- memory ------------------------------------------------------------- */

/* memory.<prefix>usage_in_bytes and friends. */
static int v1_memory_entry(const char *dir, const char *prefix,
                           struct cgroup_memory_entry *e, hull_error_t *err) {
  static const char *const names[] = {"usage_in_bytes", "max_usage_in_bytes",
                                      "failcnt", "limit_in_bytes"};
  uint64_t *outs[] = {&e->usage, &e->max, &e->failcnt, &e->limit};
  for (size_t i = 0; i < 4; i++) {
    cleanup_free char *file = xasprintf("memory.%s%s", prefix, names[i]);
    if (read_number(dir, file, outs[i], err) < 0)
      return -1;
  }
  return 0;
}

int cgroup_v1_stats_memory(const char *dir, struct cgroup_stats *s,
                           hull_error_t *err) {
  if (for_each_pair(dir, "memory.stat", add_raw, s, err) < 0 ||
      v1_memory_entry(dir, "", &s->memory.usage, err) < 0 ||
      v1_memory_entry(dir, "memsw.", &s->memory.swap, err) < 0 ||
      v1_memory_entry(dir, "kmem.", &s->memory.kernel, err) < 0 ||
      v1_memory_entry(dir, "kmem.tcp.", &s->memory.kernel_tcp, err) < 0)
    return -1;
  s->memory.cache = raw_value(s, "cache");
  return 0;
}

/* v2 reports swap alone; runc's swap entry is memory+swap, as on v1. */
static int v2_stats_memory(const char *dir, struct cgroup_stats *s,
                           hull_error_t *err) {
  struct cgroup_memory_entry *m = &s->memory.usage, *sw = &s->memory.swap;
  if (for_each_pair(dir, "memory.stat", add_raw, s, err) < 0 ||
      read_number(dir, "memory.current", &m->usage, err) < 0 ||
      read_number(dir, "memory.max", &m->limit, err) < 0 ||
      read_number(dir, "memory.peak", &m->max, err) < 0)
    return -1;
  struct pick events[] = {{"max", &m->failcnt, 1}, {NULL, NULL, 0}};
  if (for_each_pair(dir, "memory.events", pick_pairs, events, err) < 0)
    return -1;
  uint64_t swap = 0, swap_max = 0;
  if (read_number(dir, "memory.swap.current", &swap, err) < 0 ||
      read_number(dir, "memory.swap.max", &swap_max, err) < 0)
    return -1;
  sw->usage = m->usage + swap;
  sw->limit = swap_max == UINT64_MAX || m->limit == UINT64_MAX
                  ? UINT64_MAX
                  : swap_max + m->limit;
  s->memory.cache = raw_value(s, "file");
  return 0;
}

/* ---- pids --------------------------------------------------------------- */

int cgroup_stats_pids(const char *dir, struct cgroup_stats *s,
                      hull_error_t *err) {
  if (read_number(dir, "pids.current", &s->pids.current, err) < 0 ||
      read_number(dir, "pids.max", &s->pids.limit, err) < 0)
    return -1;
  if (s->pids.limit == UINT64_MAX)
    s->pids.limit = 0;          /* "max": no limit, which runc shows as 0 */
  return 0;
}

/* ---- block I/O ---------------------------------------------------------- */

static void add_blkio(struct cgroup_blkio_list *l, uint64_t major,
                      uint64_t minor, const char *op, uint64_t value) {
  l->items = xrealloc(l->items, (l->len + 1) * sizeof(*l->items));
  l->items[l->len++] = (struct cgroup_blkio_entry){
      .major = major, .minor = minor, .op = xstrdup(op), .value = value};
}

/* v1 lines: "8:0 Read 4096", "8:0 4096" (no op), "Total 8192" (skipped). */
static int v1_blkio_file(const char *dir, const char *file,
                         struct cgroup_blkio_list *l, hull_error_t *err) {
  cleanup_free char *text = NULL;
  int r = read_optional(dir, file, &text, err);
  if (r <= 0)
    return r;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    unsigned long long major, minor, value;
    char op[32];
    if (sscanf(line, "%llu:%llu %31s %llu", &major, &minor, op, &value) == 4)
      add_blkio(l, major, minor, op, value);
    else if (sscanf(line, "%llu:%llu %llu", &major, &minor, &value) == 3)
      add_blkio(l, major, minor, "", value);
  }
  return 0;
}

int cgroup_v1_stats_blkio(const char *dir, struct cgroup_stats *s,
                          hull_error_t *err) {
  static const char *const cfq[BLKIO_KINDS] = {
      "io_service_bytes_recursive", "io_serviced_recursive",
      "io_queued_recursive",        "io_service_time_recursive",
      "io_wait_time_recursive",     "io_merged_recursive",
      "time_recursive",             "sectors_recursive"};
  for (int k = 0; k < BLKIO_KINDS; k++) {
    cleanup_free char *file = xasprintf("blkio.%s", cfq[k]);
    if (v1_blkio_file(dir, file, &s->blkio[k], err) < 0)
      return -1;
  }
  if (s->blkio[BLKIO_SERVICED].len > 0)
    return 0;
  /* No CFQ accounting (the usual case with blk-mq): BFQ's files, else the
   * throttle policy's, which count every device. */
  for (size_t i = 0; i < 2 && s->blkio[BLKIO_SERVICED].len == 0; i++) {
    const char *prefix = i == 0 ? "blkio.bfq." : "blkio.throttle.";
    for (int k = BLKIO_SERVICE_BYTES; k <= BLKIO_SERVICED; k++) {
      cleanup_free char *file = xasprintf("%s%s", prefix, cfq[k]);
      if (v1_blkio_file(dir, file, &s->blkio[k], err) < 0)
        return -1;
    }
  }
  return 0;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static int v2_stats_io(const char *dir, struct cgroup_stats *s,
                       hull_error_t *err) {
  static const struct { const char *key; int kind; const char *op; } map[] = {
      {"rbytes", BLKIO_SERVICE_BYTES, "Read"},
      {"wbytes", BLKIO_SERVICE_BYTES, "Write"},
      {"rios", BLKIO_SERVICED, "Read"},
      {"wios", BLKIO_SERVICED, "Write"},
  };
  cleanup_free char *text = NULL;
  int r = read_optional(dir, "io.stat", &text, err);
  if (r <= 0)
    return r;
  char *save_line = NULL;
  for (char *line = strtok_r(text, "\n", &save_line); line;
       line = strtok_r(NULL, "\n", &save_line)) {
    unsigned long long major, minor;
    if (sscanf(line, "%llu:%llu", &major, &minor) != 2)
      continue;
    char *save_field = NULL;
    strtok_r(line, " ", &save_field);
    for (char *f = strtok_r(NULL, " ", &save_field); f;
         f = strtok_r(NULL, " ", &save_field)) {
      char *eq = strchr(f, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
        if (strcmp(map[i].key, f) == 0)
          add_blkio(&s->blkio[map[i].kind], major, minor, map[i].op,
                    strtoull(eq + 1, NULL, 10));
    }
  }
  return 0;
}

/* ---- hugetlb ------------------------------------------------------------ */

/* The page sizes with files in dir: "hugetlb.2MB.<suffix>". */
static char **hugetlb_sizes(const char *dir, const char *suffix) {
  char **sizes = xzalloc(sizeof(char *));
  size_t n = 0;
  DIR *d = opendir(dir);
  if (d == NULL)
    return sizes;
  struct dirent *de;
  size_t suffix_len = strlen(suffix);
  while ((de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    size_t len = strlen(name);
    if (strncmp(name, "hugetlb.", 8) != 0 || len <= 8 + suffix_len + 1 ||
        strcmp(name + len - suffix_len, suffix) != 0 ||
        name[len - suffix_len - 1] != '.')
      continue;
    sizes = xrealloc(sizes, (n + 2) * sizeof(char *));
    sizes[n++] = xstrndup(name + 8, len - 8 - suffix_len - 1);
    sizes[n] = NULL;
  }
  closedir(d);
  return sizes;
}

int cgroup_stats_hugetlb(const char *dir, bool v2, struct cgroup_stats *s,
                         hull_error_t *err) {
  cleanup_strv char **sizes =
      hugetlb_sizes(dir, v2 ? "current" : "usage_in_bytes");
  for (size_t i = 0; sizes[i]; i++) {
    struct cgroup_hugetlb_stats h = {.page_size = xstrdup(sizes[i])};
    s->hugetlb = xrealloc(s->hugetlb, (s->n_hugetlb + 1) * sizeof(h));
    s->hugetlb[s->n_hugetlb++] = h;
    struct cgroup_hugetlb_stats *e = &s->hugetlb[s->n_hugetlb - 1];
    const char *sz = sizes[i];
    cleanup_free char *usage = xasprintf(
        "hugetlb.%s.%s", sz, v2 ? "current" : "usage_in_bytes");
    if (read_number(dir, usage, &e->usage, err) < 0)
      return -1;
    if (v2) {
      cleanup_free char *events = xasprintf("hugetlb.%s.events", sz);
      struct pick max[] = {{"max", &e->failcnt, 1}, {NULL, NULL, 0}};
      if (for_each_pair(dir, events, pick_pairs, max, err) < 0)
        return -1;
    } else {
      cleanup_free char *max = xasprintf("hugetlb.%s.max_usage_in_bytes", sz);
      cleanup_free char *fail = xasprintf("hugetlb.%s.failcnt", sz);
      if (read_number(dir, max, &e->max, err) < 0 ||
          read_number(dir, fail, &e->failcnt, err) < 0)
        return -1;
    }
  }
  return 0;
}

/* ---- per manager -------------------------------------------------------- */

int cgroup_v2_stats(const char *dir, struct cgroup_stats *s,
                    hull_error_t *err) {
  if (v2_stats_cpu(dir, s, err) < 0 ||
      cgroup_stats_cpuset(dir, true, s, err) < 0 ||
      v2_stats_memory(dir, s, err) < 0 ||
      cgroup_stats_pids(dir, s, err) < 0 || v2_stats_io(dir, s, err) < 0 ||
      cgroup_stats_hugetlb(dir, true, s, err) < 0)
    return hull_error_wrap(err, "stats of `%s`", dir);
  return 0;
}

static const char *dir_of(const struct cgroup *cg, const char *controller) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cgroup_controllers_include(cg->controllers[i], controller))
      return cg->dirs[i];
  return NULL;
}

int cgroup_v1_stats(struct cgroup *cg, struct cgroup_stats *s,
                    hull_error_t *err) {
  const char *memory = dir_of(cg, "memory"), *pids = dir_of(cg, "pids"),
             *blkio = dir_of(cg, "blkio"), *hugetlb = dir_of(cg, "hugetlb"),
             *cpuset = dir_of(cg, "cpuset");
  if (cgroup_v1_stats_cpu(dir_of(cg, "cpuacct"), dir_of(cg, "cpu"), s,
                          err) < 0 ||
      (cpuset && cgroup_stats_cpuset(cpuset, false, s, err) < 0) ||
      (memory && cgroup_v1_stats_memory(memory, s, err) < 0) ||
      (pids && cgroup_stats_pids(pids, s, err) < 0) ||
      (blkio && cgroup_v1_stats_blkio(blkio, s, err) < 0) ||
      (hugetlb && cgroup_stats_hugetlb(hugetlb, false, s, err) < 0))
    return hull_error_wrap(err, "stats of cgroup `%s`", cg->path);
  return 0;
}

void cgroup_stats_release(struct cgroup_stats *s) {
  free(s->cpu.percpu);
  free(s->cpu.percpu_kernel);
  free(s->cpu.percpu_user);
  free(s->cpuset.cpus);
  free(s->cpuset.mems);
  for (size_t i = 0; i < s->memory.n_raw; i++)
    free(s->memory.raw[i].name);
  free(s->memory.raw);
  for (int k = 0; k < BLKIO_KINDS; k++) {
    for (size_t i = 0; i < s->blkio[k].len; i++)
      free(s->blkio[k].items[i].op);
    free(s->blkio[k].items);
  }
  for (size_t i = 0; i < s->n_hugetlb; i++)
    free(s->hugetlb[i].page_size);
  free(s->hugetlb);
  *s = (struct cgroup_stats){0};
}
