/*
 * Telephone numbers in E.164 form, as PASSporT `orig.tn` / `dest.tn` carry them (RFC 8225
 * §5.2.1: digits only, with the country code, no '+'). Normalizes what a PBX or a provider
 * puts in a From / P-Asserted-Identity user part or a tel: URI, given the trunk's country
 * calling code for national formats. Pure functions; thread-safe.
 */
#ifndef SW_STIR_TN_H
#define SW_STIR_TN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

/* ITU-T E.164 §6: at most 15 digits including the country code. */
#define STIR_TN_MAX_DIGITS 15
/* Shortest number accepted (+290 XXXX, +683 XXXX: 3-digit code and 4 digits). */
#define STIR_TN_MIN_DIGITS 7
/* Inputs longer than this are refused before any work (they cannot be a number). */
#define STIR_TN_MAX_INPUT  64

/* A normalized number: `digits` holds `len` E.164 digits, NUL-terminated, no '+'. */
struct stir_tn {
    char digits[STIR_TN_MAX_DIGITS + 1];
    uint8_t len;
};

/*
 * Normalizes a dialled-number string (a user part, or the number of a tel: URI without
 * its parameters) to E.164. Visual separators - . ( ) and spaces are removed (RFC 3966
 * §5.1.1 plus spaces typed by people). Accepted forms:
 *   "+<cc><number>"                            global;
 *   "00<cc>..." ("011<cc>..." when `country_code` is "1")   international dialling;
 *   a national number, when `country_code` (digits, e.g. "1", "44") is present:
 *     country "1" (NANP): 10 digits, or 11 digits starting with 1;
 *     otherwise the trunk prefix 0 is dropped ("44": 020 7946 0000 -> 442079460000);
 *     Italy (39) and San Marino (378) keep the 0, which is part of their numbers.
 * The result must start with an assigned country code (ITU list, libphonenumber data)
 * and have STIR_TN_MIN_DIGITS..STIR_TN_MAX_DIGITS digits. Returns 0, or -SW_EBADARG for
 * anything else (letters, '*', '#', a misplaced '+', empty, too short or too long);
 * `out` is then emptied.
 */
int stir_tn_normalize(struct sv in, struct sv country_code, struct stir_tn *out);

/*
 * Normalizes the number of a URI: "sip:"/"sips:" (the user part, without user
 * parameters such as ";verstat=..." or ";isub=..."), or "tel:" (the number, without
 * parameters). Angle brackets around the URI are accepted. Same rules and returns as
 * stir_tn_normalize; a URI without a user part is -SW_EBADARG.
 */
int stir_tn_from_uri(struct sv uri, struct sv country_code, struct stir_tn *out);

/* True when `digits` (without '+') begin with an assigned country calling code;
 * `cc_len` (may be NULL) gets its length. */
bool stir_tn_has_country_code(struct sv digits, size_t *cc_len);

/* True when two normalized numbers are equal. */
bool stir_tn_eq(const struct stir_tn *a, const struct stir_tn *b);

/* The number as a view (digits only). */
struct sv stir_tn_sv(const struct stir_tn *tn);

#endif
