/* common.h — what every hull module shares: the one error type, cleanup
 * attributes, allocation that aborts on OOM, small file helpers and logging.
 *
 * Error convention: a fallible function takes `hull_error_t *err` as its last
 * argument and returns a negative int on failure, having filled *err.
 * Callers add context with hull_error_wrap() on the way up; main() prints the
 * message once. */
#ifndef HULL_COMMON_H
#define HULL_COMMON_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- errors ---------------------------------------------------------- */

struct hull_error {
  int errno_value;   /* 0 when the error is not a system call failure */
  char *msg;         /* full message, context first */
  int exit_status;   /* what hull exits with; 0: EXIT_FAILURE */
};
typedef struct hull_error *hull_error_t;

/* Sets *err to "<fmt>: strerror(errno_value)" (just "<fmt>" when errno_value
 * is 0) and returns -1. An existing error in *err is released first. */
int hull_error(hull_error_t *err, int errno_value, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "<fmt>: " to the message in *err; returns -1. */
int hull_error_wrap(hull_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void hull_error_release(hull_error_t *err);

/* ---- cleanup attributes ---------------------------------------------- */

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);
void cleanup_errorp(hull_error_t *err);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))
#define cleanup_error __attribute__((cleanup(cleanup_errorp)))

/* Hand ownership out of a cleanup variable. */
static inline int take_fd(int *fd) { int r = *fd; *fd = -1; return r; }
#define take_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

/* ---- allocation (aborts on OOM, so callers need no error path) ------- */

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_free(char **v);
char **strv_dup(char *const *v);
/* Appends a copy of s to the NULL-terminated *v (NULL: empty). */
void strv_append(char ***v, const char *s);

/* ---- files ----------------------------------------------------------- */

/* Reads a whole file (NUL-terminated); *len gets its length when not NULL. */
int read_file(const char *path, char **out, size_t *len, hull_error_t *err);
int read_file_at(int dirfd, const char *path, char **out, size_t *len,
                 hull_error_t *err);
/* Writes a file atomically: a temporary beside it, fsync-free rename. */
int write_file_atomic(const char *path, const char *data, size_t len,
                      mode_t mode, hull_error_t *err);
/* Writes data to an existing file (e.g. /proc or cgroupfs knobs). */
/* Whether path is a regular file we may execute. */
bool is_executable_file(const char *path);
/* The first absolute directory of $PATH holding an executable name, or
 * NULL. */
char *find_on_path(const char *name);
int write_file(const char *path, const char *data, size_t len,
               hull_error_t *err);
int write_file_at(int dirfd, const char *path, const char *data, size_t len,
                  hull_error_t *err);
/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode, hull_error_t *err);
/* rm -rf that stays on one file system and never follows symlinks. */
int remove_tree(const char *path, hull_error_t *err);
/* write()/read() that retry on EINTR and short counts. */
int write_all(int fd, const void *buf, size_t len);
/* Copies what is left of in to out: in the kernel (copy_file_range) where
 * it can, else through a buffer. what names the source in errors. */
int copy_fd_contents(int in, int out, const char *what, hull_error_t *err);
ssize_t read_all(int fd, void *buf, size_t len);
/* Closes every fd >= first_fd. */
int close_fds_from(int first_fd, hull_error_t *err);
/* Closes every fd >= first_fd except the n_keep in keep (-1s are ignored). */
void close_fds_except(int first_fd, const int *keep, size_t n_keep);
/* Sets or clears FD_CLOEXEC. */
int set_cloexec(int fd, bool on);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines (clock.c). */
int64_t monotonic_ms(void);

/* ---- waits the caller's signal ends (interrupt.c) ----------------------
 * A command that must undo what it made (create, run, start, exec,
 * delete) calls interrupt_hold() first: SIGINT, SIGTERM, SIGHUP and SIGQUIT
 * then stay pending instead of killing hull half-way, each wait below
 * fails with "<what>: interrupted by SIGTERM" (errno_value EINTR), the
 * command cleans up on its error path, and main() lets the signal take its
 * default action once the message is printed. Without the hold the signals
 * act as always and the waits only wait. */

