#include "number/ratedeck.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"
#include "number/numfile.h"
#include "number/ptrie.h"

#define RATEDECK_HEADER \
    "prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label"
#define RATEDECK_MAX_LINE 1024u
#define RATEDECK_FIELDS   6

struct ratedeck {
    char currency[4];
    struct ptrie trie; /* prefix -> row index */
    struct ratedeck_row *rows;
    size_t count;
    size_t cap;
};

/* The state of one read: where we are and what has been seen. */
struct deck_reader {
    const char *file;
    unsigned line;
    struct sw_diag *diag;
    size_t errors;
    bool has_currency;
    bool has_header;
    bool is_oom;
    struct ratedeck *deck;
};

__attribute__((format(printf, 2, 3))) static void reader_fail(struct deck_reader *r,
                                                              const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. A longer
     * message is cut, never lost. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->errors++;
    if (r->errors <= RATEDECK_MAX_ERRORS) {
        sw_diag_add(r->diag, DIAG_ERROR, r->file, r->line, NULL, "%s", msg);
    }
}

static bool is_digits(struct sv s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') {
            return false;
        }
    }
    return s.len > 0;
}

static void read_currency(struct deck_reader *r, struct sv line)
{
    struct sv code = sv_trim(sv_slice(line, 9, line.len - 9)); /* after "currency," */
    if (r->has_currency) {
        reader_fail(r, "currency declared twice");
        return;
    }
    r->has_currency = true;
    bool is_iso = code.len == 3;
    for (size_t i = 0; is_iso && i < 3; i++) {
        is_iso = code.ptr[i] >= 'A' && code.ptr[i] <= 'Z';
    }
    if (!is_iso) {
        reader_fail(r, "currency: '" SV_FMT "' is not an ISO 4217 code (three capital letters)",
                    SV_ARG(sv_slice(code, 0, 16)));
        return;
    }
    memcpy(r->deck->currency, code.ptr, 3);
    r->deck->currency[3] = '\0';
}

static bool read_prefix(struct deck_reader *r, struct sv field, struct ratedeck_row *row)
{
    if (field.len > 0 && field.ptr[0] == '+') {
        field = sv_slice(field, 1, field.len - 1);
    }
    if (!is_digits(field) || field.len > E164_MAX_DIGITS) {
        reader_fail(r, "prefix: '" SV_FMT "' is not 1 to 15 digits",
                    SV_ARG(sv_slice(field, 0, 32)));
        return false;
    }
    memcpy(row->prefix, field.ptr, field.len);
    row->prefix[field.len] = '\0';
    return true;
}

static bool read_money(struct deck_reader *r, const char *name, struct sv field, int64_t *out)
{
    enum money_status status = money_parse(field, out);
    if (status != MONEY_OK) {
        reader_fail(r, "%s: '" SV_FMT "': %s", name, SV_ARG(sv_slice(field, 0, 32)),
                    money_status_text(status));
        return false;
    }
    return true;
}

static bool read_increment(struct deck_reader *r, const char *name, struct sv field, uint32_t *out)
{
    if (!sv_to_u32(field, out) || *out == 0 || *out > RATE_MAX_INCREMENT_S) {
        reader_fail(r, "%s: '" SV_FMT "' is not a whole number of seconds from 1 to %u", name,
                    SV_ARG(sv_slice(field, 0, 32)), RATE_MAX_INCREMENT_S);
        return false;
    }
    return true;
}

static bool read_label(struct deck_reader *r, struct sv field, struct ratedeck_row *row)
{
    if (field.len > RATEDECK_MAX_LABEL) {
        reader_fail(r, "label: longer than %u bytes", RATEDECK_MAX_LABEL);
        return false;
    }
    for (size_t i = 0; i < field.len; i++) {
        unsigned char c = (unsigned char)field.ptr[i];
        if (c < 0x20 || c > 0x7e || c == '"') {
            reader_fail(r, "label: byte %zu is not printable ASCII (or is a quote)", i + 1);
            return false;
        }
    }
    memcpy(row->label, field.ptr, field.len);
    row->label[field.len] = '\0';
    return true;
}

/* Splits `line` at commas into exactly RATEDECK_FIELDS trimmed fields. */
static bool split_fields(struct deck_reader *r, struct sv line, struct sv *fields)
{
    struct sv cur = line;
    size_t count = 0;
    bool more = true;
    while (more) {
        struct sv field;
        more = sv_take_until(&cur, ',', &field);
        if (count == RATEDECK_FIELDS) {
            reader_fail(r, "more than %d fields", RATEDECK_FIELDS);
            return false;
        }
        fields[count++] = sv_trim(field);
    }
    if (count != RATEDECK_FIELDS) {
        reader_fail(r, "%zu fields, expected %d (" RATEDECK_HEADER ")", count, RATEDECK_FIELDS);
        return false;
    }
    return true;
}

static bool parse_row(struct deck_reader *r, struct sv line, struct ratedeck_row *row)
{
    struct sv f[RATEDECK_FIELDS];
    memset(row, 0, sizeof(*row));
    row->line = r->line;
    if (!split_fields(r, line, f)) {
        return false;
    }
    /* Every field is checked so that one pass reports every problem of the line. */
    bool ok = read_prefix(r, f[0], row);
    ok &= read_money(r, "rate_per_minute", f[1], &row->rate.per_minute_micro);
    ok &= read_money(r, "connect_fee", f[2], &row->rate.connect_fee_micro);
    ok &= read_increment(r, "first_increment_s", f[3], &row->rate.first_increment_s);
    ok &= read_increment(r, "next_increment_s", f[4], &row->rate.next_increment_s);
    ok &= read_label(r, f[5], row);
    return ok;
}

