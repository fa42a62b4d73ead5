/* test_verbs.c — the pieces of pause, update and events that need no
 * container: runc's size and duration syntax, the resources document and
 * its merge, the stats readers against plain files, the stats JSON, and
 * the v2 freezer live on the host's cgroup2 tree (a hybrid host has one
 * too, without controllers; the freezer is in cgroup2's core). */
#include "cgroups/internal.h"
#include "runtime/cli/cli.h"
#include "runtime/container/container.h"
#include "tests/suite.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- flags ------------------------------------------------------------------ */

START_TEST(ram_sizes_as_go_units) {
  static const struct { const char *in; int64_t want; } ok[] = {
      {"100", 100},          {"64m", 67108864},    {"64M", 67108864},
      {"64mb", 67108864},    {"64MiB", 67108864},  {"1.5g", 1610612736},
      {"512 KiB", 524288},   {"1k", 1024},         {"2t", 2199023255552},
      {"0", 0},              {"1b", 1},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
    int64_t got = -7;
    ck_assert_msg(parse_ram_bytes(ok[i].in, &got) == 0, "%s", ok[i].in);
    ck_assert_msg(got == ok[i].want, "%s -> %lld", ok[i].in, (long long)got);
  }
  static const char *const bad[] = {"", "m", "12q", "1.", "-1", "1mm",
                                    "1 m b", "0x10"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    int64_t got;
    ck_assert_msg(parse_ram_bytes(bad[i], &got) < 0, "accepted \"%s\"",
                  bad[i]);
  }
}
END_TEST

START_TEST(durations_as_go_time) {
  static const struct { const char *in; long want; } ok[] = {
      {"5s", 5000},     {"100ms", 100},  {"1m30s", 90000}, {"1.5s", 1500},
      {"0", 0},         {"10us", 1},     {"2h", 7200000},  {"-1s", -1000},
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
    long got = -7;
    ck_assert_msg(parse_duration_ms(ok[i].in, &got) == 0, "%s", ok[i].in);
    ck_assert_msg(got == ok[i].want, "%s -> %ld", ok[i].in, got);
  }
  static const char *const bad[] = {"", "5", "s", "abc", "5x", "1.s.s"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    long got;
    ck_assert_msg(parse_duration_ms(bad[i], &got) < 0, "accepted \"%s\"",
                  bad[i]);
  }
}
END_TEST

/* ---- the resources document ------------------------------------------------ */

START_TEST(merge_replaces_members_and_keeps_the_rest) {
  char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(
      spec_json_merge("{\"memory\":{\"limit\":1,\"swap\":2},"
                      "\"pids\":{\"limit\":3},\"devices\":[{\"allow\":false}]}",
                      "{\"memory\":{\"limit\":5},\"cpu\":{\"cpus\":\"0-1\"},"
                      "\"pids\":null,\"devices\":[]}",
                      &out, &err),
      0);
  ck_assert_str_eq(out, "{\"memory\":{\"limit\":5,\"swap\":2},"
                        "\"pids\":{\"limit\":3},\"devices\":[],"
                        "\"cpu\":{\"cpus\":\"0-1\"}}");
  free(out);
  /* Numbers keep their text: no rounding of big values. */
  ck_assert_int_eq(spec_json_merge("{}", "{\"memory\":{\"limit\":"
                                   "9223372036854775807}}", &out, &err), 0);
  ck_assert_str_eq(out, "{\"memory\":{\"limit\":9223372036854775807}}");
  free(out);
  ck_assert_int_lt(spec_json_merge("{}", "[1]", &out, &err), 0);
  hull_error_release(&err);
}
END_TEST

