#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "number/numplan.h"
#include "support/testdata.h"
#include "support/unit.h"

#define CLASS_ROWS 1144 /* tests/data/e164/SOURCES.md */

static enum numclass class_of_tsv(const char *name)
{
    static const struct {
        const char *tsv;
        enum numclass numclass;
    } names[] = {
        { "fixedLine", NUMCLASS_FIXED },
        { "mobile", NUMCLASS_MOBILE },
        { "tollFree", NUMCLASS_TOLL_FREE },
        { "premiumRate", NUMCLASS_PREMIUM_RATE },
        { "sharedCost", NUMCLASS_SHARED_COST },
        { "voip", NUMCLASS_VOIP },
        { "personalNumber", NUMCLASS_PERSONAL },
        { "pager", NUMCLASS_PAGER },
        { "uan", NUMCLASS_UAN },
        { "voicemail", NUMCLASS_VOICEMAIL },
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (name != NULL && strcmp(names[i].tsv, name) == 0) {
            return names[i].numclass;
        }
    }
    fail_msg("unknown class %s", name);
    return NUMCLASS_UNKNOWN;
}

/* Splits one TSV line in place into at most `max` cells; returns the count. */
static size_t split_tsv(char *line, char **cells, size_t max)
{
    size_t count = 0;
    char *p = line;
    while (count < max) {
        cells[count++] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL) {
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    return count;
}

/* Checks one row: calling code, territory, class, example. */
static bool example_classifies(char **cells)
{
    char digits[40];
    int n = snprintf(digits, sizeof(digits), "%s%s", cells[0], cells[6]);
    assert_true(n > 0 && (size_t)n < sizeof(digits));
    struct numplan_class result;
    numplan_classify(sv_from_cstr(digits), &result);
    assert_non_null(result.territory);
    assert_string_equal(result.territory->calling_code, cells[0]);
    enum numclass want = class_of_tsv(cells[3]);
    bool is_ok = result.numclass == want || (result.numclass == NUMCLASS_FIXED_OR_MOBILE &&
                                             (want == NUMCLASS_FIXED || want == NUMCLASS_MOBILE));
    if (!is_ok) {
        print_message("%s %s (%s): got %s\n", cells[1], digits, cells[3],
                      numclass_name(result.numclass));
    }
    return is_ok;
}

static void test_numplan_every_example_classifies_as_its_class(void **state)
{
    (void)state;
    const char *dir = testdata_dir();
    assert_non_null(dir);
    char path[512];
    (void)snprintf(path, sizeof(path), "%s/e164/number-classes.tsv", dir);
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    size_t rows = 0;
    size_t bad = 0;
    bool is_header = true;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            continue;
        }
        if (is_header) {
            is_header = false;
            continue;
        }
        char *cells[7] = { NULL };
        assert_int_equal(split_tsv(line, cells, 7), 7);
        rows++;
        bad += example_classifies(cells) ? 0 : 1;
    }
    free(text);
    assert_int_equal(rows, CLASS_ROWS);
    assert_int_equal(bad, 0);
}

static void test_numplan_classes_and_territories(void **state)
{
    (void)state;

    static const struct {
        const char *digits;
        const char *iso;
        enum numclass numclass;
    } cases[] = {
        { "4930123456", "DE", NUMCLASS_FIXED },
        { "4915123456789", "DE", NUMCLASS_MOBILE },
        { "499001234567", "DE", NUMCLASS_PREMIUM_RATE },
        { "12015550123", "US", NUMCLASS_FIXED_OR_MOBILE },
        { "18002345678", "US", NUMCLASS_TOLL_FREE },
        { "12644612345", "AI", NUMCLASS_FIXED }, /* NANP: leading digits 264 */
        { "18765230123", "JM", NUMCLASS_FIXED_OR_MOBILE },
        { "79123456789", "RU", NUMCLASS_MOBILE },
        { "77710009998", "KZ", NUMCLASS_MOBILE }, /* +7 shared: KZ by leading digits */
        { "447400123456", "GB", NUMCLASS_MOBILE },
        { "979123456789", "001", NUMCLASS_PREMIUM_RATE },
        { "4900", "DE", NUMCLASS_UNKNOWN }, /* too short for any pattern */
        { "4930", "DE", NUMCLASS_UNKNOWN },
        { "18761234567", "JM", NUMCLASS_UNKNOWN }, /* no JM pattern, but JM's area code */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct numplan_class result;
        numplan_classify(sv_from_cstr(cases[i].digits), &result);
        assert_non_null(result.territory);
        if (strcmp(result.territory->iso, cases[i].iso) != 0 ||
            result.numclass != cases[i].numclass) {
            fail_msg("%s: got %s %s", cases[i].digits, result.territory->iso,
                     numclass_name(result.numclass));
        }
    }
    struct numplan_class result;
    numplan_classify(SV("999123456"), &result); /* +999 is not assigned */
    assert_null(result.territory);
    assert_int_equal(result.numclass, NUMCLASS_UNKNOWN);
    numplan_classify(SV("49301234567890123"), &result); /* 17 digits */
    assert_int_equal(result.numclass, NUMCLASS_UNKNOWN);
    numplan_classify(SV(""), &result);
    assert_null(result.territory);
}

