/* oom.c — noticing OOM kills in a container's cgroup, for `events`.
 *
 * v1: the memory controller signals an eventfd registered through
 * cgroup.event_control for memory.oom_control; it signals again when the
 * cgroup is removed, which is told apart by cgroup.event_control being gone
 * (as runc does). v2: memory.events changes (inotify IN_MODIFY) and its
 * oom_kill count is compared with the last one seen. */
#include "cgroups/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

struct cgroup_oom_watch {
  int fd;                    /* eventfd (v1), inotify (v2), or -1 */
  bool v2;
  char *dir;                 /* the memory cgroup directory */
  uint64_t last_kills;       /* v2: oom_kill as last read */
};

static bool is_memory_controller(const char *controllers) {
  size_t len = strlen("memory");
  for (const char *p = controllers; *p;) {
    size_t n = strcspn(p, ",");
    if (n == len && strncmp(p, "memory", n) == 0)
      return true;
    p += n + (p[n] == ',');
  }
  return false;
}

/* oom_kill in memory.events; 0 when it cannot be read. */
static uint64_t v2_oom_kills(const char *dir) {
  cleanup_free char *path = xasprintf("%s/memory.events", dir);
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (read_file(path, &text, NULL, &ignored) < 0)
    return 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
    if (strncmp(line, "oom_kill ", 9) == 0)
      return strtoull(line + 9, NULL, 10);
  return 0;
}

static int open_v1(struct cgroup_oom_watch *w, hull_error_t *err) {
  cleanup_free char *control = xasprintf("%s/memory.oom_control", w->dir);
  cleanup_close int control_fd = open(control, O_RDONLY | O_CLOEXEC);
  if (control_fd < 0)
    return hull_error(err, errno, "open `%s`", control);
  cleanup_close int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0)
    return hull_error(err, errno, "eventfd");
  char line[64];
  snprintf(line, sizeof(line), "%d %d", efd, control_fd);
  cleanup_free char *event_control =
      xasprintf("%s/cgroup.event_control", w->dir);
  if (write_file(event_control, line, strlen(line), err) < 0)
    return hull_error_wrap(err, "watch for OOM kills");
  w->fd = take_fd(&efd);
  return 0;
}

static int open_v2(struct cgroup_oom_watch *w, hull_error_t *err) {
  cleanup_free char *events = xasprintf("%s/memory.events", w->dir);
  cleanup_close int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0)
    return hull_error(err, errno, "inotify_init1");
  if (inotify_add_watch(fd, events, IN_MODIFY) < 0)
    return hull_error(err, errno, "watch `%s`", events);
  w->last_kills = v2_oom_kills(w->dir);
  w->fd = take_fd(&fd);
  return 0;
}

int cgroup_oom_watch_open(struct cgroup *cg, struct cgroup_oom_watch **out,
                          hull_error_t *err) {
  struct cgroup_oom_watch *w = xzalloc(sizeof(*w));
  w->fd = -1;
  for (size_t i = 0; w->dir == NULL && i < cg->n_dirs; i++)
    if (is_memory_controller(cg->controllers[i]))
      w->dir = xstrdup(cg->dirs[i]);
  for (size_t i = 0; w->dir == NULL && i < cg->n_dirs; i++)
    if (cg->controllers[i][0] == '\0' &&
        cgroup_fs_has(cg->dirs[i], "memory.events")) {
      w->dir = xstrdup(cg->dirs[i]);
      w->v2 = true;
    }
  int ret = 0;
  if (w->dir)
    ret = w->v2 ? open_v2(w, err) : open_v1(w, err);
  if (ret < 0) {
    cgroup_oom_watch_free(w);
    return -1;
  }
  *out = w;
  return 0;
}

int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w) { return w->fd; }

int cgroup_oom_watch_read(struct cgroup_oom_watch *w, uint64_t *ooms,
                          bool *gone, hull_error_t *err) {
  *ooms = 0;
  *gone = false;
  if (w->fd < 0)
    return 0;
  if (!w->v2) {
    uint64_t n;
    if (read(w->fd, &n, sizeof(n)) != sizeof(n))
      return errno == EAGAIN || errno == EINTR
                 ? 0
                 : hull_error(err, errno, "read OOM eventfd");
    *gone = !cgroup_fs_has(w->dir, "cgroup.event_control");
    *ooms = *gone ? 0 : n;
    return 0;
  }
  char buf[4096];
  while (read(w->fd, buf, sizeof(buf)) > 0)
    ;                        /* the events only say "look again" */
  if (!cgroup_fs_has(w->dir, "memory.events")) {
    *gone = true;
    return 0;
  }
  uint64_t kills = v2_oom_kills(w->dir);
  if (kills > w->last_kills)
    *ooms = kills - w->last_kills;
  w->last_kills = kills;
  return 0;
}

void cgroup_oom_watch_free(struct cgroup_oom_watch *w) {
  if (w == NULL)
    return;
  if (w->fd >= 0)
    close(w->fd);
  free(w->dir);
  free(w);
}
