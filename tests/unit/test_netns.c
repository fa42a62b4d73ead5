/* test_netns.c — netns_loopback_up in a fresh network namespace. */
#include "netns/netns.h"
#include "tests/suite.h"

#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* -1 on error, else whether `lo` in the current netns has IFF_UP. */
static int lo_is_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  int r = ioctl(s, SIOCGIFFLAGS, &ifr);
  close(s);
  return r < 0 ? -1 : (ifr.ifr_flags & IFF_UP) != 0;
}

/* The child's exit status says which step failed. */
enum { OK, UNSHARE_FAILED, WAS_UP, CALL_FAILED, STILL_DOWN, AGAIN_FAILED };

static int in_new_netns(void) {
  if (unshare(CLONE_NEWNET) < 0)
    return UNSHARE_FAILED;
  if (lo_is_up() != 0)
    return WAS_UP;
  hull_error_t err = NULL;
  if (netns_loopback_up(&err) < 0)
    return CALL_FAILED;
  if (lo_is_up() != 1)
    return STILL_DOWN;
  if (netns_loopback_up(&err) < 0)   /* already up is fine */
    return AGAIN_FAILED;
  return OK;
}

START_TEST(loopback_comes_up_in_new_netns) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0)
    _exit(in_new_netns());
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), OK);
}
END_TEST

static Suite *netns_suite(void) {
  Suite *s = suite_create("netns");
  TCase *tc = tcase_create("loopback");
  tcase_add_test(tc, loopback_comes_up_in_new_netns);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(netns_suite)
