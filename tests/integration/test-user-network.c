/* test-user-network.c — run.oci.network=pasta|slirp4netns with hull run by
 * root: the container reaches the host's loopback at its gateway's address
 * (allow_host_loopback=true), a published port reaches the container from
 * 127.0.0.1, the helper (and its keeper) are gone after delete and after
 * the init is killed, and bad input is one line that leaves nothing.
 * The rootless side is in test-rootless.c.
 *
 * Each test first unshares a network namespace of its own (the test's
 * "host", with an uplink and a default route, which pasta copies): no
 * outside network is needed, and nothing touches the machine's. */
#include "tests/integration/harness.h"
#include "tests/integration/user-network-test.h"
#include "tests/netns-test.h"
#include "runtime/common/common.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void expect_refused(const char *annotations, const char *want) {
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(ANNOTATE("%s"), annotations);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  hexpect_one_line_error(r, want);
  hres_free(&r);
  hctx_finish(c);
}

/* The container on mode's network reaches the host's 127.0.0.1 at
 * gateway, and 127.0.0.1:<published> reaches it; delete leaves nothing. */
static void reaches_both_ways(const char *mode, const char *gateway) {
  SKIP_UNLESS(unet_helper_installed(mode), unet_helper_missing(mode));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int host_port = 0;
  pid_t server = unet_host_server(&host_port);
  int published = unet_free_port();
  struct hctx *c = hctx_new();
  cleanup_free char *annotations = xasprintf(
      "\"run.oci.network\": \"%s\", "
      "\"run.oci.network.allow_host_loopback\": \"true\", "
      "\"run.oci.network.ports\": \"%d:80/tcp\"", mode, published);
  unet_start_waiter(c, NULL, annotations);
  pid_t helper = unet_recorded_helper(c, c->id);
  ck_assert_msg(helper > 0, "state.json names no network helper");

  unet_assert_reaches_host(c, NULL, c->id, gateway, host_port);
  unet_assert_published(c, NULL, c->id, published);

  hrun_expect(0, c, "delete", "--force", c->id);
  ck_assert_msg(unet_gone(helper, 0), "%s %d outlived delete", mode,
                (int)helper);
  ck_assert_msg(!unet_port_answers(published),
                "127.0.0.1:%d still answers after delete", published);
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  hctx_finish(c);
}

START_TEST(user_network_pasta_reaches_host_and_publishes) {
  /* pasta gives the container the host's own gateway. */
  reaches_both_ways("pasta", UNET_GATEWAY);
}
END_TEST

START_TEST(user_network_slirp4netns_reaches_host_and_publishes) {
  reaches_both_ways("slirp4netns", "10.0.2.2");
}
END_TEST

/* A foreground `run` (hull the keeper's parent, and the one to delete):
 * the process reaches the host and exits; nothing is left. */
START_TEST(user_network_foreground_run_reaches_host) {
  SKIP_UNLESS(unet_helper_installed("pasta"), unet_helper_missing("pasta"));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int host_port = 0;
  pid_t server = unet_host_server(&host_port);
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(ANNOTATE(
      "\"run.oci.network\": \"pasta\", "
      "\"run.oci.network.allow_host_loopback\": \"true\""));
  cleanup_free char *args = xasprintf(
      "\"/bin/sh\", \"-c\", \"for i in $(seq 20); do "
      "out=$(echo x | timeout 3 nc -w 1 %s %d); [ -n \\\"$out\\\" ] && "
      "echo $out && exit 0; sleep 0.2; done; exit 1\"",
      UNET_GATEWAY, host_port);
  struct hres r = hrun_config(c, &(struct hconfig){.args = args,
                                                    .top_extra = top});
  ck_assert_msg(r.status == 0 && hcontains(r.out, "from-host"),
                "status %d, out %s, err %s", r.status, r.out, r.err);
  hres_free(&r);
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  hctx_finish(c);
}
END_TEST

/* Without allow_host_loopback the host's loopback stays out of reach. */
START_TEST(user_network_host_loopback_is_opt_in) {
  const char *modes[] = {"pasta", "slirp4netns", NULL};
  const char *gateways[] = {UNET_GATEWAY, "10.0.2.2"};
  for (int i = 0; modes[i]; i++)
    SKIP_UNLESS(unet_helper_installed(modes[i]),
                unet_helper_missing(modes[i]));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int host_port = 0;
  pid_t server = unet_host_server(&host_port);
  struct hctx *c = hctx_new();
  for (int i = 0; modes[i]; i++) {
    cleanup_free char *annotations =
        xasprintf("\"run.oci.network\": \"%s\"", modes[i]);
    unet_start_waiter(c, NULL, annotations);
    cleanup_free char *script = xasprintf(
        "echo x | timeout 3 nc -w 2 %s %d", gateways[i], host_port);
    struct hres r = hrun(c, "exec", c->id, "/bin/sh", "-c", script, NULL);
    ck_assert_msg(!hcontains(r.out, "from-host"),
                  "%s: reached the host's loopback without asking", modes[i]);
    hres_free(&r);
    hrun_expect(0, c, "delete", "--force", c->id);
  }
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  hctx_finish(c);
}
END_TEST

