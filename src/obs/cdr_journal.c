#include "obs/cdr_journal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/alloc.h"
#include "base/mapfile.h"

#define ENTRY_MAGIC 0x51524453u /* "SDRQ" */

struct entry {
    uint32_t magic;
    uint32_t size; /* sizeof(struct call_record): another build's layout is refused */
    uint64_t seq;
    uint64_t check;
    struct call_record rec;
};

struct cdr_journal {
    struct sw_mapfile file;
    size_t used; /* bytes of the current chain */
    uint64_t next_seq;
};

/* A check over the number and the record, across processes (sw_hash is keyed per
 * process): eight bytes a step with a multiply and a rotation, then MurmurHash3's 64-bit
 * finalizer; it tells a torn entry, and costs a few hundred instructions where FNV-1a a
 * byte at a time cost 9,000 for each record. */
static uint64_t check_of(uint64_t seq, const struct call_record *rec)
{
    const uint64_t prime = 0x9e3779b97f4a7c15u;
    uint64_t h = (seq ^ 0xcbf29ce484222325u) * prime;
    const unsigned char *p = (const unsigned char *)rec;
    size_t i = 0;
    for (; i + sizeof(uint64_t) <= sizeof(*rec); i += sizeof(uint64_t)) {
        uint64_t word;
        memcpy(&word, p + i, sizeof(word));
        h = ((h ^ word) * prime);
        h = (h << 31) | (h >> 33);
    }
    for (; i < sizeof(*rec); i++) {
        h = (h ^ p[i]) * prime;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

static struct entry *entry_at(const struct cdr_journal *j, size_t offset)
{
    return (struct entry *)(void *)(j->file.map + offset);
}

/* Past every number in the file, old chains included: an entry numbered one past a new one
 * must never be found there, or a replay would run on into records already committed. */
static uint64_t first_free_seq(const struct cdr_journal *j)
{
    uint64_t last = 0;
    for (size_t at = 0; at + sizeof(struct entry) <= j->file.bytes; at += sizeof(struct entry)) {
        const struct entry *e = entry_at(j, at);
        if (e->magic == ENTRY_MAGIC && e->seq > last) {
            last = e->seq;
        }
    }
    return last + 1;
}

int cdr_journal_open(const char *path, struct cdr_journal **out)
{
    *out = NULL;
    struct cdr_journal *j = sw_calloc(1, sizeof(*j));
    if (j == NULL) {
        return -ENOMEM;
    }
    int rc = sw_mapfile_open(path, CDR_JOURNAL_INITIAL, false, &j->file);
    if (rc != 0) {
        sw_free(j);
        return rc;
    }
    j->next_seq = first_free_seq(j);
    *out = j;
    return 0;
}

uint64_t cdr_journal_replay(const struct cdr_journal *journal, cdr_journal_fn *fn, void *ctx,
                            bool *is_torn)
{
    *is_torn = false;
    uint64_t visited = 0;
    uint64_t expected = 0; /* 0: the first entry may carry any number */
    for (size_t at = 0; at + sizeof(struct entry) <= journal->file.bytes;
         at += sizeof(struct entry)) {
        const struct entry *e = entry_at(journal, at);
        if (e->magic != ENTRY_MAGIC || e->size != sizeof(struct call_record) ||
            (expected != 0 && e->seq != expected)) {
            break; /* the chain's end: zeros, another layout, or an older chain */
        }
        if (e->check != check_of(e->seq, &e->rec)) {
            *is_torn = true;
            break;
        }
        visited++;
        expected = e->seq + 1;
        if (!fn(ctx, &e->rec)) {
            break;
        }
    }
    return visited;
}

int cdr_journal_append(struct cdr_journal *journal, const struct call_record *rec)
{
    if (journal->used + sizeof(struct entry) > journal->file.bytes) {
        int rc = sw_mapfile_grow(&journal->file, journal->file.bytes * 2);
        if (rc != 0) {
            return rc;
        }
    }
    struct entry *e = entry_at(journal, journal->used);
    e->magic = ENTRY_MAGIC;
    e->size = (uint32_t)sizeof(struct call_record);
    e->seq = journal->next_seq;
    e->rec = *rec;
    e->check = check_of(e->seq, rec);
    journal->next_seq++;
    journal->used += sizeof(struct entry);
    return 0;
}

void cdr_journal_reset(struct cdr_journal *journal)
{
    /* The old first entry must not start a chain after a crash before the next append. */
    entry_at(journal, 0)->magic = 0;
    journal->used = 0;
}

size_t cdr_journal_bytes(const struct cdr_journal *journal)
{
    return journal->used;
}

void cdr_journal_close(struct cdr_journal *journal)
{
    if (journal == NULL) {
        return;
    }
    sw_mapfile_close(&journal->file);
    sw_free(journal);
}
