#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/isolation.h"
#include "support/unit.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-isolation-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(path, sizeof(path), "%s/state.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    isolation_close();
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < 3; i++) {
        char file[160];
        (void)snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
        (void)unlink(file);
    }
    return rmdir(dir);
}

static void test_isolation_in_memory(void **state)
{
    (void)state;
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alice")));
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV("alice"), "operator", "stolen", 100),
                     ISOLATION_ADDED);
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV("alice"), "fraud", "again", 200),
                     ISOLATION_EXISTS);
    /* Kinds are apart: a trunk of the same name is not held. */
    assert_false(isolation_is_held(ISOLATION_TRUNK, SV("alice")));
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alic")));
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alicex")));
    struct isolation_entry e;
    assert_true(isolation_get(ISOLATION_ACCOUNT, SV("alice"), &e));
    assert_string_equal(e.by, "operator");
    assert_string_equal(e.reason, "stolen");
    assert_int_equal(e.since_s, 100);
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("provider"), "operator", "", 101),
                     ISOLATION_ADDED);
    assert_int_equal(isolation_list(NULL, 0), 2);
    assert_true(isolation_clear(ISOLATION_ACCOUNT, SV("alice")));
    assert_false(isolation_clear(ISOLATION_ACCOUNT, SV("alice")));
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alice")));
    assert_true(isolation_is_held(ISOLATION_TRUNK, SV("provider")));
    isolation_close();
    assert_int_equal(isolation_list(NULL, 0), 0);
}

static void test_isolation_bounds(void **state)
{
    (void)state;
    char longname[ISOLATION_NAME_CAP + 1];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, sv_from_cstr(longname), "x", "", 1),
                     ISOLATION_FULL);
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV(""), "x", "", 1), ISOLATION_FULL);
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV_NULL, "x", "", 1), ISOLATION_FULL);
    for (unsigned i = 0; i < ISOLATION_MAX; i++) {
        char name[16];
        (void)snprintf(name, sizeof(name), "a%u", i);
        assert_int_equal(isolation_set(ISOLATION_ACCOUNT, sv_from_cstr(name), "x", "", 1),
                         ISOLATION_ADDED);
    }
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("t"), "x", "", 1), ISOLATION_FULL);
    assert_true(isolation_is_held(ISOLATION_ACCOUNT, SV("a1023")));
    /* An existing entry is still found when full. */
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV("a7"), "x", "", 1), ISOLATION_EXISTS);
    isolation_close();
}

/* The state survives a restart until it is restored. */
static void test_isolation_persists(void **state)
{
    (void)state;
    assert_int_equal(isolation_open(path), 0);
    assert_int_equal(isolation_set(ISOLATION_ACCOUNT, SV("alice"), "fraud policy", "sweep", 5),
                     ISOLATION_ADDED);
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("provider"), "operator", "", 6),
                     ISOLATION_ADDED);
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("other"), "operator", "", 7),
                     ISOLATION_ADDED);
    assert_true(isolation_clear(ISOLATION_TRUNK, SV("other")));
    isolation_close();
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alice")));

    assert_int_equal(isolation_open(path), 0);
    struct isolation_entry e;
    assert_true(isolation_get(ISOLATION_ACCOUNT, SV("alice"), &e));
    assert_string_equal(e.by, "fraud policy");
    assert_string_equal(e.reason, "sweep");
    assert_int_equal(e.since_s, 5);
    assert_true(isolation_is_held(ISOLATION_TRUNK, SV("provider")));
    assert_false(isolation_is_held(ISOLATION_TRUNK, SV("other")));
    assert_true(isolation_clear(ISOLATION_ACCOUNT, SV("alice")));
    isolation_close();

    assert_int_equal(isolation_open(path), 0);
    assert_false(isolation_is_held(ISOLATION_ACCOUNT, SV("alice")));
    assert_int_equal(isolation_list(NULL, 0), 1);
    isolation_close();
}

static void test_isolation_bad_path(void **state)
{
    (void)state;
    assert_int_not_equal(isolation_open("/nonexistent-dir/x/state.db"), 0);
    /* Still usable in memory. */
    assert_int_equal(isolation_set(ISOLATION_TRUNK, SV("t"), "x", "", 1), ISOLATION_ADDED);
    isolation_close();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isolation_in_memory),
        cmocka_unit_test(test_isolation_bounds),
        cmocka_unit_test_setup_teardown(test_isolation_persists, setup, teardown),
        cmocka_unit_test(test_isolation_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
