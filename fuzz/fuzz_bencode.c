/*
 * fuzz_bencode: ng answers as rtpengine sends them. Decoding stays within its node
 * capacity and nesting cap, every view lies inside the input, containers' `next` indices
 * move forward and stay in the document, and a decoded document re-encodes to the same
 * bytes (the encoder writes exactly what the decoder read).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "call/bencode.h"

#define NODES 256

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_node(const struct bencode_doc *doc, uint32_t i, struct sv in)
{
    const struct bencode_node *n = &doc->nodes[i];
    if (n->next <= i || n->next > doc->count) {
        abort();
    }
    if (n->type == BENCODE_STRING && (n->str.ptr < in.ptr || n->str.len > in.len ||
                                      (size_t)(n->str.ptr - in.ptr) > in.len - n->str.len)) {
        abort();
    }
}

/* Re-encodes the value at `i` (iteratively: a stack of open containers) into `out`. */
static void encode(const struct bencode_doc *doc, struct sw_buf *out)
{
    uint32_t ends[BENCODE_MAX_DEPTH + 1];
    size_t depth = 0;
    for (uint32_t i = 0; i < doc->count; i++) {
        while (depth > 0 && ends[depth - 1] == i) {
            bencode_put_end(out);
            depth--;
        }
        const struct bencode_node *n = &doc->nodes[i];
        if (n->type == BENCODE_STRING) {
            bencode_put_str(out, n->str);
        } else if (n->type == BENCODE_INTEGER) {
            bencode_put_int(out, n->integer);
        } else {
            if (n->type == BENCODE_DICT) {
                bencode_put_dict(out);
            } else {
                bencode_put_list(out);
            }
            if (depth > BENCODE_MAX_DEPTH) {
                abort();
            }
            ends[depth++] = n->next;
        }
    }
    while (depth > 0) {
        bencode_put_end(out);
        depth--;
    }
}

/* NOLINTNEXTLINE(readability-identifier-naming) */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65535) {
        return 0;
    }
    struct sv in = sv_make((const char *)data, size);
    struct bencode_node *nodes = malloc(NODES * sizeof(*nodes));
    char *again = malloc(size + 1);
    if (nodes == NULL || again == NULL) {
        free(nodes);
        free(again);
        return 0;
    }
    struct bencode_doc doc = { .nodes = nodes, .cap = NODES };
    size_t bad = 0;
    if (bencode_decode(in, &doc, &bad) == 0) {
        for (uint32_t i = 0; i < doc.count; i++) {
            check_node(&doc, i, in);
        }
        (void)bencode_dict_str(&doc, 0, SV("result"));
        struct sw_buf out;
        sw_buf_init(&out, again, size + 1);
        encode(&doc, &out);
        if (out.is_overflow || out.len != size || memcmp(again, data, size) != 0) {
            abort();
        }
    } else if (bad > size) {
        abort();
    }
    free(nodes);
    free(again);
    return 0;
}
