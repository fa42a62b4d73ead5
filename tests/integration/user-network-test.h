/* user-network-test.h — what the tests of run.oci.network=pasta|slirp4netns
 * share (test-user-network.c as root, test-rootless.c as a user): the
 * test's "host" (an uplink with a default route in the test's own network
 * namespace), a server on its loopback, free ports, and hull run directly
 * or through a wrapper (setpriv as the test user). */
#ifndef HULL_TEST_USER_NETWORK_H
#define HULL_TEST_USER_NETWORK_H

#include "tests/integration/harness.h"
#include "tests/netns-test.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ANNOTATE(...) "\"annotations\": {" __VA_ARGS__ "}"
/* The test host's default gateway (no one answers there: pasta maps it to
 * the host itself). */
#define UNET_GATEWAY "192.168.79.254"

/* How hull is run: wrapped (prefix, e.g. setpriv as the test user, with
 * root: NULL for its default) or, for a NULL runner, as `hull --root
 * c->root`. */
struct unet_runner {
  char *const *prefix;
  const char *root;
};

/* 30 s: a retry loop inside the container may wait that long on a loaded
 * host. */
static inline struct hres unet_run(struct hctx *c,
                                   const struct unet_runner *w,
                                   char *const *args) {
  if (w == NULL)
    return hrun_argv(c, c->root, args, 30000);
  return hrun_wrapped(c, w->prefix, w->root, args, 30000);
}

static inline bool unet_helper_installed(const char *name) {
  cleanup_free char *path = xasprintf("/usr/bin/%s", name);
  return access(path, X_OK) == 0;
}

static inline const char *unet_helper_missing(const char *name) {
  return strcmp(name, "pasta") == 0 ? "pasta (Debian package passt)"
                                    : "slirp4netns";
}

/* The test's host: lo up, uplink0 192.168.79.1/24 up, a default route. */
static inline void unet_host_uplink(void) {
  NL_OK(netns_loopback_up(&err_));
  NL_OK(netns_link_add_veth("uplink0", "uplink0-p", &err_));
  struct netns_addr up, gw;
  NL_OK(netns_addr_parse("192.168.79.1/24", &up, &err_));
  NL_OK(netns_addr_add("uplink0", &up, &err_));
  NL_OK(netns_link_set_up("uplink0", true, &err_));
  NL_OK(netns_link_set_up("uplink0-p", true, &err_));
  NL_OK(netns_addr_parse(UNET_GATEWAY, &gw, &err_));
  NL_OK(netns_route_add("uplink0", NULL, &gw, &err_));
}

/* A port that was free on 127.0.0.1 a moment ago. */
static inline int unet_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t len = sizeof(sa);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  close(fd);
  return ntohs(sa.sin_port);
}

/* A server on 127.0.0.1:*port (picked here) answering "from-host" to
 * every connection; its pid. */
static inline pid_t unet_host_server(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  socklen_t len = sizeof(sa);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
  ck_assert_int_eq(listen(fd, 8), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  *port = ntohs(sa.sin_port);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    for (;;) {
      int conn = accept(fd, NULL, NULL);
      if (conn < 0)
        continue;
      if (write(conn, "from-host\n", 10) != 10) {
        /* the client went away */
      }
      close(conn);
    }
  }
  close(fd);
  return pid;
}

/* `run -d` of id running the helper's signal-wait with annotations. */
static inline void unet_start_waiter(struct hctx *c,
                                     const struct unet_runner *w,
                                     const char *annotations) {
  cleanup_free char *top = xasprintf(ANNOTATE("%s"), annotations);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  char *args[] = {"run", "-d", "--bundle", c->bundle, c->id, NULL};
  struct hres r = unet_run(c, w, args);
  ck_assert_msg(r.status == 0, "run: status %d: %s", r.status, r.err);
  ck_assert_msg(hwait_file(r.out_path, "ready", 5000),
                "container %s never got ready", c->id);
  hres_free(&r);
}

/* state.json's <key> of container id under root. */
static inline pid_t unet_state_pid(const char *root, const char *id,
                                   const char *key) {
  cleanup_free char *path = xasprintf("%s/%s/state.json", root, id);
  cleanup_free char *json = hread_file(path);
  ck_assert_msg(json != NULL, "no %s", path);
  const char *p[] = {key, NULL};
  return (pid_t)hjson_int(json, p, 0);
}

static inline pid_t unet_recorded_helper(struct hctx *c, const char *id) {
  return unet_state_pid(c->root, id, "netHelperPid");
}

static inline pid_t unet_recorded_keeper(struct hctx *c, const char *id) {
  return unet_state_pid(c->root, id, "netKeeperPid");
}

/* pid is gone (or a zombie) within timeout_ms. */
static inline bool unet_gone(pid_t pid, int timeout_ms) {
  for (int waited = 0;; waited += 20) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    cleanup_free char *stat_text = hread_file(path);
    const char *paren = stat_text ? strrchr(stat_text, ')') : NULL;
    if (paren == NULL || paren[1] == '\0' || paren[2] == 'Z')
      return true;
    if (waited >= timeout_ms)
      return false;
    usleep(20 * 1000);
  }
}

/* Something accepts a connection on 127.0.0.1:port. */
static inline bool unet_port_answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((unsigned short)port)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
  close(fd);
  return ok;
}

/* From inside container id, gateway:port reaches the host's server. nc
 * under timeout: the pasta of Debian 12 (2023-03-09) at times passes on
 * the data of a connection to the mapped gateway but not its close. */
static inline void unet_assert_reaches_host(struct hctx *c,
                                            const struct unet_runner *w,
                                            const char *id,
                                            const char *gateway, int port) {
  cleanup_free char *script = xasprintf(
      "for i in $(seq 20); do out=$(echo x | timeout 3 nc -w 1 %s %d); "
      "[ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.2; done; "
      "exit 1",
      gateway, port);
  char *args[] = {"exec", (char *)id, "/bin/sh", "-c", script, NULL};
  struct hres r = unet_run(c, w, args);
  ck_assert_msg(r.status == 0 && hcontains(r.out, "from-host"),
                "%s:%d from the container: status %d, out %s, err %s",
                gateway, port, r.status, r.out, r.err);
  hres_free(&r);
}

/* A server on port 80 in container id, reached at 127.0.0.1:published. */
static inline void unet_assert_published(struct hctx *c,
                                         const struct unet_runner *w,
                                         const char *id, int published) {
  char *serve[] = {"exec", "-d", (char *)id, "/bin/sh", "-c",
                   "nc -ll -p 80 -e /bin/echo from-container", NULL};
  struct hres r = unet_run(c, w, serve);
  ck_assert_msg(r.status == 0, "exec -d: %s", r.err);
  hres_free(&r);
  char got[64] = "";
  for (int i = 0; i < 50 && !strstr(got, "from-container"); i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)published)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
      ssize_t n = read(fd, got, sizeof(got) - 1);
      got[n > 0 ? n : 0] = '\0';
    }
    close(fd);
    if (!strstr(got, "from-container"))
      usleep(200 * 1000);
  }
  ck_assert_msg(strstr(got, "from-container") != NULL,
                "127.0.0.1:%d did not reach the container (got \"%s\")",
                published, got);
}

#endif
