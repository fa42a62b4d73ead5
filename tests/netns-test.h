/* netns-test.h — what the tests of network interfaces share (unit and
 * integration): each test in a network namespace of its own, and netns
 * calls asserted with their error text.
 *
 * The test process (forked by Check) unshares a network namespace first,
 * so everything it and the hull it runs make stays there and the host's
 * interfaces are never touched. */
#ifndef HULL_TEST_NETNS_H
#define HULL_TEST_NETNS_H

#include "netns/netns.h"
#include "tests/suite.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Without Check's fork the unshare would move the whole runner: such a
 * run skips instead. */
#define ENTER_PRIVATE_NETNS()                                                  \
  do {                                                                         \
    const char *fork_mode = getenv("CK_FORK");                                 \
    if (fork_mode && strcmp(fork_mode, "no") == 0)                             \
      SKIP_TEST("CK_FORK=no: the test would leave the runner's netns");        \
    if (unshare(CLONE_NEWNET) < 0)                                             \
      SKIP_TEST("unshare(CLONE_NEWNET): %s", strerror(errno));                \
  } while (0)

/* The call names its error variable err_. */
#define NL_OK(call)                                                            \
  do {                                                                         \
    hull_error_t err_ = NULL;                                                  \
    if ((call) < 0)                                                            \
      ck_abort_msg("%s: %s", #call, err_ ? err_->msg : "?");                   \
  } while (0)

#define NL_FAILS_WITH(call, text)                                              \
  do {                                                                         \
    hull_error_t err_ = NULL;                                                  \
    ck_assert_int_lt((call), 0);                                               \
    ck_assert_ptr_nonnull(err_);                                               \
    ck_assert_str_eq(err_->msg, (text));                                       \
    hull_error_release(&err_);                                                 \
  } while (0)

/* For errors whose kernel text differs between kernel versions. */
#define NL_FAILS_STARTING_WITH(call, text)                                     \
  do {                                                                         \
    hull_error_t err_ = NULL;                                                  \
    ck_assert_int_lt((call), 0);                                               \
    ck_assert_ptr_nonnull(err_);                                               \
    ck_assert_msg(strncmp(err_->msg, (text), strlen(text)) == 0,               \
                  "\"%s\" does not start with \"%s\"", err_->msg, (text));    \
    hull_error_release(&err_);                                                 \
  } while (0)

#endif
