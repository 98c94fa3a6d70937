/*
 * Rate decks: the price of each destination prefix, read from CSV, longest prefix wins.
 *
 * The file (docs/man/sipwarden-ratedeck.8.scd):
 *     # comments and blank lines anywhere
 *     currency,EUR
 *     prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label
 *     49,0.0100,0,60,60,Germany fixed
 *     4915,0.0900,0.05,1,1,Germany mobile
 * The currency row (an ISO 4217 code, three capital letters) comes once, before the
 * header line; the header line is exactly as shown. Prefixes are E.164 digits (1 to 15,
 * an optional '+'), each once. Amounts are decimals with at most 6 decimals, kept exactly
 * as integer micro-units; increments are whole seconds, 1 to 86400. A label is at most
 * RATEDECK_MAX_LABEL bytes of printable ASCII without '"'.
 *
 * A deck is built once (at start or on SIGHUP) and then read-only: any thread may look
 * up rates while nobody frees it.
 */
#ifndef SW_NUMBER_RATEDECK_H
#define SW_NUMBER_RATEDECK_H

#include <stddef.h>

#include "base/diag.h"
#include "base/sv.h"
#include "number/money.h"
#include "number/numplan.h"

#define RATEDECK_MAX_LABEL  48
#define RATEDECK_MAX_ROWS   1000000u
#define RATEDECK_MAX_BYTES  (64u << 20) /* a deck file is at most 64 MiB */
#define RATEDECK_MAX_ERRORS 100u        /* problems reported before the reader gives up */

/* One priced prefix. */
struct ratedeck_row {
    struct rate rate;
    char prefix[E164_MAX_DIGITS + 1];
    char label[RATEDECK_MAX_LABEL + 1];
    unsigned line; /* where it was read */
};

struct ratedeck;

/*
 * Reads the deck in `text`; `file` names it in the diagnostics. Every problem goes into
 * `diag` as "file:line: reason" (up to RATEDECK_MAX_ERRORS). Returns 0 and *out (owned by
 * the caller), -SW_ECONFIG when the deck has errors, or -ENOMEM.
 */
int ratedeck_parse(struct sv text, const char *file, struct ratedeck **out, struct sw_diag *diag);

/* Reads the file at `path` (at most RATEDECK_MAX_BYTES) and parses it as above; a file that
 * cannot be read is reported in `diag` and gives -errno. */
int ratedeck_load(const char *path, struct ratedeck **out, struct sw_diag *diag);

/* Frees the deck; NULL is a no-op. */
void ratedeck_free(struct ratedeck *deck);

/* The row of the longest prefix starting the E.164 digits, or NULL (unrated). */
const struct ratedeck_row *ratedeck_lookup(const struct ratedeck *deck, struct sv digits);

/* The deck's currency code ("EUR"). */
const char *ratedeck_currency(const struct ratedeck *deck);

/* Rows in the deck. */
size_t ratedeck_count(const struct ratedeck *deck);

/* Row `i` (< ratedeck_count), in file order. */
const struct ratedeck_row *ratedeck_row_at(const struct ratedeck *deck, size_t i);

#endif
