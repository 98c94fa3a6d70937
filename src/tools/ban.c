#include "tools/ban.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/diag.h"
#include "base/err.h"
#include "base/sv.h"
#include "config/config.h"
#include "tools/ctl_client.h"

#define BAN_REPLY_MAX ((size_t)1 << 20)

static void print_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden ban list [-c FILE | --socket PATH]\n"
                       "       sipwarden ban add ADDR [--time SECONDS|forever] [-c FILE | --socket "
                       "PATH]\n"
                       "       sipwarden ban del ADDR [-c FILE | --socket PATH]\n"
                       "Talks to the running daemon over its control socket ([general] "
                       "control_socket).\n");
}

static void format_time(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(out, cap, "%lld", (long long)t);
    }
}

/* One "ban <ip> <start> <end|never> <offence> <source> <reason>" line, as a table row. */
static bool print_row(const char *line, FILE *out)
{
    char ip[SW_ADDR_STRLEN];
    long long start = 0;
    char end[24];
    unsigned offence = 0;
    char source[16];
    char reason[128];
    if (sscanf(line, "ban %63s %lld %23s %u %15s %127s", ip, &start, end, &offence, source,
               reason) != 6) {
        return false;
    }
    char start_text[32];
    char end_text[32];
    format_time(start, start_text, sizeof(start_text));
    if (strcmp(end, "never") == 0) {
        (void)snprintf(end_text, sizeof(end_text), "never");
    } else {
        format_time(strtoll(end, NULL, 10), end_text, sizeof(end_text));
    }
    (void)fprintf(out, "%-39s %-20s %-20s %7u %-6s %s\n", ip, start_text, end_text, offence, source,
                  reason);
    return true;
}

size_t tools_ban_print_list(const char *reply, FILE *out)
{
    (void)fprintf(out, "%-39s %-20s %-20s %7s %-6s %s\n", "ADDRESS", "START", "END", "OFFENCE",
                  "SOURCE", "REASON");
    return tools_ctl_print_rows(reply, print_row, out);
}

/* Builds the request line from the positional arguments; false on a usage error. */
static bool build_request(int argc, char **argv, const char *time, char *out, size_t cap)
{
    if (argc < 1) {
        return false;
    }
    const char *verb = argv[0];
    struct sw_ip ip;
    bool has_ip = argc == 2 && sw_ip_parse(sv_from_cstr(argv[1]), &ip);
    if (strcmp(verb, "list") == 0 && argc == 1 && time == NULL) {
        (void)snprintf(out, cap, "list\n");
        return true;
    }
    if (strcmp(verb, "add") == 0 && has_ip) {
        (void)snprintf(out, cap, "add %s %s\n", argv[1], time != NULL ? time : "0");
        return true;
    }
    if (strcmp(verb, "del") == 0 && has_ip && time == NULL) {
        (void)snprintf(out, cap, "del %s\n", argv[1]);
        return true;
    }
    return false;
}

static bool time_is_valid(const char *time)
{
    uint32_t seconds;
    return time == NULL || strcmp(time, "forever") == 0 ||
           (sv_to_u32(sv_from_cstr(time), &seconds) && seconds > 0);
}

static int run_request(const char *path, const char *request, bool is_list)
{
    bool is_ok = false;
    char *reply = tools_ctl_request("ban", path, request, BAN_REPLY_MAX, &is_ok);
    if (reply == NULL) {
        return 1;
    }
    if (is_ok && is_list) {
        (void)tools_ban_print_list(reply, stdout);
    }
    sw_free(reply);
    return is_ok ? 0 : 1;
}

int tools_ban_main(int argc, char **argv)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 's' },
        { "time", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = NULL;
    const char *socket = NULL;
    const char *time = NULL;
    int opt;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        if (opt == 'c') {
            config = optarg;
        } else if (opt == 's') {
            socket = optarg;
        } else if (opt == 't') {
            time = optarg;
        } else if (opt == 'h') {
            print_usage(stdout);
            return 0;
        } else {
            print_usage(stderr);
            return 2;
        }
    }
    char request[128];
    if ((config != NULL && socket != NULL) || !time_is_valid(time) ||
        !build_request(argc - optind, argv + optind, time, request, sizeof(request))) {
        print_usage(stderr);
        return 2;
    }
    char *path = tools_ctl_socket_path(config, socket, "ban");
    if (path == NULL) {
        return 1;
    }
    int rc = run_request(path, request, strcmp(argv[optind], "list") == 0);
    sw_free(path);
    return rc;
}
