/* images.h — what hull does with OCI images (image-spec 1.x): digests,
 * the content-addressed store, layers, and bundles made from images.
 *
 * Files: digest.c (sha256/sha512 over OpenSSL's libcrypto, loaded on first
 * use, streaming); store.c (content-addressed blobs, written once under a
 * lock); manifest.c (index, manifest and config JSON checked against the
 * image-spec); platform.c (os/arch[/variant], choosing from an index);
 * resolve.c (documents read back from the store, walks, name -> manifest +
 * config); refs.c (names -> descriptors, docker's name normalisation);
 * import.c (OCI image layout directories); oci-archive.c (tars of them);
 * docker-archive.c (docker save's format, made a layout); registry.c (the
 * distribution API over libcurl, loaded lazily); pull.c (an image from a
 * registry into the store); gc.c (blobs no
 * name reaches); layer.c (a layer blob unpacked for overlayfs, libarchive
 * loaded lazily), layer-path.c (where a layer entry may land: beneath the
 * layer directory); convert.c (an image config -> a runtime config.json,
 * image-spec conversion.md); layers.c (layers unpacked once into the
 * store, shared by bundles); bundle.c (a runtime bundle made from an
 * image: overlayfs or a full copy, config.json, the record gc reads);
 * idmap.c (--uidmap/--gidmap: their syntax, and the layers' idmapped
 * clones that a user-namespaced container's overlayfs is made of). */
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

/* ---- user namespace maps (idmap.c) ----------------------------------------
 * A container of an image in a user namespace of its own: podman's
 * --uidmap/--gidmap CONTAINER_ID:HOST_ID:SIZE, each repeatable. */
struct spec_id_mapping; /* runtime/spec/spec.h */
struct image_id_maps {
  struct spec_id_mapping *uid, *gid;
  size_t n_uid, n_gid;
};
/* Adds one flag's text to m (flag "--uidmap" or "--gidmap" says which
 * list). Errors name the flag: `--uidmap "0:1": expected
 * CONTAINER_ID:HOST_ID:SIZE`. */
int image_id_maps_add(struct image_id_maps *m, const char *flag,
                      const char *text, hull_error_t *err);
/* After the flags: a list not given is the other's (as podman), and
 * ranges of one list must not overlap on either side. */
int image_id_maps_finish(struct image_id_maps *m, hull_error_t *err);
void image_id_maps_clear(struct image_id_maps *m);
/* The host uid (gid) the container's id has; 65534, the kernel's overflow
 * id, when the maps leave it out. */
uint32_t image_id_maps_host_uid(const struct image_id_maps *m, uint32_t id);
uint32_t image_id_maps_host_gid(const struct image_id_maps *m, uint32_t id);

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
   * then). network_name and ports are ignored without network.
   * network_mode "pasta" or "slirp4netns" (NULL: bridge) asks for that
   * user-mode helper instead, with the same ports (network_name unused). */
  bool network;
  const char *network_mode;
  const char *network_name;
  const char *ports;
  /* A user namespace with these maps (linux.uidMappings/gidMappings and a
   * "user" namespace); NULL: none. image_bundle_make idmaps the layers. */
  const struct image_id_maps *id_maps;
  /* KEY=VALUE each, set over the image's annotations and labels (run.oci.*
   * too: the caller picks the handler, e.g. run.oci.handler=vm); NULL:
   * none. The network's run.oci.network* above win over these. */
  char **annotations;
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
 *                     publish host ports); then o->annotations; then
 *                     o's run.oci.network*
 *   linux             with o->id_maps: uidMappings and gidMappings, and
 *                     a "user" namespace among the default's
 * The image's os must be linux and its architecture the host's. Errors are
 * one line naming the field: `config.User "x": no such user in
 * /etc/passwd`, `annotation "x": expected KEY=VALUE`, `architecture
 * "arm64": the image is not for this host (amd64)`, `image config: invalid
 * JSON: ...`. */
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
/* ---- the store (store.c) ------------------------------------------------
 * <root>/blobs/<alg>/<hex>   a blob, mode 0444, only ever complete: it is
 *                            written to tmp/, checked, fsynced and renamed
 * <root>/tmp/<alg>-<hex>     a blob being written; the writer holds an flock
 *                            on it, so it is also the blob's lock. Left by a
 *                            killed writer (or kept by a failed download),
 *                            a pull goes on from its end, another writer
 *                            truncates it, and gc removes it.
 * <root>/tmp/...             also refs.json-<pid> (a names update) and
 *                            archive-XXXXXX/ (an archive being imported): all
 *                            a killed command can leave; gc empties tmp/.
 * <root>/lock                flock: every command holds it shared while the
 *                            store is open, gc exclusively (so gc never sees
 *                            a blob stored but not yet named)
 * <root>/refs.json           names (refs.c), replaced by rename under
 *                            <root>/refs.lock
 * Blobs are verified (size and digest) when written. Reading a JSON blob
 * (image_store_read_blob) verifies it again; image_store_open_blob checks
 * the size and hashes the content when asked (a layer's unpacking can hash
 * as it reads instead). Errors about a blob name it:
 *   "blob sha256:<hex>: size 10 does not match the descriptor's 12"
 *   "blob sha256:<hex>: content does not match its digest" */

