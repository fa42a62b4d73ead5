/* test-security.c — the process gets exactly the privileges config.json
 * grants: rlimits, oom_score_adj, personality, capabilities (ambient ones
 * for a non-root user), and clear errors for what cannot be granted. */
#include "tests/integration/harness.h"

#include <unistd.h>
#include <yajl/yajl_tree.h>
#include "runtime/common/common.h"

#include <string.h>

/* The value of the "Name:\t..." line of /proc/self/status output. */
static char *status_field(const char *out, const char *name) {
  cleanup_free char *key = xasprintf("%s:\t", name);
  const char *p = strstr(out, key);
  if (p == NULL)
    return xstrdup("");
  p += strlen(key);
  return xstrndup(p, strcspn(p, "\n"));
}

START_TEST(rlimits_are_applied) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("cat", "/proc/self/limits"),
             .process_extra =
                 "\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 100,"
                 " \"hard\": 200}, {\"type\": \"RLIMIT_NPROC\", \"soft\": 50,"
                 " \"hard\": 60}, {\"type\": \"RLIMIT_CORE\", \"soft\": 0,"
                 " \"hard\": 0}]"});
  ck_assert_hres(r, 0);
  ck_assert_msg(strstr(r.out, "Max open files            100                  200"),
                "limits: %s", r.out);
  ck_assert_msg(strstr(r.out, "Max processes             50                   60"),
                "limits: %s", r.out);
  ck_assert_msg(strstr(r.out, "Max core file size        0                    0"),
                "limits: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(raising_a_hard_rlimit_fails_clearly) {
  struct hctx *c = hctx_new();
  /* This machine's bounding set lacks CAP_SYS_RESOURCE. */
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .process_extra =
                 "\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024,"
                 " \"hard\": 104857600}]"});
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, "RLIMIT_NOFILE"), "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(oom_score_adj_and_personality) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"cat /proc/self/oom_score_adj;"
                     " /bin/hull-test-helper cat /proc/self/personality\"",
             .process_extra = "\"oomScoreAdj\": 300",
             .linux_extra = "\"personality\": {\"domain\": \"LINUX32\"}"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "300\n"), "out: %s", r.out);
  ck_assert_msg(hcontains(r.out, "00000008\n"), "personality: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(capability_sets_match_the_config) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = HELPER("status"),
             .user = "\"uid\": 1000, \"gid\": 1000",
             .process_extra =
                 "\"capabilities\": {\"bounding\": [\"CAP_KILL\","
                 " \"CAP_NET_BIND_SERVICE\", \"CAP_CHOWN\"],"
                 " \"effective\": [\"CAP_NET_BIND_SERVICE\"],"
                 " \"permitted\": [\"CAP_NET_BIND_SERVICE\"],"
                 " \"inheritable\": [\"CAP_NET_BIND_SERVICE\"],"
                 " \"ambient\": [\"CAP_NET_BIND_SERVICE\"]}"});
  ck_assert_hres(r, 0);
  /* CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10. */
  const char *want[][2] = {{"CapBnd", "0000000000000421"},
                           {"CapEff", "0000000000000400"},
                           {"CapPrm", "0000000000000400"},
                           {"CapInh", "0000000000000400"},
                           {"CapAmb", "0000000000000400"},
                           {"NoNewPrivs", "1"}};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
    cleanup_free char *got = status_field(r.out, want[i][0]);
    ck_assert_msg(strcmp(got, want[i][1]) == 0, "%s: %s, want %s\n%s",
                  want[i][0], got, want[i][1], r.out);
  }
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* runtime-spec: a value that cannot be mapped to a kernel interface MUST
 * be an error. (A real capability newer than the kernel is skipped with a
 * warning, as in runc: tests/unit/test_security.c, as this kernel has them
 * all.) */
START_TEST(unknown_or_malformed_capability_is_refused) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .process_extra = "\"capabilities\": {\"bounding\":"
                              " [\"CAP_KILL\", \"CAP_TEST\"]}"});
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, "process.capabilities.bounding[1]: unknown "
                                 "capability \\\"CAP_TEST\\\""),
                "stderr: %s", r.err);
  hres_free(&r);

  r = hrun_config(c, &(struct hconfig){
                         .process_extra = "\"capabilities\": {\"bounding\":"
                                          " [\"CAP_NET-ADMIN\"]}"});
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, "CAP_NET-ADMIN"), "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(absent_lsm_is_an_error) {
  struct hctx *c = hctx_new();
  cleanup_free char *enabled =
      hread_file("/sys/module/apparmor/parameters/enabled");
  if (enabled && enabled[0] == 'Y') {
    hctx_finish(c);
    return; /* AppArmor is there: nothing to refuse */
  }
  struct hres r = hrun_config(
      c, &(struct hconfig){.process_extra =
                               "\"apparmorProfile\": \"hull-test\""});
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, "apparmor") || hcontains(r.err, "AppArmor"),
                "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* linux.memoryPolicy is set_mempolicy(2) on the init, inherited by the
 * process: its mappings show the policy in numa_maps. */
