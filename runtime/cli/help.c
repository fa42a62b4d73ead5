/* help.c — `hull help [COMMAND]`, `hull --help`. */
#include "cli.h"
#include "runtime/linux/linux.h"
#include "runtime/state/state.h"

static void print_overview(void) {
  size_t n;
  const struct command *c = command_table(&n);
  printf("NAME:\n   hull - a daemonless OCI container runtime\n\n"
         "USAGE:\n   hull [global options] command [command options] "
         "[arguments...]\n\nCOMMANDS:\n");
  for (size_t i = 0; i < n; i++)
    printf("   %-10s %s\n", c[i].name, c[i].summary);
  cleanup_free char *root = state_root_default_name(ns_running_in_user_ns());
  printf("\nGLOBAL OPTIONS:\n"
         "   --root DIR            root directory for storage of container "
         "state (default: \"%s\")\n"
         "   --log FILE            write log messages to FILE "
         "(default: stderr)\n"
         "   --log-format FORMAT   text or json (default: \"text\")\n"
         "   --debug               enable debug logging\n"
         "   --systemd-cgroup      place containers in systemd scopes\n"
         "   --rootless VALUE      ignore cgroup permission errors (true, "
         "false or auto) (default: \"auto\")\n"
         "   --userns-pool START:SIZE  host ids run.oci.userns=auto takes "
         "ranges from\n"
         "                         (default: /etc/subuid's entry for hull)\n"
         "   --help, -h            show help\n"
         "   --version, -v         print the version\n", root);
}

int cmd_help(const struct global_options *g, int argc, char **argv,
             hull_error_t *err) {
  (void)g;
  if (argc < 2) {
    print_overview();
    return 0;
  }
  const struct command *c = command_find(argv[1]);
  if (c == NULL)
    return hull_error(err, 0, "No help topic for '%s'", argv[1]);
  print_command_help(c);
  return 0;
}
