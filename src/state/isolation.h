/*
 * The incident state (issue #12 "Incident response"): which accounts are disabled and
 * which trunks are isolated, by whom and why. One table for the whole process, so that
 * the operator's commands (control socket, admin API), the fraud stage's automatic
 * disable and the checks on every new call see the same state, whatever the reload
 * generation.
 *
 * Persistence: isolation_open() loads the rows of the table `isolation` of the SQLite
 * database at `path` (the [state] path, next to the bans) and starts a writer thread;
 * every change marks the table dirty and wakes the writer, which rewrites the rows from
 * a snapshot in one transaction. A change never waits for the disk, so a worker may make
 * one (the fraud stage does). Without isolation_open the table lives in memory only.
 *
 * Bounds: at most ISOLATION_MAX entries (accounts and trunks together); names longer
 * than ISOLATION_NAME_CAP - 1 bytes are refused.
 *
 * Threads: isolation_open and isolation_close from the main thread while no worker
 * runs; everything else from any thread (one mutex, held for a copy; the check of a
 * new call takes no lock while the table is empty).
 */
#ifndef SW_STATE_ISOLATION_H
#define SW_STATE_ISOLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define ISOLATION_MAX        1024u
#define ISOLATION_NAME_CAP   64
#define ISOLATION_BY_CAP     64
#define ISOLATION_REASON_CAP 160

enum isolation_kind {
    ISOLATION_ACCOUNT, /* a remote account: no calls, no registration */
    ISOLATION_TRUNK,   /* a trunk: no calls in either direction */
};

enum isolation_outcome {
    ISOLATION_ADDED,
    ISOLATION_EXISTS, /* already held: the first entry (and its reason) stays */
    ISOLATION_FULL,   /* ISOLATION_MAX entries, or a name that does not fit */
};

struct isolation_entry {
    enum isolation_kind kind;
    char name[ISOLATION_NAME_CAP];
    int64_t since_s;                   /* wall clock */
    char by[ISOLATION_BY_CAP];         /* "operator (control socket)", "fraud policy"... */
    char reason[ISOLATION_REASON_CAP]; /* free text, may be "" */
};

/*
 * Loads the persisted entries of the database at `path` (created when missing) in place
 * of the ones in memory and starts the writer. Returns 0, -SW_EIO (logged) or -errno.
 */
int isolation_open(const char *path);

/* Writes what changed, stops the writer, closes the database and forgets every entry. */
void isolation_close(void);

/* Holds `name` of `kind` since `now_s`; `by` and `reason` are copied (truncated). */
enum isolation_outcome isolation_set(enum isolation_kind kind, struct sv name, const char *by,
                                     const char *reason, int64_t now_s);

/* Lets `name` go; false when it was not held. */
bool isolation_clear(enum isolation_kind kind, struct sv name);

/* True when `name` of `kind` is held. */
bool isolation_is_held(enum isolation_kind kind, struct sv name);

/* Copies the entry of `name` into `out`; false when it is not held. */
bool isolation_get(enum isolation_kind kind, struct sv name, struct isolation_entry *out);

/* Copies up to `cap` entries into `out` (NULL with cap 0 counts); returns how many exist. */
size_t isolation_list(struct isolation_entry *out, size_t cap);

/* "account" or "trunk". */
const char *isolation_kind_name(enum isolation_kind kind);

#endif
