/*
 * Parser benchmark: a typical INVITE with SDP and a REGISTER with Authorization, each
 * parsed N times by sipwarden and by libosip2 (osip_message_parse, which parses the
 * proxy headers eagerly). sipwarden's side does what the gateway does with every
 * message (src/gateway/gateway_msg.c: sip_msg_parse + sip_msg_validate; the sanity
 * stage: sip_check_semantics) and then reads the accessors a proxy needs (top Via,
 * From, To, Call-ID, CSeq, Max-Forwards, Contact). One core, one thread; reports
 * messages/s and the ratio.
 *
 *   bench_parser [-n N] [--only sw|osip] [--msg invite|register]
 *
 * --only/--msg run one loop, for callgrind (bench/parser/run.sh counts instructions
 * with --toggle-collect on the *_loop functions).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "sip/check.h"
#include "sip/msg.h"

#ifdef SW_BENCH_HAVE_OSIP
#include <osipparser2/osip_parser.h>
#endif

static const char invite_msg[] =
    "INVITE sip:+15551234567@trunk.example.net;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK-524287-1---a2bd0f7d;rport\r\n"
    "Max-Forwards: 70\r\n"
    "Contact: <sip:1001@203.0.113.10:5060;transport=udp>\r\n"
    "To: <sip:+15551234567@trunk.example.net;user=phone>\r\n"
    "From: \"Alice\" <sip:1001@pbx.example.org>;tag=9b5f1e2a\r\n"
    "Call-ID: 3c26700c-7d2a-4a9b-9a8c-1f1b2d3e4f50\r\n"
    "CSeq: 1 INVITE\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "P-Asserted-Identity: <sip:+15550001001@pbx.example.org>\r\n"
    "User-Agent: PBX 18.0\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 240\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 20518 0 IN IP4 203.0.113.10\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.10\r\n"
    "t=0 0\r\n"
    "m=audio 10000 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=maxptime:150\r\n"
    "a=sendrecv\r\n";

static const char register_msg[] =
    "REGISTER sip:pbx.example.org SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: \"1001\" <sip:1001@pbx.example.org>\r\n"
    "From: \"1001\" <sip:1001@pbx.example.org>;tag=a73kszlfl\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@198.51.100.7\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:1001@198.51.100.7:5060>;expires=3600\r\n"
    "Authorization: Digest username=\"1001\", realm=\"pbx.example.org\", "
    "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:pbx.example.org\", "
    "response=\"dfe56131d1958046689d83306477ecc0\", algorithm=MD5, cnonce=\"0a4f113b\", "
    "qop=auth, nc=00000001\r\n"
    "Expires: 3600\r\n"
    "User-Agent: softphone/1.0\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

static double now_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the gateway's message path always runs: parse, validate, the sanity stage's
 * semantic rules (a proxy's, for a request). False when the message would not pass. */
static bool sw_check(struct sip_msg *msg, struct sip_err *err)
{
    if (sip_msg_validate(msg, err) != 0) {
        return false;
    }
    struct sip_check_cfg check = { .role = SIP_ROLE_PROXY };
    struct sip_check_result result;
    return sip_check_semantics(msg, &check, &result) == 0 && result.action == SIP_ACTION_PROCEED;
}

/* Parse + checks + the proxy's accessors. Returns the number of messages that failed. */
__attribute__((noinline)) static unsigned long sw_loop(const char *text, size_t len,
                                                       unsigned long n, struct arena *arena)
{
    struct sip_limits limits;
    sip_limits_default(&limits);
    unsigned long failed = 0;
    for (unsigned long i = 0; i < n; i++) {
        struct sip_msg msg;
        struct sip_err err;
        arena_reset(arena);
        if (sip_msg_parse(sv_make(text, len), false, &limits, arena, &msg, &err) != 0 ||
            !sw_check(&msg, &err)) {
            failed++;
            continue;
        }
        struct sip_contact contacts[4];
        size_t count = 0;
        bool is_star = false;
        uint32_t max_forwards = 0;
        bool is_ok = sip_msg_top_via(&msg, &err) != NULL && sip_msg_from(&msg, &err) != NULL &&
                     sip_msg_to(&msg, &err) != NULL && sip_msg_call_id(&msg).len > 0 &&
                     sip_msg_cseq(&msg, &err) != NULL &&
                     sip_msg_max_forwards(&msg, &max_forwards) == 0 &&
                     sip_msg_contacts(&msg, contacts, 4, &count, &is_star, &err) == 0;
        failed += is_ok ? 0 : 1;
    }
    return failed;
}

