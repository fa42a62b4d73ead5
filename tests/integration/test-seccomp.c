/* test-seccomp.c — linux.seccomp in real containers: errnoRet and kill
 * actions, the filter in /proc/self/status, a docker-like default profile
 * that busybox sh runs under, ENOSYS for syscalls newer than the profile,
 * SCMP_ACT_NOTIFY answered by a listener the test runs, the compiled
 * filter cached in <root>/.cache/seccomp (and skipped by an init in a user
 * namespace), and bad profiles that fail `create` leaving nothing
 * behind. */
#include "tests/integration/harness.h"
#include "runtime/common/common.h"

#include <dirent.h>
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* "linux.seccomp" with the given members. */
#define SECCOMP(...) "\"seccomp\": {" __VA_ARGS__ "}"

START_TEST(errno_ret_and_kill) {
  static const char profile[] = SECCOMP(
      "\"defaultAction\": \"SCMP_ACT_ALLOW\","
      "\"syscalls\": ["
      " {\"names\": [\"getcwd\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 42},"
      " {\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_KILL\"}]");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = HELPER("syscall", "getcwd"), .linux_extra = profile});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "getcwd=errno 42 (No message of desired type)\n");
  hres_free(&r);
  hctx_finish(c);

  c = hctx_new();
  r = hrun_config(c, &(struct hconfig){.args = HELPER("syscall", "getppid"),
                                       .linux_extra = profile});
  ck_assert_hres(r, 128 + SIGSYS);
  hres_free(&r);
  hctx_finish(c);

  c = hctx_new();
  r = hrun_config(c, &(struct hconfig){.args = HELPER("status"),
                                       .linux_extra = profile});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "Seccomp:\t2\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "Seccomp_filters:\t1\n"), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Close to moby's default profile: deny with EPERM, allow what ordinary
 * programs use, clone3 answers ENOSYS so glibc falls back to clone. */
