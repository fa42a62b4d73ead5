/* systemd.c — the systemd cgroup driver (`--systemd-cgroup`).
 *
 * Where systemd is PID 1 it owns the cgroup tree, and the one stable way to
 * get a cgroup of one's own is its D-Bus API: StartTransientUnit of a
 * `<prefix>-<name>.scope` in a slice, with the init's pid and Delegate=yes,
 * as runc's and crun's systemd drivers do. linux.cgroupsPath is runc's
 * `slice:prefix:name`. The resources systemd knows become unit properties
 * (so a `systemctl daemon-reload` does not undo them); then every resource,
 * those included, is written through the cgroupfs manager of the host's
 * layout under the scope's directory, which also covers what systemd has no
 * property for and the v1 hierarchies systemd does not manage. `update` does
 * both too: SetUnitProperties with the same properties, then the cgroupfs
 * writes. Everything else after create (kill, freeze, stats) is that cgroupfs
 * manager's work on the scope's directory; delete kills and removes it, then
 * stops the unit.
 *
 * A scope needs a pid, and hull learns the init's pid only after `create`
 * and `apply`: `create` checks that systemd is there and names the unit,
 * `apply` keeps the resources, `enter` starts the scope and applies them. */
#include "cgroups/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cgroups/sd-bus.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define JOB_TIMEOUT_USEC (30 * 1000000ULL)

extern const struct cgroup_manager cgroup_manager_systemd;

bool cgroup_path_is_systemd(const char *path) {
  const char *colon = path ? strchr(path, ':') : NULL;
  return colon && strchr(colon + 1, ':') && path[0] != '/';
}

/* ---- names ---------------------------------------------------------------- */

int cgroup_systemd_parse(const char *path, char **slice, char **unit,
                         hull_error_t *err) {
  const char *c1 = strchr(path, ':');
  const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
  if (c2 == NULL || strchr(c2 + 1, ':'))
    return hull_error(err, 0, "cgroupsPath `%s`: expected slice:prefix:name "
                      "with --systemd-cgroup", path);
  const char *prefix = c1 + 1, *name = c2 + 1;
  size_t prefix_len = (size_t)(c2 - prefix);
  if (*name == '\0' || strchr(path, '/'))
    return hull_error(err, 0, "cgroupsPath `%s`: expected slice:prefix:name "
                      "with a name and no `/`", path);
  size_t name_len = strlen(name);
  if (name_len > 6 && strcmp(name + name_len - 6, ".slice") == 0)
    return hull_error(err, 0, "cgroupsPath `%s`: a container in a slice of "
                      "its own is not supported by hull yet", path);
  *slice = c1 == path ? xstrdup("system.slice")
                      : xstrndup(path, (size_t)(c1 - path));
  *unit = prefix_len ? xasprintf("%.*s-%s.scope", (int)prefix_len, prefix, name)
                     : xasprintf("%s.scope", name);
  return 0;
}

/* systemd nests slices by their dashes: a-b.slice lives in a.slice, so its
 * directory is /a.slice/a-b.slice; -.slice is the root. */
char *cgroup_systemd_slice_dir(const char *slice) {
  if (strcmp(slice, "-.slice") == 0)
    return xstrdup("");
  size_t len = strlen(slice);
  size_t base = len > 6 && strcmp(slice + len - 6, ".slice") == 0 ? len - 6
                                                                   : len;
  char *out = xstrdup("");
  for (size_t i = 0; i <= base; i++) {
    if (i < base && slice[i] != '-')
      continue;
    char *next = xasprintf("%s/%.*s.slice", out, (int)i, slice);
    free(out);
    out = next;
  }
  return out;
}

static char *scope_dir(const char *slice, const char *unit) {
  cleanup_free char *s = cgroup_systemd_slice_dir(slice);
  return xasprintf("%s/%s", s, unit);
}

/* ---- the bus -------------------------------------------------------------- */

/* sd-bus, loaded by bus_open() before any other use (see sd-bus.h). */
static const struct sd_bus_api *sd;

static void bus_closep(sd_bus **bus) {
  if (*bus)
    sd->flush_close_unref(*bus);
}
#define cleanup_bus __attribute__((cleanup(bus_closep)))

