/*
 * ng_probe: drives a real rtpengine through call/rtpengine for tests/it/rtpengine_ng_client
 * (link: sw_call sw_net sw_sip sw_base).
 *
 * usage: ng_probe NG_ADDR:PORT [anchor | bench CALLS]
 * Runs ping, offer (an SDP naming the PBX at 10.0.0.5), answer (the provider at
 * 192.0.2.7), query, delete and a query after the delete, each through the client on its own event
 * loop, and prints one line per step:
 *   ping <result>
 *   offer c=<address> port=<port> ...   (per m= line of the SDP rtpengine returned)
 *   answer c=<address> port=<port> ...
 *   query <result>
 *   delete <result>
 *   query-after-delete <result> <error-reason>
 * followed by the SDPs themselves. Exits 0 when every step but the last succeeded and the
 * last failed as it must (the call is gone); 1 otherwise.
 *
 * With "anchor", the same call goes through call/anchor.h as the B2BUA makes it: the PBX's
 * plain RTP offer towards a provider leg that needs SRTP (transport-protocol RTP/SAVP),
 * the provider's SRTP answer towards the PBX (RTP/AVP), then the end (delete):
 *   anchor-offer c=<address> port=<port> proto=<proto> crypto=<a=crypto lines>
 *   anchor-answer c=<address> port=<port> proto=<proto> crypto=<count>
 *   query-after-end <result> <error-reason>
 *
 * With "bench CALLS", CALLS calls one after the other through anchor.h (offer, answer,
 * end) and the round trip of each offer and answer, as call set-up waits for it:
 *   bench calls=<n> offer_us median=<m> p99=<p> answer_us median=<m> p99=<p>
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr.h"
#include "base/err.h"
#include "base/time.h"
#include "call/anchor.h"
#include "call/rtpengine.h"
#include "net/loop.h"
#include "sip/sdp.h"

#define BUDGET_MS 5000

static const char offer_sdp[] = "v=0\r\n"
                                "o=pbx 1 1 IN IP4 10.0.0.5\r\n"
                                "s=call\r\n"
                                "c=IN IP4 10.0.0.5\r\n"
                                "t=0 0\r\n"
                                "m=audio 6000 RTP/AVP 0 8 101\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\n"
                                "a=sendrecv\r\n";

static const char answer_sdp[] = "v=0\r\n"
                                 "o=provider 7 7 IN IP4 192.0.2.7\r\n"
                                 "s=call\r\n"
                                 "c=IN IP4 192.0.2.7\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 7000 RTP/AVP 0 101\r\n"
                                 "a=rtpmap:101 telephone-event/8000\r\n"
                                 "a=sendrecv\r\n";

struct step {
    bool is_done;
    int status;
    size_t server;
    char result[32];
    char reason[128];
    char sdp[4096];
};

static void on_done(void *ctx, const struct rtpengine_reply *reply)
{
    struct step *s = ctx;
    s->is_done = true;
    s->status = reply->status;
    s->server = reply->server;
    (void)sv_copy_cstr(sv_is_present(reply->result) ? reply->result : SV("-"), s->result,
                       sizeof(s->result));
    (void)sv_copy_cstr(sv_is_present(reply->error_reason) ? reply->error_reason : SV("-"),
                       s->reason, sizeof(s->reason));
    (void)sv_copy_cstr(sv_is_present(reply->sdp) ? reply->sdp : SV(""), s->sdp, sizeof(s->sdp));
}

/* Sends `request` and runs the loop until it completes. */
static bool run_step(struct loop *loop, struct rtpengine *client,
                     const struct rtpengine_request *request, struct step *step)
{
    memset(step, 0, sizeof(*step));
    int rc = rtpengine_send(client, request, on_done, step, NULL);
    if (rc != 0) {
        (void)fprintf(stderr, "ng_probe: %s: %s\n", rtpengine_command_name(request->command),
                      sw_strerror(rc));
        return false;
    }
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (!step->is_done && sw_mono_ms() < end) {
        if (loop_run_once(loop, 20) < 0) {
            return false;
        }
    }
    return step->is_done;
}

