/* xalloc.c — allocation that aborts on OOM, string vectors, cleanup helpers. */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *check(void *p) {
  if (p == NULL) {
    static const char msg[] = "hull: out of memory\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    abort();
  }
  return p;
}

void *xmalloc(size_t n) { return check(malloc(n ? n : 1)); }
void *xzalloc(size_t n) { return check(calloc(1, n ? n : 1)); }
void *xrealloc(void *p, size_t n) { return check(realloc(p, n ? n : 1)); }
char *xstrdup(const char *s) { return s ? check(strdup(s)) : NULL; }
char *xstrndup(const char *s, size_t n) { return check(strndup(s, n)); }

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (r < 0)
    check(NULL);
  return s;
}

size_t strv_len(char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void strv_free(char **v) {
  for (size_t i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

char **strv_dup(char *const *v) {
  size_t n = strv_len(v);
  char **r = xzalloc((n + 1) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    r[i] = xstrdup(v[i]);
  return r;
}

void strv_append(char ***v, const char *s) {
  size_t n = strv_len(*v);
  *v = xrealloc(*v, (n + 2) * sizeof(char *));
  (*v)[n] = xstrdup(s);
  (*v)[n + 1] = NULL;
}

void cleanup_freep(void *p) { free(*(void **)p); }

void cleanup_closep(int *fd) {
  if (*fd >= 0)
    close(*fd);
}

void cleanup_fclosep(FILE **f) {
  if (*f)
    fclose(*f);
}

void cleanup_strvp(char ***v) { strv_free(*v); }
