#include "number/highrisk.h"

#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "number/ptrie.h"

struct highrisk {
    struct ptrie trie; /* prefix -> index in entries */
    struct highrisk_entry *entries;
    size_t count;
    size_t cap;
};

static bool is_list_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

static bool valid_prefix(struct sv prefix)
{
    if (prefix.len == 0 || prefix.len > E164_MAX_DIGITS) {
        return false;
    }
    for (size_t i = 0; i < prefix.len; i++) {
        if (prefix.ptr[i] < '0' || prefix.ptr[i] > '9') {
            return false;
        }
    }
    return true;
}

static bool valid_list_id(struct sv id)
{
    if (id.len == 0 || id.len > HIGHRISK_MAX_LIST_ID) {
        return false;
    }
    for (size_t i = 0; i < id.len; i++) {
        if (!is_list_id_char(id.ptr[i])) {
            return false;
        }
    }
    return true;
}

/* Inserts or replaces the row for `prefix`; `list_id` fits (checked by the callers). */
static int put(struct highrisk *list, struct sv prefix, struct sv list_id,
               const struct numplan_highrisk *builtin)
{
    uint32_t index = 0;
    bool is_new = !ptrie_longest(&list->trie, prefix, &index, NULL) ||
                  strlen(list->entries[index].prefix) != prefix.len;
    if (is_new) {
        if (list->count >= HIGHRISK_MAX_ENTRIES) {
            return -SW_EFULL;
        }
        if (list->count == list->cap) {
            size_t cap = list->cap == 0 ? 64 : list->cap * 2;
            struct highrisk_entry *entries = sw_realloc(list->entries, cap * sizeof(*entries));
            if (entries == NULL) {
                return -ENOMEM;
            }
            list->entries = entries;
            list->cap = cap;
        }
        index = (uint32_t)list->count;
        int rc = ptrie_insert(&list->trie, prefix, index, NULL);
        if (rc != 0) {
            return rc < 0 ? rc : -SW_EBADARG;
        }
        list->count++;
    }
    struct highrisk_entry *entry = &list->entries[index];
    memset(entry, 0, sizeof(*entry));
    memcpy(entry->prefix, prefix.ptr, prefix.len);
    memcpy(entry->list_id, list_id.ptr, list_id.len);
    entry->builtin = builtin;
    return 0;
}

struct highrisk *highrisk_new(bool with_builtin)
{
    struct highrisk *list = sw_calloc(1, sizeof(*list));
    if (list == NULL) {
        return NULL;
    }
    ptrie_init(&list->trie);
    for (size_t i = 0; with_builtin && i < numplan_highrisk_count(); i++) {
        const struct numplan_highrisk *row = numplan_highrisk_row(i);
        struct sv ids = sv_from_cstr(row->lists);
        if (ids.len > HIGHRISK_MAX_LIST_ID) {
            ids.len = HIGHRISK_MAX_LIST_ID; /* the full text stays in row->lists */
        }
        if (put(list, sv_from_cstr(row->prefix), ids, row) != 0) {
            highrisk_free(list);
            return NULL;
        }
    }
    return list;
}

void highrisk_free(struct highrisk *list)
{
    if (list == NULL) {
        return;
    }
    ptrie_fini(&list->trie);
    sw_free(list->entries);
    sw_free(list);
}

int highrisk_add(struct highrisk *list, struct sv prefix, struct sv list_id)
{
    if (prefix.len > 0 && prefix.ptr[0] == '+') {
        prefix = sv_slice(prefix, 1, prefix.len - 1);
    }
    if (!valid_prefix(prefix) || !valid_list_id(list_id)) {
        return -SW_EBADARG;
    }
    return put(list, prefix, list_id, NULL);
}

const struct highrisk_entry *highrisk_match(const struct highrisk *list, struct sv digits)
{
    uint32_t index = 0;
    if (!ptrie_longest(&list->trie, digits, &index, NULL)) {
        return NULL;
    }
    return &list->entries[index];
}

size_t highrisk_count(const struct highrisk *list)
{
    return list->count;
}
