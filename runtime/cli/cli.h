/* cli.h — hull's command line: runc's global options and verbs. Each verb
 * lives in its own file, parses its flags and calls one lifecycle function;
 * main() prints any error once and picks the exit status. */
#ifndef HULL_CLI_H
#define HULL_CLI_H

#include "runtime/common/common.h"

/* --rootless: runc's values; auto unless given. */
enum rootless_mode { ROOTLESS_AUTO, ROOTLESS_TRUE, ROOTLESS_FALSE };

struct global_options {
  const char *root;          /* --root, else (for a verb that keeps state)
                                state_root_default's */
  const char *log;
  enum log_format log_format;
  bool debug;
  bool systemd_cgroup;       /* --systemd-cgroup (create and run use it;
                                later verbs read it from the state) */
  enum rootless_mode rootless;
  const char *userns_pool;   /* --userns-pool START:SIZE (checked) */
  bool in_user_ns;           /* hull runs in a user namespace it did not
                                make (read once by main, for a verb that
                                keeps state) */
};

/* A verb returns its exit status (>= 0), or -1 with *err set. */
typedef int (*command_fn)(const struct global_options *g, int argc,
                          char **argv, hull_error_t *err);

struct command {
  const char *name;
  command_fn run;
  const char *summary;
  const char *usage;         /* arguments and flags, for --help */
};

const struct command *command_find(const char *name);
const struct command *command_table(size_t *n);

int cmd_create(const struct global_options *g, int argc, char **argv,
               hull_error_t *err);
int cmd_start(const struct global_options *g, int argc, char **argv,
              hull_error_t *err);
int cmd_run(const struct global_options *g, int argc, char **argv,
            hull_error_t *err);
int cmd_exec(const struct global_options *g, int argc, char **argv,
             hull_error_t *err);
int cmd_state(const struct global_options *g, int argc, char **argv,
              hull_error_t *err);
int cmd_kill(const struct global_options *g, int argc, char **argv,
             hull_error_t *err);
int cmd_delete(const struct global_options *g, int argc, char **argv,
               hull_error_t *err);
int cmd_list(const struct global_options *g, int argc, char **argv,
             hull_error_t *err);
int cmd_spec(const struct global_options *g, int argc, char **argv,
             hull_error_t *err);
int cmd_features(const struct global_options *g, int argc, char **argv,
                 hull_error_t *err);
int cmd_help(const struct global_options *g, int argc, char **argv,
             hull_error_t *err);
int cmd_pause(const struct global_options *g, int argc, char **argv,
              hull_error_t *err);
int cmd_resume(const struct global_options *g, int argc, char **argv,
               hull_error_t *err);
int cmd_update(const struct global_options *g, int argc, char **argv,
               hull_error_t *err);
int cmd_events(const struct global_options *g, int argc, char **argv,
               hull_error_t *err);
int cmd_ps(const struct global_options *g, int argc, char **argv,
           hull_error_t *err);
int cmd_network(const struct global_options *g, int argc, char **argv,
                hull_error_t *err);
int cmd_image(const struct global_options *g, int argc, char **argv,
              hull_error_t *err);
int cmd_gc(const struct global_options *g, int argc, char **argv,
           hull_error_t *err);
/* docker's go-units HumanSize: decimal units, 4 significant digits. */
void cli_human_size(int64_t bytes, char *buf, size_t len);
/* Hidden from help: the VM guest agent. */
int cmd_vm_agent(const struct global_options *g, int argc, char **argv,
                 hull_error_t *err);

/* rootless.c: --rootless's value (runc's: Go booleans, auto, ""). */
int cli_parse_rootless(const char *value, enum rootless_mode *out,
                       hull_error_t *err);
/* Whether a cgroup hull may not make is no reason to fail create (runc's
 * rootless cgroup manager): --rootless, or when auto, hull run by a user
 * other than root or by root in a user namespace it did not make. */
bool cli_rootless_cgroups(const struct global_options *g);

/* Shared by the verbs. */
void print_command_help(const struct command *c);
/* Whether the verb's arguments ask for its help (`--help`/`-h`): among its
 * flags, which come anywhere before a "--" unless flags_anywhere is false
 * (exec and ps: before the first positional argument). */
int cli_wants_help(int argc, char **argv, bool flags_anywhere);
struct option;
/* runc's CLI library (urfave/cli) takes a command's flags anywhere among
 * its arguments, for every command but exec and ps (whose words after the
 * id belong to a process): moves argv's flags (with their values, as
 * getopt_long reads shortopts and longopts) ahead of its positional
 * arguments, in order, so that a getopt loop whose optstring begins with
 * '+' reads them all. A "--" ends the flags; it is put between the two
 * groups, and what follows it stays positional. See flag-order.c. */
void cli_flags_first(int argc, char **argv, const char *shortopts,
                     const struct option *longopts);
/* For the verbs that take no flags: argv's first positional argument
 * (optind), or an error naming the first flag, as runc's. */
int cli_no_flags(int argc, char **argv, hull_error_t *err);
/* For the verbs whose one argument is the container id and which have no
 * flags (start, state, pause, resume): *id, or an error in runc's words. */
int cli_parse_id(const char *cmd, int argc, char **argv, const char **id,
                 hull_error_t *err);
/* Exactly `n` positional arguments left after flags, else an error in
 * runc's words. */
int cli_expect_args(const char *cmd, int argc, char **argv, int first,
                    int n, hull_error_t *err);
/* "TERM", "SIGTERM", "15" → 15; "0" → 0, the liveness probe. */
int parse_signal(const char *s, int *sig, hull_error_t *err);
int parse_int(const char *flag, const char *s, int *out, hull_error_t *err);
/* docker/go-units RAMInBytes, as runc's update reads sizes: "64m", "1.5g",
 * "512 KiB", "100" (powers of 1024). -1 when s is not one. */
int parse_ram_bytes(const char *s, int64_t *out);
/* Go's time.ParseDuration ("5s", "1m30s", "250ms"), rounded up to whole
 * milliseconds. -1 when s is not one. */
int parse_duration_ms(const char *s, long *ms);

/* image.c: how a bundle's rootfs is made: --copy or HULL_IMAGE_ROOTFS=copy
 * a full copy, HULL_IMAGE_ROOTFS=overlay overlayfs only, else overlayfs
 * where it works (an enum image_rootfs_mode). */
int image_rootfs_mode_from_env(bool copy);

#endif
