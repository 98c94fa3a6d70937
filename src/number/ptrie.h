/*
 * A digit trie: E.164 prefixes to 32-bit values, for the longest-prefix lookups of the
 * rate deck and the high-risk list. Nodes live in one growing array (no allocation per
 * prefix); a lookup walks at most 15 nodes. Built by one thread, then read by any number
 * of threads as long as nobody inserts.
 */
#ifndef SW_NUMBER_PTRIE_H
#define SW_NUMBER_PTRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define PTRIE_MAX_NODES (1u << 24) /* 16.7 M nodes = 750 MB: far above any real deck */

struct ptrie_node {
    uint32_t child[10]; /* index of the child node, 0 = none (the root is never a child) */
    uint32_t value;     /* value + 1 of the prefix ending here, 0 = none */
};

struct ptrie {
    struct ptrie_node *nodes;
    uint32_t count;
    uint32_t cap;
};

/* Empties `trie` (no allocation until the first insert). */
void ptrie_init(struct ptrie *trie);

/* Frees the nodes; the trie may be reused after ptrie_init. */
void ptrie_fini(struct ptrie *trie);

/*
 * Maps the digits `prefix` (1 to 15 of '0'..'9', checked by the caller) to `value`
 * (< UINT32_MAX). Returns 0; 1 when the prefix was already there (its value is left as it
 * was and written to *old when `old` is not NULL); -ENOMEM; or -SW_EFULL past
 * PTRIE_MAX_NODES.
 */
int ptrie_insert(struct ptrie *trie, struct sv prefix, uint32_t value, uint32_t *old);

/* Replaces the value of a prefix already in the trie; false when it is not there. */
bool ptrie_set(struct ptrie *trie, struct sv prefix, uint32_t value);

/*
 * The value of the longest prefix of `digits` in the trie. Returns false when none
 * matches; else true, with *value and *prefix_len (when not NULL) set. Stops at the first
 * byte that is not a digit.
 */
bool ptrie_longest(const struct ptrie *trie, struct sv digits, uint32_t *value, size_t *prefix_len);

#endif
