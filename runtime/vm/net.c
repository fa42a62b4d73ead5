/* net.c — the container's network, given to the VM the way Kata's
 * "tcfilter" networking does it, whoever configured it (an engine's CNI
 * plugins, or hull's own bridge network during on_ns_ready):
 *
 *   for each interface of the container's network namespace that is up,
 *   has an Ethernet address and global addresses (eth0, mostly), a tap in
 *   the same namespace with the same MTU, joined to it by tc (an ingress
 *   u32 filter on each redirecting every frame to the other, netns/tc.c);
 *   the tap's queue goes to qemu as a virtio-net card with the interface's
 *   MAC, and its addresses, MTU and routes go to the guest agent in
 *   /vm/network, which configures the card the same way (guest/network.c).
 *
 * The interface keeps its addresses: the ingress redirect takes every
 * frame that arrives on it before the namespace's IP stack could see one,
 * so only the guest answers ARP, pings and connections for them; and
 * whoever configured it (CNI's CHECK and DEL, hull's bridge network) finds
 * it as it left it.
 *
 * The tap lives as long as its queue (netns_link_open_tap): when qemu
 * exits, or the namespace goes, so does it. */
#include "host.h"
#include "netns/netns.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A link the guest gets a card for. */
static bool wanted(const struct netns_link *l, const struct netns_addr *a,
                   size_t n) {
  if ((l->flags & IFF_LOOPBACK) || !(l->flags & IFF_UP) || !l->has_mac ||
      strcmp(l->kind, "tun") == 0)
    return false;
  for (size_t i = 0; i < n; i++)
    if (a[i].scope == RT_SCOPE_UNIVERSE)
      return true;
  return false;
}

static void append(char **text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void append(char **text, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *line = NULL;
  if (vasprintf(&line, fmt, ap) < 0)
    abort();
  va_end(ap);
  char *longer = xasprintf("%s%s", *text ? *text : "", line);
  free(line);
  free(*text);
  *text = longer;
}

/* The address's own prefix route (the kernel makes it with the address)
 * or the IPv6 link-local and multicast ones it makes by itself. */
static bool kernel_made(const struct netns_route *r,
                        const struct netns_addr *a, size_t n) {
  if (r->has_gateway)
    return false;
  if (r->family == AF_INET6 && r->dst_len >= 8 &&
      ((r->dst[0] == 0xfe && (r->dst[1] & 0xc0) == 0x80) || r->dst[0] == 0xff))
    return true;
  for (size_t i = 0; i < n; i++) {
    if (a[i].family != r->family || a[i].prefixlen != r->dst_len)
      continue;
    struct netns_addr net = a[i];
    size_t bytes = netns_family_bytes(net.family);
    for (size_t b = 0; b < bytes; b++) {
      unsigned bit = (unsigned)b * 8;
      unsigned keep = bit >= r->dst_len ? 0
                      : r->dst_len - bit >= 8 ? 8 : r->dst_len - bit;
      net.bytes[b] &= (unsigned char)(0xff << (8 - keep));
    }
    if (memcmp(net.bytes, r->dst, bytes) == 0)
      return true;
  }
  return false;
}

static int describe_routes(const struct netns_link *l,
                           const struct netns_addr *a, size_t n, char **text,
                           hull_error_t *err) {
  static const int families[] = {AF_INET, AF_INET6};
  for (size_t f = 0; f < 2; f++) {
    struct netns_route *routes = NULL;
    size_t count = 0;
    if (netns_route_list(families[f], &routes, &count, err) < 0)
      return -1;
    for (size_t i = 0; i < count; i++) {
      const struct netns_route *r = &routes[i];
      if (r->oif != l->index || kernel_made(r, a, n))
        continue;
      char dst[INET6_ADDRSTRLEN], gw[INET6_ADDRSTRLEN];
      inet_ntop(r->family, r->dst, dst, sizeof(dst));
      if (r->has_gateway) {
        inet_ntop(r->family, r->gateway, gw, sizeof(gw));
        append(text, "route %s %s/%u via %s\n", l->name, dst, r->dst_len, gw);
      } else {
        append(text, "route %s %s/%u\n", l->name, dst, r->dst_len);
      }
    }
    free(routes);
  }
  return 0;
}

/* The lines of /vm/network for l: its card, its addresses, its routes. */
static int describe(const struct netns_link *l, const struct netns_addr *a,
                    size_t n, char **text, hull_error_t *err) {
  char mac[18];
  append(text, "link %s %s %u\n", l->name, netns_mac_format(l->mac, mac, sizeof(mac)),
         l->mtu);
  for (size_t i = 0; i < n; i++) {
    if (a[i].scope != RT_SCOPE_UNIVERSE)
      continue;
    char addr[INET6_ADDRSTRLEN + 8];
    append(text, "addr %s %s\n", l->name,
           netns_addr_format(&a[i], addr, sizeof(addr)));
  }
  return describe_routes(l, a, n, text, err);
}

/* A tap for l, of its MTU, up, joined to it. */
static int attach_tap(const struct netns_link *l, struct vm_nic *nic,
                      hull_error_t *err) {
  snprintf(nic->tap, sizeof(nic->tap), "hull-tap%d", l->index);
  memcpy(nic->mac, l->mac, sizeof(nic->mac));
  if (netns_link_open_tap(nic->tap, &nic->fd, err) < 0 ||
      netns_link_set_mtu(nic->tap, l->mtu, err) < 0 ||
      netns_link_set_up(nic->tap, true, err) < 0 ||
      netns_tc_redirect_both(l->name, nic->tap, err) < 0)
    return -1;
  return 0;
}

int vm_net_prepare(struct vm_net *net, hull_error_t *err) {
  *net = (struct vm_net){0};
  struct netns_link *links = NULL;
  size_t n_links = 0;
  if (netns_link_list(&links, &n_links, err) < 0)
    return hull_error_wrap(err, "VM network");
  int ret = 0;
  for (size_t i = 0; i < n_links && ret == 0; i++) {
    const struct netns_link *l = &links[i];
    struct netns_addr *addrs = NULL;
    size_t n_addrs = 0;
    if (l->flags & IFF_LOOPBACK)
      continue;
    ret = netns_addr_list(l->name, &addrs, &n_addrs, err);
    if (ret == 0 && wanted(l, addrs, n_addrs)) {
      net->nics = xrealloc(net->nics, (net->n + 1) * sizeof(*net->nics));
      struct vm_nic *nic = &net->nics[net->n++];
      *nic = (struct vm_nic){.fd = -1};
      ret = attach_tap(l, nic, err);
      if (ret == 0)
        ret = describe(l, addrs, n_addrs, &net->guest_config, err);
    }
    free(addrs);
    if (ret < 0)
      hull_error_wrap(err, "VM network: interface \"%s\"", l->name);
  }
  free(links);
  if (ret < 0)
    vm_net_close(net);
  return ret;
}

void vm_net_close(struct vm_net *net) {
  for (size_t i = 0; i < net->n; i++)
    if (net->nics[i].fd >= 0)
      close(net->nics[i].fd);
  free(net->nics);
  free(net->guest_config);
  *net = (struct vm_net){0};
}