/* kill -9 of the init: the keeper stops the helper on its own. */
static void helper_dies_with_init(const char *mode) {
  SKIP_UNLESS(unet_helper_installed(mode), unet_helper_missing(mode));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int published = unet_free_port();
  struct hctx *c = hctx_new();
  cleanup_free char *annotations = xasprintf(
      "\"run.oci.network\": \"%s\", \"run.oci.network.ports\": \"%d:80\"",
      mode, published);
  unet_start_waiter(c, NULL, annotations);
  pid_t helper = unet_recorded_helper(c, c->id);
  pid_t keeper = unet_recorded_keeper(c, c->id);
  pid_t init = 0;
  free(hstate_status(c, c->id, &init));
  ck_assert_int_gt(init, 0);
  ck_assert_int_eq(kill(init, SIGKILL), 0);
  ck_assert_msg(unet_gone(helper, 5000), "%s %d outlived its container's "
                "init", mode, (int)helper);
  ck_assert_msg(unet_gone(keeper, 5000), "keeper %d outlived the init",
                (int)keeper);
  ck_assert_msg(!unet_port_answers(published),
                "127.0.0.1:%d answers with the container dead", published);
  hrun_expect(0, c, "delete", c->id);
  hctx_finish(c);
}

START_TEST(user_network_pasta_dies_with_the_init) {
  helper_dies_with_init("pasta");
}
END_TEST

START_TEST(user_network_slirp4netns_dies_with_the_init) {
  helper_dies_with_init("slirp4netns");
}
END_TEST

/* hull SIGKILLed in a createRuntime hook, the helper running: the init
 * dies with create (PDEATHSIG), and the keeper takes the helper with it;
 * delete --force then finds nothing left. */
static void helper_dies_with_create(const char *mode) {
  SKIP_UNLESS(unet_helper_installed(mode), unet_helper_missing(mode));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int published = unet_free_port();
  struct hctx *c = hctx_new();
  cleanup_free char *marker = xasprintf("%s/hook-ran", c->dir);
  cleanup_free char *top = xasprintf(
      ANNOTATE("\"run.oci.network\": \"%s\", "
               "\"run.oci.network.ports\": \"%d:80\"") ", "
      "\"hooks\": {\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\":"
      " [\"sh\", \"-c\", \"touch %s; exec sleep 30\"]}]}",
      mode, published, marker);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hbg bg = hstart(c, args, -1, -1);
  ck_assert_msg(hwait_file(marker, "", 10000), "the hook never ran");
  pid_t helper = unet_recorded_helper(c, c->id);
  pid_t keeper = unet_recorded_keeper(c, c->id);
  ck_assert_msg(helper > 0 && keeper > 0, "state.json names no helper");
  kill(bg.pid, SIGKILL);
  struct hres r = hbg_wait(&bg, 5000);
  hres_free(&r);
  ck_assert_msg(unet_gone(helper, 5000), "%s %d outlived create's crash",
                mode, (int)helper);
  ck_assert_msg(unet_gone(keeper, 5000), "keeper %d outlived create's crash",
                (int)keeper);
  ck_assert_msg(!unet_port_answers(published),
                "127.0.0.1:%d answers after create's crash", published);
  hrun_expect(0, c, "delete", "--force", c->id);
  hctx_finish(c);
}

START_TEST(user_network_pasta_dies_with_a_killed_create) {
  helper_dies_with_create("pasta");
}
END_TEST

START_TEST(user_network_slirp4netns_dies_with_a_killed_create) {
  helper_dies_with_create("slirp4netns");
}
END_TEST

/* hull SIGKILLed at several points of create: delete --force leaves no
 * helper (the harness finds a pasta by its pid file's path). */
START_TEST(user_network_delete_force_after_create_killed) {
  SKIP_UNLESS(unet_helper_installed("pasta"), unet_helper_missing("pasta"));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  const int delays_ms[] = {0, 5, 20, 50, 100, 200};
  for (size_t i = 0; i < sizeof(delays_ms) / sizeof(delays_ms[0]); i++) {
    struct hctx *c = hctx_new();
    hctx_write_config(c, &(struct hconfig){
        .args = HELPER("sleep", "30"),
        .top_extra = ANNOTATE("\"run.oci.network\": \"pasta\"")});
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
    hctx_finish(c);
  }
}
END_TEST

