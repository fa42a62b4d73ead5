/* create.c — `create`: from a bundle to a container waiting for `start`.
 *
 * Everything create makes is recorded before it is made (state.json names
 * the cgroup before the cgroup exists), so a failure here — or a SIGKILL of
 * hull half-way — leaves nothing `delete` cannot find and undo. */
#include "container.h"
#include "lifecycle.h"
#include "cgroups/cgroups.h"
#include "hooks/hooks.h"
#include "runtime/linux/linux.h"
#include "runtime/security/security.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static char *now_rfc3339(void) {
  struct timespec ts;
  struct tm tm;
  char buf[64];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", ts.tv_nsec);
  return xstrdup(buf);
}

static int absolute_path(const char *path, char **out, hull_error_t *err) {
  char buf[PATH_MAX];
  if (realpath(path, buf) == NULL)
    return hull_error(err, errno, "bundle `%s`", path);
  *out = xstrdup(buf);
  return 0;
}

static int resolve_rootfs(const struct spec *spec, const char *bundle,
                          char **out, hull_error_t *err) {
  cleanup_free char *joined =
      spec->root.path[0] == '/' ? xstrdup(spec->root.path)
                                : xasprintf("%s/%s", bundle, spec->root.path);
  char buf[PATH_MAX];
  if (realpath(joined, buf) == NULL)
    return hull_error(err, errno, "rootfs (`%s`)", joined);
  struct stat st;
  if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
    return hull_error(err, ENOTDIR, "rootfs (`%s`)", joined);
  *out = xstrdup(buf);
  return 0;
}

/* What the Linux side cannot do without, checked before anything is made. */
static int check_linux_needs(const struct spec *spec, hull_error_t *err) {
  if (spec->linux == NULL)
    return hull_error(err, 0, "config.json: .linux: required on Linux");
  int created = ns_new_flags(spec);
  /* Without a mount namespace (the runtime's is shared, as runc allows)
   * nothing can be masked; runc's check and words. */
  const struct spec_linux *ln = spec->linux;
  if (spec_namespace_find(spec, SPEC_NS_MOUNT) == NULL &&
      (strv_len(ln->masked_paths) > 0 || strv_len(ln->readonly_paths) > 0))
    return hull_error(err, 0, "config.json: .linux.%s: unable to restrict "
                              "sys entries without a private MNT namespace",
                      strv_len(ln->masked_paths) > 0 ? "maskedPaths"
                                                     : "readonlyPaths");
  if (rootfs_validate_idmaps(spec, err) < 0)
    return -1;
  bool has_uts = spec_namespace_find(spec, SPEC_NS_UTS) != NULL;
  if (spec->hostname && *spec->hostname && !has_uts)
    return hull_error(err, 0, "config.json: .hostname: unable to set "
                              "hostname without a private UTS namespace");
  if (spec->domainname && *spec->domainname && !has_uts)
    return hull_error(err, 0, "config.json: .domainname: unable to set "
                              "domainname without a private UTS namespace");
  /* Offsets apply only to a time namespace we make; dropping them would
   * leave the clocks unshifted without a word (runc refuses too). */
  const struct spec_linux *l = spec->linux;
  if ((l->time_offsets.monotonic.set || l->time_offsets.boottime.set) &&
      !(created & CLONE_NEWTIME))
    return hull_error(err, 0, "config.json: .linux.timeOffsets: needs a new "
                              "time namespace (one without a path)");
  /* runc's rootless check: only in a user namespace does a runtime that
   * is not root have the privileges to set a container up. */
  if (geteuid() != 0 && spec_namespace_find(spec, SPEC_NS_USER) == NULL)
    return hull_error(err, 0, "config.json: .linux.namespaces: rootless "
                              "container requires user namespaces");
  /* run.oci.userns=auto's maps come once the state dir exists. */
  bool maps_later = userns_auto_wanted(spec);
  if ((created & CLONE_NEWUSER) && spec->linux->n_uid_mappings == 0 &&
      !maps_later)
    return hull_error(err, 0, "config.json: .linux.uidMappings: required "
                              "with a new user namespace");
  if ((created & CLONE_NEWUSER) && spec->linux->n_gid_mappings == 0 &&
      !maps_later)
    return hull_error(err, 0, "config.json: .linux.gidMappings: required "
                              "with a new user namespace");
  return 0;
}