#define IMAGE_DEFAULT_ROOT "/var/lib/hull/images"

struct image_store;

enum image_store_mode {
  IMAGE_STORE_SHARED,     /* import, pull, ls, inspect, tag, rm, run */
  IMAGE_STORE_EXCLUSIVE,  /* gc */
};

/* Opens (making it when missing) the store at root and takes its lock. */
int image_store_open(const char *root, enum image_store_mode mode,
                     struct image_store **out, hull_error_t *err);
void image_store_close(struct image_store *s);
const char *image_store_root(const struct image_store *s);
/* The store's root directory (for openat). */
int image_store_dirfd(const struct image_store *s);

/* Whether the blob is stored (by its name; it was verified when written). */
bool image_store_has(struct image_store *s, const struct image_digest *d);
/* "blobs/sha256/<hex>", relative to the root (free it). */
char *image_store_blob_path(const struct image_digest *d);

/* Writing a blob in pieces (a download): begin returns 1 with *out when the
 * caller is to write it, 0 when the blob is stored already (perhaps by a
 * process it waited for: concurrent writers of one blob write it once).
 * write fails once more than size bytes came; commit checks size and
 * digest, fsyncs and renames, and frees w; abort drops it. Either way the
 * temp file is gone or left only for the next writer or gc.
 * resume is begin for a download that can go on where an earlier one
 * stopped: the temp file's content is kept and hashed, and offset says
 * how many bytes are there (the Range to ask for); restart empties it (a
 * server that sent the whole blob instead); keep closes w leaving the
 * temp file for the next resume (or gc). */
struct image_blob_writer;
int image_blob_writer_begin(struct image_store *s, const struct image_digest *d,
                            int64_t size, struct image_blob_writer **out,
                            hull_error_t *err);
int image_blob_writer_write(struct image_blob_writer *w, const void *data,
                            size_t len, hull_error_t *err);
int image_blob_writer_commit(struct image_blob_writer *w, hull_error_t *err);
void image_blob_writer_abort(struct image_blob_writer *w);
int image_blob_writer_resume(struct image_store *s,
                             const struct image_digest *d, int64_t size,
                             struct image_blob_writer **out,
                             hull_error_t *err);
int64_t image_blob_writer_offset(const struct image_blob_writer *w);
int image_blob_writer_restart(struct image_blob_writer *w, hull_error_t *err);
void image_blob_writer_keep(struct image_blob_writer *w);

/* Stores what fd holds (read to its end; a regular file's size is checked
 * before a byte is copied), or the len bytes at data. 0 also when the blob
 * was there. */
int image_store_put_fd(struct image_store *s, const struct image_digest *d,
                       int64_t size, int fd, hull_error_t *err);
int image_store_put_bytes(struct image_store *s, const struct image_digest *d,
                          int64_t size, const void *data, size_t len,
                          hull_error_t *err);