START_TEST(user_network_bad_input_is_one_line) {
  expect_refused("\"run.oci.network\": \"nope\"",
                 "annotation run.oci.network: \\\"nope\\\" is not a network "
                 "mode hull has (bridge, pasta, slirp4netns)");
  expect_refused("\"run.oci.network\": \"pasta\", "
                 "\"run.oci.network.ports\": \"80\"",
                 "annotation run.oci.network.ports: \\\"80\\\": expected "
                 "host_port:container_port[/tcp|/udp]");
  expect_refused("\"run.oci.network\": \"slirp4netns\", "
                 "\"run.oci.network.ports\": \"8080:80/sctp\"",
                 "annotation run.oci.network.ports: \\\"8080:80/sctp\\\": "
                 "protocol \\\"sctp\\\" is not tcp or udp");
  expect_refused("\"run.oci.network\": \"pasta\", "
                 "\"run.oci.network.subnet\": \"10.1.0.0/24\"",
                 "annotation run.oci.network.subnet: only with "
                 "run.oci.network=bridge");
  expect_refused("\"run.oci.network\": \"bridge\", "
                 "\"run.oci.network.allow_host_loopback\": \"true\"",
                 "annotation run.oci.network.allow_host_loopback: only with "
                 "run.oci.network=pasta or slirp4netns");
  expect_refused("\"run.oci.network\": \"slirp4netns\", "
                 "\"run.oci.network.allow_host_loopback\": \"yes\"",
                 "annotation run.oci.network.allow_host_loopback: "
                 "\\\"yes\\\" is not true or false");
}
END_TEST

/* A published port the host already uses: create fails with the helper's
 * own words, in one line, and leaves nothing (no helper either). */
static void taken_port_is_refused(const char *mode) {
  SKIP_UNLESS(unet_helper_installed(mode), unet_helper_missing(mode));
  ENTER_PRIVATE_NETNS();
  unet_host_uplink();
  int taken = 0;
  pid_t server = unet_host_server(&taken);
  struct hctx *c = hctx_new();
  cleanup_free char *top = xasprintf(ANNOTATE(
      "\"run.oci.network\": \"%s\", \"run.oci.network.ports\": "
      "\"%d:80\""), mode, taken);
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  struct hres r = hrun(c, "create", "--bundle", c->bundle, c->id, NULL);
  cleanup_free char *prefix =
      xasprintf("annotation run.oci.network=%s: %s: ", mode, mode);
  ck_assert_msg(r.status == 1 && hcontains(r.err, prefix) &&
                    strchr(r.err, '\n') == strrchr(r.err, '\n'),
                "status %d, stderr %s", r.status, r.err);
  hres_free(&r);
  kill(server, SIGKILL);
  waitpid(server, NULL, 0);
  hctx_finish(c);
}

START_TEST(user_network_pasta_taken_port_is_refused) {
  taken_port_is_refused("pasta");
}
END_TEST

START_TEST(user_network_slirp4netns_taken_port_is_refused) {
  taken_port_is_refused("slirp4netns");
}
END_TEST

/* pasta hidden in a private mount namespace of hull's. */
START_TEST(user_network_missing_helper_is_named) {
  SKIP_UNLESS(access("/usr/bin/pasta", F_OK) == 0 &&
                  access("/usr/bin/unshare", X_OK) == 0,
              "pasta at /usr/bin/pasta and unshare(1) to hide it");
  struct hctx *c = hctx_new();
  cleanup_free char *top =
      xasprintf(ANNOTATE("\"run.oci.network\": \"pasta\""));
  hctx_write_config(c, &(struct hconfig){.args = HELPER("signal-wait"),
                                         .top_extra = top});
  char *prefix[] = {"/usr/bin/unshare", "--mount", "/bin/sh", "-c",
                    "mount --bind /dev/null /usr/bin/pasta && "
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                    "/sbin:/bin exec \"$@\"",
                    "sh", NULL};
  char *args[] = {"create", "--bundle", c->bundle, c->id, NULL};
  struct hres r = hrun_wrapped(c, prefix, c->root, args, 10000);
  hexpect_one_line_error(r, "annotation run.oci.network=pasta: pasta not "
                            "found in $PATH (Debian package passt)");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

static Suite *user_network_suite(void) {
  Suite *s = suite_create("integration-user-network");
  TCase *tc = harness_tcase("user-network", 120);
  tcase_add_test(tc, user_network_pasta_reaches_host_and_publishes);
  tcase_add_test(tc, user_network_slirp4netns_reaches_host_and_publishes);
  tcase_add_test(tc, user_network_foreground_run_reaches_host);
  tcase_add_test(tc, user_network_host_loopback_is_opt_in);
  tcase_add_test(tc, user_network_pasta_dies_with_the_init);
  tcase_add_test(tc, user_network_slirp4netns_dies_with_the_init);
  tcase_add_test(tc, user_network_pasta_dies_with_a_killed_create);
  tcase_add_test(tc, user_network_slirp4netns_dies_with_a_killed_create);
  tcase_add_test(tc, user_network_delete_force_after_create_killed);
  tcase_add_test(tc, user_network_bad_input_is_one_line);
  tcase_add_test(tc, user_network_missing_helper_is_named);
  tcase_add_test(tc, user_network_pasta_taken_port_is_refused);
  tcase_add_test(tc, user_network_slirp4netns_taken_port_is_refused);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(user_network_suite)
