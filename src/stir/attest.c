#include "stir/attest.h"

enum stir_attest stir_attest_decide(const struct stir_attest_input *in)
{
    if (!in->is_policy_passed) {
        return STIR_ATTEST_NONE;
    }
    if (!in->is_authenticated) {
        return STIR_ATTEST_C;
    }
    return in->is_number_owned ? STIR_ATTEST_A : STIR_ATTEST_B;
}

const char *stir_attest_text(enum stir_attest attest)
{
    switch (attest) {
    case STIR_ATTEST_A:
        return "A";
    case STIR_ATTEST_B:
        return "B";
    case STIR_ATTEST_C:
        return "C";
    default:
        return "";
    }
}

bool stir_attest_parse(struct sv text, enum stir_attest *out)
{
    if (text.ptr == NULL || text.len != 1) {
        return false;
    }
    switch (text.ptr[0]) {
    case 'A':
        *out = STIR_ATTEST_A;
        return true;
    case 'B':
        *out = STIR_ATTEST_B;
        return true;
    case 'C':
        *out = STIR_ATTEST_C;
        return true;
    default:
        return false;
    }
}
