/*
 * Owned-number sets: the numbers a trunk (or an account) may present as its caller ID.
 * Entries are single numbers, ranges of equal-length numbers and digit prefixes:
 *   "+15551230001"                 one number (national forms accepted with a country code)
 *   "+15551230000-+15551230099"    an inclusive range (both ends global, same length)
 *   "+4930123*"                    every number that starts with these digits
 * A set is filled on one thread (configuration load), then sealed; a sealed set is
 * read-only and may be queried from any thread. A lookup costs O(log n) for ranges plus
 * at most STIR_TN_MAX_DIGITS binary searches for prefixes, whatever the list size.
 */
#ifndef SW_STIR_OWNED_H
#define SW_STIR_OWNED_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sv.h"
#include "stir/tn.h"

struct stir_owned;

/* An empty set, or NULL when out of memory. */
struct stir_owned *stir_owned_new(void);

/* Frees the set; NULL is a no-op. */
void stir_owned_free(struct stir_owned *set);

/*
 * Adds one entry in one of the forms above; `country_code` applies to national single
 * numbers. Returns 0, -SW_EBADARG for a malformed entry (nothing added), -ENOMEM, or
 * -SW_EBADARG when the set is already sealed.
 */
int stir_owned_add(struct stir_owned *set, struct sv entry, struct sv country_code);

/* Sorts and merges the entries; after it, stir_owned_add fails. Returns 0 or -ENOMEM. */
int stir_owned_seal(struct stir_owned *set);

/* True when the sealed set covers `tn`. An unsealed or NULL set covers nothing. */
bool stir_owned_contains(const struct stir_owned *set, const struct stir_tn *tn);

/* Entries after merging (ranges and singles, prefixes), for logs and tests. */
size_t stir_owned_range_count(const struct stir_owned *set);
size_t stir_owned_prefix_count(const struct stir_owned *set);

#endif
