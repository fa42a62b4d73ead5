/* libarchive.c — loading libarchive on demand (see libarchive.h). */
#include "runtime/vm/libarchive.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#define LIBARCHIVE "libarchive.so.13"

struct symbol {
  const char *name;
  size_t offset;
};

#define SYM(name) {#name, offsetof(struct archive_api, name)}

static const struct symbol symbols[] = {
    SYM(archive_write_new),
    SYM(archive_write_set_format_cpio_newc),
    SYM(archive_write_set_bytes_in_last_block),
    SYM(archive_write_open_fd),
    SYM(archive_write_header),
    SYM(archive_write_data),
    SYM(archive_write_close),
    SYM(archive_write_free),
    SYM(archive_error_string),
    SYM(archive_read_new),
    SYM(archive_read_support_format_cpio),
    SYM(archive_read_support_format_raw),
    SYM(archive_read_support_filter_all),
    SYM(archive_read_open_memory),
    SYM(archive_read_next_header),
    SYM(archive_read_data),
    SYM(archive_read_free),
    SYM(archive_read_support_format_tar),
    SYM(archive_read_open_fd),
    SYM(archive_entry_new),
    SYM(archive_entry_free),
    SYM(archive_entry_clear),
    SYM(archive_entry_copy_pathname),
    SYM(archive_entry_pathname),
    SYM(archive_entry_copy_sourcepath),
    SYM(archive_entry_sourcepath),
    SYM(archive_entry_copy_symlink),
    SYM(archive_entry_symlink),
    SYM(archive_entry_hardlink),
    SYM(archive_entry_set_mode),
    SYM(archive_entry_mode),
    SYM(archive_entry_filetype),
    SYM(archive_entry_set_uid),
    SYM(archive_entry_uid),
    SYM(archive_entry_set_gid),
    SYM(archive_entry_gid),
    SYM(archive_entry_set_size),
    SYM(archive_entry_size),
    SYM(archive_entry_set_mtime),
    SYM(archive_entry_set_nlink),
    SYM(archive_entry_nlink),
    SYM(archive_entry_set_ino64),
    SYM(archive_entry_ino64),
    SYM(archive_entry_set_dev),
    SYM(archive_entry_set_rdevmajor),
    SYM(archive_entry_rdevmajor),
    SYM(archive_entry_set_rdevminor),
    SYM(archive_entry_rdevminor),
    SYM(archive_entry_linkresolver_new),
    SYM(archive_entry_linkresolver_set_strategy),
    SYM(archive_entry_linkresolver_free),
    SYM(archive_entry_linkify),
};

int archive_api_load(const struct archive_api **api, hull_error_t *err) {
  /* Filled once per process; a process uses one libarchive. */
  static struct archive_api loaded;
  static bool done;
  if (done) {
    *api = &loaded;
    return 0;
  }
  void *lib = dlopen(LIBARCHIVE, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    return hull_error(err, 0, "VM mode needs libarchive (apt-get install "
                      "libarchive13): %s", dlerror());
  for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
    void *fn = dlsym(lib, symbols[i].name);
    if (fn == NULL)
      return hull_error(err, 0, "VM mode: " LIBARCHIVE " lacks %s",
                        symbols[i].name);
    memcpy((char *)&loaded + symbols[i].offset, &fn, sizeof(fn));
  }
  done = true;
  *api = &loaded;
  return 0;
}
