/* exec.c — `exec`: another process in a running container.
 *
 * The process is built from the container's saved config (its process with
 * the caller's args and flags) or read whole from --process FILE; it joins
 * the container's cgroup, namespaces and root through the execution handler
 * and gets the container's security settings, seccomp filter included. The
 * container's lock is held only until the process is about to start: a
 * foreground exec must not keep `kill` or `delete` waiting, and in a paused
 * container (--ignore-paused) the process goes no further than its cgroup
 * until a `resume`, which needs the lock. */
#include "lifecycle.h"
#include "runtime/linux/linux.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_execable(const struct lifecycle *lc, bool ignore_paused,
                          hull_error_t *err) {
  switch (lifecycle_status(lc)) {
  case STATUS_CREATED:
    /* Its first process is still hull, not dumpable: a runtime that is
     * not root cannot open its namespaces (init.c) until it execs. */
    if (geteuid() != 0 && (lc->state->handler == NULL ||
                           strcmp(lc->state->handler, "process") == 0))
      return hull_error(err, 0, "cannot exec in a created container as a "
                                "user other than root: start it first");
    return 0;
  case STATUS_RUNNING:
    return 0;
  case STATUS_PAUSED:
    if (ignore_paused)
      return 0;
    return hull_error(err, 0, "cannot exec in a paused container (use "
                              "--ignore-paused to override)");
  case STATUS_STOPPED:
    return hull_error(err, 0, "cannot exec in a stopped container");
  default:
    return hull_error(err, 0, "cannot exec in a container in the %s state",
                      state_status_name(lifecycle_status(lc)));
  }
}

static int read_process_file(const char *path, struct spec_process **out,
                             hull_error_t *err) {
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file(path, &text, &len, err) < 0)
    return -1;
  if (spec_parse_process_json(text, len, path, out, err) < 0)
    return -1;
  cleanup_free char *at = xasprintf("%s: ", path);
  return spec_validate_process(*out, at, err);
}

/* KEY=VALUE replaces an existing KEY, so the flag wins (runc 1.2 does the
 * same); a new KEY is appended. */
static void env_set(char ***env, const char *entry) {
  size_t key_len = strcspn(entry, "=");
  for (size_t i = 0; *env && (*env)[i]; i++) {
    if (strncmp((*env)[i], entry, key_len) == 0 &&
        ((*env)[i][key_len] == '=' || (*env)[i][key_len] == '\0')) {
      free((*env)[i]);
      (*env)[i] = xstrdup(entry);
      return;
    }
  }
  strv_append(env, entry);
}

static void replace_string(char **field, const char *value) {
  if (value == NULL)
    return;
  free(*field);
  *field = xstrdup(value);
}

/* As runc: --cap adds to the bounding, effective and permitted sets (not
 * to inheritable and ambient, CVE-2022-29162). */
static void add_caps(struct spec_process *p, char *const *caps) {
  if (caps == NULL || caps[0] == NULL)
    return;
  if (p->capabilities == NULL)
    p->capabilities = xzalloc(sizeof(*p->capabilities));
  for (size_t i = 0; caps[i]; i++) {
    strv_append(&p->capabilities->bounding, caps[i]);
    strv_append(&p->capabilities->effective, caps[i]);
    strv_append(&p->capabilities->permitted, caps[i]);
  }
}

/* The container's own process with the caller's args and flags. */
static void apply_flags(struct spec_process *p, const struct exec_options *o) {
  strv_free(p->args);
  p->args = strv_dup(o->args ? o->args : (char *[]){NULL});
  p->terminal = o->tty;
  replace_string(&p->cwd, o->cwd);
  for (size_t i = 0; o->env && o->env[i]; i++)
    env_set(&p->env, o->env[i]);
  if (o->user_set)
    p->user.uid = o->uid;
  if (o->gid_set)
    p->user.gid = o->gid;
  if (o->n_additional_gids) {
    size_t n = p->user.n_additional_gids + o->n_additional_gids;
    p->user.additional_gids =
        xrealloc(p->user.additional_gids, n * sizeof(uint32_t));
    memcpy(p->user.additional_gids + p->user.n_additional_gids,
           o->additional_gids, o->n_additional_gids * sizeof(uint32_t));
    p->user.n_additional_gids = n;
  }
  add_caps(p, o->caps);
  if (o->no_new_privs)
    p->no_new_privileges = true;
  replace_string(&p->apparmor_profile, o->apparmor);
  replace_string(&p->selinux_label, o->process_label);
}

/* The VM agent's exec: the process object arrives as JSON text. */
static int parse_process_json(struct spec *spec, const char *json,
                              hull_error_t *err) {
  struct spec_process *p = NULL;
  if (spec_parse_process_json(json, strlen(json), "process", &p, err) < 0 ||
      spec_validate_process(p, "process: ", err) < 0) {
    spec_process_free(p);
    return -1;
  }
  spec_process_free(spec->process);
  spec->process = p;
  return 0;
}

static int build_process(struct spec *spec, const struct exec_options *o,
                         const char *process_json, hull_error_t *err) {
  if (process_json)
    return parse_process_json(spec, process_json, err);
  if (o->process_file) {
    struct spec_process *p = NULL;
    if (read_process_file(o->process_file, &p, err) < 0) {
      spec_process_free(p);
      return -1;
    }
    spec_process_free(spec->process);
    spec->process = p;
    return 0;
  }
  if (spec->process == NULL)
    return hull_error(err, 0, "config.json: .process: required");
  apply_flags(spec->process, o);
  return spec_validate_process(spec->process, "process", err);
}

struct exec_ctx {
  const struct cgroup_manager *manager;
  struct cgroup *cgroup;
};

