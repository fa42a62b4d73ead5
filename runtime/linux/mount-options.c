/* mount-options.c — OCI mount options as mount(2) flags, propagation
 * changes, recursive attributes and a data string; plus the small mount
 * helpers every rootfs file uses (remount keeping locked flags, mountinfo). */
#include "rootfs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

struct flag_option {
  const char *name;
  bool clear;
  unsigned long flag;
};

/* The options mount(8) knows, with runc's meanings. */
static const struct flag_option flag_options[] = {
    {"defaults", false, 0},
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"suid", true, MS_NOSUID},         {"nosuid", false, MS_NOSUID},
    {"dev", true, MS_NODEV},           {"nodev", false, MS_NODEV},
    {"exec", true, MS_NOEXEC},         {"noexec", false, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},   {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},      {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},       {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME}, {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},  {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosymfollow", false, MS_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW},
    {"lazytime", false, MS_LAZYTIME},  {"nolazytime", true, MS_LAZYTIME},
    {"iversion", false, MS_I_VERSION}, {"noiversion", true, MS_I_VERSION},
    {"silent", false, MS_SILENT},      {"loud", true, MS_SILENT},
    {"bind", false, MS_BIND},          {"rbind", false, MS_BIND | MS_REC},
};

struct attr_option {
  const char *name;
  uint64_t set, clr;
};

