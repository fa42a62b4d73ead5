/* test_spec.c — config.json parsing: the runtime-spec's own good and bad
 * documents plus hull's, exact error messages with JSON paths, struct
 * contents of full examples, and the `hull spec` default document. */
#include "../suite.h"
#include "runtime/spec/spec.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static const char *cases_dir(void) {
  const char *d = getenv("HULL_SPEC_TESTS");
  return d && *d ? d : "tests/spec-cases";
}

static struct spec *load_case(const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", cases_dir(), name);
  cleanup_free char *json = NULL;
  cleanup_error hull_error_t err = NULL;
  size_t len;
  ck_assert_msg(read_file(path, &json, &len, &err) == 0, "%s", err->msg);
  struct spec *spec = NULL;
  ck_assert_msg(spec_parse(json, len, "config.json", &spec, &err) == 0,
                "%s: %s", name, err ? err->msg : "?");
  return spec;
}

/* Parses `json`, expecting failure with exactly `msg`. */
static void expect_error(const char *json, const char *msg) {
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  int r = spec_parse(json, strlen(json), "config.json", &spec, &err);
  ck_assert_msg(r < 0, "accepted: %s", json);
  ck_assert_ptr_null(spec);
  ck_assert_ptr_nonnull(err);
  ck_assert_str_eq(err->msg, msg);
}

static char **list_cases(const char *sub) {
  cleanup_free char *dir = xasprintf("%s/%s", cases_dir(), sub);
  struct dirent **entries;
  int n = scandir(dir, &entries, NULL, alphasort);
  ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
  char **names = xzalloc((n + 1) * sizeof(char *));
  size_t k = 0;
  for (int i = 0; i < n; i++) {
    const char *name = entries[i]->d_name;
    size_t len = strlen(name);
    if (len > 5 && strcmp(name + len - 5, ".json") == 0)
      names[k++] = xasprintf("%s/%s", sub, name);
    free(entries[i]);
  }
  free(entries);
  return names;
}

#define PREFIX "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"rootfs\"}, "

/* ---- the document collections --------------------------------------- */

START_TEST(test_good_cases_parse) {
  cleanup_strv char **names = list_cases("good");
  ck_assert_uint_ge(strv_len(names), 9);
  for (size_t i = 0; names[i]; i++) {
    struct spec *spec = load_case(names[i]);
    ck_assert_ptr_nonnull(spec);
    ck_assert_ptr_nonnull(spec->oci_version);
    spec_free(spec);
  }
}
END_TEST

/* bad-errors.tsv: "bad/<file>\t<message>" for every bad document, so each
 * is rejected for the reason it was written for. */
static char *expected_error(const char *name) {
  cleanup_free char *path = xasprintf("%s/bad-errors.tsv", cases_dir());
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_msg(read_file(path, &text, NULL, &err) == 0, "%s", err->msg);
  size_t n = strlen(name);
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save))
    if (strncmp(line, name, n) == 0 && line[n] == '\t')
      return xstrdup(line + n + 1);
  return NULL;
}

START_TEST(test_bad_cases_rejected) {
  cleanup_strv char **names = list_cases("bad");
  ck_assert_uint_ge(strv_len(names), 5);
  for (size_t i = 0; names[i]; i++) {
    cleanup_free char *path = xasprintf("%s/%s", cases_dir(), names[i]);
    cleanup_free char *json = NULL;
    cleanup_error hull_error_t err = NULL;
    size_t len;
    ck_assert(read_file(path, &json, &len, &err) == 0);
    struct spec *spec = NULL;
    int r = spec_parse(json, len, "config.json", &spec, &err);
    ck_assert_msg(r < 0, "%s was accepted", names[i]);
    ck_assert_ptr_null(spec);
    ck_assert_msg(strncmp(err->msg, "config.json: ", 13) == 0, "%s: %s",
                  names[i], err->msg);
    ck_assert_msg(strchr(err->msg, '\n') == NULL, "%s: multi-line: %s",
                  names[i], err->msg);
    cleanup_free char *want = expected_error(names[i]);
    ck_assert_msg(want != NULL, "%s: not in bad-errors.tsv", names[i]);
    ck_assert_str_eq(err->msg, want);
  }
}
END_TEST

/* ---- exact messages ---------------------------------------------------- */

