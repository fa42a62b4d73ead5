/* images.h — what hull does with OCI images (image-spec 1.x): digests,
 * the content-addressed store, layers, and bundles made from images.
 *
 * Files: digest.c (sha256/sha512 over OpenSSL's libcrypto, loaded on first
 * use, streaming); convert.c (an image config -> a runtime config.json,
 * image-spec conversion.md); layer.c (a layer blob unpacked for overlayfs,
 * libarchive loaded lazily), layer-path.c (where a layer entry may land:
 * beneath the layer directory). */
#ifndef HULL_IMAGES_H
#define HULL_IMAGES_H

#include "runtime/common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- digests (digest.c) ------------------------------------------------- */

/* "sha256:" or "sha512:" and the lowercase hex, as descriptors write it. */
#define IMAGE_DIGEST_MAX (7 + 128 + 1)

enum image_digest_algorithm { IMAGE_SHA256, IMAGE_SHA512 };

struct image_digest {
  enum image_digest_algorithm algorithm;
  char text[IMAGE_DIGEST_MAX];   /* "sha256:9f86d0..." */
};

/* Checks the descriptor syntax (descriptor.md: algorithm ":" encoded, the
 * encoded part lowercase hex of the algorithm's length) and fills *out;
 * "digest \"x\": not an OCI digest (sha256:<64 hex> or sha512:<128 hex>)". */
int image_digest_parse(const char *text, struct image_digest *out,
                       hull_error_t *err);
/* The hex part of d (after the colon). */
const char *image_digest_hex(const struct image_digest *d);

/* Loads libcrypto, which hashing needs (once per process): "images:
 * digests need libcrypto (apt-get install libssl3): libcrypto.so.3: not
 * loadable: ...". A command that hashes calls it first, for an error; the
 * functions below load it themselves, and abort with that message when
 * they cannot. */
int image_digests_load(hull_error_t *err);

/* A digest computed over bytes fed in pieces. */
struct image_hasher;
struct image_hasher *image_hasher_new(enum image_digest_algorithm a);
void image_hasher_update(struct image_hasher *h, const void *data, size_t len);
/* Ends the stream: *out gets the digest, h is freed. */
void image_hasher_finish(struct image_hasher *h, struct image_digest *out);
/* Frees h without a result (an error path). */
void image_hasher_free(struct image_hasher *h);

/* The digest of len bytes at data. */
void image_digest_of(enum image_digest_algorithm a, const void *data,
                     size_t len, struct image_digest *out);

/* ---- runtime config from an image config (convert.c) ------------------- */

/* What becomes of the image's Config.Volumes. */
enum image_volume_mode {
  /* Each volume a tmpfs seeded with the image's content at that path
   * (`tmpcopyup`), so the container's data stays out of its rootfs and goes
   * with it, as conversion.md asks (the default: 0). */
  IMAGE_VOLUMES_TMPFS,
  /* Left out: the paths stay plain directories of the rootfs. */
  IMAGE_VOLUMES_NONE,
  /* Each volume /a/b a bind of <volumes_dir>/a/b (rbind, rw), to keep the
   * data after the container; the caller makes those directories (the
   * config's bind sources under volumes_dir) before create. */
  IMAGE_VOLUMES_BIND,
};

/* The caller's side of the conversion: conversion.md's "externally provided
 * inputs", which win over the image's values. Zeroed means: the image's
 * command, no terminal, tmpfs volumes, no network of hull's. */
struct image_run_options {
  char **args;              /* replaces Config.Cmd (Entrypoint stays);
                               NULL or empty: the image's Cmd */
  char **env;               /* KEY=VALUE set over the image's Env; NULL: none */
  const char *hostname;     /* NULL: `hull spec`'s */
  bool terminal;            /* process.terminal; also sets TERM=xterm unless
                               the image's Env has TERM */
  bool rootless;            /* start from `hull spec --rootless` */
  bool readonly_rootfs;     /* root.readonly (images run writable: false) */
  enum image_volume_mode volumes;
  const char *volumes_dir;  /* IMAGE_VOLUMES_BIND: an absolute host path */
  /* A network of hull's (hull-network(8)): run.oci.network=bridge, on
   * network_name's bridge (NULL: hull0), publishing `ports` (the
   * run.oci.network.ports syntax, "8080:80/tcp,..."; "": none), or when
   * ports is NULL each Config.ExposedPorts port on the same host port
   * ("80/tcp" -> "80:80/tcp"; a protocol other than tcp or udp is an error
   * then). network_name and ports are ignored without network. */
  bool network;
  const char *network_name;
  const char *ports;
};

