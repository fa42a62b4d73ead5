/* default.c — the config.json `hull spec` writes: runc's example document
 * (runc 1.2, runtime-spec 1.2.0), field for field and in runc's order, so
 * tools and people who know `runc spec` find what they expect. */
#include "spec.h"

#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define DEFAULT_OCI_VERSION "1.2.0"

static const char *const default_caps[] = {
    "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};

static const char *const masked_paths[] = {
    "/proc/acpi",       "/proc/asound",      "/proc/kcore",
    "/proc/keys",       "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
    "/proc/scsi",       "/sys/devices/virtual/tpm", NULL};

static const char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    NULL};

struct default_mount {
  const char *destination, *type, *source;
  const char *const *options;
};

/* runc's list; rootless drops the gid= option (no group 5 is mapped) and
 * bind-mounts /sys, since a new sysfs needs a network namespace we own. */
static const struct default_mount default_mounts[] = {
    {"/proc", "proc", "proc", NULL},
    {"/dev", "tmpfs", "tmpfs",
     (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k",
                           NULL}},
    {"/dev/pts", "devpts", "devpts",
     (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                           "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm",
     (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777",
                           "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue",
     (const char *const[]){"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs",
     (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/sys/fs/cgroup", "cgroup", "cgroup",
     (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro",
                           NULL}},
};

static const struct default_mount rootless_sys_mount = {
    "/sys", "none", "/sys",
    (const char *const[]){"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};

/* ---- small generators ------------------------------------------------- */

static void gen_key_string(yajl_gen g, const char *key, const char *value) {
  json_gen_string(g, key);
  json_gen_string(g, value);
}

static void gen_key_int(yajl_gen g, const char *key, long long value) {
  json_gen_string(g, key);
  yajl_gen_integer(g, value);
}

static void gen_key_bool(yajl_gen g, const char *key, bool value) {
  json_gen_string(g, key);
  yajl_gen_bool(g, value);
}

static void gen_key_strv(yajl_gen g, const char *key,
                         const char *const *values, bool rootless) {
  json_gen_string(g, key);
  yajl_gen_array_open(g);
  for (; *values; values++)
    if (!rootless || (strncmp(*values, "gid=", 4) != 0 &&
                      strncmp(*values, "uid=", 4) != 0))
      json_gen_string(g, *values);
  yajl_gen_array_close(g);
}

/* ---- sections --------------------------------------------------------- */

static void gen_process(yajl_gen g) {
  json_gen_string(g, "process");
  yajl_gen_map_open(g);
  gen_key_bool(g, "terminal", true);
  json_gen_string(g, "user");
  yajl_gen_map_open(g);
  gen_key_int(g, "uid", 0);
  gen_key_int(g, "gid", 0);
  yajl_gen_map_close(g);
  gen_key_strv(g, "args", (const char *const[]){"sh", NULL}, false);
  gen_key_strv(g, "env",
               (const char *const[]){"PATH=/usr/local/sbin:/usr/local/bin:"
                                     "/usr/sbin:/usr/bin:/sbin:/bin",
                                     "TERM=xterm", NULL},
               false);
  gen_key_string(g, "cwd", "/");
  json_gen_string(g, "capabilities");
  yajl_gen_map_open(g);
  gen_key_strv(g, "bounding", default_caps, false);
  gen_key_strv(g, "effective", default_caps, false);
  gen_key_strv(g, "permitted", default_caps, false);
  yajl_gen_map_close(g);
  json_gen_string(g, "rlimits");
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  gen_key_string(g, "type", "RLIMIT_NOFILE");
  gen_key_int(g, "hard", 1024);
  gen_key_int(g, "soft", 1024);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
  gen_key_bool(g, "noNewPrivileges", true);
  yajl_gen_map_close(g);
}

static void gen_root(yajl_gen g) {
  json_gen_string(g, "root");
  yajl_gen_map_open(g);
  gen_key_string(g, "path", "rootfs");
  gen_key_bool(g, "readonly", true);
  yajl_gen_map_close(g);
}

static void gen_mount(yajl_gen g, const struct default_mount *m,
                      bool rootless) {
  yajl_gen_map_open(g);
  gen_key_string(g, "destination", m->destination);
  gen_key_string(g, "type", m->type);
  gen_key_string(g, "source", m->source);
  if (m->options != NULL)
    gen_key_strv(g, "options", m->options, rootless);
  yajl_gen_map_close(g);
}

static void gen_mounts(yajl_gen g, bool rootless) {
  json_gen_string(g, "mounts");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < sizeof(default_mounts) / sizeof(*default_mounts);
       i++) {
    const struct default_mount *m = &default_mounts[i];
    if (rootless && strcmp(m->destination, "/sys") == 0)
      m = &rootless_sys_mount;
    gen_mount(g, m, rootless);
  }
  yajl_gen_array_close(g);
}

static void gen_id_mapping(yajl_gen g, const char *key, unsigned host_id) {
  json_gen_string(g, key);
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  gen_key_int(g, "containerID", 0);
  gen_key_int(g, "hostID", host_id);
  gen_key_int(g, "size", 1);
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
}

static void gen_device_rules(yajl_gen g) {
  json_gen_string(g, "resources");
  yajl_gen_map_open(g);
  json_gen_string(g, "devices");
  yajl_gen_array_open(g);
  yajl_gen_map_open(g);
  gen_key_bool(g, "allow", false);
  gen_key_string(g, "access", "rwm");
  yajl_gen_map_close(g);
  yajl_gen_array_close(g);
  yajl_gen_map_close(g);
}

/* runc adds a cgroup namespace only where the host has a pure cgroup v2
 * hierarchy: with v1 controllers the container would see a partial view. */
static bool host_is_cgroup2_unified(void) {
  struct statfs fs;
  return statfs("/sys/fs/cgroup", &fs) == 0 &&
         fs.f_type == CGROUP2_SUPER_MAGIC;
}

static void gen_namespaces(yajl_gen g, bool rootless) {
  json_gen_string(g, "namespaces");
  yajl_gen_array_open(g);
  static const char *const names[] = {"pid", "network", "ipc", "uts",
                                      "mount", NULL};
  for (const char *const *n = names; *n; n++) {
    if (rootless && strcmp(*n, "network") == 0)
      continue;
    yajl_gen_map_open(g);
    gen_key_string(g, "type", *n);
    yajl_gen_map_close(g);
  }
  const char *extra[] = {host_is_cgroup2_unified() ? "cgroup" : NULL,
                         rootless ? "user" : NULL};
  for (size_t i = 0; i < 2; i++) {
    if (extra[i] == NULL)
      continue;
    yajl_gen_map_open(g);
    gen_key_string(g, "type", extra[i]);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, bool rootless) {
  json_gen_string(g, "linux");
  yajl_gen_map_open(g);
  if (rootless) {
    gen_id_mapping(g, "uidMappings", geteuid());
    gen_id_mapping(g, "gidMappings", getegid());
  } else {
    gen_device_rules(g);
  }
  gen_namespaces(g, rootless);
  gen_key_strv(g, "maskedPaths", masked_paths, false);
  gen_key_strv(g, "readonlyPaths", readonly_paths, false);
  yajl_gen_map_close(g);
}

char *spec_default_json(bool rootless) {
  yajl_gen g = json_gen_new(true);
  /* runc indents with tabs. */
  yajl_gen_config(g, yajl_gen_indent_string, "\t");
  yajl_gen_map_open(g);
  gen_key_string(g, "ociVersion", DEFAULT_OCI_VERSION);
  gen_process(g);
  gen_root(g);
  gen_key_string(g, "hostname", "runc");
  gen_mounts(g, rootless);
  gen_linux(g, rootless);
  yajl_gen_map_close(g);
  return json_gen_finish_document(g);
}
