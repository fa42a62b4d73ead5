/* state.c — the per-container state directory, its lock and state.json. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

static bool id_char_ok(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-' ||
         c == '.';
}

int state_validate_id(const char *id, hull_error_t *err) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0)
    return hull_error(err, 0, "container id cannot be empty");
  if (n > STATE_MAX_ID_LEN)
    return hull_error(err, 0, "invalid container id: longer than %d bytes",
                      STATE_MAX_ID_LEN);
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return hull_error(err, 0, "invalid container id: %s", id);
  for (const char *p = id; *p; p++)
    if (!id_char_ok(*p))
      return hull_error(err, 0, "invalid container id: %s", id);
  return 0;
}

void state_dir_unlock(struct state_dir *d) {
  if (d->fd >= 0)
    close(d->fd); /* drops the flock */
  d->fd = -1;
}

void state_dir_close(struct state_dir *d) {
  state_dir_unlock(d);
  free(d->path);
  d->path = NULL;
}

/* A holder may take long (a hook without a timeout): naps up to 32 ms. */
static int wait_for_lock(struct state_dir *d, hull_error_t *err) {
  return flock_wait(d->fd, LOCK_EX, 32, "waiting for the container's lock",
                    err);
}

/* Locks an open container directory; fails when it was removed while we
 * waited for the lock (delete won the race). */
