#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "obs/filehash.h"
#include "support/unit.h"

/* Writes `len` bytes of `text` to a new temporary file; its path goes into `path`. */
static void write_temp(const char *text, size_t len, char *path, size_t cap)
{
    (void)snprintf(path, cap, "/tmp/sw-filehash-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd != -1);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
}

/* FIPS 180-2 examples, and a file longer than the read chunk. */
static void test_filehash_sha256(void **state)
{
    (void)state;

    static const struct {
        const char *text;
        const char *sha256;
    } cases[] = {
        { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    };

    char path[64];
    char hex[FILEHASH_HEX_CAP];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_temp(cases[i].text, strlen(cases[i].text), path, sizeof(path));
        assert_true(filehash_sha256(path, hex));
        assert_string_equal(hex, cases[i].sha256);
        assert_int_equal(unlink(path), 0);
    }
    static char million[1000000];
    memset(million, 'a', sizeof(million));
    write_temp(million, sizeof(million), path, sizeof(path));
    assert_true(filehash_sha256(path, hex));
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(unlink(path), 0);
    /* Unreadable: false, and nothing that looks like a hash. */
    assert_false(filehash_sha256(path, hex));
    assert_string_equal(hex, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filehash_sha256),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