static void add_row(struct deck_reader *r, const struct ratedeck_row *row)
{
    struct ratedeck *deck = r->deck;
    if (deck->count >= RATEDECK_MAX_ROWS) {
        reader_fail(r, "more than %u rows", RATEDECK_MAX_ROWS);
        return;
    }
    if (deck->count == deck->cap) {
        size_t cap = deck->cap == 0 ? 256 : deck->cap * 2;
        struct ratedeck_row *rows = sw_realloc(deck->rows, cap * sizeof(*rows));
        if (rows == NULL) {
            r->is_oom = true;
            return;
        }
        deck->rows = rows;
        deck->cap = cap;
    }
    uint32_t old = 0;
    int rc = ptrie_insert(&deck->trie, sv_from_cstr(row->prefix), (uint32_t)deck->count, &old);
    if (rc == 1) {
        reader_fail(r, "prefix %s already priced on line %u", row->prefix, deck->rows[old].line);
        return;
    }
    if (rc != 0) {
        r->is_oom = rc == -ENOMEM;
        if (!r->is_oom) {
            reader_fail(r, "prefix table full");
        }
        return;
    }
    deck->rows[deck->count++] = *row;
}

static void read_line(struct deck_reader *r, struct sv line)
{
    if (line.len > RATEDECK_MAX_LINE) {
        reader_fail(r, "line longer than %u bytes", RATEDECK_MAX_LINE);
        return;
    }
    line = sv_trim(line);
    if (line.len == 0 || line.ptr[0] == '#') {
        return;
    }
    if (sv_starts_with(line, SV("currency,"))) {
        read_currency(r, line);
        return;
    }
    if (!r->has_currency) {
        reader_fail(r, "the first row must declare the currency (currency,EUR)");
        r->has_currency = true;
    }
    if (!r->has_header) {
        r->has_header = true;
        if (!sv_eq(line, SV(RATEDECK_HEADER))) {
            reader_fail(r, "expected the header line " RATEDECK_HEADER);
        }
        return;
    }
    struct ratedeck_row row;
    if (parse_row(r, line, &row)) {
        add_row(r, &row);
    }
}

static void read_all(struct deck_reader *r, struct sv text)
{
    struct sv cur = text;
    while (cur.len > 0 && !r->is_oom && r->errors <= RATEDECK_MAX_ERRORS) {
        struct sv line;
        (void)sv_take_until(&cur, '\n', &line); /* the last line may lack its newline */
        r->line++;
        read_line(r, line);
    }
    if (r->errors > RATEDECK_MAX_ERRORS) {
        sw_diag_add(r->diag, DIAG_ERROR, r->file, r->line, NULL,
                    "too many errors, stopped reading");
        return;
    }
    if (!r->has_currency) {
        reader_fail(r, "no currency row (currency,EUR)");
    } else if (!r->has_header) {
        reader_fail(r, "no header line (" RATEDECK_HEADER ")");
    } else if (r->deck->count == 0 && r->errors == 0) {
        reader_fail(r, "no rates");
    }
}

int ratedeck_parse(struct sv text, const char *file, struct ratedeck **out, struct sw_diag *diag)
{
    *out = NULL;
    struct ratedeck *deck = sw_calloc(1, sizeof(*deck));
    if (deck == NULL) {
        return -ENOMEM;
    }
    ptrie_init(&deck->trie);
    struct deck_reader r = { .file = file, .diag = diag, .deck = deck };
    if (text.len > RATEDECK_MAX_BYTES) {
        reader_fail(&r, "larger than %u bytes", RATEDECK_MAX_BYTES);
    } else {
        read_all(&r, text);
    }
    if (r.is_oom || r.errors > 0) {
        ratedeck_free(deck);
        return r.is_oom ? -ENOMEM : -SW_ECONFIG;
    }
    *out = deck;
    return 0;
}

int ratedeck_load(const char *path, struct ratedeck **out, struct sw_diag *diag)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int err = numfile_read(path, RATEDECK_MAX_BYTES, &buf, &len);
    if (err != 0) {
        sw_diag_add(diag, DIAG_ERROR, path, 0, NULL, "cannot read: %s", sw_strerror(err));
        return err;
    }
    err = ratedeck_parse(sv_make(buf, len), path, out, diag);
    sw_free(buf);
    return err;
}

void ratedeck_free(struct ratedeck *deck)
{
    if (deck == NULL) {
        return;
    }
    ptrie_fini(&deck->trie);
    sw_free(deck->rows);
    sw_free(deck);
}

const struct ratedeck_row *ratedeck_lookup(const struct ratedeck *deck, struct sv digits)
{
    uint32_t index = 0;
    if (!ptrie_longest(&deck->trie, digits, &index, NULL)) {
        return NULL;
    }
    return &deck->rows[index];
}

const char *ratedeck_currency(const struct ratedeck *deck)
{
    return deck->currency;
}

size_t ratedeck_count(const struct ratedeck *deck)
{
    return deck->count;
}

const struct ratedeck_row *ratedeck_row_at(const struct ratedeck *deck, size_t i)
{
    SW_ASSERT(i < deck->count);
    return &deck->rows[i];
}
