/*
 * The callerid stage (issue #4): who may claim which calling number.
 *
 * Outbound (an initial INVITE from the PBX, or from an authenticated remote account,
 * leaving by [general] default_trunk): the calling number is read from
 * P-Asserted-Identity, else From (user part of a sip/sips URI, or a tel URI), and
 * normalized to E.164 with the trunk's country_code. A number outside the trunk's
 * owned_numbers (for an account: other than its callerid) meets the trunk's
 * callerid_policy:
 *   replace (default)  the outgoing leg presents default_number (the account's callerid
 *                      for an account) in From and P-Asserted-Identity; CallerIdReplaced
 *                      names the replaced value and a warning is logged;
 *   reject             403, PolicyHit;
 *   allow              unchanged, PolicyHit.
 * A trunk without owned_numbers checks nothing (check-config warns about it).
 *
 * Inbound (an initial INVITE from a trunk provider): a calling number that is one of the
 * owned numbers of any trunk is a classic spoofing sign: PolicyHit, and 403 when the
 * trunk says inbound_own_number = reject.
 *
 * Stage state is built at init from the configuration and read-only afterwards; check()
 * is thread-safe. The helpers below are shared with the identity stage.
 */
#ifndef SW_POLICY_CALLERID_H
#define SW_POLICY_CALLERID_H

#include <stdbool.h>

#include "base/sv.h"
#include "policy/stage.h"
#include "stir/owned.h"
#include "stir/tn.h"

struct cfg_numbers;
struct sip_msg;

extern const struct stage callerid_stage;

/*
 * The calling number of `msg`: the first P-Asserted-Identity value whose URI holds a
 * telephone number, else the From URI, normalized with `country_code`. Returns true with
 * `*out` set; false when neither holds a number (`*out` emptied). `*raw` (may be NULL)
 * gets the user part (or tel number) that was read, as sent, for events; absent when
 * there is none.
 */
bool callerid_calling_number(struct sip_msg *msg, struct sv country_code, struct stir_tn *out,
                             struct sv *raw);

/*
 * A sealed owned-number set made from configured patterns, or NULL when out of memory
 * or a pattern is refused (`*bad` then names it; the config loader accepts only valid
 * ones). An empty list gives an empty sealed set.
 */
struct stir_owned *callerid_owned_new(const struct cfg_numbers *numbers, struct sv country_code,
                                      const char **bad);

#endif
