/* suite.h — Check suites register themselves, so each test file stands alone
 * (unit and integration binaries both link tests/suite-main.c):
 *   static Suite *spec_suite(void) { ... }
 *   HULL_SUITE(spec_suite)
 *
 * A test that cannot run on this host says so and ends: SKIP_UNLESS(cond,
 * why) or SKIP_TEST(fmt, ...). suite-main.c counts it as skipped, not as
 * passed, and lists it with its reason at the end of the run. The reason
 * names what the host lacks ("no /dev/kvm", "no blkio weight file"). */
#ifndef HULL_SUITE_H
#define HULL_SUITE_H

#include <check.h>

void suite_register(Suite *(*make)(void));

#define HULL_SUITE(fn)                                                       \
  __attribute__((constructor)) static void register_##fn(void) {             \
    suite_register(fn);                                                       \
  }

/* Records that the running test (its function's name) was skipped. */
void suite_skip(const char *test_fn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define SKIP_TEST(...)                                                        \
  do {                                                                        \
    suite_skip(__func__, __VA_ARGS__);                                        \
    return;                                                                   \
  } while (0)

#define SKIP_UNLESS(cond, why)                                                \
  do {                                                                        \
    if (!(cond))                                                              \
      SKIP_TEST("%s", why);                                                   \
  } while (0)

#endif
