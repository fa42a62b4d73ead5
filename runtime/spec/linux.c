/* linux.c — the "linux" section: namespaces, id mappings, devices, paths to
 * mask, and the smaller kernel features (personality, RDT, time offsets,
 * memory policy). Resources and seccomp have files of their own. */
#include "parse.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Indexed by enum spec_ns_type; the names config-linux.md uses. */
static const char *const ns_names[SPEC_NS_COUNT + 1] = {
    [SPEC_NS_PID] = "pid",       [SPEC_NS_NETWORK] = "network",
    [SPEC_NS_MOUNT] = "mount",   [SPEC_NS_IPC] = "ipc",
    [SPEC_NS_UTS] = "uts",       [SPEC_NS_USER] = "user",
    [SPEC_NS_CGROUP] = "cgroup", [SPEC_NS_TIME] = "time",
    [SPEC_NS_COUNT] = NULL};

static const char *const rootfs_propagations[] = {"private", "shared",
                                                  "slave", "unbindable", NULL};

static const char *const personality_domains[] = {"LINUX", "LINUX32", NULL};

const char *const spec_memory_policy_modes[] = {
    "MPOL_DEFAULT",        "MPOL_BIND",  "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED",
    "MPOL_PREFERRED_MANY", "MPOL_LOCAL", NULL};

const char *const spec_memory_policy_flags[] = {
    "MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES",
    NULL};

const char *spec_ns_type_name(enum spec_ns_type type) {
  if ((unsigned)type >= SPEC_NS_COUNT)
    return NULL;
  return ns_names[type];
}

/* ---- namespaces ------------------------------------------------------ */

static int ns_type_from_name(const char *name, enum spec_ns_type *type) {
  for (int t = 0; t < SPEC_NS_COUNT; t++) {
    if (strcmp(ns_names[t], name) == 0) {
      *type = (enum spec_ns_type)t;
      return 0;
    }
  }
  return -1;
}

static int parse_namespace(yajl_val v, const struct jpath *at, void *item,
                           hull_error_t *err) {
  struct spec_namespace *ns = item;
  cleanup_free char *type = NULL;
  if (jstring(v, at, "type", REQUIRED, &type, err) < 0)
    return -1;
  if (ns_type_from_name(type, &ns->type) < 0)
    return jerr(JKEY(at, "type"), err, "unknown namespace type \"%s\"", type);
  if (jstring(v, at, "path", OPTIONAL, &ns->path, err) < 0)
    return -1;
  return 0;
}

/* config-linux.md: "Duplicated namespaces with same type ... MUST generate
 * an error". */
static int check_duplicate_namespaces(const struct spec_linux *l,
                                      const struct jpath *at,
                                      hull_error_t *err) {
  bool seen[SPEC_NS_COUNT] = {false};
  for (size_t i = 0; i < l->n_namespaces; i++) {
    enum spec_ns_type t = l->namespaces[i].type;
    if (seen[t])
      return jerr(JIDX(JKEY(at, "namespaces"), i), err,
                  "duplicate namespace type \"%s\"", ns_names[t]);
    seen[t] = true;
  }
  return 0;
}

static int parse_namespaces(yajl_val v, const struct jpath *at,
                            struct spec_linux *l, hull_error_t *err) {
  if (jarray(v, at, "namespaces", OPTIONAL, sizeof(struct spec_namespace),
             parse_namespace, &l->namespaces, &l->n_namespaces, err) < 0)
    return -1;
  return check_duplicate_namespaces(l, at, err);
}

/* ---- devices ---------------------------------------------------------- */

static mode_t device_type_bits(char type) {
  return type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
}

/* podman copies a host device's st_mode into fileMode, file type bits
 * included (8630, i.e. 020666, for /dev/null), and runc and crun accept it.
 * So allow type bits when they agree with `type`; only the permission bits
 * are used. */
static int check_device_file_mode(const struct spec_device *d,
                                  const struct jpath *at, hull_error_t *err) {
  uint64_t mode = d->file_mode.v;
  uint64_t type_bits = mode & S_IFMT;
  const struct jpath *key = JKEY(at, "fileMode");
  if (type_bits == 0 && mode > 0777)
    return jerr(key, err, "%" PRIu64 " is out of range [0, 511]", mode);
  if (mode & ~(uint64_t)(S_IFMT | 0777))
    return jerr(key, err, "%" PRIu64 " (0%" PRIo64 ") has mode bits beyond "
                "0777 besides the file type", mode, mode);
  if (type_bits != 0 && type_bits != device_type_bits(d->type[0]))
    return jerr(key, err, "%" PRIu64 " (0%" PRIo64 ") has file type bits "
                "that do not match type \"%s\"", mode, mode, d->type);
  return 0;
}

