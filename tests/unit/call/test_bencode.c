/*
 * Bencode: decoding of every value type, dictionary look-ups, the bounds (node capacity,
 * nesting depth), every malformed shape, and encoding back to the same bytes.
 */
#include <string.h>

#include "base/err.h"
#include "call/bencode.h"
#include "support/guarded.h"
#include "support/unit.h"

#define NODES 64

struct decoded {
    struct bencode_node nodes[NODES];
    struct bencode_doc doc;
    size_t bad_pos;
};

static int decode(struct decoded *d, const char *text)
{
    d->doc = (struct bencode_doc){ .nodes = d->nodes, .cap = NODES };
    d->bad_pos = SIZE_MAX;
    return bencode_decode(guarded_sv(text), &d->doc, &d->bad_pos);
}

static void test_decodes_scalars(void **state)
{
    (void)state;
    struct decoded d;
    assert_int_equal(decode(&d, "4:spam"), 0);
    assert_int_equal(d.doc.count, 1);
    assert_int_equal(d.nodes[0].type, BENCODE_STRING);
    assert_true(sv_eq(d.nodes[0].str, SV("spam")));
    assert_int_equal(decode(&d, "0:"), 0);
    assert_int_equal(d.nodes[0].str.len, 0);
    assert_int_equal(decode(&d, "i42e"), 0);
    assert_int_equal(d.nodes[0].type, BENCODE_INTEGER);
    assert_int_equal(d.nodes[0].integer, 42);
    assert_int_equal(decode(&d, "i-7e"), 0);
    assert_int_equal(d.nodes[0].integer, -7);
    assert_int_equal(decode(&d, "i0e"), 0);
    assert_int_equal(decode(&d, "i9223372036854775807e"), 0);
    assert_true(d.nodes[0].integer == INT64_MAX);
    assert_int_equal(decode(&d, "i-9223372036854775808e"), 0);
    assert_true(d.nodes[0].integer == INT64_MIN);
}

static void test_decodes_an_ng_answer(void **state)
{
    (void)state;
    struct decoded d;
    const char *answer = "d6:result2:ok3:sdp9:v=0\r\nm=xx8:warningsl3:one3:twoe1:xd1:ai1eee";
    assert_int_equal(decode(&d, answer), 0);
    assert_int_equal(d.nodes[0].type, BENCODE_DICT);
    assert_int_equal(d.nodes[0].count, 4);
    assert_int_equal(d.nodes[0].next, d.doc.count);
    assert_true(sv_eq(bencode_dict_str(&d.doc, 0, SV("result")), SV("ok")));
    assert_true(sv_eq(bencode_dict_str(&d.doc, 0, SV("sdp")), SV("v=0\r\nm=xx")));
    assert_null(bencode_dict_str(&d.doc, 0, SV("missing")).ptr);
    uint32_t list = bencode_dict_get(&d.doc, 0, SV("warnings"));
    assert_int_equal(d.nodes[list].type, BENCODE_LIST);
    assert_int_equal(d.nodes[list].count, 2);
    uint32_t first = bencode_first(&d.doc, list);
    assert_true(sv_eq(d.nodes[first].str, SV("one")));
    assert_true(sv_eq(d.nodes[d.nodes[first].next].str, SV("two")));
    assert_int_equal(d.nodes[d.nodes[first].next].next, d.nodes[list].next);
    /* A nested dict is searched on its own, not through its parent. */
    uint32_t inner = bencode_dict_get(&d.doc, 0, SV("x"));
    assert_int_equal(d.nodes[bencode_dict_get(&d.doc, inner, SV("a"))].integer, 1);
    assert_int_equal(bencode_dict_get(&d.doc, 0, SV("a")), BENCODE_NONE);
    /* A list value is not a string; a look-up in a non-dict finds nothing. */
    assert_null(bencode_dict_str(&d.doc, 0, SV("warnings")).ptr);
    assert_int_equal(bencode_dict_get(&d.doc, list, SV("one")), BENCODE_NONE);
}

static void test_unsorted_keys_and_empty_containers(void **state)
{
    (void)state;
    struct decoded d;
    assert_int_equal(decode(&d, "d1:zle1:ade1:b0:e"), 0);
    assert_int_equal(d.nodes[0].count, 3);
    uint32_t z = bencode_dict_get(&d.doc, 0, SV("z"));
    assert_int_equal(bencode_first(&d.doc, z), BENCODE_NONE);
    assert_int_equal(d.nodes[bencode_dict_get(&d.doc, 0, SV("a"))].type, BENCODE_DICT);
    assert_int_equal(bencode_dict_str(&d.doc, 0, SV("b")).len, 0);
    assert_int_equal(decode(&d, "de"), 0);
    assert_int_equal(bencode_first(&d.doc, 0), BENCODE_NONE);
}

