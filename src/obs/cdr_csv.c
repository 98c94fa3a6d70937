#include "obs/cdr_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fdio.h"
#include "base/log.h"
#include "obs/cdr.h"

#define CDR_LINE_CAP    4096
#define CDR_CSV_INITIAL ((size_t)64 << 10) /* the pending lines' first capacity */

static void count_error(struct cdr_csv *csv)
{
    atomic_fetch_add_explicit(&csv->errors, 1, memory_order_relaxed);
}

static int open_file(struct cdr_csv *csv)
{
    if (csv->path == NULL) {
        return 0;
    }
    int fd = open(csv->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd == -1) {
        int err = -errno;
        count_error(csv);
        log_err(NULL, "cdr: %s: %s", csv->path, sw_strerror(err));
        return err;
    }
    csv->fd = fd;
    return 0;
}

int cdr_csv_open(struct cdr_csv *csv, const char *path)
{
    csv->fd = -1;
    if (path == NULL || path[0] == '\0') {
        return 0;
    }
    csv->path = sw_strdup(path);
    return csv->path != NULL ? open_file(csv) : -ENOMEM;
}

void cdr_csv_close(struct cdr_csv *csv)
{
    if (csv->fd >= 0) {
        (void)close(csv->fd);
        csv->fd = -1;
    }
    sw_free(csv->path);
    csv->path = NULL;
    sw_free(csv->pending);
    csv->pending = NULL;
}

void cdr_csv_reopen(struct cdr_csv *csv)
{
    if (csv->fd >= 0) {
        (void)close(csv->fd); /* appends only: nothing buffered to lose */
        csv->fd = -1;
    }
    if (open_file(csv) == 0 && csv->path != NULL) {
        log_notice(NULL, "cdr: reopened %s", csv->path);
    }
}

void cdr_csv_flush(struct cdr_csv *csv)
{
    if (csv->pending_len == 0) {
        return;
    }
    int rc = sw_write_all(csv->fd, csv->pending, csv->pending_len, 64);
    if (rc != 0) {
        count_error(csv);
        log_err(NULL, "cdr: writing %s: %s", csv->path, sw_strerror(rc));
    }
    /* Counted once in the file: a reader of the count finds the lines there. */
    atomic_fetch_add_explicit(&csv->lines, csv->pending_lines, memory_order_relaxed);
    cdr_csv_drop(csv);
}

void cdr_csv_drop(struct cdr_csv *csv)
{
    csv->pending_len = 0;
    csv->pending_lines = 0;
}

/* Room for one more line in the pending ones: they grow up to a whole batch's. False when
 * out of memory. */
static bool reserve(struct cdr_csv *csv)
{
    if (csv->pending_cap - csv->pending_len >= CDR_LINE_CAP) {
        return true;
    }
    size_t cap = csv->pending_cap != 0 ? csv->pending_cap * 2 : CDR_CSV_INITIAL;
    char *bigger = sw_realloc(csv->pending, cap);
    if (bigger == NULL) {
        return false;
    }
    csv->pending = bigger;
    csv->pending_cap = cap;
    return true;
}

void cdr_csv_append(struct cdr_csv *csv, const struct cdr_row *row)
{
    if (csv->fd < 0) {
        return;
    }
    if (!reserve(csv)) {
        /* Out of memory: the lines go out before their commit rather than not at all. */
        cdr_csv_flush(csv);
        if (!reserve(csv)) {
            count_error(csv);
            log_err(NULL, "cdr: no memory for a CSV line");
            return;
        }
    }
    struct sw_buf buf;
    sw_buf_init(&buf, csv->pending + csv->pending_len, CDR_LINE_CAP);
    cdr_row_csv(row, &buf);
    if (buf.is_overflow) {
        log_err(NULL, "cdr: a record does not fit a CSV line of %d bytes", CDR_LINE_CAP);
        return;
    }
    csv->pending_len += buf.len;
    csv->pending_lines++;
}
