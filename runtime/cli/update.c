/* update.c — `hull update [flags] ID`: new resource limits for a running
 * container, from runc's flags or a linux.resources JSON document
 * (--resources FILE, or - for stdin; then the other flags are ignored, as
 * in runc). The flags become such a document too. */
#include "cli.h"
#include "runtime/container/container.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int parse_ram_bytes(const char *s, int64_t *out) {
  /* docker/go-units RAMInBytes: a decimal number, optional space, then an
   * optional k/m/g/t/p (any case, powers of 1024), optional i, optional b. */
  const char *p = s;
  size_t digits = strspn(p, "0123456789");
  if (digits == 0)
    return -1;
  p += digits;
  if (*p == '.') {
    size_t frac = strspn(p + 1, "0123456789");
    if (frac == 0)
      return -1;
    p += 1 + frac;
  }
  double value = strtod(s, NULL);
  if (*p == ' ')
    p++;
  static const char units[] = "kmgtp";
  double multiplier = 1;
  const char *u = *p ? strchr(units, *p | 0x20) : NULL;
  if (u) {
    for (const char *q = units; q <= u; q++)
      multiplier *= 1024;
    p++;
  }
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    return -1;
  double bytes = value * multiplier;
  if (bytes >= 9223372036854775807.0)
    return -1;
  *out = (int64_t)bytes;
  return 0;
}

static int read_stream(int fd, char **out, hull_error_t *err) {
  size_t len = 0, cap = 4096;
  char *buf = xmalloc(cap);
  for (;;) {
    if (len + 1 >= cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      free(buf);
      return hull_error(err, errno, "read resources from stdin");
    }
    if (r == 0)
      break;
    len += (size_t)r;
  }
  buf[len] = '\0';
  *out = buf;
  return 0;
}

/* What the flags ask for, as the members of a linux.resources object. */
struct update_flags {
  const char *value[32];   /* indexed by the option's enum value */
};

enum {
  F_RESOURCES = 1, F_BLKIO_WEIGHT, F_CPU_PERIOD, F_CPU_QUOTA, F_CPU_BURST,
  F_CPU_SHARE, F_CPU_RT_PERIOD, F_CPU_RT_RUNTIME, F_CPUSET_CPUS,
  F_CPUSET_MEMS, F_KERNEL_MEMORY, F_KERNEL_MEMORY_TCP, F_MEMORY, F_CPU_IDLE,
  F_MEMORY_RESERVATION, F_MEMORY_SWAP, F_PIDS_LIMIT, F_L3_CACHE_SCHEMA,
  F_MEM_BW_SCHEMA,
};

static const struct option update_options_table[] = {
    {"resources", required_argument, NULL, F_RESOURCES},
    {"blkio-weight", required_argument, NULL, F_BLKIO_WEIGHT},
    {"cpu-period", required_argument, NULL, F_CPU_PERIOD},
    {"cpu-quota", required_argument, NULL, F_CPU_QUOTA},
    {"cpu-burst", required_argument, NULL, F_CPU_BURST},
    {"cpu-share", required_argument, NULL, F_CPU_SHARE},
    {"cpu-shares", required_argument, NULL, F_CPU_SHARE},
    {"cpu-rt-period", required_argument, NULL, F_CPU_RT_PERIOD},
    {"cpu-rt-runtime", required_argument, NULL, F_CPU_RT_RUNTIME},
    {"cpuset-cpus", required_argument, NULL, F_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, F_CPUSET_MEMS},
    {"kernel-memory", required_argument, NULL, F_KERNEL_MEMORY},
    {"kernel-memory-tcp", required_argument, NULL, F_KERNEL_MEMORY_TCP},
    {"memory", required_argument, NULL, F_MEMORY},
    {"cpu-idle", required_argument, NULL, F_CPU_IDLE},
    {"memory-reservation", required_argument, NULL, F_MEMORY_RESERVATION},
    {"memory-swap", required_argument, NULL, F_MEMORY_SWAP},
    {"pids-limit", required_argument, NULL, F_PIDS_LIMIT},
    {"l3-cache-schema", required_argument, NULL, F_L3_CACHE_SCHEMA},
    {"mem-bw-schema", required_argument, NULL, F_MEM_BW_SCHEMA},
    {NULL, 0, NULL, 0}};

static const char *flag_name(int id) {
  for (const struct option *o = update_options_table; o->name; o++)
    if (o->val == id)
      return o->name;
  return "?";
}

/* One flag's value as a JSON number: runc parses memory sizes with
 * RAMInBytes, unsigned and signed values with strconv. */
enum number_kind { UNSIGNED, SIGNED, BYTES };

static int flag_number(const struct update_flags *f, int id,
                       enum number_kind kind, char *buf, size_t size,
                       hull_error_t *err) {
  const char *s = f->value[id];
  char *end;
  errno = 0;
  if (kind == BYTES) {
    int64_t v = -1;
    if (strcmp(s, "-1") != 0 && parse_ram_bytes(s, &v) < 0)
      return hull_error(err, 0, "invalid value for %s: invalid size: '%s'",
                        flag_name(id), s);
    snprintf(buf, size, "%lld", (long long)v);
  } else if (kind == UNSIGNED) {
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno)
      return hull_error(err, 0, "invalid value for %s: strconv.ParseUint: "
                        "parsing \"%s\": invalid syntax", flag_name(id), s);
    snprintf(buf, size, "%llu", v);
  } else {
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno)
      return hull_error(err, 0, "invalid value for %s: strconv.ParseInt: "
                        "parsing \"%s\": invalid syntax", flag_name(id), s);
    snprintf(buf, size, "%lld", v);
  }
  return 0;
}

