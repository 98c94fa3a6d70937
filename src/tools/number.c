#include "tools/number.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/sv.h"
#include "base/time.h"
#include "config/config.h"
#include "number/e164.h"
#include "number/highrisk.h"
#include "number/ratedeck.h"
#include "policy/fraud.h"

#define EXIT_OK      0
#define EXIT_REFUSED 1
#define EXIT_USAGE   2

struct number_options {
    const char *number;
    const char *country;
    const char *ratedeck;
    const char *config;  /* -c: judge with this configuration's fraud policy */
    const char *account; /* --account: as this account's call */
    const char *trunk;   /* --trunk: as the PBX's call through this trunk */
};

static void number_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden number NUMBER [--country CC] [--ratedeck FILE]\n"
                       "       sipwarden number NUMBER -c FILE [--account A | --trunk T]\n"
                       "  CC: the home country for national forms (ISO code DE, or 49)\n"
                       "  -c: also print the verdict of FILE's fraud policy for the call\n");
}

static void ratedeck_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden ratedeck check FILE\n");
}

/* Returns 0, -1 after --help, or EXIT_USAGE. */
static int parse_number_options(int argc, char **argv, struct number_options *opts)
{
    static const struct option long_options[] = {
        { "country", required_argument, NULL, 'C' },
        { "ratedeck", required_argument, NULL, 'r' },
        { "config", required_argument, NULL, 'c' },
        { "account", required_argument, NULL, 'a' },
        { "trunk", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    optind = 0; /* GNU: full re-initialisation, so the command can be run twice in tests */
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "c:r:h", long_options, NULL)) != -1) {
        if (c == 'C') {
            opts->country = optarg;
        } else if (c == 'r') {
            opts->ratedeck = optarg;
        } else if (c == 'c') {
            opts->config = optarg;
        } else if (c == 'a') {
            opts->account = optarg;
        } else if (c == 't') {
            opts->trunk = optarg;
        } else if (c == 'h') {
            number_usage(stdout);
            return -1;
        } else {
            number_usage(stderr);
            return EXIT_USAGE;
        }
    }
    bool is_policy_bad = (opts->account != NULL || opts->trunk != NULL) && opts->config == NULL;
    if (optind != argc - 1 || is_policy_bad || (opts->account != NULL && opts->trunk != NULL)) {
        number_usage(stderr);
        return EXIT_USAGE;
    }
    opts->number = argv[optind];
    return 0;
}

static const struct numplan_territory *home_of(const char *country)
{
    struct sv text = sv_from_cstr(country);
    if (text.len > 0 && text.ptr[0] >= '0' && text.ptr[0] <= '9') {
        return numplan_territory_by_code(text);
    }
    return numplan_territory_by_iso(text);
}

static void print_highrisk(struct sv digits)
{
    struct highrisk *list = highrisk_new(true);
    const struct highrisk_entry *hit = list != NULL ? highrisk_match(list, digits) : NULL;
    if (list == NULL) {
        (void)printf("high-risk: unknown (out of memory)\n");
    } else if (hit == NULL) {
        (void)printf("high-risk: no\n");
    } else {
        (void)printf("high-risk: yes, prefix +%s (%s) lists %s\n", hit->prefix,
                     hit->builtin != NULL ? hit->builtin->name : "operator", hit->list_id);
    }
    highrisk_free(list);
}

static void print_rate(const struct ratedeck *deck, struct sv digits)
{
    const struct ratedeck_row *row = ratedeck_lookup(deck, digits);
    if (row == NULL) {
        (void)printf("rate:      unrated (no prefix of the deck matches)\n");
        return;
    }
    char rate[MONEY_FORMAT_CAP];
    char fee[MONEY_FORMAT_CAP];
    (void)printf(
        "rate:      %s %s/min, connect %s, increments %u/%u s, prefix +%s%s%s\n",
        money_format(row->rate.per_minute_micro, rate, sizeof(rate)), ratedeck_currency(deck),
        money_format(row->rate.connect_fee_micro, fee, sizeof(fee)), row->rate.first_increment_s,
        row->rate.next_increment_s, row->prefix, row->label[0] != '\0' ? " " : "", row->label);
}

static int describe(const struct number_options *opts, const struct numplan_territory *home,
                    const struct ratedeck *deck)
{
    struct e164_number number;
    enum e164_status status = e164_normalize(sv_from_cstr(opts->number), home, &number);
    if (status != E164_OK) {
        (void)printf("refused:   %s (the gateway answers %d)\n", e164_status_text(status),
                     e164_status_sip(status));
        return EXIT_REFUSED;
    }
    struct numplan_class cls;
    numplan_classify(e164_digits(&number), &cls);
    (void)printf("number:    +%s%s\n", number.digits,
                 number.was_national ? " (dialled in national form)" : "");
    if (cls.territory != NULL) {
        (void)printf("country:   %s %s (+%s)\n", cls.territory->iso, cls.territory->name,
                     cls.territory->calling_code);
    }
    (void)printf("class:     %s\n", numclass_name(cls.numclass));
    print_highrisk(e164_digits(&number));
    if (deck != NULL) {
        print_rate(deck, e164_digits(&number));
    }
    return EXIT_OK;
}

