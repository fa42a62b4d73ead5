/* file.c — reading, writing and removing files without surprises. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* copy_file_range's refusals that mean "not between these two files":
 * across file systems on older kernels, special files, no support. */
static bool copy_range_unsupported(int e) {
  return e == EXDEV || e == ENOSYS || e == EINVAL || e == EOPNOTSUPP;
}

int copy_fd_contents(int in, int out, const char *what, hull_error_t *err) {
  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n == 0)
      return 0;
    if (n > 0 || errno == EINTR)
      continue;
    if (!copy_range_unsupported(errno))
      return hull_error(err, errno, "copy `%s`", what);
    break;
  }
  const size_t chunk = 256 * 1024;
  cleanup_free char *buf = xmalloc(chunk);
  for (;;) {
    ssize_t n = read(in, buf, chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return hull_error(err, errno, "read `%s`", what);
    if (n == 0)
      return 0;
    if (write_all(out, buf, (size_t)n) < 0)
      return hull_error(err, errno, "write a copy of `%s`", what);
  }
}

ssize_t read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

static int read_fd(int fd, char **out, size_t *len) {
  size_t cap = 4096, used = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (used + 1 >= cap)
      buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + used, cap - used - 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      free(buf);
      return -1;
    }
    if (n == 0)
      break;
    used += (size_t)n;
  }
  buf[used] = '\0';
  *out = buf;
  if (len)
    *len = used;
  return 0;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len,
                 hull_error_t *err) {
  cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  if (read_fd(fd, out, len) < 0)
    return hull_error(err, errno, "read `%s`", path);
  return 0;
}

int read_file(const char *path, char **out, size_t *len, hull_error_t *err) {
  return read_file_at(AT_FDCWD, path, out, len, err);
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len,
                  hull_error_t *err) {
  cleanup_close int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  if (write_all(fd, data, len) < 0)
    return hull_error(err, errno, "write `%s`", path);
  return 0;
}

int write_file(const char *path, const char *data, size_t len,
               hull_error_t *err) {
  return write_file_at(AT_FDCWD, path, data, len, err);
}

int write_file_atomic(const char *path, const char *data, size_t len,
                      mode_t mode, hull_error_t *err) {
  cleanup_free char *tmp = xasprintf("%s.tmp-%d", path, (int)getpid());
  cleanup_close int fd =
      open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return hull_error(err, errno, "create `%s`", tmp);
  if (write_all(fd, data, len) < 0) {
    int e = errno;
    unlink(tmp);
    return hull_error(err, e, "write `%s`", tmp);
  }
  if (rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return hull_error(err, e, "rename `%s` to `%s`", tmp, path);
  }
  return 0;
}

int mkdir_p(const char *path, mode_t mode, hull_error_t *err) {
  /* Usually only the last component is missing (a container's cgroup in
   * each of up to a dozen hierarchies): one mkdir instead of a walk. */
  if (mkdir(path, mode) == 0 || errno == EEXIST)
    return 0;
  if (errno != ENOENT)
    return hull_error(err, errno, "mkdir `%s`", path);
  cleanup_free char *p = xstrdup(path);
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, mode) < 0 && errno != EEXIST)
      return hull_error(err, errno, "mkdir `%s`", p);
    *s = '/';
  }
  if (mkdir(p, mode) < 0 && errno != EEXIST)
    return hull_error(err, errno, "mkdir `%s`", p);
  return 0;
}

static int remove_children(int dirfd, dev_t dev, const char *path,
                           hull_error_t *err);

static int remove_entry(int dirfd, const char *name, dev_t dev,
                        const char *path, hull_error_t *err) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return hull_error(err, errno, "remove `%s/%s`", path, name);
  int fd = openat(dirfd, name,
                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s/%s`", path, name);
  struct stat st;
  if (fstat(fd, &st) < 0 || st.st_dev != dev) {
    close(fd);
    /* Another file system is mounted here: never descend into it. */
    return hull_error(err, EBUSY, "remove `%s/%s`", path, name);
  }
  cleanup_free char *sub = xasprintf("%s/%s", path, name);
  if (remove_children(fd, dev, sub, err) < 0)
    return -1;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return hull_error(err, errno, "rmdir `%s`", sub);
  return 0;
}

/* Consumes dirfd. */
static int remove_children(int dirfd, dev_t dev, const char *path,
                           hull_error_t *err) {
  DIR *d = fdopendir(dirfd);
  if (d == NULL) {
    close(dirfd);
    return hull_error(err, errno, "opendir `%s`", path);
  }
  int ret = 0;
  struct dirent *de;
  while (ret == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    ret = remove_entry(dirfd, de->d_name, dev, path, err);
  }
  closedir(d);
  return ret;
}

int remove_tree(const char *path, hull_error_t *err) {
  struct stat st;
  if (lstat(path, &st) < 0)
    return errno == ENOENT ? 0 : hull_error(err, errno, "stat `%s`", path);
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path) < 0 && errno != ENOENT)
      return hull_error(err, errno, "remove `%s`", path);
    return 0;
  }
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  if (remove_children(fd, st.st_dev, path, err) < 0)
    return -1;
  if (rmdir(path) < 0 && errno != ENOENT)
    return hull_error(err, errno, "rmdir `%s`", path);
  return 0;
}

int set_cloexec(int fd, bool on) {
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0)
    return -1;
  flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  return fcntl(fd, F_SETFD, flags);
}

int close_fds_from(int first_fd, hull_error_t *err) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)first_fd, ~0U, 0) == 0)
    return 0;
#endif
  /* Older kernels: walk /proc/self/fd. */
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return hull_error(err, errno, "open `/proc/self/fd`");
  int self = dirfd(d);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    int fd = atoi(de->d_name);
    if (de->d_name[0] != '.' && fd >= first_fd && fd != self)
      close(fd);
  }
  closedir(d);
  return 0;
}

static int compare_ints(const void *a, const void *b) {
  return *(const int *)a - *(const int *)b;
}

void close_fds_except(int first_fd, const int *keep, size_t n_keep) {
  int sorted[n_keep + 1];
  size_t n = 0;
  for (size_t i = 0; i < n_keep; i++)
    if (keep[i] >= first_fd)
      sorted[n++] = keep[i];
  qsort(sorted, n, sizeof(int), compare_ints);
  int from = first_fd;
  for (size_t i = 0; i < n; i++) {
    for (int fd = from; fd < sorted[i]; fd++)
      close(fd);
    from = sorted[i] + 1;
  }
  hull_error_t ignored = NULL;
  close_fds_from(from, &ignored);
  hull_error_release(&ignored);
}

bool is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
         access(path, X_OK) == 0;
}

char *find_on_path(const char *name) {
  const char *path = getenv("PATH");
  if (path == NULL)
    return NULL;
  cleanup_free char *copy = xstrdup(path);
  char *save = NULL;
  for (char *dir = strtok_r(copy, ":", &save); dir;
       dir = strtok_r(NULL, ":", &save)) {
    if (dir[0] != '/')
      continue; /* a relative $PATH entry would depend on the cwd */
    char *candidate = xasprintf("%s/%s", dir, name);
    if (is_executable_file(candidate))
      return candidate;
    free(candidate);
  }
  return NULL;
}
