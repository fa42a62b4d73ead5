/* capabilities.c — process.capabilities: the bounding set before the uid
 * change, the other four sets after it.
 *
 * Capabilities travel as 64-bit masks (bit n = capability n), which is also
 * how /proc/self/status shows them. A name is looked up in the table of all
 * capabilities Linux has (capability_names); only those the running kernel
 * has make it into a mask (cap_max_bits() is the kernel's count). */
#include "security.h"

#include <errno.h>
#include <linux/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

static void cleanup_capp(cap_t *c) {
  if (*c)
    cap_free(*c);
}
#define cleanup_cap __attribute__((cleanup(cleanup_capp)))

static bool is_well_formed_cap_name(const char *name) {
  if (strncmp(name, "CAP_", 4) != 0 || name[4] == '\0')
    return false;
  for (const char *p = name + 4; *p; p++)
    if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          (*p >= '0' && *p <= '9')))
      return false;
  return true;
}

/* Every capability Linux has named, by number, up to the newest
 * (CAP_CHECKPOINT_RESTORE, Linux 5.9). A name from this table that the
 * running kernel is too old for is skipped with a warning, as runc does;
 * a name in no table is not a capability and is refused. */
static const char *const capability_names[] = {
    "CAP_CHOWN",            "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",           "CAP_FSETID",         "CAP_KILL",
    "CAP_SETGID",           "CAP_SETUID",         "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",        "CAP_NET_RAW",        "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",        "CAP_SYS_MODULE",     "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",       "CAP_SYS_PTRACE",     "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",        "CAP_SYS_BOOT",       "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",            "CAP_LEASE",          "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",    "CAP_SETFCAP",        "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",        "CAP_SYSLOG",         "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",     "CAP_PERFMON",
    "CAP_BPF",              "CAP_CHECKPOINT_RESTORE",
};

#define N_CAPABILITY_NAMES                                                    \
  (int)(sizeof(capability_names) / sizeof(capability_names[0]))

const char *const *cap_known_names(size_t *n) {
  *n = N_CAPABILITY_NAMES;
  return capability_names;
}

/* A capability newer than the table that libcap can name (numbers from 41
 * up), for a kernel and libcap newer than this code. */
static int libcap_number(const char *name, int kernel_caps) {
  for (int i = N_CAPABILITY_NAMES; i < kernel_caps && i < 64; i++) {
    char *known = cap_to_name((cap_value_t)i);
    bool same = known && strcasecmp(known, name) == 0;
    cap_free(known);
    if (same)
      return i;
  }
  return CAP_UNKNOWN;
}

int cap_lookup(const char *name, int kernel_caps) {
  /* Exact upper-case names only: libcap's parser is more lenient (lower
   * case, numbers), runc's is not. */
  for (const char *p = name; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      return CAP_UNKNOWN;
  for (int i = 0; i < N_CAPABILITY_NAMES; i++)
    if (strcmp(capability_names[i], name) == 0)
      return i < kernel_caps ? i : CAP_UNAVAILABLE;
  return libcap_number(name, kernel_caps);
}

/* Names skipped as unavailable, each once, for a single warning as runc
 * gives. */
struct unavailable_names {
  const char **names;
  size_t len;
};

static void note_unavailable(struct unavailable_names *u, const char *name) {
  for (size_t i = 0; i < u->len; i++)
    if (strcmp(u->names[i], name) == 0)
      return;
  u->names = xrealloc(u->names, (u->len + 1) * sizeof(*u->names));
  u->names[u->len++] = name;
}

static void warn_unavailable_names(const struct unavailable_names *u) {
  if (u->len == 0)
    return;
  size_t size = 1;
  for (size_t i = 0; i < u->len; i++)
    size += strlen(u->names[i]) + 1;
  cleanup_free char *list = xzalloc(size);
  for (size_t i = 0; i < u->len; i++) {
    if (i)
      strcat(list, " ");
    strcat(list, u->names[i]);
  }
  log_warning("process.capabilities: ignoring unknown or unavailable "
              "capabilities: [%s]", list);
}

static int mask_from_names(char **names, const char *field,
                           struct unavailable_names *unavailable, uint64_t *out,
                           hull_error_t *err) {
  *out = 0;
  for (size_t i = 0; names && names[i]; i++) {
    if (!is_well_formed_cap_name(names[i]))
      return hull_error(err, 0,
                        "process.capabilities.%s[%zu]: malformed capability "
                        "name \"%s\"",
                        field, i, names[i]);
    int cap = cap_lookup(names[i], (int)cap_max_bits());
    if (cap == CAP_UNKNOWN)
      return hull_error(err, 0,
                        "process.capabilities.%s[%zu]: unknown capability "
                        "\"%s\"",
                        field, i, names[i]);
    if (cap == CAP_UNAVAILABLE)
      note_unavailable(unavailable, names[i]);
    else
      *out |= UINT64_C(1) << cap;
  }
  return 0;
}

int caps_from_spec(const struct spec_capabilities *caps, bool warn_unavailable,
                   struct cap_masks *out, hull_error_t *err) {
  *out = (struct cap_masks){0};
  if (caps == NULL)
    return 0;
  struct unavailable_names unavailable = {0};
  int r = -1;
  if (mask_from_names(caps->bounding, "bounding", &unavailable, &out->bounding,
                      err) < 0 ||
      mask_from_names(caps->effective, "effective", &unavailable,
                      &out->effective, err) < 0 ||
      mask_from_names(caps->inheritable, "inheritable", &unavailable,
                      &out->inheritable, err) < 0 ||
      mask_from_names(caps->permitted, "permitted", &unavailable,
                      &out->permitted, err) < 0 ||
      mask_from_names(caps->ambient, "ambient", &unavailable, &out->ambient,
                      err) < 0)
    goto out;
  if (warn_unavailable)
    warn_unavailable_names(&unavailable);
  r = 0;
out:
  free(unavailable.names);
  return r;
}

static const char *cap_display_name(int cap, char buf[64]) {
  char *name = cap_to_name((cap_value_t)cap);
  snprintf(buf, 64, "%s", name ? name : "?");
  cap_free(name);
  for (char *p = buf; *p; p++)
    if (*p >= 'a' && *p <= 'z')
      *p = (char)(*p - 'a' + 'A');
  return buf;
}

int caps_apply_bounding(const struct cap_masks *m, hull_error_t *err) {
  int n = (int)cap_max_bits();
  for (int cap = 0; cap < n && cap < 64; cap++) {
    if (m->bounding & (UINT64_C(1) << cap))
      continue;
    /* Already gone (as CAP_SYS_RESOURCE may be on the host): nothing to do,
     * and dropping it again would need CAP_SETPCAP for nothing. */
    if (cap_get_bound((cap_value_t)cap) <= 0)
      continue;
    if (cap_drop_bound((cap_value_t)cap) < 0) {
      char name[64];
      return hull_error(err, errno,
                        "process.capabilities.bounding: drop %s from the "
                        "bounding set",
                        cap_display_name(cap, name));
    }
  }
  return 0;
}

static uint64_t mask_of(cap_t c, cap_flag_t flag) {
  uint64_t mask = 0;
  int n = (int)cap_max_bits();
  for (int cap = 0; cap < n && cap < 64; cap++) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(c, (cap_value_t)cap, flag, &v) == 0 && v == CAP_SET)
      mask |= UINT64_C(1) << cap;
  }
  return mask;
}

