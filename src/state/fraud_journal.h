/*
 * The fraud counters' journal (issue #11: "spend and velocity counters after a restart are
 * never lower than before the crash"). The counters reach SQLite once a second
 * (state/fraud_sqlite.h); what was counted in between lives in this journal: a ring of
 * fixed-size records in a file mapped MAP_SHARED, so that each record is in the kernel's
 * page cache the moment a worker writes it, without a system call, and survives the
 * process being killed (kill -9, a crash); not a power cut, which the once-a-second save
 * bounds.
 *
 * Each dial counted, each dial's end and each Wangiri mark made is appended after it was
 * counted in memory,
 * and before the call it admitted goes on. A save records the journal's next sequence number
 * read before it exported the counters; a load replays every record from that number on. A
 * dial counted while the export ran is then counted twice after a crash, never zero times.
 *
 * Threads: append from any thread (lock-free); open, replay and close while nothing
 * appends.
 */
#ifndef SW_STATE_FRAUD_JOURNAL_H
#define SW_STATE_FRAUD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define FRAUD_JOURNAL_SLOTS 65536u /* 10 MiB; at 8,000 calls/s, 8 s of dials between saves */

enum fraud_journal_kind {
    FRAUD_JOURNAL_DIAL = 1,
    FRAUD_JOURNAL_MARK = 2,
    FRAUD_JOURNAL_END = 3, /* a dial's answered duration, for the short-call detector */
};

/* One record as replayed. */
struct fraud_journal_entry {
    enum fraud_journal_kind kind;
    uint64_t seq;
    int64_t wall_ms;
    struct sv key;    /* DIAL: the account or trunk key */
    struct sv digits; /* E.164 without '+' */
    bool is_international;
    int64_t duration_ms; /* END: how long the call was answered (0: never) */
};

struct fraud_journal;

/* Opens (or creates, mode 0600) the journal file at `path` with `slots` records (a power
 * of two); a file of another layout is started afresh. 0 or -errno. */
int fraud_journal_open(const char *path, size_t slots, struct fraud_journal **out);

/* Unmaps and closes; NULL is a no-op. */
void fraud_journal_close(struct fraud_journal *journal);

/* Appends a dial of `key` to `digits` at the wall-clock `wall_ms`. Keys or numbers too long
 * for a record are cut (the counters key on at most FRAUD_KEY_CAP bytes anyway). */
void fraud_journal_dial(struct fraud_journal *journal, struct sv key, struct sv digits,
                        bool is_international, int64_t wall_ms);

/* Appends the end of the dial of `key` to `digits` made at the wall-clock `dial_wall_ms`:
 * answered for `duration_ms` (0: never answered). */
void fraud_journal_dial_end(struct fraud_journal *journal, struct sv key, struct sv digits,
                            int64_t dial_wall_ms, int64_t duration_ms);

/* Appends a Wangiri mark of `digits` at the wall-clock second `at_s`. */
void fraud_journal_mark(struct fraud_journal *journal, struct sv digits, int64_t at_s);

/* The sequence number the next record will get: what a save records before exporting. */
uint64_t fraud_journal_next_seq(struct fraud_journal *journal);

typedef void fraud_journal_fn(void *ctx, const struct fraud_journal_entry *entry);

/*
 * Hands `fn`, oldest first, every complete record whose sequence number is at least
 * `since_seq` and whose time is not before `not_before_wall_ms`; returns how many.
 */
size_t fraud_journal_replay(struct fraud_journal *journal, uint64_t since_seq,
                            int64_t not_before_wall_ms, fraud_journal_fn *fn, void *ctx);

#endif
