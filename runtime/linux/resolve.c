/* resolve.c — paths resolved inside a container's rootfs, never outside it.
 *
 * openat2(RESOLVE_IN_ROOT) does it in the kernel. The fallback walk does the
 * same one component at a time: every component is opened with O_NOFOLLOW
 * relative to the previous one, symlinks are read and spliced into the rest
 * of the path (absolute ones restart at root_fd), and ".." never climbs above
 * root_fd. The same walk, asked to create, makes missing components as it
 * goes, so a dangling symlink to /tmp/x creates <rootfs>/tmp/x, never the
 * host's /tmp/x. */
#include "linux.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_SYMLINKS 40 /* as the kernel's MAXSYMLINKS */

/* Directories opened so far; [0] is the root. ".." pops, never below it. */
struct walk_stack {
  int *fds;
  size_t len, cap;
};

static void stack_push(struct walk_stack *s, int fd) {
  if (s->len == s->cap)
    s->fds = xrealloc(s->fds, (s->cap = s->cap ? s->cap * 2 : 16) * sizeof(int));
  s->fds[s->len++] = fd;
}

static void stack_reset_to_root(struct walk_stack *s) {
  while (s->len > 1)
    close(s->fds[--s->len]);
}

static void stack_free(struct walk_stack *s) {
  while (s->len > 0)
    close(s->fds[--s->len]);
  free(s->fds);
}

static int stack_top(const struct walk_stack *s) { return s->fds[s->len - 1]; }

/* Splits the next component off *rest; returns false when none is left. */
static bool next_component(char **rest, char **name) {
  char *p = *rest;
  while (*p == '/')
    p++;
  if (*p == '\0')
    return false;
  char *end = strchr(p, '/');
  if (end) {
    *end = '\0';
    *rest = end + 1;
  } else {
    *rest = p + strlen(p);
  }
  *name = p;
  return true;
}

static bool only_slashes(const char *s) {
  while (*s == '/')
    s++;
  return *s == '\0';
}

/* Creates `name` in dirfd: a directory, or for the last component when
 * create_file, an empty regular file. EEXIST is fine (a racing creator). */
static int create_component(int dirfd, const char *name, bool as_file,
                            mode_t mode) {
  if (!as_file)
    return mkdirat(dirfd, name, mode) < 0 && errno != EEXIST ? -1 : 0;
  int fd = openat(dirfd, name,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0)
    return errno == EEXIST ? 0 : -1;
  close(fd);
  return 0;
}

/* The walk shared by the open_in_root() fallback and create_in_root(). */
static int walk_in_root(int root_fd, const char *path, int flags,
                        enum create_kind create, mode_t mode,
                        hull_error_t *err) {
  struct walk_stack st = {0};
  int root = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
  if (root < 0)
    return hull_error(err, errno, "dup root fd");
  stack_push(&st, root);

  cleanup_free char *buf = xstrdup(path);
  char *rest = buf;
  int links = 0, ret = -1;
  bool follow_last = !(flags & O_NOFOLLOW);

  for (;;) {
    char *name;
    if (!next_component(&rest, &name)) {
      /* The path named a directory already on the stack ("/", "a/.."). */
      ret = openat(stack_top(&st), ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
      if (ret < 0)
        hull_error(err, errno, "open `%s` in root", path);
      break;
    }
    bool last = only_slashes(rest);
    if (strcmp(name, ".") == 0)
      continue;
    if (strcmp(name, "..") == 0) {
      if (st.len > 1)
        close(st.fds[--st.len]);
      continue;
    }

    struct stat sb;
    if (fstatat(stack_top(&st), name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno != ENOENT || create == CREATE_NONE) {
        hull_error(err, errno, "open `%s` in root", path);
        break;
      }
      bool as_file = last && create == CREATE_FILE;
      if (create_component(stack_top(&st), name, as_file, mode) < 0) {
        hull_error(err, errno, "create `%s` in root", path);
        break;
      }
      if (fstatat(stack_top(&st), name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        hull_error(err, errno, "open `%s` in root", path);
        break;
      }
    }

    if (S_ISLNK(sb.st_mode) && (!last || follow_last)) {
      if (++links > MAX_SYMLINKS) {
        hull_error(err, ELOOP, "open `%s` in root", path);
        break;
      }
      char target[PATH_MAX];
      ssize_t n = readlinkat(stack_top(&st), name, target, sizeof(target) - 1);
      if (n < 0) {
        hull_error(err, errno, "readlink `%s` in root", path);
        break;
      }
      target[n] = '\0';
      if (target[0] == '/')
        stack_reset_to_root(&st);
      /* The rest of the path now starts with the link's target. */
      char *spliced = xasprintf("%s/%s", target, rest);
      free(buf);
      buf = rest = spliced;
      continue;
    }

    if (last) {
      ret = openat(stack_top(&st), name, flags | O_NOFOLLOW | O_CLOEXEC);
      if (ret < 0)
        hull_error(err, errno, "open `%s` in root", path);
      break;
    }
    if (!S_ISDIR(sb.st_mode)) {
      hull_error(err, ENOTDIR, "open `%s` in root", path);
      break;
    }
    int fd = openat(stack_top(&st), name,
                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      /* ELOOP here means it became a symlink since the fstatat: a race we
       * refuse rather than follow. */
      hull_error(err, errno, "open `%s` in root", path);
      break;
    }
    stack_push(&st, fd);
  }
  stack_free(&st);
  return ret;
}

int open_in_root_walk(int root_fd, const char *path, int flags,
                      hull_error_t *err) {
  return walk_in_root(root_fd, path, flags, CREATE_NONE, 0, err);
}

int open_in_root(int root_fd, const char *path, int flags, hull_error_t *err) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };
  for (;;) {
    int fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
    if (fd >= 0)
      return fd;
    if (errno == EAGAIN || errno == EINTR)
      continue; /* a concurrent rename; the kernel asks us to retry */
    if (errno == ENOSYS || errno == EPERM /* seccomp'd */)
      return open_in_root_walk(root_fd, path, flags, err);
    return hull_error(err, errno, "open `%s` in root", path);
  }
}

int create_in_root(int root_fd, const char *path, enum create_kind kind,
                   mode_t mode, hull_error_t *err) {
  int fd = walk_in_root(root_fd, path, O_PATH, kind, mode, err);
  if (fd < 0)
    return -1;
  struct stat sb;
  if (fstat(fd, &sb) < 0) {
    int e = errno;
    close(fd);
    return hull_error(err, e, "stat `%s` in root", path);
  }
  close(fd);
  if (kind == CREATE_DIR && !S_ISDIR(sb.st_mode))
    return hull_error(err, ENOTDIR, "create `%s` in root", path);
  return 0;
}
