#include "tools/audit.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "config/config.h"
#include "tools/asterisk_conf.h"
#include "tools/audit_asterisk.h"
#include "tools/audit_checks.h"
#include "tools/audit_report.h"
#include "tools/audit_sipwarden.h"

#define EXIT_CLEAN      0
#define EXIT_FAILED     1
#define EXIT_UNREADABLE 2

/* Audited when no FILE is given, those that exist. */
static const char *const default_files[] = {
    "/etc/sipwarden/sipwarden.conf",
    "/etc/asterisk/sip.conf",
    "/etc/asterisk/pjsip.conf",
    "/etc/asterisk/logger.conf",
};

struct audit_options {
    enum audit_format format;
    int64_t now;
};

static void usage(FILE *out)
{
    (void)fprintf(out,
                  "usage: sipwarden audit [--format text|json] [--date YYYY-MM-DD] [FILE...]\n"
                  "\n"
                  "Checks sipwarden's configuration and Asterisk's sip.conf, pjsip.conf and\n"
                  "logger.conf (kind told from the content) against the SIP trunk security\n"
                  "checklist. Without FILE: /etc/sipwarden/sipwarden.conf and\n"
                  "/etc/asterisk/{sip,pjsip,logger}.conf, those that exist.\n"
                  "\n"
                  "  --format text|json  output format (default text; JSON: docs/audit-json.md)\n"
                  "  --date YYYY-MM-DD   judge credential ages and certificates as of this day\n"
                  "\n"
                  "exit status: 0 nothing fails, 1 something fails, 2 unreadable input\n");
}

static int parse_options(int argc, char **argv, struct audit_options *opts)
{
    static const struct option long_options[] = {
        { "format", required_argument, NULL, 'f' },
        { "date", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opts->format = AUDIT_FORMAT_TEXT;
    opts->now = (int64_t)time(NULL);
    optind = 0; /* GNU: full re-initialisation, so the command can be run twice in tests */
    int c;
    /* NOLINTNEXTLINE(concurrency-mt-unsafe): options are parsed once, on the main thread. */
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        if (c == 'f' && strcmp(optarg, "text") == 0) {
            opts->format = AUDIT_FORMAT_TEXT;
        } else if (c == 'f' && strcmp(optarg, "json") == 0) {
            opts->format = AUDIT_FORMAT_JSON;
        } else if (c == 'd' && audit_date_parse(sv_from_cstr(optarg), &opts->now)) {
            continue;
        } else if (c == 'h') {
            usage(stdout);
            return -1;
        } else {
            if (c == 'f' || c == 'd') {
                (void)fprintf(stderr, "sipwarden audit: bad value '%s' for --%s\n", optarg,
                              c == 'f' ? "format" : "date");
            }
            usage(stderr);
            return EXIT_UNREADABLE;
        }
    }
    return 0;
}

static void audit_asterisk_conf(struct audit_report *report, const char *path, enum audit_kind kind,
                                const struct asterisk_conf *conf)
{
    audit_report_input(report, path, audit_kind_name(kind));
    if (kind == AUDIT_KIND_SIP) {
        audit_sip_run(report, conf);
    } else if (kind == AUDIT_KIND_PJSIP) {
        audit_pjsip_run(report, conf);
    } else {
        audit_logger_run(report, conf);
    }
}

static int audit_sipwarden_file(struct audit_report *report, const char *path,
                                const struct asterisk_conf *ini)
{
    audit_report_input(report, path, audit_kind_name(AUDIT_KIND_SIPWARDEN));
    audit_sipwarden_files(report, ini);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_offline(path, &diag);
    sw_diag_print(&diag, stderr); /* errors, and warnings the loader has for us */
    sw_diag_fini(&diag);
    if (cfg == NULL) {
        return EXIT_UNREADABLE;
    }
    audit_sipwarden_run(report, cfg);
    cfg_free(cfg);
    return 0;
}

/*
 * Reads `path` as Asterisk does, includes followed (FreePBX's sip.conf is little more
 * than #include lines), tells its kind from the content and audits it.
 */
static int audit_file(struct audit_report *report, const char *path)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    int rc = asterisk_conf_load(path, 0, &conf, &diag);
    enum audit_kind kind = conf == NULL ? AUDIT_KIND_UNKNOWN : audit_asterisk_detect(conf);
    int status = 0;
    if (kind == AUDIT_KIND_SIPWARDEN) {
        /* sipwarden's own syntax is not Asterisk's: only its loader may judge the file. */
        status = audit_sipwarden_file(report, path, conf);
    } else {
        sw_diag_print(&diag, stderr);
        if (conf != NULL && kind == AUDIT_KIND_UNKNOWN) {
            (void)fprintf(stderr,
                          "%s:0: error: not a sip.conf, pjsip.conf, logger.conf or sipwarden "
                          "configuration (no section or key tells)\n",
                          path);
        }
        if (rc != 0 || kind == AUDIT_KIND_UNKNOWN) {
            status = EXIT_UNREADABLE;
        } else {
            audit_asterisk_conf(report, path, kind, conf);
        }
    }
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
    return status;
}

int tools_audit_main(int argc, char **argv)
{
    struct audit_options opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc < 0 ? EXIT_CLEAN : rc;
    }
    struct audit_report report;
    audit_report_init(&report, opts.now);
    int status = EXIT_CLEAN;
    size_t audited = 0;
    for (int i = optind; i < argc; i++) {
        status = audit_file(&report, argv[i]) != 0 ? EXIT_UNREADABLE : status;
        audited++;
    }
    for (size_t i = 0; audited == 0 && i < sizeof(default_files) / sizeof(default_files[0]); i++) {
        if (access(default_files[i], F_OK) == 0) {
            status = audit_file(&report, default_files[i]) != 0 ? EXIT_UNREADABLE : status;
            audited++;
        }
    }
    if (audited == 0) {
        (void)fprintf(stderr, "sipwarden audit: no FILE given and none of the default files "
                              "exists\n");
        audit_report_fini(&report);
        return EXIT_UNREADABLE;
    }
    audit_report_finish(&report);
    if (audit_report_write(&report, opts.format, stdout) != 0 || fflush(stdout) != 0) {
        (void)fprintf(stderr, "sipwarden audit: cannot write the report\n");
        status = EXIT_UNREADABLE;
    }
    if (status == EXIT_CLEAN && audit_report_worst(&report) == AUDIT_FAIL) {
        status = EXIT_FAILED;
    }
    audit_report_fini(&report);
    return status;
}
