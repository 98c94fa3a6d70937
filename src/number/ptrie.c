#include "number/ptrie.h"

#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

void ptrie_init(struct ptrie *trie)
{
    trie->nodes = NULL;
    trie->count = 0;
    trie->cap = 0;
}

void ptrie_fini(struct ptrie *trie)
{
    sw_free(trie->nodes);
    trie->nodes = NULL;
    trie->count = 0;
    trie->cap = 0;
}

/* Appends a blank node; its index in *index. */
static int node_new(struct ptrie *trie, uint32_t *index)
{
    if (trie->count == trie->cap) {
        if (trie->cap >= PTRIE_MAX_NODES) {
            return -SW_EFULL;
        }
        uint32_t cap = trie->cap == 0 ? 256 : trie->cap * 2;
        struct ptrie_node *nodes = sw_realloc(trie->nodes, (size_t)cap * sizeof(*nodes));
        if (nodes == NULL) {
            return -ENOMEM;
        }
        trie->nodes = nodes;
        trie->cap = cap;
    }
    memset(&trie->nodes[trie->count], 0, sizeof(trie->nodes[0]));
    *index = trie->count++;
    return 0;
}

/* The node that ends `prefix`, created when `create`; 0 when absent (or on failure: *err). */
static uint32_t walk(struct ptrie *trie, struct sv prefix, bool create, int *err)
{
    *err = 0;
    if (trie->count == 0) {
        uint32_t root = 0;
        if (!create || (*err = node_new(trie, &root)) != 0) {
            return 0;
        }
    }
    uint32_t node = 0;
    for (size_t i = 0; i < prefix.len; i++) {
        unsigned digit = (unsigned)((unsigned char)prefix.ptr[i] - '0');
        if (digit > 9) {
            *err = -SW_EBADARG;
            return 0;
        }
        uint32_t next = trie->nodes[node].child[digit];
        if (next == 0) {
            if (!create || (*err = node_new(trie, &next)) != 0) {
                return 0;
            }
            trie->nodes[node].child[digit] = next;
        }
        node = next;
    }
    return node;
}

int ptrie_insert(struct ptrie *trie, struct sv prefix, uint32_t value, uint32_t *old)
{
    if (prefix.len == 0 || value == UINT32_MAX) {
        return -SW_EBADARG;
    }
    int err = 0;
    uint32_t node = walk(trie, prefix, true, &err);
    if (err != 0) {
        return err;
    }
    if (trie->nodes[node].value != 0) {
        if (old != NULL) {
            *old = trie->nodes[node].value - 1;
        }
        return 1;
    }
    trie->nodes[node].value = value + 1;
    return 0;
}

bool ptrie_set(struct ptrie *trie, struct sv prefix, uint32_t value)
{
    int err = 0;
    uint32_t node = prefix.len > 0 ? walk(trie, prefix, false, &err) : 0;
    if (node == 0 || trie->nodes[node].value == 0 || value == UINT32_MAX) {
        return false;
    }
    trie->nodes[node].value = value + 1;
    return true;
}

bool ptrie_longest(const struct ptrie *trie, struct sv digits, uint32_t *value, size_t *prefix_len)
{
    if (trie->count == 0) {
        return false;
    }
    uint32_t node = 0;
    uint32_t best = 0;
    size_t best_len = 0;
    for (size_t i = 0; i < digits.len; i++) {
        unsigned digit = (unsigned)((unsigned char)digits.ptr[i] - '0');
        if (digit > 9 || (node = trie->nodes[node].child[digit]) == 0) {
            break;
        }
        if (trie->nodes[node].value != 0) {
            best = trie->nodes[node].value;
            best_len = i + 1;
        }
    }
    if (best == 0) {
        return false;
    }
    if (value != NULL) {
        *value = best - 1;
    }
    if (prefix_len != NULL) {
        *prefix_len = best_len;
    }
    return true;
}
