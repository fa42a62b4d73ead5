/* nft.c — hull's nftables rules: a network's NAT and isolation, a
 * container's published ports (netns.h says what each rule is for). Each
 * call dumps the rules it replaces, then sends one transaction. */
#include "netns/netns.h"

/* Before the kernel headers: glibc's then keep linux/in.h's out. */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>

#define NETWORK_TAG "network "

static int set_sysctl(const char *name, hull_error_t *err) {
  cleanup_free char *path = xasprintf("/proc/sys/%s", name);
  for (char *p = path + strlen("/proc/sys/"); *p; p++)
    if (*p == '.')
      *p = '/';
  if (write_file(path, "1", 1, err) < 0)
    return hull_error_wrap(err, "netns: set %s=1", name);
  return 0;
}

/* A bridge's name has no dot or slash (the kernel refuses them), so it
 * names its sysctl directory as it is. */
static int network_sysctls(const char *bridge, bool ipv6, hull_error_t *err) {
  cleanup_free char *localnet =
      xasprintf("net.ipv4.conf.%s.route_localnet", bridge);
  if (set_sysctl(localnet, err) < 0 || set_sysctl("net.ipv4.ip_forward", err) < 0)
    return -1;
  if (ipv6 && set_sysctl("net.ipv6.conf.all.forwarding", err) < 0)
    return -1;
  return 0;
}

/* Masquerade what leaves the subnet, and what a container sends to a port
 * published on the host that lands back on this bridge (hairpin). */
static void subnet_nat(struct netns_nft_batch *b, const char *tag,
                       const char *bridge, const struct netns_addr *subnet) {
  struct nftnl_rule *r = netns_nft_rule_new("postrouting", tag);
  netns_nft_match_addr(r, true, subnet);
  netns_nft_match_ifname(r, false, bridge, false);
  netns_nft_masquerade(r);
  netns_nft_batch_rule(b, r, false);

  r = netns_nft_rule_new("postrouting", tag);
  netns_nft_match_ifname(r, false, bridge, true);
  netns_nft_match_addr(r, true, subnet);
  netns_nft_match_dnat(r);
  netns_nft_masquerade(r);
  netns_nft_batch_rule(b, r, false);
}

static void network_rules(struct netns_nft_batch *b, const char *tag,
                          const char *bridge, const struct netns_addr *subnet4,
                          const struct netns_addr *subnet6) {
  if (subnet4)
    subnet_nat(b, tag, bridge, subnet4);
  if (subnet6)
    subnet_nat(b, tag, bridge, subnet6);

  /* The host's connections to 127.0.0.1:<published port>: the container
   * cannot answer 127.0.0.1. */
  struct netns_addr loopback = {.family = AF_INET, .bytes = {127},
                                .prefixlen = 8};
  struct nftnl_rule *r = netns_nft_rule_new("postrouting", tag);
  netns_nft_match_ifname(r, false, bridge, true);
  netns_nft_match_addr(r, true, &loopback);
  netns_nft_masquerade(r);
  netns_nft_batch_rule(b, r, false);

  /* Isolation: nothing new enters the bridge from elsewhere. */
  r = netns_nft_rule_new("forward", tag);
  netns_nft_match_ifname(r, false, bridge, true);
  netns_nft_match_ifname(r, true, bridge, false);
  netns_nft_match_not_reply(r);
  netns_nft_verdict(r, NF_DROP);
  netns_nft_batch_rule(b, r, false);

  /* The host: only the bridge's own addresses, and broadcast/multicast. */
  r = netns_nft_rule_new("input", tag);
  netns_nft_match_ifname(r, true, bridge, true);
  netns_nft_match_not_reply(r);
  netns_nft_match_local(r, true, false);
  netns_nft_match_unicast(r);
  netns_nft_verdict(r, NF_DROP);
  netns_nft_batch_rule(b, r, false);
}

int netns_nft_network_add(const char *bridge, const struct netns_addr *subnet4,
                          const struct netns_addr *subnet6, hull_error_t *err) {
  if (subnet4 == NULL && subnet6 == NULL)
    return hull_error(err, 0, "netns: add nftables rules of network \"%s\": "
                      "no subnet", bridge);
  if (network_sysctls(bridge, subnet6 != NULL, err) < 0)
    return -1;
  cleanup_free char *tag = xasprintf(NETWORK_TAG "%s", bridge);
  struct netns_nft_batch b;
  if (netns_nft_batch_start(&b, err) < 0)
    return hull_error_wrap(err, "netns: add nftables rules of network \"%s\"",
                           bridge);
  netns_nft_batch_table(&b);
  if (netns_nft_batch_forget(&b, tag, NULL, err) < 0) {
    netns_nft_batch_free(&b);
    return hull_error_wrap(err, "add nftables rules of network \"%s\"",
                           bridge);
  }
  network_rules(&b, tag, bridge, subnet4, subnet6);
  return netns_nft_batch_commit(&b, err, "add nftables rules of network \"%s\"",
                                bridge);
}

/* Deletes the rules tagged tag, without a transaction when there are none. */
static int forget_tag(const char *tag, const char *what, hull_error_t *err) {
  struct netns_nft_batch b;
  if (netns_nft_batch_start(&b, err) < 0)
    return hull_error_wrap(err, "netns: %s", what);
  size_t n = 0;
  if (netns_nft_batch_forget(&b, tag, &n, err) < 0) {
    netns_nft_batch_free(&b);
    return hull_error_wrap(err, "%s", what);
  }
  if (n == 0) {
    netns_nft_batch_free(&b);
    return 0;
  }
  return netns_nft_batch_commit(&b, err, "%s", what);
}

