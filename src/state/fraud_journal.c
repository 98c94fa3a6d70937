#include "state/fraud_journal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/assert.h"
#include "base/mapfile.h"
#include "state/fraudstore.h"

#define JOURNAL_MAGIC "sipwarden-fraud-journal-2" /* -1 had no duration */
#define HEADER_BYTES  4096u
#define RECORD_KEY    FRAUD_KEY_CAP
#define RECORD_DIGITS 32u
#define RECORD_BYTES  160u
#define MAX_SLOTS     (1u << 20)

/* A record; `seq` is written last, so a record with a non-zero seq is whole. */
struct record {
    _Atomic uint64_t seq;
    int64_t wall_ms;
    int64_t duration_ms;
    uint8_t kind;
    uint8_t is_international;
    uint8_t key_len;
    uint8_t digits_len;
    char key[RECORD_KEY];
    char digits[RECORD_DIGITS];
};

_Static_assert(sizeof(struct record) <= RECORD_BYTES, "a record fits its slot");
_Static_assert(RECORD_KEY <= UINT8_MAX && RECORD_DIGITS <= UINT8_MAX, "lengths fit a byte");

struct header {
    char magic[32];
    uint32_t record_bytes;
    uint32_t slots;
};

struct fraud_journal {
    struct sw_mapfile file;
    size_t slots;
    _Atomic uint64_t next_seq;
};

static struct record *slot_at(const struct fraud_journal *j, size_t index)
{
    return (struct record *)(void *)(j->file.map + HEADER_BYTES + index * RECORD_BYTES);
}

/* The header of a journal of this layout: anything else (another version, another size,
 * a new file) is zeroed and written afresh. */
static void claim_layout(struct fraud_journal *j)
{
    struct header *h = (struct header *)(void *)j->file.map;
    if (memcmp(h->magic, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC)) == 0 &&
        h->record_bytes == RECORD_BYTES && h->slots == j->slots) {
        return;
    }
    memset(j->file.map, 0, j->file.bytes);
    memcpy(h->magic, JOURNAL_MAGIC, sizeof(JOURNAL_MAGIC));
    h->record_bytes = RECORD_BYTES;
    h->slots = (uint32_t)j->slots;
}

int fraud_journal_open(const char *path, size_t slots, struct fraud_journal **out)
{
    *out = NULL;
    if (slots == 0 || slots > MAX_SLOTS || (slots & (slots - 1)) != 0) {
        return -EINVAL;
    }
    struct fraud_journal *j = sw_calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    j->slots = slots;
    int rc = sw_mapfile_open(path, HEADER_BYTES + slots * RECORD_BYTES, true, &j->file);
    if (rc != 0) {
        sw_free(j);
        return rc;
    }
    claim_layout(j);
    uint64_t last = 0;
    for (size_t i = 0; i < slots; i++) {
        uint64_t seq = atomic_load_explicit(&slot_at(j, i)->seq, memory_order_relaxed);
        last = seq > last ? seq : last;
    }
    atomic_init(&j->next_seq, last + 1);
    *out = j;
    return 0;
}

void fraud_journal_close(struct fraud_journal *journal)
{
    if (journal == NULL) {
        return;
    }
    sw_mapfile_close(&journal->file);
    sw_free(journal);
}

static size_t clamp_copy(char *to, size_t cap, struct sv from)
{
    size_t len = from.len < cap ? from.len : cap;
    if (len > 0) {
        memcpy(to, from.ptr, len);
    }
    return len;
}

/* What a record says besides its kind and key. */
struct record_body {
    struct sv digits;
    bool is_international;
    int64_t wall_ms;
    int64_t duration_ms;
};

