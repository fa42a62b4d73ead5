/* ipam.c — hull's own networks and the addresses containers hold in them.
 *
 * On disk, under hull's --root (a dot-dir: `hull list` skips it):
 *
 *   <root>/.networks/.lock            flock: shared to read, exclusive to
 *                                     change anything below
 *   <root>/.networks/<name>/network   the network, JSON: {"subnet4":
 *                                     "10.89.0.0/24","subnet6":
 *                                     "fd89:6875:6c6c::/64","mtu":1500}
 *   <root>/.networks/<name>/ipv4/<address>=<id>
 *   <root>/.networks/<name>/ipv6/<address>=<id>
 *                                     an empty file: container id holds the
 *                                     address ("ipv4/10.89.0.2=web",
 *                                     "ipv6/fd89:6875:6c6c::2=web")
 *
 * A record is a name, not a file's content: one readdir of the family's
 * directory tells which container holds which address, with no file opened
 * per address, so taking the 200th address costs little more than the
 * first did (with 200 containers in a network, about 30 us more per take
 * here, on tmpfs), and release and the owner list cost a readdir per
 * network and family.
 *
 * A name appears (open O_EXCL), changes hands (rename, when a dead owner's
 * address is reclaimed) or goes (unlink) in one step: a crash never leaves
 * a half-written record, and never two names for one address, since every
 * taker reads the directory and makes its record under the exclusive lock.
 * A killed holder's flock goes with it.
 *
 * A network appears whole too: its directory is filled as
 * .new-<name>-<pid> and then renamed to <name>; it goes by a rename to
 * .old-<name>-<pid> before it is removed. Names that start with '.' are
 * never networks or records, so what a crash leaves in between is ignored,
 * and swept by the next change made under the lock (no one can be midway
 * then). Anything else in a family's directory that does not read as
 * "<address>=<id>" is no record either, and a record that is no host
 * address of the subnet blocks nothing. */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#define NETWORKS_DIR ".networks"
#define RECORD_FILE "network"
#define DEFAULT_MTU 1500
/* "<address>=<id>" fits in a file name. */
#define MAX_ID_LEN (NAME_MAX - INET6_ADDRSTRLEN)

/* ---- addresses as numbers -------------------------------------------- */

typedef unsigned __int128 u128;

static unsigned family_bits(int family) {
  return (unsigned)netns_family_bytes(family) * 8;
}

static u128 addr_value(const struct netns_addr *a) {
  u128 v = 0;
  for (size_t i = 0; i < netns_family_bytes(a->family); i++)
    v = v << 8 | a->bytes[i];
  return v;
}

static struct netns_addr addr_from_value(int family, u128 v,
                                         unsigned prefixlen) {
  struct netns_addr a = {.family = family, .prefixlen = prefixlen};
  for (size_t i = netns_family_bytes(family); i-- > 0; v >>= 8)
    a.bytes[i] = (unsigned char)v;
  return a;
}