/* A whole blob, verified, NUL-terminated (for JSON); refused above
 * IMAGE_JSON_MAX bytes. */
#define IMAGE_JSON_MAX (4 << 20)
int image_store_read_blob(struct image_store *s, const struct image_digest *d,
                          int64_t size, char **data, size_t *len,
                          hull_error_t *err);
/* An fd on the blob, at offset 0, whose size was checked; verify_content
 * also reads it through once to check its digest. */
int image_store_open_blob(struct image_store *s, const struct image_digest *d,
                          int64_t size, bool verify_content, int *fd,
                          hull_error_t *err);

/* ---- index, manifest and config JSON (manifest.c) ------------------------
 * Parsed and checked against the image-spec (and Docker's schema 2, which
 * registries still serve). `what` names the document in errors, which read
 * "<what>: <field>: <problem>", e.g.
 *   "manifest sha256:<hex>: .layers[0].digest: missing". */

#define IMAGE_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_LAYOUT_HEADER "application/vnd.oci.layout.header.v1+json"
#define IMAGE_MT_DOCKER_LIST \
  "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MT_DOCKER_MANIFEST \
  "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define IMAGE_ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"

enum image_media_kind {
  IMAGE_KIND_OTHER,     /* stored and copied as bytes, never parsed */
  IMAGE_KIND_INDEX,     /* OCI index or Docker manifest list */
  IMAGE_KIND_MANIFEST,  /* OCI or Docker schema 2 manifest */
  IMAGE_KIND_CONFIG,    /* OCI or Docker image config */
  IMAGE_KIND_LAYER,     /* tar, tar+gzip, tar+zstd (OCI or Docker) */
};
enum image_media_kind image_media_kind(const char *media_type);

struct image_platform {
  char *os;             /* NULL: the descriptor has no platform */
  char *architecture;
  char *variant;        /* NULL when none */
};

struct image_descriptor {
  char *media_type;
  struct image_digest digest;
  int64_t size;
  struct image_platform platform;   /* index entries */
  char *ref_name;       /* the org.opencontainers.image.ref.name annotation,
                           or io.containerd.image.name (a whole name, as
                           containerd and Docker 25 write) when present */
};

struct image_index {
  char *media_type;     /* the document's own; NULL when absent */
  struct image_descriptor *manifests;
  size_t n_manifests;
};

struct image_manifest {
  char *media_type;     /* the document's own, or the OCI one when absent */
  struct image_descriptor config;
  struct image_descriptor *layers;
  size_t n_layers;
};

struct image_config {
  struct image_platform platform;
  struct image_digest *diff_ids;
  size_t n_diff_ids;
};

/* A descriptor object at JSON path `path` of document `what`; to_json
 * writes mediaType, digest and size. */
int image_descriptor_parse(const char *what, const char *path, yajl_val v,
                           struct image_descriptor *out, hull_error_t *err);
void image_descriptor_to_json(yajl_gen g, const struct image_descriptor *d);
/* The same three members, into a map the caller has open. */
void image_descriptor_fields_to_json(yajl_gen g,
                                     const struct image_descriptor *d);
void image_descriptor_clear(struct image_descriptor *d);
void image_descriptor_copy(struct image_descriptor *to,
                           const struct image_descriptor *from);
void image_platform_clear(struct image_platform *p);
int image_index_parse(const char *what, const char *json,
                      struct image_index **out, hull_error_t *err);
void image_index_free(struct image_index *ix);
int image_manifest_parse(const char *what, const char *json,
                         struct image_manifest **out, hull_error_t *err);
void image_manifest_free(struct image_manifest *m);
/* Requires architecture, os and rootfs {type "layers", diff_ids}; the rest
 * of the config (Entrypoint, Env, ...) is conversion's business. */
int image_config_parse(const char *what, const char *json,
                       struct image_config **out, hull_error_t *err);
void image_config_free(struct image_config *c);

/* ---- platforms (platform.c) ------------------------------------------------ */

