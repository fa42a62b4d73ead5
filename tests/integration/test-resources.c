/* test-resources.c — linux.resources in real containers: limits proven by
 * their effect where that is cheap (a memory hog is OOM-killed, a fork loop
 * stops at pids.limit) and by the kernel's own files otherwise (read from
 * the host while the container is created).
 *
 * Works on v1/hybrid hosts and on a pure cgroup v2 host (told apart by
 * /sys/fs/cgroup's file system type); on any other layout, or when a
 * controller a test needs is missing, the test says so and passes. The
 * container's cgroup is hull's default, /hull/<id>. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}


/* The directory of the container's cgroup for a v1 controller (ignored on
 * v2, where there is one directory). */
static char *cgroup_dir(enum layout l, const char *controller,
                        const char *id) {
  if (l == LAYOUT_V1)
    return xasprintf("/sys/fs/cgroup/%s/hull/%s", controller, id);
  return xasprintf("/sys/fs/cgroup/hull/%s", id);
}

static char *read_knob(enum layout l, const char *controller, const char *id,
                       const char *file) {
  cleanup_free char *dir = cgroup_dir(l, controller, id);
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  char *text = hread_file(path);
  return text ? text : xstrdup("<unreadable>");
}

#define ck_knob(l, ctrl, id, file, want)                                     \
  do {                                                                       \
    cleanup_free char *got_ = read_knob(l, ctrl, id, file);                  \
    ck_assert_msg(strcmp(got_, want) == 0, "%s = \"%s\", want \"%s\"", file, \
                  got_, want);                                               \
  } while (0)

static char *resources(const char *json) {
  return xasprintf("\"resources\": {%s}", json);
}

/* ---- by effect -------------------------------------------------------------- */

START_TEST(memory_limit_oom_kills_a_hog) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "memory"), "no memory controller");
  /* memory+swap = memory: no swap to escape to, where swap is accounted. */
  bool swap = l == LAYOUT_V2 ||
              exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
  cleanup_free char *res = resources(
      swap ? "\"memory\": {\"limit\": 33554432, \"swap\": 33554432}"
           : "\"memory\": {\"limit\": 33554432}");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.args = HELPER("memhog", "8"), .linux_extra = res});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "memhog=8 done"), "out: %s", r.out);
  hres_free(&r);

  r = hrun_config(c, &(struct hconfig){.args = HELPER("memhog", "64"),
                                       .linux_extra = res});
  ck_assert_hres(r, 137);
  ck_assert_msg(!hcontains(r.out, "done"), "out: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

START_TEST(pids_limit_stops_a_fork_loop) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "pids"), "no pids controller");
  cleanup_free char *res = resources("\"pids\": {\"limit\": 5}");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
                                     .args = HELPER("forkbomb", "10"),
                                     .linux_extra = res});
  ck_assert_hres(r, 0);
  /* The helper is the first of the five. */
  ck_assert_msg(hcontains(r.out, "forks=4\n"), "out: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* ---- by the kernel's files ------------------------------------------------ */

static void create_with(struct hctx *c, const char *res) {
  cleanup_free char *linux_extra = resources(res);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .linux_extra = linux_extra});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
}

/* The nr_throttled counter of the container's cpu.stat (-1: unreadable). */
static long nr_throttled(enum layout l, const char *id) {
  cleanup_free char *stat = read_knob(l, "cpu", id, "cpu.stat");
  const char *p = strstr(stat, "nr_throttled ");
  return p ? atol(p + strlen("nr_throttled ")) : -1;
}

