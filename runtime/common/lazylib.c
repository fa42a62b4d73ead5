/* lazylib.c — shared libraries loaded on first use (see common.h). */
#include "runtime/common/common.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* dlerror() usually starts with the name we asked for; the message names
 * it already. */
static const char *without_soname(const char *soname, const char *why) {
  size_t len = strlen(soname);
  if (strncmp(why, soname, len) == 0 && strncmp(why + len, ": ", 2) == 0)
    return why + len + 2;
  return why;
}

/* A new table with every symbol of lib resolved in handle. */
static void *resolve(const struct lazylib *lib, void *handle,
                     hull_error_t *err) {
  if (lib->n_symbols * sizeof(void (*)(void)) != lib->table_size) {
    hull_error(err, 0, "%s: not loadable: %zu symbols for a table of %zu "
               "bytes", lib->soname, lib->n_symbols, lib->table_size);
    return NULL;
  }
  char *table = xzalloc(lib->table_size);
  for (size_t i = 0; i < lib->n_symbols; i++) {
    void *fn = dlsym(handle, lib->symbols[i].name);
    if (fn == NULL) {
      hull_error(err, 0, "%s: not loadable: no symbol %s", lib->soname,
                 lib->symbols[i].name);
      free(table);
      return NULL;
    }
    memcpy(table + lib->symbols[i].offset, &fn, sizeof(fn));
  }
  return table;
}

int lazylib_load(struct lazylib *lib, const void **table, hull_error_t *err) {
  const void *loaded = __atomic_load_n(&lib->table, __ATOMIC_ACQUIRE);
  if (loaded) {
    *table = loaded;
    return 0;
  }
  /* The handle stays open for the process's life: the table points into
   * the library. */
  void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == NULL) {
    const char *why = dlerror();
    return hull_error(err, 0, "%s: not loadable: %s", lib->soname,
                      without_soname(lib->soname, why ? why : "?"));
  }
  void *fresh = resolve(lib, handle, err);
  if (fresh == NULL) {
    dlclose(handle);
    return -1;
  }
  /* Another thread may have got there first: keep its table (the library
   * is the same; dlopen counted both references). */
  const void *expected = NULL;
  if (!__atomic_compare_exchange_n(&lib->table, &expected, fresh, false,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    free(fresh);
    dlclose(handle);
    *table = expected;
    return 0;
  }
  *table = fresh;
  return 0;
}
