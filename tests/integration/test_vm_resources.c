/* test_vm_resources.c — a VM's CPUs and memory, proven by their effect:
 * hwConfig.vcpus 2 gives the guest two CPUs that both run its work, the
 * guest's memory follows the container's limit, the balloon hands what
 * the guest frees back to the host (qemu's RSS falls), and the memory
 * backings run.oci.vm.memory_backing asks for (transparent huge pages,
 * hugetlb) are what qemu's memory is made of.
 *
 * qemu (TCG) with Debian's kernel from /boot, as test_vm_mode.c; skipped
 * where either is missing. Nothing here asserts a host timing: waits are
 * polls with generous deadlines. */
#include "tests/integration/vm-harness.h"
#include "runtime/common/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The number after `key` in text; fails the test when it is missing. */
static long long number_after(const char *text, const char *key) {
  const char *p = strstr(text, key);
  ck_assert_msg(p != NULL, "no `%s` in: %s", key, text);
  return strtoll(p + strlen(key), NULL, 10);
}

/* The hypervisor: the monitor's (the container's pid's) only child. */
static pid_t hypervisor_of(pid_t monitor) {
  cleanup_free char *path =
      xasprintf("/proc/%d/task/%d/children", monitor, monitor);
  cleanup_free char *children = hread_file(path);
  ck_assert_msg(children != NULL && children[0] != '\0',
                "the VM monitor %d has no hypervisor child", monitor);
  return (pid_t)strtol(children, NULL, 10);
}

/* A field of /proc/<pid>/status or smaps_rollup, in kB (-1: missing). */
static long long proc_kb(pid_t pid, const char *file, const char *field) {
  cleanup_free char *path = xasprintf("/proc/%d/%s", pid, file);
  cleanup_free char *text = hread_file(path);
  if (text == NULL)
    return -1;
  cleanup_free char *key = xasprintf("\n%s:", field);
  const char *p = strstr(text, key);
  return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* Creates and starts c's container with its output in <c->dir>/out (path
 * returned); *pid: the container's pid, the VM's monitor. */
static char *create_and_start(struct hctx *c, pid_t *pid) {
  cleanup_free char *out = xasprintf("%s/out", c->dir);
  cleanup_free char *cmd = xasprintf(
      "exec %s --root %s create --bundle %s %s >%s 2>&1 </dev/null",
      getenv("HULL"), c->root, c->bundle, c->id, out);
  ck_assert_int_eq(system(cmd), 0);
  cleanup_free char *status = hstate_status(c, c->id, pid);
  ck_assert_str_eq(status, "created");
  struct hres r = vrun(c, 60000, "start", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  return take_ptr(out);
}

static void kill_and_delete(struct hctx *c) {
  struct hres r = vrun(c, 60000, "delete", "--force", c->id, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
}

/* The guest's script: two shell loops of a fixed count, at once; per CPU,
 * how many of its ticks (/proc/stat: user + nice + system) went by while
 * they ran, against the ticks of the guest's uptime. */
#define TWO_LOOPS                                                           \
  "nproc=$(nproc); cpus=$(grep -c ^processor /proc/cpuinfo); "            \
  "echo nproc=$nproc cpus=$cpus; "                                         \
  "grep MemTotal /proc/meminfo; "                                          \
  "busy() { awk -v c=cpu$1 '$1 == c { print $2 + $3 + $4 }' /proc/stat; }; " \
  "up() { awk '{ printf \\\"%d\\\", $1 * 100 }' /proc/uptime; }; "        \
  "a0=$(busy 0); b0=$(busy 1); t0=$(up); "                                 \
  "loop() { i=0; while [ $i -lt 60000 ]; do i=$((i + 1)); done; }; "       \
  "loop & loop & wait; "                                                   \
  "a1=$(busy 0); b1=$(busy 1); t1=$(up); "                                 \
  "echo cpu0=$((a1 - a0)) cpu1=$((b1 - b0)) ticks=$((t1 - t0))"

/* hwConfig.vcpus 2: the guest counts two CPUs and, running two loops,
 * keeps both busy (by its own accounting, each CPU at least a quarter of
 * the work). How much of the loops' time the CPUs were busy says how much
 * host CPU the vCPUs got (a tick the host did not run a vCPU for is not
 * counted busy): under qemu's MTTCG each vCPU is a host thread, and on an
 * idle 2-core host the sum nears twice the time; it is logged, not
 * asserted. Its memory, with none given, is what the container's 512 MiB
 * limit leaves: 448 MiB. */
START_TEST(vm_two_vcpus_both_run_and_memory_follows_the_limit) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  SKIP_UNLESS(access("/sys/fs/cgroup/memory", F_OK) == 0 ||
                  access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0,
              "no memory cgroup controller for the container's limit");
  struct hctx *c = hctx_new();
  cleanup_free char *vm = xasprintf(
      "\"vm\": {\"hypervisor\": {\"path\": \"%s\"}, \"kernel\": {\"path\": "
      "\"%s\"}, \"hwConfig\": {\"vcpus\": 2}}", QEMU, kernel);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"" TWO_LOOPS "\"",
      .linux_extra = "\"resources\": {\"memory\": {\"limit\": 536870912}}",
      .top_extra = vm});
  long long t0 = now_ms();
  struct hres r = vrun(c, BOOT_TIMEOUT_MS, "run", "--bundle", c->bundle,
                       c->id, NULL);
  long long took = now_ms() - t0;
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "nproc=2 cpus=2"), "output: %s", r.out);
  long long cpu0 = number_after(r.out, "cpu0=");
  long long cpu1 = number_after(r.out, "cpu1=");
  long long ticks = number_after(r.out, "ticks=");
  fprintf(stderr, "vm_two_vcpus: loops took %lld guest ticks; cpu0 busy "
          "%lld, cpu1 busy %lld (hull run: %lld ms)\n", ticks, cpu0, cpu1,
          took);
  ck_assert_msg(cpu0 + cpu1 >= 20, "the loops were too short to judge: %s",
                r.out);
  ck_assert_msg(cpu0 * 4 >= cpu0 + cpu1 && cpu1 * 4 >= cpu0 + cpu1,
                "the loops did not run on both CPUs: %s", r.out);
  long long kb = number_after(r.out, "MemTotal:");
  ck_assert_msg(kb > 380 * 1024 && kb <= 448 * 1024, "MemTotal %lld kB", kb);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