START_TEST(test_error_paths) {
  expect_error(PREFIX "\"process\": {\"cwd\": \"/\", \"args\": \"sh\"}}",
               "config.json: .process.args: expected array of strings");
  expect_error(PREFIX "\"linux\": {\"resources\": {\"memory\": "
                      "{\"limit\": \"1G\"}}}}",
               "config.json: .linux.resources.memory.limit: expected "
               "integer");
  expect_error(PREFIX "\"mounts\": [{\"destination\": \"/a\"}, "
                      "{\"destination\": \"/b\"}, {\"source\": \"x\"}]}",
               "config.json: .mounts[2].destination: required");
  expect_error(PREFIX "\"linux\": {\"namespaces\": [{\"type\": \"foo\"}]}}",
               "config.json: .linux.namespaces[0].type: unknown namespace "
               "type \"foo\"");
  expect_error(PREFIX "\"linux\": {\"namespaces\": [{\"type\": \"uts\"}, "
                      "{\"type\": \"uts\"}]}}",
               "config.json: .linux.namespaces[1]: duplicate namespace "
               "type \"uts\"");
  expect_error("{\"root\": {\"path\": \"rootfs\"}}",
               "config.json: .ociVersion: required");
  expect_error("{\"ociVersion\": \"1.0.0\", \"root\": {}}",
               "config.json: .root.path: required");
  expect_error(PREFIX "\"process\": {\"args\": [\"sh\"]}}",
               "config.json: .process.cwd: required");
  expect_error(PREFIX "\"process\": {\"cwd\": \"/\", \"rlimits\": "
                      "[{\"type\": \"NOFILE\", \"soft\": 1, \"hard\": 1}]}}",
               "config.json: .process.rlimits[0].type: invalid rlimit type "
               "\"NOFILE\"");
  expect_error(PREFIX "\"linux\": {\"rootfsPropagation\": \"rprivate\"}}",
               "config.json: .linux.rootfsPropagation: unknown "
               "rootfsPropagation \"rprivate\"");
  expect_error(PREFIX "\"linux\": {\"seccomp\": {\"defaultAction\": "
                      "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                      "[\"read\"], \"action\": \"SCMP_ACT_KILL\", \"args\": "
                      "[{\"index\": 0, \"value\": 1, \"op\": \"EQ\"}]}]}}}",
               "config.json: .linux.seccomp.syscalls[0].args[0].op: unknown "
               "seccomp operator \"EQ\"");
  expect_error(PREFIX "\"hooks\": {\"poststart\": [{\"path\": \"/x\"}, "
                      "{\"path\": \"/y\", \"timeout\": 0}]}}",
               "config.json: .hooks.poststart[1].timeout: must be at least "
               "1");
  expect_error(PREFIX "\"linux\": {\"resources\": {\"hugepageLimits\": "
                      "[{\"pageSize\": \"2mb\", \"limit\": 1}]}}}",
               "config.json: .linux.resources.hugepageLimits[0].pageSize: "
               "invalid page size \"2mb\" (expected e.g. \"2MB\")");
  expect_error(PREFIX "\"linux\": {\"sysctl\": {\"net.core.somaxconn\": "
                      "256}}}",
               "config.json: .linux.sysctl[\"net.core.somaxconn\"]: "
               "expected string");
  expect_error(PREFIX "\"vm\": {\"image\": {\"path\": \"/i\", \"format\": "
                      "\"raw\"}}}",
               "config.json: .vm.kernel: required");
}
END_TEST

START_TEST(test_number_ranges) {
  expect_error(PREFIX "\"process\": {\"cwd\": \"/\", \"user\": "
                      "{\"uid\": 4294967296}}}",
               "config.json: .process.user.uid: 4294967296 is out of range "
               "[0, 4294967295]");
  expect_error(PREFIX "\"process\": {\"cwd\": \"/\", \"rlimits\": "
                      "[{\"type\": \"RLIMIT_CORE\", \"soft\": -1, "
                      "\"hard\": 0}]}}",
               "config.json: .process.rlimits[0].soft: -1 is out of range "
               "[0, 18446744073709551615]");
  expect_error(PREFIX "\"linux\": {\"resources\": {\"memory\": "
                      "{\"limit\": 1.5}}}}",
               "config.json: .linux.resources.memory.limit: expected "
               "integer, got 1.5");
  expect_error(PREFIX "\"linux\": {\"resources\": {\"memory\": "
                      "{\"limit\": 1e400}}}}",
               "config.json: .linux.resources.memory.limit: expected "
               "integer, got 1e400");
  expect_error(PREFIX "\"linux\": {\"resources\": {\"memory\": "
                      "{\"swap\": 9223372036854775808}}}}",
               "config.json: .linux.resources.memory.swap: "
               "9223372036854775808 is out of range [-9223372036854775808, "
               "9223372036854775807]");
  expect_error(PREFIX "\"process\": {\"cwd\": \"/\", \"rlimits\": "
                      "[{\"type\": \"RLIMIT_CORE\", \"soft\": 0, "
                      "\"hard\": 18446744073709551616}]}}",
               "config.json: .process.rlimits[0].hard: 18446744073709551616 "
               "is out of range [0, 18446744073709551615]");
  expect_error(PREFIX "\"linux\": {\"devices\": [{\"type\": \"c\", "
                      "\"path\": \"/dev/x\", \"major\": 1, \"minor\": 3, "
                      "\"fileMode\": 512}]}}",
               "config.json: .linux.devices[0].fileMode: 512 is out of "
               "range [0, 511]");
  /* 060666: a block device's type bits on a character device. */
  expect_error(PREFIX "\"linux\": {\"devices\": [{\"type\": \"c\", "
                      "\"path\": \"/dev/x\", \"major\": 1, \"minor\": 3, "
                      "\"fileMode\": 25014}]}}",
               "config.json: .linux.devices[0].fileMode: 25014 (060666) has "
               "file type bits that do not match type \"c\"");
  expect_error(PREFIX "\"linux\": {\"devices\": [{\"type\": \"c\", "
                      "\"path\": \"/dev/x\", \"major\": 1, \"minor\": 3, "
                      "\"fileMode\": 9158}]}}",
               "config.json: .linux.devices[0].fileMode: 9158 (021706) has "
               "mode bits beyond 0777 besides the file type");
}
END_TEST

/* podman passes a host device's whole st_mode (020666 for /dev/null). */
START_TEST(test_device_file_mode_with_type_bits) {
  const char *json = PREFIX "\"linux\": {\"devices\": [{\"type\": \"c\", "
                            "\"path\": \"/dev/xnull\", \"major\": 1, "
                            "\"minor\": 3, \"fileMode\": 8630}]}}";
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_msg(spec_parse(json, strlen(json), "config.json", &spec, &err) == 0,
                "%s", err ? err->msg : "?");
  ck_assert_uint_eq(spec->linux->devices[0].file_mode.v, 020666);
  spec_free(spec);
}
END_TEST

START_TEST(test_uint64_extremes) {
  struct spec *spec = load_case("good/hull-uint64-max.json");
  ck_assert_uint_eq(spec->process->rlimits[0].soft, UINT64_MAX);
  ck_assert_uint_eq(spec->process->rlimits[0].hard, UINT64_MAX);
  ck_assert_int_eq(spec->linux->resources->memory.limit.v, -1);
  ck_assert_int_eq(spec->linux->resources->memory.swap.v, INT64_MAX);
  ck_assert_int_eq(spec->linux->resources->cpu.quota.v, INT64_MIN);
  spec_free(spec);
}
END_TEST

/* ---- malformed documents ------------------------------------------------- */

START_TEST(test_malformed_json) {
  expect_error("", "config.json: empty document");
  expect_error(" \n", "config.json: empty document");
  expect_error("{\"ociVersion\": \"1.0.0\", \"root\": {\"pa",
               "config.json: invalid JSON: parse error: premature EOF");
  expect_error("{]", "config.json: invalid JSON: parse error: invalid "
                     "object key (must be a string)");
  expect_error("[1, 2]",
               "config.json: expected a JSON object at the top level");
  expect_error("\"config\"",
               "config.json: expected a JSON object at the top level");
  expect_error(PREFIX "\"hostname\": \"a\\u0000b\"}",
               "config.json: invalid JSON: \\u0000 in string at offset 66");
  expect_error(PREFIX "/* note */ \"hostname\": \"a\"}",
               "config.json: invalid JSON: comment at offset 52");
  expect_error(PREFIX "\"hostname\": \"caf\xc3\"}",
               "config.json: invalid JSON: invalid UTF-8 in string at offset "
               "68");
  /* Overlong "/", a UTF-16 surrogate, a code point above U+10FFFF. */
  expect_error(PREFIX "\"hostname\": \"\xc0\xaf\"}",
               "config.json: invalid JSON: invalid UTF-8 in string at offset "
               "65");
  expect_error(PREFIX "\"hostname\": \"\xed\xa0\x80\"}",
               "config.json: invalid JSON: invalid UTF-8 in string at offset "
               "65");
  expect_error(PREFIX "\"hostname\": \"\xf4\x90\x80\x80\"}",
               "config.json: invalid JSON: invalid UTF-8 in string at offset "
               "65");
  /* Non-ASCII bytes outside strings are yajl's to report. */
  expect_error(PREFIX "\xc3\xa9}",
               "config.json: invalid JSON: lexical error: invalid char in "
               "json text.");
}
END_TEST

START_TEST(test_utf8_accepted) {
  const char *doc = PREFIX "\"hostname\": \"caf\xc3\xa9-\xe2\x82\xac-"
                           "\xf0\x9f\x90\xb3-\\u00e9\"}";
  cleanup_spec struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(spec_parse(doc, strlen(doc), "config.json", &spec, &err),
                   0);
  ck_assert_str_eq(spec->hostname, "caf\xc3\xa9-\xe2\x82\xac-"
                                   "\xf0\x9f\x90\xb3-\xc3\xa9");
}
END_TEST

START_TEST(test_nul_byte_rejected) {
  static const char doc[] = "{\"ociVersion\": \"1\", \"root\": {\"path\": "
                            "\"r\"}}\0garbage";
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_lt(
      spec_parse(doc, sizeof(doc) - 1, "config.json", &spec, &err), 0);
  ck_assert_str_eq(err->msg, "config.json: invalid JSON: NUL byte at offset "
                             "42");
}
END_TEST

/* The length is honoured: the text need not be NUL-terminated. */
START_TEST(test_parse_uses_length) {
  static const char doc[] = "{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": "
                            "\"rootfs\"}}XXXX";
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(spec_parse(doc, sizeof(doc) - 5, "x.json", &spec, &err),
                   0);
  ck_assert_str_eq(spec->root.path, "rootfs");
  spec_free(spec);
  ck_assert_int_lt(spec_parse(doc, 10, "x.json", &spec, &err), 0);
  ck_assert_str_eq(err->msg, "x.json: invalid JSON: parse error: premature "
                             "EOF");
}
END_TEST

static char *nested(const char *open, const char *close, size_t depth) {
  size_t lo = strlen(open), lc = strlen(close);
  const char *head = PREFIX "\"annotations\": ";
  size_t lh = strlen(head);
  char *s = xmalloc(lh + depth * (lo + lc) + 2);
  char *p = stpcpy(s, head);
  for (size_t i = 0; i < depth; i++)
    p = stpcpy(p, open);
  for (size_t i = 0; i < depth; i++)
    p = stpcpy(p, close);
  strcpy(p, "}");
  return s;
}

START_TEST(test_deep_nesting) {
  const char *msg =
      "config.json: invalid JSON: nested deeper than 200 levels";
  cleanup_free char *arrays = nested("[", "]", 1000000);
  expect_error(arrays, msg);
  cleanup_free char *objects = nested("{\"a\":", "}", 100000);
  expect_error(objects, msg);
  /* The document's own object counts: 199 more levels is the limit. */
  cleanup_free char *edge = nested("[", "]", 200);
  expect_error(edge, msg);
  cleanup_free char *ok = nested("[", "]", 199);
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  /* Within the limit the nesting reaches the type check, not the scanner. */
  ck_assert_int_lt(spec_parse(ok, strlen(ok), "config.json", &spec, &err), 0);
  ck_assert_str_eq(err->msg, "config.json: .annotations: expected object");
  /* Brackets inside strings do not count. */
  cleanup_free char *quoted = xasprintf(
      PREFIX "\"hostname\": \"%0500d\"}", 0);
  memset(strstr(quoted, "\"000") + 1, '[', 500);
  ck_assert_int_eq(
      spec_parse(quoted, strlen(quoted), "config.json", &spec, &err), 0);
  ck_assert_uint_eq(strlen(spec->hostname), 500);
  spec_free(spec);
}
END_TEST

/* ---- full documents land in the right fields ---------------------------- */

START_TEST(test_spec_example_process) {
  cleanup_spec struct spec *spec = load_case("good/spec-example.json");
  ck_assert_str_eq(spec->oci_version, "0.5.0-dev");
  ck_assert_str_eq(spec->root.path, "rootfs");
  ck_assert(spec->root.readonly);
  ck_assert_str_eq(spec->hostname, "slartibartfast");
  ck_assert_str_eq(spec->domainname, "foobarbaz.test");

  const struct spec_process *p = spec->process;
  ck_assert(p->terminal);
  ck_assert_uint_eq(p->user.uid, 1);
  ck_assert_uint_eq(p->user.gid, 1);
  ck_assert_uint_eq(p->user.n_additional_gids, 2);
  ck_assert_uint_eq(p->user.additional_gids[1], 6);
  ck_assert(!p->user.umask.set);
  ck_assert_uint_eq(strv_len(p->args), 1);
  ck_assert_str_eq(p->args[0], "sh");
  ck_assert_str_eq(p->env[1], "TERM=xterm");
  ck_assert_str_eq(p->cwd, "/");
  ck_assert_uint_eq(strv_len(p->capabilities->bounding), 3);
  ck_assert_uint_eq(strv_len(p->capabilities->effective), 2);
  ck_assert_str_eq(p->capabilities->ambient[0], "CAP_NET_BIND_SERVICE");
  ck_assert_str_eq(p->capabilities->inheritable[2], "CAP_NET_BIND_SERVICE");
  ck_assert_uint_eq(p->n_rlimits, 2);
  ck_assert_str_eq(p->rlimits[1].type, "RLIMIT_NOFILE");
  ck_assert_uint_eq(p->rlimits[1].soft, 1024);
  ck_assert_uint_eq(p->rlimits[1].hard, 1024);
  ck_assert_str_eq(p->apparmor_profile, "acme_secure_profile");
  ck_assert_str_eq(p->selinux_label,
                   "system_u:system_r:svirt_lxc_net_t:s0:c124,c675");
  ck_assert(p->no_new_privileges);
  ck_assert(!p->oom_score_adj.set);
}
END_TEST

START_TEST(test_spec_example_mounts_hooks) {
  cleanup_spec struct spec *spec = load_case("good/spec-example.json");
  ck_assert_uint_eq(spec->n_mounts, 7);
  ck_assert_str_eq(spec->mounts[0].destination, "/proc");
  ck_assert_ptr_null(spec->mounts[0].options);
  ck_assert_str_eq(spec->mounts[2].type, "devpts");
  ck_assert_str_eq(spec->mounts[2].options[5], "gid=5");
  ck_assert_str_eq(spec->mounts[3].source, "shm");
  ck_assert_str_eq(spec->mounts[6].destination, "/sys/fs/cgroup");

  const struct spec_hooks *h = &spec->hooks;
  ck_assert_uint_eq(h->prestart.len, 2);
  ck_assert_str_eq(h->prestart.items[0].path, "/usr/bin/fix-mounts");
  ck_assert_str_eq(h->prestart.items[0].args[2], "arg2");
  ck_assert_str_eq(h->prestart.items[0].env[0], "key1=value1");
  ck_assert_ptr_null(h->prestart.items[1].args);
  ck_assert_uint_eq(h->create_runtime.len, 2);
  ck_assert_str_eq(h->create_container.items[0].args[0], "-mount");
  ck_assert_str_eq(h->start_container.items[0].path,
                   "/usr/bin/refresh-ldcache");
  ck_assert(h->poststart.items[0].timeout.set);
  ck_assert_int_eq(h->poststart.items[0].timeout.v, 5);
  ck_assert(!h->poststop.items[0].timeout.set);
  ck_assert_str_eq(h->poststop.items[0].args[1], "-f");

  ck_assert_uint_eq(spec->annotations.len, 2);
  ck_assert_str_eq(spec_map_get(&spec->annotations, "com.example.key2"),
                   "value2");
  ck_assert_ptr_null(spec_map_get(&spec->annotations, "missing"));
  ck_assert_ptr_null(spec->vm);
}
END_TEST

START_TEST(test_spec_example_linux) {
  cleanup_spec struct spec *spec = load_case("good/spec-example.json");
  const struct spec_linux *l = spec->linux;
  ck_assert_uint_eq(l->n_devices, 2);
  ck_assert_str_eq(l->devices[0].path, "/dev/fuse");
  ck_assert_str_eq(l->devices[1].type, "b");
  ck_assert_int_eq(l->devices[0].major.v, 10);
  ck_assert_int_eq(l->devices[0].minor.v, 229);
  ck_assert_uint_eq(l->devices[0].file_mode.v, 438);
  ck_assert(l->devices[1].gid.set);
  ck_assert_uint_eq(l->n_uid_mappings, 1);
  ck_assert_uint_eq(l->uid_mappings[0].host_id, 1000);
  ck_assert_uint_eq(l->uid_mappings[0].size, 32000);
  ck_assert_uint_eq(l->gid_mappings[0].container_id, 0);
  ck_assert_str_eq(spec_map_get(&l->sysctl, "net.core.somaxconn"), "256");
  ck_assert_str_eq(l->cgroups_path, "/myRuntime/myContainer");
  ck_assert_str_eq(l->rootfs_propagation, "slave");
  ck_assert_uint_eq(l->n_namespaces, 8);
  ck_assert_int_eq(l->namespaces[7].type, SPEC_NS_TIME);
  ck_assert_ptr_nonnull(spec_namespace_find(spec, SPEC_NS_CGROUP));
  ck_assert(l->time_offsets.monotonic.set);
  ck_assert_int_eq(l->time_offsets.monotonic.secs, 172800);
  ck_assert_int_eq(l->time_offsets.boottime.secs, 604800);
  ck_assert_uint_eq(strv_len(l->masked_paths), 4);
  ck_assert_str_eq(l->masked_paths[0], "/proc/kcore");
  ck_assert_str_eq(l->readonly_paths[5], "/proc/sysrq-trigger");
  ck_assert_str_eq(l->mount_label,
                   "system_u:object_r:svirt_sandbox_file_t:s0:c715,c811");

  const struct spec_seccomp *s = l->seccomp;
  ck_assert_str_eq(s->default_action, "SCMP_ACT_ALLOW");
  ck_assert_str_eq(s->architectures[1], "SCMP_ARCH_X32");
  ck_assert_uint_eq(s->n_syscalls, 1);
  ck_assert_str_eq(s->syscalls[0].names[1], "chmod");
  ck_assert_str_eq(s->syscalls[0].action, "SCMP_ACT_ERRNO");
  ck_assert_uint_eq(s->syscalls[0].n_args, 0);
}
END_TEST

START_TEST(test_spec_example_resources) {
  cleanup_spec struct spec *spec = load_case("good/spec-example.json");
  const struct spec_resources *r = spec->linux->resources;
  ck_assert(r->memory.present);
  ck_assert_int_eq(r->memory.limit.v, 536870912);
  ck_assert_int_eq(r->memory.kernel.v, -1);
  ck_assert(r->memory.swappiness.set);
  ck_assert_uint_eq(r->memory.swappiness.v, 0);
  ck_assert(r->memory.disable_oom_killer.set);
  ck_assert(!r->memory.disable_oom_killer.v);
  ck_assert(r->cpu.present);
  ck_assert_uint_eq(r->cpu.shares.v, 1024);
  ck_assert_int_eq(r->cpu.quota.v, 1000000);
  ck_assert_uint_eq(r->cpu.burst.v, 1000000);
  ck_assert_uint_eq(r->cpu.period.v, 500000);
  ck_assert_int_eq(r->cpu.realtime_runtime.v, 950000);
  ck_assert_str_eq(r->cpu.cpus, "2-3");
  ck_assert_str_eq(r->cpu.mems, "0-7");
  ck_assert(!r->cpu.idle.set);
  ck_assert_int_eq(r->pids.limit.v, 32771);
  ck_assert_uint_eq(r->n_devices, 3);
  ck_assert(!r->devices[0].allow);
  ck_assert_ptr_null(r->devices[0].type);
  ck_assert_str_eq(r->devices[0].access, "rwm");
  ck_assert(r->devices[1].allow);
  ck_assert_str_eq(r->devices[1].type, "c");
  ck_assert_int_eq(r->devices[2].major.v, 8);
  ck_assert_uint_eq(r->block_io.weight.v, 10);
  ck_assert_uint_eq(r->block_io.n_weight_device, 2);
  ck_assert_uint_eq(r->block_io.weight_device[0].leaf_weight.v, 300);
  ck_assert(!r->block_io.weight_device[1].leaf_weight.set);
  ck_assert_uint_eq(r->block_io.throttle_read_bps[0].rate, 600);
  ck_assert_int_eq(r->block_io.throttle_write_iops[0].minor, 16);
  ck_assert_uint_eq(r->block_io.n_throttle_write_bps, 0);
  ck_assert_uint_eq(r->n_hugepage_limits, 2);
  ck_assert_str_eq(r->hugepage_limits[1].page_size, "64KB");
  ck_assert_uint_eq(r->hugepage_limits[0].limit, 9223372036854772000ULL);
  ck_assert_uint_eq(r->network.class_id.v, 1048577);
  ck_assert_str_eq(r->network.priorities[1].name, "eth1");
  ck_assert_uint_eq(r->network.priorities[1].priority, 1000);
}
END_TEST

START_TEST(test_extras) {
  cleanup_spec struct spec *spec = load_case("good/hull-extras.json");
  const struct spec_process *p = spec->process;
  ck_assert(p->has_console_size);
  ck_assert_uint_eq(p->console_width, 80);
  ck_assert_uint_eq(p->user.uid, UINT32_MAX);
  ck_assert_uint_eq(p->user.umask.v, 18);
  ck_assert_str_eq(p->user.username, "nobody");
  ck_assert_int_eq(p->oom_score_adj.v, -500);
  ck_assert_str_eq(p->scheduler->policy, "SCHED_DEADLINE");
  ck_assert_int_eq(p->scheduler->nice.v, -5);
  ck_assert_str_eq(p->scheduler->flags[1], "SCHED_FLAG_RECLAIM");
  ck_assert_uint_eq(p->scheduler->period.v, 30000000);
  ck_assert_str_eq(p->io_priority->class_, "IOPRIO_CLASS_BE");
  ck_assert_int_eq(p->io_priority->priority.v, 4);
  ck_assert_str_eq(p->exec_cpu_affinity.initial, "0-3, 7");

  ck_assert_uint_eq(spec->mounts[0].n_uid_mappings, 1);
  ck_assert_uint_eq(spec->mounts[0].uid_mappings[0].host_id, 100000);
  ck_assert_uint_eq(spec->mounts[0].gid_mappings[0].host_id, 200000);

  const struct spec_namespace *net =
      spec_namespace_find(spec, SPEC_NS_NETWORK);
  ck_assert_str_eq(net->path, "/var/run/netns/blue");
  ck_assert_ptr_null(spec_namespace_find(spec, SPEC_NS_PID)->path);
  ck_assert_ptr_null(spec_namespace_find(spec, SPEC_NS_USER));

  const struct spec_linux *l = spec->linux;
  ck_assert_uint_eq(l->n_net_devices, 2);
  ck_assert_str_eq(l->net_devices[0].host_name, "eth1");
  ck_assert_str_eq(l->net_devices[0].name, "ceth1");
  ck_assert_ptr_null(l->net_devices[1].name);
  ck_assert_str_eq(l->resources->rdma[0].device, "mlx5_1");
  ck_assert_uint_eq(l->resources->rdma[0].hca_objects.v, 10000);
  ck_assert_str_eq(spec_map_get(&l->resources->unified, "io.weight"),
                   "default 100");
  ck_assert_int_eq(l->resources->cpu.idle.v, 1);

  const struct spec_seccomp *s = l->seccomp;
  ck_assert_uint_eq(s->default_errno_ret.v, 1);
  ck_assert_str_eq(s->flags[0], "SECCOMP_FILTER_FLAG_LOG");
  ck_assert_str_eq(s->listener_path, "/run/seccomp.sock");
  ck_assert_uint_eq(s->syscalls[1].errno_ret.v, 38);
  ck_assert_uint_eq(s->syscalls[1].n_args, 2);
  ck_assert_uint_eq(s->syscalls[1].args[0].value, UINT64_MAX);
  ck_assert_str_eq(s->syscalls[1].args[1].op, "SCMP_CMP_MASKED_EQ");
  ck_assert_uint_eq(s->syscalls[1].args[1].index, 1);
  ck_assert_uint_eq(s->syscalls[1].args[1].value_two.v, 8);
  ck_assert(!s->syscalls[1].args[0].value_two.set);

  ck_assert_str_eq(l->personality.domain, "LINUX32");
  ck_assert_uint_eq(strv_len(l->personality.flags), 0);
  ck_assert_str_eq(l->intel_rdt.mem_bw_schema, "MB:0=20;1=70");
  ck_assert(l->intel_rdt.enable_monitoring);
  ck_assert_str_eq(l->memory_policy.mode, "MPOL_INTERLEAVE");
  ck_assert_str_eq(l->memory_policy.flags[0], "MPOL_F_STATIC_NODES");

  const struct spec_vm *vm = spec->vm;
  ck_assert(vm->has_kernel && vm->has_hypervisor && vm->has_image);
  ck_assert_str_eq(vm->kernel.path, "/boot/vmlinuz");
  ck_assert_str_eq(vm->kernel.parameters[1], "quiet");
  ck_assert_str_eq(vm->kernel.initrd, "/boot/initrd.img");
  ck_assert_str_eq(vm->hypervisor.parameters[0], "-enable-kvm");
  ck_assert_str_eq(vm->image.format, "raw");
  ck_assert_uint_eq(vm->hw_config.vcpus.v, 2);
  ck_assert_uint_eq(vm->hw_config.memory.v, 268435456);
  ck_assert_str_eq(spec_map_get(&spec->annotations, "org.hull.test"), "yes");
}
END_TEST

START_TEST(test_vm_hw_config) {
  cleanup_spec struct spec *spec = load_case("good/hull-vm-full.json");
  const struct spec_vm *vm = spec->vm;
  ck_assert_str_eq(vm->hw_config.device_tree, "/dt.dtb");
  ck_assert_str_eq(vm->hw_config.dtdevs[0], "/soc/x");
  ck_assert_uint_eq(vm->hw_config.n_iomems, 1);
  ck_assert_uint_eq(vm->hw_config.iomems[0].first_gfn.v, 1);
  ck_assert_uint_eq(vm->hw_config.iomems[0].nr_mfns, 3);
  ck_assert_uint_eq(vm->hw_config.n_irqs, 2);
  ck_assert_uint_eq(vm->hw_config.irqs[1], 6);
}
END_TEST

START_TEST(test_duplicate_key_last_wins) {
  const char *doc = PREFIX "\"hostname\": \"first\", \"hostname\": \"last\"}";
  cleanup_spec struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(spec_parse(doc, strlen(doc), "config.json", &spec, &err),
                   0);
  ck_assert_str_eq(spec->hostname, "last");
}
END_TEST

START_TEST(test_null_means_absent) {
  cleanup_spec struct spec *spec = load_case("good/hull-nulls-as-absent.json");
  ck_assert_ptr_null(spec->process->args);
  ck_assert_ptr_null(spec->process->capabilities);
  ck_assert_uint_eq(spec->linux->n_namespaces, 0);
  ck_assert_ptr_null(spec->linux->seccomp);
}
END_TEST

/* ---- loading, validation, helpers ------------------------------------------ */

START_TEST(test_load_bundle) {
  char dir[] = "/tmp/hull-spec-test-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_lt(spec_load(dir, &spec, &err), 0);
  cleanup_free char *want =
      xasprintf("open `%s/config.json`: No such file or directory", dir);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);

  cleanup_free char *path = xasprintf("%s/config.json", dir);
  const char *doc = PREFIX "\"process\": {\"cwd\": \"/\", \"args\": "
                           "[\"true\"]}}";
  ck_assert_int_eq(write_file_atomic(path, doc, strlen(doc), 0644, &err), 0);
  ck_assert_int_eq(spec_load(dir, &spec, &err), 0);
  ck_assert_str_eq(spec->process->args[0], "true");
  ck_assert_int_eq(spec_validate_for_run(spec, &err), 0);
  spec_free(spec);
  unlink(path);
  rmdir(dir);
}
END_TEST

