/* network.c — hull's own networks, for containers run without an engine:
 * the run.oci.network* annotations (hull-network(8)).
 *
 *   run.oci.network=bridge          a veth pair, `eth0` inside, on a bridge
 *   run.oci.network.bridge=NAME     the network (and its bridge): hull0
 *   run.oci.network.create=false    refuse a network that does not exist
 *   run.oci.network.subnet=CIDR     its IPv4 subnet, when it is made
 *   run.oci.network.subnet6=CIDR    its IPv6 subnet, when it is made
 *   run.oci.network.ip=ADDR         a static IPv4 address; .ip6 IPv6
 *   run.oci.network.ports=8080:80/tcp,...   published ports
 *   run.oci.network.mtu=N
 *   run.oci.network.dns=ADDR,...    /etc/resolv.conf's nameservers
 *
 *   run.oci.network=pasta|slirp4netns   a user-mode helper's `eth0`
 *                                   (user-network.c): for rootless hull
 *   run.oci.network.allow_host_loopback=true   the host's loopback at the
 *                                   gateway's address (theirs only)
 *   with .ports, .mtu and .dns as above; the bridge's own are refused.
 *
 * Three steps. Before the init exists (network_prepare): the addresses,
 * from the allocator under --root, and /etc/hosts and /etc/resolv.conf
 * written in the state dir and bind-mounted, unless config.json mounts
 * its own. Once its namespaces exist (network_attach): the bridge (made
 * on first use, with its nftables rules), the veth pair, the published
 * ports. At delete (network_detach): all of it, found by the container's
 * id alone, so that `delete --force` after a crash at any point of create
 * finds everything there is. */
#include "lifecycle.h"
#include "netns/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETWORK_ANNOTATION NETNS_ANNOTATION
#define NETWORK_PREFIX NETNS_ANNOTATION_PREFIX
#define NETWORK_MODE_BRIDGE "bridge"
#define NETWORK_MODE_PASTA "pasta"
#define NETWORK_MODE_SLIRP4NETNS "slirp4netns"
#define DEFAULT_NETWORK NETNS_DEFAULT_NETWORK
#define INNER_NAME "eth0"
#define HOSTS_FILE "hosts"
#define RESOLV_FILE "resolv.conf"

static const char *const known_annotations[] = {
    "bridge", "create", "subnet", "subnet6", "ip", "ip6", "ports", "mtu",
    "dns", "allow_host_loopback", NULL};

/* What only one kind of network has. */
static const char *const bridge_only[] = {
    "bridge", "create", "subnet", "subnet6", "ip", "ip6", NULL};
static const char *const user_mode_only[] = {"allow_host_loopback", NULL};

/* slirp4netns's largest MTU. */
#define SLIRP4NETNS_MAX_MTU 65521

struct network_request {
  enum network_mode mode;
  bool host_loopback;
  char bridge[IFNAMSIZ];
  bool create;
  const struct netns_addr *subnet4, *subnet6, *ip4, *ip6;
  struct netns_addr subnet4_buf, subnet6_buf, ip4_buf, ip6_buf;
  struct netns_port *ports;
  size_t n_ports;
  unsigned mtu;
  const char *dns;
};

static void request_free(struct network_request *r) { free(r->ports); }

static const char *annotation(const struct spec_map *a, const char *name) {
  char key[64];
  snprintf(key, sizeof(key), NETWORK_PREFIX "%s", name);
  return spec_map_get(a, key);
}

bool network_wanted(const struct spec_map *annotations) {
  return spec_map_get(annotations, NETWORK_ANNOTATION) != NULL;
}

/* An address of family in text, with a prefix (subnet) or without one
 * (a host address). */
