/* net-devices.c — linux.netDevices: host interfaces moved into the
 * container's network namespace at create (renamed, permanent addresses
 * kept, set up) and moved back, under their own names, at delete.
 *
 * The kernel sends physical devices back to the initial namespace when a
 * namespace dies, but destroys virtual ones (veth, dummy): so, as runc 1.2,
 * delete moves them back while the container's init still holds the
 * namespace. state.json lists the devices moved so far (by their names
 * inside, a "net%d" template resolved), so that a failed create or a
 * delete moves back exactly those, never an interface that was in a
 * joined namespace already. */
#include "lifecycle.h"
#include "netns/netns.h"
#include "runtime/vm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char *inside_name(const struct spec_net_device *d) {
  return d->name && *d->name ? d->name : d->host_name;
}

/* An interface name the kernel takes: 1..15 bytes, no '/', ':' or space,
 * not "." or "..". */
static bool valid_ifname(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len >= IFNAMSIZ || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0)
    return false;
  return strpbrk(name, "/: \t\n") == NULL;
}

int net_devices_check(const struct spec *spec, hull_error_t *err) {
  const struct spec_linux *l = spec->linux;
  if (l == NULL || l->n_net_devices == 0)
    return 0;
  if (spec_namespace_find(spec, SPEC_NS_NETWORK) == NULL)
    return hull_error(err, 0, "config.json: .linux.netDevices: needs a "
                              "network namespace of the container's own");
  /* The guest has no network card yet: nothing to move the devices to. */
  if (vm_wanted(spec))
    return hull_error(err, 0, "config.json: .linux.netDevices: not "
                              "supported in a VM");
  for (size_t i = 0; i < l->n_net_devices; i++) {
    const struct spec_net_device *d = &l->net_devices[i];
    if (!valid_ifname(d->host_name))
      return hull_error(err, 0, "config.json: .linux.netDevices[\"%s\"]: "
                                "not a valid interface name", d->host_name);
    if (!valid_ifname(inside_name(d)))
      return hull_error(err, 0, "config.json: .linux.netDevices[\"%s\"].name:"
                                " \"%s\" is not a valid interface name",
                        d->host_name, inside_name(d));
    /* A template ("net%d") gets a free name from the kernel each time. */
    for (size_t j = 0; j < i && !strchr(inside_name(d), '%'); j++)
      if (strcmp(inside_name(&l->net_devices[j]), inside_name(d)) == 0)
        return hull_error(err, 0, "config.json: .linux.netDevices[\"%s\"]"
                                  ".name: \"%s\" is given twice",
                          d->host_name, inside_name(d));
  }
  return 0;
}

static int open_netns_of(pid_t pid, int *fd, hull_error_t *err) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  return *fd < 0 ? hull_error(err, errno, "open `%s`", path) : 0;
}

static int move_in(const struct spec_net_device *d, int netns_fd,
                   struct netns_carried *carried, hull_error_t *err) {
  memset(carried, 0, sizeof(*carried));
  struct netns_link link;
  if (netns_link_get(d->host_name, &link, err) < 0) {
    if ((*err)->errno_value == ENODEV)
      return hull_error(err, 0, "linux.netDevices[\"%s\"]: no such interface",
                        d->host_name);
    return hull_error_wrap(err, "linux.netDevices[\"%s\"]", d->host_name);
  }
  /* Up in the container, whatever it was here (runtime-spec). */
  if (netns_link_carry(d->host_name, netns_fd, inside_name(d), true, carried,
                       err) < 0)
    return hull_error_wrap(err, "linux.netDevices[\"%s\"]", d->host_name);
  return 0;
}

/* Records one more device inside, under the name it got there. */
static int record_moved(struct lifecycle *lc, const char *name,
                        hull_error_t *err) {
  strv_append(&lc->state->net_devices_moved, name);
  return state_write(&lc->dir, lc->state, err);
}

int net_devices_move_in(struct lifecycle *lc, pid_t pid, hull_error_t *err) {
  const struct spec_linux *l = lc->spec->linux;
  if (l == NULL || l->n_net_devices == 0)
    return 0;
  cleanup_close int netns_fd = -1;
  if (open_netns_of(pid, &netns_fd, err) < 0)
    return -1;
  for (size_t i = 0; i < l->n_net_devices; i++) {
    /* A device that left is recorded even when a later step (its
     * addresses) failed, so that the cleanup brings it back. */
    struct netns_carried carried;
    cleanup_error hull_error_t move_err = NULL;
    int ret = move_in(&l->net_devices[i], netns_fd, &carried, &move_err);
    if (carried.moved) {
      cleanup_error hull_error_t write_err = NULL;
      if (record_moved(lc, carried.name, &write_err) < 0 && ret == 0) {
        move_err = take_ptr(write_err);
        ret = -1;
      }
    }
    if (ret < 0) {
      hull_error_release(err);
      *err = take_ptr(move_err);
      /* Now, while the init holds the namespace: the spawn's error path
       * kills it before delete's cleanup could. */
      cleanup_error hull_error_t back_err = NULL;
      if (net_devices_move_back(lc, &back_err) < 0)
        log_warning("%s", back_err->msg);
      return -1;
    }
    log_debug("netDevice %s: in the container as %s",
              l->net_devices[i].host_name, carried.name);
  }
  return 0;
}

int net_devices_move_back(struct lifecycle *lc, hull_error_t *err) {
  struct container_state *st = lc->state;
  size_t n_moved = strv_len(st->net_devices_moved);
  if (n_moved == 0)
    return 0;
  const struct spec *spec = lifecycle_spec(lc);
  if (spec == NULL || spec->linux == NULL ||
      spec->linux->n_net_devices < n_moved)
    return 0;
  if (!process_is_alive(st->pid, st->pid_start_time)) {
    log_warning("linux.netDevices: the container's network namespace is "
                "gone, and its virtual devices with it");
    return 0;
  }
  cleanup_close int netns_fd = -1;
  if (open_netns_of(st->pid, &netns_fd, err) < 0)
    return -1;
  int back = -1; /* our own netns, where the devices go back to */
  if (netns_enter(netns_fd, &back, err) < 0)
    return -1;
  int ret = 0;
  /* Every device gets its try; the first failure is the one reported. */
  for (size_t i = 0; i < n_moved; i++) {
    const char *host_name = spec->linux->net_devices[i].host_name;
    const char *name = st->net_devices_moved[i];
    cleanup_error hull_error_t one = NULL;
    struct netns_link link;
    if (netns_link_get(name, &link, &one) < 0)
      continue;   /* gone already (the container deleted it) */
    if (netns_link_carry(name, back, host_name, false, NULL, &one) < 0 &&
        ret == 0) {
      hull_error_wrap(&one, "linux.netDevices[\"%s\"]: move back",
                      host_name);
      *err = take_ptr(one);
      ret = -1;
    }
  }
  netns_return(&back);
  if (ret == 0) {
    strv_free(take_ptr(st->net_devices_moved));
    if (state_write(&lc->dir, lc->state, err) < 0)
      return -1;
  }
  return ret;
}