/* Prints "<name> c=<addr> port=<port> proto=<proto> crypto=<n>" per m= line of `sdp`; false
 * when it does not parse. */
static bool print_media(const char *name, const char *sdp)
{
    struct sip_sdp parsed;
    struct sip_err err = { 0 };
    if (sip_sdp_parse(sv_from_cstr(sdp), &parsed, &err) != 0 || parsed.media_count == 0) {
        (void)printf("%s unparsable\n", name);
        return false;
    }
    for (size_t i = 0; i < parsed.media_count; i++) {
        const struct sip_sdp_conn *conn = sip_sdp_media_conn(&parsed, &parsed.media[i]);
        struct sv addr = conn != NULL ? conn->address : SV("none");
        (void)printf("%s c=" SV_FMT " port=%u proto=" SV_FMT " crypto=%zu\n", name, SV_ARG(addr),
                     (unsigned)parsed.media[i].port, SV_ARG(parsed.media[i].proto),
                     parsed.media[i].crypto_count);
    }
    return true;
}

static bool run_call(struct loop *loop, struct rtpengine *client)
{
    struct step step;
    struct rtpengine_request ping = { .command = RTPENGINE_PING, .server = RTPENGINE_ANY_SERVER };
    bool is_ok = run_step(loop, client, &ping, &step) && step.status == 0;
    (void)printf("ping %s\n", step.result);
    struct sv replace[2] = { SV("origin"), SV("session-connection") };
    struct rtpengine_request r = {
        .command = RTPENGINE_OFFER,
        .call_id = SV("ng-probe-call@127.0.0.1"),
        .from_tag = SV("pbx-tag"),
        .sdp = sv_make(offer_sdp, sizeof(offer_sdp) - 1),
        .options = { { .key = "ICE", .value = SV("remove") } },
        .option_count = 1,
        .lists = { { .key = "replace", .items = replace, .count = 2 } },
        .list_count = 1,
        .server = RTPENGINE_ANY_SERVER,
    };
    is_ok = is_ok && run_step(loop, client, &r, &step) && step.status == 0 &&
            print_media("offer", step.sdp);
    char offered[sizeof(step.sdp)];
    memcpy(offered, step.sdp, sizeof(offered));
    r.command = RTPENGINE_ANSWER;
    r.to_tag = SV("provider-tag");
    r.sdp = sv_make(answer_sdp, sizeof(answer_sdp) - 1);
    r.server = step.server;
    is_ok = is_ok && run_step(loop, client, &r, &step) && step.status == 0 &&
            print_media("answer", step.sdp);
    char answered[sizeof(step.sdp)];
    memcpy(answered, step.sdp, sizeof(answered));
    struct rtpengine_request q = {
        .command = RTPENGINE_QUERY, .call_id = r.call_id, .from_tag = r.from_tag, .server = r.server
    };
    is_ok = is_ok && run_step(loop, client, &q, &step) && step.status == 0;
    (void)printf("query %s\n", step.result);
    q.command = RTPENGINE_DELETE;
    is_ok = is_ok && run_step(loop, client, &q, &step) && step.status == 0;
    (void)printf("delete %s\n", step.result);
    q.command = RTPENGINE_QUERY;
    is_ok = is_ok && run_step(loop, client, &q, &step) && step.status == -EPROTO;
    (void)printf("query-after-delete %s %s\n", step.result, step.reason);
    (void)printf("--- offer sdp\n%s--- answer sdp\n%s", offered, answered);
    return is_ok;
}

static void on_anchored(void *ctx, int status, struct sv sdp)
{
    struct step *s = ctx;
    s->is_done = true;
    s->status = status;
    (void)sv_copy_cstr(sdp.ptr != NULL ? sdp : SV(""), s->sdp, sizeof(s->sdp));
}

