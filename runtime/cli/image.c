/* image.c — `hull image import|pull|ls|inspect|tag|rm|gc|mount|umount`: the image store at
 * --image-root (hull-image(8)). Flags may come anywhere among the words,
 * as with every runc-style verb. */
#include "cli.h"
#include "images/images.h"
#include "runtime/container/container.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct image_options {
  const char *root;
  const char *name;       /* import --name */
  const char *platform;   /* inspect and pull --platform */
  bool insecure;          /* pull --insecure, --tls-verify=false */
  const char *tls_verify; /* pull --tls-verify's value, as given */
  const char *creds;      /* pull --creds */
  const char *cert_dir;   /* pull --cert-dir */
  bool copy;              /* mount --copy: no overlayfs */
  struct image_id_maps maps; /* mount --uidmap/--gidmap */
};

int image_rootfs_mode_from_env(bool copy) {
  const char *env = getenv("HULL_IMAGE_ROOTFS");
  if (copy || (env && strcmp(env, "copy") == 0))
    return IMAGE_ROOTFS_COPY;
  if (env && strcmp(env, "overlay") == 0)
    return IMAGE_ROOTFS_OVERLAY;
  return IMAGE_ROOTFS_AUTO;
}

/* ---- output helpers --------------------------------------------------------- */

/* The documents were parsed once already: they are JSON objects. */
static void gen_document(yajl_gen g, const char *key, const char *json) {
  if (json == NULL)
    return;
  char msg[128];
  yajl_val v = yajl_tree_parse(json, msg, sizeof(msg));
  if (v == NULL)
    return;
  json_gen_string(g, key);
  json_gen_tree(g, v);
  yajl_tree_free(v);
}

/* ---- verbs ------------------------------------------------------------------- */