static void expect_run_error(const char *json, const char *msg) {
  cleanup_spec struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_int_eq(spec_parse(json, strlen(json), "config.json", &spec, &err),
                   0);
  ck_assert_int_lt(spec_validate_for_run(spec, &err), 0);
  ck_assert_str_eq(err->msg, msg);
}

START_TEST(test_validate_for_run) {
  expect_run_error("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}",
                   "config.json: .process: required");
  expect_run_error(PREFIX "\"process\": {\"cwd\": \"/\"}}",
                   "config.json: .process.args: must not be empty");
  expect_run_error(PREFIX "\"process\": {\"cwd\": \"/\", \"args\": []}}",
                   "config.json: .process.args: must not be empty");
  expect_run_error(PREFIX "\"process\": {\"cwd\": \"home\", \"args\": "
                          "[\"sh\"]}}",
                   "config.json: .process.cwd: must be an absolute path");
  expect_run_error("{\"ociVersion\": \"1.0.0\", \"windows\": {}, \"process\": "
                   "{\"cwd\": \"/\", \"args\": [\"sh\"]}}",
                   "config.json: .root.path: required");
}
END_TEST

START_TEST(test_helpers) {
  static const char *const names[] = {"pid",  "network", "mount", "ipc",
                                      "uts",  "user",    "cgroup", "time"};
  for (int t = 0; t < SPEC_NS_COUNT; t++)
    ck_assert_str_eq(spec_ns_type_name((enum spec_ns_type)t), names[t]);
  ck_assert_ptr_null(spec_ns_type_name(SPEC_NS_COUNT));
  struct spec_map empty = {0};
  ck_assert_ptr_null(spec_map_get(&empty, "x"));
  struct spec none = {0};
  ck_assert_ptr_null(spec_namespace_find(&none, SPEC_NS_PID));
  spec_free(NULL);
  struct spec *p = NULL;
  cleanup_specp(&p);
}
END_TEST

