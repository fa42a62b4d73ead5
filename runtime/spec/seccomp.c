/* seccomp.c — "linux.seccomp": the filter as the spec writes it, with the
 * schema's names for actions, operators, architectures and flags checked
 * here so the seccomp loader only has to translate them. */
#include "parse.h"

#include <stdlib.h>

static const char *const seccomp_actions[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
    NULL};

static const char *const seccomp_operators[] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL};

static const char *const seccomp_architectures[] = {
    "SCMP_ARCH_X86",        "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",        "SCMP_ARCH_AARCH64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",       "SCMP_ARCH_MIPS",        "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",  "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",        "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",    "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_SH",         "SCMP_ARCH_SHEB",        "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",   "SCMP_ARCH_RISCV64",     NULL};

static const char *const seccomp_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL};

static int parse_arg(yajl_val v, const struct jpath *at, void *item,
                     hull_error_t *err) {
  struct spec_seccomp_arg *a = item;
  if (juint32(v, at, "index", REQUIRED, &a->index, err) < 0 ||
      juint(v, at, "value", REQUIRED, UINT64_MAX, &a->value, err) < 0 ||
      jspec_uint(v, at, "valueTwo", UINT64_MAX, &a->value_two, err) < 0 ||
      jstring_enum(v, at, "op", REQUIRED, seccomp_operators,
                   "seccomp operator", &a->op, err) < 0)
    return -1;
  return 0;
}

static int parse_syscall(yajl_val v, const struct jpath *at, void *item,
                         hull_error_t *err) {
  struct spec_seccomp_syscall *s = item;
  if (jstrv(v, at, "names", REQUIRED, &s->names, err) < 0)
    return -1;
  if (s->names[0] == NULL)
    return jerr(JKEY(at, "names"), err, "must not be empty");
  if (jstring_enum(v, at, "action", REQUIRED, seccomp_actions,
                   "seccomp action", &s->action, err) < 0 ||
      jspec_uint(v, at, "errnoRet", UINT32_MAX, &s->errno_ret, err) < 0 ||
      jarray(v, at, "args", OPTIONAL, sizeof(struct spec_seccomp_arg),
             parse_arg, &s->args, &s->n_args, err) < 0)
    return -1;
  return 0;
}

int spec_parse_seccomp(yajl_val parent, const struct jpath *up,
                       struct spec_seccomp **out, hull_error_t *err) {
  yajl_val v;
  int r = jobject(parent, up, "seccomp", OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  const struct jpath *at = JKEY(up, "seccomp");
  struct spec_seccomp *s = *out = xzalloc(sizeof(*s));
  if (jstring_enum(v, at, "defaultAction", REQUIRED, seccomp_actions,
                   "seccomp action", &s->default_action, err) < 0 ||
      jspec_uint(v, at, "defaultErrnoRet", UINT32_MAX, &s->default_errno_ret,
                 err) < 0 ||
      jstrv_enum(v, at, "architectures", seccomp_architectures,
                 "seccomp architecture", &s->architectures, err) < 0 ||
      jstrv_enum(v, at, "flags", seccomp_flags, "seccomp flag", &s->flags,
                 err) < 0 ||
      jstring(v, at, "listenerPath", OPTIONAL, &s->listener_path, err) < 0 ||
      jstring(v, at, "listenerMetadata", OPTIONAL, &s->listener_metadata,
              err) < 0 ||
      jarray(v, at, "syscalls", OPTIONAL, sizeof(struct spec_seccomp_syscall),
             parse_syscall, &s->syscalls, &s->n_syscalls, err) < 0)
    return -1;
  return 0;
}

void spec_seccomp_free(struct spec_seccomp *s) {
  if (s == NULL)
    return;
  free(s->default_action);
  strv_free(s->architectures);
  strv_free(s->flags);
  free(s->listener_path);
  free(s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    struct spec_seccomp_syscall *sc = &s->syscalls[i];
    strv_free(sc->names);
    free(sc->action);
    for (size_t j = 0; j < sc->n_args; j++)
      free(sc->args[j].op);
    free(sc->args);
  }
  free(s->syscalls);
  free(s);
}
