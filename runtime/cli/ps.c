/* ps.c — `hull ps [--format table|json] ID [PS ARGS...]`: the container's
 * processes. json prints their pids; table runs the host's ps(1) with the
 * given arguments (default -ef) and keeps the header and the lines whose
 * PID column is one of them, as runc does. */
#include "cli.h"
#include "runtime/container/container.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_json(const pid_t *pids, size_t n) {
  if (n == 0) {
    printf("null\n");       /* runc encodes its empty (nil) slice so */
    return;
  }
  yajl_gen g = json_gen_new(false);
  yajl_gen_array_open(g);
  for (size_t i = 0; i < n; i++)
    yajl_gen_integer(g, pids[i]);
  yajl_gen_array_close(g);
  cleanup_free char *json = json_gen_finish(g);
  printf("%s\n", json);
}

/* Runs ps with args (NULL-terminated, args[0] "ps"); *out gets stdout and
 * stderr together. */
static int run_ps(char **args, char **out, hull_error_t *err) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return hull_error(err, errno, "pipe");
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return hull_error(err, errno, "fork");
  }
  if (pid == 0) {
    dup2(pipefd[1], STDOUT_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    execvp("ps", args);
    fprintf(stderr, "exec: \"ps\": %s\n", strerror(errno));
    _exit(127);
  }
  close(pipefd[1]);
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap)
      buf = xrealloc(buf, cap = (cap + 4096) * 2);
    ssize_t r = read(pipefd[0], buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  buf[len] = '\0';
  close(pipefd[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  *out = buf;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 0;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return hull_error(err, 0, "exit status %d: %s", code, buf);
}

/* The column of "PID" in ps's header line. */
static int pid_column(const char *header, hull_error_t *err) {
  cleanup_free char *copy = xstrdup(header);
  char *save = NULL;
  int i = 0;
  for (char *f = strtok_r(copy, " \t", &save); f;
       f = strtok_r(NULL, " \t", &save), i++)
    if (strcmp(f, "PID") == 0)
      return i;
  return hull_error(err, 0, "couldn't find PID field in ps output");
}

/* The n-th whitespace-separated field of line, as a number. */
static int field_pid(const char *line, int column, long *pid,
                     hull_error_t *err) {
  cleanup_free char *copy = xstrdup(line);
  char *save = NULL, *f = strtok_r(copy, " \t", &save);
  for (int i = 0; f && i < column; i++)
    f = strtok_r(NULL, " \t", &save);
  char *end;
  *pid = f ? strtol(f, &end, 10) : 0;
  if (f == NULL || *end != '\0' || end == f)
    return hull_error(err, 0, "unable to parse pid: %s", f ? f : "(none)");
  return 0;
}

static int print_table(char **ps_args, int n_args, const pid_t *pids,
                       size_t n, hull_error_t *err) {
  cleanup_free char **args = xzalloc((size_t)(n_args + 2) * sizeof(char *));
  args[0] = "ps";
  if (n_args == 0)
    args[1] = "-ef";
  for (int i = 0; i < n_args; i++)
    args[i + 1] = ps_args[i];
  cleanup_free char *out = NULL;
  if (run_ps(args, &out, err) < 0)
    return -1;
  char *save = NULL;
  char *header = strtok_r(out, "\n", &save);
  if (header == NULL)
    return hull_error(err, 0, "couldn't find PID field in ps output");
  int column = pid_column(header, err);
  if (column < 0)
    return -1;
  printf("%s\n", header);
  for (char *line = strtok_r(NULL, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    long pid;
    if (field_pid(line, column, &pid, err) < 0)
      return -1;
    for (size_t i = 0; i < n; i++)
      if (pids[i] == pid) {
        printf("%s\n", line);
        break;
      }
  }
  return 0;
}

int cmd_ps(const struct global_options *g, int argc, char **argv,
           hull_error_t *err) {
  static const struct option opts[] = {
      {"format", required_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
  const char *format = "table";
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
    if (c != 'f')
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    format = optarg;
  }
  if (argc - optind < 1)
    return hull_error(err, 0, "\"ps\" requires a minimum of 1 argument(s)");
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (container_pids(g->root, argv[optind], &pids, &n, err) < 0)
    return -1;
  if (strcmp(format, "json") == 0) {
    print_json(pids, n);
    return 0;
  }
  if (strcmp(format, "table") != 0)
    return hull_error(err, 0, "invalid format option");
  return print_table(argv + optind + 1, argc - optind - 1, pids, n, err) < 0
             ? -1
             : 0;
}