START_TEST(cpu_quota_throttles_a_busy_loop) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "cpu"), "no cpu controller");
  struct hctx *c = hctx_new();
  cleanup_free char *res =
      resources("\"cpu\": {\"quota\": 10000, \"period\": 100000}");
  hctx_write_config(c, &(struct hconfig){
                           .args = "\"/bin/sh\", \"-c\", \"while :; do :; done\"",
                           .linux_extra = res});
  hrun_expect(0, c, "run", "-d", "--bundle", c->bundle, c->id);
  /* At 10% of a CPU a spinning shell is throttled every period. */
  long throttled = 0;
  for (int i = 0; i < 100 && throttled <= 0; i++) {
    usleep(50 * 1000);
    throttled = nr_throttled(l, c->id);
  }
  ck_assert_msg(throttled > 0, "cpu.stat nr_throttled = %ld", throttled);
  hctx_delete_and_finish(c);
}
END_TEST

/* deny-all plus runc's allowed list: a loop device node can be made (mknod
 * is allowed for all) but not opened; /dev/null still opens. */
START_TEST(denied_device_cannot_be_opened) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(l == LAYOUT_V2 || has_controller(l, "devices"),
              "no devices controller");
  struct hctx *c = hctx_new();
  cleanup_free char *res =
      resources("\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]");
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"mknod /tmp/loop b 7 0 &&"
                     " echo made; head -c 1 /tmp/loop >/dev/null && echo opened;"
                     " head -c 1 /dev/zero >/dev/null && echo zero ok; true\"",
             .process_extra =
                 "\"capabilities\": {\"bounding\": [\"CAP_MKNOD\"],"
                 " \"effective\": [\"CAP_MKNOD\"], \"permitted\": [\"CAP_MKNOD\"]}",
             .linux_extra = res});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "made\n"), "out: %s\nerr: %s", r.out, r.err);
  ck_assert_msg(!hcontains(r.out, "opened"), "out: %s", r.out);
  ck_assert_msg(hcontains(r.err, "Operation not permitted"), "err: %s", r.err);
  ck_assert_msg(hcontains(r.out, "zero ok\n"), "out: %s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* The helper writes to /dev/kmsg in the container: "" when it may, else
 * its error (free it). */
static char *kmsg_write_error(struct hctx *c) {
  struct hres r = hrun(c, "exec", c->id, "/bin/hull-test-helper", "write",
                       "/dev/kmsg", "hull-test: device rule check\n", NULL);
  char *e = xstrdup(r.status == 0 ? "" : r.err);
  hres_free(&r);
  return e;
}

/* A node in linux.devices gets no allow rule of its own (as in runc): the
 * config's deny-all covers /dev/kmsg, at create and after `update`, which
 * leaves the device rules alone (runc 1.1 too). */
START_TEST(deny_all_covers_nodes_from_linux_devices) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(l == LAYOUT_V2 || has_controller(l, "devices"),
              "no devices controller");
  SKIP_UNLESS(has_controller(l, "pids"), "no pids controller for the update");
  struct hctx *c = hctx_new();
  cleanup_free char *linux_extra = xasprintf(
      "\"devices\": [{\"path\": \"/dev/kmsg\", \"type\": \"c\", "
      "\"major\": 1, \"minor\": 11, \"fileMode\": 438}], %s",
      "\"resources\": {\"devices\": [{\"allow\": false, "
      "\"access\": \"rwm\"}]}");
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .linux_extra = linux_extra});
  hrun_expect(0, c, "create", "--bundle", c->bundle, c->id);
  hrun_expect(0, c, "start", c->id);
  cleanup_free char *before = kmsg_write_error(c);
  ck_assert_msg(hcontains(before, "Operation not permitted"),
                "write /dev/kmsg: \"%s\"", before);

  cleanup_free char *doc = xasprintf("%s/update.json", c->dir);
  hwrite_file(doc, "{\"pids\": {\"limit\": 50}}", 0644);
  hrun_expect(0, c, "update", "--resources", doc, c->id);
  cleanup_free char *after = kmsg_write_error(c);
  ck_assert_msg(hcontains(after, "Operation not permitted"),
                "after update, write /dev/kmsg: \"%s\"", after);
  hctx_delete_and_finish(c);
}
END_TEST

