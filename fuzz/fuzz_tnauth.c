/* fuzz_tnauth: the TN Authorization List of an x5u certificate (RFC 8226): DER from the
 * network. Whatever parses must answer the coverage test within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stir/tnauth.h"

/* libFuzzer's entry point: its name is not ours to choose. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) {
        return 0;
    }
    struct stir_tnauth list;
    if (stir_tnauth_parse(data, size, &list) != 0) {
        if (list.is_present || list.count != 0) {
            abort(); /* a refused list leaves nothing behind */
        }
        return 0;
    }
    if (!list.is_present || list.count == 0 || list.count > STIR_TNAUTH_MAX) {
        abort();
    }
    struct stir_tn tn = { .digits = "12155550121", .len = 11 };
    (void)stir_tnauth_covers(&list, &tn);
    for (size_t i = 0; i < list.count; i++) {
        if (strlen(list.entries[i].digits) != list.entries[i].len) {
            abort();
        }
    }
    return 0;
}
