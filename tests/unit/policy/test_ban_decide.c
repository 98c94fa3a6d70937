/*
 * The inline ban decision (policy/ban_decide.c): maxretry password failures ban; a scanner
 * fingerprint bans at once; an address an account authenticated from is not banned for
 * volume nor for a fingerprint, but its password failures still count; an exempt source
 * is never banned; retransmissions of one failed request count once.
 */
#include <stdio.h>
#include <string.h>

#include "base/time.h"
#include "policy/ban_decide.h"
#include "state/ban.h"
#include "state/failtrack.h"
#include "support/unit.h"

struct fixture {
    struct ban_store *bans;
    struct failtrack *fails;
    struct ban_decider *decider;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    static struct sw_cidr exempt;
    assert_true(sw_cidr_parse(SV("192.0.2.200/32"), &exempt));
    struct ban_config bc = { .max_entries = 64, .never_ban = &exempt, .never_ban_count = 1 };
    struct failtrack_config fc = { .maxretry = 3, .max_sources = 64 };
    assert_int_equal(ban_store_new(&bc, &f.bans), 0);
    assert_int_equal(failtrack_new(&fc, &f.fails), 0);
    assert_int_equal(ban_decide_new(f.bans, f.fails, 64, &f.decider), 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ban_decide_free(f->decider);
    failtrack_free(f->fails);
    ban_store_free(f->bans);
    return 0;
}

/* An event of `kind` from `source` (IPv4 literal) on Call-ID `call_id` with CSeq `cseq`. */
static void emit(struct fixture *f, enum sw_event_kind kind, const char *source,
                 const char *call_id, uint32_t cseq, const char *response)
{
    struct sw_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.wall_us = sw_wall_us();
    assert_true(sw_sockaddr_parse(sv_from_cstr(source), 5060, &ev.remote));
    (void)snprintf(ev.account, sizeof(ev.account), "1001");
    (void)snprintf(ev.session, sizeof(ev.session), "%s", call_id);
    (void)snprintf(ev.response, sizeof(ev.response), "%s", response);
    ev.cseq = cseq;
    ev.count = 1;
    ban_decide_event(f->decider, &ev);
}

static bool is_banned(struct fixture *f, const char *address)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(address), &ip));
    return ban_store_is_banned(f->bans, &ip, sw_wall_s());
}

static void test_ban_decide_bans_at_maxretry(void **state)
{
    struct fixture *f = *state;
    emit(f, EV_INVALID_PASSWORD, "198.51.100.1", "c1", 1, "r1");
    emit(f, EV_INVALID_PASSWORD, "198.51.100.1", "c1", 1, "r1"); /* a retransmission */
    emit(f, EV_INVALID_PASSWORD, "198.51.100.1", "c1", 2, "r2");
    assert_false(is_banned(f, "198.51.100.1"));
    emit(f, EV_INVALID_PASSWORD, "198.51.100.1", "c1", 3, "r3");
    assert_true(is_banned(f, "198.51.100.1"));
    assert_false(is_banned(f, "198.51.100.2"));
}

static void test_ban_decide_scanner_bans_strangers_only(void **state)
{
    struct fixture *f = *state;
    emit(f, EV_SCANNER, "198.51.100.3", "", 0, "");
    assert_true(is_banned(f, "198.51.100.3"));
    emit(f, EV_SUCCESSFUL_AUTH, "198.51.100.4", "ok", 1, "");
    struct sw_ip office;
    assert_true(sw_ip_parse(SV("198.51.100.4"), &office));
    assert_true(ban_decide_is_authenticated(f->decider, &office));
    emit(f, EV_SCANNER, "198.51.100.4", "", 0, "");
    for (int i = 0; i < 10; i++) {
        emit(f, EV_RATE_EXCEEDED, "198.51.100.4", "", 0, "");
    }
    assert_false(is_banned(f, "198.51.100.4"));
    /* Its password failures still count. */
    emit(f, EV_INVALID_PASSWORD, "198.51.100.4", "g", 1, "a");
    emit(f, EV_INVALID_PASSWORD, "198.51.100.4", "g", 2, "b");
    emit(f, EV_INVALID_PASSWORD, "198.51.100.4", "g", 3, "c");
    assert_true(is_banned(f, "198.51.100.4"));
}

static void test_ban_decide_volume_bans_strangers(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 3; i++) {
        emit(f, EV_RATE_EXCEEDED, "198.51.100.5", "", 0, "");
    }
    assert_true(is_banned(f, "198.51.100.5"));
}

static void test_ban_decide_never_bans_an_exempt_source(void **state)
{
    struct fixture *f = *state;
    emit(f, EV_SCANNER, "192.0.2.200", "", 0, "");
    for (uint32_t i = 1; i <= 5; i++) {
        emit(f, EV_INVALID_PASSWORD, "192.0.2.200", "x", i, "r");
    }
    assert_false(is_banned(f, "192.0.2.200"));
    /* An explicit ban of it is refused by the store too. */
    struct sw_ip ip;
    assert_true(sw_ip_parse(SV("192.0.2.200"), &ip));
    ban_decide_ban(f->decider, &ip, "test");
    assert_false(is_banned(f, "192.0.2.200"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ban_decide_bans_at_maxretry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_decide_scanner_bans_strangers_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ban_decide_volume_bans_strangers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ban_decide_never_bans_an_exempt_source, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
