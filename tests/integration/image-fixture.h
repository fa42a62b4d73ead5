/* image-fixture.h — what the tests of containers made from images share
 * (test-image-run.c, test-image-run-options.c): a store under the test's
 * directory and an image of the test rootfs made with umoci.
 *
 * The image REF is the test rootfs (busybox and the helper) in two layers,
 * the second changing /etc/marker (with a trusted.* xattr, as tmpfs before
 * Linux 6.6 has no user.* ones, and a second name, a hard link) and
 * removing /etc/gone (a whiteout); Cmd ["/bin/echo", "from-image"]. */
#ifndef HULL_TEST_IMAGE_FIXTURE_H
#define HULL_TEST_IMAGE_FIXTURE_H

#include "tests/integration/harness.h"

#include <stdbool.h>
#include <unistd.h>

#define UMOCI "/usr/bin/umoci"
#define TAR "/usr/bin/tar"

/* First thing in a test that makes its image with umoci: a skip in a
 * helper would end only the helper. */
#define SKIP_WITHOUT_UMOCI()                                                  \
  SKIP_UNLESS(access(UMOCI, X_OK) == 0, "no umoci (Debian package umoci)")
#define REF "localhost/app:t"

/* <test dir>/images (free it). */
char *image_store_of(struct hctx *c);
/* The entries of store/sub not starting with '.'. */
int image_count_in(const char *store, const char *sub);
/* Whether a mount point lies at or under path. */
bool image_mounted_under(const char *path);
/* Makes REF and imports it into store. config: more `umoci config` flags
 * for the image's config (NULL-terminated; NULL: none), e.g.
 * {"--config.env", "A=1", NULL}. */
void image_make(struct hctx *c, const char *store, char *const *config);

/* `hull run --image REF --image-root STORE ARGS...` */
#define hrun_image(c, store, ...)                                             \
  hrun(c, "run", "--image", REF, "--image-root", store, __VA_ARGS__, NULL)

#endif
