/* exec.c — `hull exec [flags] ID [COMMAND [ARG...]]`, runc's flags. */
#include "cli.h"
#include "runtime/container/container.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int parse_id(const char *what, const char *s, uint32_t *out,
                    hull_error_t *err) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || s[0] == '-' || v > UINT32_MAX)
    return hull_error(err, 0, "parsing %s as int for %s failed", s, what);
  *out = (uint32_t)v;
  return 0;
}

/* --user uid[:gid] */
static int parse_user(const char *s, struct exec_options *o,
                      hull_error_t *err) {
  cleanup_free char *copy = xstrdup(s);
  char *colon = strchr(copy, ':');
  if (colon) {
    *colon = '\0';
    if (parse_id("gid", colon + 1, &o->gid, err) < 0)
      return -1;
    o->gid_set = true;
  }
  if (parse_id("uid", copy, &o->uid, err) < 0)
    return -1;
  o->user_set = true;
  return 0;
}

static void strv_push(char ***v, size_t *n, char *s) {
  *v = xrealloc(*v, (*n + 2) * sizeof(char *));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

/* The vectors in o point into argv; only the arrays (and the controller
 * names of --cgroup) are allocated. */
static void exec_options_release(struct exec_options *o) {
  free(o->env);
  free(o->caps);
  free(o->additional_gids);
  for (size_t i = 0; i < o->n_sub_cgroups; i++)
    free(o->sub_cgroups[i].controller);
  free(o->sub_cgroups);
}

static void add_sub_cgroup(struct exec_options *o, char *controller,
                           const char *path) {
  o->sub_cgroups = xrealloc(o->sub_cgroups, (o->n_sub_cgroups + 1) *
                                                sizeof(*o->sub_cgroups));
  o->sub_cgroups[o->n_sub_cgroups++] =
      (struct exec_sub_cgroup){.controller = controller, .path = path};
}

static bool controller_given(const struct exec_options *o, const char *c) {
  for (size_t i = 0; i < o->n_sub_cgroups; i++)
    if (o->sub_cgroups[i].controller &&
        strcmp(o->sub_cgroups[i].controller, c) == 0)
      return true;
  return false;
}

/* As runc: whatever stops an exec past its usage checks is "exec failed:
 * ..." and exit status 255, so a caller tells it from the process's own
 * exit status. */
static int exec_failed(hull_error_t *err) {
  hull_error_wrap(err, "exec failed");
  (*err)->exit_status = 255;
  return -1;
}

/* One --cgroup [CTRL[,CTRL...]:]PATH, checked as runc checks it: a PATH
 * without controllers only when it is the only --cgroup. */
static int parse_sub_cgroup(const char *arg, size_t n_args,
                            struct exec_options *o, hull_error_t *err) {
  const char *colon = strchr(arg, ':');
  if (colon == NULL) {
    if (n_args != 1)
      return hull_error(err, 0, "invalid --cgroup argument: %s (missing "
                        "<controller>: prefix)", arg);
    add_sub_cgroup(o, NULL, arg);
    return 0;
  }
  if (strchr(colon + 1, ':'))
    return hull_error(err, 0, "invalid --cgroup argument: %s", arg);
  for (const char *p = arg;; p++) {
    size_t n = strcspn(p, ",:");
    cleanup_free char *c = xstrndup(p, n);
    if (n == 0)
      return hull_error(err, 0, "invalid --cgroup argument: %s (empty "
                        "<controller> prefix)", arg);
    if (controller_given(o, c))
      return hull_error(err, 0, "invalid --cgroup argument(s): controller "
                        "%s specified multiple times", c);
    add_sub_cgroup(o, take_ptr(c), colon + 1);
    p += n;
    if (*p == ':')
      return 0;
  }
}

static int parse_exec_flags(int argc, char **argv, struct exec_options *o,
                            hull_error_t *err) {
  enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_CWD, OPT_NNP, OPT_APPARMOR,
         OPT_LABEL, OPT_PRESERVE, OPT_CGROUP, OPT_IGNORE_PAUSED };
  static const struct option opts[] = {
      {"process", required_argument, NULL, 'p'},
      {"tty", no_argument, NULL, 't'},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"detach", no_argument, NULL, 'd'},
      {"pid-file", required_argument, NULL, OPT_PIDFILE},
      {"cwd", required_argument, NULL, OPT_CWD},
      {"env", required_argument, NULL, 'e'},
      {"user", required_argument, NULL, 'u'},
      {"additional-gids", required_argument, NULL, 'g'},
      {"cap", required_argument, NULL, 'c'},
      {"no-new-privs", no_argument, NULL, OPT_NNP},
      {"apparmor", required_argument, NULL, OPT_APPARMOR},
      {"process-label", required_argument, NULL, OPT_LABEL},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"cgroup", required_argument, NULL, OPT_CGROUP},
      {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
      {NULL, 0, NULL, 0},
  };
  size_t n_env = 0, n_caps = 0, n_cgroups = 0;
  cleanup_free char **cgroups = NULL;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+:p:tde:u:g:c:", opts, NULL)) != -1) {
    switch (c) {
    case 'p': o->process_file = optarg; break;
    case 't': o->tty = true; break;
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case 'd': o->detach = true; break;
    case OPT_PIDFILE: o->pid_file = optarg; break;
    case OPT_CWD: o->cwd = optarg; break;
    case 'e':
      if (strchr(optarg, '=') == NULL)
        return hull_error(err, 0, "--env `%s`: expected KEY=VALUE", optarg);
      strv_push(&o->env, &n_env, optarg);
      break;
    case 'u':
      if (parse_user(optarg, o, err) < 0)
        return -1;
      break;
    case 'g': {
      uint32_t gid;
      if (parse_id("additional gid", optarg, &gid, err) < 0)
        return -1;
      o->additional_gids = xrealloc(o->additional_gids,
                                    (o->n_additional_gids + 1) * sizeof(gid));
      o->additional_gids[o->n_additional_gids++] = gid;
      break;
    }
    case 'c': strv_push(&o->caps, &n_caps, optarg); break;
    case OPT_NNP: o->no_new_privs = true; break;
    case OPT_APPARMOR: o->apparmor = optarg; break;
    case OPT_LABEL: o->process_label = optarg; break;
    case OPT_PRESERVE:
      if (parse_int("--preserve-fds", optarg, &o->preserve_fds, err) < 0)
        return -1;
      break;
    case OPT_CGROUP: strv_push(&cgroups, &n_cgroups, optarg); break;
    case OPT_IGNORE_PAUSED: o->ignore_paused = true; break;
    case ':':
      return hull_error(err, 0, "flag needs an argument: %s",
                        argv[optind - 1]);
    default:
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  for (size_t i = 0; i < n_cgroups; i++)
    if (parse_sub_cgroup(cgroups[i], n_cgroups, o, err) < 0)
      return exec_failed(err);
  if (optind >= argc)
    return hull_error(err, 0, "\"exec\" requires a minimum of 1 argument");
  o->id = argv[optind];
  if (o->process_file == NULL && optind + 1 >= argc)
    return hull_error(err, 0, "\"exec\": COMMAND is required unless "
                              "--process is given");
  o->args = argv + optind + 1;
  return 0;
}

int cmd_exec(const struct global_options *g, int argc, char **argv,
             hull_error_t *err) {
  struct exec_options o = {.root = g->root};
  int code = 0;
  int ret = parse_exec_flags(argc, argv, &o, err);
  interrupt_hold(); /* SIGTERM ends exec's waits; it cleans up first */
  if (ret == 0 && (ret = container_exec(&o, &code, err)) < 0)
    exec_failed(err);
  exec_options_release(&o);
  return ret < 0 ? -1 : code;
}
