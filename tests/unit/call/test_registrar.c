/*
 * The registrar keyed by account name: bindings are found by name, expire, are replaced,
 * removed, dropped for accounts a reload removed, and a full table refuses a new account
 * (the phone's registration then gets 503) while existing ones still update.
 */
#include <stdio.h>
#include <string.h>

#include "call/registrar.h"
#include "support/unit.h"

static struct registrar_binding binding(const char *uri, int64_t expires_at)
{
    struct registrar_binding b;
    memset(&b, 0, sizeof(b));
    (void)snprintf(b.contact_uri, sizeof(b.contact_uri), "%s", uri);
    b.expires_at = expires_at;
    return b;
}

static bool keep_odd(void *ctx, struct sv account)
{
    (void)ctx;
    return account.len > 0 && ((unsigned char)account.ptr[account.len - 1] & 1u) != 0;
}

static void test_registrar_by_name_expiry_and_removal(void **state)
{
    (void)state;
    assert_int_equal(registrar_init(4), 0);
    struct registrar_binding a = binding("sip:1001@192.0.2.1", 100);
    assert_true(registrar_store(SV("1001"), &a));
    struct registrar_binding out;
    assert_true(registrar_lookup(SV("1001"), 99, &out));
    assert_string_equal(out.contact_uri, "sip:1001@192.0.2.1");
    assert_false(registrar_lookup(SV("1001"), 100, &out)); /* expired */
    assert_false(registrar_lookup(SV("1002"), 0, &out));
    struct registrar_binding moved = binding("sip:1001@192.0.2.9", 200);
    assert_true(registrar_store(SV("1001"), &moved)); /* a new registration replaces */
    assert_true(registrar_lookup(SV("1001"), 150, &out));
    assert_string_equal(out.contact_uri, "sip:1001@192.0.2.9");
    assert_int_equal(registrar_count(150), 1);
    registrar_remove(SV("1001"));
    assert_false(registrar_lookup(SV("1001"), 150, &out));
    assert_false(registrar_store(SV(""), &a));
    registrar_fini();
}

static void test_registrar_full_table_and_retain(void **state)
{
    (void)state;
    assert_int_equal(registrar_init(4), 0); /* room for 8 (twice the slots, half full) */
    char name[16];
    struct registrar_binding b = binding("sip:x@192.0.2.1", 1000);
    for (int i = 0; i < 8; i++) {
        (void)snprintf(name, sizeof(name), "20%02d", i);
        assert_true(registrar_store(sv_from_cstr(name), &b));
    }
    assert_false(registrar_store(SV("2099"), &b)); /* full: a new account is refused */
    assert_true(registrar_store(SV("2003"), &b));  /* an existing one still updates */
    /* A reload that keeps only the odd-numbered accounts drops the other four. */
    assert_int_equal(registrar_retain(keep_odd, NULL), 4);
    assert_int_equal(registrar_count(0), 4);
    struct registrar_binding out;
    for (int i = 0; i < 8; i++) {
        (void)snprintf(name, sizeof(name), "20%02d", i);
        assert_int_equal(registrar_lookup(sv_from_cstr(name), 0, &out), (i & 1) != 0);
    }
    assert_true(registrar_store(SV("2099"), &b)); /* room again */
    registrar_fini();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registrar_by_name_expiry_and_removal),
        cmocka_unit_test(test_registrar_full_table_and_retain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
