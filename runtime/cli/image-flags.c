/* image-flags.c — the flags of `run --image` and `create --image` that shape
 * the config made from the image (struct image_run_options): podman's
 * names, checked here so that a bad value is an error naming the flag
 * before anything is made. */
#include "create-flags.h"
#include "netns/netns.h"

#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
  OPT_ENV = IMAGE_CONFIG_OPT_FIRST, OPT_TTY, OPT_HOSTNAME, OPT_READ_ONLY,
  OPT_IMAGE_VOLUME, OPT_NETWORK, OPT_PUBLISH, OPT_PUBLISH_ALL,
  OPT_ANNOTATION, OPT_VM,
};

const struct option image_config_options[] = {
    {"env", required_argument, NULL, OPT_ENV},
    {"tty", no_argument, NULL, OPT_TTY},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"read-only", no_argument, NULL, OPT_READ_ONLY},
    {"image-volume", required_argument, NULL, OPT_IMAGE_VOLUME},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"publish", required_argument, NULL, OPT_PUBLISH},
    {"publish-all", no_argument, NULL, OPT_PUBLISH_ALL},
    {"annotation", required_argument, NULL, OPT_ANNOTATION},
    {"vm", no_argument, NULL, OPT_VM},
    {NULL, 0, NULL, 0},
};

/* The long name of a short flag's option, for errors. */
static int canonical(int c) {
  switch (c) {
  case 'e': return OPT_ENV;
  case 't': return OPT_TTY;
  case 'p': return OPT_PUBLISH;
  case 'P': return OPT_PUBLISH_ALL;
  default: return c;
  }
}

static const char *flag_name(int c) {
  for (const struct option *o = image_config_options; o->name; o++)
    if (o->val == c)
      return o->name;
  return "?";
}

static int bad_value(int c, const char *arg, const char *why,
                     hull_error_t *err) {
  return hull_error(err, 0, "invalid value \"%s\" for flag --%s: %s", arg,
                    flag_name(c), why);
}

/* KEY=VALUE, or KEY alone: the host's KEY=VALUE when it has one, else
 * nothing (as podman and docker). */
static int add_env(struct image_config_flags *f, const char *arg,
                   hull_error_t *err) {
  size_t key_len = strcspn(arg, "=");
  if (key_len == 0)
    return bad_value(OPT_ENV, arg, "expected KEY=VALUE or KEY", err);
  if (arg[key_len] == '=') {
    strv_append(&f->env, arg);
    return 0;
  }
  const char *value = getenv(arg);
  if (value != NULL) {
    cleanup_free char *entry = xasprintf("%s=%s", arg, value);
    strv_append(&f->env, entry);
  }
  return 0;
}

static int set_hostname(struct image_config_flags *f, const char *arg,
                        hull_error_t *err) {
  if (arg[0] == '\0' || strlen(arg) > HOST_NAME_MAX)
    return bad_value(OPT_HOSTNAME, arg, "a hostname has 1 to 64 bytes", err);
  f->hostname = arg;
  return 0;
}

/* tmpfs, ignore (podman's names) or bind:DIR, DIR made absolute. */
static int set_image_volume(struct image_config_flags *f, const char *arg,
                            hull_error_t *err) {
  free(f->volumes_dir);
  f->volumes_dir = NULL;
  if (strcmp(arg, "tmpfs") == 0) {
    f->volumes = IMAGE_VOLUMES_TMPFS;
  } else if (strcmp(arg, "ignore") == 0) {
    f->volumes = IMAGE_VOLUMES_NONE;
  } else if (strncmp(arg, "bind:", 5) == 0 && arg[5] != '\0') {
    f->volumes = IMAGE_VOLUMES_BIND;
    cleanup_free char *cwd = arg[5] == '/' ? NULL : getcwd(NULL, 0);
    f->volumes_dir = cwd ? xasprintf("%s/%s", cwd, arg + 5)
                         : xstrdup(arg + 5);
  } else {
    return bad_value(OPT_IMAGE_VOLUME, arg, "expected tmpfs, ignore or "
                     "bind:DIR", err);
  }
  return 0;
}

/* bridge (hull0), pasta or slirp4netns (a user-mode helper, podman's
 * names), none, or the name of a network of hull's: an interface name, as
 * its bridge is named after it. */
static bool is_user_mode(const char *network) {
  return strcmp(network, "pasta") == 0 || strcmp(network, "slirp4netns") == 0;
}

static int set_network(struct image_config_flags *f, const char *arg,
                       hull_error_t *err) {
  /* podman's host: here it would name a network "host" instead. */
  if (strcmp(arg, "host") == 0)
    return bad_value(OPT_NETWORK, arg, "the host's network namespace is not "
                     "for image containers (bridge, none or a network's "
                     "name)", err);
  if (strcmp(arg, "bridge") != 0 && strcmp(arg, "none") != 0 &&
      !is_user_mode(arg) &&
      (arg[0] == '\0' || arg[0] == '.' || strlen(arg) >= IFNAMSIZ ||
       strpbrk(arg, "/:% \t\n") != NULL))
    return bad_value(OPT_NETWORK, arg, "expected bridge, pasta, "
                     "slirp4netns, none or a network's name (1 to 15 bytes, "
                     "no '/', ':', '%' or space)", err);
  f->network = arg;
  return 0;
}

