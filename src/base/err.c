#include "base/err.h"

#include <string.h>

const char *sw_strerror(int err)
{
    int code = err < 0 ? -err : err;
    switch (code) {
#define SW_ERR_CASE(name, text) \
    case name:                  \
        return text;
        SW_ERR_MAP(SW_ERR_CASE)
#undef SW_ERR_CASE
    default:
        break;
    }
    if (code == 0) {
        return "success";
    }
    if (code < SW_ERR_BASE) {
        /* strerror is not thread-safe in general, but glibc's returns static strings for known
         * codes. */
        return strerror(code); /* NOLINT(concurrency-mt-unsafe) */
    }
    return "unknown error";
}
