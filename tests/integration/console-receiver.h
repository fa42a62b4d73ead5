/* console-receiver.h — the engine's end of --console-socket, for the tests
 * of process.terminal (test-console.c) and `exec -t` (test-exec.c). */
#ifndef HULL_TEST_CONSOLE_RECEIVER_H
#define HULL_TEST_CONSOLE_RECEIVER_H

#include "tests/integration/harness.h"

/* A unix socket listening at path (fails the test on error). */
int hconsole_listen(const char *path);
/* Accepts one connection and returns the fd it carries, or -1. */
int hconsole_receive_fd(int listener);
/* Reads from the pty master until `needle` shows up, the other side is
 * closed (EIO) or timeout_ms pass; returns what was read (free it). */
char *hconsole_read_until(int master, const char *needle, int timeout_ms);

#endif