#define FILL_MIB 200

/* The guest fills a tmpfs with 200 MiB, then removes it: qemu's RSS rises
 * by about that much, and falls back by most of it once the guest's
 * balloon has reported the free pages (a couple of seconds; polled for a
 * minute). (Without the balloon it stays.) With memory_backing=thp,
 * qemu's memory is in huge pages. */
START_TEST(vm_balloon_gives_freed_memory_back) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  cleanup_free char *thp = hread_file("/sys/kernel/mm/transparent_hugepage/"
                                      "enabled");
  bool has_thp = thp != NULL && strstr(thp, "[never]") == NULL;
  struct hctx *c = hctx_new();
  cleanup_free char *vm = vm_annotations(
      kernel, has_thp ? "\"run.oci.vm.memory\": \"512\", "
                        "\"run.oci.vm.balloon\": \"true\", "
                        "\"run.oci.vm.memory_backing\": \"thp\""
                      : "\"run.oci.vm.memory\": \"512\", "
                        "\"run.oci.vm.balloon\": \"true\"");
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"dd if=/dev/zero of=/mnt/fill/f bs=1M "
              "count=200 2>/dev/null; echo filled; "
              "while [ ! -e /mnt/fill/go ]; do sleep 1; done; "
              "rm /mnt/fill/f; echo freed; exec sleep 1000\"",
      .mounts_extra = "{\"destination\": \"/mnt/fill\", \"type\": \"tmpfs\", "
                      "\"source\": \"tmpfs\", \"options\": [\"size=300m\"]}",
      .top_extra = vm});
  pid_t pid = 0;
  cleanup_free char *out = create_and_start(c, &pid);
  ck_assert_msg(hwait_file(out, "filled", 60000), "no fill");
  pid_t qemu = hypervisor_of(pid);
  long long full = proc_kb(qemu, "status", "VmRSS");
  long long huge = proc_kb(qemu, "smaps_rollup", "AnonHugePages");
  /* The guest's go-ahead: a file in its tmpfs is not visible here, so
   * exec touches it. */
  struct hres r = vrun(c, 60000, "exec", c->id, "touch", "/mnt/fill/go", NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_msg(hwait_file(out, "freed", 60000), "no free");
  long long rss = full;
  long long t0 = now_ms();
  while (full - rss < (FILL_MIB * 3 / 4) * 1024 && now_ms() - t0 < 60000) {
    usleep(200 * 1000);
    rss = proc_kb(qemu, "status", "VmRSS");
  }
  fprintf(stderr, "vm_balloon: qemu RSS %lld kB filled (%lld kB in huge "
          "pages), %lld kB %lld ms after the guest freed %d MiB\n", full, huge,
          rss, now_ms() - t0, FILL_MIB);
  kill_and_delete(c);
  ck_assert_msg(full >= FILL_MIB * 1024, "qemu's RSS %lld kB with %d MiB "
                "filled", full, FILL_MIB);
  ck_assert_msg(full - rss >= (FILL_MIB * 3 / 4) * 1024,
                "qemu's RSS fell only from %lld to %lld kB", full, rss);
  if (has_thp)
    ck_assert_msg(huge > 0, "no huge pages in qemu's memory (thp)");
  hctx_finish(c);
}
END_TEST

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"
#define HUGE_VM_MIB 128

