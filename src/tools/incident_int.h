/*
 * Inside `sipwarden incident report` (tools/incident_report.h): the security-log line parser,
 * the tallies and the figures that incident.c collects and incident_summary.c writes.
 * Main thread of the command.
 */
#ifndef SW_TOOLS_INCIDENT_INT_H
#define SW_TOOLS_INCIDENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/sv.h"
#include "obs/filehash.h"

struct cfg;

/* One security-log line, parsed (Asterisk or JSON format, obs/seclog.h). */
struct incident_event {
    int64_t time_ms;
    char kind[32];     /* SecurityEvent, e.g. "InvalidPassword" */
    char account[64];  /* AccountID */
    char remote[48];   /* the remote IP address, without transport and port */
    char detail[256];  /* Detail, or "" */
    bool is_anomalous; /* a failure, a refusal, a ban or a failed identity */
};

/*
 * Parses one line of the security log into `out`. Field values stay as the log encoded
 * them (%XX for quotes, controls and bytes above 0x7e). False when the line is not an
 * event (or its time cannot be read).
 */
bool incident_event_parse(struct sv line, struct incident_event *out);

/* Distinct keys with their counts; at most INCIDENT_TALLY_MAX keys, the rest in others. */
#define INCIDENT_TALLY_MAX 4096
#define INCIDENT_KEY_CAP   72

struct incident_tally_item {
    char key[INCIDENT_KEY_CAP];
    char note[INCIDENT_KEY_CAP]; /* the first value noted with the key (a country...) */
    uint64_t count;
    uint64_t answered;
    int64_t billsec;
    int64_t cost_micro;
};

struct incident_tally {
    struct incident_tally_item *items;
    size_t count;
    size_t cap;
    uint64_t others; /* counts of keys that found no room */
};

/* The item of `key` (added with count 0 when new), or NULL when the tally is full. */
struct incident_tally_item *incident_tally_get(struct incident_tally *tally, const char *key);

/* Sorts by count, highest first (ties by key). */
void incident_tally_sort(struct incident_tally *tally);

void incident_tally_fini(struct incident_tally *tally);

#define INCIDENT_EXCERPT_MAX 20
#define INCIDENT_ALERT_ROWS  50
#define INCIDENT_CONFIG_ROWS 50

/* What the report found, and what it was asked. */
struct incident {
    /* the question */
    int64_t since_ms;
    int64_t until_ms;
    const char *account; /* NULL = any */
    const char *trunk;   /* NULL = any */
    const struct cfg *cfg;
    int64_t config_mtime_s;
    /* call records in scope */
    uint64_t calls;
    uint64_t answered;
    int64_t billsec;
    int64_t cost_micro;
    struct incident_tally destinations; /* dialled E.164 (or as dialled), note = country */
    struct incident_tally countries;
    struct incident_tally call_sources; /* leg A's source IP */
    struct incident_tally trunks;
    struct incident_tally accounts;
    size_t excerpt_count;
    char excerpt[INCIDENT_EXCERPT_MAX][160]; /* the first calls, one line each */
    /* security events in scope */
    uint64_t events;
    uint64_t anomalies;
    uint64_t blocked_calls; /* FraudBlock and PolicyHit */
    uint64_t bans_added;    /* BanAdded events */
    struct incident_tally event_kinds;
    struct incident_tally event_sources; /* remote IPs of the anomalous events */
    struct incident_event first;         /* the first anomalous event (has_first) */
    /* bans in the database during the span */
    uint64_t bans;
    /* alert messages of the span (the database's alert history) */
    uint64_t alerts;
    uint64_t alerts_firing; /* messages that opened an incident */
    size_t alert_row_count;
    char alert_rows[INCIDENT_ALERT_ROWS][320]; /* the first ones, as Markdown table rows */
    /* configuration loads (the database's config history, incident_config_note) */
    uint64_t config_loads;   /* starts and reloads in the span */
    uint64_t config_changes; /* those that loaded another file content than the one before */
    size_t config_row_count;
    char config_rows[INCIDENT_CONFIG_ROWS][224]; /* Markdown table rows, the first ones */
    char config_last[FILEHASH_HEX_CAP];          /* the last load's hash, "" before the first */
    char config_sha256[FILEHASH_HEX_CAP];        /* of the file now, "" when unreadable */
    /* what was found at all (flags last: the struct packs) */
    bool has_first;
    bool has_ban_table;
    bool has_alert_table;
    bool has_config_table;
};

/*
 * Notes one load of the configuration (time, path, SHA-256 in hex) from the config
 * history, in time order, the one in force at the span's start first. Returns how it
 * stands to the load before: "in force" (before the span), "first known" (no load
 * before it in the database), "changed" or "unchanged" (a reload or restart of the same
 * content).
 */
const char *incident_config_note(struct incident *inc, int64_t time_ms, const char *path,
                                 const char *sha256);

/* Writes summary.md's text for `inc` to `out`. */
void incident_write_summary(const struct incident *inc, FILE *out);

/* Writes carrier-notice.txt's text for `inc` to `out`. */
void incident_write_notice(const struct incident *inc, FILE *out);

/* One alert message as a Markdown table row (texts made safe) into `out`. */
struct alert_sqlite_alert;
void incident_alert_row(char *out, size_t cap, const char *when,
                        const struct alert_sqlite_alert *alert);

/* "YYYY-MM-DD HH:MM:SS" (UTC) of a wall-clock time in ms into `out` (32 bytes). */
void incident_format_ms(int64_t ms, char *out, size_t cap);

#endif
