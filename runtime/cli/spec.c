/* spec.c — `hull spec`: write a default config.json into the bundle. */
#include "cli.h"
#include "runtime/spec/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

int cmd_spec(const struct global_options *g, int argc, char **argv,
             hull_error_t *err) {
  static const struct option opts[] = {
      {"rootless", no_argument, NULL, 'r'},
      {"bundle", required_argument, NULL, 'b'},
      {NULL, 0, NULL, 0}};
  bool rootless = false;
  const char *bundle = ".";
  cli_flags_first(argc, argv, "b:", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+b:", opts, NULL)) != -1) {
    if (c == 'r')
      rootless = true;
    else if (c == 'b')
      bundle = optarg;
    else
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
  }
  if (cli_expect_args("spec", argc, argv, optind, 0, err) < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/config.json", bundle);
  cleanup_free char *json = spec_default_json(rootless);
  cleanup_close int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0 && errno == EEXIST)
    return hull_error(err, 0, "File %s exists. Remove it first", path);
  if (fd < 0)
    return hull_error(err, errno, "create `%s`", path);
  if (write_all(fd, json, strlen(json)) < 0)
    return hull_error(err, errno, "write `%s`", path);
  return 0;
}
