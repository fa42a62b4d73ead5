/* main.c — global options, dispatch to a verb, and the one place where an
 * error becomes a message and an exit status. */
#include "runtime/cli/cli.h"
#include "runtime/linux/linux.h"
#include "runtime/state/state.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void print_version(void) {
  printf("hull version %s\ncommit: %s\nspec: 1.2.0\n", HULL_VERSION,
         HULL_COMMIT);
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD,
       OPT_ROOTLESS, OPT_CRIU, OPT_USERNS_POOL };

/* Flags engines may pass that hull does not implement: refuse, never
 * ignore. */
static int unsupported(const char *flag, hull_error_t *err) {
  return hull_error(err, 0, "%s is not supported by hull yet", flag);
}

/* Returns the index of the verb in argv, 0 when the run is over (help or
 * version printed), -1 on error. */
static int parse_global(int argc, char **argv, struct global_options *g,
                        hull_error_t *err) {
  static const struct option opts[] = {
      {"root", required_argument, NULL, OPT_ROOT},
      {"log", required_argument, NULL, OPT_LOG},
      {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
      {"debug", no_argument, NULL, OPT_DEBUG},
      {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
      {"rootless", required_argument, NULL, OPT_ROOTLESS},
      {"criu", required_argument, NULL, OPT_CRIU},
      {"userns-pool", required_argument, NULL, OPT_USERNS_POOL},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'v'},
      {NULL, 0, NULL, 0},
  };
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
    switch (c) {
    case OPT_ROOT: g->root = optarg; break;
    case OPT_LOG: g->log = optarg; break;
    case OPT_LOG_FORMAT:
      if (strcmp(optarg, "json") == 0)
        g->log_format = LOG_FORMAT_JSON;
      else if (strcmp(optarg, "text") == 0)
        g->log_format = LOG_FORMAT_TEXT;
      else
        return hull_error(err, 0, "invalid log-format: %s", optarg);
      break;
    case OPT_DEBUG: g->debug = true; break;
    case OPT_SYSTEMD: g->systemd_cgroup = true; break;
    case OPT_ROOTLESS:
      if (cli_parse_rootless(optarg, &g->rootless, err) < 0)
        return -1;
      break;
    case OPT_CRIU: return unsupported("--criu", err);
    case OPT_USERNS_POOL: {
      /* Checked now, whatever the command, so that a typo never waits
       * for the first run.oci.userns=auto container. */
      struct userns_pool pool;
      if (userns_pool_parse(optarg, &pool, err) < 0)
        return -1;
      userns_pool_clear(&pool);
      g->userns_pool = optarg;
      break;
    }
    case 'h': return cmd_help(g, 1, argv, err) < 0 ? -1 : 0;
    case 'v': print_version(); return 0;
    default:
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return cmd_help(g, 1, argv, err) < 0 ? -1 : 0;
  return optind;
}

/* The verbs that never read --root: no default root is made for them, so
 * that `spec` works for a user without $XDG_RUNTIME_DIR. (vm-agent is given
 * its own.) */
static bool keeps_state(const struct command *c) {
  return c->run != cmd_spec && c->run != cmd_features &&
         c->run != cmd_help && c->run != cmd_image && c->run != cmd_vm_agent;
}

static int dispatch(struct global_options *g, int argc, char **argv,
                    hull_error_t *err) {
  const struct command *c = command_find(argv[0]);
  if (c == NULL)
    return hull_error(err, 0, "No help topic for '%s'", argv[0]);
  /* exec's and ps's words after the id belong to a process. */
  bool flags_anywhere = c->run != cmd_exec && c->run != cmd_ps;
  if (c->run != cmd_help && cli_wants_help(argc, argv, flags_anywhere)) {
    print_command_help(c);
    return 0;
  }
  cleanup_free char *default_root = NULL;
  if (keeps_state(c))
    g->in_user_ns = ns_running_in_user_ns();
  if (g->root == NULL && keeps_state(c)) {
    if (state_root_default(g->in_user_ns, &default_root, err) < 0)
      return -1;
    g->root = default_root;
  }
  return c->run(g, argc, argv, err);
}

int main(int argc, char **argv) {
  struct global_options g = {0};
  cleanup_error hull_error_t err = NULL;
  int verb = parse_global(argc, argv, &g, &err);
  int status = verb;
  if (verb > 0) {
    status = log_init(g.log, g.log_format, g.debug, &err);
    if (status == 0)
      status = dispatch(&g, argc - verb, argv + verb, &err);
  }
  fflush(stdout);
  if (status < 0) {
    log_error_final(err ? err->msg : "unknown error");
    /* Cleaned up after an interrupt: now die of it, as the caller meant. */
    interrupt_deliver();
    return err && err->exit_status ? err->exit_status : EXIT_FAILURE;
  }
  return status;
}