/* ---- hull spec ------------------------------------------------------------- */

static struct spec *parse_default(bool rootless) {
  cleanup_free char *json = spec_default_json(rootless);
  struct spec *spec = NULL;
  cleanup_error hull_error_t err = NULL;
  ck_assert_msg(spec_parse(json, strlen(json), "config.json", &spec, &err) ==
                    0,
                "%s", err ? err->msg : "");
  ck_assert_int_eq(spec_validate_for_run(spec, &err), 0);
  /* runc's layout: tab indentation, no trailing newline. */
  ck_assert(strncmp(json, "{\n\t\"ociVersion\": \"1.2.0\",\n", 26) == 0);
  ck_assert(json[strlen(json) - 1] == '}');
  return spec;
}

START_TEST(test_default_round_trip) {
  cleanup_spec struct spec *spec = parse_default(false);
  ck_assert_str_eq(spec->oci_version, "1.2.0");
  ck_assert_str_eq(spec->root.path, "rootfs");
  ck_assert(spec->root.readonly);
  ck_assert_str_eq(spec->hostname, "runc");
  ck_assert_str_eq(spec->process->args[0], "sh");
  ck_assert(spec->process->terminal);
  ck_assert(spec->process->no_new_privileges);
  ck_assert_str_eq(spec->process->capabilities->bounding[2],
                   "CAP_NET_BIND_SERVICE");
  ck_assert_ptr_null(spec->process->capabilities->ambient);
  ck_assert_uint_eq(spec->process->rlimits[0].hard, 1024);
  ck_assert_uint_eq(spec->n_mounts, 7);
  ck_assert_str_eq(spec->mounts[2].options[5], "gid=5");
  ck_assert_str_eq(spec->mounts[5].type, "sysfs");
  ck_assert_ptr_nonnull(spec_namespace_find(spec, SPEC_NS_NETWORK));
  ck_assert_ptr_null(spec_namespace_find(spec, SPEC_NS_USER));
  ck_assert_uint_eq(spec->linux->n_uid_mappings, 0);
  ck_assert(!spec->linux->resources->devices[0].allow);
  ck_assert_str_eq(spec->linux->resources->devices[0].access, "rwm");
  ck_assert_uint_eq(strv_len(spec->linux->masked_paths), 11);
  ck_assert_uint_eq(strv_len(spec->linux->readonly_paths), 5);
}
END_TEST

