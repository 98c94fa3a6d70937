/*
 * E.164 normalization of a dialled number: "+49 30 1234567", "0049301234567",
 * "030 1234567" with Germany as the home territory, "011 44 20..." from a NANP trunk, or a
 * tel: URI's number all become the digits 49301234567 / 442071234567. Pure functions over
 * static data: thread-safe, no allocation.
 */
#ifndef SW_NUMBER_E164_H
#define SW_NUMBER_E164_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"
#include "number/numplan.h"

#define E164_MAX_INPUT 64 /* longest dialled string looked at, separators included */

/* Why a dialled string is not a number: the caller answers 484 or 404 (e164_status_sip). */
enum e164_status {
    E164_OK = 0,
    E164_EMPTY,        /* no digit at all */
    E164_NOT_A_NUMBER, /* a letter, a space or any other character RFC 3966 does not allow */
    E164_SERVICE_CODE, /* '*' or '#': a feature code, never a destination */
    E164_TOO_LONG,     /* more than 15 digits (E.164 §6.1) or more than E164_MAX_INPUT bytes */
    E164_TOO_SHORT,    /* fewer than 2 digits after the calling code */
    E164_UNKNOWN_CODE, /* no assigned calling code starts the number */
    E164_NO_COUNTRY,   /* a national form, and no home territory to read it in */
};

/* A normalized number. */
struct e164_number {
    char digits[E164_MAX_DIGITS + 1]; /* calling code first, no '+', NUL-terminated */
    uint8_t len;                      /* digits used */
    uint8_t code_len;                 /* length of the calling code (1 to 3) */
    bool was_national;                /* dialled in the home territory's national form */
};

/*
 * Normalizes the dialled string `in` (a SIP user part or a tel: URI number).
 *
 * Accepted: an optional "tel:" scheme; everything from the first ';' on (tel: URI
 * parameters) is ignored; the RFC 3966 §3 visual separators '-', '.', '(' and ')' anywhere
 * after the optional leading '+'. Then, in this order: '+' and the international number;
 * the home territory's international prefix (00, 011, 810... from libphonenumber; without
 * a home territory 00 and 011) and the international number; the home territory's trunk
 * prefix (0, 1 in NANP, 8, 06) and the national number; else the national significant
 * number of the home territory as dialled.
 *
 * `home` may be NULL (only international forms are then accepted). Returns E164_OK and
 * fills `out`, or the reason; `out` is then cleared.
 */
enum e164_status e164_normalize(struct sv in, const struct numplan_territory *home,
                                struct e164_number *out);

/* A short description of `status` ("not a number"...). Never NULL. */
const char *e164_status_text(enum e164_status status);

/*
 * The SIP response for a refused number: 484 Address Incomplete when digits are missing
 * (empty, too short, national without a home territory), else 404 Not Found.
 */
int e164_status_sip(enum e164_status status);

/* The number as a view of its digits. */
struct sv e164_digits(const struct e164_number *number);

#endif
