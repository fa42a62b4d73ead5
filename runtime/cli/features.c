/* features.c — `hull features`: what this build really supports
 * (features.md, schema/features-schema.json). */
#include "cli.h"
#include "runtime/linux/linux.h"
#include "runtime/security/security.h"
#include "runtime/state/state.h"

#include <stdlib.h>

static void gen_strings(yajl_gen g, const char *key, const char *const *v) {
  json_gen_string(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; v[i]; i++)
    json_gen_string(g, v[i]);
  yajl_gen_array_close(g);
}

static void gen_bool(yajl_gen g, const char *key, bool value) {
  json_gen_string(g, key);
  yajl_gen_bool(g, value);
}

/* Every name process.capabilities recognizes, also those the host's
 * kernel is too old for (features-linux.md). */
static void gen_capabilities(yajl_gen g) {
  size_t n;
  const char *const *names = cap_known_names(&n);
  json_gen_string(g, "capabilities");
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    json_gen_string(g, names[i]);
  yajl_gen_array_close(g);
}

static void gen_enabled(yajl_gen g, const char *key, bool value) {
  json_gen_string(g, key);
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", value);
  yajl_gen_map_close(g);
}

/* What runtime/security/seccomp.c accepts with this libseccomp. */
static void gen_seccomp(yajl_gen g) {
  const char *supported[8];
  seccomp_supported_flag_names(supported);
  json_gen_string(g, "seccomp");
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", true);
  gen_strings(g, "actions", seccomp_action_names());
  gen_strings(g, "operators", seccomp_operator_names());
  gen_strings(g, "archs", seccomp_arch_names());
  gen_strings(g, "knownFlags", seccomp_known_flag_names());
  gen_strings(g, "supportedFlags", supported);
  yajl_gen_map_close(g);
}

static void gen_linux(yajl_gen g) {
  static const char *const namespaces[] = {
      "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL};
  json_gen_string(g, "linux");
  yajl_gen_map_open(g);
  gen_strings(g, "namespaces", namespaces);
  gen_capabilities(g);
  json_gen_string(g, "cgroup");
  yajl_gen_map_open(g);
  gen_bool(g, "v1", true);
  gen_bool(g, "v2", true);
  gen_bool(g, "systemd", true);
  gen_bool(g, "systemdUser", false);
  gen_bool(g, "rdma", true);            /* cgroups/rdma.c, v1 and v2 */
  yajl_gen_map_close(g);
  gen_seccomp(g);
  /* Implementation status, not the host's: a label for a module the host
   * does not run is an error at create (security/mac.c). */
  gen_enabled(g, "apparmor", true);
  gen_enabled(g, "selinux", true);
  gen_enabled(g, "intelRdt", false);
  json_gen_string(g, "memoryPolicy");
  yajl_gen_map_open(g);
  gen_strings(g, "modes", spec_memory_policy_modes);
  gen_strings(g, "flags", spec_memory_policy_flags);
  yajl_gen_map_close(g);
  /* mounts[].uidMappings/gidMappings (runtime/linux/idmap.c). */
  json_gen_string(g, "mountExtensions");
  yajl_gen_map_open(g);
  gen_enabled(g, "idmap", true);
  yajl_gen_map_close(g);
  gen_enabled(g, "netDevices", true);
  yajl_gen_map_close(g);
}

int cmd_features(const struct global_options *gopts, int argc, char **argv,
                 hull_error_t *err) {
  static const char *const hooks[] = {"prestart",       "createRuntime",
                                      "createContainer", "startContainer",
                                      "poststart",      "poststop", NULL};
  if (cli_expect_args("features", argc, argv, 1, 0, err) < 0)
    return -1;
  yajl_gen g = json_gen_new(true);
  yajl_gen_map_open(g);
  json_gen_string(g, "ociVersionMin");
  json_gen_string(g, "1.0.0");
  json_gen_string(g, "ociVersionMax");
  json_gen_string(g, OCI_VERSION);
  gen_strings(g, "hooks", hooks);
  gen_strings(g, "mountOptions", rootfs_mount_option_names());
  gen_linux(g);
  json_gen_string(g, "annotations");
  yajl_gen_map_open(g);
  const struct scmp_version *v = seccomp_version();
  cleanup_free char *libseccomp =
      xasprintf("%u.%u.%u", v->major, v->minor, v->micro);
  json_gen_string(g, "io.github.seccomp.libseccomp.version");
  json_gen_string(g, libseccomp);
  json_gen_string(g, "org.hull.version");
  json_gen_string(g, HULL_VERSION);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  cleanup_free char *json = json_gen_finish(g);
  printf("%s\n", json);
  return 0;
}
