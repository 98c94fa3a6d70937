#include "obs/cdr_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

#define ENTRY_MAGIC 0x51524453u /* "SDRQ" */

struct entry {
    uint32_t magic;
    uint32_t size; /* sizeof(struct call_record): another build's layout is refused */
    uint64_t seq;
    uint64_t check;
    struct call_record rec;
};

struct cdr_journal {
    int fd;
    unsigned char *map;
    size_t map_bytes;
    size_t used; /* bytes of the current chain */
    uint64_t next_seq;
};

/* FNV-1a over the number and the record: an integrity check across processes (sw_hash is
 * keyed per process). */
static uint64_t check_of(uint64_t seq, const struct call_record *rec)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < sizeof(seq); i++) {
        h = (h ^ ((seq >> (8 * i)) & 0xffu)) * 0x100000001b3u;
    }
    const unsigned char *p = (const unsigned char *)rec;
    for (size_t i = 0; i < sizeof(*rec); i++) {
        h = (h ^ p[i]) * 0x100000001b3u;
    }
    return h;
}

static struct entry *entry_at(const struct cdr_journal *j, size_t offset)
{
    return (struct entry *)(void *)(j->map + offset);
}

/* Maps `bytes` of the file, growing it when it is shorter. */
static int map_file(struct cdr_journal *j, size_t bytes)
{
    struct stat st;
    if (fstat(j->fd, &st) != 0) {
        return -errno;
    }
    if ((size_t)st.st_size < bytes && ftruncate(j->fd, (off_t)bytes) != 0) {
        return -errno;
    }
    size_t size = (size_t)st.st_size > bytes ? (size_t)st.st_size : bytes;
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
    if (map == MAP_FAILED) {
        return -errno;
    }
    j->map = map;
    j->map_bytes = size;
    return 0;
}

/* Past every number in the file, old chains included: an entry numbered one past a new one
 * must never be found there, or a replay would run on into records already committed. */
static uint64_t first_free_seq(const struct cdr_journal *j)
{
    uint64_t last = 0;
    for (size_t at = 0; at + sizeof(struct entry) <= j->map_bytes; at += sizeof(struct entry)) {
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
    j->map = MAP_FAILED;
    j->next_seq = 1;
    /* The records name people and numbers: the file is the daemon's alone. */
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = j->fd < 0 || fchmod(j->fd, 0600) != 0 ? -errno : map_file(j, CDR_JOURNAL_INITIAL);
    if (rc != 0) {
        cdr_journal_close(j);
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
    for (size_t at = 0; at + sizeof(struct entry) <= journal->map_bytes;
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

static int grow(struct cdr_journal *j)
{
    size_t bytes = j->map_bytes * 2;
    if (ftruncate(j->fd, (off_t)bytes) != 0) {
        return -errno;
    }
    /* The old mapping stays until the new one exists: a failure keeps appending possible
       once the writer resets the journal. */
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, j->fd, 0);
    if (map == MAP_FAILED) {
        return -errno;
    }
    (void)munmap(j->map, j->map_bytes);
    j->map = map;
    j->map_bytes = bytes;
    return 0;
}

int cdr_journal_append(struct cdr_journal *journal, const struct call_record *rec)
{
    if (journal->used + sizeof(struct entry) > journal->map_bytes) {
        int rc = grow(journal);
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
    if (journal->map != MAP_FAILED) {
        (void)munmap(journal->map, journal->map_bytes);
    }
    if (journal->fd >= 0) {
        (void)close(journal->fd);
    }
    sw_free(journal);
}
