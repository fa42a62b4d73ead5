/* container.h — the container lifecycle the CLI drives: create, start, run,
 * state, kill, delete, list. It keeps what a container *is* (spec, cgroup,
 * state directory, hooks) apart from how its process runs, which is an
 * execution handler's business (a local process in namespaces today; a
 * microVM later). */
#ifndef HULL_CONTAINER_H
#define HULL_CONTAINER_H

#include "runtime/state/state.h"

struct create_options {
  const char *root;          /* --root */
  const char *id;
  const char *bundle;        /* made absolute by the lifecycle */
  const char *console_socket;
  const char *pid_file;
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
  bool detach;               /* create, run -d: hull will not stay */
  bool keep;                 /* run --keep: no delete after the exit */
  bool no_subreaper;         /* run --no-subreaper: orphans of a container
                                without its own pid namespace are not
                                reparented to hull */
  bool systemd_cgroup;       /* --systemd-cgroup: a scope via systemd */
  /* --rootless (runc's rootless cgroup manager): a cgroup hull may not
   * make, when the config names none (no cgroupsPath) and asks for no
   * limit, is no reason to fail: the container runs in hull's own. */
  bool rootless_cgroups;
  /* hull itself runs in a user namespace it did not make (podman's
   * rootless mode): no device node can be made there. */
  bool runtime_in_user_ns;
  /* --userns-pool START:SIZE, the ids run.oci.userns=auto takes ranges
   * from; NULL: /etc/subuid's and /etc/subgid's entries for user hull. */
  const char *userns_pool;
};

int container_create(const struct create_options *o, pid_t *pid,
                     hull_error_t *err);
int container_start(const char *root, const char *id, hull_error_t *err);
/* create + start; without detach, waits for the process and deletes the
 * container (unless keep), and *exit_code is its status (128+N when killed
 * by signal N). */
int container_run(const struct create_options *o, int *exit_code,
                  hull_error_t *err);
/* `exec`: a new process in a running (or created) container. Without
 * process_file the process is the container's own (from its saved config)
 * with args and the flags below applied; with it, the file's process. */
struct exec_options {
  const char *root;
  const char *id;
  const char *process_file;  /* --process: a config.md process object */
  char **args;               /* COMMAND ARG... (NULL-terminated) */
  bool tty;
  const char *console_socket;
  bool detach;
  const char *pid_file;
  const char *cwd;
  char **env;                /* KEY=VALUE, NULL-terminated */
  bool user_set, gid_set;
  uint32_t uid, gid;
  uint32_t *additional_gids; size_t n_additional_gids;
  char **caps;               /* added to bounding/effective/permitted */
  bool no_new_privs;
  const char *apparmor;
  const char *process_label;
  int preserve_fds;
  /* --cgroup [CONTROLLER:]PATH: existing sub-cgroups to run in, in one
   * controller's hierarchy (controller NULL: in every one). */
  struct exec_sub_cgroup { char *controller; const char *path; } *sub_cgroups;
  size_t n_sub_cgroups;
  bool ignore_paused;
};
/* Without detach, waits for the process, forwarding signals to it, and
 * *exit_code is its status (128+N when killed by signal N). */
int container_exec(const struct exec_options *o, int *exit_code,
                   hull_error_t *err);

/* The OCI state document, pretty-printed as `hull state` shows it. */
int container_state(const char *root, const char *id, char **json,
                    hull_error_t *err);
/* The container's bundle path as create recorded it (*bundle NULL when
 * none): state.json alone, no status. */
int container_bundle(const char *root, const char *id, char **bundle,
                     hull_error_t *err);
int container_kill(const char *root, const char *id, int sig, bool all,
                   hull_error_t *err);
int container_delete(const char *root, const char *id, bool force,
                     hull_error_t *err);

/* Freezes every process of a created or running container ("container not
 * running" otherwise); resume thaws a paused one ("container not
 * paused"). */
int container_pause(const char *root, const char *id, hull_error_t *err);
int container_resume(const char *root, const char *id, hull_error_t *err);

struct update_options {
  const char *root, *id;
  const char *resources_json; /* the update: a linux.resources object whose
                                 members replace the current ones */
  const char *l3_cache_schema, *mem_bw_schema; /* refused: no Intel RDT */
};
/* Writes the merged resources into the live container's cgroup and keeps
 * them in <root>/<id>/resources.json for the next update. */
int container_update(const struct update_options *o, hull_error_t *err);

