/* process-setup.h — the last steps before a container process execs, shared
 * by the init and `exec` (private to runtime/linux). */
#ifndef HULL_LINUX_PROCESS_SETUP_H
#define HULL_LINUX_PROCESS_SETUP_H

#include "linux.h"

/* The program to exec: args[0] looked up in the process env's PATH inside
 * the container, as runc does; error `exec: "x": …`. */
int init_find_executable(const struct spec_process *p, char **path,
                         hull_error_t *err);
/* chdir into process.cwd (created when missing, as runc), refusing a cwd
 * that leads outside the container's root (CVE-2024-21626). */
int process_enter_cwd(const char *cwd, hull_error_t *err);
/* process.env, plus HOME from the container's /etc/passwd when missing. */
char **process_env_with_home(const struct spec_process *p);
/* setgroups, setresgid, setresuid to process.user; its umask. */
int process_set_user(const struct spec_process *p, hull_error_t *err);

/* process.c: fork()-like clone3 (the child returns 0), into the cgroup of
 * cgroup_fd when it is >= 0; plain clone where clone3 is missing. */
pid_t clone3_fork(uint64_t flags, int cgroup_fd);
/* SIGKILL and reap a child (pid <= 0: nothing); one that is not gone
 * within a second (frozen on cgroup v1) is left to die at the thaw. */
void kill_and_reap(pid_t pid);

#endif