static int parse_device(yajl_val v, const struct jpath *at, void *item,
                        hull_error_t *err) {
  struct spec_device *d = item;
  if (jstring(v, at, "type", REQUIRED, &d->type, err) < 0)
    return -1;
  /* The schema's pattern ^[cbup]$. */
  if (strlen(d->type) != 1 || strchr("cbup", d->type[0]) == NULL)
    return jerr(JKEY(at, "type"), err, "unknown device type \"%s\"",
                d->type);
  /* config-linux.md: major and minor are required unless type is p. */
  bool numbered = d->type[0] != 'p';
  if (jstring(v, at, "path", REQUIRED, &d->path, err) < 0 ||
      jint(v, at, "major", numbered, INT64_MIN, INT64_MAX, &d->major.v, err) <
          0 ||
      jint(v, at, "minor", numbered, INT64_MIN, INT64_MAX, &d->minor.v, err) <
          0 ||
      jspec_uint(v, at, "fileMode", S_IFMT | 07777, &d->file_mode, err) < 0 ||
      jspec_uint(v, at, "uid", UINT32_MAX, &d->uid, err) < 0 ||
      jspec_uint(v, at, "gid", UINT32_MAX, &d->gid, err) < 0)
    return -1;
  if (d->file_mode.set && check_device_file_mode(d, at, err) < 0)
    return -1;
  d->major.set = jfield(v, "major") != NULL;
  d->minor.set = jfield(v, "minor") != NULL;
  return 0;
}

static int parse_net_device(const char *name, yajl_val v,
                            const struct jpath *at, void *item,
                            hull_error_t *err) {
  struct spec_net_device *nd = item;
  nd->host_name = xstrdup(name);
  return jstring(v, at, "name", OPTIONAL, &nd->name, err) < 0 ? -1 : 0;
}

/* ---- small features ---------------------------------------------------- */

static int parse_time_offset(yajl_val offsets, const struct jpath *up,
                             const char *key, struct spec_time_offset *t,
                             hull_error_t *err) {
  yajl_val v;
  int r = jobject(offsets, up, key, OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, key);
  if (jint(v, at, "secs", OPTIONAL, INT64_MIN, INT64_MAX, &t->secs, err) <
          0 ||
      juint32(v, at, "nanosecs", OPTIONAL, &t->nanosecs, err) < 0)
    return -1;
  t->set = true;
  return 0;
}

static int parse_time_offsets(yajl_val linux, const struct jpath *up,
                              struct spec_linux *l, hull_error_t *err) {
  yajl_val v;
  int r = jobject(linux, up, "timeOffsets", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "timeOffsets");
  if (parse_time_offset(v, at, "monotonic", &l->time_offsets.monotonic,
                        err) < 0 ||
      parse_time_offset(v, at, "boottime", &l->time_offsets.boottime, err) <
          0)
    return -1;
  return 0;
}

static int parse_personality(yajl_val linux, const struct jpath *up,
                             struct spec_linux *l, hull_error_t *err) {
  yajl_val v;
  int r = jobject(linux, up, "personality", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "personality");
  l->personality.present = true;
  if (jstring_enum(v, at, "domain", OPTIONAL, personality_domains,
                   "personality domain", &l->personality.domain, err) < 0 ||
      jstrv(v, at, "flags", OPTIONAL, &l->personality.flags, err) < 0)
    return -1;
  return 0;
}

static int parse_intel_rdt(yajl_val linux, const struct jpath *up,
                           struct spec_linux *l, hull_error_t *err) {
  yajl_val v;
  int r = jobject(linux, up, "intelRdt", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "intelRdt");
  l->intel_rdt.present = true;
  if (jstring(v, at, "closID", OPTIONAL, &l->intel_rdt.clos_id, err) < 0 ||
      jstrv(v, at, "schemata", OPTIONAL, &l->intel_rdt.schemata, err) < 0 ||
      jstring(v, at, "l3CacheSchema", OPTIONAL, &l->intel_rdt.l3_cache_schema,
              err) < 0 ||
      jstring(v, at, "memBwSchema", OPTIONAL, &l->intel_rdt.mem_bw_schema,
              err) < 0 ||
      jbool(v, at, "enableMonitoring", OPTIONAL,
            &l->intel_rdt.enable_monitoring, err) < 0 ||
      /* Older spec versions' names, still written by some engines. */
      jbool(v, at, "enableCMT", OPTIONAL, &l->intel_rdt.enable_cmt, err) <
          0 ||
      jbool(v, at, "enableMBM", OPTIONAL, &l->intel_rdt.enable_mbm, err) < 0)
    return -1;
  /* The schema's pattern ^MB:[^\n]*$. */
  const char *mb = l->intel_rdt.mem_bw_schema;
  if (mb != NULL && (strncmp(mb, "MB:", 3) != 0 || strchr(mb, '\n') != NULL))
    return jerr(JKEY(at, "memBwSchema"), err, "must start with \"MB:\"");
  return 0;
}

