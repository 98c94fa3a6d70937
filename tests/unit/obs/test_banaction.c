#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/time.h"
#include "obs/banaction.h"
#include "support/testdata.h"
#include "support/unit.h"

static char dir[64];
static char nft_log[128];
static char cmd_log[128];
static char cmd_path[128];
static char slow_path[128];

/* A fake `nft` on PATH and a fake command that record their arguments, one line a run. */
static void write_script(const char *path, const char *body)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(body, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0700), 0);
}

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-banaction-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(nft_log, sizeof(nft_log), "%s/nft.log", dir);
    (void)snprintf(cmd_log, sizeof(cmd_log), "%s/cmd.log", dir);
    (void)snprintf(cmd_path, sizeof(cmd_path), "%s/onban", dir);
    (void)snprintf(slow_path, sizeof(slow_path), "%s/slow", dir);
    char nft_path[128];
    char body[512];
    (void)snprintf(nft_path, sizeof(nft_path), "%s/nft", dir);
    (void)snprintf(body, sizeof(body), "#!/bin/sh\necho \"$*\" >> %s\n", nft_log);
    write_script(nft_path, body);
    (void)snprintf(body, sizeof(body), "#!/bin/sh\necho \"$*\" >> %s\n", cmd_log);
    write_script(cmd_path, body);
    write_script(slow_path, "#!/bin/sh\nsleep 10\n");
    /* The fake nft comes first on PATH; the host's nft is never run. */
    char path_env[4096];
    /* Set between tests, when no action thread runs. */
    const char *old = getenv("PATH"); /* NOLINT(concurrency-mt-unsafe) */
    (void)snprintf(path_env, sizeof(path_env), "%s:%s", dir, old != NULL ? old : "/usr/bin");
    return setenv("PATH", path_env, 1); /* NOLINT(concurrency-mt-unsafe) */
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = { "nft.log", "cmd.log", "onban", "slow", "nft" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char file[160];
        (void)snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
        (void)unlink(file);
    }
    return rmdir(dir);
}

static char *read_text(const char *path)
{
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    return text;
}

static struct sw_ip ip_of(const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ip;
}

