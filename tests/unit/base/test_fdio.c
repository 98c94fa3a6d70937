#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/fdio.h"
#include "support/unit.h"

static void test_fdio_write_all(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    static const char text[] = "SecurityEvent=\"InvalidPassword\"\n";
    assert_int_equal(sw_write_all(fds[1], text, sizeof(text) - 1, 4), 0);
    assert_int_equal(sw_write_all(fds[1], text, 0, 0), 0); /* nothing to write: done */
    char back[64] = "";
    assert_int_equal(read(fds[0], back, sizeof(back)), (ssize_t)(sizeof(text) - 1));
    assert_memory_equal(back, text, sizeof(text) - 1);
    /* No write allowed: not all written. */
    assert_int_equal(sw_write_all(fds[1], text, 1, 0), -EIO);
    /* The write's own error, passed on. */
    assert_int_equal(close(fds[1]), 0);
    assert_int_equal(close(fds[0]), 0);
    assert_int_equal(sw_write_all(fds[1], text, 1, 4), -EBADF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fdio_write_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