START_TEST(resources_document_parses_and_names_paths) {
  struct spec_resources *r = NULL;
  hull_error_t err = NULL;
  const char *doc = "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":5},"
                    "\"cpu\":{\"cpus\":\"0\"}}";
  ck_assert_int_eq(spec_resources_parse(doc, strlen(doc), "resources", &r,
                                        &err), 0);
  ck_assert(r->memory.limit.set);
  ck_assert_int_eq(r->memory.limit.v, 67108864);
  ck_assert_int_eq(r->pids.limit.v, 5);
  ck_assert_str_eq(r->cpu.cpus, "0");
  spec_resources_free(r);

  const char *empty = "{}";
  ck_assert_int_eq(spec_resources_parse(empty, 2, "resources", &r, &err), 0);
  ck_assert_ptr_nonnull(r);
  spec_resources_free(r);

  const char *bad = "{\"memory\":{\"limit\":\"lots\"}}";
  ck_assert_int_lt(spec_resources_parse(bad, strlen(bad), "resources", &r,
                                        &err), 0);
  ck_assert_msg(strstr(err->msg, "resources: .resources.memory.limit") != NULL,
                "%s", err->msg);
  hull_error_release(&err);
  ck_assert_int_lt(spec_resources_parse("nope", 4, "resources", &r, &err), 0);
  hull_error_release(&err);
}
END_TEST

START_TEST(resources_of_a_config) {
  char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(spec_resources_of_config(
                       "{\"linux\":{\"resources\":{\"pids\":{\"limit\":9}}}}",
                       &out, &err), 0);
  ck_assert_str_eq(out, "{\"pids\":{\"limit\":9}}");
  free(out);
  ck_assert_int_eq(spec_resources_of_config("{\"process\":{}}", &out, &err),
                   0);
  ck_assert_str_eq(out, "{}");
  free(out);
}
END_TEST

/* ---- stats from plain files ---------------------------------------------------- */

static char *fake_dir(const char *const *files) {
  char tmpl[] = "/tmp/hull-statfake-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(tmpl));
  for (size_t i = 0; files[i]; i += 2) {
    cleanup_free char *p = xasprintf("%s/%s", tmpl, files[i]);
    hull_error_t err = NULL;
    ck_assert_msg(write_file_atomic(p, files[i + 1], strlen(files[i + 1]),
                                    0644, &err) == 0, "%s", err->msg);
  }
  return xstrdup(tmpl);
}

static void remove_dir(char *dir) {
  hull_error_t err = NULL;
  ck_assert_int_eq(remove_tree(dir, &err), 0);
  free(dir);
}

START_TEST(v1_stats_from_files) {
  static const char *const memory[] = {
      "memory.stat", "cache 4096\nrss 8192\n",
      "memory.usage_in_bytes", "12288\n",
      "memory.max_usage_in_bytes", "20480\n",
      "memory.failcnt", "3\n",
      "memory.limit_in_bytes", "67108864\n",
      NULL};
  static const char *const cpuacct[] = {
      "cpuacct.usage", "5000\n",
      "cpuacct.usage_percpu", "2000 3000 \n",
      "cpuacct.stat", "user 2\nsystem 1\n",
      NULL};
  static const char *const blkio[] = {
      "blkio.io_serviced_recursive", "Total 0\n",
      "blkio.throttle.io_service_bytes_recursive",
      "8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n",
      "blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\n",
      NULL};
  static const char *const pids[] = {"pids.current", "2\n", "pids.max",
                                     "max\n", NULL};
  char *mem = fake_dir(memory), *cpu = fake_dir(cpuacct),
       *blk = fake_dir(blkio), *pid = fake_dir(pids);
  struct cgroup_stats s = {0};
  hull_error_t err = NULL;
  ck_assert_int_eq(cgroup_v1_stats_memory(mem, &s, &err), 0);
  ck_assert_int_eq(cgroup_v1_stats_cpu(cpu, NULL, &s, &err), 0);
  ck_assert_int_eq(cgroup_v1_stats_blkio(blk, &s, &err), 0);
  ck_assert_int_eq(cgroup_stats_pids(pid, &s, &err), 0);
  ck_assert_uint_eq(s.memory.cache, 4096);
  ck_assert_uint_eq(s.memory.usage.usage, 12288);
  ck_assert_uint_eq(s.memory.usage.max, 20480);
  ck_assert_uint_eq(s.memory.usage.failcnt, 3);
  ck_assert_uint_eq(s.memory.usage.limit, 67108864);
  ck_assert_uint_eq(s.memory.swap.usage, 0);   /* no memsw files */
  ck_assert_uint_eq(s.memory.n_raw, 2);
  ck_assert_uint_eq(s.cpu.total, 5000);
  ck_assert_uint_eq(s.cpu.n_percpu, 2);
  ck_assert_uint_eq(s.cpu.percpu[1], 3000);
  uint64_t tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
  ck_assert_uint_eq(s.cpu.user, 2 * tick);
  ck_assert_uint_eq(s.cpu.kernel, tick);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].len, 2);
  ck_assert_str_eq(s.blkio[BLKIO_SERVICE_BYTES].items[1].op, "Write");
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].items[1].value, 8192);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICED].len, 2);
  ck_assert_uint_eq(s.pids.current, 2);
  ck_assert_uint_eq(s.pids.limit, 0);          /* max: none, as runc */
  cgroup_stats_release(&s);
  remove_dir(mem);
  remove_dir(cpu);
  remove_dir(blk);
  remove_dir(pid);
}
END_TEST

