/* test-network.c — hull's own networks (run.oci.network=bridge): containers
 * that talk to each other, published ports, isolation between networks,
 * outbound NAT, the errors, and nothing left after delete, also after a
 * SIGKILL during create.
 *
 * Each test first unshares a network namespace of its own (the test's
 * "host"): hull, its child, makes bridges, veth pairs and nftables rules
 * there, never in the machine's namespace. Proofs are packets: busybox nc
 * and ping, and the test helper's udp-echo/udp-ask. */
#include "tests/integration/harness.h"
#include "netns/netns.h"
#include "tests/netns-test.h"
#include "runtime/common/common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ANNOTATE(...) "\"annotations\": {" __VA_ARGS__ "}"
#define ON_BRIDGE "\"run.oci.network\": \"bridge\""

static void bring_lo_up(void) { NL_OK(netns_loopback_up(&err_)); }

/* A container `id` of c's bundle, running the helper's signal-wait, with
 * annotations (JSON members). */
static void start_waiter(struct hctx *c, const char *id,
                         const char *annotations) {
  cleanup_free char *top = xasprintf(ANNOTATE("%s"), annotations);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  struct hres r = hrun(c, "run", "-d", "--bundle", c->bundle, id, NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(hwait_file(r.out_path, "ready", 5000),
                "container %s never got ready", id);
  hres_free(&r);
}

/* `sh -c script` in container id; its result. */
static struct hres in_container(struct hctx *c, const char *id,
                                const char *script) {
  return hrun(c, "exec", id, "/bin/sh", "-c", script, NULL);
}

/* As in_container, with CAP_NET_RAW, which ping needs (busybox's uses a raw
 * socket) and the test config does not give. */
static struct hres pinging(struct hctx *c, const char *id,
                           const char *script) {
  return hrun(c, "exec", "--cap", "CAP_NET_RAW", id, "/bin/sh", "-c", script,
              NULL);
}

/* A server in the background of container id (exec -d). */
static void serve_in(struct hctx *c, const char *id, const char *script) {
  struct hres r = hrun(c, "exec", "-d", id, "/bin/sh", "-c", script, NULL);
  ck_assert_hres(r, 0);
  hres_free(&r);
}

/* Retries (the server may not listen yet) an nc exchange from id. */
static char *nc_script(const char *addr, int port, const char *text) {
  return xasprintf("for i in $(seq 30); do out=$(echo %s | nc -w 2 %s %d) "
                   "&& [ -n \"$out\" ] && echo \"$out\" && exit 0; "
                   "sleep 0.1; done; exit 1",
                   text, addr, port);
}

static void assert_tcp(struct hctx *c, const char *from, const char *addr,
                       int port, bool reaches) {
  cleanup_free char *script = nc_script(addr, port, "hello-tcp");
  if (!reaches) {
    free(script);
    script = xasprintf("echo hello-tcp | nc -w 2 %s %d", addr, port);
  }
  struct hres r = in_container(c, from, script);
  if (reaches) {
    ck_assert_msg(r.status == 0 && hcontains(r.out, "hello-tcp"),
                  "%s -> %s:%d: status %d, out %s, err %s", from, addr, port,
                  r.status, r.out, r.err);
  } else {
    ck_assert_msg(!hcontains(r.out, "hello-tcp"),
                  "%s reached %s:%d: %s", from, addr, port, r.out);
  }
  hres_free(&r);
}

/* The addresses of link in pid's network namespace, as text. */
static bool netns_has_address(pid_t pid, const char *link, const char *want) {
  cleanup_free char *path = xasprintf("/proc/%d/ns/net", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  int home = -1;
  NL_OK(netns_enter(fd, &home, &err_));
  close(fd);
  struct netns_addr *addrs = NULL;
  size_t n = 0;
  hull_error_t err = NULL;
  int r = netns_addr_list(link, &addrs, &n, &err);
  netns_return(&home);
  ck_assert_msg(r == 0, "%s", err ? err->msg : "?");
  bool found = false;
  for (size_t i = 0; i < n && !found; i++) {
    char text[64];
    netns_addr_format(&addrs[i], text, sizeof(text));
    found = strcmp(text, want) == 0;
  }
  free(addrs);
  return found;
}

static pid_t container_pid(struct hctx *c, const char *id) {
  pid_t pid = 0;
  cleanup_free char *status = hstate_status(c, id, &pid);
  ck_assert_str_eq(status, "running");
  return pid;
}

/* No link, rule or address of a container is left. */
static void assert_network_clean(struct hctx *c) {
  struct netns_link *links = NULL;
  size_t n = 0;
  NL_OK(netns_link_list(&links, &n, &err_));
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(!netns_endpoint_is_hulls(&links[i]),
                  "link %s (of %s) left behind", links[i].name,
                  links[i].alias);
  free(links);
  cleanup_strv char **owners = NULL, **bridges = NULL;
  NL_OK(netns_nft_owners(&owners, &bridges, &err_));
  ck_assert_msg(owners == NULL || owners[0] == NULL,
                "nftables rules of %s left behind", owners[0]);
  cleanup_strv char **networks = NULL;
  NL_OK(netns_network_list(c->root, &networks, &err_));
  for (char **net = networks; net && *net; net++) {
    cleanup_strv char **ids = NULL;
    NL_OK(netns_ipam_owners(c->root, *net, &ids, &err_));
    ck_assert_msg(ids == NULL || ids[0] == NULL,
                  "network %s: an address of %s left behind", *net,
                  ids[0]);
  }
}

static void delete_all(struct hctx *c, const char *const *ids) {
  for (; *ids; ids++)
    hrun_expect(0, c, "delete", "--force", *ids);
  assert_network_clean(c);
}

/* Two containers on hull0: TCP and UDP over IPv4, ping over IPv6, the
 * addresses and routes where a user reads them. */
START_TEST(network_containers_on_one_bridge_talk) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  start_waiter(c, a, ON_BRIDGE);
  start_waiter(c, b, ON_BRIDGE ", \"run.oci.network.ip\": \"10.89.0.7\", "
                     "\"run.oci.network.ip6\": \"fd89:6875:6c6c::7\"");

  /* The allocator's first address for a, the static one for b. */
  ck_assert(netns_has_address(container_pid(c, a), "eth0", "10.89.0.2/24"));
  ck_assert(netns_has_address(container_pid(c, b), "eth0", "10.89.0.7/24"));
  ck_assert(netns_has_address(container_pid(c, b), "eth0",
                              "fd89:6875:6c6c::7/64"));
  struct hres r = in_container(c, a, "ip route; ip -6 route");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "default via 10.89.0.1 dev eth0") &&
                    hcontains(r.out, "default via fd89:6875:6c6c::1 dev eth0"),
                "routes: %s", r.out);
  hres_free(&r);

  serve_in(c, b, "nc -ll -p 7000 -e /bin/cat");
  assert_tcp(c, a, "10.89.0.7", 7000, true);

  serve_in(c, b, "/bin/hull-test-helper udp-echo 7001 >/dev/null");
  r = in_container(c, a, "/bin/hull-test-helper udp-ask 10.89.0.7 7001 hi");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "echo:hi"), "udp: %s", r.out);
  hres_free(&r);

  r = pinging(c, a, "ping6 -c 1 -W 3 fd89:6875:6c6c::7");
  ck_assert_msg(r.status == 0, "ping6: %s %s", r.out, r.err);
  hres_free(&r);

  /* /etc/hosts names the container; resolv.conf is there. */
  r = in_container(c, b, "cat /etc/hosts; test -f /etc/resolv.conf");
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "10.89.0.7\thull-test"), "hosts: %s",
                r.out);
  hres_free(&r);

  delete_all(c, (const char *const[]){a, b, NULL});
  hctx_finish(c);
}
END_TEST

