/* layer-path.c — where a layer entry may land: its name made relative and
 * free of "." and "..", and its parent directory opened beneath the layer
 * directory (openat2 RESOLVE_BENEATH), never through a symlink that leaves
 * it. The names are checked by the kernel's resolution, not by comparing
 * strings: a symlink made by an earlier entry ("a -> /etc") is refused when
 * a later one ("a/passwd") would be written through it. */
#include "images/images.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int layer_path_clean(const char *raw, char **out) {
  size_t len = strlen(raw);
  char *clean = xmalloc(len + 1);
  size_t n = 0;
  const char *p = raw;
  while (*p) {
    while (*p == '/')
      p++;
    const char *end = strchrnul(p, '/');
    size_t part = (size_t)(end - p);
    if (part == 0 || (part == 1 && p[0] == '.')) {
      /* "" or ".": nothing */
    } else if (part == 2 && p[0] == '.' && p[1] == '.') {
      if (n == 0) {
        free(clean);
        return -1;
      }
      while (n > 0 && clean[n - 1] != '/')
        n--;
      if (n > 0)
        n--; /* the slash before the dropped component */
    } else {
      if (n > 0)
        clean[n++] = '/';
      memcpy(clean + n, p, part);
      n += part;
    }
    p = end;
  }
  clean[n] = '\0';
  *out = clean;
  return 0;
}

/* Without openat2 (before Linux 5.6) every component is opened with
 * O_NOFOLLOW, so a symlink anywhere in the path is refused (ELOOP or
 * ENOTDIR), stricter than the kernel's resolution, never looser. */
int layer_open_walk(int dest_fd, const char *path, int flags, mode_t mode) {
  cleanup_free char *copy = xstrdup(path);
  int dir = fcntl(dest_fd, F_DUPFD_CLOEXEC, 3);
  char *save = NULL;
  char *name = strtok_r(copy, "/", &save);
  if (name == NULL) {
    if (dir >= 0 && (flags & O_DIRECTORY) == 0) {
      close(dir);
      errno = EISDIR;
      return -1;
    }
    return dir;
  }
  while (dir >= 0) {
    char *next = strtok_r(NULL, "/", &save);
    int fd = next ? openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW |
                                          O_CLOEXEC)
                  : openat(dir, name, flags | O_NOFOLLOW, mode);
    int saved = errno;
    struct stat st;
    if (fd < 0 && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISLNK(st.st_mode))
      saved = ELOOP; /* ENOTDIR for a symlink with O_DIRECTORY */
    close(dir);
    errno = saved;
    if (next == NULL)
      return fd;
    dir = fd;
    name = next;
  }
  return -1;
}

int layer_open_beneath(int dest_fd, const char *path, int flags,
                       mode_t mode) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .mode = (flags & O_CREAT) ? mode : 0,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  int fd = (int)syscall(SYS_openat2, dest_fd, *path ? path : ".", &how,
                        sizeof how);
  if (fd < 0 && errno == ENOSYS)
    return layer_open_walk(dest_fd, path, flags | O_CLOEXEC, mode);
  return fd;
}

/* One line for a failed resolution: EXDEV is the kernel saying the path
 * would leave the layer directory; ELOOP a symlink loop, or the fallback
 * walk refusing a symlink. */
int layer_entry_error(const char *entry, const char *what, int e,
                      hull_error_t *err) {
  const char *sep = *what ? " " : "";
  if (e == EXDEV)
    return hull_error(err, 0, "layer entry \"%s\": %s%sescapes the layer "
                      "directory", entry, what, sep);
  if (e == ELOOP)
    return hull_error(err, 0, "layer entry \"%s\": %s%sgoes through a "
                      "symlink hull does not follow (a loop, or no openat2 "
                      "before Linux 5.6)", entry, what, sep);
  return hull_error(err, e, "layer entry \"%s\": %s", entry,
                    *what ? what : "open");
}

int layer_open_parent(int dest_fd, const char *entry, const char *clean,
                      const char **base, hull_error_t *err) {
  const char *slash = strrchr(clean, '/');
  *base = slash ? slash + 1 : clean;
  if (slash == NULL) {
    int fd = layer_open_beneath(dest_fd, "", O_PATH | O_DIRECTORY, 0);
    return fd >= 0 ? fd : layer_entry_error(entry, "", errno, err);
  }
  cleanup_free char *parent = xstrndup(clean, (size_t)(slash - clean));
  int fd = layer_open_beneath(dest_fd, parent, O_PATH | O_DIRECTORY, 0);
  if (fd >= 0 || errno != ENOENT)
    return fd >= 0 ? fd : layer_entry_error(entry, "", errno, err);

  /* A parent the layer has no entry for: made as tar makes it (0755),
   * one component at a time, each resolved again from the top so that a
   * symlink on the way is judged like any other. */
  for (char *p = parent;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char saved = *p;
    *p = '\0';
    fd = layer_open_beneath(dest_fd, parent, O_PATH | O_DIRECTORY, 0);
    if (fd < 0 && errno == ENOENT) {
      const char *last = strrchr(parent, '/');
      cleanup_free char *up = last ? xstrndup(parent, (size_t)(last - parent))
                                   : xstrdup("");
      int up_fd = layer_open_beneath(dest_fd, up, O_PATH | O_DIRECTORY, 0);
      if (up_fd < 0)
        return layer_entry_error(entry, "", errno, err);
      int r = mkdirat(up_fd, last ? last + 1 : parent, 0755);
      int e = errno;
      close(up_fd);
      if (r < 0 && e != EEXIST)
        return hull_error(err, e, "layer entry \"%s\": mkdir \"%s\"", entry,
                          parent);
      fd = layer_open_beneath(dest_fd, parent, O_PATH | O_DIRECTORY, 0);
    }
    if (fd < 0)
      return layer_entry_error(entry, "", errno, err);
    *p = saved;
    if (saved == '\0')
      return fd;
    close(fd);
  }
}
