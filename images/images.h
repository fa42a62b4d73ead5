/* images.h — what hull does with OCI images (image-spec 1.x): digests,
 * the content-addressed store, layers, and bundles made from images.
 *
 * Files: digest.c (sha256/sha512 over OpenSSL's libcrypto, loaded on first
 * use, streaming). */
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

#endif
