/*
 * The gateway's inline ban decision: events emitted through gw->events reach the failure
 * tracker and the ban store at once, and the gate drops the banned source.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/hash.h"
#include "base/time.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "gateway/gateway_obs.h"
#include "policy/gate.h"
#include "state/ban.h"
#include "support/unit.h"

static const char conf[] = "[general]\ncontrol_socket =\n"
                           "[log]\nsecurity_log =\n"
                           "[state]\npath = :memory:\n"
                           "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "permit = 203.0.113.0/24\n";

struct fixture {
    struct cfg *cfg;
    struct gateway gw;
};

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    struct sw_diag diag;
    sw_diag_init(&diag);
    f->cfg = cfg_load_string("test.conf", conf, &diag);
    if (f->cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    assert_non_null(f->cfg);
    gw_events_init(&f->gw);
    assert_int_equal(gw_obs_new(&f->gw, f->cfg, &diag), 0);
    sw_diag_fini(&diag);
}

static void fixture_fini(struct fixture *f)
{
    gw_obs_free(&f->gw);
    cfg_free(f->cfg);
}

static void emit(struct fixture *f, enum sw_event_kind kind, const char *ip, const char *call_id,
                 uint32_t cseq, const char *response)
{
    struct sw_event ev;
    sw_event_init(&ev, kind);
    assert_true(sw_sockaddr_parse(sv_from_cstr(ip), 5060, &ev.remote));
    SW_EVENT_SET(&ev, account, SV("1001"));
    SW_EVENT_SET(&ev, session, sv_from_cstr(call_id));
    SW_EVENT_SET(&ev, response, sv_from_cstr(response));
    ev.cseq = cseq;
    sw_event_emit(&f->gw.events, &ev);
}

static bool is_banned(struct fixture *f, const char *text)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(text), &ip));
    return ban_store_is_banned(gw_obs_bans(&f->gw), &ip, sw_wall_s());
}

static void test_obs_three_guesses_ban_at_once(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.7", "c1", 2, "r1");
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.7", "c1", 2, "r2"); /* svcrack: same CSeq */
    assert_false(is_banned(&f, "198.51.100.7"));
    emit(&f, EV_INVALID_ACCOUNT_ID, "198.51.100.7", "c2", 1, "r3");
    assert_true(is_banned(&f, "198.51.100.7"));
    struct ban_entry entry;
    struct sw_ip ip;
    assert_true(sw_ip_parse(SV("198.51.100.7"), &ip));
    assert_true(ban_store_get(gw_obs_bans(&f.gw), &ip, &entry));
    assert_non_null(strstr(entry.reason, "InvalidPassword=2"));
    assert_non_null(strstr(entry.reason, "InvalidAccountID=1"));
    /* The gate now drops it before parsing; others pass. */
    struct gate *gate = gw_gate_new(&f.gw, f.cfg);
    assert_non_null(gate);
    assert_int_equal(gate_check(gate, &ip, 1000), GATE_DROP_BANNED);
    assert_true(sw_ip_parse(SV("198.51.100.8"), &ip));
    assert_int_equal(gate_check(gate, &ip, 1000), GATE_PASS);
    gate_free(gate);
    fixture_fini(&f);
}

/* Issue #10: failures on one Call-ID with a rising CSeq counted as one within 2 s. */
static void test_obs_retransmissions_count_once_every_guess_counts(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    /* The same request retransmitted. */
    for (int i = 0; i < 5; i++) {
        emit(&f, EV_INVALID_PASSWORD, "198.51.100.9", "phone-2", 1, "same");
    }
    assert_false(is_banned(&f, "198.51.100.9"));
    /* A guesser on one Call-ID with a rising CSeq: each guess counts. */
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.9", "phone-1", 2, "b2");
    assert_false(is_banned(&f, "198.51.100.9"));
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.9", "phone-1", 3, "b3");
    assert_true(is_banned(&f, "198.51.100.9"));
    fixture_fini(&f);
}