/* The trunk a call leaves through: --trunk, else the default trunk. SIZE_MAX: none. */
static size_t trunk_index(const struct cfg *cfg, const char *name)
{
    if (name == NULL) {
        return cfg->default_trunk_index;
    }
    const struct cfg_trunk *trunk = cfg_trunk_find(cfg, sv_from_cstr(name));
    return trunk != NULL ? (size_t)(trunk - cfg->trunks) : SIZE_MAX;
}

static void print_verdict(const struct fraud_decision *d)
{
    if (d->outcome == FRAUD_NOT_JUDGED) {
        (void)printf(
            "verdict:   passes unjudged (an account's call to no number goes to the PBX)\n");
    } else if (d->outcome == FRAUD_REFUSE) {
        (void)printf("verdict:   refused %u (%s)\n", d->status, d->rule);
    } else if (d->is_emergency) {
        (void)printf("verdict:   passes (emergency number)\n");
    } else {
        (void)printf("verdict:   passes%s%s%s\n", d->warn[0] != '\0' ? " with a warning (" : "",
                     d->warn, d->warn[0] != '\0' ? ")" : "");
    }
}

/* The verdict of the configuration's fraud policy, velocity aside (nothing is counted). */
static int judge_with_config(const struct number_options *opts)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_file(opts->config, &diag);
    struct fraud_policy *policy = cfg != NULL ? fraud_policy_new(cfg, &diag) : NULL;
    if (policy == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    const struct cfg_account *account = cfg != NULL && opts->account != NULL
                                            ? cfg_account_find(cfg, sv_from_cstr(opts->account))
                                            : NULL;
    size_t trunk = cfg != NULL ? trunk_index(cfg, opts->trunk) : SIZE_MAX;
    int rc = EXIT_USAGE;
    if (policy != NULL && (opts->account == NULL || account != NULL) &&
        (opts->trunk == NULL || trunk != SIZE_MAX)) {
        struct fraud_call call = {
            .dialled = sv_from_cstr(opts->number),
            .trunk = trunk,
            .account = account != NULL ? (size_t)(account - cfg->accounts) : SIZE_MAX,
            .now_ms = (int64_t)sw_mono_ms(),
            .wall_s = sw_wall_s(),
            .is_dry_run = true,
        };
        struct fraud_decision d;
        fraud_policy_judge(policy, cfg, &call, &d);
        print_verdict(&d);
        rc = d.outcome == FRAUD_REFUSE ? EXIT_REFUSED : EXIT_OK;
    } else if (policy != NULL) {
        (void)fprintf(stderr, "sipwarden number: no %s '%s' in %s\n",
                      opts->account != NULL ? "account" : "trunk",
                      opts->account != NULL ? opts->account : opts->trunk, opts->config);
    }
    fraud_policy_free(policy);
    cfg_free(cfg);
    return rc;
}

/* The home country of the configuration's trunk (--trunk or the default), or NULL. */
static const struct numplan_territory *config_home(const struct number_options *opts)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_file(opts->config, &diag);
    sw_diag_fini(&diag); /* judge_with_config reports the problems */
    const struct numplan_territory *home = NULL;
    size_t trunk = cfg != NULL ? trunk_index(cfg, opts->trunk) : SIZE_MAX;
    if (cfg != NULL && trunk < cfg->trunk_count && cfg->trunks[trunk].country_code != NULL) {
        home = numplan_territory_by_code(sv_from_cstr(cfg->trunks[trunk].country_code));
    }
    cfg_free(cfg);
    return home;
}

int tools_number_main(int argc, char **argv)
{
    struct number_options opts = { 0 };
    int rc = parse_number_options(argc, argv, &opts);
    if (rc != 0) {
        return rc < 0 ? EXIT_OK : rc;
    }
    const struct numplan_territory *home = NULL;
    if (opts.country != NULL && (home = home_of(opts.country)) == NULL) {
        (void)fprintf(stderr, "sipwarden number: unknown country '%s'\n", opts.country);
        return EXIT_USAGE;
    }
    if (opts.config != NULL && opts.country == NULL) {
        home = config_home(&opts);
    }
    struct ratedeck *deck = NULL;
    if (opts.ratedeck != NULL) {
        struct sw_diag diag;
        sw_diag_init(&diag);
        rc = ratedeck_load(opts.ratedeck, &deck, &diag);
        sw_diag_print(&diag, stderr);
        sw_diag_fini(&diag);
        if (rc != 0) {
            return EXIT_USAGE;
        }
    }
    rc = describe(&opts, home, deck);
    ratedeck_free(deck);
    /* With a configuration the policy's verdict decides the exit status (it reads national
     * forms with the trunk's country_code, whatever --country said). */
    return opts.config == NULL ? rc : judge_with_config(&opts);
}

int tools_ratedeck_main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        ratedeck_usage(stdout);
        return EXIT_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        ratedeck_usage(stderr);
        return EXIT_USAGE;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    int rc = ratedeck_load(argv[2], &deck, &diag);
    sw_diag_print(&diag, stderr);
    sw_diag_fini(&diag);
    if (rc != 0) {
        return EXIT_REFUSED;
    }
    (void)printf("%s: %zu rates in %s\n", argv[2], ratedeck_count(deck), ratedeck_currency(deck));
    ratedeck_free(deck);
    return EXIT_OK;
}
