/* addr.c — IPv4 and IPv6 addresses on a link. */
#include "netns/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

int netns_addr_parse(const char *text, struct netns_addr *out,
                     hull_error_t *err) {
  memset(out, 0, sizeof(*out));
  char host[INET6_ADDRSTRLEN];
  const char *slash = strchr(text, '/');
  size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
  if (host_len == 0 || host_len >= sizeof(host))
    return hull_error(err, 0, "netns: address \"%s\": not an IP address",
                      text);
  memcpy(host, text, host_len);
  host[host_len] = '\0';
  out->family = strchr(host, ':') ? AF_INET6 : AF_INET;
  if (inet_pton(out->family, host, out->bytes) != 1)
    return hull_error(err, 0, "netns: address \"%s\": not an IP address",
                      text);
  unsigned max = (unsigned)netns_family_bytes(out->family) * 8;
  out->prefixlen = max;
  if (slash) {
    char *end;
    errno = 0;
    unsigned long len = strtoul(slash + 1, &end, 10);
    if (slash[1] < '0' || slash[1] > '9' || *end || errno || len > max)
      return hull_error(err, 0, "netns: address \"%s\": bad prefix length",
                        text);
    out->prefixlen = (unsigned)len;
  }
  return 0;
}

const char *netns_addr_format(const struct netns_addr *a, char *buf,
                              size_t size) {
  char host[INET6_ADDRSTRLEN] = "?";
  inet_ntop(a->family, a->bytes, host, sizeof(host));
  snprintf(buf, size, "%s/%u", host, a->prefixlen);
  return buf;
}

/* The IFA_F_* an address can be added with (the rest the kernel sets). */
#define SETTABLE_FLAGS                                                      \
  (IFA_F_NODAD | IFA_F_HOMEADDRESS | IFA_F_MANAGETEMPADDR |                 \
   IFA_F_NOPREFIXROUTE | IFA_F_MCAUTOJOIN)

static struct nlmsghdr *addr_request(char *buf, unsigned type, unsigned flags,
                                     int index, const struct netns_addr *a) {
  struct nlmsghdr *nlh = netns_nl_start(buf, type, flags);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = (unsigned char)a->family;
  ifa->ifa_prefixlen = (unsigned char)a->prefixlen;
  ifa->ifa_scope = a->scope;
  ifa->ifa_index = (unsigned)index;
  size_t len = netns_family_bytes(a->family);
  /* IPv4 has local (this host's) and address (the peer's, on
   * point-to-point links); the same value makes a plain address. */
  if (a->family == AF_INET)
    mnl_attr_put(nlh, IFA_LOCAL, len, a->bytes);
  mnl_attr_put(nlh, IFA_ADDRESS, len, a->bytes);
  unsigned settable = a->flags & SETTABLE_FLAGS;
  if (settable && type == RTM_NEWADDR)
    mnl_attr_put_u32(nlh, IFA_FLAGS, settable);
  return nlh;
}

int netns_addr_add(const char *link, const struct netns_addr *a,
                   hull_error_t *err) {
  char text[INET6_ADDRSTRLEN + 8];
  netns_addr_format(a, text, sizeof(text));
  int index = netns_link_index(link, err);
  if (index < 0)
    return hull_error_wrap(err, "add address %s", text);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = addr_request(
      buf, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, index, a);
  return netns_nl_talk(nlh, NULL, NULL, err, "add address %s to \"%s\"", text,
                       link);
}

int netns_addr_del(const char *link, const struct netns_addr *a,
                   hull_error_t *err) {
  char text[INET6_ADDRSTRLEN + 8];
  netns_addr_format(a, text, sizeof(text));
  int index = netns_link_index(link, err);
  if (index < 0)
    return hull_error_wrap(err, "delete address %s", text);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = addr_request(buf, RTM_DELADDR, NLM_F_ACK, index, a);
  return netns_nl_talk(nlh, NULL, NULL, err, "delete address %s from \"%s\"",
                       text, link);
}

struct addr_list {
  int index;
  struct netns_addr *v;
  size_t n;
};

static int collect_addr(const struct nlmsghdr *msg, void *data,
                        hull_error_t *err) {
  struct addr_list *list = data;
  if (msg->nlmsg_type != RTM_NEWADDR)
    return 0;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(msg);
  if ((int)ifa->ifa_index != list->index ||
      (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
    return 0;
  struct netns_addr a = {
      .family = ifa->ifa_family,
      .prefixlen = ifa->ifa_prefixlen,
      .scope = ifa->ifa_scope,
      .flags = ifa->ifa_flags,
  };
  size_t len = netns_family_bytes(a.family);
  bool have_local = false, have_address = false;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, msg, sizeof(*ifa)) {
    unsigned type = mnl_attr_get_type(attr);
    if (type == IFA_FLAGS && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
      a.flags = mnl_attr_get_u32(attr);
    if ((type != IFA_LOCAL && type != IFA_ADDRESS) ||
        mnl_attr_get_payload_len(attr) != len)
      continue;
    /* IFA_LOCAL is this host's address where the two differ. */
    if (type == IFA_LOCAL || !have_local) {
      memcpy(a.bytes, mnl_attr_get_payload(attr), len);
      have_local |= type == IFA_LOCAL;
      have_address |= type == IFA_ADDRESS;
    }
  }
  if (!have_local && !have_address)
    return 0;
  list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
  list->v[list->n++] = a;
  return 0;
}

int netns_addr_list(const char *link, struct netns_addr **out, size_t *n,
                    hull_error_t *err) {
  *out = NULL;
  *n = 0;
  int index = netns_link_index(link, err);
  if (index < 0)
    return hull_error_wrap(err, "list addresses");
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = netns_nl_start(buf, RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
  ifa->ifa_family = AF_UNSPEC;
  struct addr_list list = {.index = index};
  if (netns_nl_talk(nlh, collect_addr, &list, err,
                    "list addresses of \"%s\"", link) < 0) {
    free(list.v);
    return -1;
  }
  *out = list.v;
  *n = list.n;
  return 0;
}
