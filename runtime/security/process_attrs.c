/* process_attrs.c — the smaller per-process settings of config.json:
 * process.oomScoreAdj, linux.personality, process.ioPriority,
 * process.scheduler, process.execCPUAffinity and linux.memoryPolicy. Each is one system call
 * (or one /proc write) on the init itself, inherited across execve. */
#include "security.h"

#include <errno.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <unistd.h>

struct name_value {
  const char *name;
  unsigned long value;
};

static bool lookup_name(const struct name_value *table, size_t n,
                        const char *key, unsigned long *value) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(table[i].name, key) == 0) {
      *value = table[i].value;
      return true;
    }
  return false;
}

#define NAME_TABLE_LOOKUP(table, key, value)                                 \
  lookup_name((table), sizeof(table) / sizeof((table)[0]), (key), (value))

/* ---- process.oomScoreAdj ------------------------------------------------ */

int oom_score_adj_apply(const struct spec_process *p, hull_error_t *err) {
  if (!p->oom_score_adj.set)
    return 0;
  char buf[32];
  int n = snprintf(buf, sizeof(buf), "%lld", (long long)p->oom_score_adj.v);
  if (write_file("/proc/self/oom_score_adj", buf, (size_t)n, err) < 0)
    return hull_error_wrap(err, "process.oomScoreAdj: set %s", buf);
  return 0;
}

/* ---- linux.personality -------------------------------------------------- */

static const struct name_value personality_domains[] = {
    {"LINUX", PER_LINUX},
    {"LINUX32", PER_LINUX32},
};

int personality_apply(const struct spec_linux *l, hull_error_t *err) {
  if (l == NULL || !l->personality.present)
    return 0;
  unsigned long domain = 0;
  const char *name = l->personality.domain;
  if (name == NULL)
    return hull_error(err, 0, "linux.personality.domain: missing");
  if (!NAME_TABLE_LOOKUP(personality_domains, name, &domain))
    return hull_error(err, 0, "linux.personality.domain: unknown domain "
                      "\"%s\"", name);
  /* The runtime-spec defines no flags yet. */
  if (l->personality.flags && l->personality.flags[0])
    return hull_error(err, 0, "linux.personality.flags[0]: unsupported "
                      "personality flag \"%s\"", l->personality.flags[0]);
  if (personality(domain) < 0)
    return hull_error(err, errno, "linux.personality: personality(%s)", name);
  return 0;
}

/* ---- process.ioPriority ------------------------------------------------- */

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

static const struct name_value io_classes[] = {
    {"IOPRIO_CLASS_RT", 1},
    {"IOPRIO_CLASS_BE", 2},
    {"IOPRIO_CLASS_IDLE", 3},
};

int io_priority_apply(const struct spec_process *p, hull_error_t *err) {
  const struct spec_io_priority *io = p->io_priority;
  if (io == NULL)
    return 0;
  unsigned long cls = 0;
  if (io->class_ == NULL || !NAME_TABLE_LOOKUP(io_classes, io->class_, &cls))
    return hull_error(err, 0, "process.ioPriority.class: unknown class \"%s\"",
                      io->class_ ? io->class_ : "");
  int64_t level = io->priority.set ? io->priority.v : 0;
  if (level < 0 || level > 7)
    return hull_error(err, 0, "process.ioPriority.priority: %lld is not in "
                      "0..7", (long long)level);
  long prio = (long)(cls << IOPRIO_CLASS_SHIFT) | (long)level;
  if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) < 0)
    return hull_error(err, errno, "process.ioPriority: ioprio_set %s %lld",
                      io->class_, (long long)level);
  return 0;
}

/* ---- process.scheduler -------------------------------------------------- */

/* sched_setattr(2)'s argument; glibc before 2.41 has no wrapper. */
struct sched_attr_v0 {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

static const struct name_value sched_policies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},
    {"SCHED_BATCH", 3}, {"SCHED_ISO", 4},  {"SCHED_IDLE", 5},
    {"SCHED_DEADLINE", 6},
};

static const struct name_value sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

int scheduler_apply(const struct spec_process *p, hull_error_t *err) {
  const struct spec_scheduler *s = p->scheduler;
  if (s == NULL)
    return 0;
  unsigned long policy = 0;
  if (s->policy == NULL || !NAME_TABLE_LOOKUP(sched_policies, s->policy,
                                              &policy))
    return hull_error(err, 0, "process.scheduler.policy: unknown policy "
                      "\"%s\"", s->policy ? s->policy : "");
  struct sched_attr_v0 attr = {
      .size = sizeof(attr),
      .sched_policy = (uint32_t)policy,
      .sched_nice = s->nice.set ? (int32_t)s->nice.v : 0,
      .sched_priority = s->priority.set ? (uint32_t)s->priority.v : 0,
      .sched_runtime = s->runtime.set ? s->runtime.v : 0,
      .sched_deadline = s->deadline.set ? s->deadline.v : 0,
      .sched_period = s->period.set ? s->period.v : 0,
  };
  for (size_t i = 0; s->flags && s->flags[i]; i++) {
    unsigned long flag = 0;
    if (!NAME_TABLE_LOOKUP(sched_flags, s->flags[i], &flag))
      return hull_error(err, 0, "process.scheduler.flags[%zu]: unknown flag "
                        "\"%s\"", i, s->flags[i]);
    attr.sched_flags |= flag;
  }
  if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
    return hull_error(err, errno, "process.scheduler: sched_setattr %s",
                      s->policy);
  return 0;
}

