#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "number/ratedeck.h"
#include "support/unit.h"

#define HEADER "prefix,rate_per_minute,connect_fee,first_increment_s,next_increment_s,label\n"

static const char good_deck[] = "# a test deck\n"
                                "\n"
                                "currency,EUR\r\n" HEADER "49,0.0100,0,60,60,Germany fixed\n"
                                "  # comments may be indented\n"
                                "4915,0.0900,0.05,1,1,Germany mobile\n"
                                "+4917, 0.0950 ,0,30,6,  Germany mobile 17  \n"
                                "1,0.005,0,6,6,\n"
                                "979,1.999999,0.5,60,60,IPRS";

static struct ratedeck *parse_ok(const char *text)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    int rc = ratedeck_parse(sv_from_cstr(text), "deck.csv", &deck, &diag);
    if (rc != 0) {
        sw_diag_print(&diag, stderr);
        fail_msg("deck refused: %d", rc);
    }
    assert_int_equal(diag.count, 0);
    sw_diag_fini(&diag);
    return deck;
}

static void test_ratedeck_longest_prefix_wins(void **state)
{
    (void)state;
    struct ratedeck *deck = parse_ok(good_deck);
    assert_string_equal(ratedeck_currency(deck), "EUR");
    assert_int_equal(ratedeck_count(deck), 5);
    const struct ratedeck_row *row = ratedeck_lookup(deck, SV("4930123456"));
    assert_non_null(row);
    assert_string_equal(row->prefix, "49");
    assert_int_equal(row->rate.per_minute_micro, 10000);
    assert_int_equal(row->line, 5);
    row = ratedeck_lookup(deck, SV("4915123456789"));
    assert_string_equal(row->label, "Germany mobile");
    assert_int_equal(row->rate.connect_fee_micro, 50000);
    row = ratedeck_lookup(deck, SV("4917123456789"));
    assert_string_equal(row->prefix, "4917");
    assert_string_equal(row->label, "Germany mobile 17");
    assert_int_equal(row->rate.per_minute_micro, 95000);
    assert_int_equal(row->rate.first_increment_s, 30);
    assert_int_equal(row->rate.next_increment_s, 6);
    assert_string_equal(ratedeck_lookup(deck, SV("12015550123"))->label, "");
    assert_int_equal(ratedeck_lookup(deck, SV("979123456789"))->rate.per_minute_micro, 1999999);
    assert_null(ratedeck_lookup(deck, SV("4412345")));
    assert_null(ratedeck_lookup(deck, SV("")));
    ratedeck_free(deck);
    ratedeck_free(NULL);
}

struct bad_case {
    const char *text;
    const char *message; /* the first diagnostic, as printed */
};

static void test_ratedeck_names_file_line_and_reason(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "", "deck.csv:0: no currency row (currency,EUR)" },
        { "currency,EUR\n", "deck.csv:1: no header line" },
        { "currency,EUR\n" HEADER, "deck.csv:2: no rates" },
        { HEADER "49,1,0,1,1,x\n", "deck.csv:1: the first row must declare the currency" },
        { "currency,EUR\ncurrency,USD\n" HEADER "49,1,0,1,1,x\n",
          "deck.csv:2: currency declared twice" },
        { "currency,euro\n" HEADER "49,1,0,1,1,x\n",
          "deck.csv:1: currency: 'euro' is not an ISO 4217" },
        { "currency,EUR\nprefix,rate\n49,1,0,1,1,x\n", "deck.csv:2: expected the header line" },
        { "currency,EUR\n" HEADER "49,-0.01,0,1,1,x\n",
          "deck.csv:3: rate_per_minute: '-0.01': negative amount" },
        { "currency,EUR\n" HEADER "49,0.0000001,0,1,1,x\n",
          "deck.csv:3: rate_per_minute: '0.0000001': more than 6 decimals" },
        { "currency,EUR\n" HEADER "49,1,99999999999999,1,1,x\n",
          "deck.csv:3: connect_fee: '99999999999999': amount too large" },
        { "currency,EUR\n" HEADER "49,1,0,0,1,x\n", "deck.csv:3: first_increment_s: '0' is not" },
        { "currency,EUR\n" HEADER "49,1,0,1,86401,x\n",
          "deck.csv:3: next_increment_s: '86401' is not" },
        { "currency,EUR\n" HEADER "4a9,1,0,1,1,x\n",
          "deck.csv:3: prefix: '4a9' is not 1 to 15 digits" },
        { "currency,EUR\n" HEADER "1234567890123456,1,0,1,1,x\n",
          "deck.csv:3: prefix: '1234567890123456'" },
        { "currency,EUR\n" HEADER ",1,0,1,1,x\n", "deck.csv:3: prefix: '' is not" },
        { "currency,EUR\n" HEADER "49,1,0,1,1\n", "deck.csv:3: 5 fields, expected 6" },
        { "currency,EUR\n" HEADER "49,1,0,1,1,x,y\n", "deck.csv:3: more than 6 fields" },
        { "currency,EUR\n" HEADER "49,1,0,1,1,\"x\"\n",
          "deck.csv:3: label: byte 1 is not printable" },
        { "currency,EUR\n" HEADER "49,1,0,1,1,x\n49,2,0,1,1,y\n",
          "deck.csv:4: prefix 49 already priced on line 3" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sw_diag diag;
        sw_diag_init(&diag);
        struct ratedeck *deck = (struct ratedeck *)&diag; /* must be reset to NULL */
        assert_int_equal(ratedeck_parse(sv_from_cstr(cases[i].text), "deck.csv", &deck, &diag),
                         -SW_ECONFIG);
        assert_null(deck);
        assert_true(diag.error_count > 0);
        char line[512];
        const struct sw_diag_entry *e = &diag.entries[0];
        (void)snprintf(line, sizeof(line), "%s:%u: %s", e->file, e->line, e->message);
        if (strncmp(line, cases[i].message, strlen(cases[i].message)) != 0) {
            fail_msg("case %zu: got '%s', expected '%s'", i, line, cases[i].message);
        }
        sw_diag_fini(&diag);
    }
}

