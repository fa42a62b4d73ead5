/* test_digest.c — images/digest.c: descriptor digests, whole and streamed. */
#include "images/images.h"
#include "tests/suite.h"

#include <string.h>

START_TEST(sha256_and_sha512_of_known_text) {
  struct image_digest d;
  image_digest_of(IMAGE_SHA256, "abc", 3, &d);
  ck_assert_str_eq(d.text, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
                           "96177a9cb410ff61f20015ad");
  ck_assert_str_eq(image_digest_hex(&d), d.text + 7);
  image_digest_of(IMAGE_SHA512, "abc", 3, &d);
  ck_assert_str_eq(d.text,
                   "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20"
                   "a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423"
                   "643ce80e2a9ac94fa54ca49f");
}
END_TEST

/* libcrypto is loaded on first use; here it is installed. */
START_TEST(libcrypto_loads) {
  hull_error_t err = NULL;
  ck_assert_msg(image_digests_load(&err) == 0, "%s", err ? err->msg : "");
  ck_assert_int_eq(image_digests_load(&err), 0);
}
END_TEST

START_TEST(streamed_equals_whole) {
  struct image_hasher *h = image_hasher_new(IMAGE_SHA256);
  image_hasher_update(h, "hello ", 6);
  image_hasher_update(h, "world", 5);
  struct image_digest streamed, whole;
  image_hasher_finish(h, &streamed);
  image_digest_of(IMAGE_SHA256, "hello world", 11, &whole);
  ck_assert_str_eq(streamed.text, whole.text);
}
END_TEST

START_TEST(parse_accepts_descriptors_and_refuses_the_rest) {
  struct image_digest d;
  hull_error_t err = NULL;
  const char *good = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                     "b410ff61f20015ad";
  ck_assert_int_eq(image_digest_parse(good, &d, &err), 0);
  ck_assert_int_eq(d.algorithm, IMAGE_SHA256);
  ck_assert_str_eq(d.text, good);
  const char *bad[] = {"", "sha256:", "md5:abc", "sha256:BA7816BF",
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                       "b410ff61f20015aD",
                       "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
                       "b410ff61f20015ad"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    ck_assert_int_lt(image_digest_parse(bad[i], &d, &err), 0);
    cleanup_free char *want = xasprintf(
        "digest \"%s\": not an OCI digest (sha256:<64 hex> or sha512:<128 "
        "hex>)", bad[i]);
    ck_assert_str_eq(err->msg, want);
    hull_error_release(&err);
  }
}
END_TEST

static Suite *digest_suite(void) {
  Suite *s = suite_create("digest");
  TCase *tc = tcase_create("digest");
  tcase_add_test(tc, sha256_and_sha512_of_known_text);
  tcase_add_test(tc, libcrypto_loads);
  tcase_add_test(tc, streamed_equals_whole);
  tcase_add_test(tc, parse_accepts_descriptors_and_refuses_the_rest);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(digest_suite)