static uint64_t bounding_mask(void) {
  uint64_t mask = 0;
  int n = (int)cap_max_bits();
  for (int cap = 0; cap < n && cap < 64; cap++)
    if (cap_get_bound((cap_value_t)cap) > 0)
      mask |= UINT64_C(1) << cap;
  return mask;
}

/* The runtime-spec asks runtimes not to fail for capabilities they cannot
 * grant (e.g. one the host's bounding set lacks) but to warn. */
static uint64_t keep_grantable(uint64_t wanted, uint64_t grantable,
                               const char *field, const char *why) {
  uint64_t missing = wanted & ~grantable;
  for (int cap = 0; cap < 64; cap++)
    if (missing & (UINT64_C(1) << cap)) {
      char name[64];
      log_warning("process.capabilities.%s: ignoring %s: %s", field,
                  cap_display_name(cap, name), why);
    }
  return wanted & grantable;
}

static void set_flag_mask(cap_t c, cap_flag_t flag, uint64_t mask) {
  for (int cap = 0; cap < 64; cap++) {
    if (!(mask & (UINT64_C(1) << cap)))
      continue;
    cap_value_t v = (cap_value_t)cap;
    cap_set_flag(c, flag, 1, &v, CAP_SET);
  }
}

/* capset(2) rules for a process without CAP_SETPCAP in its effective set
 * (true after the switch to a non-root user): permitted can only shrink,
 * effective must be within the new permitted, inheritable within the old
 * inheritable plus permitted and within the bounding set. */
static int set_three_sets(const struct cap_masks *m, hull_error_t *err) {
  cleanup_cap cap_t now = cap_get_proc();
  if (now == NULL)
    return hull_error(err, errno, "process.capabilities: cap_get_proc");
  uint64_t held = mask_of(now, CAP_PERMITTED);
  uint64_t inh = mask_of(now, CAP_INHERITABLE);
  uint64_t permitted = keep_grantable(m->permitted, held, "permitted",
                                      "not available to this process");
  uint64_t effective = keep_grantable(m->effective, permitted, "effective",
                                      "not in the permitted set");
  uint64_t inheritable =
      keep_grantable(m->inheritable, (inh | held) & (inh | bounding_mask()),
                     "inheritable", "not permitted or not in the bounding set");

  cleanup_cap cap_t want = cap_init();
  if (want == NULL)
    return hull_error(err, errno, "process.capabilities: cap_init");
  set_flag_mask(want, CAP_PERMITTED, permitted);
  set_flag_mask(want, CAP_EFFECTIVE, effective);
  set_flag_mask(want, CAP_INHERITABLE, inheritable);
  if (cap_set_proc(want) < 0)
    return hull_error(err, errno,
                      "process.capabilities: set effective/permitted/"
                      "inheritable");
  return 0;
}

/* Ambient capabilities must be permitted and inheritable; a raise that the
 * kernel refuses is a warning, as in runc. Clearing must succeed, or the
 * process could keep ambient capabilities it was not given; only a kernel
 * without ambient support (EINVAL, before 4.3) has none to clear. */
static int set_ambient(uint64_t ambient, hull_error_t *err) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
    if (errno != EINVAL)
      return hull_error(err, errno, "process.capabilities.ambient: clear");
    if (ambient)
      log_warning("process.capabilities.ambient: ignored, the kernel does "
                  "not support ambient capabilities");
    return 0;
  }
  for (int cap = 0; cap < 64; cap++) {
    if (!(ambient & (UINT64_C(1) << cap)))
      continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0,
              0) < 0) {
      char name[64];
      log_warning("process.capabilities.ambient: cannot raise %s: %s",
                  cap_display_name(cap, name), strerror(errno));
    }
  }
  return 0;
}

int caps_apply_process(const struct cap_masks *m, hull_error_t *err) {
  if (set_three_sets(m, err) < 0)
    return -1;
  return set_ambient(m->ambient, err);
}
