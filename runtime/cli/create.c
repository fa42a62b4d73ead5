/* create.c — `hull create`. Also parses the flags `run` shares with it. */
#include "cli.h"
#include "create-flags.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <string.h>

/* The options table: create's and run's own, then the --image ones. */
static struct option *all_options(const struct option *own, size_t n_own) {
  size_t n_image = 0;
  while (image_config_options[n_image].name)
    n_image++;
  struct option *all = xzalloc((n_own + n_image + 1) * sizeof(*all));
  memcpy(all, own, n_own * sizeof(*own));
  memcpy(all + n_own, image_config_options, n_image * sizeof(*all));
  return all;
}

/* After the flags: with --image, run's words are the command; create's the
 * id, then the command. */
static int image_positional(const char *cmd, int argc, char **argv,
                            struct create_options *o, bool run_flags,
                            struct run_image_flags *img, hull_error_t *err) {
  if (image_config_check(&img->config, err) < 0 ||
      image_id_maps_finish(&img->maps, err) < 0)
    return -1;
  if (run_flags) {
    img->args = argv + optind;
    return 0;
  }
  if (optind >= argc)
    return hull_error(err, 0, "%s: --image needs the container's id: hull "
                              "%s --image IMAGE ID [-- COMMAND [ARG...]]",
                      cmd, cmd);
  o->id = argv[optind];
  img->args = argv + optind + 1;
  return 0;
}

int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool run_flags,
                       struct run_image_flags *img, hull_error_t *err) {
  enum { OPT_CONSOLE = 256, OPT_PIDFILE, OPT_NOPIVOT, OPT_NOKEYRING,
         OPT_PRESERVE, OPT_KEEP, OPT_NO_SUBREAPER, OPT_IMAGE, OPT_NAME,
         OPT_IMAGE_ROOT, OPT_RM, OPT_UIDMAP, OPT_GIDMAP };
  static const struct option own[] = {
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
  };
  cleanup_free struct option *opts =
      all_options(own, sizeof(own) / sizeof(*own));
  const char *shortopts = "+:b:d" IMAGE_CONFIG_SHORTOPTS;
  cli_flags_first(argc, argv, shortopts, opts);
  optind = 1;
  opterr = 0;
  const char *image_only = NULL; /* the first --image flag given: its
                                    long name */
  int c;
  while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
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
    case OPT_NAME:
    case OPT_RM:
      if (!run_flags) /* argv[optind - 1] may be --name's value */
        return hull_error(err, 0, "flag provided but not defined: %s",
                          c == OPT_NAME ? "--name" : "--rm");
      if (c == OPT_NAME)
        img->name = optarg;
      else
        img->rm = true;
      image_only = image_only ? image_only : c == OPT_NAME ? "name" : "rm";
      break;
    case OPT_IMAGE: img->ref = optarg; break;
    case OPT_UIDMAP:
    case OPT_GIDMAP: {
      const char *flag = c == OPT_UIDMAP ? "uidmap" : "gidmap";
      cleanup_free char *dashed = xasprintf("--%s", flag);
      if (image_id_maps_add(&img->maps, dashed, optarg, err) < 0)
        return -1;
      image_only = image_only ? image_only : flag;
      break;
    }
    case OPT_IMAGE_ROOT:
      img->image_root = optarg;
      image_only = image_only ? image_only : "image-root";
      break;
    case ':':
      return hull_error(err, 0, "flag needs an argument: %s",
                        argv[optind - 1]);
    default: {
      int r = image_config_flag(&img->config, c, optarg, err);
      if (r < 0)
        return -1;
      if (r == 0)
        return hull_error(err, 0, "flag provided but not defined: %s",
                          argv[optind - 1]);
      if (image_only == NULL)
        image_only = img->config.first;
      break;
    }
    }
  }
  if (img->ref)
    return image_positional(cmd, argc, argv, o, run_flags, img, err);
  if (image_only)
    return hull_error(err, 0, "%s: --%s is for --image", cmd, image_only);
  if (cli_expect_args(cmd, argc, argv, optind, 1, err) < 0)
    return -1;
  o->id = argv[optind];
  return 0;
}

/* create --image: the bundle first; it stays with the container (for
 * `delete`), or goes when create fails. */
static int create_from_image(struct create_options *o,
                             struct run_image_flags *img, hull_error_t *err) {
  if (o->bundle)
    return hull_error(err, 0, "create: --image makes the bundle; --bundle "
                              "cannot go with it");
  cleanup_free char *dir = NULL;
  if (image_container_bundle(o, img, &dir, err) < 0)
    return -1;
  pid_t pid;
  int r = container_create(o, &pid, err);
  image_container_bundle_release(o, dir);
  return r;
}

int cmd_create(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  struct create_options o = {.root = g->root, .detach = true,
                            .systemd_cgroup = g->systemd_cgroup,
                            .rootless_cgroups = cli_rootless_cgroups(g),
                            .runtime_in_user_ns = g->in_user_ns,
                            .userns_pool = g->userns_pool};
  struct run_image_flags img = {0};
  int r = parse_create_flags("create", argc, argv, &o, false, &img, err);
  if (r == 0) {
    interrupt_hold(); /* SIGTERM ends create's waits; it cleans up first */
    pid_t pid;
    r = img.ref ? create_from_image(&o, &img, err)
                : container_create(&o, &pid, err);
  }
  image_config_flags_free(&img.config);
  image_id_maps_clear(&img.maps);
  return r < 0 ? -1 : 0;
}
