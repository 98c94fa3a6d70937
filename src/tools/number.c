#include "tools/number.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/sv.h"
#include "number/e164.h"
#include "number/highrisk.h"
#include "number/ratedeck.h"

#define EXIT_OK      0
#define EXIT_REFUSED 1
#define EXIT_USAGE   2

struct number_options {
    const char *number;
    const char *country;
    const char *ratedeck;
};

static void number_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden number NUMBER [--country CC] [--ratedeck FILE]\n"
                       "  CC: the home country for national forms (ISO code DE, or 49)\n");
}

static void ratedeck_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden ratedeck check FILE\n");
}

/* Returns 0, -1 after --help, or EXIT_USAGE. */
static int parse_number_options(int argc, char **argv, struct number_options *opts)
{
    static const struct option long_options[] = {
        { "country", required_argument, NULL, 'c' },
        { "ratedeck", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    optind = 0; /* GNU: full re-initialisation, so the command can be run twice in tests */
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "c:r:h", long_options, NULL)) != -1) {
        if (c == 'c') {
            opts->country = optarg;
        } else if (c == 'r') {
            opts->ratedeck = optarg;
        } else if (c == 'h') {
            number_usage(stdout);
            return -1;
        } else {
            number_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
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
    return rc;
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