static bool write_text(const char *path, const char *text) {
  hull_error_t err = NULL;
  if (write_file(path, text, strlen(text), &err) == 0)
    return true;
  hull_error_release(&err);
  return false;
}

static long long meminfo_number(const char *field) {
  cleanup_free char *text = hread_file("/proc/meminfo");
  cleanup_free char *key = xasprintf("\n%s:", field);
  const char *p = text ? strstr(text, key) : NULL;
  return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* memory_backing=hugetlb: qemu's guest memory is in the host's huge pages.
 * The test reserves the pages it needs and then puts back exactly the
 * number that was there, before it asserts anything. */
START_TEST(vm_hugetlb_backing_uses_huge_pages) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  cleanup_free char *old = hread_file(NR_HUGEPAGES);
  long long page_kb = meminfo_number("Hugepagesize");
  SKIP_UNLESS(old != NULL && page_kb > 0, "no huge pages (" NR_HUGEPAGES ")");
  long long need = (long long)HUGE_VM_MIB * 1024 / page_kb;
  long long have = meminfo_number("HugePages_Free") -
                   meminfo_number("HugePages_Rsvd");
  cleanup_free char *more = xasprintf("%lld", strtoll(old, NULL, 10) + need);
  bool raised = have < need && write_text(NR_HUGEPAGES, more);
  if (meminfo_number("HugePages_Free") - meminfo_number("HugePages_Rsvd") <
      need) {
    if (raised)
      ck_assert(write_text(NR_HUGEPAGES, old));
    SKIP_UNLESS(false, "cannot reserve the huge pages (" NR_HUGEPAGES ")");
  }
  struct hctx *c = hctx_new();
  cleanup_free char *extra = xasprintf("\"run.oci.vm.memory\": \"%d\", "
                                       "\"run.oci.vm.memory_backing\": "
                                       "\"hugetlb\"", HUGE_VM_MIB);
  cleanup_free char *vm = vm_annotations(kernel, extra);
  hctx_write_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"grep MemTotal /proc/meminfo; echo up; "
              "exec sleep 1000\"",
      .top_extra = vm});
  pid_t pid = 0;
  cleanup_free char *out = create_and_start(c, &pid);
  bool up = hwait_file(out, "up", 60000);
  long long hugetlb_kb = proc_kb(hypervisor_of(pid), "status", "HugetlbPages");
  kill_and_delete(c);
  if (raised)
    ck_assert(write_text(NR_HUGEPAGES, old));
  cleanup_free char *now = hread_file(NR_HUGEPAGES);
  ck_assert_str_eq(now, old);
  ck_assert_msg(up, "the guest did not come up");
  fprintf(stderr, "vm_hugetlb: qemu holds %lld kB of huge pages\n",
          hugetlb_kb);
  ck_assert_msg(hugetlb_kb > 0, "qemu's memory is not in huge pages");
  hctx_finish(c);
}
END_TEST

/* A bad value: one line naming the annotation, nothing left behind. */
START_TEST(vm_bad_backing_and_balloon_values_are_refused) {
  cleanup_free char *kernel = vm_host_kernel();
  SKIP_WITHOUT_QEMU(kernel);
  struct hctx *c = hctx_new();
  const char *cases[][2] = {
      {"\"run.oci.vm.memory_backing\": \"huge\"",
       "annotation run.oci.vm.memory_backing: \\\"huge\\\" is not thp or "
       "hugetlb"},
      {"\"run.oci.vm.balloon\": \"yes\"",
       "annotation run.oci.vm.balloon: \\\"yes\\\" is not true or false"},
  };
  /* (stderr is runc's log line: the quotes come escaped) */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cleanup_free char *vm = vm_annotations(kernel, cases[i][0]);
    hctx_write_config(c, &(struct hconfig){.args = "\"/bin/true\"",
                                           .top_extra = vm});
    struct hres r = vrun(c, 60000, "run", "--bundle", c->bundle, c->id, NULL);
    ck_assert_int_ne(r.status, 0);
    ck_assert_msg(hcontains(r.err, cases[i][1]), "stderr: %s", r.err);
    ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                  "more than one line: %s", r.err);
    hres_free(&r);
  }
  hctx_finish(c);
}
END_TEST

static Suite *vm_resources_suite(void) {
  Suite *s = suite_create("integration-vm-resources");
  TCase *tc = harness_tcase("vm-resources", 300);
  tcase_set_tags(tc, "vm-mode");
  tcase_add_test(tc, vm_two_vcpus_both_run_and_memory_follows_the_limit);
  tcase_add_test(tc, vm_balloon_gives_freed_memory_back);
  tcase_add_test(tc, vm_hugetlb_backing_uses_huge_pages);
  tcase_add_test(tc, vm_bad_backing_and_balloon_values_are_refused);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(vm_resources_suite)
