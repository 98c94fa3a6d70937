/*
 * Reload generations (gateway_gen.c): a generation a worker is inside is never freed, a
 * superseded one goes once nobody holds it, the first one lives until the gateway does,
 * and the counters and bindings keyed by name carry over a reload that reorders accounts.
 * The threaded case swaps generations thousands of times under two readers: run under
 * ASan (use after free) and TSan (races).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call/registrar.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "state/callcount.h"
#include "support/unit.h"

/* Each reload builds a whole pipeline: a sanitized build does fewer within the test's
 * time limit on a busy machine (the race it looks for needs no more). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RELOADS 250
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RELOADS 250
#else
#define RELOADS 1000
#endif
#else
#define RELOADS 1000
#endif

static const char conf_ab[] = "[general]\ncontrol_socket =\n"
                              "[log]\nsecurity_log =\n"
                              "[pbx]\naddress = udp:10.0.0.5:5060\n"
                              "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                              "permit = 203.0.113.0/24\nmax_calls = 7\n"
                              "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v\n"
                              "[1002]\ntype = account\nsecret = Str0ng-1002-pW3k\n";

static const char conf_ba[] = "[general]\ncontrol_socket =\n"
                              "[log]\nsecurity_log =\n"
                              "[pbx]\naddress = udp:10.0.0.5:5060\n"
                              "[provider]\ntype = trunk\nprovider = udp:203.0.113.10:5060\n"
                              "permit = 203.0.113.0/24\nmax_calls = 7\n"
                              "[1002]\ntype = account\nsecret = Str0ng-1002-pW3k\n"
                              "[1001]\ntype = account\nsecret = Str0ng-1001-xQ7v\n";

static struct gw_gen *make_gen(struct gateway *gw, const char *text)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("test.conf", text, &diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    assert_non_null(cfg);
    struct gw_gen *gen = NULL;
    assert_int_equal(gw_gen_new(gw, cfg, &gen, &diag), 0);
    sw_diag_fini(&diag);
    return gen;
}

static void gateway_init(struct gateway *gw)
{
    memset(gw, 0, sizeof(*gw));
    gw->calls = callcount_acquire(4096); /* the table the limits stage shares */
    assert_non_null(gw->calls);
    assert_int_equal(registrar_init(64), 0);
}

static void gateway_fini(struct gateway *gw)
{
    struct gw_gen *current = atomic_exchange(&gw->gen, NULL);
    assert_int_equal(gw_gen_reclaim(gw), 0);
    if (gw->first != current) {
        gw_gen_free(gw->first);
    }
    gw_gen_free(current);
    gw_interned_free(gw);
    registrar_fini();
    callcount_release_shared(gw->calls);
}

static void test_gen_held_generation_outlives_its_successor(void **state)
{
    (void)state;
    struct gateway gw;
    gateway_init(&gw);
    gw_gen_publish(&gw, make_gen(&gw, conf_ab));
    gw_gen_publish(&gw, make_gen(&gw, conf_ab));
    struct gw_gen *held = gw_gen_enter(&gw, 3);
    assert_ptr_equal(held, atomic_load(&gw.gen));
    gw_gen_publish(&gw, make_gen(&gw, conf_ba));
    /* Reader 3 is still inside `held`: it stays; the first one is unlinked, not freed. */
    assert_int_equal(gw_gen_reclaim(&gw), 1);
    assert_int_equal(held->cfg->trunks[0].max_calls, 7); /* readable (ASan would say) */
    gw_gen_leave(&gw, 3);
    assert_int_equal(gw_gen_reclaim(&gw), 0);
    assert_non_null(gw.first);
    gateway_fini(&gw);
}

/* Issue #9 item 2: counters and bindings follow the name, not the position. */
static void test_gen_reorder_keeps_counters_and_bindings_by_name(void **state)
{
    (void)state;
    struct gateway gw;
    gateway_init(&gw);
    struct gw_gen *ab = make_gen(&gw, conf_ab);
    gw_gen_publish(&gw, ab);
    /* The limits stage keeps the accounts' counters by name (policy/limits.h). */
    struct callcount_slot *calls_1001 = callcount_slot(gw.calls, CALLCOUNT_ACCOUNT, "1001");
    assert_true(callcount_reserve(calls_1001, 2)); /* 1001 has a call */
    struct registrar_binding binding = { .contact_uri = "sip:1001@192.0.2.5",
                                         .expires_at = 1 << 30 };
    assert_true(registrar_store(SV("1001"), &binding));
    struct gw_gen *ba = make_gen(&gw, conf_ba);
    gw_gen_publish(&gw, ba);
    assert_string_equal(ba->cfg->accounts[1].username, "1001");
    assert_ptr_equal(callcount_slot(gw.calls, CALLCOUNT_ACCOUNT, "1001"), calls_1001);
    assert_int_equal(callcount_value(calls_1001), 1);
    assert_int_equal(callcount_value(callcount_slot(gw.calls, CALLCOUNT_ACCOUNT, "1002")), 0);
    assert_ptr_equal(ba->trunk_hops[0].calls, ab->trunk_hops[0].calls);
    struct registrar_binding found;
    assert_true(registrar_lookup(SV("1001"), 0, &found));
    assert_string_equal(found.contact_uri, "sip:1001@192.0.2.5");
    assert_false(registrar_lookup(SV("1002"), 0, &found));
    assert_int_equal(gw_gen_drop_removed_bindings(ba), 0);
    callcount_release(calls_1001);
    gateway_fini(&gw);
}

struct reader_arg {
    struct gateway *gw;
    unsigned reader;
    atomic_bool *is_done;
    uint64_t reads;
};

static void *reader_loop(void *arg)
{
    struct reader_arg *r = arg;
    while (!atomic_load(r->is_done)) {
        struct gw_gen *gen = gw_gen_enter(r->gw, r->reader);
        /* Touch what a message touches: the configuration, the hops, the counters. */
        if (gen->cfg->trunks[0].max_calls != 7 || gen->trunk_hops[0].calls == NULL) {
            abort();
        }
        r->reads++;
        gw_gen_leave(r->gw, r->reader);
    }
    return NULL;
}

static void test_gen_thousands_of_reloads_under_readers(void **state)
{
    (void)state;
    struct gateway gw;
    gateway_init(&gw);
    gw_gen_publish(&gw, make_gen(&gw, conf_ab));
    atomic_bool is_done;
    atomic_init(&is_done, false);
    struct reader_arg args[2];
    pthread_t threads[2];
    for (unsigned i = 0; i < 2; i++) {
        args[i] = (struct reader_arg){ .gw = &gw, .reader = i, .is_done = &is_done };
        assert_int_equal(pthread_create(&threads[i], NULL, reader_loop, &args[i]), 0);
    }
    for (int i = 0; i < RELOADS; i++) {
        gw_gen_publish(&gw, make_gen(&gw, (i & 1) != 0 ? conf_ab : conf_ba));
    }
    atomic_store(&is_done, true);
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_true(args[i].reads > 0);
    }
    gateway_fini(&gw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen_held_generation_outlives_its_successor),
        cmocka_unit_test(test_gen_reorder_keeps_counters_and_bindings_by_name),
        cmocka_unit_test(test_gen_thousands_of_reloads_under_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
