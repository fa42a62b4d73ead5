/* create.c — `hull create`. Also parses the flags `run` shares with it. */
#include "cli.h"
#include "create-flags.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <string.h>

int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool run_flags,
                       struct run_image_flags *img, hull_error_t *err) {
  enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING,
         OPT_PRESERVE, OPT_KEEP, OPT_NO_SUBREAPER, OPT_IMAGE, OPT_NAME,
         OPT_IMAGE_ROOT, OPT_RM, OPT_UIDMAP, OPT_GIDMAP };
  static const struct option opts[] = {
      {"bundle", required_argument, NULL, 'b'},
      {"console-socket", required_argument, NULL, OPT_CONSOLE},
      {"pid-file", required_argument, NULL, OPT_PIDFILE},
      {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
      {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
      {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
      {"detach", no_argument, NULL, 'd'},
      {"keep", no_argument, NULL, OPT_KEEP},
      {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
      {"image", required_argument, NULL, OPT_IMAGE},
      {"name", required_argument, NULL, OPT_NAME},
      {"image-root", required_argument, NULL, OPT_IMAGE_ROOT},
      {"rm", no_argument, NULL, OPT_RM},
      {"uidmap", required_argument, NULL, OPT_UIDMAP},
      {"gidmap", required_argument, NULL, OPT_GIDMAP},
      {NULL, 0, NULL, 0},
  };
  cli_flags_first(argc, argv, "b:d", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+:b:d", opts, NULL)) != -1) {
    switch (c) {
    case 'b': o->bundle = optarg; break;
    case OPT_CONSOLE: o->console_socket = optarg; break;
    case OPT_PIDFILE: o->pid_file = optarg; break;
    case OPT_NOPIVOT: o->no_pivot = true; break;
    case OPT_NOKEYRING: o->no_new_keyring = true; break;
    case OPT_PRESERVE:
      if (parse_int("--preserve-fds", optarg, &o->preserve_fds, err) < 0)
        return -1;
      break;
    case 'd':
    case OPT_KEEP:
    case OPT_NO_SUBREAPER:
      if (!run_flags)
        return hull_error(err, 0, "flag provided but not defined: %s",
                          argv[optind - 1]);
      if (c == 'd')
        o->detach = true;
      else if (c == OPT_KEEP)
        o->keep = true;
      else
        o->no_subreaper = true;
      break;
    case OPT_IMAGE:
    case OPT_NAME:
    case OPT_IMAGE_ROOT:
    case OPT_RM:
    case OPT_UIDMAP:
    case OPT_GIDMAP:
      if (img == NULL)
        return hull_error(err, 0, "flag provided but not defined: %s",
                          argv[optind - 1]);
      if (c == OPT_UIDMAP || c == OPT_GIDMAP) {
        if (image_id_maps_add(&img->maps, c == OPT_UIDMAP ? "--uidmap"
                                                          : "--gidmap",
                              optarg, err) < 0)
          return -1;
      } else if (c == OPT_IMAGE)
        img->ref = optarg;
      else if (c == OPT_NAME)
        img->name = optarg;
      else if (c == OPT_IMAGE_ROOT)
        img->image_root = optarg;
      else
        img->rm = true;
      break;
    case ':':
      return hull_error(err, 0, "flag needs an argument: %s",
                        argv[optind - 1]);
    default:
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  if (img && img->ref) {
    img->args = argv + optind;
    return image_id_maps_finish(&img->maps, err);
  }
  if (img && (img->name || img->rm || img->image_root))
    return hull_error(err, 0, "%s: --name, --rm and --image-root are for "
                              "--image", cmd);
  /* A bundle's config.json says its own user namespace. */
  if (img && (img->maps.n_uid > 0 || img->maps.n_gid > 0))
    return hull_error(err, 0, "%s: --uidmap and --gidmap are for --image",
                      cmd);
  if (cli_expect_args(cmd, argc, argv, optind, 1, err) < 0)
    return -1;
  o->id = argv[optind];
  return 0;
}

int cmd_create(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  struct create_options o = {.root = g->root, .detach = true,
                            .systemd_cgroup = g->systemd_cgroup};
  if (parse_create_flags("create", argc, argv, &o, false, NULL, err) < 0)
    return -1;
  pid_t pid;
  interrupt_hold(); /* SIGTERM ends create's waits; it cleans up first */
  return container_create(&o, &pid, err) < 0 ? -1 : 0;
}
