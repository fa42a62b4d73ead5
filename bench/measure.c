/*
 * measure — run one command and report what it cost.
 *
 *   measure [-o FILE] [-t SECONDS] COMMAND [ARG...]
 *
 * Spawns COMMAND with stdin from /dev/null and stdout+stderr appended to
 * FILE (default /dev/null), waits for it with wait4(2) and prints one line:
 *
 *   <wall_us> <maxrss_kib> <status>
 *
 * wall_us is the monotonic time from just before the spawn to the reap,
 * maxrss_kib is ru_maxrss (the largest RSS of COMMAND and of the children
 * it reaped itself), status is the exit code, or 128+N when killed by
 * signal N, or 124 when it ran longer than SECONDS (then it is killed with
 * SIGKILL: a half-finished runtime must not hang the benchmark).  measure
 * exits 0 whenever it printed a line, so a failing COMMAND is data, not
 * an error; it exits 2 when it could not measure.
 *
 * The command's output never reaches our stdout: a runtime's `create`
 * leaves the container holding its stdio, and the caller reads our stdout
 * through a pipe that would then stay open until the container exits.
 *
 * Part of `make bench` (bench/bench.sh builds it with cc); no GNU time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { STATUS_TIMED_OUT = 124 };

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* No SA_RESTART: the alarm must interrupt wait4(). */
static void arm_timeout(unsigned seconds)
{
	struct sigaction sa;

	if (seconds == 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static int64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static void usage(void)
{
	fputs("usage: measure [-o FILE] [-t SECONDS] COMMAND [ARG...]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *output = "/dev/null";
	unsigned timeout_s = 0;
	posix_spawn_file_actions_t actions;
	struct rusage usage_of_child;
	int64_t started, ended;
	int opt, status, rc;
	pid_t pid;

	/* '+': stop at the first non-option, the command's flags are its own. */
	while ((opt = getopt(argc, argv, "+o:t:")) != -1) {
		if (opt == 'o')
			output = optarg;
		else if (opt == 't')
			timeout_s = (unsigned)strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (optind >= argc)
		usage();

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, output,
					 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_adddup2(&actions, 1, 2);

	started = monotonic_us();
	rc = posix_spawnp(&pid, argv[optind], &actions, NULL, &argv[optind], environ);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		fprintf(stderr, "measure: spawn `%s`: %s\n", argv[optind], strerror(rc));
		return 2;
	}
	arm_timeout(timeout_s);

	while (wait4(pid, &status, 0, &usage_of_child) < 0) {
		if (errno == EINTR && timed_out == 1) {
			kill(pid, SIGKILL);
			timed_out = 2;
		} else if (errno != EINTR) {
			fprintf(stderr, "measure: wait4 %d: %s\n", (int)pid, strerror(errno));
			return 2;
		}
	}
	ended = monotonic_us();
	alarm(0);

	printf("%lld %ld %d\n", (long long)(ended - started), usage_of_child.ru_maxrss,
	       timed_out ? STATUS_TIMED_OUT : status_code(status));
	return 0;
}