/* "os/arch[/variant]" ("linux/arm64/v8"); the host's as Go names it
 * (GOOS/GOARCH: x86_64 -> linux/amd64, aarch64 -> linux/arm64, ...). */
int image_platform_parse(const char *text, struct image_platform *out,
                         hull_error_t *err);
void image_platform_host(struct image_platform *out);
char *image_platform_format(const struct image_platform *p);
/* Whether have is want: os and architecture equal, and the variant when
 * want has one (arm64's "" and "v8" are the same). */
bool image_platform_matches(const struct image_platform *have,
                            const struct image_platform *want);
/* The entry of ix for platform want (image_platform_matches). */
int image_index_select(const char *what, const struct image_index *ix,
                       const struct image_platform *want,
                       const struct image_descriptor **out,
                       hull_error_t *err);

/* ---- images in the store (resolve.c) ------------------------------------- */

/* An image as a name or digest leads to it: the descriptor the name
 * holds, the index when that is one, and the manifest for platform (NULL:
 * the host's) with its config, all read verified from the store. raw_*
 * keep the documents' text. */
struct image_resolved {
  char **names;                 /* every name of the target */
  struct image_descriptor target;
  struct image_index *index;    /* NULL unless target is an index */
  struct image_descriptor manifest_desc;
  struct image_manifest *manifest;
  struct image_config *config;
  char *raw_index, *raw_manifest, *raw_config;
};
int image_resolve(struct image_store *s, const char *ref,
                  const struct image_platform *platform,
                  struct image_resolved *out, hull_error_t *err);
void image_resolved_clear(struct image_resolved *r);
/* Calls visit for d and every descriptor below it whose blob is stored (an
 * index's every entry, a manifest's config and layers), depth first;
 * visit's negative return stops the walk. */
typedef int (*image_visit_fn)(const struct image_descriptor *d, void *arg,
                              hull_error_t *err);
int image_walk(struct image_store *s, const struct image_descriptor *d,
               image_visit_fn visit, void *arg, hull_error_t *err);
/* Reads a blob of the store as the descriptor's kind ("<kind> <digest>" in
 * errors), checking the document's own mediaType against d's. */
int image_load_index(struct image_store *s, const struct image_descriptor *d,
                     struct image_index **out, char **raw, hull_error_t *err);
int image_load_manifest(struct image_store *s,
                        const struct image_descriptor *d,
                        struct image_manifest **out, char **raw,
                        hull_error_t *err);

/* ---- names (refs.c) -------------------------------------------------------
 * refs.json: {"names": {"docker.io/library/debian:12": {descriptor}}}, one
 * file replaced by rename under refs.lock, so readers never see half. */

/* Docker's normalisation: "debian" -> "docker.io/library/debian:latest",
 * "quay.io/a/b" -> "quay.io/a/b:latest", "x/y:1" -> "docker.io/x/y:1";
 * NAME@sha256:... keeps its digest (and a tag before it). */
int image_ref_normalize(const char *ref, char **out, hull_error_t *err);
/* Whether text is a tag on its own ("1.0", "latest": docker's tag grammar,
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}). */
bool image_ref_is_tag(const char *text);

struct image_name {
  char *name;
  struct image_descriptor target;
};
/* Every name, sorted. */
int image_refs_list(struct image_store *s, struct image_name **out,
                    size_t *n, hull_error_t *err);
void image_names_free(struct image_name *names, size_t n);
/* Points each of names (normalised already) at target, in one update. */
int image_refs_set(struct image_store *s, char *const *names,
                   const struct image_descriptor *target, hull_error_t *err);
/* What ref leads to: a name (normalised first), a digest, NAME@DIGEST, or
 * a hex prefix of one named image's digest (12 digits, as ls shows). */
int image_refs_lookup(struct image_store *s, const char *ref,
                      struct image_descriptor *out, hull_error_t *err);
/* Removes the name ref; a digest (or prefix) removes every name of it.
 * *removed lists the names removed. */
int image_refs_remove(struct image_store *s, const char *ref,
                      char ***removed, hull_error_t *err);

