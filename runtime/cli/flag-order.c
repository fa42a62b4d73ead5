/* flag-order.c — flags anywhere among a command's arguments, as runc's CLI
 * library (urfave/cli) reorders them for every command but exec and ps:
 * `hull update ID --memory 64m` is `hull update --memory 64m ID`.
 *
 * The flags (with their values) are moved ahead of the positional arguments
 * and a getopt loop with a leading '+' reads them as before. The flags are
 * recognized as getopt_long will read them: long names exact or abbreviated
 * without ambiguity, `--name=value`, short clusters (`-fq`), a value in the
 * next argument for flags that require one. Unlike urfave/cli, a flag
 * without a value never takes the next argument with it, so the positional
 * arguments keep the order they were written in (`kill ID --all KILL`
 * signals ID, where runc would look for a container named KILL). */
#include "cli.h"

#include <getopt.h>
#include <string.h>

/* The long option `name` (up to '=' or the end) as getopt_long finds it:
 * the exact name, else the one option it abbreviates. NULL if none is, or
 * several different ones are. */
static const struct option *find_long(const struct option *opts,
                                      const char *name) {
  size_t len = strcspn(name, "=");
  for (const struct option *o = opts; o && o->name; o++)
    if (strncmp(o->name, name, len) == 0 && strlen(o->name) == len)
      return o;
  const struct option *found = NULL;
  for (const struct option *o = opts; o && o->name; o++) {
    if (strncmp(o->name, name, len) != 0)
      continue;
    if (found && (found->has_arg != o->has_arg || found->val != o->val))
      return NULL;                /* ambiguous: getopt refuses it */
    found = o;
  }
  return found;
}

/* How many arguments the flag at argv[i] spans: 1, or 2 when its value is
 * the next argument. */
static int flag_span(int argc, char **argv, int i, const char *shortopts,
                     const struct option *longopts) {
  const char *a = argv[i];
  bool value_next = false;
  if (a[1] == '-') {
    const struct option *o = find_long(longopts, a + 2);
    value_next = o && o->has_arg == required_argument && !strchr(a, '=');
  } else {
    /* A cluster: the first flag that takes a value ends it, with the rest
     * of the cluster as its value or, when nothing is left, the next
     * argument. */
    for (const char *c = a + 1; *c; c++) {
      const char *spec = *c == ':' ? NULL : strchr(shortopts, *c);
      if (spec == NULL || spec[1] != ':')
        continue;
      value_next = spec[2] != ':' && c[1] == '\0';
      break;
    }
  }
  return value_next && i + 1 < argc ? 2 : 1;
}

void cli_flags_first(int argc, char **argv, const char *shortopts,
                     const struct option *longopts) {
  shortopts += strspn(shortopts, "+-:");
  cleanup_free char **flags = xmalloc((size_t)argc * sizeof(char *));
  cleanup_free char **positional = xmalloc((size_t)argc * sizeof(char *));
  int n_flags = 0, n_positional = 0;
  char *dashes = NULL;
  int i = 1;
  while (i < argc) {
    char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      dashes = a;
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0') {
      positional[n_positional++] = argv[i++];
      continue;
    }
    int span = flag_span(argc, argv, i, shortopts, longopts);
    for (int k = 0; k < span; k++)
      flags[n_flags++] = argv[i++];
  }
  /* After "--" everything is positional, behind the "--" that tells the
   * getopt loop the flags are over. */
  int out = 1;
  for (int k = 0; k < n_flags; k++)
    argv[out++] = flags[k];
  if (dashes)
    argv[out++] = dashes;
  for (int k = 0; k < n_positional; k++)
    argv[out++] = positional[k];
  /* The rest after "--" is already in place. */
}