struct create_ctx {
  struct lifecycle *lc;
  struct cgroup *cgroup;
  struct network_attachment *network;  /* run.oci.network; NULL: none */
};

/* The init's namespaces exist: put it in its cgroup, record its pid. */
static int on_namespaces_ready(void *opaque, pid_t pid, char **state_json,
                               hull_error_t *err) {
  struct create_ctx *c = opaque;
  struct lifecycle *lc = c->lc;
  log_debug("init %d: namespaces ready", (int)pid);
  if (lc->cgroups->enter(c->cgroup, pid, err) < 0)
    return -1;
  log_debug("init %d: in its cgroup", (int)pid);
  lc->state->pid = pid;
  lc->state->pid_start_time = process_start_time(pid);
  if (state_write(&lc->dir, lc->state, err) < 0 ||
      net_devices_move_in(lc, pid, err) < 0 ||
      network_attach(lc, c->network, pid, err) < 0)
    return -1;
  /* Every hook of create reads "created": they run after the lifecycle's
   * step 2, the environment's creation, is done (runtime-spec; the
   * runtime-tools validation checks prestart's). runc 1.1 says "creating". */
  *state_json = state_oci_json(lc->state, STATUS_CREATED, false);
  return 0;
}

/* The rootfs is mounted: the hooks that run in the runtime namespace. */
static int on_rootfs_ready(void *opaque, hull_error_t *err) {
  struct create_ctx *c = opaque;
  struct lifecycle *lc = c->lc;
  cleanup_free char *json = state_oci_json(lc->state, STATUS_CREATED, false);
  if (hooks_run("prestart", &lc->spec->hooks.prestart, json, err) < 0 ||
      hooks_run("createRuntime", &lc->spec->hooks.create_runtime, json,
                err) < 0)
    return -1;
  return 0;
}

/* Copies the bundle's config so later verbs (hooks, cgroup) need not
 * trust the bundle to stay unchanged. */
static int save_config(struct lifecycle *lc, const char *text,
                       hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", lc->dir.path, STATE_CONFIG);
  return write_file_atomic(path, text, strlen(text), 0600, err);
}

/* The host id that container id 0 maps to (itself without a mapping). */
static uint32_t host_id_of_root(const struct spec_id_mapping *m, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (m[i].container_id == 0)
      return m[i].host_id;
  return 0;
}

/* The init opens the fifo as the container's root, which in a user
 * namespace is another host user: it must own the fifo. */