void interrupt_signals(sigset_t *set);
void interrupt_hold(void);
/* Whether this process holds any of them (a blocking wait must not). */
bool interrupt_held(void);
/* The held interrupt signal that is pending, 0 when none. */
int interrupt_pending(void);
/* Unblocks the interrupt signals when one is pending: hull dies of it. */
void interrupt_deliver(void);
/* A signalfd that turns readable when a held interrupt is pending (read
 * nothing from it: the signal stays pending for main()), for a wait that
 * polls several fds; -1 when none is held (or on error, errno set). */
int interrupt_fd(void);
/* Sets *err to "<what>: interrupted by SIG<pending>"; returns -1. */
int interrupt_error(const char *what, hull_error_t *err);
/* Waits until fd reports one of events (returns 1), timeout_ms passes
 * (0; negative: no timeout) or a held interrupt is pending (-1). fd -1
 * waits for the signal or the timeout only. */
int wait_fd(int fd, short events, int timeout_ms, const char *what,
            hull_error_t *err);
/* Sleeps ms unless interrupted (-1). */
int wait_ms(int ms, const char *what, hull_error_t *err);
/* flock(fd, how) that a held interrupt ends: tried again and again with
 * naps from 1 ms doubling up to max_nap_ms (flock cannot wait on a signal
 * too); blocks plainly when no interrupt is held. */
int flock_wait(int fd, int how, int max_nap_ms, const char *what,
               hull_error_t *err);

/* ---- shared libraries loaded on first use (lazylib.c) -----------------
 * A library only some commands need (libarchive for VM mode, libnftnl for
 * hull's networks, libcrypto for images) is dlopen()ed by them instead of
 * linked, so that every other hull command starts without loading it.
 * Its functions live in a table, a struct of function pointers, that a
 * module keeps beside a static struct lazylib:
 *
 *   static const struct lazylib_symbol symbols[] = {
 *       LAZYLIB_SYMBOL(struct foo_api, foo_new), ...};
 *   static struct lazylib libfoo = LAZYLIB("libfoo.so.1", symbols,
 *                                          struct foo_api);
 *   const void *table;
 *   if (lazylib_load(&libfoo, &table, err) < 0) ...
 *
 * The symbols must name every member of the table. */

struct lazylib_symbol {
  const char *name;
  size_t offset;   /* of its function pointer in the table */
};