/* Recursive forms, applied with mount_setattr(AT_RECURSIVE). */
static const struct attr_option attr_options[] = {
    {"rro", MOUNT_ATTR_RDONLY, 0},
    {"rrw", 0, MOUNT_ATTR_RDONLY},
    {"rnosuid", MOUNT_ATTR_NOSUID, 0},
    {"rsuid", 0, MOUNT_ATTR_NOSUID},
    {"rnodev", MOUNT_ATTR_NODEV, 0},
    {"rdev", 0, MOUNT_ATTR_NODEV},
    {"rnoexec", MOUNT_ATTR_NOEXEC, 0},
    {"rexec", 0, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", MOUNT_ATTR_NODIRATIME, 0},
    {"rdiratime", 0, MOUNT_ATTR_NODIRATIME},
    {"rrelatime", MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
    {"rnoatime", MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
    {"rstrictatime", MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
    {"rnosymfollow", MOUNT_ATTR_NOSYMFOLLOW, 0},
    {"rsymfollow", 0, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct {
  const char *name;
  unsigned long flag;
} propagation_options[] = {
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

unsigned long propagation_flag(const char *name) {
  for (size_t i = 0; i < N(propagation_options); i++)
    if (strcmp(name, propagation_options[i].name) == 0)
      return propagation_options[i].flag;
  return 0;
}

static bool parse_flag(const char *opt, struct mount_options *o) {
  for (size_t i = 0; i < N(flag_options); i++) {
    if (strcmp(opt, flag_options[i].name) != 0)
      continue;
    if (flag_options[i].clear)
      o->flags &= ~flag_options[i].flag;
    else
      o->flags |= flag_options[i].flag;
    return true;
  }
  return false;
}

static bool parse_attr(const char *opt, struct mount_options *o) {
  for (size_t i = 0; i < N(attr_options); i++) {
    if (strcmp(opt, attr_options[i].name) != 0)
      continue;
    /* A later option wins over an earlier opposite one. */
    o->attr_set &= ~attr_options[i].clr;
    o->attr_clr &= ~attr_options[i].set;
    o->attr_set |= attr_options[i].set;
    o->attr_clr |= attr_options[i].clr;
    return true;
  }
  return false;
}

static void append_data(struct mount_options *o, const char *opt) {
  char *data = o->data ? xasprintf("%s,%s", o->data, opt) : xstrdup(opt);
  free(o->data);
  o->data = data;
}

void mount_options_parse(char *const *options, struct mount_options *o) {
  memset(o, 0, sizeof(*o));
  for (size_t i = 0; options && options[i]; i++) {
    const char *opt = options[i];
    unsigned long prop = propagation_flag(opt);
    if (prop) {
      if (o->n_propagation < N(o->propagation))
        o->propagation[o->n_propagation++] = prop;
      continue;
    }
    /* runc's own extension (mounts.c copies the image's content into the
     * tmpfs); it must not reach the kernel. */
    if (strcmp(opt, "tmpcopyup") == 0) {
      o->tmpcopyup = true;
      continue;
    }
    /* The runtime-spec's: an idmapped bind (idmap.c), not for mount(2). */
    if (strcmp(opt, "idmap") == 0 || strcmp(opt, "ridmap") == 0) {
      *(opt[0] == 'r' ? &o->ridmap : &o->idmap) = true;
      continue;
    }
    if (!parse_flag(opt, o) && !parse_attr(opt, o))
      append_data(o, opt);
  }
}

void mount_options_free(struct mount_options *o) {
  free(o->data);
  o->data = NULL;
}

struct fd_path fd_path(int fd) {
  struct fd_path p;
  snprintf(p.s, sizeof(p.s), "/proc/self/fd/%d", fd);
  return p;
}

int remount_fd(int fd, unsigned long flags, const char *what,
               hull_error_t *err) {
  struct fd_path p = fd_path(fd);
  flags |= MS_REMOUNT;
  if (mount(NULL, p.s, NULL, flags, NULL) == 0)
    return 0;
  if (errno != EPERM)
    return hull_error(err, errno, "remount `%s`", what);
  /* In a user namespace the flags a mount inherited from its more
   * privileged owner are locked: a remount must repeat them. statvfs's ST_*
   * bits are the MS_* bits. */
  struct statvfs sv;
  if (fstatvfs(fd, &sv) < 0)
    return hull_error(err, errno, "statvfs `%s`", what);
  unsigned long locked = sv.f_flag & MS_LOCKABLE;
  if ((flags & locked) == locked)
    return hull_error(err, EPERM, "remount `%s`", what);
  /* An explicit atime choice yields to the locked one. */
  if (locked & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME))
    flags &= ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
  if (mount(NULL, p.s, NULL, flags | locked, NULL) < 0)
    return hull_error(err, errno, "remount `%s`", what);
  return 0;
}

/* Unescapes mountinfo's octal escapes (\040 for space) in place. */
static char *unescape(char *s) {
  char *w = s;
  for (char *r = s; *r; r++) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 3;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
  return s;
}

static bool parse_mountinfo_line(char *line, struct mountinfo *m) {
  /* id parent major:minor root mount_point opts optional... - fstype source
   * super_opts */
  char *fields[6] = {0};
  char *save = NULL, *tok = strtok_r(line, " ", &save);
  for (int i = 0; i < 6 && tok; i++, tok = strtok_r(NULL, " ", &save))
    fields[i] = tok;
  if (!fields[5] || !tok)
    return false;
  cleanup_free char *optional = NULL;
  while (tok && strcmp(tok, "-") != 0) {
    char *o = optional ? xasprintf("%s %s", optional, tok) : xstrdup(tok);
    free(optional);
    optional = o;
    tok = strtok_r(NULL, " ", &save);
  }
  char *fstype = strtok_r(NULL, " ", &save);
  char *source = strtok_r(NULL, " ", &save);
  char *super = strtok_r(NULL, " \n", &save);
  if (!fstype || !source)
    return false;
  m->root = xstrdup(unescape(fields[3]));
  m->mount_point = xstrdup(unescape(fields[4]));
  m->fstype = xstrdup(fstype);
  m->source = xstrdup(unescape(source));
  m->super_opts = xstrdup(super ? super : "");
  m->optional = optional ? take_ptr(optional) : xstrdup("");
  return true;
}

int mountinfo_read(struct mountinfo **out, size_t *n, hull_error_t *err) {
  cleanup_free char *text = NULL;
  if (read_file("/proc/self/mountinfo", &text, NULL, err) < 0)
    return -1;
  struct mountinfo *v = NULL;
  size_t len = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    struct mountinfo m;
    if (!parse_mountinfo_line(line, &m))
      continue;
    v = xrealloc(v, (len + 1) * sizeof(*v));
    v[len++] = m;
  }
  *out = v;
  *n = len;
  return 0;
}

void mountinfo_free(struct mountinfo *m, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(m[i].root);
    free(m[i].mount_point);
    free(m[i].fstype);
    free(m[i].source);
    free(m[i].super_opts);
    free(m[i].optional);
  }
  free(m);
}

const char *const *rootfs_mount_option_names(void) {
  /* Built once from the tables above: they are the definition. */
  static const char *names[N(flag_options) + N(attr_options) +
                           N(propagation_options) + 4];
  if (names[0] == NULL) {
    size_t n = 0;
    for (size_t i = 0; i < N(flag_options); i++)
      names[n++] = flag_options[i].name;
    for (size_t i = 0; i < N(attr_options); i++)
      names[n++] = attr_options[i].name;
    for (size_t i = 0; i < N(propagation_options); i++)
      names[n++] = propagation_options[i].name;
    names[n++] = "tmpcopyup";
    names[n++] = "idmap";
    names[n++] = "ridmap";
    names[n] = NULL;
  }
  return names;
}
