/*
 * The sipwarden command: argument dispatch to subcommands, nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "base/sv.h"
#include "gateway/gateway.h"
#include "tools/alert.h"
#include "tools/audit.h"
#include "tools/ban.h"
#include "tools/calls.h"
#include "tools/cdr.h"
#include "tools/check_config.h"
#include "tools/firewall.h"
#include "tools/incident.h"
#include "tools/incident_report.h"
#include "tools/lint.h"
#include "tools/number.h"
#include "tools/passwd.h"
#include "tools/spend.h"
#include "tools/stir.h"

#define SW_VERSION "0.1.0"

struct subcommand {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
};

static int version_main(int argc, char **argv);
static int help_main(int argc, char **argv);

/* One line per subcommand; the order is the order of `sipwarden help`. */
static const struct subcommand subcommands[] = {
    { "run", "run the gateway in the foreground", gateway_run_main },
    { "version", "print the version", version_main },
    { "help", "this list", help_main },
    { "audit", "check configurations against the SIP trunk security checklist", tools_audit_main },
    { "passwd", "generate and check secrets, compute HA1 hashes", tools_passwd_main },
    { "firewall", "print the host firewall rules for the configuration", tools_firewall_main },
    { "stir", "STIR/SHAKEN keys, signing and verification of Identity headers", tools_stir_main },
    { "lint", "judge SIP messages as a proxy would (RFC 3261, RFC 4475)", tools_lint_main },
    { "check-config", "validate a configuration file, list the keys", tools_check_config_main },
    { "ban", "list, add and lift bans in the running daemon", tools_ban_main },
    { "number", "normalize, classify and price a dialled number", tools_number_main },
    { "ratedeck", "validate a rate deck (ratedeck check FILE)", tools_ratedeck_main },
    { "calls", "list and end the calls in progress in the running daemon", tools_calls_main },
    { "spend", "today's and this month's spend against the caps, live", tools_spend_main },
    { "account", "disable or enable an account in the daemon, rotate its secret",
      tools_account_main },
    { "trunk", "isolate or restore a trunk in the running daemon", tools_trunk_main },
    { "cdr", "export the call records (cdr export --since T)", tools_cdr_main },
    { "alert", "send a test alert through the configured sinks", tools_alert_main },
    { "incident", "evidence bundle of an incident (incident report --since T --out DIR)",
      tools_incident_main },
};

static void print_usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        (void)fprintf(out, "  %-14s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    (void)fprintf(out, "\n'sipwarden <command> --help' describes one command.\n");
}

static int version_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    (void)printf("sipwarden %s\n", SW_VERSION);
    return 0;
}

static int help_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    print_usage(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        return version_main(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        return help_main(argc - 1, argv + 1);
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    (void)fprintf(stderr, "sipwarden: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 2;
}