static void test_obs_scanner_bans_at_once_exempt_never(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    emit(&f, EV_SCANNER, "192.0.2.44", "", 0, "");
    assert_true(is_banned(&f, "192.0.2.44"));
    char call_id[16];
    for (int i = 0; i < 10; i++) {
        (void)snprintf(call_id, sizeof(call_id), "p%d", i);
        emit(&f, EV_INVALID_PASSWORD, "203.0.113.10", call_id, 1, call_id);
        emit(&f, EV_SCANNER, "10.0.0.5", call_id, 1, "");
    }
    assert_false(is_banned(&f, "203.0.113.10")); /* the provider's range */
    assert_false(is_banned(&f, "10.0.0.5"));     /* the PBX */
    for (int i = 0; i < 10; i++) {
        (void)snprintf(call_id, sizeof(call_id), "n%d", i);
        emit(&f, EV_CHALLENGE_SENT, "192.0.2.45", call_id, 1, "");
        emit(&f, EV_POLICY_HIT, "192.0.2.45", call_id, 1, "");
    }
    assert_false(is_banned(&f, "192.0.2.45")); /* not failures */
    fixture_fini(&f);
}

static void test_obs_volume_never_bans_an_authenticated_address(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    char call_id[16];
    /* An office NAT: an account authenticated from it, then floods of REGISTERs. */
    emit(&f, EV_SUCCESSFUL_AUTH, "198.51.100.20", "ok-1", 2, "");
    for (int i = 0; i < 5; i++) {
        emit(&f, EV_RATE_EXCEEDED, "198.51.100.20", "", 0, "");
    }
    assert_false(is_banned(&f, "198.51.100.20"));
    /* Its wrong passwords still count. */
    for (int i = 0; i < 3; i++) {
        (void)snprintf(call_id, sizeof(call_id), "w%d", i);
        emit(&f, EV_INVALID_PASSWORD, "198.51.100.20", call_id, 1, call_id);
    }
    assert_true(is_banned(&f, "198.51.100.20"));
    /* A stranger's floods do ban. */
    for (int i = 0; i < 3; i++) {
        emit(&f, EV_RATE_EXCEEDED, "198.51.100.21", "", 0, "");
    }
    assert_true(is_banned(&f, "198.51.100.21"));
    fixture_fini(&f);
}

/*
 * Issue #9.11: one spoofable packet with a scanner fingerprint banned an address where an
 * account had just authenticated. There it is dropped and logged, and bans nothing.
 */
static void test_obs_scanner_packet_from_authenticated_address_spared(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    emit(&f, EV_SUCCESSFUL_AUTH, "198.51.100.30", "ok-1", 2, "");
    emit(&f, EV_SCANNER, "198.51.100.30", "s1", 1, "");
    assert_false(is_banned(&f, "198.51.100.30"));
    emit(&f, EV_SCANNER, "198.51.100.30", "s2", 1, "");
    assert_false(is_banned(&f, "198.51.100.30"));
    emit(&f, EV_SCANNER, "198.51.100.30", "s3", 1, "");
    assert_false(is_banned(&f, "198.51.100.30"));
    /* Its wrong passwords still count. */
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.30", "w1", 1, "w1");
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.30", "w2", 1, "w2");
    assert_false(is_banned(&f, "198.51.100.30"));
    emit(&f, EV_INVALID_PASSWORD, "198.51.100.30", "w3", 1, "w3");
    assert_true(is_banned(&f, "198.51.100.30"));
    fixture_fini(&f);
}

static int setup(void **state)
{
    (void)state;
    return sw_hash_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_obs_three_guesses_ban_at_once),
        cmocka_unit_test(test_obs_retransmissions_count_once_every_guess_counts),
        cmocka_unit_test(test_obs_scanner_bans_at_once_exempt_never),
        cmocka_unit_test(test_obs_volume_never_bans_an_authenticated_address),
        cmocka_unit_test(test_obs_scanner_packet_from_authenticated_address_spared),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
