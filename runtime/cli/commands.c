/* commands.c — the verb table, help, and argument helpers shared by verbs. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct command commands[] = {
    {"create", cmd_create, "create a container",
     "[--bundle|-b DIR] [--console-socket PATH] [--pid-file PATH] "
     "[--no-pivot] [--no-new-keyring] [--preserve-fds N] ID | --image IMAGE "
     "[--image-root DIR] [IMAGE FLAGS (see run)] ID [-- COMMAND [ARG...]]"},
    {"start", cmd_start, "execute the user defined process in a created "
                         "container", "ID"},
    {"run", cmd_run, "create and run a container",
     "[--bundle|-b DIR] [--detach|-d] [--keep] [--no-subreaper] "
     "[--console-socket PATH] [--pid-file PATH] [--no-pivot] "
     "[--no-new-keyring] [--preserve-fds N] ID | --image IMAGE "
     "[--image-root DIR] [--name ID] [--rm] [--uidmap C:H:N]... "
     "[--gidmap C:H:N]... [--env|-e KEY[=VALUE]]... "
     "[--tty|-t] [--hostname NAME] [--read-only] "
     "[--image-volume tmpfs|ignore|bind:DIR] "
     "[--network bridge|pasta|slirp4netns|none|NAME] "
     "[--publish|-p HOST:CTR[/PROTO]]... [--publish-all|-P] "
     "[--annotation KEY=VALUE]... [--vm] [-- COMMAND [ARG...]]"},
    {"exec", cmd_exec, "execute new process inside the container",
     "[--process|-p FILE] [--tty|-t] [--console-socket PATH] [--detach|-d] "
     "[--pid-file PATH] [--cwd DIR] [--env|-e KEY=VALUE]... "
     "[--user|-u UID[:GID]] [--additional-gids|-g GID]... [--cap|-c CAP]... "
     "[--no-new-privs] [--apparmor PROFILE] [--process-label LABEL] "
     "[--preserve-fds N] [--cgroup [CTRL:]SUB]... [--ignore-paused] "
     "ID [COMMAND [ARG...]]"},
    {"state", cmd_state, "output the state of a container", "ID"},
    {"kill", cmd_kill,
     "kill sends the specified signal (default: SIGTERM) to the container's "
     "init process", "[--all|-a] ID [SIGNAL]"},
    {"delete", cmd_delete, "delete any resources held by the container",
     "[--force|-f] ID"},
    {"list", cmd_list, "lists containers started by hull with the given root",
     "[--format|-f table|json] [--quiet|-q]"},
    {"pause", cmd_pause, "pause suspends all processes inside the container",
     "ID"},
    {"resume", cmd_resume,
     "resumes all processes that have been previously paused", "ID"},
    {"update", cmd_update, "update container resource constraints",
     "[--resources|-r FILE|-] [--memory SIZE] [--memory-reservation SIZE] "
     "[--memory-swap SIZE] [--cpu-share N] [--cpu-quota N] [--cpu-period N] "
     "[--cpu-burst N] [--cpu-rt-period N] [--cpu-rt-runtime N] [--cpu-idle N] "
     "[--cpuset-cpus LIST] [--cpuset-mems LIST] [--pids-limit N] "
     "[--blkio-weight N] ID"},
    {"events", cmd_events,
     "display container events such as OOM notifications, cpu, memory, and "
     "IO usage statistics", "[--stats] [--interval DURATION] ID"},
    {"ps", cmd_ps, "ps displays the processes running inside a container",
     "[--format|-f table|json] ID [PS ARGS...]"},
    {"spec", cmd_spec, "create a new specification file",
     "[--rootless] [--bundle|-b DIR]"},
    {"network", cmd_network, "list, check or remove hull's own networks",
     "ls | check | rm NAME"},
    {"image", cmd_image,
     "import, pull, list, inspect, name, mount and collect OCI images",
     "[--image-root DIR] import [--name NAME] DIR|FILE | pull [--platform "
     "OS/ARCH[/VARIANT]] [--insecure|--tls-verify=false] [--cert-dir DIR] "
     "[--creds USER:PASS] NAME | ls | inspect "
     "[--platform OS/ARCH[/VARIANT]] IMAGE | tag IMAGE NAME | rm IMAGE... | "
     "gc | mount [--copy] [--uidmap C:H:N] [--gidmap C:H:N] IMAGE BUNDLE | "
     "umount BUNDLE"},
    {"gc", cmd_gc,
     "remove every unused entry from the runtime's caches (<root>/.cache)",
     ""},
    {"features", cmd_features, "show the enabled features", ""},
    {"help", cmd_help, "show a list of commands or one command's help",
     "[COMMAND]"},
};

/* Verbs hull runs itself, left out of help and the table. */
static const struct command hidden_commands[] = {
    {"vm-agent", cmd_vm_agent, "the guest agent of VM mode (PID 1 of the "
     "guest)", "[--channel-fd N --bundle DIR --root DIR [--id ID]]"},
};

const struct command *command_table(size_t *n) {
  *n = sizeof(commands) / sizeof(commands[0]);
  return commands;
}

const struct command *command_find(const char *name) {
  size_t n;
  const struct command *c = command_table(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].name, name) == 0)
      return &c[i];
  for (size_t i = 0; i < sizeof(hidden_commands) / sizeof(*hidden_commands);
       i++)
    if (strcmp(hidden_commands[i].name, name) == 0)
      return &hidden_commands[i];
  return NULL;
}

void print_command_help(const struct command *c) {
  printf("NAME:\n   hull %s - %s\n\nUSAGE:\n   hull %s %s\n\n"
         "See hull-%s(8) for the details.\n",
         c->name, c->summary, c->name, c->usage, c->name);
}

int cli_wants_help(int argc, char **argv, bool flags_anywhere) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      return 0;
    if (argv[i][0] != '-' && !flags_anywhere)
      return 0;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 1;
  }
  return 0;
}

int cli_expect_args(const char *cmd, int argc, char **argv, int first, int n,
                    hull_error_t *err) {
  (void)argv;
  int have = argc - first;
  if (have == n)
    return 0;
  return hull_error(err, 0, "\"%s\" requires exactly %d argument(s)", cmd,
                    n);
}

void cli_human_size(int64_t bytes, char *buf, size_t len) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1000 && u + 1 < sizeof(units) / sizeof(*units)) {
    v /= 1000;
    u++;
  }
  snprintf(buf, len, "%.4g%s", v, units[u]);
}

int cli_no_flags(int argc, char **argv, hull_error_t *err) {
  static const struct option none[] = {{NULL, 0, NULL, 0}};
  cli_flags_first(argc, argv, "", none);
  optind = 1;
  opterr = 0;
  if (getopt_long(argc, argv, "+", none, NULL) != -1)
    return hull_error(err, 0, "flag provided but not defined: %s",
                      argv[optind - 1]);
  return optind;
}

int cli_parse_id(const char *cmd, int argc, char **argv, const char **id,
                 hull_error_t *err) {
  int first = cli_no_flags(argc, argv, err);
  if (first < 0 || cli_expect_args(cmd, argc, argv, first, 1, err) < 0)
    return -1;
  *id = argv[first];
  return 0;
}

int parse_int(const char *flag, const char *s, int *out, hull_error_t *err) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *s == '\0' || *end != '\0' || v < 0 || v > INT_MAX)
    return hull_error(err, 0, "invalid value \"%s\" for flag %s", s, flag);
  *out = (int)v;
  return 0;
}
