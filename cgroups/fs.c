/* fs.c — cgroupfs operations v1 and v2 have in common: joining, listing,
 * signalling, and tearing a cgroup down. */
#include "cgroups/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long destroy waits for killed processes to leave and for rmdir to
 * stop saying EBUSY. */
#define DESTROY_WAIT_MS 5000
#define DESTROY_POLL_MS 10

void cgroup_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

/* True when pid is listed in dir's cgroup.procs. */
static bool pid_is_in(const char *dir, pid_t pid) {
  cleanup_free char *path = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *procs = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (read_file(path, &procs, NULL, &ignored) < 0)
    return false;
  for (char *p = procs; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    if (v == pid)
      return true;
    p = end + strspn(end, "\n");
  }
  return false;
}

/* A write of a pid, to cgroup.procs or to v1's `tasks`, takes the cgroup
 * threadgroup lock for writing, which waits for an RCU grace period
 * (5-10 ms): v1 hierarchies are better left to the process itself
 * (cgroup_open_self_enter), and on cgroup2 the init was usually placed by
 * clone3(CLONE_INTO_CGROUP) and needs no move. `tasks` moves the one
 * thread of a single-threaded process. */
int cgroup_fs_enter(struct cgroup *cg, pid_t pid, hull_error_t *err) {
  char buf[32];
  int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
  for (size_t i = 0; i < cg->n_dirs; i++) {
    bool v2 = cg->controllers[i][0] == '\0';
    if (!v2 && cg->v1_self_entered)
      continue;
    if (v2 && pid_is_in(cg->dirs[i], pid))
      continue;
    cleanup_free char *knob =
        xasprintf("%s/%s", cg->dirs[i], v2 ? "cgroup.procs" : "tasks");
    if (write_file(knob, buf, (size_t)len, err) < 0)
      return hull_error_wrap(err, "move pid %d into cgroup", (int)pid);
  }
  return 0;
}

static void append_pid(pid_t **pids, size_t *n, pid_t pid) {
  for (size_t i = 0; i < *n; i++)
    if ((*pids)[i] == pid)
      return;
  *pids = xrealloc(*pids, (*n + 1) * sizeof(**pids));
  (*pids)[(*n)++] = pid;
}

int cgroup_fs_read_pids(const char *dir, pid_t **pids, size_t *n,
                        hull_error_t *err) {
  cleanup_free char *procs_path = xasprintf("%s/cgroup.procs", dir);
  cleanup_free char *procs = NULL;
  if (read_file(procs_path, &procs, NULL, err) < 0) {
    if ((*err)->errno_value != ENOENT)
      return -1;
    hull_error_release(err);   /* the cgroup is gone: nothing in it */
    return 0;
  }
  for (char *p = procs; *p;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p)
      break;
    if (pid > 0)
      append_pid(pids, n, (pid_t)pid);
    p = end + strspn(end, "\n");
  }

  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : hull_error(err, errno, "open `%s`", dir);
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
    ret = cgroup_fs_read_pids(sub, pids, n, err);
  }
  closedir(d);
  return ret;
}

static int signal_pids(const pid_t *pids, size_t n, int sig,
                       hull_error_t *err) {
  for (size_t i = 0; i < n; i++)
    if (kill(pids[i], sig) < 0 && errno != ESRCH)
      return hull_error(err, errno, "kill %d", (int)pids[i]);
  return 0;
}

int cgroup_fs_signal_all(struct cgroup *cg, int sig, hull_error_t *err) {
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (cgroup_pids(cg, &pids, &n, err) < 0)
    return -1;
  return signal_pids(pids, n, sig, err);
}

/* Every pid in any of the cgroup's hierarchies: a process the container
 * moved elsewhere in one hierarchy still blocks rmdir in the others. */
static int all_pids(struct cgroup *cg, pid_t **pids, size_t *n,
                    hull_error_t *err) {
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (cgroup_fs_read_pids(cg->dirs[i], pids, n, err) < 0)
      return -1;
  return 0;
}

/* SIGKILL and re-read until the cgroup is empty. Killed processes leave
 * cgroup.procs as they exit (zombies are not listed), so this needs no
 * reaping by us. There is no notification for "empty" on v1, hence the
 * short poll. */
static int kill_until_empty(struct cgroup *cg, hull_error_t *err) {
  for (int waited = 0;; waited += DESTROY_POLL_MS) {
    cleanup_free pid_t *pids = NULL;
    size_t n = 0;
    if (all_pids(cg, &pids, &n, err) < 0)
      return -1;
    if (n == 0)
      return 0;
    if (waited >= DESTROY_WAIT_MS)
      return hull_error(err, EBUSY, "cgroup `%s`: %zu processes survive "
                        "SIGKILL (first: %d)", cg->path, n, (int)pids[0]);
    if (signal_pids(pids, n, SIGKILL, err) < 0)
      return -1;
    cgroup_sleep_ms(DESTROY_POLL_MS);
  }
}

/* rmdir of dir and every cgroup below it, deepest first. */
static int remove_cgroup_dir(const char *dir, hull_error_t *err) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return errno == ENOENT ? 0 : hull_error(err, errno, "open `%s`", dir);
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (de->d_type != DT_DIR || de->d_name[0] == '.')
      continue;
    cleanup_free char *sub = xasprintf("%s/%s", dir, de->d_name);
    ret = remove_cgroup_dir(sub, err);
  }
  closedir(d);
  if (ret < 0)
    return -1;
  /* EBUSY right after the kill: the last task is still on its way out. */
  for (int waited = 0; rmdir(dir) < 0; waited += DESTROY_POLL_MS) {
    if (errno == ENOENT)
      return 0;
    if (errno != EBUSY || waited >= DESTROY_WAIT_MS)
      return hull_error(err, errno, "remove cgroup `%s`", dir);
    cgroup_sleep_ms(DESTROY_POLL_MS);
  }
  return 0;
}

int cgroup_fs_destroy(struct cgroup *cg, hull_error_t *err) {
  if (kill_until_empty(cg, err) < 0)
    return -1;
  for (size_t i = 0; i < cg->n_dirs; i++)
    if (remove_cgroup_dir(cg->dirs[i], err) < 0)
      return -1;
  return 0;
}

/* ---- knobs ------------------------------------------------------------------ */

bool cgroup_fs_has(const char *dir, const char *file) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

/* One write(2) per value: cgroupfs parses each write on its own, so a
 * value must not be split. The error names the spec field the value came
 * from, what was written and where. */
int cgroup_fs_write(const char *dir, const char *file, const char *value,
                    const char *field, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
  size_t len = strlen(value);
  if (fd < 0 || write(fd, value, len) != (ssize_t)len)
    return hull_error(err, errno, "linux.resources.%s: write %s to %s", field,
                      value, path);
  return 0;
}

int cgroup_fs_write_u64(const char *dir, const char *file, uint64_t value,
                        const char *field, hull_error_t *err) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
  return cgroup_fs_write(dir, file, buf, field, err);
}

int cgroup_fs_write_i64(const char *dir, const char *file, int64_t value,
                        const char *field, hull_error_t *err) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%lld", (long long)value);
  return cgroup_fs_write(dir, file, buf, field, err);
}

int cgroup_fs_read_u64(const char *dir, const char *file, uint64_t *out,
                       hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_free char *text = NULL;
  if (read_file(path, &text, NULL, err) < 0)
    return -1;
  if (strncmp(text, "max", 3) == 0) {
    *out = UINT64_MAX;
    return 0;
  }
  char *end;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (end == text || errno != 0)
    return hull_error(err, 0, "read `%s`: not a number: %s", path, text);
  *out = v;
  return 0;
}
