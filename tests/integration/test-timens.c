/* test-timens.c — linux.timeOffsets in a new time namespace shift the
 * container's CLOCK_MONOTONIC and CLOCK_BOOTTIME, and nothing else. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400

static long long host_seconds(clockid_t clock) {
  struct timespec ts;
  ck_assert_int_eq(clock_gettime(clock, &ts), 0);
  return (long long)ts.tv_sec;
}

/* The value after "key=" in the helper's output. */
static long long value_of(const char *out, const char *key) {
  cleanup_free char *needle = xasprintf("%s=", key);
  const char *at = strstr(out, needle);
  ck_assert_msg(at != NULL, "no %s in: %s", key, out);
  return atoll(at + strlen(needle));
}

/* Runs the helper's `clock` in a container; returns its output. */
static char *container_clocks(struct hctx *c, const char *namespaces,
                              const char *linux_extra) {
  struct hres r = hrun_config(c, &(struct hconfig){.args = HELPER("clock"),
                                                    .namespaces = namespaces,
                                                    .linux_extra = linux_extra});
  ck_assert_hres(r, 0);
  char *out = take_ptr(r.out);
  hres_free(&r);
  return out;
}

#define NAMESPACES_WITH_TIME                                               \
  "{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},"     \
  " {\"type\": \"uts\"}, {\"type\": \"mount\"}, {\"type\": \"time\"}"

START_TEST(time_offsets_shift_the_clocks) {
  struct hctx *c = hctx_new();
  long long mono = host_seconds(CLOCK_MONOTONIC);
  long long boot = host_seconds(CLOCK_BOOTTIME);
  cleanup_free char *out = container_clocks(
      c, NAMESPACES_WITH_TIME,
      "\"timeOffsets\": {\"monotonic\": {\"secs\": 86400, \"nanosecs\": 0},"
      " \"boottime\": {\"secs\": 172800, \"nanosecs\": 500}}");
  long long mono_shift = value_of(out, "monotonic") - mono;
  long long boot_shift = value_of(out, "boottime") - boot;
  /* A run takes well under a minute. */
  ck_assert_msg(mono_shift >= DAY && mono_shift < DAY + 60,
                "CLOCK_MONOTONIC moved by %lld s, want about %d", mono_shift,
                DAY);
  ck_assert_msg(boot_shift >= 2 * DAY && boot_shift < 2 * DAY + 60,
                "CLOCK_BOOTTIME moved by %lld s, want about %d", boot_shift,
                2 * DAY);
  /* The host's clocks are untouched. */
  ck_assert_int_lt(host_seconds(CLOCK_MONOTONIC) - mono, 60);
  hctx_finish(c);
}
END_TEST

START_TEST(time_namespace_without_offsets_keeps_the_clocks) {
  struct hctx *c = hctx_new();
  long long mono = host_seconds(CLOCK_MONOTONIC);
  cleanup_free char *out = container_clocks(c, NAMESPACES_WITH_TIME, NULL);
  long long shift = value_of(out, "monotonic") - mono;
  ck_assert_msg(shift >= 0 && shift < 60, "CLOCK_MONOTONIC moved by %lld s",
                shift);
  hctx_finish(c);
}
END_TEST

/* Offsets that cannot take effect must not be dropped silently (runc
 * refuses both cases too). */
START_TEST(time_offsets_without_a_new_time_namespace_fail) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(
      c, &(struct hconfig){.linux_extra = "\"timeOffsets\": {\"monotonic\":"
                                          " {\"secs\": 86400}}"});
  ck_assert_msg(r.status == 1,
                "timeOffsets without a time namespace: exit %d\nstderr: %s",
                r.status, r.err);
  ck_assert_msg(hcontains(r.err, "timeOffsets"), "error: %s", r.err);
  hres_free(&r);

  r = hrun_config(
      c, &(struct hconfig){
             .namespaces = "{\"type\": \"pid\"}, {\"type\": \"mount\"},"
                           " {\"type\": \"uts\"},"
                           " {\"type\": \"time\", \"path\": \"/proc/1/ns/time\"}",
             .linux_extra = "\"timeOffsets\": {\"monotonic\": {\"secs\": 86400}}"});
  ck_assert_msg(r.status == 1,
                "timeOffsets with a joined time namespace: exit %d\nstderr: %s",
                r.status, r.err);
  ck_assert_msg(hcontains(r.err, "timeOffsets"), "error: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *timens_suite(void) {
  Suite *s = suite_create("integration-timens");
  TCase *tc = harness_tcase("timens", 30);
  if (access("/proc/self/ns/time", F_OK) == 0) {
    tcase_add_test(tc, time_offsets_shift_the_clocks);
    tcase_add_test(tc, time_namespace_without_offsets_keeps_the_clocks);
    tcase_add_test(tc, time_offsets_without_a_new_time_namespace_fail);
  }
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(timens_suite)
