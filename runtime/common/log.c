/* log.c — runc-compatible logging: logrus' text line or a JSON line
 * {"level":…,"msg":…,"time":…}. Where it goes and how it looks are CLI
 * options, set once by main(); this is the only process-wide setting. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

static struct {
  int fd;
  enum log_format format;
  bool debug;
  bool to_file;
} log_cfg = {.fd = 2, .format = LOG_FORMAT_TEXT};

int log_init(const char *path, enum log_format format, bool debug,
             hull_error_t *err) {
  log_cfg.format = format;
  log_cfg.debug = debug;
  if (path == NULL || *path == '\0')
    return 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return hull_error(err, errno, "open log file `%s`", path);
  log_cfg.fd = fd;
  log_cfg.to_file = true;
  return 0;
}

int log_fd(void) { return log_cfg.fd; }

static const char *level_name(enum log_level level) {
  static const char *names[] = {"error", "warning", "info", "debug"};
  return names[level];
}

static void now_rfc3339(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

void json_gen_string(yajl_gen g, const char *s) {
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

bool json_gen_scalar(yajl_gen g, yajl_val v) {
  if (v == NULL || YAJL_IS_NULL(v))
    yajl_gen_null(g);
  else if (YAJL_IS_STRING(v))
    json_gen_string(g, v->u.string);
  else if (YAJL_IS_NUMBER(v))
    yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
  else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
    yajl_gen_bool(g, YAJL_IS_TRUE(v));
  else
    return false;
  return true;
}

void json_gen_tree(yajl_gen g, yajl_val v) {
  if (json_gen_scalar(g, v))
    return;
  if (YAJL_IS_ARRAY(v)) {
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->u.array.len; i++)
      json_gen_tree(g, v->u.array.values[i]);
    yajl_gen_array_close(g);
    return;
  }
  yajl_gen_map_open(g);
  for (size_t i = 0; i < v->u.object.len; i++) {
    json_gen_string(g, v->u.object.keys[i]);
    json_gen_tree(g, v->u.object.values[i]);
  }
  yajl_gen_map_close(g);
}

yajl_val json_member(yajl_val obj, const char *key) {
  if (!YAJL_IS_OBJECT(obj))
    return NULL;
  for (size_t i = 0; i < obj->u.object.len; i++)
    if (strcmp(obj->u.object.keys[i], key) == 0)
      return obj->u.object.values[i];
  return NULL;
}

yajl_gen json_gen_new(bool pretty) {
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    abort();
  yajl_gen_config(g, yajl_gen_beautify, pretty ? 1 : 0);
  yajl_gen_config(g, yajl_gen_indent_string, "  ");
  return g;
}

char *json_gen_finish(yajl_gen g) {
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(g, &buf, &len);
  char *s = xstrndup((const char *)buf, len);
  yajl_gen_free(g);
  return s;
}

char *json_gen_finish_document(yajl_gen g) {
  char *s = json_gen_finish(g);
  size_t n = strlen(s);
  if (n > 0 && s[n - 1] == '\n')
    s[n - 1] = '\0';
  return s;
}

static char *format_json_line(enum log_level level, const char *msg,
                              const char *when) {
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  json_gen_string(g, "level");
  json_gen_string(g, level_name(level));
  json_gen_string(g, "msg");
  json_gen_string(g, msg);
  json_gen_string(g, "time");
  json_gen_string(g, when);
  yajl_gen_map_close(g);
  char *s = json_gen_finish(g);
  char *line = xasprintf("%s\n", s);
  free(s);
  return line;
}

/* logrus' text formatter quotes msg with Go escaping; backslash-escaping
 * quotes and control characters is what it amounts to for our messages. */
static char *format_text_line(enum log_level level, const char *msg,
                              const char *when) {
  size_t n = strlen(msg);
  cleanup_free char *q = xmalloc(n * 4 + 1);
  char *o = q;
  for (const char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\') {
      *o++ = '\\';
      *o++ = *p;
    } else if (*p == '\n') {
      *o++ = '\\';
      *o++ = 'n';
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", when,
                   level_name(level), q);
}

static void emit(int fd, enum log_level level, const char *msg) {
  char when[64];
  now_rfc3339(when, sizeof(when));
  cleanup_free char *line = log_cfg.format == LOG_FORMAT_JSON
                                ? format_json_line(level, msg, when)
                                : format_text_line(level, msg, when);
  (void)write_all(fd, line, strlen(line));
}

void log_msg(enum log_level level, const char *fmt, ...) {
  if (level == LOG_DEBUG && !log_cfg.debug)
    return;
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg)
    emit(log_cfg.fd, level, msg);
  errno = saved;
}

void log_error_final(const char *msg) {
  emit(log_cfg.fd, LOG_ERROR, msg);
  /* As runc: with a log file the user still sees the error on stderr. */
  if (log_cfg.to_file) {
    cleanup_free char *line = xasprintf("%s\n", msg);
    (void)write_all(2, line, strlen(line));
  }
}
