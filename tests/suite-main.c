/* suite-main.c — runs every registered Check suite (see suite.h), then lists
 * the skipped tests with their reasons and ends with one line:
 *   LABEL: N passed, N failed, N skipped
 * A skipped test returned early, so Check counts it as a pass; the skip
 * records it wrote (through a file shared with the forked test processes)
 * move it from "passed" to "skipped".
 * LABEL is $HULL_TALLY_LABEL, else "tests". tests/check-all.sh reads these
 * lines from each run (unit, integration, the VMs) and adds them up. */
#include "suite.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SUITES 64
static Suite *(*suites[MAX_SUITES])(void);
static int n_suites;

/* Where tests record their skips: one "TEST<TAB>WHY" line each. It is
 * opened before the first test forks, so every test process appends to the
 * same file; O_APPEND keeps each line whole. */
static int skip_log = -1;

void suite_register(Suite *(*make)(void)) {
  if (n_suites == MAX_SUITES)
    abort();
  suites[n_suites++] = make;
}

/* Tabs and newlines would break the record's fields. */
static void flatten(char *s) {
  for (; *s; s++)
    if (*s == '\t' || *s == '\n' || *s == '\r')
      *s = ' ';
}

void suite_skip(const char *test_fn, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  flatten(why);

  /* START_TEST(name) defines name_fn. */
  size_t len = strlen(test_fn);
  if (len > 3 && strcmp(test_fn + len - 3, "_fn") == 0)
    len -= 3;
  fprintf(stderr, "%.*s: skipped: %s\n", (int)len, test_fn, why);

  char line[1024];
  int n = snprintf(line, sizeof line, "%.*s\t%s\n", (int)len, test_fn, why);
  if (n >= (int)sizeof line) {
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
  if (skip_log < 0 || write(skip_log, line, (size_t)n) != n) {
    fprintf(stderr, "suite: cannot record the skip of %.*s\n", (int)len,
            test_fn);
    abort(); /* an unrecorded skip would count as a pass */
  }
}

static int open_skip_log(void) {
  int fd = open("/tmp", O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    char path[] = "/tmp/hull-skips.XXXXXX";
    fd = mkostemp(path, O_APPEND | O_CLOEXEC);
    if (fd >= 0)
      unlink(path);
  }
  if (fd < 0) {
    perror("suite: cannot make the skip log");
    exit(EXIT_FAILURE);
  }
  return fd;
}

/* The skip log's lines, without duplicates (a test may record twice). */
static char **read_skips(int *count) {
  static char buf[1 << 20];
  ssize_t n = pread(skip_log, buf, sizeof buf - 1, 0);
  buf[n > 0 ? n : 0] = '\0';
  int cap = 16, k = 0;
  char **lines = malloc(cap * sizeof *lines);
  for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save)) {
    bool seen = false;
    size_t name_len = strcspn(l, "\t");
    for (int i = 0; i < k && !seen; i++)
      seen = strncmp(lines[i], l, name_len + 1) == 0;
    if (seen)
      continue;
    if (k == cap)
      lines = realloc(lines, (cap *= 2) * sizeof *lines);
    lines[k++] = l;
  }
  *count = k;
  return lines;
}

static void report(const char *label, int passed, int failed, char **skips,
                   int n_skips) {
  for (int i = 0; i < n_skips; i++) {
    char *tab = strchr(skips[i], '\t');
    printf("skipped: %.*s: %s\n", (int)(tab - skips[i]), skips[i], tab + 1);
  }
  printf("%s: %d passed, %d failed, %d skipped\n", label, passed, failed,
         n_skips);
  fflush(stdout);
}

int main(void) {
  skip_log = open_skip_log();
  SRunner *sr = srunner_create(NULL);
  for (int i = 0; i < n_suites; i++)
    srunner_add_suite(sr, suites[i]());
  srunner_run_all(sr, CK_NORMAL);
  int ran = srunner_ntests_run(sr);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);

  int n_skips = 0;
  char **skips = read_skips(&n_skips);
  int passed = ran - failed - n_skips;
  const char *label = getenv("HULL_TALLY_LABEL");
  report(label && *label ? label : "tests", passed < 0 ? 0 : passed, failed,
         skips, n_skips);
  free(skips);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
