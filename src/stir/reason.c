#include "stir/reason.h"

#include <stddef.h>

struct reason_info {
    const char *name;
    const char *text;
    int sip_code;
    enum stir_verstat verstat;
};

static const struct reason_info reasons[] = {
#define STIR_REASON_ROW(name, text, code, verstat) { #name, text, code, verstat },
    STIR_REASON_MAP(STIR_REASON_ROW)
#undef STIR_REASON_ROW
};

static const struct reason_info *info_of(enum stir_reason reason)
{
    if ((unsigned)reason >= STIR_REASON_COUNT) {
        return &reasons[STIR_INTERNAL];
    }
    return &reasons[reason];
}

const char *stir_reason_text(enum stir_reason reason)
{
    return info_of(reason)->text;
}

const char *stir_reason_name(enum stir_reason reason)
{
    if ((unsigned)reason >= STIR_REASON_COUNT) {
        reason = STIR_INTERNAL;
    }
    /* Every enum name starts with the five characters "STIR_". */
    return reasons[reason].name + 5;
}

int stir_reason_sip_code(enum stir_reason reason)
{
    return info_of(reason)->sip_code;
}

const char *stir_reason_sip_phrase(enum stir_reason reason)
{
    switch (info_of(reason)->sip_code) {
    case 200:
        return "OK";
    case 403:
        return "Stale Date";
    case 428:
        return "Use Identity Header";
    case 436:
        return "Bad Identity Info";
    case 437:
        return "Unsupported Credential";
    case 438:
        return "Invalid Identity Header";
    default:
        return "Server Internal Error";
    }
}

enum stir_verstat stir_reason_verstat(enum stir_reason reason)
{
    return info_of(reason)->verstat;
}

const char *stir_verstat_text(enum stir_verstat verstat)
{
    switch (verstat) {
    case STIR_VERSTAT_PASSED:
        return "TN-Validation-Passed";
    case STIR_VERSTAT_FAILED:
        return "TN-Validation-Failed";
    default:
        return "No-TN-Validation";
    }
}
