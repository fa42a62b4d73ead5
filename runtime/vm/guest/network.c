/* network.c — the guest's side of the container's network (the host's is
 * runtime/vm/net.c): `lo` up, and when the host gave the VM cards, the
 * modules their driver needs, then each card, found by its MAC, named,
 * sized and addressed as the interface it stands for in the container's
 * network namespace, with that interface's routes. The container's
 * processes run in the guest's own network namespace (vm_guest_config
 * makes the `network` namespace VM_GUEST_NETNS, PID 1's): the VM is their
 * network namespace. */
#include "guest.h"
#include "netns/netns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

/* How long a card may take to appear once its driver is loaded. */
#define CARD_WAIT_MS 5000

/* "NN-virtio_mmio.ko.xz" -> "virtio_mmio". */
static char *module_name(const char *file) {
  const char *dash = strchr(file, '-');
  const char *name = dash ? dash + 1 : file;
  return xstrndup(name, strcspn(name, "."));
}

/* The kernel's command line parameters for a module (name.key=value),
 * which modprobe would pass it: e.g. the virtio_mmio.device= that qemu's
 * microvm adds for each virtio-mmio card. */
static char *module_params(const char *name) {
  cleanup_free char *cmdline = NULL;
  cleanup_error hull_error_t err = NULL;
  char *params = xstrdup("");
  if (read_file("/proc/cmdline", &cmdline, NULL, &err) < 0)
    return params;
  size_t len = strlen(name);
  char *save = NULL;
  for (char *t = strtok_r(cmdline, " \n", &save); t;
       t = strtok_r(NULL, " \n", &save)) {
    if (strncmp(t, name, len) != 0 || t[len] != '.')
      continue;
    char *longer = xasprintf("%s%s%s", params, *params ? " " : "", t + len + 1);
    free(params);
    params = longer;
  }
  return params;
}

