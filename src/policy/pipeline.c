#include "policy/pipeline.h"

#include "base/alloc.h"
#include "base/arena.h"
#include "base/assert.h"
#include "policy/acl.h"
#include "policy/auth.h"
#include "policy/callerid.h"
#include "policy/fraud.h"
#include "policy/identity.h"
#include "policy/limits.h"
#include "policy/media.h"
#include "policy/ratelimit.h"
#include "policy/sanity.h"
#include "policy/scanner.h"
#include "policy/unknown.h"

/*
 * The order is the policy, cheap and decisive first: acl looks at the source address
 * only, ratelimit at the address and method (so a denied source costs no bucket and a
 * flood costs no header parsing), scanner at a few headers; then sanity and auth;
 * callerid settles the calling number before identity signs or verifies it; limits takes
 * the call's concurrent-call places (a cheap count) before fraud judges the dialled
 * number, once the caller is known and before anything leaves; media refuses
 * offers without the SRTP a side requires before identity spends a signature on them.
 * Last, unknown refuses what nobody we know sent and no stage admitted (auth, which
 * answers strangers with its uniform challenge, must have had its say).
 */
static const struct stage *const pipeline[] = {
    &acl_stage,   &ratelimit_stage, &scanner_stage, &sanity_stage,
    &auth_stage,  &callerid_stage,  &limits_stage,  &fraud_stage,
    &media_stage, &identity_stage,  &unknown_stage,
};

#define STAGE_COUNT (sizeof(pipeline) / sizeof(pipeline[0]))

struct pipeline {
    void *state[STAGE_COUNT];
    size_t initialized;
};

struct pipeline *pipeline_new(const struct cfg *cfg, struct sw_diag *diag)
{
    struct pipeline *p = sw_calloc(1, sizeof(*p));
    if (p == NULL) {
        sw_diag_add(diag, DIAG_ERROR, NULL, 0, NULL, "pipeline: out of memory");
        return NULL;
    }
    for (size_t i = 0; i < STAGE_COUNT; i++) {
        if (pipeline[i]->init != NULL && pipeline[i]->init(&p->state[i], cfg, diag) != 0) {
            pipeline_free(p);
            return NULL;
        }
        p->initialized = i + 1;
    }
    return p;
}

void pipeline_free(struct pipeline *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = p->initialized; i-- > 0;) {
        if (pipeline[i]->fini != NULL) {
            pipeline[i]->fini(p->state[i]);
        }
    }
    sw_free(p);
}

struct verdict pipeline_run(struct pipeline *p, struct stage_ctx *ctx)
{
    if (arena_failures(ctx->arena) != 0) {
        /* Something about this message could not be read before the stages: unchecked. */
        return stage_fail_closed(ctx, "internal failure before the stages");
    }
    for (size_t i = 0; i < STAGE_COUNT; i++) {
        struct verdict v = stage_run(pipeline[i], p->state[i], ctx);
        if (v.action != VERDICT_CONTINUE) {
            stage_places_release(ctx); /* what earlier stages reserved for the call */
            return v;
        }
    }
    return verdict_continue();
}

size_t pipeline_stage_count(void)
{
    return STAGE_COUNT;
}

const char *pipeline_stage_name(size_t index)
{
    SW_ASSERT(index < STAGE_COUNT);
    return pipeline[index]->name;
}
