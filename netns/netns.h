/* netns.h — what hull does inside a container's network namespace.
 *
 * Today that is one thing: a new network namespace starts with `lo` down,
 * and runc brings it up, so hull does too. Later additions (veth pairs,
 * moving linux.netDevices into the namespace) belong here as well. Every
 * function talks rtnetlink through libmnl in the calling process's current
 * network namespace; callers enter the right namespace first. */
#ifndef HULL_NETNS_H
#define HULL_NETNS_H

#include "runtime/common/common.h"

/* Sets IFF_UP on `lo` (RTM_NEWLINK, acknowledged by the kernel). Already up
 * is fine. */
int netns_loopback_up(hull_error_t *err);

#endif
