/* suite-main.c — runs every registered Check suite (see suite.h). */
#include "suite.h"

#include <stdlib.h>

#define MAX_SUITES 64
static Suite *(*suites[MAX_SUITES])(void);
static int n_suites;

void suite_register(Suite *(*make)(void)) {
  if (n_suites == MAX_SUITES)
    abort();
  suites[n_suites++] = make;
}

int main(void) {
  SRunner *sr = srunner_create(NULL);
  for (int i = 0; i < n_suites; i++)
    srunner_add_suite(sr, suites[i]());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
