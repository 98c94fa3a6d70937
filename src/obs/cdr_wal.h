/*
 * The SQLite VFS of the CDR writer's connection (issue #13): the default (unix) VFS, except
 * that what a transaction appends to the WAL is gathered in memory and written with one
 * system call when the commit's last frame is complete, instead of SQLite's two pwrites
 * for each page (its frame header, then the page): a batch of records dirties tens of
 * pages, and the writes were most of the CDR writer's system calls. Likewise the pages a
 * checkpoint copies into the database: a run of consecutive pages is one write (of at
 * most 124 KiB, the default VFS's limit) rather than one a page.
 *
 * What SQLite sees is unchanged: every other operation on the file (a read, a sync, its
 * size, a truncation, a lock, the wal-index, a write elsewhere than at the end of what is
 * gathered, closing it) first writes out what is gathered, so the file always reads as if
 * each write had gone straight to the kernel. A commit is in the kernel before SQLite
 * publishes it to readers (the wal-index is updated after the commit frame is written),
 * so other connections and processes never see a frame missing; a process killed before
 * then loses an uncommitted transaction, as without the gathering (the CDR journal keeps
 * its records). A checkpoint's pages are out before it records them as copied as long as
 * it syncs the database, that is with synchronous NORMAL or FULL (the CDR store's is
 * NORMAL); with OFF they would go out only at the next lock change. At most
 * CDR_WAL_GATHER_MAX bytes are gathered for a file; more are written out on the way.
 *
 * Threads: any (SQLite serializes the calls on one connection's files).
 */
#ifndef SW_OBS_CDR_WAL_H
#define SW_OBS_CDR_WAL_H

#define CDR_WAL_GATHER_MAX ((size_t)1 << 20)

/* The VFS's name for sqlite3_open_v2, registered (not as the default) at the first call;
 * NULL when it could not be (then the default VFS serves, unchanged). */
const char *cdr_wal_vfs(void);

#endif
