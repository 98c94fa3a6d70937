#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "obs/cdr.h"
#include "support/unit.h"

/* 2026-11-26 15:30:01 UTC */
#define T_SETUP_US 1795707001000000ull

static struct call_record sample(void)
{
    struct call_record rec;
    memset(&rec, 0, sizeof(rec));
    CALLREC_SET(rec.uniqueid, "sw00abc");
    CALLREC_SET(rec.b_call_id, "sw00abc");
    CALLREC_SET(rec.a_call_id, "1-2@127.0.0.2");
    CALLREC_SET(rec.node, "gw1");
    CALLREC_SET(rec.direction, "trunk-pbx");
    CALLREC_SET(rec.src_addr, "127.0.0.2:5060");
    CALLREC_SET(rec.dst_addr, "127.0.0.1:5070");
    CALLREC_SET(rec.cid_received, "15551230001");
    CALLREC_SET(rec.cid_sent, "15551230001");
    CALLREC_SET(rec.cid_name, "Bob \"the\" Builder");
    CALLREC_SET(rec.dialled, "15551230050");
    CALLREC_SET(rec.dialled_sent, "15551230050");
    CALLREC_SET(rec.user_agent, "phone,\r\nInjected: yes");
    CALLREC_SET(rec.policy.trunk, "provider");
    CALLREC_SET(rec.end_reason, "caller-hangup");
    rec.policy.rate_micro = 120000;
    rec.setup_us = T_SETUP_US;
    rec.ring_us = T_SETUP_US + 250000u;
    rec.answer_us = T_SETUP_US + 2000000u;
    rec.end_us = T_SETUP_US + 63600000u; /* 61.6 s after the answer: billsec 62 */
    rec.final_code = 200;
    rec.hangup_side = CALLREC_SIDE_CALLER;
    rec.state = CALLREC_STATE_COMPLETE;
    return rec;
}

static void csv_of(const struct call_record *rec, char *out, size_t cap)
{
    struct cdr_row row;
    cdr_row_from_record(rec, &row);
    struct sw_buf buf;
    sw_buf_init(&buf, out, cap - 1);
    cdr_row_csv(&row, &buf);
    assert_false(buf.is_overflow);
    out[buf.len] = '\0';
}

/* Asterisk's Master.csv columns, in cdr_csv's order, come first. */
static void test_cdr_master_columns_first(void **state)
{
    (void)state;
    static const char *const master[] = {
        "accountcode", "src",     "dst",         "dcontext", "clid",     "channel",
        "dstchannel",  "lastapp", "lastdata",    "start",    "answer",   "end",
        "duration",    "billsec", "disposition", "amaflags", "uniqueid", "userfield",
    };
    assert_int_equal(CDR_MASTER_COLUMNS, 18);
    for (size_t i = 0; i < CDR_MASTER_COLUMNS; i++) {
        assert_string_equal(cdr_column_name(i), master[i]);
    }
    assert_true(cdr_column_count() > CDR_MASTER_COLUMNS);
    assert_int_equal(cdr_column_find("billsec"), 13);
    assert_int_equal(cdr_column_find("nope"), SIZE_MAX);
    assert_int_equal(cdr_column_type(cdr_column_find("duration")), CDR_INT);
}

/* The first 18 fields of a line, exactly as Asterisk's cdr_csv would write them. */
static void test_cdr_csv_master_line(void **state)
{
    (void)state;
    struct call_record rec = sample();
    char line[4096];
    csv_of(&rec, line, sizeof(line));
    const char *expected =
        "\"provider\",\"15551230001\",\"15551230050\",\"trunk-pbx\","
        "\"\"\"Bob \"\"the\"\" Builder\"\" <15551230001>\",\"SIP/127.0.0.2:5060\","
        "\"SIP/127.0.0.1:5070\",\"Dial\",\"SIP/15551230050@127.0.0.1:5070\","
        "\"2026-11-26 15:30:01\",\"2026-11-26 15:30:03\",\"2026-11-26 15:31:04\",64,62,"
        "\"ANSWERED\",\"DOCUMENTATION\",\"sw00abc\",\"caller-hangup\",";
    assert_memory_equal(line, expected, strlen(expected));
    /* One record is one line: the CR LF inside the User-Agent became spaces. */
    assert_non_null(strstr(line, "\"phone,  Injected: yes\""));
    assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
    assert_null(strchr(line, '\r'));
    /* setup/answer/end in ms, post-dial delay, final code, side, state, then the rate's
     * connect fee and increments (unrated here) at the end. */
    assert_non_null(strstr(line, ",1795707001000,1795707003000,1795707064600,250,200,\"caller\""));
    assert_non_null(strstr(line, "\"gw1\",\"complete\",0,0,0\n"));
}

static void test_cdr_dispositions(void **state)
{
    (void)state;

    static const struct {
        uint16_t code;
        bool is_answered;
        const char *disposition;
    } cases[] = {
        { 200, true, "ANSWERED" },    { 486, false, "BUSY" },      { 600, false, "BUSY" },
        { 487, false, "NO ANSWER" },  { 408, false, "NO ANSWER" }, { 480, false, "NO ANSWER" },
        { 503, false, "CONGESTION" }, { 404, false, "FAILED" },    { 403, false, "FAILED" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct call_record rec = sample();
        rec.final_code = cases[i].code;
        rec.answer_us = cases[i].is_answered ? rec.answer_us : 0;
        assert_string_equal(cdr_disposition(&rec), cases[i].disposition);
    }
}

/* An unanswered call: empty answer time, billsec 0, the post-dial delay up to its ring. */
static void test_cdr_csv_unanswered(void **state)
{
    (void)state;
    struct call_record rec = sample();
    rec.answer_us = 0;
    rec.final_code = 486;
    rec.end_us = rec.setup_us + 1400000u;
    char line[4096];
    csv_of(&rec, line, sizeof(line));
    assert_non_null(
        strstr(line, "\"2026-11-26 15:30:01\",\"\",\"2026-11-26 15:30:02\",1,0,\"BUSY\""));
}

static void test_cdr_json(void **state)
{
    (void)state;
    struct call_record rec = sample();
    CALLREC_SET(rec.user_agent, "caf\xe9"); /* not UTF-8 */
    struct cdr_row row;
    cdr_row_from_record(&rec, &row);
    char text[8192];
    struct sw_buf buf;
    sw_buf_init(&buf, text, sizeof(text) - 1);
    cdr_row_json(&row, &buf);
    assert_false(buf.is_overflow);
    text[buf.len] = '\0';
    json_error_t err;
    json_t *object = json_loads(text, 0, &err);
    assert_non_null(object);
    assert_int_equal(json_object_size(object), cdr_column_count());
    assert_int_equal(json_integer_value(json_object_get(object, "billsec")), 62);
    assert_string_equal(json_string_value(json_object_get(object, "clid")),
                        "\"Bob \"the\" Builder\" <15551230001>");
    assert_string_equal(json_string_value(json_object_get(object, "user_agent")), "caf?");
    json_decref(object);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cdr_master_columns_first),
        cmocka_unit_test(test_cdr_csv_master_line),
        cmocka_unit_test(test_cdr_dispositions),
        cmocka_unit_test(test_cdr_csv_unanswered),
        cmocka_unit_test(test_cdr_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