/* What sd_booted() checks, without loading libsystemd for it. */
static bool systemd_booted(void) {
  struct stat st;
  return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

static int systemd_running(hull_error_t *err) {
  if (systemd_booted())
    return 0;
  cleanup_free char *comm = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (read_file("/proc/1/comm", &comm, NULL, &ignored) == 0)
    comm[strcspn(comm, "\n")] = '\0';
  return hull_error(err, 0, "--systemd-cgroup: systemd is not running (PID 1 "
                    "is %s)", comm ? comm : "unknown");
}

int cgroup_systemd_check(const char *path, hull_error_t *err) {
  cleanup_free char *slice = NULL, *unit = NULL;
  if (path && cgroup_systemd_parse(path, &slice, &unit, err) < 0)
    return -1;
  return systemd_running(err);
}

/* As root, systemd's private socket (no dbus-daemon needed, as go-systemd
 * does for runc); else the system bus. */
static int bus_open(sd_bus **out, hull_error_t *err) {
  if (systemd_running(err) < 0 || sd_bus_api_load(&sd, err) < 0)
    return -1;
  sd_bus *bus = NULL;
  int r = -ENOENT;
  if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
    r = sd->new_(&bus);
    if (r >= 0)
      r = sd->set_address(bus, "unix:path=/run/systemd/private");
    if (r >= 0)
      r = sd->start(bus);
    if (r < 0) {
      sd->unref(bus);
      bus = NULL;
    }
  }
  if (r < 0)
    r = sd->open_system(&bus);
  if (r < 0)
    return hull_error(err, -r, "--systemd-cgroup: cannot reach systemd over "
                      "D-Bus");
  *out = bus;
  return 0;
}

static int bus_failed(hull_error_t *err, int r, const sd_bus_error *e,
                      const char *what, const char *unit) {
  if (e && sd->error_is_set(e))
    return hull_error(err, 0, "systemd: %s `%s`: %s", what, unit,
                      e->message ? e->message : e->name);
  return hull_error(err, -r, "systemd: %s `%s`", what, unit);
}

struct job_wait { const char *job; char *result; };

static int on_job_removed(sd_bus_message *m, void *userdata,
                          sd_bus_error *e) {
  struct job_wait *w = userdata;
  uint32_t id;
  const char *path, *unit, *result;
  if (sd->message_read(m, "uoss", &id, &path, &unit, &result) < 0)
    return 0;
  if (strcmp(path, w->job) == 0 && w->result == NULL)
    w->result = xstrdup(result);
  return 0;
}

/* Waits for JobRemoved of job; its result must be "done". */
static int wait_job(sd_bus *bus, struct job_wait *w, const char *unit,
                    hull_error_t *err) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (w->result == NULL) {
    int r = sd->process(bus, NULL);
    if (r < 0)
      return bus_failed(err, r, NULL, "waiting for the job of", unit);
    if (r > 0)
      continue;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* Signed: tv_nsec may be smaller now than at the start. */
    int64_t spent_ns = (int64_t)(now.tv_sec - start.tv_sec) * 1000000000LL +
                       (now.tv_nsec - start.tv_nsec);
    uint64_t spent = (uint64_t)(spent_ns / 1000);
    if (spent >= JOB_TIMEOUT_USEC)
      return hull_error(err, 0, "systemd: the job of `%s` did not finish "
                        "in 30 s", unit);
    r = sd->wait(bus, JOB_TIMEOUT_USEC - spent);
    if (r < 0)
      return bus_failed(err, r, NULL, "waiting for the job of", unit);
  }
  if (strcmp(w->result, "done") != 0)
    return hull_error(err, 0, "systemd: the job of `%s` ended `%s`", unit,
                      w->result);
  return 0;
}

/* ---- unit properties ------------------------------------------------------- */

static int append_u64(sd_bus_message *m, const char *name, uint64_t v) {
  return sd->message_append(m, "(sv)", name, "t", v);
}

static int64_t limit_or_infinity(int64_t v) {
  return v < 0 ? (int64_t)UINT64_MAX : v;
}

/* The resources systemd has a property for, as runc's systemd driver maps
 * them; the cgroupfs writes after the scope starts set the same values and
 * everything else. */
