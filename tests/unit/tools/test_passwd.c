#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "support/unit.h"
#include "tools/passwd.h"

static void test_passwd_pick_has_no_modulo_bias(void **state)
{
    (void)state;
    unsigned hits[PASSWD_ALPHABET_SIZE] = { 0 };
    unsigned accepted = 0;
    for (unsigned byte = 0; byte < 256; byte++) {
        unsigned index = 999;
        if (passwd_pick((uint8_t)byte, &index)) {
            assert_true(index < PASSWD_ALPHABET_SIZE);
            hits[index]++;
            accepted++;
        } else {
            assert_true(byte >= 210);
        }
    }
    assert_int_equal(accepted, 210);
    for (unsigned i = 0; i < PASSWD_ALPHABET_SIZE; i++) {
        assert_int_equal(hits[i], 3); /* every character from exactly three byte values */
    }
    assert_int_equal(strlen(passwd_alphabet), PASSWD_ALPHABET_SIZE);
}

static unsigned classes_of(const char *s)
{
    unsigned classes = 0;
    for (; *s != '\0'; s++) {
        if (*s >= 'a' && *s <= 'z') {
            classes |= 1;
        } else if (*s >= 'A' && *s <= 'Z') {
            classes |= 2;
        } else if (*s >= '0' && *s <= '9') {
            classes |= 4;
        } else {
            assert_non_null(strchr("!@#$%^&*", *s));
            classes |= 8;
        }
    }
    return classes;
}

static void test_passwd_generate_every_class(void **state)
{
    (void)state;
    char out[PASSWD_MAX_LENGTH + 1];
    const size_t lengths[] = { 16, 17, 24, 64, 256 };
    for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
        for (int i = 0; i < 200; i++) {
            assert_int_equal(passwd_generate(lengths[l], out, sizeof(out)), 0);
            assert_int_equal(strlen(out), lengths[l]);
            assert_int_equal(classes_of(out), 0x0f);
        }
    }
    assert_int_equal(passwd_generate(15, out, sizeof(out)), -SW_EBADARG);
    assert_int_equal(passwd_generate(257, out, sizeof(out)), -SW_EBADARG);
    assert_int_equal(passwd_generate(24, out, 24), -SW_EBADARG);
}

/*
 * 4000 secrets of 24 characters. Redrawing secrets that lack a class changes how often
 * each class occurs, but inside one class every character must stay equally likely; so
 * the test is a chi-square per class (25 + 25 + 9 + 7 = 66 degrees of freedom, where
 * 130 has a p-value near 1e-5). A modulo-biased mapping (256 % 70 = 46 characters drawn
 * from 4 byte values instead of 3) makes 'U'-'Z' a quarter rarer than 'A'-'T' and the
 * statistic run into the hundreds.
 */
static void test_passwd_generate_is_uniform(void **state)
{
    (void)state;
    unsigned counts[PASSWD_ALPHABET_SIZE] = { 0 };
    char out[32];
    for (int i = 0; i < 4000; i++) {
        assert_int_equal(passwd_generate(24, out, sizeof(out)), 0);
        for (const char *p = out; *p != '\0'; p++) {
            counts[strchr(passwd_alphabet, *p) - passwd_alphabet]++;
        }
    }
    const unsigned class_end[] = { 26, 52, 62, 70 };
    double chi2 = 0.0;
    unsigned start = 0;
    for (size_t c = 0; c < 4; c++) {
        double total = 0.0;
        for (unsigned i = start; i < class_end[c]; i++) {
            total += counts[i];
        }
        double expected = total / (class_end[c] - start);
        for (unsigned i = start; i < class_end[c]; i++) {
            double d = counts[i] - expected;
            chi2 += d * d / expected;
        }
        start = class_end[c];
    }
    assert_true(chi2 < 130.0);
}

/* Runs the subcommand with a writable copy of `args` (NULL-terminated). */
static int run(const char *const *args)
{
    char storage[10][32];
    char *argv[11];
    int argc = 0;
    for (; args[argc] != NULL && argc < 10; argc++) {
        (void)snprintf(storage[argc], sizeof(storage[argc]), "%s", args[argc]);
        argv[argc] = storage[argc];
    }
    argv[argc] = NULL;
    return tools_passwd_main(argc, argv);
}

static void test_passwd_usage_errors(void **state)
{
    (void)state;
    const char *const gen_bad[] = { "passwd", "gen", "--length", "8", NULL };
    assert_int_equal(run(gen_bad), 2);
    const char *const gen_extra[] = { "passwd", "gen", "extra", NULL };
    assert_int_equal(run(gen_extra), 2);
    const char *const check_arg[] = { "passwd", "check", "hunter2", NULL };
    assert_int_equal(run(check_arg), 2);
    const char *const ha1_missing[] = { "passwd", "ha1", "--user", "bob", NULL };
    assert_int_equal(run(ha1_missing), 2);
    const char *const ha1_sess[] = {
        "passwd", "ha1", "--user", "b", "--realm", "r", "--algorithm", "MD5-sess", NULL,
    };
    assert_int_equal(run(ha1_sess), 2);
    const char *const unknown[] = { "passwd", "frobnicate", NULL };
    assert_int_equal(run(unknown), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwd_pick_has_no_modulo_bias),
        cmocka_unit_test(test_passwd_generate_every_class),
        cmocka_unit_test(test_passwd_generate_is_uniform),
        cmocka_unit_test(test_passwd_usage_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