#define DOCKER_ALLOWED                                                         \
  "\"accept\",\"accept4\",\"access\",\"adjtimex\",\"alarm\",\"bind\",\"brk\","   \
  "\"cachestat\",\"capget\",\"capset\",\"chdir\",\"chmod\",\"chown\","           \
  "\"clock_adjtime\",\"clock_getres\",\"clock_gettime\",\"clock_nanosleep\","    \
  "\"close\",\"close_range\",\"connect\",\"copy_file_range\",\"creat\",\"dup\"," \
  "\"dup2\",\"dup3\",\"epoll_create\",\"epoll_create1\",\"epoll_ctl\","          \
  "\"epoll_pwait\",\"epoll_pwait2\",\"epoll_wait\",\"eventfd\",\"eventfd2\","    \
  "\"execve\",\"execveat\",\"exit\",\"exit_group\",\"faccessat\","               \
  "\"faccessat2\",\"fadvise64\",\"fallocate\",\"fanotify_mark\",\"fchdir\","     \
  "\"fchmod\",\"fchmodat\",\"fchmodat2\",\"fchown\",\"fchownat\",\"fcntl\","     \
  "\"fdatasync\",\"fgetxattr\",\"flistxattr\",\"flock\",\"fork\","               \
  "\"fremovexattr\",\"fsetxattr\",\"fstat\",\"fstatfs\",\"fsync\","              \
  "\"ftruncate\",\"futex\",\"futex_requeue\",\"futex_wait\",\"futex_waitv\","    \
  "\"futex_wake\",\"futimesat\",\"getcpu\",\"getcwd\",\"getdents\","             \
  "\"getdents64\",\"getegid\",\"geteuid\",\"getgid\",\"getgroups\","             \
  "\"getitimer\",\"getpeername\",\"getpgid\",\"getpgrp\",\"getpid\","            \
  "\"getppid\",\"getpriority\",\"getrandom\",\"getresgid\",\"getresuid\","       \
  "\"getrlimit\",\"get_robust_list\",\"getrusage\",\"getsid\",\"getsockname\","  \
  "\"getsockopt\",\"get_thread_area\",\"gettid\",\"gettimeofday\",\"getuid\","   \
  "\"getxattr\",\"inotify_add_watch\",\"inotify_init\",\"inotify_init1\","       \
  "\"inotify_rm_watch\",\"io_cancel\",\"ioctl\",\"io_destroy\","                 \
  "\"io_getevents\",\"io_pgetevents\",\"ioprio_get\",\"ioprio_set\","            \
  "\"io_setup\",\"io_submit\",\"kill\",\"landlock_add_rule\","                   \
  "\"landlock_create_ruleset\",\"landlock_restrict_self\",\"lchown\","           \
  "\"lgetxattr\",\"link\",\"linkat\",\"listen\",\"listxattr\",\"llistxattr\","   \
  "\"lremovexattr\",\"lseek\",\"lsetxattr\",\"lstat\",\"madvise\","              \
  "\"map_shadow_stack\",\"membarrier\",\"memfd_create\",\"memfd_secret\","       \
  "\"mincore\",\"mkdir\",\"mkdirat\",\"mknod\",\"mknodat\",\"mlock\","           \
  "\"mlock2\",\"mlockall\",\"mmap\",\"mprotect\",\"mq_getsetattr\","             \
  "\"mq_notify\",\"mq_open\",\"mq_timedreceive\",\"mq_timedsend\","              \
  "\"mq_unlink\",\"mremap\",\"msgctl\",\"msgget\",\"msgrcv\",\"msgsnd\","        \
  "\"msync\",\"munlock\",\"munlockall\",\"munmap\",\"name_to_handle_at\","       \
  "\"nanosleep\",\"newfstatat\",\"open\",\"openat\",\"openat2\",\"pause\","      \
  "\"pidfd_open\",\"pidfd_send_signal\",\"pipe\",\"pipe2\",\"pkey_alloc\","      \
  "\"pkey_free\",\"pkey_mprotect\",\"poll\",\"ppoll\",\"prctl\",\"pread64\","    \
  "\"preadv\",\"preadv2\",\"prlimit64\",\"process_mrelease\",\"pselect6\","      \
  "\"pwrite64\",\"pwritev\",\"pwritev2\",\"read\",\"readahead\",\"readlink\","   \
  "\"readlinkat\",\"readv\",\"recvfrom\",\"recvmmsg\",\"recvmsg\","              \
  "\"remap_file_pages\",\"removexattr\",\"rename\",\"renameat\",\"renameat2\","  \
  "\"restart_syscall\",\"rmdir\",\"rseq\",\"rt_sigaction\",\"rt_sigpending\","   \
  "\"rt_sigprocmask\",\"rt_sigqueueinfo\",\"rt_sigreturn\",\"rt_sigsuspend\","   \
  "\"rt_sigtimedwait\",\"rt_tgsigqueueinfo\",\"sched_getaffinity\","             \
  "\"sched_getattr\",\"sched_getparam\",\"sched_get_priority_max\","             \
  "\"sched_get_priority_min\",\"sched_getscheduler\",\"sched_rr_get_interval\"," \
  "\"sched_setaffinity\",\"sched_setattr\",\"sched_setparam\","                  \
  "\"sched_setscheduler\",\"sched_yield\",\"seccomp\",\"select\",\"semctl\","    \
  "\"semget\",\"semop\",\"semtimedop\",\"sendfile\",\"sendmmsg\",\"sendmsg\","   \
  "\"sendto\",\"setfsgid\",\"setfsuid\",\"setgid\",\"setgroups\",\"setitimer\"," \
  "\"setpgid\",\"setpriority\",\"setregid\",\"setresgid\",\"setresuid\","        \
  "\"setreuid\",\"setrlimit\",\"set_robust_list\",\"setsid\",\"setsockopt\","    \
  "\"set_thread_area\",\"set_tid_address\",\"setuid\",\"setxattr\",\"shmat\","   \
  "\"shmctl\",\"shmdt\",\"shmget\",\"shutdown\",\"sigaltstack\",\"signalfd\","   \
  "\"signalfd4\",\"socketpair\",\"splice\",\"stat\",\"statfs\",\"statx\","       \
  "\"symlink\",\"symlinkat\",\"sync\",\"sync_file_range\",\"syncfs\","           \
  "\"sysinfo\",\"tee\",\"tgkill\",\"time\",\"timer_create\",\"timer_delete\","   \
  "\"timer_getoverrun\",\"timer_gettime\",\"timer_settime\","                    \
  "\"timerfd_create\",\"timerfd_gettime\",\"timerfd_settime\",\"times\","        \
  "\"tkill\",\"truncate\",\"umask\",\"uname\",\"unlink\",\"unlinkat\","          \
  "\"utime\",\"utimensat\",\"utimes\",\"vfork\",\"vmsplice\",\"wait4\","         \
  "\"waitid\",\"write\",\"writev\",\"arch_prctl\",\"modify_ldt\""

