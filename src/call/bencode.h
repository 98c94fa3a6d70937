/*
 * Bencode, the encoding of rtpengine's ng control protocol: byte strings ("4:spam"),
 * integers ("i42e"), lists ("l...e") and dictionaries ("d<key><value>...e").
 *
 * The decoder is zero-copy and bounded: it fills a caller-supplied array of nodes whose
 * string views point into the input, without recursion and with at most
 * BENCODE_MAX_DEPTH nested containers. Dictionary keys are accepted in any order (rtpengine
 * does not sort them); a duplicate key is found first-wins by bencode_dict_get().
 * The encoder appends to a struct sw_buf (base/buf.h) and records overflow there.
 * Pure and thread-safe: the caller owns every buffer.
 */
#ifndef SW_CALL_BENCODE_H
#define SW_CALL_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/sv.h"

/* Deepest nesting of lists and dictionaries the decoder accepts. */
#define BENCODE_MAX_DEPTH 16
/* Index meaning "no such node". */
#define BENCODE_NONE      UINT32_MAX

enum bencode_type {
    BENCODE_STRING,
    BENCODE_INTEGER,
    BENCODE_LIST,
    BENCODE_DICT,
};

/* One value. Containers are followed by their elements (a dict: key, value, key, ...). */
struct bencode_node {
    enum bencode_type type;
    uint32_t next;  /* index of the node after this value and all it contains */
    uint32_t count; /* LIST: elements; DICT: key-value pairs; else 0 */
    struct sv str;  /* STRING: the bytes (view into the input) */
    int64_t integer;
};

/* A decoded document: nodes[0] is the top-level value. */
struct bencode_doc {
    struct bencode_node *nodes;
    uint32_t count;
    uint32_t cap;
};

/*
 * Decodes `in`, which must hold exactly one value, into doc->nodes (capacity doc->cap,
 * set by the caller with the storage). Returns 0, -SW_EBADMSG for malformed input
 * (`*bad_pos`, when not NULL, gets the offset of the offending byte), or -SW_EFULL when
 * the input has more than doc->cap values or nests deeper than BENCODE_MAX_DEPTH.
 */
int bencode_decode(struct sv in, struct bencode_doc *doc, size_t *bad_pos);

/* The value of `key` in the dictionary at `dict`, or BENCODE_NONE (also when not a dict). */
uint32_t bencode_dict_get(const struct bencode_doc *doc, uint32_t dict, struct sv key);

/* The string value of `key` in `dict`, or the absent view when missing or not a string. */
struct sv bencode_dict_str(const struct bencode_doc *doc, uint32_t dict, struct sv key);

/* The first element of the list or dict at `index` (BENCODE_NONE when empty); then
 * doc->nodes[i].next is the following one until the container's own `next`. */
uint32_t bencode_first(const struct bencode_doc *doc, uint32_t index);

/* Encoding: each call appends one token; containers are closed with bencode_put_end(). */
void bencode_put_str(struct sw_buf *buf, struct sv s);
void bencode_put_int(struct sw_buf *buf, int64_t value);
void bencode_put_dict(struct sw_buf *buf);
void bencode_put_list(struct sw_buf *buf);
void bencode_put_end(struct sw_buf *buf);

/* A dictionary entry with a string value (nothing when `value` is absent). */
void bencode_put_pair(struct sw_buf *buf, const char *key, struct sv value);

/* Most bytes bencode_put_str() appends for `len` bytes of string. */
size_t bencode_str_size(size_t len);

#endif
