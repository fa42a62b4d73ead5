/* suite.h — Check suites register themselves, so each test file stands alone
 * (unit and integration binaries both link tests/suite-main.c):
 *   static Suite *spec_suite(void) { ... }
 *   HULL_SUITE(spec_suite)
 */
#ifndef HULL_SUITE_H
#define HULL_SUITE_H

#include <check.h>

void suite_register(Suite *(*make)(void));

#define HULL_SUITE(fn)                                                       \
  __attribute__((constructor)) static void register_##fn(void) {             \
    suite_register(fn);                                                       \
  }

#endif