/* ---- sources (import.c) ----------------------------------------------------
 * An OCI image layout directory (oci-layout, index.json, blobs/): every blob
 * index.json reaches is copied into the store and verified; then the names:
 *   - name given (--name): a name with a tag (or digest) names the one
 *     image of the layout (more than one is refused); a repository without
 *     a tag takes each entry's ref.name as its tag (repo:<ref.name>, or
 *     repo:latest when the entry has none);
 *   - no name: a ref.name that is a whole reference ("docker.io/x/y:1",
 *     "example.com/app:2", containerd's export) is normalised as docker
 *     does; a bare tag ("1.0", umoci's and skopeo's) becomes
 *     localhost/<the directory's base name>:<tag> (podman's convention for
 *     local images); an entry without one is stored unnamed, reachable by
 *     digest until gc (a note says so).
 * *names gets the names written, and the digest ("sha256:...") of each
 * image left unnamed. */
int image_import_layout(struct image_store *s, const char *dir,
                        const char *name, char ***names, hull_error_t *err);
/* The same, with label in errors and in the bare-tag rule for dir. */
int image_import_layout_as(struct image_store *s, const char *dir,
                           const char *label, const char *name, char ***names,
                           hull_error_t *err);
/* An archive (oci-archive.c): a tar (plain, gzip or zstd) of a layout,
 * as `skopeo copy ... oci-archive:F`, `podman save --format oci-archive`
 * and Docker 25's `docker save` write it, or the docker save archive of
 * older Dockers (manifest.json, RepoTags). Only regular files with plain
 * names (image_archive_member_ok) are unpacked, into the store's tmp/,
 * and imported as a layout named after the file (app.tar ->
 * localhost/app) where no name is recorded. */
int image_import_archive(struct image_store *s, const char *file,
                         const char *name, char ***names, hull_error_t *err);
bool image_archive_member_ok(const char *name);
/* docker-archive.c: turns the unpacked docker save archive at dirfd into
 * an OCI layout (blobs, a manifest per image, index.json with each RepoTag
 * as a ref.name); label names the archive in errors. */
int image_docker_archive_to_layout(int dirfd, const char *label,
                                   hull_error_t *err);
/* A directory is a layout, anything else an archive. */
int image_import(struct image_store *s, const char *path, const char *name,
                 char ***names, hull_error_t *err);

/* ---- registries (registry.c, pull.c) ---------------------------------------
 * The distribution API's pull side over libcurl (loaded on first use):
 * https, or plain http with insecure and for localhost, 127.0.0.1 and
 * [::1] (docker's rule); redirects followed; anonymous first, then the
 * bearer token a 401's WWW-Authenticate points at, or basic auth with
 * creds. Errors name the request: "GET /v2/busybox/manifests/1: 404 Not
 * Found". */

struct image_registry_options {
  bool insecure;           /* TLS unverified, or plain http, for any host */
  const char *creds;       /* "user:pass", or NULL */
  const char *cert_dir;    /* *.crt CAs; NULL: /etc/hull/certs.d/HOST */
};

struct image_registry;
/* host as a normalised name has it ("docker.io", "127.0.0.1:5000");
 * loads libcurl on the first call ("images: pull needs libcurl ..."). */
int image_registry_open(const char *host, const char *repository,
                        const struct image_registry_options *o,
                        struct image_registry **out, hull_error_t *err);
void image_registry_close(struct image_registry *r);
/* A second handle on the same registry (its own connection; the token r
 * has so far), for a transfer on another thread. */
int image_registry_clone(const struct image_registry *r,
                         struct image_registry **out, hull_error_t *err);
/* GET /v2/<repository>/manifests/<reference> accepting OCI and docker
 * schema 2 manifests and indexes: the body (NUL-terminated, at most
 * IMAGE_JSON_MAX) and its media type (the Content-Type, else the
 * document's mediaType). The caller checks the digest. */
int image_registry_get_manifest(struct image_registry *r,
                                const char *reference, char **body,
                                size_t *len, char **media_type,
                                hull_error_t *err);