static void test_banaction_runs_nft_and_command(void **state)
{
    (void)state;
    struct banaction_config cfg = { .nft_path = "nft",
                                    .nft_family = "inet",
                                    .nft_table = "sipwarden",
                                    .nft_set_v4 = "banned4",
                                    .nft_set_v6 = "banned6",
                                    .command = cmd_path };
    struct banaction *action = NULL;
    assert_int_equal(banaction_new(&cfg, &action), 0);
    struct ban_store *store = NULL;
    assert_int_equal(ban_store_new(&(struct ban_config){ .bantime_s = 600 }, &store), 0);
    assert_int_equal(ban_store_attach(store, &banaction_ops, action), 0);

    int64_t now = sw_wall_s();
    struct ban_request v4 = { .ip = ip_of("192.0.2.1"), .source = BAN_SOURCE_AUTO };
    struct ban_request v6 = { .ip = ip_of("2001:db8::9"),
                              .source = BAN_SOURCE_MANUAL,
                              .duration_s = BAN_DURATION_FOREVER };
    assert_int_equal(ban_store_add(store, &v4, now, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_add(store, &v6, now, NULL), BAN_OUTCOME_ADDED);
    assert_int_equal(ban_store_del(store, &v6.ip, now), 0);
    assert_true(banaction_wait_idle(action, 10000));
    struct banaction_stats stats;
    banaction_stats_get(action, &stats);
    assert_int_equal(stats.spawned, 6);
    assert_int_equal(stats.failed, 0);
    ban_store_free(store); /* closes the action */

    char *nft = read_text(nft_log);
    char *cmd = read_text(cmd_log);
    char expected[512];
    char seconds[16];
    /* The element's timeout is what is left of the ban when the action runs. */
    const char *timeout = strstr(nft, " timeout ");
    assert_non_null(timeout);
    (void)sscanf(timeout, " timeout %15[0-9]s", seconds);
    long left = strtol(seconds, NULL, 10);
    assert_true(left >= 595 && left <= 600);
    (void)snprintf(expected, sizeof(expected),
                   "add element inet sipwarden banned4 { 192.0.2.1 timeout %lds }\n"
                   "add element inet sipwarden banned6 { 2001:db8::9 }\n"
                   "delete element inet sipwarden banned6 { 2001:db8::9 }\n",
                   left);
    assert_string_equal(nft, expected);
    (void)snprintf(expected, sizeof(expected),
                   "ban 192.0.2.1 %ld\nban 2001:db8::9 0\nunban 2001:db8::9 0\n", left);
    assert_string_equal(cmd, expected);
    free(nft);
    free(cmd);
}

static void test_banaction_argv_and_validation(void **state)
{
    (void)state;
    struct banaction_config cfg = {
        .nft_path = "/usr/sbin/nft", .nft_family = "ip", .nft_table = "t1", .nft_set_v4 = "s4"
    };
    struct banaction *action = NULL;
    assert_int_equal(banaction_new(&cfg, &action), 0);
    struct banaction_argv nft;
    struct ban_entry entry = { .ip = ip_of("198.51.100.3"), .start_s = 100, .end_s = 160 };
    assert_int_equal(banaction_nft_argv(action, BAN_CHANGE_ADD, &entry, 100, &nft), 7);
    assert_string_equal(nft.argv[0], "/usr/sbin/nft");
    assert_string_equal(nft.argv[6], "{ 198.51.100.3 timeout 60s }");
    assert_null(nft.argv[7]);
    /* Over already, or no set for the family: nothing to run. */
    assert_int_equal(banaction_nft_argv(action, BAN_CHANGE_ADD, &entry, 160, &nft), 0);
    entry.ip = ip_of("2001:db8::1");
    assert_int_equal(banaction_nft_argv(action, BAN_CHANGE_ADD, &entry, 100, &nft), 0);
    banaction_free(action);

    static const struct banaction_config bad[] = {
        { .nft_path = "nft", .nft_family = "inet", .nft_table = "x;y", .nft_set_v4 = "s" },
        { .nft_path = "nft", .nft_family = "inet", .nft_table = "t", .nft_set_v4 = "a b" },
        { .nft_path = "nft", .nft_family = "evil", .nft_table = "t", .nft_set_v4 = "s" },
        { .nft_path = "nft", .nft_family = "inet", .nft_table = "t" },
        { .nft_path = "bin/nft", .nft_family = "inet", .nft_table = "t", .nft_set_v4 = "s" },
        { .command = "onban" },
        { .command = "/nonexistent/onban" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_not_equal(banaction_new(&bad[i], &action), 0);
    }
}

/* A command that hangs is killed after the timeout and counted as failed. */
static void test_banaction_kills_slow_command(void **state)
{
    (void)state;
    struct banaction_config cfg = { .command = slow_path, .timeout_ms = 200 };
    struct banaction *action = NULL;
    assert_int_equal(banaction_new(&cfg, &action), 0);
    struct ban_entry entry = { .ip = ip_of("192.0.2.5"), .end_s = BAN_FOREVER };
    uint64_t start = sw_mono_ms();
    banaction_ops.publish(action, BAN_CHANGE_ADD, &entry);
    assert_true(banaction_wait_idle(action, 5000));
    assert_true(sw_mono_ms() - start < 3000);
    struct banaction_stats stats;
    banaction_stats_get(action, &stats);
    assert_int_equal(stats.spawned, 1);
    assert_int_equal(stats.failed, 1);
    banaction_free(action);
}

int main(void)
{
    assert_int_equal(sw_hash_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_banaction_runs_nft_and_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_banaction_argv_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_banaction_kills_slow_command, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
