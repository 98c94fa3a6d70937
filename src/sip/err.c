#include "sip/err.h"

int sip_err_set(struct sip_err *err, int code, size_t pos, const char *reason, uint16_t status)
{
    if (err != NULL) {
        err->pos = pos;
        err->reason = reason;
        err->status = status;
    }
    return code;
}
