/* spec.h — config.json as typed C structs.
 *
 * The bundle's config.json is parsed once (spec_load) into `struct spec`;
 * nothing after that reads JSON. Parse errors name the JSON path:
 *   config.json: .process.args: expected array of strings
 * Unknown fields are ignored, as the runtime-spec requires. As in Go's
 * encoding/json (runc), JSON null counts as absent and a key given twice
 * takes its last value. The parser's internals live in parse.h.
 *
 * Conventions: strings are NULL when absent; string lists are NULL-terminated
 * `char **` (NULL when absent); arrays of objects come with an `n_` count;
 * optional scalars use spec_int/spec_uint/spec_bool with a `set` flag. */
#ifndef HULL_SPEC_H
#define HULL_SPEC_H

#include "../common/common.h"

/* gnu11 predefines `linux` as 1 (the old spelling of __linux__); it would
 * turn the field spec->linux into a syntax error. */
#undef linux

struct spec_int { bool set; int64_t v; };
struct spec_uint { bool set; uint64_t v; };
struct spec_bool { bool set; bool v; };

/* A JSON object of string values, in document order. */
struct spec_kv { char *key; char *value; };
struct spec_map { struct spec_kv *items; size_t len; };

/* ---- process ---------------------------------------------------------- */

struct spec_id_mapping { uint32_t container_id, host_id, size; };

struct spec_rlimit { char *type; uint64_t soft, hard; };

struct spec_capabilities {
  char **bounding, **effective, **inheritable, **permitted, **ambient;
};

struct spec_scheduler {
  char *policy;              /* required when scheduler is present */
  struct spec_int nice, priority;
  char **flags;
  struct spec_uint runtime, deadline, period;
};

struct spec_io_priority { char *class_; struct spec_int priority; };

struct spec_process {
  bool terminal;
  bool has_console_size;
  uint32_t console_height, console_width;
  struct {
    uint32_t uid, gid;
    struct spec_uint umask;
    uint32_t *additional_gids; size_t n_additional_gids;
    char *username;
  } user;
  char **args;
  char *command_line;        /* Windows only; kept so it is not rejected */
  char **env;
  char *cwd;                 /* required */
  struct spec_capabilities *capabilities;
  struct spec_rlimit *rlimits; size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  struct spec_int oom_score_adj;
  struct spec_scheduler *scheduler;
  char *selinux_label;
  struct spec_io_priority *io_priority;
  struct { char *initial, *final; } exec_cpu_affinity;
};

/* ---- mounts and hooks ---------------------------------------------------- */

struct spec_mount {
  char *destination;         /* required */
  char *source;
  char *type;
  char **options;
  struct spec_id_mapping *uid_mappings; size_t n_uid_mappings;
  struct spec_id_mapping *gid_mappings; size_t n_gid_mappings;
};

struct spec_hook {
  char *path;                /* required */
  char **args, **env;
  struct spec_int timeout;   /* seconds, >= 1 when set */
};

struct spec_hook_list { struct spec_hook *items; size_t len; };

struct spec_hooks {
  struct spec_hook_list prestart, create_runtime, create_container,
      start_container, poststart, poststop;
};

/* ---- linux.resources --------------------------------------------------- */

struct spec_device_rule {
  bool allow;
  char *type;                /* a, b, c or NULL (= a) */
  struct spec_int major, minor;
  char *access;
};

struct spec_block_weight_device {
  int64_t major, minor;
  struct spec_uint weight, leaf_weight;
};

struct spec_throttle_device { int64_t major, minor; uint64_t rate; };

struct spec_hugepage_limit { char *page_size; uint64_t limit; };

struct spec_net_priority { char *name; uint32_t priority; };

struct spec_rdma { char *device; struct spec_uint hca_handles, hca_objects; };