static int load_module(const char *dir, const char *file, hull_error_t *err) {
  cleanup_free char *path = xasprintf("%s/%s", dir, file);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error(err, errno, "open `%s`", path);
  cleanup_free char *name = module_name(file);
  cleanup_free char *params = module_params(name);
  const char *ext = strstr(file, ".ko.");
  int flags = ext ? MODULE_INIT_COMPRESSED_FILE : 0;
  if (syscall(SYS_finit_module, fd, params, flags) < 0 && errno != EEXIST)
    return hull_error(err, errno, "load kernel module `%s`", path);
  return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

int guest_load_modules(hull_error_t *err) {
  struct dirent **entries = NULL;
  int n = scandir(VM_GUEST_MODULES, &entries, NULL, by_name);
  if (n < 0)
    return errno == ENOENT ? 0 : hull_error(err, errno, "`%s`",
                                            VM_GUEST_MODULES);
  int ret = 0;
  for (int i = 0; i < n; i++) {
    if (ret == 0 && entries[i]->d_name[0] != '.')
      ret = load_module(VM_GUEST_MODULES, entries[i]->d_name, err);
    free(entries[i]);
  }
  free(entries);
  return ret;
}

/* The card with mac, waiting for its driver's probe. */
static int find_card(const unsigned char mac[6], struct netns_link *out,
                     hull_error_t *err) {
  int64_t until = monotonic_ms() + CARD_WAIT_MS;
  for (;;) {
    struct netns_link *links = NULL;
    size_t n = 0;
    if (netns_link_list(&links, &n, err) < 0)
      return -1;
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
      if (links[i].has_mac && memcmp(links[i].mac, mac, 6) == 0) {
        *out = links[i];
        found = true;
      }
    free(links);
    if (found)
      return 0;
    if (monotonic_ms() >= until) {
      char text[18];
      return hull_error(err, ENODEV, "no network card with MAC %s (does the "
                        "guest kernel have virtio_net?)",
                        netns_mac_format(mac, text, sizeof(text)));
    }
    nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
  }
}

/* "link NAME MAC MTU": the card, renamed NAME, of that MTU, up. */
static int configure_card(char *args, hull_error_t *err) {
  char name[IFNAMSIZ + 1], mac_text[18];
  unsigned mtu = 0;
  unsigned char mac[6];
  cleanup_error hull_error_t bad_mac = NULL;
  if (sscanf(args, "%16s %17s %u", name, mac_text, &mtu) != 3 ||
      strlen(name) >= IFNAMSIZ || netns_mac_parse(mac_text, mac, &bad_mac) < 0)
    return hull_error(err, 0, "`%s`: bad link line `%s`", VM_GUEST_NETWORK,
                      args);
  struct netns_link card;
  if (find_card(mac, &card, err) < 0 ||
      (strcmp(card.name, name) != 0 &&
       netns_link_rename(card.name, name, err) < 0) ||
      (mtu && netns_link_set_mtu(name, mtu, err) < 0) ||
      netns_link_set_up(name, true, err) < 0)
    return hull_error_wrap(err, "network card %s", name);
  return 0;
}

/* "addr NAME ADDR/PREFIX". IPv6 without duplicate address detection: the
 * address is the container's, checked where it was given. */
static int configure_addr(char *args, hull_error_t *err) {
  char name[IFNAMSIZ + 1], text[INET6_ADDRSTRLEN + 8];
  struct netns_addr a;
  if (sscanf(args, "%16s %52s", name, text) != 2)
    return hull_error(err, 0, "`%s`: bad addr line `%s`", VM_GUEST_NETWORK,
                      args);
  if (netns_addr_parse(text, &a, err) < 0)
    return -1;
  if (a.family == AF_INET6)
    a.flags |= IFA_F_NODAD;
  return netns_addr_add(name, &a, err);
}

/* "route NAME DST/PREFIX [via GATEWAY]". */
static int configure_route(char *args, hull_error_t *err) {
  char name[IFNAMSIZ + 1], dst_text[INET6_ADDRSTRLEN + 8],
      gw_text[INET6_ADDRSTRLEN + 1] = "";
  int n = sscanf(args, "%16s %52s via %46s", name, dst_text, gw_text);
  struct netns_addr dst, gw;
  if (n < 2)
    return hull_error(err, 0, "`%s`: bad route line `%s`", VM_GUEST_NETWORK,
                      args);
  if (netns_addr_parse(dst_text, &dst, err) < 0 ||
      (n == 3 && netns_addr_parse(gw_text, &gw, err) < 0))
    return -1;
  return netns_route_add(name, dst.prefixlen ? &dst : NULL,
                         n == 3 ? &gw : NULL, err);
}

/* The lines in order: a card's line comes before its addresses and
 * routes, an address before the routes through it. */
static int configure(char *text, hull_error_t *err) {
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *args = strchr(line, ' ');
    if (args == NULL)
      return hull_error(err, 0, "`%s`: bad line `%s`", VM_GUEST_NETWORK, line);
    *args++ = '\0';
    int r = strcmp(line, "link") == 0    ? configure_card(args, err)
            : strcmp(line, "addr") == 0  ? configure_addr(args, err)
            : strcmp(line, "route") == 0 ? configure_route(args, err)
                                         : hull_error(err, 0, "`%s`: bad line "
                                                      "`%s`", VM_GUEST_NETWORK,
                                                      line);
    if (r < 0)
      return -1;
  }
  return 0;
}

int guest_network_up(hull_error_t *err) {
  if (netns_loopback_up(err) < 0)
    return -1;
  cleanup_free char *text = NULL;
  cleanup_error hull_error_t missing = NULL;
  if (read_file(VM_GUEST_NETWORK, &text, NULL, &missing) < 0)
    return 0; /* no cards */
  if (guest_load_modules(err) < 0 || configure(text, err) < 0)
    return hull_error_wrap(err, "VM network");
  return 0;
}
