/*
 * Node-to-node INVITEs of a cluster (issue #15): a node that has a call for an account
 * whose phone registered through another node relays the INVITE there, signed with the
 * secret the nodes share ([cluster] peer_secret_file). The header
 *
 *   X-Sipwarden-Peer: node=<sender>;t=<unix seconds>;mac=<64 hex digits>
 *
 * carries HMAC-SHA-256(secret, "<sender> <t> <account>"), the account being the
 * Request-URI's user. The receiver takes it only from a source in [cluster] peers, within
 * PEER_MAX_AGE_S of its own clock, and then only towards a phone it holds the binding of:
 * neither a spoofed source nor a stolen header reaches anything else, and a replay within
 * the age can only ring the same phone again. Stateless and thread-safe.
 */
#ifndef SW_POLICY_PEER_H
#define SW_POLICY_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sv.h"

#define PEER_HEADER_NAME "X-Sipwarden-Peer"
#define PEER_MAX_AGE_S   30
#define PEER_LINE_CAP    256

struct sip_msg;

/*
 * Writes the complete header line (CRLF included) signing a relayed INVITE for `account`
 * from `node` at `now_s` into `buf` (at least PEER_LINE_CAP bytes). Returns the line, or
 * SV_NULL when the node name is too long or HMAC fails.
 */
struct sv peer_sign(struct sv secret, struct sv node, struct sv account, int64_t now_s, char *buf,
                    size_t cap);

/*
 * True when `msg` carries an X-Sipwarden-Peer header whose MAC is `secret`'s for
 * `account` and whose time is within PEER_MAX_AGE_S of `now_s`. The MAC is compared in
 * constant time.
 */
bool peer_verify(struct sv secret, const struct sip_msg *msg, struct sv account, int64_t now_s);

#endif