#ifdef SW_BENCH_HAVE_OSIP
__attribute__((noinline)) static unsigned long osip_loop(const char *text, size_t len,
                                                         unsigned long n)
{
    unsigned long failed = 0;
    for (unsigned long i = 0; i < n; i++) {
        osip_message_t *sip = NULL;
        if (osip_message_init(&sip) != 0) {
            failed++;
            continue;
        }
        if (osip_message_parse(sip, text, len) != 0) {
            failed++;
        } else {
            osip_via_t *via = NULL;
            osip_header_t *max_forwards = NULL;
            osip_contact_t *contact = NULL;
            bool is_ok = osip_message_get_via(sip, 0, &via) >= 0 &&
                         osip_message_get_from(sip) != NULL && osip_message_get_to(sip) != NULL &&
                         osip_message_get_call_id(sip) != NULL &&
                         osip_message_get_cseq(sip) != NULL &&
                         osip_message_get_max_forwards(sip, 0, &max_forwards) >= 0 &&
                         osip_message_get_contact(sip, 0, &contact) >= 0;
            failed += is_ok ? 0 : 1;
        }
        osip_message_free(sip);
    }
    return failed;
}
#endif

struct bench_msg {
    const char *name;
    const char *text;
};

static const struct bench_msg messages[] = {
    { "invite", invite_msg },
    { "register", register_msg },
};

static double run_one(const char *parser, const struct bench_msg *m, unsigned long n,
                      struct arena *arena)
{
    size_t len = strlen(m->text);
    unsigned long failed = 0;
    double start = now_s();
    if (strcmp(parser, "sw") == 0) {
        failed = sw_loop(m->text, len, n, arena);
    }
#ifdef SW_BENCH_HAVE_OSIP
    else {
        failed = osip_loop(m->text, len, n);
    }
#endif
    double elapsed = now_s() - start;
    if (failed != 0) {
        (void)fprintf(stderr, "bench_parser: %s failed on %lu %s messages\n", parser, failed,
                      m->name);
        return -1;
    }
    return elapsed > 0 ? (double)n / elapsed : 0;
}

struct options {
    unsigned long n;
    const char *only;     /* "sw", "osip" or NULL for both */
    const char *only_msg; /* a message name or NULL for all */
};

static bool options_parse(int argc, char **argv, struct options *opt)
{
    *opt = (struct options){ .n = 1000000 };
    for (int i = 1; i < argc; i++) {
        bool has_value = i + 1 < argc;
        if (strcmp(argv[i], "-n") == 0 && has_value) {
            opt->n = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--only") == 0 && has_value) {
            opt->only = argv[++i];
        } else if (strcmp(argv[i], "--msg") == 0 && has_value) {
            opt->only_msg = argv[++i];
        } else {
            return false;
        }
    }
    return opt->n > 0 && opt->n <= 100000000UL;
}

/* Runs the selected parsers on `m` and prints one line; false when a parser failed. */
static bool bench_message(const struct options *opt, const struct bench_msg *m, struct arena *arena)
{
    double sw_rate = 0;
    double osip_rate = 0;
    if (opt->only == NULL || strcmp(opt->only, "sw") == 0) {
        sw_rate = run_one("sw", m, opt->n, arena);
    }
#ifdef SW_BENCH_HAVE_OSIP
    if (opt->only == NULL || strcmp(opt->only, "osip") == 0) {
        osip_rate = run_one("osip", m, opt->n, arena);
    }
#endif
    if (sw_rate < 0 || osip_rate < 0) {
        return false;
    }
    (void)printf("%-9s %4zu bytes  sipwarden %12.0f msg/s   libosip2 %12.0f msg/s   ratio %6.1fx\n",
                 m->name, strlen(m->text), sw_rate, osip_rate,
                 osip_rate > 0 ? sw_rate / osip_rate : 0.0);
    return true;
}

int main(int argc, char **argv)
{
    struct options opt;
    if (!options_parse(argc, argv, &opt)) {
        (void)fprintf(stderr, "usage: bench_parser [-n N (1..100000000)] [--only sw|osip] "
                              "[--msg invite|register]\n");
        return 2;
    }
    struct arena *arena = arena_new((size_t)64 * 1024);
    if (arena == NULL) {
        return 1;
    }
#ifdef SW_BENCH_HAVE_OSIP
    parser_init();
#endif
    int rc = 0;
    for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]) && rc == 0; i++) {
        if (opt.only_msg != NULL && strcmp(opt.only_msg, messages[i].name) != 0) {
            continue;
        }
        rc = bench_message(&opt, &messages[i], arena) ? 0 : 1;
    }
    arena_free(arena);
    return rc;
}