START_TEST(v2_stats_from_files) {
  static const char *const files[] = {
      "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n"
                  "nr_periods 7\nnr_throttled 1\nthrottled_usec 2\n",
      "memory.stat", "anon 100\nfile 200\n",
      "memory.current", "300\n",
      "memory.max", "max\n",
      "memory.swap.current", "50\n",
      "memory.swap.max", "1000\n",
      "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
      "pids.current", "3\n",
      "pids.max", "10\n",
      "io.stat", "8:16 rbytes=512 wbytes=1024 rios=1 wios=2 dbytes=0 dios=0\n",
      "hugetlb.2MB.current", "0\n",
      "hugetlb.2MB.events", "max 5\n",
      "cpuset.cpus.effective", "0-2,5\n",
      NULL};
  char *dir = fake_dir(files);
  struct cgroup_stats s = {0};
  hull_error_t err = NULL;
  ck_assert_msg(cgroup_v2_stats(dir, &s, &err) == 0, "%s", err->msg);
  ck_assert_uint_eq(s.cpu.total, 10000);
  ck_assert_uint_eq(s.cpu.user, 6000);
  ck_assert_uint_eq(s.cpu.kernel, 4000);
  ck_assert_uint_eq(s.cpu.throttled_periods, 1);
  ck_assert_uint_eq(s.cpu.throttled_time, 2000);
  ck_assert_uint_eq(s.memory.cache, 200);
  ck_assert_uint_eq(s.memory.usage.usage, 300);
  ck_assert(s.memory.usage.limit == UINT64_MAX);
  ck_assert_uint_eq(s.memory.usage.failcnt, 4);
  ck_assert_uint_eq(s.memory.swap.usage, 350);
  ck_assert(s.memory.swap.limit == UINT64_MAX);
  ck_assert_uint_eq(s.pids.current, 3);
  ck_assert_uint_eq(s.pids.limit, 10);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].len, 2);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].items[0].major, 8);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].items[0].minor, 16);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICE_BYTES].items[1].value, 1024);
  ck_assert_uint_eq(s.blkio[BLKIO_SERVICED].items[1].value, 2);
  ck_assert_uint_eq(s.n_hugetlb, 1);
  ck_assert_str_eq(s.hugetlb[0].page_size, "2MB");
  ck_assert_uint_eq(s.hugetlb[0].failcnt, 5);
  ck_assert_uint_eq(s.cpuset.n_cpus, 4);
  ck_assert_uint_eq(s.cpuset.cpus[3], 5);
  cgroup_stats_release(&s);
  remove_dir(dir);
}
END_TEST