static int enter_cgroup(void *opaque, pid_t pid, hull_error_t *err) {
  struct exec_ctx *c = opaque;
  if (c->cgroup == NULL)
    return 0;
  return c->manager->enter(c->cgroup, pid, err);
}

static int load_cgroup(struct lifecycle *lc, const struct exec_options *o,
                       struct cgroup **out, hull_error_t *err) {
  *out = NULL;
  const char *path = lc->state->cgroup_path;
  if (path == NULL || *path == '\0') {
    if (o->n_sub_cgroups > 0)
      return hull_error(err, 0, "--cgroup: the container has no cgroup");
    return 0;
  }
  if (lc->cgroups->load(lc->cgroups, path, lc->state->cgroup_own, out,
                        err) < 0)
    return -1;
  /* --cgroup: the process goes to sub-cgroups of the container's. */
  for (size_t i = 0; i < o->n_sub_cgroups; i++) {
    const struct exec_sub_cgroup *sub = &o->sub_cgroups[i];
    if (cgroup_descend(*out, sub->controller, sub->path, err) < 0) {
      cgroup_free(*out);
      *out = NULL;
      return hull_error_wrap(err, "--cgroup");
    }
  }
  return 0;
}

/* Where the pty master goes: --console-socket, or hull itself (*ours) for
 * a foreground terminal. */
/* *master: the pty master hull proxies, or -1. */
static int start_process(struct lifecycle *lc, const struct exec_options *o,
                         pid_t *pid, int *master, hull_error_t *err) {
  const struct exec_handler *h = exec_handler_named(lc->state->handler);
  if (h == NULL)
    return hull_error(err, 0, "unknown execution handler `%s`",
                      lc->state->handler);
  if (h->exec == NULL)
    return hull_error(err, 0, "the %s execution handler cannot exec",
                      h->name);
  struct exec_ctx ctx = {.manager = lc->cgroups};
  if (load_cgroup(lc, o, &ctx.cgroup, err) < 0)
    return -1;
  cleanup_free int *self_fds = NULL;
  size_t n_self_fds = 0;
  enum container_status status = lifecycle_status(lc);
  if (h->moves_itself_into_cgroup &&
      cgroup_open_self_enter(ctx.cgroup, &self_fds, &n_self_fds, err) < 0) {
    cgroup_free(ctx.cgroup);
    return -1;
  }
  cleanup_free char *cache_dir = lifecycle_cache_dir(o->root, lc->spec);
  cleanup_free char *state_json = state_oci_json(lc->state, status, false);
  struct exec_config cfg = {
      .spec = lc->spec,
      .init_pid = lc->state->pid,
      .init_start_time = lc->state->pid_start_time,
      .state_dir = lc->dir.path,
      .cache_dir = cache_dir,
      .state_json = state_json,
      .cgroup_fd = ctx.cgroup ? cgroup_dirfd(ctx.cgroup) : -1,
      .cgroup_self_fds = self_fds,
      .n_cgroup_self_fds = n_self_fds,
      .console_fd = -1,
      .preserve_fds = o->preserve_fds,
      .enter_cgroup = enter_cgroup,
      .ctx = &ctx,
  };
  cleanup_close int ours = -1;
  int ret = tty_connect_console(o->detach, lc->spec->process->terminal,
                                o->console_socket, &cfg.console_fd, &ours, err);
  /* Unlocked before the process is forked, which would share the lock
   * (flock belongs to the open file, which a child holds until it closes
   * its copy; in a paused container it freezes before it can). From here
   * a concurrent delete makes exec fail, nothing worse: the handles are
   * checked against the init's start time, and a cgroup that goes takes
   * the process with it. */
  state_dir_unlock(&lc->dir);
  if (ret == 0)
    ret = h->exec(&cfg, pid, err);
  /* The process sent the master before it exec'd. */
  if (ret == 0 && ours >= 0 &&
      tty_proxy_receive_master(ours, master, err) < 0) {
    kill(*pid, SIGKILL);
    lifecycle_wait_forwarding(*pid);
    ret = -1;
  }
  if (cfg.console_fd >= 0)
    close(cfg.console_fd);
  for (size_t i = 0; i < n_self_fds; i++)
    close(self_fds[i]);
  cgroup_free(ctx.cgroup);
  return ret;
}

int container_exec_begin(const struct exec_options *o,
                         const char *process_json, pid_t *pid, int *master,
                         hull_error_t *err) {
  *master = -1;
  cleanup_lifecycle struct lifecycle lc;
  if (lifecycle_open(o->root, o->id, &lc, err) < 0)
    return -1;
  if (check_execable(&lc, o->ignore_paused, err) < 0)
    return -1;
  if (lifecycle_spec(&lc) == NULL)
    return hull_error(err, 0, "container %s: cannot read its saved "
                              "config.json", o->id);
  if (build_process(lc.spec, o, process_json, err) < 0 ||
      tty_check_console_flags(o->detach, lc.spec->process->terminal,
                              o->console_socket, err) < 0)
    return -1;
  return start_process(&lc, o, pid, master, err);
}

int container_exec(const struct exec_options *o, int *exit_code,
                   hull_error_t *err) {
  if (!o->detach)
    lifecycle_block_forwarded_signals();
  pid_t pid;
  cleanup_close int master = -1;
  if (container_exec_begin(o, NULL, &pid, &master, err) < 0)
    return -1;
  *exit_code = 0;
  if (lifecycle_write_pid_file(o->pid_file, pid, err) < 0) {
    /* Not left running behind an error that says exec failed. */
    kill(pid, SIGKILL);
    lifecycle_wait_forwarding(pid);
    return -1;
  }
  if (o->detach)
    return 0;
  *exit_code = master >= 0 ? tty_proxy_run(master, pid)
                           : lifecycle_wait_forwarding(pid);
  return 0;
}