static const char docker_profile[] = SECCOMP(
    "\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1,"
    "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\","
    " \"SCMP_ARCH_X32\"],"
    "\"syscalls\": ["
    " {\"names\": [" DOCKER_ALLOWED "], \"action\": \"SCMP_ACT_ALLOW\"},"
    " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
    " {\"names\": [\"personality\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [{\"index\": 0, \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\"}]},"
    " {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 0,"
    "   \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
    " {\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38},"
    " {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
    "  \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\"}]}]");

START_TEST(docker_like_profile_runs_a_shell) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"echo hello; ls / >/dev/null &&"
              " /bin/hull-test-helper status; /bin/hull-test-helper syscall"
              " clone3; /bin/hull-test-helper syscall personality 8;"
              " /bin/hull-test-helper syscall mkdir /made\"",
      .linux_extra = docker_profile});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "hello\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "Seccomp:\t2\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "clone3=errno 38 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "personality=errno 1 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "mkdir=0\n"), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* docker's defaults: a non-root user and no no_new_privs. The filter must
 * then be loaded while the init is still root (CAP_SYS_ADMIN). */
START_TEST(docker_profile_for_a_user_without_no_new_privs) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper id;"
              " /bin/hull-test-helper status; /bin/hull-test-helper syscall"
              " personality 8\"",
      .user = "\"uid\": 1000, \"gid\": 1000",
      .process_extra = "\"noNewPrivileges\": false",
      .linux_extra = docker_profile});
  ck_assert_hres(r, 0);
  ck_assert_msg(hcontains(r.out, "uid=1000\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "NoNewPrivs:\t0\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "Seccomp:\t2\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "personality=errno 1 "), "%s", r.out);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* ---- the compiled-filter cache in <root>/.cache/seccomp ------------------- */

static const char docker_probe[] =
    "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper syscall clone3;"
    " /bin/hull-test-helper syscall personality 8;"
    " /bin/hull-test-helper stat /\"";

static void assert_docker_profile_enforced(const struct hres *r) {
  ck_assert_hres(*r, 0);
  ck_assert_msg(hcontains(r->out, "clone3=errno 38 "), "%s", r->out);
  ck_assert_msg(hcontains(r->out, "personality=errno 1 "), "%s", r->out);
  ck_assert_msg(hcontains(r->out, "type=dir "), "%s", r->out);
}

/* The one entry in dir (the test fails unless there is exactly one);
 * dot-files are the cache's lock and temporaries. */
static char *only_file_in(const char *dir, struct stat *st) {
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "open `%s`: %s", dir, strerror(errno));
  char *found = NULL;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    ck_assert_msg(found == NULL, "more than one file in `%s`: %s and %s", dir,
                  found, de->d_name);
    found = xasprintf("%s/%s", dir, de->d_name);
  }
  closedir(d);
  ck_assert_msg(found != NULL, "no file in `%s`", dir);
  ck_assert_int_eq(stat(found, st), 0);
  return found;
}

/* The second container takes the filter from the file the first one
 * wrote (same inode: not compiled and stored again) and is held to it. */
