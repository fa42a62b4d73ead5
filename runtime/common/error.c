/* error.c — the one error type: a message that grows context as it travels up. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  return s;
}

int hull_error(hull_error_t *err, int errno_value, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *what = vformat(fmt, ap);
  va_end(ap);

  hull_error_release(err);
  struct hull_error *e = xzalloc(sizeof(*e));
  e->errno_value = errno_value;
  e->msg = errno_value ? xasprintf("%s: %s", what, strerror(errno_value))
                       : take_ptr(what);
  *err = e;
  return -1;
}

int hull_error_wrap(hull_error_t *err, const char *fmt, ...) {
  if (*err == NULL)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *ctx = vformat(fmt, ap);
  va_end(ap);
  char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
  free((*err)->msg);
  (*err)->msg = msg;
  return -1;
}

void hull_error_release(hull_error_t *err) {
  if (*err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}

void cleanup_errorp(hull_error_t *err) { hull_error_release(err); }
