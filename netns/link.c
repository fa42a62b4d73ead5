/* link.c — network interfaces: look up, add (veth, bridge, dummy, tap,
 * macvlan, ipvlan), delete, set up/down, MTU, MAC address, name, bridge
 * master, network namespace. */
#include "netns/netns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* An RTM_NEWLINK/DELLINK/GETLINK for the link called name (ifindex 0: the
 * kernel finds it by IFLA_IFNAME). */
static struct nlmsghdr *link_request(char *buf, unsigned type, unsigned flags,
                                     int index, const char *name) {
  struct nlmsghdr *nlh = netns_nl_start(buf, type, flags);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = index;
  if (name)
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  return nlh;
}

static void copy_name(char *dst, size_t size, const char *src) {
  size_t n = strnlen(src, size - 1);
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* The modes of the links that sit on another (macvlan, ipvlan): the names
 * hull takes and shows, the kernel's values in IFLA_INFO_DATA. */
struct link_mode {
  const char *name;
  unsigned value;
};

struct sublink_kind {
  const char *kind;
  unsigned mode_attr;        /* in IFLA_INFO_DATA */
  bool mode_is_u16;          /* ipvlan's is a u16, macvlan's a u32 */
  const struct link_mode *modes;
  size_t n_modes;
  const char *mode_names;    /* for the error on an unknown one */
};

static const struct link_mode macvlan_modes[] = {
    {"bridge", MACVLAN_MODE_BRIDGE},
    {"private", MACVLAN_MODE_PRIVATE},
    {"vepa", MACVLAN_MODE_VEPA},
    {"passthru", MACVLAN_MODE_PASSTHRU},
};
static const struct link_mode ipvlan_modes[] = {
    {"l2", IPVLAN_MODE_L2},
    {"l3", IPVLAN_MODE_L3},
    {"l3s", IPVLAN_MODE_L3S},
};

static const struct sublink_kind macvlan = {
    "macvlan", IFLA_MACVLAN_MODE, false, macvlan_modes,
    sizeof(macvlan_modes) / sizeof(*macvlan_modes),
    "bridge, private, vepa, passthru"};
static const struct sublink_kind ipvlan = {
    "ipvlan", IFLA_IPVLAN_MODE, true, ipvlan_modes,
    sizeof(ipvlan_modes) / sizeof(*ipvlan_modes), "l2, l3, l3s"};

/* The name of a sublink's mode from its IFLA_INFO_DATA ("" if unknown). */
static void read_sublink_mode(const struct sublink_kind *k,
                              const struct nlattr *data,
                              struct netns_link *l) {
  const struct nlattr *attr;
  mnl_attr_for_each_nested(attr, data) {
    if (mnl_attr_get_type(attr) != k->mode_attr ||
        mnl_attr_validate(attr, k->mode_is_u16 ? MNL_TYPE_U16 : MNL_TYPE_U32))
      continue;
    unsigned value = k->mode_is_u16 ? mnl_attr_get_u16(attr)
                                    : mnl_attr_get_u32(attr);
    for (size_t i = 0; i < k->n_modes; i++)
      if (k->modes[i].value == value)
        copy_name(l->mode, sizeof(l->mode), k->modes[i].name);
  }
}

static int read_link_kind(const struct nlattr *linkinfo, struct netns_link *l) {
  const struct nlattr *attr, *data = NULL;
  mnl_attr_for_each_nested(attr, linkinfo) {
    if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
        mnl_attr_validate(attr, MNL_TYPE_STRING) == 0)
      copy_name(l->kind, sizeof(l->kind), mnl_attr_get_str(attr));
    if (mnl_attr_get_type(attr) == IFLA_INFO_DATA &&
        mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
      data = attr;
  }
  /* The data may come before the kind that says how to read it. */
  if (data && strcmp(l->kind, macvlan.kind) == 0)
    read_sublink_mode(&macvlan, data, l);
  if (data && strcmp(l->kind, ipvlan.kind) == 0)
    read_sublink_mode(&ipvlan, data, l);
  return 0;
}

static int read_link(const struct nlmsghdr *msg, void *data,
                     hull_error_t *err) {
  struct netns_link *l = data;
  if (msg->nlmsg_type != RTM_NEWLINK)
    return 0;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(msg);
  memset(l, 0, sizeof(*l));
  l->index = ifm->ifi_index;
  l->flags = ifm->ifi_flags;
  const struct nlattr *attr;
  mnl_attr_for_each(attr, msg, sizeof(*ifm)) {
    switch (mnl_attr_get_type(attr)) {
    case IFLA_IFNAME:
      if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        copy_name(l->name, sizeof(l->name), mnl_attr_get_str(attr));
      break;
    case IFLA_MTU:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        l->mtu = mnl_attr_get_u32(attr);
      break;
    case IFLA_MASTER:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        l->master = (int)mnl_attr_get_u32(attr);
      break;
    case IFLA_LINK:
      if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
        l->parent = (int)mnl_attr_get_u32(attr);
      break;
    case IFLA_ADDRESS:
      if (mnl_attr_get_payload_len(attr) == sizeof(l->mac)) {
        memcpy(l->mac, mnl_attr_get_payload(attr), sizeof(l->mac));
        l->has_mac = true;
      }
      break;
    case IFLA_LINKINFO:
      read_link_kind(attr, l);
      break;
    case IFLA_IFALIAS:
      if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
        copy_name(l->alias, sizeof(l->alias), mnl_attr_get_str(attr));
      break;
    }
  }
  return 0;
}

int netns_link_get(const char *name, struct netns_link *out,
                   hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0, 0, name);
  memset(out, 0, sizeof(*out));
  if (netns_nl_talk(nlh, read_link, out, err, "look up link \"%s\"", name) < 0)
    return -1;
  if (out->index <= 0)
    return hull_error(err, ENODEV, "netns: look up link \"%s\"", name);
  return 0;
}