/* Connects to addr:port from the test's namespace, sends text, returns
 * what came back (NULL: no connection). */
static char *tcp_exchange(const char *addr, int port, const char *text) {
  for (int i = 0; i < 30; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
      char buf[256];
      ssize_t n = -1;
      if (write(fd, text, strlen(text)) == (ssize_t)strlen(text)) {
        shutdown(fd, SHUT_WR);
        n = read(fd, buf, sizeof(buf) - 1);
      }
      close(fd);
      if (n > 0) {
        buf[n] = '\0';
        return xstrdup(buf);
      }
    } else {
      close(fd);
    }
    usleep(100 * 1000);
  }
  return NULL;
}

/* 8080:80/tcp reaches the server in the container on 127.0.0.1 and on the
 * host's other addresses; after delete it does not. */
START_TEST(network_published_port_reaches_container) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  /* A host address besides the bridge's and loopback. */
  NL_OK(netns_link_add_veth("uplink0", "uplink0-p", &err_));
  struct netns_addr up;
  NL_OK(netns_addr_parse("192.168.77.1/24", &up, &err_));
  NL_OK(netns_addr_add("uplink0", &up, &err_));
  NL_OK(netns_link_set_up("uplink0", true, &err_));
  NL_OK(netns_link_set_up("uplink0-p", true, &err_));

  struct hctx *c = hctx_new();
  start_waiter(c, c->id, ON_BRIDGE ", \"run.oci.network.ports\": "
                         "\"8080:80/tcp\"");
  serve_in(c, c->id, "nc -ll -p 80 -e /bin/cat");
  const char *via[] = {"127.0.0.1", "192.168.77.1", "10.89.0.1", NULL};
  for (const char **a = via; *a; a++) {
    cleanup_free char *got = tcp_exchange(*a, 8080, "published\n");
    ck_assert_msg(got && hcontains(got, "published"),
                  "%s:8080 did not reach the container (%s)", *a,
                  got ? got : "no answer");
  }
  hrun_expect(0, c, "delete", "--force", c->id);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0,
                "127.0.0.1:8080 still answers after delete");
  close(fd);
  assert_network_clean(c);
  hctx_finish(c);
}
END_TEST

