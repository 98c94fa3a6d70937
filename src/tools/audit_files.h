/*
 * File checks of the audit: private keys readable only by their owner, certificates not
 * expired and not expiring within AUDIT_CERT_WARN_DAYS. Paths relative to a configuration
 * file are resolved against that file's folder (Asterisk) or the working directory
 * (where->is_cwd_relative: sipwarden). Findings go to the report. One thread.
 */
#ifndef SW_TOOLS_AUDIT_FILES_H
#define SW_TOOLS_AUDIT_FILES_H

#include <stdbool.h>

#include "base/sv.h"
#include "tools/audit_report.h"

#define AUDIT_CERT_WARN_DAYS 30

/*
 * Checks the private key file `path` (as written in the configuration at `where`): FAIL
 * when its mode gives group or others any permission (with the chmod that fixes it),
 * WARN when it cannot be examined, PASS otherwise.
 */
void audit_files_check_key(struct audit_report *report, const struct audit_where *where,
                           struct sv path);

/*
 * Checks the first certificate of the PEM file `path`: FAIL when expired at report->now,
 * WARN when it expires within AUDIT_CERT_WARN_DAYS days or cannot be read, PASS
 * otherwise. When the same file also holds a private key (Asterisk allows that), the key
 * check is applied to it too.
 */
void audit_files_check_certificate(struct audit_report *report, const struct audit_where *where,
                                   struct sv path);

#endif