static int parse_address(const struct spec_map *a, const char *name,
                         int family, bool subnet, struct netns_addr *buf,
                         const struct netns_addr **out, hull_error_t *err) {
  const char *text = annotation(a, name);
  *out = NULL;
  if (text == NULL)
    return 0;
  const char *what = family == AF_INET ? (subnet ? "an IPv4 subnet (CIDR)"
                                                 : "an IPv4 address")
                                       : (subnet ? "an IPv6 subnet (CIDR)"
                                                 : "an IPv6 address");
  cleanup_error hull_error_t ignored = NULL;
  bool has_prefix = strchr(text, '/') != NULL;
  if (netns_addr_parse(text, buf, &ignored) < 0 || buf->family != family ||
      has_prefix != subnet)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX "%s: \"%s\" is "
                              "not %s", name, text, what);
  *out = buf;
  return 0;
}

static int parse_mtu(const struct spec_map *a, unsigned *mtu,
                     hull_error_t *err) {
  const char *text = annotation(a, "mtu");
  *mtu = 0;
  if (text == NULL)
    return 0;
  char *end;
  errno = 0;
  unsigned long v = strtoul(text, &end, 10);
  /* 1280: what IPv6 needs; 65535: what a veth takes. */
  if (errno || end == text || *end || v < 1280 || v > 65535)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX "mtu: \"%s\" is "
                              "not an MTU (1280 to 65535)", text);
  *mtu = (unsigned)v;
  return 0;
}

static int parse_bridge(const struct spec_map *a, struct network_request *r,
                        hull_error_t *err) {
  const char *name = annotation(a, "bridge");
  if (name == NULL)
    name = DEFAULT_NETWORK;
  size_t len = strlen(name);
  if (len == 0 || len >= IFNAMSIZ || strpbrk(name, "/: \t\n%") ||
      strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX "bridge: \"%s\" "
                              "is not an interface name (1 to %d bytes, no "
                              "'/', ':', '%%' or space)", name, IFNAMSIZ - 1);
  memcpy(r->bridge, name, len + 1);
  const char *create = annotation(a, "create");
  r->create = create == NULL || strcmp(create, "true") == 0;
  if (create && !r->create && strcmp(create, "false") != 0)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX "create: \"%s\" "
                              "is not true or false", create);
  return 0;
}

static int parse_ports(const struct spec_map *a, struct network_request *r,
                       hull_error_t *err) {
  const char *text = annotation(a, "ports");
  if (text == NULL)
    return 0;
  if (netns_ports_parse(text, &r->ports, &r->n_ports, err) < 0)
    return hull_error_wrap(err, "annotation " NETWORK_PREFIX "ports");
  return 0;
}

static int parse_mode(const struct spec_map *a, enum network_mode *mode,
                      hull_error_t *err) {
  const char *text = spec_map_get(a, NETWORK_ANNOTATION);
  if (strcmp(text, NETWORK_MODE_BRIDGE) == 0)
    *mode = NETWORK_BRIDGE;
  else if (strcmp(text, NETWORK_MODE_PASTA) == 0)
    *mode = NETWORK_PASTA;
  else if (strcmp(text, NETWORK_MODE_SLIRP4NETNS) == 0)
    *mode = NETWORK_SLIRP4NETNS;
  else
    return hull_error(err, 0, "annotation " NETWORK_ANNOTATION ": \"%s\" is "
                              "not a network mode hull has (bridge, pasta, "
                              "slirp4netns)", text);
  return 0;
}

/* An annotation of the other kind of network than mode's. */
static int refuse_other_kind(const struct spec_map *a, enum network_mode mode,
                             hull_error_t *err) {
  const char *const *other =
      mode == NETWORK_BRIDGE ? user_mode_only : bridge_only;
  for (const char *const *name = other; *name; name++)
    if (annotation(a, *name) != NULL)
      return hull_error(err, 0, "annotation " NETWORK_PREFIX "%s: only with "
                        NETWORK_ANNOTATION "=%s", *name,
                        mode == NETWORK_BRIDGE
                            ? NETWORK_MODE_PASTA " or " NETWORK_MODE_SLIRP4NETNS
                            : NETWORK_MODE_BRIDGE);
  return 0;
}