START_TEST(memory_policy_applies_to_the_process) {
  SKIP_UNLESS(access("/proc/self/numa_maps", R_OK) == 0 &&
                  access("/sys/devices/system/node/node0", F_OK) == 0,
              "no NUMA support (numa_maps, node0)");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("cat", "/proc/self/numa_maps"),
                           .linux_extra = "\"memoryPolicy\": {\"mode\": "
                                          "\"MPOL_BIND\", \"nodes\": \"0\"}"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, " bind:0 "), "numa_maps: %s", r.out);
  hres_free(&r);

  r = hrun_config(c, &(struct hconfig){
                         .linux_extra = "\"memoryPolicy\": {\"mode\": "
                                        "\"MPOL_BIND\", \"nodes\": \"0-x\"}"});
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "linux.memoryPolicy.nodes: malformed node "
                                 "list \\\"0-x\\\""),
                "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Fields hull parses but cannot honour are errors, not silently dropped:
 * the container would get less than its config asks for. */
START_TEST(unimplemented_linux_fields_are_refused) {
  hexpect_create_refused("\"intelRdt\": {\"closID\": \"hull\", "
                 "\"l3CacheSchema\": \"L3:0=ff\"}",
                 ".linux.intelRdt: not supported");
  /* runc adds context= to every mount and fails with EINVAL without
   * SELinux; hull says why, and labels no mounts with SELinux either. */
  hexpect_create_refused("\"mountLabel\": \"system_u:object_r:svirt_sandbox_file_t:s0\"",
                 access("/sys/fs/selinux/enforce", F_OK) == 0
                     ? "linux.mountLabel: not supported"
                     : "linux.mountLabel: \\\"system_u:object_r:"
                       "svirt_sandbox_file_t:s0\\\" requested but SELinux "
                       "is not enabled on this host");
}
END_TEST

/* `features` reports what hull implements, not what the host runs
 * (features-linux.md: "irrelevant to the availability ... on the host"). */
static yajl_val feature(yajl_val doc, const char *const *path) {
  yajl_val v = yajl_tree_get(doc, (const char **)path, yajl_t_any);
  ck_assert_msg(v != NULL, "features: no linux.%s.%s", path[1],
                path[2] ? path[2] : "");
  return v;
}

static bool feature_true(yajl_val doc, const char *a, const char *b) {
  const char *path[] = {"linux", a, b, NULL};
  return YAJL_IS_TRUE(feature(doc, path));
}

static bool lists(yajl_val doc, const char *a, const char *b,
                  const char *want) {
  const char *path[] = {"linux", a, b, NULL};
  yajl_val v = feature(doc, path);
  for (size_t i = 0; YAJL_IS_ARRAY(v) && i < v->u.array.len; i++) {
    const char *name = YAJL_GET_STRING(v->u.array.values[i]);
    if (name && strcmp(name, want) == 0)
      return true;
  }
  return false;
}

START_TEST(features_tell_what_is_implemented) {
  struct hctx *c = hctx_new();
  struct hres r = hrun(c, "features", NULL);
  ck_assert_hres(r, 0);
  yajl_val doc = yajl_tree_parse(r.out, NULL, 0);
  ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
  ck_assert(feature_true(doc, "apparmor", "enabled"));
  ck_assert(feature_true(doc, "selinux", "enabled"));
  ck_assert(feature_true(doc, "cgroup", "rdma"));
  ck_assert(!feature_true(doc, "intelRdt", "enabled"));
  ck_assert(feature_true(doc, "netDevices", "enabled"));
  ck_assert(lists(doc, "memoryPolicy", "modes", "MPOL_BIND"));
  ck_assert(lists(doc, "memoryPolicy", "flags", "MPOL_F_STATIC_NODES"));
  /* Every capability hull recognizes, also those newer than the kernel. */
  const char *caps[] = {"linux", "capabilities", NULL};
  yajl_val v = yajl_tree_get(doc, caps, yajl_t_array);
  ck_assert_msg(v && v->u.array.len == 41, "capabilities: %zu",
                v ? v->u.array.len : 0);
  const char *last = YAJL_GET_STRING(v->u.array.values[40]);
  ck_assert_str_eq(last ? last : "", "CAP_CHECKPOINT_RESTORE");
  yajl_tree_free(doc);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *security_suite(void) {
  Suite *s = suite_create("integration-security");
  TCase *tc = harness_tcase("security", 30);
  tcase_add_test(tc, rlimits_are_applied);
  tcase_add_test(tc, raising_a_hard_rlimit_fails_clearly);
  tcase_add_test(tc, oom_score_adj_and_personality);
  tcase_add_test(tc, capability_sets_match_the_config);
  tcase_add_test(tc, unknown_or_malformed_capability_is_refused);
  tcase_add_test(tc, absent_lsm_is_an_error);
  tcase_add_test(tc, memory_policy_applies_to_the_process);
  tcase_add_test(tc, unimplemented_linux_fields_are_refused);
  tcase_add_test(tc, features_tell_what_is_implemented);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(security_suite)