/* Without linux.resources a container still gets only runc's default
 * devices (runc always applies them): /dev/kmsg from linux.devices is
 * made but cannot be written; /dev/null can. */
START_TEST(default_device_rules_apply_without_resources) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(l == LAYOUT_V2 || has_controller(l, "devices"),
              "no devices controller");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){
             .args = "\"/bin/sh\", \"-c\", \"echo x > /dev/null && echo null ok;"
                     " /bin/hull-test-helper write /dev/kmsg hull-test; true\"",
             .linux_extra = "\"devices\": [{\"path\": \"/dev/kmsg\", "
                            "\"type\": \"c\", \"major\": 1, \"minor\": 11, "
                            "\"fileMode\": 438}]"});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "null ok\n"), "out: %s\nerr: %s", r.out,
                r.err);
  ck_assert_msg(hcontains(r.err, "Operation not permitted"), "err: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* The first CPU or memory node of the root cpuset's effective list
 * ("2-5,7" -> "2"): one this host has and lets containers use. */
static char *first_effective(enum layout l, const char *what) {
  cleanup_free char *path =
      l == LAYOUT_V1
          ? xasprintf("/sys/fs/cgroup/cpuset/cpuset.effective_%s", what)
          : xasprintf("/sys/fs/cgroup/cpuset.%s.effective", what);
  cleanup_free char *list = hread_file(path);
  ck_assert_msg(list && list[0] >= '0' && list[0] <= '9', "%s: %s", path,
                list ? list : "(unreadable)");
  return xstrndup(list, strspn(list, "0123456789"));
}

START_TEST(cpu_cpuset_and_memory_knobs) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "cpu") && has_controller(l, "cpuset") &&
                  has_controller(l, "memory"),
              "no cpu, cpuset or memory controller");
  cleanup_free char *cpu = first_effective(l, "cpus");
  cleanup_free char *mem = first_effective(l, "mems");
  struct hctx *c = hctx_new();
  cleanup_free char *res = xasprintf(
      "\"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 100000, "
      "\"cpus\": \"%s\", \"mems\": \"%s\"}, \"memory\": {\"limit\": 67108864, "
      "\"reservation\": 16777216}", cpu, mem);
  create_with(c, res);
  if (l == LAYOUT_V1) {
    ck_knob(l, "cpu", c->id, "cpu.cfs_quota_us", "50000\n");
    ck_knob(l, "cpu", c->id, "cpu.cfs_period_us", "100000\n");
    ck_knob(l, "cpu", c->id, "cpu.shares", "512\n");
    ck_knob(l, "memory", c->id, "memory.limit_in_bytes", "67108864\n");
    ck_knob(l, "memory", c->id, "memory.soft_limit_in_bytes", "16777216\n");
  } else {
    ck_knob(l, "cpu", c->id, "cpu.max", "50000 100000\n");
    ck_knob(l, "cpu", c->id, "cpu.weight", "59\n");
    ck_knob(l, "memory", c->id, "memory.max", "67108864\n");
    ck_knob(l, "memory", c->id, "memory.low", "16777216\n");
  }
  cleanup_free char *cpu_line = xasprintf("%s\n", cpu);
  cleanup_free char *mem_line = xasprintf("%s\n", mem);
  ck_knob(l, "cpuset", c->id, "cpuset.cpus", cpu_line);
  ck_knob(l, "cpuset", c->id, "cpuset.mems", mem_line);
  hctx_delete_and_finish(c);
}
END_TEST

static void assert_refused(struct hctx *c, const char *res, const char *want);

/* Whether a v1 blkio cgroup offers a weight file (CFQ's or BFQ's): asked of
 * a child cgroup of the test's own, since the root's files differ. */