START_TEST(test_default_rootless) {
  cleanup_spec struct spec *spec = parse_default(true);
  ck_assert_ptr_nonnull(spec_namespace_find(spec, SPEC_NS_USER));
  ck_assert_ptr_null(spec_namespace_find(spec, SPEC_NS_NETWORK));
  ck_assert_uint_eq(spec->linux->n_uid_mappings, 1);
  ck_assert_uint_eq(spec->linux->uid_mappings[0].host_id, geteuid());
  ck_assert_uint_eq(spec->linux->gid_mappings[0].host_id, getegid());
  ck_assert_uint_eq(spec->linux->gid_mappings[0].size, 1);
  ck_assert_ptr_null(spec->linux->resources);
  ck_assert_uint_eq(strv_len(spec->mounts[2].options), 5);
  ck_assert_str_eq(spec->mounts[5].type, "none");
  ck_assert_str_eq(spec->mounts[5].source, "/sys");
  ck_assert_str_eq(spec->mounts[5].options[0], "rbind");
}
END_TEST

static Suite *spec_suite(void) {
  Suite *s = suite_create("spec");
  TCase *docs = tcase_create("documents");
  tcase_add_test(docs, test_good_cases_parse);
  tcase_add_test(docs, test_bad_cases_rejected);
  suite_add_tcase(s, docs);

  TCase *errors = tcase_create("errors");
  tcase_set_timeout(errors, 30);
  tcase_add_test(errors, test_error_paths);
  tcase_add_test(errors, test_number_ranges);
  tcase_add_test(errors, test_uint64_extremes);
  tcase_add_test(errors, test_device_file_mode_with_type_bits);
  tcase_add_test(errors, test_malformed_json);
  tcase_add_test(errors, test_nul_byte_rejected);
  tcase_add_test(errors, test_utf8_accepted);
  tcase_add_test(errors, test_parse_uses_length);
  tcase_add_test(errors, test_deep_nesting);
  suite_add_tcase(s, errors);

  TCase *fields = tcase_create("fields");
  tcase_add_test(fields, test_spec_example_process);
  tcase_add_test(fields, test_spec_example_mounts_hooks);
  tcase_add_test(fields, test_spec_example_linux);
  tcase_add_test(fields, test_spec_example_resources);
  tcase_add_test(fields, test_extras);
  tcase_add_test(fields, test_vm_hw_config);
  tcase_add_test(fields, test_null_means_absent);
  tcase_add_test(fields, test_duplicate_key_last_wins);
  suite_add_tcase(s, fields);

  TCase *misc = tcase_create("misc");
  tcase_add_test(misc, test_load_bundle);
  tcase_add_test(misc, test_validate_for_run);
  tcase_add_test(misc, test_helpers);
  tcase_add_test(misc, test_default_round_trip);
  tcase_add_test(misc, test_default_rootless);
  suite_add_tcase(s, misc);
  return s;
}

HULL_SUITE(spec_suite)
