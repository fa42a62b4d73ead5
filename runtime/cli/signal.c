/* signal.c — signal names as `kill` accepts them (with or without SIG). */
#include "cli.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  int sig;
} signals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM},     {"BUS", SIGBUS},
    {"CHLD", SIGCHLD}, {"CLD", SIGCHLD},      {"CONT", SIGCONT},
    {"FPE", SIGFPE},   {"HUP", SIGHUP},       {"ILL", SIGILL},
    {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE},     {"POLL", SIGPOLL},
    {"PROF", SIGPROF}, {"PWR", SIGPWR},       {"QUIT", SIGQUIT},
    {"SEGV", SIGSEGV}, {"STKFLT", SIGSTKFLT}, {"STOP", SIGSTOP},
    {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},
    {"URG", SIGURG},   {"USR1", SIGUSR1},     {"USR2", SIGUSR2},
    {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
};

static int parse_rt_signal(const char *name, int *sig) {
  /* RTMIN, RTMIN+3, RTMAX-2 */
  if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
    int base = strncasecmp(name, "RTMIN", 5) == 0 ? SIGRTMIN : SIGRTMAX;
    const char *rest = name + 5;
    if (*rest == '\0') {
      *sig = base;
      return 0;
    }
    char *end;
    long off = strtol(rest, &end, 10);
    if (*end == '\0' && base + off >= SIGRTMIN && base + off <= SIGRTMAX) {
      *sig = (int)(base + off);
      return 0;
    }
  }
  return -1;
}

int parse_signal(const char *s, int *sig, hull_error_t *err) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && *end == '\0') {
    /* 0 asks whether the process is there, as runc allows (kill(2)). */
    if (n < 0 || n > SIGRTMAX)
      return hull_error(err, 0, "unknown signal \"%s\"", s);
    *sig = (int)n;
    return 0;
  }
  const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    if (strcasecmp(signals[i].name, name) == 0) {
      *sig = signals[i].sig;
      return 0;
    }
  }
  if (parse_rt_signal(name, sig) == 0)
    return 0;
  return hull_error(err, 0, "unknown signal \"%s\"", s);
}
