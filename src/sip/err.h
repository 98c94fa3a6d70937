/*
 * Parse errors of the SIP layer: where parsing stopped, why, and which response a
 * proxy should answer with. Every parser of src/sip fills one on failure; `reason` is
 * a static string (it feeds both the security event and the reason phrase of a 400).
 * Pure data, thread-safe.
 */
#ifndef SW_SIP_ERR_H
#define SW_SIP_ERR_H

#include <stddef.h>
#include <stdint.h>

struct sip_err {
    size_t pos;         /* offset of the offending byte in the input of the failing call */
    const char *reason; /* static, lower case, never NULL after a failure */
    uint16_t status;    /* 400, 505, 513, 416, 420, 501...; 0 = drop (responses) */
};

/*
 * Records a failure in `err` (which may be NULL) and returns `code` (a negative
 * -SW_E… value), so that a parser can write `return sip_err_set(...)`.
 */
int sip_err_set(struct sip_err *err, int code, size_t pos, const char *reason, uint16_t status);

#endif
