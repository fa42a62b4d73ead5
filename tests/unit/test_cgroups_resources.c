/* test_cgroups_resources.c — linux.resources as cgroup writes: the v1<->v2
 * conversions, and the exact write plan of the v1 and v2 setters run
 * against a temporary directory pre-filled with the knob files they should
 * touch (a missing file is an error, as on cgroupfs, where nothing is
 * created). The real v1 controllers are exercised by the integration
 * tests (tests/integration/test-resources.c). */
#include "cgroups/internal.h"
#include "tests/suite.h"

#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- a fake cgroup directory --------------------------------------------- */

static char *fake_dir(const char *const *files) {
  char tmpl[] = "/tmp/hull-cgfake-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(tmpl));
  for (size_t i = 0; files[i]; i++) {
    cleanup_free char *p = xasprintf("%s/%s", tmpl, files[i]);
    hull_error_t err = NULL;
    ck_assert_msg(write_file_atomic(p, "", 0, 0644, &err) == 0, "%s",
                  err ? err->msg : "");
  }
  return xstrdup(tmpl);
}

static char *knob(const char *dir, const char *file) {
  cleanup_free char *p = xasprintf("%s/%s", dir, file);
  char *text = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(read_file(p, &text, NULL, &err) == 0, "%s", err ? err->msg : "");
  return text;
}

#define ck_knob(dir, file, want)                                             \
  do {                                                                       \
    cleanup_free char *got_ = knob(dir, file);                               \
    ck_assert_msg(strcmp(got_, want) == 0, "%s = \"%s\", want \"%s\"", file, \
                  got_, want);                                               \
  } while (0)

static void remove_dir(char *dir) {
  hull_error_t err = NULL;
  ck_assert_int_eq(remove_tree(dir, &err), 0);
  free(dir);
}

#define SET_I(x, val) ((x) = (struct spec_int){.set = true, .v = (val)})
#define SET_U(x, val) ((x) = (struct spec_uint){.set = true, .v = (val)})

/* ---- conversions ----------------------------------------------------------- */