int netns_nft_network_del(const char *bridge, hull_error_t *err) {
  cleanup_free char *tag = xasprintf(NETWORK_TAG "%s", bridge);
  cleanup_free char *what =
      xasprintf("delete nftables rules of network \"%s\"", bridge);
  return forget_tag(tag, what, err);
}

/* One port of one family: DNAT from outside and from the host itself, and
 * the forward accept ahead of the network's isolation rule. */
static void publish_port(struct netns_nft_batch *b, const char *id,
                         const char *bridge, const struct netns_addr *addr,
                         const struct netns_port *p) {
  static const char *const dnat_chains[] = {"prerouting", "output"};
  for (size_t i = 0; i < 2; i++) {
    struct nftnl_rule *r = netns_nft_rule_new(dnat_chains[i], id);
    netns_nft_match_family(r, addr->family);
    netns_nft_match_local(r, false, true);
    netns_nft_match_dport(r, p->proto, p->host_port);
    netns_nft_dnat(r, addr, p->container_port);
    netns_nft_batch_rule(b, r, false);
  }
  struct netns_addr host = *addr;
  host.prefixlen = (unsigned)netns_family_bytes(addr->family) * 8;
  struct nftnl_rule *r = netns_nft_rule_new("forward", id);
  netns_nft_match_ifname(r, false, bridge, true);
  netns_nft_match_dnat(r);
  netns_nft_match_addr(r, false, &host);
  netns_nft_match_dport(r, p->proto, p->container_port);
  netns_nft_verdict(r, NF_ACCEPT);
  netns_nft_batch_rule(b, r, true);
}

static int check_publish(const char *id, const struct netns_addr *addr4,
                         const struct netns_addr *addr6,
                         const struct netns_port *ports, size_t n,
                         hull_error_t *err) {
  if (strlen(id) > NETNS_NFT_TAG_MAX)
    return hull_error(err, 0, "container id longer than %d bytes",
                      NETNS_NFT_TAG_MAX);
  if (strchr(id, ' '))   /* it would read as another kind of tag */
    return hull_error(err, 0, "container id with a space");
  if (addr4 == NULL && addr6 == NULL)
    return hull_error(err, 0, "no address to publish to");
  for (size_t i = 0; i < n; i++)
    if (ports[i].host_port - 1 > 65534 || ports[i].container_port - 1 > 65534 ||
        (ports[i].proto != IPPROTO_TCP && ports[i].proto != IPPROTO_UDP))
      return hull_error(err, 0, "port %u:%u (protocol %d) is not a TCP or UDP "
                        "port from 1 to 65535", ports[i].host_port,
                        ports[i].container_port, ports[i].proto);
  return 0;
}

int netns_nft_publish(const char *id, const char *bridge,
                      const struct netns_addr *addr4,
                      const struct netns_addr *addr6,
                      const struct netns_port *ports, size_t n,
                      hull_error_t *err) {
  if (check_publish(id, addr4, addr6, ports, n, err) < 0)
    return hull_error_wrap(err, "netns: publish ports of \"%s\"", id);
  struct netns_nft_batch b;
  if (netns_nft_batch_start(&b, err) < 0)
    return hull_error_wrap(err, "netns: publish ports of \"%s\"", id);
  netns_nft_batch_table(&b);
  if (netns_nft_batch_forget(&b, id, NULL, err) < 0) {
    netns_nft_batch_free(&b);
    return hull_error_wrap(err, "publish ports of \"%s\"", id);
  }
  for (size_t i = 0; i < n; i++) {
    if (addr4)
      publish_port(&b, id, bridge, addr4, &ports[i]);
    if (addr6)
      publish_port(&b, id, bridge, addr6, &ports[i]);
  }
  return netns_nft_batch_commit(&b, err, "publish ports of \"%s\"", id);
}

int netns_nft_forget(const char *id, hull_error_t *err) {
  cleanup_free char *what = xasprintf("delete nftables rules of \"%s\"", id);
  return forget_tag(id, what, err);
}

struct owners {
  char **ids, **bridges;
};

static bool strv_has(char *const *v, const char *s) {
  for (; v && *v; v++)
    if (strcmp(*v, s) == 0)
      return true;
  return false;
}

static void add_owner(const char *tag, void *data) {
  struct owners *o = data;
  if (tag == NULL)
    return;
  bool network = strncmp(tag, NETWORK_TAG, strlen(NETWORK_TAG)) == 0;
  char ***v = network ? &o->bridges : &o->ids;
  const char *name = network ? tag + strlen(NETWORK_TAG) : tag;
  if (!strv_has(*v, name))
    strv_append(v, name);
}

int netns_nft_owners(char ***ids, char ***bridges, hull_error_t *err) {
  struct owners o = {xzalloc(sizeof(char *)), xzalloc(sizeof(char *))};
  if (netns_nft_each_tag(add_owner, &o, err) < 0) {
    strv_free(o.ids);
    strv_free(o.bridges);
    return hull_error_wrap(err, "list the owners of nftables rules");
  }
  *ids = o.ids;
  *bridges = o.bridges;
  return 0;
}
