/* platform.c — platforms as image indexes name them (os, architecture,
 * variant: Go's GOOS/GOARCH/GOARM), and choosing an index's entry for one. */
#include "images/images.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

void image_platform_clear(struct image_platform *p) {
  free(p->os);
  free(p->architecture);
  free(p->variant);
  memset(p, 0, sizeof(*p));
}

int image_platform_parse(const char *text, struct image_platform *out,
                         hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  cleanup_free char *copy = xstrdup(text);
  char *parts[4] = {0};
  int n = 0;
  for (char *save = NULL, *p = strtok_r(copy, "/", &save); p;
       p = strtok_r(NULL, "/", &save)) {
    if (n == 3)
      goto bad;
    parts[n++] = p;
  }
  if (n < 2)
    goto bad;
  out->os = xstrdup(parts[0]);
  out->architecture = xstrdup(parts[1]);
  out->variant = dup_or_null(parts[2]);
  return 0;
bad:
  return hull_error(err, 0, "platform \"%s\": expected os/arch[/variant] "
                            "(linux/arm64/v8)", text);
}

/* uname's machine as Go's GOARCH (and GOARM) name it. */
void image_platform_host(struct image_platform *out) {
  static const struct {
    const char *machine, *arch, *variant;
  } names[] = {
      {"x86_64", "amd64", NULL},   {"aarch64", "arm64", NULL},
      {"armv7l", "arm", "v7"},     {"armv6l", "arm", "v6"},
      {"i686", "386", NULL},       {"i386", "386", NULL},
      {"ppc64le", "ppc64le", NULL}, {"s390x", "s390x", NULL},
      {"riscv64", "riscv64", NULL}, {"mips64", "mips64", NULL},
      {"loongarch64", "loong64", NULL},
  };
  struct utsname u;
  memset(out, 0, sizeof(*out));
  out->os = xstrdup("linux");
  const char *machine = uname(&u) == 0 ? u.machine : "x86_64";
  for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
    if (strcmp(machine, names[i].machine) == 0) {
      out->architecture = xstrdup(names[i].arch);
      out->variant = dup_or_null(names[i].variant);
      return;
    }
  out->architecture = xstrdup(machine);
}

char *image_platform_format(const struct image_platform *p) {
  if (p->os == NULL)
    return xstrdup("unknown");
  if (p->variant)
    return xasprintf("%s/%s/%s", p->os, p->architecture, p->variant);
  return xasprintf("%s/%s", p->os, p->architecture);
}

/* arm64 images say "v8" or nothing, and mean the same. */
static const char *variant_of(const struct image_platform *p) {
  if (p->variant == NULL ||
      (strcmp(p->architecture, "arm64") == 0 && strcmp(p->variant, "v8") == 0))
    return "";
  return p->variant;
}

bool image_platform_matches(const struct image_platform *have,
                            const struct image_platform *want) {
  if (have->os == NULL || strcmp(have->os, want->os) != 0 ||
      strcmp(have->architecture, want->architecture) != 0)
    return false;
  return want->variant == NULL ||
         strcmp(variant_of(have), variant_of(want)) == 0;
}

int image_index_select(const char *what, const struct image_index *ix,
                       const struct image_platform *want,
                       const struct image_descriptor **out,
                       hull_error_t *err) {
  for (size_t i = 0; i < ix->n_manifests; i++) {
    const struct image_descriptor *d = &ix->manifests[i];
    if (image_media_kind(d->media_type) == IMAGE_KIND_MANIFEST &&
        image_platform_matches(&d->platform, want)) {
      *out = d;
      return 0;
    }
  }
  cleanup_free char *wanted = image_platform_format(want);
  cleanup_free char *has = xstrdup("");
  for (size_t i = 0; i < ix->n_manifests; i++) {
    if (ix->manifests[i].platform.os == NULL)
      continue;
    cleanup_free char *p = image_platform_format(&ix->manifests[i].platform);
    char *more = xasprintf("%s%s%s", has, *has ? ", " : "", p);
    free(has);
    has = more;
  }
  return hull_error(err, 0, "%s: no manifest for %s (it has %s)", what,
                    wanted, *has ? has : "none with a platform");
}
