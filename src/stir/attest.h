/*
 * SHAKEN attestation levels (ATIS-1000074, RFC 8588 §4 "attest") and the one rule that
 * chooses the level for an outbound call. Pure; thread-safe.
 */
#ifndef SW_STIR_ATTEST_H
#define SW_STIR_ATTEST_H

#include <stdbool.h>

#include "base/sv.h"

enum stir_attest {
    STIR_ATTEST_NONE, /* do not sign */
    STIR_ATTEST_A,    /* full: known customer, number verified as theirs */
    STIR_ATTEST_B,    /* partial: known customer, number not verified */
    STIR_ATTEST_C,    /* gateway: the call is only relayed */
};

/* What the outbound pipeline knows about a call when it is about to sign. */
struct stir_attest_input {
    /* The caller proved who it is: the PBX matched its trunk (source address / TLS /
     * digest) or an account authenticated. False for calls the gateway merely relays. */
    bool is_authenticated;
    /* The number being signed (after any caller-ID replacement) is in the owned set of
     * the trunk or account. */
    bool is_number_owned;
    /* The caller-ID policy let the call out with this number (`allow`, or `replace`
     * which made it owned). False after `reject`: such a call is never signed. */
    bool is_policy_passed;
};

/*
 * The attestation rule of issue #4, in one place:
 *   policy refused the call                              -> NONE (no Identity header)
 *   authenticated caller and the number is owned         -> A
 *   authenticated caller, number not owned, policy let it pass (`allow`) -> B
 *   caller not authenticated (relayed call)              -> C, whatever the number
 * A `replace` policy substitutes the trunk's default (owned) number first, so such a
 * call is signed A with the replacement number.
 */
enum stir_attest stir_attest_decide(const struct stir_attest_input *in);

/* "A", "B", "C" ("" for NONE). */
const char *stir_attest_text(enum stir_attest attest);

/* Parses exactly "A", "B" or "C"; false otherwise. */
bool stir_attest_parse(struct sv text, enum stir_attest *out);

#endif
