#include "call/registrar.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "state/regshare.h"

struct registrar_entry {
    char name[REGISTRAR_NAME_CAP]; /* "" = empty */
    size_t name_len;
    struct registrar_binding binding;
};

/* #15: tells the cluster (when registrations are shared) which bindings this node holds. */
static void share(struct sv account, int64_t expires_at_s)
{
    struct regshare *shared = regshare_installed();
    if (shared != NULL) {
        regshare_local(shared, account, expires_at_s);
    }
}

/* Open addressing with linear probing and backward-shift deletion, at most half full. */
static struct registrar_entry *entries;
static size_t entry_mask;
static size_t entry_count;
static size_t max_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int registrar_init(size_t max_accounts)
{
    registrar_fini();
    size_t cap = 16;
    while (cap < max_accounts * 2) {
        cap <<= 1;
    }
    entries = sw_calloc(cap, sizeof(*entries));
    if (entries == NULL) {
        return -ENOMEM;
    }
    entry_mask = cap - 1;
    max_count = cap / 2;
    entry_count = 0;
    return 0;
}

void registrar_fini(void)
{
    sw_free(entries);
    entries = NULL;
    entry_mask = 0;
    entry_count = 0;
    max_count = 0;
}

static size_t home_of(struct sv name)
{
    return (size_t)sw_hash_sv(name) & entry_mask;
}

static bool entry_is(const struct registrar_entry *e, struct sv name)
{
    return e->name_len == name.len && name.len > 0 && memcmp(e->name, name.ptr, name.len) == 0;
}

/* The entry of `name`, or the empty entry where it would go. Caller holds the lock. */
static struct registrar_entry *probe(struct sv name)
{
    size_t pos = home_of(name);
    for (size_t step = 0; step <= entry_mask; step++) {
        struct registrar_entry *e = &entries[pos];
        if (e->name_len == 0 || entry_is(e, name)) {
            return e;
        }
        pos = (pos + 1) & entry_mask;
    }
    return NULL; /* unreachable while the table is at most half full */
}

/* Backward-shift deletion (no tombstones). Caller holds the lock. */
static void erase(struct registrar_entry *e)
{
    size_t hole = (size_t)(e - entries);
    size_t pos = (hole + 1) & entry_mask;
    for (size_t step = 0; step < entry_mask && entries[pos].name_len != 0; step++) {
        size_t home = home_of(sv_make(entries[pos].name, entries[pos].name_len));
        /* Move the entry back when its home is not between the hole and its place. */
        if (((pos - home) & entry_mask) >= ((pos - hole) & entry_mask)) {
            entries[hole] = entries[pos];
            hole = pos;
        }
        pos = (pos + 1) & entry_mask;
    }
    memset(&entries[hole], 0, sizeof(entries[hole]));
    entry_count--;
}

bool registrar_store(struct sv account, const struct registrar_binding *binding)
{
    if (entries == NULL || account.len == 0 || account.len >= REGISTRAR_NAME_CAP) {
        return false;
    }
    pthread_mutex_lock(&lock);
    struct registrar_entry *e = probe(account);
    bool is_stored = e != NULL && (e->name_len != 0 || entry_count < max_count);
    if (is_stored) {
        if (e->name_len == 0) {
            memcpy(e->name, account.ptr, account.len);
            e->name[account.len] = '\0';
            e->name_len = account.len;
            entry_count++;
        }
        e->binding = *binding;
    }
    pthread_mutex_unlock(&lock);
    if (is_stored) {
        share(account, binding->expires_at);
    }
    return is_stored;
}

void registrar_remove(struct sv account)
{
    if (entries == NULL || account.len == 0) {
        return;
    }
    pthread_mutex_lock(&lock);
    struct registrar_entry *e = probe(account);
    if (e != NULL && e->name_len != 0) {
        erase(e);
    }
    pthread_mutex_unlock(&lock);
    share(account, 0);
}

bool registrar_lookup(struct sv account, int64_t now_s, struct registrar_binding *out)
{
    if (entries == NULL || account.len == 0) {
        return false;
    }
    pthread_mutex_lock(&lock);
    const struct registrar_entry *e = probe(account);
    bool is_live = e != NULL && e->name_len != 0 && e->binding.expires_at > now_s;
    if (is_live) {
        *out = e->binding;
    }
    pthread_mutex_unlock(&lock);
    return is_live;
}

size_t registrar_retain(bool (*keep)(void *ctx, struct sv account), void *ctx)
{
    size_t dropped = 0;
    pthread_mutex_lock(&lock);
    /* An erase shifts later entries back: look at the same place again after one. */
    for (size_t i = 0; entries != NULL && i <= entry_mask;) {
        struct registrar_entry *e = &entries[i];
        if (e->name_len != 0 && !keep(ctx, sv_make(e->name, e->name_len))) {
            share(sv_make(e->name, e->name_len), 0); /* before the erase moves the name */
            erase(e);
            dropped++;
            continue;
        }
        i++;
    }
    pthread_mutex_unlock(&lock);
    return dropped;
}

size_t registrar_count(int64_t now_s)
{
    size_t count = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; entries != NULL && i <= entry_mask; i++) {
        count += entries[i].name_len != 0 && entries[i].binding.expires_at > now_s ? 1u : 0u;
    }
    pthread_mutex_unlock(&lock);
    return count;
}