static bool v1_blkio_has_weights(const char *id) {
  cleanup_free char *probe = xasprintf("/sys/fs/cgroup/blkio/%s-probe", id);
  ck_assert_msg(mkdir(probe, 0755) == 0, "mkdir %s: %s", probe,
                strerror(errno));
  cleanup_free char *cfq = xasprintf("%s/blkio.weight", probe);
  cleanup_free char *bfq = xasprintf("%s/blkio.bfq.weight", probe);
  bool has = exists(cfq) || exists(bfq);
  ck_assert_int_eq(rmdir(probe), 0);
  return has;
}

/* The weight lands in CFQ's or BFQ's file; a host whose blkio has neither
 * (no CFQ or BFQ I/O scheduler, only throttling) refuses it with an error
 * naming the field, and leaves nothing. */
START_TEST(block_io_weight_or_a_clear_refusal) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, l == LAYOUT_V1 ? "blkio" : "io"),
              "no blkio/io controller");
  const char *cfq = l == LAYOUT_V1 ? "blkio.weight" : "io.weight";
  const char *bfq = l == LAYOUT_V1 ? "blkio.bfq.weight" : "io.bfq.weight";
  struct hctx *c = hctx_new();
  if (l == LAYOUT_V1 && !v1_blkio_has_weights(c->id)) {
    assert_refused(c, "\"blockIO\": {\"weight\": 300}",
                   "linux.resources.blockIO.weight: not supported by this "
                   "host's blkio controller (no blkio.weight or "
                   "blkio.bfq.weight: needs the CFQ or BFQ I/O scheduler)");
    hctx_finish(c);
    return;
  }
  create_with(c, "\"blockIO\": {\"weight\": 300}");
  /* hull prefers v1's CFQ file and v2's BFQ one, as runc. BFQ takes the
   * weight as is; io.weight gets it mapped to 1-10000. */
  cleanup_free char *dir = cgroup_dir(l, "blkio", c->id);
  cleanup_free char *cfq_path = xasprintf("%s/%s", dir, cfq);
  cleanup_free char *bfq_path = xasprintf("%s/%s", dir, bfq);
  bool use_bfq = l == LAYOUT_V2 ? exists(bfq_path) : !exists(cfq_path);
  cleanup_free char *got = read_knob(l, "blkio", c->id, use_bfq ? bfq : cfq);
  const char *want = use_bfq || l == LAYOUT_V1 ? "300" : "2930";
  ck_assert_msg(hcontains(got, want), "%s = %s, want %s",
                use_bfq ? bfq : cfq, got, want);
  hctx_delete_and_finish(c);
}
END_TEST

START_TEST(hugetlb_limit_or_a_clear_refusal) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(exists("/sys/kernel/mm/hugepages/hugepages-2048kB"),
              "no 2MB huge pages");
  const char *res = "\"hugepageLimits\": [{\"pageSize\": \"2MB\", "
                    "\"limit\": 4194304}]";
  struct hctx *c = hctx_new();
  if (has_controller(l, "hugetlb")) {
    create_with(c, res);
    ck_knob(l, "hugetlb", c->id,
            l == LAYOUT_V1 ? "hugetlb.2MB.limit_in_bytes" : "hugetlb.2MB.max",
            "4194304\n");
    hrun_expect(0, c, "delete", "--force", c->id);
  } else {
    /* v1 without a hugetlb hierarchy: refused, not dropped. */
    cleanup_free char *linux_extra = resources(res);
    struct hres r = hrun_config(c, &(struct hconfig){.linux_extra =
                                                         linux_extra});
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(hcontains(r.err, "linux.resources.hugepageLimits: the "
                                   "hugetlb cgroup controller is not mounted"),
                  "stderr: %s", r.err);
    hres_free(&r);
  }
  hctx_finish(c);
}
END_TEST

/* ---- errors ------------------------------------------------------------------ */

/* Runs with res and expects a failure whose message contains want; the
 * container, its state and its cgroup must be gone (hctx_finish checks). */
