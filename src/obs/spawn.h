/*
 * Running a helper program without a shell (ban actions, alert sinks): posix_spawn with
 * separate argv entries, a minimal environment (PATH only), the child in its own process
 * group, stdout and stderr on /dev/null, and stdin either /dev/null or a pipe fed with
 * `input`. A child that runs longer than the timeout is killed with its group.
 *
 * The caller must not set SIGCHLD to SIG_IGN (that would reap the child before
 * waitpid) and must ignore SIGPIPE (a child that exits without reading its input makes
 * the write fail with EPIPE instead). Blocks for up to the timeout: call it from a
 * helper thread, never a worker. Thread-safe.
 */
#ifndef SW_OBS_SPAWN_H
#define SW_OBS_SPAWN_H

#include <stdbool.h>

#include "base/sv.h"

/*
 * Runs argv[0] (an absolute path, or with `use_path` a bare name looked up on PATH)
 * with `input` on its standard input (absent view: /dev/null). `who` prefixes log lines.
 * Returns 0 when the child exited with status 0; -errno when it could not be started;
 * -ETIMEDOUT when it was killed; -SW_EIO when it exited otherwise or its input could
 * not be written.
 */
int obs_spawn_run(const char *const *argv, bool use_path, struct sv input, unsigned timeout_ms,
                  const char *who);

#endif
