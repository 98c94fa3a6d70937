/*
 * The checklist over sipwarden's own configuration (an already loaded and validated
 * struct cfg): secrets, credential age, source ranges, trunk transports, TLS, the
 * security log and bans. Positions are the section headers (struct cfg keeps no line per
 * key). Findings go to the report. One thread.
 */
#ifndef SW_TOOLS_AUDIT_SIPWARDEN_H
#define SW_TOOLS_AUDIT_SIPWARDEN_H

#include "tools/audit_report.h"

struct cfg;

/* Adds the findings for `cfg` (file name: cfg->source) to `report`. */
void audit_sipwarden_run(struct audit_report *report, const struct cfg *cfg);

#endif
