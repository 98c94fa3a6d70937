/*
 * The high-risk destination list: the built-in rows of high-risk-prefixes.tsv (US
 * government IRSF warnings and a published blacklist, each row naming its list id), plus
 * prefixes an operator adds. Longest prefix wins. Built by one thread, then read-only:
 * any thread may call highrisk_match.
 */
#ifndef SW_NUMBER_HIGHRISK_H
#define SW_NUMBER_HIGHRISK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"
#include "number/numplan.h"

#define HIGHRISK_MAX_LIST_ID 32 /* bytes of an operator's list id */
#define HIGHRISK_MAX_ENTRIES 100000u

/* One matching row. */
struct highrisk_entry {
    char prefix[E164_MAX_DIGITS + 1];
    char list_id[HIGHRISK_MAX_LIST_ID + 1]; /* built-in rows: the ids of the TSV, comma-separated */
    const struct numplan_highrisk *builtin; /* the built-in row with its notes, else NULL */
};

struct highrisk;

/* A new list, with the built-in rows when `with_builtin`; NULL when out of memory. */
struct highrisk *highrisk_new(bool with_builtin);

/* Frees the list; NULL is a no-op. */
void highrisk_free(struct highrisk *list);

/*
 * Adds the operator's prefix (1 to 15 digits, an optional leading '+') under `list_id`
 * (1 to HIGHRISK_MAX_LIST_ID bytes of letters, digits, '-', '_', '.'). An operator row
 * for a prefix already present (built-in or not) replaces it. Returns 0, -SW_EBADARG,
 * -SW_EFULL or -ENOMEM.
 */
int highrisk_add(struct highrisk *list, struct sv prefix, struct sv list_id);

/* The row whose prefix is the longest one starting the E.164 digits, or NULL. */
const struct highrisk_entry *highrisk_match(const struct highrisk *list, struct sv digits);

/* Rows in the list. */
size_t highrisk_count(const struct highrisk *list);

#endif