START_TEST(shares_to_weight_is_runc_quadratic) {
  /* Values from math.h's log2/pow with runc's formula. */
  static const uint64_t cases[][2] = {
      {0, 0},      {1, 1},       {2, 1},        {3, 2},      {10, 4},
      {100, 17},   {512, 59},    {1024, 100},   {2048, 174}, {4096, 303},
      {65536, 3023}, {262143, 10000}, {262144, 10000}, {1000000, 10000},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
    ck_assert_msg(cgroup_cpu_shares_to_weight(cases[i][0]) == cases[i][1],
                  "shares %llu -> %llu, want %llu",
                  (unsigned long long)cases[i][0],
                  (unsigned long long)cgroup_cpu_shares_to_weight(cases[i][0]),
                  (unsigned long long)cases[i][1]);
}
END_TEST

START_TEST(blkio_weight_to_io_weight) {
  ck_assert_uint_eq(cgroup_blkio_weight_to_io_weight(0), 0);
  ck_assert_uint_eq(cgroup_blkio_weight_to_io_weight(10), 1);
  ck_assert_uint_eq(cgroup_blkio_weight_to_io_weight(100), 910);
  ck_assert_uint_eq(cgroup_blkio_weight_to_io_weight(500), 4950);
  ck_assert_uint_eq(cgroup_blkio_weight_to_io_weight(1000), 10000);
}
END_TEST

static void assert_swap(int64_t swap, int64_t limit, bool want_write,
                        int64_t want) {
  bool write;
  int64_t out;
  hull_error_t err = NULL;
  ck_assert_msg(cgroup_swap_to_v2(swap, limit, &write, &out, &err) == 0, "%s",
                err ? err->msg : "");
  ck_assert_msg(write == want_write && (!write || out == want),
                "swap %lld limit %lld -> write %d out %lld", (long long)swap,
                (long long)limit, write, (long long)out);
}

START_TEST(swap_to_v2) {
  const int64_t M = 1 << 20;
  assert_swap(0, 0, false, 0);
  assert_swap(0, 32 * M, false, 0);
  assert_swap(0, -1, true, -1);        /* unlimited memory: unlimited swap */
  assert_swap(-1, 32 * M, true, -1);
  assert_swap(64 * M, 32 * M, true, 32 * M);
  assert_swap(32 * M, 32 * M, true, 0); /* memory+swap == memory: no swap */

  bool write;
  int64_t out;
  hull_error_t err = NULL;
  ck_assert_int_eq(cgroup_swap_to_v2(16 * M, 32 * M, &write, &out, &err), -1);
  ck_assert_ptr_nonnull(strstr(err->msg, "linux.resources.memory.swap"));
  hull_error_release(&err);
  ck_assert_int_eq(cgroup_swap_to_v2(64 * M, 0, &write, &out, &err), -1);
  ck_assert_ptr_nonnull(strstr(err->msg, "needs a memory limit"));
  hull_error_release(&err);
}
END_TEST

/* ---- the v2 write plan ----------------------------------------------------- */

static const char *const V2_FILES[] = {
    "memory.max", "memory.swap.max", "memory.low", "memory.high",
    "cpu.max", "cpu.weight", "cpu.max.burst", "cpu.idle",
    "cpuset.cpus", "cpuset.mems", "io.max", "io.weight", "pids.max",
    "hugetlb.2MB.max", "hugetlb.2MB.rsvd.max", "hugetlb.1GB.max",
    "rdma.max", "cgroup.procs", "cgroup.max.depth", NULL};

START_TEST(v2_write_plan) {
  char *dir = fake_dir(V2_FILES);
  struct spec_throttle_device rbps = {8, 0, 1048576}, wiops = {8, 0, 100};
  struct spec_hugepage_limit huge[] = {{"2MB", 4 << 21}, {"1GB", 0}};
  struct spec_rdma rdma = {"mlx5_1", {true, 3}, {true, 10000}};
  struct spec_kv unified[] = {{"memory.high", "48M"},
                              {"cgroup.max.depth", "3"}};
  struct spec_resources r = {0};
  SET_I(r.memory.limit, 64 << 20);
  SET_I(r.memory.swap, 96 << 20);
  SET_I(r.memory.reservation, 16 << 20);
  SET_I(r.memory.kernel, 1 << 20);    /* ignored, as runc 1.2 */
  SET_U(r.cpu.shares, 1024);
  SET_I(r.cpu.quota, 50000);
  SET_U(r.cpu.period, 100000);
  SET_U(r.cpu.burst, 1000);
  r.cpu.cpus = "0-1";
  r.cpu.mems = "0";
  SET_I(r.pids.limit, 0);
  SET_U(r.block_io.weight, 500);
  r.block_io.throttle_read_bps = &rbps;
  r.block_io.n_throttle_read_bps = 1;
  r.block_io.throttle_write_iops = &wiops;
  r.block_io.n_throttle_write_iops = 1;
  r.hugepage_limits = huge;
  r.n_hugepage_limits = 2;
  r.rdma = &rdma;
  r.n_rdma = 1;
  r.unified = (struct spec_map){unified, 2};

  hull_error_t err = NULL;
  ck_assert_msg(cgroup_v2_apply_resources(dir, &r, &err) == 0, "%s",
                err ? err->msg : "");
  ck_knob(dir, "memory.max", "67108864");
  ck_knob(dir, "memory.swap.max", "33554432");
  ck_knob(dir, "memory.low", "16777216");
  ck_knob(dir, "cpu.weight", "100");
  ck_knob(dir, "cpu.max", "50000 100000");
  ck_knob(dir, "cpu.max.burst", "1000");
  ck_knob(dir, "cpu.idle", "");
  ck_knob(dir, "cpuset.cpus", "0-1");
  ck_knob(dir, "cpuset.mems", "0");
  ck_knob(dir, "pids.max", "max");
  ck_knob(dir, "io.weight", "4950");
  ck_knob(dir, "io.max", "8:0 rbps=1048576 wiops=100");
  ck_knob(dir, "hugetlb.2MB.max", "8388608");
  ck_knob(dir, "hugetlb.2MB.rsvd.max", "8388608");
  ck_knob(dir, "hugetlb.1GB.max", "0");
  ck_knob(dir, "rdma.max", "mlx5_1 hca_handle=3 hca_object=10000");
  ck_knob(dir, "memory.high", "48M");
  ck_knob(dir, "cgroup.max.depth", "3");
  remove_dir(dir);
}
END_TEST

START_TEST(v2_unlimited_and_bfq) {
  static const char *const files[] = {"memory.max", "memory.swap.max",
                                      "cpu.max", "io.bfq.weight",
                                      "io.weight", "pids.max", NULL};
  char *dir = fake_dir(files);
  struct spec_resources r = {0};
  SET_I(r.memory.limit, -1);
  SET_I(r.cpu.quota, -1);
  SET_U(r.block_io.weight, 300);
  SET_I(r.pids.limit, 5);
  hull_error_t err = NULL;
  ck_assert_msg(cgroup_v2_apply_resources(dir, &r, &err) == 0, "%s",
                err ? err->msg : "");
  ck_knob(dir, "memory.max", "max");
  ck_knob(dir, "memory.swap.max", "max");
  ck_knob(dir, "cpu.max", "max");
  ck_knob(dir, "io.bfq.weight", "300"); /* BFQ takes v1's range as is */
  ck_knob(dir, "io.weight", "");
  ck_knob(dir, "pids.max", "5");
  remove_dir(dir);
}
END_TEST

/* Applies r to a fake v2 dir holding V2_FILES and expects an error that
 * contains want. */
static void assert_v2_refuses(const struct spec_resources *r,
                              const char *want) {
  char *dir = fake_dir(V2_FILES);
  hull_error_t err = NULL;
  ck_assert_int_eq(cgroup_v2_apply_resources(dir, r, &err), -1);
  ck_assert_msg(strstr(err->msg, want), "error `%s` lacks `%s`", err->msg,
                want);
  hull_error_release(&err);
  remove_dir(dir);
}

START_TEST(v2_refuses_what_it_has_not) {
  struct spec_resources r = {0};
  r.memory.disable_oom_killer = (struct spec_bool){true, true};
  assert_v2_refuses(&r, "linux.resources.memory.disableOOMKiller");

  r = (struct spec_resources){0};
  SET_I(r.cpu.realtime_runtime, 1000);
  assert_v2_refuses(&r, "linux.resources.cpu.realtimeRuntime");

  r = (struct spec_resources){0};
  SET_U(r.network.class_id, 7);
  assert_v2_refuses(&r, "linux.resources.network.classID");

  struct spec_kv kv = {"cgroup.procs", "1"};
  r = (struct spec_resources){.unified = {&kv, 1}};
  assert_v2_refuses(&r, "linux.resources.unified.cgroup.procs: "
                        "`cgroup.procs` is managed by the runtime");
  kv = (struct spec_kv){"../memory.max", "1"};
  assert_v2_refuses(&r, "must be a file name");
  kv = (struct spec_kv){"memory.nope", "1"};
  assert_v2_refuses(&r, "does not exist");
  kv = (struct spec_kv){"nodot", "1"};
  assert_v2_refuses(&r, "controller.knob");

  struct spec_hugepage_limit bad = {"2MB.max/../x", 1};
  r = (struct spec_resources){.hugepage_limits = &bad, .n_hugepage_limits = 1};
  assert_v2_refuses(&r, "linux.resources.hugepageLimits[0]: bad pageSize");

  r = (struct spec_resources){0};
  SET_I(r.memory.limit, 1 << 20);
  SET_I(r.memory.swap, 1 << 19);
  assert_v2_refuses(&r, "is below memory.limit");
}
END_TEST

START_TEST(write_error_names_field_value_and_file) {
  static const char *const none[] = {NULL};
  char *dir = fake_dir(none);
  struct spec_resources r = {0};
  SET_I(r.memory.limit, 1000);
  hull_error_t err = NULL;
  ck_assert_int_eq(cgroup_v2_apply_resources(dir, &r, &err), -1);
  cleanup_free char *want = xasprintf(
      "linux.resources.memory.limit: write 1000 to %s/memory.max: No such "
      "file or directory", dir);
  ck_assert_str_eq(err->msg, want);
  hull_error_release(&err);
  remove_dir(dir);
}
END_TEST

START_TEST(v2_check_before_update) {
  static const char *const files[] = {"memory.max", "memory.current", NULL};
  char *dir = fake_dir(files);
  cleanup_free char *cur = xasprintf("%s/memory.current", dir);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file(cur, "2000000", 7, &err), 0);
  struct spec_resources r = {0};
  SET_I(r.memory.limit, 1000000);
  r.memory.check_before_update = (struct spec_bool){true, true};
  ck_assert_int_eq(cgroup_v2_set_memory(dir, &r, &err), -1);
  ck_assert_ptr_nonnull(strstr(err->msg, "below the current usage 2000000"));
  hull_error_release(&err);
  ck_knob(dir, "memory.max", "");
  SET_I(r.memory.limit, 3000000);
  ck_assert_int_eq(cgroup_v2_set_memory(dir, &r, &err), 0);
  ck_knob(dir, "memory.max", "3000000");
  remove_dir(dir);
}
END_TEST

