/*
 * A mapped file of the daemon's own: created 0600, grown with zeros, cut when asked for
 * an exact size, its bytes kept across a reopen and a growth; never through a link.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mapfile.h"
#include "support/unit.h"

static char path[128];
static char link_path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(path, sizeof(path), "/tmp/sw-mapfile-%d", (int)getpid());
    (void)snprintf(link_path, sizeof(link_path), "/tmp/sw-mapfile-%d.link", (int)getpid());
    (void)unlink(path);
    (void)unlink(link_path);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(path);
    (void)unlink(link_path);
    return 0;
}

static void test_bytes_survive_a_reopen_and_a_growth(void **state)
{
    (void)state;
    struct sw_mapfile f;
    assert_int_equal(sw_mapfile_open(path, 8192, 0, &f), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(f.bytes, 8192);
    assert_int_equal(f.map[8191], 0);
    memcpy(f.map + 100, "kept", 4);
    sw_mapfile_close(&f);
    sw_mapfile_close(&f); /* twice: a no-op */

    assert_int_equal(sw_mapfile_open(path, 4096, 0, &f), 0);
    assert_int_equal(f.bytes, 8192); /* at least: the longer file stays whole */
    assert_memory_equal(f.map + 100, "kept", 4);
    assert_int_equal(sw_mapfile_grow(&f, 65536), 0);
    assert_int_equal(f.bytes, 65536);
    assert_memory_equal(f.map + 100, "kept", 4);
    assert_int_equal(f.map[65535], 0);
    sw_mapfile_close(&f);

    assert_int_equal(sw_mapfile_open(path, 4096, 1, &f), 0);
    assert_int_equal(f.bytes, 4096);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4096);
    sw_mapfile_close(&f);
}

static void test_a_link_is_refused(void **state)
{
    (void)state;
    assert_int_equal(symlink(path, link_path), 0);
    struct sw_mapfile f;
    assert_int_equal(sw_mapfile_open(link_path, 4096, 0, &f), -ELOOP);
    assert_int_equal(f.fd, -1);
    assert_null(f.map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bytes_survive_a_reopen_and_a_growth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_link_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
