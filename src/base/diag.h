/*
 * Diagnostics: a list of every problem found (not just the first), each as
 * "file:line: key: message". Used by configuration loading and offline tools.
 * A diag belongs to one thread.
 */
#ifndef SW_BASE_DIAG_H
#define SW_BASE_DIAG_H

#include <stdio.h>

enum diag_severity {
    DIAG_ERROR,
    DIAG_WARNING,
};

struct sw_diag_entry {
    enum diag_severity severity;
    char *file; /* owned; may be NULL */
    unsigned line;
    char *key; /* owned; may be NULL */
    char *message;
};

struct sw_diag {
    struct sw_diag_entry *entries;
    size_t count;
    size_t cap;
    size_t error_count;
};

/* Empties `diag` (no allocation yet). */
void sw_diag_init(struct sw_diag *diag);

/* Frees every entry; the diag may be reused after sw_diag_init. */
void sw_diag_fini(struct sw_diag *diag);

/*
 * Adds one problem. `file` and `key` may be NULL, `line` 0 when unknown. Allocation
 * failure is recorded as an error count without text, so a problem is never lost.
 */
void sw_diag_add(struct sw_diag *diag, enum diag_severity severity, const char *file, unsigned line,
                 const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prints every entry, one per line, to `out`. */
void sw_diag_print(const struct sw_diag *diag, FILE *out);

#endif
