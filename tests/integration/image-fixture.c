/* image-fixture.c — see image-fixture.h. */
#include "tests/integration/image-fixture.h"
#include "runtime/common/common.h"

#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

char *image_store_of(struct hctx *c) {
  return xasprintf("%s/images", c->dir);
}

int image_count_in(const char *store, const char *sub) {
  cleanup_free char *p = xasprintf("%s/%s", store, sub);
  return hcount_entries(p);
}

bool image_mounted_under(const char *path) {
  cleanup_free char *info = hread_file("/proc/self/mountinfo");
  cleanup_free char *needle = xasprintf(" %s", path);
  return info && hcontains(info, needle);
}

/* umoci config --image img --config.cmd ... and the caller's flags. */
static void configure(const char *img, char *const *config) {
  char *argv[64] = {UMOCI, "config", "--image", (char *)img, "--config.cmd",
                    "/bin/echo", "--config.cmd", "from-image"};
  size_t n = 8;
  for (size_t i = 0; config && config[i]; i++) {
    ck_assert_uint_lt(n, sizeof(argv) / sizeof(*argv) - 1);
    argv[n++] = config[i];
  }
  argv[n] = NULL;
  hrun_tool(argv);
}

void image_make(struct hctx *c, const char *store, char *const *config) {
  ck_assert_msg(access(UMOCI, X_OK) == 0, "a test without SKIP_WITHOUT_UMOCI");
  const char *rootfs = getenv("HULL_TEST_ROOTFS");
  ck_assert_ptr_nonnull(rootfs);
  cleanup_free char *lay = xasprintf("%s/app", c->dir);
  cleanup_free char *img = xasprintf("%s:t", lay);
  cleanup_free char *b1 = xasprintf("%s/unpack1", c->dir);
  cleanup_free char *b2 = xasprintf("%s/unpack2", c->dir);
  cleanup_free char *src = xasprintf("%s/.", rootfs);
  cleanup_free char *dst = xasprintf("%s/rootfs/", b1);
  hrun_tool((char *[]){UMOCI, "init", "--layout", lay, NULL});
  hrun_tool((char *[]){UMOCI, "new", "--image", img, NULL});
  hrun_tool((char *[]){UMOCI, "unpack", "--image", img, b1, NULL});
  hrun_tool((char *[]){"/bin/cp", "-a", src, dst, NULL});
  cleanup_free char *marker1 = xasprintf("%s/rootfs/etc/marker", b1);
  cleanup_free char *gone = xasprintf("%s/rootfs/etc/gone", b1);
  hwrite_file(marker1, "one\n", 0644);
  hwrite_file(gone, "bye\n", 0644);
  hrun_tool((char *[]){UMOCI, "repack", "--image", img, b1, NULL});
  hrun_tool((char *[]){UMOCI, "unpack", "--image", img, b2, NULL});
  cleanup_free char *marker2 = xasprintf("%s/rootfs/etc/marker", b2);
  cleanup_free char *gone2 = xasprintf("%s/rootfs/etc/gone", b2);
  hwrite_file(marker2, "two\n", 0644);
  ck_assert_int_eq(setxattr(marker2, "trusted.hull", "x", 1, 0), 0);
  cleanup_free char *link2 = xasprintf("%s/rootfs/etc/marker-link", b2);
  ck_assert_int_eq(link(marker2, link2), 0);
  ck_assert_int_eq(unlink(gone2), 0);
  hrun_tool((char *[]){UMOCI, "repack", "--image", img, b2, NULL});
  configure(img, config);
  hull_error_t err = NULL;
  ck_assert_int_eq(remove_tree(b1, &err), 0);
  ck_assert_int_eq(remove_tree(b2, &err), 0);
  struct hres r = hrun(c, "image", "--image-root", store, "import", lay, NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Loaded image: " REF "\n");
  hres_free(&r);
}

