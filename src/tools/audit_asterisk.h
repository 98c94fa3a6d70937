/*
 * The audit of Asterisk configurations: which kind a file is (from its content), and
 * the checklist for chan_sip (sip.conf), PJSIP (pjsip.conf) and logger.conf. Every check
 * adds PASS, WARN or FAIL findings to the report; see audit_report.c for the list of
 * checks and docs/audit-json.md for what each means. One thread.
 */
#ifndef SW_TOOLS_AUDIT_ASTERISK_H
#define SW_TOOLS_AUDIT_ASTERISK_H

#include "tools/asterisk_conf.h"
#include "tools/audit_report.h"

enum audit_kind {
    AUDIT_KIND_UNKNOWN,
    AUDIT_KIND_SIP,       /* chan_sip sip.conf */
    AUDIT_KIND_PJSIP,     /* pjsip.conf */
    AUDIT_KIND_LOGGER,    /* logger.conf */
    AUDIT_KIND_SIPWARDEN, /* sipwarden's own configuration */
};

/*
 * Tells the kind of a configuration from its sections: sipwarden's own (a [pbx] section
 * or type=trunk|account), PJSIP (type=endpoint, aor, auth, transport...), logger.conf
 * ([logfiles]) or chan_sip (type=peer|user|friend, or chan_sip keys in [general]).
 */
enum audit_kind audit_asterisk_detect(const struct asterisk_conf *conf);

/* The kind's name as reports print it ("sip.conf"...); static. */
const char *audit_kind_name(enum audit_kind kind);

/* The chan_sip checklist over `conf`. */
void audit_sip_run(struct audit_report *report, const struct asterisk_conf *conf);

/* The PJSIP checklist over `conf`. */
void audit_pjsip_run(struct audit_report *report, const struct asterisk_conf *conf);

/* The logger.conf checklist (a security channel) over `conf`. */
void audit_logger_run(struct audit_report *report, const struct asterisk_conf *conf);

#endif
