/*
 * Routing of new calls (call/route.c): a provider's call goes to the PBX with the origin
 * header and the trunk's record fields; an authenticated account's call to the PBX under
 * the identity the gateway gives it; the PBX's call to a registered phone, or else out
 * through the default trunk with its credentials, or to the node of a cluster holding the
 * phone; nobody else's call goes anywhere.
 */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "call/route.h"
#include "config/config.h"
#include "sip/msg.h"
#include "support/unit.h"

static const char conf[] = "[general]\nmax_call_duration = 600\ncall_timeout = 45\n"
                           "[pbx]\naddress = udp:10.0.0.5:5060\n"
                           "[carrier]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                           "owned_numbers = +15551230000-+15551230099\n"
                           "default_number = +15551230000\n"
                           "country_code = 1\n"
                           "username = gw\nsecret = Trunk-Secret-0123456789\n"
                           "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v-long\n"
                           "callerid = +15551230011\n";

struct env {
    struct cfg *cfg;
    struct arena *arena;
    struct route_trunk trunk;
    struct net_dest pbx;
    struct route_table table;
    char text[1024];
    struct sip_msg msg;
};

static void env_init(struct env *e)
{
    memset(e, 0, sizeof(*e));
    struct sw_diag diag;
    sw_diag_init(&diag);
    e->cfg = cfg_load_string("test.conf", conf, &diag);
    if (e->cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    assert_non_null(e->cfg);
    sw_diag_fini(&diag);
    e->arena = arena_new(65536);
    assert_non_null(e->arena);
    assert_true(sw_sockaddr_parse(SV("203.0.113.10"), 5060, &e->trunk.dest.addr));
    (void)snprintf(e->trunk.host, sizeof(e->trunk.host), "provider.example");
    e->trunk.credentials.username = "gw";
    assert_true(sw_sockaddr_parse(SV("10.0.0.5"), 5060, &e->pbx.addr));
    e->table = (struct route_table){
        .cfg = e->cfg,
        .trunks = &e->trunk,
        .trunk_count = 1,
        .pbx_dest = &e->pbx,
        .pbx_host = "10.0.0.5:5060",
        .local_host = "192.0.2.1",
    };
    assert_int_equal(registrar_init(4), 0);
}

static void env_fini(struct env *e)
{
    registrar_fini();
    arena_free(e->arena);
    cfg_free(e->cfg);
}

/* Parses an INVITE to `to_user` from `from_user` (NULL: From without a user). */
static struct sip_msg *invite(struct env *e, const char *to_user, const char *from_user)
{
    int n = snprintf(e->text, sizeof(e->text),
                     "INVITE sip:%s@192.0.2.1 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-r1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: \"Alice\" <sip:%s%s192.0.2.50>;tag=f1\r\n"
                     "To: <sip:%s@192.0.2.1>\r\n"
                     "Call-ID: route-1\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "Content-Length: 0\r\n\r\n",
                     to_user, from_user != NULL ? from_user : "", from_user != NULL ? "@" : "",
                     to_user);
    assert_true(n > 0 && (size_t)n < sizeof(e->text));
    arena_reset(e->arena);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    assert_int_equal(
        sip_msg_parse(sv_make(e->text, (size_t)n), false, &limits, e->arena, &e->msg, &err), 0);
    return &e->msg;
}

static void test_route_base_reads_callee_caller_and_timers(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct b2bua_route route;
    assert_true(route_base(e.cfg, invite(&e, "+15550001111", "+15551230011"), &route));
    assert_true(sv_eq(route.ruri_user, SV("+15550001111")));
    assert_true(sv_eq(route.from_user, SV("+15551230011")));
    assert_true(sv_eq(route.from_display, SV("Alice")));
    assert_int_equal(route.max_duration_s, 600);
    assert_int_equal(route.ring_timeout_s, 45);
    /* Without a user in From the caller is anonymous. */
    assert_true(route_base(e.cfg, invite(&e, "+15550001111", NULL), &route));
    assert_true(sv_eq(route.from_user, SV("anonymous")));
    env_fini(&e);
}

static void test_route_provider_call_goes_to_the_pbx(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct b2bua_route route;
    assert_true(route_base(e.cfg, invite(&e, "+15551230010", "+15550001111"), &route));
    struct route_caller caller = { .is_known = true, .party = CALL_PARTY_TRUNK, .index = 0 };
    assert_true(route_pick(&e.table, &caller, NULL, e.arena, &route));
    assert_int_equal(route.from_party, CALL_PARTY_TRUNK);
    assert_int_equal(route.to_party, CALL_PARTY_PBX);
    assert_true(sv_eq(route.target_host, SV("10.0.0.5:5060")));
    assert_false(route.is_towards_provider);
    assert_true(sv_eq(route.origin_header, SV("X-Sipwarden-Origin: trunk=carrier\r\n")));
    assert_string_equal(route.policy.trunk, "carrier");
    assert_string_equal(route.policy.trunk_country_code, "1");
    /* A trunk index the table does not have goes nowhere. */
    caller.index = 1;
    assert_false(route_pick(&e.table, &caller, NULL, e.arena, &route));
    env_fini(&e);
}

static void test_route_pbx_call_leaves_by_the_default_trunk(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct b2bua_route route;
    struct sip_msg *msg = invite(&e, "+15550001111", "100");
    struct route_target target;
    route_target_find(&e.table, msg, true, 1000, &target);
    assert_null(target.account); /* not an account's number */
    assert_true(route_base(e.cfg, msg, &route));
    struct route_caller caller = { .is_known = true, .party = CALL_PARTY_PBX };
    assert_true(route_pick(&e.table, &caller, &target, e.arena, &route));
    assert_int_equal(route.to_party, CALL_PARTY_TRUNK);
    assert_true(route.is_towards_provider);
    assert_true(sv_eq(route.trunk_name, SV("carrier")));
    assert_true(sv_eq(route.target_host, SV("provider.example")));
    assert_ptr_equal(route.credentials, &e.trunk.credentials);
    assert_string_equal(route.policy.trunk, "carrier");
    /* Nobody we know: no route at all. */
    struct route_caller nobody = { .is_known = false };
    assert_false(route_pick(&e.table, &nobody, NULL, e.arena, &route));
    env_fini(&e);
}

static void test_route_pbx_call_to_a_registered_phone(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct registrar_binding binding = { .expires_at = 2000 };
    (void)snprintf(binding.contact_uri, sizeof(binding.contact_uri), "sip:1001@198.51.100.7:5062");
    assert_true(sw_sockaddr_parse(SV("198.51.100.7"), 5062, &binding.dest.addr));
    assert_true(registrar_store(SV("1001"), &binding));
    struct sip_msg *msg = invite(&e, "1001", "100");
    struct route_target target;
    route_target_find(&e.table, msg, true, 1000, &target);
    assert_non_null(target.account);
    struct b2bua_route route;
    assert_true(route_base(e.cfg, msg, &route));
    struct route_caller caller = { .is_known = true, .party = CALL_PARTY_PBX };
    assert_true(route_pick(&e.table, &caller, &target, e.arena, &route));
    assert_int_equal(route.to_party, CALL_PARTY_ACCOUNT);
    assert_true(sv_eq(route.request_uri, SV("sip:1001@198.51.100.7:5062")));
    assert_true(sv_eq(route.target_host, SV("198.51.100.7")));
    assert_true(sv_eq(route.from_host, SV("192.0.2.1"))); /* never the PBX's address */
    assert_null(route.credentials);
    assert_string_equal(route.policy.account, "1001");
    /* An expired binding is no target: the call leaves by the trunk. */
    route_target_find(&e.table, msg, true, 3000, &target);
    assert_null(target.account);
    env_fini(&e);
}

/* A stand-in for the gateway's signing relay to another node (#15). */
static bool fake_peer_route(const void *ctx, struct arena *arena, const struct cfg_account *account,
                            const struct regshare_holder *holder, struct b2bua_route *route)
{
    (void)arena;
    (void)account;
    const bool *is_ok = ctx;
    route->target_host = sv_from_cstr(holder->address);
    return *is_ok;
}

static void test_route_pbx_call_to_a_phone_on_another_node(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct sip_msg *msg = invite(&e, "1001", "100");
    /* Without a binding here or a cluster, relaying allowed: an ordinary number. */
    struct route_target target;
    route_target_find(&e.table, msg, true, 1000, &target);
    assert_null(target.account);
    assert_false(target.is_unregistered);
    /* A relayed call (not allowed to relay again) for an account with no binding: 480. */
    route_target_find(&e.table, msg, false, 1000, &target);
    assert_true(target.is_unregistered);
    /* Another node holds the phone: the route goes there, or nowhere. */
    target = (struct route_target){ .account = &e.cfg->accounts[0], .is_remote = true };
    (void)snprintf(target.holder.address, sizeof(target.holder.address), "udp:127.0.0.11:5070");
    bool is_ok = true;
    e.table.peer_route = fake_peer_route;
    e.table.peer_ctx = &is_ok;
    struct b2bua_route route;
    assert_true(route_base(e.cfg, msg, &route));
    struct route_caller caller = { .is_known = true, .party = CALL_PARTY_PBX };
    assert_true(route_pick(&e.table, &caller, &target, e.arena, &route));
    assert_int_equal(route.to_party, CALL_PARTY_ACCOUNT);
    assert_true(sv_eq(route.target_host, SV("udp:127.0.0.11:5070")));
    assert_true(sv_eq(route.from_host, SV("192.0.2.1")));
    is_ok = false;
    assert_false(route_pick(&e.table, &caller, &target, e.arena, &route));
    e.table.peer_route = NULL; /* no cluster: nowhere, never the trunk */
    assert_false(route_pick(&e.table, &caller, &target, e.arena, &route));
    env_fini(&e);
}

static void test_route_account_call_gets_the_gateway_identity(void **state)
{
    (void)state;
    struct env e;
    env_init(&e);
    struct b2bua_route route;
    assert_true(route_base(e.cfg, invite(&e, "200", "spoofed"), &route));
    route.asserted_id = SV("<sip:ceo@example.com>"); /* what the phone claimed */
    struct route_caller caller = { .is_known = true, .party = CALL_PARTY_ACCOUNT, .index = 0 };
    assert_true(route_pick(&e.table, &caller, NULL, e.arena, &route));
    assert_int_equal(route.from_party, CALL_PARTY_ACCOUNT);
    assert_int_equal(route.to_party, CALL_PARTY_PBX);
    assert_true(sv_eq(route.from_user, SV("1001")));
    assert_true(sv_eq(route.from_display, SV("")));
    assert_true(sv_eq(route.asserted_id, SV("<sip:1001@10.0.0.5:5060>, <tel:+15551230011>")));
    assert_true(sv_eq(route.origin_header, SV("X-Sipwarden-Origin: account=1001\r\n")));
    assert_string_equal(route.policy.account, "1001");
    struct b2bua_register_route reg;
    struct uac_credentials creds = { .username = "1001", .secret = "pw" };
    route_register(&e.table, 0, &creds, &reg);
    assert_true(sv_eq(reg.username, SV("1001")));
    assert_true(sv_eq(reg.pbx_host, SV("10.0.0.5:5060")));
    assert_ptr_equal(reg.credentials, &creds);
    assert_int_equal(reg.max_expires_s, 3600);
    creds.secret = NULL; /* nothing to answer the PBX's challenge with */
    route_register(&e.table, 0, &creds, &reg);
    assert_null(reg.credentials);
    env_fini(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_base_reads_callee_caller_and_timers),
        cmocka_unit_test(test_route_provider_call_goes_to_the_pbx),
        cmocka_unit_test(test_route_pbx_call_leaves_by_the_default_trunk),
        cmocka_unit_test(test_route_pbx_call_to_a_registered_phone),
        cmocka_unit_test(test_route_pbx_call_to_a_phone_on_another_node),
        cmocka_unit_test(test_route_account_call_gets_the_gateway_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