/* A process in a namespace of its own, "outside": 192.168.78.2 behind the
 * test's uplink 192.168.78.1; it answers one TCP connection on port with
 * the peer's address. */
static pid_t spawn_outside_server(struct hctx *c, int port) {
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(ready[0]);
    if (unshare(CLONE_NEWNET) < 0)
      _exit(1);
    char ok = 'y';
    if (write(ready[1], &ok, 1) != 1)
      _exit(1);
    /* The parent moves the link in and gives the address. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((unsigned short)port)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
      _exit(1);
    for (;;) {
      struct sockaddr_in peer;
      socklen_t len = sizeof(peer);
      int conn = accept(fd, (struct sockaddr *)&peer, &len);
      if (conn < 0)
        continue;
      char text[64];
      inet_ntop(AF_INET, &peer.sin_addr, text, sizeof(text));
      dprintf(conn, "peer=%s\n", text);
      close(conn);
    }
  }
  close(ready[1]);
  char ok = 0;
  ck_assert_int_eq(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  c->extra_pids[c->n_extra_pids++] = pid;
  NL_OK(netns_link_add_veth("uplink1", "outside0", &err_));
  cleanup_free char *path = xasprintf("/proc/%d/ns/net", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  NL_OK(netns_link_move("outside0", fd, NULL, &err_));
  struct netns_addr here, there;
  NL_OK(netns_addr_parse("192.168.78.1/24", &here, &err_));
  NL_OK(netns_addr_parse("192.168.78.2/24", &there, &err_));
  NL_OK(netns_addr_add("uplink1", &here, &err_));
  NL_OK(netns_link_set_up("uplink1", true, &err_));
  int home = -1;
  NL_OK(netns_enter(fd, &home, &err_));
  close(fd);
  hull_error_t err = NULL;
  int r = netns_addr_add("outside0", &there, &err) < 0 ||
                  netns_link_set_up("outside0", true, &err) < 0 ||
                  netns_loopback_up(&err) < 0
              ? -1
              : 0;
  netns_return(&home);
  ck_assert_msg(r == 0, "%s", err ? err->msg : "?");
  return pid;
}

/* Two networks: a container reaches its neighbour, its gateway and the
 * outside world (masqueraded), but not the other network's container nor
 * the host's other addresses. */
START_TEST(network_isolation_between_networks) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  spawn_outside_server(c, 7100);
  cleanup_free char *a = xasprintf("%s-a", c->id);
  cleanup_free char *a2 = xasprintf("%s-a2", c->id);
  cleanup_free char *b = xasprintf("%s-b", c->id);
  start_waiter(c, a, ON_BRIDGE);
  start_waiter(c, a2, ON_BRIDGE);
  start_waiter(c, b, ON_BRIDGE ", \"run.oci.network.bridge\": \"tenant1\", "
                     "\"run.oci.network.subnet\": \"10.91.0.0/24\"");
  serve_in(c, a2, "nc -ll -p 7000 -e /bin/cat");
  serve_in(c, b, "nc -ll -p 7000 -e /bin/cat");

  assert_tcp(c, a, "10.89.0.3", 7000, true);   /* same network */
  assert_tcp(c, b, "10.91.0.2", 7000, true);   /* b itself: it serves */
  assert_tcp(c, a, "10.91.0.2", 7000, false);  /* the other network */
  assert_tcp(c, b, "10.89.0.3", 7000, false);

  struct hres r = pinging(c, a, "ping -c 1 -W 2 10.89.0.1");
  ck_assert_msg(r.status == 0, "gateway ping: %s %s", r.out, r.err);
  hres_free(&r);

  /* Outside: reached, with the host's address as the source. */
  r = in_container(c, a, "nc -w 3 192.168.78.2 7100 </dev/null");
  ck_assert_msg(r.status == 0 && hcontains(r.out, "peer=192.168.78.1"),
                "outbound: status %d: %s %s", r.status, r.out, r.err);
  hres_free(&r);

  /* The host's own address on another interface: not reachable. */
  int host_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7200)};
  ck_assert_int_eq(bind(host_listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
  ck_assert_int_eq(listen(host_listener, 4), 0);
  r = in_container(c, a, "nc -w 2 192.168.78.1 7200 </dev/null && echo "
                         "connected");
  ck_assert_msg(!hcontains(r.out, "connected"),
                "a container reached the host's 192.168.78.1: %s", r.out);
  hres_free(&r);
  close(host_listener);

  delete_all(c, (const char *const[]){a, a2, b, NULL});
  hctx_finish(c);
}
END_TEST

/* A refused create names the annotation and leaves nothing. */
static void expect_refused(const char *annotations, const char *want) {
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(ANNOTATE("%s"), annotations);
  hctx_write_config(c, &(struct hconfig){.top_extra = top});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_msg(r.status == 1, "status %d\nstderr: %s", r.status, r.err);
  ck_assert_msg(hcontains(r.err, want), "stderr: %s\nwant: %s", r.err, want);
  ck_assert_msg(strchr(r.err, '\n') == r.err + strlen(r.err) - 1,
                "not one line: %s", r.err);
  hres_free(&r);
  assert_network_clean(c);
  hctx_finish(c);
}

START_TEST(network_bad_annotations_are_refused) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  expect_refused("\"run.oci.network\": \"overlay\"",
                 "annotation run.oci.network: \\\"overlay\\\" is not a "
                 "network mode hull has (bridge, pasta, slirp4netns)");
  expect_refused(ON_BRIDGE ", \"run.oci.network.ip\": \"10.89.0.300\"",
                 "annotation run.oci.network.ip: \\\"10.89.0.300\\\" is not "
                 "an IPv4 address");
  expect_refused(ON_BRIDGE ", \"run.oci.network.subnet\": \"10.1.2.0/33\"",
                 "annotation run.oci.network.subnet: \\\"10.1.2.0/33\\\" is "
                 "not an IPv4 subnet (CIDR)");
  expect_refused(ON_BRIDGE ", \"run.oci.network.ports\": \"8080:0/tcp\"",
                 "annotation run.oci.network.ports");
  expect_refused(ON_BRIDGE ", \"run.oci.network.bridge\": \"nope0\", "
                 "\"run.oci.network.create\": \"false\"",
                 "annotation run.oci.network.bridge");
  expect_refused(ON_BRIDGE ", \"run.oci.network.typo\": \"1\"",
                 "annotation run.oci.network.typo: unknown");
}
END_TEST