START_TEST(docker_profile_is_compiled_once_per_root) {
  struct hctx *c = hctx_new();
  struct hconfig cfg = {.args = docker_probe, .linux_extra = docker_profile};
  struct hres r = hrun_config(c, &cfg);
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  cleanup_free char *dir = xasprintf("%s/.cache/seccomp", c->root);
  struct stat first, second;
  cleanup_free char *path = only_file_in(dir, &first);
  ck_assert_uint_eq(first.st_mode & 07777, 0600);

  r = hrun_config(c, &cfg);
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  cleanup_free char *again = only_file_in(dir, &second);
  ck_assert_str_eq(again, path);
  ck_assert_uint_eq(second.st_ino, first.st_ino);

  /* `hull list` does not take the cache for a container. */
  r = hrun(c, "list", "-q", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* A container whose init is root only in its user namespace cannot read
 * or write the host-owned cache: it compiles the filter itself. */
START_TEST(user_namespace_init_compiles_without_the_cache) {
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = docker_probe, .linux_extra = docker_profile});
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  cleanup_free char *profile = xasprintf(
      "%s, \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000,"
      " \"size\": 65536}], \"gidMappings\": [{\"containerID\": 0,"
      " \"hostID\": 100000, \"size\": 65536}]", docker_profile);
  r = hrun_config(c, &(struct hconfig){
      .args = docker_probe, .linux_extra = profile,
      .namespaces = "{\"type\": \"pid\"}, {\"type\": \"network\"},"
                    " {\"type\": \"ipc\"}, {\"type\": \"uts\"},"
                    " {\"type\": \"mount\"}, {\"type\": \"user\"}"});
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* Nothing newer than rseq is named: clone3 gets ENOSYS, the older getppid
 * the default EPERM. */
START_TEST(syscalls_newer_than_the_profile_get_enosys) {
  static const char profile[] = SECCOMP(
      "\"defaultAction\": \"SCMP_ACT_ERRNO\","
      "\"syscalls\": [{\"names\": [\"execve\", \"brk\", \"arch_prctl\","
      " \"mmap\", \"munmap\", \"mprotect\", \"write\", \"exit\", \"exit_group\","
      " \"uname\", \"set_tid_address\", \"set_robust_list\", \"rseq\","
      " \"prlimit64\", \"readlink\", \"readlinkat\", \"getrandom\", \"close\","
      " \"fstat\", \"newfstatat\", \"ioctl\", \"futex\"],"
      " \"action\": \"SCMP_ACT_ALLOW\"}]");
  struct hctx *c = hctx_new();
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = HELPER("syscall", "clone3"), .linux_extra = profile});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "clone3=errno 38 (Function not implemented)\n");
  hres_free(&r);
  hctx_finish(c);

  c = hctx_new();
  r = hrun_config(c, &(struct hconfig){.args = HELPER("syscall", "getppid"),
                                       .linux_extra = profile});
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "getppid=errno 1 (Operation not permitted)\n");
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* The profile above with `architectures` members (or none). */
#define NEWER_PROFILE(archs)                                                  \
  SECCOMP(archs "\"defaultAction\": \"SCMP_ACT_ERRNO\","                      \
          "\"syscalls\": [{\"names\": [\"execve\", \"brk\", \"arch_prctl\","   \
          " \"mmap\", \"munmap\", \"mprotect\", \"write\", \"exit\","         \
          " \"exit_group\", \"uname\", \"set_tid_address\","                   \
          " \"set_robust_list\", \"rseq\", \"prlimit64\", \"readlink\","       \
          " \"readlinkat\", \"getrandom\", \"close\", \"fstat\","              \
          " \"newfstatat\", \"ioctl\", \"futex\"],"                            \
          " \"action\": \"SCMP_ACT_ALLOW\"}]")

static void assert_syscall_answer(const char *profile, const char *call,
                                  const char *want) {
  struct hctx *c = hctx_new();
  cleanup_free char *args = xasprintf(HELPER("syscall") ", \"%s\"", call);
  struct hres r = hrun_config(c, &(struct hconfig){.args = args,
                                                   .linux_extra = profile});
  ck_assert_hres(r, 0);
  ck_assert_msg(strcmp(r.out, want) == 0, "%s: got \"%s\", want \"%s\"",
                profile, r.out, want);
  hres_free(&r);
  hctx_finish(c);
}

/* A number past the end of libseccomp's table is a syscall newer than any
 * profile: ENOSYS too, also when the filter covers several architectures
 * (docker's profile lists x86_64, x86 and x32), as runc's does. */
START_TEST(syscall_numbers_past_libseccomps_table_get_enosys) {
  static const char enosys[] = "1000=errno 38 (Function not implemented)\n";
  assert_syscall_answer(NEWER_PROFILE(""), "1000", enosys);
  static const char multi[] = NEWER_PROFILE(
      "\"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\","
      " \"SCMP_ARCH_X32\"],");
  assert_syscall_answer(multi, "1000", enosys);
  assert_syscall_answer(
      multi, "clone3", "clone3=errno 38 (Function not implemented)\n");
  assert_syscall_answer(multi, "getppid",
                        "getppid=errno 1 (Operation not permitted)\n");
}
END_TEST

/* ---- SCMP_ACT_NOTIFY ------------------------------------------------------ */

/* Receives the seccomp fd and the state JSON, writes the JSON to
 * state_path, answers the first notification with EXDEV and lets the second
 * through. Runs in a forked child; exits 0 when all went to plan. */