static int append_resources(sd_bus_message *m, const struct spec_resources *r,
                            bool v2) {
  int ret = 0;
  if (r == NULL)
    return 0;
  if (r->memory.limit.set && r->memory.limit.v != 0)
    ret = append_u64(m, v2 ? "MemoryMax" : "MemoryLimit",
                     (uint64_t)limit_or_infinity(r->memory.limit.v));
  if (ret >= 0 && v2 && r->memory.reservation.set &&
      r->memory.reservation.v > 0)
    ret = append_u64(m, "MemoryLow", (uint64_t)r->memory.reservation.v);
  if (ret >= 0 && r->cpu.shares.set && r->cpu.shares.v != 0)
    ret = v2 ? append_u64(m, "CPUWeight",
                          cgroup_cpu_shares_to_weight(r->cpu.shares.v))
             : append_u64(m, "CPUShares", r->cpu.shares.v);
  if (ret >= 0 && r->cpu.quota.set && r->cpu.quota.v != 0) {
    uint64_t period = r->cpu.period.set && r->cpu.period.v ? r->cpu.period.v
                                                           : 100000;
    uint64_t per_sec = UINT64_MAX;
    if (r->cpu.quota.v > 0) {
      /* systemd keeps CPUQuota in steps of 10 ms per second: round up. */
      per_sec = (uint64_t)r->cpu.quota.v * 1000000ULL / period;
      per_sec = (per_sec + 9999) / 10000 * 10000;
    }
    ret = append_u64(m, "CPUQuotaPerSecUSec", per_sec);
    if (ret >= 0 && r->cpu.period.set && r->cpu.period.v)
      ret = append_u64(m, "CPUQuotaPeriodUSec", period);
  }
  if (ret >= 0 && r->pids.limit.set && r->pids.limit.v != 0)
    ret = append_u64(m, "TasksMax",
                     (uint64_t)limit_or_infinity(r->pids.limit.v));
  if (ret >= 0 && r->block_io.weight.set && r->block_io.weight.v)
    ret = v2 ? append_u64(m, "IOWeight",
                          cgroup_blkio_weight_to_io_weight(r->block_io.weight.v))
             : append_u64(m, "BlockIOWeight", r->block_io.weight.v);
  return ret;
}

static int start_scope(sd_bus *bus, const char *slice, const char *unit,
                       pid_t pid, const struct spec_resources *r, bool v2,
                       hull_error_t *err) {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *m = NULL, *reply = NULL;
  struct job_wait w = {0};
  /* Signals reach a private-socket client only once it subscribed. */
  int ret = sd->call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH,
                               SYSTEMD_MANAGER, "Subscribe", &e, NULL, "");
  if (ret >= 0)
    ret = sd->match_signal(bus, NULL, SYSTEMD_DEST, SYSTEMD_PATH,
                              SYSTEMD_MANAGER, "JobRemoved", on_job_removed,
                              &w);
  if (ret >= 0)
    ret = sd->message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH,
                                         SYSTEMD_MANAGER,
                                         "StartTransientUnit");
  if (ret >= 0)
    ret = sd->message_append(m, "ss", unit, "replace");
  if (ret >= 0)
    ret = sd->message_open_container(m, 'a', "(sv)");
  if (ret >= 0)
    ret = sd->message_append(
        m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s",
        "hull container", "Slice", "s", slice, "Delegate", "b", 1,
        "DefaultDependencies", "b", 0, "MemoryAccounting", "b", 1,
        "CPUAccounting", "b", 1, "TasksAccounting", "b", 1);
  if (ret >= 0)
    ret = sd->message_append(m, "(sv)", v2 ? "IOAccounting"
                                              : "BlockIOAccounting", "b", 1);
  if (ret >= 0)
    ret = sd->message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
  if (ret >= 0)
    ret = append_resources(m, r, v2);
  if (ret >= 0)
    ret = sd->message_close_container(m);
  if (ret >= 0)
    ret = sd->message_append(m, "a(sa(sv))", 0);
  if (ret >= 0)
    ret = sd->call(bus, m, 0, &e, &reply);
  if (ret >= 0)
    ret = sd->message_read(reply, "o", &w.job);
  if (ret < 0)
    bus_failed(err, ret, &e, "start unit", unit);
  else
    ret = wait_job(bus, &w, unit, err);
  free(w.result);
  sd->message_unref(reply);
  sd->message_unref(m);
  sd->error_free(&e);
  return ret < 0 ? -1 : 0;
}

