#include "call/registrar.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/alloc.h"

struct registrar_slot {
    pthread_mutex_t lock;
    bool is_set;
    struct registrar_binding binding;
};

static struct registrar_slot *slots;
static size_t slot_count;

int registrar_init(size_t accounts)
{
    registrar_fini();
    slots = sw_calloc(accounts == 0 ? 1 : accounts, sizeof(*slots));
    if (slots == NULL) {
        return -ENOMEM;
    }
    slot_count = accounts;
    for (size_t i = 0; i < accounts; i++) {
        pthread_mutex_init(&slots[i].lock, NULL);
    }
    return 0;
}

void registrar_fini(void)
{
    for (size_t i = 0; slots != NULL && i < slot_count; i++) {
        pthread_mutex_destroy(&slots[i].lock);
    }
    sw_free(slots);
    slots = NULL;
    slot_count = 0;
}

void registrar_store(size_t account, const struct registrar_binding *binding)
{
    if (account >= slot_count) {
        return;
    }
    pthread_mutex_lock(&slots[account].lock);
    slots[account].binding = *binding;
    slots[account].is_set = true;
    pthread_mutex_unlock(&slots[account].lock);
}

void registrar_remove(size_t account)
{
    if (account >= slot_count) {
        return;
    }
    pthread_mutex_lock(&slots[account].lock);
    slots[account].is_set = false;
    pthread_mutex_unlock(&slots[account].lock);
}

bool registrar_lookup(size_t account, int64_t now_s, struct registrar_binding *out)
{
    if (account >= slot_count) {
        return false;
    }
    pthread_mutex_lock(&slots[account].lock);
    bool is_live = slots[account].is_set && slots[account].binding.expires_at > now_s;
    if (is_live) {
        *out = slots[account].binding;
    }
    pthread_mutex_unlock(&slots[account].lock);
    return is_live;
}

size_t registrar_count(int64_t now_s)
{
    size_t count = 0;
    struct registrar_binding unused;
    for (size_t i = 0; i < slot_count; i++) {
        count += registrar_lookup(i, now_s, &unused) ? 1u : 0u;
    }
    return count;
}