/* The host part's bits of a prefixlen-long prefix in family. */
static u128 host_mask(int family, unsigned prefixlen) {
  unsigned bits = family_bits(family) - prefixlen;
  return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

/* The subnet's highest host offset a container may have: IPv4 keeps its
 * last address for broadcast. */
static u128 last_host(const struct netns_addr *subnet) {
  u128 mask = host_mask(subnet->family, subnet->prefixlen);
  return subnet->family == AF_INET ? mask - 1 : mask;
}

/* The address alone, "10.89.0.5". */
static const char *host_text(const struct netns_addr *a, char *buf,
                             size_t size) {
  if (inet_ntop(a->family, a->bytes, buf, (socklen_t)size) == NULL)
    snprintf(buf, size, "?");
  return buf;
}

#define ADDR_TEXT (INET6_ADDRSTRLEN + 8)

static bool same_addr(const struct netns_addr *a, const struct netns_addr *b) {
  return a->family == b->family && a->prefixlen == b->prefixlen &&
         memcmp(a->bytes, b->bytes, netns_family_bytes(a->family)) == 0;
}

static bool overlap(const struct netns_addr *a, const struct netns_addr *b) {
  if (a->family != b->family)
    return false;
  unsigned shorter = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
  u128 net_bits = ~host_mask(a->family, shorter);
  return ((addr_value(a) ^ addr_value(b)) & net_bits) == 0;
}

/* ---- names ------------------------------------------------------------ */

/* What the kernel takes as an interface name, without a leading '.' (our
 * leftovers' mark). */
static int check_network_name(const char *name, hull_error_t *err) {
  size_t n = strlen(name);
  bool ok = n > 0 && n < IFNAMSIZ && name[0] != '.';
  for (const char *p = name; ok && *p; p++)
    ok = *p != '/' && *p != ':' && *p > ' ' && *p != 0x7f;
  if (!ok)
    return hull_error(err, 0, "network name \"%s\": not an interface name",
                      name);
  return 0;
}

static int check_id(const char *id, hull_error_t *err) {
  size_t n = strlen(id);
  if (n == 0 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
      strpbrk(id, "/=") != NULL)
    return hull_error(err, 0, "invalid container id \"%s\"", id);
  if (n > MAX_ID_LEN)
    return hull_error(err, 0,
                      "invalid container id \"%.32s...\": longer than %d "
                      "bytes, too long to hold an address",
                      id, MAX_ID_LEN);
  return 0;
}

/* ---- the lock and the directories ------------------------------------- */

/* <root>/.networks, open and locked. */
struct networks {
  int dir;    /* -1: nothing is recorded (no such directory) */
  int lock;
  char *path;
};

static void networks_close(struct networks *n) {
  if (n->lock >= 0)
    close(n->lock); /* drops the flock */
  if (n->dir >= 0)
    close(n->dir);
  free(n->path);
}
#define cleanup_networks __attribute__((cleanup(networks_close)))

/* The lock is held for microseconds: short naps (flock_wait). */
static int wait_for_lock(int fd, int how, hull_error_t *err) {
  return flock_wait(fd, how, 4, "waiting for the networks' lock", err);
}

/* Opens <root>/.networks (made first when make is true; else its absence
 * leaves n->dir -1) and takes its lock: how is LOCK_SH or LOCK_EX. */
static int networks_lock(const char *root, bool make, int how,
                         struct networks *n, hull_error_t *err) {
  n->dir = n->lock = -1;
  n->path = xasprintf("%s/" NETWORKS_DIR, root);
  if (make) {
    if (mkdir_p(root, 0711, err) < 0)
      return -1;
    if (mkdir(n->path, 0700) < 0 && errno != EEXIST)
      return hull_error(err, errno, "mkdir `%s`", n->path);
  }
  n->dir = open(n->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (n->dir < 0) {
    if (errno == ENOENT && !make)
      return 0;
    return hull_error(err, errno, "open `%s`", n->path);
  }
  n->lock = openat(n->dir, ".lock",
                   O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (n->lock < 0)
    return hull_error(err, errno, "open `%s/.lock`", n->path);
  return wait_for_lock(n->lock, how, err);
}

/* The network's directory; "does not exist" when it is not there. */
static int open_network_dir(const struct networks *n, const char *name,
                            hull_error_t *err) {
  int fd = n->dir < 0 ? -1
                      : openat(n->dir, name, O_RDONLY | O_DIRECTORY |
                                                 O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && (n->dir < 0 || errno == ENOENT)) {
    hull_error(err, 0, "network \"%s\" does not exist", name);
    (*err)->errno_value = ENOENT;
    return -1;
  }
  if (fd < 0)
    return hull_error(err, errno, "open `%s/%s`", n->path, name);
  return fd;
}

/* A stream over dirfd's entries with its own offset (a dup would share
 * dirfd's, and lose O_CLOEXEC). */
static DIR *dir_stream(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  DIR *d = fdopendir(fd);
  if (d == NULL) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return d;
}

/* Removes what creators and removers killed half-way left (.new-*, .old-*).
 * Only under the exclusive lock: then no one is midway. */
static void sweep_leftovers(const struct networks *n) {
  DIR *d = dir_stream(n->dir);
  if (d == NULL)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (strncmp(de->d_name, ".new-", 5) != 0 &&
        strncmp(de->d_name, ".old-", 5) != 0)
      continue;
    cleanup_free char *path = xasprintf("%s/%s", n->path, de->d_name);
    cleanup_error hull_error_t ignored = NULL;
    remove_tree(path, &ignored);
  }
  closedir(d);
}

/* ---- address records -------------------------------------------------- */

struct record {
  char *file;              /* "ipv4/10.89.0.2=web", from the network's
                            * directory */
  const char *owner;       /* in file, after '=' */
  struct netns_addr addr;  /* prefixlen: the family's full length */
};

struct records {
  struct record *v;
  size_t n, cap;
};

static void records_free(struct records *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->v[i].file);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}
#define cleanup_records __attribute__((cleanup(records_free)))

/* Where a network keeps the records of family, in its directory. */
static const char *family_dir(int family) {
  return family == AF_INET ? "ipv4" : "ipv6";
}

/* "<address>=<id>" in family's directory -> *out; false for any other
 * name. */
static bool parse_record(int family, const char *name, struct record *out) {
  const char *eq = strchr(name, '=');
  if (eq == NULL || eq == name || (size_t)(eq - name) >= INET6_ADDRSTRLEN)
    return false;
  char host[INET6_ADDRSTRLEN];
  memcpy(host, name, (size_t)(eq - name));
  host[eq - name] = '\0';
  memset(&out->addr, 0, sizeof(out->addr));
  out->addr.family = family;
  out->addr.prefixlen = family_bits(family);
  if (inet_pton(family, host, out->addr.bytes) != 1)
    return false;
  cleanup_error hull_error_t bad = NULL;
  if (check_id(eq + 1, &bad) < 0)
    return false;
  /* "ipv4/" + name, without printf: this runs for every record. */
  size_t dir_len = strlen(family_dir(family)), len = strlen(name);
  out->file = xmalloc(dir_len + 1 + len + 1);
  memcpy(out->file, family_dir(family), dir_len);
  out->file[dir_len] = '/';
  memcpy(out->file + dir_len + 1, name, len + 1);
  out->owner = out->file + dir_len + 1 + (eq + 1 - name);
  return true;
}

/* Adds the records of family in a network's directory to out: one readdir,
 * no file opened. */
static int read_family(int netdir, const char *path, int family,
                       struct records *out, hull_error_t *err) {
  cleanup_close int fd = openat(netdir, family_dir(family),
                                O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                    O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    return 0;
  DIR *d = fd < 0 ? NULL : fdopendir(fd);
  if (d == NULL)
    return hull_error(err, errno, "open `%s/%s`", path, family_dir(family));
  take_fd(&fd); /* the stream's now */
  struct dirent *de;
  while ((errno = 0, de = readdir(d)) != NULL) {
    struct record r;
    if (de->d_name[0] == '.' || !parse_record(family, de->d_name, &r))
      continue;
    if (out->n == out->cap) {
      out->cap = out->cap ? out->cap * 2 : 64;
      out->v = xrealloc(out->v, out->cap * sizeof(*out->v));
    }
    out->v[out->n++] = r;
  }
  int e = errno;
  closedir(d);
  if (e)
    return hull_error(err, e, "read `%s/%s`", path, family_dir(family));
  return 0;
}

/* The records of family (0: both) in a network's directory. */
static int read_records(int netdir, const char *path, int family,
                        struct records *out, hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  if (family != AF_INET6 && read_family(netdir, path, AF_INET, out, err) < 0)
    return -1;
  if (family != AF_INET && read_family(netdir, path, AF_INET6, out, err) < 0)
    return -1;
  return 0;
}

/* Makes the record "<address>=<id>" (an empty file, in one step). */
static int record_create(int netdir, const char *path,
                         const struct netns_addr *a, const char *id,
                         hull_error_t *err) {
  char host[INET6_ADDRSTRLEN];
  cleanup_free char *file = xasprintf(
      "%s/%s=%s", family_dir(a->family), host_text(a, host, sizeof(host)), id);
  int fd = openat(netdir, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
                                    O_NOFOLLOW, 0644);
  if (fd < 0)
    return hull_error(err, errno, "create `%s/%s`", path, file);
  close(fd);
  return 0;
}

/* Hands a dead owner's record to id: one rename, so the address is never
 * free or held twice in between. */
static int record_reclaim(int netdir, const char *path,
                          const struct record *r, const char *id,
                          hull_error_t *err) {
  char host[INET6_ADDRSTRLEN];
  cleanup_free char *file =
      xasprintf("%s/%s=%s", family_dir(r->addr.family),
                host_text(&r->addr, host, sizeof(host)), id);
  if (renameat(netdir, r->file, netdir, file) < 0)
    return hull_error(err, errno, "rename `%s/%s` to `%s`", path, r->file,
                      file);
  log_debug("ipam: %s of dead container \"%s\" goes to \"%s\"", host,
            r->owner, id);
  return 0;
}

static int record_remove(int netdir, const char *path, const struct record *r,
                         hull_error_t *err) {
  if (unlinkat(netdir, r->file, 0) < 0 && errno != ENOENT)
    return hull_error(err, errno, "remove `%s/%s`", path, r->file);
  return 0;
}

/* ---- network records -------------------------------------------------- */

static struct netns_addr gateway_of(const struct netns_addr *subnet) {
  return addr_from_value(subnet->family, addr_value(subnet) + 1,
                         subnet->prefixlen);
}

static void fill_network(struct netns_network *out, const char *name,
                         const struct netns_addr *subnet4,
                         const struct netns_addr *subnet6, unsigned mtu) {
  memset(out, 0, sizeof(*out));
  snprintf(out->name, sizeof(out->name), "%s", name);
  out->subnet4 = *subnet4;
  out->gateway4 = gateway_of(subnet4);
  out->has_v6 = subnet6 != NULL;
  if (subnet6) {
    out->subnet6 = *subnet6;
    out->gateway6 = gateway_of(subnet6);
  }
  out->mtu = mtu;
}

static char *network_json(const struct netns_network *net) {
  yajl_gen g = json_gen_new(false);
  char text[ADDR_TEXT];
  yajl_gen_map_open(g);
  json_gen_string(g, "subnet4");
  json_gen_string(g, netns_addr_format(&net->subnet4, text, sizeof(text)));
  if (net->has_v6) {
    json_gen_string(g, "subnet6");
    json_gen_string(g, netns_addr_format(&net->subnet6, text, sizeof(text)));
  }
  json_gen_string(g, "mtu");
  yajl_gen_integer(g, net->mtu);
  yajl_gen_map_close(g);
  return json_gen_finish(g);
}

/* One subnet of a record: key's string, an address of family. */
static int parse_subnet(yajl_val doc, const char *key, int family,
                        const char *path, struct netns_addr *out,
                        hull_error_t *err) {
  const char *keys[] = {key, NULL};
  yajl_val v = yajl_tree_get(doc, keys, yajl_t_string);
  if (v == NULL)
    return 0;
  if (netns_addr_parse(YAJL_GET_STRING(v), out, err) < 0 ||
      out->family != family)
    return hull_error(err, 0, "`%s`: .%s: not an %s subnet", path, key,
                      family == AF_INET ? "IPv4" : "IPv6");
  return 1;
}

/* Reads <name>/network: 1 when recorded, 0 when not. */
static int read_network(const struct networks *n, const char *name,
                        struct netns_network *out, hull_error_t *err) {
  if (n->dir < 0)
    return 0;
  cleanup_free char *rel = xasprintf("%s/" RECORD_FILE, name);
  cleanup_free char *path = xasprintf("%s/%s", n->path, rel);
  cleanup_free char *data = NULL;
  cleanup_error hull_error_t read_err = NULL;
  if (read_file_at(n->dir, rel, &data, NULL, &read_err) < 0) {
    if (read_err->errno_value == ENOENT || read_err->errno_value == ENOTDIR)
      return 0;
    return hull_error(err, read_err->errno_value, "read `%s`", path);
  }
  char why[128] = "";
  yajl_val doc = yajl_tree_parse(data, why, sizeof(why));
  if (doc == NULL)
    return hull_error(err, 0, "`%s`: not JSON", path);
  struct netns_addr s4, s6;
  int has4 = parse_subnet(doc, "subnet4", AF_INET, path, &s4, err);
  int has6 = has4 < 0 ? -1 : parse_subnet(doc, "subnet6", AF_INET6, path,
                                          &s6, err);
  const char *mtu_key[] = {"mtu", NULL};
  yajl_val mtu = yajl_tree_get(doc, mtu_key, yajl_t_number);
  long long m = mtu && YAJL_IS_INTEGER(mtu) ? YAJL_GET_INTEGER(mtu) : 0;
  yajl_tree_free(doc);
  if (has4 < 0 || has6 < 0)
    return -1;
  if (!has4 || m <= 0 || m > 65535)
    return hull_error(err, 0, "`%s`: needs .subnet4 and .mtu", path);
  fill_network(out, name, &s4, has6 ? &s6 : NULL, (unsigned)m);
  return 1;
}

/* Every recorded network (*out malloc'd). */
static int read_all_networks(const struct networks *n,
                             struct netns_network **out, size_t *count,
                             hull_error_t *err) {
  *out = NULL;
  *count = 0;
  if (n->dir < 0)
    return 0;
  DIR *d = dir_stream(n->dir);
  if (d == NULL)
    return hull_error(err, errno, "open `%s`", n->path);
  struct dirent *de;
  int r = 0;
  while (r >= 0 && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    *out = xrealloc(*out, (*count + 1) * sizeof(**out));
    r = read_network(n, de->d_name, &(*out)[*count], err);
    if (r > 0)
      (*count)++;
  }
  closedir(d);
  if (r < 0) {
    free(*out);
    *out = NULL;
    *count = 0;
  }
  return r < 0 ? -1 : 0;
}

/* ---- networks --------------------------------------------------------- */

/* A subnet given for family: of that family, a network address, with room
 * for a gateway and at least one container. */
static int check_subnet(const struct netns_addr *s, int family,
                        hull_error_t *err) {
  char text[ADDR_TEXT];
  netns_addr_format(s, text, sizeof(text));
  const char *fam = family == AF_INET ? "IPv4" : "IPv6";
  if (s->family != family)
    return hull_error(err, 0, "subnet %s is not an %s subnet", text, fam);
  unsigned longest = family_bits(family) - (family == AF_INET ? 2 : 8);
  if (s->prefixlen > longest)
    return hull_error(err, 0, "subnet %s is too small (at most /%u)", text,
                      longest);
  u128 v = addr_value(s), mask = host_mask(family, s->prefixlen);
  if (v & mask) {
    struct netns_addr net = addr_from_value(family, v & ~mask, s->prefixlen);
    char net_text[ADDR_TEXT];
    return hull_error(err, 0, "subnet %s is not a network address (%s is)",
                      text, netns_addr_format(&net, net_text,
                                              sizeof(net_text)));
  }
  return 0;
}

static int check_no_overlap(const struct netns_addr *s,
                            const struct netns_network *nets, size_t n,
                            hull_error_t *err) {
  for (size_t i = 0; i < n; i++) {
    const struct netns_addr *other =
        s->family == AF_INET ? &nets[i].subnet4
                             : (nets[i].has_v6 ? &nets[i].subnet6 : NULL);
    if (other == NULL || !overlap(s, other))
      continue;
    char text[ADDR_TEXT], other_text[ADDR_TEXT];
    return hull_error(err, 0, "subnet %s overlaps network \"%s\" (%s)",
                      netns_addr_format(s, text, sizeof(text)), nets[i].name,
                      netns_addr_format(other, other_text,
                                        sizeof(other_text)));
  }
  return 0;
}

static bool no_overlap(const struct netns_addr *s,
                       const struct netns_network *nets, size_t n) {
  cleanup_error hull_error_t ignored = NULL;
  return check_no_overlap(s, nets, n, &ignored) == 0;
}

/* hull's picks: 10.89.N.0/24 and fd89:6875:6c6c:N::/64 ("hu" "ll"). */
static struct netns_addr picked4(unsigned n) {
  struct netns_addr a = {.family = AF_INET, .prefixlen = 24,
                         .bytes = {10, 89, (unsigned char)n, 0}};
  return a;
}

static struct netns_addr picked6(unsigned n) {
  struct netns_addr a = {.family = AF_INET6, .prefixlen = 64,
                         .bytes = {0xfd, 0x89, 0x68, 0x75, 0x6c, 0x6c,
                                   (unsigned char)(n >> 8), (unsigned char)n}};
  return a;
}

/* The subnets a new network gets: those given (checked against the
 * others), else hull0's or the lowest N >= 1 free for every one picked. */
static int choose_subnets(const char *name, const struct netns_addr *given4,
                          const struct netns_addr *given6,
                          const struct netns_network *nets, size_t n,
                          struct netns_addr *s4, struct netns_addr *s6,
                          bool *has_v6, hull_error_t *err) {
  bool default_net = strcmp(name, NETNS_DEFAULT_NETWORK) == 0;
  bool pick4 = given4 == NULL, pick6 = given6 == NULL;
  *has_v6 = given6 == NULL || given6->family != 0;
  *s4 = given4 ? *given4 : picked4(0);
  if (*has_v6)
    *s6 = given6 ? *given6 : picked6(0);
  if (default_net || !(pick4 || pick6)) {
    if (check_no_overlap(s4, nets, n, err) < 0)
      return -1;
    return *has_v6 ? check_no_overlap(s6, nets, n, err) : 0;
  }
  if (!pick4 && check_no_overlap(s4, nets, n, err) < 0)
    return -1;
  if (*has_v6 && !pick6 && check_no_overlap(s6, nets, n, err) < 0)
    return -1;
  unsigned last = pick4 ? 255 : 65535;
  for (unsigned i = 1; i <= last; i++) {
    struct netns_addr c4 = picked4(i), c6 = picked6(i);
    if ((pick4 && !no_overlap(&c4, nets, n)) ||
        (pick6 && *has_v6 && !no_overlap(&c6, nets, n)))
      continue;
    if (pick4)
      *s4 = c4;
    if (pick6 && *has_v6)
      *s6 = c6;
    return 0;
  }
  return hull_error(err, 0, "no free subnet for network \"%s\" in %s", name,
                    pick4 ? "10.89.0.0/16" : "fd89:6875:6c6c::/48");
}

static int check_mtu(unsigned mtu, bool has_v6, hull_error_t *err) {
  unsigned lowest = has_v6 ? 1280 : 68;
  if (mtu < lowest || mtu > 65535)
    return hull_error(err, 0, "MTU %u is out of range (%u-65535%s)", mtu,
                      lowest, has_v6 ? " with IPv6" : "");
  return 0;
}

/* A recorded network against what the caller gave. */
static int check_recorded(const struct netns_network *net,
                          const struct netns_addr *subnet4,
                          const struct netns_addr *subnet6, unsigned mtu,
                          hull_error_t *err) {
  char had[ADDR_TEXT], given[ADDR_TEXT];
  if (subnet4 && !same_addr(subnet4, &net->subnet4))
    return hull_error(err, 0, "network \"%s\" has subnet %s, not %s",
                      net->name,
                      netns_addr_format(&net->subnet4, had, sizeof(had)),
                      netns_addr_format(subnet4, given, sizeof(given)));
  if (subnet6 && subnet6->family == 0 && net->has_v6)
    return hull_error(err, 0, "network \"%s\" has subnet %s, not none",
                      net->name,
                      netns_addr_format(&net->subnet6, had, sizeof(had)));
  if (subnet6 && subnet6->family != 0 &&
      (!net->has_v6 || !same_addr(subnet6, &net->subnet6)))
    return hull_error(err, 0, "network \"%s\" has %s%s, not %s", net->name,
                      net->has_v6 ? "subnet " : "no IPv6 subnet",
                      net->has_v6 ? netns_addr_format(&net->subnet6, had,
                                                      sizeof(had))
                                  : "",
                      netns_addr_format(subnet6, given, sizeof(given)));
  if (mtu && mtu != net->mtu)
    return hull_error(err, 0, "network \"%s\" has MTU %u, not %u", net->name,
                      net->mtu, mtu);
  return 0;
}

/* Records a new network: filled in .new-<name>-<pid>, then renamed. */
static int write_network(const struct networks *n,
                         const struct netns_network *net, hull_error_t *err) {
  cleanup_free char *tmp = xasprintf(".new-%s-%d", net->name, (int)getpid());
  cleanup_free char *tmp_path = xasprintf("%s/%s", n->path, tmp);
  if (mkdirat(n->dir, tmp, 0700) < 0)
    return hull_error(err, errno, "mkdir `%s`", tmp_path);
  cleanup_free char *dir4 = xasprintf("%s/%s", tmp, family_dir(AF_INET));
  cleanup_free char *dir6 = xasprintf("%s/%s", tmp, family_dir(AF_INET6));
  if (mkdirat(n->dir, dir4, 0700) < 0 || mkdirat(n->dir, dir6, 0700) < 0) {
    int e = errno;
    cleanup_error hull_error_t ignored = NULL;
    remove_tree(tmp_path, &ignored);
    return hull_error(err, e, "mkdir in `%s`", tmp_path);
  }
  cleanup_free char *json = network_json(net);
  cleanup_free char *file = xasprintf("%s/" RECORD_FILE, tmp);
  cleanup_close int fd = openat(n->dir, file, O_WRONLY | O_CREAT | O_EXCL |
                                                  O_CLOEXEC | O_NOFOLLOW,
                                0644);
  int r = fd < 0 ? hull_error(err, errno, "create `%s/%s`", n->path, file)
                 : 0;
  if (r == 0 && write_all(fd, json, strlen(json)) < 0)
    r = hull_error(err, errno, "write `%s/%s`", n->path, file);
  if (r == 0 && renameat(n->dir, tmp, n->dir, net->name) < 0)
    r = hull_error(err, errno, "rename `%s` to `%s`", tmp_path, net->name);
  if (r < 0) {
    cleanup_error hull_error_t ignored = NULL;
    remove_tree(tmp_path, &ignored);
  }
  return r;
}

static int create_network(const struct networks *n, const char *name,
                          const struct netns_addr *subnet4,
                          const struct netns_addr *subnet6, unsigned mtu,
                          struct netns_network *out, hull_error_t *err) {
  cleanup_free struct netns_network *nets = NULL;
  size_t count;
  if (read_all_networks(n, &nets, &count, err) < 0)
    return -1;
  struct netns_addr s4, s6;
  bool has_v6;
  if (choose_subnets(name, subnet4, subnet6, nets, count, &s4, &s6, &has_v6,
                     err) < 0)
    return -1;
  if (mtu && check_mtu(mtu, has_v6, err) < 0)
    return -1;
  fill_network(out, name, &s4, has_v6 ? &s6 : NULL, mtu ? mtu : DEFAULT_MTU);
  sweep_leftovers(n);
  return write_network(n, out, err);
}

int netns_network_open(const char *root, const char *name,
                       const struct netns_addr *subnet4,
                       const struct netns_addr *subnet6, unsigned mtu,
                       bool create, struct netns_network *out,
                       hull_error_t *err) {
  if (check_network_name(name, err) < 0)
    return -1;
  if (subnet4 && check_subnet(subnet4, AF_INET, err) < 0)
    return -1;
  if (subnet6 && subnet6->family != 0 &&
      check_subnet(subnet6, AF_INET6, err) < 0)
    return -1;
  /* Records appear whole: a recorded network reads without the lock. */
  {
    cleanup_networks struct networks n = {.dir = -1, .lock = -1};
    n.path = xasprintf("%s/" NETWORKS_DIR, root);
    n.dir = open(n.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    int r = read_network(&n, name, out, err);
    if (r > 0)
      return check_recorded(out, subnet4, subnet6, mtu, err);
    if (r < 0)
      return -1;
  }
  if (!create) {
    hull_error(err, 0, "network \"%s\" does not exist", name);
    (*err)->errno_value = ENOENT;
    return -1;
  }
  cleanup_networks struct networks n;
  if (networks_lock(root, true, LOCK_EX, &n, err) < 0)
    return -1;
  int r = read_network(&n, name, out, err); /* made while we waited? */
  if (r != 0)
    return r < 0 ? -1 : check_recorded(out, subnet4, subnet6, mtu, err);
  return create_network(&n, name, subnet4, subnet6, mtu, out, err);
}

/* The first record's owner in a network's directory, NULL when none. */
static int first_owner(int netdir, const char *path, char **owner,
                       hull_error_t *err) {
  *owner = NULL;
  cleanup_records struct records recs;
  if (read_records(netdir, path, 0, &recs, err) < 0)
    return -1;
  if (recs.n > 0)
    *owner = xstrdup(recs.v[0].owner);
  return 0;
}

int netns_network_remove(const char *root, const char *name,
                         hull_error_t *err) {
  if (check_network_name(name, err) < 0)
    return -1;
  cleanup_networks struct networks n;
  if (networks_lock(root, false, LOCK_EX, &n, err) < 0)
    return -1;
  cleanup_close int netdir = open_network_dir(&n, name, err);
  if (netdir < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", n.path, name);
  cleanup_free char *owner = NULL;
  if (first_owner(netdir, path, &owner, err) < 0)
    return -1;
  if (owner) {
    hull_error(err, 0, "network \"%s\" is in use by container \"%s\"", name,
               owner);
    (*err)->errno_value = EBUSY;
    return -1;
  }
  sweep_leftovers(&n);
  cleanup_free char *old = xasprintf(".old-%s-%d", name, (int)getpid());
  if (renameat(n.dir, name, n.dir, old) < 0)
    return hull_error(err, errno, "rename `%s` to `%s`", path, old);
  cleanup_free char *old_path = xasprintf("%s/%s", n.path, old);
  return remove_tree(old_path, err);
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int netns_network_list(const char *root, char ***names, hull_error_t *err) {
  *names = xzalloc(sizeof(char *));
  cleanup_networks struct networks n;
  if (networks_lock(root, false, LOCK_SH, &n, err) < 0)
    return -1;
  cleanup_free struct netns_network *nets = NULL;
  size_t count;
  if (read_all_networks(&n, &nets, &count, err) < 0)
    return -1;
  for (size_t i = 0; i < count; i++)
    strv_append(names, nets[i].name);
  qsort(*names, count, sizeof(char *), compare_strings);
  return 0;
}

/* ---- addresses -------------------------------------------------------- */

/* want against the subnet: of its family and in it, a container's. */
static int check_wanted(const struct netns_network *net,
                        const struct netns_addr *subnet,
                        const struct netns_addr *want, hull_error_t *err) {
  char host[INET6_ADDRSTRLEN], text[ADDR_TEXT], sub[ADDR_TEXT];
  host_text(want, host, sizeof(host));
  netns_addr_format(subnet, sub, sizeof(sub));
  if (want->family != subnet->family)
    return hull_error(err, 0, "%s is not an %s address", host,
                      subnet->family == AF_INET ? "IPv4" : "IPv6");
  if (want->prefixlen != family_bits(want->family) &&
      want->prefixlen != subnet->prefixlen)
    return hull_error(err, 0, "%s does not match network \"%s\" (%s)",
                      netns_addr_format(want, text, sizeof(text)), net->name,
                      sub);
  u128 mask = host_mask(subnet->family, subnet->prefixlen);
  u128 v = addr_value(want);
  if ((v & ~mask) != addr_value(subnet))
    return hull_error(err, 0, "%s is outside network \"%s\" (%s)", host,
                      net->name, sub);
  u128 offset = v & mask;
  const char *what = offset == 0   ? "subnet address"
                     : offset == 1 ? "gateway"
                     : offset > last_host(subnet) ? "broadcast address"
                                                  : NULL;
  if (what)
    return hull_error(err, 0, "%s is the %s of network \"%s\"", host, what,
                      net->name);
  return 0;
}

/* What take works with: the records of one family in the subnet, sorted
 * by address. */
struct take {
  const struct netns_addr *subnet;
  int netdir;
  char *path;
  struct records recs;
  const char *id;
  netns_owner_alive alive;
  void *ctx;
};

static u128 offset_of(const struct take *t, const struct record *r) {
  return addr_value(&r->addr) & host_mask(t->subnet->family,
                                          t->subnet->prefixlen);
}

static int compare_records(const void *a, const void *b) {
  const struct record *ra = a, *rb = b;
  return memcmp(ra->addr.bytes, rb->addr.bytes, sizeof(ra->addr.bytes));
}

/* Keeps the records that are container addresses of the subnet. */
static void keep_subnet_hosts(struct take *t) {
  u128 mask = host_mask(t->subnet->family, t->subnet->prefixlen);
  u128 net = addr_value(t->subnet), last = last_host(t->subnet);
  size_t kept = 0;
  for (size_t i = 0; i < t->recs.n; i++) {
    struct record *r = &t->recs.v[i];
    u128 v = addr_value(&r->addr);
    if (r->addr.family == t->subnet->family && (v & ~mask) == net &&
        (v & mask) >= 2 && (v & mask) <= last)
      t->recs.v[kept++] = *r;
    else
      free(r->file);
  }
  t->recs.n = kept;
  qsort(t->recs.v, t->recs.n, sizeof(*t->recs.v), compare_records);
}

static bool owner_alive(const struct take *t, const char *owner) {
  return t->alive == NULL || t->alive(owner, t->ctx);
}

static bool mine(const struct take *t, const struct record *r) {
  return strcmp(r->owner, t->id) == 0;
}

/* Frees what id held besides the address at keep (after a move, or a
 * crash midway through one). */
static int drop_mine_except(struct take *t, u128 keep, hull_error_t *err) {
  for (size_t i = 0; i < t->recs.n; i++) {
    struct record *r = &t->recs.v[i];
    if (mine(t, r) && offset_of(t, r) != keep &&
        record_remove(t->netdir, t->path, r, err) < 0)
      return -1;
  }
  return 0;
}

static const struct record *held_at(const struct take *t, u128 offset) {
  for (size_t i = 0; i < t->recs.n; i++)
    if (offset_of(t, &t->recs.v[i]) == offset)
      return &t->recs.v[i];
  return NULL;
}

/* The wanted address: id's already, free, or a dead owner's. */
static int take_wanted(struct take *t, const struct netns_addr *want,
                       u128 *offset, hull_error_t *err) {
  u128 mask = host_mask(t->subnet->family, t->subnet->prefixlen);
  *offset = addr_value(want) & mask;
  const struct record *holder = held_at(t, *offset);
  struct netns_addr a = *want;
  a.prefixlen = t->subnet->prefixlen;
  if (holder == NULL)
    return record_create(t->netdir, t->path, &a, t->id, err);
  if (mine(t, holder))
    return 0;
  if (owner_alive(t, holder->owner)) {
    char host[INET6_ADDRSTRLEN];
    return hull_error(err, 0, "%s is taken by container \"%s\"",
                      host_text(want, host, sizeof(host)), holder->owner);
  }
  return record_reclaim(t->netdir, t->path, holder, t->id, err);
}

/* The lowest address without a record, else the lowest a dead owner
 * holds. */
static int take_lowest(struct take *t, u128 *offset, hull_error_t *err) {
  u128 candidate = 2;
  for (size_t i = 0; i < t->recs.n; i++) {
    u128 o = offset_of(t, &t->recs.v[i]);
    if (o > candidate)
      break;
    if (o == candidate)
      candidate++;
  }
  if (candidate <= last_host(t->subnet)) {
    *offset = candidate;
    struct netns_addr a =
        addr_from_value(t->subnet->family, addr_value(t->subnet) + candidate,
                        t->subnet->prefixlen);
    return record_create(t->netdir, t->path, &a, t->id, err);
  }
  for (size_t i = 0; i < t->recs.n; i++) {
    const struct record *r = &t->recs.v[i];
    if (owner_alive(t, r->owner))
      continue;
    *offset = offset_of(t, r);
    return record_reclaim(t->netdir, t->path, r, t->id, err);
  }
  char sub[ADDR_TEXT];
  return hull_error(err, 0, "no free address in %s",
                    netns_addr_format(t->subnet, sub, sizeof(sub)));
}

int netns_ipam_take(const char *root, const struct netns_network *net,
                    int family, const struct netns_addr *want, const char *id,
                    netns_owner_alive alive, void *ctx,
                    struct netns_addr *out, hull_error_t *err) {
  if (check_id(id, err) < 0)
    return -1;
  if (family != AF_INET && family != AF_INET6)
    return hull_error(err, 0, "address family %d: not IPv4 or IPv6", family);
  if (family == AF_INET6 && !net->has_v6)
    return hull_error(err, 0, "network \"%s\" has no IPv6 subnet", net->name);
  const struct netns_addr *subnet =
      family == AF_INET ? &net->subnet4 : &net->subnet6;
  if (want && check_wanted(net, subnet, want, err) < 0)
    return -1;

  cleanup_networks struct networks n;
  if (networks_lock(root, false, LOCK_EX, &n, err) < 0)
    return -1;
  cleanup_close int netdir = open_network_dir(&n, net->name, err);
  if (netdir < 0)
    return -1;
  cleanup_free char *path = xasprintf("%s/%s", n.path, net->name);
  struct take t = {.subnet = subnet, .netdir = netdir, .path = path,
                   .id = id, .alive = alive, .ctx = ctx};
  if (read_records(netdir, path, family, &t.recs, err) < 0) {
    records_free(&t.recs);
    return -1;
  }
  keep_subnet_hosts(&t);

  /* Idempotent: what id holds already (the lowest, should a crash have
   * left two), unless it wants another. */
  const struct record *held = NULL;
  for (size_t i = 0; i < t.recs.n && held == NULL; i++)
    if (mine(&t, &t.recs.v[i]))
      held = &t.recs.v[i];
  u128 offset = held ? offset_of(&t, held) : 0;
  int r = 0;
  if (want)
    r = take_wanted(&t, want, &offset, err);
  else if (held == NULL)
    r = take_lowest(&t, &offset, err);
  if (r == 0)
    r = drop_mine_except(&t, offset, err);
  if (r == 0)
    *out = addr_from_value(family, addr_value(subnet) + offset,
                           subnet->prefixlen);
  records_free(&t.recs);
  return r;
}

/* Frees id's records in one network's directory. */
static int release_in(const struct networks *n, const char *name,
                      const char *id, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", n->path, name);
  cleanup_close int netdir =
      openat(n->dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (netdir < 0)
    return errno == ENOENT || errno == ENOTDIR
               ? 0
               : hull_error(err, errno, "open `%s`", path);
  cleanup_records struct records recs;
  if (read_records(netdir, path, 0, &recs, err) < 0)
    return -1;
  for (size_t i = 0; i < recs.n; i++)
    if (strcmp(recs.v[i].owner, id) == 0 &&
        record_remove(netdir, path, &recs.v[i], err) < 0)
      return -1;
  return 0;
}

/* Goes by every network's directory, not its record: a network whose
 * record went bad still gives its addresses back. */
int netns_ipam_release(const char *root, const char *id, hull_error_t *err) {
  if (check_id(id, err) < 0)
    return -1;
  cleanup_networks struct networks n;
  if (networks_lock(root, false, LOCK_EX, &n, err) < 0)
    return -1;
  if (n.dir < 0)
    return 0;
  DIR *d = dir_stream(n.dir);
  if (d == NULL)
    return hull_error(err, errno, "open `%s`", n.path);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      r = release_in(&n, de->d_name, id, err);
  closedir(d);
  return r;
}

int netns_ipam_owners(const char *root, const char *name, char ***ids,
                      hull_error_t *err) {
  *ids = xzalloc(sizeof(char *));
  if (check_network_name(name, err) < 0)
    return -1;
  cleanup_networks struct networks n;
  if (networks_lock(root, false, LOCK_SH, &n, err) < 0)
    return -1;
  if (n.dir < 0)
    return 0;
  cleanup_close int netdir =
      openat(n.dir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_free char *path = xasprintf("%s/%s", n.path, name);
  if (netdir < 0)
    return errno == ENOENT ? 0 : hull_error(err, errno, "open `%s`", path);
  cleanup_records struct records recs;
  if (read_records(netdir, path, 0, &recs, err) < 0)
    return -1;
  size_t count = 0;
  for (size_t i = 0; i < recs.n; i++) {
    bool seen = false;
    for (size_t j = 0; j < count && !seen; j++)
      seen = strcmp((*ids)[j], recs.v[i].owner) == 0;
    if (!seen) {
      strv_append(ids, recs.v[i].owner);
      count++;
    }
  }
  qsort(*ids, count, sizeof(char *), compare_strings);
  return 0;
}
