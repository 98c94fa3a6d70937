#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "config/config.h"
#include "policy/callerid.h"
#include "sip/msg.h"
#include "stage_fixture.h"
#include "support/unit.h"

static const char base_conf[] = "[pbx]\n"
                                "address = udp:127.0.0.1:5090\n"
                                "[provider]\n"
                                "type = trunk\n"
                                "provider = udp:192.0.2.10:5060\n"
                                "domain = provider.example\n"
                                "owned_numbers = +15551230000-+15551230099, +4930123*\n"
                                "default_number = +15551230000\n";

static void callerid_fixture_init(struct fixture *f, const char *extra_conf)
{
    char conf[2048];
    (void)snprintf(conf, sizeof(conf), "%s%s", base_conf, extra_conf);
    fixture_init(f, &callerid_stage, conf);
}

/* Parses an INVITE to `ruri_user` with `from_uri`, an optional PAI line; runs the stage. */
static struct verdict run_to(struct fixture *f, enum side side, const char *ruri_user,
                             const char *from_uri, const char *pai)
{
    char pai_line[256] = "";
    if (pai != NULL) {
        (void)snprintf(pai_line, sizeof(pai_line), "P-Asserted-Identity: %s\r\n", pai);
    }
    char text[2048];
    int n = snprintf(text, sizeof(text),
                     "INVITE sip:%s@gw.example SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-1\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: \"Alice\" <%s>;tag=a1\r\n"
                     "To: <sip:+15550001111@gw.example>\r\n"
                     "Call-ID: callerid-test@pbx\r\n"
                     "CSeq: 1 INVITE\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     ruri_user, from_uri, pai_line);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    /* The side is the test's choice, not the source address's. */
    fixture_prepare(f, "192.0.2.99", 0, text);
    f->event_count = 0;
    f->ctx.side = side;
    f->ctx.trunk = 0;
    f->ctx.is_trusted = side == SIDE_PBX || side == SIDE_PROVIDER;
    return f->stage->check(f->state, &f->ctx);
}

/* A call to one of the trunk's own numbers (inbound calls to others get 404). */
static struct verdict run(struct fixture *f, enum side side, const char *from_uri, const char *pai)
{
    return run_to(f, side, "+15551230010", from_uri, pai);
}

static void assert_sv_equal(struct sv value, const char *expected)
{
    assert_true(sv_is_present(value));
    assert_int_equal(value.len, strlen(expected));
    assert_memory_equal(value.ptr, expected, value.len);
}

static void test_callerid_owned_number_passes_unchanged(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    static const char *const owned[] = {
        "sip:+15551230005@pbx", "sip:5551230005@pbx",    "sip:15551230099@pbx",
        "tel:+1-555-123-0042",  "sip:+493012345678@pbx", "sip:+15551230001;x=y@pbx",
    };
    for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
        struct verdict v = run(&f, SIDE_PBX, owned[i], NULL);
        assert_int_equal(v.action, VERDICT_CONTINUE);
        assert_false(sv_is_present(f.ctx.edits.caller_user));
        assert_false(sv_is_present(f.ctx.edits.caller_display));
        /* Our own PAI, naming the number and the trunk's domain, never the PBX's host. */
        assert_true(sv_is_present(f.ctx.edits.asserted_identity));
        assert_memory_equal(f.ctx.edits.asserted_identity.ptr, "<sip:+", 6);
        struct sv pai = f.ctx.edits.asserted_identity;
        static const char tail[] = "@provider.example;user=phone>";
        assert_true(pai.len > sizeof(tail) - 1);
        assert_memory_equal(pai.ptr + pai.len - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
        assert_int_equal(f.event_count, 0);
    }
    fixture_fini(&f);
}

static void test_callerid_replace_names_the_replaced_value(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    static const char *const foreign[] = { "sip:+15559990000@pbx", "sip:201@pbx",
                                           "sip:anonymous@anonymous.invalid",
                                           "sip:+15551230100@pbx" };
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        struct verdict v = run(&f, SIDE_PBX, foreign[i], NULL);
        assert_int_equal(v.action, VERDICT_CONTINUE);
        assert_sv_equal(f.ctx.edits.caller_user, "+15551230000");
        assert_sv_equal(f.ctx.edits.asserted_identity,
                        "<sip:+15551230000@provider.example;user=phone>");
        assert_int_equal(f.event_count, 1);
        assert_int_equal(f.events[0].kind, EV_CALLERID_REPLACED);
        assert_string_equal(f.events[0].module, "callerid");
        assert_string_equal(f.events[0].session, "callerid-test@pbx");
        const char *user = strchr(foreign[i], ':') + 1;
        char replaced[64];
        (void)snprintf(replaced, sizeof(replaced), "'%.*s'", (int)strcspn(user, "@"), user);
        assert_non_null(strstr(f.events[0].detail, replaced));
        assert_non_null(strstr(f.events[0].detail, "replaced with +15551230000"));
    }
    fixture_fini(&f);
}