int netns_link_get_by_index(int index, struct netns_link *out,
                            hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, 0, index, NULL);
  memset(out, 0, sizeof(*out));
  if (netns_nl_talk(nlh, read_link, out, err, "look up link %d", index) < 0)
    return -1;
  if (out->index <= 0)
    return hull_error(err, ENODEV, "netns: look up link %d", index);
  return 0;
}

int netns_link_index(const char *name, hull_error_t *err) {
  struct netns_link l;
  if (netns_link_get(name, &l, err) < 0)
    return -1;
  return l.index;
}

int netns_link_add(const char *name, const char *kind, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(
      buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
  mnl_attr_nest_end(nlh, info);
  return netns_nl_talk(nlh, NULL, NULL, err, "add link \"%s\" kind \"%s\"",
                       name, kind);
}

int netns_link_add_veth(const char *name, const char *peer,
                        hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(
      buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0, name);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  /* The peer is described like a link of its own: header, then name. */
  struct ifinfomsg *peer_ifm =
      mnl_nlmsg_put_extra_header(nlh, sizeof(*peer_ifm));
  peer_ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
  mnl_attr_nest_end(nlh, peer_nest);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return netns_nl_talk(nlh, NULL, NULL, err, "add veth \"%s\" peer \"%s\"",
                       name, peer);
}

int netns_link_add_tap(const char *name, hull_error_t *err) {
  cleanup_close int fd = -1;
  if (netns_link_open_tap(name, &fd, err) < 0)
    return -1;
  if (ioctl(fd, TUNSETPERSIST, 1) < 0)
    return hull_error(err, errno, "netns: add tap \"%s\"", name);
  return 0;
}

/* A link of kind k called name on parent, in mode. */
static int add_sublink(const struct sublink_kind *k, const char *name,
                       const char *parent, const char *mode,
                       hull_error_t *err) {
  const struct link_mode *m = NULL;
  for (size_t i = 0; i < k->n_modes; i++)
    if (strcmp(k->modes[i].name, mode) == 0)
      m = &k->modes[i];
  if (m == NULL)
    return hull_error(err, 0,
                      "netns: add %s \"%s\" on \"%s\": unknown mode \"%s\" "
                      "(%s)", k->kind, name, parent, mode, k->mode_names);
  cleanup_error hull_error_t lookup = NULL;
  int parent_index = netns_link_index(parent, &lookup);
  if (parent_index < 0)
    return hull_error(err, lookup->errno_value, "netns: add %s \"%s\" on \"%s\"",
                      k->kind, name, parent);
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(
      buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0, name);
  mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent_index);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, k->kind);
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  if (k->mode_is_u16)
    mnl_attr_put_u16(nlh, (uint16_t)k->mode_attr, (uint16_t)m->value);
  else
    mnl_attr_put_u32(nlh, (uint16_t)k->mode_attr, m->value);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return netns_nl_talk(nlh, NULL, NULL, err, "add %s \"%s\" on \"%s\"",
                       k->kind, name, parent);
}

