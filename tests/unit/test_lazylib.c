/* test_lazylib.c — runtime/common/lazylib.c: a library loaded on first use,
 * its table filled once, and one-line errors naming the library and the
 * missing symbol. */
#include "runtime/common/common.h"
#include "tests/suite.h"

#include <string.h>

#define API(name) __typeof__(name) *name
struct libc_api {
  API(strlen);
  API(strcmp);
};
#undef API

#define SYM(name) LAZYLIB_SYMBOL(struct libc_api, name)

START_TEST(fills_the_table_once) {
  static const struct lazylib_symbol symbols[] = {SYM(strlen), SYM(strcmp)};
  static struct lazylib libc = LAZYLIB("libc.so.6", symbols, struct libc_api);
  hull_error_t err = NULL;
  const void *first, *again;
  ck_assert_int_eq(lazylib_load(&libc, &first, &err), 0);
  const struct libc_api *api = first;
  ck_assert_uint_eq(api->strlen("four"), 4);
  ck_assert_int_eq(api->strcmp("a", "a"), 0);
  ck_assert_int_eq(lazylib_load(&libc, &again, &err), 0);
  ck_assert_ptr_eq(first, again);
}
END_TEST

START_TEST(a_missing_library_is_named) {
  static const struct lazylib_symbol symbols[] = {SYM(strlen), SYM(strcmp)};
  static struct lazylib nolib =
      LAZYLIB("libhull-test-missing.so.7", symbols, struct libc_api);
  hull_error_t err = NULL;
  const void *table = NULL;
  ck_assert_int_lt(lazylib_load(&nolib, &table, &err), 0);
  ck_assert_str_eq(err->msg, "libhull-test-missing.so.7: not loadable: cannot "
                             "open shared object file: No such file or "
                             "directory");
  ck_assert_ptr_null(table);
  hull_error_release(&err);
  /* Not remembered: the next call tries again (and fails the same way). */
  ck_assert_int_lt(lazylib_load(&nolib, &table, &err), 0);
  ck_assert_ptr_null(strchr(err->msg, '\n'));
  hull_error_release(&err);
}
END_TEST

struct odd_api {
  size_t (*strlen)(const char *);
  size_t (*no_such_function)(const char *);
};

START_TEST(a_missing_symbol_is_named) {
  static const struct lazylib_symbol symbols[] = {
      LAZYLIB_SYMBOL(struct odd_api, strlen),
      {"hull_no_such_function", offsetof(struct odd_api, no_such_function)}};
  static struct lazylib odd = LAZYLIB("libc.so.6", symbols, struct odd_api);
  hull_error_t err = NULL;
  const void *table = NULL;
  ck_assert_int_lt(lazylib_load(&odd, &table, &err), 0);
  ck_assert_str_eq(err->msg,
                   "libc.so.6: not loadable: no symbol hull_no_such_function");
  hull_error_release(&err);
}
END_TEST

/* A member added to a table but not to its symbols would stay NULL. */
START_TEST(symbols_must_cover_the_table) {
  static const struct lazylib_symbol symbols[] = {SYM(strlen)};
  static struct lazylib half = LAZYLIB("libc.so.6", symbols, struct libc_api);
  hull_error_t err = NULL;
  const void *table = NULL;
  ck_assert_int_lt(lazylib_load(&half, &table, &err), 0);
  ck_assert_str_eq(err->msg,
                   "libc.so.6: not loadable: 1 symbols for a table of 16 bytes");
  hull_error_release(&err);
}
END_TEST

static Suite *lazylib_suite(void) {
  Suite *s = suite_create("lazylib");
  TCase *tc = tcase_create("lazylib");
  tcase_add_test(tc, fills_the_table_once);
  tcase_add_test(tc, a_missing_library_is_named);
  tcase_add_test(tc, a_missing_symbol_is_named);
  tcase_add_test(tc, symbols_must_cover_the_table);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(lazylib_suite)
