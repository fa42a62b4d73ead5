/*
 * measure — run one command and report what it cost.
 *
 *   measure [-i FILE] [-o FILE] [-t SECONDS] [-f] COMMAND [ARG...]
 *
 * Spawns COMMAND with stdin from /dev/null (-i: from FILE) and stdout+stderr
 * appended to FILE (default /dev/null), waits for it with wait4(2) and
 * prints one line:
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
 * With -f the command's stdout is a pipe that measure reads to its end
 * (copying it to FILE), and the line gets three more fields: the time from
 * the spawn to the first byte of output and to the last, in microseconds
 * (-1: none), and how many bytes came (a rate is bytes over last - first).
 * Use it for a foreground `run` only: the pipe must close when it ends.
 *
 * Part of `make bench` (bench/bench.sh builds it with cc); no GNU time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
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

/* Copies the pipe to out until it closes; returns when the first byte came
 * (monotonic_us), or -1 when none did; *last: when the last one did, *bytes:
 * how many. */
static int64_t drain_output(int pipe_fd, int out_fd, int64_t *last,
			    long long *bytes)
{
	int64_t first = -1;
	static char buf[65536];
	ssize_t n;

	*last = -1;
	*bytes = 0;
	while ((n = read(pipe_fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR && !timed_out)
				continue;
			break;
		}
		*last = monotonic_us();
		if (first < 0)
			first = *last;
		*bytes += n;
		if (write(out_fd, buf, (size_t)n) < 0)
			break;
	}
	return first;
}

static void usage(void)
{
	fputs("usage: measure [-i FILE] [-o FILE] [-t SECONDS] [-f] COMMAND [ARG...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *input = "/dev/null", *output = "/dev/null";
	unsigned timeout_s = 0;
	posix_spawn_file_actions_t actions;
	struct rusage usage_of_child;
	int64_t started, ended;
	int opt, status, rc, pipe_fds[2] = {-1, -1}, out_fd = -1;
	int64_t first_byte = -1, last_byte = -1;
	long long bytes = 0;
	bool first_byte_wanted = false;
	pid_t pid;

	/* '+': stop at the first non-option, the command's flags are its own. */
	while ((opt = getopt(argc, argv, "+i:o:t:f")) != -1) {
		if (opt == 'i')
			input = optarg;
		else if (opt == 'f')
			first_byte_wanted = true;
		else if (opt == 'o')
			output = optarg;
		else if (opt == 't')
			timeout_s = (unsigned)strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (optind >= argc)
		usage();

	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0);
	if (first_byte_wanted) {
		out_fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (out_fd < 0 || pipe2(pipe_fds, O_CLOEXEC) < 0) {
			fprintf(stderr, "measure: `%s`: %s\n", output, strerror(errno));
			return 2;
		}
		posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
	} else {
		posix_spawn_file_actions_addopen(&actions, 1, output,
						 O_WRONLY | O_CREAT | O_APPEND, 0644);
	}
	posix_spawn_file_actions_adddup2(&actions, 1, 2);

	started = monotonic_us();
	rc = posix_spawnp(&pid, argv[optind], &actions, NULL, &argv[optind], environ);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0) {
		fprintf(stderr, "measure: spawn `%s`: %s\n", argv[optind], strerror(rc));
		return 2;
	}
	arm_timeout(timeout_s);
	if (first_byte_wanted) {
		close(pipe_fds[1]);
		first_byte = drain_output(pipe_fds[0], out_fd, &last_byte, &bytes);
		if (timed_out == 1) {
			kill(pid, SIGKILL);
			timed_out = 2;
		}
	}

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

	printf("%lld %ld %d", (long long)(ended - started), usage_of_child.ru_maxrss,
	       timed_out ? STATUS_TIMED_OUT : status_code(status));
	if (first_byte_wanted)
		printf(" %lld %lld %lld",
		       first_byte < 0 ? -1LL : (long long)(first_byte - started),
		       last_byte < 0 ? -1LL : (long long)(last_byte - started), bytes);
	putchar('\n');
	return 0;
}
