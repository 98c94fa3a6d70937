/*
 * Call detail records as rows: the columns (Asterisk Master.csv's 18 first, in their
 * order, then what fraud analysis needs), a record turned into a row, and a row written
 * as one CSV line or one JSON object. The same column list names the SQLite table's
 * columns (obs/cdr_store.h) and the export (sipwarden cdr export), so a row read back from
 * the database prints exactly as it was written. Pure functions, any thread.
 */
#ifndef SW_OBS_CDR_H
#define SW_OBS_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/callrec.h"

/* Asterisk Master.csv's columns come first: this many. */
#define CDR_MASTER_COLUMNS 18

enum cdr_type {
    CDR_TEXT,
    CDR_INT,
};

struct cdr_value {
    const char *text; /* CDR_TEXT: NUL-terminated, never NULL */
    int64_t num;      /* CDR_INT */
};

#define CDR_COLUMNS_MAX 48

/* One record as values; texts point into `store` or into the record it was made from. */
struct cdr_row {
    struct cdr_value values[CDR_COLUMNS_MAX];
    char store[512];
};

/* Number of columns, and each one's name and type. */
size_t cdr_column_count(void);
const char *cdr_column_name(size_t index);
enum cdr_type cdr_column_type(size_t index);

/* The index of the column named `name`, or SIZE_MAX. */
size_t cdr_column_find(const char *name);

/* Asterisk's disposition of a record: ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION. */
const char *cdr_disposition(const struct call_record *rec);

/* Names of the enums as they appear in rows. */
const char *cdr_state_name(enum callrec_state state);
const char *cdr_side_name(enum callrec_side side);

/*
 * Fills `row` from `rec`. The row borrows `rec` (and keeps the derived texts in its own
 * store): keep both alive while the row is used.
 */
void cdr_row_from_record(const struct call_record *rec, struct cdr_row *row);

/*
 * Appends `row` as one CSV line ending in "\n", as Asterisk's cdr_csv writes it: texts in
 * double quotes (a quote doubled), numbers bare. A CR or LF inside a text becomes a space,
 * so a line is always one record.
 */
void cdr_row_csv(const struct cdr_row *row, struct sw_buf *out);

/* Appends `row` as one JSON object (keys = column names) and "\n". */
void cdr_row_json(const struct cdr_row *row, struct sw_buf *out);

/*
 * Parses a time as the operator writes it: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] (UTC; a
 * space may stand for the T) or seconds since the epoch, into milliseconds since the
 * epoch. False when `text` is none of these.
 */
bool cdr_parse_time(const char *text, int64_t *out_ms);

/* "YYYY-MM-DD HH:MM:SS" (UTC) of a wall-clock time in microseconds, "" for 0. */
void cdr_format_time(uint64_t wall_us, char *out, size_t cap);

#endif
