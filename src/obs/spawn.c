#include "obs/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"

#define SPAWN_POLL_MS 5

/* A writable array: posix_spawn's envp is char *const[] though it never writes. */
static char child_path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
static char *const child_env[] = { child_path, NULL };

/* Waits for `pid` at most `timeout_ms`, then kills its group. */
static int wait_child(pid_t pid, unsigned timeout_ms, const char *who)
{
    int status = 0;
    for (unsigned waited = 0; waited < timeout_ms; waited += SPAWN_POLL_MS) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -SW_EIO;
        }
        if (r == -1 && errno != EINTR) {
            return -errno;
        }
        struct timespec pause = { .tv_sec = 0, .tv_nsec = SPAWN_POLL_MS * 1000000L };
        (void)nanosleep(&pause, NULL);
    }
    log_warn(NULL, "%s: %ld ran longer than %u ms: killed", who, (long)pid, timeout_ms);
    /* The child leads its own process group (POSIX_SPAWN_SETPGROUP): kill the group. */
    (void)kill(-pid, SIGKILL);
    while (waitpid(pid, &status, 0) == -1 && errno == EINTR) {
    }
    return -ETIMEDOUT;
}

/* Writes all of `input` to `fd`, then closes it. */
static int feed_input(int fd, struct sv input)
{
    size_t done = 0;
    int rc = 0;
    while (done < input.len) {
        ssize_t n = write(fd, input.ptr + done, input.len - done);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            rc = -SW_EIO; /* the child closed its input (EPIPE) or exited */
            break;
        }
        done += (size_t)n;
    }
    (void)close(fd); /* the child sees end of input */
    return rc;
}

static int prepare(posix_spawn_file_actions_t *files, posix_spawnattr_t *attr, int stdin_fd)
{
    int rc = stdin_fd >= 0 ? posix_spawn_file_actions_adddup2(files, stdin_fd, 0)
                           : posix_spawn_file_actions_addopen(files, 0, "/dev/null", O_RDONLY, 0);
    rc |= posix_spawn_file_actions_addopen(files, 1, "/dev/null", O_WRONLY, 0);
    rc |= posix_spawn_file_actions_addopen(files, 2, "/dev/null", O_WRONLY, 0);
    /* Its own process group, so that a timeout kills what the child started too. */
    rc |= posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP);
    rc |= posix_spawnattr_setpgroup(attr, 0);
    return rc == 0 ? 0 : -SW_EIO;
}

static int start(const char *const *argv, bool use_path, int stdin_fd, pid_t *pid)
{
    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&files) != 0) {
        return -ENOMEM;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        (void)posix_spawn_file_actions_destroy(&files);
        return -ENOMEM;
    }
    int rc = prepare(&files, &attr, stdin_fd);

    /* posix_spawn takes char *const argv[] for historical reasons and does not write. */
    union {
        const char *const *in;
        char *const *out;
    } args = { .in = argv };

    if (rc == 0) {
        rc = use_path ? posix_spawnp(pid, argv[0], &files, &attr, args.out, child_env)
                      : posix_spawn(pid, argv[0], &files, &attr, args.out, child_env);
        rc = -rc;
    }
    (void)posix_spawnattr_destroy(&attr);
    (void)posix_spawn_file_actions_destroy(&files);
    return rc;
}

int obs_spawn_run(const char *const *argv, bool use_path, struct sv input, unsigned timeout_ms,
                  const char *who)
{
    int pipe_fds[2] = { -1, -1 };
    if (input.ptr != NULL) {
        if (pipe(pipe_fds) == -1) {
            return -errno;
        }
        /* Other children must not inherit the pipe, or the end of input never comes. */
        (void)fcntl(pipe_fds[0], F_SETFD, FD_CLOEXEC);
        (void)fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC);
    }
    pid_t pid = -1;
    int rc = start(argv, use_path, pipe_fds[0], &pid);
    if (pipe_fds[0] >= 0) {
        (void)close(pipe_fds[0]); /* the child has its own copy */
    }
    if (rc != 0) {
        if (pipe_fds[1] >= 0) {
            (void)close(pipe_fds[1]);
        }
        log_warn(NULL, "%s: cannot run %s: %s", who, argv[0], sw_strerror(rc));
        return rc;
    }
    int fed = pipe_fds[1] >= 0 ? feed_input(pipe_fds[1], input) : 0;
    rc = wait_child(pid, timeout_ms, who);
    return rc == 0 ? fed : rc;
}