static int parse_memory_policy(yajl_val linux, const struct jpath *up,
                               struct spec_linux *l, hull_error_t *err) {
  yajl_val v;
  int r = jobject(linux, up, "memoryPolicy", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "memoryPolicy");
  l->memory_policy.present = true;
  /* The schema leaves mode optional; config-linux.md requires it. */
  if (jstring_enum(v, at, "mode", REQUIRED, spec_memory_policy_modes,
                   "memory policy mode", &l->memory_policy.mode, err) < 0 ||
      jstring(v, at, "nodes", OPTIONAL, &l->memory_policy.nodes, err) < 0 ||
      jstrv_enum(v, at, "flags", spec_memory_policy_flags, "memory policy flag",
                 &l->memory_policy.flags, err) < 0)
    return -1;
  return 0;
}

/* ---- the section ------------------------------------------------------ */

static int parse_id_mappings(yajl_val v, const struct jpath *at,
                             struct spec_linux *l, hull_error_t *err) {
  if (jarray(v, at, "uidMappings", OPTIONAL, sizeof(struct spec_id_mapping),
             jid_mapping, &l->uid_mappings, &l->n_uid_mappings, err) < 0 ||
      jarray(v, at, "gidMappings", OPTIONAL, sizeof(struct spec_id_mapping),
             jid_mapping, &l->gid_mappings, &l->n_gid_mappings, err) < 0)
    return -1;
  return 0;
}

static int parse_devices(yajl_val v, const struct jpath *at,
                         struct spec_linux *l, hull_error_t *err) {
  if (jarray(v, at, "devices", OPTIONAL, sizeof(struct spec_device),
             parse_device, &l->devices, &l->n_devices, err) < 0 ||
      jobject_map(v, at, "netDevices", sizeof(struct spec_net_device),
                  parse_net_device, &l->net_devices, &l->n_net_devices,
                  err) < 0)
    return -1;
  return 0;
}

static int parse_paths(yajl_val v, const struct jpath *at,
                       struct spec_linux *l, hull_error_t *err) {
  if (jstring(v, at, "cgroupsPath", OPTIONAL, &l->cgroups_path, err) < 0 ||
      jstring_enum(v, at, "rootfsPropagation", OPTIONAL, rootfs_propagations,
                   "rootfsPropagation", &l->rootfs_propagation, err) < 0 ||
      jstrv(v, at, "maskedPaths", OPTIONAL, &l->masked_paths, err) < 0 ||
      jstrv(v, at, "readonlyPaths", OPTIONAL, &l->readonly_paths, err) < 0 ||
      jstring(v, at, "mountLabel", OPTIONAL, &l->mount_label, err) < 0)
    return -1;
  return 0;
}

int spec_parse_linux(yajl_val parent, const struct jpath *up,
                     struct spec_linux **out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(parent, up, "linux", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "linux");
  struct spec_linux *l = *out = xzalloc(sizeof(*l));
  if (parse_namespaces(v, at, l, err) < 0 ||
      parse_id_mappings(v, at, l, err) < 0 ||
      parse_time_offsets(v, at, l, err) < 0 ||
      parse_devices(v, at, l, err) < 0 ||
      spec_parse_resources(v, at, &l->resources, err) < 0 ||
      spec_parse_seccomp(v, at, &l->seccomp, err) < 0 ||
      parse_paths(v, at, l, err) < 0 ||
      jmap(v, at, "sysctl", &l->sysctl, err) < 0 ||
      parse_personality(v, at, l, err) < 0 ||
      parse_intel_rdt(v, at, l, err) < 0 ||
      parse_memory_policy(v, at, l, err) < 0)
    return -1;
  return 0;
}

void spec_linux_free(struct spec_linux *l) {
  if (l == NULL)
    return;
  for (size_t i = 0; i < l->n_namespaces; i++)
    free(l->namespaces[i].path);
  free(l->namespaces);
  free(l->uid_mappings);
  free(l->gid_mappings);
  for (size_t i = 0; i < l->n_devices; i++) {
    free(l->devices[i].type);
    free(l->devices[i].path);
  }
  free(l->devices);
  for (size_t i = 0; i < l->n_net_devices; i++) {
    free(l->net_devices[i].host_name);
    free(l->net_devices[i].name);
  }
  free(l->net_devices);
  free(l->cgroups_path);
  spec_resources_free(l->resources);
  free(l->rootfs_propagation);
  spec_seccomp_free(l->seccomp);
  spec_map_free(&l->sysctl);
  strv_free(l->masked_paths);
  strv_free(l->readonly_paths);
  free(l->mount_label);
  free(l->personality.domain);
  strv_free(l->personality.flags);
  free(l->intel_rdt.clos_id);
  free(l->intel_rdt.l3_cache_schema);
  free(l->intel_rdt.mem_bw_schema);
  strv_free(l->intel_rdt.schemata);
  free(l->memory_policy.mode);
  free(l->memory_policy.nodes);
  strv_free(l->memory_policy.flags);
  free(l);
}
