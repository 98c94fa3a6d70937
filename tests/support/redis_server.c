#include "support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];

bool redis_server_is_installed(void)
{
    return access("/usr/bin/redis-server", X_OK) == 0;
}

int redis_server_port(void)
{
    return redis_port;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sin);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &len) == 0) {
        port = ntohs(sin.sin_port);
    }
    (void)close(fd);
    return port;
}

static bool redis_answers(void)
{
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);
    bool is_up = false;
    if (c != NULL && c->err == 0) {
        redisReply *reply = redisCommand(c, "PING");
        is_up = reply != NULL && reply->type == REDIS_REPLY_STATUS;
        if (reply != NULL) {
            freeReplyObject(reply);
        }
    }
    if (c != NULL) {
        redisFree(c);
    }
    return is_up;
}

bool redis_server_start(void)
{
    char port[16];
    (void)snprintf(port, sizeof(port), "%d", redis_port);
    static const char *const fixed[] = { "redis-server", "--port", "", "--bind",
                                         "127.0.0.1",    "--save", "", "--appendonly",
                                         "no",           "--dir" };
    char words[11][64];
    char *argv[12];
    for (size_t i = 0; i < 10; i++) {
        (void)snprintf(words[i], sizeof(words[i]), "%s", fixed[i]);
        argv[i] = words[i];
    }
    (void)snprintf(words[2], sizeof(words[2]), "%s", port);
    (void)snprintf(words[10], sizeof(words[10]), "%s", redis_dir);
    argv[10] = words[10];
    argv[11] = NULL;
    posix_spawn_file_actions_t files;
    if (posix_spawn_file_actions_init(&files) != 0) {
        return false;
    }
    int rc = posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    if (rc == 0) {
        rc = posix_spawnp(&redis_pid, "redis-server", &files, NULL, argv, environ);
    }
    (void)posix_spawn_file_actions_destroy(&files);
    if (rc != 0) {
        redis_pid = -1;
        return false;
    }
    for (int i = 0; i < 100; i++) {
        if (redis_answers()) {
            return true;
        }
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 50000000L };
        (void)nanosleep(&pause, NULL);
    }
    return false;
}

void redis_server_stop(void)
{
    if (redis_pid > 0) {
        (void)kill(redis_pid, SIGTERM);
        int status;
        (void)waitpid(redis_pid, &status, 0);
        redis_pid = -1;
    }
}

int redis_server_setup(void **state)
{
    (void)state;
    (void)snprintf(redis_dir, sizeof(redis_dir), "/tmp/sw-redis-XXXXXX");
    if (mkdtemp(redis_dir) == NULL) {
        return -1;
    }
    redis_port = free_port();
    return redis_port > 0 && redis_server_start() ? 0 : -1;
}

int redis_server_teardown(void **state)
{
    (void)state;
    redis_server_stop();
    return rmdir(redis_dir);
}