static int listen_and_answer(int server, const char *state_path) {
  alarm(20);
  int conn = accept(server, NULL, NULL);
  if (conn < 0)
    return 10;
  char body[8192];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {.iov_base = body, .iov_len = sizeof(body) - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf,
                       .msg_controllen = sizeof(control.buf)};
  ssize_t n = recvmsg(conn, &msg, 0);
  struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
  if (cmsg == NULL || cmsg->cmsg_type != SCM_RIGHTS)
    return 11;
  int notify_fd;
  memcpy(&notify_fd, CMSG_DATA(cmsg), sizeof(int));
  /* The whole message: read until the runtime closes the connection. */
  ssize_t more;
  while ((size_t)n < sizeof(body) - 1 &&
         (more = read(conn, body + n, sizeof(body) - 1 - (size_t)n)) > 0)
    n += more;
  body[n] = '\0';
  close(conn);
  hwrite_file(state_path, body, 0644);
  struct seccomp_notif *req;
  struct seccomp_notif_resp *resp;
  if (seccomp_notify_alloc(&req, &resp) < 0)
    return 12;
  for (int i = 0; i < 2; i++) {
    memset(req, 0, sizeof(*req));
    if (seccomp_notify_receive(notify_fd, req) < 0)
      return 13;
    memset(resp, 0, sizeof(*resp));
    resp->id = req->id;
    if (i == 0)
      resp->error = -EXDEV;
    else
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (seccomp_notify_respond(notify_fd, resp) < 0)
      return 14;
  }
  return 0;
}

START_TEST(notify_reaches_the_listener) {
  struct hctx *c = hctx_new();
  cleanup_free char *sock_path = xasprintf("%s/agent.sock", c->dir);
  cleanup_free char *state_path = xasprintf("%s/agent-state.json", c->dir);
  int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(server, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(sock_path), sizeof(addr.sun_path));
  strcpy(addr.sun_path, sock_path);
  ck_assert_int_eq(bind(server, (struct sockaddr *)&addr, sizeof(addr)), 0);
  ck_assert_int_eq(listen(server, 1), 0);
  pid_t agent = fork();
  ck_assert_int_ge(agent, 0);
  if (agent == 0)
    _exit(listen_and_answer(server, state_path));
  close(server);

  cleanup_free char *profile = xasprintf(SECCOMP(
      "\"defaultAction\": \"SCMP_ACT_ALLOW\","
      "\"listenerPath\": \"%s\", \"listenerMetadata\": \"hello agent\","
      "\"flags\": [\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],"
      "\"syscalls\": [{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]"),
      sock_path);
  struct hres r = hrun_config(c, &(struct hconfig){
      .args = "\"/bin/sh\", \"-c\", \"/bin/hull-test-helper syscall mkdir /a;"
              " /bin/hull-test-helper syscall mkdir /b;"
              " /bin/hull-test-helper stat /b\"",
      .linux_extra = profile});
  int status;
  ck_assert_int_eq(waitpid(agent, &status, 0), agent);
  ck_assert_hres(r, 0);
  ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                "agent status %#x\nstdout: %s\nstderr: %s", status, r.out, r.err);
  ck_assert_msg(hcontains(r.out, "mkdir=errno 18 "), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "mkdir=0\n"), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "type=dir "), "%s", r.out);

  cleanup_free char *state = hread_file(state_path);
  ck_assert_ptr_nonnull(state);
  ck_assert_msg(hjson_valid(state), "%s", state);
  ck_assert_msg(hcontains(state, "\"fds\":[\"seccompFd\"]"), "%s", state);
  ck_assert_msg(hcontains(state, "\"metadata\":\"hello agent\""), "%s", state);
  ck_assert_msg(hjson_int(state, (const char *[]){"pid", NULL}, 0) > 0, "%s",
                state);
  cleanup_free char *id = hjson_string(state, (const char *[]){"state", "id", NULL});
  ck_assert_str_eq(id, c->id);
  cleanup_free char *ver = hjson_string(state, (const char *[]){"ociVersion", NULL});
  ck_assert_ptr_nonnull(ver);
  hres_free(&r);
  hctx_finish(c);
}
END_TEST

/* ---- bad profiles ------------------------------------------------------------ */