/* Runs the loop until `step` is done. */
static bool wait_step(struct loop *loop, struct step *step)
{
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (!step->is_done && sw_mono_ms() < end) {
        if (loop_run_once(loop, 20) < 0) {
            return false;
        }
    }
    return step->is_done && step->status == 0;
}

static const char srtp_answer_sdp[] =
    "v=0\r\n"
    "o=provider 7 7 IN IP4 192.0.2.7\r\n"
    "s=call\r\n"
    "c=IN IP4 192.0.2.7\r\n"
    "t=0 0\r\n"
    "m=audio 7000 RTP/SAVP 0\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
    "a=sendrecv\r\n";

static bool run_anchored(struct loop *loop, struct rtpengine_settings *settings)
{
    struct anchor_settings as = { .engines = *settings };
    int err = 0;
    struct anchor *anchor = anchor_new(loop, &as, &err);
    if (anchor == NULL) {
        (void)fprintf(stderr, "ng_probe: %s\n", sw_strerror(err));
        return false;
    }
    struct anchor_session session;
    anchor_session_init(anchor, &session, SV("ng-probe-anchor@127.0.0.1"));
    struct step step = { 0 };
    struct anchor_leg to_provider = { .transport_protocol = SV("RTP/SAVP") };
    bool is_ok = anchor_offer(&session, ANCHOR_CALLER, sv_make(offer_sdp, sizeof(offer_sdp) - 1),
                              &to_provider, on_anchored, &step) == 0 &&
                 wait_step(loop, &step) && print_media("anchor-offer", step.sdp);
    char offered[sizeof(step.sdp)];
    memcpy(offered, step.sdp, sizeof(offered));
    memset(&step, 0, sizeof(step));
    struct anchor_leg to_pbx = { .transport_protocol = SV("RTP/AVP") };
    is_ok = is_ok &&
            anchor_answer(&session, ANCHOR_CALLEE,
                          sv_make(srtp_answer_sdp, sizeof(srtp_answer_sdp) - 1), &to_pbx,
                          on_anchored, &step) == 0 &&
            wait_step(loop, &step) && print_media("anchor-answer", step.sdp);
    char answered[sizeof(step.sdp)];
    memcpy(answered, step.sdp, sizeof(answered));
    size_t server = session.server;
    anchor_end(&session);
    /* Let the delete go out and its answer come back before asking. */
    uint64_t end = sw_mono_ms() + BUDGET_MS;
    while (rtpengine_pending(anchor_client(anchor)) > 0 && sw_mono_ms() < end) {
        (void)loop_run_once(loop, 20);
    }
    struct rtpengine_request q = { .command = RTPENGINE_QUERY,
                                   .call_id = SV("ng-probe-anchor@127.0.0.1"),
                                   .from_tag = SV("caller"),
                                   .server = server };
    is_ok = is_ok && run_step(loop, anchor_client(anchor), &q, &step) && step.status == -EPROTO;
    (void)printf("query-after-end %s %s\n", step.result, step.reason);
    (void)printf("--- anchor offer sdp\n%s--- anchor answer sdp\n%s", offered, answered);
    anchor_free(anchor);
    return is_ok;
}

#define BENCH_MAX 100000

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

static uint64_t percentile(uint64_t *values, size_t count, unsigned pct)
{
    qsort(values, count, sizeof(*values), compare_u64);
    size_t index = (count * pct + 99) / 100;
    return values[index == 0 ? 0 : index - 1];
}