/* ---- v1 setters on fake files ----------------------------------------------- */

START_TEST(v1_memory_and_cpu_plan) {
  static const char *const files[] = {
      "memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
      "memory.soft_limit_in_bytes", "memory.swappiness", "memory.oom_control",
      "cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us",
      "cpu.rt_period_us", "cpu.rt_runtime_us", NULL};
  char *dir = fake_dir(files);
  cleanup_free char *cur = xasprintf("%s/memory.limit_in_bytes", dir);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file(cur, "9223372036854771712", 19, &err), 0);

  struct spec_resources r = {0};
  SET_I(r.memory.limit, 32 << 20);
  SET_I(r.memory.swap, -1);
  SET_I(r.memory.reservation, -1);
  SET_U(r.memory.swappiness, 0);
  r.memory.disable_oom_killer = (struct spec_bool){true, true};
  ck_assert_msg(cgroup_v1_set_memory(dir, &r, &err) == 0, "%s",
                err ? err->msg : "");
  ck_knob(dir, "memory.limit_in_bytes", "33554432");
  ck_knob(dir, "memory.memsw.limit_in_bytes", "-1");
  ck_knob(dir, "memory.soft_limit_in_bytes", "-1");
  ck_knob(dir, "memory.swappiness", "0");
  ck_knob(dir, "memory.oom_control", "1");

  SET_U(r.memory.swappiness, 101);
  ck_assert_int_eq(cgroup_v1_set_memory(dir, &r, &err), -1);
  ck_assert_ptr_nonnull(strstr(err->msg, "memory.swappiness: 101"));
  hull_error_release(&err);

  struct spec_resources c = {0};
  SET_U(c.cpu.shares, 512);
  SET_I(c.cpu.quota, 20000);
  SET_U(c.cpu.period, 50000);
  SET_U(c.cpu.realtime_period, 1000000);
  SET_I(c.cpu.realtime_runtime, 950000);
  ck_assert_msg(cgroup_v1_set_cpu(dir, &c, &err) == 0, "%s",
                err ? err->msg : "");
  ck_knob(dir, "cpu.shares", "512");
  ck_knob(dir, "cpu.cfs_quota_us", "20000");
  ck_knob(dir, "cpu.cfs_period_us", "50000");
  ck_knob(dir, "cpu.rt_period_us", "1000000");
  ck_knob(dir, "cpu.rt_runtime_us", "950000");
  remove_dir(dir);
}
END_TEST