START_TEST(bad_profiles_fail_create_cleanly) {
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
              "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\","
              " \"args\": [{\"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]"),
      "linux.seccomp.syscalls[0].args[0].index: 6 is out of range (0-5)");
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\","
              "\"flags\": [\"SECCOMP_FILTER_FLAG_BOGUS\"]"),
      ".linux.seccomp.flags[0]: unknown seccomp flag");
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
              "{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]"),
      "linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY");
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\","
              "\"listenerPath\": \"/nonexistent/agent.sock\","
              "\"syscalls\": ["
              "{\"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_NOTIFY\"}]"),
      "linux.seccomp.listenerPath: connect `/nonexistent/agent.sock`: No such "
      "file or directory");
  /* The seccomp fd goes to the listener with write(2)/sendmsg(2), and
   * runc refuses both of these with these words. */
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\","
              "\"listenerPath\": \"/nonexistent/agent.sock\","
              "\"syscalls\": [{\"names\": [\"mkdir\", \"write\"],"
              " \"action\": \"SCMP_ACT_NOTIFY\"}]"),
      "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "
      "the write syscall");
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_NOTIFY\","
              "\"listenerPath\": \"/nonexistent/agent.sock\""),
      "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default "
      "action");
  /* The parser's own check names the JSON path. */
  hexpect_create_refused(
      SECCOMP("\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
              "{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_FOO\"}]"),
      ".linux.seccomp.syscalls[0].action");
}
END_TEST

/* ---- the cache's bound and `hull gc` -------------------------------------- */

/* A second profile, so that the cache has two entries. */
static const char small_profile[] = SECCOMP(
    "\"defaultAction\": \"SCMP_ACT_ALLOW\","
    "\"syscalls\": [{\"names\": [\"personality\"],"
    " \"action\": \"SCMP_ACT_ERRNO\"}]");

static int cache_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (d == NULL)
    return 0;
  for (struct dirent *de; (de = readdir(d)) != NULL;)
    n += de->d_name[0] != '.';
  closedir(d);
  return n;
}

/* `hull gc` removes the unused filter and says what it freed; the next
 * container compiles it again and is held to it. */
START_TEST(gc_removes_unused_filters_and_reports_what_it_freed) {
  struct hctx *c = hctx_new();
  struct hconfig cfg = {.args = docker_probe, .linux_extra = docker_profile};
  struct hres r = hrun_config(c, &cfg);
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  cleanup_free char *dir = xasprintf("%s/.cache/seccomp", c->root);
  struct stat st;
  cleanup_free char *path = only_file_in(dir, &st);

  r = hrun(c, "gc", NULL);
  ck_assert_hres(r, 0);
  cleanup_free char *deleted = xasprintf("deleted: %s\n", path);
  ck_assert_msg(hcontains(r.out, deleted), "%s", r.out);
  ck_assert_msg(hcontains(r.out, "Total reclaimed space: ") &&
                    !hcontains(r.out, "Total reclaimed space: 0B"),
                "%s", r.out);
  hres_free(&r);
  ck_assert_int_eq(cache_entries(dir), 0);

  r = hrun(c, "gc", NULL);
  ck_assert_hres(r, 0);
  ck_assert_str_eq(r.out, "Total reclaimed space: 0B\n");
  hres_free(&r);

  r = hrun_config(c, &cfg);
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  cleanup_free char *again = only_file_in(dir, &st);
  ck_assert_str_eq(again, path);

  hexpect_one_line_error(hrun(c, "gc", "extra", NULL),
                         "gc: takes no arguments");
  hctx_finish(c);
}
END_TEST

static off_t size_of_file(const char *dir, const char *name) {
  cleanup_free char *path = xasprintf("%s/%s", dir, name);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  return st.st_size;
}

/* The one entry in dir not named in skip (NULL-terminated). */
static char *entry_not_in(const char *dir, char *const *skip) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  char *found = NULL;
  for (struct dirent *de; (de = readdir(d)) != NULL;) {
    bool skipped = de->d_name[0] == '.';
    for (char *const *k = skip; *k && !skipped; k++)
      skipped = strcmp(*k, de->d_name) == 0;
    if (!skipped) {
      ck_assert_msg(found == NULL, "two new entries in `%s`", dir);
      found = xstrdup(de->d_name);
    }
  }
  closedir(d);
  ck_assert_msg(found != NULL, "no new entry in `%s`", dir);
  return found;
}

/* Past $HULL_SECCOMP_CACHE_MAX, storing a filter evicts the least recently
 * *used* one: docker's was written first but used since, so the small
 * profile's goes. */