static void test_numplan_codes_and_prefixes(void **state)
{
    (void)state;
    assert_int_equal(numplan_code_len(SV("1201")), 1);
    assert_int_equal(numplan_code_len(SV("4930")), 2);
    assert_int_equal(numplan_code_len(SV("35312")), 3);
    assert_int_equal(numplan_code_len(SV("999")), 0);
    assert_int_equal(numplan_code_len(SV("0")), 0);
    assert_int_equal(numplan_code_len(SV("")), 0);
    const struct numplan_territory *de = numplan_territory_by_iso(SV("de"));
    assert_non_null(de);
    assert_string_equal(de->calling_code, "49");
    assert_string_equal(de->national_prefix, "0");
    const struct numplan_territory *us = numplan_territory_by_code(SV("1"));
    assert_non_null(us);
    assert_string_equal(us->iso, "US");
    assert_string_equal(us->national_prefix, "1");
    assert_null(numplan_territory_by_iso(SV("XX")));
    assert_null(numplan_territory_by_iso(SV("")));
    assert_null(numplan_territory_by_code(SV("42")));
    assert_null(numplan_territory_by_code(SV("4")));
    assert_string_equal(numplan_territory_by_iso(SV("IT"))->national_prefix, "");
    assert_string_equal(numplan_territory_by_iso(SV("HU"))->national_prefix, "06");
    assert_int_equal(numplan_intl_prefix_len(de, SV("0044207")), 2);
    assert_int_equal(numplan_intl_prefix_len(de, SV("0301234")), 0);
    assert_int_equal(numplan_intl_prefix_len(de, SV("0004")), 0); /* then 0: not a code */
    assert_int_equal(numplan_intl_prefix_len(us, SV("01144207")), 3);
    assert_int_equal(numplan_intl_prefix_len(us, SV("0044207")), 0);
    const struct numplan_territory *au = numplan_territory_by_iso(SV("AU"));
    assert_int_equal(numplan_intl_prefix_len(au, SV("001144207")), 4);
    assert_string_equal(numclass_name(NUMCLASS_PREMIUM_RATE), "premium-rate");
    assert_string_equal(numclass_name((enum numclass)99), "unknown");
}

static void test_numplan_highrisk_rows_keep_their_notes(void **state)
{
    (void)state;
    assert_true(numplan_highrisk_count() >= 30);
    bool has_979 = false;
    for (size_t i = 0; i < numplan_highrisk_count(); i++) {
        const struct numplan_highrisk *row = numplan_highrisk_row(i);
        assert_true(strlen(row->lists) > 0);
        assert_non_null(row->note); /* may be empty: not every row has a note */
        if (strcmp(row->prefix, "979") == 0) {
            has_979 = strstr(row->lists, "DERIVED-ITU-NONGEO") != NULL;
        }
    }
    assert_true(has_979);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numplan_every_example_classifies_as_its_class),
        cmocka_unit_test(test_numplan_classes_and_territories),
        cmocka_unit_test(test_numplan_codes_and_prefixes),
        cmocka_unit_test(test_numplan_highrisk_rows_keep_their_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
