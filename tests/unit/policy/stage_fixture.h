/*
 * A small harness for the policy stage tests: a configuration from
 * text, one stage's state, a parsed request and the events the check emitted.
 */
#ifndef SW_TESTS_POLICY_STAGE_FIXTURE_H
#define SW_TESTS_POLICY_STAGE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "config/config.h"
#include "policy/classify.h"
#include "policy/stage.h"
#include "sip/msg.h"
#include "support/unit.h"

#define FIXTURE_EVENTS 16

struct fixture {
    const struct stage *stage;
    struct cfg *cfg;
    void *state;
    struct arena *arena;
    char text[4096];
    struct sip_msg msg;
    struct stage_ctx ctx;
    struct sw_event events[FIXTURE_EVENTS];
    size_t event_count;
    struct event_sink sink;
};

static inline void fixture_capture(void *ctx, const struct sw_event *event)
{
    struct fixture *f = ctx;
    if (f->event_count < FIXTURE_EVENTS) {
        f->events[f->event_count] = *event;
    }
    f->event_count++;
}

static inline void fixture_init(struct fixture *f, const struct stage *stage, const char *conf)
{
    memset(f, 0, sizeof(*f));
    f->stage = stage;
    struct sw_diag diag;
    sw_diag_init(&diag);
    f->cfg = cfg_load_string("test.conf", conf, &diag);
    if (f->cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    assert_non_null(f->cfg);
    assert_int_equal(stage->init(&f->state, f->cfg, &diag), 0);
    sw_diag_fini(&diag);
    f->arena = arena_new(65536);
    assert_non_null(f->arena);
    f->sink = (struct event_sink){ .emit = fixture_capture, .ctx = f };
}

static inline void fixture_fini(struct fixture *f)
{
    f->stage->fini(f->state);
    arena_free(f->arena);
    cfg_free(f->cfg);
}

/* A context for a message from `src_ip`:5060 at `now_ms`, with no message yet (ctx.msg NULL). */
static inline void fixture_context(struct fixture *f, const char *src_ip, uint64_t now_ms)
{
    f->ctx = (struct stage_ctx){
        .arena = f->arena,
        .now_ms = now_ms,
        .cfg = f->cfg,
        .events = &f->sink,
    };
    /* Sources send from the PBX's port: on the PBX's address that is the PBX ([pbx]
     * match_port), elsewhere the port decides nothing. */
    assert_true(sw_sockaddr_parse(sv_from_cstr(src_ip), f->cfg->pbx.address.port, &f->ctx.src));
    assert_true(sw_ip_from_sockaddr(&f->ctx.src, &f->ctx.src_ip));
    f->ctx.side =
        classify_source(f->cfg, &f->ctx.src_ip, sw_sockaddr_port(&f->ctx.src), &f->ctx.trunk);
    f->ctx.is_trusted = f->ctx.side == SIDE_PBX || f->ctx.side == SIDE_PROVIDER;
}

/* Copies `request` (CRLF lines) into the fixture's text; returns its view. */
static inline struct sv fixture_text(struct fixture *f, const char *request)
{
    size_t len = strlen(request);
    assert_true(len < sizeof(f->text));
    memcpy(f->text, request, len);
    return sv_make(f->text, len);
}

/* Parses `request` (CRLF lines, complete), as sent from `src_ip`:5060, into f->ctx. */
static inline void fixture_prepare(struct fixture *f, const char *src_ip, uint64_t now_ms,
                                   const char *request)
{
    struct sv text = fixture_text(f, request);
    arena_reset(f->arena);
    struct sip_limits limits;
    sip_limits_default(&limits);
    struct sip_err err = { 0 };
    assert_int_equal(sip_msg_parse(text, false, &limits, f->arena, &f->msg, &err), 0);
    fixture_context(f, src_ip, now_ms);
    f->ctx.msg = &f->msg;
}

/* fixture_prepare, then the stage's check as the pipeline runs it (stage_run). */
static inline struct verdict fixture_run(struct fixture *f, const char *src_ip, uint64_t now_ms,
                                         const char *request)
{
    fixture_prepare(f, src_ip, now_ms, request);
    return stage_run(f->stage, f->state, &f->ctx);
}

#endif
