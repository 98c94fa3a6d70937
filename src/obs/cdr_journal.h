/*
 * The call records' journal (issue #11: "a crash loses nothing"): each record handed to
 * the SQLite writer is first copied into a file mapped MAP_SHARED, so it is in the
 * kernel's page cache the moment it is appended, without a system call, and survives the
 * process being killed (kill -9, a crash) while the writer lags behind; not a power cut,
 * like the write(2) it replaces. The next start replays what the database lacks.
 *
 * Layout: entries of a fixed size from offset 0, each with a sequence number and a check
 * over it and the record. Replay follows the chain from offset 0 while each entry is
 * whole and numbered one past the one before: a torn last entry, the zeros of a fresh
 * file or an entry left from before a reset all end it. A reset (everything appended is
 * in the database) starts appending at offset 0 again with the numbering going on, so
 * what is left of the old chain past the new one can never continue it.
 *
 * The mapping starts at CDR_JOURNAL_INITIAL bytes and doubles (ftruncate + mmap, the
 * only system calls of an append) when a lagging writer lets it fill.
 *
 * Threads: one at a time (the CDR store's lock).
 */
#ifndef SW_OBS_CDR_JOURNAL_H
#define SW_OBS_CDR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/callrec.h"

#define CDR_JOURNAL_INITIAL ((size_t)4 << 20)

struct cdr_journal;

/* Opens (or creates, mode 0600) the journal at `path`, keeping what it holds for
 * cdr_journal_replay. 0 or -errno. */
int cdr_journal_open(const char *path, struct cdr_journal **out);

/*
 * Calls fn(ctx, rec) for each record of the chain, in order, until fn returns false.
 * Returns the number of records visited; *is_torn tells whether the chain ended at an
 * entry that was started but not whole (a crash in the middle of an append).
 */
typedef bool cdr_journal_fn(void *ctx, const struct call_record *rec);
uint64_t cdr_journal_replay(const struct cdr_journal *journal, cdr_journal_fn *fn, void *ctx,
                            bool *is_torn);

/* Appends a record. 0, or -errno when the journal could not grow (the record is then only
 * in memory until the writer commits it). */
int cdr_journal_append(struct cdr_journal *journal, const struct call_record *rec);

/* Everything appended is committed elsewhere: the chain starts again at offset 0. */
void cdr_journal_reset(struct cdr_journal *journal);

/* Bytes appended since the last reset. */
size_t cdr_journal_bytes(const struct cdr_journal *journal);

/* Unmaps and closes; NULL is a no-op. */
void cdr_journal_close(struct cdr_journal *journal);

#endif