static void append(struct fraud_journal *j, enum fraud_journal_kind kind, struct sv key,
                   const struct record_body *body)
{
    uint64_t seq = atomic_fetch_add_explicit(&j->next_seq, 1, memory_order_relaxed);
    struct record *r = slot_at(j, (size_t)seq & (j->slots - 1));
    /* The slot is invalid while it is rewritten: a kill in between leaves no half record.
     * The order matters only to the kernel's copy of the page, which sees this thread's
     * stores in program order once the compiler keeps them in it. */
    atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst);
    r->wall_ms = body->wall_ms;
    r->duration_ms = body->duration_ms;
    r->kind = (uint8_t)kind;
    r->is_international = body->is_international ? 1u : 0u;
    r->key_len = (uint8_t)clamp_copy(r->key, sizeof(r->key), key);
    r->digits_len = (uint8_t)clamp_copy(r->digits, sizeof(r->digits), body->digits);
    atomic_store_explicit(&r->seq, seq, memory_order_release);
}

void fraud_journal_dial(struct fraud_journal *journal, struct sv key, struct sv digits,
                        bool is_international, int64_t wall_ms)
{
    SW_ASSERT(journal != NULL);
    struct record_body body = { digits, is_international, wall_ms, 0 };
    append(journal, FRAUD_JOURNAL_DIAL, key, &body);
}

void fraud_journal_dial_end(struct fraud_journal *journal, struct sv key, struct sv digits,
                            int64_t dial_wall_ms, int64_t duration_ms)
{
    SW_ASSERT(journal != NULL);
    struct record_body body = { digits, false, dial_wall_ms, duration_ms };
    append(journal, FRAUD_JOURNAL_END, key, &body);
}

void fraud_journal_mark(struct fraud_journal *journal, struct sv digits, int64_t at_s)
{
    SW_ASSERT(journal != NULL);
    struct record_body body = { digits, false, at_s * 1000, 0 };
    append(journal, FRAUD_JOURNAL_MARK, sv_from_cstr(""), &body);
}

uint64_t fraud_journal_next_seq(struct fraud_journal *journal)
{
    return atomic_load_explicit(&journal->next_seq, memory_order_acquire);
}

struct pending {
    uint64_t seq;
    size_t index;
};

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const struct pending *)a)->seq;
    uint64_t y = ((const struct pending *)b)->seq;
    return (x > y) - (x < y);
}

static bool is_replayable(const struct record *r, uint64_t seq, uint64_t since_seq,
                          int64_t not_before_wall_ms)
{
    return seq != 0 && seq >= since_seq && r->wall_ms >= not_before_wall_ms &&
           (r->kind == FRAUD_JOURNAL_DIAL || r->kind == FRAUD_JOURNAL_MARK ||
            r->kind == FRAUD_JOURNAL_END) &&
           r->key_len <= sizeof(r->key) && r->digits_len <= sizeof(r->digits);
}

size_t fraud_journal_replay(struct fraud_journal *journal, uint64_t since_seq,
                            int64_t not_before_wall_ms, fraud_journal_fn *fn, void *ctx)
{
    SW_ASSERT(journal != NULL && fn != NULL);
    struct pending *order = sw_calloc(journal->slots, sizeof(*order));
    if (order == NULL) {
        return 0;
    }
    size_t count = 0;
    for (size_t i = 0; i < journal->slots; i++) {
        const struct record *r = slot_at(journal, i);
        uint64_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);
        if (is_replayable(r, seq, since_seq, not_before_wall_ms)) {
            order[count++] = (struct pending){ seq, i };
        }
    }
    qsort(order, count, sizeof(*order), by_seq);
    for (size_t i = 0; i < count; i++) {
        const struct record *r = slot_at(journal, order[i].index);
        struct fraud_journal_entry entry = {
            .kind = (enum fraud_journal_kind)r->kind,
            .seq = order[i].seq,
            .wall_ms = r->wall_ms,
            .key = { r->key, r->key_len },
            .digits = { r->digits, r->digits_len },
            .is_international = r->is_international != 0,
            .duration_ms = r->duration_ms,
        };
        fn(ctx, &entry);
    }
    sw_free(order);
    return count;
}