START_TEST(v1_blkio_net_and_hugetlb_plan) {
  static const char *const files[] = {
      "blkio.bfq.weight", "blkio.bfq.weight_device",
      "blkio.throttle.read_bps_device", "net_cls.classid",
      "net_prio.ifpriomap", "hugetlb.2MB.limit_in_bytes", NULL};
  char *dir = fake_dir(files);
  struct spec_block_weight_device wd = {8, 16, {true, 200}, {false, 0}};
  struct spec_throttle_device rbps = {8, 0, 4096};
  struct spec_net_priority prio = {"eth0", 5};
  struct spec_hugepage_limit huge = {"2MB", 2 << 21};
  struct spec_resources r = {0};
  SET_U(r.block_io.weight, 300);
  r.block_io.weight_device = &wd;
  r.block_io.n_weight_device = 1;
  r.block_io.throttle_read_bps = &rbps;
  r.block_io.n_throttle_read_bps = 1;
  SET_U(r.network.class_id, 0x100001);
  r.network.priorities = &prio;
  r.network.n_priorities = 1;
  r.hugepage_limits = &huge;
  r.n_hugepage_limits = 1;
  hull_error_t err = NULL;
  ck_assert_msg(cgroup_v1_set_blkio(dir, &r, &err) == 0 &&
                    cgroup_v1_set_net_cls(dir, &r, &err) == 0 &&
                    cgroup_v1_set_net_prio(dir, &r, &err) == 0 &&
                    cgroup_set_hugetlb(dir, &r, false, &err) == 0,
                "%s", err ? err->msg : "");
  /* No blkio.weight (no CFQ): BFQ's files. */
  ck_knob(dir, "blkio.bfq.weight", "300");
  ck_knob(dir, "blkio.bfq.weight_device", "8:16 200");
  ck_knob(dir, "blkio.throttle.read_bps_device", "8:0 4096");
  ck_knob(dir, "net_cls.classid", "1048577");
  ck_knob(dir, "net_prio.ifpriomap", "eth0 5");
  ck_knob(dir, "hugetlb.2MB.limit_in_bytes", "4194304");
  remove_dir(dir);
}
END_TEST

