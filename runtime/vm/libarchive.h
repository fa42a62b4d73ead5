/* libarchive.h — libarchive, loaded on first use (runtime/vm/ writes the
 * guest's cpio archives, images/layer.c reads image layers). Only those
 * need it; linking libarchive would load it and
 * the compression libraries it needs (lzma, zstd, bz2, xml2, ...) into
 * every hull command. */
#ifndef HULL_VM_LIBARCHIVE_H
#define HULL_VM_LIBARCHIVE_H

#include "runtime/common/common.h"

#include <archive.h>
#include <archive_entry.h>

#define API(name) __typeof__(name) *name

struct archive_api {
  /* writing */
  API(archive_write_new);
  API(archive_write_set_format_cpio_newc);
  API(archive_write_set_bytes_in_last_block);
  API(archive_write_open_fd);
  API(archive_write_header);
  API(archive_write_data);
  API(archive_write_close);
  API(archive_write_free);
  API(archive_error_string);
  /* reading: a compressed kernel; the tests read back what we wrote */
  API(archive_read_new);
  API(archive_read_support_format_cpio);
  API(archive_read_support_format_raw);
  API(archive_read_support_filter_all);
  API(archive_read_open_memory);
  API(archive_read_next_header);
  API(archive_read_data);
  API(archive_read_free);
  /* entries */
  API(archive_entry_new);
  API(archive_entry_free);
  API(archive_entry_clear);
  API(archive_entry_copy_pathname);
  API(archive_entry_pathname);
  API(archive_entry_copy_sourcepath);
  API(archive_entry_sourcepath);
  API(archive_entry_copy_symlink);
  API(archive_entry_symlink);
  API(archive_entry_hardlink);
  API(archive_entry_set_mode);
  API(archive_entry_mode);
  API(archive_entry_filetype);
  API(archive_entry_set_uid);
  API(archive_entry_uid);
  API(archive_entry_set_gid);
  API(archive_entry_gid);
  API(archive_entry_set_size);
  API(archive_entry_size);
  API(archive_entry_set_mtime);
  API(archive_entry_set_nlink);
  API(archive_entry_nlink);
  API(archive_entry_set_ino64);
  API(archive_entry_ino64);
  API(archive_entry_set_dev);
  API(archive_entry_set_rdevmajor);
  API(archive_entry_rdevmajor);
  API(archive_entry_set_rdevminor);
  API(archive_entry_rdevminor);
  /* hard links */
  API(archive_entry_linkresolver_new);
  API(archive_entry_linkresolver_set_strategy);
  API(archive_entry_linkresolver_free);
  API(archive_entry_linkify);
  /* reading layers (images/layer.c: tar under gzip or zstd) and image
   * archives (images/oci-archive.c) */
  API(archive_read_support_format_tar);
  API(archive_read_support_filter_gzip);
  API(archive_read_support_filter_zstd);
  API(archive_read_open_fd);
  API(archive_read_open);
  API(archive_read_data_block);
  API(archive_filter_code);
  API(archive_entry_mtime);
  API(archive_entry_mtime_nsec);
  API(archive_entry_xattr_reset);
  API(archive_entry_xattr_next);
};

#undef API

/* libarchive's functions, loaded once per process; the error says which
 * package to install when it is missing. */
int archive_api_load(const struct archive_api **api, hull_error_t *err);

#endif