START_TEST(network_taken_address_is_refused) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  cleanup_free char *a = xasprintf("%s-a", c->id);
  start_waiter(c, a, ON_BRIDGE ", \"run.oci.network.ip\": \"10.89.0.9\"");
  cleanup_free char *b = xasprintf("%s-b", c->id);
  hctx_write_config(c, &(struct hconfig){
      .top_extra = ANNOTATE(ON_BRIDGE ", \"run.oci.network.ip\": "
                                      "\"10.89.0.9\"")});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, b, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "annotation run.oci.network.ip") &&
                    hcontains(r.err, "10.89.0.9") && hcontains(r.err, a),
                "stderr: %s", r.err);
  hres_free(&r);
  /* a keeps its address and its link. */
  ck_assert(netns_has_address(container_pid(c, a), "eth0", "10.89.0.9/24"));
  delete_all(c, (const char *const[]){a, NULL});
  hctx_finish(c);
}
END_TEST

/* A network needs a namespace hull makes: an engine's path is its own. */
START_TEST(network_needs_a_new_network_namespace) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  hctx_write_config(c, &(struct hconfig){
      .namespaces = "{\"type\": \"pid\"}, {\"type\": \"mount\"}",
      .hostname = "",
      .top_extra = ANNOTATE(ON_BRIDGE)});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "annotation run.oci.network: needs a new "
                                 "network namespace"),
                "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* hull SIGKILLed at several points of create: delete --force removes the
 * link, the rules and the address all the same. */
