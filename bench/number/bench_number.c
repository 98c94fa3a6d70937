/*
 * Number-intelligence benchmark, one thread (one core): the whole per-call work of the
 * fraud checks on a dialled number, i.e. E.164 normalization (national, 00 and + forms),
 * classification (country and number class through the DFA tables), the high-risk list,
 * the rate-deck lookup in a generated 50,000-prefix deck and the cost of the call. Every
 * loop is bounded by a count and by a time limit.
 *
 *   bench_number [-n N] [-t SECONDS] [-p PREFIXES]
 *       defaults: N = 2000000 calls, 20 s at most, 50000 deck prefixes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "number/e164.h"
#include "number/highrisk.h"
#include "number/ratedeck.h"

#define NUMBER_COUNT 4096 /* distinct dialled strings, cycled */
#define NUMBER_LEN   32

/* Dialled forms: national (home DE), 00, + and separators; tails filled with digits. */
static const char *const templates[] = {
    "030########",  "0151########",    "+4989#######",   "0049-40-#######",
    "+1201555####", "00447400######",  "+33612######",   "+3906########",
    "+18765######", "0086138########", "+7912#######",   "+979########",
    "0800#######",  "+61412######",    "0090532#######", "+2348##########",
};

static uint64_t lcg_state = 0x2545f4914f6cdd1dULL;

static unsigned next_random(void)
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(lcg_state >> 33);
}

static double thread_cpu_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* always available on Linux */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A deck of `count` distinct prefixes: every calling code, then random extensions. */
static char *make_deck(unsigned count, size_t *len)
{
    size_t cap = (size_t)count * 48 + 256;
    char *text = sw_malloc(cap);
    if (text == NULL) {
        return NULL;
    }
    size_t used = (size_t)snprintf(text, cap,
                                   "currency,EUR\nprefix,rate_per_minute,connect_fee,"
                                   "first_increment_s,next_increment_s,label\n");
    for (unsigned i = 0; i < count; i++) {
        /* Rows 0..998 price the codes 1..999 (every number finds a rate); then a head of 1
         * to 3 digits and i in 5 digits: unique, since equal lengths mean equal heads. */
        unsigned rate = next_random() % 10000;
        unsigned fee = next_random() % 10;
        unsigned first = i % 2 == 0 ? 60 : 1;
        unsigned next = i % 3 == 0 ? 6 : 1;
        if (i < 999) {
            used += (size_t)snprintf(text + used, cap - used, "%u,0.%04u,0.0%u,%u,%u,r%u\n", i + 1,
                                     rate, fee, first, next, i);
        } else {
            used += (size_t)snprintf(text + used, cap - used, "%u%05u,0.%04u,0.0%u,%u,%u,r%u\n",
                                     1 + next_random() % 998, i, rate, fee, first, next, i);
        }
    }
    *len = used;
    return text;
}

static void make_numbers(char numbers[][NUMBER_LEN])
{
    size_t templates_count = sizeof(templates) / sizeof(templates[0]);
    for (unsigned i = 0; i < NUMBER_COUNT; i++) {
        const char *t = templates[i % templates_count];
        size_t n = strlen(t);
        for (size_t j = 0; j <= n; j++) {
            numbers[i][j] = t[j];
            if (t[j] == '#') {
                numbers[i][j] = "0123456789"[next_random() % 10];
            }
        }
    }
}

struct bench_ctx {
    const struct numplan_territory *home;
    const struct ratedeck *deck;
    const struct highrisk *highrisk;
    unsigned long refused;
    unsigned long unrated;
    unsigned long risky;
    int64_t cost;
};

/* The per-call work: normalize, classify, high-risk, rate, cost of a 95 s call. */
static void one_call(struct bench_ctx *ctx, const char *dialled)
{
    struct e164_number number;
    if (e164_normalize(sv_from_cstr(dialled), ctx->home, &number) != E164_OK) {
        ctx->refused++;
        return;
    }
    struct sv digits = e164_digits(&number);
    struct numplan_class cls;
    numplan_classify(digits, &cls);
    ctx->risky += highrisk_match(ctx->highrisk, digits) != NULL ? 1 : 0;
    const struct ratedeck_row *row = ratedeck_lookup(ctx->deck, digits);
    if (row == NULL) {
        ctx->unrated++;
        return;
    }
    ctx->cost += rate_cost(&row->rate, 95000) + (int64_t)cls.numclass;
}

int main(int argc, char **argv)
{
    unsigned long max_calls = 2000000;
    double max_s = 20;
    unsigned prefixes = 50000;
    int opt;
    while ((opt = getopt(argc, argv, "n:t:p:")) != -1) { /* NOLINT(concurrency-mt-unsafe) */
        if (opt == 'n') {
            max_calls = strtoul(optarg, NULL, 10);
        } else if (opt == 't') {
            max_s = strtod(optarg, NULL);
        } else if (opt == 'p') {
            prefixes = (unsigned)strtoul(optarg, NULL, 10);
        } else {
            (void)fprintf(stderr, "usage: bench_number [-n N] [-t SECONDS] [-p PREFIXES]\n");
            return 2;
        }
    }
    size_t len = 0;
    char *text = make_deck(prefixes, &len);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    double t0 = thread_cpu_s();
    if (text == NULL || ratedeck_parse(sv_make(text, len), "generated", &deck, &diag) != 0) {
        sw_diag_print(&diag, stderr);
        return 1;
    }
    double load_s = thread_cpu_s() - t0;
    sw_diag_fini(&diag);
    sw_free(text);
    static char numbers[NUMBER_COUNT][NUMBER_LEN];
    make_numbers(numbers);
    struct highrisk *list = highrisk_new(true);
    struct bench_ctx ctx = { .home = numplan_territory_by_iso(SV("DE")),
                             .deck = deck,
                             .highrisk = list };
    unsigned long calls = 0;
    t0 = thread_cpu_s();
    double elapsed = 0;
    while (calls < max_calls && elapsed < max_s) {
        for (unsigned i = 0; i < 1024; i++, calls++) {
            one_call(&ctx, numbers[calls % NUMBER_COUNT]);
        }
        elapsed = thread_cpu_s() - t0;
    }
    (void)printf("deck: %zu prefixes parsed in %.1f ms (CPU)\n", ratedeck_count(deck),
                 load_s * 1e3);
    (void)printf("calls: %lu in %.3f s CPU: %.1f ns per call (normalize + classify + "
                 "high-risk + rate + cost)\n",
                 calls, elapsed, elapsed * 1e9 / (double)calls);
    (void)printf("refused %lu, unrated %lu, high-risk %lu, checksum %lld\n", ctx.refused,
                 ctx.unrated, ctx.risky, (long long)ctx.cost);
    highrisk_free(list);
    ratedeck_free(deck);
    return 0;
}
