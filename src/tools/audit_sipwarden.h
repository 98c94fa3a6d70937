/*
 * The checklist over sipwarden's own configuration (an already loaded and validated
 * struct cfg): secrets, credential age, source ranges, trunk transports, TLS, the
 * security log and bans. Each finding points at the line of the key it is about
 * (cfg_key_line()), at the section header when that key is not written (a default or a
 * missing key), and at line 0 only when the section is absent, which its message says.
 * Findings go to the report. One thread.
 */
#ifndef SW_TOOLS_AUDIT_SIPWARDEN_H
#define SW_TOOLS_AUDIT_SIPWARDEN_H

#include "tools/asterisk_conf.h"
#include "tools/audit_report.h"

struct cfg;

/* Adds the findings for `cfg` (file name: cfg->source) to `report`. */
void audit_sipwarden_run(struct audit_report *report, const struct cfg *cfg);

/*
 * The file checks ([tls] certificate and private_key) from the file read as INI text,
 * so that they have exact lines and still run when the loader refuses the file (it
 * refuses a key others can read: the audit reports that as a FAIL, then exits 2).
 */
void audit_sipwarden_files(struct audit_report *report, const struct asterisk_conf *ini);

#endif