/* Told of a blob's bytes as they come (done of total), and once more
 * with finished when it is stored. Called on the transfer's thread. */
struct image_blob_progress {
  void (*update)(void *arg, int64_t done, int64_t total, bool finished);
  void *arg;
};
/* GET /v2/<repository>/blobs/<digest> streamed into the store's blob
 * writer, which checks size and digest; nothing is fetched when the store
 * has the blob. A broken transfer is tried again from where it stopped
 * (Range), also from what an earlier pull left in the temp file; after
 * the last try the bytes received stay there for the next pull. Content
 * that fails the check leaves no blob and no temp file. progress may be
 * NULL. */
int image_registry_get_blob(struct image_registry *r, struct image_store *s,
                            const struct image_descriptor *d,
                            const struct image_blob_progress *progress,
                            hull_error_t *err);

struct image_pull_options {
  struct image_registry_options registry;
  const char *platform;    /* "os/arch[/variant]"; NULL: the host's */
  int progress_fd;         /* a terminal to show transfers on; 0: none */
};
/* `hull image pull REF`: the name normalised, its manifest (or index,
 * then the platform's manifest) fetched, config and layers stored, the
 * name set to what the tag leads to (the index, when it is one). *name
 * gets the name, *digest that target's digest. Errors read "pull REF:
 * ...", and a failed pull names nothing. */
int image_pull(struct image_store *s, const char *ref,
               const struct image_pull_options *o, char **name,
               struct image_digest *digest, hull_error_t *err);

/* ---- transfers on a terminal (progress.c) ----------------------------------
 * One line per blob of a batch, rewritten in place ("Copying blob
 * <12 hex> 1.2 MiB / 3.4 MiB", then "... done 3.4 MiB"); for a terminal
 * only: the caller decides (isatty). Safe from several threads. */
struct image_progress;
struct image_progress *image_progress_new(int fd);
void image_progress_free(struct image_progress *p);
/* Prints the batch's lines (kind: "blob", "config"), all waiting. */
void image_progress_batch(struct image_progress *p, const char *kind,
                          const struct image_descriptor *blobs, size_t n);
/* The callback that draws the batch's line i. */
struct image_blob_progress image_progress_line(struct image_progress *p,
                                               size_t i);
void image_progress_skipped(struct image_progress *p, size_t i);

/* ---- garbage collection (gc.c) ---------------------------------------------
 * With the store open exclusively: marks every blob a name reaches (an
 * index's every platform) and every layer their configs list, removes the
 * other blobs, the other unpacked layers and every temp file. A named
 * manifest that cannot be read stops gc before anything is removed. */
struct image_gc_hooks {
  /* Keeps a blob no name reaches (a container's image whose name was
   * removed); NULL: none is kept. Layer directories will come here too. */
  bool (*blob_in_use)(const struct image_digest *d, void *arg);
  /* Keeps an unpacked layer (layers/<alg>/<hex>) no named image's config
   * lists; NULL: none is kept. */
  bool (*layer_in_use)(const struct image_digest *diff_id, void *arg);
  void *arg;
};
/* *removed: the digests of the blobs removed; *bytes: their total size. */
int image_store_gc(struct image_store *s, const struct image_gc_hooks *hooks,
                   char ***removed, int64_t *bytes, hull_error_t *err);

/* ---- unpacked layers (layers.c) -------------------------------------------
 * <root>/layers/<alg>/<hex of diff_id>/   a layer unpacked (image_layer_unpack)
 *                            once, for every bundle: made in tmp/layer-<hex>-
 *                            XXXXXX under the flock tmp/layer-<hex>.lock, its
 *                            diff_id checked against the config's, then
 *                            renamed into place; so a directory here is
 *                            complete and verified, and a killed unpack
 *                            leaves only temp files gc removes. */

/* The directory of the layer diff_id (free it). */
char *image_layer_dir(struct image_store *s, const struct image_digest *diff_id);
/* Every layer of r unpacked (now, or by an earlier call); *dirs: their
 * directories, bottom layer first. A layer whose content does not match
 * the config: "layer sha256:<blob>: diff_id sha256:<x> does not match the
 * config's rootfs.diff_ids[1] sha256:<y>", and nothing of it is kept. */
