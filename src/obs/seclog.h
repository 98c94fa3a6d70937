/*
 * The security log: one line per security event (struct sw_event), in the format of
 * Asterisk's res_security_log so that the fail2ban set-up an operator already has keeps
 * working, or as JSON lines. Destination: a file (appended in whole lines)
 * or syslog(3). Through an event queue (seclog_emit_held + seclog_flush) a file gets the
 * lines of one delivered batch in one write(2) instead: whole lines, so appends still
 * never interleave, and one system call instead of two per registration (#13).
 *
 * Asterisk format (TOOLS-NOTES §3.2):
 *   [2026-11-26 15:30:01] SECURITY[4242] res_security_log.c: SecurityEvent="FailedACL",
 *   EventTV="2026-11-26T15:30:01.123+0000",Severity="Error",Service="SIP",EventVersion="1",
 *   AccountID="1001",SessionID="...",LocalAddress="IPV4/UDP/127.0.0.1/5060",
 *   RemoteAddress="IPV4/UDP/192.0.2.10/5070",ACLName="..."          (one line)
 * with Asterisk's field order per event; our own kinds (ScannerDetected, RateExceeded,
 * BanAdded...) use the same shape with UserAgent, Detail and Count. Times are local time,
 * as fail2ban reads them. Via syslog the "[date] " prefix is left to syslog.
 *
 * Log injection: every value is neutralized before it is written: '"', '\\', '%', every
 * byte below 0x20 (CR, LF, NUL...) and every byte from 0x7f up become %XX (upper-case hex).
 * Nothing is backslash-escaped, because fail2ban's shipped asterisk filter does not
 * match `\"` (TOOLS-NOTES §3.3). A value therefore can never close its quotes, add a field
 * or split a line, and the encoding is reversible. Field values end at their first NUL.
 *
 * Threads: seclog_write, seclog_emit, seclog_emit_held and seclog_flush run in one
 * thread (the event consumer);
 * seclog_reopen may be called from any thread or from a signal handler.
 */
#ifndef SW_OBS_SECLOG_H
#define SW_OBS_SECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"

/* Longest line: the event's fields are bounded, so even all encoded three times fit. */
#define SECLOG_LINE_MAX 4096

/* The lines seclog_emit_held may hold, in bytes (four of the longest; some fifty of a
 * registration). */
#define SECLOG_HELD_MAX 16384

enum seclog_format {
    SECLOG_FORMAT_ASTERISK,
    SECLOG_FORMAT_JSON,
};

enum seclog_dest {
    SECLOG_DEST_FILE,
    SECLOG_DEST_SYSLOG,
};

struct seclog_config {
    enum seclog_format format;
    enum seclog_dest dest;
    const char *path;         /* SECLOG_DEST_FILE: created 0640 when missing; copied */
    int syslog_facility;      /* SECLOG_DEST_SYSLOG: LOG_AUTH, LOG_LOCAL0...; 0 = LOG_AUTH */
    const char *syslog_ident; /* NULL = "sipwarden"; copied */
    const char *service;      /* the Service field; NULL = "SIP"; copied */
};

struct seclog_stats {
    uint64_t lines;
    uint64_t write_errors; /* lines lost to write errors */
    uint64_t reopens;
};

struct seclog;

/* Opens the destination. Returns 0, -errno (file), -SW_EBADARG, or -ENOMEM. */
int seclog_open(const struct seclog_config *cfg, struct seclog **out);

/* Closes and frees; NULL is a no-op. */
void seclog_close(struct seclog *log);

/* Writes one event. Returns 0 or -errno (the line is lost and counted). */
int seclog_write(struct seclog *log, const struct sw_event *event);

/* An event_emit_fn for event queues: `ctx` is the struct seclog. */
void seclog_emit(void *ctx, const struct sw_event *event);

/*
 * As seclog_emit, but a file's line waits, with the others of the batch, for
 * seclog_flush (or for its room, SECLOG_HELD_MAX bytes, to run out; seclog_close writes
 * what is left). Syslog gets the line at once.
 */
void seclog_emit_held(void *ctx, const struct sw_event *event);

/* An event_flush_fn: writes the lines seclog_emit_held holds, in one write(2). */
void seclog_flush(void *ctx);

/*
 * Asks for the file to be reopened (log rotation on SIGHUP) before the next line.
 * Async-signal-safe: it only sets an atomic flag.
 */
void seclog_reopen(struct seclog *log);

/* Counters so far (read from the writing thread, or approximate from others). */
void seclog_stats_get(const struct seclog *log, struct seclog_stats *out);

/*
 * Formats one event as a line ending in '\n' into `out`. `pid` goes into SECURITY[pid];
 * `with_date` adds the leading "[date] " (files; syslog adds its own). A buffer of
 * SECLOG_LINE_MAX bytes always suffices; a smaller one may overflow (out->is_overflow).
 * `service` NULL means "SIP". Pure; any thread.
 */
void seclog_format(const struct sw_event *event, enum seclog_format format, const char *service,
                   long pid, bool with_date, struct sw_buf *out);

/* Appends `value` (up to its NUL or `len` bytes) neutralized as the file comment says. */
void seclog_neutralize(struct sv value, struct sw_buf *out);

#endif
