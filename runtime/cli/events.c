/* events.c — `hull events [--stats] [--interval 5s] ID`: stats and OOM
 * notifications as JSON lines, as runc prints them. */
#include "cli.h"
#include "runtime/container/container.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

/* Go's time.ParseDuration units, in nanoseconds. */
static const struct { const char *name; double ns; } duration_units[] = {
    {"ns", 1},     {"us", 1e3},  {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
    {"ms", 1e6},   {"s", 1e9},   {"m", 60e9},        {"h", 3600e9},
};

int parse_duration_ms(const char *s, long *ms) {
  const char *p = s;
  bool negative = *p == '-';
  if (*p == '-' || *p == '+')
    p++;
  if (strcmp(p, "0") == 0) {
    *ms = 0;
    return 0;
  }
  if (*p == '\0')
    return -1;
  double ns = 0;
  while (*p) {
    size_t digits = strspn(p, "0123456789.");
    if (digits == 0 || strspn(p, ".") == digits)
      return -1;
    char *end;
    double v = strtod(p, &end);
    if (end != p + digits)
      return -1;
    p += digits;
    size_t unit_len = strcspn(p, "0123456789.");
    bool known = false;
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(*duration_units);
         i++)
      if (strlen(duration_units[i].name) == unit_len &&
          strncmp(p, duration_units[i].name, unit_len) == 0) {
        ns += v * duration_units[i].ns;
        known = true;
      }
    if (!known)
      return -1;
    p += unit_len;
  }
  if (ns > 9.2e18)
    return -1;
  /* A positive duration below a millisecond still waits a little. */
  long whole = (long)(ns / 1e6);
  if ((double)whole * 1e6 < ns)
    whole++;
  *ms = negative ? -whole : whole;
  return 0;
}

int cmd_events(const struct global_options *g, int argc, char **argv,
               hull_error_t *err) {
  enum { OPT_INTERVAL = 1, OPT_STATS };
  static const struct option opts[] = {
      {"interval", required_argument, NULL, OPT_INTERVAL},
      {"stats", no_argument, NULL, OPT_STATS},
      {NULL, 0, NULL, 0}};
  struct events_options o = {.root = g->root, .interval_ms = 5000,
                             .out = stdout};
  cli_flags_first(argc, argv, "", opts);
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
    if (c == OPT_STATS) {
      o.stats_once = true;
    } else if (c == OPT_INTERVAL) {
      if (parse_duration_ms(optarg, &o.interval_ms) < 0)
        return hull_error(err, 0, "invalid value \"%s\" for flag -interval: "
                          "parse error", optarg);
    } else {
      return hull_error(err, 0, "flag provided but not defined: %s",
                        argv[optind - 1]);
    }
  }
  if (cli_expect_args("events", argc - optind + 1, argv + optind - 1, 1, 1,
                      err) < 0)
    return -1;
  o.id = argv[optind];
  return container_events(&o, err) < 0 ? -1 : 0;
}