/* ---- v2 controllers along the path ----------------------------------------- */

START_TEST(v2_enables_controllers_down_the_path) {
  static const char *const none[] = {NULL};
  char *root = fake_dir(none);
  cleanup_free char *leaf = xasprintf("%s/a/b/c", root);
  hull_error_t err = NULL;
  ck_assert_int_eq(mkdir_p(leaf, 0755, &err), 0);
  const char *levels[] = {"", "/a", "/a/b"};
  for (size_t i = 0; i < 3; i++) {
    cleanup_free char *p =
        xasprintf("%s%s/cgroup.controllers", root, levels[i]);
    const char *offered = "cpu io memory pids misc freezer\n";
    ck_assert_int_eq(write_file_atomic(p, offered, strlen(offered), 0644,
                                       &err), 0);
    cleanup_free char *st =
        xasprintf("%s%s/cgroup.subtree_control", root, levels[i]);
    ck_assert_int_eq(write_file_atomic(st, "", 0, 0644, &err), 0);
  }
  ck_assert_msg(cgroup_v2_enable_controllers(root, leaf, true, &err) == 0,
                "%s", err ? err->msg : "");
  ck_knob(root, "cgroup.subtree_control", "+cpu +io +memory +pids +misc");
  ck_knob(root, "a/cgroup.subtree_control", "+cpu +io +memory +pids +misc");
  ck_knob(root, "a/b/cgroup.subtree_control", "+cpu +io +memory +pids +misc");

  /* Without the root: the root's file stays as it was. */
  cleanup_free char *st = xasprintf("%s/cgroup.subtree_control", root);
  ck_assert_int_eq(write_file_atomic(st, "", 0, 0644, &err), 0);
  ck_assert_int_eq(cgroup_v2_enable_controllers(root, leaf, false, &err), 0);
  ck_knob(root, "cgroup.subtree_control", "");
  remove_dir(root);
}
END_TEST


/* ---- the device rules ------------------------------------------------------ */

static bool allows(const struct cgroup_device_rule *r, char type, int64_t major,
                   int64_t minor) {
  return r->allow && r->type == type && r->major == major &&
         r->minor == minor;
}

/* As runc 1.1: deny all, the config's rules in order, runc's allowed
 * devices last; a linux.devices node gets no rule of its own, so the
 * config's deny-all covers /dev/kmsg; an allowed device whose path
 * linux.devices redefines is left out. */
START_TEST(device_rules_are_runcs) {
  struct spec_device_rule deny_all = {.allow = false, .access = "rwm"};
  struct spec_resources res = {.devices = &deny_all, .n_devices = 1};
  struct spec_device devs[] = {
      {.type = "c", .path = "/dev/kmsg", .major = {true, 1},
       .minor = {true, 11}},
      {.type = "c", .path = "/dev/full", .major = {true, 1},
       .minor = {true, 7}},
  };
  cleanup_free struct cgroup_device_rule *rules = NULL;
  size_t n = cgroup_device_rules(&res, devs, 2, &rules);
  ck_assert_uint_eq(n, 1 + 1 + 10);
  ck_assert(!rules[0].allow && rules[0].type == 'a');
  ck_assert(!rules[1].allow && rules[1].type == 'a');
  ck_assert(allows(&rules[2], 'c', -1, -1) && strcmp(rules[2].access, "m") == 0);
  ck_assert(allows(&rules[3], 'b', -1, -1));
  ck_assert(allows(&rules[4], 'c', 1, 3));       /* /dev/null */
  ck_assert(allows(&rules[n - 1], 'c', 10, 200)); /* tun, last */
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(!allows(&rules[i], 'c', 1, 11), "rule %zu allows kmsg", i);
    ck_assert_msg(!allows(&rules[i], 'c', 1, 7), "rule %zu allows full", i);
  }
}
END_TEST