#define LAZYLIB_SYMBOL(table_type, member)                                    \
  {#member, offsetof(table_type, member)}

struct lazylib {
  const char *soname;
  const struct lazylib_symbol *symbols;
  size_t n_symbols;
  size_t table_size;
  const void *table;   /* NULL until loaded; then filled once per process */
};

#define LAZYLIB(soname, symbols, table_type)                                  \
  {(soname), (symbols), sizeof(symbols) / sizeof(*(symbols)),                 \
   sizeof(table_type), NULL}

/* Points *table at lib's table, loading the library and resolving its
 * symbols on the first call (safe from several threads at once). A failure
 * is "<soname>: not loadable: <why>" and is not remembered: the next call
 * tries again. */
int lazylib_load(struct lazylib *lib, const void **table, hull_error_t *err);

/* ---- logging ----------------------------------------------------------
 * The log destination and format are CLI options, set once by main(). */

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* path NULL: stderr. */
int log_init(const char *path, enum log_format format, bool debug,
             hull_error_t *err);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints a final error the way runc does (text: to stderr; json: a JSON line
 * to the log, and the message to stderr too when the log is a file). */
void log_error_final(const char *msg);
/* Where log lines go (2 without a log file). A process that closes the fds
 * it does not need must keep this one, or later lines land in whatever
 * reuses the number. */
int log_fd(void);

#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* JSON output goes through yajl_gen; this wraps the boilerplate. */
#include <yajl/yajl_gen.h>
yajl_gen json_gen_new(bool pretty);
void json_gen_string(yajl_gen g, const char *s);
/* Writes a parsed scalar (null, string, number as written — uint64 values
 * survive —, boolean) and returns true; false for an object or array,
 * which the caller walks its own way. */
#include <yajl/yajl_tree.h>
bool json_gen_scalar(yajl_gen g, yajl_val v);
/* Writes a whole parsed value (objects and arrays walked) through g. */
void json_gen_tree(yajl_gen g, yajl_val v);
/* Member key of the object obj; NULL when obj is no object or lacks it. */
yajl_val json_member(yajl_val obj, const char *key);
/* Returns the generated document as a new string and frees the generator. */
char *json_gen_finish(yajl_gen g);
/* The same without the newline yajl ends a pretty document with: a
 * config.json as runc writes it. */
char *json_gen_finish_document(yajl_gen g);

/* ---- caches under <root>/.cache (cache.c) ------------------------------
 * A cache directory holds entries (regular files not starting with '.'),
 * written under a '.'-prefixed temporary and renamed in, so a reader sees
 * a whole entry or none. Least recently used entries are evicted when the
 * directory outgrows its bound; "used" is the entry's mtime, set on every
 * use (atime is not kept under noatime/relatime). An entry is in use while
 * someone holds a shared flock on it: eviction takes an exclusive one
 * without waiting and skips what it cannot get. Lookups, renames and
 * evictions are serialized by <dir>/.lock (shared for the first two), so
 * eviction never removes an entry someone else just renamed in or locked. */

/* Opens dir/name for use: locked shared while the fd stays open, its mtime
 * set to now. -1 when there is no such entry (or it was just evicted). */
int cache_use(const char *dir, const char *name);
/* A new temporary in dir (made with mode 0600), locked shared: *tmp gets
 * its path. The fd, kept open past cache_publish, holds the entry. */
int cache_new_entry(const char *dir, char **tmp, hull_error_t *err);
/* Renames tmp to dir/name, replacing any entry of that name: for entries
 * read through their fd (cache_use) only, since whoever held the one
 * replaced may no longer find it by its path. */
int cache_publish(const char *dir, const char *tmp, const char *name,
                  hull_error_t *err);
/* Renames tmp to dir/name unless a concurrent writer got there first: then
 * tmp is removed, and *fd (tmp's, from cache_new_entry) is closed and
 * replaced with a held fd on the entry there. For entries used by path. */
int cache_publish_or_use(const char *dir, const char *tmp, const char *name,
                         int *fd, hull_error_t *err);
struct cache_trim_result {
  size_t removed;       /* entries and abandoned temporaries removed */
  uint64_t freed, kept; /* bytes */
  char **removed_paths; /* when asked for: their paths */
};
/* Evicts unused entries, least recently used first, until the entries'
 * total size is at most max bytes (0: every unused entry), and removes
 * temporaries abandoned by dead writers. A missing dir is empty. */
int cache_trim(const char *dir, uint64_t max, bool list_removed,
               struct cache_trim_result *r, hull_error_t *err);
/* A cache's bound: $env when set ("1048576", "512K", "64M", "2G"), else
 * dflt (and a warning when $env is not a size). */
uint64_t cache_limit(const char *env, uint64_t dflt);
/* Evicts from dir down to its bound after an entry was added: failures
 * are logged only, a cache never fails what uses it. */
void cache_trim_to_limit(const char *dir, const char *env, uint64_t dflt);

#define SECCOMP_CACHE_MAX_ENV "HULL_SECCOMP_CACHE_MAX"
#define SECCOMP_CACHE_MAX_DEFAULT (16ULL << 20)
#define VM_CACHE_MAX_ENV "HULL_VM_CACHE_MAX"
#define VM_CACHE_MAX_DEFAULT (512ULL << 20)

#endif