struct spec_resources {
  struct spec_device_rule *devices; size_t n_devices;
  struct {
    bool present;
    struct spec_int limit, reservation, swap, kernel, kernel_tcp;
    struct spec_uint swappiness;
    struct spec_bool disable_oom_killer, use_hierarchy, check_before_update;
  } memory;
  struct {
    bool present;
    struct spec_uint shares, period, realtime_period, burst;
    struct spec_int quota, realtime_runtime, idle;
    char *cpus, *mems;
  } cpu;
  struct { bool present; struct spec_int limit; } pids;
  struct {
    bool present;
    struct spec_uint weight, leaf_weight;
    struct spec_block_weight_device *weight_device; size_t n_weight_device;
    struct spec_throttle_device *throttle_read_bps, *throttle_write_bps,
        *throttle_read_iops, *throttle_write_iops;
    size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
        n_throttle_write_iops;
  } block_io;
  struct spec_hugepage_limit *hugepage_limits; size_t n_hugepage_limits;
  struct {
    bool present;
    struct spec_uint class_id;
    struct spec_net_priority *priorities; size_t n_priorities;
  } network;
  struct spec_rdma *rdma; size_t n_rdma;
  struct spec_map unified;
};

/* ---- linux.seccomp ------------------------------------------------------- */

struct spec_seccomp_arg {
  uint32_t index;
  uint64_t value;
  struct spec_uint value_two;
  char *op;                  /* SCMP_CMP_* */
};

struct spec_seccomp_syscall {
  char **names;              /* required, non-empty */
  char *action;              /* required, SCMP_ACT_* */
  struct spec_uint errno_ret;
  struct spec_seccomp_arg *args; size_t n_args;
};

struct spec_seccomp {
  char *default_action;      /* required */
  struct spec_uint default_errno_ret;
  char **architectures;
  char **flags;
  char *listener_path, *listener_metadata;
  struct spec_seccomp_syscall *syscalls; size_t n_syscalls;
};

/* ---- linux --------------------------------------------------------------- */

enum spec_ns_type {
  SPEC_NS_PID, SPEC_NS_NETWORK, SPEC_NS_MOUNT, SPEC_NS_IPC, SPEC_NS_UTS,
  SPEC_NS_USER, SPEC_NS_CGROUP, SPEC_NS_TIME, SPEC_NS_COUNT
};

struct spec_namespace { enum spec_ns_type type; char *path; };

struct spec_device {
  char *type;                /* c, b, u or p; required */
  char *path;                /* required */
  struct spec_int major, minor;
  struct spec_uint file_mode, uid, gid;
};

struct spec_time_offset { bool set; int64_t secs; uint32_t nanosecs; };

struct spec_net_device { char *host_name; char *name; };

/* The linux.memoryPolicy modes and flags the parser accepts (NULL-ended). */
extern const char *const spec_memory_policy_modes[];
extern const char *const spec_memory_policy_flags[];

struct spec_linux {
  struct spec_namespace *namespaces; size_t n_namespaces;
  struct spec_id_mapping *uid_mappings; size_t n_uid_mappings;
  struct spec_id_mapping *gid_mappings; size_t n_gid_mappings;
  struct { struct spec_time_offset monotonic, boottime; } time_offsets;
  struct spec_device *devices; size_t n_devices;
  struct spec_net_device *net_devices; size_t n_net_devices;
  char *cgroups_path;
  struct spec_resources *resources;
  char *rootfs_propagation;
  struct spec_seccomp *seccomp;
  struct spec_map sysctl;
  char **masked_paths, **readonly_paths;
  char *mount_label;
  struct { bool present; char *domain; char **flags; } personality;
  struct {
    bool present;
    char *clos_id, *l3_cache_schema, *mem_bw_schema, **schemata;
    bool enable_monitoring, enable_cmt, enable_mbm;
  } intel_rdt;
  struct { bool present; char *mode, *nodes; char **flags; } memory_policy;
};

/* ---- vm ------------------------------------------------------------------ */

struct spec_vm_iomem { struct spec_uint first_gfn; uint64_t first_mfn, nr_mfns; };