/* Writes to *out (free it) the config.json text for a container of the
 * image whose config blob is config_json, with its root filesystem at the
 * absolute path rootfs: `hull spec`'s default config (spec_default_json)
 * with, per image-spec conversion.md:
 *   process.args      Config.Entrypoint + (o->args, else Config.Cmd)
 *   process.env       the default's PATH (and TERM with a terminal), each
 *                     replaced by the image's variable of that name; then
 *                     Config.Env; then o->env, each replacing its name
 *   process.cwd       Config.WorkingDir, "/" when unset
 *   process.user      Config.User resolved against the rootfs's /etc/passwd
 *                     and /etc/group, read inside the rootfs (symlinks
 *                     cannot lead out of it): "user" gives its uid, gid
 *                     and the groups that list it as additionalGids;
 *                     "uid" its passwd gid (0 when not in passwd); with
 *                     ":group" or ":gid" that gid and no additional ones;
 *                     unset: 0:0
 *   root              {path: rootfs, readonly: o->readonly_rootfs}
 *   mounts            the default's, then one per Config.Volumes path
 *                     (o->volumes), the path cleaned of "." and "..",
 *                     parents first
 *   annotations       org.opencontainers.image.{os,architecture,variant,
 *                     os.version,os.features,author,created,stopSignal,
 *                     exposedPorts} from the config, then Config.Labels
 *                     over them, leaving out labels named run.oci.* (hull
 *                     obeys those: an image must not pick its handler or
 *                     publish host ports); then o's run.oci.network*
 * The image's os must be linux and its architecture the host's. Errors are
 * one line naming the field: `config.User "x": no such user in
 * /etc/passwd`, `architecture "arm64": the image is not for this host
 * (amd64)`, `image config: invalid JSON: ...`. */
int image_runtime_config(const char *config_json, const char *rootfs,
                         const struct image_run_options *o, char **out,
                         hull_error_t *err);

/* The host's architecture as image configs name it (Go's GOARCH: amd64,
 * arm64, 386, arm, ppc64le, s390x, riscv64, ...). */
const char *image_host_architecture(void);
/* ---- layers (layer.c, layer-path.c) --------------------------------- */

struct image_layer_unpacked {
  struct image_digest diff_id; /* sha256 of the uncompressed tar */
  uint64_t bytes;              /* the uncompressed tar's length */
};

/* Unpacks the layer blob read from fd into dest, an empty directory the
 * caller made, as an overlayfs lower directory, and computes its diff_id on
 * the way (sha256 of the uncompressed tar, padding included).
 *
 * media_type: application/vnd.oci.image.layer.v1.tar, +gzip or +zstd (and
 * the deprecated nondistributable ones), or docker's
 * application/vnd.docker.image.rootfs.diff.tar.gzip; the data must be
 * compressed as it says.
 *
 * Kept: regular (also sparse) files, directories, symlinks, hard links to
 * earlier entries, character and block devices, fifos; uid/gid as in the
 * tar; modes with setuid/setgid/sticky; mtimes (of directories too, set
 * last); xattrs (security.capability included, set after the chown that
 * would clear it; trusted.overlay.* and user.overlay.* are dropped with a
 * warning: overlayfs reads them). `.wh.NAME` becomes an overlayfs whiteout
 * (a 0:0 character device), `.wh..wh..opq` the trusted.overlay.opaque=y
 * xattr on its directory (a whiteout for a name the layer itself holds
 * hides nothing). A later entry replaces what an earlier one made at its
 * name (a directory over a directory keeps the contents).
 *
 * Nothing is ever written outside dest. Names are made relative (a leading
 * "/" and "." components dropped, so "/etc/passwd" lands at
 * dest/etc/passwd); refused: a ".." above dest, a parent reached through a
 * symlink that leaves dest (an earlier "a -> /etc", then "a/passwd"), a
 * hard link to outside or through such a symlink:
 * `layer entry "../../etc/passwd": escapes the layer directory`. Symlinks
 * that stay inside dest are followed, as any tar does. Without CAP_MKNOD a
 * device is skipped with a warning (rootless engines do the same);
 * whiteouts need no CAP_MKNOD (Linux 5.8).
 *
 * Errors are one line naming the entry, or "layer data: ..." for a
 * corrupt or truncated stream. On error dest holds a partial layer: the
 * caller removes it. Needs root (or a user namespace covering the tar's
 * ids) for ownership, CAP_SYS_ADMIN for trusted.* xattrs. */
int image_layer_unpack(int fd, const char *media_type, const char *dest,
                       struct image_layer_unpacked *out, hull_error_t *err);

/* Internals of layer.c, in layer-path.c. */

/* raw made relative: leading "/", "." and empty components dropped, ".."
 * applied; "" is dest itself. -1 when a ".." climbs above dest. */
int layer_path_clean(const char *raw, char **out);
/* openat2(dest_fd, path, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): EXDEV
 * when it would leave dest. Before Linux 5.6 (or under valgrind, which
 * lacks openat2): a walk with O_NOFOLLOW on every component, so a symlink
 * anywhere on the path is refused (ELOOP), even one that stays inside. */
int layer_open_beneath(int dest_fd, const char *path, int flags, mode_t mode);
/* The walk layer_open_beneath falls back to; exposed so tests can run it on
 * a kernel that has openat2. */
int layer_open_walk(int dest_fd, const char *path, int flags, mode_t mode);
/* The parent directory of clean (O_PATH), its missing components made
 * (0755); *base: the last component. Errors name entry. */
int layer_open_parent(int dest_fd, const char *entry, const char *clean,
                      const char **base, hull_error_t *err);
/* One line naming the entry for errno e from a resolution: EXDEV
 * "layer entry \"<entry>\": [<what> ]escapes the layer directory", ELOOP
 * "...goes through a symlink hull does not follow (...)", else
 * "layer entry \"<entry>\": <what, or open>: <strerror(e)>". */
int layer_entry_error(const char *entry, const char *what, int e,
                      hull_error_t *err);

#endif