struct bad_case {
    const char *text;
    size_t pos;
};

static void test_rejects_malformed_input(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "", 0 },
        { "x", 0 },
        { "i12", 3 },
        { "ie", 1 },
        { "i-e", 2 },
        { "i03e", 1 },
        { "i-0e", 2 },
        { "i1x2e", 2 },
        { "5:abc", 1 },
        { "03:abc", 2 },
        { "4spam", 1 },
        { "d", 1 },
        { "l4:spam", 7 },
        { "di1e1:ae", 1 },
        { "d1:ae", 4 },
        { "4:spamx", 6 },
        { "e", 0 },
        { "i1ei2e", 3 },
        { "d1:a", 4 },
        { "i99999999999999999999e", 20 },
        { "i9223372036854775808e", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct decoded d;
        int rc = decode(&d, cases[i].text);
        if (rc != -SW_EBADMSG || d.bad_pos != cases[i].pos) {
            fail_msg("case %zu \"%s\": rc %d pos %zu (want %zu)", i, cases[i].text, rc, d.bad_pos,
                     cases[i].pos);
        }
    }
}

static void test_bounds_depth_and_nodes(void **state)
{
    (void)state;
    struct decoded d;
    char deep[2 * BENCODE_MAX_DEPTH + 3];
    memset(deep, 'l', BENCODE_MAX_DEPTH);
    memset(deep + BENCODE_MAX_DEPTH, 'e', BENCODE_MAX_DEPTH);
    deep[2 * BENCODE_MAX_DEPTH] = '\0';
    assert_int_equal(decode(&d, deep), 0);
    memset(deep, 'l', BENCODE_MAX_DEPTH + 1);
    memset(deep + BENCODE_MAX_DEPTH + 1, 'e', BENCODE_MAX_DEPTH + 1);
    deep[2 * BENCODE_MAX_DEPTH + 2] = '\0';
    assert_int_equal(decode(&d, deep), -SW_EFULL);

    char many[3 * NODES + 3] = "l";
    for (size_t i = 0; i < NODES; i++) {
        strcat(many, "i1e");
    }
    strcat(many, "e");
    assert_int_equal(decode(&d, many), -SW_EFULL); /* the list and its NODES items */
}

static void test_encodes_what_it_decodes(void **state)
{
    (void)state;
    char storage[256];
    struct sw_buf buf;
    sw_buf_init(&buf, storage, sizeof(storage));
    bencode_put_dict(&buf);
    bencode_put_pair(&buf, "command", SV("offer"));
    bencode_put_pair(&buf, "absent", SV_NULL);
    bencode_put_str(&buf, SV("flags"));
    bencode_put_list(&buf);
    bencode_put_str(&buf, SV("trust-address"));
    bencode_put_int(&buf, -12);
    bencode_put_int(&buf, 0);
    bencode_put_end(&buf);
    bencode_put_end(&buf);
    assert_false(buf.is_overflow);
    const char *want = "d7:command5:offer5:flagsl13:trust-addressi-12ei0eee";
    assert_int_equal(buf.len, strlen(want));
    assert_memory_equal(buf.ptr, want, buf.len);
    struct decoded d;
    char copy[256];
    memcpy(copy, buf.ptr, buf.len);
    copy[buf.len] = '\0';
    assert_int_equal(decode(&d, copy), 0);
    assert_true(sv_eq(bencode_dict_str(&d.doc, 0, SV("command")), SV("offer")));
    assert_true(bencode_str_size(5) >= strlen("5:abcde"));

    sw_buf_init(&buf, storage, 4);
    bencode_put_str(&buf, SV("spam"));
    assert_true(buf.is_overflow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decodes_scalars),
        cmocka_unit_test(test_decodes_an_ng_answer),
        cmocka_unit_test(test_unsorted_keys_and_empty_containers),
        cmocka_unit_test(test_rejects_malformed_input),
        cmocka_unit_test(test_bounds_depth_and_nodes),
        cmocka_unit_test(test_encodes_what_it_decodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
