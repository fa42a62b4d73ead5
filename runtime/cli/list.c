/* list.c — `hull list`: runc's table, JSON, or just the ids. */
#include "cli.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <string.h>

static void print_table(const struct container_summary *s, size_t n) {
  /* runc: tabwriter, min width 12, padding 3. */
  size_t w_id = 2, w_pid = 3, w_status = 6, w_bundle = 6, w_created = 7;
  char pid[32];
  for (size_t i = 0; i < n; i++) {
    snprintf(pid, sizeof(pid), "%d", (int)s[i].pid);
    w_id = strlen(s[i].id) > w_id ? strlen(s[i].id) : w_id;
    w_pid = strlen(pid) > w_pid ? strlen(pid) : w_pid;
    w_status = strlen(state_status_name(s[i].status)) > w_status
                   ? strlen(state_status_name(s[i].status)) : w_status;
    w_bundle = strlen(s[i].bundle) > w_bundle ? strlen(s[i].bundle) : w_bundle;
    w_created =
        strlen(s[i].created) > w_created ? strlen(s[i].created) : w_created;
  }
#define COL(w) ((int)((w) + 3 < 12 ? 12 : (w) + 3))
  printf("%-*s%-*s%-*s%-*s%-*s%s\n", COL(w_id), "ID", COL(w_pid), "PID",
         COL(w_status), "STATUS", COL(w_bundle), "BUNDLE", COL(w_created),
         "CREATED", "OWNER");
  for (size_t i = 0; i < n; i++) {
    snprintf(pid, sizeof(pid), "%d", (int)s[i].pid);
    printf("%-*s%-*s%-*s%-*s%-*s%s\n", COL(w_id), s[i].id, COL(w_pid), pid,
           COL(w_status), state_status_name(s[i].status), COL(w_bundle),
           s[i].bundle, COL(w_created), s[i].created, s[i].owner);
  }
#undef COL
}

static void print_json(const struct container_summary *s, size_t n) {
  if (n == 0) {
    printf("null\n"); /* what runc prints for no containers */
    return;
  }
  yajl_gen g = json_gen_new(false);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++) {
    yajl_gen_map_open(g);
    json_gen_string(g, "ociVersion");
    json_gen_string(g, "1.2.0");
    json_gen_string(g, "id");
    json_gen_string(g, s[i].id);
    json_gen_string(g, "pid");
    yajl_gen_integer(g, s[i].pid);
    json_gen_string(g, "status");
    json_gen_string(g, state_status_name(s[i].status));
    json_gen_string(g, "bundle");
    json_gen_string(g, s[i].bundle);
    json_gen_string(g, "rootfs");
    json_gen_string(g, s[i].rootfs);
    json_gen_string(g, "created");
    json_gen_string(g, s[i].created);
    json_gen_string(g, "owner");
    json_gen_string(g, s[i].owner);
    yajl_gen_map_close(g);
  }
  yajl_gen_array_close(g);
  cleanup_free char *json = json_gen_finish(g);
  printf("%s\n", json);
}

int cmd_list(const struct global_options *g, int argc, char **argv,
             hull_error_t *err) {
  static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {NULL, 0, NULL, 0}};
  const char *format = "table";
  bool quiet = false;
  cli_flags_first(argc, argv, "f:q", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
    if (c == 'f')
      format = optarg;
    else if (c == 'q')
      quiet = true;
    else
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
  }
  if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return hull_error(err, 0, "invalid format option");
  if (cli_expect_args("list", argc, argv, optind, 0, err) < 0)
    return -1;
  struct container_summary *s = NULL;
  size_t n = 0;
  if (container_list(g->root, &s, &n, err) < 0)
    return -1;
  if (quiet)
    for (size_t i = 0; i < n; i++)
      printf("%s\n", s[i].id);
  else if (strcmp(format, "json") == 0)
    print_json(s, n);
  else
    print_table(s, n);
  container_summaries_free(s, n);
  return 0;
}
