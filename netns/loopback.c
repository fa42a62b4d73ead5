/* loopback.c — bringing `lo` up. */
#include "netns/netns.h"

int netns_loopback_up(hull_error_t *err) {
  return netns_link_set_up("lo", true, err);
}