static void assert_refused(struct hctx *c, const char *res, const char *want) {
  cleanup_free char *linux_extra = resources(res);
  struct hres r = hrun_config(c, &(struct hconfig){.linux_extra =
                                                       linux_extra});
  ck_assert_int_ne(r.status, 0);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s\nwant: %s", r.err, want);
  hres_free(&r);
  r = hrun(c, "state", c->id, NULL);
  ck_assert_int_ne(r.status, 0);
  hres_free(&r);
}

START_TEST(invalid_values_fail_clearly_and_leave_nothing) {
  enum layout l = host_layout();
  SKIP_UNLESS(l != LAYOUT_OTHER, "unknown cgroup layout");
  SKIP_UNLESS(has_controller(l, "cpuset"), "no cpuset controller");
  struct hctx *c = hctx_new();
  cleanup_free char *dir = cgroup_dir(l, "cpuset", c->id);
  cleanup_free char *want =
      xasprintf("linux.resources.cpu.cpus: write 99999 to %s/cpuset.cpus: ",
                dir);
  /* Past any kernel's NR_CPUS (at most 8192), so no host has that CPU. */
  assert_refused(c, "\"cpu\": {\"cpus\": \"99999\"}", want);
  assert_refused(c, "\"memory\": {\"limit\": 1048576, \"swap\": 524288}",
                 l == LAYOUT_V1 ? "linux.resources.memory.swap: write "
                                  "524288 to "
                                : "linux.resources.memory.swap: 524288 is "
                                  "below memory.limit");
  if (l == LAYOUT_V1) {
    assert_refused(c, "\"memory\": {\"swappiness\": 200}",
                   "linux.resources.memory.swappiness: 200 is not in 0-100");
    assert_refused(c, "\"unified\": {\"pids.max\": \"7\"}",
                   "linux.resources.unified: needs cgroup v2");
  } else {
    assert_refused(c, "\"memory\": {\"disableOOMKiller\": true}",
                   "linux.resources.memory.disableOOMKiller: cgroup v2");
    assert_refused(c, "\"unified\": {\"cgroup.procs\": \"1\"}",
                   "`cgroup.procs` is managed by the runtime");
    assert_refused(c, "\"network\": {\"classID\": 1}",
                   "linux.resources.network.classID: cgroup v2 has no");
  }
  hctx_finish(c);
}
END_TEST

START_TEST(unified_keys_on_v2) {
  enum layout l = host_layout();
  SKIP_UNLESS(l == LAYOUT_V2, "needs cgroup v2");
  SKIP_UNLESS(has_controller(l, "pids"), "no pids controller");
  struct hctx *c = hctx_new();
  create_with(c, "\"pids\": {\"limit\": 100}, "
                 "\"unified\": {\"pids.max\": \"7\"}");
  ck_knob(l, "pids", c->id, "pids.max", "7\n");  /* unified has the last word */
  hctx_delete_and_finish(c);
}
END_TEST

static Suite *resources_suite(void) {
  Suite *s = suite_create("integration-resources");
  TCase *tc = harness_tcase("resources", 60);
  tcase_add_test(tc, memory_limit_oom_kills_a_hog);
  tcase_add_test(tc, pids_limit_stops_a_fork_loop);
  tcase_add_test(tc, cpu_cpuset_and_memory_knobs);
  tcase_add_test(tc, cpu_quota_throttles_a_busy_loop);
  tcase_add_test(tc, denied_device_cannot_be_opened);
  tcase_add_test(tc, deny_all_covers_nodes_from_linux_devices);
  tcase_add_test(tc, default_device_rules_apply_without_resources);
  tcase_add_test(tc, block_io_weight_or_a_clear_refusal);
  tcase_add_test(tc, hugetlb_limit_or_a_clear_refusal);
  tcase_add_test(tc, invalid_values_fail_clearly_and_leave_nothing);
  tcase_add_test(tc, unified_keys_on_v2);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(resources_suite)