static int make_exec_fifo(struct lifecycle *lc, hull_error_t *err) {
  const struct spec_linux *l = lc->spec->linux;
  if (mkfifoat(lc->dir.fd, STATE_EXEC_FIFO, 0600) < 0)
    return hull_error(err, errno, "mkfifo `%s/%s`", lc->dir.path,
                      STATE_EXEC_FIFO);
  uid_t uid = host_id_of_root(l->uid_mappings, l->n_uid_mappings);
  gid_t gid = host_id_of_root(l->gid_mappings, l->n_gid_mappings);
  if ((uid || gid) &&
      fchownat(lc->dir.fd, STATE_EXEC_FIFO, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
    /* A runtime that is not root cannot give the fifo to a container root
     * mapped to another (subordinate) id: it opens it for writing as
     * runc's is (0622), behind the state root, which is the user's own. */
    if (errno == EPERM && geteuid() != 0 &&
        fchmodat(lc->dir.fd, STATE_EXEC_FIFO, 0622, 0) == 0)
      return 0;
    return hull_error(err, errno, "chown `%s/%s`", lc->dir.path,
                      STATE_EXEC_FIFO);
  }
  return 0;
}

static struct container_state *initial_state(const struct create_options *o,
                                             const char *bundle,
                                             const char *rootfs,
                                             const struct spec *spec) {
  struct container_state *st = xzalloc(sizeof(*st));
  st->id = xstrdup(o->id);
  st->bundle = xstrdup(bundle);
  st->rootfs = xstrdup(rootfs);
  st->created = now_rfc3339();
  st->owner = xstrdup("");
  st->cgroup_path = cgroup_path_for(spec, o->id, o->systemd_cgroup);
  st->handler = xstrdup(exec_handler_for(spec)->name);
  /* Recorded before anything is mounted, so that delete finds what a
   * create killed half-way left in the runtime's mount namespace. */
  if (spec_namespace_find(spec, SPEC_NS_MOUNT) == NULL)
    st->rootfs_mount_below = rootfs_mount_id(rootfs);
  st->annotations.len = spec->annotations.len;
  st->annotations.items =
      xzalloc(spec->annotations.len * sizeof(*st->annotations.items));
  for (size_t i = 0; i < spec->annotations.len; i++) {
    st->annotations.items[i].key = xstrdup(spec->annotations.items[i].key);
    st->annotations.items[i].value =
        xstrdup(spec->annotations.items[i].value);
  }
  return st;
}

/* Reads and checks everything create needs before it makes anything. */
static int load_bundle(const struct create_options *o, char **bundle,
                       char **rootfs, char **text, struct spec **spec,
                       hull_error_t *err) {
  if (state_validate_id(o->id, err) < 0 ||
      absolute_path(o->bundle ? o->bundle : ".", bundle, err) < 0)
    return -1;
  cleanup_free char *config = xasprintf("%s/config.json", *bundle);
  if (read_file(config, text, NULL, err) < 0)
    return -1;
  if (spec_parse(*text, strlen(*text), "config.json", spec, err) < 0 ||
      spec_validate_for_run(*spec, err) < 0 ||
      userns_auto_check(*spec, err) < 0 ||
      check_linux_needs(*spec, err) < 0 ||
      net_devices_check(*spec, err) < 0 ||
      network_check(*spec, err) < 0 ||
      security_check_spec(*spec, err) < 0 ||
      tty_check_console_flags(o->detach, (*spec)->process->terminal,
                              o->console_socket, err) < 0)
    return -1;
  return resolve_rootfs(*spec, *bundle, rootfs, err);
}

/* As runc 1.1: a cgroup that already has processes (another container's
 * cgroupsPath, say) is used, with a warning in runc's words. */
static bool cgroup_is_busy(struct cgroup *cg) {
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  cleanup_error hull_error_t ignored = NULL;
  if (cgroup_pids(cg, &pids, &n, &ignored) < 0 || n == 0)
    return false;
  log_warning("container's cgroup is not empty: %zu process(es) found", n);
  return true;
}

/* A cgroup the kernel refused to make for want of permission: what a
 * runtime that is not root meets on a v1 host, or on a v2 tree that no one
 * delegated to it. */
static bool refused_for_permission(const hull_error_t e) {
  return e->errno_value == EACCES || e->errno_value == EPERM ||
         e->errno_value == EROFS;
}

/* What a host writable in part (one hierarchy delegated, not the others)
 * let create make before it was refused. */
static void remove_partial_cgroup(struct lifecycle *lc) {
  struct cgroup *cg = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (lc->cgroups->load(lc->cgroups, lc->state->cgroup_path,
                        lc->state->cgroup_own, &cg, &ignored) == 0)
    lc->cgroups->destroy(cg, &ignored);
  cgroup_free(cg);
}

/* runc's rootless cgroup manager: with --rootless (auto: hull not run by
 * root, or by root in a user namespace it did not make), a cgroup hull may
 * not make is no reason to fail when the config names none (no
 * cgroupsPath) and sets no limit: the container runs in hull's own cgroup,
 * and its state records none (ps, pause, events and update say so). A
 * limit is an error naming it, never silently dropped. Device rules are
 * not limits here: a user namespace cannot make a device node anyway, and
 * runc ignores them rootless. */
static int run_without_cgroup(struct lifecycle *lc,
                              const struct create_options *o,
                              hull_error_t *err) {
  const struct spec_linux *l = lc->spec->linux;
  if (!o->rootless_cgroups || (l->cgroups_path && *l->cgroups_path) ||
      !refused_for_permission(*err))
    return -1;
  const char *limit = cgroup_resources_first_set(l->resources);
  if (limit)
    return hull_error_wrap(err, "config.json: .%s: cannot "
                           "be applied without a cgroup of the container's "
                           "own (rootless)", limit);
  log_debug("rootless: running without a cgroup of the container's own: "
            "%s", (*err)->msg);
  hull_error_release(err);
  remove_partial_cgroup(lc);
  lc->cgroups = cgroup_manager_for(CGROUP_MODE_DISABLED);
  return 0;
}

/* The container's cgroup; with no cgroup of its own (run_without_cgroup,
 * state->cgroup_path NULL) an object of the disabled manager, which has no
 * directories, so that what follows needs no special case. */
static int make_cgroup(struct lifecycle *lc, const struct create_options *o,
                       struct cgroup **cg, hull_error_t *err) {
  if (lc->cgroups->create(lc->cgroups, lc->state->cgroup_path, cg, err) == 0) {
    log_debug("cgroup `%s` created", lc->state->cgroup_path);
    return 0;
  }
  if (run_without_cgroup(lc, o, err) < 0 ||
      lc->cgroups->create(lc->cgroups, lc->state->cgroup_path, cg, err) < 0)
    return -1;
  free(take_ptr(lc->state->cgroup_path));
  free(take_ptr(lc->state->cgroup_own));
  return 0;
}

/* run.oci.userns=auto: the rootfs as the container's ids see it, made
 * here (only a runtime privileged over its file system can map it) for the
 * init to attach; -1 otherwise. */
static int open_rootfs_tree(const struct lifecycle *lc,
                            const struct userns_lease *lease, int *fd,
                            hull_error_t *err) {
  *fd = -1;
  if (lease->fd < 0)
    return 0;
  if (rootfs_open_idmapped(lc->spec, lc->state->rootfs, fd, err) < 0)
    return hull_error_wrap(err, "annotation run.oci.userns=auto");
  return 0;
}

static int create_in(struct lifecycle *lc, const struct create_options *o,
                     const struct userns_lease *lease,
                     const char *config_text, int *master, pid_t *pid,
                     hull_error_t *err) {
  struct create_ctx ctx = {.lc = lc};
  cleanup_close int ours = -1;
  cleanup_close int rootfs_tree = -1;
  if (open_rootfs_tree(lc, lease, &rootfs_tree, err) < 0)
    return -1;
  if (state_write(&lc->dir, lc->state, err) < 0 ||
      save_config(lc, config_text, err) < 0 || make_exec_fifo(lc, err) < 0)
    return -1;
  /* After state.json names the annotations: delete finds what it takes. */
  cleanup_network_attachment struct network_attachment *network = NULL;
  if (network_prepare(lc, &network, err) < 0)
    return -1;
  ctx.network = network;
  const struct exec_handler *handler = exec_handler_for(lc->spec);
  if (handler->prepare && handler->prepare(lc->spec, err) < 0)
    return -1;
  if (make_cgroup(lc, o, &ctx.cgroup, err) < 0)
    return -1;
  int ret = 0;
  if (lc->state->cgroup_path) {
    lc->state->cgroup_shared = cgroup_is_busy(ctx.cgroup);
    ret = lc->cgroups->apply(ctx.cgroup, lc->spec->linux, err);
    log_debug("resources applied");
  }
  cleanup_free int *self_fds = NULL;
  size_t n_self_fds = 0;
  if (ret == 0 && handler->moves_itself_into_cgroup)
    ret = cgroup_open_self_enter(ctx.cgroup, &self_fds, &n_self_fds, err);
  cleanup_free char *cache_dir = lifecycle_cache_dir(o->root, lc->spec);
  struct process_config cfg = {
      .spec = lc->spec,
      .id = o->id,
      .bundle = lc->state->bundle,
      .rootfs = lc->state->rootfs,
      .state_dir = lc->dir.path,
      .exec_fifo_fd = -1,
      .runtime_in_user_ns = o->runtime_in_user_ns,
      .cache_dir = cache_dir,
      .cgroup_path = lc->state->cgroup_path,
      .cgroup_fd = cgroup_dirfd(ctx.cgroup),
      .cgroup_self_fds = self_fds,
      .n_cgroup_self_fds = n_self_fds,
      .console_fd = -1,
      .rootfs_tree_fd = rootfs_tree,
      .preserve_fds = o->preserve_fds + socket_activation_fds(),
      .no_pivot = o->no_pivot,
      .no_new_keyring = o->no_new_keyring,
      .on_ns_ready = on_namespaces_ready,
      .on_rootfs_ready = on_rootfs_ready,
      .ctx = &ctx,
  };
  /* Opened here, where the state dir is reachable: a container root in a
   * user namespace may not be allowed to walk to it. */
  if (ret == 0) {
    cfg.exec_fifo_fd = openat(lc->dir.fd, STATE_EXEC_FIFO,
                              O_PATH | O_CLOEXEC | O_NOFOLLOW);
    if (cfg.exec_fifo_fd < 0)
      ret = hull_error(err, errno, "open `%s/%s`", lc->dir.path,
                       STATE_EXEC_FIFO);
  }
  if (ret == 0)
    ret = tty_connect_console(o->detach, lc->spec->process->terminal,
                              o->console_socket, &cfg.console_fd, &ours, err);
  if (ret == 0)
    ret = handler->spawn(&cfg, pid, err);
  /* The init sent the master before it reported ready. */
  if (ret == 0 && ours >= 0)
    ret = tty_proxy_receive_master(ours, master, err);
  if (cfg.console_fd >= 0)
    close(cfg.console_fd);
  if (cfg.exec_fifo_fd >= 0)
    close(cfg.exec_fifo_fd);
  for (size_t i = 0; i < n_self_fds; i++)
    close(self_fds[i]);
  cgroup_free(ctx.cgroup);
  if (ret < 0)
    return -1;
  log_debug("init %d: waiting for start", (int)*pid);
  /* Usually on_namespaces_ready has recorded this very process already;
   * a rewrite would cost a rename over state.json (on ext4 a flush). */
  uint64_t start_time = process_start_time(*pid);
  if (lc->state->pid != *pid || lc->state->pid_start_time != start_time) {
    lc->state->pid = *pid;
    lc->state->pid_start_time = start_time;
    if (state_write(&lc->dir, lc->state, err) < 0)
      return -1;
  }
  return lifecycle_write_pid_file(o->pid_file, *pid, err);
}

/* What create adds to the process for the engine: systemd's socket
 * activation fds and the sd_notify socket, as runc does. */
static int add_engine_passthrough(struct lifecycle *lc, hull_error_t *err) {
  socket_activation_apply(lc->spec);
  return notify_socket_prepare(lc, err);
}

/* Checked before anything is made, so that a refusal leaves nothing and
 * never removes a cgroup the caller made. */
static int refuse_frozen_cgroup(const struct spec *spec,
                                const struct create_options *o,
                                hull_error_t *err) {
  cleanup_free char *path = cgroup_path_for(spec, o->id, o->systemd_cgroup);
  return cgroup_refuse_frozen(cgroup_manager_for_path(path, o->systemd_cgroup),
                              path, err);
}

int lifecycle_create(const struct create_options *o, int *master, pid_t *pid,
                     hull_error_t *err) {
  *master = -1;
  cleanup_free char *bundle = NULL, *rootfs = NULL, *text = NULL;
  cleanup_spec struct spec *spec = NULL;
  if (load_bundle(o, &bundle, &rootfs, &text, &spec, err) < 0)
    return -1;
  log_debug("bundle `%s` loaded", bundle);
  if (o->systemd_cgroup) {
    cleanup_free char *path = cgroup_path_for(spec, o->id, true);
    if (cgroup_systemd_check(path, err) < 0)
      return -1;
  }
  if (refuse_frozen_cgroup(spec, o, err) < 0)
    return -1;
  cleanup_lifecycle struct lifecycle lc = {.dir = {.fd = -1}};
  if (state_dir_create(o->root, o->id, &lc.dir, err) < 0)
    return -1;
  lc.spec = take_ptr(spec);
  lc.state = initial_state(o, bundle, rootfs, lc.spec);
  /* A relative cgroupsPath hangs off the cgroups create runs in; later
   * verbs may run elsewhere, so the state keeps them (runc keeps the
   * resolved directories). */
  if (cgroup_own_cgroups(lc.state->cgroup_path, &lc.state->cgroup_own,
                         err) < 0)
    return -1;
  lc.cgroups = cgroup_manager_for_path(lc.state->cgroup_path, o->systemd_cgroup);
  /* Taken with the state dir held: a range is never without its owner. */
  cleanup_userns_lease struct userns_lease lease = {.fd = -1};
  if (userns_auto_take(&lc, o->root, o->userns_pool, &lease, err) == 0 &&
      add_engine_passthrough(&lc, err) == 0 &&
      create_in(&lc, o, &lease, text, master, pid, err) == 0 &&
      (lease.fd < 0 || userns_lease_commit(&lease, err) == 0))
    return 0;
  if (*master >= 0)
    close(*master);
  *master = -1;
  /* Undo what was made; the create error is the one to report. */
  cleanup_error hull_error_t cleanup_err = NULL;
  if (lifecycle_destroy(&lc, &cleanup_err) < 0)
    log_warning("cleaning up after failed create: %s", cleanup_err->msg);
  return -1;
}

int container_create(const struct create_options *o, pid_t *pid,
                     hull_error_t *err) {
  cleanup_close int master = -1;
  return lifecycle_create(o, &master, pid, err);
}
