#include "tools/calls.h"

#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "obs/cdr.h"
#include "tools/ctl_client.h"

#define CALLS_REPLY_MAX ((size_t)4 << 20)

static void print_usage(FILE *out)
{
    (void)fprintf(
        out, "usage: sipwarden calls list [--account A | --trunk T] [-c FILE | --socket PATH]\n"
             "       sipwarden calls kill ID | --account A | --trunk T [-c FILE | --socket "
             "PATH]\n"
             "Talks to the running daemon over its control socket ([general] "
             "control_socket).\n");
}

/* One "call <id> <state> <account> <trunk> <src> <caller> <dialled> <setup_s> <answer_s>". */
static bool print_row(const char *line, FILE *out)
{
    char id[64];
    char state[16];
    char account[64];
    char trunk[64];
    char src[64];
    char caller[64];
    char dialled[64];
    unsigned long long setup_s = 0;
    unsigned long long answer_s = 0;
    if (sscanf(line, "call %63s %15s %63s %63s %63s %63s %63s %llu %llu", id, state, account, trunk,
               src, caller, dialled, &setup_s, &answer_s) != 9) {
        return false;
    }
    char setup[32];
    char answer[32];
    cdr_format_time(setup_s * 1000000u, setup, sizeof(setup));
    cdr_format_time(answer_s * 1000000u, answer, sizeof(answer));
    (void)fprintf(out, "%-34s %-8s %-12s %-12s %-21s %-16s %-16s %-19s %s\n", id, state, account,
                  trunk, src, caller, dialled, setup, answer[0] != '\0' ? answer : "-");
    return true;
}

size_t tools_calls_print_list(const char *reply, FILE *out)
{
    (void)fprintf(out, "%-34s %-8s %-12s %-12s %-21s %-16s %-16s %-19s %s\n", "ID", "STATE",
                  "ACCOUNT", "TRUNK", "SOURCE", "CALLER", "DIALLED", "SETUP", "ANSWER");
    return tools_ctl_print_rows(reply, print_row, out);
}

struct calls_args {
    const char *config;
    const char *socket;
    const char *account;
    const char *trunk;
};

/* A name the daemon's one-line protocol carries as one word. */
static bool is_word(const char *text)
{
    size_t len = strlen(text);
    return len > 0 && len < 64 && strpbrk(text, " \t\r\n") == NULL;
}

/* Builds the request line; false on a usage error. */
static bool build_request(int argc, char **argv, const struct calls_args *args, char *out,
                          size_t cap)
{
    if (argc < 1 || (args->account != NULL && args->trunk != NULL) ||
        (args->config != NULL && args->socket != NULL)) {
        return false;
    }
    const char *key = args->account != NULL ? "account" : "trunk";
    const char *value = args->account != NULL ? args->account : args->trunk;
    bool is_list = strcmp(argv[0], "list") == 0;
    if (strcmp(argv[0], "kill") == 0 && argc == 2 && value == NULL && is_word(argv[1])) {
        (void)snprintf(out, cap, "calls kill id %s\n", argv[1]);
        return true;
    }
    if ((is_list || strcmp(argv[0], "kill") == 0) && argc == 1 && value != NULL && is_word(value)) {
        (void)snprintf(out, cap, "calls %s %s %s\n", argv[0], key, value);
        return true;
    }
    if (is_list && argc == 1 && value == NULL) {
        (void)snprintf(out, cap, "calls list\n");
        return true;
    }
    return false;
}

static int run_request(const char *path, const char *request, bool is_list)
{
    bool is_ok = false;
    char *reply = tools_ctl_request("calls", path, request, CALLS_REPLY_MAX, &is_ok);
    if (reply == NULL) {
        return 1;
    }
    if (is_ok && is_list) {
        (void)tools_calls_print_list(reply, stdout);
    } else if (is_ok) {
        const char *killed = strstr(reply, "killed ");
        (void)fprintf(stdout, "%.*s", killed != NULL ? (int)strcspn(killed, "\n") + 1 : 0,
                      killed != NULL ? killed : "");
    }
    sw_free(reply);
    return is_ok ? 0 : 1;
}

static const char **option_slot(struct calls_args *args, int opt)
{
    switch (opt) {
    case 'c':
        return &args->config;
    case 's':
        return &args->socket;
    case 'a':
        return &args->account;
    case 't':
        return &args->trunk;
    default:
        return NULL;
    }
}

int tools_calls_main(int argc, char **argv)
{
    static const struct option options[] = {
        { "config", required_argument, NULL, 'c' },  { "socket", required_argument, NULL, 's' },
        { "account", required_argument, NULL, 'a' }, { "trunk", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 },
    };
    struct calls_args args = { 0 };
    int opt;
    optind = 0; /* GNU: full re-initialisation, so the command can run twice in tests */
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((opt = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        const char **slot = option_slot(&args, opt);
        if (slot != NULL) {
            *slot = optarg;
        } else {
            print_usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    char request[160];
    if (!build_request(argc - optind, argv + optind, &args, request, sizeof(request))) {
        print_usage(stderr);
        return 2;
    }
    char *path = tools_ctl_socket_path(args.config, args.socket, "calls");
    if (path == NULL) {
        return 1;
    }
    int rc = run_request(path, request, strcmp(argv[optind], "list") == 0);
    sw_free(path);
    return rc;
}
