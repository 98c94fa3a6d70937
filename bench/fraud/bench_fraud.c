/*
 * Fraud-policy benchmark, one thread (one core): fraud_policy_judge() on outbound calls
 * from the PBX, i.e. what the fraud stage adds to each new call: emergency check, E.164
 * normalization and classification, Wangiri look-up, prefix rules, the high-risk list,
 * classes and countries, the rate-deck look-up in a generated deck and the velocity
 * counters and detectors of the trunk (the shared store's lock included). Every loop is
 * bounded by a count and by a time limit.
 *
 *   bench_fraud [-n N] [-t SECONDS] [-p PREFIXES]
 *       defaults: N = 1000000 calls, 20 s at most, 50000 deck prefixes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "config/config.h"
#include "policy/fraud.h"

#define NUMBER_COUNT 4096

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

static unsigned next_random(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)(seed >> 33);
}

static double cpu_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Writes a deck of `count` prefixes (every code of the plan, then 6-digit ones) to `path`. */
static int write_deck(const char *path, unsigned count)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    (void)fprintf(f, "currency,EUR\nprefix,rate_per_minute,connect_fee,first_increment_s,"
                     "next_increment_s,label\n");
    for (unsigned i = 1; i <= count; i++) {
        unsigned prefix = i < 1000 ? i : 100000 + i;
        (void)fprintf(f, "%u,0.%04u,0,60,60,p%u\n", prefix, next_random() % 2000, i);
    }
    return fclose(f) == 0 ? 0 : -1;
}

struct options {
    unsigned long max_calls;
    double max_s;
    unsigned prefixes;
};

static int parse_options(int argc, char **argv, struct options *o)
{
    int opt;
    while ((opt = getopt(argc, argv, "n:t:p:")) != -1) { /* NOLINT(concurrency-mt-unsafe) */
        if (opt == 'n') {
            o->max_calls = strtoul(optarg, NULL, 10);
        } else if (opt == 't') {
            o->max_s = strtod(optarg, NULL);
        } else if (opt == 'p') {
            o->prefixes = (unsigned)strtoul(optarg, NULL, 10);
        } else {
            (void)fprintf(stderr, "usage: bench_fraud [-n N] [-t SECONDS] [-p PREFIXES]\n");
            return 2;
        }
    }
    return 0;
}

/* The benchmark's configuration and policy, with a deck of `prefixes` rows; 1 on failure. */
static int make_policy(unsigned prefixes, struct cfg **cfg, struct fraud_policy **policy)
{
    char deck[] = "/tmp/bench-fraud-deck-XXXXXX";
    int fd = mkstemp(deck);
    if (fd < 0 || close(fd) != 0 || write_deck(deck, prefixes) != 0) {
        (void)fprintf(stderr, "bench_fraud: cannot write the deck\n");
        return 1;
    }
    char conf[512];
    (void)snprintf(conf, sizeof(conf),
                   "[pbx]\naddress = udp:127.0.0.1:5090\n[provider]\ntype = trunk\n"
                   "provider = udp:192.0.2.10:5060\ncountry_code = 49\n"
                   "[fraud]\nallowed_countries = *\nratedeck = %s\n"
                   "max_rate_per_minute = 0.15\npatterns = warn\n"
                   "international_per_hour_block = 0\ndestinations_per_hour_block = 0\n",
                   deck);
    struct sw_diag diag;
    sw_diag_init(&diag);
    *cfg = cfg_load_string("bench.conf", conf, &diag);
    *policy = *cfg != NULL ? fraud_policy_new(*cfg, &diag) : NULL;
    (void)unlink(deck);
    if (*policy == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    return *policy == NULL ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct options o = { .max_calls = 1000000, .max_s = 20, .prefixes = 50000 };
    struct cfg *cfg = NULL;
    struct fraud_policy *policy = NULL;
    if (parse_options(argc, argv, &o) != 0) {
        return 2;
    }
    if (make_policy(o.prefixes, &cfg, &policy) != 0) {
        cfg_free(cfg);
        return 1;
    }
    static char numbers[NUMBER_COUNT][24];
    static const char *const heads[] = { "030",      "0151",    "+4989", "+33612",
                                         "+1201555", "+447400", "+3906", "+979" };
    for (unsigned i = 0; i < NUMBER_COUNT; i++) {
        (void)snprintf(numbers[i], sizeof(numbers[i]), "%s%07u", heads[i % 8],
                       next_random() % 10000000u);
    }
    unsigned long calls = 0;
    unsigned long refused = 0;
    double t0 = cpu_s();
    double elapsed = 0;
    while (calls < o.max_calls && elapsed < o.max_s) {
        for (unsigned i = 0; i < 1024; i++, calls++) {
            struct fraud_call call = { .dialled = sv_from_cstr(numbers[calls % NUMBER_COUNT]),
                                       .trunk = 0,
                                       .account = SIZE_MAX,
                                       .now_ms = (int64_t)(calls * 10),
                                       .wall_s = 1796644800 };
            struct fraud_decision d;
            fraud_policy_judge(policy, cfg, &call, &d);
            refused += d.outcome == FRAUD_REFUSE ? 1u : 0u;
        }
        elapsed = cpu_s() - t0;
    }
    (void)printf("calls: %lu in %.3f s CPU: %.1f ns per call (the fraud stage's judgement, "
                 "%u-prefix deck, velocity on); refused %lu\n",
                 calls, elapsed, elapsed * 1e9 / (double)calls, o.prefixes, refused);
    fraud_policy_free(policy);
    cfg_free(cfg);
    return 0;
}