/* ---- the v2 device filter, live ----------------------------------------------
 * The eBPF program attaches to any cgroup2 directory, so the hybrid host's
 * /sys/fs/cgroup/unified proves it: a child in the cgroup opens devices. */

/* 0 when open(path, flags) does what want_ok says; else a bit to report. */
static int check_open(const char *path, int flags, bool want_ok, int bit) {
  int fd = open(path, flags | O_CLOEXEC);
  if (fd >= 0)
    close(fd);
  if (fd < 0 && errno == ENOENT)
    return 0;                      /* not on this host: nothing to prove */
  if (want_ok)
    return fd >= 0 ? 0 : bit;
  return fd < 0 && errno == EPERM ? 0 : bit;
}

static int probe_devices(void) {
  return check_open("/dev/null", O_RDWR, true, 1) |
         check_open("/dev/full", O_WRONLY, true, 2) |
         check_open("/dev/kmsg", O_RDONLY, true, 4) |     /* allow c 1:11 r */
         check_open("/dev/kmsg", O_WRONLY, false, 8) |
         check_open("/dev/loop-control", O_RDWR, false, 16) | /* deny 10:237 */
         check_open("/dev/loop0", O_RDONLY, false, 32) |  /* no rule */
         check_open("/dev/fuse", O_RDWR, true, 64);       /* allow c 10:* */
}

START_TEST(v2_device_filter_is_enforced) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V2);
  char path[64];
  snprintf(path, sizeof(path), "/hull-test-devs-%d", (int)getpid());
  struct cgroup *cg = NULL;
  hull_error_t err = NULL;
  ck_assert_msg(m->create(m, path, &cg, &err) == 0, "%s", err->msg);

  /* Deny all; allow c 1:11 r; allow c 10:* rwm; deny c 10:237 rwm: the
   * last matching rule decides, as on v1. */
  struct spec_device_rule rules[] = {
      {.allow = false},
      {.allow = true, .type = "c", .major = {true, 1}, .minor = {true, 11},
       .access = "r"},
      {.allow = true, .type = "c", .major = {true, 10}},
      {.allow = false, .type = "c", .major = {true, 10}, .minor = {true, 237},
       .access = "rwm"},
  };
  struct spec_resources res = {.devices = rules, .n_devices = 4};
  struct spec_linux l = {.resources = &res};
  int ret = m->apply(cg, &l, &err);
  ck_assert_msg(ret == 0, "%s", err ? err->msg : "");

  int gate[2];
  ck_assert_int_eq(pipe(gate), 0);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    char c;
    close(gate[1]);
    if (read(gate[0], &c, 1) != 1)
      _exit(127);
    _exit(probe_devices());
  }
  close(gate[0]);
  ck_assert_msg(m->enter(cg, child, &err) == 0, "%s", err ? err->msg : "");
  ck_assert_int_eq(write(gate[1], "x", 1), 1);
  close(gate[1]);
  int status;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert_msg(m->destroy(cg, &err) == 0, "%s", err ? err->msg : "");
  cgroup_free(cg);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "device probe failed: status 0x%x", status);
}
END_TEST

static Suite *cgroups_resources_suite(void) {
  Suite *s = suite_create("cgroups-resources");
  TCase *conv = tcase_create("convert");
  tcase_add_test(conv, shares_to_weight_is_runc_quadratic);
  tcase_add_test(conv, blkio_weight_to_io_weight);
  tcase_add_test(conv, swap_to_v2);
  suite_add_tcase(s, conv);
  TCase *plan = tcase_create("write-plan");
  tcase_add_test(plan, v2_write_plan);
  tcase_add_test(plan, v2_unlimited_and_bfq);
  tcase_add_test(plan, v2_refuses_what_it_has_not);
  tcase_add_test(plan, write_error_names_field_value_and_file);
  tcase_add_test(plan, v2_check_before_update);
  tcase_add_test(plan, v1_memory_and_cpu_plan);
  tcase_add_test(plan, v1_blkio_net_and_hugetlb_plan);
  tcase_add_test(plan, v2_enables_controllers_down_the_path);
  suite_add_tcase(s, plan);
  TCase *rules = tcase_create("device-rules");
  tcase_add_test(rules, device_rules_are_runcs);
  suite_add_tcase(s, rules);
  TCase *live = tcase_create("device-filter");
  tcase_add_test(live, v2_device_filter_is_enforced);
  suite_add_tcase(s, live);
  return s;
}

HULL_SUITE(cgroups_resources_suite)
