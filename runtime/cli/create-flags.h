/* create-flags.h — the flags `create` and `run` share (private to cli/). */
#ifndef HULL_CLI_CREATE_FLAGS_H
#define HULL_CLI_CREATE_FLAGS_H

#include "images/images.h"
#include "runtime/container/container.h"

#include <getopt.h>

/* The config made from the image (image-flags.c): podman's flags where it
 * has them, each a member of struct image_run_options. */
struct image_config_flags {
  char **env;              /* -e/--env KEY=VALUE; KEY alone: the host's */
  bool tty;                /* -t/--tty: process.terminal */
  const char *hostname;    /* --hostname */
  bool read_only;          /* --read-only: root.readonly */
  enum image_volume_mode volumes;  /* --image-volume tmpfs|ignore|bind:DIR */
  char *volumes_dir;       /* bind:DIR, made absolute */
  const char *network;     /* --network bridge|none|NAME (NULL: none,
                              or bridge with -p/-P) */
  char *ports;             /* -p/--publish, joined with ','; NULL: none */
  bool publish_all;        /* -P/--publish-all: the image's ExposedPorts */
  char **annotations;      /* --annotation KEY=VALUE, --vm */
  const char *first;       /* the first of these flags given: its long
                              name ("env" for -e too) */
};

/* Their getopt_long entries (vals from IMAGE_CONFIG_OPT_FIRST up) and
 * short options, for the option tables of create and run. */
enum { IMAGE_CONFIG_OPT_FIRST = 512 };
extern const struct option image_config_options[];
#define IMAGE_CONFIG_SHORTOPTS "e:tp:P"
/* 1 when c is one of these flags (applied to f), 0 when it is not, -1 on a
 * bad value: `invalid value "x" for flag --env: expected KEY=VALUE`. */
int image_config_flag(struct image_config_flags *f, int c, const char *arg,
                      hull_error_t *err);
/* What only the whole set tells: -p or -P with --network none, -p with
 * -P, a host port published twice. */
int image_config_check(const struct image_config_flags *f,
                       hull_error_t *err);
/* What the conversion takes from them (args left to the caller). */
void image_config_apply(const struct image_config_flags *f,
                        struct image_run_options *o);
void image_config_flags_free(struct image_config_flags *f);

/* run --image / create --image: a container made from an image of the
 * store. */
struct run_image_flags {
  const char *ref;         /* --image REF */
  const char *name;        /* run --name ID (default: 12 random hex digits) */
  const char *image_root;  /* --image-root */
  bool rm;                 /* run --rm: the container and its bundle go at
                              exit */
  char **args;             /* the command: run's words after the flags,
                              create's after the id */
  struct image_id_maps maps; /* --uidmap/--gidmap: a user namespace */
  struct image_config_flags config;
  char generated_id[13];   /* run without --name: the id made up */
};

/* run_flags: also run's own flags (-d/--detach, --keep, --no-subreaper,
 * --name, --rm); create does not know them. img gets the --image flags,
 * which are errors without --image ("run: --env is for --image"). With
 * --image, run's positional words are the command, create's the id and
 * then the command; else the one container id. */
int parse_create_flags(const char *cmd, int argc, char **argv,
                       struct create_options *o, bool run_flags,
                       struct run_image_flags *img, hull_error_t *err);

/* image-bundle.c: the bundle <image-root>/containers/<o->id>/ made from
 * img (o->bundle points at it then; free *dir), for the container that
 * create or run makes next (o->id NULL: a random one, in img); owner "run" in its record, so `delete` removes
 * it. Refused when the id is no valid id or a container has it. */
int image_container_bundle(struct create_options *o,
                           struct run_image_flags *img, char **dir,
                           hull_error_t *err);
/* Removes dir unless the container o->id exists (create failed, or run
 * --rm deleted it): then it is the container's, for `delete`. */
void image_container_bundle_release(const struct create_options *o,
                                    const char *dir);

#endif