static void test_callerid_prefers_p_asserted_identity(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    /* From owned, PAI not: the asserted number is the caller. */
    struct verdict v = run(&f, SIDE_PBX, "sip:+15551230005@pbx", "<sip:+15559990000@pbx>");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_sv_equal(f.ctx.edits.caller_user, "+15551230000");
    assert_non_null(strstr(f.events[0].detail, "'+15559990000'"));
    /* PAI owned (tel URI, second value), From not. */
    v = run(&f, SIDE_PBX, "sip:anonymous@anonymous.invalid", "<sip:alice@pbx>, <tel:+15551230077>");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    assert_int_equal(f.event_count, 0);
    /* A PAI without a number: From decides. */
    v = run(&f, SIDE_PBX, "sip:+15551230005@pbx", "<sip:alice@pbx>");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    fixture_fini(&f);
}

static void test_callerid_reject_and_allow(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "callerid_policy = reject\n");
    struct verdict v = run(&f, SIDE_PBX, "sip:+15559990000@pbx", NULL);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_POLICY_HIT);
    assert_non_null(strstr(f.events[0].detail, "15559990000 not owned"));
    assert_int_equal(run(&f, SIDE_PBX, "sip:+15551230005@pbx", NULL).action, VERDICT_CONTINUE);
    fixture_fini(&f);

    callerid_fixture_init(&f, "callerid_policy = allow\n");
    v = run(&f, SIDE_PBX, "sip:+15559990000@pbx", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_POLICY_HIT);
    assert_non_null(strstr(f.events[0].detail, "allowed"));
    fixture_fini(&f);
}

static void test_callerid_inbound_own_number_is_flagged_or_rejected(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    struct verdict v = run(&f, SIDE_PROVIDER, "sip:+15551230042@provider.example", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 1);
    assert_int_equal(f.events[0].kind, EV_POLICY_HIT);
    assert_non_null(strstr(f.events[0].detail, "claims our own number +15551230042"));
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    /* A stranger's number is nothing special. */
    v = run(&f, SIDE_PROVIDER, "sip:+15559990000@provider.example", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);

    callerid_fixture_init(&f, "inbound_own_number = reject\n");
    v = run(&f, SIDE_PROVIDER, "sip:+15551230042@provider.example", NULL);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 403);
    fixture_fini(&f);
}

static void test_callerid_ignores_what_it_does_not_own(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    /* In-dialog requests and unknown sources are not its business. */
    struct verdict v = run(&f, SIDE_UNKNOWN, "sip:+15559990000@pbx", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    f.ctx.is_in_dialog = true;
    f.ctx.side = SIDE_PBX;
    f.event_count = 0;
    v = callerid_stage.check(f.state, &f.ctx);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);

    /* A trunk without owned numbers checks nothing. */
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf",
                                      "[pbx]\naddress = udp:127.0.0.1:5090\n[p]\ntype = trunk\n"
                                      "provider = udp:192.0.2.10:5060\n",
                                      &diag);
    assert_non_null(cfg);
    void *st = NULL;
    assert_int_equal(callerid_stage.init(&st, cfg, &diag), 0);
    callerid_fixture_init(&f, "");
    (void)run(&f, SIDE_PBX, "sip:+15559990000@pbx", NULL);
    f.event_count = 0;
    v = callerid_stage.check(st, &f.ctx);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_int_equal(f.event_count, 0);
    callerid_stage.fini(st);
    cfg_free(cfg);
    sw_diag_fini(&diag);
    fixture_fini(&f);
}

/* Issue #9 item 4: an account's call gets its identity from the gateway's routing (the
 * account's name), so nothing the phone wrote is taken or edited here. */
static void test_callerid_account_identity_is_not_the_phones(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "[phone1]\ntype = account\nha1_sha256 = "
                              "0000000000000000000000000000000000000000000000000000000000000000\n"
                              "callerid = +15551230050\n");
    (void)run(&f, SIDE_ACCOUNT, "sip:+15551230051@gw", "<sip:1003@10.9.8.7>");
    f.ctx.is_authenticated = true;
    f.ctx.account = 0;
    struct verdict v = callerid_stage.check(f.state, &f.ctx);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    assert_false(sv_is_present(f.ctx.edits.asserted_identity));
    assert_int_equal(f.event_count, 0);
    fixture_fini(&f);
}

