/* carry.c — taking a link into another network namespace with its
 * addresses and up state (linux.netDevices), and stepping into a
 * namespace and back to talk to the kernel there: a netlink socket works
 * in the namespace it was opened in. */
#include "netns/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int netns_enter(int netns_fd, int *home_fd, hull_error_t *err) {
  *home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*home_fd < 0)
    return hull_error(err, errno, "netns: open /proc/thread-self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0) {
    int e = errno;
    close(*home_fd);
    *home_fd = -1;
    return hull_error(err, e, "netns: enter network namespace");
  }
  return 0;
}

void netns_return(int *home_fd) {
  if (*home_fd < 0)
    return;
  if (setns(*home_fd, CLONE_NEWNET) < 0) {
    log_msg(LOG_ERROR, "netns: return to hull's network namespace: %s",
              strerror(errno));
    abort();
  }
  close(*home_fd);
  *home_fd = -1;
}

/* The addresses a move keeps: permanent ones of global scope. The kernel
 * makes link-local ones anew, and autoconfigured ones come and go. */
static bool kept(const struct netns_addr *a) {
  return a->scope == RT_SCOPE_UNIVERSE && (a->flags & IFA_F_PERMANENT);
}

static int restore(const char *to, bool up, const struct netns_addr *addrs,
                   size_t n, hull_error_t *err) {
  for (size_t i = 0; i < n; i++)
    if (kept(&addrs[i]) && netns_addr_add(to, &addrs[i], err) < 0)
      return -1;
  return up ? netns_link_set_up(to, true, err) : 0;
}

/* The name the link at index got there: a template is resolved by the
 * kernel, which keeps the ifindex across the move when it is free. */
static int name_there(const char *to, int index, char *name,
                      hull_error_t *err) {
  if (strchr(to, '%') == NULL) {
    snprintf(name, IFNAMSIZ, "%s", to);
    return 0;
  }
  struct netns_link there;
  if (netns_link_get_by_index(index, &there, err) < 0)
    return hull_error_wrap(err, "find \"%s\" after the move", to);
  snprintf(name, IFNAMSIZ, "%s", there.name);
  return 0;
}

int netns_link_carry(const char *from, int netns_fd, const char *to,
                     bool up, struct netns_carried *out, hull_error_t *err) {
  struct netns_carried not_asked;
  out = out ? out : &not_asked;
  memset(out, 0, sizeof(*out));
  struct netns_link link;
  if (netns_link_get(from, &link, err) < 0)
    return -1;
  cleanup_free struct netns_addr *addrs = NULL;
  size_t n = 0;
  if (netns_addr_list(from, &addrs, &n, err) < 0)
    return -1;
  if (netns_link_move(from, netns_fd, to, err) < 0) {
    /* A failed rename there sent the link back, stripped: dress it again. */
    cleanup_error hull_error_t ignored = NULL;
    struct netns_link back;
    if (netns_link_get(from, &back, &ignored) == 0 && !(back.flags & IFF_UP))
      restore(from, link.flags & IFF_UP, addrs, n, &ignored);
    return -1;
  }
  out->moved = true;
  snprintf(out->name, sizeof(out->name), "%s", to);
  int home = -1;
  if (netns_enter(netns_fd, &home, err) < 0)
    return -1;
  int ret = name_there(to, link.index, out->name, err);
  if (ret == 0)
    ret = restore(out->name, up || (link.flags & IFF_UP), addrs, n, err);
  netns_return(&home);
  return ret;
}