/* Gives the running unit the resources an update writes, with the same
 * properties the scope started with (runtime: they live in
 * /run/systemd/transient, as the unit does), so that a `systemctl
 * daemon-reload` keeps the new limits instead of putting back the old ones.
 * As runc does, a property systemd refuses fails the update, and the caller
 * puts back the previous resources. */
static int set_unit_resources(const char *unit, const struct spec_resources *r,
                              bool v2, hull_error_t *err) {
  cleanup_bus sd_bus *bus = NULL;
  if (bus_open(&bus, err) < 0)
    return -1;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  sd_bus_message *m = NULL, *reply = NULL;
  int ret = sd->message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH,
                                        SYSTEMD_MANAGER, "SetUnitProperties");
  if (ret >= 0)
    ret = sd->message_append(m, "sb", unit, 1);
  if (ret >= 0)
    ret = sd->message_open_container(m, 'a', "(sv)");
  if (ret >= 0)
    ret = append_resources(m, r, v2);
  if (ret >= 0)
    ret = sd->message_close_container(m);
  if (ret >= 0)
    ret = sd->call(bus, m, 0, &e, &reply);
  if (ret < 0)
    bus_failed(err, ret, &e, "set the properties of unit", unit);
  sd->message_unref(reply);
  sd->message_unref(m);
  sd->error_free(&e);
  return ret < 0 ? -1 : 0;
}

/* A unit that is already gone is fine: delete may run twice, and systemd
 * collects an empty scope by itself. */
