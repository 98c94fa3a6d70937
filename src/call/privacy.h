/*
 * What of the PBX's messages may leave towards the provider side (trunks and remote
 * phones) beyond pbx.hide_headers (#9 item 8): its reason phrases, the bodies of its
 * error responses, and the free text of Reason, Retry-After and Subject, which name
 * hosts, addresses and software versions. Pure functions; any thread.
 */
#ifndef SW_CALL_PRIVACY_H
#define SW_CALL_PRIVACY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/sv.h"
#include "sip/hdr.h"

/* Each true = that part is cleaned (the [pbx] keys of the same meaning). */
struct privacy_rules {
    bool is_phrase_standard;       /* standard_reason_phrases */
    bool is_error_body_dropped;    /* drop_error_bodies */
    bool is_reason_sanitized;      /* sanitize_reason */
    bool is_retry_after_sanitized; /* sanitize_retry_after */
    bool is_subject_dropped;       /* sanitize_subject */
};

/*
 * The reason phrase that leaves with `status`: RFC 3261 §21's (reply_reason), or the name
 * of the code's class for codes it does not list ("Request Failure" for a 4xx). Static.
 */
const char *privacy_reason_phrase(uint16_t status);

/*
 * Writes header `id` with `value` into `out` the way `rules` let it leave: Reason as
 * "protocol;cause=N" per element (elements without a numeric cause are left out),
 * Retry-After as its number of seconds, Subject not at all. Returns true when the rules
 * took care of the header (written cleaned, or dropped), false when the caller copies it
 * as it is.
 */
bool privacy_header_write(const struct privacy_rules *rules, struct sw_buf *out, enum sip_hdr_id id,
                          struct sv value);

#endif