START_TEST(the_seccomp_cache_keeps_its_bound) {
  static const char other_profile[] = SECCOMP(
      "\"defaultAction\": \"SCMP_ACT_ALLOW\","
      "\"syscalls\": [{\"names\": [\"sethostname\"],"
      " \"action\": \"SCMP_ACT_ERRNO\"}]");
  struct hctx *c = hctx_new();
  cleanup_free char *dir = xasprintf("%s/.cache/seccomp", c->root);
  struct hconfig docker = {.args = docker_probe, .linux_extra = docker_profile};
  struct hconfig small = {.args = HELPER("syscall", "personality", "8"),
                          .linux_extra = small_profile};
  struct hconfig other = {.linux_extra = other_profile};
  struct hres r = hrun_config(c, &docker);
  assert_docker_profile_enforced(&r);
  hres_free(&r);
  char *none[] = {NULL};
  cleanup_free char *docker_entry = entry_not_in(dir, none);
  r = hrun_config(c, &small);
  ck_assert_hres(r, 0);
  hres_free(&r);
  char *one[] = {docker_entry, NULL};
  cleanup_free char *small_entry = entry_not_in(dir, one);
  r = hrun_config(c, &docker); /* a hit: now the most recently used */
  assert_docker_profile_enforced(&r);
  hres_free(&r);

  /* Room for docker's and two small ones, less one byte. */
  off_t bound = size_of_file(dir, docker_entry) +
                2 * size_of_file(dir, small_entry) - 1;
  cleanup_free char *max = xasprintf("%lld", (long long)bound);
  setenv("HULL_SECCOMP_CACHE_MAX", max, 1);
  r = hrun_config(c, &other);
  unsetenv("HULL_SECCOMP_CACHE_MAX");
  ck_assert_hres(r, 0);
  hres_free(&r);
  ck_assert_int_eq(cache_entries(dir), 2);
  ck_assert(size_of_file(dir, docker_entry) > 0);
  cleanup_free char *gone = xasprintf("%s/%s", dir, small_entry);
  ck_assert_int_ne(access(gone, F_OK), 0);
  hctx_finish(c);
}
END_TEST

/* `hull gc` in a loop never makes a create fail. */
START_TEST(creates_never_fail_while_gc_runs) {
  struct hctx *c = hctx_new();
  const char *hull = getenv("HULL");
  cleanup_free char *loop = xasprintf(
      "while :; do '%s' --root '%s' gc; done", hull, c->root);
  char *argv[] = {"sh", "-c", loop, NULL};
  hctx_spawn_host(c, argv);
  struct hconfig docker = {.args = docker_probe, .linux_extra = docker_profile};
  struct hconfig small = {.args = HELPER("syscall", "personality", "8"),
                          .linux_extra = small_profile};
  for (int i = 0; i < 10; i++) {
    struct hres r = hrun_config(c, i % 2 ? &small : &docker);
    if (i % 2)
      ck_assert_hres(r, 0);
    else
      assert_docker_profile_enforced(&r);
    hres_free(&r);
  }
  hctx_finish(c);
}
END_TEST

static Suite *seccomp_integration_suite(void) {
  Suite *s = suite_create("integration-seccomp");
  TCase *tc = harness_tcase("seccomp", 60);
  tcase_add_test(tc, errno_ret_and_kill);
  tcase_add_test(tc, docker_like_profile_runs_a_shell);
  tcase_add_test(tc, docker_profile_for_a_user_without_no_new_privs);
  tcase_add_test(tc, docker_profile_is_compiled_once_per_root);
  tcase_add_test(tc, user_namespace_init_compiles_without_the_cache);
  tcase_add_test(tc, syscalls_newer_than_the_profile_get_enosys);
  tcase_add_test(tc, syscall_numbers_past_libseccomps_table_get_enosys);
  tcase_add_test(tc, notify_reaches_the_listener);
  tcase_add_test(tc, bad_profiles_fail_create_cleanly);
  tcase_add_test(tc, gc_removes_unused_filters_and_reports_what_it_freed);
  tcase_add_test(tc, the_seccomp_cache_keeps_its_bound);
  tcase_add_test(tc, creates_never_fail_while_gc_runs);
  suite_add_tcase(s, tc);
  return s;
}
HULL_SUITE(seccomp_integration_suite)