int netns_link_add_macvlan(const char *name, const char *parent,
                           const char *mode, hull_error_t *err) {
  return add_sublink(&macvlan, name, parent, mode, err);
}

int netns_link_add_ipvlan(const char *name, const char *parent,
                          const char *mode, hull_error_t *err) {
  return add_sublink(&ipvlan, name, parent, mode, err);
}

int netns_link_open_tap(const char *name, int *fd, hull_error_t *err) {
  if (strlen(name) >= IFNAMSIZ)
    return hull_error(err, EINVAL, "netns: add tap \"%s\"", name);
  /* TUNSETIFF with a name in use attaches to that device instead of
   * failing: refuse an existing name the way RTM_NEWLINK would. */
  struct netns_link existing;
  cleanup_error hull_error_t ignored = NULL;
  if (netns_link_get(name, &existing, &ignored) == 0)
    return hull_error(err, EEXIST, "netns: add tap \"%s\"", name);
  cleanup_close int tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tun < 0)
    return hull_error(err, errno, "netns: add tap \"%s\": open /dev/net/tun",
                      name);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  copy_name(ifr.ifr_name, sizeof(ifr.ifr_name), name);
  if (ioctl(tun, TUNSETIFF, &ifr) < 0)
    return hull_error(err, errno, "netns: add tap \"%s\"", name);
  *fd = take_fd(&tun);
  return 0;
}

int netns_link_del(const char *name, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_DELLINK, NLM_F_ACK, 0, name);
  return netns_nl_talk(nlh, NULL, NULL, err, "delete link \"%s\"", name);
}

int netns_link_set_up(const char *name, bool up, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, 0, name);
  struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = up ? IFF_UP : 0;
  return netns_nl_talk(nlh, NULL, NULL, err, "set link \"%s\" %s", name,
                       up ? "up" : "down");
}

int netns_link_set_mtu(const char *name, unsigned mtu, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, 0, name);
  mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
  return netns_nl_talk(nlh, NULL, NULL, err, "set link \"%s\" mtu %u", name,
                       mtu);
}

int netns_mac_parse(const char *text, unsigned char mac[6],
                    hull_error_t *err) {
  const char *p = text;
  for (int i = 0; i < 6; i++, p += 3) {
    /* p[1] is read only past a digit, p[2] only past two. */
    char byte[3] = {p[0], p[0] ? p[1] : '\0', '\0'};
    if (!isxdigit((unsigned char)byte[0]) ||
        !isxdigit((unsigned char)byte[1]) || p[2] != (i < 5 ? ':' : '\0'))
      return hull_error(err, 0,
                        "netns: MAC address \"%s\": expected six hex bytes "
                        "like 02:42:ac:11:00:02", text);
    mac[i] = (unsigned char)strtoul(byte, NULL, 16);
  }
  return 0;
}

const char *netns_mac_format(const unsigned char mac[6], char *buf,
                             size_t size) {
  snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
           mac[3], mac[4], mac[5]);
  return buf;
}

int netns_link_set_mac(const char *name, const unsigned char mac[6],
                       hull_error_t *err) {
  char text[18];
  netns_mac_format(mac, text, sizeof(text));
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, 0, name);
  mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
  return netns_nl_talk(nlh, NULL, NULL, err, "set link \"%s\" address %s",
                       name, text);
}

int netns_link_rename(const char *name, const char *new_name,
                      hull_error_t *err) {
  int index = netns_link_index(name, err);
  if (index < 0)
    return hull_error_wrap(err, "rename");
  char buf[NETNS_NL_BUF];
  /* By index: IFLA_IFNAME is the new name here. */
  struct nlmsghdr *nlh =
      link_request(buf, RTM_NEWLINK, NLM_F_ACK, index, new_name);
  return netns_nl_talk(nlh, NULL, NULL, err, "rename link \"%s\" to \"%s\"",
                       name, new_name);
}

