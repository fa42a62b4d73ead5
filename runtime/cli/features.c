/* features.c — `hull features`: what this build really supports
 * (features.md, schema/features-schema.json). */
#include "cli.h"
#include "runtime/linux/linux.h"
#include "runtime/security/security.h"
#include "runtime/state/state.h"

#include <ctype.h>
#include <stdlib.h>
#include <sys/capability.h>

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

static void gen_capabilities(yajl_gen g) {
  json_gen_string(g, "capabilities");
  yajl_gen_array_open(g);
  for (cap_value_t c = 0; c < (cap_value_t)cap_max_bits(); c++) {
    char *name = cap_to_name(c);
    if (name == NULL)
      continue;
    /* libcap names unknown bits by number; only list named ones. */
    if (!isdigit((unsigned char)name[0])) {
      for (char *p = name; *p; p++)
        *p = (char)toupper((unsigned char)*p);
      json_gen_string(g, name);
    }
    cap_free(name);
  }
  yajl_gen_array_close(g);
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
  gen_bool(g, "rdma", false);
  yajl_gen_map_close(g);
  gen_seccomp(g);
  json_gen_string(g, "apparmor");
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", false);
  yajl_gen_map_close(g);
  json_gen_string(g, "selinux");
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", false);
  yajl_gen_map_close(g);
  json_gen_string(g, "intelRdt");
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", false);
  yajl_gen_map_close(g);
  /* mounts[].uidMappings/gidMappings (runtime/linux/idmap.c). */
  json_gen_string(g, "mountExtensions");
  yajl_gen_map_open(g);
  json_gen_string(g, "idmap");
  yajl_gen_map_open(g);
  gen_bool(g, "enabled", true);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
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
  json_gen_string(g, "org.hull.version");
  json_gen_string(g, HULL_VERSION);
  yajl_gen_map_close(g);
  yajl_gen_map_close(g);
  cleanup_free char *json = json_gen_finish(g);
  printf("%s\n", json);
  return 0;
}