/* One anchored call's offer and answer; their round trips in *offer_us and *answer_us. */
static bool bench_call(struct loop *loop, struct anchor *anchor, size_t n, uint64_t *offer_us,
                       uint64_t *answer_us)
{
    char call_id[64];
    int len = snprintf(call_id, sizeof(call_id), "ng-probe-bench-%zu@127.0.0.1", n);
    struct anchor_session session;
    anchor_session_init(anchor, &session, sv_make(call_id, (size_t)len));
    struct step step = { 0 };
    uint64_t start = sw_mono_us();
    bool is_ok = anchor_offer(&session, ANCHOR_CALLER, sv_make(offer_sdp, sizeof(offer_sdp) - 1),
                              NULL, on_anchored, &step) == 0 &&
                 wait_step(loop, &step);
    *offer_us = sw_mono_us() - start;
    memset(&step, 0, sizeof(step));
    start = sw_mono_us();
    is_ok = is_ok &&
            anchor_answer(&session, ANCHOR_CALLEE, sv_make(answer_sdp, sizeof(answer_sdp) - 1),
                          NULL, on_anchored, &step) == 0 &&
            wait_step(loop, &step);
    *answer_us = sw_mono_us() - start;
    anchor_end(&session);
    return is_ok;
}

static bool run_bench(struct loop *loop, struct rtpengine_settings *settings, size_t calls)
{
    struct anchor_settings as = { .engines = *settings };
    int err = 0;
    struct anchor *anchor = anchor_new(loop, &as, &err);
    uint64_t *offers = calloc(calls, sizeof(*offers));
    uint64_t *answers = calloc(calls, sizeof(*answers));
    bool is_ok = anchor != NULL && offers != NULL && answers != NULL;
    for (size_t i = 0; is_ok && i < calls; i++) {
        is_ok = bench_call(loop, anchor, i, &offers[i], &answers[i]);
        /* Let the delete go before the next call. */
        while (is_ok && rtpengine_pending(anchor_client(anchor)) > 0) {
            (void)loop_run_once(loop, 20);
        }
    }
    if (is_ok) {
        (void)printf("bench calls=%zu offer_us median=%llu p99=%llu answer_us median=%llu "
                     "p99=%llu\n",
                     calls, (unsigned long long)percentile(offers, calls, 50),
                     (unsigned long long)percentile(offers, calls, 99),
                     (unsigned long long)percentile(answers, calls, 50),
                     (unsigned long long)percentile(answers, calls, 99));
    }
    free(offers);
    free(answers);
    anchor_free(anchor);
    return is_ok;
}

int main(int argc, char **argv)
{
    bool is_anchor = argc == 3 && strcmp(argv[2], "anchor") == 0;
    bool is_bench = argc == 4 && strcmp(argv[2], "bench") == 0;
    size_t calls = is_bench ? strtoul(argv[3], NULL, 10) : 0;
    if ((argc != 2 && !is_anchor && !is_bench) || (is_bench && (calls == 0 || calls > BENCH_MAX))) {
        (void)fprintf(stderr, "usage: ng_probe NG_ADDR:PORT [anchor | bench CALLS]\n");
        return 2;
    }
    struct rtpengine_settings settings = { .server_count = 1, .retransmit_ms = 300 };
    if (!sw_sockaddr_parse(sv_from_cstr(argv[1]), 2223, &settings.servers[0].addr)) {
        (void)fprintf(stderr, "ng_probe: bad address %s\n", argv[1]);
        return 2;
    }
    struct loop *loop = loop_new(16, NULL, NULL);
    if (loop != NULL && is_bench) {
        bool is_benched = run_bench(loop, &settings, calls);
        loop_free(loop);
        return is_benched ? 0 : 1;
    }
    if (loop != NULL && is_anchor) {
        bool is_anchored = run_anchored(loop, &settings);
        loop_free(loop);
        return is_anchored ? 0 : 1;
    }
    int err = 0;
    struct rtpengine *client = loop == NULL ? NULL : rtpengine_new(loop, &settings, &err);
    if (client == NULL) {
        (void)fprintf(stderr, "ng_probe: %s\n", sw_strerror(err));
        loop_free(loop);
        return 1;
    }
    bool is_ok = run_call(loop, client);
    rtpengine_free(client);
    loop_free(loop);
    return is_ok ? 0 : 1;
}