static int parse_host_loopback(const struct spec_map *a, bool *on,
                               hull_error_t *err) {
  const char *text = annotation(a, "allow_host_loopback");
  *on = text != NULL && strcmp(text, "true") == 0;
  if (text && !*on && strcmp(text, "false") != 0)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX
                              "allow_host_loopback: \"%s\" is not true or "
                              "false", text);
  return 0;
}

/* What the annotations of a user-mode helper's network ask. */
static int parse_user_mode(const struct spec_map *a,
                           struct network_request *r, hull_error_t *err) {
  if (parse_host_loopback(a, &r->host_loopback, err) < 0 ||
      parse_mtu(a, &r->mtu, err) < 0 || parse_ports(a, r, err) < 0)
    return -1;
  if (r->mode == NETWORK_SLIRP4NETNS && r->mtu > SLIRP4NETNS_MAX_MTU)
    return hull_error(err, 0, "annotation " NETWORK_PREFIX "mtu: \"%u\" is "
                              "more than slirp4netns takes (%d)", r->mtu,
                      SLIRP4NETNS_MAX_MTU);
  return 0;
}

/* Everything the annotations ask, checked. */
static int parse_request(const struct spec *spec, struct network_request *r,
                         hull_error_t *err) {
  const struct spec_map *a = &spec->annotations;
  memset(r, 0, sizeof(*r));
  r->dns = annotation(a, "dns");
  if (parse_mode(a, &r->mode, err) < 0 ||
      spec_refuse_unknown_annotations(a, NETWORK_PREFIX, known_annotations,
                                      err) < 0 ||
      refuse_other_kind(a, r->mode, err) < 0)
    return -1;
  if (r->mode != NETWORK_BRIDGE)
    return parse_user_mode(a, r, err);
  if (parse_bridge(a, r, err) < 0 || parse_mtu(a, &r->mtu, err) < 0 ||
      parse_ports(a, r, err) < 0)
    return -1;
  return parse_address(a, "subnet", AF_INET, true, &r->subnet4_buf,
                       &r->subnet4, err) < 0 ||
                 parse_address(a, "subnet6", AF_INET6, true, &r->subnet6_buf,
                               &r->subnet6, err) < 0 ||
                 parse_address(a, "ip", AF_INET, false, &r->ip4_buf, &r->ip4,
                               err) < 0 ||
                 parse_address(a, "ip6", AF_INET6, false, &r->ip6_buf,
                               &r->ip6, err) < 0
             ? -1
             : 0;
}

static int check_dns(const char *list, hull_error_t *err) {
  cleanup_free char *copy = xstrdup(list);
  char *save = NULL;
  for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
    unsigned char bytes[16];
    if (inet_pton(AF_INET, s, bytes) != 1 && inet_pton(AF_INET6, s, bytes) != 1)
      return hull_error(err, 0, "annotation " NETWORK_PREFIX "dns: \"%s\" is "
                                "not an IP address", s);
  }
  return 0;
}

int network_check(const struct spec *spec, hull_error_t *err) {
  if (!network_wanted(&spec->annotations))
    return 0;
  const struct spec_namespace *ns = spec_namespace_find(spec, SPEC_NS_NETWORK);
  if (ns == NULL || (ns->path && *ns->path))
    return hull_error(err, 0, "annotation " NETWORK_ANNOTATION ": needs a "
                              "new network namespace (linux.namespaces: "
                              "network without a path)");
  struct network_request r;
  int ret = parse_request(spec, &r, err);
  if (ret == 0 && r.dns)
    ret = check_dns(r.dns, err);
  /* A helper that is not installed fails create before anything exists. */
  cleanup_free char *helper = NULL;
  if (ret == 0 && r.mode != NETWORK_BRIDGE)
    ret = user_network_find(r.mode, &helper, err);
  request_free(&r);
  return ret;
}

/* ---- the allocator's view of containers --------------------------------- */

/* <root> of a state dir <root>/<id>. */
static char *root_of(const struct lifecycle *lc) {
  cleanup_free char *copy = xstrdup(lc->dir.path);
  return xstrdup(dirname(copy));
}