/* Issue #9 item 5: an owned PAI does not carry an unowned From out, the PBX's host and
 * display name never leave, and a call to one of our phones is not the trunk's business. */
static void test_callerid_from_and_pai_both_checked(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    struct verdict v =
        run(&f, SIDE_PBX, "sip:+442079460000@10.9.8.7", "\"Ext 1003\" <sip:+15551230005@10.9.8.7>");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_sv_equal(f.ctx.edits.caller_user, "+15551230000");
    assert_sv_equal(f.ctx.edits.caller_display, "");
    assert_sv_equal(f.ctx.edits.asserted_identity,
                    "<sip:+15551230000@provider.example;user=phone>");
    assert_non_null(strstr(f.events[0].detail, "'+442079460000'"));
    /* Both owned: From stays, the PAI is ours (number and trunk domain only). */
    v = run(&f, SIDE_PBX, "sip:+15551230006@10.9.8.7", "\"Ext 1003\" <sip:+15551230005@10.9.8.7>");
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    assert_sv_equal(f.ctx.edits.asserted_identity,
                    "<sip:+15551230005@provider.example;user=phone>");
    assert_int_equal(f.event_count, 0);
    /* Towards one of our phones: unchecked, unchanged. */
    (void)run(&f, SIDE_PBX, "sip:+442079460000@10.9.8.7", NULL);
    f.ctx.is_towards_account = true;
    f.ctx.edits = (struct stage_edits){ 0 };
    v = callerid_stage.check(f.state, &f.ctx);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.caller_user));
    assert_false(sv_is_present(f.ctx.edits.asserted_identity));
    fixture_fini(&f);
}

/* Issue #9 item 3: a trunk delivers calls to its own numbers; inbound_to = e164 works. */
static void test_callerid_inbound_called_number(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    struct verdict v = run_to(&f, SIDE_PROVIDER, "+15559990000", "sip:+15559991111@p", NULL);
    assert_int_equal(v.action, VERDICT_REPLY);
    assert_int_equal(v.status, 404);
    assert_int_equal(f.event_count, 1);
    assert_non_null(strstr(f.events[0].detail, "'+15559990000' is not a number of trunk provider"));
    v = run_to(&f, SIDE_PROVIDER, "1003", "sip:+15559991111@p", NULL); /* an extension */
    assert_int_equal(v.status, 404);
    v = run_to(&f, SIDE_PROVIDER, "5551230010", "sip:+15559991111@p", NULL); /* national form */
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_false(sv_is_present(f.ctx.edits.callee_user)); /* inbound_to = did: as sent */
    fixture_fini(&f);

    callerid_fixture_init(&f, "inbound_to = e164\n");
    v = run_to(&f, SIDE_PROVIDER, "5551230010", "sip:+15559991111@p", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    assert_sv_equal(f.ctx.edits.callee_user, "+15551230010");
    fixture_fini(&f);

    callerid_fixture_init(&f, "inbound_numbers = any\n");
    v = run_to(&f, SIDE_PROVIDER, "1003", "sip:+15559991111@p", NULL);
    assert_int_equal(v.action, VERDICT_CONTINUE);
    fixture_fini(&f);
}

static void test_callerid_calling_number_helper(void **state)
{
    (void)state;
    struct fixture f;
    callerid_fixture_init(&f, "");
    (void)run(&f, SIDE_UNKNOWN, "sip:bob@pbx", NULL);
    struct stir_tn tn;
    struct sv raw;
    assert_false(callerid_calling_number(&f.msg, SV("1"), &tn, &raw));
    (void)run(&f, SIDE_UNKNOWN, "sip:02079460000@pbx", "<sip:bob@pbx>");
    assert_true(callerid_calling_number(&f.msg, SV("44"), &tn, &raw));
    assert_string_equal(tn.digits, "442079460000");
    assert_sv_equal(raw, "02079460000");
    fixture_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_callerid_owned_number_passes_unchanged),
        cmocka_unit_test(test_callerid_replace_names_the_replaced_value),
        cmocka_unit_test(test_callerid_prefers_p_asserted_identity),
        cmocka_unit_test(test_callerid_reject_and_allow),
        cmocka_unit_test(test_callerid_inbound_own_number_is_flagged_or_rejected),
        cmocka_unit_test(test_callerid_ignores_what_it_does_not_own),
        cmocka_unit_test(test_callerid_account_identity_is_not_the_phones),
        cmocka_unit_test(test_callerid_from_and_pai_both_checked),
        cmocka_unit_test(test_callerid_inbound_called_number),
        cmocka_unit_test(test_callerid_calling_number_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