/* Every pid in the container's cgroup (none when it is gone). */
int container_pids(const char *root, const char *id, pid_t **pids, size_t *n,
                   hull_error_t *err);

struct events_options {
  const char *root, *id;
  bool stats_once;           /* --stats: one stats event, then return */
  long interval_ms;          /* between stats events when streaming */
  FILE *out;                 /* one JSON object per line */
};
/* runc's `events`: stats events, and {"type":"oom"} when the kernel
 * OOM-kills in the container, until the container stops. */
int container_events(const struct events_options *o, hull_error_t *err);

struct cgroup_stats;
/* The stats event in runc's JSON shape (types.Event with types.Stats). */
char *container_stats_json(const char *id, const struct cgroup_stats *s);

struct container_summary {
  char *id, *bundle, *rootfs, *created, *owner;
  pid_t pid;
  enum container_status status;
};
int container_list(const char *root, struct container_summary **out,
                   size_t *n, hull_error_t *err);
void container_summaries_free(struct container_summary *s, size_t n);

/* ---- hull's own networks (network.c; hull-network(8)) ------------------- */

/* A header line, then one line per network under root: its name, subnets
 * and the containers holding addresses in it, tab-separated. */
int container_network_list(const char *root, char ***lines,
                           hull_error_t *err);
/* Removes the network name under root: its bridge, its nftables rules and
 * its record; refused while a container holds an address in it. */
int container_network_remove(const char *root, const char *name,
                             hull_error_t *err);
/* What belongs to no live container under root (veth ends, nftables
 * rules, addresses), one line each; none: *lines NULL. */
int container_network_leftovers(const char *root, char ***lines,
                                hull_error_t *err);

/* ---- execution handlers ------------------------------------------------- */

struct process_config;
struct exec_config;

struct exec_handler {
  const char *name;
  /* Brings the container up to `created`: its process waits for start. */
  int (*spawn)(const struct process_config *cfg, pid_t *pid,
               hull_error_t *err);
  /* Lets the waiting process run the user program; released(ctx) runs
   * once it is let go and before any wait for it (the caller drops the
   * container's lock there). */
  int (*release)(const char *state_dir, pid_t pid, uint64_t start_time,
                 void (*released)(void *ctx), void *ctx, hull_error_t *err);
  /* Starts another process in the running container (`exec`); returns
   * once it runs (pid in *pid, a child of this process). */
  int (*exec)(const struct exec_config *cfg, pid_t *pid, hull_error_t *err);
  /* `kill --all` where the cgroup does not hold the container's processes
   * (a VM's are in the guest); NULL: the lifecycle signals the cgroup. */
  int (*signal_all)(const char *state_dir, int sig, hull_error_t *err);
  /* What the handler's host processes need from the container's config
   * before its cgroup is set up (NULL: nothing). */
  int (*prepare)(struct spec *spec, hull_error_t *err);
  /* spawn's and exec's processes move themselves into their v1 cgroups
   * through the configs' cgroup_self_fds (cgroup_open_self_enter). */
  bool moves_itself_into_cgroup;
};

/* The handler a spec asks for ("process" unless it asks for a VM). */
const struct exec_handler *exec_handler_for(const struct spec *spec);
const struct exec_handler *exec_handler_named(const char *name);

/* ---- the lifecycle for an in-process caller (the VM guest agent) -------
 * (exec.c, stdio.c) The agent runs hull's own lifecycle inside the guest
 * and owns the container's stdio itself: these create and exec with the
 * process's stdin/stdout/stderr given as fds, return its pty master for a
 * terminal, and never wait for the process. */

/* exec's first half: *pid runs (a child of the caller; wait for it) and
 * *master is its pty master when the process has a terminal and neither
 * detach nor console_socket is set (else -1). With process_json (a
 * config.md process object) that process runs, and o's process_file,
 * args and flags are not used. */
int container_exec_begin(const struct exec_options *o,
                         const char *process_json, pid_t *pid, int *master,
                         hull_error_t *err);

/* create whose init has stdio[0..2] as its stdin, stdout and stderr
 * instead of the caller's; with process.terminal (o->detach false, no
 * console socket) its stdio is a pty whose master lands in *master. The
 * init is the caller's child. */
int container_create_with_stdio(const struct create_options *o,
                                const int stdio[3], int *master, pid_t *pid,
                                hull_error_t *err);
/* container_exec_begin with stdio[0..2] as the process's stdio. */
int container_exec_with_stdio(const struct exec_options *o,
                              const char *process_json, const int stdio[3],
                              int *master, pid_t *pid, hull_error_t *err);

#endif
