/* masked.c — linux.maskedPaths and linux.readonlyPaths, applied after the
 * pivot. Paths the rootfs does not have are skipped, as runc does. */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens `path` inside the current root; 0 with *fd = -1 when it is missing. */
static int open_existing(int root, const char *path, int *fd,
                         hull_error_t *err) {
  *fd = open_in_root(root, path, O_PATH, err);
  if (*fd >= 0)
    return 0;
  if ((*err)->errno_value == ENOENT) {
    hull_error_release(err);
    return 0;
  }
  return -1;
}

static int open_current_root(hull_error_t *err) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return hull_error(err, errno, "open `/`");
  return root;
}

/* A directory disappears under an empty read-only tmpfs, a file under
 * /dev/null. */
static int mask_path(int root, const char *path, hull_error_t *err) {
  cleanup_close int fd = -1;
  if (open_existing(root, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  struct stat st;
  if (fstat(fd, &st) < 0)
    return hull_error(err, errno, "stat `%s`", path);
  struct fd_path p = fd_path(fd);
  int r = S_ISDIR(st.st_mode)
              ? mount("tmpfs", p.s, "tmpfs", MS_RDONLY, NULL)
              : mount("/dev/null", p.s, NULL, MS_BIND, NULL);
  if (r < 0)
    return hull_error(err, errno, "mask `%s`", path);
  return 0;
}

static int readonly_path(int root, const char *path, hull_error_t *err) {
  cleanup_close int fd = -1;
  if (open_existing(root, path, &fd, err) < 0)
    return -1;
  if (fd < 0)
    return 0;
  struct fd_path p = fd_path(fd);
  if (mount(p.s, p.s, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error(err, errno, "bind `%s` read-only", path);
  cleanup_close int mfd = open_in_root(root, path, O_PATH, err);
  if (mfd < 0)
    return -1;
  return remount_fd(mfd, MS_BIND | MS_REC | MS_RDONLY, path, err);
}

int rootfs_mask_paths(char *const *paths, hull_error_t *err) {
  cleanup_close int root = open_current_root(err);
  if (root < 0)
    return -1;
  for (size_t i = 0; paths && paths[i]; i++)
    if (mask_path(root, paths[i], err) < 0)
      return hull_error_wrap(err, "linux.maskedPaths");
  return 0;
}

int rootfs_readonly_paths(char *const *paths, hull_error_t *err) {
  cleanup_close int root = open_current_root(err);
  if (root < 0)
    return -1;
  for (size_t i = 0; paths && paths[i]; i++)
    if (readonly_path(root, paths[i], err) < 0)
      return hull_error_wrap(err, "linux.readonlyPaths");
  return 0;
}
