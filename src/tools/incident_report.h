/*
 * `sipwarden incident report --since T [--until T] [--account A | --trunk T] --out DIR
 * [-c FILE]`: the evidence bundle of an incident, read offline from what the daemon keeps
 * (its SQLite database, its security log and its configuration file):
 *
 *   calls.csv            the call records of the span (with a header line) in scope
 *   calls.json           the same, one JSON object per line
 *   security-events.log  the security log's lines of the span, as written
 *   bans.csv             the bans in the database that were in force during the span
 *   alerts.csv           the alert messages of the span (the database's alert history)
 *   config-history.csv   the configuration's loads (the daemon's starts and reloads, with
 *                        the file's SHA-256): the one in force at the span's start, then
 *                        the span's, each first known, changed or unchanged
 *   config.sha256        the configuration file's SHA-256 and modification time now
 *   summary.md           the human summary (Markdown): first anomalous event, sources,
 *                        destinations and countries, minutes and cost, what was blocked
 *   carrier-notice.txt   a ready text for the trunk provider's fraud desk
 *   SHA256SUMS           the SHA-256 of each file above (`sha256sum -c` checks it)
 *
 * Scope: --account keeps the calls of that account and the events about it or from the
 * addresses its calls came from; --trunk keeps the calls through that trunk and every
 * event. DIR is created (0700) when missing; the files are written 0600. T is as for
 * `sipwarden cdr export` (tools/cdr.h). Exit 0, 1 when the database or a file cannot be
 * read or written, 2 for a usage error. Main thread of the command.
 */
#ifndef SW_TOOLS_INCIDENT_REPORT_H
#define SW_TOOLS_INCIDENT_REPORT_H

/* The `sipwarden incident` command; argv[0] is "incident". */
int tools_incident_main(int argc, char **argv);

#endif
