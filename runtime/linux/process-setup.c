/* process-setup.c — the steps that turn a forked child into the container's
 * process, shared by the init (init.c) and `exec` (exec.c). They run inside
 * the container's root. */
#include "process-setup.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_get(char *const *env, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; env && env[i]; i++)
    if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
      return env[i] + n + 1;
  return NULL;
}

static int check_executable(const char *path, const char *arg0,
                            hull_error_t *err) {
  struct stat st;
  if (stat(path, &st) < 0)
    return hull_error(err, errno, "exec: \"%s\": stat %s", arg0, path);
  if (S_ISDIR(st.st_mode))
    return hull_error(err, EACCES, "exec: \"%s\": is a directory", arg0);
  if (access(path, X_OK) < 0)
    return hull_error(err, errno, "exec: \"%s\"", arg0);
  return 0;
}

int init_find_executable(const struct spec_process *p, char **path,
                         hull_error_t *err) {
  const char *arg0 = p->args[0];
  if (strchr(arg0, '/')) {
    if (check_executable(arg0, arg0, err) < 0)
      return -1;
    *path = xstrdup(arg0);
    return 0;
  }
  const char *search = env_get(p->env, "PATH");
  cleanup_free char *dirs = xstrdup(search ? search : DEFAULT_PATH);
  char *save = NULL;
  for (char *dir = strtok_r(dirs, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    cleanup_free char *candidate = xasprintf("%s/%s", *dir ? dir : ".", arg0);
    if (access(candidate, X_OK) == 0) {
      *path = take_ptr(candidate);
      return 0;
    }
  }
  return hull_error(err, 0, "exec: \"%s\": executable file not found in $PATH",
                    arg0);
}

/* chdir into process.cwd and make sure it is inside the container: an fd
 * inherited from the host (/proc/self/fd/N/..) must not lead out of it
 * (CVE-2024-21626). getcwd() reports a path outside the root as
 * "(unreachable)…". */
int process_enter_cwd(const char *cwd, hull_error_t *err) {
  /* As runc, a missing cwd is created (we are inside the root by now). */
  if (chdir(cwd) < 0 && errno == ENOENT && mkdir_p(cwd, 0755, err) < 0)
    return hull_error_wrap(err, "create cwd");
  if (chdir(cwd) < 0)
    return hull_error(err, errno, "chdir to cwd (\"%s\") set in config.json",
                      cwd);
  char buf[4096];
  if (getcwd(buf, sizeof(buf)) == NULL || buf[0] != '/')
    return hull_error(err, 0,
                      "current working directory is outside of container "
                      "mount namespace root");
  return 0;
}

/* HOME from the container's /etc/passwd when the process env lacks it. */
char **process_env_with_home(const struct spec_process *p) {
  size_t n = strv_len(p->env);
  char **env = xzalloc((n + 2) * sizeof(char *));
  for (size_t i = 0; i < n; i++)
    env[i] = xstrdup(p->env[i]);
  if (env_get(p->env, "HOME"))
    return env;
  const char *home = "/";
  cleanup_fclose FILE *f = fopen("/etc/passwd", "re");
  char line[1024];
  char *found = NULL;
  while (f && !found && fgets(line, sizeof(line), f)) {
    char *fields[7] = {0};
    char *s = line, *save = NULL;
    for (int i = 0; i < 7; i++, s = NULL)
      fields[i] = strtok_r(s, ":\n", &save);
    if (fields[2] && fields[5] && (uint32_t)atol(fields[2]) == p->user.uid)
      found = xstrdup(fields[5]);
  }
  env[n] = xasprintf("HOME=%s", found ? found : home);
  free(found);
  return env;
}

int process_set_user(const struct spec_process *p, hull_error_t *err) {
  gid_t *groups = xzalloc((p->user.n_additional_gids + 1) * sizeof(gid_t));
  for (size_t i = 0; i < p->user.n_additional_gids; i++)
    groups[i] = p->user.additional_gids[i];
  int r = setgroups(p->user.n_additional_gids, groups);
  free(groups);
  /* In a user namespace without setgroups permission, only fail when
   * groups were asked for. */
  if (r < 0 && (p->user.n_additional_gids > 0 || errno != EPERM))
    return hull_error(err, errno, "setgroups");
  if (setresgid(p->user.gid, p->user.gid, p->user.gid) < 0)
    return hull_error(err, errno, "setresgid %u", p->user.gid);
  if (setresuid(p->user.uid, p->user.uid, p->user.uid) < 0)
    return hull_error(err, errno, "setresuid %u", p->user.uid);
  if (p->user.umask.set)
    umask((mode_t)p->user.umask.v);
  return 0;
}
