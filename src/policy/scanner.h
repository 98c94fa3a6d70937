/*
 * The scanner stage: recognises SIP scanners (SIPVicious svmap/svwar/svcrack, sipcli,
 * VaxSIPUserAgent, pplsip, sundayddr, SIPScan, iWar, SIVuS...) and drops them silently.
 *
 * Only sources on no known side are judged (not the PBX, a provider range or an
 * authenticated account): a false positive there would cost calls, and those sources are
 * on the never-ban list anyway.
 *
 * Signatures (TOOLS-NOTES §1.2, §8.4), any one of them is enough:
 *  - User-Agent containing (case-insensitive) friendly-scanner, sipcli, vaxsipuseragent,
 *    pplsip, sundayddr, sipscan, sip-scan, iwar, sipvicious, sivus, or one of
 *    [scanner] user_agents;
 *  - beyond the User-Agent, which SIPVicious drops with -c: a From display name
 *    "sipvicious"; a From host 1.1.1.1; svcrack's fixed From tag 3206210844; a From tag
 *    that is the hex encoding of printable text with one 0x01 byte inside (SIPVicious
 *    writes "<ext>\x01<random>" that way; a random hex tag of 16 digits has that shape
 *    with a probability below 1e-9); a Contact at sip:123@1.1.1.1 or sip:None@; an ACK
 *    whose CSeq is written "1  ACK" (two spaces).
 * Behaviour: one source naming more than [scanner] max_distinct_users distinct users
 * within [scanner] window in REGISTER (To user), OPTIONS or INVITE (Request-URI user),
 * other than the configured accounts' user names, is a scanner even with a clean
 * User-Agent (svwar sweeping extensions).
 *
 * The sweep rule counts only sources where no account authenticated within the last hour
 * (ctx->is_source_authed): a phone dialling its eleventh number in a minute is no sweep.
 *
 * A scanner: ScannerDetected event and a silent drop; the gateway bans its source at once,
 * unless an account authenticated from that address within the last hour: then the packet
 * (spoofable) is dropped and logged, the event's detail says "not banned", and it bans
 * nothing. Metrics: the events counter.
 *
 * Memory: a table of SCANNER_ENTRIES sources (2-way set-associative, fixed at start,
 * SCANNER_USERS user-name hashes each, 160 bytes per entry: 2.5 MiB). A newcomer takes an
 * empty way, else a way whose window is over, else the way with fewer distinct users (a
 * flood of one-shot spoofed sources therefore does not wash out a sweeping scanner).
 * Above SCANNER_USERS distinct names per window the names are compared with the last
 * SCANNER_USERS only, so a repeated name may be counted again: larger settings of
 * max_distinct_users are approximate upwards, never downwards.
 */
#ifndef SW_POLICY_SCANNER_H
#define SW_POLICY_SCANNER_H

#include <stdbool.h>

#include "base/sv.h"
#include "policy/stage.h"

#define SCANNER_ENTRIES 16384
#define SCANNER_USERS   32

extern const struct stage scanner_stage;

/* True when `user_agent` contains a built-in fingerprint (case-insensitive). Pure. */
bool scanner_user_agent_is_known(struct sv user_agent);

/* True when `tag` is the hex encoding of printable text, one 0x01 byte, then 2 to 10
 * decimal digits (SIPVicious' createTag). Pure. */
bool scanner_tag_is_sipvicious(struct sv tag);

#endif