static void test_ratedeck_reports_every_problem(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    const char *text =
        "currency,EUR\n" HEADER "x,-1,0.1234567,0,0,ok\n49,1,0,1,1,fine\n4a,1,0,1,1,z\n";
    assert_int_equal(ratedeck_parse(sv_from_cstr(text), "d", &deck, &diag), -SW_ECONFIG);
    assert_int_equal(diag.error_count, 6); /* five on line 3, one on line 5 */
    assert_int_equal(diag.entries[5].line, 5);
    sw_diag_fini(&diag);
    /* A flood of bad lines stops at RATEDECK_MAX_ERRORS (+ the closing note). */
    size_t cap = 256 + 300 * 8;
    char *flood = sw_malloc(cap);
    assert_non_null(flood);
    size_t len = (size_t)snprintf(flood, cap, "currency,EUR\n" HEADER);
    for (int i = 0; i < 300; i++) {
        len += (size_t)snprintf(flood + len, cap - len, "bad row\n");
    }
    sw_diag_init(&diag);
    assert_int_equal(ratedeck_parse(sv_make(flood, len), "d", &deck, &diag), -SW_ECONFIG);
    assert_int_equal(diag.count, RATEDECK_MAX_ERRORS + 1);
    sw_diag_fini(&diag);
    sw_free(flood);
}

static void test_ratedeck_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-ratedeck-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, good_deck, strlen(good_deck)), (ssize_t)strlen(good_deck));
    assert_int_equal(close(fd), 0);
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct ratedeck *deck = NULL;
    assert_int_equal(ratedeck_load(path, &deck, &diag), 0);
    assert_int_equal(ratedeck_count(deck), 5);
    ratedeck_free(deck);
    assert_int_equal(unlink(path), 0);
    assert_true(ratedeck_load(path, &deck, &diag) < 0);
    assert_null(deck);
    assert_int_equal(diag.error_count, 1);
    assert_int_equal(strncmp(diag.entries[0].message, "cannot read", 11), 0);
    assert_true(ratedeck_load("/tmp", &deck, &diag) < 0); /* not a regular file */
    sw_diag_fini(&diag);
}

/* 50,000 generated prefixes: every one finds itself, and a longer number finds it too. */
static void test_ratedeck_large_deck(void **state)
{
    (void)state;
    size_t cap = 64 * 50000 + 256;
    char *text = sw_malloc(cap);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, cap, "currency,USD\n" HEADER);
    for (unsigned i = 0; i < 50000; i++) {
        len += (size_t)snprintf(text + len, cap - len, "%u%05u,0.%06u,0,60,6,row %u\n", 20 + i % 70,
                                i, i, i);
    }
    struct ratedeck *deck = parse_ok(text);
    assert_int_equal(ratedeck_count(deck), 50000);
    for (unsigned i = 0; i < 50000; i += 7) {
        char number[32];
        (void)snprintf(number, sizeof(number), "%u%05u4321", 20 + i % 70, i);
        const struct ratedeck_row *row = ratedeck_lookup(deck, sv_from_cstr(number));
        assert_non_null(row);
        assert_int_equal(row->rate.per_minute_micro, i);
    }
    ratedeck_free(deck);
    sw_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ratedeck_longest_prefix_wins),
        cmocka_unit_test(test_ratedeck_names_file_line_and_reason),
        cmocka_unit_test(test_ratedeck_reports_every_problem),
        cmocka_unit_test(test_ratedeck_load_file),
        cmocka_unit_test(test_ratedeck_large_deck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