START_TEST(stats_json_has_runcs_shape) {
  uint64_t percpu[] = {1, 2};
  struct cgroup_stats s = {0};
  s.cpu.total = 3;
  s.cpu.percpu = percpu;
  s.cpu.n_percpu = 2;
  s.memory.usage = (struct cgroup_memory_entry){.limit = UINT64_MAX,
                                                .usage = 4096};
  s.pids.current = 1;
  cleanup_free char *json = container_stats_json("c1", &s);
  static const char *const want[] = {
      "{\"type\":\"stats\",\"id\":\"c1\",\"data\":{\"cpu\":{\"usage\":"
      "{\"total\":3,\"percpu\":[1,2],\"kernel\":0,\"user\":0},"
      "\"throttling\":{}},",
      "\"memory\":{\"usage\":{\"limit\":18446744073709551615,"
      "\"usage\":4096,\"failcnt\":0},\"swap\":{\"limit\":0,\"failcnt\":0},",
      "\"pids\":{\"current\":1},\"blkio\":{},\"hugetlb\":{},"
      "\"intel_rdt\":{},\"network_interfaces\":null}}",
  };
  for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
    ck_assert_msg(strstr(json, want[i]) != NULL, "%s\nlacks %s", json,
                  want[i]);
}
END_TEST

/* ---- the v2 freezer, live ------------------------------------------------------ */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0)
    ;
}

START_TEST(v2_freeze_stops_a_process_and_thaw_restarts_it) {
  const struct cgroup_manager *m = cgroup_manager_for(CGROUP_MODE_V2);
  char path[64];
  snprintf(path, sizeof(path), "/hull-test-freeze-%d", (int)getpid());
  struct cgroup *cg = NULL;
  hull_error_t err = NULL;
  if (m->create(m, path, &cg, &err) < 0 || cg->n_dirs != 1 ||
      !cgroup_fs_has(cg->dirs[0], "cgroup.freeze")) {
    hull_error_release(&err);
    if (cg) {
      m->destroy(cg, &err);
      cgroup_free(cg);
    }
    SKIP_TEST("no cgroup2 freezer (cgroup.freeze) at /sys/fs/cgroup");
  }
  volatile uint64_t *count = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert_ptr_ne((void *)count, MAP_FAILED);
  pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0)
    for (;;)
      (*count)++;
  int ret = m->enter(cg, child, &err);
  bool frozen_state = false;
  uint64_t before = 0, after = 0, thawed = 0;
  if (ret == 0)
    ret = m->freeze(cg, true, &err);
  if (ret == 0) {
    m->frozen(cg, &frozen_state, &err);
    before = *count;
    sleep_ms(100);
    after = *count;
    ret = m->freeze(cg, false, &err);
    sleep_ms(50);
    thawed = *count;
  }
  bool frozen_after_thaw = true;
  m->frozen(cg, &frozen_after_thaw, &err);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  hull_error_t destroy_err = NULL;
  ck_assert_msg(m->destroy(cg, &destroy_err) == 0, "%s", destroy_err->msg);
  cgroup_free(cg);
  ck_assert_msg(ret == 0, "%s", err ? err->msg : "");
  ck_assert(frozen_state);
  ck_assert_msg(before == after, "ran while frozen: %llu -> %llu",
                (unsigned long long)before, (unsigned long long)after);
  ck_assert_msg(thawed > after, "still stopped after thaw");
  ck_assert(!frozen_after_thaw);
  munmap((void *)count, 4096);
}
END_TEST

static Suite *verbs_unit_suite(void) {
  Suite *s = suite_create("verbs");
  TCase *tc = tcase_create("verbs");
  tcase_add_test(tc, ram_sizes_as_go_units);
  tcase_add_test(tc, durations_as_go_time);
  tcase_add_test(tc, merge_replaces_members_and_keeps_the_rest);
  tcase_add_test(tc, resources_document_parses_and_names_paths);
  tcase_add_test(tc, resources_of_a_config);
  tcase_add_test(tc, v1_stats_from_files);
  tcase_add_test(tc, v2_stats_from_files);
  tcase_add_test(tc, stats_json_has_runcs_shape);
  tcase_add_test(tc, v2_freeze_stops_a_process_and_thaw_restarts_it);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(verbs_unit_suite)