START_TEST(network_delete_force_after_create_killed) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  const int delays_ms[] = {0, 2, 5, 10, 20, 40, 80};
  for (size_t i = 0; i < sizeof(delays_ms) / sizeof(delays_ms[0]); i++) {
    struct hctx *c = hctx_new();
    hctx_write_config(c, &(struct hconfig){
        .args = HELPER("sleep", "30"),
        .top_extra = ANNOTATE(ON_BRIDGE ", \"run.oci.network.ports\": "
                                        "\"9090:90\"")});
    char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
    struct hbg bg = hstart(c, args, -1, -1);
    struct timespec ts = {.tv_nsec = delays_ms[i] * 1000000L};
    nanosleep(&ts, NULL);
    kill(bg.pid, SIGKILL);
    struct hres r = hbg_wait(&bg, 5000);
    hres_free(&r);
    r = hrun(c, "delete", "--force", c->id, NULL);
    ck_assert_msg(r.status == 0 || hcontains(r.err, "does not exist"),
                  "delete --force after a kill at %d ms: %s", delays_ms[i],
                  r.err);
    hres_free(&r);
    assert_network_clean(c);
    hctx_finish(c);
  }
}
END_TEST

/* hull killed in a createRuntime hook (after the network is attached):
 * `hull network check` names the rules and the address of the
 * container (its state dir gone, as after a crash that `delete` never
 * followed), and says nothing once delete --force has run. */
