#include "tools/alert.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/diag.h"
#include "base/time.h"
#include "config/config.h"
#include "obs/alert.h"
#include "obs/alert_sink.h"

#define EXIT_DELIVERED 0
#define EXIT_FAILED    1
#define EXIT_USAGE     2
/* Long enough for the default retries (1 + 2 + 4 + 8 + 16 s) and their timeouts. */
#define FLUSH_MS       120000u

static void usage(FILE *out)
{
    (void)fprintf(out, "usage: sipwarden alert test [--sink NAME] [-c FILE]\n"
                       "\n"
                       "Sends a test alert through every sink of the configuration (or the one\n"
                       "named) and prints, per sink, whether it was delivered. FILE defaults to\n"
                       "/etc/sipwarden/sipwarden.conf.\n");
}

static void fill_test_alert(struct alert *alert)
{
    memset(alert, 0, sizeof(*alert));
    (void)snprintf(alert->rule, sizeof(alert->rule), "test");
    (void)snprintf(alert->title, sizeof(alert->title), "test alert");
    (void)snprintf(alert->detail, sizeof(alert->detail), "sipwarden alert test: this sink works");
    alert->state = ALERT_TEST;
    alert->severity = CFG_SEVERITY_INFO;
    alert->metric = CFG_METRIC_RESTART;
    alert->wall_us = sw_wall_us();
    alert->cause_us = alert->wall_us;
}

static int report(struct alert_sinks *sinks, long only)
{
    int rc = EXIT_DELIVERED;
    for (size_t i = 0; i < alert_sinks_count(sinks); i++) {
        if (only >= 0 && (size_t)only != i) {
            continue;
        }
        struct alert_sink_stats st;
        alert_sinks_stats(sinks, i, &st);
        bool is_ok = st.delivered > 0;
        (void)printf("%s: %s (%llu failed attempts)\n", alert_sinks_name(sinks, i),
                     is_ok ? "delivered" : "FAILED", (unsigned long long)st.failed_attempts);
        rc = is_ok ? rc : EXIT_FAILED;
    }
    return rc;
}

static int send_test(const struct cfg *cfg, const char *only_name)
{
    struct alert_sinks *sinks = NULL;
    if (alert_sinks_new(cfg, &sinks) != 0 || alert_sinks_start(sinks) != 0) {
        (void)fprintf(stderr, "sipwarden alert: cannot start the sinks\n");
        alert_sinks_free(sinks);
        return EXIT_FAILED;
    }
    long only = only_name != NULL ? alert_sinks_find(sinks, only_name) : -1;
    if (only_name != NULL && only < 0) {
        (void)fprintf(stderr, "sipwarden alert: no sink named '%s'\n", only_name);
        alert_sinks_free(sinks);
        return EXIT_USAGE;
    }
    if (alert_sinks_count(sinks) == 0) {
        (void)fprintf(stderr, "sipwarden alert: the configuration has no sink\n");
        alert_sinks_free(sinks);
        return EXIT_FAILED;
    }
    struct alert alert;
    fill_test_alert(&alert);
    for (size_t i = 0; i < alert_sinks_count(sinks); i++) {
        if (only < 0 || (size_t)only == i) {
            alert_sinks_push(sinks, i, &alert);
        }
    }
    (void)alert_sinks_flush(sinks, FLUSH_MS);
    int rc = report(sinks, only);
    alert_sinks_free(sinks);
    return rc;
}

int tools_alert_main(int argc, char **argv)
{
    const char *path = "/etc/sipwarden/sipwarden.conf";
    const char *only = NULL;
    if (argc < 2 || strcmp(argv[1], "test") != 0) {
        usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--sink") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    /* A command sink that exits without reading its input must not kill us. */
    (void)signal(SIGPIPE, SIG_IGN);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_file(path, &diag);
    sw_diag_print(&diag, stderr);
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return EXIT_FAILED;
    }
    int rc = send_test(cfg, only);
    cfg_free(cfg);
    return rc;
}