/* An address's owner is alive while its state dir exists. */
static bool owner_alive(const char *id, void *ctx) {
  const char *root = ctx;
  cleanup_free char *path = xasprintf("%s/%s", root, id);
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- /etc/hosts and /etc/resolv.conf ------------------------------------ */

static bool config_mounts(const struct spec *spec, const char *dest) {
  for (size_t i = 0; i < spec->n_mounts; i++)
    if (strcmp(spec->mounts[i].destination, dest) == 0)
      return true;
  return false;
}

static void add_file_mount(struct spec *spec, const char *source,
                           const char *dest) {
  spec->mounts =
      xrealloc(spec->mounts, (spec->n_mounts + 1) * sizeof(*spec->mounts));
  struct spec_mount *m = &spec->mounts[spec->n_mounts++];
  memset(m, 0, sizeof(*m));
  m->destination = xstrdup(dest);
  m->source = xstrdup(source);
  m->type = xstrdup("bind");
  m->options = xzalloc(5 * sizeof(char *));
  m->options[0] = xstrdup("bind");
  m->options[1] = xstrdup("nosuid");
  m->options[2] = xstrdup("nodev");
  m->options[3] = xstrdup("noexec");
}

static char *hosts_text(const struct spec *spec, const char *id,
                        const struct network_attachment *at) {
  const char *name = spec->hostname && *spec->hostname ? spec->hostname : id;
  char a4[INET6_ADDRSTRLEN] = "", a6[INET6_ADDRSTRLEN] = "";
  inet_ntop(AF_INET, at->addr4.bytes, a4, sizeof(a4));
  if (at->has_addr6)
    inet_ntop(AF_INET6, at->addr6.bytes, a6, sizeof(a6));
  return xasprintf("127.0.0.1\tlocalhost\n"
                   "::1\tlocalhost ip6-localhost ip6-loopback\n"
                   "%s\t%s\n%s%s%s%s",
                   a4, name, a6, *a6 ? "\t" : "", *a6 ? name : "",
                   *a6 ? "\n" : "");
}

static bool loopback_nameserver(const char *addr) {
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

/* The host's resolv.conf without its loopback nameservers (a local cache
 * such as systemd-resolved's 127.0.0.53 is not reachable from the
 * container's namespace), or the nameservers the annotation names. */
static char *resolv_text(const char *dns) {
  char *out = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&out, &size);
  if (mem == NULL)
    abort();
  if (dns) {
    cleanup_free char *copy = xstrdup(dns);
    char *save = NULL;
    for (char *s = strtok_r(copy, ",", &save); s;
         s = strtok_r(NULL, ",", &save))
      fprintf(mem, "nameserver %s\n", s);
  } else {
    cleanup_fclose FILE *f = fopen("/etc/resolv.conf", "re");
    char line[512];
    while (f && fgets(line, sizeof(line), f)) {
      char addr[256];
      if (sscanf(line, " nameserver %255s", addr) == 1 &&
          loopback_nameserver(addr))
        continue;
      fprintf(mem, "%s%s", line, strchr(line, '\n') ? "" : "\n");
    }
  }
  fclose(mem);
  return out;
}

static int write_state_file(struct lifecycle *lc, const char *name,
                            const char *text, const char *dest,
                            hull_error_t *err) {
  char dir[PATH_MAX];
  if (realpath(lc->dir.path, dir) == NULL)
    return hull_error(err, errno, "resolve `%s`", lc->dir.path);
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  if (write_file_atomic(path, text, strlen(text), 0644, err) < 0)
    return -1;
  add_file_mount(lc->spec, path, dest);
  return 0;
}

static int write_name_files(struct lifecycle *lc,
                            const struct network_attachment *at,
                            const char *dns, hull_error_t *err) {
  if (!config_mounts(lc->spec, "/etc/hosts")) {
    cleanup_free char *text = hosts_text(lc->spec, lc->state->id, at);
    if (write_state_file(lc, HOSTS_FILE, text, "/etc/hosts", err) < 0)
      return -1;
  }
  if (!config_mounts(lc->spec, "/etc/resolv.conf")) {
    cleanup_free char *text = resolv_text(dns);
    if (write_state_file(lc, RESOLV_FILE, text, "/etc/resolv.conf", err) < 0)
      return -1;
  }
  return 0;
}

/* ---- create and delete ---------------------------------------------------- */

static int take_addresses(const char *root, const char *id,
                          const struct network_request *r,
                          struct network_attachment *at, hull_error_t *err) {
  if (netns_ipam_take(root, &at->net, AF_INET, r->ip4, id, owner_alive,
                      (void *)root, &at->addr4, err) < 0)
    return hull_error_wrap(err, "annotation %s",
                           r->ip4 ? NETWORK_PREFIX "ip" : NETWORK_ANNOTATION);
  if (!at->net.has_v6) {
    if (r->ip6)
      return hull_error(err, 0, "annotation " NETWORK_PREFIX "ip6: network "
                                "\"%s\" has no IPv6 subnet", r->bridge);
    return 0;
  }
  if (netns_ipam_take(root, &at->net, AF_INET6, r->ip6, id, owner_alive,
                      (void *)root, &at->addr6, err) < 0)
    return hull_error_wrap(err, "annotation %s",
                           r->ip6 ? NETWORK_PREFIX "ip6" : NETWORK_ANNOTATION);
  at->has_addr6 = true;
  return 0;
}

/* slirp4netns answers DNS at this address of its network, 10.0.2.0/24. */
#define SLIRP4NETNS_DNS "10.0.2.3"

/* A user-mode helper's network: only /etc/resolv.conf to write (pasta's
 * container reaches the host's nameservers, slirp4netns's its own
 * forwarder); the address is the helper's to set up. */
static int prepare_user_mode(struct lifecycle *lc, struct network_request *r,
                             struct network_attachment **out,
                             hull_error_t *err) {
  if (!config_mounts(lc->spec, "/etc/resolv.conf")) {
    const char *dns = r->dns ? r->dns
                      : r->mode == NETWORK_SLIRP4NETNS ? SLIRP4NETNS_DNS
                                                       : NULL;
    cleanup_free char *text = resolv_text(dns);
    if (write_state_file(lc, RESOLV_FILE, text, "/etc/resolv.conf", err) < 0) {
      request_free(r);
      return -1;
    }
  }
  struct network_attachment *at = xzalloc(sizeof(*at));
  at->mode = r->mode;
  at->host_loopback = r->host_loopback;
  at->ports = take_ptr(r->ports);
  at->n_ports = r->n_ports;
  at->mtu = r->mtu;
  *out = at;
  return 0;
}

int network_prepare(struct lifecycle *lc, struct network_attachment **out,
                    hull_error_t *err) {
  *out = NULL;
  if (!network_wanted(&lc->spec->annotations))
    return 0;
  struct network_request r;
  if (parse_request(lc->spec, &r, err) < 0) {
    request_free(&r);
    return -1;
  }
  if (r.mode != NETWORK_BRIDGE)
    return prepare_user_mode(lc, &r, out, err);
  cleanup_free char *root = root_of(lc);
  struct network_attachment *at = xzalloc(sizeof(*at));
  int ret = netns_network_open(root, r.bridge, r.subnet4, r.subnet6, 0,
                               r.create, &at->net, err);
  if (ret < 0)
    hull_error_wrap(err, "annotation %s",
                    r.subnet4   ? NETWORK_PREFIX "subnet"
                    : r.subnet6 ? NETWORK_PREFIX "subnet6"
                                : NETWORK_PREFIX "bridge");
  if (ret == 0)
    ret = take_addresses(root, lc->state->id, &r, at, err);
  if (ret == 0)
    ret = write_name_files(lc, at, r.dns, err);
  if (ret == 0) {
    at->ports = take_ptr(r.ports);
    at->n_ports = r.n_ports;
    at->mtu = r.mtu ? r.mtu : at->net.mtu;
    *out = at;
  } else {
    network_attachment_free(at);
  }
  request_free(&r);
  return ret;
}

void network_attachment_free(struct network_attachment *at) {
  if (at == NULL)
    return;
  free(at->ports);
  free(at);
}

void network_attachment_freep(struct network_attachment **at) {
  network_attachment_free(*at);
}

/* The bridge, and its nftables rules when this create made it. */
static int ensure_bridge(const struct network_attachment *at,
                         const struct netns_bridge_config *b,
                         hull_error_t *err) {
  bool created = false;
  if (netns_bridge_ensure(b, true, &created, err) < 0)
    return -1;
  if (!created)
    return 0;
  return netns_nft_network_add(b->name, &at->net.subnet4,
                               at->net.has_v6 ? &at->net.subnet6 : NULL, err);
}

int network_attach(struct lifecycle *lc, const struct network_attachment *at,
                   pid_t pid, hull_error_t *err) {
  if (at == NULL)
    return 0;
  if (at->mode != NETWORK_BRIDGE)
    return user_network_start(lc, at, pid, err);
  struct netns_bridge_config b = {
      .name = at->net.name, .gateway4 = &at->net.gateway4,
      .gateway6 = at->net.has_v6 ? &at->net.gateway6 : NULL,
      .mtu = at->net.mtu};
  struct netns_endpoint e = {
      .owner = lc->state->id, .inner = INNER_NAME, .addr4 = &at->addr4,
      .addr6 = at->has_addr6 ? &at->addr6 : NULL, .mtu = at->mtu};
  netns_endpoint_name(e.owner, e.host_if);
  cleanup_free char *ns_path = xasprintf("/proc/%d/ns/net", (int)pid);
  cleanup_close int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (ns < 0)
    return hull_error(err, errno, "open `%s`", ns_path);
  if (ensure_bridge(at, &b, err) < 0 ||
      netns_endpoint_add(&b, &e, ns, err) < 0)
    return hull_error_wrap(err, "network \"%s\"", at->net.name);
  if (at->n_ports &&
      netns_nft_publish(e.owner, b.name, &at->addr4,
                        at->has_addr6 ? &at->addr6 : NULL, at->ports,
                        at->n_ports, err) < 0)
    return hull_error_wrap(err, "annotation " NETWORK_PREFIX "ports");
  log_debug("network \"%s\": %s on %s", at->net.name, e.host_if, b.name);
  return 0;
}

int network_detach(struct lifecycle *lc, hull_error_t *err) {
  if (!network_wanted(&lc->state->annotations))
    return 0;
  /* Whatever the annotation says now: a helper state.json names goes. */
  if (user_network_stop(lc, err) < 0)
    return -1;
  const char *mode = spec_map_get(&lc->state->annotations, NETWORK_ANNOTATION);
  if (strcmp(mode, NETWORK_MODE_BRIDGE) != 0)
    return 0;
  cleanup_free char *root = root_of(lc);
  const char *id = lc->state->id;
  /* Only published ports have rules of the container's (and reading the
   * table costs with every rule in it). */
  bool published = annotation(&lc->state->annotations, "ports") != NULL;
  if (netns_endpoint_del(id, err) < 0 ||
      (published && netns_nft_forget(id, err) < 0) ||
      netns_ipam_release(root, id, err) < 0)
    return hull_error_wrap(err, "network of container %s", id);
  return 0;
}

/* ---- hull network ls / check ---------------------------------------------- */

static void add_line(char ***lines, char *line) {
  strv_append(lines, line);
  free(line);
}

static char *network_line(const char *root, const char *name,
                          hull_error_t *err) {
  struct netns_network net;
  if (netns_network_open(root, name, NULL, NULL, 0, false, &net, err) < 0)
    return NULL;
  char s4[INET6_ADDRSTRLEN + 4], s6[INET6_ADDRSTRLEN + 4] = "-";
  netns_addr_format(&net.subnet4, s4, sizeof(s4));
  if (net.has_v6)
    netns_addr_format(&net.subnet6, s6, sizeof(s6));
  cleanup_strv char **ids = NULL;
  if (netns_ipam_owners(root, name, &ids, err) < 0)
    return NULL;
  cleanup_free char *joined = xstrdup("");
  for (char **id = ids; id && *id; id++) {
    char *longer = xasprintf("%s%s%s", joined, *joined ? "," : "", *id);
    free(joined);
    joined = longer;
  }
  return xasprintf("%s\t%s\t%s\t%s", name, s4, s6, *joined ? joined : "-");
}

int container_network_list(const char *root, char ***lines,
                           hull_error_t *err) {
  *lines = NULL;
  cleanup_strv char **names = NULL;
  if (netns_network_list(root, &names, err) < 0)
    return -1;
  add_line(lines, xstrdup("NETWORK\tSUBNET\tSUBNET6\tCONTAINERS"));
  for (char **n = names; n && *n; n++) {
    char *line = network_line(root, *n, err);
    if (line == NULL)
      return -1;
    add_line(lines, line);
  }
  return 0;
}

int container_network_remove(const char *root, const char *name,
                             hull_error_t *err) {
  struct netns_network net;
  if (netns_network_open(root, name, NULL, NULL, 0, false, &net, err) < 0)
    return -1;
  cleanup_strv char **ids = NULL;
  if (netns_ipam_owners(root, name, &ids, err) < 0)
    return -1;
  /* Refused before anything goes: its containers keep their network. */
  if (ids && ids[0])
    return hull_error(err, EBUSY, "network \"%s\" is in use by container "
                                  "\"%s\"", name, ids[0]);
  struct netns_link l;
  cleanup_error hull_error_t missing = NULL;
  if (netns_link_get(name, &l, &missing) == 0 && strcmp(l.kind, "bridge") == 0 &&
      netns_link_del(name, err) < 0)
    return -1;
  if (netns_nft_network_del(name, err) < 0)
    return -1;
  return netns_network_remove(root, name, err);
}

static int link_leftovers(const char *root, char ***lines,
                          hull_error_t *err) {
  struct netns_link *links = NULL;
  size_t n = 0;
  if (netns_link_list(&links, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (!netns_endpoint_is_hulls(&links[i]))
      continue;
    if (*links[i].alias == '\0')
      add_line(lines, xasprintf("link %s: no owner", links[i].name));
    else if (!owner_alive(links[i].alias, (void *)root))
      add_line(lines, xasprintf("link %s: container %s is gone",
                                links[i].name, links[i].alias));
  }
  free(links);
  return 0;
}

static int rule_leftovers(const char *root, char ***lines,
                          hull_error_t *err) {
  cleanup_strv char **ids = NULL, **bridges = NULL;
  if (netns_nft_owners(&ids, &bridges, err) < 0)
    return -1;
  for (char **id = ids; id && *id; id++)
    if (!owner_alive(*id, (void *)root))
      add_line(lines, xasprintf("nftables rules: container %s is gone",
                                *id));
  return 0;
}

static int address_leftovers(const char *root, char ***lines,
                             hull_error_t *err) {
  cleanup_strv char **names = NULL;
  if (netns_network_list(root, &names, err) < 0)
    return -1;
  for (char **net = names; net && *net; net++) {
    cleanup_strv char **ids = NULL;
    if (netns_ipam_owners(root, *net, &ids, err) < 0)
      return -1;
    for (char **id = ids; id && *id; id++)
      if (!owner_alive(*id, (void *)root))
        add_line(lines, xasprintf("network %s: address of container %s, "
                                  "which is gone", *net, *id));
  }
  return 0;
}

int container_network_leftovers(const char *root, char ***lines,
                                hull_error_t *err) {
  *lines = NULL;
  return link_leftovers(root, lines, err) < 0 ||
                 rule_leftovers(root, lines, err) < 0 ||
                 address_leftovers(root, lines, err) < 0
             ? -1
             : 0;
}
