#include "tools/spend.h"

#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "number/money.h"
#include "number/spend.h"
#include "obs/spendjson.h"
#include "state/spendstore.h"
#include "tools/ctl_client.h"

#define SPEND_REPLY_MAX ((size_t)1 << 20)

/*
 * One "budget <key> <today> <month> <live> <daily> <monthly> <answered> <ringing> <in_ms>
 * [<cluster_today> <grant>]" (a daemon before clusters shared spend sends no cluster part)
 * into `v`, the crossing counted from 0.
 */
static bool parse_line(const char *line, struct spend_view *v)
{
    long long amounts[5];
    long long crossing_in_ms = -1;
    long long cluster[2] = { -1, -1 };
    memset(v, 0, sizeof(*v));
    int n = sscanf(line, "budget %71s %lld %lld %lld %lld %lld %u %u %lld %lld %lld", v->key,
                   &amounts[0], &amounts[1], &amounts[2], &amounts[3], &amounts[4], &v->answered,
                   &v->ringing, &crossing_in_ms, &cluster[0], &cluster[1]);
    v->day_micro = amounts[0];
    v->month_micro = amounts[1];
    v->live_micro = amounts[2];
    v->caps.daily_micro = amounts[3];
    v->caps.monthly_micro = amounts[4];
    v->crossing_ms = crossing_in_ms >= 0 ? crossing_in_ms : SPEND_NEVER;
    v->cluster_day_micro = cluster[0];
    v->cluster_month_micro = -1;
    v->grant_micro = cluster[1];
    return n == 9 || n == 11;
}

/* An amount, or "-" for a cap of 0 (none) when `is_cap`. */
static const char *amount(int64_t micro, bool is_cap, char *buf, size_t cap)
{
    if (is_cap && micro == 0) {
        return "-";
    }
    return money_format(micro, buf, cap);
}

static bool print_row(const char *line, FILE *out)
{
    struct spend_view v;
    if (!parse_line(line, &v)) {
        return false;
    }
    char text[5][MONEY_FORMAT_CAP];
    char crossing[32] = "-";
    if (v.crossing_ms != SPEND_NEVER) {
        (void)snprintf(crossing, sizeof(crossing), "in %lld.%03lld s",
                       (long long)(v.crossing_ms / 1000), (long long)(v.crossing_ms % 1000));
    }
    (void)fprintf(out, "%-24s %12s %12s %12s %12s %12s %4u/%-4u %s\n", v.key,
                  amount(v.day_micro, false, text[0], sizeof(text[0])),
                  amount(v.month_micro, false, text[1], sizeof(text[1])),
                  amount(v.live_micro, false, text[2], sizeof(text[2])),
                  amount(v.caps.daily_micro, true, text[3], sizeof(text[3])),
                  amount(v.caps.monthly_micro, true, text[4], sizeof(text[4])), v.answered,
                  v.ringing, crossing);
    return true;
}

static size_t print_json(const char *reply, FILE *out)
{
    json_t *array = json_array();
    size_t count = 0;
    for (const char *line = reply; array != NULL && line != NULL && *line != '\0';) {
        struct spend_view v;
        if (parse_line(line, &v) &&
            json_array_append_new(array, spendjson_budget(&v, 0, true)) == 0) {
            count++;
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    char *text = array != NULL ? json_dumps(array, JSON_INDENT(2)) : NULL;
    (void)fprintf(out, "%s\n", text != NULL ? text : "[]");
    free(text); /* jansson's allocation */
    json_decref(array);
    return count;
}

size_t tools_spend_print(const char *reply, bool is_json, FILE *out)
{
    if (is_json) {
        return print_json(reply, out);
    }
    (void)fprintf(out, "%-24s %12s %12s %12s %12s %12s %9s %s\n", "BUDGET", "TODAY", "MONTH",
                  "LIVE", "DAILY_CAP", "MONTHLY_CAP", "ANS/RING", "CROSSING");
    return tools_ctl_print_rows(reply, print_row, out);
}

static void print_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden spend [--account A | --trunk T] [--json] "
                       "[-c FILE | --socket PATH]\n"
                       "Shows the spending caps' budgets of the running daemon over its "
                       "control socket ([general] control_socket).\n");
}

/* The parsed command line; false on a usage error (or --help: *is_help). */
struct spend_args {
    const char *config;
    const char *socket;
    const char *account;
    const char *trunk;
    bool is_json;
    bool is_help;
};

static bool parse_args(int argc, char **argv, struct spend_args *args)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 's' },
        { "account", required_argument, NULL, 'a' },
        { "trunk", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    int opt;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == 'c' || opt == 's') {
            *(opt == 'c' ? &args->config : &args->socket) = optarg;
        } else if (opt == 'a' || opt == 't') {
            *(opt == 'a' ? &args->account : &args->trunk) = optarg;
        } else if (opt == 'j') {
            args->is_json = true;
        } else {
            args->is_help = opt == 'h';
            return false;
        }
    }
    const char *name = args->account != NULL ? args->account : args->trunk;
    return optind == argc && !(args->account != NULL && args->trunk != NULL) &&
           !(args->config != NULL && args->socket != NULL) &&
           (name == NULL ||
            (name[0] != '\0' && strlen(name) < 64 && strpbrk(name, " \t\r\n") == NULL));
}

int tools_spend_main(int argc, char **argv)
{
    struct spend_args args = { 0 };
    if (!parse_args(argc, argv, &args)) {
        print_usage(args.is_help ? stdout : stderr);
        return args.is_help ? 0 : 2;
    }
    char request[128] = "spend\n";
    if (args.account != NULL || args.trunk != NULL) {
        (void)snprintf(request, sizeof(request), "spend %s %s\n",
                       args.account != NULL ? "account" : "trunk",
                       args.account != NULL ? args.account : args.trunk);
    }
    char *path = tools_ctl_socket_path(args.config, args.socket, "spend");
    if (path == NULL) {
        return 1;
    }
    bool is_ok = false;
    char *reply = tools_ctl_request("spend", path, request, SPEND_REPLY_MAX, &is_ok);
    sw_free(path);
    if (reply == NULL) {
        return 1;
    }
    if (is_ok) {
        (void)tools_spend_print(reply, args.is_json, stdout);
    }
    sw_free(reply);
    return is_ok ? 0 : 1;
}