START_TEST(network_check_lists_what_no_container_owns) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook-ran", c->dir);
  cleanup_free char *top = xasprintf(
      ANNOTATE(ON_BRIDGE ", \"run.oci.network.ports\": \"9191:91\"") ", "
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\":"
      " [\"sh\", \"-c\", \"touch %s; exec sleep 30\"]}]}",
      marker);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("sleep", "30"),
                                         .top_extra = top});
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hbg bg = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(marker, "", 5000), "the hook never ran");
  kill(bg.pid, SIGKILL);
  struct hres r = hbg_wait(&bg, 5000);
  hres_free(&r);

  r = hrun(c, "network", "check", NULL);
  ck_assert_msg(r.status == 0, "check with the container alive: %d %s",
                r.status, r.out);
  hres_free(&r);
  /* The state dir gone (someone removed it by hand): all is an orphan. */
  cleanup_free char *moved = xasprintf("%s/moved-state", c->dir);
  cleanup_free char *state = xasprintf("%s/%s", c->root, c->id);
  ck_assert_int_eq(rename(state, moved), 0);
  r = hrun(c, "network", "check", NULL);
  ck_assert_int_eq(r.status, 1);
  cleanup_free char *link_line = xasprintf("container %s is gone", c->id);
  /* The veth pair died with the init's namespace (the init dies with
   * hull during create); the rules and the address stay. */
  ck_assert_msg(hcontains(r.out, link_line) &&
                    hcontains(r.out, "nftables rules: container") &&
                    hcontains(r.out, "network hull0: address of container"),
                "check: %s", r.out);
  hres_free(&r);
  ck_assert_int_eq(rename(moved, state), 0);
  hrun_expect(0, c, "delete", "--force", c->id);
  r = hrun(c, "network", "check", NULL);
  ck_assert_msg(r.status == 0 && *r.out == '\0', "after delete: %s", r.out);
  hres_free(&r);
  assert_network_clean(c);
  hctx_finish(c);
}
END_TEST

/* `hull network rm`: refused while a container is on the network; then the
 * bridge, its rules and its record go. */
START_TEST(network_rm_removes_a_network_not_in_use) {
  ENTER_PRIVATE_NETNS();
  bring_lo_up();
  struct hctx *c = hctx_new();
  start_waiter(c, c->id, ON_BRIDGE ", \"run.oci.network.bridge\": "
                         "\"tenant2\"");
  struct hres r = hrun(c, "network", "rm", "tenant2", NULL);
  ck_assert_int_eq(r.status, 1);
  cleanup_free char *busy =
      xasprintf("network \\\"tenant2\\\" is in use by container "
                "\\\"%s\\\"", c->id);
  ck_assert_msg(hcontains(r.err, busy), "stderr: %s", r.err);
  hres_free(&r);
  hrun_expect(0, c, "delete", "--force", c->id);
  hrun_expect(0, c, "network", "rm", "tenant2");
  struct netns_link l;
  hull_error_t err = NULL;
  ck_assert_int_lt(netns_link_get("tenant2", &l, &err), 0);
  hull_error_release(&err);
  cleanup_strv char **ids = NULL, **bridges = NULL;
  NL_OK(netns_nft_owners(&ids, &bridges, &err_));
  for (char **b = bridges; b && *b; b++)
    ck_assert_msg(strcmp(*b, "tenant2") != 0, "rules of tenant2 left");
  r = hrun(c, "network", "ls", NULL);
  ck_assert_hres(r, 0);
  ck_assert_msg(!hcontains(r.out, "tenant2"), "ls: %s", r.out);
  hres_free(&r);
  r = hrun(c, "network", "rm", "tenant2", NULL);
  ck_assert_int_eq(r.status, 1);
  ck_assert_msg(hcontains(r.err, "does not exist"), "stderr: %s", r.err);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *network_suite(void) {
  Suite *s = suite_create("integration-network");
  TCase *tc = harness_tcase("network", 120);
  tcase_add_test(tc, network_containers_on_one_bridge_talk);
  tcase_add_test(tc, network_published_port_reaches_container);
  tcase_add_test(tc, network_isolation_between_networks);
  tcase_add_test(tc, network_bad_annotations_are_refused);
  tcase_add_test(tc, network_taken_address_is_refused);
  tcase_add_test(tc, network_needs_a_new_network_namespace);
  tcase_add_test(tc, network_delete_force_after_create_killed);
  tcase_add_test(tc, network_check_lists_what_no_container_owns);
  tcase_add_test(tc, network_rm_removes_a_network_not_in_use);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(network_suite)
