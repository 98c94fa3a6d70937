#include "base/diag.h"

#include <stdarg.h>
#include <string.h>

#include "base/alloc.h"

void sw_diag_init(struct sw_diag *diag)
{
    memset(diag, 0, sizeof(*diag));
}

void sw_diag_fini(struct sw_diag *diag)
{
    for (size_t i = 0; i < diag->count; i++) {
        sw_free(diag->entries[i].file);
        sw_free(diag->entries[i].key);
        sw_free(diag->entries[i].message);
    }
    sw_free(diag->entries);
    diag->entries = NULL;
    diag->count = 0;
    diag->cap = 0;
    diag->error_count = 0;
}

static char *dup_or_null(const char *s)
{
    return s == NULL ? NULL : sw_strdup(s);
}

void sw_diag_add(struct sw_diag *diag, enum diag_severity severity, const char *file, unsigned line,
                 const char *key, const char *fmt, ...)
{
    if (severity == DIAG_ERROR) {
        diag->error_count++;
    }
    if (diag->count == diag->cap) {
        size_t cap = diag->cap == 0 ? 8 : diag->cap * 2;
        struct sw_diag_entry *grown = sw_realloc(diag->entries, cap * sizeof(*grown));
        if (grown == NULL) {
            return;
        }
        diag->entries = grown;
        diag->cap = cap;
    }
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    struct sw_diag_entry *entry = &diag->entries[diag->count++];
    entry->severity = severity;
    entry->file = dup_or_null(file);
    entry->line = line;
    entry->key = dup_or_null(key);
    entry->message = sw_strdup(message);
}

void sw_diag_print(const struct sw_diag *diag, FILE *out)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct sw_diag_entry *e = &diag->entries[i];
        const char *kind = e->severity == DIAG_ERROR ? "error" : "warning";
        if (e->file != NULL) {
            (void)fprintf(out, "%s:%u: ", e->file, e->line);
        }
        if (e->key != NULL) {
            (void)fprintf(out, "%s: ", e->key);
        }
        (void)fprintf(out, "%s: %s\n", kind, e->message == NULL ? "(out of memory)" : e->message);
    }
}