static int lock_dir(struct state_dir *d, const char *id, hull_error_t *err) {
  if (wait_for_lock(d, err) < 0)
    return -1;
  struct stat st;
  if (fstat(d->fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", d->path);
  if (st.st_nlink == 0) {
    hull_error(err, 0, "container does not exist: %s", id);
    (*err)->errno_value = ENOENT; /* as when it was gone before we came */
    return -1;
  }
  return 0;
}

static int open_dir(const char *path, struct state_dir *out) {
  out->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  out->path = xstrdup(path);
  return out->fd;
}

int state_dir_create(const char *root, const char *id, struct state_dir *out,
                     hull_error_t *err) {
  out->fd = -1;
  out->path = NULL;
  if (state_validate_id(id, err) < 0)
    return -1;
  if (mkdir_p(root, 0711, err) < 0)
    return hull_error_wrap(err, "create state root");
  cleanup_free char *path = xasprintf("%s/%s", root, id);
  if (mkdir(path, 0711) < 0) {
    if (errno == EEXIST)
      return hull_error(err, 0, "container with id exists: %s", id);
    return hull_error(err, errno, "mkdir `%s`", path);
  }
  if (open_dir(path, out) < 0) {
    int e = errno;
    rmdir(path);
    return hull_error(err, e, "open `%s`", path);
  }
  return lock_dir(out, id, err);
}

int state_dir_open(const char *root, const char *id, struct state_dir *out,
                   hull_error_t *err) {
  out->fd = -1;
  out->path = NULL;
  if (state_validate_id(id, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", root, id);
  if (open_dir(path, out) < 0) {
    if (errno == ENOENT) {
      hull_error(err, 0, "container does not exist: %s", id);
      (*err)->errno_value = ENOENT; /* lets `delete --force` tell */
      return -1;
    }
    return hull_error(err, errno, "open `%s`", path);
  }
  return lock_dir(out, id, err);
}

int state_dir_remove(struct state_dir *d, hull_error_t *err) {
  return remove_tree(d->path, err);
}

/* ---- state.json ------------------------------------------------------ */

static void gen_kv(yajl_gen g, const char *key, const char *value) {
  json_gen_string(g, key);
  json_gen_string(g, value ? value : "");
}

static void gen_annotations(yajl_gen g, const struct spec_map *m) {
  if (m->len == 0)
    return;
  json_gen_string(g, "annotations");
  yajl_gen_map_open(g);
  for (size_t i = 0; i < m->len; i++)
    gen_kv(g, m->items[i].key, m->items[i].value);
  yajl_gen_map_close(g);
}

/* "<name>Pid" and "<name>StartTime" of a process create started beside
 * the init; nothing when there is none. */
static void gen_process(yajl_gen g, const char *name, pid_t pid,
                        uint64_t start_time) {
  if (pid <= 0)
    return;
  cleanup_free char *pid_key = xasprintf("%sPid", name);
  cleanup_free char *start_key = xasprintf("%sStartTime", name);
  json_gen_string(g, pid_key);
  yajl_gen_integer(g, pid);
  json_gen_string(g, start_key);
  yajl_gen_integer(g, (long long)start_time);
}

int state_write(const struct state_dir *d, const struct container_state *st,
                hull_error_t *err) {
  yajl_gen g = json_gen_new(false);
  yajl_gen_map_open(g);
  gen_kv(g, "id", st->id);
  gen_kv(g, "bundle", st->bundle);
  gen_kv(g, "rootfs", st->rootfs);
  gen_kv(g, "created", st->created);
  gen_kv(g, "owner", st->owner);
  gen_kv(g, "cgroupPath", st->cgroup_path);
  if (st->cgroup_own)
    gen_kv(g, "cgroupOwn", st->cgroup_own);
  gen_kv(g, "handler", st->handler);
  json_gen_string(g, "pid");
  yajl_gen_integer(g, st->pid);
  json_gen_string(g, "pidStartTime");
  yajl_gen_integer(g, (long long)st->pid_start_time);
  if (st->cgroup_shared) {
    json_gen_string(g, "cgroupShared");
    yajl_gen_bool(g, 1);
  }
  if (st->rootfs_mount_below) {
    json_gen_string(g, "rootfsMountBelow");
    yajl_gen_integer(g, (long long)st->rootfs_mount_below);
  }
  if (st->net_devices_moved) {
    json_gen_string(g, "netDevicesMoved");
    yajl_gen_array_open(g);
    for (char **n = st->net_devices_moved; *n; n++)
      json_gen_string(g, *n);
    yajl_gen_array_close(g);
  }
  gen_process(g, "netKeeper", st->net_keeper_pid, st->net_keeper_start_time);
  gen_process(g, "netHelper", st->net_helper_pid, st->net_helper_start_time);
  gen_annotations(g, &st->annotations);
  yajl_gen_map_close(g);
  cleanup_free char *json = json_gen_finish(g);
  cleanup_free char *path = xasprintf("%s/state.json", d->path);
  return write_file_atomic(path, json, strlen(json), 0600, err);
}

static char *tree_string(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? xstrdup(YAJL_GET_STRING(v)) : NULL;
}

static long long tree_integer(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

static bool tree_true(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  return yajl_tree_get(root, path, yajl_t_true) != NULL;
}

/* A NULL-terminated copy of an array of strings; NULL when absent. */
static char **tree_strings(yajl_val root, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_array);
  if (v == NULL)
    return NULL;
  char **out = xzalloc((v->u.array.len + 1) * sizeof(*out));
  size_t n = 0;
  for (size_t i = 0; i < v->u.array.len; i++)
    if (YAJL_IS_STRING(v->u.array.values[i]))
      out[n++] = xstrdup(YAJL_GET_STRING(v->u.array.values[i]));
  return out;
}

static void read_annotations(yajl_val root, struct spec_map *m) {
  const char *path[] = {"annotations", NULL};
  yajl_val v = yajl_tree_get(root, path, yajl_t_object);
  if (v == NULL)
    return;
  size_t n = YAJL_GET_OBJECT(v)->len;
  m->items = xzalloc(n * sizeof(*m->items));
  for (size_t i = 0; i < n; i++) {
    yajl_val val = YAJL_GET_OBJECT(v)->values[i];
    if (!YAJL_IS_STRING(val))
      continue;
    m->items[m->len].key = xstrdup(YAJL_GET_OBJECT(v)->keys[i]);
    m->items[m->len].value = xstrdup(YAJL_GET_STRING(val));
    m->len++;
  }
}

int state_read(const struct state_dir *d, struct container_state **out,
               hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/state.json", d->path);
  cleanup_free char *text = NULL;
  if (read_file(path, &text, NULL, err) < 0)
    return -1;
  char errbuf[256];
  yajl_val root = yajl_tree_parse(text, errbuf, sizeof(errbuf));
  if (root == NULL || !YAJL_IS_OBJECT(root)) {
    yajl_tree_free(root);
    return hull_error(err, 0, "`%s`: not a state file", path);
  }
  struct container_state *st = xzalloc(sizeof(*st));
  st->id = tree_string(root, "id");
  st->bundle = tree_string(root, "bundle");
  st->rootfs = tree_string(root, "rootfs");
  st->created = tree_string(root, "created");
  st->owner = tree_string(root, "owner");
  st->cgroup_path = tree_string(root, "cgroupPath");
  st->cgroup_own = tree_string(root, "cgroupOwn");
  st->handler = tree_string(root, "handler");
  st->pid = (pid_t)tree_integer(root, "pid");
  st->pid_start_time = (uint64_t)tree_integer(root, "pidStartTime");
  st->rootfs_mount_below = (uint64_t)tree_integer(root, "rootfsMountBelow");
  st->cgroup_shared = tree_true(root, "cgroupShared");
  st->net_devices_moved = tree_strings(root, "netDevicesMoved");
  st->net_keeper_pid = (pid_t)tree_integer(root, "netKeeperPid");
  st->net_keeper_start_time = (uint64_t)tree_integer(root, "netKeeperStartTime");
  st->net_helper_pid = (pid_t)tree_integer(root, "netHelperPid");
  st->net_helper_start_time = (uint64_t)tree_integer(root, "netHelperStartTime");
  read_annotations(root, &st->annotations);
  yajl_tree_free(root);
  *out = st;
  return 0;
}

void container_state_free(struct container_state *st) {
  if (st == NULL)
    return;
  free(st->id);
  free(st->bundle);
  free(st->rootfs);
  free(st->created);
  free(st->owner);
  free(st->cgroup_path);
  free(st->cgroup_own);
  free(st->handler);
  strv_free(st->net_devices_moved);
  for (size_t i = 0; i < st->annotations.len; i++) {
    free(st->annotations.items[i].key);
    free(st->annotations.items[i].value);
  }
  free(st->annotations.items);
  free(st);
}

void cleanup_container_statep(struct container_state **st) {
  container_state_free(*st);
}

/* ---- status ---------------------------------------------------------- */

/* Field 22 of /proc/<pid>/stat; the comm field may hold spaces and ')'. */
uint64_t process_start_time(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read_all(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] == '\0')
    return 0;
  char state = p[2];
  if (state == 'Z' || state == 'X')
    return 0;
  /* After ") " come fields 3..; start time is field 22. */
  p += 2;
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

bool process_is_alive(pid_t pid, uint64_t start_time) {
  if (pid <= 0)
    return false;
  uint64_t now = process_start_time(pid);
  return now != 0 && (start_time == 0 || now == start_time);
}

enum container_status state_status(const struct state_dir *d,
                                   const struct container_state *st) {
  if (!process_is_alive(st->pid, st->pid_start_time))
    return STATUS_STOPPED;
  if (faccessat(d->fd, STATE_EXEC_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return STATUS_CREATED;
  return STATUS_RUNNING;
}

const char *state_status_name(enum container_status s) {
  static const char *names[] = {"creating", "created", "running", "stopped",
                                "paused"};
  return names[s];
}

char *state_oci_json(const struct container_state *st,
                     enum container_status status, bool pretty) {
  yajl_gen g = json_gen_new(pretty);
  yajl_gen_map_open(g);
  gen_kv(g, "ociVersion", OCI_VERSION);
  gen_kv(g, "id", st->id);
  json_gen_string(g, "pid");
  /* runc reports 0 once the process is gone. */
  yajl_gen_integer(g, status == STATUS_STOPPED ? 0 : st->pid);
  gen_kv(g, "status", state_status_name(status));
  gen_kv(g, "bundle", st->bundle);
  gen_kv(g, "rootfs", st->rootfs);
  gen_kv(g, "created", st->created);
  gen_kv(g, "owner", st->owner);
  gen_process(g, "netKeeper", st->net_keeper_pid, st->net_keeper_start_time);
  gen_process(g, "netHelper", st->net_helper_pid, st->net_helper_start_time);
  gen_annotations(g, &st->annotations);
  yajl_gen_map_close(g);
  return json_gen_finish(g);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list_ids(const char *root, char ***ids, hull_error_t *err) {
  *ids = xzalloc(sizeof(char *));
  DIR *dir = opendir(root);
  if (dir == NULL)
    return errno == ENOENT ? 0 : hull_error(err, errno, "open `%s`", root);
  size_t n = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (de->d_name[0] == '.' || de->d_type != DT_DIR)
      continue;
    *ids = xrealloc(*ids, (n + 2) * sizeof(char *));
    (*ids)[n++] = xstrdup(de->d_name);
    (*ids)[n] = NULL;
  }
  closedir(dir);
  qsort(*ids, n, sizeof(char *), compare_strings);
  return 0;
}