struct spec_vm {
  struct { char *path; char **parameters; } hypervisor;
  struct { char *path; char **parameters; char *initrd; } kernel;
  struct { char *path; char *format; } image;   /* format: raw qcow2 vdi vmdk vhd */
  struct {
    char *device_tree;       /* a file path (config-vm.md), not a list */
    struct spec_uint vcpus, memory;
    char **dtdevs;
    struct spec_vm_iomem *iomems; size_t n_iomems;
    uint32_t *irqs; size_t n_irqs;
  } hw_config;
  bool has_hypervisor, has_kernel, has_image, has_hw_config;
};

/* ---- the whole document ------------------------------------------------ */

struct spec {
  char *oci_version;         /* required */
  struct { char *path; bool readonly; } root;
  struct spec_mount *mounts; size_t n_mounts;
  struct spec_process *process;
  char *hostname, *domainname;
  struct spec_hooks hooks;
  struct spec_map annotations;
  struct spec_linux *linux;
  struct spec_vm *vm;
};

/* Parses a config.json document. `label` prefixes error messages
 * ("config.json"). */
int spec_parse(const char *json, size_t len, const char *label,
               struct spec **out, hull_error_t *err);
/* Parses a document that is one process object (config.md's `process`, as
 * `exec --process FILE` reads it); errors read "<label>: .args: ...". */
int spec_parse_process_json(const char *json, size_t len, const char *label,
                            struct spec_process **out, hull_error_t *err);
void spec_process_free(struct spec_process *p);
/* The inverse of spec_parse_process_json: every member that parser reads,
 * written when set, so parsing the text gives p back (free it). */
char *spec_process_to_json(const struct spec_process *p);
/* Reads and parses <bundle>/config.json. */
int spec_load(const char *bundle, struct spec **out, hull_error_t *err);
void spec_free(struct spec *spec);
void cleanup_specp(struct spec **spec);
#define cleanup_spec __attribute__((cleanup(cleanup_specp)))

/* Checks what `start` needs beyond the schema: a process with args and an
 * absolute cwd, a root path. Error names the field. */
int spec_validate_for_run(const struct spec *spec, hull_error_t *err);

/* What running a process needs: args, an absolute cwd. `at` names the
 * process in errors ("config.json: .process" → "...process.args: ..."). */
int spec_validate_process(const struct spec_process *p, const char *at,
                          hull_error_t *err);

/* The config.json that `hull spec` writes (runc's default, busybox `sh`);
 * rootless adds a user namespace and rootless-friendly mounts. */
char *spec_default_json(bool rootless);

/* ---- linux.resources as a document of its own (resources-doc.c), for
 * `update`: what `--resources FILE` holds and what hull keeps between
 * updates. ---- */

/* Parses a JSON linux.resources object; errors read
 * "<label>: .resources.memory.limit: expected integer". */
int spec_resources_parse(const char *json, size_t len, const char *label,
                         struct spec_resources **out, hull_error_t *err);
void spec_resources_free(struct spec_resources *r);
/* The .linux.resources object of a config.json's text ("{}" when it has
 * none). */
int spec_resources_of_config(const char *config_json, char **out,
                             hull_error_t *err);
/* Merges JSON object `update` into `base`: members of update replace those
 * of base, objects merge member by member, null leaves base's value. Both
 * must be JSON objects. */
int spec_json_merge(const char *base, const char *update, char **out,
                    hull_error_t *err);

/* Lookup helpers. */
const char *spec_map_get(const struct spec_map *m, const char *key);
/* A typo in an annotation would silently give a default: refuses one that
 * starts with prefix but is not prefix + one of known (NULL-terminated),
 * "annotation run.oci.vm.vcpu: unknown (hull reads run.oci.vm.{...})". */
int spec_refuse_unknown_annotations(const struct spec_map *a,
                                    const char *prefix,
                                    const char *const *known,
                                    hull_error_t *err);
const struct spec_namespace *spec_namespace_find(const struct spec *spec,
                                                 enum spec_ns_type type);
const char *spec_ns_type_name(enum spec_ns_type type);

#endif