/* ---- process.execCPUAffinity -------------------------------------------- */

static bool parse_cpu(const char **s, unsigned long *cpu) {
  if (**s < '0' || **s > '9')
    return false;
  char *end = NULL;
  errno = 0;
  *cpu = strtoul(*s, &end, 10);
  if (errno || *cpu >= CPU_SETSIZE)
    return false;
  *s = end;
  return true;
}

/* "0-3,7" → {0,1,2,3,7}; the kernel's cpu-list format. */
static bool parse_cpu_list(const char *list, cpu_set_t *set) {
  CPU_ZERO(set);
  const char *s = list;
  for (;;) {
    unsigned long first = 0, last = 0;
    if (!parse_cpu(&s, &first))
      return false;
    last = first;
    if (*s == '-') {
      s++;
      if (!parse_cpu(&s, &last) || last < first)
        return false;
    }
    for (unsigned long c = first; c <= last; c++)
      CPU_SET(c, set);
    if (*s != ',')
      return *s == '\0';
    s++;
  }
}

int cpu_affinity_apply(const char *cpus, const char *field,
                       hull_error_t *err) {
  if (cpus == NULL)
    return 0;
  cpu_set_t set;
  if (!parse_cpu_list(cpus, &set))
    return hull_error(err, 0, "%s: malformed CPU list \"%s\"", field, cpus);
  if (sched_setaffinity(0, sizeof(set), &set) < 0)
    return hull_error(err, errno, "%s: sched_setaffinity \"%s\"", field, cpus);
  return 0;
}

/* ---- linux.memoryPolicy ----------------------------------------------------
 * set_mempolicy(2) on the init: the policy is inherited across fork and
 * execve. The node list has the CPU list's format, and a cpu_set_t is the
 * bit array set_mempolicy wants (1024 nodes, as many as Linux allows). */

#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE 6
#endif

static const struct name_value mempolicy_modes[] = {
    {"MPOL_DEFAULT", MPOL_DEFAULT},
    {"MPOL_PREFERRED", MPOL_PREFERRED},
    {"MPOL_BIND", MPOL_BIND},
    {"MPOL_INTERLEAVE", MPOL_INTERLEAVE},
    {"MPOL_LOCAL", MPOL_LOCAL},
    {"MPOL_PREFERRED_MANY", MPOL_PREFERRED_MANY},
    {"MPOL_WEIGHTED_INTERLEAVE", MPOL_WEIGHTED_INTERLEAVE},
};

static const struct name_value mempolicy_flags[] = {
    {"MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES},
    {"MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES},
    {"MPOL_F_NUMA_BALANCING", MPOL_F_NUMA_BALANCING},
};

struct mempolicy {
  int mode;                  /* with the flags */
  cpu_set_t nodes;
  bool has_nodes;
};

static int mempolicy_of(const struct spec_linux *l, struct mempolicy *out,
                        hull_error_t *err) {
  unsigned long mode = 0, flag = 0;
  if (!NAME_TABLE_LOOKUP(mempolicy_modes, l->memory_policy.mode, &mode))
    return hull_error(err, 0, "linux.memoryPolicy.mode: unknown mode \"%s\"",
                      l->memory_policy.mode);
  char **flags = l->memory_policy.flags;
  for (size_t i = 0; flags && flags[i]; i++) {
    if (!NAME_TABLE_LOOKUP(mempolicy_flags, flags[i], &flag))
      return hull_error(err, 0, "linux.memoryPolicy.flags[%zu]: unknown flag "
                        "\"%s\"", i, flags[i]);
    mode |= flag;
  }
  const char *nodes = l->memory_policy.nodes;
  out->mode = (int)mode;
  out->has_nodes = nodes && *nodes;
  CPU_ZERO(&out->nodes);
  if (out->has_nodes && !parse_cpu_list(nodes, &out->nodes))
    return hull_error(err, 0, "linux.memoryPolicy.nodes: malformed node list "
                      "\"%s\"", nodes);
  return 0;
}

int memory_policy_check(const struct spec_linux *l, hull_error_t *err) {
  struct mempolicy m;
  if (l == NULL || !l->memory_policy.present)
    return 0;
  return mempolicy_of(l, &m, err);
}

int memory_policy_apply(const struct spec_linux *l, hull_error_t *err) {
  struct mempolicy m;
  if (l == NULL || !l->memory_policy.present)
    return 0;
  if (mempolicy_of(l, &m, err) < 0)
    return -1;
  /* The kernel reads maxnode - 1 bits. */
  const unsigned long *mask =
      m.has_nodes ? (const unsigned long *)(const void *)&m.nodes : NULL;
  unsigned long maxnode = m.has_nodes ? CPU_SETSIZE + 1 : 0;
  if (syscall(SYS_set_mempolicy, m.mode, mask, maxnode) < 0)
    return hull_error(err, errno, "linux.memoryPolicy: set_mempolicy(%s, "
                      "nodes \"%s\")", l->memory_policy.mode,
                      m.has_nodes ? l->memory_policy.nodes : "");
  return 0;
}