/* HOST:CONTAINER[/tcp|/udp], checked as run.oci.network.ports will be. */
static int add_port(struct image_config_flags *f, const char *arg,
                    hull_error_t *err) {
  cleanup_free struct netns_port *ports = NULL;
  size_t n = 0;
  cleanup_error hull_error_t why = NULL;
  if (strchr(arg, ',') != NULL || netns_ports_parse(arg, &ports, &n, &why) < 0)
    return bad_value(OPT_PUBLISH, arg, why ? why->msg : "one HOST:CONTAINER"
                     "[/tcp|/udp] a flag", err);
  char *joined = f->ports ? xasprintf("%s,%s", f->ports, arg) : xstrdup(arg);
  free(f->ports);
  f->ports = joined;
  return 0;
}

static int add_annotation(struct image_config_flags *f, const char *arg,
                          hull_error_t *err) {
  const char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg)
    return bad_value(OPT_ANNOTATION, arg, "expected KEY=VALUE", err);
  strv_append(&f->annotations, arg);
  return 0;
}

int image_config_flag(struct image_config_flags *f, int c, const char *arg,
                      hull_error_t *err) {
  c = canonical(c);
  if (c < IMAGE_CONFIG_OPT_FIRST || c > OPT_VM)
    return 0;
  if (f->first == NULL)
    f->first = flag_name(c);
  int r = 0;
  switch (c) {
  case OPT_ENV: r = add_env(f, arg, err); break;
  case OPT_TTY: f->tty = true; break;
  case OPT_HOSTNAME: r = set_hostname(f, arg, err); break;
  case OPT_READ_ONLY: f->read_only = true; break;
  case OPT_IMAGE_VOLUME: r = set_image_volume(f, arg, err); break;
  case OPT_NETWORK: r = set_network(f, arg, err); break;
  case OPT_PUBLISH: r = add_port(f, arg, err); break;
  case OPT_PUBLISH_ALL: f->publish_all = true; break;
  case OPT_ANNOTATION: r = add_annotation(f, arg, err); break;
  case OPT_VM: strv_append(&f->annotations, "run.oci.handler=vm"); break;
  }
  return r < 0 ? -1 : 1;
}

int image_config_check(const struct image_config_flags *f,
                       hull_error_t *err) {
  bool publishing = f->ports != NULL || f->publish_all;
  if (publishing && f->network && strcmp(f->network, "none") == 0)
    return hull_error(err, 0, "--%s needs a network: not with --network "
                      "none", f->ports ? "publish" : "publish-all");
  if (f->ports && f->publish_all)
    return hull_error(err, 0, "--publish and --publish-all cannot go "
                      "together (--publish-all publishes the image's "
                      "ExposedPorts on the same ports)");
  /* Each -p was checked alone; a host port given twice shows together. */
  cleanup_free struct netns_port *ports = NULL;
  size_t n = 0;
  cleanup_error hull_error_t why = NULL;
  if (f->ports && netns_ports_parse(f->ports, &ports, &n, &why) < 0)
    return hull_error(err, 0, "invalid value \"%s\" for flag --publish: %s",
                      f->ports, why->msg);
  return 0;
}

void image_config_apply(const struct image_config_flags *f,
                        struct image_run_options *o) {
  o->env = f->env;
  o->hostname = f->hostname;
  o->terminal = f->tty;
  o->readonly_rootfs = f->read_only;
  o->volumes = f->volumes;
  o->volumes_dir = f->volumes_dir;
  o->annotations = f->annotations;
  /* Publishing a port puts the container on hull0 unless told otherwise,
   * as podman's -p puts it on its default network. */
  o->network = f->network ? strcmp(f->network, "none") != 0
                          : f->ports != NULL || f->publish_all;
  o->network_mode = f->network && is_user_mode(f->network) ? f->network
                                                           : NULL;
  o->network_name = f->network && strcmp(f->network, "bridge") != 0 &&
                            strcmp(f->network, "none") != 0 &&
                            !is_user_mode(f->network)
                        ? f->network
                        : NULL;
  /* -P: the image's ExposedPorts (ports NULL); else only what -p gave. */
  o->ports = f->publish_all ? NULL : f->ports ? f->ports : "";
}

void image_config_flags_free(struct image_config_flags *f) {
  strv_free(f->env);
  strv_free(f->annotations);
  free(f->volumes_dir);
  free(f->ports);
  memset(f, 0, sizeof(*f));
}
