#include "tools/incident.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "tools/ctl_client.h"
#include "tools/rotate.h"

#define INCIDENT_REPLY_MAX ((size_t)4096)
#define INCIDENT_LINE_MAX  256

/* What one command word (account, trunk) accepts: its hold and release verbs. */
struct incident_command {
    const char *noun;
    const char *hold;
    const char *release;
    const char *more_usage; /* the lines of the word's other verbs, or "" */
};

static void print_usage(const struct incident_command *cmd, FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden %s %s NAME [--reason TEXT] [-c FILE | --socket PATH]\n"
                  "       sipwarden %s %s NAME [-c FILE | --socket PATH]\n%s"
                  "Talks to the running daemon over its control socket ([general] "
                  "control_socket).\n",
                  cmd->noun, cmd->hold, cmd->noun, cmd->release, cmd->more_usage);
}

struct incident_args {
    const char *verb;
    const char *name;
    const char *reason;
    const char *config;
    const char *socket;
};

/* A value that the one-line protocol carries: no line breaks, a name without blanks. */
static bool fits_line(const char *text, bool is_name)
{
    return text[0] != '\0' && strpbrk(text, is_name ? " \t\r\n" : "\r\n") == NULL;
}

/* Fills `args` from argv[1..]; false on a usage error. */
static bool parse_args(int argc, char **argv, struct incident_args *args)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool has_value = i + 1 < argc;
        if ((strcmp(arg, "--reason") == 0 || strcmp(arg, "-r") == 0) && has_value) {
            args->reason = argv[++i];
        } else if ((strcmp(arg, "--config") == 0 || strcmp(arg, "-c") == 0) && has_value) {
            args->config = argv[++i];
        } else if (strcmp(arg, "--socket") == 0 && has_value) {
            args->socket = argv[++i];
        } else if (arg[0] != '-' && args->verb == NULL) {
            args->verb = arg;
        } else if (arg[0] != '-' && args->name == NULL) {
            args->name = arg;
        } else {
            return false; /* an unknown option or a third word */
        }
    }
    return args->verb != NULL && args->name != NULL && fits_line(args->name, true) &&
           (args->reason == NULL || fits_line(args->reason, false)) &&
           (args->config == NULL || args->socket == NULL);
}

static int run(const struct incident_command *cmd, int argc, char **argv)
{
    struct incident_args args = { 0 };
    bool is_help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (is_help || !parse_args(argc, argv, &args) ||
        (strcmp(args.verb, cmd->hold) != 0 && strcmp(args.verb, cmd->release) != 0) ||
        (strcmp(args.verb, cmd->release) == 0 && args.reason != NULL)) {
        print_usage(cmd, is_help ? stdout : stderr);
        return is_help ? 0 : 2;
    }
    char request[INCIDENT_LINE_MAX];
    int n = snprintf(request, sizeof(request), "%s %s %s%s%s\n", cmd->noun, args.verb, args.name,
                     args.reason != NULL ? " " : "", args.reason != NULL ? args.reason : "");
    if (n < 0 || (size_t)n >= sizeof(request)) {
        (void)fprintf(stderr, "sipwarden %s: the name and reason are too long\n", cmd->noun);
        return 2;
    }
    char *path = tools_ctl_socket_path(args.config, args.socket, cmd->noun);
    if (path == NULL) {
        return 1;
    }
    bool is_ok = false;
    char *reply = tools_ctl_request(cmd->noun, path, request, INCIDENT_REPLY_MAX, &is_ok);
    sw_free(path);
    if (reply == NULL) {
        return 1;
    }
    unsigned long ended = 0;
    if (is_ok && sscanf(reply, "ended %lu", &ended) == 1) {
        (void)printf("%s %s: %s%s, %lu call(s) ended\n", cmd->noun, args.name, args.verb,
                     strstr(reply, "unchanged") != NULL ? " (already so)" : "", ended);
    }
    sw_free(reply);
    return is_ok ? 0 : 1;
}

int tools_account_main(int argc, char **argv)
{
    static const struct incident_command account = {
        "account", "disable", "enable",
        "       sipwarden account rotate NAME [-c FILE] [--length N]\n"
    };
    /* rotate edits the configuration file, then signals the daemon (tools/rotate.h). */
    if (argc >= 2 && strcmp(argv[1], "rotate") == 0) {
        return tools_rotate_main(argc - 1, argv + 1);
    }
    return run(&account, argc, argv);
}

int tools_trunk_main(int argc, char **argv)
{
    static const struct incident_command trunk = { "trunk", "isolate", "restore", "" };
    return run(&trunk, argc, argv);
}
