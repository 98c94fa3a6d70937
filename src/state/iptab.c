#include "state/iptab.h"

#include <errno.h>
#include <stdbool.h>

#include "base/alloc.h"
#include "base/assert.h"

int iptab_init(struct iptab *tab, uint32_t max_entries)
{
    SW_ASSERT(max_entries > 0 && max_entries <= (1u << 29));
    uint32_t slot_count = 2;
    while (slot_count < max_entries * 2) {
        slot_count <<= 1;
    }
    tab->slots = sw_malloc((size_t)slot_count * sizeof(*tab->slots));
    if (tab->slots == NULL) {
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < slot_count; i++) {
        tab->slots[i].entry = IPTAB_NONE;
        tab->slots[i].hash = 0;
    }
    tab->mask = slot_count - 1;
    tab->count = 0;
    tab->max_count = max_entries;
    return 0;
}

void iptab_fini(struct iptab *tab)
{
    sw_free(tab->slots);
    tab->slots = NULL;
}

size_t iptab_memory_bytes(const struct iptab *tab)
{
    return tab->slots == NULL ? 0 : ((size_t)tab->mask + 1) * sizeof(*tab->slots);
}

void iptab_cursor_init(const struct iptab *tab, uint32_t hash, struct iptab_cursor *cur)
{
    cur->hash = hash;
    cur->pos = hash & tab->mask;
    cur->steps = 0;
}

uint32_t iptab_next(const struct iptab *tab, struct iptab_cursor *cur)
{
    while (cur->steps <= tab->mask) {
        const struct iptab_slot *slot = &tab->slots[cur->pos];
        if (slot->entry == IPTAB_NONE) {
            cur->steps = tab->mask + 1;
            return IPTAB_NONE;
        }
        uint32_t at = cur->pos;
        cur->pos = (cur->pos + 1) & tab->mask;
        cur->steps++;
        if (slot->hash == cur->hash) {
            /* Leave pos on the match so that a caller could inspect it; next call moves on. */
            return tab->slots[at].entry;
        }
    }
    return IPTAB_NONE;
}

void iptab_insert(struct iptab *tab, uint32_t hash, uint32_t entry)
{
    SW_ASSERT(tab->count < tab->max_count && entry != IPTAB_NONE);
    uint32_t pos = hash & tab->mask;
    /* Bounded: at most half the slots are used, so an empty one comes soon. */
    for (uint32_t n = 0; n <= tab->mask; n++) {
        if (tab->slots[pos].entry == IPTAB_NONE) {
            tab->slots[pos].entry = entry;
            tab->slots[pos].hash = hash;
            tab->count++;
            return;
        }
        pos = (pos + 1) & tab->mask;
    }
    SW_ASSERT(false);
}

static void remove_at(struct iptab *tab, uint32_t hole)
{
    uint32_t j = hole;
    for (uint32_t n = 0; n < tab->mask; n++) {
        j = (j + 1) & tab->mask;
        const struct iptab_slot *next = &tab->slots[j];
        if (next->entry == IPTAB_NONE) {
            break;
        }
        uint32_t home = next->hash & tab->mask;
        /* `next` stays when its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            tab->slots[hole] = *next;
            hole = j;
        }
    }
    tab->slots[hole].entry = IPTAB_NONE;
    tab->count--;
}

void iptab_remove(struct iptab *tab, uint32_t hash, uint32_t entry)
{
    uint32_t pos = hash & tab->mask;
    for (uint32_t n = 0; n <= tab->mask; n++) {
        const struct iptab_slot *slot = &tab->slots[pos];
        if (slot->entry == IPTAB_NONE) {
            return;
        }
        if (slot->entry == entry) {
            remove_at(tab, pos);
            return;
        }
        pos = (pos + 1) & tab->mask;
    }
}
