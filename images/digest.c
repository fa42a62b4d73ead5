/* digest.c — content digests as image-spec's descriptors write them,
 * computed with OpenSSL's libcrypto (EVP, so that a FIPS or accelerated
 * provider applies). libcrypto is loaded on first use: linked, it would
 * load into every hull command, and only the image commands hash. */
#include "images/images.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define API(name) __typeof__(name) *name

struct crypto_api {
  API(EVP_MD_CTX_new);
  API(EVP_MD_CTX_free);
  API(EVP_DigestInit_ex);
  API(EVP_DigestUpdate);
  API(EVP_DigestFinal_ex);
  API(EVP_sha256);
  API(EVP_sha512);
};

#undef API

#define SYM(name) LAZYLIB_SYMBOL(struct crypto_api, name)

static const struct lazylib_symbol symbols[] = {
    SYM(EVP_MD_CTX_new),
    SYM(EVP_MD_CTX_free),
    SYM(EVP_DigestInit_ex),
    SYM(EVP_DigestUpdate),
    SYM(EVP_DigestFinal_ex),
    SYM(EVP_sha256),
    SYM(EVP_sha512),
};

static struct lazylib libcrypto = LAZYLIB("libcrypto.so.3", symbols,
                                          struct crypto_api);

static int load_crypto(const struct crypto_api **api, hull_error_t *err) {
  const void *table;
  if (lazylib_load(&libcrypto, &table, err) < 0)
    return hull_error_wrap(err, "images: digests need libcrypto (apt-get "
                           "install libssl3)");
  *api = table;
  return 0;
}

int image_digests_load(hull_error_t *err) {
  const struct crypto_api *api = NULL;
  return load_crypto(&api, err);
}

/* The functions, for the hashers, which have no error path: without
 * libcrypto hull cannot check a single blob. */
static const struct crypto_api *crypto(void) {
  const struct crypto_api *api = NULL;
  cleanup_error hull_error_t err = NULL;
  if (load_crypto(&api, &err) < 0) {
    log_msg(LOG_ERROR, "%s", err->msg);
    abort();
  }
  return api;
}

struct image_hasher {
  EVP_MD_CTX *ctx;
  enum image_digest_algorithm algorithm;
};

static const char *algorithm_name(enum image_digest_algorithm a) {
  return a == IMAGE_SHA512 ? "sha512" : "sha256";
}

static size_t hex_length(enum image_digest_algorithm a) {
  return a == IMAGE_SHA512 ? 128 : 64;
}

int image_digest_parse(const char *text, struct image_digest *out,
                       hull_error_t *err) {
  enum image_digest_algorithm a;
  if (strncmp(text, "sha256:", 7) == 0)
    a = IMAGE_SHA256;
  else if (strncmp(text, "sha512:", 7) == 0)
    a = IMAGE_SHA512;
  else
    goto bad;
  const char *hex = text + 7;
  if (strlen(hex) != hex_length(a) ||
      strspn(hex, "0123456789abcdef") != hex_length(a))
    goto bad;
  out->algorithm = a;
  snprintf(out->text, sizeof(out->text), "%s", text);
  return 0;
bad:
  return hull_error(err, 0, "digest \"%s\": not an OCI digest (sha256:<64 "
                            "hex> or sha512:<128 hex>)", text);
}

const char *image_digest_hex(const struct image_digest *d) {
  return d->text + 7;
}

struct image_hasher *image_hasher_new(enum image_digest_algorithm a) {
  const struct crypto_api *c = crypto();
  struct image_hasher *h = xzalloc(sizeof(*h));
  h->algorithm = a;
  h->ctx = c->EVP_MD_CTX_new();
  const EVP_MD *md = a == IMAGE_SHA512 ? c->EVP_sha512() : c->EVP_sha256();
  /* Out of memory or no provider for SHA-2: nothing sensible goes on. */
  if (h->ctx == NULL || c->EVP_DigestInit_ex(h->ctx, md, NULL) != 1)
    abort();
  return h;
}

void image_hasher_update(struct image_hasher *h, const void *data,
                         size_t len) {
  if (crypto()->EVP_DigestUpdate(h->ctx, data, len) != 1)
    abort();
}

void image_hasher_finish(struct image_hasher *h, struct image_digest *out) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (crypto()->EVP_DigestFinal_ex(h->ctx, md, &n) != 1)
    abort();
  out->algorithm = h->algorithm;
  int len = snprintf(out->text, sizeof(out->text), "%s:",
                     algorithm_name(h->algorithm));
  for (unsigned i = 0; i < n; i++)
    len += snprintf(out->text + len, sizeof(out->text) - (size_t)len, "%02x",
                    md[i]);
  image_hasher_free(h);
}

void image_hasher_free(struct image_hasher *h) {
  if (h == NULL)
    return;
  crypto()->EVP_MD_CTX_free(h->ctx);
  free(h);
}

void image_digest_of(enum image_digest_algorithm a, const void *data,
                     size_t len, struct image_digest *out) {
  struct image_hasher *h = image_hasher_new(a);
  image_hasher_update(h, data, len);
  image_hasher_finish(h, out);
}