static int stop_scope(const char *unit, hull_error_t *err) {
  cleanup_bus sd_bus *bus = NULL;
  if (bus_open(&bus, err) < 0)
    return -1;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = sd->call_method(bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                             "StopUnit", &e, NULL, "ss", unit, "replace");
  int ret = 0;
  if (r < 0 && !sd->error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
    ret = bus_failed(err, r, &e, "stop unit", unit);
  sd->error_free(&e);
  return ret;
}

/* ---- the manager ------------------------------------------------------------ */

static const struct cgroup_manager *fs_manager(void) {
  return cgroup_manager_for(cgroup_detect_mode());
}

/* The outer cgroup answers the generic helpers (cgroup_pids, oom.c) with a
 * copy of the cgroupfs one's directories. */
static void adopt_dirs(struct cgroup *cg) {
  struct cgroup *in = cg->inner;
  strv_free(cg->dirs);
  strv_free(cg->controllers);
  cg->dirs = xzalloc((in->n_dirs + 1) * sizeof(char *));
  cg->controllers = xzalloc((in->n_dirs + 1) * sizeof(char *));
  for (size_t i = 0; i < in->n_dirs; i++) {
    cg->dirs[i] = xstrdup(in->dirs[i]);
    cg->controllers[i] = xstrdup(in->controllers[i]);
  }
  cg->n_dirs = in->n_dirs;
  cg->procs_dir = in->procs_dir;
}

static struct cgroup *new_outer(const char *path, char *slice, char *unit) {
  struct cgroup *cg = xzalloc(sizeof(*cg));
  cg->manager = &cgroup_manager_systemd;
  cg->path = xstrdup(path);
  cg->dirfd = -1;
  cg->dirs = xzalloc(sizeof(char *));
  cg->controllers = xzalloc(sizeof(char *));
  cg->slice = slice;
  cg->unit = unit;
  return cg;
}

static int sd_create(const struct cgroup_manager *m, const char *path,
                     struct cgroup **out, hull_error_t *err) {
  char *slice = NULL, *unit = NULL;
  if (cgroup_systemd_parse(path, &slice, &unit, err) < 0)
    return -1;
  if (systemd_running(err) < 0) {
    free(slice);
    free(unit);
    return -1;
  }
  *out = new_outer(path, slice, unit);
  return 0;
}

/* The scope's directory is absolute: own_cgroups does not matter. */
static int sd_load(const struct cgroup_manager *m, const char *path,
                   const char *own_cgroups, struct cgroup **out,
                   hull_error_t *err) {
  char *slice = NULL, *unit = NULL;
  if (cgroup_systemd_parse(path, &slice, &unit, err) < 0)
    return -1;
  struct cgroup *cg = new_outer(path, slice, unit);
  cleanup_free char *dir = scope_dir(slice, unit);
  const struct cgroup_manager *fs = fs_manager();
  if (fs->load(fs, dir, NULL, &cg->inner, err) < 0) {
    cgroup_free(cg);
    return -1;
  }
  adopt_dirs(cg);
  *out = cg;
  return 0;
}

static int sd_apply(struct cgroup *cg, const struct spec_linux *l,
                    hull_error_t *err) {
  cg->pending = l;
  return 0;
}

static int sd_enter(struct cgroup *cg, pid_t pid, hull_error_t *err) {
  if (cg->inner) /* started already: a plain move (exec) */
    return cg->inner->manager->enter(cg->inner, pid, err);
  cleanup_bus sd_bus *bus = NULL;
  const struct spec_resources *r =
      cg->pending ? cg->pending->resources : NULL;
  bool v2 = cgroup_detect_mode() == CGROUP_MODE_V2;
  if (bus_open(&bus, err) < 0 ||
      start_scope(bus, cg->slice, cg->unit, pid, r, v2, err) < 0)
    return -1;
  /* systemd made the directories it manages; the cgroupfs manager adds
   * the other v1 hierarchies, moves the pid there, and writes it all. */
  cleanup_free char *dir = scope_dir(cg->slice, cg->unit);
  const struct cgroup_manager *fs = fs_manager();
  if (fs->create(fs, dir, &cg->inner, err) < 0)
    return -1;
  adopt_dirs(cg);
  if (fs->enter(cg->inner, pid, err) < 0)
    return -1;
  return fs->apply(cg->inner, cg->pending, err);
}

/* Kills and removes the directories first (SIGKILL now, where StopUnit
 * would send SIGTERM and wait up to 90 s), then stops the unit. */
static int sd_destroy(struct cgroup *cg, hull_error_t *err) {
  if (cg->inner && cg->inner->manager->destroy(cg->inner, err) < 0)
    return -1;
  if (!systemd_booted())
    return 0;          /* no systemd, no unit to stop */
  return stop_scope(cg->unit, err);
}

static int sd_signal_all(struct cgroup *cg, int sig, hull_error_t *err) {
  return cg->inner ? cg->inner->manager->signal_all(cg->inner, sig, err) : 0;
}

static int sd_freeze(struct cgroup *cg, bool frozen, hull_error_t *err) {
  if (cg->inner == NULL)
    return hull_error(err, 0, "cgroup `%s`: the scope is not started",
                      cg->path);
  return cg->inner->manager->freeze(cg->inner, frozen, err);
}

static int sd_frozen(struct cgroup *cg, bool *frozen, hull_error_t *err) {
  *frozen = false;
  return cg->inner ? cg->inner->manager->frozen(cg->inner, frozen, err) : 0;
}

static int sd_update(struct cgroup *cg, const struct spec_resources *r,
                     hull_error_t *err) {
  if (cg->inner == NULL)
    return hull_error(err, 0, "cgroup `%s`: the scope is not started",
                      cg->path);
  bool v2 = cgroup_detect_mode() == CGROUP_MODE_V2;
  if (set_unit_resources(cg->unit, r, v2, err) < 0)
    return -1;
  return cg->inner->manager->update(cg->inner, r, err);
}

static int sd_stats(struct cgroup *cg, struct cgroup_stats *out,
                    hull_error_t *err) {
  return cg->inner ? cg->inner->manager->stats(cg->inner, out, err) : 0;
}

const struct cgroup_manager cgroup_manager_systemd = {
    .name = "systemd",
    .create = sd_create,
    .enter = sd_enter,
    .apply = sd_apply,
    .signal_all = sd_signal_all,
    .destroy = sd_destroy,
    .load = sd_load,
    .freeze = sd_freeze,
    .frozen = sd_frozen,
    .update = sd_update,
    .stats = sd_stats,
};