int image_layers_unpack(struct image_store *s, const struct image_resolved *r,
                        char ***dirs, hull_error_t *err);

/* ---- bundles (bundle.c) -----------------------------------------------------
 * BUNDLE/rootfs       overlayfs: lowerdir the layers (top first), upperdir
 *                     BUNDLE/.upper, workdir BUNDLE/.work; or a full copy of
 *                     the layers, whiteouts applied (IMAGE_ROOTFS_COPY)
 * BUNDLE/config.json  image_runtime_config, root.path BUNDLE/rootfs
 * BUNDLE/.hull-image  lines "ref R", "owner mount|run", "store ROOT",
 *                     "rootfs overlay|copy", "blob D" (every blob the image
 *                     uses), "layer DIFF_ID": what gc keeps for the bundle,
 *                     and its mark; then the caller's notes (run's "state
 *                     ROOT ID" and "pid PID")
 * <root>/mounts/<sha256 of BUNDLE's path>  a symlink to a bundle of owner
 *                     "mount", so gc finds it (run's are <root>/containers/
 *                     <id>/); removed with the bundle */
enum image_rootfs_mode {
  IMAGE_ROOTFS_AUTO,     /* overlayfs, a copy where the kernel has none or
                            refuses it (ENODEV, EINVAL, EPERM) */
  IMAGE_ROOTFS_OVERLAY,  /* overlayfs or an error */
  IMAGE_ROOTFS_COPY,     /* always a copy (HULL_IMAGE_ROOTFS=copy) */
};
/* Makes bundle (and its missing parents) from the image ref; refused when
 * it holds config.json, rootfs or a record already. On error nothing of
 * what it made is left but the bundle directory. owner goes in the record
 * ("mount": `hull image mount`, "run": `hull run --image`), and notes
 * (lines, each ending in a newline; NULL: none) at its end. */
int image_bundle_make(struct image_store *s, const char *ref,
                      const char *bundle, const struct image_run_options *o,
                      enum image_rootfs_mode mode, const char *owner,
                      const char *notes, hull_error_t *err);
/* With o->id_maps (a user-namespaced container, idmap.c): the overlayfs's
 * lowers are clones of the layer directories idmapped with the maps,
 * attached at BUNDLE/.lowers/<i> while the overlay is mounted and detached
 * after (overlayfs holds its own); .upper and .work are owned by the
 * container root's host ids; a copy (IMAGE_ROOTFS_COPY, only when asked:
 * AUTO is OVERLAY then) is chowned into the maps. Every directory from /
 * to BUNDLE must be searchable by the container root's host uid (the
 * runtime reaches the rootfs as it); the first that is not is an error.
 * A kernel or file system that cannot idmap a layer, or an overlayfs that
 * refuses idmapped lowers: a one-line error naming which. */
/* Each dirs[i] cloned and idmapped with m, attached at BUNDLE/.lowers/<i>;
 * *lowers: those paths. image_idmapped_lowers_remove undoes it, also
 * what a failed call left. */
int image_idmapped_lowers(char *const *dirs, const char *bundle,
                          const struct image_id_maps *m, char ***lowers,
                          hull_error_t *err);
int image_idmapped_lowers_remove(const char *bundle, hull_error_t *err);
/* Unmounts BUNDLE/rootfs (and any idmapped lowers still attached) and
 * removes rootfs, .lowers, .upper, .work, config.json and the record; the
 * bundle directory itself stays. */
int image_bundle_remove(const char *bundle, hull_error_t *err);
/* Whether bundle was made by image_bundle_make (holds the record). */
bool image_bundle_is(const char *bundle);
/* The record's lines. */
int image_bundle_record(const char *bundle, char ***lines, hull_error_t *err);
/* Whether the record says "owner <owner>". */
bool image_bundle_owned_by(const char *bundle, const char *owner);

#endif
