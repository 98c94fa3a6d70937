/*
 * fuzz_number: the number normalizer, the classifier and the high-risk / rate lookups on
 * one dialled string, with every home territory kind (none, 00 / 0, 011 / 1, 8 / 810).
 * A normalized number must be 1 to 15 digits with a valid calling code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "number/e164.h"
#include "number/highrisk.h"
#include "number/numplan.h"

/* libFuzzer's entry point: its name is not ours to choose. */
/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_number(const struct e164_number *number)
{
    if (number->len == 0 || number->len > E164_MAX_DIGITS || number->digits[number->len] != '\0' ||
        strlen(number->digits) != number->len || number->code_len == 0 || number->code_len > 3 ||
        numplan_code_len(e164_digits(number)) != number->code_len) {
        abort();
    }
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) {
        return 0;
    }
    static const char *const homes[] = { NULL, "DE", "US", "RU", "AU", "IT", "HU" };
    struct sv in = sv_make((const char *)data, size);
    for (size_t i = 0; i < sizeof(homes) / sizeof(homes[0]); i++) {
        const struct numplan_territory *home =
            homes[i] != NULL ? numplan_territory_by_iso(sv_from_cstr(homes[i])) : NULL;
        struct e164_number number;
        enum e164_status status = e164_normalize(in, home, &number);
        int code = e164_status_sip(status);
        if ((status == E164_OK) != (code == 200)) {
            abort();
        }
        if (status != E164_OK) {
            continue;
        }
        check_number(&number);
        struct numplan_class cls;
        numplan_classify(e164_digits(&number), &cls);
        if (cls.territory == NULL || (cls.numclass == NUMCLASS_UNKNOWN) != (cls.mask == 0)) {
            abort();
        }
    }
    /* The raw bytes straight into the classifier and the prefix lookups. */
    struct numplan_class cls;
    numplan_classify(in, &cls);
    (void)numplan_code_len(in);
    (void)numplan_territory_by_iso(in);
    (void)numplan_territory_by_code(in);
    return 0;
}
