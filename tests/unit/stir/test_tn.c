#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stir/tn.h"
#include "support/guarded.h"
#include "support/testdata.h"
#include "support/unit.h"

struct tn_case {
    const char *in;
    const char *cc;
    const char *want; /* NULL = rejected */
};

static const struct tn_case cases[] = {
    { "+12155551212", "", "12155551212" },
    { "+1 (215) 555-1212", "", "12155551212" },
    { "+1.215.555.1212", "44", "12155551212" },
    { "2155551212", "1", "12155551212" },
    { "(215) 555-1212", "1", "12155551212" },
    { "12155551212", "1", "12155551212" },
    { "01144207946000", "1", "44207946000" },
    { "020 7946 0000", "44", "442079460000" },
    { "0044 20 7946 0000", "44", "442079460000" },
    { "0612345678", "33", "33612345678" },
    { "06 1234 5678", "39", "390612345678" },
    { "+4930123456", "49", "4930123456" },
    /* rejected */
    { "2155551212", "", NULL },   /* national without a country setting */
    { "1155551212", "1", NULL },  /* NANP area code cannot start with 1 */
    { "215555121", "1", NULL },   /* 9 digits */
    { "2079460000", "44", NULL }, /* no trunk prefix: ambiguous */
    { "alice", "1", NULL },
    { "+1215555121a", "", NULL },
    { "+12155551212#", "", NULL },
    { "*69", "1", NULL },
    { "1+2155551212", "1", NULL }, /* misplaced + */
    { "++12155551212", "", NULL },
    { "+", "", NULL },
    { "", "1", NULL },
    { "+1234567890123456", "", NULL }, /* 16 digits */
    { "+0123456789", "", NULL },       /* no country code starts with 0 */
    { "+2801234567", "", NULL },       /* 280 is not assigned */
    { "+12345", "", NULL },            /* too short */
    { "+1 215 555 1212 ; ext", "", NULL },
};

/* Checks one outcome against its case; `what` names the input kind in messages. */
static void check_case(const char *what, size_t i, const struct tn_case *c, int rc,
                       const struct stir_tn *tn)
{
    if (c->want == NULL && rc != -SW_EBADARG) {
        fail_msg("%s %zu (%s) accepted as %s", what, i, c->in, tn->digits);
    }
    if (c->want != NULL && rc != 0) {
        fail_msg("%s %zu (%s) rejected", what, i, c->in);
    }
    if (c->want == NULL) {
        assert_int_equal(tn->len, 0);
    } else {
        assert_string_equal(tn->digits, c->want);
    }
}

static void test_tn_normalize_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct stir_tn tn;
        int rc = stir_tn_normalize(guarded_sv(cases[i].in), sv_from_cstr(cases[i].cc), &tn);
        check_case("case", i, &cases[i], rc, &tn);
    }
    guarded_release_all();
}

static void test_tn_from_uri(void **state)
{
    (void)state;
    static const struct tn_case uris[] = {
        { "sip:+12155551212@example.com;user=phone", "", "12155551212" },
        { "<sip:+12155551212;verstat=TN-Validation-Passed@example.com;user=phone>", "",
          "12155551212" },
        { "sips:2155551212@pbx.example.com", "1", "12155551212" },
        { "tel:+1-215-555-1212;verstat=No-TN-Validation", "", "12155551212" },
        { "TEL:+44-20-7946-0000", "", "442079460000" },
        { "sip:alice@example.com", "1", NULL },
        { "sip:example.com", "1", NULL },
        { "mailto:+12155551212@example.com", "", NULL },
        { "sip:@example.com", "1", NULL },
    };
    for (size_t i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
        struct stir_tn tn;
        int rc = stir_tn_from_uri(guarded_sv(uris[i].in), sv_from_cstr(uris[i].cc), &tn);
        check_case("uri", i, &uris[i], rc, &tn);
    }
    guarded_release_all();
}

/* Every calling code of the shared TSV is known, and nothing else of up to 3 digits is. */
static void test_tn_country_codes_match_testdata(void **state)
{
    (void)state;
    const char *dir = testdata_dir();
    if (dir == NULL) {
        skip();
    }
    char path[512];
    (void)snprintf(path, sizeof(path), "%s/e164/country-codes.tsv", dir);
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    bool in_file[1000] = { false };
    struct sv cur = sv_make(text, len);
    struct sv line;
    size_t rows = 0;
    while (cur.len > 0) {
        (void)sv_take_until(&cur, '\n', &line); /* the last line may lack its newline */
        struct sv code;
        if (line.len == 0 || line.ptr[0] == '#' || sv_starts_with(line, SV("calling_code"))) {
            continue;
        }
        (void)sv_take_until(&line, '\t', &code); /* a row always has tabs */
        uint32_t value = 0;
        assert_true(sv_to_u32(code, &value));
        assert_true(value < 1000);
        in_file[value] = true;
        rows++;
    }
    free(text);
    assert_int_equal(rows, 254);
    for (unsigned v = 1; v < 1000; v++) {
        char digits[4];
        int n = snprintf(digits, sizeof(digits), "%u", v);
        size_t cc_len = 0;
        bool is_code =
            stir_tn_has_country_code(sv_make(digits, (size_t)n), &cc_len) && cc_len == (size_t)n;
        if (is_code != in_file[v]) {
            fail_msg("country code %u: table says %d, testdata says %d", v, is_code, in_file[v]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tn_normalize_cases),
        cmocka_unit_test(test_tn_from_uri),
        cmocka_unit_test(test_tn_country_codes_match_testdata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