int netns_link_set_master(const char *name, const char *master,
                          hull_error_t *err) {
  int master_index = 0;
  if (master) {
    master_index = netns_link_index(master, err);
    if (master_index < 0)
      return hull_error_wrap(err, "set master of \"%s\"", name);
  }
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, 0, name);
  mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_index);
  if (master)
    return netns_nl_talk(nlh, NULL, NULL, err, "set link \"%s\" master \"%s\"",
                         name, master);
  return netns_nl_talk(nlh, NULL, NULL, err, "set link \"%s\" nomaster", name);
}

/* The kernel moves first and renames after, in one request: a name taken
 * in the target fails the request with the link moved already, under its
 * old name. Sends it back, so that a failed move leaves it where it was. */
static void undo_half_move(const char *name, int netns_fd) {
  cleanup_error hull_error_t ignored = NULL;
  struct netns_link here;
  if (netns_link_get(name, &here, &ignored) == 0)
    return;
  int back = -1; /* our own netns, where the link goes back to */
  if (netns_enter(netns_fd, &back, &ignored) < 0)
    return;
  int index = netns_link_index(name, &ignored);
  if (index > 0) {
    char buf[NETNS_NL_BUF];
    struct nlmsghdr *nlh =
        link_request(buf, RTM_NEWLINK, NLM_F_ACK, index, NULL);
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)back);
    netns_nl_talk(nlh, NULL, NULL, &ignored, "move link \"%s\" back", name);
  }
  netns_return(&back);
}

int netns_link_move(const char *name, int netns_fd, const char *new_name,
                    hull_error_t *err) {
  int index = netns_link_index(name, err);
  if (index < 0)
    return hull_error_wrap(err, "move");
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, index,
                                      new_name ? new_name : name);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
  int ret;
  if (new_name)
    ret = netns_nl_talk(nlh, NULL, NULL, err,
                        "move link \"%s\" into netns as \"%s\"", name,
                        new_name);
  else
    ret = netns_nl_talk(nlh, NULL, NULL, err, "move link \"%s\" into netns",
                        name);
  if (ret < 0 && new_name)
    undo_half_move(name, netns_fd);
  return ret;
}

/* The peer's part of a veth request: described like a link of its own,
 * header then attributes, inside IFLA_INFO_DATA. */
static void put_veth_peer(struct nlmsghdr *nlh, const struct netns_veth *v) {
  struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer_nest = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer);
  if (v->mtu)
    mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
  if (v->peer_netns_fd >= 0)
    mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
  mnl_attr_nest_end(nlh, peer_nest);
  mnl_attr_nest_end(nlh, data);
}

int netns_link_add_veth_pair(const struct netns_veth *v, hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(
      buf, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 0, v->name);
  if (v->mtu)
    mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
  if (v->master > 0)
    mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)v->master);
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  put_veth_peer(nlh, v);
  mnl_attr_nest_end(nlh, info);
  return netns_nl_talk(nlh, NULL, NULL, err, "add veth \"%s\" peer \"%s\"%s",
                       v->name, v->peer,
                       v->peer_netns_fd >= 0 ? " in the container's netns"
                                             : "");
}

int netns_link_set_alias(const char *name, const char *alias,
                         hull_error_t *err) {
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_NEWLINK, NLM_F_ACK, 0, name);
  mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
  return netns_nl_talk(nlh, NULL, NULL, err, "set alias of link \"%s\"", name);
}

struct link_list {
  struct netns_link *v;
  size_t n;
};

static int collect_link(const struct nlmsghdr *msg, void *data,
                        hull_error_t *err) {
  struct link_list *list = data;
  if (msg->nlmsg_type != RTM_NEWLINK)
    return 0;
  struct netns_link l;
  read_link(msg, &l, err);
  list->v = xrealloc(list->v, (list->n + 1) * sizeof(*list->v));
  list->v[list->n++] = l;
  return 0;
}

int netns_link_list(struct netns_link **out, size_t *n, hull_error_t *err) {
  *out = NULL;
  *n = 0;
  char buf[NETNS_NL_BUF];
  struct nlmsghdr *nlh = link_request(buf, RTM_GETLINK, NLM_F_DUMP, 0, NULL);
  struct link_list list = {0};
  if (netns_nl_talk(nlh, collect_link, &list, err, "list links") < 0) {
    free(list.v);
    return -1;
  }
  *out = list.v;
  *n = list.n;
  return 0;
}
