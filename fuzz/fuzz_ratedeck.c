/*
 * fuzz_ratedeck: the rate-deck reader on one file. A refused deck must say why; an
 * accepted one must find each of its rows by its own prefix, and its costs must obey the
 * increments (cost never falls as a call gets longer; the budget inverse holds).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "number/ratedeck.h"

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_rate(const struct rate *rate)
{
    int64_t one = rate_cost(rate, 1);
    int64_t minute = rate_cost(rate, 60000);
    int64_t hour = rate_cost(rate, 3600000);
    if (one < rate->connect_fee_micro || minute < one || hour < minute) {
        abort();
    }
    uint64_t limit = rate_max_duration_ms(rate, minute);
    if (limit != RATE_UNLIMITED_MS && limit < 60000 && rate_cost(rate, limit) > minute) {
        abort();
    }
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    int rc = ratedeck_parse(sv_make((const char *)data, size), "fuzz.csv", &deck, &diag);
    if ((rc == 0) != (deck != NULL) || (rc != 0 && rc != -ENOMEM && diag.error_count == 0)) {
        abort(); /* out of memory needs no diagnostic; any other refusal does */
    }
    if (deck != NULL) {
        if (strlen(ratedeck_currency(deck)) != 3 || ratedeck_count(deck) == 0) {
            abort();
        }
        /* Every row is found through its own prefix (prefixes are unique). */
        for (size_t i = 0; i < ratedeck_count(deck); i++) {
            const struct ratedeck_row *row = ratedeck_row_at(deck, i);
            if (ratedeck_lookup(deck, sv_from_cstr(row->prefix)) != row) {
                abort();
            }
            check_rate(&row->rate);
        }
        ratedeck_free(deck);
    }
    sw_diag_fini(&diag);
    return 0;
}