static int cmd_image_import(const struct image_options *o, char **args,
                        hull_error_t *err) {
  if (args[0] == NULL || args[1] != NULL)
    return hull_error(err, 0, "image import: expects one OCI image layout "
                              "directory or OCI archive");
  struct image_store *s = NULL;
  if (image_store_open(o->root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  cleanup_strv char **names = NULL;
  int r = image_import(s, args[0], o->name, &names, err);
  image_store_close(s);
  if (r < 0)
    return -1;
  for (char **n = names; n && *n; n++)
    if (strncmp(*n, "sha256:", 7) == 0 || strncmp(*n, "sha512:", 7) == 0)
      printf("Loaded image ID: %s (no name: give one with --name)\n", *n);
    else
      printf("Loaded image: %s\n", *n);
  return 0;
}

static int cmd_image_pull(const struct image_options *o, char **args,
                          hull_error_t *err) {
  if (args[0] == NULL || args[1] != NULL)
    return hull_error(err, 0, "image pull: expects one image name");
  struct image_store *s = NULL;
  if (image_store_open(o->root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  struct image_pull_options po = {
      .registry = {.insecure = o->insecure, .creds = o->creds,
                   .cert_dir = o->cert_dir},
      .platform = o->platform,
      /* Progress for a person watching; none for logs and scripts. */
      .progress_fd = isatty(STDERR_FILENO) ? STDERR_FILENO : 0,
  };
  cleanup_free char *name = NULL;
  struct image_digest digest;
  int r = image_pull(s, args[0], &po, &name, &digest, err);
  image_store_close(s);
  if (r < 0)
    return -1;
  printf("Pulled image: %s\nDigest: %s\n", name, digest.text);
  return 0;
}

struct size_sum {
  int64_t bytes;
};

static int add_size(const struct image_descriptor *d, void *arg,
                    hull_error_t *err) {
  ((struct size_sum *)arg)->bytes += d->size;
  return 0;
}

static int image_ls(struct image_store *s, char **args, hull_error_t *err) {
  if (args[0] != NULL)
    return hull_error(err, 0, "image ls: takes no arguments");
  struct image_name *names = NULL;
  size_t n = 0;
  if (image_refs_list(s, &names, &n, err) < 0)
    return -1;
  int w = 4;
  for (size_t i = 0; i < n; i++)
    if ((int)strlen(names[i].name) > w)
      w = (int)strlen(names[i].name);
  printf("%-*s   %-12s   %s\n", w, "NAME", "DIGEST", "SIZE");
  int r = 0;
  for (size_t i = 0; r == 0 && i < n; i++) {
    struct size_sum sum = {0};
    r = image_walk(s, &names[i].target, add_size, &sum, err);
    char size[32];
    cli_human_size(sum.bytes, size, sizeof(size));
    if (r == 0)
      printf("%-*s   %.12s   %s\n", w, names[i].name,
             image_digest_hex(&names[i].target.digest), size);
  }
  image_names_free(names, n);
  return r;
}

static int image_inspect(struct image_store *s, const struct image_options *o,
                         char **args, hull_error_t *err) {
  if (args[0] == NULL || args[1] != NULL)
    return hull_error(err, 0, "image inspect: expects one image");
  struct image_platform platform = {0};
  if (o->platform && image_platform_parse(o->platform, &platform, err) < 0)
    return -1;
  struct image_resolved r;
  int ret = image_resolve(s, args[0], o->platform ? &platform : NULL, &r, err);
  image_platform_clear(&platform);
  if (ret < 0)
    return -1;
  yajl_gen g = json_gen_new(true);
  yajl_gen_map_open(g);
  json_gen_string(g, "names");
  yajl_gen_array_open(g);
  for (char **n = r.names; n && *n; n++)
    json_gen_string(g, *n);
  yajl_gen_array_close(g);
  image_descriptor_fields_to_json(g, &r.target);
  gen_document(g, "index", r.raw_index);
  json_gen_string(g, "manifestDigest");
  json_gen_string(g, r.manifest_desc.digest.text);
  gen_document(g, "manifest", r.raw_manifest);
  gen_document(g, "config", r.raw_config);
  yajl_gen_map_close(g);
  cleanup_free char *json = json_gen_finish(g);
  printf("%s\n", json);
  image_resolved_clear(&r);
  return 0;
}

static int image_tag(struct image_store *s, char **args, hull_error_t *err) {
  if (args[0] == NULL || args[1] == NULL || args[2] != NULL)
    return hull_error(err, 0, "image tag: expects an image and a new name");
  cleanup_free char *name = NULL;
  if (image_ref_normalize(args[1], &name, err) < 0)
    return -1;
  if (strchr(name, '@'))
    return hull_error(err, 0, "image name \"%s\": a new name cannot carry a "
                              "digest", args[1]);
  struct image_descriptor target;
  if (image_refs_lookup(s, args[0], &target, err) < 0)
    return -1;
  char *names[] = {name, NULL};
  int r = image_refs_set(s, names, &target, err);
  image_descriptor_clear(&target);
  return r;
}

static int image_rm(struct image_store *s, char **args, hull_error_t *err) {
  if (args[0] == NULL)
    return hull_error(err, 0, "image rm: expects at least one image");
  for (char **a = args; *a; a++) {
    cleanup_strv char **removed = NULL;
    if (image_refs_remove(s, *a, &removed, err) < 0)
      return -1;
    for (char **n = removed; n && *n; n++)
      printf("Untagged: %s\n", *n);
  }
  return 0;
}

/* What bundles made from images use (their .hull-image records): gc keeps
 * it, whether or not a name still reaches it. */
struct bundles_in_use {
  char **blobs;
  char **layers;
};

static void collect_bundle(const char *bundle, struct bundles_in_use *u) {
  cleanup_strv char **lines = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (image_bundle_record(bundle, &lines, &ignored) < 0)
    return;
  for (char **l = lines; *l; l++)
    if (strncmp(*l, "blob ", 5) == 0)
      strv_append(&u->blobs, *l + 5);
    else if (strncmp(*l, "layer ", 6) == 0)
      strv_append(&u->layers, *l + 6);
}

/* Each bundle under root/sub: containers/<id>/ of `run --image`, or a
 * mounts/ link to a bundle of `image mount`. */
/* A bundle of `run --image` whose container never came to be: its run
 * was killed before create recorded the container (the record's "state
 * ROOT ID" holds none) and that run ("pid P") is gone. */
static bool abandoned(const char *bundle) {
  cleanup_strv char **lines = NULL;
  cleanup_error hull_error_t ignored = NULL;
  if (image_bundle_record(bundle, &lines, &ignored) < 0)
    return false;
  const char *state = NULL;
  long pid = 0;
  for (char **l = lines; *l; l++)
    if (strncmp(*l, "state ", 6) == 0)
      state = *l + 6;
    else if (strncmp(*l, "pid ", 4) == 0)
      pid = strtol(*l + 4, NULL, 10);
  const char *space = state ? strrchr(state, ' ') : NULL;
  if (space == NULL || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
    return false;
  cleanup_free char *root = xstrndup(state, (size_t)(space - state));
  cleanup_free char *json = NULL;
  return container_state(root, space + 1, &json, &ignored) < 0;
}

static void remove_abandoned(const char *bundle) {
  cleanup_error hull_error_t err = NULL;
  if (image_bundle_remove(bundle, &err) < 0 || rmdir(bundle) < 0)
    log_warning("gc: could not remove the bundle `%s`: %s", bundle,
                err ? err->msg : strerror(errno));
  else
    printf("deleted: bundle %s\n", bundle);
}

static void collect_bundles(const char *root, const char *sub,
                            struct bundles_in_use *u) {
  cleanup_free char *dir = xasprintf("%s/%s", root, sub);
  DIR *d = opendir(dir);
  if (d == NULL)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    cleanup_free char *bundle = xasprintf("%s/%s", dir, e->d_name);
    if (strcmp(sub, "containers") == 0 && abandoned(bundle))
      remove_abandoned(bundle);
    else
      collect_bundle(bundle, u);
  }
  closedir(d);
}

static bool listed(char **v, const struct image_digest *d) {
  for (; v && *v; v++)
    if (strcmp(*v, d->text) == 0)
      return true;
  return false;
}

static bool blob_in_use(const struct image_digest *d, void *arg) {
  return listed(((struct bundles_in_use *)arg)->blobs, d);
}

static bool layer_in_use(const struct image_digest *d, void *arg) {
  return listed(((struct bundles_in_use *)arg)->layers, d);
}

static int image_gc(const struct image_options *o, char **args,
                    hull_error_t *err) {
  if (args[0] != NULL)
    return hull_error(err, 0, "image gc: takes no arguments");
  struct image_store *s = NULL;
  if (image_store_open(o->root, IMAGE_STORE_EXCLUSIVE, &s, err) < 0)
    return -1;
  /* Read with the store held exclusively: no run is making a bundle. */
  struct bundles_in_use u = {0};
  collect_bundles(o->root, "containers", &u);
  collect_bundles(o->root, "mounts", &u);
  struct image_gc_hooks hooks = {.blob_in_use = blob_in_use,
                                 .layer_in_use = layer_in_use, .arg = &u};
  cleanup_strv char **removed = NULL;
  int64_t bytes = 0;
  int r = image_store_gc(s, &hooks, &removed, &bytes, err);
  image_store_close(s);
  strv_free(u.blobs);
  strv_free(u.layers);
  if (r < 0)
    return -1;
  for (char **d = removed; d && *d; d++)
    printf("deleted: %s\n", *d);
  char size[32];
  cli_human_size(bytes, size, sizeof(size));
  printf("Total reclaimed space: %s\n", size);
  return 0;
}

static int image_mount(const struct image_options *o, char **args,
                       hull_error_t *err) {
  if (args[0] == NULL || args[1] == NULL || args[2] != NULL)
    return hull_error(err, 0, "image mount: expects an image and a bundle "
                              "directory");
  struct image_store *s = NULL;
  if (image_store_open(o->root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  struct image_run_options run = {
      .id_maps = o->maps.n_uid > 0 ? &o->maps : NULL};
  int r = image_bundle_make(s, args[0], args[1], &run,
                            image_rootfs_mode_from_env(o->copy), "mount",
                            NULL, err);
  image_store_close(s);
  return r;
}

static int image_umount(char **args, hull_error_t *err) {
  if (args[0] == NULL || args[1] != NULL)
    return hull_error(err, 0, "image umount: expects a bundle directory");
  if (!image_bundle_owned_by(args[0], "mount"))
    return hull_error(err, 0, "bundle `%s`: not made by hull image mount",
                      args[0]);
  return image_bundle_remove(args[0], err);
}

/* The verbs that only read or name: the store open shared. */
static int with_store(const char *sub, const struct image_options *o,
                      char **args, hull_error_t *err) {
  struct image_store *s = NULL;
  if (image_store_open(o->root, IMAGE_STORE_SHARED, &s, err) < 0)
    return -1;
  int r;
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0)
    r = image_ls(s, args, err);
  else if (strcmp(sub, "inspect") == 0)
    r = image_inspect(s, o, args, err);
  else if (strcmp(sub, "tag") == 0)
    r = image_tag(s, args, err);
  else
    r = image_rm(s, args, err);
  image_store_close(s);
  return r;
}

static int parse_options(int argc, char **argv, struct image_options *o,
                         hull_error_t *err) {
  enum { OPT_IMAGE_ROOT = 256, OPT_NAME, OPT_PLATFORM, OPT_INSECURE,
         OPT_CREDS, OPT_COPY, OPT_CERT_DIR, OPT_TLS_VERIFY, OPT_UIDMAP,
         OPT_GIDMAP };
  static const struct option opts[] = {
      {"image-root", required_argument, NULL, OPT_IMAGE_ROOT},
      {"name", required_argument, NULL, OPT_NAME},
      {"platform", required_argument, NULL, OPT_PLATFORM},
      {"insecure", no_argument, NULL, OPT_INSECURE},
      {"creds", required_argument, NULL, OPT_CREDS},
      {"cert-dir", required_argument, NULL, OPT_CERT_DIR},
      {"tls-verify", optional_argument, NULL, OPT_TLS_VERIFY},
      {"copy", no_argument, NULL, OPT_COPY},
      {"uidmap", required_argument, NULL, OPT_UIDMAP},
      {"gidmap", required_argument, NULL, OPT_GIDMAP},
      {NULL, 0, NULL, 0},
  };
  cli_flags_first(argc, argv, "", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    switch (c) {
    case OPT_IMAGE_ROOT: o->root = optarg; break;
    case OPT_NAME: o->name = optarg; break;
    case OPT_PLATFORM: o->platform = optarg; break;
    case OPT_INSECURE: o->insecure = true; break;
    case OPT_CREDS: o->creds = optarg; break;
    case OPT_CERT_DIR: o->cert_dir = optarg; break;
    case OPT_TLS_VERIFY: o->tls_verify = optarg ? optarg : "true"; break;
    case OPT_COPY: o->copy = true; break;
    case OPT_UIDMAP:
    case OPT_GIDMAP:
      if (image_id_maps_add(&o->maps, c == OPT_UIDMAP ? "--uidmap"
                                                       : "--gidmap",
                            optarg, err) < 0)
        return -1;
      break;
    default:
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  return image_id_maps_finish(&o->maps, err) < 0 ? -1 : optind;
}

/* podman's --tls-verify[=BOOL]: false is --insecure. */
static int tls_verify_option(struct image_options *o, hull_error_t *err) {
  if (o->tls_verify == NULL)
    return 0;
  if (strcmp(o->tls_verify, "false") == 0) {
    o->insecure = true;
    return 0;
  }
  if (strcmp(o->tls_verify, "true") != 0)
    return hull_error(err, 0, "image pull: --tls-verify: expects true or "
                              "false, not \"%s\"", o->tls_verify);
  if (o->insecure)
    return hull_error(err, 0, "image pull: --insecure and --tls-verify=true "
                              "contradict each other");
  return 0;
}

int cmd_image(const struct global_options *g, int argc, char **argv,
              hull_error_t *err) {
  struct image_options o = {.root = IMAGE_DEFAULT_ROOT};
  int first = parse_options(argc, argv, &o, err);
  if (first < 0)
    return -1;
  const char *sub = first < argc ? argv[first] : NULL;
  char **args = argv + first + (sub ? 1 : 0);
  if (sub == NULL)
    return hull_error(err, 0, "image: expects one of import, pull, ls, "
                              "inspect, tag, rm, gc, mount, umount");
  /* Every image command verifies digests: a missing libcrypto is an
   * error here, not an abort half-way. */
  if (image_digests_load(err) < 0)
    return -1;
  if (o.name && strcmp(sub, "import") != 0)
    return hull_error(err, 0, "image %s: --name is for import", sub);
  if (o.platform && strcmp(sub, "inspect") != 0 && strcmp(sub, "pull") != 0)
    return hull_error(err, 0, "image %s: --platform is for inspect and pull",
                      sub);
  const char *pull_flag = o.insecure     ? "insecure"
                          : o.creds      ? "creds"
                          : o.cert_dir   ? "cert-dir"
                          : o.tls_verify ? "tls-verify"
                                         : NULL;
  if (pull_flag && strcmp(sub, "pull") != 0)
    return hull_error(err, 0, "image %s: --%s is for pull", sub, pull_flag);
  if (tls_verify_option(&o, err) < 0)
    return -1;
  if (o.copy && strcmp(sub, "mount") != 0)
    return hull_error(err, 0, "image %s: --copy is for mount", sub);
  if (o.maps.n_uid > 0 && strcmp(sub, "mount") != 0)
    return hull_error(err, 0, "image %s: --uidmap and --gidmap are for mount",
                      sub);
  if (strcmp(sub, "mount") == 0)
    return image_mount(&o, args, err) < 0 ? -1 : 0;
  if (strcmp(sub, "umount") == 0 || strcmp(sub, "unmount") == 0)
    return image_umount(args, err) < 0 ? -1 : 0;
  if (strcmp(sub, "import") == 0)
    return cmd_image_import(&o, args, err) < 0 ? -1 : 0;
  if (strcmp(sub, "pull") == 0)
    return cmd_image_pull(&o, args, err) < 0 ? -1 : 0;
  if (strcmp(sub, "gc") == 0)
    return image_gc(&o, args, err) < 0 ? -1 : 0;
  if (strcmp(sub, "ls") == 0 || strcmp(sub, "list") == 0 ||
      strcmp(sub, "inspect") == 0 || strcmp(sub, "tag") == 0 ||
      strcmp(sub, "rm") == 0)
    return with_store(sub, &o, args, err) < 0 ? -1 : 0;
  return hull_error(err, 0, "image: unknown command \"%s\" (import, pull, "
                            "ls, inspect, tag, rm, gc, mount, umount)", sub);
}
