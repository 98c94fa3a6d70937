#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/time.h"
#include "state/ban_redis.h"
#include "support/unit.h"

extern char **environ;

/* The redis-server this test starts on a free loopback port, stopped by its PID. */
static pid_t redis_pid = -1;
static int redis_port;
static char redis_dir[64];

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

static bool redis_start(void)
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
    assert_int_equal(posix_spawn_file_actions_init(&files), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0), 0);
    int rc = posix_spawnp(&redis_pid, "redis-server", &files, NULL, argv, environ);
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

static void redis_stop(void)
{
    if (redis_pid > 0) {
        (void)kill(redis_pid, SIGTERM);
        int status;
        (void)waitpid(redis_pid, &status, 0);
        redis_pid = -1;
    }
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(redis_dir, sizeof(redis_dir), "/tmp/sw-ban-redis-XXXXXX");
    if (mkdtemp(redis_dir) == NULL) {
        return -1;
    }
    redis_port = free_port();
    return redis_port > 0 && redis_start() ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    redis_stop();
    return rmdir(redis_dir);
}

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static struct ban_store *node_open(const char *node, struct ban_redis **out)
{
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&(struct ban_config){ .bantime_s = 600 }, &store), 0);
    struct ban_redis_config cfg = { .port = (uint16_t)redis_port,
                                    .prefix = "swtest:",
                                    .node_id = node,
                                    .history_s = 100,
                                    .timeout_ms = 500 };
    struct ban_redis *r = NULL;
    assert_int_equal(ban_redis_open(&cfg, &r), 0);
    assert_int_equal(ban_store_attach(store, &ban_redis_ops, r), 0);
    if (out != NULL) {
        *out = r;
    }
    return store;
}

/* Polls until `ip`'s ban state in `store` is `want`, at most 5 s. */
static bool wait_banned(const struct ban_store *store, const char *ip, bool want)
{
    struct sw_ip addr = ip_of(ip);
    for (int i = 0; i < 500; i++) {
        if (ban_store_is_banned(store, &addr, sw_wall_s()) == want) {
            return true;
        }
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 10000000L };
        (void)nanosleep(&pause, NULL);
    }
    return false;
}

static void ban(struct ban_store *store, const char *ip, enum ban_source source)
{
    struct ban_request req = { .ip = ip_of(ip), .source = source, .reason = "InvalidPassword=3" };
    assert_int_equal(ban_store_add(store, &req, sw_wall_s(), NULL), BAN_OUTCOME_ADDED);
}

static void test_ban_redis_nodes_share_bans(void **state)
{
    (void)state;
    struct ban_redis *ra = NULL;
    struct ban_store *a = node_open("node-a", &ra);
    struct ban_store *b = node_open("node-b", NULL);
    ban(a, "192.0.2.1", BAN_SOURCE_AUTO);
    ban(a, "2001:db8::5", BAN_SOURCE_MANUAL);
    assert_true(wait_banned(b, "192.0.2.1", true));
    assert_true(wait_banned(b, "2001:db8::5", true));
    struct ban_entry entry;
    struct sw_ip ip = ip_of("192.0.2.1");
    assert_true(ban_store_get(b, &ip, &entry));
    assert_int_equal(entry.offence, 1);
    assert_string_equal(entry.reason, "InvalidPassword=3");
    assert_int_equal(entry.end_s - entry.start_s, 600);

    /* A lift on B reaches A. */
    assert_int_equal(ban_store_del(b, &ip, sw_wall_s()), 0);
    assert_true(wait_banned(a, "192.0.2.1", false));

    /* A node that starts later loads what is shared. */
    struct ban_store *c = node_open("node-c", NULL);
    struct sw_ip v6 = ip_of("2001:db8::5");
    assert_true(ban_store_is_banned(c, &v6, sw_wall_s()));
    assert_false(ban_store_is_banned(c, &ip, sw_wall_s()));

    struct ban_redis_stats stats;
    ban_redis_stats_get(ra, &stats);
    assert_int_equal(stats.written, 2);
    assert_int_equal(stats.dropped, 0);
    ban_store_free(c);
    ban_store_free(b);
    ban_store_free(a);
}

/* Redis restarts: both threads reconnect; a ban made meanwhile still reaches the peer. */
static void test_ban_redis_reconnects(void **state)
{
    (void)state;
    struct ban_redis *ra = NULL;
    struct ban_redis *rb = NULL;
    struct ban_store *a = node_open("node-a", &ra);
    struct ban_store *b = node_open("node-b", &rb);
    ban(a, "198.51.100.1", BAN_SOURCE_AUTO);
    assert_true(wait_banned(b, "198.51.100.1", true));

    redis_stop();
    /* Banned while Redis is down: enforced locally at once, shared once it is back. */
    ban(a, "198.51.100.2", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "198.51.100.2", true));
    assert_true(redis_start());
    assert_true(wait_banned(b, "198.51.100.2", true));
    ban(b, "198.51.100.3", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "198.51.100.3", true));

    struct ban_redis_stats stats;
    ban_redis_stats_get(rb, &stats);
    assert_true(stats.reconnects >= 1);
    ban_store_free(b);
    ban_store_free(a);
}

/* Without Redis a store still starts; the backend keeps retrying in the background. */
static void test_ban_redis_down_at_start(void **state)
{
    (void)state;
    redis_stop();
    struct ban_store *a = node_open("node-a", NULL);
    ban(a, "203.0.113.1", BAN_SOURCE_AUTO);
    assert_true(wait_banned(a, "203.0.113.1", true));
    ban_store_free(a);
    assert_true(redis_start());
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    if (access("/usr/bin/redis-server", X_OK) != 0) {
        print_message("redis-server not installed: skipped\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ban_redis_nodes_share_bans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_redis_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_redis_down_at_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