struct member { int id; const char *key; enum number_kind kind; };

/* Writes {"<section>": {members...}} for the flags that are set. */
static int gen_section(yajl_gen g, const struct update_flags *f,
                       const char *section, const struct member *m, size_t n,
                       hull_error_t *err) {
  bool any = false;
  for (size_t i = 0; i < n; i++)
    any = any || (f->value[m[i].id] && *f->value[m[i].id]);
  if (!any)
    return 0;
  json_gen_string(g, section);
  yajl_gen_map_open(g);
  for (size_t i = 0; i < n; i++) {
    const char *v = f->value[m[i].id];
    if (v == NULL || *v == '\0')
      continue;
    json_gen_string(g, m[i].key);
    if (m[i].id == F_CPUSET_CPUS || m[i].id == F_CPUSET_MEMS) {
      json_gen_string(g, v);
      continue;
    }
    char num[32];
    if (flag_number(f, m[i].id, m[i].kind, num, sizeof(num), err) < 0)
      return -1;
    yajl_gen_number(g, num, strlen(num));
  }
  yajl_gen_map_close(g);
  return 0;
}

static int flags_json(const struct update_flags *f, char **out,
                      hull_error_t *err) {
  static const struct member memory[] = {
      {F_MEMORY, "limit", BYTES},
      {F_MEMORY_RESERVATION, "reservation", BYTES},
      {F_MEMORY_SWAP, "swap", BYTES}};
  static const struct member cpu[] = {
      {F_CPU_SHARE, "shares", UNSIGNED},
      {F_CPU_QUOTA, "quota", SIGNED},
      {F_CPU_BURST, "burst", UNSIGNED},
      {F_CPU_PERIOD, "period", UNSIGNED},
      {F_CPU_RT_RUNTIME, "realtimeRuntime", SIGNED},
      {F_CPU_RT_PERIOD, "realtimePeriod", UNSIGNED},
      {F_CPUSET_CPUS, "cpus", SIGNED},
      {F_CPUSET_MEMS, "mems", SIGNED},
      {F_CPU_IDLE, "idle", SIGNED}};
  /* IntFlags in runc: 0 means not given. */
  static const struct member block_io[] = {{F_BLKIO_WEIGHT, "weight", SIGNED}};
  static const struct member pids[] = {{F_PIDS_LIMIT, "limit", SIGNED}};
  for (int id = F_KERNEL_MEMORY; id <= F_KERNEL_MEMORY_TCP; id++)
    if (f->value[id] && *f->value[id])
      log_warning("Setting --%s is ignored and will be removed",
                  flag_name(id));
  struct update_flags g_flags = *f;
  if (g_flags.value[F_BLKIO_WEIGHT] &&
      strcmp(g_flags.value[F_BLKIO_WEIGHT], "0") == 0)
    g_flags.value[F_BLKIO_WEIGHT] = NULL;
  if (g_flags.value[F_PIDS_LIMIT] &&
      strcmp(g_flags.value[F_PIDS_LIMIT], "0") == 0)
    g_flags.value[F_PIDS_LIMIT] = NULL;
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  if (gen_section(g, &g_flags, "memory", memory, 3, err) < 0 ||
      gen_section(g, &g_flags, "cpu", cpu, 9, err) < 0 ||
      gen_section(g, &g_flags, "blockIO", block_io, 1, err) < 0 ||
      gen_section(g, &g_flags, "pids", pids, 1, err) < 0) {
    yajl_gen_free(g);
    return -1;
  }
  yajl_gen_map_close(g);
  *out = json_gen_finish(g);
  return 0;
}

static int resources_document(const char *source, char **out,
                              hull_error_t *err) {
  if (strcmp(source, "-") == 0)
    return read_stream(STDIN_FILENO, out, err);
  return read_file(source, out, NULL, err);
}

int cmd_update(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  struct update_flags f = {{0}};
  cli_flags_first(argc, argv, "r:", update_options_table);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+r:", update_options_table, NULL)) !=
         -1) {
    if (c == 'r')
      c = F_RESOURCES;
    if (c <= 0 || c > F_MEM_BW_SCHEMA)
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    f.value[c] = optarg;
  }
  if (cli_expect_args("update", argc - optind + 1, argv + optind - 1, 1, 1,
                      err) < 0)
    return -1;
  /* IntFlags fail at parse time in runc, before anything else. */
  static const int int_flags[] = {F_BLKIO_WEIGHT, F_PIDS_LIMIT};
  for (size_t i = 0; i < sizeof(int_flags) / sizeof(*int_flags); i++) {
    const char *v = f.value[int_flags[i]];
    char *end;
    if (v && (*v == '\0' || (strtol(v, &end, 10), *end != '\0')))
      return hull_error(err, 0, "invalid value \"%s\" for flag -%s: parse "
                        "error", v, flag_name(int_flags[i]));
  }
  cleanup_free char *json = NULL;
  if (f.value[F_RESOURCES] && *f.value[F_RESOURCES]) {
    if (resources_document(f.value[F_RESOURCES], &json, err) < 0)
      return -1;
  } else if (flags_json(&f, &json, err) < 0) {
    return -1;
  }
  struct update_options o = {.root = g->root,
                             .id = argv[optind],
                             .resources_json = json,
                             .l3_cache_schema = f.value[F_L3_CACHE_SCHEMA],
                             .mem_bw_schema = f.value[F_MEM_BW_SCHEMA]};
  return container_update(&o, err) < 0 ? -1 : 0;
}
